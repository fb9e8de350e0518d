"""Shared helpers for the ingest tests: the fixture exports, their expected frame, refusals.

Every export under ``fixtures/`` holds the same eight register rows (ids ``fake-0101`` and
``fake-0102``), written in another dialect, with other headers, codes and date formats; they all
read to :data:`EXPECTED`. ``local-codes.csv`` uses local codes and has its own expectation.
"""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from fravaer import schema as s
from fravaer.errors import BadInputError
from fravaer.ingest import read_export
from fravaer.ingest.source import SourceOptions

FIXTURES = Path(__file__).parent / "fixtures"

EXPECTED = pl.DataFrame(
    {
        s.PUPIL_ID: ["fake-0101"] * 4 + ["fake-0102"] * 4,
        s.SCHOOL_ID: ["0851001"] * 4 + ["0851002"] * 4,
        s.DATE: [
            date(2024, 3, 4),
            date(2024, 3, 5),
            date(2024, 3, 6),
            date(2024, 3, 6),
            date(2024, 3, 4),
            date(2024, 3, 5),
            date(2024, 3, 5),
            date(2024, 3, 13),
        ],
        s.CATEGORY: [
            "present",
            "illness",
            "unlawful",
            "present",
            "leave",
            "illness",
            "leave",
            "present",
        ],
        s.ABSENT_FRACTION: [0.0, 1.0, 0.5, 0.0, 1.0, 0.25, 0.25, 0.0],
        s.GRADE: [3] * 4 + [10] * 4,
        s.CLASS_NAME: ["3.A;B,C"] * 4 + ["10.Ø"] * 4,
    },
    schema=s.CANONICAL_SCHEMA,
)

SECRET = "SECRET"


def write_bytes(tmp_path: Path, data: bytes, name: str = "export.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def write_text(
    tmp_path: Path, text: str, name: str = "export.csv", *, encoding: str = "utf-8"
) -> Path:
    return write_bytes(tmp_path, text.encode(encoding), name)


def refusal(path: Path, options: SourceOptions | None = None) -> BadInputError:
    """The BadInputError reading ``path`` raises (exit 65)."""
    with pytest.raises(BadInputError) as caught:
        read_export(path, options or SourceOptions()).collect()
    assert caught.value.exit_code == 65
    return caught.value


def cells(path: Path, separator: str, encoding: str) -> set[str]:
    """Every data cell of a CSV export, as written (the header excluded)."""
    text = path.read_bytes().decode(encoding, "replace").lstrip("\ufeff")
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=separator))
    return {cell.strip() for row in rows[1:] for cell in row if cell.strip()}


def assert_private(
    error: BadInputError, values: set[str], *, codes: frozenset[str] = frozenset()
) -> None:
    """The message and hint quote no cell value (codes excepted, where the test allows them)."""
    text = f"{error.message}\n{error.hint or ''}"
    assert SECRET not in text
    for value in values - codes:
        if len(value) >= 3:
            assert value not in text, value
    assert "Traceback" not in text
    assert "\n" not in error.message


# -- hand-made xlsx files: the few parts a reader needs, written with zipfile ------------------

_MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
_CONTENT = "application/vnd.openxmlformats"
_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    f'<Default Extension="rels" ContentType="{_CONTENT}-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    f'ContentType="{_CONTENT}-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    f'ContentType="{_CONTENT}-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/sharedStrings.xml" '
    f'ContentType="{_CONTENT}-officedocument.spreadsheetml.sharedStrings+xml"/>'
    "</Types>"
)


def xlsx_cell(ref: str | None, value: str) -> str:
    """An inline-string cell; without ``ref`` it has no ``r`` (placed after the one before)."""
    r = f' r="{ref}"' if ref else ""
    return f'<c{r} t="inlineStr"><is><t>{value}</t></is></c>'


def xlsx_row(number: int, *cells: str) -> str:
    return f'<row r="{number}">' + "".join(cells) + "</row>"


def export_rows_xml() -> str:
    """A header and one register row, as sheet XML rows 1 and 2."""
    header = ["pupil_id", "school_id", "date", "category"]
    values = ["0000001", "851001", "2024-03-04", "present"]
    return xlsx_row(
        1, *(xlsx_cell(f"{c}1", v) for c, v in zip("ABCD", header, strict=True))
    ) + xlsx_row(2, *(xlsx_cell(f"{c}2", v) for c, v in zip("ABCD", values, strict=True)))


def minimal_xlsx(
    path: Path,
    rows_xml: str,
    *,
    dimension: str | None = "A1:D2",
    unique_strings: int | None = None,
    sheet_name: str = "Ark1",
) -> Path:
    """An xlsx of one sheet holding ``rows_xml``, written part by part (no spreadsheet library
    writes the hostile files the limits are tested with)."""
    import zipfile

    dim = f'<dimension ref="{dimension}"/>' if dimension else ""
    sheet = (
        f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{_MAIN_NS}">{dim}'
        f"<sheetData>{rows_xml}</sheetData></worksheet>"
    )
    workbook = (
        f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{_MAIN_NS}" xmlns:r="{_REL_NS}">'
        f'<sheets><sheet name="{sheet_name}" sheetId="1" r:id="rId1"/></sheets></workbook>'
    )
    rels = (
        f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{_PKG_NS}">'
        f'<Relationship Id="rId1" Type="{_REL_NS}/worksheet" Target="worksheets/sheet1.xml"/>'
        + (
            f'<Relationship Id="rId2" Type="{_REL_NS}/sharedStrings" Target="sharedStrings.xml"/>'
            if unique_strings is not None
            else ""
        )
        + "</Relationships>"
    )
    root = (
        f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{_PKG_NS}">'
        f'<Relationship Id="rId1" Type="{_REL_NS}/officeDocument" Target="xl/workbook.xml"/>'
        "</Relationships>"
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as book:
        book.writestr("[Content_Types].xml", _TYPES)
        book.writestr("_rels/.rels", root)
        book.writestr("xl/workbook.xml", workbook)
        book.writestr("xl/_rels/workbook.xml.rels", rels)
        book.writestr("xl/worksheets/sheet1.xml", sheet)
        if unique_strings is not None:
            book.writestr(
                "xl/sharedStrings.xml",
                f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{_MAIN_NS}" '
                f'count="{unique_strings}" uniqueCount="{unique_strings}"><si><t>x</t></si></sst>',
            )
    return path


def understate_size(path: Path, part: str, size: int) -> Path:
    """Make the zip say that ``part`` inflates to ``size`` bytes (a bomb's lie), in both its
    local header and the central directory."""
    import struct
    import zipfile

    with zipfile.ZipFile(path) as book:
        offset = book.getinfo(part).header_offset
    data = bytearray(path.read_bytes())
    data[offset + 22 : offset + 26] = struct.pack("<I", size)
    name = part.encode()
    central = data.find(b"PK\x01\x02")
    while central >= 0:
        name_length = struct.unpack("<H", data[central + 28 : central + 30])[0]
        if data[central + 46 : central + 46 + name_length] == name:
            data[central + 24 : central + 28] = struct.pack("<I", size)
        central = data.find(b"PK\x01\x02", central + 4)
    path.write_bytes(bytes(data))
    return path
