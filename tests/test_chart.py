"""The chart on the example data: a valid file whose plotted points are the table's figures."""

from __future__ import annotations

import html
import re
import xml.etree.ElementTree as ET
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.transforms import Bbox

from fravaer.chart import share_chart, share_figure
from fravaer.ingest import read_export
from fravaer.ingest.policy import load_policy
from fravaer.ingest.reference import read_reference
from fravaer.stats import (
    MUNICIPALITY,
    PERIOD,
    SHARE_OVER_10,
    SUPPRESSED,
    Period,
    Reference,
    parse_periods,
    reference_for,
    stats,
    suppress,
)
from fravaer.words import school_shown
from tests.profiles import examples

DEMO = Path(__file__).resolve().parents[1] / "examples" / "demo-export.csv"
AS_OF = date(2024, 3, 8)


def table(periods: str | None, min_cell: int) -> tuple[pl.DataFrame, list[object]]:
    chosen = parse_periods(periods, as_of=AS_OF)
    frame = read_export(DEMO)
    result = stats(
        frame, by=["school_id"], periods=chosen, as_of=AS_OF, policy=load_policy("aalborg-2023")
    ).collect()
    reference = read_reference(None)
    return suppress(result, keys=["school_id"], min_cell=min_cell), [
        reference_for(reference, p) for p in chosen
    ]


def spans(periods: str | None) -> list[Period]:
    """The chart's period(s), as ``fravaer stats --chart`` gives them."""
    return parse_periods(periods, as_of=AS_OF)


def figures(result: pl.DataFrame, period: str) -> dict[str, float | None]:
    rows = result.filter(~pl.col(MUNICIPALITY), pl.col(PERIOD) == period)
    return dict(zip(rows["school_id"], rows[SHARE_OVER_10], strict=True))


@pytest.mark.parametrize("fmt", ["png", "svg"])
def test_one_period_plots_the_table_and_the_reference_lines(fmt: str) -> None:
    result, references = table(None, 10)

    data, drawn = share_chart(
        result,
        references=references,
        fmt=fmt,  # type: ignore[arg-type]
        spans=spans(None),
        as_of=AS_OF,
    )

    if fmt == "png":
        assert data[:8] == b"\x89PNG\r\n\x1a\n"
    else:
        assert ET.fromstring(data).tag.endswith("svg")
    assert drawn.periods == ("2023/24",)
    assert {k: v[0] for k, v in drawn.schools.items()} == figures(result, "2023/24")
    total = result.filter(pl.col(MUNICIPALITY))[SHARE_OVER_10].item()
    assert drawn.municipality == (total,)
    assert drawn.national == (20.0,)  # 2022/23, the latest published before 2023/24


def test_hidden_schools_are_not_plotted() -> None:
    result, references = table(None, 160)  # 851001 has 154 pupils; one more hides with it
    assert result[SUPPRESSED].sum() == 2

    _, drawn = share_chart(result, references=references, fmt="png", spans=spans(None), as_of=AS_OF)

    hidden = result.filter(pl.col(SUPPRESSED))["school_id"].to_list()
    assert all(drawn.schools[school] == (None,) for school in hidden)
    assert sum(v[0] is not None for v in drawn.schools.values()) == 1


def test_several_periods_draw_one_line_per_school() -> None:
    result, references = table("2021/22,2023Q3,2023Q4,2024Q1", 10)

    _, drawn = share_chart(
        result,
        references=references,
        fmt="svg",
        lang="en",
        spans=spans("2021/22,2023Q3,2023Q4,2024Q1"),
        as_of=AS_OF,
    )

    assert drawn.periods == ("2021/22", "2023Q3", "2023Q4", "2024Q1")
    for i, period in enumerate(drawn.periods):
        want = figures(result, period)
        assert {k: v[i] for k, v in drawn.schools.items() if v[i] is not None} == {
            k: v for k, v in want.items() if v is not None
        }
    assert drawn.municipality[1:] == tuple(
        result.filter(pl.col(MUNICIPALITY))[SHARE_OVER_10].to_list()[1:]
    )
    # The example has no data for 2021/22, but the nation does: 25.2 % over 10 %.
    assert drawn.national == (25.2, None, None, None)


def _svg_texts(data: bytes) -> str:
    """The texts matplotlib drew (it writes each before its paths, as a comment)."""
    return " ".join(html.unescape(t) for t in re.findall(r"<!-- (.*?) -->", data.decode(), re.S))


