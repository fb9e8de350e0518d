"""The options and arguments that commands share, and what turns their text into values.

Argument handling only: a check of a value given on the command line, a usage error (exit 2)
when it is wrong; nothing here reads an export.
"""

from __future__ import annotations

import functools
import inspect
import os
import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Final, Literal

import polars as pl
import typer
from pydantic import ValidationError

from fravaer.chart_trend import CHART_SUFFIXES, ChartFormat
from fravaer.errors import UsageError
from fravaer.headings import Headers, for_people
from fravaer.ingest.load import load_source
from fravaer.ingest.schools import read_school_names
from fravaer.ingest.source import SourceOptions
from fravaer.output import Format, check_output, format_for_path, write_frame, write_text
from fravaer.policy import Lang

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def parse_date(text: str, option: str) -> date:
    try:
        if _ISO_DATE.match(text):
            return date.fromisoformat(text)
    except ValueError:
        pass
    raise UsageError(f"{option} must be a date written YYYY-MM-DD")


AS_OF_FIRST: Final = date(1900, 8, 1)
AS_OF_LAST: Final = date(9990, 12, 31)
"""The as-of dates every command can use: its school year (from 1 August) begins after the
first date an export may hold, 1900-01-01, and an early warning's longest horizon (200 school
days, up to four years of calendar with the holidays) ends before the last date Python has,
9999-12-31 (docs/classify.md#as-of-date)."""


def parse_as_of(text: str) -> date:
    """``--as-of``: a date written ``YYYY-MM-DD`` from :data:`AS_OF_FIRST` to
    :data:`AS_OF_LAST` (exit 2 otherwise).

    >>> parse_as_of("9999-12-31")
    Traceback (most recent call last):
    ...
    fravaer.errors.UsageError: --as-of must be a date from 1900-08-01 to 9990-12-31
    """
    day = parse_date(text, "--as-of")
    if not AS_OF_FIRST <= day <= AS_OF_LAST:
        raise UsageError(
            f"--as-of must be a date from {AS_OF_FIRST.isoformat()} to {AS_OF_LAST.isoformat()}"
        )
    return day


def parse_partition(text: str | None) -> tuple[int, int] | None:
    if text is None:
        return None
    match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text)
    if match is None or not 1 <= int(match[1]) <= int(match[2]):
        raise UsageError("--pupil-partition must be K/N with 1 <= K <= N, e.g. 3/8")
    return int(match[1]), int(match[2])


def resolve_format(fmt: Format | None, output: Path | None) -> Format:
    """Explicit --format, else the output's suffix, else a table on a terminal and CSV in a pipe."""
    if fmt is None and output is not None:
        fmt = format_for_path(output)
        if fmt is None:
            raise UsageError(f"cannot tell the format from '{output.name}'; give --format")
    if fmt is None:
        fmt = "table" if sys.stdout.isatty() else "csv"
    if output is None and fmt in ("parquet", "xlsx") and sys.stdout.isatty():
        raise UsageError(f"{fmt} is binary: give -o PATH or redirect stdout")
    return fmt


def stdout_or_file(value: Path | None) -> Path | None:
    """``-o -`` is stdout, as in every Unix tool; any other path is checked before any work.

    A missing folder, or anything but a regular file at the path (a device, FIFO, socket,
    folder or symbolic link), is refused with exit 73 (docs/exit-codes.md#output-files).
    """
    if value is None or str(value) == "-":
        return None
    check_output(value)
    return value


def stdout_or_any(value: Path | None) -> Path | None:
    """``-o -`` is stdout; the path is checked by the command (it may be a file or a folder)."""
    return None if value is None or str(value) == "-" else value


def a_file(option: str) -> Callable[[Path | None], Path | None]:
    """An option that names a file or folder of its own: ``-`` (stdout) is a usage error."""

    def check(value: Path | None) -> Path | None:
        if value is not None and str(value) == "-":
            raise UsageError(f"{option} writes files: give a path, not - (stdout)")
        return value

    return check


def a_file_checked(option: str) -> Callable[[Path | None], Path | None]:
    """Like :func:`a_file`, and the file's place is checked before any work (exit 73)."""
    named = a_file(option)

    def check(value: Path | None) -> Path | None:
        value = named(value)
        if value is not None:
            check_output(value)
        return value

    return check


