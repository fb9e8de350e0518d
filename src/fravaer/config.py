"""The ``report.toml`` of ``fravaer report``: one file that says everything a cron run needs.

It names the inputs (paths and globs, and how to read them: the ``source.toml`` options inline or
a ``source_file``), the policy, the output folder, the state file and the outputs. Each output is
an ``[[outputs]]`` table whose ``kind`` chooses what it writes; a new kind is a new model in
:data:`Output` and a builder in ``fravaer.report.BUILDERS``, nothing else
(docs/report.md#adding-an-output-kind). An output with ``split_by = "school"`` is written once
per school, its ``file`` or ``folder`` naming the school with :data:`SCHOOL_FIELD`.

Unknown keys are refused with the file and line, like policy and source files (exit 78).
"""

from __future__ import annotations

import posixpath
from pathlib import PurePosixPath
from typing import Annotated, Final, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from fravaer.errors import FravaerError, PolicyError
from fravaer.headings import Headers
from fravaer.policy import DEFAULT_POLICY, Lang
from fravaer.schema import has_hidden_character
from fravaer.source import SourceOptions
from fravaer.stats import MIN_CELL_DEFAULT, MIN_CELL_FLOOR, parse_by
from fravaer.tomltext import toml_lines
from fravaer.trend import HORIZON_DAYS

MachineFormat = Literal["csv", "json", "parquet", "xlsx"]
EscalationFormat = Literal["xlsx", "csv", "json", "parquet", "table"]
TableFormat = EscalationFormat
"""A machine format, or ``table``: the command's table view in a text file, 160 columns wide."""
Split = Literal["school"]

AS_OF_FIELD = "{as_of}"
"""Written in a file name, replaced by the as-of date (``klassifikation-{as_of}.xlsx``)."""
SCHOOL_FIELD: Final = "{school}"
"""Written in the ``file`` or ``folder`` of an output split by school, replaced by the school's
folder name (``fravaer.site_files.school_folders``: the id made safe, never a pupil's)."""
STATUS_SUFFIX: Final = ".status.json"
"""The status file beside the lock: ``.fravaer-report.lock`` -> ``.fravaer-report.status.json``
(docs/report.md#the-status-file)."""
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
    """Every pupil's step (the output of ``fravaer classify``) in one file, or one per school."""

    kind: Literal["classification"]
    file: str = Field(min_length=1)
    format: MachineFormat | None = None
    include_left: bool = False
    split_by: Split | None = None


class EscalationsOutput(_Strict):
    """The escalation list (``fravaer escalate``): one file, or one per school.

    Split by school, either ``folder`` without ``{school}`` (each school's list named
    ``escalations-SCHOOL-ASOF`` in that folder, the form before ``{school}`` existed), or
    ``{school}`` in ``file`` or ``folder``.
    """

    kind: Literal["escalations"]
    file: str | None = None
    split_by: Split | None = None
    folder: str | None = None
    format: EscalationFormat = "xlsx"

    @model_validator(mode="after")
    def _file_or_folder(self) -> Self:
        if self.split_by is None and (self.file is None or self.folder is not None):
            raise ValueError("give file (one list), or split_by = 'school' and a folder")
        if self.split_by is not None and (self.file is None) == (self.folder is None):
            raise ValueError(
                "split_by = 'school' writes one file per school: give a folder, or a file "
                "with {school}"
            )
        return self


class MeetingNotesOutput(_Strict):
    """One preparation sheet per pupil at step 2 or higher, Markdown and HTML, in a folder (one
    folder per school with ``split_by``)."""

    kind: Literal["meeting_notes"]
    folder: str = Field(min_length=1)
    split_by: Split | None = None


