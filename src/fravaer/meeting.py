"""Meeting preparation sheets: one page per pupil at step 2 or higher (Markdown and HTML).

The coordinator (tovholder) meets the pupil, the parents and the school's people with the facts
of the absence on one page: the current absence %, the trend over the latest weeks, the days per
category and per weekday, the actions the guideline requires at the pupil's step, and the three
questions schools use in such meetings, each with its sub-questions, left empty to be filled in.

The measures are polars expressions over the canonical frame (:func:`weekly_absence`,
:func:`weekday_absence`); the sheets are plain text built from collected values
(:func:`sheet_markdown`, :func:`sheet_html`). The HTML is self-contained (no scripts, fonts or
images) with a print style sheet, so a browser prints it on one A4 page.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Final

import polars as pl

from fravaer import schema as s
from fravaer.policy import Lang, Policy
from fravaer.window import UNITS, days_expr, with_units
from fravaer.words import DAY_NAMES, NO_VALUE, QUESTIONS, number_text, pct_text, word

TextFn = Callable[[str], str]

MEETING_MIN_STEP: Final = 2
"""Pupils at this step or higher get a sheet: from step 2 a coordinator owns the case."""

TREND_WEEKS: Final = 6

WEEK_END: Final = "week_end"
WEEKDAY: Final = "weekday"
SCHOOL_DAYS: Final = "school_days"


def weekly_absence(
    frame: pl.LazyFrame,
    pupils: pl.LazyFrame,
    *,
    categories: tuple[str, ...],
    as_of: date,
    weeks: int = TREND_WEEKS,
) -> pl.LazyFrame:
    """Absence % per week for the latest ``weeks`` weeks ending at ``as_of``, per pupil.

    Week *k* is the seven days ending ``as_of - 7k`` (k = 0 is the latest). Only weeks in which the
    pupil has a school day are listed. Columns: ``pupil_id, week_end, school_days, absent_days,
    absence_pct``.
    """
    first = as_of - timedelta(days=7 * weeks)
    rows = with_units(frame.filter(pl.col(s.DATE) > first), as_of=as_of).join(
        pupils.select(s.PUPIL_ID), on=s.PUPIL_ID, how="semi"
    )
    back = ((pl.lit(as_of, dtype=pl.Date) - pl.col(s.DATE)).dt.total_days() // 7).cast(pl.Int64)
    counted = pl.col(UNITS).filter(pl.col(s.CATEGORY).is_in(categories)).sum()
    return (
        rows.with_columns(back.alias("_back"))
        .group_by(s.PUPIL_ID, "_back")
        .agg(pl.col(s.DATE).n_unique().cast(pl.Int64).alias(SCHOOL_DAYS), counted.alias(UNITS))
        .with_columns(
            (pl.lit(as_of, dtype=pl.Date) - pl.duration(days=pl.col("_back") * 7))
            .cast(pl.Date)
            .alias(WEEK_END),
            days_expr(pl.col(UNITS)).alias(s.ABSENT_DAYS),
            (100.0 * pl.col(UNITS) / (pl.col(SCHOOL_DAYS) * s.DAY_UNITS)).alias(s.ABSENCE_PCT),
        )
        .select(s.PUPIL_ID, WEEK_END, SCHOOL_DAYS, s.ABSENT_DAYS, s.ABSENCE_PCT)
        .sort(s.PUPIL_ID, WEEK_END)
    )


def weekday_absence(
    frame: pl.LazyFrame, pupils: pl.LazyFrame, *, categories: tuple[str, ...], as_of: date
) -> pl.LazyFrame:
    """Absent days per weekday (1 = Monday) in each pupil's window, from ``window_start``.

    ``pupils`` carries ``pupil_id`` and ``window_start`` (from the classification). Columns:
    ``pupil_id, weekday, school_days, absent_days``.
    """
    rows = with_units(frame, as_of=as_of).join(
        pupils.select(s.PUPIL_ID, s.WINDOW_START), on=s.PUPIL_ID, how="inner"
    )
    counted = pl.col(UNITS).filter(pl.col(s.CATEGORY).is_in(categories)).sum()
    return (
        rows.filter(pl.col(s.DATE) >= pl.col(s.WINDOW_START))
        .with_columns(pl.col(s.DATE).dt.weekday().alias(WEEKDAY))
        .group_by(s.PUPIL_ID, WEEKDAY)
        .agg(pl.col(s.DATE).n_unique().cast(pl.Int64).alias(SCHOOL_DAYS), counted.alias(UNITS))
        .with_columns(days_expr(pl.col(UNITS)).alias(s.ABSENT_DAYS))
        .select(s.PUPIL_ID, WEEKDAY, SCHOOL_DAYS, s.ABSENT_DAYS)
        .sort(s.PUPIL_ID, WEEKDAY)
    )


@dataclass(frozen=True)
class Week:
    end: date
    school_days: int
    absent_days: float
    pct: float


@dataclass(frozen=True)
class Weekday:
    day: int  # 1 = Monday
    school_days: int
    absent_days: float


@dataclass(frozen=True)
class Sheet:
    """What one preparation sheet shows: a classification row and the two breakdowns."""

    pupil: dict[str, object]  # a row of `classify`'s output
    weeks: tuple[Week, ...]
    weekdays: tuple[Weekday, ...]


def _number(value: object, lang: Lang) -> str:
    return number_text(value if isinstance(value, int | float) else None, lang)


def _pct(value: object, lang: Lang) -> str:
    return pct_text(value if isinstance(value, int | float) else None, lang)


def _date(value: object) -> str:
    return value.isoformat() if isinstance(value, date) else NO_VALUE


@dataclass(frozen=True)
class _Parts:
    """A sheet's content, independent of Markdown or HTML."""

    title: str
    facts_lines: tuple[tuple[str, str], ...]
    paragraphs: tuple[str, ...]
    trend: tuple[tuple[str, ...], ...]  # header, then rows
    weekdays: tuple[tuple[str, ...], ...]
    actions_title: str
    actions: tuple[str, ...]


