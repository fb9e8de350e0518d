"""CSV dialects: encoding and separator, detected or given (docs/ingest.md#csv-dialects).

Exports come from Excel and from school administration systems in several dialects: comma,
semicolon (Danish Excel), tab or ``¤`` separated; UTF-8 with or without a byte-order mark, or the
Windows code page cp1252 (Danish Excel's "CSV (semikolonsepareret)").

Detection never guesses silently; it follows a fixed order and reports what it found:

1. UTF-16 (a byte-order mark ``FF FE``/``FE FF``, or NUL bytes in the first KB) is refused with
   a hint to save the file as CSV UTF-8. So is any other text with NUL bytes in its first KB.
2. A UTF-8 byte-order mark means UTF-8; a byte that is not UTF-8 after it is an error.
3. A file that is valid UTF-8 throughout is UTF-8 (plain ASCII included).
4. Anything else is cp1252. cp1252 leaves five bytes undefined (81, 8D, 8F, 90, 9D); those are
   read as in latin-1, so no byte is ever lost or replaced. A file read so whose header or read
   cells hold UTF-8 text (:data:`UTF8_READ_AS_CP1252`) mixes two encodings and is refused
   (``ingest.csv``).

``encoding`` in ``source.toml`` skips steps 2-4. The separator is the one of ``,`` ``;`` tab
``¤`` that splits the header (read with quotes honoured) into the most columns and every one of
the next lines (up to 100 records in the first 64 KB) into as many; ``separator`` skips that.

Polars reads only UTF-8 and single-byte separators, so the happy path, a UTF-8 file with a one-
byte separator, is handed to polars as the file itself. Other files are transcoded to UTF-8 in
memory, chunk by chunk; a ``¤`` separator becomes a control character that does not occur in
the file, and is turned back into ``¤`` in the values afterwards.
"""

from __future__ import annotations

import codecs
import csv
import io
import mmap
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Final

from fravaer.errors import BadInputError, Location
from fravaer.ingest.headers import (
    HEADER_ROW_HINT,
    HEADER_SEARCH_ROWS,
    covers_required,
    find_header_row,
)
from fravaer.ingest.source import SourceOptions

SEPARATORS: Final = (",", ";", "\t", "¤")
SNIFF_BYTES: Final = 64 * 1024
SNIFF_RECORDS: Final = 100
MAX_COLUMNS: Final = 1_000
"""The most columns an export's header may have. polars spends about 7 KB per column before a
row is read (2 million columns abort the process), and a real export has a dozen."""
CHUNK_BYTES: Final = 16 * 1024 * 1024
_UTF16_BOMS: Final = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
_NUL_WINDOW: Final = 1024
_PLACEHOLDERS: Final = ("\x1f", "\x1e", "\x1d", "\x1c")
_CP1252_ERRORS: Final = "fravaer-cp1252"

UTF16_HINT: Final = (
    'open it in Excel and save it as "CSV UTF-8 (kommasepareret) (*.csv)", '
    "or export it from the school system as UTF-8"
)
UTF8_HINT: Final = 'save or export the file as UTF-8, or set encoding = "cp1252" in source.toml'


def _latin1_for_undefined(error: UnicodeError) -> tuple[str, int]:
    """cp1252's five undefined bytes decode as in latin-1 (U+0081 ...), so nothing is lost."""
    if not isinstance(error, UnicodeDecodeError):
        raise error
    return chr(error.object[error.start]), error.start + 1


codecs.register_error(_CP1252_ERRORS, _latin1_for_undefined)


def _cp1252_class(first: int, last: int) -> str:
    """A class of polars' regular expressions: the characters the bytes ``first`` to ``last``
    are read as in cp1252 (the five undefined ones as in latin-1)."""
    chars = bytes(range(first, last + 1)).decode("cp1252", _CP1252_ERRORS)
    return "[" + "".join(f"\\x{{{ord(char):X}}}" for char in chars) + "]"


