"""An attacker's suite for the output edge: hostile text in an export must harm or leak nothing.

The attacker controls one export (a pupil, a parent or a careless colleague can put any text into
a pupil id, a school id or a class name) and has a copy of the tool. Whatever the text, every
command that writes must either refuse the export on reading (exit 65, one line naming the file,
never the value) or write outputs that are safe to open:

- no xlsx cell is a formula or a link, and no sheet's XML holds a ``<f>`` element;
- no CSV cell begins like a formula (``= + - @``, tab or CR), so Excel runs nothing;
- no file is created outside the output folder, and no file or folder name holds the text or a
  pupil id (names use the pupil's token);
- Markdown has no raw ``<`` or ``>`` and no line forged from the data; HTML and SVG hold the
  text only escaped;
- a terminal table written to a file holds no escape sequence or other control character;
- stderr holds no pupil id, no CPR number and no control character from the data.

The commands are discovered from the Typer app (:mod:`tests.harden`), so a command merged later is
run too; ``report`` runs through a generated ``report.toml`` with every output kind. Each command
runs in every output format it offers. The property (:func:`test_hostile_text_fast`) draws the
text, the column, the pupil and the export's format (csv, xlsx or parquet: ingest differs per
format); the example tests below name each class of attack the hostile review found, so a reader
sees each one. The fast profile runs in ``make test``; the long one (``@pytest.mark.slow``) in
``make test-all``.
"""

from __future__ import annotations

import contextlib
import csv
import errno
import json
import os
import re
import resource
import socket
import stat
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import filelock
import openpyxl
import polars as pl
import pytest
import xlsxwriter
from hypothesis import Phase, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner, Result

from fravaer.cli import app
from tests.harden import COMMANDS, ERROR, HINT, KEY_HEX, REQUIRED_ARGS

# -- the export -----------------------------------------------------------------------------------

END = date(2024, 3, 8)  # a Friday


def _school_days(count: int) -> list[date]:
    days: list[date] = []
    day = END
    while len(days) < count:
        if day.weekday() < 5:
            days.append(day)
        day -= timedelta(days=1)
    return days[::-1]


DAYS = _school_days(40)
SINCE = DAYS[19].isoformat()
"""Before the absences below begin: every pupil at step 1 or higher now has escalated since."""


@dataclass(frozen=True)
class Pupil:
    pupil_id: str
    school_id: str
    class_name: str
    grade: int
    absent_last: int  # whole absent days at the end of the 40
    category: str


PUPILS = (
    # 10 of 40 days (25 %): step 3, a meeting sheet.
    Pupil("0000001", "851001", "5.A", 5, 10, "illness"),
    # 7 of 40 unlawful (17.5 %): step 2 and the quarter's notify flag, a meeting sheet.
    Pupil("0000002", "851001", "5.A", 5, 7, "unlawful"),
    # 5 of 40 (12.5 %): step 1.
    Pupil("0000003", "851002", "7.B", 7, 5, "leave"),
    Pupil("0000004", "851002", "7.B", 7, 0, "illness"),
)
IDS = tuple(p.pupil_id for p in PUPILS)
TEXT_COLUMNS = ("pupil_id", "school_id", "class_name")
EXPORT_FORMATS = ("csv", "xlsx", "parquet")
HEADER = ("pupil_id", "school_id", "date", "category", "absent_fraction", "grade", "class_name")


def export_rows(hostile: str | None = None, column: str = "class_name", at: int = 0) -> list[tuple]:
    """The export's rows, with ``hostile`` as ``column`` of every row of pupil ``at``."""
    rows = []
    for index, pupil in enumerate(PUPILS):
        values = {
            "pupil_id": pupil.pupil_id,
            "school_id": pupil.school_id,
            "class_name": pupil.class_name,
        }
        if hostile is not None and index == at:
            values[column] = hostile
        for n, day in enumerate(DAYS):
            absent = n >= len(DAYS) - pupil.absent_last
            rows.append(
                (
                    values["pupil_id"],
                    values["school_id"],
                    day.isoformat(),
                    pupil.category if absent else "present",
                    "1" if absent else "0",
                    str(pupil.grade),
                    values["class_name"],
                )
            )
    return rows


def write_export(rows: list[tuple], fmt: str, path: Path) -> Path:
    """The rows as the municipality's system would export them: csv, xlsx or parquet."""
    if fmt == "csv":
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(HEADER)
            writer.writerows(rows)
    elif fmt == "xlsx":
        # write_string: the text is a cell's text, never a formula or a link, as an export's is.
        workbook = xlsxwriter.Workbook(str(path))
        sheet = workbook.add_worksheet("Fravær")
        for col, name in enumerate(HEADER):
            sheet.write_string(0, col, name)
        for r, row in enumerate(rows, start=1):
            for col, value in enumerate(row):
                if HEADER[col] in ("absent_fraction", "grade"):
                    sheet.write_number(r, col, float(value))
                else:
                    sheet.write_string(r, col, value)
        workbook.close()
    else:
        frame = pl.DataFrame(
            [list(r) for r in rows], schema=list(HEADER), orient="row"
        ).with_columns(
            pl.col("date").str.to_date(),
            pl.col("absent_fraction").cast(pl.Float64),
            pl.col("grade").cast(pl.Int64),
        )
        frame.write_parquet(path)
    return path


# -- the runs: every command that writes, in every format -----------------------------------------


@dataclass
class Job:
    """One run of one command: its arguments (``{export}``, ``{out}``, ``{in}`` filled in)."""

    name: str
    args: list[str]


def _format_choices(command: str) -> list[str | None]:
    for param in COMMANDS[command].params:
        choices = getattr(getattr(param, "type_descriptor", None), "choices", None)
        if param.name == "fmt" and choices:
            return list(choices)
    return [None]


_EXT = {"table": "txt", "csv": "csv", "json": "json", "parquet": "parquet", "xlsx": "xlsx"}


def _target(column: str, at: int, hostile: str | None) -> Pupil:
    pupil = PUPILS[at]
    if hostile is None:
        return pupil
    values = {
        "pupil_id": pupil.pupil_id,
        "school_id": pupil.school_id,
        "class_name": pupil.class_name,
    }
    values[column] = hostile
    return Pupil(
        **values, grade=pupil.grade, absent_last=pupil.absent_last, category=pupil.category
    )


def jobs(pupil: Pupil) -> list[Job]:
    """Every command that writes, in each of its formats, with the variants that write more.

    ``pupil`` is the one the hostile text was put into: ``explain`` and ``trend`` ask for it by
    its id or class (``--pupil=...`` so that a text starting with ``-`` stays a value), as read:
    ingest strips the spaces around a cell, so the user asks without them.
    """
    out: list[Job] = []
    for command in sorted(COMMANDS):
        for fmt in _format_choices(command):
            base = [command, "{export}"]
            required = list(REQUIRED_ARGS.get(command, []))
            extra: list[list[str]] = [[]]
            if command == "explain":
                required = [f"--pupil={pupil.pupil_id.strip()}"]
            elif command == "trend":
                required = []
                chart = [f"--chart={{out}}/chart.{'svg' if fmt == 'table' else 'png'}"]
                extra = [[f"--pupil={pupil.pupil_id.strip()}", *chart]]
                if fmt in ("table", "xlsx"):
                    extra.append([f"--class={pupil.class_name.strip()}"])
            elif command == "escalate":
                required = ["--since", SINCE]
                extra = [["--meeting-notes", "{out}/notes"]]
            elif command == "stats" and fmt in ("table", "xlsx"):
                extra = [[f"--chart={{out}}/chart.{'svg' if fmt == 'table' else 'png'}"]]
            elif command == "pseudonymize":
                required = ["--key-file", "{in}/key.txt"]
            for more in extra:
                args = [*base, *required, *more]
                if fmt is not None:
                    args += ["--format", fmt, "-o", f"{{out}}/result.{_EXT[fmt]}"]
                else:
                    args += ["-o", "{out}/result.csv"]
                out.append(Job(f"{command}-{fmt}{'-' + more[0][:9] if more else ''}", args))
    # Split by school: a file per school (named by its id) and the state, in xlsx and as tables.
    for fmt in ("xlsx", "table"):
        out.append(
            Job(
                f"escalate-split-{fmt}",
                [
                    "escalate",
                    "{export}",
                    "--state",
                    "{out}/state.json",
                    "--split-by",
                    "school",
                    "--format",
                    fmt,
                    "-o",
                    "{out}/split",
                    "--meeting-notes",
                    "{out}/notes",
                ],
            )
        )
    out.append(Job("report", ["report", "--config", "{in}/report.toml"]))
    return out


