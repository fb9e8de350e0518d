"""classify() equals the naive reference on generated frames, exact boundaries included."""

from __future__ import annotations

import random
from datetime import date, timedelta
from fractions import Fraction

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from fravaer import schema as s
from fravaer.classify import classify, pupil_partition_expr, school_dates
from fravaer.ingest.policy import bundled_policies, load_policy
from fravaer.policy import Policy
from tests import reference
from tests.profiles import examples
from tests.reference import RefPolicy, Row, to_frame

START = date(2024, 1, 1)  # a Monday; the pool spans three quarters and 1 August
POOL = [START + timedelta(days=i) for i in range(240)]

# Lesson fractions (k of up to 16 lessons) and 1-3 decimal fractions: all exact in day units.
FRACTIONS = [
    Fraction(1),
    Fraction(1, 2),
    Fraction(1, 3),
    Fraction(2, 3),
    Fraction(1, 4),
    Fraction(1, 6),
    Fraction(5, 6),
    Fraction(1, 7),
    Fraction(3, 16),
    Fraction(1, 10),
    Fraction(3, 10),
    Fraction(1, 1000),
    Fraction(999, 1000),
]


def _condition(condition: reference.Cond) -> dict[str, object]:
    if condition[0] == "rule":
        return {"rule": condition[1], "at_least": float(condition[2])}
    return {condition[0]: [_condition(c) for c in condition[1]]}


def _window(window: tuple[str, object]) -> dict[str, object]:
    return {window[0]: window[1]}


def to_policy(ref: RefPolicy) -> Policy:
    """The fast engine's Policy for a reference policy."""
    text = {"da": "x", "en": "x"}
    rules: dict[str, dict[str, object]] = {}
    for name, rule in ref.rules.items():
        rules[name] = {
            "measure": rule.measure,
            "window": _window(rule.window),
            "categories": list(rule.categories),
        }
        if rule.measure == "consecutive_days":
            rules[name]["min_fraction"] = float(rule.min_fraction)
    return Policy.model_validate(
        {
            "name": "test",
            "version": "1",
            "title": text,
            "description": text,
            "source": "tests",
            "effective_from": date(2020, 1, 1),
            "min_school_days": ref.min_days,
            "primary_rule": ref.primary,
            "rules": rules,
            "steps": [
                {
                    "step": i + 1,
                    "when": _condition(condition),
                    "responsible": text,
                    "actions": {"da": ["x"], "en": ["x"]},
                }
                for i, condition in enumerate(ref.steps)
            ],
        }
    )


def make_policy(window: int, thresholds: tuple[int, ...], min_days: int) -> Policy:
    return to_policy(reference.aalborg_like(window, tuple(map(Fraction, thresholds)), min_days))


NATIONAL = load_policy("national-unlawful")


def day_rows(
    rng: random.Random, pupil: str, school: str, day: date, grade: int, *, second_school: str
) -> list[Row]:
    """One school day of one pupil: present, whole or partial absence, or several categories.

    On a moving day the second category's row may come from the other school.
    """

    def make(category: str, fraction: Fraction, at: str = school) -> Row:
        return Row(pupil, at, day, category, fraction, grade, f"{grade}.{at}")

    kind = rng.randrange(10)  # integers, not floats: a float costs hypothesis four times more
    if kind < 6:
        return [make("present", Fraction(0))]
    category = rng.choice(reference.ABSENCE)
    if kind < 8:
        return [make(category, Fraction(1))]
    fraction = rng.choice(FRACTIONS)
    rows = [make(category, fraction)]
    rest = 1 - fraction
    if rest > 0 and rng.randrange(2):
        other = rng.choice([c for c in reference.ABSENCE if c != category])
        second = min((f for f in FRACTIONS if f <= rest), default=Fraction(0), key=lambda f: -f)
        rows.append(make(other, second, second_school))
    elif rest > 0 and rng.randrange(2):
        rows.append(make("present", Fraction(0), second_school))
    return rows


