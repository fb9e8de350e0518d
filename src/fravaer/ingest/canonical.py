"""Read exports from CSV and Parquet into the canonical frame (docs/data-format.md); validate.

CSV: any dialect of :mod:`fravaer.ingest.dialect` (comma, semicolon, tab or ``¤``; UTF-8 or
cp1252), Danish or canonical headers (:mod:`~fravaer.ingest.headers`), Danish or local category
codes (:mod:`~fravaer.ingest.codes`) and one of the date formats of
:mod:`~fravaer.ingest.dates`. Parquet: the canonical columns, either typed (string ids, ``date``
as Date, numeric fraction and grade) or as strings. Excel goes through the same steps
(:mod:`~fravaer.ingest.excel`).

Every cell is checked before anything else sees the frame. The first problem is reported with
file, line (CSV), row (Excel, Parquet), column number and column name as written in the file —
never the cell's value, which is children's data. Rows that repeat another row exactly are
dropped with a warning; rows that disagree about the same pupil, date and category are refused.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Final

import polars as pl

from fravaer import schema as s
from fravaer.classify import pupil_partition_expr
from fravaer.days import ROW_KEY, day_units_expr, first_conflict, over_full_days, over_full_expr
from fravaer.errors import BadInputError, Location
from fravaer.ingest import dialect as d
from fravaer.ingest.codes import Meaning, code_table, unknown_codes_problem
from fravaer.ingest.dates import (
    BY_STRFTIME,
    DATE_RANGE_PROBLEM,
    EXCEL,
    ISO,
    DateFormat,
    date_problem,
    excel_date_expr,
    out_of_range_expr,
    working_format,
)
from fravaer.ingest.detected import Detected
from fravaer.ingest.dictionary import categorical_columns, evaluate, ordinal
from fravaer.ingest.headers import (
    LESSON,
    HeaderMap,
    column_label,
    map_headers,
    missing_column_hint,
    refuse_hidden_names,
)
from fravaer.ingest.regular import read_regular
from fravaer.ingest.source import SourceOptions
from fravaer.ingest.text import (
    FORMULA_PROBLEM,
    HIDDEN_PROBLEM,
    LOOKALIKE_PROBLEM,
    formula_start_expr,
    has_hidden_character,
    hidden_character_expr,
    lookalike_expr,
    pupil_id_expr,
)

log = logging.getLogger("fravaer")

ROW_INDEX: Final = "_row"
"""A row's 0-based index while validating: the first bad row of each check is named by it."""
LINE: Final = "_line"
"""With ``keep_lines``: each row's line (CSV), spreadsheet row (Excel) or 1-based row (Parquet)."""
_COUNT = "_count"
_SECOND = "_second"
_FIRST = "_first"
_UNITS = "_units"
_CATEGORIES = "_categories"
_PUPIL = "_pupil"
_POSITION = "_position"
ISO_DATE = ISO

Explain = Callable[[int], BadInputError]
"""Builds the error for a check that failed first at a 0-based record."""


@dataclass(frozen=True)
class _Check:
    column: str
    problem: str
    bad: pl.Expr
    explain: Explain | None = None


@dataclass(frozen=True)
class _Plan:
    """How one source column becomes a canonical column, and what makes a cell bad.

    A text column is stripped of surrounding spaces; when no cell has any (``padded`` is
    false on every row), ``unpadded`` gives the same column without paying the strip again in
    every later pass over the data.
    """

    typed: pl.Expr
    checks: tuple[_Check, ...] = ()
    unpadded: pl.Expr | None = None
    padded: pl.Expr | None = None
    by_values: bool = False
    """Whether the checks and ``padded`` depend on the column's own text alone (a text column):
    a lazy source computes them on its distinct values."""


def _blank(column: str) -> pl.Expr:
    return pl.col(column).cast(pl.String).str.strip_chars().fill_null("") == ""


def _hostile_checks(column: str, typed: pl.Expr) -> tuple[_Check, ...]:
    """A value that a spreadsheet would run, or that hides characters, is refused
    (:mod:`fravaer.ingest.text`). Checked on the value as every output gets it, with the
    surrounding white space stripped: ``"  =1+1"`` is refused as ``=1+1``, while a tab or line
    break around ``0000123`` is stripped as any space is and never reaches an output."""
    return (
        _Check(column, FORMULA_PROBLEM, formula_start_expr(typed)),
        _Check(column, HIDDEN_PROBLEM, hidden_character_expr(typed)),
        _Check(column, LOOKALIKE_PROBLEM, lookalike_expr(typed)),
    )


def _text_plan(column: str, dtype: pl.DataType | None, what: str) -> _Plan:
    """An id column: stripped, and for pupils a CPR number written with a space normalised
    (:func:`~fravaer.ingest.text.pupil_id_expr`); ``padded`` says a value changed."""
    if dtype is not None and not isinstance(dtype, pl.String | pl.Categorical | pl.Enum):
        raise _TypeProblem(column, "must be text (ids are strings: leading zeros matter)")
    text = pl.col(column).cast(pl.String)
    stripped = text.str.strip_chars()
    typed = pupil_id_expr(stripped) if column == s.PUPIL_ID else stripped
    check = _Check(column, f"missing {what}", _blank(column))
    checks = (check, *_hostile_checks(column, stripped))
    return _Plan(typed, checks, unpadded=text, padded=text != typed, by_values=True)


@dataclass(frozen=True)
class _DateRule:
    """How text dates are read: the working format, Excel date cells, and the diagnosis."""

    form: DateFormat
    excel: bool = False
    explain: Explain | None = None


