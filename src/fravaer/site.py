"""Every figure of ``fravaer site`` (docs/site.md), for all pupils at once, as lazy plans.

The site is pages for the people who act: the municipality, each school, and a dossier per
pupil on a school's list. None of its figures is computed here a second time: each plan is the
one the matching command runs — :func:`fravaer.classify.classify`, :func:`fravaer.stats.stats`
and :func:`fravaer.stats.freshness`, :func:`fravaer.trend.trend`, :func:`fravaer.trend.direction`,
:func:`fravaer.trend.patterns` and :func:`fravaer.trend.early_warning` — so a page and the
command give the same numbers.

Each figure is computed once and shared between the pages that show it (docs/site.md#speed), in
three rounds that :func:`fravaer.pages.collect_site` collects: the classification
(:func:`site_classify`); then what needs its pupils (:func:`site`: the patterns, the early
warning's projection, the listed pupils' weekly series, the statistics); then the direction of
the pupils the early warning may list (:func:`site_candidates`, :func:`site_direction`); then
what is put together from those (:func:`site_shown`: the early warning, the trends and their
directions). Like the rest of the core this module reads no files and no clock.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import date
from typing import Final

import polars as pl

from fravaer import schema as s
from fravaer.classify import classify
from fravaer.policy import Policy
from fravaer.stats import Period, freshness, stats
from fravaer.trend import (
    HORIZON_DAYS,
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


def listed_expr() -> pl.Expr:
    """A pupil on the school's list: at step 1 or higher, or flagged by the quarter rule.

    The same pupils as the table view of ``fravaer classify`` lists (docs/classify.md).
    """
    return (pl.col(s.STEP) >= 1).fill_null(False) | pl.col(s.QUARTER_FLAG).is_in(
        [s.FLAG_WARN, s.FLAG_NOTIFY]
    ).fill_null(False)


@dataclass(frozen=True)
class SitePlans:
    """The plans that need the classification's pupils, :meth:`named`; collected together."""

    listed: pl.LazyFrame
    """``classify``'s rows of the listed pupils (:func:`listed_expr`), by school, step, %."""
    patterns: pl.LazyFrame
    """``patterns`` of every pupil (the false-discovery control runs over all of them)."""
    projection: pl.LazyFrame
    """``projection`` of every pupil (a part of the early warning)."""
    series: pl.LazyFrame
    """``weekly_series`` of the listed pupils: their trends and directions."""
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
class SiteFrames:
    """The site's figures, collected: what the pages show."""

    listed: pl.DataFrame
    patterns: pl.DataFrame
    early_warning: pl.DataFrame
    schools: pl.DataFrame
    classes: pl.DataFrame
    grades: pl.DataFrame
    freshness: pl.DataFrame
    trend: pl.DataFrame
    direction: pl.DataFrame


def site_classify(
    frame: pl.LazyFrame,
    *,
    policy: Policy,
    national: Policy | None,
    as_of: date,
    parts: int = 1,
) -> pl.LazyFrame:
    """``classify`` of every pupil: the first round, which every other figure builds on.

    With the national policy, for the quarter rule; the municipal figures are the same without
    it, so the patterns and the early warning take this classification as theirs.
    """
    return classify(frame, policy=policy, national=national, as_of=as_of, parts=parts)


def site(
    frame: pl.LazyFrame,
    *,
    classified: pl.LazyFrame,
    listed: Sequence[str],
    policy: Policy,
    as_of: date,
    period: Period,
    horizon: int = HORIZON_DAYS,
    parts: int = 1,
) -> SitePlans:
    """The plans of every figure the site shows that needs the classification's pupils.

    ``classified`` is :func:`site_classify`'s result, collected; ``listed`` the ids of its
    listed pupils (:func:`listed_expr`). Given as a list of ids
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
    >>> classified = site_classify(frame, policy=policy, national=None, as_of=days[-1]).collect()
    >>> plans = site(frame, classified=classified.lazy(), listed=["1"], policy=policy,
    ...              as_of=days[-1], period=parse_period("2023/24"))
    >>> plans.listed.collect().select("pupil_id", "absence_pct", "step").row(0)
    ('1', 20.0, 3)
    """
    listed_rows = classified.filter(listed_expr()).sort(
        s.SCHOOL_ID, s.STEP, s.ABSENCE_PCT, s.PUPIL_ID, descending=[False, True, True, False]
    )

    def by(keys: list[str]) -> pl.LazyFrame:
        return stats(
            frame,
            by=keys,
            periods=[period],
            as_of=as_of,
            policy=policy,
            parts=parts,
            classified=classified,
        )

    return SitePlans(
        listed=listed_rows,
        patterns=patterns(frame, policy=policy, as_of=as_of, classified=classified),
        projection=projection(frame, policy=policy, as_of=as_of, horizon=horizon),
        series=weekly_series(frame, policy=policy, as_of=as_of, weeks=SITE_WEEKS, pupils=listed),
        schools=by([s.SCHOOL_ID]),
        classes=by([s.SCHOOL_ID, s.CLASS_NAME]),
        grades=by([s.SCHOOL_ID, s.GRADE]),
        freshness=freshness(frame, as_of=as_of),
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
