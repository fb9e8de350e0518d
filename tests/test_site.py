"""`fravaer site` (docs/site.md): every figure on the pages is the commands' figure, and the
pages are private, escaped, self-contained and written as one unit.

The pages are read back with the standard library's HTML parser: tables by their ``id``, each
cell with its text and its exact ``data-value``. The figures they must equal come from the
commands' own machine output (``classify``, ``stats``, ``early-warning``, ``patterns`` and
``trend`` as CSV), not from the functions the site calls.
"""

from __future__ import annotations

import fnmatch
import html
import io
import math
import re
import stat
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner, Result

from fravaer.cli import app
from fravaer.ingest.files import bundled_meeting_template
from tests.harden import KEY_HEX

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "examples" / "demo-export.csv"
NAMES = ROOT / "examples" / "site" / "school-names.csv"
ERROR = "fravaer: error: "
TOKEN_PAGE = re.compile(r"[0-9a-f]{16}\.html")
STALE = "0123456789abcdef.html"


def run(*args: object) -> Result:
    return CliRunner().invoke(app, [str(arg) for arg in args])


def csv(*args: object) -> pl.DataFrame:
    result = run(*args, "--format", "csv")
    assert result.exit_code == 0, result.stderr
    return pl.read_csv(io.StringIO(result.stdout), infer_schema_length=None)


# -- reading pages --------------------------------------------------------------------------------


@dataclass
class Cell:
    text: str = ""
    value: str | None = None
    tag: str = "td"


@dataclass
class Row:
    attrs: dict[str, str | None]
    cells: list[Cell] = field(default_factory=list)


@dataclass
class Page:
    tables: dict[str, list[Row]] = field(default_factory=dict)
    texts: dict[str, str] = field(default_factory=dict)  # text of elements by id
    tags: list[str] = field(default_factory=list)
    links: list[str] = field(default_factory=list)
    text: str = ""


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.page = Page()
        self.table: str | None = None
        self.cell: Cell | None = None
        self.open_ids: list[tuple[str, str, list[str]]] = []  # tag, id, texts
        self.chunks: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        self.page.tags.append(tag)
        for name in ("href", "src"):
            if found.get(name) is not None:
                self.page.links.append(str(found[name]))
        if tag == "table":
            self.table = str(found.get("id"))
            self.page.tables[self.table] = []
        elif tag == "tr" and self.table is not None:
            self.page.tables[self.table].append(Row(found))
        elif tag in ("td", "th") and self.table is not None:
            self.cell = Cell(value=found.get("data-value"), tag=tag)
            self.page.tables[self.table][-1].cells.append(self.cell)
        if found.get("id") is not None and tag not in ("table", "svg", "title", "desc"):
            self.open_ids.append((tag, str(found["id"]), []))

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self.table = None
        if tag in ("td", "th"):
            self.cell = None
        if self.open_ids and self.open_ids[-1][0] == tag:
            _, name, texts = self.open_ids.pop()
            self.page.texts[name] = "".join(texts).strip()

    def handle_data(self, data: str) -> None:
        self.chunks.append(data)
        if self.cell is not None:
            self.cell.text += data
        for _, _, texts in self.open_ids:
            texts.append(data)


def read_page(path: Path) -> Page:
    reader = _Reader()
    reader.feed(path.read_text(encoding="utf-8"))
    reader.close()
    reader.page.text = "".join(reader.chunks)
    return reader.page


def body(page: Page, table: str) -> list[Row]:
    """The rows of a table that carry cells (the heading row left out)."""
    return [
        row for row in page.tables[table] if row.cells and row.cells[0].tag == "th" and row.attrs
    ]


def values(row: Row) -> list[float | None]:
    return [float(c.value) if c.value else None for c in row.cells if c.value is not None]


def close(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


# -- the site of the example ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def key(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("key") / "token.key"
    path.write_text(KEY_HEX)
    path.chmod(0o600)
    return path


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, key: Path) -> Path:
    out = tmp_path_factory.mktemp("site") / "out"
    (out / "851001").mkdir(parents=True)  # an earlier run's folders, as fravaer makes them
    out.chmod(0o700)
    (out / "851001").chmod(0o700)
    (out / "851001" / STALE).write_text("an earlier run's page of a pupil no longer listed")
    (out / "851001" / "notes.txt").write_text("someone else's file")
    result = run("site", DEMO, "-o", out, "--school-names", NAMES, "--key-file", key)
    assert result.exit_code == 0, result.output
    assert "removed 1 page(s) of pupils no longer listed" in result.stderr
    return out


