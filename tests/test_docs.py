"""The documentation's console examples are tests: each `$ command` runs and prints what is pasted.

Every ```console block of README.md and docs/*.md is a terminal session. Each `$ command` is run
with bash in a scratch folder holding a copy of `examples/`, with the venv's `bin` first on PATH,
stderr merged into stdout (as on a terminal), `COLUMNS=120` and `umask 022`. The commands of one
block run in order in one folder, so a later command sees the files an earlier one wrote. The
output must equal the lines pasted under the command, where a line `…` stands for any number of
lines and trailing whitespace is ignored.

Commands run with stdout on a pipe, so an example of the table view passes `--format table`
(160 columns wide, no colour). `make demo` and `. .venv/bin/activate` lines are not run.
"""

from __future__ import annotations

import difflib
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.registered import COMMANDS

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
EXAMPLES = ROOT / "examples"
BIN = Path(sys.executable).parent
NOT_RUN = ("make demo", ". .venv/bin/activate")
ANY_LINES = "…"
TIMEOUT = 60


@dataclass(frozen=True)
class Command:
    """One `$ command` of a console block and the output pasted under it."""

    page: str  # relative to the repository, e.g. "docs/classify.md"
    block: int  # the console block's first line in the page
    line: int  # the command's line in the page
    text: str
    expected: tuple[str, ...]

    @property
    def id(self) -> str:
        return f"{self.page}:{self.line} {self.text}"


@dataclass(frozen=True)
class Block:
    page: str
    line: int  # of the opening fence
    kind: str  # the fence's language
    lines: tuple[str, ...]


def fenced_blocks(page: Path) -> Iterator[Block]:
    """The fenced code blocks of a Markdown page."""
    name = page.relative_to(ROOT).as_posix()
    lines = page.read_text(encoding="utf-8").splitlines()
    i = 0
    while i < len(lines):
        fence = re.fullmatch(r"```(\w*)\s*", lines[i])
        if fence is None:
            i += 1
            continue
        end = next(j for j in range(i + 1, len(lines)) if lines[j].startswith("```"))
        yield Block(name, i + 1, fence.group(1), tuple(lines[i + 1 : end]))
        i = end + 1


def commands(block: Block) -> list[Command]:
    """The commands of a console block, each with the lines up to the next command."""
    found: list[Command] = []
    for offset, line in enumerate(block.lines):
        if line.startswith("$ "):
            found.append(Command(block.page, block.line, block.line + 1 + offset, line[2:], ()))
        elif found:
            last = found[-1]
            found[-1] = Command(last.page, last.block, last.line, last.text, (*last.expected, line))
    return found


BLOCKS = [block for page in PAGES for block in fenced_blocks(page)]
CONSOLE = [block for block in BLOCKS if block.kind == "console"]
SESSIONS = {(b.page, b.line): commands(b) for b in CONSOLE}
EXAMPLES_TO_RUN = [
    c for session in SESSIONS.values() for c in session if not c.text.startswith(NOT_RUN)
]


def environment() -> dict[str, str]:
    env = dict(os.environ)
    for name in ("FORCE_COLOR", "CLICOLOR_FORCE"):  # keep colour out of pipes
        env.pop(name, None)
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env["COLUMNS"] = "120"
    env["PYTHONUTF8"] = "1"
    return env


def run_session(session: list[Command], folder: Path) -> dict[int, str]:
    """Run a block's commands in order in ``folder``; the output of each, by line."""
    shutil.copytree(EXAMPLES, folder / "examples")
    env = environment()
    outputs: dict[int, str] = {}
    for command in session:
        if command.text.startswith(NOT_RUN):
            continue
        try:
            done = subprocess.run(
                ["bash", "-c", f"umask 022\nexec 2>&1\n{command.text}"],
                cwd=folder,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                encoding="utf-8",
                errors="replace",
                timeout=TIMEOUT,
            )
            outputs[command.line] = done.stdout
        except subprocess.TimeoutExpired:
            outputs[command.line] = f"(timed out after {TIMEOUT} s)"
    return outputs


class Outputs(dict[tuple[str, int], dict[int, str]]):
    """Output by session (page, block line), then by command line; short in a failure report."""

    def __repr__(self) -> str:
        return f"<outputs of {len(self)} console session(s)>"


def _session_of(item: pytest.Item) -> tuple[str, int] | None:
    """The console session a collected test checks, if it checks one."""
    callspec = getattr(item, "callspec", None)
    example = callspec.params.get("example") if callspec else None
    return (example.page, example.block) if isinstance(example, Command) else None