def _date_plan(dtype: pl.DataType | None, rule: _DateRule) -> _Plan:
    if isinstance(dtype, pl.Date):
        day = pl.col(s.DATE)
        return _Plan(
            day,
            (
                _Check(s.DATE, "missing date", day.is_null()),
                _Check(s.DATE, DATE_RANGE_PROBLEM, out_of_range_expr(day)),
            ),
        )
    if dtype is not None and not isinstance(dtype, pl.String):
        raise _TypeProblem(s.DATE, "must be a date or ISO text YYYY-MM-DD")
    text = pl.col(s.DATE).str.strip_chars()
    # strptime alone is lenient (it takes 1.3.2024 for %d.%m.%Y); the check adds the exact
    # written shape, and once every cell passes it, the lenient parse is the strict one.
    parsed = text.str.strptime(pl.Date, rule.form.strftime, strict=False)
    not_a_date = ~text.str.contains(rule.form.pattern) | parsed.is_null()
    if rule.excel:
        excel = excel_date_expr(text)
        parsed = pl.coalesce(excel, parsed)
        not_a_date = excel.is_null() & not_a_date
    return _Plan(
        parsed,
        (
            _Check(s.DATE, "missing date", _blank(s.DATE)),
            _Check(s.DATE, rule.form.problem(), ~_blank(s.DATE) & not_a_date, rule.explain),
            _Check(s.DATE, DATE_RANGE_PROBLEM, out_of_range_expr(parsed)),
        ),
    )


@dataclass(frozen=True)
class _CodeRule:
    """How the category column's codes are read: cell text as written -> meaning.

    Keyed by the raw cell (an empty cell as ``""``), so that mapping costs one lookup per row
    and no string is copied; every spelling in the file has its own key.
    """

    meanings: Mapping[str, Meaning]
    explain: Explain | None = None


def _category_plan(dtype: pl.DataType | None, codes: _CodeRule | None) -> tuple[_Plan, pl.Expr]:
    """The category plan and the category expression (for the fraction's default)."""
    if dtype is not None and not isinstance(dtype, pl.String | pl.Categorical | pl.Enum):
        raise _TypeProblem(s.CATEGORY, "must be text")
    problem = f"unknown category (expected one of {', '.join(s.CATEGORIES)})"
    if isinstance(dtype, pl.Enum) and set(dtype.categories) <= set(s.CATEGORIES):
        # A typed export (our own Parquet): every value is a canonical name already, and a
        # cast between enums maps categories, not rows. Measured on 19 M rows: the text path
        # cost 2 s of the 2.4 s that reading every typed column takes.
        category = pl.col(s.CATEGORY).cast(s.CATEGORY_DTYPE)
        return _Plan(category, (_Check(s.CATEGORY, problem, category.is_null()),)), category
    if codes is None:
        text = pl.col(s.CATEGORY).cast(pl.String).str.strip_chars()
        unknown = ~text.is_in(s.CATEGORIES) | text.is_null()
        return _Plan(text.cast(s.CATEGORY_DTYPE), (_Check(s.CATEGORY, problem, unknown),)), text
    if all(_means_itself(raw, meaning) for raw, meaning in codes.meanings.items()):
        # The canonical format: the names themselves (and blank cells, present); a cast is the
        # cheapest map, and no cell is unknown, so its nulls are the blank cells.
        category = pl.col(s.CATEGORY).cast(s.CATEGORY_DTYPE, strict=False)
        if any(raw.strip() == "" for raw in codes.meanings):
            # A typed literal: a plain string would make the column String, not the enum.
            category = category.fill_null(pl.lit(s.PRESENT, dtype=s.CATEGORY_DTYPE))
    else:
        category = (
            pl.col(s.CATEGORY)
            .fill_null("")
            .replace_strict(
                list(codes.meanings),
                [meaning.category for meaning in codes.meanings.values()],
                default=None,
                return_dtype=s.CATEGORY_DTYPE,
            )
        )
    check = _Check(s.CATEGORY, problem, category.is_null(), codes.explain)
    return _Plan(category, (check,)), category


def _means_itself(raw: str, meaning: Meaning) -> bool:
    """Whether a cell is a canonical name (or blank, present) with its canonical meaning."""
    name = raw if raw in s.CATEGORIES else s.PRESENT if raw.strip() == "" else None
    return meaning == Meaning(name) if name is not None else False


def _code_fraction(codes: _CodeRule | None) -> pl.Expr | None:
    """The fraction a local code gives its rows, or None when no code gives one."""
    if codes is None:
        return None
    given = {code: m.fraction for code, m in codes.meanings.items() if m.fraction is not None}
    if not given:
        return None
    return (
        pl.col(s.CATEGORY)
        .fill_null("")
        .replace_strict(list(given), list(given.values()), default=None, return_dtype=pl.Float64)
    )


def _fraction_plan(
    dtype: pl.DataType | None,
    category: pl.Expr,
    *,
    decimal_comma: bool = False,
    code_fraction: pl.Expr | None = None,
) -> _Plan:
    absent_default = pl.when(category == s.PRESENT).then(0.0).otherwise(1.0)
    defaults = [absent_default] if code_fraction is None else [code_fraction, absent_default]
    if dtype is None:
        return _Plan(pl.coalesce(defaults))
    if isinstance(dtype, pl.String):
        raw = pl.col(s.ABSENT_FRACTION).str.strip_chars()
        if decimal_comma:
            raw = raw.str.replace(",", ".", literal=True)
        parsed = raw.cast(pl.Float64, strict=False)
        unparsed = ~_blank(s.ABSENT_FRACTION) & parsed.is_null()
    elif dtype.is_numeric():
        parsed = pl.col(s.ABSENT_FRACTION).cast(pl.Float64)
        unparsed = pl.lit(value=False)
    else:
        raise _TypeProblem(s.ABSENT_FRACTION, "must be a number")
    value = pl.coalesce(parsed, *defaults)
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
    text = pl.col(s.CLASS_NAME).cast(pl.String)
    typed = text.str.strip_chars()
    return _Plan(
        pl.when(typed != "").then(typed),
        _hostile_checks(s.CLASS_NAME, typed),
        unpadded=pl.when(text != "").then(text),
        padded=text != typed,
        by_values=True,
    )


class _TypeProblem(Exception):
    def __init__(self, column: str, problem: str) -> None:
        super().__init__(problem)
        self.column = column
        self.problem = problem