_TAIL = _cp1252_class(0x80, 0xBF)
UTF8_READ_AS_CP1252: Final = "|".join(
    (
        _cp1252_class(0xC2, 0xDF) + _TAIL,
        _cp1252_class(0xE0, 0xE0) + _cp1252_class(0xA0, 0xBF) + _TAIL,
        _cp1252_class(0xE1, 0xEC) + _TAIL * 2,
        _cp1252_class(0xED, 0xED) + _cp1252_class(0x80, 0x9F) + _TAIL,
        _cp1252_class(0xEE, 0xEF) + _TAIL * 2,
        _cp1252_class(0xF0, 0xF0) + _cp1252_class(0x90, 0xBF) + _TAIL * 2,
        _cp1252_class(0xF1, 0xF3) + _TAIL * 3,
        _cp1252_class(0xF4, 0xF4) + _cp1252_class(0x80, 0x8F) + _TAIL * 2,
    )
)
"""Matches, in text read as cp1252, the bytes of one UTF-8 character of two to four bytes
(the well-formed sequences of the Unicode standard's table 3-7): ``ø`` written in UTF-8 is read
as ``Ã¸``. Real cp1252 text does not hold them: the first byte would be a capital letter such as
``Ø`` and the next a symbol such as ``°`` (docs/ingest.md#mixed-encodings)."""


@dataclass(frozen=True)
class Dialect:
    """How one CSV file is written.

    ``encoding`` is ``utf-8``, ``utf-8-sig`` (UTF-8 with a byte-order mark), ``cp1252`` or
    ``latin-1``; ``separator`` one of :data:`SEPARATORS`.
    """

    encoding: str
    separator: str
    skip: int = 0
    """Lines above the header (a title, blank lines): the header is on line ``skip + 1``."""

    @property
    def errors(self) -> str:
        return _CP1252_ERRORS if self.encoding == "cp1252" else "strict"

    @property
    def polars_direct(self) -> bool:
        """Whether polars can read the file as it is (UTF-8 and a one-byte separator)."""
        return self.encoding in ("utf-8", "utf-8-sig") and len(self.separator.encode()) == 1

    @property
    def decimal_comma(self) -> bool:
        """Whether ``0,5`` is a number: in every dialect but the comma-separated one."""
        return self.separator != ","

    def decode(self, data: bytes) -> str:
        return data.decode(self.encoding, self.errors)


def sniff(path: Path, options: SourceOptions) -> Dialect:
    """The dialect of a CSV file, detected from its first 64 KB or taken from ``options``.

    Refuses UTF-16 and NUL bytes, an empty file, a UTF-8 byte-order mark under another forced
    encoding, and a header that no separator splits. The encoding found here is provisional
    when the first 64 KB are UTF-8: :func:`confirm_utf8` decides for the whole file.
    """
    with path.open("rb") as handle:
        head = handle.read(SNIFF_BYTES)
        whole = not handle.read(1)
    where = str(path)
    if head.startswith(_UTF16_BOMS):
        raise BadInputError(Location(where), "UTF-16 text is not supported", hint=UTF16_HINT)
    nul = head.find(b"\x00", 0, _NUL_WINDOW)
    if nul >= 0:
        window = head[:_NUL_WINDOW]
        if window.count(b"\x00") * 4 >= len(window):
            raise BadInputError(
                Location(where), "UTF-16 text is not supported (NUL bytes)", hint=UTF16_HINT
            )
        line = head.count(b"\n", 0, nul) + 1
        raise BadInputError(
            Location(where, line),
            "NUL byte in the text: not a CSV export",
            hint="export the data again as CSV UTF-8",
        )
    bom = head.startswith(codecs.BOM_UTF8)
    sample = head if whole else head[: head.rfind(b"\n") + 1] or head
    encoding = _sniff_encoding(path, sample, options, bom=bom, whole=whole)
    text = sample.decode(encoding, _CP1252_ERRORS if encoding == "cp1252" else "replace")
    separator, skip = sniff_layout(text, options, where=where, complete=whole)
    return Dialect(encoding, separator, skip)


def sniff_layout(
    text: str, options: SourceOptions, *, where: str, complete: bool
) -> tuple[str, int]:
    """The separator, and the lines above the header, of a file starting with ``text``.

    The header is on line ``header_row`` when it is given; otherwise on the first of the first
    :data:`~fravaer.ingest.headers.HEADER_SEARCH_ROWS` lines that a separator splits into
    cells naming every required column (:func:`~fravaer.ingest.headers.covers_required`), or on
    line 1 when none does. The separator is sniffed from the header line on, never from a title
    above it (docs/ingest.md#the-header-row).

    >>> from fravaer.ingest.source import SourceOptions
    >>> lines = ["Fraværsrapport 2023/24", "", "Elev;Skole;Dato;Kode", "x;1;01.03.2024;S", ""]
    >>> sniff_layout(chr(10).join(lines), SourceOptions(), where="x.csv", complete=True)
    (';', 2)
    """
    text = text.lstrip("\ufeff")
    given = options.header_row
    skip = given - 1 if given is not None else _header_skip(text, options)
    rest = _after_lines(text, skip)
    if skip and not rest.split("\n", 1)[0].strip():
        raise BadInputError(
            Location(where, skip + 1), "the header row is empty", hint=HEADER_ROW_HINT
        )
    separator: str = options.separator
    if separator == "auto":
        separator = sniff_separator(rest, where=where, complete=complete, line=skip + 1)
    return separator, skip


