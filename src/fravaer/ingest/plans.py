"""How each canonical column is read from a source column, and what makes its cell bad.

A :class:`Plan` per column gives the typed expression and its :class:`Check` s (blank ids,
formulas and hidden characters, dates in the file's format, unknown category codes, fractions
and grades out of range); :func:`column_plans` makes them for a source's schema, with the
file's :class:`DateRule` and :class:`CodeRule`. :mod:`~fravaer.ingest.validate` runs them. The
rules are those of docs/data-format.md and docs/ingest.md.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

import polars as pl

from fravaer import schema as s
from fravaer.errors import BadInputError
from fravaer.ingest.codes import Meaning, code_table, unknown_codes_problem
from fravaer.ingest.dates import (
    BY_STRFTIME,
    DATE_RANGE_PROBLEM,
    ISO,
    DateFormat,
    excel_date_expr,
    out_of_range_expr,
)
from fravaer.ingest.headers import LESSON
from fravaer.ingest.origin import Origin
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
from fravaer.lessons import START_TIME, SUBJECT

Explain = Callable[[int], BadInputError]
"""Builds the error for a check that failed first at a 0-based record."""


@dataclass(frozen=True)
class Check:
    """One rule for a column's cells: ``bad`` is true on a cell that breaks it; ``explain``, if
    given, builds a more precise error than ``problem`` at the first bad record."""

    column: str
    problem: str
    bad: pl.Expr
    explain: Explain | None = None


@dataclass(frozen=True)
class Plan:
    """How one source column becomes a canonical column, and what makes a cell bad.

    A text column is stripped of surrounding spaces; when no cell has any (``padded`` is
    false on every row), ``unpadded`` gives the same column without paying the strip again in
    every later pass over the data.
    """

    typed: pl.Expr
    checks: tuple[Check, ...] = ()
    unpadded: pl.Expr | None = None
    padded: pl.Expr | None = None
    by_values: bool = False
    """Whether the checks and ``padded`` depend on the column's own text alone (a text column):
    a lazy source computes them on its distinct values."""


def blank_expr(column: str) -> pl.Expr:
    """Whether a cell is blank: empty, null or white space only."""
    return pl.col(column).cast(pl.String).str.strip_chars().fill_null("") == ""


def _hostile_checks(column: str, typed: pl.Expr) -> tuple[Check, ...]:
    """A value that a spreadsheet would run, or that hides characters, is refused
    (:mod:`fravaer.ingest.text`). Checked on the value as every output gets it, with the
    surrounding white space stripped: ``"  =1+1"`` is refused as ``=1+1``, while a tab or line
    break around ``0000123`` is stripped as any space is and never reaches an output."""
    return (
        Check(column, FORMULA_PROBLEM, formula_start_expr(typed)),
        Check(column, HIDDEN_PROBLEM, hidden_character_expr(typed)),
        Check(column, LOOKALIKE_PROBLEM, lookalike_expr(typed)),
    )


def _text_plan(column: str, dtype: pl.DataType | None, what: str) -> Plan:
    """An id column: stripped, and for pupils a CPR number written with a space normalised
    (:func:`~fravaer.ingest.text.pupil_id_expr`); ``padded`` says a value changed."""
    if dtype is not None and not isinstance(dtype, pl.String | pl.Categorical | pl.Enum):
        raise TypeProblem(
            column, "must be text (ids are strings: leading zeros matter)", hint=NUMBER_IDS_HINT
        )
    text = pl.col(column).cast(pl.String)
    stripped = text.str.strip_chars()
    typed = pupil_id_expr(stripped) if column == s.PUPIL_ID else stripped
    check = Check(column, f"missing {what}", blank_expr(column))
    checks = (check, *_hostile_checks(column, stripped))
    return Plan(typed, checks, unpadded=text, padded=text != typed, by_values=True)


@dataclass(frozen=True)
class DateRule:
    """How text dates are read: the working format, Excel date cells, and the diagnosis."""

    form: DateFormat
    excel: bool = False
    explain: Explain | None = None


def _date_plan(dtype: pl.DataType | None, rule: DateRule) -> Plan:
    if isinstance(dtype, pl.Date):
        day = pl.col(s.DATE)
        return Plan(
            day,
            (
                Check(s.DATE, "missing date", day.is_null()),
                Check(s.DATE, DATE_RANGE_PROBLEM, out_of_range_expr(day)),
            ),
        )
    if dtype is not None and not isinstance(dtype, pl.String):
        raise TypeProblem(s.DATE, "must be a date or ISO text YYYY-MM-DD")
    text = pl.col(s.DATE).str.strip_chars()
    # strptime alone is lenient (it takes +2024-03-01 for %Y-%m-%d); the check adds the exact
    # written shape, and once every cell passes it, the lenient parse is the strict one.
    parsed = rule.form.lenient_expr(text)
    not_a_date = ~text.str.contains(rule.form.pattern) | parsed.is_null()
    if rule.excel:
        excel = excel_date_expr(text)
        parsed = pl.coalesce(excel, parsed)
        not_a_date = excel.is_null() & not_a_date
    return Plan(
        parsed,
        (
            Check(s.DATE, "missing date", blank_expr(s.DATE)),
            Check(s.DATE, rule.form.problem(), ~blank_expr(s.DATE) & not_a_date, rule.explain),
            Check(s.DATE, DATE_RANGE_PROBLEM, out_of_range_expr(parsed)),
        ),
    )


@dataclass(frozen=True)
class CodeRule:
    """How the category column's codes are read: cell text as written -> meaning.

    Keyed by the raw cell (an empty cell as ``""``), so that mapping costs one lookup per row
    and no string is copied; every spelling in the file has its own key.
    """

    meanings: Mapping[str, Meaning]
    explain: Explain | None = None


def _category_plan(dtype: pl.DataType | None, codes: CodeRule | None) -> tuple[Plan, pl.Expr]:
    """The category plan and the category expression (for the fraction's default)."""
    if dtype is not None and not isinstance(dtype, pl.String | pl.Categorical | pl.Enum):
        raise TypeProblem(s.CATEGORY, "must be text")
    problem = f"unknown category (expected one of {', '.join(s.CATEGORIES)})"
    if isinstance(dtype, pl.Enum) and set(dtype.categories) <= set(s.CATEGORIES):
        # A typed export (our own Parquet): every value is a canonical name already, and a
        # cast between enums maps categories, not rows. Measured on 19 M rows: the text path
        # cost 2 s of the 2.4 s that reading every typed column takes.
        category = pl.col(s.CATEGORY).cast(s.CATEGORY_DTYPE)
        return Plan(category, (Check(s.CATEGORY, problem, category.is_null()),)), category
    if codes is None:
        text = pl.col(s.CATEGORY).cast(pl.String).str.strip_chars()
        unknown = ~text.is_in(s.CATEGORIES) | text.is_null()
        return Plan(text.cast(s.CATEGORY_DTYPE), (Check(s.CATEGORY, problem, unknown),)), text
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
    check = Check(s.CATEGORY, problem, category.is_null(), codes.explain)
    return Plan(category, (check,)), category


def canonical_codes(cells: Iterable[str | None]) -> CodeRule:
    """The canonical category names among a text column's distinct ``cells``, each meaning
    itself (surrounding spaces stripped): read through this rule, a column of the names alone
    is one cast, and every other cell (blank, null, anything else) is refused as unknown,
    exactly as the row-by-row text rule refuses it. A lazy source (Parquet) collects its
    distinct cells once to build it (docs/performance.md#layouts)."""
    return CodeRule(
        {
            raw: Meaning(raw.strip())
            for raw in cells
            if raw is not None and raw.strip() in s.CATEGORIES
        }
    )


def _means_itself(raw: str, meaning: Meaning) -> bool:
    """Whether a cell is a canonical name (or blank, present) with its canonical meaning."""
    name = raw if raw in s.CATEGORIES else s.PRESENT if raw.strip() == "" else None
    return meaning == Meaning(name) if name is not None else False


def _code_fraction(codes: CodeRule | None) -> pl.Expr | None:
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
) -> Plan:
    absent_default = pl.when(category == s.PRESENT).then(0.0).otherwise(1.0)
    defaults = [absent_default] if code_fraction is None else [code_fraction, absent_default]
    if dtype is None:
        return Plan(pl.coalesce(defaults))
    if isinstance(dtype, pl.String):
        raw = pl.col(s.ABSENT_FRACTION).str.strip_chars()
        if decimal_comma:
            raw = raw.str.replace(",", ".", literal=True)
        parsed = raw.cast(pl.Float64, strict=False)
        unparsed = ~blank_expr(s.ABSENT_FRACTION) & parsed.is_null()
    elif dtype.is_numeric():
        parsed = pl.col(s.ABSENT_FRACTION).cast(pl.Float64)
        unparsed = pl.lit(value=False)
    else:
        raise TypeProblem(s.ABSENT_FRACTION, "must be a number")
    value = pl.coalesce(parsed, *defaults)
    out_of_range = value.is_nan() | (value < 0) | (value > 1)
    present_but_absent = (category == s.PRESENT) & (value > 0)
    return Plan(
        value,
        (
            Check(s.ABSENT_FRACTION, "not a number", unparsed),
            Check(s.ABSENT_FRACTION, "absent fraction must be between 0 and 1", out_of_range),
            Check(
                s.ABSENT_FRACTION,
                "a present row cannot have an absent fraction above 0",
                present_but_absent,
            ),
        ),
    )