@pytest.fixture(scope="module")
def classified() -> pl.DataFrame:
    return csv("classify", DEMO)


@pytest.fixture(scope="module")
def listed(classified: pl.DataFrame) -> pl.DataFrame:
    flagged = pl.col("quarter_flag").is_in(["warn_parents", "notify_municipality"])
    return classified.filter((pl.col("step") >= 1) | flagged)


def school_folders(site: Path) -> list[Path]:
    return sorted(p for p in site.iterdir() if p.is_dir())


def pupil_pages(site: Path) -> dict[str, Path]:
    """Each listed pupil's page, found by its content (the meeting sheet's pupil line)."""
    pages = {}
    for path in site.glob("*/*.html"):
        if path.name != "index.html":
            found = re.search(r"<dd>([^<]*)</dd>", path.read_text(encoding="utf-8"))
            assert found is not None, path
            pages[found[1]] = path
    return pages


# -- consistency ----------------------------------------------------------------------------------


def test_the_municipality_page_is_stats_by_school_suppressed(site: Path) -> None:
    stats = csv("stats", DEMO, "--by", "school")
    page = read_page(site / "index.html")
    rows = page.tables["schools"]
    shown = {row.attrs["data-school"]: row for row in rows if "data-school" in row.attrs}

    assert len(shown) == stats.height
    for expected in stats.iter_rows(named=True):
        row = shown[str(expected["school_id"] or "")]
        if expected["suppressed"]:
            assert [c.text for c in row.cells][1] == "skjult"
            continue
        got = values(row)
        wanted = [
            expected["pupils"],
            expected["pupils_step_1"],
            expected["pupils_step_2"],
            expected["pupils_step_3"],
            expected["absence_pct"],
            expected["pupils_over_10"],
            expected["share_over_10"],
        ]
        assert all(close(a, b) for a, b in zip(got, wanted, strict=False)), (got, wanted)
    assert "Vestre Skole" in page.text
    assert re.search(r"Landsplan \(\d{4}/\d{2}\): [\d,]+ % af eleverne over 10 %", page.text)


def test_the_municipality_page_hides_small_schools(tmp_path: Path, key: Path) -> None:
    frame = pl.read_csv(DEMO, infer_schema_length=None, schema_overrides={"pupil_id": pl.String})
    small = frame.filter(
        (pl.col("school_id") != 851003) | (pl.col("pupil_id").str.slice(-2).cast(pl.Int32) < 8)
    )
    export = tmp_path / "small.csv"
    small.write_csv(export)
    out = tmp_path / "out"
    stats = csv("stats", export, "--by", "school")

    result = run("site", export, "-o", out, "--key-file", key)

    assert result.exit_code == 0, result.output
    page = read_page(out / "index.html")
    hidden = {r.attrs["data-school"] for r in page.tables["schools"] if "skjult" in str(r.cells)}
    expected = {str(s or "") for s in stats.filter(pl.col("suppressed"))["school_id"].to_list()}
    assert "851003" in hidden
    assert hidden == expected


def test_each_school_lists_classify_s_pupils(site: Path, listed: pl.DataFrame) -> None:
    for folder in school_folders(site):
        page = read_page(folder / "index.html")
        own = listed.filter(pl.col("school_id").cast(pl.String) == folder.name)
        rows = {r.attrs["data-pupil"]: r for r in body(page, "pupils")}

        assert sorted(rows) == sorted(own["pupil_id"].cast(pl.String).str.zfill(7).to_list())
        for expected in own.iter_rows(named=True):
            row = rows[str(expected["pupil_id"]).zfill(7)]
            got = values(row)
            wanted = [
                expected["step"],
                expected["absent_days"],
                expected["window_days"],
                expected["absence_pct"],
                expected["quarter_unlawful_pct"],
            ]
            assert all(close(a, b) for a, b in zip(got, wanted, strict=True)), (got, wanted)


