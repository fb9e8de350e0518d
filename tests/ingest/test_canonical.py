"""The canonical reader at library level: ``read_export``, ``read_csv`` and ``read_parquet``.

What scripts see at the command line is tested in ``tests/test_cli.py``; here every check of
the readers (:mod:`fravaer.ingest.csv`, :mod:`fravaer.ingest.parquet`, with the cell checks of
:mod:`fravaer.ingest.plans` and :mod:`fravaer.ingest.validate`) gets one case with its exact
message and location, so a change of wording or of line counting is a deliberate act. Cells
that must never reach a message carry the marker ``SECRET``.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from fravaer import schema as s
from fravaer.errors import BadInputError, InputMissingError
from fravaer.ingest import parquet as parquet_reader
from fravaer.ingest import read_csv, read_export, read_file, read_parquet, reader
from fravaer.ingest.parquet import read_parquet_detected
from fravaer.ingest.source import LocalCode, SourceOptions
from tests.profiles import examples

HEADER = "pupil_id,school_id,date,category,absent_fraction,grade,class_name"
# A valid first record whose quoted class name spans lines 2-3 (a line break after the name is
# stripped like a space; one inside a name is refused): the next record is on line 4.
TWO_LINE_ROW = 'SECRET42,851001,2024-01-02,present,0,5,"5.A\n"'
SECRET = "SECRET"
JAN2, JAN3 = date(2024, 1, 2), date(2024, 1, 3)
UNKNOWN_CATEGORY = "unknown category (expected one of present, illness, leave, unlawful)"


def export(*rows: str, header: str = HEADER) -> str:
    """A canonical CSV whose records after the two-line one start on line 4."""
    return "\n".join([header, TWO_LINE_ROW, *rows]) + "\n"


def write(tmp_path: Path, text: str, name: str = "export.csv", *, newline: str = "\n") -> Path:
    path = tmp_path / name
    path.write_bytes(text.replace("\n", newline).encode("utf-8"))
    return path


def canonical(rows: Mapping[str, Sequence[object]]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=s.CANONICAL_SCHEMA)


def refusal(read: Callable[[Path], pl.LazyFrame], path: Path) -> BadInputError:
    """The BadInputError reading ``path`` raises, whether at reading or at collecting."""
    with pytest.raises(BadInputError) as caught:
        read(path).collect()
    assert caught.value.exit_code == 65
    return caught.value


def assert_no_traceback(message: str) -> None:
    assert "\n" not in message
    assert "Traceback" not in message
    assert "Error:" not in message  # a library's "ComputeError: ..." text
    assert len(message) < 300


# -- CSV: accepted input -----------------------------------------------------------------------


def test_csv_with_every_column_is_typed_canonically(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        f"{HEADER}\n"
        "007,0851001,2024-01-02,illness,1,5,5.A\n"
        "007,0851001,2024-01-03,leave,0.5,5,5.A\n"
        "007,0851001,2024-01-03,unlawful,0.5,5,5.A\n"
        "0000123,0851001,2024-01-02,present,0,10,10.X\n"
        "0000123,0851001,2024-01-03,present,,,\n",
    )

    out = read_csv(path).collect()

    assert out.schema == s.CANONICAL_SCHEMA
    expected = canonical(
        {
            s.PUPIL_ID: ["007", "007", "007", "0000123", "0000123"],
            s.SCHOOL_ID: ["0851001"] * 5,
            s.DATE: [JAN2, JAN3, JAN3, JAN2, JAN3],
            s.CATEGORY: ["illness", "leave", "unlawful", "present", "present"],
            s.ABSENT_FRACTION: [1.0, 0.5, 0.5, 0.0, 0.0],
            s.GRADE: [5, 5, 5, 10, None],
            s.CLASS_NAME: ["5.A", "5.A", "5.A", "10.X", None],
        }
    )
    assert_frame_equal(out, expected)


def test_csv_defaults_fraction_one_for_absence_and_zero_for_present(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "pupil_id,school_id,date,category\n"
        "007,851001,2024-01-02,illness\n"
        "007,851001,2024-01-03,leave\n"
        "007,851001,2024-01-04,unlawful\n"
        "007,851001,2024-01-05,present\n",
    )

    out = read_csv(path).collect()

    assert out.schema == s.CANONICAL_SCHEMA
    assert out[s.ABSENT_FRACTION].to_list() == [1.0, 1.0, 1.0, 0.0]
    assert out[s.GRADE].to_list() == [None] * 4
    assert out[s.CLASS_NAME].to_list() == [None] * 4


def test_csv_blank_fraction_takes_the_default(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        f"{HEADER}\n007,851001,2024-01-02,illness,,5,5.A\n007,851001,2024-01-03,present, ,5,5.A\n",
    )

    assert read_csv(path).collect()[s.ABSENT_FRACTION].to_list() == [1.0, 0.0]


def test_csv_ids_keep_leading_zeros_and_are_never_numbers(tmp_path: Path) -> None:
    path = write(tmp_path, "pupil_id,school_id,date,category\n007,0042,2024-01-02,present\n")

    out = read_csv(path).collect()

    assert out.row(0)[:2] == ("007", "0042")


def test_csv_whitespace_around_values_is_stripped(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        f"{HEADER}\n 007 ,  851001\t, 2024-01-02 , illness , 0.5 , 5 , 5.A \n"
        "007,851001,2024-01-03,present,0,5,   \n",
    )

    out = read_csv(path).collect()

    assert out.rows() == [
        ("007", "851001", date(2024, 1, 2), "illness", 0.5, 5, "5.A"),
        ("007", "851001", date(2024, 1, 3), "present", 0.0, 5, None),
    ]


def test_csv_utf8_bom_before_the_header_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_bytes(
        "pupil_id,school_id,date,category\n007,851001,2024-01-02,present\n".encode("utf-8-sig")
    )

    out = read_csv(path).collect()

    assert out.columns == list(s.CANONICAL_SCHEMA)
    assert out.row(0)[0] == "007"


def test_csv_with_crlf_line_ends_equals_lf(tmp_path: Path) -> None:
    text = (
        f"{HEADER}\n007,851001,2024-01-02,illness,0.5,5,5.A\n007,851001,2024-01-03,present,0,5,\n"
    )

    lf = read_csv(write(tmp_path, text, "lf.csv")).collect()
    crlf = read_csv(write(tmp_path, text, "crlf.csv", newline="\r\n")).collect()

    assert_frame_equal(lf, crlf)
    assert crlf[s.CLASS_NAME].to_list() == ["5.A", None]


def test_csv_header_only_is_refused(tmp_path: Path) -> None:
    """An export with no rows is a failed export, whatever --as-of says."""
    path = write(tmp_path, f"{HEADER}\n\n")

    assert refusal(read_csv, path).message == f"{path}: no data rows"


def test_csv_identical_rows_are_dropped_with_a_warning_without_ids(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = write(
        tmp_path,
        f"{HEADER}\n"
        "SECRET42,851001,2024-01-02,illness,1,5,5.A\n"
        "SECRET42,851001,2024-01-03,present,0,5,5.A\n"
        "SECRET42,851001,2024-01-02,illness,1,5,5.A\n"
        " SECRET42 ,851001,2024-01-02,illness,1.0,5,5.A\n",
    )

    with caplog.at_level(logging.WARNING, logger="fravaer"):
        out = read_csv(path).collect()

    assert out.rows() == [
        ("SECRET42", "851001", date(2024, 1, 2), "illness", 1.0, 5, "5.A"),
        ("SECRET42", "851001", date(2024, 1, 3), "present", 0.0, 5, "5.A"),
    ]
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    message = warnings[0].getMessage()
    assert str(path) in message
    assert "2 repeated row(s)" in message
    assert SECRET not in message


def test_csv_fractions_adding_up_to_exactly_one_are_accepted(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        f"{HEADER}\n"
        "007,851001,2024-01-02,illness,0.5,5,5.A\n"
        "007,851001,2024-01-02,leave,0.25,5,5.A\n"
        "007,851001,2024-01-02,unlawful,0.25,5,5.A\n",
    )

    assert read_csv(path).collect()[s.ABSENT_FRACTION].sum() == 1.0


# -- CSV: every refusal, with its exact message -----------------------------------------------

# id -> (file text, location after the path, problem)
CSV_REFUSALS: dict[str, tuple[str, str, str]] = {
    "missing-pupil-id": (
        export("   ,851001,2024-01-03,illness,1,5,5.A"),
        ":4:1 (column 'pupil_id')",
        "missing pupil id",
    ),
    "missing-school-id": (
        export("SECRET42,,2024-01-03,illness,1,5,5.A"),
        ":4:2 (column 'school_id')",
        "missing school id",
    ),
    "missing-date": (
        export("SECRET42,851001, ,illness,1,5,5.A"),
        ":4:3 (column 'date')",
        "missing date",
    ),
    "date-not-a-date": (
        export("SECRET42,851001,SECRET43,illness,1,5,5.A"),
        ":4:3 (column 'date')",
        "not a date in ISO format YYYY-MM-DD",
    ),
    "date-danish-order-after-iso": (
        export("SECRET42,851001,03-01-2024,illness,1,5,5.A"),
        ":4:3 (column 'date')",
        "dates in more than one format: DD-MM-YYYY here, YYYY-MM-DD from line 2",
    ),
    "date-not-in-calendar": (
        export("SECRET42,851001,2024-02-30,illness,1,5,5.A"),
        ":4:3 (column 'date')",
        "not a date in ISO format YYYY-MM-DD",
    ),
    "unknown-category": (
        export("SECRET42,851001,2024-01-03,SECRET43,1,5,5.A"),
        ":4:4 (column 'category')",
        UNKNOWN_CATEGORY,
    ),
    "unknown-codes-are-listed-with-counts": (
        export(
            "SECRET42,851001,2024-01-03,X,1,5,5.A",
            "SECRET42,851001,2024-01-04,Q,1,5,5.A",
            "SECRET42,851001,2024-01-05,X,1,5,5.A",
        ),
        ":4:4 (column 'category')",
        "unknown category codes: X (2), Q (1)",
    ),
    "blank-category-is-present-so-no-fraction": (
        export("SECRET42,851001,2024-01-03,,1,5,5.A"),
        ":4:5 (column 'absent_fraction')",
        "a present row cannot have an absent fraction above 0",
    ),
    "fraction-not-a-number": (
        export("SECRET42,851001,2024-01-03,illness,SECRET43,5,5.A"),
        ":4:5 (column 'absent_fraction')",
        "not a number",
    ),
    "fraction-with-decimal-comma": (
        export('SECRET42,851001,2024-01-03,illness,"0,31337",5,5.A'),
        ":4:5 (column 'absent_fraction')",
        "not a number",
    ),
    "fraction-above-one": (
        export("SECRET42,851001,2024-01-03,illness,1.31337,5,5.A"),
        ":4:5 (column 'absent_fraction')",
        "absent fraction must be between 0 and 1",
    ),
    "fraction-below-zero": (
        export("SECRET42,851001,2024-01-03,illness,-0.31337,5,5.A"),
        ":4:5 (column 'absent_fraction')",
        "absent fraction must be between 0 and 1",
    ),
    "fraction-nan": (
        export("SECRET42,851001,2024-01-03,illness,NaN,5,5.A"),
        ":4:5 (column 'absent_fraction')",
        "absent fraction must be between 0 and 1",
    ),
    "present-with-absence": (
        export("SECRET42,851001,2024-01-03,present,0.31337,5,5.A"),
        ":4:5 (column 'absent_fraction')",
        "a present row cannot have an absent fraction above 0",
    ),
    "grade-not-a-number": (
        export("SECRET42,851001,2024-01-03,illness,1,SECRET43,5.A"),
        ":4:6 (column 'grade')",
        "grade must be a whole number from 0 to 10",
    ),
    "grade-eleven": (
        export("SECRET42,851001,2024-01-03,illness,1,11,5.A"),
        ":4:6 (column 'grade')",
        "grade must be a whole number from 0 to 10",
    ),
    "grade-negative": (
        export("SECRET42,851001,2024-01-03,illness,1,-1,5.A"),
        ":4:6 (column 'grade')",
        "grade must be a whole number from 0 to 10",
    ),
    "grade-with-decimals": (
        export("SECRET42,851001,2024-01-03,illness,1,5.5,5.A"),
        ":4:6 (column 'grade')",
        "grade must be a whole number from 0 to 10",
    ),
    "earliest-row-wins": (
        export(
            "SECRET42,851001,2024-01-03,illness,1,SECRET43,5.A",
            ",851001,2024-01-04,illness,1,5,5.A",
        ),
        ":4:6 (column 'grade')",
        "grade must be a whole number from 0 to 10",
    ),
    "leftmost-column-wins-in-a-row": (
        export("SECRET42,851001,SECRET43,SECRET44,1,5,5.A"),
        ":4:3 (column 'date')",
        "not a date in ISO format YYYY-MM-DD",
    ),
    "missing-required-column": (
        "pupil_id,school_id,date,absent_fraction\nSECRET42,851001,2024-01-02,0\n",
        ":1",
        "missing required column 'category'",
    ),
    "conflicting-duplicate-school": (
        export(
            "SECRET42,851001,2024-01-03,illness,1,5,5.A",
            "SECRET42,SECRET43,2024-01-03,illness,1,5,5.A",
        ),
        ":5:2 (column 'school_id')",
        "differs from an earlier row for the same pupil, date and category",
    ),
    "conflicting-duplicate-fraction": (
        export(
            "SECRET42,851001,2024-01-03,illness,0.5,5,5.A",
            "SECRET42,851001,2024-01-04,present,0,5,5.A",
            "SECRET42,851001,2024-01-03,illness,0.31337,5,5.A",
        ),
        ":6:5 (column 'absent_fraction')",
        "differs from an earlier row for the same pupil, date and category",
    ),
    "conflicting-duplicate-grade": (
        export(
            "SECRET42,851001,2024-01-03,illness,1,5,5.A",
            "SECRET42,851001,2024-01-03,illness,1,6,5.A",
        ),
        ":5:6 (column 'grade')",
        "differs from an earlier row for the same pupil, date and category",
    ),
    "day-adds-up-to-more-than-one": (
        export(
            "SECRET42,851001,2024-01-03,illness,0.75,5,5.A",
            "SECRET42,851001,2024-01-03,unlawful,0.31337,5,5.A",
        ),
        ":4:5 (column 'absent_fraction')",
        "absent fractions of one pupil-day add up to more than 1",
    ),
    "row-longer-than-header": (
        export("SECRET42,851001,2024-01-03,illness,1,5,5.A,SECRET43"),
        ":4",
        "row has a different number of fields than the header",
    ),
    "empty-file": ("", ":1", "file is empty (no header)"),
}


@pytest.mark.parametrize("newline", ["\n", "\r\n"], ids=["lf", "crlf"])
@pytest.mark.parametrize("case", list(CSV_REFUSALS))
def test_csv_refusal_names_file_line_column_and_no_value(
    tmp_path: Path, case: str, newline: str
) -> None:
    text, where, problem = CSV_REFUSALS[case]
    path = write(tmp_path, text, newline=newline)

    error = refusal(read_csv, path)

    assert error.message == f"{path}{where}: {problem}"
    assert SECRET not in error.message
    assert "31337" not in error.message
    assert error.hint is None or SECRET not in error.hint


def test_csv_unreadable_structure_is_refused_without_detail(tmp_path: Path) -> None:
    path = write(tmp_path, f'{HEADER}\nSECRET42,851001,2024-01-02,illness,1,5,"5.A\n')

    error = refusal(read_csv, path)

    assert re.fullmatch(rf"{re.escape(str(path))}: not a readable CSV file \(\w+\)", error.message)
    assert_no_traceback(error.message)


def test_csv_not_utf8_forced_is_refused_without_the_bytes(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_bytes(f"{HEADER}\nSECRET42,851001,2024-01-02,present,0,5,5.".encode() + b"\xf8\n")

    with pytest.raises(BadInputError) as caught:
        read_csv(path, SourceOptions(encoding="utf-8")).collect()

    assert caught.value.message == f"{path}:2: not UTF-8 text"
    assert caught.value.hint is not None
    assert caught.value.hint.startswith("save or export the file as UTF-8")
    assert SECRET not in caught.value.message
    assert_no_traceback(caught.value.message)


def test_csv_not_utf8_is_read_as_cp1252(tmp_path: Path) -> None:
    """Detection falls back to cp1252 (docs/ingest.md); it used to refuse such files."""
    path = tmp_path / "export.csv"
    path.write_bytes(
        b"pupil_id,school_id,date,category,class_name\n1,2,2024-01-02,present,5.\xf8\n"
    )

    assert read_csv(path).collect()[s.CLASS_NAME].to_list() == ["5.ø"]


def test_csv_repeated_header_name_is_refused(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "pupil_id,school_id,date,category,category\nSECRET42,851001,2024-01-02,present,illness\n",
    )

    error = refusal(read_csv, path)

    assert error.message == f"{path}:1:4 (column 'category'): the header repeats this column name"


@pytest.mark.parametrize(
    ("rows", "line"),
    [
        (["SECRET42,851001,2024-01-03,illness,0.5"], 4),
        (["SECRET42,851001,2024-01-03,illness,0.5,5,5.A", "SECRET42"], 5),
        # An empty last cell is not a short row; the short row after it is.
        (["SECRET42,851001,2024-01-03,illness,0.5,5,", "SECRET42,851001,2024-01-04"], 5),
        # A short row of blank cells is a blank line, skipped like one.
        (["SECRET42,851001,2024-01-03,illness,0.5,5,", ",,", "SECRET42,851001"], 6),
    ],
    ids=["last-row", "one-cell", "after-an-empty-last-cell", "after-a-blank-short-row"],
)
def test_csv_row_shorter_than_header_is_refused(tmp_path: Path, rows: list[str], line: int) -> None:
    path = write(tmp_path, export(*rows))

    error = refusal(read_csv, path)

    assert error.message == f"{path}:{line}: row has a different number of fields than the header"


def test_csv_blank_codes_keep_the_category_an_enum(tmp_path: Path) -> None:
    """A blank code is present; the column stayed String once, and streaming queries panicked."""
    path = write(tmp_path, f"{HEADER}\n007,851001,2024-01-02,,0,5,5.A\n\n")

    frame = read_csv(path)

    assert frame.collect_schema() == s.CANONICAL_SCHEMA
    assert frame.collect(engine="streaming")[s.CATEGORY].to_list() == ["present"]


def test_csv_rows_with_empty_last_cells_are_not_short(tmp_path: Path) -> None:
    path = write(tmp_path, export("007,851001,2024-01-03,illness,0.5,5,", ",,,,,,", ",,"))

    assert read_csv(path).collect()[s.CLASS_NAME].to_list() == ["5.A", None]


def test_csv_trailing_blank_line_is_ignored(tmp_path: Path) -> None:
    path = write(tmp_path, f"{HEADER}\n007,851001,2024-01-02,present,0,5,5.A\n\n")

    assert read_csv(path).collect().height == 1


def test_csv_blank_line_in_the_middle_is_skipped_and_lines_still_count(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        f"{HEADER}\n007,851001,2024-01-02,present,0,5,5.A\n\nSECRET42,851001,2024-13-02,present,0,5,5.A\n",
    )

    error = refusal(read_csv, path)

    assert error.message == f"{path}:4:3 (column 'date'): not a date in ISO format YYYY-MM-DD"


@pytest.mark.parametrize("day", ["2024-3-1", "+2024-03-01", "2024-03-01T00:00Z", "20240301"])
def test_csv_dates_must_be_exactly_iso(tmp_path: Path, day: str) -> None:
    path = write(
        tmp_path,
        f"{HEADER}\n007,851001,2024-03-01,present,0,5,5.A\nSECRET42,851001,{day},present,0,5,5.A\n",
    )

    assert refusal(read_csv, path).message.endswith(
        ":3:3 (column 'date'): not a date in ISO format YYYY-MM-DD"
    )


@pytest.mark.parametrize("day", ["2024-3-1", "+2024-03-01", "2024-03-01T00:00Z", "20240301"])
def test_csv_date_in_no_accepted_format_lists_the_formats(tmp_path: Path, day: str) -> None:
    path = write(tmp_path, f"{HEADER}\nSECRET42,851001,{day},present,0,5,5.A\n")

    assert refusal(read_csv, path).message == (
        f"{path}:2:3 (column 'date'): not a date "
        "(expected YYYY-MM-DD, DD-MM-YYYY, DD.MM.YYYY or D/M/YYYY)"
    )


def test_csv_header_names_are_stripped(tmp_path: Path) -> None:
    path = write(tmp_path, " pupil_id , school_id ,date,category\n007,851001,2024-01-02,present\n")

    assert read_csv(path).collect()[s.PUPIL_ID].to_list() == ["007"]


# -- Parquet: accepted input -------------------------------------------------------------------

DAYS = [date(2024, 1, 2), date(2024, 1, 3), date(2024, 1, 3), date(2024, 1, 4)]
SAME_DATA_CSV = (
    f"{HEADER}\n"
    "007,0851001,2024-01-02,illness,1,5,5.A\n"
    "007,0851001,2024-01-03,leave,0.5,5,5.A\n"
    "007,0851001,2024-01-03,present,0,5,5.A\n"
    "0123,0851001,2024-01-04,unlawful,0.25,,\n"
)


def typed_frame(**overrides: pl.Series) -> pl.DataFrame:
    frame = pl.DataFrame(
        {
            s.PUPIL_ID: ["007", "007", "007", "0123"],
            s.SCHOOL_ID: ["0851001"] * 4,
            s.DATE: DAYS,
            s.CATEGORY: ["illness", "leave", "present", "unlawful"],
            s.ABSENT_FRACTION: [1.0, 0.5, 0.0, 0.25],
            s.GRADE: pl.Series([5, 5, 5, None], dtype=pl.Int8),
            s.CLASS_NAME: ["5.A", "5.A", "5.A", None],
        }
    )
    return frame.with_columns(*(series.alias(name) for name, series in overrides.items()))


def write_parquet(tmp_path: Path, frame: pl.DataFrame, name: str = "export.parquet") -> Path:
    path = tmp_path / name
    frame.write_parquet(path)
    return path


@pytest.mark.parametrize(
    "overrides",
    [
        {},
        {s.GRADE: pl.Series([5, 5, 5, None], dtype=pl.Int64)},
        {s.CATEGORY: pl.Series(["illness", "leave", "present", "unlawful"], dtype=pl.Categorical)},
        {
            s.CATEGORY: pl.Series(
                ["illness", "leave", "present", "unlawful"], dtype=s.CATEGORY_DTYPE
            )
        },
        {s.ABSENT_FRACTION: pl.Series([1.0, 0.5, 0.0, 0.25], dtype=pl.Float32)},
    ],
    ids=["int8-grade", "int64-grade", "categorical-category", "enum-category", "float32-fraction"],
)
def test_typed_parquet_equals_the_csv_of_the_same_data(
    tmp_path: Path, overrides: dict[str, pl.Series]
) -> None:
    path = write_parquet(tmp_path, typed_frame(**overrides))

    out = read_parquet(path).collect()

    assert out.schema == s.CANONICAL_SCHEMA
    assert_frame_equal(out, read_csv(write(tmp_path, SAME_DATA_CSV)).collect())


def test_parquet_strips_only_the_columns_with_padded_values(tmp_path: Path) -> None:
    # pupil ids padded, school ids clean: both read as the canonical values.
    padded = typed_frame(**{s.PUPIL_ID: pl.Series([" 007", "007 ", "007", "0123"])})
    path = write_parquet(tmp_path, padded.with_columns(pl.col(s.CLASS_NAME).fill_null("  ")))

    out = read_parquet(path).collect()

    assert out[s.PUPIL_ID].to_list() == ["007", "007", "007", "0123"]
    assert out[s.SCHOOL_ID].to_list() == ["0851001"] * 4
    assert out[s.CLASS_NAME].to_list() == ["5.A", "5.A", "5.A", None]


def test_parquet_enum_with_a_foreign_category_is_refused(tmp_path: Path) -> None:
    foreign = pl.Enum(["illness", "leave", "present", "unlawful", "sick"])
    frame = typed_frame(
        **{s.CATEGORY: pl.Series(["illness", "sick", "present", "unlawful"], dtype=foreign)}
    )
    path = write_parquet(tmp_path, frame)

    with pytest.raises(BadInputError, match=r"export.parquet:2:4 .*unknown category") as info:
        read_parquet(path)
    assert "sick" not in str(info.value)


def test_all_string_parquet_equals_the_csv_of_the_same_data(tmp_path: Path) -> None:
    csv_path = write(tmp_path, SAME_DATA_CSV)
    strings = pl.read_csv(csv_path, infer_schema=False)
    assert all(dtype == pl.String for dtype in strings.dtypes)
    path = write_parquet(tmp_path, strings)

    out = read_parquet(path).collect()

    assert out.schema == s.CANONICAL_SCHEMA
    assert_frame_equal(out, read_csv(csv_path).collect())


def test_parquet_without_optional_columns_takes_the_defaults(tmp_path: Path) -> None:
    path = write_parquet(tmp_path, typed_frame().select(s.REQUIRED_COLUMNS))

    out = read_parquet(path).collect()

    assert out.schema == s.CANONICAL_SCHEMA
    assert out[s.ABSENT_FRACTION].to_list() == [1.0, 1.0, 0.0, 1.0]
    assert out[s.GRADE].null_count() == out[s.CLASS_NAME].null_count() == 4


@pytest.mark.parametrize(
    ("name", "read"),
    [
        ("export.csv", read_csv),
        ("export.CSV", read_csv),
        ("export.txt", read_csv),
        ("export.parquet", read_parquet),
        ("export.pq", read_parquet),
    ],
)
def test_read_export_chooses_the_reader_by_suffix(
    tmp_path: Path, name: str, read: Callable[[Path], pl.LazyFrame]
) -> None:
    path = tmp_path / name
    if read is read_csv:
        path.write_text(SAME_DATA_CSV, encoding="utf-8")
    else:
        typed_frame().write_parquet(path)

    assert_frame_equal(read_export(path).collect(), read(path).collect())


# -- Parquet: refusals -------------------------------------------------------------------------

# id -> (column overrides, location after the path, problem)
PARQUET_REFUSALS: dict[str, tuple[dict[str, pl.Series], str, str]] = {
    "pupil-id-stored-as-integer": (
        {s.PUPIL_ID: pl.Series([7, 7, 7, 123])},
        " (column 'pupil_id')",
        "column must be text (ids are strings: leading zeros matter)",
    ),
    "school-id-stored-as-integer": (
        {s.SCHOOL_ID: pl.Series([851001] * 4)},
        " (column 'school_id')",
        "column must be text (ids are strings: leading zeros matter)",
    ),
    "date-stored-as-integer": (
        {s.DATE: pl.Series([20240102, 20240103, 20240103, 20240104])},
        " (column 'date')",
        "column must be a date or ISO text YYYY-MM-DD",
    ),
    "date-stored-as-datetime": (
        {s.DATE: pl.Series(DAYS).cast(pl.Datetime)},
        " (column 'date')",
        "column must be a date or ISO text YYYY-MM-DD",
    ),
    "category-stored-as-integer": (
        {s.CATEGORY: pl.Series([1, 2, 0, 3])},
        " (column 'category')",
        "column must be text",
    ),
    "fraction-stored-as-boolean": (
        {s.ABSENT_FRACTION: pl.Series([True, True, False, True])},
        " (column 'absent_fraction')",
        "column must be a number",
    ),
    "grade-stored-as-float": (
        {s.GRADE: pl.Series([5.0, 5.0, 5.0, None])},
        " (column 'grade')",
        "column must be a whole number",
    ),
    "unknown-category-in-row-3": (
        {s.CATEGORY: pl.Series(["illness", "leave", "SECRET42", "unlawful"])},
        ":3:4 (column 'category')",
        UNKNOWN_CATEGORY,
    ),
    "fraction-one-and-a-half": (
        {s.ABSENT_FRACTION: pl.Series([1.0, 0.5, 0.0, 1.5])},
        ":4:5 (column 'absent_fraction')",
        "absent fraction must be between 0 and 1",
    ),
    "null-pupil-id": (
        {s.PUPIL_ID: pl.Series(["SECRET42", None, "SECRET42", "0123"])},
        ":2:1 (column 'pupil_id')",
        "missing pupil id",
    ),
    "null-date": (
        {s.DATE: pl.Series([DAYS[0], DAYS[1], DAYS[2], None])},
        ":4:3 (column 'date')",
        "missing date",
    ),
    "grade-out-of-range": (
        {s.GRADE: pl.Series([5, 5, 42, None], dtype=pl.Int8)},
        ":3:6 (column 'grade')",
        "grade must be a whole number from 0 to 10",
    ),
}


@pytest.mark.parametrize("case", list(PARQUET_REFUSALS))
def test_parquet_refusal_names_file_row_column_and_no_value(tmp_path: Path, case: str) -> None:
    overrides, where, problem = PARQUET_REFUSALS[case]
    path = write_parquet(tmp_path, typed_frame(**overrides))

    error = refusal(read_parquet, path)

    assert error.message == f"{path}{where}: {problem}"
    assert SECRET not in error.message


def _random_bytes(tmp_path: Path) -> Path:
    path = tmp_path / "export.parquet"
    path.write_bytes(os.urandom(2000))
    return path


def _truncated(tmp_path: Path) -> Path:
    path = write_parquet(tmp_path, typed_frame())
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    return path


def _damaged_pages(tmp_path: Path) -> Path:
    """Footer intact, so the schema reads; the data pages do not decode."""
    rows = 2000
    frame = pl.DataFrame(
        {
            s.PUPIL_ID: [f"SECRET{i:05d}" for i in range(rows)],
            s.SCHOOL_ID: ["851001"] * rows,
            s.DATE: [date(2024, 1, 2)] * rows,
            s.CATEGORY: ["present"] * rows,
        }
    )
    path = tmp_path / "export.parquet"
    frame.write_parquet(path, compression="uncompressed", statistics=False)
    data = bytearray(path.read_bytes())
    for i in range(1000, 1016):
        data[i] ^= 0xFF
    path.write_bytes(bytes(data))
    return path


@pytest.mark.parametrize(
    ("make", "problem"),
    [
        (_random_bytes, "not a readable Parquet file"),
        (_truncated, "not a readable Parquet file"),
        (_damaged_pages, "cannot read the data"),
        (
            lambda tmp_path: write(tmp_path, SAME_DATA_CSV, "export.parquet"),
            "not a readable Parquet file",
        ),
    ],
    ids=["random-bytes", "truncated", "damaged-pages", "csv-named-parquet"],
)
def test_corrupt_parquet_is_bad_input_without_detail(
    tmp_path: Path, make: Callable[[Path], Path], problem: str
) -> None:
    path = make(tmp_path)

    error = refusal(read_export, path)

    assert re.fullmatch(rf"{re.escape(str(path))}: {problem} \(\w+\)", error.message)
    assert SECRET not in error.message
    assert_no_traceback(error.message)


# -- Parquet: held in memory or streamed -------------------------------------------------------
# A file of at most IN_MEMORY_ROWS rows is read into memory before its checks, a larger one is
# checked on the scan (docs/performance.md#layouts): both must read and refuse alike.


def _stream_every_file(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parquet_reader, "IN_MEMORY_ROWS", 0)


def _lesson_rows() -> pl.DataFrame:
    examples = Path(__file__).parents[2] / "examples"
    return pl.read_csv(examples / "exports" / "lessons.csv", infer_schema=False)


@pytest.mark.parametrize(
    "frame",
    [
        typed_frame().with_columns(pl.col(s.CATEGORY).cast(s.CATEGORY_DTYPE)),
        typed_frame().with_columns(pl.lit("SECRET").alias("pupil_name")),
        pl.concat([typed_frame(), typed_frame().head(1)]),  # a repeated row, dropped
        typed_frame(**{s.CATEGORY: pl.Series([" illness", "leave ", "present", "unlawful"])}),
        typed_frame(),  # a text category of the canonical names
        typed_frame(
            **{
                s.CATEGORY: pl.Series(["illness", "illness", "present", "present"]),
                s.ABSENT_FRACTION: pl.Series([1.0, 0.5, 0.0, 0.0]),
            }
        ),
        typed_frame().with_columns(pl.col(s.CATEGORY).cast(pl.Categorical)),
        typed_frame(**{s.CLASS_NAME: pl.Series([" 5.A", "5.A", "5.A", None])}),
        _lesson_rows(),
    ],
    ids=[
        "enum-category",
        "extra-column",
        "repeated-row",
        "padded-text-category",
        "text-category",
        "two-of-the-names",
        "categorical-category",
        "padded-class",
        "lessons",
    ],
)
@pytest.mark.parametrize("keep_lines", [False, True])
def test_a_streamed_parquet_reads_as_one_held_in_memory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, frame: pl.DataFrame, keep_lines: bool
) -> None:
    path = write_parquet(tmp_path, frame)
    held, held_detected = read_parquet_detected(path, keep_lines=keep_lines)
    _stream_every_file(monkeypatch)
    streamed, streamed_detected = read_parquet_detected(path, keep_lines=keep_lines)

    assert "parquet" not in held.explain().lower()
    assert "parquet" in streamed.explain().lower()
    assert_frame_equal(held.collect(), streamed.collect())
    assert held_detected == streamed_detected


@pytest.mark.parametrize(
    "options",
    [
        SourceOptions(columns={s.CATEGORY: "fravaerstype"}),
        SourceOptions(codes={"S": LocalCode(category="illness")}),  # codes the file does not use
    ],
    ids=["renamed-category", "unused-codes"],
)
def test_a_streamed_parquet_with_options_reads_as_one_held_in_memory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, options: SourceOptions
) -> None:
    frame = typed_frame().rename({s.CATEGORY: options.columns.get(s.CATEGORY, s.CATEGORY)})
    path = write_parquet(tmp_path, frame.with_columns(pl.lit("SECRET").alias("pupil_name")))
    held = read_parquet_detected(path, options)
    _stream_every_file(monkeypatch)
    streamed = read_parquet_detected(path, options)

    assert_frame_equal(held[0].collect(), streamed[0].collect())
    assert held[1] == streamed[1]
    assert bool(held[1].codes) == bool(options.codes)  # inspect lists the codes


def test_a_held_text_category_of_canonical_names_reads_as_a_typed_export(tmp_path: Path) -> None:
    # Held in memory, a category written as text with nothing but canonical names becomes the
    # canonical Enum once: every later query reads it as it reads the typed file.
    names = pl.Series(["illness", "leave", "present", "unlawful"])
    frame = typed_frame(**{s.CATEGORY: names})
    text = write_parquet(tmp_path, frame, "text.parquet")
    typed = write_parquet(
        tmp_path, frame.with_columns(pl.col(s.CATEGORY).cast(s.CATEGORY_DTYPE)), "typed.parquet"
    )
    padded = write_parquet(tmp_path, typed_frame(**{s.CATEGORY: " " + names}), "padded.parquet")

    assert pl.read_parquet_schema(text)[s.CATEGORY] == pl.String
    assert read_parquet(text).explain() == read_parquet(typed).explain()
    assert_frame_equal(read_parquet(text).collect(), read_parquet(typed).collect())
    assert read_parquet(padded).explain() != read_parquet(typed).explain()
    assert_frame_equal(read_parquet(padded).collect(), read_parquet(typed).collect())


def test_a_streamed_parquet_with_local_columns_and_codes_reads_as_one_held_in_memory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    frame = typed_frame(**{s.CATEGORY: pl.Series(["Y", "S", "G", "F"])}).rename(
        {s.PUPIL_ID: "elev_nr"}
    )
    path = write_parquet(tmp_path, frame.with_columns(pl.lit("Skolen").alias(s.SCHOOL_NAME)))
    options = SourceOptions(
        columns={s.PUPIL_ID: "elev_nr"},
        codes={
            "Y": LocalCode(category="illness"),
            "S": LocalCode(category="leave"),
            "G": LocalCode(category="present"),
            "F": LocalCode(category="unlawful", fraction=Decimal("0.25")),
        },
    )
    held = read_parquet_detected(path, options)
    _stream_every_file(monkeypatch)
    streamed = read_parquet_detected(path, options)

    assert "parquet" not in held[0].explain().lower()
    assert_frame_equal(held[0].collect(), streamed[0].collect())
    assert held[1] == streamed[1]
    assert s.SCHOOL_NAME in held[0].collect_schema()


@pytest.mark.parametrize(
    "make",
    [
        *(
            (
                lambda tmp_path, overrides=overrides: write_parquet(
                    tmp_path, typed_frame(**overrides)
                )
            )
            for overrides, _, _ in PARQUET_REFUSALS.values()
        ),
        _damaged_pages,
        lambda tmp_path: write_parquet(
            tmp_path,
            typed_frame(**{s.PUPIL_ID: pl.Series([7, 7, 7, 123])}).drop(s.SCHOOL_ID),
        ),
    ],
    ids=[*PARQUET_REFUSALS, "damaged-pages", "wrong-type-and-missing-column"],
)
def test_a_streamed_parquet_is_refused_as_one_held_in_memory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, make: Callable[[Path], Path]
) -> None:
    path = make(tmp_path)
    held = refusal(read_parquet, path)
    _stream_every_file(monkeypatch)
    streamed = refusal(read_parquet, path)

    assert (held.message, held.hint) == (streamed.message, streamed.hint)
    assert SECRET not in held.message


def _damaged_column(tmp_path: Path, frame: pl.DataFrame, column: str) -> Path:
    """``frame`` as Parquet whose ``column`` has a data page that does not decode."""
    path = tmp_path / "export.parquet"
    frame.write_parquet(path, compression="uncompressed", statistics=False)
    chunk = pq.ParquetFile(path).metadata.row_group(0).column(frame.columns.index(column))
    data = bytearray(path.read_bytes())
    start = chunk.data_page_offset + chunk.total_compressed_size // 2
    data[start : start + 16] = bytes(b ^ 0xFF for b in data[start : start + 16])
    path.write_bytes(bytes(data))
    return path


def _rows_with(column: str, rows: int = 2000) -> pl.DataFrame:
    return pl.DataFrame(
        {
            s.PUPIL_ID: [f"{i:05d}" for i in range(rows)],
            s.SCHOOL_ID: ["851001"] * rows,
            s.DATE: [date(2024, 1, 2)] * rows,
            s.CATEGORY: ["present"] * rows,
            column: [f"SECRET {column} {i}" for i in range(rows)],
        }
    )


def test_a_damaged_column_that_is_not_read_is_not_decoded(tmp_path: Path) -> None:
    """A day-level file's `subject` is read only with a lesson: its pages are never decoded."""
    path = _damaged_column(tmp_path, _rows_with("subject"), "subject")

    assert read_parquet(path).collect().height == 2000


