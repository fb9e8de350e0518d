"""Benchmark `classify` against the floor: polars reading the same columns and grouping by pupil,
and `classify --policy slagelse` (three rules, one a run of days) against `aalborg-2023`.

Run with ``make bench`` (never part of ``make test``). Figures are ratios against the floor
measured in the same run, because these machines are shared and noisy. Data is generated once
with ``fravaer demo-data`` and cached under ``benchmarks/data/`` (ignored by git).

    python benchmarks/bench_classify.py [--pupils 100000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time

import polars as pl
from common import DATA, RESULTS, dataset


def timed(command: list[str], repeat: int) -> dict[str, float]:
    """Median wall time and the largest peak RSS of ``repeat`` runs of a fresh process."""
    walls, peaks = [], []
    for _ in range(repeat):
        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        start = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
        walls.append(time.perf_counter() - start)
        peaks.append(max(before, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))
    return {"median_s": statistics.median(walls), "peak_rss_mb": max(peaks) / 1024}


FLOOR = """
import sys, polars as pl
pl.scan_parquet(sys.argv[1]).group_by("pupil_id").agg(
    pl.col("absent_fraction").mean(), pl.col("date").max(), pl.col("school_id").first()
).collect(engine="streaming")
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pupils", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    path = dataset(args.pupils, ".parquet")
    rows = pl.scan_parquet(path).select(pl.len()).collect().item()
    floor = timed([sys.executable, "-c", FLOOR, str(path)], args.repeat)

    def classify(policy: str) -> dict[str, float]:
        return timed(
            [sys.executable, "-m", "fravaer", "classify", str(path), "--policy", policy,
             "--format", "parquet", "-o", str(DATA / "classified.parquet")],
            args.repeat,
        )  # fmt: skip

    aalborg, slagelse = classify("aalborg-2023"), classify("slagelse")
    result = {
        "rows": rows,
        "pupils": args.pupils,
        "floor": floor,
        "classify": aalborg,
        "classify_slagelse": slagelse,
        "classify_over_floor": aalborg["median_s"] / floor["median_s"],
        "slagelse_over_aalborg": slagelse["median_s"] / aalborg["median_s"],
        "machine": {"python": platform.python_version(), "polars": pl.__version__,
                    "cpus": len(os.sched_getaffinity(0))},
    }  # fmt: skip
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"classify-{args.pupils}.json"
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
