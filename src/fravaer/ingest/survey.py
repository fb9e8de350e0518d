"""What ``fravaer inspect`` can still list of a CSV or Excel export that was refused.

A new export usually fails on its first reading: a header that no alias names, or labels the
code table does not know. ``inspect`` then lists what it found before it fails (exit 65): every
header with the column it maps to or as not read, the required columns no header names, and
every distinct category code with its count and meaning, an unknown one named only when it may
be shown (:func:`~fravaer.ingest.codes.shown_values`, docs/privacy.md#category-labels). No
other cell is looked at (docs/ingest.md#confirm-what-was-read-fravaer-inspect).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl

from fravaer import schema as s
from fravaer.errors import FravaerError
from fravaer.ingest.codes import code_table, shown_values
from fravaer.ingest.csv import read_csv_table
from fravaer.ingest.excel import EXCEL_SUFFIXES, read_excel_table
from fravaer.ingest.finish import Table
from fravaer.ingest.load import Exports
from fravaer.ingest.multi import expand_paths
from fravaer.ingest.plans import blank_expr
from fravaer.ingest.reader import CSV_SUFFIXES
from fravaer.ingest.source import SourceOptions
from fravaer.ingest.text import has_hidden_character


def survey(exports: Exports, options: SourceOptions) -> dict[str, Any]:
    """The header and codes of each CSV or Excel file named, as far as they can be read.

    A file that cannot be read as far as its header (an unknown separator, a damaged workbook)
    or that is not CSV or Excel is listed by name only.
    """
    named = [exports] if isinstance(exports, str | Path) else exports
    try:
        paths = expand_paths([str(export) for export in named])
    except FravaerError:
        return {"files": []}
    return {"files": [_survey_file(path, options) for path in paths]}


def _survey_file(path: Path, options: SourceOptions) -> dict[str, Any]:
    entry: dict[str, Any] = {"file": str(path)}
    suffix = path.suffix.lower()
    try:
        if suffix in CSV_SUFFIXES:
            table = read_csv_table(path, options)
        elif suffix in EXCEL_SUFFIXES:
            table = read_excel_table(path, options)
        else:
            return entry
    except FravaerError:
        return entry
    detected = table.detected
    entry |= {
        "file_type": detected.file_type,
        "encoding": detected.encoding,
        "separator": detected.separator,
        "sheet": detected.sheet,
        "columns": table.headers.original,
        "dropped_columns": list(table.headers.dropped),
        "missing_columns": [c for c in s.REQUIRED_COLUMNS if c not in table.headers.positions],
    }
    if detected.header_row != 1:
        entry["header_row"] = detected.header_row
    entry |= _codes(table, options)
    return entry


def _codes(table: Table, options: SourceOptions) -> dict[str, Any]:
    """Every distinct code (stripped) with its meaning (None: unknown) and rows; the unknown
    ones that may not be shown only counted."""
    frame = table.frame
    if s.CATEGORY not in frame.columns:
        return {"codes": {}}
    filled = frame.filter(~pl.all_horizontal(blank_expr(c) for c in frame.columns))
    counts = (
        filled.select(pl.col(s.CATEGORY).cast(pl.String).fill_null("").alias("code"))
        .group_by("code")
        .len()
    )
    lookup = code_table(options.codes)
    known: dict[str, tuple[str, int]] = {}
    unknown: dict[str, int] = {}
    for raw, n in counts.iter_rows():
        code = raw.strip()
        meaning = None if has_hidden_character(raw) else lookup.lookup(code)
        if meaning is None:
            unknown[code] = unknown.get(code, 0) + n
        else:
            category, rows = known.get(code, (meaning.category, 0))
            known[code] = (category, rows + n)
    showable = shown_values(unknown)
    listed: dict[str, dict[str, Any]] = {
        code: {"category": category, "rows": n} for code, (category, n) in known.items()
    }
    listed |= {
        code: {"category": None, "rows": n} for code, n in unknown.items() if code in showable
    }
    ordered = dict(sorted(listed.items(), key=lambda item: (-item[1]["rows"], item[0])))
    hidden = [n for code, n in unknown.items() if code not in showable]
    out: dict[str, Any] = {"codes": ordered}
    if hidden:
        out["codes_not_shown"] = {"values": len(hidden), "rows": sum(hidden)}
    return out
