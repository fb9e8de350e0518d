"""xlsx headings for people: every workbook a command writes has its columns in the user's
language (Danish by default), the schools' names beside their ids when given, and with
``--headers snake`` the machine names of csv; numbers stay numbers and no text becomes a formula.

The expected headings are written out for a few columns in each language, so that a wrong word
fails here and not only in the word table; the rest are checked against the csv's columns.
"""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import fastexcel
import openpyxl
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner, Result

from fravaer import schema as s
from fravaer.classify import rule_columns
from fravaer.cli import app
from fravaer.escalate import CHANGE, ESCALATE_COLUMNS
from fravaer.headings import Headers, for_people, heading, headings
from fravaer.ingest.policy import load_policy
from fravaer.lessons import LESSON_PATTERN_COLUMNS
from fravaer.output import serialise_frame
from fravaer.policy import Lang
from fravaer.stats import DAYS_BEHIND, LATEST_DATE, contract_columns
from fravaer.trend import EARLY_WARNING_COLUMNS, PATTERN_COLUMNS, TREND_COLUMNS
from tests.profiles import examples

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "examples" / "demo-export.csv"
LESSONS = ROOT / "examples" / "exports" / "lessons.csv"
NAMES = ROOT / "examples" / "site" / "school-names.csv"
LANGS: tuple[Lang, ...] = ("da", "en")

JOBS: dict[str, tuple[str, ...]] = {
    "classify": ("classify", str(DEMO)),
    "explain": ("explain", str(DEMO), "--pupil", "0000001"),
    "trend": ("trend", str(DEMO), "--pupil", "0000001"),
    "patterns": ("patterns", str(LESSONS)),
    "early-warning": ("early-warning", str(DEMO)),
    "stats": ("stats", str(DEMO), "--by", "school,grade"),
    "escalate": ("escalate", str(DEMO), "--since", "2024-02-01"),
    "policy list": ("policy", "list"),
}
"""Every command that writes xlsx (check writes table, csv or json only)."""

FIRST_HEADINGS: dict[str, dict[Lang, tuple[str, ...]]] = {
    "classify": {"da": ("Elev", "Skole", "Klasse"), "en": ("Pupil", "School", "Class")},
    "explain": {"da": ("Elev", "Opgjort pr.", "Politik"), "en": ("Pupil", "As of", "Policy")},
    "trend": {"da": ("Elev", "Skole", "Klasse", "Ugens sidste skoledag"), "en": ("Pupil",)},
    "patterns": {
        "da": ("Elev", "Skole", "Klasse", "Opgjort pr.", "Skoledage", "Dage med fravær"),
        "en": ("Pupil", "School", "Class", "As of", "School days", "Days with absence"),
    },
    "early-warning": {"da": ("Elev", "Skole"), "en": ("Pupil", "School")},
    "stats": {
        "da": ("Skole", "Klassetrin", "Periode", "Elever", "Elevskoledage", "Fravær %"),
        "en": ("School", "Grade", "Period", "Pupils", "Pupil school days", "Absence %"),
    },
    "escalate": {"da": ("Elev", "Skole", "Klasse", "Klassetrin", "Før trin", "Trin")},
    "policy list": {"da": ("Navn", "Serie", "Version", "Gælder fra", "Titel")},
}


def run(*args: object) -> Result:
    return CliRunner().invoke(app, [str(arg) for arg in args])


def first_sheet(path: Path) -> pl.DataFrame:
    return fastexcel.read_excel(path).load_sheet(0).to_polars()


@pytest.fixture(scope="module")
def csv_columns() -> dict[str, list[str]]:
    """Each command's columns in csv: the machine names that xlsx had before."""
    found = {}
    for job, args in JOBS.items():
        result = run(*args, "--format", "csv")
        assert result.exit_code == 0, result.output
        found[job] = result.stdout.splitlines()[0].split(",")
    return found


