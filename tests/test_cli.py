"""The command line as scripts and cron see it: exit codes, stdout and stderr.

The promises tested are those of docs/exit-codes.md and docs/privacy.md.

These tests drive the real Typer app with ``CliRunner`` (which keeps stdout and stderr apart) and,
where the process boundary matters, ``python -m fravaer`` in a subprocess.

The table golden file is regenerated only deliberately::

    FRAVAER_UPDATE_GOLDEN=1 .venv/bin/pytest tests/test_cli.py -k golden
"""

from __future__ import annotations

import io
import json
import os
import re
import stat
import subprocess
import sys
from collections.abc import Callable
from datetime import date, timedelta
from importlib import resources
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal
from typer.testing import CliRunner, Result

from fravaer import schema as s
from fravaer.classify import classify
from fravaer.cli import app
from fravaer.ingest.policy import load_policy
from fravaer.render import render_classification
from tests.registered import EVERY_COMMAND, GROUPS, POLICIES, SERIES, commands_with

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "examples" / "demo-export.csv"
DOCS = ROOT / "docs"
GOLDEN = Path(__file__).parent / "golden"

CONTRACT = (
    "pupil_id,school_id,class_name,grade,as_of,window_start,window_end,window_days,absent_days,"
    "illness_days,leave_days,unlawful_days,absence_pct,step,status,quarter_unlawful_pct,"
    "quarter_flag"
)
# The contract's 17 columns, then one measured value per rule of the policy (aalborg-2023: one).
HEADER = CONTRACT + ",rule_absence_100"
COLUMNS = HEADER.split(",")
CANONICAL_HEADER = "pupil_id,school_id,date,category,absent_fraction,grade,class_name"

ERROR = "fravaer: error: "


def run(*args: object) -> Result:
    return CliRunner().invoke(app, [str(arg) for arg in args])


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith(ERROR)]


def assert_clean_failure(result: Result, exit_code: int) -> str:
    """Exit code, nothing on stdout, one error line and no traceback; returns the error line."""
    assert result.exit_code == exit_code, result.output
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    lines = error_lines(result.stderr)
    assert len(lines) == 1, result.stderr
    assert all(line.startswith("fravaer: ") for line in result.stderr.splitlines())
    return lines[0]


def read_csv_text(text: str) -> pl.DataFrame:
    """Every column as text, so ids keep their leading zeros and values stay as written."""
    return pl.read_csv(io.StringIO(text), infer_schema=False)


def folder_listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


@pytest.fixture(scope="module")
def baseline() -> pl.DataFrame:
    """``classify`` on the bundled example with every default, as CSV text columns."""
    result = run("classify", DEMO, "--format", "csv")
    assert result.exit_code == 0, result.output
    return read_csv_text(result.stdout)


@pytest.fixture(scope="module")
def demo_days() -> pl.DataFrame:
    """Each pupil's distinct dates in the example, read independently of fravaer."""
    raw = pl.read_csv(DEMO, infer_schema=False)
    return raw.select(s.PUPIL_ID, pl.col(s.DATE).str.to_date()).unique()


# -- classify: the data contract ----------------------------------------------------------------


def test_classify_csv_has_the_contract_header_and_keeps_leading_zeros() -> None:
    result = run("classify", DEMO, "--format", "csv")

    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == HEADER
    frame = read_csv_text(result.stdout)
    ids = frame[s.PUPIL_ID].to_list()
    assert len(ids) == len(set(ids)) > 0
    assert "0000001" in ids
    assert all(re.fullmatch(r"0\d{6}", pupil) for pupil in ids)
    source_ids = set(pl.read_csv(DEMO, infer_schema=False)[s.PUPIL_ID].to_list())
    assert set(ids) <= source_ids
    # stderr is for messages: no data, no pupil ids.
    assert result.stderr.strip() != ""
    assert not any(pupil in result.stderr for pupil in ids)
    assert CONTRACT not in result.stderr


def test_classify_json_is_a_list_of_contract_objects(baseline: pl.DataFrame) -> None:
    result = run("classify", DEMO, "--format", "json")

    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert isinstance(rows, list)
    assert len(rows) == baseline.height
    assert all(isinstance(row, dict) and list(row) == COLUMNS for row in rows)
    assert [row[s.PUPIL_ID] for row in rows] == baseline[s.PUPIL_ID].to_list()
    assert all(isinstance(row[s.PUPIL_ID], str) for row in rows)