@st.composite
def attendance(draw: st.DrawFn) -> tuple[list[Row], date]:
    rng = draw(st.randoms(use_true_random=False))
    n_pupils = draw(st.integers(1, 6))
    rows: list[Row] = []
    for p in range(n_pupils):
        pupil = rng.choice(["0", "00", "007"]) + str(p)  # ids with leading zeros
        first = rng.randrange(0, 120)
        last = rng.randrange(first, len(POOL))
        # Pupils skip some days (weekends, holidays) and may change school part-way.
        dates = [d for d in POOL[first : last + 1] if rng.randrange(5)]
        schools = rng.sample(["A", "B", "C"], k=2)
        move = rng.randrange(0, len(dates) + 1) if rng.randrange(10) < 3 else len(dates)
        grade = rng.randrange(0, 11)
        for i, day in enumerate(dates):
            school = schools[1] if i >= move else schools[0]
            second = schools[1] if i == move else school  # the moving day has rows at both
            rows += day_rows(rng, pupil, school, day, grade, second_school=second)
    # Row order must not matter. A seeded shuffle costs one draw where ``rng.shuffle`` costs one
    # per row, which made large drawings exceed hypothesis' entropy budget (data_too_large).
    random.Random(draw(st.integers(0, 2**32 - 1))).shuffle(rows)
    as_of = START + timedelta(days=draw(st.integers(-3, len(POOL) + 3)))
    return rows, as_of


def assert_equal_to_reference(
    rows: list[Row],
    as_of: date,
    policy: Policy,
    ref: RefPolicy,
    *,
    include_left: bool,
    given_days: bool = False,
) -> None:
    """``given_days``: the schools' dates given as the run's as-of pass reads them (every row,
    those after ``as_of`` too), not read by ``classify``."""
    frame = to_frame(rows)
    fast = classify(
        frame,
        policy=policy,
        national=NATIONAL,
        as_of=as_of,
        include_left=include_left,
        school_days=school_dates(frame).collect() if given_days else None,
    )
    got = {row.pop(s.PUPIL_ID): row for row in fast.collect().iter_rows(named=True)}
    expected = reference.classify(rows, ref, as_of, include_left=include_left)
    assert got.keys() == expected.keys()
    for pupil, want in expected.items():
        row = got[pupil]
        assert row[s.AS_OF] == as_of
        for column, value in want.items():
            assert row[column] == value, (pupil, column)


@settings(max_examples=examples(100), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    data=attendance(),
    window=st.sampled_from([1, 3, 7, 20, 100]),
    min_days=st.sampled_from([1, 5, 10]),
    include_left=st.booleans(),
    given_days=st.booleans(),
)
def test_classify_equals_reference(
    data: tuple[list[Row], date], window: int, min_days: int, include_left: bool, given_days: bool
) -> None:
    rows, as_of = data
    thresholds = (10, 15, 20)
    policy = make_policy(window, thresholds, min_days)
    ref = reference.aalborg_like(window, tuple(Fraction(t) for t in thresholds), min_days)
    assert_equal_to_reference(
        rows, as_of, policy, ref, include_left=include_left, given_days=given_days
    )