def _parts(sheet: Sheet, *, policy: Policy, lang: Lang, text: TextFn) -> _Parts:
    """The sheet's content; ``text`` makes each text from the data or the policy safe to show."""
    row = sheet.pupil
    step = row[s.STEP]
    assert isinstance(step, int)
    facts = (
        (word(s.PUPIL_ID, lang), text(str(row[s.PUPIL_ID]))),
        (word(s.SCHOOL_ID, lang), text(str(row[s.SCHOOL_ID]))),
        (word(s.CLASS_NAME, lang), text(str(row[s.CLASS_NAME] or NO_VALUE))),
        (word(s.AS_OF, lang), _date(row[s.AS_OF])),
        (word(s.STEP, lang), str(step)),
        (word("responsible", lang), text(policy.step(step).responsible(lang))),
    )
    paragraphs = [
        word(
            "meeting_current",
            lang,
            pct=_pct(row[s.ABSENCE_PCT], lang),
            start=_date(row[s.WINDOW_START]),
            end=_date(row[s.WINDOW_END]),
            days=row[s.WINDOW_DAYS],
            window=policy.primary.window.describe(lang),
        ),
        word(
            "meeting_categories",
            lang,
            illness=_number(row[s.ILLNESS_DAYS], lang),
            leave=_number(row[s.LEAVE_DAYS], lang),
            unlawful=_number(row[s.UNLAWFUL_DAYS], lang),
        ),
    ]
    if row.get(s.QUARTER_UNLAWFUL_PCT) is not None:
        paragraphs.append(
            word("meeting_quarter", lang, pct=_pct(row[s.QUARTER_UNLAWFUL_PCT], lang))
        )
    trend_header = tuple(
        word(k, lang) for k in ("meeting_week_end", s.WINDOW_DAYS, s.ABSENT_DAYS, "meeting_absence")
    )
    # Every week of the trend, a week without school days (a holiday) included, oldest first.
    as_of = row[s.AS_OF]
    assert isinstance(as_of, date)
    weeks = {w.end: w for w in sheet.weeks}
    ends = [as_of - timedelta(days=7 * k) for k in reversed(range(TREND_WEEKS))]
    trend = tuple(
        (end.isoformat(), str(w.school_days), _number(w.absent_days, lang), _pct(w.pct, lang))
        if (w := weeks.get(end))
        else (end.isoformat(), "0", NO_VALUE, NO_VALUE)
        for end in ends
    )
    day_header = (word("weekday", lang), word(s.WINDOW_DAYS, lang), word(s.ABSENT_DAYS, lang))
    days = tuple(
        (DAY_NAMES[d.day - 1](lang), str(d.school_days), _number(d.absent_days, lang))
        for d in sheet.weekdays
    )
    return _Parts(
        title=word("meeting_title", lang),
        facts_lines=facts,
        paragraphs=tuple(paragraphs),
        trend=(trend_header, *trend) if trend else (),
        weekdays=(day_header, *days) if days else (),
        actions_title=word("meeting_actions", lang, step=step),
        actions=tuple(text(action) for action in policy.step(step).actions(lang)),
    )


