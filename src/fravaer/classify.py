"""Guideline steps per pupil: the policy engine (docs/policies.md, docs/classify.md).

:func:`evaluate` measures every rule of one or more policies for every pupil in a few simple
aggregations over the rows (plus one over pupil-days when a rule counts consecutive days).
:func:`classify` turns that into one row per pupil with the columns of the ``fravaer classify``
contract (:data:`fravaer.schema.CLASSIFY_COLUMNS`), followed by one ``rule_<name>`` column per
rule of the municipal policy; :func:`explain` into one row per threshold for one pupil. All of it
is lazy: nothing is read or computed until the caller collects.

Thresholds are compared in integer arithmetic: ``pct >= t`` is evaluated as
``units * 100 * q >= p * days * DAY_UNITS`` where ``t = p / q`` exactly, so that 10 absent days of
100 is step 1 and 9.99 days is not, whatever the order of summation.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from fractions import Fraction
from functools import reduce
from operator import and_, or_
from typing import Final

import polars as pl

from fravaer import schema as s
from fravaer.errors import ImpossibleAbsenceError
from fravaer.policy import AllOf, Condition, Policy, Rule, Threshold, Window, thresholds
from fravaer.window import (
    RANK,
    days_expr,
    in_window_expr,
    longest_run_expr,
    rank_expr,
    units_of_expr,
    window_key,
    with_units,
)

LEFT_AFTER_SCHOOL_DAYS = 5
"""A pupil with no registration in the last 5 school days of their school has left."""

ROWS_PER_PART = 50_000_000
"""Rows that one evaluation holds at once on an ordinary machine (docs/performance.md)."""


def parts_for(frame: pl.LazyFrame) -> int:
    """How many buckets of pupils :func:`classify` should evaluate one after another for
    ``frame`` (1 up to :data:`ROWS_PER_PART` rows). Counts the rows: one cheap collect, for the
    edges that run a classification."""
    rows: int = frame.select(pl.len()).collect(engine="streaming").item()
    return max(1, -(-rows // ROWS_PER_PART))


RULE_PREFIX = "rule_"
"""Machine outputs carry each municipal rule's measured value as ``rule_<name>``."""

MUNICIPAL = "m"
NATIONAL = "n"
_LATEST = "_latest"
_SCHOOL_RECENT = "_school_recent"


@dataclass(frozen=True)
class InternalColumns:
    """Names of the internal per-pupil columns of one rule of one policy."""

    key: str

    @property
    def value(self) -> str:  # absence units, or the longest run in days
        return f"_{self.key}_value"

    @property
    def days(self) -> str:  # school days in the window
        return f"_{self.key}_days"

    @property
    def start(self) -> str:
        return f"_{self.key}_start"

    @property
    def end(self) -> str:
        return f"_{self.key}_end"


def internal_columns(policy_key: str, rule: str) -> InternalColumns:
    """The internal columns of ``rule`` under ``policy_key`` (read by :mod:`fravaer.trend`)."""
    return InternalColumns(f"{policy_key}_{rule}")


def step_column(policy_key: str) -> str:
    """The internal column of the step reached under ``policy_key``."""
    return f"_{policy_key}_step"


# -- exact comparisons --------------------------------------------------------------------------


def at_least_pct_expr(units: pl.Expr, days: pl.Expr, threshold: Decimal) -> pl.Expr:
    """Exactly ``100 * units / (days * DAY_UNITS) >= threshold``; false when ``days`` is 0."""
    ratio = Fraction(threshold)
    return (days > 0) & (
        units * (100 * ratio.denominator) >= days * (ratio.numerator * s.DAY_UNITS)
    )


def at_least_expr(rule: Rule, columns: InternalColumns, threshold: Decimal) -> pl.Expr:
    """Exactly ``value(rule) >= threshold``, for every kind of measure."""
    value, days = pl.col(columns.value), pl.col(columns.days)
    ratio = Fraction(threshold)
    if rule.measure == "percent":
        return at_least_pct_expr(value, days, threshold)
    if rule.measure == "days":
        return value * ratio.denominator >= ratio.numerator * s.DAY_UNITS
    return value * ratio.denominator >= ratio.numerator  # consecutive_days: a whole number


