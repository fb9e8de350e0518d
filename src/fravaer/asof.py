"""The as-of date of a run: the one default every command and ``report`` take.

The default as-of date is the newest date in the data *on or before the day of the run*. The
command line reads that day once per run (today's date in Denmark, :func:`danish_date`) and
passes it here; nothing below the CLI reads the clock. Rows dated after the day of the run are
real (leave approved ahead of time) or a mistyped year (2204-03-08): either way they must not
move the default, so they are left out of every window and counted in one warning. An explicit
``--as-of`` wins. docs/classify.md#as-of-date says what users see, docs/decisions.md why.

Every message here holds counts and dates only, never an id or a cell.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, time, timedelta
from typing import Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import polars as pl

from fravaer import schema as s
from fravaer.calendar import DANISH, public_holidays
from fravaer.check import closed_expr, closed_only_pupils
from fravaer.classify import DATES, LATER_LATEST, LATER_ROWS, LATEST, as_of_facts, school_dates
from fravaer.errors import BadInputError, Location

log = logging.getLogger("fravaer")

DANISH_ZONE: Final = "Europe/Copenhagen"
"""The time zone whose calendar date is "today" for a run (docs/decisions.md)."""


def _last_sunday(year: int, month: int) -> date:
    last = date(year, month, 31)  # March and October both have 31 days
    return last - timedelta(days=(last.weekday() + 1) % 7)


def _danish_date_by_rule(moment: datetime) -> date:
    """Danish civil date by the EU rule: CET (UTC+1), and CEST (UTC+2) from 01:00 UTC on the
    last Sunday of March to 01:00 UTC on the last Sunday of October (in force since 1996)."""
    utc = moment.astimezone(UTC)
    start = datetime.combine(_last_sunday(utc.year, 3), time(1), UTC)
    end = datetime.combine(_last_sunday(utc.year, 10), time(1), UTC)
    hours = 2 if start <= utc < end else 1
    return (utc + timedelta(hours=hours)).date()


def danish_date(moment: datetime) -> date:
    """The calendar date in Denmark at ``moment`` (a time-zone aware instant).

    From the time-zone database (the system's, or the ``tzdata`` package where Python finds
    it); where there is none, from the EU summer-time rule, which gives the same date for every
    instant since 1996 — a missing database never stops a run.

    >>> danish_date(datetime(2026, 12, 6, 23, 30, tzinfo=UTC))
    datetime.date(2026, 12, 7)
    >>> danish_date(datetime(2026, 7, 6, 21, 59, tzinfo=UTC))
    datetime.date(2026, 7, 6)
    """
    try:
        zone = ZoneInfo(DANISH_ZONE)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return _danish_date_by_rule(moment)
    return moment.astimezone(zone).date()


def resolve_as_of(
    frame: pl.LazyFrame,
    *,
    given: date | None,
    today: date,
    where: str,
    holidays: str = DANISH,
    school_days: pl.DataFrame | None = None,
) -> date:
    """The run's as-of date: ``given``, or the newest date in ``frame`` on or before ``today``.

    One warning counts the rows dated after ``today`` that the default leaves out (with the
    newest of them); one warns of an explicit as-of date after ``today``; one counts the pupils
    registered only on Saturdays, Sundays or public holidays up to the as-of date, whom the
    "has left" rule would otherwise drop without a word. Counts and dates only, never an id.
    ``holidays`` names the public holidays as ``[calendar] holidays`` does (``"DK"``, another
    country code, or ``"none"``): the source's own, as ``fravaer check`` takes them.
    ``school_days``: :func:`~fravaer.classify.school_dates` of ``frame`` when the caller has
    read them (:func:`fravaer.ingest.load.load_at`, which keeps them for the "has left" rule);
    None: read here.

    Raises
    ------
    BadInputError
        Without ``given``: the data has no rows (``where`` names the first input), or none on
        or before ``today``.
    """
    if school_days is None:
        school_days = school_dates(frame).collect(engine="streaming")
    facts = as_of_facts(school_days.lazy(), today=today).collect().row(0, named=True)
    later, later_latest = facts[LATER_ROWS], facts[LATER_LATEST]
    if given is not None:
        day = given
        if given > today:
            log.warning(
                "--as-of %s is after today (%s): rows up to it count, leave registered ahead "
                "of time included",
                given.isoformat(),
                today.isoformat(),
            )
    elif facts[LATEST] is None and later:
        raise BadInputError(
            Location(where),
            f"every row is dated after today ({today.isoformat()}): there is no default as-of date",
            hint="give --as-of to count rows dated ahead of time; a year may be mistyped",
        )
    elif facts[LATEST] is None:
        raise BadInputError(Location(where), "no data rows")
    else:
        day = facts[LATEST]
        if later:
            log.warning(
                "%d row(s) dated after today (%s), the latest %s, are left out; give --as-of "
                "to include them",
                later,
                today.isoformat(),
                later_latest.isoformat(),
            )
    _warn_closed_only(frame, as_of=day, dates=facts[DATES], country=holidays)
    assert isinstance(day, date)
    return day


def _warn_closed_only(frame: pl.LazyFrame, *, as_of: date, dates: list[date], country: str) -> None:
    """Warn of the pupils registered only on closed days up to ``as_of``; ``dates`` are the
    distinct dates of ``frame`` (:func:`~fravaer.classify.as_of_facts`)."""
    days = pl.DataFrame({s.DATE: dates}, schema={s.DATE: pl.Date}).filter(pl.col(s.DATE) <= as_of)
    # The holidays of the years in the data only: a stray year 0001 must not cost 2,000 years.
    years = days.get_column(s.DATE).dt.year().unique().to_list()
    holidays = frozenset().union(*(public_holidays(y, y, country=country) for y in years))
    # No closed day among the dates, no such pupil: the rows need not be read again (a
    # 0.4 s of a national year, docs/performance.md).
    if not days.select(closed_expr(holidays).any()).item():
        return
    pupils = closed_only_pupils(frame, as_of=as_of, holidays=holidays)
    count = pupils.collect(engine="streaming").item()
    if count:
        log.warning(
            "%d pupil(s) have rows only on Saturdays, Sundays or public holidays: no school "
            "day, so they look as if they had left (fravaer check lists the rows)",
            count,
        )