@pytest.mark.parametrize("explicit", [True, False], ids=["--format", "from-suffix"])
@pytest.mark.parametrize(
    ("suffix", "fmt"),
    [("csv", "csv"), ("json", "json"), ("parquet", "parquet"), ("xlsx", "xlsx"), ("txt", "table")],
)
def test_classify_output_file_is_private_and_in_the_right_format(
    tmp_path: Path, suffix: str, fmt: str, *, explicit: bool
) -> None:
    target = tmp_path / f"out.{suffix}"
    args = ["classify", DEMO, "-o", target] + (["--format", fmt] if explicit else [])

    result = run(*args)

    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert folder_listing(tmp_path) == [target.name]  # no temporary file left behind
    data = target.read_bytes()
    if fmt == "csv":
        assert data.decode("utf-8").splitlines()[0] == HEADER
    elif fmt == "json":
        assert list(json.loads(data)[0]) == COLUMNS
    elif fmt == "parquet":
        assert data[:4] == data[-4:] == b"PAR1"
        assert pl.read_parquet(target).columns == COLUMNS
    elif fmt == "xlsx":
        assert data[:4] == b"PK\x03\x04"
    else:
        assert "Elever pr. trin" in data.decode("utf-8")


def test_classify_parquet_and_csv_carry_the_same_values(tmp_path: Path) -> None:
    """Machine formats keep full precision: the CSV reads back equal to the Parquet."""
    target = tmp_path / "out.parquet"
    assert run("classify", DEMO, "-o", target).exit_code == 0
    csv_result = run("classify", DEMO, "--format", "csv")

    typed = pl.read_parquet(target)
    assert typed.schema[s.PUPIL_ID] == pl.String
    from_csv = pl.read_csv(io.StringIO(csv_result.stdout), schema=typed.schema)
    assert_frame_equal(from_csv, typed)


def test_classify_output_suffix_without_format_is_a_usage_error(tmp_path: Path) -> None:
    result = run("classify", DEMO, "-o", tmp_path / "out.dat")

    line = assert_clean_failure(result, 2)
    assert "--format" in line
    assert folder_listing(tmp_path) == []


# -- classify: options ----------------------------------------------------------------------------


def test_classify_as_of_in_the_middle_of_the_data(demo_days: pl.DataFrame) -> None:
    as_of = date(2023, 11, 15)

    result = run("classify", DEMO, "--as-of", as_of.isoformat(), "--format", "csv")

    assert result.exit_code == 0, result.output
    frame = read_csv_text(result.stdout)
    assert frame.height > 0
    assert set(frame[s.AS_OF]) == {as_of.isoformat()}
    assert max(frame[s.WINDOW_END]) == as_of.isoformat()
    # Reference: a pupil's window is min(100, their school days up to the as-of date).
    expected = (
        demo_days.filter(pl.col(s.DATE) <= as_of)
        .group_by(s.PUPIL_ID)
        .agg(pl.len().clip(upper_bound=100).alias("expected"))
    )
    got = frame.select(s.PUPIL_ID, pl.col(s.WINDOW_DAYS).cast(pl.UInt32)).join(
        expected, on=s.PUPIL_ID, how="left"
    )
    assert got.filter(pl.col(s.WINDOW_DAYS) != pl.col("expected")).is_empty()
    assert got["expected"].null_count() == 0


def test_classify_as_of_on_a_weekend_equals_the_friday_before(demo_days: pl.DataFrame) -> None:
    friday, saturday = date(2023, 11, 10), date(2023, 11, 11)
    dates = set(demo_days[s.DATE])
    assert friday in dates
    assert saturday not in dates

    on_friday = run("classify", DEMO, "--as-of", friday.isoformat(), "--format", "csv")
    on_saturday = run("classify", DEMO, "--as-of", saturday.isoformat(), "--format", "csv")

    assert on_friday.exit_code == on_saturday.exit_code == 0
    friday_frame = read_csv_text(on_friday.stdout)
    saturday_frame = read_csv_text(on_saturday.stdout)
    assert set(saturday_frame[s.AS_OF]) == {saturday.isoformat()}
    assert_frame_equal(saturday_frame.drop(s.AS_OF), friday_frame.drop(s.AS_OF))


@pytest.mark.parametrize("as_of", ["2024-3-1", "20240301", "2024-02-30", "01-03-2024", "today"])
def test_classify_malformed_as_of_is_a_usage_error(as_of: str) -> None:
    result = run("classify", DEMO, "--as-of", as_of, "--format", "csv")

    line = assert_clean_failure(result, 2)
    assert "--as-of" in line
    assert "YYYY-MM-DD" in line


def test_classify_school_keeps_only_that_school(baseline: pl.DataFrame) -> None:
    result = run("classify", DEMO, "--school", "851002", "--format", "csv")

    assert result.exit_code == 0, result.output
    frame = read_csv_text(result.stdout)
    assert frame.height > 0
    assert set(frame[s.SCHOOL_ID]) == {"851002"}
    assert_frame_equal(frame, baseline.filter(pl.col(s.SCHOOL_ID) == "851002"))