def test_a_damaged_lesson_column_is_refused_held_or_streamed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _damaged_column(tmp_path, _rows_with("lesson"), "lesson")
    held = refusal(read_parquet, path)
    _stream_every_file(monkeypatch)
    streamed = refusal(read_parquet, path)

    assert held.message == streamed.message
    assert re.fullmatch(rf"{re.escape(str(path))}: cannot read the data \(\w+\)", held.message)


def test_parquet_files_together_above_the_row_limit_are_streamed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = write_parquet(tmp_path, typed_frame(), "a.parquet")  # four rows each
    other_pupils = pl.Series(["008", "008", "008", "0124"])
    second = write_parquet(tmp_path, typed_frame(**{s.PUPIL_ID: other_pupils}), "b.parquet")
    held: list[bool] = []
    read = reader.read_parquet_detected

    def reading(*args: Any, hold: bool, **kwargs: Any) -> Any:
        held.append(hold)
        return read(*args, hold=hold, **kwargs)

    monkeypatch.setattr(reader, "read_parquet_detected", reading)
    monkeypatch.setattr(parquet_reader, "IN_MEMORY_ROWS", 8)
    in_memory = read_export([first, second]).collect()
    monkeypatch.setattr(parquet_reader, "IN_MEMORY_ROWS", 7)
    streamed = read_export([first, second]).collect()

    assert held == [True, True, False, False]
    assert_frame_equal(in_memory, streamed)


