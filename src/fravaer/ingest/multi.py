"""Several exports read as one: file lists, glob patterns and hive-partitioned Parquet.

Schools often export one file per school or per month. :func:`expand_paths` turns the paths and
patterns a user gives into files, :func:`combine` stacks their canonical frames and refuses
what would count a pupil-day twice, and :func:`read_hive` reads a directory written as
``export/school_id=851001/part-0.parquet``, where ``school_id`` may come from the directory name.
:func:`fravaer.ingest.read_export` uses all three. See docs/shapes.md.

Overlaps between files are judged on the canonical key, pupil + date + category:

- the same key with identical rows in two files is a *duplicate*: the later file's row is
  dropped, and a warning counts them per pair of files;
- the same key with any difference (fraction, school, grade, class) is a *conflict*: refused,
  naming both files, because nothing says which file is right;
- rows of one pupil-day spread over several files must still add up to at most one day.
"""

from __future__ import annotations

import glob
import logging
import re
from dataclasses import replace
from pathlib import Path
from typing import Final

import polars as pl

from fravaer import schema as s
from fravaer.days import (
    DAY_KEY,
    FIRST,
    ROW_KEY,
    SECOND,
    conflicts,
    day_units_expr,
    over_full_expr,
)
from fravaer.errors import BadInputError, InputMissingError, Location, UsageError
from fravaer.ingest.finish import warn_lost_zeros
from fravaer.ingest.headers import refuse_hidden_names

# The canonical reader's validation, shared so a hive directory is checked like one Parquet file.
from fravaer.ingest.origin import LINE, ROW_INDEX, Origin
from fravaer.ingest.validate import validate

log = logging.getLogger("fravaer")

_FILE: Final = "_file"
_FILES: Final = "_files"
_UNITS: Final = "_units"
_GLOB = re.compile(r"[*?\[]")
_HIDDEN = (".", "_")
"""Files and directories that hive writers leave beside the data (``_SUCCESS``, ``.crc``)."""


def expand_paths(patterns: list[str]) -> list[Path]:
    """The files named by paths and glob patterns, in the order given, each pattern sorted.

    A pattern (``*``, ``?``, ``[...]``; ``**`` spans directories) that matches nothing is an
    error, so that a mistyped pattern never silently reads fewer schools. A plain path is kept
    as it is (a missing one is refused); so is a path that exists as written although its name
    holds those characters (``fravær [uge 10].csv``, as Windows users name files). A path
    given twice is read once.

    Raises
    ------
    InputMissingError
        A pattern matches nothing, or a plain path does not exist (exit 66).

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> folder = Path(tempfile.mkdtemp())
    >>> for name in ("2024-02.csv", "2024-01.csv", "notes.txt"):
    ...     _ = (folder / name).write_text("")
    >>> [p.name for p in expand_paths([str(folder / "2024-*.csv")])]
    ['2024-01.csv', '2024-02.csv']
    """
    found: dict[Path, None] = {}
    for pattern in patterns:
        if _GLOB.search(pattern) and not Path(pattern).exists():
            matches = sorted(Path(p) for p in glob.glob(pattern, recursive=True))
            if not matches:
                raise InputMissingError(
                    f"{pattern}: no file matches this pattern",
                    hint="check the pattern; quote it so that the shell does not expand it",
                )
        else:
            path = Path(pattern)
            if not path.exists():
                raise InputMissingError(f"{pattern}: no such file")
            matches = [path]
        found.update(dict.fromkeys(matches))
    return list(found)


