"""Benchmark fravaer's commands on one data set against DuckDB, pandas and the polars floor.

``site`` (every page of the municipality) runs beside ``classify`` up to 20 M rows, so its ratio
to ``classify`` is measured in the same run (docs/performance.md#the-site).

    python benchmarks/bench_classify.py --size 20m [--repeat 3]

``--size`` is ``4m``, ``20m`` or ``100m`` (100m is the hive-partitioned folder) or a
number of pupils for a quick run. Every run is a fresh process under ``measure.py``: wall time
and that process's peak RSS. The runs are interleaved (each command once, then again), so that
a burst of load on the shared machine hits every command rather than one. The first run of
every baseline is checked against fravaer's answer (pupil_id, absence_pct to 1e-9, step) before
any time is kept; a disagreement stops the benchmark. Results go to
``benchmarks/results/classify-SIZE.json``; ``summary.py`` prints the targets.
"""

from __future__ import annotations

import statistics
import sys
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import polars as pl
from common import (
    SIZES,
    hive_set,
    in_scratch,
    latest_date,
    machine,
    main,
    parquet_set,
    run_interleaved,
    scan,
    write_result,
)

HERE = Path(__file__).parent
BASELINES = HERE / "baselines.py"
TOLERANCE = 1e-9
PANDAS_MAX_PUPILS = SIZES["4m"]
"""pandas runs only up to the municipality size: its target is at 4 M rows (docs/performance.md)."""
SITE_MAX_PUPILS = SIZES["20m"]
"""``site`` runs on the municipality and the 20 M rows, not on the national year: its pages are
for one municipality (docs/site.md)."""


class Disagreement(AssertionError):
    """A baseline's answer differs from fravaer's: its time would mean nothing."""


def pupils_for(size: str) -> int:
    return SIZES[size] if size in SIZES else int(size)


def source_for(size: str) -> Path:
    pupils = pupils_for(size)
    return hive_set(pupils) if size == "100m" else parquet_set(pupils)


def fravaer_commands() -> set[str]:
    """The subcommands of the installed fravaer (stats and escalate come from other branches)."""
    import typer.main

    from fravaer.cli import app

    group = typer.main.get_command(app)
    return set(getattr(group, "commands", {}))


def compare(ours: Path, theirs: Path, name: str) -> str:
    """Raise :class:`Disagreement` unless both files give every pupil the same % and step."""
    columns = ["pupil_id", "absence_pct", "step"]
    a = pl.read_parquet(ours, columns=columns)
    b = pl.read_parquet(theirs, columns=columns).with_columns(pl.col("step").cast(pl.Int8))
    joined = a.join(b, on="pupil_id", how="full", coalesce=True, suffix="_b")
    missing = joined.filter(pl.col("absence_pct").is_null() | pl.col("absence_pct_b").is_null())
    differ = joined.filter(
        ((pl.col("absence_pct") - pl.col("absence_pct_b")).abs() > TOLERANCE)
        | pl.col("step").ne_missing(pl.col("step_b"))
    )
    if missing.height or differ.height or a.height != b.height:
        raise Disagreement(
            f"{name} disagrees with fravaer: {a.height} vs {b.height} pupils, "
            f"{missing.height} in one only, {differ.height} with another % or step"
        )
    return f"{a.height} pupils agree (absence_pct within {TOLERANCE}, step equal)"


def run(size: str, repeat: int) -> Path:
    """Measure everything on one data set; return the results file."""
    return in_scratch(run_in, size, repeat)


