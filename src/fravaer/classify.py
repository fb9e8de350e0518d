"""Guideline steps per pupil: the policy engine (SPEC §1, §3, §4).

:func:`evaluate` measures every rule of one or more policies for every pupil in one aggregation
over the rows (plus one over pupil-days when a rule counts consecutive days). :func:`classify`
turns that into one row per pupil with the columns of the ``fravaer classify`` contract
(:data:`fravaer.schema.CLASSIFY_COLUMNS`), followed by one ``rule_<name>`` column per rule of the
municipal policy; :func:`explain` into one row per threshold for one pupil. All of it is lazy:
nothing is read or computed until the caller collects.

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

import polars as pl

from fravaer import schema as s
from fravaer.policy import AllOf, Condition, Policy, Rule, Threshold, thresholds
from fravaer.window import (
    UNITS,
    absent_units_expr,
    days_expr,
    in_window_expr,
    latest_expr,
    longest_run_expr,
    school_days_expr,
    window_start_expr,
    with_units,
)

LEFT_AFTER_SCHOOL_DAYS = 5
"""A pupil with no registration in the last 5 school days of their school has left."""

RULE_PREFIX = "rule_"
"""Machine outputs carry each municipal rule's measured value as ``rule_<name>``."""

MUNICIPAL = "m"
NATIONAL = "n"
_LATEST = "_latest"
_SCHOOL_RECENT = "_school_recent"


@dataclass(frozen=True)
class _Columns:
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


def _cols(policy_key: str, rule: str) -> _Columns:
    return _Columns(f"{policy_key}_{rule}")


def _step_col(policy_key: str) -> str:
    return f"_{policy_key}_step"


# -- exact comparisons --------------------------------------------------------------------------


def at_least_pct_expr(units: pl.Expr, days: pl.Expr, threshold: Decimal) -> pl.Expr:
    """Exactly ``100 * units / (days * DAY_UNITS) >= threshold``; false when ``days`` is 0."""
    ratio = Fraction(threshold)
    return (days > 0) & (
        units * (100 * ratio.denominator) >= days * (ratio.numerator * s.DAY_UNITS)
    )


def at_least_expr(rule: Rule, columns: _Columns, threshold: Decimal) -> pl.Expr:
    """Exactly ``value(rule) >= threshold``, for every kind of measure."""
    value, days = pl.col(columns.value), pl.col(columns.days)
    ratio = Fraction(threshold)
    if rule.measure == "percent":
        return at_least_pct_expr(value, days, threshold)
    if rule.measure == "days":
        return value * ratio.denominator >= ratio.numerator * s.DAY_UNITS
    return value * ratio.denominator >= ratio.numerator  # consecutive_days: a whole number


def value_expr(rule: Rule, columns: _Columns) -> pl.Expr:
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
        return at_least_expr(rule, _cols(policy_key, condition.rule), condition.at_least)
    if isinstance(condition, AllOf):
        return reduce(and_, (condition_expr(c, policy, policy_key) for c in condition.all))
    return reduce(or_, (condition_expr(c, policy, policy_key) for c in condition.any))


def step_expr(policy: Policy, policy_key: str) -> pl.Expr:
    """The highest step whose condition holds (0 when none does); null with too few days."""
    chain: pl.Expr = pl.lit(0, dtype=pl.Int8)
    for step in policy.steps:
        held = condition_expr(step.when, policy, policy_key)
        chain = pl.when(held).then(pl.lit(step.step, dtype=pl.Int8)).otherwise(chain)
    primary_days = pl.col(_cols(policy_key, policy.primary_rule).days)
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


def _window_aggs(columns: _Columns, within: pl.Expr) -> list[pl.Expr]:
    dates = pl.col(s.DATE).filter(within)
    return [
        school_days_expr(within).alias(columns.days),
        dates.min().alias(columns.start),
        dates.max().alias(columns.end),
    ]


