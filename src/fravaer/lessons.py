"""Lesson patterns: absence concentrated in particular lessons of a pupil's week (docs/trend.md).

A lesson-level export says *which* lessons a pupil missed. Ingest keeps them beside the day
frame as the **lesson frame** (:data:`LESSON_SCHEMA`, read by
:func:`fravaer.ingest.lessons.read_lessons`): one row per pupil per scheduled lesson, with the
lesson's number in the pupil's day, its subject when the export names one, and whether any of it
was missed. :func:`lesson_patterns` looks in it for what staff name: "fravær især onsdag i
5.–6. lektion (idræt)", "går ofte hjem før de sidste lektioner om onsdagen".

Like the rest of the core this module reads no files and no clock and never collects.
"""

from __future__ import annotations

from typing import Final

import polars as pl

from fravaer import schema as s

# -- the lesson frame ----------------------------------------------------------------------------
LESSON: Final = "lesson"
"""The lesson's label as the export writes it (``1``, ``3. lektion``, ``modul 2``)."""
LESSON_NUMBER: Final = "lesson_number"
"""The lesson's number in the school's day: the number in its label (empty when it has none)."""
SUBJECT: Final = "subject"
"""The lesson's subject as the export writes it (``Idræt``), or empty."""
ABSENT: Final = "absent"
"""Whether any of the lesson was missed (an absence category with a fraction above 0)."""

LESSON_SCHEMA: Final = pl.Schema(
    {
        s.PUPIL_ID: pl.String(),
        s.SCHOOL_ID: pl.String(),
        s.DATE: pl.Date(),
        LESSON: pl.String(),
        LESSON_NUMBER: pl.Int64(),
        SUBJECT: pl.String(),
        s.CATEGORY: s.CATEGORY_DTYPE,
        s.ABSENT_FRACTION: pl.Float64(),
        ABSENT: pl.Boolean(),
        s.GRADE: pl.Int8(),
        s.CLASS_NAME: pl.String(),
    }
)
"""The lesson frame: one row per pupil per scheduled lesson (present lessons included)."""

LESSON_NUMBER_MAX: Final = 20
"""A number above this in a label is not a lesson number (``modul 104`` is a room)."""


def lesson_number_expr(label: pl.Expr) -> pl.Expr:
    """The first whole number in a lesson's label, 0 to :data:`LESSON_NUMBER_MAX`; else empty.

    >>> labels = pl.Series(["1", "3. lektion", "modul 2", "morgen", "104"])
    >>> pl.select(lesson_number_expr(pl.lit(labels))).to_series().to_list()
    [1, 3, 2, None, None]
    """
    number = label.str.extract(r"(\d+)", 1).cast(pl.Int64, strict=False)
    return pl.when(number <= LESSON_NUMBER_MAX).then(number)


def absent_lesson_expr() -> pl.Expr:
    """Whether a lesson row was missed, even partly: an absence category, fraction above 0."""
    return (pl.col(s.CATEGORY) != s.PRESENT) & (pl.col(s.ABSENT_FRACTION) > 0)
