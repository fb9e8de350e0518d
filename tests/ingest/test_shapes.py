"""Lesson-level and absence-only exports, calendars, rosters and shape detection.

The fast code in :mod:`fravaer.ingest.shapes` must equal the naive references in
``shapes_reference.py`` on generated data (fractions compared exactly, in day units), and the
round trips register -> lesson rows -> register and register -> absence-only -> register must
give back the same frame and the same classification.
"""

from __future__ import annotations

import logging
import random
import tomllib
from collections.abc import Sequence
from datetime import date, timedelta
from fractions import Fraction
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from fravaer import schema as s
from fravaer.classify import classify
from fravaer.errors import BadInputError, InputMissingError, PolicyError
from fravaer.ingest.headers import LESSON
from fravaer.ingest.origin import Origin
from fravaer.ingest.policy import load_policy
from fravaer.ingest.shapes import (
    FIRST_DAY,
    LAST_DAY,
    detect_shape,
    expand_absence_only,
    from_lessons,
    generated_school_days,
    read_calendar,
    read_roster,
    school_days_frame,
    weekdays_between,
)
from fravaer.ingest.source import Calendar, SourceOptions
from fravaer.ingest.text import FORMULA_PROBLEM as FORMULA
from fravaer.ingest.text import HIDDEN_PROBLEM as HIDDEN
from tests.ingest import shapes_reference as ref
from tests.ingest.shapes_reference import Enrolment, Lesson
from tests.profiles import examples
from tests.reference import ABSENCE, Row, to_frame

START = date(2024, 1, 1)  # a Monday
POOL = [START + timedelta(days=i) for i in range(60)]
SHARES = [Fraction(1), Fraction(1, 2), Fraction(1, 4), Fraction(1, 10), Fraction(3, 1000)]
POLICY = load_policy("aalborg-2023")
NATIONAL = load_policy("national-unlawful")


# -- helpers ------------------------------------------------------------------------------------


def lesson_frame(lessons: Sequence[Lesson]) -> pl.LazyFrame:
    return pl.LazyFrame(
        {
            s.PUPIL_ID: [x.pupil_id for x in lessons],
            s.SCHOOL_ID: [x.school_id for x in lessons],
            s.DATE: [x.date for x in lessons],
            LESSON: [x.lesson for x in lessons],
            s.CATEGORY: [x.category for x in lessons],
            s.ABSENT_FRACTION: [float(x.share) for x in lessons],
            s.GRADE: [x.grade for x in lessons],
            s.CLASS_NAME: [x.class_name for x in lessons],
        },
        schema_overrides={s.DATE: pl.Date, s.GRADE: pl.Int8},
    )


def roster_frame(roster: Sequence[Enrolment], *, with_class: bool = True) -> pl.LazyFrame:
    columns: dict[str, list[Any]] = {
        s.PUPIL_ID: [e.pupil_id for e in roster],
        s.SCHOOL_ID: [e.school_id for e in roster],
        FIRST_DAY: [e.first_day for e in roster],
        LAST_DAY: [e.last_day for e in roster],
    }
    schema: dict[str, pl.DataType] = {
        s.PUPIL_ID: pl.String(),
        s.SCHOOL_ID: pl.String(),
        FIRST_DAY: pl.Date(),
        LAST_DAY: pl.Date(),
    }
    if with_class:
        columns |= {
            s.GRADE: [e.grade for e in roster],
            s.CLASS_NAME: [e.class_name for e in roster],
        }
        schema |= {s.GRADE: pl.Int8(), s.CLASS_NAME: pl.String()}
    return pl.LazyFrame(columns, schema=schema)


def calendar_frame(days: set[tuple[str | None, date]]) -> pl.LazyFrame:
    ordered = sorted(days, key=lambda d: (d[0] or "", d[1]))
    return pl.LazyFrame(
        {s.SCHOOL_ID: [d[0] for d in ordered], s.DATE: [d[1] for d in ordered]},
        schema={s.SCHOOL_ID: pl.String, s.DATE: pl.Date},
    )


Key = tuple[str, str, date, str, int, Any, Any]


def as_units(frame: pl.LazyFrame | pl.DataFrame) -> list[Key]:
    """Rows as sortable tuples with the fraction in exact day units."""
    data = frame.collect() if isinstance(frame, pl.LazyFrame) else frame
    assert data.schema == s.CANONICAL_SCHEMA
    out = []
    for r in data.iter_rows(named=True):
        units = round(r[s.ABSENT_FRACTION] * s.DAY_UNITS)
        assert Fraction(r[s.ABSENT_FRACTION]) == Fraction(units, s.DAY_UNITS) or (
            r[s.ABSENT_FRACTION] == units / s.DAY_UNITS
        )
        out.append(
            (
                r[s.PUPIL_ID],
                r[s.SCHOOL_ID],
                r[s.DATE],
                r[s.CATEGORY],
                units,
                r[s.GRADE],
                r[s.CLASS_NAME],
            )
        )
    return sorted(out, key=repr)


