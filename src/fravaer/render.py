"""Terminal tables: the only module that imports rich, and the only view that rounds."""

from __future__ import annotations

import io
import math
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from decimal import Decimal
from typing import IO, Any

import polars as pl
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from fravaer import schema as s
from fravaer import stats as st
from fravaer.policy import AllOf, Condition, Lang, Policy, Threshold
from fravaer.schema import shown_text
from fravaer.trend import (
    ABSENT_DAYS_WEEK,
    CATEGORY_DAYS_WEEK,
    DIRECTION,
    EDGE_ABSENT_DAYS,
    EDGE_DAYS,
    FALLING,
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
from fravaer.window import quarter_start

_WORDS: dict[str, dict[Lang, str]] = {
    "title": {"da": "Fravær pr. {as_of}", "en": "Absence as of {as_of}"},
    "policy": {
        "da": "{title} · version {version} · {window}",
        "en": "{title} · version {version} · {window}",
    },
    "summary": {"da": "Elever pr. trin", "en": "Pupils per step"},
    "step": {"da": "Trin", "en": "Step"},
    "trigger": {"da": "Udløser", "en": "Trigger"},
    "responsible": {"da": "Ansvarlig", "en": "Responsible"},
    "pupils": {"da": "Elever", "en": "Pupils"},
    "share": {"da": "Andel", "en": "Share"},
    "below": {"da": "under trin 1", "en": "below step 1"},
    "insufficient": {
        "da": "For få skoledage (under {n})",
        "en": "Too few school days (under {n})",
    },
    "quarter": {
        "da": "Ulovligt fravær i kvartalet fra {start}: ",
        "en": "Unlawful absence in the quarter from {start}: ",
    },
    "quarter_off": {
        "da": "Ulovligt fravær i kvartalet er ikke vurderet (--no-national).",
        "en": "Unlawful absence in the quarter was not evaluated (--no-national).",
    },
    "warn_parents_long": {"da": "forældre advares", "en": "warn parents"},
    "notify_municipality_long": {"da": "kommunen underrettes", "en": "notify the municipality"},
    "and": {"da": "og", "en": "and"},
    "or": {"da": "eller", "en": "or"},
    "unit_days": {"da": "dage", "en": "days"},
    "unit_consecutive_days": {"da": "dage i træk", "en": "days in a row"},
    "actions": {"da": "Minimumshandlinger", "en": "Minimum actions"},
    "list_flagged": {
        "da": "Elever på trin 1 eller højere eller med ulovligt fravær i kvartalet ≥ 10 %",
        "en": "Pupils at step 1 or higher, or with unlawful absence in the quarter ≥ 10 %",
    },
    "list_all": {"da": "Alle elever", "en": "All pupils"},
    "none_flagged": {
        "da": "Ingen elever på trin 1 eller højere og ingen med ulovligt fravær ≥ 10 % "
        "i kvartalet.",
        "en": "No pupil at step 1 or higher and none with unlawful absence ≥ 10 % in the quarter.",
    },
    "pupil_id": {"da": "Elev", "en": "Pupil"},
    "school_id": {"da": "Skole", "en": "School"},
    "class_name": {"da": "Klasse", "en": "Class"},
    "absence_pct": {"da": "Fravær %", "en": "Absence %"},
    "absent_days": {"da": "Fraværsdage", "en": "Absent days"},
    "illness_days": {"da": "Sygdom", "en": "Illness"},
    "leave_days": {"da": "Frihed", "en": "Leave"},
    "unlawful_days": {"da": "Ulovligt", "en": "Unlawful"},
    "window_days": {"da": "Skoledage", "en": "School days"},
    "quarter_unlawful_pct": {"da": "Ulovligt kvartal %", "en": "Unlawful quarter %"},
    "quarter_flag": {"da": "Kvartal", "en": "Quarter"},
    s.FLAG_NONE: {"da": "", "en": ""},
    s.FLAG_WARN: {"da": "advar forældre", "en": "warn parents"},
    s.FLAG_NOTIFY: {"da": "underret kommunen", "en": "notify municipality"},
    "no_data": {"da": "–", "en": "–"},
}


_WORDS.update(
    {
        "explain_title": {
            "da": "Elev {pupil} pr. {as_of} · {policy} version {version}",
            "en": "Pupil {pupil} as of {as_of} · {policy} version {version}",
        },
        "result": {"da": "Resultat: trin {step}", "en": "Result: step {step}"},
        "result_none": {
            "da": "Resultat: for få skoledage (under {n}) til et trin",
            "en": "Result: too few school days (under {n}) for a step",
        },
        "holds": {"da": "opfyldt", "en": "met"},
        "not_holds": {"da": "ikke opfyldt", "en": "not met"},
        "rule": {"da": "Regel", "en": "Rule"},
        "window": {"da": "Periode", "en": "Window"},
        "dates": {"da": "Datoer", "en": "Dates"},
        "value": {"da": "Målt", "en": "Measured"},
        "threshold": {"da": "Grænse", "en": "Threshold"},
        "verdict": {"da": "Vurdering", "en": "Verdict"},
        "name": {"da": "Navn", "en": "Name"},
        "series": {"da": "Serie", "en": "Series"},
        "version": {"da": "Version", "en": "Version"},
        "effective_from": {"da": "Gælder fra", "en": "In force from"},
        "title_col": {"da": "Titel", "en": "Title"},
        "source": {"da": "Kilde", "en": "Source"},
        "rules": {"da": "Regler", "en": "Rules"},
        "steps": {"da": "Trin", "en": "Steps"},
        "min_days": {
            "da": "Mindst {n} skoledag(e), før en elev placeres på et trin.",
            "en": "At least {n} school day(s) before a pupil is placed on a step.",
        },
        "whole_day": {"da": "hele dagen", "en": "the whole day"},
        "at_least_share": {"da": "mindst {f} af dagen", "en": "at least {f} of the day"},
        "measure_percent": {"da": "fravær i procent", "en": "absence in per cent"},
        "measure_days": {"da": "fraværsdage", "en": "absent days"},
        "measure_consecutive_days": {
            "da": "længste række af sammenhængende fraværsdage (en dag tæller ved fravær i {f})",
            "en": "longest run of consecutive absent days (a day counts when absent for {f})",
        },
        "categories": {"da": "tæller", "en": "counts"},
        "illness": {"da": "sygdom", "en": "illness"},
        "leave": {"da": "ekstraordinær frihed", "en": "leave"},
        "unlawful": {"da": "ulovligt fravær", "en": "unlawful absence"},
    }
)


def _w(key: str, lang: Lang, **values: object) -> str:
    return _WORDS[key][lang].format(**values)


# -- text on a terminal ---------------------------------------------------------------------------


def terminal_text(value: object) -> str:
    """Any text on its way to a terminal: control and invisible characters shown as U+FFFD.

    An ESC or an OSC 8 sequence in a class name would otherwise reach the terminal raw (colours,
    a hidden link, a moved cursor), a line break would forge a row and a bidi override reorder
    one. rich markup (``[/5.A]``, ``[bold]0000009[/bold]``) and emoji codes are never read: every
    console here has ``markup=False`` and ``emoji=False`` (docs/privacy.md).

    >>> terminal_text("[bold]0000009[/bold]") == "[bold]0000009[/bold]"
    True
    >>> terminal_text("5.A\x1b[31m") == "5.A\ufffd[31m"
    True
    """
    return shown_text(str(value))


class _Console(Console):
    """A console that reads no markup or emoji codes and passes every string through
    :func:`terminal_text`: table cells, titles and headings as well as printed lines."""

    def render_str(self, text: str, **options: Any) -> Text:
        return super().render_str(terminal_text(text), **options)


def _text(value: str, style: str = "") -> Text:
    """A styled line of text: the only way text reaches a console other than as a string."""
    return Text(terminal_text(value), style=style)


def _number(value: float | None, lang: Lang, decimals: int = 1) -> str:
    """Rounded for reading; Danish uses a decimal comma."""
    if value is None:
        return "–"
    text = f"{value:.{decimals}f}"
    return text.replace(".", ",") if lang == "da" else text


def render_classification(
    result: pl.DataFrame,
    *,
    policy: Policy,
    national: Policy | None,
    as_of: date,
    lang: Lang = "da",
    show_all: bool = False,
    width: int | None = None,
    color: bool = False,
) -> str:
    """The summary per step and the list of pupils (step >= 1, or all), as text for a terminal."""
    console, buffer = _console(width, color=color)
    console.print(_text(_w("title", lang, as_of=as_of.isoformat()), style="bold"))
    console.print(
        _w(
            "policy",
            lang,
            title=policy.title(lang),
            version=policy.version,
            window=policy.primary.window.describe(lang),
        )
    )
    console.print(_summary(result, policy, lang))
    console.print(_quarter_line(result, national, as_of, lang))
    _print_actions(console, result, policy, lang)
    console.print()
    console.print(_pupil_table(result, lang, show_all=show_all))
    return buffer.getvalue()


def _summary(result: pl.DataFrame, policy: Policy, lang: Lang) -> Table:
    total = result.height
    counts = dict(result.group_by(s.STEP).len().iter_rows())
    table = Table(title=_w("summary", lang), title_justify="left")
    table.add_column(_w("step", lang))
    table.add_column(_w("trigger", lang))
    table.add_column(_w("responsible", lang))
    table.add_column(_w("pupils", lang), justify="right")
    table.add_column(_w("share", lang), justify="right")

    def share(n: int) -> str:
        return _number(100 * n / total if total else None, lang) + " %"

    table.add_row("0", _w("below", lang), "", str(counts.get(0, 0)), share(counts.get(0, 0)))
    for step in policy.steps:
        n = counts.get(step.step, 0)
        trigger = _trigger_text(policy, step.step, lang)
        table.add_row(str(step.step), trigger, step.responsible(lang), str(n), share(n))
    n = counts.get(None, 0)
    insufficient = _w("insufficient", lang, n=policy.min_school_days)
    table.add_row("–", insufficient, "", str(n), share(n))
    return table


def _trigger_text(policy: Policy, number: int, lang: Lang) -> str:
    """`≥ 10 %` for a threshold on the primary rule; the rules and their thresholds otherwise."""
    return condition_text(policy.step(number).when, policy, lang, top=True)


def _decimal(value: Decimal, lang: Lang) -> str:
    text = f"{value.normalize():f}"  # 10, 12.5, 9.99: as written, no float noise
    return text.replace(".", ",") if lang == "da" else text


def condition_text(condition: Condition, policy: Policy, lang: Lang, *, top: bool = False) -> str:
    """A condition in words: ``≥ 10 %``, ``consecutive ≥ 5 dage i træk eller …``."""
    if isinstance(condition, Threshold):
        rule = policy.rules[condition.rule]
        unit = " %" if rule.measure == "percent" else " " + _w(f"unit_{rule.measure}", lang)
        value = f"≥ {_decimal(condition.at_least, lang)}{unit}"
        return (
            value if top and condition.rule == policy.primary_rule else f"{condition.rule} {value}"
        )
    word, parts = ("and", condition.all) if isinstance(condition, AllOf) else ("or", condition.any)
    text = f" {_w(word, lang)} ".join(condition_text(c, policy, lang) for c in parts)
    return text if top else f"({text})"


def _quarter_line(result: pl.DataFrame, national: Policy | None, as_of: date, lang: Lang) -> str:
    """How many pupils are at or above each step of the national rule (cumulative)."""
    if national is None:
        return _w("quarter_off", lang)
    labels = {step.label or str(step.step): step.step for step in national.steps}
    reached = [labels.get(flag, 0) for flag in result[s.QUARTER_FLAG].to_list()]
    parts = []
    for step in national.steps:
        count = sum(level >= step.step for level in reached)
        key = f"{step.label}_long"
        meaning = _w(key, lang) if key in _WORDS else step.responsible(lang)
        parts.append(f"{condition_text(step.when, national, lang, top=True)} ({meaning}): {count}")
    return _w("quarter", lang, start=quarter_start(as_of).isoformat()) + " · ".join(parts)


def _print_actions(console: Console, result: pl.DataFrame, policy: Policy, lang: Lang) -> None:
    present = {step for step in result[s.STEP].unique().to_list() if step}
    if not present:
        return
    console.print()
    console.print(_text(_w("actions", lang), style="bold"))
    for step in policy.steps:
        if step.step in present:
            console.print(f"{_w('step', lang)} {step.step} · {step.responsible(lang)}")
            for action in step.actions(lang):
                console.print(f"  • {action}")


def _pupil_table(result: pl.DataFrame, lang: Lang, *, show_all: bool) -> Table | str:
    flagged = (pl.col(s.STEP) >= 1) | (pl.col(s.QUARTER_FLAG) != s.FLAG_NONE)
    rows = result if show_all else result.filter(flagged)
    if rows.is_empty():
        return _w("none_flagged", lang)
    rows = rows.sort(
        [s.STEP, s.ABSENCE_PCT, s.SCHOOL_ID, s.PUPIL_ID],
        descending=[True, True, False, False],
        nulls_last=True,
    )
    title = _w("list_all" if show_all else "list_flagged", lang)
    table = Table(title=title, title_justify="left")
    text_columns = [s.PUPIL_ID, s.SCHOOL_ID, s.CLASS_NAME]
    number_columns = [
        s.ABSENCE_PCT,
        s.ABSENT_DAYS,
        s.ILLNESS_DAYS,
        s.LEAVE_DAYS,
        s.UNLAWFUL_DAYS,
        s.WINDOW_DAYS,
    ]
    for column in text_columns:
        table.add_column(_w(column, lang))
    table.add_column(_w("step", lang), justify="right")
    for column in number_columns:
        table.add_column(_w(column, lang), justify="right")
    table.add_column(_w(s.QUARTER_UNLAWFUL_PCT, lang), justify="right")
    table.add_column(_w(s.QUARTER_FLAG, lang))
    for row in rows.iter_rows(named=True):
        step = "–" if row[s.STEP] is None else str(row[s.STEP])
        table.add_row(
            *(row[c] or "" for c in text_columns),
            step,
            *(str(row[c]) if c == s.WINDOW_DAYS else _number(row[c], lang) for c in number_columns),
            _number(row[s.QUARTER_UNLAWFUL_PCT], lang),
            _w(row[s.QUARTER_FLAG], lang) if row[s.QUARTER_FLAG] in _WORDS else "",
        )
    return table


def _console(width: int | None, *, color: bool = False) -> tuple[Console, io.StringIO]:
    buffer = io.StringIO()
    console = _Console(
        file=buffer,
        width=width,
        force_terminal=color,
        no_color=not color,
        highlight=False,
        markup=False,
        emoji=False,
    )
    return console, buffer


def _value_text(value: float | None, measure: str, lang: Lang) -> str:
    if value is None:
        return "–"
    if measure == "percent":
        return f"{_number(value, lang)} %"
    if measure == "days":
        return f"{_number(value, lang)} {_w('unit_days', lang)}"
    return f"{int(value)} {_w('unit_consecutive_days', lang)}"


def _threshold_text(value: Decimal, measure: str, lang: Lang) -> str:
    unit = "%" if measure == "percent" else _w(f"unit_{measure}", lang)
    return f"{_decimal(value, lang)} {unit}"


def render_explanation(rows: pl.DataFrame, *, policy: Policy, lang: Lang, width: int | None) -> str:
    """For one pupil: per step, each threshold's window, measured value and verdict."""
    console, buffer = _console(width)
    first = rows.row(0, named=True)
    console.print(
        _text(
            _w(
                "explain_title",
                lang,
                pupil=first[s.PUPIL_ID],
                as_of=first[s.AS_OF].isoformat(),
                policy=policy.name,
                version=policy.version,
            ),
            style="bold",
        )
    )
    for step in policy.steps:
        part = rows.filter(pl.col("step") == step.step)
        verdict = _w("holds" if part["step_holds"][0] else "not_holds", lang)
        trigger = condition_text(step.when, policy, lang, top=True)
        table = Table(
            title=f"{_w('step', lang)} {step.step} · {trigger} · {verdict}", title_justify="left"
        )
        for key in ("rule", "window", "dates", "window_days", "value", "threshold", "verdict"):
            table.add_column(_w(key, lang), justify="right" if key in ("window_days",) else "left")
        for row in part.iter_rows(named=True):
            rule = policy.rules[row["rule"]]
            dates = (
                f"{row[s.WINDOW_START].isoformat()} – {row[s.WINDOW_END].isoformat()}"
                if row[s.WINDOW_START]
                else "–"
            )
            table.add_row(
                row["rule"],
                rule.window.describe(lang),
                dates,
                str(row[s.WINDOW_DAYS]),
                _value_text(row["value"], rule.measure, lang),
                _threshold_text(Decimal(str(row["at_least"])), rule.measure, lang),
                _w("holds" if row["holds"] else "not_holds", lang),
            )
        console.print(table)
    result = first["result_step"]
    if result is None:
        console.print(_text(_w("result_none", lang, n=policy.min_school_days), style="bold"))
    else:
        console.print(_text(_w("result", lang, step=result), style="bold"))
        if result:
            for action in policy.step(result).actions(lang):
                console.print(f"  • {action}")
    return buffer.getvalue()


def render_policy_list(listing: pl.DataFrame, *, lang: Lang, width: int | None) -> str:
    """The bundled policies as a table."""
    console, buffer = _console(width)
    table = Table()
    for key in ("name", "series", "version", "effective_from", "title_col"):
        table.add_column(_w(key, lang))
    for row in listing.iter_rows(named=True):
        table.add_row(
            row["name"],
            row["series"],
            row["version"],
            row["effective_from"].isoformat(),
            row["title"],
        )
    console.print(table)
    return buffer.getvalue()


def render_policy(policy: Policy, *, lang: Lang, width: int | None) -> str:
    """A policy in words, for staff: rules, steps, who acts and the minimum actions."""
    console, buffer = _console(width)
    console.print(_text(policy.title(lang), style="bold"))
    console.print(
        f"{policy.name} · {_w('version', lang).lower()} {policy.version} · "
        f"{_w('effective_from', lang).lower()} {policy.effective_from.isoformat()}"
    )
    console.print(f"{_w('source', lang)}: {policy.source}")
    console.print()
    for line in policy.description(lang).splitlines():  # the author's line breaks
        console.print(line)
    console.print(_w("min_days", lang, n=policy.min_school_days))
    console.print()
    console.print(_text(_w("rules", lang), style="bold"))
    for name, rule in policy.rules.items():
        whole = rule.run_fraction == 1
        fraction = _decimal(rule.run_fraction, lang)
        share = _w("whole_day", lang) if whole else _w("at_least_share", lang, f=fraction)
        measure = _w(f"measure_{rule.measure}", lang, f=share)
        categories = ", ".join(_w(c, lang) for c in rule.categories)
        window = rule.window.describe(lang)
        console.print(f"  {name}: {measure}, {window}; {_w('categories', lang)} {categories}")
    console.print()
    console.print(_text(_w("steps", lang), style="bold"))
    for step in policy.steps:
        label = f" ({step.label})" if step.label else ""
        trigger = condition_text(step.when, policy, lang, top=True)
        console.print(
            f"  {_w('step', lang)} {step.step}{label}: {trigger} · {step.responsible(lang)}"
        )
        for action in step.actions(lang):
            console.print(f"    • {action}")
    return buffer.getvalue()


_WORDS.update(
    {
        "check_title": {
            "da": "Datakvalitet: {file} · {rows} rækker · pr. {as_of}",
            "en": "Data quality: {file} · {rows} rows · as of {as_of}",
        },
        "check_finding": {"da": "Fund", "en": "Finding"},
        "check_severity": {"da": "Alvor", "en": "Severity"},
        "check_count": {"da": "Antal", "en": "Count"},
        "check_lines": {"da": "Første linjer", "en": "First lines"},
        "check_schools": {"da": "Skoler", "en": "Schools"},
        s.SEVERITY_ERROR: {"da": "fejl", "en": "error"},
        s.SEVERITY_WARNING: {"da": "advarsel", "en": "warning"},
        "check_ok": {"da": "ok", "en": "ok"},
        "check_errors": {
            "da": "{n} slags fejl: tallene fra denne fil kan ikke stoles på. Ret eksporten og kør "
            "igen.",
            "en": "{n} kind(s) of error: the numbers from this file cannot be trusted. Fix the "
            "export and run again.",
        },
        "check_warnings": {
            "da": "Ingen fejl; {n} slags advarsler bør ses efter.",
            "en": "No errors; {n} kind(s) of warning are worth a look.",
        },
        "check_clean": {"da": "Ingen fund.", "en": "Nothing found."},
        "conflicting_rows": {
            "da": "Modstridende rækker (samme elev, dato og kategori)",
            "en": "Conflicting rows (same pupil, date and category)",
        },
        "over_full_days": {
            "da": "Elevdage med fravær over 1 dag",
            "en": "Pupil-days with more than 1 day of absence",
        },
        "duplicate_rows": {
            "da": "Gentagne rækker (sprunget over)",
            "en": "Repeated rows (ignored)",
        },
        "after_as_of": {"da": "Rækker efter opgørelsesdatoen", "en": "Rows after the as-of date"},
        "weekend_or_holiday": {
            "da": "Rækker på weekend- og helligdage",
            "en": "Rows on weekends and public holidays",
        },
        "two_schools_one_day": {
            "da": "Elevdage på to skoler",
            "en": "Pupil-days at two schools",
        },
        "gaps": {
            "da": "Manglende skoledage (huller)",
            "en": "Missing school days (gaps)",
        },
        "stale_schools": {
            "da": "Skoler mere end 5 skoledage bagud",
            "en": "Schools more than 5 school days behind",
        },
    }
)


def render_check(
    findings: pl.DataFrame,
    *,
    file: str,
    rows: int,
    as_of: date,
    lang: Lang = "da",
    width: int | None = None,
) -> str:
    """The data-quality findings as a table: counts, first lines and schools, never a cell."""
    console, buffer = _console(width)
    console.print(
        _text(_w("check_title", lang, file=file, rows=rows, as_of=as_of.isoformat()), style="bold")
    )
    table = Table()
    for key in ("check_finding", "check_severity", "check_count", "check_lines", "check_schools"):
        table.add_column(_w(key, lang), justify="right" if key == "check_count" else "left")
    for row in findings.iter_rows(named=True):
        found = row[s.COUNT] > 0
        table.add_row(
            _w(row[s.FINDING], lang),
            _w(row[s.SEVERITY] if found else "check_ok", lang),
            str(row[s.COUNT]),
            row[s.FIRST_LINES] or "",
            row[s.SCHOOLS] or "",
        )
    console.print(table)
    occurred = findings.filter(pl.col(s.COUNT) > 0)
    errors = occurred.filter(pl.col(s.SEVERITY) == s.SEVERITY_ERROR).height
    if errors:
        console.print(_w("check_errors", lang, n=errors))
    elif occurred.height:
        console.print(_w("check_warnings", lang, n=occurred.height))
    else:
        console.print(_w("check_clean", lang))
    return buffer.getvalue()


_INSPECT: dict[str, dict[Lang, str]] = {
    "file": {"da": "Fil", "en": "File"},
    "file_type": {"da": "Filtype", "en": "File type"},
    "encoding": {"da": "Tegnsæt", "en": "Encoding"},
    "separator": {"da": "Skilletegn", "en": "Separator"},
    "sheet": {"da": "Ark", "en": "Sheet"},
    "header_row": {"da": "Overskriftsrække", "en": "Header row"},
    "missing_columns": {"da": "Mangler", "en": "Missing"},
    "unknown": {"da": "ukendt", "en": "unknown"},
    "not_shown": {
        "da": "{values} værdier ikke vist ({rows})",
        "en": "{values} values not shown ({rows})",
    },
    "date_format": {"da": "Datoformat", "en": "Date format"},
    "shape": {"da": "Form", "en": "Shape"},
    "rows": {"da": "Rækker", "en": "Rows"},
    "columns": {"da": "Kolonner", "en": "Columns"},
    "dropped_columns": {"da": "Ikke læst", "en": "Not read"},
    "codes": {"da": "Koder", "en": "Codes"},
    "total": {"da": "I alt", "en": "In total"},
    "pupils": {"da": "Elever", "en": "Pupils"},
    "schools": {"da": "Skoler", "en": "Schools"},
    "dates": {"da": "Datoer", "en": "Dates"},
}


def _shown(value: object) -> str:
    if value is None:
        return "–"
    if value == "\t":
        return "tab"
    return str(value)


def render_inspection(report: dict[str, Any], *, lang: Lang, width: int | None) -> str:
    """What ingest understood, per file and in total (names and counts only)."""
    console, buffer = _console(width)
    for entry in report["files"]:
        table = Table(
            title=f"{_INSPECT['file'][lang]}: {entry['file']}",
            title_justify="left",
            show_header=False,
        )
        table.add_column("", style="bold")
        table.add_column("")
        keys = ("file_type", "encoding", "separator", "sheet", "header_row", "date_format", "rows")
        for key in keys:
            if key in entry:
                table.add_row(_INSPECT[key][lang], _shown(entry[key]))
        if "shape" in entry:
            table.add_row(_INSPECT["shape"][lang], f"{entry['shape']} ({entry['shape_reason']})")
        if "columns" in entry:
            mapping = ", ".join(f"{header} → {name}" for name, header in entry["columns"].items())
            table.add_row(_INSPECT["columns"][lang], mapping)
            table.add_row(
                _INSPECT["dropped_columns"][lang], ", ".join(entry["dropped_columns"]) or "–"
            )
            if entry.get("missing_columns"):  # a file that was refused: what it lacks
                table.add_row(
                    _INSPECT["missing_columns"][lang], ", ".join(entry["missing_columns"])
                )
            listed = [
                f"{code or '(blank)'} → {meaning['category'] or _INSPECT['unknown'][lang]}"
                f" ({meaning['rows']})"
                for code, meaning in entry["codes"].items()
            ]
            if "codes_not_shown" in entry:
                listed.append(_INSPECT["not_shown"][lang].format(**entry["codes_not_shown"]))
            table.add_row(_INSPECT["codes"][lang], ", ".join(listed) or "–")
        console.print(table)
    if "rows" not in report:  # a refused export: no totals
        return buffer.getvalue()
    total = Table(title=_INSPECT["total"][lang], title_justify="left", show_header=False)
    total.add_column("", style="bold")
    total.add_column("")
    total.add_row(_INSPECT["rows"][lang], str(report["rows"]))
    total.add_row(_INSPECT["pupils"][lang], str(report["pupils"]))
    total.add_row(_INSPECT["schools"][lang], ", ".join(report["schools"]))
    total.add_row(_INSPECT["dates"][lang], f"{report['first_date']} – {report['last_date']}")
    console.print(total)
    return buffer.getvalue()


# -- fravaer escalate ---------------------------------------------------------------------------

_ESCALATE: dict[str, dict[Lang, str]] = {
    "title": {
        "da": "Eskaleringer pr. {as_of} (siden {since}) · {policy}",
        "en": "Escalations as of {as_of} (since {since}) · {policy}",
    },
    "first": {"da": "første kørsel", "en": "first run"},
    "escalations": {"da": "Eskaleringer", "en": "Escalations"},
    "improvements": {"da": "Forbedringer", "en": "Improvements"},
    "no_escalations": {"da": "Ingen eskaleringer.", "en": "No escalations."},
    "no_improvements": {"da": "Ingen forbedringer.", "en": "No improvements."},
    "pupil_id": {"da": "Elev", "en": "Pupil"},
    "school_id": {"da": "Skole", "en": "School"},
    "class_name": {"da": "Klasse", "en": "Class"},
    "grade": {"da": "Klassetrin", "en": "Grade"},
    "previous_step": {"da": "Før trin", "en": "Step before"},
    "step": {"da": "Trin", "en": "Step"},
    "absence_pct": {"da": "Fravær %", "en": "Absence %"},
    "window_start": {"da": "Periode fra", "en": "Window from"},
    "window_end": {"da": "Periode til", "en": "Window to"},
    "illness_days": {"da": "Sygdom", "en": "Illness"},
    "leave_days": {"da": "Frihed", "en": "Leave"},
    "unlawful_days": {"da": "Ulovligt", "en": "Unlawful"},
    "quarter_unlawful_pct": {"da": "Ulovligt kvartal %", "en": "Unlawful quarter %"},
    "quarter_flag": {"da": "Kvartal", "en": "Quarter"},
    "previous_quarter_flag": {"da": "Kvartal før", "en": "Quarter before"},
    "responsible": {"da": "Ansvarlig", "en": "Responsible"},
    "actions": {"da": "Handlinger", "en": "Actions"},
    "change": {"da": "Ændring", "en": "Change"},
    "as_of": {"da": "Opgjort pr.", "en": "As of"},
    "reference_as_of": {"da": "Sammenlignet med", "en": "Compared with"},
    "escalation": {"da": "eskalering", "en": "escalation"},
    "improvement": {"da": "forbedring", "en": "improvement"},
}


def escalation_headings(lang: Lang) -> dict[str, str]:
    """Column name -> heading for the xlsx and table views of ``fravaer escalate``."""
    return {k: v[lang] for k, v in _ESCALATE.items() if k not in ("title", "first")}


def escalation_sheet_names(lang: Lang) -> tuple[str, str]:
    """The two sheets of the escalation workbook: escalations and improvements."""
    return _ESCALATE["escalations"][lang], _ESCALATE["improvements"][lang]


def _flag_text(flag: str | None, lang: Lang) -> str:
    if flag is None:
        return "–"
    return _WORDS[flag][lang] if flag in _WORDS else flag


def render_escalations(
    rows: pl.DataFrame,
    *,
    policy: Policy,
    national: Policy | None,
    as_of: date,
    reference_as_of: date | None,
    lang: Lang = "da",
    width: int | None = None,
) -> str:
    """The escalations, then the improvements, then the actions each reached step requires."""
    console, buffer = _console(width)
    since = reference_as_of.isoformat() if reference_as_of else _ESCALATE["first"][lang]
    title = _ESCALATE["title"][lang].format(
        as_of=as_of.isoformat(), since=since, policy=policy.name
    )
    console.print(_text(title, style="bold"))
    for change, key in (("escalation", "escalations"), ("improvement", "improvements")):
        part = rows.filter(pl.col("change") == change)
        console.print()
        if part.is_empty():
            console.print(_ESCALATE[f"no_{key}"][lang])
            continue
        table = Table(title=f"{_ESCALATE[key][lang]} ({part.height})", title_justify="left")
        for column in ("pupil_id", "school_id", "class_name"):
            table.add_column(_ESCALATE[column][lang])
        for column in ("previous_step", "step", "absence_pct", "quarter_unlawful_pct"):
            table.add_column(_ESCALATE[column][lang], justify="right")
        for column in ("previous_quarter_flag", "quarter_flag", "responsible"):
            table.add_column(_ESCALATE[column][lang])
        for row in part.iter_rows(named=True):
            table.add_row(
                row["pupil_id"],
                row["school_id"],
                row["class_name"] or "",
                "–" if row["previous_step"] is None else str(row["previous_step"]),
                "–" if row["step"] is None else str(row["step"]),
                _number(row["absence_pct"], lang),
                _number(row["quarter_unlawful_pct"], lang),
                _flag_text(row["previous_quarter_flag"], lang),
                _flag_text(row["quarter_flag"], lang),
                row["responsible"] or "",
            )
        console.print(table)
    _print_escalation_actions(console, rows, policy, national, lang)
    return buffer.getvalue()


def _print_escalation_actions(
    console: Console, rows: pl.DataFrame, policy: Policy, national: Policy | None, lang: Lang
) -> None:
    """The minimum actions of every step an escalated pupil newly reached, once per step."""
    escalated = rows.filter(pl.col("change") == "escalation")
    reached: set[int] = set()
    for previous, step in escalated.select("previous_step", "step").iter_rows():
        if step is not None:
            reached |= set(range((previous or 0) + 1, step + 1))
    flags = set(escalated["quarter_flag"].to_list()) - set(
        escalated["previous_quarter_flag"].to_list()
    )
    if not reached and not (national and flags & {s.FLAG_WARN, s.FLAG_NOTIFY}):
        return
    console.print()
    console.print(_text(_w("actions", lang), style="bold"))
    for step in policy.steps:
        if step.step in reached:
            console.print(f"{_w('step', lang)} {step.step} · {step.responsible(lang)}")
            for action in step.actions(lang):
                console.print(f"  • {action}")
    for step in national.steps if national else ():
        if step.label in flags:
            console.print(f"{_flag_text(step.label, lang)} · {step.responsible(lang)}")
            for action in step.actions(lang):
                console.print(f"  • {action}")


# -- trend, patterns, early warning (docs/trend.md) -------------------------------------------

_TREND: dict[str, dict[Lang, str]] = {
    "trend_title": {
        "da": "Elev {pupil} · fravær uge for uge til {as_of}",
        "en": "Pupil {pupil} · absence week by week to {as_of}",
    },
    "class_title": {
        "da": "Klasse {name} · fravær uge for uge til {as_of}",
        "en": "Class {name} · absence week by week to {as_of}",
    },
    "window_line": {
        "da": "Fravær i % af {window} · {title}",
        "en": "Absence as % of the {window} · {title}",
    },
    "week": {"da": "Uge", "en": "Week"},
    "week_end": {"da": "Sidste skoledag", "en": "Last school day"},
    "pct": {"da": "Fravær %", "en": "Absence %"},
    "days_week": {"da": "Fraværsdage i ugen", "en": "Absent days in week"},
    "school_days_week": {"da": "Skoledage i ugen", "en": "School days in week"},
    "series": {"da": "Uge for uge", "en": "Week by week"},
    "change": {"da": "Retning", "en": "Direction"},
    "rising": {"da": "stiger", "en": "rising"},
    "falling": {"da": "falder", "en": "falling"},
    "flat": {"da": "stabilt", "en": "flat"},
    "limit": {"da": "grænse", "en": "limit"},
    "sum_rising": {
        "da": "Fraværet er steget fra {a} % til {b} % {weeks}.",
        "en": "Absence has risen from {a} % to {b} % over {weeks}.",
    },
    "sum_falling": {
        "da": "Fraværet er faldet fra {a} % til {b} % {weeks}.",
        "en": "Absence has fallen from {a} % to {b} % over {weeks}.",
    },
    "sum_flat": {
        "da": "Fraværet har ligget stabilt på {b} % {weeks}.",
        "en": "Absence has stayed at {b} % over {weeks}.",
    },
    "sum_single": {"da": "Fraværet er {b} %.", "en": "Absence is {b} %."},
    "sum_none": {
        "da": "Der er endnu for få skoledage til en procent.",
        "en": "There are too few school days for a percentage yet.",
    },
    "sum_below": {
        "da": "Det er under grænsen på {t} %, hvor skolen skal reagere.",
        "en": "That is below the {t} % limit at which the school must act.",
    },
    "sum_at": {
        "da": "Det er på eller over grænsen på {t} %.",
        "en": "That is at or above the {t} % limit.",
    },
    "no_weeks": {
        "da": "Ingen skoleuger for eleven(erne) til og med {as_of}.",
        "en": "No school weeks for the pupil(s) up to {as_of}.",
    },
    # patterns
    "patterns_title": {
        "da": "Fraværsmønstre pr. {as_of} · elevens seneste {days} skoledage (man.–fre.)",
        "en": "Absence patterns as of {as_of} · the pupil's latest {days} school days (Mon–Fri)",
    },
    "patterns_note": {
        "da": "Ugedag og weekend/ferie: højst {fdr} % falske fund (Benjamini-Hochberg). "
        "Delvise dage: mindst {partial}. Sammenhængende fravær: mindst {run} hele dage i træk.",
        "en": "Weekday and weekend/holiday: at most {fdr} % false findings (Benjamini-Hochberg). "
        "Partial days: {partial} or more. Runs: {run} or more whole days in a row.",
    },
    "patterns_list": {"da": "Elever med et mønster", "en": "Pupils with a pattern"},
    "patterns_all": {"da": "Alle elever", "en": "All pupils"},
    "patterns_none": {
        "da": "Ingen elever med et mønster.",
        "en": "No pupil with a pattern.",
    },
    "patterns_count": {
        "da": "{n} af {total} elever har et mønster.",
        "en": "{n} of {total} pupils show a pattern.",
    },
    "mon": {"da": "Man", "en": "Mon"},
    "tue": {"da": "Tir", "en": "Tue"},
    "wed": {"da": "Ons", "en": "Wed"},
    "thu": {"da": "Tor", "en": "Thu"},
    "fri": {"da": "Fre", "en": "Fri"},
    "edge": {"da": "Weekend/ferie", "en": "Weekend/holiday"},
    "partial": {"da": "Delvise dage", "en": "Partial days"},
    "run": {"da": "Længste række", "en": "Longest run"},
    "found": {"da": "Mønster", "en": "Pattern"},
    "monday": {"da": "mandag", "en": "Monday"},
    "tuesday": {"da": "tirsdag", "en": "Tuesday"},
    "wednesday": {"da": "onsdag", "en": "Wednesday"},
    "thursday": {"da": "torsdag", "en": "Thursday"},
    "friday": {"da": "fredag", "en": "Friday"},
    "flag_weekday": {"da": "især {days}", "en": "mostly {days}"},
    "flag_weekend_holiday": {"da": "omkring weekend/ferie", "en": "around weekends/holidays"},
    "flag_partial_days": {"da": "{n} delvise dage", "en": "{n} partial days"},
    "flag_run": {"da": "{n} dage i træk", "en": "{n} days in a row"},
    # early warning
    "ew_title": {
        "da": "Tidlig varsling pr. {as_of} · elever under trin 1 · horisont {horizon} skoledage",
        "en": "Early warning as of {as_of} · pupils below step 1 · horizon {horizon} school days",
    },
    "ew_note": {
        "da": "Fremskrivning: elevens fravær i de seneste {recent} skoledage fortsætter; "
        "grænse {t} %.",
        "en": "Projection: the pupil's absence in the latest {recent} school days continues; "
        "limit {t} %.",
    },
    "ew_none": {
        "da": "Ingen elever under trin 1 med et mønster, stigende fravær eller en fremskrevet "
        "overskridelse.",
        "en": "No pupil below step 1 with a pattern, rising absence or a projected crossing.",
    },
    "recent": {"da": "Seneste 4 uger %", "en": "Latest 4 weeks %"},
    "before": {"da": "For 3 uger siden %", "en": "3 weeks ago %"},
    "crossing": {"da": "Over grænsen", "en": "Crosses limit"},
    "reasons": {"da": "Hvorfor", "en": "Why"},
    "reason_pattern": {"da": "mønster", "en": "pattern"},
    "reason_rising": {"da": "stigende", "en": "rising"},
    "reason_projected": {"da": "fremskrivning", "en": "projection"},
    "in_days": {"da": "{date} (om {n} skoledage)", "en": "{date} (in {n} school days)"},
    "in_day": {"da": "{date} (næste skoledag)", "en": "{date} (next school day)"},
}

_NUMBER_WORDS: dict[Lang, tuple[str, ...]] = {
    "da": ("nul", "en", "to", "tre", "fire", "fem", "seks", "syv", "otte", "ni", "ti"),
    "en": ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"),
}


def _t(key: str, lang: Lang, **values: object) -> str:
    return _TREND[key][lang].format(**values)


def _weeks_text(weeks: int, lang: Lang) -> str:
    """``de seneste tre uger`` / ``the last three weeks``; ``den seneste uge`` for one."""
    if weeks == 1:
        return "den seneste uge" if lang == "da" else "the last week"
    words = _NUMBER_WORDS[lang]
    count = words[weeks] if weeks < len(words) else str(weeks)
    return f"de seneste {count} uger" if lang == "da" else f"the last {count} weeks"


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
        return [_number(math.floor(value * 10) / 10, lang) for value in values]
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
        return _t("sum_none", lang)
    lines = dict(pct_thresholds(policy))
    limits = list(lines.values())
    if direction is None or pct_before is None:
        first = _t("sum_single", lang, b=shown_pcts([pct_now], limits=limits, lang=lang)[0])
    else:
        key = {RISING: "sum_rising", FALLING: "sum_falling"}.get(direction, "sum_flat")
        before, now = shown_pcts([pct_before, pct_now], limits=limits, lang=lang)
        first = _t(key, lang, a=before, b=now, weeks=_weeks_text(weeks_back, lang))
    if step is None:
        return first
    if step == 0:
        limit = lines.get(policy.steps[0].step)
        return f"{first} {_t('sum_below', lang, t=_decimal(limit, lang))}" if limit else first
    limit = lines.get(step)
    return f"{first} {_t('sum_at', lang, t=_decimal(limit, lang))}" if limit else first


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
    names = {level: _decimal(Decimal(str(level)), lang) for level in levels}
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
        suffix = f" {_t('limit', lang)} {names[level]} %" if is_limit else ""
        lines.append(f"{names[level]:>{label_width}} ┤{''.join(cells)}{suffix}".rstrip())
    axis = " " * label_width + " └" + "─" * (cell * len(values))
    labels = " " * label_width + "  " + "".join(f"{d.isocalendar()[1]:>{cell - 1}} " for d in weeks)
    week_word = _t("week", lang).lower()
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
    console, buffer = _console(width)
    if series.is_empty():
        console.print(_t("no_weeks", lang, as_of=as_of.isoformat()))
        return buffer.getvalue()
    pupil = series[s.PUPIL_ID][0]
    console.print(
        _text(_t("trend_title", lang, pupil=pupil, as_of=as_of.isoformat()), style="bold")
    )
    console.print(
        _t(
            "window_line",
            lang,
            window=policy.primary.window.describe(lang),
            title=policy.title(lang),
        )
    )
    console.print()
    console.print(_text(summary, style="bold"))
    console.print()
    limits = [x for _, x in pct_thresholds(policy)]
    chart = text_chart(
        series[WEEK_END].to_list(), series[s.ABSENCE_PCT].to_list(), limits=limits, lang=lang
    )
    console.print(Text(chart), soft_wrap=True)  # drawn here from numbers: its own lines
    console.print()
    table = Table(title=_t("series", lang), title_justify="left")
    table.add_column(_t("week", lang), justify="right")
    table.add_column(_t("week_end", lang))
    table.add_column(_t("pct", lang), justify="right")
    table.add_column(_w("step", lang), justify="right")
    table.add_column(_t("school_days_week", lang), justify="right")
    table.add_column(_t("days_week", lang), justify="right")
    for category in s.ABSENCE_CATEGORIES:
        table.add_column(_w(f"{category}_days", lang), justify="right")
    for row in series.iter_rows(named=True):
        table.add_row(
            str(row[WEEK_END].isocalendar()[1]),
            row[WEEK_END].isoformat(),
            _number(row[s.ABSENCE_PCT], lang),
            "–" if row[s.STEP] is None else str(row[s.STEP]),
            str(row[SCHOOL_DAYS_WEEK]),
            _number(row[ABSENT_DAYS_WEEK], lang),
            *(_number(row[CATEGORY_DAYS_WEEK[c]], lang) for c in s.ABSENCE_CATEGORIES),
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
    console, buffer = _console(width)
    console.print(_text(_t("class_title", lang, name=name, as_of=as_of.isoformat()), style="bold"))
    console.print(
        _t(
            "window_line",
            lang,
            window=policy.primary.window.describe(lang),
            title=policy.title(lang),
        )
    )
    if series.is_empty():
        console.print(_t("no_weeks", lang, as_of=as_of.isoformat()))
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
    table.add_column(_w("pupil_id", lang))
    table.add_column(_t("series", lang))
    table.add_column(_t("before", lang), justify="right")
    table.add_column(_t("pct", lang), justify="right")
    table.add_column(_w("step", lang), justify="right")
    table.add_column(_t("change", lang))
    for row in per_pupil.iter_rows(named=True):
        table.add_row(
            row[s.PUPIL_ID],
            sparkline(row[s.ABSENCE_PCT]),
            _number(row[PCT_BEFORE], lang),
            _number(row["_now"], lang),
            "–" if row["_step"] is None else str(row["_step"]),
            _t(row[DIRECTION], lang) if row[DIRECTION] else "–",
        )
    console.print(table)
    return buffer.getvalue()


def _flag_words(row: dict[str, Any], lang: Lang) -> str:
    words = []
    for flag in (row[FLAGS] or "").split(";"):
        if flag == FLAG_WEEKDAY:
            days = ", ".join(_t(d, lang) for d in row[WEEKDAY_FLAG].split(","))
            words.append(_t("flag_weekday", lang, days=days))
        elif flag == FLAG_EDGE:
            words.append(_t("flag_weekend_holiday", lang))
        elif flag == FLAG_PARTIAL:
            words.append(_t("flag_partial_days", lang, n=row[PARTIAL_DAYS]))
        elif flag == FLAG_RUN:
            words.append(_t("flag_run", lang, n=row[LONGEST_RUN]))
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
    console, buffer = _console(width)
    console.print(
        _text(_t("patterns_title", lang, as_of=as_of.isoformat(), days=days), style="bold")
    )
    note = _t(
        "patterns_note",
        lang,
        fdr=_number(100 * fdr, lang, 0),
        partial=PARTIAL_DAYS_FLAG,
        run=RUN_DAYS_FLAG,
    )
    console.print(note)
    flagged = result.filter(pl.col(FLAGS) != "")
    console.print(_t("patterns_count", lang, n=flagged.height, total=result.height))
    rows = result if show_all else flagged
    if rows.is_empty():
        console.print(_t("patterns_none", lang))
        return buffer.getvalue()
    table = Table(
        title=_t("patterns_all" if show_all else "patterns_list", lang), title_justify="left"
    )
    for key in (s.PUPIL_ID, s.SCHOOL_ID, s.CLASS_NAME):
        table.add_column(_w(key, lang))
    table.add_column(_w("absence_pct", lang), justify="right")
    for short in ("mon", "tue", "wed", "thu", "fri"):
        table.add_column(f"{_t(short, lang)} %", justify="right")
    table.add_column(_t("edge", lang), justify="right")
    table.add_column(_t("partial", lang), justify="right")
    table.add_column(_t("run", lang), justify="right")
    table.add_column(_t("found", lang))
    for row in rows.iter_rows(named=True):
        edge = f"{row[EDGE_ABSENT_DAYS]}/{row[EDGE_DAYS]}" if row[EDGE_DAYS] is not None else "–"
        table.add_row(
            row[s.PUPIL_ID],
            row[s.SCHOOL_ID] or "",
            row[s.CLASS_NAME] or "",
            _number(row[s.ABSENCE_PCT], lang),
            *(_number(row[WEEKDAY_PCT[d]], lang, 0) for d in WEEKDAYS),
            edge,
            "–" if row[PARTIAL_DAYS] is None else str(row[PARTIAL_DAYS]),
            "–" if row[LONGEST_RUN] is None else str(row[LONGEST_RUN]),
            _flag_words(row, lang),
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
    console, buffer = _console(width)
    console.print(
        _text(_t("ew_title", lang, as_of=as_of.isoformat(), horizon=horizon), style="bold")
    )
    limit = _decimal(first_threshold(policy), lang)
    console.print(_t("ew_note", lang, recent=RECENT_DAYS, t=limit))
    if result.is_empty():
        console.print(_t("ew_none", lang))
        return buffer.getvalue()
    table = Table()
    for key in (s.PUPIL_ID, s.SCHOOL_ID, s.CLASS_NAME):
        table.add_column(_w(key, lang))
    table.add_column(_t("before", lang), justify="right")
    table.add_column(_w("absence_pct", lang), justify="right")
    table.add_column(_t("recent", lang), justify="right")
    table.add_column(_t("crossing", lang))
    table.add_column(_t("reasons", lang))
    for row in result.iter_rows(named=True):
        crossing = (
            _t(
                "in_day" if row[PROJECTED_DAYS] == 1 else "in_days",
                lang,
                date=row[PROJECTED_DATE].isoformat(),
                n=row[PROJECTED_DAYS],
            )
            if row[PROJECTED_DATE] is not None
            else "–"
        )
        reasons = [_t(f"reason_{r}", lang) for r in row[REASONS].split(";")]
        flags = _flag_words(row, lang)
        why = ", ".join(reasons) + (f" ({flags})" if flags else "")
        table.add_row(
            row[s.PUPIL_ID],
            row[s.SCHOOL_ID] or "",
            row[s.CLASS_NAME] or "",
            _number(row[PCT_BEFORE], lang),
            _number(row[s.ABSENCE_PCT], lang),
            _number(row[RECENT_PCT], lang),
            crossing,
            why,
        )
    console.print(table)
    return buffer.getvalue()


# -- fravaer stats ----------------------------------------------------------------------------

_STATS: dict[str, dict[Lang, str]] = {
    "title": {
        "da": "Fraværsstatistik pr. {as_of} · {policy}",
        "en": "Absence statistics as of {as_of} · {policy}",
    },
    "period": {"da": "Periode {label}: {start} – {end}", "en": "Period {label}: {start} – {end}"},
    s.SCHOOL_ID: {"da": "Skole", "en": "School"},
    s.GRADE: {"da": "Klassetrin", "en": "Grade"},
    s.CLASS_NAME: {"da": "Klasse", "en": "Class"},
    "pupils": {"da": "Elever", "en": "Pupils"},
    "school_days": {"da": "Elevskoledage", "en": "Pupil school days"},
    "absence_pct": {"da": "Fravær %", "en": "Absence %"},
    "absence_pct_pooled": {"da": "Fravær % samlet", "en": "Absence % pooled"},
    "illness_pct": {"da": "Sygdom %", "en": "Illness %"},
    "leave_pct": {"da": "Frihed %", "en": "Leave %"},
    "unlawful_pct": {"da": "Ulovligt %", "en": "Unlawful %"},
    "pupils_0_5": {"da": "0–5 %", "en": "0–5 %"},
    "pupils_5_10": {"da": "5,01–10 %", "en": "5.01–10 %"},
    "pupils_over_10": {"da": "Over 10 %", "en": "Over 10 %"},
    "share_over_10": {"da": "Andel over 10 %", "en": "Share over 10 %"},
    "step": {"da": "Trin {n}", "en": "Step {n}"},
    "municipality": {"da": "Kommunen", "en": "Municipality"},
    "national": {"da": "Landsplan {year}", "en": "National {year}"},
    "national_plain": {"da": "Landsplan", "en": "National"},
    "no_national": {
        "da": "Ingen landstal for perioden.",
        "en": "No national figures for the period.",
    },
    "source": {"da": "Kilde ({year}): {source}", "en": "Source ({year}): {source}"},
    "trend": {
        "da": "Udvikling: andel elever over 10 % fravær",
        "en": "Trend: share of pupils over 10 % absence",
    },
    "group": {"da": "Gruppe", "en": "Group"},
    "freshness": {"da": "Seneste registrering pr. skole", "en": "Latest registration per school"},
    "latest": {"da": "Seneste dato", "en": "Latest date"},
    "behind": {"da": "Skoledage bagud", "en": "School days behind"},
    "hidden_mark": {
        "da": "{mark} = skjult: færre end {n} elever, eller skjult for at en anden skjult gruppe "
        "ikke kan regnes ud af totalerne.",
        "en": "{mark} = hidden: fewer than {n} pupils, or hidden so that another hidden group "
        "cannot be worked out from the totals.",
    },
    "no_suppression": {
        "da": "UDEN DISKRETIONERING (--no-suppression): små grupper vises. Kun til intern brug; "
        "må ikke offentliggøres.",
        "en": "NOT SUPPRESSED (--no-suppression): small groups are shown. For internal use only; "
        "do not publish.",
    },
    "methods": {
        "da": "Fravær %: ministeriets metode, elevernes fravær i procent vægtet med antal måneder "
        "med registreringer på skolen. Fravær % samlet: alle fraværsdage ÷ alle elevskoledage. "
        "Trin: elever på handlevejledningens trin ved periodens slutning.",
        "en": "Absence %: the ministry's method, pupils' absence percentages weighted by their "
        "months with registrations at the school. Absence % pooled: all absent days ÷ all pupil "
        "school days. Steps: pupils at the guideline's step at the end of the period.",
    },
}

HIDDEN_MARK = "x"
"""How the table marks a suppressed cell."""


def _st(key: str, lang: Lang, **values: object) -> str:
    return _STATS[key][lang].format(**values)


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
    console, buffer = _console(width)
    console.print(
        _text(_st("title", lang, as_of=as_of.isoformat(), policy=policy.title(lang)), style="bold")
    )
    if min_cell is None:
        console.print(_text(_st("no_suppression", lang), style="bold"))
    steps = [step.step for step in policy.steps]
    for (label, start, end), reference in zip(periods, references, strict=True):
        part = table.filter(pl.col(st.PERIOD) == label)
        console.print(_stats_table(part, keys, steps, reference, label, start, end, lang))
        if reference is None:
            console.print(_st("no_national", lang))
        else:
            for source in reference.sources:
                console.print(_st("source", lang, year=reference.period, source=source))
    if len(periods) > 1:
        console.print(_text(_st("trend", lang), style="italic"))
        console.print(_trend_table(table, keys, [p[0] for p in periods], references, lang))
    console.print(_freshness_table(freshness, lang))
    if min_cell is not None:
        console.print(_st("hidden_mark", lang, mark=HIDDEN_MARK, n=min_cell))
    console.print(_st("methods", lang))
    return buffer.getvalue()


def _stats_cell(row: dict[str, Any], column: str, lang: Lang) -> str:
    if row[st.SUPPRESSED]:
        return HIDDEN_MARK
    value = row[column]
    if value is None:
        return "–"
    if isinstance(value, float):
        return _number(value, lang)
    return str(value)


def _group_cells(row: dict[str, Any], keys: list[str]) -> list[str]:
    return ["–" if row[k] is None else str(row[k]) for k in keys]


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
    title = _st("period", lang, label=label, start=start.isoformat(), end=end.isoformat())
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
        table.add_column(_st(key, lang), no_wrap=True)
    for column in figures:
        table.add_column(_st(column, lang), justify="right")
    for n in steps:
        table.add_column(_st("step", lang, n=n), justify="right")
    columns = [*figures, *(st.step_column(n) for n in steps)]
    groups = part.filter(~pl.col(st.MUNICIPALITY))
    for row in groups.iter_rows(named=True):
        table.add_row(*_group_cells(row, keys), *(_stats_cell(row, c, lang) for c in columns))
    table.add_section()
    for row in part.filter(pl.col(st.MUNICIPALITY)).iter_rows(named=True):
        name = [_st("municipality", lang), *[""] * (len(keys) - 1)]
        table.add_row(*name, *(_stats_cell(row, c, lang) for c in columns))
    if reference is not None:
        national = {"absence_pct": reference.absence_pct, "share_over_10": reference.share_over_10}
        table.add_row(
            _st("national", lang, year=reference.period),
            *[""] * (len(keys) - 1),
            *(_number(national[c], lang) if national.get(c) is not None else "" for c in columns),
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
        trend.add_column(_st(key, lang))
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
        trend.add_row(*("–" if v is None else str(v) for v in name), *cells)
    trend.add_section()
    totals = []
    for label in labels:
        match = table.filter(pl.col(st.MUNICIPALITY), pl.col(st.PERIOD) == label)
        totals.append(_stats_cell(match.row(0, named=True), st.SHARE_OVER_10, lang))
    trend.add_row(_st("municipality", lang), *[""] * (len(keys) - 1), *totals)
    national = [
        _number(r.share_over_10, lang) if r and r.period == label and r.share_over_10 else ""
        for label, r in zip(labels, references, strict=True)
    ]
    if any(national):  # only a period's own school year: the trend compares like with like
        trend.add_row(_st("national_plain", lang), *[""] * (len(keys) - 1), *national)
    return trend


def _freshness_table(freshness: pl.DataFrame, lang: Lang) -> Table:
    table = Table(title=_st("freshness", lang), title_justify="left")
    table.add_column(_st(s.SCHOOL_ID, lang))
    table.add_column(_st("latest", lang))
    table.add_column(_st("behind", lang), justify="right")
    for school, latest, behind in freshness.iter_rows():
        table.add_row(school, latest.isoformat(), str(behind))
    return table


# -- progress -----------------------------------------------------------------------------------


@contextmanager
def progress(stream: IO[str] | None = None) -> Iterator[Callable[[str], None]]:
    """A spinner with the current stage and the elapsed time on a terminal's stderr.

    Yields a function that names the stage (``"reading 2 input file(s)"``); stage texts carry
    no personal data. When ``stream`` (default stderr) is not a terminal -- a pipe, a file, cron
    -- nothing is drawn and the function does nothing. The line is removed when the block ends,
    so messages and errors printed after it stand alone.
    """
    stream = sys.stderr if stream is None else stream
    if not stream.isatty():
        yield lambda text: None
        return
    console = Console(file=stream)
    columns = (SpinnerColumn(), TextColumn("{task.description}", markup=False), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task("fravaer", total=None)
        yield lambda text: bar.update(task, description=f"fravaer: {text}")