def _grade_plan(dtype: pl.DataType | None) -> Plan:
    if dtype is None:
        return Plan(pl.lit(None, dtype=pl.Int8))
    if isinstance(dtype, pl.String):
        parsed = pl.col(s.GRADE).str.strip_chars().cast(pl.Int64, strict=False)
        unparsed = ~blank_expr(s.GRADE) & parsed.is_null()
    elif dtype.is_integer():
        parsed = pl.col(s.GRADE).cast(pl.Int64)
        unparsed = pl.lit(value=False)
    else:
        raise TypeProblem(s.GRADE, "must be a whole number")
    out_of_range = unparsed | parsed.is_not_null() & ~parsed.is_between(s.GRADE_MIN, s.GRADE_MAX)
    problem = f"grade must be a whole number from {s.GRADE_MIN} to {s.GRADE_MAX}"
    return Plan(parsed.cast(pl.Int8, strict=False), (Check(s.GRADE, problem, out_of_range),))


def _class_plan(dtype: pl.DataType | None, column: str = s.CLASS_NAME) -> Plan:
    """Free text that reaches outputs (a class name, a lesson's subject): stripped, empty as
    null, and refused when a spreadsheet would run it or it hides characters."""
    if dtype is None:
        return Plan(pl.lit(None, dtype=pl.String))
    text = pl.col(column).cast(pl.String)
    typed = text.str.strip_chars()
    return Plan(
        pl.when(typed != "").then(typed),
        _hostile_checks(column, typed),
        unpadded=pl.when(text != "").then(text),
        padded=text != typed,
        by_values=True,
    )