def rows_as_units(rows: Sequence[Row]) -> list[Key]:
    out = []
    for r in rows:
        units = r.fraction * s.DAY_UNITS
        assert units.denominator == 1, "reference fractions are whole units"
        out.append((r.pupil_id, r.school_id, r.date, r.category, int(units), r.grade, r.class_name))
    return sorted(out, key=repr)


def classified(frame: pl.LazyFrame, as_of: date) -> pl.DataFrame:
    return classify(
        frame, policy=POLICY, national=NATIONAL, as_of=as_of, include_left=True
    ).collect()


# -- lesson-level: generated against the reference ----------------------------------------------


@st.composite
def lesson_rows(draw: st.DrawFn) -> list[Lesson]:
    rng = draw(st.randoms(use_true_random=False))
    lessons: list[Lesson] = []
    for p in range(draw(st.integers(1, 4))):
        pupil = "00" + str(p)  # leading zeros
        grade = rng.choice([None, rng.randrange(0, 11)])
        for day in rng.sample(POOL[:20], k=rng.randrange(1, 6)):
            n = rng.randrange(1, 17)
            schools = rng.sample(["851001", "851002"], k=rng.choice([1, 1, 1, 2]))
            for k in range(1, n + 1):
                school = rng.choice(schools)
                category = rng.choice(["present", "present", *ABSENCE])
                share = Fraction(0) if category == "present" else rng.choice(SHARES)
                class_name = rng.choice([None, f"{grade}.{school}"])
                lessons.append(
                    Lesson(pupil, school, day, str(k), category, share, grade, class_name)
                )
    # Some lessons registered twice, identically: dropped, not counted twice.
    lessons += rng.sample(lessons, k=min(len(lessons), rng.randrange(0, 3)))
    rng.shuffle(lessons)
    return lessons


@settings(max_examples=examples(80), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lessons=lesson_rows())
def test_lessons_equal_the_reference(lessons: list[Lesson]) -> None:
    got = from_lessons(lesson_frame(lessons))

    assert as_units(got) == rows_as_units(ref.lessons_to_days(lessons))


@st.composite
def register_with_lessons(draw: st.DrawFn) -> tuple[list[Row], list[Lesson]]:
    """A register whose day fractions are k of n lessons, and the lesson rows it came from."""
    rng = draw(st.randoms(use_true_random=False))
    rows: list[Row] = []
    lessons: list[Lesson] = []
    for p in range(draw(st.integers(1, 4))):
        pupil, school = f"0{p}", rng.choice(["851001", "851002"])
        grade = rng.randrange(0, 11)
        class_name = f"{grade}.B"
        for day in sorted(rng.sample(POOL, k=rng.randrange(1, 30))):
            n = rng.randrange(1, 17)
            categories = [rng.choice(["present", "present", "present", *ABSENCE]) for _ in range(n)]
            for k, category in enumerate(categories, start=1):
                share = Fraction(0) if category == "present" else Fraction(1)
                lessons.append(
                    Lesson(pupil, school, day, f"{k}. lektion", category, share, grade, class_name)
                )
            counts = {c: categories.count(c) for c in ABSENCE if c in categories}
            for category, k in counts.items():
                rows.append(Row(pupil, school, day, category, Fraction(k, n), grade, class_name))
            if not counts:
                rows.append(Row(pupil, school, day, "present", Fraction(0), grade, class_name))
    rng.shuffle(lessons)
    return rows, lessons


@settings(max_examples=examples(50), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=register_with_lessons())
def test_register_to_lessons_and_back_is_the_same_frame(
    case: tuple[list[Row], list[Lesson]],
) -> None:
    rows, lessons = case
    original = to_frame(rows)

    back = from_lessons(lesson_frame(lessons))

    # Same day fractions, float for float: k/n is recovered exactly.
    sort = [s.PUPIL_ID, s.DATE, s.CATEGORY]
    assert_frame_equal(back.collect().sort(sort), original.collect().sort(sort), check_exact=True)
    as_of = POOL[-1]
    assert_frame_equal(classified(back, as_of), classified(original, as_of))


def test_two_of_six_lessons_is_exactly_a_third_in_day_units() -> None:
    lessons = [
        Lesson(
            "0042", "851001", START, str(k), "illness" if k <= 2 else "present", Fraction(k <= 2)
        )
        for k in range(1, 7)
    ]

    out = from_lessons(lesson_frame(lessons)).collect()

    assert out.select(s.CATEGORY, s.ABSENT_FRACTION).rows() == [("illness", 1 / 3)]
    assert round(out[s.ABSENT_FRACTION][0] * s.DAY_UNITS) == s.DAY_UNITS // 3


def test_lesson_defaults_and_several_categories_on_one_day() -> None:
    frame = pl.LazyFrame(
        {
            s.PUPIL_ID: ["1"] * 4,
            s.SCHOOL_ID: ["A"] * 4,
            s.DATE: [START] * 4,
            LESSON: [1, 2, 3, 4],  # numbers are fine: lessons are compared as text
            s.CATEGORY: ["illness", "unlawful", "present", "unlawful"],
            s.ABSENT_FRACTION: [None, 0.5, None, None],  # empty: 1 for absence, 0 for present
        }
    )

    out = from_lessons(frame).collect().sort(s.CATEGORY)

    assert out.select(s.CATEGORY, s.ABSENT_FRACTION).rows() == [
        ("illness", 0.25),
        ("unlawful", 0.375),
    ]
    assert out[s.GRADE].to_list() == [None, None]


