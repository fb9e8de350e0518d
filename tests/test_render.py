"""The table view: what it lists and how it rounds."""

from __future__ import annotations

import io
from datetime import date

import polars as pl

from fravaer import schema as s
from fravaer.ingest.policy import load_policy
from fravaer.render import progress, render_classification


def result_row(pupil: str, step: int | None, flag: str, pct: float = 3.0) -> dict[str, object]:
    return {
        s.PUPIL_ID: pupil,
        s.SCHOOL_ID: "851001",
        s.CLASS_NAME: "5.A",
        s.GRADE: 5,
        s.AS_OF: date(2024, 1, 31),
        s.WINDOW_START: date(2023, 9, 1),
        s.WINDOW_END: date(2024, 1, 31),
        s.WINDOW_DAYS: 100,
        s.ABSENT_DAYS: pct,
        s.ILLNESS_DAYS: 0.0,
        s.LEAVE_DAYS: 0.0,
        s.UNLAWFUL_DAYS: pct,
        s.ABSENCE_PCT: pct,
        s.STEP: step,
        s.STATUS: s.STATUS_OK,
        s.QUARTER_UNLAWFUL_PCT: 16.0 if flag != s.FLAG_NONE else 0.0,
        s.QUARTER_FLAG: flag,
    }


def render(rows: list[dict[str, object]], *, show_all: bool = False) -> str:
    return render_classification(
        pl.DataFrame(rows),
        policy=load_policy("aalborg-2023"),
        national=load_policy("national-unlawful"),
        as_of=date(2024, 1, 31),
        show_all=show_all,
        width=200,
    )


def test_a_pupil_to_notify_about_is_listed_even_below_step_1() -> None:
    text = render([result_row("0000117", 0, s.FLAG_NOTIFY), result_row("0000118", 0, s.FLAG_NONE)])
    assert "0000117" in text
    assert "underret kommunen" in text
    assert "0000118" not in text


def test_all_lists_everyone_and_nobody_flagged_says_so() -> None:
    quiet = [result_row("0000118", 0, s.FLAG_NONE)]
    assert "Ingen elever på trin 1" in render(quiet)
    assert "0000118" in render(quiet, show_all=True)


def test_the_table_rounds_with_a_decimal_comma() -> None:
    text = render([result_row("0000119", 1, s.FLAG_NONE, pct=10.04999)])
    assert "10,0" in text
    assert "10.04999" not in text


def test_without_the_national_rule_the_quarter_is_said_to_be_unevaluated() -> None:
    row = result_row("0000120", 1, s.FLAG_NONE) | {
        s.QUARTER_FLAG: None,
        s.QUARTER_UNLAWFUL_PCT: None,
    }
    text = render_classification(
        pl.DataFrame([row]),
        policy=load_policy("aalborg-2023"),
        national=None,
        as_of=date(2024, 1, 31),
        width=200,
    )
    assert "ikke vurderet (--no-national)" in text
    assert "0000120" in text


def test_combined_conditions_are_written_out_with_rule_names() -> None:
    from fravaer.render import condition_text

    slagelse = load_policy("slagelse")
    assert condition_text(slagelse.steps[0].when, slagelse, "en", top=True) == (
        "consecutive ≥ 5 days in a row or absent_days_20 ≥ 5 days or absent_days_60 ≥ 15 days"
    )
    aalborg = load_policy("aalborg-2023")
    assert condition_text(aalborg.steps[1].when, aalborg, "da", top=True) == "≥ 15 %"


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_draws_on_a_terminal_and_nothing_elsewhere() -> None:
    terminal, pipe = _Terminal(), io.StringIO()

    with progress(terminal) as stage:
        stage("reading and checking 1 input(s)")
    with progress(pipe) as stage:
        stage("reading and checking 1 input(s)")

    assert "reading and checking 1 input(s)" in terminal.getvalue()
    assert pipe.getvalue() == ""
