"""Render the site's pages into memory from the templates (docs/site.md).

:func:`site_pages` lays out the collected figures (:func:`collect_site`) with jinja2, autoescape
on: every text, from the data or a policy, is HTML-escaped where it lands, and control and
invisible characters are shown as U+FFFD (``schema.shown_text``) by the environment's
``finalize``. It reads only the package's own templates and meeting questions.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from importlib import resources
from typing import Any, Final

import polars as pl
from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from fravaer import schema as s
from fravaer.pages.chart import chart
from fravaer.pages.numbers import days, number, percent
from fravaer.pages.words import WORDS, words
from fravaer.policy import Lang, Policy
from fravaer.render import condition_text, trend_summary
from fravaer.site import (
    SiteFrames,
    SitePlans,
    listed_expr,
    site,
    site_candidates,
    site_classify,
    site_direction,
    site_shown,
)
from fravaer.stats import (
    DAYS_BEHIND,
    FRESHNESS_LAG_DAYS,
    LATEST_DATE,
    MUNICIPALITY,
    PUPILS,
    PUPILS_OVER_10,
    SHARE_OVER_10,
    SUPPRESSED,
    Period,
    Reference,
    step_column,
)
from fravaer.trend import (
    ABSENT_DAYS_WEEK,
    DIRECTION,
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

INDEX: Final = "index.html"
PAGE_SUFFIX: Final = ".html"
QUESTIONS_FILE: Final = "questions.toml"


def collect_site(
    frame: pl.LazyFrame,
    *,
    policy: Policy,
    national: Policy | None,
    as_of: date,
    period: Period,
    parts: int = 1,
) -> SiteFrames:
    """Every figure of the site, each computed once, in :mod:`fravaer.site`'s rounds.

    The classification first (its pupils name the others' pupils); then the plans that need
    them; then the direction of the early warning's candidates; then the early warning, trends
    and directions put together from those (docs/site.md#speed).
    """
    classified = site_classify(
        frame, policy=policy, national=national, as_of=as_of, parts=parts
    ).collect()
    plans = site(
        frame,
        classified=classified.lazy(),
        listed=classified.filter(listed_expr())[s.PUPIL_ID].to_list(),
        policy=policy,
        as_of=as_of,
        period=period,
        parts=parts,
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
    return SiteFrames(
        listed=done["listed"],
        patterns=done["patterns"],
        early_warning=last["early_warning"],
        schools=done["schools"],
        classes=done["classes"],
        grades=done["grades"],
        freshness=done["freshness"],
        trend=last["trend"],
        direction=last["direction"],
    )


@dataclass(frozen=True)
class Question:
    """A main question of the meeting sheet and its sub-questions."""

    text: str
    subs: tuple[str, ...]


def meeting_questions(lang: Lang) -> tuple[Question, ...]:
    """The bundled meeting questions (the extended Signs of Safety method) in ``lang``."""
    text = (resources.files("fravaer") / "templates" / QUESTIONS_FILE).read_text("utf-8")
    data = tomllib.loads(text)
    return tuple(Question(q["question"], tuple(q["sub_questions"])) for q in data[lang])


# -- the environment ------------------------------------------------------------------------------


def _finalize(value: Any) -> Any:
    """Every printed value: control and invisible characters shown as U+FFFD (then escaped)."""
    if isinstance(value, str) and not isinstance(value, Markup):
        return s.shown_text(value)
    return value


def environment() -> Environment:
    """The jinja2 environment of the pages: autoescape on, undefined names an error."""
    return Environment(
        loader=PackageLoader("fravaer", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        finalize=_finalize,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
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

    def school_name(self, school: str) -> str:
        return self.names.get(school, school)

    def common(self) -> dict[str, Any]:
        lang = self.lang
        return {
            "lang": lang,
            "w": words(lang),
            "as_of": self.as_of.isoformat(),
            "policy_title": self.policy.title(lang),
            "policy_name": self.policy.name,
            "policy_version": self.policy.version,
            "window": self.policy.primary.window.describe(lang),
            "version": self.version,
        }


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
        "flag": WORDS[flag][lang] if flag in (s.FLAG_WARN, s.FLAG_NOTIFY) else "",
        "responsible": ctx.policy.step(step).responsible(lang) if step else "",
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


def municipality_page(
    env: Environment, schools: pl.DataFrame, fresh: pl.DataFrame, ctx: SiteContext
) -> str:
    """``index.html``: per school pupils, steps and share over 10 % (``schools`` suppressed)."""
    lang = ctx.lang
    latest = {row[s.SCHOOL_ID]: row for row in fresh.iter_rows(named=True)}
    rows, total = [], None
    for row in schools.iter_rows(named=True):
        shown = _stats_row(row, ctx.policy, lang)
        if row[MUNICIPALITY]:
            total = shown
            continue
        school = row[s.SCHOOL_ID]
        seen = latest.get(school)
        shown |= {
            "id": school,
            "name": ctx.school_name(school),
            "href": f"{ctx.folders[school]}/{INDEX}",
            "latest": seen[LATEST_DATE].isoformat() if seen else "–",
            "behind": number(seen[DAYS_BEHIND], lang) if seen else number(None, lang),
            "stale": (
                WORDS["stale"][lang].format(n=seen[DAYS_BEHIND])
                if seen and seen[DAYS_BEHIND] > FRESHNESS_LAG_DAYS
                else ""
            ),
        }
        rows.append(shown)
    reference = ctx.reference
    national = (
        WORDS["national"][lang].format(
            period=reference.period, share=percent(reference.share_over_10, lang).text
        )
        if reference is not None and reference.share_over_10 is not None
        else ""
    )
    return env.get_template("municipality.html").render(
        ctx.common(),
        title=WORDS["municipality"][lang],
        rows=rows,
        total=total,
        steps=[st.step for st in ctx.policy.steps],
        national=national,
        note=WORDS["stats_note"][lang].format(
            period=ctx.period_label, until=ctx.as_of.isoformat(), min_cell=ctx.min_cell
        ),
    )


def _reasons(text: str, lang: Lang) -> str:
    return ", ".join(WORDS[f"reason_{r}"][lang] for r in text.split(";") if r)


def school_page(env: Environment, school: str, frames: SiteFrames, ctx: SiteContext) -> str:
    """``SCHOOL/index.html``: the school's list, actions, early warning, classes and grades."""
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
        ctx.common(),
        title=ctx.school_name(school),
        school_id=school,
        pupils=pupils,
        actions=actions,
        early=early,
        classes=groups(frames.classes, s.CLASS_NAME),
        grades=groups(frames.grades, s.GRADE),
        steps=[st.step for st in ctx.policy.steps],
        freshness=WORDS["freshness"][lang].format(
            date=seen[LATEST_DATE][0].isoformat() if seen.height else "–"
        ),
    )


def _headline(row: Mapping[str, Any], ctx: SiteContext) -> str:
    lang = ctx.lang
    step = row[s.STEP]
    if step is None:
        said = WORDS["too_few"][lang]
    elif step == 0:
        said = WORDS["below_step"][lang]
    else:
        said = WORDS["at_step"][lang].format(n=step)
    return WORDS["headline"][lang].format(
        days=days(row[s.ABSENT_DAYS], lang), n=row[s.WINDOW_DAYS], step=said
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
        return WORDS["why_below"][lang].format(condition=first, **shown)
    return WORDS["why"][lang].format(
        n=step,
        condition=condition_text(policy.step(step).when, policy, lang, top=True),
        window=policy.primary.window.describe(lang),
        **shown,
    )


def dossier_page(
    env: Environment,
    row: Mapping[str, Any],
    *,
    weeks: pl.DataFrame,
    moved: Mapping[str, Any] | None,
    pattern: Mapping[str, Any] | None,
    questions: Sequence[Question],
    ctx: SiteContext,
) -> str:
    """``SCHOOL/TOKEN.html``: one pupil's step and why, trend, weekdays, quarter, actions and
    the meeting sheet."""
    lang, policy = ctx.lang, ctx.policy
    step = row[s.STEP]
    week_ends: list[date] = weeks[WEEK_END].to_list()
    values: list[float | None] = weeks[s.ABSENCE_PCT].to_list()
    last = weeks.row(-1, named=True) if weeks.height else None
    summary = trend_summary(
        pct_before=moved[PCT_BEFORE] if moved else None,
        pct_now=last[s.ABSENCE_PCT] if last else row[s.ABSENCE_PCT],
        weeks_back=moved[WEEKS_BACK] if moved else 0,
        direction=moved[DIRECTION] if moved else None,
        step=step,
        policy=policy,
        lang=lang,
    )
    table = [
        {
            "week_end": w[WEEK_END].isoformat(),
            "pct": percent(w[s.ABSENCE_PCT], lang),
            "step": number(w[s.STEP], lang),
            "days_week": number(w[ABSENT_DAYS_WEEK], lang),
            "school_days_week": number(w[SCHOOL_DAYS_WEEK], lang),
        }
        for w in weeks.iter_rows(named=True)
    ]
    weekdays = []
    flagged = ""
    if pattern is not None:
        weekdays = [
            {"day": WORDS[d][lang], "pct": percent(pattern[WEEKDAY_PCT[d]], lang)} for d in WEEKDAYS
        ]
        if pattern[WEEKDAY_FLAG]:
            named = [WORDS[d][lang] for d in pattern[WEEKDAY_FLAG].split(",")]
            flagged = WORDS["weekday_flag"][lang].format(days=", ".join(named))
        else:
            flagged = WORDS["weekday_none"][lang]
    if ctx.national is None or row.get(s.QUARTER_FLAG) is None:
        quarter = WORDS["quarter_off"][lang]
    else:
        quarter = WORDS["quarter_line"][lang].format(
            pct=percent(row[s.QUARTER_UNLAWFUL_PCT], lang).text,
            flag=WORDS[f"flag_{row[s.QUARTER_FLAG]}"][lang],
        )
    school = row[s.SCHOOL_ID]
    return env.get_template("dossier.html").render(
        ctx.common(),
        title=f"{WORDS['pupil'][lang]} {row[s.PUPIL_ID]}",
        pupil=row[s.PUPIL_ID],
        school=ctx.school_name(school),
        school_id=school,
        class_name=row[s.CLASS_NAME] or "–",
        step=number(step, lang),
        headline=_headline(row, ctx),
        why=_why(row, ctx),
        categories=WORDS["categories"][lang].format(
            illness=days(row[s.ILLNESS_DAYS], lang),
            leave=days(row[s.LEAVE_DAYS], lang),
            unlawful=days(row[s.UNLAWFUL_DAYS], lang),
        ),
        summary=summary,
        chart=chart(week_ends, values, policy=policy, lang=lang),
        chart_title=WORDS["chart_title"][lang].format(
            window=policy.primary.window.describe(lang),
            as_of=ctx.as_of.isoformat(),
            policy=policy.name,
        ),
        trend_note=WORDS["trend_note"][lang].format(window=policy.primary.window.describe(lang)),
        weeks=table,
        weekdays=weekdays,
        weekday_flag=flagged,
        weekday_note=WORDS["weekday_note"][lang].format(days=PATTERN_DAYS),
        quarter=quarter,
        responsible=policy.step(step).responsible(lang) if step else "",
        actions=policy.step(step).actions(lang) if step else (),
        questions=questions,
    )


def site_pages(frames: SiteFrames, ctx: SiteContext) -> list[tuple[str, bytes]]:
    """Every page of the site as ``(path relative to the site's folder, UTF-8 bytes)``.

    ``frames.schools`` must be suppressed already (``stats.suppress``) and ``ctx.folders`` name
    every school of ``frames.schools`` and ``frames.listed``; ``ctx.tokens`` every listed pupil.
    """
    env = environment()
    pages = [(INDEX, municipality_page(env, frames.schools, frames.freshness, ctx))]
    questions = meeting_questions(ctx.lang)
    schools = sorted(
        set(frames.schools.filter(~pl.col(MUNICIPALITY))[s.SCHOOL_ID].drop_nulls().to_list())
        | set(frames.listed[s.SCHOOL_ID].to_list())
    )
    weeks_of = frames.trend.partition_by(s.PUPIL_ID, as_dict=True)
    moved = {row[s.PUPIL_ID]: row for row in frames.direction.iter_rows(named=True)}
    found = {row[s.PUPIL_ID]: row for row in frames.patterns.iter_rows(named=True)}
    empty = frames.trend.clear()
    for school in schools:
        folder = ctx.folders[school]
        pages.append((f"{folder}/{INDEX}", school_page(env, school, frames, ctx)))
    for row in frames.listed.iter_rows(named=True):
        pupil = row[s.PUPIL_ID]
        page = dossier_page(
            env,
            row,
            weeks=weeks_of.get((pupil,), empty),
            moved=moved.get(pupil),
            pattern=found.get(pupil),
            questions=questions,
            ctx=ctx,
        )
        pages.append((f"{ctx.folders[row[s.SCHOOL_ID]]}/{ctx.tokens[pupil]}{PAGE_SUFFIX}", page))
    return [(path, text.encode("utf-8")) for path, text in pages]
