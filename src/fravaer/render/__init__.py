"""Terminal tables: the only package that imports rich, and the only view that rounds.

One module per command: :mod:`~fravaer.render.classify` (``classify``,
``explain``, ``policy``), :mod:`~fravaer.render.check` (``check``, ``inspect``),
:mod:`~fravaer.render.escalate`, :mod:`~fravaer.render.trend` (``trend``, ``patterns``,
``early-warning``) and :mod:`~fravaer.render.stats`; :mod:`~fravaer.render.console` holds the
console they share and the progress line. Their words come from :mod:`fravaer.words`.
"""

from __future__ import annotations

from fravaer.render.check import render_check, render_inspection
from fravaer.render.classify import (
    condition_text,
    render_classification,
    render_explanation,
    render_policy,
    render_policy_list,
)
from fravaer.render.console import progress, terminal_text
from fravaer.render.escalate import escalation_sheet_names, render_escalations
from fravaer.render.stats import HIDDEN_MARK, render_stats
from fravaer.render.trend import (
    SPARK_TOP,
    pattern_words,
    render_early_warning,
    render_patterns,
    render_trend,
    render_trend_class,
    shown_pcts,
    sparkline,
    text_chart,
    trend_summary,
)

__all__ = [
    "HIDDEN_MARK",
    "SPARK_TOP",
    "condition_text",
    "escalation_sheet_names",
    "pattern_words",
    "progress",
    "render_check",
    "render_classification",
    "render_early_warning",
    "render_escalations",
    "render_explanation",
    "render_inspection",
    "render_patterns",
    "render_policy",
    "render_policy_list",
    "render_stats",
    "render_trend",
    "render_trend_class",
    "shown_pcts",
    "sparkline",
    "terminal_text",
    "text_chart",
    "trend_summary",
]