def test_only_a_file_above_the_row_limit_is_streamed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_parquet(tmp_path, typed_frame())  # four rows
    monkeypatch.setattr(parquet_reader, "IN_MEMORY_ROWS", 4)
    assert "parquet" not in read_parquet(path).explain().lower()
    monkeypatch.setattr(parquet_reader, "IN_MEMORY_ROWS", 3)
    assert "parquet" in read_parquet(path).explain().lower()


# -- any format: missing, unreadable, unsupported ----------------------------------------------


@pytest.mark.parametrize("name", ["nowhere.csv", "nowhere.parquet"])
def test_missing_file_is_input_missing(tmp_path: Path, name: str) -> None:
    path = tmp_path / name

    with pytest.raises(InputMissingError) as caught:
        read_export(path)

    assert caught.value.exit_code == 66
    assert caught.value.message == f"{path}: no such file"


@pytest.mark.parametrize("name", ["folder.csv", "folder.parquet"])
def test_directory_is_input_missing(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.mkdir()

    with pytest.raises(InputMissingError) as caught:
        read_file(path)  # read_export reads a folder as hive-partitioned Parquet

    assert caught.value.exit_code == 66
    assert caught.value.message == f"{path}: not a file"


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_unreadable_file_is_input_missing(tmp_path: Path) -> None:
    path = write(tmp_path, SAME_DATA_CSV)
    path.chmod(0)

    with pytest.raises(InputMissingError) as caught:
        read_export(path)

    assert caught.value.exit_code == 66
    assert caught.value.message.startswith(f"{path}: cannot read")


def test_unsupported_suffix_is_bad_input_with_a_hint(tmp_path: Path) -> None:
    path = tmp_path / "export.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0SECRET42")

    with pytest.raises(BadInputError) as caught:
        read_export(path)

    assert caught.value.exit_code == 65
    assert caught.value.message == f"{path}: unsupported file type"
    assert caught.value.hint is not None
    assert ".csv" in caught.value.hint
    assert ".parquet" in caught.value.hint


