"""Limits an ``.xlsx`` file must keep before the Excel reader opens it (docs/ingest.md#excel).

The reader (calamine, through fastexcel) sizes its memory from what the file says: a sheet
whose cells reach ``XFD1048576`` makes it allocate a cell for every one of the 17 billion
positions before it (550 GB), a ``sharedStrings.xml`` that announces 4 billion strings makes it
reserve 96 GB, and either aborts the whole process. A workbook is a zip of XML parts, so
:func:`check_workbook` reads the parts first, with bounded memory, and refuses (exit 65, one
line naming the file) a workbook that

- has more than :data:`MAX_ENTRIES` parts, or a part that inflates to more than
  :data:`MAX_PART_BYTES` or all of them to more than :data:`MAX_TOTAL_BYTES` (zip bombs; the
  size is measured while inflating, not taken from the zip's directory, which can lie);
- has a worksheet whose cells (or whose ``<dimension>``) span more than
  :data:`~fravaer.ingest.dialect.MAX_COLUMNS` columns, more than :data:`MAX_ROWS` rows, or more
  than :data:`MAX_CELLS` cells in all;
- announces more shared strings than its ``sharedStrings.xml`` could hold, or more than
  :data:`MAX_CELLS`;
- holds a part in UTF-16 (whose tags this scan would not see).

Every part is scanned alike, whatever its name: the reader finds sheets and shared strings
through the workbook's relationships, which may name any part of the zip.

Cell positions are found with regular expressions over the inflated XML, not by parsing it: a
cell's ``r="B7"`` gives its position, and a cell without ``r`` follows the one before it in its
row (as the reader places it), which is counted row by row in the rare sheets that omit it.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from fravaer.errors import BadInputError, Location
from fravaer.ingest.dialect import MAX_COLUMNS

MAX_ROWS: Final = 1_048_576
"""Excel's own limit of rows in a sheet."""
MAX_CELLS: Final = 50_000_000
"""Rows × columns of a sheet's span (the reader holds 32 bytes per cell: 1.6 GB)."""
MAX_PART_BYTES: Final = 1 << 30
"""Inflated size of one part of the zip (a sheet of a million rows of an export is ~300 MB)."""
MAX_TOTAL_BYTES: Final = 2 << 30
"""Inflated size of all the parts together."""
MAX_ENTRIES: Final = 10_000
"""Parts in the zip (a workbook of a few sheets has a dozen)."""
MAX_TAG_BYTES: Final = 1 << 20
"""Longest XML tag the scan accepts (real tags are at most a few KB)."""

_CHUNK = 8 << 20
_NAME = rb"(?:[A-Za-z_][\w.\-]*:)?"
_CELL = re.compile(rb"<" + _NAME + rb"c(?=[\s/>])")
_CELL_REF = re.compile(
    rb"<" + _NAME + rb"c\s[^>]*?(?<=\s)r\s*=\s*[\"']([A-Z]{1,3})([0-9]{1,7})[\"']"
)
_ROW_REF = re.compile(rb"<" + _NAME + rb"row\s[^>]*?(?<=\s)r\s*=\s*[\"']([0-9]{1,7})[\"']")
_TOKEN = re.compile(rb"<" + _NAME + rb"(c|row)(?=[\s/>])([^>]*)>")
_R_ATTRIBUTE = re.compile(rb"(?<=\s)r\s*=\s*[\"']([^\"']*)[\"']")
_REF = re.compile(rb"([A-Z]{1,3})([0-9]{1,7})")
_DIMENSION = re.compile(
    rb"<" + _NAME + rb"dimension\s[^>]*?ref\s*=\s*[\"']([A-Z0-9:$]*)[\"']", re.IGNORECASE
)
_UNIQUE_COUNT = re.compile(rb"<" + _NAME + rb"sst\s[^>]*?uniqueCount\s*=\s*[\"']([0-9]*)[\"']")
_SMALLEST_STRING = len(b"<si/>")


def column_number(letters: bytes) -> int:
    """The 1-based column of ``A``, ``Z``, ``AA``, ``XFD``.

    >>> column_number(b"A"), column_number(b"AA"), column_number(b"XFD")
    (1, 27, 16384)
    """
    number = 0
    for letter in letters:
        number = number * 26 + letter - ord("A") + 1
    return number


@dataclass(frozen=True)
class _Span:
    """The largest row and column (1-based) a part's cells reach."""

    rows: int = 0
    columns: int = 0

    def widen(self, rows: int, columns: int) -> _Span:
        return _Span(max(self.rows, rows), max(self.columns, columns))


class _Refused(Exception):
    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem


