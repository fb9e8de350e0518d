"""The ``fravaer`` command line: one thin function per subcommand.

stdout carries data only; messages go to stderr. Errors are caught in exactly one place,
:meth:`_Group.invoke`, and become one line (plus a hint) and the documented exit code.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import traceback
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, Any, Literal

import polars as pl
import typer
from pydantic import ValidationError
from typer.core import TyperGroup

from fravaer import __version__
from fravaer.asof import danish_date, resolve_as_of
from fravaer.calendar import parse_school_year, public_holidays
from fravaer.chart_trend import CHART_SUFFIXES, ChartFormat, trend_chart
from fravaer.check import check as check_frame
from fravaer.check import has_errors
from fravaer.classify import classify as classify_frame
from fravaer.classify import explain as explain_frame
from fravaer.classify import parts_for
from fravaer.demo import DemoSpec, generate
from fravaer.errors import (
    EXIT_INTERNAL,
    BadInputError,
    FravaerError,
    Interrupted,
    Location,
    Stopped,
    UsageError,
    stopped,
)
from fravaer.escalate import CHANGE, ESCALATION, IMPROVEMENT, steps_at
from fravaer.ingest import read_file
from fravaer.ingest.files import read_state
from fravaer.ingest.keys import read_key_env, read_key_file
from fravaer.ingest.load import inspection, load, load_source
from fravaer.ingest.origin import LINE
from fravaer.ingest.policy import (
    bundled_policies,
    load_policy,
    pick_version,
    policy_versions,
    resolve_policy,
)
from fravaer.ingest.reference import read_reference
from fravaer.ingest.source import SourceOptions
from fravaer.ingest.survey import survey
from fravaer.output import (
    Format,
    atomic_file,
    check_output,
    ensure_folder,
    format_for_path,
    state_lock,
    write_all,
    write_frame,
    write_frames,
    write_text,
    write_workbook,
)
from fravaer.policy import DEFAULT_POLICY, NATIONAL_POLICY, Policy
from fravaer.pseudonymize import KEY_HINT, invalid_cpr, shown_school
from fravaer.pseudonymize import pseudonymize as pseudonymize_frame
from fravaer.render import (
    escalation_headings,
    escalation_sheet_names,
    progress,
    render_check,
    render_classification,
    render_early_warning,
    render_escalations,
    render_explanation,
    render_inspection,
    render_patterns,
    render_policy,
    render_policy_list,
    render_stats,
    render_trend,
    render_trend_class,
    trend_summary,
)
from fravaer.report import Planned, Run, escalation_files, meeting_note_files
from fravaer.report import report as run_report
from fravaer.schema import (
    ABSENCE_PCT,
    CANONICAL_SCHEMA,
    COUNT,
    DATE,
    PUPIL_ID,
    SCHOOL_ID,
    STEP,
    shown_text,
)
from fravaer.state import advance, dump_state, previous_steps
from fravaer.stats import (
    FRESHNESS_LAG_DAYS,
    LATEST_DATE,
    MIN_CELL_DEFAULT,
    MIN_CELL_FLOOR,
    MUNICIPALITY,
    PERIOD,
    SHARE_OVER_10,
    SUPPRESSED,
    Period,
    Reference,
    contract_columns,
    freshness,
    metric_columns,
    parse_by,
    parse_periods,
    reference_for,
    suppress,
)
from fravaer.stats import stats as stats_frame
from fravaer.tokens import token_key
from fravaer.trend import (
    DIRECTION,
    FDR,
    FLAGS,
    HORIZON_DAYS,
    PATTERN_DAYS,
    PCT_BEFORE,
    TREND_WEEKS,
    WEEK_END,
    WEEKS_BACK,
    class_pupils,
)
from fravaer.trend import direction as trend_direction
from fravaer.trend import early_warning as early_warning_frame
from fravaer.trend import patterns as patterns_frame
from fravaer.trend import trend as trend_frame

log = logging.getLogger("fravaer")

_STAGE: list[Callable[[str], None]] = [lambda text: None]
"""Names the stage on the progress line (a terminal's stderr only); set for each invocation."""


class _Group(TyperGroup):
    """Turns every error into one line on stderr and the documented exit code."""

    def invoke(self, ctx: Any) -> Any:  # typer's vendored click.Context
        try:
            with progress() as stage:
                _STAGE[0] = stage
                return super().invoke(ctx)
        except FravaerError as exc:
            _error(exc.message)
            if exc.hint:
                typer.echo(f"fravaer: hint: {shown_text(exc.hint)}", err=True)
            ctx.exit(exc.exit_code)
        except (typer.Exit, typer.Abort, typer.TyperException):
            raise
        except SystemExit:
            raise
        except (KeyboardInterrupt, Stopped) as exc:  # SIGINT, SIGTERM (see fravaer.entry)
            kind = stopped(exc) or Interrupted
            _error(kind.line)
            ctx.exit(kind.exit_code)
        except BaseException as exc:  # polars' Rust panics arrive as a BaseException
            if ctx.params.get("debug"):
                traceback.print_exc()
            else:
                # The message of a library exception can quote a cell: show only its type.
                _error(f"internal error ({type(exc).__name__}); run with --debug for details")
            ctx.exit(EXIT_INTERNAL)


class _MessageFormatter(logging.Formatter):
    """``fravaer: message`` for information, ``fravaer: warning: message`` for the rest."""

    def format(self, record: logging.LogRecord) -> str:
        level = "" if record.levelno <= logging.INFO else f"{record.levelname.lower()}: "
        return f"fravaer: {level}{shown_text(record.getMessage())}"


def _error(message: str) -> None:
    # A path or a school id in a message may hold an escape sequence: never raw on a terminal.
    typer.echo(f"fravaer: error: {shown_text(message)}", err=True)


app = typer.Typer(
    cls=_Group,
    name="fravaer",
    help="Early, exact answers about worrying absence in Danish schools.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"fravaer {__version__}")
        raise typer.Exit()


@app.callback()
def _options(
    debug: Annotated[
        bool, typer.Option("--debug", help="Show tracebacks of internal errors (may hold data).")
    ] = False,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_show_version, is_eager=True, help="Show the version."),
    ] = False,
) -> None:
    """Early, exact answers about worrying absence in Danish schools."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_MessageFormatter())
    log.handlers[:] = [handler]
    log.setLevel(logging.DEBUG if debug else logging.INFO)
    log.propagate = False


_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _parse_date(text: str, option: str) -> date:
    try:
        if _ISO_DATE.match(text):
            return date.fromisoformat(text)
    except ValueError:
        pass
    raise UsageError(f"{option} must be a date written YYYY-MM-DD")


def _parse_partition(text: str | None) -> tuple[int, int] | None:
    if text is None:
        return None
    match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text)
    if match is None or not 1 <= int(match[1]) <= int(match[2]):
        raise UsageError("--pupil-partition must be K/N with 1 <= K <= N, e.g. 3/8")
    return int(match[1]), int(match[2])


def _resolve_format(fmt: Format | None, output: Path | None) -> Format:
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


def _stdout_or_file(value: Path | None) -> Path | None:
    """``-o -`` is stdout, as in every Unix tool; any other path is checked before any work.

    A missing folder, or anything but a regular file at the path (a device, FIFO, socket,
    folder or symbolic link), is refused with exit 73 (docs/exit-codes.md#output-files).
    """
    if value is None or str(value) == "-":
        return None
    check_output(value)
    return value


def _stdout_or_any(value: Path | None) -> Path | None:
    """``-o -`` is stdout; the path is checked by the command (it may be a file or a folder)."""
    return None if value is None or str(value) == "-" else value


def _a_file(option: str) -> Callable[[Path | None], Path | None]:
    """An option that names a file or folder of its own: ``-`` (stdout) is a usage error."""

    def check(value: Path | None) -> Path | None:
        if value is not None and str(value) == "-":
            raise UsageError(f"{option} writes files: give a path, not - (stdout)")
        return value

    return check


def _a_file_checked(option: str) -> Callable[[Path | None], Path | None]:
    """Like :func:`_a_file`, and the file's place is checked before any work (exit 73)."""
    named = _a_file(option)

    def check(value: Path | None) -> Path | None:
        value = named(value)
        if value is not None:
            check_output(value)
        return value

    return check


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
        callback=_stdout_or_file,
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
LangOption = Annotated[
    Literal["da", "en"], typer.Option("--lang", help="Language of tables: da or en.")
]


ExportsArgument = Annotated[
    list[str],
    typer.Argument(
        help="Attendance export(s): .csv, .xlsx or .parquet files, globs (quoted) or a "
        "hive-partitioned Parquet folder; several are combined.",
        metavar="EXPORT...",
    ),
]
ExportArgument = Annotated[
    Path,
    typer.Argument(help="Attendance export (.csv, .xlsx or .parquet).", metavar="EXPORT"),
]
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
    typer.Option("--date-format", help="auto, %Y-%m-%d, %d-%m-%Y, %d.%m.%Y or %d/%m/%Y."),
]
SheetOption = Annotated[str | None, typer.Option("--sheet", help="Excel: the sheet to read.")]
HeaderRowOption = Annotated[
    int | None,
    typer.Option(
        "--header-row", min=1, help="The line or row of the header (1-based). Default: found."
    ),
]
ShapeOption = Annotated[
    str | None, typer.Option("--shape", help="auto, register, lesson or absence_only.")
]


