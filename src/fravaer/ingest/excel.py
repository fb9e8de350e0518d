"""Excel ``.xlsx`` exports -> the canonical frame, through the same steps as CSV.

The sheet (``sheet`` in ``source.toml``, default the first visible one, with a warning when
sheets before it are hidden) is read with fastexcel (calamine, the engine behind
``polars.read_excel``) with every cell as text, so ids keep what the sheet shows and nothing is
inferred. ``polars.read_excel`` itself is not used because it drops empty rows, which would
shift every row number after them.

The header is ``header_row`` when given, else the first of the sheet's first 20 rows that names
every required column (a title may stand above it), else its first row with a value; messages
give the spreadsheet row number the user sees in Excel (the header's row plus the record).
Dates may be date cells, date serial numbers or text in one of the CSV date formats
(:mod:`fravaer.ingest.dates`); fractions may be numbers or text with a decimal comma or point.
"""

from __future__ import annotations

import logging
import re
import zipfile
from pathlib import Path, PurePosixPath
from typing import IO
from xml.etree import ElementTree

import fastexcel
import polars as pl

from fravaer.errors import BadInputError, Location
from fravaer.ingest.detected import Detected
from fravaer.ingest.finish import Table, finish
from fravaer.ingest.headers import HEADER_ROW_HINT, HEADER_SEARCH_ROWS, find_header_row, map_headers
from fravaer.ingest.origin import Origin
from fravaer.ingest.regular import check_readable
from fravaer.ingest.source import SourceOptions
from fravaer.ingest.text import shown_name
from fravaer.ingest.workbook import check_workbook

EXCEL_SUFFIXES = (".xlsx",)
_DEFAULT_OPTIONS = SourceOptions()
_SHEET_HINT = "set sheet in source.toml, or give --sheet, to read another"

log = logging.getLogger("fravaer")


def read_excel_table(
    path: Path, options: SourceOptions = _DEFAULT_OPTIONS, *, keep_lines: bool = False
) -> Table:
    """Read one sheet into a :class:`~fravaer.ingest.finish.Table`: mapped columns, as text."""
    check_readable(path)
    check_workbook(path)
    where = Location(str(path))
    try:
        reader = fastexcel.read_excel(str(path))
        names = list(reader.sheet_names)
    except (fastexcel.FastExcelError, OSError) as exc:
        raise BadInputError(where, f"not a readable Excel file ({type(exc).__name__})") from None
    if not names:
        raise BadInputError(where, "the workbook has no sheets")
    sheet = first_visible_sheet(path, names) if options.sheet is None else options.sheet
    if sheet not in names:
        asked = f"no sheet named '{sheet}'" if shown_sheet_name(sheet) else "no sheet of that name"
        listed = ", ".join(sheet_label(name, i) for i, name in enumerate(names, start=1))
        raise BadInputError(
            where,
            asked,
            hint=f"the sheets are: {listed}; set sheet in source.toml to one of them",
        )
    try:
        cells = reader.load_sheet(sheet, header_row=None, dtypes="string").to_polars()
    except (fastexcel.FastExcelError, OSError) as exc:
        raise BadInputError(where, f"not a readable Excel sheet ({type(exc).__name__})") from None
    top = _first_row(path, sheet)
    if cells.height == 0 or all(_text(v) == "" for v in cells.row(0)):
        raise BadInputError(Location(str(path), top), "sheet is empty (no header)")
    index = _header_index(path, cells, top, options)
    header_row = top + index
    header = [_text(value) for value in cells.row(index)]
    data = cells.slice(index + 1)
    headers = map_headers(header, columns=options.columns, file=str(path), line=header_row)
    first = header_row + 1
    origin = Origin(
        str(path),
        lambda record: first + record,
        headers.header,
        headers.positions,
        header_line=header_row,
    )
    table = data.select(
        pl.col(data.columns[i]).cast(pl.String).alias(c) for c, i in headers.positions.items()
    )
    lines = None
    if keep_lines:
        lines = pl.int_range(first, first + data.height, eager=True, dtype=pl.Int64)
    label = sheet_label(sheet, names.index(sheet) + 1)
    detected = Detected("xlsx", sheet=label, header_row=header_row)
    return Table(
        table, origin, headers, detected, decimal_comma=True, excel_dates=True, lines=lines
    )


def _header_index(path: Path, cells: pl.DataFrame, top: int, options: SourceOptions) -> int:
    """The 0-based index in ``cells`` (which start at the sheet's row ``top``) of the header:
    row ``header_row`` when given, else the first of the sheet's first
    :data:`~fravaer.ingest.headers.HEADER_SEARCH_ROWS` rows that names every required column,
    else the first row with a value (docs/ingest.md#the-header-row)."""
    if options.header_row is not None:
        index = options.header_row - top
        if index < 0 or index >= cells.height or all(_text(v) == "" for v in cells.row(index)):
            raise BadInputError(
                Location(str(path), options.header_row),
                "the header row is empty",
                hint=HEADER_ROW_HINT,
            )
        return index
    searched = max(0, min(cells.height, HEADER_SEARCH_ROWS - top + 1))
    rows = [[_text(v) for v in cells.row(i)] for i in range(searched)]
    return find_header_row(rows, columns=options.columns) or 0


