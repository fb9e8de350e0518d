"""What the benchmarks share: the cached synthetic data sets, the timing wrapper, the results.

Data sets are made once with ``fravaer demo-data`` (or :func:`fravaer.demo.generate`, which is
what ``demo-data`` writes) and cached under ``$FRAVAER_BENCH_DATA`` (default
``benchmarks/data/``, ignored by git). Every file name carries what made it, so a cache is
never confused with another size or layout.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow.parquet as pq

HERE = Path(__file__).parent
DATA = Path(os.environ.get("FRAVAER_BENCH_DATA", HERE / "data"))
RESULTS = Path(os.environ.get("FRAVAER_BENCH_RESULTS", HERE / "results"))
MEASURE = HERE / "measure.py"

SIZES = {"4m": 20_000, "20m": 100_000, "100m": 500_000}
"""The benchmark sizes by name: pupils, each with about 194 school days (2023/24)."""

PUPILS_PER_SCHOOL = 400
HIVE_ROW_GROUP = 65_536
"""A school's rows are buffered until this many are pending, then written as one row group."""
HIVE_PENDING = 4_000_000
"""At most this many rows wait in memory for their school (plus one block being split)."""


def schools_for(pupils: int) -> int:
    return max(1, pupils // PUPILS_PER_SCHOOL)


def demo_args(pupils: int) -> list[str]:
    """``demo-data`` arguments of every benchmark set (the same as /work's earlier cache)."""
    return ["--pupils", str(pupils), "--schools", str(schools_for(pupils)), "--seed", "1"]


def parquet_set(pupils: int) -> Path:
    """``fravaer demo-data -o demo-N.parquet``, made once."""
    path = DATA / f"demo-{pupils}.parquet"
    if not path.exists():
        DATA.mkdir(parents=True, exist_ok=True)
        fravaer("demo-data", *demo_args(pupils), "-o", str(path))
    return path


def csv_set(pupils: int) -> Path:
    """The Parquet set as a Danish spreadsheet export: ``;``-separated, decimal comma, UTF-8.

    Streamed from the Parquet file with ``sink_csv``, so it holds no more than the Parquet read.
    """
    path = DATA / f"demo-{pupils}-semicolon.csv"
    if not path.exists():
        source = parquet_set(pupils)
        partial = path.with_suffix(".csv.partial")
        pl.scan_parquet(source).sink_csv(partial, separator=";", decimal_comma=True)
        partial.rename(path)
    return path


LAYOUTS = ("demo", "by_date", "plain_text", "csv")
"""The same rows as other tools export them (docs/performance.md, "Layouts"):

- ``demo``: fravaer's own Parquet, ordered by pupil, ``category`` a polars Enum, class and grade;
- ``by_date``: the same rows ordered by date, then school and pupil (a day-by-day register);
- ``plain_text``: ``by_date`` with ``category`` as plain text and no class or grade columns (as
  DuckDB, pandas or Spark write a file);
- ``csv``: ``by_date`` as a ``;``-separated, decimal-comma CSV (a Danish spreadsheet export).
"""


def layout_set(pupils: int, layout: str) -> Path:
    """One layout of the ``pupils`` set, made once from the demo Parquet (same rows)."""
    if layout == "demo":
        return parquet_set(pupils)
    if layout == "by_date":
        return derived(
            DATA / f"demo-{pupils}-by-date.parquet",
            lambda: scan(parquet_set(pupils)).sort("date", "school_id", "pupil_id"),
        )
    if layout == "plain_text":
        return derived(
            DATA / f"demo-{pupils}-by-date-text.parquet",
            lambda: (
                scan(layout_set(pupils, "by_date"))
                .with_columns(pl.col("category").cast(pl.String))
                .drop("class_name", "grade")
            ),
        )
    if layout == "csv":
        path = DATA / f"demo-{pupils}-by-date-semicolon.csv"
        if not path.exists():
            partial = path.with_suffix(".csv.partial")
            scan(layout_set(pupils, "by_date")).sink_csv(partial, separator=";", decimal_comma=True)
            partial.rename(path)
        return path
    raise ValueError(f"no layout {layout!r}; one of {', '.join(LAYOUTS)}")


def derived(path: Path, plan: Callable[[], pl.LazyFrame]) -> Path:
    """``plan`` written once to the Parquet file ``path`` (through a partial file)."""
    if not path.exists():
        DATA.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".parquet.partial")
        plan().collect().write_parquet(partial)
        partial.rename(path)
    return path


