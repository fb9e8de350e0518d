"""Opening a file fravaer reads whole — config, policy, source, reference, state, key — as a
regular file only.

A FIFO given as ``--policy`` would block the run for ever (a cron job that never ends and keeps
its lock), ``/dev/zero`` would fill the memory. :func:`read_regular` opens without waiting
(``O_NONBLOCK``: opening a FIFO returns at once), looks at what it opened (``fstat``, no race
between a look and the open), and refuses anything but a regular file with exit 66
(docs/exit-codes.md). Every reader of such a file goes through it.

>>> import tempfile
>>> with tempfile.TemporaryDirectory() as folder:
...     path = Path(folder) / "a.toml"
...     _ = path.write_text("x = 1")
...     read_regular(path, what="config file").data
b'x = 1'
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

from fravaer.errors import InputMissingError

_NONBLOCK = getattr(os, "O_NONBLOCK", 0)
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_BINARY = getattr(os, "O_BINARY", 0)


@dataclass(frozen=True)
class Read:
    """A regular file's bytes (up to the limit asked, plus one) and its status when read."""

    data: bytes
    status: os.stat_result


def read_regular(
    path: Path,
    *,
    what: str,
    limit: int | None = None,
    follow: bool = True,
    shown: str | None = None,
    missing: str | None = None,
    not_regular: str | None = None,
) -> Read:
    """Read ``path`` if it is a regular file; else exit 66 naming it and ``what`` it should be.

    ``limit`` reads at most that many bytes plus one (the caller sees the file is larger);
    ``follow`` False refuses a symbolic link (exit 66, "is a symbolic link"); ``shown`` is how
    messages name the file when its path must not be shown (a key file's path may be a key);
    ``missing`` the words for a file that does not exist (default "WHAT not found"),
    ``not_regular`` for one that is not a regular file (default "the WHAT is not a regular
    file").
    """
    name = str(path) if shown is None else shown
    flags = os.O_RDONLY | _NONBLOCK | _CLOEXEC | _BINARY | (0 if follow else _NOFOLLOW)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise InputMissingError(f"{name}: {missing or what + ' not found'}") from None
    except OSError as exc:
        if not follow and os.path.islink(path):
            raise InputMissingError(f"{name}: the {what} is a symbolic link") from None
        raise InputMissingError(
            f"{name}: cannot read {what} ({exc.strerror or type(exc).__name__})"
        ) from None
    try:
        status = os.fstat(fd)
        if not stat.S_ISREG(status.st_mode):
            raise InputMissingError(f"{name}: {not_regular or f'the {what} is not a regular file'}")
        with os.fdopen(fd, "rb", closefd=False) as handle:
            data = handle.read() if limit is None else handle.read(limit + 1)
    except OSError as exc:
        raise InputMissingError(
            f"{name}: cannot read {what} ({exc.strerror or type(exc).__name__})"
        ) from None
    finally:
        os.close(fd)
    return Read(data, status)


def read_regular_text(path: Path, *, what: str, encoding: str = "utf-8") -> str:
    """The text of the regular file ``path`` (exit 66 if it is not one or is not ``encoding``)."""
    data = read_regular(path, what=what).data
    try:
        return data.decode(encoding)
    except UnicodeDecodeError:
        raise InputMissingError(f"{path}: cannot read {what} (not {encoding} text)") from None


def check_readable(path: Path) -> None:
    """Refuse (exit 66) an export that is missing, not a regular file (a FIFO: at once, without
    waiting on it), or unreadable, before a reader opens it; the file is not read."""
    read_regular(path, what="file", limit=0, missing="no such file", not_regular="not a file")
