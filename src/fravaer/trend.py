"""See it coming: per-pupil weekly trends, absence patterns and early warning (docs/trend.md).

Three measures, each one lazy plan over the canonical frame (docs/data-format.md):

- :func:`trend`: the policy's primary window percentage and step at the end of each of a pupil's
  latest school weeks. The pupil's rows are crossed with the week-end dates and aggregated per
  (pupil, week end) with the same rule aggregations and step expression as
  :func:`fravaer.classify.classify`, so the last point *is* classify's answer at the as-of date.
- :func:`patterns`: per pupil absence by weekday and around weekends and holidays, each tested
  against the pupil's own absence with an exact one-sided hypergeometric test (Fisher's exact
  test), with Benjamini-Hochberg false-discovery control across all pupils' tests; plus repeated
  partial days and runs of whole absent days.
- :func:`early_warning`: pupils not yet at step 1 with a flagged pattern, a rising trend, or a
  recent rate that would carry them over the first threshold within a horizon of school days.

Like the rest of the core this module reads no files and no clock and never collects: ``as_of``
is a parameter and every function returns a LazyFrame.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from decimal import Decimal
from typing import Final

import polars as pl

from fravaer import schema as s
from fravaer.calendar import public_holidays
from fravaer.classify import (
    MUNICIPAL,
    at_least_pct_expr,
    classify,
    evaluate,
    internal_columns,
    pct_expr,
    step_column,
    step_expr,
)
from fravaer.classify import latest as latest_enrolment
from fravaer.policy import Policy, Threshold
from fravaer.window import (
    UNITS,
    days_expr,
    longest_run_expr,
    units_of_expr,
    with_units,
)

# -- trend: output columns (the contract of `fravaer trend`) ---------------------------------------
WEEK_END: Final = "week_end"
SCHOOL_DAYS_WEEK: Final = "school_days_week"
ABSENT_DAYS_WEEK: Final = "absent_days_week"
CATEGORY_DAYS_WEEK: Final = {c: f"{c}_days_week" for c in s.ABSENCE_CATEGORIES}

TREND_COLUMNS: Final = (
    s.PUPIL_ID,
    s.SCHOOL_ID,
    s.CLASS_NAME,
    WEEK_END,
    s.WINDOW_DAYS,
    s.ABSENT_DAYS,
    s.ABSENCE_PCT,
    s.STEP,
    SCHOOL_DAYS_WEEK,
    ABSENT_DAYS_WEEK,
    *CATEGORY_DAYS_WEEK.values(),
)
"""Machine formats of ``fravaer trend``: one row per pupil per school week, oldest first."""

# -- direction of a trend ------------------------------------------------------------------------
PCT_BEFORE: Final = "pct_before"
WEEKS_BACK: Final = "weeks_back"
DIRECTION: Final = "direction"
RISING: Final = "rising"
FALLING: Final = "falling"
FLAT: Final = "flat"

TREND_WEEKS: Final = 12
"""Default number of school weeks in a trend."""
DIRECTION_WEEKS: Final = 3
"""A trend's direction compares the latest point with the point this many school weeks before."""
CHANGE_POINTS: Final = 1
"""A change of at least 1 percentage point (exactly) is a rise or a fall; less is flat."""

# -- patterns ------------------------------------------------------------------------------------
WEEKDAYS: Final = ("monday", "tuesday", "wednesday", "thursday", "friday")
WEEKDAY_PCT: Final = {d: f"{d}_pct" for d in WEEKDAYS}
DAYS_WITH_ABSENCE: Final = "days_with_absence"
WEEKDAY_FLAG: Final = "weekday_flag"
WEEKDAY_Q: Final = "weekday_q"
EDGE_DAYS: Final = "edge_days"
EDGE_ABSENT_DAYS: Final = "edge_absent_days"
EDGE_Q: Final = "edge_q"
EDGE_FLAG: Final = "edge_flag"
PARTIAL_DAYS: Final = "partial_days"
PARTIAL_FLAG: Final = "partial_flag"
LONGEST_RUN: Final = "longest_run"
RUN_FLAG: Final = "run_flag"
FLAGS: Final = "flags"

FLAG_WEEKDAY: Final = "weekday"
FLAG_EDGE: Final = "weekend_holiday"
FLAG_PARTIAL: Final = "partial_days"
FLAG_RUN: Final = "run"

PATTERN_COLUMNS: Final = (
    s.PUPIL_ID,
    s.SCHOOL_ID,
    s.CLASS_NAME,
    s.AS_OF,
    s.WINDOW_DAYS,
    DAYS_WITH_ABSENCE,
    s.ABSENCE_PCT,
    *WEEKDAY_PCT.values(),
    WEEKDAY_FLAG,
    WEEKDAY_Q,
    EDGE_DAYS,
    EDGE_ABSENT_DAYS,
    EDGE_Q,
    EDGE_FLAG,
    PARTIAL_DAYS,
    PARTIAL_FLAG,
    LONGEST_RUN,
    RUN_FLAG,
    FLAGS,
)
"""Machine formats of ``fravaer patterns``: one row per pupil."""

PATTERN_DAYS: Final = 100
"""Patterns are looked for in the pupil's latest 100 school days."""
FDR: Final = 0.05
"""Benjamini-Hochberg false-discovery level across all pupils' weekday and weekend tests."""
MIN_ABSENT_DAYS: Final = 3
"""A pupil with fewer days with absence in the pattern window is not tested."""
PARTIAL_DAYS_FLAG: Final = 5
"""Five or more partial days (some but not all of the day missed) in the window are flagged."""
RUN_DAYS_FLAG: Final = 10
"""A run of ten or more whole absent school days in a row (two school weeks) is flagged."""

# -- early warning -------------------------------------------------------------------------------
RECENT_PCT: Final = "recent_pct"
PROJECTED_DAYS: Final = "projected_school_days"
PROJECTED_DATE: Final = "projected_date"
REASONS: Final = "reasons"
REASON_PATTERN: Final = "pattern"
REASON_RISING: Final = "rising"
REASON_PROJECTED: Final = "projected"

HORIZON_DAYS: Final = 20
"""Default horizon of the projection, in school days."""
RECENT_DAYS: Final = 20
"""The recent rate is the absence in the pupil's latest 20 school days (four school weeks)."""
SCHOOL_WEEKDAY_DAYS: Final = 20
"""Future school days fall on the weekdays the school used in its latest 20 school days."""

EARLY_WARNING_COLUMNS: Final = (
    s.PUPIL_ID,
    s.SCHOOL_ID,
    s.CLASS_NAME,
    s.AS_OF,
    s.ABSENCE_PCT,
    s.STEP,
    PCT_BEFORE,
    DIRECTION,
    RECENT_PCT,
    PROJECTED_DAYS,
    PROJECTED_DATE,
    FLAGS,
    WEEKDAY_FLAG,
    PARTIAL_DAYS,
    LONGEST_RUN,
    REASONS,
)
"""Machine formats of ``fravaer early-warning``: one row per pupil warned about."""

