"""Excel exports (:mod:`fravaer.ingest.excel`): the same mapping and checks as CSV.

"Line" is the spreadsheet row a user sees in Excel. Sheets are written with xlsxwriter, so each
test shows the cells it reads.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from datetime import date, datetime
from pathlib import Path

import polars as pl
import pytest
import xlsxwriter
from polars.testing import assert_frame_equal

from fravaer import schema as s
from fravaer.ingest import read_excel, read_export, read_file_detected
from fravaer.ingest.source import SourceOptions
from tests.ingest.exports import EXPECTED, FIXTURES, SECRET, assert_private, refusal

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