def test_a_day_at_two_schools_takes_the_larger_school_and_its_class() -> None:
    lessons = [
        Lesson("1", "851001", START, "1", "illness", Fraction(1), 3, "3.A"),
        Lesson("1", "851002", START, "2", "present", Fraction(0), 4, None),
        Lesson("1", "851002", START, "3", "present", Fraction(0), None, "4.B"),
    ]

    out = from_lessons(lesson_frame(lessons)).collect()

    assert out.select(s.SCHOOL_ID, s.CATEGORY, s.GRADE, s.CLASS_NAME).rows() == [
        ("851002", "illness", 4, "4.B")
    ]


def test_a_lesson_registered_twice_identically_is_dropped_with_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    lesson = Lesson("1", "A", START, "1", "illness", Fraction(1))
    other = Lesson("1", "A", START, "2", "present", Fraction(0))

    with caplog.at_level(logging.WARNING, logger="fravaer"):
        out = from_lessons(lesson_frame([lesson, other, lesson]), origin=Origin("x.csv")).collect()

    assert out[s.ABSENT_FRACTION].to_list() == [0.5]
    assert caplog.messages == ["x.csv: ignored 1 repeated lesson row(s)"]


@pytest.mark.parametrize(
    ("second", "column"),
    [
        (Lesson("SECRET", "A", START, "1", "unlawful", Fraction(1)), s.CATEGORY),
        (Lesson("SECRET", "A", START, "1", "illness", Fraction(1, 2)), s.ABSENT_FRACTION),
        (Lesson("SECRET", "B", START, "1", "illness", Fraction(1)), s.SCHOOL_ID),
    ],
)
def test_a_lesson_registered_twice_differently_is_refused_at_the_later_row(
    second: Lesson, column: str
) -> None:
    first = Lesson("SECRET", "A", START, "1", "illness", Fraction(1))
    other = Lesson("SECRET", "A", START, "2", "present", Fraction(0))
    header = (s.PUPIL_ID, s.SCHOOL_ID, s.DATE, LESSON, s.CATEGORY, s.ABSENT_FRACTION)
    origin = Origin("lessons.csv", lambda record: record + 2, header)

    with pytest.raises(BadInputError) as caught:
        from_lessons(lesson_frame([first, other, second]), origin=origin)

    number = header.index(column) + 1
    assert caught.value.message == (
        f"lessons.csv:4:{number} (column '{column}'): "
        "differs from an earlier row for the same pupil, date and lesson"
    )
    assert "SECRET" not in caught.value.message
    assert caught.value.exit_code == 65


def test_a_missing_lesson_is_refused_at_its_line_from_the_readers_line_column() -> None:
    frame = lesson_frame([Lesson("1", "A", START, "1", "present", Fraction(0))] * 2).with_columns(
        pl.Series(LESSON, ["1", " "]), pl.Series("_line", [7, 9])
    )

    with pytest.raises(BadInputError) as caught:
        from_lessons(frame, origin=Origin("l.csv"))

    assert caught.value.message == "l.csv:9 (column 'lesson'): missing lesson"


def test_from_lessons_is_lazy_until_collected() -> None:
    lessons = [Lesson("1", "A", START, "1", "illness", Fraction(1))]

    assert isinstance(from_lessons(lesson_frame(lessons)), pl.LazyFrame)


# -- absence-only: generated against the reference ----------------------------------------------

SCHOOLS = ["851001", "851002", "851003"]


@st.composite
def absence_only(
    draw: st.DrawFn,
) -> tuple[list[Row], set[tuple[str | None, date]], list[Enrolment] | None, bool]:
    """Absence rows, a calendar (for all and per school), maybe a roster; now and then a fault."""
    rng = draw(st.randoms(use_true_random=False))
    per_school_only = rng.random() < 0.2  # then a school may have no days at all
    calendar: set[tuple[str | None, date]] = {
        (None, d) for d in POOL if d.weekday() < 5 and rng.random() < 0.9 and not per_school_only
    }
    for school in rng.sample(SCHOOLS, k=rng.randrange(1 if per_school_only else 0, 3)):
        calendar |= {(school, d) for d in POOL if rng.random() < 0.5}
    with_roster = draw(st.booleans())
    roster: list[Enrolment] = []
    rows: list[Row] = []
    for p in range(draw(st.integers(1, 5))):
        pupil = f"00{p}"
        grade = rng.choice([None, rng.randrange(0, 11)])
        for school in rng.sample(SCHOOLS, k=rng.choice([1, 1, 2])):
            first = rng.choice([None, *POOL[:30]])
            last = rng.choice([None, *POOL[30:]])
            class_name = rng.choice([None, f"{grade}.{school}"])
            roster.append(Enrolment(pupil, school, first, last, grade, class_name))
            days = sorted(
                d
                for sch, d in calendar
                if (sch is None or sch == school)
                and (first is None or first <= d)
                and (last is None or d <= last)
            )
            for day in rng.sample(days, k=min(len(days), rng.randrange(0, 6))):
                if any(r.pupil_id == pupil and r.date == day for r in rows):
                    continue
                category = rng.choice(ABSENCE)
                fraction = rng.choice([Fraction(1), Fraction(1, 2), Fraction(1, 6)])
                row_grade = rng.choice([grade, None])
                rows.append(Row(pupil, school, day, category, fraction, row_grade, class_name))
    if rng.random() < 0.25 and rows:  # a row off the calendar, or outside the enrolment
        victim = rng.randrange(len(rows))
        moved = rows[victim].date + timedelta(days=rng.choice([1, 2, 5, 40]))
        r = rows[victim]
        if rng.random() < 0.5:
            rows[victim] = Row(r.pupil_id, r.school_id, moved, r.category, r.fraction)
        else:  # at a school the roster may not enrol the pupil at
            rows[victim] = Row(r.pupil_id, rng.choice(SCHOOLS), r.date, r.category, r.fraction)
    if rng.random() < 0.05 and roster:  # a reversed enrolment
        e = roster[0]
        roster[0] = Enrolment(e.pupil_id, e.school_id, POOL[40], POOL[10], e.grade, e.class_name)
    if not rows and not with_roster:
        rows.append(Row("009", "851001", min(d for _, d in calendar), "illness", Fraction(1)))
    rng.shuffle(rows)
    return rows, calendar, roster if with_roster else None, draw(st.booleans())