def _source_options(
    source: Path | None,
    encoding: str | None,
    separator: str | None,
    date_format: str | None,
    sheet: str | None,
    shape: str | None,
) -> SourceOptions:
    """source.toml (if given) with the command line's flags on top."""
    options = load_source(source) if source is not None else SourceOptions()
    flags = {
        "encoding": encoding,
        "separator": "\t" if separator == "tab" else separator,
        "date_format": date_format,
        "sheet": sheet,
        "shape": shape,
    }
    try:
        return SourceOptions.model_validate(
            options.model_dump() | {k: v for k, v in flags.items() if v is not None}
        )
    except ValidationError as exc:
        field = ".".join(str(p) for p in exc.errors()[0]["loc"])
        raise UsageError(f"--{field.replace('_', '-')}: {exc.errors()[0]['msg']}") from None


PolicyOption = Annotated[
    str,
    typer.Option(
        "--policy",
        help="Bundled policy or series name (see `fravaer policy list`), or a path to a policy "
        "TOML file or a folder of versions.",
    ),
]


@app.command()
def classify(
    exports: ExportsArgument,
    as_of: AsOfOption = None,
    policy: PolicyOption = DEFAULT_POLICY,
    no_national: Annotated[
        bool,
        typer.Option(
            "--no-national",
            help="Do not evaluate the national quarter rule (quarter columns left empty).",
        ),
    ] = False,
    school: Annotated[
        list[str] | None,
        typer.Option("--school", help="Only pupils whose latest school is this id (repeatable)."),
    ] = None,
    show_all: Annotated[
        bool,
        typer.Option(
            "--all", help="Table: list every pupil, not only those at step 1+ or quarter-flagged."
        ),
    ] = False,
    include_left: Annotated[
        bool,
        typer.Option(
            "--include-left",
            help="Keep pupils with no registration in their school's last 5 school days.",
        ),
    ] = False,
    pupil_partition: Annotated[
        str | None,
        typer.Option(
            "--pupil-partition",
            metavar="K/N",
            help="Only the pupils in bucket K of N (1 <= K <= N), for runs split across "
            "machines; the N outputs together are the whole run.",
        ),
    ] = None,
    fmt: FormatOption = None,
    output: OutputOption = None,
    lang: LangOption = "da",
    source: SourceFileOption = None,
    encoding: EncodingOption = None,
    separator: SeparatorOption = None,
    date_format: DateFormatOption = None,
    sheet: SheetOption = None,
    shape: ShapeOption = None,
    header_row: HeaderRowOption = None,
) -> None:
    """Place every pupil on the guideline's step, with the national quarter rule.

    One row per pupil: the policy's primary window (Aalborg: the latest 100 school days) up to the
    as-of date, absent days per category, absence %, the step (0 when below the first; empty when
    there are too few school days), the quarter's unlawful absence with its flag, and then one
    rule_<name> column per rule of the policy with its measured value.
    """
    out_format = _resolve_format(fmt, output)
    partition = _parse_partition(pupil_partition)
    options = _source_options(source, encoding, separator, date_format, sheet, shape)
    if header_row is not None:  # --header-row wins over source.toml
        options = options.model_copy(update={"header_row": header_row})
    choice = policy_versions(policy)  # a bad policy fails before the export is read
    frame, day = _read(exports, as_of, options)
    chosen = pick_version(choice, as_of=day)
    national = None if no_national else resolve_policy(NATIONAL_POLICY, as_of=day)
    result = classify_frame(
        frame,
        policy=chosen,
        national=national,
        as_of=day,
        include_left=include_left,
        schools=school,
        partition=partition,
        parts=parts_for(frame),
    ).collect(engine="streaming")
    log.info("classified %d pupil(s) as of %s with %s", result.height, day.isoformat(), chosen.name)
    if school and result.is_empty():
        log.warning("no pupil's latest school is among the --school ids given")
    if out_format == "table":
        text = render_classification(
            result,
            policy=chosen,
            national=national,
            as_of=day,
            lang=lang,
            show_all=show_all,
            width=_table_width(output),
            color=_colour(output),
        )
        write_text(text, output)
    else:
        write_frame(result, out_format, output, sheet="elever" if lang == "da" else "pupils")


