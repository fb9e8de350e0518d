"""Terminal tables: the only module that imports rich, and the only view that rounds."""

from __future__ import annotations

import io
from datetime import date

import polars as pl
from rich.console import Console
from rich.table import Table
from rich.text import Text

from fravaer import schema as s
from fravaer.policy import NATIONAL_QUARTER_RULE, Lang, Policy, Threshold
from fravaer.window import quarter_start

_WORDS: dict[str, dict[Lang, str]] = {
    "title": {"da": "Fravær pr. {as_of}", "en": "Absence as of {as_of}"},
    "policy": {
        "da": "{title} · version {version} · seneste {days} skoledage",
        "en": "{title} · version {version} · latest {days} school days",
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
        "da": "Ulovligt fravær i kvartalet fra {start}: ≥ {w} % (forældre advares): {warn} · "
        "≥ {n} % (kommunen underrettes): {notify}",
        "en": "Unlawful absence in the quarter from {start}: ≥ {w} % (warn parents): {warn} · "
        "≥ {n} % (notify the municipality): {notify}",
    },
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
            days=policy.primary.window.school_days,
        )
    )
    console.print(_summary(result, policy, lang))
    console.print(_quarter_line(result, as_of, lang))
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
    """`≥ 10 %` for a single threshold; the measure names otherwise."""
    when = policy.step(number).when
    if isinstance(when, Threshold):
        unit = " %" if policy.measures[when.measure].kind == "percent" else ""
        value = f"{when.at_least.normalize():f}"  # 10, 12.5, 9.99: as written, no float noise
        return f"≥ {value.replace('.', ',') if lang == 'da' else value}{unit}"
    return "…"


def _quarter_line(result: pl.DataFrame, as_of: date, lang: Lang) -> str:
    flags = dict(result.group_by(s.QUARTER_FLAG).len().iter_rows())
    return _w(
        "quarter",
        lang,
        start=quarter_start(as_of).isoformat(),
        warn=flags.get(s.FLAG_WARN, 0) + flags.get(s.FLAG_NOTIFY, 0),  # everyone at 10 % or more
        notify=flags.get(s.FLAG_NOTIFY, 0),
        w=NATIONAL_QUARTER_RULE.warn_at,
        n=NATIONAL_QUARTER_RULE.notify_at,
    )


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
            _w(row[s.QUARTER_FLAG], lang),
        )
    return table