KINDS = {
    "off_calendar": "a row on a day that is not a school day of its school in the calendar",
    "outside": "a row outside the pupil's enrolment at this school in the roster",
    "reversed": "last_day is before first_day",
    "no_days": "the calendar has no school days for this school",
}


@settings(max_examples=examples(100), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=absence_only())
def test_absence_only_equals_the_reference(
    case: tuple[list[Row], set[tuple[str | None, date]], list[Enrolment] | None, bool],
) -> None:
    rows, calendar, roster, roster_has_class = case
    roster_lazy = None if roster is None else roster_frame(roster, with_class=roster_has_class)
    try:
        expected = ref.expand(rows, calendar, roster, roster_has_class=roster_has_class)
    except ref.Refused as refusal:
        refused = refusal
    else:
        refused = None
    if refused is not None:
        with pytest.raises(BadInputError) as caught:
            expand_absence_only(
                to_frame(rows),
                calendar=calendar_frame(calendar),
                roster=roster_lazy,
                origin=Origin("export.csv"),
                roster_origin=Origin("roster.csv"),
            ).collect()
        file = "roster.csv" if refused.kind in ("reversed", "no_days") else "export.csv"
        assert caught.value.message.startswith(f"{file}:{refused.index + 1} ")
        assert caught.value.message.endswith(KINDS[refused.kind])
        return
    got = expand_absence_only(to_frame(rows), calendar=calendar_frame(calendar), roster=roster_lazy)
    assert as_units(got) == rows_as_units(expected)


@st.composite
def register_with_enrolments(
    draw: st.DrawFn,
) -> tuple[list[Row], set[tuple[str | None, date]], list[Enrolment]]:
    """A register with a row on every school day of each (non-overlapping) enrolment."""
    rng = draw(st.randoms(use_true_random=False))
    calendar: set[tuple[str | None, date]] = {
        (None, d) for d in POOL if d.weekday() < 5 and rng.random() < 0.9
    }
    special = rng.choice(SCHOOLS)
    calendar |= {(special, d) for d in POOL if d.weekday() == 5 and rng.random() < 0.5}
    rows: list[Row] = []
    roster: list[Enrolment] = []
    for p in range(draw(st.integers(1, 5))):
        pupil, grade = f"0{p}", rng.randrange(0, 11)
        cut = sorted(rng.sample(range(len(POOL)), k=3))
        spans = (
            [(cut[0], cut[1]), (cut[1] + 1, cut[2])] if rng.random() < 0.4 else [(cut[0], cut[2])]
        )
        for (lo, hi), school in zip(spans, rng.sample(SCHOOLS, k=2), strict=False):
            first, last = POOL[lo], POOL[min(hi, len(POOL) - 1)]
            class_name = f"{grade}.{school}"
            roster.append(Enrolment(pupil, school, first, last, grade, class_name))
            days = sorted(d for sch, d in calendar if sch in (None, school) and first <= d <= last)
            for day in days:
                kind = rng.random()
                if kind < 0.7:
                    rows.append(Row(pupil, school, day, "present", Fraction(0), grade, class_name))
                    continue
                first_category = rng.choice(ABSENCE)
                fraction = rng.choice([Fraction(1), Fraction(1, 2), Fraction(1, 3)])
                rows.append(Row(pupil, school, day, first_category, fraction, grade, class_name))
                if fraction < 1 and rng.random() < 0.5:
                    second = rng.choice([c for c in ABSENCE if c != first_category])
                    rows.append(Row(pupil, school, day, second, 1 - fraction, grade, class_name))
    return rows, calendar, roster