def check_workbook(path: Path) -> None:
    """Refuse (exit 65) a workbook the Excel reader could not read within bounded memory.

    A file that is not a zip is left to the reader, which refuses it as not an Excel file.
    """
    try:
        book = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError):
        return  # not a zip: the reader refuses it as "not a readable Excel file"
    try:
        with book:
            _check_book(book)
    except _Refused as refused:
        raise BadInputError(
            Location(str(path)),
            refused.problem,
            hint="save the sheet again from Excel, or export the data as CSV",
        ) from None
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError) as exc:
        # A part that does not inflate, or inflates to another size than the zip says.
        raise BadInputError(
            Location(str(path)), f"not a readable Excel file ({type(exc).__name__})"
        ) from None


def _check_book(book: zipfile.ZipFile) -> None:
    """Every part is scanned alike, whatever its name: the reader finds sheets and shared
    strings through the workbook's relationships, which may point anywhere in the zip."""
    entries = book.infolist()
    if len(entries) > MAX_ENTRIES:
        raise _Refused(f"the workbook has more than {MAX_ENTRIES:,} parts")
    total = 0
    for info in entries:
        if info.is_dir():
            continue
        size, span = _scan_part(book, info, exact=False)
        _check_span(span)
        total += size
        if total > MAX_TOTAL_BYTES:
            raise _Refused(f"the workbook inflates to more than {_mb(MAX_TOTAL_BYTES)}")


def _mb(size: int) -> str:
    return f"{size >> 20:,} MB"


_UTF16_STARTS = (b"\xff\xfe", b"\xfe\xff", b"<\x00", b"\x00<")


def _inflate(book: zipfile.ZipFile, info: zipfile.ZipInfo) -> Iterator[bytes]:
    """A part's inflated bytes in chunks, refused beyond ``limit`` whatever the zip says.

    The zip's directory gives each part's size, and Python's reader would stop there; a bomb
    declares a small size and inflates to more, and another reader would read it all. So the
    part is read as if its size were unknown, and a size that differs from the declared one is
    a damaged file.
    """
    limit = MAX_PART_BYTES
    if info.file_size > limit:
        raise _Refused(f"a part of the workbook is larger than {_mb(limit)}")
    read = 0
    with book.open(replace_size(info, limit + 1)) as part:
        while chunk := part.read(_CHUNK):
            read += len(chunk)
            if read > limit:
                raise _Refused(f"a part of the workbook inflates to more than {_mb(limit)}")
            yield chunk
    if read != info.file_size:
        raise zipfile.BadZipFile("inflated size differs from the declared size")


def replace_size(info: zipfile.ZipInfo, size: int) -> zipfile.ZipInfo:
    """A copy of ``info`` that lets the reader inflate up to ``size`` bytes."""
    copy = zipfile.ZipInfo(info.filename, info.date_time)
    for slot in ("compress_type", "flag_bits", "header_offset", "compress_size", "CRC"):
        setattr(copy, slot, getattr(info, slot))
    copy.file_size = size
    return copy


def _check_span(span: _Span) -> None:
    what = "a sheet"
    if span.columns > MAX_COLUMNS:
        raise _Refused(f"{what} reaches column {span.columns:,}: more than {MAX_COLUMNS:,}")
    if span.rows > MAX_ROWS:
        raise _Refused(f"{what} reaches row {span.rows:,}: more than {MAX_ROWS:,}")
    if span.rows * span.columns > MAX_CELLS:
        raise _Refused(
            f"{what} spans {span.rows:,} rows by {span.columns:,} columns: "
            f"more than {MAX_CELLS:,} cells"
        )


