"""Data-quality findings (``fravaer check``): each equals a naive reference, and the command's
exit codes and output never carry a pupil id.

The reference below is a plain loop over rows that shares nothing with :mod:`fravaer.check` but the
definitions in its docstring and docs/check.md.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import defaultdict
from dataclasses import astuple, dataclass
from datetime import date, timedelta
from fractions import Fraction
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner, Result

from fravaer import schema as s
from fravaer.calendar import public_holidays
from fravaer.check import FINDINGS, check, has_errors
from fravaer.cli import app
from fravaer.ingest import read_export
from tests.profiles import examples

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "examples" / "demo-export.csv"
HEADER = "pupil_id,school_id,date,category,absent_fraction,grade,class_name"
LINE = "_line"


@dataclass(frozen=True)
class Row:
    pupil: str
    school: str
    day: date
    category: str
    fraction: str  # as written, e.g. "0.5"
    grade: int | None
    line: int

    @property
    def canonical(self) -> tuple[object, ...]:
        return astuple(self)[:-1]


# -- the naive reference --------------------------------------------------------------------


Items = list[tuple[int, set[str]]]  # one (line, schools) per occurrence


def reference(rows: list[Row], *, as_of: date, holidays: set[date]) -> dict[str, tuple]:
    """Every finding as (count, first_lines, schools), computed row by row."""
    rows = sorted(rows, key=lambda r: r.line)
    seen: set[tuple[object, ...]] = set()
    first_of_key: dict[tuple[object, ...], int] = {}
    duplicates: Items = []
    clean: list[Row] = []
    for row in rows:
        if row.canonical in seen:
            duplicates.append((row.line, {row.school}))
            continue
        seen.add(row.canonical)
        clean.append(row)
    conflicting: Items = []
    first_rows: list[Row] = []
    for row in clean:
        key = (row.pupil, row.day, row.category)
        if key in first_of_key:
            conflicting.append((row.line, {row.school}))
        else:
            first_of_key[key] = row.line
            first_rows.append(row)

    def closed(day: date) -> bool:
        return day.weekday() >= 5 or day in holidays

    by_day: dict[tuple[str, date], list[Row]] = defaultdict(list)
    for row in first_rows:
        by_day[(row.pupil, row.day)].append(row)
    over_full: Items = []
    for day_rows in by_day.values():
        if sum(Fraction(r.fraction) for r in day_rows) > 1:
            first = min(day_rows, key=lambda r: r.line)
            over_full.append((first.line, {first.school}))

    after = [(r.line, {r.school}) for r in clean if r.day > as_of]
    weekend = [(r.line, {r.school}) for r in clean if closed(r.day)]

    pupil_day_rows: dict[tuple[str, date], list[Row]] = defaultdict(list)
    for row in clean:
        pupil_day_rows[(row.pupil, row.day)].append(row)
    two_schools: Items = []
    for day_rows in pupil_day_rows.values():
        schools = {r.school for r in day_rows}
        if len(schools) > 1:
            first_school = min(day_rows, key=lambda r: r.line).school
            line = min(r.line for r in day_rows if r.school != first_school)
            two_schools.append((line, schools))

    # Gaps and stale schools: only the rows on or before the as-of date.
    counted = [r for r in clean if r.day <= as_of]
    school_days: dict[str, set[date]] = defaultdict(set)
    for row in counted:
        if not closed(row.day):
            school_days[row.school].add(row.day)
    pupil_dates: dict[str, set[date]] = defaultdict(set)
    spans: dict[tuple[str, str], list[date]] = defaultdict(list)
    for row in counted:
        pupil_dates[row.pupil].add(row.day)
        spans[(row.pupil, row.school)].append(row.day)
    missing: dict[tuple[str, date], set[str]] = defaultdict(set)
    for (pupil, school), days in spans.items():
        for day in school_days[school]:
            if min(days) <= day <= max(days) and day not in pupil_dates[pupil]:
                missing[(pupil, day)].add(school)
    gaps: Items = []
    for (pupil, day), schools in missing.items():
        before = max(d for d in pupil_dates[pupil] if d < day)
        line = min(r.line for r in pupil_day_rows[(pupil, before)] if r.day <= as_of)
        gaps.append((line, schools))

    latest: dict[str, date] = {}
    for row in counted:
        latest[row.school] = max(latest.get(row.school, row.day), row.day)
    open_dates = {r.day for r in counted if not closed(r.day)}
    stale: Items = []
    if latest:
        newest = max(latest.values())
        for school, day in latest.items():
            behind = sum(1 for d in open_dates if day < d <= newest)
            if behind > 5:
                line = min(r.line for r in counted if r.school == school and r.day == day)
                stale.append((line, {school}))

    found = {
        "conflicting_rows": conflicting,
        "over_full_days": over_full,
        "duplicate_rows": duplicates,
        "after_as_of": after,
        "weekend_or_holiday": weekend,
        "two_schools_one_day": two_schools,
        "gaps": gaps,
        "stale_schools": stale,
    }
    return {name: summary(items) for name, items in found.items()}


def summary(items: Items) -> tuple[int, str, str]:
    lines = sorted({line for line, _ in items})[:5]
    schools = sorted({shown(school) for _, group in items for school in group})[:5]
    return len(items), " ".join(map(str, lines)), " ".join(schools)


def shown(school: str) -> str:
    """A CPR-shaped school id is shown by its hash only (docs/privacy.md)."""
    if re.fullmatch(r"\d{6}-?\d{4}", school):
        return "school-" + hashlib.sha256(school.encode()).hexdigest()[:8]
    return school


def frame_of(rows: list[Row]) -> pl.LazyFrame:
    return pl.LazyFrame(
        {
            s.PUPIL_ID: [r.pupil for r in rows],
            s.SCHOOL_ID: [r.school for r in rows],
            s.DATE: [r.day for r in rows],
            s.CATEGORY: [r.category for r in rows],
            s.ABSENT_FRACTION: [float(r.fraction) for r in rows],
            s.GRADE: [r.grade for r in rows],
            s.CLASS_NAME: [None for _ in rows],
            LINE: [r.line for r in rows],
        },
        schema={**s.CANONICAL_SCHEMA, LINE: pl.Int64},
    )


def fast(rows: list[Row], *, as_of: date, holidays: set[date]) -> dict[str, tuple]:
    found = check(frame_of(rows), as_of=as_of, holidays=holidays).collect()
    assert found.columns == list(s.CHECK_COLUMNS)
    assert found[s.FINDING].to_list() == list(FINDINGS)
    assert found[s.SEVERITY].to_list() == list(FINDINGS.values())
    return {name: (count, lines, schools) for name, _, count, lines, schools in found.iter_rows()}


def nonzero(found: dict[str, tuple]) -> dict[str, tuple]:
    return {name: value for name, value in found.items() if value[0]}


# -- hand-built cases -----------------------------------------------------------------------

MON = date(2024, 3, 4)  # a Monday with no holiday near it


def day(n: int) -> date:
    return MON + timedelta(days=n)


def row(line: int, pupil: str = "p1", school: str = "s1", n: int = 0, **kw: object) -> Row:
    values: dict[str, object] = {"category": "present", "fraction": "0", "grade": 3} | kw
    return Row(pupil, school, day(n), line=line, **values)  # type: ignore[arg-type]


CASES: dict[str, tuple[list[Row], dict[str, tuple]]] = {
    "clean": ([row(2), row(3, n=1), row(4, "p2"), row(5, "p2", n=1)], {}),
    "exact duplicate": (
        [row(2), row(3, n=1), row(4), row(7)],
        {"duplicate_rows": (2, "4 7", "s1")},
    ),
    "conflicting duplicate": (
        [
            row(2, category="illness", fraction="1"),
            row(3, category="illness", fraction="0.5"),
            row(4, category="illness", fraction="0.5"),  # repeats line 3: a duplicate
        ],
        {"conflicting_rows": (1, "3", "s1"), "duplicate_rows": (1, "4", "s1")},
    ),
    "over-full day": (
        [
            row(2, category="illness", fraction="0.75"),
            row(3, category="unlawful", fraction="0.5"),
            row(4, n=1, category="illness", fraction="0.5"),
            row(5, n=1, category="leave", fraction="0.5"),  # exactly 1: fine
        ],
        {"over_full_days": (1, "2", "s1")},
    ),
    "after as-of": ([row(2), row(3, n=1), row(4, n=2)], {"after_as_of": (1, "4", "s1")}),
    "weekend and holiday": (
        [row(2), row(3, n=5), row(4, n=6), row(5, n=7)],
        {"weekend_or_holiday": (2, "3 4", "s1"), "after_as_of": (3, "3 4 5", "s1")},
    ),
    "two schools": (
        [
            row(2),
            row(3, school="s2", category="illness", fraction="0.5"),
            row(4, "p2"),
            row(5, n=1, school="s2"),
        ],
        {"two_schools_one_day": (1, "3", "s1 s2")},
    ),
    "gap": (
        [row(2), row(3, n=3), row(4, "p2"), row(5, "p2", n=1), row(6, "p2", n=2)],
        {"gaps": (2, "2", "s1")},
    ),
    # A day of two rows is one day: with it, p1's rows at s1 number as many as s1's days.
    "gap beside a split day": (
        [row(2), row(3, n=1), row(4, n=1, category="illness", fraction="0.5"), row(5, n=3)]
        + [row(6 + n, "p2", n=n) for n in range(4)],
        {"gaps": (1, "3", "s1")},
    ),
    "stale school": (
        [row(2, school="s1")] + [row(3 + n, "p2", "s2", n) for n in range(9) if n not in (5, 6)],
        {"stale_schools": (1, "2", "s1")},
    ),
    # A CPR-shaped school id is shown only hashed, as in file names (docs/privacy.md).
    "stale school with a CPR-shaped id": (
        [row(2, school="010203-1234")]
        + [row(3 + n, "p2", "s2", n) for n in range(9) if n not in (5, 6)],
        {"stale_schools": (1, "2", "school-ebe9f50e")},
    ),
    "leave ahead makes no gap and no stale school": (
        [row(2), row(3, n=1), row(4, "p2"), row(5, "p2", n=1), row(6, "p3", school="s2")]
        + [
            row(7 + i, "p2", n=n, category="leave", fraction="1")
            for i, n in enumerate((7, 8, 9, 10, 11, 14))
        ]
        + [row(20, n=15, category="leave", fraction="1")],
        {"after_as_of": (7, "7 8 9 10 11", "s1")},
    ),
}
AS_OF = {
    "gap": day(9),
    "gap beside a split day": day(9),
    "stale school": day(9),
    "stale school with a CPR-shaped id": day(9),
}
"""The as-of date of a case, when not day(1)."""


@pytest.mark.parametrize("case", sorted(CASES))
def test_hand_built_cases(case: str) -> None:
    rows, expected = CASES[case]
    as_of = AS_OF.get(case, day(1))

    got = fast(rows, as_of=as_of, holidays=set())

    assert nonzero(got) == expected
    assert got == reference(rows, as_of=as_of, holidays=set())


def test_a_holiday_is_no_school_day_and_no_gap() -> None:
    rows = [row(2), row(3, n=1), row(4, n=2), row(5, "p2"), row(6, "p2", n=2)]

    with_holiday = fast(rows, as_of=day(2), holidays={day(1)})
    without = fast(rows, as_of=day(2), holidays=set())

    assert nonzero(with_holiday) == {"weekend_or_holiday": (1, "3", "s1")}
    assert nonzero(without) == {"gaps": (1, "5", "s1")}


def test_many_occurrences_list_only_the_first_five_lines() -> None:
    rows = [row(line, f"p{line}", n=5) for line in range(10, 2, -1)]

    got = fast(rows, as_of=day(9), holidays=set())

    assert got["weekend_or_holiday"] == (8, "3 4 5 6 7", "s1")


def test_has_errors() -> None:
    clean = check(frame_of(CASES["gap"][0]), as_of=day(9), holidays=()).collect()
    broken = check(frame_of(CASES["over-full day"][0]), as_of=day(9), holidays=()).collect()

    assert not has_errors(clean)
    assert has_errors(broken)


# -- properties -----------------------------------------------------------------------------

FIRST = date(2024, 3, 25)  # Holy Week 2024: Maundy Thursday, Good Friday, Easter Monday
SPAN = 21


@st.composite
def exports(draw: st.DrawFn) -> tuple[list[Row], date, set[date]]:
    base = draw(
        st.lists(
            st.tuples(
                st.sampled_from(["p1", "p2", "p3"]),
                st.sampled_from(["s1", "s2", "s3"]),
                st.integers(0, SPAN - 1),
                st.sampled_from(["present", "illness", "leave", "unlawful"]),
                st.sampled_from(["0.25", "0.5", "0.75", "1"]),
                st.sampled_from([None, 3]),
            ),
            min_size=1,
            max_size=40,
        )
    )
    repeats = draw(st.lists(st.integers(0, len(base) - 1), max_size=5))
    order = draw(st.permutations([*range(len(base)), *repeats]))
    steps = draw(st.lists(st.integers(1, 3), min_size=len(order), max_size=len(order)))
    rows = []
    line = 1
    for index, step in zip(order, steps, strict=True):
        line += step  # blank lines and multi-line records skip numbers
        pupil, school, offset, category, fraction, grade = base[index]
        rows.append(
            Row(
                pupil,
                school,
                FIRST + timedelta(days=offset),
                category,
                "0" if category == "present" else fraction,
                grade,
                line,
            )
        )
    as_of = FIRST + timedelta(days=draw(st.integers(0, SPAN)))
    holidays = public_holidays(2024, 2024) | {
        FIRST + timedelta(days=n) for n in draw(st.sets(st.integers(0, SPAN - 1), max_size=3))
    }
    return rows, as_of, set(holidays)


@settings(max_examples=examples(100), deadline=None)
@given(exports())
def test_every_finding_equals_the_reference(export: tuple[list[Row], date, set[date]]) -> None:
    rows, as_of, holidays = export

    assert fast(rows, as_of=as_of, holidays=holidays) == reference(
        rows, as_of=as_of, holidays=holidays
    )


@settings(max_examples=examples(100), deadline=None)
@given(
    st.lists(st.integers(0, SPAN - 1), min_size=1, max_size=SPAN, unique=True),
    st.lists(st.integers(0, SPAN - 1), min_size=1, max_size=SPAN, unique=True),
    st.sets(st.integers(0, SPAN - 1), max_size=4),
)
def test_gaps_and_closed_days_on_one_school(
    first: list[int], second: list[int], holiday_offsets: set[int]
) -> None:
    # Two pupils of one school: every school day of one that the other skips inside their own
    # span is a gap; weekend and holiday rows are reported and are never gaps.
    rows: list[Row] = []
    line = 2
    for pupil, offsets in (("p1", first), ("p2", second)):
        for offset in sorted(offsets):
            rows.append(Row(pupil, "s1", FIRST + timedelta(days=offset), "present", "0", 3, line))
            line += 1
    holidays = {FIRST + timedelta(days=n) for n in holiday_offsets}

    got = fast(rows, as_of=FIRST + timedelta(days=SPAN), holidays=holidays)
    expected = reference(rows, as_of=FIRST + timedelta(days=SPAN), holidays=holidays)

    assert got["gaps"] == expected["gaps"]
    assert got["weekend_or_holiday"] == expected["weekend_or_holiday"]
    closed = {r.line for r in rows if r.day.weekday() >= 5 or r.day in holidays}
    assert got["weekend_or_holiday"][0] == len(closed)


@st.composite
def registers(draw: st.DrawFn) -> tuple[list[Row], date, set[date]]:
    """Registers as schools keep them: one row a pupil and school day, each pupil at a school
    from some day to some day, some skipping days or moving school (now and then on a day at
    both), with a few split, repeated and conflicting days; anywhere from 1900 to 2100, with
    ids that sort in any order, lines in date or pupil order."""
    start = draw(st.dates(date(1900, 1, 1), date(2100, 1, 1)))
    span = draw(st.integers(1, 30))
    pupils = draw(
        st.lists(st.text("0a9Z ", min_size=1, max_size=3), min_size=1, max_size=6, unique=True)
    )
    schools = ["s1", "s2", "010203-1234"]
    rows: list[tuple[str, str, int, str, str]] = []
    for pupil in pupils:
        first = draw(st.integers(0, span - 1))
        last = draw(st.integers(first, span - 1))
        school = draw(st.sampled_from(schools))
        moved = draw(st.one_of(st.none(), st.tuples(st.integers(first, last), st.booleans())))
        skipped = draw(st.sets(st.integers(first, last), max_size=3))
        for offset in range(first, last + 1):
            if offset in skipped:
                continue
            at = school
            if moved is not None and offset >= moved[0]:
                at = schools[(schools.index(school) + 1) % len(schools)]
                if offset == moved[0] and moved[1]:  # the day of the move at both
                    rows.append((pupil, school, offset, "present", "0"))
            rows.append((pupil, at, offset, "present", "0"))
    if not rows:
        rows.append((pupils[0], schools[0], 0, "present", "0"))
    for index in draw(st.lists(st.integers(0, len(rows) - 1), max_size=6)):
        pupil, school, offset, _, _ = rows[index]
        kind = draw(st.sampled_from(["split", "split", "repeat", "conflict", "over"]))
        if kind == "split":
            rows[index] = (pupil, school, offset, "present", "0")
            rows.append((pupil, school, offset, "illness", "0.5"))
        elif kind == "repeat":
            rows.append(rows[index])
        elif kind == "conflict":
            rows.append(
                (pupil, school, offset, "present", "0")
                if rows[index][3] != "present"
                else (pupil, school, offset, "leave", "1")
            )
            rows.append((pupil, school, offset, "leave", "0.25"))
        else:
            rows.append((pupil, school, offset, "unlawful", "1"))
    if draw(st.booleans()):
        rows.sort(key=lambda r: (r[2], r[0]))
    else:
        rows.sort(key=lambda r: (r[0], r[2]))
    export = [
        Row(pupil, school, start + timedelta(days=offset), category, fraction, 3, line)
        for line, (pupil, school, offset, category, fraction) in enumerate(rows, start=2)
    ]
    as_of = start + timedelta(days=draw(st.integers(0, span)))
    holidays = {start + timedelta(days=n) for n in draw(st.sets(st.integers(0, span), max_size=2))}
    return export, as_of, holidays


@settings(max_examples=examples(200), deadline=None)
@given(registers())
def test_registers_of_many_pupils_and_days_equal_the_reference(
    export: tuple[list[Row], date, set[date]],
) -> None:
    # check finds days with several rows on integer pupil-day numbers and looks for gaps only
    # where a pupil's days at a school number fewer than the school's: both must match the
    # row-by-row reference on whole registers, not only on a handful of rows.
    rows, as_of, holidays = export

    assert fast(rows, as_of=as_of, holidays=holidays) == reference(
        rows, as_of=as_of, holidays=holidays
    )


# -- ingest's line numbers ------------------------------------------------------------------


def test_keep_lines_gives_csv_lines_through_blank_lines_and_quoted_line_breaks(
    tmp_path: Path,
) -> None:
    path = tmp_path / "e.csv"
    path.write_text(
        HEADER + "\n"
        "a,1,2024-03-04,present,0,3,3.A\n"
        "\n"
        'b,1,2024-03-04,present,0,3,"3.A\n"\n'  # stripped; inside a name it is refused
        "c,1,2024-03-04,present,0,3,3.A\n"
    )

    lines = read_export(path, keep_lines=True).collect()

    assert lines[LINE].to_list() == [2, 4, 6]
    assert read_export(path).collect().columns == list(s.CANONICAL_SCHEMA)


def test_keep_lines_gives_parquet_rows_and_day_checks_off_keeps_every_row(tmp_path: Path) -> None:
    path = tmp_path / "e.parquet"
    pl.DataFrame(
        {
            s.PUPIL_ID: ["a", "a", "a"],
            s.SCHOOL_ID: ["1"] * 3,
            s.DATE: ["2024-03-04"] * 3,
            s.CATEGORY: ["illness", "illness", "illness"],
            s.ABSENT_FRACTION: [1.0, 1.0, 0.5],
        }
    ).write_parquet(path)

    kept = read_export(path, keep_lines=True, day_checks=False).collect()

    assert kept[LINE].to_list() == [1, 2, 3]


# -- the command ----------------------------------------------------------------------------


def run(*args: object) -> Result:
    return CliRunner().invoke(app, [str(a) for a in args])


def write_export(tmp_path: Path, lines: list[str]) -> Path:
    path = tmp_path / "export.csv"
    path.write_text("\n".join([HEADER, *lines]) + "\n")
    return path


SECRET = "secret-4711"


def assert_no_pupil_data(result: Result, *values: str) -> None:
    for value in (SECRET, *values):
        assert value not in result.stdout
        assert value not in result.stderr
    assert "Traceback" not in result.stderr


def test_the_demo_export_is_clean() -> None:
    result = run("check", DEMO, "--format", "csv")

    assert result.exit_code == 0, result.output
    found = pl.read_csv(result.stdout.encode(), infer_schema=False)
    assert found.columns == list(s.CHECK_COLUMNS)
    assert found[s.FINDING].to_list() == list(FINDINGS)
    assert set(found[s.COUNT]) == {"0"}
    ids = set(pl.read_csv(DEMO, infer_schema=False)[s.PUPIL_ID])
    assert not any(pupil in result.stdout + result.stderr for pupil in list(ids)[:200])


def test_warnings_only_exit_0(tmp_path: Path) -> None:
    path = write_export(
        tmp_path,
        [
            f"{SECRET},851001,2024-03-04,present,0,3,3.A",
            f"{SECRET},851001,2024-03-04,present,0,3,3.A",  # repeated
            f"{SECRET},851001,2024-03-09,present,0,3,3.A",  # a Saturday
        ],
    )

    result = run("check", path, "--format", "json")

    assert result.exit_code == 0, result.output
    found = {f["finding"]: f for f in json.loads(result.stdout)}
    assert found["duplicate_rows"]["count"] == 1
    assert found["duplicate_rows"]["first_lines"] == "3"
    assert found["weekend_or_holiday"]["first_lines"] == "4"
    assert_no_pupil_data(result)
    assert not [line for line in result.stderr.splitlines() if "error" in line]


@pytest.mark.parametrize(
    ("lines", "finding"),
    [
        (
            [
                f"{SECRET},851001,2024-03-04,illness,1,3,3.A",
                f"{SECRET},851001,2024-03-04,illness,0.5,3,3.A",
            ],
            "conflicting_rows",
        ),
        (
            [
                f"{SECRET},851001,2024-03-04,illness,0.75,3,3.A",
                f"{SECRET},851001,2024-03-04,unlawful,0.5,3,3.A",
            ],
            "over_full_days",
        ),
    ],
)
def test_an_error_finding_exits_65_after_the_full_report(
    tmp_path: Path, lines: list[str], finding: str
) -> None:
    path = write_export(tmp_path, lines)

    result = run("check", path, "--format", "csv")

    assert result.exit_code == 65
    found = pl.read_csv(result.stdout.encode(), infer_schema=False)
    assert found.filter(pl.col(s.FINDING) == finding)[s.COUNT].item() == "1"
    errors = [line for line in result.stderr.splitlines() if line.startswith("fravaer: error:")]
    assert len(errors) == 1
    assert str(path) in errors[0]
    assert_no_pupil_data(result, "0.75")


def test_the_table_is_danish_by_default_and_english_on_request(tmp_path: Path) -> None:
    path = write_export(tmp_path, [f"{SECRET},851001,2024-03-09,present,0,3,3.A"])

    danish = run("check", path, "--format", "table")
    english = run("check", path, "--format", "table", "--lang", "en")

    assert danish.exit_code == english.exit_code == 0
    assert "Rækker på weekend- og helligdage" in danish.stdout
    assert "advarsel" in danish.stdout
    assert "Rows on weekends and public holidays" in english.stdout
    assert_no_pupil_data(danish)
    assert_no_pupil_data(english)


def test_as_of_and_output_file(tmp_path: Path) -> None:
    path = write_export(
        tmp_path,
        [
            f"{SECRET},851001,2024-03-04,present,0,3,3.A",
            f"{SECRET},851001,2024-03-05,present,0,3,3.A",
        ],
    )
    out = tmp_path / "findings.json"

    result = run("check", path, "--as-of", "2024-03-04", "-o", out)

    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    found = {f["finding"]: f for f in json.loads(out.read_text())}
    assert found["after_as_of"]["first_lines"] == "3"
    assert oct(out.stat().st_mode & 0o777) == oct(0o600)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--as-of", "4 March"], "fravaer: error: --as-of must be a date written YYYY-MM-DD"),
        (["--format", "parquet"], "fravaer: error: invalid value for '--format': "),
        (["--format", "xlsx"], "fravaer: error: invalid value for '--format': "),
    ],
)
def test_usage_errors(args: list[str], message: str) -> None:
    result = run("check", DEMO, *args)

    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.splitlines()[-1].startswith(message), result.stderr


def test_missing_export_is_66_and_unreadable_cells_65(tmp_path: Path) -> None:
    bad = write_export(tmp_path, [f"{SECRET},851001,2024-13-04,present,0,3,3.A"])

    missing = run("check", tmp_path / "nope.csv")
    unreadable = run("check", bad, "--format", "csv")

    assert missing.exit_code == 66
    assert unreadable.exit_code == 65
    assert f"{bad}:2:3" in unreadable.stderr
    assert_no_pupil_data(unreadable, "2024-13-04")


def test_check_takes_classify_s_default_as_of_and_lists_rows_after_today(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A mistyped year must not move check's as-of date either: the row is listed instead."""
    monkeypatch.setattr("fravaer.cli.setup.today", lambda: date(2026, 12, 7))
    path = write_export(
        tmp_path,
        [
            f"{SECRET},851001,2024-03-04,present,0,3,3.A",
            f"{SECRET},851001,2024-03-05,present,0,3,3.A",
            f"{SECRET},851001,2204-03-08,leave,1,3,3.A",
        ],
    )

    result = run("check", path, "--format", "json")

    assert result.exit_code == 0, result.output
    found = {f["finding"]: f for f in json.loads(result.stdout)}
    assert (found["after_as_of"]["count"], found["after_as_of"]["first_lines"]) == (1, "4")
    assert result.stderr.splitlines() == [
        "fravaer: warning: 1 row(s) dated after today (2026-12-07), the latest 2204-03-08, are "
        "left out; give --as-of to include them",
        "fravaer: checked 3 row(s) as of 2024-03-05: 1 finding(s)",
    ]
    assert_no_pupil_data(result)