def test_who_is_responsible_includes_the_school_leader_for_a_quarter_flag(
    tmp_path: Path, key: Path
) -> None:
    """On 31 January the quarter rule flags pupils, two of them below step 1: their row names
    the school leader (the quarter rule's role) rather than no one, and a flagged pupil at a
    step names both roles, as ``escalate``'s ``responsible`` joins them."""
    out = tmp_path / "out"
    result = run("site", DEMO, "-o", out, "--key-file", key, "--as-of", "2024-01-31")
    assert result.exit_code == 0, result.output
    classified = csv("classify", DEMO, "--as-of", "2024-01-31")
    roles = {1: "Klasseteamet", 2: "Tovholder", 3: "Tovholder"}
    flagged = 0
    for expected in classified.iter_rows(named=True):
        flag = expected["quarter_flag"] in ("warn_parents", "notify_municipality")
        if expected["step"] is None or not (expected["step"] >= 1 or flag):
            continue
        page = read_page(out / str(expected["school_id"]) / "index.html")
        rows = {r.attrs["data-pupil"]: r for r in body(page, "pupils")}
        shown = rows[str(expected["pupil_id"]).zfill(7)].cells[-1].text
        wanted = [roles[expected["step"]]] if expected["step"] else []
        wanted += ["Skolelederen"] if flag else []
        assert shown == ", ".join(wanted), (expected["pupil_id"], shown)
        flagged += flag
    assert flagged == 3  # 0000123 and 0000499 at step 0, 0000128 at step 3
    sheets = pupil_pages(out)
    for pupil, wanted_role in (("0000123", "Skolelederen"), ("0000128", "Tovholder, Skolelederen")):
        text = sheets[pupil].read_text(encoding="utf-8")
        assert f"<dt>Ansvarlig</dt><dd>{wanted_role}</dd>" in text, pupil


def test_each_school_s_early_warning_is_the_command_s(site: Path) -> None:
    warned = csv("early-warning", DEMO)
    for folder in school_folders(site):
        page = read_page(folder / "index.html")
        own = warned.filter(pl.col("school_id").cast(pl.String) == folder.name)
        rows = body(page, "early-warning") if "early-warning" in page.tables else []

        assert [r.attrs["data-pupil"] for r in rows] == [
            str(p).zfill(7) for p in own["pupil_id"].to_list()
        ]
        for row, expected in zip(rows, own.iter_rows(named=True), strict=True):
            assert close(values(row)[0], expected["absence_pct"])
            assert close(values(row)[1], expected["recent_pct"])


def test_each_school_s_classes_are_stats_by_class(site: Path) -> None:
    stats = csv("stats", DEMO, "--by", "class", "--no-suppression")
    for folder in school_folders(site):
        page = read_page(folder / "index.html")
        own = stats.filter(pl.col("school_id").cast(pl.String) == folder.name)
        rows = {r.attrs["data-group"]: r for r in body(page, "classes")}

        assert sorted(rows) == sorted(own["class_name"].to_list())
        for expected in own.iter_rows(named=True):
            got = values(rows[expected["class_name"]])
            assert close(got[0], expected["pupils"])
            assert close(got[-1], expected["share_over_10"])


def test_a_pupil_s_page_is_trend_patterns_and_classify(site: Path, listed: pl.DataFrame) -> None:
    pages = pupil_pages(site)
    found = csv("patterns", DEMO, "--all")
    assert sorted(pages) == sorted(str(p).zfill(7) for p in listed["pupil_id"].to_list())
    for pupil in ["0000005", *sorted(pages)[::40]]:
        page = read_page(pages[pupil])
        trend = csv("trend", DEMO, "--pupil", pupil)
        weeks = page.tables["weeks"][1:]
        row = listed.filter(pl.col("pupil_id").cast(pl.String).str.zfill(7) == pupil).row(
            0, named=True
        )

        assert [r.cells[0].text for r in weeks] == trend["week_end"].to_list()
        for shown, expected in zip(weeks, trend.iter_rows(named=True), strict=True):
            wanted = [
                expected["absence_pct"],
                expected["step"],
                expected["absent_days_week"],
                expected["school_days_week"],
            ]
            assert all(close(a, b) for a, b in zip(values(shown), wanted, strict=True))
        days = f"{math.floor(row['absent_days'] * 10 + 1e-9) / 10:.1f}".replace(".", ",")
        assert page.texts["headline"].startswith(f"{days.removesuffix(',0')} fraværsdage af de ")
        assert page.texts["headline"].endswith(
            f"— trin {row['step']}" if row["step"] else "— under trin 1"
        )
        weekday = found.filter(pl.col("pupil_id").cast(pl.String).str.zfill(7) == pupil)
        wanted_days = [weekday[f"{d}_pct"][0] for d in ("monday", "tuesday", "wednesday")]
        got_days = values(page.tables["weekdays"][1])[:3]
        assert all(close(a, b) for a, b in zip(got_days, wanted_days, strict=True))


