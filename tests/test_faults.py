"""Faults while writing, for every command that writes files (docs/exit-codes.md).

``tests/test_report.py`` covers ``fravaer report`` (full disk at write and fsync, an unwritable
or missing output folder, a killed run, the lock, a corrupted state) and ``tests/test_output.py``
the writers themselves. Here every other command that writes files meets the same faults through
the real command line: an output folder that cannot be written (exit 73), a full disk at write
and at fsync (74), a run killed while writing, two runs at once, and a state file that is
corrupted or from a newer fravaer (65). Each time the older outputs stay intact and no visible
or partial file is left. We run as root, for whom a read-only folder is writable: the kernel's
refusal is simulated by patching, as ``tests/test_report.py`` does.
"""

from __future__ import annotations

import errno
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import pytest
from typer.testing import CliRunner, Result

from fravaer.cli import app
from fravaer.output import STAGE_SUFFIX
from tests.harden import ERROR, READERS, Invocation, assert_one_error
from tests.test_battery import csv_text
from tests.test_report import STATUS
from tests.test_state import one_pupil, run_of, state_text

MARK = b"an older output, from last week\n"
KEPT = ("state.json", "key.txt", "state.json.lock", "state.json.key", ".fravaer-token.key")
"""Files of a run that are not its outputs: the state, the keys, the lock."""


def _reader(command: str) -> Callable[[Path], list[str]]:
    def args(folder: Path) -> list[str]:
        return Invocation(command, folder / "export.csv", folder / "out").args()

    return args


def _escalate_state(folder: Path) -> list[str]:
    out = folder / "out"
    return [
        "escalate",
        str(folder / "export.csv"),
        "--state",
        str(out / "state.json"),
        "-o",
        str(out / "eskaleringer"),
        "--split-by",
        "school",
        "--meeting-notes",
        str(out / "moeder"),
    ]


def _to(args: list[str], folder: Path, name: str) -> list[str]:
    """``args`` writing ``name`` in the output folder, in the format its suffix names."""
    at = args.index("-o")
    args = [*args[:at], *args[at + 2 :], "-o", str(folder / "out" / name)]
    at = args.index("--format")
    return [*args[:at], *args[at + 2 :], "--format", name.rsplit(".", 1)[1]]


WRITERS: dict[str, Callable[[Path], list[str]]] = {
    **{c: _reader(c) for c in READERS if c != "report"},  # report: tests/test_report.py
    "escalate-state-and-notes": _escalate_state,
    # Parquet and xlsx are written by other libraries, which report a full disk their own way.
    "classify-parquet": lambda folder: _to(_reader("classify")(folder), folder, "r.parquet"),
    "classify-xlsx": lambda folder: _to(_reader("classify")(folder), folder, "r.xlsx"),
    "pseudonymize-parquet": lambda folder: _to(
        _reader("pseudonymize")(folder), folder, "p.parquet"
    ),
    "demo-data-parquet": lambda folder: ["demo-data", "-o", str(folder / "out" / "d.parquet")],
    "demo-data": lambda folder: [
        "demo-data",
        "-o",
        str(folder / "out" / "demo.csv"),
        "--pupils",
        "3",
    ],
    "policy-list": lambda folder: ["policy", "list", "-o", str(folder / "out" / "politikker.csv")],
}


def one_error(result: Result, exit_code: int) -> str:
    """``assert_one_error`` after the run's progress lines (escalate says what it compares)."""
    lines = result.stderr.splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith(ERROR))
    assert all(line.startswith("fravaer: ") and "error" not in line for line in lines[:first])
    return assert_one_error(result, exit_code, skip=first)


def invoke(args: list[str]) -> Result:
    return CliRunner().invoke(app, args)


def files(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def temporaries(folder: Path) -> list[Path]:
    return [
        p
        for p in folder.rglob("*")
        if (p.name.startswith(".") or p.suffix == ".tmp") and p.name not in KEPT
    ]


@pytest.fixture
def prepared(
    tmp_path: Path, request: pytest.FixtureRequest
) -> tuple[list[str], Path, dict[str, bytes]]:
    """A first run that succeeded, its outputs marked as last week's; the args to run again."""
    (tmp_path / "export.csv").write_text(csv_text(), encoding="utf-8")
    (tmp_path / "out").mkdir()
    args = WRITERS[request.param](tmp_path)
    first = invoke(args)
    assert first.exit_code == 0, first.stderr
    out = tmp_path / "out"
    for path in out.rglob("*"):
        # The state, the keys and a lock file are not last week's outputs: left as they are.
        if path.is_file() and path.name not in KEPT:
            path.write_bytes(MARK + path.name.encode())
    before = files(out)
    assert before
    return args, out, before


def _fail_from_call(number: int, error: int, real: Callable[..., Any]) -> Callable[..., Any]:
    calls = {"n": 0}

    def fake(*args: object, **kwargs: object) -> Any:
        calls["n"] += 1
        if calls["n"] >= number:
            raise OSError(error, os.strerror(error))
        return real(*args, **kwargs)

    return fake


class _FullDisk:
    """A written file on a full disk: writing fails; everything else is the real file's."""

    def __init__(self, handle: IO[bytes]) -> None:
        self._handle = handle

    def write(self, data: bytes) -> int:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._handle, name)

    def __enter__(self) -> _FullDisk:
        return self

    def __exit__(self, *exc: object) -> None:
        self._handle.close()