def _plans(
    schema: pl.Schema,
    *,
    dates: _DateRule | None = None,
    codes: _CodeRule | None = None,
    decimal_comma: bool = False,
) -> dict[str, _Plan]:
    def dtype(column: str) -> pl.DataType | None:
        return schema.get(column)

    category_plan, category = _category_plan(dtype(s.CATEGORY), codes)
    return {
        s.PUPIL_ID: _text_plan(s.PUPIL_ID, dtype(s.PUPIL_ID), "pupil id"),
        s.SCHOOL_ID: _text_plan(s.SCHOOL_ID, dtype(s.SCHOOL_ID), "school id"),
        s.DATE: _date_plan(dtype(s.DATE), dates or _DateRule(BY_STRFTIME[ISO])),
        s.CATEGORY: category_plan,
        s.ABSENT_FRACTION: _fraction_plan(
            dtype(s.ABSENT_FRACTION),
            category,
            decimal_comma=decimal_comma,
            code_fraction=_code_fraction(codes),
        ),
        s.GRADE: _grade_plan(dtype(s.GRADE)),
        s.CLASS_NAME: _class_plan(dtype(s.CLASS_NAME)),
    }


LineOf = Callable[[int], int]
"""Maps a 0-based data record index to the number the user sees (a line or a row)."""


class Source:
    """Reports problems at the right place of one input file, under the file's own names.

    ``header`` is the header as written; ``positions`` maps each canonical column read to its
    0-based position there, so that an error names the column as the user's file does.
    """

    def __init__(
        self,
        path: Path,
        header: list[str],
        line_of: LineOf,
        *,
        header_line: int | None,
        positions: Mapping[str, int] | None = None,
    ) -> None:
        self.path = path
        self.header = header
        self.line_of = line_of
        self.header_line = header_line
        self.positions = dict(positions or {})

    def at(
        self, record: int | None, column: str | None, problem: str, *, hint: str | None = None
    ) -> BadInputError:
        """An error at a 0-based data record, or at the whole file when ``record`` is None."""
        line = None if record is None else self.line_of(record)
        return self.at_line(line, column, problem, hint=hint)

    def at_line(
        self, line: int | None, column: str | None, problem: str, *, hint: str | None = None
    ) -> BadInputError:
        number = name = None
        if column is not None and column in self.positions:
            number = self.positions[column] + 1
            name = self.header[self.positions[column]]
        elif column is not None:
            name = column
            number = self.header.index(column) + 1 if column in self.header else None
        return BadInputError(Location(str(self.path), line, number, name), problem, hint=hint)


@dataclass(frozen=True)
class Validated:
    """The canonical frame, its number of rows, and the number of records read (not blank)."""

    frame: pl.LazyFrame
    rows: int
    read: int


def validate(
    raw: pl.LazyFrame,
    schema: pl.Schema,
    source: Source,
    *,
    unindexed: pl.LazyFrame,
    plans: dict[str, _Plan] | None = None,
    lines: pl.Expr | None = None,
    day_checks: bool = True,
    decode_all: bool = False,
) -> Validated:
    """Check every cell, then duplicates and day totals; the canonical frame and its row counts.

    ``raw`` carries the source's record index in ``_row``; ``unindexed`` is the same rows without.

    ``plans`` say how each column is read (default: the canonical format's rules); ``lines``,
    if given, is kept as the column :data:`LINE` (each row's line or row number, computed from
    ``raw``); ``day_checks=False`` keeps repeated, conflicting and over-full pupil-days. A
    ``lesson`` column (lesson-level exports) is kept as text and turns the day checks off.

    ``decode_all`` (Parquet, which every later query reads again)
    also decodes the columns that have no check, so that a damaged page is refused here (exit
    65) instead of failing a later query as an internal error.
    """
    _require_columns(schema, source)
    if plans is None:
        try:
            plans = _plans(schema)
        except _TypeProblem as problem:
            raise source.at(None, problem.column, f"column {problem.problem}") from None

    checks = [check for plan in plans.values() for check in plan.checks]
    bad = [check.bad for check in checks]
    # Whether any cell fails is one parallel pass without a row index; where the first bad
    # cell is, is looked up only for the checks that failed. ``decode_all`` also decodes the
    # columns that have no check, so a damaged file fails here rather than in a later query.
    padding = {name: plan.padded for name, plan in plans.items() if plan.padded is not None}
    unchecked = [
        plan.typed.null_count().alias(f"_decoded_{name}")
        for name, plan in plans.items()
        if decode_all and not plan.checks and name in schema
    ]
    # A text column's checks (blank, formula, hidden characters) and padding depend on its text
    # alone: they are computed on its distinct values, gathered in the same pass, which costs
    # less than computing them row by row (docs/performance.md).
    by_values = [name for name, plan in plans.items() if plan.by_values and name in schema]
    summary = unindexed.select(
        pl.len().alias("rows"),
        *(
            flag.any().alias(str(i))
            for i, flag in enumerate(bad)
            if checks[i].column not in by_values
        ),
        *(
            flag.any().alias(f"padded {name}")
            for name, flag in padding.items()
            if name not in by_values
        ),
        *(pl.col(name).unique().implode().alias(f"values {name}") for name in by_values),
        *unchecked,
    )
    found_summary = _collect(summary, source)
    values = {name: found_summary[f"values {name}"].explode().to_frame(name) for name in by_values}

    def hit(flag: pl.Expr, column: str, alias: str) -> bool:
        if column in values:
            return bool(values[column].select(flag.any()).item())
        return bool(found_summary[alias].item())

    n_rows = found_summary["rows"].item()
    hits = [hit(flag, checks[i].column, str(i)) for i, flag in enumerate(bad)]
    padded = {name for name, flag in padding.items() if hit(flag, name, f"padded {name}")}
    if n_rows == 0:
        raise source.at_line(None, None, "no data rows")
    failing = [i for i, hit in enumerate(hits) if hit]
    if failing:
        first_bad = raw.select(
            pl.col(ROW_INDEX).filter(bad[i]).min().alias(str(i)) for i in failing
        )
        found = _collect(first_bad, source).row(0)
        _refuse_first_bad(list(zip(found, failing, strict=True)), checks, source)

    typed = [
        (plan.typed if plan.unpadded is None or name in padded else plan.unpadded).alias(name)
        for name, plan in plans.items()
    ]
    # A lesson-level export repeats a pupil's day once per lesson: its day checks are made after
    # the lessons are added up (shapes.from_lessons), and the lesson is passed on as text.
    lesson = LESSON in schema
    if lesson:
        day_checks = False
    repeated = (
        _check_shared_days(
            raw.select(pl.col(ROW_INDEX), *typed),
            unindexed.select(typed),
            unindexed.select(typed).select(pl.col(s.PUPIL_ID).alias(_PUPIL), s.DATE),
            source,
            n_rows=n_rows,
        )
        if day_checks
        else []
    )
    if repeated:
        raw = raw.filter(~pl.col(ROW_INDEX).is_in(repeated))
    if lesson:
        typed.append(pl.col(LESSON).cast(pl.String).str.strip_chars().alias(LESSON))
    if lines is not None:
        selected = raw.select(*typed, lines.cast(pl.Int64).alias(LINE))
        return Validated(selected, n_rows - len(repeated), n_rows)
    # Without repeated rows the row index is not needed, and dropping it keeps the scan parallel.
    selected = (raw if repeated else unindexed).select(typed)
    return Validated(selected, n_rows - len(repeated), n_rows)


