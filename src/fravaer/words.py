"""Every word the outputs show, in Danish and English, and the one way numbers are written.

Plain data in the core, so that the terminal tables (:mod:`fravaer.render`), the charts and the
meeting sheets (:mod:`fravaer.meeting`) say the same thing in the same words: a word that names
a column is keyed by that column's name (``absence_pct`` is "Fravær %" everywhere), and a word
with one meaning is written once. Texts with ``{name}`` fields are filled in by :func:`word`.

Numbers for people go through :func:`number_text`: rounded for reading, with a decimal comma in
Danish (docs/classify.md, "The table view").

>>> word("absence_pct", "da"), word("absence_pct", "en")
('Fravær %', 'Absence %')
>>> number_text(12.345, "da"), number_text(None, "en")
('12,3', '–')
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final

from fravaer import schema as s
from fravaer.lessons import (
    FLAG_LESSON,
    LESSON_FIRST,
    LESSON_LAST,
    LESSON_PATTERN,
    LESSON_SUBJECT,
    LESSON_WEEKDAY,
)
from fravaer.policy import Lang, Window

NO_VALUE: Final = "–"
"""What a table shows where a number is missing."""


@dataclass(frozen=True, slots=True)
class Text:
    """One text in Danish and English; ``{name}`` fields are filled in when it is called.

    >>> Text(da="Trin {n}", en="Step {n}")("en", n=2)
    'Step 2'
    """

    da: str
    en: str

    def __call__(self, lang: Lang, **values: object) -> str:
        return self.of(lang).format(**values)

    def of(self, lang: Lang) -> str:
        """The text in ``lang`` as written, its fields not filled in."""
        return self.da if lang == "da" else self.en


def number_text(value: float | Decimal | None, lang: Lang, *, decimals: int | None = 1) -> str:
    """A number for people: ``decimals`` places (None: as written, without trailing zeros), a
    decimal comma in Danish, and ``–`` for no value.

    Rounding is Python's own (half to even on the exact binary value: 0.25 is ``0.2``, 0.35 is
    ``0.3`` because 0.35 is stored just below).

    >>> number_text(9.96, "da"), number_text(-0.25, "en"), number_text(7.5, "da", decimals=0)
    ('10,0', '-0.2', '8')
    >>> number_text(Decimal("12.50"), "da", decimals=None), number_text(10.0, "en", decimals=None)
    ('12,5', '10')
    """
    if value is None:
        return NO_VALUE
    if decimals is None:  # 10, 12.5, 9.99: as written, no float noise
        exact = value if isinstance(value, Decimal) else Decimal(str(value))
        text = f"{exact.normalize():f}"
    else:
        text = f"{value:.{decimals}f}"
    return text.replace(".", ",") if lang == "da" else text


def pct_text(value: float | None, lang: Lang) -> str:
    """``12,3 %``; ``–`` (no unit) for no value."""
    return NO_VALUE if value is None else f"{number_text(value, lang)} %"


def plain_text(value: object) -> str:
    """A count, a step or a name as it is; ``–`` for no value."""
    return NO_VALUE if value is None else str(value)


def school_shown(school: str, names: Mapping[str, str]) -> str:
    """A school as every page, sheet and chart names it: ``Vestre Skole (851001)`` when
    ``names`` (the export's school names or ``--school-names``) has a name for it, else its id.

    >>> school_shown("851001", {"851001": "Vestre Skole"}), school_shown("851002", {})
    ('Vestre Skole (851001)', '851002')
    >>> school_shown("851003", {"851003": "851003"})
    '851003'
    """
    name = names.get(school)
    return school if name is None or name == school else f"{name} ({school})"


def word(key: str, lang: Lang, **values: object) -> str:
    """The text of ``key`` in ``lang`` with its fields filled in."""
    return WORDS[key](lang, **values)


def window_text(window: Window, lang: Lang) -> str:
    """A window as people read it.

    >>> window_text(Window(school_days=100), "da"), window_text(Window(period="quarter"), "en")
    ('seneste 100 skoledage', 'the calendar quarter')
    """
    if window.school_days is not None:
        return word("window_school_days", lang, n=window.school_days)
    if window.weeks is not None:
        return word("window_weeks", lang, n=window.weeks)
    assert window.period is not None
    return word(f"window_{window.period}", lang)


def texts(lang: Lang) -> dict[str, str]:
    """Every text of the table in ``lang`` as written, by key: the words of a page template
    (``w.absence_pct``, ``w.step_n.format(n=2)``), where the template fills in the fields.

    >>> texts("en")["absence_pct"], texts("da")["step_n"]
    ('Absence %', 'Trin {n}')
    """
    return {key: text.of(lang) for key, text in WORDS.items()}


WORDS: Final[dict[str, Text]] = {
    # -- columns, by their names ------------------------------------------------------------------
    s.PUPIL_ID: Text(da="Elev", en="Pupil"),
    s.SCHOOL_ID: Text(da="Skole", en="School"),
    s.SCHOOL_NAME: Text(da="Skolenavn", en="School name"),
    s.CLASS_NAME: Text(da="Klasse", en="Class"),
    s.GRADE: Text(da="Klassetrin", en="Grade"),
    s.AS_OF: Text(da="Opgjort pr.", en="As of"),
    s.WINDOW_START: Text(da="Periode fra", en="Window from"),
    s.WINDOW_END: Text(da="Periode til", en="Window to"),
    s.WINDOW_DAYS: Text(da="Skoledage", en="School days"),
    s.ABSENCE_PCT: Text(da="Fravær %", en="Absence %"),
    s.ABSENT_DAYS: Text(da="Fraværsdage", en="Absent days"),
    s.ILLNESS_DAYS: Text(da="Sygdom", en="Illness"),
    s.LEAVE_DAYS: Text(da="Frihed", en="Leave"),
    s.UNLAWFUL_DAYS: Text(da="Ulovligt", en="Unlawful"),
    s.STEP: Text(da="Trin", en="Step"),
    s.QUARTER_UNLAWFUL_PCT: Text(da="Ulovligt kvartal %", en="Unlawful quarter %"),
    s.QUARTER_FLAG: Text(da="Kvartal", en="Quarter"),
    s.STATUS: Text(da="Status", en="Status"),
    "previous_step": Text(da="Før trin", en="Step before"),
    "previous_quarter_flag": Text(da="Kvartal før", en="Quarter before"),
    "responsible": Text(da="Ansvarlig", en="Responsible"),
    "actions": Text(da="Handlinger", en="Actions"),
    "change": Text(da="Ændring", en="Change"),
    "reference_as_of": Text(da="Sammenlignet med", en="Compared with"),
    s.FINDING: Text(da="Fund", en="Finding"),
    s.SEVERITY: Text(da="Alvor", en="Severity"),
    s.COUNT: Text(da="Antal", en="Count"),
    s.FIRST_LINES: Text(da="Første linjer", en="First lines"),
    s.SCHOOLS: Text(da="Skoler", en="Schools"),
    "pupils": Text(da="Elever", en="Pupils"),
    "school_days": Text(da="Elevskoledage", en="Pupil school days"),
    "absence_pct_pooled": Text(da="Fravær % samlet", en="Absence % pooled"),
    "illness_pct": Text(da="Sygdom %", en="Illness %"),
    "leave_pct": Text(da="Frihed %", en="Leave %"),
    "unlawful_pct": Text(da="Ulovligt %", en="Unlawful %"),
    "pupils_0_5": Text(da="0–5 %", en="0–5 %"),
    "pupils_5_10": Text(da="5,01–10 %", en="5.01–10 %"),
    "pupils_over_10": Text(da="Over 10 %", en="Over 10 %"),
    "share_over_10": Text(da="Andel over 10 %", en="Share over 10 %"),
    "period": Text(da="Periode", en="Period"),
    "suppressed": Text(da="Skjult", en="Hidden"),
    "reference_period": Text(da="Landstallets periode", en="Period of the national figure"),
    "note": Text(da="Bemærkning", en="Note"),
    # explain's columns
    "policy": Text(da="Politik", en="Policy"),
    "step_holds": Text(da="Trinnet opfyldt", en="Step met"),
    "measure": Text(da="Mål", en="Measure"),
    "result_step": Text(da="Elevens trin", en="The pupil's step"),
    # trend's, patterns' and early-warning's columns (others share a view's word: headings.py)
    "illness_days_week": Text(da="Sygdom i ugen", en="Illness in week"),
    "leave_days_week": Text(da="Frihed i ugen", en="Leave in week"),
    "unlawful_days_week": Text(da="Ulovligt i ugen", en="Unlawful in week"),
    "days_with_absence": Text(da="Dage med fravær", en="Days with absence"),
    "weekday_flag": Text(da="Mønster ugedag", en="Weekday pattern"),
    "weekday_q": Text(da="q-værdi ugedag", en="Weekday q-value"),
    "edge_days": Text(da="Dage ved weekend/ferie", en="Days next to weekend/holiday"),
    "edge_absent_days": Text(
        da="Fraværsdage ved weekend/ferie", en="Absent days next to weekend/holiday"
    ),
    "edge_q": Text(da="q-værdi weekend/ferie", en="Weekend/holiday q-value"),
    "edge_flag": Text(da="Mønster weekend/ferie", en="Weekend/holiday pattern"),
    "partial_flag": Text(da="Mønster delvise dage", en="Partial-day pattern"),
    "run_flag": Text(da="Mønster række", en="Run pattern"),
    "lesson_pattern": Text(da="Mønster lektioner", en="Lesson pattern"),
    "lesson_weekday": Text(da="Lektionernes ugedag", en="Lessons' weekday"),
    "lesson_first": Text(da="Første lektion", en="First lesson"),
    "lesson_last": Text(da="Sidste lektion", en="Last lesson"),
    "lesson_subject": Text(da="Fag", en="Subject"),
    "lesson_q": Text(da="q-værdi lektioner", en="Lessons q-value"),
    "projected_school_days": Text(da="Skoledage til grænsen", en="School days to the limit"),
    # columns a policy adds, and a weekday's share (headings.py fills them in)
    "rule_column": Text(da="Regel: {name}", en="Rule: {name}"),
    "pupils_step_column": Text(da="Elever på trin {n}", en="Pupils at step {n}"),
    "weekday_pct": Text(da="Fravær {day} %", en="Absence {day} %"),
    # the policy listing's columns
    "name": Text(da="Navn", en="Name"),
    "series": Text(da="Serie", en="Series"),
    "version": Text(da="Version", en="Version"),
    "effective_from": Text(da="Gælder fra", en="In force from"),
    "title": Text(da="Titel", en="Title"),
    # -- values in columns ------------------------------------------------------------------------
    s.FLAG_NONE: Text(da="", en=""),
    s.FLAG_WARN: Text(da="advar forældre", en="warn parents"),
    s.FLAG_NOTIFY: Text(da="underret kommunen", en="notify municipality"),
    s.SEVERITY_ERROR: Text(da="fejl", en="error"),
    s.SEVERITY_WARNING: Text(da="advarsel", en="warning"),
    s.ILLNESS: Text(da="sygdom", en="illness"),
    s.LEAVE: Text(da="ekstraordinær frihed", en="leave"),
    s.UNLAWFUL: Text(da="ulovligt fravær", en="unlawful absence"),
    "escalation": Text(da="eskalering", en="escalation"),
    "improvement": Text(da="forbedring", en="improvement"),
    "rising": Text(da="stiger", en="rising"),
    "falling": Text(da="falder", en="falling"),
    "flat": Text(da="stabilt", en="flat"),
    "monday": Text(da="mandag", en="Monday"),
    "tuesday": Text(da="tirsdag", en="Tuesday"),
    "wednesday": Text(da="onsdag", en="Wednesday"),
    "thursday": Text(da="torsdag", en="Thursday"),
    "friday": Text(da="fredag", en="Friday"),
    "saturday": Text(da="lørdag", en="Saturday"),
    "sunday": Text(da="søndag", en="Sunday"),
    # -- shared by several views ------------------------------------------------------------------
    "minimum_actions": Text(da="Minimumshandlinger", en="Minimum actions"),
    "all_pupils": Text(da="Alle elever", en="All pupils"),
    "dates": Text(da="Datoer", en="Dates"),
    "week": Text(da="Uge", en="Week"),
    "window_school_days": Text(da="seneste {n} skoledage", en="latest {n} school days"),
    "window_weeks": Text(da="seneste {n} uger", en="latest {n} weeks"),
    "window_quarter": Text(da="kvartalet", en="the calendar quarter"),
    "window_school_year": Text(da="skoleåret", en="the school year"),
    "absence_of_window": Text(da="Fravær i % af {window}", en="Absence as % of the {window}"),
    "municipality": Text(da="Kommunen", en="Municipality"),
    "national": Text(da="Landsplan {year}", en="National {year}"),
    "national_plain": Text(da="Landsplan", en="National"),
    # -- classify ---------------------------------------------------------------------------------
    "classify_title": Text(da="Fravær pr. {as_of}", en="Absence as of {as_of}"),
    "policy_line": Text(
        da="{title} · version {version} · {window}", en="{title} · version {version} · {window}"
    ),
    "summary": Text(da="Elever pr. trin", en="Pupils per step"),
    "trigger": Text(da="Udløser", en="Trigger"),
    "share": Text(da="Andel", en="Share"),
    "below": Text(da="under trin 1", en="below step 1"),
    "insufficient": Text(da="For få skoledage (under {n})", en="Too few school days (under {n})"),
    "quarter": Text(
        da="Ulovligt fravær i kvartalet fra {start}: ",
        en="Unlawful absence in the quarter from {start}: ",
    ),
    "quarter_off": Text(
        da="Ulovligt fravær i kvartalet er ikke vurderet (--no-national).",
        en="Unlawful absence in the quarter was not evaluated (--no-national).",
    ),
    f"{s.FLAG_WARN}_long": Text(da="forældre advares", en="warn parents"),
    f"{s.FLAG_NOTIFY}_long": Text(da="kommunen underrettes", en="notify the municipality"),
    "and": Text(da="og", en="and"),
    "or": Text(da="eller", en="or"),
    "unit_days": Text(da="dage", en="days"),
    "unit_consecutive_days": Text(da="dage i træk", en="days in a row"),
    "list_flagged": Text(
        da="Elever på trin 1 eller højere eller med ulovligt fravær i kvartalet ≥ 10 %",
        en="Pupils at step 1 or higher, or with unlawful absence in the quarter ≥ 10 %",
    ),
    "none_flagged": Text(
        da="Ingen elever på trin 1 eller højere og ingen med ulovligt fravær ≥ 10 % i kvartalet.",
        en="No pupil at step 1 or higher and none with unlawful absence ≥ 10 % in the quarter.",
    ),
    # -- explain ----------------------------------------------------------------------------------
    "explain_title": Text(
        da="Elev {pupil} pr. {as_of} · {policy} version {version}",
        en="Pupil {pupil} as of {as_of} · {policy} version {version}",
    ),
    "result": Text(da="Resultat: trin {step}", en="Result: step {step}"),
    "result_none": Text(
        da="Resultat: for få skoledage (under {n}) til et trin",
        en="Result: too few school days (under {n}) for a step",
    ),
    "holds": Text(da="opfyldt", en="met"),
    "not_holds": Text(da="ikke opfyldt", en="not met"),
    "rule": Text(da="Regel", en="Rule"),
    "window": Text(da="Periode", en="Window"),
    "value": Text(da="Målt", en="Measured"),
    "threshold": Text(da="Grænse", en="Threshold"),
    "verdict": Text(da="Vurdering", en="Verdict"),
    # -- policy show ------------------------------------------------------------------------------
    "source": Text(da="Kilde", en="Source"),
    "rules": Text(da="Regler", en="Rules"),
    "steps": Text(da="Trin", en="Steps"),
    "min_days": Text(
        da="Mindst {n} skoledag(e), før en elev placeres på et trin.",
        en="At least {n} school day(s) before a pupil is placed on a step.",
    ),
    "whole_day": Text(da="hele dagen", en="the whole day"),
    "at_least_share": Text(da="mindst {f} af dagen", en="at least {f} of the day"),
    "measure_percent": Text(da="fravær i procent", en="absence in per cent"),
    "measure_days": Text(da="fraværsdage", en="absent days"),
    "measure_consecutive_days": Text(
        da="længste række af sammenhængende fraværsdage (en dag tæller ved fravær i {f})",
        en="longest run of consecutive absent days (a day counts when absent for {f})",
    ),
    "categories": Text(da="tæller", en="counts"),
    # -- check ------------------------------------------------------------------------------------
    "check_title": Text(
        da="Datakvalitet: {file} · {rows} rækker · pr. {as_of}",
        en="Data quality: {file} · {rows} rows · as of {as_of}",
    ),
    "check_ok": Text(da="ok", en="ok"),
    "check_errors": Text(
        da="{n} slags fejl: tallene fra denne fil kan ikke stoles på. Ret eksporten og kør igen.",
        en="{n} kind(s) of error: the numbers from this file cannot be trusted. Fix the export "
        "and run again.",
    ),
    "check_warnings": Text(
        da="Ingen fejl; {n} slags advarsler bør ses efter.",
        en="No errors; {n} kind(s) of warning are worth a look.",
    ),
    "check_clean": Text(da="Ingen fund.", en="Nothing found."),
    "conflicting_rows": Text(
        da="Modstridende rækker (samme elev, dato og kategori)",
        en="Conflicting rows (same pupil, date and category)",
    ),
    "over_full_days": Text(
        da="Elevdage med fravær over 1 dag", en="Pupil-days with more than 1 day of absence"
    ),
    "duplicate_rows": Text(da="Gentagne rækker (sprunget over)", en="Repeated rows (ignored)"),
    "after_as_of": Text(da="Rækker efter opgørelsesdatoen", en="Rows after the as-of date"),
    "weekend_or_holiday": Text(
        da="Rækker på weekend- og helligdage", en="Rows on weekends and public holidays"
    ),
    "two_schools_one_day": Text(da="Elevdage på to skoler", en="Pupil-days at two schools"),
    "gaps": Text(da="Manglende skoledage (huller)", en="Missing school days (gaps)"),
    "stale_schools": Text(
        da="Skoler mere end 5 skoledage bagud", en="Schools more than 5 school days behind"
    ),
    # -- inspect ----------------------------------------------------------------------------------
    "file": Text(da="Fil", en="File"),
    "file_type": Text(da="Filtype", en="File type"),
    "encoding": Text(da="Tegnsæt", en="Encoding"),
    "separator": Text(da="Skilletegn", en="Separator"),
    "sheet": Text(da="Ark", en="Sheet"),
    "header_row": Text(da="Overskriftsrække", en="Header row"),
    "missing_columns": Text(da="Mangler", en="Missing"),
    "unknown_code": Text(da="ukendt", en="unknown"),
    "codes_not_shown": Text(
        da="{values} værdier ikke vist ({rows})", en="{values} values not shown ({rows})"
    ),
    "date_format": Text(da="Datoformat", en="Date format"),
    "shape": Text(da="Form", en="Shape"),
    "rows": Text(da="Rækker", en="Rows"),
    "columns": Text(da="Kolonner", en="Columns"),
    "dropped_columns": Text(da="Ikke læst", en="Not read"),
    "codes": Text(da="Koder", en="Codes"),
    "total": Text(da="I alt", en="In total"),
    # -- escalate ---------------------------------------------------------------------------------
    "escalate_title": Text(
        da="Eskaleringer pr. {as_of} (siden {since}) · {policy}",
        en="Escalations as of {as_of} (since {since}) · {policy}",
    ),
    "first_run": Text(da="første kørsel", en="first run"),
    "escalations": Text(da="Eskaleringer", en="Escalations"),
    "improvements": Text(da="Forbedringer", en="Improvements"),
    "no_escalations": Text(da="Ingen eskaleringer.", en="No escalations."),
    "no_improvements": Text(da="Ingen forbedringer.", en="No improvements."),
    # -- trend ------------------------------------------------------------------------------------
    "trend_title": Text(
        da="Elev {pupil} · fravær uge for uge til {as_of}",
        en="Pupil {pupil} · absence week by week to {as_of}",
    ),
    "class_title": Text(
        da="Klasse {name} · fravær uge for uge til {as_of}",
        en="Class {name} · absence week by week to {as_of}",
    ),
    "last_school_day": Text(da="Sidste skoledag", en="Last school day"),
    "days_week": Text(da="Fraværsdage i ugen", en="Absent days in week"),
    "school_days_week": Text(da="Skoledage i ugen", en="School days in week"),
    "week_by_week": Text(da="Uge for uge", en="Week by week"),
    "direction": Text(da="Retning", en="Direction"),
    "limit": Text(da="grænse", en="limit"),
    "sum_rising": Text(
        da="Fraværet er steget fra {a} % til {b} % {weeks}.",
        en="Absence has risen from {a} % to {b} % over {weeks}.",
    ),
    "sum_falling": Text(
        da="Fraværet er faldet fra {a} % til {b} % {weeks}.",
        en="Absence has fallen from {a} % to {b} % over {weeks}.",
    ),
    "sum_flat": Text(
        da="Fraværet har ligget stabilt på {b} % {weeks}.",
        en="Absence has stayed at {b} % over {weeks}.",
    ),
    "sum_single": Text(da="Fraværet er {b} %.", en="Absence is {b} %."),
    "sum_none": Text(
        da="Der er endnu for få skoledage til en procent.",
        en="There are too few school days for a percentage yet.",
    ),
    "sum_below": Text(
        da="Det er under grænsen på {t} %, hvor skolen skal reagere.",
        en="That is below the {t} % limit at which the school must act.",
    ),
    "sum_at": Text(
        da="Det er på eller over grænsen på {t} %.", en="That is at or above the {t} % limit."
    ),
    "last_week": Text(da="den seneste uge", en="the last week"),
    "last_weeks": Text(da="de seneste {count} uger", en="the last {count} weeks"),
    "trend_no_weeks": Text(
        da="Ingen skoleuger for eleven(erne) til og med {as_of}.",
        en="No school weeks for the pupil(s) up to {as_of}.",
    ),
    # -- patterns ---------------------------------------------------------------------------------
    "patterns_title": Text(
        da="Fraværsmønstre pr. {as_of} · elevens seneste {days} skoledage (man.–fre.)",
        en="Absence patterns as of {as_of} · the pupil's latest {days} school days (Mon–Fri)",
    ),
    "patterns_note": Text(
        da="Ugedag og weekend/ferie: højst {fdr} % falske fund (Benjamini-Hochberg). "
        "Delvise dage: mindst {partial}. Sammenhængende fravær: mindst {run} hele dage i træk.",
        en="Weekday and weekend/holiday: at most {fdr} % false findings (Benjamini-Hochberg). "
        "Partial days: {partial} or more. Runs: {run} or more whole days in a row.",
    ),
    "patterns_list": Text(da="Elever med et mønster", en="Pupils with a pattern"),
    "patterns_none": Text(da="Ingen elever med et mønster.", en="No pupil with a pattern."),
    "patterns_count": Text(
        da="{n} af {total} elever har et mønster.", en="{n} of {total} pupils show a pattern."
    ),
    "mon": Text(da="Man", en="Mon"),
    "tue": Text(da="Tir", en="Tue"),
    "wed": Text(da="Ons", en="Wed"),
    "thu": Text(da="Tor", en="Thu"),
    "fri": Text(da="Fre", en="Fri"),
    "edge": Text(da="Weekend/ferie", en="Weekend/holiday"),
    "partial": Text(da="Delvise dage", en="Partial days"),
    "run": Text(da="Længste række", en="Longest run"),
    "found": Text(da="Mønster", en="Pattern"),
    "flag_weekday": Text(da="især {days}", en="mostly {days}"),
    "flag_weekend_holiday": Text(da="omkring weekend/ferie", en="around weekends/holidays"),
    "flag_partial_days": Text(da="{n} delvise dage", en="{n} partial days"),
    "flag_run": Text(da="{n} dage i træk", en="{n} days in a row"),
    # lesson patterns (lesson-level exports): the strongest finding, in the words staff use
    "patterns_lesson_note": Text(
        da="Lektioner: højst {fdr} % falske fund, mindst {n} lektioner pr. celle; "
        "hele fraværsdage tæller ikke med.",
        en="Lessons: at most {fdr} % false findings, at least {n} lessons per cell; "
        "whole absent days are left out.",
    ),
    "flag_lesson": Text(
        da="fravær især {day} i {lessons}", en="absent mostly on {day}s in {lessons}"
    ),
    "with_subject": Text(da="{what} ({subject})", en="{what} ({subject})"),
    "flag_subject": Text(da="fravær især i {subject}", en="absent mostly in {subject}"),
    "lesson_one": Text(da="{a}. lektion", en="lesson {a}"),
    "lesson_run": Text(da="{a}.–{b}. lektion", en="lessons {a}–{b}"),
    "flag_leaves_early": Text(
        da="går ofte hjem før de sidste lektioner", en="often goes home before the last lessons"
    ),
    "flag_arrives_late": Text(da="kommer ofte for sent", en="often arrives late"),
    "on_monday": Text(da="om mandagen", en="on Mondays"),
    "on_tuesday": Text(da="om tirsdagen", en="on Tuesdays"),
    "on_wednesday": Text(da="om onsdagen", en="on Wednesdays"),
    "on_thursday": Text(da="om torsdagen", en="on Thursdays"),
    "on_friday": Text(da="om fredagen", en="on Fridays"),
    # -- early warning ----------------------------------------------------------------------------
    "ew_title": Text(
        da="Tidlig varsling pr. {as_of} · elever under trin 1 · horisont {horizon} skoledage",
        en="Early warning as of {as_of} · pupils below step 1 · horizon {horizon} school days",
    ),
    "ew_note": Text(
        da="Fremskrivning: elevens fravær i de seneste {recent} skoledage fortsætter; "
        "grænse {t} %.",
        en="Projection: the pupil's absence in the latest {recent} school days continues; "
        "limit {t} %.",
    ),
    "ew_none": Text(
        da="Ingen elever under trin 1 med et mønster, stigende fravær eller en fremskrevet "
        "overskridelse.",
        en="No pupil below step 1 with a pattern, rising absence or a projected crossing.",
    ),
    "recent": Text(da="Seneste 4 uger %", en="Latest 4 weeks %"),
    "before": Text(da="For 3 uger siden %", en="3 weeks ago %"),
    "crossing": Text(da="Over grænsen", en="Crosses limit"),
    "reasons": Text(da="Hvorfor", en="Why"),
    "reason_pattern": Text(da="mønster", en="pattern"),
    "reason_rising": Text(da="stigende", en="rising"),
    "reason_projected": Text(da="fremskrivning", en="projection"),
    "in_days": Text(da="{date} (om {n} skoledage)", en="{date} (in {n} school days)"),
    "in_day": Text(da="{date} (næste skoledag)", en="{date} (next school day)"),
    # -- stats ------------------------------------------------------------------------------------
    "stats_title": Text(
        da="Fraværsstatistik pr. {as_of} · {policy}",
        en="Absence statistics as of {as_of} · {policy}",
    ),
    "stats_period": Text(
        da="Periode {label}: {start} – {end}", en="Period {label}: {start} – {end}"
    ),
    "step_n": Text(da="Trin {n}", en="Step {n}"),
    "no_national": Text(
        da="Ingen landstal for perioden.", en="No national figures for the period."
    ),
    "stats_source": Text(da="Kilde ({year}): {source}", en="Source ({year}): {source}"),
    "stats_trend": Text(
        da="Udvikling: andel elever over 10 % fravær",
        en="Trend: share of pupils over 10 % absence",
    ),
    "freshness": Text(da="Seneste registrering pr. skole", en="Latest registration per school"),
    "latest": Text(da="Seneste dato", en="Latest date"),
    "behind": Text(da="Skoledage bagud", en="School days behind"),
    "hidden_mark": Text(
        da="{mark} = skjult: færre end {n} elever, eller skjult for at en anden skjult gruppe "
        "ikke kan regnes ud af totalerne.",
        en="{mark} = hidden: fewer than {n} pupils, or hidden so that another hidden group "
        "cannot be worked out from the totals.",
    ),
    "no_suppression": Text(
        da="UDEN DISKRETIONERING (--no-suppression): små grupper vises. Kun til intern brug; "
        "må ikke offentliggøres.",
        en="NOT SUPPRESSED (--no-suppression): small groups are shown. For internal use only; "
        "do not publish.",
    ),
    "not_suppressed_note": Text(da="IKKE DISKRETIONERET: kun til intern brug", en="NOT SUPPRESSED"),
    "methods": Text(
        da="Fravær %: ministeriets metode, elevernes fravær i procent vægtet med antal måneder "
        "med registreringer på skolen. Fravær % samlet: alle fraværsdage ÷ alle elevskoledage. "
        "Trin: elever på handlevejledningens trin ved periodens slutning.",
        en="Absence %: the ministry's method, pupils' absence percentages weighted by their "
        "months with registrations at the school. Absence % pooled: all absent days ÷ all pupil "
        "school days. Steps: pupils at the guideline's step at the end of the period.",
    ),
    # -- the statistics chart ---------------------------------------------------------------------
    "chart_title": Text(
        da="Andel elever med over 10 % fravær pr. skole",
        en="Share of pupils with over 10 % absence per school",
    ),
    "chart_as_of": Text(da="opgjort pr. {as_of}", en="as of {as_of}"),
    "chart_axis": Text(da="Andel elever over 10 % fravær (%)", en="Pupils over 10 % absence (%)"),
    "chart_hidden": Text(
        da="Skjult for at beskytte små grupper: {schools}",
        en="Hidden to protect small groups: {schools}",
    ),
    # -- the parents' trend chart -----------------------------------------------------------------
    "trend_chart_title": Text(da="Fravær uge for uge", en="Absence week by week"),
    "trend_chart_period": Text(
        da="Uge {first}–{last}: {start} – {end}", en="Weeks {first}–{last}: {start} – {end}"
    ),
    "trend_chart_week": Text(da="Uge {last}: {start} – {end}", en="Week {last}: {start} – {end}"),
    # -- meeting sheets (escalate, report and the site's dossier: one template) -------------------
    "meeting_title": Text(da="Mødeark om fravær", en="Meeting sheet on absence"),
    "meeting_note": Text(
        da="Til mødet med eleven og forældrene. Fakta først; spørgsmålene udfyldes på mødet.",
        en="For the meeting with the pupil and the parents. The facts first; the questions are "
        "filled in at the meeting.",
    ),
    "meeting_date": Text(da="Mødedato", en="Date of meeting"),
    "meeting_present": Text(da="Deltagere", en="Present"),
    "meeting_facts": Text(da="Fraværet", en="The absence"),
    "meeting_absence": Text(da="Fravær", en="Absence"),
    "meeting_current": Text(
        da="Fravær {pct} i perioden {start} – {end} ({days} skoledage, {window}).",
        en="Absence {pct} from {start} to {end} ({days} school days, {window}).",
    ),
    "meeting_categories": Text(
        da="Sygdom {illness} dage · ekstraordinær frihed {leave} dage · ulovligt fravær "
        "{unlawful} dage.",
        en="Illness {illness} days · leave {leave} days · unlawful absence {unlawful} days.",
    ),
    "meeting_quarter": Text(
        da="Ulovligt fravær i kvartalet er {pct}.", en="Unlawful absence in the quarter is {pct}."
    ),
    "meeting_trend": Text(da="Udvikling uge for uge", en="Week by week"),
    "meeting_trend_note": Text(
        da="Ugens tal er vejledningens rullende fravær i de {window}, opgjort ved ugens sidste "
        "skoledag. Ugens eget fravær står ved siden af.",
        en="Each week's figure is the guideline's rolling absence in the {window}, counted at "
        "the week's last school day. The week's own absence stands beside it.",
    ),
    "meeting_week_end": Text(da="Ugens sidste skoledag", en="Week's last school day"),
    "meeting_rolling": Text(da="Fravær % ({window})", en="Absence % ({window})"),
    "meeting_week_absent": Text(da="Fraværsdage i ugen", en="Absent days in the week"),
    "meeting_week_school_days": Text(da="Skoledage i ugen", en="School days in the week"),
    "meeting_no_weeks": Text(
        da="Ingen skoleuger at vise endnu.", en="No school weeks to show yet."
    ),
    "meeting_weekdays": Text(
        da="Fravær pr. ugedag i perioden", en="Absence per weekday in the window"
    ),
    "weekday": Text(da="Ugedag", en="Weekday"),
    "meeting_lessons": Text(
        da="Mønster i lektionerne – {found}.", en="Pattern in the lessons – {found}."
    ),
    "meeting_lessons_none": Text(
        da="Intet mønster i lektionerne – fraværet falder ikke oftere i bestemte lektioner, et "
        "fag eller dagens første eller sidste lektioner, end tilfældet giver.",
        en="No pattern in the lessons – the absence falls no more often in particular lessons, a "
        "subject or the day's first or last lessons than chance gives.",
    ),
    "meeting_actions": Text(
        da="Det kræver handlevejledningen på trin {step}",
        en="What the guideline requires at step {step}",
    ),
    "meeting_no_actions": Text(
        da="Handlevejledningen kræver ingen handling under trin 1; kvartalsreglen kan gøre det.",
        en="The guideline requires no action below step 1; the quarter rule may.",
    ),
    "meeting_no_actions_quarter": Text(
        da="Handlevejledningen kræver ingen handling under trin 1, men kvartalsreglen gør.",
        en="The guideline requires no action below step 1, but the quarter rule does.",
    ),
    "quarter_actions": Text(
        da="Det kræver kvartalsreglen ved {condition}",
        en="What the quarter rule requires at {condition}",
    ),
    "meeting_questions": Text(da="Til mødet", en="For the meeting"),
    # -- the site's pages (fravaer site) ----------------------------------------------------------
    "all_schools": Text(da="Alle skoler", en="All schools"),
    "guideline": Text(da="Handlevejledning", en="Guideline"),
    "national_share": Text(
        da="Landsplan ({period}): {share} af eleverne over 10 % fravær.",
        en="Nationally ({period}): {share} of pupils over 10 % absence.",
    ),
    "stats_note": Text(
        da="Skoleåret {period} til og med {until}, opgjort som ministeriet gør (elever på "
        "skolen i perioden). Trin pr. {until}. Skoler med færre end {min_cell} elever, og de "
        "skoler der ellers kunne regnes ud, vises som »skjult«.",
        en="School year {period} up to {until}, counted as the ministry does (pupils at the "
        "school in the period). Steps as of {until}. Schools with fewer than {min_cell} pupils, "
        "and those that could otherwise be worked out, are shown as “hidden”.",
    ),
    "hidden": Text(da="skjult", en="hidden"),
    "stale": Text(
        da="{n} skoledage bagud: tallene kan være forældede",
        en="{n} school days behind: the figures may be stale",
    ),
    "list_note": Text(
        da="Elevens nummer fører til elevens side med udvikling, ugedage og mødeark.",
        en="The pupil's number leads to the pupil's page with trend, weekdays and meeting sheet.",
    ),
    "quarter_rule": Text(da="Kvartalsreglen", en="Quarter rule"),
    "dossier": Text(da="Elevens side med mødeark", en="The pupil's page with the meeting sheet"),
    "early_title": Text(
        da="Tidlig varsling: elever under trin 1 at handle på nu",
        en="Early warning: pupils below step 1 to act on now",
    ),
    "classes_title": Text(da="Klasser og klassetrin", en="Classes and grades"),
    "own_note": Text(
        da="Skolens egne tal, ikke diskretioneret: kun til skolens medarbejdere.",
        en="The school's own figures, not suppressed: for the school's staff only.",
    ),
    "school_freshness": Text(
        da="Seneste registrering på skolen: {date}.",
        en="Latest registration at the school: {date}.",
    ),
    "back_school": Text(da="Til skolens side", en="To the school's page"),
    "back_all": Text(da="Til alle skoler", en="To all schools"),
    "headline": Text(
        da="{days} fraværsdage af de seneste {n} skoledage — {step}",
        en="{days} absent days of the latest {n} school days — {step}",
    ),
    "at_step": Text(da="trin {n}", en="step {n}"),
    "too_few": Text(da="for få skoledage til et trin", en="too few school days for a step"),
    "why": Text(
        da="Trin {n} gælder ved {condition} ({window}). Fraværet er {pct} i perioden "
        "{start} – {end}.",
        en="Step {n} applies at {condition} ({window}). Absence is {pct} from {start} to {end}.",
    ),
    "why_below": Text(
        da="Fraværet er {pct} i perioden {start} – {end}; trin 1 gælder ved {condition}.",
        en="Absence is {pct} from {start} to {end}; step 1 applies at {condition}.",
    ),
    "trend_note": Text(
        da="Hver uges tal er vejledningens: det rullende fravær i de {window}, opgjort ved "
        "ugens sidste skoledag. Ugens eget fravær står i tabellen ved siden af.",
        en="Each week's figure is the guideline's: the rolling absence in the {window}, counted "
        "at the week's last school day. The week's own absence stands beside it.",
    ),
    "trend_chart_caption": Text(
        da="Fravær i % af de {window} · pr. {as_of} · {policy}",
        en="Absence as % of the {window} · as of {as_of} · {policy}",
    ),
    "category_days": Text(
        da="Sygdom {illness} · ekstraordinær frihed {leave} · ulovligt fravær {unlawful} "
        "fraværsdage.",
        en="Illness {illness} · leave {leave} · unlawful absence {unlawful} absent days.",
    ),
    "rolling_pct": Text(da="Fravær % (vejledningens)", en="Absence % (guideline's)"),
    "limit_line": Text(da="trin {n}: {t} %", en="step {n}: {t} %"),
    "weekday_title": Text(da="Fravær pr. ugedag", en="Absence per weekday"),
    "weekday_note": Text(
        da="Elevens seneste {days} skoledage, mandag til fredag.",
        en="The pupil's latest {days} school days, Monday to Friday.",
    ),
    "weekday_pattern": Text(
        da="Mønster: mere fravær om {days} end tilfældet giver.",
        en="Pattern: more absence on {days} than chance gives.",
    ),
    "weekday_none": Text(da="Intet ugedagsmønster.", en="No weekday pattern."),
    "quarter_line": Text(
        da="Ulovligt fravær i kvartalet: {pct}. {flag}",
        en="Unlawful absence in the quarter: {pct}. {flag}",
    ),
    "quarter_unknown": Text(
        da="Kvartalsreglen er ikke vurderet.", en="The quarter rule is not evaluated."
    ),
    "quarter_none": Text(
        da="Under grænsen for at advare forældrene (10 %).",
        en="Below the limit for warning the parents (10 %).",
    ),
    "quarter_warn_parents": Text(
        da="Forældrene skal advares (10 % eller mere).",
        en="The parents must be warned (10 % or more).",
    ),
    "quarter_notify_municipality": Text(
        da="Skolelederen skal underrette kommunen (15 % eller mere).",
        en="The school leader must notify the municipality (15 % or more).",
    ),
    "flags_note": Text(
        da="Advar forældre og underret kommunen: elever hvis ulovlige fravær i kvartalet til "
        "og med {as_of} er 10 % eller mere (forældrene advares) eller 15 % eller mere "
        "(kommunen underrettes).",
        en="Warn parents and notify municipality: pupils whose unlawful absence in the quarter "
        "up to {as_of} is 10 % or more (the parents are warned) or 15 % or more (the "
        "municipality is notified).",
    ),
    "freshness_title": Text(da="Data pr. skole", en="Data per school"),
    "days_before_as_of": Text(da="Dage før opgørelsesdatoen", en="Days before the as-of date"),
    "periods_caption": Text(
        da="Skoleåret {period} i kvartaler til og med {as_of}, opgjort som ministeriet gør · "
        "{policy}",
        en="School year {period} by quarter up to {as_of}, counted as the ministry does · {policy}",
    ),
    "periods_desc": Text(
        da="Andel elever over 10 % fravær i kommunen: {values}.",
        en="Share of pupils over 10 % absence in the municipality: {values}.",
    ),
    "period_value": Text(da="{value} i {period}", en="{value} in {period}"),
    "period_months": Text(da="{first}–{last} {year}", en="{first}–{last} {year}"),
    "changes_title": Text(da="Ændringer siden {since}", en="Changes since {since}"),
    "since_run": Text(da="sidste kørsel {date}", en="the last run on {date}"),
    "first_run_note": Text(
        da="Første kørsel med denne tilstandsfil: hver elev er sammenlignet med trin 0.",
        en="The first run with this state file: every pupil is compared with step 0.",
    ),
    "no_comparison": Text(
        da="Ingen sammenligning: siderne er lavet uden --since eller --state, så de viser ikke "
        "eskaleringer og forbedringer siden sidste kørsel.",
        en="No comparison: the pages were made without --since or --state, so they show no "
        "escalations or improvements since the last run.",
    ),
    "escalations_note": Text(
        da="Elever der er steget et trin, eller som kvartalsreglen nu flager; det "
        "handlevejledningen kræver af de nye trin står under tabellen.",
        en="Pupils who moved up a step, or whom the quarter rule now flags; what the guideline "
        "requires at the new steps follows the table.",
    ),
    "required_title": Text(
        da="Det kræver handlevejledningen af de nye trin",
        en="What the guideline requires at the new steps",
    ),
    "quarter_line_title": Text(da="Kvartalsreglen: {flag}", en="Quarter rule: {flag}"),
    "reached_by": Text(da="Nået af", en="Reached by"),
    "improvements_note": Text(
        da="Elever hvis trin er faldet: fremgang at anerkende sammen med eleven og familien.",
        en="Pupils whose step fell: progress to recognise with the pupil and the family.",
    ),
    "agenda_title": Text(
        da="Dagsorden til Samrum / fraværskonference",
        en="Agenda for Samrum / the absence conference",
    ),
    "agenda_note": Text(
        da="Elever på trin {n} eller højere, og elever som kvartalsreglen siger skal "
        "underrettes, ordnet efter trin (højeste først) og stigning (største først): hvor "
        "mange procentpoint det rullende fravær er steget de seneste {weeks} skoleuger. "
        "Elevens nummer fører til elevens side og mødeark.",
        en="Pupils at step {n} or higher, and pupils whom the quarter rule says must be "
        "notified, ordered by step (highest first) and rise (largest first): the percentage "
        "points the rolling absence rose over the latest {weeks} school weeks. The "
        "pupil's number leads to the pupil's page and meeting sheet.",
    ),
    "agenda_none": Text(
        da="Ingen elever på trin {n} eller højere og ingen at underrette efter kvartalsreglen.",
        en="No pupil at step {n} or higher and none to notify by the quarter rule.",
    ),
    "item_number": Text(da="Nr.", en="No."),
    "rise": Text(da="Stigning", en="Rise"),
    "footer": Text(
        da="Lavet af fravaer {version}. Personoplysninger om børn: må ikke videregives.",
        en="Made by fravaer {version}. Personal data about children: do not pass on.",
    ),
}
"""The word table: column names, values and each view's own words, each written once."""

QUARTER_FLAGS: Final = (s.FLAG_NONE, s.FLAG_WARN, s.FLAG_NOTIFY)
"""The national quarter rule's flags that have words (a policy's other labels are shown as
written)."""

DAY_NAMES: Final = tuple(
    WORDS[day]
    for day in ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
)
"""The weekdays by ISO number minus one (Monday first)."""

MONTH_NAMES: Final = (
    Text(da="jan.", en="Jan"),
    Text(da="feb.", en="Feb"),
    Text(da="mar.", en="Mar"),
    Text(da="apr.", en="Apr"),
    Text(da="maj", en="May"),
    Text(da="jun.", en="Jun"),
    Text(da="jul.", en="Jul"),
    Text(da="aug.", en="Aug"),
    Text(da="sep.", en="Sep"),
    Text(da="okt.", en="Oct"),
    Text(da="nov.", en="Nov"),
    Text(da="dec.", en="Dec"),
)
"""The months, short, by number minus one (January first)."""

NUMBER_WORDS: Final = (
    Text(da="nul", en="zero"),
    Text(da="en", en="one"),
    Text(da="to", en="two"),
    Text(da="tre", en="three"),
    Text(da="fire", en="four"),
    Text(da="fem", en="five"),
    Text(da="seks", en="six"),
    Text(da="syv", en="seven"),
    Text(da="otte", en="eight"),
    Text(da="ni", en="nine"),
    Text(da="ti", en="ten"),
)
"""Small numbers in words, for sentences a parent reads (``de seneste tre uger``)."""

LIMIT_WORDS: Final = (
    Text(da="skolen følger op", en="the school follows up"),
    Text(da="skolen laver en plan", en="the school makes a plan"),
    Text(da="skolen inddrager flere", en="the school involves others"),
)
"""A policy's limits in plain words, by their order (first, second, third and later)."""

SHEETS: Final[dict[str, Text]] = {
    "pupils": Text(da="elever", en="pupils"),
    "explanation": Text(da="forklaring", en="explanation"),
    "policies": Text(da="politikker", en="policies"),
    "weeks": Text(da="uger", en="weeks"),
    "patterns": Text(da="mønstre", en="patterns"),
    "warning": Text(da="varsling", en="warning"),
    "internal": Text(da="intern", en="internal"),
    "national": Text(da="landstal", en="national"),
    "freshness": Text(da="aktualitet", en="freshness"),
    "escalations": WORDS["escalations"],
    "improvements": WORDS["improvements"],
}
"""The names of the workbook sheets, by what they hold."""


def sheet_name(kind: str, lang: Lang) -> str:
    """The name of a workbook's sheet of ``kind`` (a key of :data:`SHEETS`).

    >>> sheet_name("pupils", "da"), sheet_name("freshness", "en")
    ('elever', 'freshness')
    """
    return SHEETS[kind](lang)


def lesson_words(row: Mapping[str, Any], lang: Lang) -> str:
    """A pupil's strongest lesson finding as staff say it (docs/trend.md): "fravær især onsdag i
    5.–6. lektion (Idræt)", "går ofte hjem før de sidste lektioner om onsdagen".

    ``row`` holds :data:`fravaer.lessons.LESSON_PATTERN_COLUMNS` with a finding (``lesson_pattern``
    not empty). The subject is text from the data: the caller escapes the sentence for its output.

    >>> row = {"lesson_pattern": "lesson", "lesson_weekday": "wednesday", "lesson_first": 5,
    ...        "lesson_last": 6, "lesson_subject": "Idræt"}
    >>> lesson_words(row, "da")
    'fravær især onsdag i 5.–6. lektion (Idræt)'
    >>> lesson_words(row | {"lesson_pattern": "leaves_early", "lesson_subject": None}, "en")
    'often goes home before the last lessons on Wednesdays'
    """
    weekday, first, last = row[LESSON_WEEKDAY], row[LESSON_FIRST], row[LESSON_LAST]
    subject = row[LESSON_SUBJECT]
    if row[LESSON_PATTERN] == FLAG_LESSON:
        if first is None:  # a subject on every day
            return word("flag_subject", lang, subject=subject)
        lessons = (
            word("lesson_one", lang, a=first)
            if first == last
            else word("lesson_run", lang, a=first, b=last)
        )
        what = word("flag_lesson", lang, day=word(str(weekday), lang), lessons=lessons)
        return word("with_subject", lang, what=what, subject=subject) if subject else what
    what = word(f"flag_{row[LESSON_PATTERN]}", lang)
    return f"{what} {word(f'on_{weekday}', lang)}" if weekday else what