@st.composite
def on_the_boundary(draw: st.DrawFn) -> tuple[list[Row], int, Fraction]:
    """One pupil whose window absence is exactly a threshold, or one smallest step below it."""
    window = draw(st.sampled_from([10, 20, 40, 60, 100]))
    threshold = draw(st.sampled_from([Fraction(10), Fraction(15), Fraction(20)]))
    target = threshold * window / 100  # absent days that make exactly the threshold
    # Absence in equal pieces (whole days, halves, lessons, tenths), at most one piece a day.
    options = [
        Fraction(1),
        Fraction(1, 2),
        Fraction(1, 3),
        Fraction(1, 4),
        Fraction(1, 6),
        Fraction(1, 10),
    ]
    pieces = draw(st.sampled_from([p for p in options if p * window >= target]))
    below = draw(st.sampled_from([Fraction(0), Fraction(1, 16), Fraction(1, 1000)]))
    count = int(target / pieces)
    absences = [pieces] * count
    remainder = target - count * pieces
    if remainder:
        absences.append(remainder)
    if below:
        absences[-1] -= below  # just under the threshold: not the step
    rng = draw(st.randoms(use_true_random=False))
    extra = draw(st.integers(0, 30))  # older days outside the window, all absent
    dates = POOL[: window + extra]
    rows = [Row("0042", "851001", d, "illness", Fraction(1)) for d in dates[:extra]]
    in_window = dates[extra:]
    absent_dates = rng.sample(in_window, k=len(absences))
    for day, fraction in zip(absent_dates, absences, strict=True):
        rows.append(Row("0042", "851001", day, rng.choice(reference.ABSENCE), fraction))
    rows += [
        Row("0042", "851001", d, "present", Fraction(0)) for d in in_window if d not in absent_dates
    ]
    rng.shuffle(rows)
    return rows, window, threshold - (below * 100 / window)


@settings(max_examples=examples(200), deadline=None)
@given(case=on_the_boundary())
def test_thresholds_are_exact(case: tuple[list[Row], int, Fraction]) -> None:
    rows, window, exact_pct = case
    policy = make_policy(window, (10, 15, 20), 1)
    ref = reference.aalborg_like(window, (Fraction(10), Fraction(15), Fraction(20)), 1)
    assert_equal_to_reference(rows, POOL[-1], policy, ref, include_left=True)
    step = classify(to_frame(rows), policy=policy, as_of=POOL[-1]).collect()[s.STEP].item()
    assert step == sum(exact_pct >= t for t in (10, 15, 20))


def test_ten_percent_is_step_one_and_just_below_is_not() -> None:
    """The guideline's own example: 10 absent days of 100 is step 1; 9.99 days is not."""
    policy = load_policy("aalborg-2023")
    days = POOL[:100]
    for absent, step in [(["1"] * 10, 1), (["1"] * 9 + ["0.99"], 0), (["0.1"] * 100, 1)]:
        fractions = [float(Fraction(a)) for a in absent] + [0.0] * (100 - len(absent))
        frame = pl.LazyFrame(
            {
                s.PUPIL_ID: ["01"] * 100,
                s.SCHOOL_ID: ["A"] * 100,
                s.DATE: days,
                s.CATEGORY: ["illness" if f else "present" for f in fractions],
                s.ABSENT_FRACTION: fractions,
                s.GRADE: [1] * 100,
                s.CLASS_NAME: ["1.A"] * 100,
            },
            schema=s.CANONICAL_SCHEMA,
        )
        out = classify(frame, policy=policy, as_of=days[-1]).collect()
        assert out[s.STEP].item() == step, absent[-1]


def test_insufficient_data_is_reported_not_dropped() -> None:
    rows = [Row("5", "A", d, "illness", Fraction(1)) for d in POOL[:9]]
    out = classify(to_frame(rows), policy=load_policy("aalborg-2023"), as_of=POOL[8]).collect()
    assert out.select(s.STEP, s.STATUS, s.ABSENCE_PCT).row(0) == (None, "insufficient_data", 100.0)


def test_left_pupils_are_omitted_unless_asked() -> None:
    staying = [Row("1", "A", d, "present", Fraction(0)) for d in POOL[:30]]
    leaving = [Row("2", "A", d, "present", Fraction(0)) for d in POOL[:24]]
    frame = to_frame(staying + leaving)
    policy = load_policy("aalborg-2023")
    kept = classify(frame, policy=policy, as_of=POOL[29]).collect()[s.PUPIL_ID].to_list()
    assert kept == ["1"]
    everyone = classify(frame, policy=policy, as_of=POOL[29], include_left=True).collect()
    assert everyone[s.PUPIL_ID].to_list() == ["1", "2"]
    # As of a day when pupil 2 was still there, nobody has left.
    assert classify(frame, policy=policy, as_of=POOL[23]).collect().height == 2


