"""Every figure of ``fravaer site`` (docs/site.md), for all pupils at once, as lazy plans.

The site is pages for the people who act: the municipality, each school, and a dossier per
pupil on a school's list. None of its figures is computed here a second time: each plan is the
one the matching command runs — :func:`fravaer.classify.classify`, :func:`fravaer.stats.stats`
and :func:`fravaer.stats.freshness`, :func:`fravaer.trend.trend`, :func:`fravaer.trend.direction`,
:func:`fravaer.trend.patterns` and :func:`fravaer.trend.early_warning` — so a page and the
command give the same numbers. The plans are collected together by
:func:`fravaer.pages.collect_site` and rendered by :mod:`fravaer.pages`; like the rest of the core
this module reads no files and no clock.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import date
from typing import Final

import polars as pl

from fravaer import schema as s
from fravaer.classify import classify
from fravaer.meeting import weekday_absence
from fravaer.policy import Policy
from fravaer.stats import Period, freshness, stats
from fravaer.trend import HORIZON_DAYS, direction, early_warning, patterns, trend

SITE_WEEKS: Final = 12
"""The dossier's trend covers the pupil's latest 12 school weeks (as ``fravaer trend``)."""


def listed_expr() -> pl.Expr:
    """A pupil on the school's list: at step 1 or higher, or flagged by the quarter rule.

    The same pupils as the table view of ``fravaer classify`` lists (docs/classify.md).
    """
    return (pl.col(s.STEP) >= 1).fill_null(False) | pl.col(s.QUARTER_FLAG).is_in(
        [s.FLAG_WARN, s.FLAG_NOTIFY]
    ).fill_null(False)


@dataclass(frozen=True)
class SitePlans:
    """The lazy plans behind the pages that need no list of pupils, :meth:`named`."""

    listed: pl.LazyFrame
    """``classify``'s rows of the listed pupils (:func:`listed_expr`), by school, step, %."""
    patterns: pl.LazyFrame
    """``patterns`` of every pupil (the false-discovery control runs over all of them)."""
    early_warning: pl.LazyFrame
    """``early-warning``: pupils below step 1 to act on now."""
    schools: pl.LazyFrame
    """``stats --by school`` for the period, not suppressed (the caller suppresses)."""
    classes: pl.LazyFrame
    """``stats --by class`` for the period, not suppressed (a school's own page)."""
    grades: pl.LazyFrame
    """``stats --by school,grade`` for the period, not suppressed (a school's own page)."""
    freshness: pl.LazyFrame
    """``freshness``: each school's latest registration."""

    def named(self) -> dict[str, pl.LazyFrame]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass(frozen=True)
class PupilPlans:
    """The plans of the listed pupils' own pages, given their ids."""

    trend: pl.LazyFrame
    """``trend`` of the pupils: one row per pupil per school week."""
    direction: pl.LazyFrame
    """``direction`` of the pupils (for the sentence for parents)."""
    weekdays: pl.LazyFrame
    """The meeting sheet's absent days per weekday in each pupil's window
    (:func:`fravaer.meeting.weekday_absence`, as ``escalate``'s sheets)."""


@dataclass(frozen=True)
class SiteFrames:
    """:class:`SitePlans` and :class:`PupilPlans` collected, field by field."""

    listed: pl.DataFrame
    patterns: pl.DataFrame
    early_warning: pl.DataFrame
    schools: pl.DataFrame
    classes: pl.DataFrame
    grades: pl.DataFrame
    freshness: pl.DataFrame
    trend: pl.DataFrame
    direction: pl.DataFrame
    weekdays: pl.DataFrame


def site(
    frame: pl.LazyFrame,
    *,
    policy: Policy,
    national: Policy | None,
    as_of: date,
    period: Period,
    horizon: int = HORIZON_DAYS,
    parts: int = 1,
    lessons: pl.LazyFrame | None = None,
) -> SitePlans:
    """The plans of every figure the site shows, for all pupils and schools at once.

    The pupils' weekly trends come from :func:`pupil_plans` once the listed pupils are known:
    given as a list of ids they filter the rows before anything is measured, where a lazy list
    of pupils would be joined after (docs/site.md#speed).

    Parameters
    ----------
    frame
        The canonical attendance frame.
    policy, national
        The guideline and the national quarter rule (None: no quarter rule).
    as_of
        The day of the figures; rows after it are ignored.
    period
        The period of the school and class statistics (usually the school year of ``as_of``).
    horizon
        The early warning's horizon in school days.
    parts
        Buckets of pupils for classify (see :func:`fravaer.classify.parts_for`).
    lessons
        The lesson frame of a lesson-level export: ``patterns`` then has the lesson columns
        (as ``fravaer patterns`` on that export), and the dossier says the lesson finding.

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
    >>> plans = site(frame, policy=load_policy("aalborg-2023"), national=None,
    ...              as_of=days[-1], period=parse_period("2023/24"))
    >>> plans.listed.collect().select("pupil_id", "absence_pct", "step").row(0)
    ('1', 20.0, 3)
    """
    classified = classify(frame, policy=policy, national=national, as_of=as_of, parts=parts)
    listed = classified.filter(listed_expr()).sort(
        s.SCHOOL_ID, s.STEP, s.ABSENCE_PCT, s.PUPIL_ID, descending=[False, True, True, False]
    )

    def by(keys: list[str]) -> pl.LazyFrame:
        return stats(frame, by=keys, periods=[period], as_of=as_of, policy=policy, parts=parts)

    return SitePlans(
        listed=listed,
        patterns=patterns(frame, policy=policy, as_of=as_of, lessons=lessons),
        early_warning=early_warning(frame, policy=policy, as_of=as_of, horizon=horizon),
        schools=by([s.SCHOOL_ID]),
        classes=by([s.SCHOOL_ID, s.CLASS_NAME]),
        grades=by([s.SCHOOL_ID, s.GRADE]),
        freshness=freshness(frame, as_of=as_of),
    )


def pupil_plans(
    frame: pl.LazyFrame,
    *,
    policy: Policy,
    as_of: date,
    pupils: Sequence[str],
    windows: pl.LazyFrame,
    weeks: int = SITE_WEEKS,
) -> PupilPlans:
    """The weekly trend and its direction of ``pupils`` (the listed pupils' ids), and their
    weekdays in the window (``windows``: ``pupil_id`` and ``window_start`` of classify)."""
    rows = frame.filter(pl.col(s.PUPIL_ID).is_in(list(pupils)))
    return PupilPlans(
        trend=trend(frame, policy=policy, as_of=as_of, weeks=weeks, pupils=pupils),
        direction=direction(frame, policy=policy, as_of=as_of, pupils=pupils),
        weekdays=weekday_absence(rows, windows, categories=policy.primary.categories, as_of=as_of),
    )
