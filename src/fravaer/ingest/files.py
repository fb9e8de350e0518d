"""Files that ``escalate``, ``report`` and ``site`` read besides the exports: state, config,
the meeting template, digests."""

from __future__ import annotations

import hashlib
import secrets
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Final

from fravaer.config import ReportConfig, parse_config
from fravaer.errors import InputMissingError
from fravaer.ingest.load import resolve_source_paths
from fravaer.ingest.regular import read_regular, read_regular_text
from fravaer.meeting import MeetingTemplate, parse_meeting_template
from fravaer.state import KEY_BYTES, State, keyed, parse_state
from fravaer.tomltext import toml_data

_CHUNK = 1 << 20


def read_state(path: Path) -> State:
    """The state file's content; a missing file is an empty state (a first run).

    A corrupted file, or one from a newer fravaer, is refused (exit 65) and left as it is, and so
    is one that holds anything fravaer does not write there (docs/escalate.md#the-state-file);
    a path that is not a regular file is refused (exit 66). A new state, or one of version 1,
    gets a random key for its pupils (``state.keyed``).
    """
    key = secrets.token_hex(KEY_BYTES)
    if not path.exists():
        return keyed(State(), key)
    # A FIFO would block the run, /dev/zero fill the memory: a regular file only (66).
    data = read_regular(path, what="state file").data
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return parse_state("\ufffd", source=str(path))  # refused as not valid JSON
    return keyed(parse_state(text, source=str(path)), key)


def load_report_config(path: Path) -> ReportConfig:
    """Read a ``report.toml``; errors name the file, line and field (exit 78).

    Paths inside ``[inputs.source]`` (roster, calendar file) are relative to the config file, as
    in a ``source.toml``; the other paths are resolved by the caller against the same folder.
    """
    text = read_regular_text(path, what="config file")
    data: dict[str, Any] = toml_data(text, source=str(path))
    inputs = data.get("inputs")
    if isinstance(inputs, dict) and isinstance(inputs.get("source"), dict):
        resolve_source_paths(inputs["source"], path.parent)
    return parse_config(data, text=text, source=str(path))


MEETING_TEMPLATE: Final = "meeting-template.toml"
"""The bundled meeting template in the package's ``data`` folder: the extended Signs of Safety
questions (docs/site.md#the-meeting-template)."""


@cache
def bundled_meeting_template() -> MeetingTemplate:
    """The meeting template shipped with fravaer.

    >>> bundled_meeting_template().questions("da")[0].question
    'Hvad fungerer?'
    """
    text = (resources.files("fravaer") / "data" / MEETING_TEMPLATE).read_text("utf-8")
    return parse_meeting_template(text, source=MEETING_TEMPLATE)


def read_meeting_template(path: Path | None) -> MeetingTemplate:
    """The meeting template at ``path`` (``--meeting-template``, report.toml's
    ``meeting_template``), or the bundled one for None.

    A file that is not valid TOML or not a template is refused with one line naming the file,
    the line and the key (exit 78); a missing or unreadable one with 66.
    """
    if path is None:
        return bundled_meeting_template()
    text = read_regular_text(path, what="meeting template")
    return parse_meeting_template(text, source=str(path))


def digest(path: Path) -> str:
    """SHA-256 of a file, or of a folder's files (their relative names and contents, in order)."""
    sha = hashlib.sha256()
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    try:
        for file in files:
            if path.is_dir():
                sha.update(file.relative_to(path).as_posix().encode("utf-8") + b"\0")
            with file.open("rb") as handle:
                while chunk := handle.read(_CHUNK):
                    sha.update(chunk)
    except OSError as exc:
        raise InputMissingError(f"{path}: cannot read ({type(exc).__name__})") from None
    return sha.hexdigest()
