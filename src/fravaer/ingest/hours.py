"""Exports in hours: scheduled and absent hours per pupil and day -> school days.

Danish school systems also export absence in decimal hours instead of a code per day. Uddata+
describes two such extracts publicly (no sample file is public; docs/shapes.md#exports-in-hours
says what was built from the description):

- the pivot-friendly absence extract (**Z8086**): one line per pupil, day and absence code,
  with ``Timer`` (the hours the pupil was scheduled for that day) and ``Fravær`` (the hours
  missed under that code);
- the FGU extract (**Z8503**): one line per pupil and day, with ``Timer``,
  ``Ugyldigt_fraver`` (unlawful hours) and ``Fraver_ialt`` (all absent hours).

:func:`finish_hours` reads such a table (the step :func:`fravaer.ingest.finish.finish` is for
the other shapes): ids, dates and codes as every export's, hours as decimal numbers (``7,5``
or ``7.5``), a week or month where a date should be refused. :func:`from_hours` turns the
lines into the canonical frame: per pupil-day, each category's absent hours divided by the
day's scheduled hours, in whole day units rounded down, as lesson-level exports are
(:func:`fravaer.ingest.shapes.day_rows`). A day without scheduled hours is no school day.

Errors name the file, line and column through the :class:`~fravaer.ingest.origin.Origin`,
never a cell's value; ``CPR_nr`` is read as the pupil id as every CPR column is, and ``Navn``
(the pupil's name) is one of the columns that are dropped on reading, never looked at.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Sequence
from dataclasses import replace
from typing import Final, Literal

import polars as pl

from fravaer import schema as s
from fravaer.days import DAY_KEY, first_conflict
from fravaer.ingest.detected import Detected
from fravaer.ingest.dictionary import evaluate
from fravaer.ingest.finish import Table, categorical, date_rule, numbered_rows
from fravaer.ingest.headers import column_label, header_key, missing_column_hint
from fravaer.ingest.hourcolumns import (
    ABSENT_HOURS,
    SCHEDULED_HOURS,
    TOTAL_ABSENT_HOURS,
    UNLAWFUL_HOURS,
)
from fravaer.ingest.origin import LINE, ROW_INDEX, Origin, as_given
from fravaer.ingest.plans import Check, Plan, blank_expr, code_counts, code_rule, column_plans
from fravaer.ingest.shapes import day_rows, pupil_day_sums
from fravaer.ingest.source import SourceOptions
from fravaer.ingest.validate import collect_cells, validate_in_memory

log = logging.getLogger("fravaer")

Form = Literal["codes", "totals"]
"""``codes``: absent hours per code (Z8086); ``totals``: unlawful and total hours (Z8503)."""

MAX_HOURS: Final = 24
"""No day has more hours than this, scheduled or absent."""
HOUR_PARTS: Final = 1_000_000
"""Hours are counted exactly in millionths of an hour (a decimal with up to six places)."""

CODE: Final = "_code"
"""An hours line's code as written (stripped): lines are told apart by it, not by category."""

PERIOD_PROBLEM: Final = "a week or month where a date should be"
PERIOD_HINT: Final = (
    "classification counts school days: export the extract with one line per pupil per day"
)
_PERIOD_HEADERS: Final = frozenset(
    header_key(name) for name in ("uge", "ugenr", "week", "måned", "maaned", "month")
)
_MONTHS: Final = (
    "jan|feb|mar|apr|maj|may|jun|jul|aug|sep|okt|oct|nov|dec"  # Danish and English, abbreviated
)
PERIOD_PATTERN: Final = (
    r"(?i)^(?:"
    r"\d{4}\s*[-/.]\s*\d{1,2}"  # 2024-03, 2024/3
    r"|\d{1,2}\s*[-/.]\s*\d{4}"  # 03-2024, 3.2024
    r"|(?:uge|week|wk|kw|u|w)\.?\s*\d{1,2}(?:\s*[-/,]?\s*\d{4})?"  # uge 12, W12 2024
    r"|\d{4}\s*[-/]?\s*(?:uge|week|w)\.?\s*\d{1,2}"  # 2024-W12, 2024 uge 12
    rf"|(?:{_MONTHS})[a-zæøå]*\.?\s*[-/']?\s*\d{{2,4}}"  # marts 2024, Mar-24
    rf"|\d{{4}}\s*[-/]?\s*(?:{_MONTHS})[a-zæøå]*\.?"  # 2024 marts
    r")$"
)
"""A period of a week or a month written where a date should be (checked after stripping)."""

