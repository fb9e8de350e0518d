"""One escalation run and the files it plans: shared by ``fravaer escalate`` and ``fravaer report``.

A :class:`Run` reads nothing itself: it holds the exports' frame, the as-of date and the policies,
and computes the classification and the escalations once. It is compared with a reference — the
steps on a date (``escalate --since``) or the previous run in the state file (``--state`` and
``report``) — and *plans* its files (:class:`Planned`: a path, its bytes and its row count) before
anything is written; the callers write them all as one unit with
:func:`fravaer.output.write_all`, the state file after the outputs (docs/escalate.md).
"""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Final

import polars as pl

from fravaer import __version__
from fravaer import schema as s
from fravaer.classify import classify
from fravaer.config import EscalationFormat, MachineFormat
from fravaer.errors import UsageError
from fravaer.escalate import CHANGE, ESCALATION, IMPROVEMENT, escalate, steps_at
from fravaer.headings import Headers, for_people
from fravaer.meeting import (
    MeetingTemplate,
    lesson_findings,
    sheet_pupils,
    sheets,
    weekday_absence,
    weekly_trend,
)
from fravaer.output import serialise_frame, serialise_workbook
from fravaer.pages.meeting import sheet_html, sheet_markdown
from fravaer.policy import Lang, Policy
from fravaer.pseudonymize import pupil_tokens
from fravaer.render import escalation_sheet_names, render_escalations
from fravaer.state import Run as RecordedRun
from fravaer.state import State, advance, dump_state, previous_steps, run_frame
from fravaer.tokens import school_names
from fravaer.words import school_shown

log = logging.getLogger("fravaer")

ESCALATION_PREFIX: Final = "escalations"
_EXTENSIONS: Final[dict[str, str]] = {
    "csv": ".csv",
    "json": ".json",
    "parquet": ".parquet",
    "xlsx": ".xlsx",
    "table": ".txt",
}
FILE_WIDTH: Final = 160
"""Columns of a table written to a file (a terminal uses its own width)."""


@dataclass(frozen=True)
class Planned:
    """One file a run will write: where, what, which kind of output and how many rows."""

    path: Path
    data: bytes
    kind: str
    rows: int


@dataclass
class Run:
    """What one run knows: the data, the date, the policies, and results computed once."""

    frame: pl.LazyFrame
    as_of: date
    policy: Policy
    national: Policy | None
    lang: Lang = "da"
    headers: Headers = "lang"
    """xlsx headings: in ``lang`` for people, or the machine names (``snake``)."""
    names: Mapping[str, str] = field(default_factory=dict)
    """School id -> name, shown beside the id in xlsx and on the meeting sheets
    (``--school-names``)."""
    reference: pl.LazyFrame | None = None
    reference_as_of: date | None = None
    parts: int = 1
    """Buckets of pupils that classify evaluates one after another (see ``parts_for``)."""
    lessons: pl.LazyFrame | None = None
    """The lesson frame of a lesson-level export: the meeting sheets say the lesson finding."""
    school_days: pl.DataFrame | None = None
    """Each school's dates (:func:`fravaer.classify.school_dates` of ``frame``) when read with
    the as-of date: the "has left" rule reads no row again."""
    _classified: pl.DataFrame | None = field(default=None, repr=False)
    _escalations: pl.DataFrame | None = field(default=None, repr=False)

    def classified(self, *, include_left: bool = False) -> pl.DataFrame:
        """Every current pupil's step at the as-of date: pupils who have left omitted (computed
        once), or with ``include_left`` kept."""
        if self._classified is not None and not include_left:
            return self._classified
        classified = classify(
            self.frame,
            policy=self.policy,
            national=self.national,
            as_of=self.as_of,
            include_left=include_left,
            parts=self.parts,
            school_days=self.school_days,
        ).collect(engine="streaming")
        if not include_left:
            self._classified = classified
        return classified

    def escalations(self) -> pl.DataFrame:
        """Escalations and improvements against the reference (empty reference: a first run)."""
        if self._escalations is None:
            reference = self.reference if self.reference is not None else run_frame(None)
            self._escalations = escalate(
                self.classified().lazy(),
                reference,
                policy=self.policy,
                national=self.national,
                as_of=self.as_of,
                reference_as_of=self.reference_as_of,
                lang=self.lang,
            ).collect()
        return self._escalations

    def of_school(self, school: str) -> Run:
        """This run for the current pupils of ``school`` alone: their classification and their
        escalations, cut from this run's (the data stays whole, so that the weeks a pupil spent
        at an earlier school still count, as in the municipality's lists)."""
        classified = self.classified().filter(pl.col(s.SCHOOL_ID) == school)
        escalations = self.escalations().filter(pl.col(s.SCHOOL_ID) == school)
        return replace(self, _classified=classified, _escalations=escalations)

    def state_pupils(self) -> dict[str, tuple[int | None, str | None]]:
        rows = self.classified().select(s.PUPIL_ID, s.STEP, s.QUARTER_FLAG).iter_rows()
        return {pupil: (step, flag) for pupil, step, flag in rows}

    def compare_with_day(self, day: date) -> None:
        """Compare with every pupil's step on ``day`` (before the as-of date)."""
        self.reference = steps_at(
            self.frame, policy=self.policy, national=self.national, as_of=day, parts=self.parts
        )
        self.reference_as_of = day

    def compare_with_state(self, state: State, *, source: str) -> RecordedRun | None:
        """Compare with the latest run recorded in ``state`` before the as-of date, and return
        it (None: a first run, every pupil compared with step 0). ``source`` names the state
        file in errors."""
        previous, self.reference = previous_steps(
            state, self.as_of, policy=self.policy, pupils=self.state_pupils(), source=source
        )
        if previous is not None and previous.policy != self.policy.name:
            log.warning(
                "the previous run used policy %s, this one %s: steps may not compare",
                previous.policy,
                self.policy.name,
            )
        self.reference_as_of = previous.as_of if previous is not None else None
        return previous

    def next_state(self, state: State) -> bytes:
        """The state file's new content: ``state`` with this run's steps recorded."""
        advanced = advance(
            state, as_of=self.as_of, policy=self.policy.name, pupils=self.state_pupils()
        )
        return dump_state(advanced).encode("utf-8")


