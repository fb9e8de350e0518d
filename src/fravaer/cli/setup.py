"""The one setup of every command that reads exports: the frame, the as-of date and the policy.

Every such command takes the same arguments (the exports, ``--as-of``, ``--policy`` and the
source options) and needs the same answer, in the same order of checks: the source options and
the policy are checked before any export is read, then the exports are read and checked once,
and the as-of date and the policy's version in force on it are settled (docs/asof.md). The day
of the run is read here, in :func:`today`, and nowhere else.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import NamedTuple

import polars as pl

from fravaer.asof import danish_date
from fravaer.cli.options import parse_as_of
from fravaer.ingest.load import Loaded, load_at
from fravaer.ingest.policy import PolicyChoice, pick_version, policy_versions, resolve_policy
from fravaer.ingest.source import SourceOptions
from fravaer.policy import NATIONAL_POLICY, Policy

STAGE: list[Callable[[str], None]] = [lambda text: None]
"""Names the stage on the progress line (a terminal's stderr only); set for each invocation."""


def today() -> date:
    """The day of the run: today's date in Denmark. The only place fravaer reads the clock, once
    per run, so that rows dated later cannot move the default as-of date (docs/decisions.md).
    Tests replace this function to fix the day."""
    return danish_date(datetime.now(UTC))


@dataclass(frozen=True)
class Reading:
    """What a command was asked to read, checked before any export is read."""

    exports: list[str]
    as_of: date | None
    options: SourceOptions
    choice: PolicyChoice


class Setup(NamedTuple):
    """The exports as one frame, the as-of date, the policy in force on it, the national rule
    (None when not asked for), and each school's dates (:func:`fravaer.classify.school_dates`,
    read with the as-of date: :func:`fravaer.classify.classify`'s ``school_days``)."""

    frame: pl.LazyFrame
    as_of: date
    policy: Policy
    national: Policy | None
    school_days: pl.DataFrame | None


def reading(exports: list[str], as_of: str | None, policy: str, options: SourceOptions) -> Reading:
    """Check ``--policy`` and ``--as-of`` before any export is read (a bad policy fails first)."""
    choice = policy_versions(policy)
    given = parse_as_of(as_of) if as_of else None
    return Reading(exports, given, options, choice)


def read(asked: Reading, *, national: bool = False) -> Setup:
    """Read and check the exports once, and settle the as-of date: given, or the latest in the
    data on or before the day of the run (:func:`fravaer.asof.resolve_as_of`)."""
    return read_loaded(asked, national=national, lessons=False)[0]


def read_with_lessons(
    asked: Reading, *, national: bool = False
) -> tuple[Setup, pl.LazyFrame | None]:
    """:func:`read`, and the lesson frame of the lesson-level exports from the same reading
    (:func:`fravaer.ingest.lessons.read_lessons`); None when no export is lesson-level."""
    setup, loaded = read_loaded(asked, national=national, lessons=True)
    return setup, loaded.lessons


def read_loaded(
    asked: Reading, *, national: bool = False, lessons: bool = True
) -> tuple[Setup, Loaded]:
    """:func:`read`, and all that the reading kept besides the frame (:class:`Loaded`: the
    lesson frame with ``lessons``, the school names of a school-name column)."""
    STAGE[0](f"reading and checking {len(asked.exports)} input(s)")
    first = str(Path(asked.exports[0]))
    loaded, day = load_at(
        asked.exports,
        asked.options,
        given=asked.as_of,
        today=today(),
        where=first,
        lessons=lessons,
    )
    STAGE[0](f"computing as of {day.isoformat()}")
    setup = Setup(
        loaded.frame,
        day,
        pick_version(asked.choice, as_of=day),
        resolve_policy(NATIONAL_POLICY, as_of=day) if national else None,
        loaded.school_days,
    )
    return setup, loaded


def setup(
    exports: list[str],
    as_of: str | None,
    policy: str,
    options: SourceOptions,
    *,
    national: bool = False,
) -> Setup:
    """:func:`reading` and :func:`read` in one: what most commands need."""
    return read(reading(exports, as_of, policy, options), national=national)