@pytest.fixture(scope="module")
def outputs(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Outputs:
    """Outputs of every session that a selected test needs, the sessions run side by side."""
    wanted = {_session_of(item) for item in request.session.items}
    keys = [key for key in SESSIONS if key in wanted]
    folders = [tmp_path_factory.mktemp("docs") for _ in keys]
    with ThreadPoolExecutor(max_workers=min(8, os.cpu_count() or 1)) as pool:
        done = pool.map(run_session, (SESSIONS[key] for key in keys), folders)
        return Outputs(zip(keys, done, strict=True))


def _clean(lines: list[str]) -> list[str]:
    """Without trailing whitespace on each line and at the end."""
    lines = [line.rstrip() for line in lines]
    while lines and not lines[-1]:
        lines.pop()
    return lines


def _pattern(expected: list[str]) -> str:
    return "".join(
        r"(?:[^\n]*\n)*" if line == ANY_LINES else re.escape(line + "\n") for line in expected
    )


def matches(expected: list[str], got: list[str]) -> bool:
    """Whether ``got`` is ``expected``, a line ``…`` standing for any number of lines."""
    text = "".join(f"{line}\n" for line in _clean(got))
    return re.fullmatch(_pattern(_clean(expected)), text) is not None


def first_unmatched(expected: list[str], got: list[str]) -> int:
    """Index of the first pasted line that the output cannot match, or len(expected)."""
    for count in range(1, len(expected) + 1):
        if not matches([*expected[:count], ANY_LINES], got):
            return count - 1
    return len(expected)


@pytest.mark.parametrize("example", EXAMPLES_TO_RUN, ids=lambda c: c.id)
def test_console_example_prints_what_the_page_shows(example: Command, outputs: Outputs) -> None:
    got = _clean(outputs[(example.page, example.block)][example.line].splitlines())
    expected = _clean(list(example.expected))

    if not matches(expected, got):
        where = first_unmatched(expected, got)
        line = example.line + 1 + where
        problem = (
            f"{example.page}:{line}: not in the output: {expected[where]}"
            if where < len(expected)
            else "the output goes on after the last pasted line"
        )
        diff = difflib.unified_diff(expected, got, "page", "actual", lineterm="", n=2)
        pytest.fail(f"$ {example.text}\n{problem}\n" + "\n".join(diff), pytrace=False)


@pytest.mark.parametrize(
    ("expected", "got", "same"),
    [
        (["a", "b"], ["a", "b  ", ""], True),
        (["a", ANY_LINES, "d"], ["a", "b", "c", "d"], True),
        (["a", ANY_LINES, "d"], ["a", "d"], True),
        (["a", ANY_LINES], ["a", "b"], True),
        (["a", "b"], ["a", "b", "c"], False),
        (["a", ANY_LINES, "d"], ["a", "b", "c"], False),
        (["a.*"], ["ab"], False),
    ],
)
def test_the_comparison(expected: list[str], got: list[str], same: bool) -> None:
    assert matches(expected, got) is same


def test_the_pages_have_console_examples() -> None:
    assert any(c.page == "README.md" for c in EXAMPLES_TO_RUN)
    assert len(EXAMPLES_TO_RUN) >= 20


@pytest.mark.parametrize("block", CONSOLE, ids=lambda b: f"{b.page}:{b.line}")
def test_a_console_block_starts_with_a_command(block: Block) -> None:
    # Lines before the first `$` would never be checked; a listing belongs in ```sh or ```text.
    assert block.lines, "empty console block"
    assert block.lines[0].startswith("$ "), block.lines[0]


@pytest.mark.parametrize("name", sorted(COMMANDS))  # policy list, show and validate too
def test_every_subcommand_has_a_checked_example(name: str) -> None:
    mention = re.compile(rf"\bfravaer (--\S+ )*{re.escape(name)}\b")

    assert any(mention.search(c.text) for c in EXAMPLES_TO_RUN), f"no console example runs {name}"


def test_every_example_file_is_shown_and_every_path_shown_exists() -> None:
    text = "\n".join(page.read_text(encoding="utf-8") for page in PAGES)
    shown = set(re.findall(r"examples/[\w./-]*\w", text))
    files = {p.relative_to(ROOT).as_posix() for p in EXAMPLES.rglob("*") if p.is_file()}

    assert sorted(p for p in shown if not (ROOT / p).exists()) == []
    assert sorted(files - shown) == []


@pytest.mark.parametrize(
    "block", [b for b in BLOCKS if b.kind == "python"], ids=lambda b: f"{b.page}:{b.line}"
)
def test_python_example_runs(block: Block, tmp_path: Path) -> None:
    shutil.copytree(EXAMPLES, tmp_path / "examples")

    done = subprocess.run(
        [sys.executable, "-c", "\n".join(block.lines)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )

    assert done.returncode == 0, done.stderr