@app.command()
def explain(
    exports: ExportsArgument,
    pupil: Annotated[
        str, typer.Option("--pupil", help="The pupil's id, exactly as in the export.")
    ],
    as_of: AsOfOption = None,
    policy: PolicyOption = DEFAULT_POLICY,
    fmt: FormatOption = None,
    output: OutputOption = None,
    lang: LangOption = "da",
    source: SourceFileOption = None,
    encoding: EncodingOption = None,
    separator: SeparatorOption = None,
    date_format: DateFormatOption = None,
    sheet: SheetOption = None,
    shape: ShapeOption = None,
) -> None:
    """Why one pupil is on their step: every rule's window, value, threshold and verdict.

    The answer a coordinator gives a parent who asks "why is my child on step 2?". Machine
    formats give one row per threshold of every step.
    """
    out_format = _resolve_format(fmt, output)
    options = _source_options(source, encoding, separator, date_format, sheet, shape)
    choice = policy_versions(policy)
    frame, day = _read(exports, as_of, options)
    chosen = pick_version(choice, as_of=day)
    rows = explain_frame(frame, policy=chosen, as_of=day, pupil_id=pupil).collect()
    if rows.is_empty():
        raise UsageError(
            "no rows for that pupil on or before the as-of date",
            hint="the id must match the export exactly, leading zeros included",
        )
    if out_format == "table":
        text = render_explanation(rows, policy=chosen, lang=lang, width=_table_width(output))
        write_text(text, output)
    else:
        write_frame(rows, out_format, output, sheet="forklaring" if lang == "da" else "explanation")


def _read(
    exports: list[str], as_of: str | None, options: SourceOptions
) -> tuple[pl.LazyFrame, date]:
    """The validated exports as one frame, and the as-of date: given, or the latest in the data
    on or before the day of the run (:func:`fravaer.asof.resolve_as_of`)."""
    given = _parse_date(as_of, "--as-of") if as_of else None
    _STAGE[0](f"reading and checking {len(exports)} input(s)")
    frame = load(exports, options).frame
    day = resolve_as_of(frame, given=given, today=_today(), where=str(Path(exports[0])))
    _STAGE[0](f"computing as of {day.isoformat()}")
    return frame, day


def _today() -> date:
    """The day of the run: today's date in Denmark. The only place fravaer reads the clock, once
    per run, so that rows dated later cannot move the default as-of date (docs/decisions.md).
    Tests replace this function to fix the day."""
    return danish_date(datetime.now(UTC))


def _table_width(output: Path | None) -> int | None:
    """The terminal's width on a terminal; 160 columns in a file or a pipe."""
    return None if output is None and sys.stdout.isatty() else 160


def _colour(output: Path | None) -> bool:
    return output is None and sys.stdout.isatty()


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


@app.command()
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
    source: SourceFileOption = None,
    encoding: EncodingOption = None,
    separator: SeparatorOption = None,
    date_format: DateFormatOption = None,
    sheet: SheetOption = None,
    shape: ShapeOption = None,
    header_row: HeaderRowOption = None,
) -> None:
    """What was understood of an export, to confirm before trusting the numbers.

    Per file: type, encoding, separator, sheet, date format, header mapping, dropped columns,
    category codes with counts and shape; for all files together: rows, pupils, schools and the
    date range. Never a pupil id or a cell's value.
    """
    fmt = _inspect_format(fmt, output)
    options = _source_options(source, encoding, separator, date_format, sheet, shape)
    if header_row is not None:  # --header-row wins over source.toml
        options = options.model_copy(update={"header_row": header_row})
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
    report: dict[str, Any], fmt: str, lang: Literal["da", "en"], output: Path | None
) -> None:
    if fmt == "table":
        write_text(render_inspection(report, lang=lang, width=_table_width(output)), output)
    else:
        write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", output)