def first_visible_sheet(path: Path, names: list[str]) -> str:
    """The sheet read when source.toml names none: the first one Excel shows.

    A hidden first sheet (often the school system's look-up table) is not what a user sees on
    opening the file, so it is skipped with one warning naming the sheets by position
    (docs/ingest.md#excel); a workbook whose every sheet is hidden is refused (exit 65).
    """
    hidden = hidden_sheets(path)
    visible = [i for i, name in enumerate(names) if name not in hidden]
    if not visible:
        raise BadInputError(
            Location(str(path)),
            "every sheet of the workbook is hidden",
            hint="set sheet in source.toml, or give --sheet, to name the sheet to read",
        )
    first = visible[0]
    if first:
        skipped = "sheet 1 is hidden" if first == 1 else f"sheets 1 to {first} are hidden"
        label = sheet_label(names[first], first + 1)
        shown = f"sheet {first + 1}" + ("" if label.startswith("sheet ") else f" ({label})")
        log.warning("%s: %s: read %s, the first visible one; %s", path, skipped, shown, _SHEET_HINT)
    return names[first]


def hidden_sheets(path: Path) -> frozenset[str]:
    """The names of the workbook's hidden sheets (``state="hidden"`` or ``"veryHidden"`` in
    ``xl/workbook.xml``, what fastexcel reports as ``ExcelSheet.visible``), read without loading
    any sheet; none when the workbook cannot be read so far (the reader then says why)."""
    try:
        with zipfile.ZipFile(path) as book:
            workbook = ElementTree.fromstring(book.read("xl/workbook.xml"))
    except (OSError, KeyError, ElementTree.ParseError, zipfile.BadZipFile, ValueError):
        return frozenset()
    return frozenset(
        element.get("name", "")
        for element in workbook.iter()
        if str(element.tag).rsplit("}", 1)[-1] == "sheet"
        and element.get("state", "visible") in ("hidden", "veryHidden")
    )


def shown_sheet_name(name: str) -> bool:
    """Whether a sheet's name may be shown in a message or by ``fravaer inspect``: the rule
    of :func:`fravaer.ingest.text.shown_name`, for every name from the file.

    >>> [shown_sheet_name(n) for n in ("Ark1", "Fravær 2024", "010203-1234", "anna1234", "7.B")]
    [True, True, False, False, False]
    """
    return shown_name(name)


def sheet_label(name: str, position: int) -> str:
    """A sheet as messages and ``inspect`` show it: its name, or ``sheet N`` (1-based) when the
    name is withheld (:func:`shown_sheet_name`).

    >>> sheet_label("Fravær", 2), sheet_label("010203-1234", 2)
    ('Fravær', 'sheet 2')
    """
    return name if shown_sheet_name(name) else f"sheet {position}"


def _text(value: object) -> str:
    return "" if value is None else str(value).strip()


def read_excel_detected(
    path: Path,
    options: SourceOptions = _DEFAULT_OPTIONS,
    *,
    keep_lines: bool = False,
    day_checks: bool = True,
) -> tuple[pl.LazyFrame, Detected]:
    """Read and validate an ``.xlsx`` export; the canonical frame and what was detected."""
    table = read_excel_table(path, options, keep_lines=keep_lines)
    return finish(table, options, keep_lines=keep_lines, day_checks=day_checks)


def read_excel(
    path: Path,
    options: SourceOptions = _DEFAULT_OPTIONS,
    *,
    keep_lines: bool = False,
    day_checks: bool = True,
) -> pl.LazyFrame:
    """Read and validate an ``.xlsx`` export (docs/ingest.md#excel)."""
    return read_excel_detected(path, options, keep_lines=keep_lines, day_checks=day_checks)[0]


# -- where the sheet starts ------------------------------------------------------------------------

_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
_PACKAGE_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}Relationship"
_CELL_ROW = re.compile(r"[A-Z]+(\d+)$")


def _first_row(path: Path, sheet: str) -> int:
    """The 1-based row of the sheet's first cell with a value: where calamine's range starts.

    calamine numbers rows from that cell, not from row 1; this reads the sheet's XML just far
    enough to find it. Anything unexpected gives 1, the usual place of a header.
    """
    try:
        with zipfile.ZipFile(path) as book:
            part = _sheet_part(book, sheet)
            if part is None:
                return 1
            with book.open(part) as xml:
                return _first_row_in(xml)
    except (OSError, KeyError, ElementTree.ParseError, zipfile.BadZipFile, ValueError):
        return 1


def _sheet_part(book: zipfile.ZipFile, sheet: str) -> str | None:
    workbook = ElementTree.fromstring(book.read("xl/workbook.xml"))
    rid = next(
        (e.get(_REL) for e in workbook.iter(f"{_MAIN}sheet") if e.get("name") == sheet), None
    )
    rels = ElementTree.fromstring(book.read("xl/_rels/workbook.xml.rels"))
    for element in rels.iter(_PACKAGE_REL):
        if element.get("Id") == rid:
            target = element.get("Target", "")
            if target.startswith("/"):
                return target.lstrip("/")
            return str(PurePosixPath("xl") / target)
    return None


def _first_row_in(xml: IO[bytes]) -> int:
    """Stream the sheet XML until the first cell that holds a value."""
    row = 0
    for event, element in ElementTree.iterparse(xml, events=("start", "end")):
        if event == "start" and element.tag == f"{_MAIN}row":
            row = int(element.get("r") or row + 1)
        elif event == "end" and element.tag == f"{_MAIN}c":
            if element.find(f"{_MAIN}v") is None and element.find(f"{_MAIN}is") is None:
                continue
            found = _CELL_ROW.search(element.get("r") or "")
            return int(found.group(1)) if found else max(row, 1)
    return 1
