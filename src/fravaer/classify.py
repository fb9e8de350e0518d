"""Guideline steps and the national quarter rule, per pupil (SPEC §1, §3, §4).

:func:`classify` turns the canonical frame into one row per pupil with the columns of the
``fravaer classify`` contract (:data:`fravaer.schema.CLASSIFY_COLUMNS`). It is lazy: nothing is
read or computed until the caller collects.

Thresholds are compared in integer arithmetic: ``pct >= t`` is evaluated as
``units * 100 * q >= p * days * DAY_UNITS`` where ``t = p / q`` exactly, so that 10 absent days of
100 is step 1 and 9.99 days is not, whatever the order of summation.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from fractions import Fraction
from functools import reduce
from operator import and_, or_

import polars as pl

from fravaer import schema as s
from fravaer.policy import (
    NATIONAL_QUARTER_RULE,
    AllOf,
    Condition,
    Measure,
    Policy,
    QuarterRule,
    Threshold,
)
from fravaer.window import (
    absent_units_expr,
    days_expr,
    in_window_expr,
    latest_expr,
    quarter_start,
    school_days_expr,
    window_start_expr,
    with_units,
)

LEFT_AFTER_SCHOOL_DAYS = 5
"""A pupil with no registration in the last 5 school days of their school has left."""

_QUARTER_DAYS = "_quarter_days"
_QUARTER_UNITS = "_quarter_units"
_SCHOOL_RECENT = "_school_recent"


def _units(measure: str) -> str:
    return f"_m_{measure}_units"


def _days(measure: str) -> str:
    return f"_m_{measure}_days"


def at_least_pct_expr(units: pl.Expr, days: pl.Expr, threshold: Decimal) -> pl.Expr:
    """Exactly ``100 * units / (days * DAY_UNITS) >= threshold``; false when ``days`` is 0."""
    ratio = Fraction(threshold)
    return (days > 0) & (
        units * (100 * ratio.denominator) >= days * (ratio.numerator * s.DAY_UNITS)
    )


def _at_least_days_expr(units: pl.Expr, threshold: Decimal) -> pl.Expr:
    ratio = Fraction(threshold)
    return units * ratio.denominator >= ratio.numerator * s.DAY_UNITS


def condition_expr(condition: Condition, measures: dict[str, Measure]) -> pl.Expr:
    """A policy condition tree as a boolean expression over the per-pupil measure columns."""
    if isinstance(condition, Threshold):
        units, days = pl.col(_units(condition.measure)), pl.col(_days(condition.measure))
        if measures[condition.measure].kind == "percent":
            return at_least_pct_expr(units, days, condition.at_least)
        return _at_least_days_expr(units, condition.at_least)
    if isinstance(condition, AllOf):
        return reduce(and_, (condition_expr(c, measures) for c in condition.all))
    return reduce(or_, (condition_expr(c, measures) for c in condition.any))


def step_expr(policy: Policy) -> pl.Expr:
    """The highest step whose condition holds (0 when none does)."""
    chain: pl.Expr = pl.lit(0, dtype=pl.Int8)
    for step in policy.steps:
        held = condition_expr(step.when, policy.measures)
        chain = pl.when(held).then(pl.lit(step.step, dtype=pl.Int8)).otherwise(chain)
    return chain


def pct_expr(units: pl.Expr, days: pl.Expr) -> pl.Expr:
    """``100 * units / (days * DAY_UNITS)`` as a float (null when ``days`` is 0).

    ``100.0 * units`` is exact and the divisor is a column, so the result is correctly rounded.
    """
    return pl.when(days > 0).then(100.0 * units / (days * s.DAY_UNITS))


def quarter_flag_expr(units: pl.Expr, days: pl.Expr, rule: QuarterRule) -> pl.Expr:
    """``notify_municipality`` / ``warn_parents`` / ``none`` from the quarter's unlawful share."""
    return (
        pl.when(at_least_pct_expr(units, days, rule.notify_at))
        .then(pl.lit(s.FLAG_NOTIFY))
        .when(at_least_pct_expr(units, days, rule.warn_at))
        .then(pl.lit(s.FLAG_WARN))
        .otherwise(pl.lit(s.FLAG_NONE))
    )


def latest_date(frame: pl.LazyFrame) -> pl.LazyFrame:
    """The newest date in the data: the default as-of date (one row, column ``date``)."""
    return frame.select(pl.col(s.DATE).max())


