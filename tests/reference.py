"""A naive, obviously-correct policy evaluator: plain Python per pupil, exact rational arithmetic.

It shares nothing with the fast code but the definitions of docs/data-format.md and
docs/policies.md: the fast code's answer must equal this one on every generated input (see
test_classify.py).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from fractions import Fraction
from typing import Any

import polars as pl

from fravaer.schema import CANONICAL_SCHEMA

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


def to_frame(rows: Sequence[Row]) -> pl.LazyFrame:
    """The canonical frame of reference rows (what the fast code is given)."""
    return pl.LazyFrame(
        {
            "pupil_id": [r.pupil_id for r in rows],
            "school_id": [r.school_id for r in rows],
            "date": [r.date for r in rows],
            "category": [r.category for r in rows],
            "absent_fraction": [float(r.fraction) for r in rows],
            "grade": [r.grade for r in rows],
            "class_name": [r.class_name for r in rows],
        },
        schema=CANONICAL_SCHEMA,
    )


@dataclass(frozen=True)
class RefRule:
    measure: str  # percent | days | consecutive_days
    window: tuple[str, Any]  # ("school_days", n) | ("weeks", n) | ("period", "quarter"/...)
    categories: tuple[str, ...] = ABSENCE
    min_fraction: Fraction = Fraction(1)


# A condition: ("rule", name, threshold) | ("all", [conditions]) | ("any", [conditions])
Cond = tuple[Any, ...]


@dataclass(frozen=True)
class RefPolicy:
    rules: dict[str, RefRule]
    steps: tuple[Cond, ...]  # step k holds under steps[k-1]
    min_days: int
    primary: str
    labels: tuple[str, ...] = field(default=())


def aalborg_like(window: int, thresholds: tuple[Fraction, ...], min_days: int) -> RefPolicy:
    rule = RefRule("percent", ("school_days", window))
    return RefPolicy({"m": rule}, tuple(("rule", "m", t) for t in thresholds), min_days, "m")


NATIONAL = RefPolicy(
    {"q": RefRule("percent", ("period", "quarter"), ("unlawful",))},
    (("rule", "q", Fraction(10)), ("rule", "q", Fraction(15))),
    1,
    "q",
    ("warn_parents", "notify_municipality"),
)


@dataclass
class Day:
    units: dict[str, Fraction]
    school: str
    grade: int | None
    class_name: str | None


def _max_or_none(values: list[Any]) -> Any:
    present = [v for v in values if v is not None]
    return max(present) if present else None


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
        school = max(r.school_id for r in day_rows)
        at_school = [r for r in day_rows if r.school_id == school]
        out[pupil][day] = Day(
            units=units,
            school=school,
            grade=_max_or_none([r.grade for r in at_school]),
            class_name=_max_or_none([r.class_name for r in at_school]),
        )
    return out


def window_dates(window: tuple[str, Any], dates: list[date], as_of: date) -> list[date]:
    kind, size = window
    if kind == "school_days":
        return dates[-size:]
    if kind == "weeks":
        return [d for d in dates if d > as_of - timedelta(days=7 * size)]
    if size == "quarter":
        first = date(as_of.year, 3 * ((as_of.month - 1) // 3) + 1, 1)
    else:  # school year from 1 August
        first = date(as_of.year if as_of.month >= 8 else as_of.year - 1, 8, 1)
    return [d for d in dates if d >= first]


def measure(rule: RefRule, by_date: dict[date, Day], as_of: date) -> tuple[Any, list[date]]:
    """The rule's value (Fraction %, Fraction days or int run; None for % of no days)."""
    window = window_dates(rule.window, sorted(by_date), as_of)
    absent = [sum((by_date[d].units[c] for c in rule.categories), Fraction(0)) for d in window]
    if rule.measure == "percent":
        return (100 * sum(absent, Fraction(0)) / len(window) if window else None), window
    if rule.measure == "days":
        return sum(absent, Fraction(0)), window
    longest = run = 0
    for value in absent:
        run = run + 1 if value >= rule.min_fraction else 0
        longest = max(longest, run)
    return longest, window


def holds(condition: Cond, values: dict[str, Any]) -> bool:
    kind = condition[0]
    if kind == "rule":
        value = values[condition[1]]
        return value is not None and value >= condition[2]
    parts = [holds(c, values) for c in condition[1]]
    return all(parts) if kind == "all" else any(parts)


def evaluate(policy: RefPolicy, by_date: dict[date, Day], as_of: date) -> dict[str, Any]:
    values, windows = {}, {}
    for name, rule in policy.rules.items():
        values[name], windows[name] = measure(rule, by_date, as_of)
    step = 0
    for number, condition in enumerate(policy.steps, start=1):
        if holds(condition, values):
            step = number
    sufficient = len(windows[policy.primary]) >= policy.min_days
    return {"values": values, "windows": windows, "step": step if sufficient else None}


def as_float(value: Any) -> Any:
    return float(value) if isinstance(value, Fraction) else value


def classify(
    rows: list[Row],
    policy: RefPolicy,
    as_of: date,
    *,
    include_left: bool,
    national: RefPolicy | None = NATIONAL,
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
        municipal = evaluate(policy, by_date, as_of)
        window = municipal["windows"][policy.primary]
        counted = policy.rules[policy.primary].categories
        per_category = {c: sum((by_date[d].units[c] for d in window), Fraction(0)) for c in ABSENCE}
        absent = sum((per_category[c] for c in counted), Fraction(0))
        out: dict[str, object] = {
            "school_id": latest.school,
            "class_name": latest.class_name,
            "grade": latest.grade,
            "window_start": window[0] if window else None,
            "window_end": window[-1] if window else None,
            "window_days": len(window),
            "absent_days": float(absent),
            "illness_days": float(per_category["illness"]),
            "leave_days": float(per_category["leave"]),
            "unlawful_days": float(per_category["unlawful"]),
            "absence_pct": float(100 * absent / len(window)) if window else None,
            "step": municipal["step"],
            "status": "ok" if municipal["step"] is not None else "insufficient_data",
        }
        if national is not None:
            quarter = evaluate(national, by_date, as_of)
            step = quarter["step"] or 0
            out["quarter_unlawful_pct"] = as_float(quarter["values"][national.primary])
            out["quarter_flag"] = national.labels[step - 1] if step else "none"
        for name, value in municipal["values"].items():
            out[f"rule_{name}"] = as_float(value)
        result[pupil] = out
    return result
