"""Bad inputs through every command that reads exports (docs/exit-codes.md).

Each case is an export (or a policy, source or report file) with one fault. Every command that
reads exports (see :mod:`tests.harden`) runs on it with ``-o`` into an empty folder, and each run
must give the documented exit code, exactly one ``fravaer: error:`` line on stderr (plus at most
one hint) naming the file, line and column where they apply, no traceback, no cell value, and no
file in the output folder. The single-reader tests in ``tests/ingest/`` pin the exact wording of
each message; this battery pins that every command keeps the promise.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from importlib import resources
from pathlib import Path

import polars as pl
import pytest

from tests.harden import (
    COMMANDS,
    ERROR,
    HEADER,
    PUPIL,
    READERS,
    REQUIRED_ARGS,
    Invocation,
    assert_one_error,
    documented_exit_codes,
    option_names,
)
from tests.ingest.exports import (
    export_rows_xml,
    minimal_xlsx,
    understate_size,
    xlsx_cell,
    xlsx_row,
)

SECRET = "SECRET"
"""Cells that must never reach a message carry this marker (and 31337 in numbers)."""

DAYS = [date(2024, 3, 4) + timedelta(days=i) for i in range(12)]
DAYS = [d for d in DAYS if d.weekday() < 5]  # Mon 4 - Fri 15 March 2024: ten school days


def good_rows() -> list[str]:
    rows = []
    for pupil, school, grade in ((PUPIL, "851001", 5), ("0000002", "851002", 7)):
        for i, day in enumerate(DAYS):
            category, fraction = ("illness", "1") if i % 4 == 1 else ("present", "0")
            rows.append(
                f"{pupil},{school},{day.isoformat()},{category},{fraction},{grade},{grade}.A"
            )
    return rows


def csv_text(*extra: str, header: str = HEADER, rows: list[str] | None = None) -> str:
    """The good export with ``extra`` rows after its 20 rows: the first extra row is line 22."""
    return "\n".join([header, *(good_rows() if rows is None else rows), *extra]) + "\n"


def good_frame() -> pl.DataFrame:
    return pl.read_csv(csv_text().encode(), infer_schema=False)


Build = Callable[[Path], Path]


def text(content: str, name: str = "export.csv", encoding: str = "utf-8") -> Build:
    def build(folder: Path) -> Path:
        path = folder / name
        path.write_bytes(content.encode(encoding))
        return path

    return build


def raw(data: bytes, name: str = "export.csv") -> Build:
    def build(folder: Path) -> Path:
        path = folder / name
        path.write_bytes(data)
        return path

    return build


def parquet(edit: Callable[[pl.DataFrame], pl.DataFrame]) -> Build:
    def build(folder: Path) -> Path:
        path = folder / "export.parquet"
        edit(good_frame()).write_parquet(path)
        return path

    return build


def damaged_parquet(cut: Callable[[bytes], bytes]) -> Build:
    def build(folder: Path) -> Path:
        path = folder / "export.parquet"
        good_frame().write_parquet(path)
        path.write_bytes(cut(path.read_bytes()))
        return path

    return build


def toml(content: str, name: str) -> Build:
    return text(content, name)


GOOD = text(csv_text())
LINE = 22  # the first extra row's line
POLICY_TEXT = (resources.files("fravaer") / "policies" / "aalborg-2023.toml").read_text("utf-8")


@dataclass(frozen=True)
class Case:
    """One bad input: what to build, the documented outcome, and where the error points.

    ``where`` is a regular expression for what follows the file's name in the error line, up to
    and including ``: ``; ``problem`` one that the rest of the line must start with. The file
    named is the export, or the policy, source or report file that holds the fault (``at``).
    """

    export: Build
    exit_code: int
    where: str
    problem: str
    at: str = "export"
    options: dict[str, str] = field(default_factory=dict)
    policy: Build | None = None
    source: Build | None = None
    report_config: Callable[[Invocation], str] | None = None
    check_reports: bool = False
    """``check`` writes its report and then exits 65 (conflicts, over-full days: check.md)."""


COL = r":{line}:{col} \(column '{name}'\): "


def at(line: int, col: int, name: str) -> str:
    return COL.format(line=line, col=col, name=re.escape(name))


LESSON_HEADER = HEADER + ",lesson"
DANISH_CODES = {"present": "M", "illness": "S"}


def lessons_text(
    *extra: str, header: str = LESSON_HEADER, separator: str = ",", codes: bool = False
) -> str:
    """The good export with two lessons a day, then ``extra`` rows (the first is line 42)."""
    rows = []
    for row in good_rows():
        cells = row.split(",")
        if codes:
            cells[3] = DANISH_CODES[cells[3]]
        rows += [separator.join([*cells, str(lesson)]) for lesson in (1, 2)]
    return "\n".join([header, *rows, *extra]) + "\n"


LESSON_LINE = 42


def absences_text(*extra: str) -> str:
    """The good export's absences only, then ``extra`` rows (the first is line 6)."""
    rows = [row for row in good_rows() if ",illness," in row]
    return "\n".join([HEADER, *rows, *extra]) + "\n"


