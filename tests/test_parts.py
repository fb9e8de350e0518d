"""Buckets of pupils (``parts``) change how much memory a run holds, never its answer.

``classify``'s own property is in ``tests/test_classify*.py``; here the commands that call it
(stats, escalate's reference steps and report's run) give the same frames in 1 or 3 buckets.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from fravaer.escalate import steps_at
from fravaer.escalation_files import Run
from fravaer.ingest import read_export
from fravaer.ingest.policy import load_policy
from fravaer.stats import parse_periods, stats

DEMO = Path(__file__).resolve().parents[1] / "examples" / "demo-export.csv"
AS_OF = date(2024, 3, 8)


@pytest.fixture(scope="module")
def frame() -> pl.LazyFrame:
    return read_export(DEMO)


def test_stats_in_buckets_equal_stats_in_one(frame: pl.LazyFrame) -> None:
    policy = load_policy("aalborg-2023")
    periods = parse_periods("2023/24", as_of=AS_OF)
    one, three = (
        stats(frame, by=["school_id", "grade"], periods=periods, as_of=AS_OF, policy=policy,
              parts=parts).collect()
        for parts in (1, 3)
    )  # fmt: skip
    assert_frame_equal(one, three)


def test_escalate_reference_and_run_in_buckets_equal_one(frame: pl.LazyFrame) -> None:
    policy, national = load_policy("aalborg-2023"), load_policy("national-unlawful")
    since = date(2024, 3, 1)
    one, three = (
        steps_at(frame, policy=policy, national=national, as_of=since, parts=p).collect()
        for p in (1, 3)
    )
    assert_frame_equal(one, three)
    runs = [Run(frame, AS_OF, policy, national, parts=p).classified() for p in (1, 3)]
    assert_frame_equal(runs[0], runs[1])
    assert runs[0].height > 100