_SCHEDULED = "_scheduled"
_ABSENT = "_absent"


def reads_hours(columns: Collection[str], options: SourceOptions) -> bool:
    """Whether a table with these mapped ``columns`` is read as an hours extract: when the
    options say ``shape = "hours"``, or ``auto`` and the table has a scheduled-hours column."""
    return options.shape == "hours" or (options.shape == "auto" and SCHEDULED_HOURS in columns)


def form_of(columns: Collection[str], origin: Origin) -> Form:
    """Which hours extract the mapped ``columns`` are: absent hours per code, or unlawful and
    total hours; refused (at the header) when they are neither or both."""
    if ABSENT_HOURS in columns:
        if UNLAWFUL_HOURS in columns or TOTAL_ABSENT_HOURS in columns:
            raise origin.error_at_line(
                origin.header_line,
                None,
                "the export has absent hours per code and unlawful or total hours: "
                "cannot tell which to count",
                hint="map the columns to read under [columns] in source.toml "
                "(docs/shapes.md#exports-in-hours)",
            )
        return "codes"
    if UNLAWFUL_HOURS in columns or TOTAL_ABSENT_HOURS in columns:
        return "totals"
    raise origin.error_at_line(
        origin.header_line,
        None,
        f"missing required column '{ABSENT_HOURS}'",
        hint=missing_column_hint(ABSENT_HOURS),
    )


def required_columns(form: Form) -> tuple[str, ...]:
    """The columns an hours extract of ``form`` must have."""
    ids = (s.PUPIL_ID, s.SCHOOL_ID, s.DATE, SCHEDULED_HOURS)
    if form == "codes":
        return (*ids, s.CATEGORY, ABSENT_HOURS)
    return (*ids, UNLAWFUL_HOURS, TOTAL_ABSENT_HOURS)


def hours_plan(column: str, *, required: bool) -> Plan:
    """How an hours column is read: a decimal number with a comma or a point, from 0 to
    :data:`MAX_HOURS`; a blank cell is refused when ``required``, else no hours."""
    text = pl.col(column).cast(pl.String).str.strip_chars()
    parsed = text.str.replace(",", ".", literal=True).cast(pl.Float64, strict=False)
    blank = blank_expr(column)
    value = parsed if required else pl.when(blank).then(pl.lit(0.0)).otherwise(parsed)
    checks = [
        Check(column, "not a number", ~blank & parsed.is_null()),
        Check(
            column,
            f"hours must be a number from 0 to {MAX_HOURS}",
            value.is_nan() | value.is_infinite() | (value < 0) | (value > MAX_HOURS),
        ),
    ]
    if required:
        checks.insert(0, Check(column, "missing hours", blank))
    return Plan(value, tuple(checks))


def period_expr(text: pl.Expr) -> pl.Expr:
    """Whether each (stripped) date cell is a week or a month rather than a day.

    >>> cells = pl.Series(["2024-03", "uge 12", "Marts 2024", "2024-W12", "2024-03-04", "4.3.2024"])
    >>> cells.to_frame("d").select(period_expr(pl.col("d"))).to_series().to_list()
    [True, True, True, True, False, False]
    """
    return text.str.contains(PERIOD_PATTERN).fill_null(value=False)