def xlsx_columns(job: str, csv: list[str]) -> list[str]:
    """The columns of the job's first sheet, by their machine names: the csv's, but for the
    escalation workbook, whose two sheets say the change that csv has as a column."""
    return [c for c in csv if c != CHANGE] if job == "escalate" else csv


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("job", JOBS)
def test_each_commands_xlsx_has_headings_in_the_language(
    job: str, lang: Lang, csv_columns: dict[str, list[str]], tmp_path: Path
) -> None:
    target = tmp_path / "out.xlsx"
    result = run(*JOBS[job], "--lang", lang, "-o", target)
    assert result.exit_code == 0, result.output

    shown = first_sheet(target).columns
    machine = xlsx_columns(job, csv_columns[job])
    assert shown == [heading(c, lang) for c in machine]
    expected = FIRST_HEADINGS[job].get(lang, ())
    assert tuple(shown[: len(expected)]) == expected
    assert len(set(shown)) == len(shown)
    for column, text in zip(machine, shown, strict=True):
        assert text != column, f"{column} has no heading in {lang}"
        if not column.startswith("rule_"):  # "Regel: absence_100": the policy names the rule
            assert "_" not in text, text


@pytest.mark.parametrize("job", JOBS)
def test_headers_snake_keeps_the_machine_names(
    job: str, csv_columns: dict[str, list[str]], tmp_path: Path
) -> None:
    target = tmp_path / "out.xlsx"
    result = run(*JOBS[job], "--lang", "en", "--headers", "snake", "-o", target)
    assert result.exit_code == 0, result.output

    assert first_sheet(target).columns == xlsx_columns(job, csv_columns[job])


def test_headings_change_no_value_and_numbers_stay_numbers(tmp_path: Path) -> None:
    danish, snake = tmp_path / "da.xlsx", tmp_path / "snake.xlsx"
    assert run("classify", DEMO, "-o", danish).exit_code == 0
    assert run("classify", DEMO, "-o", snake, "--headers", "snake").exit_code == 0

    people, machine = first_sheet(danish), first_sheet(snake)
    assert people.rows() == machine.rows()
    sheet = openpyxl.load_workbook(danish).worksheets[0]
    header = [cell.value for cell in sheet[1]]
    second = sheet[2]
    for name in ("Fravær %", "Fraværsdage", "Skoledage", "Trin"):
        assert second[header.index(name)].data_type == "n", name
    assert second[header.index("Elev")].data_type == "s"  # an id stays text, zeros and all


def test_stats_formats_follow_the_headings(tmp_path: Path) -> None:
    """The workbook's number formats are keyed by column: they must follow the headings."""
    target = tmp_path / "stats.xlsx"
    assert run("stats", DEMO, "-o", target).exit_code == 0

    sheet = openpyxl.load_workbook(target).worksheets[0]
    header = [cell.value for cell in sheet[1]]
    assert sheet.cell(2, header.index("Fravær %") + 1).number_format == '0.0" %"'
    assert sheet.cell(2, header.index("Elever") + 1).number_format == "0"


# -- school names ---------------------------------------------------------------------------------


@pytest.mark.parametrize("job", ["classify", "stats", "escalate", "early-warning"])
def test_school_names_stand_beside_the_school_id(job: str, tmp_path: Path) -> None:
    target = tmp_path / "out.xlsx"
    result = run(*JOBS[job], "--school-names", NAMES, "-o", target)
    assert result.exit_code == 0, result.output

    sheet = first_sheet(target)
    at = sheet.columns.index("Skole")
    assert sheet.columns[at + 1] == "Skolenavn"
    names = {"851001": "Vestre Skole", "851002": "Østre Skole", "851003": "Nordre Skole"}
    for school, name in sheet.select("Skole", "Skolenavn").iter_rows():
        assert name == (names[school] if school is not None else None)


def test_school_names_with_snake_headers_are_a_school_name_column(tmp_path: Path) -> None:
    target = tmp_path / "out.xlsx"
    result = run("classify", DEMO, "--school-names", NAMES, "--headers", "snake", "-o", target)
    assert result.exit_code == 0, result.output

    assert first_sheet(target).columns[:3] == ["pupil_id", "school_id", "school_name"]