def hive_set(pupils: int) -> Path:
    """The set as a hive-partitioned folder ``school_id=S/part.parquet``, written streaming."""
    folder = DATA / f"demo-{pupils}-hive"
    if not (folder / "_done").exists():
        from fravaer.calendar import parse_school_year
        from fravaer.demo import DemoSpec, generate

        spec = DemoSpec(
            pupils=pupils,
            schools=schools_for(pupils),
            first_year=parse_school_year("2023/24"),
            seed=1,
        )
        write_hive(generate(spec), folder)
        (folder / "_done").touch()
    return folder


def write_hive(blocks: Iterable[pl.DataFrame], folder: Path) -> int:
    """Write frames to ``folder/school_id=S/part.parquet``, one file per school, in bounded memory.

    A block of pupils holds most of a few schools' rows and a few rows of pupils who moved to
    other schools. Rows wait per school and are written as one row group once
    :data:`HIVE_ROW_GROUP` of them are pending; when :data:`HIVE_PENDING` rows wait in all,
    every school is flushed. So memory holds at most one block and ``HIVE_PENDING`` rows, and
    files get few, large row groups. ``school_id`` lives in the folder name, not in the file.
    Returns the number of rows written.
    """
    folder.mkdir(parents=True, exist_ok=True)
    writers: dict[str, pq.ParquetWriter] = {}
    pending: dict[str, list[pl.DataFrame]] = defaultdict(list)
    waiting: dict[str, int] = defaultdict(int)
    rows = 0

    def flush(school: str) -> None:
        part = pl.concat(pending.pop(school)).to_arrow()
        waiting.pop(school)
        if school not in writers:
            directory = folder / f"school_id={school}"
            directory.mkdir(exist_ok=True)
            writers[school] = pq.ParquetWriter(
                directory / "part.parquet", part.schema, compression="zstd"
            )
        writers[school].write_table(part, row_group_size=len(part))

    try:
        for block in blocks:
            rows += block.height
            for (school,), part in block.partition_by("school_id", as_dict=True).items():
                pending[str(school)].append(part.drop("school_id"))
                waiting[str(school)] += part.height
            for school in [k for k, n in waiting.items() if n >= HIVE_ROW_GROUP]:
                flush(school)
            if sum(waiting.values()) >= HIVE_PENDING:
                for school in list(waiting):
                    flush(school)
        for school in list(waiting):
            flush(school)
    finally:
        for writer in writers.values():
            writer.close()
    return rows


def fravaer(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "fravaer", *args], check=True)


def latest_date(path: Path) -> date:
    """The default as-of date of a Parquet file or hive folder: its latest date."""
    value = scan(path).select(pl.col("date").max()).collect().item()
    assert isinstance(value, date)
    return value


def scan(path: Path) -> pl.LazyFrame:
    if path.is_dir():  # as fravaer reads it: keys are text, "_" files are not data
        return pl.scan_parquet(
            path, hive_partitioning=True, hive_schema={"school_id": pl.String()},
            hidden_file_prefix="_",
        )  # fmt: skip
    return pl.scan_parquet(path)


def parquet_glob(path: Path) -> str:
    """What DuckDB, pandas and polars read: the file, or every file of a hive folder."""
    return str(path / "**" / "*.parquet") if path.is_dir() else str(path)


class RunFailed(Exception):
    """A measured command exited with an error, or was killed over the memory cap."""

    def __init__(
        self, returncode: int, killed_over_mb: float | None, after_s: float | None = None
    ) -> None:
        self.returncode, self.killed_over_mb = returncode, killed_over_mb
        what = f"killed over {killed_over_mb:g} MB" if killed_over_mb else f"exit {returncode}"
        if killed_over_mb and after_s is not None:
            what += f" after {after_s:.0f} s"
        super().__init__(what)


