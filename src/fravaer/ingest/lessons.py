"""The lesson frame of a lesson-level export, beside the day frame (docs/shapes.md).

:func:`fravaer.read_export` adds a lesson-level export's lessons up into day fractions; the
lessons themselves are gone from it. :func:`read_lessons` reads the same exports by the same
path (:func:`fravaer.ingest.load.load` with ``lessons=True``: the same reader, checks and
shape) and returns the lessons: one row per pupil per scheduled lesson
(:data:`fravaer.lessons.LESSON_SCHEMA`), for the lesson patterns of ``fravaer patterns``
(:mod:`fravaer.lessons`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl

from fravaer import schema as s
from fravaer.ingest.source import SourceOptions
from fravaer.lessons import (
    ABSENT,
    LESSON,
    LESSON_NUMBER,
    LESSON_SCHEMA,
    START_TIME,
    absent_lesson_expr,
    lesson_number_expr,
)

if TYPE_CHECKING:
    from fravaer.ingest.load import Exports

_DEFAULT_OPTIONS = SourceOptions()


def lesson_frame(rows: pl.LazyFrame) -> pl.LazyFrame:
    """Checked lesson rows (:func:`fravaer.ingest.shapes.lesson_rows`) as the lesson frame.

    The lesson number is the first whole number of the label (``3. lektion`` is 3); for a
    label without one, its place by start time among the pupil's lessons that day (when the
    export gives start times); else none. The subject is the export's, or empty.

    >>> from datetime import date
    >>> rows = pl.LazyFrame(
    ...     {"pupil_id": ["7", "7"], "school_id": ["A", "A"], "date": [date(2024, 3, 6)] * 2,
    ...      "lesson": ["5. lektion", "6. lektion"], "category": ["present", "unlawful"],
    ...      "absent_fraction": [0.0, 0.5]},
    ...     schema_overrides={"category": s.CATEGORY_DTYPE},
    ... )
    >>> lesson_frame(rows).collect().select("lesson_number", "subject", "absent").rows()
    [(5, None, False), (6, None, True)]
    """
    names = rows.collect_schema().names()
    number = lesson_number_expr(pl.col(LESSON))
    if START_TIME in names:  # a label without a number: its place by start time that day
        place = pl.col(START_TIME).rank("dense").over(s.PUPIL_ID, s.DATE).cast(pl.Int64)
        number = pl.coalesce(number, place)
    computed = {LESSON_NUMBER: number, ABSENT: absent_lesson_expr()}

    def column(name: str, dtype: pl.DataType) -> pl.Expr:
        expr = computed.get(name, pl.col(name) if name in names else pl.lit(None))
        return expr.cast(dtype).alias(name)

    return rows.select(column(name, dtype) for name, dtype in LESSON_SCHEMA.items())


def empty_lessons() -> pl.LazyFrame:
    """A lesson frame without rows: what a day-level export has."""
    return pl.LazyFrame(schema=LESSON_SCHEMA)


def combine_lessons(frames: list[pl.LazyFrame]) -> pl.LazyFrame:
    """The lesson frames of several files as one: a lesson (pupil, date, label) given in two
    files is kept from the first; the day frame's :func:`fravaer.ingest.multi.combine` has
    already refused files that disagree about the pupil-day."""
    if len(frames) == 1:
        return frames[0]
    return pl.concat(frames).unique(
        subset=[s.PUPIL_ID, s.DATE, LESSON], keep="first", maintain_order=True
    )


def read_lessons(exports: Exports, options: SourceOptions = _DEFAULT_OPTIONS) -> pl.LazyFrame:
    """Read attendance exports into the lesson frame: one row per pupil per scheduled lesson.

    The sibling of :func:`fravaer.read_export`, by the same path: the files are read, checked
    and shaped exactly as for the day frame (which is checked too). Only lesson-level files
    have lessons; for any other export the frame has no rows.

    >>> lessons = read_lessons("examples/exports/lessons.csv").collect()
    >>> lessons.height, lessons["absent"].sum()
    (22, 7)
    """
    from fravaer.ingest.load import load  # load imports this module

    found = load(exports, options, lessons=True).lessons
    return found if found is not None else empty_lessons()
