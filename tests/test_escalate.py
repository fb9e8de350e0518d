"""escalate() equals a naive reference: steps at two dates, compared pupil by pupil in Python."""

from __future__ import annotations

from datetime import date, timedelta
from fractions import Fraction

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fravaer import schema as s
from fravaer.classify import classify
from fravaer.escalate import (
    ACTIONS,
    CHANGE,
    ESCALATE_COLUMNS,
    PREVIOUS_QUARTER_FLAG,
    PREVIOUS_STEP,
    REFERENCE_SCHEMA,
    RESPONSIBLE,
    escalate,
    steps_at,
)
from fravaer.ingest.policy import load_policy
from fravaer.window import quarter_start
from tests import reference
from tests.profiles import examples
from tests.reference import Row, to_frame
from tests.test_classify import POOL, START, attendance, make_policy

NATIONAL = load_policy("national-unlawful")
AALBORG = load_policy("aalborg-2023")
LEVEL = {None: 0, "none": 0, "warn_parents": 1, "notify_municipality": 2}


def naive_escalations(
    rows: list[Row], ref_policy: reference.RefPolicy, since: date, as_of: date
) -> dict[str, dict[str, object]]:
    """Steps at both dates by the naive classifier, compared in plain Python."""
    now = reference.classify(rows, ref_policy, as_of, include_left=False)
    then = reference.classify(rows, ref_policy, since, include_left=True)
    same_quarter = quarter_start(since) == quarter_start(as_of)
    out: dict[str, dict[str, object]] = {}
    for pupil, current in now.items():
        before = then.get(pupil)
        previous_step = before["step"] if before else None
        if before is None:
            previous_flag = None
        else:
            previous_flag = before["quarter_flag"] if same_quarter else "none"
        step = current["step"]
        assert step is None or isinstance(step, int)
        assert previous_step is None or isinstance(previous_step, int)
        up = step is not None and step > (previous_step or 0)
        flag_up = LEVEL[current["quarter_flag"]] > LEVEL[previous_flag]  # type: ignore[index]
        down = step is not None and previous_step is not None and step < previous_step
        if up or flag_up:
            change = "escalation"
        elif down:
            change = "improvement"
        else:
            continue
        out[pupil] = {
            PREVIOUS_STEP: previous_step,
            s.STEP: step,
            s.QUARTER_FLAG: current["quarter_flag"],
            PREVIOUS_QUARTER_FLAG: previous_flag,
            CHANGE: change,
            s.ABSENCE_PCT: current["absence_pct"],
            s.SCHOOL_ID: current["school_id"],
        }
    return out


def fast_escalations(
    rows: list[Row], policy_window: int, min_days: int, since: date, as_of: date
) -> pl.DataFrame:
    policy = make_policy(policy_window, (10, 15, 20), min_days)
    frame = to_frame(rows)
    current = classify(frame, policy=policy, national=NATIONAL, as_of=as_of)
    then = steps_at(frame, policy=policy, national=NATIONAL, as_of=since)
    return escalate(
        current, then, policy=policy, national=NATIONAL, as_of=as_of, reference_as_of=since
    ).collect()


@settings(max_examples=examples(80), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    data=attendance(),
    back=st.integers(1, 120),
    window=st.sampled_from([3, 7, 20, 100]),
    min_days=st.sampled_from([1, 5, 10]),
)
def test_escalate_equals_the_naive_reference(
    data: tuple[list[Row], date], back: int, window: int, min_days: int
) -> None:
    # The generated pupils start and end on random days: some join after `since`, some have
    # left before `as_of`, some change school in between.
    rows, as_of = data
    since = as_of - timedelta(days=back)
    ref_policy = reference.aalborg_like(
        window, (Fraction(10), Fraction(15), Fraction(20)), min_days
    )

    got = fast_escalations(rows, window, min_days, since, as_of)
    expected = naive_escalations(rows, ref_policy, since, as_of)

    assert got.columns == list(ESCALATE_COLUMNS)
    assert sorted(got[s.PUPIL_ID].to_list()) == sorted(expected)
    for row in got.iter_rows(named=True):
        want = expected[row[s.PUPIL_ID]]
        for column, value in want.items():
            assert row[column] == value, (row[s.PUPIL_ID], column)
        assert row[s.AS_OF] == as_of
        assert row["reference_as_of"] == since
    # Escalations first, then improvements, each by school and pupil.
    order = got.select((pl.col(CHANGE) != "escalation"), s.SCHOOL_ID, s.PUPIL_ID).rows()
    assert order == sorted(order)


def _rows(pupil: str, days: list[date], absent: set[int], category: str = "illness") -> list[Row]:
    return [
        Row(pupil, "851001", d, category if i in absent else "present", Fraction(i in absent))
        for i, d in enumerate(days)
    ]


DAYS = [d for d in POOL if d.weekday() < 5]  # from Monday 1 January 2024


