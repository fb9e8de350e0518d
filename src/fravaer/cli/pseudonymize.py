"""``fravaer pseudonymize``: pupil ids replaced by keyed pseudonyms."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Annotated, Literal

import polars as pl
import typer

from fravaer.cli.options import (
    ExportsArgument,
    SourceFlags,
    source_flags,
    stdout_or_file,
)
from fravaer.errors import BadInputError, Location, UsageError
from fravaer.ingest import read_file
from fravaer.ingest.keys import read_key_env, read_key_file
from fravaer.ingest.load import load
from fravaer.ingest.multi import expand_paths
from fravaer.ingest.origin import LINE
from fravaer.ingest.source import SourceOptions
from fravaer.lessons import START_TIME, SUBJECT
from fravaer.output import format_for_path, write_frame
from fravaer.pseudonymize import KEY_HINT, invalid_cpr
from fravaer.pseudonymize import pseudonymize as pseudonymize_frame
from fravaer.schema import PUPIL_ID

log = logging.getLogger("fravaer")


def _read_key(key_file: Path | None, key_env: str | None) -> bytes:
    """The pseudonymisation key from a file or an environment variable; never shown anywhere."""
    if key_file is not None and key_env is not None:
        raise UsageError("give --key-file or --key-env, not both")
    if key_file is None and key_env is None:
        raise UsageError(
            "a key is needed: give --key-file PATH or --key-env VAR",
            hint="a plain hash of an id is reversible, so fravaer never pseudonymises without a "
            "key; " + KEY_HINT,
        )
    if key_env is not None:
        return read_key_env(key_env)
    assert key_file is not None
    return read_key_file(key_file)


def _own_rows(export: Path, options: SourceOptions, key: bytes) -> pl.LazyFrame:
    """One file's rows as written, pupil ids pseudonymised; CPR-shaped ids checked first."""
    if export.is_dir():
        raise UsageError(f"{export}: pseudonymize reads files, not a folder")
    frame = read_file(export, options, keep_lines=True)
    count, first_line = invalid_cpr(frame, line=LINE).collect().row(0)
    if count:
        raise BadInputError(
            Location(str(export), first_line, None, PUPIL_ID),
            f"not a valid CPR number: no such birth date ({count} row(s) in all)",
            hint="CPR numbers are checked for format and date only; fix or remove these rows",
        )
    # A lesson's subject and start time are read for the lesson patterns only; the rows written
    # back keep the columns they always had (a start time is read as minutes, not as written).
    return pseudonymize_frame(frame.drop(LINE, SUBJECT, START_TIME, strict=False), key)


PseudonymFormat = Literal["csv", "parquet"]


@source_flags(shape=False)
def pseudonymize(
    exports: ExportsArgument,
    output: Annotated[
        Path | None,
        typer.Option(
            "-o",
            "--output",
            help="Where to write (.csv or .parquet), atomically, mode 0600; - is stdout.",
            callback=stdout_or_file,
        ),
    ],
    key_file: Annotated[
        Path | None,
        typer.Option("--key-file", help="File holding the key: hex or base64 text, >= 32 bytes."),
    ] = None,
    key_env: Annotated[
        str | None,
        typer.Option("--key-env", help="Environment variable holding the key (hex or base64)."),
    ] = None,
    fmt: Annotated[
        PseudonymFormat | None,
        typer.Option("--format", help="csv or parquet. Default: from -o's suffix."),
    ] = None,
    *,
    flags: SourceFlags,
) -> None:
    """Replace pupil ids by keyed HMAC-SHA256 pseudonyms; the same key gives the same pseudonyms.

    Refuses to run without a key (a plain hash is reversible) or with one shorter than 32 bytes.
    CPR-shaped ids are checked for format and calendar date (not modulus 11) first.
    """
    out_format = fmt or (format_for_path(output) if output is not None else None)
    if out_format not in ("csv", "parquet"):
        named = f"'{output.name}'" if output is not None else "-o -"
        raise UsageError(f"cannot tell csv or parquet from {named}; give --format")
    if output is None and out_format == "parquet" and sys.stdout.isatty():
        raise UsageError("parquet is binary: give -o PATH or redirect stdout")
    key = _read_key(key_file, key_env)
    options = flags.options()
    # The same reading and refusals as every command (shape, calendar, roster, files that
    # overlap), but the rows written back are the files' own: a lesson-level export stays
    # lesson-level, and several files (one per school) become one file of their rows.
    load(exports, options)
    frames = [_own_rows(export, options, key) for export in expand_paths(exports)]
    result = pl.concat(frames, how="diagonal_relaxed").collect(engine="streaming")
    write_frame(result, out_format, output)
    pupils = result[PUPIL_ID].n_unique()
    log.info(
        "pseudonymised %d row(s) of %d pupil(s) to %s", result.height, pupils, output or "stdout"
    )