def test_window_follows_the_pupil_across_schools() -> None:
    rows = [Row("9", "A", d, "illness", Fraction(1)) for d in POOL[:50]]
    rows += [Row("9", "B", d, "present", Fraction(0)) for d in POOL[50:100]]
    policy = load_policy("aalborg-2023")
    out = classify(to_frame(rows), policy=policy, as_of=POOL[99], schools=["B"]).collect()
    assert out.select(s.SCHOOL_ID, s.WINDOW_DAYS, s.ABSENCE_PCT, s.STEP).row(0) == (
        "B",
        100,
        50.0,
        3,
    )
    assert (
        classify(to_frame(rows), policy=policy, as_of=POOL[99], schools=["A"]).collect().is_empty()
    )


@pytest.mark.parametrize(
    ("unlawful_days", "flag"),
    [(0, "none"), (1, "none"), (2, "warn_parents"), (3, "notify_municipality")],
)
def test_quarter_rule_counts_unlawful_absence_in_the_quarter_to_date(
    unlawful_days: int, flag: str
) -> None:
    # 20 school days in April (quarter 2), preceded by unlawful days in March that do not count.
    march = [Row("3", "A", date(2024, 3, d), "unlawful", Fraction(1)) for d in range(1, 29)]
    april = [date(2024, 4, 1) + timedelta(days=i) for i in range(20)]
    rows = march + [
        Row(
            "3",
            "A",
            d,
            "unlawful" if i < unlawful_days else "present",
            Fraction(int(i < unlawful_days)),
        )
        for i, d in enumerate(april)
    ]
    policy = load_policy("aalborg-2023")
    out = classify(to_frame(rows), policy=policy, national=NATIONAL, as_of=april[-1]).collect()
    assert out[s.QUARTER_FLAG].item() == flag
    assert out[s.QUARTER_UNLAWFUL_PCT].item() == 100 * unlawful_days / 20


# -- arbitrary policies -------------------------------------------------------------------------

THRESHOLDS = {
    "percent": [0, 5, 10, 12.5, 15, 20, 33.333, 50, 100],
    "days": [0, 0.5, 1, 2, 2.5, 3, 5],
    "consecutive_days": [0, 1, 2, 3, 5],
}
WINDOWS = [
    ("school_days", 1),
    ("school_days", 5),
    ("school_days", 20),
    ("weeks", 1),
    ("weeks", 4),
    ("period", "quarter"),
    ("period", "school_year"),
]


@st.composite
def policies(draw: st.DrawFn) -> RefPolicy:
    """1-3 rules of any measure, window and categories; 1-3 steps of nested all/any conditions."""
    rules = {}
    for i in range(draw(st.integers(1, 3))):
        measure = draw(st.sampled_from(list(THRESHOLDS)))
        categories = draw(
            st.lists(st.sampled_from(reference.ABSENCE), min_size=1, max_size=3, unique=True)
        )
        min_fraction = draw(st.sampled_from([Fraction(1), Fraction(1, 2), Fraction(1, 1000)]))
        rules[f"r{i}"] = reference.RefRule(
            measure,
            draw(st.sampled_from(WINDOWS)),
            tuple(categories),
            min_fraction if measure == "consecutive_days" else Fraction(1),
        )

    def threshold() -> reference.Cond:
        name = draw(st.sampled_from(sorted(rules)))
        value = draw(st.sampled_from(THRESHOLDS[rules[name].measure]))
        return ("rule", name, Fraction(str(value)))

    def condition(depth: int) -> reference.Cond:
        if depth == 0 or draw(st.booleans()):
            return threshold()
        kind = draw(st.sampled_from(["all", "any"]))
        return (kind, [condition(depth - 1) for _ in range(draw(st.integers(1, 3)))])

    steps = tuple(condition(2) for _ in range(draw(st.integers(1, 3))))
    primary = draw(st.sampled_from(sorted(rules)))
    return RefPolicy(rules, steps, draw(st.sampled_from([1, 3, 10])), primary)