def test_a_pupil_who_joined_after_the_reference_compares_with_step_0() -> None:
    days = DAYS[:40]
    rows = _rows("01", days, set(range(0, 40, 4)))  # 25 % absent: step 3
    rows += _rows("02", days[20:], {0, 1, 2, 3, 4})  # joined on day 20, 5 of 20 absent
    got = fast_escalations(rows, 100, 10, since=days[15], as_of=days[-1])

    by_pupil = {r[s.PUPIL_ID]: r for r in got.iter_rows(named=True)}
    assert by_pupil["02"][PREVIOUS_STEP] is None
    assert by_pupil["02"][PREVIOUS_QUARTER_FLAG] is None
    assert by_pupil["02"][CHANGE] == "escalation"


def test_a_pupil_who_left_is_neither_escalated_nor_improved() -> None:
    days = DAYS[:40]
    rows = _rows("01", days, set())
    rows += _rows("02", days[:20], set(range(0, 20, 2)))  # 50 %, left on day 20
    got = fast_escalations(rows, 100, 10, since=days[19], as_of=days[-1])

    assert "02" not in got[s.PUPIL_ID].to_list()


def test_the_quarter_flag_counts_afresh_in_a_new_quarter() -> None:
    # Unlawful absence of 20 % in March and again in April: notify in both quarters.
    march = [d for d in DAYS if d.month == 3]
    april = [d for d in DAYS if d.month == 4]
    rows = _rows("01", march, set(range(0, len(march), 5)), "unlawful")
    rows += _rows("01", april, set(range(0, len(april), 5)), "unlawful")
    frame = to_frame(rows)
    policy = make_policy(100, (90,), 1)  # keep the municipal step out of it
    current = classify(frame, policy=policy, national=NATIONAL, as_of=april[-1])

    def run(since: date) -> dict[str, object]:
        then = steps_at(frame, policy=policy, national=NATIONAL, as_of=since)
        out = escalate(
            current, then, policy=policy, national=NATIONAL, as_of=april[-1], reference_as_of=since
        ).collect()
        return out.row(0, named=True) if out.height else {}

    earlier_quarter = run(march[-1])
    assert earlier_quarter[s.QUARTER_FLAG] == "notify_municipality"
    assert earlier_quarter[PREVIOUS_QUARTER_FLAG] == "none"
    assert earlier_quarter[CHANGE] == "escalation"
    assert earlier_quarter[RESPONSIBLE] == "Skolelederen"
    assert "underretter kommunen" in str(earlier_quarter[ACTIONS])
    assert "advares" in str(earlier_quarter[ACTIONS])  # both national steps newly reached
    assert run(april[-2]) == {}  # already notified this quarter: not again


def test_actions_list_every_step_newly_reached_and_improvements_the_current_one() -> None:
    given = (s.PUPIL_ID, s.SCHOOL_ID, s.STEP, s.QUARTER_FLAG)
    others = [c for c in s.CLASSIFY_COLUMNS if c not in given]
    now = pl.LazyFrame(
        {
            s.PUPIL_ID: ["a", "b", "c"],
            s.SCHOOL_ID: ["1", "1", "1"],
            s.STEP: [3, 1, None],
            s.QUARTER_FLAG: ["none"] * 3,
        },
        schema_overrides={s.STEP: pl.Int8},
    ).with_columns(pl.lit(None).alias(c) for c in others)
    then = pl.LazyFrame(
        {s.PUPIL_ID: ["a", "b", "c"], s.STEP: [0, 2, 3], s.QUARTER_FLAG: ["none"] * 3},
        schema=REFERENCE_SCHEMA,
    )
    got = escalate(
        now,
        then,
        policy=AALBORG,
        national=NATIONAL,
        as_of=date(2024, 3, 8),
        reference_as_of=date(2024, 3, 1),
        lang="en",
    ).collect()

    rows = {r[s.PUPIL_ID]: r for r in got.iter_rows(named=True)}
    assert set(rows) == {"a", "b"}  # c has too few school days now: not an improvement
    assert rows["a"][CHANGE] == "escalation"
    assert rows["a"][RESPONSIBLE] == "Class team | Coordinator (tovholder)"
    expected = [a for step in AALBORG.steps for a in step.actions("en")]
    assert str(rows["a"][ACTIONS]).split(" | ") == expected
    assert rows["b"][CHANGE] == "improvement"
    assert str(rows["b"][ACTIONS]).split(" | ") == list(AALBORG.step(1).actions("en"))


@pytest.mark.parametrize("reference_as_of", [None, date(2024, 3, 1)])
def test_without_a_reference_every_pupil_compares_with_step_0(
    reference_as_of: date | None,
) -> None:
    days = DAYS[:40]
    rows = _rows("01", days, set(range(0, 40, 4))) + _rows("02", days, set())
    frame = to_frame(rows)
    current = classify(frame, policy=AALBORG, national=NATIONAL, as_of=days[-1])
    empty = pl.LazyFrame(schema=REFERENCE_SCHEMA)
    got = escalate(
        current,
        empty,
        policy=AALBORG,
        national=NATIONAL,
        as_of=days[-1],
        reference_as_of=reference_as_of,
    ).collect()

    assert got.select(s.PUPIL_ID, PREVIOUS_STEP, s.STEP, CHANGE).rows() == [
        ("01", None, 3, "escalation")
    ]
    assert START.weekday() == 0
