"""How often `fravaer patterns` finds planted lesson patterns, and flags a class without any.

    python benchmarks/lesson_detection.py [--seeds N] [--days D] [--share S]

For each seed, `demo-data --lessons` data for one class of 25 over the school year 2023/24
(:mod:`fravaer.demo_lessons`: 2 % of single lessons and 5 % of whole days missed at random) is
written as a CSV file and read back as every command reads it (``load(..., lessons=True)``),
then :func:`fravaer.trend.patterns` runs on it with ``--days`` D (default 200: the whole year):

- **planted**: pupils 1, 11, 21 leave Thursday's last two lessons, pupils 2, 12, 22 miss PE,
  pupils 3, 13, 23 miss Monday's first lesson, each on 60 % of those days (``--share``). A
  planted pupil is *found* when their strongest lesson finding is the one planted
  (``leaves_early`` on Thursday; ``lesson`` with subject Idræt; ``arrives_late`` on Monday),
  *flagged* when the planted flag is among their flags; the other 16 pupils count as false
  flags when they have any lesson flag.
- **null**: the same class with nothing planted: how many runs flag anyone with a lesson flag.

Prints one JSON object; docs/trend.md quotes it.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl

from fravaer.demo_lessons import (
    ARRIVES_LATE,
    DEMO_LESSON_SCHEMA,
    LEAVES_EARLY,
    PLANTED_SHARE,
    PLANTS,
    SUBJECT_PLANT,
    LessonDemoSpec,
    generate_lessons,
    planted_kind,
)
from fravaer.ingest.load import load
from fravaer.ingest.policy import load_policy
from fravaer.lessons import LESSON_FLAGS
from fravaer.output import write_frames
from fravaer.policy import DEFAULT_POLICY
from fravaer.trend import patterns

PUPILS = 25
YEAR = 2023
EXPECTED = {
    LEAVES_EARLY: ("leaves_early", "thursday", None),
    SUBJECT_PLANT: ("lesson", None, "Idræt"),
    ARRIVES_LATE: ("arrives_late", "monday", None),
}


def run_once(
    seed: int, planted: tuple[str, ...], days: int, folder: Path, share: float
) -> pl.DataFrame:
    """`fravaer patterns`' result for one generated class, read from its CSV file."""
    path = folder / f"class-{seed}-{len(planted)}.csv"
    spec = LessonDemoSpec(pupils=PUPILS, first_year=YEAR, seed=seed, planted=planted, share=share)
    write_frames(generate_lessons(spec), "csv", path, schema=DEMO_LESSON_SCHEMA)
    loaded = load(path, lessons=True)
    assert loaded.lessons is not None
    frame, lessons = (part.lazy() for part in pl.collect_all([loaded.frame, loaded.lessons]))
    as_of = frame.select(pl.col("date").max()).collect().item()
    assert isinstance(as_of, date)
    policy = load_policy(DEFAULT_POLICY)
    result = patterns(frame, policy=policy, as_of=as_of, days=days, lessons=lessons).collect()
    path.unlink()
    return result


def lesson_flags(flags: str) -> set[str]:
    return {flag for flag in flags.split(";") if flag in LESSON_FLAGS}


def measure(seeds: int, days: int, share: float = PLANTED_SHARE) -> dict[str, Any]:
    """Detection per planted kind and false flags, over ``seeds`` classes of each kind."""
    found = dict.fromkeys(PLANTS, 0)
    flagged = dict.fromkeys(PLANTS, 0)
    planted_pupils = dict.fromkeys(PLANTS, 0)
    false_flags = others = 0
    null_runs_flagging = null_pupils_flagged = 0
    with tempfile.TemporaryDirectory() as folder:
        for seed in range(1, seeds + 1):
            result = run_once(seed, PLANTS, days, Path(folder), share)
            for i, row in enumerate(result.sort("pupil_id").iter_rows(named=True)):
                kind = planted_kind(i, PLANTS)
                raised = lesson_flags(row["flags"])
                if kind is None:
                    others += 1
                    false_flags += bool(raised)
                    continue
                planted_pupils[kind] += 1
                flag, weekday, subject = EXPECTED[kind]
                flagged[kind] += flag in raised
                strongest = (row["lesson_pattern"], row["lesson_weekday"])
                found[kind] += strongest == (flag, weekday) and (
                    subject is None or row["lesson_subject"] == subject
                )
            null = run_once(seed, (), days, Path(folder), share)
            flagging = sum(bool(lesson_flags(flags)) for flags in null["flags"])
            null_runs_flagging += flagging > 0
            null_pupils_flagged += flagging
    return {
        "seeds": seeds,
        "days": days,
        "share": share,
        "class": PUPILS,
        "found_share": {k: found[k] / planted_pupils[k] for k in PLANTS},
        "flagged_share": {k: flagged[k] / planted_pupils[k] for k in PLANTS},
        "planted_pupils_per_kind": planted_pupils[PLANTS[0]],
        "false_flags": false_flags,
        "unplanted_pupils": others,
        "null_runs_flagging_anyone": null_runs_flagging,
        "null_pupils_flagged": null_pupils_flagged,
        "null_pupils": seeds * PUPILS,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=40)
    parser.add_argument("--days", type=int, default=200)
    parser.add_argument("--share", type=float, default=PLANTED_SHARE)
    args = parser.parse_args()
    measured = measure(args.seeds, args.days, args.share)
    print(json.dumps(measured, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
