"""``fravaer inspect`` on an export that is refused: it lists the headers and codes it found,
then fails (exit 65) with the one error line (docs/ingest.md#confirm-what-was-read-fravaer-inspect).
"""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from fravaer.cli import app
from fravaer.ingest.source import SourceOptions
from fravaer.ingest.survey import survey
from tests.ingest.exports import write_text
from tests.ingest.test_excel import workbook

ROWS = (
    "fake-1;851001;04.03.2024;Fravær pga møde;SECRET Anna\n"
    "fake-1;851001;05.03.2024;Sygefravær;SECRET Anna\n"
    "fake-1;851001;06.03.2024;0101001234;SECRET Anna\n"
)


def inspect(path: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["inspect", str(path), *args])
    return result.exit_code, result.stdout, result.stderr


def test_unknown_codes_are_listed_with_their_counts_then_exit_65(tmp_path: Path) -> None:
    path = write_text(tmp_path, "Elev;Skole;Dato;Fraværsart;Navn\n" + ROWS)

    code, out, err = inspect(path, "--format", "json")

    assert code == 65
    entry = json.loads(out)["files"][0]
    assert entry["columns"]["category"] == "Fraværsart"
    assert entry["dropped_columns"] == ["Navn"]
    assert entry["codes"] == {
        "Fravær pga møde": {"category": None, "rows": 1},
        "Sygefravær": {"category": "illness", "rows": 1},
    }
    assert entry["codes_not_shown"] == {"values": 1, "rows": 1}
    assert err.count("fravaer: error: ") == 1
    assert f"{path}:2:4 (column 'Fraværsart'): unknown category codes" in err
    assert "0101001234" not in out + err
    assert "SECRET" not in out + err


def test_a_missing_column_is_listed_with_every_header(tmp_path: Path) -> None:
    path = write_text(tmp_path, "Elev;Skole;Dato;Hvad;Navn\n" + ROWS)

    code, out, err = inspect(path, "--format", "table", "--lang", "en")

    assert code == 65
    assert "Missing" in out
    assert "category" in out
    assert "Hvad, Navn" in out
    assert f"{path}:1: missing required column 'category'" in err
    assert "SECRET" not in out + err


def test_with_an_output_file_a_refused_export_writes_nothing(tmp_path: Path) -> None:
    path = write_text(tmp_path, "Elev;Skole;Dato;Hvad\n" + ROWS)
    target = tmp_path / "i.json"

    code, out, _ = inspect(path, "-o", str(target))

    assert code == 65
    assert out == ""
    assert not target.exists()


def test_a_sheet_is_surveyed_too(tmp_path: Path) -> None:
    path = workbook(
        tmp_path,
        [["Elev", "Skole", "Dato", "Kode"], ["fake", "1", "04.03.2024", "Fremmødt"]],
    )
    (tmp_path / "bad").mkdir()
    bad = workbook(
        tmp_path / "bad",
        [["Elev", "Skole", "Dato", "Kode"], ["fake", "1", "04.03.2024", "Ferie"]],
    )

    listed = survey(bad, SourceOptions())

    assert listed["files"][0]["codes"] == {"Ferie": {"category": None, "rows": 1}}
    assert inspect(path, "--format", "json")[0] == 0
    assert inspect(bad, "--format", "json")[0] == 65


def test_a_file_unreadable_before_its_header_is_listed_by_name(tmp_path: Path) -> None:
    path = write_text(tmp_path, "just one column\nx\n")

    assert survey(path, SourceOptions()) == {"files": [{"file": str(path)}]}
