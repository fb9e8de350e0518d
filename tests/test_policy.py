"""Policies as data: the bundled Aalborg guideline, strict validation, and evaluation (SPEC §4).

The evaluation test uses an Aalborg-2022-like policy with a ``days`` measure and nested
``all`` / ``any`` conditions on a small hand-built frame whose steps are worked out by hand,
thresholds hit exactly included.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from importlib import resources
from pathlib import Path

import polars as pl
import pytest

from fravaer import schema as s
from fravaer.classify import classify
from fravaer.errors import InputMissingError, PolicyError
from fravaer.ingest.policy import bundled_policies, load_policy
from fravaer.policy import (
    DEFAULT_POLICY,
    AllOf,
    AnyOf,
    Threshold,
    parse_policy,
    thresholds,
)

AALBORG = (resources.files("fravaer") / "policies" / "aalborg-2023.toml").read_text("utf-8")

NESTED = """
name = "nested-2022"
version = "1"
effective_from = 2022-01-01
source = "tests"
min_school_days = 10
primary_measure = "pct_40"
title = { da = "Indlejret", en = "Nested" }

[measures.pct_40]
kind = "percent"
window = { school_days = 40 }
categories = ["illness", "leave", "unlawful"]

[measures.days_20]
kind = "days"
window = { school_days = 20 }
categories = ["illness", "leave", "unlawful"]

[measures.unlawful_10]
kind = "days"
window = { school_days = 10 }
categories = ["unlawful"]

[[steps]]
step = 1
when = { all = [
  { measure = "days_20", at_least = 4 },
  { any = [ { measure = "pct_40", at_least = 20 }, { measure = "unlawful_10", at_least = 2 } ] },
] }
responsible = { da = "Klasseteamet", en = "Class team" }
actions = { da = ["Afdæk årsagerne."], en = ["Map the causes."] }

