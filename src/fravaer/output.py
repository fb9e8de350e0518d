"""Atomic, private writers for the machine formats (SPEC §5, §6).

Every file is written to a temporary file in the target's folder — created mode 0600 by
``tempfile.mkstemp`` — flushed, fsynced and then renamed over the target. A failed run therefore
leaves no new or partial file, and an older output stays intact.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import IO, Literal

import filelock
import polars as pl
import pyarrow.parquet as pq  # type: ignore[import-untyped]
import xlsxwriter
from xlsxwriter.exceptions import FileCreateError

from fravaer.errors import CannotCreateOutputError, LockHeldError, OutputIOError

Format = Literal["table", "csv", "json", "parquet", "xlsx"]
BINARY_FORMATS: tuple[Format, ...] = ("parquet", "xlsx")
SUFFIX_FORMATS: dict[str, Format] = {
    ".csv": "csv",
    ".json": "json",
    ".parquet": "parquet",
    ".xlsx": "xlsx",
    ".txt": "table",
}

# xlsx embeds its creation time; a fixed one keeps re-runs byte-identical.
_XLSX_CREATED = datetime(2000, 1, 1)


def format_for_path(path: Path) -> Format | None:
    """The format a file name implies (``.csv`` -> csv), if any."""
    return SUFFIX_FORMATS.get(path.suffix.lower())


@contextlib.contextmanager
def atomic_file(path: Path) -> Iterator[IO[bytes]]:
    """Yield a private temporary file that replaces ``path`` only if the block succeeds."""
    folder = path.parent if str(path.parent) else Path()
    if not folder.is_dir():
        raise CannotCreateOutputError(f"{path}: the folder does not exist")
    if path.is_dir():
        raise CannotCreateOutputError(f"{path}: is a folder")
    try:
        fd, tmp_name = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise CannotCreateOutputError(f"{path}: cannot create ({_reason(exc)})") from None
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
        _fsync_folder(folder)
    except BaseException as exc:
        tmp.unlink(missing_ok=True)
        if isinstance(exc, OSError) or _io_errno(exc) is not None:
            raise OutputIOError(f"{path}: write failed ({_reason(exc)})") from None
        raise


def _fsync_folder(folder: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


_ERRNO = re.compile(r"\[Errno (\d+)\]")


def _io_errno(exc: BaseException) -> int | None:
    """The errno of an I/O error, also when polars passes it on wrapped (``... [Errno 28] ...``).

    polars re-raises a failed write of its own as an ``OSError`` without ``errno``, a failed
    Parquet write as a ``ComputeError``, and xlsxwriter as a ``FileCreateError``: they carry the
    operating system's text, never data.
    """
    if isinstance(exc, OSError) and exc.errno:
        return exc.errno
    if isinstance(exc, OSError | pl.exceptions.PolarsError | FileCreateError):
        found = _ERRNO.search(str(exc))
        return int(found[1]) if found else None
    return None


def _reason(exc: BaseException) -> str:
    number = _io_errno(exc)
    return os.strerror(number) if number else type(exc).__name__


def _serialise(frame: pl.DataFrame, fmt: Format, *, sheet: str) -> Callable[[IO[bytes]], object]:
    if fmt == "csv":
        return lambda handle: frame.write_csv(handle)
    if fmt == "json":
        return lambda handle: handle.write(frame.write_json().encode("utf-8"))
    if fmt == "parquet":
        # polars cuts row groups at chunk boundaries, and a streaming or bucketed collect chunks
        # the same rows differently from run to run: one chunk makes the bytes the same.
        return lambda handle: frame.rechunk().write_parquet(handle)
    if fmt == "xlsx":
        return lambda handle: _write_xlsx({sheet: frame}, handle)
    raise ValueError(f"not a data format: {fmt}")


def _write_xlsx(
    sheets: Mapping[str, pl.DataFrame],
    handle: IO[bytes],
    *,
    formats: Mapping[str, str] | None = None,
) -> None:
    # Text from the data is only ever text: xlsxwriter would otherwise turn "=..." into a live
    # formula, "http://..." into a link and "1e5" into a number (docs/privacy.md).
    workbook = xlsxwriter.Workbook(
        handle,
        {
            "in_memory": True,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
        },
    )
    workbook.set_properties({"created": _XLSX_CREATED})
    used: set[str] = set()

    def sheet_name(wanted: str) -> str:
        """``wanted`` as a name Excel takes: no []:*?/\\ or control character, no ' at either
        end, at most 31 UTF-16 units, and unlike every earlier name in any case."""
        base = re.sub(r"[\[\]:*?/\\\x00-\x1f\x7f-\x9f]", "_", wanted).strip("'") or "data"
        name, number = base, 1
        while len(name.encode("utf-16-le")) > 62 or name.lower() in used or name.endswith("'"):
            if len(name.encode("utf-16-le")) > 62 or name.endswith("'"):
                base = base[:-1]
            else:
                number += 1
            name = base if number == 1 else f"{base}~{number}"
        used.add(name.lower())
        return name

    for sheet, frame in sheets.items():
        frame.write_excel(
            workbook,
            worksheet=sheet_name(sheet),
            autofit=True,
            freeze_panes=(1, 0),
            float_precision=1,
            dtype_formats={pl.Date: "yyyy-mm-dd"},
            column_formats={k: v for k, v in (formats or {}).items() if k in frame.columns} or None,
        )
    workbook.close()


def write_workbook(
    sheets: Mapping[str, pl.DataFrame],
    path: Path | None,
    *,
    formats: Mapping[str, str] | None = None,
) -> None:
    """Write several frames as the sheets of one xlsx workbook, atomically (or to stdout).

    ``formats`` maps column names to Excel number formats (e.g. ``"0.0"``) wherever they occur;
    the format only changes the display. Sheet names must be unique and at most 31 characters.
    """
    if not sheets:
        raise ValueError("a workbook needs at least one sheet")

    def serialise(handle: IO[bytes]) -> None:
        _write_xlsx(sheets, handle, formats=formats)

    if path is None:
        _to_stdout(serialise)
        return
    with atomic_file(path) as handle:
        serialise(handle)


def write_frame(
    frame: pl.DataFrame, fmt: Format, path: Path | None, *, sheet: str = "data"
) -> None:
    """Write ``frame`` as ``fmt`` to ``path`` atomically, or to stdout when ``path`` is None.

    Numbers keep full precision in every format (xlsx only formats their display).
    """
    serialise = _serialise(frame, fmt, sheet=sheet)
    if path is None:
        _to_stdout(serialise)
        return
    with atomic_file(path) as handle:
        serialise(handle)


def write_frames(
    frames: Iterable[pl.DataFrame], fmt: Format, path: Path, *, schema: pl.Schema
) -> int:
    """Stream frames of ``schema`` into one csv or parquet file atomically; return the row count.

    Memory stays bounded by one frame, so a national-size file can be written. An empty stream
    still gives a valid file with the header (csv) or schema (parquet).
    """
    if fmt not in ("csv", "parquet"):
        raise ValueError(f"cannot stream {fmt}")
    rows = 0
    with atomic_file(path) as handle:
        if fmt == "csv":
            pl.DataFrame(schema=schema).write_csv(handle)
            for frame in frames:
                frame.write_csv(handle, include_header=False)
                rows += frame.height
            return rows
        writer = pq.ParquetWriter(handle, pl.DataFrame(schema=schema).to_arrow().schema)
        try:
            for frame in frames:
                writer.write_table(frame.to_arrow())
                rows += frame.height
        finally:
            writer.close()
    return rows


def write_text(text: str, path: Path | None) -> None:
    """Write rendered text to ``path`` atomically, or to stdout."""
    data = text.encode("utf-8")
    if path is None:
        _to_stdout(lambda handle: handle.write(data))
        return
    with atomic_file(path) as handle:
        handle.write(data)


def _to_stdout(serialise: Callable[[IO[bytes]], object]) -> None:
    """Serialise in memory, then write: polars' own broken-pipe error carries no errno."""
    buffer = io.BytesIO()
    serialise(buffer)
    sys.stdout.flush()
    try:
        sys.stdout.buffer.write(buffer.getvalue())
        sys.stdout.buffer.flush()
    except BrokenPipeError:
        # The reader went away (e.g. `| head`): not our error; keep Python quiet at exit.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except OSError as exc:
        raise OutputIOError(f"stdout: write failed ({_reason(exc)})") from None