REPORT_TOML = """\
output_folder = "{out}/report"
state = "{out}/report/state.json"

[inputs]
paths = ["{export}"]

[[outputs]]
kind = "classification"
file = "klassifikation-{{as_of}}.xlsx"

[[outputs]]
kind = "classification"
file = "klassifikation.csv"

[[outputs]]
kind = "escalations"
file = "eskaleringer.xlsx"

[[outputs]]
kind = "escalations"
split_by = "school"
folder = "skoler"
format = "table"

[[outputs]]
kind = "meeting_notes"
folder = "moeder"
"""


# -- what a run must never do ---------------------------------------------------------------------

CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f]")
"""Every control character but the newline: C0 (ESC starts CSI and OSC 8), DEL and C1."""
LINK = re.compile(r"(?<!\\)\]\(\s*(javascript|https?|mailto):", re.IGNORECASE)
"""A Markdown link or image whose target came from the data (``\\]`` is escaped text)."""
CPR = re.compile(r"\d{6}-?\d{4}")
FORMULA_START = ("=", "+", "@", "\t", "\r")
NUMBER = re.compile(r"-?\d+(\.\d+)?([eE][-+]?\d+)?")


@dataclass
class Attack:
    """One export with hostile text in one place, and everything a run may be checked against."""

    hostile: str | None
    column: str
    at: int
    export_format: str
    root: Path = field(default_factory=Path)

    @property
    def pupil(self) -> Pupil:
        return _target(self.column, self.at, self.hostile)

    def needles(self) -> list[str]:
        """The hostile text as it was written and as ingest would keep it (spaces stripped)."""
        if not self.hostile:
            return []
        return sorted({t for t in (self.hostile, self.hostile.strip()) if len(t) >= 3})

    def pupil_ids(self) -> list[str]:
        ids = [p for i, p in enumerate(IDS) if not (self.column == "pupil_id" and i == self.at)]
        return ids + (self.needles() if self.column == "pupil_id" else [])


@contextlib.contextmanager
def prepared(attack: Attack) -> Iterator[Attack]:
    """A fresh folder with ``in/`` (the export, the key) and an empty ``out/``; cwd inside it."""
    with tempfile.TemporaryDirectory(prefix="hostile") as name:
        root = Path(name)
        (root / "in").mkdir()
        (root / "out").mkdir()
        rows = export_rows(attack.hostile, attack.column, attack.at)
        export = write_export(
            rows, attack.export_format, root / "in" / f"export.{attack.export_format}"
        )
        key = root / "in" / "key.txt"
        key.write_text(KEY_HEX)
        key.chmod(0o600)
        (root / "in" / "report.toml").write_text(
            REPORT_TOML.format(out=root / "out", export=export), encoding="utf-8"
        )
        attack.root = root
        with contextlib.chdir(root):
            yield attack


def _fill(args: list[str], attack: Attack) -> list[str]:
    root = attack.root
    export = root / "in" / f"export.{attack.export_format}"
    return [
        a.replace("{export}", str(export))
        .replace("{out}", str(root / "out"))
        .replace("{in}", str(root / "in"))
        for a in args
    ]


def _outside(root: Path) -> set[str]:
    return {
        p.relative_to(root).as_posix()
        for p in root.rglob("*")
        if not p.relative_to(root).as_posix().startswith("out")
    }


def run_job(job: Job, attack: Attack) -> Result:
    """Run one job into a clean output folder and check every promise; return the result.

    Every broken promise of the run is reported together, so one defect does not hide another.
    """
    out = attack.root / "out"
    for path in sorted(out.rglob("*"), reverse=True):
        path.rmdir() if path.is_dir() else path.unlink()
    before = _outside(attack.root)
    result = CliRunner().invoke(app, _fill(job.args, attack))
    where = (job.name, attack.column, attack.export_format, attack.hostile and attack.hostile[:80])
    problems: list[str] = []

    def expect(check: Callable[[], None]) -> None:
        try:
            check()
        except AssertionError as exc:
            problems.append(str(exc).splitlines()[0])

    def exit_code() -> None:
        assert result.exit_code in (0, 65), (result.exit_code, result.stderr[-500:])
        assert "Traceback" not in result.stderr

    def inside() -> None:
        assert _outside(attack.root) == before, "a file outside the output folder"

    expect(exit_code)
    expect(inside)
    expect(lambda: check_stderr(result, attack, ()))
    if result.exit_code == 65:
        expect(lambda: check_refusal(result, attack, ()))
    check_outputs(out, attack, expect)
    assert not problems, "\n".join([repr(where), *problems])
    return result


def check_stderr(result: Result, attack: Attack, where: tuple) -> None:
    err = result.stderr
    assert not CONTROL.search(err), (*where, "a control character on stderr", err[-500:])
    for pupil in attack.pupil_ids():
        assert pupil not in err, (*where, "a pupil id on stderr")
    for needle in attack.needles():
        if CPR.search(needle):
            assert needle not in err, (*where, "a CPR number on stderr")


def check_refusal(result: Result, attack: Attack, where: tuple) -> None:
    """Refused on reading: one error line (and maybe a hint) that names the export."""
    lines = result.stderr.splitlines()
    errors = [i for i, line in enumerate(lines) if line.startswith(ERROR)]
    assert len(errors) == 1, (*where, result.stderr)
    tail = lines[errors[0] :]
    assert len(tail) in (1, 2), (*where, result.stderr)
    assert len(tail) == 1 or tail[1].startswith(HINT), (*where, result.stderr)
    assert f"export.{attack.export_format}" in tail[0], (*where, "the error names no file", tail)


def check_outputs(out: Path, attack: Attack, expect: Callable[[Callable[[], None]], None]) -> None:
    """Every file and folder the run left in ``out``: its name, and its content by its kind."""
    names_forbidden = attack.pupil_ids() + attack.needles()
    for path in sorted(out.rglob("*")):
        relative = path.relative_to(out).as_posix()

        def name(relative: str = relative) -> None:
            for forbidden in names_forbidden:
                assert forbidden not in relative, (
                    f"{forbidden[:40]!r} in the name {relative[:80]!r}"
                )

        expect(name)
        if path.is_dir():
            continue
        suffix = path.suffix.lower()
        if suffix == ".xlsx":
            expect(lambda path=path: check_xlsx(path, ()))
        elif suffix == ".csv":
            expect(lambda path=path: check_csv(path, ()))
        elif suffix == ".md":
            expect(lambda path=path: check_markdown(path, attack, ()))
        elif suffix in (".html", ".svg"):
            expect(lambda path=path: check_markup(path, attack, ()))
        elif suffix == ".txt":
            expect(lambda path=path: check_table(path, ()))
        if path.name in ("manifest.json", "state.json"):

            def no_ids(path: Path = path) -> None:
                text = path.read_text(encoding="utf-8")
                for pupil in attack.pupil_ids():
                    assert pupil not in text, f"a pupil id in {path.name}"

            expect(no_ids)


