"""``fravaer site``: static pages for the people who act (docs/site.md)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

import polars as pl
import typer

from fravaer.cli import setup
from fravaer.cli.options import (
    AsOfOption,
    ExportsArgument,
    LangOption,
    MeetingTemplateOption,
    PolicyOption,
    SinceOption,
    SourceFlags,
    StateOption,
    a_file,
    parse_date,
    source_flags,
)
from fravaer.errors import CannotCreateOutputError, UsageError
from fravaer.escalate import CHANGE, ESCALATION
from fravaer.ingest.files import read_meeting_template, read_state
from fravaer.ingest.schools import read_school_names
from fravaer.output import state_lock, write_all, write_tree
from fravaer.policy import DEFAULT_POLICY
from fravaer.site_files import PUPIL_PAGE, site_files
from fravaer.tokens import token_key

log = logging.getLogger("fravaer")


@source_flags()
def site(
    exports: ExportsArgument,
    output: Annotated[
        Path,
        typer.Option(
            "-o",
            "--output",
            help="The site's folder: index.html, and a folder per school (made 0700).",
            callback=a_file("-o"),
        ),
    ],
    since: SinceOption = None,
    state: StateOption = None,
    as_of: AsOfOption = None,
    policy: PolicyOption = DEFAULT_POLICY,
    lang: LangOption = "da",
    school_names: Annotated[
        Path | None,
        typer.Option(
            "--school-names",
            help="CSV of school_id and name (institutionsnummer;navn). Without it, or for a "
            "school it leaves out, the name of the exports' school-name column (skolenavn).",
        ),
    ] = None,
    key_file: Annotated[
        Path | None,
        typer.Option(
            "--key-file",
            help="Key of the pupils' tokens in the pages' file names. Default: STATE.key "
            "beside --state, else DIR/.fravaer-token.key; made on first use.",
        ),
    ] = None,
    meeting_template: MeetingTemplateOption = None,
    *,
    flags: SourceFlags,
) -> None:
    """Static pages for the people who act: the municipality, each school, a page per pupil.

    DIR/index.html compares the schools (small groups hidden as in `fravaer stats`);
    DIR/SCHOOL/index.html lists the school's pupils at step 1+ or flagged by the quarter rule,
    with the actions, the agenda for Samrum, the early warning and the classes;
    DIR/SCHOOL/TOKEN.html is a pupil's page with the trend, weekdays, quarter rule and the
    meeting sheet. With --since or --state, each school's page also lists the escalations and
    improvements since then, as `fravaer escalate` does; --state records this run in the state
    file once the pages are written. Written as one unit, files 0600 and folders 0700; no file
    name holds a pupil id.
    """
    if since is not None and state is not None:
        raise UsageError("give --since YYYY-MM-DD or --state PATH, not both")
    if output.exists() and not output.is_dir():
        raise CannotCreateOutputError(f"{output}: is not a folder; site writes a folder")
    asked = setup.reading(exports, as_of, policy, flags.options())
    since_day = parse_date(since, "--since") if since else None
    names = read_school_names(school_names) if school_names is not None else {}
    template = read_meeting_template(meeting_template)
    with state_lock(state):
        recorded = read_state(state) if state is not None else None  # refused before any work
        (frame, day, chosen, national, school_days), loaded = setup.read_loaded(
            asked, national=True
        )
        assert national is not None
        if since_day is not None and since_day >= day:
            raise UsageError(f"--since must be before the as-of date {day.isoformat()}")
        pages = site_files(
            frame,
            as_of=day,
            policy=chosen,
            national=national,
            lang=lang,
            names=loaded.school_names() | names,  # a --school-names file has the last word
            key=token_key(state, key_file, output),
            since=since_day,
            state=recorded,
            state_source=str(state),
            template=template,
            lessons=loaded.lessons,
            school_days=school_days,
        )
        written = [(output / p, data) for p, data in pages.files]
        removed = write_tree(output, written, prune=PUPIL_PAGE)
        if state is not None and pages.state is not None:
            write_all([(state, pages.state)])  # only once every page is written
    if removed:
        log.info("removed %d page(s) of pupils no longer listed", removed)
    if pages.changes is not None:
        ups = pages.changes.rows.filter(pl.col(CHANGE) == ESCALATION).height
        reference = pages.changes.reference_as_of
        log.info(
            "%d escalation(s) and %d improvement(s) since %s",
            ups,
            pages.changes.rows.height - ups,
            reference.isoformat() if reference else "no earlier run",
        )
    log.info(
        "site as of %s with %s: %d school(s), %d pupil page(s) in %s",
        day.isoformat(),
        chosen.name,
        pages.schools,
        pages.pupils,
        output,
    )
