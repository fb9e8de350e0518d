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
from datetime import date
from html.parser import HTMLParser
from pathlib import Path

import polars as pl
import pytest
from markdown_it import MarkdownIt

from fravaer import schema
from fravaer import schema as s
from fravaer.ingest.policy import load_policy
from fravaer.meeting import Sheet, Week, Weekday, sheet_html, sheet_markdown
from fravaer.output import serialise_frame, serialise_workbook, write_frame, write_workbook
from fravaer.policy import Policy, TextList
from fravaer.policy import Text as PolicyText

AALBORG = load_policy("aalborg-2023")

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


# -- Markdown and HTML meeting sheets ------------------------------------------------------------

MARKUP = (
    "<script>alert(1)</script>",
    "[klik](javascript:alert(1))",
    "![x](http://evil/x.png)",
    "<javascript:alert(1)>",
    "7.B\n- **Trin:** 0",
    "7.B\r\n\r\n# Overskrift",
    "`kode` *fed* _skrå_ ~~streg~~ $x$ :smile:",
    "1. klasse",
    "- 5.A",
    "# 5.A",
    "> citat",
    "a | b | c",
    "&lt;script&gt; &amp; &#60;",
    "www.evil.dk http://evil a@evil.dk",
    "back\\slash\\",
    "5.A\x1b[31m\x1b]8;;http://evil\x07klik\x1b]8;;\x07",
    "0000123\u200b\u202eevil",
    '" onmouseover="alert(1)',
)


def _policy_with(text: str) -> Policy:
    steps = tuple(
        step.model_copy(
            update={
                "responsible": PolicyText(da=text, en=text),
                "actions": TextList(da=(text, "Noget andet."), en=(text, "Something else.")),
            }
        )
        for step in AALBORG.steps
    )
    return AALBORG.model_copy(update={"steps": steps})


def _sheet(pupil: str, school: str, class_name: str) -> Sheet:
    row: dict[str, object] = {
        s.PUPIL_ID: pupil,
        s.SCHOOL_ID: school,
        s.CLASS_NAME: class_name,
        s.AS_OF: date(2024, 3, 8),
        s.STEP: 3,
        s.ABSENCE_PCT: 21.0,
        s.WINDOW_START: date(2023, 10, 2),
        s.WINDOW_END: date(2024, 3, 8),
        s.WINDOW_DAYS: 100,
        s.ILLNESS_DAYS: 20.0,
        s.LEAVE_DAYS: 0.0,
        s.UNLAWFUL_DAYS: 1.0,
        s.QUARTER_UNLAWFUL_PCT: 2.0,
    }
    weeks = (Week(date(2024, 3, 8), 5, 1.0, 20.0),)
    return Sheet(row, weeks, (Weekday(1, 20, 5.0),))


def _commonmark() -> MarkdownIt:
    return MarkdownIt("commonmark").enable(["table", "strikethrough"])


def _blocks(markdown: str) -> list[tuple[str, int]]:
    """The block structure a CommonMark reader sees: each token's type and nesting level."""
    return [(t.type, t.level) for t in _commonmark().parse(markdown) if t.type != "inline"]


def _inline(markdown: str) -> list[list[tuple[str, str]]]:
    return [
        [(child.type, child.content) for child in t.children or []]
        for t in _commonmark().parse(markdown)
        if t.type == "inline"
    ]


@pytest.mark.parametrize("hostile", MARKUP)
def test_a_markdown_sheet_shows_hostile_text_and_nothing_else(hostile: str) -> None:
    plain = sheet_markdown(_sheet("0042", "851001", "4.B"), policy=_policy_with("Nogen."))
    markdown = sheet_markdown(_sheet(hostile, hostile, hostile), policy=_policy_with(hostile))

    # A CommonMark reader sees the same blocks (headings, list items, tables) as for plain text,
    # and inside them the same inline kinds: the data is text, never a link, image, HTML, code
    # or emphasis ...
    assert _blocks(markdown) == _blocks(plain)
    got, want = _inline(markdown), _inline(plain)
    assert [[kind for kind, _ in line] for line in got] == [[k for k, _ in line] for line in want]
    # ... and shows it as it was: pupil, school, class, responsible and an action each time.
    shown = schema.shown_text(hostile, hidden=" ").strip()
    lines = ["".join(content for _, content in line) for line in got]
    assert sum(line.endswith(shown) for line in lines) >= 5, lines
    assert "<" not in markdown
    assert "](javascript:" not in markdown
    assert sum(line.startswith("- **") for line in markdown.splitlines()) == 6
    assert sum(line.startswith("- **Trin:**") for line in markdown.splitlines()) == 1
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b\u202e]", markdown)


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.attributes: list[tuple[str, str, str | None]] = []
        self.texts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attributes += [(tag, name, value) for name, value in attrs if tag != "div"]

    def handle_data(self, data: str) -> None:
        self.texts.append(data)


def _tags_of(page: str) -> list[str]:
    parser = _Tags()
    parser.feed(page)
    return parser.tags


@pytest.mark.parametrize("hostile", MARKUP)
def test_an_html_sheet_shows_hostile_text_and_nothing_else(hostile: str) -> None:
    page = sheet_html(_sheet(hostile, hostile, hostile), policy=_policy_with(hostile))

    parser = _Tags()
    parser.feed(page)
    plain = sheet_html(_sheet("0042", "851001", "4.B"), policy=_policy_with("Nogen."))
    assert parser.tags == _tags_of(plain)
    assert parser.attributes == [("html", "lang", "da"), ("meta", "charset", "utf-8")]
    assert schema.shown_text(hostile) in "".join(parser.texts)
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b\u202e]", page)
