"""Rolling-window measures over school days, as polars expressions (SPEC §3).

A pupil's school days are the distinct dates of the pupil's own rows, across schools. The window
of ``n`` school days ending at the as-of date is the pupil's latest ``n`` such dates on or before
it. Absence is summed in integer day units (:data:`fravaer.schema.DAY_UNITS`) so that thresholds
compare exactly. Everything is one aggregation per pupil over the rows: no per-day pass.
"""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl

from fravaer import schema as s
from fravaer.policy import SCHOOL_YEAR_START, Window


def units_expr(fraction: pl.Expr) -> pl.Expr:
    """A day fraction in [0, 1] as whole day units (exact for lesson and 3-decimal fractions)."""
    return (fraction * s.DAY_UNITS).round(0).cast(pl.Int64)


def days_expr(units: pl.Expr) -> pl.Expr:
    """Day units as (fractional) days, correctly rounded to the nearest float.

    Polars divides by a scalar through its reciprocal, which is one ulp off in about a quarter of
    cases (13.999 days would print as 13.998999999999999); dividing by a column is exact, so the
    scalar is broadcast to a column first. The property tests compare with exact rationals.
    """
    return units / (units * 0 + s.DAY_UNITS)


UNITS = "_units"
"""Column of a row's absence in day units, added by :func:`with_units`."""


def with_units(frame: pl.LazyFrame, *, as_of: date) -> pl.LazyFrame:
    """The rows on or before ``as_of``, each with its absence in day units.

    >>> import polars as pl
    >>> from datetime import date, timedelta
    >>> frame = pl.LazyFrame(
    ...     {"date": [date(2024, 3, 1), date(2024, 3, 4)], "absent_fraction": [1 / 6, 1.0]}
    ... )
    >>> with_units(frame, as_of=date(2024, 3, 1)).collect()[UNITS].to_list()
    [3003000]
    """
    return frame.filter(pl.col(s.DATE) <= as_of).with_columns(
        units_expr(pl.col(s.ABSENT_FRACTION)).alias(UNITS)
    )


# The expressions below run inside a ``group_by(pupil_id)`` over the rows of ``with_units``: a
# pupil may have several rows on one date (one per category), so days are *distinct* dates.


def window_start_expr(school_days: int) -> pl.Expr:
    """First date of the pupil's latest ``school_days`` distinct dates."""
    return pl.col(s.DATE).unique().top_k(school_days).min()


def in_window_expr(window: Window, *, as_of: date | pl.Expr) -> pl.Expr:
    """Whether a row lies in the pupil's window ending at ``as_of`` (rows after it are gone).

    ``as_of`` may be a date column (e.g. the end of each week of a trend), evaluated per row.

    >>> from fravaer.policy import Window
    >>> str(in_window_expr(Window(weeks=2), as_of=date(2024, 3, 15)))
    '[(col("date")) > (2024-03-01)]'
    """
    if window.school_days is not None:
        return pl.col(s.DATE) >= window_start_expr(window.school_days)
    if window.weeks is not None:
        return pl.col(s.DATE) > as_of - timedelta(days=7 * window.weeks)
    if isinstance(as_of, pl.Expr):
        quarter = window.period == "quarter"
        return pl.col(s.DATE) >= (quarter_start_expr(as_of) if quarter else year_start_expr(as_of))
    first = quarter_start(as_of) if window.period == "quarter" else school_year_start(as_of)
    return pl.col(s.DATE) >= first


def longest_run_expr(absent: pl.Expr, within: pl.Expr) -> pl.Expr:
    """Longest run of consecutive school days (rows of a pupil-day frame) where ``absent`` holds.

    Only the pupil's own school days are in the sequence, so weekends, holidays and days at
    another school neither break nor lengthen a run.
    """
    runs = absent.filter(within).sort_by(pl.col(s.DATE).filter(within)).rle()
    return runs.filter(runs.struct.field("value")).struct.field("len").max().fill_null(0)


def school_days_expr(within: pl.Expr) -> pl.Expr:
    """Number of distinct dates among the rows where ``within`` holds."""
    return pl.col(s.DATE).filter(within).n_unique().cast(pl.Int64)


def absent_units_expr(categories: tuple[str, ...], within: pl.Expr) -> pl.Expr:
    """Units of absence of ``categories`` among the rows where ``within`` holds."""
    return pl.col(UNITS).filter(within & pl.col(s.CATEGORY).is_in(categories)).sum()


def latest_expr(column: str) -> pl.Expr:
    """``column`` on the pupil's latest date.

    Rows at two schools on that date resolve to the larger ``school_id``, and ``grade`` and
    ``class_name`` come from a row of that same school, so the three always agree.
    """
    by = [s.DATE, s.SCHOOL_ID] if column == s.SCHOOL_ID else [s.DATE, s.SCHOOL_ID, column]
    return pl.col(column).top_k_by(by, 1).first()


def school_year_start(as_of: date) -> date:
    """1 August of the school year containing ``as_of``.

    >>> school_year_start(date(2024, 7, 31)), school_year_start(date(2024, 8, 1))
    (datetime.date(2023, 8, 1), datetime.date(2024, 8, 1))
    """
    month, day = SCHOOL_YEAR_START
    year = as_of.year if (as_of.month, as_of.day) >= (month, day) else as_of.year - 1
    return date(year, month, day)


def quarter_start(as_of: date) -> date:
    """First day of the calendar quarter containing ``as_of``.

    >>> quarter_start(date(2024, 3, 31)), quarter_start(date(2024, 4, 1))
    (datetime.date(2024, 1, 1), datetime.date(2024, 4, 1))
    """
    return date(as_of.year, 3 * ((as_of.month - 1) // 3) + 1, 1)


def quarter_start_expr(day: pl.Expr) -> pl.Expr:
    """:func:`quarter_start` of a date column."""
    return pl.date(day.dt.year(), 3 * ((day.dt.month() - 1) // 3) + 1, 1)


def year_start_expr(day: pl.Expr) -> pl.Expr:
    """:func:`school_year_start` of a date column."""
    month, first = SCHOOL_YEAR_START
    before = (day.dt.month() < month) | ((day.dt.month() == month) & (day.dt.day() < first))
    return pl.date(day.dt.year() - before.cast(pl.Int32), month, first)