@settings(max_examples=examples(100), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=attendance(), ref=policies(), include_left=st.booleans(), given_days=st.booleans())
def test_any_policy_equals_reference(
    data: tuple[list[Row], date], ref: RefPolicy, include_left: bool, given_days: bool
) -> None:
    rows, as_of = data
    assert_equal_to_reference(
        rows, as_of, to_policy(ref), ref, include_left=include_left, given_days=given_days
    )


@settings(max_examples=examples(60), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=attendance(), ref=policies(), include_left=st.booleans(), parts=st.integers(1, 4))
def test_pupil_partitions_together_are_the_whole_run(
    data: tuple[list[Row], date], ref: RefPolicy, include_left: bool, parts: int
) -> None:
    rows, as_of = data
    frame, policy = to_frame(rows), to_policy(ref)

    def run(partition: tuple[int, int] | None) -> pl.DataFrame:
        return classify(
            frame, policy=policy, as_of=as_of, include_left=include_left, partition=partition
        ).collect()

    pieces = pl.concat([run((k, parts)) for k in range(1, parts + 1)])
    assert_frame_equal(pieces.sort(s.SCHOOL_ID, s.PUPIL_ID), run(None))


def test_a_partition_outside_one_to_n_is_refused() -> None:
    with pytest.raises(ValueError, match="between 1 and 3"):
        pupil_partition_expr(0, 3)


BUNDLED = bundled_policies()  # every registered policy, one added later too


@settings(max_examples=examples(60), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=attendance(), name=st.sampled_from(BUNDLED), pick=st.randoms(use_true_random=False))
def test_adding_an_absence_never_lowers_a_step(
    data: tuple[list[Row], date], name: str, pick: random.Random
) -> None:
    rows, as_of = data
    by_day: dict[tuple[str, date], list[Row]] = {}
    for row in rows:
        by_day.setdefault((row.pupil_id, row.date), []).append(row)
    present = [day[0] for day in by_day.values() if len(day) == 1 and day[0].category == "present"]
    if not present:
        return
    chosen = pick.sample(present, k=min(len(present), pick.randint(1, 10)))
    worse = [r for r in rows if r not in chosen] + [
        Row(
            r.pupil_id,
            r.school_id,
            r.date,
            pick.choice(reference.ABSENCE),
            Fraction(1),
            r.grade,
            r.class_name,
        )
        for r in chosen
    ]
    policy = load_policy(name)

    def steps(frame_rows: list[Row]) -> dict[str, int | None]:
        out = classify(to_frame(frame_rows), policy=policy, as_of=as_of, include_left=True)
        return dict(out.select(s.PUPIL_ID, s.STEP).collect().iter_rows())

    before, after = steps(rows), steps(worse)
    assert before.keys() == after.keys()
    for pupil, step in before.items():
        assert (step is None) == (after[pupil] is None)
        assert step is None or after[pupil] >= step, pupil


# -- consecutive runs ----------------------------------------------------------------------------

RUN = reference.RefRule("consecutive_days", ("school_days", 20))


def run_of(rows: list[Row], rule: reference.RefRule = RUN) -> int:
    ref = RefPolicy({"run": rule}, (("rule", "run", Fraction(5)),), 1, "run")
    out = classify(
        to_frame(rows), policy=to_policy(ref), as_of=max(r.date for r in rows), include_left=True
    )
    value = out.collect()["rule_run"].item()
    assert (
        value
        == reference.classify(
            rows, ref, max(r.date for r in rows), include_left=True, national=None
        )[rows[0].pupil_id]["rule_run"]
    )
    return int(value)


def weekdays(first: date, n: int) -> list[date]:
    days, day = [], first
    while len(days) < n:
        if day.weekday() < 5:
            days.append(day)
        day += timedelta(days=1)
    return days


def test_a_weekend_does_not_break_a_run() -> None:
    days = weekdays(date(2024, 3, 6), 6)  # Wed..Wed, across a weekend
    assert run_of([Row("1", "A", d, "illness", Fraction(1)) for d in days]) == 6


