"""``fravaer trend``, ``patterns`` and ``early-warning`` (docs/trend.md): weeks, sparklines,
a text chart, patterns and projections."""

from __future__ import annotations

import math
from datetime import date
from decimal import Decimal
from typing import Any

import polars as pl
from rich.table import Table
from rich.text import Text

from fravaer import schema as s
from fravaer.lessons import (
    LESSON_FLAGS,
    LESSON_Q,
    MIN_OPPORTUNITIES,
)
from fravaer.policy import Lang, Policy
from fravaer.render.console import make_console, styled
from fravaer.trend import (
    ABSENT_DAYS_WEEK,
    CATEGORY_DAYS_WEEK,
    DIRECTION,
    EDGE_ABSENT_DAYS,
    EDGE_DAYS,
    FALLING,
    FDR,
    FLAG_EDGE,
    FLAG_PARTIAL,
    FLAG_RUN,
    FLAG_WEEKDAY,
    FLAGS,
    LONGEST_RUN,
    PARTIAL_DAYS,
    PARTIAL_DAYS_FLAG,
    PCT_BEFORE,
    PROJECTED_DATE,
    PROJECTED_DAYS,
    REASONS,
    RECENT_DAYS,
    RECENT_PCT,
    RISING,
    RUN_DAYS_FLAG,
    SCHOOL_DAYS_WEEK,
    WEEK_END,
    WEEKDAY_FLAG,
    WEEKDAY_PCT,
    WEEKDAYS,
    first_threshold,
    pct_thresholds,
)
from fravaer.words import (
    NO_VALUE,
    NUMBER_WORDS,
    lesson_words,
    number_text,
    plain_text,
    window_text,
    word,
)


def _weeks_text(weeks: int, lang: Lang) -> str:
    """``de seneste tre uger`` / ``the last three weeks``; ``den seneste uge`` for one."""
    if weeks == 1:
        return word("last_week", lang)
    count = NUMBER_WORDS[weeks](lang) if weeks < len(NUMBER_WORDS) else str(weeks)
    return word("last_weeks", lang, count=count)


def _window_line(policy: Policy, lang: Lang) -> str:
    """``Fravær i % af seneste 100 skoledage · <the policy's title>``."""
    window = word("absence_of_window", lang, window=window_text(policy.primary.window, lang))
    return f"{window} · {policy.title(lang)}"


def shown_pcts(values: list[float], *, limits: list[Decimal], lang: Lang) -> list[str]:
    """Percentages as a parent reads them: whole numbers, unless rounding one of them would reach
    a limit it has not reached; then all with one decimal, rounded down (9.8 is ``9,8``, never
    ``10``, beside a 10 % limit).

    >>> shown_pcts([13.2, 11.0], limits=[Decimal(10)], lang="da")
    ['13', '11']
    >>> shown_pcts([8.8, 9.96], limits=[Decimal(10)], lang="da")
    ['8,8', '9,9']
    """
    wholes = [math.floor(value + 0.5) for value in values]
    if any(v < limit <= w for v, w in zip(values, wholes, strict=True) for limit in limits):
        return [number_text(math.floor(value * 10) / 10, lang) for value in values]
    return [str(whole) for whole in wholes]


def trend_summary(
    *,
    pct_before: float | None,
    pct_now: float | None,
    weeks_back: int,
    direction: str | None,
    step: int | None,
    policy: Policy,
    lang: Lang = "da",
) -> str:
    """One or two plain sentences about a pupil's trend, generated from the numbers.

    ``direction`` is :func:`fravaer.trend.direction`'s (rising, falling, flat or None).

    >>> from fravaer.ingest.policy import load_policy
    >>> print(trend_summary(pct_before=13.2, pct_now=11.0, weeks_back=3, direction="falling",
    ...                     step=1, policy=load_policy("aalborg-2023")))
    Fraværet er faldet fra 13 % til 11 % de seneste tre uger. Det er på eller over grænsen på 10 %.
    """
    if pct_now is None:
        return word("sum_none", lang)
    lines = dict(pct_thresholds(policy))
    limits = list(lines.values())
    if direction is None or pct_before is None:
        first = word("sum_single", lang, b=shown_pcts([pct_now], limits=limits, lang=lang)[0])
    else:
        key = {RISING: "sum_rising", FALLING: "sum_falling"}.get(direction, "sum_flat")
        before, now = shown_pcts([pct_before, pct_now], limits=limits, lang=lang)
        first = word(key, lang, a=before, b=now, weeks=_weeks_text(weeks_back, lang))
    if step is None:
        return first
    if step == 0:
        limit = lines.get(policy.steps[0].step)
        return (
            f"{first} {word('sum_below', lang, t=number_text(limit, lang, decimals=None))}"
            if limit
            else first
        )
    limit = lines.get(step)
    return (
        f"{first} {word('sum_at', lang, t=number_text(limit, lang, decimals=None))}"
        if limit
        else first
    )


