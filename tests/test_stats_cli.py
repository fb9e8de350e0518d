"""`fravaer stats` as scripts see it: the column contract, suppression, exit codes, files, charts.

The table golden file is regenerated only deliberately::

    FRAVAER_UPDATE_GOLDEN=1 .venv/bin/pytest tests/test_stats_cli.py -k golden
"""

from __future__ import annotations

import io
import json
import os
import stat
import xml.etree.ElementTree as ET
from datetime import date, timedelta
from pathlib import Path

import fastexcel
import polars as pl
import pytest
from typer.testing import CliRunner, Result

from fravaer.cli import app
from fravaer.stats import MUNICIPALITY
from tests.reference_suppression import attack, attack_all

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "examples" / "demo-export.csv"
GOLDEN = Path(__file__).parent / "golden"
ERROR = "fravaer: error: "

METRICS = (
    "period,pupils,school_days,absence_pct,absence_pct_pooled,illness_pct,leave_pct,unlawful_pct,"
    "pupils_0_5,pupils_5_10,pupils_over_10,share_over_10,pupils_step_1,pupils_step_2,"
    "pupils_step_3,suppressed"
)


def run(*args: object) -> Result:
    return CliRunner().invoke(app, [str(arg) for arg in args])


def assert_clean_failure(result: Result, exit_code: int) -> str:
    assert result.exit_code == exit_code, result.output
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith(ERROR)]
    assert len(lines) == 1, result.stderr
    return lines[0]


def csv_frame(text: str) -> pl.DataFrame:
    return pl.read_csv(io.StringIO(text), infer_schema=False)


@pytest.fixture(scope="module")
def by_school() -> pl.DataFrame:
    result = run("stats", DEMO, "--format", "csv")
    assert result.exit_code == 0, result.output
    return csv_frame(result.stdout)


@pytest.mark.parametrize(
    ("by", "groups"),
    [
        ("school", "school_id"),
        ("grade", "grade"),
        ("class", "school_id,class_name"),
        ("grade,school", "school_id,grade"),
    ],
)
def test_csv_has_the_contract_columns(by: str, groups: str) -> None:
    result = run("stats", DEMO, "--by", by, "--format", "csv")

    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0] == f"{groups},{METRICS}"
    last = csv_frame(result.stdout).row(-1, named=True)
    assert all(last[g] is None for g in groups.split(","))  # the municipality row
    assert result.stderr.startswith("fravaer: statistics for ")


def test_the_municipality_row_adds_up_and_steps_match_classify(by_school: pl.DataFrame) -> None:
    schools = by_school.filter(pl.col("school_id").is_not_null())
    total = by_school.filter(pl.col("school_id").is_null()).row(0, named=True)
    assert total["period"] == "2023/24"
    for column in ("pupils", "school_days", "pupils_over_10", "pupils_step_1", "pupils_step_3"):
        assert sum(int(v) for v in schools[column]) == int(total[column])
    classified = csv_frame(run("classify", DEMO, "--format", "csv").stdout)
    steps = classified.group_by("step").len()
    for step in (1, 2, 3):
        want = steps.filter(pl.col("step") == str(step))["len"].item()
        assert int(total[f"pupils_step_{step}"]) == want


def test_small_groups_are_null_and_marked_in_json() -> None:
    result = run("stats", DEMO, "--by", "school,grade", "--format", "json")

    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    hidden = [row for row in rows if row["suppressed"]]
    assert len(hidden) >= 2
    assert all(row["pupils"] is None and row["absence_pct"] is None for row in hidden)
    assert all(row["school_id"] is not None and row["grade"] is not None for row in hidden)
    # Per school, and per grade, never exactly one hidden group.
    for key in ("school_id", "grade"):
        counts: dict[object, int] = {}
        for row in hidden:
            counts[row[key]] = counts.get(row[key], 0) + 1
        assert 1 not in counts.values()
    assert "hidden" in result.stderr


