"""Naive, obviously-correct references for trend.py: plain Python loops, exact rationals.

They share nothing with the fast code but the definitions in docs/trend.md, and build on the
naive policy evaluator of tests/reference.py.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from fractions import Fraction
from typing import Any

from fravaer.calendar import public_holidays
from tests import reference
from tests.reference import ABSENCE, RefPolicy, Row


def weekly_series(
    rows: list[Row], policy: RefPolicy, as_of: date, weeks: int
) -> dict[str, list[dict[str, Any]]]:
    """Per pupil, oldest first: one point per school week (ISO week with a school day)."""
    days = reference.pupil_days(rows, as_of)
    out: dict[str, list[dict[str, Any]]] = {}
    counted = policy.rules[policy.primary].categories
    for pupil, by_date in days.items():
        by_week: dict[tuple[int, int], list[date]] = defaultdict(list)
        for day in by_date:
            by_week[day.isocalendar()[:2]].append(day)
        chosen = sorted(by_week)[-weeks:]
        points = []
        for number, week in enumerate(chosen):
            week_end = max(by_week[week])
            point = as_of if number == len(chosen) - 1 else week_end
            upto = {d: v for d, v in by_date.items() if d <= point}
            result = reference.evaluate(policy, upto, point)
            window = result["windows"][policy.primary]
            absent = sum((upto[d].units[c] for d in window for c in counted), Fraction(0))
            week_units = {
                c: sum((by_date[d].units[c] for d in by_week[week]), Fraction(0)) for c in ABSENCE
            }
            points.append(
                {
                    "week_end": week_end,
                    "window_days": len(window),
                    "absent_days": float(absent),
                    "absence_pct": float(100 * absent / len(window)) if window else None,
                    "step": result["step"],
                    "school_days_week": len(by_week[week]),
                    "absent_days_week": float(sum(week_units.values(), Fraction(0))),
                    **{f"{c}_days_week": float(week_units[c]) for c in ABSENCE},
                    "_pct": (100 * absent / len(window)) if window else None,
                }
            )
        out[pupil] = points
    return out


def direction(points: list[dict[str, Any]], weeks_back: int) -> str | None:
    """Rising / falling when the exact % moved by at least 1 point; None with one point."""
    if len(points) < 2:
        return None
    before = points[-1 - min(weeks_back, len(points) - 1)]["_pct"]
    now = points[-1]["_pct"]
    if before is None or now is None:
        return None
    if now - before >= 1:
        return "rising"
    if before - now >= 1:
        return "falling"
    return "flat"


def projection(
    rows: list[Row],
    *,
    as_of: date,
    window: int,
    threshold: Fraction,
    min_days: int,
    horizon: int,
    recent: int = 20,
    categories: tuple[str, ...] = ABSENCE,
) -> dict[str, int | None]:
    """Per pupil: the first future school day (1-based) the window % reaches ``threshold``.

    Day by day: the pupil's days so far, then one day after another at the recent rate (the
    average absence of the latest ``recent`` days); the window is the latest ``window`` days.
    """
    out: dict[str, int | None] = {}
    for pupil, by_date in reference.pupil_days(rows, as_of).items():
        units = [
            sum((by_date[d].units[c] for c in categories), Fraction(0)) for d in sorted(by_date)
        ]
        latest = units[-recent:]
        rate = sum(latest, Fraction(0)) / len(latest)
        days = list(units)
        out[pupil] = None
        for j in range(1, horizon + 1):
            days.append(rate)
            in_window = days[-window:]
            if len(in_window) >= min_days and 100 * sum(in_window, Fraction(0)) >= threshold * len(
                in_window
            ):
                out[pupil] = j
                break
    return out


def future_days(
    school_dates: list[date], *, as_of: date, horizon: int, recent: int = 20
) -> list[date]:
    """The next ``horizon`` days after ``as_of`` on the school's recent weekdays, not holidays."""
    latest = sorted({d for d in school_dates if d <= as_of})[-recent:]
    weekdays = {d.isoweekday() for d in latest}
    closed = public_holidays(as_of.year, as_of.year + 2)
    found: list[date] = []
    day = as_of
    while len(found) < horizon and day < as_of + timedelta(days=7 * horizon + 14):
        day += timedelta(days=1)
        if day.isoweekday() in weekdays and day not in closed:
            found.append(day)
    return found
