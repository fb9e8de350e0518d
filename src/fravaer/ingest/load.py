"""One entry point for every command that reads exports: files, globs and folders, in any shape.

``load(exports, options)`` expands the paths (several files or globs, a hive-partitioned Parquet
folder), reads each with the reader its suffix asks for (dialect, headers, codes and dates per
``options``), turns lesson-level and absence-only exports into the register shape, and combines
the files, refusing overlaps that disagree. What was detected comes back with the frame, for
``fravaer inspect``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl
from pydantic import ValidationError

from fravaer import schema as s
from fravaer.errors import InputMissingError, PolicyError
from fravaer.ingest import read_export_detected
from fravaer.ingest.detected import Detected
from fravaer.ingest.multi import combine, expand_paths, read_hive
from fravaer.ingest.shapes import (
    DetectedShape,
    detect_shape,
    expand_absence_only,
    from_lessons,
    read_calendar,
    read_roster,
    school_days_frame,
)
from fravaer.ingest.source import SourceOptions
from fravaer.policy import toml_data, toml_validation_error


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


def load_source(path: Path) -> SourceOptions:
    """Read a ``source.toml``; relative paths in it are relative to the file's folder.

    Errors name the file, the line and the field (exit 78), like policy files.
    """
    try:
        text = path.read_text("utf-8")
    except FileNotFoundError:
        raise InputMissingError(f"{path}: source file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputMissingError(f"{path}: cannot read source file ({type(exc).__name__})") from None
    data = toml_data(text, source=str(path))
    _resolve_paths(data, path.parent)
    try:
        return SourceOptions.model_validate(data)
    except ValidationError as exc:
        raise toml_validation_error(exc, text=text, source=str(path)) from None


def _resolve_paths(data: dict[str, Any], folder: Path) -> None:
    """Make ``roster`` and ``calendar.file`` relative to the source file, not the shell."""
    if isinstance(data.get("roster"), str):
        data["roster"] = str(folder / data["roster"])
    calendar = data.get("calendar")
    if isinstance(calendar, dict) and isinstance(calendar.get("file"), str):
        calendar["file"] = str(folder / calendar["file"])


def load(
    exports: list[str],
    options: SourceOptions = SourceOptions(),  # noqa: B008 - frozen, never mutated
    *,
    keep_lines: bool = False,
    day_checks: bool = True,
) -> Loaded:
    """Every export named (files, globs, hive folders) as one canonical frame."""
    frames: list[tuple[Path, pl.LazyFrame]] = []
    files: list[FileRead] = []
    for path in expand_paths(exports):
        if path.is_dir():
            frames.append((path, read_hive(path)))
            files.append(FileRead(path))
            continue
        frame, detected, shape = _read_one(
            path, options, keep_lines=keep_lines, day_checks=day_checks
        )
        frames.append((path, frame))
        files.append(FileRead(path, detected, shape))
    frame = frames[0][1] if len(frames) == 1 else combine(frames)
    return Loaded(frame, files)


def _read_one(
    path: Path, options: SourceOptions, *, keep_lines: bool, day_checks: bool
) -> tuple[pl.LazyFrame, Detected, DetectedShape]:
    """One file in the register shape, whatever its shape was.

    A ``lesson`` column is kept by the reader (which then leaves the per-day checks to
    :func:`~fravaer.ingest.shapes.from_lessons`).
    """
    frame, detected = read_export_detected(
        path, options, keep_lines=keep_lines, day_checks=day_checks
    )
    shape = detect_shape(frame, options)
    if shape.shape == "lesson":
        frame = from_lessons(frame)
    elif shape.shape == "absence_only":
        frame = _expand(frame, options)
    if not keep_lines:
        frame = frame.select(list(s.CANONICAL_SCHEMA))
    return frame, detected, shape


def _expand(frame: pl.LazyFrame, options: SourceOptions) -> pl.LazyFrame:
    if options.calendar is None:
        raise PolicyError(
            "an absence-only export needs a school calendar",
            hint="set calendar in source.toml (a file of school days, or first/last/breaks)",
        )
    if options.calendar.file is not None:
        calendar = read_calendar(options.calendar.file)
    else:
        calendar = school_days_frame(options.calendar)
    roster = read_roster(options.roster)[0] if options.roster is not None else None
    return expand_absence_only(frame, calendar=calendar, roster=roster)


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
        files.append(entry)
    return {
        "files": files,
        "rows": rows,
        "pupils": pupils,
        "schools": schools,
        "first_date": first.isoformat() if first else None,
        "last_date": last.isoformat() if last else None,
    }


__all__ = ["FileRead", "Loaded", "inspection", "load", "load_source"]