@settings(max_examples=examples(50), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=register_with_enrolments())
def test_register_to_absence_only_and_back_is_the_same_frame(
    case: tuple[list[Row], set[tuple[str | None, date]], list[Enrolment]],
) -> None:
    rows, calendar, roster = case
    original = to_frame(rows)
    absences = [r for r in rows if r.category != "present"]

    back = expand_absence_only(
        to_frame(absences), calendar=calendar_frame(calendar), roster=roster_frame(roster)
    )

    sort = [s.PUPIL_ID, s.DATE, s.CATEGORY]
    assert_frame_equal(back.collect().sort(sort), original.collect().sort(sort), check_exact=True)
    assert_frame_equal(classified(back, POOL[-1]), classified(original, POOL[-1]))


@settings(max_examples=examples(60), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=register_with_enrolments())
def test_without_a_roster_enrolment_runs_from_first_to_last_absence(
    case: tuple[list[Row], set[tuple[str | None, date]], list[Enrolment]],
) -> None:
    rows, calendar, _ = case
    absences = [r for r in rows if r.category != "present"]
    spans: dict[tuple[str, str], tuple[date, date]] = {}
    for r in absences:
        lo, hi = spans.get((r.pupil_id, r.school_id), (r.date, r.date))
        spans[(r.pupil_id, r.school_id)] = (min(lo, r.date), max(hi, r.date))
    within = [
        r
        for r in rows
        if (r.pupil_id, r.school_id) in spans
        and spans[(r.pupil_id, r.school_id)][0] <= r.date <= spans[(r.pupil_id, r.school_id)][1]
    ]

    back = expand_absence_only(to_frame(absences), calendar=calendar_frame(calendar), roster=None)

    assert as_units(back) == rows_as_units(within)  # grade and class from the nearest absence


def test_absence_only_example_with_a_generated_calendar() -> None:
    absences = to_frame([Row("0042", "851001", date(2024, 3, 5), "illness", Fraction(1))])
    calendar = school_days_frame(Calendar(first="2024-03-04", last="2024-03-08"))
    roster = roster_frame([Enrolment("0042", "851001", None, None, 4, "4.A")])

    out = expand_absence_only(absences, calendar=calendar, roster=roster).collect().sort(s.DATE)

    assert out[s.CATEGORY].to_list() == ["present", "illness", "present", "present", "present"]
    # The absence row is as given (no class); the present rows have the roster's.
    assert out[s.CLASS_NAME].to_list() == ["4.A", None, "4.A", "4.A", "4.A"]


def test_a_roster_pupil_without_absence_gets_every_school_day_present() -> None:
    absences = to_frame([Row("1", "A", START, "illness", Fraction(1))])
    calendar = calendar_frame({(None, START), (None, POOL[1]), (None, POOL[2])})
    roster = roster_frame(
        [Enrolment("1", "A", None, None, 1, "1.A"), Enrolment("2", "A", POOL[1], None, 2, "2.A")]
    )

    out = expand_absence_only(absences, calendar=calendar, roster=roster).collect()

    assert sorted(out.select(s.PUPIL_ID, s.DATE, s.CATEGORY).rows()) == [
        ("1", START, "illness"),
        ("1", POOL[1], "present"),
        ("1", POOL[2], "present"),
        ("2", POOL[1], "present"),
        ("2", POOL[2], "present"),
    ]


def test_overlapping_enrolments_give_one_present_row_at_the_larger_school() -> None:
    absences = to_frame([Row("1", "A", START, "illness", Fraction(1), 1, "1.A")])
    calendar = calendar_frame({(None, START), (None, POOL[1])})
    roster = roster_frame(
        [Enrolment("1", "A", None, None, 1, "1.A"), Enrolment("1", "B", POOL[1], None, 1, "1.B")]
    )

    out = expand_absence_only(absences, calendar=calendar, roster=roster).collect()

    assert sorted(out.select(s.SCHOOL_ID, s.DATE, s.CATEGORY, s.CLASS_NAME).rows()) == [
        ("A", START, "illness", "1.A"),
        ("B", POOL[1], "present", "1.B"),
    ]


def test_a_row_off_the_calendar_is_refused_at_its_line() -> None:
    rows = [
        Row("SECRET", "A", POOL[1], "illness", Fraction(1)),  # 1 January is a holiday
        Row("SECRET", "A", POOL[5], "illness", Fraction(1)),  # a Saturday
    ]
    calendar = school_days_frame(Calendar(first="2024-01-01", last="2024-01-31"))
    origin = Origin("fravaer.csv", lambda record: record + 2, tuple(s.CANONICAL_SCHEMA))

    with pytest.raises(BadInputError) as caught:
        expand_absence_only(to_frame(rows), calendar=calendar, roster=None, origin=origin)

    assert caught.value.message == (
        "fravaer.csv:3:3 (column 'date'): "
        "a row on a day that is not a school day of its school in the calendar"
    )
    assert caught.value.hint is not None
    assert "SECRET" not in caught.value.message


def test_a_row_outside_the_enrolment_is_refused() -> None:
    rows = [
        Row("1", "A", START, "illness", Fraction(1)),
        Row("1", "A", POOL[2], "leave", Fraction(1)),
    ]
    calendar = calendar_frame({(None, d) for d in POOL[:5]})
    roster = roster_frame([Enrolment("1", "A", START, POOL[1])])

    with pytest.raises(BadInputError) as caught:
        expand_absence_only(to_frame(rows), calendar=calendar, roster=roster)

    assert caught.value.message == (
        "<input>:2 (column 'date'): "
        "a row outside the pupil's enrolment at this school in the roster"
    )


