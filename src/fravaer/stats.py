"""School statistics the way the ministry counts them, with small-cell suppression (docs/stats.md).

The unit of the statistics is a pupil *at a school* in a period: a pupil who changed school
counts at each school, for that school's own days (the distinct dates of the pupil's rows at
that school in the period). Grouping by grade or class makes the unit a pupil at a school in a
grade or class, so a pupil who moved class counts in each class for that class's own days.

Two methods of averaging are reported side by side:

* ``absence_pct`` (the ministry's): the mean of the units' absence percentages, each weighted by
  the number of calendar months in which the unit has a registration;
* ``absence_pct_pooled``: all absent days of the group divided by all its school days.

Bands (``0-5 %``, ``5.01-10 %``, ``over 10 %``) are decided exactly in integer day units: a unit
at exactly 5 % is in the first band, at exactly 10 % in the second. Steps are the guideline's,
from :func:`fravaer.classify.classify` at the end of the period (or the as-of date, if earlier),
counted at the school, grade and class where the pupil was last registered.

Everything before :func:`suppress` is lazy; :func:`suppress` works on the small collected table.
"""

from __future__ import annotations

import re
from collections import defaultdict, deque
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Final, Literal

import polars as pl

from fravaer import schema as s
from fravaer.classify import classify, pupil_partition_expr, school_dates_until
from fravaer.errors import UsageError
from fravaer.policy import SCHOOL_YEAR_START, Policy
from fravaer.window import UNITS, with_units

# -- output columns (the contract of `fravaer stats`) ----------------------------------------
PERIOD: Final = "period"
PUPILS: Final = "pupils"
SCHOOL_DAYS: Final = "school_days"
ABSENCE_PCT: Final = s.ABSENCE_PCT
ABSENCE_PCT_POOLED: Final = "absence_pct_pooled"
ILLNESS_PCT: Final = "illness_pct"
LEAVE_PCT: Final = "leave_pct"
UNLAWFUL_PCT: Final = "unlawful_pct"
CATEGORY_PCT: Final = {s.ILLNESS: ILLNESS_PCT, s.LEAVE: LEAVE_PCT, s.UNLAWFUL: UNLAWFUL_PCT}
PUPILS_0_5: Final = "pupils_0_5"
PUPILS_5_10: Final = "pupils_5_10"
PUPILS_OVER_10: Final = "pupils_over_10"
SHARE_OVER_10: Final = "share_over_10"
SUPPRESSED: Final = "suppressed"

GROUP_COLUMNS: Final = (s.SCHOOL_ID, s.GRADE, s.CLASS_NAME)
"""The group columns in the order they appear, whichever of them ``--by`` asks for."""

BY_CHOICES: Final = {
    "school": (s.SCHOOL_ID,),
    "grade": (s.GRADE,),
    # A class exists only within its school: 7.B at two schools are two classes.
    "class": (s.SCHOOL_ID, s.CLASS_NAME),
}

MUNICIPALITY: Final = "_municipality"
"""Internal marker of the municipality row (dropped from the output by :func:`contract_columns`)."""

MIN_CELL_DEFAULT: Final = 10
MIN_CELL_FLOOR: Final = 5

FRESHNESS_LAG_DAYS: Final = 5
LATEST_DATE: Final = "latest_date"
DAYS_BEHIND: Final = "school_days_behind"

# -- reference figures ------------------------------------------------------------------------
REF_PERIOD: Final = "period"
REF_MEASURE: Final = "measure"
REF_VALUE: Final = "value"
REF_SOURCE: Final = "source"
REFERENCE_COLUMNS: Final = (REF_PERIOD, REF_MEASURE, REF_VALUE, REF_SOURCE)
REFERENCE_MEASURES: Final = (ABSENCE_PCT, SHARE_OVER_10)

# internal per-unit columns
_MONTH = "_month"
_DAYS = "_days"
_MONTHS = "_months"
_ABSENT = "_absent"
_STEP = "_step"
_ORDER = "_order"


def step_column(step: int) -> str:
    """``pupils_step_<n>``: pupils at step ``n`` at the end of the period."""
    return f"pupils_step_{step}"


def metric_columns(policy: Policy) -> list[str]:
    """The columns after ``period`` in the contract; one ``pupils_step_<n>`` per policy step."""
    return [
        PUPILS,
        SCHOOL_DAYS,
        ABSENCE_PCT,
        ABSENCE_PCT_POOLED,
        ILLNESS_PCT,
        LEAVE_PCT,
        UNLAWFUL_PCT,
        PUPILS_0_5,
        PUPILS_5_10,
        PUPILS_OVER_10,
        SHARE_OVER_10,
        *(step_column(step.step) for step in policy.steps),
    ]


def contract_columns(keys: Sequence[str], policy: Policy) -> list[str]:
    """The machine-format columns, in order: group columns, period, metrics, ``suppressed``."""
    return [*keys, PERIOD, *metric_columns(policy), SUPPRESSED]


