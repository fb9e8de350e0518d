"""The site's pupil pages rendered in helper processes
(docs/site.md#rendering-in-a-helper-process): byte for byte the pages of one process, rendered
here when a helper cannot start or fails, and a helper that says nothing of what it was given."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from fravaer import site_helpers
from fravaer.cli import app
from tests.harden import KEY_HEX
from tests.profiles import examples

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "examples" / "demo-export.csv"
LESSON_DEMO = [
    *("demo-data", "--lessons", "--pupils", "120", "--seed", "3", "--until", "2024-03-15"),
    *("--plant", "leaves-early", "--plant", "subject"),
]


@given(count=st.integers(0, 60), parts=st.integers(1, 8))
@settings(max_examples=examples(200), deadline=None)
def test_shares_are_the_rows_in_order_in_near_equal_parts(count: int, parts: int) -> None:
    shares = site_helpers.split(count, parts)

    assert len(shares) == parts
    assert [row for share in shares for row in share] == list(range(count))
    assert max(map(len, shares)) - min(map(len, shares)) <= 1


@pytest.mark.parametrize(
    ("cores", "pages", "processes"),
    [(2, 0, 1), (2, 999, 1), (2, 1000, 2), (2, 25_000, 2), (1, 25_000, 1), (16, 25_000, 4)],
)
def test_one_process_per_core_and_thousand_pages(
    monkeypatch: pytest.MonkeyPatch, cores: int, pages: int, processes: int
) -> None:
    monkeypatch.setattr(os, "sched_getaffinity", lambda _: set(range(cores)), raising=False)

    assert site_helpers.processes(pages) == processes


def test_one_process_where_cores_are_not_known_or_no_interpreter_can_start(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delattr(os, "sched_getaffinity", raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    assert site_helpers.processes(5000) == 2
    monkeypatch.setattr(os, "cpu_count", lambda: None)
    assert site_helpers.processes(5000) == 1
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    assert site_helpers.processes(5000) == 1


def _site(tmp_path: Path, name: str, *args: str, export: Path = DEMO) -> dict[str, bytes]:
    key = tmp_path / "token.key"
    if not key.exists():
        key.write_text(KEY_HEX)
        key.chmod(0o600)
    out = tmp_path / name
    command = ["site", str(export), "-o", str(out), "--key-file", str(key), *args]
    result = CliRunner().invoke(app, command)
    assert result.exit_code == 0, result.output
    return {str(path.relative_to(out)): path.read_bytes() for path in out.rglob("*.html")}


@pytest.fixture
def three_processes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Helpers even for the example's few pupils: two beside this process."""
    monkeypatch.setattr(os, "sched_getaffinity", lambda _: {0, 1, 2}, raising=False)
    monkeypatch.setattr(site_helpers, "PAGES_PER_HELPER", 1)