def classify(
    frame: pl.LazyFrame,
    *,
    policy: Policy,
    as_of: date,
    include_left: bool = False,
    schools: Sequence[str] | None = None,
    quarter_rule: QuarterRule = NATIONAL_QUARTER_RULE,
) -> pl.LazyFrame:
    """Place every pupil on the policy's step at ``as_of``, with the national quarter rule.

    Parameters
    ----------
    frame
        The canonical attendance frame (SPEC §3).
    policy
        The guideline; its ``primary_measure`` fills the window and absence columns.
    as_of
        The day the classification is for. Rows after it are ignored; it need not be a school day.
    include_left
        Keep pupils with no registration in the last 5 school days of their school.
    schools
        Keep only pupils whose latest school is one of these (their window still spans schools).
    quarter_rule
        The national rule on unlawful absence in the quarter.

    Returns
    -------
    pl.LazyFrame
        One row per pupil, columns :data:`fravaer.schema.CLASSIFY_COLUMNS`, sorted by school and
        pupil.

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
    rows = with_units(frame, as_of=as_of)
    in_quarter = pl.col(s.DATE) >= quarter_start(as_of)
    per_measure: list[pl.Expr] = []
    for name, measure in policy.measures.items():
        in_window = in_window_expr(measure.window.school_days)
        per_measure += [
            absent_units_expr(measure.categories, in_window).alias(_units(name)),
            school_days_expr(in_window).alias(_days(name)),
        ]
    in_primary = in_window_expr(policy.primary.window.school_days)

    pupils = rows.group_by(s.PUPIL_ID).agg(
        latest_expr(s.SCHOOL_ID),
        latest_expr(s.CLASS_NAME),
        latest_expr(s.GRADE),
        window_start_expr(policy.primary.window.school_days).alias(s.WINDOW_START),
        pl.col(s.DATE).max().alias(s.WINDOW_END),
        *(
            absent_units_expr((c,), in_primary).alias(s.CATEGORY_UNITS[c])
            for c in s.ABSENCE_CATEGORIES
        ),
        *per_measure,
        school_days_expr(in_quarter).alias(_QUARTER_DAYS),
        absent_units_expr(quarter_rule.categories, in_quarter).alias(_QUARTER_UNITS),
    )

    if not include_left:
        # A school's school days are the dates on which it has any registration (SPEC §3).
        recent = rows.group_by(s.SCHOOL_ID).agg(
            pl.col(s.DATE).unique().top_k(LEFT_AFTER_SCHOOL_DAYS).min().alias(_SCHOOL_RECENT)
        )
        pupils = (
            pupils.join(recent, on=s.SCHOOL_ID, how="left")
            .filter(pl.col(s.WINDOW_END) >= pl.col(_SCHOOL_RECENT))
            .drop(_SCHOOL_RECENT)
        )
    if schools is not None:
        pupils = pupils.filter(pl.col(s.SCHOOL_ID).is_in(list(schools)))

    window_days = pl.col(_days(policy.primary_measure))
    primary_units = pl.col(_units(policy.primary_measure))
    sufficient = window_days >= policy.min_school_days
    q_units, q_days = pl.col(_QUARTER_UNITS), pl.col(_QUARTER_DAYS)

    return (
        pupils.with_columns(
            pl.lit(as_of, dtype=pl.Date).alias(s.AS_OF),
            window_days.alias(s.WINDOW_DAYS),
            days_expr(primary_units).alias(s.ABSENT_DAYS),
            *(
                days_expr(pl.col(s.CATEGORY_UNITS[c])).alias(f"{c}_days")
                for c in s.ABSENCE_CATEGORIES
            ),
            pct_expr(primary_units, window_days).alias(s.ABSENCE_PCT),
            pl.when(sufficient).then(step_expr(policy)).alias(s.STEP),
            pl.when(sufficient)
            .then(pl.lit(s.STATUS_OK))
            .otherwise(pl.lit(s.STATUS_INSUFFICIENT))
            .alias(s.STATUS),
            pct_expr(q_units, q_days).alias(s.QUARTER_UNLAWFUL_PCT),
            quarter_flag_expr(q_units, q_days, quarter_rule).alias(s.QUARTER_FLAG),
        )
        .select(s.CLASSIFY_COLUMNS)
        .sort(s.SCHOOL_ID, s.PUPIL_ID)
    )