_WEEK = "_week"
_POINT = "_point"
_AT = "_at"
_UNITS_ABSENT = "_absent_units"
_DAY = "_day_units"
_RANK = "_rank"
_CUM = "_cum"
_J = "_j"
_N = "_n"
_RECENT_HIGH = "_recent_high"


# -- trend ---------------------------------------------------------------------------------------


def _pupil_days(rows: pl.LazyFrame, *by: str) -> pl.LazyFrame:
    """One row per ``by`` and date: the absence units per category."""
    return rows.group_by(*by, s.DATE).agg(
        pl.col(UNITS).filter(pl.col(s.CATEGORY) == c).sum().alias(s.CATEGORY_UNITS[c])
        for c in s.ABSENCE_CATEGORIES
    )


def _weeks(rows: pl.LazyFrame, *, as_of: date, weeks: int) -> pl.LazyFrame:
    """The pupil's latest ``weeks`` school weeks: week end, school days and absence per week.

    A school week is an ISO week (Monday to Sunday) in which the pupil has at least one school
    day; its end is the pupil's last school day in it. The latest week is evaluated at ``as_of``.
    """
    return _weeks_of_days(_pupil_days(rows, s.PUPIL_ID), as_of=as_of, weeks=weeks)


def _weeks_of_days(days: pl.LazyFrame, *, as_of: date, weeks: int) -> pl.LazyFrame:
    """:func:`_weeks` from the pupil's days (one row per pupil and date with its absence units
    per category)."""
    weekly = (
        days.with_columns(pl.col(s.DATE).dt.truncate("1w").alias(_WEEK))
        .group_by(s.PUPIL_ID, _WEEK)
        .agg(
            pl.col(s.DATE).max().alias(WEEK_END),
            pl.len().cast(pl.Int64).alias(SCHOOL_DAYS_WEEK),
            *(pl.col(s.CATEGORY_UNITS[c]).sum() for c in s.ABSENCE_CATEGORIES),
        )
        .filter(pl.col(_WEEK).rank("ordinal", descending=True).over(s.PUPIL_ID) <= weeks)
    )
    latest = pl.col(WEEK_END) == pl.col(WEEK_END).max().over(s.PUPIL_ID)
    return weekly.with_columns(
        pl.when(latest).then(pl.lit(as_of, dtype=pl.Date)).otherwise(pl.col(WEEK_END)).alias(_POINT)
    )


def summable(policy: Policy) -> bool:
    """Can a series of ``policy`` be measured by running sums (:func:`_evaluate_by_sums`)?

    Yes when every rule counts absence (``percent`` or ``days``) over a window of the pupil's
    latest school days; a calendar window or a run of days keeps the crossing of rows and
    points (docs/trend.md#decisions).
    """
    return all(
        rule.window.school_days is not None and rule.measure != "consecutive_days"
        for rule in policy.rules.values()
    )


def _evaluate_at_points(
    frame: pl.LazyFrame,
    points: pl.LazyFrame,
    *,
    policy: Policy,
    as_of: date,
    crossing: bool = False,
) -> pl.LazyFrame:
    """Every rule of ``policy`` per (pupil, point), the step, and the primary window's units.

    A policy of school-day windows only (:func:`summable`) is measured by running sums over the
    pupil's school days (:func:`_evaluate_by_sums`); any other, or any with ``crossing``,
    crosses the pupil's rows with the pupil's points, and :func:`fravaer.classify.evaluate`
    measures each (pupil, point) with the point as its as-of date: the same engine as classify.
    Both give the same columns and values.
    """
    if summable(policy) and not crossing:
        return _evaluate_by_sums(frame, points, policy=policy, as_of=as_of)
    return _evaluate_crossed(frame, points, policy=policy)


_N_DAY = "_n_day"


def _evaluate_by_sums(
    frame: pl.LazyFrame, points: pl.LazyFrame, *, policy: Policy, as_of: date
) -> pl.LazyFrame:
    """:func:`_evaluate_crossed` for a policy of school-day windows, without the crossing.

    A point's day is the pupil's last school day on or before it (its week end), so every
    window of N school days at a point is the N days up to that day: its units are the running
    sum at the day minus the running sum N days earlier, its school days ``min(N, n)`` where
    ``n`` counts the pupil's days so far, and its first date the day N - 1 days back. The
    school and class are those of :func:`fravaer.classify.evaluate`: on the day, the largest
    school id, and at that school the largest class.
    """
    return _evaluate_days(_school_days(frame, as_of=as_of), points, policy=policy)


def _school_days(frame: pl.LazyFrame, *, as_of: date) -> pl.LazyFrame:
    """One row per pupil and date, sorted: the absence units per category, and the school and
    class of :func:`fravaer.classify.evaluate` on the day (the largest school id, and at that
    school the largest class)."""
    units = [s.CATEGORY_UNITS[c] for c in s.ABSENCE_CATEGORIES]
    # Per school first, then per day: within a group polars keeps the rows' order, so the last
    # of the day's schools sorted is the largest (a filter inside the aggregation would leave
    # polars' fast path and cost seven times more).
    per_school = (
        with_units(frame, as_of=as_of)
        .group_by(s.PUPIL_ID, s.DATE, s.SCHOOL_ID)
        .agg(
            *(
                units_of_expr(c, pl.lit(value=True)).alias(s.CATEGORY_UNITS[c])
                for c in s.ABSENCE_CATEGORIES
            ),
            pl.col(s.CLASS_NAME).max(),
        )
        .sort(s.PUPIL_ID, s.DATE, s.SCHOOL_ID)
    )
    return (
        per_school.group_by(s.PUPIL_ID, s.DATE)
        .agg(pl.col(units).sum(), pl.col(s.SCHOOL_ID).last(), pl.col(s.CLASS_NAME).last())
        .sort(s.PUPIL_ID, s.DATE)
    )


