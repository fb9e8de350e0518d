"""The words of the site's pages, Danish and English, in one table (docs/site.md).

Fixed words only: text from the data or a policy is never looked up here and reaches a page
through the templates' autoescaping.
"""

from __future__ import annotations

from typing import Final

from fravaer.policy import Lang

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
    "step_n": {"da": "Trin\u00a0{n}", "en": "Step\u00a0{n}"},
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
    "chart_none": {
        "da": "Ingen skoleuger at vise endnu.",
        "en": "No school weeks to show yet.",
    },
    "footer": {
        "da": "Lavet af fravaer {version}. Personoplysninger om børn: må ikke videregives.",
        "en": "Made by fravaer {version}. Personal data about children: do not pass on.",
    },
}


def words(lang: Lang) -> dict[str, str]:
    """Every word in ``lang``, for a template; `` %`` with a no-break space, so that a narrow
    column's heading never puts the sign alone on a line.

    >>> words("da")["share_over_10"] == "Andel over 10\u00a0%"
    True
    """
    return {key: text[lang].replace(" %", "\u00a0%") for key, text in WORDS.items()}
