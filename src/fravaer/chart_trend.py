"""A pupil's weekly absence as a chart a parent can read (PNG or SVG), drawn with matplotlib.

An edge module like :mod:`fravaer.render`: it takes collected numbers and returns the file's
bytes; :mod:`fravaer.output` writes them. The chart is for the conversation with parents: large
type, one black line, the limits as labelled grey lines in plain words, no ids and no jargon,
and readable when printed in black and white. The output is byte-for-byte deterministic (fixed
SVG hash salt, no creation date or software version in the metadata), so re-runs are identical.
"""

from __future__ import annotations

import io
from datetime import date, timedelta
from decimal import Decimal
from typing import Literal

from fravaer.policy import Lang, Policy
from fravaer.render import shown_pcts
from fravaer.schema import shown_text
from fravaer.trend import pct_thresholds
from fravaer.words import LIMIT_WORDS, number_text, window_text, word

ChartFormat = Literal["png", "svg"]
CHART_SUFFIXES: dict[str, ChartFormat] = {".png": "png", ".svg": "svg"}

_DASHES = ((0, (6, 3)), (0, (2, 2)), (0, (8, 2, 2, 2)))
_SVG_SALT = "fravaer"
_FONT = 16


def limit_label(order: int, threshold: Decimal, lang: Lang) -> str:
    """``10 %: skolen følger op`` for the first limit, and so on.

    >>> limit_label(0, Decimal(10), "da"), limit_label(1, Decimal("12.5"), "en")
    ('10 %: skolen følger op', '12.5 %: the school makes a plan')
    """
    meaning = LIMIT_WORDS[min(order, len(LIMIT_WORDS) - 1)](lang)
    return f"{number_text(threshold, lang, decimals=None)} %: {meaning}"


def when_line(weeks: list[date], as_of: date, lang: Lang) -> str:
    """The weeks drawn, the dates they span (from the first week's Monday) and the as-of date.

    >>> when_line([date(2023, 12, 22), date(2024, 1, 5)], date(2024, 1, 5), "da")
    'Uge 51–1: 2023-12-18 – 2024-01-05 · opgjort pr. 2024-01-05'
    >>> when_line([date(2024, 3, 8)], date(2024, 3, 8), "en")
    'Week 10: 2024-03-04 – 2024-03-08 · as of 2024-03-08'
    """
    as_of_text = word("chart_as_of", lang, as_of=as_of.isoformat())
    if not weeks:
        return as_of_text
    first, last = weeks[0].isocalendar()[1], weeks[-1].isocalendar()[1]
    span = word(
        "trend_chart_period" if len(weeks) > 1 else "trend_chart_week",
        lang,
        first=first,
        last=last,
        start=(weeks[0] - timedelta(days=weeks[0].weekday())).isoformat(),
        end=weeks[-1].isoformat(),
    )
    return f"{span} · {as_of_text}"


def trend_chart(
    weeks: list[date],
    values: list[float | None],
    *,
    summary: str,
    policy: Policy,
    as_of: date,
    fmt: ChartFormat,
    lang: Lang = "da",
) -> bytes:
    """The chart's bytes: the week-end % as a black line with dots, the limits as grey lines;
    under the title the weeks drawn and the as-of date (:func:`when_line`), then ``summary``.

    >>> from datetime import date
    >>> from fravaer.ingest.policy import load_policy
    >>> weeks = [date(2024, 3, 1), date(2024, 3, 8)]
    >>> data = trend_chart(weeks, [13.0, 11.0], summary="x", policy=load_policy("aalborg-2023"),
    ...                    as_of=date(2024, 3, 8), fmt="svg")
    >>> data[:5], data == trend_chart(weeks, [13.0, 11.0], summary="x", as_of=date(2024, 3, 8),
    ...     policy=load_policy("aalborg-2023"), fmt="svg")
    (b'<?xml', True)
    """
    # matplotlib is slow to import (0.5 s): only when drawing, not for every command.
    import matplotlib as mpl
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    with mpl.rc_context(
        {
            "svg.hashsalt": _SVG_SALT,
            "svg.fonttype": "path",  # no dependence on the reader's fonts
            "font.size": _FONT,
            "font.family": "DejaVu Sans",
            "text.parse_math": False,  # policy text is drawn as written, never as maths
            "text.usetex": False,
        }
    ):
        figure = Figure(figsize=(11, 6.5), dpi=100)
        FigureCanvasAgg(figure)
        axes = figure.add_subplot()
        positions = list(range(len(weeks)))
        known = [v for v in values if v is not None]
        limits = pct_thresholds(policy)
        top = max([*known, *(float(x) for _, x in limits), 5.0]) * 1.15
        for order, (_, threshold) in enumerate(limits):
            axes.axhline(
                float(threshold),
                color="0.45",
                linewidth=2,
                linestyle=_DASHES[min(order, len(_DASHES) - 1)],
            )
            axes.text(
                -0.4,
                float(threshold) + top * 0.012,
                limit_label(order, threshold, lang),
                color="0.25",
                fontsize=_FONT - 1,
                va="bottom",
                ha="left",
            )
        axes.plot(
            positions,
            [float("nan") if v is None else v for v in values],
            color="black",
            linewidth=3,
            marker="o",
            markersize=9,
        )
        if known and values[-1] is not None:
            last = values[-1]
            axes.annotate(
                f"{shown_pcts([last], limits=[x for _, x in limits], lang=lang)[0]} %",
                (positions[-1], last),
                textcoords="offset points",
                xytext=(0, 12),
                ha="center",
                fontsize=_FONT + 2,
                fontweight="bold",
            )
        axes.set_xticks(positions, [f"{d.isocalendar()[1]}" for d in weeks], fontsize=_FONT - 1)
        axes.set_xlim(-0.5, max(len(weeks) - 0.5, 0.5))
        axes.set_ylim(0, top)
        axes.set_xlabel(word("week", lang))
        axes.set_ylabel(
            word("absence_of_window", lang, window=window_text(policy.primary.window, lang))
        )
        axes.spines[["top", "right"]].set_visible(False)
        axes.grid(axis="y", color="0.9", linewidth=1)
        axes.set_axisbelow(True)
        figure.suptitle(
            word("trend_chart_title", lang),
            fontsize=_FONT + 6,
            fontweight="bold",
            x=0.06,
            ha="left",
        )
        # A no-break space keeps "15 %" together where the line wraps.
        # matplotlib measures a wrapped text as maths whatever parse_math says (a "$\\foo$"
        # fails): here every "$" is escaped instead, which mathtext then draws as a plain "$".
        shown = shown_text(summary).replace(" %", "\u00a0%").replace("$", r"\$")
        axes.set_title(
            f"{when_line(weeks, as_of, lang)}\n{shown}",
            fontsize=_FONT,
            loc="left",
            wrap=True,
            parse_math=True,
        )
        figure.tight_layout()
        buffer = io.BytesIO()
        metadata: dict[str, str | None] = (
            {"Date": None, "Creator": None} if fmt == "svg" else {"Software": None}
        )
        figure.savefig(buffer, format=fmt, metadata=metadata)
    return buffer.getvalue()
