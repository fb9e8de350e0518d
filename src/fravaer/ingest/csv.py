"""Read a CSV export of any dialect into the canonical frame (docs/data-format.md, docs/ingest.md).

Any dialect of :mod:`~fravaer.ingest.dialect` (comma, semicolon, tab or ``¤``; UTF-8 or
cp1252), Danish or canonical headers (:mod:`~fravaer.ingest.headers`): :func:`read_csv_table`
reads the cells as written under canonical column names, and
:func:`~fravaer.ingest.finish.finish` reads codes and dates and checks every cell. A row with
fewer or more fields than the header, and a header too wide to be an export, are refused.

The module is named as polars' ``io/csv`` is. It does not hide the standard library's
:mod:`csv`: every import in fravaer is absolute, so ``import csv`` is the standard library's
and ``fravaer.ingest.csv`` this module.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Final

import polars as pl

from fravaer.errors import BadInputError, Location
from fravaer.ingest import dialect as d
from fravaer.ingest.detected import Detected
from fravaer.ingest.dictionary import categorical_columns, evaluate
from fravaer.ingest.finish import Table, finish
from fravaer.ingest.headers import map_headers
from fravaer.ingest.origin import Origin
from fravaer.ingest.regular import check_readable
from fravaer.ingest.source import SourceOptions

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
    refuse_wide_header(path, d.header_fields(path, dialect), line=dialect.skip + 1)
    frame, dialect, placeholder = _read_text(path, dialect, options)
    written = d.read_header(path, dialect)
    header = [name.strip() for name in written]
    header_line = dialect.skip + 1
    mixed = _mixed_encodings(path, dialect, options)
    if mixed is not None:
        mixed.refuse_header(header, header_line)
    where = Origin(str(path), d.line_of(path, dialect), tuple(header), header_line=header_line)
    if frame.width != len(header):
        raise where.error(None, None, "not a readable CSV file (header)")
    if _may_be_padded(frame):
        ragged = d.first_ragged_line(path, dialect)
        if ragged is not None:
            raise BadInputError(
                Location(str(path), ragged), "row has a different number of fields than the header"
            )
    headers = map_headers(header, columns=options.columns, file=str(path), line=header_line)
    origin = replace(where, header=headers.header, positions=headers.positions)
    lines = None
    if keep_lines:
        first = header_line + 1 + sum(name.count("\n") for name in written)
        lines = _record_lines(frame, first)
    columns = [pl.col(frame.columns[i]).alias(c) for c, i in headers.positions.items()]
    table = frame.select(columns)
    if mixed is not None:  # before a ¤ in a ¤-separated file's cells is put back: no text
        mixed.refuse_cells(table, origin)
    if placeholder is not None:
        table = table.with_columns(
            pl.all().cast(pl.String).str.replace_all(placeholder, "¤", literal=True)
        )
    detected = Detected(
        "csv", encoding=dialect.encoding, separator=dialect.separator, header_row=header_line
    )
    return Table(table, origin, headers, detected, decimal_comma=dialect.decimal_comma, lines=lines)


@dataclass(frozen=True)
class _MixedEncodings:
    """Refuses a file read as cp1252 whose header or read cells hold UTF-8 text: a file mostly
    UTF-8 with a few cp1252 bytes (or the reverse), whose text comes out wrong in either
    encoding (docs/ingest.md#mixed-encodings). Exit 65 at the first such cell, never its value.
    """

    path: Path

    def _problem(self) -> str:
        line = d.first_non_utf8_line(self.path)
        where = "" if line is None else f", while line {line} holds text that is not UTF-8"
        return f"text in UTF-8{where}: the file mixes two encodings"

    def _error(self, location: Location) -> BadInputError:
        return BadInputError(location, self._problem(), hint=MIXED_ENCODINGS_HINT)

    def refuse_header(self, header: list[str], line: int) -> None:
        found = pl.Series(header, dtype=pl.String).str.contains(d.UTF8_READ_AS_CP1252)
        if found.any():
            raise self._error(Location(str(self.path), line, int(found.arg_true()[0]) + 1))

    def refuse_cells(self, table: pl.DataFrame, origin: Origin) -> None:
        """The cells of the columns read, not those dropped unread: only the first come out."""
        if not table.columns:  # no column maps: the missing columns are refused next
            return
        utf8 = {
            c: pl.col(c).cast(pl.String).str.contains(d.UTF8_READ_AS_CP1252).fill_null(False)
            for c in table.columns
        }
        first = (
            evaluate(table, utf8)
            .with_row_index("_record")
            .filter(pl.any_horizontal(table.columns))
            .head(1)
            .collect()
        )
        if first.height == 0:
            return
        row = first.row(0, named=True)
        hit = min((c for c in table.columns if row[c]), key=lambda c: origin.positions[c])
        raise origin.error(row["_record"], hit, self._problem(), hint=MIXED_ENCODINGS_HINT)


MIXED_ENCODINGS_HINT: Final = (
    'export the file again in one encoding, UTF-8 ("CSV UTF-8" in Excel); if the file is cp1252 '
    'throughout, set encoding = "cp1252" in source.toml'
)


def _mixed_encodings(
    path: Path, dialect: d.Dialect, options: SourceOptions
) -> _MixedEncodings | None:
    """The check for a file that detection read as cp1252; None for any other file, and for a
    forced encoding, which reads the file as the user says."""
    if dialect.encoding != "cp1252" or options.encoding != "auto":
        return None
    return _MixedEncodings(path)


def refuse_wide_header(path: Path, fields: int, *, line: int = 1) -> None:
    """Refuse (exit 65) a header of more than :data:`~fravaer.ingest.dialect.MAX_COLUMNS`
    fields before a reader allocates for every column."""
    if fields > d.MAX_COLUMNS:
        raise BadInputError(
            Location(str(path), line),
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
        raise BadInputError(Location(str(path), dialect.skip + 1), "file is empty (no header)")
    try:
        if dialect.polars_direct and not dialect.skip:
            frame = _read_cells(
                path, dialect.separator, quoted=d.has_quote(path), width=len(header)
            )
            return frame, dialect, None
        data = d.transcode(path, dialect)
        # A title above the header is cut off: polars reads from the header on.
        text = d.cut_lines(data.data, dialect.skip)
        frame = _read_cells(text, data.separator, quoted=b'"' in text, width=len(header))
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
    """Every cell as a categorical of its text, each column with categories of its own
    (:func:`~fravaer.ingest.dictionary.categorical_columns`).

    polars' categorical reader does not refuse a badly quoted cell (``"2024-03-05"x`` becomes
    ``2024-03-05``); its text reader does. A file with a quote is therefore read as text, and
    made categorical in the same streaming pass, so that its text is never held whole (4 M
    rows with every cell quoted: 0.55 GB peak, was 0.9 GB; docs/performance.md#csv-ingest).
    """
    types = categorical_columns(width)
    if not quoted:
        try:
            return pl.read_csv(
                source, schema_overrides=types, separator=separator, encoding="utf8", glob=False
            )
        except pl.exceptions.SchemaError:
            pass  # polars sees another number of columns: the text reader says what is wrong
    text = pl.scan_csv(source, infer_schema=False, separator=separator, encoding="utf8", glob=False)
    return text.select(pl.nth(i).cast(types[i]) for i in range(width)).collect(engine="streaming")


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
    fields than the header is refused. ``keep_lines`` adds each row's line as
    :data:`~fravaer.ingest.origin.LINE`; ``day_checks=False`` keeps repeated, conflicting and
    over-full pupil-days (for ``fravaer check``).
    """
    return read_csv_detected(path, options, keep_lines=keep_lines, day_checks=day_checks)[0]