SinceOption = Annotated[
    str | None,
    typer.Option("--since", help="Compare with the steps on this date, YYYY-MM-DD."),
]
StateOption = Annotated[
    Path | None,
    typer.Option(
        "--state",
        help="Compare with the previous run kept in this JSON state file, and record this run.",
        callback=a_file_checked("--state"),
    ),
]


MeetingTemplateOption = Annotated[
    Path | None,
    typer.Option(
        "--meeting-template",
        help="TOML of the meeting sheet's questions: main questions and sub-questions in da and "
        "en. Default: the bundled extended Signs of Safety questions.",
        show_default=False,
    ),
]


FormatOption = Annotated[
    Format | None,
    typer.Option(
        "--format",
        help="table, csv, json, parquet or xlsx. Default: from -o's suffix; table on a terminal, "
        "csv in a pipe.",
        show_default=False,
    ),
]
OutputOption = Annotated[
    Path | None,
    typer.Option(
        "-o",
        "--output",
        help="Write here (atomically, mode 0600) instead of stdout; - is stdout.",
        callback=stdout_or_file,
    ),
]
AsOfOption = Annotated[
    str | None,
    typer.Option(
        "--as-of",
        help="Classify as of this date, YYYY-MM-DD. Default: the latest date in the data on or "
        "before today.",
    ),
]
LANG_ENV = "FRAVAER_LANG"
"""The environment variable that sets the language of every human-readable output; an explicit
``--lang`` (or report.toml's ``lang``) wins over it (docs/install.md)."""

LangOption = Annotated[
    Literal["da", "en"],
    typer.Option("--lang", envvar=LANG_ENV, help="Language of tables: da or en."),
]


HeadersOption = Annotated[
    Headers,
    typer.Option(
        "--headers",
        help="xlsx column headings: lang (in --lang's language, for people) or snake (the "
        "machine names of csv, for programs).",
    ),
]
SchoolNamesOption = Annotated[
    Path | None,
    typer.Option(
        "--school-names",
        help="xlsx (and stats' --chart, escalate's --meeting-notes): each school's name "
        "beside its id, from a CSV of school_id and name (institutionsnummer;navn).",
    ),
]


def xlsx_school_names(path: Path | None, fmt: Format, *, elsewhere: bool = False) -> dict[str, str]:
    """The names of ``--school-names`` (none: empty), for an xlsx output or another output that
    names schools (``elsewhere``: ``stats --chart``, ``escalate --meeting-notes``) only (exit 2
    else)."""
    if path is None:
        return {}
    if fmt != "xlsx" and not elsewhere:
        raise UsageError(
            "--school-names names the schools in xlsx: give -o FILE.xlsx or --format xlsx"
        )
    return read_school_names(path)


def env_lang() -> Lang:
    """The language that FRAVAER_LANG sets, Danish when unset; any other value is a usage error."""
    value = os.environ.get(LANG_ENV, "").strip()
    if value in ("", "da"):
        return "da"
    if value == "en":
        return "en"
    raise UsageError(f"{LANG_ENV} must be da or en")


ExportsArgument = Annotated[
    list[str],
    typer.Argument(
        help="Attendance export(s): .csv, .xlsx or .parquet files, globs (quoted) or a "
        "hive-partitioned Parquet folder; several are combined.",
        metavar="EXPORT...",
    ),
]


# -- how exports are read: one group of seven options --------------------------------------------

SourceFileOption = Annotated[
    Path | None,
    typer.Option("--source", help="source.toml: how this municipality's exports are read."),
]
EncodingOption = Annotated[
    str | None, typer.Option("--encoding", help="auto, utf-8, cp1252 or latin-1.")
]
SeparatorOption = Annotated[
    str | None, typer.Option("--separator", help="auto, ',', ';', tab or '¤'.")
]
DateFormatOption = Annotated[
    str | None,
    typer.Option(
        "--date-format",
        help="auto, %Y-%m-%d, %d-%m-%Y, %d.%m.%Y, %d/%m/%Y or %Y-%m-%d %H:%M:%S.",
    ),
]
SheetOption = Annotated[str | None, typer.Option("--sheet", help="Excel: the sheet to read.")]
ShapeOption = Annotated[
    str | None, typer.Option("--shape", help="auto, register, lesson, absence_only or hours.")
]
HeaderRowOption = Annotated[
    int | None,
    typer.Option(
        "--header-row", min=1, help="The line or row of the header (1-based). Default: found."
    ),
]
_SOURCE_FLAGS: Final = (
    ("source", SourceFileOption),
    ("encoding", EncodingOption),
    ("separator", SeparatorOption),
    ("date_format", DateFormatOption),
    ("sheet", SheetOption),
    ("shape", ShapeOption),
    ("header_row", HeaderRowOption),
)