def test_a_school_missing_from_a_per_school_calendar_is_refused_at_the_roster_row(
    tmp_path: Path,
) -> None:
    roster_path = tmp_path / "roster.csv"
    roster_path.write_text(
        "pupil_id,school_id,first_day,last_day\n1,A,2024-01-01,\n2,B,2024-01-01,\n"
    )
    roster, roster_origin = read_roster(roster_path)
    calendar = calendar_frame({("A", START)})

    with pytest.raises(BadInputError) as caught:
        expand_absence_only(
            to_frame([Row("1", "A", START, "illness", Fraction(1))]),
            calendar=calendar,
            roster=roster,
            roster_origin=roster_origin,
        )

    assert caught.value.message == (
        f"{roster_path}:3:2 (column 'school_id'): the calendar has no school days for this school"
    )


# -- calendar -----------------------------------------------------------------------------------


def test_generated_days_skip_weekends_holidays_grundlovsdag_and_breaks() -> None:
    days = generated_school_days(
        date(2024, 3, 18), date(2024, 6, 7), [14, "2024-05-10", "2024-03-25:2024-03-27"]
    )

    closed = {
        date(2024, 3, 25),  # the range
        date(2024, 3, 27),
        date(2024, 3, 28),  # Skærtorsdag
        date(2024, 3, 29),  # Langfredag
        date(2024, 4, 1),  # 2. påskedag, also week 14
        date(2024, 4, 5),  # week 14
        date(2024, 5, 9),  # Kristi himmelfart
        date(2024, 5, 10),  # the single date
        date(2024, 5, 20),  # 2. pinsedag
        date(2024, 6, 5),  # Grundlovsdag
    }
    assert not closed & set(days)
    assert all(d.weekday() < 5 for d in days)
    assert date(2024, 3, 18) in days
    assert date(2024, 4, 8) in days
    assert date(2024, 6, 7) in days


def test_a_break_week_closes_that_week_in_every_year_of_the_range() -> None:
    days = set(generated_school_days(date(2023, 8, 1), date(2025, 1, 31), [42]))

    assert date.fromisocalendar(2023, 42, 2) not in days
    assert date.fromisocalendar(2024, 42, 2) not in days
    assert date.fromisocalendar(2024, 43, 2) in days


def test_school_days_frame_for_all_schools_or_one_row_per_school() -> None:
    cal = Calendar(first="2024-01-01", last="2024-01-05")  # 1 January is a holiday

    every = school_days_frame(cal).collect()
    each = school_days_frame(cal, schools=["A", "B"]).collect()

    assert every.schema == pl.Schema({s.SCHOOL_ID: pl.String, s.DATE: pl.Date})
    assert every[s.SCHOOL_ID].null_count() == 4
    assert sorted(each[s.SCHOOL_ID].to_list()) == ["A"] * 4 + ["B"] * 4


@pytest.mark.parametrize(
    ("calendar", "problem"),
    [
        (Calendar(), "calendar needs a file, or first and last"),
        (Calendar(first="2024-01-01"), "calendar needs a file, or first and last"),
        (Calendar(first="1/1/2024", last="2024-06-30"), "calendar first must be a date"),
        (Calendar(first="2024-06-30", last="2024-01-01"), "calendar last is before first"),
        (Calendar(first="2024-01-01", last="2024-06-30", breaks=(54,)), "week 54 is not 1 to 53"),
        (Calendar(first="2024-01-01", last="2024-06-30", breaks=("efterår",)), "neither a week"),
        (
            Calendar(first="2024-01-01", last="2024-06-30", breaks=("2024-03-27:2024-03-25",)),
            "ends before it starts",
        ),
        (Calendar(file=Path("days.csv"), first="2024-01-01"), "both a file and first/last"),
    ],
)
def test_bad_calendar_options_are_a_config_error(calendar: Calendar, problem: str) -> None:
    with pytest.raises(PolicyError) as caught:
        school_days_frame(calendar)

    assert problem in caught.value.message
    assert caught.value.exit_code == 78