# -- hostile text: refused on reading (fravaer.ingest.text, docs/privacy.md) -----------------------

FORMULA = "text begins with =, +, - or @, which a spreadsheet would run as a formula"
HIDDEN = "text holds a control or invisible character"

# value -> problem; every value carries SECRET or 31337 so that a message quoting it is caught.
HOSTILE: dict[str, str] = {
    '=HYPERLINK("http://SECRET","klik")': FORMULA,
    "=cmd|' /C calc'!A0SECRET": FORMULA,
    "+31337": FORMULA,
    "-31337+1": FORMULA,
    "@SUM(SECRET)": FORMULA,
    "  =1+31337": FORMULA,  # spaces are stripped first: the value is "=1+31337"
    "\t=31337": FORMULA,  # a tab is stripped like a space: then "=" comes first
    "＝31337": FORMULA,  # full-width equals sign
    "SECRET\u200b": HIDDEN,  # zero-width space
    "SECRET\u200dx": HIDDEN,  # zero-width joiner
    "SECRET\u2060x": HIDDEN,  # word joiner
    "SECRET\ufeffx": HIDDEN,  # byte-order mark inside
    "\u202eSECRET": HIDDEN,  # right-to-left override
    "SECRET\u2066x\u2069": HIDDEN,  # bidi isolate
    "SECRET\u200ex": HIDDEN,  # left-to-right mark
    "SECRET\u00adx": HIDDEN,  # soft hyphen
    "SECRET\x1b[31mx": HIDDEN,  # ANSI escape
    "SECRET\x1b]8;;http://x\x07x": HIDDEN,  # OSC 8 link
    "SECRET\x7fx": HIDDEN,  # DEL
    "SECRET\x85x": HIDDEN,  # C1 next line
    "SECRET\x9bx": HIDDEN,  # C1 control sequence introducer
    "SECRET\nx": HIDDEN,  # line break inside
    "SECRET\rx": HIDDEN,  # carriage return inside
    "SECRET\u2028x": HIDDEN,  # line separator
    "SECRET\u3164x": HIDDEN,  # Hangul filler, an invisible letter
}
HOSTILE_IDS = [f"{problem[:6]}-{i}" for i, problem in enumerate(HOSTILE.values())]
TEXT_COLUMNS = {s.PUPIL_ID: 1, s.SCHOOL_ID: 2, s.CLASS_NAME: 7}