def test_classify_include_left_keeps_every_pupil_kept_without_it(baseline: pl.DataFrame) -> None:
    result = run("classify", DEMO, "--include-left", "--format", "csv")

    assert result.exit_code == 0, result.output
    frame = read_csv_text(result.stdout)
    assert frame.height >= baseline.height
    assert set(baseline[s.PUPIL_ID]) <= set(frame[s.PUPIL_ID])


def test_classify_lang_changes_table_headings_only() -> None:
    danish = run("classify", DEMO, "--format", "table", "--lang", "da")
    english = run("classify", DEMO, "--format", "table", "--lang", "en")

    assert danish.exit_code == english.exit_code == 0
    assert "Elever pr. trin" in danish.stdout
    assert "Fravær %" in danish.stdout
    assert "Pupils per step" in english.stdout
    assert "Absence %" in english.stdout
    assert "Elever pr. trin" not in english.stdout
    assert "Pupils per step" not in danish.stdout
    # The machine formats are an API: their column names do not follow the language.
    csv_da = run("classify", DEMO, "--format", "csv", "--lang", "da")
    csv_en = run("classify", DEMO, "--format", "csv", "--lang", "en")
    assert csv_da.stdout == csv_en.stdout


# -- classify: errors -----------------------------------------------------------------------------


def _canonical(*rows: str) -> str:
    return "\n".join([CANONICAL_HEADER, *rows]) + "\n"


GOOD_ROW = "0000001,851001,2024-01-02,present,0,5,5.A"
BAD_INPUTS = {
    # name: (file text, location prefix after the path, column name)
    "missing-column": (
        "pupil_id,school_id,date,absent_fraction\nSECRET123,851001,2024-01-02,0\n",
        ":1:",
        "category",
    ),
    "unknown-category": (
        _canonical(GOOD_ROW, "SECRET123,851001,2024-01-02,SECRET456,0,5,5.A"),
        ":3:4 ",
        "category",
    ),
    "unparseable-date": (
        _canonical(GOOD_ROW, "SECRET123,851001,SECRET456,present,0,5,5.A"),
        ":3:3 ",
        "date",
    ),
    "fraction-above-one": (
        _canonical(GOOD_ROW, "SECRET123,851001,2024-01-02,illness,7.31337,5,5.A"),
        ":3:5 ",
        "absent_fraction",
    ),
    "fraction-below-zero": (
        _canonical(GOOD_ROW, "SECRET123,851001,2024-01-02,illness,-0.31337,5,5.A"),
        ":3:5 ",
        "absent_fraction",
    ),
    "conflicting-duplicate": (
        _canonical(
            GOOD_ROW,
            "SECRET123,851001,2024-01-02,illness,0.5,5,5.A",
            "SECRET123,851001,2024-01-02,illness,0.25,5,5.A",
        ),
        ":4",
        None,
    ),
}
SECRETS = ("SECRET", "31337")


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_classify_bad_input_is_one_line_without_cell_values(tmp_path: Path, case: str) -> None:
    text, where, column = BAD_INPUTS[case]
    export = tmp_path / "export.csv"
    export.write_text(text, encoding="utf-8")

    result = run("classify", export, "--format", "csv")

    line = assert_clean_failure(result, 65)
    assert line.startswith(f"{ERROR}{export}{where}"), line
    if column is not None:
        assert f"'{column}'" in line
    for secret in SECRETS:
        assert secret not in result.stderr
        assert secret not in result.stdout


def test_classify_conflicting_duplicate_names_the_column(tmp_path: Path) -> None:
    export = tmp_path / "export.csv"
    export.write_text(BAD_INPUTS["conflicting-duplicate"][0], encoding="utf-8")

    result = run("classify", export, "--format", "csv")

    line = assert_clean_failure(result, 65)
    assert line.startswith(f"{ERROR}{export}:4:5 (column 'absent_fraction')"), line


