"""What lesson patterns cost: ``patterns`` against ``classify`` of the same lesson-level export.

    python benchmarks/bench_lessons.py --size 4m [--repeat 3]

``--size 4m`` is the municipality of the other benchmarks (20,000 pupils in 50 schools, the
school year 2023/24) written as a lesson-level export by ``fravaer demo-data --lessons`` (classes
of 25 on one timetable, about 5.4 lessons a day: about 21 M lesson rows for 3.9 M pupil-days),
with the three patterns planted on a tenth of the pupils each. A number is a number of pupils
for a quick run. The file is made once and cached under ``$FRAVAER_BENCH_DATA`` (default
``benchmarks/data/``, ignored by git).

Every run is a whole ``fravaer`` process under ``measure.py`` (wall time, peak RSS), and the
commands are interleaved so that a burst of load on the shared machine hits all of them:
``classify`` (the baseline), ``patterns`` and ``early-warning``, each writing Parquet. The
target is ``patterns`` at most 3x ``classify`` (docs/performance.md). Results go to
``benchmarks/results/lessons-SIZE.json``.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import polars as pl
from bench_classify import pupils_for, ratio_of, shorten, summarise
from common import (
    DATA,
    fravaer,
    in_scratch,
    latest_date,
    machine,
    main,
    run_interleaved,
    schools_for,
    write_result,
)

PLANTS = ("leaves-early", "subject", "arrives-late")
TARGET = 3.0
"""``patterns`` may take at most three times ``classify`` of the same file."""


def lesson_set(pupils: int) -> Path:
    """``fravaer demo-data --lessons`` for ``pupils`` in their schools, made once."""
    path = DATA / f"lessons-{pupils}-planted.parquet"
    if not path.exists():
        DATA.mkdir(parents=True, exist_ok=True)
        plant = [arg for kind in PLANTS for arg in ("--plant", kind)]
        fravaer("demo-data", "--lessons", "--pupils", str(pupils),
                "--schools", str(schools_for(pupils)), "--seed", "1", *plant,
                "-o", str(path))  # fmt: skip
    return path


def run(size: str, repeat: int) -> Path:
    """Measure one size; return the results file."""
    return in_scratch(run_in, size, repeat)


def run_in(scratch: Path, size: str, repeat: int) -> Path:
    source = lesson_set(pupils_for(size))
    measured_on = machine()  # before the runs: the commit measured, not one made meanwhile
    frame = pl.scan_parquet(source)
    rows = frame.select(pl.len()).collect().item()
    pupil_days = frame.select("pupil_id", "date").unique().select(pl.len()).collect().item()
    as_of = latest_date(source)
    command = [sys.executable, "-m", "fravaer"]

    def fravaer_to(name: str, *args: str) -> list[str]:
        out = str(scratch / f"{name}.parquet")
        return [*command, name, str(source), *args, "--format", "parquet", "-o", out]

    commands = {
        "classify": fravaer_to("classify"),
        "patterns": fravaer_to("patterns"),
        "early-warning": fravaer_to("early-warning"),
    }
    found: dict[str, Any] = {}

    def check(failed: dict[str, str]) -> None:  # the answers are lesson-level before any time
        if "patterns" in failed:
            return
        result = pl.read_parquet(scratch / "patterns.parquet")
        if "lesson_pattern" not in result.columns:
            failed["patterns"] = "not checked: no lesson columns (the export was not lessons)"
            return
        counts = result.group_by("lesson_pattern").len().drop_nulls().sort("lesson_pattern")
        found.update({"pupils": result.height, "lesson_patterns": dict(counts.iter_rows())})

    runs, failed = run_interleaved(commands, repeat, f"lessons-{size}", check)
    summary = {name: summarise(commands[name], walls) for name, walls in runs.items() if walls}
    for entry in summary.values():
        entry["command"] = " ".join(shorten(part) for part in entry["command"].split())
    ratios = {
        "patterns_over_classify": ratio_of(summary, "patterns", "classify"),
        "early_warning_over_classify": ratio_of(summary, "early-warning", "classify"),
        "patterns_peak_over_classify_peak": peak_ratio(summary, "patterns", "classify"),
    }
    result: dict[str, Any] = {
        "benchmark": "lessons",
        "size": size,
        "pupils": pupils_for(size),
        "rows": rows,
        "pupil_days": pupil_days,
        "source": source.name,
        "as_of": as_of.isoformat(),
        "repeat": repeat,
        "machine": measured_on,
        "runs": summary,
        "found": found,
        "failed": failed,
        "ratios": {k: v for k, v in ratios.items() if v is not None},
        "target": {"patterns_over_classify_at_most": TARGET},
    }
    path = write_result(f"lessons-{size}", result)
    print(report(result), file=sys.stderr)
    return path


def peak_ratio(runs: dict[str, dict[str, Any]], a: str, b: str) -> float | None:
    if a in runs and b in runs:
        return float(runs[a]["max_peak_rss_mb"] / runs[b]["max_peak_rss_mb"])
    return None


def report(result: dict[str, Any]) -> str:
    """A few lines a reader can paste: the median time and peak memory of each command."""
    lines = [f"lessons-{result['size']}: {result['rows']:,} lesson rows, "
             f"{result['pupil_days']:,} pupil-days"]  # fmt: skip
    for name, entry in result["runs"].items():
        lines.append(
            f"  {name:<14} median {entry['median_s']:.1f} s  peak {entry['max_peak_rss_mb']:.0f} MB"
        )
    ratio = result["ratios"].get("patterns_over_classify")
    if ratio is not None:
        verdict = "pass" if ratio <= TARGET else "miss"
        lines.append(f"  patterns / classify = {ratio:.2f} (target <= {TARGET:g}: {verdict})")
    return "\n".join(lines)


if __name__ == "__main__":
    main(run_in, __doc__)
