"""The benchmark harness measures what it says (docs/performance.md): baselines that compute
fravaer's answer, a hive writer that keeps every row, a peak RSS that belongs to one run,
targets read right.

The baselines are checked the way the project checks measures: on random small exports with
split days, partial days, short windows and exact threshold boundaries, DuckDB's SQL and the
pandas rolling window must give every pupil fravaer's absence % (to 1e-9) and step.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date, timedelta
from fractions import Fraction
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fravaer import schema as s
from fravaer.calendar import parse_school_year
from fravaer.classify import classify
from fravaer.demo import DemoSpec, generate
from fravaer.ingest.multi import read_hive
from fravaer.ingest.policy import load_policy
from tests.profiles import examples

from .reference import Row, to_frame

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

import baselines  # noqa: E402
import bench_classify  # noqa: E402
import common  # noqa: E402
import summary  # noqa: E402

START = date(2024, 1, 1)
DAYS = [START + timedelta(days=i) for i in range(200) if (START + timedelta(days=i)).weekday() < 5]


def fravaer_answer(frame: pl.LazyFrame, as_of: date, out: Path) -> Path:
    result = classify(
        frame, policy=load_policy("aalborg-2023"), as_of=as_of, include_left=True
    ).collect()
    result.write_parquet(out)
    return out


@st.composite
def exports(draw: st.DrawFn) -> tuple[list[Row], date]:
    """A few pupils over up to 140 school days: whole, partial and split days, gaps, and one
    pupil placed exactly on (or a sixth of a lesson below) a threshold."""
    rows: list[Row] = []
    rng = draw(st.randoms(use_true_random=False))
    kinds = ["present", "present", "absent", "partial", "split", "gap"]
    for p in range(draw(st.integers(1, 4))):
        pupil = f"{p + 1:07d}"
        for day in DAYS[: draw(st.integers(1, 140))]:
            kind = rng.choice(kinds)
            if kind == "gap":
                continue
            if kind == "present":
                rows.append(Row(pupil, "851001", day, "present", Fraction(0)))
            elif kind == "absent":
                category = rng.choice(["illness", "leave", "unlawful"])
                rows.append(Row(pupil, "851001", day, category, Fraction(1)))
            elif kind == "partial":
                rows.append(Row(pupil, "851001", day, "illness", Fraction(rng.randint(1, 5), 6)))
            else:  # two categories on one day: one school day, two rows
                rows.append(Row(pupil, "851001", day, "illness", Fraction(1, 2)))
                rows.append(Row(pupil, "851002", day, "unlawful", Fraction(1, 3)))
    # On the boundary: a 100-day window with 10, 15 or 20 % in sixths, or a sixth below it.
    pct = draw(st.sampled_from([10, 15, 20]))
    below = draw(st.booleans())
    sixths = pct * 6 - (1 if below else 0)  # absent sixths of a day over 100 days
    for i, day in enumerate(DAYS[:100]):
        part = Fraction(min(5, max(0, sixths - 5 * i)), 6)
        rows.append(Row("9999999", "851003", day, "leave" if part else "present", part))
    as_of = DAYS[draw(st.integers(0, len(DAYS) - 1))]
    return rows, as_of


@settings(max_examples=examples(25), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=exports())
def test_duckdb_and_pandas_give_fravaers_answer(
    case: tuple[list[Row], date], tmp_path_factory: pytest.TempPathFactory
) -> None:
    rows, as_of = case
    folder = tmp_path_factory.mktemp("case")
    source = folder / "export.parquet"
    frame = to_frame(rows).filter(pl.col(s.DATE) <= DAYS[-1])
    frame.collect().write_parquet(source)
    if frame.filter(pl.col(s.DATE) <= as_of).select(pl.len()).collect().item() == 0:
        return  # nobody has a school day yet: fravaer refuses an empty export, and so may they
    ours = fravaer_answer(pl.scan_parquet(source), as_of, folder / "fravaer.parquet")

    for name in ("duckdb", "pandas"):
        out = folder / f"{name}.parquet"
        baselines.RUNS[name](source, as_of, out)
        assert bench_classify.compare(ours, out, name).endswith("step equal)")
    # DuckDB reading the same rows as the layouts benchmark's `;` CSV (decimal comma)
    csv = folder / "export.csv"
    frame.sort(s.DATE).sink_csv(csv, separator=";", decimal_comma=True)
    baselines.RUNS["duckdb"](csv, as_of, folder / "duckdb-csv.parquet")
    assert bench_classify.compare(ours, folder / "duckdb-csv.parquet", "csv").endswith("equal)")


def test_a_boundary_pupil_is_on_the_step_in_every_baseline(tmp_path: Path) -> None:
    # 60 sixths over 100 days is exactly 10 %: step 1, however the sixths are added up.
    rows = [
        Row("0000001", "851001", day, "illness" if i < 60 else "present",
            Fraction(1, 6) if i < 60 else Fraction(0))
        for i, day in enumerate(DAYS[:100])
    ]  # fmt: skip
    source = tmp_path / "export.parquet"
    to_frame(rows).collect().write_parquet(source)
    for name in ("duckdb", "pandas"):
        baselines.RUNS[name](source, DAYS[99], tmp_path / f"{name}.parquet")
        got = pl.read_parquet(tmp_path / f"{name}.parquet").row(0, named=True)
        assert got["step"] == 1
        assert got["absence_pct"] == pytest.approx(10.0, abs=1e-12)


def test_the_query_in_the_docs_is_the_query_that_runs() -> None:
    page = (ROOT / "docs" / "performance.md").read_text(encoding="utf-8")
    shown = page.split("```sql\n", 1)[1].split("```", 1)[0]

    assert shown.split() == baselines.SQL.split()


def test_compare_refuses_a_different_step_or_pupil(tmp_path: Path) -> None:
    ours = tmp_path / "ours.parquet"
    pl.DataFrame(
        {"pupil_id": ["1", "2"], "absence_pct": [10.0, 3.0], "step": [1, 0]},
        schema={"pupil_id": pl.String, "absence_pct": pl.Float64, "step": pl.Int8},
    ).write_parquet(ours)
    same, other_step, other_pct, fewer = (tmp_path / f"{n}.parquet" for n in "abcd")
    pl.read_parquet(ours).write_parquet(same)
    pl.read_parquet(ours).with_columns(step=pl.lit(1, pl.Int8)).write_parquet(other_step)
    pl.read_parquet(ours).with_columns(pl.col("absence_pct") + 1e-6).write_parquet(other_pct)
    pl.read_parquet(ours).head(1).write_parquet(fewer)

    assert bench_classify.compare(ours, same, "x").startswith("2 pupils agree")
    for theirs in (other_step, other_pct, fewer):
        with pytest.raises(bench_classify.Disagreement):
            bench_classify.compare(ours, theirs, "x")


def test_the_hive_writer_keeps_every_row_in_its_school_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Tiny limits, so that rows wait, are flushed by school and by the total, and files get
    # several row groups, as on the national set.
    monkeypatch.setattr(common, "HIVE_ROW_GROUP", 3_000)
    monkeypatch.setattr(common, "HIVE_PENDING", 20_000)
    monkeypatch.setattr("fravaer.demo.BLOCK_PUPILS", 40)
    spec = DemoSpec(pupils=200, schools=5, first_year=2023, seed=4, until=date(2023, 10, 31))
    folder = tmp_path / "hive"

    written = common.write_hive(generate(spec), folder)

    expected = pl.concat(generate(spec))
    assert written == expected.height
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        f"school_id={school}" for school in expected[s.SCHOOL_ID].unique()
    )
    back = read_hive(folder).collect().select(expected.columns)
    order = [s.PUPIL_ID, s.DATE, s.SCHOOL_ID]
    assert back.sort(order).equals(expected.sort(order))
    assert common.latest_date(folder) == expected[s.DATE].max()


def measure(*code: str) -> dict[str, float]:
    return common.measure([sys.executable, "-c", *code])


def test_peak_rss_belongs_to_its_own_run() -> None:
    big = measure("import numpy as np; a = np.ones(40_000_000); print(a.sum())")  # 320 MB
    small = measure("pass")

    assert big["peak_rss_mb"] > 300
    assert small["peak_rss_mb"] < 100  # a fresh parent: the earlier peak does not carry over
    assert small["wall_s"] > 0


def test_a_failing_command_fails_the_measurement() -> None:
    with pytest.raises(common.RunFailed, match="exit 3"):
        measure("raise SystemExit(3)")


def test_a_run_over_the_memory_cap_is_killed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FRAVAER_BENCH_MAX_RSS_MB", "150")
    grow = "import numpy as np, time; a = np.ones(40_000_000); time.sleep(5)"  # 320 MB, held

    with pytest.raises(common.RunFailed, match=r"killed over 150 MB after \d+ s") as failed:
        measure(grow)
    assert failed.value.returncode == 137
    assert measure("pass")["peak_rss_mb"] < 150


def result(runs: dict[str, tuple[float, float]]) -> dict[str, Any]:
    return {"runs": {k: {"median_s": t, "max_peak_rss_mb": m} for k, (t, m) in runs.items()}}


def test_the_summary_judges_each_target(tmp_path: Path) -> None:
    files = {
        "classify-4m": result(
            {"classify": (2.0, 900), "pandas": (19.0, 900), "site": (6.0, 2000)}
        ),  # pandas 9.5x: miss; site 3x: pass (inclusive)
        "classify-20m": result(
            {
                "classify": (4.0, 3000),
                "duckdb": (8.0, 2000),
                "floor": (1.0, 400),
                "classify_slagelse": (5.0, 3000),
            }
        ),
        "classify-100m": result({"classify": (25.0, 5000), "duckdb": (50.0, 4000)}),
        "ingest-20m": result({"read_export": (3.0, 1000), "read_csv": (2.0, 900)}),
    }
    for name, data in files.items():
        (tmp_path / f"{name}.json").write_text(json.dumps(data))

    rows = {r.target: r for r in summary.targets(tmp_path)}

    verdicts = {t: r.verdict for t, r in rows.items()}
    assert verdicts == {
        "20 M Parquet: DuckDB ÷ classify": "pass",  # 2.0 >= 2: inclusive
        "20 M Parquet: classify ÷ floor": "pass",  # 4.0 <= 4
        "100 M hive: classify peak RSS (GB)": "pass",  # 5000 MiB = 5.24 GB
        "100 M hive: classify peak ÷ DuckDB peak": "miss",  # 1.25
        "100 M ÷ 20 M classify time": "miss",  # 6.25
        "20 M ; CSV: classify ÷ (read_csv + classify)": "not run",
        "20 M ; CSV: read_export ÷ read_csv": "pass",  # 1.5 <= 1.5
        "20 M ; CSV: read_export peak ÷ read_csv peak": "miss",  # 1.11
        "4 M Parquet: pandas ÷ classify": "miss",
        "20 M: slagelse ÷ aalborg-2023": "pass",
        "4 M Parquet: site ÷ classify": "pass",
    }
    assert rows["4 M Parquet: pandas ÷ classify"].measured == "9.50×"
    table = summary.render(list(rows.values()), markdown=True)
    assert table.splitlines()[1] == "|---|---|---|---|"


def test_every_layout_holds_the_demo_files_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(common, "DATA", tmp_path)
    monkeypatch.setattr(common, "fravaer", lambda *a: write_demo(Path(a[-1])))
    demo = common.layout_set(50, "demo")
    rows = pl.read_parquet(demo).sort(s.PUPIL_ID, s.DATE, s.CATEGORY)
    by_date = pl.read_parquet(common.layout_set(50, "by_date"))
    text = pl.read_parquet(common.layout_set(50, "plain_text"))
    csv = pl.read_csv(
        common.layout_set(50, "csv"), separator=";", decimal_comma=True,
        schema=rows.schema,
    )  # fmt: skip

    assert by_date[s.DATE].is_sorted()
    assert by_date.sort(s.PUPIL_ID, s.DATE, s.CATEGORY).equals(rows)
    assert text.columns == [c for c in rows.columns if c not in (s.CLASS_NAME, s.GRADE)]
    assert text.schema[s.CATEGORY] == pl.String
    assert text.with_columns(pl.col(s.CATEGORY).cast(s.CATEGORY_DTYPE)).equals(
        by_date.drop(s.CLASS_NAME, s.GRADE)
    )
    assert csv.equals(by_date)


def write_demo(path: Path) -> None:
    spec = DemoSpec(pupils=50, schools=1, first_year=parse_school_year("2023/24"), seed=1)
    pl.concat(generate(spec)).write_parquet(path)


def test_the_summary_prints_one_row_per_layout(tmp_path: Path) -> None:
    runs = {}
    for layout, (ours, duck, floor) in {
        "demo": (2.0, 4.0, 0.5),  # 2x and 4x: both inclusive
        "by_date": (3.0, 5.0, 0.5),
        "plain_text": (3.0, 6.0, 1.0),
        "csv": (6.0, 3.0, 1.0),
    }.items():
        runs |= {f"classify_{layout}": (ours, 1), f"duckdb_{layout}": (duck, 1)}
        runs[f"floor_int_{layout}"] = (floor, 1)
    (tmp_path / "layouts-20m.json").write_text(json.dumps(result(runs)))

    rows = summary.layout_rows(tmp_path)

    assert rows[1][1:] == ("2.00 s", "4.00 s", "0.50 s", "2.00× pass", "4.00× pass")
    assert rows[2][4:] == ("1.67× miss", "6.00× miss")
    assert rows[4][4:] == ("0.50× miss", "6.00× miss")
    assert len(rows) == 1 + len(common.LAYOUTS)


@pytest.mark.slow
def test_the_whole_harness_runs_on_a_small_set(tmp_path: Path) -> None:
    env = {**os.environ, "FRAVAER_BENCH_DATA": str(tmp_path / "data"),
           "FRAVAER_BENCH_RESULTS": str(tmp_path / "results")}  # fmt: skip
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bench.py"), "600", "--repeat", "1"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    classified = json.loads((tmp_path / "results" / "classify-600.json").read_text())
    ingest = json.loads((tmp_path / "results" / "ingest-600.json").read_text())
    assert set(classified["agreement"]) == {"duckdb", "pandas", "classify"}
    assert {"floor", "duckdb", "pandas", "classify", "classify_slagelse", "site"} <= set(
        classified["runs"]
    )
    assert classified["ratios"]["site_over_classify"] > 0
    assert "pupils agree" in ingest["agreement"]["read_csv_classify"]
    assert ingest["ratios"]["classify_csv_over_read_csv_classify"] > 0
    layouts = json.loads((tmp_path / "results" / "layouts-600.json").read_text())
    assert set(layouts["agreement"]) == {
        f"{run}_{layout}" for run in ("classify", "duckdb") for layout in common.LAYOUTS
    }
    assert "verdict" in done.stdout
