"""The pupil-day checks of a text export, with and without the short cut for ordered exports.

When each pupil's rows are together and in date order, only the days with several rows are
aggregated (``validate._rows_of_shared_days``); otherwise every pupil-day is. Both must give
the same answer on any export: the same rows kept, the same repeated rows dropped, or the same
refusal at the same line and column.
"""

from __future__ import annotations

import logging
import random
from datetime import date, timedelta
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from fravaer.errors import BadInputError
from fravaer.ingest import read_export, validate
from tests.profiles import examples

HEADER = "pupil_id;school_id;date;category;absent_fraction;grade;class_name"
START = date(2024, 3, 4)
SPLITS = [
    [("present", "0")],
    [("illness", "1")],
    [("leave", "0,5"), ("present", "0")],
    [("unlawful", "0,1"), ("illness", "0,25"), ("leave", "0,625")],
    [("illness", "0,75"), ("leave", "0,5")],  # more than a whole day
]


@st.composite
def exports(draw: st.DrawFn) -> list[str]:
    """Records of a register export, some days split, some rows repeated or contradicted."""
    records = []
    moved = []  # a pupil's later rows listed after everyone's, as under a second school
    pupils = draw(st.lists(st.sampled_from(["1", "2", "10", "007", " 2"]), min_size=1, max_size=3))
    for pupil in dict.fromkeys(pupils):
        rows = []
        for offset in sorted(draw(st.sets(st.integers(0, 12), min_size=1, max_size=4))):
            day = (START + timedelta(days=offset)).isoformat()
            for category, fraction in draw(st.sampled_from(SPLITS)):
                rows.append(f"{pupil};851001;{day};{category};{fraction};3;3.A")
        cut = draw(st.integers(0, len(rows)))  # may cut a day in two
        records.extend(rows[:cut])
        moved.extend(rows[cut:])
    records.extend(moved)
    extra = draw(st.sampled_from(["none", "repeat", "contradict"]))
    if extra != "none":
        index = draw(st.integers(0, len(records) - 1))
        record = records[index]
        if extra == "contradict":
            record = record.replace("3;3.A", "4;3.A")
        records.insert(draw(st.integers(0, len(records))), record)
    if draw(st.booleans()):
        random.Random(draw(st.integers(0, 2**16))).shuffle(records)
    return records


def _write(tmp_path: Path, records: list[str], suffix: str) -> Path:
    """The records as a ``;`` CSV, or as Parquet with text ids (padding kept) and typed cells."""
    path = tmp_path / f"export{suffix}"
    if suffix == ".csv":
        path.write_text("\n".join([HEADER, *records]) + "\n", encoding="utf-8")
        return path
    cells = [record.split(";") for record in records]
    frame = pl.DataFrame(cells, schema=HEADER.split(";"), orient="row").with_columns(
        pl.col("date").str.to_date(),
        pl.col("absent_fraction").str.replace(",", ".").cast(pl.Float64),
        pl.col("grade").cast(pl.Int8),
    )
    frame.write_parquet(path)
    return path


def _read(path: Path) -> pl.DataFrame | str:
    try:
        return read_export(path).collect()
    except BadInputError as exc:
        return str(exc)


@settings(
    max_examples=examples(120),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    records=exports(),
    suffix=st.sampled_from([".csv", ".parquet"]),
    # 0 and 1: as if ordered by date (1: seen in the first two rows when their pupils differ)
    runs_to_sort=st.sampled_from([validate.RUNS_TO_SORT, 0, 1]),
    # a few: more rows to decide by than the short cut reads
    marked_rows=st.sampled_from([validate.MARKED_ROWS, 0, 2, 5]),
)
def test_the_short_cut_gives_the_answer_of_every_pupil_day(
    tmp_path: Path,
    records: list[str],
    suffix: str,
    runs_to_sort: int,
    marked_rows: int,
    caplog: pytest.LogCaptureFixture,
) -> None:
    path = _write(tmp_path, records, suffix)
    with caplog.at_level(logging.WARNING, logger="fravaer"), pytest.MonkeyPatch.context() as m:
        m.setattr(validate, "RUNS_TO_SORT", runs_to_sort)
        m.setattr(validate, "MARKED_ROWS", marked_rows)
        caplog.clear()
        fast = _read(path)
        fast_log = caplog.text
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(validate, "_rows_of_shared_days", lambda days, source, **_: None)
            caplog.clear()
            slow = _read(path)
            slow_log = caplog.text
    assert fast_log == slow_log
    if isinstance(slow, str):
        assert fast == slow
    else:
        assert isinstance(fast, pl.DataFrame)
        assert_frame_equal(fast, slow)


