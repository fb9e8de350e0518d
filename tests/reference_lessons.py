"""A naive reference for the lesson cells of :mod:`fravaer.lessons`: plain Python over lessons.

Written from the rules in docs/trend.md (lesson patterns), not from the fast code: only days on
which the pupil attended some lesson count; the day's first and last numbered lessons are found
by sorting the day's distinct numbers.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

LAST_LESSONS = 2


@dataclass(frozen=True)
class Taught:
    """One scheduled lesson of a pupil."""

    pupil_id: str
    date: date
    number: int | None
    subject: str | None
    absent: bool


CellKey = tuple[str, str, int | None, int | None, int | None, str | None]
"""pupil, kind, weekday (None: every day), first, last, subject."""


def cells(lessons: list[Taught]) -> dict[CellKey, tuple[int, int, int, int]]:
    """(k, n, K, N) of every cell of every pupil, as :func:`fravaer.lessons.lesson_cells`."""
    by_day: dict[tuple[str, date], list[Taught]] = defaultdict(list)
    for lesson in lessons:
        if lesson.date.isoweekday() <= 5:
            by_day[lesson.pupil_id, lesson.date].append(lesson)
    kept = [
        day
        for day in by_day.values()
        if not all(lesson.absent for lesson in day)  # some attendance that day
    ]
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    members: dict[tuple[str, str, int | None, int | None, str | None], list[Taught]] = defaultdict(
        list
    )
    for day in kept:
        numbers = sorted({x.number for x in day if x.number is not None})
        first = numbers[:1]
        last = numbers[-LAST_LESSONS:]
        for x in day:
            weekday = x.date.isoweekday()
            totals[x.pupil_id][0] += 1
            totals[x.pupil_id][1] += x.absent
            if x.number is not None:
                members[x.pupil_id, "lesson", weekday, x.number, None].append(x)
                if x.number in last:
                    members[x.pupil_id, "leaves_early", weekday, None, None].append(x)
                    members[x.pupil_id, "leaves_early", None, None, None].append(x)
                if x.number in first:
                    members[x.pupil_id, "arrives_late", weekday, None, None].append(x)
                    members[x.pupil_id, "arrives_late", None, None, None].append(x)
            if x.subject is not None:
                members[x.pupil_id, "subject", None, None, x.subject].append(x)
    out: dict[CellKey, tuple[int, int, int, int]] = {}
    for (pupil, kind, weekday, number, subject), xs in members.items():
        numbers = [x.number for x in xs if x.number is not None]
        span = (min(numbers), max(numbers)) if kind != "subject" else (None, None)
        if kind == "lesson":
            span = (number, number)
        n_total, k_total = totals[pupil]
        key = (pupil, kind, weekday, *span, subject)
        out[key] = (sum(x.absent for x in xs), len(xs), k_total, n_total)
    return out