def value_expr(rule: Rule, columns: InternalColumns) -> pl.Expr:
    """The rule's measured value as users read it: %, days, or days in a row."""
    value, days = pl.col(columns.value), pl.col(columns.days)
    if rule.measure == "percent":
        return pct_expr(value, days)
    if rule.measure == "days":
        return days_expr(value)
    return value.cast(pl.Int64)


def pct_expr(units: pl.Expr, days: pl.Expr) -> pl.Expr:
    """``100 * units / (days * DAY_UNITS)`` as a float (null when ``days`` is 0).

    ``100.0 * units`` is exact and the divisor is a column, so the result is correctly rounded.
    """
    return pl.when(days > 0).then(100.0 * units / (days * s.DAY_UNITS))


def condition_expr(condition: Condition, policy: Policy, policy_key: str) -> pl.Expr:
    """A policy condition tree as a boolean expression over the per-pupil rule columns."""
    if isinstance(condition, Threshold):
        rule = policy.rules[condition.rule]
        return at_least_expr(rule, internal_columns(policy_key, condition.rule), condition.at_least)
    if isinstance(condition, AllOf):
        return reduce(and_, (condition_expr(c, policy, policy_key) for c in condition.all))
    return reduce(or_, (condition_expr(c, policy, policy_key) for c in condition.any))


def step_expr(policy: Policy, policy_key: str) -> pl.Expr:
    """The highest step whose condition holds (0 when none does); null with too few days."""
    chain: pl.Expr = pl.lit(0, dtype=pl.Int8)
    for step in policy.steps:
        held = condition_expr(step.when, policy, policy_key)
        chain = pl.when(held).then(pl.lit(step.step, dtype=pl.Int8)).otherwise(chain)
    primary_days = pl.col(internal_columns(policy_key, policy.primary_rule).days)
    return pl.when(primary_days >= policy.min_school_days).then(chain)


def label_expr(policy: Policy, step: pl.Expr, *, below: str) -> pl.Expr:
    """The step's ``label`` (e.g. ``notify_municipality``), or ``below`` under the first step."""
    chain: pl.Expr = pl.lit(below)
    for item in policy.steps:
        chain = (
            pl.when(step == item.step).then(pl.lit(item.label or str(item.step))).otherwise(chain)
        )
    return chain


# -- measuring ---------------------------------------------------------------------------------


def _window_columns(
    windows: dict[str, Window], columns: dict[str, list[InternalColumns]], as_of: date | pl.Expr
) -> tuple[list[pl.Expr], list[pl.Expr], list[str]]:
    """Each window's first date, school days and last date, named for every rule over it.

    Returns the aggregations per pupil, the expressions that then name the columns, and the
    helper columns to drop. A window's school days are the
    largest :data:`RANK` in it (ranks are dense, newest 1), its first date the smallest date in
    it, its last date the pupil's latest (:data:`_LATEST`) when it has any day.
    """
    aggs: list[pl.Expr] = []
    out: list[pl.Expr] = []
    helpers: list[str] = []
    for key, window in windows.items():
        inside = in_window_expr(window, as_of=as_of)
        days_col, first_col = f"_days_{key}", f"_first_{key}"
        aggs += [
            pl.col(RANK).filter(inside).max().alias(days_col),
            pl.col(s.DATE).filter(inside).min().alias(first_col),
        ]
        helpers += [days_col, first_col]
        days, start = pl.col(days_col).fill_null(0).cast(pl.Int64), pl.col(first_col)
        end = pl.when(days > 0).then(pl.col(_LATEST))
        for rule_columns in columns[key]:
            out += [days.alias(rule_columns.days), start.alias(rule_columns.start)]
            out.append(end.alias(rule_columns.end))
    return aggs, out, helpers


def _sum_col(window_key: str, category: str) -> str:
    return f"_sum_{window_key}_{category}"


