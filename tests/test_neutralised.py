"""Every writer is safe on its own: hostile text in a frame never runs where the output is opened.

Ingest refuses such cells, but frames also come from the library API and from state and config
files, so each writer is tested here directly with hostile text (docs/privacy.md, "What is
neutralised in outputs, and how").
"""

from __future__ import annotations

import html
import io
import math
import re
import unicodedata
import xml.etree.ElementTree as ET
import zipfile
from datetime import date, timedelta
from html.parser import HTMLParser
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt
from typer.testing import CliRunner

from fravaer import schema
from fravaer import schema as s
from fravaer.chart import share_chart
from fravaer.chart_trend import trend_chart
from fravaer.cli import app
from fravaer.ingest.files import bundled_meeting_template
from fravaer.ingest.policy import load_policy
from fravaer.meeting import Sheet, Week, Weekday
from fravaer.output import Format, serialise_frame, serialise_workbook, write_frame, write_workbook
from fravaer.pages.chart import grid_svg
from fravaer.pages.environment import environment
from fravaer.pages.meeting import sheet_html, sheet_markdown
from fravaer.pages.numbers import Num, number, percent, table_rows
from fravaer.policy import Lang, Policy, TextList
from fravaer.policy import Text as PolicyText
from fravaer.render import (
    render_check,
    render_classification,
    render_escalations,
    render_inspection,
    render_policy,
    terminal_text,
)
from fravaer.stats import MUNICIPALITY, Reference
from fravaer.words import number_text
from tests.profiles import examples
from tests.test_chart import AS_OF, spans
from tests.test_chart import table as chart_table
from tests.test_render import result_row

AALBORG = load_policy("aalborg-2023")
NATIONAL = load_policy("national-unlawful")
EXAMPLES = Path(__file__).parent.parent / "examples"

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


