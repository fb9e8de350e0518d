"""Rolling-window measures over school days, as polars expressions (docs/data-format.md).

A pupil's school days are the distinct dates of the pupil's own rows, across schools. The window
of ``n`` school days ending at the as-of date is the pupil's latest ``n`` such dates on or before
it. Absence is summed in integer day units (:data:`fravaer.schema.DAY_UNITS`) so that thresholds
compare exactly. Every window ends at the as-of date, so it is fixed by its first date.
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


CODE = "_category_code"
"""Column of a row's category as a small integer (0 present), added by :func:`with_units`."""

CODES = {c: i for i, c in enumerate(s.ABSENCE_CATEGORIES, start=1)}


def with_units(frame: pl.LazyFrame, *, as_of: date | pl.Expr) -> pl.LazyFrame:
    """The rows on or before ``as_of``, each with its absence in day units and its category as
    a small integer code (:data:`CODE`), which is cheaper to carry through joins.

    >>> import polars as pl
    >>> from datetime import date, timedelta
    >>> frame = pl.LazyFrame(
    ...     {"date": [date(2024, 3, 1), date(2024, 3, 4)], "absent_fraction": [1 / 6, 1.0],
    ...      "category": ["illness", "leave"]}
    ... )
    >>> rows = with_units(frame, as_of=date(2024, 3, 1)).collect()
    >>> rows[UNITS].to_list(), rows[CODE].to_list()
    ([3003000], [1])
    """
    code: pl.Expr = pl.lit(0, dtype=pl.Int8)
    for category, number in CODES.items():
        code = pl.when(pl.col(s.CATEGORY) == category).then(pl.lit(number, pl.Int8)).otherwise(code)
    return frame.filter(pl.col(s.DATE) <= as_of).with_columns(
        units_expr(pl.col(s.ABSENT_FRACTION)).alias(UNITS), code.alias(CODE)
    )


def units_of_expr(category: str, within: pl.Expr) -> pl.Expr:
    """Units of absence of ``category`` among the rows where ``within`` holds: a simple filtered
    sum, which polars runs as a fast aggregation."""
    return pl.col(UNITS).filter(within & (pl.col(CODE) == CODES[category])).sum()


# A pupil's windows are suffixes of the pupil's distinct dates, newest first: each is fixed by
# its first date. :func:`rank_expr` numbers every row's date among its pupil's distinct dates
# (the newest 1), so a row is in a window of N school days when its rank is at most N, and in a
# fixed window when its date is on or after the window's first date -- plain row filters, so
# every sum, count of days and first date is a simple aggregation (docs/decisions.md).


RANK = "_day_rank"
"""Per-row column: the rank of the row's date among its pupil's distinct dates, newest 1."""


def rank_expr(by: list[str]) -> pl.Expr:
    """The row's :data:`RANK` among the distinct dates of its ``by`` group (e.g. the pupil):
    rows of one date share it, and the N-th newest school day has rank N.

    >>> frame = pl.DataFrame(
    ...     {"pupil_id": ["a", "a", "a", "b"],
    ...      "date": [date(2024, 3, 4), date(2024, 3, 1), date(2024, 3, 4), date(2024, 3, 1)]}
    ... )
    >>> frame.select(rank_expr(["pupil_id"]))[RANK].to_list()
    [1, 2, 1, 1]
    """
    return pl.col(s.DATE).rank("dense", descending=True).over(by).alias(RANK)


def window_key(window: Window) -> str:
    """A short name for the window, unique among a policy's windows (``sd100``, ``q``)."""
    if window.school_days is not None:
        return f"sd{window.school_days}"
    if window.weeks is not None:
        return f"w{window.weeks}"
    return "q" if window.period == "quarter" else "y"


def window_first(window: Window, *, as_of: date | pl.Expr) -> date | pl.Expr | None:
    """The first calendar date of a fixed window; None for a window of school days.

    ``as_of`` may be a date column (e.g. the end of each week of a trend); the first date is
    then a column too.

    >>> from fravaer.policy import Window
    >>> window_first(Window(weeks=2), as_of=date(2024, 3, 15))
    datetime.date(2024, 3, 2)
    """
    if window.school_days is not None:
        return None
    if window.weeks is not None:
        return as_of - timedelta(days=7 * window.weeks - 1)
    if isinstance(as_of, pl.Expr):
        quarter = window.period == "quarter"
        return quarter_start_expr(as_of) if quarter else year_start_expr(as_of)
    return quarter_start(as_of) if window.period == "quarter" else school_year_start(as_of)


def in_window_expr(window: Window, *, as_of: date | pl.Expr) -> pl.Expr:
    """Whether a row lies in the pupil's window (rows after the as-of date are already gone).

    A window of school days reads the row's :data:`RANK` (:func:`rank_expr`); a fixed window
    only its date.

    >>> from fravaer.policy import Window
    >>> str(in_window_expr(Window(weeks=2), as_of=date(2024, 3, 15)))
    '[(col("date")) >= (2024-03-02)]'
    """
    first = window_first(window, as_of=as_of)
    if first is None:
        assert window.school_days is not None
        return pl.col(RANK) <= window.school_days
    return pl.col(s.DATE) >= (first if isinstance(first, pl.Expr) else pl.lit(first))


def longest_run_expr(absent: pl.Expr, within: pl.Expr) -> pl.Expr:
    """Longest run of consecutive school days (rows of a pupil-day frame) where ``absent`` holds.

    Only the pupil's own school days are in the sequence, so weekends, holidays and days at
    another school neither break nor lengthen a run.
    """
    runs = absent.filter(within).sort_by(pl.col(s.DATE).filter(within)).rle()
    return runs.filter(runs.struct.field("value")).struct.field("len").max().fill_null(0)


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
