"""Ids that lost their leading zeros (docs/ingest.md#ids-that-lost-their-leading-zeros).

Excel shows ``0101031234`` as ``101031234`` when the column is a number column; the ids are
then read as they are, and a warning with a count (never an id) says the widths look so.
"""

from __future__ import annotations

import logging
from datetime import date, timedelta
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fravaer.ingest import read_export, read_file_detected
from fravaer.ingest.source import SourceOptions
from tests.ingest.exports import refusal, write_text
from tests.ingest.test_excel import workbook
from tests.profiles import examples

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


# -- Parquet: the same warning from the ids the checks gather ---------------------------------


def parquet(
    tmp_path: Path, ids: list[str], *, column: str = "pupil_id", school: str = "851001"
) -> Path:
    path = tmp_path / "export.parquet"
    pl.DataFrame(
        {
            column: ids,
            "school_id": [school] * len(ids),
            "date": [date(2024, 3, 4) + timedelta(days=i) for i in range(len(ids))],
            "category": ["present"] * len(ids),  # a register, as its shape is detected
        }
    ).write_parquet(path)
    return path


def test_text_ids_in_parquet_that_lost_zeros_are_warned_about_as_in_csv(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = parquet(tmp_path, IDS)
    csv = write_text(
        tmp_path,
        "pupil_id,school_id,date,category\n" + "".join(f"{i},851001,2024-03-04,S\n" for i in IDS),
    )

    found = read(path, caplog)

    assert found == [
        f"{path} (column 'pupil_id'): 2 pupil id(s) of 9 digits beside ids of 10: leading zeros "
        "may have been lost (Excel drops them); format the column as text in the export"
    ]
    assert found == [line.replace(str(csv), str(path)) for line in read(csv, caplog)]
    for pupil in IDS:
        assert pupil not in found[0]


def test_parquet_names_the_column_as_the_file_does(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = parquet(tmp_path, IDS, column="elev_nr")
    options = SourceOptions(columns={"pupil_id": "elev_nr"})

    with caplog.at_level(logging.WARNING, logger="fravaer"):
        read_export(path, options).collect()

    assert warnings(caplog) == [
        f"{path} (column 'elev_nr'): 2 pupil id(s) of 9 digits beside ids of 10: leading zeros "
        "may have been lost (Excel drops them); format the column as text in the export"
    ]


def test_a_hive_folder_warns_once_for_all_its_files(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    root = tmp_path / "hive"
    for school, ids in (("851001", IDS[:2]), ("851002", IDS[2:])):
        folder = root / f"school_id={school}"
        folder.mkdir(parents=True)
        parquet(folder, ids, school=school).rename(folder / "part.parquet")

    with caplog.at_level(logging.WARNING, logger="fravaer"):
        read_export(root).collect()

    assert len(warnings(caplog)) == 1
    assert warnings(caplog)[0].startswith(f"{root} (column 'pupil_id'): 2 pupil id(s) of 9 ")


def test_number_ids_in_parquet_are_refused_with_why_they_cannot_be_mended(
    tmp_path: Path,
) -> None:
    path = tmp_path / "numbers.parquet"
    pl.DataFrame(
        {
            "pupil_id": [int(i) for i in IDS],
            "school_id": ["851001"] * len(IDS),
            "date": [date(2024, 3, 4)] * len(IDS),
            "category": ["illness"] * len(IDS),
        }
    ).write_parquet(path)

    error = refusal(path)

    assert error.message == (
        f"{path} (column 'pupil_id'): column must be text (ids are strings: leading zeros matter)"
    )
    assert error.hint == (
        "an id stored as a number has lost its leading zeros (0123 is 123), which cannot be "
        "undone here; write the column as text where the file is made"
    )


def lost_zeros_reference(ids: list[str]) -> tuple[int, int, int] | None:
    """A plain loop: the distinct digit-only ids one digit narrower than the widest, when the
    widest has at least 5 digits."""
    digits = {i for i in ids if i.isascii() and i.isdigit()}
    if not digits:
        return None
    widest = max(len(i) for i in digits)
    short = sum(1 for i in digits if len(i) == widest - 1)
    return (short, widest - 1, widest) if widest >= 5 and short else None


@st.composite
def id_lists(draw: st.DrawFn) -> list[str]:
    """Digit-only ids of a few widths around a widest one (3 to 10 digits), and some others."""
    widest = draw(st.integers(3, 10))
    width = st.sampled_from([widest, widest - 1, widest - 2, 1])
    digits = width.flatmap(lambda n: st.text("0123456789", min_size=n, max_size=n))
    return draw(st.lists(digits | st.sampled_from(["fake-1", "x9"]), min_size=1, max_size=12))


@settings(
    max_examples=examples(40),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(id_lists())
def test_parquet_warns_exactly_as_the_reference_says(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, ids: list[str]
) -> None:
    found = read(parquet(tmp_path, ids), caplog)

    expected = lost_zeros_reference(ids)
    if expected is None:
        assert found == []
    else:
        short, width, widest = expected
        assert len(found) == 1
        assert f": {short} pupil id(s) of {width} digits beside ids of {widest}: " in found[0]