def check_xlsx(path: Path, where: tuple) -> None:
    """No formula cell, no hyperlink, and no ``<f>`` in any sheet's XML."""
    with zipfile.ZipFile(path) as archive:
        for name in archive.namelist():
            if name.startswith("xl/worksheets/") and name.endswith(".xml"):
                xml = archive.read(name).decode("utf-8")
                assert "<f>" not in xml, (*where, path.name, "formula XML")
                assert "<f " not in xml, (*where, path.name, "formula XML")
                assert "<hyperlink" not in xml, (*where, path.name, "hyperlink XML")
    book = openpyxl.load_workbook(path)
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (*where, path.name, "a formula cell")
                assert cell.hyperlink is None, (*where, path.name, "a hyperlink")


def check_csv(path: Path, where: tuple) -> None:
    """No cell that a spreadsheet would take for a formula (a negative number is a number)."""
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.reader(handle):
            for cell in row:
                assert not cell.startswith(FORMULA_START), (*where, path.name, "a formula cell")
                if cell.startswith("-"):
                    assert NUMBER.fullmatch(cell), (*where, path.name, "a formula cell")


def check_markdown(path: Path, attack: Attack, where: tuple) -> None:
    text = path.read_text(encoding="utf-8")
    assert "<" not in text, (*where, path.name, "raw markup in Markdown")
    assert ">" not in text, (*where, path.name, "raw markup in Markdown")
    assert not LINK.search(text), (*where, path.name, "a live link from the data")
    lines = text.splitlines()
    assert len([line for line in lines if re.match(r"- \*\*(Trin|Step):\*\*", line)]) == 1, (
        *where,
        path.name,
        "a forged step line",
    )
    if attack.hostile and re.search(r"[\r\n]", attack.hostile):
        forged = [f.strip() for f in re.split(r"[\r\n]+", attack.hostile)[1:] if f.strip()]
        for fragment in forged:
            assert not any(line.strip().startswith(fragment) for line in lines), (
                *where,
                path.name,
                "a line forged from the data",
            )


def check_markup(path: Path, attack: Attack, where: tuple) -> None:
    text = path.read_text(encoding="utf-8")
    assert "<script" not in text.lower(), (*where, path.name, "a script element")
    assert not re.search(r"(href|src)\s*=\s*[\"']?\s*javascript:", text, re.IGNORECASE), (
        *where,
        path.name,
        "a javascript: link",
    )
    for needle in attack.needles():
        if re.search(r"[<>&\"']", needle):
            assert needle not in text, (*where, path.name, "the text unescaped")


def check_table(path: Path, where: tuple) -> None:
    text = path.read_text(encoding="utf-8")
    found = CONTROL.search(text)
    assert found is None, (*where, path.name, f"control character {found and found[0]!r}")


# -- hostile text ---------------------------------------------------------------------------------

LONG = "7" * 10_000
PAYLOADS = (
    '=HYPERLINK("http://evil","klik")',
    "=cmd|' /C calc'!A0",
    "@SUM(1)",
    "http://evil.example/klik",
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "\t=1+1",
    "\r=1+1",
    "[bold]0000009[/bold]",
    "[/5.A]",
    "\x1b[31mrød\x1b[0m",
    "\x1b]8;;http://evil\x1b\\klik\x1b]8;;\x1b\\",
    "5.A\x07\x08",
    "5.\x85A",
    "5.A\x7f",
    "0000123\u200b",
    "\u202e7.B",
    "$x^2$",
    "$\\foo$",
    "<script>alert(1)</script>",
    "[x](javascript:alert(1))",
    "5.A\n- **Trin:** 0",
    LONG,
    "../../etc/x",
    "a/b",
    "C:\\x",
    "010203-1234",
)
"""The classes of the hostile review, one text each (the example tests below name them)."""

PREFIXES = ("", "", "=", "+", "-", "@", "\t", "\r", " ")
INSERTS = ("", "", "\x00", "\x1b", "\x9b", "\x7f", "\u200b", "\u200d", "\u2066", "\u202e", "\n")


# -- the property ---------------------------------------------------------------------------------


def _command_of(job: Job) -> str:
    return job.args[0]


COMMAND_NAMES = sorted({_command_of(job) for job in jobs(PUPILS[0])})
"""Every command that writes (``report`` included), each a case of the property."""


def _attacks_for(command: str) -> st.SearchStrategy[Attack]:
    """The attacks, with the payloads rotated per command: derandomized runs start differently."""
    shift = COMMAND_NAMES.index(command) * 2
    payloads = PAYLOADS[shift:] + PAYLOADS[:shift]

    @st.composite
    def text(draw: st.DrawFn) -> str:
        value = draw(st.sampled_from(PREFIXES)) + draw(st.sampled_from(payloads))
        insert = draw(st.sampled_from(INSERTS))
        if insert:
            at = draw(st.integers(0, min(len(value), 40)))
            value = value[:at] + insert + value[at:]
        return value

    return st.builds(
        Attack,
        hostile=text(),
        column=st.sampled_from(TEXT_COLUMNS),
        at=st.integers(0, len(PUPILS) - 1),
        export_format=st.sampled_from(EXPORT_FORMATS),
    )


NO_SHRINK = (Phase.explicit, Phase.reuse, Phase.generate)
"""An attack is a payload, a prefix and an insert, readable as drawn; shrinking it would rerun
every format of the command hundreds of times for little gain."""


def attack_command(command: str, attack: Attack) -> None:
    """Every job of ``command`` (each format and variant) on one hostile export."""
    with prepared(attack):
        for job in jobs(attack.pupil):
            if _command_of(job) == command:
                run_job(job, attack)


@pytest.mark.parametrize("command", COMMAND_NAMES)
def test_hostile_text_fast(command: str) -> None:
    """Two derandomized attacks per command, each in every format the command writes."""

    def body(attack: Attack) -> None:
        attack_command(command, attack)

    settings(max_examples=2, phases=NO_SHRINK)(given(_attacks_for(command))(body))()


@pytest.mark.slow
@pytest.mark.parametrize("command", COMMAND_NAMES)
def test_hostile_text_long(command: str) -> None:
    """Many more attacks per command (random under ``HYPOTHESIS_PROFILE=long``)."""

    def body(attack: Attack) -> None:
        attack_command(command, attack)

    settings(max_examples=40, phases=NO_SHRINK)(given(_attacks_for(command))(body))()


def test_every_command_that_writes_is_attacked() -> None:
    """A command merged later is attacked too: every exports command has jobs, in each format."""
    names = {job.name for job in jobs(PUPILS[0])}
    for command in COMMANDS:
        for fmt in _format_choices(command):
            assert any(n.startswith(f"{command}-{fmt}") for n in names), (command, fmt)
    assert "report" in COMMAND_NAMES


# -- each class of the hostile review, as an example a reader can follow ------------------------
#
# The runs above check every promise on every output; these pick the commands each attack aims
# at, and where the contract decides the outcome (refused on reading), they pin it.


def attack_with(
    hostile: str,
    column: str,
    commands: tuple[str, ...],
    *,
    at: int = 0,
    export_format: str = "csv",
) -> dict[str, Result]:
    """Run the jobs whose name starts with one of ``commands``; every promise is checked."""
    attack = Attack(hostile, column, at, export_format)
    results = {}
    with prepared(attack):
        for job in jobs(attack.pupil):
            if job.name.startswith(commands):
                results[job.name] = run_job(job, attack)
    assert results, commands
    return results


SPREADSHEET_JOBS = ("classify-xlsx", "classify-csv", "escalate-xlsx", "stats-xlsx", "report")


@pytest.mark.parametrize(
    ("hostile", "column"),
    [
        ('=HYPERLINK("http://evil","klik")', "class_name"),
        ("=cmd|' /C calc'!A0", "school_id"),
        ("@SUM(1)", "pupil_id"),
        ("+1+cmd|' /C calc'!A0", "class_name"),
        ("-2+3+cmd|' /C calc'!A0", "school_id"),
        ("\t=1+1", "class_name"),
        ("\r=1+1", "class_name"),
        (" =1+1", "class_name"),
    ],
)
def test_formula_injection_into_spreadsheets(hostile: str, column: str) -> None:
    """A formula or DDE call in the data never becomes a live cell in xlsx or CSV."""
    attack_with(hostile, column, SPREADSHEET_JOBS)