# -- machine formats ------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["csv", "json", "parquet"])
def test_machine_formats_keep_every_value_exact(tmp_path: Path, fmt: Format) -> None:
    """Machine formats are an API: no ``'`` prefix or other change (docs/privacy.md)."""
    frame = hostile_frame()
    target = tmp_path / f"out.{fmt}"

    write_frame(frame, fmt, target)

    read = {"csv": pl.read_csv, "json": pl.read_json, "parquet": pl.read_parquet}[fmt]
    back = read(target, **({"infer_schema": False} if fmt == "csv" else {}))
    assert back["pupil_id"].to_list() == list(FORMULAS)
    assert back["school_id"].to_list() == list(reversed(FORMULAS))


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
    """Aalborg with ``text`` as every step's responsible and first action. A policy file with
    such text is refused (docs/privacy.md#what-is-refused-on-reading); built without validation
    here, as a library caller could, to show that every writer neutralises it all the same."""
    steps = tuple(
        step.model_copy(
            update={
                "responsible": PolicyText.model_construct(da=text, en=text),
                "actions": TextList.model_construct(
                    da=(text, "Noget andet."), en=(text, "Something else.")
                ),
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
    weeks = (Week(date(2024, 3, 8), 21.0, 3, 1.0, 5),)
    return Sheet(row, weeks, (Weekday(1, 20, 5.0),))


TEMPLATE = bundled_meeting_template()


def _markdown(sheet: Sheet, policy: Policy) -> str:
    return sheet_markdown(sheet, policy=policy, template=TEMPLATE)


def _html(sheet: Sheet, policy: Policy) -> str:
    return sheet_html(sheet, policy=policy, template=TEMPLATE, version="0")


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
    plain = _markdown(_sheet("0042", "851001", "4.B"), _policy_with("Nogen."))
    markdown = _markdown(_sheet(hostile, hostile, hostile), _policy_with(hostile))

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
    assert sum(line.startswith("- **") for line in markdown.splitlines()) == 8
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


@pytest.mark.parametrize("hostile", MARKUP)
def test_an_html_sheet_shows_hostile_text_and_nothing_else(hostile: str) -> None:
    page = _html(_sheet(hostile, hostile, hostile), _policy_with(hostile))

    parser = _Tags()
    parser.feed(page)
    plain = _html(_sheet("0042", "851001", "4.B"), _policy_with("Nogen."))
    plain_parser = _Tags()
    plain_parser.feed(plain)
    assert parser.tags == plain_parser.tags
    # No text reaches an attribute: the hostile sheet's attributes are the plain sheet's.
    assert parser.attributes == plain_parser.attributes
    assert schema.shown_text(hostile) in "".join(parser.texts)
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b\u202e]", page)


# -- terminal -------------------------------------------------------------------------------------

TERMINAL = (
    "[/5.A]",
    "[bold]0000009[/bold]",
    "[link=http://evil]klik[/link]",
    ":smile: :warning:",
    "5.A\x1b[31mRED\x1b[0m",
    "5.A\x1b]8;;http://evil\x07klik\x1b]8;;\x07",
    "5.A\x1b[2J\x1b[H",
    "5.A\r0000001",
    "5.A\n│ 0000001 │ 851001 │",
    "0000123\u200b",
    "\u202e4321",
    "5.A\x9b31m\x7f",
)
_SGR = re.compile(r"\x1b\[[0-9;]*m")


def assert_terminal_safe(text: str, hostile: str, *, color: bool = False) -> None:
    """No control character but the line ends (and rich's own colours), and the text literally."""
    seen = _SGR.sub("", text) if color else text
    assert not [c for c in seen if c != "\n" and unicodedata.category(c) in {"Cc", "Cf"}]
    assert terminal_text(hostile) in seen


def _hostile_rows(hostile: str) -> pl.DataFrame:
    return pl.DataFrame(
        [
            result_row("0000001", 2, s.FLAG_NONE)
            | {s.PUPIL_ID: hostile, s.SCHOOL_ID: hostile, s.CLASS_NAME: hostile},
            result_row("0000002", 1, s.FLAG_WARN),
        ]
    )


@pytest.mark.parametrize("color", [False, True])
@pytest.mark.parametrize("hostile", TERMINAL)
def test_the_table_view_shows_hostile_text_literally(hostile: str, color: bool) -> None:
    def table(rows: pl.DataFrame) -> str:
        return render_classification(
            rows,
            policy=AALBORG,
            national=NATIONAL,
            as_of=date(2024, 1, 31),
            show_all=True,
            width=300,
            color=color,
        )

    text = table(_hostile_rows(hostile))

    assert_terminal_safe(text, hostile, color=color)
    # No row forged or lost: as many lines as with plain text.
    assert len(text.splitlines()) == len(table(_hostile_rows("0000003")).splitlines())


@pytest.mark.parametrize("hostile", TERMINAL)
def test_the_escalation_view_shows_hostile_text_literally(hostile: str) -> None:
    rows = pl.DataFrame(
        {
            "change": ["escalation"],
            "pupil_id": [hostile],
            "school_id": [hostile],
            "class_name": [hostile],
            "previous_step": [0],
            "step": [2],
            "absence_pct": [16.0],
            "quarter_unlawful_pct": [0.0],
            "previous_quarter_flag": [s.FLAG_NONE],
            "quarter_flag": [s.FLAG_NONE],
            "responsible": [hostile],
        }
    )

    text = render_escalations(
        rows,
        policy=_policy_with(hostile),
        national=NATIONAL,
        as_of=date(2024, 3, 8),
        reference_as_of=None,
        width=300,
    )

    assert_terminal_safe(text, hostile)
    assert text.count(terminal_text(hostile)) >= 5


@pytest.mark.parametrize("hostile", TERMINAL)
def test_a_policy_shows_its_hostile_text_literally(hostile: str) -> None:
    policy = _policy_with(hostile).model_copy(
        update={
            "title": PolicyText.model_construct(da=hostile, en=hostile),
            "description": PolicyText.model_construct(da=hostile, en=hostile),
            "source": hostile,
        }
    )

    text = render_policy(policy, lang="da", width=300)

    assert_terminal_safe(text, hostile)
    assert text.count(terminal_text(hostile)) >= 6
    rows = render_classification(
        _hostile_rows("0000001"), policy=policy, national=NATIONAL, as_of=date(2024, 1, 31)
    )
    assert_terminal_safe(rows, hostile)


@pytest.mark.parametrize("hostile", TERMINAL)
def test_check_and_inspect_show_hostile_names_literally(hostile: str) -> None:
    findings = pl.DataFrame(
        {
            s.FINDING: ["gaps"],
            s.SEVERITY: [s.SEVERITY_WARNING],
            s.COUNT: [1],
            s.FIRST_LINES: [hostile],
            s.SCHOOLS: [hostile],
        }
    )
    checked = render_check(findings, file=hostile, rows=1, as_of=date(2024, 3, 8), width=300)
    assert_terminal_safe(checked, hostile)

    entry = {
        "file": hostile,
        "file_type": "csv",
        "encoding": "utf-8",
        "separator": hostile,
        "columns": {"class_name": hostile},
        "dropped_columns": [hostile],
        "codes": {hostile: {"category": "illness", "rows": 1}},
        "shape": "register",
        "shape_reason": hostile,
    }
    report = {
        "files": [entry],
        "rows": 1,
        "pupils": 1,
        "schools": [hostile],
        "first_date": "2024-03-08",
        "last_date": "2024-03-08",
    }
    inspected = render_inspection(report, lang="da", width=300)
    assert_terminal_safe(inspected, hostile)
    assert inspected.count(terminal_text(hostile)) >= 6


def test_the_table_view_of_the_cli_shows_hostile_text_literally_or_refuses_it(
    tmp_path: Path,
) -> None:
    export = tmp_path / "export.csv"
    monday = date(2024, 1, 1)
    lines = ["pupil_id,school_id,date,category,absent_fraction,grade,class_name"]
    for day in range(40):
        when = monday + timedelta(days=day)
        if when.weekday() < 5:
            absent = day % 3 == 0
            category = "illness" if absent else "present"
            lines.append(f"0000009,851001,{when},{category},{int(absent)},5,[/5.A]")
            lines.append(f'"[bold]0000010[/bold]",851001,{when},{category},{int(absent)},5,"5.A"')
    export.write_text("\n".join(lines) + "\n")
    target = tmp_path / "out.txt"

    result = CliRunner().invoke(
        app, ["classify", str(export), "--all", "--format", "table", "-o", str(target)]
    )

    # Ingest may refuse markup-like cells (65); the table view itself never fails on them.
    assert result.exit_code in (0, 65), result.output
    if result.exit_code == 0:
        text = target.read_text()
        assert "[/5.A]" in text
        assert "[bold]0000010[/bold]" in text


def test_a_policy_with_markup_in_its_text_is_shown_literally_by_the_cli(tmp_path: Path) -> None:
    text = (EXAMPLES / "policies" / "aalborg-2019.toml").read_text()
    text = text.replace('"Skolelederen"', '"[/Skolelederen]"').replace(
        '"Skolen handler på fraværet."', '"[bold]Skolen[/bold] handler :warning:"'
    )
    policy = tmp_path / "policy.toml"
    policy.write_text(text)
    target = tmp_path / "out.txt"
    args = ["classify", str(EXAMPLES / "demo-export.csv"), "--policy", str(policy)]

    result = CliRunner().invoke(app, [*args, "--format", "table", "-o", str(target)])

    assert result.exit_code == 0, result.output
    shown = target.read_text()
    assert "[/Skolelederen]" in shown
    assert "[bold]Skolen[/bold] handler :warning:" in shown


def test_an_error_line_shows_an_escape_sequence_in_a_path_as_u_fffd(tmp_path: Path) -> None:
    missing = tmp_path / "uge\x1b]8;;mailto:evil\x07klik\x1b]8;;\x07\x1b[2J.csv"

    result = CliRunner().invoke(app, ["classify", str(missing)])

    assert result.exit_code == 66
    assert "\x1b" not in result.stderr
    assert "\x07" not in result.stderr
    assert "uge\ufffd]8;;mailto:evil\ufffdklik" in result.stderr


# -- charts ---------------------------------------------------------------------------------------

SCHOOL_NAMES = (
    ("$x^2$", "$\\foo$", "<script>alert(1)</script>"),  # the example has three schools
    ("_skjult", "5.A\x1b[31m&amp;", "851\n002"),
)


def _hostile_schools(
    periods: str | None, hostile: tuple[str, ...]
) -> tuple[pl.DataFrame, list[Reference | None], dict[str, str]]:
    result, references = chart_table(periods, 10)
    schools = sorted(result.filter(~pl.col(MUNICIPALITY))[s.SCHOOL_ID].unique().to_list())
    names = dict(zip(schools, hostile, strict=True))
    renamed = result.with_columns(pl.col(s.SCHOOL_ID).replace(names))
    return renamed, references, names  # type: ignore[return-value]


def _svg_texts(data: bytes) -> list[str]:
    """The texts matplotlib drew, from the comment it writes before each text's paths."""
    return [html.unescape(t) for t in re.findall(r"<!-- (.*?) -->", data.decode("utf-8"), re.S)]


@pytest.mark.parametrize("hostile", SCHOOL_NAMES)
@pytest.mark.parametrize("periods", [None, "2021/22,2023Q3,2023Q4,2024Q1"])
def test_a_chart_draws_school_ids_as_written_never_as_maths_or_markup(
    periods: str | None, hostile: tuple[str, ...]
) -> None:
    table, references, names = _hostile_schools(periods, hostile)

    data, drawn = share_chart(
        table, references=references, fmt="svg", spans=spans(periods), as_of=AS_OF
    )

    root = ET.fromstring(data)  # well-formed XML: no control character got through
    assert not [e for e in root.iter() if e.tag.split("}")[-1] in ("script", "a", "foreignObject")]
    texts = _svg_texts(data)
    for name in names.values():
        assert any(schema.shown_text(name) in text for text in texts), (name, texts)
    assert "Oblique" not in data.decode()  # no maths italic: "$x^2$" is not read as maths
    assert set(drawn.schools) == set(names.values())
    png, _ = share_chart(table, references=references, fmt="png", spans=spans(periods), as_of=AS_OF)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_trend_chart_draws_its_summary_as_written() -> None:
    summary = "Fraværet $\\foo$ er faldet til $x^2$ <script>"

    data = trend_chart(
        [date(2024, 3, 1), date(2024, 3, 8)],
        [13.0, 11.0],
        summary=summary,
        policy=AALBORG,
        as_of=date(2024, 3, 8),
        fmt="svg",
    )

    ET.fromstring(data)
    assert summary in "".join(_svg_texts(data))
    assert "Oblique" not in data.decode()


# -- the one check, against a character-by-character reference ------------------------------------

# Every kind of character the quick look must get right: each hidden category, the invisible
# letters, the printable separators (space, no-break space) and Danish letters.
_TRICKY = "æøåÆØÅé \u00a0\u2028\u2029\u200b\u200e\u202e\u2066\ufeff\x00\x1b\x7f\x85" + (
    schema.INVISIBLE_LETTERS
)


def _hidden_reference(value: str) -> bool:
    return any(
        unicodedata.category(c) in schema.HIDDEN_CATEGORIES or c in schema.INVISIBLE_LETTERS
        for c in value
    )


@settings(max_examples=examples(300), deadline=None)
@given(st.lists(st.sampled_from(_TRICKY) | st.characters(), max_size=12).map("".join))
def test_the_hidden_character_check_equals_a_check_of_each_character(value: str) -> None:
    assert schema.has_hidden_character(value) == _hidden_reference(value)
    expected = "".join("\ufffd" if _hidden_reference(c) else c for c in value)
    assert schema.shown_text(value) == expected


_CELL_MACRO = """<td data-value="{{ '' if n.value is none else n.value }}">{{ n.text }}</td>"""
"""The table cell as the pages' templates printed it before ``Num.cell`` built it."""


@settings(max_examples=examples(200), deadline=None)
@given(
    text=st.text(),
    value=st.one_of(
        st.none(),
        st.integers(),
        st.floats(allow_nan=False),
        st.floats(allow_nan=False).map(lambda v: float(int(v * 10)) / 10 if abs(v) < 1e9 else v),
    ),
)
def test_num_cell_is_the_macro_rendered(text: str, value: float | int | None) -> None:
    """``Num.cell`` (the dossier's and school page's cells, built in Python for speed) is byte
    for byte the template cell it replaces, printed through the pages' environment: hidden
    characters shown as U+FFFD, HTML escaped."""
    num = Num(text, value)
    macro = environment().from_string(_CELL_MACRO).render(n=num)
    assert str(num.cell) == macro
    assert "\u200b" not in str(num.cell)
    assert "<" not in str(num.cell)[4:-5].split(">", 1)[1]


_WEEK_LOOP = (
    "<tbody>\n"
    "{% for head, cells in rows %}\n"
    '<tr><th scope="row">{{ head }}</th>{% for n in cells %}{{ n.cell }}{% endfor %}</tr>\n'
    "{% endfor %}\n"
    "</tbody>"
)
"""The dossier's weeks table as ``dossier.html`` printed it before ``table_rows``."""

_FIGURE = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 30),
    st.sampled_from([0.0, -0.0, 1.0, 9.96, 10.0, -3.96, 100.0]),
    st.floats(allow_nan=False, min_value=-1e6, max_value=1e6),
)


