"""The default as-of date and the day of the run (src/fravaer/asof.py, docs/classify.md#as-of-date).

The run's day is a parameter here: no test depends on the real clock. The naive references are
plain loops over the rows.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import polars as pl
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from fravaer import asof
from fravaer import schema as s
from fravaer.asof import danish_date, resolve_as_of
from fravaer.calendar import public_holidays
from fravaer.check import closed_only_pupils
from fravaer.classify import as_of_facts, school_dates
from fravaer.errors import BadInputError

TODAY = date(2026, 12, 7)
FIRST = date(2024, 2, 26)  # a Monday


def frame_of(rows: list[tuple[str, date]], schools: list[str] | None = None) -> pl.LazyFrame:
    """The rows at school ``A``, or each at its school of ``schools``."""
    return pl.LazyFrame(
        {
            s.PUPIL_ID: [p for p, _ in rows],
            s.SCHOOL_ID: schools if schools is not None else ["A"] * len(rows),
            s.DATE: [d for _, d in rows],
        },
        schema={s.PUPIL_ID: pl.String, s.SCHOOL_ID: pl.String, s.DATE: pl.Date},
    )


def warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]


# -- the day of the run -----------------------------------------------------------------------


@given(st.datetimes(min_value=datetime(1996, 1, 1), max_value=datetime(2037, 12, 31)))
def test_the_rule_gives_the_time_zone_database_s_date(moment: datetime) -> None:
    instant = moment.replace(tzinfo=UTC)
    expected = instant.astimezone(ZoneInfo("Europe/Copenhagen")).date()
    assert asof._danish_date_by_rule(instant) == expected


@pytest.mark.parametrize(
    ("utc", "danish"),
    [
        (datetime(2026, 3, 29, 0, 59), date(2026, 3, 29)),  # summer time starts at 01:00 UTC
        (datetime(2026, 10, 24, 21, 59), date(2026, 10, 24)),  # still summer time: 23:59
        (datetime(2026, 10, 24, 22, 0), date(2026, 10, 25)),
        (datetime(2026, 12, 31, 23, 0), date(2027, 1, 1)),  # new year an hour early
        (datetime(2026, 12, 31, 22, 59), date(2026, 12, 31)),
    ],
)
def test_without_a_time_zone_database_the_date_is_still_danish(
    monkeypatch: pytest.MonkeyPatch, utc: datetime, danish: date
) -> None:
    def missing(key: str) -> ZoneInfo:
        raise asof.ZoneInfoNotFoundError(key)

    monkeypatch.setattr(asof, "ZoneInfo", missing)

    assert danish_date(utc.replace(tzinfo=UTC)) == danish


# -- the default as-of date -------------------------------------------------------------------


@given(
    st.lists(st.tuples(st.integers(-400, 400), st.sampled_from("AB")), max_size=30),
    st.integers(-50, 50),
)
def test_as_of_facts_equal_a_loop(offsets: list[tuple[int, str]], today_offset: int) -> None:
    days = [TODAY + timedelta(days=n) for n, _ in offsets]
    today = TODAY + timedelta(days=today_offset)
    frame = frame_of([("p", d) for d in days], schools=[school for _, school in offsets])

    got = as_of_facts(school_dates(frame), today=today).collect().row(0)

    later = [d for d in days if d > today]
    on_or_before = [d for d in days if d <= today]
    assert got == (
        max(on_or_before, default=None),
        len(later),
        max(later, default=None),
        sorted(set(days)),
    )


def test_a_row_after_today_does_not_move_the_default(caplog: pytest.LogCaptureFixture) -> None:
    frame = frame_of(
        [("a", date(2024, 3, 7)), ("a", date(2024, 3, 8)), ("b", date(2204, 3, 8)), ("b", TODAY)]
    )

    day = resolve_as_of(frame, given=None, today=date(2026, 12, 6), where="x.csv")

    assert day == date(2024, 3, 8)
    assert warnings(caplog) == [
        "2 row(s) dated after today (2026-12-06), the latest 2204-03-08, are left out; give "
        "--as-of to include them"
    ]


def test_a_row_on_the_day_of_the_run_is_not_after_it(caplog: pytest.LogCaptureFixture) -> None:
    frame = frame_of([("a", date(2026, 12, 4)), ("a", TODAY)])

    assert resolve_as_of(frame, given=None, today=TODAY, where="x.csv") == TODAY
    assert warnings(caplog) == []


def test_an_explicit_as_of_wins_and_one_after_today_is_warned_of(
    caplog: pytest.LogCaptureFixture,
) -> None:
    frame = frame_of([("a", date(2024, 3, 8)), ("a", date(2204, 3, 8))])

    past = resolve_as_of(frame, given=date(2024, 3, 1), today=TODAY, where="x.csv")
    assert past == date(2024, 3, 1)
    assert warnings(caplog) == []  # rows after a chosen date are left out by choice

    future = resolve_as_of(frame, given=date(2204, 3, 8), today=TODAY, where="x.csv")
    assert future == date(2204, 3, 8)
    assert warnings(caplog) == [
        "--as-of 2204-03-08 is after today (2026-12-07): rows up to it count, leave registered "
        "ahead of time included"
    ]


def test_only_rows_after_today_or_none_is_bad_input() -> None:
    with pytest.raises(BadInputError) as future:
        resolve_as_of(frame_of([("a", date(2204, 3, 8))]), given=None, today=TODAY, where="x.csv")
    with pytest.raises(BadInputError) as empty:
        resolve_as_of(frame_of([]), given=None, today=TODAY, where="x.csv")

    assert future.value.exit_code == empty.value.exit_code == 65
    assert "every row is dated after today (2026-12-07)" in future.value.message
    assert "2204" not in future.value.message  # a date from the data stays out of an error
    assert empty.value.message.endswith("no data rows")


# -- pupils registered only on closed days ----------------------------------------------------


def test_pupils_only_on_weekends_and_holidays_are_counted_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    frame = frame_of(
        [
            ("weekday", date(2024, 3, 4)),
            ("saturday", date(2024, 3, 2)),
            ("saturday", date(2024, 3, 3)),
            ("easter", date(2024, 4, 1)),  # Easter Monday
            ("later", date(2024, 3, 2)),
            ("later", date(2204, 3, 10)),  # a Monday, after today: left out
        ]
    )

    resolve_as_of(frame, given=None, today=TODAY, where="x.csv")

    assert warnings(caplog)[-1] == (
        "3 pupil(s) have rows only on Saturdays, Sundays or public holidays: no school day, "
        "so they look as if they had left (fravaer check lists the rows)"
    )
    assert not any("weekday" in w or "saturday" in w for w in warnings(caplog))


@given(
    st.lists(
        st.tuples(st.sampled_from(["a", "b", "c", "d"]), st.integers(0, 60)),
        min_size=1,
        max_size=40,
    ),
    st.integers(0, 60),
)
@example([("a", 32), ("b", 30)], 33)  # "a" only on Good Friday, a weekday
def test_the_closed_day_warning_counts_as_a_loop_does(
    rows: list[tuple[str, int]], as_of_offset: int
) -> None:
    # Weekdays alone (most draws of a few rows) take the short cut through the distinct dates.
    days = [(p, FIRST + timedelta(days=n)) for p, n in rows]
    as_of = FIRST + timedelta(days=as_of_offset)
    holidays = public_holidays(2024, 2024)
    logger = logging.getLogger("fravaer")
    records: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: records.append(record.getMessage())  # type: ignore[method-assign]
    logger.addHandler(handler)
    try:
        resolve_as_of(frame_of(days), given=as_of, today=TODAY, where="x.csv")
    finally:
        logger.removeHandler(handler)

    counted = {p for p, d in days if d <= as_of}
    open_days = {p for p, d in days if d <= as_of and d.weekday() < 5 and d not in holidays}
    closed_only = len(counted - open_days)
    assert [r for r in records if "Saturdays" in r] == (
        [
            f"{closed_only} pupil(s) have rows only on Saturdays, Sundays or public holidays: "
            "no school day, so they look as if they had left (fravaer check lists the rows)"
        ]
        if closed_only
        else []
    )


def test_without_a_closed_day_the_rows_are_not_read_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def refuse(*args: object, **kwargs: object) -> pl.LazyFrame:
        raise AssertionError("read again")

    monkeypatch.setattr(asof, "closed_only_pupils", refuse)
    # Monday to Friday, and a Saturday after the as-of date (which does not count).
    days = [("a", FIRST + timedelta(days=n)) for n in (0, 1, 2, 3, 4, 5)]

    assert resolve_as_of(
        frame_of(days), given=FIRST + timedelta(days=4), today=TODAY, where="x.csv"
    ) == FIRST + timedelta(days=4)
    with pytest.raises(AssertionError, match="read again"):
        resolve_as_of(frame_of(days), given=None, today=TODAY, where="x.csv")


@given(
    st.lists(
        st.tuples(st.sampled_from(["a", "b", "c", "d"]), st.integers(0, 60)),
        max_size=40,
    ),
    st.integers(0, 60),
)
def test_closed_only_pupils_equal_a_loop(rows: list[tuple[str, int]], as_of_offset: int) -> None:
    days = [(p, FIRST + timedelta(days=n)) for p, n in rows]
    as_of = FIRST + timedelta(days=as_of_offset)
    holidays = public_holidays(2024, 2024)

    got = closed_only_pupils(frame_of(days), as_of=as_of, holidays=holidays).collect().item()

    counted = {p for p, d in days if d <= as_of}
    open_days = {p for p, d in days if d <= as_of and d.weekday() < 5 and d not in holidays}
    assert got == len(counted - open_days)