WEEK_ROW = r'<tr><th scope="row">(\d{4}-\d\d-\d\d)</th>(.*?)</tr>'


def test_the_meeting_sheet_shows_each_week_as_the_page_above_it_does(site: Path) -> None:
    """One weekly figure everywhere: a week's row on the meeting sheet reads exactly as the
    same week's row in the table beside the chart, on every pupil's page of the example (the
    sheet once rounded to nearest where the page rounds down: 19,7 % under 19,6 %)."""
    compared = 0
    for path in pupil_pages(site).values():
        text = path.read_text(encoding="utf-8")
        top, sheet = text.split('id="meeting"', 1)
        above = dict(re.findall(WEEK_ROW, top))
        for week, cells in re.findall(WEEK_ROW, sheet):
            shown = re.findall(r"<td[^>]*>([^<]*)</td>", above[week])
            assert re.findall(r"<td>([^<]*)</td>", cells) == shown, (path.name, week)
            compared += 1
    assert compared > 500


def test_the_sentence_for_parents_is_trend_s(site: Path) -> None:
    page = read_page(pupil_pages(site)["0000005"])
    result = run("trend", DEMO, "--pupil", "0000005", "--format", "table")

    assert page.texts["summary"] in " ".join(result.stdout.split())
    assert page.texts["headline"] == "21 fraværsdage af de seneste 100 skoledage — trin 3"


def _pages(site: Path) -> Iterator[Path]:
    yield from sorted(site.rglob("*.html"))


def test_every_shown_number_is_its_value_rounded_toward_zero_with_a_decimal_comma(
    site: Path,
) -> None:
    checked = 0
    for path in [site / "index.html", site / "851001" / "index.html"]:
        for rows in read_page(path).tables.values():
            for row in rows:
                for cell in row.cells:
                    if not cell.value:
                        continue
                    value = float(cell.value)
                    text = cell.text.removesuffix(" %")
                    if "." in cell.value:
                        tenths = math.floor(abs(value) * 10 + 1e-9) * (-1 if value < 0 else 1)
                        shown = f"{tenths / 10:.1f}" if tenths else "0.0"
                        assert text == shown.replace(".", ",")
                    else:
                        assert text == cell.value
                    checked += 1
    assert checked > 100


def test_every_page_names_the_date_the_policy_and_the_school(site: Path) -> None:
    for path in _pages(site):
        text = read_page(path).text
        assert "2024-03-08" in text, path
        assert "aalborg-2023" in text, path
        if path.parent != site:
            assert {"851001": "Vestre Skole", "851002": "Østre Skole", "851003": "Nordre Skole"}[
                path.parent.name
            ] in text


def test_a_pupil_s_page_has_the_chart_and_the_meeting_sheet(site: Path) -> None:
    text = pupil_pages(site)["0000005"].read_text(encoding="utf-8")

    assert re.search(r'<svg [^>]*role="img" aria-labelledby="chart-title chart-desc"', text)
    assert "<polyline points=" in text
    assert text.count('class="question"') == 3
    for question in ("Hvad fungerer?", "Hvad fungerer ikke?", "Hvad skal der ske?"):
        assert f". {question}</h4>" in text
    assert "Hvilke beskyttelsesfaktorer tilføjer det barnet?" in text
    assert "section.meeting.new-page { break-before: page;" in text
    assert '<section class="meeting new-page" id="meeting">' in text