def test_a_holiday_week_does_not_break_a_run() -> None:
    before = [date(2024, 2, 7), date(2024, 2, 8), date(2024, 2, 9)]  # winter break follows
    after = [date(2024, 2, 19), date(2024, 2, 20)]
    assert run_of([Row("1", "A", d, "leave", Fraction(1)) for d in before + after]) == 5


def test_a_change_of_school_does_not_break_a_run() -> None:
    days = weekdays(date(2024, 3, 4), 6)
    rows = [Row("1", "A" if i < 3 else "B", d, "unlawful", Fraction(1)) for i, d in enumerate(days)]
    assert run_of(rows) == 6


def test_a_present_day_breaks_a_run_and_a_partial_day_counts_by_min_fraction() -> None:
    days = weekdays(date(2024, 3, 4), 7)
    rows = [Row("1", "A", d, "illness", Fraction(1)) for d in days]
    rows[3] = Row("1", "A", days[3], "present", Fraction(0))
    assert run_of(rows) == 3
    rows[3] = Row("1", "A", days[3], "illness", Fraction(1, 2))
    assert run_of(rows) == 3  # half a day is not a whole absent day
    half = reference.RefRule("consecutive_days", ("school_days", 20), min_fraction=Fraction(1, 2))
    assert run_of(rows, half) == 7
    # Two categories on one day add up: half illness + half leave is a whole day.
    rows.append(Row("1", "A", days[3], "leave", Fraction(1, 2)))
    assert run_of(rows) == 7


def test_explain_agrees_with_classify() -> None:
    from fravaer.classify import explain

    days = weekdays(date(2024, 1, 8), 30)
    rows = [
        Row("07", "A", d, "illness" if i % 4 == 0 else "present", Fraction(int(i % 4 == 0)))
        for i, d in enumerate(days)
    ]
    policy = load_policy("slagelse")
    as_of = days[-1]
    classified = classify(to_frame(rows), policy=policy, as_of=as_of, include_left=True).collect()
    explained = explain(to_frame(rows), policy=policy, as_of=as_of, pupil_id="07").collect()
    assert explained["result_step"].unique().to_list() == classified[s.STEP].to_list()
    for row in explained.iter_rows(named=True):
        assert row["value"] == classified[f"rule_{row['rule']}"].item()


# A run of days is measured from the rows inside its window only (docs/performance.md
# #what-one-machine-holds): a property against a plain loop over each pupil's school days, with
# long runs drawn on purpose so that the window's first day cuts them, days at a second school,
# and school days of other pupils that are not the pupil's (they must neither break nor lengthen).

RUN_WINDOWS = [
    ("school_days", 1),
    ("school_days", 2),
    ("school_days", 5),
    ("school_days", 20),
    ("school_days", 45),
    ("weeks", 1),
    ("weeks", 3),
    ("period", "quarter"),
    ("period", "school_year"),
]