def _row_aggs(rule: Rule, columns: _Columns, as_of: date | pl.Expr) -> list[pl.Expr]:
    """Absence units of a percent/days rule, over the pupil's rows (several per day)."""
    within = in_window_expr(rule.window, as_of=as_of)
    units = absent_units_expr(rule.categories, within).alias(columns.value)
    return [units, *_window_aggs(columns, within)]


def _run_aggs(rule: Rule, columns: _Columns, as_of: date | pl.Expr) -> list[pl.Expr]:
    """Longest run of a consecutive_days rule, over the pupil's days (one row per day)."""
    day_units = pl.sum_horizontal(pl.col(s.CATEGORY_UNITS[c]) for c in rule.categories)
    threshold = Fraction(rule.run_fraction) * s.DAY_UNITS  # whole: DAY_UNITS is divisible by 1000
    absent = day_units >= int(threshold)
    within = in_window_expr(rule.window, as_of=as_of)
    return [longest_run_expr(absent, within).alias(columns.value), *_window_aggs(columns, within)]


def _pupil_days(rows: pl.LazyFrame) -> pl.LazyFrame:
    """One row per pupil per school day, absence units per category (for runs of days)."""
    return rows.group_by(s.PUPIL_ID, s.DATE).agg(
        pl.col(UNITS).filter(pl.col(s.CATEGORY) == c).sum().alias(s.CATEGORY_UNITS[c])
        for c in s.ABSENCE_CATEGORIES
    )


def evaluate(frame: pl.LazyFrame, *, policies: dict[str, Policy], as_of: date) -> pl.LazyFrame:
    """Every rule of every policy, measured per pupil, and each policy's step.

    ``policies`` maps a short key to a policy; the result has, per pupil, the pupil's latest
    school, class and grade, the absence per category in the first policy's primary window, and
    per rule ``_<key>_<rule>_{value,days,start,end}`` plus ``_<key>_step``.
    """
    rows = with_units(frame, as_of=as_of)
    primary = next(iter(policies.values())).primary
    in_primary = in_window_expr(primary.window, as_of=as_of)

    row_aggs: list[pl.Expr] = []
    run_aggs: list[pl.Expr] = []
    for key, policy in policies.items():
        for name, rule in policy.rules.items():
            if rule.measure == "consecutive_days":
                run_aggs += _run_aggs(rule, _cols(key, name), as_of)
            else:
                row_aggs += _row_aggs(rule, _cols(key, name), as_of)

    pupils = rows.group_by(s.PUPIL_ID).agg(
        latest_expr(s.SCHOOL_ID),
        latest_expr(s.CLASS_NAME),
        latest_expr(s.GRADE),
        pl.col(s.DATE).max().alias(_LATEST),
        *(
            absent_units_expr((c,), in_primary).alias(s.CATEGORY_UNITS[c])
            for c in s.ABSENCE_CATEGORIES
        ),
        *row_aggs,
    )
    if run_aggs:
        runs = _pupil_days(rows).group_by(s.PUPIL_ID).agg(run_aggs)
        pupils = pupils.join(runs, on=s.PUPIL_ID, how="left")
    return pupils.with_columns(
        step_expr(policy, key).alias(_step_col(key)) for key, policy in policies.items()
    )


def _without_left(pupils: pl.LazyFrame, frame: pl.LazyFrame, as_of: date) -> pl.LazyFrame:
    """Drop pupils with no registration in the last 5 school days of their latest school.

    A school's school days are the dates on which it has any registration (SPEC §3).
    """
    recent = (
        with_units(frame, as_of=as_of)  # the same plan as evaluate's rows: polars scans once
        .group_by(s.SCHOOL_ID)
        .agg(window_start_expr(LEFT_AFTER_SCHOOL_DAYS).alias(_SCHOOL_RECENT))
    )
    return (
        pupils.join(recent, on=s.SCHOOL_ID, how="left")
        .filter(pl.col(_LATEST) >= pl.col(_SCHOOL_RECENT))
        .drop(_SCHOOL_RECENT)
    )


