"""Read a Parquet export into the canonical frame, lazily (docs/data-format.md, docs/ingest.md).

The canonical columns, either typed (string ids, ``date`` as Date, numeric fraction and grade)
or as strings; ``[columns]`` and ``[codes]`` of ``source.toml`` apply as to a CSV file. The
cells are checked by :func:`~fravaer.ingest.validate.validate`, which collects only small
aggregates. A file of at most :data:`IN_MEMORY_ROWS` rows (counted with the run's other
Parquet files, :func:`may_hold`) is first read into memory once, so the checks and every later
query read memory instead of decoding the file again; a larger one (a national year, whole or
in parts) is checked and queried on the scan, without holding it (docs/decisions.md). A
damaged file is refused (exit 65) here, not in a later query.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path

import polars as pl

from fravaer import schema as s
from fravaer.ingest.dates import ISO
from fravaer.ingest.detected import Detected
from fravaer.ingest.finish import warn_lost_zeros
from fravaer.ingest.headers import LESSON, column_label, refuse_hidden_names
from fravaer.ingest.origin import ROW_INDEX, Origin
from fravaer.ingest.plans import (
    CodeRule,
    Plan,
    TypeProblem,
    canonical_codes,
    code_counts,
    code_rule,
    column_plans,
)
from fravaer.ingest.regular import check_readable
from fravaer.ingest.source import SourceOptions
from fravaer.ingest.validate import collect_cells, validate
from fravaer.lessons import START_TIME, SUBJECT

_DEFAULT_OPTIONS = SourceOptions()
IN_MEMORY_ROWS = 25_000_000
"""The most rows of a Parquet export read into memory before its checks. 19 M rows of a large
municipality take about 0.6 GB there, and `classify` of them 14–18 % less time; a national year
(about 100 M rows) is streamed instead, to keep its peak memory low (docs/decisions.md)."""
_KEPT = (*s.CANONICAL_SCHEMA, s.SCHOOL_NAME)
"""The columns read from a Parquet export; the school's name is read apart (``ingest.load``)."""


def read_parquet_detected(
    path: Path,
    options: SourceOptions = _DEFAULT_OPTIONS,
    *,
    keep_lines: bool = False,
    day_checks: bool = True,
    hold: bool | None = None,
) -> tuple[pl.LazyFrame, Detected]:
    """Read and validate a Parquet export: held in memory when ``hold`` says so, lazily
    otherwise; only small aggregates are collected. ``hold`` is the caller's decision
    (:func:`fravaer.ingest.load.load` counts the run's Parquet files together, :func:`may_hold`);
    None: held when the file has at most :data:`IN_MEMORY_ROWS` rows.

    ``[columns]`` and ``[codes]`` of ``options`` apply as to a CSV file (docs/ingest.md): a
    column named in ``[columns]`` is read as its canonical column, and a text category column
    is read through the code table (built-in codes and the local ones), so that a data
    platform's own names and codes need no conversion. Without them, the canonical format.
    """
    check_readable(path)
    origin = Origin(str(path))
    try:
        scan = pl.scan_parquet(path, glob=False)  # "fravær [uge 10].parquet" is one file
        schema = scan.collect_schema()
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise origin.error(
            None, None, f"not a readable Parquet file ({type(exc).__name__})"
        ) from None
    header = list(schema)
    origin = replace(origin, header=tuple(header))
    refuse_hidden_names(header, file=str(path), line=None)
    renamed = _parquet_columns(header, options, origin)
    if renamed:
        scan = scan.rename(renamed)
        schema = scan.collect_schema()
        positions = {canonical: header.index(name) for name, canonical in renamed.items()}
        origin = replace(origin, positions=positions)
    held = may_hold([path]) if hold is None else hold
    if held:
        scan = _in_memory(scan, schema, origin)
    plans: dict[str, Plan] | None = None
    counts: dict[str, int] = {}
    codes: CodeRule | None = None
    if isinstance(schema.get(s.CATEGORY), pl.String | pl.Categorical):
        # A text category is read through its few distinct cells: with local codes, through
        # the code table; without, through the canonical names it holds, one cast instead of
        # stripping and comparing every row's text in every pass (docs/performance.md#layouts).
        # Held in memory with nothing but canonical names, it becomes the canonical Enum there.
        found = collect_cells(scan.group_by(pl.col(s.CATEGORY).cast(pl.String)).len(), origin)
        as_enum = held and not options.codes and _only_names(found[s.CATEGORY])
        rule: CodeRule | None = None
        if as_enum:
            schema = pl.Schema({**schema, s.CATEGORY: s.CATEGORY_DTYPE})  # every column kept
        else:
            if options.codes:
                codes, counts = code_rule(found, origin, options)
            rule = codes or canonical_codes(found[s.CATEGORY])
        try:  # a column of the wrong type is refused before a missing one (by validate)
            plans = column_plans(schema, codes=rule)
        except TypeProblem as problem:
            raise origin.error(
                None, problem.column, f"column {problem.problem}", hint=problem.hint
            ) from None
        if as_enum:
            scan = _names_as_enum(scan, origin)
    validated = validate(
        scan.with_row_index(ROW_INDEX),
        schema,
        origin,
        unindexed=scan,
        plans=plans,
        lines=pl.col(ROW_INDEX) + 1 if keep_lines else None,
        day_checks=day_checks,
        decode_all=True,
    )
    if validated.pupil_ids is not None:
        warn_lost_zeros(validated.pupil_ids, origin)
    date_format = ISO if isinstance(schema.get(s.DATE), pl.String) else None
    detected = Detected(
        "parquet",
        date_format=date_format,
        columns={
            c: next((k for k, v in renamed.items() if v == c), c) for c in schema if c in _KEPT
        },
        dropped=tuple(column_label(c, i) for i, c in enumerate(schema, start=1) if c not in _KEPT),
        codes=code_counts(counts, codes, options, blank_lines=0) if codes else {},
        rows=validated.rows,
        header=tuple(header),
    )
    return validated.frame, detected


