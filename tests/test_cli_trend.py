"""`fravaer trend`, `patterns` and `early-warning` as scripts see them: exit codes, stdout, stderr,
the machine-format contracts and the chart file."""

from __future__ import annotations

import html
import io
import re
import stat
from datetime import date, timedelta
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner, Result

from fravaer.cli import app
from tests.test_cli import DEMO, assert_clean_failure

TREND_CONTRACT = ["pupil_id", "week_end", "absence_pct", "step", "absent_days_week"]
PUPIL = "0000144"  # rising towards 10 % in the demo export


def run(*args: object) -> Result:
    return CliRunner().invoke(app, [str(arg) for arg in args])


def csv(text: str) -> pl.DataFrame:
    return pl.read_csv(io.StringIO(text), schema_overrides={"pupil_id": pl.String})


def test_trend_csv_carries_the_contract_and_ends_with_classify() -> None:
    result = run("trend", DEMO, "--pupil", PUPIL, "--format", "csv", "--as-of", "2024-03-06")
    assert result.exit_code == 0, result.stderr
    weeks = csv(result.stdout)
    assert set(TREND_CONTRACT) <= set(weeks.columns)
    assert weeks.height == 12
    assert weeks["week_end"].to_list()[-1] == "2024-03-06"  # a Wednesday: the as-of date itself
    assert weeks["pupil_id"].unique().to_list() == [PUPIL]
    classified = csv(run("classify", DEMO, "--format", "csv", "--as-of", "2024-03-06").stdout)
    mine = classified.filter(pl.col("pupil_id") == PUPIL).row(0, named=True)
    assert weeks.row(-1, named=True)["absence_pct"] == mine["absence_pct"]
    assert weeks.row(-1, named=True)["step"] == mine["step"]
    assert result.stderr.startswith("fravaer: trend of 1 pupil(s)")


def test_trend_weeks_and_the_table_in_english() -> None:
    result = run(
        "trend", DEMO, "--pupil", PUPIL, "--weeks", "4", "--format", "table", "--lang", "en"
    )
    assert result.exit_code == 0, result.stderr
    assert "Absence has risen from 8.8 % to 9.8 % over the last three weeks." in result.stdout
    assert "limit 10 %" in result.stdout
    assert result.stdout.count("2024-0") == 1 + 4  # the title and four weeks


def test_trend_for_a_class_is_one_line_per_pupil() -> None:
    table = run("trend", DEMO, "--class", "1.A", "--school", "851001", "--format", "table")
    assert table.exit_code == 0, table.stderr
    assert "Klasse 1.A" in table.stdout
    machine = run("trend", DEMO, "--class", "1.A", "--school", "851001", "--format", "csv")
    weeks = csv(machine.stdout)
    pupils = weeks["pupil_id"].unique().to_list()
    assert len(pupils) > 5
    assert all(p in table.stdout for p in pupils)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "give either --pupil ID or --class NAME"),
        (("--pupil", PUPIL, "--class", "1.A"), "give either --pupil ID or --class NAME"),
        (("--class", "1.A", "--chart", "x.png"), "--chart draws one pupil"),
        (("--pupil", PUPIL, "--chart", "x.pdf"), "cannot tell png or svg"),
        (("--pupil", "144"), "no rows for that pupil"),
        (("--class", "no such class"), "no pupil's latest class"),
    ],
)
def test_trend_usage_errors(args: tuple[str, ...], message: str) -> None:
    line = assert_clean_failure(run("trend", DEMO, *args, "--format", "csv"), 2)
    assert message in line
    assert PUPIL not in line or PUPIL in args


@pytest.mark.parametrize("suffix", [".png", ".svg"])
def test_the_chart_is_private_atomic_and_the_same_every_time(tmp_path: Path, suffix: str) -> None:
    chart = tmp_path / f"chart{suffix}"
    first = run("trend", DEMO, "--pupil", PUPIL, "--chart", chart, "--format", "csv")
    assert first.exit_code == 0, first.stderr
    data = chart.read_bytes()
    assert stat.S_IMODE(chart.stat().st_mode) == 0o600
    assert run("trend", DEMO, "--pupil", PUPIL, "--chart", chart, "--format", "csv").exit_code == 0
    assert chart.read_bytes() == data
    assert sorted(p.name for p in tmp_path.iterdir()) == [chart.name]
    assert PUPIL.encode() not in data  # the pupil's id is not drawn
    if suffix == ".svg":
        assert b"<svg" in data
    else:
        assert data.startswith(b"\x89PNG")


@pytest.mark.parametrize(
    ("lang", "words"), [("da", ("Uge", "opgjort pr.")), ("en", ("Weeks", "as of"))]
)
def test_the_chart_says_its_weeks_and_as_of_date(
    tmp_path: Path, lang: str, words: tuple[str, str]
) -> None:
    """A chart printed for a parent meeting carries the weeks it shows and the as-of date, the
    same weeks as the machine format's rows."""
    chart = tmp_path / "chart.svg"
    result = run(
        "trend", DEMO, "--pupil", PUPIL, "--as-of", "2024-03-06", "--chart", chart,
        "--format", "csv", "--lang", lang,
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    ends = [date.fromisoformat(d) for d in csv(result.stdout)["week_end"]]
    monday = ends[0] - timedelta(days=ends[0].weekday())
    weeks = f"{ends[0].isocalendar()[1]}–{ends[-1].isocalendar()[1]}"
    line = f"{words[0]} {weeks}: {monday.isoformat()} – 2024-03-06 · {words[1]} 2024-03-06"
    drawn = re.findall(r"<!-- (.*?) -->", chart.read_text(encoding="utf-8"), re.S)
    assert line in [html.unescape(text) for text in drawn]


def test_a_chart_in_a_missing_folder_fails_cleanly(tmp_path: Path) -> None:
    chart = tmp_path / "no" / "chart.png"
    line = assert_clean_failure(run("trend", DEMO, "--pupil", PUPIL, "--chart", chart), 73)
    assert "the folder does not exist" in line


def test_patterns_csv_and_table() -> None:
    result = run("patterns", DEMO, "--format", "csv")
    assert result.exit_code == 0, result.stderr
    found = csv(result.stdout)
    assert {"pupil_id", "monday_pct", "friday_pct", "weekday_flag", "flags"} <= set(found.columns)
    assert found.height == 491
    flagged = found.filter(pl.col("flags") != "")
    assert 0 < flagged.height < 60
    table = run("patterns", DEMO, "--format", "table", "--school", "851001")
    assert table.exit_code == 0
    assert "Elever med et mønster" in table.stdout
    assert "851002" not in table.stdout


def test_early_warning_lists_pupils_below_step_1_with_reasons(tmp_path: Path) -> None:
    out = tmp_path / "warning.csv"
    result = run("early-warning", DEMO, "--horizon", "10", "-o", out)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    warned = pl.read_csv(out, schema_overrides={"pupil_id": pl.String})
    assert warned.height > 0
    assert warned["step"].unique().to_list() == [0]
    assert warned["reasons"].null_count() == 0
    assert warned["projected_school_days"].max() <= 10  # type: ignore[operator]
    assert stat.S_IMODE(out.stat().st_mode) == 0o600


def test_early_warning_horizon_must_be_positive() -> None:
    result = run("early-warning", DEMO, "--horizon", "0")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == (
        "fravaer: error: invalid value for '--horizon': Input should be greater than or equal "
        "to 1 (see fravaer early-warning --help)\n"
    )
