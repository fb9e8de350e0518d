"""Read the canonical attendance format (SPEC §3) from CSV and Parquet, and validate it.

CSV: comma-separated, UTF-8, ISO dates, header
``pupil_id,school_id,date,category[,absent_fraction][,grade][,class_name]``. Parquet: the same
columns, either typed (string ids, ``date`` as Date, numeric fraction and grade) or as strings.

Every cell is checked before anything else sees the frame. The first problem is reported with
file, line (CSV) or row (Parquet), column number and column name — never the cell's value, which
is children's data. Rows that repeat another row exactly are dropped with a warning; rows that
disagree about the same pupil, date and category are refused.
"""

from __future__ import annotations

import csv
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from fravaer import schema as s
from fravaer.errors import BadInputError, InputMissingError, Location
from fravaer.window import units_expr

log = logging.getLogger("fravaer")

_ROW = "_row"
_COUNT = "_count"
_SECOND = "_second"
_FIRST = "_first"
_UNITS = "_units"
_CATEGORIES = "_categories"
ISO_DATE = "%Y-%m-%d"


@dataclass(frozen=True)
class _Check:
    column: str
    problem: str
    bad: pl.Expr


@dataclass(frozen=True)
class _Plan:
    """How one source column becomes a canonical column, and what makes a cell bad."""

    typed: pl.Expr
    checks: tuple[_Check, ...] = ()


def _blank(column: str) -> pl.Expr:
    return pl.col(column).cast(pl.String).str.strip_chars().fill_null("") == ""


def _text_plan(column: str, dtype: pl.DataType | None, what: str) -> _Plan:
    if dtype is not None and not isinstance(dtype, pl.String | pl.Categorical | pl.Enum):
        raise _TypeProblem(column, "must be text (ids are strings: leading zeros matter)")
    typed = pl.col(column).cast(pl.String).str.strip_chars()
    return _Plan(typed, (_Check(column, f"missing {what}", _blank(column)),))


def _date_plan(dtype: pl.DataType | None) -> _Plan:
    if isinstance(dtype, pl.Date):
        return _Plan(pl.col(s.DATE), (_Check(s.DATE, "missing date", pl.col(s.DATE).is_null()),))
    if dtype is not None and not isinstance(dtype, pl.String):
        raise _TypeProblem(s.DATE, "must be a date or ISO text YYYY-MM-DD")
    text = pl.col(s.DATE).str.strip_chars()
    typed = text.str.strptime(pl.Date, ISO_DATE, strict=False)
    # strptime alone would take 2024-3-1 and +2024-03-01; ISO means exactly YYYY-MM-DD.
    not_iso = ~text.str.contains(r"^\d{4}-\d{2}-\d{2}$") | typed.is_null()
    return _Plan(
        typed,
        (
            _Check(s.DATE, "missing date", _blank(s.DATE)),
            _Check(s.DATE, "not a date in ISO format YYYY-MM-DD", ~_blank(s.DATE) & not_iso),
        ),
    )


def _category_plan(dtype: pl.DataType | None) -> _Plan:
    if dtype is not None and not isinstance(dtype, pl.String | pl.Categorical | pl.Enum):
        raise _TypeProblem(s.CATEGORY, "must be text")
    text = pl.col(s.CATEGORY).cast(pl.String).str.strip_chars()
    problem = f"unknown category (expected one of {', '.join(s.CATEGORIES)})"
    unknown = ~text.is_in(s.CATEGORIES) | text.is_null()
    return _Plan(text.cast(s.CATEGORY_DTYPE), (_Check(s.CATEGORY, problem, unknown),))


def _fraction_plan(dtype: pl.DataType | None, category: pl.Expr) -> _Plan:
    absent_default = pl.when(category == s.PRESENT).then(0.0).otherwise(1.0)
    if dtype is None:
        return _Plan(absent_default)
    if isinstance(dtype, pl.String):
        raw = pl.col(s.ABSENT_FRACTION).str.strip_chars()
        parsed = raw.cast(pl.Float64, strict=False)
        unparsed = ~_blank(s.ABSENT_FRACTION) & parsed.is_null()
    elif dtype.is_numeric():
        parsed = pl.col(s.ABSENT_FRACTION).cast(pl.Float64)
        unparsed = pl.lit(value=False)
    else:
        raise _TypeProblem(s.ABSENT_FRACTION, "must be a number")
    value = pl.coalesce(parsed, absent_default)
    out_of_range = value.is_nan() | (value < 0) | (value > 1)
    present_but_absent = (category == s.PRESENT) & (value > 0)
    return _Plan(
        value,
        (
            _Check(s.ABSENT_FRACTION, "not a number", unparsed),
            _Check(s.ABSENT_FRACTION, "absent fraction must be between 0 and 1", out_of_range),
            _Check(
                s.ABSENT_FRACTION,
                "a present row cannot have an absent fraction above 0",
                present_but_absent,
            ),
        ),
    )