policy_app = typer.Typer(
    cls=_Group,
    help="The guideline policies: list, show and validate them.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(policy_app, name="policy")


@policy_app.command("list")
def policy_list(
    fmt: FormatOption = None, output: OutputOption = None, lang: LangOption = "da"
) -> None:
    """The bundled policies: name, series, version, effective date and title."""
    out_format = _resolve_format(fmt, output)
    policies = [load_policy(name) for name in bundled_policies()]
    listing = pl.DataFrame(
        {
            "name": [p.name for p in policies],
            "series": [p.series or p.name for p in policies],
            "version": [p.version for p in policies],
            "effective_from": [p.effective_from for p in policies],
            "title": [p.title(lang) for p in policies],
        }
    )
    if out_format == "table":
        write_text(render_policy_list(listing, lang=lang, width=_table_width(output)), output)
    else:
        write_frame(listing, out_format, output, sheet="politikker" if lang == "da" else "policies")


@policy_app.command("show")
def policy_show(
    ref: Annotated[str, typer.Argument(help="Policy name or path.", metavar="NAME|PATH")],
    lang: LangOption = "da",
) -> None:
    """A policy in words: its rules, steps, thresholds, who acts and the minimum actions.

    A series (e.g. aalborg) shows every version, oldest first.
    """
    versions = policy_versions(ref).versions
    text = "\n".join(render_policy(p, lang=lang, width=_table_width(None)) for p in versions)
    write_text(text, None)


@policy_app.command("validate")
def policy_validate(
    path: Annotated[Path, typer.Argument(help="Policy TOML file.", metavar="PATH")],
) -> None:
    """Check a policy file; errors name the TOML line and field (exit 78)."""
    if path.suffix != ".toml":
        raise UsageError(f"{path}: a policy file ends in .toml")
    checked = load_policy(str(path))
    log.info("%s: valid policy %s version %s", path, checked.name, checked.version)


@app.command("demo-data")
def demo_data(
    output: Annotated[
        Path,
        typer.Option(
            "-o",
            "--output",
            help="Where to write (.csv or .parquet).",
            callback=_a_file_checked("demo-data -o"),
        ),
    ],
    pupils: Annotated[int, typer.Option("--pupils", min=1, help="Number of pupils.")] = 2000,
    schools: Annotated[int, typer.Option("--schools", min=1, help="Number of schools.")] = 5,
    year: Annotated[str, typer.Option("--year", help="School year, e.g. 2023/24.")] = "2023/24",
    seed: Annotated[int, typer.Option("--seed", help="Random seed; same seed, same rows.")] = 1,
    until: Annotated[
        str | None,
        typer.Option("--until", help="Stop at this date, YYYY-MM-DD, like a mid-year export."),
    ] = None,
) -> None:
    """Write a synthetic municipality's attendance export (deterministic; no real pupils).

    Grades 0-9 in classes of about 22, a real Danish school calendar, absence spells per pupil
    averaging 7-8 % with about a fifth to a quarter of pupils above 10 %, pupils changing school,
    weekday patterns and partial days.
    """
    fmt = format_for_path(output)
    if fmt not in ("csv", "parquet"):
        raise UsageError("demo-data writes .csv or .parquet")
    spec = DemoSpec(
        pupils=pupils,
        schools=schools,
        first_year=parse_school_year(year),
        seed=seed,
        until=_parse_date(until, "--until") if until else None,
    )
    rows = write_frames(generate(spec), fmt, output, schema=CANONICAL_SCHEMA)
    log.info("wrote %d rows for %d pupils to %s", rows, pupils, output)


CheckFormat = Literal["table", "csv", "json"]


@app.command()
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
    source: SourceFileOption = None,
    encoding: EncodingOption = None,
    separator: SeparatorOption = None,
    date_format: DateFormatOption = None,
    sheet: SheetOption = None,
    shape: ShapeOption = None,
) -> None:
    """Report what would make an export's numbers wrong: counts and first lines, never a value.

    Reads the exports as classify does (files, globs, --source, --shape, the same as-of).
    Conflicting rows and pupil-days over 1 are errors (exit 65: the numbers cannot be trusted);
    repeated rows, rows after the as-of date or on weekends and public holidays, pupil-days at two
    schools, gaps and stale schools are warnings (exit 0). Every finding is reported, not only
    the first; what the reader refuses outright is refused like in every command.
    """
    out_format = _resolve_format(fmt, output)
    if out_format not in ("table", "csv", "json"):
        raise UsageError(f"check writes table, csv or json, not {out_format}")
    given = _parse_date(as_of, "--as-of") if as_of else None
    options = _source_options(source, encoding, separator, date_format, sheet, shape)
    loaded = load(exports, options, keep_lines=True, day_checks=False)
    frame = loaded.frame
    named = [str(read.path) for read in loaded.files]
    where = named[0] if len(named) == 1 else ", ".join(named)
    day = resolve_as_of(frame, given=given, today=_today(), where=named[0])
    span = frame.select(pl.len(), pl.col(DATE).min().alias("first"), pl.col(DATE).max())
    rows, first, last = span.collect().row(0)
    findings = check_frame(
        frame,
        as_of=day,
        holidays=public_holidays(first.year, last.year),
        line=LINE,
        files=named if len(named) > 1 else None,
    ).collect(engine="streaming")
    if out_format == "table":
        text = render_check(
            findings, file=where, rows=rows, as_of=day, lang=lang, width=_table_width(output)
        )
        write_text(text, output)
    else:
        write_frame(findings, out_format, output)
    found = findings.filter(pl.col(COUNT) > 0)
    log.info("checked %d row(s) as of %s: %d finding(s)", rows, day.isoformat(), found.height)
    if has_errors(findings):
        raise BadInputError(
            Location(where),
            "the numbers cannot be trusted: conflicting rows or pupil-days over 1 (see the report)",
            hint="fix the export at the lines listed and run again",
        )


def _read_key(key_file: Path | None, key_env: str | None) -> bytes:
    """The pseudonymisation key from a file or an environment variable; never shown anywhere."""
    if key_file is not None and key_env is not None:
        raise UsageError("give --key-file or --key-env, not both")
    if key_file is None and key_env is None:
        raise UsageError(
            "a key is needed: give --key-file PATH or --key-env VAR",
            hint="a plain hash of an id is reversible, so fravaer never pseudonymises without a "
            "key; " + KEY_HINT,
        )
    if key_env is not None:
        return read_key_env(key_env)
    assert key_file is not None
    return read_key_file(key_file)


PseudonymFormat = Literal["csv", "parquet"]