_MARKDOWN_INLINE: Final = re.compile(r"[\\`*_\[\]~|$:@=^{}]|(?i:(?<=www)\.)")
_MARKDOWN_START: Final = re.compile(r"^([#+\-=])|^(\d+)([.)])(?=\s|$)")
_MARKDOWN_ENTITIES: Final = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}


def markdown_text(value: str) -> str:
    r"""Text from the data or a policy as Markdown that shows it and does nothing else.

    - Control and invisible characters become a space, so a line break cannot start a line of
      its own (a forged ``- **Trin:** 0``); the text is stripped of spaces at either end.
    - Every character CommonMark or GitHub Markdown reads inside a line is backslash-escaped:
      ``\ ` * _ [ ] ~ | $ : @ = ^ { }`` and a ``.`` after ``www``. No emphasis, code, link,
      image, autolink (``http:``, ``www.``, ``a@b``), table cell, maths or emoji can begin.
    - At the start, where a list item's text may open a block, ``# + - =`` and a number's
      ``.`` or ``)`` before a space are escaped: no heading, list or rule.
    - ``&``, ``<`` and ``>`` become entities: no HTML, raw autolink or entity passes through.

    Punctuation that means nothing there (``, . ( ) - ' " ? %``) is left as it is, so the text
    stays readable in the file itself; a Markdown reader shows the text as it was.

    >>> markdown_text("7.B"), markdown_text("010203-1234"), markdown_text("1. klasse")
    ('7.B', '010203-1234', '1\\. klasse')
    >>> print(markdown_text("[klik](javascript:alert(1)) <script>\n- **Trin:** 0"))
    \[klik\](javascript\:alert(1)) &lt;script&gt; - \*\*Trin\:\*\* 0
    """
    text = s.shown_text(value, hidden=" ").strip()
    text = _MARKDOWN_INLINE.sub(lambda m: "\\" + m[0], text)
    text = _MARKDOWN_START.sub(lambda m: f"\\{m[1]}" if m[1] else f"{m[2]}\\{m[3]}", text)
    return re.sub(r"[&<>]", lambda m: _MARKDOWN_ENTITIES[m[0]], text)


def _md_table(rows: tuple[tuple[str, ...], ...]) -> list[str]:
    header, *body = rows
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return lines + ["| " + " | ".join(r) + " |" for r in body]


def sheet_markdown(sheet: Sheet, *, policy: Policy, lang: Lang = "da") -> str:
    """The preparation sheet as Markdown; text from the data passes :func:`markdown_text`."""
    p = _parts(sheet, policy=policy, lang=lang, text=markdown_text)
    lines = [f"# {p.title}", ""]
    lines += [f"- **{label}:** {value}" for label, value in p.facts_lines]
    lines += ["", f"## {word('meeting_facts', lang)}", ""]
    for paragraph in p.paragraphs:
        lines += [paragraph, ""]
    lines += [f"### {word('meeting_trend', lang)}", ""]
    lines += _md_table(p.trend) if p.trend else [word("meeting_no_weeks", lang, n=TREND_WEEKS)]
    lines += ["", f"### {word('meeting_weekdays', lang)}", ""]
    lines += _md_table(p.weekdays) if p.weekdays else [NO_VALUE]
    lines += ["", f"## {p.actions_title}", ""]
    lines += [f"- {action}" for action in p.actions]
    lines += ["", f"## {word('meeting_questions', lang)}", ""]
    for number, (question, subs) in enumerate(QUESTIONS[lang], start=1):
        lines += [f"### {number}. {question}", ""]
        for sub in subs:
            lines += [f"- {sub}", "", "  …", ""]
    return "\n".join(lines).rstrip() + "\n"


