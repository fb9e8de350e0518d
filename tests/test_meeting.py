"""Meeting sheets: the figures equal the commands', the template is validated and reaches every
sheet (escalate, report, site), hostile questions are escaped, lesson words where lessons are."""

from __future__ import annotations

import csv
import html
import io
import re
from collections import defaultdict
from datetime import date
from fractions import Fraction
from html.parser import HTMLParser
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt
from typer.testing import CliRunner

from fravaer import schema as s
from fravaer.classify import classify
from fravaer.cli import app
from fravaer.ingest.files import bundled_meeting_template, read_meeting_template
from fravaer.ingest.load import load
from fravaer.ingest.policy import load_policy
from fravaer.ingest.source import SourceOptions
from fravaer.meeting import (
    TREND_WEEKS,
    MeetingTemplate,
    Sheet,
    lesson_findings,
    sheet_pupils,
    sheets,
    weekday_absence,
    weekly_trend,
)
from fravaer.pages.meeting import sheet_html, sheet_markdown
from fravaer.schema import hostile_text_problem
from fravaer.trend import trend
from fravaer.words import number_text, pct_text
from tests.harden import KEY_HEX
from tests.profiles import examples
from tests.reference import ABSENCE, Row, to_frame
from tests.test_classify import attendance

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "examples" / "demo-export.csv"
LESSONS = ROOT / "examples" / "exports" / "lessons.csv"
GOLDEN = Path(__file__).parent / "golden"
AALBORG = load_policy("aalborg-2023")
TEMPLATE = bundled_meeting_template()
PUPIL = "0000005"


@settings(max_examples=examples(40), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=attendance())
def test_weekday_absence_equals_a_naive_count(data: tuple[list[Row], date]) -> None:
    rows, as_of = data
    frame = to_frame(rows)
    classified = classify(frame, policy=AALBORG, as_of=as_of, include_left=True).collect()
    pupils = classified.select(s.PUPIL_ID, s.WINDOW_START).lazy()
    days = weekday_absence(frame, pupils, categories=ABSENCE, as_of=as_of).collect()

    starts = dict(classified.select(s.PUPIL_ID, s.WINDOW_START).iter_rows())
    naive: dict[tuple[str, int], list[object]] = defaultdict(lambda: [set(), Fraction(0)])
    for row in rows:
        if row.date > as_of or row.date < starts[row.pupil_id]:
            continue
        entry = naive[(row.pupil_id, row.date.isoweekday())]
        entry[0].add(row.date)  # type: ignore[attr-defined]
        entry[1] += row.fraction if row.category in ABSENCE else Fraction(0)  # type: ignore[operator]
    got = {(p, d): (n, a) for p, d, n, a in days.iter_rows()}
    assert set(got) == set(naive)
    for key, (dates, absent) in naive.items():
        assert got[key] == (len(dates), float(absent))  # type: ignore[arg-type]


# -- one weekly figure: the sheet's weeks are `fravaer trend`'s -----------------------------------