def _grade_plan(dtype: pl.DataType | None) -> _Plan:
    if dtype is None:
        return _Plan(pl.lit(None, dtype=pl.Int8))
    if isinstance(dtype, pl.String):
        parsed = pl.col(s.GRADE).str.strip_chars().cast(pl.Int64, strict=False)
        unparsed = ~_blank(s.GRADE) & parsed.is_null()
    elif dtype.is_integer():
        parsed = pl.col(s.GRADE).cast(pl.Int64)
        unparsed = pl.lit(value=False)
    else:
        raise _TypeProblem(s.GRADE, "must be a whole number")
    out_of_range = unparsed | parsed.is_not_null() & ~parsed.is_between(s.GRADE_MIN, s.GRADE_MAX)
    problem = f"grade must be a whole number from {s.GRADE_MIN} to {s.GRADE_MAX}"
    return _Plan(parsed.cast(pl.Int8, strict=False), (_Check(s.GRADE, problem, out_of_range),))


def _class_plan(dtype: pl.DataType | None) -> _Plan:
    if dtype is None:
        return _Plan(pl.lit(None, dtype=pl.String))
    typed = pl.col(s.CLASS_NAME).cast(pl.String).str.strip_chars()
    return _Plan(pl.when(typed != "").then(typed))


class _TypeProblem(Exception):
    def __init__(self, column: str, problem: str) -> None:
        super().__init__(problem)
        self.column = column
        self.problem = problem


def _plans(schema: pl.Schema) -> dict[str, _Plan]:
    def dtype(column: str) -> pl.DataType | None:
        return schema.get(column)

    category = pl.col(s.CATEGORY).cast(pl.String).str.strip_chars()
    return {
        s.PUPIL_ID: _text_plan(s.PUPIL_ID, dtype(s.PUPIL_ID), "pupil id"),
        s.SCHOOL_ID: _text_plan(s.SCHOOL_ID, dtype(s.SCHOOL_ID), "school id"),
        s.DATE: _date_plan(dtype(s.DATE)),
        s.CATEGORY: _category_plan(dtype(s.CATEGORY)),
        s.ABSENT_FRACTION: _fraction_plan(dtype(s.ABSENT_FRACTION), category),
        s.GRADE: _grade_plan(dtype(s.GRADE)),
        s.CLASS_NAME: _class_plan(dtype(s.CLASS_NAME)),
    }


LineOf = Callable[[int], int]
"""Maps a 0-based data record index to the number the user sees (a line or a row)."""


class _Source:
    """Reports problems at the right place of one input file."""

    def __init__(
        self, path: Path, header: list[str], line_of: LineOf, *, header_line: int | None
    ) -> None:
        self.path = path
        self.header = header
        self.line_of = line_of
        self.header_line = header_line

    def at(self, record: int | None, column: str | None, problem: str) -> BadInputError:
        """An error at a 0-based data record, or at the whole file when ``record`` is None."""
        line = None if record is None else self.line_of(record)
        return self.at_line(line, column, problem)

    def at_line(
        self, line: int | None, column: str | None, problem: str, *, hint: str | None = None
    ) -> BadInputError:
        number = self.header.index(column) + 1 if column in self.header else None
        return BadInputError(Location(str(self.path), line, number, column), problem, hint=hint)