def quoted(value: str) -> str:
    return '"' + value.replace('"', '""') + '"'


def with_cell(column: str, value: str) -> str:
    cells = ["0000009", "851001", "2024-01-03", "illness", "1", "5", "5.A"]
    cells[TEXT_COLUMNS[column] - 1] = quoted(value)
    return ",".join(cells)


@pytest.mark.parametrize("column", list(TEXT_COLUMNS))
@pytest.mark.parametrize("value", list(HOSTILE), ids=HOSTILE_IDS)
def test_csv_hostile_text_is_refused_at_its_cell_without_the_value(
    tmp_path: Path, column: str, value: str
) -> None:
    path = write(
        tmp_path, export("0000008,851001,2024-01-03,present,0,5,5.B", with_cell(column, value))
    )

    error = refusal(read_csv, path)

    assert error.message == (
        f"{path}:5:{TEXT_COLUMNS[column]} (column '{column}'): {HOSTILE[value]}"
    )
    assert SECRET not in error.message
    assert "31337" not in error.message
    assert_no_traceback(error.message)


@pytest.mark.parametrize("column", list(TEXT_COLUMNS))
@pytest.mark.parametrize("value", list(HOSTILE), ids=HOSTILE_IDS)
def test_parquet_hostile_text_is_refused_at_its_row_without_the_value(
    tmp_path: Path, column: str, value: str
) -> None:
    cells = typed_frame()[column].to_list()
    cells[2] = value
    path = write_parquet(tmp_path, typed_frame(**{column: pl.Series(cells, dtype=pl.String)}))

    error = refusal(read_parquet, path)

    assert error.message == (
        f"{path}:3:{TEXT_COLUMNS[column]} (column '{column}'): {HOSTILE[value]}"
    )
    assert SECRET not in error.message
    assert "31337" not in error.message


