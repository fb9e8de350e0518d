"""``fravaer classify``, ``explain`` and ``policy`` (docs/classify.md, docs/policies.md): the
steps, one pupil's rules, a policy in words."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import polars as pl
from rich.console import Console
from rich.table import Table

from fravaer import schema as s
from fravaer.policy import AllOf, Condition, Lang, Policy, Step, Threshold
from fravaer.render.console import make_console, styled
from fravaer.window import quarter_start
from fravaer.words import NO_VALUE, QUARTER_FLAGS, WORDS, number_text, plain_text, window_text, word


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
    title = word("classify_title", lang, as_of=as_of.isoformat())
    console, buffer = make_console(width, title=title, color=color)
    console.print(
        word(
            "policy_line",
            lang,
            title=policy.title(lang),
            version=policy.version,
            window=window_text(policy.primary.window, lang),
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
    table = Table(title=word("summary", lang), title_justify="left")
    table.add_column(word("step", lang))
    table.add_column(word("trigger", lang))
    table.add_column(word("responsible", lang))
    table.add_column(word("pupils", lang), justify="right")
    table.add_column(word("share", lang), justify="right")

    def share(n: int) -> str:
        return number_text(100 * n / total if total else None, lang) + " %"

    table.add_row("0", word("below", lang), "", str(counts.get(0, 0)), share(counts.get(0, 0)))
    for step in policy.steps:
        n = counts.get(step.step, 0)
        trigger = _trigger_text(policy, step.step, lang)
        table.add_row(str(step.step), trigger, step.responsible(lang), str(n), share(n))
    n = counts.get(None, 0)
    insufficient = word("insufficient", lang, n=policy.min_school_days)
    table.add_row(NO_VALUE, insufficient, "", str(n), share(n))
    return table


def _trigger_text(policy: Policy, number: int, lang: Lang) -> str:
    """`≥ 10 %` for a threshold on the primary rule; the rules and their thresholds otherwise."""
    return condition_text(policy.step(number).when, policy, lang, top=True)


def condition_text(condition: Condition, policy: Policy, lang: Lang, *, top: bool = False) -> str:
    """A condition in words: ``≥ 10 %``, ``consecutive ≥ 5 dage i træk eller …``."""
    if isinstance(condition, Threshold):
        rule = policy.rules[condition.rule]
        unit = " %" if rule.measure == "percent" else " " + word(f"unit_{rule.measure}", lang)
        value = f"≥ {number_text(condition.at_least, lang, decimals=None)}{unit}"
        return (
            value if top and condition.rule == policy.primary_rule else f"{condition.rule} {value}"
        )
    joiner, parts = (
        ("and", condition.all) if isinstance(condition, AllOf) else ("or", condition.any)
    )
    text = f" {word(joiner, lang)} ".join(condition_text(c, policy, lang) for c in parts)
    return text if top else f"({text})"


def _quarter_line(result: pl.DataFrame, national: Policy | None, as_of: date, lang: Lang) -> str:
    """How many pupils are at or above each step of the national rule (cumulative)."""
    if national is None:
        return word("quarter_off", lang)
    labels = {step.label or str(step.step): step.step for step in national.steps}
    reached = [labels.get(flag, 0) for flag in result[s.QUARTER_FLAG].to_list()]
    parts = []
    for step in national.steps:
        count = sum(level >= step.step for level in reached)
        key = f"{step.label}_long"
        meaning = word(key, lang) if key in WORDS else step.responsible(lang)
        parts.append(f"{condition_text(step.when, national, lang, top=True)} ({meaning}): {count}")
    return word("quarter", lang, start=quarter_start(as_of).isoformat()) + " · ".join(parts)


def _print_actions(console: Console, result: pl.DataFrame, policy: Policy, lang: Lang) -> None:
    present = {step for step in result[s.STEP].unique().to_list() if step}
    if present:
        print_actions(console, policy, present, lang)


def print_actions(console: Console, policy: Policy, reached: set[int], lang: Lang) -> None:
    """The minimum actions, under their heading, of the policy's steps in ``reached``."""
    console.print()
    console.print(styled(word("minimum_actions", lang), style="bold"))
    for step in policy.steps:
        if step.step in reached:
            print_step_actions(console, f"{word('step', lang)} {step.step}", step, lang)


def print_step_actions(console: Console, name: str, step: Step, lang: Lang) -> None:
    """``Trin 2 · <who acts>`` and the step's actions as a list."""
    console.print(f"{name} · {step.responsible(lang)}")
    for action in step.actions(lang):
        console.print(f"  • {action}")