def _refuse_first_bad(
    found: list[tuple[int | None, int]], checks: list[_Check], source: Source
) -> None:
    """Refuse the earliest bad cell: ``found`` pairs each check's first bad record (None when
    it has none) with the check's index; ties go to the earlier check."""
    present = [(row, i) for row, i in found if row is not None]
    if not present:
        return
    row, i = min(present)
    check = checks[i]
    if check.explain is not None:
        raise check.explain(row)
    raise source.at(row, check.column, check.problem)


def _validate_in_memory(
    rows: pl.DataFrame,
    plans: dict[str, _Plan],
    source: Source,
    *,
    keep_lines: bool,
    day_checks: bool,
) -> Validated:
    """Validation of a source held in memory (CSV, Excel): the checks, then the day checks;
    the typed frame is returned lazily.

    ``rows`` are the source's non-blank records with their index in ``_row``, every cell as
    text or as a categorical of its text. Reading text is the expensive part of such a source
    (dates and numbers parsed, spaces stripped, codes mapped); on categorical columns each
    distinct text is read once (:func:`~fravaer.ingest.dictionary.evaluate`), and the typed
    frame returned is a look-up over ``rows`` that later queries compute as they read it.
    """
    if rows.is_empty():
        raise source.at_line(None, None, "no data rows")
    checks = [check for plan in plans.values() for check in plan.checks]
    flags = evaluate(
        rows, {ROW_INDEX: pl.col(ROW_INDEX)} | {str(i): c.bad for i, c in enumerate(checks)}
    )
    first_bad = flags.select(
        pl.col(ROW_INDEX).filter(pl.col(str(i))).min().alias(str(i)) for i in range(len(checks))
    )
    found = _collect(first_bad, source).row(0)
    _refuse_first_bad([(row, i) for i, row in enumerate(found)], checks, source)

    columns = {ROW_INDEX: pl.col(ROW_INDEX)} | {name: plan.typed for name, plan in plans.items()}
    if LESSON in rows.columns:
        columns[LESSON] = pl.col(LESSON).cast(pl.String).str.strip_chars()
    if keep_lines:
        columns[LINE] = pl.col(LINE).cast(pl.Int64)
    typed = evaluate(rows, columns)
    repeated = []
    if day_checks and LESSON not in rows.columns:
        # The pupils as numbers in the ids' order: comparing them is cheaper than comparing text.
        pupils = ordinal(rows, plans[s.PUPIL_ID].typed)
        days = evaluate(rows, {s.DATE: plans[s.DATE].typed}).with_columns(
            pl.lit(pupils).alias(_PUPIL)
        )
        day_columns = typed.select(ROW_INDEX, *plans)
        repeated = _check_shared_days(
            day_columns, day_columns.drop(ROW_INDEX), days, source, n_rows=rows.height
        )
    if repeated:
        typed = typed.filter(~pl.col(ROW_INDEX).is_in(repeated))
    return Validated(typed.drop(ROW_INDEX), rows.height - len(repeated), rows.height)


def _check_shared_days(
    typed: pl.LazyFrame,
    unindexed: pl.LazyFrame,
    days: pl.LazyFrame,
    source: Source,
    *,
    n_rows: int,
) -> list[int]:
    """:func:`_check_days` on the days with several rows alone when the rows of each pupil-day
    are known to be next to each other (:func:`_rows_of_shared_days`), on every day otherwise.

    ``typed`` carries the record in ``_row``, ``unindexed`` is the same rows without it, and
    ``days`` has each row's pupil (``_pupil``: the id, or a number in the same order) and date.
    """
    shared = _rows_of_shared_days(days, source)
    if shared is None:
        return _check_days(typed, unindexed, source, n_rows=n_rows)
    if shared.is_empty():
        return []
    rows = typed.with_row_index(_POSITION).filter(pl.col(_POSITION).is_in(shared.implode()))
    candidates = _collect(rows.drop(_POSITION), source)
    return _check_days(
        candidates.lazy(), candidates.lazy().drop(ROW_INDEX), source, n_rows=candidates.height
    )