_SPARKS = "▁▂▃▄▅▆▇█"


SPARK_TOP = 25.0
"""Sparklines share one scale, 0 to 25 %, so that pupils compare at a glance."""


def sparkline(values: list[float | None]) -> str:
    """One character per week on a fixed 0-25 % scale; a space for a week without a value.

    >>> sparkline([0.0, 5.0, 12.5, 25.0, 40.0, None])
    '▁▂▅██ '
    """
    out = []
    for value in values:
        if value is None:
            out.append(" ")
            continue
        level = min(value, SPARK_TOP) / SPARK_TOP * (len(_SPARKS) - 1)
        out.append(_SPARKS[round(level)])
    return "".join(out)


def text_chart(
    weeks: list[date], values: list[float | None], *, limits: list[Decimal], lang: Lang
) -> str:
    """A small line chart in text: one column per week, limits drawn as dotted lines.

    Rows are whole percentage steps (2, 5 … when the values are high) and one row at each limit;
    each week's value is a ``●`` in the highest row at or below it.
    """
    known = [v for v in values if v is not None]
    top = max([*known, *(float(x) for x in limits), 5.0])
    step = next(s for s in (1, 2, 5, 10, 20) if top / s <= 14)
    # Rows at every step, plus a row exactly at each limit: a point is in the highest row at or
    # below its value, so a point is on a limit's row only when it has reached the limit.
    limit_levels = {float(x) for x in limits}
    levels = sorted({*(float(k * step) for k in range(math.floor(top / step) + 1)), *limit_levels})
    names = {level: number_text(level, lang, decimals=None) for level in levels}
    label_width = max(len(name) for name in names.values())
    cell = 4
    lines = []
    for index in range(len(levels) - 1, -1, -1):
        level = levels[index]
        upper = levels[index + 1] if index + 1 < len(levels) else math.inf
        is_limit = level in limit_levels
        fill = "┈" if is_limit else " "
        cells = []
        for value in values:
            hit = value is not None and level <= value < upper
            cells.append(("●" if hit else fill).center(cell, fill))
        suffix = f" {word('limit', lang)} {names[level]} %" if is_limit else ""
        lines.append(f"{names[level]:>{label_width}} ┤{''.join(cells)}{suffix}".rstrip())
    axis = " " * label_width + " └" + "─" * (cell * len(values))
    labels = " " * label_width + "  " + "".join(f"{d.isocalendar()[1]:>{cell - 1}} " for d in weeks)
    week_word = word("week", lang).lower()
    return "\n".join([" %", *lines, axis, labels.rstrip() + f"  ({week_word})"])


def render_trend(
    series: pl.DataFrame,
    *,
    summary: str,
    policy: Policy,
    as_of: date,
    lang: Lang = "da",
    width: int | None = None,
) -> str:
    """One pupil's weeks: title, summary, a text chart with the limits, and the weekly table."""
    console, buffer = make_console(width)
    if series.is_empty():
        console.print(word("trend_no_weeks", lang, as_of=as_of.isoformat()))
        return buffer.getvalue()
    pupil = series[s.PUPIL_ID][0]
    console.print(
        styled(word("trend_title", lang, pupil=pupil, as_of=as_of.isoformat()), style="bold")
    )
    console.print(_window_line(policy, lang))
    console.print()
    console.print(styled(summary, style="bold"))
    console.print()
    limits = [x for _, x in pct_thresholds(policy)]
    chart = text_chart(
        series[WEEK_END].to_list(), series[s.ABSENCE_PCT].to_list(), limits=limits, lang=lang
    )
    console.print(Text(chart), soft_wrap=True)  # drawn here from numbers: its own lines
    console.print()
    table = Table(title=word("week_by_week", lang), title_justify="left")
    table.add_column(word("week", lang), justify="right")
    table.add_column(word("last_school_day", lang))
    table.add_column(word("absence_pct", lang), justify="right")
    table.add_column(word("step", lang), justify="right")
    table.add_column(word("school_days_week", lang), justify="right")
    table.add_column(word("days_week", lang), justify="right")
    for category in s.ABSENCE_CATEGORIES:
        table.add_column(word(f"{category}_days", lang), justify="right")
    for row in series.iter_rows(named=True):
        table.add_row(
            str(row[WEEK_END].isocalendar()[1]),
            row[WEEK_END].isoformat(),
            number_text(row[s.ABSENCE_PCT], lang),
            plain_text(row[s.STEP]),
            str(row[SCHOOL_DAYS_WEEK]),
            number_text(row[ABSENT_DAYS_WEEK], lang),
            *(number_text(row[CATEGORY_DAYS_WEEK[c]], lang) for c in s.ABSENCE_CATEGORIES),
        )
    console.print(table)
    return buffer.getvalue()