def _evaluate_days(days: pl.LazyFrame, points: pl.LazyFrame, *, policy: Policy) -> pl.LazyFrame:
    """:func:`_evaluate_by_sums` from :func:`_school_days`."""
    lengths = sorted({rule.window.school_days or 0 for rule in policy.rules.values()})
    counted = sorted(
        {c for rule in policy.rules.values() for c in rule.categories}
        | set(policy.primary.categories)
    )
    running = days.with_columns(
        pl.int_range(1, pl.len() + 1, dtype=pl.Int64).over(s.PUPIL_ID).alias(_N_DAY),
        *(
            pl.col(s.CATEGORY_UNITS[c]).cum_sum().over(s.PUPIL_ID).alias(f"_cum_{c}")
            for c in counted
        ),
    )

    def in_window(category: str, length: int) -> pl.Expr:
        cum = pl.col(f"_cum_{category}")
        return cum - cum.shift(length).over(s.PUPIL_ID).fill_null(0)

    windows: list[pl.Expr] = []
    for length in lengths:
        windows += [
            pl.min_horizontal(pl.col(_N_DAY), length).alias(f"_days_{length}"),
            pl.col(s.DATE)
            .shift(length - 1)
            .over(s.PUPIL_ID)
            .fill_null(pl.col(s.DATE).first().over(s.PUPIL_ID))
            .alias(f"_start_{length}"),
            *(in_window(c, length).alias(f"_sum_{length}_{c}") for c in counted),
        ]
    measured = running.with_columns(windows)
    rules: list[pl.Expr] = []
    for name, rule in policy.rules.items():
        days_back = rule.window.school_days
        columns = internal_columns(MUNICIPAL, name)
        rules += [
            pl.sum_horizontal(pl.col(f"_sum_{days_back}_{c}") for c in rule.categories).alias(
                columns.value
            ),
            pl.col(f"_days_{days_back}").alias(columns.days),
            pl.col(f"_start_{days_back}").alias(columns.start),
            pl.col(s.DATE).alias(columns.end),
        ]
    primary = policy.primary.window.school_days
    primary_units = pl.sum_horizontal(
        pl.col(f"_sum_{primary}_{c}") for c in policy.primary.categories
    )
    at_points = points.select(s.PUPIL_ID, _POINT, pl.col(WEEK_END).alias(s.DATE)).join(
        measured, on=[s.PUPIL_ID, s.DATE]
    )
    return (
        at_points.with_columns(rules)
        .with_columns(step_expr(policy, MUNICIPAL).alias(s.STEP))
        .select(
            s.PUPIL_ID,
            _POINT,
            s.SCHOOL_ID,
            s.CLASS_NAME,
            primary_units.alias(_UNITS_ABSENT),
            s.STEP,
            pl.col(internal_columns(MUNICIPAL, policy.primary_rule).days).alias(s.WINDOW_DAYS),
        )
    )


def _evaluate_crossed(frame: pl.LazyFrame, points: pl.LazyFrame, *, policy: Policy) -> pl.LazyFrame:
    """:func:`_evaluate_at_points` by crossing the pupil's rows with the pupil's points."""
    crossed = frame.join(points.select(s.PUPIL_ID, _POINT), on=s.PUPIL_ID)
    evaluated = evaluate(
        crossed, policies={MUNICIPAL: policy}, as_of=pl.col(_POINT), by=(s.PUPIL_ID, _POINT)
    )
    primary_units = pl.sum_horizontal(
        pl.col(s.CATEGORY_UNITS[c]) for c in policy.primary.categories
    )
    return evaluated.select(
        s.PUPIL_ID,
        _POINT,
        s.SCHOOL_ID,
        s.CLASS_NAME,
        primary_units.alias(_UNITS_ABSENT),
        pl.col(step_column(MUNICIPAL)).alias(s.STEP),
        pl.col(internal_columns(MUNICIPAL, policy.primary_rule).days).alias(s.WINDOW_DAYS),
    )


def _series(
    frame: pl.LazyFrame,
    *,
    policy: Policy,
    as_of: date,
    weeks: int,
    ends_only: bool = False,
    crossing: bool = False,
) -> pl.LazyFrame:
    """:func:`trend` with the primary window's absence units kept (for exact comparisons).

    With ``ends_only`` only the latest and the oldest of the ``weeks`` points are measured
    (what a direction compares), and ``_n`` holds the pupil's number of points. ``crossing``:
    see :func:`_evaluate_at_points`.
    """
    by_sums = summable(policy) and not crossing
    if by_sums:
        # The weeks and the running sums read the same days: grouped once (docs/performance.md
        # #the-site).
        days = _school_days(frame, as_of=as_of).cache()
        points = _weeks_of_days(days, as_of=as_of, weeks=weeks)
    else:
        points = _weeks(with_units(frame, as_of=as_of), as_of=as_of, weeks=weeks)
    if ends_only:
        points = points.with_columns(pl.len().over(s.PUPIL_ID).alias(_N)).filter(
            (pl.col(WEEK_END) == pl.col(WEEK_END).max().over(s.PUPIL_ID))
            | (pl.col(WEEK_END) == pl.col(WEEK_END).min().over(s.PUPIL_ID))
        )
    if by_sums:
        evaluated = _evaluate_days(days, points, policy=policy)
    else:
        evaluated = _evaluate_at_points(
            frame.filter(pl.col(s.DATE) <= as_of),
            points,
            policy=policy,
            as_of=as_of,
            crossing=crossing,
        )
    week_units = pl.sum_horizontal(pl.col(s.CATEGORY_UNITS[c]) for c in s.ABSENCE_CATEGORIES)
    return (
        points.join(evaluated, on=[s.PUPIL_ID, _POINT])
        .with_columns(
            days_expr(pl.col(_UNITS_ABSENT)).alias(s.ABSENT_DAYS),
            pct_expr(pl.col(_UNITS_ABSENT), pl.col(s.WINDOW_DAYS)).alias(s.ABSENCE_PCT),
            days_expr(week_units).alias(ABSENT_DAYS_WEEK),
            *(
                days_expr(pl.col(s.CATEGORY_UNITS[c])).alias(CATEGORY_DAYS_WEEK[c])
                for c in s.ABSENCE_CATEGORIES
            ),
        )
        .select(*TREND_COLUMNS, _UNITS_ABSENT, *([_N] if ends_only else []))
        .sort(s.PUPIL_ID, WEEK_END)
    )


def class_pupils(
    frame: pl.LazyFrame,
    *,
    as_of: date,
    class_name: str,
    schools: Sequence[str] | None = None,
) -> pl.LazyFrame:
    """The pupils whose class on their latest school day up to ``as_of`` is ``class_name``.

    One column, ``pupil_id``. A class name may repeat across schools: ``schools`` keeps only
    pupils whose latest school is one of these (their rows at other schools still count).
    """
    latest = latest_enrolment(frame, as_of=as_of).filter(pl.col(s.CLASS_NAME) == class_name)
    if schools is not None:
        latest = latest.filter(pl.col(s.SCHOOL_ID).is_in(list(schools)))
    return latest.select(s.PUPIL_ID)