[[steps]]
step = 2
when = { any = [
  { measure = "pct_40", at_least = 30 },
  { measure = "unlawful_10", at_least = 2.5 },
] }
responsible = { da = "Tovholder", en = "Coordinator" }
actions = { da = ["Udarbejd en handleplan."], en = ["Write an action plan."] }
"""


def refused(text: str) -> str:
    with pytest.raises(PolicyError) as caught:
        parse_policy(text, source="my-policy.toml")
    assert caught.value.exit_code == 78
    message = caught.value.message
    assert message.startswith("my-policy.toml: ")
    assert "\n" not in message
    return message


# -- the bundled default -----------------------------------------------------------------------


def test_aalborg_2023_is_bundled_and_the_default() -> None:
    assert "aalborg-2023" in bundled_policies()
    assert DEFAULT_POLICY == "aalborg-2023"


def test_aalborg_2023_matches_the_guideline() -> None:
    policy = load_policy("aalborg-2023")

    assert policy.name == "aalborg-2023"
    assert policy.effective_from == date(2023, 8, 1)
    assert policy.min_school_days == 10
    assert policy.primary.kind == "percent"
    assert policy.primary.window.school_days == 100
    assert set(policy.primary.categories) == {"illness", "leave", "unlawful"}
    assert [step.step for step in policy.steps] == [1, 2, 3]
    assert [step.when for step in policy.steps] == [
        Threshold(measure=policy.primary_measure, at_least=Decimal(t)) for t in (10, 15, 20)
    ]


def test_aalborg_2023_steps_say_who_and_what_in_danish_and_english() -> None:
    policy = load_policy("aalborg-2023")

    assert [step.responsible("da") for step in policy.steps] == [
        "Klasseteamet",
        "Tovholder",
        "Tovholder",
    ]
    assert policy.step(1).responsible("en") == "Class team"
    assert "tovholder" in policy.step(2).responsible("en")
    for step in policy.steps:
        assert len(step.actions("da")) == len(step.actions("en")) >= 1
    assert any("handleplan" in action for action in policy.step(2).actions("da"))
    assert any("Underretning" in action for action in policy.step(3).actions("da"))
    assert any("PPR" in action for action in policy.step(3).actions("en"))


def test_aalborg_2023_thresholds_are_inclusive_on_the_boundary() -> None:
    """10.0 % is step 1, 15 % step 2, 20 % step 3; one hundredth of a day less is not."""
    policy = load_policy("aalborg-2023")
    days = [date(2024, 1, 1) + timedelta(days=i) for i in range(100)]
    pupils = {"a10": 10.0, "b9": 9.99, "c15": 15.0, "d14": 14.99, "e20": 20.0, "f19": 19.99}
    rows = []
    for pupil, absent in pupils.items():
        whole, part = int(absent), round(absent - int(absent), 3)
        fractions = [1.0] * whole + ([part] if part else [])
        fractions += [0.0] * (100 - len(fractions))
        rows += [(pupil, day, f) for day, f in zip(days, fractions, strict=True)]
    frame = pl.LazyFrame(
        {
            s.PUPIL_ID: [r[0] for r in rows],
            s.SCHOOL_ID: ["1"] * len(rows),
            s.DATE: [r[1] for r in rows],
            s.CATEGORY: ["illness" if r[2] else "present" for r in rows],
            s.ABSENT_FRACTION: [r[2] for r in rows],
            s.GRADE: [5] * len(rows),
            s.CLASS_NAME: ["5.A"] * len(rows),
        },
        schema=s.CANONICAL_SCHEMA,
    )

    out = classify(frame, policy=policy, as_of=days[-1]).collect()

    assert dict(zip(out[s.PUPIL_ID], out[s.STEP], strict=True)) == {
        "a10": 1,
        "b9": 0,
        "c15": 2,
        "d14": 1,
        "e20": 3,
        "f19": 2,
    }


# -- loading -----------------------------------------------------------------------------------


def test_unknown_policy_name_lists_the_bundled_ones() -> None:
    with pytest.raises(PolicyError) as caught:
        load_policy("nope")

    assert caught.value.exit_code == 78
    assert "'nope'" in caught.value.message
    assert caught.value.hint is not None
    assert "aalborg-2023" in caught.value.hint


def test_missing_policy_file_is_input_missing() -> None:
    with pytest.raises(InputMissingError) as caught:
        load_policy("/nonexistent/x.toml")

    assert caught.value.exit_code == 66
    assert "/nonexistent/x.toml" in caught.value.message


def test_custom_policy_file_loads(tmp_path: Path) -> None:
    path = tmp_path / "nested.toml"
    path.write_text(NESTED, encoding="utf-8")

    policy = load_policy(str(path))

    assert policy.name == "nested-2022"
    assert set(policy.measures) == {"pct_40", "days_20", "unlawful_10"}


def test_invalid_custom_policy_file_names_the_path(tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text("colour = 'blue'\n" + AALBORG, encoding="utf-8")

    with pytest.raises(PolicyError) as caught:
        load_policy(str(path))

    assert caught.value.message.startswith(f"{path}: field 'colour'")


# -- strict validation -------------------------------------------------------------------------

STEP_2_WHEN = 'when = { measure = "absence_100", at_least = 15 }'
STEP_3 = 'step = 3\nwhen = { measure = "absence_100", at_least = 20 }'
CATEGORIES = 'categories = ["illness", "leave", "unlawful"]'

# id -> (edited document, texts the message must contain)
REFUSALS: dict[str, tuple[str, tuple[str, ...]]] = {
    "unknown-top-level-key": ("colour = 'blue'\n" + AALBORG, ("field 'colour'",)),
    "unknown-key-in-a-measure": (
        AALBORG.replace('kind = "percent"', 'kind = "percent"\nwindow_size = 200'),
        ("field 'measures.absence_100.window_size'",),
    ),
    "steps-numbered-1-3": (
        AALBORG.replace("step = 2\n", "step = 3\n").replace(STEP_3, STEP_3.replace("3", "4", 1)),
        ("steps must be numbered 1, 2, 3",),
    ),
    "step-uses-unknown-measure": (
        AALBORG.replace(STEP_2_WHEN, STEP_2_WHEN.replace("absence_100", "absence_200")),
        ("step 2", "unknown measure 'absence_200'"),
    ),
    "primary-measure-not-among-measures": (
        AALBORG.replace('primary_measure = "absence_100"', 'primary_measure = "absence_200"'),
        ("primary_measure 'absence_200'",),
    ),
    "negative-threshold": (
        AALBORG.replace("at_least = 10 }", "at_least = -10 }"),
        ("steps.0.when", "at_least", "greater than or equal to 0"),
    ),
    "empty-categories": (
        AALBORG.replace(CATEGORIES, "categories = []"),
        ("field 'measures.absence_100.categories'",),
    ),
    "repeated-category": (
        AALBORG.replace(CATEGORIES, 'categories = ["illness", "leave", "illness"]'),
        ("field 'measures.absence_100'", "categories must not repeat"),
    ),
    "present-is-not-absence": (
        AALBORG.replace(CATEGORIES, 'categories = ["illness", "present"]'),
        ("field 'measures.absence_100.categories.1'",),
    ),
    "zero-day-window": (
        AALBORG.replace("school_days = 100", "school_days = 0"),
        ("field 'measures.absence_100.window.school_days'",),
    ),
    "missing-english-text": (
        AALBORG.replace('en = "Class team"\n', ""),
        ("field 'steps.0.responsible.en'",),
    ),
    "invalid-toml": (
        AALBORG.replace('version = "2023.1"', 'version = "2023.1'),
        ("not valid TOML", "line 5"),
    ),
}


@pytest.mark.parametrize("case", list(REFUSALS))
def test_parse_policy_refuses_with_the_field_named(case: str) -> None:
    text, named = REFUSALS[case]

    message = refused(text)

    for part in named:
        assert part in message


def test_the_unedited_bundled_text_parses() -> None:
    assert parse_policy(AALBORG, source="copy.toml") == load_policy("aalborg-2023")


# -- nested conditions -------------------------------------------------------------------------


def test_nested_all_any_conditions_parse_into_a_tree() -> None:
    policy = parse_policy(NESTED, source="nested.toml")

    step1 = policy.step(1).when
    assert isinstance(step1, AllOf)
    assert step1.all[0] == Threshold(measure="days_20", at_least=Decimal(4))
    assert isinstance(step1.all[1], AnyOf)
    assert isinstance(policy.step(2).when, AnyOf)
    assert policy.measures["days_20"].kind == "days"


def test_thresholds_flattens_depth_first() -> None:
    policy = parse_policy(NESTED, source="nested.toml")

    assert [(t.measure, t.at_least) for t in thresholds(policy.step(1).when)] == [
        ("days_20", Decimal(4)),
        ("pct_40", Decimal(20)),
        ("unlawful_10", Decimal(2)),
    ]
    assert [(t.measure, t.at_least) for t in thresholds(policy.step(2).when)] == [
        ("pct_40", Decimal(30)),
        ("unlawful_10", Decimal("2.5")),
    ]


def test_a_nested_condition_with_an_unknown_measure_is_refused() -> None:
    text = NESTED.replace(
        '{ measure = "unlawful_10", at_least = 2 }', '{ measure = "x", at_least = 2 }'
    )

    assert "step 1 uses unknown measure 'x'" in refused(text)


# -- evaluation of days measures and all/any ---------------------------------------------------

DAYS = [date(2024, 1, 1) + timedelta(days=i) for i in range(40)]  # index 39 is the as-of date

# pupil -> (indexes of DAYS the pupil has, {index: [(category, fraction), ...]}); other days present
Absence = dict[int, list[tuple[str, float]]]


def _ill(indexes: range | list[int], fraction: float = 1.0, category: str = "illness") -> Absence:
    return {i: [(category, fraction)] for i in indexes}


PUPILS: dict[str, tuple[range, Absence]] = {
    # days_20 = 4 exactly and pct_40 = 8/40 = 20 % exactly -> step 1
    "a-both-exact": (range(40), {**_ill(range(36, 40)), **_ill(range(4))}),
    # pct_40 = 20 % but only 3 days in the latest 20 -> all() fails -> 0
    "b-days-short": (range(40), {**_ill(range(37, 40)), **_ill(range(5))}),
    # days_20 = 4 but pct_40 = 7.999/40 = 19.9975 % and no unlawful -> 0
    "c-pct-short": (range(40), {**_ill(range(36, 40)), **_ill(range(3)), 3: [("illness", 0.999)]}),
    # days_20 = 4, pct 10 %, unlawful_10 = 2 exactly -> any() holds -> step 1
    "d-unlawful-exact": (
        range(40),
        {**_ill([22, 24]), **_ill([34, 38], category="unlawful")},
    ),
    # unlawful_10 = 5 half days = 2.5 exactly -> step 2 although step 1's all() fails
    "e-half-days": (range(40), _ill(range(35, 40), 0.5, "unlawful")),
    # unlawful_10 = 2.499 -> 0
    "f-just-below-half": (
        range(40),
        {**_ill(range(36, 40), 0.5, "unlawful"), 35: [("unlawful", 0.499)]},
    ),
    # 12 of 40 days = 30 % exactly, all older than the latest 20 -> step 2 only
    "g-pct-30-old": (range(40), _ill(range(12))),
    # a day split into illness 0.5 + leave 0.5 counts as one day: 4 + 4 of 40 -> step 1
    "h-split-days": (
        range(40),
        {
            **{i: [("illness", 0.5), ("leave", 0.5)] for i in range(36, 40)},
            **_ill(range(4), category="leave"),
        },
    ),
    # exactly min_school_days (10): 4 of 10 = 40 % -> step 1 (4 days, 40 %) and step 2 (>= 30 %)
    "i-ten-days": (range(30, 40), _ill(range(36, 40))),
    # 9 school days: below min_school_days -> insufficient_data, no step
    "j-nine-days": (range(31, 40), _ill(range(31, 40))),
}
EXPECTED: dict[str, tuple[int | None, str, float]] = {
    "a-both-exact": (1, s.STATUS_OK, 20.0),
    "b-days-short": (0, s.STATUS_OK, 20.0),
    "c-pct-short": (0, s.STATUS_OK, 19.9975),
    "d-unlawful-exact": (1, s.STATUS_OK, 10.0),
    "e-half-days": (2, s.STATUS_OK, 6.25),
    "f-just-below-half": (0, s.STATUS_OK, 6.2475),
    "g-pct-30-old": (2, s.STATUS_OK, 30.0),
    "h-split-days": (1, s.STATUS_OK, 20.0),
    "i-ten-days": (2, s.STATUS_OK, 40.0),
    "j-nine-days": (None, s.STATUS_INSUFFICIENT, 100.0),
}


def _frame() -> pl.LazyFrame:
    rows: list[tuple[str, date, str, float]] = []
    for pupil, (indexes, absence) in PUPILS.items():
        for i in indexes:
            for category, fraction in absence.get(i, [("present", 0.0)]):
                rows.append((pupil, DAYS[i], category, fraction))
    return pl.LazyFrame(
        {
            s.PUPIL_ID: [r[0] for r in rows],
            s.SCHOOL_ID: ["851001"] * len(rows),
            s.DATE: [r[1] for r in rows],
            s.CATEGORY: [r[2] for r in rows],
            s.ABSENT_FRACTION: [r[3] for r in rows],
            s.GRADE: [5] * len(rows),
            s.CLASS_NAME: ["5.A"] * len(rows),
        },
        schema=s.CANONICAL_SCHEMA,
    )


def test_days_measures_and_all_any_steps_equal_the_hand_computed_ones() -> None:
    policy = parse_policy(NESTED, source="nested.toml")

    out = classify(_frame(), policy=policy, as_of=DAYS[-1]).collect()

    got = {
        row[s.PUPIL_ID]: (row[s.STEP], row[s.STATUS], row[s.ABSENCE_PCT])
        for row in out.iter_rows(named=True)
    }
    assert got.keys() == EXPECTED.keys()
    for pupil, (step, status, pct) in EXPECTED.items():
        assert got[pupil][:2] == (step, status), pupil
        assert got[pupil][2] == pytest.approx(pct, abs=1e-9), pupil
