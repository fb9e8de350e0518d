"""Ways to measure a longest run of absent days, alone, on one export (docs/performance.md).

    python benchmarks/bench_runs.py FILE.parquet [--repeat 2]

The run is Slagelse's (whole absent days in illness, leave or unlawful, over the pupil's latest
20 school days, as of 2024-06-21). Each method runs in a fresh process; the table gives its wall
time, CPU seconds (user + system of the collect) and peak RSS (of the whole process, which
reads the file). Every method's runs must equal the first's, pupil for pupil.

- ``dates``: the per-pupil list of distinct dates alone, which every method needs and
  classify gathers anyway (the floor).
- ``year``: one row per pupil-day of the whole year, the window applied inside the per-pupil
  aggregation (the way before).
- ``window``: the rows inside the window only, then pupil-days and the per-pupil run (taken).
- ``sorted``: as ``window``, then the pupil-days sorted once and cut into runs (``rle_id``).
- ``listed``: no pupil-day frame: each pupil's absent days as a list beside the pupil's dates,
  merged into one sorted list whose adjacent pairs mark an absent school day.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import polars as pl

from fravaer import schema as s
from fravaer.window import CODE, CODES, UNITS, longest_run_expr, with_units

METHODS = ("dates", "year", "window", "sorted", "listed")
AS_OF = date(2024, 6, 21)
DAYS = 20
COUNTED = [CODES[c] for c in ("illness", "leave", "unlawful")]
RUN = "run"
_START, _UNITS, _ABSENT = "_start", "_day_units", "_absent"
DATES = "_dates"


def dates_expr() -> pl.Expr:
    """Inside ``group_by(pupil_id)``: the pupil's distinct dates, newest first (the per-pupil
    list classification used before it ranked each row's date, docs/performance.md)."""
    return pl.col(s.DATE).unique().sort(descending=True).alias(DATES)


def plan(path: Path, method: str) -> pl.LazyFrame:
    """The pupils' longest runs (or their date lists, for ``dates``) by ``method``."""
    rows = with_units(pl.scan_parquet(path), as_of=AS_OF).drop(s.CATEGORY)
    per_pupil = rows.group_by(s.PUPIL_ID).agg(dates_expr())
    starts = per_pupil.select(s.PUPIL_ID, pl.col(DATES).list.head(DAYS).list.last().alias(_START))
    if method == "dates":
        return starts
    counted = pl.when(pl.col(CODE).is_in(COUNTED)).then(pl.col(UNITS)).otherwise(0)
    joined = rows.join(starts, on=s.PUPIL_ID, how="left")
    if method == "year":
        days = joined.group_by(s.PUPIL_ID, s.DATE).agg(
            counted.sum().alias(_UNITS), pl.col(_START).first()
        )
        absent, within = pl.col(_UNITS) >= s.DAY_UNITS, pl.col(s.DATE) >= pl.col(_START)
        return days.group_by(s.PUPIL_ID).agg(longest_run_expr(absent, within).alias(RUN))
    inside = joined.filter(pl.col(s.DATE) >= pl.col(_START))
    days = inside.group_by(s.PUPIL_ID, s.DATE).agg(counted.sum().alias(_UNITS))
    if method == "window":
        absent = pl.col(_UNITS) >= s.DAY_UNITS
        return days.group_by(s.PUPIL_ID).agg(longest_run_expr(absent, pl.lit(True)).alias(RUN))
    if method == "sorted":
        cut = days.sort(s.PUPIL_ID, s.DATE).with_columns(
            (pl.col(_UNITS) >= s.DAY_UNITS).alias(_ABSENT)
        )
        return (
            cut.with_columns(pl.struct(s.PUPIL_ID, _ABSENT).rle_id().alias("_run_id"))
            .filter(pl.col(_ABSENT))
            .group_by(s.PUPIL_ID, "_run_id")
            .agg(pl.len().alias(RUN))
            .group_by(s.PUPIL_ID)
            .agg(pl.col(RUN).max())
        )
    # listed: a school day d is 2d in the merged list, an absent day 2d + 1, so after sorting
    # an absent school day is an even element followed by its odd twin.
    absent_days = (
        rows.filter(pl.col(CODE).is_in(COUNTED) & (pl.col(UNITS) > 0))
        .group_by(s.PUPIL_ID, s.DATE)
        .agg(pl.col(UNITS).sum().alias(_UNITS))
        .filter(pl.col(_UNITS) >= s.DAY_UNITS)
        .group_by(s.PUPIL_ID)
        .agg((pl.col(s.DATE).cast(pl.Int32) * 2 + 1).alias("_odd"))
    )
    e = pl.element()
    school_days = pl.col(DATES).list.head(DAYS).list.eval(e.cast(pl.Int32) * 2)
    merged = pl.concat_list(school_days, pl.col("_odd").fill_null([])).list.sort()
    flags = ((e.shift(-1) == e + 1).filter(e % 2 == 0)).cast(pl.Int32)
    count = flags.cum_sum()
    longest = (count - pl.when(flags == 0).then(count).otherwise(0).cum_max()).max()
    return per_pupil.join(absent_days, on=s.PUPIL_ID, how="left").select(
        s.PUPIL_ID, merged.list.eval(longest).list.first().fill_null(0).alias(RUN)
    )


def measure(path: Path, method: str, out: Path) -> None:
    """Collect one method's plan in this process and print its line."""
    before = resource.getrusage(resource.RUSAGE_SELF)
    started = time.perf_counter()
    frame = plan(path, method).collect(engine="streaming")
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    peak = after.ru_maxrss * 1024 / 1e9  # KiB on Linux
    print(f"| {method} | {wall:.1f} s | {cpu:.1f} s | {peak:.2f} GB |", flush=True)
    if method != "dates":
        frame.sort(s.PUPIL_ID).write_parquet(out / f"{method}.parquet")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", type=Path)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--method", choices=METHODS, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help="folder for the runs (default: a new temp one)")
    args = parser.parse_args()
    if args.method:
        measure(args.file, args.method, args.out)
        return
    args.out = args.out or Path(tempfile.mkdtemp(prefix="fravaer-runs-"))
    print("| method | wall | CPU | peak |\n|---|---|---|---|")
    for _ in range(args.repeat):
        for method in METHODS:
            command = [sys.executable, __file__, str(args.file), "--method", method]
            subprocess.run([*command, "--out", str(args.out)], check=True)
    first = pl.read_parquet(args.out / "year.parquet")
    for method in METHODS[2:]:
        other = pl.read_parquet(args.out / f"{method}.parquet")
        both = first.join(other, on=s.PUPIL_ID, how="full", coalesce=True)
        differ = both.filter(pl.col(RUN).fill_null(0) != pl.col(f"{RUN}_right").fill_null(0))
        if differ.height:
            raise SystemExit(f"{method}: {differ.height} pupil(s) differ from year")
    print(f"every method gives the same runs ({first.height} pupils)")


if __name__ == "__main__":
    main()
