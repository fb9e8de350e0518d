"""What an analyst would otherwise run, each as a fresh process the harness times.

    python benchmarks/baselines.py duckdb  SOURCE AS_OF OUT.parquet
    python benchmarks/baselines.py pandas  SOURCE AS_OF OUT.parquet
    python benchmarks/baselines.py floor   SOURCE AS_OF OUT.parquet
    python benchmarks/baselines.py floor-int SOURCE AS_OF OUT.parquet
    python benchmarks/baselines.py polars-csv-classify CSV AS_OF OUT.parquet
    python benchmarks/baselines.py polars-rank SOURCE AS_OF OUT.parquet

``SOURCE`` is a Parquet file, a hive-partitioned folder, or (``duckdb`` and ``floor-int``) a
``;``-separated, decimal-comma CSV as benchmarks/common.py writes one. Each writes ``pupil_id``,
``absence_pct`` and ``step`` (the floor: ``pupil_id`` and a mean) so that the harness can check
that they give fravaer's answers before their times count.

The definitions are those of ``aalborg-2023`` (docs/classify.md, SPEC §3): a pupil's window is
their latest 100 school days, a school day being a distinct date of the pupil's own rows, on or
before the as-of date; absence % = 100 × Σ ``absent_fraction`` of illness, leave and unlawful
rows in the window ÷ school days in it; step 1/2/3 at 10/15/20 % or more; no step (null) with
fewer than 10 school days. Fractions are summed as whole day units (``DAY_UNITS`` per day) and
thresholds compared in integers, as fravaer does, because a sum of sixths in floating point
lands on either side of 10 % (see docs/performance.md, "Decisions").
"""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

DAY_UNITS = 18_018_000  # fravaer.schema.DAY_UNITS, written out: an analyst's query has no import
WINDOW_DAYS = 100
MIN_DAYS = 10
STEPS = ((3, 20), (2, 15), (1, 10))  # step, at least this %

SQL = f"""
WITH pupil_days AS (           -- one row per pupil and school day, absence in whole units
    SELECT pupil_id, date,
           SUM(CASE WHEN category <> 'present'
                    THEN CAST(round(absent_fraction * {DAY_UNITS}) AS BIGINT) ELSE 0 END) AS units
    FROM read_parquet($source, hive_partitioning = $hive)
    WHERE date <= $as_of
    GROUP BY pupil_id, date
), latest AS (                 -- the pupil's latest {WINDOW_DAYS} school days
    SELECT pupil_id, units,
           row_number() OVER (PARTITION BY pupil_id ORDER BY date DESC) AS day_rank
    FROM pupil_days
), per_pupil AS (
    SELECT pupil_id, count(*) AS window_days, sum(units) AS units
    FROM latest
    WHERE day_rank <= {WINDOW_DAYS}
    GROUP BY pupil_id
)
SELECT pupil_id,
       100.0::DOUBLE * units / (window_days * {DAY_UNITS})::DOUBLE AS absence_pct,
       CAST(CASE
           WHEN window_days < {MIN_DAYS} THEN NULL
           {
    " ".join(
        f"WHEN units * 100 >= {pct} * window_days * {DAY_UNITS} THEN {step}" for step, pct in STEPS
    )
}
           ELSE 0 END AS TINYINT) AS step
FROM per_pupil
"""


PARQUET_READER = "read_parquet($source, hive_partitioning = $hive)"
CSV_READER = (
    "read_csv($source, delim = ';', decimal_separator = ',', header = true, "
    "types = {'pupil_id': 'VARCHAR', 'school_id': 'VARCHAR'})"
)
"""What the query reads from a ``;`` CSV instead: the same query, DuckDB's own CSV sniffer,
the ids kept as text (their leading zeros are part of them)."""


def run_duckdb(source: Path, as_of: date, out: Path) -> None:
    import duckdb

    pattern = str(source / "**" / "*.parquet") if source.is_dir() else str(source)
    con = duckdb.connect()
    sql = SQL.replace(PARQUET_READER, CSV_READER) if is_csv(source) else SQL
    query = f"COPY ({sql}) TO '{out}' (FORMAT parquet)"
    if is_csv(source):
        con.execute(query, {"source": pattern, "as_of": as_of})
        return
    con.execute(query, {"source": pattern, "hive": source.is_dir(), "as_of": as_of})


def run_pandas(source: Path, as_of: date, out: Path) -> None:
    """groupby + rolling: every pupil-day's trailing 100-day sum, then each pupil's latest."""
    import numpy as np
    import pandas as pd

    rows = pd.read_parquet(
        source,
        columns=["pupil_id", "date", "category", "absent_fraction"],
        filters=[("date", "<=", as_of)],
    )
    absent = (rows["category"] != "present").to_numpy()
    rows["units"] = np.where(absent, (rows["absent_fraction"] * DAY_UNITS).round(), 0).astype(
        np.int64
    )
    days = rows.groupby(["pupil_id", "date"], observed=True)["units"].sum().reset_index()
    days = days.sort_values(["pupil_id", "date"])
    rolling = days.groupby("pupil_id")["units"].rolling(WINDOW_DAYS, min_periods=1)
    days["window_units"] = rolling.sum().to_numpy()
    days["window_days"] = rolling.count().to_numpy()
    latest = days.groupby("pupil_id").tail(1)
    units = latest["window_units"].to_numpy().astype(np.int64)
    window_days = latest["window_days"].to_numpy().astype(np.int64)
    step = np.zeros(len(latest), dtype=np.float64)
    for level, pct in reversed(STEPS):
        step = np.where(units * 100 >= pct * window_days * DAY_UNITS, level, step)
    step = np.where(window_days < MIN_DAYS, np.nan, step)
    pd.DataFrame(
        {
            "pupil_id": latest["pupil_id"].to_numpy(),
            "absence_pct": 100.0 * units / (window_days * DAY_UNITS).astype(np.float64),
            "step": pd.array(step, dtype="Int8"),
        }
    ).to_parquet(out, index=False)


