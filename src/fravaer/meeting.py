"""Meeting sheets: what one page per pupil shows at a meeting on absence, and its questions.

The coordinator (tovholder) meets the pupil, the parents and the school's people with the facts
of the absence on one page: the current absence %, the guideline's figure week by week, the days
per category and per weekday, the lesson pattern when the export has lessons, the actions the
guideline requires at the pupil's step, and the questions of the meeting template (the extended
Signs of Safety method unless the municipality gives its own), left empty to be filled in.

This module computes, as the rest of the core does: the week-by-week figure is
:func:`fravaer.trend.trend`'s (the rolling figure at each school week's end, the one figure
``fravaer trend`` gives, with the week's own absence beside it), the weekdays
:func:`weekday_absence`, the lesson finding :func:`fravaer.trend.patterns`' lesson columns. The
sheets are laid out from templates by :mod:`fravaer.pages.meeting` (Markdown and HTML, shared
with the dossier of ``fravaer site``). :class:`MeetingTemplate` says what a valid template is;
:mod:`fravaer.ingest.files` reads it (docs/site.md#the-meeting-template).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Final, Self

import polars as pl
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from fravaer import schema as s
from fravaer.lessons import LESSON_PATTERN_COLUMNS
from fravaer.policy import Lang, Policy, ShownText, toml_validation_error
from fravaer.tomltext import toml_data
from fravaer.trend import ABSENT_DAYS_WEEK, SCHOOL_DAYS_WEEK, WEEK_END, patterns, trend
from fravaer.window import UNITS, days_expr, with_units

MEETING_MIN_STEP: Final = 2
"""Pupils at this step or higher get a sheet: from step 2 a coordinator owns the case."""

TREND_WEEKS: Final = 6
"""The sheet shows the pupil's latest six school weeks (``fravaer trend --weeks 6``)."""

WEEKDAY: Final = "weekday"
SCHOOL_DAYS: Final = "school_days"

# -- the meeting template -------------------------------------------------------------------------

MAX_QUESTIONS: Final = 10
"""At most ten main questions, and ten sub-questions to each: a sheet is one printed page."""
MAX_QUESTION_CHARS: Final = 300

QuestionText = Annotated[ShownText, Field(min_length=1, max_length=MAX_QUESTION_CHARS)]
"""A question: text only, under the rule of every policy text (no formula start, no control or
invisible character); markup in it is shown as written, never read."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class MeetingQuestion(_Strict):
    """A main question of the meeting and its sub-questions."""

    question: QuestionText
    sub_questions: tuple[QuestionText, ...] = Field(default=(), max_length=MAX_QUESTIONS)


class MeetingTemplate(_Strict):
    """The questions of a meeting sheet in Danish and English: questions only, not a page.

    The English is a translation of the Danish: the same number of main questions, and of
    sub-questions to each.

    >>> q = {"question": "Hvad fungerer?", "sub_questions": ["Hvorfor?"]}
    >>> e = {"question": "What works?", "sub_questions": ["Why?"]}
    >>> MeetingTemplate.model_validate(dict(da=[q], en=[e])).questions("en")[0].question
    'What works?'
    """

    # At least one question each is checked below: a minimum here would add a second error
    # ("too short") to the one of a refused question.
    da: tuple[MeetingQuestion, ...] = Field(max_length=MAX_QUESTIONS)
    en: tuple[MeetingQuestion, ...] = Field(max_length=MAX_QUESTIONS)

    @model_validator(mode="after")
    def _translated(self) -> Self:
        if not self.da or not self.en:
            raise ValueError("da and en each need at least one main question")
        shape_da = [len(q.sub_questions) for q in self.da]
        shape_en = [len(q.sub_questions) for q in self.en]
        if shape_da != shape_en:
            raise ValueError(
                "da and en must have the same main questions and as many sub-questions to each "
                f"(da: {shape_da}, en: {shape_en})"
            )
        return self

    def questions(self, lang: Lang) -> tuple[MeetingQuestion, ...]:
        return self.en if lang == "en" else self.da


def parse_meeting_template(text: str, *, source: str) -> MeetingTemplate:
    """Validate a meeting template's TOML; an error names ``source``, the line and the key (78).

    >>> text = chr(10).join(["[[da]]", 'question = "Hvad?"', "colour = 1"])
    >>> parse_meeting_template(text, source="m.toml")
    Traceback (most recent call last):
    ...
    fravaer.errors.PolicyError: m.toml:3: field 'da.0.colour': Extra inputs are not permitted \
