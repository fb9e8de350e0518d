"""Data-quality findings about an attendance export: what would make its numbers wrong.

:func:`check` takes every row of the export as ingest read it — cells validated and typed, but
repeated, conflicting and over-full pupil-days *kept* (``read_export(..., day_checks=False)``) —
with each row's source line in a column (``keep_lines=True`` gives ``_line``). It returns one row
per finding, in a fixed order, with the number of occurrences, the first few line numbers and
the schools involved; never a pupil id or any other cell.

The rules for repeated, conflicting and over-full pupil-days are :mod:`fravaer.days`', the same
that the readers refuse by. Findings (docs/check.md explains each, why it matters and what to
do):

========================  =======  ===================================================
finding                   level    counts
========================  =======  ===================================================
conflicting_rows          error    rows that share pupil, date and category with an
                                   earlier row but differ from every earlier one
over_full_days            error    pupil-days whose absent fractions add up to more than 1
duplicate_rows            warning  rows identical to an earlier row (ingest drops them)
after_as_of               warning  rows dated after the as-of date
weekend_or_holiday        warning  rows on a Saturday, Sunday or public holiday
two_schools_one_day       warning  pupil-days registered by two or more schools
gaps                      warning  pupil-days missing between a pupil's first and last
                                   registration at a school, on a school day of that school
stale_schools             warning  schools whose latest registration is more than 5 school
                                   days behind the newest school's
========================  =======  ===================================================

An error makes classification untrustworthy (ingest refuses such an export); a warning is worth
a look. Rows repeating an earlier row are left out of every finding after ``duplicate_rows``;
of rows sharing pupil, date and category only the first counts towards a day's total, as in
ingest. A *school day* of a school is a date on which it registered anyone, except Saturdays,
Sundays and public holidays (already reported), so one stray weekend row does not turn into a
gap for every other pupil. Gaps and stale schools look only at rows on or before the as-of date
(the rows every command counts), so leave registered ahead of time makes no gap and no stale
school.

Each finding's lines: the row itself; for an over-full day or a day at two schools the first
row of that pupil-day (at the second school); for a gap, the pupil's last registration before
the missing day; for a stale school, its latest registration.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import date
from typing import Final

import polars as pl

from fravaer import schema as s
from fravaer.days import (
    DAY_KEY,
    LATER,
    REPEATED,
    day_units_expr,
    over_full_days,
    over_full_expr,
    with_repeats,
)
from fravaer.pseudonymize import shown_school
from fravaer.window import units_expr

FIRST_LINES_SHOWN = 5
"""How many line numbers (and school ids) a finding lists."""

STALE_AFTER_SCHOOL_DAYS = 5
"""A school is stale when its latest registration is more than this many school days behind."""

FINDINGS: dict[str, str] = {
    "conflicting_rows": s.SEVERITY_ERROR,
    "over_full_days": s.SEVERITY_ERROR,
    "duplicate_rows": s.SEVERITY_WARNING,
    "after_as_of": s.SEVERITY_WARNING,
    "weekend_or_holiday": s.SEVERITY_WARNING,
    "two_schools_one_day": s.SEVERITY_WARNING,
    "gaps": s.SEVERITY_WARNING,
    "stale_schools": s.SEVERITY_WARNING,
}
"""Every finding in the order reported, with its severity."""

_SCHOOLS = "_schools"
_FIRST = "_first"
_LAST = "_last"
_LATEST = "_latest"
_NEWEST = "_newest"
_BEHIND = "_behind"
_ROW = "_row"
_DAY = "_day"
_PUPIL = "_pupil"
_SURPLUS = "_surplus"
_SUSPECT = "_suspect"
_OWN = "_own"
_UPTO = "_upto"
_BEFORE = "_before"
_DAY_STRIDE = 2**32


def closed_expr(holidays: Collection[date]) -> pl.Expr:
    """True on a Saturday, a Sunday or one of ``holidays``: not a school day."""
    days = pl.Series(sorted(holidays), dtype=pl.Date)
    return (pl.col(s.DATE).dt.weekday() >= 6) | pl.col(s.DATE).is_in(days.implode())


def closed_only_pupils(
    frame: pl.LazyFrame, *, as_of: date, holidays: Collection[date]
) -> pl.LazyFrame:
    """How many pupils have rows on or before ``as_of`` only on closed days (one row, ``count``).

    Such a pupil has no school day of their own, so the "has left" rule drops them from every
    list as if they had left (docs/classify.md#pupils-who-left): the commands say so with this
    count, never with the ids. Closed days are :func:`closed_expr`'s: Saturdays, Sundays and
    ``holidays``.

    >>> rows = pl.LazyFrame(
    ...     {"pupil_id": ["a", "a", "b", "c"],
    ...      "date": [date(2024, 3, 2), date(2024, 3, 4), date(2024, 3, 3), date(2024, 3, 9)]}
    ... )
    >>> closed_only_pupils(rows, as_of=date(2024, 3, 8), holidays=()).collect().item()
    1
    """
    # Rows on closed days are few: find their pupils first, then look for an open day of those
    # pupils only. A group-by of every row by pupil cost 40 times as much (docs/decisions.md).
    rows = frame.filter(pl.col(s.DATE) <= as_of)
    closed = closed_expr(holidays)
    candidates = rows.filter(closed).select(s.PUPIL_ID).unique()
    with_open_day = (
        rows.filter(~closed).join(candidates, on=s.PUPIL_ID, how="semi").select(s.PUPIL_ID).unique()
    )
    return candidates.join(with_open_day, on=s.PUPIL_ID, how="anti").select(
        pl.len().cast(pl.Int64).alias(s.COUNT)
    )


FILE: Final = "_file"
"""Input column of :func:`check` over several files: each row's file, 0-based in ``files``."""

_STRIDE = 2**32
"""Lines of several files are compared as ``file * _STRIDE + line``: in file order, then line."""


def _line_text(line: pl.Expr, files: Sequence[str] | None) -> pl.Expr:
    """A line as users read it: the number, or ``file:number`` when there are several files."""
    if files is None:
        return line.cast(pl.String)
    name = (line // _STRIDE).replace_strict(list(range(len(files))), list(files))
    return pl.format("{}:{}", name, line % _STRIDE)


def _summary(
    items: pl.LazyFrame, finding: str, *, line: str, files: Sequence[str] | None
) -> pl.LazyFrame:
    """One finding's row from its items (one per occurrence, with a line and a school list)."""
    shown = FIRST_LINES_SHOWN
    lines = pl.col(line).drop_nulls().unique().sort().head(shown)
    return items.select(
        pl.lit(finding).alias(s.FINDING),
        pl.lit(FINDINGS[finding]).alias(s.SEVERITY),
        pl.len().cast(pl.Int64).alias(s.COUNT),
        _line_text(lines, files).str.join(" ").alias(s.FIRST_LINES),
        pl.col(_SCHOOLS)
        .explode()
        .drop_nulls()
        .unique()
        .map_elements(shown_school, return_dtype=pl.String)  # a CPR-shaped id only hashed
        .sort()
        .head(shown)
        .str.join(" ")
        .alias(s.SCHOOLS),
    )


def _school_list() -> pl.Expr:
    return pl.concat_list(pl.col(s.SCHOOL_ID).cast(pl.String)).alias(_SCHOOLS)


def _row_items(frame: pl.LazyFrame, keep: pl.Expr, *, line: str) -> pl.LazyFrame:
    return frame.filter(keep).select(pl.col(line), _school_list())


def _over_full(first_rows: pl.LazyFrame, *, line: str) -> pl.LazyFrame:
    return over_full_days(first_rows, order=line).select(pl.col(line), _school_list())


def _two_schools(rows: pl.LazyFrame, *, line: str) -> pl.LazyFrame:
    """The pupil-days of ``rows`` at two or more schools: the first row at a school other than
    the day's first row's, and the schools."""
    first_school = pl.col(s.SCHOOL_ID).sort_by(line).first()
    return (
        rows.group_by(DAY_KEY)
        .agg(
            pl.col(line).filter(pl.col(s.SCHOOL_ID) != first_school).min(),
            pl.col(s.SCHOOL_ID).unique().alias(_SCHOOLS),
        )
        .filter(pl.col(_SCHOOLS).list.len() > 1)
        .select(pl.col(line), pl.col(_SCHOOLS))
    )


def _pupil_expr() -> pl.Expr:
    """A row's pupil code, from its pupil-day number (:func:`_keyed`)."""
    return (pl.col(_DAY) // _DAY_STRIDE).cast(pl.UInt32).alias(_PUPIL)


def _gaps(rows: pl.LazyFrame, school_days: pl.LazyFrame, *, line: str) -> pl.LazyFrame:
    """The gaps of the pupils of ``rows`` (:func:`_keyed`'s columns, every counted row of each
    pupil), given every school's school days (``school_id``, ``date``): each school day of a
    school between a pupil's first and last row there on which the pupil has no row."""
    rows = rows.with_columns(_pupil_expr())
    pupil_day = [_PUPIL, s.DATE]
    spans = rows.group_by(_PUPIL, s.SCHOOL_ID).agg(
        pl.col(s.DATE).min().alias(_FIRST), pl.col(s.DATE).max().alias(_LAST)
    )
    pupil_days = rows.group_by(pupil_day).agg(pl.col(line).min())
    missing = (
        spans.join(school_days, on=s.SCHOOL_ID)
        .filter(pl.col(s.DATE).is_between(pl.col(_FIRST), pl.col(_LAST)))
        .join(pupil_days, on=pupil_day, how="anti")
        .group_by(pupil_day)
        .agg(pl.col(s.SCHOOL_ID).cast(pl.String).unique().alias(_SCHOOLS))
    )
    # The line of the pupil's last registration before the missing day.
    return (
        missing.sort(s.DATE)
        .join_asof(
            pupil_days.sort(s.DATE),
            on=s.DATE,
            by=_PUPIL,
            strategy="backward",
            check_sortedness=False,
        )
        .select(pl.col(line), pl.col(_SCHOOLS))
    )


def _stale(counted: pl.LazyFrame, open_dates: pl.LazyFrame, *, line: str) -> pl.LazyFrame:
    latest = counted.group_by(s.SCHOOL_ID).agg(
        pl.col(s.DATE).max().alias(_LATEST),
        pl.col(line).filter(pl.col(s.DATE) == pl.col(s.DATE).max()).min(),
    )
    newest = latest.select(pl.col(_LATEST).max().alias(_NEWEST))
    behind = (
        latest.join(newest, how="cross")
        .join(open_dates, how="cross")
        .group_by(s.SCHOOL_ID, line)
        .agg(
            (pl.col(s.DATE) > pl.col(_LATEST))
            .and_(pl.col(s.DATE) <= pl.col(_NEWEST))
            .sum()
            .alias(_BEHIND)
        )
    )
    return behind.filter(pl.col(_BEHIND) > STALE_AFTER_SCHOOL_DAYS).select(
        pl.col(line), _school_list()
    )


def _keyed(indexed: pl.LazyFrame, *, line: str) -> pl.DataFrame:
    """Every row, collected once: its canonical columns with the text ones categorical (a few
    bytes a row), ``line``, :data:`_ROW`, and :data:`_DAY`, one number per pupil-day (the
    pupil's dictionary code × 2³² + days since the first date; exact: no two pupil-days share
    one). Collected once, so that a row's :data:`_ROW` is the same in every later step
    whatever order the export's shape gave the rows."""
    names = indexed.collect_schema().names()
    canonical = [c for c in names if c in s.CANONICAL_SCHEMA]
    text = [c for c in canonical if s.CANONICAL_SCHEMA[c] == pl.String()]
    pupil = pl.col(s.PUPIL_ID).to_physical().cast(pl.UInt64)
    offset = pl.col(s.DATE).cast(pl.Int64) - pl.col(s.DATE).min().cast(pl.Int64)
    return (
        indexed.select(
            pl.col(_ROW),
            *(pl.col(c).cast(pl.Categorical) if c in text else pl.col(c) for c in canonical),
            pl.col(line),
        )
        .with_columns(
            (pupil * _DAY_STRIDE + offset.cast(pl.UInt64)).alias(_DAY),
            pl.col(s.CATEGORY).cast(s.CATEGORY_DTYPE),
        )
        .collect(engine="streaming")
    )


def _shared_days(keyed: pl.DataFrame) -> pl.Series:
    """The pupil-days (:data:`_DAY`) with more than one row, found on the sorted numbers alone:
    an export holds few of them (a day split between categories, or a fault), and only they
    can hold a repeated or conflicting row or be at two schools."""
    days = keyed.get_column(_DAY).sort()
    return days.filter(days == days.shift(1)).unique()


def _suspect_days(keyed: pl.DataFrame, shared: pl.LazyFrame) -> pl.Series:
    """The pupil-days (:data:`_DAY`) that may hold a finding of their own: among the days with
    several rows (``shared``), those with a category twice (a repeated or conflicting row: the
    sum of the rows' category bits differs from their union), more than a whole day's units,
    or several schools; and any day with a row of more than a whole day. The other days hold
    none of the four pupil-day findings, so only these are looked at row by row."""
    bit = pl.lit(1, dtype=pl.Int64).pow(pl.col(s.CATEGORY).to_physical().cast(pl.Int64))
    school = pl.col(s.SCHOOL_ID).to_physical()
    suspect = (
        (bit.sum() != bit.bitwise_or())
        | over_full_expr(day_units_expr())
        | (school.min() != school.max())
    )
    by_day = shared.group_by(_DAY).agg(suspect.alias(_SUSPECT)).filter(pl.col(_SUSPECT))
    whole = keyed.lazy().filter(over_full_expr(units_expr(pl.col(s.ABSENT_FRACTION))))
    days = pl.concat([by_day.select(_DAY), whole.select(_DAY)]).unique()
    return days.collect(engine="streaming").get_column(_DAY)


def _gaps_by_counts(
    counted: pl.LazyFrame,
    shared: pl.LazyFrame,
    open_days: pl.DataFrame,
    *,
    line: str,
    open_: pl.Expr,
) -> pl.LazyFrame:
    """The gaps (:func:`_gaps`), looked for only among the pupils who may have one.

    ``counted`` are the counted rows, ``shared`` those of them on a pupil-day with several
    rows. A pupil's span at a school holds no gap when the pupil's own open days there number
    as many as the school's days between the span's first and last date (each of the pupil's
    own is one of those), counted from a per-school running count joined by date: a few
    hundred rows a school, not a row per pupil and day. The other pupils are looked at day by
    day. A pupil's open days at a school are its open rows there, less the second and later
    rows of a day (on the days with several rows only).
    """
    span = [_PUPIL, s.SCHOOL_ID]
    spans = counted.group_by(_pupil_expr(), s.SCHOOL_ID).agg(
        pl.col(s.DATE).min().alias(_FIRST),
        pl.col(s.DATE).max().alias(_LAST),
        open_.sum().alias(_OWN),
    )
    surplus = (
        shared.filter(open_)
        .group_by(_pupil_expr(), s.SCHOOL_ID)
        .agg((pl.len() - pl.col(s.DATE).n_unique()).alias(_SURPLUS))
    )
    running = (
        open_days.lazy()
        .sort(s.SCHOOL_ID, s.DATE)
        .with_columns(pl.int_range(1, pl.len() + 1, dtype=pl.Int64).over(s.SCHOOL_ID).alias(_UPTO))
        .sort(s.DATE)
    )
    up_to_last = (
        spans.join(surplus, on=span, how="left")
        .sort(_LAST)
        .join_asof(
            running,
            left_on=_LAST,
            right_on=s.DATE,
            by=s.SCHOOL_ID,
            strategy="backward",
            check_sortedness=False,
        )
    )
    before_first = (
        up_to_last.drop(s.DATE)
        .sort(_FIRST)
        .join_asof(
            running.rename({_UPTO: _BEFORE}),
            left_on=_FIRST,
            right_on=s.DATE,
            by=s.SCHOOL_ID,
            strategy="backward",
            allow_exact_matches=False,
            check_sortedness=False,
        )
    )
    own = pl.col(_OWN) - pl.col(_SURPLUS).fill_null(0)
    needed = pl.col(_UPTO).fill_null(0) - pl.col(_BEFORE).fill_null(0)
    candidates = before_first.filter(own < needed).select(_PUPIL).unique()
    pupils = candidates.collect(engine="streaming").get_column(_PUPIL)
    rows = counted.filter(_pupil_expr().is_in(pupils.implode()))
    return _gaps(rows, open_days.lazy(), line=line)


def check(
    frame: pl.LazyFrame,
    *,
    as_of: date,
    holidays: Collection[date],
    line: str = "_line",
    files: Sequence[str] | None = None,
) -> pl.LazyFrame:
    """The data-quality findings of an export, one row per finding in :data:`FINDINGS` order.

    Parameters
    ----------
    frame
        Every row of the export in the canonical columns (at least ``pupil_id``, ``school_id``,
        ``date``, ``category``, ``absent_fraction``), repeated and conflicting rows included,
        plus the source line of each row in the column ``line``.
    as_of
        Rows after this date are reported, and left out of the gaps and the stale schools.
    holidays
        Dates that are never school days besides Saturdays and Sundays
        (:func:`fravaer.calendar.public_holidays`).
    line
        The column holding each row's source line (null for a row that the export's shape
        added, such as a present day of an absence-only export).
    files
        Several files' names: ``frame`` then has each row's file (0-based) in the column
        :data:`FILE`, and lines are shown as ``file:line``.

    Returns
    -------
    pl.LazyFrame
        Columns :data:`fravaer.schema.CHECK_COLUMNS`: ``finding``, ``severity`` (``error`` or
        ``warning``), ``count``, ``first_lines`` (up to five line numbers, ascending, separated
        by spaces) and ``schools`` (up to five school ids involved, ascending).

    Examples
    --------
    >>> rows = pl.LazyFrame(
    ...     {
    ...         "pupil_id": ["a", "a", "a"],
    ...         "school_id": ["s1", "s1", "s1"],
    ...         "date": [date(2024, 3, 1), date(2024, 3, 1), date(2024, 3, 2)],
    ...         "category": ["illness", "illness", "present"],
    ...         "absent_fraction": [1.0, 1.0, 0.0],
    ...         "_line": [2, 3, 4],
    ...     }
    ... )
    >>> found = check(rows, as_of=date(2024, 3, 1), holidays=()).collect()
    >>> found.filter(pl.col("count") > 0).select("finding", "count", "first_lines").rows()
    [('duplicate_rows', 1, '3'), ('after_as_of', 1, '4'), ('weekend_or_holiday', 1, '4')]
    """
    if files is not None:
        frame = frame.with_columns(
            (pl.col(FILE).cast(pl.Int64) * _STRIDE + pl.col(line).cast(pl.Int64)).alias(line)
        )
    keyed = _keyed(frame.with_row_index(_ROW), line=line)
    shared = keyed.lazy().filter(pl.col(_DAY).is_in(_shared_days(keyed).implode()))
    # The four pupil-day findings, row by row (as text) on the suspect days' rows alone.
    suspect = _suspect_days(keyed, shared)
    text = [c for c, dtype in keyed.schema.items() if dtype == pl.Categorical()]
    marked = with_repeats(
        keyed.lazy()
        .filter(pl.col(_DAY).is_in(suspect.implode()))
        .with_columns(pl.col(text).cast(pl.String)),
        order=line,
    ).collect(engine="streaming")
    repeated = marked.filter(pl.col(REPEATED)).get_column(_ROW)
    suspect_rows = marked.lazy().filter(~pl.col(REPEATED))
    rows = keyed.lazy().filter(~pl.col(_ROW).is_in(repeated.implode()))
    closed = closed_expr(holidays)
    # Gaps and stale schools are measured on the rows that count, those on or before the as-of
    # date: leave registered ahead of time would otherwise make school days of the future. A
    # repeated row changes neither (its pupil, school and date are an earlier row's, and its
    # line is later), so they are measured on every row.
    counted = keyed.lazy().filter(pl.col(s.DATE) <= as_of)
    open_days = counted.filter(~closed).select(s.SCHOOL_ID, s.DATE).unique().collect()
    items = {
        "conflicting_rows": _row_items(suspect_rows, pl.col(LATER), line=line),
        "over_full_days": _over_full(suspect_rows.filter(~pl.col(LATER)), line=line),
        "duplicate_rows": _row_items(marked.lazy(), pl.col(REPEATED), line=line),
        "after_as_of": _row_items(rows, pl.col(s.DATE) > as_of, line=line),
        "weekend_or_holiday": _row_items(rows, closed, line=line),
        "two_schools_one_day": _two_schools(suspect_rows, line=line),
        "gaps": _gaps_by_counts(
            counted,
            shared.filter(pl.col(s.DATE) <= as_of),
            open_days,
            line=line,
            open_=~closed,
        ),
        "stale_schools": _stale(counted, open_days.lazy().select(s.DATE).unique(), line=line),
    }
    found = [
        _summary(items, name, line=line, files=files).collect(engine="streaming")
        for name, items in items.items()
    ]
    return pl.concat(found).lazy()


def has_errors(findings: pl.DataFrame) -> bool:
    """Whether any error finding occurred: the export's numbers cannot be trusted."""
    errors = findings.filter((pl.col(s.SEVERITY) == s.SEVERITY_ERROR) & (pl.col(s.COUNT) > 0))
    return not errors.is_empty()