def render_trend_class(
    series: pl.DataFrame,
    directions: pl.DataFrame,
    *,
    name: str,
    policy: Policy,
    as_of: date,
    lang: Lang = "da",
    width: int | None = None,
) -> str:
    """A class at a glance: per pupil a sparkline of the weeks, then, now, step and direction."""
    console, buffer = make_console(
        width, title=word("class_title", lang, name=name, as_of=as_of.isoformat())
    )
    console.print(_window_line(policy, lang))
    if series.is_empty():
        console.print(word("trend_no_weeks", lang, as_of=as_of.isoformat()))
        return buffer.getvalue()
    per_pupil = (
        series.group_by(s.PUPIL_ID, maintain_order=True)
        .agg(
            pl.col(s.ABSENCE_PCT),
            pl.col(s.ABSENCE_PCT).last().alias("_now"),
            pl.col(s.STEP).last().alias("_step"),
        )
        .join(directions, on=s.PUPIL_ID, how="left")
        .sort(["_step", "_now", s.PUPIL_ID], descending=[True, True, False], nulls_last=True)
    )
    table = Table()
    table.add_column(word("pupil_id", lang))
    table.add_column(word("week_by_week", lang))
    table.add_column(word("before", lang), justify="right")
    table.add_column(word("absence_pct", lang), justify="right")
    table.add_column(word("step", lang), justify="right")
    table.add_column(word("direction", lang))
    for row in per_pupil.iter_rows(named=True):
        table.add_row(
            row[s.PUPIL_ID],
            sparkline(row[s.ABSENCE_PCT]),
            number_text(row[PCT_BEFORE], lang),
            number_text(row["_now"], lang),
            plain_text(row["_step"]),
            word(row[DIRECTION], lang) if row[DIRECTION] else NO_VALUE,
        )
    console.print(table)
    return buffer.getvalue()


def pattern_words(row: dict[str, Any], lang: Lang) -> str:
    """A pupil's patterns (a row of :func:`fravaer.trend.patterns`) as ``patterns`` shows them:
    "især mandag; 12 dage i træk"; empty without a pattern."""
    words = []
    for flag in (row[FLAGS] or "").split(";"):
        if flag == FLAG_WEEKDAY:
            days = ", ".join(word(d, lang) for d in row[WEEKDAY_FLAG].split(","))
            words.append(word("flag_weekday", lang, days=days))
        elif flag == FLAG_EDGE:
            words.append(word("flag_weekend_holiday", lang))
        elif flag == FLAG_PARTIAL:
            words.append(word("flag_partial_days", lang, n=row[PARTIAL_DAYS]))
        elif flag == FLAG_RUN:
            words.append(word("flag_run", lang, n=row[LONGEST_RUN]))
    if any(flag in LESSON_FLAGS for flag in (row[FLAGS] or "").split(";")):
        words.append(lesson_words(row, lang))
    return "; ".join(words)


