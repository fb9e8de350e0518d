"""Read the names of the schools for ``fravaer site --school-names`` (docs/site.md).

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

from pathlib import Path
from typing import Final

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