def _header_skip(text: str, options: SourceOptions) -> int:
    """The lines above the first line that can be the header, or 0 when no line can."""
    lines = text.split("\n", HEADER_SEARCH_ROWS)[:HEADER_SEARCH_ROWS]
    separators = SEPARATORS if options.separator == "auto" else (options.separator,)
    rows = [
        max(
            (_line_cells(line, sep) for sep in separators),
            key=lambda cells: covers_required(cells, columns=options.columns),
        )
        for line in lines
    ]
    return find_header_row(rows, columns=options.columns) or 0


def _line_cells(line: str, separator: str) -> list[str]:
    """One line's cells, quotes honoured; none when the line is not one record."""
    try:
        return next(csv.reader([line.rstrip("\r")], delimiter=separator), [])
    except csv.Error:
        return []


def _after_lines(text: str, lines: int) -> str:
    """``text`` from its line ``lines + 1`` on (empty when it has fewer lines)."""
    if not lines:
        return text
    parts = text.split("\n", lines)
    return parts[lines] if len(parts) > lines else ""


def cut_lines(data: bytes, lines: int) -> bytes:
    """``data`` from its line ``lines + 1`` on: what polars reads of a file with a title."""
    start = 0
    for _ in range(lines):
        found = data.find(b"\n", start)
        if found < 0:
            return b""
        start = found + 1
    return data[start:]


def _sniff_encoding(
    path: Path, sample: bytes, options: SourceOptions, *, bom: bool, whole: bool
) -> str:
    forced = options.encoding
    if forced != "auto":
        if bom and forced != "utf-8":
            raise BadInputError(
                Location(str(path), 1),
                f"the file starts with a UTF-8 byte-order mark, but encoding is set to {forced}",
                hint='remove encoding from source.toml, or set encoding = "utf-8"',
            )
        return "utf-8-sig" if bom else forced
    if bom:
        return "utf-8-sig"
    try:
        sample.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A multi-byte character cut by the end of the sample is not evidence against UTF-8.
        if whole or exc.end < len(sample):
            return "cp1252"
    return "utf-8"


def sniff_separator(text: str, *, where: str, complete: bool = True, line: int = 1) -> str:
    """The separator that splits the header into the most columns and agrees with the rows.

    ``text`` is the decoded start of the file from its header on (the header is on ``line``);
    when it is not the whole file (``complete`` is False) its last record may be cut and is not
    used.

    >>> sniff_separator("elev;dato;kode\\n1;01.03.2024;S\\n", where="x.csv")
    ';'
    >>> sniff_separator('pupil_id,date,class_name\\n1,2024-03-01,"3;A"\\n', where="x.csv")
    ','
    """
    widths: dict[str, int] = {}
    agrees: dict[str, bool] = {}
    for separator in SEPARATORS:
        records = _sample_records(text, separator, complete=complete)
        if not records or len(records[0]) < 2:
            continue
        width = len(records[0])
        widths[separator] = width
        agrees[separator] = all(len(r) == width for r in records[1:] if any(f.strip() for f in r))
    if not widths:
        first = text.lstrip("\ufeff").split("\n", 1)[0]
        if not first.strip():
            raise BadInputError(Location(where, line), "file is empty (no header)")
        raise BadInputError(
            Location(where, line),
            "cannot tell the separator: the header has no comma, semicolon, tab or ¤",
            hint="set separator in source.toml",
        )
    candidates = [sep for sep in widths if agrees[sep]] or list(widths)
    best = max(widths[sep] for sep in candidates)
    winners = [sep for sep in candidates if widths[sep] == best]
    if len(winners) > 1:
        names = " and ".join(separator_name(sep) for sep in winners)
        raise BadInputError(
            Location(where, line),
            f"cannot tell the separator: {names} both split the header into {best} columns",
            hint="set separator in source.toml",
        )
    return winners[0]


