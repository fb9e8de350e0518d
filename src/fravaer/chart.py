"""Charts of the share of pupils over 10 % absence per school (``fravaer stats --chart``).

An edge module: the only one that imports matplotlib. It draws into memory and returns the bytes
with the values it plotted (read back from the drawn bars and lines), so the caller writes the
file atomically and the tests can compare the points with the table. Nothing here touches files.

Charts must be legible printed in black and white: bars are white with black hatching, lines
differ by marker and line style, and the municipality and national lines by weight and dashes.
Output is deterministic: no dates or versions in the metadata, a fixed SVG hash salt.
"""

from __future__ import annotations

import contextlib
import io
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Literal

import matplotlib
import numpy as np
import polars as pl
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from fravaer import schema as s
from fravaer.policy import Lang
from fravaer.schema import shown_text
from fravaer.stats import MUNICIPALITY, PERIOD, SHARE_OVER_10, SUPPRESSED, Period, Reference
from fravaer.words import number_text, school_shown, word

ChartFormat = Literal["png", "svg"]

_MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*", "<", ">", "h", "p")
_STYLES = ("-", "--", ":", "-.")


@dataclass(frozen=True)
class ChartData:
    """What the chart shows, read back from the drawn artists (None: hidden or no figure)."""

    periods: tuple[str, ...]
    schools: dict[str, tuple[float | None, ...]]
    municipality: tuple[float | None, ...]
    national: tuple[float | None, ...]


def _value(x: float) -> float | None:
    return None if math.isnan(x) else float(x)


def share_chart(
    table: pl.DataFrame,
    *,
    references: Sequence[Reference | None],
    spans: Sequence[Period],
    as_of: date,
    fmt: ChartFormat,
    lang: Lang = "da",
    names: Mapping[str, str] | None = None,
) -> tuple[bytes, ChartData]:
    """:func:`share_figure` as the bytes of a ``fmt`` file, with what it shows."""
    with _text_as_written():
        figure, data = share_figure(
            table, references=references, spans=spans, as_of=as_of, lang=lang, names=names
        )
        buffer = io.BytesIO()
        metadata = {"Software": None} if fmt == "png" else {"Date": None, "Creator": None}
        figure.savefig(buffer, format=fmt, metadata=metadata)
    return buffer.getvalue(), data


def _text_as_written() -> contextlib.AbstractContextManager[None]:
    """Text is drawn as written: a school id "$x^2$" is not maths (nor "$\\foo$" an error), and
    no data reaches LaTeX even where a matplotlibrc turns it on. Held from the first artist to
    the saved file: a text reads these when it is made, and again when it is drawn."""
    return matplotlib.rc_context(
        {
            "svg.hashsalt": "fravaer",
            "svg.fonttype": "path",
            "text.parse_math": False,
            "text.usetex": False,
        }
    )


def share_figure(
    table: pl.DataFrame,
    *,
    references: Sequence[Reference | None],
    spans: Sequence[Period],
    as_of: date,
    lang: Lang = "da",
    names: Mapping[str, str] | None = None,
) -> tuple[Figure, ChartData]:
    """Draw ``share_over_10`` per school: sorted bars for one period, lines for several.

    The bars' values stand in a column right of the plot, level with their bars, so that no
    value sits on the municipality's or the nation's line, wherever those fall; the lines are
    named in the legend below.

    A school is labelled ``name (id)`` when ``names`` (``--school-names``) has its name, else by
    its id; :class:`ChartData` is keyed by the ids either way.

    ``table`` is a (suppressed) ``stats`` result grouped by school: per period the schools and
    the municipality row. ``references`` holds the national figures for each period, in order.
    The subtitle names the period(s) ``spans`` and the ``as_of`` date: a printed chart that
    travels without its table still says when it was true (:func:`when_line`).
    """
    periods = tuple(table[PERIOD].unique(maintain_order=True).to_list())
    with _text_as_written():
        figure = Figure(figsize=(8, 5), dpi=100)
        FigureCanvasAgg(figure)
        axes = figure.add_subplot()
        if len(periods) == 1:
            data = _bars(axes, table, references[0], periods, lang, names or {})
        else:
            data = _lines(axes, table, references, periods, lang, names or {})
        figure.suptitle(word("chart_title", lang))
        axes.set_title(when_line(spans, as_of, lang), fontsize="small")
        # Handles and labels given, not collected: a label from the data that begins with "_"
        # would otherwise be left out of the legend.
        lines = axes.get_lines()
        axes.legend(
            lines,
            [str(line.get_label()) for line in lines],
            loc="upper center",
            bbox_to_anchor=(0.5, -0.14),
            ncol=4,
            fontsize="small",
            frameon=False,
        )
        figure.tight_layout(rect=(0, 0.04, 1, 1))
    return figure, data


