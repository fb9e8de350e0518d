"""Date formats: one per file, detected or given, never guessed (docs/ingest.md#dates).

Four formats are accepted, all with a four-digit year and the day before the month:

=============  ===============  ====================================================
``%Y-%m-%d``   ``YYYY-MM-DD``   ISO, ``2024-03-01``
``%d-%m-%Y``   ``DD-MM-YYYY``   ``01-03-2024``
``%d.%m.%Y``   ``DD.MM.YYYY``   ``01.03.2024``
``%d/%m/%Y``   ``D/M/YYYY``     ``1/3/2024`` or ``01/03/2024`` (zeros optional only here)
=============  ===============  ====================================================

The written shapes of the four do not overlap, so a cell is a date in at most one format. A
file's format is the one in which every non-blank date cell is a real calendar date. When no
format is: a cell that is a date in none of them is refused at the first such cell; otherwise
the file is *mixed* (cells in more than one format) and refused at the first cell in another
format than the file's first date, unless ``date_format`` is given. Month-first dates
(``3/25/2024``) are never accepted, so a date cannot be ambiguous between day and month: a
month-first file fails at its first day above 12.

The happy path costs one pass: the format of the first non-blank cell is checked on every cell
while the other cells are checked; only when that fails does :func:`date_problem` look further.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Final

import polars as pl


@dataclass(frozen=True)
class DateFormat:
    """One accepted way of writing a date."""

    strftime: str
    label: str
    pattern: str
    """The exact written shape; strptime alone would also take ``01.3.2024`` or ``+2024-03-01``."""
    date_part: str | None = None
    """For a date with a time (always midnight): the format of its first ten characters."""

    def lenient_expr(self, text: pl.Expr) -> pl.Expr:
        """The date a (stripped) text is read as, shape unchecked (the plans check it)."""
        if self.date_part is not None:
            return text.str.slice(0, 10).str.strptime(pl.Date, self.date_part, strict=False)
        return text.str.strptime(pl.Date, self.strftime, strict=False)

    def parse_expr(self, text: pl.Expr) -> pl.Expr:
        """The date a (stripped) text is in this format, or null when it is not one."""
        return pl.when(text.str.contains(self.pattern)).then(self.lenient_expr(text))

    def problem(self) -> str:
        if self.strftime == ISO:
            return "not a date in ISO format YYYY-MM-DD"
        return f"not a date in format {self.label}"


ISO: Final = "%Y-%m-%d"
MIDNIGHT: Final = "%Y-%m-%d %H:%M:%S"
DATE_FORMATS: Final = (
    DateFormat(ISO, "YYYY-MM-DD", r"^\d{4}-\d{2}-\d{2}$"),
    DateFormat("%d-%m-%Y", "DD-MM-YYYY", r"^\d{2}-\d{2}-\d{4}$"),
    # Zeros may be left out (5.2.2024), as Danish users write the date by hand.
    DateFormat("%d.%m.%Y", "DD.MM.YYYY", r"^\d{1,2}\.\d{1,2}\.\d{4}$"),
    DateFormat("%d/%m/%Y", "D/M/YYYY", r"^\d{1,2}/\d{1,2}/\d{4}$"),
    # A database's date-time column: the date with a time of midnight (docs/decisions.md).
    DateFormat(
        MIDNIGHT,
        "YYYY-MM-DD 00:00:00",
        r"^\d{4}-\d{2}-\d{2}[ T]00:00(:00(\.0+)?)?$",
        date_part=ISO,
    ),
)
BY_STRFTIME: Final = {f.strftime: f for f in DATE_FORMATS}
EXCEL: Final = "excel"
"""The reported format of a sheet whose dates are all date cells or date serial numbers."""

_WRITTEN: Final = DATE_FORMATS[:4]  # the midnight form is ISO with a time: not listed apart
NO_FORMAT_PROBLEM: Final = (
    f"not a date (expected {', '.join(f.label for f in _WRITTEN[:-1])} or {_WRITTEN[-1].label})"
)
DATE_FORMAT_HINT: Final = "set date_format in source.toml to the format the file uses"
TIME_OF_DAY_PROBLEM: Final = "a date with a time of day: only a time of 00:00:00 is read as a date"
TIME_OF_DAY_HINT: Final = (
    "export the school day as a date (YYYY-MM-DD); a time of day may be that of the "
    "registration, not the school day (docs/decisions.md)"
)
MONTH_FIRST_HINT: Final = (
    "the dates look month-first (as US software writes them); export them day-first or as "
    "YYYY-MM-DD"
)
_TIMED: Final = r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?$"
_DAY_MONTH: Final = r"^(\d{1,2})([-./])(\d{1,2})([-./])(\d{4})$"


EARLIEST_DATE: Final = date(1900, 1, 1)
LATEST_DATE: Final = date(9999, 12, 31)
DATE_RANGE_PROBLEM: Final = "a date before 1900-01-01 or after 9999-12-31"
"""A date outside these bounds is refused as a bad cell in every format (docs/ingest.md#dates):
no school register is older, and Python's dates (which every later step uses) end at year
9999 and do not know year 0 or negative years, which polars and Parquet can hold."""


def out_of_range_expr(day: pl.Expr) -> pl.Expr:
    """Whether each (parsed) date lies outside :data:`EARLIEST_DATE` .. :data:`LATEST_DATE`;
    a null is not."""
    return (day.is_not_null() & ~day.is_between(EARLIEST_DATE, LATEST_DATE)).fill_null(value=False)


def format_of(text: str) -> DateFormat | None:
    """The format whose written shape ``text`` has (not checking the calendar).

    >>> format_of("1/3/2024").label, format_of("01.03.2024").label, format_of("2024-3-1")
    ('D/M/YYYY', 'DD.MM.YYYY', None)
    """
    stripped = text.strip()
    return next((f for f in DATE_FORMATS if re.search(f.pattern, stripped)), None)


def first_format(values: pl.Series) -> DateFormat | None:
    """The format of the first cell that has the shape of one; cheap when it is early."""
    for part in (values.head(1_000), values):
        texts = part.cast(pl.String).str.strip_chars().alias("text")
        shaped = pl.any_horizontal(pl.col("text").str.contains(f.pattern) for f in DATE_FORMATS)
        first = texts.to_frame().filter(shaped).head(1).to_series()
        if first.len():
            return format_of(first[0])
        if part.len() == values.len():
            break
    return None


def working_format(values: pl.Series, forced: str) -> DateFormat:
    """The format to check every cell against: the given one, or the first cell's (ISO if none).

    If a cell fails, :func:`date_problem` finds out why, so the choice here is only a guess for
    the fast path, never a decision.
    """
    if forced != "auto":
        return BY_STRFTIME[forced]
    return first_format(values) or BY_STRFTIME[ISO]


@dataclass(frozen=True)
class DateProblem:
    """A refusal: the 0-based record it is at, the problem and a hint."""

    record: int
    problem: str
    hint: str | None = None


def date_problem(
    frame: pl.DataFrame, *, row: str, column: str, forced: str, line_of: Callable[[int], int]
) -> DateProblem | None:
    """Why the date cells of ``frame`` have no single format, or None if they have one.

    ``frame`` holds the record index ``row`` and the date ``column`` as text (Excel date cells
    already removed). Runs on the error path only: it checks every cell in every format. A
    refused cell that is a date with a time of day other than midnight says so; a refusal in a
    file whose day-month dates all read as month-day ones gets a hint that the file looks
    month-first. Neither shows the value.
    """
    text = pl.col(column).cast(pl.String).str.strip_chars()
    filled = frame.select(pl.col(row), text.alias(column)).filter(
        pl.col(column).is_not_null() & (pl.col(column) != "")
    )
    if filled.is_empty():
        return None
    found = _date_problem(filled, row=row, column=column, forced=forced, line_of=line_of)
    if found is None:
        return None
    cell = filled.filter(pl.col(row) == found.record).get_column(column)[0]
    if re.fullmatch(_TIMED, cell) and not re.fullmatch(BY_STRFTIME[MIDNIGHT].pattern, cell):
        return DateProblem(found.record, TIME_OF_DAY_PROBLEM, TIME_OF_DAY_HINT)
    if found.hint is None and looks_month_first(filled.get_column(column)):
        return DateProblem(found.record, found.problem, MONTH_FIRST_HINT)
    return found


def looks_month_first(cells: pl.Series) -> bool:
    """Whether every cell written day-month-year (``-``, ``.`` or ``/``) is a real date read
    month first, and some is not one read day first: a US export (``3/25/2024``).

    >>> looks_month_first(pl.Series(["3/1/2024", "3/25/2024"]))
    True
    >>> looks_month_first(pl.Series(["1/3/2024", "31/2/2024"]))
    False
    """
    as_month_day = as_day_month = True
    shaped = False
    for cell in cells.unique().drop_nulls():
        found = re.fullmatch(_DAY_MONTH, cell)
        if found is None:
            continue
        shaped = True
        first, second, year = int(found[1]), int(found[3]), int(found[5])
        as_month_day = as_month_day and _real(year, first, second)
        as_day_month = as_day_month and _real(year, second, first)
    return shaped and as_month_day and not as_day_month


def _real(year: int, month: int, day: int) -> bool:
    try:
        date(year, month, day)
    except ValueError:
        return False
    return True


def _date_problem(
    filled: pl.DataFrame, *, row: str, column: str, forced: str, line_of: Callable[[int], int]
) -> DateProblem | None:
    valid = filled.select(
        pl.col(row),
        *(f.parse_expr(pl.col(column)).is_not_null().alias(f.strftime) for f in DATE_FORMATS),
    )
    if forced != "auto":
        chosen = BY_STRFTIME[forced]
        bad = valid.filter(~pl.col(forced))
        if bad.is_empty():
            return None
        first = bad.row(0, named=True)
        other = next((f for f in DATE_FORMATS if first[f.strftime]), None)
        hint = None
        if other is not None:
            hint = f"this date is written {other.label}, but date_format is set to {chosen.label}"
        return DateProblem(first[row], chosen.problem(), hint)
    present = [f for f in DATE_FORMATS if valid[f.strftime].any()]
    if len(present) == 1:
        bad = valid.filter(~pl.col(present[0].strftime))
        if bad.is_empty():
            return None
        return DateProblem(bad[row][0], present[0].problem())
    none = valid.filter(~pl.any_horizontal(f.strftime for f in DATE_FORMATS))
    if not none.is_empty():
        return DateProblem(none[row][0], NO_FORMAT_PROBLEM)
    first = valid.row(0, named=True)
    file_format = next(f for f in DATE_FORMATS if first[f.strftime])
    other_row = valid.filter(~pl.col(file_format.strftime)).row(0, named=True)
    other = next(f for f in DATE_FORMATS if other_row[f.strftime])
    return DateProblem(
        other_row[row],
        f"dates in more than one format: {other.label} here, "
        f"{file_format.label} from line {line_of(first[row])}",
        hint=DATE_FORMAT_HINT,
    )


_EXCEL_EPOCH: Final = date(1899, 12, 30)
EXCEL_SERIAL_MIN: Final = 18_264  # 1950-01-01
EXCEL_SERIAL_MAX: Final = 73_050  # 2099-12-31
_EXCEL_DATETIME: Final = r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(\.\d+)?$"
_EXCEL_SERIAL: Final = r"^\d{5}(\.\d+)?$"


def excel_date_expr(text: pl.Expr) -> pl.Expr:
    """The date of an Excel date cell read as text, or null for any other cell.

    A date cell arrives as ``2024-03-01 00:00:00`` (its time is dropped); a date kept as a
    number arrives as its serial number, days since 1899-12-30, accepted from 18264
    (1950-01-01) to 73050 (2099-12-31) so that a stray small number is not read as a date in
    1900.
    """
    as_datetime = text.str.slice(0, 10).str.strptime(pl.Date, ISO, strict=False)
    serial = text.str.extract(r"^(\d+)", 1).cast(pl.Int64, strict=False)
    in_range = serial.is_between(EXCEL_SERIAL_MIN, EXCEL_SERIAL_MAX)
    from_serial = pl.lit(_EXCEL_EPOCH) + pl.duration(days=serial)
    return (
        pl.when(text.str.contains(_EXCEL_DATETIME))
        .then(as_datetime)
        .when(text.str.contains(_EXCEL_SERIAL) & in_range)
        .then(from_serial.cast(pl.Date))
    )
