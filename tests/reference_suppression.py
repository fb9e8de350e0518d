"""A naive attacker on published statistics: plain Python, shares nothing with stats.py.

Given the rows of one output of `fravaer stats` (groups and the municipality row, per period,
hidden rows with empty figures), it knows how the figures add up (docs/stats.md): per period the
municipality is the sum of the schools, a school the sum of its grades or classes, a grade the
sum of its schools, and so on down to the published groups. The totals between the published
groups and the municipality (a school in ``--by school,class``) are not in the output: they are
unknowns like the hidden rows. Given the periods' counted days, it also knows that a group's
school days and absent days in periods that hold each weekday of another period once add up
to that period's (school is not held at weekends). It solves every relation with exactly one
unknown, again and again until nothing changes, and returns what it recovered of the hidden
rows.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from itertools import combinations

Node = tuple[str, tuple[str, ...], tuple[object, ...]]  # period, level (columns), values
Relation = tuple[Node, list[Node], tuple[str, ...]]  # total, parts, figures that add up

# Figures that add up over groups; "absent_days" is pooled % x school days / 100.
OVER_GROUPS = (
    "pupils",
    "school_days",
    "pupils_0_5",
    "pupils_5_10",
    "pupils_over_10",
    "absent_days",
)
OVER_PERIODS = ("school_days", "absent_days")


def _hidden(row: Mapping[str, object]) -> bool:
    return row["suppressed"] in (True, "true")


def _figures(row: Mapping[str, object]) -> dict[str, float]:
    values = {c: float(str(row[c])) for c in OVER_GROUPS if c in row}
    if row.get("absence_pct_pooled") not in (None, ""):
        pooled = float(str(row["absence_pct_pooled"]))
        values["absent_days"] = pooled * float(str(row["school_days"])) / 100
    return values


def _publishable(level: Sequence[str]) -> bool:
    return "class_name" not in level or "school_id" in level


def node_of(row: Mapping[str, object], keys: Sequence[str]) -> Node:
    values = tuple(row[k] for k in keys)
    if all(v in (None, "") for v in values):
        return (str(row["period"]), (), ())
    return (str(row["period"]), tuple(keys), values)


def group_relations(rows: Sequence[Mapping[str, object]], keys: Sequence[str]) -> list[Relation]:
    """Every ``total = sum of children`` within a period, at every level."""
    keys = tuple(keys)
    levels = [lv for n in range(len(keys)) for lv in combinations(keys, n) if _publishable(lv)]
    children: dict[Node, set[Node]] = defaultdict(set)
    for row in rows:
        node = node_of(row, keys)
        if node[1] == ():
            continue  # the municipality row
        for level in levels:
            for column in keys:
                finer = tuple(k for k in keys if k in level or k == column)
                if column in level or not _publishable(finer):
                    continue
                parent = (node[0], level, tuple(row[k] for k in level))
                children[parent].add((node[0], finer, tuple(row[k] for k in finer)))
    return [(total, sorted(kids, key=repr), OVER_GROUPS) for total, kids in children.items()]


def weekdays(span: tuple[date, date]) -> set[date]:
    """The Monday-to-Friday dates of a period: the only days school can be held."""
    first, last = span
    days = (first + timedelta(days=i) for i in range((last - first).days + 1))
    return {d for d in days if d.weekday() < 5}


def period_relations(
    rows: Sequence[Mapping[str, object]],
    keys: Sequence[str],
    spans: Mapping[str, tuple[date, date]],
) -> list[Relation]:
    """A group's days in periods that hold another's weekdays once each add up to it."""
    found: list[Relation] = []
    labels = list(spans)
    nodes = {node_of(row, keys) for row in rows}
    for whole in labels:
        others = [p for p in labels if p != whole]
        for n in range(1, len(others) + 1):
            for parts in combinations(others, n):
                sets = [weekdays(spans[p]) for p in parts]
                once = sum(len(days) for days in sets) == len(set().union(*sets))
                if not (once and set().union(*sets) == weekdays(spans[whole])):
                    continue
                for node in nodes:
                    if node[0] == whole:
                        kids = [(p, node[1], node[2]) for p in parts]
                        # A group without a row in a part has no days there: a known 0.
                        found.append((node, [k for k in kids if k in nodes], OVER_PERIODS))
    return found


def attack(
    rows: Sequence[Mapping[str, object]],
    keys: Sequence[str],
    *,
    spans: Mapping[str, tuple[date, date]] | None = None,
) -> dict[int, dict[str, float]]:
    """The hidden rows (by index in ``rows``) whose figures the attacker works out, and those."""
    return {i: got for (_, i), got in attack_all([(rows, keys)], spans=spans).items()}


def attack_all(
    outputs: Sequence[tuple[Sequence[Mapping[str, object]], Sequence[str]]],
    *,
    spans: Mapping[str, tuple[date, date]] | None = None,
) -> dict[tuple[int, int], dict[str, float]]:
    """:func:`attack` on several outputs of the same data at once, the finest grouping first.

    Returns the hidden rows worked out, by (output, row) index.
    """
    rows, keys = outputs[0]
    found = group_relations(rows, keys)
    if spans is not None:
        for more, level in outputs:
            found += period_relations(more, level, spans)
    known: dict[tuple[Node, str], float] = {}
    for more, level in outputs:
        for row in more:
            if not _hidden(row):
                for figure, value in _figures(row).items():
                    known[(node_of(row, level), figure)] = value
    figures = {f for (_, f) in known}
    changed = True
    while changed:
        changed = False
        for total, kids, over in found:
            for f in figures.intersection(over):
                unknown = [n for n in (total, *kids) if (n, f) not in known]
                if len(unknown) != 1:
                    continue
                if unknown[0] == total:
                    known[(total, f)] = sum(known[(k, f)] for k in kids)
                else:
                    rest = sum(known[(k, f)] for k in kids if k != unknown[0])
                    known[(unknown[0], f)] = known[(total, f)] - rest
                changed = True
    recovered: dict[tuple[int, int], dict[str, float]] = {}
    for o, (more, level) in enumerate(outputs):
        for i, row in enumerate(more):
            node = node_of(row, level)
            got = {f: known[(node, f)] for f in sorted(figures) if (node, f) in known}
            if _hidden(row) and got:
                recovered[(o, i)] = got
    return recovered
