"""Read the national reference figures that ``fravaer stats`` shows beside the municipality.

The bundled file ``fravaer/data/national-absence.csv`` holds the ministry's published figures;
``--reference PATH`` gives a file of the same shape instead. One figure per line, each with its
own source::

    period,measure,value,source
    2021/22,absence_pct,8.0,"Børne- og Undervisningsministeriet, ..."

``period`` is a school year (``2021/22``), ``measure`` is ``absence_pct`` (average absence, %)
or ``share_over_10`` (pupils over 10 %, %), ``value`` a number from 0 to 100, ``source`` text
that may not be empty. A bad file is refused with its line and column (exit 65).
"""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

import polars as pl

from fravaer.errors import BadInputError, Location
from fravaer.ingest.origin import csv_records
from fravaer.ingest.regular import read_regular_text
from fravaer.stats import REF_MEASURE, REF_PERIOD, REF_SOURCE, REF_VALUE, REFERENCE_COLUMNS
from fravaer.stats import REFERENCE_MEASURES as MEASURES

BUNDLED = "national-absence.csv"
_SCHOOL_YEAR = re.compile(r"^(\d{4})/(\d{2})$")


def bundled_reference_text() -> str:
    """The text of the bundled reference file."""
    return (resources.files("fravaer") / "data" / BUNDLED).read_text("utf-8")


def read_reference(path: Path | None) -> pl.DataFrame:
    """The reference figures of ``path``, or the bundled ones when ``path`` is None.

    >>> read_reference(None).filter(pl.col("period") == "2021/22")["value"].to_list()
    [8.0, 25.2]
    """
    if path is None:
        return parse_reference(bundled_reference_text(), name=f"fravaer/data/{BUNDLED}")
    text = read_regular_text(path, what="reference file", encoding="utf-8-sig")
    return parse_reference(text, name=str(path))


def parse_reference(text: str, *, name: str) -> pl.DataFrame:
    """Validate a reference file's text; errors name the line and column, never a value."""
    records = csv_records(text, name=name)
    header = next(records, (1, None))[1]
    if header is None or tuple(h.strip() for h in header) != REFERENCE_COLUMNS:
        raise BadInputError(
            Location(name, 1),
            "the header must be " + ",".join(REFERENCE_COLUMNS),
        )
    rows: dict[str, list[object]] = {c: [] for c in REFERENCE_COLUMNS}
    seen: set[tuple[str, str]] = set()
    for line, record in records:
        if not any(cell.strip() for cell in record):
            continue
        if len(record) != len(REFERENCE_COLUMNS):
            raise BadInputError(Location(name, line), f"expected {len(REFERENCE_COLUMNS)} fields")
        period, measure, value_text, source = (cell.strip() for cell in record)
        match = _SCHOOL_YEAR.match(period)
        if match is None or (int(match[1]) + 1) % 100 != int(match[2]):
            raise BadInputError(
                Location(name, line, 1, REF_PERIOD), "not a school year written like 2021/22"
            )
        if measure not in MEASURES:
            raise BadInputError(
                Location(name, line, 2, REF_MEASURE), "must be " + " or ".join(MEASURES)
            )
        try:
            value = float(value_text)
        except ValueError:
            value = -1.0
        if not 0 <= value <= 100:
            raise BadInputError(
                Location(name, line, 3, REF_VALUE), "not a percentage from 0 to 100"
            )
        if not source:
            raise BadInputError(
                Location(name, line, 4, REF_SOURCE), "every figure needs its source"
            )
        if (period, measure) in seen:
            raise BadInputError(Location(name, line), "this period and measure are given twice")
        seen.add((period, measure))
        for column, cell in zip(REFERENCE_COLUMNS, (period, measure, value, source), strict=True):
            rows[column].append(cell)
    return pl.DataFrame(
        rows,
        schema={
            REF_PERIOD: pl.String,
            REF_MEASURE: pl.String,
            REF_VALUE: pl.Float64,
            REF_SOURCE: pl.String,
        },
    )
