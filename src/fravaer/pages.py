"""The HTML pages of ``fravaer site`` (docs/site.md), rendered into memory from templates.

The figures come from :mod:`fravaer.site` (the same plans as the commands), collected once by
:func:`collect_site`; this module only lays them out. Pages are rendered by jinja2 from the
templates shipped in ``fravaer/templates`` with autoescaping on: every text, from the data or
from a policy, is HTML-escaped where it lands, and control and invisible characters are shown as
U+FFFD (``schema.shown_text``) by the environment's ``finalize``. No page refers to anything
outside itself: the style is inline, the trend chart is SVG drawn by the template from the
weekly points, and there is no script.

The module writes nothing and names no file by itself: the caller gives each school's folder
name (``tokens.school_names``) and each pupil's token (``pseudonymize.pupil_tokens``), and
writes the returned ``(relative path, bytes)`` pairs as one unit. It reads only the package's
own templates and meeting questions.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from importlib import resources
from typing import Any, Final

import polars as pl
from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from fravaer import schema as s
from fravaer.policy import Lang, Policy
from fravaer.render import condition_text, trend_summary
from fravaer.site import SiteFrames, SitePlans
from fravaer.stats import (
    DAYS_BEHIND,
    LATEST_DATE,
    MUNICIPALITY,
    PUPILS,
    PUPILS_OVER_10,
    SHARE_OVER_10,
    SUPPRESSED,
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
    pct_thresholds,
)

INDEX: Final = "index.html"
PAGE_SUFFIX: Final = ".html"
QUESTIONS_FILE: Final = "questions.toml"


def collect_site(plans: SitePlans) -> SiteFrames:
    """Collect every plan of the site together, so polars can share their common work."""
    return SiteFrames(*pl.collect_all(plans.plans()))


# -- words ----------------------------------------------------------------------------------------

WORDS: Final[dict[str, dict[Lang, str]]] = {
    "site": {"da": "Fravær", "en": "Absence"},
    "municipality": {"da": "Alle skoler", "en": "All schools"},
    "as_of": {"da": "Opgjort pr.", "en": "As of"},
    "policy": {"da": "Handlevejledning", "en": "Guideline"},
    "version": {"da": "version", "en": "version"},
    "window": {"da": "Fravær i % af", "en": "Absence as % of the"},
    "school": {"da": "Skole", "en": "School"},
    "schools": {"da": "Skoler", "en": "Schools"},
    "pupils": {"da": "Elever", "en": "Pupils"},
    "step": {"da": "Trin", "en": "Step"},
    "step_n": {"da": "Trin {n}", "en": "Step {n}"},
    "share_over_10": {"da": "Andel over 10 %", "en": "Share over 10 %"},
    "over_10": {"da": "Elever over 10 %", "en": "Pupils over 10 %"},
    "absence_pct": {"da": "Fravær %", "en": "Absence %"},
    "latest": {"da": "Seneste registrering", "en": "Latest registration"},
    "behind": {"da": "Skoledage bagud", "en": "School days behind"},
    "whole": {"da": "Hele kommunen", "en": "The whole municipality"},
    "national": {
        "da": "Landsplan ({period}): {share} af eleverne over 10 % fravær.",
        "en": "Nationally ({period}): {share} of pupils over 10 % absence.",
    },
    "stats_note": {
        "da": "Skoleåret {period} til og med {until}, opgjort som ministeriet gør (elever på "
        "skolen i perioden). Trin pr. {until}. Skoler med færre end {min_cell} elever, og de "
        "skoler der ellers kunne regnes ud, vises som »skjult«.",
        "en": "School year {period} up to {until}, counted as the ministry does (pupils at the "
        "school in the period). Steps as of {until}. Schools with fewer than {min_cell} pupils, "
        "and those that could otherwise be worked out, are shown as “hidden”.",
    },
    "hidden": {"da": "skjult", "en": "hidden"},
    "stale": {
        "da": "{n} skoledage bagud: tallene kan være forældede",
        "en": "{n} school days behind: the figures may be stale",
    },
    "list_title": {
        "da": "Elever på trin 1 eller højere, eller med ulovligt fravær i kvartalet på 10 % "
        "eller mere",
        "en": "Pupils at step 1 or higher, or with unlawful absence in the quarter of 10 % or more",
    },
    "list_note": {
        "da": "Elevens nummer fører til elevens side med udvikling, ugedage og mødeark.",
        "en": "The pupil's number leads to the pupil's page with trend, weekdays and meeting "
        "sheet.",
    },
    "list_none": {"da": "Ingen elever på listen.", "en": "No pupils on the list."},
    "pupil": {"da": "Elev", "en": "Pupil"},
    "class": {"da": "Klasse", "en": "Class"},
    "grade": {"da": "Klassetrin", "en": "Grade"},
    "absent_days": {"da": "Fraværsdage", "en": "Absent days"},
    "school_days": {"da": "Skoledage", "en": "School days"},
    "quarter_pct": {"da": "Ulovligt i kvartalet %", "en": "Unlawful in quarter %"},
    "quarter": {"da": "Kvartalsreglen", "en": "Quarter rule"},
    "responsible": {"da": "Ansvarlig", "en": "Responsible"},
    "dossier": {"da": "Elevens side med mødeark", "en": "The pupil's page with the meeting sheet"},
    "actions_title": {"da": "Minimumshandlinger", "en": "Minimum actions"},
    "early_title": {
        "da": "Tidlig varsling: elever under trin 1 at handle på nu",
        "en": "Early warning: pupils below step 1 to act on now",
    },
    "early_none": {
        "da": "Ingen elever under trin 1 med et mønster, stigende fravær eller en fremskrevet "
        "overskridelse.",
        "en": "No pupil below step 1 with a pattern, rising absence or a projected crossing.",
    },
    "recent": {"da": "Seneste 4 uger %", "en": "Latest 4 weeks %"},
    "crossing": {"da": "Over grænsen", "en": "Crosses limit"},
    "reasons": {"da": "Hvorfor", "en": "Why"},
    "reason_pattern": {"da": "mønster", "en": "pattern"},
    "reason_rising": {"da": "stigende", "en": "rising"},
    "reason_projected": {"da": "fremskrivning", "en": "projection"},
    "classes_title": {"da": "Klasser og klassetrin", "en": "Classes and grades"},
    "grades_title": {"da": "Klassetrin", "en": "Grades"},
    "own_note": {
        "da": "Skolens egne tal, ikke diskretioneret: kun til skolens medarbejdere.",
        "en": "The school's own figures, not suppressed: for the school's staff only.",
    },
    "freshness": {
        "da": "Seneste registrering på skolen: {date}.",
        "en": "Latest registration at the school: {date}.",
    },
    "back_school": {"da": "Til skolens side", "en": "To the school's page"},
    "back_all": {"da": "Til alle skoler", "en": "To all schools"},
    "headline": {
        "da": "{days} fraværsdage af de seneste {n} skoledage — {step}",
        "en": "{days} absent days of the latest {n} school days — {step}",
    },
    "at_step": {"da": "trin {n}", "en": "step {n}"},
    "below_step": {"da": "under trin 1", "en": "below step 1"},
    "too_few": {
        "da": "for få skoledage til et trin",
        "en": "too few school days for a step",
    },
    "why": {
        "da": "Trin {n} gælder ved {condition} ({window}). Fraværet er {pct} i perioden "
        "{start} – {end}.",
        "en": "Step {n} applies at {condition} ({window}). Absence is {pct} from {start} to {end}.",
    },
    "why_below": {
        "da": "Fraværet er {pct} i perioden {start} – {end}; trin 1 gælder ved {condition}.",
        "en": "Absence is {pct} from {start} to {end}; step 1 applies at {condition}.",
    },
    "categories": {
        "da": "Sygdom {illness} · ekstraordinær frihed {leave} · ulovligt fravær {unlawful} "
        "fraværsdage.",
        "en": "Illness {illness} · leave {leave} · unlawful absence {unlawful} absent days.",
    },
    "trend_title": {"da": "Fravær uge for uge", "en": "Absence week by week"},
    "trend_note": {
        "da": "Hver uges tal er vejledningens: fraværet i de {window} ved ugens sidste skoledag "
        "(som i fravaer trend). Ugens eget fravær står i tabellen ved siden af.",
        "en": "Each week's figure is the guideline's: absence in the {window} at the week's last "
        "school day (as in fravaer trend). The week's own absence stands beside it.",
    },
    "chart_title": {
        "da": "Fravær i % af de {window} · pr. {as_of} · {policy}",
        "en": "Absence as % of the {window} · as of {as_of} · {policy}",
    },
    "week_end": {"da": "Ugens sidste skoledag", "en": "Week's last school day"},
    "rolling_pct": {"da": "Fravær % (vejledningens)", "en": "Absence % (guideline's)"},
    "days_week": {"da": "Fraværsdage i ugen", "en": "Absent days in the week"},
    "school_days_week": {"da": "Skoledage i ugen", "en": "School days in the week"},
    "limit": {"da": "trin {n}: {t} %", "en": "step {n}: {t} %"},
    "weekday_title": {"da": "Fravær pr. ugedag", "en": "Absence per weekday"},
    "weekday_note": {
        "da": "Elevens seneste {days} skoledage, mandag til fredag (som i fravaer patterns).",
        "en": "The pupil's latest {days} school days, Monday to Friday (as in fravaer patterns).",
    },
    "weekday_flag": {
        "da": "Mønster: mere fravær om {days} end tilfældet giver.",
        "en": "Pattern: more absence on {days} than chance gives.",
    },
    "weekday_none": {"da": "Intet ugedagsmønster.", "en": "No weekday pattern."},
    "monday": {"da": "mandag", "en": "Monday"},
    "tuesday": {"da": "tirsdag", "en": "Tuesday"},
    "wednesday": {"da": "onsdag", "en": "Wednesday"},
    "thursday": {"da": "torsdag", "en": "Thursday"},
    "friday": {"da": "fredag", "en": "Friday"},
    "quarter_line": {
        "da": "Ulovligt fravær i kvartalet: {pct}. {flag}",
        "en": "Unlawful absence in the quarter: {pct}. {flag}",
    },
    "quarter_off": {
        "da": "Kvartalsreglen er ikke vurderet.",
        "en": "The quarter rule is not evaluated.",
    },
    "flag_none": {
        "da": "Under grænsen for at advare forældrene (10 %).",
        "en": "Below the limit for warning the parents (10 %).",
    },
    "flag_warn_parents": {
        "da": "Forældrene skal advares (10 % eller mere).",
        "en": "The parents must be warned (10 % or more).",
    },
    "flag_notify_municipality": {
        "da": "Skolelederen skal underrette kommunen (15 % eller mere).",
        "en": "The school leader must notify the municipality (15 % or more).",
    },
    "warn_parents": {"da": "advar forældre", "en": "warn parents"},
    "notify_municipality": {"da": "underret kommunen", "en": "notify municipality"},
    "actions_step": {
        "da": "Det kræver vejledningen på trin {n} · {who}",
        "en": "What the guideline requires at step {n} · {who}",
    },
    "no_actions": {
        "da": "Vejledningen kræver ingen handling under trin 1; kvartalsreglen kan gøre det.",
        "en": "The guideline requires no action below step 1; the quarter rule may.",
    },
    "meeting_title": {"da": "Mødeark", "en": "Meeting sheet"},
    "meeting_note": {
        "da": "Til mødet med eleven og forældrene. Udfyldes på mødet.",
        "en": "For the meeting with the pupil and the parents. Filled in at the meeting.",
    },
    "meeting_date": {"da": "Mødedato", "en": "Date of meeting"},
    "present": {"da": "Deltagere", "en": "Present"},
    "chart_none": {
        "da": "Ingen skoleuger at vise endnu.",
        "en": "No school weeks to show yet.",
    },
    "footer": {
        "da": "Lavet af fravaer {version}. Personoplysninger om børn: må ikke videregives.",
        "en": "Made by fravaer {version}. Personal data about children: do not pass on.",
    },
}


def _words(lang: Lang) -> dict[str, str]:
    return {key: text[lang] for key, text in WORDS.items()}


# -- numbers --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Num:
    """A figure as shown (``14,5``) and as computed (``data-value``, full precision)."""

    text: str
    value: float | int | None

    def __str__(self) -> str:
        return self.text


def _shown(value: float, lang: Lang) -> str:
    """One decimal, rounded *down*, so that a shown figure never reaches a limit the figure has
    not reached (9.96 % is ``9,9``, never ``10,0``); Danish has a decimal comma."""
    text = f"{math.floor(value * 10 + 1e-9) / 10:.1f}"
    return text.replace(".", ",") if lang == "da" else text


def number(value: object, lang: Lang) -> Num:
    """A count as it is, a float with one decimal (rounded down); None as ``–``."""
    if isinstance(value, bool) or value is None:
        return Num("–", None)
    if isinstance(value, int):
        return Num(str(value), value)
    if isinstance(value, float):
        return Num(_shown(value, lang), value)
    raise TypeError(type(value).__name__)


def percent(value: object, lang: Lang) -> Num:
    """``14,5 %``; None as ``–``."""
    shown = number(value, lang)
    return shown if shown.value is None else Num(f"{shown.text} %", shown.value)


def days(value: object, lang: Lang) -> str:
    """Absent days as a sentence shows them: ``17``, or ``16,5`` with a part of a day."""
    if not isinstance(value, int | float):
        return "–"
    text = _shown(float(value), lang)
    return text[:-2] if text.endswith((",0", ".0")) else text


def _decimal(value: Decimal, lang: Lang) -> str:
    text = f"{value.normalize():f}"
    return text.replace(".", ",") if lang == "da" else text


# -- the trend chart ------------------------------------------------------------------------------

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
            (y(float(t)), WORDS["limit"][lang].format(n=n, t=_decimal(t, lang)))
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


# -- meeting questions ----------------------------------------------------------------------------


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
            "w": _words(lang),
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