def run(*args: object) -> str:
    result = CliRunner().invoke(app, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.fixture(scope="module")
def key(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("key") / "token.key"
    path.write_text(KEY_HEX)
    path.chmod(0o600)
    return path


def sheet_of(folder: Path, pupil: str, suffix: str = ".md") -> str:
    marker = f"- **Elev:** {pupil}\n" if suffix == ".md" else f"<dd>{pupil}</dd>"
    (found,) = [
        text
        for path in folder.glob(f"*{suffix}")
        if marker in (text := path.read_text(encoding="utf-8"))
    ]
    return found


def test_the_sheet_s_weekly_figures_equal_fravaer_trend(tmp_path: Path, key: Path) -> None:
    """Every week of the sheet, Markdown and HTML, is `trend --format csv --weeks 6`'s row."""
    notes = tmp_path / "notes"
    run("escalate", DEMO, "--since", "2024-03-01", "--meeting-notes", notes, "--key-file", key)
    trend_csv = run("trend", DEMO, "--pupil", PUPIL, "--weeks", TREND_WEEKS, "--format", "csv")
    expected = [
        [
            row["week_end"],
            pct_text(float(row["absence_pct"]), "da"),
            row["step"] or "–",
            number_text(float(row["absent_days_week"]), "da"),
            row["school_days_week"],
        ]
        for row in csv.DictReader(io.StringIO(trend_csv))
    ]
    assert len(expected) == TREND_WEEKS
    markdown = sheet_of(notes, PUPIL)
    table = markdown.split("### Udvikling uge for uge\n\n", 1)[1].split("\n\n", 1)[0]
    rows = [
        [cell.strip() for cell in line.strip("|").split("|")] for line in table.splitlines()[2:]
    ]
    assert rows == expected
    page = sheet_of(notes, PUPIL, ".html")
    body = page.split('<table class="meeting-weeks">', 1)[1].split("</table>", 1)[0]
    cells = re.findall(r"<t[hd][^>]*>([^<]*)</t[hd]>", body.split("<tbody>", 1)[1])
    assert [cells[i : i + 5] for i in range(0, len(cells), 5)] == expected


def test_the_sheet_s_weeks_are_trend_s_rows_exactly() -> None:
    """The library path: the Sheet's weeks are `trend`'s values, not a second computation."""
    frame = load([str(DEMO)], SourceOptions()).frame
    as_of = date(2024, 3, 8)
    classified = classify(frame, policy=AALBORG, as_of=as_of).collect()
    pupils = sheet_pupils(classified)
    weeks = weekly_trend(frame, policy=AALBORG, as_of=as_of, pupils=pupils).collect()
    days = weekday_absence(frame, pupils, categories=ABSENCE, as_of=as_of).collect()
    found = {str(x.pupil[s.PUPIL_ID]): x for x in sheets(classified, weeks, days)}
    direct = trend(frame, policy=AALBORG, as_of=as_of, weeks=TREND_WEEKS, pupils=[PUPIL])
    rows = direct.collect().rows(named=True)
    got = found[PUPIL].weeks
    assert [(w.end, w.pct, w.step, w.absent_days_week, w.school_days_week) for w in got] == [
        (r["week_end"], r["absence_pct"], r["step"], r["absent_days_week"], r["school_days_week"])
        for r in rows
    ]
    assert found[PUPIL].lessons is None  # a day-level export


def test_only_pupils_at_step_2_or_higher_get_a_sheet() -> None:
    classified = pl.DataFrame(
        {s.PUPIL_ID: ["a", "b", "c", "d"], s.STEP: [0, 1, 2, None]},
        schema_overrides={s.STEP: pl.Int8},
    )
    empty = pl.DataFrame(schema={s.PUPIL_ID: pl.String})

    assert [x.pupil[s.PUPIL_ID] for x in sheets(classified, empty, empty)] == ["c"]


# -- the meeting template -------------------------------------------------------------------------

OWN = """
[[da]]
question = "Hvad går godt i skolen?"
sub_questions = ["Hvem hjælper?", "Hvad er elevens drøm?"]

[[en]]
question = "What goes well at school?"
sub_questions = ["Who helps?", "What is the pupil's dream?"]
"""


def test_the_bundled_template_is_the_extended_signs_of_safety_method() -> None:
    da = TEMPLATE.questions("da")
    assert [q.question for q in da] == [
        "Hvad fungerer?",
        "Hvad fungerer ikke?",
        "Hvad skal der ske?",
    ]
    assert da[0].sub_questions == (
        "Hvorfor fungerer det?",
        "Hvordan fungerer det?",
        "Hvordan sikres det, at det bliver ved med at fungere?",
        "Hvilke beskyttelsesfaktorer tilføjer det barnet?",
    )
    assert da[1].sub_questions == (
        "Hvorfor fungerer det ikke?",
        "Hvordan har man forsøgt at afhjælpe det, som ikke fungerer?",
        "Hvilke risikofaktorer tilføjer det barnet?",
    )
    assert da[2].sub_questions == (
        "Hvem er relevant at involvere for at kunne afhjælpe det, som ikke fungerer?",
        "Hvilke indsatser er relevante?",
        "Hvordan sikres det, at man afhjælper det, som ikke fungerer?",
    )


def test_a_template_of_one_s_own_is_read(tmp_path: Path) -> None:
    path = tmp_path / "spoergsmaal.toml"
    path.write_text(OWN, encoding="utf-8")

    template = read_meeting_template(path)

    assert template.questions("da")[0].sub_questions == ("Hvem hjælper?", "Hvad er elevens drøm?")
    assert template.questions("en")[0].question == "What goes well at school?"


BAD = [
    ("not toml", 'question = "x', "not valid TOML"),
    ("no english", OWN.split("[[en]]")[0], "field 'en': Field required"),
    ("a key of a page", 'html = "<h1>x</h1>"\n' + OWN, "field 'html': Extra inputs"),
    ("an unknown key", OWN.replace('sub_questions = ["Hvem', 'subs = ["Hvem'), "da.0.subs"),
    ("an empty question", OWN.replace('"Hvad går godt i skolen?"', '""'), "field 'da.0.question'"),
    (
        "not a translation",
        OWN.replace('"Who helps?", ', ""),
        "da and en must have the same main questions",
    ),
    ("a formula", OWN.replace('"Who helps?"', '"=HYPERLINK(1)"'), "field 'en.0.sub_questions.0'"),
    ("a control character", OWN.replace("Who helps?", "Who\\u001b[31m helps?"), "en.0.sub"),
]


@pytest.mark.parametrize(("name", "text", "said"), BAD, ids=[b[0] for b in BAD])
def test_a_bad_template_is_refused_with_one_line_naming_file_and_key(
    tmp_path: Path, name: str, text: str, said: str
) -> None:
    path = tmp_path / "skabelon.toml"
    path.write_text(text, encoding="utf-8")
    notes = tmp_path / "notes"

    result = CliRunner().invoke(
        app,
        [
            "escalate",
            str(DEMO),
            "--since",
            "2024-03-01",
            "--meeting-notes",
            str(notes),
            "--meeting-template",
            str(path),
        ],
    )

    assert result.exit_code == 78, (name, result.output)
    lines = result.stderr.splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"fravaer: error: {path}"), lines
    assert said in lines[0], lines
    assert not notes.exists()  # refused before any work


def test_a_missing_template_is_66_and_a_template_without_sheets_is_a_usage_error(
    tmp_path: Path,
) -> None:
    base = ["escalate", str(DEMO), "--since", "2024-03-01"]
    missing = CliRunner().invoke(
        app, [*base, "--meeting-notes", str(tmp_path / "n"), "--meeting-template", "nope.toml"]
    )
    alone = CliRunner().invoke(app, [*base, "--meeting-template", "nope.toml"])

    assert missing.exit_code == 66, missing.output
    assert alone.exit_code == 2
    assert "--meeting-template gives the meeting sheets' questions" in alone.stderr


HOSTILE = "<script>alert(1)</script> [klik](javascript:alert(1)) **fed** {{7*7}}"


def test_hostile_text_in_questions_is_shown_and_does_nothing(tmp_path: Path, key: Path) -> None:
    path = tmp_path / "hostile.toml"
    path.write_text(OWN.replace("Hvem hjælper?", HOSTILE.replace('"', "")), encoding="utf-8")
    notes = tmp_path / "notes"

    run(
        "escalate",
        DEMO,
        "--since",
        "2024-03-01",
        "--meeting-notes",
        notes,
        "--key-file",
        key,
        "--meeting-template",
        path,
    )

    markdown, page = sheet_of(notes, PUPIL), sheet_of(notes, PUPIL, ".html")
    assert "<script>" not in page
    assert "<script>" not in markdown
    assert "&lt;script&gt;alert(1)&lt;/script&gt; [klik](javascript:alert(1)) **fed** {{7*7}}" in (
        page
    )
    assert (
        "- &lt;script&gt;alert(1)&lt;/script&gt; \\[klik\\](javascript\\:alert(1)) "
        "\\*\\*fed\\*\\* \\{\\{7\\*7\\}\\}" in markdown
    )


def test_one_template_reaches_escalate_report_and_site(tmp_path: Path, key: Path) -> None:
    """The same file, given to each, puts its questions in each sheet and dossier."""
    template = tmp_path / "skabelon.toml"
    template.write_text(OWN, encoding="utf-8")
    dream = "Hvad er elevens drøm?"
    notes = tmp_path / "notes"
    run(
        "escalate",
        DEMO,
        "--since",
        "2024-03-01",
        "--meeting-notes",
        notes,
        "--key-file",
        key,
        "--meeting-template",
        template,
    )
    config = tmp_path / "report.toml"
    config.write_text(
        f'output_folder = "ud"\nstate = "state.json"\nkey_file = "{key}"\n'
        'meeting_template = "skabelon.toml"\n'
        f'[inputs]\npaths = ["{DEMO}"]\n[[outputs]]\nkind = "meeting_notes"\nfolder = "m"\n',
        encoding="utf-8",
    )
    run("report", "--config", config)
    site = tmp_path / "site"
    run("site", DEMO, "-o", site, "--key-file", key, "--meeting-template", template)

    sheets_md = [sheet_of(notes, PUPIL), sheet_of(tmp_path / "ud" / "m", PUPIL)]
    pages = [
        sheet_of(notes, PUPIL, ".html"),
        sheet_of(tmp_path / "ud" / "m", PUPIL, ".html"),
        next(
            text
            for path in site.glob("*/*.html")
            if f"<dd>{PUPIL}</dd>" in (text := path.read_text(encoding="utf-8"))
        ),
    ]
    for text in sheets_md:
        assert "### 1. Hvad går godt i skolen?" in text
        assert f"- {dream}" in text
        assert "Hvad fungerer?" not in text
    for text in pages:
        assert "<h4>1. Hvad går godt i skolen?</h4>" in text
        assert f'<li>{dream}<div class="answer"></div></li>' in text
        assert "Hvad fungerer?" not in text
        assert "Hvad virker?" not in text
    # Escalate's sheet and the report's are one sheet: the same bytes for the same pupil.
    assert sheets_md[0] == sheets_md[1]
    assert pages[0] == pages[1]
    # The dossier holds the same part as escalate's page (the school named as the site does).
    part = pages[0].split('<section class="meeting" id="meeting">', 1)[1].split("</section>")[0]
    dossier = pages[2].split('<section class="meeting new-page" id="meeting">', 1)[1]
    assert part.split("<h3>", 1)[1] == dossier.split("</section>")[0].split("<h3>", 1)[1]


# -- lesson words ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def lesson_export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A lesson-level export with planted patterns (leaving early, a subject)."""
    path = tmp_path_factory.mktemp("lessons") / "lektioner.csv"
    run(
        "demo-data",
        "--lessons",
        "--pupils",
        50,
        "--schools",
        1,
        "--until",
        "2024-03-08",
        "--plant",
        "leaves-early",
        "--plant",
        "subject",
        "-o",
        path,
    )
    return path


def test_the_bundled_lesson_example_gives_the_lesson_line() -> None:
    """examples/exports/lessons.csv: the sheet says what the lessons show (here, no pattern);
    the same pupils of a day-level reading of the file have no lesson line."""
    loaded = load([str(LESSONS)], SourceOptions(), lessons=True)
    assert loaded.lessons is not None
    as_of = date(2024, 3, 5)
    found = lesson_findings(loaded.frame, loaded.lessons, policy=AALBORG, as_of=as_of).collect()
    classified = classify(loaded.frame, policy=AALBORG, as_of=as_of).collect()
    forced = classified.with_columns(pl.lit(2, dtype=pl.Int8).alias(s.STEP))
    empty = pl.DataFrame(schema={s.PUPIL_ID: pl.String})
    with_lessons = sheets(forced, empty, empty, found)
    without = sheets(forced, empty, empty, None)

    assert len(with_lessons) == 2
    for sheet in with_lessons:
        text = sheet_markdown(sheet, policy=AALBORG, template=TEMPLATE)
        assert "Intet mønster i lektionerne – fraværet falder ikke oftere i bestemte" in text
    for sheet in without:
        text = sheet_markdown(sheet, policy=AALBORG, template=TEMPLATE)
        assert "lektionerne" not in text
        page = sheet_html(sheet, policy=AALBORG, template=TEMPLATE, version="0")
        assert "lektionerne" not in page


def test_lesson_words_reach_the_sheets_and_the_dossier(
    tmp_path: Path, key: Path, lesson_export: Path
) -> None:
    patterns_csv = run("patterns", lesson_export, "--format", "csv")
    found = {
        row["pupil_id"]: row
        for row in csv.DictReader(io.StringIO(patterns_csv))
        if row["lesson_pattern"]
    }
    notes = tmp_path / "notes"
    run(
        "escalate",
        lesson_export,
        "--since",
        "2024-03-01",
        "--meeting-notes",
        notes,
        "--key-file",
        key,
    )
    site = tmp_path / "site"
    run("site", lesson_export, "-o", site, "--key-file", key)

    said = 0
    for path in notes.glob("*.md"):
        text = path.read_text(encoding="utf-8")
        pupil = re.search(r"^- \*\*Elev:\*\* (\S+)$", text, re.M)[1]  # type: ignore[index]
        if pupil in found:
            assert "Mønster i lektionerne – " in text
            said += 1
        else:
            assert "Intet mønster i lektionerne" in text
    assert said > 0
    words = {"går ofte hjem før de sidste lektioner", "fravær især i Idræt"}
    dossiers = [p.read_text(encoding="utf-8") for p in site.glob("*/*.html")]
    shown = [d for d in dossiers if '<p id="lesson-pattern">' in d]
    assert shown
    assert any(any(w in d for w in words) for d in shown)


def test_day_data_has_no_lesson_words(tmp_path: Path, key: Path) -> None:
    notes = tmp_path / "notes"
    run("escalate", DEMO, "--since", "2024-03-01", "--meeting-notes", notes, "--key-file", key)
    site = tmp_path / "site"
    run("site", DEMO, "-o", site, "--key-file", key)

    for path in [*notes.glob("*.*"), *site.glob("*/*.html")]:
        text = path.read_text(encoding="utf-8")
        assert "lektion" not in text.lower(), path


# -- golden sheets --------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".md", ".html"])
def test_golden_meeting_sheet(tmp_path: Path, key: Path, suffix: str) -> None:
    """The example pupil's sheet, byte for byte. Regenerate deliberately:
    FRAVAER_UPDATE_GOLDEN=1 .venv/bin/pytest tests/test_meeting.py -k golden"""
    import os

    notes = tmp_path / "notes"
    run("escalate", DEMO, "--since", "2024-03-01", "--meeting-notes", notes, "--key-file", key)
    text = sheet_of(notes, PUPIL, suffix)
    text = re.sub(r"fravaer \d+\.\d+\.\d+\S*", "fravaer VERSION", text)
    golden = GOLDEN / f"meeting_sheet_da{suffix}"
    if os.environ.get("FRAVAER_UPDATE_GOLDEN"):
        golden.write_text(text, encoding="utf-8")
    assert text == golden.read_text(encoding="utf-8")


# -- any question a template may hold is shown as written and does nothing ----------------------


def _question_text() -> st.SearchStrategy[str]:
    """Texts a template may hold: printable, markup-heavy, with Danish letters."""
    alphabet = st.sampled_from(list("aæøå AZ019.,;:!?#*_`[]()<>&|\\~$@=^{}-+'\"/%"))
    return st.text(alphabet, min_size=1, max_size=40).filter(
        lambda text: text.strip() != "" and hostile_text_problem(text) is None
    )


def _inline(markdown: str) -> list[str]:
    """The text a CommonMark reader shows in each heading and list item."""
    parsed = MarkdownIt("commonmark").parse(markdown)
    return [
        "".join(child.content for child in token.children or [] if child.type == "text")
        for token in parsed
        if token.type == "inline"
    ]


class _Texts(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.texts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)

    def handle_data(self, data: str) -> None:
        self.texts.append(data)


@settings(max_examples=examples(60), deadline=None)
@given(question=_question_text(), sub=_question_text())
@example(question="Hvad nu? #", sub="1) først")  # a heading's closing #, a list's start
@example(question="a  \\", sub="# b")
def test_any_question_is_shown_as_written(question: str, sub: str) -> None:
    english = [{"question": "Q", "sub_questions": ["S"]}]
    template = MeetingTemplate.model_validate(
        {"da": [{"question": question, "sub_questions": [sub]}], "en": english}
    )
    plain_template = MeetingTemplate.model_validate(
        {"da": [{"question": "Spørgsmål", "sub_questions": ["Under"]}], "en": english}
    )
    sheet = _SHEET
    markdown = sheet_markdown(sheet, policy=AALBORG, template=template)
    plain = sheet_markdown(sheet, policy=AALBORG, template=plain_template)

    blocks = [t.type for t in MarkdownIt("commonmark").parse(markdown)]
    assert blocks == [t.type for t in MarkdownIt("commonmark").parse(plain)]
    shown = _inline(markdown)
    assert f"1. {question.strip()}" in shown
    assert sub.strip() in shown

    page = _Texts()
    page.feed(sheet_html(sheet, policy=AALBORG, template=template, version="0"))
    plain_page = _Texts()
    plain_page.feed(sheet_html(sheet, policy=AALBORG, template=plain_template, version="0"))
    assert page.tags == plain_page.tags
    assert f"1. {question}" in page.texts
    assert sub in page.texts


def _one_sheet() -> Sheet:
    row: dict[str, object] = {
        s.PUPIL_ID: "0042",
        s.SCHOOL_ID: "851001",
        s.CLASS_NAME: "4.B",
        s.AS_OF: date(2024, 3, 8),
        s.STEP: 2,
        s.ABSENCE_PCT: 16.0,
        s.WINDOW_START: date(2023, 10, 2),
        s.WINDOW_END: date(2024, 3, 8),
        s.WINDOW_DAYS: 100,
        s.ILLNESS_DAYS: 16.0,
        s.LEAVE_DAYS: 0.0,
        s.UNLAWFUL_DAYS: 0.0,
        s.QUARTER_UNLAWFUL_PCT: 0.0,
    }
    return Sheet(row, (), ())


_SHEET = _one_sheet()


@pytest.mark.parametrize("flag", ["warn_parents", "notify_municipality", "none"])
def test_a_sheet_of_a_pupil_at_step_0_says_what_the_quarter_rule_requires(flag: str) -> None:
    """A pupil at step 0 whom the quarter rule flags: the sheet says what the rule requires and
    of whom, in the national policy's words, under one heading with the flag's limit (a pupil to
    notify of has passed the parents' warning too); an unflagged one gets no such heading."""
    rule = load_policy("national-unlawful")
    loaded = load([str(DEMO)], SourceOptions())
    classified = classify(loaded.frame, policy=AALBORG, as_of=date(2024, 3, 8)).collect()
    forced = classified.head(1).with_columns(
        pl.lit(0, dtype=pl.Int8).alias(s.STEP), pl.lit(flag).alias(s.QUARTER_FLAG)
    )
    sheet = Sheet(forced.row(0, named=True), (), (), None)
    markdown = sheet_markdown(sheet, policy=AALBORG, template=TEMPLATE, national=rule)
    page = sheet_html(sheet, policy=AALBORG, template=TEMPLATE, version="0", national=rule)
    level = {st.label: st.step for st in rule.steps}.get(flag, 0)
    heading = "Det kræver kvartalsreglen ved"
    if level == 0:
        assert heading not in markdown
        assert heading not in page
        return
    (top,) = [st for st in rule.steps if st.step == level]
    title = f"{heading} ≥ {top.when.at_least.normalize():f} % · Skolelederen"  # type: ignore[union-attr]
    actions = [a for st in rule.steps if st.step <= level for a in st.actions("da")]
    assert len(actions) == level
    listed = "".join(f"- {a}\n" for a in actions)
    assert f"## {title}\n\n{listed}" in markdown
    items = "".join(f"<li>{html.escape(a)}</li>" for a in actions)
    assert f'<h3>{title}</h3>\n<ul class="meeting-actions">{items}</ul>' in page
    assert "kvartalsreglen kan gøre det" not in markdown