def test_no_suppression_must_be_asked_for_and_says_so() -> None:
    result = run("stats", DEMO, "--by", "school,grade", "--no-suppression", "--format", "table")

    assert result.exit_code == 0, result.output
    assert "UDEN DISKRETIONERING" in result.stdout
    assert "NOT suppressed" in result.stderr
    data = run("stats", DEMO, "--by", "school,grade", "--no-suppression", "--format", "csv")
    assert set(csv_frame(data.stdout)["suppressed"]) == {"false"}


@pytest.mark.parametrize("value", ["4", "0", "-3"])
def test_min_cell_below_five_is_refused(value: str) -> None:
    line = assert_clean_failure(run("stats", DEMO, "--min-cell", value), 2)
    assert "--min-cell must be at least 5" in line


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--period", "2023/25"], "--period"),
        (["--period", "2024Q2"], "starts after"),
        (["--by", "pupil"], "--by"),
        (["--chart", "chart.pdf"], "--chart"),
        (["--as-of", "2024-02-30"], "--as-of"),
        # At the ends of the calendar (docs/stats.md#options): a usage error, never exit 70.
        (["--period", "9999/00"], "not within the years 1900 to 9998"),
        (["--period", "9999Q4"], "not within the years 1900 to 9998"),
        (["--period", "0001-01-01:9999-12-31"], "not within the years 1900 to 9998"),
        (["--period", "1899Q4,2023/24"], "not within the years 1900 to 9998"),
    ],
)
def test_usage_errors(args: list[str], needle: str) -> None:
    assert needle in assert_clean_failure(run("stats", DEMO, *args), 2)


def test_a_trend_gives_one_block_per_period() -> None:
    result = run("stats", DEMO, "--period", "2023Q3,2023Q4,2024Q1", "--format", "csv")

    assert result.exit_code == 0, result.output
    frame = csv_frame(result.stdout)
    assert frame["period"].unique(maintain_order=True).to_list() == ["2023Q3", "2023Q4", "2024Q1"]
    assert frame.filter(pl.col("school_id").is_null()).height == 3
    table = run("stats", DEMO, "--period", "2022/23,2023/24", "--format", "table", "--lang", "en")
    assert "Trend: share of pupils over 10 % absence" in table.stdout
    trend = table.stdout.split("Trend:")[1]
    assert "National" in trend
    assert "20.0" in trend  # 2022/23's own national figure; none published for 2023/24


def test_xlsx_has_one_sheet_per_period_and_is_private(tmp_path: Path) -> None:
    target = tmp_path / "stats.xlsx"

    result = run("stats", DEMO, "--period", "2023/24,2024Q1", "-o", target)

    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    sheets = fastexcel.read_excel(target).sheet_names
    assert sheets == ["2023-24", "2024Q1", "landstal", "aktualitet"]
    first = fastexcel.read_excel(target).load_sheet(0).to_polars()
    assert first.columns[:5] == ["Skole", "Periode", "Elever", "Elevskoledage", "Fravær %"]
    assert first.columns[-2:] == ["Elever på trin 3", "Skjult"]
    # --headers snake: the machine names, as before headings followed the language
    snake = tmp_path / "snake.xlsx"
    result = run("stats", DEMO, "--period", "2023/24,2024Q1", "-o", snake, "--headers", "snake")
    assert result.exit_code == 0, result.output
    first = fastexcel.read_excel(snake).load_sheet(0).to_polars()
    assert first.columns == f"school_id,{METRICS}".split(",")


def test_xlsx_without_suppression_says_so_first(tmp_path: Path) -> None:
    target = tmp_path / "internal.xlsx"

    result = run("stats", DEMO, "--no-suppression", "--lang", "en", "-o", target)

    assert result.exit_code == 0, result.output
    workbook = fastexcel.read_excel(target)
    assert workbook.sheet_names[0] == "internal"
    assert workbook.load_sheet(0).to_polars()["Note"].to_list() == ["NOT SUPPRESSED"]