def test_parquet_hostile_text_in_a_categorical_column_is_refused(tmp_path: Path) -> None:
    ids = pl.Series(["007", "007", "=31337", "0123"], dtype=pl.Categorical)
    path = write_parquet(tmp_path, typed_frame(**{s.PUPIL_ID: ids}))

    assert refusal(read_parquet, path).message == f"{path}:3:1 (column 'pupil_id'): {FORMULA}"


@pytest.mark.parametrize(
    "value",
    [
        "010203-1234",  # a CPR number: only the first character is looked at
        "0000123",
        "ABC-123",
        "5.A",
        "10.Ø",
        "Modtagerklasse 2",
        "a=b+c@d",  # the characters are harmless inside a value
        " 0000123\t",  # white space around a value is stripped, tab included
    ],
)
def test_ordinary_ids_and_class_names_are_read_as_before(tmp_path: Path, value: str) -> None:
    rows = [with_cell(column, value) for column in TEXT_COLUMNS]
    path = write(
        tmp_path,
        export(*(row.replace("2024-01-03", f"2024-01-0{i + 3}") for i, row in enumerate(rows))),
    )

    out = read_csv(path).collect()

    assert value.strip() in out[s.PUPIL_ID].to_list()
    assert value.strip() in out[s.SCHOOL_ID].to_list()
    assert value.strip() in out[s.CLASS_NAME].to_list()


