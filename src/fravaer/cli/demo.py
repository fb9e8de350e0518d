"""``fravaer demo-data``: a synthetic municipality's export."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

import typer

from fravaer.calendar import parse_school_year
from fravaer.cli.options import a_file_checked, parse_date
from fravaer.errors import UsageError
from fravaer.output import Format, format_for_path, write_frames
from fravaer.schema import CANONICAL_SCHEMA

log = logging.getLogger("fravaer")

DEMO_SCHOOLS = 5
"""The day-level demo's schools unless ``--schools`` says otherwise."""


def demo_data(
    output: Annotated[
        Path,
        typer.Option(
            "-o",
            "--output",
            help="Where to write (.csv or .parquet).",
            callback=a_file_checked("demo-data -o"),
        ),
    ],
    pupils: Annotated[int, typer.Option("--pupils", min=1, help="Number of pupils.")] = 2000,
    schools: Annotated[
        int | None,
        typer.Option("--schools", min=1, help="Number of schools [default: 5; with --lessons: 1]."),
    ] = None,
    year: Annotated[str, typer.Option("--year", help="School year, e.g. 2023/24.")] = "2023/24",
    seed: Annotated[int, typer.Option("--seed", help="Random seed; same seed, same rows.")] = 1,
    until: Annotated[
        str | None,
        typer.Option("--until", help="Stop at this date, YYYY-MM-DD, like a mid-year export."),
    ] = None,
    lessons: Annotated[
        bool,
        typer.Option("--lessons", help="A lesson-level export with a timetable, in classes of 25."),
    ] = False,
    plant: Annotated[
        list[str] | None,
        typer.Option(
            "--plant",
            help="With --lessons: plant a pattern (leaves-early, subject, arrives-late) on a "
            "tenth of the pupils each; repeatable.",
        ),
    ] = None,
) -> None:
    """Write a synthetic municipality's attendance export (deterministic; no real pupils).

    Grades 0-9 in classes of about 22, a real Danish school calendar, absence spells per pupil
    averaging 7-8 % with about a fifth to a quarter of pupils above 10 %, pupils changing school,
    weekday patterns and partial days.
    """
    from fravaer.demo import DemoSpec, generate  # numpy: only for this command (docs/testing.md)

    fmt = format_for_path(output)
    if fmt not in ("csv", "parquet"):
        raise UsageError("demo-data writes .csv or .parquet")
    if plant and not lessons:
        raise UsageError("--plant needs --lessons")
    if lessons:
        _lesson_data(
            output,
            fmt,
            pupils=pupils,
            schools=schools or 1,
            year=year,
            seed=seed,
            until=until,
            plant=plant,
        )
        return
    spec = DemoSpec(
        pupils=pupils,
        schools=DEMO_SCHOOLS if schools is None else schools,
        first_year=parse_school_year(year),
        seed=seed,
        until=parse_date(until, "--until") if until else None,
    )
    rows = write_frames(generate(spec), fmt, output, schema=CANONICAL_SCHEMA)
    log.info("wrote %d rows for %d pupils to %s", rows, pupils, output)


def _lesson_data(
    output: Path,
    fmt: Format,
    *,
    pupils: int,
    schools: int,
    year: str,
    seed: int,
    until: str | None,
    plant: list[str] | None,
) -> None:
    """``demo-data --lessons``: the lesson-level demo (docs/trend.md#lesson-patterns)."""
    from fravaer.demo_lessons import DEMO_LESSON_SCHEMA, LessonDemoSpec, generate_lessons

    spec = LessonDemoSpec(
        pupils=pupils,
        first_year=parse_school_year(year),
        seed=seed,
        until=parse_date(until, "--until") if until else None,
        planted=tuple(plant or ()),
        schools=schools,
    )
    rows = write_frames(generate_lessons(spec), fmt, output, schema=DEMO_LESSON_SCHEMA)
    log.info("wrote %d lesson rows for %d pupils to %s", rows, pupils, output)