def trend(
    frame: pl.LazyFrame,
    *,
    policy: Policy,
    as_of: date,
    weeks: int = TREND_WEEKS,
    pupils: Sequence[str] | pl.LazyFrame | None = None,
) -> pl.LazyFrame:
    """The rolling primary-window absence % and step at the end of each of the latest school weeks.

    Parameters
    ----------
    frame
        The canonical attendance frame.
    policy
        The guideline: its primary rule's window gives ``absence_pct``; all its rules the step.
    as_of
        Rows after it are ignored; the latest point is evaluated at it.
    weeks
        How many of the pupil's latest school weeks (ISO weeks with at least one of the pupil's
        school days; a holiday week without any is skipped, not shown as a gap).
    pupils
        Only these pupils (ids, or a frame with a ``pupil_id`` column); None: every pupil.

    Returns
    -------
    pl.LazyFrame
        Columns :data:`TREND_COLUMNS`, one row per pupil per school week, sorted by pupil and
        ``week_end`` (the pupil's last school day of that week). The latest row's values are
        :func:`fravaer.classify.classify`'s at ``as_of``, including left pupils.

    Examples
    --------
    Absent the whole second week: 50 % after two weeks, 33.3 % after three (no step after one
    week: fewer than the policy's 10 school days).

    >>> import polars as pl
    >>> from datetime import date, timedelta
    >>> from fravaer import load_policy
    >>> days = [date(2024, 1, 1) + timedelta(days=i) for i in range(19) if i % 7 < 5]
    >>> absent = [5 <= i < 10 for i in range(len(days))]
    >>> frame = pl.LazyFrame(
    ...     {"pupil_id": ["007"] * 15, "school_id": ["851001"] * 15, "date": days,
    ...      "category": ["illness" if a else "present" for a in absent],
    ...      "absent_fraction": [1.0 if a else 0.0 for a in absent], "grade": [4] * 15,
    ...      "class_name": ["4.B"] * 15},
    ...     schema_overrides={"category": s.CATEGORY_DTYPE, "grade": pl.Int8},
    ... )
    >>> out = trend(frame, policy=load_policy("aalborg-2023"), as_of=days[-1]).collect()
    >>> for row in out.select("week_end", "absence_pct", "step", "absent_days_week").rows():
    ...     print(row)
    (datetime.date(2024, 1, 5), 0.0, None, 0.0)
    (datetime.date(2024, 1, 12), 50.0, 3, 5.0)
    (datetime.date(2024, 1, 19), 33.333333333333336, 3, 0.0)
    """
    return trend_of(weekly_series(frame, policy=policy, as_of=as_of, weeks=weeks, pupils=pupils))


def _of_pupils(frame: pl.LazyFrame, pupils: Sequence[str] | pl.LazyFrame | None) -> pl.LazyFrame:
    """The rows of ``pupils`` (ids, or a frame with a ``pupil_id`` column); None: every row."""
    if isinstance(pupils, pl.LazyFrame):
        return frame.join(pupils.select(s.PUPIL_ID).unique(), on=s.PUPIL_ID, how="semi")
    if pupils is not None:
        return frame.filter(pl.col(s.PUPIL_ID).is_in(list(pupils)))
    return frame


def weekly_series(
    frame: pl.LazyFrame,
    *,
    policy: Policy,
    as_of: date,
    weeks: int = TREND_WEEKS,
    pupils: Sequence[str] | pl.LazyFrame | None = None,
    crossing: bool = False,
) -> pl.LazyFrame:
    """:func:`trend` with what :func:`direction_of` needs besides: one computation, two figures.

    A caller that shows both a pupil's weekly trend and its direction (the site's dossier)
    collects this once and takes :func:`trend_of` and :func:`direction_of` from the result.
    The arguments are :func:`trend`'s; the columns are :data:`TREND_COLUMNS` and more.
    ``crossing`` measures every point with classify's engine even where running sums would
    do (:func:`summable`): the same figures, slower; the tests compare the two.
    """
    return _series(
        _of_pupils(frame, pupils), policy=policy, as_of=as_of, weeks=weeks, crossing=crossing
    )


def trend_of(series: pl.LazyFrame) -> pl.LazyFrame:
    """:func:`trend` from a :func:`weekly_series`: its :data:`TREND_COLUMNS`."""
    return series.select(TREND_COLUMNS)


def direction_of(series: pl.LazyFrame, *, weeks_back: int = DIRECTION_WEEKS) -> pl.LazyFrame:
    """:func:`direction` from a :func:`weekly_series` of at least ``weeks_back + 1`` weeks.

    The same figures as :func:`direction` of the same pupils: the points compared are the same
    points, whatever the number of weeks the series holds beyond them.
    """
    return _direction(series, weeks_back=weeks_back)


def _direction(series: pl.LazyFrame, *, weeks_back: int, ends_only: bool = False) -> pl.LazyFrame:
    """Per pupil: the latest % and the % ``weeks_back`` school weeks earlier, and the direction.

    ``series`` is a pupil's whole series of at least ``weeks_back + 1`` latest weeks, or, with
    ``ends_only``, :func:`_series`'s two ends of exactly those weeks with their count ``_n``.
    A rise or fall is a change of at least :data:`CHANGE_POINTS` percentage points, compared in
    integer arithmetic; with only one point, or a window without days, the direction is empty.
    """
    ordered = series.sort(s.PUPIL_ID, WEEK_END)
    if ends_only:
        before = [
            pl.col(_N).first().alias(_N),
            pl.col(_UNITS_ABSENT).first().alias("_u0"),
            pl.col(s.WINDOW_DAYS).first().alias("_d0"),
        ]
    else:
        back = pl.min_horizontal(pl.len() - 1, weeks_back)
        before = [
            pl.len().alias(_N),
            pl.col(_UNITS_ABSENT).reverse().gather(back).first().alias("_u0"),
            pl.col(s.WINDOW_DAYS).reverse().gather(back).first().alias("_d0"),
        ]
    per_pupil = ordered.group_by(s.PUPIL_ID).agg(
        *before,
        pl.col(_UNITS_ABSENT).last().alias("_u1"),
        pl.col(s.WINDOW_DAYS).last().alias("_d1"),
    )
    u0, d0, u1, d1 = pl.col("_u0"), pl.col("_d0"), pl.col("_u1"), pl.col("_d1")
    change = 100 * (u1 * d0 - u0 * d1)  # sign of pct1 - pct0, scaled by d0 * d1 * DAY_UNITS
    bound = CHANGE_POINTS * d0 * d1 * s.DAY_UNITS
    known = (pl.col(_N) > 1) & (d0 > 0) & (d1 > 0)
    return per_pupil.select(
        s.PUPIL_ID,
        pct_expr(u0, d0).alias(PCT_BEFORE),
        (pl.col(_N) - 1).clip(upper_bound=weeks_back).alias(WEEKS_BACK),
        pl.when(~known)
        .then(pl.lit(None, dtype=pl.String))
        .when(change >= bound)
        .then(pl.lit(RISING))
        .when(change <= -bound)
        .then(pl.lit(FALLING))
        .otherwise(pl.lit(FLAT))
        .alias(DIRECTION),
    )


def direction(
    frame: pl.LazyFrame,
    *,
    policy: Policy,
    as_of: date,
    weeks_back: int = DIRECTION_WEEKS,
    pupils: Sequence[str] | pl.LazyFrame | None = None,
) -> pl.LazyFrame:
    """Whether each pupil's absence % rose, fell or stayed flat over the latest school weeks.

    Compares the point at ``as_of`` with the point ``weeks_back`` school weeks before it (or the
    pupil's first, when there are fewer). Columns ``pupil_id, pct_before, weeks_back,
    direction`` (``rising``, ``falling``, ``flat``; empty with a single week).

    >>> import polars as pl
    >>> from datetime import date, timedelta
    >>> from fravaer import load_policy
    >>> days = [date(2024, 1, 1) + timedelta(days=i) for i in range(26) if i % 7 < 5]
    >>> frame = pl.LazyFrame(
    ...     {"pupil_id": ["1"] * 20, "school_id": ["A"] * 20, "date": days,
    ...      "category": ["present"] * 19 + ["illness"], "absent_fraction": [0.0] * 19 + [1.0],
    ...      "grade": [4] * 20, "class_name": ["4.B"] * 20},
    ...     schema_overrides={"category": s.CATEGORY_DTYPE, "grade": pl.Int8},
    ... )
    >>> direction(frame, policy=load_policy("aalborg-2023"), as_of=days[-1]).collect().row(0)
    ('1', 0.0, 3, 'rising')
    """
    # Only the two points compared are measured: the latest and the one weeks_back before.
    series = _series(
        _of_pupils(frame, pupils), policy=policy, as_of=as_of, weeks=weeks_back + 1, ends_only=True
    )
    return _direction(series, weeks_back=weeks_back, ends_only=True)