def when_line(spans: Sequence[Period], as_of: date, lang: Lang) -> str:
    """The period(s) and the as-of date, for the chart's subtitle.

    >>> from fravaer.stats import parse_periods
    >>> day = date(2024, 3, 8)
    >>> when_line(parse_periods("2023/24", as_of=day), day, "da")
    'Periode 2023/24: 2023-08-01 – 2024-03-08 · opgjort pr. 2024-03-08'
    >>> when_line(parse_periods("2023Q3,2023Q4", as_of=day), day, "en")
    'Period 2023Q3–2023Q4: 2023-07-01 – 2023-12-31 · as of 2024-03-08'
    """
    first, last = spans[0], spans[-1]
    label = first.label if len(spans) == 1 else f"{first.label}–{last.label}"
    period = word(
        "stats_period",
        lang,
        label=shown_text(label),
        start=first.start.isoformat(),
        end=last.until(as_of).isoformat(),
    )
    return f"{period} · {word('chart_as_of', lang, as_of=as_of.isoformat())}"


def _label(school: str, names: Mapping[str, str]) -> str:
    """A school as the pages name it (:func:`school_shown`), as printed text (:func:`shown_text`).

    >>> _label("851001", {"851001": "Vestre Skole"}), _label("851002", {})
    ('Vestre Skole (851001)', '851002')
    """
    return shown_text(school_shown(school, names))


def _schools(table: pl.DataFrame) -> pl.DataFrame:
    return table.filter(~pl.col(MUNICIPALITY))


def _municipality(table: pl.DataFrame, period: str) -> float | None:
    row = table.filter(pl.col(MUNICIPALITY) & (pl.col(PERIOD) == period))
    return row[SHARE_OVER_10].item() if row.height else None


def _national_label(reference: Reference | None, lang: Lang) -> str:
    if reference is None:
        return word("national_plain", lang)
    return word("national", lang, year=shown_text(reference.period))


