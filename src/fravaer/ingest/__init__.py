"""Source formats -> the canonical attendance frame (docs/data-format.md).

Ingest is the only part of fravaer that knows about source formats; everything after it sees the
validated canonical frame as a polars ``LazyFrame``. There is one way in: :func:`read_export`
(the files, globs and folders named, each read by its suffix's reader, turned from its shape
into school days, and combined), which every command and the library use. What each source
format allows, and how it is detected, is in docs/ingest.md and docs/shapes.md.
"""

from __future__ import annotations

from fravaer.ingest.csv import read_csv
from fravaer.ingest.detected import Detected
from fravaer.ingest.excel import read_excel
from fravaer.ingest.load import Loaded, load, read_export
from fravaer.ingest.parquet import read_parquet
from fravaer.ingest.reader import read_file, read_file_detected
from fravaer.ingest.source import SourceOptions

__all__ = [
    "Detected",
    "Loaded",
    "SourceOptions",
    "load",
    "read_csv",
    "read_excel",
    "read_export",
    "read_file",
    "read_file_detected",
    "read_parquet",
]