# -- patterns ------------------------------------------------------------------------------------


def _hypergeom_sf(values: pl.Series) -> pl.Series:
    """P(X >= k) for X ~ Hypergeometric(N days, K absent days, n days drawn), elementwise."""
    import numpy as np  # scipy imports it anyway
    from scipy import stats  # slow to import (0.8 s): only when testing patterns

    k, n, big_k, big_n = (values.struct.field(f).to_numpy() for f in ("k", "n", "K", "N"))
    p = stats.hypergeom.sf(k - 1, big_n, big_k, n)
    return pl.Series(np.clip(p, 0.0, 1.0), dtype=pl.Float64)


def _bh(values: pl.Series) -> pl.Series:
    """Benjamini-Hochberg adjusted p-values of the whole column (empty stays empty)."""
    from scipy import stats  # slow to import (0.8 s): only when testing patterns

    p = values.to_numpy()
    if p.size == 0:
        return pl.Series([], dtype=pl.Float64)
    return pl.Series(stats.false_discovery_control(p, method="bh"), dtype=pl.Float64)


def pattern_tests(counts: pl.LazyFrame) -> pl.LazyFrame:
    """Exact one-sided p-values and Benjamini-Hochberg adjusted p-values (``q``) of count tests.

    ``counts`` has one row per test with ``k`` (absent days on the tested days), ``n`` (tested
    days), ``K`` (all absent days) and ``N`` (all days). Under "absence is equally likely on any
    of the pupil's days", given K, ``k`` is hypergeometric: ``p = P(X >= k)`` (Fisher's exact
    test, one-sided). ``q`` controls the false-discovery rate over *all rows of the frame*.

    >>> import polars as pl
    >>> tests = pl.LazyFrame({"k": [4, 1], "n": [4, 4], "K": [4, 4], "N": [20, 20]})
    >>> pattern_tests(tests).collect()["p"].round(5).to_list()
    [0.00021, 0.62436]
    """
    # Imported here, in the caller's thread, before polars runs the batches on its own threads:
    # two first imports of scipy at once can fail half-way (an internal error seen once).
    import scipy.stats  # noqa: F401

    fields = pl.struct(pl.col("k"), pl.col("n"), pl.col("K"), pl.col("N"))
    with_p = counts.with_columns(
        fields.map_batches(_hypergeom_sf, return_dtype=pl.Float64, is_elementwise=True).alias("p")
    )
    return with_p.with_columns(pl.col("p").map_batches(_bh, return_dtype=pl.Float64).alias("q"))


def _pattern_days(rows: pl.LazyFrame, *, days: int) -> pl.LazyFrame:
    """The pupil's latest ``days`` school days: absence units, weekday and weekend/holiday edge.

    An edge day is a school day right after or right before a day without school for the pupil
    (a weekend, a holiday, a break): the calendar gap to the pupil's previous or next school day
    is more than one day. The pupil's latest day counts as an edge when it is a Friday.
    """
    counted = pl.col(s.CATEGORY).is_in(s.ABSENCE_CATEGORIES)
    by_day = rows.group_by(s.PUPIL_ID, s.DATE).agg(pl.col(UNITS).filter(counted).sum().alias(_DAY))
    one_day = timedelta(days=1)
    gap_before = pl.col(s.DATE) - pl.col(s.DATE).shift(1).over(s.PUPIL_ID, order_by=s.DATE)
    gap_after = pl.col(s.DATE).shift(-1).over(s.PUPIL_ID, order_by=s.DATE) - pl.col(s.DATE)
    weekday = pl.col(s.DATE).dt.weekday()
    edge = (gap_before.fill_null(one_day) > one_day) | (
        gap_after.fill_null(pl.when(weekday == 5).then(timedelta(days=3)).otherwise(one_day))
        > one_day
    )
    return (
        by_day.with_columns(weekday.alias("_weekday"), edge.alias("_edge"))
        .filter(pl.col(s.DATE).rank("ordinal", descending=True).over(s.PUPIL_ID) <= days)
        .filter(pl.col("_weekday") <= 5)
    )