@pytest.mark.parametrize("hostile", ["http://evil.example/klik", "mailto:x@evil.example"])
def test_link_injection_into_spreadsheets(hostile: str) -> None:
    """A URL is plain text in a class name; xlsx must not turn it into a link (strings_to_urls)."""
    results = attack_with(hostile, "class_name", SPREADSHEET_JOBS)
    assert results["classify-xlsx"].exit_code == 0  # a URL is no formula: it is read, and kept


@pytest.mark.parametrize("prefix", ["=", "+", "-", "@", "\t=", "\r@", " ="])
@pytest.mark.parametrize("column", TEXT_COLUMNS)
def test_formula_prefix_is_refused_on_reading(prefix: str, column: str) -> None:
    """Text that begins like a formula is refused (65): file, line and column, never the value.

    Spaces, tabs and CRs around a cell are stripped on reading (docs/ingest.md), so what would
    reach an output is the text after them: ``\t=…`` is refused for its ``=``."""
    hostile = prefix + "cmd|' /C calc'!A0"
    results = attack_with(hostile, column, ("classify-csv",))
    result = results["classify-csv"]
    assert result.exit_code == 65, result.stderr
    line = result.stderr.splitlines()[0]
    assert re.search(rf"export\.csv:2:\d+ \(column '{column}'\)", line), line
    assert "cmd" not in result.stderr


@pytest.mark.parametrize("prefix", ["\t", "\r", "\x85"])
@pytest.mark.parametrize("column", TEXT_COLUMNS)
def test_a_tab_or_cr_before_text_never_reaches_an_output(prefix: str, column: str) -> None:
    """A tab, CR or NEL around a cell is padding: stripped on reading, so no output holds it
    (the property's checks of every output run on the result), or refused."""
    results = attack_with(prefix + "X9", column, ("classify-csv", "classify-xlsx"))
    for result in results.values():
        assert result.exit_code in (0, 65), result.stderr


@pytest.mark.parametrize("export_format", ["xlsx", "parquet"])
def test_formula_prefix_is_refused_in_every_export_format(export_format: str) -> None:
    results = attack_with(
        '=HYPERLINK("http://evil","klik")',
        "class_name",
        ("classify-xlsx",),
        export_format=export_format,
    )
    result = results["classify-xlsx"]
    assert result.exit_code == 65, result.stderr
    assert "class_name" in result.stderr
    assert "HYPERLINK" not in result.stderr


@pytest.mark.parametrize(
    ("name", "hostile"),
    [
        ("script", "<script>alert(1)</script>"),
        ("javascript-link", "[x](javascript:alert(1))"),
        ("image", "![x](http://evil.example/track.png)"),
        ("forged-line", "5.A\n- **Trin:** 0"),
    ],
)
def test_markdown_injection_into_meeting_sheets(name: str, hostile: str) -> None:
    """A class name cannot add markup, a link or a line to a meeting sheet (Markdown or HTML)."""
    result, sheets = _sheets_for(hostile, "class_name")
    if result.exit_code == 0:
        assert len(sheets) == 2, name  # pupils 1 and 2 are at step 2 or higher
        assert not any(LINK.search(sheet) for sheet in sheets), name


def _sheets_for(hostile: str, column: str, at: int = 0) -> tuple[Result, list[str]]:
    """escalate --meeting-notes on the hostile export: the result and the Markdown sheets."""
    attack = Attack(hostile, column, at, "csv")
    with prepared(attack):
        job = next(j for j in jobs(attack.pupil) if j.name.startswith("escalate-csv"))
        result = run_job(job, attack)
        notes = attack.root / "out" / "notes"
        sheets = [p.read_text(encoding="utf-8") for p in sorted(notes.glob("*.md"))]
    return result, sheets


def test_rich_markup_is_shown_literally_in_tables() -> None:
    """``[bold]0000009[/bold]`` is an id as written; ``[/5.A]`` must not crash the table (70)."""
    attack = Attack("[bold]0000009[/bold]", "pupil_id", 0, "csv")
    with prepared(attack):
        job = next(j for j in jobs(attack.pupil) if j.name == "classify-table")
        result = run_job(job, attack)
        if result.exit_code == 0:
            table = (attack.root / "out" / "result.txt").read_text(encoding="utf-8")
            assert "[bold]0000009[/bold]" in table
    results = attack_with("[/5.A]", "class_name", ("classify-table", "trend-table", "stats-table"))
    assert all(r.exit_code in (0, 65) for r in results.values())


@pytest.mark.parametrize(
    "hostile",
    ["\x1b[31mrød\x1b[0m", "\x1b]8;;http://evil.example\x1b\\klik\x1b]8;;\x1b\\", "5.\x9b31mA"],
)
def test_terminal_escape_sequences_are_refused(hostile: str) -> None:
    """ANSI CSI and OSC 8 in a class name: refused on reading, never sent to a terminal."""
    results = attack_with(hostile, "class_name", ("classify-table", "trend-table---class"))
    assert results["classify-table"].exit_code == 65


@pytest.mark.parametrize("hostile", ["$x^2$", "$x^$", "$\\foo$", "$\\frac{1$"])
def test_mathtext_in_charts(hostile: str) -> None:
    """A school id is drawn on the chart: ``$...$`` must be drawn as the text it is, or refused,
    never parsed by matplotlib as mathematics (which crashed on ``$x^$``: exit 70)."""
    attack_with(hostile, "school_id", ("stats-table", "stats-xlsx"))


@pytest.mark.parametrize(
    "invisible",
    [
        "\u200b",  # zero-width space
        "\u200d",  # zero-width joiner
        "\ufeff",  # zero-width no-break space
        "\u00ad",  # soft hyphen
        "\u202e",  # right-to-left override
        "\u2066",  # left-to-right isolate
        "\x00",
        "\x07",
        "\x1b",
        "\x7f",
        "\x85",
        "\x9b",
    ],
)
def test_invisible_and_control_characters_are_refused(invisible: str) -> None:
    """``0000123`` and ``0000123``+ZWSP would be two pupils: text holding such a character is
    refused (65), whether it hides in a pupil id or a class name."""
    # Inside the text: at its ends, what is Unicode whitespace (NEL) is stripped as padding.
    for column, value in (
        ("pupil_id", "0000" + invisible + "123"),
        ("class_name", "5." + invisible + "A"),
    ):
        result = attack_with(value, column, ("classify-csv",))["classify-csv"]
        assert result.exit_code == 65, (column, repr(invisible), result.stderr)


def test_cpr_numbers_stay_off_stderr_and_out_of_names() -> None:
    """A CPR number as the pupil id: no file name, no stderr line, no manifest holds it."""
    attack_with(
        "010203-1234",
        "pupil_id",
        ("escalate-split", "escalate-csv", "report", "explain-table", "trend-table"),
    )


@pytest.mark.parametrize("hostile", ["../../etc/x", "C:\\x", "/etc/passwd"])
@pytest.mark.parametrize("column", ["pupil_id", "school_id"])
def test_path_separators_in_ids_stay_inside_the_output_folder(hostile: str, column: str) -> None:
    """Ids become file names (per school, per pupil): never a path out of the output folder."""
    attack_with(hostile, column, ("escalate-split", "escalate-csv", "report"))


@pytest.mark.parametrize("column", TEXT_COLUMNS)
def test_very_long_values(column: str) -> None:
    """10,000 characters in an id or a class: no name too long for the file system (73/74)."""
    attack_with(LONG, column, ("classify-table", "classify-xlsx", "escalate-split", "report"))


