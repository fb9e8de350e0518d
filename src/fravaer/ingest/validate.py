"""Check every cell of a source, then its pupil-days; the canonical frame, or the first finding.

:func:`validate` (a lazy source: Parquet, a hive folder) and :func:`validate_in_memory` (CSV
and Excel, held in memory) run the column plans of :mod:`~fravaer.ingest.plans` and then the
pupil-day rules of :mod:`fravaer.days`: rows that repeat another row exactly are dropped with a
warning; rows that disagree about the same pupil, date and category, and pupil-days whose
absent fractions add up to more than a whole day, are refused. Each finding is a
:class:`~fravaer.errors.BadInputError` at its :class:`~fravaer.ingest.origin.Origin`: file,
line (CSV), row (Excel, Parquet), column number and column name as written in the file, never
the cell's value, which is children's data (docs/data-format.md).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import polars as pl

from fravaer import schema as s
from fravaer.classify import pupil_partition_expr
from fravaer.days import ROW_KEY, day_units_expr, first_conflict, over_full_days, over_full_expr
from fravaer.ingest.dictionary import evaluate, ordinal
from fravaer.ingest.headers import LESSON, missing_column_hint
from fravaer.ingest.origin import LINE, ROW_INDEX, Origin
from fravaer.ingest.plans import Check, Plan, TypeProblem, column_plans

log = logging.getLogger("fravaer")

_COUNT = "_count"
_SECOND = "_second"
_FIRST = "_first"
_UNITS = "_units"
_CATEGORIES = "_categories"
_PUPIL = "_pupil"
_POSITION = "_position"
_START = "_start"
_BEFORE = "_before"
_DAY_BEFORE = "_day_before"
_BACK = "_back"
_SHARED = "_shared"
_KEY = "_key"
_PAIRED = (s.SCHOOL_ID, s.CLASS_NAME)


@dataclass(frozen=True)
class Validated:
    """The canonical frame, its number of rows, and the number of records read (not blank)."""

    frame: pl.LazyFrame
    rows: int
    read: int
    pupil_ids: pl.Series | None = None
    """The distinct pupil ids as written, when the column is text (a lazy source gathers them
    for its checks anyway): for the lost-zero warning (``finish.warn_lost_zeros``)."""


def validate(
    raw: pl.LazyFrame,
    schema: pl.Schema,
    origin: Origin,
    *,
    unindexed: pl.LazyFrame,
    plans: dict[str, Plan] | None = None,
    lines: pl.Expr | None = None,
    day_checks: bool = True,
    decode_all: bool = False,
) -> Validated:
    """Check every cell, then duplicates and day totals; the canonical frame and its row counts.

    ``raw`` carries the source's record index in ``_row``; ``unindexed`` is the same rows without.

    ``plans`` say how each column is read (default: the canonical format's rules); ``lines``,
    if given, is kept as the column :data:`LINE` (each row's line or row number, computed from
    ``raw``); ``day_checks=False`` keeps repeated, conflicting and over-full pupil-days. A
    ``lesson`` column (lesson-level exports) is kept as text and turns the day checks off.

    ``decode_all`` (Parquet, which every later query reads again)
    also decodes the columns that have no check, so that a damaged page is refused here (exit
    65) instead of failing a later query as an internal error.
    """
    require_columns(schema, origin)
    if plans is None:
        try:
            plans = column_plans(schema)
        except TypeProblem as problem:
            raise origin.error(
                None, problem.column, f"column {problem.problem}", hint=problem.hint
            ) from None

    checks = [check for plan in plans.values() for check in plan.checks]
    bad = [check.bad for check in checks]
    # Whether any cell fails is one parallel pass without a row index; where the first bad
    # cell is, is looked up only for the checks that failed. ``decode_all`` also decodes the
    # columns that have no check, so a damaged file fails here rather than in a later query.
    padding = {name: plan.padded for name, plan in plans.items() if plan.padded is not None}
    unchecked = [
        plan.typed.null_count().alias(f"_decoded_{name}")
        for name, plan in plans.items()
        if decode_all and not plan.checks and name in schema
    ]
    if decode_all and LESSON in schema:  # read as text below, with no check of its own
        unchecked.append(pl.col(LESSON).null_count().alias(f"_decoded_{LESSON}"))
    # A text column's checks (blank, formula, hidden characters) and padding depend on its text
    # alone: they are computed on its distinct values, which costs less than computing them
    # row by row (docs/performance.md). Each column's distinct values are a plan of their own,
    # collected with the summary: polars runs the plans side by side (each reads its columns;
    # one select of them all ran on about one core).
    by_values = [name for name, plan in plans.items() if plan.by_values and name in schema]
    summary = unindexed.select(
        pl.len().alias("rows"),
        *(
            flag.any().alias(str(i))
            for i, flag in enumerate(bad)
            if checks[i].column not in by_values
        ),
        *(
            flag.any().alias(f"padded {name}")
            for name, flag in padding.items()
            if name not in by_values
        ),
        *unchecked,
    )
    found_summary, values = _summary_and_values(unindexed, summary, by_values, origin)
    ids = values[s.PUPIL_ID].to_series() if s.PUPIL_ID in values else None

    def hit(flag: pl.Expr, column: str, alias: str) -> bool:
        if column in values:
            return bool(values[column].select(flag.any()).item())
        return bool(found_summary[alias].item())

    n_rows = found_summary["rows"].item()
    hits = [hit(flag, checks[i].column, str(i)) for i, flag in enumerate(bad)]
    padded = {name for name, flag in padding.items() if hit(flag, name, f"padded {name}")}
    if n_rows == 0:
        raise origin.error_at_line(None, None, "no data rows")
    failing = [i for i, hit in enumerate(hits) if hit]
    if failing:
        first_bad = raw.select(
            pl.col(ROW_INDEX).filter(bad[i]).min().alias(str(i)) for i in failing
        )
        found = collect_cells(first_bad, origin).row(0)
        _refuse_first_bad(list(zip(found, failing, strict=True)), checks, origin)

    typed = [
        (plan.typed if plan.unpadded is None or name in padded else plan.unpadded).alias(name)
        for name, plan in plans.items()
    ]
    # A lesson-level export repeats a pupil's day once per lesson: its day checks are made after
    # the lessons are added up (shapes.from_lessons), and the lesson is passed on as text.
    lesson = LESSON in schema
    if lesson:
        day_checks = False
    repeated = (
        _check_shared_days(
            raw.select(pl.col(ROW_INDEX), *typed),
            unindexed.select(typed),
            unindexed.select(typed).select(pl.col(s.PUPIL_ID).alias(_PUPIL), s.DATE),
            origin,
            n_rows=n_rows,
            # The distinct ids were gathered above; unpadded, they are the pupils read.
            pupils=len(ids) if ids is not None and s.PUPIL_ID not in padded else None,
        )
        if day_checks
        else []
    )
    if repeated:
        raw = raw.filter(~pl.col(ROW_INDEX).is_in(repeated))
    if lesson:
        typed.append(pl.col(LESSON).cast(pl.String).str.strip_chars().alias(LESSON))
    if lines is not None:
        selected = raw.select(*typed, lines.cast(pl.Int64).alias(LINE))
        return Validated(selected, n_rows - len(repeated), n_rows, ids)
    # Without repeated rows the row index is not needed, and dropping it keeps the scan parallel.
    selected = (raw if repeated else unindexed).select(typed)
    return Validated(selected, n_rows - len(repeated), n_rows, ids)


def _summary_and_values(
    unindexed: pl.LazyFrame, summary: pl.LazyFrame, by_values: list[str], origin: Origin
) -> tuple[pl.DataFrame, dict[str, pl.DataFrame]]:
    """The summary and each by-value column's distinct values, collected side by side.

    A school has a few dozen classes, so the two columns have few distinct pairs: one plan
    takes those, which costs about what one column's distinct values did
    (docs/performance.md#layouts), and each column's values are read off the pairs. Every other
    column (the pupil's id: a value per pupil) is a plan of its own.
    """
    together = list(_PAIRED) if all(name in by_values for name in _PAIRED) else []
    alone = [name for name in by_values if name not in together]
    plans = [summary, *(unindexed.select(name).unique() for name in alone)]
    if together:
        plans.append(unindexed.select(together).unique())
    found = collect_cells_all(plans, origin)
    values = dict(zip(alone, found[1 : 1 + len(alone)], strict=True))
    if together:
        values |= {name: found[-1].select(name).unique() for name in together}
    return found[0], values


def _refuse_first_bad(
    found: list[tuple[int | None, int]], checks: list[Check], origin: Origin
) -> None:
    """Refuse the earliest bad cell: ``found`` pairs each check's first bad record (None when
    it has none) with the check's index; ties go to the earlier check."""
    present = [(row, i) for row, i in found if row is not None]
    if not present:
        return
    row, i = min(present)
    check = checks[i]
    if check.explain is not None:
        raise check.explain(row)
    raise origin.error(row, check.column, check.problem)


def validate_in_memory(
    rows: pl.DataFrame,
    plans: dict[str, Plan],
    origin: Origin,
    *,
    keep_lines: bool,
    day_checks: bool,
) -> Validated:
    """Validation of a source held in memory (CSV, Excel): the checks, then the day checks;
    the typed frame is returned lazily.

    ``rows`` are the source's non-blank records with their index in ``_row``, every cell as
    text or as a categorical of its text. Reading text is the expensive part of such a source
    (dates and numbers parsed, spaces stripped, codes mapped); on categorical columns each
    distinct text is read once (:func:`~fravaer.ingest.dictionary.evaluate`), and the typed
    frame returned is a look-up over ``rows`` that later queries compute as they read it.
    """
    if rows.is_empty():
        raise origin.error_at_line(None, None, "no data rows")
    checks = [check for plan in plans.values() for check in plan.checks]
    flags = evaluate(
        rows, {ROW_INDEX: pl.col(ROW_INDEX)} | {str(i): c.bad for i, c in enumerate(checks)}
    )
    first_bad = flags.select(
        pl.col(ROW_INDEX).filter(pl.col(str(i))).min().alias(str(i)) for i in range(len(checks))
    )
    found = collect_cells(first_bad, origin).row(0)
    _refuse_first_bad([(row, i) for i, row in enumerate(found)], checks, origin)

    columns = {ROW_INDEX: pl.col(ROW_INDEX)} | {name: plan.typed for name, plan in plans.items()}
    if LESSON in rows.columns:
        columns[LESSON] = pl.col(LESSON).cast(pl.String).str.strip_chars()
    if keep_lines:
        columns[LINE] = pl.col(LINE).cast(pl.Int64)
    typed = evaluate(rows, columns)
    repeated = []
    if day_checks and LESSON not in rows.columns:
        # The pupils as numbers in the ids' order: comparing them is cheaper than comparing text.
        pupils = ordinal(rows, plans[s.PUPIL_ID].typed)
        days = evaluate(rows, {s.DATE: plans[s.DATE].typed}).with_columns(
            pl.lit(pupils).alias(_PUPIL)
        )
        day_columns = typed.select(ROW_INDEX, *plans)
        repeated = _check_shared_days(
            day_columns, day_columns.drop(ROW_INDEX), days, origin, n_rows=rows.height
        )
    if repeated:
        typed = typed.filter(~pl.col(ROW_INDEX).is_in(repeated))
    return Validated(typed.drop(ROW_INDEX), rows.height - len(repeated), rows.height)


def _check_shared_days(
    typed: pl.LazyFrame,
    unindexed: pl.LazyFrame,
    days: pl.LazyFrame,
    origin: Origin,
    *,
    n_rows: int,
    pupils: int | None = None,
) -> list[int]:
    """:func:`_check_days` on the days with several rows alone when the rows of each pupil-day
    are known to be next to each other (:func:`_rows_of_shared_days`), on every day otherwise.

    ``typed`` carries the record in ``_row``, ``unindexed`` is the same rows without it, and
    ``days`` has each row's pupil (``_pupil``: the id, or a number in the same order) and date;
    ``pupils``, when known, is the number of distinct pupils of ``days``.
    """
    shared = _rows_of_shared_days(days, origin, pupils=pupils)
    if shared is None:
        return _check_days(typed, unindexed, origin, n_rows=n_rows)
    if shared.is_empty():
        return []
    rows = typed.with_row_index(_POSITION).filter(pl.col(_POSITION).is_in(shared.implode()))
    candidates = collect_cells(rows.drop(_POSITION), origin)
    return _check_days(
        candidates.lazy(), candidates.lazy().drop(ROW_INDEX), origin, n_rows=candidates.height
    )


def _rows_of_shared_days(
    days: pl.LazyFrame, origin: Origin, *, pupils: int | None = None
) -> pl.Series | None:
    """The positions of the rows of pupil-days that have more than one row, or None when that
    is not cheap. ``pupils``: the number of distinct pupils of ``days`` when the caller knows
    it (else they are counted when needed).

    ``days`` has each row's date and pupil (``_pupil``, in an order of pupils). Exports list
    each pupil's days together and in date order: a *run* is rows of one pupil next to each
    other, with dates that never go back. When each pupil's runs cover date ranges apart (one
    run per pupil, the usual case; or a pupil who changed school, listed under each school),
    the rows of one pupil-day are next to each other, and a day with several rows is found by
    comparing each row with the one before it. Only those days can repeat a category or add up
    to more than a whole day (a single row is at most a whole day, checked per cell), so the
    aggregation over every pupil-day is needed for them alone. Measured on 20 M rows: 0.15 s
    instead of 0.9 s.
    """
    pupil, day = pl.col(_PUPIL), pl.col(s.DATE)
    same_pupil = (pupil == pupil.shift(1)).fill_null(value=False)
    same_day = same_pupil & (day == day.shift(1)).fill_null(value=False)
    pupils_in_order_expr = (pupil >= pupil.shift(1)).fill_null(value=True).all()
    # An export ordered by date shows it in its first rows: a run per row and pupils out of
    # order there are enough to take the aggregation, without reading the rest of the rows.
    first_runs, first_in_order = collect_cells(
        days.head(RUNS_TO_SORT + 1).select(
            (~same_pupil).sum().alias("runs"), pupils_in_order_expr.alias("in_order")
        ),
        origin,
    ).row(0)
    if first_runs > RUNS_TO_SORT and not first_in_order:
        return None
    # One pass reads the rows that decide: each run's first row with the date of the row before
    # it (the previous run's last date), a date that goes back, a row of the same day as the
    # row before. An export listed pupil by pupil has few of them (two passes over every row
    # before: 2.7 s of a national year's 20 s, docs/performance.md); more than MARKED_ROWS are
    # not cheap. The row before is read once, as columns: comparing with shifted expressions
    # (and looking ahead for each run's last row) cost half as much again.
    before, day_before = pl.col(_BEFORE), pl.col(_DAY_BEFORE)
    follows = pupil == before  # null on the first row
    marked = collect_cells(
        days.with_columns(pupil.shift(1).alias(_BEFORE), day.shift(1).alias(_DAY_BEFORE))
        .select(
            _PUPIL,
            s.DATE,
            _DAY_BEFORE,
            (~follows).fill_null(value=True).alias(_START),
            (follows & (day < day_before)).fill_null(value=False).alias(_BACK),
            (follows & (day == day_before)).fill_null(value=False).alias(_SHARED),
        )
        .filter(pl.col(_START) | pl.col(_BACK) | pl.col(_SHARED))
        .head(MARKED_ROWS + 1),
        origin,
    )
    if marked.height > MARKED_ROWS or marked.get_column(_BACK).any():
        return None
    starts = marked.filter(_START)
    runs = starts.height
    # Within a run the pupil does not change: the pupils are in order when the runs' are.
    pupils_in_order = bool(starts.select(pupils_in_order_expr).item())
    # Many short runs (an export ordered by date has one per row) cost more to sort and
    # compare than the aggregation over every pupil-day (docs/performance.md#layouts); the
    # pupils are then not even counted.
    if not pupils_in_order and (
        runs > RUNS_TO_SORT
        or (runs != (pupils or _pupils(days, origin)) and not _runs_apart(starts, days, origin))
    ):
        return None
    if not marked.get_column(_SHARED).any():
        return pl.Series(_POSITION, [], dtype=pl.UInt32)
    in_shared_day = same_day | same_day.shift(-1).fill_null(value=False)
    positions = days.with_row_index(_POSITION).filter(in_shared_day).select(_POSITION)
    return collect_cells(positions, origin).to_series()


def _pupils(days: pl.LazyFrame, origin: Origin) -> int:
    """The number of pupils of ``days``, or fewer: text ids are counted by their hashes, which
    is cheaper, and hashes that collide count fewer. Enough to see whether there is one run of
    rows per pupil: pupils <= distinct ids <= runs, so runs == pupils still proves it."""
    pupil = pl.col(_PUPIL)
    text = days.collect_schema()[_PUPIL] == pl.String
    distinct = (_id_hash_expr(pupil) if text else pupil).n_unique()
    return int(collect_cells(days.select(distinct), origin).item())


RUNS_TO_SORT = 2_000_000
"""At most this many runs of pupils are sorted to show that each pupil-day's rows are next to
each other; an export listed school by school has a run or two per pupil. Above it (an export
ordered by date has a run per row) the pupils are not counted either, and every pupil-day is
aggregated, even in the (unseen) export of more pupils than this, each in one run."""

MARKED_ROWS = RUNS_TO_SORT + 1_000_000
"""At most this many rows are read into memory to decide on the short cut: a run's first row,
and a million rows of days with several rows. With more, every pupil-day is aggregated, as
when the short cut is not taken: the same answer, and no list of every row of a day with
several rows held in memory."""


def _runs_apart(starts: pl.DataFrame, days: pl.LazyFrame, origin: Origin) -> bool:
    """Whether the runs of each pupil (rows of the pupil next to each other, dates in order)
    cover date ranges that do not meet: then no pupil-day is in two runs. ``starts`` are each
    run's first row, in the order of the runs, with the date of the row before it
    (:data:`_DAY_BEFORE`): that is the previous run's last date, and the last run's is the last
    row's of ``days``.

    A run's range is its first and last row's dates; the runs are few (one per pupil and
    school for an export listed school by school), so they are sorted and compared in memory.
    """
    last = collect_cells(days.select(s.DATE).tail(1), origin)
    pupil = pl.col(_PUPIL)
    ranges = pl.concat(
        [
            starts.select(_PUPIL, pl.col(s.DATE).alias(_FIRST)),
            pl.concat([starts.get_column(_DAY_BEFORE).slice(1), last.get_column(s.DATE)])
            .alias(_SECOND)
            .to_frame(),
        ],
        how="horizontal",
    ).sort(_PUPIL, _FIRST)
    apart = (pupil != pupil.shift(1)) | (pl.col(_SECOND).shift(1) < pl.col(_FIRST))
    return bool(ranges.select(apart.fill_null(value=True).all()).item())


def require_columns(schema: pl.Schema | list[str], origin: Origin, *, hint: bool = False) -> None:
    """Refuse (at the header's line) a source without every required column; ``hint`` adds
    where the column's Danish names are listed."""
    missing = [c for c in s.REQUIRED_COLUMNS if c not in schema]
    if missing:
        advice = missing_column_hint(missing[0]) if hint else None
        raise origin.error_at_line(
            origin.header_line, None, f"missing required column '{missing[0]}'", hint=advice
        )


DAY_CHECK_ROWS = 30_000_000
"""Rows per pass of the pupil-day check; a national year (100 M rows) takes four passes."""


def _check_days(
    typed: pl.LazyFrame, unindexed: pl.LazyFrame, origin: Origin, *, n_rows: int
) -> list[int]:
    """Refuse conflicting duplicates and over-full days; return the rows that repeat another.

    One pass counts rows per category and absence per pupil-day, without a row index; only the
    (normally no) days that repeat a category or hold more than a whole day of absence are then
    read row by row, so a clean national file costs one plain aggregation. ``typed`` carries
    the record index in ``_row``; ``unindexed`` is the same rows without it.
    """
    day = [s.PUPIL_ID, s.DATE]
    # Rows per category of a pupil-day, counted in one sum: category i adds 2^(16 i), so each
    # 16-bit field of the sum is one category's count (a day has far fewer than 65,536 rows).
    field = {c: 2 ** (16 * i) for i, c in enumerate(s.CATEGORIES)}
    tally: pl.Expr = pl.lit(0, dtype=pl.UInt64)
    for category, weight in field.items():
        tally = (
            pl.when(pl.col(s.CATEGORY) == category).then(pl.lit(weight, pl.UInt64)).otherwise(tally)
        )
    counts = [(pl.col(_CATEGORIES) // weight) % 2**16 for weight in field.values()]

    # The days are found by a 64-bit key of pupil and date instead of the text id and the date
    # (cheaper to group and join, docs/performance.md#layouts). Keys that collide only merge
    # pupil-days, which adds rows, categories and units: every suspicious day is still found,
    # with perhaps a few more, and their rows are then checked by their real pupil and date.
    # Only a day of several rows can be suspicious (one row is at most a whole day, checked per
    # cell), so those days are found first, date by date: each date's pupils fill a table of
    # one day's size, not one of every pupil-day of the year.
    def suspicious(rows: pl.LazyFrame) -> pl.DataFrame:
        several = collect_cells(_days_of_several_rows(rows), origin)
        if several.is_empty():
            return several
        return collect_cells(
            rows.with_columns(_day_key_expr().alias(_KEY))
            .join(several.lazy(), on=_KEY, how="semi")
            .group_by(_KEY)
            .agg(
                pl.len().alias(_COUNT),
                tally.sum().alias(_CATEGORIES),
                day_units_expr().alias(_UNITS),
            )
            .filter(
                (pl.col(_COUNT) > 1) & pl.any_horizontal(count > 1 for count in counts)
                | over_full_expr(pl.col(_UNITS))
            )
            .select(_KEY),
            origin,
        )

    # The aggregation holds one entry per pupil-day: a national year is split into buckets of
    # pupils (each pass reads the rows again, but holds a part of the days).
    parts = max(1, -(-n_rows // DAY_CHECK_ROWS))
    found = pl.concat(
        [suspicious(unindexed.filter(pupil_partition_expr(k, parts))) for k in range(1, parts + 1)]
        if parts > 1
        else [suspicious(unindexed)]
    )
    keyed = typed.with_columns(_day_key_expr().alias(_KEY))
    rows = collect_cells(keyed.join(found.lazy(), on=_KEY, how="semi").drop(_KEY), origin)
    if rows.is_empty():
        return []
    repeating = (
        rows.group_by(day)
        .agg(pl.len().alias(_COUNT), pl.col(s.CATEGORY).n_unique().alias(_CATEGORIES))
        .filter(pl.col(_COUNT) > pl.col(_CATEGORIES))
    )
    repeated: list[int] = []
    kept = rows
    if not repeating.is_empty():
        repeats = rows.join(repeating, on=day, how="semi")
        kept_repeats = _refuse_conflicts(repeats, origin)
        repeated = sorted(set(repeats[ROW_INDEX]) - set(kept_repeats[ROW_INDEX]))
        log.warning("%s: ignored %d repeated row(s)", origin.file, len(repeated))
        kept = rows.filter(~pl.col(ROW_INDEX).is_in(repeated))
    over_full = (
        over_full_days(kept.lazy(), order=ROW_INDEX)
        .select(pl.col(ROW_INDEX).min())
        .collect()
        .item()
    )
    if over_full is not None:
        raise origin.error(
            over_full,
            s.ABSENT_FRACTION,
            "absent fractions of one pupil-day add up to more than 1",
        )
    return repeated


def _days_of_several_rows(rows: pl.LazyFrame) -> pl.LazyFrame:
    """The keys (:func:`_day_key_expr`, column :data:`_KEY`) of the pupil-days with more than
    one row, and perhaps a few more where ids share a hash.

    Grouped by date first: a date's pupils are found twice in a table of that date's rows,
    which costs about half the grouping of every row by its pupil-day (docs/performance.md#layouts).
    """
    pupil = _id_hash_expr(pl.col(s.PUPIL_ID))
    return (
        rows.group_by(s.DATE)
        .agg(pupil.filter(pupil.is_duplicated()).alias(_PUPIL))
        .explode(_PUPIL)
        .drop_nulls(_PUPIL)
        .select(_day_key_expr(pl.col(_PUPIL)).alias(_KEY))
        .unique()
    )


def _day_key_expr(pupil: pl.Expr | None = None) -> pl.Expr:
    """A 64-bit key of a row's pupil-day: the id's hash (or ``pupil``, a hash already made)
    mixed with the date.

    Two pupil-days may share a key (rarely); :func:`_check_days` is exact all the same.
    """
    date = pl.col(s.DATE).to_physical().cast(pl.Int64) + 2**31  # never negative
    hashed = _id_hash_expr(pl.col(s.PUPIL_ID)) if pupil is None else pupil
    return hashed ^ date.cast(pl.UInt64)


def _id_hash_expr(pupil: pl.Expr) -> pl.Expr:
    """A pupil id's 64-bit hash, for the checks that stay exact when two ids share one."""
    return pupil.hash(seed=0)


def _refuse_conflicts(rows: pl.DataFrame, origin: Origin) -> pl.DataFrame:
    """Of rows sharing pupil, date and category, keep the first; refuse any that differ."""
    key = [s.PUPIL_ID, s.DATE, s.CATEGORY]
    conflict = first_conflict(
        rows, ROW_KEY, [c for c in rows.columns if c not in (*ROW_KEY, ROW_INDEX)], row=ROW_INDEX
    )
    if conflict is not None:
        raise origin.error(
            *conflict, "differs from an earlier row for the same pupil, date and category"
        )
    return rows.sort(ROW_INDEX).unique(subset=key, keep="first", maintain_order=True)


@contextmanager
def _cells_read(origin: Origin) -> Iterator[None]:
    """Translate polars' errors while cells are read: their messages can quote cells.

    A panic while the file's cells are first read is a damaged file (a Parquet page that does
    not decode), not a bug of ours: it is refused like any unreadable file.
    """
    try:
        yield
    except (pl.exceptions.PolarsError, pl.exceptions.PanicException, OSError) as exc:
        raise origin.error(None, None, f"cannot read the data ({type(exc).__name__})") from None


def collect_cells_all(frames: list[pl.LazyFrame], origin: Origin) -> list[pl.DataFrame]:
    """:func:`collect_cells` of several plans at once, run side by side (each reads its own
    columns: with one thread, two plans over one file took as long together as apart)."""
    with _cells_read(origin):
        return pl.collect_all(frames, engine="streaming")


def collect_cells(frame: pl.LazyFrame, origin: Origin) -> pl.DataFrame:
    """Collect, translating polars' errors (:func:`_cells_read`)."""
    with _cells_read(origin):
        return frame.collect(engine="streaming")