@dataclass(frozen=True)
class SourceFlags:
    """The options on how exports are read, as given: checked by :meth:`options` when the
    command asks, so that each command's checks keep their order."""

    source: Path | None = None
    encoding: str | None = None
    separator: str | None = None
    date_format: str | None = None
    sheet: str | None = None
    shape: str | None = None
    header_row: int | None = None

    def options(self) -> SourceOptions:
        """source.toml (if given) with the command line's flags on top."""
        options = load_source(self.source) if self.source is not None else SourceOptions()
        flags = {
            "encoding": self.encoding,
            "separator": "\t" if self.separator == "tab" else self.separator,
            "date_format": self.date_format,
            "sheet": self.sheet,
            "shape": self.shape,
            "header_row": self.header_row,
        }
        try:
            return SourceOptions.model_validate(
                options.model_dump() | {k: v for k, v in flags.items() if v is not None}
            )
        except ValidationError as exc:
            field = ".".join(str(p) for p in exc.errors()[0]["loc"])
            raise UsageError(f"--{field.replace('_', '-')}: {exc.errors()[0]['msg']}") from None


Command = Callable[..., None]


def source_flags(*, shape: bool = True) -> Callable[[Command], Command]:
    """Give a command the options on how exports are read, last in its ``--help``.

    The command takes them as one keyword-only ``flags: SourceFlags``; Typer sees the seven
    options (``--source``, ``--encoding``, ``--separator``, ``--date-format``, ``--sheet``,
    ``--header-row`` and, unless ``shape`` is False, ``--shape``) in their place.
    """
    added = [(name, alias) for name, alias in _SOURCE_FLAGS if shape or name != "shape"]

    def decorate(command: Command) -> Command:
        own = inspect.signature(command, eval_str=True).parameters
        kept = [p for name, p in own.items() if name != "flags"]
        options = [
            inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=None, annotation=alias)
            for name, alias in added
        ]

        @functools.wraps(command)
        def with_flags(*args: Any, **kwargs: Any) -> None:
            given = {name: kwargs.pop(name) for name, _ in added}
            command(*args, flags=SourceFlags(**given), **kwargs)

        parameters = kept + options
        with_flags.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
        with_flags.__annotations__ = {p.name: p.annotation for p in parameters}
        return with_flags

    return decorate


PolicyOption = Annotated[
    str,
    typer.Option(
        "--policy",
        help="Bundled policy or series name (see `fravaer policy list`), or a path to a policy "
        "TOML file or a folder of versions.",
    ),
]
SchoolsOption = Annotated[
    list[str] | None,
    typer.Option("--school", help="Only pupils whose latest school is this id (repeatable)."),
]


def write_result(
    frame: pl.DataFrame,
    fmt: Format,
    output: Path | None,
    *,
    table: Callable[[int | None], str],
    sheet: str = "data",
    lang: Lang,
    headers: Headers = "lang",
    names: Mapping[str, str] | None = None,
) -> None:
    """A command's result to ``-o`` or stdout: the table that ``table`` renders at the width
    :func:`table_width` gives, or ``frame`` in a machine format. In xlsx, the sheet ``sheet``
    has the headings of ``lang`` (or the machine names: ``headers="snake"``) and the schools'
    ``names`` beside their ids (:func:`fravaer.headings.for_people`)."""
    if fmt == "table":
        write_text(table(table_width(output)), output)
    elif fmt == "xlsx":
        shown = for_people(frame.lazy(), lang=lang, headers=headers, names=names).collect()
        write_frame(shown, fmt, output, sheet=sheet)
    else:
        write_frame(frame, fmt, output, sheet=sheet)


def table_width(output: Path | None) -> int | None:
    """The terminal's width on a terminal; 160 columns in a file or a pipe."""
    return None if output is None and sys.stdout.isatty() else 160


def colour(output: Path | None) -> bool:
    return output is None and sys.stdout.isatty()


def parse_chart_format(chart: Path) -> ChartFormat:
    fmt = CHART_SUFFIXES.get(chart.suffix.lower())
    if fmt is None:
        raise UsageError(f"--chart: cannot tell png or svg from '{chart.name}'")
    return fmt