def combine(frames: list[tuple[Path, pl.LazyFrame]], *, lines: bool = False) -> pl.LazyFrame:
    """Stack canonical frames of several files, dropping duplicates and refusing conflicts.

    Parameters
    ----------
    frames
        ``(path, canonical frame)`` per file, each already read and validated.

    Returns
    -------
    pl.LazyFrame
        The canonical frame of all files. Of rows with the same pupil, date and category in
        several files, only the one from the earliest file in ``frames`` is kept. With
        ``lines`` (every frame has ``_line``, as the reader's ``keep_lines`` gives), each row
        keeps its line and its file's position in ``frames`` as ``_file``, for ``check``.

    Raises
    ------
    BadInputError
        Two files disagree about the same pupil, date and category (naming both files and the
        first differing column), or one pupil-day's fractions over several files add up to more
        than one day.

    Notes
    -----
    One aggregation per pupil-day finds the days present in more than one file; only those,
    normally none or few, are collected and compared row by row.

    Examples
    --------
    >>> import polars as pl
    >>> from datetime import date
    >>> from pathlib import Path
    >>> def export(school: str) -> pl.LazyFrame:
    ...     return pl.LazyFrame(
    ...         {"pupil_id": ["0042"], "school_id": [school], "date": [date(2024, 3, 1)],
    ...          "category": ["illness"], "absent_fraction": [1.0]}
    ...     )
    >>> same = [(Path("a.csv"), export("851001")), (Path("b.csv"), export("851001"))]
    >>> combine(same).collect().height
    1
    >>> other = [(Path("a.csv"), export("851001")), (Path("b.csv"), export("851002"))]
    >>> try:
    ...     combine(other)
    ... except BadInputError as error:
    ...     print(error.location)
    b.csv (column 'school_id')
    """
    if not frames:
        raise UsageError("no input files")

    def done(rows: pl.LazyFrame) -> pl.LazyFrame:
        return rows if lines else rows.drop(_FILE)

    tagged = pl.concat(
        [
            _canonical(frame, lines=lines).with_columns(pl.lit(i, dtype=pl.UInt32).alias(_FILE))
            for i, (_, frame) in enumerate(frames)
        ]
    )
    if len(frames) == 1:
        return done(tagged)

    paths = [path for path, _ in frames]
    day = [s.PUPIL_ID, s.DATE]
    shared_days = (
        tagged.group_by(day)
        .agg(pl.col(_FILE).n_unique().alias(_FILES))
        .filter(pl.col(_FILES) > 1)
        .select(day)
    )
    try:
        shared = tagged.join(shared_days, on=day, how="semi").collect()
    except (pl.exceptions.PolarsError, OSError) as exc:
        where = Location(", ".join(map(str, paths)))
        raise BadInputError(where, f"cannot read the data ({type(exc).__name__})") from None
    if shared.is_empty():
        return done(tagged)
    dropped = _repeats(shared, paths)
    kept = shared.join(dropped, on=[*day, s.CATEGORY, _FILE], how="anti")
    _refuse_over_full(kept, paths)
    if dropped.is_empty():
        return done(tagged)
    return done(tagged.join(dropped.lazy(), on=[*day, s.CATEGORY, _FILE], how="anti"))


def _canonical(frame: pl.LazyFrame, *, lines: bool = False) -> pl.LazyFrame:
    names = frame.collect_schema().names()
    columns = [
        (pl.col(c) if c in names else pl.lit(None)).cast(dtype).alias(c)
        for c, dtype in s.CANONICAL_SCHEMA.items()
    ]
    if lines:
        columns.append(pl.col(LINE).cast(pl.Int64))
    return frame.select(columns)


def _repeats(shared: pl.DataFrame, paths: list[Path]) -> pl.DataFrame:
    """Rows repeating a row of an earlier file (key and file); refuses rows that differ."""
    key = list(ROW_KEY)
    others = [c for c in s.CANONICAL_SCHEMA if c not in key]
    groups = (
        shared.group_by(key)
        .agg(
            pl.col(_FILE).min().alias("_first_file"),
            pl.col(_FILE).unique().sort().slice(1).alias("_later_files"),
        )
        .filter(pl.col("_later_files").list.len() > 0)
    )
    # The rule of fravaer.days, with the file's position as the order of the rows.
    found = conflicts(shared.join(groups, on=key, how="semi"), key, others, row=_FILE)
    if not found.is_empty():
        first = found.row(0, named=True)
        column = next(c for c in others if first[c])
        raise BadInputError(
            Location(str(paths[first[SECOND]]), column_name=column),
            f"differs from a row for the same pupil, date and category in {paths[first[FIRST]]}",
            hint="give each pupil-day to one file, or remove the file that is out of date",
        )
    dropped = groups.select(*key, "_first_file", pl.col("_later_files").alias(_FILE)).explode(_FILE)
    counts = dropped.group_by(_FILE, "_first_file").len().sort(_FILE, "_first_file")
    for later, first, count in counts.iter_rows():
        log.warning(
            "%s: ignored %d row(s) that repeat rows of %s", paths[later], count, paths[first]
        )
    return dropped.select(*key, _FILE)


