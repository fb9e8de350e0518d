"""Where fravaer writes: output targets, ``-o -``, signals, temporary files, locks, report paths.

The promises are in docs/exit-codes.md#output-files and docs/privacy.md: the atomic rename only
ever lands on a new name or a regular file; ``-o -`` is stdout; SIGINT and SIGTERM end a run with
one line, exit 130 or 143 and no temporary file; a dead run's temporary file is removed by the
next write in its folder, never one a live run holds; ``report`` and ``escalate`` share one lock
per state file; ``report.toml`` cannot write outside its output folder or over fravaer's own
files. Signals, kills and locks are tested with real processes.
"""

from __future__ import annotations

import fcntl
import os
import signal
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner, Result

import fravaer.output
from fravaer.cli import app
from fravaer.errors import CannotCreateOutputError
from fravaer.output import (
    STAGE_SUFFIX,
    STAGED_SUFFIX,
    atomic_file,
    remove_stale,
    write_all,
    write_frame,
)
from tests.harden import KEY_HEX, assert_one_error
from tests.registered import commands_with
from tests.test_battery import csv_text
from tests.test_faults import (
    REPORT,
    STALLED,
)  # a report.toml with a state, as the fault tests run it

ROOT = Path(__file__).resolve().parents[1]
OLD = b"last week's list\n"
ROOT_ONLY = pytest.mark.skipif(os.geteuid() != 0, reason="a device node needs root")


def invoke(args: list[str]) -> Result:
    return CliRunner().invoke(app, args)


def leftovers(folder: Path) -> list[str]:
    """Hidden or temporary files: none may be left by a refused or stopped run."""
    return sorted(
        p.relative_to(folder).as_posix()
        for p in folder.rglob("*")
        if p.name.startswith(".") or p.name.endswith(".tmp")
    )


@pytest.fixture
def export(tmp_path: Path) -> Path:
    path = tmp_path / "export.csv"
    path.write_text(csv_text(), encoding="utf-8")
    return path


# -- what may stand at the output path ------------------------------------------------------------


def _device(path: Path) -> None:
    os.mknod(path, stat.S_IFCHR | 0o666, os.makedev(1, 3))  # what /dev/null is


def _socket(path: Path) -> None:
    # A socket's path is limited to ~100 bytes: bind it by a name relative to its folder.
    here = Path.cwd()
    os.chdir(path.parent)
    try:
        with socket.socket(socket.AF_UNIX) as server:
            server.bind(path.name)
    finally:
        os.chdir(here)


def _symlink(path: Path) -> None:
    victim = path.parent / "victim.txt"
    victim.write_bytes(OLD)
    path.symlink_to(victim)


NODES: dict[str, tuple[Callable[[Path], None], str]] = {
    "device": (_device, "is a device"),
    "fifo": (os.mkfifo, "is a FIFO"),
    "socket": (_socket, "is a socket"),
    "folder": (os.mkdir, "is a folder"),
    "symlink": (_symlink, "is a symbolic link"),
    "dangling-symlink": (lambda p: p.symlink_to(p.parent / "nowhere.csv"), "is a symbolic link"),
}


KINDS = [pytest.param(k, marks=ROOT_ONLY) if k == "device" else k for k in NODES]


def _node(path: Path) -> tuple[int, int, int, str | None]:
    """What stands at ``path``: its kind, inode and device numbers, and a link's target."""
    found = os.lstat(path)
    link = os.readlink(path) if stat.S_ISLNK(found.st_mode) else None
    return stat.S_IFMT(found.st_mode), found.st_ino, found.st_rdev, link


def _unchanged(folder: Path, before: dict[str, tuple[int, int, int, str | None]]) -> None:
    assert {p.name: _node(p) for p in folder.iterdir()} == before
    if (folder / "victim.txt").exists():
        assert (folder / "victim.txt").read_bytes() == OLD


def _made(tmp_path: Path, kind: str, name: str = "out.csv") -> tuple[Path, Path, str]:
    folder = tmp_path / "out"
    folder.mkdir()
    make, problem = NODES[kind]
    target = folder / name
    make(target)
    return folder, target, problem


