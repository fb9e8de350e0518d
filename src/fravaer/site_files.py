"""One run of ``fravaer site``: every figure computed once, the pages rendered, the files named.

The figures come from the commands' own functions (:mod:`fravaer.site`), the pages from
:mod:`fravaer.pages`; here they meet the file system's names: a folder per school (named as
:func:`fravaer.tokens.school_names` names them, never ``index.html`` or a Windows device) and a
page per listed pupil named by the pupil's token, never the id (docs/site.md).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Final

import polars as pl

from fravaer import __version__
from fravaer.classify import parts_for
from fravaer.escalation_files import Run
from fravaer.ingest.reference import read_reference
from fravaer.meeting import MeetingTemplate
from fravaer.pages import INDEX, SiteContext, collect_site
from fravaer.policy import Lang, Policy
from fravaer.pseudonymize import pupil_tokens
from fravaer.schema import PUPIL_ID, SCHOOL_ID
from fravaer.site import Changes
from fravaer.site_helpers import site_pages_beside
from fravaer.state import State
from fravaer.stats import (
    MIN_CELL_DEFAULT,
    MUNICIPALITY,
    parse_periods,
    reference_for,
)
from fravaer.stats_files import warn_stale
from fravaer.tokens import school_names as folder_names

log = logging.getLogger("fravaer")

PUPIL_PAGE: Final = re.compile(r"[0-9a-f]{16}\.html")
"""A pupil's page: the token and ``.html``; an earlier run's page of a pupil no longer listed is
removed when the site is written again."""


@dataclass(frozen=True)
class SiteFiles:
    """The pages of one run, by path inside the site's folder, and what the summary line says."""

    files: list[tuple[Path, bytes]]
    schools: int
    pupils: int
    changes: Changes | None = None
    """The escalations and improvements shown (``--since`` or ``--state``), else None."""
    state: bytes | None = None
    """The state file's new content (``--state``): written once the pages are."""
    early_warning: pl.DataFrame | None = None
    """The municipality's early warning the school pages show: ``fravaer early-warning`` of the
    whole export with its default horizon (:data:`fravaer.trend.HORIZON_DAYS`), which a report
    that writes both takes from here rather than computing it twice."""


def school_folders(schools: set[str]) -> dict[str, str]:
    """Each school's folder name: :func:`fravaer.tokens.school_names`, with the index page's
    name kept from the schools (such an id gets the hash suffix that other awkward ids get)."""
    return folder_names(schools, reserved=[INDEX])


def site_files(
    frame: pl.LazyFrame,
    *,
    as_of: date,
    policy: Policy,
    national: Policy,
    lang: Lang,
    names: dict[str, str],
    key: bytes,
    template: MeetingTemplate,
    lessons: pl.LazyFrame | None = None,
    school_days: pl.DataFrame | None = None,
    since: date | None = None,
    state: State | None = None,
    state_source: str = "",
) -> SiteFiles:
    """Every page of the site as of ``as_of``: the municipality's (small cells suppressed as
    ``fravaer stats`` suppresses them), each school's, and each listed pupil's with the meeting
    sheet of ``template``; ``lessons`` (a lesson-level export's lesson frame) adds the lesson
    finding to the pupils' pages. ``school_days``: each school's dates
    (:func:`fravaer.classify.school_dates` of ``frame``) when read with the as-of date.

    With ``since`` (a date before ``as_of``) or ``state`` (the state file's content, named
    ``state_source`` in errors), each school's page shows the escalations and improvements since
    then, as ``fravaer escalate --since`` or ``--state`` gives them, from the same classification
    as the pages; with ``state``, :attr:`SiteFiles.state` is the state file's new content.
    """
    period = parse_periods(None, as_of=as_of)[0]
    if lessons is not None:
        # The lesson patterns read the lessons and the days in several steps: read the export
        # once, as `fravaer patterns` does.
        lessons, frame = (part.lazy() for part in pl.collect_all([lessons, frame]))
    parts = parts_for(frame)
    # One run: its classification is the site's, and the comparison's when there is one.
    run = Run(frame, as_of, policy, national, lang=lang, parts=parts, school_days=school_days)
    changes, next_state = None, None
    if since is not None or state is not None:
        if since is not None:
            run.compare_with_day(since)
        elif state is not None and run.compare_with_state(state, source=state_source) is None:
            log.info("no earlier run in the state file: every pupil is compared with step 0")
        changes = Changes(run.escalations(), run.reference_as_of, state=since is None)
        if state is not None:
            next_state = run.next_state(state)
    frames = collect_site(
        frame,
        run.classified(),
        policy=policy,
        as_of=as_of,
        period=period,
        min_cell=MIN_CELL_DEFAULT,
        parts=parts,
        lessons=lessons,
        school_days=school_days,
    )
    warn_stale(frames.freshness)
    schools = (
        set(frames.listed[SCHOOL_ID].to_list())
        | set(frames.schools.filter(~pl.col(MUNICIPALITY))[SCHOOL_ID].drop_nulls().to_list())
        | set(changes.rows[SCHOOL_ID].to_list() if changes is not None else [])
    )
    context = SiteContext(
        as_of=as_of,
        policy=policy,
        national=national,
        lang=lang,
        period_label=period.label,
        names=names,
        folders=school_folders(schools),
        tokens=pupil_tokens(key, frames.listed[PUPIL_ID].to_list()),
        min_cell=MIN_CELL_DEFAULT,
        reference=reference_for(read_reference(None), period),
        version=__version__,
        template=template,
    )
    pages = site_pages_beside(frames, context, changes=changes)
    files = [(Path(path), data) for path, data in pages]
    return SiteFiles(
        files,
        schools=len(schools),
        pupils=frames.listed.height,
        changes=changes,
        state=next_state,
        early_warning=frames.early_warning,
    )