# -- check reads what classify reads -------------------------------------------------------------

EXPORTS = ROOT / "examples" / "exports"


def as_of_said(result: Result) -> str:
    """The as-of date in the command's last stderr line (check's or classify's summary)."""
    return result.stderr.strip().splitlines()[-1].split(" as of ")[1][:10]


@pytest.mark.parametrize("shape", [[], ["--shape", "lesson"]])
def test_a_lesson_export_is_checked_in_school_days(shape: list[str]) -> None:
    result = run("check", EXPORTS / "lessons.csv", *shape, "--format", "csv")

    assert result.exit_code == 0, result.output
    found = pl.read_csv(result.stdout.encode(), infer_schema=False)
    assert set(found[s.COUNT]) == {"0"}
    assert "checked 5 row(s) as of 2024-03-05" in result.stderr


def test_an_absence_only_export_has_no_gaps_that_its_shape_fills_and_classify_s_as_of() -> None:
    source = ["--source", EXPORTS / "absence-only.toml"]
    export = EXPORTS / "absences.csv"

    checked = run("check", export, *source, "--format", "json")
    classified = run("classify", export, *source, "--format", "csv")

    assert checked.exit_code == 0, checked.output
    found = {f["finding"]: f for f in json.loads(checked.stdout)}
    assert found["gaps"]["count"] == 0
    assert as_of_said(checked) == as_of_said(classified) == "2024-03-15"