def render_patterns(
    result: pl.DataFrame,
    *,
    as_of: date,
    days: int,
    fdr: float,
    lang: Lang = "da",
    show_all: bool = False,
    width: int | None = None,
) -> str:
    """Pupils with a pattern (or all): absence % per weekday, edge days, partial days, runs."""
    console, buffer = make_console(
        width, title=word("patterns_title", lang, as_of=as_of.isoformat(), days=days)
    )
    note = word(
        "patterns_note",
        lang,
        fdr=number_text(100 * fdr, lang, decimals=0),
        partial=PARTIAL_DAYS_FLAG,
        run=RUN_DAYS_FLAG,
    )
    console.print(note)
    if LESSON_Q in result.columns:  # a lesson-level export
        fdr_text = number_text(100 * fdr, lang, decimals=0)
        console.print(word("patterns_lesson_note", lang, fdr=fdr_text, n=MIN_OPPORTUNITIES))
    flagged = result.filter(pl.col(FLAGS) != "")
    console.print(word("patterns_count", lang, n=flagged.height, total=result.height))
    rows = result if show_all else flagged
    if rows.is_empty():
        console.print(word("patterns_none", lang))
        return buffer.getvalue()
    table = Table(
        title=word("all_pupils" if show_all else "patterns_list", lang), title_justify="left"
    )
    for key in (s.PUPIL_ID, s.SCHOOL_ID, s.CLASS_NAME):
        table.add_column(word(key, lang))
    table.add_column(word("absence_pct", lang), justify="right")
    for short in ("mon", "tue", "wed", "thu", "fri"):
        table.add_column(f"{word(short, lang)} %", justify="right")
    table.add_column(word("edge", lang), justify="right")
    table.add_column(word("partial", lang), justify="right")
    table.add_column(word("run", lang), justify="right")
    table.add_column(word("found", lang))
    for row in rows.iter_rows(named=True):
        edge = (
            f"{row[EDGE_ABSENT_DAYS]}/{row[EDGE_DAYS]}" if row[EDGE_DAYS] is not None else NO_VALUE
        )
        table.add_row(
            row[s.PUPIL_ID],
            row[s.SCHOOL_ID] or "",
            row[s.CLASS_NAME] or "",
            number_text(row[s.ABSENCE_PCT], lang),
            *(number_text(row[WEEKDAY_PCT[d]], lang, decimals=0) for d in WEEKDAYS),
            edge,
            plain_text(row[PARTIAL_DAYS]),
            plain_text(row[LONGEST_RUN]),
            pattern_words(row, lang),
        )
    console.print(table)
    return buffer.getvalue()


def render_early_warning(
    result: pl.DataFrame,
    *,
    policy: Policy,
    as_of: date,
    horizon: int,
    lang: Lang = "da",
    width: int | None = None,
) -> str:
    """Pupils below step 1 to act on now: why, the recent rate and the projected crossing."""
    console, buffer = make_console(
        width, title=word("ew_title", lang, as_of=as_of.isoformat(), horizon=horizon)
    )
    limit = number_text(first_threshold(policy), lang, decimals=None)
    console.print(word("ew_note", lang, recent=RECENT_DAYS, t=limit))
    if LESSON_Q in result.columns:  # a lesson-level export: its lesson patterns count too
        fdr_text = number_text(100 * FDR, lang, decimals=0)
        console.print(word("patterns_lesson_note", lang, fdr=fdr_text, n=MIN_OPPORTUNITIES))
    if result.is_empty():
        console.print(word("ew_none", lang))
        return buffer.getvalue()
    table = Table()
    for key in (s.PUPIL_ID, s.SCHOOL_ID, s.CLASS_NAME):
        table.add_column(word(key, lang))
    table.add_column(word("before", lang), justify="right")
    table.add_column(word("absence_pct", lang), justify="right")
    table.add_column(word("recent", lang), justify="right")
    table.add_column(word("crossing", lang))
    table.add_column(word("reasons", lang))
    for row in result.iter_rows(named=True):
        crossing = (
            word(
                "in_day" if row[PROJECTED_DAYS] == 1 else "in_days",
                lang,
                date=row[PROJECTED_DATE].isoformat(),
                n=row[PROJECTED_DAYS],
            )
            if row[PROJECTED_DATE] is not None
            else NO_VALUE
        )
        reasons = [word(f"reason_{r}", lang) for r in row[REASONS].split(";")]
        flags = pattern_words(row, lang)
        why = ", ".join(reasons) + (f" ({flags})" if flags else "")
        table.add_row(
            row[s.PUPIL_ID],
            row[s.SCHOOL_ID] or "",
            row[s.CLASS_NAME] or "",
            number_text(row[PCT_BEFORE], lang),
            number_text(row[s.ABSENCE_PCT], lang),
            number_text(row[RECENT_PCT], lang),
            crossing,
            why,
        )
    console.print(table)
    return buffer.getvalue()
