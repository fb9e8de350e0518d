"""The one way in, for every command and the library: files, globs and folders, in any shape.

:func:`read_export` (and :func:`load`, which also says what was found in each file) expands the
paths (several files or globs, a hive-partitioned Parquet folder), reads each with the reader
its suffix asks for (dialect, headers, codes and dates per ``options``), turns lesson-level and
absence-only exports into the register shape, and combines the files, refusing overlaps that
disagree. What was detected comes back with the frame, for ``fravaer inspect``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
from pydantic import ValidationError

from fravaer import schema as s
from fravaer.asof import resolve_as_of
from fravaer.classify import LEFT_AFTER_SCHOOL_DAYS, left_pupils, school_dates
from fravaer.errors import BadInputError, PolicyError
from fravaer.ingest.detected import Detected
from fravaer.ingest.hours import from_hours
from fravaer.ingest.lessons import combine_lessons, lesson_frame
from fravaer.ingest.multi import combine, expand_paths, read_hive
from fravaer.ingest.origin import LINE, Origin
from fravaer.ingest.parquet import may_hold
from fravaer.ingest.reader import is_parquet_file, read_file_detected
from fravaer.ingest.regular import read_regular_text
from fravaer.ingest.schools import latest_names, names_in_export
from fravaer.ingest.shapes import (
    DetectedShape,
    detect_shape,
    expand_absence_only,
    from_lesson_rows,
    lesson_rows,
    read_roster,
    school_days_frame,
)
from fravaer.ingest.source import SourceOptions
from fravaer.ingest.validate import collect_cells
from fravaer.policy import toml_validation_error
from fravaer.tomltext import toml_data


@dataclass(frozen=True)
class FileRead:
    """What was found in one file: what ingest detected and its shape (None for a hive folder)."""

    path: Path
    detected: Detected | None = None
    shape: DetectedShape | None = None


@dataclass(frozen=True)
class Loaded:
    """The canonical frame of all the exports, and what was found in each file."""

    frame: pl.LazyFrame
    files: list[FileRead] = field(default_factory=list)
    lessons: pl.LazyFrame | None = None
    """With ``load(..., lessons=True)``: the lesson frame of the lesson-level files
    (:mod:`fravaer.ingest.lessons`), None when no file is lesson-level."""
    named: list[tuple[pl.LazyFrame, Origin]] = field(default_factory=list)
    """Each export's school names (:func:`names_in_export`) and its origin, uncollected: only
    the commands that show names read them (:meth:`school_names`)."""
    school_days: pl.DataFrame | None = None
    """:func:`~fravaer.classify.school_dates` of ``frame``, read with the as-of date by
    :func:`load_at` (the "has left" rule needs them too); None from :func:`load`."""

    def school_names(self) -> dict[str, str]:
        """School id -> name, from a school-name column of the exports (``skolenavn``,
        ``school_name``; docs/site.md#school-names); empty when no export has one. Costs one
        more pass over each export that has the column; warns (counts only) of a school
        written with several names, which is shown by its newest."""
        names, several = latest_names(collect_cells(found, origin) for found, origin in self.named)
        if several:
            log.warning(
                "%d school(s) have more than one name in the exports' school-name column; each "
                "is shown by its name on its latest date",
                several,
            )
        return names


def load_source(path: Path) -> SourceOptions:
    """Read a ``source.toml``; relative paths in it are relative to the file's folder.

    Errors name the file, the line and the field (exit 78), like policy files.
    """
    text = read_regular_text(path, what="source file")
    data = toml_data(text, source=str(path))
    resolve_source_paths(data, path.parent)
    try:
        return SourceOptions.model_validate(data)
    except ValidationError as exc:
        raise toml_validation_error(exc, text=text, source=str(path)) from None


def resolve_source_paths(data: dict[str, Any], folder: Path) -> None:
    """Make ``roster`` and ``calendar.file`` relative to the source file, not the shell."""
    if isinstance(data.get("roster"), str):
        data["roster"] = str(folder / data["roster"])
    calendar = data.get("calendar")
    if isinstance(calendar, dict) and isinstance(calendar.get("file"), str):
        calendar["file"] = str(folder / calendar["file"])


Exports = str | Path | Sequence[str | Path]
"""One path or glob, or several: what :func:`read_export` and :func:`load` take."""

_DEFAULT_OPTIONS = SourceOptions()
log = logging.getLogger("fravaer")


def read_export(
    exports: Exports,
    options: SourceOptions = _DEFAULT_OPTIONS,
    *,
    keep_lines: bool = False,
    day_checks: bool = True,
) -> pl.LazyFrame:
    """Read attendance exports into the canonical frame: one row per pupil per school day.

    The same reading as every command's: each file by its suffix (CSV in any dialect, Excel,
    Parquet), with ``options`` as in ``source.toml`` (:func:`load_source`); lesson-level and
    absence-only exports turned into school days (docs/shapes.md); several files, globs and
    hive-partitioned folders combined, refusing overlaps that disagree.

    Parameters
    ----------
    exports
        A path or glob, or a list of them.
    options
        How the exports are read (encoding, separator, headers, codes, shape, calendar...).
    keep_lines
        Keep each row's source line as ``_line`` (for ``fravaer check``).
    day_checks
        False keeps repeated, conflicting and over-full pupil-days (for ``fravaer check``).

    Raises
    ------
    BadInputError
        A cell, a row or a pupil-day that cannot be counted, naming the file, line and column.

    Examples
    --------
    A lesson-level export becomes day fractions: two of six lessons missed is a third of a day.

    >>> from fravaer.ingest.source import SourceOptions
    >>> frame = read_export("examples/exports/lessons.csv", SourceOptions(shape="lesson"))
    >>> frame.collect().columns[:4]
    ['pupil_id', 'school_id', 'date', 'category']
    """
    return load(exports, options, keep_lines=keep_lines, day_checks=day_checks).frame


def load(
    exports: Exports,
    options: SourceOptions = _DEFAULT_OPTIONS,
    *,
    keep_lines: bool = False,
    day_checks: bool = True,
    lessons: bool = False,
) -> Loaded:
    """Every export named (files, globs, hive folders) as one canonical frame, and what was
    found in each file; :func:`read_export` returns the frame alone. With ``lessons``, also
    the lesson frame of the lesson-level files, made from the same checked rows
    (:func:`fravaer.ingest.lessons.read_lessons`)."""
    if isinstance(exports, str | Path):
        exports = [exports]
    frames: list[tuple[Path, pl.LazyFrame]] = []
    files: list[FileRead] = []
    lesson_frames: list[pl.LazyFrame] = []
    named: list[tuple[pl.LazyFrame, Origin]] = []
    paths = expand_paths([str(export) for export in exports])
    # Parquet files are held in memory only while all of them together fit the limit: a year
    # given as many files is read from disk like one large file (docs/decisions.md).
    hold = may_hold(p for p in paths if is_parquet_file(p))
    for path in paths:
        if path.is_dir():
            hive = _names_apart(read_hive(path), Origin(str(path)), named)
            if keep_lines:  # the 1-based row over the folder's files, as its errors count
                hive = hive.with_row_index(LINE, offset=1).with_columns(pl.col(LINE).cast(pl.Int64))
            frames.append((path, hive))
            files.append(FileRead(path))
            continue
        frame, detected, shape = _read_one(
            path,
            options,
            keep_lines=keep_lines,
            day_checks=day_checks,
            hold=hold,
            found=lesson_frames,
            named=named,
        )
        frames.append((path, frame))
        files.append(FileRead(path, detected, shape))
    frame = frames[0][1] if len(frames) == 1 else combine(frames, lines=keep_lines)
    kept = combine_lessons(lesson_frames) if lessons and lesson_frames else None
    return Loaded(frame, files, kept, named)


def load_at(
    exports: Exports,
    options: SourceOptions = _DEFAULT_OPTIONS,
    *,
    given: date | None,
    today: date,
    where: str | None = None,
    keep_lines: bool = False,
    day_checks: bool = True,
    lessons: bool = False,
) -> tuple[Loaded, date]:
    """The exports (:func:`load`) and the run's as-of date: ``given``, or the latest date in
    them on or before ``today`` (:func:`fravaer.asof.resolve_as_of`). ``where`` names the data
    in errors; by default the first file read."""
    loaded = load(exports, options, keep_lines=keep_lines, day_checks=day_checks, lessons=lessons)
    named = where if where is not None else str(loaded.files[0].path)
    # One pass reads each school's dates: the as-of date's facts and the "has left" rule's.
    school_days = school_dates(loaded.frame).collect(engine="streaming")
    day = resolve_as_of(
        loaded.frame,
        given=given,
        today=today,
        where=named,
        holidays=options.holiday_country,
        school_days=school_days,
    )
    return replace(loaded, school_days=school_days), day


def _read_one(
    path: Path,
    options: SourceOptions,
    *,
    keep_lines: bool,
    day_checks: bool,
    hold: bool | None = None,
    found: list[pl.LazyFrame] | None = None,
    named: list[tuple[pl.LazyFrame, Origin]] | None = None,
) -> tuple[pl.LazyFrame, Detected, DetectedShape]:
    """One file in the register shape, whatever its shape was.

    A ``lesson`` column is kept by the reader (which then leaves the per-day checks to
    :func:`~fravaer.ingest.shapes.from_lessons`). A shape's checks name the row by its line,
    which the reader gives only when asked (it costs a pass): when one refuses a row of a file
    read without lines, the file is read again with them, so that the error names the right
    line. Only a refused export pays for that. A lesson-level file's lesson frame is added
    to ``found``; the school names of a school-name column (:func:`names_in_export`) to
    ``named``, and the column is dropped.
    """
    frame, detected = read_file_detected(
        path, options, keep_lines=keep_lines, day_checks=day_checks, hold=hold
    )
    origin = _origin(path, detected)
    frame = _names_apart(frame, origin, named)
    shape = detect_shape(frame, options, origin=origin)
    try:
        frame = _to_days(frame, shape, options, origin, found=found)
    except BadInputError:
        if keep_lines or shape.shape == "register":
            raise
        lined, _ = read_file_detected(
            path, options, keep_lines=True, day_checks=day_checks, hold=hold
        )
        lined = _names_apart(lined, origin, None)
        _to_days(lined, shape, options, origin).collect_schema()
        raise
    if not keep_lines:
        frame = frame.select(list(s.CANONICAL_SCHEMA))
    return frame, detected, shape


def _names_apart(
    frame: pl.LazyFrame, origin: Origin, named: list[tuple[pl.LazyFrame, Origin]] | None
) -> pl.LazyFrame:
    """``frame`` without its school-name column; the names it holds (:func:`names_in_export`,
    uncollected) added to ``named`` when given."""
    if s.SCHOOL_NAME not in frame.collect_schema().names():
        return frame
    if named is not None:
        named.append((names_in_export(frame), origin))
    return frame.drop(s.SCHOOL_NAME)


def _origin(path: Path, detected: Detected) -> Origin:
    """Where a shape's errors point: the file, its lines as the reader numbers them (a row
    carries its line in ``_line``), and its columns under their own names and numbers."""
    header = detected.header
    positions = {c: header.index(name) for c, name in detected.columns.items() if name in header}
    return Origin(str(path), header=header, positions=positions)


def _to_days(
    frame: pl.LazyFrame,
    shape: DetectedShape,
    options: SourceOptions,
    origin: Origin,
    *,
    found: list[pl.LazyFrame] | None = None,
) -> pl.LazyFrame:
    if shape.shape == "lesson":
        # One check of the lessons for both frames (shapes.from_lessons is the two steps).
        rows = lesson_rows(frame, origin=origin)
        if found is not None:
            found.append(lesson_frame(rows))
        line = LINE in frame.collect_schema().names()
        return from_lesson_rows(rows, line=line)
    if shape.shape == "absence_only":
        return _expand(frame, options, origin)
    if shape.shape == "hours":
        return from_hours(frame, origin=origin, valid_absence=options.valid_absence)
    return frame


def _expand(frame: pl.LazyFrame, options: SourceOptions, origin: Origin) -> pl.LazyFrame:
    if options.calendar is None:
        raise PolicyError(
            "an absence-only export needs a school calendar",
            hint="set calendar in source.toml (a file of school days, or first/last/breaks)",
        )
    calendar = school_days_frame(options.calendar)
    if options.roster is None:
        # After the export's checks: a refused export gets its error alone.
        days = expand_absence_only(frame, calendar=calendar, roster=None, origin=origin)
        _warn_without_roster(days, origin)
        return days
    roster, roster_origin = read_roster(options.roster)
    return expand_absence_only(
        frame, calendar=calendar, roster=roster, origin=origin, roster_origin=roster_origin
    )


def _warn_without_roster(days: pl.LazyFrame, origin: Origin) -> None:
    """Warn (one line, counts only) that without a roster each pupil counts only from their
    first to their last absence, so those without a recent absence look as if they had left.

    The count is the "has left" rule's (:func:`fravaer.classify.left_pupils`,
    docs/classify.md#pupils-who-left) as of the export's latest date.
    """
    latest = days.select(pl.col(s.DATE).max()).collect(engine="streaming").item()
    try:
        left, pupils = left_pupils(days, as_of=latest).collect(engine="streaming").row(0)
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise origin.error(None, None, f"cannot read the data ({type(exc).__name__})") from None
    log.warning(
        "%s: absence-only export without a roster: each pupil counts only from their first to "
        "their last absence, and %d of %d pupil(s) with no absence in the last %d school days "
        "look as if they had left (set roster in source.toml)",
        origin.file,
        left,
        pupils,
        LEFT_AFTER_SCHOOL_DAYS,
    )


def inspection(loaded: Loaded) -> dict[str, Any]:
    """The ``fravaer inspect`` report as plain JSON-ready data: counts and names, never a value."""
    rows, pupils, first, last, schools = (
        loaded.frame.select(
            pl.len(),
            pl.col(s.PUPIL_ID).n_unique(),
            pl.col(s.DATE).min(),
            pl.col(s.DATE).max().alias("last"),
            pl.col(s.SCHOOL_ID).unique().sort().implode(),
        )
        .collect(engine="streaming")
        .row(0)
    )
    files = []
    for read in loaded.files:
        entry: dict[str, Any] = {"file": str(read.path)}
        detected, shape = read.detected, read.shape
        if detected is None or shape is None:
            entry["file_type"] = "parquet (hive-partitioned folder)"
        else:
            entry |= {
                "file_type": detected.file_type,
                "encoding": detected.encoding,
                "separator": detected.separator,
                "sheet": detected.sheet,
                "date_format": detected.date_format,
                "columns": dict(detected.columns),
                "dropped_columns": list(detected.dropped),
                "codes": {
                    code: {"category": category, "rows": n}
                    for code, (category, n) in detected.codes.items()
                },
                "rows": detected.rows,
                "shape": shape.shape,
                "shape_reason": shape.reason,
            }
            if detected.header_row != 1:  # a title above the header: say where it was found
                entry["header_row"] = detected.header_row
        files.append(entry)
    return {
        "files": files,
        "rows": rows,
        "pupils": pupils,
        "schools": schools,
        "first_date": first.isoformat() if first else None,
        "last_date": last.isoformat() if last else None,
    }


__all__ = ["Exports", "FileRead", "Loaded", "inspection", "load", "load_source", "read_export"]
