"""Atomic, private writers for the machine formats (docs/exit-codes.md#output-files).

Every file is written to a temporary file in the target's folder — created mode 0600 by
``tempfile.mkstemp`` and held under an exclusive ``flock`` while it is written — flushed, fsynced
and then renamed over the target. A failed run therefore leaves no new or partial file, and an
older output stays intact. The rename only ever lands on a new name or a regular file: a device,
FIFO, socket, folder or symbolic link at the target is refused (exit 73) before any work is
written, and again just before the rename. A temporary file whose writer died (``kill -9``, or a
SIGTERM while polars held the interpreter) is removed by the next write in its folder, since
nobody holds its lock any more (docs/privacy.md#interrupted-runs-and-temporary-files).

Several files written as one unit (:func:`write_all`) are staged in one private folder per target
folder, ``.fravaer-unit.RANDOM.fravaer-stage``, held under one ``flock``: a unit of any size
holds one descriptor per folder, not one per file.
"""

from __future__ import annotations

import contextlib
import copy
import errno
import fcntl
import io
import logging
import os
import re
import signal
import stat
import sys
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from types import FrameType
from typing import IO, Any, Literal

import polars as pl

from fravaer.errors import CannotCreateOutputError, FravaerError, LockHeldError, OutputIOError

log = logging.getLogger("fravaer")

STAGED_SUFFIX = ".fravaer-tmp"
"""Every temporary file of fravaer ends in this; a later write in the folder removes stale ones."""

STAGE_PREFIX = ".fravaer-unit."
STAGE_SUFFIX = ".fravaer-stage"
"""A unit's staging folder is ``.fravaer-unit.RANDOM.fravaer-stage``; a later write in the folder
removes one that a dead run left."""

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
    """Yield a private temporary file that replaces ``path`` only if the block succeeds.

    ``path`` must be a new name or a regular file (exit 73 otherwise, checked before the block
    runs and again just before the rename).
    """
    folder = _target_folder(path)
    check_target(path)
    remove_stale(folder, recursive=False, name=path.name)
    fd, tmp = _locked_temp(folder, path, suffix=STAGED_SUFFIX)
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
            check_target(path)
            # Closed after the rename: the lock on the temporary file lasts until it has its name.
            os.replace(tmp, path)
        _fsync_folder(folder)
    except BaseException as exc:
        tmp.unlink(missing_ok=True)
        if isinstance(exc, OSError) or _io_errno(exc) is not None:
            raise OutputIOError(f"{path}: write failed ({_reason(exc)})") from None
        raise


# -- what a target may be -------------------------------------------------------------------------

_KINDS: tuple[tuple[Callable[[int], bool], str], ...] = (
    (stat.S_ISDIR, "is a folder"),
    (stat.S_ISLNK, "is a symbolic link; give the path it points to"),
    (stat.S_ISCHR, "is a device"),
    (stat.S_ISBLK, "is a device"),
    (stat.S_ISFIFO, "is a FIFO (named pipe)"),
    (stat.S_ISSOCK, "is a socket"),
)
_WARNED_FOLDERS: set[str] = set()


def _target_folder(path: Path) -> Path:
    """The existing folder ``path`` is written in (exit 73 when it is missing)."""
    folder = path.parent if str(path.parent) else Path()
    if not folder.is_dir():
        raise CannotCreateOutputError(f"{path}: the folder does not exist")
    warn_if_shared(folder)
    return folder


def check_target(path: Path) -> None:
    """Refuse (exit 73) anything at ``path`` that an atomic rename must not replace.

    Only a new name or a regular file may be replaced: a rename over a device, FIFO or socket
    would swap the node itself (``-o /dev/null`` as root), and a symbolic link would be replaced
    rather than followed. ``os.lstat`` looks at the name itself, never at what a link points to.
    """
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return
    except (OSError, ValueError) as exc:
        raise CannotCreateOutputError(f"{path}: cannot use as output ({_reason(exc)})") from None
    if stat.S_ISREG(mode):
        return
    problem = next((text for test, text in _KINDS if test(mode)), "is not a regular file")
    raise CannotCreateOutputError(f"{path}: {problem}; fravaer writes only regular files")