def _counted(policies: dict[str, Policy], key: str) -> set[str]:
    """The categories summed over the window ``key``: all of them for the first policy's primary
    window (its per-category columns), and those of the rules over it that count absence."""
    primary = next(iter(policies.values())).primary
    counted = set(s.ABSENCE_CATEGORIES) if window_key(primary.window) == key else set()
    for policy in policies.values():
        for rule in policy.rules.values():
            if window_key(rule.window) == key and rule.measure != "consecutive_days":
                counted.update(rule.categories)
    return counted


def _run_aggs(rule: Rule, columns: InternalColumns, as_of: date | pl.Expr) -> pl.Expr:
    """Longest run of a consecutive_days rule, over the pupil's days (one row per day)."""
    day_units = pl.sum_horizontal(pl.col(s.CATEGORY_UNITS[c]) for c in rule.categories)
    threshold = Fraction(rule.run_fraction) * s.DAY_UNITS  # whole: DAY_UNITS is divisible by 1000
    absent = day_units >= int(threshold)
    within = in_window_expr(rule.window, as_of=as_of)
    return longest_run_expr(absent, within).alias(columns.value)


def _runs(
    rows: pl.LazyFrame,
    rules: list[tuple[Rule, InternalColumns]],
    by: list[str],
    as_of: date | pl.Expr,
) -> pl.LazyFrame:
    """Each pupil's longest run for every consecutive_days rule in ``rules``.

    Only the rows inside some run's window make pupil-days: a run over the latest 20 school days
    reads a tenth of a year's pupil-days (docs/performance.md#what-one-machine-holds). A pupil
    with no row there has no run; the caller's join fills in 0.
    """
    inside = reduce(or_, (in_window_expr(rule.window, as_of=as_of) for rule, _ in rules))
    return (
        _pupil_days(rows.filter(inside), by)
        .group_by(by)
        .agg(_run_aggs(rule, columns, as_of) for rule, columns in rules)
    )


def _pupil_days(rows: pl.LazyFrame, by: list[str]) -> pl.LazyFrame:
    """One row per pupil per school day, absence units per category (for runs of days), with
    the day's :data:`RANK`."""
    return rows.group_by(*by, s.DATE).agg(
        *(
            units_of_expr(c, pl.lit(value=True)).alias(s.CATEGORY_UNITS[c])
            for c in s.ABSENCE_CATEGORIES
        ),
        pl.col(RANK).first(),
    )


_ENROLMENT = [s.SCHOOL_ID, s.CLASS_NAME, s.GRADE]


def _latest(spells: pl.LazyFrame, by: list[str]) -> pl.LazyFrame:
    """Each pupil's school, class and grade on their latest date (from :data:`_ENROLMENT`
    groups carrying their latest date in ``_latest``).

    Rows at two schools on that date resolve to the larger ``school_id``; ``grade`` and
    ``class_name`` are the largest given at that school on that date, so the three agree.
    """
    latest = spells.with_columns(pl.col(_LATEST).max().over(by).alias("_day")).filter(
        pl.col(_LATEST) == pl.col("_day")
    )
    school = latest.with_columns(pl.col(s.SCHOOL_ID).max().over(by).alias("_school"))
    return (
        school.filter(pl.col(s.SCHOOL_ID) == pl.col("_school"))
        .group_by(by)
        .agg(
            pl.col(s.SCHOOL_ID).first(),
            pl.col(s.CLASS_NAME).max(),
            pl.col(s.GRADE).max(),
            pl.col(_LATEST).first(),
        )
    )


def _on_latest_day(rows: pl.LazyFrame, by: list[str]) -> pl.LazyFrame:
    """:func:`_latest` of the rows of each pupil's latest date alone (:data:`RANK` 1): about a
    row per pupil, where grouping every row of the year by its enrolment (pupil, school, class,
    grade) first cost a quarter of the classification (docs/performance.md#layouts)."""
    spells = (
        rows.filter(pl.col(RANK) == 1)
        .group_by(*by, *_ENROLMENT)
        .agg(pl.col(s.DATE).max().alias(_LATEST))
    )
    return _latest(spells, by)


