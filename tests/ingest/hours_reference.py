"""A naive reference for exports in hours: plain Python over the lines, exact fractions.

Written from docs/shapes.md#exports-in-hours alone, without looking at how
:mod:`fravaer.ingest.hours` computes it: per pupil and day, each category's absent hours over
the day's scheduled hours, rounded down to whole day units; a day without scheduled hours is
no school day; a day without absence is one present row.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from fractions import Fraction
from typing import Any

from fravaer import schema as s


@dataclass(frozen=True)
class HoursLine:
    """One line of an hours extract: per code (``codes`` form) or per day (``totals``)."""

    pupil_id: str
    school_id: str
    date: date
    scheduled: Fraction
    code: str = ""
    category: str = s.PRESENT
    absent: Fraction = Fraction(0)
    unlawful: Fraction = Fraction(0)
    total: Fraction = Fraction(0)
    grade: int | None = None
    class_name: str | None = None


DayRow = tuple[str, str, date, str, int, int | None, str | None]
"""pupil, school, date, category, absence in day units, grade, class."""


def _largest(values: list[Any]) -> Any:
    present = [v for v in values if v is not None]
    return max(present) if present else None


def reference_days(
    lines: list[HoursLine], *, totals: bool = False, valid_absence: str = s.LEAVE
) -> list[DayRow]:
    """The canonical rows of ``lines``, sorted, with the fraction in exact day units."""
    days: dict[tuple[str, date], list[HoursLine]] = {}
    for line in lines:
        days.setdefault((line.pupil_id, line.date), []).append(line)
    out: list[DayRow] = []
    for (pupil, day), of_day in days.items():
        scheduled = of_day[0].scheduled
        if scheduled == 0:
            continue
        school = max(line.school_id for line in of_day)
        at_school = [line for line in of_day if line.school_id == school]
        grade = _largest([line.grade for line in at_school])
        class_name = _largest([line.class_name for line in at_school])
        absent: dict[str, Fraction] = {}
        for line in of_day:
            if totals:
                absent[s.UNLAWFUL] = absent.get(s.UNLAWFUL, Fraction(0)) + line.unlawful
                rest = line.total - line.unlawful
                absent[valid_absence] = absent.get(valid_absence, Fraction(0)) + rest
            elif line.category != s.PRESENT:
                absent[line.category] = absent.get(line.category, Fraction(0)) + line.absent
        rows: list[DayRow] = []
        for category, hours in absent.items():
            units = math.floor(hours * s.DAY_UNITS / scheduled)
            if units > 0:
                rows.append((pupil, school, day, category, units, grade, class_name))
        if not rows:
            rows.append((pupil, school, day, s.PRESENT, 0, grade, class_name))
        out.extend(rows)
    return sorted(out, key=_sort_key)


def _sort_key(row: DayRow) -> tuple[str, str, date, str]:
    return (row[0], row[1], row[2], row[3])
