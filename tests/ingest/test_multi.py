"""Several files, glob patterns and hive-partitioned Parquet read as one export."""

from __future__ import annotations

import logging
import os
from datetime import date, timedelta
from fractions import Fraction
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from fravaer import schema as s
from fravaer.errors import BadInputError, InputMissingError, UsageError
from fravaer.ingest import read_export
from fravaer.ingest.multi import combine, expand_paths, read_hive
from tests.profiles import examples
from tests.reference import ABSENCE, Row, to_frame

START = date(2024, 1, 1)
POOL = [START + timedelta(days=i) for i in range(40)]
SORT = [s.PUPIL_ID, s.DATE, s.CATEGORY]


def touch(folder: Path, *names: str) -> None:
    for name in names:
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("")


# -- expand_paths -------------------------------------------------------------------------------


def test_patterns_are_sorted_and_paths_kept_in_order(tmp_path: Path) -> None:
    touch(tmp_path, "b/2024-02.csv", "b/2024-01.csv", "a.csv", "b/.hidden.csv", "notes.txt")

    got = expand_paths([str(tmp_path / "b" / "*.csv"), str(tmp_path / "a.csv")])

    assert got == [tmp_path / "b/2024-01.csv", tmp_path / "b/2024-02.csv", tmp_path / "a.csv"]


def test_a_double_star_spans_directories_and_repeats_are_read_once(tmp_path: Path) -> None:
    touch(tmp_path, "x/1/a.csv", "x/2/b.csv", "x/c.csv")

    got = expand_paths([str(tmp_path / "x" / "**" / "*.csv"), str(tmp_path / "x" / "c.csv")])

    assert got == [tmp_path / "x/1/a.csv", tmp_path / "x/2/b.csv", tmp_path / "x/c.csv"]


def test_a_pattern_that_matches_nothing_is_exit_66_naming_it(tmp_path: Path) -> None:
    touch(tmp_path, "a.csv")
    pattern = str(tmp_path / "*.parquet")

    with pytest.raises(InputMissingError) as caught:
        expand_paths([str(tmp_path / "a.csv"), pattern])

    assert caught.value.exit_code == 66
    assert caught.value.message == f"{pattern}: no file matches this pattern"
    assert caught.value.hint is not None


@pytest.mark.parametrize("name", ["fravær [uge 10].csv", "eksport[1].csv", "uge?.csv"])
def test_a_file_whose_name_looks_like_a_pattern_is_that_file(tmp_path: Path, name: str) -> None:
    # "[uge 10]" as a pattern matches a one-character name such as "fravær u.csv", and
    # "[1]" matches "eksport1.csv": the file as written is meant, not those.
    touch(tmp_path, name, "fravær u.csv", "eksport1.csv", "uge1.csv")

    assert expand_paths([str(tmp_path / name)]) == [tmp_path / name]


def test_a_pattern_that_is_no_file_still_matches(tmp_path: Path) -> None:
    touch(tmp_path, "eksport1.csv")

    assert expand_paths([str(tmp_path / "eksport[1].csv")]) == [tmp_path / "eksport1.csv"]


@pytest.mark.parametrize("kind", ["csv", "parquet", "xlsx", "hive"])
def test_an_export_whose_name_holds_brackets_is_read(tmp_path: Path, kind: str) -> None:
    # polars' readers expand patterns too: each is told that the path is one file.
    frame = pl.read_csv(
        Path(__file__).parents[2] / "examples" / "demo-export.csv",
        schema_overrides={s.PUPIL_ID: pl.String, s.SCHOOL_ID: pl.String},
    ).head(500)
    path = tmp_path / ("fravær [uge 10]" + ("" if kind == "hive" else f".{kind}"))
    if kind == "csv":
        frame.write_csv(path)
    elif kind == "xlsx":
        frame.write_excel(path)
    else:
        typed = frame.with_columns(
            pl.col(s.DATE).str.to_date(),
            pl.col(s.CATEGORY).cast(s.CATEGORY_DTYPE),
            pl.col(s.GRADE).cast(pl.Int8),
        )
        if kind == "hive":
            typed.write_parquet(path, partition_by=s.SCHOOL_ID)
        else:
            typed.write_parquet(path)

    read = read_export(path).collect()

    assert read.height == 500
    assert sorted(read[s.PUPIL_ID].unique()) == sorted(frame[s.PUPIL_ID].unique())


def test_a_missing_plain_path_is_exit_66(tmp_path: Path) -> None:
    with pytest.raises(InputMissingError) as caught:
        expand_paths([str(tmp_path / "nope.csv")])

    assert caught.value.message == f"{tmp_path / 'nope.csv'}: no such file"


# -- combine ------------------------------------------------------------------------------------


def row(
    pupil: str, day: int, category: str = "present", fraction: float = 0.0, **kw: object
) -> Row:
    return Row(
        pupil,
        str(kw.get("school", "851001")),
        POOL[day],
        category,
        Fraction(fraction),
        kw.get("grade", 3),  # type: ignore[arg-type]
        str(kw.get("class_name", "3.A")),
    )