def _full_disk_at_write(monkeypatch: pytest.MonkeyPatch) -> None:
    real_fdopen = os.fdopen

    def fdopen(fd: int, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        handle = real_fdopen(fd, mode, *args, **kwargs)
        return _FullDisk(handle) if "w" in mode else handle

    monkeypatch.setattr(os, "fdopen", fdopen)
    monkeypatch.setattr(os, "write", _fail_from_call(1, errno.ENOSPC, os.write))


# One file names itself (`PATH: write failed (…)`); a unit of files (escalate) names the folder
# and a count instead (`FOLDER: 1 of N file(s): write failed (…)`), as a sheet is a pupil's.
_UNIT = r"(1 of \d+ file\(s\): )?"
FAULTS: dict[str, tuple[Callable[[pytest.MonkeyPatch], None], int, str]] = {
    "unwritable-folder": (
        lambda mp: (  # a file's temporary file, or a unit's staging folder
            mp.setattr(tempfile, "mkstemp", _fail_from_call(1, errno.EACCES, tempfile.mkstemp)),
            mp.setattr(tempfile, "mkdtemp", _fail_from_call(1, errno.EACCES, tempfile.mkdtemp)),
        ),
        73,
        rf"{_UNIT}cannot create \(Permission denied\)",
    ),
    "disk-full-at-write": (
        _full_disk_at_write,
        74,
        rf"{_UNIT}write failed \(No space left on device\)",
    ),
    "disk-full-at-fsync": (
        lambda mp: mp.setattr(os, "fsync", _fail_from_call(1, errno.ENOSPC, os.fsync)),
        74,
        rf"{_UNIT}write failed \(No space left on device\)",
    ),
    "io-error-at-fsync": (
        lambda mp: mp.setattr(os, "fsync", _fail_from_call(1, errno.EIO, os.fsync)),
        74,
        rf"{_UNIT}write failed \(Input/output error\)",
    ),
}


# xlsxwriter leaves its zip file open when a write fails; it complains when collected.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
@pytest.mark.parametrize("fault", list(FAULTS))
@pytest.mark.parametrize("prepared", list(WRITERS), indirect=True)
def test_a_write_fault_leaves_the_older_outputs_intact(
    prepared: tuple[list[str], Path, dict[str, bytes]],
    monkeypatch: pytest.MonkeyPatch,
    fault: str,
) -> None:
    args, out, before = prepared
    patch, exit_code, problem = FAULTS[fault]
    patch(monkeypatch)

    result = invoke(args)

    monkeypatch.undo()
    line = one_error(result, exit_code)
    assert re.search(problem, line), line
    assert files(out) == before
    assert temporaries(out) == []


# -- a state file that cannot be trusted ----------------------------------------------------------

STATES = {
    "corrupted": ('{"format": "fravaer-escalate-state", "version": 2, "runs": [', "corrupted"),
    "newer": ('{"format": "fravaer-escalate-state", "version": 99, "runs": []}', "is newer"),
    "not-a-state": ('{"pupils": {}}', "not a fravaer state file"),
    "not-utf8": ("\udcff", "corrupted"),
    # A state is untrusted input: every value is checked, and refused with 65, never 70.
    "step-of-1000": (state_text(one_pupil([1000, "none"])), "field 'runs.0.pupils'"),
    "step-of-minus-5": (state_text(one_pupil([-5, "none"])), "field 'runs.0.pupils'"),
    "unknown-flag": (state_text(one_pupil([1, "0101101234"])), "field 'runs.0.pupils'"),
    "as-of-in-seconds": (state_text(run_of(as_of=1709856000)), "field 'runs.0.as_of'"),
    "policy-with-escapes": (
        state_text(run_of(policy="\x1b]8;;http://evil\x07klik\x1b]8;;\x07")),
        "field 'runs.0.policy'",
    ),
    "id-as-a-field-name": (state_text(**{"0101101234": 1}), "an unknown field"),
    "ids-not-keyed": (state_text(run_of({"0101101234": [1, "none"]})), "keyed hash"),
    "deeply-nested": (
        state_text().replace('"runs": []', '"runs": ' + "[" * 100_000 + "]" * 100_000),
        "nested too deeply",
    ),
    "number-too-long": (
        state_text().replace('"version": 2', '"version": ' + "1" * 5000),
        "a number too long",
    ),
}


@pytest.mark.parametrize("state", list(STATES))
@pytest.mark.parametrize("prepared", ["escalate-state-and-notes"], indirect=True)
def test_a_state_that_cannot_be_trusted_is_refused_and_nothing_is_written(
    prepared: tuple[list[str], Path, dict[str, bytes]], state: str
) -> None:
    args, out, _ = prepared
    text, problem = STATES[state]
    (out / "state.json").write_bytes(text.encode("utf-8", "surrogateescape"))
    before = files(out)

    result = invoke(args)

    line = one_error(result, 65)
    assert problem in line
    assert "0101101234" not in result.stderr
    assert "\x1b" not in result.stderr
    assert files(out) == before  # escalate keeps no status file: only report does


# -- killed, and two at once ---------------------------------------------------------------------

STALLED = """
import os, sys, time
from pathlib import Path

marker = Path(sys.argv[1])

def stalled_fsync(fd):
    marker.write_text("writing")
    time.sleep(120)

os.fsync = stalled_fsync
sys.argv = ["fravaer", *sys.argv[2:]]
from fravaer.entry import main
main()
"""
"""A real run, through the console script's entry, that marks and stops at its first fsync."""


def _kill_while_writing(args: list[str], folder: Path) -> None:
    marker = folder / "marker"
    process = subprocess.Popen(
        [sys.executable, "-c", STALLED, str(marker), *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while not marker.exists() and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.02)
        assert marker.exists(), "the run never started writing"
        os.kill(process.pid, signal.SIGKILL)
    finally:
        process.wait(timeout=30)


def _visible(found: dict[str, bytes]) -> dict[str, bytes]:
    return {k: v for k, v in found.items() if not any(p.startswith(".") for p in k.split("/"))}


@pytest.mark.parametrize(
    "prepared",
    [
        "classify",
        pytest.param("escalate-state-and-notes", marks=pytest.mark.slow),
        pytest.param("pseudonymize", marks=pytest.mark.slow),
        pytest.param("demo-data", marks=pytest.mark.slow),
    ],
    indirect=True,
)
def test_a_run_killed_while_writing_leaves_the_older_outputs(
    prepared: tuple[list[str], Path, dict[str, bytes]],
) -> None:
    args, out, before = prepared

    _kill_while_writing(args, out.parent)

    after = files(out)
    assert _visible(after) == before
    hidden = set(after) - set(before)
    # At most the one temporary file being fsynced, or a unit's staging folders (one per folder).
    leftovers = {_hidden_root(name) for name in hidden}
    assert len(leftovers) <= 1 or all(root.endswith(STAGE_SUFFIX) for root in leftovers), hidden


def _hidden_root(name: str) -> str:
    """The hidden file or folder that ``name`` (a relative path) is or lies in."""
    parts = name.split("/")
    first = next(i for i, part in enumerate(parts) if part.startswith("."))  # none: not hidden
    return "/".join(parts[: first + 1])


def _run_module(args: list[str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "fravaer", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.parametrize(
    "prepared",
    ["classify", pytest.param("escalate-state-and-notes", marks=pytest.mark.slow)],
    indirect=True,
)
def test_two_runs_at_once_each_write_whole_files(
    prepared: tuple[list[str], Path, dict[str, bytes]],
) -> None:
    """Two runs at once: without a lock (classify) the later rename wins, but no file is mixed;
    escalate --state takes the state's lock, so a run that finds it held exits 75 at once."""
    args, out, before = prepared
    expected_run = invoke(args)  # what one run alone writes
    assert expected_run.exit_code == 0, expected_run.stderr
    expected = files(out)
    for name in before:
        if name not in KEPT:
            (out / name).write_bytes(MARK)

    runs = [_run_module(args), _run_module(args)]
    results = [(p.wait(timeout=120), p.communicate()) for p in runs]

    for code, (_, stderr) in results:
        if code == 75 and "--state" in args:
            assert "state.json.lock: another run holds the lock" in stderr
            continue
        assert code == 0, stderr
        assert ERROR not in stderr
    assert 0 in [code for code, _ in results]
    assert files(out) == expected
    assert temporaries(out) == []


REPORT = """\
output_folder = "out"
state = "out/state.json"

[inputs]
paths = ["export.csv"]

[[outputs]]
kind = "escalations"
file = "eskaleringer.csv"
format = "csv"
"""


@pytest.mark.parametrize("state", list(STATES))
def test_report_refuses_a_state_that_cannot_be_trusted_and_writes_nothing(
    tmp_path: Path, state: str
) -> None:
    """tests/test_report.py covers a corrupted state; here every untrusted kind, for report too."""
    (tmp_path / "export.csv").write_text(csv_text(), encoding="utf-8")
    config = tmp_path / "report.toml"
    config.write_text(REPORT, encoding="utf-8")
    assert invoke(["report", "--config", str(config), "--as-of", "2024-03-08"]).exit_code == 0
    out = tmp_path / "out"
    text, problem = STATES[state]
    (out / "state.json").write_bytes(text.encode("utf-8", "surrogateescape"))
    before = files(out)

    result = invoke(["report", "--config", str(config)])

    line = one_error(result, 65)
    assert problem in line
    assert "0101101234" not in result.stderr
    assert "\x1b" not in result.stderr
    # Nothing changes but the status file, which says the run failed (docs/report.md).
    status = json.loads(files(out).pop(STATUS))
    assert (status["outcome"], status["exit_code"]) == ("failed", 65)
    assert {k: v for k, v in files(out).items() if k != STATUS} == {
        k: v for k, v in before.items() if k != STATUS
    }