def _in_memory(scan: pl.LazyFrame, schema: pl.Schema, origin: Origin) -> pl.LazyFrame:
    """The columns of ``scan`` that are read, held in memory. A page that does not decode is
    refused here as it would be by the checks. The columns read are the canonical ones, the
    school's name, and with a lesson the lesson, subject and start
    (:func:`~fravaer.ingest.plans.column_plans`); any other column of the file is left on disk."""
    lesson = (LESSON, SUBJECT, START_TIME) if LESSON in schema else ()
    read = [name for name in schema if name in (*_KEPT, *lesson)]
    return collect_cells(scan.select(read), origin).lazy()


def _only_names(cells: pl.Series) -> bool:
    """Whether a text category's distinct ``cells`` are all canonical names as they are
    written: no padding, no blank, no code."""
    return all(cell in s.CATEGORIES for cell in cells.to_list())


def _names_as_enum(held: pl.LazyFrame, origin: Origin) -> pl.LazyFrame:
    """A frame in memory whose text category holds canonical names only, with the category as
    the canonical Enum: once here, where every later pass would cast the text again. The
    frame then reads as a typed export's: the same cells, nothing left to refuse in the
    column (docs/performance.md#layouts)."""
    category = pl.col(s.CATEGORY).cast(pl.String).cast(s.CATEGORY_DTYPE)
    return collect_cells(held.with_columns(category), origin).lazy()


def may_hold(paths: Iterable[Path]) -> bool:
    """Whether the Parquet files ``paths`` of one run may be held in memory: together they have
    at most :data:`IN_MEMORY_ROWS` rows (from their metadata; a file that cannot be read counts
    none, and its reader says why)."""
    return sum(map(_rows, paths)) <= IN_MEMORY_ROWS


def _rows(path: Path) -> int:
    try:
        return int(pl.scan_parquet(path, glob=False).select(pl.len()).collect().item())
    except (pl.exceptions.PolarsError, pl.exceptions.PanicException, OSError):
        return 0


def _parquet_columns(header: list[str], options: SourceOptions, origin: Origin) -> dict[str, str]:
    """``[columns]`` as a renaming of the file's columns (written -> canonical)."""
    renamed: dict[str, str] = {}
    for canonical, written in options.columns.items():
        if written == canonical:
            continue
        if written not in header:
            raise origin.error_at_line(
                None,
                None,
                f"column '{written}' given for '{canonical}' in [columns] is not in the file",
                hint="check [columns] in source.toml against the file's column names",
            )
        renamed[written] = canonical
    return renamed


def read_parquet(
    path: Path,
    options: SourceOptions = _DEFAULT_OPTIONS,
    *,
    keep_lines: bool = False,
    day_checks: bool = True,
) -> pl.LazyFrame:
    """Read and validate a Parquet export (:func:`read_parquet_detected`), held in memory up to
    :data:`IN_MEMORY_ROWS` rows.

    ``options`` give ``[columns]`` and ``[codes]`` as for CSV; ``keep_lines`` adds each row's
    1-based number as :data:`~fravaer.ingest.origin.LINE`; ``day_checks=False`` keeps repeated,
    conflicting and over-full pupil-days.
    """
    return read_parquet_detected(path, options, keep_lines=keep_lines, day_checks=day_checks)[0]