def test_ids_differing_only_in_case_do_not_overwrite_each_other() -> None:
    """``ABC`` and ``abc`` are two pupils: on a case-insensitive file system (SMB, macOS) their
    meeting sheets must still be two files."""
    rows = export_rows("ABC", "pupil_id", 0)
    rows = [("abc", *r[1:]) if r[0] == "0000002" else r for r in rows]
    with tempfile.TemporaryDirectory() as name:
        root = Path(name)
        export = write_export(rows, "csv", root / "export.csv")
        notes = root / "notes"
        result = CliRunner().invoke(
            app, ["escalate", str(export), "--since", SINCE, "--meeting-notes", str(notes)]
        )
        assert result.exit_code == 0, result.stderr
        names = [p.name for p in notes.iterdir() if not p.name.startswith(".")]  # not the key
        assert len(names) == 4  # a Markdown and an HTML sheet for each of the two pupils
        assert len({n.casefold() for n in names}) == 4, names
        parts = {part for n in names for part in re.split(r"[-_.]", n)}
        assert not parts & {"ABC", "abc"}, names


# -- where outputs land: never onto what is not a regular file ------------------------------------


def _classify_to(target: str, folder: Path, *more: str) -> Result:
    export = write_export(export_rows(), "csv", folder / "export.csv")
    return CliRunner().invoke(
        app, ["classify", str(export), "--format", "csv", "-o", target, *more]
    )


def _one_error(result: Result, exit_code: int) -> str:
    assert result.exit_code == exit_code, (result.exit_code, result.stderr)
    lines = result.stderr.splitlines()
    errors = [line for line in lines if line.startswith(ERROR)]
    assert len(errors) == 1, result.stderr
    assert "Traceback" not in result.stderr
    for pupil in IDS:
        assert pupil not in result.stderr
    return errors[0]


def test_output_onto_a_fifo_is_refused(tmp_path: Path) -> None:
    """``-o`` naming a FIFO: exit 73, the FIFO stays a FIFO and no pupil row goes into it."""
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)  # a writer that opens it cannot hang
    try:
        result = _classify_to(str(fifo), tmp_path)
        _one_error(result, 73)
        assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
        with contextlib.suppress(BlockingIOError):
            assert os.read(reader, 100) == b""
    finally:
        os.close(reader)


@pytest.mark.parametrize(
    ("option", "what"),
    [
        ("--policy", "policy file"),
        ("--source", "source file"),
        ("--reference", "reference file"),
        ("--config", "config file"),
        ("--key-file", "key file"),
    ],
)
def test_fifo_as_config_file_is_refused_not_waited_on(
    tmp_path: Path, option: str, what: str
) -> None:
    """Exports, rosters and calendars that are FIFOs were refused, but a FIFO policy, source,
    reference, report config or key file was opened and waited on for ever (a cron job that
    never ends and keeps its lock): a subprocess with a time limit, so the old code fails."""
    export = write_export(export_rows(), "csv", tmp_path / "export.csv")
    fifo = tmp_path / "x.toml"
    os.mkfifo(fifo)
    args = {
        "--policy": ["classify", str(export), "--policy", str(fifo), "--format", "csv"],
        "--source": ["classify", str(export), "--source", str(fifo), "--format", "csv"],
        "--reference": ["stats", str(export), "--reference", str(fifo), "--format", "csv"],
        "--config": ["report", "--config", str(fifo)],
        "--key-file": [
            "pseudonymize",
            str(export),
            "--key-file",
            str(fifo),
            "-o",
            str(tmp_path / "p.csv"),
        ],
    }[option]

    try:
        done = subprocess.run(
            [sys.executable, "-m", "fravaer", *args], capture_output=True, text=True, timeout=30
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"{option} FIFO: fravaer waited on it for 30 s")

    assert (done.returncode, done.stdout) == (66, ""), done.stderr
    assert done.stderr.startswith(f"{ERROR}{fifo}: the {what} is not a regular file\n")


def test_output_onto_a_socket_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "sock"
    server = socket.socket(socket.AF_UNIX)
    try:
        server.bind(str(path))
        _one_error(_classify_to(str(path), tmp_path), 73)
        assert stat.S_ISSOCK(os.lstat(path).st_mode)
    finally:
        server.close()