def latest(frame: pl.LazyFrame, *, as_of: date) -> pl.LazyFrame:
    """Each pupil's school, class and grade on their latest date up to ``as_of``.

    Columns ``pupil_id, school_id, class_name, grade``; the rules of :func:`_latest`.
    """
    spells = (
        frame.filter(pl.col(s.DATE) <= as_of)
        .group_by(s.PUPIL_ID, *_ENROLMENT)
        .agg(pl.col(s.DATE).max().alias(_LATEST))
    )
    return _latest(spells, [s.PUPIL_ID]).drop(_LATEST)


def evaluate(
    frame: pl.LazyFrame,
    *,
    policies: dict[str, Policy],
    as_of: date | pl.Expr,
    by: Sequence[str] = (s.PUPIL_ID,),
) -> pl.LazyFrame:
    """Every rule of every policy, measured per pupil, and each policy's step.

    ``policies`` maps a short key to a policy; the result has, per pupil, the pupil's latest
    school, class and grade, the absence per category in the first policy's primary window, and
    per rule ``_<key>_<rule>_{value,days,start,end}`` plus ``_<key>_step``.

    ``by`` are the columns that make one evaluation: the pupil, or e.g. the pupil and a point
    in time whose date column is ``as_of`` (a trend evaluates every week end at once this way;
    the rows must then be crossed with the points by the caller).

    Simple aggregations, no per-pupil expression over the rows: the rows -- each knowing the
    rank of its date among its pupil's distinct dates (:func:`fravaer.window.rank_expr`), which
    places it in or out of every window -- summed per pupil, and the school, class and grade
    read off the rows of the pupil's latest date (:func:`_on_latest_day`; docs/decisions.md).
    """
    # Nothing after the rank reads ``category`` (its units are columns by now): polars 2.1
    # panics projecting that column of a CSV plan through a join with its own aggregate.
    keys = list(by)
    # The pupil's id is grouped on as a categorical: every grouping and window below then works
    # on the id's integer code, exact and a quarter cheaper than on its text
    # (docs/performance.md#layouts); the result carries the id as text again.
    rows = (
        with_units(frame, as_of=as_of)
        .drop(s.CATEGORY)
        .with_columns(pl.col(s.PUPIL_ID).cast(pl.Categorical))
        .with_columns(rank_expr(keys))
    )
    primary = next(iter(policies.values())).primary

    windows: dict[str, Window] = {window_key(primary.window): primary.window}
    columns: dict[str, list[InternalColumns]] = {window_key(primary.window): []}
    run_rules: list[tuple[Rule, InternalColumns]] = []
    for key, policy in policies.items():
        for name, rule in policy.rules.items():
            windows.setdefault(window_key(rule.window), rule.window)
            columns.setdefault(window_key(rule.window), []).append(internal_columns(key, name))
            if rule.measure == "consecutive_days":
                run_rules.append((rule, internal_columns(key, name)))

    # One filtered sum per window and category, shared by every rule that counts it.
    sums = {
        _sum_col(wkey, c): units_of_expr(c, in_window_expr(window, as_of=as_of))
        for wkey, window in windows.items()
        for c in s.ABSENCE_CATEGORIES
        if c in _counted(policies, wkey)
    }
    values = [
        pl.col(_sum_col(window_key(primary.window), c)).alias(s.CATEGORY_UNITS[c])
        for c in s.ABSENCE_CATEGORIES
    ] + [
        pl.sum_horizontal(_sum_col(window_key(rule.window), c) for c in rule.categories).alias(
            internal_columns(key, name).value
        )
        for key, policy in policies.items()
        for name, rule in policy.rules.items()
        if rule.measure != "consecutive_days"
    ]

    pupil_aggs, window_columns, helpers = _window_columns(windows, columns, as_of)
    pupils = (
        rows.group_by(keys)
        .agg(
            pl.col(s.DATE).max().alias(_LATEST),
            *(expr.alias(name) for name, expr in sums.items()),
            *pupil_aggs,
        )
        .with_columns(values)
        .with_columns(window_columns)
        .drop(*helpers, _LATEST)
        .join(_on_latest_day(rows, keys), on=keys, how="left")
    )
    if run_rules:
        runs = _runs(rows, run_rules, keys, as_of)
        pupils = pupils.join(runs, on=keys, how="left").with_columns(
            pl.col(columns.value).fill_null(0) for _, columns in run_rules
        )
    return pupils.with_columns(
        pl.col(s.PUPIL_ID).cast(pl.String),
        *(step_expr(policy, key).alias(step_column(key)) for key, policy in policies.items()),
    )


