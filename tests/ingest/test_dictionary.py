"""Per-text evaluation (:mod:`fravaer.ingest.dictionary`) equals evaluating every row as text.

The CSV reader reads cells as categoricals and reads each distinct text once; these properties
hold it to the plain answer: the same expression on the same cells read as text, row by row.
"""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal, assert_series_equal

from fravaer.ingest import dictionary
from fravaer.ingest.dictionary import categorical_columns, distinct, evaluate, ordinal
from tests.profiles import examples

CELLS = st.none() | st.sampled_from(
    ["", " ", "1", " 1", "1 ", "2", "10", "0,5", "x", "2024-03-01", " 2024-03-01", "S", "s"]
)

EXPRESSIONS = {
    "strip": pl.col("a").str.strip_chars(),
    "blank": pl.col("a").str.strip_chars().fill_null("") == "",
    "int": pl.col("a").str.strip_chars().cast(pl.Int8, strict=False),
    "number": pl.col("b").str.replace(",", ".", literal=True).cast(pl.Float64, strict=False),
    "date": pl.col("a").str.strip_chars().str.strptime(pl.Date, "%Y-%m-%d", strict=False),
    "code": pl.col("b")
    .fill_null("")
    .replace_strict(["S", "s", ""], ["illness", "illness", "present"], default=None),
    "two": pl.col("a").fill_null("-") + pl.col("b").fill_null("-"),
    "check": (pl.col("a") == "1") & pl.col("b").is_null(),
    "other": pl.col("n") * 2,
    "mixed": pl.col("a").str.len_chars() + pl.col("n"),
    "literal": pl.lit(3, dtype=pl.Int64),
}


ROWS = st.lists(st.tuples(CELLS, CELLS), min_size=1, max_size=30)
"""Rows of two text cells, each drawn from :data:`CELLS`."""


def _frames(cells: list[tuple[str | None, str | None]]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The same cells as text, and as categoricals with their own categories."""
    text = pl.DataFrame(cells, schema={"a": pl.String, "b": pl.String}, orient="row")
    text = text.with_row_index("n").select("a", "b", pl.col("n").cast(pl.Int64))
    types = categorical_columns(2)
    categorical = text.with_columns(pl.col("a").cast(types[0]), pl.col("b").cast(types[1]))
    return text, categorical


@settings(max_examples=examples(200), deadline=None)
@given(ROWS)
def test_every_expression_equals_its_row_by_row_value(
    cells: list[tuple[str | None, str | None]],
) -> None:
    text, categorical = _frames(cells)
    got = evaluate(categorical, EXPRESSIONS).collect()
    assert_frame_equal(got, text.select(**EXPRESSIONS))
    assert_frame_equal(got, evaluate(text, EXPRESSIONS).collect())


@settings(max_examples=examples(50), deadline=None)
@given(ROWS)
def test_too_many_combinations_are_computed_row_by_row(
    cells: list[tuple[str | None, str | None]],
) -> None:
    text, categorical = _frames(cells)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(dictionary, "MAX_COMBINATIONS", 1)
        got = evaluate(categorical, EXPRESSIONS).collect()
    assert_frame_equal(got, evaluate(text, EXPRESSIONS).collect())


@settings(max_examples=examples(200), deadline=None)
@given(ROWS)
def test_ordinal_numbers_values_in_their_order(cells: list[tuple[str | None, str | None]]) -> None:
    text, categorical = _frames(cells)
    expr = pl.col("a").str.strip_chars()
    values = text.select(expr).to_series()
    for frame in (text, categorical):
        numbers = ordinal(frame, expr)
        pairs = list(zip(values, numbers, strict=True))
        for value, number in pairs:
            for other, other_number in pairs:
                if value is None or other is None:
                    assert (number is None) == (value is None)
                    continue
                assert (value < other) == (number < other_number)
                assert (value == other) == (number == other_number)


@settings(max_examples=examples(200), deadline=None)
@given(ROWS)
def test_distinct_reads_the_dictionary_and_equals_the_rows_distinct_values(
    cells: list[tuple[str | None, str | None]],
) -> None:
    text, categorical = _frames(cells)
    expected = text.get_column("a").unique().drop_nulls().sort()
    for frame in (text, categorical):
        got = distinct(frame.get_column("a"))
        assert_series_equal(got.cast(pl.String).sort(), expected)


def test_a_look_up_is_lazy_and_keeps_the_rows() -> None:
    _, categorical = _frames([("2024-03-01", "S"), (None, None), ("2024-03-01", " ")])
    result = evaluate(categorical, {"date": EXPRESSIONS["date"]})
    assert isinstance(result, pl.LazyFrame)
    assert_series_equal(
        result.collect().to_series(),
        pl.Series("date", [date(2024, 3, 1), None, date(2024, 3, 1)]),
    )
