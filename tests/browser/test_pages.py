"""`fravaer site` in a real browser: headless Chromium renders pages of the example (docs/site.md).

Run by ``make test-browser``, never by ``make test`` (the ``browser`` marker is deselected
there): it needs Debian's ``chromium`` (and ``fonts-dejavu`` for æøå), which this test drives
through the ``playwright`` package with ``executable_path``; it downloads and installs nothing.
``FRAVAER_CHROMIUM`` names another binary. ``FRAVAER_SCREENSHOTS=DIR`` also saves the
screenshots there (``docs/site-*.png``). The site is made with ``--since``, so that a school's
page shows its escalations, improvements and agenda.

Each page must load with no console message of type error and no page error, fetch nothing
(the only request is the page itself), show its key texts, print on A4, and the pupil's
meeting sheet must start on a page of its own and fit on it (the example pupil's page prints
on two A4 pages: the facts, then the sheet).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from html import unescape
from pathlib import Path

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Request, sync_playwright
from typer.testing import CliRunner

from fravaer.cli import app
from tests.harden import KEY_HEX

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "examples" / "demo-export.csv"
NAMES = ROOT / "examples" / "site" / "school-names.csv"
CHROMIUM = Path(os.environ.get("FRAVAER_CHROMIUM", "/usr/bin/chromium"))
A4 = (595, 842)  # points, rounded
PUPIL = "0000005"
MEETING = "Mødeark"
SHOT_HEIGHT = 1100  # the screenshots show the top of a page, at most this many pixels
SINCE = "2024-02-09"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("site")
    key = folder / "token.key"
    key.write_text(KEY_HEX)
    key.chmod(0o600)
    out = folder / "out"
    result = CliRunner().invoke(
        app,
        [
            "site",
            str(DEMO),
            "-o",
            str(out),
            "--school-names",
            str(NAMES),
            "--key-file",
            str(key),
            "--since",
            SINCE,
        ],
    )
    assert result.exit_code == 0, result.output
    return out


def dossier(site: Path) -> Path:
    return next(p for p in site.glob("*/*.html") if f"<dd>{PUPIL}</dd>" in p.read_text("utf-8"))


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.is_file():
        pytest.fail(
            f"{CHROMIUM} is missing: apt-get install chromium fonts-dejavu (or set "
            "FRAVAER_CHROMIUM)",
            pytrace=False,
        )
    args = ["--no-sandbox"] if os.geteuid() == 0 else []  # Chromium's sandbox refuses root
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=args)
        yield launched
        launched.close()


@dataclass
class Rendered:
    text: str
    png: bytes
    pdf: bytes
    requests: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    shots: dict[str, bytes] = field(default_factory=dict)


def render(browser: Browser, path: Path, *, sections: tuple[str, ...] = ()) -> Rendered:
    """``path`` rendered: its text, the top of the page as PNG, the page printed to A4 PDF, and
    a PNG of each element of ``sections`` (CSS selectors) in :attr:`Rendered.shots`."""
    page = browser.new_page(viewport={"width": 900, "height": 1100})
    requests: list[str] = []
    errors: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            errors.append(message.text)

    def on_request(request: Request) -> None:
        requests.append(request.url)

    page.on("console", on_console)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("request", on_request)
    page.goto(path.as_uri(), wait_until="load")
    text = page.inner_text("body")
    bottom = page.evaluate("document.querySelector('footer').getBoundingClientRect().bottom")
    height = min(int(bottom) + 24, SHOT_HEIGHT)
    png = page.screenshot(full_page=True, clip={"x": 0, "y": 0, "width": 900, "height": height})
    shots = {selector: page.locator(selector).screenshot() for selector in sections}
    pdf = page.pdf(format="A4", print_background=True, prefer_css_page_size=True)
    page.close()
    return Rendered(text, png, pdf, requests, errors, shots)


def pdf_pages(pdf: bytes, tmp_path: Path) -> list[str]:
    """The text of each page of ``pdf`` (poppler's pdftotext), and every page A4 (pdfinfo)."""
    if shutil.which("pdftotext") is None or shutil.which("pdfinfo") is None:
        pytest.fail("pdftotext and pdfinfo are missing: apt-get install poppler-utils")
    path = tmp_path / "page.pdf"
    path.write_bytes(pdf)
    info = subprocess.run(
        ["pdfinfo", "-l", "-1", str(path)], capture_output=True, text=True, check=True
    ).stdout
    sizes = re.findall(r"Page\s+\d+ size:\s+([\d.]+) x ([\d.]+) pts", info)
    assert sizes
    assert {(round(float(w)), round(float(h))) for w, h in sizes} == {A4}
    text = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    return text.split("\f")[: len(sizes)]


def keep(name: str, png: bytes) -> None:
    folder = os.environ.get("FRAVAER_SCREENSHOTS")
    if folder:
        (Path(folder) / name).write_bytes(png)


def assert_quiet(rendered: Rendered, path: Path) -> None:
    assert rendered.errors == []
    assert rendered.requests == [path.as_uri()], "a page may fetch nothing but itself"
    assert rendered.png.startswith(b"\x89PNG")
    assert rendered.pdf.startswith(b"%PDF")


def test_the_municipality_page(browser: Browser, site: Path, tmp_path: Path) -> None:
    path = site / "index.html"
    rendered = render(browser, path, sections=("#periods",))

    assert_quiet(rendered, path)
    for text in (
        "Alle skoler",
        "Vestre Skole",
        "Østre Skole",
        "Kommunen",
        "2024-03-08",
        "Udvikling: andel elever over 10 % fravær",
        "Andel elever over 10 % fravær i kommunen: 28,9 % i aug.–sep. 2023;",
        "Data pr. skole",
    ):
        assert text in rendered.text
    assert re.search(r"Landsplan \(\d{4}/\d{2}\): [\d,]+ %", rendered.text)
    pages = pdf_pages(rendered.pdf, tmp_path)
    assert len(pages) <= 2
    assert "aalborg-2023" in pages[0]
    assert "Skoleåret 2023/24 i kvartaler til og med 2024-03-08" in "".join(pages)
    keep("site-municipality.png", rendered.png)


def test_a_school_page(browser: Browser, site: Path, tmp_path: Path) -> None:
    path = site / "851001" / "index.html"
    rendered = render(browser, path, sections=("#changes", "#agenda-section"))

    assert_quiet(rendered, path)
    for text in (
        "Vestre Skole",
        PUPIL,
        "Tovholder",
        "Tidlig varsling",
        "Klasser og klassetrin",
        f"Ændringer siden {SINCE}",
        "Det kræver handlevejledningen af de nye trin",
        "Forbedringer",
        "Dagsorden til Samrum / fraværskonference",
    ):
        assert text in rendered.text
    pages = pdf_pages(rendered.pdf, tmp_path)
    assert all("2024-03-08" in page or not page.strip() for page in pages[:1])
    keep("site-school.png", rendered.png)
    keep("site-changes.png", rendered.shots["#changes"])
    keep("site-agenda.png", rendered.shots["#agenda-section"])


def _said(html: str) -> str:
    """Text as a PDF's text layer gives it: tags and entities gone, spaces collapsed."""
    return " ".join(unescape(re.sub(r"<[^>]+>", "", html)).split())


@pytest.mark.parametrize("school", ["851001", "851002", "851003"])
def test_a_school_page_prints_no_heading_alone_at_a_page_s_foot(
    browser: Browser, site: Path, tmp_path: Path, school: str
) -> None:
    """Printed, no page ends with a heading or with the note that introduces a table: each
    stays with what it is about. (Every table kept whole once pushed a school's list, its
    heading and its note to the next page, and left the first page empty but for the title.)"""
    path = site / school / "index.html"
    html = path.read_text(encoding="utf-8")
    headings = {_said(h) for h in re.findall(r"<h[234][^>]*>(.*?)</h[234]>", html, flags=re.S)}
    notes = [_said(n) for n in re.findall(r'<p class="note">([^<]*)</p>\s*<table', html)]
    pages = pdf_pages(render(browser, path).pdf, tmp_path)

    assert len(pages) >= 3
    for number, page in enumerate(pages[:-1], start=1):
        lines = [" ".join(line.split()) for line in page.splitlines() if line.strip()]
        assert len(lines) > 20, f"page {number} is nearly empty"
        last = lines[-1]
        assert last not in headings, (number, last)
        assert not any(last in note for note in notes), (number, last)


def test_a_pupil_s_page_prints_its_meeting_sheet_on_a_page_of_its_own(
    browser: Browser, site: Path, tmp_path: Path
) -> None:
    path = dossier(site)
    rendered = render(browser, path)

    assert_quiet(rendered, path)
    for text in (
        "21 fraværsdage af de seneste 100 skoledage — trin 3",
        "Fraværet er steget fra 19 % til 21 % de seneste tre uger.",
        "Fravær uge for uge",
        "1. Hvad fungerer?",
        "Hvilke beskyttelsesfaktorer tilføjer det barnet?",
    ):
        assert text in rendered.text
    pages = pdf_pages(rendered.pdf, tmp_path)
    starts = [i for i, page in enumerate(pages) if MEETING in page]
    assert len(starts) == 1, "the meeting sheet's heading is on exactly one page"
    sheet = pages[starts[0]]
    assert starts[0] > 0
    assert sheet.lstrip().startswith(MEETING), "the sheet starts its page"
    assert "3. Hvad skal der ske?" in sheet
    assert "Hvordan sikres det, at man afhjælper det, som ikke fungerer?" in sheet
    assert starts[0] == len(pages) - 1, "the sheet fits on its page"
    assert len(pages) == 2, "the facts fit on the first page"
    keep("site-dossier.png", rendered.png)


@pytest.mark.parametrize(
    ("lang", "meeting", "rule"),
    [
        ("da", MEETING, "Det kræver kvartalsreglen"),
        ("en", "Meeting sheet", "What the quarter rule requires"),
    ],
)
def test_a_flagged_pupil_at_step_0_prints_its_sheet_with_the_quarter_rule_on_one_page(
    browser: Browser, tmp_path: Path, lang: str, meeting: str, rule: str
) -> None:
    """On 31 January the quarter rule says the municipality must be notified of 0000123, at
    step 0: the actions list the rule's, and the sheet still fits on a page of its own."""
    key = tmp_path / "token.key"
    key.write_text(KEY_HEX)
    key.chmod(0o600)
    out = tmp_path / "out"
    args = ["site", str(DEMO), "-o", str(out), "--key-file", str(key), "--lang", lang]
    result = CliRunner().invoke(app, [*args, "--as-of", "2024-01-31"])
    assert result.exit_code == 0, result.output
    path = next(p for p in out.glob("*/*.html") if "<dd>0000123</dd>" in p.read_text("utf-8"))
    rendered = render(browser, path)

    assert_quiet(rendered, path)
    pages = pdf_pages(rendered.pdf, tmp_path)
    starts = [i for i, page in enumerate(pages) if meeting in page]
    assert len(starts) == 1
    assert rule in pages[starts[0]], "the sheet says what the quarter rule requires"
    assert starts[0] == len(pages) - 1, "the sheet fits on its page"
    assert len(pages) == 2, "the facts fit on the first page"
