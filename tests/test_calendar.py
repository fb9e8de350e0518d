"""The demo school calendar has the shape of a real Danish school year."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from fravaer.calendar import parse_school_year, school_year_days
from fravaer.errors import UsageError


@pytest.mark.parametrize("first_year", [2021, 2022, 2023, 2024, 2025])
def test_school_year_has_about_200_weekdays(first_year: int) -> None:
    days = school_year_days(first_year)
    assert 190 <= len(days) <= 200
    assert all(d.weekday() < 5 for d in days)
    assert days == sorted(set(days))
    assert days[0].month == 8
    assert days[-1].month == 6


def test_breaks_and_holidays_are_closed() -> None:
    days = set(school_year_days(2023))
    autumn = [date.fromisocalendar(2023, 42, d) for d in range(1, 6)]
    winter = [date.fromisocalendar(2024, 7, d) for d in range(1, 6)]
    christmas = [date(2023, 12, 21) + timedelta(days=i) for i in range(12)]
    holy_week = [date(2024, 3, 25) + timedelta(days=i) for i in range(4)]  # Mon-Thu, Easter 2024
    closed = [
        *autumn,
        *winter,
        *christmas,
        *holy_week,
        date(2024, 3, 29),  # Langfredag
        date(2024, 4, 1),  # 2. påskedag
        date(2024, 5, 9),  # Kristi himmelfart
        date(2024, 5, 10),  # the Friday after
        date(2024, 5, 20),  # 2. pinsedag
        date(2024, 6, 5),  # Grundlovsdag
    ]
    assert not days.intersection(closed)
    assert date(2023, 12, 20) in days
    assert date(2024, 1, 2) in days


def test_store_bededag_is_a_holiday_only_until_2023() -> None:
    assert date(2023, 5, 5) not in school_year_days(2022)  # Store bededag 2023
    assert date(2024, 4, 26) in school_year_days(2023)  # abolished from 2024


@pytest.mark.parametrize("text", ["2023/25", "2023-24", "23/24", "2023/2024", ""])
def test_school_year_must_be_written_like_2023_24(text: str) -> None:
    with pytest.raises(UsageError, match=r"^school year must look like 2023/24, not '"):
        parse_school_year(text)


def test_school_year_over_a_century() -> None:
    assert parse_school_year("2099/00") == 2099