def test_school_names_are_for_xlsx_only() -> None:
    result = run("classify", DEMO, "--school-names", NAMES, "--format", "csv")

    assert result.exit_code == 2
    assert "--school-names names the schools in xlsx" in result.stderr


HOSTILE_NAMES = ("<script>alert(1)</script> Skole", "1e5", 'http://evil.example/"x"')


def test_hostile_school_names_are_text_in_the_workbook(tmp_path: Path) -> None:
    names = tmp_path / "names.csv"
    rows = zip(("851001", "851002", "851003"), HOSTILE_NAMES, strict=True)
    names.write_text(
        "school_id,name\n" + "".join(f'{i},"{n.replace(chr(34), 2 * chr(34))}"\n' for i, n in rows),
        encoding="utf-8",
    )
    target = tmp_path / "out.xlsx"
    result = run("classify", DEMO, "--school-names", names, "-o", target)
    assert result.exit_code == 0, result.output

    book = openpyxl.load_workbook(target)
    sheet = book.worksheets[0]
    header = [cell.value for cell in sheet[1]]
    cells = [row[header.index("Skolenavn")] for row in sheet.iter_rows(min_row=2)]
    assert {cell.value for cell in cells} == set(HOSTILE_NAMES)
    assert all(cell.data_type == "s" and cell.hyperlink is None for cell in cells)
    assert_no_formula(target)


def test_a_school_name_that_a_spreadsheet_would_run_is_refused(tmp_path: Path) -> None:
    names = tmp_path / "names.csv"
    names.write_text('school_id,name\n851001,=HYPERLINK("http://x")\n', encoding="utf-8")

    result = run("classify", DEMO, "--school-names", names, "-o", tmp_path / "out.xlsx")

    assert result.exit_code == 65
    assert "names.csv:2:2" in result.stderr
    assert "HYPERLINK" not in result.stderr
    assert not (tmp_path / "out.xlsx").exists()


@pytest.mark.parametrize("name", ["=1+1", "+1", "-1", "@SUM(A1)", '=HYPERLINK("x")'])
def test_the_writer_keeps_a_formula_shaped_name_as_text(name: str, tmp_path: Path) -> None:
    """Names are refused on reading; the writer would keep them text all the same."""
    frame = pl.LazyFrame({s.SCHOOL_ID: ["851001"], s.ABSENCE_PCT: [12.5]})
    shown = for_people(frame, lang="da", names={"851001": name}).collect()
    target = tmp_path / "w.xlsx"
    target.write_bytes(serialise_frame(shown, "xlsx"))

    cell = openpyxl.load_workbook(target).worksheets[0]["B2"]
    assert (cell.value, cell.data_type) == (name, "s")
    assert_no_formula(target)


def assert_no_formula(path: Path) -> None:
    with zipfile.ZipFile(path) as archive:
        for member in archive.namelist():
            if member.startswith("xl/worksheets/"):
                assert not re.search(rb"<f[ >]", archive.read(member)), member


# -- report.toml ----------------------------------------------------------------------------------

CONFIG = """\
output_folder = "out"
{extra}
[inputs]
paths = ["{export}"]

[[outputs]]
kind = "classification"
file = "klassifikation.xlsx"
"""


@pytest.mark.parametrize(
    ("extra", "first"),
    [
        ("", ["Elev", "Skole", "Klasse"]),
        ('lang = "en"', ["Pupil", "School", "Class"]),
        (f'school_names = "{NAMES}"', ["Elev", "Skole", "Skolenavn"]),
        ('headers = "snake"', ["pupil_id", "school_id", "class_name"]),
    ],
)
def test_report_classification_xlsx_follows_lang_headers_and_names(
    extra: str, first: list[str], tmp_path: Path
) -> None:
    config = tmp_path / "report.toml"
    config.write_text(CONFIG.format(extra=extra, export=DEMO), encoding="utf-8")

    result = run("report", "--config", config)

    assert result.exit_code == 0, result.output
    assert first_sheet(tmp_path / "out" / "klassifikation.xlsx").columns[:3] == first