@st.composite
def run_days(draw: st.DrawFn) -> tuple[list[Row], date]:
    """Pupils whose days come in blocks: whole absence (one category or two halves), partial
    absence, presence; each pupil moves school part-way with some probability."""
    rng = draw(st.randoms(use_true_random=False))
    rows: list[Row] = []
    for p in range(draw(st.integers(1, 4))):
        pupil = f"0{p}"
        first = rng.randrange(0, 150)
        dates = [d for d in POOL[first : first + rng.randrange(1, 90)] if rng.randrange(6)]
        schools = rng.sample(["A", "B", "C"], k=2)
        move = rng.randrange(len(dates) + 1) if rng.randrange(3) == 0 else len(dates)
        i = 0
        while i < len(dates):
            kind, length = rng.randrange(5), rng.choice([1, 1, 2, 3, 5, 8, 21])
            for day in dates[i : i + length]:
                school = schools[1] if i >= move else schools[0]
                cat = rng.choice(reference.ABSENCE)
                if kind == 0:
                    rows.append(Row(pupil, school, day, "present", Fraction(0)))
                elif kind == 1:
                    rows.append(Row(pupil, school, day, cat, Fraction(1)))
                elif kind == 2:  # two halves, possibly at both schools on the moving day
                    other = rng.choice([c for c in reference.ABSENCE if c != cat])
                    rows.append(Row(pupil, school, day, cat, Fraction(1, 2)))
                    rows.append(Row(pupil, schools[1] if i == move else school, day, other,
                                    Fraction(1, 2)))  # fmt: skip
                elif kind == 3:
                    rows.append(Row(pupil, school, day, cat, rng.choice(FRACTIONS)))
                else:  # a whole absent day but for one lesson, or in the last thousandth
                    rows.append(Row(pupil, school, day, cat, Fraction(999, 1000)))
                i += 1
    # School days that belong to the schools but not to pupil 00: another pupil's days there.
    for day in POOL[::3]:
        rows.append(Row("99", draw(st.sampled_from(["A", "B"])), day, "present", Fraction(0)))
    random.Random(draw(st.integers(0, 2**32 - 1))).shuffle(rows)
    as_of = START + timedelta(days=draw(st.integers(-3, len(POOL) + 3)))
    return rows, as_of


