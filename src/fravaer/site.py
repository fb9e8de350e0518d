"""Every figure of ``fravaer site`` (docs/site.md), for all pupils at once, as lazy plans.

The site is pages for the people who act: the municipality, each school, and a dossier per
pupil on a school's list. None of its figures is computed here a second time: each plan is the
one the matching command runs — :func:`fravaer.classify.classify`, :func:`fravaer.stats.stats`
and :func:`fravaer.stats.freshness`, :func:`fravaer.trend.trend`, :func:`fravaer.trend.direction`,
:func:`fravaer.trend.patterns` and :func:`fravaer.trend.early_warning` — so a page and the
command give the same numbers.

Each figure is computed once and shared between the pages that show it (docs/site.md#speed), in
rounds that :func:`fravaer.pages.collect_site` collects from the run's classification
(``classify`` with the national policy, for the quarter rule; the municipal figures are the
same without it, so the patterns and the early warning take it as theirs): what needs its
pupils (:func:`site`: the patterns, the early warning's projection, the listed pupils' weekly
series, the statistics); then the direction of the pupils the early warning may list
(:func:`site_candidates`, :func:`site_direction`); then what is put together from those
(:func:`site_shown`: the early warning, the trends and their directions). Like the rest of the
core this module reads no files and no clock.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import date
from typing import Final

import polars as pl

from fravaer import schema as s
from fravaer.meeting import weekday_absence
from fravaer.policy import Policy
from fravaer.stats import MUNICIPALITY, Period, freshness, parse_period, stats
from fravaer.trend import (
    DIRECTION,
    HORIZON_DAYS,
    PCT_BEFORE,
    WEEKS_BACK,
    direction,
    direction_of,
    early_warning_candidates,
    early_warning_of,
    patterns,
    projection,
    trend_of,
    weekly_series,
)

SITE_WEEKS: Final = 12
"""The dossier's trend covers the pupil's latest 12 school weeks (as ``fravaer trend``); its
direction compares fewer (:data:`fravaer.trend.DIRECTION_WEEKS`), so one series gives both."""


AGENDA_STEP: Final = 2
"""The agenda of a school's Samrum / fraværskonference holds its pupils from this step up
(docs/site.md#the-agenda-for-samrum): from step 2 a case has a coordinator, and Aalborg's
guideline takes it to Samrum with PPR."""

RISE: Final = "rise"
"""Percentage points the pupil's absence % rose over :func:`fravaer.trend.direction`'s school
weeks (the % now minus ``pct_before``; negative when it fell, empty when unknown)."""

PUPILS_WARN: Final = "pupils_warn_parents"
PUPILS_NOTIFY: Final = "pupils_notify_municipality"
"""Pupils the national quarter rule flags ``warn_parents`` or ``notify_municipality``."""

QUARTER_CUTS: Final = (10, 1, 4)
"""The months whose first day starts a new part of the school year on the municipality's
trend: the calendar quarters, with the summer month of July kept in the spring's part."""


def listed_expr() -> pl.Expr:
    """A pupil on the school's list: at step 1 or higher, or flagged by the quarter rule.

    The same pupils as the table view of ``fravaer classify`` lists (docs/classify.md).
    """
    return (pl.col(s.STEP) >= 1).fill_null(False) | pl.col(s.QUARTER_FLAG).is_in(
        [s.FLAG_WARN, s.FLAG_NOTIFY]
    ).fill_null(False)


def listed_of(classified: pl.LazyFrame) -> pl.LazyFrame:
    """``classify``'s rows of the listed pupils (:func:`listed_expr`), by school, step and %."""
    return classified.filter(listed_expr()).sort(
        s.SCHOOL_ID, s.STEP, s.ABSENCE_PCT, s.PUPIL_ID, descending=[False, True, True, False]
    )


@dataclass(frozen=True)
class SitePlans:
    """The plans that need the classification's pupils, :meth:`named`; collected together."""

    listed: pl.LazyFrame
    """``classify``'s rows of the listed pupils (:func:`listed_expr`), by school, step, %."""
    patterns: pl.LazyFrame
    """``patterns`` of every pupil (the false-discovery control runs over all of them)."""
    projection: pl.LazyFrame
    """``projection`` of the pupils at step 0 (a part of the early warning, which lists no
    other pupil)."""
    series: pl.LazyFrame
    """``weekly_series`` of the listed pupils: their trends and directions."""
    schools: pl.LazyFrame
    """:func:`year_and_parts`: ``stats --by school`` for the period, then for each part of the
    school year so far, not suppressed (the caller suppresses them together)."""
    classes: pl.LazyFrame
    """``stats --by class`` for the period, not suppressed (a school's own page)."""
    grades: pl.LazyFrame
    """``stats --by school,grade`` for the period, not suppressed (a school's own page)."""
    freshness: pl.LazyFrame
    """``freshness``: each school's latest registration."""
    weekdays: pl.LazyFrame
    """The meeting sheet's absent days per weekday in each listed pupil's window
    (:func:`fravaer.meeting.weekday_absence`, as ``escalate``'s sheets)."""

    def named(self) -> dict[str, pl.LazyFrame]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass(frozen=True)
class SiteFrames:
    """The site's figures, collected: what the pages show."""

    listed: pl.DataFrame
    patterns: pl.DataFrame
    early_warning: pl.DataFrame
    schools: pl.DataFrame
    classes: pl.DataFrame
    grades: pl.DataFrame
    freshness: pl.DataFrame
    periods: pl.DataFrame
    weekdays: pl.DataFrame
    trend: pl.DataFrame
    direction: pl.DataFrame
    flags: pl.DataFrame
    """:func:`quarter_flag_counts` of ``listed``."""
    agenda: pl.DataFrame
    """:func:`agenda` of ``listed``, ``direction`` and ``patterns``."""


@dataclass(frozen=True)
class Changes:
    """What a school's page compares with, and ``escalate``'s rows against it."""

    rows: pl.DataFrame
    """:func:`fravaer.escalate.escalate`'s rows: escalations, then improvements."""
    reference_as_of: date | None
    """The date compared with; None: a first run, every pupil compared with step 0."""
    state: bool
    """Compared with the state file's previous run (``--state``), not a date (``--since``)."""


def site(
    frame: pl.LazyFrame,
    *,
    classified: pl.LazyFrame,
    listed: Sequence[str],
    below: Sequence[str] | None = None,
    policy: Policy,
    as_of: date,
    period: Period,
    horizon: int = HORIZON_DAYS,
    parts: int = 1,
    lessons: pl.LazyFrame | None = None,
    school_days: pl.DataFrame | None = None,
) -> SitePlans:
    """The plans of every figure the site shows that needs the classification's pupils.

    ``classified`` is :func:`fravaer.classify.classify`'s result; ``listed`` the ids of its
    listed pupils (:func:`listed_expr`); ``below`` the ids of its pupils at step 0, the only
    ones the early warning looks at (:func:`fravaer.trend.below_step_1`), whose projection is
    all it needs (None: every pupil's). Given as a list of ids
    the pupils filter the rows before anything is measured, where a lazy list of pupils would
    be joined after (docs/site.md#speed).

    Parameters
    ----------
    frame
        The canonical attendance frame.
    policy
        The guideline.
    as_of
        The day of the figures; rows after it are ignored.
    period
        The period of the school and class statistics (usually the school year of ``as_of``).
    horizon
        The early warning's horizon in school days.
    parts
        Buckets of pupils for the statistics (see :func:`fravaer.classify.parts_for`).
    lessons
        The lesson frame of a lesson-level export: ``patterns`` then has the lesson columns
        (as ``fravaer patterns`` on that export), and the dossier says the lesson finding.
    school_days
        Each school's dates (:func:`fravaer.classify.school_dates` of ``frame``), read with the
        as-of date: the statistics' classifications and the freshness read them instead of the
        rows.

    Examples
    --------
    >>> from datetime import timedelta
    >>> from fravaer import load_policy
    >>> from fravaer.stats import parse_period
    >>> days = [date(2024, 1, 1) + timedelta(days=i) for i in range(26) if i % 7 < 5]
    >>> frame = pl.LazyFrame(
    ...     {"pupil_id": ["1"] * 20, "school_id": ["A"] * 20, "date": days,
    ...      "category": ["illness"] * 4 + ["present"] * 16,
    ...      "absent_fraction": [1.0] * 4 + [0.0] * 16, "grade": [4] * 20,
    ...      "class_name": ["4.B"] * 20},
    ...     schema_overrides={"category": s.CATEGORY_DTYPE, "grade": pl.Int8},
    ... )
    >>> policy = load_policy("aalborg-2023")
    >>> from fravaer.classify import classify
    >>> classified = classify(frame, policy=policy, as_of=days[-1]).collect()
    >>> plans = site(frame, classified=classified.lazy(), listed=["1"], policy=policy,
    ...              as_of=days[-1], period=parse_period("2023/24"))
    >>> plans.listed.collect().select("pupil_id", "absence_pct", "step").row(0)
    ('1', 20.0, 3)
    """
    listed_rows = listed_of(classified)
    windows = listed_rows.select(s.PUPIL_ID, s.WINDOW_START)
    rows = frame.filter(pl.col(s.PUPIL_ID).is_in(list(listed)))

    def by(keys: list[str]) -> pl.LazyFrame:
        return stats(
            frame,
            by=keys,
            periods=[period],
            as_of=as_of,
            policy=policy,
            parts=parts,
            classified=classified,
            school_days=school_days,
        )

    return SitePlans(
        listed=listed_rows,
        patterns=patterns(
            frame, policy=policy, as_of=as_of, classified=classified, lessons=lessons
        ),
        projection=projection(frame, policy=policy, as_of=as_of, horizon=horizon, pupils=below),
        series=weekly_series(frame, policy=policy, as_of=as_of, weeks=SITE_WEEKS, pupils=listed),
        schools=year_and_parts(
            frame,
            policy=policy,
            as_of=as_of,
            year=period,
            parts=parts,
            classified=classified,
            school_days=school_days,
        ),
        classes=by([s.SCHOOL_ID, s.CLASS_NAME]),
        grades=by([s.SCHOOL_ID, s.GRADE]),
        freshness=freshness(frame, as_of=as_of, school_days=school_days),
        weekdays=weekday_absence(rows, windows, categories=policy.primary.categories, as_of=as_of),
    )


def site_candidates(classified: pl.LazyFrame, collected: SitePlans) -> pl.LazyFrame:
    """The third round: the early warning's pupils whose direction it needs
    (:func:`fravaer.trend.early_warning_candidates`), from :func:`site`'s plans collected."""
    return early_warning_candidates(
        classified, found=collected.patterns, projected=collected.projection
    )


def site_direction(
    frame: pl.LazyFrame, *, policy: Policy, as_of: date, pupils: Sequence[str]
) -> pl.LazyFrame:
    """``direction`` of ``pupils``: the early warning's candidates (two points each)."""
    return direction(frame, policy=policy, as_of=as_of, pupils=pupils)


def site_shown(
    classified: pl.LazyFrame, collected: SitePlans, *, moving: pl.LazyFrame
) -> dict[str, pl.LazyFrame]:
    """The last round, from :func:`site`'s plans collected (as lazy frames again) and the
    candidates' ``moving`` (:func:`site_direction`): the early warning (``early-warning``'s
    figures from the shared parts), and the listed pupils' ``trend`` and ``direction``, both
    from their one weekly series."""
    return {
        "early_warning": early_warning_of(
            classified,
            found=collected.patterns,
            moving=moving,
            projected=collected.projection,
        ),
        "trend": trend_of(collected.series),
        "direction": direction_of(collected.series),
    }


# -- the municipality's trend and quarter rule ----------------------------------------------------


def school_year_parts(year: Period, *, as_of: date) -> list[Period]:
    """The parts of ``year`` on the municipality's trend that start on or before ``as_of``.

    The calendar quarters cut to the school year (August–September, October–December,
    January–March, April–July: July, the summer holiday, stays with the spring), as ranges
    that ``fravaer stats --period`` reads. They cover the year's weekdays one for one, so
    :func:`fravaer.stats.suppress` protects them together with the year
    (docs/stats.md#small-cell-suppression).

    >>> from fravaer.stats import school_year
    >>> [p.label for p in school_year_parts(school_year(2023), as_of=date(2024, 3, 8))]
    ['2023-08-01:2023-09-30', '2023-10-01:2023-12-31', '2024-01-01:2024-03-31']
    """
    starts = [year.start]
    day = year.start.replace(day=1)
    while True:
        day = date(day.year + day.month // 12, day.month % 12 + 1, 1)
        if day > year.end:
            break
        if day.month in QUARTER_CUTS:
            starts.append(day)
    ends = [*(date.fromordinal(d.toordinal() - 1) for d in starts[1:]), year.end]
    return [
        parse_period(f"{a.isoformat()}:{b.isoformat()}")
        for a, b in zip(starts, ends, strict=True)
        if a <= as_of
    ]


def year_and_parts(
    frame: pl.LazyFrame,
    *,
    policy: Policy,
    as_of: date,
    year: Period,
    parts: int = 1,
    classified: pl.LazyFrame | None = None,
    school_days: pl.DataFrame | None = None,
) -> pl.LazyFrame:
    """``fravaer stats --by school`` over ``year`` and then over each of
    :func:`school_year_parts` of ``year`` (the trend of the municipality's page), in one table,
    not suppressed (the caller suppresses them together). As one plan, the year and its parts
    share one month level (:func:`fravaer.stats.stats`).

    ``classified``: the site's classification at ``as_of``, which the year and the part that
    run to ``as_of`` take their steps from (as :func:`fravaer.stats.stats` does); the earlier
    parts classify at their ends (``school_days``: as :func:`fravaer.stats.stats`)."""
    return stats(
        frame,
        by=[s.SCHOOL_ID],
        periods=[year, *school_year_parts(year, as_of=as_of)],
        as_of=as_of,
        policy=policy,
        parts=parts,
        classified=classified,
        school_days=school_days,
    )


def quarter_flag_counts(listed: pl.LazyFrame) -> pl.LazyFrame:
    """Per school, then for the municipality (``school_id`` empty, ``_municipality`` true), the
    pupils the national quarter rule flags: ``pupils_warn_parents`` (10 % or more unlawful
    absence in the quarter) and ``pupils_notify_municipality`` (15 %), as ``classify`` flags
    them. ``listed`` is :func:`listed_of` (every flagged pupil is on it).

    >>> rows = pl.LazyFrame({"school_id": ["A", "A", "B"],
    ...     "quarter_flag": ["warn_parents", "none", "notify_municipality"]})
    >>> quarter_flag_counts(rows).collect().rows()
    [('A', 1, 0, False), ('B', 0, 1, False), (None, 1, 1, True)]
    """
    flag = pl.col(s.QUARTER_FLAG).cast(pl.String)
    counts = [
        (flag == s.FLAG_WARN).sum().cast(pl.Int64).alias(PUPILS_WARN),
        (flag == s.FLAG_NOTIFY).sum().cast(pl.Int64).alias(PUPILS_NOTIFY),
    ]
    schools = (
        listed.group_by(s.SCHOOL_ID).agg(counts).with_columns(pl.lit(False).alias(MUNICIPALITY))
    )
    total = listed.select(counts).with_columns(
        pl.lit(None, dtype=pl.String).alias(s.SCHOOL_ID), pl.lit(True).alias(MUNICIPALITY)
    )
    columns = [s.SCHOOL_ID, PUPILS_WARN, PUPILS_NOTIFY, MUNICIPALITY]
    return pl.concat([schools.sort(s.SCHOOL_ID).select(columns), total.select(columns)])


# -- a school's agenda ---------------------------------------------------------------------------


_SHARED_WITH_CLASSIFY: Final = (s.SCHOOL_ID, s.CLASS_NAME, s.AS_OF, s.WINDOW_DAYS, s.ABSENCE_PCT)
"""The columns of ``patterns`` that ``classify`` has too (with ``classify``'s meaning kept)."""


def agenda_expr(*, min_step: int = AGENDA_STEP) -> pl.Expr:
    """A pupil on the agenda: at ``min_step`` or higher, or flagged for notifying the
    municipality by the quarter rule."""
    return (pl.col(s.STEP) >= min_step).fill_null(False) | (
        pl.col(s.QUARTER_FLAG).cast(pl.String) == s.FLAG_NOTIFY
    ).fill_null(False)


def agenda(
    listed: pl.LazyFrame,
    moved: pl.LazyFrame,
    found: pl.LazyFrame,
    *,
    min_step: int = AGENDA_STEP,
) -> pl.LazyFrame:
    """The agenda of each school's Samrum / fraværskonference: the pupils to discuss, in order.

    The listed pupils of :func:`agenda_expr`, with their direction (``moved``:
    :func:`fravaer.trend.direction`), their :data:`RISE` and their patterns (``found``:
    :func:`fravaer.trend.patterns`), ordered by school, then step (highest first), then rise
    (largest first, unknown last), then pupil id.

    >>> listed = pl.LazyFrame({"pupil_id": ["1", "2", "3", "4"], "school_id": "A",
    ...     "step": [2, 3, 2, 1], "absence_pct": [16.0, 21.0, 18.0, 11.0],
    ...     "quarter_flag": ["none", "none", "none", "notify_municipality"]})
    >>> moved = pl.LazyFrame({"pupil_id": ["1", "2", "3", "4"],
    ...     "pct_before": [10.0, 22.0, 17.0, 9.0], "weeks_back": 3,
    ...     "direction": ["rising", "falling", "flat", "rising"]})
    >>> found = pl.LazyFrame({"pupil_id": ["1", "2", "3", "4"], "flags": ["", "", "run", ""]})
    >>> agenda(listed, moved, found).collect().select("pupil_id", "step", "rise").rows()
    [('2', 3, -1.0), ('1', 2, 6.0), ('3', 2, 1.0), ('4', 1, 2.0)]
    """
    patterns_of = found.select(pl.exclude(*_SHARED_WITH_CLASSIFY))
    moves = moved.select(s.PUPIL_ID, PCT_BEFORE, WEEKS_BACK, DIRECTION)
    return (
        listed.filter(agenda_expr(min_step=min_step))
        .join(moves, on=s.PUPIL_ID, how="left")
        .join(patterns_of, on=s.PUPIL_ID, how="left")
        .with_columns((pl.col(s.ABSENCE_PCT) - pl.col(PCT_BEFORE)).alias(RISE))
        .sort(
            [s.SCHOOL_ID, s.STEP, RISE, s.PUPIL_ID],
            descending=[False, True, True, False],
            nulls_last=True,
        )
    )
