"""The geometry of a pupil's weekly trend chart; the template draws it as inline SVG.

No chart library: the points, the guideline's limits and the axes are computed here from the
weekly figures of ``fravaer trend``, and ``dossier.html`` writes them as SVG elements, so a page
with thousands of pupils' charts costs no drawing (docs/site.md).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Final

from markupsafe import Markup, escape

from fravaer.pages.numbers import percent
from fravaer.policy import Lang, Policy
from fravaer.schema import shown_text
from fravaer.trend import pct_thresholds
from fravaer.words import number_text, word

CHART_WIDTH: Final = 640
CHART_HEIGHT: Final = 240
_LEFT, _RIGHT, _TOP, _BOTTOM = 44, 96, 16, 34
_PERIOD_INSET = 44
_PERIOD_RIGHT = 116  # room for "Landsplan 2022/23" right of the plot
_LABEL_GAP = 12


@dataclass(frozen=True)
class Chart:
    """The trend chart's geometry, computed here and drawn as SVG by the template."""

    width: int
    height: int
    points: str  # the polyline
    dots: tuple[tuple[float, float, str], ...]  # x, y, label
    limits: tuple[tuple[float, str], ...]  # y, label
    ticks: tuple[tuple[float, str], ...]  # y, label of the value axis
    weeks: tuple[tuple[float, str], ...]  # x, label of the week axis
    left: int
    right: int
    top: int
    bottom: int
    grid: Markup
    """The ticks and the limits as SVG (:func:`grid_svg`): they depend on the chart's scale
    only, so a site of thousands of dossiers draws each of a few scales once."""


def grid_svg(
    ticks: tuple[tuple[float, str], ...],
    limits: tuple[tuple[float, str], ...],
    *,
    left: int,
    right: int,
) -> Markup:
    """The value axis's ticks and the guideline's limits as SVG lines and labels, each line
    ending in a line break: what ``dossier.html`` printed for them through the pages'
    environment (the labels' hidden characters shown as U+FFFD, then escaped). Drawn once per
    scale: the positions are keyed by their printed form (``-0.0`` and ``0.0`` are equal keys
    but print differently)."""
    return _grid_svg(
        tuple((str(y), str(y + 3), label) for y, label in ticks),
        tuple((str(y), str(y + 3), label) for y, label in limits),
        left=left,
        right=right,
    )


@lru_cache(maxsize=256)
def _grid_svg(
    ticks: tuple[tuple[str, str, str], ...],
    limits: tuple[tuple[str, str, str], ...],
    *,
    left: int,
    right: int,
) -> Markup:
    def shown(label: str) -> Markup:
        return escape(shown_text(label))

    parts = [
        f'<line x1="{left}" x2="{right}" y1="{y}" y2="{y}" stroke="#dddddd" stroke-width="1"/>\n'
        f'<text x="{left - 4}" y="{y3}" text-anchor="end">{shown(label)}</text>\n'
        for y, y3, label in ticks
    ]
    parts += [
        f'<line x1="{left}" x2="{right}" y1="{y}" y2="{y}" stroke="#8a1c00" stroke-width="1" '
        f'stroke-dasharray="5 3"/>\n'
        f'<text x="{right + 4}" y="{y3}">{shown(label)}</text>\n'
        for y, y3, label in limits
    ]
    return Markup("".join(parts))


def chart(
    weeks: Sequence[date], values: Sequence[float | None], *, policy: Policy, lang: Lang
) -> Chart | None:
    """The geometry of a pupil's weekly trend with the guideline's limits; None without weeks."""
    known = [(w, v) for w, v in zip(weeks, values, strict=True) if v is not None]
    if not known:
        return None
    lines = pct_thresholds(policy)
    top_value = max([v for _, v in known] + [float(t) for _, t in lines] + [10.0])
    scale_top = 5 * math.ceil(top_value * 1.05 / 5)
    inner_w = CHART_WIDTH - _LEFT - _RIGHT
    inner_h = CHART_HEIGHT - _TOP - _BOTTOM

    def y(value: float) -> float:
        return round(_TOP + inner_h * (1 - value / scale_top), 1)

    step = inner_w / max(len(weeks) - 1, 1)

    def x(i: int) -> float:
        return round(_LEFT + (i * step if len(weeks) > 1 else inner_w / 2), 1)

    index = {w: i for i, w in enumerate(weeks)}
    dots = tuple((x(index[w]), y(v), f"{w.isoformat()}: {percent(v, lang).text}") for w, v in known)
    tick_step = 5 if scale_top <= 40 else 10 if scale_top <= 80 else 20
    limits = tuple(
        (y(float(t)), word("limit_line", lang, n=n, t=number_text(t, lang, decimals=None)))
        for n, t in lines
        if float(t) <= scale_top
    )
    ticks = tuple((y(v), f"{v} %") for v in range(0, scale_top + 1, tick_step))
    right = CHART_WIDTH - _RIGHT
    return Chart(
        width=CHART_WIDTH,
        height=CHART_HEIGHT,
        points=" ".join(f"{dx},{dy}" for dx, dy, _ in dots),
        dots=dots,
        limits=limits,
        ticks=ticks,
        weeks=tuple((x(i), f"{w.day}.{w.month}") for i, w in enumerate(weeks)),
        left=_LEFT,
        right=right,
        top=_TOP,
        bottom=CHART_HEIGHT - _BOTTOM,
        grid=grid_svg(ticks, limits, left=_LEFT, right=right),
    )