def test_the_english_questions_mirror_the_danish() -> None:
    template = bundled_meeting_template()
    da, en = template.questions("da"), template.questions("en")

    assert [len(q.sub_questions) for q in da] == [len(q.sub_questions) for q in en] == [4, 3, 3]
    assert [q.question for q in en] == [
        "What works?",
        "What does not work?",
        "What needs to happen?",
    ]


# -- privacy and self-containment -----------------------------------------------------------------


def test_no_name_holds_a_pupil_id_and_modes_are_private(
    site: Path, classified: pl.DataFrame
) -> None:
    ids = {str(p).zfill(7) for p in classified["pupil_id"].to_list()}
    for path in [site, *site.rglob("*")]:
        assert not any(pupil in path.name for pupil in ids), path
        if path.name == "notes.txt":
            continue  # not ours
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode == (0o700 if path.is_dir() else 0o600), (path, oct(mode))


def test_no_school_s_pupil_is_in_another_school_s_folder(
    site: Path, classified: pl.DataFrame
) -> None:
    school_of = {
        str(p).zfill(7): str(s) for p, s in classified.select("pupil_id", "school_id").iter_rows()
    }
    pages = pupil_pages(site)
    assert pages
    for pupil, path in pages.items():
        assert path.parent.name == school_of[pupil]
    for folder in school_folders(site):
        text = " ".join(read_page(p).text for p in folder.glob("*.html"))
        shown = set(re.findall(r"\b\d{7}\b", text))
        assert shown
        assert {p for p in shown if p in school_of and school_of[p] != folder.name} == set()


def test_pages_fetch_nothing_and_run_nothing(site: Path) -> None:
    for path in _pages(site):
        page = read_page(path)
        assert not {"script", "link", "img", "iframe", "object"} & set(page.tags)
        text = path.read_text(encoding="utf-8")
        assert "url(" not in text
        assert "@import" not in text
        for link in page.links:
            assert not re.match(r"[a-z]+:|//", link), (path, link)
            assert (path.parent / link).resolve().is_file(), (path, link)


def test_an_earlier_page_of_a_pupil_no_longer_listed_is_removed(site: Path) -> None:
    assert not (site / "851001" / STALE).exists()
    assert (site / "851001" / "notes.txt").read_text() == "someone else's file"


# -- hostile text ---------------------------------------------------------------------------------

HOSTILE = ["<script>alert(1)</script>", "{{7*7}}", "<img src=x onerror=alert(1)>"]


def _small(tmp_path: Path, *, classes: dict[str, str] | None = None) -> Path:
    """The example's first 60 pupils (fast), with some classes renamed."""
    frame = pl.read_csv(DEMO, infer_schema_length=None, schema_overrides={"pupil_id": pl.String})
    frame = frame.filter(pl.col("pupil_id") <= "0000060")
    if classes:
        frame = frame.with_columns(pl.col("class_name").replace(classes))
    path = tmp_path / "small.csv"
    frame.write_csv(path)
    return path


def test_hostile_school_and_class_names_are_shown_escaped(tmp_path: Path, key: Path) -> None:
    classified = csv("classify", _small(tmp_path))
    listed = classified.filter(pl.col("step") >= 1)
    classes = sorted(set(listed["class_name"].to_list()))[:3]
    export = _small(tmp_path, classes=dict(zip(classes, HOSTILE, strict=True)))
    names = tmp_path / "names.csv"
    names.write_text(
        'school_id,name\n851001,"<script>alert(1)</script>"\n851002,{{7*7}}\n', encoding="utf-8"
    )
    out = tmp_path / "out"

    result = run("site", export, "-o", out, "--school-names", names, "--key-file", key)

    assert result.exit_code == 0, result.output
    seen: set[str] = set()
    for path in _pages(out):
        page = read_page(path)
        text = path.read_text(encoding="utf-8")
        assert not {"script", "img"} & set(page.tags), path
        assert "<script>" not in text
        assert "<img" not in text
        assert "49" not in page.texts.values()
        seen |= {h for h in HOSTILE if h in page.text}
    assert seen == set(HOSTILE)
    school = read_page(out / "851001" / "index.html")
    assert "<script>alert(1)</script> · " in school.text or "<script>alert(1)</script>" in (
        school.text
    )
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in (out / "index.html").read_text("utf-8")
    assert "{{7*7}}" in read_page(out / "index.html").text


