"""The header row (docs/ingest.md#the-header-row): a title or blank lines above the header.

Exports made by hand carry a title (``Fraværsrapport 2023/24``) in the first row and the header
further down. The header is the first of the first 20 rows whose cells name every required
column, or the row ``header_row`` names; line numbers in messages stay the file's own.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fravaer import schema as s
from fravaer.cli import app
from fravaer.ingest import read_file_detected
from fravaer.ingest.headers import HEADER_SEARCH_ROWS
from fravaer.ingest.source import SourceOptions
from tests.ingest.exports import assert_private, refusal, write_text
from tests.ingest.test_excel import workbook

HEADER = "Elev;Skole;Dato;Kode"
ROWS = "fake-1;851001;04.03.2024;S\nfake-1;851001;05.03.2024;M\n"


def test_a_title_and_a_blank_line_above_the_header_are_skipped(tmp_path: Path) -> None:
    path = write_text(tmp_path, f"Fraværsrapport 2023/24\n\n{HEADER}\n{ROWS}")

    frame, detected = read_file_detected(path)

    out = frame.collect()
    assert out[s.DATE].to_list() == [date(2024, 3, 4), date(2024, 3, 5)]
    assert out[s.CATEGORY].to_list() == ["illness", "present"]
    assert detected.header_row == 3
    assert detected.separator == ";"
    assert detected.columns[s.PUPIL_ID] == "Elev"


def test_a_blank_first_line_is_not_an_empty_file(tmp_path: Path) -> None:
    path = write_text(tmp_path, f"\n{HEADER}\n{ROWS}")

    frame, detected = read_file_detected(path)

    assert detected.header_row == 2
    assert frame.collect().height == 2


def test_the_separator_is_sniffed_from_the_header_not_the_title(tmp_path: Path) -> None:
    # The title holds commas; the header and rows hold semicolons.
    title = "Fravær, skole 851001, uge 10\r\n"
    path = write_text(tmp_path, title + (f"{HEADER}\n{ROWS}").replace("\n", "\r\n"))

    _, detected = read_file_detected(path)

    assert (detected.separator, detected.header_row) == (";", 2)


def test_errors_name_the_file_line_below_a_title(tmp_path: Path) -> None:
    path = write_text(
        tmp_path, f"Fraværsrapport\n\n{HEADER}\nfake-1;851001;04.03.2024;S\nSECRET;1;31.02.2024;S\n"
    )

    error = refusal(path)

    assert error.message == f"{path}:5:3 (column 'Dato'): not a date in format DD.MM.YYYY"
    assert_private(error, {"SECRET", "31.02.2024"})


def test_a_cp1252_file_with_a_title_keeps_its_header_row(tmp_path: Path) -> None:
    text = f"Fraværsrapport\n{HEADER};Bemærkning\nfake-1;851001;04.03.2024;S;Mor ringede\n"
    path = write_text(tmp_path, text, encoding="cp1252")

    frame, detected = read_file_detected(path)

    assert (detected.encoding, detected.header_row) == ("cp1252", 2)
    assert detected.dropped == ("Bemærkning",)
    assert frame.collect().height == 1


def test_keep_lines_counts_the_title(tmp_path: Path) -> None:
    path = write_text(tmp_path, f"Fraværsrapport\n{HEADER}\n{ROWS}")

    frame, _ = read_file_detected(path, keep_lines=True)

    assert frame.collect()["_line"].to_list() == [3, 4]


def test_the_header_is_looked_for_on_the_first_20_lines_only(tmp_path: Path) -> None:
    above = "Fraværsrapport\n" * HEADER_SEARCH_ROWS
    path = write_text(tmp_path, f"{above}{HEADER}\n{ROWS}")

    error = refusal(path)

    assert error.message.startswith(f"{path}:1: cannot tell the separator")


def test_header_row_names_the_row(tmp_path: Path) -> None:
    above = "Fraværsrapport\n" * HEADER_SEARCH_ROWS
    path = write_text(tmp_path, f"{above}{HEADER}\n{ROWS}")

    frame, detected = read_file_detected(path, SourceOptions(header_row=21))

    assert detected.header_row == 21
    assert frame.collect().height == 2


def test_header_row_on_a_blank_line_is_refused_at_that_line(tmp_path: Path) -> None:
    path = write_text(tmp_path, f"Fraværsrapport\n\n{HEADER}\n{ROWS}")

    error = refusal(path, SourceOptions(header_row=2))

    assert error.message == f"{path}:2: the header row is empty"
    assert error.hint is not None
    assert "header_row" in error.hint


def test_header_row_on_the_wrong_row_is_refused_as_a_missing_column(tmp_path: Path) -> None:
    path = write_text(tmp_path, f"Fraværsrapport;;;\n{HEADER}\n{ROWS}")

    error = refusal(path, SourceOptions(header_row=1))

    assert error.message == f"{path}:1: missing required column 'pupil_id'"


def test_columns_option_lets_a_row_be_the_header(tmp_path: Path) -> None:
    path = write_text(tmp_path, f"Rapport\nNr;Skole;Dato;Kode\n{ROWS}")
    options = SourceOptions(columns={"pupil_id": "Nr"})

    _, detected = read_file_detected(path, options)

    assert detected.header_row == 2


def test_header_row_below_zero_is_a_configuration_error() -> None:
    with pytest.raises(ValueError, match="header_row"):
        SourceOptions.model_validate({"header_row": 0})


# -- Excel ------------------------------------------------------------------------------------


def test_a_sheet_with_a_title_in_a1_finds_its_header_in_row_3(tmp_path: Path) -> None:
    path = workbook(
        tmp_path,
        [
            ["Fraværsrapport 2023/24"],
            [],
            ["Elev", "Skole", "Dato", "Kode"],
            ["fake-1", "1", "04.03.2024", "S"],
            ["SECRET", "1", "31.02.2024", "S"],
        ],
    )

    error = refusal(path)

    assert error.message == f"{path}:5:3 (column 'Dato'): not a date in format DD.MM.YYYY"
    assert_private(error, {"SECRET", "31.02.2024"})


def test_a_sheet_reports_the_header_row(tmp_path: Path) -> None:
    path = workbook(
        tmp_path,
        [["Fraværsrapport"], ["Elev", "Skole", "Dato", "Kode"], ["fake-1", "1", "04.03.2024", "S"]],
        first_row=1,
    )

    frame, detected = read_file_detected(path)

    assert detected.header_row == 3
    assert frame.collect()[s.CATEGORY].to_list() == ["illness"]


def test_header_row_in_a_sheet_is_the_row_excel_shows(tmp_path: Path) -> None:
    path = workbook(
        tmp_path,
        [["Rapport"], ["Elev", "Skole", "Dato", "Kode"], ["fake-1", "1", "04.03.2024", "S"]],
    )

    _, detected = read_file_detected(path, SourceOptions(header_row=2))
    error = refusal(path, SourceOptions(header_row=9))

    assert detected.header_row == 2
    assert error.message == f"{path}:9: the header row is empty"


# -- the command line -------------------------------------------------------------------------


def test_inspect_says_which_row_was_taken(tmp_path: Path) -> None:
    path = write_text(tmp_path, f"Fraværsrapport\n\n{HEADER}\n{ROWS}")

    result = CliRunner().invoke(app, ["inspect", str(path), "--format", "json"])

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["files"][0]["header_row"] == 3


def test_inspect_leaves_out_the_header_row_when_it_is_the_first(tmp_path: Path) -> None:
    path = write_text(tmp_path, f"{HEADER}\n{ROWS}")

    result = CliRunner().invoke(app, ["inspect", str(path), "--format", "json"])

    assert result.exit_code == 0, result.output
    assert "header_row" not in json.loads(result.stdout)["files"][0]


def test_classify_takes_header_row(tmp_path: Path) -> None:
    path = write_text(tmp_path, f"Rapport;;;\n{HEADER}\n{ROWS}")

    wrong = CliRunner().invoke(app, ["classify", str(path), "--format", "csv", "--header-row", "1"])
    right = CliRunner().invoke(app, ["classify", str(path), "--format", "csv", "--header-row", "2"])

    assert wrong.exit_code == 65
    assert f"{path}:1: missing required column" in wrong.stderr
    assert right.exit_code == 0, right.output
    assert right.stdout.startswith("pupil_id,")


def test_an_export_in_hours_with_a_title_finds_its_header(tmp_path: Path) -> None:
    """An hours extract names its scheduled hours where a register names its category."""
    example = Path(__file__).resolve().parents[2] / "examples" / "systems" / "uddata" / "z8086.csv"
    text = example.read_text(encoding="utf-8")
    titled = write_text(tmp_path, "Fraværsudtræk Z8086\n\n" + text, name="titled.csv")
    plain = write_text(tmp_path, text, name="plain.csv")

    frame, detected = read_file_detected(titled)

    assert detected.header_row == 3
    assert frame.collect().equals(read_file_detected(plain)[0].collect())
