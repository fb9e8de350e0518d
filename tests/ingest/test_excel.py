"""Excel exports (:mod:`fravaer.ingest.excel`): the same mapping and checks as CSV.

"Line" is the spreadsheet row a user sees in Excel. Sheets are written with xlsxwriter, so each
test shows the cells it reads.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from datetime import date, datetime
from pathlib import Path

import fastexcel
import polars as pl
import pytest
import xlsxwriter
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from fravaer import schema as s
from fravaer.ingest import read_excel, read_export, read_file_detected
from fravaer.ingest import workbook as workbook_limits
from fravaer.ingest.source import SourceOptions
from fravaer.ingest.workbook import check_workbook
from tests.ingest.exports import (
    EXPECTED,
    FIXTURES,
    SECRET,
    assert_private,
    export_rows_xml,
    minimal_xlsx,
    refusal,
    understate_size,
    xlsx_cell,
    xlsx_row,
)
from tests.profiles import examples

FIXTURE = FIXTURES / "danish.xlsx"
ON_DATA_SHEET = SourceOptions(sheet="Fravær")

Cell = str | float | int | datetime | None


def workbook(
    tmp_path: Path,
    rows: Sequence[Sequence[Cell]],
    *,
    first_row: int = 0,
    first_column: int = 0,
    sheets: Sequence[str] = ("Ark1",),
) -> Path:
    """One sheet with ``rows`` from (``first_row``, ``first_column``), 0-based; None = empty."""
    path = tmp_path / "export.xlsx"
    book = xlsxwriter.Workbook(str(path))
    dates = book.add_format({"num_format": "dd-mm-yyyy"})
    for name in sheets:
        sheet = book.add_worksheet(name)
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                at = (first_row + r, first_column + c)
                if isinstance(value, datetime):
                    sheet.write_datetime(*at, value, dates)
                elif isinstance(value, str):
                    sheet.write_string(*at, value)
                elif value is not None:
                    sheet.write_number(*at, value)
    book.close()
    return path


HEADER = ["Elev", "Skole", "Dato", "Kode", "Andel"]


def test_the_fixture_reads_to_the_canonical_frame() -> None:
    frame, detected = read_file_detected(FIXTURE, ON_DATA_SHEET)

    assert_frame_equal(frame.collect(), EXPECTED)
    assert detected.file_type == "xlsx"
    assert detected.sheet == "Fravær"
    assert detected.date_format == "excel"
    assert detected.encoding is None
    assert detected.separator is None
    assert detected.dropped == ("Navn",)
    assert detected.columns[s.CATEGORY] == "Fraværstype"


def test_the_names_column_never_reaches_the_frame() -> None:
    out = read_excel(FIXTURE, ON_DATA_SHEET).collect()

    assert not any(SECRET in str(v) for row in out.rows() for v in row)


def test_the_first_sheet_is_read_by_default() -> None:
    error = refusal(FIXTURE)

    assert error.message == f"{FIXTURE}:1: missing required column 'pupil_id'"


def test_a_sheet_that_does_not_exist_is_refused_naming_the_sheets() -> None:
    error = refusal(FIXTURE, SourceOptions(sheet="Ark1"))

    assert error.message == f"{FIXTURE}: no sheet named 'Ark1'"
    assert error.hint == "the sheets are: Forside, Fravær; set sheet in source.toml to one of them"


# -- hidden sheets ------------------------------------------------------------------------------

HIDDEN_TEST_ROW = ["fake-1", "851001", "04-03-2024", "S"]


def with_hidden_sheets(tmp_path: Path, sheets: Sequence[tuple[str, str]]) -> Path:
    """A workbook of ``(name, state)`` sheets, ``state`` as ``xl/workbook.xml`` writes it
    (``visible``, ``hidden``, ``veryHidden``); each sheet holds the same export, its name in
    the class column so that the test can tell which sheet was read."""
    import zipfile

    path = tmp_path / "hidden.xlsx"
    book = xlsxwriter.Workbook(str(path))
    for name, _ in sheets:
        sheet = book.add_worksheet(name)
        for r, row in enumerate([[*HEADER[:4], "Klasse"], [*HIDDEN_TEST_ROW, name]]):
            for c, value in enumerate(row):
                sheet.write_string(r, c, value)
    book.close()
    # xlsxwriter refuses to hide the active or every sheet: the states are set in the XML.
    with zipfile.ZipFile(path) as source:
        parts = {info.filename: source.read(info) for info in source.infolist()}
    xml = parts["xl/workbook.xml"].decode("utf-8")
    for name, state in sheets:
        if state != "visible":
            xml = xml.replace(f'<sheet name="{name}"', f'<sheet name="{name}" state="{state}"')
    parts["xl/workbook.xml"] = xml.encode("utf-8")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for name, data in parts.items():
            target.writestr(name, data)
    return path


def read_sheet(path: Path, caplog: pytest.LogCaptureFixture, sheet: str | None = None) -> str:
    """The class column of the sheet read, which holds the sheet's name."""
    with caplog.at_level(logging.WARNING, logger="fravaer"):
        caplog.clear()
        frame = read_export(path, SourceOptions(sheet=sheet)).collect()
    return str(frame[s.CLASS_NAME].item())