def test_reference_file_replaces_the_bundled_figures(tmp_path: Path) -> None:
    own = tmp_path / "national.csv"
    own.write_text(
        "period,measure,value,source\n2023/24,share_over_10,19.5,Our own survey\n", "utf-8"
    )

    result = run("stats", DEMO, "--reference", own, "--format", "table")

    assert result.exit_code == 0, result.output
    assert "Landsplan 2023/24" in result.stdout
    assert "Our own survey" in result.stdout
    assert "Børne- og Undervisningsministeriet" not in result.stdout


def test_the_bundled_figures_name_their_source() -> None:
    result = run("stats", DEMO, "--format", "table")

    assert "Landsplan 2022/23" in result.stdout  # the latest year published before 2023/24
    assert "Kilde (2022/23): Børne- og Undervisningsministeriet" in result.stdout


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("period,measure,value\n", ":1"),
        ("period,measure,value,source\n2021/22,absence_pct,8.0,\n", ":2:4 (column 'source')"),
        ("period,measure,value,source\n2021/22,mean,8.0,x\n", ":2:2 (column 'measure')"),
        ("period,measure,value,source\n2021,absence_pct,8.0,x\n", ":2:1 (column 'period')"),
        ("period,measure,value,source\n2021/22,absence_pct,180,x\n", ":2:3 (column 'value')"),
    ],
)
def test_a_bad_reference_file_is_refused_with_its_line(
    tmp_path: Path, text: str, where: str
) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(text, "utf-8")

    line = assert_clean_failure(run("stats", DEMO, "--reference", bad), 65)
    assert f"{bad}{where}" in line


def test_a_missing_reference_file_is_exit_66(tmp_path: Path) -> None:
    assert_clean_failure(run("stats", DEMO, "--reference", tmp_path / "none.csv"), 66)


def _stale_export(tmp_path: Path) -> Path:
    days = [date(2024, 1, 1) + timedelta(days=i) for i in range(60)]
    days = [d for d in days if d.weekday() < 5]
    lines = ["pupil_id,school_id,date,category,absent_fraction,grade,class_name"]
    for pupil in range(12):
        for d in days:
            lines.append(f"{pupil:04d},100,{d},present,0,1,1.A")
            if d <= days[-8]:
                lines.append(f"{pupil + 100:04d},200,{d},present,0,1,1.A")
    target = tmp_path / "stale.csv"
    target.write_text("\n".join(lines) + "\n", "utf-8")
    return target


def test_a_lagging_school_is_a_warning_without_pupil_data(tmp_path: Path) -> None:
    result = run("stats", _stale_export(tmp_path), "--format", "csv")

    assert result.exit_code == 0, result.output
    warnings = [line for line in result.stderr.splitlines() if "warning" in line]
    assert len(warnings) == 1
    assert "school 200" in warnings[0]
    assert "7 school days behind" in warnings[0]
    assert "0100" not in result.stderr
    assert "0001" not in result.stderr


def test_cpr_shaped_school_id_is_not_logged(tmp_path: Path) -> None:
    """A ten-digit school id is most likely a CPR number in the wrong column: the stale-school
    warning (stderr, a cron mail) names it by its hash, as file names do (docs/privacy.md)."""
    export = _stale_export(tmp_path)
    export.write_text(export.read_text("utf-8").replace(",200,", ",010203-1234,"), "utf-8")

    result = run("stats", export, "--no-suppression", "--format", "csv")

    assert result.exit_code == 0, result.output
    assert "010203-1234" not in result.stderr
    assert "school school-ebe9f50e: latest registration" in result.stderr


def test_grade_must_be_on_every_row_to_group_by_it(tmp_path: Path) -> None:
    export = tmp_path / "nograde.csv"
    export.write_text(
        "pupil_id,school_id,date,category\n1,A,2024-01-08,present\n1,A,2024-01-09,illness\n",
        "utf-8",
    )
    line = assert_clean_failure(run("stats", export, "--by", "grade"), 65)
    assert "grade" in line