# -- the municipality's trend over the school year's parts ---------------------------------------


@dataclass(frozen=True)
class TrendLine:
    """One school's (or the municipality's) share over 10 % across the periods."""

    name: str
    segments: tuple[str, ...]  # polylines of consecutive known points (a hidden value breaks it)
    dots: tuple[tuple[float, float, str], ...]  # x, y, label
    total: bool  # the municipality: drawn thick


@dataclass(frozen=True)
class PeriodChart:
    """The geometry of the municipality's trend chart, drawn as SVG by the template."""

    width: int
    height: int
    lines: tuple[TrendLine, ...]  # the schools first, the municipality last (on top)
    national: tuple[float, str, float] | None  # y, label, y of the label
    ticks: tuple[tuple[float, str], ...]
    periods: tuple[tuple[float, str], ...]  # x, label
    left: int
    right: int
    top: int
    bottom: int


def period_chart(
    periods: Sequence[str],
    lines: Sequence[tuple[str, Sequence[float | None], bool]],
    *,
    national: tuple[float, str] | None,
    lang: Lang,
) -> PeriodChart | None:
    """The share over 10 % per period as lines: ``lines`` are ``(name, values, total)`` with a
    value per period (None: hidden or no pupils); ``national`` the national share and its
    label. None when no value is known."""
    known = [v for _, values, _ in lines for v in values if v is not None]
    if not known:
        return None
    top_value = max([*known, 10.0, *([national[0]] if national else [])])
    scale_top = 5 * math.ceil(top_value * 1.05 / 5)
    inner_w = CHART_WIDTH - _LEFT - _PERIOD_RIGHT
    inner_h = CHART_HEIGHT - _TOP - _BOTTOM

    def y(value: float) -> float:
        return round(_TOP + inner_h * (1 - value / scale_top), 1)

    inset = _PERIOD_INSET  # room for the first and last period's name under the axis
    step = (inner_w - 2 * inset) / max(len(periods) - 1, 1)

    def x(i: int) -> float:
        return round(_LEFT + inset + (i * step if len(periods) > 1 else inner_w / 2 - inset), 1)

    drawn = []
    for name, values, total in lines:
        segments: list[list[str]] = [[]]
        dots = []
        for i, value in enumerate(values):
            if value is None:
                segments.append([])
                continue
            segments[-1].append(f"{x(i)},{y(value)}")
            dots.append((x(i), y(value), f"{name}, {periods[i]}: {percent(value, lang).text}"))
        kept = tuple(" ".join(points) for points in segments if len(points) > 1)
        drawn.append(TrendLine(name, kept, tuple(dots), total))
    tick_step = 5 if scale_top <= 40 else 10 if scale_top <= 80 else 20
    marked = None
    if national is not None:
        marked = y(national[0])
        ends = [line.dots[-1][1] for line in drawn if line.total and line.dots]
        if ends and abs(ends[0] - marked) < _LABEL_GAP:  # keep the two labels apart
            marked = ends[0] + (_LABEL_GAP if marked >= ends[0] else -_LABEL_GAP)
    return PeriodChart(
        width=CHART_WIDTH,
        height=CHART_HEIGHT,
        lines=tuple(sorted(drawn, key=lambda line: line.total)),
        national=None
        if national is None or marked is None
        else (y(national[0]), national[1], marked),
        ticks=tuple((y(v), f"{v} %") for v in range(0, scale_top + 1, tick_step)),
        periods=tuple((x(i), label) for i, label in enumerate(periods)),
        left=_LEFT,
        right=CHART_WIDTH - _PERIOD_RIGHT,
        top=_TOP,
        bottom=CHART_HEIGHT - _BOTTOM,
    )