def _pupil_table(result: pl.DataFrame, lang: Lang, *, show_all: bool) -> Table | str:
    flagged = (pl.col(s.STEP) >= 1) | (pl.col(s.QUARTER_FLAG) != s.FLAG_NONE)
    rows = result if show_all else result.filter(flagged)
    if rows.is_empty():
        return word("none_flagged", lang)
    rows = rows.sort(
        [s.STEP, s.ABSENCE_PCT, s.SCHOOL_ID, s.PUPIL_ID],
        descending=[True, True, False, False],
        nulls_last=True,
    )
    title = word("all_pupils" if show_all else "list_flagged", lang)
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
        table.add_column(word(column, lang))
    table.add_column(word("step", lang), justify="right")
    for column in number_columns:
        table.add_column(word(column, lang), justify="right")
    table.add_column(word(s.QUARTER_UNLAWFUL_PCT, lang), justify="right")
    table.add_column(word(s.QUARTER_FLAG, lang))
    for row in rows.iter_rows(named=True):
        step = plain_text(row[s.STEP])
        table.add_row(
            *(row[c] or "" for c in text_columns),
            step,
            *(
                str(row[c]) if c == s.WINDOW_DAYS else number_text(row[c], lang)
                for c in number_columns
            ),
            number_text(row[s.QUARTER_UNLAWFUL_PCT], lang),
            word(row[s.QUARTER_FLAG], lang) if row[s.QUARTER_FLAG] in QUARTER_FLAGS else "",
        )
    return table


def _value_text(value: float | None, measure: str, lang: Lang) -> str:
    if value is None:
        return NO_VALUE
    if measure == "percent":
        return f"{number_text(value, lang)} %"
    if measure == "days":
        return f"{number_text(value, lang)} {word('unit_days', lang)}"
    return f"{int(value)} {word('unit_consecutive_days', lang)}"


def _threshold_text(value: Decimal, measure: str, lang: Lang) -> str:
    unit = "%" if measure == "percent" else word(f"unit_{measure}", lang)
    return f"{number_text(value, lang, decimals=None)} {unit}"


def render_explanation(rows: pl.DataFrame, *, policy: Policy, lang: Lang, width: int | None) -> str:
    """For one pupil: per step, each threshold's window, measured value and verdict."""
    first = rows.row(0, named=True)
    title = word(
        "explain_title",
        lang,
        pupil=first[s.PUPIL_ID],
        as_of=first[s.AS_OF].isoformat(),
        policy=policy.name,
        version=policy.version,
    )
    console, buffer = make_console(width, title=title)
    for step in policy.steps:
        part = rows.filter(pl.col("step") == step.step)
        verdict = word("holds" if part["step_holds"][0] else "not_holds", lang)
        trigger = condition_text(step.when, policy, lang, top=True)
        table = Table(
            title=f"{word('step', lang)} {step.step} · {trigger} · {verdict}", title_justify="left"
        )
        for key in ("rule", "window", "dates", "window_days", "value", "threshold", "verdict"):
            table.add_column(
                word(key, lang), justify="right" if key in ("window_days",) else "left"
            )
        for row in part.iter_rows(named=True):
            rule = policy.rules[row["rule"]]
            dates = (
                f"{row[s.WINDOW_START].isoformat()} – {row[s.WINDOW_END].isoformat()}"
                if row[s.WINDOW_START]
                else NO_VALUE
            )
            table.add_row(
                row["rule"],
                window_text(rule.window, lang),
                dates,
                str(row[s.WINDOW_DAYS]),
                _value_text(row["value"], rule.measure, lang),
                _threshold_text(Decimal(str(row["at_least"])), rule.measure, lang),
                word("holds" if row["holds"] else "not_holds", lang),
            )
        console.print(table)
    result = first["result_step"]
    if result is None:
        console.print(styled(word("result_none", lang, n=policy.min_school_days), style="bold"))
    else:
        console.print(styled(word("result", lang, step=result), style="bold"))
        if result:
            for action in policy.step(result).actions(lang):
                console.print(f"  • {action}")
    return buffer.getvalue()


def render_policy_list(listing: pl.DataFrame, *, lang: Lang, width: int | None) -> str:
    """The bundled policies as a table."""
    console, buffer = make_console(width)
    table = Table()
    for key in ("name", "series", "version", "effective_from", "title"):
        table.add_column(word(key, lang))
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
    console, buffer = make_console(width, title=policy.title(lang))
    console.print(
        f"{policy.name} · {word('version', lang).lower()} {policy.version} · "
        f"{word('effective_from', lang).lower()} {policy.effective_from.isoformat()}"
    )
    console.print(f"{word('source', lang)}: {policy.source}")
    console.print()
    for line in policy.description(lang).splitlines():  # the author's line breaks
        console.print(line)
    console.print(word("min_days", lang, n=policy.min_school_days))
    console.print()
    console.print(styled(word("rules", lang), style="bold"))
    for name, rule in policy.rules.items():
        whole = rule.run_fraction == 1
        fraction = number_text(rule.run_fraction, lang, decimals=None)
        share = word("whole_day", lang) if whole else word("at_least_share", lang, f=fraction)
        measure = word(f"measure_{rule.measure}", lang, f=share)
        categories = ", ".join(word(c, lang) for c in rule.categories)
        window = window_text(rule.window, lang)
        console.print(f"  {name}: {measure}, {window}; {word('categories', lang)} {categories}")
    console.print()
    console.print(styled(word("steps", lang), style="bold"))
    for step in policy.steps:
        label = f" ({step.label})" if step.label else ""
        trigger = condition_text(step.when, policy, lang, top=True)
        console.print(
            f"  {word('step', lang)} {step.step}{label}: {trigger} · {step.responsible(lang)}"
        )
        for action in step.actions(lang):
            console.print(f"    • {action}")
    return buffer.getvalue()
