"""Atomic, private writers: nothing half-written, files mode 0600 (docs/exit-codes.md)."""

from __future__ import annotations

import contextlib
import gc
import importlib.util
import io
import json
import stat
import sys
import zipfile
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from fravaer.errors import CannotCreateOutputError, OutputIOError
from fravaer.output import (
    SYNC_TOGETHER,
    Format,
    atomic_file,
    format_for_path,
    write_frame,
    write_frames,
    write_text,
    write_tree,
    write_workbook,
)

OLD = b"last Monday's report\n"


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def sample(first: int = 0, n: int = 3) -> pl.DataFrame:
    """Classify-like columns: ids with leading zeros, dates, small ints, floats, nulls, Danish."""
    ids = [f"{i:07d}" for i in range(first, first + n)]
    return pl.DataFrame(
        {
            "pupil_id": ids,
            "class_name": [["5.Æ", None, "7.B"][i % 3] for i in range(n)],
            "grade": pl.Series([i % 11 for i in range(n)], dtype=pl.Int8),
            "as_of": [date(2024, 3, 1)] * n,
            "absence_pct": [100 / 3 + i for i in range(n)],  # not representable in few digits
            "step": pl.Series([None if i % 3 == 1 else i % 4 for i in range(n)], dtype=pl.Int8),
        }
    )


# -- atomic_file --------------------------------------------------------------------------------


def test_atomic_file_writes_a_private_file_and_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "out.csv"

    with atomic_file(target) as handle:
        handle.write(b"a,b\n1,2\n")

    assert target.read_bytes() == b"a,b\n1,2\n"
    assert mode(target) == 0o600
    assert listing(tmp_path) == ["out.csv"]