@pytest.mark.skipif(os.geteuid() != 0, reason="only root can make a device node")
def test_output_onto_a_device_is_refused(tmp_path: Path) -> None:
    """As root, ``-o /dev/null`` replaced the device with a file of pupil rows. A null device
    made here stands in for it (the real one is never touched by a test)."""
    device = tmp_path / "null"
    os.mknod(device, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    _one_error(_classify_to(str(device), tmp_path), 73)
    assert stat.S_ISCHR(os.lstat(device).st_mode)


def test_output_onto_a_folder_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "folder.csv"
    folder.mkdir()
    _one_error(_classify_to(str(folder), tmp_path), 73)
    assert folder.is_dir()
    assert list(folder.iterdir()) == []


def test_output_dash_means_stdout(tmp_path: Path) -> None:
    """``-o -`` writes to stdout, as Unix tools do, and never a file named ``-``."""
    with contextlib.chdir(tmp_path):
        result = _classify_to("-", tmp_path)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("pupil_id,")
    assert not (tmp_path / "-").exists()


# -- pupil ids and keys never reach stderr ---------------------------------------------------------


def test_a_failed_meeting_sheet_write_names_no_pupil(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A full disk while writing the sheets: exit 74, and the line names the folder, not a
    pupil's file (its name would carry the pupil's id to cron mail and the journal)."""
    export = write_export(export_rows("010203-1234", "pupil_id", 0), "csv", tmp_path / "e.csv")
    notes = tmp_path / "notes"

    def full(*args: object, **kwargs: object) -> int:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "write", full)
    result = CliRunner().invoke(
        app, ["escalate", str(export), "--since", SINCE, "--meeting-notes", str(notes)]
    )
    monkeypatch.undo()
    line = _one_error(result, 74)
    assert "010203-1234" not in result.stderr
    assert "0102031234" not in result.stderr
    assert ".md" not in line, line  # not a sheet's file: the folder (and a count)
    assert ".html" not in line, line
    assert not notes.exists() or list(notes.iterdir()) == []


def test_a_key_given_where_its_name_belongs_is_not_echoed(tmp_path: Path) -> None:
    """``--key-env "$KEY"`` by mistake: the key itself must not be shown on stderr."""
    export = write_export(export_rows(), "csv", tmp_path / "e.csv")
    result = CliRunner().invoke(
        app,
        ["pseudonymize", str(export), "-o", str(tmp_path / "p.csv"), "--key-env", KEY_HEX],
    )
    assert result.exit_code != 0
    assert KEY_HEX not in result.stderr
    assert KEY_HEX[:16] not in result.stderr


def test_a_cpr_number_as_a_sheet_name_is_not_echoed(tmp_path: Path) -> None:
    """An xlsx export whose sheet is named by a CPR number: not on stderr, not in ``inspect``."""
    export = tmp_path / "export.xlsx"
    workbook = xlsxwriter.Workbook(str(export))
    sheet = workbook.add_worksheet("010203-1234")
    for col, name in enumerate(HEADER):
        sheet.write_string(0, col, name)
    for r, row in enumerate(export_rows(), start=1):
        for col, value in enumerate(row):
            sheet.write_string(r, col, value)
    workbook.close()
    for args in (["inspect", str(export), "--format", "json"], ["classify", str(export)]):
        result = CliRunner().invoke(app, [*args, "--sheet", "x"])
        assert "010203-1234" not in result.stderr + result.stdout, args
        result = CliRunner().invoke(app, args)
        assert "010203-1234" not in result.stderr + result.stdout, args


# -- report.toml, state files and other untrusted inputs that steer the outputs ------------------


def _report(tmp_path: Path, outputs: str, *, head: str = "") -> tuple[Result, Path]:
    export = write_export(export_rows(), "csv", tmp_path / "export.csv")
    config = tmp_path / "cfg" / "report.toml"
    config.parent.mkdir(exist_ok=True)
    (tmp_path / "out").mkdir(exist_ok=True)
    config.write_text(
        f'{head}output_folder = "{tmp_path / "out"}"\n\n[inputs]\npaths = ["{export}"]\n\n'
        + outputs,
        encoding="utf-8",
    )
    return CliRunner().invoke(app, ["report", "--config", str(config)]), config


@pytest.mark.parametrize(
    "file",
    [
        "../../escaped.csv",
        "../escaped.csv",
        "sub/../../escaped.csv",
        "{abs}",
        ".fravaer-report.lock",
        "manifest.json",
        ".klassifikation.csv.abc.fravaer-tmp",
    ],
)
def test_report_outputs_outside_the_folder_or_on_its_own_files_are_refused(
    tmp_path: Path, file: str
) -> None:
    """``file = "../../x.csv"`` or an absolute path was written outside ``output_folder`` while
    the manifest showed it inside; the lock, a temp file or the manifest was overwritten."""
    file = file.replace("{abs}", str(tmp_path / "escaped.csv"))
    result, config = _report(
        tmp_path, f'[[outputs]]\nkind = "classification"\nfile = "{file}"\nformat = "csv"\n'
    )
    line = _one_error(result, 78)
    assert str(config) in line or config.name in line
    outside = [p for p in tmp_path.rglob("*") if p.is_file() and "out" not in p.parts]
    assert sorted(p.name for p in outside) == ["export.csv", "report.toml"]
    assert list((tmp_path / "out").iterdir()) in ([], [tmp_path / "out" / ".fravaer-report.lock"])


def test_deeply_nested_toml_is_refused_as_a_bad_config(tmp_path: Path) -> None:
    deep = "x = " + "[" * 5000 + "]" * 5000 + "\n"
    result, _ = _report(
        tmp_path, '[[outputs]]\nkind = "classification"\nfile = "k.csv"\n', head=deep
    )
    _one_error(result, 78)


def test_a_nul_in_a_configured_path_is_refused_as_a_bad_config(tmp_path: Path) -> None:
    result, _ = _report(tmp_path, '[[outputs]]\nkind = "classification"\nfile = "k\\u0000.csv"\n')
    _one_error(result, 78)


def _state_run(tmp_path: Path, state_text: str) -> Result:
    export = write_export(export_rows(), "csv", tmp_path / "export.csv")
    state = tmp_path / "state.json"
    state.write_text(state_text, encoding="utf-8")
    return CliRunner().invoke(
        app, ["escalate", str(export), "--state", str(state), "--format", "csv"]
    )


def _state(steps: object) -> str:
    return json.dumps(
        {
            "format": "fravaer-escalate-state",
            "version": 2,
            "key": "00" * 32,
            "runs": [
                {
                    "as_of": "2024-02-01",
                    "policy": "aalborg-2023",
                    "pupils": {"ab" * 32: [steps, "none"]},
                }
            ],
        }
    )


@pytest.mark.parametrize("step", [1000, -5])
def test_a_state_with_a_step_out_of_range_is_refused(tmp_path: Path, step: int) -> None:
    """A step of 1000 or -5 gave wrong lists: a state is untrusted input, checked in full."""
    _one_error(_state_run(tmp_path, _state(step)), 65)


def test_a_deeply_nested_state_is_refused_not_an_internal_error(tmp_path: Path) -> None:
    _one_error(_state_run(tmp_path, "[" * 100_000 + "]" * 100_000), 65)


def test_a_policy_name_in_the_state_is_not_echoed_raw(tmp_path: Path) -> None:
    """The previous run's policy comes from the state: no escape sequence reaches stderr."""
    text = _state(1).replace("aalborg-2023", "\\u001b]8;;http://evil\\u001b\\\\klik")
    result = _state_run(tmp_path, text)
    assert result.exit_code in (0, 65), result.stderr
    assert not CONTROL.search(result.stderr), result.stderr


def test_report_and_escalate_take_the_same_lock_on_one_state(tmp_path: Path) -> None:
    """``escalate --state S`` holds ``S.lock``; a ``report`` on the same state must wait for it
    (exit 75) rather than overwrite the state the other run is recording."""
    state = tmp_path / "state.json"
    with filelock.FileLock(state.with_name(state.name + ".lock"), timeout=0):
        result, _ = _report(
            tmp_path,
            '[[outputs]]\nkind = "classification"\nfile = "k.csv"\n',
            head=f'state = "{state}"\n',
        )
    _one_error(result, 75)
    assert not state.exists()


# -- exports that attack the reader ---------------------------------------------------------------


def _limited(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """A run in its own process with at most 2 GB of memory: an abort must not take pytest."""

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))

    return subprocess.run(
        [sys.executable, "-m", "fravaer", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        preexec_fn=limit,
        timeout=120,
        check=False,
        env={**os.environ, "RUST_BACKTRACE": "0"},
    )


def test_an_xlsx_claiming_a_huge_sheet_is_refused(tmp_path: Path) -> None:
    """A small xlsx with one cell at XFD1048576 (the sheet's last) made the reader allocate
    550 GB and abort (134) with a Rust backtrace; the sheet's size is checked before reading."""
    good = write_export(export_rows()[:3], "xlsx", tmp_path / "good.xlsx")
    bomb = tmp_path / "bomb.xlsx"
    last = b'<row r="1048576"><c r="XFD1048576"><v>1</v></c></row></sheetData>'
    with (
        zipfile.ZipFile(good) as source,
        zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for name in source.namelist():
            data = source.read(name)
            if name.startswith("xl/worksheets/"):
                data = data.replace(b"</sheetData>", last)
            target.writestr(name, data)
    assert bomb.stat().st_size < 10_000
    done = _limited(["classify", str(bomb), "--format", "csv"], tmp_path)
    assert done.returncode == 65, (done.returncode, done.stderr[-500:])
    assert done.stderr.count(ERROR) == 1


@pytest.mark.slow
def test_a_csv_header_of_two_million_columns_is_refused(tmp_path: Path) -> None:
    export = tmp_path / "wide.csv"
    export.write_text(
        ",".join(HEADER) + "," + ",".join(f"c{i}" for i in range(2_000_000)) + "\n",
        encoding="utf-8",
    )
    done = _limited(["classify", str(export), "--format", "csv"], tmp_path)
    assert done.returncode == 65, (done.returncode, done.stderr[-500:])


# -- dates and pupils the run must not lose silently ----------------------------------------------


def test_a_date_in_the_future_does_not_move_the_default_as_of(tmp_path: Path) -> None:
    """One mistyped 2204-03-08 moved the as-of to 2204 and lost the warn-parents flag."""
    rows = [*export_rows(), ("0000004", "851002", "2204-03-08", "present", "0", "7", "7.B")]
    export = write_export(rows, "csv", tmp_path / "export.csv")
    result = CliRunner().invoke(app, ["classify", str(export), "--format", "csv"])
    assert result.exit_code == 0, result.stderr
    as_of = pl.read_csv(result.stdout.encode(), infer_schema=False)["as_of"].unique().to_list()
    assert as_of == [END.isoformat()]
    warnings = [line for line in result.stderr.splitlines() if "warning" in line]
    assert len(warnings) == 1, result.stderr
    assert "2204-03-08" in warnings[0]


def test_a_pupil_seen_only_on_weekends_is_reported(tmp_path: Path) -> None:
    saturdays = [d for d in (END - timedelta(days=i) for i in range(60)) if d.weekday() == 5]
    rows = export_rows() + [
        ("0000005", "851002", d.isoformat(), "illness", "1", "7", "7.B") for d in saturdays
    ]
    export = write_export(rows, "csv", tmp_path / "export.csv")
    result = CliRunner().invoke(app, ["classify", str(export), "--format", "csv"])
    assert result.exit_code == 0, result.stderr
    assert "0000005" not in result.stderr
    assert any("warning" in line for line in result.stderr.splitlines()), result.stderr


# -- decisions the issue leaves open: the invariant, not the wording ------------------------------


def test_an_existing_world_writable_output_folder_is_not_used_silently(tmp_path: Path) -> None:
    folder = tmp_path / "shared"
    folder.mkdir()
    folder.chmod(0o777)
    export = write_export(export_rows(), "csv", tmp_path / "export.csv")
    result = CliRunner().invoke(
        app,
        ["escalate", str(export), "--since", SINCE, "--meeting-notes", str(folder)],
    )
    assert result.exit_code != 0 or "warning" in result.stderr, result.stderr


def test_the_published_demo_key_is_not_used_silently(tmp_path: Path) -> None:
    from tests.harden import ROOT

    key = ROOT / "examples" / "pseudonymize" / "demo-key-never-for-real-data.txt"
    copy = tmp_path / "key.txt"
    copy.write_bytes(key.read_bytes())
    copy.chmod(0o600)
    export = write_export(export_rows(), "csv", tmp_path / "export.csv")
    result = CliRunner().invoke(
        app,
        ["pseudonymize", str(export), "-o", str(tmp_path / "p.csv"), "--key-file", str(copy)],
    )
    assert result.exit_code != 0 or "warning" in result.stderr, result.stderr


def test_a_cpr_number_with_an_inner_space_is_the_same_pupil(tmp_path: Path) -> None:
    """``010203 1234`` and ``010203-1234`` are one child: the same pseudonym, or refused."""
    pseudonyms = []
    for number in ("010203-1234", "010203 1234"):
        export = write_export(export_rows(number, "pupil_id", 0), "csv", tmp_path / "e.csv")
        out = tmp_path / "p.csv"
        result = CliRunner().invoke(
            app,
            ["pseudonymize", str(export), "-o", str(out), "--key-file", str(_key(tmp_path))],
        )
        if result.exit_code == 65:
            continue
        assert result.exit_code == 0, result.stderr
        pseudonyms.append(pl.read_csv(out, infer_schema=False)["pupil_id"][0])
    assert len(set(pseudonyms)) <= 1


def _key(folder: Path) -> Path:
    key = folder / "key.txt"
    key.write_text(KEY_HEX)
    key.chmod(0o600)
    return key


# -- found on a further hostile pass ---------------------------------------------------------------


@pytest.mark.parametrize(("first", "second"), [("a/b", "a:b"), ("SKOLE", "skole")])
def test_school_ids_that_clash_as_file_names(tmp_path: Path, first: str, second: str) -> None:
    """Two schools whose ids make the same file name (``a/b`` and ``a:b`` both ``a_b``), or
    differ only in case (one file on SMB and macOS): one file each, or refused as bad input;
    never a usage error (2) for what is in the data, never one school's list over another's."""
    rows = [(r[0], first if r[1] == "851001" else second, *r[2:]) for r in export_rows()]
    export = write_export(rows, "csv", tmp_path / "export.csv")
    split = tmp_path / "split"
    result = CliRunner().invoke(
        app,
        ["escalate", str(export), "--since", SINCE, "--split-by", "school", "-o", str(split)],
    )
    assert result.exit_code in (0, 65), result.stderr
    if result.exit_code == 0:
        names = [p.name for p in split.iterdir()]
        assert len(names) == 2, names
        assert len({n.casefold() for n in names}) == 2, names


# -- found on the delivery edge's third hostile pass ----------------------------------------------

SCRIPT_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}


def _fravaer(
    *args: object, limits: dict[int, tuple[int, int]] | None = None
) -> subprocess.CompletedProcess[str]:
    """The real console script's entry (handlers included) in a process of its own, with
    ``limits`` (``resource.RLIMIT_*`` -> soft, hard) set in it."""

    def limited() -> None:
        for which, values in (limits or {}).items():
            resource.setrlimit(which, values)

    return subprocess.run(
        [sys.executable, "-c", "from fravaer.entry import main; main()", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=300,
        preexec_fn=limited,
        env=SCRIPT_ENV,
    )


@pytest.mark.parametrize(
    ("first", "second"),
    [("a/b", "a_b-c14cddc0"), ("nul", "nul-99e62427"), ("index.html", "index.html-0eb54730")],
)
def test_a_school_id_made_to_look_like_another_s_folder_gets_its_own(
    tmp_path: Path, first: str, second: str
) -> None:
    """``a/b`` is named ``a_b-c14cddc0`` (its hash): a school whose id *is* that name shared its
    folder (site: internal error 70; escalate: usage error 2 for what is in the data)."""
    rows = [(r[0], first if r[1] == "851001" else second, *r[2:]) for r in export_rows()]
    export = write_export(rows, "csv", tmp_path / "export.csv")
    site = CliRunner().invoke(
        app, ["site", str(export), "-o", str(tmp_path / "site"), "--key-file", str(_key(tmp_path))]
    )
    split = CliRunner().invoke(
        app,
        [
            "escalate",
            str(export),
            "--since",
            SINCE,
            "--split-by",
            "school",
            "-o",
            str(tmp_path / "split"),
        ],
    )

    assert site.exit_code == 0, site.stderr
    folders = [p.name for p in (tmp_path / "site").iterdir() if p.is_dir()]
    assert len(folders) == 2, folders
    assert len({f.casefold() for f in folders}) == 2, folders
    assert folders.count(second) == 1  # the first school's name; the second got another
    assert split.exit_code == 0, split.stderr
    files = [p.name for p in (tmp_path / "split").iterdir()]
    assert len({f.casefold() for f in files}) == 2, files


def _short_hash_clash() -> tuple[str, str]:
    """Two ids that fravaer makes ``a__`` with the same 8 hex digits: a birthday search over
    ``a`` and two letters outside ASCII (each made ``_``), as an attacker with the tool would."""
    import hashlib

    seen: dict[str, str] = {}
    letters = [chr(n) for n in range(0xC0, 0x250)]
    for x in letters:
        for y in letters:
            school = f"a{x}{y}"
            digest = hashlib.sha256(school.encode()).hexdigest()[:8]
            if digest in seen:
                return seen[digest], school
            seen[digest] = school
    raise AssertionError("no clash in the search space")


def test_two_school_ids_whose_short_hashes_meet_get_their_whole_hashes(tmp_path: Path) -> None:
    """32 bits are found by trying: two such ids still get two folders, each named by its whole
    hash, and every other school keeps its name."""
    import hashlib

    first, second = _short_hash_clash()
    rows = [(r[0], first if r[1] == "851001" else second, *r[2:]) for r in export_rows()]
    export = write_export(rows, "csv", tmp_path / "export.csv")
    site = CliRunner().invoke(
        app, ["site", str(export), "-o", str(tmp_path / "site"), "--key-file", str(_key(tmp_path))]
    )

    assert site.exit_code == 0, site.stderr
    folders = sorted(p.name for p in (tmp_path / "site").iterdir() if p.is_dir())
    whole = sorted(f"a__-{hashlib.sha256(s.encode()).hexdigest()}" for s in (first, second))
    assert folders == whole


_SIGNAL_AT_THE_RENAMES = """
import _thread, os, re, signal, sys
from pathlib import Path

from fravaer import entry, output
from fravaer.errors import Terminated

# A SIGTERM sent to the process reaches whichever thread does not block it (polars' workers),
# and Python runs the handler in the main thread at its next step: simulated here, right in
# the middle of the unit's renames.
folder = Path(sys.argv[1])
entry.install()
rename = os.replace
calls = []

def replace(source, target):
    calls.append(target)
    if len(calls) == 3:
        _thread.interrupt_main(signal.SIGTERM)
    rename(source, target)

output.os.replace = replace
try:
    pages = [(folder / f"s{n % 2}" / f"{n:016x}.html", b"new") for n in range(10)]
    output.write_tree(folder, pages, prune=re.compile(r"[0-9a-f]{16}[.]html"))
except Terminated:
    print("terminated")
"""


def test_a_signal_during_the_renames_leaves_the_whole_unit_not_half(tmp_path: Path) -> None:
    """A SIGTERM that reached Python just as a site's pages were renamed stopped the renames
    half way: new pages beside old ones (the hostile pass's "mixed" site), with exit 143 and
    "no partial output is left"."""
    folder = tmp_path / "site"
    for n in range(10):
        (folder / f"s{n % 2}").mkdir(parents=True, exist_ok=True)
        (folder / f"s{n % 2}" / f"{n:016x}.html").write_bytes(b"old")
    (folder / "s0" / f"{99:016x}.html").write_bytes(b"old page of a pupil no longer listed")

    done = subprocess.run(
        [sys.executable, "-c", _SIGNAL_AT_THE_RENAMES, str(folder)],
        capture_output=True,
        text=True,
        timeout=120,
        env=SCRIPT_ENV,
    )

    assert done.stdout == "terminated\n", done.stderr  # the signal still ends the run...
    pages = {p.name: p.read_bytes() for p in folder.rglob("*.html")}
    assert pages == {f"{n:016x}.html": b"new" for n in range(10)}  # ...after the whole unit


def test_a_site_of_more_schools_than_the_open_files_limit(tmp_path: Path) -> None:
    """A unit holds one descriptor per folder; a site of more schools than the soft limit of
    open files (1,024 by default; Denmark has more schools) failed with "temporary folders keep
    disappearing" and left staging folders behind. Now the soft limit is raised up to the hard
    one, and only a hard limit too low is exit 73, saying what to do and leaving nothing."""
    script = (
        "import sys; from pathlib import Path; from fravaer.entry import main; "
        "from fravaer.output import write_tree; from fravaer.errors import FravaerError\n"
        "root = Path(sys.argv[1])\n"
        "try:\n"
        "    write_tree(root, [(root / f'{n}' / 'index.html', b'x') for n in range(300)])\n"
        "except FravaerError as exc:\n"
        "    print(exc.exit_code, exc.message, exc.hint, sep='|')\n"
    )

    def run_with(soft: int, hard: int, root: Path) -> str:
        def limited() -> None:
            resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))

        done = subprocess.run(
            [sys.executable, "-c", script, str(root)],
            capture_output=True,
            text=True,
            timeout=120,
            preexec_fn=limited,
            env=SCRIPT_ENV,
        )
        assert done.returncode == 0, done.stderr
        assert "Traceback" not in done.stderr
        return done.stdout

    assert run_with(200, 4096, tmp_path / "raised") == ""
    assert len(list((tmp_path / "raised").glob("*/index.html"))) == 300

    refused = run_with(200, 200, tmp_path / "refused")
    code, message, hint = refused.strip().split("|")
    assert code == "73"
    assert message.endswith("file(s): cannot create (Too many open files)")
    assert "ulimit -n" in hint
    assert not (tmp_path / "refused").exists()  # no folder, no staging folder left