@settings(max_examples=examples(200), deadline=None)
@given(
    rows=st.lists(st.tuples(st.text(), st.lists(_FIGURE, max_size=5)), max_size=12),
    lang=st.sampled_from(["da", "en"]),
)
def test_table_rows_are_the_template_loop(
    rows: list[tuple[str, list[float | int | None]]], lang: Lang
) -> None:
    """``table_rows`` (the dossier's weeks as one printed value, for speed) is byte for byte
    the template's loop it replaces, printed through the pages' environment."""
    shown = [(head, [percent(v, lang) for v in values]) for head, values in rows]
    looped = environment().from_string(_WEEK_LOOP).render(rows=shown)
    built = environment().from_string("<tbody>\n{{ rows }}</tbody>").render(rows=table_rows(shown))
    assert built == looped


def _fresh_number(value: object, lang: Lang) -> Num:
    """A figure as :func:`number` shows it, computed afresh for each value (the reference of
    the figures it remembers)."""
    if value is None or isinstance(value, bool):
        return Num("–", None)
    if isinstance(value, int):
        return Num(str(value), value)
    assert isinstance(value, float)
    tenths = math.floor(abs(value) * 10 + 1e-9)
    return Num(number_text(math.copysign(tenths, value) / 10 if tenths else 0.0, lang), value)