# -- periods ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """A labelled date range, both ends included."""

    label: str
    start: date
    end: date
    kind: Literal["school_year", "quarter", "range"]

    def until(self, as_of: date) -> date:
        """The last day counted: the period's end, or ``as_of`` when it comes first."""
        return min(self.end, as_of)


_SCHOOL_YEAR = re.compile(r"^(\d{4})/(\d{2})$")
_QUARTER = re.compile(r"^(\d{4})[Qq]([1-4])$")
_RANGE = re.compile(r"^(\d{4}-\d{2}-\d{2}):(\d{4}-\d{2}-\d{2})$")


def school_year(first_year: int) -> Period:
    """The school year starting 1 August of ``first_year``.

    >>> school_year(2023)
    Period(label='2023/24', start=datetime.date(2023, 8, 1), end=datetime.date(2024, 7, 31), kind='school_year')
    """  # noqa: E501
    month, day = SCHOOL_YEAR_START
    start = date(first_year, month, day)
    end = date(first_year + 1, month, day) - timedelta(days=1)
    return Period(f"{first_year}/{(first_year + 1) % 100:02d}", start, end, "school_year")


FIRST_PERIOD_YEAR: Final = 1900
LAST_PERIOD_YEAR: Final = 9998
"""A period lies within the years 1900 to 9998 (docs/stats.md#periods): ingest refuses dates
before 1900, and a period's measures look at the day after it, which Python's dates (ending
9999-12-31) cannot always give in year 9999."""


def parse_period(text: str) -> Period:
    """A period written ``2023/24`` (school year), ``2024Q1`` (quarter) or ``FROM:TO`` (dates),
    within the years :data:`FIRST_PERIOD_YEAR` to :data:`LAST_PERIOD_YEAR`.

    >>> parse_period("2024Q1").end, parse_period("2024-01-08:2024-01-12").label
    (datetime.date(2024, 3, 31), '2024-01-08:2024-01-12')
    >>> parse_period("9999Q4")
    Traceback (most recent call last):
    ...
    fravaer.errors.UsageError: --period: '9999Q4' is not within the years 1900 to 9998
    """
    text = text.strip()
    years = [int(year) for year in re.findall(r"\d{4}", text)]
    if years and not all(FIRST_PERIOD_YEAR <= y <= LAST_PERIOD_YEAR for y in years):
        raise UsageError(
            f"--period: '{text}' is not within the years {FIRST_PERIOD_YEAR} to {LAST_PERIOD_YEAR}"
        )
    if match := _SCHOOL_YEAR.match(text):
        first = int(match[1])
        if (first + 1) % 100 != int(match[2]):
            raise UsageError(f"--period: a school year is written like 2023/24, not '{text}'")
        return school_year(first)
    if match := _QUARTER.match(text):
        year, quarter = int(match[1]), int(match[2])
        start = date(year, 3 * quarter - 2, 1)
        end = (date(year + 1, 1, 1) if quarter == 4 else date(year, 3 * quarter + 1, 1)) - (
            timedelta(days=1)
        )
        return Period(f"{year}Q{quarter}", start, end, "quarter")
    if match := _RANGE.match(text):
        try:
            start, end = date.fromisoformat(match[1]), date.fromisoformat(match[2])
        except ValueError:
            raise UsageError(f"--period: '{text}' holds a date that does not exist") from None
        if end < start:
            raise UsageError(f"--period: '{text}' ends before it starts")
        return Period(text, start, end, "range")
    raise UsageError(
        f"--period: cannot read '{text}'",
        hint="write a school year (2023/24), a quarter (2024Q1) or a range "
        "(2024-01-01:2024-03-31); separate several with commas",
    )


def parse_periods(text: str | None, *, as_of: date) -> list[Period]:
    """Comma-separated periods; none given means the school year containing ``as_of``.

    >>> [p.label for p in parse_periods(None, as_of=date(2024, 3, 8))]
    ['2023/24']
    """
    if text is None:
        month, day = SCHOOL_YEAR_START
        first = as_of.year if (as_of.month, as_of.day) >= (month, day) else as_of.year - 1
        return [school_year(first)]
    periods = [parse_period(part) for part in text.split(",") if part.strip()]
    if not periods:
        raise UsageError("--period: no period given")
    labels = [p.label for p in periods]
    if len(set(labels)) != len(labels):
        raise UsageError("--period: a period is given twice")
    for period in periods:
        if period.start > as_of:
            raise UsageError(
                f"--period: {period.label} starts after the as-of date {as_of.isoformat()}"
            )
    return periods


def parse_by(text: str) -> tuple[str, ...]:
    """The group columns for ``--by`` (``school``, ``grade``, ``class``, comma-separated).

    >>> parse_by("grade,school"), parse_by("class")
    (('school_id', 'grade'), ('school_id', 'class_name'))
    """
    wanted: set[str] = set()
    for part in (p.strip() for p in text.split(",")):
        if part not in BY_CHOICES:
            raise UsageError(
                f"--by: unknown grouping '{part}'",
                hint="group by school, grade or class, or several joined by commas",
            )
        wanted.update(BY_CHOICES[part])
    return tuple(c for c in GROUP_COLUMNS if c in wanted)


