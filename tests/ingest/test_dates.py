"""Date formats (:mod:`fravaer.ingest.dates`): one per file, detected and reported, never guessed.

A file's format is the one in which every non-blank date cell is a real date. A cell that is a
date in no accepted format is refused at the first such cell; cells in more than one format
("mixed") are refused unless ``date_format`` is given. Messages name file, line and column as
the file does, and never the date itself.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from fravaer import schema as s
from fravaer.ingest import read_export, read_file_detected
from fravaer.ingest.dates import (
    DATE_FORMATS,
    EXCEL_SERIAL_MAX,
    EXCEL_SERIAL_MIN,
    MONTH_FIRST_HINT,
    TIME_OF_DAY_HINT,
    TIME_OF_DAY_PROBLEM,
    excel_date_expr,
    format_of,
)
from fravaer.ingest.source import SourceOptions
from tests.ingest.exports import assert_private, cells, refusal, write_text
from tests.ingest.test_excel import workbook

HEADER = "Elev;Skole;Dato;Kode"
MARCH_1 = date(2024, 3, 1)


def export(tmp_path: Path, *days: str) -> Path:
    rows = [f"SECRET{i};851001;{day};M" for i, day in enumerate(days, start=1)]
    return write_text(tmp_path, "\n".join([HEADER, *rows]) + "\n")


# -- accepted -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("days", "detected"),
    [
        (["2024-03-01", "2024-03-12"], "%Y-%m-%d"),
        (["01-03-2024", "12-03-2024"], "%d-%m-%Y"),
        (["01.03.2024", "12.03.2024"], "%d.%m.%Y"),
        (["01/03/2024", "12/03/2024"], "%d/%m/%Y"),
        (["1/3/2024", "12/3/2024"], "%d/%m/%Y"),
        # Zeros are optional in the slash and dot forms, and may vary within the file.
        (["1/3/2024", "01/03/2024", "1/03/2024"], "%d/%m/%Y"),
        (["1.3.2024", "12.3.2024", "01.03.2024"], "%d.%m.%Y"),
        # A database's date-time column at midnight, with a space or a T.
        (["2024-03-01 00:00:00", "2024-03-12 00:00:00"], "%Y-%m-%d %H:%M:%S"),
        (["2024-03-01T00:00:00", "2024-03-12T00:00"], "%Y-%m-%d %H:%M:%S"),
        (["2024-03-01 00:00:00.000", "2024-03-12 00:00:00"], "%Y-%m-%d %H:%M:%S"),
    ],
)
def test_each_format_is_detected_and_reported(
    tmp_path: Path, days: list[str], detected: str
) -> None:
    frame, found = read_file_detected(export(tmp_path, *days))

    assert found.date_format == detected
    dates = frame.collect()[s.DATE].to_list()
    assert dates[0] == MARCH_1
    assert dates[1] in (date(2024, 3, 12), MARCH_1)


@pytest.mark.parametrize("day", ["2/3/2024", "02/03/2024", "02-03-2024", "02.03.2024", "2.3.2024"])
def test_day_comes_first_in_every_format(tmp_path: Path, day: str) -> None:
    frame = read_export(export(tmp_path, day))

    assert frame.collect()[s.DATE].to_list() == [date(2024, 3, 2)]


def test_blank_cells_do_not_take_part_in_detection(tmp_path: Path) -> None:
    path = write_text(tmp_path, f"{HEADER}\n\n;;;\nfake;1;01.03.2024;M\n")

    assert read_file_detected(path)[1].date_format == "%d.%m.%Y"


def test_a_given_format_is_used(tmp_path: Path) -> None:
    path = export(tmp_path, "01.03.2024")

    frame, found = read_file_detected(path, SourceOptions(date_format="%d.%m.%Y"))

    assert found.date_format == "%d.%m.%Y"
    assert frame.collect()[s.DATE].to_list() == [MARCH_1]


# -- refused ------------------------------------------------------------------------------------

NONE_OF_THEM = "not a date (expected YYYY-MM-DD, DD-MM-YYYY, DD.MM.YYYY or D/M/YYYY)"
MIXED_HINT = "set date_format in source.toml to the format the file uses"

# id -> (date cells, options, location after the path, problem, hint)
REFUSALS: dict[str, tuple[list[str], SourceOptions, str, str, str | None]] = {
    "mixed-iso-and-dashes": (
        ["2024-03-01", "2024-03-04", "05-03-2024"],
        SourceOptions(),
        ":4:3",
        "dates in more than one format: DD-MM-YYYY here, YYYY-MM-DD from line 2",
        MIXED_HINT,
    ),
    "mixed-dots-and-slashes": (
        ["01.03.2024", "4/3/2024"],
        SourceOptions(),
        ":3:3",
        "dates in more than one format: D/M/YYYY here, DD.MM.YYYY from line 2",
        MIXED_HINT,
    ),
    "impossible-date": (
        ["01.03.2024", "31.02.2024"],
        SourceOptions(),
        ":3:3",
        "not a date in format DD.MM.YYYY",
        None,
    ),
    "impossible-iso-date": (
        ["2024-03-01", "2023-02-29"],
        SourceOptions(),
        ":3:3",
        "not a date in ISO format YYYY-MM-DD",
        None,
    ),
    "month-first-slash-date": (
        ["1/3/2024", "3/25/2024"],
        SourceOptions(),
        ":3:3",
        "not a date in format D/M/YYYY",
        MONTH_FIRST_HINT,
    ),
    "month-first-dashes": (
        ["03-01-2024", "03-04-2024", "03-25-2024"],
        SourceOptions(),
        ":4:3",
        "not a date in format DD-MM-YYYY",
        MONTH_FIRST_HINT,
    ),
    # A day above 12 read either way is no month-first file: no hint.
    "impossible-either-way": (
        ["1/3/2024", "31/31/2024"],
        SourceOptions(),
        ":3:3",
        "not a date in format D/M/YYYY",
        None,
    ),
    "time-of-day-in-a-csv": (
        ["2024-03-01 00:00:00", "2024-03-04 08:15:00"],
        SourceOptions(),
        ":3:3",
        TIME_OF_DAY_PROBLEM,
        TIME_OF_DAY_HINT,
    ),
    "time-of-day-throughout": (
        ["2024-03-01T08:15:00", "2024-03-04T08:15:00"],
        SourceOptions(),
        ":2:3",
        TIME_OF_DAY_PROBLEM,
        TIME_OF_DAY_HINT,
    ),
    "two-digit-year": (["01.03.24"], SourceOptions(), ":2:3", NONE_OF_THEM, None),
    "no-date-at-all": (["SECRETDAY"], SourceOptions(), ":2:3", NONE_OF_THEM, None),
    # Some cell is a date in no format: that cell is named, even after a mix.
    "unparseable-wins-over-mixed": (
        ["2024-03-01", "01.03.2024", "31.02.2024"],
        SourceOptions(),
        ":4:3",
        NONE_OF_THEM,
        None,
    ),
    "given-format-not-followed": (
        ["01.03.2024", "2024-03-04"],
        SourceOptions(date_format="%d.%m.%Y"),
        ":3:3",
        "not a date in format DD.MM.YYYY",
        "this date is written YYYY-MM-DD, but date_format is set to DD.MM.YYYY",
    ),
    "given-format-wrong-throughout": (
        ["01.03.2024"],
        SourceOptions(date_format="%Y-%m-%d"),
        ":2:3",
        "not a date in ISO format YYYY-MM-DD",
        "this date is written DD.MM.YYYY, but date_format is set to YYYY-MM-DD",
    ),
}


@pytest.mark.parametrize("case", list(REFUSALS))
def test_refusal_names_line_column_and_never_the_date(tmp_path: Path, case: str) -> None:
    days, options, where, problem, hint = REFUSALS[case]
    path = export(tmp_path, *days)

    error = refusal(path, options)

    assert error.message == f"{path}{where} (column 'Dato'): {problem}"
    assert error.hint == hint
    assert_private(error, cells(path, ";", "utf-8"))


def test_mixed_dates_are_read_when_the_format_is_given_and_they_agree(tmp_path: Path) -> None:
    path = export(tmp_path, "1/3/2024", "01/03/2024")

    frame = read_export(path, SourceOptions(date_format="%d/%m/%Y"))

    assert frame.collect()[s.DATE].to_list() == [MARCH_1, MARCH_1]


# -- the shapes do not overlap; Excel dates ----------------------------------------------------


@given(st.dates(date(1900, 1, 1), date(2199, 12, 31)))
def test_a_date_has_the_shape_of_its_own_format_only(day: date) -> None:
    for form in DATE_FORMATS:
        written = day.strftime(form.strftime)
        assert format_of(written) is form
        parsed = pl.select(form.parse_expr(pl.lit(written))).item()
        assert parsed == day


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-03-01 00:00:00", MARCH_1),
        ("2024-03-01 13:45:00", MARCH_1),
        ("45352", MARCH_1),
        ("45352.5", MARCH_1),
        (str(EXCEL_SERIAL_MIN), date(1950, 1, 1)),
        (str(EXCEL_SERIAL_MAX), date(2099, 12, 31)),
        (str(EXCEL_SERIAL_MIN - 1), None),
        ("5", None),
        ("20240301", None),
        ("01.03.2024", None),
        ("2024-03-01", None),
    ],
)
def test_excel_dates_are_date_cells_and_serials_in_range(text: str, expected: date | None) -> None:
    assert pl.select(excel_date_expr(pl.lit(text))).item() == expected


def test_a_date_at_midnight_and_a_plain_date_in_one_file_are_mixed(tmp_path: Path) -> None:
    path = export(tmp_path, "2024-03-01", "2024-03-04 00:00:00")

    error = refusal(path)

    assert error.message == (
        f"{path}:3:3 (column 'Dato'): dates in more than one format: "
        "YYYY-MM-DD 00:00:00 here, YYYY-MM-DD from line 2"
    )


def test_the_midnight_form_can_be_given(tmp_path: Path) -> None:
    path = export(tmp_path, "2024-03-01 00:00:00")

    frame = read_export(path, SourceOptions(date_format="%Y-%m-%d %H:%M:%S"))

    assert frame.collect()[s.DATE].to_list() == [MARCH_1]


def test_an_excel_date_time_cell_with_a_time_of_day_is_its_date(tmp_path: Path) -> None:
    path = workbook(
        tmp_path,
        [["Elev", "Skole", "Dato", "Kode"], ["fake", "1", datetime(2024, 3, 1, 8, 30), "S"]],
    )

    frame, detected = read_file_detected(path)

    assert frame.collect()[s.DATE].to_list() == [MARCH_1]
    assert detected.date_format == "excel"
