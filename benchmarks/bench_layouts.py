"""Benchmark ``fravaer classify`` on the same rows in every layout against DuckDB and the floor.

    python benchmarks/bench_layouts.py --size 20m [--repeat 3]

The layouts are those of :data:`common.LAYOUTS`, all made once from the demo Parquet of the
size (the same rows): fravaer's own file, the rows ordered by date, the date-ordered rows with
a plain-text category and without class and grade, and a ``;`` CSV of the date-ordered rows.
Per layout three commands, each a fresh process writing its result under ``measure.py``,
interleaved with every other layout's: ``fravaer classify FILE``, the analyst's DuckDB query
reading the same file (``baselines.py duckdb``), and the floor grouped by an integer pupil key
(``baselines.py floor-int``). Before any time is kept, every layout's ``classify`` output must
equal the demo file's (``assert_frame_equal``; without class and grade for ``plain_text``), and
DuckDB must give every classified pupil the same % and step. Results go to
``benchmarks/results/layouts-SIZE.json``; ``summary.py`` prints one row per layout.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import polars as pl
from bench_classify import BASELINES, TOLERANCE, Disagreement, pupils_for, ratio_of, summarise
from common import (
    LAYOUTS,
    in_scratch,
    latest_date,
    layout_set,
    machine,
    main,
    parquet_set,
    run_interleaved,
    write_result,
)
from polars.testing import assert_frame_equal

WITHOUT_ENROLMENT = {"plain_text"}
"""Layouts without class and grade columns: their output has those columns empty."""


def run(size: str, repeat: int) -> Path:
    """Measure every layout of one size; return the results file."""
    return in_scratch(run_in, size, repeat)


def run_in(scratch: Path, size: str, repeat: int) -> Path:
    pupils = pupils_for(size)
    sources = {layout: layout_set(pupils, layout) for layout in LAYOUTS}
    as_of = latest_date(parquet_set(pupils)).isoformat()
    python, fravaer = sys.executable, [sys.executable, "-m", "fravaer"]

    def out(name: str) -> Path:
        return scratch / f"{name}.parquet"

    commands: dict[str, list[str]] = {}
    for layout, source in sources.items():
        commands[f"classify_{layout}"] = [
            *fravaer, "classify", str(source), "--format", "parquet",
            "-o", str(out(f"classify_{layout}")),
        ]  # fmt: skip
        for baseline in ("duckdb", "floor-int"):
            name = f"{baseline.replace('-', '_')}_{layout}"
            commands[name] = [python, str(BASELINES), baseline, str(source), as_of, str(out(name))]
    agreement: dict[str, str] = {}

    def check(failed: dict[str, str]) -> None:
        agreement.update(check_layouts(out, failed))

    runs, failed = run_interleaved(commands, repeat, f"{size} layouts", check)
    summary = {name: summarise(commands[name], w) for name, w in runs.items() if name not in failed}
    result: dict[str, Any] = {
        "benchmark": "layouts",
        "size": size,
        "pupils": pupils,
        "sources": {layout: path.name for layout, path in sources.items()},
        "as_of": as_of,
        "repeat": repeat,
        "machine": machine(),
        "runs": summary,
        "agreement": agreement,
        "failed": failed,
        "ratios": {
            layout: {
                "duckdb_over_classify": ratio_of(summary, f"duckdb_{layout}", f"classify_{layout}"),
                "classify_over_floor": ratio_of(
                    summary, f"classify_{layout}", f"floor_int_{layout}"
                ),
            }
            for layout in LAYOUTS
        },
    }
    return write_result(f"layouts-{size}", result)


def check_layouts(out: Any, failed: dict[str, str]) -> dict[str, str]:
    """Every layout classifies like the demo file, and DuckDB agrees with every layout's
    classified pupils; raises :class:`Disagreement` otherwise."""
    agreement = {}
    reference = pl.read_parquet(out("classify_demo")) if "classify_demo" not in failed else None
    for layout in LAYOUTS:
        if f"classify_{layout}" in failed:
            failed.setdefault(f"duckdb_{layout}", "not checked: classify failed")
            continue
        ours = pl.read_parquet(out(f"classify_{layout}"))
        if reference is not None and layout != "demo":
            expected = reference
            if layout in WITHOUT_ENROLMENT:
                expected = reference.with_columns(
                    pl.lit(None, dtype=ours.schema[c]).alias(c) for c in ("class_name", "grade")
                )
            try:
                assert_frame_equal(ours, expected)
            except AssertionError as exc:
                raise Disagreement(f"classify of {layout} differs from the demo file's") from exc
        agreement[f"classify_{layout}"] = f"{ours.height} pupils, the demo file's output"
        if f"duckdb_{layout}" not in failed:
            agreement[f"duckdb_{layout}"] = agree_on(ours, out(f"duckdb_{layout}"), layout)
    return agreement


def agree_on(ours: pl.DataFrame, theirs: Path, layout: str) -> str:
    """DuckDB gives each pupil that ``classify`` keeps (it leaves out those who have left,
    docs/classify.md) the same % and step."""
    b = pl.read_parquet(theirs, columns=["pupil_id", "absence_pct", "step"])
    joined = ours.select("pupil_id", "absence_pct", "step").join(
        b.with_columns(pl.col("step").cast(pl.Int8)), on="pupil_id", how="left", suffix="_b"
    )
    differ = joined.filter(
        pl.col("absence_pct_b").is_null()
        | ((pl.col("absence_pct") - pl.col("absence_pct_b")).abs() > TOLERANCE)
        | pl.col("step").ne_missing(pl.col("step_b"))
    )
    if differ.height:
        raise Disagreement(f"DuckDB on {layout}: {differ.height} pupils with another % or step")
    return f"{ours.height} classified pupils agree ({b.height} in DuckDB's answer)"


if __name__ == "__main__":
    main(run_in, __doc__)
