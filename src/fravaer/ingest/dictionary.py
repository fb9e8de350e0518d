"""Evaluate per-cell expressions once per distinct cell text, not once per row.

A text export repeats a few values in most of its columns: some 200 school days, a handful of
codes and fractions, a few hundred schools and classes, and each pupil on every school day. A
CSV file is therefore read with every column as :class:`polars.Categorical`, each column with
categories of its own (:func:`categorical_columns`): a row then holds the index of its cell's
text, and the texts are the column's categories, numbered 0 to k-1.

:func:`evaluate` computes an expression of one such column (strip, parse a date, map a code,
check a cell) on the k texts plus the empty cell, and gives each row the result of its index
with one gather. An expression of several columns (the absent fraction depends on the code) is
computed on every combination of their texts, when there are not too many. Any other
expression is computed row by row on the columns as text. For elementwise expressions the
result is the same as evaluating them on a frame of text columns; only the cost differs. On
the 20 M-row benchmark export, what ingest adds to polars' reading went from 8.7 s to 0.7 s
(docs/performance.md#csv-ingest).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

import polars as pl

MAX_COMBINATIONS: Final = 1_000_000
"""Combinations of several columns' texts above which an expression is computed row by row
(an expression of one column is always looked up: its table is no longer than the column)."""


def categorical_columns(width: int) -> list[pl.DataType]:
    """A Categorical type for each of ``width`` columns, each with categories of its own.

    Own categories (not the process-wide ones) hold only the column's texts, so that the
    dictionary an expression is computed on is no larger than the column's distinct values.
    """
    return [pl.Categorical(pl.Categories.random()) for _ in range(width)]


def _texts(dtype: pl.Categorical) -> pl.Series:
    """The texts behind a categorical column's indexes, and a null for the empty cell last."""
    texts = dtype.categories.to_series()
    return texts.extend_constant(None, 1)


def _index(column: str, size: int) -> pl.Expr:
    """Each row's index into :func:`_texts` (an empty cell points at the null at the end)."""
    return pl.col(column).to_physical().fill_null(size - 1).cast(pl.UInt32)


def evaluate(frame: pl.DataFrame, exprs: Mapping[str, pl.Expr]) -> pl.LazyFrame:
    """Each named expression on every row of ``frame``, as if its categorical columns were text.

    The expressions must be elementwise: a row's value depends on that row's cells alone.
    Columns of other types are used as they are. The result has one column per expression, in
    order, and as many rows as ``frame``. It is lazy: a look-up costs a gather from a small
    table, so a query that reads the result computes only the columns it needs, and the
    typed rows need not be held in memory beside the text's indexes.
    """
    texts = {
        name: _texts(dtype)
        for name, dtype in frame.schema.items()
        if isinstance(dtype, pl.Categorical)
    }
    looked_up: list[pl.Expr] = []
    row_by_row: list[pl.Expr] = []
    as_text: set[str] = set()
    for name, expr in exprs.items():
        roots = list(dict.fromkeys(expr.meta.root_names()))
        found = _looked_up(expr, roots, texts) if roots else None
        if found is None:
            as_text.update(root for root in roots if root in texts)
            row_by_row.append(expr.alias(name))
        else:
            looked_up.append(found.alias(name))
    # with_columns, not select: a constant is repeated on every row.
    parts = []
    if looked_up:
        parts.append(frame.lazy().with_columns(looked_up).select(_names(looked_up)))
    if row_by_row:
        text = frame.lazy().with_columns(pl.col(name).cast(pl.String) for name in sorted(as_text))
        parts.append(text.with_columns(row_by_row).select(_names(row_by_row)))
    return pl.concat(parts, how="horizontal").select(list(exprs))


def _names(exprs: list[pl.Expr]) -> list[str]:
    return [expr.meta.output_name() for expr in exprs]


