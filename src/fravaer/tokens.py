"""Names of the files fravaer makes: a pupil's token instead of the id, school ids made safe.

No file or folder name that fravaer makes holds a pupil id (docs/privacy.md): a pupil's files
(meeting sheets; ``fravaer site`` pages) are named by :func:`fravaer.pseudonymize.pupil_token`,
an HMAC of the id under a *token key*. :func:`token_key` finds that key, making it on first use,
so that a pupil's files keep their names from week to week:

1. the key file given (``--key-file``, ``key_file`` in ``report.toml``), in the format of
   ``pseudonymize``'s key files; else
2. ``STATE.key`` beside the state file (``escalate --state``, ``report`` with ``state``); else
3. ``.fravaer-token.key`` in the folder written (``escalate --since --meeting-notes DIR``: in
   ``DIR``; ``report`` without a state: in its output folder).

A key made here is 32 random bytes as hex text, created mode 0600 and exclusively. School ids go
into names through :func:`school_names`, which keeps names apart on file systems that ignore
case (SMB shares, macOS).

>>> from fravaer.pseudonymize import pupil_token
>>> key = bytes(range(32))
>>> pupil_token(key, "0000001") == pupil_token(key, "0000001")
True
"""

from __future__ import annotations

import hashlib
import re
import secrets
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Final

from fravaer.config import WINDOWS_DEVICES
from fravaer.ingest.keys import read_key_file
from fravaer.output import create_key_file, ensure_folder
from fravaer.pseudonymize import (
    CPR_PATTERN,
    KEY_MIN_BYTES,
    SCHOOL_HASH_LENGTH,
    BadKeyError,
    shown_school,
)

TOKEN_KEY_NAME: Final = ".fravaer-token.key"
"""The token key in a folder written without a state file (see :func:`token_key_path`)."""
STATE_KEY_SUFFIX: Final = ".key"
"""The token key beside a state file: ``state.json`` -> ``state.json.key``."""

SCHOOL_NAME_MAX: Final = 40
"""Characters of a school id kept in a name; a longer one is cut and gets the hash suffix."""
_PLAIN: Final = re.compile(r"[a-z0-9][a-z0-9._-]*")
_HASHED: Final = re.compile(r"-[0-9a-f]{8}$")
"""How a name that got the hash suffix ends; an id that ends so is not used as it is."""
_RACE_TRIES: Final = 20


def token_key_path(state: Path | None, folder: Path) -> Path:
    """Where the token key lives without ``--key-file``: beside the state, else in ``folder``.

    >>> token_key_path(Path("s/state.json"), Path("out")).as_posix()
    's/state.json.key'
    >>> token_key_path(None, Path("moeder")).as_posix()
    'moeder/.fravaer-token.key'
    """
    if state is not None:
        return state.with_name(state.name + STATE_KEY_SUFFIX)
    return folder / TOKEN_KEY_NAME


def token_key(
    state: Path | None, key_file: Path | None, folder: Path, *, create: bool = True
) -> bytes:
    """The key of the pupils' tokens in file names (order of choice: see the module docstring).

    A given ``key_file`` must exist (66) and hold a usable key (78). A key beside the state or in
    ``folder`` is read — only a regular file, no link, of the running user's and private to
    them, else 78 (``read_key_file`` with ``kept``) — or made when missing; with ``create``
    False (a dry run, which writes nothing) a missing key is replaced by a random one for this
    run only.
    """
    if key_file is not None:
        return read_key_file(key_file)
    path = token_key_path(state, folder)
    if path.exists() or path.is_symlink():
        return read_key_file(path, kept=True)
    if not create:
        return secrets.token_bytes(KEY_MIN_BYTES)
    text = secrets.token_hex(KEY_MIN_BYTES)
    ensure_folder(path.parent)
    if create_key_file(path, text + "\n"):
        return bytes.fromhex(text)
    # Another run made it between our look and our creation: read it once it is written.
    for _ in range(_RACE_TRIES):
        try:
            return read_key_file(path, kept=True)
        except BadKeyError:
            time.sleep(0.05)
    return read_key_file(path, kept=True)


def school_names(schools: Iterable[str], *, reserved: Iterable[str] = ()) -> dict[str, str]:
    """Each school id as part of a file name, distinct even where a file system ignores case.

    An id of lowercase letters, digits, ``.``, ``_`` and ``-`` only, starting with a letter or
    digit, at most :data:`SCHOOL_NAME_MAX` characters, is used as it is (``851001``). Any other
    id — with capitals, characters a name cannot hold (made ``_``, as a leading ``.`` or ``-``,
    so that no name is hidden or read as an option), or too long (cut) — gets ``-`` and the
    first 8 hex digits of the SHA-256 of the id as written. So ``ABC`` and ``abc`` get two names
    on a case-insensitive share, and a school's name does not depend on which other schools are
    in the data: it is the same every week.

    So does an id that would be read as another's name: one that ends like that suffix
    (``a_b-c14cddc0``, the name of ``a/b``), a name Windows keeps for a device (``nul``,
    ``com1.x``: an SMB share refuses it), or one of ``reserved`` (the site's ``index.html``).
    Two ids whose 8 digits still meet (made so on purpose: 32 bits are found by trying) get the
    whole SHA-256 instead, so that no two schools ever share a file or a folder.

    >>> school_names(["851001", "ABC", "abc", "a/b", "a_b-c14cddc0", "nul"])["a_b-c14cddc0"]
    'a_b-c14cddc0-10ed7bd6'
    >>> school_names(["851001", "ABC", "abc", "a/b"])
    {'851001': '851001', 'ABC': 'ABC-b5d4045c', 'abc': 'abc', 'a/b': 'a_b-c14cddc0'}
    """
    kept = {name.casefold() for name in reserved}
    names: dict[str, str] = {}
    hashed: dict[str, str] = {}  # school -> its name without the suffix
    for school in schools:
        if re.fullmatch(CPR_PATTERN, school):  # never in a name: docs/privacy.md
            names[school] = shown_school(school)
            hashed[school] = "school"
            continue
        if (
            _PLAIN.fullmatch(school)
            and len(school) <= SCHOOL_NAME_MAX
            and not _HASHED.search(school)
            and school.split(".")[0].upper() not in WINDOWS_DEVICES
            and school not in kept
        ):
            names[school] = school
            continue
        digest = hashlib.sha256(school.encode("utf-8")).hexdigest()[:SCHOOL_HASH_LENGTH]
        safe = re.sub(r"[^A-Za-z0-9._-]|^[.-]", "_", school)[:SCHOOL_NAME_MAX] or "_"
        names[school] = f"{safe}-{digest}"
        hashed[school] = safe
    by_name: dict[str, list[str]] = {}
    for school, name in names.items():
        by_name.setdefault(name.casefold(), []).append(school)
    for clash in (group for group in by_name.values() if len(group) > 1):
        for school in clash:  # only hashed names can meet: a plain one never ends like a hash
            whole = hashlib.sha256(school.encode("utf-8")).hexdigest()
            names[school] = f"{hashed[school]}-{whole}"
    return names