@pytest.mark.parametrize(
    ("periods", "lang", "line"),
    [
        (None, "da", "Periode 2023/24: 2023-08-01 – 2024-03-08 · opgjort pr. 2024-03-08"),
        ("2023Q4", "en", "Period 2023Q4: 2023-10-01 – 2023-12-31 · as of 2024-03-08"),
        (
            "2023Q3,2023Q4,2024Q1",
            "da",
            "Periode 2023Q3–2024Q1: 2023-07-01 – 2024-03-08 · opgjort pr. 2024-03-08",
        ),
    ],
)
def test_the_chart_says_its_period_and_as_of_date(
    periods: str | None, lang: str, line: str
) -> None:
    """A printed chart travels without its table: it carries its own period and as-of date."""
    result, references = table(periods, 10)

    data, _ = share_chart(
        result,
        references=references,
        fmt="svg",
        lang=lang,  # type: ignore[arg-type]
        spans=spans(periods),
        as_of=AS_OF,
    )

    assert line in _svg_texts(data)


def test_the_chart_names_a_school_as_the_pages_do() -> None:
    """The bars' labels are the pages' names for the schools (``school_shown``): a name beside
    its id, the id alone without a name, and the id alone when the name given is the id."""
    names = {"851000": "Vestre Skole", "851001": "851001"}
    figure, _ = share_figure(
        _one_period([5.0, 12.0, 20.0], 8.0),
        references=[None],
        spans=spans(None),
        as_of=AS_OF,
        names=names,
    )
    (axes,) = figure.axes
    labels = {label.get_text() for label in axes.get_yticklabels() + axes.get_xticklabels()}
    shown = {school_shown(school, names) for school in ("851000", "851001", "851002")}
    assert shown == {"Vestre Skole (851000)", "851001", "851002"}
    assert shown <= labels
    assert "851001 (851001)" not in labels


# -- the bars' values stay readable ---------------------------------------------------------------


def _one_period(shares: list[float], municipality: float) -> pl.DataFrame:
    """A ``stats --by school`` result of one period: schools with ``shares``, and the
    municipality's row."""
    schools = [f"85100{i}" for i in range(len(shares))]
    return pl.DataFrame(
        {
            PERIOD: ["2023/24"] * (len(shares) + 1),
            "school_id": [*schools, None],
            MUNICIPALITY: [False] * len(shares) + [True],
            SUPPRESSED: [False] * (len(shares) + 1),
            SHARE_OVER_10: [*shares, municipality],
        }
    )


def _overlaps(texts: list[Bbox], lines: list[Bbox]) -> list[tuple[int, int]]:
    return [(i, j) for i, t in enumerate(texts) for j, line in enumerate(lines) if t.overlaps(line)]


def _drawn(shares: list[float], municipality: float, national: float) -> tuple[list[Bbox], ...]:
    """Where the bars' values, the lines and the legend land on the drawn figure, in pixels."""
    reference = Reference("2022/23", None, national, ())
    figure, drawn = share_figure(
        _one_period(shares, municipality),
        references=[reference],
        spans=spans(None),
        as_of=AS_OF,
        names={"851000": "Vestre Skole"},
    )
    assert drawn.municipality == (municipality,)
    assert drawn.national == (national,)
    canvas = figure.canvas
    assert isinstance(canvas, FigureCanvasAgg)
    renderer = canvas.get_renderer()
    figure.draw(renderer)
    (axes,) = figure.axes
    values = [text.get_window_extent(renderer) for text in axes.texts]
    assert [text.get_text() for text in axes.texts] == [
        f"{v:.1f}".replace(".", ",") for v in sorted(shares)
    ]
    # A line is as wide as its stroke: pad its (zero-width) extent by half of it either side.
    lines = [
        line.get_window_extent(renderer).padded(line.get_linewidth() * figure.dpi / 72 / 2)
        for line in axes.get_lines()
    ]
    legend = axes.get_legend()
    assert legend is not None
    return values, lines, [legend.get_window_extent(renderer)], [figure.bbox]


def test_a_bar_s_value_never_sits_on_the_municipality_s_or_the_nation_s_line() -> None:
    """The example's shape: a bar ends just short of the municipality's line (25,3 beside
    26,3), and another just short of the nation's: the value at the bar's end sat on the line."""
    values, lines, legend, (whole,) = _drawn([25.3, 19.7, 28.6], 26.3, 20.0)
    assert _overlaps(values, lines) == []
    assert _overlaps(values, legend) == []
    assert all(whole.contains(box.x0, box.y0) and whole.contains(box.x1, box.y1) for box in values)


@settings(max_examples=examples(15), deadline=None)
@given(
    shares=st.lists(st.floats(0, 100, allow_nan=False), min_size=1, max_size=6),
    municipality=st.floats(0, 100, allow_nan=False),
    national=st.floats(0, 100, allow_nan=False),
)
def test_no_value_sits_on_a_line_wherever_the_lines_fall(
    shares: list[float], municipality: float, national: float
) -> None:
    """Whatever the figures, each bar's value is drawn clear of both lines and the legend,
    and inside the image."""
    values, lines, legend, (whole,) = _drawn(shares, municipality, national)
    assert _overlaps(values, lines) == []
    assert _overlaps(values, legend) == []
    assert all(whole.contains(box.x0, box.y0) and whole.contains(box.x1, box.y1) for box in values)