def unique(planned: list[Planned]) -> list[Planned]:
    """``planned``, if no two of its paths are one file, also where a file system ignores case.

    School ids are kept apart by ``tokens.school_names`` and pupils by their tokens, so what is
    left is two outputs of a config naming one file (or an id made to look like another's
    name with its hash).
    """
    paths = [same_file_key(p.path) for p in planned]
    if len(set(paths)) != len(paths):
        raise UsageError(
            "two outputs would have the same file name (letter case and Unicode normalisation "
            "ignored, as on SMB shares and macOS)",
            hint="two outputs name the same file or folder, or differ only in letter case or in "
            "how an accented letter is encoded (å as one character or as a + ring)",
        )
    return planned


def same_file_key(path: Path) -> str:
    """``path`` as file systems that ignore case and Unicode normalisation compare it.

    macOS and many SMB servers take ``å`` (U+00E5) and ``a`` + U+030A for one letter, and
    ``A`` for ``a``: two names with one key are one file there. This is Unicode's canonical
    caseless match (normalise, fold case, normalise again).

    >>> same_file_key(Path("\u00c5.csv")) == same_file_key(Path("a\u030a.csv"))
    True
    """
    return unicodedata.normalize("NFD", unicodedata.normalize("NFD", str(path)).casefold())


# -- escalations ----------------------------------------------------------------------------------


def sheet_frame(run: Run, rows: pl.DataFrame) -> pl.DataFrame:
    """``rows`` as the run's xlsx shows them: headings in its language (or the machine names)
    and the schools' names beside their ids (:func:`fravaer.headings.for_people`)."""
    return for_people(rows.lazy(), lang=run.lang, headers=run.headers, names=run.names).collect()


def frame_bytes(run: Run, rows: pl.DataFrame, fmt: MachineFormat, *, sheet: str) -> bytes:
    """``rows`` as ``fmt``; in xlsx, the sheet ``sheet`` of :func:`sheet_frame`."""
    if fmt == "xlsx":
        return serialise_frame(sheet_frame(run, rows), fmt, sheet=sheet)
    return serialise_frame(rows, fmt, sheet=sheet)


def escalation_sheets(run: Run, rows: pl.DataFrame) -> dict[str, pl.DataFrame]:
    """The escalation workbook: a sheet of escalations and one of improvements, with headings."""
    up, down = escalation_sheet_names(run.lang)
    return {
        name: sheet_frame(run, rows.filter(pl.col(CHANGE) == change).drop(CHANGE))
        for name, change in ((up, ESCALATION), (down, IMPROVEMENT))
    }