def patterns(
    frame: pl.LazyFrame,
    *,
    policy: Policy,
    as_of: date,
    days: int = PATTERN_DAYS,
    schools: Sequence[str] | None = None,
    fdr: float = FDR,
    lessons: pl.LazyFrame | None = None,
    classified: pl.LazyFrame | None = None,
    school_days: pl.DataFrame | None = None,
) -> pl.LazyFrame:
    """Absence by weekday and around weekends/holidays, partial days and runs, per pupil.

    Parameters
    ----------
    frame
        The canonical attendance frame.
    policy
        Decides which pupils are listed: those :func:`fravaer.classify.classify` lists (not
        left; of ``schools``).
    as_of
        Rows after it are ignored.
    days
        The pattern window: the pupil's latest ``days`` school days (Monday to Friday only).
    schools
        Only pupils whose latest school is one of these. The false-discovery control runs over
        the pupils listed.
    fdr
        The Benjamini-Hochberg false-discovery level.
    lessons
        The lesson frame of a lesson-level export (:data:`fravaer.lessons.LESSON_SCHEMA`):
        lesson patterns are added (:func:`fravaer.lessons.with_lesson_patterns`). None (a
        day-level export): the result is the day patterns alone.
    classified
        :func:`fravaer.classify.classify` of ``frame`` with ``policy``, ``as_of`` and
        ``schools`` (with or without a national policy), when the caller has it already (the
        early warning, the site): it is not computed again. None: computed here.
    school_days
        Each school's dates (:func:`fravaer.classify.school_dates` of ``frame``) when read
        with the as-of date: the classification computed here reads no row again for them.

    Returns
    -------
    pl.LazyFrame
        Columns :data:`PATTERN_COLUMNS` (with ``lessons``, then the lesson columns of
        :data:`fravaer.lessons.LESSON_PATTERN_COLUMNS`). A day *with absence* is a day with any
        absence. For each weekday and for edge days the test asks whether the pupil's days with
        absence fall on them more often than chance allows given the pupil's own number of days
        with absence (:func:`pattern_tests`); ``weekday_flag`` names the weekdays whose adjusted
        p-value is at most ``fdr``, ``weekday_q`` is the smallest adjusted p-value of the pupil's
        weekdays. Pupils with fewer than :data:`MIN_ABSENT_DAYS` days with absence are not tested
        (empty q). ``flags`` lists the flags raised, separated by ``;``.

    Examples
    --------
    Absent every Wednesday for twelve weeks and never else:

    >>> import polars as pl
    >>> from datetime import date, timedelta
    >>> from fravaer import load_policy
    >>> days = [date(2024, 1, 1) + timedelta(days=i) for i in range(82) if i % 7 < 5]
    >>> wed = [d.weekday() == 2 for d in days]
    >>> frame = pl.LazyFrame(
    ...     {"pupil_id": ["1"] * 60, "school_id": ["A"] * 60, "date": days,
    ...      "category": ["unlawful" if w else "present" for w in wed],
    ...      "absent_fraction": [1.0 if w else 0.0 for w in wed], "grade": [4] * 60,
    ...      "class_name": ["4.B"] * 60},
    ...     schema_overrides={"category": s.CATEGORY_DTYPE, "grade": pl.Int8},
    ... )
    >>> out = patterns(frame, policy=load_policy("aalborg-2023"), as_of=days[-1]).collect()
    >>> out.select("wednesday_pct", "weekday_flag", "flags").row(0)
    (100.0, 'wednesday', 'weekday')
    """
    if classified is None:
        classified = classify(
            frame, policy=policy, as_of=as_of, schools=schools, school_days=school_days
        )
    pupils = classified.select(s.PUPIL_ID, s.SCHOOL_ID, s.CLASS_NAME)
    # Grouped on the id as a categorical, its integer code (exact, cheaper than its text); the
    # id is text again per pupil, before any join, sort or output (docs/performance.md#the-site).
    rows = with_units(
        frame.join(pupils.select(s.PUPIL_ID), on=s.PUPIL_ID, how="semi"), as_of=as_of
    ).with_columns(pl.col(s.PUPIL_ID).cast(pl.Categorical))
    day = _pattern_days(rows, days=days)
    absent = pl.col(_DAY) > 0
    weekday = pl.col("_weekday")
    whole = pl.col(_DAY) >= s.DAY_UNITS
    per_pupil = (
        day.group_by(s.PUPIL_ID)
        .agg(
            pl.len().cast(pl.Int64).alias(s.WINDOW_DAYS),
            absent.sum().cast(pl.Int64).alias(DAYS_WITH_ABSENCE),
            pl.col(_DAY).sum().alias(_UNITS_ABSENT),
            *(
                pl.col(_DAY).filter(weekday == i + 1).sum().alias(f"_u{i}")
                for i in range(len(WEEKDAYS))
            ),
            *(
                (weekday == i + 1).sum().cast(pl.Int64).alias(f"_n{i}")
                for i in range(len(WEEKDAYS))
            ),
            *(
                (absent & (weekday == i + 1)).sum().cast(pl.Int64).alias(f"_k{i}")
                for i in range(len(WEEKDAYS))
            ),
            pl.col("_edge").sum().cast(pl.Int64).alias(EDGE_DAYS),
            (absent & pl.col("_edge")).sum().cast(pl.Int64).alias(EDGE_ABSENT_DAYS),
            (absent & ~whole).sum().cast(pl.Int64).alias(PARTIAL_DAYS),
            longest_run_expr(whole, pl.lit(True)).cast(pl.Int64).alias(LONGEST_RUN),
        )
        .with_columns(pl.col(s.PUPIL_ID).cast(pl.String))
    )
    # The tests and the result both read these rows: computed once, not once per reader (the
    # optimiser's common-subplan elimination shares only the tests' reads;
    # docs/performance.md#the-site).
    per_pupil = per_pupil.cache()
    tested = per_pupil.filter(pl.col(DAYS_WITH_ABSENCE) >= MIN_ABSENT_DAYS)
    big = {"K": pl.col(DAYS_WITH_ABSENCE), "N": pl.col(s.WINDOW_DAYS)}
    counts = pl.concat(
        [
            *(
                tested.select(
                    s.PUPIL_ID,
                    pl.lit(name).alias("test"),
                    pl.lit(i).alias("_order"),
                    pl.col(f"_k{i}").alias("k"),
                    pl.col(f"_n{i}").alias("n"),
                    **big,
                )
                for i, name in enumerate(WEEKDAYS)
            ),
            tested.select(
                s.PUPIL_ID,
                pl.lit(FLAG_EDGE).alias("test"),
                pl.lit(len(WEEKDAYS)).alias("_order"),
                pl.col(EDGE_ABSENT_DAYS).alias("k"),
                pl.col(EDGE_DAYS).alias("n"),
                **big,
            ),
        ]
    ).filter(pl.col("n") > 0)
    tests = pattern_tests(counts)
    is_weekday = pl.col("test") != FLAG_EDGE
    significant = pl.col("q") <= fdr
    verdicts = tests.group_by(s.PUPIL_ID).agg(
        pl.col("test")
        .filter(is_weekday & significant)
        .sort_by(pl.col("_order").filter(is_weekday & significant))
        .str.join(",")
        .alias(WEEKDAY_FLAG),
        pl.col("q").filter(is_weekday).min().alias(WEEKDAY_Q),
        pl.col("q").filter(~is_weekday).min().alias(EDGE_Q),
    )
    flag_parts = [
        pl.when(pl.col(WEEKDAY_FLAG) != "").then(pl.lit(FLAG_WEEKDAY)),
        pl.when(pl.col(EDGE_FLAG)).then(pl.lit(FLAG_EDGE)),
        pl.when(pl.col(PARTIAL_FLAG)).then(pl.lit(FLAG_PARTIAL)),
        pl.when(pl.col(RUN_FLAG)).then(pl.lit(FLAG_RUN)),
    ]
    found = (
        pupils.join(per_pupil, on=s.PUPIL_ID, how="left")
        .join(verdicts, on=s.PUPIL_ID, how="left")
        .with_columns(
            pl.lit(as_of, dtype=pl.Date).alias(s.AS_OF),
            pct_expr(pl.col(_UNITS_ABSENT), pl.col(s.WINDOW_DAYS)).alias(s.ABSENCE_PCT),
            *(
                pct_expr(pl.col(f"_u{i}"), pl.col(f"_n{i}")).alias(WEEKDAY_PCT[name])
                for i, name in enumerate(WEEKDAYS)
            ),
            pl.col(WEEKDAY_FLAG).fill_null(""),
            (pl.col(EDGE_Q) <= fdr).fill_null(False).alias(EDGE_FLAG),
            (pl.col(PARTIAL_DAYS) >= PARTIAL_DAYS_FLAG).fill_null(False).alias(PARTIAL_FLAG),
            (pl.col(LONGEST_RUN) >= RUN_DAYS_FLAG).fill_null(False).alias(RUN_FLAG),
        )
        .with_columns(pl.concat_str(flag_parts, separator=";", ignore_nulls=True).alias(FLAGS))
        .select(PATTERN_COLUMNS)
    )
    if lessons is not None:
        # Imported here: fravaer.lessons builds on this module's tests and columns.
        from fravaer.lessons import with_lesson_patterns

        window = day.select(pl.col(s.PUPIL_ID).cast(pl.String), s.DATE)
        found = with_lesson_patterns(found, lessons, window=window, fdr=fdr)
    return found.sort(s.SCHOOL_ID, s.PUPIL_ID)