def _looked_up(expr: pl.Expr, roots: list[str], texts: dict[str, pl.Series]) -> pl.Expr | None:
    """``expr`` as a look-up of its value on every combination of its roots' texts, or None
    when a root is not categorical, the combinations of several roots are too many, or the
    expression does not give a value per combination (a literal or an aggregation; with one
    combination that cannot be told, which is why :func:`evaluate` asks for elementwise
    expressions)."""
    if any(root not in texts for root in roots):
        return None
    sizes = [texts[root].len() for root in roots]
    combinations = 1
    for size in sizes:
        combinations *= size
    if len(roots) > 1 and combinations > MAX_COMBINATIONS:
        return None
    # Combination i has root j's text number (i // stride_j) % size_j, the last root fastest.
    strides = [1] * len(roots)
    for j in range(len(roots) - 2, -1, -1):
        strides[j] = strides[j + 1] * sizes[j + 1]
    number = pl.int_range(combinations, dtype=pl.UInt32)
    table = pl.select(
        texts[root].gather((number // stride) % size).alias(root)
        for root, stride, size in zip(roots, strides, sizes, strict=True)
    )
    values = table.select(expr).to_series()
    if values.len() != combinations:
        return None
    if len(roots) == 1:
        return _single(values, roots[0])
    index: pl.Expr = pl.lit(0, dtype=pl.UInt32)
    for root, stride, size in zip(roots, strides, sizes, strict=True):
        index = index + _index(root, size) * stride
    return pl.lit(values).gather(index)


def _single(values: pl.Series, root: str) -> pl.Expr:
    """The look-up for one column; for a flag that every text gives alike, without a gather.

    That is the usual case of a check (no text fails it) and of "is this cell blank" (only the
    empty cell is): the answer then depends only on whether the cell is empty. (Only for
    flags: ``n_unique`` takes 0.0 and -0.0 for one value.)
    """
    on_text, on_empty = values.head(values.len() - 1), values.tail(1)
    if values.dtype == pl.Boolean and on_text.n_unique() <= 1:
        empty = pl.lit(on_empty).first()
        if on_text.is_empty() or on_text[0] == on_empty[0]:
            return empty  # every cell alike: a constant (a check no cell fails, typically)
        text = pl.lit(on_text.head(1)).first()
        return pl.when(pl.col(root).is_null()).then(empty).otherwise(text)
    return pl.lit(values).gather(_index(root, values.len()))


def distinct(column: pl.Series) -> pl.Series:
    """The distinct texts of a column read with categories of its own
    (:func:`categorical_columns`), from its dictionary instead of its rows (0.02 s where
    ``unique()`` of 20 M rows took 0.15-0.2 s); any other column's ``unique()``. Without the
    empty cell.
    """
    if isinstance(column.dtype, pl.Categorical):
        return _texts(column.dtype).drop_nulls().alias(column.name)
    return column.unique().drop_nulls()


def ordinal(frame: pl.DataFrame, expr: pl.Expr) -> pl.Series:
    """A number for each row's value of ``expr``: equal for equal values, and in their order.

    ``expr`` is of one column. On a categorical column the values of its texts are ranked and
    each row gets its text's rank; on another column the rows are ranked. Comparing numbers is
    cheaper than comparing the values when they are text.
    """
    roots = list(dict.fromkeys(expr.meta.root_names()))
    dtype = frame.schema.get(roots[0]) if len(roots) == 1 else None
    if isinstance(dtype, pl.Categorical):
        texts = _texts(dtype).alias(roots[0])
        ranks = texts.to_frame().select(expr.rank("dense")).to_series()
        return frame.select(pl.lit(ranks).gather(_index(roots[0], texts.len()))).to_series()
    as_text = [pl.col(root).cast(pl.String) for root in roots]
    return frame.lazy().with_columns(as_text).select(expr.rank("dense")).collect().to_series()


__all__ = ["MAX_COMBINATIONS", "categorical_columns", "distinct", "evaluate", "ordinal"]