# -- measuring ----------------------------------------------------------------------------------


def _month_level(frame: pl.LazyFrame, period: Period, as_of: date, keys: list[str]) -> pl.LazyFrame:
    """Days and absence units per pupil, school, group and calendar month of the period."""
    rows = with_units(frame, as_of=period.until(as_of)).filter(pl.col(s.DATE) >= period.start)
    month = (pl.col(s.DATE).dt.year().cast(pl.Int32) * 12 + pl.col(s.DATE).dt.month()).alias(_MONTH)
    return rows.group_by(s.PUPIL_ID, *keys, month).agg(
        pl.col(s.DATE).n_unique().cast(pl.Int64).alias(_DAYS),
        *(
            pl.col(UNITS).filter(pl.col(s.CATEGORY) == c).sum().alias(s.CATEGORY_UNITS[c])
            for c in s.ABSENCE_CATEGORIES
        ),
    )


def _units(months: pl.LazyFrame, keys: list[str]) -> pl.LazyFrame:
    """One row per pupil at a school (and group): days, months with registrations, units."""
    return (
        months.group_by(s.PUPIL_ID, *keys)
        .agg(
            pl.col(_DAYS).sum(),
            pl.col(_MONTH).n_unique().cast(pl.Int64).alias(_MONTHS),
            *(pl.col(s.CATEGORY_UNITS[c]).sum() for c in s.ABSENCE_CATEGORIES),
        )
        .with_columns(
            pl.sum_horizontal(pl.col(s.CATEGORY_UNITS[c]) for c in s.ABSENCE_CATEGORIES).alias(
                _ABSENT
            )
        )
    )


def _with_steps(units: pl.LazyFrame, steps: pl.LazyFrame, keys: list[str]) -> pl.LazyFrame:
    """Each unit with the pupil's step if it is where the pupil was last registered, else null."""
    latest = steps.select(s.PUPIL_ID, *keys, pl.col(s.STEP).alias(_STEP))
    return units.join(latest, on=[s.PUPIL_ID, *keys], how="left", nulls_equal=True)


_SCALE = 1 << 14
"""Fixed-point scale of the ministry's weighted terms (see :func:`_weighted_pct`)."""


def _weighted_pct(units: pl.Expr) -> pl.Expr:
    """The ministry's mean: units' percentages weighted by their months with registrations.

    Each term ``months x units / days`` is summed as an integer in 1/16384 day units, so the
    result does not depend on the order in which the engine adds the terms (a float sum does,
    in the last digits). The error is below 4e-10 percentage points; Int64 holds the sum for
    500,000 pupils of 36 months each at 100 % absence.
    """
    term = (pl.col(_MONTHS) * units * _SCALE) // pl.col(_DAYS)
    weight = pl.col(_MONTHS).sum()
    return pl.when(weight > 0).then(100.0 * term.sum() / (weight * _SCALE * s.DAY_UNITS))


def _aggregations(policy: Policy) -> list[pl.Expr]:
    absent, days = pl.col(_ABSENT), pl.col(_DAYS)
    over_10 = absent * 10 > days * s.DAY_UNITS  # exactly: 100 * absent / (days * D) > 10
    upto_5 = absent * 20 <= days * s.DAY_UNITS  # exactly: ... <= 5
    pupils = pl.len().cast(pl.Int64)
    total_days = days.sum().cast(pl.Int64)
    return [
        pupils.alias(PUPILS),
        total_days.alias(SCHOOL_DAYS),
        _weighted_pct(absent).alias(ABSENCE_PCT),
        pl.when(total_days > 0)
        .then(100.0 * absent.sum() / (total_days * s.DAY_UNITS))
        .alias(ABSENCE_PCT_POOLED),
        *(
            _weighted_pct(pl.col(s.CATEGORY_UNITS[c])).alias(CATEGORY_PCT[c])
            for c in s.ABSENCE_CATEGORIES
        ),
        upto_5.sum().cast(pl.Int64).alias(PUPILS_0_5),
        (~upto_5 & ~over_10).sum().cast(pl.Int64).alias(PUPILS_5_10),
        over_10.sum().cast(pl.Int64).alias(PUPILS_OVER_10),
        pl.when(pupils > 0).then(100.0 * over_10.sum() / pupils).alias(SHARE_OVER_10),
        *(
            (pl.col(_STEP) == step.step).sum().cast(pl.Int64).alias(step_column(step.step))
            for step in policy.steps
        ),
    ]


def _school_keys(keys: list[str]) -> list[str]:
    return [s.SCHOOL_ID, *(k for k in keys if k != s.SCHOOL_ID)]


