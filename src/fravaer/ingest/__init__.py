"""Source formats -> the canonical attendance frame (SPEC §3).

Ingest is the only part of fravaer that knows about source formats; everything after it sees the
validated canonical frame as a polars ``LazyFrame``. What each source format allows, and how it
is detected, is in docs/ingest.md.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from fravaer.errors import BadInputError, Location
from fravaer.ingest.canonical import (
    check_readable,
    read_csv,
    read_csv_detected,
    read_parquet,
    read_parquet_detected,
)
from fravaer.ingest.detected import Detected
from fravaer.ingest.excel import EXCEL_SUFFIXES, read_excel, read_excel_detected
from fravaer.ingest.source import SourceOptions

CSV_SUFFIXES = (".csv", ".txt")
PARQUET_SUFFIXES = (".parquet", ".pq")
_DEFAULT_OPTIONS = SourceOptions()


def read_export_detected(
    path: Path,
    options: SourceOptions = _DEFAULT_OPTIONS,
    *,
    keep_lines: bool = False,
    day_checks: bool = True,
) -> tuple[pl.LazyFrame, Detected]:
    """Read an attendance export, choosing the reader by the file's suffix; also what was detected.

    ``options`` are those of ``source.toml`` (:class:`~fravaer.ingest.source.SourceOptions`);
    Parquet is read in the canonical format and ignores them. ``keep_lines`` adds each row's
    source line (CSV), spreadsheet row (Excel) or 1-based row (Parquet) as ``_line``;
    ``day_checks=False`` keeps repeated, conflicting and over-full pupil-days (for ``check``).
    """
    check_readable(path)
    suffix = path.suffix.lower()
    if suffix in CSV_SUFFIXES:
        return read_csv_detected(path, options, keep_lines=keep_lines, day_checks=day_checks)
    if suffix in EXCEL_SUFFIXES:
        return read_excel_detected(path, options, keep_lines=keep_lines, day_checks=day_checks)
    if suffix in PARQUET_SUFFIXES:
        return read_parquet_detected(path, keep_lines=keep_lines, day_checks=day_checks)
    raise BadInputError(
        Location(str(path)),
        "unsupported file type",
        hint=f"give a {' or '.join(CSV_SUFFIXES + EXCEL_SUFFIXES + PARQUET_SUFFIXES)} file",
    )


def read_export(
    path: Path,
    options: SourceOptions = _DEFAULT_OPTIONS,
    *,
    keep_lines: bool = False,
    day_checks: bool = True,
) -> pl.LazyFrame:
    """Read an attendance export, choosing the reader by the file's suffix.

    See :func:`read_export_detected`; this returns only the canonical frame.
    """
    return read_export_detected(path, options, keep_lines=keep_lines, day_checks=day_checks)[0]


__all__ = [
    "Detected",
    "SourceOptions",
    "read_csv",
    "read_excel",
    "read_export",
    "read_export_detected",
    "read_parquet",
]
