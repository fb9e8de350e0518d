"""The pupil-day rules, in one place: repeated rows, conflicting rows and over-full days.

A pupil-day may hold several rows, one per category (docs/data-format.md). Three things make
its numbers wrong, and every path that meets them — the readers (CSV, Excel, Parquet), the
combination of several files, lesson-level exports and ``fravaer check`` — decides them here:

- a row *repeats* an earlier one when every canonical column is the same: it is dropped;
- a row *conflicts* when it shares its key (pupil, date and category; for lessons, the lesson)
  with an earlier row but differs from every earlier one: nothing says which is right;
- a day is *over-full* when its rows' absent fractions, of the first row of each key, add up
  to more than one whole day (in exact day units, :data:`fravaer.schema.DAY_UNITS`).

"Earlier" is by an order column: the source line or record for one file, the file's position
for several. The readers refuse at the first conflicting row or over-full day; ``check``
counts them all; a property test holds the two to the same verdict (tests/test_check.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import polars as pl

from fravaer import schema as s
from fravaer.window import units_expr

ROW_KEY: Final = (s.PUPIL_ID, s.DATE, s.CATEGORY)
"""What a pupil-day's rows are told apart by: one row per category."""
DAY_KEY: Final = (s.PUPIL_ID, s.DATE)

REPEATED: Final = "_repeated"
"""Column of :func:`with_repeats`: the row is identical to an earlier row."""
LATER: Final = "_later"
"""Column of :func:`with_repeats`: an earlier row has the same key (repeated or conflicting)."""
UNITS: Final = "_units"


def day_units_expr() -> pl.Expr:
    """A pupil-day's absence in exact day units: an aggregation over the day's rows."""
    return units_expr(pl.col(s.ABSENT_FRACTION)).sum()


def over_full_expr(units: pl.Expr) -> pl.Expr:
    """True where ``units`` (of one pupil-day) are more than a whole day."""
    return units > s.DAY_UNITS


def with_repeats(rows: pl.LazyFrame, *, order: str, key: Sequence[str] = ROW_KEY) -> pl.LazyFrame:
    """Mark each row :data:`REPEATED` (identical in every canonical column to an earlier row)
    and :data:`LATER` (an earlier row shares its ``key``); a conflicting row is later and not
    repeated. A row without an ``order`` (null: added by a shape) is neither.

    >>> from datetime import date
    >>> rows = pl.LazyFrame(
    ...     {"pupil_id": ["a"] * 3, "date": [date(2024, 3, 4)] * 3,
    ...      "category": ["illness"] * 3, "absent_fraction": [1.0, 1.0, 0.5], "_line": [2, 3, 4]}
    ... )
    >>> with_repeats(rows, order="_line").select(REPEATED, LATER).collect().rows()
    [(False, False), (True, True), (False, True)]
    """
    names = rows.collect_schema().names()
    canonical = [c for c in names if c in s.CANONICAL_SCHEMA]
    first = pl.col(order).min()
    return rows.with_columns(
        (pl.col(order) > first.over(canonical)).fill_null(value=False).alias(REPEATED),
        (pl.col(order) > first.over(list(key))).fill_null(value=False).alias(LATER),
    )


def over_full_days(first_rows: pl.LazyFrame, *, order: str) -> pl.LazyFrame:
    """The over-full pupil-days of ``first_rows`` (the first row of each key, repeats and
    conflicts left out): per day its first ``order`` and that row's school, and its units."""
    return (
        first_rows.group_by(DAY_KEY)
        .agg(
            day_units_expr().alias(UNITS),
            pl.col(order).min(),
            pl.col(s.SCHOOL_ID).sort_by(order).first().alias(s.SCHOOL_ID),
        )
        .filter(over_full_expr(pl.col(UNITS)))
    )


FIRST: Final = "_first"
SECOND: Final = "_second"


def conflicts(
    rows: pl.DataFrame, key: Sequence[str], others: Sequence[str], *, row: str
) -> pl.DataFrame:
    """The keys whose rows disagree in any of ``others``, earliest second ``row`` first: the
    key, its first and second ``row`` (:data:`FIRST`, :data:`SECOND`; distinct values, so a
    file position may be the order) and per column of ``others`` whether it differs."""
    order = pl.col(row).unique()
    groups = rows.group_by(list(key)).agg(
        order.min().alias(FIRST),
        order.bottom_k(2).max().alias(SECOND),
        *(pl.col(c).n_unique().gt(1).alias(c) for c in others),
    )
    return groups.filter(pl.any_horizontal(list(others))).sort(SECOND, FIRST)


def first_conflict(
    rows: pl.DataFrame, key: Sequence[str], others: Sequence[str], *, row: str
) -> tuple[int, str] | None:
    """Where rows sharing ``key`` first disagree: the later row's ``row`` and the first column
    of ``others`` that differs, or None when every repeat is identical (:func:`conflicts`).

    >>> from datetime import date
    >>> rows = pl.DataFrame(
    ...     {"pupil_id": ["a", "a"], "date": [date(2024, 3, 4)] * 2,
    ...      "category": ["illness"] * 2, "absent_fraction": [1.0, 0.5], "_row": [7, 9]}
    ... )
    >>> first_conflict(rows, ROW_KEY, ["absent_fraction"], row="_row")
    (9, 'absent_fraction')
    """
    found = conflicts(rows, key, others, row=row)
    if found.is_empty():
        return None
    first = found.row(0, named=True)
    return first[SECOND], next(c for c in others if first[c])
