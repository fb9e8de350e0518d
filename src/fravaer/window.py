"""Rolling-window measures over school days, as polars expressions (SPEC §3).

A pupil's school days are the distinct dates of the pupil's own rows, across schools. The window
of ``n`` school days ending at the as-of date is the pupil's latest ``n`` such dates on or before
it. Absence is summed in integer day units (:data:`fravaer.schema.DAY_UNITS`) so that thresholds
compare exactly.
"""

from __future__ import annotations

from datetime import date

import polars as pl

from fravaer import schema as s


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


def pupil_days(frame: pl.LazyFrame, *, as_of: date) -> pl.LazyFrame:
    """One row per pupil per school day on or before ``as_of``, absence in units per category.

    A day split over several category rows becomes one row. Should a pupil have rows at two
    schools on one date, the day belongs to the larger ``school_id`` (a deterministic choice);
    ``grade`` and ``class_name`` likewise take the day's largest value.

    >>> import polars as pl
    >>> from datetime import date
    >>> frame = pl.LazyFrame(
    ...     {"pupil_id": ["01", "01"], "school_id": ["A", "A"], "date": [date(2024, 3, 1)] * 2,
    ...      "category": ["illness", "leave"], "absent_fraction": [0.5, 0.25],
    ...      "grade": [3, 3], "class_name": ["3.A", "3.A"]},
    ...     schema_overrides={"category": s.CATEGORY_DTYPE, "grade": pl.Int8},
    ... )
    >>> day = pupil_days(frame, as_of=date(2024, 3, 1)).collect()
    >>> day.select("illness_units", "leave_units", "unlawful_units").row(0)
    (9009000, 4504500, 0)
    """
    units = units_expr(pl.col(s.ABSENT_FRACTION))
    return (
        frame.filter(pl.col(s.DATE) <= as_of)
        .group_by(s.PUPIL_ID, s.DATE)
        .agg(
            *(
                units.filter(pl.col(s.CATEGORY) == category).sum().alias(column)
                for category, column in s.CATEGORY_UNITS.items()
            ),
            pl.col(s.SCHOOL_ID).max(),
            pl.col(s.GRADE).max(),
            pl.col(s.CLASS_NAME).max(),
        )
    )


def window_start_expr(school_days: int) -> pl.Expr:
    """First date of the latest ``school_days`` dates of a group (in a pupil ``group_by``)."""
    return pl.col(s.DATE).top_k(school_days).min()


def in_window_expr(school_days: int) -> pl.Expr:
    """Whether a pupil-day is among the pupil's latest ``school_days`` dates (in a ``group_by``)."""
    return pl.col(s.DATE) >= window_start_expr(school_days)


def absent_units_expr(categories: tuple[str, ...]) -> pl.Expr:
    """Units of absence of the given categories on a pupil-day."""
    return pl.sum_horizontal(pl.col(s.CATEGORY_UNITS[c]) for c in categories)


def latest_expr(column: str) -> pl.Expr:
    """The value of ``column`` on the group's latest date."""
    return pl.col(column).top_k_by(s.DATE, 1).first()


def quarter_start(as_of: date) -> date:
    """First day of the calendar quarter containing ``as_of``.

    >>> quarter_start(date(2024, 3, 31)), quarter_start(date(2024, 4, 1))
    (datetime.date(2024, 1, 1), datetime.date(2024, 4, 1))
    """
    return date(as_of.year, 3 * ((as_of.month - 1) // 3) + 1, 1)