def _months(
    frame: pl.LazyFrame, period: Period, *, as_of: date, keys: list[str], parts: int
) -> pl.LazyFrame:
    """:func:`_month_level` of ``period``, for each bucket of pupils when ``parts`` > 1."""
    # Like classify, the month level is aggregated one bucket of pupils after another when the
    # year is large: each pupil-month's dates are held for a part of the pupils only
    # (docs/performance.md#what-one-machine-holds). A pupil's rows are all in one bucket.
    return pl.concat(
        [
            _month_level(frame.filter(pupil_partition_expr(k, parts)), period, as_of, keys)
            for k in range(1, parts + 1)
        ]
        if parts > 1
        else [_month_level(frame, period, as_of, keys)],
        parallel=False,
    )


def _month_number(day: date) -> int:
    """The calendar month of ``day`` as :func:`_month_level` numbers it."""
    return day.year * 12 + day.month


def whole_months(period: Period, *, as_of: date) -> bool:
    """Does ``period`` count whole calendar months, but for a last month cut at ``as_of``?

    Then its month level is the rows of its months in a month level of a longer span cut at
    ``as_of`` (:func:`stats` computes one for several such periods).

    >>> whole_months(school_year(2023), as_of=date(2024, 3, 8))
    True
    >>> whole_months(parse_period("2024-01-01:2024-03-15"), as_of=date(2024, 6, 1))
    False
    >>> whole_months(parse_period("2024-01-01:2024-03-15"), as_of=date(2024, 3, 10))
    True
    """
    until = period.until(as_of)
    return period.start.day == 1 and (until == as_of or (until + timedelta(days=1)).day == 1)


def _shared_months(
    frame: pl.LazyFrame, periods: Sequence[Period], *, as_of: date, keys: list[str], parts: int
) -> list[pl.LazyFrame | None]:
    """Each period's month level when several periods count whole months
    (:func:`whole_months`): the rows of its months in one month level over all of them, which
    is computed once (a year and its parts read the rows once, not once each). None: the
    period computes its own."""
    shared = [p for p in periods if p.start <= as_of and whole_months(p, as_of=as_of)]
    if len(shared) < 2:  # one period has nothing to share
        return [None] * len(periods)
    span = Period("", min(p.start for p in shared), max(p.until(as_of) for p in shared), "range")
    months = _months(frame, span, as_of=as_of, keys=keys, parts=parts).cache()
    return [
        months.filter(
            pl.col(_MONTH).is_between(_month_number(p.start), _month_number(p.until(as_of)))
        )
        if p in shared
        else None
        for p in periods
    ]


def _period_stats(
    frame: pl.LazyFrame,
    period: Period,
    *,
    keys: list[str],
    as_of: date,
    policy: Policy,
    parts: int,
    classified: pl.LazyFrame | None = None,
    months: pl.LazyFrame | None = None,
    school_days: pl.DataFrame | None = None,
) -> pl.LazyFrame:
    school_keys = _school_keys(keys)
    if months is None:
        months = _months(frame, period, as_of=as_of, keys=school_keys, parts=parts)
    if classified is not None and period.until(as_of) == as_of:
        steps = classified
    else:
        steps = classify(
            frame,
            policy=policy,
            as_of=period.until(as_of),
            parts=parts,
            school_days=school_days,
        )
    aggs = _aggregations(policy)
    units = _with_steps(_units(months, school_keys), steps, school_keys)
    groups = units.group_by(keys).agg(aggs).with_columns(pl.lit(False).alias(MUNICIPALITY))
    if school_keys == [s.SCHOOL_ID]:
        school_units = units
    else:  # the municipality counts each pupil once per school, whatever the grouping
        school_units = _with_steps(_units(months, [s.SCHOOL_ID]), steps, [s.SCHOOL_ID])
    total = school_units.select(aggs).with_columns(
        *(pl.lit(None, dtype=s.CANONICAL_SCHEMA[k]).alias(k) for k in keys),
        pl.lit(True).alias(MUNICIPALITY),
    )
    return pl.concat(
        [groups.sort(keys, nulls_last=True), total], how="diagonal_relaxed"
    ).with_columns(pl.lit(period.label).alias(PERIOD))