_CSS = """
@page { size: A4; margin: 14mm; }
body { font-family: "Helvetica Neue", Arial, sans-serif; font-size: 10pt; color: #111;
       max-width: 180mm; margin: 0 auto; }
h1 { font-size: 15pt; margin: 0 0 4pt; }
h2 { font-size: 11.5pt; margin: 9pt 0 3pt; border-bottom: 1px solid #999; }
h3 { font-size: 10.5pt; margin: 6pt 0 2pt; }
p { margin: 2pt 0; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 1pt 8pt; margin: 0; }
dt { font-weight: bold; }
dd { margin: 0; }
table { border-collapse: collapse; margin: 2pt 0; }
th, td { border: 1px solid #bbb; padding: 1pt 5pt; text-align: right; }
th:first-child, td:first-child { text-align: left; }
.columns { display: flex; gap: 12pt; }
ul { margin: 2pt 0; padding-left: 14pt; }
.question li { min-height: 1.9em; }
@media print { body { max-width: none; } h2, .question { break-inside: avoid; } }
""".strip()


def _html_table(rows: tuple[tuple[str, ...], ...]) -> str:
    header, *body = rows
    head = "".join(f"<th>{html.escape(c)}</th>" for c in header)
    cells = "".join(
        "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in body
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{cells}</tbody></table>"


def sheet_html(sheet: Sheet, *, policy: Policy, lang: Lang = "da") -> str:
    """The preparation sheet as one self-contained, printable HTML page.

    Every text is HTML-escaped (quotes too, so also safe in an attribute), and text from the
    data has its control and invisible characters shown as U+FFFD (``schema.shown_text``).
    """
    p = _parts(sheet, policy=policy, lang=lang, text=s.shown_text)
    e = html.escape
    facts = "".join(f"<dt>{e(label)}</dt><dd>{e(value)}</dd>" for label, value in p.facts_lines)
    paragraphs = "".join(f"<p>{e(text)}</p>" for text in p.paragraphs)
    trend = (
        _html_table(p.trend)
        if p.trend
        else f"<p>{e(word('meeting_no_weeks', lang, n=TREND_WEEKS))}</p>"
    )
    days = _html_table(p.weekdays) if p.weekdays else "<p>–</p>"
    actions = "".join(f"<li>{e(a)}</li>" for a in p.actions)
    questions = "".join(
        f'<div class="question"><h3>{number}. {e(q)}</h3><ul>'
        + "".join(f"<li>{e(sub)}</li>" for sub in subs)
        + "</ul></div>"
        for number, (q, subs) in enumerate(QUESTIONS[lang], start=1)
    )
    return (
        f'<!DOCTYPE html>\n<html lang="{lang}">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{e(p.title)}</title>\n<style>\n{_CSS}\n</style>\n</head>\n<body>\n"
        f"<h1>{e(p.title)}</h1>\n<dl>{facts}</dl>\n"
        f"<h2>{e(word('meeting_facts', lang))}</h2>\n{paragraphs}\n"
        f'<div class="columns"><div><h3>{e(word("meeting_trend", lang))}</h3>{trend}</div>'
        f"<div><h3>{e(word('meeting_weekdays', lang))}</h3>{days}</div></div>\n"
        f"<h2>{e(p.actions_title)}</h2>\n<ul>{actions}</ul>\n"
        f"<h2>{e(word('meeting_questions', lang))}</h2>\n{questions}\n</body>\n</html>\n"
    )


def sheets(classified: pl.DataFrame, weeks: pl.DataFrame, weekdays: pl.DataFrame) -> list[Sheet]:
    """One :class:`Sheet` per pupil at step 2 or higher, in the classification's order."""
    by_week: dict[str, list[Week]] = {}
    for row in weeks.iter_rows(named=True):
        by_week.setdefault(row[s.PUPIL_ID], []).append(
            Week(row[WEEK_END], row[SCHOOL_DAYS], row[s.ABSENT_DAYS], row[s.ABSENCE_PCT])
        )
    by_day: dict[str, list[Weekday]] = {}
    for row in weekdays.iter_rows(named=True):
        by_day.setdefault(row[s.PUPIL_ID], []).append(
            Weekday(row[WEEKDAY], row[SCHOOL_DAYS], row[s.ABSENT_DAYS])
        )
    out = []
    for row in classified.filter(pl.col(s.STEP) >= MEETING_MIN_STEP).iter_rows(named=True):
        pupil = row[s.PUPIL_ID]
        out.append(Sheet(row, tuple(by_week.get(pupil, ())), tuple(by_day.get(pupil, ()))))
    return out
