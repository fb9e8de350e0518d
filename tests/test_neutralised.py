"""Every writer is safe on its own: hostile text in a frame never runs where the output is opened.

Ingest refuses such cells, but frames also come from the library API and from state and config
files, so each writer is tested here directly with hostile text (docs/privacy.md, "What is
neutralised in outputs, and how").
"""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import polars as pl
import pytest

from fravaer.output import serialise_frame, serialise_workbook, write_frame, write_workbook

FORMULAS = (
    '=HYPERLINK("http://evil","klik")',
    "=cmd|' /C calc'!A0",
    "+1+1",
    "-1+1",
    "@SUM(A1)",
    "http://evil",
    "mailto:x@evil",
    "1e5",
    "0000123",
)

_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_HYPERLINK_REL = "relationships/hyperlink"


def _workbook_parts(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as workbook:
        return {name: workbook.read(name) for name in workbook.namelist()}


def _shared_strings(parts: dict[str, bytes]) -> list[str]:
    root = ET.fromstring(parts["xl/sharedStrings.xml"])
    return ["".join(t.text or "" for t in si.iter(f"{_MAIN}t")) for si in root]


def assert_inert(data: bytes) -> list[str]:
    """No formula, no hyperlink and no number parsed from text in any sheet; the texts back."""
    parts = _workbook_parts(data)
    sheets = [name for name in parts if re.fullmatch(r"xl/worksheets/sheet\d+\.xml", name)]
    assert sheets
    for name in sheets:
        root = ET.fromstring(parts[name])
        assert list(root.iter(f"{_MAIN}f")) == [], f"a formula in {name}"
        assert list(root.iter(f"{_MAIN}hyperlinks")) == [], f"a hyperlink in {name}"
    for name, content in parts.items():
        if name.endswith(".rels"):
            assert _HYPERLINK_REL.encode() not in content, f"a hyperlink relationship in {name}"
    return _shared_strings(parts)


def hostile_frame() -> pl.DataFrame:
    n = len(FORMULAS)
    return pl.DataFrame(
        {
            "pupil_id": list(FORMULAS),
            "school_id": list(reversed(FORMULAS)),
            "class_name": list(FORMULAS),
            "absence_pct": [12.5] * n,
        }
    )


# -- xlsx -----------------------------------------------------------------------------------------


def test_an_xlsx_frame_holds_hostile_text_as_text_only(tmp_path: Path) -> None:
    frame = hostile_frame()
    target = tmp_path / "out.xlsx"

    write_frame(frame, "xlsx", target)

    texts = assert_inert(target.read_bytes())
    for value in FORMULAS:  # every value kept exactly, as a text cell
        assert value in texts
    assert assert_inert(serialise_frame(frame, "xlsx")) == texts


def test_an_xlsx_workbook_holds_hostile_text_as_text_only(tmp_path: Path) -> None:
    frame = hostile_frame()
    target = tmp_path / "book.xlsx"

    write_workbook({"one": frame, "two": frame.reverse()}, target, formats={"absence_pct": "0.0"})

    assert set(FORMULAS) <= set(assert_inert(target.read_bytes()))
    assert set(FORMULAS) <= set(assert_inert(serialise_workbook({"one": frame})))


@pytest.mark.parametrize(
    ("wanted", "given"),
    [
        (["2024-01-01:2024-03-31"], ["2024-01-01_2024-03-31"]),
        (["[5.A]/*?\\"], ["_5.A_____"]),
        (["'0101101234'"], ["0101101234"]),
        (["\x1b[31mred"], ["__31mred"]),
        (["x" * 40], ["x" * 31]),
        (["ø" * 40], ["ø" * 31]),
        (["😀" * 20], ["😀" * 15]),  # 31 UTF-16 units at most: an emoji is two
        (["abc'" + "y" * 40], ["abc'" + "y" * 27]),
        (["a" * 30 + "'b"], ["a" * 30]),  # cut at 31, then no ' at the end
        (["", "data", "DATA", "Data"], ["data", "data~2", "DATA~3", "Data~4"]),
        (["x" * 40, "x" * 35], ["x" * 31, "x" * 29 + "~2"]),
    ],
)
def test_a_sheet_name_becomes_one_excel_takes(wanted: list[str], given: list[str]) -> None:
    frame = pl.DataFrame({"a": [1]})

    data = serialise_workbook(dict.fromkeys(wanted, frame))

    book = ET.fromstring(_workbook_parts(data)["xl/workbook.xml"])
    assert [sheet.get("name") for sheet in book.iter(f"{_MAIN}sheet")] == given