def finish_hours(
    table: Table, options: SourceOptions, *, keep_lines: bool = False
) -> tuple[pl.LazyFrame, Detected]:
    """Read an hours extract's :class:`~fravaer.ingest.finish.Table`: the lines with typed
    ids, dates, grades, classes, codes (the ``codes`` form) and hours, and what was detected.

    The lines are those of the file (blank lines skipped); :func:`from_hours` makes them
    school days. ``keep_lines`` adds :data:`LINE`.

    Raises
    ------
    BadInputError
        A missing column, a week or month where a date should be, a bad cell: at its file,
        line and column.
    """
    origin = table.origin
    frame = table.frame
    header_map = table.headers
    if s.DATE not in frame.columns:
        _refuse_period_header(header_map.header, origin)
    form = form_of(frame.columns, origin)
    missing = [c for c in required_columns(form) if c not in frame.columns]
    if missing:
        raise origin.error_at_line(
            origin.header_line,
            None,
            f"missing required column '{missing[0]}'",
            hint=missing_column_hint(missing[0]),
        )
    wanted = {*required_columns(form), s.GRADE, s.CLASS_NAME}
    frame = frame.select(c for c in frame.columns if c in wanted)
    frame = categorical(frame)
    rows = numbered_rows(table, frame, keep_lines=keep_lines)
    _refuse_periods(rows, origin)

    codes = counts = None
    if form == "codes":
        codes, counts = code_rule(frame.group_by(s.CATEGORY).len(), origin, options)
    dates, date_format = date_rule(frame, rows.lazy(), origin, options, excel=table.excel_dates)
    schema = pl.Schema(dict.fromkeys(frame.columns, pl.String))
    plans = column_plans(schema, dates=dates, codes=codes)
    del plans[s.ABSENT_FRACTION]
    if form == "codes":
        plans[CODE] = Plan(pl.col(s.CATEGORY).cast(pl.String).str.strip_chars().fill_null(""))
        plans[ABSENT_HOURS] = hours_plan(ABSENT_HOURS, required=False)
    else:
        del plans[s.CATEGORY]
        plans[UNLAWFUL_HOURS] = hours_plan(UNLAWFUL_HOURS, required=False)
        plans[TOTAL_ABSENT_HOURS] = hours_plan(TOTAL_ABSENT_HOURS, required=False)
    plans[SCHEDULED_HOURS] = hours_plan(SCHEDULED_HOURS, required=True)
    # The pupil-day checks are the shape's (from_hours): a day has a line per code.
    validated = validate_in_memory(rows, plans, origin, keep_lines=keep_lines, day_checks=False)
    # Columns mapped but not read (a category beside unlawful and total hours, a fraction or
    # lesson) are dropped, as unmapped ones are.
    read = {i for c, i in header_map.positions.items() if c in frame.columns}
    dropped = tuple(
        column_label(name, i + 1) for i, name in enumerate(header_map.header) if i not in read
    )
    detected = replace(
        table.detected,
        date_format=date_format,
        columns={c: h for c, h in header_map.original.items() if c in frame.columns},
        dropped=dropped,
        header=header_map.header,
        codes=(
            {}
            if codes is None or counts is None
            else code_counts(counts, codes, options, blank_lines=frame.height - validated.read)
        ),
        rows=validated.rows,
    )
    return validated.frame, detected


def _refuse_period_header(header: Sequence[str], origin: Origin) -> None:
    """An extract without a date column but with a week or month column is at week or month
    level: say so at that column rather than that a date column is missing."""
    for name in header:
        if header_key(name) in _PERIOD_HEADERS:
            raise origin.error_at_line(
                origin.header_line, name, f"{PERIOD_PROBLEM}: no date column", hint=PERIOD_HINT
            )


def _refuse_periods(rows: pl.DataFrame, origin: Origin) -> None:
    """Refuse the first date cell that is a week or a month (week- or month-level detail)."""
    flags = evaluate(
        rows,
        {
            ROW_INDEX: pl.col(ROW_INDEX),
            "period": period_expr(pl.col(s.DATE).cast(pl.String).str.strip_chars()),
        },
    )
    first = collect_cells(flags.select(pl.col(ROW_INDEX).filter(pl.col("period")).min()), origin)
    record = first.item()
    if record is not None:
        raise origin.error(record, s.DATE, PERIOD_PROBLEM, hint=PERIOD_HINT)


