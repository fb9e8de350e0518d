"""`fravaer patterns` and `early-warning` on lesson-level exports, and `demo-data --lessons`, as
scripts see them."""

from __future__ import annotations

import io
from datetime import date, timedelta
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner, Result

from fravaer import read_export
from fravaer.cli import app
from fravaer.lessons import LESSON_FLAGS, LESSON_PATTERN_COLUMNS
from fravaer.trend import EARLY_WARNING_COLUMNS, PATTERN_COLUMNS
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


# -- early warning ---------------------------------------------------------------------------------

EXAMPLE = Path("examples/exports/lessons.csv")


def test_a_day_level_early_warning_has_todays_columns() -> None:
    result = run("early-warning", DEMO, "--format", "csv")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines()[0] == ",".join(EARLY_WARNING_COLUMNS)


def test_the_bundled_lesson_example_warns_with_the_lesson_columns_and_note() -> None:
    """Two days are too few for a step or a pattern: nobody is listed, but the list is a
    lesson-level one (its columns, its note) in every format."""
    machine = run("early-warning", EXAMPLE, "--format", "csv")
    assert machine.exit_code == 0, machine.stderr
    assert machine.stdout.splitlines() == [
        ",".join([*EARLY_WARNING_COLUMNS, *LESSON_PATTERN_COLUMNS])
    ]
    assert machine.stderr == "fravaer: 0 pupil(s) below step 1 to act on as of 2024-03-05\n"
    table = run("early-warning", EXAMPLE, "--format", "table", "--lang", "en")
    assert table.exit_code == 0, table.stderr
    text = " ".join(table.stdout.split())
    assert "Lessons: at most 5 % false findings, at least 10 lessons per cell" in text
    day_level = run("early-warning", DEMO, "--format", "table", "--lang", "en")
    assert "Lessons:" not in day_level.stdout


def test_early_warning_carries_the_lesson_pattern_as_patterns_does(planted: Path) -> None:
    warned = run("early-warning", planted, "--format", "csv")
    assert warned.exit_code == 0, warned.stderr
    found = csv(warned.stdout)
    assert found.columns == [*EARLY_WARNING_COLUMNS, *LESSON_PATTERN_COLUMNS]
    every = csv(run("patterns", planted, "--format", "csv").stdout)
    step = csv(run("classify", planted, "--format", "csv").stdout).select("pupil_id", "step")
    expected = every.join(step, on="pupil_id").filter(
        (pl.col("step") == 0) & (pl.col("flags") != "")
    )
    listed = found.filter(pl.col("reasons").str.contains("pattern"))
    assert sorted(listed["pupil_id"]) == sorted(expected["pupil_id"])
    carried = ["pupil_id", "flags", *LESSON_PATTERN_COLUMNS]
    assert listed.select(carried).sort("pupil_id").equals(expected.select(carried).sort("pupil_id"))
    lesson_flagged = listed.filter(
        pl.col("flags").str.split(";").list.eval(pl.element().is_in(LESSON_FLAGS)).list.any()
    )
    assert lesson_flagged.height >= 2  # planted pupils below step 1 (the data is fixed)
    table = run("early-warning", planted, "--format", "table", "--lang", "en")
    text = " ".join(table.stdout.replace("│", " ").split())
    for row in lesson_flagged.iter_rows(named=True):
        assert lesson_words(row, "en") in text


SUBJECTS = ("Dansk", "Matematik", "Engelsk", "Idræt")


def lesson_export(path: Path, missed: set[tuple[date, int]]) -> Path:
    """Pupil 0000001 over twenty weeks on six lessons a day (five on Fridays), absent (unlawful)
    from exactly the ``missed`` (day, lesson) pairs; pupil 0000002 beside, never absent."""
    monday = date(2024, 1, 8)
    lines = ["pupil_id,school_id,date,lesson,category,grade,class_name,subject"]
    for week in range(20):
        for weekday in range(5):
            day = monday + timedelta(days=7 * week + weekday)
            for number in range(1, 6 if weekday == 4 else 7):
                subject = SUBJECTS[(weekday + number) % len(SUBJECTS)]
                for pupil in ("0000001", "0000002"):
                    gone = pupil == "0000001" and (day, number) in missed
                    category = "unlawful" if gone else "present"
                    lines.append(f"{pupil},851001,{day},{number},{category},5,5.A,{subject}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_a_lesson_pattern_alone_puts_a_pupil_on_the_early_warning_list(tmp_path: Path) -> None:
    """Four afternoons gone, on three weekdays and never at a weekend: four partial days (below
    the partial-day flag's five), no weekday pattern, no subject, but the day's last two
    lessons every time: leaving early. The lesson-level export warns; the same days without their
    lessons do not."""
    days = [date(2024, 3, 5), date(2024, 3, 13), date(2024, 4, 4), date(2024, 4, 16)]
    lessons = lesson_export(tmp_path / "lessons.csv", {(d, n) for d in days for n in (5, 6)})
    warned = run("early-warning", lessons, "--format", "csv")
    assert warned.exit_code == 0, warned.stderr
    listed = csv(warned.stdout)
    assert listed["pupil_id"].to_list() == ["0000001"]
    me = listed.row(0, named=True)
    assert (me["reasons"], me["flags"]) == ("pattern", "leaves_early")
    assert (me["lesson_pattern"], me["lesson_weekday"]) == ("leaves_early", None)
    # The last two lessons are 5-6, and 4-5 on Fridays.
    assert (me["lesson_first"], me["lesson_last"], me["partial_days"]) == (4, 6, 4)
    danish = run("early-warning", lessons, "--format", "table")
    text = " ".join(danish.stdout.replace("│", " ").split())
    assert "mønster (går ofte hjem før de sidste lektioner)" in text
    day_level = tmp_path / "days.csv"
    read_export(lessons).collect().write_csv(day_level)
    without = run("early-warning", day_level, "--format", "csv")
    assert without.exit_code == 0, without.stderr
    assert without.stdout.splitlines() == [",".join(EARLY_WARNING_COLUMNS)]


def test_demo_lessons_share_whole_classes_out_over_schools(tmp_path: Path) -> None:
    """``--schools`` changes only the school ids: consecutive classes per school, every class in
    one school; without it every pupil is at one school, as before."""
    one, four = tmp_path / "one.parquet", tmp_path / "four.parquet"
    for path, more in ((one, []), (four, ["--schools", 4])):
        result = run("demo-data", "--lessons", "--pupils", 180, "--until", "2023-08-25", *more,
                     "-o", path)  # fmt: skip
        assert result.exit_code == 0, result.stderr
    a, b = pl.read_parquet(one), pl.read_parquet(four)
    assert a.drop("school_id").equals(b.drop("school_id"))
    assert a["school_id"].unique().to_list() == ["851001"]
    pupils = b.select("pupil_id", "school_id", "class_name").unique()
    assert pupils.height == 180  # one school per pupil
    per_school = (
        pupils.group_by("school_id").agg(pl.len(), pl.col("pupil_id").min()).sort("school_id")
    )
    # 180 pupils are 8 classes (the last of 5): two classes per school, in order.
    assert per_school.rows() == [
        ("851001", 50, "0000001"), ("851002", 50, "0000051"),
        ("851003", 50, "0000101"), ("851004", 30, "0000151"),
    ]  # fmt: skip


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
