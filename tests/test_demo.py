"""The synthetic municipality is deterministic and looks like the ministry's figures."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from fravaer import schema as s
from fravaer.classify import classify
from fravaer.demo import BLOCK_PUPILS, DemoSpec, generate
from fravaer.ingest.policy import load_policy


@pytest.fixture(scope="module")
def municipality() -> pl.DataFrame:
    return pl.concat(generate(DemoSpec(pupils=4000, schools=6, first_year=2023, seed=11)))


def test_same_spec_same_rows() -> None:
    spec = DemoSpec(pupils=300, schools=3, first_year=2023, seed=5)
    assert pl.concat(generate(spec)).equals(pl.concat(generate(spec)))
    other = DemoSpec(pupils=300, schools=3, first_year=2023, seed=6)
    assert not pl.concat(generate(spec)).equals(pl.concat(generate(other)))


def test_generation_streams_in_blocks() -> None:
    spec = DemoSpec(pupils=BLOCK_PUPILS + 10, schools=2, first_year=2023, until=date(2023, 8, 20))
    sizes = [frame[s.PUPIL_ID].n_unique() for frame in generate(spec)]
    assert sizes == [BLOCK_PUPILS, 10]


def test_canonical_and_valid(municipality: pl.DataFrame) -> None:
    assert municipality.schema == s.CANONICAL_SCHEMA
    assert municipality.filter(pl.col(s.CATEGORY) == s.PRESENT)[s.ABSENT_FRACTION].max() == 0
    assert municipality[s.ABSENT_FRACTION].is_between(0, 1).all()
    assert municipality.select(pl.struct(s.PUPIL_ID, s.DATE).is_unique().all()).item()
    assert municipality[s.PUPIL_ID].str.len_chars().unique().to_list() == [7]
    assert municipality[s.GRADE].is_between(0, 9).all()


def test_classes_hold_about_22_pupils(municipality: pl.DataFrame) -> None:
    first_day = municipality.filter(pl.col(s.DATE) == pl.col(s.DATE).min())
    sizes = first_day.group_by(s.SCHOOL_ID, s.CLASS_NAME).len()["len"]
    assert 15 <= sizes.median() <= 30  # type: ignore[operator]


def test_absence_looks_like_the_ministrys_figures(municipality: pl.DataFrame) -> None:
    result = classify(
        municipality.lazy(),
        policy=load_policy("aalborg-2023"),
        as_of=municipality[s.DATE].max(),  # type: ignore[arg-type]
        include_left=True,
    ).collect()
    mean = result[s.ABSENCE_PCT].mean()
    above_10 = (result[s.ABSENCE_PCT] > 10).mean()
    assert 6.5 <= mean <= 8.5  # type: ignore[operator]
    assert 0.18 <= above_10 <= 0.28  # type: ignore[operator]
    days = municipality.group_by(s.CATEGORY).agg(pl.col(s.ABSENT_FRACTION).sum())
    share = dict(days.iter_rows())
    absent = share["illness"] + share["leave"] + share["unlawful"]
    assert share["illness"] / absent > 0.6  # illness dominates, as nationally
    assert 0.02 < share["unlawful"] / absent < 0.2


def test_the_messy_parts_are_there(municipality: pl.DataFrame) -> None:
    per_pupil = municipality.group_by(s.PUPIL_ID).agg(
        pl.col(s.SCHOOL_ID).n_unique().alias("schools"),
        pl.col(s.DATE).min().alias("first"),
        pl.col(s.DATE).max().alias("last"),
    )
    start, end = municipality[s.DATE].min(), municipality[s.DATE].max()
    assert per_pupil.filter(pl.col("schools") > 1).height > 0  # changed school
    assert per_pupil.filter(pl.col("first") > start).height > 0  # joined late
    assert per_pupil.filter(pl.col("last") < end).height > 0  # left
    partial = municipality.filter(pl.col(s.ABSENT_FRACTION).is_between(0, 1, closed="none"))
    assert 0 < partial.height < 0.01 * municipality.height


def test_until_cuts_the_year_like_an_export() -> None:
    spec = DemoSpec(pupils=50, schools=1, first_year=2023, until=date(2024, 3, 8))
    frame = pl.concat(generate(spec))
    assert frame[s.DATE].max() == date(2024, 3, 8)