# -- projection and early warning ------------------------------------------------------------------


def pct_thresholds(policy: Policy) -> list[tuple[int, Decimal]]:
    """The steps that are a single threshold on a percent primary rule, with their threshold.

    These are the lines a chart of the primary window's % can draw (Aalborg: 10, 15 and 20).

    >>> from fravaer import load_policy
    >>> pct_thresholds(load_policy("aalborg-2023"))
    [(1, Decimal('10')), (2, Decimal('15')), (3, Decimal('20'))]
    """
    if policy.primary.measure != "percent":
        return []
    return [
        (step.step, step.when.at_least)
        for step in policy.steps
        if isinstance(step.when, Threshold) and step.when.rule == policy.primary_rule
    ]


def first_threshold(policy: Policy) -> Decimal:
    """The percentage the early warning projects towards.

    Step 1's threshold when step 1 is a single threshold on a percent primary rule (Aalborg: 10);
    otherwise 10, the first threshold of the Aalborg guideline and the national rule
    (docs/policies.md).

    >>> from fravaer import load_policy
    >>> first_threshold(load_policy("odense")), first_threshold(load_policy("slagelse"))
    (Decimal('10'), Decimal('10'))
    """
    lines = dict(pct_thresholds(policy))
    return lines.get(policy.steps[0].step, Decimal(10))


def future_school_days(frame: pl.LazyFrame, *, as_of: date, horizon: int) -> pl.LazyFrame:
    """Each school's next ``horizon`` school days after ``as_of``, as projected.

    Future dates are not in an export, so they are projected: the weekdays on which the school
    had registrations in its latest :data:`SCHOOL_WEEKDAY_DAYS` school days up to ``as_of``,
    minus Danish public holidays (:func:`fravaer.calendar.public_holidays`). School breaks
    (autumn, Christmas, winter) are not known in advance and count as school days, so a
    projected date across a break comes early, never late. Columns ``school_id``, ``_j``
    (1 = the next school day) and ``date``.
    """
    span = timedelta(days=7 * horizon + 14)
    closed = public_holidays(as_of.year, (as_of + span).year)
    candidates = [
        as_of + timedelta(days=i)
        for i in range(1, span.days + 1)
        if as_of + timedelta(days=i) not in closed
    ]
    calendar = pl.LazyFrame({s.DATE: candidates}, schema={s.DATE: pl.Date}).with_columns(
        pl.col(s.DATE).dt.weekday().alias("_weekday")
    )
    school_dates = frame.filter(pl.col(s.DATE) <= as_of).select(s.SCHOOL_ID, s.DATE).unique()
    weekdays = (
        school_dates.filter(
            pl.col(s.DATE).rank("dense", descending=True).over(s.SCHOOL_ID) <= SCHOOL_WEEKDAY_DAYS
        )
        .select(s.SCHOOL_ID, pl.col(s.DATE).dt.weekday().alias("_weekday"))
        .unique()
    )
    return (
        weekdays.join(calendar, on="_weekday")
        .with_columns(pl.col(s.DATE).rank("ordinal").over(s.SCHOOL_ID).cast(pl.Int64).alias(_J))
        .filter(pl.col(_J) <= horizon)
        .select(s.SCHOOL_ID, _J, s.DATE)
    )


def projection(
    frame: pl.LazyFrame,
    *,
    policy: Policy,
    as_of: date,
    horizon: int = HORIZON_DAYS,
    pupils: Sequence[str] | None = None,
) -> pl.LazyFrame:
    """When each pupil's primary-window % would reach :func:`first_threshold` at the recent rate.

    The pupil's next school days are assumed to bring, each, the average absence of the pupil's
    latest :data:`RECENT_DAYS` school days; the window of the primary rule rolls on (its oldest
    days drop out). The crossing is the first of the next ``horizon`` school days on which the
    window % is at least the threshold (exactly) with at least ``min_school_days`` days in it.
    Needs a primary rule over school days; with any other window nothing is projected.

    Returns
    -------
    pl.LazyFrame
        ``pupil_id, recent_pct, _recent_high, projected_school_days, projected_date`` for every
        pupil; ``_recent_high`` tells whether the recent rate is at or above the threshold
        (exactly); the last two are empty when the threshold is not reached within the horizon.
        With ``pupils``, only those pupils (each pupil's projection is the same either way: the
        schools' future days still come from every row).
    """
    window = policy.primary.window.school_days
    threshold = first_threshold(policy)
    # The id as a categorical while grouping (as in patterns); text again in the result.
    rows = with_units(_of_pupils(frame, pupils), as_of=as_of).with_columns(
        pl.col(s.PUPIL_ID).cast(pl.Categorical)
    )
    counted = pl.col(s.CATEGORY).is_in(policy.primary.categories)
    by_day = rows.group_by(s.PUPIL_ID, s.DATE).agg(
        pl.col(UNITS).filter(counted).sum().alias(_DAY), pl.col(s.SCHOOL_ID).max()
    )
    reach = max(window or 0, RECENT_DAYS)
    ranked = (
        by_day.with_columns(
            pl.col(s.DATE).rank("ordinal", descending=True).over(s.PUPIL_ID).alias(_RANK)
        )
        .filter(pl.col(_RANK) <= reach)
        .with_columns(pl.col(_DAY).cum_sum().over(s.PUPIL_ID, order_by=_RANK).alias(_CUM))
        # Read twice below (the pupils' sums and the crossing's join): computed once (the
        # optimiser's common-subplan elimination does not find them; docs/performance.md#the-site).
        .cache()
    )
    cum = ranked.select(s.PUPIL_ID, _RANK, _CUM)
    recent_days = pl.min_horizontal(pl.len(), RECENT_DAYS).cast(pl.Int64)
    per_pupil = ranked.group_by(s.PUPIL_ID).agg(
        pl.len().cast(pl.Int64).alias(_N),  # school days so far, up to `reach`
        recent_days.alias("_r"),
        pl.col(_CUM).filter(pl.col(_RANK) == recent_days).first().alias("_ur"),
        pl.col(s.SCHOOL_ID).filter(pl.col(_RANK) == 1).first().alias(s.SCHOOL_ID),
    )
    pupil_id = pl.col(s.PUPIL_ID).cast(pl.String)  # the result's id is text again
    recent_pct = pct_expr(pl.col("_ur"), pl.col("_r")).alias(RECENT_PCT)
    recent_high = at_least_pct_expr(pl.col("_ur"), pl.col("_r"), threshold).alias(_RECENT_HIGH)
    if window is None:
        return per_pupil.select(
            pupil_id,
            recent_pct,
            recent_high,
            pl.lit(None, dtype=pl.Int64).alias(PROJECTED_DAYS),
            pl.lit(None, dtype=pl.Date).alias(PROJECTED_DATE),
        )
    steps = pl.LazyFrame({_J: list(range(1, horizon + 1))}, schema={_J: pl.Int64})
    j, n, r, ur = pl.col(_J), pl.col(_N), pl.col("_r"), pl.col("_ur")
    window_days = pl.min_horizontal(n + j, window)  # days in the window j days from now
    future = pl.min_horizontal(j, window)  # of which future days
    past = window_days - future  # the newest past days still in the window
    crossing = (
        per_pupil.join(steps, how="cross")
        .with_columns(past.alias(_RANK), window_days.alias("_d"), future.alias("_f"))
        .join(cum, on=[s.PUPIL_ID, _RANK], how="left")
        .with_columns(pl.col(_CUM).fill_null(0))  # no past day left in the window
        .filter(
            (pl.col("_d") >= policy.min_school_days)
            & at_least_pct_expr(
                pl.col(_CUM) * r + pl.col("_f") * ur,
                pl.col("_d") * r,
                threshold,
            )
        )
        .group_by(s.PUPIL_ID)
        .agg(pl.col(_J).min().alias(PROJECTED_DAYS))
    )
    dates = future_school_days(frame, as_of=as_of, horizon=horizon)
    return (
        per_pupil.join(crossing, on=s.PUPIL_ID, how="left")
        .join(
            dates.rename({_J: PROJECTED_DAYS, s.DATE: PROJECTED_DATE}),
            on=[s.SCHOOL_ID, PROJECTED_DAYS],
            how="left",
        )
        .select(pupil_id, recent_pct, recent_high, PROJECTED_DAYS, PROJECTED_DATE)
    )