@app.command()
def pseudonymize(
    export: ExportArgument,
    output: Annotated[
        Path | None,
        typer.Option(
            "-o",
            "--output",
            help="Where to write (.csv or .parquet), atomically, mode 0600; - is stdout.",
            callback=_stdout_or_file,
        ),
    ],
    key_file: Annotated[
        Path | None,
        typer.Option("--key-file", help="File holding the key: hex or base64 text, >= 32 bytes."),
    ] = None,
    key_env: Annotated[
        str | None,
        typer.Option("--key-env", help="Environment variable holding the key (hex or base64)."),
    ] = None,
    fmt: Annotated[
        PseudonymFormat | None,
        typer.Option("--format", help="csv or parquet. Default: from -o's suffix."),
    ] = None,
    source: SourceFileOption = None,
    encoding: EncodingOption = None,
    separator: SeparatorOption = None,
    date_format: DateFormatOption = None,
    sheet: SheetOption = None,
) -> None:
    """Replace pupil ids by keyed HMAC-SHA256 pseudonyms; the same key gives the same pseudonyms.

    Refuses to run without a key (a plain hash is reversible) or with one shorter than 32 bytes.
    CPR-shaped ids are checked for format and calendar date (not modulus 11) first.
    """
    out_format = fmt or (format_for_path(output) if output is not None else None)
    if out_format not in ("csv", "parquet"):
        named = f"'{output.name}'" if output is not None else "-o -"
        raise UsageError(f"cannot tell csv or parquet from {named}; give --format")
    if output is None and out_format == "parquet" and sys.stdout.isatty():
        raise UsageError("parquet is binary: give -o PATH or redirect stdout")
    key = _read_key(key_file, key_env)
    options = _source_options(source, encoding, separator, date_format, sheet, None)
    # The same reading and refusals as every command (shape, calendar, roster), but the rows
    # written back are the file's own: a lesson-level export stays lesson-level.
    load([str(export)], options)
    frame = read_file(export, options, keep_lines=True)
    count, first_line = invalid_cpr(frame, line=LINE).collect().row(0)
    if count:
        raise BadInputError(
            Location(str(export), first_line, None, PUPIL_ID),
            f"not a valid CPR number: no such birth date ({count} row(s) in all)",
            hint="CPR numbers are checked for format and date only; fix or remove these rows",
        )
    result = pseudonymize_frame(frame.drop(LINE), key).collect(engine="streaming")
    write_frame(result, out_format, output)
    pupils = result[PUPIL_ID].n_unique()
    log.info(
        "pseudonymised %d row(s) of %d pupil(s) to %s", result.height, pupils, output or "stdout"
    )


SinceOption = Annotated[
    str | None,
    typer.Option("--since", help="Compare with the steps on this date, YYYY-MM-DD."),
]
StateOption = Annotated[
    Path | None,
    typer.Option(
        "--state",
        help="Compare with the previous run kept in this JSON state file, and record this run.",
        callback=_a_file_checked("--state"),
    ),
]


@app.command()
def escalate(
    exports: ExportsArgument,
    since: SinceOption = None,
    state: StateOption = None,
    as_of: AsOfOption = None,
    policy: PolicyOption = DEFAULT_POLICY,
    no_national: Annotated[
        bool,
        typer.Option("--no-national", help="Do not evaluate the national quarter rule."),
    ] = False,
    split_by: Annotated[
        Literal["school"] | None,
        typer.Option("--split-by", help="school: one file per school in the folder -o DIR."),
    ] = None,
    fmt: FormatOption = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "-o",
            "--output",
            help="Write here (atomically, mode 0600); a folder with --split-by. Default or -: "
            "stdout.",
            callback=_stdout_or_any,
        ),
    ] = None,
    lang: LangOption = "da",
    meeting_notes: Annotated[
        Path | None,
        typer.Option(
            "--meeting-notes",
            help="Write a preparation sheet (Markdown and HTML) per pupil at step 2+ here.",
            callback=_a_file("--meeting-notes"),
        ),
    ] = None,
    key_file: Annotated[
        Path | None,
        typer.Option(
            "--key-file",
            help="Key of the pupils' tokens in the sheets' file names. Default: STATE.key beside "
            "--state, else DIR/.fravaer-token.key; made on first use.",
        ),
    ] = None,
    source: SourceFileOption = None,
    encoding: EncodingOption = None,
    separator: SeparatorOption = None,
    date_format: DateFormatOption = None,
    sheet: SheetOption = None,
    shape: ShapeOption = None,
) -> None:
    """Pupils who moved up a step since a date or the previous run, with the required actions.

    Also pupils who newly reached warn_parents or notify_municipality in the quarter. Pupils
    whose step went down are listed apart as improvements. With --state, the run's steps are
    recorded in the state file after every output is written, so the next run compares with them.
    """
    if (since is None) == (state is None):
        raise UsageError("give either --since YYYY-MM-DD or --state PATH")
    if split_by is not None and output is None:
        raise UsageError("--split-by school writes one file per school: give -o FOLDER, not -")
    if key_file is not None and meeting_notes is None:
        raise UsageError("--key-file names the meeting sheets: give --meeting-notes FOLDER")
    if split_by is None and output is not None:
        check_output(output)
    if split_by is not None:
        out_format: Format = fmt or "xlsx"
    else:
        out_format = _resolve_format(fmt, output)
    options = _source_options(source, encoding, separator, date_format, sheet, shape)
    choice = policy_versions(policy)
    since_day = _parse_date(since, "--since") if since else None
    with state_lock(state):
        recorded = read_state(state) if state is not None else None  # refused before any work
        frame, day = _read(exports, as_of, options)
        chosen = pick_version(choice, as_of=day)
        national = None if no_national else resolve_policy(NATIONAL_POLICY, as_of=day)
        run = Run(frame, day, chosen, national, lang=lang, parts=parts_for(frame))
        if since_day is not None:
            if since_day >= day:
                raise UsageError(f"--since must be before the as-of date {day.isoformat()}")
            run.reference = steps_at(
                frame, policy=chosen, national=national, as_of=since_day, parts=run.parts
            )
            run.reference_as_of = since_day
        else:
            assert recorded is not None
            previous, run.reference = previous_steps(
                recorded, day, policy=chosen, pupils=run.state_pupils(), source=str(state)
            )
            if previous is None:
                log.info("no earlier run in the state file: every pupil is compared with step 0")
            elif previous.policy != chosen.name:
                log.warning(
                    "the previous run used policy %s: steps may not compare", previous.policy
                )
            run.reference_as_of = previous.as_of if previous else None
        planned: list[Planned] = []
        if output is not None:
            if split_by is not None:
                ensure_folder(output)
            planned += escalation_files(
                run, fmt=out_format, target=output, split_by_school=split_by is not None
            )
        if meeting_notes is not None:
            ensure_folder(meeting_notes)
            key = token_key(state, key_file, meeting_notes)
            planned += meeting_note_files(run, meeting_notes, key=key)
        files = [(p.path, p.data) for p in planned]
        if state is not None:
            assert recorded is not None
            advanced = advance(recorded, as_of=day, policy=chosen.name, pupils=run.state_pupils())
            files.append((state, dump_state(advanced).encode("utf-8")))
        rows = run.escalations()
        if output is None:
            if out_format == "table":
                text = render_escalations(
                    rows,
                    policy=chosen,
                    national=national,
                    as_of=day,
                    reference_as_of=run.reference_as_of,
                    lang=lang,
                    width=_table_width(None),
                )
                write_text(text, None)
            elif out_format == "xlsx":
                write_workbook(_escalation_sheets(rows, lang), None)
            else:
                write_frame(rows, out_format, None)
        write_all(files)
    ups = rows.filter(pl.col(CHANGE) == ESCALATION).height
    log.info(
        "%d escalation(s) and %d improvement(s) as of %s since %s; %d file(s) written",
        ups,
        rows.height - ups,
        day.isoformat(),
        run.reference_as_of.isoformat() if run.reference_as_of else "no earlier run",
        len(files),
    )


