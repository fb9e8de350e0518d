"""Benchmark CSV ingest against polars' own read_csv of the same file (issue 3's target: <= 1.5x).

Run with ``make bench``. Data comes from ``fravaer demo-data`` and is cached under
``benchmarks/data/`` (ignored by git). Both sides run in a fresh process; the figure is the ratio
of the medians in the same run.

    python benchmarks/bench_ingest.py [--pupils 100000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

from common import RESULTS, dataset

BASELINE = "import sys, polars as pl; pl.read_csv(sys.argv[1], infer_schema=False).height"
OURS = (
    "import sys; from pathlib import Path; from fravaer.ingest import read_export; "
    "read_export(Path(sys.argv[1])).select('pupil_id').collect().height"
)


def median_wall(code: str, path: Path, repeat: int) -> float:
    walls = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code, str(path)], check=True)
        walls.append(time.perf_counter() - start)
    return statistics.median(walls)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pupils", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    path = dataset(args.pupils, ".csv")
    baseline = median_wall(BASELINE, path, args.repeat)
    ours = median_wall(OURS, path, args.repeat)
    result = {
        "file_mb": round(path.stat().st_size / 1e6, 1),
        "polars_read_csv_s": baseline,
        "read_export_s": ours,
        "read_export_over_read_csv": ours / baseline,
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"ingest-{args.pupils}.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
