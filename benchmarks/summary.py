"""Print the targets of docs/performance.md against the measured ratios, with pass or miss.

    python benchmarks/summary.py [--results DIR] [--markdown]

Reads ``classify-4m.json``, ``classify-20m.json``, ``classify-100m.json`` and
``ingest-20m.json`` from ``benchmarks/results/``; a target whose results are missing is shown as
``not run``. Exit status 0 whatever the outcome: a miss is a finding to write down, not a crash.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from common import RESULTS

GB = 1e9 / 2**20
"""One GB (10^9 bytes) in the MiB that peak RSS is reported in."""


@dataclass(frozen=True)
class Row:
    target: str
    measured: str
    limit: str
    verdict: str  # pass, miss or not run


def load(folder: Path, name: str) -> dict[str, Any] | None:
    path = folder / f"{name}.json"
    if not path.exists():
        return None
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def median(result: dict[str, Any] | None, run: str) -> float | None:
    if result is None or run not in result["runs"]:
        return None
    return float(result["runs"][run]["median_s"])


def peak(result: dict[str, Any] | None, run: str) -> float | None:
    if result is None or run not in result["runs"]:
        return None
    return float(result["runs"][run]["max_peak_rss_mb"])


def failure(*results_runs: tuple[dict[str, Any] | None, str]) -> str | None:
    """Why one of these runs has no figure, if it failed (fravaer's failure is a miss)."""
    for result, run in results_runs:
        if result is not None and run in result.get("failed", {}):
            return f"{run}: {result['failed'][run]}"
    return None


def row(
    target: str,
    value: float | None,
    limit: float,
    *,
    at_least: bool,
    unit: str,
    failed: str | None = None,
) -> Row:
    op = "≥" if at_least else "≤"
    if failed is not None:
        verdict = "miss" if failed.startswith("classify") else "not run"
        return Row(target, failed, f"{op} {limit:g}{unit}", verdict)
    if value is None:
        return Row(target, "—", f"{op} {limit:g}{unit}", "not run")
    ok = value >= limit if at_least else value <= limit
    return Row(target, f"{value:.2f}{unit}", f"{op} {limit:g}{unit}", "pass" if ok else "miss")


def ratio(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else a / b


def targets(folder: Path) -> list[Row]:
    """The targets of docs/performance.md, each a ratio of two runs on one machine, and those
    for CSV ingest alone: time, and memory as a peak no larger than polars' own
    ``read_csv`` holds (the file's text is not kept)."""
    m4, m20, m100 = (load(folder, f"classify-{s}") for s in ("4m", "20m", "100m"))
    ingest = load(folder, "ingest-20m")
    peak100 = peak(m100, "classify")
    return [
        row("20 M Parquet: DuckDB ÷ classify", ratio(median(m20, "duckdb"),
            median(m20, "classify")), 2, at_least=True, unit="×",
            failed=failure((m20, "classify"), (m20, "duckdb"))),
        row("20 M Parquet: classify ÷ floor", ratio(median(m20, "classify"),
            median(m20, "floor")), 4, at_least=False, unit="×",
            failed=failure((m20, "classify"), (m20, "floor"))),
        row("100 M hive: classify peak RSS (GB)", None if peak100 is None else peak100 / GB,
            6, at_least=False, unit=" GB", failed=failure((m100, "classify"))),
        row("100 M hive: classify peak ÷ DuckDB peak", ratio(peak100, peak(m100, "duckdb")),
            1, at_least=False, unit="×", failed=failure((m100, "classify"), (m100, "duckdb"))),
        row("100 M ÷ 20 M classify time", ratio(median(m100, "classify"),
            median(m20, "classify")), 6, at_least=False, unit="×",
            failed=failure((m100, "classify"), (m20, "classify"))),
        row("20 M ; CSV: classify ÷ (read_csv + classify)",
            ratio(median(ingest, "classify_csv"), median(ingest, "read_csv_classify")),
            1.5, at_least=False, unit="×", failed=failure(
                (ingest, "classify_csv"), (ingest, "read_csv_classify"))),
        row("20 M ; CSV: read_export ÷ read_csv",
            ratio(median(ingest, "read_export"), median(ingest, "read_csv")),
            1.5, at_least=False, unit="×", failed=failure(
                (ingest, "read_export"), (ingest, "read_csv"))),
        row("20 M ; CSV: read_export peak ÷ read_csv peak",
            ratio(peak(ingest, "read_export"), peak(ingest, "read_csv")),
            1, at_least=False, unit="×", failed=failure(
                (ingest, "read_export"), (ingest, "read_csv"))),
        row("4 M Parquet: pandas ÷ classify", ratio(median(m4, "pandas"),
            median(m4, "classify")), 10, at_least=True, unit="×",
            failed=failure((m4, "classify"), (m4, "pandas"))),
        row("20 M: slagelse ÷ aalborg-2023", ratio(
            median(m20, "classify_slagelse"), median(m20, "classify")), 2, at_least=False,
            unit="×", failed=failure((m20, "classify_slagelse"), (m20, "classify"))),
        row("4 M Parquet: site ÷ classify", ratio(median(m4, "site"),
            median(m4, "classify")), 3, at_least=False, unit="×",
            failed=failure((m4, "classify"), (m4, "site"))),
    ]  # fmt: skip


LAYOUT_NAMES = {
    "demo": "demo Parquet (pupil order, Enum category)",
    "by_date": "the same ordered by date",
    "plain_text": "by date, text category, no class/grade",
    "csv": "by date, ; CSV",
}


def layout_rows(folder: Path, size: str = "20m") -> list[tuple[str, ...]]:
    """One row per layout of ``layouts-SIZE.json``: classify, DuckDB, floor (seconds), DuckDB ÷
    classify (at least 2) and classify ÷ floor (at most 4), each with pass or miss."""
    result = load(folder, f"layouts-{size}")
    rows: list[tuple[str, ...]] = [
        ("layout", "classify", "DuckDB", "floor", "DuckDB ÷ classify", "classify ÷ floor")
    ]
    if result is None:
        return rows
    for layout, name in LAYOUT_NAMES.items():
        fravaer, duckdb, floor = (
            median(result, f"{run}_{layout}") for run in ("classify", "duckdb", "floor_int")
        )
        rows.append(
            (
                name,
                seconds(fravaer),
                seconds(duckdb),
                seconds(floor),
                verdict(ratio(duckdb, fravaer), 2, at_least=True),
                verdict(ratio(fravaer, floor), 4, at_least=False),
            )
        )
    return rows


def seconds(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f} s"


def verdict(value: float | None, limit: float, *, at_least: bool) -> str:
    if value is None:
        return "not run"
    ok = value >= limit if at_least else value <= limit
    return f"{value:.2f}× {'pass' if ok else 'miss'}"


def render_table(cells: list[tuple[str, ...]], *, markdown: bool) -> str:
    if markdown:
        lines = ["| " + " | ".join(c) + " |" for c in cells]
        lines.insert(1, "|" + "---|" * len(cells[0]))
        return "\n".join(lines)
    widths = [max(len(c[i]) for c in cells) for i in range(len(cells[0]))]
    return "\n".join("  ".join(v.ljust(w) for v, w in zip(c, widths, strict=True)) for c in cells)


def render(rows: list[Row], *, markdown: bool) -> str:
    header = ("target", "measured", "limit", "verdict")
    cells = [header, *((r.target, r.measured, r.limit, r.verdict) for r in rows)]
    return render_table(cells, markdown=markdown)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--results", type=Path, default=RESULTS)
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args()
    print(render(targets(args.results), markdown=args.markdown))
    layouts = layout_rows(args.results)
    if len(layouts) > 1:
        print()
        print(render_table(layouts, markdown=args.markdown))


if __name__ == "__main__":
    main()
