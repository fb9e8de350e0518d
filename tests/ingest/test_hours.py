"""Exports in hours (Uddata+'s Z8086 and FGU Z8503 extracts): reading, school days, refusals.

:func:`fravaer.ingest.hours.from_hours`, and the whole reading of a written file, must equal the
naive reference in ``hours_reference.py`` on generated lines (fractions compared exactly, in
day units). Bad input is refused with exit 65 and one line naming the file, line and column;
the pupil's name (``Navn``) never reaches any output, error or log.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from fractions import Fraction
from pathlib import Path

import polars as pl
import pytest
import xlsxwriter
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner, Result

from fravaer import read_export
from fravaer import schema as s
from fravaer.cli import app
from fravaer.errors import BadInputError
from fravaer.ingest.hourcolumns import (
    ABSENT_HOURS,
    SCHEDULED_HOURS,
    TOTAL_ABSENT_HOURS,
    UNLAWFUL_HOURS,
)
from fravaer.ingest.hours import CODE, from_hours, period_expr
from fravaer.ingest.load import load
from fravaer.ingest.source import SourceOptions
from tests.ingest.hours_reference import DayRow, HoursLine, reference_days
from tests.profiles import examples

START = date(2024, 3, 4)  # a Monday
NAME = "Sørine Hemmeligsen"  # a pupil's name: it must never be shown
CODES = {"S": s.ILLNESS, "Sygdom": s.ILLNESS, "U": s.UNLAWFUL, "E": s.LEAVE, "": s.PRESENT}
"""Codes as an extract writes them; two of them are illness (their hours add up)."""


def run(*args: object) -> Result:
    return CliRunner().invoke(app, [str(a) for a in args])


def one_error_line(result: Result) -> str:
    """The run's only ``fravaer: error:`` line (and no traceback)."""
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("fravaer: error:")]
    assert len(errors) == 1, result.stderr
    return errors[0]


# -- generated lines ----------------------------------------------------------------------------

# Hours as an extract writes them: quarters, tenths and hundredths of an hour, up to 8 hours.
DENOMINATORS = (4, 10, 100)


@st.composite
def hours_below(draw: st.DrawFn, most: Fraction) -> Fraction:
    """Hours from 0 to ``most`` in one of the extract's steps."""
    step = Fraction(1, draw(st.sampled_from(DENOMINATORS)))
    return step * draw(st.integers(0, int(most / step)))


@st.composite
def code_lines(draw: st.DrawFn) -> list[HoursLine]:
    """Lines of the ``codes`` form: per pupil-day its codes, each code once, the day's scheduled
    hours on every line, absent hours adding up to at most the scheduled hours."""
    lines: list[HoursLine] = []
    for pupil in ("0101", "0102", "0103")[: draw(st.integers(1, 3))]:
        for offset in draw(st.sets(st.integers(0, 9), min_size=1, max_size=4)):
            day = START + timedelta(days=offset)
            scheduled = draw(st.sampled_from([Fraction(0), Fraction(1, 4)]) | hours_below(8))
            left = scheduled
            for code in draw(
                st.lists(st.sampled_from(list(CODES)), min_size=1, max_size=4, unique=True)
            ):
                category = CODES[code]
                absent = Fraction(0) if category == s.PRESENT else draw(hours_below(left))
                left -= absent
                lines.append(
                    HoursLine(
                        pupil,
                        draw(st.sampled_from(["851001", "851002"])),
                        day,
                        scheduled,
                        code=code,
                        category=category,
                        absent=absent,
                        grade=draw(st.sampled_from([None, 4, 5])),
                        class_name=draw(st.sampled_from([None, "4.A", "5.B"])),
                    )
                )
    return draw(st.permutations(lines))


@st.composite
def total_lines(draw: st.DrawFn) -> list[HoursLine]:
    """Lines of the ``totals`` form: one per pupil-day, unlawful <= total <= scheduled."""
    lines = []
    for pupil in ("0101", "0102")[: draw(st.integers(1, 2))]:
        for offset in draw(st.sets(st.integers(0, 9), min_size=1, max_size=4)):
            scheduled = draw(hours_below(8))
            total = draw(hours_below(scheduled))
            unlawful = draw(hours_below(total))
            lines.append(
                HoursLine(
                    pupil,
                    "851001",
                    START + timedelta(days=offset),
                    scheduled,
                    unlawful=unlawful,
                    total=total,
                    class_name="4.A",
                )
            )
    return lines


