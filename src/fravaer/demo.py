"""A deterministic synthetic municipality for demos, tests and benchmarks (``fravaer demo-data``).

It is built to look like the real thing, because a tool tuned on toy data fails on real exports:

* grades 0-9 in classes of about 22, schools of unequal size, six-digit institution numbers and
  seven-digit pupil ids with leading zeros (ids are strings, never numbers);
* a real school-year calendar (:mod:`fravaer.calendar`);
* a stable absence propensity per pupil, drawn so that the municipality averages about 7-8 %
  absence with about a fifth to a quarter of pupils above 10 % (ministry figures 2021/22-2022/23),
  including a small tail of pupils with very high absence;
* absence that comes in spells: illness of several days, leave as family trips of a few days,
  unlawful absence mostly single days; each pupil has their own split between the categories;
* some pupils with a weekday pattern (the headache every Wednesday before PE), some pupils who
  change school mid-year, who join late or who leave, and a few partial days (lesson fractions).

Generation is vectorised with numpy over blocks of pupils and yields one polars frame per block,
so that a national-size file streams to disk in bounded memory. The same arguments give the same
rows on every machine.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

import numpy as np
import polars as pl

from fravaer import schema as s
from fravaer.calendar import school_year_days
from fravaer.errors import UsageError

BLOCK_PUPILS = 20_000
CLASS_SIZE = 22
FIRST_SCHOOL_NUMBER = 851_001  # Aalborg's municipality code is 851

_PRESENT, _ILLNESS, _LEAVE, _UNLAWFUL = 0, 1, 2, 3
_CATEGORY_NAMES = np.array(s.CATEGORIES)


@dataclass(frozen=True)
class DemoSpec:
    """What to generate."""

    pupils: int
    schools: int
    first_year: int
    seed: int = 1
    until: date | None = None


def _school_sizes(spec: DemoSpec, rng: np.random.Generator) -> np.ndarray:
    weights = rng.uniform(0.5, 1.5, size=spec.schools)
    sizes: np.ndarray = np.floor(weights / weights.sum() * spec.pupils).astype(np.int64)
    sizes[: spec.pupils - sizes.sum()] += 1
    return sizes


def _class_letter(index: int) -> str:
    """A, B, ..., Z, then AA, AB, ... for very large synthetic cohorts."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def _class_names(grades: np.ndarray, school: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """``7.B``-style names: each school's grade cohort is split at random into classes of ~22."""
    n = len(grades)
    key = school * 100 + grades
    order = np.lexsort((rng.random(n), key))  # by cohort, shuffled within it
    starts = np.r_[0, np.flatnonzero(np.diff(key[order])) + 1]
    sizes = np.diff(np.r_[starts, n])
    cohort = np.repeat(np.arange(len(starts)), sizes)
    rank = np.arange(n) - starts[cohort]
    n_classes = np.maximum(1, np.rint(sizes / CLASS_SIZE)).astype(np.int64)[cohort]
    index = np.empty(n, dtype=np.int64)
    index[order] = rank % n_classes
    letters = [_class_letter(i) for i in range(int(index.max(initial=0)) + 1)]
    return np.array([f"{g}.{letters[i]}" for g, i in zip(grades, index, strict=True)], dtype=object)


