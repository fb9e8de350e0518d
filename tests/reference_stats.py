"""A naive, obviously-correct `fravaer stats`: plain Python loops over rows, exact fractions.

It shares nothing with the fast code but the definitions in docs/stats.md. A unit is a pupil at
a school (and in a grade or class, when grouped by them); the group's figures come from its units.
Steps come from the naive policy evaluator in tests/reference.py.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from fractions import Fraction

from tests import reference
from tests.reference import ABSENCE, RefPolicy, Row


@dataclass
class Unit:
    dates: set[date] = field(default_factory=set)
    months: set[tuple[int, int]] = field(default_factory=set)
    absent: dict[str, Fraction] = field(default_factory=lambda: {c: Fraction(0) for c in ABSENCE})
    step: int | None = None


def _key(row: Row, column: str) -> object:
    return {"school_id": row.school_id, "grade": row.grade, "class_name": row.class_name}[column]


def units(
    rows: list[Row], keys: tuple[str, ...], first: date, last: date
) -> dict[tuple[object, ...], Unit]:
    """Units keyed by (pupil, school, the other group columns), over rows from first to last."""
    extra = [k for k in keys if k != "school_id"]
    found: dict[tuple[object, ...], Unit] = defaultdict(Unit)
    for row in rows:
        if not first <= row.date <= last:
            continue
        unit = found[(row.pupil_id, row.school_id, *(_key(row, k) for k in extra))]
        unit.dates.add(row.date)
        unit.months.add((row.date.year, row.date.month))
        if row.category in ABSENCE:
            unit.absent[row.category] += row.fraction
    return found


def pct(unit: Unit, categories: tuple[str, ...] = ABSENCE) -> Fraction:
    return 100 * sum((unit.absent[c] for c in categories), Fraction(0)) / len(unit.dates)


def figures(members: list[Unit], steps: int) -> dict[str, object]:
    """The contract's figures for one group of units (exact: Fractions where a float is output)."""
    weights = sum(len(u.months) for u in members)
    days = sum(len(u.dates) for u in members)
    absent = sum((sum(u.absent.values(), Fraction(0)) for u in members), Fraction(0))

    def weighted(categories: tuple[str, ...]) -> Fraction | None:
        if not weights:
            return None
        return sum((len(u.months) * pct(u, categories) for u in members), Fraction(0)) / weights

    over = sum(1 for u in members if pct(u) > 10)
    out: dict[str, object] = {
        "pupils": len(members),
        "school_days": days,
        "absence_pct": weighted(ABSENCE),
        "absence_pct_pooled": 100 * absent / days if days else None,
        "illness_pct": weighted(("illness",)),
        "leave_pct": weighted(("leave",)),
        "unlawful_pct": weighted(("unlawful",)),
        "pupils_0_5": sum(1 for u in members if pct(u) <= 5),
        "pupils_5_10": sum(1 for u in members if 5 < pct(u) <= 10),
        "pupils_over_10": over,
        "share_over_10": Fraction(100 * over, len(members)) if members else None,
    }
    for step in range(1, steps + 1):
        out[f"pupils_step_{step}"] = sum(1 for u in members if u.step == step)
    return out


def stats(
    rows: list[Row],
    *,
    keys: tuple[str, ...],
    first: date,
    end: date,
    as_of: date,
    policy: RefPolicy,
) -> dict[tuple[object, ...] | None, dict[str, object]]:
    """Figures per group (keyed by the group columns' values) and for the municipality (None)."""
    last = min(end, as_of)
    extra = tuple(k for k in keys if k != "school_id")
    by_unit = units(rows, ("school_id", *extra), first, last)
    by_school = units(rows, ("school_id",), first, last)

    # Each pupil's step at the end of the period, at the school (grade, class) last registered.
    classified = reference.classify(rows, policy, last, include_left=False, national=None)
    for pupil, out in classified.items():
        values = {
            "school_id": out["school_id"],
            "grade": out["grade"],
            "class_name": out["class_name"],
        }
        unit = by_unit.get((pupil, out["school_id"], *(values[k] for k in extra)))
        if unit is not None:
            unit.step = out["step"]  # type: ignore[assignment]
        school_unit = by_school.get((pupil, out["school_id"]))
        if school_unit is not None:
            school_unit.step = out["step"]  # type: ignore[assignment]

    groups: dict[tuple[object, ...], list[Unit]] = defaultdict(list)
    columns = ("school_id", *extra)
    for unit_key, unit in by_unit.items():
        values = dict(zip(columns, unit_key[1:], strict=True))
        groups[tuple(values[k] for k in keys)].append(unit)
    steps = len(policy.steps)
    result: dict[tuple[object, ...] | None, dict[str, object]] = {
        group: figures(members, steps) for group, members in groups.items()
    }
    result[None] = figures(list(by_school.values()), steps)
    return result