def test_calendar_file_with_and_without_school(tmp_path: Path) -> None:
    path = tmp_path / "days.csv"
    path.write_text("Date;School_ID\n2024-01-02;\n2024-01-03;851001\n\n2024-01-04;851002\n")

    frame = read_calendar(path).collect()
    only = school_days_frame(Calendar(file=path), schools=["851001"]).collect()

    assert frame.rows() == [
        (None, date(2024, 1, 2)),
        ("851001", date(2024, 1, 3)),
        ("851002", date(2024, 1, 4)),
    ]
    assert only[s.SCHOOL_ID].to_list() == [None, "851001"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "days.csv: file is empty (no header)"),
        ("school_id\n1\n", "days.csv:1: missing required column 'date'"),
        ("date\n", "days.csv: no data rows"),
        (
            "date\n2024-01-02\n02-01-2024\n",
            "days.csv:3:1 (column 'date'): not a date in ISO format",
        ),
        ("school_id,date\n1,2024-01-02\n1,\n", "days.csv:3:2 (column 'date'): missing date"),
        (
            "date\n2024-01-02\n0000-01-02\n",
            "days.csv:3:1 (column 'date'): a date before 1900-01-01 or after 9999-12-31",
        ),
    ],
)
def test_bad_calendar_files_are_refused(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "days.csv"
    path.write_text(text)

    with pytest.raises(BadInputError) as caught:
        read_calendar(path).collect()

    assert caught.value.message.startswith(f"{tmp_path}/{message}")


def test_a_missing_calendar_file_is_exit_66(tmp_path: Path) -> None:
    with pytest.raises(InputMissingError):
        school_days_frame(Calendar(file=tmp_path / "nope.csv"))


# -- roster -------------------------------------------------------------------------------------


def test_roster_file_is_read_with_open_ends_and_optional_class(tmp_path: Path) -> None:
    path = tmp_path / "roster.csv"
    path.write_text(
        "pupil_id,school_id,first_day,last_day,grade,class_name\n"
        "007,0851001,2024-01-02,,3,3.A\n"
        "008,0851001,,2024-06-30,,\n"
    )

    roster, origin = read_roster(path)

    assert roster.drop("_row").collect().rows() == [
        ("007", "0851001", date(2024, 1, 2), None, 3, "3.A"),
        ("008", "0851001", None, date(2024, 6, 30), None, None),
    ]
    assert origin.file == str(path)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("pupil_id,school_id,first_day\n", "r.csv:1: missing required column 'last_day'"),
        (
            "pupil_id,school_id,first_day,last_day\nSECRET,,2024-01-01,\n",
            "r.csv:2:2 (column 'school_id'): missing school id",
        ),
        (
            "pupil_id,school_id,first_day,last_day\nSECRET,1,2024-13-01,\n",
            "r.csv:2:3 (column 'first_day'): not a date in ISO format YYYY-MM-DD",
        ),
        (
            "pupil_id,school_id,first_day,last_day\nSECRET,1,2024-01-01,1899-12-31\n",
            "r.csv:2:4 (column 'last_day'): a date before 1900-01-01 or after 9999-12-31",
        ),
        (
            "pupil_id,school_id,first_day,last_day,grade\nSECRET,1,,,11\n",
            "r.csv:2:5 (column 'grade'): grade must be a whole number from 0 to 10",
        ),
        # Ids and class names that a spreadsheet would run or that hide characters
        # (docs/privacy.md#what-is-refused-on-reading), as in the export itself:
        (
            'pupil_id,school_id,first_day,last_day\n1,A,,\n"=HYPERLINK(""SECRET"")",A,,\n',
            "r.csv:3:1 (column 'pupil_id'): " + FORMULA,
        ),
        (
            "pupil_id,school_id,first_day,last_day\n1,  @SECRET,,\n",
            "r.csv:2:2 (column 'school_id'): " + FORMULA,
        ),
        (
            "pupil_id,school_id,first_day,last_day,class_name\n1,A,,,SECRET\u202e\n",
            "r.csv:2:5 (column 'class_name'): " + HIDDEN,
        ),
        (
            "pupil_id,school_id,first_day,last_day\nSECRET\u200b,A,,\n",
            "r.csv:2:1 (column 'pupil_id'): " + HIDDEN,
        ),
        (
            "pupil_id;school_id;first_day;last_day;" + ";".join(f"c{i}" for i in range(1001)),
            "r.csv:1: the header has more than 1,000 columns: not an attendance export",
        ),
    ],
)
def test_bad_roster_files_are_refused(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "r.csv"
    path.write_text(text)

    with pytest.raises(BadInputError) as caught:
        read_roster(path)

    assert caught.value.message == f"{tmp_path}/{message}"
    assert "SECRET" not in caught.value.message


def test_a_roster_cpr_number_written_with_a_space_is_read_in_the_hyphen_form(
    tmp_path: Path,
) -> None:
    path = tmp_path / "r.csv"
    path.write_text("pupil_id,school_id,first_day,last_day\n010203 1234,A,,\n0102031234,A,,\n")

    roster, _ = read_roster(path)

    assert roster.collect()[s.PUPIL_ID].to_list() == ["010203-1234", "0102031234"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("date,school_id\n2024-01-02,=SECRET\n", "c.csv:2:2 (column 'school_id'): " + FORMULA),
        ("date,school_id\n2024-01-02,SECRET\x1b\n", "c.csv:2:2 (column 'school_id'): " + HIDDEN),
    ],
)
def test_hostile_school_ids_in_a_calendar_file_are_refused(
    tmp_path: Path, text: str, message: str
) -> None:
    path = tmp_path / "c.csv"
    path.write_text(text)

    with pytest.raises(BadInputError) as caught:
        read_calendar(path)

    assert caught.value.message == f"{tmp_path}/{message}"
    assert "SECRET" not in caught.value.message


