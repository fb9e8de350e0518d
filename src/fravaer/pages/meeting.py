"""The meeting sheet, laid out from templates: one sheet for ``escalate``, ``report`` and the
site's dossier (docs/escalate.md#meeting-preparation-sheets, docs/site.md#the-meeting-sheet).

:func:`sheet_view` turns a :class:`fravaer.meeting.Sheet` (figures computed by the core) into
the texts the sheet shows; one template part, ``meeting_sheet.html``, lays them out in the
dossier (``dossier.html`` includes it) and in the printable page that ``escalate`` and
``report`` write (``meeting_page.html``, :func:`sheet_html`); ``meeting_sheet.md`` lays out
the same texts as Markdown (:func:`sheet_markdown`).

Escaping happens where a text lands, for every printed value, so that no path can skip it: the
HTML environment autoescapes (and shows control characters as U+FFFD), the Markdown
environment passes every printed text through :func:`markdown_text`. Fixed words pass it too;
they hold nothing it changes but a ``:``, which a Markdown reader shows as written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Any, Final

from jinja2 import Environment

from fravaer import schema as s
from fravaer.meeting import TREND_WEEKS, MeetingQuestion, MeetingTemplate, Sheet
from fravaer.pages.environment import environment, page_common, template_environment
from fravaer.pages.numbers import number, percent
from fravaer.policy import Lang, Policy
from fravaer.render import condition_text
from fravaer.words import (
    DAY_NAMES,
    NO_VALUE,
    lesson_words,
    plain_text,
    window_text,
    word,
)

MEETING_PART: Final = "meeting_sheet.html"
MEETING_PAGE: Final = "meeting_page.html"
MEETING_MARKDOWN: Final = "meeting_sheet.md"


@dataclass(frozen=True)
class QuarterActions:
    """What the quarter rule requires of a pupil it flags: the limit reached in words, who acts,
    and the actions as the rule's policy words them."""

    title: str
    who: str
    actions: tuple[str, ...]


def quarter_actions(
    flag: object, *, national: Policy | None, lang: Lang
) -> tuple[QuarterActions, ...]:
    """What the quarter rule requires of a pupil it flags ``flag``, under one heading (a sheet is
    one printed page): the actions of each of its steps up to the flag's, as ``escalate`` lists a
    pupil's new steps (a pupil to notify the municipality of has passed the parents' warning
    too), headed by the flag's limit. Empty when the rule does not flag the pupil or is not
    evaluated; else one.

    >>> from fravaer.ingest.policy import load_policy
    >>> rule = load_policy("national-unlawful")
    >>> (warn,) = quarter_actions("warn_parents", national=rule, lang="da")
    >>> warn.title, warn.who, len(warn.actions)
    ('Det kræver kvartalsreglen ved ≥ 10 %', 'Skolelederen', 1)
    >>> (notify,) = quarter_actions("notify_municipality", national=rule, lang="en")
    >>> notify.title, notify.who, len(notify.actions)
    ('What the quarter rule requires at ≥ 15 %', 'School leader', 2)
    >>> quarter_actions("none", national=rule, lang="da")
    ()
    >>> quarter_actions("warn_parents", national=None, lang="da")
    ()
    """
    if national is None or flag not in (s.FLAG_WARN, s.FLAG_NOTIFY):
        return ()
    steps = {st.label: st for st in national.steps}
    if str(flag) not in steps:
        return ()
    top = steps[str(flag)]
    reached = [st for st in national.steps if st.step <= top.step]
    return (
        QuarterActions(
            title=word(
                "quarter_actions",
                lang,
                condition=condition_text(top.when, national, lang, top=True),
            ),
            who=", ".join(dict.fromkeys(st.responsible(lang) for st in reached)),
            actions=tuple(action for st in reached for action in st.actions(lang)),
        ),
    )


@dataclass(frozen=True)
class SheetView:
    """What a meeting sheet shows, as texts: labels in ``lang`` and values as shown."""

    title: str
    note: str
    facts: tuple[tuple[str, str], ...]  # (label, value): pupil, school, class, date, step, who
    blanks: tuple[str, ...]  # labels of lines filled in at the meeting (date, present)
    facts_title: str
    paragraphs: tuple[str, ...]
    lessons: str  # the lesson finding's sentence; empty for a day-level export
    trend_title: str
    trend_note: str
    trend_header: tuple[str, ...]
    trend_rows: tuple[tuple[str, ...], ...]
    no_weeks: str
    weekdays_title: str
    weekday_header: tuple[str, ...]
    weekday_rows: tuple[tuple[str, ...], ...]
    actions_title: str
    actions: tuple[str, ...]
    no_actions: str
    quarter_actions: tuple[QuarterActions, ...]
    questions_title: str
    questions: tuple[MeetingQuestion, ...]
    standalone: bool
    """A page of its own (escalate, report) rather than a part of the dossier."""