@pytest.mark.parametrize("kind", KINDS)
def test_write_frame_refuses_anything_but_a_regular_file(tmp_path: Path, kind: str) -> None:
    folder, target, problem = _made(tmp_path, kind)
    before = {p.name: _node(p) for p in folder.iterdir()}

    with pytest.raises(CannotCreateOutputError) as caught:
        write_frame(pl.DataFrame({"pupil_id": ["0000001"]}), "csv", target)

    assert caught.value.exit_code == 73
    assert problem in caught.value.message
    _unchanged(folder, before)


@pytest.mark.parametrize("kind", KINDS)
def test_write_all_refuses_before_it_writes_any_file(tmp_path: Path, kind: str) -> None:
    folder, target, problem = _made(tmp_path, kind, "b.csv")
    before = {p.name: _node(p) for p in folder.iterdir()}

    with pytest.raises(CannotCreateOutputError) as caught:
        write_all([(folder / "a.csv", b"a\n"), (target, b"b\n")])

    assert problem in caught.value.message
    _unchanged(folder, before)  # a.csv not written either: the unit is all or nothing


@pytest.mark.parametrize("kind", KINDS)
def test_classify_refuses_the_target_with_73_and_one_line(
    tmp_path: Path, export: Path, kind: str
) -> None:
    """`fravaer classify x.csv -o /dev/null --format csv` as root replaced the device."""
    folder, target, problem = _made(tmp_path, kind)
    before = {p.name: _node(p) for p in folder.iterdir()}

    result = invoke(["classify", str(export), "-o", str(target), "--format", "csv"])

    line = assert_one_error(result, 73)
    assert f"{target}: {problem}" in line
    _unchanged(folder, before)


def test_a_fifo_made_while_writing_is_refused_at_the_rename(tmp_path: Path) -> None:
    target = tmp_path / "out.csv"

    def write_while_a_fifo_appears() -> None:
        with atomic_file(target) as handle:
            handle.write(b"pupil rows\n")
            os.mkfifo(target)

    with pytest.raises(CannotCreateOutputError, match="is a FIFO"):
        write_while_a_fifo_appears()

    assert stat.S_ISFIFO(os.lstat(target).st_mode)
    assert leftovers(tmp_path) == []


def test_write_all_checks_every_target_again_before_the_renames(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_stage = fravaer.output._stage

    def stage_then_swap(stage: Path, path: Path, data: bytes, *, sync: bool) -> Path:
        staged = real_stage(stage, path, data, sync=sync)
        if path.name == "b.csv":
            os.mkfifo(path)  # another process puts a FIFO there while the unit is staged
        return staged

    monkeypatch.setattr(fravaer.output, "_stage", stage_then_swap)

    # A unit's error names the folder and a count, never the file (it may be a pupil's sheet).
    with pytest.raises(CannotCreateOutputError, match=r": 1 of 2 file\(s\): is a FIFO"):
        write_all([(tmp_path / "a.csv", b"a\n"), (tmp_path / "b.csv", b"b\n")])

    assert sorted(p.name for p in tmp_path.iterdir()) == ["b.csv"]
    assert leftovers(tmp_path) == []


def test_a_lock_that_is_a_symlink_is_refused_and_its_target_not_truncated(
    tmp_path: Path, export: Path
) -> None:
    """The lock used to be opened with O_TRUNC through a link: a root cron job could empty
    any file a link pointed to."""
    victim = tmp_path / "victim.txt"
    victim.write_bytes(OLD)
    (tmp_path / "state.json.lock").symlink_to(victim)
    state = tmp_path / "state.json"

    result = invoke(["escalate", str(export), "--state", str(state), "--format", "csv"])

    line = assert_one_error(result, 73)
    assert "state.json.lock: is a symbolic link" in line
    assert victim.read_bytes() == OLD
    assert not state.exists()


def test_a_report_output_that_is_a_fifo_is_refused_before_anything_is_written(
    tmp_path: Path, export: Path
) -> None:
    (tmp_path / "out").mkdir()
    os.mkfifo(tmp_path / "out" / "steps.csv")
    config = tmp_path / "report.toml"
    config.write_text(
        'output_folder = "out"\nstate = "out/state.json"\n[inputs]\npaths = ["export.csv"]\n'
        '[[outputs]]\nkind = "classification"\nfile = "steps.csv"\n',
        encoding="utf-8",
    )

    result = invoke(["report", "--config", str(config)])

    line = assert_one_error(result, 73)
    assert ": 1 of 3 file(s): is a FIFO" in line
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        ".fravaer-report.lock",
        ".fravaer-report.status.json",  # the run got the lock: it says it failed (docs/report.md)
        "state.json.lock",
        "steps.csv",
    ]