def stats(
    frame: pl.LazyFrame,
    *,
    by: Sequence[str],
    periods: Sequence[Period],
    as_of: date,
    policy: Policy,
    parts: int = 1,
    classified: pl.LazyFrame | None = None,
    school_days: pl.DataFrame | None = None,
) -> pl.LazyFrame:
    """Statistics per group and for the whole municipality, for each period (not suppressed).

    Parameters
    ----------
    frame
        The canonical attendance frame (docs/data-format.md).
    by
        Group columns, a subset of :data:`GROUP_COLUMNS` in that order (see :func:`parse_by`).
    periods
        The periods; each counts the rows from its start to its end or ``as_of``, whichever is
        first. Several periods give a trend table: their rows follow each other.
    as_of
        No row after this date is counted, and steps are taken at the period's end or here.
    policy
        The guideline whose steps are counted (``pupils_step_<n>``).
    parts
        Classify the pupils in this many buckets, one after another (the same result, less
        memory: :func:`fravaer.classify.classify`).
    classified
        :func:`fravaer.classify.classify` of ``frame`` with ``policy`` at ``as_of`` (with or
        without a national policy), when the caller has it already (the site): a period that
        runs to ``as_of`` takes its steps from it rather than classifying again.
    school_days
        Each school's dates (:func:`fravaer.classify.school_dates` of ``frame``) when the
        caller read them with the as-of date: the periods' classifications read no row again
        for the "has left" rule.

    Returns
    -------
    pl.LazyFrame
        Per period the groups sorted by their columns, then the municipality row (group columns
        empty); columns :func:`contract_columns`, ``suppressed`` false, plus the internal
        ``_municipality`` marker that :func:`suppress` uses.

    Examples
    --------
    Two pupils at one school over ten days: one is absent 1 day (10 %, the 5.01-10 % band), the
    other half a day (5 %, the 0-5 % band):

    >>> from datetime import date, timedelta
    >>> from fravaer import load_policy
    >>> days = [date(2024, 1, 1) + timedelta(days=i) for i in range(10)]
    >>> frame = pl.LazyFrame(
    ...     {"pupil_id": ["1"] * 10 + ["2"] * 10, "school_id": ["A"] * 20, "date": days * 2,
    ...      "category": ["illness"] + ["present"] * 9 + ["leave"] + ["present"] * 9,
    ...      "absent_fraction": [1.0] + [0.0] * 9 + [0.5] + [0.0] * 9},
    ...     schema_overrides={"category": s.CATEGORY_DTYPE},
    ... ).with_columns(grade=pl.lit(1, pl.Int8), class_name=pl.lit("1.A"))
    >>> out = stats(frame, by=["school_id"], periods=[parse_period("2024Q1")],
    ...             as_of=days[-1], policy=load_policy("aalborg-2023")).collect()
    >>> out.select("school_id", "pupils", "absence_pct", "pupils_0_5", "pupils_5_10").rows()
    [('A', 2, 7.5, 1, 1), (None, 2, 7.5, 1, 1)]
    """
    keys = list(by)
    months = _shared_months(frame, periods, as_of=as_of, keys=_school_keys(keys), parts=parts)
    tables = [
        _period_stats(
            frame,
            period,
            keys=keys,
            as_of=as_of,
            policy=policy,
            parts=parts,
            classified=classified,
            months=shared,
            school_days=school_days,
        ).with_columns(pl.lit(i).alias(_ORDER))
        for i, (period, shared) in enumerate(zip(periods, months, strict=True))
    ]
    return (
        pl.concat(tables, how="vertical_relaxed")
        .with_columns(pl.lit(False).alias(SUPPRESSED))
        .select(*contract_columns(keys, policy), MUNICIPALITY)
    )


# -- freshness ----------------------------------------------------------------------------------


def freshness(
    frame: pl.LazyFrame, *, as_of: date, school_days: pl.DataFrame | None = None
) -> pl.LazyFrame:
    """Each school's latest registration on or before ``as_of``, and how far it lags.

    ``school_days_behind`` counts the dates with a registration at any school after the school's
    latest date, up to the newest date in the data. Sorted by school. Read off each school's
    distinct dates: ``school_days`` (:func:`fravaer.classify.school_dates` of ``frame``) when
    the caller has read them, and the rows are not read again; else from the rows.

    >>> from datetime import date
    >>> frame = pl.LazyFrame({"school_id": ["A", "A", "B"],
    ...     "date": [date(2024, 3, 4), date(2024, 3, 5), date(2024, 3, 4)]})
    >>> freshness(frame, as_of=date(2024, 3, 8)).collect().rows()
    [('A', datetime.date(2024, 3, 5), 0), ('B', datetime.date(2024, 3, 4), 1)]
    """
    days = school_dates_until(frame, as_of, school_days=school_days)
    dates = days.select(pl.col(s.DATE).unique().alias("_d"))
    latest = days.group_by(s.SCHOOL_ID).agg(pl.col(s.DATE).max().alias(LATEST_DATE))
    behind = (
        latest.join(dates, how="cross")
        .group_by(s.SCHOOL_ID, LATEST_DATE)
        .agg((pl.col("_d") > pl.col(LATEST_DATE)).sum().cast(pl.Int64).alias(DAYS_BEHIND))
    )
    return behind.sort(s.SCHOOL_ID)


# -- suppression ----------------------------------------------------------------------------


def _publishable(keys: frozenset[str]) -> bool:
    """Whether a grouping can be asked for: a class is only ever grouped with its school."""
    return s.CLASS_NAME not in keys or s.SCHOOL_ID in keys


def _rows_and_columns(
    cells: Sequence[tuple[object, ...]], keys: Sequence[str]
) -> list[tuple[tuple[str, ...], tuple[object, ...], list[int]]]:
    """:func:`lines` with each line's total: its grouping and that grouping's values."""
    found: list[tuple[tuple[str, ...], tuple[object, ...], list[int]]] = []
    for d, column in enumerate(keys):
        rest = tuple(k for k in keys if k != column)
        if not _publishable(frozenset(rest)):
            continue
        by_rest: dict[tuple[object, ...], list[int]] = defaultdict(list)
        for i, cell in enumerate(cells):
            by_rest[tuple(v for j, v in enumerate(cell) if j != d)].append(i)
        found += [(rest, value, indexes) for value, indexes in by_rest.items()]
    return found


