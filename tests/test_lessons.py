"""Lesson patterns: the cells equal a naive reference; planted patterns are found and named."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import date, timedelta

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fravaer.lessons import (
    CELL_COLUMNS,
    LESSON_SCHEMA,
    MIN_OPPORTUNITIES,
    lesson_cells,
    lesson_patterns,
    lesson_tests,
)
from tests.profiles import examples
from tests.reference_lessons import Taught, cells

START = date(2024, 1, 1)  # a Monday
SCHOOL_DAYS = [START + timedelta(days=i) for i in range(7 * 30) if i % 7 < 5]  # 30 weeks
TIMETABLE = {  # weekday -> the subjects of lessons 1.. (PE on Wednesday's lessons 5 and 6)
    1: ["Dansk", "Dansk", "Matematik", "Engelsk", "Historie", "Musik"],
    2: ["Matematik", "Dansk", "Natur", "Natur", "Billedkunst"],
    3: ["Dansk", "Matematik", "Engelsk", "Dansk", "Idræt", "Idræt"],
    4: ["Engelsk", "Matematik", "Dansk", "Kristendom", "Dansk", "Matematik"],
    5: ["Matematik", "Dansk", "Dansk", "Klassens tid"],
}


def frame(lessons: list[Taught]) -> pl.LazyFrame:
    return pl.LazyFrame(
        {
            "pupil_id": [x.pupil_id for x in lessons],
            "school_id": ["851001"] * len(lessons),
            "date": [x.date for x in lessons],
            "lesson": [str(x.number) for x in lessons],
            "lesson_number": [x.number for x in lessons],
            "subject": [x.subject for x in lessons],
            "absent": [x.absent for x in lessons],
        },
        schema_overrides={"lesson_number": pl.Int64, "subject": pl.String},
    ).select(
        (
            pl.col(c)
            if c
            in ("pupil_id", "school_id", "date", "lesson", "lesson_number", "subject", "absent")
            else pl.lit(None)
        )
        .cast(t)
        .alias(c)
        for c, t in LESSON_SCHEMA.items()
    )


Absent = Callable[[random.Random, date, int], bool]


def school_year(pupils: int, absent: dict[int, Absent], *, seed: int) -> list[Taught]:
    """Pupils on the timetable; pupil i misses a lesson when ``absent[i]`` says so (base: 2 %
    of single lessons and 5 % of whole days)."""
    rng = random.Random(seed)
    lessons = []
    for p in range(pupils):
        for day in SCHOOL_DAYS:
            whole = rng.random() < 0.05
            subjects = TIMETABLE[day.isoweekday()]
            for number, subject in enumerate(subjects, start=1):
                planted = p in absent and absent[p](rng, day, number)
                missed = whole or planted or rng.random() < 0.02
                lessons.append(Taught(f"{p:04d}", day, number, subject, missed))
    return lessons


def found(lessons: list[Taught]) -> dict[str, dict[str, object]]:
    result = lesson_patterns(frame(lessons)).collect()
    return {row["pupil_id"]: row for row in result.iter_rows(named=True)}


# -- the cells against the reference -------------------------------------------------------------


@st.composite
def taught(draw: st.DrawFn) -> list[Taught]:
    rng = draw(st.randoms(use_true_random=False))
    lessons = []
    for p in range(draw(st.integers(1, 3))):
        for day in rng.sample(SCHOOL_DAYS[:25], k=rng.randrange(1, 12)):  # weekends included
            day = day + timedelta(days=rng.choice([0, 0, 0, 5]))
            numbers = rng.sample(range(0, 9), k=rng.randrange(1, 8))
            for number in numbers:
                lessons.append(
                    Taught(
                        f"0{p}",
                        day,
                        rng.choice([number, number, number, None]),
                        rng.choice(["Idræt", "Dansk", None]),
                        rng.random() < rng.choice([0.0, 0.3, 0.9]),
                    )
                )
    return lessons


@settings(max_examples=examples(40), deadline=None)
@given(lessons=taught())
def test_the_cells_equal_the_reference(lessons: list[Taught]) -> None:
    got = lesson_cells(frame(lessons)).collect()
    assert got.columns == list(CELL_COLUMNS)
    as_dict = {tuple(row[:6]): tuple(row[6:]) for row in got.select(CELL_COLUMNS).iter_rows()}
    assert as_dict == cells(lessons)
    assert got.height == len(as_dict)  # no cell twice


def test_the_window_keeps_its_days_only() -> None:
    lessons = school_year(1, {}, seed=3)
    window = pl.LazyFrame({"pupil_id": ["0000"] * 10, "date": SCHOOL_DAYS[-10:]})
    got = lesson_cells(frame(lessons), window=window).collect()
    inside = [x for x in lessons if x.date in SCHOOL_DAYS[-10:]]
    expected = cells(inside)
    assert {tuple(r[:6]): tuple(r[6:]) for r in got.select(CELL_COLUMNS).iter_rows()} == expected


# -- planted patterns ----------------------------------------------------------------------------


def test_leaving_before_the_last_two_lessons_on_wednesdays_is_found() -> None:
    def wednesday_end(rng: random.Random, day: date, number: int) -> bool:
        return day.isoweekday() == 3 and number >= 5 and (rng.random() < 0.6 or number == 6)

    pupils = found(school_year(5, {2: wednesday_end}, seed=1))
    me = pupils["0002"]
    assert "leaves_early" in str(me["lesson_flags"]).split(";")
    assert me["lesson_weekday"] == "wednesday"
    assert (me["lesson_first"], me["lesson_last"]) == (5, 6)
    assert me["lesson_q"] is not None
    assert all(pupils[p]["lesson_flags"] == "" for p in pupils if p != "0002")


def test_a_subject_on_several_weekdays_is_found_and_named() -> None:
    def english(rng: random.Random, day: date, number: int) -> bool:
        return TIMETABLE[day.isoweekday()][number - 1] == "Engelsk" and rng.random() < 0.6

    me = found(school_year(3, {0: english}, seed=2))["0000"]
    # English is also Thursday's first lesson: arriving late on Thursdays is true as well.
    assert "lesson" in str(me["lesson_flags"]).split(";")
    assert me["lesson_subject"] == "Engelsk"
    assert (me["lesson_weekday"], me["lesson_first"], me["lesson_last"]) == (None, None, None)


def test_a_run_of_lessons_is_named_by_its_subject() -> None:
    def pe(rng: random.Random, day: date, number: int) -> bool:  # PE only: Wednesday 5-6
        return day.isoweekday() == 3 and number == 5 and rng.random() < 0.7

    me = found(school_year(3, {1: pe}, seed=4))["0001"]
    assert "lesson" in str(me["lesson_flags"]).split(";")
    assert (me["lesson_weekday"], me["lesson_first"], me["lesson_subject"]) == (
        "wednesday",
        5,
        "Idræt",
    )


def test_arriving_late_on_mondays_is_found() -> None:
    def monday_first(rng: random.Random, day: date, number: int) -> bool:
        return day.isoweekday() == 1 and number == 1 and rng.random() < 0.6

    me = found(school_year(3, {2: monday_first}, seed=5))["0002"]
    assert "arrives_late" in str(me["lesson_flags"]).split(";")
    assert me["lesson_weekday"] == "monday"
    assert (me["lesson_first"], me["lesson_last"]) == (1, 1)


def test_leaving_early_on_any_day_has_no_weekday() -> None:
    def any_end(rng: random.Random, day: date, number: int) -> bool:
        return number >= len(TIMETABLE[day.isoweekday()]) - 1 and rng.random() < 0.3

    me = found(school_year(3, {0: any_end}, seed=6))["0000"]
    assert "leaves_early" in str(me["lesson_flags"]).split(";")
    assert me["lesson_weekday"] is None


def test_without_a_pattern_nobody_is_flagged() -> None:
    pupils = found(school_year(25, {}, seed=7))
    assert len(pupils) == 25
    assert [p for p, row in pupils.items() if row["lesson_flags"]] == []


def test_a_cell_with_too_few_lessons_is_not_tested() -> None:
    lessons = [x for x in school_year(1, {}, seed=8) if x.date < SCHOOL_DAYS[45]]  # 9 weeks
    tests = lesson_tests(frame(lessons)).collect()
    counted = lesson_cells(frame(lessons)).collect()
    assert counted.filter(pl.col("n") < MIN_OPPORTUNITIES).height > 0
    assert tests.filter(pl.col("n") < MIN_OPPORTUNITIES).is_empty()
    assert tests.height == counted.filter(pl.col("n") >= MIN_OPPORTUNITIES).height


def test_the_tests_are_exact_and_controlled_over_every_pupil() -> None:
    """p is the hypergeometric tail of the reference counts; q is Benjamini-Hochberg over every
    tested cell of every pupil; untested cells are exactly those below the minimums."""
    from scipy import stats

    lessons = school_year(6, {1: lambda rng, day, n: n == 2 and rng.random() < 0.3}, seed=9)
    got = lesson_tests(frame(lessons)).collect()
    expected = {
        key: counts
        for key, counts in cells(lessons).items()
        if counts[1] >= MIN_OPPORTUNITIES and counts[2] >= 3
    }
    keys = [tuple(row) for row in got.select(CELL_COLUMNS[:6]).iter_rows()]
    lesson_keys = [k for k in keys if k[1] != "lesson"]  # a lesson cell's span may be its run
    assert set(lesson_keys) == {k for k in expected if k[1] != "lesson"}
    assert got.height == len(expected)
    k, n, big_k, big_n = (got[c].to_numpy() for c in ("k", "n", "K", "N"))
    p = stats.hypergeom.sf(k - 1, big_n, big_k, n)
    assert got["p"].to_numpy() == pytest.approx(p, rel=1e-12)
    assert got["q"].to_numpy() == pytest.approx(
        stats.false_discovery_control(p, method="bh"), rel=1e-12
    )