def lines_frame(lines: list[HoursLine], *, totals: bool = False) -> pl.LazyFrame:
    columns: dict[str, list[object]] = {
        s.PUPIL_ID: [x.pupil_id for x in lines],
        s.SCHOOL_ID: [x.school_id for x in lines],
        s.DATE: [x.date for x in lines],
        s.GRADE: [x.grade for x in lines],
        s.CLASS_NAME: [x.class_name for x in lines],
        SCHEDULED_HOURS: [float(x.scheduled) for x in lines],
    }
    if totals:
        columns[UNLAWFUL_HOURS] = [float(x.unlawful) for x in lines]
        columns[TOTAL_ABSENT_HOURS] = [float(x.total) for x in lines]
    else:
        columns[CODE] = [x.code for x in lines]
        columns[s.CATEGORY] = [x.category for x in lines]
        columns[ABSENT_HOURS] = [float(x.absent) for x in lines]
    return pl.LazyFrame(
        columns, schema_overrides={s.DATE: pl.Date, s.GRADE: pl.Int8, s.CLASS_NAME: pl.String}
    )


def as_rows(frame: pl.LazyFrame) -> list[DayRow]:
    """The canonical frame as sorted tuples with the fraction in exact day units."""
    data = frame.collect()
    assert data.schema == s.CANONICAL_SCHEMA
    rows = [
        (
            r[s.PUPIL_ID],
            r[s.SCHOOL_ID],
            r[s.DATE],
            r[s.CATEGORY],
            round(r[s.ABSENT_FRACTION] * s.DAY_UNITS),
            r[s.GRADE],
            r[s.CLASS_NAME],
        )
        for r in data.iter_rows(named=True)
    ]
    return sorted(rows, key=lambda r: (r[0], r[1], r[2], r[3]))


def decimal(hours: Fraction) -> str:
    """Hours as an extract writes them: a decimal comma, no trailing zeros."""
    text = f"{float(hours):.2f}".rstrip("0").rstrip(".")
    return text.replace(".", ",")


def write_extract(path: Path, lines: list[HoursLine], *, totals: bool = False) -> None:
    """The lines as a Uddata+-like extract: ``;``-separated, Danish dates, decimal commas."""
    if totals:
        header = "Afdeling;CPR_nr;Navn;Klasse;Dato;Timer;Ugyldigt_fraver;Fraver_ialt"
        body = [
            f"{x.school_id};{x.pupil_id};{NAME};{x.class_name or ''};{x.date:%d-%m-%Y};"
            f"{decimal(x.scheduled)};{decimal(x.unlawful)};{decimal(x.total)}"
            for x in lines
        ]
    else:
        header = "Institution;CPR_nr;Navn;Årgang;Klasse;Dato;Fraværsårsag;Timer;Fravær"
        body = [
            f"{x.school_id};{x.pupil_id};{NAME};{'' if x.grade is None else x.grade};"
            f"{x.class_name or ''};{x.date:%d-%m-%Y};{x.code};{decimal(x.scheduled)};"
            f"{decimal(x.absent)}"
            for x in lines
        ]
    path.write_text("\n".join([header, *body]) + "\n", encoding="utf-8")


# -- properties ---------------------------------------------------------------------------------


@settings(max_examples=examples(60))
@given(code_lines())
def test_hours_per_code_equal_the_naive_reference(lines: list[HoursLine]) -> None:
    assert as_rows(from_hours(lines_frame(lines))) == reference_days(lines)


@settings(max_examples=examples(40))
@given(total_lines(), st.sampled_from([s.LEAVE, s.ILLNESS]))
def test_unlawful_and_total_hours_equal_the_naive_reference(
    lines: list[HoursLine], valid_absence: str
) -> None:
    frame = from_hours(lines_frame(lines, totals=True), valid_absence=valid_absence)
    assert as_rows(frame) == reference_days(lines, totals=True, valid_absence=valid_absence)


