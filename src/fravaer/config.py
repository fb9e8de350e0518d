"""The ``report.toml`` of ``fravaer report``: one file that says everything a cron run needs.

It names the inputs (paths and globs, and how to read them: the ``source.toml`` options inline or
a ``source_file``), the policy, the output folder, the state file and the outputs. Each output is
an ``[[outputs]]`` table whose ``kind`` chooses what it writes; a new kind (such as ``stats``) is a
new model in :data:`Output` and a builder in ``fravaer.report.BUILDERS``, nothing else.

Unknown keys are refused with the file and line, like policy and source files (exit 78).
"""

from __future__ import annotations

import posixpath
from pathlib import PurePosixPath
from typing import Annotated, Final, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from fravaer.errors import PolicyError
from fravaer.policy import DEFAULT_POLICY, Lang
from fravaer.schema import has_hidden_character
from fravaer.source import SourceOptions
from fravaer.tomltext import toml_lines

MachineFormat = Literal["csv", "json", "parquet", "xlsx"]
EscalationFormat = Literal["xlsx", "csv", "json", "parquet", "table"]

AS_OF_FIELD = "{as_of}"
"""Written in a file name, replaced by the as-of date (``klassifikation-{as_of}.xlsx``)."""
MANIFEST_NAME: Final = "manifest.json"
LOCK_NAME: Final = ".fravaer-report.lock"
"""The report's lock in its output folder, unless ``lock`` names another file."""
RESERVED_SUFFIXES: Final = (".tmp", ".fravaer-tmp", ".lock")
"""Endings of fravaer's temporary files and locks: no output may be named like them."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Inputs(_Strict):
    """The exports to read and how; relative paths are relative to the config file."""

    paths: tuple[str, ...] = Field(min_length=1)
    source_file: str | None = None
    source: SourceOptions | None = None

    @model_validator(mode="after")
    def _one_source(self) -> Self:
        if self.source_file is not None and self.source is not None:
            raise ValueError("give source_file or an [inputs.source] table, not both")
        return self


class ClassificationOutput(_Strict):
    """Every pupil's step (the output of ``fravaer classify``) in one file."""

    kind: Literal["classification"]
    file: str = Field(min_length=1)
    format: MachineFormat | None = None
    include_left: bool = False


class EscalationsOutput(_Strict):
    """The escalation list (``fravaer escalate``): one file, or one per school in a folder."""

    kind: Literal["escalations"]
    file: str | None = None
    split_by: Literal["school"] | None = None
    folder: str | None = None
    format: EscalationFormat = "xlsx"

    @model_validator(mode="after")
    def _file_or_folder(self) -> Self:
        if self.split_by is None and (self.file is None or self.folder is not None):
            raise ValueError("give file (one list), or split_by = 'school' and a folder")
        if self.split_by is not None and (self.folder is None or self.file is not None):
            raise ValueError("split_by = 'school' writes one file per school into folder")
        return self


class MeetingNotesOutput(_Strict):
    """One preparation sheet per pupil at step 2 or higher, Markdown and HTML, in a folder."""

    kind: Literal["meeting_notes"]
    folder: str = Field(min_length=1)


Output = Annotated[
    ClassificationOutput | EscalationsOutput | MeetingNotesOutput, Field(discriminator="kind")
]
OUTPUT_KINDS = ("classification", "escalations", "meeting_notes")