def early_warning(
    frame: pl.LazyFrame,
    *,
    policy: Policy,
    as_of: date,
    horizon: int = HORIZON_DAYS,
    schools: Sequence[str] | None = None,
    fdr: float = FDR,
    lessons: pl.LazyFrame | None = None,
    school_days: pl.DataFrame | None = None,
) -> pl.LazyFrame:
    """Pupils below step 1 today with a flagged pattern, a rising trend or a projected crossing.

    The pupils are those :func:`fravaer.classify.classify` places on step 0 (not those with too
    few school days, nor left pupils). Reasons, separated by ``;``: ``pattern`` (any flag of
    :func:`patterns`), ``rising`` (:func:`direction` is rising *and* the recent rate of
    :func:`projection` is at or above :func:`first_threshold`: a rise from 2 % to 3 % is no
    warning) and ``projected`` (:func:`projection` crosses within ``horizon`` school days).
    With ``lessons``, the lesson frame of a lesson-level export, a lesson pattern is a pattern
    too (:func:`patterns` with ``lessons``). ``school_days``: each school's dates, read with
    the as-of date (:func:`fravaer.classify.classify`).

    Returns
    -------
    pl.LazyFrame
        Columns :data:`EARLY_WARNING_COLUMNS` (with ``lessons``, then the lesson columns of
        :data:`fravaer.lessons.LESSON_PATTERN_COLUMNS`), sorted by the projected crossing
        (soonest first), then school and pupil.
    """
    classified = classify(
        frame, policy=policy, as_of=as_of, schools=schools, school_days=school_days
    )
    # classify once: the patterns take this one rather than classifying again.
    found = patterns(
        frame,
        policy=policy,
        as_of=as_of,
        schools=schools,
        fdr=fdr,
        classified=classified,
        lessons=lessons,
    )
    return early_warning_of(
        classified,
        found=found,
        moving=direction(frame, policy=policy, as_of=as_of, pupils=below_step_1(classified)),
        projected=projection(frame, policy=policy, as_of=as_of, horizon=horizon),
    )


def below_step_1(classified: pl.LazyFrame) -> pl.LazyFrame:
    """The pupils the early warning looks at: ``classify``'s rows at step 0."""
    return classified.filter(pl.col(s.STEP) == 0).select(
        s.PUPIL_ID, s.SCHOOL_ID, s.CLASS_NAME, s.AS_OF, s.ABSENCE_PCT, s.STEP
    )


def early_warning_candidates(
    classified: pl.LazyFrame, *, found: pl.LazyFrame, projected: pl.LazyFrame
) -> pl.LazyFrame:
    """The pupils :func:`early_warning_of` may list, whatever their direction (``pupil_id``).

    A pupil below step 1 is listed for a flagged pattern, a projected crossing, or a rising
    trend with a recent rate at the threshold: without a flag, a crossing or that recent rate,
    the direction cannot list the pupil. So a caller that has ``found`` and ``projected``
    needs :func:`direction` of these pupils only (the site); the early warning is the same.
    """
    flagged = found.filter(pl.col(FLAGS) != "").select(s.PUPIL_ID)
    near = projected.filter(pl.col(PROJECTED_DAYS).is_not_null() | pl.col(_RECENT_HIGH))
    return (
        below_step_1(classified)
        .select(s.PUPIL_ID)
        .join(pl.concat([flagged, near.select(s.PUPIL_ID)]).unique(), on=s.PUPIL_ID, how="semi")
    )


def early_warning_of(
    classified: pl.LazyFrame,
    *,
    found: pl.LazyFrame,
    moving: pl.LazyFrame,
    projected: pl.LazyFrame,
) -> pl.LazyFrame:
    """:func:`early_warning` from its parts, each computed once by a caller that shares them.

    ``classified`` is :func:`fravaer.classify.classify`'s result (with or without a national
    policy), ``found`` :func:`patterns`' of the same pupils, ``moving`` :func:`direction`'s of
    (at least) the pupils of :func:`early_warning_candidates`, ``projected``
    :func:`projection`'s; all with the same frame, policy and as-of date. The site computes
    each once for all its pages.
    """
    # Imported here: fravaer.lessons builds on this module's tests and columns.
    from fravaer.lessons import lesson_columns

    below = below_step_1(classified)
    carried = lesson_columns(found)  # a lesson-level export's lesson pattern, as patterns has it
    found = found.select(s.PUPIL_ID, FLAGS, WEEKDAY_FLAG, PARTIAL_DAYS, LONGEST_RUN, *carried)
    moving = moving.select(s.PUPIL_ID, PCT_BEFORE, DIRECTION)
    reasons = [
        pl.when(pl.col(FLAGS) != "").then(pl.lit(REASON_PATTERN)),
        pl.when((pl.col(DIRECTION) == RISING) & pl.col(_RECENT_HIGH)).then(pl.lit(REASON_RISING)),
        pl.when(pl.col(PROJECTED_DAYS).is_not_null()).then(pl.lit(REASON_PROJECTED)),
    ]
    return (
        below.join(found, on=s.PUPIL_ID, how="left")
        .join(moving, on=s.PUPIL_ID, how="left")
        .join(projected, on=s.PUPIL_ID, how="left")
        .with_columns(
            pl.col(FLAGS).fill_null(""),
            pl.concat_str(reasons, separator=";", ignore_nulls=True).alias(REASONS),
        )
        .filter(pl.col(REASONS) != "")
        .select(*EARLY_WARNING_COLUMNS, *carried)
        .sort(PROJECTED_DAYS, s.SCHOOL_ID, s.PUPIL_ID, nulls_last=True)
    )