def naive_longest_run(rows: list[Row], pupil: str, rule: reference.RefRule, as_of: date) -> int:
    """The longest run by a plain loop: the pupil's distinct dates up to ``as_of``, the window's
    dates among them, and a count that restarts on every day under ``min_fraction``."""
    by_day: dict[date, Fraction] = {}
    for row in rows:
        if row.pupil_id == pupil and row.date <= as_of:
            counted = row.fraction if row.category in rule.categories else Fraction(0)
            by_day[row.date] = by_day.get(row.date, Fraction(0)) + counted
    days = sorted(by_day)
    kind, size = rule.window
    if kind == "school_days":
        days = days[len(days) - size :] if len(days) > size else days
    elif kind == "weeks":
        days = [d for d in days if (as_of - d).days < 7 * size]
    elif size == "quarter":
        days = [
            d for d in days if (d.year, (d.month - 1) // 3) == (as_of.year, (as_of.month - 1) // 3)
        ]
    else:
        start = date(as_of.year if as_of.month >= 8 else as_of.year - 1, 8, 1)
        days = [d for d in days if d >= start]
    longest = run = 0
    for day in days:
        run = run + 1 if by_day[day] >= rule.min_fraction else 0
        longest = max(longest, run)
    return longest


@settings(max_examples=examples(80), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    data=run_days(),
    window=st.sampled_from(RUN_WINDOWS),
    second=st.sampled_from(RUN_WINDOWS),
    categories=st.lists(st.sampled_from(reference.ABSENCE), min_size=1, max_size=3, unique=True),
    min_fraction=st.sampled_from([Fraction(1), Fraction(1, 2), Fraction(999, 1000)]),
    parts=st.integers(1, 3),
)
def test_longest_run_equals_a_plain_loop(
    data: tuple[list[Row], date],
    window: tuple[str, object],
    second: tuple[str, object],
    categories: list[str],
    min_fraction: Fraction,
    parts: int,
) -> None:
    rows, as_of = data
    rules = {
        "run": reference.RefRule("consecutive_days", window, tuple(categories), min_fraction),
        # A second run over another window: the rows read are those of either window.
        "other": reference.RefRule("consecutive_days", second),
        "pct": reference.RefRule("percent", ("school_days", 5)),
    }
    ref = RefPolicy(rules, (("rule", "run", Fraction(5)),), 1, "pct")
    out = classify(
        to_frame(rows), policy=to_policy(ref), as_of=as_of, include_left=True, parts=parts
    ).collect()
    got = {row[0]: row[1:] for row in out.select(s.PUPIL_ID, "rule_run", "rule_other").iter_rows()}
    pupils = {r.pupil_id for r in rows if r.date <= as_of}
    assert got.keys() == pupils
    for pupil in pupils:
        want = (
            naive_longest_run(rows, pupil, rules["run"], as_of),
            naive_longest_run(rows, pupil, rules["other"], as_of),
        )
        assert got[pupil] == want, pupil


@settings(max_examples=examples(40), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=attendance(), ref=policies(), include_left=st.booleans(), parts=st.integers(2, 4))
def test_evaluating_in_parts_gives_the_same_result(
    data: tuple[list[Row], date], ref: RefPolicy, include_left: bool, parts: int
) -> None:
    rows, as_of = data
    frame, policy = to_frame(rows), to_policy(ref)

    def run(n: int) -> pl.DataFrame:
        return classify(
            frame, policy=policy, national=NATIONAL, as_of=as_of, include_left=include_left,
            parts=n,
        ).collect()  # fmt: skip

    assert_frame_equal(run(parts), run(1))


@settings(max_examples=examples(60), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=attendance(), years=st.integers(1, 180), include_left=st.booleans())
def test_rows_dated_after_the_as_of_date_change_nothing(
    data: tuple[list[Row], date], years: int, include_left: bool
) -> None:
    """Leave registered ahead of time, or a mistyped year: in no window, not in the quarter."""
    rows, as_of = data
    ahead = [
        Row(
            r.pupil_id,
            r.school_id,
            date(as_of.year + years, 3, 8),
            r.category,
            r.fraction,
            r.grade,
            r.class_name,
        )
        for r in rows[:5]
    ]
    policy = load_policy("aalborg-2023")

    def run(extra: list[Row]) -> pl.DataFrame:
        return classify(
            to_frame(rows + extra),
            policy=policy,
            national=NATIONAL,
            as_of=as_of,
            include_left=include_left,
        ).collect()

    assert_frame_equal(run(ahead), run([]))


# -- impossible absence -------------------------------------------------------------------------


def _lessons_as_days(pupil: str = "0000000123") -> pl.LazyFrame:
    """Six lesson rows a day classified as if each were a whole day: 3 absent days a day."""
    days = [date(2024, 3, 4), date(2024, 3, 5)]
    rows = [(day, "illness" if lesson < 3 else "present") for day in days for lesson in range(6)]
    return pl.LazyFrame(
        {
            s.PUPIL_ID: [pupil] * len(rows),
            s.SCHOOL_ID: ["851001"] * len(rows),
            s.DATE: [day for day, _ in rows],
            s.CATEGORY: [category for _, category in rows],
            s.ABSENT_FRACTION: [0.0 if c == "present" else 1.0 for _, c in rows],
            s.GRADE: [4] * len(rows),
            s.CLASS_NAME: ["4.B"] * len(rows),
        },
        schema_overrides={s.CATEGORY: s.CATEGORY_DTYPE, s.GRADE: pl.Int8},
    )


@pytest.mark.parametrize("parts", [1, 2])
def test_more_absent_days_than_school_days_fails_the_collect(parts: int) -> None:
    from fravaer.errors import FravaerError, ImpossibleAbsenceError

    result = classify(
        _lessons_as_days(), policy=load_policy("aalborg-2023"), as_of=date(2024, 3, 5), parts=parts
    )

    with pytest.raises(ImpossibleAbsenceError) as raised:
        result.collect()

    assert isinstance(raised.value, FravaerError)
    assert raised.value.exit_code == 65
    assert "1 pupil(s) have more absent days than school days" in raised.value.message
    assert "0000000123" not in str(raised.value) + str(raised.value.hint)


def test_a_possible_frame_passes_the_guard_unchanged() -> None:
    frame = _lessons_as_days().filter(pl.col(s.CATEGORY) == "present").unique()

    out = classify(frame, policy=load_policy("aalborg-2023"), as_of=date(2024, 3, 5)).collect()

    assert out.select(s.WINDOW_DAYS, s.ABSENT_DAYS).rows() == [(2, 0.0)]