def test_a_full_disk_under_an_xlsx_is_one_line(tmp_path: Path) -> None:
    """A workbook written straight into its file was left half-closed by a full disk, and its
    clean-up at exit printed a traceback after the error line."""
    rows = export_rows()
    export = write_export(rows, "csv", tmp_path / "export.csv")
    target = tmp_path / "steps.xlsx"
    target.write_bytes(b"last week's workbook")

    done = _fravaer(
        "classify",
        export,
        "--all",
        "-o",
        target,
        limits={resource.RLIMIT_FSIZE: (2000, resource.RLIM_INFINITY)},
    )

    assert done.returncode == 74, done.stderr
    assert (
        done.stderr.splitlines()[-1] == f"fravaer: error: {target}: write failed (File too large)"
    )
    assert "Traceback" not in done.stderr
    assert "Exception ignored" not in done.stderr
    assert target.read_bytes() == b"last week's workbook"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


@pytest.mark.parametrize("command", ["site", "stats"])
def test_a_side_file_with_a_field_over_the_csv_limit_is_one_line_at_its_line(
    tmp_path: Path, command: str
) -> None:
    """A school names or reference file with a field over the ``csv`` module's size limit was an
    internal error (70); now it is bad input at its line, naming no value."""
    export = write_export(export_rows(), "csv", tmp_path / "export.csv")
    side = tmp_path / "side.csv"
    huge = "x" * 200_000
    if command == "site":
        side.write_text(f"school_id,name\n851001,Vestre\n851002,{huge}\n", encoding="utf-8")
        args = ["site", export, "-o", tmp_path / "out", "--school-names", side]
    else:
        side.write_text(
            f"period,measure,value,source\n2023/24,share_over_10,{huge},x\n", encoding="utf-8"
        )
        args = ["stats", export, "--reference", side, "-o", tmp_path / "s.csv"]

    done = _fravaer(*args, "--key-file", _key(tmp_path)) if command == "site" else _fravaer(*args)

    assert done.returncode == 65, done.stderr
    line = 3 if command == "site" else 2
    assert done.stderr.splitlines() == [
        f"fravaer: error: {side}:{line}: a field longer than 131,072 characters"
    ]


