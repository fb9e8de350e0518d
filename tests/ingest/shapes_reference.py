"""Naive, obviously-correct references for the export shapes: plain Python, exact fractions.

They share nothing with :mod:`fravaer.ingest.shapes` but the rules of docs/shapes.md; the fast
code must agree with them on every generated input (see test_shapes.py).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from fractions import Fraction
from math import floor
from typing import Any

from tests.reference import ABSENCE, Row

DAY_UNITS = 18_018_000


@dataclass(frozen=True)
class Lesson:
    pupil_id: str
    school_id: str
    date: date
    lesson: str
    category: str
    share: Fraction  # of the lesson missed
    grade: int | None = None
    class_name: str | None = None


def _max_or_none(values: list[Any]) -> Any:
    present = [v for v in values if v is not None]
    return max(present) if present else None


def lessons_to_days(lessons: list[Lesson]) -> list[Row]:
    """Per pupil-day: each category's share of the day's lessons, in whole units rounded down."""
    by_day: dict[tuple[str, date], dict[str, Lesson]] = defaultdict(dict)
    for lesson in lessons:
        by_day[(lesson.pupil_id, lesson.date)][lesson.lesson] = lesson  # repeats are identical
    out: list[Row] = []
    for (pupil, day), by_lesson in by_day.items():
        held = list(by_lesson.values())
        school = max(x.school_id for x in held)
        at_school = [x for x in held if x.school_id == school]
        grade = _max_or_none([x.grade for x in at_school])
        class_name = _max_or_none([x.class_name for x in at_school])
        rows = []
        for category in ABSENCE:
            missed = sum((x.share for x in held if x.category == category), Fraction(0))
            units = floor(missed / len(held) * DAY_UNITS)
            if units > 0:
                rows.append(
                    Row(pupil, school, day, category, Fraction(units, DAY_UNITS), grade, class_name)
                )
        if not rows:
            rows.append(Row(pupil, school, day, "present", Fraction(0), grade, class_name))
        out += rows
    return out


@dataclass(frozen=True)
class Enrolment:
    pupil_id: str
    school_id: str
    first_day: date | None
    last_day: date | None
    grade: int | None = None
    class_name: str | None = None


class Refused(Exception):
    """The reference's refusal: which check, and the 0-based index of the offending row."""

    def __init__(self, kind: str, index: int) -> None:
        super().__init__(kind, index)
        self.kind = kind
        self.index = index


def expand(
    rows: list[Row],
    calendar: set[tuple[str | None, date]],
    roster: list[Enrolment] | None,
    *,
    roster_has_class: bool = True,
) -> list[Row]:
    """The rows, plus a present row on each enrolled school day that has none."""
    schools = {r.school_id for r in rows} | {e.school_id for e in roster or []}
    days = {
        school: {d for (sch, d) in calendar if sch is None or sch == school} for school in schools
    }
    if roster is None:
        spans: dict[tuple[str, str], list[date]] = defaultdict(list)
        for r in rows:
            spans[(r.pupil_id, r.school_id)].append(r.date)
        enrolments = [Enrolment(p, sch, min(ds), max(ds)) for (p, sch), ds in spans.items()]
    else:
        enrolments = roster
        for i, e in enumerate(roster):
            if e.first_day and e.last_day and e.first_day > e.last_day:
                raise Refused("reversed", i)
        for i, e in enumerate(roster):
            if not days[e.school_id]:
                raise Refused("no_days", i)

    def covers(e: Enrolment, day: date) -> bool:
        return (e.first_day is None or e.first_day <= day) and (
            e.last_day is None or day <= e.last_day
        )

    for i, r in enumerate(rows):
        if r.date not in days[r.school_id]:
            raise Refused("off_calendar", i)
        mine = [e for e in enrolments if (e.pupil_id, e.school_id) == (r.pupil_id, r.school_id)]
        if not any(covers(e, r.date) for e in mine):
            raise Refused("outside", i)

    registered = {(r.pupil_id, r.date) for r in rows}
    out = list(rows)
    pupils = sorted({e.pupil_id for e in enrolments})
    for pupil in pupils:
        mine = [e for e in enrolments if e.pupil_id == pupil]
        for day in sorted({d for e in mine for d in days[e.school_id] if covers(e, d)}):
            if (pupil, day) in registered:
                continue
            covering = [e for e in mine if covers(e, day) and day in days[e.school_id]]
            school = max(e.school_id for e in covering)
            at_school = [e for e in covering if e.school_id == school]
            if roster is not None and roster_has_class:
                grade = _max_or_none([e.grade for e in at_school])
                class_name = _max_or_none([e.class_name for e in at_school])
            else:
                grade = class_name = None
                back, forward = _nearest(rows, pupil, school, day)
                grade = _first_known(back[0], forward[0])
                class_name = _first_known(back[1], forward[1])
            out.append(Row(pupil, school, day, "present", Fraction(0), grade, class_name))
    return out


def _nearest(
    rows: list[Row], pupil: str, school: str, day: date
) -> tuple[tuple[Any, Any], tuple[Any, Any]]:
    """(grade, class) on the latest earlier and on the earliest later date of rows there."""
    there = [r for r in rows if r.pupil_id == pupil and r.school_id == school]
    before = [r.date for r in there if r.date < day]
    after = [r.date for r in there if r.date > day]

    def on(when: date) -> tuple[Any, Any]:
        same = [r for r in there if r.date == when]
        return _max_or_none([r.grade for r in same]), _max_or_none([r.class_name for r in same])

    none: tuple[Any, Any] = (None, None)
    return (on(max(before)) if before else none), (on(min(after)) if after else none)


def _first_known(*values: Any) -> Any:
    return next((v for v in values if v is not None), None)