def _sample_records(text: str, separator: str, *, complete: bool) -> list[list[str]]:
    records: list[list[str]] = []
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff"), newline=""), delimiter=separator)
    try:
        for fields in reader:
            records.append(fields)
            if len(records) > SNIFF_RECORDS:
                break
    except csv.Error:
        pass
    if not complete and len(records) > 1 and len(records) <= SNIFF_RECORDS:
        records.pop()  # possibly cut in the middle
    return records


def separator_name(separator: str) -> str:
    """A separator as a user would name it (``tab`` rather than an invisible character)."""
    return {"\t": "tab", ",": "comma", ";": "semicolon"}.get(separator, separator)


def has_quote(path: Path) -> bool:
    """Whether the file has a ``"`` anywhere: one scan of the bytes, mapped into memory (0.07 s
    for 850 MB), or read in chunks (0.16 s) where the file cannot be mapped."""
    with path.open("rb") as handle:
        try:
            with mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
                return data.find(b'"') >= 0
        except (OSError, ValueError):  # an empty file, or a file system without mmap
            pass
        while chunk := handle.read(CHUNK_BYTES):
            if b'"' in chunk:
                return True
    return False


def first_non_utf8_line(path: Path) -> int | None:
    """The first line holding bytes that are not UTF-8, or None; read in chunks."""
    lines = 0
    carry = b""
    with path.open("rb") as handle:
        while True:
            chunk = handle.read(CHUNK_BYTES)
            data = carry + chunk
            cut = len(data) if not chunk else data.rfind(b"\n") + 1
            part, carry = data[:cut], data[cut:]
            try:
                part.decode("utf-8")
            except UnicodeDecodeError as exc:
                return lines + part.count(b"\n", 0, exc.start) + 1
            lines += part.count(b"\n")
            if not chunk:
                return None


def confirm_utf8(path: Path, dialect: Dialect, options: SourceOptions) -> Dialect:
    """After polars failed on a provisionally UTF-8 file: cp1252 if it is not UTF-8 after all.

    A forced UTF-8 encoding or a UTF-8 byte-order mark make a non-UTF-8 byte an error instead.
    """
    line = first_non_utf8_line(path)
    if line is None:
        return dialect
    if options.encoding != "auto" or dialect.encoding == "utf-8-sig":
        raise BadInputError(Location(str(path), line), "not UTF-8 text", hint=UTF8_HINT)
    with path.open("rb") as handle:
        head = handle.read(SNIFF_BYTES)
    whole = path.stat().st_size <= SNIFF_BYTES
    sample = head if whole else head[: head.rfind(b"\n") + 1] or head
    text = sample.decode("cp1252", _CP1252_ERRORS)
    separator, skip = sniff_layout(text, options, where=str(path), complete=whole)
    return Dialect("cp1252", separator, skip)


@dataclass(frozen=True)
class Transcoded:
    """A file made readable for polars: UTF-8 bytes, and the one-byte separator to use."""

    data: bytes
    separator: str
    placeholder: str | None
    """The character standing for ``¤`` in ``data``, to be turned back in the values."""


def transcode(path: Path, dialect: Dialect) -> Transcoded:
    """The file as UTF-8 in memory, decoded in chunks; ``¤`` replaced by an unused character.

    Raises UnicodeDecodeError for bytes that are not in a strict encoding (UTF-8).
    """
    placeholder = None
    if dialect.separator not in SEPARATORS[:3]:
        placeholder = _PLACEHOLDERS[0]
    for candidate in _PLACEHOLDERS if placeholder else (None,):
        data = _transcode(path, dialect, candidate)
        if data is not None:
            separator = candidate or dialect.separator
            return Transcoded(data, separator, candidate)
    raise BadInputError(
        Location(str(path)),
        "cannot read a ¤-separated file that holds control characters",
        hint="export the file again with another separator",
    )


def _transcode(path: Path, dialect: Dialect, placeholder: str | None) -> bytes | None:
    decoder = codecs.getincrementaldecoder(dialect.encoding)(dialect.errors)
    out = io.BytesIO()
    with path.open("rb") as handle:
        while True:
            chunk = handle.read(CHUNK_BYTES)
            text = decoder.decode(chunk, final=not chunk)
            if placeholder is not None:
                if placeholder in text:
                    return None
                text = text.replace(dialect.separator, placeholder)
            out.write(text.encode("utf-8"))
            if not chunk:
                return out.getvalue()