def test_a_hostile_school_names_file_is_refused_with_its_line(tmp_path: Path) -> None:
    names = tmp_path / "names.csv"
    names.write_text("school_id,name\n851001,Vestre\n851002,=HYPERLINK(1)\n", encoding="utf-8")

    result = run("site", DEMO, "-o", tmp_path / "out", "--school-names", names)

    assert result.exit_code == 65
    assert result.stderr == (
        f"{ERROR}{names}:3:2 (column 'name'): text begins with =, +, - or @, which a "
        "spreadsheet would run as a formula\n"
    )
    assert not (tmp_path / "out").exists()


def test_a_missing_school_names_file_is_exit_66(tmp_path: Path) -> None:
    result = run("site", DEMO, "-o", tmp_path / "out", "--school-names", tmp_path / "no.csv")

    assert result.exit_code == 66, result.output
    assert not (tmp_path / "out").exists()


# -- school names from the export -----------------------------------------------------------------


def _named_export(
    tmp_path: Path, column: str, names: dict[str, str], *, suffix: str = "csv"
) -> Path:
    """The demo export with a column ``column`` naming each school: ``names[school]``, and for
    851002 an older name on the rows before 2024-01-01 (a school renamed during the year)."""
    frame = pl.read_csv(DEMO, infer_schema=False).with_columns(
        pl.when((pl.col("school_id") == "851002") & (pl.col("date") < "2024-01-01"))
        .then(pl.lit("Gamle Skole"))
        .otherwise(pl.col("school_id").replace_strict(names, default=None))
        .alias(column)
    )
    path = tmp_path / f"named.{suffix}"
    typed = frame.with_columns(
        pl.col("date").str.to_date(),
        pl.col("absent_fraction").cast(pl.Float64),
        pl.col("grade").cast(pl.Int8),
    )
    if suffix == "parquet":
        typed.write_parquet(path)
    elif suffix == "hive":  # a folder per school
        typed.write_parquet(path, partition_by="school_id")
    else:
        frame.write_csv(path)
    return path


def _h1(path: Path) -> str:
    found = re.search(r"<h1>(.*?)</h1>", path.read_text(encoding="utf-8"))
    assert found is not None, path
    return html.unescape(found.group(1))


SCHOOLS = {"851001": "Vestre Skole", "851002": "Østre Skole", "851003": "Nordre Skole"}


@pytest.mark.parametrize(
    ("column", "suffix"),
    [("Skolenavn", "csv"), ("school_name", "parquet"), ("school_name", "hive")],
)
def test_a_school_name_column_names_the_schools(
    tmp_path: Path, key: Path, column: str, suffix: str
) -> None:
    export = _named_export(tmp_path, column, SCHOOLS, suffix=suffix)
    out = tmp_path / "out"

    result = run("site", export, "-o", out, "--key-file", key)

    assert result.exit_code == 0, result.output
    for school, name in SCHOOLS.items():
        assert _h1(out / school / "index.html") == name
        assert f"{name} ({school})" in read_page(out / "index.html").text
    assert "Gamle Skole" not in (out / "index.html").read_text("utf-8")  # the newest name
    warnings = [line for line in result.stderr.splitlines() if "school-name column" in line]
    assert warnings == [
        "fravaer: warning: 1 school(s) have more than one name in the exports' school-name "
        "column; each is shown by its name on its latest date"
    ]
    assert "Skole" not in result.stderr.replace("school-name", "")  # counts, never a name


def test_a_school_names_file_has_the_last_word_over_the_column(tmp_path: Path, key: Path) -> None:
    export = _named_export(tmp_path, "skolenavn", SCHOOLS)
    names = tmp_path / "names.csv"
    names.write_text("institutionsnummer;navn\n851001;Vestre Skole og SFO\n", encoding="utf-8")
    out = tmp_path / "out"

    result = run("site", export, "-o", out, "--school-names", names, "--key-file", key)

    assert result.exit_code == 0, result.output
    assert _h1(out / "851001" / "index.html") == "Vestre Skole og SFO"
    assert _h1(out / "851003" / "index.html") == "Nordre Skole"


