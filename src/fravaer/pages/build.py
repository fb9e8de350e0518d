"""Render the site's pages into memory from the templates (docs/site.md).

:func:`overview_pages` and :func:`render_dossiers` lay out the collected figures
(:func:`collect_site`) with jinja2, autoescape on: every text, from the data or a policy, is
HTML-escaped where it lands, and control and invisible characters are shown as U+FFFD
(``schema.shown_text``) by the environment's ``finalize`` (:mod:`fravaer.pages.environment`).
It reads only the package's own templates; the meeting sheet's questions come with the context
(``SiteContext.template``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from functools import cached_property
from typing import Any, Final

import polars as pl
from jinja2 import Environment

from fravaer import schema as s
from fravaer.escalate import (
    CHANGE,
    ESCALATION,
    IMPROVEMENT,
    PREVIOUS_QUARTER_FLAG,
    PREVIOUS_STEP,
    RESPONSIBLE,
    SEPARATOR,
)
from fravaer.lessons import LESSON_PATTERN
from fravaer.meeting import MeetingTemplate, Sheet, lessons_of, weekdays_of, weeks_of
from fravaer.pages.chart import chart, period_chart
from fravaer.pages.environment import environment, page_common
from fravaer.pages.meeting import responsible_text, sheet_view
from fravaer.pages.numbers import Num, days, number, percent, table_rows
from fravaer.policy import Lang, Policy, Step
from fravaer.render import condition_text, pattern_words, trend_summary
from fravaer.site import (
    AGENDA_STEP,
    PUPILS_NOTIFY,
    PUPILS_WARN,
    RISE,
    Changes,
    SiteFrames,
    SitePlans,
    agenda,
    listed_expr,
    quarter_flag_counts,
    site,
    site_candidates,
    site_direction,
    site_shown,
)
from fravaer.stats import (
    DAYS_BEHIND,
    FRESHNESS_LAG_DAYS,
    LATEST_DATE,
    MUNICIPALITY,
    PERIOD,
    PUPILS,
    PUPILS_OVER_10,
    SHARE_OVER_10,
    SUPPRESSED,
    Period,
    Reference,
    parse_period,
    step_column,
    suppress,
)
from fravaer.trend import (
    ABSENT_DAYS_WEEK,
    DIRECTION,
    DIRECTION_WEEKS,
    FLAGS,
    PATTERN_DAYS,
    PCT_BEFORE,
    PROJECTED_DATE,
    REASONS,
    RECENT_PCT,
    SCHOOL_DAYS_WEEK,
    WEEK_END,
    WEEKDAY_FLAG,
    WEEKDAY_PCT,
    WEEKDAYS,
    WEEKS_BACK,
)
from fravaer.words import MONTH_NAMES, NO_VALUE, school_shown, window_text, word

INDEX: Final = "index.html"
PAGE_SUFFIX: Final = ".html"


def collect_site(
    frame: pl.LazyFrame,
    classified: pl.DataFrame,
    *,
    policy: Policy,
    as_of: date,
    period: Period,
    min_cell: int,
    parts: int = 1,
    lessons: pl.LazyFrame | None = None,
    school_days: pl.DataFrame | None = None,
) -> SiteFrames:
    """Every figure of the site, each computed once, in :mod:`fravaer.site`'s rounds.

    ``classified`` is the run's classification (its pupils name the others' pupils); then the
    plans that need them; then the direction of the early warning's candidates; then the early
    warning, trends and directions put together from those, and the quarter rule's counts and
    the agenda from what is collected (docs/site.md#speed). The school year by school and its
    parts are suppressed together (``min_cell``, as ``fravaer stats``), as the pages need them.
    ``school_days``: each school's dates, read with the as-of date (:func:`fravaer.site.site`).
    """
    plans = site(
        frame,
        classified=classified.lazy(),
        listed=classified.filter(listed_expr())[s.PUPIL_ID].to_list(),
        below=classified.filter(pl.col(s.STEP) == 0)[s.PUPIL_ID].to_list(),
        policy=policy,
        as_of=as_of,
        period=period,
        parts=parts,
        lessons=lessons,
        school_days=school_days,
    )
    # One plan at a time: the peak memory is the largest plan's (docs/site.md#speed).
    done = {name: plan.collect() for name, plan in plans.named().items()}
    collected = SitePlans(**{name: part.lazy() for name, part in done.items()})
    candidates = site_candidates(classified.lazy(), collected).collect()
    moving = site_direction(
        frame, policy=policy, as_of=as_of, pupils=candidates[s.PUPIL_ID].to_list()
    ).collect()
    shown = site_shown(classified.lazy(), collected, moving=moving.lazy())
    last = dict(zip(shown, pl.collect_all(list(shown.values())), strict=True))
    listed = done["listed"]
    # The school year and its parts are one output: hidden together (docs/stats.md).
    both = suppress(done["schools"], keys=[s.SCHOOL_ID], min_cell=min_cell, as_of=as_of)
    year = pl.col(PERIOD) == period.label
    return SiteFrames(
        listed=listed,
        patterns=done["patterns"],
        early_warning=last["early_warning"],
        schools=both.filter(year),
        classes=done["classes"],
        grades=done["grades"],
        freshness=done["freshness"],
        periods=both.filter(~year),
        weekdays=done["weekdays"],
        trend=last["trend"],
        direction=last["direction"],
        flags=quarter_flag_counts(listed.lazy()).collect(),
        agenda=agenda(listed.lazy(), last["direction"].lazy(), done["patterns"].lazy()).collect(),
    )


# -- pages ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SiteContext:
    """What every page states: the date, the policy, the language, the school names."""

    as_of: date
    policy: Policy
    national: Policy | None
    lang: Lang
    period_label: str
    names: Mapping[str, str]  # school id -> name (may be empty)
    folders: Mapping[str, str]  # school id -> folder name
    tokens: Mapping[str, str]  # pupil id -> token
    min_cell: int
    reference: Reference | None
    version: str  # fravaer's, in the footer
    template: MeetingTemplate  # the meeting sheet's questions

    def school_name(self, school: str) -> str:
        return self.names.get(school, school)

    def common(self) -> dict[str, Any]:
        """:func:`page_common` of this site: the same for every page, so built once."""
        return self._common

    @cached_property
    def _common(self) -> dict[str, Any]:
        return page_common(
            lang=self.lang, as_of=self.as_of, policy=self.policy, version=self.version
        )


def _pupil_row(row: Mapping[str, Any], ctx: SiteContext) -> dict[str, Any]:
    lang = ctx.lang
    step = row[s.STEP]
    flag = row.get(s.QUARTER_FLAG)
    return {
        "id": row[s.PUPIL_ID],
        "class": row[s.CLASS_NAME] or "–",
        "step": number(step, lang),
        "absent_days": number(row[s.ABSENT_DAYS], lang),
        "window_days": number(row[s.WINDOW_DAYS], lang),
        "pct": percent(row[s.ABSENCE_PCT], lang),
        "quarter_pct": percent(row.get(s.QUARTER_UNLAWFUL_PCT), lang),
        "flag": word(flag, lang) if flag in (s.FLAG_WARN, s.FLAG_NOTIFY) else "",
        "responsible": responsible_text(
            step, flag, policy=ctx.policy, national=ctx.national, lang=lang
        ),
        "href": ctx.tokens[row[s.PUPIL_ID]] + PAGE_SUFFIX,
    }


def _stats_row(row: Mapping[str, Any], policy: Policy, lang: Lang) -> dict[str, Any]:
    return {
        "pupils": number(row[PUPILS], lang),
        "pct": percent(row[s.ABSENCE_PCT], lang),
        "over_10": number(row[PUPILS_OVER_10], lang),
        "share": percent(row[SHARE_OVER_10], lang),
        "steps": [number(row[step_column(st.step)], lang) for st in policy.steps],
        "hidden": bool(row[SUPPRESSED]),
    }


def _period_name(period: Period, lang: Lang) -> str:
    """A part of the school year as people name it: ``okt.–dec. 2023``."""
    return word(
        "period_months",
        lang,
        first=MONTH_NAMES[period.start.month - 1](lang),
        last=MONTH_NAMES[period.end.month - 1](lang),
        year=period.end.year,
    )


def _trend(periods: pl.DataFrame, ctx: SiteContext) -> dict[str, Any]:
    """The municipality's trend: a row per school and the municipality's, a share over 10 % per
    period (``None`` where hidden, or where the school has no rows in the period: shown ``–``),
    the chart, and its text alternative."""
    lang = ctx.lang
    labels: list[str] = periods[PERIOD].unique(maintain_order=True).to_list()
    names = [_period_name(parse_period(label), lang) for label in labels]
    rows: list[dict[str, Any]] = []
    for key, part in periods.partition_by(MUNICIPALITY, s.SCHOOL_ID, as_dict=True).items():
        total, school = bool(key[0]), key[1]
        by_label = {r[PERIOD]: r for r in part.iter_rows(named=True)}
        cells = [by_label.get(label) for label in labels]
        rows.append(
            {
                "id": "" if total else school,
                "name": word("municipality", lang) if total else ctx.school_name(str(school)),
                "total": total,
                "cells": [
                    {
                        "hidden": c is not None and bool(c[SUPPRESSED]),
                        "share": percent(None if c is None else c[SHARE_OVER_10], lang),
                    }
                    for c in cells
                ],
            }
        )
    rows.sort(key=lambda r: (r["total"], r["id"]))
    reference = ctx.reference
    national = None
    if reference is not None and reference.share_over_10 is not None:
        national = (reference.share_over_10, word("national", lang, year=reference.period))
    drawn = period_chart(
        names,
        [(r["name"], [c["share"].value for c in r["cells"]], r["total"]) for r in rows],
        national=national,
        lang=lang,
    )
    total_row = next((r for r in rows if r["total"]), None)
    values = [
        word("period_value", lang, value=c["share"].text, period=name)
        for c, name in zip(total_row["cells"] if total_row else [], names, strict=True)
        if not c["hidden"] and c["share"].value is not None
    ]
    return {
        "periods": names,
        "period_labels": labels,
        "trend_rows": rows,
        "chart": drawn,
        "chart_title": word("stats_trend", lang),
        "chart_caption": word(
            "periods_caption",
            lang,
            period=ctx.period_label,
            as_of=ctx.as_of.isoformat(),
            policy=ctx.policy.name,
        ),
        "chart_desc": word("periods_desc", lang, values="; ".join(values) or NO_VALUE),
    }


def municipality_page(env: Environment, frames: SiteFrames, ctx: SiteContext) -> str:
    """``index.html``: per school pupils, steps, share over 10 % and quarter-rule flags, the
    trend over the school year's parts, and each school's data freshness (``frames.schools``
    and ``frames.periods`` suppressed; a hidden school's flags are hidden with it)."""
    lang = ctx.lang
    flags = {
        (bool(row[MUNICIPALITY]), row[s.SCHOOL_ID]): row
        for row in frames.flags.iter_rows(named=True)
    }

    def flag_cells(row: Mapping[str, Any]) -> list[Num]:
        found = flags.get((bool(row[MUNICIPALITY]), row[s.SCHOOL_ID]))
        return [number(found[c] if found else 0, lang) for c in (PUPILS_WARN, PUPILS_NOTIFY)]

    rows, total = [], None
    for row in frames.schools.iter_rows(named=True):
        shown = _stats_row(row, ctx.policy, lang) | {"flags": flag_cells(row)}
        if row[MUNICIPALITY]:
            total = shown
            continue
        school = row[s.SCHOOL_ID]
        shown |= {
            "id": school,
            "name": ctx.school_name(school),
            "href": f"{ctx.folders[school]}/{INDEX}",
        }
        rows.append(shown)
    fresh = []
    for seen in frames.freshness.iter_rows(named=True):
        school, latest, behind = seen[s.SCHOOL_ID], seen[LATEST_DATE], seen[DAYS_BEHIND]
        fresh.append(
            {
                "id": school,
                "name": ctx.school_name(school),
                "latest": latest.isoformat(),
                "behind": number(behind, lang),
                "before": number((ctx.as_of - latest).days, lang),
                "stale": word("stale", lang, n=behind) if behind > FRESHNESS_LAG_DAYS else "",
            }
        )
    reference = ctx.reference
    national = (
        word(
            "national_share",
            lang,
            period=reference.period,
            share=percent(reference.share_over_10, lang).text,
        )
        if reference is not None and reference.share_over_10 is not None
        else ""
    )
    return env.get_template("municipality.html").render(
        ctx.common() | _trend(frames.periods, ctx),
        title=word("all_schools", lang),
        rows=rows,
        total=total,
        fresh=fresh,
        steps=[st.step for st in ctx.policy.steps],
        national=national,
        note=word(
            "stats_note",
            lang,
            period=ctx.period_label,
            until=ctx.as_of.isoformat(),
            min_cell=ctx.min_cell,
        ),
    )


def _reasons(text: str, lang: Lang) -> str:
    return ", ".join(word(f"reason_{r}", lang) for r in text.split(";") if r)


def _flag_word(flag: str | None, lang: Lang) -> str:
    """A quarter flag that asks for action in words (``advar forældre``); else empty."""
    return word(flag, lang) if flag in (s.FLAG_WARN, s.FLAG_NOTIFY) else ""


def _new_steps(row: Mapping[str, Any], ctx: SiteContext) -> list[tuple[Policy, Step]]:
    """The steps an escalation newly reached: the guideline's above the previous step, then the
    quarter rule's above the previous flag (as ``escalate`` fills its ``actions``)."""
    previous = row[PREVIOUS_STEP] or 0
    reached = [
        (ctx.policy, st) for st in ctx.policy.steps if previous < st.step <= (row[s.STEP] or 0)
    ]
    if ctx.national is not None:
        level = {st.label or str(st.step): st.step for st in ctx.national.steps}
        before = level.get(row[PREVIOUS_QUARTER_FLAG] or "", 0)
        now = level.get(row[s.QUARTER_FLAG] or "", 0)
        reached += [(ctx.national, st) for st in ctx.national.steps if before < st.step <= now]
    return reached


def _changes(school: str, changes: Changes | None, ctx: SiteContext) -> dict[str, Any]:
    """The school's escalations and improvements since the reference, ``escalate``'s rows
    ordered as the school's list (step, then absence %, highest first), and what the guideline
    requires at each step newly reached, once per step with the pupils who reached it; or the
    sentence that there is no comparison."""
    lang = ctx.lang
    if changes is None:
        return {"compared": False, "escalations": [], "improvements": [], "required": []}
    if changes.reference_as_of is None:
        since = word("first_run", lang)
    elif changes.state:
        since = word("since_run", lang, date=changes.reference_as_of.isoformat())
    else:
        since = changes.reference_as_of.isoformat()
    # As the school's list: whom to act on first (highest step, then highest absence), not
    # escalate's order by pupil id.
    own = changes.rows.filter(pl.col(s.SCHOOL_ID) == school).sort(
        [s.STEP, s.ABSENCE_PCT, s.PUPIL_ID], descending=[True, True, False], nulls_last=True
    )
    shown: dict[str, list[dict[str, Any]]] = {ESCALATION: [], IMPROVEMENT: []}
    required: dict[tuple[str, int], dict[str, Any]] = {}
    for row in own.iter_rows(named=True):
        pupil = row[s.PUPIL_ID]
        token = ctx.tokens.get(pupil)
        flag_up = _flag_word(row[s.QUARTER_FLAG], lang) != _flag_word(
            row[PREVIOUS_QUARTER_FLAG], lang
        )
        item = {
            "id": pupil,
            "href": None if token is None else token + PAGE_SUFFIX,
            "class": row[s.CLASS_NAME] or "–",
            "previous": number(row[PREVIOUS_STEP], lang),
            "step": number(row[s.STEP], lang),
            "pct": percent(row[s.ABSENCE_PCT], lang),
            "quarter": _flag_word(row[s.QUARTER_FLAG], lang) if flag_up else "",
            "responsible": ", ".join((row[RESPONSIBLE] or "").split(SEPARATOR)),
        }
        shown[row[CHANGE]].append(item)
        if row[CHANGE] != ESCALATION:
            continue
        for policy, st in _new_steps(row, ctx):
            national = policy is not ctx.policy
            title = (
                word("quarter_line_title", lang, flag=_flag_word(st.label, lang))
                if national
                else word("step_n", lang, n=st.step)
            )
            group = required.setdefault(
                (policy.name, st.step),
                {
                    "title": title,
                    "who": st.responsible(lang),
                    "actions": st.actions(lang),
                    "pupils": [],
                    "order": (national, st.step),
                },
            )
            group["pupils"].append(item)
    return {
        "compared": True,
        "since": word("changes_title", lang, since=since),
        "first_run": changes.reference_as_of is None,
        "escalations": shown[ESCALATION],
        "improvements": shown[IMPROVEMENT],
        "required": sorted(required.values(), key=lambda g: g["order"]),
    }


def _agenda(school: str, frames: SiteFrames, ctx: SiteContext) -> list[dict[str, Any]]:
    """The school's agenda for Samrum: the pupils to discuss in order, with their facts."""
    lang = ctx.lang
    items = []
    for row in frames.agenda.filter(pl.col(s.SCHOOL_ID) == school).iter_rows(named=True):
        moved = row[DIRECTION]
        items.append(
            {
                "id": row[s.PUPIL_ID],
                "href": ctx.tokens[row[s.PUPIL_ID]] + PAGE_SUFFIX,
                "class": row[s.CLASS_NAME] or "–",
                "step": number(row[s.STEP], lang),
                "absent_days": number(row[s.ABSENT_DAYS], lang),
                "window_days": number(row[s.WINDOW_DAYS], lang),
                "pct": percent(row[s.ABSENCE_PCT], lang),
                "before": percent(row[PCT_BEFORE], lang),
                "rise": number(row[RISE], lang),
                "direction": word(moved, lang) if moved else NO_VALUE,
                "quarter": _flag_word(row[s.QUARTER_FLAG], lang),
                "patterns": pattern_words(row, lang) if row[FLAGS] else "",
            }
        )
    return items


def school_page(
    env: Environment,
    school: str,
    frames: SiteFrames,
    ctx: SiteContext,
    changes: Changes | None = None,
) -> str:
    """``SCHOOL/index.html``: the school's list, the changes since the reference, the agenda
    for Samrum, the actions, the early warning, classes and grades."""
    lang = ctx.lang
    listed = frames.listed.filter(pl.col(s.SCHOOL_ID) == school)
    pupils = [_pupil_row(row, ctx) for row in listed.iter_rows(named=True)]
    present = sorted({st for st in listed[s.STEP].to_list() if st})
    actions = [
        {
            "step": st,
            "who": ctx.policy.step(st).responsible(lang),
            "actions": ctx.policy.step(st).actions(lang),
        }
        for st in present
    ]
    warned = frames.early_warning.filter(pl.col(s.SCHOOL_ID) == school)
    early = [
        {
            "id": row[s.PUPIL_ID],
            "class": row[s.CLASS_NAME] or "–",
            "pct": percent(row[s.ABSENCE_PCT], lang),
            "recent": percent(row[RECENT_PCT], lang),
            "crossing": row[PROJECTED_DATE].isoformat() if row[PROJECTED_DATE] else "–",
            "reasons": _reasons(row[REASONS], lang),
        }
        for row in warned.iter_rows(named=True)
    ]

    def groups(table: pl.DataFrame, key: str) -> list[dict[str, Any]]:
        own = table.filter(~pl.col(MUNICIPALITY) & (pl.col(s.SCHOOL_ID) == school))
        return [
            _stats_row(row, ctx.policy, lang) | {"name": "–" if row[key] is None else row[key]}
            for row in own.iter_rows(named=True)
        ]

    seen = frames.freshness.filter(pl.col(s.SCHOOL_ID) == school)
    return env.get_template("school.html").render(
        ctx.common() | _changes(school, changes, ctx),
        agenda=_agenda(school, frames, ctx),
        agenda_step=AGENDA_STEP,
        agenda_weeks=DIRECTION_WEEKS,
        title=ctx.school_name(school),
        school_id=school,
        pupils=pupils,
        actions=actions,
        early=early,
        classes=groups(frames.classes, s.CLASS_NAME),
        grades=groups(frames.grades, s.GRADE),
        steps=[st.step for st in ctx.policy.steps],
        freshness=word(
            "school_freshness",
            lang,
            date=seen[LATEST_DATE][0].isoformat() if seen.height else "–",
        ),
    )


def _headline(row: Mapping[str, Any], ctx: SiteContext) -> str:
    lang = ctx.lang
    step = row[s.STEP]
    if step is None:
        said = word("too_few", lang)
    elif step == 0:
        said = word("below", lang)
    else:
        said = word("at_step", lang, n=step)
    return word(
        "headline", lang, days=days(row[s.ABSENT_DAYS], lang), n=row[s.WINDOW_DAYS], step=said
    )


def _why(row: Mapping[str, Any], ctx: SiteContext) -> str:
    lang, policy = ctx.lang, ctx.policy
    step = row[s.STEP] or 0
    shown = {
        "pct": percent(row[s.ABSENCE_PCT], lang).text,
        "start": row[s.WINDOW_START].isoformat() if row[s.WINDOW_START] else "–",
        "end": row[s.WINDOW_END].isoformat() if row[s.WINDOW_END] else "–",
    }
    if step == 0:
        first = condition_text(policy.steps[0].when, policy, lang, top=True)
        return word("why_below", lang, condition=first, **shown)
    return word(
        "why",
        lang,
        n=step,
        condition=condition_text(policy.step(step).when, policy, lang, top=True),
        window=window_text(policy.primary.window, lang),
        **shown,
    )


def dossier_page(
    env: Environment,
    row: Mapping[str, Any],
    *,
    weeks: Sequence[Mapping[str, Any]],
    moved: Mapping[str, Any] | None,
    pattern: Mapping[str, Any] | None,
    sheet: Sheet,
    ctx: SiteContext,
) -> str:
    """``SCHOOL/TOKEN.html``: one pupil's step and why, trend, weekdays, lesson pattern, quarter,
    actions and the meeting sheet (the part that ``escalate``'s sheets are made of too)."""
    lang, policy = ctx.lang, ctx.policy
    step = row[s.STEP]
    week_ends: list[date] = [w[WEEK_END] for w in weeks]
    values: list[float | None] = [w[s.ABSENCE_PCT] for w in weeks]
    last = weeks[-1] if weeks else None
    summary = trend_summary(
        pct_before=moved[PCT_BEFORE] if moved else None,
        pct_now=last[s.ABSENCE_PCT] if last else row[s.ABSENCE_PCT],
        weeks_back=moved[WEEKS_BACK] if moved else 0,
        direction=moved[DIRECTION] if moved else None,
        step=step,
        policy=policy,
        lang=lang,
    )
    table = table_rows(
        (
            w[WEEK_END].isoformat(),
            (
                percent(w[s.ABSENCE_PCT], lang),
                number(w[s.STEP], lang),
                number(w[ABSENT_DAYS_WEEK], lang),
                number(w[SCHOOL_DAYS_WEEK], lang),
            ),
        )
        for w in weeks
    )
    weekdays = []
    flagged = ""
    if pattern is not None:
        weekdays = [
            {"day": word(d, lang), "pct": percent(pattern[WEEKDAY_PCT[d]], lang)} for d in WEEKDAYS
        ]
        if pattern[WEEKDAY_FLAG]:
            named = [word(d, lang) for d in pattern[WEEKDAY_FLAG].split(",")]
            flagged = word("weekday_pattern", lang, days=", ".join(named))
        else:
            flagged = word("weekday_none", lang)
    school = row[s.SCHOOL_ID]
    view = sheet_view(
        sheet,
        policy=policy,
        lang=lang,
        template=ctx.template,
        school=school_shown(school, ctx.names),
        national=ctx.national,
        standalone=False,
    )
    if ctx.national is None or row.get(s.QUARTER_FLAG) is None:
        quarter = word("quarter_unknown", lang)
    else:
        quarter = word(
            "quarter_line",
            lang,
            pct=percent(row[s.QUARTER_UNLAWFUL_PCT], lang).text,
            flag=word(f"quarter_{row[s.QUARTER_FLAG]}", lang),
        )
    return env.get_template("dossier.html").render(
        ctx.common(),
        title=f"{word(s.PUPIL_ID, lang)} {row[s.PUPIL_ID]}",
        pupil=row[s.PUPIL_ID],
        school=ctx.school_name(school),
        school_id=school,
        class_name=row[s.CLASS_NAME] or "–",
        step=number(step, lang),
        headline=_headline(row, ctx),
        why=_why(row, ctx),
        categories=word(
            "category_days",
            lang,
            illness=days(row[s.ILLNESS_DAYS], lang),
            leave=days(row[s.LEAVE_DAYS], lang),
            unlawful=days(row[s.UNLAWFUL_DAYS], lang),
        ),
        summary=summary,
        chart=chart(week_ends, values, policy=policy, lang=lang),
        chart_title=word(
            "trend_chart_caption",
            lang,
            window=window_text(policy.primary.window, lang),
            as_of=ctx.as_of.isoformat(),
            policy=policy.name,
        ),
        trend_note=word("trend_note", lang, window=window_text(policy.primary.window, lang)),
        week_rows=table,
        weekdays=weekdays,
        weekday_flag=flagged,
        weekday_note=word("weekday_note", lang, days=PATTERN_DAYS),
        quarter=quarter,
        responsible=policy.step(step).responsible(lang) if step else "",
        actions=policy.step(step).actions(lang) if step else (),
        lesson_pattern=view.lessons,
        sheet=view,
    )


@dataclass(frozen=True)
class Dossier:
    """What one pupil's page is made of: its path in the site and its figures."""

    path: str
    row: Mapping[str, Any]  # the pupil's row of the site's list
    weeks: Sequence[Mapping[str, Any]]  # the pupil's rows of the trend, oldest first
    moved: Mapping[str, Any] | None  # the pupil's row of the direction, if measured
    pattern: Mapping[str, Any] | None  # the pupil's row of the patterns, if any
    sheet: Sheet


def overview_pages(
    frames: SiteFrames, ctx: SiteContext, *, changes: Changes | None = None
) -> list[tuple[str, bytes]]:
    """The municipality's page and each school's, as ``(path relative to the site's folder,
    UTF-8 bytes)``; the pupils' pages are :func:`render_dossiers` of :func:`dossiers`
    (``fravaer.site_helpers.site_pages_beside`` puts them together).

    ``frames.schools`` and ``frames.periods`` must be suppressed already (:func:`collect_site`)
    and ``ctx.folders`` name every school of ``frames.schools``, ``frames.listed`` and
    ``changes``. ``changes``: the escalations and improvements each school's page shows (None:
    no comparison, and the page says so).
    """
    env = environment()
    pages = [(INDEX, municipality_page(env, frames, ctx))]
    schools = sorted(
        set(frames.schools.filter(~pl.col(MUNICIPALITY))[s.SCHOOL_ID].drop_nulls().to_list())
        | set(frames.listed[s.SCHOOL_ID].to_list())
        | set(changes.rows[s.SCHOOL_ID].to_list() if changes is not None else [])
    )
    for school in schools:
        folder = ctx.folders[school]
        pages.append((f"{folder}/{INDEX}", school_page(env, school, frames, ctx, changes)))
    return [(path, text.encode("utf-8")) for path, text in pages]


@dataclass(frozen=True)
class PupilFigures:
    """What the pupils' pages show: the listed pupils' rows, and theirs of the trend, the
    direction, the patterns and the weekdays. A share of the pupils (:meth:`rows`) is what a
    helper process is sent to render their pages (``fravaer.site_helpers``)."""

    listed: pl.DataFrame
    trend: pl.DataFrame
    direction: pl.DataFrame
    patterns: pl.DataFrame
    weekdays: pl.DataFrame

    @classmethod
    def of(cls, frames: SiteFrames) -> PupilFigures:
        return cls(frames.listed, frames.trend, frames.direction, frames.patterns, frames.weekdays)

    def rows(self, start: int, stop: int) -> PupilFigures:
        """The pupils of the listed rows ``start`` to ``stop`` (in order), with their rows of
        the other frames."""
        if (start, stop) == (0, self.listed.height):
            return self  # every pupil: one process renders them all
        listed = self.listed.slice(start, stop - start)
        theirs = pl.col(s.PUPIL_ID).is_in(listed[s.PUPIL_ID].to_list())
        return PupilFigures(
            listed,
            self.trend.filter(theirs),
            self.direction.filter(theirs),
            self.patterns.filter(theirs),
            self.weekdays.filter(theirs),
        )


def pupil_page(school: str, pupil: str, ctx: SiteContext) -> str:
    """The path of a listed pupil's page in the site: the school's folder and the token."""
    return f"{ctx.folders[school]}/{ctx.tokens[pupil]}{PAGE_SUFFIX}"


def dossiers(figures: PupilFigures, ctx: SiteContext) -> list[Dossier]:
    """Each listed pupil's page as its figures, in the order of ``figures.listed``."""
    # Each pupil's weeks as rows, in one pass over the trend (not a frame per pupil).
    weeks_by_pupil: dict[str, list[dict[str, Any]]] = {}
    for week in figures.trend.iter_rows(named=True):
        weeks_by_pupil.setdefault(week[s.PUPIL_ID], []).append(week)
    moved = {row[s.PUPIL_ID]: row for row in figures.direction.iter_rows(named=True)}
    found = {row[s.PUPIL_ID]: row for row in figures.patterns.iter_rows(named=True)}
    # The meeting sheet's figures: the same trend rows (its latest weeks), the weekdays, and
    # for a lesson-level export the lesson finding of `patterns`.
    sheet_weeks = weeks_of(figures.trend)
    sheet_days = weekdays_of(figures.weekdays)
    has_lessons = LESSON_PATTERN in figures.patterns.columns
    sheet_lessons = lessons_of(figures.patterns) if has_lessons else None
    found_dossiers = []
    for row in figures.listed.iter_rows(named=True):
        pupil = row[s.PUPIL_ID]
        sheet = Sheet(
            row,
            sheet_weeks.get(pupil, ()),
            sheet_days.get(pupil, ()),
            None if sheet_lessons is None else sheet_lessons.get(pupil, {}),
        )
        found_dossiers.append(
            Dossier(
                pupil_page(row[s.SCHOOL_ID], pupil, ctx),
                row,
                weeks_by_pupil.get(pupil, []),
                moved.get(pupil),
                found.get(pupil),
                sheet,
            )
        )
    return found_dossiers


def render_dossiers(pages: Sequence[Dossier], ctx: SiteContext) -> list[tuple[str, bytes]]:
    """The pupils' pages as ``(path, UTF-8 bytes)``, in the order given."""
    env = environment()
    return [
        (
            page.path,
            dossier_page(
                env,
                page.row,
                weeks=page.weeks,
                moved=page.moved,
                pattern=page.pattern,
                sheet=page.sheet,
                ctx=ctx,
            ).encode("utf-8"),
        )
        for page in pages
    ]