# -- every contract column has a heading ----------------------------------------------------------

POLICY = load_policy("aalborg-2023")
CONTRACTS: dict[str, tuple[str, ...]] = {
    "classify": (*s.CLASSIFY_COLUMNS, *rule_columns(POLICY)),
    "trend": TREND_COLUMNS,
    "patterns": (*PATTERN_COLUMNS, *LESSON_PATTERN_COLUMNS),
    "early-warning": EARLY_WARNING_COLUMNS,
    "escalate": ESCALATE_COLUMNS,
    "check": s.CHECK_COLUMNS,
    "stats": tuple(contract_columns([s.SCHOOL_ID, s.GRADE, s.CLASS_NAME], POLICY)),
    "freshness": (s.SCHOOL_ID, s.SCHOOL_NAME, LATEST_DATE, DAYS_BEHIND),
}


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("contract", CONTRACTS)
def test_every_column_of_every_contract_has_its_own_heading(contract: str, lang: Lang) -> None:
    columns = CONTRACTS[contract]
    shown = headings(columns, lang)
    assert all(shown[c] != c for c in columns), [c for c in columns if shown[c] == c]
    assert len(set(shown.values())) == len(columns), shown
    assert headings(columns, lang, "snake") == {c: c for c in columns}


def test_headings_are_plain_text_for_a_spreadsheet() -> None:
    """A heading is our own text: none may begin like a formula or hold a control character."""
    for columns in CONTRACTS.values():
        for lang in LANGS:
            for text in headings(columns, lang).values():
                assert s.hostile_text_problem(text) is None, text


def test_a_column_without_a_word_keeps_its_name() -> None:
    assert heading("some_new_column", "da") == "some_new_column"
    assert list(for_people(pl.LazyFrame({"x_y": [1]}), lang="da").collect().columns) == ["x_y"]


def test_csv_keeps_the_machine_names_whatever_the_language() -> None:
    danish = run("classify", DEMO, "--format", "csv", "--lang", "da")
    english = run("classify", DEMO, "--format", "csv", "--lang", "en", "--headers", "lang")

    assert danish.stdout == english.stdout
    assert pl.read_csv(io.StringIO(danish.stdout)).columns[:2] == ["pupil_id", "school_id"]


# -- the name column against a plain loop ------------------------------------------------------

ids = st.sampled_from(["851001", "851002", "0851003", "ABC", ""])


@settings(max_examples=examples(100), deadline=None)
@given(
    schools=st.lists(st.one_of(st.none(), ids), max_size=12),
    names=st.dictionaries(ids, st.text(max_size=8), max_size=4),
    lang=st.sampled_from(LANGS),
    headers=st.sampled_from(["lang", "snake"]),
)
def test_for_people_equals_a_plain_loop(
    schools: list[str | None], names: dict[str, str], lang: Lang, headers: Headers
) -> None:
    """Each row keeps its values and its place; the name is the file's name for the id, or
    empty; the headings are the word table's (or the names, ``snake``)."""
    frame = pl.DataFrame(
        {
            s.PUPIL_ID: [f"{i:07d}" for i in range(len(schools))],
            s.SCHOOL_ID: schools,
            s.ABSENCE_PCT: [i / 3 for i in range(len(schools))],
        },
        schema={s.PUPIL_ID: pl.String, s.SCHOOL_ID: pl.String, s.ABSENCE_PCT: pl.Float64},
    )

    shown = for_people(frame.lazy(), lang=lang, headers=headers, names=names).collect()

    columns = [s.PUPIL_ID, s.SCHOOL_ID, *([s.SCHOOL_NAME] if names else []), s.ABSENCE_PCT]
    if headers == "lang":
        columns = [heading(c, lang) for c in columns]
    assert shown.columns == columns
    expected = []
    for row in frame.iter_rows():
        pupil, school, pct = row
        named = (names.get(school) if school is not None else None,) if names else ()
        expected.append((pupil, school, *named, pct))
    assert shown.rows() == expected
    assert shown.schema.dtypes()[-1] == pl.Float64