def _without_left(pupils: pl.LazyFrame, school_days: pl.LazyFrame) -> pl.LazyFrame:
    """Drop pupils with no registration in the last 5 school days of their latest school.

    A school's school days are the dates on which it has any registration (docs/data-format.md);
    ``school_days`` has each school's distinct dates up to the as-of date
    (:func:`school_dates_until`).
    """
    return (
        pupils.join(_school_recent(school_days), on=s.SCHOOL_ID, how="left")
        .filter(pl.col(_LATEST) >= pl.col(_SCHOOL_RECENT))
        .drop(_SCHOOL_RECENT)
    )


def _school_recent(school_days: pl.LazyFrame) -> pl.LazyFrame:
    """Each school's earliest of its latest 5 school days, from each school's distinct dates up
    to the as-of date (:func:`school_dates_until`: a few hundred per school; grouping the rows
    by school directly held every row's date)."""
    return school_days.group_by(s.SCHOOL_ID).agg(
        pl.col(s.DATE).top_k(LEFT_AFTER_SCHOOL_DAYS).min().alias(_SCHOOL_RECENT)
    )


def left_pupils(frame: pl.LazyFrame, *, as_of: date) -> pl.LazyFrame:
    """How many pupils the "has left" rule drops at ``as_of``, and of how many (one row:
    ``left``, ``pupils``); :func:`classify` drops them unless ``include_left``.

    >>> from datetime import date
    >>> rows = pl.LazyFrame(
    ...     {"pupil_id": ["a"] + ["b"] * 6, "school_id": ["s"] * 7,
    ...      "date": [date(2024, 3, 1)] + [date(2024, 3, d) for d in (1, 4, 5, 6, 7, 8)],
    ...      "class_name": [None] * 7, "grade": [None] * 7}
    ... )
    >>> left_pupils(rows, as_of=date(2024, 3, 8)).collect().row(0)
    (1, 2)
    """
    spells = (
        frame.filter(pl.col(s.DATE) <= as_of)
        .group_by(s.PUPIL_ID, *_ENROLMENT)
        .agg(pl.col(s.DATE).max().alias(_LATEST))
    )
    pupils = _latest(spells, [s.PUPIL_ID]).join(
        _school_recent(school_dates_until(frame, as_of)),
        on=s.SCHOOL_ID,
        how="left",
    )
    return pupils.select(
        (pl.col(_LATEST) < pl.col(_SCHOOL_RECENT)).sum().cast(pl.Int64).alias("left"),
        pl.len().cast(pl.Int64).alias("pupils"),
    )


def pupil_partition_expr(part: int, parts: int) -> pl.Expr:
    """Whether a row's pupil is in bucket ``part`` (1 to ``parts``) of ``parts``.

    A pupil's rows all fall in one bucket, so partitions classify independently. The bucket is
    a seeded hash of the id: stable for one version of fravaer (and polars) on every machine,
    which is what a partitioned run needs; it is not a format to store.

    >>> frame = pl.DataFrame({"pupil_id": [f"{i:04d}" for i in range(1000)]})
    >>> sizes = [frame.filter(pupil_partition_expr(k, 3)).height for k in (1, 2, 3)]
    >>> sum(sizes), min(sizes) > 300
    (1000, True)
    """
    if not 1 <= part <= parts:
        raise ValueError(f"partition {part} is not between 1 and {parts}")
    return pl.col(s.PUPIL_ID).hash(seed=0) % parts == part - 1


LATEST: Final = "latest"
LATER_ROWS: Final = "later_rows"
LATER_LATEST: Final = "later_latest"
DATES: Final = "dates"
ROWS: Final = "rows"