def generate(spec: DemoSpec) -> Iterator[pl.DataFrame]:
    """Yield the canonical frame of the synthetic municipality, one block of pupils at a time.

    >>> frames = list(generate(DemoSpec(pupils=50, schools=2, first_year=2023, seed=3)))
    >>> frame = pl.concat(frames)
    >>> frame.columns == list(s.CANONICAL_SCHEMA)
    True
    >>> frame["pupil_id"].n_unique(), frame["pupil_id"].min()
    (50, '0000001')
    """
    days = np.array(school_year_days(spec.first_year), dtype="datetime64[D]")
    if spec.until is not None:
        days = days[days <= np.datetime64(spec.until)]
    if len(days) == 0:
        raise UsageError("--until is before the first school day of the year")
    rng = np.random.default_rng([spec.seed, 0])
    sizes = _school_sizes(spec, rng)
    home = np.repeat(np.arange(spec.schools), sizes)
    grades = rng.integers(0, 10, size=spec.pupils)
    classes = _class_names(grades, home, rng)
    for start in range(0, spec.pupils, BLOCK_PUPILS):
        stop = min(start + BLOCK_PUPILS, spec.pupils)
        block_rng = np.random.default_rng([spec.seed, 1 + start // BLOCK_PUPILS])
        yield _block(
            days, np.arange(start, stop), home[start:stop], grades[start:stop],
            classes[start:stop], spec.schools, block_rng,
        )  # fmt: skip


def _propensity(n: int, rng: np.random.Generator) -> np.ndarray:
    """Each pupil's share of absent days: a skewed body and a tail of very high absence."""
    body = rng.beta(8.0, 118.0, size=n)
    tail = rng.uniform(0.2, 0.6, size=n)
    return np.where(rng.random(n) < 0.025, tail, body)


def _block(
    days: np.ndarray,
    ids: np.ndarray,
    home: np.ndarray,
    grades: np.ndarray,
    classes: np.ndarray,
    n_schools: int,
    rng: np.random.Generator,
) -> pl.DataFrame:
    n, n_days = len(ids), len(days)
    rate = _propensity(n, rng)
    # Each pupil's split of spells between illness, leave and unlawful absence.
    split = rng.dirichlet([8.0, 1.6, 1.4], size=n)
    mean_spell = np.array([2.4, 2.8, 1.3])  # days, by category
    expected_len = split @ mean_spell
    p_start = rate / (expected_len * (1 - rate) + rate)
    weekday = np.where(rng.random(n) < 0.06, rng.integers(0, 5, size=n), -1)
    day_of_week = (days.astype("int64") - 4) % 7  # 1970-01-01 was a Thursday; Monday is 0

    category = np.zeros((n, n_days), dtype=np.int8)
    remaining = np.zeros(n, dtype=np.int64)
    current = np.zeros(n, dtype=np.int8)
    for t in range(n_days):
        starting = (remaining == 0) & (rng.random(n) < p_start)
        if starting.any():
            kind = 1 + (rng.random((n, 1)) > np.cumsum(split, axis=1)).sum(axis=1)
            kind = np.minimum(kind, 3)
            length = rng.geometric(1 / mean_spell[kind - 1])
            current = np.where(starting, kind, current).astype(np.int8)
            remaining = np.where(starting, length, remaining)
        absent = remaining > 0
        pattern = (weekday == day_of_week[t]) & (rng.random(n) < 0.3) & ~absent
        category[:, t] = np.where(absent, current, np.where(pattern, _ILLNESS, _PRESENT))
        remaining = np.maximum(remaining - 1, 0)

    fraction = (category > 0).astype(np.float64)
    partial = (category > 0) & (rng.random((n, n_days)) < 0.04)
    fraction[partial] = rng.integers(1, 6, size=int(partial.sum())) / 6

    # Enrolment: some pupils join late, some leave, some change school mid-year.
    first = np.where(rng.random(n) < 0.02, rng.integers(0, n_days, size=n), 0)
    last = np.where(rng.random(n) < 0.015, rng.integers(0, n_days, size=n), n_days - 1)
    last = np.maximum(first, last)
    move_day = np.where(
        (rng.random(n) < 0.03) & (n_schools > 1),
        rng.integers(n_days // 5, max(n_days // 5 + 1, 4 * n_days // 5), size=n),
        n_days,
    )
    new_school = (home + rng.integers(1, max(n_schools, 2), size=n)) % max(n_schools, 1)
    new_class = np.array(
        [f"{g}.{'ABC'[k]}" for g, k in zip(grades, rng.integers(0, 3, size=n), strict=True)],
        dtype=object,
    )

    t_index = np.arange(n_days)
    enrolled = (t_index >= first[:, None]) & (t_index <= last[:, None])
    pupil_idx, day_idx = np.nonzero(enrolled)
    moved = day_idx >= move_day[pupil_idx]
    school = np.where(moved, new_school[pupil_idx], home[pupil_idx]) + FIRST_SCHOOL_NUMBER
    class_name = np.where(moved, new_class[pupil_idx], classes[pupil_idx])

    return pl.DataFrame(
        {
            s.PUPIL_ID: np.char.zfill((ids[pupil_idx] + 1).astype(str), 7),
            s.SCHOOL_ID: school.astype(str),
            s.DATE: days[day_idx],
            s.CATEGORY: _CATEGORY_NAMES[category[pupil_idx, day_idx]],
            s.ABSENT_FRACTION: fraction[pupil_idx, day_idx],
            s.GRADE: grades[pupil_idx].astype(np.int8),
            s.CLASS_NAME: class_name.astype(str),
        },
        schema=s.CANONICAL_SCHEMA,
    )
