"""``fravaer stats`` (docs/stats.md): per period the groups, the municipality and the nation;
then the trend and the freshness of the data."""

from __future__ import annotations

from datetime import date
from typing import Any

import polars as pl
from rich.table import Table

from fravaer import schema as s
from fravaer import stats as st
from fravaer.policy import Lang, Policy
from fravaer.render.console import make_console, styled
from fravaer.words import NO_VALUE, number_text, plain_text, word

HIDDEN_MARK = "x"
"""How the table marks a suppressed cell."""


def render_stats(
    table: pl.DataFrame,
    *,
    keys: list[str],
    periods: list[tuple[str, date, date]],
    references: list[st.Reference | None],
    freshness: pl.DataFrame,
    policy: Policy,
    as_of: date,
    min_cell: int | None,
    lang: Lang = "da",
    width: int | None = None,
) -> str:
    """Per period a table of the groups, the municipality and the nation; then trend, freshness.

    ``periods`` holds each period's label, first and last counted day; ``references`` the
    national figures per period (``stats.Reference`` or None); ``min_cell`` None means the table
    was not suppressed, which the text then says first.
    """
    title = word("stats_title", lang, as_of=as_of.isoformat(), policy=policy.title(lang))
    console, buffer = make_console(width, title=title)
    if min_cell is None:
        console.print(styled(word("no_suppression", lang), style="bold"))
    steps = [step.step for step in policy.steps]
    for (label, start, end), reference in zip(periods, references, strict=True):
        part = table.filter(pl.col(st.PERIOD) == label)
        console.print(_stats_table(part, keys, steps, reference, label, start, end, lang))
        if reference is None:
            console.print(word("no_national", lang))
        else:
            for source in reference.sources:
                console.print(word("stats_source", lang, year=reference.period, source=source))
    if len(periods) > 1:
        console.print(styled(word("stats_trend", lang), style="italic"))
        console.print(_trend_table(table, keys, [p[0] for p in periods], references, lang))
    console.print(_freshness_table(freshness, lang))
    if min_cell is not None:
        console.print(word("hidden_mark", lang, mark=HIDDEN_MARK, n=min_cell))
    console.print(word("methods", lang))
    return buffer.getvalue()


def _stats_cell(row: dict[str, Any], column: str, lang: Lang) -> str:
    if row[st.SUPPRESSED]:
        return HIDDEN_MARK
    value = row[column]
    if value is None:
        return NO_VALUE
    if isinstance(value, float):
        return number_text(value, lang)
    return str(value)


def _group_cells(row: dict[str, Any], keys: list[str]) -> list[str]:
    return [plain_text(row[k]) for k in keys]


def _stats_table(
    part: pl.DataFrame,
    keys: list[str],
    steps: list[int],
    reference: st.Reference | None,
    label: str,
    start: date,
    end: date,
    lang: Lang,
) -> Table:
    title = word("stats_period", lang, label=label, start=start.isoformat(), end=end.isoformat())
    table = Table(title=title, title_justify="left")
    figures = [
        "pupils",
        "school_days",
        "absence_pct",
        "absence_pct_pooled",
        "illness_pct",
        "leave_pct",
        "unlawful_pct",
        "pupils_0_5",
        "pupils_5_10",
        "pupils_over_10",
        "share_over_10",
    ]
    for key in keys:
        table.add_column(word(key, lang), no_wrap=True)
    for column in figures:
        table.add_column(word(column, lang), justify="right")
    for n in steps:
        table.add_column(word("step_n", lang, n=n), justify="right")
    columns = [*figures, *(st.step_column(n) for n in steps)]
    groups = part.filter(~pl.col(st.MUNICIPALITY))
    for row in groups.iter_rows(named=True):
        table.add_row(*_group_cells(row, keys), *(_stats_cell(row, c, lang) for c in columns))
    table.add_section()
    for row in part.filter(pl.col(st.MUNICIPALITY)).iter_rows(named=True):
        name = [word("municipality", lang), *[""] * (len(keys) - 1)]
        table.add_row(*name, *(_stats_cell(row, c, lang) for c in columns))
    if reference is not None:
        national = {"absence_pct": reference.absence_pct, "share_over_10": reference.share_over_10}
        table.add_row(
            word("national", lang, year=reference.period),
            *[""] * (len(keys) - 1),
            *(
                number_text(national[c], lang) if national.get(c) is not None else ""
                for c in columns
            ),
        )
    return table


def _trend_table(
    table: pl.DataFrame,
    keys: list[str],
    labels: list[str],
    references: list[st.Reference | None],
    lang: Lang,
) -> Table:
    trend = Table()
    for key in keys:
        trend.add_column(word(key, lang))
    for label in labels:
        trend.add_column(label, justify="right")
    groups = table.filter(~pl.col(st.MUNICIPALITY))
    names = groups.select(keys).unique(maintain_order=True).sort(keys, nulls_last=True)
    for name in names.iter_rows():
        cells = []
        for label in labels:
            match = groups.filter(
                pl.col(st.PERIOD) == label,
                *(pl.col(k).eq_missing(v) for k, v in zip(keys, name, strict=True)),
            )
            cells.append(
                _stats_cell(match.row(0, named=True), st.SHARE_OVER_10, lang)
                if match.height
                else ""
            )
        trend.add_row(*(plain_text(v) for v in name), *cells)
    trend.add_section()
    totals = []
    for label in labels:
        match = table.filter(pl.col(st.MUNICIPALITY), pl.col(st.PERIOD) == label)
        totals.append(_stats_cell(match.row(0, named=True), st.SHARE_OVER_10, lang))
    trend.add_row(word("municipality", lang), *[""] * (len(keys) - 1), *totals)
    national = [
        number_text(r.share_over_10, lang) if r and r.period == label and r.share_over_10 else ""
        for label, r in zip(labels, references, strict=True)
    ]
    if any(national):  # only a period's own school year: the trend compares like with like
        trend.add_row(word("national_plain", lang), *[""] * (len(keys) - 1), *national)
    return trend


def _freshness_table(freshness: pl.DataFrame, lang: Lang) -> Table:
    table = Table(title=word("freshness", lang), title_justify="left")
    table.add_column(word(s.SCHOOL_ID, lang))
    table.add_column(word("latest", lang))
    table.add_column(word("behind", lang), justify="right")
    for school, latest, behind in freshness.iter_rows():
        table.add_row(school, latest.isoformat(), str(behind))
    return table
