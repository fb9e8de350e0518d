"""A naive attacker on published statistics: plain Python, shares nothing with stats.py.

Given the rows of one output of `fravaer stats` (groups and the municipality row, per period,
hidden rows with empty figures), it knows how the figures add up (docs/stats.md): per period the
municipality is the sum of the schools, a school the sum of its grades or classes, a grade the
sum of its schools, and so on down to the published groups. The totals between the published
groups and the municipality (a school in ``--by school,class``) are not in the output: they are
unknowns like the hidden rows. The attacker solves every relation with exactly one unknown,
again and again until nothing changes, and returns what it recovered of the hidden rows.

With ``known_totals`` it also knows those in-between totals, as a reader of a second run with
another ``--by`` might: a stronger attacker, used to show that a complement is needed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from itertools import combinations

Node = tuple[str, tuple[str, ...], tuple[object, ...]]  # period, level (columns), values
Figures = tuple[float, ...]

# Figures that add up over groups: counts, and absent days (pooled % x school days / 100).
COUNTS = ("pupils", "school_days", "pupils_0_5", "pupils_5_10", "pupils_over_10")


def _figures(row: Mapping[str, object]) -> Figures | None:
    if row["suppressed"] in (True, "true"):
        return None
    values: list[float] = [float(str(row[c])) for c in COUNTS if c in row]
    if "absence_pct_pooled" in row and row["absence_pct_pooled"] not in (None, ""):
        values.append(float(str(row["absence_pct_pooled"])) * float(str(row["school_days"])) / 100)
    return tuple(values)


def _publishable(level: Sequence[str]) -> bool:
    return "class_name" not in level or "school_id" in level


def relations(
    rows: Sequence[Mapping[str, object]], keys: Sequence[str]
) -> list[tuple[Node, list[Node]]]:
    """Every ``total = sum of children`` the attacker knows, per period and level."""
    keys = tuple(keys)
    levels = [
        level for n in range(len(keys)) for level in combinations(keys, n) if _publishable(level)
    ]
    children: dict[Node, set[Node]] = defaultdict(set)
    for row in rows:
        values = tuple(row[k] for k in keys)
        if all(v in (None, "") for v in values):
            continue  # the municipality row
        period = str(row["period"])
        for level in levels:
            for column in keys:
                finer = tuple(k for k in keys if k in level or k == column)
                if column in level or not _publishable(finer):
                    continue
                parent = (period, level, tuple(row[k] for k in level))
                children[parent].add((period, finer, tuple(row[k] for k in finer)))
    return [(parent, sorted(kids, key=repr)) for parent, kids in children.items()]


def node_of(row: Mapping[str, object], keys: Sequence[str]) -> Node:
    values = tuple(row[k] for k in keys)
    if all(v in (None, "") for v in values):
        return (str(row["period"]), (), ())
    return (str(row["period"]), tuple(keys), values)


def attack(
    rows: Sequence[Mapping[str, object]],
    keys: Sequence[str],
    *,
    known_totals: Mapping[Node, Figures] | None = None,
) -> dict[int, Figures]:
    """The hidden rows (by index in ``rows``) whose figures the attacker works out, and those."""
    known: dict[Node, Figures] = dict(known_totals or {})
    for row in rows:
        figures = _figures(row)
        if figures is not None:
            known[node_of(row, keys)] = figures
    found = relations(rows, keys)
    changed = True
    while changed:
        changed = False
        for total, kids in found:
            unknown = [n for n in (total, *kids) if n not in known]
            if len(unknown) != 1:
                continue
            (target,) = unknown
            width = len(next(iter(known.values())))
            if target == total:
                known[target] = tuple(sum(known[k][j] for k in kids) for j in range(width))
            else:
                known[target] = tuple(
                    known[total][j] - sum(known[k][j] for k in kids if k != target)
                    for j in range(width)
                )
            changed = True
    return {
        i: known[node_of(row, keys)]
        for i, row in enumerate(rows)
        if _figures(row) is None and node_of(row, keys) in known
    }