def measure(command: list[str]) -> dict[str, float]:
    """One run of ``command`` in a fresh process: wall seconds and the peak RSS of that process.

    The command runs under ``measure.py``, a fresh Python parent that waits for it and reads
    ``getrusage(RUSAGE_CHILDREN).ru_maxrss``: the peak resident set of its one child (and any
    grandchild it waited for), never mixed with an earlier run's peak.

    Raises
    ------
    RunFailed
        The command failed, or ``FRAVAER_BENCH_MAX_RSS_MB`` was set and it went over it.
    """
    done = subprocess.run(
        [sys.executable, str(MEASURE), *command], stdout=subprocess.PIPE, text=True
    )
    lines = done.stdout.strip().splitlines()
    result: dict[str, float] = json.loads(lines[-1]) if lines else {}
    if done.returncode != 0:
        raise RunFailed(done.returncode, result.get("killed_over_mb"), result.get("wall_s"))
    return result


Runs = dict[str, list[dict[str, float]]]
"""Each command's name -> one :func:`measure` result per run."""


def run_interleaved(
    commands: dict[str, list[str]],
    repeat: int,
    label: str,
    after_first: Callable[[dict[str, str]], None],
) -> tuple[Runs, dict[str, str]]:
    """Every command ``repeat`` times, interleaved: each once, then each again, so that a burst
    of load on a shared machine hits all of them rather than one. Returns the runs and, by
    name, why a command failed (it is not run again: "completes" can itself be a target).

    ``after_first(failed)`` runs after the first round, to check the answers before any time is
    kept; it may add to ``failed`` (a baseline whose answer could not be checked).
    """
    runs: Runs = {name: [] for name in commands}
    failed: dict[str, str] = {}
    for attempt in range(repeat):
        for name, command in commands.items():
            if name in failed:
                continue
            print(f"[{label}] {name} run {attempt + 1}/{repeat}", file=sys.stderr, flush=True)
            try:
                runs[name].append(measure(command))
            except RunFailed as exc:
                failed[name] = str(exc)
                print(f"[{label}] {name} failed: {exc}", file=sys.stderr, flush=True)
        if attempt == 0:
            after_first(failed)
    return runs, failed


def machine() -> dict[str, Any]:
    import duckdb
    import pandas

    import fravaer

    memory = next(
        int(line.split()[1]) // 1024
        for line in Path("/proc/meminfo").read_text().splitlines()
        if line.startswith("MemTotal:")
    )
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    return {
        "cpu": model,
        "cpus": len(os.sched_getaffinity(0)),
        "memory_mb": memory,
        "load_average": list(os.getloadavg()),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "fravaer": getattr(fravaer, "__version__", "unknown"),
        "git_commit": git_commit(),
        "polars": pl.__version__,
        "duckdb": duckdb.__version__,
        "pandas": pandas.__version__,
        "pyarrow": pq.__version__ if hasattr(pq, "__version__") else pyarrow_version(),
    }


def pyarrow_version() -> str:
    import pyarrow

    return str(pyarrow.__version__)


def git_commit() -> str:
    done = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=HERE, capture_output=True, text=True
    )
    return done.stdout.strip() or "unknown"


def write_result(name: str, result: dict[str, Any]) -> Path:
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return path


RunIn = Callable[[Path, str, int], Path]
"""A benchmark: measure one size in a scratch folder, ``repeat`` times; return the results file."""


def in_scratch(run_in: RunIn, size: str, repeat: int) -> Path:
    """Run a benchmark in a scratch folder that is removed afterwards, whatever happens."""
    scratch = Path(tempfile.mkdtemp(prefix="fravaer-bench-"))
    try:
        return run_in(scratch, size, repeat)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def main(run_in: RunIn, description: str | None) -> None:
    """The command line of one benchmark script: ``--size`` and ``--repeat``."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--size", default="20m")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(in_scratch(run_in, args.size, args.repeat))
