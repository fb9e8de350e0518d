"""Planted lesson patterns are found, and a class without any is left alone (docs/trend.md).

Slow (a few dozen generated school years): run by ``make test-all``. The full measurement,
with more seeds, is ``python benchmarks/lesson_detection.py``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import lesson_detection


@pytest.mark.slow
def test_planted_lesson_patterns_are_found_and_a_plain_class_is_not_flagged() -> None:
    measured = lesson_detection.measure(seeds=20, days=200)
    assert min(measured["found_share"].values()) >= 0.8
    assert min(measured["flagged_share"].values()) >= 0.8
    assert measured["null_runs_flagging_anyone"] <= 1  # at most 1 in 20 runs
    assert measured["false_flags"] <= 0.05 * measured["unplanted_pupils"]
