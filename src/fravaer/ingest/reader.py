"""One file of an export, read by the reader its suffix asks for: CSV, Excel or Parquet.

This is a step of :func:`fravaer.ingest.read_export` (``ingest/load.py``), which every command
and the library read through: it reads each file with :func:`read_file_detected`, then turns
the file's shape into school days and combines the files. Read a file alone only to keep its
rows as they are (``fravaer pseudonymize`` writes them back). See docs/ingest.md.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from fravaer.errors import BadInputError, Location
from fravaer.ingest.csv import read_csv_table
from fravaer.ingest.detected import Detected
from fravaer.ingest.excel import EXCEL_SUFFIXES, read_excel_table
from fravaer.ingest.finish import finish
from fravaer.ingest.hours import finish_hours, reads_hours
from fravaer.ingest.parquet import read_parquet_detected
from fravaer.ingest.regular import check_readable
from fravaer.ingest.source import SourceOptions

CSV_SUFFIXES = (".csv", ".txt")
PARQUET_SUFFIXES = (".parquet", ".pq")
_DEFAULT_OPTIONS = SourceOptions()


def is_parquet_file(path: Path) -> bool:
    """Whether ``path`` is a file that :func:`read_file_detected` reads as Parquet."""
    return path.suffix.lower() in PARQUET_SUFFIXES and path.is_file()


def read_file_detected(
    path: Path,
    options: SourceOptions = _DEFAULT_OPTIONS,
    *,
    keep_lines: bool = False,
    day_checks: bool = True,
    hold: bool | None = None,
) -> tuple[pl.LazyFrame, Detected]:
    """Read one export file in its own shape, choosing the reader by the suffix; also what was
    detected.

    ``options`` are those of ``source.toml`` (:class:`~fravaer.ingest.source.SourceOptions`).
    ``keep_lines`` adds each row's source line (CSV), spreadsheet row (Excel) or 1-based row
    (Parquet) as ``_line``; ``day_checks=False`` keeps repeated, conflicting and over-full
    pupil-days (for ``check``); ``hold`` says whether a Parquet file is held in memory (None:
    by its own size; :func:`~fravaer.ingest.parquet.read_parquet_detected`).
    """
    check_readable(path)
    suffix = path.suffix.lower()
    if suffix in CSV_SUFFIXES + EXCEL_SUFFIXES:
        read_table = read_csv_table if suffix in CSV_SUFFIXES else read_excel_table
        table = read_table(path, options, keep_lines=keep_lines)
        if reads_hours(table.headers.positions, options):  # docs/shapes.md#exports-in-hours
            return finish_hours(table, options, keep_lines=keep_lines)
        return finish(table, options, keep_lines=keep_lines, day_checks=day_checks)
    if suffix in PARQUET_SUFFIXES:
        return read_parquet_detected(
            path, options, keep_lines=keep_lines, day_checks=day_checks, hold=hold
        )
    raise BadInputError(
        Location(str(path)),
        "unsupported file type",
        hint=f"give a {' or '.join(CSV_SUFFIXES + EXCEL_SUFFIXES + PARQUET_SUFFIXES)} file",
    )


def read_file(
    path: Path,
    options: SourceOptions = _DEFAULT_OPTIONS,
    *,
    keep_lines: bool = False,
    day_checks: bool = True,
) -> pl.LazyFrame:
    """:func:`read_file_detected` without what was detected: one file's rows in its own shape."""
    return read_file_detected(path, options, keep_lines=keep_lines, day_checks=day_checks)[0]