def school_dates(frame: pl.LazyFrame) -> pl.LazyFrame:
    """Each school's distinct dates with their number of rows (``school_id``, ``date``,
    ``rows``), in one pass over the rows: a few hundred per school. The as-of date's facts
    (:func:`as_of_facts`) and the "has left" rule (:func:`classify`'s ``school_days``) are both
    read off them, so a run reads its rows for them once (docs/performance.md)."""
    return frame.group_by(s.SCHOOL_ID, s.DATE).agg(pl.len().alias(ROWS))


def school_dates_until(
    frame: pl.LazyFrame, as_of: date, *, school_days: pl.DataFrame | None = None
) -> pl.LazyFrame:
    """Each school's distinct dates up to ``as_of``: from ``school_days`` (:func:`school_dates`
    of ``frame``, when the caller has read them), else from the rows of ``frame``."""
    if school_days is None:
        return school_dates(frame.filter(pl.col(s.DATE) <= as_of))
    return school_days.lazy().filter(pl.col(s.DATE) <= as_of)


def as_of_facts(dates: pl.LazyFrame, *, today: date) -> pl.LazyFrame:
    """What the default as-of date needs (one row), from each school's distinct dates with
    their rows (:func:`school_dates` of the rows).

    ``latest`` is the newest date on or before ``today`` (the default as-of date; null when no
    row is that early), ``later_rows`` the rows dated after ``today`` and ``later_latest`` the
    newest of them (null when there are none), ``dates`` the distinct dates of all rows,
    ascending (a few hundred a year: whether any row is on a closed day, and the years whose
    holidays that needs). ``today`` is the day of the run, read by the caller: leave approved
    ahead of time is real, but a row dated after the run's day must not move the default as-of
    date (docs/classify.md#as-of-date).

    >>> frame = pl.LazyFrame({"school_id": ["A", "B", "A"],
    ...     "date": [date(2024, 3, 7), date(2024, 3, 8), date(2204, 3, 8)]})
    >>> facts = as_of_facts(school_dates(frame), today=date(2026, 12, 7)).collect().row(0)
    >>> facts[:3]
    (datetime.date(2024, 3, 8), 1, datetime.date(2204, 3, 8))
    >>> facts[3]
    [datetime.date(2024, 3, 7), datetime.date(2024, 3, 8), datetime.date(2204, 3, 8)]
    """
    later = pl.col(s.DATE) > today
    return dates.select(
        pl.col(s.DATE).filter(~later).max().alias(LATEST),
        pl.col(ROWS).filter(later).sum().cast(pl.Int64).alias(LATER_ROWS),
        pl.col(s.DATE).filter(later).max().alias(LATER_LATEST),
        pl.col(s.DATE).unique().sort().implode().alias(DATES),
    )


def rule_columns(policy: Policy) -> list[str]:
    """The ``rule_<name>`` columns that follow the contract columns in machine outputs."""
    return [f"{RULE_PREFIX}{name}" for name in policy.rules]


