"""Terminal tables: the only module that imports rich, and the only view that rounds."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal
from typing import Any

import polars as pl
from rich.console import Console
from rich.table import Table
from rich.text import Text

from fravaer import schema as s
from fravaer import stats as st
from fravaer.policy import AllOf, Condition, Lang, Policy, Threshold
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
    buffer = io.StringIO()
    console = Console(
        file=buffer, width=width, force_terminal=color, no_color=not color, highlight=False
    )
    console.print(Text(_w("title", lang, as_of=as_of.isoformat()), style="bold"))
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
    console.print(Text(_w("actions", lang), style="bold"))
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
    console = Console(
        file=buffer, width=width, force_terminal=color, no_color=not color, highlight=False
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
        Text(
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
        console.print(Text(_w("result_none", lang, n=policy.min_school_days), style="bold"))
    else:
        console.print(Text(_w("result", lang, step=result), style="bold"))
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
    console.print(Text(policy.title(lang), style="bold"))
    console.print(
        f"{policy.name} · {_w('version', lang).lower()} {policy.version} · "
        f"{_w('effective_from', lang).lower()} {policy.effective_from.isoformat()}"
    )
    console.print(f"{_w('source', lang)}: {policy.source}")
    console.print()
    console.print(policy.description(lang))
    console.print(_w("min_days", lang, n=policy.min_school_days))
    console.print()
    console.print(Text(_w("rules", lang), style="bold"))
    for name, rule in policy.rules.items():
        whole = rule.run_fraction == 1
        fraction = _decimal(rule.run_fraction, lang)
        share = _w("whole_day", lang) if whole else _w("at_least_share", lang, f=fraction)
        measure = _w(f"measure_{rule.measure}", lang, f=share)
        categories = ", ".join(_w(c, lang) for c in rule.categories)
        window = rule.window.describe(lang)
        console.print(f"  {name}: {measure}, {window}; {_w('categories', lang)} {categories}")
    console.print()
    console.print(Text(_w("steps", lang), style="bold"))
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
        Text(_w("check_title", lang, file=file, rows=rows, as_of=as_of.isoformat()), style="bold")
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
        for key in ("file_type", "encoding", "separator", "sheet", "date_format", "rows"):
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
            codes = ", ".join(
                f"{code or '(blank)'} → {meaning['category']} ({meaning['rows']})"
                for code, meaning in entry["codes"].items()
            )
            table.add_row(_INSPECT["codes"][lang], codes or "–")
        console.print(table)
    total = Table(title=_INSPECT["total"][lang], title_justify="left", show_header=False)
    total.add_column("", style="bold")
    total.add_column("")
    total.add_row(_INSPECT["rows"][lang], str(report["rows"]))
    total.add_row(_INSPECT["pupils"][lang], str(report["pupils"]))
    total.add_row(_INSPECT["schools"][lang], ", ".join(report["schools"]))
    total.add_row(_INSPECT["dates"][lang], f"{report['first_date']} – {report['last_date']}")
    console.print(total)
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
        Text(_st("title", lang, as_of=as_of.isoformat(), policy=policy.title(lang)), style="bold")
    )
    if min_cell is None:
        console.print(Text(_st("no_suppression", lang), style="bold"))
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
        console.print(Text(_st("trend", lang), style="italic"))
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
