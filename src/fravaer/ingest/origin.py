"""Where a finding points: the file, the line and the column, named as the user's file names them.

Every check of ingest reports through one :class:`Origin`, whether it reads the cells of a
CSV, Excel or Parquet export (:mod:`~fravaer.ingest.validate`), a hive folder
(:mod:`~fravaer.ingest.multi`) or turns a lesson-level or absence-only export into school days
(:mod:`~fravaer.ingest.shapes`): so every error names the file, the line and the column in the
same words, ``FILE:LINE:COL (column 'NAME'): problem`` (docs/exit-codes.md), and never the
cell's value, which is children's data.

The rows being checked carry where they came from in one of two columns: :data:`ROW_INDEX`
(the 0-based record of the source, which :attr:`Origin.line_of` turns into the number a user
sees) or :data:`LINE` (that number itself, which a reader adds with ``keep_lines``).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Final

from fravaer.errors import BadInputError, Location

ROW_INDEX: Final = "_row"
"""A row's 0-based record index in its source: the first bad row of each check is named by it."""
LINE: Final = "_line"
"""With ``keep_lines``: each row's line (CSV), spreadsheet row (Excel) or 1-based row (Parquet)."""

LineOf = Callable[[int], int]
"""Maps a 0-based data record index to the number the user sees (a line or a row)."""


def csv_records(text: str, *, name: str, delimiter: str = ",") -> Iterator[tuple[int, list[str]]]:
    """Each record of a small CSV file (school names, reference figures) with the line it
    starts on: a quoted line break makes one record of two lines, so the next one's line is
    still the one an editor shows. A file the ``csv`` module cannot read (a field over its
    size limit) is one error at that line (exit 65), never a traceback or a value.

    >>> list(csv_records('a,b\\n1,"x\\ny"\\n2,z\\n', name="f.csv"))
    [(1, ['a', 'b']), (2, ['1', 'x\\ny']), (4, ['2', 'z'])]
    """
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    start = 1
    while True:
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            problem = (
                f"a field longer than {csv.field_size_limit():,} characters"
                if "field limit" in str(exc)
                else "not readable as CSV"
            )
            raise BadInputError(Location(name, reader.line_num), problem) from None
        yield start, record
        start = reader.line_num + 1


def one_based(record: int) -> int:
    """The 1-based row of a 0-based record: how a source without lines (Parquet) is counted."""
    return record + 1


def as_given(line: int) -> int:
    """A line as it is: for rows that carry their line (:data:`LINE`) instead of a record."""
    return line


@dataclass(frozen=True)
class Origin:
    """Where rows came from, so that a problem names the file, the line and the column.

    ``line_of`` maps a 0-based record index (the ``_row`` column) to the number a user sees:
    a CSV reader passes its line counter, a Parquet reader :func:`one_based`. ``header`` is the
    file's header as written, for column names and numbers; ``positions`` maps a canonical
    column to its 0-based position there when the file names it otherwise (``Elev`` for
    ``pupil_id``), so that an error names the column as the user's file does. A column not in
    ``positions`` is looked up in ``header`` by its own name. ``header_line`` is the line of the
    header (None when the source has none, as Parquet). Without an origin, errors say
    ``<input>`` and row numbers.

    >>> Origin("export.csv", lambda r: r + 2, ("pupil_id", "date")).error(0, "date", "bad").message
    "export.csv:2:2 (column 'date'): bad"
    >>> where = Origin("x.csv", header=("Elev", "Dato"), positions={"date": 1})
    >>> where.error(4, "date", "bad").message
    "x.csv:5:2 (column 'Dato'): bad"
    """

    file: str = "<input>"
    line_of: LineOf = one_based
    header: tuple[str, ...] = ()
    positions: Mapping[str, int] = field(default_factory=dict)
    header_line: int | None = None

    def error(
        self, record: int | None, column: str | None, problem: str, *, hint: str | None = None
    ) -> BadInputError:
        """An error at a 0-based data record (None: the whole file) and column."""
        line = None if record is None else self.line_of(record)
        return self.error_at_line(line, column, problem, hint=hint)

    def error_at_line(
        self, line: int | None, column: str | None, problem: str, *, hint: str | None = None
    ) -> BadInputError:
        """An error at a line as the user counts it (None: the whole file) and column."""
        number = name = None
        if column is not None and column in self.positions:
            number = self.positions[column] + 1
            name = self.header[self.positions[column]]
        elif column is not None:
            name = column
            number = self.header.index(column) + 1 if column in self.header else None
        return BadInputError(Location(self.file, line, number, name), problem, hint=hint)
