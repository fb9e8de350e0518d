"""The words of a trend: golden summaries in Danish and English, the text chart and sparklines.

The golden file is regenerated only deliberately::

    FRAVAER_UPDATE_GOLDEN=1 .venv/bin/pytest tests/test_render_trend.py -k golden
"""

from __future__ import annotations

import os
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from fravaer.ingest.policy import load_policy
from fravaer.policy import Lang
from fravaer.render import shown_pcts, sparkline, text_chart, trend_summary

GOLDEN = Path(__file__).parent / "golden"
AALBORG = load_policy("aalborg-2023")

# (name, pct 3 weeks before, pct now, weeks back, direction, step now)
CASES = [
    ("falling", 13.2, 11.0, 3, "falling", 1),
    ("rising", 8.0, 12.4, 3, "rising", 1),
    ("rising below the first limit", 4.5, 6.1, 2, "rising", 0),
    ("rising to just below a limit", 8.8, 9.8, 3, "rising", 0),
    ("flat", 11.3, 11.0, 3, "flat", 1),
    ("flat at zero", 0.0, 0.0, 1, "flat", 0),
    ("falling to step 2", 21.0, 17.5, 3, "falling", 2),
    ("a single week", None, 4.0, 0, None, 0),
    ("too few school days", None, 30.0, 0, None, None),
    ("no percentage", None, None, 0, None, None),
]


def summaries() -> str:
    lines = []
    for lang in ("da", "en"):
        for name, before, now, back, direction, step in CASES:
            text = trend_summary(
                pct_before=before,
                pct_now=now,
                weeks_back=back,
                direction=direction,
                step=step,
                policy=AALBORG,
                lang=lang,  # type: ignore[arg-type]
            )
            lines.append(f"[{lang}] {name}: {text}")
    return "\n".join(lines) + "\n"


def test_golden_trend_summaries() -> None:
    golden = GOLDEN / "trend_summaries.txt"
    text = summaries()
    if os.environ.get("FRAVAER_UPDATE_GOLDEN") == "1":
        golden.write_text(text, encoding="utf-8")
    assert text == golden.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("lang", "words"),
    [("da", ("steget", "faldet", "stabilt")), ("en", ("risen", "fallen", "stayed"))],
)
def test_the_summary_says_which_way_it_went(lang: Lang, words: tuple[str, str, str]) -> None:
    for direction, word in zip(("rising", "falling", "flat"), words, strict=True):
        text = trend_summary(
            pct_before=10.0,
            pct_now=12.0,
            weeks_back=3,
            direction=direction,
            step=1,
            policy=AALBORG,
            lang=lang,
        )
        assert word in text


def test_a_shown_number_never_reaches_a_limit_not_reached() -> None:
    limits = [Decimal(10), Decimal(15), Decimal(20)]
    for tenths in range(0, 300):
        value = tenths / 10 + 0.05
        shown = shown_pcts([value], limits=limits, lang="en")[0]
        assert not any(value < limit <= float(shown) for limit in limits), (value, shown)
    assert shown_pcts([14.96, 3.0], limits=limits, lang="da") == ["14,9", "3,0"]


def test_sparklines_share_one_scale() -> None:
    assert sparkline([0.0, 25.0, None, 100.0]) == "▁█ █"


def test_the_text_chart_puts_a_point_on_a_limit_only_when_reached() -> None:
    weeks = [date(2024, 1, 5) + timedelta(weeks=i) for i in range(3)]
    chart = text_chart(weeks, [9.99, 10.0, 15.5], limits=[Decimal(10), Decimal(15)], lang="da")
    rows = {line.split("┤")[0].strip(): line for line in chart.splitlines() if "┤" in line}
    assert rows["10"].count("●") == 1  # 10.0 is on the limit, 9.99 is not
    assert rows["15"].count("●") == 1
    assert "grænse 10 %" in rows["10"]
    assert chart.splitlines()[-1].split() == ["1", "2", "3", "(uge)"]
