"""Benchmark CSV ingest on the ``;``-separated, decimal-comma set against polars' own read_csv.

    python benchmarks/bench_ingest.py --size 20m [--repeat 3]

Two pairs, each run in a fresh process under ``measure.py``, interleaved:

- **ingest + classify** (target: at most 1.5x): ``fravaer classify FILE.csv`` against
  ``pl.read_csv`` of the same file with its schema given, then fravaer's own
  :func:`fravaer.classify.classify` on it (``baselines.py polars-csv-classify``). The two must
  give the same pupils, % and steps; the difference is what fravaer's ingest costs: sniffing the
  dialect, Danish headers and codes, and every check of docs/ingest.md.
- **ingest alone** (target: at most 1.5x, memory bounded): ``read_export`` against
  ``pl.read_csv(infer_schema=False)``.

Results go to ``benchmarks/results/ingest-SIZE.json``.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from bench_classify import BASELINES, compare, pupils_for, ratio_of, summarise
from common import (
    csv_set,
    in_scratch,
    latest_date,
    machine,
    main,
    parquet_set,
    run_interleaved,
    write_result,
)

READ_CSV = (
    "import sys, polars as pl; pl.read_csv(sys.argv[1], separator=';', infer_schema=False).height"
)
READ_EXPORT = (
    "import sys; from pathlib import Path; from fravaer.ingest import read_export; "
    "read_export(Path(sys.argv[1])).select('pupil_id').collect().height"
)


def run(size: str, repeat: int) -> Path:
    """Measure ingest on one size's ``;`` CSV; return the results file."""
    return in_scratch(run_in, size, repeat)


def run_in(scratch: Path, size: str, repeat: int) -> Path:
    pupils = pupils_for(size)
    path = csv_set(pupils)
    as_of = latest_date(parquet_set(pupils))
    python = sys.executable
    ours, theirs = scratch / "classify.parquet", scratch / "polars.parquet"
    commands = {
        "read_csv_classify": [python, str(BASELINES), "polars-csv-classify", str(path),
                              as_of.isoformat(), str(theirs)],
        "classify_csv": [python, "-m", "fravaer", "classify", str(path),
                         "--format", "parquet", "-o", str(ours)],
        "read_csv": [python, "-c", READ_CSV, str(path)],
        "read_export": [python, "-c", READ_EXPORT, str(path)],
    }  # fmt: skip
    agreement: dict[str, str] = {}

    def check(failed: dict[str, str]) -> None:
        if not {"classify_csv", "read_csv_classify"} & set(failed):
            agreement["read_csv_classify"] = compare(ours, theirs, "read_csv + classify")
        else:
            failed.setdefault("read_csv_classify", "not checked: a classify run failed")

    runs, failed = run_interleaved(commands, repeat, f"{size} csv", check)
    summary = {name: summarise(commands[name], w) for name, w in runs.items() if name not in failed}
    result: dict[str, Any] = {
        "benchmark": "ingest",
        "size": size,
        "pupils": pupils,
        "source": path.name,
        "file_mb": round(path.stat().st_size / 1e6, 1),
        "as_of": as_of.isoformat(),
        "repeat": repeat,
        "machine": machine(),
        "runs": summary,
        "agreement": agreement,
        "failed": failed,
        "ratios": {
            "classify_csv_over_read_csv_classify": ratio_of(
                summary, "classify_csv", "read_csv_classify"
            ),
            "read_export_over_read_csv": ratio_of(summary, "read_export", "read_csv"),
        },
    }
    return write_result(f"ingest-{size}", result)


if __name__ == "__main__":
    main(run_in, __doc__)
