"""Meeting sheets: the weekly and weekday breakdowns equal a naive count; the page has it all."""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import date, timedelta
from fractions import Fraction

import polars as pl
from hypothesis import HealthCheck, given, settings

from fravaer import schema as s
from fravaer.classify import classify
from fravaer.ingest.policy import load_policy
from fravaer.meeting import (
    sheet_html,
    sheet_markdown,
    sheets,
    weekday_absence,
    weekly_absence,
)
from fravaer.words import QUESTIONS
from tests.profiles import examples
from tests.reference import ABSENCE, Row, to_frame
from tests.test_classify import attendance

AALBORG = load_policy("aalborg-2023")


@settings(max_examples=examples(40), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=attendance())
def test_weekly_and_weekday_absence_equal_a_naive_count(data: tuple[list[Row], date]) -> None:
    rows, as_of = data
    frame = to_frame(rows)
    classified = classify(frame, policy=AALBORG, as_of=as_of, include_left=True).collect()
    pupils = classified.select(s.PUPIL_ID, s.WINDOW_START).lazy()
    weeks = weekly_absence(frame, pupils, categories=ABSENCE, as_of=as_of).collect()
    days = weekday_absence(frame, pupils, categories=ABSENCE, as_of=as_of).collect()

    starts = dict(classified.select(s.PUPIL_ID, s.WINDOW_START).iter_rows())
    naive_weeks: dict[tuple[str, date], list[object]] = defaultdict(lambda: [set(), Fraction(0)])
    naive_days: dict[tuple[str, int], list[object]] = defaultdict(lambda: [set(), Fraction(0)])
    for row in rows:
        if row.date > as_of:
            continue
        back = (as_of - row.date).days // 7
        absent = row.fraction if row.category in ABSENCE else Fraction(0)
        if back < 6:
            entry = naive_weeks[(row.pupil_id, as_of - timedelta(days=7 * back))]
            entry[0].add(row.date)  # type: ignore[attr-defined]
            entry[1] += absent  # type: ignore[operator]
        if row.date >= starts[row.pupil_id]:
            entry = naive_days[(row.pupil_id, row.date.isoweekday())]
            entry[0].add(row.date)  # type: ignore[attr-defined]
            entry[1] += absent  # type: ignore[operator]

    got_weeks = {(p, end): (n, a, pct) for p, end, n, a, pct in weeks.iter_rows()}
    assert set(got_weeks) == set(naive_weeks)
    for key, (dates, absent) in naive_weeks.items():
        n, a, pct = got_weeks[key]
        assert n == len(dates)  # type: ignore[arg-type]
        assert a == float(absent)  # type: ignore[arg-type]
        assert pct == float(100 * absent / len(dates))  # type: ignore[arg-type, operator]
    got_days = {(p, d): (n, a) for p, d, n, a in days.iter_rows()}
    assert set(got_days) == set(naive_days)
    for key, (dates, absent) in naive_days.items():
        assert got_days[key] == (len(dates), float(absent))  # type: ignore[arg-type]


def _one_sheet() -> tuple[str, str]:
    monday = date(2024, 1, 1)
    days = [
        monday + timedelta(days=i) for i in range(60) if (monday + timedelta(days=i)).weekday() < 5
    ]
    rows = [
        Row(
            "0042",
            "851001",
            d,
            "illness" if d.weekday() == 0 else "present",
            Fraction(d.weekday() == 0),
            4,
            "4.B",
        )
        for d in days
    ]
    frame = to_frame(rows)
    classified = classify(frame, policy=AALBORG, as_of=days[-1]).collect()
    pupils = classified.select(s.PUPIL_ID, s.WINDOW_START).lazy()
    weeks = weekly_absence(frame, pupils, categories=ABSENCE, as_of=days[-1]).collect()
    weekdays = weekday_absence(frame, pupils, categories=ABSENCE, as_of=days[-1]).collect()
    (sheet,) = sheets(classified, weeks, weekdays)
    return sheet_markdown(sheet, policy=AALBORG), sheet_html(sheet, policy=AALBORG)


def test_the_sheet_has_the_facts_the_actions_and_the_three_questions() -> None:
    markdown, page = _one_sheet()

    # 9 Mondays absent of 44 school days; every week of the trend has one absent Monday.
    assert "Fravær 20,5 % i perioden 2024-01-01 – 2024-02-29 (44 skoledage" in markdown
    assert "Sygdom 9,0 dage · ekstraordinær frihed 0,0 dage" in markdown
    assert "| 2024-02-29 | 5 | 1,0 | 20,0 % |" in markdown
    assert markdown.count(" | 5 | 1,0 | 20,0 % |") == 6
    assert "| mandag | 9 | 9,0 |" in markdown
    assert "| tirsdag | 9 | 0,0 |" in markdown
    assert "## Det kræver handlevejledningen på trin 3" in markdown
    for action in AALBORG.step(3).actions("da"):
        assert f"- {action}" in markdown
        assert action in page
    for number, (question, subs) in enumerate(QUESTIONS["da"], start=1):
        assert f"### {number}. {question}" in markdown
        assert all(f"- {sub}" in markdown for sub in subs)
        assert question in page
    assert "Hvilke beskyttende faktorer giver det barnet?" in markdown


def test_the_html_is_self_contained_and_printable() -> None:
    _, page = _one_sheet()

    assert page.startswith("<!DOCTYPE html>")
    assert "@page { size: A4" in page
    assert "@media print" in page
    assert not re.search(r"<script|<link|src=|url\(|https?://", page)


def test_only_pupils_at_step_2_or_higher_get_a_sheet() -> None:
    classified = pl.DataFrame(
        {s.PUPIL_ID: ["a", "b", "c", "d"], s.STEP: [0, 1, 2, None]},
        schema_overrides={s.STEP: pl.Int8},
    )
    empty = pl.DataFrame(schema={s.PUPIL_ID: pl.String})

    assert [x.pupil[s.PUPIL_ID] for x in sheets(classified, empty, empty)] == ["c"]
