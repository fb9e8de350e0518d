"""Where fravaer writes: output targets, ``-o -``, signals, temporary files, locks, report paths.

The promises are in docs/exit-codes.md#output-files and docs/privacy.md: the atomic rename only
ever lands on a new name or a regular file; ``-o -`` is stdout; SIGINT and SIGTERM end a run with
one line, exit 130 or 143 and no temporary file; a dead run's temporary file is removed by the
next write in its folder, never one a live run holds; ``report`` and ``escalate`` share one lock
per state file; ``report.toml`` cannot write outside its output folder or over fravaer's own
files. Signals, kills and locks are tested with real processes.
"""

from __future__ import annotations

import os
import socket
import stat
from collections.abc import Callable
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner, Result

import fravaer.output
from fravaer.cli import app
from fravaer.errors import CannotCreateOutputError
from fravaer.output import atomic_file, write_all, write_frame
from tests.harden import assert_one_error
from tests.test_battery import csv_text

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

    def stage_then_swap(path: Path, data: bytes) -> tuple[Path, int]:
        staged = real_stage(path, data)
        if path.name == "b.csv":
            os.mkfifo(path)  # another process puts a FIFO there while the unit is staged
        return staged

    monkeypatch.setattr(fravaer.output, "_stage", stage_then_swap)

    with pytest.raises(CannotCreateOutputError, match=r"b\.csv: is a FIFO"):
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
    assert "steps.csv: is a FIFO" in line
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        ".fravaer-report.lock",
        "state.json.lock",
        "steps.csv",
    ]
