"""`fravaer patterns` on lesson-level exports, and `demo-data --lessons`, as scripts see them."""

from __future__ import annotations

import io
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner, Result

from fravaer.cli import app
from fravaer.lessons import LESSON_PATTERN_COLUMNS
from fravaer.trend import PATTERN_COLUMNS
from fravaer.words import lesson_words
from tests.test_cli import DEMO, assert_clean_failure


def run(*args: object) -> Result:
    return CliRunner().invoke(app, [str(arg) for arg in args])


def csv(text: str) -> pl.DataFrame:
    return pl.read_csv(io.StringIO(text), schema_overrides={"pupil_id": pl.String})


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A class of 25 over a school year: pupil 1 leaves Thursday's last two lessons, pupil 2
    misses PE, pupil 3 misses Monday's first lesson, each on 60 % of those days."""
    path = tmp_path_factory.mktemp("lessons") / "lessons.csv"
    result = run(
        "demo-data", "--lessons", "--pupils", 25, "-o", path,
        "--plant", "leaves-early", "--plant", "subject", "--plant", "arrives-late",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert result.stderr.startswith("fravaer: wrote 26575 lesson rows for 25 pupils")
    return path


def test_a_day_level_export_has_todays_columns() -> None:
    result = run("patterns", DEMO, "--format", "csv")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines()[0] == ",".join(PATTERN_COLUMNS)


def test_planted_lesson_patterns_are_found_and_named(planted: Path) -> None:
    result = run("patterns", planted, "--format", "csv", "--days", 200)
    assert result.exit_code == 0, result.stderr
    found = csv(result.stdout)
    assert found.columns == [*PATTERN_COLUMNS, *LESSON_PATTERN_COLUMNS]
    rows = {row["pupil_id"]: row for row in found.iter_rows(named=True)}
    leaves, pe, late = rows["0000001"], rows["0000002"], rows["0000003"]
    assert "leaves_early" in leaves["flags"].split(";")
    assert (leaves["lesson_pattern"], leaves["lesson_weekday"]) == ("leaves_early", "thursday")
    assert (leaves["lesson_first"], leaves["lesson_last"]) == (5, 6)
    assert (pe["lesson_pattern"], pe["lesson_subject"], pe["lesson_weekday"]) == (
        "lesson",
        "Idræt",
        None,
    )
    assert (late["lesson_pattern"], late["lesson_weekday"], late["lesson_first"]) == (
        "arrives_late",
        "monday",
        1,
    )
    unplanted = [p for p in rows if int(p) % 10 not in (1, 2, 3)]
    assert [p for p in unplanted if rows[p]["lesson_pattern"] is not None] == []
    for row in (leaves, pe, late):
        assert row["lesson_q"] <= 0.05
    # Today's flags come first and are unchanged in meaning; the lesson flags follow.
    assert leaves["flags"].split(";")[-1] in ("lesson", "leaves_early", "arrives_late")


def test_the_table_says_it_in_the_words_staff_use(planted: Path) -> None:
    danish = run("patterns", planted, "--format", "table", "--days", 200)
    assert danish.exit_code == 0, danish.stderr
    text = " ".join(danish.stdout.replace("│", " ").split())
    assert "Lektioner: højst 5 % falske fund, mindst 10 lektioner pr. celle" in text
    for phrase in (
        "går ofte hjem før de sidste lektioner om torsdagen",
        "fravær især i Idræt",
        "kommer ofte for sent om mandagen",
    ):
        assert phrase in text
    english = run("patterns", planted, "--format", "table", "--days", 200, "--lang", "en")
    text = " ".join(english.stdout.replace("│", " ").split())
    for phrase in (
        "often goes home before the last lessons on Thursdays",
        "absent mostly in Idræt",
        "often arrives late on Mondays",
    ):
        assert phrase in text


def test_a_run_of_lessons_reads_as_staff_say_it() -> None:
    row = {
        "lesson_pattern": "lesson",
        "lesson_weekday": "wednesday",
        "lesson_first": 5,
        "lesson_last": 6,
        "lesson_subject": "idræt",
    }
    assert lesson_words(row, "da") == "fravær især onsdag i 5.–6. lektion (idræt)"
    assert lesson_words(row, "en") == "absent mostly on Wednesdays in lessons 5–6 (idræt)"
    one = row | {"lesson_last": 5, "lesson_subject": None}
    assert lesson_words(one, "da") == "fravær især onsdag i 5. lektion"
    assert lesson_words(one, "en") == "absent mostly on Wednesdays in lesson 5"
    leaves = row | {"lesson_pattern": "leaves_early", "lesson_weekday": None}
    assert lesson_words(leaves, "da") == "går ofte hjem før de sidste lektioner"


def test_plant_needs_lessons(tmp_path: Path) -> None:
    line = assert_clean_failure(run("demo-data", "-o", tmp_path / "x.csv", "--plant", "subject"), 2)
    assert "--plant needs --lessons" in line
    line = assert_clean_failure(
        run("demo-data", "--lessons", "-o", tmp_path / "x.csv", "--plant", "headache"), 2
    )
    assert "unknown planted pattern" in line
    assert not (tmp_path / "x.csv").exists()


def test_pseudonymize_writes_a_lesson_export_back_with_the_columns_it_always_had(
    tmp_path: Path,
) -> None:
    """Subject and start time are read for the lesson patterns; the rows written back are the
    file's own columns as before (a start time would come back as minutes)."""
    key = tmp_path / "key.txt"
    key.write_text(bytes(range(32)).hex() + "\n", encoding="ascii")
    key.chmod(0o600)
    plain = tmp_path / "plain.csv"
    example = Path("examples/exports/lessons.csv").read_text(encoding="utf-8").splitlines()
    lines = [line.rsplit(",", 1)[0] for line in example]  # without its subject column
    plain.write_text("\n".join(lines) + "\n", encoding="utf-8")
    timed = tmp_path / "timed.csv"
    timed.write_text(
        "\n".join([lines[0] + ",Fag,Starttid"] + [line + ",Dansk,08:15" for line in lines[1:]])
        + "\n",
        encoding="utf-8",
    )
    outputs = []
    for source in (plain, timed):
        out = tmp_path / f"out-{source.name}"
        result = run("pseudonymize", source, "-o", out, "--key-file", key)
        assert result.exit_code == 0, result.stderr
        outputs.append(out.read_bytes())
    assert outputs[0] == outputs[1]