# -- -o - is stdout -------------------------------------------------------------------------------


# How each command with -o runs here (a hand table: what a command needs differs);
# test_every_command_with_an_output_is_in_the_dash_table keeps it complete.
DASH_ARGS = {
    "classify": ["{export}", "--format", "csv"],
    "explain": ["{export}", "--pupil", "0000001", "--format", "csv"],
    "inspect": ["{export}", "--format", "json"],
    "check": ["{export}", "--format", "csv"],
    "pseudonymize": ["{export}", "--key-file", "{key}", "--format", "csv"],
    "escalate": ["{export}", "--since", "2024-03-01", "--format", "csv"],
    "trend": ["{export}", "--pupil", "0000001", "--format", "csv"],
    "patterns": ["{export}", "--format", "csv"],
    "early-warning": ["{export}", "--format", "csv"],
    "stats": ["{export}", "--no-suppression", "--format", "csv"],
    "policy list": ["--format", "csv"],
}
DASH_REFUSED = {
    "demo-data": "its format comes from the file's suffix (refused below)",
    "site": "it writes a folder of pages (tests/test_site.py)",
}


def test_every_command_with_an_output_is_in_the_dash_table() -> None:
    assert sorted([*DASH_ARGS, *DASH_REFUSED]) == commands_with("-o")


@pytest.mark.parametrize("command", sorted(set(commands_with("-o")) - set(DASH_REFUSED)))
def test_dash_is_stdout_and_no_file_named_dash(
    tmp_path: Path, export: Path, monkeypatch: pytest.MonkeyPatch, command: str
) -> None:
    key = tmp_path / "key.txt"
    key.write_text(KEY_HEX)
    key.chmod(0o600)
    monkeypatch.chdir(tmp_path)
    args = [*command.split(), *DASH_ARGS[command]]
    filled = [a.replace("{export}", str(export)).replace("{key}", str(key)) for a in args]
    assert invoke([*filled, "-o", str(tmp_path / "file.out")]).exit_code == 0

    result = invoke([*filled, "-o", "-"])

    assert result.exit_code == 0, result.stderr
    assert result.stdout == (tmp_path / "file.out").read_text(encoding="utf-8") != ""
    assert not (tmp_path / "-").exists()


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        (["demo-data", "-o", "-"], "demo-data -o writes files: give a path, not -"),
        (
            ["escalate", "{export}", "--since", "2024-03-01", "--split-by", "school", "-o", "-"],
            "--split-by school writes one file per school: give -o FOLDER, not -",
        ),
        (
            ["escalate", "{export}", "--since", "2024-03-01", "--meeting-notes", "-"],
            "--meeting-notes writes files: give a path, not -",
        ),
        (["escalate", "{export}", "--state", "-"], "--state writes files: give a path, not -"),
        (
            ["stats", "{export}", "--chart", "-", "--format", "csv"],
            "--chart writes files: give a path, not -",
        ),
    ],
    ids=["demo-data", "split-by", "meeting-notes", "state", "chart"],
)
def test_dash_where_a_file_or_folder_is_needed_is_a_usage_error(
    tmp_path: Path, export: Path, monkeypatch: pytest.MonkeyPatch, args: list[str], problem: str
) -> None:
    monkeypatch.chdir(tmp_path)

    result = invoke([a.replace("{export}", str(export)) for a in args])

    line = assert_one_error(result, 2)
    assert problem in line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["export.csv"]