ABSENCE_LINE = 2 + len([row for row in good_rows() if ",illness," in row])
ABSENCE_SOURCE = (
    'shape = "absence_only"\ncalendar = { first = "2024-03-04", last = "2024-03-15" }\n'
)

UTF16_TEXT = csv_text()
CASES: dict[str, Case] = {
    # -- encodings and byte-order marks
    "utf16-le-bom": Case(text(UTF16_TEXT, encoding="utf-16"), 65, ": ", "UTF-16 text"),
    "utf16-be-bom": Case(
        raw(codecs.BOM_UTF16_BE + UTF16_TEXT.encode("utf-16-be")), 65, ": ", "UTF-16 text"
    ),
    "utf16-without-bom": Case(
        raw(UTF16_TEXT.encode("utf-16-le")), 65, ": ", r"UTF-16 text is not supported \(NUL"
    ),
    "broken-utf8-forced": Case(
        raw(csv_text().encode() + b"SECRET9,851001,2024-03-05,present,0,5,5.\xf8\n"),
        65,
        f":{LINE}: ",
        "not UTF-8 text",
        options={"encoding": "utf-8"},
    ),
    "bom-then-broken-utf8": Case(
        raw(
            codecs.BOM_UTF8 + csv_text().encode() + b"SECRET9,851001,2024-03-05,present,0,5,\xf8\n"
        ),
        65,
        f":{LINE}: ",
        "not UTF-8 text",
    ),
    "bom-with-cp1252-forced": Case(
        raw(codecs.BOM_UTF8 + csv_text().encode()),
        65,
        ":1: ",
        "the file starts with a UTF-8 byte-order mark",
        options={"encoding": "cp1252"},
    ),
    "nul-byte": Case(
        raw(
            csv_text()
            .encode()
            .replace(b"0000002,851002,2024-03-04", b"SECRET\x00,851002,2024-03-04")
        ),
        65,
        ":12: ",
        "NUL byte in the text",
    ),
    # -- separators and quoting
    "no-separator": Case(
        text("pupil_id school_id date category\nSECRET 851001 2024-03-04 present\n"),
        65,
        ":1: ",
        "cannot tell the separator",
    ),
    "two-separators-tie": Case(
        text("pupil_id,school_id;date,category;absent_fraction\nSECRET,851001;2024-03-04,x;0\n"),
        65,
        ":1: ",
        "cannot tell the separator: comma and semicolon",
    ),
    "wrong-separator-forced": Case(
        GOOD, 65, ":1: ", "missing required column", options={"separator": ";"}
    ),
    "unterminated-quote": Case(
        text(csv_text('SECRET9,851001,2024-03-05,illness,1,5,"5.A')), 65, ": ", "not a readable"
    ),
    "quote-in-the-middle-of-a-date": Case(
        text(csv_text('SECRET9,851001,"2024-03-05"x,illness,1,5,5.A')),
        65,
        r"(:\d+(:\d+ \(column 'date'\))?)?: ",
        "(not a date|not a readable|row has a different)",
    ),
    # -- ragged rows
    "row-longer-than-header": Case(
        text(csv_text("SECRET9,851001,2024-03-05,illness,1,5,5.A,SECRET")),
        65,
        f":{LINE}: ",
        "row has a different number of fields than the header",
    ),
    "row-shorter-than-header": Case(
        text(csv_text("SECRET9,851001,2024-03-05,illness,0.5")),
        65,
        f":{LINE}: ",
        "row has a different number of fields than the header",
    ),
    # -- headers
    "repeated-header": Case(
        text(csv_text(header=HEADER.replace("grade", "category"))),
        65,
        at(1, 4, "category"),
        "the header repeats this column name",
    ),
    "two-aliases-for-one-column": Case(
        text(csv_text(header=HEADER.replace("grade", "elev"))),
        65,
        r":1(:\d+ \(column '[^']+'\))?: ",
        "",
    ),
    "missing-required-column": Case(
        text("pupil_id,school_id,date\nSECRET9,851001,2024-03-04\n"),
        65,
        ":1: ",
        "missing required column 'category'",
    ),
    "no-header-names": Case(text(",,,\nSECRET9,851001,2024-03-04,present\n"), 65, ":1: ", ""),
    # -- empty files
    "empty-file": Case(text(""), 65, ":1: ", r"file is empty \(no header\)"),
    "header-only": Case(text(HEADER + "\n"), 65, ": ", "no data rows"),
    "header-and-blank-lines": Case(text(HEADER + "\n\n,,,,,,\n\n"), 65, ": ", "no data rows"),
    "blank-lines-only": Case(text("\n\n\n"), 65, ":1: ", r"file is empty \(no header\)"),
    # -- huge lines
    "huge-date-cell": Case(
        text(csv_text(f"SECRET9,851001,{'2024-03-05' * 100_000},illness,1,5,5.A")),
        65,
        at(LINE, 3, "date"),
        "not a date",
    ),
    "huge-header-without-separator": Case(
        text("SECRET" * 50_000 + "\n1\n"), 65, ":1: ", "cannot tell the separator"
    ),
    # -- dates
    "impossible-date": Case(
        text(csv_text("SECRET9,851001,2024-02-30,illness,1,5,5.A")),
        65,
        at(LINE, 3, "date"),
        "not a date",
    ),
    "impossible-day-first-date": Case(
        text(
            "elev;skole;dato;kode\n"
            + "".join(f"{PUPIL};851001;{d.strftime('%d.%m.%Y')};M\n" for d in DAYS)
            + "SECRET9;851001;31.04.2024;S\n"
        ),
        65,
        at(12, 3, "dato"),
        "",
    ),
    "mixed-date-formats": Case(
        text(csv_text("SECRET9,851001,05-03-2024,illness,1,5,5.A")),
        65,
        at(LINE, 3, "date"),
        "dates in more than one format",
    ),
    "date-not-in-the-forced-format": Case(
        GOOD, 65, at(2, 3, "date"), "not a date", options={"date_format": "%d.%m.%Y"}
    ),
    "date-is-text": Case(
        text(csv_text("SECRET9,851001,SECRET-yesterday,illness,1,5,5.A")),
        65,
        at(LINE, 3, "date"),
        "not a date",
    ),
    "date-in-year-zero": Case(
        text(csv_text("SECRET9,851001,0000-03-05,illness,1,5,5.A")),
        65,
        at(LINE, 3, "date"),
        "a date before 1900-01-01 or after 9999-12-31",
    ),
    "date-before-1900": Case(
        text(csv_text("SECRET9,851001,1899-12-31,illness,1,5,5.A")),
        65,
        at(LINE, 3, "date"),
        "a date before 1900-01-01 or after 9999-12-31",
    ),
    "missing-date": Case(
        text(csv_text("SECRET9,851001,,illness,1,5,5.A")), 65, at(LINE, 3, "date"), "missing date"
    ),
    # -- codes and categories
    "unknown-category": Case(
        text(csv_text("SECRET9,851001,2024-03-05,SECRET43,1,5,5.A")),
        65,
        at(LINE, 4, "category"),
        "unknown category",
    ),
    "unknown-danish-code": Case(
        text(
            "elev;skole;dato;fraværskode\n"
            + "".join(f"{PUPIL};851001;{d.isoformat()};M\n" for d in DAYS)
            + "SECRET9;851001;2024-03-05;X\n"
        ),
        65,
        at(12, 4, "fraværskode"),
        r"unknown category codes: X \(1\)",
    ),
    # -- duplicates and day totals
    "conflicting-duplicate": Case(
        text(csv_text("0000001,851001,2024-03-05,illness,0.5,5,5.A")),
        65,
        at(LINE, 5, "absent_fraction"),
        "differs from an earlier row",
        check_reports=True,
    ),
    "day-over-one": Case(
        text(csv_text("0000001,851001,2024-03-05,unlawful,0.31337,5,5.A")),
        65,
        at(3, 5, "absent_fraction"),  # the pupil-day's first row
        "absent fractions of one pupil-day add up to more than 1",
        check_reports=True,
    ),
    # -- cells
    "fraction-above-one": Case(
        text(csv_text("SECRET9,851001,2024-03-18,illness,1.31337,5,5.A")),
        65,
        at(LINE, 5, "absent_fraction"),
        "absent fraction must be between 0 and 1",
    ),
    "fraction-below-zero": Case(
        text(csv_text("SECRET9,851001,2024-03-18,illness,-0.31337,5,5.A")),
        65,
        at(LINE, 5, "absent_fraction"),
        "absent fraction must be between 0 and 1",
    ),
    "fraction-nan": Case(
        text(csv_text("SECRET9,851001,2024-03-18,illness,NaN,5,5.A")),
        65,
        at(LINE, 5, "absent_fraction"),
        "absent fraction must be between 0 and 1",
    ),
    "fraction-infinite": Case(
        text(csv_text("SECRET9,851001,2024-03-18,illness,inf,5,5.A")),
        65,
        at(LINE, 5, "absent_fraction"),
        "absent fraction must be between 0 and 1",
    ),
    "fraction-is-text": Case(
        text(csv_text("SECRET9,851001,2024-03-18,illness,SECRET,5,5.A")),
        65,
        at(LINE, 5, "absent_fraction"),
        "not a number",
    ),
    "decimal-comma-in-a-comma-file": Case(
        text(csv_text('SECRET9,851001,2024-03-18,illness,"0,31337",5,5.A')),
        65,
        at(LINE, 5, "absent_fraction"),
        "not a number",
    ),
    "present-with-absence": Case(
        text(csv_text("SECRET9,851001,2024-03-18,present,0.31337,5,5.A")),
        65,
        at(LINE, 5, "absent_fraction"),
        "a present row cannot have an absent fraction above 0",
    ),
    "grade-eleven": Case(
        text(csv_text("SECRET9,851001,2024-03-18,illness,1,11,5.A")),
        65,
        at(LINE, 6, "grade"),
        "grade must be a whole number",
    ),
    "missing-pupil-id": Case(
        text(csv_text(",851001,2024-03-18,illness,1,5,5.A")),
        65,
        at(LINE, 1, "pupil_id"),
        "missing pupil id",
    ),
    # -- files that are not exports
    "unsupported-suffix": Case(text(csv_text(), name="export.json"), 65, ": ", "unsupported file"),
    "excel-that-is-not-excel": Case(
        text(csv_text(), name="export.xlsx"), 65, ": ", "not a readable"
    ),
    "parquet-corrupt-footer": Case(
        damaged_parquet(lambda data: data[:-12] + b"\x00" * 8 + data[-4:]),
        65,
        ": ",
        "not a readable Parquet file",
    ),
    "parquet-truncated": Case(
        damaged_parquet(lambda data: data[: len(data) // 2]), 65, ": ", "not a readable Parquet"
    ),
    "parquet-that-is-csv": Case(
        text(csv_text(), name="export.parquet"), 65, ": ", "not a readable Parquet file"
    ),
    "parquet-pupil-id-not-text": Case(
        parquet(lambda f: f.with_columns(pl.col("pupil_id").cast(pl.Int64))),
        65,
        r" \(column 'pupil_id'\): ",
        "column must be text",
    ),
    "parquet-date-is-a-number": Case(
        parquet(lambda f: f.with_columns(pl.lit(20240304).alias("date"))),
        65,
        r" \(column 'date'\): ",
        "column must be a date",
    ),
    "parquet-fraction-is-a-date": Case(
        parquet(lambda f: f.with_columns(pl.lit(date(2024, 1, 1)).alias("absent_fraction"))),
        65,
        r" \(column 'absent_fraction'\): ",
        "column must be a number",
    ),
    "parquet-fraction-out-of-range": Case(
        parquet(
            lambda f: f.with_columns(pl.col("absent_fraction").cast(pl.Float64)).with_columns(
                pl.when(pl.int_range(pl.len()) == 4)
                .then(31337.0)
                .otherwise(pl.col("absent_fraction"))
                .alias("absent_fraction")
            )
        ),
        65,
        at(5, 5, "absent_fraction"),
        "absent fraction must be between 0 and 1",
    ),
    **{
        f"parquet-date-{name}": Case(
            parquet(
                lambda f, days=days: f.with_columns(
                    pl.when(pl.int_range(pl.len()) == 4)
                    .then(pl.lit(days).cast(pl.Date))
                    .otherwise(pl.col("date").str.to_date())
                    .alias("date")
                )
            ),
            65,
            at(5, 3, "date"),
            "a date before 1900-01-01 or after 9999-12-31",
        )
        for name, days in (
            ("in-year-zero", -719_529),
            ("after-9999", 6_585_000),
            ("in-a-negative-year", -800_000),
        )
    },
    "parquet-missing-column": Case(
        parquet(lambda f: f.drop("category")), 65, ": ", "missing required column 'category'"
    ),
    # -- policies, source and report files
    "policy-unknown-key": Case(
        GOOD,
        78,
        r":\d+: ",
        "field 'colour'",
        at="policy",
        policy=toml("colour = 'blue'\n" + POLICY_TEXT, "policy.toml"),
    ),
    "policy-bad-threshold": Case(
        GOOD,
        78,
        r":\d+: ",
        "field 'steps",
        at="policy",
        policy=toml(POLICY_TEXT.replace("at_least = 10", 'at_least = "ti"', 1), "policy.toml"),
    ),
    "policy-not-toml": Case(
        GOOD,
        78,
        r":\d+:\d+: ",
        "not valid TOML",
        at="policy",
        policy=toml("name = \n" + POLICY_TEXT, "policy.toml"),
    ),
    "source-unknown-key": Case(
        GOOD,
        78,
        ":1: ",
        "field 'encodng'",
        at="source",
        source=toml('encodng = "utf-8"\n', "source.toml"),
    ),
    "source-bad-encoding": Case(
        GOOD,
        78,
        ":2: ",
        "field 'encoding'",
        at="source",
        source=toml('separator = ";"\nencoding = "utf-16"\n', "source.toml"),
    ),
    "source-code-fraction-above-one": Case(
        GOOD,
        78,
        r":\d+: ",
        "field 'codes.F",
        at="source",
        source=toml('[codes]\nF = { category = "unlawful", fraction = 2 }\n', "source.toml"),
    ),
    "report-unknown-key": Case(
        GOOD,
        78,
        r":\d+: ",
        "field 'outputs.0.colour'",
        at="config",
        report_config=lambda inv: inv.report_toml() + 'colour = "blue"\n',
    ),
    "report-bad-format": Case(
        GOOD,
        78,
        r":\d+: ",
        "field 'outputs.0.format'",
        at="config",
        report_config=lambda inv: inv.report_toml() + 'format = "pdf"\n',
    ),
    # -- lesson-level and absence-only exports: the file's own line and column, as a register's
    "lesson-conflicting-lesson": Case(
        text(lessons_text(f"{PUPIL},851001,2024-03-04,illness,1,5,5.A,2")),
        65,
        at(LESSON_LINE, 4, "category"),
        "differs from an earlier row for the same pupil, date and lesson",
    ),
    "lesson-missing-lesson": Case(
        text(lessons_text(f"{PUPIL},851001,2024-03-18,present,0,5,5.A,")),
        65,
        at(LESSON_LINE, 8, "lesson"),
        "missing lesson",
    ),
    "lesson-conflicting-lesson-danish-headers": Case(
        text(
            lessons_text(
                f"{PUPIL};851001;2024-03-04;S;1;5;5.A;2",
                header="elev;skole;dato;kode;andel;klassetrin;klasse;lektion",
                separator=";",
                codes=True,
            )
        ),
        65,
        at(LESSON_LINE, 4, "kode"),
        "differs from an earlier row for the same pupil, date and lesson",
    ),
    "absence-only-off-calendar": Case(
        text(absences_text(f"{PUPIL},851001,2024-03-09,illness,1,5,5.A")),
        65,
        at(ABSENCE_LINE, 3, "date"),
        "a row on a day that is not a school day of its school in the calendar",
        source=toml(ABSENCE_SOURCE, "source.toml"),
    ),
    # -- missing input
    "missing-file": Case(lambda folder: folder / "nowhere.csv", 66, ": ", "no such file"),
}

# -- hostile text (docs/privacy.md#what-is-refused-on-reading) ---------------------------------

FORMULA = "text begins with =, \\+, - or @, which a spreadsheet would run as a formula"
HIDDEN = "text holds a control or invisible character"
LOOKALIKE = "text holds a combining or full-width character, so it would look like other text"
HOSTILE: dict[str, tuple[str, str]] = {
    # name: (cell, problem); every cell carries SECRET or 31337.
    "formula-equals": ('=HYPERLINK("http://SECRET","klik")', FORMULA),
    "formula-dde": ("=cmd|' /C calc'!SECRET", FORMULA),
    "formula-plus": ("+31337", FORMULA),
    "formula-minus": ("-31337+1", FORMULA),
    "formula-at": ("@SUM(SECRET)", FORMULA),
    "formula-after-spaces": ("   =SECRET", FORMULA),
    "formula-after-a-tab": ("\t=SECRET", FORMULA),
    "formula-after-a-carriage-return": ("\r=SECRET", FORMULA),
    "formula-full-width": ("＝SECRET", FORMULA),
    "c0-escape-sequence": ("SECRET\x1b[2J", HIDDEN),
    "c1-control": ("SECRET\x9b31337", HIDDEN),
    "delete": ("SECRET\x7f", HIDDEN),
    "line-break-inside": ("SECRET\n- **Trin:** 0", HIDDEN),
    "carriage-return-inside": ("SECRET\rx", HIDDEN),
    "zero-width-space": ("SECRET\u200b", HIDDEN),
    "zero-width-joiner": ("SECRET\u200dx", HIDDEN),
    "word-joiner": ("SECRET\u2060x", HIDDEN),
    "byte-order-mark-inside": ("SE\ufeffCRET", HIDDEN),
    "bidi-override": ("\u202eSECRET", HIDDEN),
    "bidi-isolate": ("SECRET\u2067x", HIDDEN),
    "bidi-mark": ("SECRET\u200fx", HIDDEN),
    "soft-hyphen": ("SECRET\u00adx", HIDDEN),
    "line-separator": ("SECRET\u2028x", HIDDEN),
    # A08 printed like Å08 (A + combining ring) and ０５ like 05 would be two pupils who look alike.
    "combining-mark": ("SECRETA\u030a31337", LOOKALIKE),
    "full-width-digits": ("SECRET\uff10\uff15", LOOKALIKE),
}
TEXT_COLUMNS = [("pupil_id", 1), ("school_id", 2), ("class_name", 7)]


def hostile_row(column: int, cell: str) -> list[str]:
    cells = ["0000009", "851001", "2024-03-18", "illness", "1", "5", "5.A"]
    cells[column - 1] = cell
    return cells


def csv_row(cells: list[str]) -> str:
    return ",".join('"' + c.replace('"', '""') + '"' for c in cells)


def xlsx(rows: list[list[str]]) -> Build:
    """An xlsx of the header and rows, every cell written as a string cell."""

    def build(folder: Path) -> Path:
        import xlsxwriter

        path = folder / "export.xlsx"
        book = xlsxwriter.Workbook(str(path))
        sheet = book.add_worksheet("Ark1")
        for r, row in enumerate([HEADER.split(","), *rows]):
            for c, cell in enumerate(row):
                sheet.write_string(r, c, cell)
        book.close()
        return path

    return build


def good_cells() -> list[list[str]]:
    return [row.split(",") for row in good_rows()]


def hand_made_xlsx(
    rows: str, *, dimension: str | None = None, unique_strings: int | None = None
) -> Build:
    def build(folder: Path) -> Path:
        return minimal_xlsx(
            folder / "export.xlsx",
            export_rows_xml() + rows,
            dimension=dimension,
            unique_strings=unique_strings,
        )

    return build


def lying_zip(folder: Path) -> Path:
    path = minimal_xlsx(
        folder / "export.xlsx", export_rows_xml() + xlsx_row(3, *[xlsx_cell("A3", "SECRET")] * 200)
    )
    return understate_size(path, "xl/worksheets/sheet1.xml", 100)


CASES |= {
    # -- reader limits (docs/ingest.md#limits): refused before a reader allocates
    "csv-header-of-two-hundred-thousand-columns": Case(
        text(
            HEADER
            + ",x" * 200_000
            + "\nSECRET,851001,2024-03-04,present,0,5,5.A"
            + ",0" * 200_000
            + "\n"
        ),
        65,
        ":1: ",
        "the header has more than 1,000 columns",
    ),
    "xlsx-cell-at-XFD1048576": Case(
        hand_made_xlsx(xlsx_row(1048576, xlsx_cell("XFD1048576", "SECRET"))),
        65,
        ": ",
        "a sheet reaches column 16,384",
    ),
    "xlsx-dimension-XFD1048576": Case(
        hand_made_xlsx("", dimension="A1:XFD1048576"), 65, ": ", "a sheet reaches column 16,384"
    ),
    "xlsx-cells-without-r": Case(
        hand_made_xlsx('<row r="1048576">' + xlsx_cell(None, "SECRET") * 1001 + "</row>"),
        65,
        ": ",
        "a sheet reaches column 1,001",
    ),
    "xlsx-four-billion-shared-strings": Case(
        hand_made_xlsx("", unique_strings=4_000_000_000),
        65,
        ": ",
        "the workbook announces more shared strings than it holds",
    ),
    "xlsx-part-larger-than-declared": Case(
        lying_zip, 65, ": ", r"not a readable Excel file \(BadZipFile\)"
    ),
}


for number, (name, (cell, problem)) in enumerate(HOSTILE.items()):
    column, position = TEXT_COLUMNS[number % len(TEXT_COLUMNS)]
    row = hostile_row(position, cell)
    CASES[f"csv-{name}"] = Case(
        text(csv_text(csv_row(row))), 65, at(LINE, position, column), problem
    )
    if number % 3 == 0:  # every third, so that each format meets both rules in each column
        CASES[f"xlsx-{name}"] = Case(
            xlsx([*good_cells(), row]), 65, at(LINE, position, column), problem
        )
        CASES[f"parquet-{name}"] = Case(
            parquet(
                lambda f, column=column, cell=cell: f.with_columns(
                    pl.when(pl.int_range(pl.len()) == 4)
                    .then(pl.lit(cell))
                    .otherwise(pl.col(column))
                    .alias(column)
                )
            ),
            65,
            at(5, position, column),
            problem,
        )


def applies(command: str, case: Case) -> bool:
    names = option_names(command)
    if case.report_config is not None:
        return command == "report"
    if case.policy is not None and "policy" not in names:
        return False
    if case.source is not None and "source" not in names:
        return False
    return all(option in names for option in case.options)


def _marks(command: str, name: str) -> tuple[pytest.MarkDecorator, ...]:
    """Every command reads through one read path, so a bad input is refused alike by all: in
    `make test` each case runs on one command, the commands taken in turn so that every command
    still meets many cases (and `check` every case whose report is its output); `make test-all`
    runs each case on every command that takes it."""
    case = CASES[name]
    if command == "check" and case.check_reports:
        return ()
    readers = [c for c in READERS if applies(c, case)]
    turn = readers[list(CASES).index(name) % len(readers)]
    return () if command == turn else (pytest.mark.slow,)


PAIRS = [
    pytest.param(command, name, id=f"{command}-{name}", marks=_marks(command, name))
    for name, case in CASES.items()
    for command in READERS
    if applies(command, case)
]


def invocation(tmp_path: Path, command: str, case: Case) -> tuple[Invocation, Path]:
    """The run, and the file its error must name."""
    export = case.export(tmp_path)
    run = Invocation(command, export, tmp_path / "out", options=dict(case.options))
    if case.policy is not None:
        run.policy = case.policy(tmp_path)
    if case.source is not None:
        run.source = case.source(tmp_path)
    if case.report_config is not None:
        run.config_text = case.report_config(run)
    named = {
        "export": export,
        "policy": run.policy,
        "source": run.source,
        "config": tmp_path / "report.toml",
    }[case.at]
    assert named is not None
    return run, named


@pytest.mark.parametrize(("command", "name"), PAIRS)
def test_bad_input_is_one_clean_line_and_writes_nothing(
    tmp_path: Path, command: str, name: str
) -> None:
    case = CASES[name]
    run, named = invocation(tmp_path, command, case)

    result = run.run()

    if command == "check" and case.check_reports:
        # check's report is its output: written, summed up in one line, then exit 65.
        assert result.stderr.startswith("fravaer: checked 21 row(s)")
        line = assert_one_error(result, 65, skip=1)
        assert line == (
            f"{ERROR}{run.export}: the numbers cannot be trusted: conflicting rows or "
            "pupil-days over 1 (see the report)"
        )
        assert run.written() == ["result.csv"]
        return
    line = assert_one_error(result, case.exit_code)
    pattern = re.escape(f"{ERROR}{named}") + case.where + case.problem
    assert re.match(pattern, line), (line, pattern)
    assert SECRET not in result.stderr
    assert "31337" not in result.stderr
    assert result.stdout == ""
    assert run.written() == []


def test_the_battery_is_large_and_its_exit_codes_are_documented() -> None:
    assert len(CASES) >= 40
    assert {case.exit_code for case in CASES.values()} <= documented_exit_codes()


def test_every_command_that_reads_exports_is_in_the_battery() -> None:
    assert {"classify", "explain", "inspect", "check", "pseudonymize", "escalate"} <= set(COMMANDS)
    for command in READERS:
        assert sum(1 for p in PAIRS if p.values[0] == command) >= 40, command


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_required_option_is_known(command: str) -> None:
    """A new command with a required option needs its value in REQUIRED_ARGS to be battered."""
    required = {
        p.name for p in COMMANDS[command].params[1:] if p.required and p.name not in ("output",)
    }
    given = {a.lstrip("-").replace("-", "_") for a in REQUIRED_ARGS.get(command, [])[::2]}
    assert required <= given, f"add {command}'s required options to tests.harden.REQUIRED_ARGS"


# -- accepted inputs: what looks wrong but is documented to be read ------------------------------

ACCEPTED: dict[str, Build] = {
    # Dates after the as-of date are not refused: the as-of date defaults to the latest in the
    # data, and `check --as-of` reports them (check.md).
    "a-date-far-in-the-future": text(csv_text("0000001,851001,2099-03-05,illness,1,5,5.A")),
    # Day-first is fixed, so 1/3/2024 is the first of March, never January the third.
    "day-first-without-zeros": text(
        "elev;skole;dato;kode\n"
        + "".join(f"{PUPIL};851001;{d.day}/{d.month}/{d.year};M\n" for d in DAYS)
    ),
    "exact-repeated-row": text(csv_text(good_rows()[0])),
    "blank-and-empty-lines": text(csv_text("", ",,,,,,", "")),
    # The header is found below a title or blank lines (ingest.md#the-header-row).
    "blank-first-line": text("\n" + csv_text()),
    "title-above-the-header": text("Fraværsrapport 2023/24\n\n" + csv_text()),
    # A database's midnight and a date written by hand (ingest.md#dates).
    "dates-at-midnight": text(
        "elev;skole;dato;kode\n"
        + "".join(f"{PUPIL};851001;{d.isoformat()} 00:00:00;M\n" for d in DAYS)
    ),
    "day-first-dots-without-zeros": text(
        "elev;skole;dato;kode\n"
        + "".join(f"{PUPIL};851001;{d.day}.{d.month}.{d.year};Fremmødt\n" for d in DAYS)
    ),
    "empty-last-cells": text(csv_text("0000003,851001,2024-03-15,present,0,,")),
    "crlf-and-bom": raw(codecs.BOM_UTF8 + csv_text().replace("\n", "\r\n").encode()),
    "cp1252-class-name": raw(
        csv_text("0000003,851001,2024-03-15,present,0,5,5.\xd8").encode("cp1252")
    ),
    # A line break after a value is stripped like a space (one inside is refused).
    "quoted-separator-and-line-break": text(
        csv_text('0000003,851001,2024-03-15,present,0,5,"5.A,B\n"')
    ),
    # Only the first character counts: a CPR number holds a hyphen.
    "cpr-number-ids": text(csv_text("010203-1234,851001,2024-03-15,present,0,5,5.A")),
    "cpr-number-written-with-a-space": text(
        csv_text("010203 1234,851001,2024-03-15,present,0,5,5.A")
    ),
}


@pytest.mark.parametrize(
    ("command", "name"),
    [
        # In `make test` each input is read by one command, in turn; `make test-all` runs all.
        pytest.param(
            command,
            name,
            id=f"{command}-{name}",
            marks=() if command == READERS[number % len(READERS)] else (pytest.mark.slow,),
        )
        for number, name in enumerate(ACCEPTED)
        for command in READERS
    ],
)
def test_inputs_that_look_odd_but_are_documented_are_read(
    tmp_path: Path, command: str, name: str
) -> None:
    run = Invocation(command, ACCEPTED[name](tmp_path), tmp_path / "out")

    result = run.run()

    assert result.exit_code == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert not any(line.startswith(ERROR) for line in result.stderr.splitlines())
    assert run.written(), "a successful run writes its output"