def test_files_per_school_are_stacked() -> None:
    a = to_frame([row("1", 0), row("1", 1, "illness", 1.0)])
    b = to_frame([row("2", 0, school="851002")])

    out = combine([(Path("a.csv"), a), (Path("b.csv"), b)]).collect()

    assert out.height == 3
    assert out.schema == s.CANONICAL_SCHEMA


def test_identical_rows_in_two_files_are_dropped_and_counted(
    caplog: pytest.LogCaptureFixture,
) -> None:
    a = to_frame([row("1", 0), row("1", 1, "illness", 1.0)])
    b = to_frame([row("1", 1, "illness", 1.0), row("1", 2)])
    c = to_frame([row("1", 1, "illness", 1.0), row("1", 2), row("1", 3)])

    with caplog.at_level(logging.WARNING, logger="fravaer"):
        out = combine([(Path("a.csv"), a), (Path("b.csv"), b), (Path("c.csv"), c)]).collect()

    assert sorted(out.select(s.DATE, s.CATEGORY).rows()) == [
        (POOL[0], "present"),
        (POOL[1], "illness"),
        (POOL[2], "present"),
        (POOL[3], "present"),
    ]
    assert caplog.messages == [
        "b.csv: ignored 1 row(s) that repeat rows of a.csv",
        "c.csv: ignored 1 row(s) that repeat rows of a.csv",
        "c.csv: ignored 1 row(s) that repeat rows of b.csv",
    ]


@pytest.mark.parametrize(
    ("other", "column"),
    [
        (row("SECRET", 1, "illness", 0.5), s.ABSENT_FRACTION),
        (row("SECRET", 1, "illness", 1.0, school="851002"), s.SCHOOL_ID),
        (row("SECRET", 1, "illness", 1.0, grade=4), s.GRADE),
        (row("SECRET", 1, "illness", 1.0, class_name="3.B"), s.CLASS_NAME),
    ],
)
def test_different_rows_in_two_files_are_refused_naming_both(other: Row, column: str) -> None:
    a = to_frame([row("SECRET", 0), row("SECRET", 1, "illness", 1.0)])
    b = to_frame([other])

    with pytest.raises(BadInputError) as caught:
        combine([(Path("jan.csv"), a), (Path("feb.csv"), b)])

    assert caught.value.message == (
        f"feb.csv (column '{column}'): "
        "differs from a row for the same pupil, date and category in jan.csv"
    )
    assert "SECRET" not in caught.value.message
    assert caught.value.exit_code == 65


def test_a_day_over_full_across_files_is_refused() -> None:
    a = to_frame([row("1", 1, "illness", 0.75)])
    b = to_frame([row("1", 1, "unlawful", 0.5, school="851002")])

    with pytest.raises(BadInputError) as caught:
        combine([(Path("a.csv"), a), (Path("b.csv"), b)])

    assert caught.value.message == (
        "b.csv (column 'absent_fraction'): "
        "absent fractions of one pupil-day add up to more than 1 together with a.csv"
    )


def test_categories_of_one_day_in_two_files_are_kept() -> None:
    a = to_frame([row("1", 1, "illness", 0.5)])
    b = to_frame([row("1", 1, "leave", 0.5, school="851002")])

    out = combine([(Path("a.csv"), a), (Path("b.csv"), b)]).collect()

    assert sorted(out[s.CATEGORY].to_list()) == ["illness", "leave"]


def test_combine_needs_a_file() -> None:
    with pytest.raises(UsageError):
        combine([])


@st.composite
def split_register(draw: st.DrawFn) -> tuple[list[Row], list[list[Row]]]:
    """A register and its rows spread over files by school or by month, with some overlap."""
    rng = draw(st.randoms(use_true_random=False))
    rows: list[Row] = []
    for p in range(draw(st.integers(1, 5))):
        school = rng.choice(["851001", "851002", "851003"])
        for day in range(len(POOL)):
            if rng.random() < 0.3:
                continue
            category = rng.choice(["present", "present", *ABSENCE])
            fraction = 0.0 if category == "present" else rng.choice([1.0, 0.5, 0.25])
            rows.append(row(f"0{p}", day, category, fraction, school=school))
    if not rows:
        rows.append(row("01", 0))
    by = draw(st.sampled_from(["school", "half"]))
    keys = sorted({r.school_id if by == "school" else str(r.date < POOL[20]) for r in rows})
    files = [
        [r for r in rows if (r.school_id if by == "school" else str(r.date < POOL[20])) == key]
        for key in keys
    ]
    for _ in range(draw(st.integers(0, 5))):  # an overlap: a row exported twice
        target = rng.randrange(len(files))
        files[target].append(rng.choice(rows))
    return rows, files


@settings(max_examples=examples(60), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=split_register())
def test_split_files_combine_to_the_register(case: tuple[list[Row], list[list[Row]]]) -> None:
    rows, files = case
    frames = []
    for i, part in enumerate(files):
        unique = list(dict.fromkeys(part))  # one file never repeats a row (its reader drops it)
        frames.append((Path(f"{i}.csv"), to_frame(unique)))

    out = combine(frames).collect()

    assert_frame_equal(out.sort(SORT), to_frame(rows).collect().sort(SORT))