def _records(path: Path, dialect: Dialect) -> Iterator[tuple[int, list[str]]]:
    """Each record of the file with the line it starts on, quotes honoured."""
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
    with path.open(encoding=dialect.encoding, errors=_text_errors(dialect), newline="") as handle:
        for _ in range(dialect.skip):
            _read_line(handle)
        reader = csv.reader(handle, delimiter=dialect.separator)
        start = dialect.skip + 1
        try:
            for fields in reader:
                yield start, fields
                start = dialect.skip + reader.line_num + 1
        except csv.Error:
            return


def _read_line(handle: IO[str]) -> None:
    """Read past one line ending in ``\n`` (as :func:`cut_lines` counts lines)."""
    while (char := handle.read(1)) and char != "\n":
        pass


def _text_errors(dialect: Dialect) -> str:
    # On error paths only: a byte that is not UTF-8 must not stop the line count.
    return _CP1252_ERRORS if dialect.encoding == "cp1252" else "replace"


def header_fields(path: Path, dialect: Dialect, *, limit: int = MAX_COLUMNS) -> int:
    """The fields of the header record, counted in the bytes before any reader parses it;
    counting stops at ``limit + 1``.

    Quotes are honoured as the CSV readers do: a quote opens a field only at its start, and
    ``""`` inside a quoted field is a quote. Separators, quotes and line breaks are single bytes
    in every encoding read here (``¤`` is two in UTF-8, which no other character's bytes
    contain), so nothing is decoded.
    """
    separator = dialect.separator.encode("utf-8" if "utf" in dialect.encoding else "cp1252")
    keep = len(separator) - 1
    fields, quoted, field_start = 1, False, True
    carry = b""
    with path.open("rb") as handle:
        if dialect.encoding == "utf-8-sig":
            carry = handle.read(len(codecs.BOM_UTF8)).removeprefix(codecs.BOM_UTF8)
        if dialect.skip:  # a title above the header: small, read whole
            carry = cut_lines(carry + handle.read(SNIFF_BYTES), dialect.skip)
        while True:
            chunk = handle.read(CHUNK_BYTES)
            data, carry, start = carry + chunk, b"", 0
            while start < len(data):
                if quoted:
                    end = data.find(b'"', start)
                    if end < 0:
                        break
                    if end + 1 == len(data) and chunk:
                        carry = b'"'  # a doubled quote may continue in the next chunk
                        break
                    if data[end + 1 : end + 2] == b'"':
                        start = end + 2
                        continue
                    quoted, field_start, start = False, False, end + 1
                    continue
                if field_start and data[start : start + 1] == b'"':
                    quoted, start = True, start + 1
                    continue
                split, newline = data.find(separator, start), data.find(b"\n", start)
                if newline >= 0 and (split < 0 or newline < split):
                    return fields
                if split < 0:
                    cut = max(start, len(data) - keep) if chunk else len(data)
                    carry, field_start = data[cut:], field_start and cut == start
                    break
                fields += 1
                if fields > limit:
                    return fields
                field_start, start = True, split + len(separator)
            if not chunk:
                return fields


def read_header(path: Path, dialect: Dialect) -> list[str]:
    """The first record: the header as written, quotes honoured."""
    for _, fields in _records(path, dialect):
        return fields
    return []


def line_of(path: Path, dialect: Dialect) -> Callable[[int], int]:
    """Maps a 0-based data record to the line it starts on (read again, only on error)."""

    def line(record: int) -> int:
        for index, (start, _) in enumerate(_records(path, dialect)):
            if index == record + 1:  # record 0 follows the header
                return start
        return record + 2

    return line


def first_ragged_line(path: Path, dialect: Dialect) -> int | None:
    """The first line starting a record with more or fewer fields than the header, or None.

    A record whose cells are all blank is a blank line, whatever its width (it is skipped).
    Read only when polars failed, or when a record may have been padded (see
    ``csv.read_csv_table``).
    """
    width = None
    for start, fields in _records(path, dialect):
        if width is None:
            width = len(fields)
        elif len(fields) > width or (len(fields) < width and any(f.strip() for f in fields)):
            return start
    return None