def _escalation_sheets(rows: pl.DataFrame, lang: Literal["da", "en"]) -> dict[str, pl.DataFrame]:
    headings = escalation_headings(lang)
    up, down = escalation_sheet_names(lang)
    parts = {}
    for name, change in ((up, ESCALATION), (down, IMPROVEMENT)):
        part = rows.filter(pl.col(CHANGE) == change).drop(CHANGE)
        parts[name] = part.rename({c: headings.get(c, c) for c in part.columns})
    return parts


@app.command()
def report(
    config: Annotated[
        Path, typer.Option("--config", help="report.toml: inputs, policy, outputs, state.")
    ],
    as_of: AsOfOption = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Say what would be written; write nothing.")
    ] = False,
) -> None:
    """Run a report.toml unattended (cron): every output, the state and a manifest, or nothing.

    Holds a lock (a second run exits 75 at once), writes every file atomically (mode 0600) and
    the manifest last, and prints one summary line of counts on stderr.
    """
    day = _parse_date(as_of, "--as-of") if as_of else None
    result = run_report(config, as_of=day, today=_today(), dry_run=dry_run)
    log.info("report %s", result.summary)


WeeksOption = Annotated[
    int,
    typer.Option("--weeks", min=1, max=52, help="How many of the pupil's latest school weeks."),
]


def _chart_format(chart: Path) -> ChartFormat:
    fmt = CHART_SUFFIXES.get(chart.suffix.lower())
    if fmt is None:
        raise UsageError(f"--chart: cannot tell png or svg from '{chart.name}'")
    return fmt


@app.command()
def trend(
    exports: ExportsArgument,
    pupil: Annotated[
        str | None, typer.Option("--pupil", help="The pupil's id, exactly as in the export.")
    ] = None,
    class_name: Annotated[
        str | None,
        typer.Option("--class", help="A class (e.g. 7.B): every pupil whose latest class it is."),
    ] = None,
    school: Annotated[
        list[str] | None,
        typer.Option("--school", help="With --class: only pupils whose latest school is this id."),
    ] = None,
    weeks: WeeksOption = TREND_WEEKS,
    as_of: AsOfOption = None,
    policy: PolicyOption = DEFAULT_POLICY,
    chart: Annotated[
        Path | None,
        typer.Option(
            "--chart",
            help="With --pupil: also write a chart for parents (.png or .svg).",
            callback=_a_file_checked("--chart"),
        ),
    ] = None,
    fmt: FormatOption = None,
    output: OutputOption = None,
    lang: LangOption = "da",
    source: SourceFileOption = None,
    encoding: EncodingOption = None,
    separator: SeparatorOption = None,
    date_format: DateFormatOption = None,
    sheet: SheetOption = None,
    shape: ShapeOption = None,
) -> None:
    """Week by week: the guideline's absence % and step at the end of each school week.

    For one pupil (--pupil): a plain-language summary, a chart with the limits and the weeks'
    absence by category; --chart writes a PNG or SVG for the conversation with parents. For a
    class (--class): one compact line per pupil. Machine formats give one row per pupil per
    week; the last row is the as-of date's own value, the same as classify's.
    """
    if (pupil is None) == (class_name is None):
        raise UsageError("give either --pupil ID or --class NAME")
    if chart is not None and pupil is None:
        raise UsageError("--chart draws one pupil: use it with --pupil")
    chart_format = _chart_format(chart) if chart is not None else None
    out_format = _resolve_format(fmt, output)
    options = _source_options(source, encoding, separator, date_format, sheet, shape)
    choice = policy_versions(policy)
    frame, day = _read(exports, as_of, options)
    chosen = pick_version(choice, as_of=day)
    who: list[str] | pl.LazyFrame = (
        [pupil]
        if pupil is not None
        else class_pupils(frame, as_of=day, class_name=class_name or "")
    )
    series, directions = pl.collect_all(
        [
            trend_frame(frame, policy=chosen, as_of=day, weeks=weeks, pupils=who),
            trend_direction(frame, policy=chosen, as_of=day, pupils=who),
        ]
    )
    if series.is_empty():
        raise UsageError(
            "no rows for that pupil on or before the as-of date"
            if pupil is not None
            else "no pupil's latest class on or before the as-of date has that name",
            hint="ids and class names must match the export exactly",
        )
    log.info("trend of %d pupil(s), %d week(s) as of %s", directions.height, weeks, day.isoformat())
    summary = ""
    if pupil is not None:
        last = series.row(-1, named=True)
        moved = directions.row(0, named=True)
        summary = trend_summary(
            pct_before=moved[PCT_BEFORE],
            pct_now=last[ABSENCE_PCT],
            weeks_back=moved[WEEKS_BACK],
            direction=moved[DIRECTION],
            step=last[STEP],
            policy=chosen,
            lang=lang,
        )
    if chart is not None and chart_format is not None:
        data = trend_chart(
            series[WEEK_END].to_list(),
            series[ABSENCE_PCT].to_list(),
            summary=summary,
            policy=chosen,
            fmt=chart_format,
            lang=lang,
        )
        with atomic_file(chart) as handle:
            handle.write(data)
        log.info("wrote the chart to %s", chart)
    if out_format != "table":
        write_frame(series, out_format, output, sheet="uger" if lang == "da" else "weeks")
    elif pupil is not None:
        text = render_trend(
            series, summary=summary, policy=chosen, as_of=day, lang=lang, width=_table_width(output)
        )
        write_text(text, output)
    else:
        text = render_trend_class(
            series,
            directions,
            name=class_name or "",
            policy=chosen,
            as_of=day,
            lang=lang,
            width=_table_width(output),
        )
        write_text(text, output)