@pytest.fixture
def rendered(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Whether each helper asked for its pages gave them, in order."""
    outcomes: list[bool] = []
    pages = site_helpers.Helper.pages

    def counted(helper: site_helpers.Helper) -> site_helpers.Pages | None:
        found = pages(helper)
        outcomes.append(found is not None)
        return found

    monkeypatch.setattr(site_helpers.Helper, "pages", counted)
    return outcomes


@pytest.mark.parametrize(
    ("lessons", "args"),
    [
        (False, ()),
        (False, ("--lang", "en", "--since", "2024-02-01")),
        (True, ("--lang", "en", "--since", "2024-02-01")),
    ],
    ids=["example", "english-since", "lessons"],
)
def test_helpers_render_the_pages_of_one_process(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    three_processes: None,
    rendered: list[bool],
    lessons: bool,
    args: tuple[str, ...],
) -> None:
    export = DEMO
    if lessons:  # a lesson-level export with listed pupils and lesson findings
        export = tmp_path / "lessons.csv"
        made = CliRunner().invoke(app, [*LESSON_DEMO, "-o", str(export)])
        assert made.exit_code == 0, made.output
    beside = _site(tmp_path, "beside", *args, export=export)
    monkeypatch.setattr(site_helpers, "PAGES_PER_HELPER", 10**9)
    alone = _site(tmp_path, "alone", *args, export=export)

    assert rendered == [True, True]
    assert len(alone) > 5
    assert beside == alone


def test_a_helper_is_sent_only_its_own_pupils_tokens(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, three_processes: None, rendered: list[bool]
) -> None:
    """The tokens name the pupils' pages: a helper knows those of the pages it renders."""
    sent: list[tuple[set[str], set[str]]] = []
    start = site_helpers.Helper.__init__

    def starting(helper: site_helpers.Helper, share: Any, ctx: Any) -> None:
        sent.append((set(ctx.tokens), set(share.listed["pupil_id"])))
        start(helper, share, ctx)

    monkeypatch.setattr(site_helpers.Helper, "__init__", starting)
    pages = _site(tmp_path, "beside")

    assert rendered == [True, True]
    assert [tokens for tokens, _ in sent] == [pupils for _, pupils in sent]
    # The site's own process keeps a third of the pupils: neither helper knows theirs.
    assert len(sent[0][0] | sent[1][0]) < sum(name != "index.html" for name in pages) - 10


def _garbling_python(tmp_path: Path) -> str:
    """An "interpreter" that takes the work and answers with bytes that are no pickle, exit 0."""
    script = tmp_path / "garbling-python"
    script.write_text("#!/bin/sh\ncat > /dev/null\nprintf 'not a pickle'\n")
    script.chmod(0o700)
    return str(script)


@pytest.mark.parametrize("python", ["/bin/false", "/nowhere/python3", "garbling"])
def test_a_failing_helper_s_share_is_rendered_here(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    three_processes: None,
    rendered: list[bool],
    python: str,
) -> None:
    alone = _site(tmp_path, "alone")
    rendered.clear()
    monkeypatch.setattr(
        sys, "executable", _garbling_python(tmp_path) if python == "garbling" else python
    )

    assert _site(tmp_path, "beside") == alone
    assert rendered == [False, False]


def test_a_helper_imports_nothing_from_the_current_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, three_processes: None, rendered: list[bool]
) -> None:
    folder = tmp_path / "here"
    folder.mkdir()
    marker = tmp_path / "imported"
    (folder / "jinja2.py").write_text(f"open({str(marker)!r}, 'w').close()\n")
    monkeypatch.chdir(folder)

    _site(tmp_path, "beside")

    assert rendered == [True, True]
    assert not marker.exists()


def test_helpers_are_ended_when_the_site_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, three_processes: None
) -> None:
    started: list[site_helpers.Helper] = []
    start = site_helpers.Helper.__init__

    def starting(helper: site_helpers.Helper, *args: Any) -> None:
        start(helper, *args)
        started.append(helper)

    def failing(*_: Any, **__: Any) -> Any:
        raise RuntimeError

    monkeypatch.setattr(site_helpers.Helper, "__init__", starting)
    monkeypatch.setattr(site_helpers, "overview_pages", failing)
    key = tmp_path / "token.key"
    key.write_text(KEY_HEX)
    key.chmod(0o600)
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["site", str(DEMO), "-o", str(out), "--key-file", str(key)])

    assert result.exit_code == 70
    assert len(started) == 2
    assert all(helper._process is not None for helper in started)
    assert all(helper._process.poll() is not None for helper in started)  # type: ignore[union-attr]
    assert not out.exists()


def test_a_helper_of_another_copy_of_fravaer_renders_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, three_processes: None, rendered: list[bool]
) -> None:
    """The helper renders with the code of the process that started it, or not at all."""
    alone = _site(tmp_path, "alone")
    rendered.clear()
    monkeypatch.setattr(site_helpers, "__file__", "/another/fravaer/site_helpers.py")

    assert _site(tmp_path, "beside") == alone
    assert rendered == [False, False]


def test_a_helper_says_nothing_of_what_it_was_given() -> None:
    given = b"SECRET0101-pupil " * 100  # not a pickle: the helper fails on it
    done = subprocess.run(
        [sys.executable, "-m", "fravaer.site_helpers"],
        input=given,
        capture_output=True,
        check=False,
        timeout=60,
    )

    assert done.returncode == 1
    assert (done.stdout, done.stderr) == (b"", b"")
