"""The site's own plans (fravaer.site, docs/site.md), each against a plain-Python reference:
the school year's parts of the municipality's trend, the quarter rule's counts per school and
the order of a school's agenda for Samrum."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

import polars as pl
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from fravaer import schema as s
from fravaer.site import AGENDA_STEP, RISE, agenda, quarter_flag_counts, school_year_parts
from fravaer.stats import MUNICIPALITY, school_year
from tests.profiles import examples

# -- the school year's parts ----------------------------------------------------------------------

PART_OF_MONTH = {8: 0, 9: 0, 10: 1, 11: 1, 12: 1, 1: 2, 2: 2, 3: 2, 4: 3, 5: 3, 6: 3, 7: 3}
"""August–September, October–December, January–March, April–July."""


def reference_parts(first_year: int, as_of: date) -> list[tuple[date, date]]:
    """Every day of the school year, put in its part by its month; the runs of one part."""
    year = school_year(first_year)
    runs: list[list[date]] = []
    day = year.start
    while day <= year.end:
        if not runs or PART_OF_MONTH[day.month] != PART_OF_MONTH[runs[-1][-1].month]:
            runs.append([])
        runs[-1].append(day)
        day += timedelta(days=1)
    return [(run[0], run[-1]) for run in runs if run[0] <= as_of]


@settings(max_examples=examples(200), deadline=None)
@given(first_year=st.integers(1990, 2090), offset=st.integers(-5, 400))
@example(first_year=2023, offset=61)  # 2023-10-01, the second part's first day
@example(first_year=2023, offset=60)  # 2023-09-30, the day before it
@example(first_year=2023, offset=0)  # the school year's first day
@example(first_year=2023, offset=365)  # 2024-07-31 (a leap year), its last
def test_the_school_year_parts_are_its_quarters_cut_to_it(first_year: int, offset: int) -> None:
    as_of = date(first_year, 8, 1) + timedelta(days=offset)
    parts = school_year_parts(school_year(first_year), as_of=as_of)

    assert [(p.start, p.end) for p in parts] == reference_parts(first_year, as_of)
    assert all(p.label == f"{p.start.isoformat()}:{p.end.isoformat()}" for p in parts)


def test_the_parts_of_2023_24() -> None:
    parts = school_year_parts(school_year(2023), as_of=date(2024, 7, 31))

    assert [p.label for p in parts] == [
        "2023-08-01:2023-09-30",
        "2023-10-01:2023-12-31",
        "2024-01-01:2024-03-31",
        "2024-04-01:2024-07-31",
    ]
    assert school_year_parts(school_year(2023), as_of=date(2023, 7, 31)) == []


# -- the quarter rule's flags per school ----------------------------------------------------------

FLAGS = [s.FLAG_NONE, s.FLAG_WARN, s.FLAG_NOTIFY, None]


@settings(max_examples=examples(100), deadline=None)
@given(st.lists(st.tuples(st.sampled_from("ABC"), st.sampled_from(FLAGS)), max_size=30))
def test_quarter_flag_counts_count_each_school_s_flags(rows: list[tuple[str, str | None]]) -> None:
    listed = pl.LazyFrame(
        {s.SCHOOL_ID: [r[0] for r in rows], s.QUARTER_FLAG: [r[1] for r in rows]},
        schema={s.SCHOOL_ID: pl.String, s.QUARTER_FLAG: pl.String},
    )
    got = quarter_flag_counts(listed).collect()

    counted = Counter(rows)
    schools = sorted({school for school, _ in rows})
    expected = [
        (school, counted[(school, s.FLAG_WARN)], counted[(school, s.FLAG_NOTIFY)], False)
        for school in schools
    ]
    expected.append(
        (
            None,
            sum(1 for _, flag in rows if flag == s.FLAG_WARN),
            sum(1 for _, flag in rows if flag == s.FLAG_NOTIFY),
            True,
        )
    )
    assert got.rows() == expected
    assert got.columns[-1] == MUNICIPALITY


# -- the agenda -----------------------------------------------------------------------------------

pupils = st.lists(
    st.tuples(
        st.sampled_from("AB"),  # school
        st.sampled_from([None, 0, 1, 2, 3]),  # step, its threshold 2 included
        st.sampled_from(FLAGS),
        st.sampled_from([10.0, 15.0, 16.5, 20.0]),  # absence %, few values: ties in the rise
        st.sampled_from([None, 10.0, 15.0, 16.5, 20.0]),  # % three weeks before
    ),
    max_size=25,
)


def reference_agenda(rows: list[tuple[str, int | None, str | None, float, float | None]]) -> list:
    chosen = [
        (f"{i:03d}", *row)
        for i, row in enumerate(rows)
        if (row[1] is not None and row[1] >= AGENDA_STEP) or row[2] == s.FLAG_NOTIFY
    ]

    def rise(row: tuple) -> float | None:
        return None if row[5] is None else row[4] - row[5]

    def key(row: tuple) -> tuple:
        pupil, school, step = row[0], row[1], row[2]
        up = rise(row)
        return (school, step is None, -(step or 0), up is None, -(up or 0.0), pupil)

    return [(row[0], rise(row)) for row in sorted(chosen, key=key)]


@settings(max_examples=examples(150), deadline=None)
@given(pupils)
def test_the_agenda_is_the_pupils_from_step_2_by_step_then_rise(
    rows: list[tuple[str, int | None, str | None, float, float | None]],
) -> None:
    ids = [f"{i:03d}" for i in range(len(rows))]
    listed = pl.LazyFrame(
        {
            s.PUPIL_ID: ids,
            s.SCHOOL_ID: [r[0] for r in rows],
            s.STEP: [r[1] for r in rows],
            s.QUARTER_FLAG: [r[2] for r in rows],
            s.ABSENCE_PCT: [r[3] for r in rows],
        },
        schema={
            s.PUPIL_ID: pl.String,
            s.SCHOOL_ID: pl.String,
            s.STEP: pl.Int8,
            s.QUARTER_FLAG: pl.String,
            s.ABSENCE_PCT: pl.Float64,
        },
    )
    moved = pl.LazyFrame(
        {
            s.PUPIL_ID: ids,
            "pct_before": [r[4] for r in rows],
            "weeks_back": [3] * len(rows),
            "direction": ["flat"] * len(rows),
        },
        schema={
            s.PUPIL_ID: pl.String,
            "pct_before": pl.Float64,
            "weeks_back": pl.Int64,
            "direction": pl.String,
        },
    )
    found = pl.LazyFrame(
        {s.PUPIL_ID: ids, s.SCHOOL_ID: [r[0] for r in rows], "flags": [""] * len(rows)},
        schema={s.PUPIL_ID: pl.String, s.SCHOOL_ID: pl.String, "flags": pl.String},
    )

    got = agenda(listed, moved, found).collect()

    assert list(zip(got[s.PUPIL_ID], got[RISE], strict=True)) == reference_agenda(rows)


@pytest.mark.parametrize(
    ("step", "flag", "on"),
    [(1, s.FLAG_WARN, False), (1, None, False), (1, s.FLAG_NOTIFY, True), (2, None, True)],
)
def test_the_agenda_begins_at_step_2_or_a_notification(
    step: int, flag: str | None, on: bool
) -> None:
    listed = pl.LazyFrame(
        {
            "pupil_id": ["1"],
            "school_id": ["A"],
            "step": [step],
            "quarter_flag": [flag],
            "absence_pct": [15.0],
        },
        schema_overrides={"quarter_flag": pl.String},
    )
    moved = pl.LazyFrame(
        {"pupil_id": ["1"], "pct_before": [12.0], "weeks_back": [3], "direction": ["rising"]}
    )
    found = pl.LazyFrame({"pupil_id": ["1"], "flags": ["run"]})

    got = agenda(listed, moved, found).collect()

    assert got.height == int(on)
    if on:
        assert (got["rise"][0], got["direction"][0], got["flags"][0]) == (3.0, "rising", "run")
