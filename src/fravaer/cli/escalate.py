"""``fravaer escalate`` and ``fravaer report``: runs that write several files as one unit."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated, Literal

import polars as pl
import typer

from fravaer.classify import parts_for
from fravaer.cli import setup
from fravaer.cli.options import (
    AsOfOption,
    ExportsArgument,
    FormatOption,
    HeadersOption,
    LangOption,
    MeetingTemplateOption,
    PolicyOption,
    SchoolNamesOption,
    SinceOption,
    SourceFlags,
    StateOption,
    a_file,
    env_lang,
    parse_as_of,
    parse_date,
    resolve_format,
    source_flags,
    stdout_or_any,
    table_width,
    xlsx_school_names,
)
from fravaer.cli.setup import read, read_with_lessons, reading
from fravaer.errors import UsageError
from fravaer.escalate import CHANGE, ESCALATION
from fravaer.escalation_files import (
    Planned,
    Run,
    escalation_bytes,
    escalation_files,
    meeting_note_files,
)
from fravaer.ingest.files import read_meeting_template, read_state
from fravaer.output import Format, check_output, ensure_folder, state_lock, write_all, write_bytes
from fravaer.policy import DEFAULT_POLICY
from fravaer.report import report as run_report
from fravaer.tokens import token_key

log = logging.getLogger("fravaer")


@source_flags()
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
            callback=stdout_or_any,
        ),
    ] = None,
    lang: LangOption = "da",
    headers: HeadersOption = "lang",
    school_names_file: SchoolNamesOption = None,
    meeting_notes: Annotated[
        Path | None,
        typer.Option(
            "--meeting-notes",
            help="Write a preparation sheet (Markdown and HTML) per pupil at step 2+ here.",
            callback=a_file("--meeting-notes"),
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
    meeting_template: MeetingTemplateOption = None,
    *,
    flags: SourceFlags,
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
    if meeting_template is not None and meeting_notes is None:
        raise UsageError(
            "--meeting-template gives the meeting sheets' questions: give --meeting-notes FOLDER"
        )
    if split_by is None and output is not None:
        check_output(output)
    if split_by is not None:
        out_format: Format = fmt or "xlsx"
    else:
        out_format = resolve_format(fmt, output)
    names = xlsx_school_names(school_names_file, out_format, elsewhere=meeting_notes is not None)
    options = flags.options()
    asked = reading(exports, as_of, policy, options)
    since_day = parse_date(since, "--since") if since else None
    template = read_meeting_template(meeting_template) if meeting_notes is not None else None
    with state_lock(state):
        recorded = read_state(state) if state is not None else None  # refused before any work
        # The sheets say a lesson-level export's lesson finding: its lessons are kept then.
        done, lessons = (
            read_with_lessons(asked, national=not no_national)
            if meeting_notes is not None
            else (read(asked, national=not no_national), None)
        )
        frame, day, chosen, national, school_days = done
        run = Run(
            frame,
            day,
            chosen,
            national,
            lang=lang,
            headers=headers,
            names=names,
            parts=parts_for(frame),
            lessons=lessons,
            school_days=school_days,
        )
        if since_day is not None:
            if since_day >= day:
                raise UsageError(f"--since must be before the as-of date {day.isoformat()}")
            run.compare_with_day(since_day)
        elif recorded is not None and run.compare_with_state(recorded, source=str(state)) is None:
            log.info("no earlier run in the state file: every pupil is compared with step 0")
        planned: list[Planned] = []
        if output is not None:
            if split_by is not None:
                ensure_folder(output)
            planned += escalation_files(
                run, fmt=out_format, target=output, split_by_school=split_by is not None
            )
        if meeting_notes is not None and template is not None:
            ensure_folder(meeting_notes)
            key = token_key(state, key_file, meeting_notes)
            planned += meeting_note_files(run, meeting_notes, key=key, template=template)
        files = [(p.path, p.data) for p in planned]
        if state is not None and recorded is not None:
            files.append((state, run.next_state(recorded)))
        rows = run.escalations()
        if output is None:
            write_bytes(escalation_bytes(run, rows, out_format, width=table_width(None)), None)
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
    the manifest last, and prints one summary line of counts on stderr. Outputs: classification,
    escalations, meeting_notes, stats, early_warning and site; all but site can be written one
    per school. Every run that got the lock ends by writing a status file beside it, also when
    it fails.
    """
    day = parse_as_of(as_of) if as_of else None
    result = run_report(config, as_of=day, today=setup.today(), dry_run=dry_run, lang=env_lang())
    log.info("report %s", result.summary)