def test_the_first_hostile_cell_is_named_when_there_are_several(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        export(
            "0000008,851001,2024-01-03,present,0,5,SECRET\x1bx",
            "=SECRET,851001,2024-01-04,present,0,5,5.A",
        ),
    )

    assert refusal(read_csv, path).message == f"{path}:4:7 (column 'class_name'): {HIDDEN}"


def test_a_category_code_with_a_hidden_character_is_unknown_and_not_shown(tmp_path: Path) -> None:
    # Folding would read "Syg<US>dom" as Sygdom; `inspect` would then echo the code as written.
    path = write(tmp_path, export("0000008,851001,2024-01-03,Syg\x1fdom,1,5,5.A"))

    error = refusal(read_csv, path)

    assert error.message == f"{path}:4:4 (column 'category'): {UNKNOWN_CATEGORY}"


# -- CPR numbers written with a space (docs/privacy.md#cpr-numbers-written-with-a-space) -------


@pytest.mark.parametrize(
    "spelling", ["010203 1234", "010203  1234", "010203 - 1234", "010203\u00a01234"]
)
def test_csv_cpr_number_with_a_space_is_the_same_pupil_as_with_a_hyphen(
    tmp_path: Path, spelling: str
) -> None:
    path = write(
        tmp_path,
        f"{HEADER}\n010203-1234,851001,2024-01-02,present,0,5,5.A\n"
        f"{spelling},851001,2024-01-03,illness,1,5,5.A\n",
    )

    out = read_csv(path).collect()

    assert out[s.PUPIL_ID].to_list() == ["010203-1234", "010203-1234"]