def lines(cells: Sequence[tuple[object, ...]], keys: Sequence[str]) -> list[list[int]]:
    """The rows and columns of a grouped table, as lists of cell indexes.

    For each group column, the cells that agree on all the other group columns form a line whose
    total is a grouping that can be published too (by another ``--by``); with one group column,
    all cells form one line whose total is the municipality. Lines whose total cannot be asked
    for (a class across schools) are left out.

    >>> lines([("A", 1), ("A", 2), ("B", 1)], ["school_id", "grade"])
    [[0, 2], [1], [0, 1], [2]]
    """
    return [indexes for _, _, indexes in _rows_and_columns(cells, keys)]


@dataclass(frozen=True)
class Line:
    """Rows whose figures add up to a total, as a reader can add them up.

    Pupils, school days, absent days and the band and step counts of ``cells`` add up to the
    total's. ``total`` is the index of the row that holds the total when the same output shows
    it (the municipality row), so it can be hidden too; None when only another grouping shows
    it (a school's total in ``--by school,class`` comes from ``--by school``), so it is taken as
    known and cannot be hidden here.
    """

    cells: tuple[int, ...]
    total: int | None = None

    @property
    def members(self) -> tuple[int, ...]:
        """The cells and, when this output shows it, the total."""
        return self.cells if self.total is None else (*self.cells, self.total)


def protect(
    sizes: Sequence[int],
    all_lines: Sequence[Line],
    *,
    min_cell: int,
    hidden_elsewhere: Collection[int] = (),
) -> set[int]:
    """Indexes of the rows to hide so that no line hides exactly one of its members.

    A row with fewer than ``min_cell`` pupils (but some) is hidden (primary suppression). While
    a line hides exactly one member, that member is its total minus the others, so one more of
    its cells is hidden (complementary suppression); the line's total only when every cell is
    hidden already. The cell chosen is, in this order: not alone in a line (a cell alone equals
    a total that another grouping publishes), one that makes the fewest new lines with exactly
    one hidden member (and closes the most), the fewest pupils, the first row. Last, complements
    that turned out not to be needed are shown again, largest first, so every hidden row with
    ``min_cell`` pupils or more is the second hidden member of some line.

    ``hidden_elsewhere`` are rows hidden from the start whatever their size: the totals that
    the coarser grouping which publishes them hides (see :func:`suppress`). A line of one cell
    whose total only another grouping shows cannot be protected here (see docs/stats.md, known
    limits).

    >>> protect([3, 40, 12, 55], [Line((0, 1, 2), total=3)], min_cell=10)
    {0, 2}
    """
    primary = {i for i, n in enumerate(sizes) if 0 < n < min_cell} | set(hidden_elsewhere)
    hidden = set(primary)
    of: dict[int, list[int]] = defaultdict(list)
    for k, line in enumerate(all_lines):
        for i in line.members:
            of[i].append(k)
    count = [sum(i in hidden for i in line.members) for line in all_lines]
    alone = {line.cells[0] for line in all_lines if line.total is None and len(line.cells) == 1}

    def protectable(k: int) -> bool:
        return len(all_lines[k].members) > 1

    def exposed(k: int) -> bool:
        return count[k] == 1 and protectable(k)

    def cost(i: int, k: int) -> tuple[bool, int, int, int]:
        others = [m for m in of[i] if m != k and protectable(m)]
        new = sum(count[m] == 0 for m in others) - sum(count[m] == 1 for m in others)
        return (i in alone, new, sizes[i], i)

    work = deque(k for k in range(len(all_lines)) if exposed(k))
    while work:
        k = work.popleft()
        if not exposed(k):
            continue
        line = all_lines[k]
        shown = [i for i in line.cells if i not in hidden]
        if not shown and line.total is not None:
            shown = [line.total]  # its one cell is hidden: only the total is left
        pick = min(shown, key=lambda i: cost(i, k))
        hidden.add(pick)
        for m in of[pick]:
            count[m] += 1
            if exposed(m):
                work.append(m)
    for i in sorted(hidden - primary, key=lambda i: (-sizes[i], -i)):
        if not any(count[m] == 2 and protectable(m) for m in of[i]):
            hidden.discard(i)
            for m in of[i]:
                count[m] -= 1
    return hidden


def hidden_cells(
    cells: Sequence[tuple[object, ...]],
    sizes: Sequence[int],
    keys: Sequence[str],
    *,
    min_cell: int,
) -> set[int]:
    """Indexes of the cells of one grouped table to hide, its total taken as shown elsewhere.

    :func:`protect` over the rows and columns of :func:`lines` (with several group columns) and
    the line of all cells, all with totals taken as known and shown; :func:`suppress` protects
    an output's municipality row with its groups, and knows what coarser groupings hide.

    >>> sorted(hidden_cells([("A",), ("B",), ("C",)], [3, 40, 12], ["school_id"], min_cell=10))
    [0, 2]
    """
    found = [Line(tuple(line)) for line in lines(cells, keys)] if len(keys) > 1 else []
    return protect(sizes, [*found, Line(tuple(range(len(cells))))], min_cell=min_cell)


