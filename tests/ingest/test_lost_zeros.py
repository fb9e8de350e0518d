"""Ids that lost their leading zeros (docs/ingest.md#ids-that-lost-their-leading-zeros).

Excel shows ``0101031234`` as ``101031234`` when the column is a number column; the ids are
then read as they are, and a warning with a count (never an id) says the widths look so.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from fravaer.ingest import read_file_detected
from tests.ingest.exports import write_text
from tests.ingest.test_excel import workbook

IDS = ["0101031234", "101031234", "1201031234", "201031234", "3112031234"]


def warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]


def read(path: Path, caplog: pytest.LogCaptureFixture) -> list[str]:
    with caplog.at_level(logging.WARNING, logger="fravaer"):
        caplog.clear()
        read_file_detected(path)[0].collect()
    return warnings(caplog)


def test_cpr_numbers_of_9_and_10_digits_are_warned_about_by_count(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    rows = "".join(f"{i};851001;04.03.2024;S\n" for i in IDS)
    path = write_text(tmp_path, "Elev;Skole;Dato;Kode\n" + rows)

    found = read(path, caplog)

    assert found == [
        f"{path} (column 'Elev'): 2 pupil id(s) of 9 digits beside ids of 10: leading zeros may "
        "have been lost (Excel drops them); format the column as text in the export"
    ]
    for pupil in IDS:
        assert pupil not in found[0]


def test_pupil_numbers_of_6_and_7_digits_in_a_sheet_are_warned_about(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = workbook(
        tmp_path,
        [
            ["Elev", "Skole", "Dato", "Kode"],
            [1234567, "1", "04.03.2024", "S"],
            [234567, "1", "04.03.2024", "S"],
        ],
    )

    found = read(path, caplog)

    assert len(found) == 1
    assert "1 pupil id(s) of 6 digits beside ids of 7" in found[0]
    assert "234567" not in found[0]


@pytest.mark.parametrize(
    "ids",
    [
        ["0101031234", "1201031234"],  # one width
        ["fake-1", "fake-22"],  # not digits
        ["12", "123", "1234"],  # too narrow to tell
        ["1234567", "12345"],  # two digits apart: not one lost zero
    ],
)
def test_ids_of_one_width_or_other_shapes_are_not_warned_about(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, ids: list[str]
) -> None:
    rows = "".join(f"{i};851001;04.03.2024;S\n" for i in ids)
    path = write_text(tmp_path, "Elev;Skole;Dato;Kode\n" + rows)

    assert read(path, caplog) == []