def test_a_reversed_roster_row_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_text("pupil_id,school_id,first_day,last_day\n1,A,2024-01-05,2024-01-02\n")
    roster, origin = read_roster(path)

    with pytest.raises(BadInputError) as caught:
        expand_absence_only(
            to_frame([Row("1", "A", START, "illness", Fraction(1))]),
            calendar=calendar_frame({(None, START)}),
            roster=roster,
            roster_origin=origin,
        )

    assert caught.value.message == f"{path}:2:4 (column 'last_day'): last_day is before first_day"


# -- detection ----------------------------------------------------------------------------------


def register_days(pupils: int, days: int, *, absent_only: bool = False) -> pl.LazyFrame:
    weekdays = [d for d in POOL if d.weekday() < 5][:days]
    rows = [
        Row(f"{p}", "A", d, "illness" if absent_only or i % 9 == 0 else "present", Fraction(1))
        for p in range(pupils)
        for i, d in enumerate(weekdays)
    ]
    return to_frame(rows)


def test_detects_lesson_by_its_column() -> None:
    frame = register_days(2, 5).with_columns(pl.lit("1").alias(LESSON))

    assert detect_shape(frame, SourceOptions()) == ("lesson", "the export has a 'lesson' column")


def test_detects_a_register_by_its_present_rows() -> None:
    guess = detect_shape(register_days(3, 20), SourceOptions())

    assert guess.shape == "register"
    assert guess.reason == "51 of 60 rows are present rows"


def test_a_dense_export_without_present_rows_is_a_register() -> None:
    guess = detect_shape(register_days(3, 20, absent_only=True), SourceOptions())

    assert guess.shape == "register"
    assert guess.reason.startswith("no present rows, but 1.00 rows per pupil per weekday")


def sparse() -> pl.LazyFrame:
    rows = [
        Row("1", "A", date(2024, 1, 2), "illness", Fraction(1)),
        Row("1", "A", date(2024, 3, 1), "illness", Fraction(1)),
        Row("2", "A", date(2024, 2, 1), "unlawful", Fraction(1)),
    ]
    return to_frame(rows)


def test_a_sparse_export_without_present_rows_is_absence_only_with_a_calendar() -> None:
    options = SourceOptions(calendar=Calendar(first="2024-01-01", last="2024-06-30"))

    guess = detect_shape(sparse(), options)

    assert guess.shape == "absence_only"
    assert guess.reason == (
        "no present rows and 0.03 rows per pupil per weekday (below 0.5): absences only"
    )


def test_a_sparse_export_without_a_calendar_is_refused_with_a_hint() -> None:
    with pytest.raises(BadInputError) as caught:
        detect_shape(sparse(), SourceOptions(), origin=Origin("fravaer.csv"))

    assert caught.value.message == (
        "fravaer.csv: no present rows and 0.03 rows per pupil per weekday (below 0.5): "
        "absences only, but no school calendar is configured"
    )
    assert caught.value.hint is not None
    assert 'shape = "absence_only"' in caught.value.hint
    assert "[calendar]" in caught.value.hint


def test_a_set_shape_is_not_detected() -> None:
    guess = detect_shape(sparse(), SourceOptions(shape="register"))

    assert guess == ("register", "set in the source options")


@pytest.mark.parametrize(
    ("first", "last", "count"),
    [
        (date(2024, 3, 4), date(2024, 3, 4), 1),
        (date(2024, 3, 2), date(2024, 3, 3), 0),
        (date(2024, 3, 4), date(2024, 3, 10), 5),
        (date(2024, 3, 1), date(2024, 3, 11), 7),
        (date(2024, 3, 5), date(2024, 3, 4), 0),
    ],
)
def test_weekdays_between(first: date, last: date, count: int) -> None:
    assert weekdays_between(first, last) == count
    brute = sum(
        (first + timedelta(days=i)).weekday() < 5 for i in range(max(0, (last - first).days + 1))
    )
    assert count == brute


def test_weekdays_between_matches_counting_one_by_one() -> None:
    rng = random.Random(3)
    for _ in range(300):
        first = START + timedelta(days=rng.randrange(0, 30))
        last = first + timedelta(days=rng.randrange(-2, 40))
        brute = sum(
            (first + timedelta(days=i)).weekday() < 5
            for i in range(max(0, (last - first).days + 1))
        )
        assert weekdays_between(first, last) == brute


# -- the documentation's source options ---------------------------------------------------------


def toml_blocks(page: Path) -> list[str]:
    blocks, current = [], None
    for line in page.read_text(encoding="utf-8").splitlines():
        if current is None and line.strip() == "```toml":
            current = []
        elif current is not None and line.strip() == "```":
            blocks.append("\n".join(current))
            current = None
        elif current is not None:
            current.append(line)
    return blocks


DOCS = Path(__file__).resolve().parents[2] / "docs" / "shapes.md"


@pytest.mark.parametrize("text", toml_blocks(DOCS))
def test_the_documented_source_options_are_valid(text: str) -> None:
    options = SourceOptions.model_validate(tomllib.loads(text))

    if options.calendar is not None and options.calendar.file is None:
        assert len(school_days_frame(options.calendar).collect()) > 150


def test_the_page_has_source_options_for_each_shape() -> None:
    shapes = {SourceOptions.model_validate(tomllib.loads(t)).shape for t in toml_blocks(DOCS)}

    assert shapes == {"register", "lesson", "absence_only", "hours"}