def test_classify_missing_file_exits_66(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.csv"

    result = run("classify", missing, "--format", "csv")

    line = assert_clean_failure(result, 66)
    assert str(missing) in line


def test_classify_unknown_policy_exits_78() -> None:
    result = run("classify", DEMO, "--policy", "no-such-policy", "--format", "csv")

    line = assert_clean_failure(result, 78)
    assert "no-such-policy" in line


def _bundled_policy_text() -> str:
    return (resources.files("fravaer") / "policies" / "aalborg-2023.toml").read_text("utf-8")


@pytest.mark.parametrize(
    ("edit", "exit_code", "named"),
    [
        (lambda text: text, 0, None),
        (lambda text: "colour = 'blue'\n" + text, 78, "colour"),
        (
            lambda text: text.replace(
                'measure = "percent"', 'measure = "percent"\nwindow_size = 200'
            ),
            78,
            "window_size",
        ),
    ],
    ids=["copy-of-bundled", "unknown-top-level-key", "unknown-nested-key"],
)
def test_classify_policy_file_is_validated_strictly(
    tmp_path: Path, edit: Callable[[str], str], exit_code: int, named: str | None
) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text(edit(_bundled_policy_text()), encoding="utf-8")

    result = run("classify", DEMO, "--policy", policy, "--format", "csv")

    if exit_code == 0:
        assert result.exit_code == 0, result.output
        assert result.stdout.splitlines()[0] == HEADER
    else:
        line = assert_clean_failure(result, exit_code)
        assert str(policy) in line
        assert named is not None
        assert named in line


def _write_bad_export(folder: Path) -> Path:
    export = folder / "bad.csv"
    export.write_text(BAD_INPUTS["unknown-category"][0], encoding="utf-8")
    return export


FAILURES = {
    "bad-input": (lambda folder: [_write_bad_export(folder)], 65, "unknown category"),
    "missing-input": (lambda folder: [folder / "nowhere.csv"], 66, "nowhere.csv"),
    "unknown-policy": (
        lambda folder: [DEMO, "--policy", "no-such-policy"],
        78,
        "unknown policy 'no-such-policy'",
    ),
    "malformed-as-of": (
        lambda folder: [DEMO, "--as-of", "2024-3-1"],
        2,
        "--as-of must be a date written YYYY-MM-DD",
    ),
}


@pytest.mark.parametrize("suffix", ["csv", "parquet", "xlsx"])
@pytest.mark.parametrize("failure", list(FAILURES))
@pytest.mark.parametrize("existing", [True, False], ids=["existing-output", "new-output"])
def test_failed_run_leaves_outputs_alone(
    tmp_path: Path, failure: str, suffix: str, *, existing: bool
) -> None:
    inputs, outputs = tmp_path / "in", tmp_path / "out"
    inputs.mkdir()
    outputs.mkdir()
    target = outputs / f"result.{suffix}"
    old = b"an older output, written by last Monday's run\n"
    if existing:
        target.write_bytes(old)
        target.chmod(0o640)
    make_args, exit_code, message = FAILURES[failure]

    result = run("classify", *make_args(inputs), "-o", target)

    assert message in assert_clean_failure(result, exit_code)
    if existing:
        assert folder_listing(outputs) == [target.name]
        assert target.read_bytes() == old
        assert stat.S_IMODE(target.stat().st_mode) == 0o640
    else:
        assert folder_listing(outputs) == []


@pytest.mark.parametrize(
    "where",
    [Path("no-such-folder") / "out.csv", Path("a") / "b" / "out.parquet"],
    ids=str,
)
def test_output_in_a_missing_folder_exits_73(tmp_path: Path, where: Path) -> None:
    target = tmp_path / where

    result = run("classify", DEMO, "-o", target)

    line = assert_clean_failure(result, 73)
    assert str(target) in line
    assert folder_listing(tmp_path) == []


def test_output_onto_a_folder_exits_73(tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    target.mkdir()

    result = run("classify", DEMO, "-o", target)

    assert_clean_failure(result, 73)
    assert folder_listing(tmp_path) == ["out.csv"]
    assert list(target.iterdir()) == []


# -- the process boundary -------------------------------------------------------------------------


def run_module(*args: object, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "NO_COLOR")}
    return subprocess.run(
        [sys.executable, "-m", "fravaer", *(str(arg) for arg in args)],
        capture_output=True,
        text=True,
        encoding="utf-8",
        cwd=cwd,
        env=env,
        check=False,
    )


def test_python_m_fravaer_writes_csv_into_a_pipe(tmp_path: Path) -> None:
    """No --format and stdout a pipe: CSV, as cron and scripts expect."""
    done = run_module("classify", DEMO, cwd=tmp_path)

    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == HEADER
    assert len(lines) > 1
    assert all(line.startswith("fravaer: ") for line in done.stderr.splitlines())
    assert "classified" in done.stderr
    assert "0000001" not in done.stderr
    assert folder_listing(tmp_path) == []


def test_python_m_fravaer_bad_input_has_no_traceback(tmp_path: Path) -> None:
    export = _write_bad_export(tmp_path)

    done = run_module("classify", export.name, cwd=tmp_path)

    assert done.returncode == 65
    assert done.stdout == ""
    assert "Traceback" not in done.stderr
    assert error_lines(done.stderr) == [
        f"{ERROR}bad.csv:3:4 (column 'category'): unknown category "
        "(expected one of present, illness, leave, unlawful)"
    ]
    assert "SECRET" not in done.stderr


# -- the table view: golden file -----------------------------------------------------------------


def _golden_frame() -> pl.LazyFrame:
    """Six pupils over 20 school days (Mon 5 Feb - Fri 1 Mar 2024), one of each kind.

    0000101 step 0; 0000102 step 1 (illness); 0000103 step 2 with partial days; 0000104 step 3
    with 20 % unlawful (notify); 0000105 step 1 with 10 % unlawful (warn); 0000106 joined for the
    last 5 days only (too few school days).
    """
    start = date(2024, 2, 5)
    days = [
        start + timedelta(days=i) for i in range(28) if (start + timedelta(days=i)).weekday() < 5
    ]
    assert len(days) == 20
    absences: dict[str, dict[int, list[tuple[str, float]]]] = {
        "0000101": {},
        "0000102": {3: [("illness", 1.0)], 4: [("illness", 1.0)]},
        "0000103": {
            0: [("illness", 1.0)],
            1: [("illness", 1.0)],
            7: [("illness", 0.5), ("present", 0.0)],
            12: [("leave", 0.5), ("present", 0.0)],
        },
        "0000104": {i: [("unlawful", 1.0)] for i in (2, 9, 16, 19)},
        "0000105": {i: [("unlawful", 1.0)] for i in (5, 11)},
        "0000106": {17: [("illness", 1.0)]},
    }
    placement = {
        "0000101": ("851001", 5, "5.A"),
        "0000102": ("851001", 5, "5.A"),
        "0000103": ("851001", 5, "5.B"),
        "0000104": ("851002", 7, "7.A"),
        "0000105": ("851002", 7, "7.A"),
        "0000106": ("851002", 7, "7.B"),
    }
    rows = []
    for pupil, by_day in absences.items():
        school, grade, class_name = placement[pupil]
        first = 15 if pupil == "0000106" else 0
        for index in range(first, len(days)):
            for category, fraction in by_day.get(index, [("present", 0.0)]):
                rows.append((pupil, school, days[index], category, fraction, grade, class_name))
    return pl.LazyFrame(rows, schema=s.CANONICAL_SCHEMA, orient="row")


def test_golden_classify_table_da() -> None:
    policy = load_policy("aalborg-2023")
    as_of = date(2024, 3, 1)
    national = load_policy("national-unlawful")
    result = classify(_golden_frame(), policy=policy, national=national, as_of=as_of).collect()
    # The frame is built to show every kind of row; keep it honest.
    assert result[s.STEP].to_list() == [0, 1, 2, 3, 1, None]
    assert result[s.QUARTER_FLAG].to_list()[3:5] == [s.FLAG_NOTIFY, s.FLAG_WARN]

    text = render_classification(
        result, policy=policy, national=national, as_of=as_of, lang="da", width=160, color=False
    )

    golden = GOLDEN / "classify_table_da.txt"
    if os.environ.get("FRAVAER_UPDATE_GOLDEN") == "1":
        golden.parent.mkdir(exist_ok=True)
        golden.write_text(text, encoding="utf-8")
        pytest.skip(f"wrote {golden}; review it and commit it deliberately")
    assert text == golden.read_text(encoding="utf-8")


def test_table_quarter_line_counts_every_pupil_at_or_above_each_threshold() -> None:
    policy = load_policy("aalborg-2023")
    as_of = date(2024, 3, 1)
    national = load_policy("national-unlawful")
    result = classify(_golden_frame(), policy=policy, national=national, as_of=as_of).collect()
    at_10 = result.filter(pl.col(s.QUARTER_UNLAWFUL_PCT) >= 10).height
    at_15 = result.filter(pl.col(s.QUARTER_UNLAWFUL_PCT) >= 15).height
    assert (at_10, at_15) == (2, 1)

    text = render_classification(
        result, policy=policy, national=national, as_of=as_of, lang="en", width=200, color=False
    )

    assert f"≥ 10 % (warn parents): {at_10}" in text
    assert f"≥ 15 % (notify the municipality): {at_15}" in text


# -- help and documentation ---------------------------------------------------------------------


def test_the_app_has_the_expected_subcommands() -> None:
    assert {"classify", "demo-data", "policy list"} <= set(EVERY_COMMAND)


@pytest.mark.parametrize("name", sorted(EVERY_COMMAND))
def test_every_subcommand_has_help(name: str) -> None:
    summary = (EVERY_COMMAND[name].help or "").strip().splitlines()

    result = run(*name.split(), "--help")

    assert result.exit_code == 0, result.output
    assert summary, f"{name} has no help text"
    assert "Usage" in result.stdout
    assert " ".join(summary[0].split()) in " ".join(result.stdout.split())
    assert result.stderr == ""


@pytest.mark.parametrize("group", ["", *sorted(GROUPS)], ids=lambda g: g or "fravaer")
def test_top_level_help_lists_every_subcommand(group: str) -> None:
    result = run(*group.split(), "--help")

    assert result.exit_code == 0, result.output
    children = [n.removeprefix(f"{group} ") for n in EVERY_COMMAND if n.startswith(f"{group} ")]
    if not group:
        children = [n for n in EVERY_COMMAND if " " not in n]
    assert children
    for name in children:
        assert re.search(rf"^\s+{re.escape(name)}\s", result.stdout, re.MULTILINE), name


@pytest.mark.parametrize("name", sorted(EVERY_COMMAND))
def test_every_subcommand_is_documented(name: str) -> None:
    pages = [p for p in DOCS.rglob("*") if p.is_file() and p.suffix in (".md", ".rst", ".txt")]
    mention = re.compile(rf"(?<![\w-]){re.escape(name)}(?![\w-])")

    documented = [p for p in pages if mention.search(p.read_text(encoding="utf-8"))]

    assert documented, f"'fravaer {name}' is not mentioned in any page under {DOCS}"


# -- demo-data ----------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", ["csv", "parquet"])
def test_demo_data_is_deterministic_and_classify_reads_it(tmp_path: Path, suffix: str) -> None:
    first, second, other = (tmp_path / f"{name}.{suffix}" for name in ("a", "b", "c"))
    common = ["--pupils", "30", "--schools", "2", "--year", "2023/24"]

    results = [
        run("demo-data", "-o", first, *common, "--seed", "7"),
        run("demo-data", "-o", second, *common, "--seed", "7"),
        run("demo-data", "-o", other, *common, "--seed", "8"),
    ]

    for result in results:
        assert result.exit_code == 0, result.output
        assert result.stdout == ""
    assert first.read_bytes() == second.read_bytes()
    assert first.read_bytes() != other.read_bytes()
    assert stat.S_IMODE(first.stat().st_mode) == 0o600

    classified = run("classify", first, "--include-left", "--format", "csv")

    assert classified.exit_code == 0, classified.output
    frame = read_csv_text(classified.stdout)
    assert frame.columns == COLUMNS
    assert frame.height == 30
    assert frame[s.PUPIL_ID].min() == "0000001"


def test_demo_data_refuses_other_formats(tmp_path: Path) -> None:
    result = run("demo-data", "-o", tmp_path / "demo.xlsx", "--pupils", "5")

    line = assert_clean_failure(result, 2)
    assert line.startswith(f"{ERROR}demo-data writes .csv or .parquet"), line
    assert folder_listing(tmp_path) == []


def test_interrupt_is_one_line_and_exit_130(monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("fravaer.cli.setup.load_at", interrupted)
    result = run("classify", DEMO, "--format", "csv")

    assert result.exit_code == 130
    assert result.stdout == ""
    assert result.stderr == "fravaer: error: interrupted (SIGINT); no partial output is left\n"


# -- explain and the national rule ----------------------------------------------------------------


def test_explain_gives_one_row_per_threshold_and_the_same_step_as_classify() -> None:
    explained = run(
        "explain", DEMO, "--pupil", "0000128", "--policy", "slagelse", "--format", "csv"
    )
    classified = run("classify", DEMO, "--policy", "slagelse", "--format", "csv")

    assert explained.exit_code == 0, explained.output
    rows = pl.read_csv(io.StringIO(explained.stdout), schema_overrides={"pupil_id": pl.String})
    assert rows["rule"].to_list() == ["consecutive", "absent_days_20", "absent_days_60"]
    everyone = pl.read_csv(io.StringIO(classified.stdout), schema_overrides={"pupil_id": pl.String})
    pupil = everyone.filter(pl.col("pupil_id") == "0000128").row(0, named=True)
    assert rows["result_step"].unique().to_list() == [pupil["step"]]
    for row in rows.iter_rows(named=True):
        assert row["value"] == pytest.approx(pupil[f"rule_{row['rule']}"], rel=0, abs=0)


def test_explain_table_is_in_danish_and_names_the_verdicts() -> None:
    result = run("explain", DEMO, "--pupil", "0000128", "--format", "table")

    assert result.exit_code == 0, result.output
    assert "Elev 0000128 pr. 2024-03-08" in result.stdout
    assert "opfyldt" in result.stdout
    assert "Resultat: trin 3" in result.stdout


def test_explain_unknown_pupil_is_a_usage_error_without_the_id() -> None:
    result = run("explain", DEMO, "--pupil", "SECRET-ID-99", "--format", "csv")

    line = assert_clean_failure(result, 2)
    assert "SECRET-ID-99" not in result.stderr
    assert "no rows for that pupil" in line


def test_no_national_leaves_the_quarter_columns_empty() -> None:
    result = run("classify", DEMO, "--no-national", "--format", "csv")

    assert result.exit_code == 0, result.output
    frame = pl.read_csv(io.StringIO(result.stdout), schema_overrides={"pupil_id": pl.String})
    assert frame["quarter_unlawful_pct"].null_count() == frame.height
    assert frame["quarter_flag"].null_count() == frame.height


@pytest.mark.parametrize("name", sorted({*POLICIES, *SERIES}))
def test_every_bundled_policy_classifies_the_example(name: str) -> None:
    result = run("classify", DEMO, "--policy", name, "--format", "csv")

    assert result.exit_code == 0, (name, result.output)
    assert result.stdout.splitlines()[0].startswith(CONTRACT + ",rule_")
    used = result.stderr.splitlines()[-1].rsplit(" with ", 1)[1]
    assert used == name if name in POLICIES else used in POLICIES  # a series: one of its versions


class _Panic(BaseException):
    """Stands in for pyo3's PanicException, which a Rust panic in polars raises."""


def test_a_library_panic_is_one_line_and_exit_70(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    def panic(*args: object, **kwargs: object) -> None:
        raise _Panic("called `Option::unwrap()` on fake-0001's row")

    monkeypatch.setattr("fravaer.cli.classify.classify_frame", panic)
    target = tmp_path / "out.csv"

    result = run("classify", DEMO, "-o", target)

    assert result.exit_code == 70
    assert (
        result.stderr == "fravaer: error: internal error (_Panic); run with --debug for details\n"
    )
    assert result.stdout == ""
    assert not target.exists()


# -- the day of the run: rows dated after it, pupils only on weekends ------------------------------

RUN_DAY = date(2026, 12, 7)
FUTURE_ROW = "0000042,851001,2204-03-08,leave,1,5,5.A"
AFTER_TODAY = (
    "fravaer: warning: 1 row(s) dated after today (2026-12-07), the latest 2204-03-08, are left "
    "out; give --as-of to include them"
)


def _quarter_export(*extra: str) -> str:
    """Three pupils, 2 January to 8 March 2024: 0000042 unlawfully absent every 8th school day
    (12.5 % of the quarter: warn_parents), 0000043 always present, 0000044 ill every other day
    of the latest 8 (below step 1, rising: early warning)."""
    days = [date(2024, 1, 2) + timedelta(days=i) for i in range(67)]
    days = [d for d in days if d.weekday() < 5]
    rows = []
    for i, day in enumerate(days):
        absent = i % 8 == 0
        rows.append(
            f"0000042,851001,{day},{'unlawful' if absent else 'present'},{int(absent)},5,5.A"
        )
        rows.append(f"0000043,851001,{day},present,0,5,5.A")
        ill = i >= len(days) - 8 and i % 2 == 0
        rows.append(f"0000044,851001,{day},{'illness' if ill else 'present'},{int(ill)},5,5.A")
    return _canonical(*rows, *extra)


@pytest.fixture
def run_day(monkeypatch: pytest.MonkeyPatch) -> date:
    """Fix the day of the run (the CLI reads it through ``setup.today`` only)."""
    monkeypatch.setattr("fravaer.cli.setup.today", lambda: RUN_DAY)
    return RUN_DAY


def test_a_row_dated_after_today_keeps_the_as_of_and_the_quarter_flag(
    tmp_path: Path, run_day: date
) -> None:
    export = tmp_path / "export.csv"
    export.write_text(_quarter_export(FUTURE_ROW), encoding="utf-8")

    result = run("classify", export, "--format", "csv")

    assert result.exit_code == 0, result.output
    frame = read_csv_text(result.stdout)
    assert set(frame[s.AS_OF]) == {"2024-03-08"}
    flags = dict(zip(frame[s.PUPIL_ID], frame[s.QUARTER_FLAG], strict=True))
    assert flags == {"0000042": s.FLAG_WARN, "0000043": s.FLAG_NONE, "0000044": s.FLAG_NONE}
    assert result.stderr.splitlines() == [
        AFTER_TODAY,
        "fravaer: classified 3 pupil(s) as of 2024-03-08 with aalborg-2023",
    ]


# The arguments each command with --as-of needs here besides the export (a hand table: what a
# command needs differs); test_every_as_of_command_is_in_the_table keeps it complete.
AS_OF_COMMANDS: dict[str, list[str]] = {
    "classify": [],
    "explain": ["--pupil", "0000042"],
    "trend": ["--pupil", "0000042"],
    "patterns": ["--all"],
    "early-warning": [],
    "stats": ["--no-suppression"],
    "escalate": ["--since", "2024-01-10"],
}
AS_OF_ELSEWHERE = {
    "check": "lists the rows after today as a finding (tests/test_check.py)",
    "report": "reads its exports through report.toml, with classify's as-of (tests/test_report.py)",
    "site": "writes a folder of pages, not stdout (tests/test_site.py)",
}


def test_every_as_of_command_is_in_the_table() -> None:
    assert sorted(AS_OF_COMMANDS) == sorted(set(commands_with("--as-of")) - set(AS_OF_ELSEWHERE))
    assert set(AS_OF_ELSEWHERE) <= set(commands_with("--as-of"))


@pytest.mark.parametrize("command", sorted(set(commands_with("--as-of")) - set(AS_OF_ELSEWHERE)))
def test_rows_dated_after_today_change_no_command_s_output(
    tmp_path: Path, run_day: date, command: str
) -> None:
    """Every measure ends at the as-of date: rows after the run's day are in no window."""
    plain, future = tmp_path / "plain.csv", tmp_path / "future.csv"
    plain.write_text(_quarter_export(), encoding="utf-8")
    future.write_text(
        _quarter_export(FUTURE_ROW, "0000043,851001,2204-03-09,unlawful,1,5,5.A"),
        encoding="utf-8",
    )
    args = [*AS_OF_COMMANDS[command], "--format", "csv"]

    before = run(command, plain, *args)
    after = run(command, future, *args)

    assert before.exit_code == after.exit_code == 0, after.output
    assert after.stdout == before.stdout
    assert len(after.stdout.splitlines()) > 1, "an empty output would prove nothing"
    warning = AFTER_TODAY.replace("1 row(s)", "2 row(s)").replace("2204-03-08", "2204-03-09")
    assert [line for line in after.stderr.splitlines() if "after today" in line] == [warning]
    assert not re.search(r"00000\d\d", after.stderr)


def test_an_explicit_as_of_after_today_wins_with_a_warning(tmp_path: Path, run_day: date) -> None:
    export = tmp_path / "export.csv"
    export.write_text(_quarter_export(FUTURE_ROW), encoding="utf-8")

    result = run("classify", export, "--as-of", "2204-03-08", "--format", "csv")

    assert result.exit_code == 0, result.output
    assert set(read_csv_text(result.stdout)[s.AS_OF]) == {"2204-03-08"}
    assert result.stderr.splitlines()[0] == (
        "fravaer: warning: --as-of 2204-03-08 is after today (2026-12-07): rows up to it count, "
        "leave registered ahead of time included"
    )


def test_an_export_dated_only_after_today_has_no_default_as_of(
    tmp_path: Path, run_day: date
) -> None:
    export = tmp_path / "export.csv"
    export.write_text(_canonical(FUTURE_ROW), encoding="utf-8")

    result = run("classify", export, "--format", "csv")

    line = assert_clean_failure(result, 65)
    assert line == (
        f"{ERROR}{export}: every row is dated after today (2026-12-07): there is no default "
        "as-of date"
    )
    assert "2204" not in result.stderr


def test_python_m_fravaer_reads_the_real_day_of_the_run(tmp_path: Path) -> None:
    """A subprocess cannot be monkeypatched: a row in 2204 is after any real day of a run."""
    (tmp_path / "export.csv").write_text(_quarter_export(FUTURE_ROW), encoding="utf-8")

    done = run_module("classify", "export.csv", cwd=tmp_path)

    assert done.returncode == 0, done.stderr
    assert read_csv_text(done.stdout)[s.AS_OF].unique().to_list() == ["2024-03-08"]
    assert re.fullmatch(
        r"fravaer: warning: 1 row\(s\) dated after today \(20\d\d-\d\d-\d\d\), the latest "
        r"2204-03-08, are left out; give --as-of to include them",
        done.stderr.splitlines()[0],
    ), done.stderr


def test_a_pupil_only_on_weekends_is_counted_on_stderr_not_named(
    tmp_path: Path, run_day: date
) -> None:
    weekend = [f"0000099,851001,2024-03-0{d},present,0,5,5.A" for d in (2, 3)]
    export = tmp_path / "export.csv"
    export.write_text(_quarter_export(*weekend), encoding="utf-8")

    result = run("classify", export, "--format", "csv")

    assert result.exit_code == 0, result.output
    assert "0000099" not in result.stdout  # the "has left" rule drops the pupil...
    assert result.stderr.splitlines()[0] == (  # ...but no longer without a word
        "fravaer: warning: 1 pupil(s) have rows only on Saturdays, Sundays or public holidays: "
        "no school day, so they look as if they had left (fravaer check lists the rows)"
    )
    assert "0000099" not in result.stderr
