"""The examples of docs/from-your-system.md classify as a naive computation over their files says.

Each example export is read by plain Python (the csv module, the mapping its source.toml
states) and its pupils' school days and absent days counted by hand; ``fravaer`` reading the
same files through their ``source.toml`` must give the same numbers in its classification.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from datetime import date
from fractions import Fraction
from pathlib import Path

import polars as pl

from fravaer import classify, load_policy, read_export
from fravaer.ingest.load import load_source
from fravaer.policy import NATIONAL_POLICY

ROOT = Path(__file__).resolve().parents[1]
SYSTEMS = ROOT / "examples" / "systems"
POLICY = load_policy("odense")  # in force in 2021/22, when the Ed-Fi sample was recorded
NATIONAL = load_policy(NATIONAL_POLICY)
EDFI = "uri://ed-fi.org/AttendanceEventCategoryDescriptor#"

Counted = dict[str, tuple[int, Fraction, Fraction, Fraction]]
"""pupil -> school days, absent days, leave days, unlawful days."""


def rows(path: Path, delimiter: str = ",") -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as file:
        return list(csv.DictReader(file, delimiter=delimiter))


def classified(export: Path, source: Path) -> Counted:
    frame = read_export(export, load_source(source))
    as_of = frame.select(pl.col("date").max()).collect().item()
    steps = classify(frame, policy=POLICY, national=NATIONAL, as_of=as_of).collect()
    return {
        r["pupil_id"]: (
            r["window_days"],
            Fraction(r["absent_days"]).limit_denominator(1000),
            Fraction(r["leave_days"]).limit_denominator(1000),
            Fraction(r["unlawful_days"]).limit_denominator(1000),
        )
        for r in steps.iter_rows(named=True)
    }


def test_the_ed_fi_sample_counts_as_its_events_say() -> None:
    folder = SYSTEMS / "ed-fi"
    school_days = [date.fromisoformat(r["date"]) for r in rows(folder / "school-days.csv")]
    enrolled = {
        r["pupil_id"]: date.fromisoformat(r["first_day"]) for r in rows(folder / "roster.csv")
    }
    absent: dict[str, dict[str, Fraction]] = defaultdict(lambda: defaultdict(Fraction))
    for event in rows(folder / "attendance-events.csv"):
        category = event["AttendanceEventCategoryDescriptor"].removeprefix(EDFI)
        counted = {"Excused Absence": "leave", "Unexcused Absence": "unlawful"}.get(category)
        if counted is not None:
            absent[event["StudentUniqueId"]][counted] += Fraction(event["EventDuration"])
    expected = {
        pupil: (
            sum(day >= first for day in school_days),
            absent[pupil]["leave"] + absent[pupil]["unlawful"],
            absent[pupil]["leave"],
            absent[pupil]["unlawful"],
        )
        for pupil, first in enrolled.items()
    }

    assert classified(folder / "attendance-events.csv", folder / "source.toml") == expected
    assert len(expected) == 37
    assert sum(days for days, *_ in expected.values()) == 37 * 21  # Good Friday counted


def test_the_p_a_register_counts_its_a_days() -> None:
    folder = SYSTEMS / "pa-register"
    days: dict[str, list[str]] = defaultdict(list)
    for row in rows(folder / "register.csv"):
        days[row["student_id"]].append(row["status"])
    expected = {
        pupil: (len(marks), Fraction(marks.count("A")), Fraction(0), Fraction(marks.count("A")))
        for pupil, marks in days.items()
    }

    assert classified(folder / "register.csv", folder / "source.toml") == expected


def test_the_uddata_extracts_count_their_hours() -> None:
    folder = SYSTEMS / "uddata"

    def hours(cell: str) -> Fraction:
        return Fraction(cell.replace(",", ".") or "0")

    lines = rows(folder / "z8503.csv", delimiter=";")
    expected: Counted = {}
    for line in lines:
        scheduled = hours(line["Timer"])
        if scheduled == 0:
            continue
        unlawful = hours(line["Ugyldigt_fraver"]) / scheduled
        other = hours(line["Fraver_ialt"]) / scheduled - unlawful  # illness in z8503.toml
        days, total, leave, unlawful_days = expected.get(line["CPR_nr"], (0, *[Fraction(0)] * 3))
        expected[line["CPR_nr"]] = (
            days + 1,
            total + unlawful + other,
            leave,
            unlawful_days + unlawful,
        )

    assert classified(folder / "z8503.csv", folder / "z8503.toml") == expected


def test_the_contoso_sample_counts_its_absent_sections_per_day() -> None:
    folder = SYSTEMS / "contoso-sis"
    sections: dict[date, dict[str, str]] = defaultdict(dict)
    for row in rows(folder / "studentattendance.csv"):  # one pupil
        day, month, year = (int(part) for part in row["attendance_date"].split("/"))
        sections[date(year, month, day)][row["section_id"]] = row["AttendanceCode"]
    latest = sorted(sections)[-200:]  # Odense: the latest 200 school days
    absent = sum(
        (Fraction(list(sections[d].values()).count("A"), len(sections[d])) for d in latest),
        Fraction(0),
    )

    assert classified(folder / "studentattendance.csv", folder / "source.toml") == {
        "st1": (200, absent, Fraction(0), absent)
    }