def classify(
    frame: pl.LazyFrame,
    *,
    policy: Policy,
    as_of: date,
    national: Policy | None = None,
    include_left: bool = False,
    schools: Sequence[str] | None = None,
    partition: tuple[int, int] | None = None,
    parts: int = 1,
    school_days: pl.DataFrame | None = None,
) -> pl.LazyFrame:
    """Place every pupil on the policy's step at ``as_of``, with the national quarter rule.

    Parameters
    ----------
    frame
        The canonical attendance frame (docs/data-format.md).
    policy
        The guideline; its ``primary_rule`` fills the window and absence columns.
    as_of
        The day the classification is for. Rows after it are ignored; it need not be a school day.
    national
        The national rule (bundled ``national-unlawful``) for ``quarter_unlawful_pct`` and
        ``quarter_flag``; None leaves both empty (not evaluated).
    include_left
        Keep pupils with no registration in the last 5 school days of their school.
    schools
        Keep only pupils whose latest school is one of these (their window still spans schools).
    partition
        ``(k, n)``: only the pupils in bucket ``k`` of ``n`` (:func:`pupil_partition_expr`). The
        "has left" rule still reads every school's days from all of ``frame``, so the ``n``
        results together are exactly the whole run.
    parts
        Evaluate the pupils in this many buckets, one after another (the same result): each
        bucket reads the rows again but holds only its pupils' dates, which bounds the memory
        of a national year (:data:`ROWS_PER_PART` rows a part is the measured choice).
    school_days
        :func:`school_dates` of ``frame``, when the caller has them (the run's as-of pass reads
        them, :func:`fravaer.asof.resolve_as_of`): the "has left" rule then reads no row
        again. None: read from ``frame``.

    Returns
    -------
    pl.LazyFrame
        One row per pupil, columns :data:`fravaer.schema.CLASSIFY_COLUMNS` then
        :func:`rule_columns`, sorted by school and pupil. Collecting it raises
        :class:`~fravaer.errors.ImpossibleAbsenceError` (exit 65) when a pupil has more absent
        days than school days in the window (:func:`possible_expr`).

    Examples
    --------
    Ten whole absent days among a pupil's latest 100 school days is exactly 10 %, step 1:

    >>> import polars as pl
    >>> from datetime import date, timedelta
    >>> from fravaer import load_policy
    >>> days = [date(2024, 1, 1) + timedelta(days=i) for i in range(100)]
    >>> frame = pl.LazyFrame(
    ...     {"pupil_id": ["007"] * 100, "school_id": ["851001"] * 100, "date": days,
    ...      "category": ["illness"] * 10 + ["present"] * 90,
    ...      "absent_fraction": [1.0] * 10 + [0.0] * 90, "grade": [4] * 100,
    ...      "class_name": ["4.B"] * 100},
    ...     schema_overrides={"category": s.CATEGORY_DTYPE, "grade": pl.Int8},
    ... )
    >>> out = classify(frame, policy=load_policy("aalborg-2023"), as_of=days[-1]).collect()
    >>> out.select("pupil_id", "window_days", "absence_pct", "step", "status").row(0)
    ('007', 100, 10.0, 1, 'ok')
    """
    policies = {MUNICIPAL: policy} | ({NATIONAL: national} if national else {})
    rows = frame if partition is None else frame.filter(pupil_partition_expr(*partition))
    if parts > 1:  # one bucket of pupils after another: memory for a part of the year only
        buckets = (rows.filter(pupil_partition_expr(k, parts)) for k in range(1, parts + 1))
        pupils = pl.concat(
            [evaluate(bucket, policies=policies, as_of=as_of) for bucket in buckets],
            parallel=False,
        )
    else:
        pupils = evaluate(rows, policies=policies, as_of=as_of)
    if not include_left:
        pupils = _without_left(pupils, school_dates_until(frame, as_of, school_days=school_days))
    if schools is not None:
        pupils = pupils.filter(pl.col(s.SCHOOL_ID).is_in(list(schools)))

    primary = internal_columns(MUNICIPAL, policy.primary_rule)
    window_days = pl.col(primary.days)
    primary_units = pl.sum_horizontal(
        pl.col(s.CATEGORY_UNITS[c]) for c in policy.primary.categories
    )
    step = pl.col(step_column(MUNICIPAL))
    if national is None:
        quarter_pct = pl.lit(None, dtype=pl.Float64)
        quarter_flag = pl.lit(None, dtype=pl.String)
    else:
        national_rule = internal_columns(NATIONAL, national.primary_rule)
        quarter_pct = value_expr(national.primary, national_rule)
        quarter_flag = label_expr(national, pl.col(step_column(NATIONAL)), below=s.FLAG_NONE)

    all_units = pl.sum_horizontal(pl.col(s.CATEGORY_UNITS[c]) for c in s.ABSENCE_CATEGORIES)
    return (
        pupils.filter(possible_expr(all_units, window_days))
        .with_columns(
            pl.lit(as_of, dtype=pl.Date).alias(s.AS_OF),
            pl.col(primary.start).alias(s.WINDOW_START),
            pl.col(primary.end).alias(s.WINDOW_END),
            window_days.alias(s.WINDOW_DAYS),
            days_expr(primary_units).alias(s.ABSENT_DAYS),
            *(
                days_expr(pl.col(s.CATEGORY_UNITS[c])).alias(f"{c}_days")
                for c in s.ABSENCE_CATEGORIES
            ),
            pct_expr(primary_units, window_days).alias(s.ABSENCE_PCT),
            step.alias(s.STEP),
            pl.when(step.is_not_null())
            .then(pl.lit(s.STATUS_OK))
            .otherwise(pl.lit(s.STATUS_INSUFFICIENT))
            .alias(s.STATUS),
            quarter_pct.alias(s.QUARTER_UNLAWFUL_PCT),
            quarter_flag.alias(s.QUARTER_FLAG),
            *(
                value_expr(rule, internal_columns(MUNICIPAL, name)).alias(f"{RULE_PREFIX}{name}")
                for name, rule in policy.rules.items()
            ),
        )
        .select(*s.CLASSIFY_COLUMNS, *rule_columns(policy))
        .sort(s.SCHOOL_ID, s.PUPIL_ID)
    )