# -- hive-partitioned Parquet -------------------------------------------------------------------


def write_hive(root: Path, frame: pl.DataFrame, *, keep_school: bool = False) -> None:
    for (school,), part in frame.group_by(s.SCHOOL_ID):
        folder = root / f"school_id={school}" / "year=2024"
        folder.mkdir(parents=True)
        (part if keep_school else part.drop(s.SCHOOL_ID)).write_parquet(folder / "part-0.parquet")
    (root / "_SUCCESS").write_text("")


def register() -> pl.DataFrame:
    return to_frame(
        [
            row("007", 0, school="0851001"),
            row("007", 1, "illness", 1.0, school="0851001"),
            row("008", 0, school="851002"),
        ]
    ).collect()


def test_a_hive_directory_takes_school_id_from_the_key_as_text(tmp_path: Path) -> None:
    write_hive(tmp_path / "export", register())

    out = read_hive(tmp_path / "export").collect()

    assert out.schema == s.CANONICAL_SCHEMA
    assert_frame_equal(out.sort(SORT), register().sort(SORT))


def test_a_hive_key_that_agrees_with_the_files_column_is_fine(tmp_path: Path) -> None:
    write_hive(tmp_path / "export", register(), keep_school=True)

    assert read_hive(tmp_path / "export").collect().height == 3


def test_a_hive_key_that_disagrees_with_the_files_column_is_refused(tmp_path: Path) -> None:
    write_hive(tmp_path / "export", register(), keep_school=True)
    (tmp_path / "export" / "school_id=851002").rename(tmp_path / "export" / "school_id=851009")

    with pytest.raises(BadInputError) as caught:
        read_hive(tmp_path / "export")

    assert caught.value.message.startswith(f"{tmp_path / 'export'}:")
    assert caught.value.message.endswith(
        "(column 'school_id'): differs from the directory name's partition value for this column"
    )


def test_a_hive_directory_is_validated_like_a_parquet_file(tmp_path: Path) -> None:
    bad = register().with_columns(pl.lit("sick").alias(s.CATEGORY))
    write_hive(tmp_path / "export", bad)

    with pytest.raises(BadInputError) as caught:
        read_hive(tmp_path / "export")

    assert "(column 'category'): unknown category" in caught.value.message


def test_an_empty_hive_directory_is_exit_66(tmp_path: Path) -> None:
    (tmp_path / "export").mkdir()
    (tmp_path / "export" / "_SUCCESS").write_text("")

    with pytest.raises(InputMissingError) as caught:
        read_hive(tmp_path / "export")

    assert caught.value.message == f"{tmp_path / 'export'}: no data files in this directory"


def test_read_export_mixes_files_and_directories(tmp_path: Path) -> None:
    write_hive(tmp_path / "export", register())
    extra = to_frame([row("009", 2, school="851003")]).collect()
    extra.write_csv(tmp_path / "late-2024-01.csv")
    extra.write_csv(tmp_path / "late-2024-02.csv")  # the same rows again: dropped

    out = read_export([str(tmp_path / "export"), str(tmp_path / "late-*.csv")]).collect()

    assert sorted(out[s.PUPIL_ID].to_list()) == ["007", "007", "008", "009"]


def test_paths_in_messages_are_as_given(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    os.mkdir("exports")
    to_frame([row("1", 0)]).collect().write_csv("exports/a.csv")
    to_frame([row("1", 0, school="851009")]).collect().write_csv("exports/b.csv")

    with pytest.raises(BadInputError) as caught:
        read_export(["exports/*.csv"])

    assert caught.value.message.startswith("exports/b.csv (column 'school_id'): ")
    assert caught.value.message.endswith("in exports/a.csv")


@pytest.mark.parametrize(
    ("column", "value", "problem"),
    [
        (s.PUPIL_ID, "=SECRET", "text begins with =, +, - or @"),
        (s.CLASS_NAME, "SECRET\u200b", "text holds a control or invisible character"),
    ],
)
def test_hostile_text_in_a_hive_directory_is_refused_like_a_parquet_files(
    tmp_path: Path, column: str, value: str, problem: str
) -> None:
    frame = register().with_columns(
        pl.when(pl.int_range(pl.len()) == 1)
        .then(pl.lit(value))
        .otherwise(pl.col(column))
        .alias(column)
    )
    write_hive(tmp_path / "export", frame)

    with pytest.raises(BadInputError) as caught:
        read_hive(tmp_path / "export")

    assert f"(column '{column}'): {problem}" in caught.value.message
    assert "SECRET" not in caught.value.message


def test_a_hostile_school_id_in_a_hive_directory_name_is_refused(tmp_path: Path) -> None:
    write_hive(tmp_path / "export", register())
    (tmp_path / "export" / "school_id=851002").rename(tmp_path / "export" / "school_id=@SECRET")

    with pytest.raises(BadInputError) as caught:
        read_hive(tmp_path / "export")

    assert "(column 'school_id'): text begins with =, +, - or @" in caught.value.message
    assert "SECRET" not in caught.value.message