# -- temporary files of dead and of live runs -----------------------------------------------------


def _stalled(args: list[str], folder: Path) -> subprocess.Popen[str]:
    """A real run (through the console script's entry) that stops at its first fsync."""
    marker = folder / "marker"
    marker.unlink(missing_ok=True)
    process = subprocess.Popen(
        [sys.executable, "-c", STALLED, str(marker), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while not marker.exists() and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.02)
    if not marker.exists():
        process.kill()
        _, stderr = process.communicate(timeout=30)
        pytest.fail(f"the run never started writing: {stderr}")
    marker.unlink()
    return process


def _steps(export: Path, out: Path, name: str = "steps.xlsx") -> list[str]:
    return ["classify", str(export), "-o", str(out / name)]


def _escalate(export: Path, out: Path) -> list[str]:
    return [
        "escalate",
        str(export),
        "--state",
        str(out / "state.json"),
        "-o",
        str(out / "eskaleringer"),
        "--split-by",
        "school",
        "--meeting-notes",
        str(out / "moeder"),
    ]


def _temporaries(folder: Path) -> list[Path]:
    """Temporary files and a unit's staging folders."""
    endings = (".tmp", STAGED_SUFFIX, STAGE_SUFFIX)
    return sorted(p for p in folder.rglob(".*") if p.name.endswith(endings))


def test_the_next_write_removes_what_a_killed_run_left(tmp_path: Path, export: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    process = _stalled(_steps(export, out), tmp_path)
    process.kill()
    process.communicate(timeout=30)
    left = _temporaries(out)
    assert len(left) == 1
    assert left[0].name.startswith(".steps.xlsx.")
    # An older version's name for the same file, left the same way:
    legacy = out / ".steps.xlsx.k3j_9a2b.tmp"
    legacy.write_bytes(b"pupil rows")

    result = invoke(_steps(export, out, "other.csv"))  # another output in the same folder

    assert result.exit_code == 0, result.stderr
    assert "removed 1 temporary file(s) left by an interrupted run" in result.stderr
    assert legacy.exists()  # another file's legacy name: left until that file is written
    assert invoke(_steps(export, out)).exit_code == 0
    assert _temporaries(out) == []


def test_a_live_runs_temporary_file_is_never_removed(tmp_path: Path, export: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    process = _stalled(_steps(export, out), tmp_path)
    try:
        held = _temporaries(out)
        assert len(held) == 1

        result = invoke(_steps(export, out, "other.csv"))

        assert result.exit_code == 0, result.stderr
        assert "removed" not in result.stderr
        assert _temporaries(out) == held
        assert remove_stale(out) == 0  # report's sweep under its lock: the same rule
        assert _temporaries(out) == held
    finally:
        process.terminate()
        process.communicate(timeout=30)
    assert _temporaries(out) == []


def test_a_file_of_another_program_is_never_removed(tmp_path: Path) -> None:
    others = [".notes.txt.swp", ".x.tmp", ".report.csv.tmp", "data.fravaer-tmp", ".a.fravaer-tmp/"]
    for name in others[:-1]:
        (tmp_path / name).write_bytes(b"not ours")
    (tmp_path / others[-1]).mkdir()
    locked = tmp_path / ".held.csv.abcd1234.fravaer-tmp"
    locked.write_bytes(b"a live run's")
    with locked.open("rb+") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)

        write_frame(pl.DataFrame({"a": [1]}), "csv", tmp_path / "report.csv")

        assert locked.exists()
    for name in others:
        assert (tmp_path / name.rstrip("/")).exists()


# -- SIGINT and SIGTERM ---------------------------------------------------------------------------

STOPS = {
    "SIGTERM": (
        signal.SIGTERM,
        143,
        "fravaer: error: terminated (SIGTERM); no partial output is left",
    ),
    "SIGINT": (
        signal.SIGINT,
        130,
        "fravaer: error: interrupted (SIGINT); no partial output is left",
    ),
}


@pytest.mark.parametrize("stop", list(STOPS))
@pytest.mark.parametrize("command", ["classify-xlsx", "escalate-state-and-notes"])
def test_a_signal_while_writing_is_one_line_its_exit_code_and_no_temporary_file(
    tmp_path: Path, export: Path, stop: str, command: str
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    args = _steps(export, out) if command == "classify-xlsx" else _escalate(export, out)
    first = invoke(args)
    assert first.exit_code == 0, first.stderr
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    number, code, line = STOPS[stop]

    process = _stalled(args, tmp_path)
    process.send_signal(number)
    stdout, stderr = process.communicate(timeout=60)

    assert process.returncode == code, stderr
    assert stderr.splitlines()[-1] == line
    assert "Traceback" not in stderr
    assert all(not s.startswith("fravaer: error") for s in stderr.splitlines()[:-1])
    assert stdout == ""
    assert _temporaries(out) == []
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before


_SLOW_IMPORT = """
import sys, time, runpy
from pathlib import Path

marker = Path(sys.argv[1])

class SlowPolars:
    def find_spec(self, name, path=None, target=None):
        if name == "polars":
            marker.write_text("importing")
            time.sleep(120)
        return None

sys.meta_path.insert(0, SlowPolars())
sys.argv = ["fravaer", *sys.argv[2:]]
runpy.run_module("fravaer", run_name="__main__")  # python -m fravaer
"""


@pytest.mark.parametrize("stop", list(STOPS))
def test_a_signal_while_starting_up_is_one_line_too(
    tmp_path: Path, export: Path, stop: str
) -> None:
    """Importing polars takes a moment; a Ctrl-C then printed a traceback."""
    marker = tmp_path / "marker"
    process = subprocess.Popen(
        [sys.executable, "-c", _SLOW_IMPORT, str(marker), "classify", str(export)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while not marker.exists() and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.02)
    assert marker.exists(), process.communicate()[1]
    number, code, line = STOPS[stop]

    process.send_signal(number)
    stdout, stderr = process.communicate(timeout=60)

    assert (process.returncode, stderr, stdout) == (code, line + "\n", "")


_LATE_SIGNAL = """
import atexit, os, signal, sys
from pathlib import Path

# Sent while Python shuts down, after the run has finished: atexit runs before the interpreter
# puts its default handlers back, which is the moment this test is about.
number = getattr(signal, sys.argv[1])
atexit.register(lambda: os.kill(os.getpid(), number))
sys.argv = ["fravaer", *sys.argv[2:]]
from fravaer.entry import main
main()
"""


@pytest.mark.parametrize("stop", list(STOPS))
def test_a_signal_after_the_run_has_finished_leaves_its_result_and_exit_code(
    tmp_path: Path, export: Path, stop: str
) -> None:
    """A Ctrl-C just after the last line reached a half shut-down interpreter: a traceback in
    an atexit callback, or death by the signal with no line (the hostile pass saw exit -2)."""
    out = tmp_path / "steps.xlsx"
    process = subprocess.run(
        [sys.executable, "-c", _LATE_SIGNAL, stop, *_steps(export, tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert process.returncode == 0, process.stderr
    assert "Traceback" not in process.stderr
    assert "error" not in process.stderr
    assert out.exists()
    assert _temporaries(tmp_path) == []


def test_the_console_script_installs_the_handlers_before_the_cli() -> None:
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert 'fravaer = "fravaer.entry:main"' in text
    found = subprocess.run(
        [sys.executable, "-c", "import sys, fravaer.entry; print('polars' in sys.modules)"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert found.stdout == "False\n"


# -- one lock for one state file ------------------------------------------------------------------


@pytest.mark.parametrize("first", ["report", "escalate"])
def test_report_and_escalate_on_one_state_cannot_run_at_once(
    tmp_path: Path, export: Path, first: str
) -> None:
    config = tmp_path / "report.toml"
    config.write_text(REPORT, encoding="utf-8")
    state = tmp_path / "out" / "state.json"
    report = ["report", "--config", str(config)]
    escalate = ["escalate", str(export), "--state", str(state), "--format", "csv"]
    assert invoke(report).exit_code == 0
    recorded = state.read_bytes()
    running, second = (report, escalate) if first == "report" else (escalate, report)

    process = _stalled(running, tmp_path)
    try:
        result = invoke(second)
    finally:
        process.kill()
        process.communicate(timeout=30)

    line = assert_one_error(result, 75)
    assert line.endswith("state.json.lock: another run holds the lock")
    assert state.read_bytes() == recorded


# -- report.toml: outputs stay inside output_folder and off fravaer's own files --------------------

ONE_OUTPUT = """\
output_folder = "out"
state = "out/state.json"

[inputs]
paths = ["export.csv"]

[[outputs]]
kind = "{kind}"
{key} = "{name}"
"""


@pytest.mark.parametrize(
    ("kind", "key", "name", "problem"),
    [
        ("classification", "file", "../../x.csv", "'..' leads out of output_folder"),
        ("classification", "file", "a/../../x.csv", "'..' leads out of output_folder"),
        ("classification", "file", "{abs}", "not an absolute path"),
        ("meeting_notes", "folder", "../moeder", "'..' leads out of output_folder"),
        ("meeting_notes", "folder", "{abs}", "not an absolute path"),
        ("classification", "file", ".fravaer-report.lock", "hidden names"),
        ("classification", "file", ".x.csv", "hidden names"),
        ("classification", "file", "x.csv.tmp", "no part may end in .tmp"),
        ("classification", "file", "x.fravaer-tmp", "no part may end in"),
        ("classification", "file", "state.json.lock", "no part may end in"),
        ("classification", "file", "manifest.json", "the name of the run's manifest"),
        ("classification", "file", "state.json", "is the same file as the state file"),
        ("classification", "file", "../export.csv", "'..' leads out of output_folder"),
        ("classification", "file", ".", "must name a file"),
    ],
)
def test_report_refuses_an_output_outside_its_folder_or_over_its_own_files(
    tmp_path: Path, export: Path, kind: str, key: str, name: str, problem: str
) -> None:
    """`file = "../../x.csv"` was written outside output_folder while the manifest showed it
    inside; `manifest.json` gave exit 70."""
    config = tmp_path / "report.toml"
    name = name.replace("{abs}", str(tmp_path / "elsewhere" / "x.csv"))
    text = ONE_OUTPUT.replace("{kind}", kind).replace("{key}", key).replace("{name}", name)
    if key == "file":
        text += 'format = "csv"\n'
    config.write_text(text, encoding="utf-8")
    before = sorted(tmp_path.parent.rglob("*"))

    result = invoke(["report", "--config", str(config)])

    line = assert_one_error(result, 78)
    assert line.startswith(f"fravaer: error: {config}:9: field 'outputs.0.{key}': ")
    assert problem in line
    assert sorted(tmp_path.parent.rglob("*")) == before


def test_report_refuses_a_state_that_is_the_manifest(tmp_path: Path, export: Path) -> None:
    config = tmp_path / "report.toml"
    text = ONE_OUTPUT.replace("{kind}", "meeting_notes").replace("{key}", "folder")
    config.write_text(text.replace("{name}", "m").replace("out/state.json", "out/manifest.json"))

    line = assert_one_error(invoke(["report", "--config", str(config)]), 78)

    assert line.endswith("report.toml:2: field 'state': is the same file as the manifest")


# -- TOML that no parser should be asked to hold --------------------------------------------------

DEEP = "a = " + "[" * 100_000 + "]" * 100_000 + "\n"


def _toml_run(kind: str, tmp_path: Path, export: Path, text: str) -> tuple[Result, str]:
    """Run the command that reads a TOML file of ``kind``; return the result and the file."""
    path = tmp_path / f"{kind}.toml"
    path.write_text(text, encoding="utf-8")
    if kind == "report":
        return invoke(["report", "--config", str(path)]), str(path)
    if kind == "source":
        return invoke(["classify", str(export), "--source", str(path), "--format", "csv"]), str(
            path
        )
    return invoke(["classify", str(export), "--policy", str(path), "--format", "csv"]), str(path)


@pytest.mark.parametrize("kind", ["report", "source", "policy"])
def test_deeply_nested_toml_is_78_not_70(tmp_path: Path, export: Path, kind: str) -> None:
    result, path = _toml_run(kind, tmp_path, export, DEEP)

    line = assert_one_error(result, 78)
    assert line == f"fravaer: error: {path}: not valid TOML: nested more than 32 levels deep"


@pytest.mark.parametrize("kind", ["report", "source", "policy"])
def test_toml_nested_just_past_the_limit_is_78(tmp_path: Path, export: Path, kind: str) -> None:
    """Deep enough to pass the parser, too deep for fravaer: the same refusal, with its line."""
    text = "\n\nx = " + "[" * 40 + "1" + "]" * 40 + "\n"

    result, path = _toml_run(kind, tmp_path, export, text)

    line = assert_one_error(result, 78)
    assert line.startswith(f"fravaer: error: {path}:3: field 'x.0.0")
    assert line.endswith("nested more than 32 levels deep")


@pytest.mark.parametrize(
    ("kind", "text", "field"),
    [
        (
            "report",
            ONE_OUTPUT.replace("{kind}", "classification")
            .replace("{key}", "file")
            .replace("{name}", "x\\u0000.csv"),
            "outputs.0.file",
        ),
        ("report", 'output_folder = "o\\u0000ut"\n', "output_folder"),
        ("source", 'roster = "ros\\u0000ter.csv"\n', "roster"),
        ("policy", 'name = "a\\u0000b"\n', "name"),
    ],
    ids=["report-output", "report-folder", "source-roster", "policy-name"],
)
def test_a_nul_in_a_configured_path_is_78(
    tmp_path: Path, export: Path, kind: str, text: str, field: str
) -> None:
    """A NUL reached os calls as a ValueError: exit 70."""
    result, path = _toml_run(kind, tmp_path, export, text)

    line = assert_one_error(result, 78)
    assert f"{path}:" in line
    assert line.endswith(f"field '{field}': holds a NUL character")


# -- a folder every user may write in -------------------------------------------------------------


@pytest.mark.parametrize("sticky", [False, True], ids=["world-writable", "sticky-like-tmp"])
def test_a_world_writable_output_folder_is_named_once_on_stderr(
    tmp_path: Path, export: Path, sticky: bool
) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o1777 if sticky else 0o777)

    result = invoke(
        [
            "escalate",
            str(export),
            "--since",
            "2024-03-01",
            "-o",
            str(shared / "e.csv"),
            "--meeting-notes",
            str(shared),
        ]
    )

    assert result.exit_code == 0, result.stderr
    warnings = [line for line in result.stderr.splitlines() if "warning" in line]
    assert len(warnings) == 1, result.stderr
    assert warnings[0].startswith(f"fravaer: warning: {shared}: every user of this machine can ")
    assert ("replace or delete" in warnings[0]) is not sticky
    assert stat.S_IMODE((shared / "e.csv").stat().st_mode) == 0o600


def test_a_private_output_folder_gets_no_warning(tmp_path: Path, export: Path) -> None:
    (tmp_path / "out").mkdir(mode=0o755)

    result = invoke(["classify", str(export), "-o", str(tmp_path / "out" / "x.csv")])

    assert result.exit_code == 0
    assert "warning" not in result.stderr


STATE_TOML = """\
output_folder = "out"
state = "state.json"

[inputs]
paths = ["export.csv"]

[[outputs]]
kind = "escalations"
file = "e.csv"
format = "csv"
"""


@pytest.mark.parametrize("command", ["escalate", "report"])
def test_a_state_path_that_is_a_fifo_is_refused_not_read_or_replaced(
    tmp_path: Path, export: Path, command: str
) -> None:
    """Reading a FIFO state waited for a writer for ever, and the rename replaced the node: a
    subprocess with a time limit, so that the old behaviour fails instead of hanging."""
    state = tmp_path / "state.json"
    os.mkfifo(state)
    config = tmp_path / "report.toml"
    config.write_text(STATE_TOML, encoding="utf-8")
    args = (
        ["escalate", str(export), "--state", str(state), "--format", "csv"]
        if command == "escalate"
        else ["report", "--config", str(config)]
    )

    done = subprocess.run(
        [sys.executable, "-m", "fravaer", *args], capture_output=True, text=True, timeout=60
    )

    assert (done.returncode, done.stdout) == (73, "")
    assert done.stderr == (
        f"fravaer: error: {state}: is a FIFO (named pipe); fravaer writes only regular files\n"
    )
    assert stat.S_ISFIFO(os.lstat(state).st_mode)


def test_a_new_temporary_file_a_cleaner_holds_is_given_up_for_another(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A cleaner may lock our brand-new file in the instant before we do, and is about to remove
    it: writing into it would end in a failed rename. The writer starts again with a new one."""
    real_flock = fcntl.flock
    held: list[int] = []  # the inode of the file the "cleaner" holds

    def held_once(fd: int, operation: int) -> None:
        if not held:
            held.append(os.fstat(fd).st_ino)
            raise BlockingIOError(11, "Resource temporarily unavailable")
        real_flock(fd, operation)

    monkeypatch.setattr(fcntl, "flock", held_once)

    fd, tmp = fravaer.output._locked_temp(tmp_path, tmp_path / "out.csv", suffix=".fravaer-tmp")
    os.close(fd)

    assert held
    assert tmp.stat().st_ino != held[0]


# -- a unit of many files: one descriptor per folder ---------------------------------------------

_MANY_FILES = """
import resource, sys
from pathlib import Path
from fravaer.output import write_all

resource.setrlimit(resource.RLIMIT_NOFILE, (64, 64))
folder = Path(sys.argv[1])
write_all([(folder / f"{n:04}.md", b"sheet\\n") for n in range(500)])
"""


def test_a_unit_of_more_files_than_open_descriptors_is_written_whole(tmp_path: Path) -> None:
    """A unit once held one descriptor per staged file: 1,500 meeting sheets under a hard
    limit of 2,048 failed (73). Staged in one locked folder, 500 files fit under a limit of 64."""
    folder = tmp_path / "moeder"
    folder.mkdir()

    done = subprocess.run(
        [sys.executable, "-c", _MANY_FILES, str(folder)],
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert done.returncode == 0, done.stderr
    assert len(list(folder.iterdir())) == 500
    assert leftovers(folder) == []


def _stage_folder(folder: Path, name: str = "abcd1234") -> Path:
    stage = folder / f".fravaer-unit.{name}{STAGE_SUFFIX}"
    stage.mkdir(mode=0o700)
    (stage / "0000144.md").write_bytes(b"a dead run's sheet")
    return stage


def test_a_dead_runs_staging_folder_is_removed_and_a_live_ones_kept(tmp_path: Path) -> None:
    dead = _stage_folder(tmp_path, "dead0000")
    live = _stage_folder(tmp_path, "live0000")
    foreign = _stage_folder(tmp_path, "link0000")
    (foreign / "elsewhere").symlink_to(tmp_path / "kept.txt")
    (tmp_path / "kept.txt").write_bytes(b"not ours to remove")
    fd = os.open(live, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)

        write_all([(tmp_path / "a.csv", b"a\n"), (tmp_path / "b.csv", b"b\n")])

        assert not dead.exists()
        assert (live / "0000144.md").exists()  # a live run stages there
        assert (foreign / "elsewhere").is_symlink()  # not only our files: left alone
        assert (tmp_path / "kept.txt").exists()
    finally:
        os.close(fd)
    assert remove_stale(tmp_path) == 1  # the live run ended: its folder goes on the next write
    assert not live.exists()
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith(".")) == [
        "a.csv",
        "b.csv",
        "kept.txt",
    ]
