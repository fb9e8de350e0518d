"""``fravaer check`` and ``fravaer inspect``: what would make an export's numbers wrong, and
what was understood of it.
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Annotated, Any, Literal

import polars as pl
import typer

from fravaer.calendar import public_holidays
from fravaer.check import check as check_frame
from fravaer.check import has_errors
from fravaer.cli import setup
from fravaer.cli.options import (
    AsOfOption,
    ExportsArgument,
    LangOption,
    OutputOption,
    SourceFlags,
    parse_as_of,
    resolve_format,
    source_flags,
    table_width,
    write_result,
)
from fravaer.errors import BadInputError, Location, UsageError
from fravaer.ingest.load import inspection, load, load_at
from fravaer.ingest.origin import LINE
from fravaer.ingest.survey import survey
from fravaer.output import write_text
from fravaer.policy import Lang
from fravaer.render import render_check, render_inspection
from fravaer.schema import COUNT, DATE

log = logging.getLogger("fravaer")

InspectFormat = Literal["table", "json"]


_INSPECT_SUFFIXES: dict[str, InspectFormat] = {".json": "json", ".txt": "table"}


def _inspect_format(fmt: InspectFormat | None, output: Path | None) -> InspectFormat:
    """Explicit ``--format``, as in every command; else ``-o``'s suffix (.txt a table, .json
    JSON), and any other name is refused (2) rather than filled with JSON text: a file named
    .csv or .xlsx is opened by a program that expects one (docs/ingest.md)."""
    if fmt is not None:
        return fmt
    if output is None:
        return "table" if sys.stdout.isatty() else "json"
    by_suffix = _INSPECT_SUFFIXES.get(output.suffix.lower())
    if by_suffix is None:
        raise UsageError(
            f"inspect writes a table (.txt) or JSON (.json), not '{output.name}'",
            hint="name the output file .txt or .json, or give --format",
        )
    return by_suffix


@source_flags()
def inspect(
    exports: ExportsArgument,
    fmt: Annotated[
        InspectFormat | None,
        typer.Option(
            "--format", help="table or json. Default: table on a terminal, json in a pipe."
        ),
    ] = None,
    output: OutputOption = None,
    lang: LangOption = "da",
    *,
    flags: SourceFlags,
) -> None:
    """What was understood of an export, to confirm before trusting the numbers.

    Per file: type, encoding, separator, sheet, date format, header mapping, dropped columns,
    category codes with counts and shape; for all files together: rows, pupils, schools and the
    date range. Never a pupil id or a cell's value.
    """
    fmt = _inspect_format(fmt, output)
    options = flags.options()
    try:
        report = inspection(load(exports, options))
    except BadInputError:
        # List the headers and codes found before failing (exit 65); a failed run leaves no
        # file, so with -o nothing is listed (docs/ingest.md#confirm-what-was-read-fravaer-inspect).
        if output is None:
            _write_inspection(survey(exports, options), fmt, lang, output)
        raise
    _write_inspection(report, fmt, lang, output)


def _write_inspection(
    report: dict[str, Any], fmt: InspectFormat, lang: Lang, output: Path | None
) -> None:
    if fmt == "table":
        write_text(render_inspection(report, lang=lang, width=table_width(output)), output)
    else:
        write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", output)


CheckFormat = Literal["table", "csv", "json"]


@source_flags()
def check(
    exports: ExportsArgument,
    as_of: AsOfOption = None,
    fmt: Annotated[
        CheckFormat | None,
        typer.Option(
            "--format",
            help="table, csv or json. Default: from -o's suffix; table on a terminal, csv in a "
            "pipe.",
            show_default=False,
        ),
    ] = None,
    output: OutputOption = None,
    lang: LangOption = "da",
    *,
    flags: SourceFlags,
) -> None:
    """Report what would make an export's numbers wrong: counts and first lines, never a value.

    Reads the exports as classify does (files, globs, --source, --shape, the same as-of).
    Conflicting rows and pupil-days over 1 are errors (exit 65: the numbers cannot be trusted);
    repeated rows, rows after the as-of date or on weekends and public holidays, pupil-days at two
    schools, gaps and stale schools are warnings (exit 0). Every finding is reported, not only
    the first; what the reader refuses outright is refused like in every command.
    """
    out_format = resolve_format(fmt, output)
    if out_format not in ("table", "csv", "json"):
        raise UsageError(f"check writes table, csv or json, not {out_format}")
    given = parse_as_of(as_of) if as_of else None
    options = flags.options()
    loaded, day = load_at(
        exports, options, given=given, today=setup.today(), keep_lines=True, day_checks=False
    )
    frame = loaded.frame
    named = [str(read.path) for read in loaded.files]
    where = named[0] if len(named) == 1 else ", ".join(named)
    span = frame.select(pl.len(), pl.col(DATE).min().alias("first"), pl.col(DATE).max())
    rows, first, last = span.collect().row(0)
    findings = check_frame(
        frame,
        as_of=day,
        holidays=public_holidays(first.year, last.year, country=options.holiday_country),
        line=LINE,
        files=named if len(named) > 1 else None,
    ).collect(engine="streaming")
    write_result(
        findings,
        out_format,
        output,
        lang=lang,
        table=lambda width: render_check(
            findings, file=where, rows=rows, as_of=day, lang=lang, width=width
        ),
    )
    found = findings.filter(pl.col(COUNT) > 0)
    log.info("checked %d row(s) as of %s: %d finding(s)", rows, day.isoformat(), found.height)
    if has_errors(findings):
        raise BadInputError(
            Location(where),
            "the numbers cannot be trusted: conflicting rows or pupil-days over 1 (see the report)",
            hint="fix the export at the lines listed and run again",
        )