def _refuse_impossible(impossible: pl.Series) -> pl.Series:
    """All true, or :class:`ImpossibleAbsenceError` with the number of impossible pupils."""
    count = int(impossible.sum())
    if count:
        raise ImpossibleAbsenceError(
            f"{count} pupil(s) have more absent days than school days in their window: the "
            "frame is not a register of whole school days",
            hint="read exports with fravaer.read_export, which turns lesson-level and "
            "absence-only exports into school days (docs/shapes.md)",
        )
    return ~impossible


def possible_expr(units: pl.Expr, days: pl.Expr) -> pl.Expr:
    """True where ``units`` of absence fit in ``days`` school days; raises otherwise.

    A filter that keeps every row, or fails the collect with :class:`ImpossibleAbsenceError`
    (exit 65): a pupil cannot miss more days than the school had, whatever built the frame
    (docs/classify.md#impossible-absence). It runs on the pupils' rows (one per pupil), after
    the aggregation, so it costs nothing noticeable.
    """
    impossible = (units > days.cast(pl.Int64) * s.DAY_UNITS).fill_null(value=False)
    return impossible.map_batches(_refuse_impossible, return_dtype=pl.Boolean)


def explain(frame: pl.LazyFrame, *, policy: Policy, as_of: date, pupil_id: str) -> pl.LazyFrame:
    """Why one pupil is on their step: one row per threshold of every step of ``policy``.

    Columns: ``pupil_id, as_of, policy, step, step_holds, rule, measure, window, window_start,
    window_end, window_days, value, at_least, holds`` and, repeated on every row, the pupil's
    resulting ``result_step`` (empty with too few school days). ``window`` is the English
    description (``latest 100 school days``); ``value`` is the rule's measured value.
    """
    # Imported here: fravaer.words reads the lesson columns' names, whose module needs this one.
    from fravaer.words import window_text

    pupil = evaluate(
        frame.filter(pl.col(s.PUPIL_ID) == pupil_id), policies={MUNICIPAL: policy}, as_of=as_of
    )
    parts = []
    for step in policy.steps:
        step_holds = condition_expr(step.when, policy, MUNICIPAL)
        for threshold in thresholds(step.when):
            rule = policy.rules[threshold.rule]
            columns = internal_columns(MUNICIPAL, threshold.rule)
            parts.append(
                pupil.select(
                    pl.col(s.PUPIL_ID),
                    pl.lit(as_of, dtype=pl.Date).alias(s.AS_OF),
                    pl.lit(policy.name).alias("policy"),
                    pl.lit(step.step, dtype=pl.Int8).alias("step"),
                    step_holds.alias("step_holds"),
                    pl.lit(threshold.rule).alias("rule"),
                    pl.lit(rule.measure).alias("measure"),
                    pl.lit(window_text(rule.window, "en")).alias("window"),
                    pl.col(columns.start).alias(s.WINDOW_START),
                    pl.col(columns.end).alias(s.WINDOW_END),
                    pl.col(columns.days).alias(s.WINDOW_DAYS),
                    value_expr(rule, columns).cast(pl.Float64).alias("value"),
                    pl.lit(float(threshold.at_least)).alias("at_least"),
                    at_least_expr(rule, columns, threshold.at_least).alias("holds"),
                    pl.col(step_column(MUNICIPAL)).alias("result_step"),
                )
            )
    return pl.concat(parts)