(and 1 more)
    """
    data = toml_data(text, source=source)
    try:
        return MeetingTemplate.model_validate(data)
    except ValidationError as exc:
        raise toml_validation_error(exc, text=text, source=source) from None


# -- the figures ----------------------------------------------------------------------------------


def weekly_trend(
    frame: pl.LazyFrame,
    *,
    policy: Policy,
    as_of: date,
    pupils: pl.LazyFrame,
    weeks: int = TREND_WEEKS,
) -> pl.LazyFrame:
    """The sheet's week-by-week figure: :func:`fravaer.trend.trend` of ``pupils`` (a frame with
    ``pupil_id``), the latest ``weeks`` school weeks. Not a second computation: the same plan as
    ``fravaer trend --weeks 6``, so a sheet and ``trend`` give one figure for a week."""
    return trend(frame, policy=policy, as_of=as_of, weeks=weeks, pupils=pupils)


def lesson_findings(
    frame: pl.LazyFrame, lessons: pl.LazyFrame, *, policy: Policy, as_of: date
) -> pl.LazyFrame:
    """The strongest lesson-level finding per pupil, as ``fravaer patterns`` gives it on a
    lesson-level export (its false-discovery control runs over every pupil, as there):
    ``pupil_id`` and :data:`fravaer.lessons.LESSON_PATTERN_COLUMNS`."""
    found = patterns(frame, policy=policy, as_of=as_of, lessons=lessons)
    return found.select(s.PUPIL_ID, *LESSON_PATTERN_COLUMNS)


def weekday_absence(
    frame: pl.LazyFrame, pupils: pl.LazyFrame, *, categories: tuple[str, ...], as_of: date
) -> pl.LazyFrame:
    """Absent days per weekday (1 = Monday) in each pupil's window, from ``window_start``.

    ``pupils`` carries ``pupil_id`` and ``window_start`` (from the classification). Columns:
    ``pupil_id, weekday, school_days, absent_days``.
    """
    rows = with_units(frame, as_of=as_of).join(
        pupils.select(s.PUPIL_ID, s.WINDOW_START), on=s.PUPIL_ID, how="inner"
    )
    counted = pl.col(UNITS).filter(pl.col(s.CATEGORY).is_in(categories)).sum()
    return (
        rows.filter(pl.col(s.DATE) >= pl.col(s.WINDOW_START))
        .with_columns(pl.col(s.DATE).dt.weekday().alias(WEEKDAY))
        .group_by(s.PUPIL_ID, WEEKDAY)
        .agg(pl.col(s.DATE).n_unique().cast(pl.Int64).alias(SCHOOL_DAYS), counted.alias(UNITS))
        .with_columns(days_expr(pl.col(UNITS)).alias(s.ABSENT_DAYS))
        .select(s.PUPIL_ID, WEEKDAY, SCHOOL_DAYS, s.ABSENT_DAYS)
        .sort(s.PUPIL_ID, WEEKDAY)
    )


@dataclass(frozen=True)
class Week:
    """One school week of :func:`fravaer.trend.trend`: the guideline's figure at its end."""

    end: date
    pct: float | None
    step: int | None
    absent_days_week: float
    school_days_week: int


@dataclass(frozen=True)
class Weekday:
    day: int  # 1 = Monday
    school_days: int
    absent_days: float


@dataclass(frozen=True)
class Sheet:
    """What one sheet shows: a classification row, the two breakdowns and, for a lesson-level
    export, the pupil's lesson finding (``lessons``: the lesson columns of ``fravaer patterns``,
    empty when nothing was found; None for a day-level export)."""

    pupil: Mapping[str, object]  # a row of `classify`'s output
    weeks: tuple[Week, ...]
    weekdays: tuple[Weekday, ...]
    lessons: Mapping[str, object] | None = None


def weeks_of(trend_rows: pl.DataFrame) -> dict[str, tuple[Week, ...]]:
    """:func:`fravaer.trend.trend`'s rows as each pupil's :class:`Week` s, oldest first."""
    out: dict[str, list[Week]] = {}
    for row in trend_rows.iter_rows(named=True):
        out.setdefault(row[s.PUPIL_ID], []).append(
            Week(
                row[WEEK_END],
                row[s.ABSENCE_PCT],
                row[s.STEP],
                row[ABSENT_DAYS_WEEK],
                row[SCHOOL_DAYS_WEEK],
            )
        )
    return {pupil: tuple(weeks) for pupil, weeks in out.items()}


def weekdays_of(weekday_rows: pl.DataFrame) -> dict[str, tuple[Weekday, ...]]:
    """:func:`weekday_absence`'s rows as each pupil's :class:`Weekday` s, Monday first."""
    out: dict[str, list[Weekday]] = {}
    for row in weekday_rows.iter_rows(named=True):
        out.setdefault(row[s.PUPIL_ID], []).append(
            Weekday(row[WEEKDAY], row[SCHOOL_DAYS], row[s.ABSENT_DAYS])
        )
    return {pupil: tuple(days) for pupil, days in out.items()}


def lessons_of(findings: pl.DataFrame | None) -> dict[str, dict[str, object]] | None:
    """:func:`lesson_findings` by pupil; None (a day-level export) stays None."""
    if findings is None:
        return None
    return {row[s.PUPIL_ID]: row for row in findings.iter_rows(named=True)}


def sheets(
    classified: pl.DataFrame,
    weeks: pl.DataFrame,
    weekdays: pl.DataFrame,
    lessons: pl.DataFrame | None = None,
) -> list[Sheet]:
    """One :class:`Sheet` per pupil at step 2 or higher, in the classification's order.

    ``weeks`` are :func:`weekly_trend`'s rows, ``weekdays`` :func:`weekday_absence`'s and
    ``lessons`` :func:`lesson_findings`' (None: a day-level export).
    """
    by_week, by_day, found = weeks_of(weeks), weekdays_of(weekdays), lessons_of(lessons)
    out = []
    for row in classified.filter(pl.col(s.STEP) >= MEETING_MIN_STEP).iter_rows(named=True):
        pupil = row[s.PUPIL_ID]
        out.append(
            Sheet(
                row,
                by_week.get(pupil, ()),
                by_day.get(pupil, ()),
                None if found is None else found.get(pupil, {}),
            )
        )
    return out


def sheet_pupils(classified: pl.DataFrame) -> pl.LazyFrame:
    """The pupils who get a sheet: ``pupil_id`` and ``window_start`` of those at step 2+."""
    return (
        classified.filter(pl.col(s.STEP) >= MEETING_MIN_STEP)
        .select(s.PUPIL_ID, s.WINDOW_START)
        .lazy()
    )