def from_hours(
    frame: pl.LazyFrame,
    *,
    origin: Origin | None = None,
    valid_absence: Literal["illness", "leave"] = "leave",
) -> pl.LazyFrame:
    """Turn an hours extract's lines into the canonical frame: one row per pupil-day and category.

    Parameters
    ----------
    frame
        Typed lines (as :func:`finish_hours` gives them): ``pupil_id``, ``school_id``,
        ``date``, ``scheduled_hours``, optionally ``grade`` and ``class_name``, and either
        ``category`` with ``absent_hours`` (one line per code; ``_code``, the code as
        written, tells lines apart, default the category) or ``unlawful_hours`` with
        ``total_absent_hours`` (one line per day). Optionally ``_line`` or ``_row``, for errors.
    origin
        The file, for error messages.
    valid_absence
        The category of the absent hours that are not unlawful, for the totals form.

    Returns
    -------
    pl.LazyFrame
        Per pupil-day with scheduled hours above 0: one row per category with absence, whose
        fraction is the category's absent hours divided by the day's scheduled hours, rounded
        down to whole day units; or one present row with fraction 0. A day with no scheduled
        hours is no school day and has no row. School, grade and class are the day's, as for
        lessons: the largest ``school_id`` among its lines, the largest grade and class there.

    Raises
    ------
    BadInputError
        A line repeated with any difference (the same pupil, date and code), lines of one day
        with different scheduled hours, absent hours on a line whose code means present,
        unlawful hours above the total, or a day whose absent hours add up to more than its
        scheduled hours: at the line, naming its column. An identical repeated line is dropped
        with a warning.

    Examples
    --------
    One and a half of seven and a half hours missed with illness is a fifth of the day:

    >>> from datetime import date
    >>> lines = pl.LazyFrame(
    ...     {
    ...         "pupil_id": ["0042", "0042"],
    ...         "school_id": ["851001", "851001"],
    ...         "date": [date(2024, 3, 4)] * 2,
    ...         "category": ["illness", "unlawful"],
    ...         "scheduled_hours": [7.5, 7.5],
    ...         "absent_hours": [1.5, 0.0],
    ...     }
    ... )
    >>> from_hours(lines).select("category", "absent_fraction").collect().rows()
    [('illness', 0.2)]
    """
    origin = origin or Origin()
    names = frame.collect_schema().names()
    line = LINE in names
    if LINE in names:
        frame = frame.with_columns(pl.col(LINE).cast(pl.Int64).alias(ROW_INDEX))
        origin = replace(origin, line_of=as_given)
    elif ROW_INDEX not in names:
        frame = frame.with_row_index(ROW_INDEX)
    form = form_of(names, origin)
    missing = [c for c in required_columns(form) if c not in names]
    if missing:
        raise origin.error(
            None,
            None,
            f"missing required column '{missing[0]}'",
            hint="hours extracts are read from CSV or Excel (docs/shapes.md#exports-in-hours)",
        )
    optional = {s.GRADE: pl.Int8(), s.CLASS_NAME: pl.String()}
    lines = frame.with_columns(
        pl.col(s.PUPIL_ID).cast(pl.String),
        pl.col(s.SCHOOL_ID).cast(pl.String),
        pl.col(s.DATE).cast(pl.Date),
        pl.col(ROW_INDEX).cast(pl.Int64),
        *(
            (pl.col(c).cast(dtype) if c in names else pl.lit(None, dtype=dtype)).alias(c)
            for c, dtype in optional.items()
        ),
        *(_parts(pl.col(c)).alias(c) for c in _hours_columns(form)),
    )
    if form == "codes":
        code = pl.col(CODE) if CODE in names else pl.col(s.CATEGORY).cast(pl.String)
        lines = lines.with_columns(
            code.alias(CODE), pl.col(s.CATEGORY).cast(pl.String).alias(s.CATEGORY)
        )
    lines = _check_lines(lines, form, origin)
    parts = _by_category(lines, form, valid_absence)
    return _days(parts, form, origin, line=line)


def _hours_columns(form: Form) -> tuple[str, ...]:
    if form == "codes":
        return (SCHEDULED_HOURS, ABSENT_HOURS)
    return (SCHEDULED_HOURS, UNLAWFUL_HOURS, TOTAL_ABSENT_HOURS)


def _parts(hours: pl.Expr) -> pl.Expr:
    """Hours as whole millionths of an hour, so that sums and comparisons are exact."""
    return (hours.cast(pl.Float64) * HOUR_PARTS).round(0).cast(pl.Int64)