@settings(max_examples=examples(15))
@given(code_lines(), st.booleans())
def test_a_written_extract_reads_as_the_naive_reference(
    tmp_path_factory: pytest.TempPathFactory, lines: list[HoursLine], totals_form: bool
) -> None:
    path = tmp_path_factory.mktemp("hours") / "extract.csv"
    if totals_form:  # the same days, one line each: their unlawful and all their hours
        by_day: dict[tuple[str, date], list[HoursLine]] = {}
        for x in lines:
            by_day.setdefault((x.pupil_id, x.date), []).append(x)
        lines = [
            HoursLine(
                pupil,
                "851001",
                day,
                of_day[0].scheduled,
                unlawful=sum((x.absent for x in of_day if x.category == s.UNLAWFUL), Fraction(0)),
                total=sum((x.absent for x in of_day), Fraction(0)),
                class_name="4.A",
            )
            for (pupil, day), of_day in by_day.items()
        ]
    write_extract(path, lines, totals=totals_form)
    assert as_rows(read_export(path)) == reference_days(lines, totals=totals_form)


# -- examples -----------------------------------------------------------------------------------


def test_a_fifth_of_the_day_from_decimal_comma_hours(tmp_path: Path) -> None:
    path = tmp_path / "z8086.csv"
    path.write_text(
        "Institution;CPR_nr;Navn;Dato;Fraværsårsag;Timer;Fravær\n"
        f"851001;010203-1234;{NAME};05-03-2024;Sygdom;7,5;1,5\n"
        f"851001;010203-1234;{NAME};05-03-2024;Ulovligt fravær;7,5;0,75\n"
        f"851001;010203-1234;{NAME};06-03-2024;;7,5;0\n"
        f"851001;010203-1234;{NAME};07-03-2024;;0;0\n",
        encoding="utf-8",
    )
    frame = read_export(path).sort(s.DATE, s.CATEGORY).collect()
    assert frame.select(s.DATE, s.CATEGORY, s.ABSENT_FRACTION).rows() == [
        (date(2024, 3, 5), s.ILLNESS, 0.2),
        (date(2024, 3, 5), s.UNLAWFUL, 0.1),
        (date(2024, 3, 6), s.PRESENT, 0.0),
    ]  # 7 March had no scheduled hours: no school day


def test_an_excel_extract_reads_number_and_date_cells(tmp_path: Path) -> None:
    path = tmp_path / "z8086.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("Fravær")
    dates = book.add_format({"num_format": "dd-mm-yyyy"})
    for column, name in enumerate(
        ["CPR_nr", "Navn", "Institution", "Dato", "Kode", "Timer", "Fravær"]
    ):
        sheet.write_string(0, column, name)
    for row, (code, absent, text_hours) in enumerate([("S", 1.5, False), ("U", 0.75, True)], 1):
        sheet.write_string(row, 0, "010203-1234")
        sheet.write_string(row, 1, NAME)
        sheet.write_string(row, 2, "851001")
        sheet.write_datetime(row, 3, datetime(2024, 3, 5), dates)
        sheet.write_string(row, 4, code)
        sheet.write_number(row, 5, 7.5)
        if text_hours:  # hours typed as text with a decimal comma
            sheet.write_string(row, 6, str(absent).replace(".", ","))
        else:
            sheet.write_number(row, 6, absent)
    book.close()

    frame = read_export(path).sort(s.CATEGORY).collect()

    assert frame.select(s.CATEGORY, s.ABSENT_FRACTION).rows() == [
        (s.ILLNESS, 0.2),
        (s.UNLAWFUL, 0.1),
    ]


def test_the_shape_is_detected_and_shown_by_inspect(tmp_path: Path) -> None:
    path = tmp_path / "fgu.csv"
    path.write_text(
        "Afdeling;CPR_nr;Navn;Dato;Timer;Ugyldigt_fraver;Fraver_ialt\n"
        f"851001;010203-1234;{NAME};2024-03-04;6;1;3\n",
        encoding="utf-8",
    )
    loaded = load(path)
    (read,) = loaded.files
    assert read.shape is not None
    assert read.shape.shape == "hours"
    assert read.detected is not None
    assert read.detected.dropped == ("Navn",)
    assert read.detected.columns[SCHEDULED_HOURS] == "Timer"
    assert sorted(loaded.frame.collect()[s.CATEGORY].to_list()) == [s.LEAVE, s.UNLAWFUL]