def test_parquet_cpr_number_with_a_space_is_read_in_the_hyphen_form(tmp_path: Path) -> None:
    ids = pl.Series(["010203 1234", "010203-1234", "0102031234", "A 1234"])
    path = write_parquet(tmp_path, typed_frame(**{s.PUPIL_ID: ids}))

    out = read_parquet(path).collect()

    # Without a hyphen or space the id stays as written, as before; other ids are not touched.
    assert out[s.PUPIL_ID].to_list() == ["010203-1234", "010203-1234", "0102031234", "A 1234"]


def test_a_school_id_that_looks_like_a_spaced_cpr_number_is_not_changed(tmp_path: Path) -> None:
    path = write(tmp_path, f"{HEADER}\n007,010203 1234,2024-01-02,present,0,5,5.A\n")

    assert read_csv(path).collect()[s.SCHOOL_ID].to_list() == ["010203 1234"]


# -- reader limits: a header polars would spend ~7 KB a column on ------------------------------


@pytest.mark.parametrize("columns", [1001, 200_000])
def test_csv_header_of_more_than_1000_columns_is_refused_before_reading(
    tmp_path: Path, columns: int
) -> None:
    header = HEADER + "".join(f",x{i}" for i in range(columns - 7))
    path = write(
        tmp_path, header + "\n" + "SECRET,1,2024-01-02,present" + ",0" * (columns - 4) + "\n"
    )

    error = refusal(read_csv, path)

    assert (
        error.message
        == f"{path}:1: the header has more than 1,000 columns: not an attendance export"
    )


def test_csv_header_of_1000_columns_with_quoted_separators_is_read(tmp_path: Path) -> None:
    # 993 dropped columns, each with a separator inside its quoted name: 1,000 fields, not 1,993.
    header = HEADER + "".join(f',"x,{i}"' for i in range(993))
    path = write(tmp_path, header + "\n007,851001,2024-01-02,present,0,5,5.A" + "," * 993 + "\n")

    assert read_csv(path).collect().height == 1


def test_csv_column_name_with_an_escape_sequence_is_refused_without_the_name(
    tmp_path: Path,
) -> None:
    # Column names are shown in messages and by `inspect`: an escape would reach the terminal.
    path = write(tmp_path, HEADER + ",note\x1b[2JSECRET\n007,851001,2024-01-02,present,0,5,5.A,x\n")

    error = refusal(read_csv, path)

    assert error.message == (
        f"{path}:1: the name of column 8 holds a control or invisible character"
    )


def test_parquet_column_name_with_a_bidi_override_is_refused(tmp_path: Path) -> None:
    path = write_parquet(tmp_path, typed_frame().with_columns(pl.lit("x").alias("\u202eSECRET")))

    error = refusal(read_parquet, path)

    assert error.message == f"{path}: the name of column 8 holds a control or invisible character"


TEXT_CELLS = ["present", "illness", "leave", "unlawful", " illness", "leave\t", "", "  ", None]
TEXT_CELLS += ["sick", "Illness"]


@settings(max_examples=examples(40), deadline=None)
@given(cells=st.lists(st.sampled_from(TEXT_CELLS), min_size=4, max_size=4))
def test_a_text_category_in_parquet_reads_as_its_stripped_names(
    tmp_path_factory: pytest.TempPathFactory, cells: list[str | None]
) -> None:
    # Naive reference: each cell stripped is a canonical name, or the first other cell is
    # refused as an unknown category at its row (the category is the file's 4th column).
    frame = typed_frame(
        **{
            s.CATEGORY: pl.Series(cells, dtype=pl.String),
            s.PUPIL_ID: pl.Series(["1", "2", "3", "4"]),
        }
    ).with_columns(pl.lit(None, dtype=pl.Float64).alias(s.ABSENT_FRACTION))
    path = write_parquet(tmp_path_factory.mktemp("text"), frame)
    names = [None if c is None or c.strip() not in s.CATEGORIES else c.strip() for c in cells]

    if None in names:
        row = names.index(None) + 1
        with pytest.raises(BadInputError, match=rf"export.parquet:{row}:4 .*unknown category"):
            read_parquet(path)
        return
    out = read_parquet(path).collect()
    assert out[s.CATEGORY].cast(pl.String).to_list() == names
    assert out[s.ABSENT_FRACTION].to_list() == [0.0 if n == "present" else 1.0 for n in names]
