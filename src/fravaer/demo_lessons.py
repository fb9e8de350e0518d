"""A synthetic lesson-level export with a timetable and planted patterns (``demo-data --lessons``).

Classes of 25 pupils at one school follow one timetable (:data:`TIMETABLE`: Danish, maths,
English..., PE on Wednesday's last two lessons and Friday's first two). Every pupil misses 2 %
of single lessons and 5 % of whole days, at random; a pupil may also carry one planted pattern
(:data:`PLANTS`), on 60 % of the days it can happen:

- ``leaves-early``: absent from Thursday's last two lessons;
- ``subject``: absent from the day's PE lessons (Idræt);
- ``arrives-late``: absent from Monday's first lesson.

With kinds ``(k0, k1, ...)`` planted, pupil ``i`` (counted from 0) carries ``k_j`` when
``i % 10 == j``: a tenth of the pupils per kind. The data serves tests, docs and the detection
measurements of docs/trend.md. The same arguments give the same rows on every machine.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Final

import numpy as np
import polars as pl

from fravaer import schema as s
from fravaer.calendar import school_year_days
from fravaer.errors import UsageError
from fravaer.lessons import LESSON, SUBJECT

TIMETABLE: Final = {
    1: ("Dansk", "Dansk", "Matematik", "Engelsk", "Historie", "Musik"),
    2: ("Matematik", "Dansk", "Natur/teknologi", "Natur/teknologi", "Billedkunst"),
    3: ("Dansk", "Matematik", "Engelsk", "Dansk", "Idræt", "Idræt"),
    4: ("Engelsk", "Matematik", "Dansk", "Kristendom", "Dansk", "Matematik"),
    5: ("Idræt", "Idræt", "Dansk", "Klassens tid"),
}
"""ISO weekday -> the subjects of lessons 1, 2, ..."""

PE: Final = "Idræt"
LEAVES_EARLY: Final = "leaves-early"
SUBJECT_PLANT: Final = "subject"
ARRIVES_LATE: Final = "arrives-late"
PLANTS: Final = (LEAVES_EARLY, SUBJECT_PLANT, ARRIVES_LATE)
"""The patterns that can be planted, in the order the measurements use."""
LEAVES_EARLY_WEEKDAY: Final = 4  # Thursday
ARRIVES_LATE_WEEKDAY: Final = 1  # Monday

PLANTED_SHARE: Final = 0.6
"""A planted pattern happens on 60 % of the days it can."""
LESSON_BASE: Final = 0.02
"""Every pupil misses 2 % of single lessons at random."""
DAY_BASE: Final = 0.05
"""...and 5 % of whole days."""
CLASS_SIZE: Final = 25
SCHOOL: Final = "851001"

DEMO_LESSON_SCHEMA: Final = pl.Schema(
    {
        s.PUPIL_ID: pl.String(),
        s.SCHOOL_ID: pl.String(),
        s.DATE: pl.Date(),
        LESSON: pl.String(),
        SUBJECT: pl.String(),
        s.CATEGORY: s.CATEGORY_DTYPE,
        s.ABSENT_FRACTION: pl.Float64(),
        s.GRADE: pl.Int8(),
        s.CLASS_NAME: pl.String(),
    }
)
"""The columns of the lesson-level demo export."""


@dataclass(frozen=True)
class LessonDemoSpec:
    """What to generate: pupils in classes of 25, a school year, and the planted kinds."""

    pupils: int
    first_year: int
    seed: int = 1
    until: date | None = None
    planted: tuple[str, ...] = ()
    share: float = PLANTED_SHARE
    """On which share of the days a planted pattern happens."""
    schools: int = 1
    """The classes are shared out over this many schools in consecutive blocks (school ids
    from :data:`SCHOOL` up): a municipality's export."""


def planted_kind(pupil: int, planted: tuple[str, ...]) -> str | None:
    """The pattern pupil number ``pupil`` (from 0) carries, if any.

    >>> [planted_kind(i, ("subject", "arrives-late")) for i in (0, 1, 2, 10)]
    ['subject', 'arrives-late', None, 'subject']
    """
    j = pupil % 10
    return planted[j] if j < len(planted) else None