SchoolsOption = Annotated[
    list[str] | None,
    typer.Option("--school", help="Only pupils whose latest school is this id (repeatable)."),
]


@app.command()
def patterns(
    exports: ExportsArgument,
    school: SchoolsOption = None,
    as_of: AsOfOption = None,
    days: Annotated[
        int,
        typer.Option("--days", min=10, max=400, help="Look at each pupil's latest N school days."),
    ] = PATTERN_DAYS,
    policy: PolicyOption = DEFAULT_POLICY,
    show_all: Annotated[
        bool, typer.Option("--all", help="Table: list every pupil, not only those with a pattern.")
    ] = False,
    fmt: FormatOption = None,
    output: OutputOption = None,
    lang: LangOption = "da",
    source: SourceFileOption = None,
    encoding: EncodingOption = None,
    separator: SeparatorOption = None,
    date_format: DateFormatOption = None,
    sheet: SheetOption = None,
    shape: ShapeOption = None,
) -> None:
    """Absence patterns per pupil: weekdays, around weekends and holidays, partial days, runs.

    Per pupil over their latest school days: absence % by weekday, flagged when one weekday (or
    the days next to weekends and holidays) has more days with absence than chance allows given
    the pupil's own absence (exact test, at most 5 % false findings across pupils); repeated
    partial days; and long runs of whole absent days. The lessons of a lesson-level export are
    added up into days on reading, so there is no time-of-day pattern.
    """
    out_format = _resolve_format(fmt, output)
    options = _source_options(source, encoding, separator, date_format, sheet, shape)
    choice = policy_versions(policy)
    frame, day = _read(exports, as_of, options)
    chosen = pick_version(choice, as_of=day)
    # The false-discovery control runs over the whole column of p-values: in-memory engine.
    result = patterns_frame(frame, policy=chosen, as_of=day, days=days, schools=school).collect()
    flagged = result.filter(pl.col(FLAGS) != "").height
    log.info("%d of %d pupil(s) show a pattern as of %s", flagged, result.height, day.isoformat())
    if out_format == "table":
        text = render_patterns(
            result,
            as_of=day,
            days=days,
            fdr=FDR,
            lang=lang,
            show_all=show_all,
            width=_table_width(output),
        )
        write_text(text, output)
    else:
        write_frame(result, out_format, output, sheet="mønstre" if lang == "da" else "patterns")


@app.command("early-warning")
def early_warning(
    exports: ExportsArgument,
    as_of: AsOfOption = None,
    horizon: Annotated[
        int,
        typer.Option("--horizon", min=1, max=200, help="Look this many school days ahead."),
    ] = HORIZON_DAYS,
    school: SchoolsOption = None,
    policy: PolicyOption = DEFAULT_POLICY,
    fmt: FormatOption = None,
    output: OutputOption = None,
    lang: LangOption = "da",
    source: SourceFileOption = None,
    encoding: EncodingOption = None,
    separator: SeparatorOption = None,
    date_format: DateFormatOption = None,
    sheet: SheetOption = None,
    shape: ShapeOption = None,
) -> None:
    """Pupils below step 1 to act on now, before the guideline forces it, and why.

    A pupil is listed when their absence shows a pattern (see `fravaer patterns`), is rising
    while the latest 4 weeks run at the first limit or above, or would reach the first limit
    within the horizon if the latest 4 weeks' rate continued - with the projected date on the
    school's calendar (its usual weekdays, minus public holidays).
    """
    out_format = _resolve_format(fmt, output)
    options = _source_options(source, encoding, separator, date_format, sheet, shape)
    choice = policy_versions(policy)
    frame, day = _read(exports, as_of, options)
    chosen = pick_version(choice, as_of=day)
    result = early_warning_frame(
        frame, policy=chosen, as_of=day, horizon=horizon, schools=school
    ).collect()
    log.info("%d pupil(s) below step 1 to act on as of %s", result.height, day.isoformat())
    if out_format == "table":
        text = render_early_warning(
            result, policy=chosen, as_of=day, horizon=horizon, lang=lang, width=_table_width(output)
        )
        write_text(text, output)
    else:
        write_frame(result, out_format, output, sheet="varsling" if lang == "da" else "warning")


StatsFormat = Format
ByOption = Annotated[
    str,
    typer.Option(
        "--by",
        help="Group by school, grade or class (a class within its school), or several joined by "
        "commas: school,grade.",
    ),
]


