"""Reading a key: from a key file (``--key-file``, ``key_file``) or an environment variable.

``pseudonymize``'s key and the token key of file names (``fravaer.tokens``) are read here, with
one rule (:func:`fravaer.pseudonymize.parse_key`), so a key file serves either. No message ever
shows a key: not the file's text, not a variable's value, and not the text given to
``--key-env`` or ``--key-file`` when that text could itself be a key (docs/privacy.md).
"""

from __future__ import annotations

import logging
import os
import re
import stat
from pathlib import Path

from fravaer.errors import InputMissingError
from fravaer.ingest.regular import read_regular
from fravaer.pseudonymize import KEY_HINT, BadKeyError, parse_key

log = logging.getLogger("fravaer")

ENV_NAMED = "the environment variable named by --key-env"
"""How messages name ``--key-env``'s variable: the name given may be a key pasted by mistake."""

KEY_FILE_NAMED = "the file given as the key file"
"""How messages name a key file whose path could be a key (:func:`shown_key_path`)."""

KEY_FILE_MAX_BYTES = 1 << 16
"""A key file is a key and some comment lines: a larger file is not read whole (a mistake, or
``--key-file`` pointed at an export)."""

_KEY_LIKE = re.compile(r"[A-Za-z0-9+/_=-]{43,}")
"""Text that could hold a key of 32 bytes or more: 43 base64 or 64 hex characters, no dot."""


def shown_key_path(path: Path) -> str:
    """``path`` for a message, unless its text could be a key (``--key-file "$KEY"``).

    >>> shown_key_path(Path("/etc/fravaer/token.key"))
    '/etc/fravaer/token.key'
    >>> shown_key_path(Path(bytes(range(32)).hex()))
    'the file given as the key file'

    A long path of key characters only (no dot, no space) is withheld too: a safe mistake.
    """
    text = str(path)
    return KEY_FILE_NAMED if _KEY_LIKE.fullmatch(text.strip()) else text


def read_key_env(name: str) -> bytes:
    """The key in the environment variable ``name`` (exit 78 if unset or unusable).

    The name is never shown: ``--key-env "$KEY"`` puts the key itself where the name belongs.
    """
    text = os.environ.get(name)
    if text is None:
        raise BadKeyError(f"{ENV_NAMED} is not set", hint=KEY_HINT)
    try:
        return parse_key(text)
    except BadKeyError as exc:
        raise BadKeyError(f"{ENV_NAMED}: {exc.message}", hint=exc.hint) from None


def read_key_file(path: Path, *, kept: bool = False) -> bytes:
    """The key in the file ``path``: missing or not a regular file 66, unusable 78.

    A key file the user names (``--key-file``, ``key_file``) may be a link; a FIFO is refused,
    not waited on, and one that others can read is used with a warning. A key fravaer ``kept``
    by itself (the token key beside the state or in the folder written, ``fravaer.tokens``) sits
    where others may write: anyone who plants it there, or a link to a key they know, could
    reverse every token in a file name by trying CPR numbers. It is used only if it is a regular
    file, no link, owned by the running user and not readable or writable by group or others;
    else exit 78 (docs/privacy.md).
    """
    shown = shown_key_path(path)
    try:
        read = read_regular(
            path,
            what="key file",
            limit=KEY_FILE_MAX_BYTES,
            follow=not kept,
            shown=shown,
            missing="no such key file",
        )
    except InputMissingError as exc:
        if not kept or not os.path.lexists(path):
            raise
        raise BadKeyError(exc.message, hint=KEPT_KEY_HINT) from None
    if kept:
        _refuse_unsafe_kept_key(shown, read.status)
    data = read.data
    if len(data) > KEY_FILE_MAX_BYTES:
        raise BadKeyError(
            f"{shown}: larger than a key file ({KEY_FILE_MAX_BYTES} bytes at most)", hint=KEY_HINT
        )
    if read.status.st_mode & 0o077:
        log.warning("%s: the key file can be read by others; chmod 600 it", shown)
    try:
        return parse_key(data.decode("ascii"))
    except UnicodeDecodeError:
        raise BadKeyError(
            f"{shown}: the key is neither hexadecimal nor base64 text", hint=KEY_HINT
        ) from None
    except BadKeyError as exc:
        raise BadKeyError(f"{shown}: {exc.message}", hint=exc.hint) from None


KEPT_KEY_HINT = (
    "if you did not make it so, remove the file: fravaer makes a new token key on the next run "
    "(the names of the pupils' files change once)"
)


def _refuse_unsafe_kept_key(shown: str, status: os.stat_result) -> None:
    """Exit 78 unless a token key fravaer keeps is the running user's own and private."""
    geteuid = getattr(os, "geteuid", None)
    if geteuid is not None and status.st_uid != geteuid():
        raise BadKeyError(
            f"{shown}: the token key file is owned by another user", hint=KEPT_KEY_HINT
        )
    if status.st_mode & 0o077:
        raise BadKeyError(
            f"{shown}: the token key file can be read or written by group or others "
            f"(mode {stat.S_IMODE(status.st_mode):03o})",
            hint=KEPT_KEY_HINT,
        )