def _bars(
    axes: object,
    table: pl.DataFrame,
    reference: Reference | None,
    periods: tuple[str, ...],
    lang: Lang,
    school_names: Mapping[str, str],
) -> ChartData:
    from matplotlib.axes import Axes

    assert isinstance(axes, Axes)
    schools = _schools(table)
    shown = schools.filter(~pl.col(SUPPRESSED)).sort(
        [SHARE_OVER_10, s.SCHOOL_ID], descending=[False, True]
    )
    hidden = schools.filter(pl.col(SUPPRESSED))[s.SCHOOL_ID].to_list()
    names = shown[s.SCHOOL_ID].to_list()
    bars = axes.barh(
        [_label(name, school_names) for name in names],
        shown[SHARE_OVER_10].to_list(),
        color="white",
        edgecolor="black",
        hatch="///",
        linewidth=0.8,
    )
    # The values in a column right of the plot (x in the axes' units, y in the bars'), not at
    # the bars' ends, where the municipality's or the nation's line may run through them.
    for bar in bars:
        axes.annotate(
            number_text(bar.get_width(), lang),
            (1, bar.get_y() + bar.get_height() / 2),
            xycoords=axes.get_yaxis_transform(),
            xytext=(4, 0),
            textcoords="offset points",
            va="center",
            ha="left",
            fontsize="small",
            annotation_clip=False,
        )
    municipality = _municipality(table, periods[0])
    if municipality is not None:
        axes.axvline(
            municipality,
            color="black",
            linewidth=2,
            linestyle="-",
            label=word("municipality", lang),
        )
    national = reference.share_over_10 if reference else None
    if national is not None:
        axes.axvline(
            national,
            color="dimgray",
            linewidth=1.5,
            linestyle="--",
            label=_national_label(reference, lang),
        )
    axes.set_xlabel(word("chart_axis", lang))
    axes.set_ylabel(word(s.SCHOOL_ID, lang))
    if hidden:
        axes.figure.text(
            0.01,
            0.01,
            word(
                "chart_hidden",
                lang,
                schools=", ".join(_label(name, school_names) for name in hidden),
            ),
            fontsize="small",
        )
    drawn = {name: (float(bar.get_width()),) for name, bar in zip(names, bars, strict=True)}
    lines = {line.get_label(): line for line in axes.get_lines()}
    return ChartData(
        periods=periods,
        schools={**drawn, **dict.fromkeys(hidden, (None,))},
        municipality=(_line_x(lines.get(word("municipality", lang))),),
        national=(_line_x(lines.get(_national_label(reference, lang))),),
    )


def _line_x(line: Line2D | None) -> float | None:
    if line is None:
        return None
    return float(np.asarray(line.get_xdata(), dtype=float)[0])


def _ys(line: Line2D) -> tuple[float | None, ...]:
    return tuple(_value(float(v)) for v in np.asarray(line.get_ydata(), dtype=float))


def _lines(
    axes: Axes,
    table: pl.DataFrame,
    references: Sequence[Reference | None],
    periods: tuple[str, ...],
    lang: Lang,
    names: Mapping[str, str],
) -> ChartData:
    x = list(range(len(periods)))
    schools = _schools(table)
    data: dict[str, tuple[float | None, ...]] = {}
    for i, school in enumerate(sorted(schools[s.SCHOOL_ID].unique().to_list())):
        values = []
        for period in periods:
            row = schools.filter((pl.col(s.SCHOOL_ID) == school) & (pl.col(PERIOD) == period))
            value = row[SHARE_OVER_10].item() if row.height else None
            values.append(math.nan if value is None else value)
        (line,) = axes.plot(
            x,
            values,
            color="black",
            linewidth=1,
            marker=_MARKERS[i % len(_MARKERS)],
            markerfacecolor="white",
            linestyle=_STYLES[(i // len(_MARKERS)) % len(_STYLES)],
            label=_label(school, names),
        )
        data[school] = _ys(line)
    municipality = [_municipality(table, p) for p in periods]
    (total,) = axes.plot(
        x,
        [math.nan if v is None else v for v in municipality],
        color="black",
        linewidth=3,
        marker="o",
        label=word("municipality", lang),
    )
    national = [
        r.share_over_10 if r and r.period == p else None
        for r, p in zip(references, periods, strict=True)
    ]
    drawn_national: tuple[float | None, ...] = (None,) * len(periods)
    if any(v is not None for v in national):
        (reference_line,) = axes.plot(
            x,
            [math.nan if v is None else v for v in national],
            color="dimgray",
            linewidth=1.5,
            linestyle="--",
            marker="x",
            markersize=8,
            label=word("national_plain", lang),
        )
        drawn_national = _ys(reference_line)
    axes.set_xticks(x, [shown_text(period) for period in periods])
    axes.set_xlabel(word(PERIOD, lang))
    axes.set_ylabel(word("chart_axis", lang))
    return ChartData(
        periods=periods,
        schools=data,
        municipality=_ys(total),
        national=drawn_national,
    )