def check_output(path: Path) -> None:
    """Refuse an output path before any work is done: a missing folder or a target that is not
    a regular file (exit 73). The writers check it again just before the rename."""
    _target_folder(path)
    check_target(path)


def warn_if_shared(folder: Path) -> None:
    """Warn once per folder when every user of the machine may write in it (docs/privacy.md).

    The files themselves stay 0600, so nobody else can read them; but in a folder without the
    sticky bit anybody can delete or replace them, and in any such folder see their names.
    """
    key = os.path.abspath(folder)
    if key in _WARNED_FOLDERS:
        return
    try:
        mode = os.stat(folder).st_mode
    except (OSError, ValueError):
        return
    if not mode & stat.S_IWOTH:
        return
    _WARNED_FOLDERS.add(key)
    if mode & stat.S_ISVTX:
        log.warning(
            "%s: every user of this machine can create files in this folder and see their "
            "names; keep pupil data in a private folder",
            folder,
        )
    else:
        log.warning(
            "%s: every user of this machine can write in this folder and replace or delete "
            "what fravaer writes there; keep pupil data in a private folder",
            folder,
        )


# -- temporary files, their locks, and the ones a dead run left -----------------------------------


def _locked_temp(folder: Path, path: Path, *, suffix: str) -> tuple[int, Path]:
    """A new private temporary file beside ``path``, under an exclusive ``flock``.

    The lock says "a live run writes this": :func:`remove_stale` removes only files whose lock it
    can take. A cleaner could take the lock of our brand-new file in the instant before we do
    and remove it; then the name no longer leads to our file, and we start again.
    """
    for _ in range(5):
        try:
            fd, name = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=suffix)
        except (OSError, ValueError) as exc:
            raise CannotCreateOutputError(f"{path}: cannot create ({_reason(exc)})") from None
        tmp = Path(name)
        try:
            if _locked_new(fd, tmp):
                return fd, tmp
        except BaseException:
            os.close(fd)
            tmp.unlink(missing_ok=True)
            raise
        os.close(fd)
    raise CannotCreateOutputError(f"{path}: cannot create (temporary files keep disappearing)")


def _locked_new(fd: int, made: Path) -> bool:
    """Is the file or folder just made at ``made`` and open as ``fd`` ours, under an exclusive
    ``flock``? False when a cleaner holds its lock (it took ours for a dead run's and removes
    it) or ``made`` no longer names it: start again. On a file system without ``flock`` it is
    ours unlocked (a cleaner that cannot lock it leaves it alone, our own cleanup removes it).
    """
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
            return False
    return _same_file(fd, made)


def _same_file(fd: int, path: Path) -> bool:
    """Does ``path`` still name the file open as ``fd``?"""
    try:
        found, held = os.lstat(path), os.fstat(fd)
    except OSError:
        return False
    return (found.st_dev, found.st_ino) == (held.st_dev, held.st_ino)


# Names of fravaer's temporary files: `.NAME.RANDOM.fravaer-tmp` (every writer now) and
# `.NAME.RANDOM.tmp` (single files of older versions; mkstemp's 8 random characters).
_LEGACY_TEMP = re.compile(r"^\..+\.[a-z0-9_]{8}\.tmp$")


def _is_temp_name(name: str, legacy_for: str | None) -> bool:
    if name.startswith(".") and name.endswith(STAGED_SUFFIX) and len(name) > len(STAGED_SUFFIX) + 1:
        return True
    return (
        legacy_for is not None
        and name.startswith(f".{legacy_for}.")
        and _LEGACY_TEMP.match(name) is not None
        and len(name) == len(legacy_for) + 14
    )