def test_a_column_of_names_that_is_not_the_school_s_never_reaches_a_page(
    tmp_path: Path, key: Path
) -> None:
    # "navn" or "name" alone is as likely the pupil's name: it is dropped unread, not shown.
    export = _named_export(tmp_path, "navn", {"851001": "Ida Hansen", "851002": "Ida Hansen"})
    out = tmp_path / "out"

    result = run("site", export, "-o", out, "--key-file", key)

    assert result.exit_code == 0, result.output
    assert _h1(out / "851001" / "index.html") == "851001"
    for path in _pages(out):
        assert "Ida Hansen" not in path.read_text("utf-8"), path


def test_a_hostile_name_in_the_school_name_column_is_refused_with_its_line(tmp_path: Path) -> None:
    export = _named_export(tmp_path, "skolenavn", SCHOOLS | {"851003": "=HYPERLINK(1)"})
    line = 2 + pl.read_csv(DEMO, infer_schema=False)["school_id"].to_list().index("851003")

    result = run("site", export, "-o", tmp_path / "out")

    assert result.exit_code == 65
    assert result.stderr == (
        f"{ERROR}{export}:{line}:8 (column 'skolenavn'): text begins with =, +, - or @, which "
        "a spreadsheet would run as a formula\n"
    )
    assert not (tmp_path / "out").exists()


# -- a failed run writes nothing ------------------------------------------------------------------


def test_bad_input_writes_nothing(tmp_path: Path) -> None:
    result = run("site", ROOT / "examples" / "bad" / "unknown-category.csv", "-o", tmp_path / "o")

    assert result.exit_code == 65, result.output
    assert list(tmp_path.iterdir()) == []


def test_a_failed_write_leaves_no_file_and_no_folder(tmp_path: Path, key: Path) -> None:
    out = tmp_path / "out"
    (out / "index.html").mkdir(parents=True)  # nothing can be renamed over a folder

    result = run("site", _small(tmp_path), "-o", out, "--key-file", key)

    assert result.exit_code == 73, result.output
    assert result.stderr.splitlines()[-1] == (
        f"{ERROR}{out}: 1 of 1 file(s): is a folder; fravaer writes only regular files"
    )
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*")) == ["index.html"]


def test_an_output_that_is_a_file_is_refused_before_any_work(tmp_path: Path) -> None:
    (tmp_path / "out").write_text("x")

    result = run("site", DEMO, "-o", tmp_path / "out")

    assert result.exit_code == 73
    assert result.stderr == f"{ERROR}{tmp_path / 'out'}: is not a folder; site writes a folder\n"


def test_rows_dated_after_today_change_no_page(tmp_path: Path, key: Path) -> None:
    plain = _small(tmp_path)
    future = tmp_path / "future.csv"
    future.write_text(
        plain.read_text() + "0000043,851001,2204-03-08,unlawful,1.0,5,5.A\n", encoding="utf-8"
    )

    first = run("site", plain, "-o", tmp_path / "a", "--key-file", key)
    second = run("site", future, "-o", tmp_path / "b", "--key-file", key)

    assert first.exit_code == second.exit_code == 0, second.output
    assert "dated after today" in second.stderr
    pages_a = {p.relative_to(tmp_path / "a"): p.read_bytes() for p in _pages(tmp_path / "a")}
    pages_b = {p.relative_to(tmp_path / "b"): p.read_bytes() for p in _pages(tmp_path / "b")}
    assert len(pages_a) > 3
    assert pages_a == pages_b
    for path in [tmp_path / "b", *(tmp_path / "b").rglob("*")]:  # all made by this run
        assert stat.S_IMODE(path.stat().st_mode) == (0o700 if path.is_dir() else 0o600), path


def test_every_template_is_shipped_in_the_package() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    shipped = config["tool"]["setuptools"]["package-data"]["fravaer"]
    templates = sorted((ROOT / "src" / "fravaer" / "templates").iterdir())

    assert {p.suffix for p in templates} >= {".html", ".md"}
    for path in templates:
        name = path.relative_to(ROOT / "src" / "fravaer").as_posix()
        assert any(fnmatch.fnmatch(name, pattern) for pattern in shipped), name