def _refuse_over_full(kept: pl.DataFrame, paths: list[Path]) -> None:
    """Refuse a pupil-day whose rows in several files add up to more than one day."""
    over = (
        kept.group_by(DAY_KEY)
        .agg(day_units_expr().alias(_UNITS), pl.col(_FILE).unique().sort().alias(_FILES))
        .filter(over_full_expr(pl.col(_UNITS)))
    )
    if over.is_empty():
        return
    files = over[_FILES].sort().to_list()[0]
    raise BadInputError(
        Location(str(paths[files[-1]]), column_name=s.ABSENT_FRACTION),
        "absent fractions of one pupil-day add up to more than 1 together with "
        + ", ".join(str(paths[i]) for i in files[:-1]),
    )


def _hive_keys(files: list[Path], root: Path) -> list[str]:
    keys: dict[str, None] = {}
    for file in files:
        for part in file.relative_to(root).parts[:-1]:
            if "=" in part:
                keys[part.split("=", 1)[0]] = None
    return list(keys)


def hive_files(root: Path) -> list[Path]:
    """The data files of a hive-partitioned directory, without hidden and ``_`` files."""
    return sorted(
        p
        for p in root.rglob("*")
        if p.is_file() and not any(part.startswith(_HIDDEN) for part in p.relative_to(root).parts)
    )


def read_hive(root: Path) -> pl.LazyFrame:
    """Read and validate a hive-partitioned Parquet directory as one canonical export.

    Partition keys (``school_id=851001``) become columns and are read as text, so that a
    school id keeps its leading zeros. A key that is also a column of the files must agree with
    it on every row; otherwise polars would silently prefer the directory name. Errors name the
    directory and the 1-based row over all files in path order.

    Raises
    ------
    InputMissingError
        The directory holds no data files (exit 66).
    BadInputError
        What :func:`fravaer.ingest.read_parquet` refuses, and a key that disagrees with a column.
    """
    if not root.is_dir():
        raise InputMissingError(f"{root}: not a directory")
    files = hive_files(root)
    if not files:
        raise InputMissingError(f"{root}: no data files in this directory")
    origin = Origin(str(root))
    keys = _hive_keys(files, root)
    try:
        in_files = pl.scan_parquet(files[0], glob=False).collect_schema()
        scan = pl.scan_parquet(
            root,
            hive_partitioning=bool(keys),
            hive_schema={key: pl.String() for key in keys} or None,
            hidden_file_prefix=_HIDDEN,
            glob=False,
        )
        schema = scan.collect_schema()
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise origin.error(
            None, None, f"not a readable Parquet directory ({type(exc).__name__})"
        ) from None
    origin = replace(origin, header=tuple(schema))
    refuse_hidden_names(origin.header, file=str(root), line=None)
    for key in (k for k in keys if k in in_files):
        _check_key(root, key, origin)
    validated = validate(
        scan.with_row_index(ROW_INDEX), schema, origin, unindexed=scan, decode_all=True
    )
    if validated.pupil_ids is not None:
        warn_lost_zeros(validated.pupil_ids, origin)
    return validated.frame


def _check_key(root: Path, key: str, origin: Origin) -> None:
    """Refuse a file whose column ``key`` disagrees with its directory's ``key=value``."""
    path = "_path"
    plain = pl.scan_parquet(
        root,
        hive_partitioning=False,
        hidden_file_prefix=_HIDDEN,
        include_file_paths=path,
        glob=False,
    ).with_row_index(ROW_INDEX)
    from_dir = pl.col(path).str.extract(rf"(?:^|[/\\]){re.escape(key)}=([^/\\]*)[/\\]")
    column = pl.col(key).cast(pl.String)
    try:
        first = (
            plain.select(pl.col(ROW_INDEX).filter(column.is_null() | (column != from_dir)).min())
            .collect()
            .item()
        )
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise origin.error(None, key, f"cannot read the data ({type(exc).__name__})") from None
    if first is not None:
        raise origin.error(
            first, key, "differs from the directory name's partition value for this column"
        )