def test_atomic_file_replaces_a_0644_file_with_a_0600_one(tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    target.write_bytes(OLD)
    target.chmod(0o644)

    with atomic_file(target) as handle:
        handle.write(b"new\n")

    assert target.read_bytes() == b"new\n"
    assert mode(target) == 0o600


@pytest.mark.parametrize(
    ("raised", "expected"),
    [
        (RuntimeError("boom"), RuntimeError),
        (KeyboardInterrupt(), KeyboardInterrupt),
        (OSError(28, "No space left on device"), OutputIOError),
    ],
    ids=["error", "interrupt", "disk-full"],
)
@pytest.mark.parametrize("existing", [True, False], ids=["existing", "new"])
def test_atomic_file_leaves_everything_as_it_was_when_the_block_raises(
    tmp_path: Path, raised: BaseException, expected: type[BaseException], *, existing: bool
) -> None:
    target = tmp_path / "out.csv"
    if existing:
        target.write_bytes(OLD)
        target.chmod(0o644)

    def write_half_then_fail() -> None:
        with atomic_file(target) as handle:
            handle.write(b"half a report")
            raise raised

    with pytest.raises(expected):
        write_half_then_fail()

    if existing:
        assert listing(tmp_path) == ["out.csv"]
        assert target.read_bytes() == OLD
        assert mode(target) == 0o644
    else:
        assert listing(tmp_path) == []


def test_atomic_file_translates_os_errors_to_exit_74(tmp_path: Path) -> None:
    with pytest.raises(OutputIOError) as caught, atomic_file(tmp_path / "out.csv"):
        raise OSError(28, "No space left on device")

    assert caught.value.exit_code == 74
    assert "out.csv" in caught.value.message


def test_atomic_file_in_a_missing_folder_is_exit_73(tmp_path: Path) -> None:
    target = tmp_path / "missing" / "out.csv"

    with pytest.raises(CannotCreateOutputError) as caught, atomic_file(target):
        pytest.fail("the block must not run")

    assert caught.value.exit_code == 73
    assert listing(tmp_path) == []


def test_atomic_file_onto_a_folder_is_exit_73(tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    target.mkdir()

    with pytest.raises(CannotCreateOutputError), atomic_file(target):
        pytest.fail("the block must not run")

    assert listing(tmp_path) == ["out.csv"]
    assert list(target.iterdir()) == []


# -- format_for_path ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "fmt"),
    [
        ("a.csv", "csv"),
        ("a.JSON", "json"),
        ("a.b.parquet", "parquet"),
        ("a.xlsx", "xlsx"),
        ("a.txt", "table"),
        ("a.dat", None),
        ("csv", None),
    ],
)
def test_format_for_path(name: str, fmt: str | None) -> None:
    assert format_for_path(Path(name)) == fmt


# -- write_frame --------------------------------------------------------------------------------


def test_write_frame_csv_round_trips(tmp_path: Path) -> None:
    frame = sample()
    target = tmp_path / "out.csv"

    write_frame(frame, "csv", target)

    assert mode(target) == 0o600
    assert target.read_text(encoding="utf-8").splitlines()[0] == ",".join(frame.columns)
    assert_frame_equal(pl.read_csv(target, schema=frame.schema), frame)


def test_write_frame_json_round_trips(tmp_path: Path) -> None:
    frame = sample()
    target = tmp_path / "out.json"

    write_frame(frame, "json", target)

    assert mode(target) == 0o600
    rows = json.loads(target.read_bytes())
    expected = [
        {k: v.isoformat() if isinstance(v, date) else v for k, v in row.items()}
        for row in frame.to_dicts()
    ]
    assert rows == expected  # floats compare exactly: full precision


def test_write_frame_parquet_round_trips(tmp_path: Path) -> None:
    frame = sample()
    target = tmp_path / "out.parquet"

    write_frame(frame, "parquet", target)

    assert mode(target) == 0o600
    assert_frame_equal(pl.read_parquet(target), frame)


def test_write_frame_parquet_bytes_do_not_depend_on_how_the_rows_are_chunked(
    tmp_path: Path,
) -> None:
    rows = pl.DataFrame({"pupil_id": [f"{i:07d}" for i in range(300_000)], "n": range(300_000)})
    paths = []
    for cut in (1_000, 150_000):
        chunked = pl.concat([rows[:cut], rows[cut:]], rechunk=False)
        assert chunked.n_chunks() == 2
        paths.append(tmp_path / f"cut-{cut}.parquet")
        write_frame(chunked, "parquet", paths[-1])

    assert paths[0].read_bytes() == paths[1].read_bytes()


def test_write_frame_xlsx_is_a_workbook_with_the_sheet(tmp_path: Path) -> None:
    frame = sample()
    target = tmp_path / "out.xlsx"

    write_frame(frame, "xlsx", target, sheet="elever")

    assert mode(target) == 0o600
    assert target.read_bytes()[:4] == b"PK\x03\x04"
    with zipfile.ZipFile(target) as workbook:
        assert workbook.testzip() is None
        assert 'name="elever"' in workbook.read("xl/workbook.xml").decode("utf-8")
    if importlib.util.find_spec("fastexcel") or importlib.util.find_spec("openpyxl"):
        back = pl.read_excel(target, sheet_name="elever")
        assert back["pupil_id"].cast(pl.String).to_list() == frame["pupil_id"].to_list()


def test_write_frame_xlsx_is_byte_identical_on_rerun(tmp_path: Path) -> None:
    first, second = tmp_path / "a.xlsx", tmp_path / "b.xlsx"

    write_frame(sample(), "xlsx", first)
    write_frame(sample(), "xlsx", second)

    assert first.read_bytes() == second.read_bytes()


def test_write_workbook_writes_each_sheet_with_its_number_format(tmp_path: Path) -> None:
    frame = sample()
    target = tmp_path / "book.xlsx"

    write_workbook(
        {"2023-24": frame, "2024-25": frame.head(1)}, target, formats={"absence_pct": "0.0"}
    )

    assert mode(target) == 0o600
    back = pl.read_excel(target, sheet_id=0)
    assert list(back) == ["2023-24", "2024-25"]
    # Excel keeps 15 significant digits; the number format only changes the display.
    assert back["2023-24"]["absence_pct"].to_list() == pytest.approx(frame["absence_pct"].to_list())
    assert back["2024-25"].height == 1
    with zipfile.ZipFile(target) as workbook:
        assert 'formatCode="0.0"' in workbook.read("xl/styles.xml").decode("utf-8")


def test_write_workbook_needs_a_sheet(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="at least one sheet"):
        write_workbook({}, tmp_path / "none.xlsx")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("fmt", ["csv", "json", "parquet"])
def test_write_frame_to_stdout_writes_the_same_bytes_as_to_a_file(
    tmp_path: Path, capsysbinary: pytest.CaptureFixture[bytes], fmt: Format
) -> None:
    target = tmp_path / f"out.{fmt}"
    write_frame(sample(), fmt, target)

    write_frame(sample(), fmt, None)

    captured = capsysbinary.readouterr()
    assert captured.out == target.read_bytes()
    assert captured.err == b""


def test_write_frame_unknown_format_leaves_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    target.write_bytes(OLD)

    with pytest.raises(ValueError, match="not a data format"):
        write_frame(sample(), "table", target)

    assert target.read_bytes() == OLD
    assert listing(tmp_path) == ["out.csv"]


def test_write_text_is_atomic_and_private(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    target.write_bytes(OLD)
    target.chmod(0o644)

    write_text("Fravær pr. 2024-03-01\n", target)

    assert target.read_text(encoding="utf-8") == "Fravær pr. 2024-03-01\n"
    assert mode(target) == 0o600


# -- write_frames ---------------------------------------------------------------------------------


SCHEMA = sample().schema


def frames() -> list[pl.DataFrame]:
    return [sample(0, 3), sample(3, 1), sample(4, 5)]


def test_write_frames_streams_csv_with_one_header(tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    whole = pl.concat(frames())

    rows = write_frames(iter(frames()), "csv", target, schema=SCHEMA)

    assert rows == whole.height == 9
    text = target.read_text(encoding="utf-8")
    assert text.count("pupil_id") == 1
    assert text == whole.write_csv()
    assert mode(target) == 0o600
    assert_frame_equal(pl.read_csv(target, schema=whole.schema), whole)


def test_write_frames_streams_parquet(tmp_path: Path) -> None:
    target = tmp_path / "out.parquet"
    whole = pl.concat(frames())

    rows = write_frames(iter(frames()), "parquet", target, schema=SCHEMA)

    assert rows == whole.height
    assert mode(target) == 0o600
    assert_frame_equal(pl.read_parquet(target), whole)


def failing_stream() -> Iterator[pl.DataFrame]:
    yield sample(0, 3)
    raise RuntimeError("generator failed half-way")


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_write_frames_keeps_the_old_file_when_the_stream_fails(tmp_path: Path, fmt: Format) -> None:
    target = tmp_path / f"out.{fmt}"
    target.write_bytes(OLD)

    with pytest.raises(RuntimeError, match="half-way"):
        write_frames(failing_stream(), fmt, target, schema=SCHEMA)

    assert target.read_bytes() == OLD
    assert listing(tmp_path) == [target.name]


def test_write_frames_closes_the_parquet_writer_when_the_stream_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    unraisable: list[object] = []
    monkeypatch.setattr(sys, "unraisablehook", unraisable.append)

    with contextlib.suppress(RuntimeError):
        write_frames(failing_stream(), "parquet", tmp_path / "out.parquet", schema=SCHEMA)
    gc.collect()

    assert unraisable == []
    assert listing(tmp_path) == []


def test_write_frames_refuses_formats_it_cannot_stream(tmp_path: Path) -> None:
    target = tmp_path / "out.json"

    with pytest.raises(ValueError, match="cannot stream"):
        write_frames(frames(), "json", target, schema=SCHEMA)

    assert listing(tmp_path) == []


def test_write_frames_with_no_frames_still_writes_readable_parquet(tmp_path: Path) -> None:
    target = tmp_path / "out.parquet"

    rows = write_frames([], "parquet", target, schema=SCHEMA)

    assert rows == 0
    assert pl.read_parquet(target).height == 0


def test_write_frames_csv_header_comes_even_from_an_empty_first_frame(tmp_path: Path) -> None:
    """The header is written once even when the first frame is empty."""
    target = tmp_path / "out.csv"
    empty_first = [sample(0, 0), sample(0, 2)]

    write_frames(empty_first, "csv", target, schema=SCHEMA)

    back = pl.read_csv(io.BytesIO(target.read_bytes()), schema=sample().schema)
    assert_frame_equal(back, sample(0, 2))


# -- a unit's errors name the folder and a count, never a file (its name may be a pupil's) -------


@pytest.mark.parametrize(
    ("target", "error", "expected"),
    [
        ("fsync", 28, "1 of 2 file(s): write failed (No space left on device)"),
        ("replace", 5, "1 of 2 file(s): rename failed (Input/output error)"),
    ],
)
def test_a_unit_error_names_the_folder_and_a_count_not_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, target: str, error: int, expected: str
) -> None:
    import os

    from fravaer.output import write_all

    sheets = tmp_path / "moeder"
    sheets.mkdir()
    files = [
        (tmp_path / "liste.csv", b"a\n"),
        (sheets / "851001-3f9c0a6d1e2b4c57-2024-03-08.md", b"x"),
        (sheets / "851001-3f9c0a6d1e2b4c57-2024-03-08.html", b"x"),
    ]
    real = getattr(os, target)

    def fail(*args: object) -> object:
        path = str(args[-1]) if target == "replace" else os.readlink(f"/proc/self/fd/{args[0]}")
        if "3f9c0a6d1e2b4c57" in path:
            raise OSError(error, os.strerror(error))
        return real(*args)

    monkeypatch.setattr(os, target, fail)
    with pytest.raises((OutputIOError, CannotCreateOutputError)) as caught:
        write_all(files)
    monkeypatch.undo()

    assert caught.value.message == f"{sheets}: {expected}"
    assert "3f9c0a6d1e2b4c57" not in caught.value.message
    assert sorted(p.name for p in sheets.iterdir()) == []


# -- a large unit (a site's pages) is made durable together, before any rename -------------------


def _pages(root: Path, count: int, text: bytes) -> list[tuple[Path, bytes]]:
    """``count`` files in two folders below ``root``, as a site has them."""
    return [
        (root / ("a" if i % 2 else "b") / f"{i:016x}.html", text + b"%d" % i) for i in range(count)
    ]


def _regular_fsyncs(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Count ``os.fsync`` calls on regular files (a folder's fsync after the renames is not)."""
    import os

    real, calls = os.fsync, []

    def counted(fd: int) -> None:
        if stat.S_ISREG(os.fstat(fd).st_mode):
            calls.append(fd)
        real(fd)

    monkeypatch.setattr(os, "fsync", counted)
    return calls


@pytest.mark.parametrize("count", [SYNC_TOGETHER - 1, SYNC_TOGETHER, 3 * SYNC_TOGETHER])
def test_a_large_unit_is_synced_once_per_file_system_a_small_one_per_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, count: int
) -> None:
    import fravaer.output as output

    files = _pages(tmp_path / "site", count, b"<p>")
    fsyncs = _regular_fsyncs(monkeypatch)
    synced: list[int] = []
    real_sync = output.sync_file_system

    def recorded(fd: int, staged: list[Path]) -> None:
        # Every file is written in full and still staged when the file system is synced.
        assert sorted(p.read_bytes() for p in staged) == sorted(data for _, data in files)
        assert not any(path.exists() for path, _ in files)
        synced.append(len(staged))
        real_sync(fd, staged)

    monkeypatch.setattr(output, "sync_file_system", recorded)
    write_tree(tmp_path / "site", files)
    monkeypatch.undo()

    together = count >= SYNC_TOGETHER
    assert synced == ([count] if together else [])  # one file system: one sync
    assert len(fsyncs) == (0 if together else count)
    for path, data in files:
        assert path.read_bytes() == data
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in (tmp_path / "site").iterdir() if p.name.startswith(".")] == []


def test_without_syncfs_a_large_unit_fsyncs_each_file_after_writing_them_all(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import fravaer.output as output

    files = _pages(tmp_path / "site", SYNC_TOGETHER, b"<p>")
    fsyncs = _regular_fsyncs(monkeypatch)
    monkeypatch.setattr(output, "syncfs_function", lambda: None)

    write_tree(tmp_path / "site", files)
    monkeypatch.undo()

    assert len(fsyncs) == SYNC_TOGETHER
    assert all(path.read_bytes() == data for path, data in files)


@pytest.mark.parametrize("error", [28, 5])
def test_a_failed_sync_of_a_large_unit_leaves_the_older_files_and_nothing_staged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, error: int
) -> None:
    import os

    import fravaer.output as output

    root = tmp_path / "site"
    write_tree(root, _pages(root, SYNC_TOGETHER, b"old"))
    before = {p: p.read_bytes() for p in root.rglob("*") if p.is_file()}

    def fail(fd: int, staged: list[Path]) -> None:
        raise OSError(error, os.strerror(error))

    monkeypatch.setattr(output, "sync_file_system", fail)
    with pytest.raises(OutputIOError) as caught:
        write_tree(root, _pages(root, SYNC_TOGETHER + 1, b"new"))
    monkeypatch.undo()

    folder = min((root / "a", root / "b"), key=str)
    reason = os.strerror(error)
    assert caught.value.message == f"{folder}: {SYNC_TOGETHER + 1} file(s): write failed ({reason})"
    assert ".html" not in caught.value.message  # never a page's name (a pupil's token)
    assert {p: p.read_bytes() for p in root.rglob("*") if p.is_file()} == before
    assert list(root.rglob(".*")) == []


_STALLED_SYNC = """
import sys, time
from pathlib import Path
import fravaer.output as output

marker, root = Path(sys.argv[1]), Path(sys.argv[2])

def stalled(fd, staged):
    marker.write_text("syncing")
    time.sleep(120)

output.sync_file_system = stalled
files = [(root / ("a" if i % 2 else "b") / f"{i:016x}.html", b"new") for i in range(100)]
output.write_tree(root, files)
"""


def test_a_large_unit_killed_while_syncing_leaves_the_older_files(tmp_path: Path) -> None:
    import os
    import signal
    import subprocess
    import time

    root = tmp_path / "site"
    write_tree(root, _pages(root, SYNC_TOGETHER, b"old"))
    before = {p: p.read_bytes() for p in root.rglob("*") if p.is_file()}
    marker = tmp_path / "marker"
    process = subprocess.Popen([sys.executable, "-c", _STALLED_SYNC, str(marker), str(root)])
    try:
        deadline = time.monotonic() + 60
        while not marker.exists() and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.02)
        assert marker.exists(), "the unit never reached its sync"
        os.kill(process.pid, signal.SIGKILL)
    finally:
        process.wait(timeout=30)

    visible = {
        p: p.read_bytes() for p in root.rglob("*") if p.is_file() and ".fravaer" not in str(p)
    }
    assert visible == before  # the staged pages never got their names
    # What the killed run left is its staging folders, removed by the next write there.
    write_tree(root, _pages(root, 2, b"next"))
    assert list(root.rglob(".*")) == []