# -- several files as one unit (escalate, report) -------------------------------------------------

STAGED_SUFFIX = ".fravaer-tmp"
"""Temporary files of :func:`write_all` end in this; a later run may remove stale ones."""


def serialise_frame(frame: pl.DataFrame, fmt: Format, *, sheet: str = "data") -> bytes:
    """``frame`` as the bytes of ``fmt`` (csv, json, parquet or xlsx), in memory."""
    buffer = io.BytesIO()
    _serialise(frame, fmt, sheet=sheet)(buffer)
    return buffer.getvalue()


def serialise_workbook(
    sheets: Mapping[str, pl.DataFrame], *, formats: Mapping[str, str] | None = None
) -> bytes:
    """Several frames as the sheets of one xlsx workbook, in memory (see :func:`write_workbook`)."""
    if not sheets:
        raise ValueError("a workbook needs at least one sheet")
    buffer = io.BytesIO()
    _write_xlsx(sheets, buffer, formats=formats)
    return buffer.getvalue()


def ensure_folder(folder: Path) -> None:
    """Create ``folder`` (and its parents) mode 0700 if it is missing; exit 73 if it cannot be."""
    if folder.is_dir():
        return
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise CannotCreateOutputError(f"{folder}: cannot create folder ({_reason(exc)})") from None
    if not folder.is_dir():
        raise CannotCreateOutputError(f"{folder}: is not a folder")