def test_the_rest_of_the_total_goes_to_the_category_source_toml_names(tmp_path: Path) -> None:
    path = tmp_path / "fgu.csv"
    path.write_text(
        "Afdeling;CPR_nr;Dato;Timer;Ugyldigt_fraver;Fraver_ialt\n851001;0101;2024-03-04;6;0;3\n",
        encoding="utf-8",
    )
    source = tmp_path / "source.toml"
    source.write_text('shape = "hours"\nvalid_absence = "illness"\n', encoding="utf-8")
    result = run("classify", path, "--source", source, "--format", "csv", "--include-left")
    assert result.exit_code == 0, result.stderr
    header, row = result.stdout.splitlines()[:2]
    fields = dict(zip(header.split(","), row.split(","), strict=True))
    assert (fields["illness_days"], fields["leave_days"]) == ("0.5", "0.0")


def test_an_identical_repeated_line_is_counted_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "z8086.csv"
    line = "851001;0101;2024-03-04;S;6;3\n"
    path.write_text("Skole;Elev;Dato;Kode;Timer;Fravær\n" + line + line, encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="fravaer"):
        frame = read_export(path).collect()
    assert frame[s.ABSENT_FRACTION].to_list() == [0.5]
    assert caplog.messages == [f"{path}: ignored 1 repeated line(s)"]


@pytest.mark.parametrize(
    ("cell", "period"),
    [
        ("2024-03", True),
        ("03-2024", True),
        ("uge 12", True),
        ("Uge 12 2024", True),
        ("W12", True),
        ("2024-W12", True),
        ("marts 2024", True),
        ("Mar-24", True),
        ("2024 marts", True),
        ("2024-03-04", False),
        ("04-03-2024", False),
        ("4.3.2024", False),
        ("04.03.2024", False),
        ("2024-03-04 00:00:00", False),
        ("45355", False),
    ],
)
def test_a_week_or_a_month_is_told_from_a_date(cell: str, period: bool) -> None:
    found = pl.select(period_expr(pl.lit(cell))).item()
    assert found is period


# -- refusals -----------------------------------------------------------------------------------

HEADER = "Institution;CPR_nr;Navn;Dato;Fraværsårsag;Timer;Fravær"
GOOD = f"851001;010203-1234;{NAME};04-03-2024;Sygdom;6;1,5"


@pytest.mark.parametrize(
    ("header", "bad", "where", "problem"),
    [
        (
            HEADER,
            f"851001;010203-1234;{NAME};2024-03;Sygdom;6;1",
            "3:4 (column 'Dato')",
            "a week or month where a date should be",
        ),
        (
            HEADER,
            f"851001;010203-1234;{NAME};uge 10;Sygdom;6;1",
            "3:4 (column 'Dato')",
            "a week or month where a date should be",
        ),
        (
            HEADER,
            f"851001;010203-1234;{NAME};04-03-2024;U;6;5",
            "2:7 (column 'Fravær')",
            "absent hours of one pupil-day add up to more than its scheduled hours",
        ),
        (
            HEADER,
            f"851001;010203-1234;{NAME};04-03-2024;U;7;1",
            "3:6 (column 'Timer')",
            "scheduled hours differ from an earlier line for the same pupil and date",
        ),
        (
            HEADER,
            f"851001;010203-1234;{NAME};04-03-2024;Sygdom;6;2",
            "3:7 (column 'Fravær')",
            "differs from an earlier line for the same pupil, date and code",
        ),
        (
            HEADER,
            f"851001;010203-1234;{NAME};05-03-2024;;6;2",
            "3:7 (column 'Fravær')",
            "absent hours on a line whose code means present",
        ),
        (
            HEADER,
            f"851001;010203-1234;{NAME};05-03-2024;U;6;to",
            "3:7 (column 'Fravær')",
            "not a number",
        ),
        (
            HEADER,
            f"851001;010203-1234;{NAME};05-03-2024;U;25;0",
            "3:6 (column 'Timer')",
            "hours must be a number from 0 to 24",
        ),
        (
            HEADER,
            f"851001;010203-1234;{NAME};05-03-2024;U;;0",
            "3:6 (column 'Timer')",
            "missing hours",
        ),
        (
            "Afdeling;CPR_nr;Navn;Dato;Timer;Ugyldigt_fraver;Fraver_ialt",
            f"851001;010203-1234;{NAME};05-03-2024;6;3;2",
            "3:6 (column 'Ugyldigt_fraver')",
            "unlawful hours above the total absent hours",
        ),
    ],
)
def test_bad_lines_are_refused_at_file_line_and_column(
    tmp_path: Path, header: str, bad: str, where: str, problem: str
) -> None:
    path = tmp_path / "extract.csv"
    first = GOOD if "Fravær" in header else f"851001;010203-1234;{NAME};04-03-2024;6;0;1"
    path.write_text(f"{header}\n{first}\n{bad}\n", encoding="utf-8")

    result = run("classify", path, "--format", "csv")

    assert result.exit_code == 65
    assert one_error_line(result) == f"fravaer: error: {path}:{where}: {problem}"
    assert NAME not in result.stdout + result.stderr
    assert "010203" not in result.stdout + result.stderr


