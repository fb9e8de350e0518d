"""The lesson frame beside the day frame: same read path, same checks, day frame unchanged."""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from polars.testing import assert_frame_equal

from fravaer import read_export
from fravaer import schema as s
from fravaer.errors import BadInputError
from fravaer.ingest.lessons import lesson_frame, read_lessons
from fravaer.ingest.shapes import from_lesson_rows, from_lessons, lesson_rows
from fravaer.ingest.source import SourceOptions
from fravaer.lessons import LESSON_SCHEMA
from tests.ingest.shapes_reference import Lesson
from tests.ingest.test_shapes import lesson_frame as lessons_as_frame
from tests.ingest.test_shapes import lesson_rows as generated_lessons
from tests.profiles import examples

EXAMPLE = Path("examples/exports/lessons.csv")


def example_rows() -> list[dict[str, str]]:
    with EXAMPLE.open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def write(path: Path, rows: list[dict[str, str]]) -> Path:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return path


def without_subject(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    return [{k: v for k, v in row.items() if k != "subject"} for row in rows]


def with_subject(rows: list[dict[str, str]], subject: str = "Idræt") -> list[dict[str, str]]:
    """The rows with a Danish ``Fag`` column instead: lessons 5 and 6 PE, the others Danish."""
    return [
        {**row, "Fag": subject if row["lesson"] in ("5", "6") else "Dansk"}
        for row in without_subject(rows)
    ]


def test_the_example_has_one_row_per_lesson_with_its_number_and_absence() -> None:
    lessons = read_lessons(EXAMPLE).collect()
    rows = example_rows()
    assert lessons.schema == LESSON_SCHEMA
    assert lessons.height == len(rows)
    absent = [r["category"] != "present" for r in rows]  # every absence row has a share above 0
    assert lessons["absent"].sum() == sum(absent)
    expected = sorted((r["pupil_id"], r["date"], int(r["lesson"])) for r in rows)
    got = sorted(
        (p, d.isoformat(), n)
        for p, d, n in lessons.select("pupil_id", "date", "lesson_number").iter_rows()
    )
    assert got == expected
    subjects = sorted((r["pupil_id"], r["date"], int(r["lesson"]), r["subject"]) for r in rows)
    columns = ["pupil_id", "date", "lesson_number", "subject"]
    assert subjects == sorted(
        (p, d.isoformat(), n, subject) for p, d, n, subject in lessons.select(columns).iter_rows()
    )


def test_without_a_subject_column_the_subject_is_empty(tmp_path: Path) -> None:
    export = write(tmp_path / "plain.csv", without_subject(example_rows()))
    lessons = read_lessons(export).collect()
    assert lessons["subject"].null_count() == lessons.height
    assert_frame_equal(
        read_export(export).collect(), read_export(EXAMPLE).collect(), check_row_order=False
    )


def test_a_subject_column_is_read_and_the_day_frame_stays_the_same(tmp_path: Path) -> None:
    plain = read_export(EXAMPLE).collect()
    export = write(tmp_path / "fag.csv", with_subject(example_rows()))

    assert_frame_equal(read_export(export).collect(), plain, check_row_order=False)
    lessons = read_lessons(export).collect()
    pe = lessons.filter(pl.col("lesson_number").is_in([5, 6]))
    assert pe["subject"].unique().to_list() == ["Idræt"]
    assert set(lessons["subject"]) == {"Idræt", "Dansk"}


@pytest.mark.parametrize("subject", ['=HYPERLINK("x")', "Idr\u200bæt"])
def test_a_hostile_subject_is_refused_without_its_value(tmp_path: Path, subject: str) -> None:
    export = write(tmp_path / "fag.csv", with_subject(example_rows(), subject))
    for read in (read_export, read_lessons):
        with pytest.raises(BadInputError) as caught:
            read(export).collect()
        message = str(caught.value)
        assert "'Fag'" in message
        assert subject not in message
        assert ":6:" in message  # the first PE lesson's line


def test_a_subject_column_of_a_register_is_not_read(tmp_path: Path) -> None:
    rows = [
        {"pupil_id": "0001", "school_id": "851001", "date": "2024-03-04", "category": c, "fag": f}
        for c, f in (("present", "=1+1"),)
    ]
    export = write(tmp_path / "register.csv", rows)
    assert read_export(export).collect().height == 1
    assert read_lessons(export).collect().height == 0


def test_a_register_has_no_lessons(tmp_path: Path) -> None:
    lessons = read_lessons("examples/exports/months/2024-02.csv").collect()
    assert lessons.schema == LESSON_SCHEMA
    assert lessons.is_empty()


def test_repeated_lessons_are_dropped_once_for_both_frames(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    rows = example_rows()
    export = write(tmp_path / "twice.csv", [*rows, rows[0]])
    lessons = read_lessons(export).collect()
    assert lessons.height == len(rows)
    assert caplog.text.count("ignored 1 repeated lesson row(s)") == 1
    assert_frame_equal(
        read_export(export).collect(), read_export(EXAMPLE).collect(), check_row_order=False
    )


def test_labels_give_numbers_and_labels_without_one_none(tmp_path: Path) -> None:
    rows = [
        {
            "Elev": "0001",
            "Skole": "851001",
            "Dato": "2024-03-06",
            "Lektion": label,
            "Kode": code,
            "Fag": "Idræt",
        }
        for label, code in (("1. lektion", "present"), ("modul 2", "illness"), ("morgen", ""))
    ]
    lessons = read_lessons(write(tmp_path / "labels.csv", rows)).collect().sort("lesson")
    assert lessons.select("lesson", "lesson_number", "absent").rows() == [
        ("1. lektion", 1, False),
        ("modul 2", 2, True),
        ("morgen", None, False),
    ]
    assert lessons["date"].to_list() == [date(2024, 3, 6)] * 3


@settings(max_examples=examples(40), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lessons=generated_lessons())
def test_the_lesson_frame_equals_the_lessons_given(lessons: list[Lesson]) -> None:
    """Each (pupil, date, lesson) once, absent when an absence category missed some of it;
    and the day frame made from the same checked rows is from_lessons' own."""
    frame = lessons_as_frame(lessons)
    rows = lesson_rows(frame)
    got = lesson_frame(rows).collect()
    expected = sorted(
        {
            (x.pupil_id, x.date, int(x.lesson), x.category != s.PRESENT and x.share > 0)
            for x in lessons
        }
    )
    assert sorted(got.select("pupil_id", "date", "lesson_number", "absent").rows()) == expected
    assert got.height == len(expected)
    assert_frame_equal(
        from_lesson_rows(rows).collect(), from_lessons(frame).collect(), check_row_order=False
    )


def test_read_lessons_takes_the_source_options() -> None:
    lessons = read_lessons(EXAMPLE, SourceOptions(shape="lesson")).collect()
    assert lessons.height == len(example_rows())


def timed(labels_and_times: list[tuple[str, str]]) -> list[dict[str, str]]:
    return [
        {
            "Elev": "0001",
            "Skole": "851001",
            "Dato": "2024-03-06",
            "Lektion": label,
            "Starttid": start,
            "Kode": "present" if i else "illness",
        }
        for i, (label, start) in enumerate(labels_and_times)
    ]


def test_labels_without_a_number_are_ranked_by_start_time(tmp_path: Path) -> None:
    rows = timed([("eftermiddag", "12:30"), ("morgen", "8.00"), ("formiddag", "10:15-11:00")])
    lessons = read_lessons(write(tmp_path / "timed.csv", rows)).collect().sort("start_time")
    assert lessons.select("lesson", "start_time", "lesson_number").rows() == [
        ("morgen", 480, 1),
        ("formiddag", 615, 2),
        ("eftermiddag", 750, 3),
    ]
    # A number in the label wins over the start time: the school's own numbering.
    numbered = timed([("2. lektion", "08:00"), ("3. lektion", "09:00")])
    got = read_lessons(write(tmp_path / "numbered.csv", numbered)).collect()
    assert sorted(got["lesson_number"]) == [2, 3]


@pytest.mark.parametrize("start", ["8 o'clock", "25:00", "=1+1"])
def test_a_start_that_is_not_a_time_is_refused_without_its_value(
    tmp_path: Path, start: str
) -> None:
    rows = timed([("morgen", "08:00"), ("middag", start)])
    export = write(tmp_path / "timed.csv", rows)
    with pytest.raises(BadInputError) as caught:
        read_lessons(export).collect()
    message = str(caught.value)
    assert ":3:" in message
    assert "'Starttid'" in message
    assert "not a time of day (HH:MM)" in message
    assert start not in message
