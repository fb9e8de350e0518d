"""Export shapes other than the register: lesson-level and absence-only rows (docs/shapes.md).

A *register* export already is the canonical frame: one row per pupil per school day (per
category). Two other shapes are common and are turned into it here:

- **lesson**: one row per pupil per lesson, with a ``lesson`` column. :func:`from_lessons`
  aggregates each pupil-day to per-category day fractions: the absent share of that category's
  lessons divided by the number of lessons the pupil had that day.
- **absence_only**: rows only for absences. :func:`expand_absence_only` adds a present row on
  every other school day on which the pupil was enrolled, from a school calendar
  (:func:`school_days_frame`) and a roster of enrolments (:func:`read_roster`, or each pupil's
  first and last registration), so that the denominator is the school days of the enrolment.

:func:`detect_shape` picks the shape of an export for ``shape = "auto"`` and says why.

Everything here takes and returns lazy frames and works in whole-column expressions; the only
things collected are small aggregates (the first bad row, counts) for checks, which are raised
as :class:`~fravaer.errors.BadInputError` naming the file, line and column through an
:class:`~fravaer.ingest.origin.Origin`, as the readers' errors do.
See docs/shapes.md for the rules and the decisions behind them.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path
from typing import Final, Literal, NamedTuple

import polars as pl

from fravaer import schema as s
from fravaer.calendar import DANISH, public_holidays
from fravaer.days import DAY_KEY, first_conflict
from fravaer.errors import PolicyError
from fravaer.ingest.csv import refuse_wide_header
from fravaer.ingest.dates import DATE_RANGE_PROBLEM, ISO, out_of_range_expr
from fravaer.ingest.headers import LESSON
from fravaer.ingest.hourcolumns import SCHEDULED_HOURS
from fravaer.ingest.origin import LINE, ROW_INDEX, Origin, as_given
from fravaer.ingest.regular import check_readable
from fravaer.ingest.source import Calendar, SourceOptions
from fravaer.ingest.text import (
    FORMULA_PROBLEM,
    HIDDEN_PROBLEM,
    LOOKALIKE_PROBLEM,
    formula_start_expr,
    hidden_character_expr,
    lookalike_expr,
    pupil_id_expr,
)
from fravaer.ingest.validate import collect_cells, collect_cells_all
from fravaer.lessons import START_TIME, SUBJECT
from fravaer.window import days_expr, units_expr

log = logging.getLogger("fravaer")

FIRST_DAY: Final = "first_day"
LAST_DAY: Final = "last_day"

ShapeName = Literal["register", "lesson", "absence_only", "hours"]

SPARSE_BELOW: Final = 0.5
"""An export with fewer rows than this per pupil per weekday of its date range is sparse."""

_COUNT = "_count"
_SECOND = "_second"
_LESSONS = "_lessons"
_UNITS = "_units"
_TOTAL = "_total"
_ENROLLED = "_enrolled"
_BACK = "_back_"
_FORWARD = "_forward_"
_CONFLICT_ORDER = (s.CATEGORY, s.ABSENT_FRACTION, s.SCHOOL_ID, s.GRADE, s.CLASS_NAME)


def _conform(
    frame: pl.LazyFrame, origin: Origin | None, *, keep: Sequence[str] = ()
) -> tuple[pl.LazyFrame, Origin]:
    """Canonical columns with canonical dtypes and defaults, plus ``_row`` and ``keep``.

    The cells are expected to be checked already (ingest's readers do that); this only fills
    what a shape's rows may leave out: the fraction (1 for absence, 0 for present), grade and
    class. ``_row`` locates a row for errors: the reader's ``_line`` if there is one (then the
    origin reports it as it is), else its ``_row``, else the row's position in ``frame``.
    """
    origin = origin or Origin()
    names = frame.collect_schema().names()
    if LINE in names:
        frame = frame.with_columns(pl.col(LINE).cast(pl.Int64).alias(ROW_INDEX))
        origin = replace(origin, line_of=as_given)
    elif ROW_INDEX not in names:
        frame = frame.with_row_index(ROW_INDEX)
    category = pl.col(s.CATEGORY).cast(pl.String).cast(s.CATEGORY_DTYPE)
    default = pl.when(category == s.PRESENT).then(0.0).otherwise(1.0)
    fraction = (
        pl.coalesce(pl.col(s.ABSENT_FRACTION).cast(pl.Float64), default)
        if s.ABSENT_FRACTION in names
        else default
    )
    optional = {s.GRADE: pl.Int8(), s.CLASS_NAME: pl.String()}
    conformed = frame.select(
        pl.col(s.PUPIL_ID).cast(pl.String),
        pl.col(s.SCHOOL_ID).cast(pl.String),
        pl.col(s.DATE).cast(pl.Date),
        category.alias(s.CATEGORY),
        fraction.alias(s.ABSENT_FRACTION),
        *(
            (pl.col(c).cast(dtype) if c in names else pl.lit(None, dtype=dtype)).alias(c)
            for c, dtype in optional.items()
        ),
        *(pl.col(c) for c in keep),
        pl.col(ROW_INDEX).cast(pl.Int64),
    )
    return conformed, origin


def _canonical(frame: pl.LazyFrame, *, line: bool = False) -> pl.LazyFrame:
    """The canonical columns, and with ``line`` the source line as :data:`LINE` (from ``_row``)."""
    columns = [pl.col(c).cast(dtype) for c, dtype in s.CANONICAL_SCHEMA.items()]
    if line:
        columns.append(pl.col(ROW_INDEX).cast(pl.Int64).alias(LINE))
    return frame.select(columns)


# -- lesson-level -------------------------------------------------------------------------------


def from_lessons(frame: pl.LazyFrame, *, origin: Origin | None = None) -> pl.LazyFrame:
    """Aggregate lesson rows to the canonical frame: per-category day fractions per pupil-day.

    Parameters
    ----------
    frame
        Canonical columns (checked cells; ``absent_fraction``, ``grade``, ``class_name``
        optional) plus ``lesson`` and, optionally, ``_line`` (the reader's line numbers) or
        ``_row`` (the record index in the file), for errors. One row per pupil per lesson;
        ``absent_fraction`` is the share of *that lesson* missed, default 1 for an absence
        category and 0 for present.
    origin
        The file, for error messages.

    Returns
    -------
    pl.LazyFrame
        The canonical frame: per pupil-day one row per absence category with absence above 0,
        or one present row with fraction 0 when the pupil missed nothing. A category's fraction
        is (sum of its lessons' absent shares) / (lessons the pupil had that day), rounded down
        to whole day units (exact for k of up to 16 lessons, so that
        ``round(fraction * DAY_UNITS)`` is the exact value). School, grade and class are the
        day's: the largest ``school_id`` among its lessons, and the largest grade and class of a
        lesson at that school.

    Raises
    ------
    BadInputError
        A lesson without a name, or a lesson registered twice for the same pupil and date with
        any difference (category, fraction, school, grade or class): at the later row. An
        identical second registration is dropped with a warning.

    Examples
    --------
    Two of six lessons missed with illness is one third of a day:

    >>> import polars as pl
    >>> from datetime import date
    >>> lessons = pl.LazyFrame(
    ...     {
    ...         "pupil_id": ["0042"] * 6,
    ...         "school_id": ["851001"] * 6,
    ...         "date": [date(2024, 3, 1)] * 6,
    ...         "category": ["illness"] * 2 + ["present"] * 4,
    ...         "lesson": ["1", "2", "3", "4", "5", "6"],
    ...     }
    ... )
    >>> day = from_lessons(lessons).collect()
    >>> day.select("category", "absent_fraction").rows()
    [('illness', 0.3333333333333333)]
    """
    line = LINE in frame.collect_schema().names()
    return from_lesson_rows(lesson_rows(frame, origin=origin), line=line)


def lesson_rows(frame: pl.LazyFrame, *, origin: Origin | None = None) -> pl.LazyFrame:
    """The checked lessons of a lesson-level export, before they are added up into days.

    ``frame`` as for :func:`from_lessons`. Returns the canonical columns (fraction, grade and
    class filled as :func:`from_lessons` fills them), ``lesson`` (stripped text), ``subject``
    when the export has one, and ``_row`` (the row's line or record, for errors): nameless and
    conflicting lessons are refused and exact repeats dropped with a warning, once, so that the
    day frame (:func:`from_lesson_rows`) and the lesson frame
    (:func:`fravaer.ingest.lessons.lesson_frame`) are made from the same rows.
    """
    names = frame.collect_schema().names()
    keep = [LESSON, *(c for c in (SUBJECT, START_TIME) if c in names)]
    lessons, origin = _conform(frame, origin, keep=keep)
    lessons = lessons.with_columns(pl.col(LESSON).cast(pl.String).str.strip_chars())
    repeated = _check_lessons(lessons, origin)
    if repeated:
        log.warning("%s: ignored %d repeated lesson row(s)", origin.file, len(repeated))
        lessons = lessons.filter(~pl.col(ROW_INDEX).is_in(repeated))
    return lessons


def from_lesson_rows(lessons: pl.LazyFrame, *, line: bool = False) -> pl.LazyFrame:
    """:func:`from_lessons` on rows already checked by :func:`lesson_rows`; with ``line``,
    each day's :data:`LINE` is the line of its first lesson."""
    absent = (
        pl.when(pl.col(s.CATEGORY) != s.PRESENT)
        .then(units_expr(pl.col(s.ABSENT_FRACTION)))
        .otherwise(0)
    )
    days = pupil_day_sums(
        lessons,
        absent,
        per_school=pl.len().cast(pl.Int64).alias(_LESSONS),
        per_day=pl.col(_LESSONS).sum(),
    )
    # Whole units, rounded down: exact for k of n <= 16 lessons, and never above a whole day.
    per_day = days.with_columns(
        (pl.col(c) // pl.col(_LESSONS)).alias(c) for c in s.ABSENCE_CATEGORIES
    )
    return day_rows(per_day, line=line)


def pupil_day_sums(
    parts: pl.LazyFrame, absent: pl.Expr, *, per_school: pl.Expr, per_day: pl.Expr
) -> pl.LazyFrame:
    """Parts of days (lessons, hours lines) summed per pupil-day: per absence category the sum of
    ``absent`` over the parts of that category, the day's first row (``_row``), its school with
    that school's grade and class, and the day's size (``per_school`` per pupil-day-school, then
    ``per_day`` over the schools of the day).

    Simple aggregations only (no per-group filters, which polars evaluates group by group): per
    pupil-day-school first, then per pupil-day, whose school's grade and class join back.
    """
    by_school = (
        parts.with_columns(
            pl.when(pl.col(s.CATEGORY) == c).then(absent).otherwise(0).alias(c)
            for c in s.ABSENCE_CATEGORIES
        )
        .group_by(s.PUPIL_ID, s.DATE, s.SCHOOL_ID)
        .agg(
            per_school,
            pl.col(ROW_INDEX).min(),
            pl.col(s.GRADE).max(),
            pl.col(s.CLASS_NAME).max(),
            *(pl.col(c).sum() for c in s.ABSENCE_CATEGORIES),
        )
    )
    days = by_school.group_by(s.PUPIL_ID, s.DATE).agg(
        per_day,
        pl.col(ROW_INDEX).min(),
        pl.col(s.SCHOOL_ID).max(),
        *(pl.col(c).sum() for c in s.ABSENCE_CATEGORIES),
    )
    return days.join(
        by_school.select(s.PUPIL_ID, s.DATE, s.SCHOOL_ID, s.GRADE, s.CLASS_NAME),
        on=[s.PUPIL_ID, s.DATE, s.SCHOOL_ID],
    )


def day_rows(per_day: pl.LazyFrame, *, line: bool = False) -> pl.LazyFrame:
    """Per pupil-day unit columns (one per absence category) -> canonical rows; with ``line``,
    each row's :data:`LINE` is the line of the day's first row (``_row``).

    ``per_day`` has the pupil, school, date, grade and class of each day, its first row in
    ``_row``, and per absence category its absence in whole day units. A day becomes one row
    per category with absence, or one present row with fraction 0 when it has none: the shapes
    that add up parts of a day (lessons, hours) end here alike.
    """
    per_day = per_day.with_columns(pl.sum_horizontal(s.ABSENCE_CATEGORIES).alias(_TOTAL))
    index = [s.PUPIL_ID, s.SCHOOL_ID, s.DATE, s.GRADE, s.CLASS_NAME, _TOTAL, ROW_INDEX]
    long = per_day.unpivot(
        on=list(s.ABSENCE_CATEGORIES), index=index, variable_name=s.CATEGORY, value_name=_UNITS
    )
    nothing_missed = pl.col(_TOTAL) == 0
    kept = long.filter(
        (pl.col(_UNITS) > 0) | (nothing_missed & (pl.col(s.CATEGORY) == s.ABSENCE_CATEGORIES[0]))
    )
    return _canonical(
        kept.with_columns(
            pl.when(nothing_missed)
            .then(pl.lit(s.PRESENT))
            .otherwise(pl.col(s.CATEGORY))
            .alias(s.CATEGORY),
            days_expr(pl.col(_UNITS)).alias(s.ABSENT_FRACTION),
        ),
        line=line,
    )


def _check_lessons(lessons: pl.LazyFrame, origin: Origin) -> list[int]:
    """Refuse nameless and conflicting lessons; return the rows that repeat another exactly.

    One pass counts rows and distinct lessons per pupil-day; only the (normally few) days that
    repeat a lesson are compared row by row, so a clean export costs one aggregation.
    """
    day = list(DAY_KEY)
    blank = lessons.select(
        pl.col(ROW_INDEX).filter(pl.col(LESSON).fill_null("") == "").min().alias(_SECOND)
    )
    repeating = (
        lessons.group_by(day)
        .agg(pl.len().alias(_COUNT), pl.col(LESSON).n_unique().alias(_LESSONS))
        .filter(pl.col(_COUNT) > pl.col(_LESSONS))
        .select(day)
    )
    nameless, days = collect_cells_all([blank, repeating], origin)
    if (row := nameless.item()) is not None:
        raise origin.error(row, LESSON, "missing lesson")
    if days.is_empty():
        return []
    rows = collect_cells(lessons.join(days.lazy(), on=day, how="semi"), origin)
    key = [*day, LESSON]
    conflict = first_conflict(rows, key, list(_CONFLICT_ORDER), row=ROW_INDEX)
    if conflict is not None:
        raise origin.error(
            *conflict,
            "differs from an earlier row for the same pupil, date and lesson",
            hint="a lesson can be registered once per pupil and day",
        )
    groups = rows.group_by(key).agg(pl.col(ROW_INDEX).sort())
    return sorted(
        groups.select(pl.col(ROW_INDEX).list.slice(1)).explode(ROW_INDEX).drop_nulls()[ROW_INDEX]
    )


# -- absence-only -------------------------------------------------------------------------------


def expand_absence_only(
    frame: pl.LazyFrame,
    *,
    calendar: pl.LazyFrame,
    roster: pl.LazyFrame | None,
    origin: Origin | None = None,
    roster_origin: Origin | None = None,
) -> pl.LazyFrame:
    """Add a present row on every enrolled school day without a row: the canonical frame.

    Parameters
    ----------
    frame
        Canonical rows (checked cells), normally absences only; optionally ``_line`` or
        ``_row``, for errors (see :func:`from_lessons`).
    calendar
        School days: ``school_id`` (null: every school) and ``date``; see
        :func:`school_days_frame`. A school's days are its own rows plus the rows for every school.
    roster
        Enrolments: ``pupil_id``, ``school_id``, ``first_day``, ``last_day`` (null: open), and
        optionally ``grade``, ``class_name``, ``_row``; see :func:`read_roster`. None: each
        pupil is enrolled at each school from its first to its last row there.
    origin, roster_origin
        The export's and the roster's file, for error messages.

    Returns
    -------
    pl.LazyFrame
        The rows as given, plus one present row (fraction 0) for each school day of the
        pupil's enrolments that has no row. On a day covered by two enrolments the present row
        is at the larger ``school_id``. Its grade and class are the enrolment's (roster columns),
        else those of the pupil's latest earlier row at that school, else of the earliest later.

    Raises
    ------
    BadInputError
        A row on a date that is not a school day of its school in the calendar, or (with a
        roster) outside the pupil's enrolments at that school: at the first such row, so that
        no absence vanishes silently. A roster enrolment at a school the calendar has no days
        for, or whose ``first_day`` is after its ``last_day``: at that roster row.

    Examples
    --------
    >>> import polars as pl
    >>> from datetime import date
    >>> absences = pl.LazyFrame(
    ...     {
    ...         "pupil_id": ["0042"],
    ...         "school_id": ["851001"],
    ...         "date": [date(2024, 3, 5)],
    ...         "category": ["illness"],
    ...     }
    ... )
    >>> calendar = pl.LazyFrame(
    ...     {"school_id": [None] * 3, "date": [date(2024, 3, d) for d in (4, 5, 6)]},
    ...     schema={"school_id": pl.String, "date": pl.Date},
    ... )
    >>> roster = pl.LazyFrame(
    ...     {
    ...         "pupil_id": ["0042"],
    ...         "school_id": ["851001"],
    ...         "first_day": [date(2024, 3, 1)],
    ...         "last_day": [None],
    ...     },
    ...     schema_overrides={"last_day": pl.Date},
    ... )
    >>> out = expand_absence_only(absences, calendar=calendar, roster=roster)
    >>> out.sort("date").collect()["category"].to_list()
    ['present', 'illness', 'present']
    """
    line = LINE in frame.collect_schema().names()
    rows, origin = _conform(frame, origin)
    roster_origin = roster_origin or Origin("<roster>")
    enrolments = _enrolments(rows, roster)
    school_days = _school_days(calendar, rows, enrolments)
    enrolled = (
        enrolments.join(school_days, on=s.SCHOOL_ID)
        .filter(
            (pl.col(FIRST_DAY).is_null() | (pl.col(s.DATE) >= pl.col(FIRST_DAY)))
            & (pl.col(LAST_DAY).is_null() | (pl.col(s.DATE) <= pl.col(LAST_DAY)))
        )
        .drop(FIRST_DAY, LAST_DAY, ROW_INDEX)
    )
    _check_absence_only(
        rows, school_days, enrolled, enrolments, roster is not None, origin, roster_origin
    )

    # One present row per pupil-day without a row, at the day's largest enrolled school; only
    # simple aggregations, which polars runs column-wise rather than group by group.
    place = [s.PUPIL_ID, s.DATE, s.SCHOOL_ID]
    open_days = enrolled.join(rows, on=[s.PUPIL_ID, s.DATE], how="anti")
    per_school = open_days.group_by(place).agg(pl.col(s.GRADE).max(), pl.col(s.CLASS_NAME).max())
    present = (
        per_school.group_by(s.PUPIL_ID, s.DATE)
        .agg(pl.col(s.SCHOOL_ID).max())
        .join(per_school, on=place)
    )
    roster_names = [] if roster is None else roster.collect_schema().names()
    if not {s.GRADE, s.CLASS_NAME} <= set(roster_names):
        present = _with_nearest_class(present, rows)
    present = present.with_columns(
        pl.lit(s.PRESENT).alias(s.CATEGORY),
        pl.lit(0.0).alias(s.ABSENT_FRACTION),
        pl.lit(None, dtype=pl.Int64).alias(ROW_INDEX),
    )
    return pl.concat([_canonical(rows, line=line), _canonical(present, line=line)])


def _enrolments(rows: pl.LazyFrame, roster: pl.LazyFrame | None) -> pl.LazyFrame:
    """pupil, school, first_day, last_day, grade, class_name, _row (of the roster, or null)."""
    if roster is None:
        return rows.group_by(s.PUPIL_ID, s.SCHOOL_ID).agg(
            pl.col(s.DATE).min().alias(FIRST_DAY),
            pl.col(s.DATE).max().alias(LAST_DAY),
            pl.lit(None, dtype=pl.Int8).alias(s.GRADE),
            pl.lit(None, dtype=pl.String).alias(s.CLASS_NAME),
            pl.lit(None, dtype=pl.Int64).alias(ROW_INDEX),
        )
    names = roster.collect_schema().names()
    if ROW_INDEX not in names:
        roster = roster.with_row_index(ROW_INDEX)

    def optional(column: str, dtype: pl.DataType) -> pl.Expr:
        return pl.col(column).cast(dtype) if column in names else pl.lit(None, dtype=dtype)

    return roster.select(
        pl.col(s.PUPIL_ID).cast(pl.String),
        pl.col(s.SCHOOL_ID).cast(pl.String),
        pl.col(FIRST_DAY).cast(pl.Date),
        pl.col(LAST_DAY).cast(pl.Date),
        optional(s.GRADE, pl.Int8()).alias(s.GRADE),
        optional(s.CLASS_NAME, pl.String()).alias(s.CLASS_NAME),
        pl.col(ROW_INDEX).cast(pl.Int64),
    )


def _school_days(
    calendar: pl.LazyFrame, rows: pl.LazyFrame, enrolments: pl.LazyFrame
) -> pl.LazyFrame:
    """(school_id, date) for every school of the rows and the roster, without repeats."""
    calendar = calendar.select(pl.col(s.SCHOOL_ID).cast(pl.String), pl.col(s.DATE).cast(pl.Date))
    schools = pl.concat([rows.select(s.SCHOOL_ID), enrolments.select(s.SCHOOL_ID)]).unique()
    every_school = (
        calendar.filter(pl.col(s.SCHOOL_ID).is_null())
        .select(s.DATE)
        .join(schools, how="cross")
        .select(s.SCHOOL_ID, s.DATE)
    )
    own = calendar.filter(pl.col(s.SCHOOL_ID).is_not_null())
    return pl.concat([own, every_school]).unique()


def _check_absence_only(
    rows: pl.LazyFrame,
    school_days: pl.LazyFrame,
    enrolled: pl.LazyFrame,
    enrolments: pl.LazyFrame,
    with_roster: bool,
    origin: Origin,
    roster_origin: Origin,
) -> None:
    """Refuse rows off the calendar or outside enrolment, and roster rows that cannot count."""
    place = [s.SCHOOL_ID, s.DATE]
    checks = [
        rows.join(school_days, on=place, how="anti").select(pl.col(ROW_INDEX).min()),
        rows.join(enrolled.select(s.PUPIL_ID, *place), on=[s.PUPIL_ID, *place], how="anti").select(
            pl.col(ROW_INDEX).min()
        ),
        enrolments.join(
            school_days.select(s.SCHOOL_ID).unique(), on=s.SCHOOL_ID, how="anti"
        ).select(pl.col(ROW_INDEX).min()),
        enrolments.select(pl.col(ROW_INDEX).filter(pl.col(FIRST_DAY) > pl.col(LAST_DAY)).min()),
    ]
    off_calendar, outside, no_days, reversed_ = (
        f.item() for f in collect_cells_all(checks, origin)
    )
    # Roster faults first: a reversed or calendar-less enrolment makes its pupil's rows "outside".
    if with_roster and reversed_ is not None:
        raise roster_origin.error(reversed_, LAST_DAY, "last_day is before first_day")
    if with_roster and no_days is not None:
        raise roster_origin.error(
            no_days,
            s.SCHOOL_ID,
            "the calendar has no school days for this school",
            hint="add the school to the calendar file, or leave out its school_id column",
        )
    if off_calendar is not None and off_calendar == outside:
        raise origin.error(
            off_calendar,
            s.DATE,
            "a row on a day that is not a school day of its school in the calendar",
            hint="check the calendar (file, first, last, breaks) or the export's dates",
        )
    if outside is not None:
        raise origin.error(
            outside,
            s.DATE,
            "a row outside the pupil's enrolment at this school in the roster",
            hint="check the roster's first_day and last_day, or its school_id",
        )


def _with_nearest_class(present: pl.LazyFrame, rows: pl.LazyFrame) -> pl.LazyFrame:
    """Fill grade and class from the pupil's latest earlier row at the school, else the next."""
    by = [s.PUPIL_ID, s.SCHOOL_ID]
    known = (
        rows.group_by(*by, s.DATE)
        .agg(pl.col(s.GRADE).max(), pl.col(s.CLASS_NAME).max())
        .sort(s.DATE)
    )
    filled = present.sort(s.DATE)
    strategies: tuple[tuple[str, Literal["backward", "forward"]], ...] = (
        (_BACK, "backward"),
        (_FORWARD, "forward"),
    )
    for prefix, strategy in strategies:
        renamed = known.rename({s.GRADE: prefix + s.GRADE, s.CLASS_NAME: prefix + s.CLASS_NAME})
        filled = filled.join_asof(
            renamed, on=s.DATE, by=by, strategy=strategy, check_sortedness=False
        )
    return filled.with_columns(
        pl.coalesce(c, _BACK + c, _FORWARD + c).alias(c) for c in (s.GRADE, s.CLASS_NAME)
    ).drop(_BACK + s.GRADE, _BACK + s.CLASS_NAME, _FORWARD + s.GRADE, _FORWARD + s.CLASS_NAME)


# -- calendar and roster ------------------------------------------------------------------------

_RANGE = re.compile(r"^\s*(\d{4}-\d{2}-\d{2})\s*(?::\s*(\d{4}-\d{2}-\d{2})\s*)?$")


def _config_date(text: str | None, what: str) -> date:
    try:
        if text is None or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text.strip()):
            raise ValueError
        return date.fromisoformat(text.strip())
    except ValueError:
        raise PolicyError(
            f"source options: calendar {what} must be a date written YYYY-MM-DD",
            hint='for example first = "2024-08-12"',
        ) from None


def _closed_by_breaks(breaks: Sequence[int | str]) -> Callable[[date], bool]:
    """A test for days inside the breaks: ISO week numbers or ``YYYY-MM-DD[:YYYY-MM-DD]``."""
    weeks: set[int] = set()
    ranges: list[tuple[date, date]] = []
    for item in breaks:
        if isinstance(item, int):
            if not 1 <= item <= 53:
                raise PolicyError(f"source options: calendar break week {item} is not 1 to 53")
            weeks.add(item)
            continue
        match = _RANGE.match(item)
        if match is None:
            raise PolicyError(
                f"source options: calendar break '{item}' is neither a week number nor a date "
                "range",
                hint='write a week as 42 and a range as "2024-03-25:2024-03-27"',
            )
        first = _config_date(match[1], "break")
        last = _config_date(match[2] or match[1], "break")
        if last < first:
            raise PolicyError(f"source options: calendar break '{item}' ends before it starts")
        ranges.append((first, last))
    return lambda day: day.isocalendar().week in weeks or any(a <= day <= b for a, b in ranges)


def generated_school_days(
    first: date, last: date, breaks: Sequence[int | str] = (), *, holidays: str = DANISH
) -> list[date]:
    """Weekdays from ``first`` to ``last`` minus Danish public holidays, 5 June and ``breaks``;
    ``holidays`` names another country's holidays, or ``"none"``.

    Public holidays come from the ``holidays`` package (Store bededag disappears from 2024 by
    itself). Grundlovsdag (5 June) is not a public holiday in law but Danish schools close on it. A
    break week number closes that ISO week wherever it falls between ``first`` and ``last``; a
    range ``"YYYY-MM-DD:YYYY-MM-DD"`` (or a single date) closes those days, both ends included.

    >>> days = generated_school_days(date(2024, 3, 25), date(2024, 4, 5), [14])
    >>> [d.isoformat() for d in days]
    ['2024-03-25', '2024-03-26', '2024-03-27']
    """
    closed_break = _closed_by_breaks(breaks)
    public = public_holidays(first.year, last.year, country=holidays)
    return [
        day
        for day in (first + timedelta(days=i) for i in range((last - first).days + 1))
        if day.weekday() < 5 and day not in public and not closed_break(day)
    ]


def school_days_frame(calendar: Calendar, *, schools: list[str] | None = None) -> pl.LazyFrame:
    """The calendar of the source options as a frame of ``school_id`` (null: all) and ``date``.

    ``calendar.file`` is read with :func:`read_calendar`; otherwise the days are
    :func:`generated_school_days` from ``first`` to ``last`` minus ``breaks``. ``schools``: keep
    only these schools' own rows of a file (rows for every school stay), or give generated days
    one row per school instead of one row for every school.

    >>> from fravaer.ingest.source import Calendar
    >>> cal = Calendar(first="2024-05-06", last="2024-05-10")  # Ascension Day is the 9th
    >>> school_days_frame(cal).collect().height
    4
    """
    generated = calendar.first is not None or calendar.last is not None or calendar.breaks
    if calendar.file is not None:
        if generated:
            raise PolicyError(
                "source options: calendar has both a file and first/last/breaks",
                hint="give either file, or first and last (and breaks)",
            )
        frame = read_calendar(calendar.file)
        if schools is not None:
            frame = frame.filter(pl.col(s.SCHOOL_ID).is_null() | pl.col(s.SCHOOL_ID).is_in(schools))
        return frame
    if calendar.first is None or calendar.last is None:
        raise PolicyError(
            "source options: calendar needs a file, or first and last",
            hint='for example first = "2024-08-12" and last = "2025-06-20"',
        )
    first = _config_date(calendar.first, "first")
    last = _config_date(calendar.last, "last")
    if last < first:
        raise PolicyError("source options: calendar last is before first")
    days = pl.LazyFrame(
        {s.DATE: generated_school_days(first, last, calendar.breaks, holidays=calendar.holidays)},
        schema={s.DATE: pl.Date},
    )
    if schools is None:
        return days.select(pl.lit(None, dtype=pl.String).alias(s.SCHOOL_ID), s.DATE)
    ids = pl.LazyFrame({s.SCHOOL_ID: schools}, schema={s.SCHOOL_ID: pl.String})
    return ids.join(days, how="cross")


def _read_small_csv(
    path: Path,
    *,
    required: tuple[str, ...],
    optional: tuple[str, ...],
    reach_outputs: tuple[str, ...] = (),
) -> tuple[pl.DataFrame, Origin]:
    """A small side file (calendar, roster): header names, text cells, and its origin.

    Separator ``,``, ``;`` or tab, by whichever the header line has; UTF-8 with or without BOM.
    Blank lines are skipped. Column names are compared without case and surrounding spaces.
    The ``reach_outputs`` columns (ids and class names) are refused as the export's
    are when they begin like a formula or hold a control or invisible character.
    """
    check_readable(path)
    origin = Origin(str(path), lambda record: record + 2)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise origin.error(None, None, "not UTF-8 text", hint="save the file as UTF-8") from None
    header_line = text.splitlines()[0] if text.strip() else ""
    if not header_line.strip():
        raise origin.error(None, None, "file is empty (no header)")
    separator = max((",", ";", "\t"), key=header_line.count)
    refuse_wide_header(path, header_line.count(separator) + 1)
    try:
        raw = pl.read_csv(
            text.encode("utf-8"), separator=separator, infer_schema=False, encoding="utf8"
        )
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise origin.error(None, None, f"not a readable CSV file ({type(exc).__name__})") from None
    names = [name.strip().lower() for name in raw.columns]
    origin = Origin(str(path), lambda record: record + 2, tuple(names))
    raw.columns = [n or f"_unnamed_{i}" for i, n in enumerate(names)]
    missing = [c for c in required if c not in names]
    if missing:
        raise origin.error_at_line(1, None, f"missing required column '{missing[0]}'")
    keep = [c for c in (*required, *optional) if c in names]
    blank_line = pl.all_horizontal(pl.col(c).fill_null("").str.strip_chars() == "" for c in keep)
    rows = (
        raw.with_row_index(ROW_INDEX)
        .filter(~blank_line)
        .select(ROW_INDEX, *(pl.col(c).str.strip_chars() for c in keep))
    )
    _refuse_hostile(rows, [c for c in reach_outputs if c in keep], origin)
    return rows, origin


def _parse_dates(
    rows: pl.DataFrame, columns: Sequence[str], origin: Origin, *, required: Sequence[str]
) -> pl.DataFrame:
    """Columns of ISO dates, parsed; the first missing (if required) or bad cell is refused."""
    for column in columns:
        text = pl.col(column)
        parsed = text.str.strptime(pl.Date, ISO, strict=False)
        blank = text.fill_null("") == ""
        not_iso = ~blank & (~text.str.contains(r"^\d{4}-\d{2}-\d{2}$") | parsed.is_null())
        missing = blank if column in required else pl.lit(value=False)
        found = rows.select(
            pl.col(ROW_INDEX).filter(missing).min().alias("missing"),
            pl.col(ROW_INDEX).filter(not_iso).min().alias("not_iso"),
            pl.col(ROW_INDEX).filter(out_of_range_expr(parsed)).min().alias("out_of_range"),
        )
        named = ("missing date", "not a date in ISO format YYYY-MM-DD", DATE_RANGE_PROBLEM)
        problems = [
            (row, problem)
            for row, problem in zip(found.row(0), named, strict=True)
            if row is not None
        ]
        if problems:
            row, problem = min(problems)
            raise origin.error(row, column, problem)
        rows = rows.with_columns(parsed.alias(column))
    return rows


def _refuse_hostile(raw: pl.DataFrame, columns: Sequence[str], origin: Origin) -> None:
    """Refuse the first id or class cell that a spreadsheet would run or that hides characters
    (:mod:`fravaer.ingest.text`), as the export's own cells are; ``raw`` holds the stripped
    cells with the record index in ``_row``."""
    checks = [
        (column, problem, rule(pl.col(column)))
        for column in columns
        if column in raw.columns
        for problem, rule in (
            (FORMULA_PROBLEM, formula_start_expr),
            (HIDDEN_PROBLEM, hidden_character_expr),
            (LOOKALIKE_PROBLEM, lookalike_expr),
        )
    ]
    if not checks:
        return
    found = raw.select(
        pl.col(ROW_INDEX).filter(bad).min().alias(str(i)) for i, (_, _, bad) in enumerate(checks)
    ).row(0)
    firsts = [(row, i) for i, row in enumerate(found) if row is not None]
    if firsts:
        row, i = min(firsts)
        raise origin.error(row, checks[i][0], checks[i][1])


def _require_text(rows: pl.DataFrame, columns: Sequence[str], origin: Origin) -> None:
    for column in columns:
        first = rows.select(
            pl.col(ROW_INDEX).filter(pl.col(column).fill_null("") == "").min()
        ).item()
        if first is not None:
            raise origin.error(first, column, f"missing {column.replace('_', ' ')}")


def read_calendar(path: Path) -> pl.LazyFrame:
    """A calendar file: CSV with ``date`` and optionally ``school_id`` (blank: every school).

    Returns ``school_id`` (String, null for every school) and ``date`` (Date), one row per school
    day; the same day listed twice is harmless.
    """
    rows, origin = _read_small_csv(
        path, required=(s.DATE,), optional=(s.SCHOOL_ID,), reach_outputs=(s.SCHOOL_ID,)
    )
    if rows.is_empty():
        raise origin.error(None, None, "no data rows")
    rows = _parse_dates(rows, [s.DATE], origin, required=[s.DATE])
    school = (
        pl.when(pl.col(s.SCHOOL_ID) != "").then(pl.col(s.SCHOOL_ID))
        if s.SCHOOL_ID in rows.columns
        else pl.lit(None, dtype=pl.String)
    )
    return rows.lazy().select(school.alias(s.SCHOOL_ID), pl.col(s.DATE))


def read_roster(path: Path) -> tuple[pl.LazyFrame, Origin]:
    """A roster file: CSV of ``pupil_id, school_id, first_day, last_day[, grade, class_name]``.

    A blank ``first_day`` or ``last_day`` leaves the enrolment open at that end. Returns the
    frame (with ``_row``, the record index) for :func:`expand_absence_only` and the origin for
    its ``roster_origin``.
    """
    rows, origin = _read_small_csv(
        path,
        required=(s.PUPIL_ID, s.SCHOOL_ID, FIRST_DAY, LAST_DAY),
        optional=(s.GRADE, s.CLASS_NAME),
        reach_outputs=(s.PUPIL_ID, s.SCHOOL_ID, s.CLASS_NAME),
    )
    if rows.is_empty():
        raise origin.error(None, None, "no data rows")
    _require_text(rows, [s.PUPIL_ID, s.SCHOOL_ID], origin)
    rows = rows.with_columns(pupil_id_expr(pl.col(s.PUPIL_ID)))  # as the export's ids are
    rows = _parse_dates(rows, [FIRST_DAY, LAST_DAY], origin, required=[])
    if s.GRADE in rows.columns:
        grade = pl.col(s.GRADE).cast(pl.Int64, strict=False)
        bad = (pl.col(s.GRADE).fill_null("") != "") & (
            grade.is_null() | ~grade.is_between(s.GRADE_MIN, s.GRADE_MAX)
        )
        first = rows.select(pl.col(ROW_INDEX).filter(bad).min()).item()
        if first is not None:
            raise origin.error(
                first, s.GRADE, f"grade must be a whole number from {s.GRADE_MIN} to {s.GRADE_MAX}"
            )
        rows = rows.with_columns(grade.cast(pl.Int8))
    if s.CLASS_NAME in rows.columns:
        rows = rows.with_columns(pl.when(pl.col(s.CLASS_NAME) != "").then(pl.col(s.CLASS_NAME)))
    return rows.lazy().with_columns(pl.col(ROW_INDEX).cast(pl.Int64)), origin


# -- detection ----------------------------------------------------------------------------------


class DetectedShape(NamedTuple):
    """The shape of an export and, for ``fravaer inspect``, why."""

    shape: ShapeName
    reason: str


def weekdays_between(first: date, last: date) -> int:
    """Monday-to-Friday dates from ``first`` to ``last``, both included.

    >>> weekdays_between(date(2024, 3, 1), date(2024, 3, 11))  # Fri .. the Monday after next
    7
    """
    if last < first:
        return 0
    weeks, rest = divmod((last - first).days + 1, 7)
    return weeks * 5 + sum((first.weekday() + i) % 7 < 5 for i in range(rest))


def detect_shape(
    frame: pl.LazyFrame, options: SourceOptions, *, origin: Origin | None = None
) -> DetectedShape:
    """Which shape an export has, for ``shape = "auto"``; a set shape is returned as it is.

    - a ``scheduled_hours`` column: an export in hours (:mod:`fravaer.ingest.hours`);
    - a ``lesson`` column: lesson-level;
    - any present row: a register;
    - no present row and fewer than :data:`SPARSE_BELOW` rows per pupil per weekday of the
      export's date range: absence-only, if the options have a calendar; without one the export
      is refused (it cannot be counted without knowing the school days);
    - otherwise (no present row, but dense: every pupil absent on every day) a register.

    ``frame`` has canonical column names (``category`` as text or enum).

    Raises
    ------
    BadInputError
        The export looks absence-only and the options have no calendar.

    Examples
    --------
    >>> import polars as pl
    >>> from datetime import date
    >>> from fravaer.ingest.source import SourceOptions
    >>> frame = pl.LazyFrame(
    ...     {"pupil_id": ["1"], "date": [date(2024, 3, 1)], "category": ["present"]}
    ... )
    >>> detect_shape(frame, SourceOptions()).shape
    'register'
    """
    origin = origin or Origin()
    if options.shape != "auto":
        return DetectedShape(options.shape, "set in the source options")
    if SCHEDULED_HOURS in frame.collect_schema().names():
        return DetectedShape("hours", "the export has a column of scheduled hours")
    if LESSON in frame.collect_schema().names():
        return DetectedShape("lesson", f"the export has a '{LESSON}' column")
    # The frame is validated, so the category is exact: no strip (which polars 2.1 cannot apply
    # after an Enum->String cast in some plans), and no cast (an enum compares with its names).
    counts = collect_cells(
        frame.select(
            pl.len().alias("rows"),
            (pl.col(s.CATEGORY) == s.PRESENT).sum().alias("present"),
            pl.col(s.DATE).min().alias("first"),
            pl.col(s.DATE).max().alias("last"),
        ),
        origin,
    )
    rows, present, first, last = counts.row(0)
    if rows == 0 or first is None or last is None:
        return DetectedShape("register", "the export has no rows")
    if present:
        return DetectedShape("register", f"{present} of {rows} rows are present rows")
    # Only an export without present rows needs its pupils counted (the costly part), and its
    # rows counted without exact repeats, so that a reader keeping them (``fravaer check``)
    # sees the shape the commands see.
    names = [c for c in frame.collect_schema().names() if c in s.CANONICAL_SCHEMA or c == LESSON]
    pupils_frame = collect_cells(
        frame.select(names)
        .unique()
        .select(pl.col(s.PUPIL_ID).n_unique().alias("pupils"), pl.len().alias("rows")),
        origin,
    )
    pupils, rows = pupils_frame.row(0)
    density = rows / (pupils * max(1, weekdays_between(first, last)))
    if density >= SPARSE_BELOW:
        return DetectedShape(
            "register",
            f"no present rows, but {density:.2f} rows per pupil per weekday: "
            "taken as one row per school day",
        )
    sparse = (
        f"no present rows and {density:.2f} rows per pupil per weekday "
        f"(below {SPARSE_BELOW}): absences only"
    )
    if options.calendar is None:
        raise origin.error(
            None,
            None,
            f"{sparse}, but no school calendar is configured",
            hint='set shape = "absence_only" and a [calendar] in source.toml, '
            'or shape = "register" if every school day is in the export',
        )
    return DetectedShape("absence_only", sparse)