def run_floor(source: Path, as_of: date, out: Path) -> None:
    """Reading and grouping, no window: the least any per-pupil answer can cost."""
    import polars as pl

    scan = (
        pl.scan_parquet(source, hive_partitioning=True, hive_schema={"school_id": pl.String()})
        if source.is_dir()
        else pl.scan_parquet(source)
    )
    scan.filter(pl.col("date") <= as_of).group_by("pupil_id").agg(
        pl.col("absent_fraction").mean(), pl.col("date").max(), pl.col("school_id").first()
    ).collect(engine="streaming").write_parquet(out)


def run_polars_rank(source: Path, as_of: date, out: Path) -> None:
    """DuckDB's query written in polars (a Parquet file): pupil-day units, a rank per pupil, the
    latest 100 days summed. What a polars user writes without fravaer's checks."""
    import polars as pl

    present = pl.col("category").cast(pl.String) == "present"
    units = (pl.col("absent_fraction") * DAY_UNITS).round().cast(pl.Int64)
    days = (
        pl.scan_parquet(source)
        .filter(pl.col("date") <= as_of)
        .group_by("pupil_id", "date")
        .agg(pl.when(present).then(0).otherwise(units).sum().alias("units"))
    )
    latest = days.filter(
        pl.col("date").rank("ordinal", descending=True).over("pupil_id") <= WINDOW_DAYS
    )
    per_pupil = latest.group_by("pupil_id").agg(
        pl.len().cast(pl.Int64).alias("window_days"), pl.col("units").sum()
    )
    window_days, total = pl.col("window_days"), pl.col("units")
    step: pl.Expr = pl.lit(0, dtype=pl.Int8)
    for level, pct in reversed(STEPS):
        reached = total * 100 >= pct * window_days * DAY_UNITS
        step = pl.when(reached).then(pl.lit(level, dtype=pl.Int8)).otherwise(step)
    per_pupil.select(
        "pupil_id",
        (100.0 * total / (window_days * DAY_UNITS)).alias("absence_pct"),
        pl.when(window_days >= MIN_DAYS).then(step).alias("step"),
    ).collect(engine="streaming").write_parquet(out)


def is_csv(source: Path) -> bool:
    return source.suffix == ".csv"


def run_floor_int(source: Path, as_of: date, out: Path) -> None:
    """The floor grouped by an integer pupil key (the id's 64-bit hash), on any layout.

    Grouping 20 M rows by a text id costs several times more when the rows are not in pupil
    order (hash-table misses on 100,000 strings); an integer key is what the least per-pupil
    answer costs on every layout (docs/performance.md, "Layouts"). The id is mapped back by
    ``first()``; a hash collision would merge two pupils, which the harness's check would see
    as a pupil count that differs from fravaer's.
    """
    import polars as pl

    if is_csv(source):
        frame = pl.scan_csv(
            source,
            separator=";",
            decimal_comma=True,
            schema_overrides={
                "pupil_id": pl.String,
                "school_id": pl.String,
                "date": pl.Date,
                "absent_fraction": pl.Float64,
            },
        )
    elif source.is_dir():
        frame = pl.scan_parquet(
            source, hive_partitioning=True, hive_schema={"school_id": pl.String()}
        )
    else:
        frame = pl.scan_parquet(source)
    frame.filter(pl.col("date") <= as_of).group_by(pl.col("pupil_id").hash().alias("_key")).agg(
        pl.col("pupil_id").first(),
        pl.col("absent_fraction").mean(),
        pl.col("date").max(),
        pl.col("school_id").first(),
    ).drop("_key").collect(engine="streaming").write_parquet(out)


def run_polars_csv_classify(source: Path, as_of: date, out: Path) -> None:
    """polars' own ``read_csv`` of the ``;`` file, then fravaer's classify on it: no ingest."""
    import polars as pl

    from fravaer import schema as s
    from fravaer.classify import classify
    from fravaer.ingest.policy import load_policy

    frame = pl.read_csv(
        source, separator=";", decimal_comma=True, schema=dict(s.CANONICAL_SCHEMA)
    ).lazy()
    result = classify(
        frame,
        policy=load_policy("aalborg-2023"),
        national=load_policy("national-unlawful"),
        as_of=as_of,
    ).collect(engine="streaming")
    result.write_parquet(out)


RUNS = {
    "duckdb": run_duckdb,
    "pandas": run_pandas,
    "floor": run_floor,
    "floor-int": run_floor_int,
    "polars-csv-classify": run_polars_csv_classify,
    "polars-rank": run_polars_rank,
}


def main() -> None:
    name, source, as_of, out = sys.argv[1:]
    RUNS[name](Path(source), date.fromisoformat(as_of), Path(out))


if __name__ == "__main__":
    main()