_TIME_OF_DAY = r"^(\d{1,2})[:.](\d{2})(?:[:.]\d{2})?(?:\s*-.*)?$"
"""``8:15``, ``08.15``, ``08:15:00``, and a range's start (``08:15-09:00``)."""


def _start_plan(dtype: pl.DataType | None) -> Plan:
    """A lesson's start time as minutes after midnight; blank is none, anything else that is
    not a time of day is refused (docs/shapes.md#the-lesson-frame)."""
    if isinstance(dtype, pl.Time):
        time = pl.col(START_TIME)
        return Plan((time.dt.hour().cast(pl.Int64) * 60 + time.dt.minute()).cast(pl.Int64))
    if dtype is not None and not isinstance(dtype, pl.String | pl.Categorical | pl.Enum):
        raise TypeProblem(START_TIME, "must be a time of day or text HH:MM")
    text = pl.col(START_TIME).cast(pl.String).str.strip_chars()
    hour = text.str.extract(_TIME_OF_DAY, 1).cast(pl.Int64)
    minute = text.str.extract(_TIME_OF_DAY, 2).cast(pl.Int64)
    valid = hour.is_between(0, 23) & minute.is_between(0, 59)
    bad = ~blank_expr(START_TIME) & ~valid.fill_null(value=False)
    problem = "not a time of day (HH:MM)"
    return Plan(
        pl.when(valid).then(hour * 60 + minute),
        (Check(START_TIME, problem, bad),),
        by_values=True,
    )


NUMBER_IDS_HINT = (
    "an id stored as a number has lost its leading zeros (0123 is 123), which cannot be "
    "undone here; write the column as text where the file is made"
)


class TypeProblem(Exception):
    """A column whose polars type cannot hold its values (a typed source such as Parquet)."""

    def __init__(self, column: str, problem: str, *, hint: str | None = None) -> None:
        super().__init__(problem)
        self.column = column
        self.problem = problem
        self.hint = hint


def column_plans(
    schema: pl.Schema,
    *,
    dates: DateRule | None = None,
    codes: CodeRule | None = None,
    decimal_comma: bool = False,
) -> dict[str, Plan]:
    """Every canonical column's plan for a source of ``schema`` (a column it lacks gets its
    default); text dates and codes are read by ``dates`` and ``codes`` (default: ISO dates and
    the canonical names), fractions with a decimal comma when ``decimal_comma``.

    Raises
    ------
    TypeProblem
        A typed column cannot hold its values (a date column of numbers).
    """

    def dtype(column: str) -> pl.DataType | None:
        return schema.get(column)

    category_plan, category = _category_plan(dtype(s.CATEGORY), codes)
    return (
        {
            s.PUPIL_ID: _text_plan(s.PUPIL_ID, dtype(s.PUPIL_ID), "pupil id"),
            s.SCHOOL_ID: _text_plan(s.SCHOOL_ID, dtype(s.SCHOOL_ID), "school id"),
            s.DATE: _date_plan(dtype(s.DATE), dates or DateRule(BY_STRFTIME[ISO])),
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
        | (
            # A school's name beside its id: text that reaches the pages, read as class names.
            {s.SCHOOL_NAME: _class_plan(dtype(s.SCHOOL_NAME), s.SCHOOL_NAME)}
            if s.SCHOOL_NAME in schema
            else {}
        )
        | (
            # Read with a lesson only (lesson-level exports): subject as class names are.
            {SUBJECT: _class_plan(dtype(SUBJECT), SUBJECT)}
            if SUBJECT in schema and LESSON in schema
            else {}
        )
        | (
            {START_TIME: _start_plan(dtype(START_TIME))}
            if START_TIME in schema and LESSON in schema
            else {}
        )
    )


# -- the category codes of one file ------------------------------------------------------------


def code_counts(
    counts: dict[str, int], codes: CodeRule, options: SourceOptions, *, blank_lines: int
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


def code_rule(
    found: pl.DataFrame, origin: Origin, options: SourceOptions
) -> tuple[CodeRule, dict[str, int]]:
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
        return origin.error(record, s.CATEGORY, problem, hint=hint)

    counts = dict(sorted(known.items(), key=lambda item: (-item[1], item[0])))
    return CodeRule(meanings, explain), counts