# -- charts -----------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", ["png", "svg"])
def test_chart_is_a_valid_private_deterministic_file(tmp_path: Path, suffix: str) -> None:
    first, second = tmp_path / f"a.{suffix}", tmp_path / f"b.{suffix}"

    for target in (first, second):
        result = run("stats", DEMO, "--format", "csv", "--chart", target)
        assert result.exit_code == 0, result.output

    data = first.read_bytes()
    assert data == second.read_bytes()
    assert stat.S_IMODE(first.stat().st_mode) == 0o600
    if suffix == "png":
        assert data[:8] == b"\x89PNG\r\n\x1a\n"
    else:
        root = ET.fromstring(data)
        assert root.tag.endswith("svg")
        assert b"851002" in data or b"<path" in data
    assert sorted(os.listdir(tmp_path)) == sorted([first.name, second.name])


def test_the_chart_is_per_school_whatever_the_grouping(tmp_path: Path) -> None:
    chart = tmp_path / "c.png"

    result = run("stats", DEMO, "--by", "grade", "--format", "csv", "--chart", chart)

    assert result.exit_code == 0, result.output
    assert chart.read_bytes() == run_chart_by_school(tmp_path)


def run_chart_by_school(tmp_path: Path) -> bytes:
    chart = tmp_path / "school.png"
    assert run("stats", DEMO, "--format", "csv", "--chart", chart).exit_code == 0
    return chart.read_bytes()


def test_a_failed_run_writes_no_chart(tmp_path: Path) -> None:
    chart = tmp_path / "c.png"
    result = run("stats", DEMO, "--min-cell", "3", "--chart", chart)
    assert result.exit_code == 2
    assert result.stderr.startswith("fravaer: error: --min-cell must be at least 5\n")
    assert not chart.exists()


# -- the table view: golden file ----------------------------------------------------------------


def test_golden_stats_table_da() -> None:
    result = run("stats", DEMO, "--by", "school,grade", "--period", "2024Q1", "--format", "table")
    assert result.exit_code == 0, result.output
    golden = GOLDEN / "stats_table_da.txt"
    if os.environ.get("FRAVAER_UPDATE_GOLDEN"):
        golden.write_text(result.stdout, encoding="utf-8")
    assert result.stdout == golden.read_text(encoding="utf-8")
    assert " x " in result.stdout  # hidden cells are marked


def test_machine_rows_and_table_agree(by_school: pl.DataFrame) -> None:
    table = run("stats", DEMO, "--format", "table").stdout
    for row in by_school.iter_rows(named=True):
        share = f"{float(row['share_over_10']):.1f}".replace(".", ",")
        assert share in table
    assert MUNICIPALITY not in table


# -- suppression holds across the levels of one output ------------------------------------------


def _special_school_export(tmp_path: Path) -> Path:
    """Three schools of classes with 12-15 pupils, and a special school's group of one pupil."""
    days = [date(2024, 1, 8) + timedelta(days=i) for i in range(12)]
    days = [d for d in days if d.weekday() < 5]
    classes = {
        "101": {"1.A": 12, "2.A": 15, "3.A": 13},
        "102": {"1.A": 14, "2.A": 12},
        "103": {"4.A": 15, "5.A": 13, "6.A": 14},
        "199": {"S.1": 1},
    }
    lines = ["pupil_id,school_id,date,category,absent_fraction,grade,class_name"]
    pupil = 0
    for school, sizes in classes.items():
        for name, size in sizes.items():
            for _ in range(size):
                pupil += 1
                for n, d in enumerate(days):
                    absent = (pupil + n) % 7 == 0
                    category, fraction = ("illness", 1) if absent else ("present", 0)
                    grade = 5 if name.startswith("S") else name[0]
                    lines.append(f"{pupil:05d},{school},{d},{category},{fraction},{grade},{name}")
    target = tmp_path / "special.csv"
    target.write_text("\n".join(lines) + "\n", "utf-8")
    return target


