"""Read the names of the schools: a ``--school-names`` file, or a school-name column of the
exports (docs/site.md#school-names).

A CSV file in UTF-8 (a byte-order mark is allowed), separated by ``,`` or ``;``, with a header
naming the institution number and the name: ``school_id,name`` or the Danish
``institutionsnummer;navn`` (``skole`` also names the name column)::

    school_id,name
    851001,Vestre Skole

Every school id once; a name may not be empty. A name is text from the data: the pages escape
it, and one that holds a control or invisible character or begins like a spreadsheet formula is
refused like an id (exit 65, docs/privacy.md#what-is-refused-on-reading), naming the line and
column, never the cell.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Final

import polars as pl

from fravaer import schema as s
from fravaer.errors import BadInputError, Location
from fravaer.ingest.origin import csv_records
from fravaer.ingest.regular import read_regular_text
from fravaer.schema import hostile_text_problem

ID_HEADERS: Final = ("school_id", "institutionsnummer", "skole_id")
NAME_HEADERS: Final = ("name", "navn", "skole", "skolenavn")
NAME_MAX: Final = 200


def read_school_names(path: Path) -> dict[str, str]:
    """The school names of the file ``path``: institution number -> name (exit 65/66)."""
    text = read_regular_text(path, what="school names file", encoding="utf-8-sig")
    return parse_school_names(text, name=str(path))


def parse_school_names(text: str, *, name: str) -> dict[str, str]:
    """Validate a school names file's text; errors name the line and column, never a value.

    >>> parse_school_names("institutionsnummer;navn\\n851001;Vestre Skole\\n", name="s.csv")
    {'851001': 'Vestre Skole'}
    >>> parse_school_names("school_id,name\\n851001,=1+1\\n", name="s.csv")
    Traceback (most recent call last):
    ...
    fravaer.errors.BadInputError: s.csv:2:2 (column 'name'): text begins with =, +, - or @, which a spreadsheet would run as a formula
    """  # noqa: E501
    first = text.split("\n", 1)[0]
    separator = ";" if first.count(";") > first.count(",") else ","
    records = csv_records(text, name=name, delimiter=separator)
    header = [h.strip().lower() for h in next(records, (1, []))[1]]
    id_column = next((i for i, h in enumerate(header) if h in ID_HEADERS), None)
    name_column = next((i for i, h in enumerate(header) if h in NAME_HEADERS), None)
    if id_column is None or name_column is None:
        raise BadInputError(
            Location(name, 1),
            "the header must name the school id (school_id or institutionsnummer) and the name "
            "(name or navn)",
        )
    names: dict[str, str] = {}
    for line, record in records:
        if not any(cell.strip() for cell in record):
            continue
        if len(record) != len(header):
            raise BadInputError(Location(name, line), f"expected {len(header)} fields")
        school, school_name = record[id_column].strip(), record[name_column].strip()
        for column, value, heading in (
            (id_column, school, header[id_column]),
            (name_column, school_name, header[name_column]),
        ):
            where = Location(name, line, column + 1, heading)
            if not value:
                raise BadInputError(where, "empty")
            problem = hostile_text_problem(value)
            if problem is not None:
                raise BadInputError(where, problem)
            if len(value) > NAME_MAX:
                raise BadInputError(where, f"longer than {NAME_MAX} characters")
        if school in names:
            raise BadInputError(Location(name, line, id_column + 1), "this school is given twice")
        names[school] = school_name
    return names


_LATEST = "_latest"


def names_in_export(frame: pl.LazyFrame) -> pl.LazyFrame:
    """Each school's names in an export's school-name column (``school_name``), with the
    latest date each is written on; an empty cell names nothing. The reader has checked every
    name as it checks class names (docs/privacy.md#what-is-refused-on-reading)."""
    return (
        frame.filter(pl.col(s.SCHOOL_NAME).is_not_null())
        .group_by(s.SCHOOL_ID, s.SCHOOL_NAME)
        .agg(pl.col(s.DATE).max().alias(_LATEST))
    )


def latest_names(found: Iterable[pl.DataFrame]) -> tuple[dict[str, str], int]:
    """School id -> its name on its latest date among ``found`` (:func:`names_in_export` of
    each file), and how many schools were written with more than one name (a school renamed
    during the year: its newest name is shown; on one date, the last in sorted order).

    >>> from datetime import date
    >>> found = pl.DataFrame(
    ...     {"school_id": ["1", "1", "2"], "school_name": ["Old", "New", "B"],
    ...      "_latest": [date(2024, 1, 5), date(2024, 3, 1), date(2024, 3, 1)]}
    ... )
    >>> latest_names([found])
    ({'1': 'New', '2': 'B'}, 1)
    """
    frames = list(found)
    if not frames:
        return {}, 0
    names = (
        pl.concat(frames)
        .group_by(s.SCHOOL_ID, s.SCHOOL_NAME)
        .agg(pl.col(_LATEST).max())
        .sort(s.SCHOOL_ID, _LATEST, s.SCHOOL_NAME)
        .group_by(s.SCHOOL_ID, maintain_order=True)
        .agg(pl.col(s.SCHOOL_NAME).last(), pl.len().alias("_names"))
    )
    several = names.filter(pl.col("_names") > 1).height
    return dict(zip(names[s.SCHOOL_ID], names[s.SCHOOL_NAME], strict=True)), several