def pupil_ids(n: int) -> list[str]:
    """Seven-digit ids with leading zeros, from ``0000001``."""
    return [f"{i + 1:07d}" for i in range(n)]


def generate_lessons(spec: LessonDemoSpec) -> Iterator[pl.DataFrame]:
    """Yield the lesson rows, one school week at a time (:data:`DEMO_LESSON_SCHEMA`).

    >>> frame = pl.concat(generate_lessons(LessonDemoSpec(pupils=25, first_year=2023)))
    >>> frame.columns == list(DEMO_LESSON_SCHEMA)
    True
    >>> frame["date"].n_unique(), frame["pupil_id"].n_unique(), frame.height
    (197, 25, 26575)
    """
    unknown = [kind for kind in spec.planted if kind not in PLANTS]
    if unknown:
        raise UsageError(f"unknown planted pattern '{unknown[0]}'", hint=f"use {', '.join(PLANTS)}")
    days = school_year_days(spec.first_year)
    if spec.until is not None:
        days = [d for d in days if d <= spec.until]
    if not days:
        raise UsageError("--until is before the first school day of the year")
    rng = np.random.default_rng([spec.seed, 19])
    n = spec.pupils
    ids = np.array(pupil_ids(n))
    klass = np.arange(n) // CLASS_SIZE
    grades = (klass % 10).astype(np.int8)
    classes = np.array(
        [f"{g}.{chr(ord('A') + k // 10 % 26)}" for g, k in zip(grades, klass, strict=True)]
    )
    per_school = -(-(int(klass[-1]) + 1) // spec.schools)  # classes per school, rounded up
    schools = np.array([str(int(SCHOOL) + k // per_school) for k in klass])
    kinds = np.array([planted_kind(i, spec.planted) or "" for i in range(n)])
    week: list[pl.DataFrame] = []
    for i, day in enumerate(days):
        week.append(_day(day, ids, schools, grades, classes, kinds, rng, share=spec.share))
        if i + 1 == len(days) or days[i + 1].isocalendar()[:2] != day.isocalendar()[:2]:
            yield pl.concat(week)
            week = []


def _day(
    day: date,
    ids: np.ndarray,
    schools: np.ndarray,
    grades: np.ndarray,
    classes: np.ndarray,
    kinds: np.ndarray,
    rng: np.random.Generator,
    *,
    share: float,
) -> pl.DataFrame:
    """One school day of every pupil: a row per lesson of the day's timetable."""
    weekday = day.isoweekday()
    subjects = TIMETABLE[weekday]
    n, lessons = len(ids), len(subjects)
    whole = rng.random(n) < DAY_BASE
    single = rng.random((n, lessons)) < LESSON_BASE
    planted_today = rng.random(n) < share
    numbers = np.arange(1, lessons + 1)
    planted = np.zeros((n, lessons), dtype=bool)
    if weekday == LEAVES_EARLY_WEEKDAY:
        planted |= ((kinds == LEAVES_EARLY) & planted_today)[:, None] & (numbers > lessons - 2)
    if weekday == ARRIVES_LATE_WEEKDAY:
        planted |= ((kinds == ARRIVES_LATE) & planted_today)[:, None] & (numbers == 1)
    is_pe = np.array([subject == PE for subject in subjects])
    planted |= ((kinds == SUBJECT_PLANT) & planted_today)[:, None] & is_pe
    missed = single | planted
    category = np.where(whole[:, None], "illness", np.where(missed, "unlawful", "present")).ravel()
    return pl.DataFrame(
        {
            s.PUPIL_ID: np.repeat(ids, lessons),
            s.SCHOOL_ID: np.repeat(schools, lessons),
            s.DATE: day,
            LESSON: np.tile(numbers.astype(str), n),
            SUBJECT: np.tile(np.array(subjects), n),
            s.CATEGORY: category,
            s.ABSENT_FRACTION: (category != "present").astype(np.float64),
            s.GRADE: np.repeat(grades, lessons),
            s.CLASS_NAME: np.repeat(classes, lessons),
        },
        schema=DEMO_LESSON_SCHEMA,
    )