def test_a_school_id_that_names_the_index_or_a_windows_device_gets_its_own_folder(
    tmp_path: Path, key: Path
) -> None:
    frame = pl.read_csv(DEMO, infer_schema_length=None, schema_overrides={"pupil_id": pl.String})
    frame = frame.filter(pl.col("pupil_id") <= "0000200").with_columns(
        pl.col("school_id").cast(pl.String).replace({"851001": "index.html", "851002": "nul"})
    )
    export = tmp_path / "awkward.csv"
    frame.write_csv(export)
    out = tmp_path / "out"

    result = run("site", export, "-o", out, "--key-file", key)

    assert result.exit_code == 0, result.output
    assert (out / "index.html").is_file()
    folders = sorted(p.name for p in out.iterdir() if p.is_dir())
    assert [re.sub(r"-[0-9a-f]{8}$", "-HASH", name) for name in folders] == [
        "851003",
        "index.html-HASH",
        "nul-HASH",
    ]
    links = read_page(out / "index.html").links
    assert sorted(links) == sorted(f"{name}/index.html" for name in folders)


def test_english_pages_say_the_same_in_english(tmp_path: Path, key: Path) -> None:
    out = tmp_path / "out"

    result = run("site", _small(tmp_path), "-o", out, "--lang", "en", "--key-file", key)

    assert result.exit_code == 0, result.output
    pages = [p for p in out.glob("*/*.html") if p.name != "index.html"]
    assert pages
    text = pages[0].read_text(encoding="utf-8")
    page = read_page(pages[0])
    assert text.startswith('<!DOCTYPE html>\n<html lang="en">')
    assert re.fullmatch(
        r"[\d.]+ absent days of the latest \d+ school days — (step \d|below step 1)",
        page.texts["headline"],
    )
    assert "1. What works?" in page.text
    assert "Which protective factors does it add for the child?" in page.text
    assert "fraværsdage" not in page.text
    municipality = read_page(out / "index.html")
    assert "All schools" in municipality.text
    assert municipality.texts["stale"] == (  # the first 60 pupils: 851003's latest are early
        "851003: 13 school days behind: the figures may be stale"
    )


def test_a_flagged_pupil_s_actions_say_what_the_quarter_rule_requires_and_of_whom(
    tmp_path: Path, key: Path
) -> None:
    """On 31 January the quarter rule flags pupils at step 0: their page's actions say what is to
    be done and by whom, in the national policy's own words (docs/policies.md), not that the
    rule "may" require something. A pupil to notify of has passed the parents' warning too, so
    gets both steps' actions. A flagged pupil at a step keeps the guideline's actions only (the
    rule's duty is in its quarter paragraph and among those responsible)."""
    from fravaer.ingest.policy import load_policy

    out = tmp_path / "out"
    result = run("site", DEMO, "-o", out, "--key-file", key, "--as-of", "2024-01-31")
    assert result.exit_code == 0, result.output
    rule = load_policy("national-unlawful")
    level = {st.label: st.step for st in rule.steps}
    classified = csv("classify", DEMO, "--as-of", "2024-01-31")
    pages = pupil_pages(out)
    seen = set()
    for expected in classified.iter_rows(named=True):
        pupil = str(expected["pupil_id"]).zfill(7)
        if pupil not in pages:
            continue
        page = read_page(pages[pupil])
        flag = expected["quarter_flag"]
        top = level.get(flag, 0) if expected["step"] == 0 else 0
        heading = "Det kræver kvartalsreglen ved"
        if top == 0:
            assert heading not in page.text, pupil
            continue
        (limit,) = [st.when.at_least for st in rule.steps if st.step == top]  # type: ignore[union-attr]
        assert f"{heading} ≥ {limit.normalize():f} % · Skolelederen" in page.text, pupil
        for st in rule.steps:
            (action,) = st.actions("da")
            # the page's actions and the meeting sheet's, or neither
            assert page.text.count(action) == (2 if st.step <= top else 0), pupil
        assert "kan gøre det" not in page.text, pupil
        assert "men kvartalsreglen gør" in page.text, pupil
        seen.add(flag)
    assert seen == {"warn_parents", "notify_municipality"}