def test_check_takes_several_files_and_globs_and_names_the_file_of_each_line(
    tmp_path: Path,
) -> None:
    (tmp_path / "a.csv").write_text(f"{HEADER}\n{SECRET},851001,2024-03-04,present,0,3,3.A\n")
    (tmp_path / "b.csv").write_text(
        f"{HEADER}\n{SECRET},851001,2024-03-05,present,0,3,3.A\n"
        f"{SECRET},851001,2024-03-05,present,0,3,3.A\n"  # repeated: line 3 of b.csv
    )

    listed = run("check", tmp_path / "a.csv", tmp_path / "b.csv", "--format", "json")
    globbed = run("check", str(tmp_path / "*.csv"), "--format", "json")

    assert listed.exit_code == 0, listed.output
    assert listed.stdout == globbed.stdout
    found = {f["finding"]: f for f in json.loads(listed.stdout)}
    assert found["duplicate_rows"]["first_lines"] == f"{tmp_path / 'b.csv'}:3"
    assert found["gaps"]["count"] == 0  # the two files together cover both days
    assert_no_pupil_data(listed)


def test_check_refuses_what_the_reader_refuses_across_files(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text(f"{HEADER}\n{SECRET},851001,2024-03-04,illness,1,3,3.A\n")
    (tmp_path / "b.csv").write_text(f"{HEADER}\n{SECRET},851001,2024-03-04,illness,0.5,3,3.A\n")

    result = run("check", tmp_path / "a.csv", tmp_path / "b.csv", "--format", "csv")

    assert result.exit_code == 65
    assert f"{tmp_path / 'b.csv'} (column 'absent_fraction'): differs" in result.stderr
    assert_no_pupil_data(result, "0.5")


def test_check_says_an_absence_only_export_has_no_roster(tmp_path: Path) -> None:
    source = tmp_path / "source.toml"
    source.write_text(
        'shape = "absence_only"\ncalendar = { first = "2024-03-04", last = "2024-03-15" }\n'
    )
    path = write_export(
        tmp_path,
        [
            f"{SECRET},851001,2024-03-05,illness,1,3,3.A",  # no absence since: looks left
            "other-1,851001,2024-03-11,illness,1,3,3.A",
            "other-1,851001,2024-03-15,illness,1,3,3.A",
            "other-2,851001,2024-03-12,illness,1,3,3.A",
            "other-2,851001,2024-03-14,illness,1,3,3.A",
        ],
    )

    checked = run("check", path, "--source", source, "--format", "csv")
    classified = run("classify", path, "--source", source, "--format", "csv")

    warning = (
        f"fravaer: warning: {path}: absence-only export without a roster: each pupil counts only "
        "from their first to their last absence, and 1 of 3 pupil(s) with no absence in the last "
        "5 school days look as if they had left (set roster in source.toml)"
    )
    for result in (checked, classified):
        assert result.exit_code == 0, result.output
        assert result.stderr.splitlines()[0] == warning
    assert_no_pupil_data(checked, "other-1")
    assert "classified 2 pupil(s)" in classified.stderr  # the one the warning counted is left out


def _write(rows: list[Row], folder: Path, *, lessons: bool) -> Path:
    header = HEADER + ",lesson" if lessons else HEADER
    lines = [
        ",".join(
            [
                *(r.pupil, r.school, r.day.isoformat(), r.category, r.fraction),
                *(str(r.grade or ""), ""),
                *([str(r.line % 3)] if lessons else []),
            ]
        )
        for r in sorted(rows, key=lambda r: r.line)
    ]
    path = folder / "export.csv"
    path.write_text("\n".join([header, *lines]) + "\n")
    return path


@settings(max_examples=examples(30), deadline=None)
@given(exports(), st.booleans())
def test_check_reports_an_error_exactly_when_the_reader_refuses(
    export: tuple[list[Row], date, set[date]], lessons: bool
) -> None:
    """Repeated, conflicting and over-full pupil-days (or lessons): one rule, one verdict."""
    import tempfile

    from fravaer.errors import BadInputError

    rows, as_of, _ = export
    with tempfile.TemporaryDirectory() as folder:
        path = _write(rows, Path(folder), lessons=lessons)
        try:
            read_export(path).collect()
            refused = False
        except BadInputError:
            refused = True
        result = run("check", path, "--as-of", as_of.isoformat(), "--format", "csv")

    assert result.exit_code in (0, 65), result.output
    assert (result.exit_code == 65) == refused, result.output
