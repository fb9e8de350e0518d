"""Source formats -> the canonical attendance frame (SPEC §3).

Ingest is the only part of fravaer that knows about source formats; everything after it sees the
validated canonical frame as a polars ``LazyFrame``.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from fravaer.errors import BadInputError, Location
from fravaer.ingest.canonical import check_readable, read_csv, read_parquet

CSV_SUFFIXES = (".csv", ".txt")
PARQUET_SUFFIXES = (".parquet", ".pq")


def read_export(path: Path) -> pl.LazyFrame:
    """Read an attendance export, choosing the reader by the file's suffix."""
    check_readable(path)
    suffix = path.suffix.lower()
    if suffix in CSV_SUFFIXES:
        return read_csv(path)
    if suffix in PARQUET_SUFFIXES:
        return read_parquet(path)
    raise BadInputError(
        Location(str(path)),
        "unsupported file type",
        hint=f"give a {' or '.join(CSV_SUFFIXES + PARQUET_SUFFIXES)} file",
    )


__all__ = ["read_csv", "read_export", "read_parquet"]
