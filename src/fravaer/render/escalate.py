"""``fravaer escalate`` (docs/escalate.md): who moved up or down a step, and the actions the
new steps require."""

from __future__ import annotations

from datetime import date

import polars as pl
from rich.console import Console
from rich.table import Table

from fravaer import schema as s
from fravaer.policy import Lang, Policy
from fravaer.render.classify import print_actions, print_step_actions
from fravaer.render.console import make_console
from fravaer.words import NO_VALUE, QUARTER_FLAGS, number_text, plain_text, sheet_name, word


def escalation_sheet_names(lang: Lang) -> tuple[str, str]:
    """The two sheets of the escalation workbook: escalations and improvements."""
    return sheet_name("escalations", lang), sheet_name("improvements", lang)


def _flag_text(flag: str | None, lang: Lang) -> str:
    if flag is None:
        return NO_VALUE
    return word(flag, lang) if flag in QUARTER_FLAGS else flag


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
    since = reference_as_of.isoformat() if reference_as_of else word("first_run", lang)
    title = word("escalate_title", lang, as_of=as_of.isoformat(), since=since, policy=policy.name)
    console, buffer = make_console(width, title=title)
    for change, key in (("escalation", "escalations"), ("improvement", "improvements")):
        part = rows.filter(pl.col("change") == change)
        console.print()
        if part.is_empty():
            console.print(word(f"no_{key}", lang))
            continue
        table = Table(title=f"{word(key, lang)} ({part.height})", title_justify="left")
        for column in ("pupil_id", "school_id", "class_name"):
            table.add_column(word(column, lang))
        for column in ("previous_step", "step", "absence_pct", "quarter_unlawful_pct"):
            table.add_column(word(column, lang), justify="right")
        for column in ("previous_quarter_flag", "quarter_flag", "responsible"):
            table.add_column(word(column, lang))
        for row in part.iter_rows(named=True):
            table.add_row(
                row["pupil_id"],
                row["school_id"],
                row["class_name"] or "",
                plain_text(row["previous_step"]),
                plain_text(row["step"]),
                number_text(row["absence_pct"], lang),
                number_text(row["quarter_unlawful_pct"], lang),
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
    print_actions(console, policy, reached, lang)
    for step in national.steps if national else ():
        if step.label in flags:
            print_step_actions(console, _flag_text(step.label, lang), step, lang)
