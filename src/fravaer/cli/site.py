"""``fravaer site``: static pages for the people who act (docs/site.md)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

import typer

from fravaer.cli import setup
from fravaer.cli.options import (
    AsOfOption,
    ExportsArgument,
    LangOption,
    MeetingTemplateOption,
    PolicyOption,
    SourceFlags,
    a_file,
    source_flags,
)
from fravaer.errors import CannotCreateOutputError
from fravaer.ingest.files import read_meeting_template
from fravaer.ingest.schools import read_school_names
from fravaer.output import write_tree
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
    as_of: AsOfOption = None,
    policy: PolicyOption = DEFAULT_POLICY,
    lang: LangOption = "da",
    school_names: Annotated[
        Path | None,
        typer.Option("--school-names", help="CSV of school_id and name (institutionsnummer;navn)."),
    ] = None,
    key_file: Annotated[
        Path | None,
        typer.Option(
            "--key-file",
            help="Key of the pupils' tokens in the pages' file names. Default: "
            "DIR/.fravaer-token.key, made on first use.",
        ),
    ] = None,
    meeting_template: MeetingTemplateOption = None,
    *,
    flags: SourceFlags,
) -> None:
    """Static pages for the people who act: the municipality, each school, a page per pupil.

    DIR/index.html compares the schools (small groups hidden as in `fravaer stats`);
    DIR/SCHOOL/index.html lists the school's pupils at step 1+ or flagged by the quarter rule,
    with the actions, the early warning and the classes; DIR/SCHOOL/TOKEN.html is a pupil's
    page with the trend, weekdays, quarter rule and the meeting sheet. Written as one unit,
    files 0600 and folders 0700; no file name holds a pupil id.
    """
    if output.exists() and not output.is_dir():
        raise CannotCreateOutputError(f"{output}: is not a folder; site writes a folder")
    asked = setup.reading(exports, as_of, policy, flags.options())
    names = read_school_names(school_names) if school_names is not None else {}
    template = read_meeting_template(meeting_template)
    (frame, day, chosen, national), lessons = setup.read_with_lessons(asked, national=True)
    assert national is not None
    pages = site_files(
        frame,
        as_of=day,
        policy=chosen,
        national=national,
        lang=lang,
        names=names,
        key=token_key(None, key_file, output),
        template=template,
        lessons=lessons,
    )
    removed = write_tree(output, [(output / p, data) for p, data in pages.files], prune=PUPIL_PAGE)
    if removed:
        log.info("removed %d page(s) of pupils no longer listed", removed)
    log.info(
        "site as of %s with %s: %d school(s), %d pupil page(s) in %s",
        day.isoformat(),
        chosen.name,
        pages.schools,
        pages.pupils,
        output,
    )