def _check_lines(lines: pl.LazyFrame, form: Form, origin: Origin) -> pl.LazyFrame:
    """Refuse lines that cannot be counted; drop identical repeats (with a warning).

    A line is identified by pupil, date and code (``codes``) or pupil and date (``totals``):
    the same key with any difference is refused at the later line, naming the first column
    that differs; within a day, every line must give the same scheduled hours.
    """
    key = [*DAY_KEY, CODE] if form == "codes" else list(DAY_KEY)
    hours = list(_hours_columns(form))
    others = [*hours, s.SCHOOL_ID, s.GRADE, s.CLASS_NAME]
    if form == "codes":
        present = (pl.col(s.CATEGORY) == s.PRESENT) & (pl.col(ABSENT_HOURS) > 0)
        problems = [(ABSENT_HOURS, "absent hours on a line whose code means present", present)]
    else:
        above = pl.col(UNLAWFUL_HOURS) > pl.col(TOTAL_ABSENT_HOURS)
        problems = [(UNLAWFUL_HOURS, "unlawful hours above the total absent hours", above)]
    day = list(DAY_KEY)
    summary = lines.select(
        *(
            pl.col(ROW_INDEX).filter(bad).min().alias(str(i))
            for i, (_, _, bad) in enumerate(problems)
        ),
    )
    shared = (
        lines.group_by(day)
        .agg(pl.len().alias("_n"), pl.col(SCHEDULED_HOURS).n_unique().alias("_scheduled"))
        .filter(pl.col("_n") > 1)
        .select(day)
    )
    found = collect_cells(summary, origin)
    bad = [(row, i) for i, row in enumerate(found.row(0)) if row is not None]
    if bad:
        row, i = min(bad)
        raise origin.error(row, problems[i][0], problems[i][1])
    days = collect_cells(shared, origin)
    if days.is_empty():
        return lines
    rows = collect_cells(lines.join(days.lazy(), on=day, how="semi"), origin)
    conflict = first_conflict(rows, key, others, row=ROW_INDEX)
    if conflict is not None:
        raise origin.error(
            *conflict,
            "differs from an earlier line for the same pupil, date"
            + (" and code" if form == "codes" else ""),
            hint="an hours extract has one line per pupil, day"
            + (" and code" if form == "codes" else ""),
        )
    uneven = first_conflict(rows, day, [SCHEDULED_HOURS], row=ROW_INDEX)
    if uneven is not None:
        raise origin.error(
            *uneven,
            "scheduled hours differ from an earlier line for the same pupil and date",
            hint="every line of a day gives the hours the pupil was scheduled for that day",
        )
    groups = rows.group_by(key).agg(pl.col(ROW_INDEX).sort())
    repeated = (
        groups.select(pl.col(ROW_INDEX).list.slice(1)).explode(ROW_INDEX).drop_nulls()[ROW_INDEX]
    )
    if repeated.len():
        log.warning("%s: ignored %d repeated line(s)", origin.file, repeated.len())
        return lines.filter(~pl.col(ROW_INDEX).is_in(repeated.implode()))
    return lines


def _by_category(lines: pl.LazyFrame, form: Form, valid_absence: str) -> pl.LazyFrame:
    """One row per line and category with its absent hours (:data:`_ABSENT`) and the day's
    scheduled hours (:data:`_SCHEDULED`), in millionths of an hour."""
    base = [s.PUPIL_ID, s.SCHOOL_ID, s.DATE, s.GRADE, s.CLASS_NAME, ROW_INDEX]
    scheduled = pl.col(SCHEDULED_HOURS).alias(_SCHEDULED)
    if form == "codes":
        return lines.select(
            *base, scheduled, pl.col(s.CATEGORY), pl.col(ABSENT_HOURS).alias(_ABSENT)
        )
    unlawful = lines.select(
        *base,
        scheduled,
        pl.lit(s.UNLAWFUL).alias(s.CATEGORY),
        pl.col(UNLAWFUL_HOURS).alias(_ABSENT),
    )
    rest = lines.select(
        *base,
        scheduled,
        pl.lit(valid_absence).alias(s.CATEGORY),
        (pl.col(TOTAL_ABSENT_HOURS) - pl.col(UNLAWFUL_HOURS)).alias(_ABSENT),
    )
    return pl.concat([unlawful, rest])


def _days(parts: pl.LazyFrame, form: Form, origin: Origin, *, line: bool) -> pl.LazyFrame:
    """Per pupil-day: refuse over-full days, drop days without scheduled hours, and give each
    category its absent hours over the scheduled hours in whole day units (rounded down)."""
    absent = pl.when(pl.col(s.CATEGORY) != s.PRESENT).then(pl.col(_ABSENT)).otherwise(0)
    scheduled = pl.col(_SCHEDULED).max()
    days = pupil_day_sums(parts, absent, per_school=scheduled, per_day=scheduled)
    total = pl.sum_horizontal(s.ABSENCE_CATEGORIES)
    over = days.select(pl.col(ROW_INDEX).filter(total > pl.col(_SCHEDULED)).min())
    found = collect_cells(over, origin)
    if (row := found.item()) is not None:
        raise origin.error(
            row,
            ABSENT_HOURS if form == "codes" else TOTAL_ABSENT_HOURS,
            "absent hours of one pupil-day add up to more than its scheduled hours",
        )
    school_days = days.filter(pl.col(_SCHEDULED) > 0)
    units = school_days.with_columns(
        (pl.col(c) * s.DAY_UNITS // pl.col(_SCHEDULED)).alias(c) for c in s.ABSENCE_CATEGORIES
    )
    return day_rows(units.drop(_SCHEDULED), line=line)


__all__ = [
    "CODE",
    "PERIOD_PROBLEM",
    "finish_hours",
    "form_of",
    "from_hours",
    "hours_plan",
    "period_expr",
    "reads_hours",
]