def _write_fd(fd: int, data: bytes) -> None:
    """Every byte of ``data`` with ``os.write`` (which may write fewer bytes than asked)."""
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _stage(path: Path, data: bytes) -> Path:
    """``data`` in a private temporary file beside ``path``, flushed and fsynced."""
    folder = path.parent if str(path.parent) else Path()
    if not folder.is_dir():
        raise CannotCreateOutputError(f"{path}: the folder does not exist")
    if path.is_dir():
        raise CannotCreateOutputError(f"{path}: is a folder")
    try:
        fd, name = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=STAGED_SUFFIX)
    except OSError as exc:
        raise CannotCreateOutputError(f"{path}: cannot create ({_reason(exc)})") from None
    tmp = Path(name)
    try:
        try:
            _write_fd(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise OutputIOError(f"{path}: write failed ({_reason(exc)})") from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return tmp


def write_all(files: Sequence[tuple[Path, bytes]]) -> None:
    """Write several files as one unit: all of them, or none.

    Each file is first written in full to a private (0600) temporary file in its target's folder,
    flushed and fsynced; only when every one is on disk are they renamed over their targets, and
    the folders fsynced. Any failure before that removes the temporary files and leaves every
    older file as it was: exit 73 when a file cannot be created, 74 when writing fails (a full
    disk).
    """
    targets = [path for path, _ in files]
    if len(set(targets)) != len(targets):
        raise ValueError("two outputs with the same path")
    staged: list[tuple[Path, Path]] = []
    try:
        for path, data in files:
            staged.append((_stage(path, data), path))
        for tmp, path in staged:
            os.replace(tmp, path)
    except OSError as exc:
        for tmp, _ in staged:
            tmp.unlink(missing_ok=True)
        raise OutputIOError(f"rename failed ({_reason(exc)})") from None
    except BaseException:
        for tmp, _ in staged:
            tmp.unlink(missing_ok=True)
        raise
    for folder in sorted({path.parent for path in targets}):
        _fsync_folder(folder)


def remove_stale(folder: Path, *, recursive: bool = True) -> int:
    """Remove temporary files left in ``folder`` by a run that was killed; return how many.

    Call only while holding the run's lock, so that no running write loses its file.
    """
    removed = 0
    if not folder.is_dir():
        return 0
    pattern = f".*{STAGED_SUFFIX}"
    for stale in folder.rglob(pattern) if recursive else folder.glob(pattern):
        with contextlib.suppress(OSError):
            stale.unlink()
            removed += 1
    return removed


@contextlib.contextmanager
def run_lock(path: Path) -> Iterator[None]:
    """Hold ``path`` as a lock for the block; exit 75 at once if another run holds it.

    A missing folder is refused (exit 73) as for any output, not created by the lock.
    """
    if not path.parent.is_dir():
        raise CannotCreateOutputError(f"{path}: the folder does not exist")
    lock = filelock.FileLock(path, timeout=0, mode=0o600)
    try:
        lock.acquire()
    except filelock.Timeout:
        raise LockHeldError(
            f"{path}: another run holds the lock",
            hint="wait for it to finish; the lock is released when that process ends",
        ) from None
    except OSError as exc:
        raise CannotCreateOutputError(f"{path}: cannot create the lock ({_reason(exc)})") from None
    try:
        yield
    finally:
        lock.release()