def test_a_quoted_line_break_does_not_shift_the_lines_of_a_school_names_file(
    tmp_path: Path,
) -> None:
    """Errors counted records, not lines: after a quoted line break (in a column fravaer does
    not read) every later error named the line before the real one."""
    names = tmp_path / "names.csv"
    names.write_text(
        'school_id,name,address\n851001,Vestre,"Vej 1\n8000 Aarhus"\n851002,=1+1,Vej 2\n',
        encoding="utf-8",
    )

    result = CliRunner().invoke(
        app,
        [
            "site",
            str(write_export(export_rows(), "csv", tmp_path / "e.csv")),
            "-o",
            str(tmp_path / "out"),
            "--school-names",
            str(names),
        ],
    )

    assert result.exit_code == 65, result.stderr
    assert result.stderr.startswith(f"fravaer: error: {names}:4:2 (column 'name'): ")


@pytest.mark.parametrize("day", ["9999-12-31", "9991-01-01", "0001-01-01", "1900-07-31"])
@pytest.mark.parametrize("command", ["site", "stats", "early-warning", "classify", "report"])
def test_an_as_of_date_beyond_what_every_command_can_use_is_a_usage_error(
    tmp_path: Path, command: str, day: str
) -> None:
    """``--as-of 9999-12-31`` was an internal error (70) in site, stats and early-warning (a
    school year or a horizon past the last date Python has); ``0001-01-01`` too."""
    export = write_export(export_rows(), "csv", tmp_path / "export.csv")
    if command == "report":
        config = tmp_path / "report.toml"
        config.write_text(
            f'output_folder = "out"\\n[inputs]\\npaths = ["{export.name}"]\\n'
            '[[outputs]]\\nkind = "classification"\\nfile = "c.csv"\\n',
            encoding="utf-8",
        )
        args = ["report", "--config", str(config)]
    else:
        args = [
            command,
            str(export),
            "-o",
            str(tmp_path / ("out" if command == "site" else "o.csv")),
        ]

    result = CliRunner().invoke(app, [*args, "--as-of", day])

    assert result.exit_code == 2, result.stderr
    assert result.stderr == "fravaer: error: --as-of must be a date from 1900-08-01 to 9990-12-31\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["export.csv", *(["report.toml"] if command == "report" else [])]
    )


def test_a_site_made_in_a_folder_every_user_can_write_in_is_warned_of(tmp_path: Path) -> None:
    """``classify -o /tmp/x.csv`` warned of the shared folder; ``site -o /tmp/side`` did not,
    though its folder's name is seen there and a link planted at it is followed."""
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o1777)
    export = write_export(export_rows(), "csv", tmp_path / "export.csv")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (shared / "planted").symlink_to(elsewhere)
    warning = (
        f"fravaer: warning: {shared}: every user of this machine can create files in this "
        "folder and see their names; keep pupil data in a private folder"
    )

    for name in ("side", "planted"):
        done = _fravaer("site", export, "-o", shared / name, "--key-file", _key(tmp_path))

        assert done.returncode == 0, done.stderr
        assert warning in done.stderr.splitlines(), name