class ReportConfig(_Strict):
    """The content of a ``report.toml``."""

    output_folder: str = Field(min_length=1)
    state: str | None = None
    lock: str | None = None
    key_file: str | None = None
    """The token key of the meeting sheets' names; default beside the state (fravaer.tokens)."""
    meeting_template: str | None = None
    """The meeting sheets' questions (docs/site.md#the-meeting-template); default: bundled."""
    policy: str = DEFAULT_POLICY
    national: bool = True
    lang: Lang | None = None
    """The language of what people read; none given: FRAVAER_LANG, then Danish (docs/install.md)."""
    inputs: Inputs
    outputs: tuple[Output, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _state_for_escalations(self) -> Self:
        if self.state is None and any(isinstance(o, EscalationsOutput) for o in self.outputs):
            raise ValueError("an escalations output needs a state file: set state = PATH")
        return self


def parse_config(data: dict[str, object], *, text: str, source: str) -> ReportConfig:
    r"""Validate a parsed ``report.toml``; the first error names the file, line and field (78).

    >>> outputs = [{"kind": "meeting_notes", "folder": "m"},
    ...            {"kind": "classification", "file": "x.csv", "colour": 1}]
    >>> text = '[[outputs]]\nkind = "meeting_notes"\n[[outputs]]\ncolour = 1\n'
    >>> parse_config({"output_folder": "ud", "inputs": {"paths": ["a.csv"]}, "outputs": outputs},
    ...              text=text, source="r.toml")
    Traceback (most recent call last):
    ...
    fravaer.errors.PolicyError: r.toml:4: field 'outputs.1.colour': Extra inputs are not permitted
    """
    try:
        config = ReportConfig.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        raw = [str(part) for part in first["loc"]]
        # pydantic puts the chosen kind into the path (outputs.0.classification.x): drop it.
        path = [p for i, p in enumerate(raw) if not (p in OUTPUT_KINDS and i == 2)]
        lines = toml_lines(text)
        line = next(
            (
                lines[tuple(path[:end])]
                for end in range(len(path), 0, -1)
                if tuple(path[:end]) in lines
            ),
            None,
        )
        where = f"{source}:{line}" if line else source
        field = f"field '{'.'.join(path)}': " if path else ""
        problem = first["msg"].removeprefix("Value error, ")
        more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        raise PolicyError(f"{where}: {field}{problem}{more}") from None
    check_paths(config, text=text, source=source)
    return config


WINDOWS_DEVICES: Final = frozenset(
    {"CON", "PRN", "AUX", "NUL", *(f"{port}{n}" for port in ("COM", "LPT") for n in "0123456789")}
)
"""Names Windows keeps for devices, in any case and with any extension (``con.csv``): a Windows
SMB server refuses them or writes into the device."""


def _name_problem(name: str, *, is_file: bool) -> str | None:
    """Why an output's ``file`` or ``folder`` may not be used, if it may not.

    >>> _name_problem("Nul.csv", is_file=True)
    'no part may be a name reserved on Windows (CON, PRN, AUX, NUL, COM1..., LPT1...)'
    """
    if has_hidden_character(name):
        # An escape sequence or a line break in a file name acts in `ls`, `find` and in a
        # cron script's listing (docs/privacy.md); the name is not shown.
        return "holds a control or invisible character"
    if posixpath.isabs(name) or name.startswith("~"):
        return "must be relative to output_folder, not an absolute path"
    parts = PurePosixPath(name).parts
    if ".." in parts:
        return "'..' leads out of output_folder"
    if is_file and not parts:
        return "must name a file inside output_folder"
    for part in parts:
        if part.startswith("."):
            return (
                "no part may start with '.': hidden names are fravaer's locks and temporary files"
            )
        if part.endswith(RESERVED_SUFFIXES):
            return f"no part may end in {', '.join(RESERVED_SUFFIXES)}: fravaer's own files do"
        if part.split(".")[0].rstrip(" ").upper() in WINDOWS_DEVICES:
            return (
                "no part may be a name reserved on Windows (CON, PRN, AUX, NUL, COM1..., LPT1...)"
            )
    if is_file and parts[-1] == MANIFEST_NAME:
        return f"{MANIFEST_NAME} is the name of the run's manifest"
    return None


def check_paths(config: ReportConfig, *, text: str, source: str) -> None:
    r"""Refuse (78, with the line) outputs written outside ``output_folder`` or over its own files.

    An output's ``file`` or ``folder`` is relative to ``output_folder`` and stays inside it: no
    absolute path, no ``..``, no hidden part, nothing named like a lock, a temporary file or the
    manifest; and no output, state, lock or manifest may be the same file as another, or as an
    input named by its path.

    >>> text = 'output_folder = "ud"\n[[outputs]]\nkind = "classification"\nfile = "../x.csv"\n'
    >>> out = {"kind": "classification", "file": "../x.csv"}
    >>> data = {"output_folder": "ud", "inputs": {"paths": ["a.csv"]}, "outputs": [out]}
    >>> parse_config(data, text=text, source="r.toml")
    Traceback (most recent call last):
    ...
    fravaer.errors.PolicyError: r.toml:4: field 'outputs.0.file': '..' leads out of output_folder
    """
    lines = toml_lines(text)

    def refuse(path: tuple[str, ...], problem: str) -> PolicyError:
        line = lines.get(path)
        where = f"{source}:{line}" if line else source
        return PolicyError(f"{where}: field '{'.'.join(path)}': {problem}")

    def at(name: str) -> str:  # relative to the config file's folder, like report.py resolves
        return posixpath.normpath(name)

    folder = at(config.output_folder)
    taken: dict[str, str] = {posixpath.join(folder, MANIFEST_NAME): "the manifest"}
    for i, name in enumerate(config.inputs.paths):
        taken.setdefault(at(name), f"input {i + 1}")
    lock = at(config.lock) if config.lock is not None else posixpath.join(folder, LOCK_NAME)
    for key, path, what in (
        ("state", at(config.state) if config.state else None, "the state file"),
        ("lock", lock if config.lock else None, "the lock"),
    ):
        if path is None:
            continue
        if path in taken:
            raise refuse((key,), f"is the same file as {taken[path]}")
        taken[path] = what
    if config.state is not None and lock == at(config.state) + ".lock":
        raise refuse(("lock",), "is the state file's own lock")
    taken.setdefault(lock, "the lock")
    for i, output in enumerate(config.outputs):
        key = "file" if getattr(output, "file", None) is not None else "folder"
        name = getattr(output, key)
        assert isinstance(name, str)
        problem = _name_problem(name, is_file=key == "file")
        if problem is None and key == "file":
            path = at(posixpath.join(folder, name))
            if path in taken:
                problem = f"is the same file as {taken[path]}"
            taken[path] = f"output {i + 1}"
        if problem is not None:
            raise refuse(("outputs", str(i), key), problem)