def _scan_part(book: zipfile.ZipFile, info: zipfile.ZipInfo, *, exact: bool) -> tuple[int, _Span]:
    """A part's inflated size and the span of its cells and ``<dimension>``; refuses shared
    strings that announce more than the part holds, and XML in UTF-16 (whose tags the scan
    would not see).

    The fast scan reads every cell's ``r``; a part with a cell without one is scanned again,
    exactly, tag by tag (``exact``).
    """
    size = 0
    span = _Span()
    carry = b""
    announced: int | None = None
    row = column = 0
    for chunk in _inflate(book, info):
        if size == 0 and chunk.startswith(_UTF16_STARTS):
            raise _Refused("a part of the workbook is UTF-16 text, which fravaer does not read")
        size += len(chunk)
        data = carry + chunk
        # Keep an unfinished tag for the next chunk; text between tags holds no "<".
        cut = data.rfind(b"<")
        if cut >= 0 and data.find(b">", cut) < 0:
            data, carry = data[:cut], data[cut:]
            if len(carry) > MAX_TAG_BYTES:
                raise _Refused("the workbook holds an XML tag longer than 1 MB")
        else:
            carry = b""
        if b"imension" in data or b"IMENSION" in data:  # a literal search first: much faster
            span = _dimension_span(data, span)
        if announced is None and b"uniqueCount" in data:
            found = _UNIQUE_COUNT.search(data)
            announced = None if found is None else int(found.group(1) or 0)
        if exact:
            span, row, column = _exact_span(data, span, row, column)
            continue
        plain = _plain_span(data)
        if plain is not None:
            span = span.widen(plain.rows, plain.columns)
            continue
        refs = _CELL_REF.findall(data)
        if len(refs) != len(_CELL.findall(data)):
            return _scan_part(book, info, exact=True)
        span = _fast_span(refs, _ROW_REF.findall(data), span)
    if announced is not None and announced > min(size // _SMALLEST_STRING, MAX_CELLS):
        raise _Refused("the workbook announces more shared strings than it holds")
    return size, span


_PLAIN_ODD_REF = re.compile(rb'<c r="(?![A-Z]{1,2}[0-9]{1,6}")')
_PLAIN_WIDE = re.compile(rb'<c r="([A-Z]{3})[0-9]')
_PLAIN_TWO = re.compile(rb'<c r="([A-Z]{2})[0-9]')
_PLAIN_ROWS = re.compile(rb'<row r="([0-9]+)"')


def _plain_span(data: bytes) -> _Span | None:
    """An upper bound of the span of a chunk written as Excel, LibreOffice and the usual
    libraries write sheets (``<row r="7"`` and ``<c r="B7"``, no prefix, at most two column
    letters and six row digits), found with literal counts and rare searches; None for any
    other chunk, which the regular expressions then read cell by cell.

    Only what can break a limit is looked at exactly: a two-letter column (the widest is
    ``ZZ``, 702) and the rows of a sheet wider than :data:`MAX_CELLS` allows for a million rows.
    """
    cells = data.count(b"<c ") + data.count(b"<c>") + data.count(b"<c/>")
    if cells != data.count(b'<c r="') or data.count(b":c ") or data.count(b":c>"):
        return None
    if data.count(b"<row ") != data.count(b'<row r="') or data.count(b":row"):
        return None
    if _PLAIN_ODD_REF.search(data) or _PLAIN_WIDE.search(data):
        return None
    twos = set(_PLAIN_TWO.findall(data))
    columns = max((column_number(c) for c in twos), default=26)
    rows = 999_999  # six digits at most, checked above
    if columns * MAX_ROWS > MAX_CELLS:  # a wide sheet: its rows count
        numbers = [int(r) for r in _PLAIN_ROWS.findall(data)]
        rows = max(numbers, default=0)
        if rows >= 1_000_000:
            return None
    return _Span(rows, columns) if cells else _Span()


def _dimension_span(data: bytes, span: _Span) -> _Span:
    found = _DIMENSION.search(data)
    if found is None:
        return span
    for ref in found.group(1).upper().replace(b"$", b"").split(b":"):
        cell = _REF.fullmatch(ref)
        if cell is None:
            raise _Refused("a sheet's dimension is not a cell range")
        span = span.widen(int(cell.group(2)), column_number(cell.group(1)))
    return span


def _fast_span(refs: list[tuple[bytes, bytes]], rows: list[bytes], span: _Span) -> _Span:
    if refs:
        letters = {ref[0] for ref in refs}
        widest = max(letters, key=lambda ref: (len(ref), ref))
        span = span.widen(max(int(ref[1]) for ref in refs), column_number(widest))
    if rows:
        span = span.widen(max(int(r) for r in rows), 0)
    return span


def _exact_span(data: bytes, span: _Span, row: int, column: int) -> tuple[_Span, int, int]:
    """The span, placing a row or cell without ``r`` after the one before it."""
    for tag in _TOKEN.finditer(data):
        attribute = _R_ATTRIBUTE.search(tag.group(2))
        if tag.group(1) == b"row":
            row = int(attribute.group(1)) if attribute and attribute.group(1).isdigit() else row + 1
            column = 0
            span = span.widen(row, 0)
            continue
        if attribute is None:
            column += 1
        else:
            ref = _REF.fullmatch(attribute.group(1))
            if ref is None:
                raise _Refused("a cell's reference is not a cell")
            row, column = int(ref.group(2)), column_number(ref.group(1))
        span = span.widen(row, column)
    return span, row, column


__all__ = ["MAX_CELLS", "MAX_ROWS", "check_workbook", "column_number"]
