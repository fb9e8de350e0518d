"""A typical Danish folkeskole school-year calendar.

Used by ``fravaer demo-data`` (and later by absence-only exports without a school calendar). It is
the usual shape of a municipal calendar, not any one municipality's decision: weekdays from the
Monday of ISO week 33 to the Friday of ISO week 25, minus Danish public holidays (from the
maintained ``holidays`` package, so Store bededag disappears from 2024 by itself), Grundlovsdag, the
Friday after Ascension Day, and the school breaks: autumn (week 42), Christmas (21 December to
1 January), winter (week 7) and the first three days of Holy Week before the Easter holidays.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Final

import holidays

from fravaer.errors import UsageError

_YEAR = re.compile(r"^(\d{4})/(\d{2})$")


def parse_school_year(text: str) -> int:
    """The first calendar year of a school year written ``2023/24``.

    >>> parse_school_year("2023/24")
    2023
    """
    match = _YEAR.match(text)
    if not match or (int(match[1]) + 1) % 100 != int(match[2]):
        raise UsageError(f"school year must look like 2023/24, not '{text}'")
    return int(match[1])


def _iso_week_day(year: int, week: int, weekday: int) -> date:
    return date.fromisocalendar(year, week, weekday)


def school_year_days(first_year: int) -> list[date]:
    """All school days of the school year starting in August of ``first_year``.

    >>> days = school_year_days(2023)
    >>> days[0], days[-1], len(days)
    (datetime.date(2023, 8, 14), datetime.date(2024, 6, 21), 197)
    """
    start = _iso_week_day(first_year, 33, 1)
    end = _iso_week_day(first_year + 1, 25, 5)
    # English names whatever the machine's locale: the names are matched below.
    public = holidays.country_holidays("DK", years=[first_year, first_year + 1], language="en_US")
    closed: set[date] = set(public)
    closed.add(date(first_year + 1, 6, 5))  # Grundlovsdag
    for day, name in public.items():
        if name == "Ascension Day":
            closed.add(day + timedelta(days=1))
        if name == "Maundy Thursday":
            closed.update(day - timedelta(days=k) for k in (1, 2, 3))
    breaks = [
        (_iso_week_day(first_year, 42, 1), _iso_week_day(first_year, 42, 5)),
        (date(first_year, 12, 21), date(first_year + 1, 1, 1)),
        (_iso_week_day(first_year + 1, 7, 1), _iso_week_day(first_year + 1, 7, 5)),
    ]
    days = []
    day = start
    while day <= end:
        in_break = any(lo <= day <= hi for lo, hi in breaks)
        if day.weekday() < 5 and day not in closed and not in_break:
            days.append(day)
        day += timedelta(days=1)
    return days


DANISH: Final = "DK"
NO_HOLIDAYS: Final = "none"


def holiday_countries() -> frozenset[str]:
    """The country codes the ``holidays`` package knows (``DK``, ``US``, ``NL`` ...): what
    ``[calendar] holidays`` may name besides ``"none"`` (docs/shapes.md)."""
    return frozenset(holidays.list_supported_countries())


def check_holidays(value: str) -> str:
    """``value`` if it is ``"none"`` or a country code of the ``holidays`` package.

    >>> check_holidays("US"), check_holidays("none")
    ('US', 'none')
    >>> check_holidays("Denmark")
    Traceback (most recent call last):
    ...
    ValueError: holidays must be "none" or a country code of the holidays package, such as "DK"
    """
    if value != NO_HOLIDAYS and value not in holiday_countries():
        raise ValueError(
            'holidays must be "none" or a country code of the holidays package, such as "DK"'
        )
    return value


def public_holidays(first_year: int, last_year: int, *, country: str = DANISH) -> frozenset[date]:
    """Public holidays from ``first_year`` to ``last_year``: by default the Danish ones
    (helligdage) and Grundlovsdag; another ``country``'s from the ``holidays`` package; none
    for ``"none"``.

    The days a school is closed by law or by agreement, whatever its own calendar; used by
    ``fravaer check`` to flag registrations on them, and taken out of a generated calendar.

    >>> sorted(d for d in public_holidays(2024, 2024) if d.month == 6)
    [datetime.date(2024, 6, 5)]
    >>> date(2024, 3, 29) in public_holidays(2024, 2024, country="US")  # Good Friday
    False
    >>> public_holidays(2024, 2024, country="none")
    frozenset()
    """
    if country == NO_HOLIDAYS:
        return frozenset()
    years = range(first_year, last_year + 1)
    closed = set(holidays.country_holidays(country, years=years))
    if country == DANISH:
        closed.update(date(year, 6, 5) for year in years)  # Grundlovsdag
    return frozenset(closed)