@settings(max_examples=examples(200), deadline=None)
@given(values=st.lists(_FIGURE, max_size=30), lang=st.sampled_from(["da", "en"]))
def test_remembered_figures_are_the_figures_computed_afresh(
    values: list[object], lang: Lang
) -> None:
    """``number`` and ``percent`` remember the figures a site shows on many pages: what they
    give is the figure computed afresh, -0.0 apart from 0.0 and True apart from 1 (equal as
    keys, shown apart)."""
    for value in [*values, *values]:
        fresh = _fresh_number(value, lang)
        got = number(value, lang)
        assert (got.text, str(got.cell), type(got.value)) == (
            fresh.text,
            str(fresh.cell),
            type(fresh.value),
        )
        pct = percent(value, lang)
        text = fresh.text if fresh.value is None else f"{fresh.text} %"
        assert (pct.text, str(pct.cell)) == (text, str(Num(text, fresh.value).cell))


_GRID_LOOPS = (
    "{% for y, label in ticks %}\n"
    '<line x1="{{ left }}" x2="{{ right }}" y1="{{ y }}" y2="{{ y }}" stroke="#dddddd"'
    ' stroke-width="1"/>\n'
    '<text x="{{ left - 4 }}" y="{{ y + 3 }}" text-anchor="end">{{ label }}</text>\n'
    "{% endfor %}\n"
    "{% for y, label in limits %}\n"
    '<line x1="{{ left }}" x2="{{ right }}" y1="{{ y }}" y2="{{ y }}" stroke="#8a1c00"'
    ' stroke-width="1" stroke-dasharray="5 3"/>\n'
    '<text x="{{ right + 4 }}" y="{{ y + 3 }}">{{ label }}</text>\n'
    "{% endfor %}\n"
)
"""The dossier chart's ticks and limits as ``dossier.html`` drew them before ``grid_svg``."""

_Y = st.floats(min_value=-1e4, max_value=1e4, allow_nan=False).map(lambda v: round(v, 1))


@settings(max_examples=examples(200), deadline=None)
@given(
    ticks=st.lists(st.tuples(_Y, st.text()), max_size=8).map(tuple),
    limits=st.lists(st.tuples(_Y, st.text()), max_size=4).map(tuple),
    left=st.integers(0, 1000),
    right=st.integers(0, 1000),
)
def test_grid_svg_is_the_template_loops(
    ticks: tuple[tuple[float, str], ...],
    limits: tuple[tuple[float, str], ...],
    left: int,
    right: int,
) -> None:
    """``grid_svg`` (drawn once per scale, for speed) is byte for byte the template's loops it
    replaces, printed through the pages' environment: labels with hidden characters shown as
    U+FFFD and escaped."""
    env = environment()
    drawn = env.from_string(_GRID_LOOPS).render(ticks=ticks, limits=limits, left=left, right=right)
    assert str(grid_svg(ticks, limits, left=left, right=right)) == drawn