def _weekday(day: date) -> date:
    """The first Monday-to-Friday date on or after ``day``: no school is held at weekends."""
    return day + timedelta(days=7 - day.weekday() if day.weekday() >= 5 else 0)


def tilings(spans: Sequence[tuple[date, date]]) -> list[tuple[int, list[int]]]:
    """Periods that cover another's weekdays one for one: ``(whole, parts)`` pairs.

    ``spans`` are the periods' first and last counted days. Over parts that hold each weekday
    of the whole exactly once (weekends between them do not matter: no school is held), a
    group's school days and absent days add up to the whole's (pupils do not: a pupil can be
    in several), so they form a line as the groups of a period do.

    >>> d = date.fromisoformat
    >>> tilings([(d("2024-01-08"), d("2024-01-19")), (d("2024-01-08"), d("2024-01-12")),
    ...          (d("2024-01-15"), d("2024-01-19"))])
    [(0, [1, 2])]
    """
    found: list[tuple[int, list[int]]] = []
    for whole, (start, end) in enumerate(spans):
        inside = [
            q
            for q, (a, b) in enumerate(spans)
            if q != whole and start <= a and b <= end and _weekday(a) <= b
        ]
        stack: list[tuple[date, list[int]]] = [(_weekday(start), [])]
        while stack:
            cursor, chosen = stack.pop()
            if cursor > end:
                if chosen:
                    found.append((whole, chosen))
                continue
            stack += [
                (_weekday(spans[q][1] + timedelta(days=1)), [*chosen, q])
                for q in reversed(inside)
                if _weekday(spans[q][0]) == cursor
            ]
    return found


def _spans(labels: Sequence[str], as_of: date | None) -> list[tuple[date, date]] | None:
    """The counted days of each period label, or None when a label is not a period."""
    try:
        periods = [parse_period(label) for label in labels]
    except UsageError:
        return None
    return [(p.start, p.end if as_of is None else p.until(as_of)) for p in periods]


def _coarser(table: pl.DataFrame, rest: Sequence[str]) -> pl.DataFrame:
    """The rows ``--by rest`` would publish, pupils added up from ``table``'s, in its order.

    Periods in ``table``'s order, per period the groups sorted by their columns, then the
    municipality row, as :func:`stats` gives them.
    """
    labels = table[PERIOD].unique(maintain_order=True).to_list()
    groups = (
        table.filter(~pl.col(MUNICIPALITY))
        .group_by(PERIOD, *rest)
        .agg(pl.col(PUPILS).sum())
        .with_columns(pl.lit(False).alias(MUNICIPALITY))
    )
    total = table.filter(pl.col(MUNICIPALITY)).select(PERIOD, *rest, PUPILS, MUNICIPALITY)
    order = pl.col(PERIOD).replace_strict(labels, list(range(len(labels))))
    return (
        pl.concat([groups, total], how="diagonal_relaxed")
        .sort(order, MUNICIPALITY, *rest, nulls_last=True)
        .select(PERIOD, *rest, PUPILS, MUNICIPALITY)
    )


def _hidden_rows(
    table: pl.DataFrame, *, keys: Sequence[str], min_cell: int, as_of: date | None
) -> set[int]:
    """The rows of ``table`` to hide: :func:`protect` over all lines of all its periods.

    A row or column whose total a coarser grouping publishes (a school's classes: ``--by
    school``) takes that grouping's own pattern, worked out the same way from the pupils added
    up: where it hides the total, the total counts as a hidden member of the line here. So this
    output neither shows a total that one hides (a school with one class, or all its classes
    shown) nor hides a single group beside a total it shows.
    """
    sizes: list[int] = table[PUPILS].to_list()
    elsewhere: list[int] = []
    hidden_totals: dict[tuple[str, ...], set[tuple[object, ...]]] = {}
    if len(keys) > 1:
        for column in keys:
            rest = tuple(k for k in keys if k != column)
            if _publishable(frozenset(rest)):
                coarse = _coarser(table, rest)
                hidden = _hidden_rows(coarse, keys=rest, min_cell=min_cell, as_of=as_of)
                hidden_totals[rest] = {
                    (row[0], *row[1 : 1 + len(rest)])
                    for i, row in enumerate(coarse.iter_rows())
                    if i in hidden
                }
    all_lines: list[Line] = []
    labels = table[PERIOD].unique(maintain_order=True).to_list()
    numbered = table.with_row_index("_i")
    row_of: list[dict[tuple[object, ...], int]] = []  # per period: row of each group
    for period in labels:
        part = numbered.filter(pl.col(PERIOD) == period)
        groups = part.filter(~pl.col(MUNICIPALITY))
        cells = list(groups.select(keys).iter_rows()) if keys else []
        rows = [*groups["_i"], *part.filter(pl.col(MUNICIPALITY))["_i"]]
        municipality = rows[len(cells)] if len(rows) > len(cells) else None
        for rest, value, indexes in _rows_and_columns(cells, keys) if len(keys) > 1 else []:
            total = None
            if (period, *value) in hidden_totals[rest]:
                total = len(sizes) + len(elsewhere)
                elsewhere.append(total)
            all_lines.append(Line(tuple(rows[i] for i in indexes), total))
        all_lines.append(Line(tuple(rows[: len(cells)]), municipality))
        at = dict(zip(cells, rows, strict=False))
        if municipality is not None:
            at[()] = municipality  # no group has an empty key
        row_of.append(at)
    spans = _spans(labels, as_of)
    for whole, parts in tilings(spans) if spans is not None else []:
        for group, total in row_of[whole].items():
            members = tuple(row_of[q][group] for q in parts if group in row_of[q])
            all_lines.append(Line(members, total))
    hidden = protect(
        [*sizes, *(0 for _ in elsewhere)], all_lines, min_cell=min_cell, hidden_elsewhere=elsewhere
    )
    return {i for i in hidden if i < table.height}