def test_a_day_refused_after_a_blank_line_is_named_at_the_line_an_editor_shows(
    tmp_path: Path,
) -> None:
    path = tmp_path / "extract.csv"
    over = f"851001;010203-1234;{NAME};05-03-2024;U;6;4,5"
    path.write_text(f"{HEADER}\n{GOOD}\n\n{over}\n{over.replace(';U;', ';S;')}\n")

    result = run("classify", path)

    assert result.exit_code == 65
    assert one_error_line(result) == (
        f"fravaer: error: {path}:4:7 (column 'Fravær'): "
        "absent hours of one pupil-day add up to more than its scheduled hours"
    )


def test_an_extract_by_week_without_a_date_column_is_refused_at_its_week_column(
    tmp_path: Path,
) -> None:
    path = tmp_path / "weeks.csv"
    path.write_text(f"Institution;CPR_nr;Navn;Uge;Timer;Fravær\n851001;0101;{NAME};12;30;3\n")

    result = run("classify", path)

    assert result.exit_code == 65
    assert one_error_line(result) == (
        f"fravaer: error: {path}:1:4 (column 'Uge'): a week or month where a date should be: "
        "no date column"
    )


def test_the_shape_flag_reads_a_file_in_hours_and_refuses_one_without(tmp_path: Path) -> None:
    hours = tmp_path / "hours.csv"
    hours.write_text("Elev;Skole;Dato;Kode;Timer;Fravær\n0101;851001;2024-03-04;S;6;3\n")
    register = tmp_path / "register.csv"
    register.write_text("Elev;Skole;Dato;Kode\n0101;851001;2024-03-04;S\n")

    read = run("classify", hours, "--shape", "hours", "--format", "csv", "--include-left")
    refused = run("classify", register, "--shape", "hours")

    assert read.exit_code == 0, read.stderr
    assert read.stdout.splitlines()[1].split(",")[8] == "0.5"  # absent_days
    assert refused.exit_code == 65
    assert one_error_line(refused) == (
        f"fravaer: error: {register}:1: missing required column 'absent_hours'"
    )


def test_an_hours_shape_without_hours_is_refused_naming_the_column(tmp_path: Path) -> None:
    path = tmp_path / "register.csv"
    path.write_text("pupil_id,school_id,date,category\n0101,851001,2024-03-04,present\n")
    with pytest.raises(BadInputError) as caught:
        read_export(path, SourceOptions(shape="hours"))
    assert caught.value.message == f"{path}:1: missing required column 'absent_hours'"


# -- the name and the CPR number are never shown ------------------------------------------------


def test_the_name_is_in_no_output_error_or_log(tmp_path: Path) -> None:
    path = tmp_path / "z8086.csv"
    path.write_text(f"{HEADER}\n{GOOD}\n{GOOD}\n", encoding="utf-8")  # a repeat: a warning
    commands = [
        ["classify", path, "--format", "csv", "--include-left"],
        ["classify", path, "--format", "json", "--include-left"],
        ["inspect", path],
        ["check", path],
        ["stats", path, "--format", "csv"],
    ]
    for args in commands:
        result = run(*args)
        assert result.exit_code in (0, 65), (args, result.stderr)
        assert NAME not in result.stdout, args
        assert NAME not in result.stderr, args
        assert "Sørine" not in result.stdout + result.stderr, args
    out = tmp_path / "steps.csv"
    assert run("classify", path, "-o", out, "--include-left").exit_code == 0
    assert NAME not in out.read_text(encoding="utf-8")