def responsible_text(
    step: object, flag: object, *, policy: Policy, national: Policy | None, lang: Lang
) -> str:
    """Who is responsible for a pupil: the guideline's role at ``step`` and, when the quarter
    rule flags the pupil (``flag``), its role (the school leader), each once, as ``escalate``
    joins its ``responsible``; empty for neither.

    >>> from fravaer.ingest.policy import load_policy
    >>> aalborg, rule = load_policy("aalborg-2023"), load_policy("national-unlawful")
    >>> responsible_text(0, "notify_municipality", policy=aalborg, national=rule, lang="da")
    'Skolelederen'
    >>> responsible_text(3, "warn_parents", policy=aalborg, national=rule, lang="da")
    'Tovholder, Skolelederen'
    >>> responsible_text(1, None, policy=aalborg, national=None, lang="en")
    'Class team'
    """
    roles = [policy.step(step).responsible(lang)] if isinstance(step, int) and step >= 1 else []
    if national is not None and flag in (s.FLAG_WARN, s.FLAG_NOTIFY):
        roles += [st.responsible(lang) for st in national.steps if st.label == flag]
    return ", ".join(dict.fromkeys(roles))


def _number(value: object, lang: Lang) -> str:
    """A figure with one decimal as every page shows it, rounded down (``14,0``; ``–``), so that
    a week on the sheet reads as the same week beside the dossier's chart (docs/site.md)."""
    return number(_float(value), lang).text


def _pct(value: object, lang: Lang) -> str:
    """``16,2 %`` as every page shows it, rounded down; ``–`` for no value."""
    return percent(_float(value), lang).text


def _float(value: object) -> float | None:
    """A count of days as the float it is a figure of (``14`` is shown ``14,0``)."""
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _date(value: object) -> str:
    return value.isoformat() if isinstance(value, date) else NO_VALUE