def suppress(
    table: pl.DataFrame, *, keys: Sequence[str], min_cell: int, as_of: date | None = None
) -> pl.DataFrame:
    """Hide small groups and their complements, in all periods at once; hidden cells become null.

    ``table`` is :func:`stats`'s collected result. Per period, the groups and the municipality
    row are protected together (:func:`protect`), with the rows and columns whose totals a
    coarser ``--by`` publishes, known or hidden as that output has them; and where periods of
    the table cover another's weekdays (:func:`tilings`, the periods counted up to ``as_of``),
    each group's rows in the parts and in the whole form a line too. The municipality row is
    hidden when the whole municipality has fewer than ``min_cell`` pupils (but some), or when a
    line has nothing else left to hide. A hidden row keeps its group columns and period, has
    every figure null and ``suppressed`` true.

    School B's one class of one pupil is hidden; the municipality minus school A's classes
    would give it back, so one of A's classes is hidden too. One is enough: ``--by school``
    hides A's total as well (the municipality minus A would give B), so A's classes already
    have a hidden total:

    >>> table = pl.DataFrame({"school_id": ["A", "A", "A", "B", None],
    ...     "class_name": ["1.A", "2.A", "3.A", "S.1", None], "period": "2024Q1",
    ...     "pupils": [12, 14, 20, 1, 47], "_municipality": [False] * 4 + [True],
    ...     "suppressed": False})
    >>> suppress(table, keys=["school_id", "class_name"], min_cell=10)["suppressed"].to_list()
    [True, False, False, True, False]
    """
    hidden = _hidden_rows(table, keys=keys, min_cell=min_cell, as_of=as_of)
    hide = pl.Series(SUPPRESSED, [i in hidden for i in range(table.height)], dtype=pl.Boolean)
    figures = [c for c in table.columns if c not in (*keys, PERIOD, SUPPRESSED, MUNICIPALITY)]
    return table.with_columns(hide).with_columns(
        pl.when(~pl.col(SUPPRESSED)).then(pl.col(c)).alias(c) for c in figures
    )


# -- national reference ------------------------------------------------------------------------


@dataclass(frozen=True)
class Reference:
    """National figures to show beside a period: the school year they are for, and sources."""

    period: str
    absence_pct: float | None
    share_over_10: float | None
    sources: tuple[str, ...]


def reference_for(reference: pl.DataFrame, period: Period) -> Reference | None:
    """The national figures for the school year of ``period``, or the latest earlier one.

    ``reference`` has :data:`REFERENCE_COLUMNS`; its periods are school years (``2021/22``).
    A quarter or a range is compared with the school year its last day falls in. National
    figures are published a year or more late, so the latest earlier year is used when the
    period's own is missing, labelled with its year.

    >>> ref = pl.DataFrame({"period": ["2021/22"], "measure": ["absence_pct"],
    ...                     "value": [8.0], "source": ["BUVM"]})
    >>> reference_for(ref, parse_period("2023Q1"))
    Reference(period='2021/22', absence_pct=8.0, share_over_10=None, sources=('BUVM',))
    """
    month, day = SCHOOL_YEAR_START
    last = period.end
    first_year = last.year if (last.month, last.day) >= (month, day) else last.year - 1
    own = school_year(first_year).label
    years = sorted(
        (p for p in reference[REF_PERIOD].unique().to_list() if _SCHOOL_YEAR.match(p) and p <= own),
        reverse=True,
    )
    if not years:
        return None
    chosen = reference.filter(pl.col(REF_PERIOD) == years[0])
    values = dict(zip(chosen[REF_MEASURE].to_list(), chosen[REF_VALUE].to_list(), strict=True))
    return Reference(
        period=years[0],
        absence_pct=values.get(ABSENCE_PCT),
        share_over_10=values.get(SHARE_OVER_10),
        sources=tuple(dict.fromkeys(chosen[REF_SOURCE].to_list())),
    )
