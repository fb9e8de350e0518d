"""A naive, obviously-correct classification: plain Python over rows, exact rational arithmetic.

It shares nothing with the fast code but the definitions of SPEC §3: the fast code's answer must
equal this one on every generated input (see test_classify.py).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from fractions import Fraction

ABSENCE = ("illness", "leave", "unlawful")


@dataclass(frozen=True)
class Row:
    pupil_id: str
    school_id: str
    date: date
    category: str
    fraction: Fraction
    grade: int | None = None
    class_name: str | None = None


@dataclass(frozen=True)
class RefPolicy:
    window: int
    thresholds: tuple[Fraction, ...]  # step k applies at thresholds[k-1] % or more
    min_days: int
    categories: tuple[str, ...] = ABSENCE


@dataclass
class Day:
    units: dict[str, Fraction]
    school: str
    grade: int | None
    class_name: str | None


def _quarter_start(day: date) -> date:
    return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def _max_or_none(values: list[object]) -> object:
    present = [v for v in values if v is not None]
    return max(present) if present else None  # type: ignore[type-var]


def pupil_days(rows: list[Row], as_of: date) -> dict[str, dict[date, Day]]:
    grouped: dict[tuple[str, date], list[Row]] = defaultdict(list)
    for row in rows:
        if row.date <= as_of:
            grouped[(row.pupil_id, row.date)].append(row)
    out: dict[str, dict[date, Day]] = defaultdict(dict)
    for (pupil, day), day_rows in grouped.items():
        units = {
            c: sum((r.fraction for r in day_rows if r.category == c), Fraction(0)) for c in ABSENCE
        }
        out[pupil][day] = Day(
            units=units,
            school=max(r.school_id for r in day_rows),
            grade=_max_or_none([r.grade for r in day_rows]),  # type: ignore[arg-type]
            class_name=_max_or_none([r.class_name for r in day_rows]),  # type: ignore[arg-type]
        )
    return out


def classify(
    rows: list[Row], policy: RefPolicy, as_of: date, *, include_left: bool
) -> dict[str, dict[str, object]]:
    days = pupil_days(rows, as_of)
    school_dates: dict[str, set[date]] = defaultdict(set)  # any registration at the school
    for row in rows:
        if row.date <= as_of:
            school_dates[row.school_id].add(row.date)

    result: dict[str, dict[str, object]] = {}
    for pupil, by_date in days.items():
        dates = sorted(by_date)
        latest = by_date[dates[-1]]
        recent = sorted(school_dates[latest.school], reverse=True)[:5]
        if not include_left and dates[-1] < min(recent):
            continue
        window = dates[-policy.window :]
        per_category = {c: sum((by_date[d].units[c] for d in window), Fraction(0)) for c in ABSENCE}
        absent = sum((per_category[c] for c in policy.categories), Fraction(0))
        pct = 100 * absent / len(window)
        sufficient = len(window) >= policy.min_days
        step = 0
        for number, threshold in enumerate(policy.thresholds, start=1):
            if pct >= threshold:
                step = number
        quarter = [d for d in dates if d >= _quarter_start(as_of)]
        q_unlawful = sum((by_date[d].units["unlawful"] for d in quarter), Fraction(0))
        q_pct = 100 * q_unlawful / len(quarter) if quarter else None
        flag = "none"
        if q_pct is not None and q_pct >= 15:
            flag = "notify_municipality"
        elif q_pct is not None and q_pct >= 10:
            flag = "warn_parents"
        result[pupil] = {
            "school_id": latest.school,
            "class_name": latest.class_name,
            "grade": latest.grade,
            "window_start": window[0],
            "window_end": window[-1],
            "window_days": len(window),
            "absent_days": float(absent),
            "illness_days": float(per_category["illness"]),
            "leave_days": float(per_category["leave"]),
            "unlawful_days": float(per_category["unlawful"]),
            "absence_pct": float(pct),
            "step": step if sufficient else None,
            "status": "ok" if sufficient else "insufficient_data",
            "quarter_unlawful_pct": None if q_pct is None else float(q_pct),
            "quarter_flag": flag,
        }
    return result