def _validate(
    raw: pl.LazyFrame, schema: pl.Schema, source: _Source, *, unindexed: pl.LazyFrame
) -> pl.LazyFrame:
    """Check every cell, then duplicates and day totals; return the canonical lazy frame.

    ``raw`` carries the source's record index in ``_row``; ``unindexed`` is the same rows without.
    """
    missing = [c for c in s.REQUIRED_COLUMNS if c not in schema]
    if missing:
        raise source.at_line(source.header_line, None, f"missing required column '{missing[0]}'")
    try:
        plans = _plans(schema)
    except _TypeProblem as problem:
        raise source.at(None, problem.column, f"column {problem.problem}") from None

    checks = [check for plan in plans.values() for check in plan.checks]
    first_bad = raw.select(
        pl.len().alias("rows"),
        *(pl.col(_ROW).filter(check.bad).min().alias(str(i)) for i, check in enumerate(checks)),
    )
    n_rows, *found = _collect(first_bad, source).row(0)
    if n_rows == 0:
        raise source.at_line(None, None, "no data rows")
    failures = [(row, i) for i, row in enumerate(found) if row is not None]
    if failures:
        row, i = min(failures)
        raise source.at(row, checks[i].column, checks[i].problem)

    typed = [plan.typed.alias(name) for name, plan in plans.items()]
    repeated = _check_days(raw.select(pl.col(_ROW), *typed), source)
    if repeated:
        raw = raw.filter(~pl.col(_ROW).is_in(repeated))
    # Without repeated rows the row index is not needed, and dropping it keeps the scan parallel.
    return (raw if repeated else unindexed).select(typed)


def _check_days(typed: pl.LazyFrame, source: _Source) -> list[int]:
    """Refuse conflicting duplicates and over-full days; return the rows that repeat another.

    One pass groups by pupil-day; only the (normally few) days that repeat a category are
    looked at row by row, so a clean national file costs one aggregation.
    """
    day = [s.PUPIL_ID, s.DATE]
    suspicious = _collect(
        typed.group_by(day)
        .agg(
            pl.len().alias(_COUNT),
            pl.col(s.CATEGORY).n_unique().alias(_CATEGORIES),
            units_expr(pl.col(s.ABSENT_FRACTION)).sum().alias(_UNITS),
            pl.col(_ROW).min().alias(_FIRST),
        )
        .filter((pl.col(_COUNT) > pl.col(_CATEGORIES)) | (pl.col(_UNITS) > s.DAY_UNITS)),
        source,
    )
    repeating = suspicious.filter(pl.col(_COUNT) > pl.col(_CATEGORIES)).select(day)
    repeated: list[int] = []
    if not repeating.is_empty():
        rows = _collect(typed.join(repeating.lazy(), on=day, how="semi"), source)
        kept = _refuse_conflicts(rows, source)
        repeated = sorted(set(rows[_ROW]) - set(kept[_ROW]))
        log.warning("%s: ignored %d repeated row(s)", source.path, len(repeated))
        recounted = kept.group_by(day).agg(
            units_expr(pl.col(s.ABSENT_FRACTION)).sum().alias(_UNITS),
            pl.col(_ROW).min().alias(_FIRST),
        )
        suspicious = pl.concat(
            [suspicious.join(repeating, on=day, how="anti").select(recounted.columns), recounted]
        )
    over_full = suspicious.select(pl.col(_FIRST).filter(pl.col(_UNITS) > s.DAY_UNITS).min()).item()
    if over_full is not None:
        raise source.at(
            over_full,
            s.ABSENT_FRACTION,
            "absent fractions of one pupil-day add up to more than 1",
        )
    return repeated


def _refuse_conflicts(rows: pl.DataFrame, source: _Source) -> pl.DataFrame:
    """Of rows sharing pupil, date and category, keep the first; refuse any that differ."""
    key = [s.PUPIL_ID, s.DATE, s.CATEGORY]
    others = [c for c in rows.columns if c not in (*key, _ROW)]
    groups = rows.group_by(key).agg(
        pl.col(_ROW).bottom_k(2).max().alias(_SECOND),
        *(pl.col(c).n_unique().gt(1).alias(c) for c in others),
    )
    conflicts = groups.filter(pl.any_horizontal(others)).sort(_SECOND)
    if not conflicts.is_empty():
        first = conflicts.row(0, named=True)
        column = next(c for c in others if first[c])
        raise source.at(
            first[_SECOND],
            column,
            "differs from an earlier row for the same pupil, date and category",
        )
    return rows.sort(_ROW).unique(subset=key, keep="first", maintain_order=True)


