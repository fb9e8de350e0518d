"""The last step of a text source (CSV, Excel): a :class:`Table` becomes the canonical frame.

A reader (:mod:`~fravaer.ingest.csv`, :mod:`~fravaer.ingest.excel`) gives a :class:`Table`:
the cells as written under canonical column names. :func:`finish` drops blank lines, reads the
file's category codes (:mod:`~fravaer.ingest.codes`) and date format
(:mod:`~fravaer.ingest.dates`), checks every cell and pupil-day
(:mod:`~fravaer.ingest.validate`), and says what was detected, for ``fravaer inspect``
(docs/ingest.md).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from typing import Final

import polars as pl

from fravaer import schema as s
from fravaer.errors import BadInputError
from fravaer.ingest.dates import (
    BY_STRFTIME,
    EXCEL,
    ISO,
    date_problem,
    excel_date_expr,
    working_format,
)
from fravaer.ingest.detected import Detected
from fravaer.ingest.dictionary import categorical_columns, distinct, evaluate
from fravaer.ingest.headers import HeaderMap, column_label
from fravaer.ingest.origin import LINE, ROW_INDEX, Origin
from fravaer.ingest.plans import DateRule, blank_expr, code_counts, code_rule, column_plans
from fravaer.ingest.source import SourceOptions
from fravaer.ingest.validate import collect_cells, require_columns, validate_in_memory

log = logging.getLogger("fravaer")

LOST_ZERO_MIN_WIDTH: Final = 5
"""The narrowest width of digit-only ids that a lost leading zero is looked for in: CPR numbers
(10 digits, 9 when the day was 01-09) and pupil numbers of 6 or 7 digits; 3- and 4-digit
numbers vary in width for other reasons."""


@dataclass(frozen=True)
class Table:
    """A source's rows as text under canonical column names, before validation.

    ``frame`` holds the mapped columns only (the canonical ones and ``lesson``), every cell as
    text or as a categorical of its text (CSV: :mod:`~fravaer.ingest.dictionary`), blank lines
    included so that record indexes match the source's lines; the other columns were dropped
    on reading. ``detected`` holds what reading found so far.
    """

    frame: pl.DataFrame
    origin: Origin
    headers: HeaderMap
    detected: Detected
    decimal_comma: bool = False
    excel_dates: bool = False
    lines: pl.Series | None = None
    """Each record's line (CSV) or row (Excel) number, when asked for with ``keep_lines``."""


