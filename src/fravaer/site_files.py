"""One run of ``fravaer site``: every figure computed once, the pages rendered, the files named.

The figures come from the commands' own functions (:mod:`fravaer.site`), the pages from
:mod:`fravaer.pages`; here they meet the file system's names: a folder per school (named as
:func:`fravaer.tokens.school_names` names them, never ``index.html`` or a Windows device) and a
page per listed pupil named by the pupil's token, never the id (docs/site.md).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Final

import polars as pl

from fravaer import __version__
from fravaer.classify import parts_for
from fravaer.config import WINDOWS_DEVICES
from fravaer.escalation_files import same_file_key
from fravaer.ingest.reference import read_reference
from fravaer.pages import INDEX, SiteContext, collect_site, site_pages
from fravaer.policy import Lang, Policy
from fravaer.pseudonymize import pupil_tokens
from fravaer.schema import PUPIL_ID, SCHOOL_ID
from fravaer.stats import MIN_CELL_DEFAULT, MUNICIPALITY, parse_periods, reference_for, suppress
from fravaer.stats_files import warn_stale
from fravaer.tokens import school_names as folder_names

PUPIL_PAGE: Final = re.compile(r"[0-9a-f]{16}\.html")
"""A pupil's page: the token and ``.html``; an earlier run's page of a pupil no longer listed is
removed when the site is written again."""


@dataclass(frozen=True)
class SiteFiles:
    """The pages of one run, by path inside the site's folder, and what the summary line says."""

    files: list[tuple[Path, bytes]]
    schools: int
    pupils: int


def school_folders(schools: set[str]) -> dict[str, str]:
    """Each school's folder name: :func:`fravaer.tokens.school_names`, and an id named like the
    index page or like a device that Windows keeps (an SMB share refuses it) gets the hash
    suffix that other awkward ids get."""
    folders = folder_names(schools)
    for school, name in folders.items():
        if same_file_key(Path(name)) == same_file_key(Path(INDEX)) or (
            name.split(".")[0].upper() in WINDOWS_DEVICES
        ):
            folders[school] = f"{name}-{hashlib.sha256(school.encode()).hexdigest()[:8]}"
    return folders


def site_files(
    frame: pl.LazyFrame,
    *,
    as_of: date,
    policy: Policy,
    national: Policy,
    lang: Lang,
    names: dict[str, str],
    key: bytes,
) -> SiteFiles:
    """Every page of the site as of ``as_of``: the municipality's (small cells suppressed as
    ``fravaer stats`` suppresses them), each school's, and each listed pupil's."""
    period = parse_periods(None, as_of=as_of)[0]
    frames = collect_site(
        frame, policy=policy, national=national, as_of=as_of, period=period, parts=parts_for(frame)
    )
    frames = replace(
        frames,
        schools=suppress(frames.schools, keys=[SCHOOL_ID], min_cell=MIN_CELL_DEFAULT, as_of=as_of),
    )
    warn_stale(frames.freshness)
    schools = set(frames.listed[SCHOOL_ID].to_list()) | set(
        frames.schools.filter(~pl.col(MUNICIPALITY))[SCHOOL_ID].drop_nulls().to_list()
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
    )
    files = [(Path(path), data) for path, data in site_pages(frames, context)]
    return SiteFiles(files, schools=len(schools), pupils=frames.listed.height)
