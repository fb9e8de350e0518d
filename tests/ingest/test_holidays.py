"""Which public holidays a generated calendar leaves out (docs/shapes.md#calendars).

``[calendar] holidays = "DK"`` is the default; ``"none"`` or another country code of the
``holidays`` package are allowed, so that data from elsewhere (school on Good Friday) is read
with a generated calendar. Any other value is a configuration error at its TOML line (exit 78).
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fravaer import schema as s
from fravaer.cli import app
from fravaer.errors import BadInputError, PolicyError
from fravaer.ingest import read_export
from fravaer.ingest.load import load_source
from fravaer.ingest.shapes import generated_school_days
from fravaer.ingest.source import Calendar

EASTER_2024 = (date(2024, 3, 25), date(2024, 4, 5))
MAUNDY_THURSDAY, GOOD_FRIDAY, EASTER_MONDAY = date(2024, 3, 28), date(2024, 3, 29), date(2024, 4, 1)


def test_danish_holidays_are_the_default() -> None:
    days = generated_school_days(*EASTER_2024)

    assert Calendar().holidays == "DK"
    assert not {MAUNDY_THURSDAY, GOOD_FRIDAY, EASTER_MONDAY} & set(days)
    assert len(days) == 7


def test_none_keeps_every_weekday() -> None:
    days = generated_school_days(*EASTER_2024, holidays="none")

    assert len(days) == 10
    assert GOOD_FRIDAY in days


def test_another_country_leaves_out_its_own_holidays() -> None:
    us = generated_school_days(date(2024, 7, 1), date(2024, 7, 5), holidays="US")
    netherlands = generated_school_days(*EASTER_2024, holidays="NL")

    assert date(2024, 7, 4) not in us  # Independence Day
    assert len(us) == 4
    assert EASTER_MONDAY not in netherlands
    assert MAUNDY_THURSDAY in netherlands


def write_source(tmp_path: Path, holidays: str) -> Path:
    (tmp_path / "roster.csv").write_text(
        "pupil_id,school_id,first_day,last_day\nfake-1,1,2024-03-25,\n", "utf-8"
    )
    path = tmp_path / "source.toml"
    path.write_text(
        'shape = "absence_only"\nroster = "roster.csv"\n\n[calendar]\n'
        f'first = "2024-03-25"\nlast = "2024-04-05"\nholidays = "{holidays}"\n',
        "utf-8",
    )
    return path


def test_an_absence_on_good_friday_is_read_with_holidays_none(tmp_path: Path) -> None:
    export = tmp_path / "absences.csv"
    export.write_text("pupil_id,school_id,date,category\nfake-1,1,2024-03-29,illness\n", "utf-8")

    frame = read_export(export, load_source(write_source(tmp_path, "none"))).collect()
    with pytest.raises(BadInputError) as danish:
        read_export(export, load_source(write_source(tmp_path, "DK"))).collect()

    assert danish.value.exit_code == 65
    assert danish.value.message.startswith(f"{export}:2:")

    assert frame.height == 10
    illness = frame.filter(frame[s.CATEGORY] == "illness")
    assert illness[s.DATE].to_list() == [GOOD_FRIDAY]


@pytest.mark.parametrize("value", ["Denmark", "dk", "", "XX"])
def test_an_unknown_value_is_refused_at_its_line(tmp_path: Path, value: str) -> None:
    with pytest.raises(PolicyError) as caught:
        load_source(write_source(tmp_path, value))

    assert caught.value.exit_code == 78
    assert caught.value.message.startswith(
        f"{tmp_path / 'source.toml'}:7: field 'calendar.holidays'"
    )


def test_check_takes_the_holidays_of_the_calendar(tmp_path: Path) -> None:
    """`check` flags rows on public holidays by the same rule the calendar reads them by: with
    `holidays = "none"` a school day on Good Friday is no finding."""
    export = tmp_path / "absences.csv"
    export.write_text("pupil_id,school_id,date,category\nfake-1,1,2024-03-29,illness\n", "utf-8")
    source = write_source(tmp_path, "none")
    out = tmp_path / "findings.json"

    args = ["check", str(export), "--source", str(source), "--as-of", "2024-04-05"]

    result = CliRunner().invoke(app, [*args, "--format", "json", "-o", str(out)])

    assert result.exit_code == 0, result.stderr
    findings = {f["finding"]: f for f in json.loads(out.read_text(encoding="utf-8"))}
    assert findings["weekend_or_holiday"]["count"] == 0


@pytest.mark.parametrize(
    ("holidays", "day", "counted"),
    [
        ("DK", GOOD_FRIDAY, 1),
        ("none", GOOD_FRIDAY, 0),
        ("US", GOOD_FRIDAY, 0),
        ("DK", date(2024, 7, 4), 0),  # Independence Day: a school day in Denmark
        ("US", date(2024, 7, 4), 1),
        ("none", date(2024, 3, 30), 1),  # a Saturday is closed whatever the holidays
    ],
)
def test_the_as_of_warning_takes_the_holidays_of_the_calendar(
    tmp_path: Path, holidays: str, day: date, counted: int
) -> None:
    """The warning about pupils seen only on closed days counts by the holidays `check` flags
    rows by: with `holidays = "none"` a pupil registered only on Good Friday has a school day."""
    export = tmp_path / "register.csv"
    export.write_text(
        "pupil_id,school_id,date,category\n"
        f"fake-1,1,{day.isoformat()},illness\nfake-2,1,2024-07-08,present\n",
        "utf-8",
    )
    source = tmp_path / "source.toml"
    source.write_text(f'[calendar]\nholidays = "{holidays}"\n', "utf-8")
    args = ["classify", str(export), "--source", str(source), "--as-of", "2024-07-08"]

    result = CliRunner().invoke(app, [*args, "--format", "csv", "--include-left"])

    assert result.exit_code == 0, result.stderr
    warned = [line for line in result.stderr.splitlines() if "only on Saturdays" in line]
    expected = (
        f"fravaer: warning: {counted} pupil(s) have rows only on Saturdays, Sundays or public "
        "holidays: no school day, so they look as if they had left (fravaer check lists the rows)"
    )
    assert warned == ([expected] if counted else [])
