"""The table view: what it lists and how it rounds."""

from __future__ import annotations

from datetime import date

import polars as pl

from fravaer import schema as s
from fravaer.ingest.policy import load_policy
from fravaer.render import render_classification


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