def categorical(frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` with its text columns categorical: each distinct text is read once
    (:mod:`fravaer.ingest.dictionary`)."""
    text = [name for name, dtype in frame.schema.items() if dtype == pl.String]
    types = dict(zip(text, categorical_columns(len(text)), strict=True))
    return frame.with_columns(pl.col(name).cast(types[name]) for name in text)


def numbered_rows(table: Table, frame: pl.DataFrame, *, keep_lines: bool) -> pl.DataFrame:
    """``frame``'s rows, numbered (:data:`ROW_INDEX`), with each one's line (:data:`LINE`) when
    ``keep_lines``, and without the rows whose every cell is blank."""
    blanks = collect_cells(evaluate(frame, {c: blank_expr(c) for c in frame.columns}), table.origin)
    rows = frame.with_row_index(ROW_INDEX)
    if keep_lines:
        if table.lines is None:
            raise ValueError("keep_lines needs a table read with its line numbers")
        rows = rows.with_columns(table.lines.alias(LINE))
    blank = blanks.select(pl.all_horizontal(pl.all())).to_series()
    return rows.filter(~blank) if blank.any() else rows


def finish(
    table: Table, options: SourceOptions, *, keep_lines: bool = False, day_checks: bool = True
) -> tuple[pl.LazyFrame, Detected]:
    """Map codes and dates, check every cell; the canonical frame and what was detected.

    ``keep_lines`` adds :data:`LINE` (the table must carry ``lines``); ``day_checks=False``
    keeps repeated, conflicting and over-full pupil-days (for ``fravaer check``).
    """
    origin = table.origin
    frame = categorical(table.frame)
    require_columns(frame.columns, origin, hint=True)
    rows = numbered_rows(table, frame, keep_lines=keep_lines)

    codes, counts = code_rule(frame.group_by(s.CATEGORY).len(), origin, options)
    dates, date_format = date_rule(frame, rows.lazy(), origin, options, excel=table.excel_dates)
    # Text columns are as the plans for text sources expect, whatever their polars type.
    schema = pl.Schema(dict.fromkeys(frame.columns, pl.String))
    plans = column_plans(schema, dates=dates, codes=codes, decimal_comma=table.decimal_comma)
    validated = validate_in_memory(
        rows, plans, origin, keep_lines=keep_lines, day_checks=day_checks
    )
    if s.PUPIL_ID in frame.columns:
        warn_lost_zeros(distinct(frame.get_column(s.PUPIL_ID)), origin)
    detected = replace(
        table.detected,
        date_format=date_format,
        columns=table.headers.original,
        dropped=table.headers.dropped,
        header=table.headers.header,
        codes=code_counts(counts, codes, options, blank_lines=frame.height - validated.read),
        rows=validated.rows,
    )
    return validated.frame, detected


def date_rule(
    frame: pl.DataFrame,
    indexed: pl.LazyFrame,
    origin: Origin,
    options: SourceOptions,
    *,
    excel: bool,
) -> tuple[DateRule, str | None]:
    """The working date format, the diagnosis if it fails, and the format to report."""
    if s.DATE not in frame.columns:
        return DateRule(BY_STRFTIME[ISO]), None
    text = pl.col(s.DATE).cast(pl.String).str.strip_chars()
    reported: str | None = None
    if excel:  # a sheet is small: the text cells are those that are not Excel dates
        values = frame.select(pl.when(excel_date_expr(text).is_null()).then(text)).to_series()
        if options.date_format == "auto" and values.drop_nulls().str.len_chars().sum() == 0:
            reported = EXCEL
    else:  # the column as read; only its first cells are looked at on the happy path
        values = frame.get_column(s.DATE)
    form = working_format(values, options.date_format)
    reported = reported or form.strftime

    def explain(record: int) -> BadInputError:
        cells = indexed.select(pl.col(ROW_INDEX), text.alias(s.DATE))
        if excel:
            cells = cells.filter(excel_date_expr(pl.col(s.DATE)).is_null())
        found = date_problem(
            collect_cells(cells, origin),
            row=ROW_INDEX,
            column=s.DATE,
            forced=options.date_format,
            line_of=origin.line_of,
        )
        if found is None:
            return origin.error(record, s.DATE, form.problem())
        return origin.error(found.record, s.DATE, found.problem, hint=found.hint)

    return DateRule(form, excel=excel, explain=explain), reported


def lost_zeros(ids: pl.Series) -> tuple[int, int, int] | None:
    """Whether digit-only ids mix widths as a lost leading zero does: some are one digit
    shorter than the widest (at least :data:`LOST_ZERO_MIN_WIDTH`) digit-only ids. The number
    of distinct shorter ids, their width and the widest; None when the widths do not mix so.

    >>> lost_zeros(pl.Series(["0101031234", "101031234", "1201031234", "fake-1"]))
    (1, 9, 10)
    >>> lost_zeros(pl.Series(["0101031234", "1201031234"])) is None
    True
    """
    texts = ids.unique().cast(pl.String).str.strip_chars()
    widths = texts.filter(texts.str.contains(r"^\d+$")).str.len_chars()
    if widths.is_empty():
        return None
    widest = int(widths.max())  # type: ignore[arg-type]
    short = int((widths == widest - 1).sum())
    if widest < LOST_ZERO_MIN_WIDTH or short == 0:
        return None
    return short, widest - 1, widest


def warn_lost_zeros(ids: pl.Series, origin: Origin) -> None:
    """Warn, in one line with a count and no id, when :func:`lost_zeros` finds the widths of a
    lost leading zero (docs/ingest.md#ids-that-lost-their-leading-zeros)."""
    found = lost_zeros(ids)
    if found is None:
        return
    short, width, widest = found
    position = origin.positions.get(s.PUPIL_ID)
    if position is None and s.PUPIL_ID in origin.header:  # Parquet, named as canonical
        position = origin.header.index(s.PUPIL_ID)
    name = column_label(origin.header[position], position + 1) if position is not None else ""
    log.warning(
        "%s (column '%s'): %d pupil id(s) of %d digits beside ids of %d: leading zeros may have "
        "been lost (Excel drops them); format the column as text in the export",
        origin.file,
        name,
        short,
        width,
        widest,
    )
