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