@pytest.mark.parametrize(
    "first_id",
    ["2", " 2", "010203 1234"],
    ids=["two-runs", "padded-by-a-space", "cpr-with-a-space"],
)
def test_a_pupil_in_two_runs_is_one_pupil_when_runs_are_counted(
    tmp_path: Path, first_id: str
) -> None:
    # The pupil's second row comes after another pupil's: two runs of one pupil, whose day of
    # two rows must be checked. In Parquet the pupils are counted from the distinct ids as
    # written when none is padded; " 2" and "2", "010203 1234" and "010203-1234" are each
    # one pupil, so as many ids as runs must not pass for one run per pupil.
    second_id = "010203-1234" if first_id.startswith("0102") else "2"
    rows = [
        f"{first_id};851001;2024-03-04;illness;0,75;3;3.A",
        "1;851001;2024-03-04;present;0;3;3.A",
        f"{second_id};851001;2024-03-04;leave;0,5;3;3.A",
    ]
    path = _write(tmp_path, rows, ".parquet")

    refused = _read(path)

    assert isinstance(refused, str)
    assert refused.endswith("absent fractions of one pupil-day add up to more than 1")


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_a_pupil_day_split_across_two_runs_is_checked(tmp_path: Path, suffix: str) -> None:
    # Pupil 1's runs meet on 6 March (the first ends there, the second starts there): their
    # ranges are compared by each run's first and last date, and the day is then aggregated.
    rows = [
        "1;851001;2024-03-04;present;0;3;3.A",
        "1;851001;2024-03-06;illness;0,75;3;3.A",
        "2;851001;2024-03-04;present;0;3;3.A",
        "1;851001;2024-03-06;leave;0,5;3;3.A",
    ]

    refused = _read(_write(tmp_path, rows, suffix))

    assert isinstance(refused, str)
    assert refused.endswith("absent fractions of one pupil-day add up to more than 1")


def test_an_ordered_export_with_no_shared_day_is_not_aggregated(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "export.csv"
    rows = [f"{p};851001;2024-03-0{d};present;0;3;3.A" for p in ("1", "2") for d in (4, 5)]
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")

    def aggregated(*args: object, **kwargs: object) -> list[int]:
        raise AssertionError("every pupil-day was aggregated")

    monkeypatch.setattr(validate, "_check_days", aggregated)
    assert read_export(path).collect().height == 4


COLLIDING = {
    "one hash": lambda pupil: pupil.hash(seed=0) & 0,
    "two hashes": lambda pupil: pupil.hash(seed=0) % 2,
}


@settings(
    max_examples=examples(80),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    records=exports(),
    suffix=st.sampled_from([".csv", ".parquet"]),
    runs_to_sort=st.sampled_from([validate.RUNS_TO_SORT, 0, 1]),
    shared_days=st.booleans(),
    hashing=st.sampled_from(sorted(COLLIDING)),
)
def test_pupils_whose_hashes_collide_are_checked_as_apart(
    tmp_path: Path,
    records: list[str],
    suffix: str,
    runs_to_sort: int,
    shared_days: bool,
    hashing: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The day checks group and count pupils by a hash of the id: where ids share a hash (here
    forced: every id, or half of them, on one hash) the answer is still that of the ids."""
    path = _write(tmp_path, records, suffix)
    with caplog.at_level(logging.WARNING, logger="fravaer"), pytest.MonkeyPatch.context() as m:
        m.setattr(validate, "RUNS_TO_SORT", runs_to_sort)
        if not shared_days:
            m.setattr(validate, "_rows_of_shared_days", lambda days, source, **_: None)
        caplog.clear()
        exact = _read(path)
        exact_log = caplog.text
        m.setattr(validate, "_id_hash_expr", COLLIDING[hashing])
        caplog.clear()
        collided = _read(path)
        collided_log = caplog.text
    assert collided_log == exact_log
    if isinstance(exact, str):
        assert collided == exact
    else:
        assert isinstance(collided, pl.DataFrame)
        assert_frame_equal(collided, exact)
