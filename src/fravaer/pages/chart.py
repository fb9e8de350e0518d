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
from typing import Final

from fravaer.pages.numbers import percent
from fravaer.policy import Lang, Policy
from fravaer.trend import pct_thresholds
from fravaer.words import number_text, word

CHART_WIDTH: Final = 640
CHART_HEIGHT: Final = 240
_LEFT, _RIGHT, _TOP, _BOTTOM = 44, 96, 16, 34


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
    return Chart(
        width=CHART_WIDTH,
        height=CHART_HEIGHT,
        points=" ".join(f"{dx},{dy}" for dx, dy, _ in dots),
        dots=dots,
        limits=tuple(
            (y(float(t)), word("limit_line", lang, n=n, t=number_text(t, lang, decimals=None)))
            for n, t in lines
            if float(t) <= scale_top
        ),
        ticks=tuple((y(v), f"{v} %") for v in range(0, scale_top + 1, tick_step)),
        weeks=tuple((x(i), f"{w.day}.{w.month}") for i, w in enumerate(weeks)),
        left=_LEFT,
        right=CHART_WIDTH - _RIGHT,
        top=_TOP,
        bottom=CHART_HEIGHT - _BOTTOM,
    )