def test_a_lone_small_class_cannot_be_worked_out_from_the_municipality(tmp_path: Path) -> None:
    export = _special_school_export(tmp_path)
    result = run("stats", export, "--by", "school,class", "--format", "csv")
    assert result.exit_code == 0, result.output
    rows = list(csv_frame(result.stdout).iter_rows(named=True))

    special = [r for r in rows if r["school_id"] == "199"]
    assert [r["suppressed"] for r in special] == ["true"]
    municipality = [r for r in rows if not r["school_id"]]
    assert [r["suppressed"] for r in municipality] == ["false"]
    # Neither the municipality row minus the classes shown, nor any other sum of this output,
    # gives back a hidden class: pupils, school days or absent days.
    assert attack(rows, ["school_id", "class_name"]) == {}
    # Nor does this output beside --by school of the same export.
    schools = run("stats", export, "--by", "school", "--format", "csv")
    assert schools.exit_code == 0, schools.output
    both = [
        (rows, ["school_id", "class_name"]),
        (list(csv_frame(schools.stdout).iter_rows(named=True)), ["school_id"]),
    ]
    assert attack_all(both) == {}


def test_a_group_small_in_one_week_cannot_be_worked_out_from_the_fortnight(
    tmp_path: Path,
) -> None:
    # 101's class 1.A has 12 pupils in the first week and 4 in the second: hidden there. Its
    # fortnight minus its first week would give the second week's school days and absence.
    days = [date(2024, 1, 8) + timedelta(days=i) for i in range(12)]
    days = [d for d in days if d.weekday() < 5]
    classes = {("101", "1.A"): 12, ("101", "2.A"): 15, ("101", "3.A"): 13, ("102", "1.A"): 14}
    lines = ["pupil_id,school_id,date,category,absent_fraction,grade,class_name"]
    pupil = 0
    for (school, name), size in classes.items():
        for n in range(size):
            pupil += 1
            for d in days:
                if (school, name) == ("101", "1.A") and n >= 4 and d >= date(2024, 1, 15):
                    continue  # moved away after the first week
                category = "illness" if (pupil + d.day) % 5 == 0 else "present"
                absent = 1 if category == "illness" else 0
                lines.append(f"{pupil:05d},{school},{d},{category},{absent},{name[0]},{name}")
    export = tmp_path / "weeks.csv"
    export.write_text("\n".join(lines) + "\n", "utf-8")
    periods = ["2024-01-08:2024-01-19", "2024-01-08:2024-01-12", "2024-01-15:2024-01-19"]

    result = run(
        "stats", export, "--by", "school,class", "--period", ",".join(periods), "--format", "csv"
    )
    assert result.exit_code == 0, result.output
    rows = list(csv_frame(result.stdout).iter_rows(named=True))

    small = [
        r
        for r in rows
        if (r["school_id"], r["class_name"], r["period"]) == ("101", "1.A", periods[2])
    ]
    assert [r["suppressed"] for r in small] == ["true"]
    spans = {p: (date.fromisoformat(p[:10]), date.fromisoformat(p[11:])) for p in periods}
    assert attack(rows, ["school_id", "class_name"], spans=spans) == {}


def test_school_names_label_the_chart_and_need_an_xlsx_or_a_chart(tmp_path: Path) -> None:
    names = ROOT / "examples" / "site" / "school-names.csv"
    named = tmp_path / "named.png"
    result = run("stats", DEMO, "--format", "csv", "--chart", named, "--school-names", names)
    assert result.exit_code == 0, result.output
    assert named.read_bytes() != run_chart_by_school(tmp_path)  # by id without the names
    refused = run("stats", DEMO, "--format", "csv", "--school-names", names)
    assert refused.exit_code == 2
    assert "--school-names" in refused.output