def _collect(frame: pl.LazyFrame, source: _Source) -> pl.DataFrame:
    """Collect, translating polars' errors: their messages can quote cells."""
    try:
        return frame.collect(engine="streaming")
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise source.at(None, None, f"cannot read the data ({type(exc).__name__})") from None


def _csv_line_of(path: Path) -> LineOf:
    """Line numbers of records, honouring quoted fields that span lines (read only on error)."""

    def line_of(record: int) -> int:
        with path.open(newline="", encoding="utf-8-sig", errors="replace") as handle:
            reader = csv.reader(handle)
            start = 1
            for index, _ in enumerate(reader):
                if index == record + 1:  # record 0 follows the header
                    return start
                start = reader.line_num + 1
        return record + 2

    return line_of


def _first_ragged_line(path: Path) -> int | None:
    with path.open(newline="", encoding="utf-8-sig", errors="replace") as handle:
        reader = csv.reader(handle)
        width = None
        start = 1
        for fields in reader:
            if width is None:
                width = len(fields)
            elif len(fields) != width and fields:
                return start
            start = reader.line_num + 1
    return None


def _first_non_utf8_line(path: Path) -> int | None:
    with path.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            try:
                line.decode("utf-8")
            except UnicodeDecodeError:
                return number
    return None


def _read_header(path: Path, source: _Source) -> list[str]:
    """The header's column names, stripped; refuses an empty file and repeated names."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            header = next(csv.reader(handle), [])
    except UnicodeDecodeError:
        line = _first_non_utf8_line(path)
        raise source.at_line(line, None, "not UTF-8 text", hint=_UTF8_HINT) from None
    # Spreadsheets leave unnamed columns at the end; they are kept under names nothing uses.
    names = [name.strip() or f"_unnamed_{i}" for i, name in enumerate(header, start=1)]
    if not header or not any(name.strip() for name in header):
        raise source.at_line(1, None, "file is empty (no header)")
    source.header = names
    repeated = [name for name in names if names.count(name) > 1]
    if repeated:
        raise source.at_line(1, repeated[0], "the header repeats this column name")
    return names


_UTF8_HINT = "save or export the file as UTF-8"


def check_readable(path: Path) -> None:
    """Refuse (exit 66) a path that is missing, not a file, or unreadable."""
    if not path.exists():
        raise InputMissingError(f"{path}: no such file")
    if not path.is_file():
        raise InputMissingError(f"{path}: not a file")
    try:
        with path.open("rb") as handle:
            handle.read(1)
    except OSError as exc:
        raise InputMissingError(
            f"{path}: cannot read ({exc.strerror or type(exc).__name__})"
        ) from None


def read_csv(path: Path) -> pl.LazyFrame:
    """Read and validate a canonical CSV export.

    Blank lines (often left at the end by spreadsheets) are skipped. A row that ends early
    leaves its missing cells empty; a row with too many fields is refused.
    """
    check_readable(path)
    source = _Source(path, [], _csv_line_of(path), header_line=1)
    source.header = _read_header(path, source)
    try:
        raw = pl.read_csv(path, infer_schema=False, encoding="utf8")
    except (pl.exceptions.PolarsError, OSError) as exc:
        bad_bytes = _first_non_utf8_line(path)
        if bad_bytes is not None:
            raise source.at_line(bad_bytes, None, "not UTF-8 text", hint=_UTF8_HINT) from None
        ragged = _first_ragged_line(path)
        if ragged is not None:
            raise source.at_line(
                ragged, None, "row has a different number of fields than the header"
            ) from None
        raise source.at(None, None, f"not a readable CSV file ({type(exc).__name__})") from None
    raw.columns = source.header
    blank = pl.all_horizontal(_blank(c) for c in source.header)
    rows = raw.lazy().with_row_index(_ROW).filter(~blank)
    return _validate(rows, raw.schema, source, unindexed=raw.lazy().filter(~blank))


def read_parquet(path: Path) -> pl.LazyFrame:
    """Read and validate a canonical Parquet export lazily: only small aggregates are collected."""
    check_readable(path)
    source = _Source(path, [], lambda record: record + 1, header_line=None)
    try:
        scan = pl.scan_parquet(path)
        schema = scan.collect_schema()
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise source.at(None, None, f"not a readable Parquet file ({type(exc).__name__})") from None
    source.header = list(schema)
    return _validate(scan.with_row_index(_ROW), schema, source, unindexed=scan)