def _remove_if_stale(path: Path) -> bool:
    """Remove ``path`` if it is our user's regular file and no live process holds its lock."""
    try:
        found = os.lstat(path)
    except OSError:
        return False
    if not stat.S_ISREG(found.st_mode) or found.st_uid != os.geteuid():
        return False
    try:
        fd = os.open(path, os.O_RDWR | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return False
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return False  # a live run is writing it (or the file system cannot tell: keep it)
        if not _same_file(fd, path):
            return False
        try:
            path.unlink()
        except OSError:
            return False
        return True
    finally:
        os.close(fd)


STALE_DEPTH = 4
"""How deep :func:`remove_stale` looks below a folder: ``report`` writes at most
``output_folder/FOLDER/FILE`` (a folder of a few levels at most); a deeper tree was not made
by fravaer, and walking it (1,200 nested folders planted in a shared output folder) is no reason
to fail a run (docs/report.md)."""


def remove_stale(folder: Path, *, recursive: bool = True, name: str | None = None) -> int:
    """Remove temporary files that a killed run left in ``folder``; return how many.

    Only fravaer's own names count (``.NAME.RANDOM.fravaer-tmp``, and with ``name`` also an
    older version's ``.NAME.RANDOM.tmp`` for that file), only regular files of this user, and
    only those whose ``flock`` can be taken: a file a live run is writing is never touched.
    Every atomic write calls this for its folder, so a leftover lives until the next run there.
    ``recursive`` also looks in the subfolders, :data:`STALE_DEPTH` levels down at most, one at
    a time (no recursion), never through a symbolic link.
    """
    if not folder.is_dir():
        return 0
    removed = 0
    for candidate in _hidden_files(folder, STALE_DEPTH if recursive else 0):
        if _is_temp_name(candidate.name, name) and _remove_if_stale(candidate):
            removed += 1
        elif _is_stage_name(candidate.name):
            removed += _remove_stage_if_stale(candidate)
    if removed:
        log.warning("%s: removed %d temporary file(s) left by an interrupted run", folder, removed)
    return removed


def _is_stage_name(name: str) -> bool:
    return (
        name.startswith(STAGE_PREFIX)
        and name.endswith(STAGE_SUFFIX)
        and len(name) > len(STAGE_PREFIX) + len(STAGE_SUFFIX)
    )


def _open_folder(path: Path) -> int | None:
    """A descriptor of ``path`` if it is a real folder (never through a symbolic link)."""
    try:
        return os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:
        return None


def _remove_stage_if_stale(stage: Path) -> int:
    """Remove a dead run's staging folder and the files in it; return how many files.

    Only our user's folder whose ``flock`` can be taken (no live run holds it), and only when it
    holds nothing but our user's regular files: anything else in it leaves the folder alone.
    """
    fd = _open_folder(stage)
    if fd is None:
        return 0
    try:
        if os.fstat(fd).st_uid != os.geteuid():
            return 0
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return 0  # a live run stages its files here
        if not _same_file(fd, stage):
            return 0
        with os.scandir(stage) as scan:
            entries = [Path(entry.path) for entry in scan]
        for entry in entries:
            found = os.lstat(entry)
            if not stat.S_ISREG(found.st_mode) or found.st_uid != os.geteuid():
                return 0
        for entry in entries:
            entry.unlink()
        stage.rmdir()
        return len(entries)
    except OSError:
        return 0
    finally:
        os.close(fd)


def _hidden_files(folder: Path, depth: int) -> list[Path]:
    """The entries named ``.*`` in ``folder`` and its real subfolders ``depth`` levels down."""
    found: list[Path] = []
    stack = [(folder, 0)]
    while stack:
        current, level = stack.pop()
        try:
            with os.scandir(current) as entries:
                for entry in entries:
                    if entry.name.startswith("."):
                        found.append(Path(entry.path))
                    with contextlib.suppress(OSError):
                        if level < depth and entry.is_dir(follow_symlinks=False):
                            stack.append((Path(entry.path), level + 1))
        except OSError:
            continue  # a folder we cannot list holds nothing we left
    return found


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
        return exc.errno  # before any import: it may need a descriptor, and none may be left
    from xlsxwriter.exceptions import (
        FileCreateError,
    )  # imported where needed: start-up (docs/testing.md)

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
        return lambda handle: handle.write(_xlsx_bytes({sheet: frame}))
    raise ValueError(f"not a data format: {fmt}")


def _xlsx_bytes(
    sheets: Mapping[str, pl.DataFrame], *, formats: Mapping[str, str] | None = None
) -> bytes:
    """The workbook's bytes, made in memory: a zip file written straight into the output would,
    on a full disk, be left half-closed, and its clean-up at exit prints a traceback."""
    buffer = io.BytesIO()
    _write_xlsx(sheets, buffer, formats=formats)
    return buffer.getvalue()


def _write_xlsx(
    sheets: Mapping[str, pl.DataFrame],
    handle: IO[bytes],
    *,
    formats: Mapping[str, str] | None = None,
) -> None:
    import xlsxwriter  # only where a workbook is written: start-up (docs/testing.md)

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
        handle.write(_xlsx_bytes(sheets, formats=formats))

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
        import pyarrow.parquet as pq  # type: ignore[import-untyped]  # start-up

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
    write_bytes(text.encode("utf-8"), path)


def write_bytes(data: bytes, path: Path | None) -> None:
    """Write serialised bytes to ``path`` atomically, or to stdout."""
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
    return _xlsx_bytes(sheets, formats=formats)


def ensure_folder(folder: Path) -> None:
    """Create ``folder`` and each missing parent mode 0700; exit 73 if it cannot be.

    An existing folder that every user may write in is used, with a warning (docs/privacy.md);
    so is one made, or reached through a link, in such a folder (``site -o /tmp/side``).
    Every folder made is 0700, not only the last (``mkdir -p`` would make the parents by the
    umask): a report's ``skoler/{school}/...`` names the schools in ``skoler``.
    """
    if folder.is_symlink():
        warn_if_shared(folder.parent)  # whoever can write there could have planted the link
    if folder.is_dir():
        warn_if_shared(folder)
        return
    missing = [f for f in (folder, *folder.parents) if not f.exists()]
    if missing:
        # The folder made is private, but its name is seen, and the next run's folder could
        # be a link planted there: the same warning as for a file written in a shared folder.
        warn_if_shared(missing[-1].parent)
    try:
        for part in reversed(missing):
            part.mkdir(mode=0o700, exist_ok=True)
    except (OSError, ValueError) as exc:
        raise CannotCreateOutputError(f"{folder}: cannot create folder ({_reason(exc)})") from None
    if not folder.is_dir():
        raise CannotCreateOutputError(f"{folder}: is not a folder")


def ensure_folder_inside(root: Path, folder: Path) -> None:
    """:func:`ensure_folder` for a ``folder`` inside ``root``, through no symbolic link below it.

    ``root`` (``report``'s output_folder) may itself be a link: the user named it. A link that
    someone planted below it (``out/eskaleringer`` in a shared output folder) would carry pupil
    lists to wherever it points: exit 73, naming the link (docs/privacy.md). A ``folder`` not
    inside ``root`` (a state kept elsewhere) is made as :func:`ensure_folder` makes it.
    """
    root = Path(os.path.normpath(root))
    try:
        parts = Path(os.path.normpath(folder)).relative_to(root).parts
    except ValueError:
        ensure_folder(folder)
        return
    current = root
    for part in parts:
        current = current / part
        if current.is_symlink():
            raise CannotCreateOutputError(
                f"{current}: is a symbolic link; fravaer writes only into real folders inside "
                "the output folder",
                hint="remove the link, or make the output folder itself point elsewhere",
            )
    ensure_folder(folder)


def _write_fd(fd: int, data: bytes) -> None:
    """Every byte of ``data`` with ``os.write`` (which may write fewer bytes than asked)."""
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _locked_stage(folder: Path, path: Path) -> tuple[int, Path]:
    """A new private (0700) staging folder in ``folder``, under an exclusive ``flock``; an error
    names ``path``, the unit's first file there (:func:`write_all` turns it into the folder).

    As for a temporary file (:func:`_locked_temp`): a cleaner could take the lock of the brand-new
    folder in the instant before we do and remove it; then we start again.
    """
    for _ in range(5):
        try:
            stage = Path(tempfile.mkdtemp(dir=folder, prefix=STAGE_PREFIX, suffix=STAGE_SUFFIX))
        except (OSError, ValueError) as exc:
            raise CannotCreateOutputError(f"{path}: cannot create ({_reason(exc)})") from None
        try:
            fd = os.open(stage, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
        except OSError as exc:
            with contextlib.suppress(OSError):
                stage.rmdir()
            if exc.errno in (errno.ENOENT, errno.ENOTDIR, errno.ELOOP):
                continue  # no longer the folder we made
            raise _cannot_create(path, exc) from None
        try:
            if _locked_new(fd, stage):
                return fd, stage
        except BaseException:
            os.close(fd)
            with contextlib.suppress(OSError):
                stage.rmdir()
            raise
        os.close(fd)
    raise CannotCreateOutputError(f"{path}: cannot create (temporary folders keep disappearing)")


def _stage(stage: Path, path: Path, data: bytes, *, sync: bool) -> Path:
    """``data`` in a private (0600) file of the staging folder, written and closed; with
    ``sync`` also fsynced (else the unit is made durable together: :func:`sync_file_system`)."""
    tmp = stage / path.name
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    try:
        fd = os.open(tmp, flags, 0o600)
    except OSError as exc:
        raise _cannot_create(path, exc) from None
    try:
        _write_fd(fd, data)
        if sync:
            os.fsync(fd)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise OutputIOError(f"{path}: write failed ({_reason(exc)})") from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    finally:
        os.close(fd)
    return tmp


SYNC_TOGETHER = 64
"""A unit of at least this many files (a site's pages) is made durable by one
:func:`sync_file_system` per file system instead of one ``fsync`` per file: each ``fsync`` waits
for its own journal commit and disk flush, so 5,000 pages took 15–20 s of waiting where one
``syncfs`` took 2–5 s (docs/performance.md#the-site). A smaller unit keeps ``fsync``: a
``syncfs`` also writes what other programs left unwritten on that file system."""


def syncfs_function() -> Callable[[int], int] | None:
    """``syncfs(2)`` of the C library (Linux), or None where there is none."""
    import ctypes  # only for a large unit (a site): start-up (docs/testing.md)

    try:
        library = ctypes.CDLL(None, use_errno=True)
        function = library.syncfs
    except (OSError, AttributeError):
        return None
    function.argtypes = [ctypes.c_int]
    function.restype = ctypes.c_int
    return function


def sync_file_system(fd: int, files: Sequence[Path]) -> None:
    """Make every written file of the file system that holds ``fd`` durable: ``syncfs(2)``
    where the C library has it (Linux), else an ``fsync`` of each of ``files`` (the files of
    that file system). Raises ``OSError`` when the kernel reports a failed write (Linux 5.8 and
    later report one that happened since ``fd`` was opened)."""
    import ctypes

    function = syncfs_function()
    if function is not None:
        if function(fd) != 0:
            number = ctypes.get_errno()
            raise OSError(number, os.strerror(number))
        return
    for path in files:
        file_fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
        try:
            os.fsync(file_fd)
        finally:
            os.close(file_fd)


def _sync_together(stages: Mapping[Path, tuple[int, Path]], count: int) -> None:
    """:func:`sync_file_system` once per file system of the unit's staging folders (each
    staging folder's descriptor was opened before any of its files was written). A failure is
    exit 74 naming the first folder on that file system and the unit's count of files."""
    by_device: dict[int, tuple[int, Path, list[Path]]] = {}
    for folder, (fd, stage) in stages.items():
        _, _, files = by_device.setdefault(os.fstat(fd).st_dev, (fd, folder, []))
        with os.scandir(stage) as scan:
            files += [Path(entry.path) for entry in scan]
    for fd, folder, files in by_device.values():
        try:
            sync_file_system(fd, files)
        except OSError as exc:
            raise OutputIOError(
                f"{folder}: {count} file(s): write failed ({_reason(exc)})"
            ) from None


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    """Hold SIGINT and SIGTERM back for the block (the renames of one unit), then deliver them.

    Blocking them in the main thread is not enough: the kernel hands a signal sent to the
    process to any thread that does not block it (polars' worker threads), and Python then runs
    its handler — which raises — in the main thread at its next step, inside the block. So for
    the block each handler only records its signal; once the block is over, the previous
    handlers are back and a recorded signal is raised again (docs/exit-codes.md#signals).
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    held = (signal.SIGINT, signal.SIGTERM)
    caught: list[int] = []

    def record(signum: int, frame: FrameType | None) -> None:
        caught.append(signum)

    mask = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    previous: dict[signal.Signals, Callable[[int, FrameType | None], Any] | int] = {}
    try:
        for number in held:
            handler = signal.getsignal(number)
            if handler is not None and handler is not signal.SIG_IGN:
                previous[number] = handler
                signal.signal(number, record)
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        if caught:
            signal.raise_signal(caught[0])


def write_all(
    files: Sequence[tuple[Path, bytes]], *, then: Callable[[], object] | None = None
) -> None:
    """Write several files as one unit: all of them, or none.

    Every target is checked first (a missing folder, or anything but a regular file at the
    path: exit 73). Each file is then written in full to a private (0600) file in a staging
    folder inside its target's folder (one per folder, 0700, held under one ``flock``, so that a
    unit of any size holds one descriptor per folder), flushed and fsynced; only when every one
    is on disk (a unit of :data:`SYNC_TOGETHER` files or more: written first, then made
    durable together, :func:`sync_file_system`) are the targets checked again and the files
    renamed over them — with SIGINT and
    SIGTERM held back, so that a signal cannot stop the unit half-renamed — and the folders
    fsynced. Any failure before that
    removes the temporary files and leaves every older file as it was: exit 73 when a file
    cannot be created, 74 when writing fails (a full disk). The error names the file's folder
    and a count, never the file: a unit's files may be a pupil's (docs/privacy.md).

    ``then`` runs right after the renames, with the signals still held: what must follow the
    unit whenever it is written (a site's pages of pupils no longer listed are removed).
    """
    targets = [path for path, _ in files]
    if len(set(targets)) != len(targets):
        raise ValueError("two outputs with the same path")
    first_in: dict[Path, Path] = {}  # each folder's first target, found in one pass
    for path in targets:
        first_in.setdefault(path.parent if str(path.parent) else Path(), path)
    folders = sorted(first_in)
    for path in targets:
        try:
            check_output(path)
        except FravaerError as exc:
            raise _in_folder(exc, path, targets) from None
    for folder in folders:
        remove_stale(folder, recursive=False)
    _room_for_descriptors(len(folders))
    stages: dict[Path, tuple[int, Path]] = {}
    try:
        for folder in folders:
            first = first_in[folder]
            try:
                stages[folder] = _locked_stage(folder, first)
            except FravaerError as exc:
                raise _in_folder(exc, first, targets) from None
        staged: list[tuple[Path, Path]] = []
        together = len(files) >= SYNC_TOGETHER
        for path, data in files:
            stage = stages[path.parent if str(path.parent) else Path()][1]
            try:
                staged.append((_stage(stage, path, data, sync=not together), path))
            except FravaerError as exc:
                raise _in_folder(exc, path, targets) from None
        if together:
            _sync_together(stages, len(files))
        for path in targets:
            try:
                check_target(path)
            except FravaerError as exc:
                raise _in_folder(exc, path, targets) from None
        with _signals_held():
            for tmp, path in staged:
                try:
                    os.replace(tmp, path)
                except OSError as exc:
                    problem = OutputIOError(f"{path}: rename failed ({_reason(exc)})")
                    raise _in_folder(problem, path, targets) from None
            if then is not None:
                then()
    except OSError as exc:
        _discard(stages)
        raise OutputIOError(f"write failed ({_reason(exc)})") from None
    except BaseException:
        _discard(stages)
        raise
    _discard(stages)  # empty now: the folders go, and their locks with them
    for folder in folders:
        _fsync_folder(folder)


DESCRIPTOR_MARGIN = 256
"""Open files kept free beside a unit's staging folders (polars, the exports, the lock)."""


def _room_for_descriptors(folders: int) -> None:
    """Make room for a unit that holds one descriptor per folder at once (its staging folder,
    under its lock): a site of more schools than the usual soft limit of 1,024 open files
    raises that limit up to the hard one. When even the hard limit is too low, the staging
    folder that finds no descriptor is exit 73, saying so (:func:`_cannot_create`)."""
    import resource  # only for a unit of many folders (a site): start-up (docs/testing.md)

    wanted = folders + DESCRIPTOR_MARGIN
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY or soft >= wanted:
        return
    raised = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (raised, hard))


_TOO_MANY_FILES_HINT = (
    "a unit holds one open file per folder (a site: one per school); raise the limit of open "
    "files (ulimit -n, or LimitNOFILE= in a systemd unit)"
)


def _cannot_create(path: Path, exc: BaseException) -> CannotCreateOutputError:
    """Exit 73 for ``path``; when the process has no descriptor left, with what to do."""
    crowded = _io_errno(exc) in (errno.EMFILE, errno.ENFILE)
    return CannotCreateOutputError(
        f"{path}: cannot create ({_reason(exc)})", hint=_TOO_MANY_FILES_HINT if crowded else None
    )


def _in_folder(exc: FravaerError, path: Path, targets: Sequence[Path]) -> FravaerError:
    """``exc`` of one file of a unit, naming its folder and a count instead of the file.

    The files of a unit may be a pupil's (a meeting sheet's name holds a token, a school id): an
    error line names the folder, how many of the unit's files are there, and the problem, e.g.
    ``out/moeder: 1 of 37 file(s): write failed (No space left on device)``.
    """
    folder = path.parent if str(path.parent) else Path()
    there = sum(1 for target in targets if target.parent == path.parent)
    text = exc.message.removeprefix(f"{path}: ")
    if path.name in text:  # a message that names the file some other way: only its kind
        text = "cannot be written"
    hint = exc.hint if exc.hint is None or path.name not in exc.hint else None
    named = copy.copy(exc)  # the same class and exit code, whatever its constructor takes
    named.message = f"{folder}: 1 of {there} file(s): {text}"
    named.hint = hint
    named.args = (named.message,)
    return named


def _discard(stages: Mapping[Path, tuple[int, Path]]) -> None:
    """Remove the staging folders and what is still in them, then release their locks."""
    for fd, stage in stages.values():
        with contextlib.suppress(OSError), os.scandir(stage) as scan:
            for entry in scan:
                with contextlib.suppress(OSError):
                    os.unlink(entry.path)
        with contextlib.suppress(OSError):
            stage.rmdir()  # also when it could not be listed (no descriptor left): if empty
        with contextlib.suppress(OSError):
            os.close(fd)


@contextlib.contextmanager
def run_lock(path: Path) -> Iterator[None]:
    """Hold ``path`` as a lock for the block; exit 75 at once if another run holds it.

    The lock is an exclusive ``flock`` on a private (0600) file that stays after the run. A
    missing folder is refused (exit 73) as for any output, not created by the lock; so is a lock
    path that is not a regular file (a symbolic link is never followed, nor a file truncated).
    """
    if not path.parent.is_dir():
        raise CannotCreateOutputError(f"{path}: the folder does not exist")
    check_target(path)
    flags = os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
    try:
        fd = os.open(path, flags, 0o600)
    except (OSError, ValueError) as exc:
        raise CannotCreateOutputError(f"{path}: cannot create the lock ({_reason(exc)})") from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise CannotCreateOutputError(f"{path}: the lock is not a regular file")
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise LockHeldError(
                    f"{path}: another run holds the lock",
                    hint="wait for it to finish; the lock is released when that process ends",
                ) from None
            raise CannotCreateOutputError(f"{path}: cannot lock ({_reason(exc)})") from None
        yield
    finally:
        os.close(fd)


def lock_path_of(state: Path) -> Path:
    """The lock of a state file: ``STATE.lock`` beside it."""
    return state.with_name(f"{state.name}.lock")


def state_lock(state: Path | None) -> contextlib.AbstractContextManager[None]:
    """Hold ``STATE.lock`` from reading the state to recording a run (``escalate``, ``report``).

    Two runs on one state would otherwise both compare with the same previous run and both record
    over it; the second exits 75 at once instead. No state, no lock.
    """
    if state is None:
        return contextlib.nullcontext()
    return run_lock(lock_path_of(state))


# -- a key made on first use (the token key of file names) ----------------------------------------


def create_key_file(path: Path, text: str) -> bool:
    """Create ``path`` holding ``text``, mode 0600, only if it does not exist; True if created.

    ``O_CREAT | O_EXCL`` makes the creation exclusive: a key that exists is never replaced (the
    names made with it would change), and of two runs creating it at once one wins and the other
    reads it. A write that fails removes the file again (exit 73/74, naming the key file: it
    holds no pupil data).
    """
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    except FileExistsError:
        return False
    except OSError as exc:
        raise CannotCreateOutputError(
            f"{path}: cannot create the key file ({_reason(exc)})"
        ) from None
    try:
        try:
            _write_fd(fd, text.encode("ascii"))
            os.fsync(fd)
        finally:
            os.close(fd)
    except BaseException as exc:
        path.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise OutputIOError(f"{path}: write failed ({_reason(exc)})") from None
        raise
    _fsync_folder(path.parent if str(path.parent) else Path())
    return True


# -- a folder of files as one unit (fravaer site) -------------------------------------------------


def write_tree(
    root: Path, files: Sequence[tuple[Path, bytes]], *, prune: re.Pattern[str] | None = None
) -> int:
    """Write ``files``, each inside ``root``, as one unit (:func:`write_all`), making the folders.

    Missing folders (``root`` and those below it) are made 0700 through no symbolic link below
    ``root`` (:func:`ensure_folder_inside`). When the unit fails, the folders this call made are
    removed again, so a failed run leaves nothing behind: no new file and no empty folder
    (docs/site.md).

    With ``prune``, once the unit is written, regular files in ``root``'s real subfolders whose
    names match ``prune`` and that the unit did not write are removed (a pupil's page from an
    earlier run, of a pupil no longer listed there), right after the renames with the signals
    still held, so that a stopped run never leaves the new pages beside the old ones; returns
    how many.
    """
    root = Path(os.path.normpath(root))
    wanted = sorted({root, *(Path(os.path.normpath(p.parent)) for p, _ in files)}, key=str)
    made: list[Path] = []
    removed: list[int] = []

    def pruned() -> None:
        removed.append(0 if prune is None else prune_tree(root, [p for p, _ in files], prune))

    try:
        for folder in wanted:
            missing = [f for f in (folder, *folder.parents) if not f.exists()]
            ensure_folder_inside(root, folder)
            made += [f for f in reversed(missing) if f == root or f.is_relative_to(root)]
        write_all(files, then=pruned)
    except BaseException:
        if not removed:  # the unit was not written
            for folder in reversed(made):
                with contextlib.suppress(OSError):
                    folder.rmdir()  # only when empty: an older file is never touched
        raise
    return sum(removed)


def prune_tree(root: Path, written: Sequence[Path], prune: re.Pattern[str]) -> int:
    """Remove the regular files in ``root``'s real subfolders whose names match ``prune`` and
    that are not in ``written`` (a pupil's page from an earlier run, of a pupil no longer listed
    there); returns how many. A missing ``root`` has none."""
    kept = {os.path.normpath(p) for p in written}
    removed = 0
    if not root.is_dir():
        return 0
    with os.scandir(root) as entries:
        folders = [Path(e.path) for e in entries if e.is_dir(follow_symlinks=False)]
    for folder in folders:
        with os.scandir(folder) as entries:
            for entry in entries:
                if (
                    prune.fullmatch(entry.name)
                    and entry.is_file(follow_symlinks=False)
                    and os.path.normpath(entry.path) not in kept
                ):
                    with contextlib.suppress(OSError):
                        os.unlink(entry.path)
                        removed += 1
    return removed