def escalation_bytes(
    run: Run, rows: pl.DataFrame, fmt: EscalationFormat, *, width: int | None = FILE_WIDTH
) -> bytes:
    """``rows`` of :meth:`Run.escalations` as ``fmt``: a table ``width`` columns wide (None: the
    terminal's), the workbook of :func:`escalation_sheets`, or a frame."""
    if fmt == "table":
        text = render_escalations(
            rows,
            policy=run.policy,
            national=run.national,
            as_of=run.as_of,
            reference_as_of=run.reference_as_of,
            lang=run.lang,
            width=width,
        )
        return text.encode("utf-8")
    if fmt == "xlsx":
        return serialise_workbook(escalation_sheets(run, rows))
    return serialise_frame(rows, fmt)


def escalation_files(
    run: Run, *, fmt: EscalationFormat, target: Path, split_by_school: bool
) -> list[Planned]:
    """The escalation list as one file at ``target``, or one per school in the folder ``target``.

    Every school of the current pupils gets its file, an empty one included, so that a missing
    file always means a fault and never "nothing to report".
    """
    rows = run.escalations()
    if not split_by_school:
        return [Planned(target, escalation_bytes(run, rows, fmt), "escalations", rows.height)]
    schools = sorted(set(run.classified()[s.SCHOOL_ID].to_list()))
    names = school_names(schools)
    planned = []
    for school in schools:
        part = rows.filter(pl.col(s.SCHOOL_ID) == school)
        name = f"{ESCALATION_PREFIX}-{names[school]}-{run.as_of.isoformat()}{_EXTENSIONS[fmt]}"
        planned.append(
            Planned(target / name, escalation_bytes(run, part, fmt), "escalations", part.height)
        )
    return unique(planned)


# -- meeting notes --------------------------------------------------------------------------------


def meeting_note_files(
    run: Run, folder: Path, *, key: bytes, template: MeetingTemplate
) -> list[Planned]:
    """A Markdown and an HTML preparation sheet per pupil at step 2 or higher, with the
    questions of ``template``.

    Each is named ``SCHOOL-TOKEN-ASOF``: the school as ``tokens.school_names`` makes it, and the
    pupil's token under ``key`` (``pseudonymize.pupil_token``), never the id, which is only in
    the sheet. The same key gives the same names every week. The sheet names the school by
    its name and id when the run has its name (``--school-names``), as the site's dossier does.
    """
    classified = run.classified()
    pupils = sheet_pupils(classified)
    categories = run.policy.primary.categories
    frame, lessons = run.frame, run.lessons
    if lessons is not None:
        # The lesson finding reads the lessons and the days in several steps: read the export
        # once, as `fravaer patterns` does (lazily, each step read it again: ten times the time).
        lessons, frame = (part.lazy() for part in pl.collect_all([lessons, frame]))
    weeks_df, days_df = pl.collect_all(
        [
            weekly_trend(frame, policy=run.policy, as_of=run.as_of, pupils=pupils),
            weekday_absence(frame, pupils, categories=categories, as_of=run.as_of),
        ]
    )
    findings = (
        lesson_findings(frame, lessons, policy=run.policy, as_of=run.as_of).collect()
        if lessons is not None
        else None
    )
    found = sheets(classified, weeks_df, days_df, findings)
    tokens = pupil_tokens(key, (str(sheet.pupil[s.PUPIL_ID]) for sheet in found))
    schools = school_names({str(sheet.pupil[s.SCHOOL_ID]) for sheet in found})
    planned = []
    for sheet in found:
        school, pupil = str(sheet.pupil[s.SCHOOL_ID]), str(sheet.pupil[s.PUPIL_ID])
        stem = f"{schools[school]}-{tokens[pupil]}-{run.as_of.isoformat()}"
        shown = school_shown(school, run.names)
        markdown = sheet_markdown(
            sheet,
            policy=run.policy,
            template=template,
            lang=run.lang,
            school=shown,
            national=run.national,
        )
        page = sheet_html(
            sheet,
            policy=run.policy,
            template=template,
            version=__version__,
            lang=run.lang,
            school=shown,
            national=run.national,
        )
        planned.append(Planned(folder / f"{stem}.md", markdown.encode(), "meeting_notes", 1))
        planned.append(Planned(folder / f"{stem}.html", page.encode(), "meeting_notes", 1))
    return unique(planned)