def _rows_of_shared_days(days: pl.LazyFrame, source: Source) -> pl.Series | None:
    """The positions of the rows of pupil-days that have more than one row, or None when that
    is not cheap.

    ``days`` has each row's date and pupil (``_pupil``, in an order of pupils). Exports list
    each pupil's days together and in date order: a *run* is rows of one pupil next to each
    other, with dates that never go back. When each pupil's runs cover date ranges apart (one
    run per pupil, the usual case; or a pupil who changed school, listed under each school),
    the rows of one pupil-day are next to each other, and a day with several rows is found by
    comparing each row with the one before it. Only those days can repeat a category or add up
    to more than a whole day (a single row is at most a whole day, checked per cell), so the
    aggregation over every pupil-day is needed for them alone. Measured on 20 M rows: 0.15 s
    instead of 0.9 s.
    """
    pupil, day = pl.col(_PUPIL), pl.col(s.DATE)
    same_pupil = (pupil == pupil.shift(1)).fill_null(value=False)
    same_day = same_pupil & (day == day.shift(1)).fill_null(value=False)
    runs, pupils, dates_in_order, pupils_in_order, shared = _collect(
        days.select(
            (~same_pupil).sum().alias("runs"),
            pupil.n_unique().alias("pupils"),
            (~same_pupil | (day >= day.shift(1))).all().alias("dates_in_order"),
            (pupil >= pupil.shift(1)).fill_null(value=True).all().alias("pupils_in_order"),
            same_day.any().alias("shared"),
        ),
        source,
    ).row(0)
    if not dates_in_order:
        return None
    if not pupils_in_order and runs != pupils and not _runs_apart(days, source):
        return None
    if not shared:
        return pl.Series(_POSITION, [], dtype=pl.UInt32)
    in_shared_day = same_day | same_day.shift(-1).fill_null(value=False)
    positions = days.with_row_index(_POSITION).filter(in_shared_day).select(_POSITION)
    return _collect(positions, source).to_series()


def _runs_apart(days: pl.LazyFrame, source: Source) -> bool:
    """Whether the runs of each pupil (rows of the pupil next to each other, dates in order)
    cover date ranges that do not meet: then no pupil-day is in two runs.

    A run's range is its first and last row's dates; the runs are few (one per pupil and
    school for an export listed school by school), so they are sorted and compared in memory.
    """
    pupil = pl.col(_PUPIL)
    starts = days.filter((pupil != pupil.shift(1)).fill_null(value=True))
    ends = days.filter((pupil != pupil.shift(-1)).fill_null(value=True))
    first, last = (_collect(rows.select(_PUPIL, s.DATE), source) for rows in (starts, ends))
    ranges = pl.concat(
        [first.rename({s.DATE: _FIRST}), last.select(pl.col(s.DATE).alias(_SECOND))],
        how="horizontal",
    ).sort(_PUPIL, _FIRST)
    apart = (pupil != pupil.shift(1)) | (pl.col(_SECOND).shift(1) < pl.col(_FIRST))
    return bool(ranges.select(apart.fill_null(value=True).all()).item())


def _require_columns(schema: pl.Schema | list[str], source: Source, *, hint: bool = False) -> None:
    missing = [c for c in s.REQUIRED_COLUMNS if c not in schema]
    if missing:
        advice = missing_column_hint(missing[0]) if hint else None
        raise source.at_line(
            source.header_line, None, f"missing required column '{missing[0]}'", hint=advice
        )


DAY_CHECK_ROWS = 30_000_000
"""Rows per pass of the pupil-day check; a national year (100 M rows) takes four passes."""