def latest_date(frame: pl.LazyFrame) -> pl.LazyFrame:
    """The newest date in the data: the default as-of date (one row, column ``date``)."""
    return frame.select(pl.col(s.DATE).max())


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
) -> pl.LazyFrame:
    """Place every pupil on the policy's step at ``as_of``, with the national quarter rule.

    Parameters
    ----------
    frame
        The canonical attendance frame (SPEC §3).
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

    Returns
    -------
    pl.LazyFrame
        One row per pupil, columns :data:`fravaer.schema.CLASSIFY_COLUMNS` then
        :func:`rule_columns`, sorted by school and pupil.

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
    pupils = evaluate(frame, policies=policies, as_of=as_of)
    if not include_left:
        pupils = _without_left(pupils, frame, as_of)
    if schools is not None:
        pupils = pupils.filter(pl.col(s.SCHOOL_ID).is_in(list(schools)))

    primary = _cols(MUNICIPAL, policy.primary_rule)
    window_days = pl.col(primary.days)
    primary_units = pl.sum_horizontal(
        pl.col(s.CATEGORY_UNITS[c]) for c in policy.primary.categories
    )
    step = pl.col(_step_col(MUNICIPAL))
    if national is None:
        quarter_pct = pl.lit(None, dtype=pl.Float64)
        quarter_flag = pl.lit(None, dtype=pl.String)
    else:
        national_rule = _cols(NATIONAL, national.primary_rule)
        quarter_pct = value_expr(national.primary, national_rule)
        quarter_flag = label_expr(national, pl.col(_step_col(NATIONAL)), below=s.FLAG_NONE)

    return (
        pupils.with_columns(
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
                value_expr(rule, _cols(MUNICIPAL, name)).alias(f"{RULE_PREFIX}{name}")
                for name, rule in policy.rules.items()
            ),
        )
        .select(*s.CLASSIFY_COLUMNS, *rule_columns(policy))
        .sort(s.SCHOOL_ID, s.PUPIL_ID)
    )


def explain(frame: pl.LazyFrame, *, policy: Policy, as_of: date, pupil_id: str) -> pl.LazyFrame:
    """Why one pupil is on their step: one row per threshold of every step of ``policy``.

    Columns: ``pupil_id, as_of, policy, step, step_holds, rule, measure, window, window_start,
    window_end, window_days, value, at_least, holds`` and, repeated on every row, the pupil's
    resulting ``result_step`` (empty with too few school days). ``window`` is the English
    description (``latest 100 school days``); ``value`` is the rule's measured value.
    """
    pupil = evaluate(
        frame.filter(pl.col(s.PUPIL_ID) == pupil_id), policies={MUNICIPAL: policy}, as_of=as_of
    )
    parts = []
    for step in policy.steps:
        step_holds = condition_expr(step.when, policy, MUNICIPAL)
        for threshold in thresholds(step.when):
            rule = policy.rules[threshold.rule]
            columns = _cols(MUNICIPAL, threshold.rule)
            parts.append(
                pupil.select(
                    pl.col(s.PUPIL_ID),
                    pl.lit(as_of, dtype=pl.Date).alias(s.AS_OF),
                    pl.lit(policy.name).alias("policy"),
                    pl.lit(step.step, dtype=pl.Int8).alias("step"),
                    step_holds.alias("step_holds"),
                    pl.lit(threshold.rule).alias("rule"),
                    pl.lit(rule.measure).alias("measure"),
                    pl.lit(rule.window.describe("en")).alias("window"),
                    pl.col(columns.start).alias(s.WINDOW_START),
                    pl.col(columns.end).alias(s.WINDOW_END),
                    pl.col(columns.days).alias(s.WINDOW_DAYS),
                    value_expr(rule, columns).cast(pl.Float64).alias("value"),
                    pl.lit(float(threshold.at_least)).alias("at_least"),
                    at_least_expr(rule, columns, threshold.at_least).alias("holds"),
                    pl.col(_step_col(MUNICIPAL)).alias("result_step"),
                )
            )
    return pl.concat(parts)