def run_in(scratch: Path, size: str, repeat: int) -> Path:
    source = source_for(size)
    frame = scan(source)
    rows = frame.select(pl.len()).collect().item()
    as_of = latest_date(source)
    python, fravaer = sys.executable, [sys.executable, "-m", "fravaer"]

    def out(name: str) -> str:
        return str(scratch / f"{name}.parquet")

    def baseline(name: str) -> list[str]:
        return [python, str(BASELINES), name, str(source), as_of.isoformat(), out(name)]

    def classify(name: str, *options: str) -> list[str]:
        return [*fravaer, "classify", str(source), *options, "--format", "parquet", "-o", out(name)]

    commands: dict[str, list[str]] = {
        "floor": baseline("floor"),
        "duckdb": baseline("duckdb"),
        "classify": classify("classify"),
        "classify_include_left": classify("classify_include_left", "--include-left"),
        "classify_slagelse": classify("classify_slagelse", "--policy", "slagelse"),
    }
    if pupils_for(size) <= PANDAS_MAX_PUPILS:
        commands["pandas"] = baseline("pandas")
    available = fravaer_commands()
    skipped = []
    if "stats" in available:
        commands["stats"] = [*fravaer, "stats", str(source), "--by", "school,grade",
                             "-o", str(scratch / "stats.csv")]  # fmt: skip
    else:
        skipped.append("stats (not a subcommand of this fravaer)")
    if "escalate" in available:
        since = (as_of - timedelta(days=7)).isoformat()
        commands["escalate"] = [*fravaer, "escalate", str(source), "--since", since,
                                "-o", str(scratch / "escalate.csv")]  # fmt: skip
    else:
        skipped.append("escalate (not a subcommand of this fravaer)")
    if "site" in available and pupils_for(size) <= SITE_MAX_PUPILS:
        # Every page of the municipality, with a key of its own in the scratch folder.
        commands["site"] = [*fravaer, "site", str(source), "-o", str(scratch / "site")]
    elif "site" not in available:
        skipped.append("site (not a subcommand of this fravaer)")

    agreement: dict[str, str] = {}

    def check(failed: dict[str, str]) -> None:  # answers first: a wrong answer's time is not kept
        agreement.update(check_answers(commands, failed, out))

    runs, failed = run_interleaved(commands, repeat, size, check)
    # A baseline that could not be checked keeps its figures apart: they count for no ratio.
    unchecked = {
        name: summarise(commands[name], runs[name])
        for name, why in failed.items()
        if why.startswith("not checked") and runs[name]
    }
    for name in failed:
        runs.pop(name, None)
    summary = {name: summarise(commands[name], walls) for name, walls in runs.items() if walls}
    result: dict[str, Any] = {
        "benchmark": "classify",
        "size": size,
        "pupils": pupils_for(size),
        "rows": rows,
        "source": source.name,
        "hive_partitioned": source.is_dir(),
        "as_of": as_of.isoformat(),
        "repeat": repeat,
        "machine": machine(),
        "runs": summary,
        "agreement": agreement,
        "skipped": skipped,
        "failed": failed,
        "unchecked": unchecked,
        "ratios": ratios(summary),
    }
    return write_result(f"classify-{size}", result)


def check_answers(
    commands: dict[str, list[str]], failed: dict[str, str], out: Callable[[str], str]
) -> dict[str, str]:
    """Check the baselines' first answers against ``classify --include-left``'s.

    A baseline whose answer could not be checked (fravaer failed) is marked failed too: its time
    would compare with nothing. A disagreement raises :class:`Disagreement`.
    """
    agreement = {}
    ours = Path(out("classify_include_left"))
    for name in ("duckdb", "pandas"):
        if name not in commands or name in failed:
            continue
        if "classify_include_left" in failed:
            failed[name] = "not checked: classify --include-left failed"
            continue
        agreement[name] = compare(ours, Path(out(name)), name)
    if "classify" not in failed and "classify_include_left" not in failed:
        everyone = pl.read_parquet(ours, columns=["pupil_id"]).height
        default = pl.read_parquet(out("classify"), columns=["pupil_id"]).height
        agreement["classify"] = (
            f"{default} pupils (without the {everyone - default} who have left, "
            "as documented for --include-left)"
        )
    return agreement


def summarise(command: list[str], walls: list[dict[str, float]]) -> dict[str, Any]:
    return {
        "command": " ".join(shorten(part) for part in command),
        "wall_s": [round(w["wall_s"], 3) for w in walls],
        "median_s": statistics.median(w["wall_s"] for w in walls),
        "peak_rss_mb": [round(w["peak_rss_mb"], 1) for w in walls],
        "max_peak_rss_mb": max(w["peak_rss_mb"] for w in walls),
    }


def shorten(part: str) -> str:
    """Commands as a reader would type them: no venv or scratch paths."""
    if part == sys.executable:
        return "python"
    if "fravaer-bench-" in part:
        return "OUT/" + Path(part).name
    return part


def ratio_of(runs: dict[str, dict[str, Any]], a: str, b: str) -> float | None:
    """Median wall time of run ``a`` over that of run ``b``, when both ran."""
    if a in runs and b in runs:
        return float(runs[a]["median_s"] / runs[b]["median_s"])
    return None


def ratios(runs: dict[str, dict[str, Any]]) -> dict[str, float]:
    def r(a: str, b: str) -> float | None:
        return ratio_of(runs, a, b)

    pairs = {
        "duckdb_over_classify": r("duckdb", "classify"),
        "classify_over_floor": r("classify", "floor"),
        "pandas_over_classify": r("pandas", "classify"),
        "slagelse_over_aalborg": r("classify_slagelse", "classify"),
        "include_left_over_classify": r("classify_include_left", "classify"),
        "stats_over_floor": r("stats", "floor"),
        "escalate_over_classify": r("escalate", "classify"),
        "site_over_classify": r("site", "classify"),
    }
    return {k: v for k, v in pairs.items() if v is not None}


if __name__ == "__main__":
    main(run_in, __doc__)