def _check_days(
    typed: pl.LazyFrame, unindexed: pl.LazyFrame, source: Source, *, n_rows: int
) -> list[int]:
    """Refuse conflicting duplicates and over-full days; return the rows that repeat another.

    One pass counts rows per category and absence per pupil-day, without a row index; only the
    (normally no) days that repeat a category or hold more than a whole day of absence are then
    read row by row, so a clean national file costs one plain aggregation. ``typed`` carries
    the record index in ``_row``; ``unindexed`` is the same rows without it.
    """
    day = [s.PUPIL_ID, s.DATE]
    # Rows per category of a pupil-day, counted in one sum: category i adds 2^(16 i), so each
    # 16-bit field of the sum is one category's count (a day has far fewer than 65,536 rows).
    field = {c: 2 ** (16 * i) for i, c in enumerate(s.CATEGORIES)}
    tally: pl.Expr = pl.lit(0, dtype=pl.UInt64)
    for category, weight in field.items():
        tally = (
            pl.when(pl.col(s.CATEGORY) == category).then(pl.lit(weight, pl.UInt64)).otherwise(tally)
        )
    counts = [(pl.col(_CATEGORIES) // weight) % 2**16 for weight in field.values()]

    def suspicious(rows: pl.LazyFrame) -> pl.DataFrame:
        return _collect(
            rows.group_by(day)
            .agg(
                pl.len().alias(_COUNT),
                tally.sum().alias(_CATEGORIES),
                day_units_expr().alias(_UNITS),
            )
            .filter(
                (pl.col(_COUNT) > 1) & pl.any_horizontal(count > 1 for count in counts)
                | over_full_expr(pl.col(_UNITS))
            )
            .select(day),
            source,
        )

    # The aggregation holds one entry per pupil-day: a national year is split into buckets of
    # pupils (each pass reads the rows again, but holds a part of the days).
    parts = max(1, -(-n_rows // DAY_CHECK_ROWS))
    found = pl.concat(
        [suspicious(unindexed.filter(pupil_partition_expr(k, parts))) for k in range(1, parts + 1)]
        if parts > 1
        else [suspicious(unindexed)]
    )
    rows = _collect(typed.join(found.lazy(), on=day, how="semi"), source)
    if rows.is_empty():
        return []
    repeating = (
        rows.group_by(day)
        .agg(pl.len().alias(_COUNT), pl.col(s.CATEGORY).n_unique().alias(_CATEGORIES))
        .filter(pl.col(_COUNT) > pl.col(_CATEGORIES))
    )
    repeated: list[int] = []
    kept = rows
    if not repeating.is_empty():
        repeats = rows.join(repeating, on=day, how="semi")
        kept_repeats = _refuse_conflicts(repeats, source)
        repeated = sorted(set(repeats[ROW_INDEX]) - set(kept_repeats[ROW_INDEX]))
        log.warning("%s: ignored %d repeated row(s)", source.path, len(repeated))
        kept = rows.filter(~pl.col(ROW_INDEX).is_in(repeated))
    over_full = (
        over_full_days(kept.lazy(), order=ROW_INDEX)
        .select(pl.col(ROW_INDEX).min())
        .collect()
        .item()
    )
    if over_full is not None:
        raise source.at(
            over_full,
            s.ABSENT_FRACTION,
            "absent fractions of one pupil-day add up to more than 1",
        )
    return repeated


def _refuse_conflicts(rows: pl.DataFrame, source: Source) -> pl.DataFrame:
    """Of rows sharing pupil, date and category, keep the first; refuse any that differ."""
    key = [s.PUPIL_ID, s.DATE, s.CATEGORY]
    conflict = first_conflict(
        rows, ROW_KEY, [c for c in rows.columns if c not in (*ROW_KEY, ROW_INDEX)], row=ROW_INDEX
    )
    if conflict is not None:
        raise source.at(
            *conflict, "differs from an earlier row for the same pupil, date and category"
        )
    return rows.sort(ROW_INDEX).unique(subset=key, keep="first", maintain_order=True)


def _collect(frame: pl.LazyFrame, source: Source) -> pl.DataFrame:
    """Collect, translating polars' errors: their messages can quote cells.

    A panic while the file's cells are first read is a damaged file (a Parquet page that does
    not decode), not a bug of ours: it is refused like any unreadable file.
    """
    try:
        return frame.collect(engine="streaming")
    except (pl.exceptions.PolarsError, pl.exceptions.PanicException, OSError) as exc:
        raise source.at(None, None, f"cannot read the data ({type(exc).__name__})") from None


# -- text sources (CSV, Excel): headers, codes and dates, then validation --------------------------


@dataclass(frozen=True)
class Table:
    """A source's rows as text under canonical column names, before validation.

    ``frame`` holds the mapped columns only (the canonical ones and ``lesson``), every cell as
    text or as a categorical of its text (CSV: :mod:`~fravaer.ingest.dictionary`), blank lines
    included so that record indexes match the source's lines; the other columns were dropped
    on reading. ``detected`` holds what reading found so far.
    """

    frame: pl.DataFrame
    source: Source
    headers: HeaderMap
    detected: Detected
    decimal_comma: bool = False
    excel_dates: bool = False
    lines: pl.Series | None = None
    """Each record's line (CSV) or row (Excel) number, when asked for with ``keep_lines``."""


def finish(
    table: Table, options: SourceOptions, *, keep_lines: bool = False, day_checks: bool = True
) -> tuple[pl.LazyFrame, Detected]:
    """Map codes and dates, check every cell; the canonical frame and what was detected.

    ``keep_lines`` adds :data:`LINE` (the table must carry ``lines``); ``day_checks=False``
    keeps repeated, conflicting and over-full pupil-days (for ``fravaer check``).
    """
    source = table.source
    # Each distinct text is read once (dictionary.py); a table read as text is made categorical.
    text = [name for name, dtype in table.frame.schema.items() if dtype == pl.String]
    types = dict(zip(text, categorical_columns(len(text)), strict=True))
    frame = table.frame.with_columns(pl.col(name).cast(types[name]) for name in text)
    _require_columns(frame.columns, source, hint=True)
    blanks = _collect(evaluate(frame, {c: _blank(c) for c in frame.columns}), source)
    rows = frame.with_row_index(ROW_INDEX)
    if keep_lines:
        if table.lines is None:
            raise ValueError("keep_lines needs a table read with its line numbers")
        rows = rows.with_columns(table.lines.alias(LINE))
    blank = blanks.select(pl.all_horizontal(pl.all())).to_series()
    if blank.any():
        rows = rows.filter(~blank)

    codes, counts = _code_rule(frame.group_by(s.CATEGORY).len(), source, options)
    dates, date_format = _date_rule(frame, rows.lazy(), source, options, excel=table.excel_dates)
    # Text columns are as the plans for text sources expect, whatever their polars type.
    schema = pl.Schema(dict.fromkeys(frame.columns, pl.String))
    plans = _plans(schema, dates=dates, codes=codes, decimal_comma=table.decimal_comma)
    validated = _validate_in_memory(
        rows, plans, source, keep_lines=keep_lines, day_checks=day_checks
    )
    detected = replace(
        table.detected,
        date_format=date_format,
        columns=table.headers.original,
        dropped=table.headers.dropped,
        header=table.headers.header,
        codes=_code_counts(counts, codes, options, blank_lines=frame.height - validated.read),
        rows=validated.rows,
    )
    return validated.frame, detected


def _code_counts(
    counts: dict[str, int], codes: _CodeRule, options: SourceOptions, *, blank_lines: int
) -> dict[str, tuple[str, int]]:
    """Code as written -> (category, rows), blank lines not counted."""
    table = code_table(options.codes)
    out: dict[str, tuple[str, int]] = {}
    for code, n in counts.items():
        rows = n - blank_lines if code == "" else n
        meaning = table.lookup(code)
        if rows > 0 and meaning is not None:
            out[code] = (meaning.category, rows)
    return out


def _code_rule(
    found: pl.DataFrame, source: Source, options: SourceOptions
) -> tuple[_CodeRule, dict[str, int]]:
    """The meaning of every code in the file, and how many rows have each.

    ``found`` is each category cell as written with its number of records (one aggregation).
    Counts are by code as written, stripped (``""`` for blank), over every record: blank lines
    are counted as blank codes here and taken off by the caller.
    """
    table = code_table(options.codes)
    meanings: dict[str, Meaning] = {}
    known: dict[str, int] = {}
    unknown: dict[str, int] = {}
    for cell, n in found.iter_rows():
        raw = cell or ""  # the plans read an empty cell as ""
        code = raw.strip()
        # A code with a control or invisible character is unknown (and, not shaped like a
        # code, never shown): folding would otherwise read it and `inspect` echo it.
        meaning = None if has_hidden_character(raw) else table.lookup(code)
        if meaning is None:
            unknown[code] = unknown.get(code, 0) + n
        else:
            meanings[raw] = meaning
            known[code] = known.get(code, 0) + n

    def explain(record: int) -> BadInputError:
        problem, hint = unknown_codes_problem(unknown)
        return source.at(record, s.CATEGORY, problem, hint=hint)

    counts = dict(sorted(known.items(), key=lambda item: (-item[1], item[0])))
    return _CodeRule(meanings, explain), counts


def _date_rule(
    frame: pl.DataFrame,
    indexed: pl.LazyFrame,
    source: Source,
    options: SourceOptions,
    *,
    excel: bool,
) -> tuple[_DateRule, str | None]:
    """The working date format, the diagnosis if it fails, and the format to report."""
    if s.DATE not in frame.columns:
        return _DateRule(BY_STRFTIME[ISO]), None
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
            _collect(cells, source),
            row=ROW_INDEX,
            column=s.DATE,
            forced=options.date_format,
            line_of=source.line_of,
        )
        if found is None:
            return source.at(record, s.DATE, form.problem())
        return source.at(found.record, s.DATE, found.problem, hint=found.hint)

    return _DateRule(form, excel=excel, explain=explain), reported


# -- CSV -------------------------------------------------------------------------------------------


def check_readable(path: Path) -> None:
    """Refuse (exit 66) a path that is missing, not a regular file (a FIFO: at once, without
    waiting on it), or unreadable: the rule of every file fravaer reads (``ingest.regular``)."""
    read_regular(path, what="file", limit=0, missing="no such file", not_regular="not a file")


_DEFAULT_OPTIONS = SourceOptions()


def read_csv_table(
    path: Path, options: SourceOptions = _DEFAULT_OPTIONS, *, keep_lines: bool = False
) -> Table:
    """Read a CSV export of any dialect into a :class:`Table`: mapped columns, categoricals of
    their text.

    The dialect is detected (or taken from ``options``), the file read by polars (transcoded to
    UTF-8 in memory first when it is not UTF-8 or is ``¤``-separated), and the header mapped.
    ``keep_lines`` also gives each record's line, counting line breaks inside quoted fields.
    """
    check_readable(path)
    dialect = d.sniff(path, options)
    refuse_wide_header(path, d.header_fields(path, dialect))
    frame, dialect, placeholder = _read_text(path, dialect, options)
    written = d.read_header(path, dialect)
    header = [name.strip() for name in written]
    where = Source(path, header, d.line_of(path, dialect), header_line=1)
    if frame.width != len(header):
        raise where.at(None, None, "not a readable CSV file (header)")
    if _may_be_padded(frame):
        ragged = d.first_ragged_line(path, dialect)
        if ragged is not None:
            raise BadInputError(
                Location(str(path), ragged), "row has a different number of fields than the header"
            )
    headers = map_headers(header, columns=options.columns, file=str(path), line=1)
    source = Source(
        path, list(headers.header), where.line_of, header_line=1, positions=headers.positions
    )
    lines = None
    if keep_lines:
        first = 2 + sum(name.count("\n") for name in written)
        lines = _record_lines(frame, first)
    columns = [pl.col(frame.columns[i]).alias(c) for c, i in headers.positions.items()]
    table = frame.select(columns)
    if placeholder is not None:
        table = table.with_columns(
            pl.all().cast(pl.String).str.replace_all(placeholder, "¤", literal=True)
        )
    detected = Detected("csv", encoding=dialect.encoding, separator=dialect.separator)
    return Table(table, source, headers, detected, decimal_comma=dialect.decimal_comma, lines=lines)


def refuse_wide_header(path: Path, fields: int) -> None:
    """Refuse (exit 65) a header of more than :data:`~fravaer.ingest.dialect.MAX_COLUMNS`
    fields before a reader allocates for every column."""
    if fields > d.MAX_COLUMNS:
        raise BadInputError(
            Location(str(path), 1),
            f"the header has more than {d.MAX_COLUMNS:,} columns: not an attendance export",
            hint="export only the columns fravaer reads (docs/data-format.md#columns)",
        )


def _may_be_padded(frame: pl.DataFrame) -> bool:
    """Whether a record may be shorter than the header: polars pads one with empty cells.

    Only a record whose last cell is empty but which is not blank throughout can be short; the
    file is read again with the csv module (:func:`~fravaer.ingest.dialect.first_ragged_line`)
    only when there is one, so a file whose last column is always filled costs one small pass.
    """
    if frame.width < 2:
        return False
    *others, last = frame.columns
    # polars reads an empty cell as null; the csv module then decides on the cells' text.
    padded = pl.col(last).is_null() & pl.any_horizontal(pl.col(others).is_not_null())
    return bool(frame.select(padded.any()).item())


def _record_lines(frame: pl.DataFrame, first: int) -> pl.Series:
    """The line each record starts on: its index plus the line breaks in earlier records' cells.

    Every column counts, the dropped ones too, and a blank line is a record of its own.
    """
    counts = {
        c: pl.col(c).str.count_matches("\n", literal=True).fill_null(0) for c in frame.columns
    }
    breaks = evaluate(frame, counts).select(pl.sum_horizontal(pl.all()).alias("breaks"))
    earlier = pl.col("breaks").cum_sum().shift(1, fill_value=0)
    lines = breaks.select((pl.int_range(pl.len()) + first + earlier).cast(pl.Int64))
    return lines.collect().to_series()


def _read_text(
    path: Path, dialect: d.Dialect, options: SourceOptions
) -> tuple[pl.DataFrame, d.Dialect, str | None]:
    """Every cell as text; the dialect (cp1252 if it was not UTF-8 after all) and placeholder."""
    header = d.read_header(path, dialect)
    if not any(name.strip() for name in header):
        raise BadInputError(Location(str(path), 1), "file is empty (no header)")
    try:
        if dialect.polars_direct:
            frame = _read_cells(
                path, dialect.separator, quoted=d.has_quote(path), width=len(header)
            )
            return frame, dialect, None
        data = d.transcode(path, dialect)
        frame = _read_cells(data.data, data.separator, quoted=b'"' in data.data, width=len(header))
    except UnicodeDecodeError:
        return _read_text(path, _not_utf8(path, dialect, options), options)
    except (pl.exceptions.PolarsError, OSError) as exc:
        if dialect.encoding.startswith("utf-8"):
            other = d.confirm_utf8(path, dialect, options)
            if other != dialect:
                return _read_text(path, other, options)
        ragged = d.first_ragged_line(path, dialect)
        if ragged is not None:
            raise BadInputError(
                Location(str(path), ragged), "row has a different number of fields than the header"
            ) from None
        raise BadInputError(
            Location(str(path)), f"not a readable CSV file ({type(exc).__name__})"
        ) from None
    return frame, dialect, data.placeholder


def _read_cells(source: Path | bytes, separator: str, *, quoted: bool, width: int) -> pl.DataFrame:
    """Every cell as a categorical of its text, or as text (which :func:`finish` then makes
    categorical, 0.8 s more for 20 M rows of 7 columns).

    polars' categorical reader does not refuse a badly quoted cell (``"2024-03-05"x`` becomes
    ``2024-03-05``); its text reader does. A file with a quote is therefore read as text.
    """
    if not quoted:
        types = categorical_columns(width)
        try:
            return pl.read_csv(source, schema_overrides=types, separator=separator, encoding="utf8")
        except pl.exceptions.SchemaError:
            pass  # polars sees another number of columns: the text reader says what is wrong
    return pl.read_csv(source, infer_schema=False, separator=separator, encoding="utf8")


def _not_utf8(path: Path, dialect: d.Dialect, options: SourceOptions) -> d.Dialect:
    other = d.confirm_utf8(path, dialect, options)
    if other == dialect:  # pragma: no cover - transcoding failed on bytes that decode
        raise BadInputError(Location(str(path)), "not UTF-8 text", hint=d.UTF8_HINT)
    return other


def read_csv_detected(
    path: Path,
    options: SourceOptions = _DEFAULT_OPTIONS,
    *,
    keep_lines: bool = False,
    day_checks: bool = True,
) -> tuple[pl.LazyFrame, Detected]:
    """Read and validate a CSV export; the canonical frame and what was detected."""
    table = read_csv_table(path, options, keep_lines=keep_lines)
    return finish(table, options, keep_lines=keep_lines, day_checks=day_checks)


def read_csv(
    path: Path,
    options: SourceOptions = _DEFAULT_OPTIONS,
    *,
    keep_lines: bool = False,
    day_checks: bool = True,
) -> pl.LazyFrame:
    """Read and validate a CSV export in any supported dialect (docs/ingest.md).

    Blank lines (often left at the end by spreadsheets) are skipped. A row with fewer or more
    fields than the header is refused. ``keep_lines`` adds each row's line as :data:`LINE`;
    ``day_checks=False`` keeps repeated, conflicting and over-full pupil-days (for
    ``fravaer check``).
    """
    return read_csv_detected(path, options, keep_lines=keep_lines, day_checks=day_checks)[0]


# -- Parquet ---------------------------------------------------------------------------------------


def read_parquet_detected(
    path: Path,
    options: SourceOptions = _DEFAULT_OPTIONS,
    *,
    keep_lines: bool = False,
    day_checks: bool = True,
) -> tuple[pl.LazyFrame, Detected]:
    """Read and validate a Parquet export lazily: only small aggregates are collected.

    ``[columns]`` and ``[codes]`` of ``options`` apply as to a CSV file (docs/ingest.md): a
    column named in ``[columns]`` is read as its canonical column, and a text category column
    is read through the code table (built-in codes and the local ones), so that a data
    platform's own names and codes need no conversion. Without them, the canonical format.
    """
    check_readable(path)
    source = Source(path, [], lambda record: record + 1, header_line=None)
    try:
        scan = pl.scan_parquet(path)
        schema = scan.collect_schema()
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise source.at(None, None, f"not a readable Parquet file ({type(exc).__name__})") from None
    header = list(schema)
    source.header = header
    refuse_hidden_names(source.header, file=str(path), line=None)
    renamed = _parquet_columns(header, options, source)
    if renamed:
        scan = scan.rename(renamed)
        schema = scan.collect_schema()
        source.positions = {canonical: header.index(name) for name, canonical in renamed.items()}
    plans: dict[str, _Plan] | None = None
    counts: dict[str, int] = {}
    codes: _CodeRule | None = None
    if options.codes and isinstance(schema.get(s.CATEGORY), pl.String | pl.Categorical):
        found = _collect(scan.group_by(pl.col(s.CATEGORY).cast(pl.String)).len(), source)
        codes, counts = _code_rule(found, source, options)
        try:
            plans = _plans(schema, codes=codes)
        except _TypeProblem as problem:
            raise source.at(None, problem.column, f"column {problem.problem}") from None
    validated = validate(
        scan.with_row_index(ROW_INDEX),
        schema,
        source,
        unindexed=scan,
        plans=plans,
        lines=pl.col(ROW_INDEX) + 1 if keep_lines else None,
        day_checks=day_checks,
        decode_all=True,
    )
    date_format = ISO if isinstance(schema.get(s.DATE), pl.String) else None
    detected = Detected(
        "parquet",
        date_format=date_format,
        columns={
            c: next((k for k, v in renamed.items() if v == c), c)
            for c in schema
            if c in s.CANONICAL_SCHEMA
        },
        dropped=tuple(
            column_label(c, i) for i, c in enumerate(schema, start=1) if c not in s.CANONICAL_SCHEMA
        ),
        codes=_code_counts(counts, codes, options, blank_lines=0) if codes else {},
        rows=validated.rows,
        header=tuple(header),
    )
    return validated.frame, detected


def _parquet_columns(header: list[str], options: SourceOptions, source: Source) -> dict[str, str]:
    """``[columns]`` as a renaming of the file's columns (written -> canonical)."""
    renamed: dict[str, str] = {}
    for canonical, written in options.columns.items():
        if written == canonical:
            continue
        if written not in header:
            raise source.at_line(
                None,
                None,
                f"column '{written}' given for '{canonical}' in [columns] is not in the file",
                hint="check [columns] in source.toml against the file's column names",
            )
        renamed[written] = canonical
    return renamed


def read_parquet(
    path: Path,
    options: SourceOptions = _DEFAULT_OPTIONS,
    *,
    keep_lines: bool = False,
    day_checks: bool = True,
) -> pl.LazyFrame:
    """Read and validate a Parquet export lazily: only small aggregates are collected.

    ``options`` give ``[columns]`` and ``[codes]`` as for CSV; ``keep_lines`` adds each row's
    1-based number as :data:`LINE`; ``day_checks=False`` keeps repeated, conflicting and
    over-full pupil-days.
    """
    return read_parquet_detected(path, options, keep_lines=keep_lines, day_checks=day_checks)[0]