def sheet_view(
    sheet: Sheet,
    *,
    policy: Policy,
    lang: Lang,
    template: MeetingTemplate,
    school: str | None = None,
    national: Policy | None = None,
    standalone: bool = True,
) -> SheetView:
    """The texts of ``sheet``; ``school`` is the school as a page names it (its name and id),
    by default its id; ``national``, the quarter rule whose role joins the responsible
    (:func:`responsible_text`). Texts from the data and the policy are left as they are: the
    templates' environments escape every printed value."""
    row = sheet.pupil
    step = row[s.STEP]
    window = window_text(policy.primary.window, lang)
    at_step = policy.step(step) if isinstance(step, int) and step >= 1 else None
    facts = (
        (word(s.PUPIL_ID, lang), str(row[s.PUPIL_ID])),
        (word(s.SCHOOL_ID, lang), school or str(row[s.SCHOOL_ID])),
        (word(s.CLASS_NAME, lang), str(row[s.CLASS_NAME] or NO_VALUE)),
        (word(s.AS_OF, lang), _date(row[s.AS_OF])),
        (word(s.STEP, lang), plain_text(step)),
        (
            word("responsible", lang),
            responsible_text(
                step, row.get(s.QUARTER_FLAG), policy=policy, national=national, lang=lang
            )
            or NO_VALUE,
        ),
    )
    paragraphs = [
        word(
            "meeting_current",
            lang,
            pct=_pct(row[s.ABSENCE_PCT], lang),
            start=_date(row[s.WINDOW_START]),
            end=_date(row[s.WINDOW_END]),
            days=row[s.WINDOW_DAYS],
            window=window,
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
    lessons = ""
    if sheet.lessons is not None:
        found = sheet.lessons.get("lesson_pattern") is not None
        lessons = (
            word("meeting_lessons", lang, found=lesson_words(sheet.lessons, lang))
            if found
            else word("meeting_lessons_none", lang)
        )
    weeks = sheet.weeks[-TREND_WEEKS:]
    # The quarter rule's actions where the guideline requires none (step 0): a flagged pupil at
    # a step has the guideline's actions here and the rule's duty in the facts (who is
    # responsible) and, on the dossier, in the quarter paragraph; both lists would not fit the
    # sheet's one printed page (docs/decisions.md#words-for-the-people-who-open-the-pages).
    quarter = (
        quarter_actions(row.get(s.QUARTER_FLAG), national=national, lang=lang)
        if at_step is None
        else ()
    )
    return SheetView(
        title=word("meeting_title", lang),
        note=word("meeting_note", lang),
        facts=facts,
        blanks=(word("meeting_date", lang), word("meeting_present", lang)),
        facts_title=word("meeting_facts", lang),
        paragraphs=tuple(paragraphs),
        lessons=lessons,
        trend_title=word("meeting_trend", lang),
        trend_note=word("meeting_trend_note", lang, window=window),
        trend_header=(
            word("meeting_week_end", lang),
            word("meeting_rolling", lang, window=window),
            word(s.STEP, lang),
            word("meeting_week_absent", lang),
            word("meeting_week_school_days", lang),
        ),
        trend_rows=tuple(
            (
                w.end.isoformat(),
                _pct(w.pct, lang),
                plain_text(w.step),
                _number(w.absent_days_week, lang),
                str(w.school_days_week),
            )
            for w in weeks
        ),
        no_weeks=word("meeting_no_weeks", lang),
        weekdays_title=word("meeting_weekdays", lang),
        # Weekdays across, as the dossier shows them: a sheet is one printed page.
        weekday_header=(
            word("weekday", lang),
            *(DAY_NAMES[d.day - 1](lang) for d in sheet.weekdays),
        ),
        weekday_rows=(
            (
                (word(s.WINDOW_DAYS, lang), *(str(d.school_days) for d in sheet.weekdays)),
                (
                    word(s.ABSENT_DAYS, lang),
                    *(_number(d.absent_days, lang) for d in sheet.weekdays),
                ),
            )
            if sheet.weekdays
            else ()
        ),
        actions_title=word("meeting_actions", lang, step=step) if at_step else "",
        actions=at_step.actions(lang) if at_step else (),
        no_actions=word("meeting_no_actions_quarter" if quarter else "meeting_no_actions", lang),
        quarter_actions=quarter,
        questions_title=word("meeting_questions", lang),
        questions=template.questions(lang),
        standalone=standalone,
    )


# -- HTML -----------------------------------------------------------------------------------------


@cache
def _html_environment() -> Environment:
    """One environment for every sheet of a run: jinja2 compiles a template once per
    environment, and compiling it again for each sheet took most of the time (75 ms a sheet)."""
    return environment()


def sheet_html(
    sheet: Sheet,
    *,
    policy: Policy,
    template: MeetingTemplate,
    version: str,
    lang: Lang = "da",
    school: str | None = None,
    national: Policy | None = None,
) -> str:
    """The sheet as one self-contained, printable HTML page (``meeting_page.html``): the site's
    page frame (the as-of date and the policy on top, the privacy line at the foot) around the
    part the dossier shows too. Every text is HTML-escaped by the environment (quotes too), and
    control and invisible characters are shown as U+FFFD. ``school``: the school as
    :func:`fravaer.words.school_shown` names it (default: its id); ``national`` as for
    :func:`sheet_view`."""
    row = sheet.pupil
    as_of = row[s.AS_OF]
    assert isinstance(as_of, date)
    view = sheet_view(
        sheet,
        policy=policy,
        lang=lang,
        template=template,
        school=school,
        national=national,
        standalone=True,
    )
    return (
        _html_environment()
        .get_template(MEETING_PAGE)
        .render(
            page_common(lang=lang, as_of=as_of, policy=policy, version=version),
            title=view.title,
            sheet=view,
        )
    )


# -- Markdown -------------------------------------------------------------------------------------

_MARKDOWN_INLINE: Final = re.compile(r"[\\`*_\[\]~|$:@=^{}#]|(?i:(?<=www)\.)")
_MARKDOWN_START: Final = re.compile(r"^([#+\-=])|^(\d+)([.)])(?=\s|$)")
_MARKDOWN_ENTITIES: Final = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}


def markdown_text(value: str) -> str:
    r"""Text as Markdown that shows it and does nothing else.

    - Control and invisible characters become a space, so a line break cannot start a line of
      its own (a forged ``- **Trin:** 0``); the text is stripped of spaces at either end.
    - Every character CommonMark or GitHub Markdown reads inside a line is backslash-escaped:
      ``\ ` * _ [ ] ~ | $ : @ = ^ { } #`` and a ``.`` after ``www``. No emphasis, code, link,
      image, autolink (``http:``, ``www.``, ``a@b``), table cell, maths or emoji can begin, and
      a heading's text (a meeting template's question) cannot end in a closing ``#``.
    - At the start, where a list item's text may open a block, ``+ - =`` and a number's
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


def _markdown_finalize(value: Any) -> str:
    """Every printed value of a Markdown template: a text through :func:`markdown_text`."""
    return markdown_text(value if isinstance(value, str) else str(value))


def markdown_environment() -> Environment:
    """The jinja2 environment of Markdown templates: no HTML autoescape (the output is not
    HTML); instead every printed value passes :func:`markdown_text` in ``finalize``."""
    return template_environment(autoescape=False, finalize=_markdown_finalize)


@cache
def _markdown_environment() -> Environment:
    """One Markdown environment for every sheet of a run (see :func:`_html_environment`)."""
    return markdown_environment()


def sheet_markdown(
    sheet: Sheet,
    *,
    policy: Policy,
    template: MeetingTemplate,
    lang: Lang = "da",
    school: str | None = None,
    national: Policy | None = None,
) -> str:
    """The sheet as Markdown (``meeting_sheet.md``); every printed text passes
    :func:`markdown_text`. ``school`` and ``national`` as for :func:`sheet_html`."""
    view = sheet_view(
        sheet,
        policy=policy,
        lang=lang,
        template=template,
        school=school,
        national=national,
        standalone=True,
    )
    text = _markdown_environment().get_template(MEETING_MARKDOWN).render(sheet=view)
    return text.rstrip() + "\n"