def warned(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]


def test_a_hidden_first_sheet_is_skipped_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Excel shows the file from its first visible sheet: that is the one read."""
    path = with_hidden_sheets(tmp_path, [("Opslag", "hidden"), ("Fravær", "visible")])

    assert read_sheet(path, caplog) == "Fravær"
    assert warned(caplog) == [
        f"{path}: sheet 1 is hidden: read sheet 2 (Fravær), the first visible one; "
        "set sheet in source.toml, or give --sheet, to read another"
    ]
    assert read_file_detected(path)[1].sheet == "Fravær"
    # The rule reads the states fastexcel reports, without loading the sheets.
    reader = fastexcel.read_excel(str(path))
    assert [reader.load_sheet(n).visible for n in reader.sheet_names] == ["hidden", "visible"]


def test_very_hidden_sheets_count_and_a_withheld_name_is_a_position(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    sheets = [("Opslag", "veryHidden"), ("Koder", "hidden"), ("0102031234", "visible")]
    path = with_hidden_sheets(tmp_path, sheets)

    assert read_sheet(path, caplog) == "0102031234"
    assert warned(caplog) == [
        f"{path}: sheets 1 to 2 are hidden: read sheet 3, the first visible one; "
        "set sheet in source.toml, or give --sheet, to read another"
    ]


def test_a_named_hidden_sheet_is_read_without_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = with_hidden_sheets(tmp_path, [("Opslag", "hidden"), ("Fravær", "visible")])

    assert read_sheet(path, caplog, sheet="Opslag") == "Opslag"
    assert warned(caplog) == []


def test_visible_sheets_read_as_before_without_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = with_hidden_sheets(tmp_path, [("Ark1", "visible"), ("Opslag", "hidden")])

    assert read_sheet(path, caplog) == "Ark1"
    assert warned(caplog) == []


def test_a_workbook_of_hidden_sheets_is_refused(tmp_path: Path) -> None:
    path = with_hidden_sheets(tmp_path, [("Opslag", "hidden"), ("Fravær", "veryHidden")])

    error = refusal(path)

    assert error.message == f"{path}: every sheet of the workbook is hidden"
    assert error.hint == "set sheet in source.toml, or give --sheet, to name the sheet to read"


@settings(
    max_examples=examples(25),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(st.lists(st.sampled_from(["visible", "hidden", "veryHidden"]), min_size=1, max_size=4))
def test_the_sheet_read_is_the_first_visible_one_as_a_loop_finds_it(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, states: list[str]
) -> None:
    names = [f"Ark{i}" for i in range(1, len(states) + 1)]
    path = with_hidden_sheets(tmp_path, list(zip(names, states, strict=True)))
    first = next((i for i, state in enumerate(states) if state == "visible"), None)

    if first is None:
        assert refusal(path).message == f"{path}: every sheet of the workbook is hidden"
        return
    assert read_sheet(path, caplog) == names[first]
    assert len(warned(caplog)) == (1 if first else 0)
    if first:
        hidden = "sheet 1 is hidden" if first == 1 else f"sheets 1 to {first} are hidden"
        assert warned(caplog)[0].startswith(f"{path}: {hidden}: read sheet {first + 1} (Ark")


def test_dates_may_be_date_cells_serial_numbers_and_text(tmp_path: Path) -> None:
    path = workbook(
        tmp_path,
        [
            HEADER,
            ["fake", "1", datetime(2024, 3, 1), "S", None],
            ["fake", "1", 45355, "S", None],  # 4 March 2024 as a number
            ["fake", "1", "05.03.2024", "S", "0,5"],
            ["fake", "1", "06.03.2024", "S", 0.25],
        ],
    )

    frame, detected = read_file_detected(path)

    out = frame.collect()
    assert out[s.DATE].to_list() == [date(2024, 3, d) for d in (1, 4, 5, 6)]
    assert out[s.ABSENT_FRACTION].to_list() == [1.0, 1.0, 0.5, 0.25]
    assert detected.date_format == "%d.%m.%Y"


def test_rows_are_numbered_as_in_excel_from_a_header_below_row_one(tmp_path: Path) -> None:
    path = workbook(
        tmp_path,
        [
            HEADER,
            ["fake-1", "1", datetime(2024, 3, 1), "S", None],
            [None, None, None, None, None],
            ["fake-2", "1", "01.03.2024", "S", None],
            ["SECRET3", "1", "31.02.2024", "S", None],
        ],
        first_row=2,
        first_column=1,
    )

    error = refusal(path)

    assert error.message == f"{path}:7:3 (column 'Dato'): not a date in format DD.MM.YYYY"
    assert_private(error, {"SECRET3", "31.02.2024"})


def test_keep_lines_gives_spreadsheet_rows(tmp_path: Path) -> None:
    path = workbook(
        tmp_path,
        [
            HEADER,
            ["fake-1", "1", datetime(2024, 3, 1), "S", None],
            [None, None, None, None, None],
            ["fake-2", "1", datetime(2024, 3, 1), "M", None],
        ],
        first_row=1,
    )

    lines = read_export(path, keep_lines=True).collect()["_line"].to_list()

    assert lines == [3, 5]


def test_unknown_codes_in_a_sheet_are_listed(tmp_path: Path) -> None:
    rows = [HEADER] + [["fake", "1", datetime(2024, 3, d), "X", None] for d in (1, 4, 5)]
    path = workbook(tmp_path, rows)

    error = refusal(path)

    assert error.message == f"{path}:2:4 (column 'Kode'): unknown category codes: X (3)"


def test_ids_keep_what_the_sheet_shows(tmp_path: Path) -> None:
    path = workbook(
        tmp_path,
        [
            HEADER,
            ["0007", 851001, datetime(2024, 3, 1), "S", None],
            [7, 851001, "01.03.2024", "M", 0],
        ],
    )

    out = read_export(path).collect()

    assert out[s.PUPIL_ID].to_list() == ["0007", "7"]
    assert out[s.SCHOOL_ID].to_list() == ["851001", "851001"]


@pytest.mark.parametrize(
    ("make", "problem"),
    [
        (lambda p: p.write_bytes(os.urandom(500)), "not a readable Excel file (CalamineError)"),
        (lambda p: p.write_text("Elev;Skole\n1;2\n"), "not a readable Excel file (CalamineError)"),
    ],
    ids=["random-bytes", "csv-named-xlsx"],
)
def test_a_file_that_is_not_a_workbook_is_refused(
    tmp_path: Path, make: Callable[[Path], object], problem: str
) -> None:
    path = tmp_path / "export.xlsx"
    make(path)

    assert refusal(path).message == f"{path}: {problem}"


def test_an_empty_sheet_is_refused(tmp_path: Path) -> None:
    path = workbook(tmp_path, [])

    assert refusal(path).message == f"{path}:1: sheet is empty (no header)"


def test_a_header_only_sheet_has_no_data_rows(tmp_path: Path) -> None:
    path = workbook(tmp_path, [HEADER])

    assert refusal(path).message == f"{path}: no data rows"


def test_excel_and_csv_of_the_same_rows_agree(tmp_path: Path) -> None:
    csv = read_export(FIXTURES / "danish-semicolon-cp1252.csv").collect()

    assert_frame_equal(read_excel(FIXTURE, ON_DATA_SHEET).collect(), csv)
    assert isinstance(csv, pl.DataFrame)


# -- limits before the reader (fravaer.ingest.workbook, docs/ingest.md#excel) ----------------------

HINT = "save the sheet again from Excel, or export the data as CSV"


def far_cell(ref: str, row: int) -> str:
    return xlsx_row(row, xlsx_cell(ref, "SECRET"))


@pytest.mark.parametrize(
    ("rows", "dimension", "problem"),
    [
        # One cell at XFD1048576: the reader would allocate 550 GB and abort the process.
        (far_cell("XFD1048576", 1048576), None, "a sheet reaches column 16,384: more than 1,000"),
        (far_cell("ALM3", 3), "A1:D2", "a sheet reaches column 1,001: more than 1,000"),
        (
            far_cell("D1048576", 1048576)
            + far_cell("AX1048576", 1048576)[: -len("</row>")]
            + "</row>",
            None,
            "a sheet spans 1,048,576 rows by 50 columns: more than 50,000,000 cells",
        ),
        # Two column letters at most, six row digits: the literal fast path of the scan.
        (
            far_cell("ZZ100000", 100000),
            None,
            "a sheet spans 100,000 rows by 702 columns: more than 50,000,000 cells",
        ),
        # The sheet's dimension alone claims the whole grid.
        ("", "A1:XFD1048576", "a sheet reaches column 16,384: more than 1,000"),
        # Cells without r are placed after the one before: 16,384 of them in one row.
        (
            '<row r="3">' + xlsx_cell(None, "x") * 1001 + "</row>",
            None,
            "a sheet reaches column 1,001: more than 1,000",
        ),
        (far_cell("A2000000", 2000000), None, "a sheet reaches row 2,000,000: more than 1,048,576"),
        (far_cell("ABCD3", 3), None, "a cell's reference is not a cell"),
    ],
    ids=[
        "far-cell",
        "column-1001",
        "too-many-cells",
        "too-many-cells-plain",
        "dimension",
        "cells-without-r",
        "row-2m",
        "four-letters",
    ],
)
def test_a_sheet_that_would_exhaust_memory_is_refused_before_reading(
    tmp_path: Path, rows: str, dimension: str | None, problem: str
) -> None:
    path = minimal_xlsx(tmp_path / "export.xlsx", export_rows_xml() + rows, dimension=dimension)

    error = refusal(path)

    assert error.message == f"{path}: {problem}"
    assert error.hint == HINT
    assert SECRET not in error.message


def test_a_sheet_of_a_million_rows_in_a_few_columns_is_within_the_limits(tmp_path: Path) -> None:
    # Legitimate: Excel's last row, four columns.
    path = minimal_xlsx(
        tmp_path / "export.xlsx",
        export_rows_xml() + xlsx_row(1048576, xlsx_cell("D1048576", "x")),
        dimension="A1:D1048576",
    )

    check_workbook(path)


def test_shared_strings_announcing_more_than_they_hold_are_refused(tmp_path: Path) -> None:
    # The reader reserves 24 bytes per announced string before reading one: 96 GB here.
    path = minimal_xlsx(tmp_path / "export.xlsx", export_rows_xml(), unique_strings=4_000_000_000)

    assert (
        refusal(path).message == f"{path}: the workbook announces more shared strings than it holds"
    )


def test_a_part_that_inflates_beyond_its_declared_size_is_refused(tmp_path: Path) -> None:
    path = minimal_xlsx(tmp_path / "export.xlsx", export_rows_xml() + far_cell("A3", 3) * 200)
    understate_size(path, "xl/worksheets/sheet1.xml", 100)

    assert refusal(path).message == f"{path}: not a readable Excel file (BadZipFile)"


def test_a_part_that_inflates_beyond_the_bound_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(workbook_limits, "MAX_PART_BYTES", 4096)
    path = minimal_xlsx(tmp_path / "export.xlsx", export_rows_xml() + far_cell("A3", 3) * 200)

    assert refusal(path).message == f"{path}: a part of the workbook is larger than 0 MB"


def test_the_fixture_and_xlsxwriter_workbooks_are_within_the_limits(tmp_path: Path) -> None:
    check_workbook(FIXTURE)
    check_workbook(workbook(tmp_path, [HEADER, ["1", "851001", datetime(2024, 3, 4), "M", 1]]))


def with_part(path: Path, name: str, data: bytes) -> Path:
    import zipfile

    with zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED) as book:
        book.writestr(name, data)
    return path


SHEET_XML = (
    '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
    + xlsx_row(1048576, xlsx_cell("XFD1048576", "x"))
    + "</sheetData></worksheet>"
)


@pytest.mark.parametrize(
    ("name", "data", "problem"),
    [
        # The reader follows the workbook's relationships, which may name any part.
        ("xl/data/sheet.bin", SHEET_XML.encode(), "a sheet reaches column 16,384: more than 1,000"),
        (
            "xl/strings.bin",
            b"<!--" + b"x" * 100_000 + b'--><sst uniqueCount="4000000000"><si><t>x</t></si></sst>',
            "the workbook announces more shared strings than it holds",
        ),
        (
            "xl/worksheets/sheet2.xml",
            SHEET_XML.encode("utf-16"),
            "a part of the workbook is UTF-16 text, which fravaer does not read",
        ),
    ],
    ids=["sheet-under-another-name", "shared-strings-after-a-long-comment", "utf-16-sheet"],
)
def test_every_part_is_scanned_whatever_its_name(
    tmp_path: Path, name: str, data: bytes, problem: str
) -> None:
    path = with_part(minimal_xlsx(tmp_path / "export.xlsx", export_rows_xml()), name, data)

    assert refusal(path).message == f"{path}: {problem}"