class StatsOutput(_Strict):
    """The statistics of ``fravaer stats``: small groups hidden, the national figures beside
    them, in a file and optionally a chart of the share over 10 % per school."""

    kind: Literal["stats"]
    file: str = Field(min_length=1)
    format: TableFormat | None = None
    by: str = "school"
    period: str | None = None
    """As ``--period``; none: the school year of the as-of date."""
    min_cell: int = Field(default=MIN_CELL_DEFAULT, ge=MIN_CELL_FLOOR)
    suppression: bool = True
    """false is ``--no-suppression``: for internal use only, never publish."""
    reference: str | None = None
    """A CSV of national figures (``--reference``), relative to the config file."""
    chart: str | None = None
    """A .png or .svg in the output folder: the share over 10 % per school (``--chart``)."""
    split_by: Split | None = None

    @model_validator(mode="after")
    def _known_grouping(self) -> Self:
        try:
            parse_by(self.by)
        except FravaerError as exc:
            raise ValueError(exc.message.replace("--by: ", "")) from None
        if self.chart is not None and PurePosixPath(self.chart).suffix.lower() not in CHARTS:
            raise ValueError("chart must end in .png or .svg")
        return self


class EarlyWarningOutput(_Strict):
    """The pupils below step 1 to act on now (``fravaer early-warning``)."""

    kind: Literal["early_warning"]
    file: str = Field(min_length=1)
    format: TableFormat | None = None
    horizon: int = Field(default=HORIZON_DAYS, ge=1, le=200)
    split_by: Split | None = None


class SiteOutput(_Strict):
    """The pages of ``fravaer site`` in ``folder``: the municipality's page and a folder per
    school. Not split: the site has a folder per school already (docs/report.md)."""

    kind: Literal["site"]
    folder: str = Field(min_length=1)
    school_names: str | None = None
    """A CSV of school_id and name (``--school-names``), relative to the config file."""
    split_by: Split | None = None
    """Refused (:func:`check_paths`): the site has a folder per school already."""


Output = Annotated[
    ClassificationOutput
    | EscalationsOutput
    | MeetingNotesOutput
    | StatsOutput
    | EarlyWarningOutput
    | SiteOutput,
    Field(discriminator="kind"),
]
OUTPUT_KINDS = ("classification", "escalations", "meeting_notes", "stats", "early_warning", "site")
CHARTS: Final = (".png", ".svg")


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
    headers: Headers = "lang"
    """xlsx column headings: in ``lang`` for people, or ``snake``: the machine names."""
    school_names: str | None = None
    """A CSV of school ids and names: a name column beside the id in xlsx (docs/report.md)."""
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
    taken.setdefault(status_of(lock), "the status file")
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
        for key, problem in _output_problems(output):
            if problem is None and key in ("file", "chart"):
                path = at(posixpath.join(folder, getattr(output, key)))
                if path in taken:
                    problem = f"is the same file as {taken[path]}"
                taken[path] = f"output {i + 1}"
            if problem is not None:
                raise refuse(("outputs", str(i), key), problem)


def _output_problems(output: object) -> list[tuple[str, str | None]]:
    """Each name an output gives (``file`` or ``folder``, and a stats ``chart``) and what is wrong
    with it, if anything: :func:`_name_problem`, and ``{school}`` where a split needs it and
    nowhere else (docs/report.md#one-file-per-school)."""
    split = getattr(output, "split_by", None) is not None
    if isinstance(output, SiteOutput) and split:
        return [
            (
                "split_by",
                "a site has a folder per school already; give the site's folder without split_by",
            )
        ]

    def legacy_folder(key: str) -> bool:  # escalations' folder of escalations-SCHOOL-ASOF files
        return isinstance(output, EscalationsOutput) and key == "folder"

    found: list[tuple[str, str | None]] = []
    for key in ("file", "folder", "chart"):
        name = getattr(output, key, None)
        if name is None:
            continue
        problem = _name_problem(name.replace(SCHOOL_FIELD, "school"), is_file=key != "folder")
        if problem is None and split and SCHOOL_FIELD not in name and not legacy_folder(key):
            problem = f"split_by = 'school' writes one per school: name it with {SCHOOL_FIELD}"
        if problem is None and not split and SCHOOL_FIELD in name:
            problem = f"{SCHOOL_FIELD} names a school: it needs split_by = 'school'"
        found.append((key, problem))
    return found


def status_of(lock: str) -> str:
    """The status file beside a lock (a POSIX path as the config gives it).

    >>> status_of("out/.fravaer-report.lock"), status_of("/run/fravaer")
    ('out/.fravaer-report.status.json', '/run/fravaer.status.json')
    """
    stem = posixpath.basename(lock).removesuffix(".lock") or posixpath.basename(lock)
    return posixpath.join(posixpath.dirname(lock), stem + STATUS_SUFFIX)