@app.command()
def stats(
    exports: ExportsArgument,
    by: ByOption = "school",
    period: Annotated[
        str | None,
        typer.Option(
            "--period",
            help="School year 2023/24, quarter 2024Q1 or range 2024-01-01:2024-03-31; several "
            "joined by commas give a trend. Default: the school year of the as-of date.",
        ),
    ] = None,
    as_of: AsOfOption = None,
    policy: PolicyOption = DEFAULT_POLICY,
    min_cell: Annotated[
        int,
        typer.Option(
            "--min-cell",
            help=f"Hide groups of fewer pupils than this (at least {MIN_CELL_FLOOR}), and enough "
            "others that none can be worked out from the totals.",
        ),
    ] = MIN_CELL_DEFAULT,
    no_suppression: Annotated[
        bool,
        typer.Option(
            "--no-suppression", help="Show small groups too: for internal use only, never publish."
        ),
    ] = False,
    reference: Annotated[
        Path | None,
        typer.Option(
            "--reference",
            help="CSV of national figures (period,measure,value,source) instead of the bundled "
            "ministry figures.",
        ),
    ] = None,
    fmt: FormatOption = None,
    output: OutputOption = None,
    chart: Annotated[
        Path | None,
        typer.Option(
            "--chart",
            help="Also draw the share over 10 % per school: a .png or .svg.",
            callback=_a_file_checked("--chart"),
        ),
    ] = None,
    lang: LangOption = "da",
    source: SourceFileOption = None,
    encoding: EncodingOption = None,
    separator: SeparatorOption = None,
    date_format: DateFormatOption = None,
    sheet: SheetOption = None,
    shape: ShapeOption = None,
) -> None:
    """School statistics the way the ministry counts them, with small groups hidden.

    Per group and for the whole municipality: pupils, pupil school days, absence % by the
    ministry's method (pupils' percentages weighted by their months at the school) and pooled
    (absent days / school days), per category, pupils in the bands 0-5 %, 5.01-10 % and over
    10 %, and pupils at each step of the guideline at the end of the period, with the national
    figures beside the municipality and each school's latest registration.
    """
    out_format = _resolve_format(fmt, output)
    keys = list(parse_by(by))
    if not no_suppression and min_cell < MIN_CELL_FLOOR:
        raise UsageError(
            f"--min-cell must be at least {MIN_CELL_FLOOR}",
            hint="smaller groups can identify children; --no-suppression is for internal use only",
        )
    chart_format = _chart_format(chart) if chart is not None else None
    choice = policy_versions(policy)
    references_frame = read_reference(reference)
    options = _source_options(source, encoding, separator, date_format, sheet, shape)
    frame, day = _read(exports, as_of, options)
    chosen = pick_version(choice, as_of=day)
    periods = parse_periods(period, as_of=day)
    parts = parts_for(frame)
    plans = [
        stats_frame(frame, by=keys, periods=periods, as_of=day, policy=chosen, parts=parts),
        freshness(frame, as_of=day),
    ]
    by_school = chart is not None and keys != [SCHOOL_ID]
    if by_school:
        plans.append(
            stats_frame(
                frame, by=[SCHOOL_ID], periods=periods, as_of=day, policy=chosen, parts=parts
            )
        )
    collected = pl.collect_all(plans, engine="streaming")
    result, fresh = collected[0], collected[1]
    _check_group_keys(result, keys, Path(exports[0]))
    threshold = None if no_suppression else min_cell
    if threshold is not None:
        result = suppress(result, keys=keys, min_cell=threshold, as_of=day)
    references = [reference_for(references_frame, p) for p in periods]
    _warn_stale(fresh)
    drawn = None
    if chart is not None and chart_format is not None:
        schools = collected[2] if by_school else result
        if by_school and threshold is not None:
            schools = suppress(schools, keys=[SCHOOL_ID], min_cell=threshold, as_of=day)
        from fravaer.chart import share_chart  # matplotlib is slow to import: only when drawing

        drawn, _ = share_chart(schools, references=references, fmt=chart_format, lang=lang)
    hidden = int(result[SUPPRESSED].sum())
    log.info(
        "statistics for %d group(s) in %d period(s) as of %s with %s; %s",
        result.filter(~pl.col(MUNICIPALITY)).height,
        len(periods),
        day.isoformat(),
        chosen.name,
        f"{hidden} group(s) hidden (fewer than {min_cell} pupils, or to protect another)"
        if threshold is not None
        else "NOT suppressed: for internal use only",
    )
    if out_format == "table":
        text = render_stats(
            result,
            keys=keys,
            periods=[(p.label, p.start, p.until(day)) for p in periods],
            references=references,
            freshness=fresh,
            policy=chosen,
            as_of=day,
            min_cell=threshold,
            lang=lang,
            width=_table_width(output),
        )
        write_text(text, output)
    elif out_format == "xlsx":
        write_workbook(
            _stats_sheets(result, keys, chosen, periods, references, fresh, threshold, lang),
            output,
            formats=_stats_formats(chosen),
        )
    else:
        write_frame(result.select(contract_columns(keys, chosen)), out_format, output)
    if chart is not None and drawn is not None:
        with atomic_file(chart) as handle:
            handle.write(drawn)


def _check_group_keys(result: pl.DataFrame, keys: list[str], export: Path) -> None:
    """A group without a key would look like the municipality row: refuse it."""
    groups = result.filter(~pl.col(MUNICIPALITY))
    for key in keys:
        missing = groups.filter(pl.col(key).is_null()).height
        if missing:
            raise BadInputError(
                Location(str(export), column_name=key),
                f"--by needs {key} on every row; {missing} group(s) have none",
                hint="group by school, or use an export that carries the column",
            )


def _warn_stale(fresh: pl.DataFrame) -> None:
    """A school lagging the newest registration distorts comparisons: say so (no pupil data)."""
    newest = fresh[LATEST_DATE].max()
    for school, latest, behind in fresh.iter_rows():
        if behind > FRESHNESS_LAG_DAYS:
            log.warning(
                "school %s: latest registration %s is %d school days behind the newest (%s); "
                "its figures may be stale",
                shown_school(school),
                latest.isoformat(),
                behind,
                newest.isoformat() if isinstance(newest, date) else newest,
            )


def _sheet_name(label: str) -> str:
    """Excel forbids / and : in sheet names."""
    return label.replace("/", "-").replace(":", "_")[:31]


def _stats_sheets(
    result: pl.DataFrame,
    keys: list[str],
    policy: Policy,
    periods: list[Period],
    references: list[Reference | None],
    fresh: pl.DataFrame,
    threshold: int | None,
    lang: Literal["da", "en"],
) -> dict[str, pl.DataFrame]:
    sheets: dict[str, pl.DataFrame] = {}
    if threshold is None:
        note = "IKKE DISKRETIONERET: kun til intern brug" if lang == "da" else "NOT SUPPRESSED"
        sheets["intern" if lang == "da" else "internal"] = pl.DataFrame({"note": [note]})
    columns = contract_columns(keys, policy)
    for p in periods:
        sheets[_sheet_name(p.label)] = result.filter(pl.col(PERIOD) == p.label).select(columns)
    national = [
        {
            "period": p.label,
            "reference_period": r.period,
            "absence_pct": r.absence_pct,
            "share_over_10": r.share_over_10,
            "source": "; ".join(r.sources),
        }
        for p, r in zip(periods, references, strict=True)
        if r is not None
    ]
    if national:
        sheets["landstal" if lang == "da" else "national"] = pl.DataFrame(national)
    sheets["aktualitet" if lang == "da" else "freshness"] = fresh
    return sheets


def _stats_formats(policy: Policy) -> dict[str, str]:
    percent = '0.0" %"'
    formats = dict.fromkeys(
        (c for c in metric_columns(policy) if c.endswith("_pct") or c.endswith("_pooled")),
        percent,
    )
    formats[SHARE_OVER_10] = percent
    formats.update(dict.fromkeys((c for c in metric_columns(policy) if c not in formats), "0"))
    return formats


def main() -> None:
    """Console-script entry point."""
    app(prog_name="fravaer")
