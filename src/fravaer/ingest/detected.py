"""What ingest understood about one export, for ``fravaer inspect`` and for the record."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Detected:
    """What was detected (or taken from the options) while reading one export.

    ``encoding`` and ``separator`` are None for Excel and Parquet; ``sheet`` is the sheet read,
    by name, or as ``sheet N`` (its position) when its name could be an id
    (:func:`fravaer.ingest.excel.shown_sheet_name`); ``date_format`` is a
    ``strftime`` format such as ``%d.%m.%Y`` (the value ``date_format`` in ``source.toml``
    takes), ``excel`` when every date was an Excel date cell, or None when the dates were typed
    (Parquet). ``columns`` maps each canonical column read to its header in the file; ``dropped``
    lists the columns that were not read (their values never are): by header, or as
    ``column N`` when the header could be an id (:func:`fravaer.ingest.headers.column_label`).
    ``codes`` maps each category code as written (stripped; ``""`` for blank) to its category
    and number of rows. ``rows`` is the number of rows in the canonical frame (repeated rows
    dropped, blank lines not counted).
    """

    file_type: str
    encoding: str | None = None
    separator: str | None = None
    sheet: str | None = None
    date_format: str | None = None
    columns: Mapping[str, str] = field(default_factory=dict)
    dropped: tuple[str, ...] = ()
    codes: Mapping[str, tuple[str, int]] = field(default_factory=dict)
    rows: int = 0
    header: tuple[str, ...] = ()
    """The file's header as written, every column in file order (for column numbers)."""
    header_row: int = 1
    """The 1-based line (CSV) or row (Excel) the header was read from; 1 for Parquet."""
