"""The library and the command line agree on every file under examples/.

For each example export, the library's path (``fravaer.read_export``, the as-of date of
``fravaer.asof.resolve_as_of``, then ``fravaer.classify`` with the bundled default policy and the
national quarter rule) gives exactly the rows that ``fravaer classify FILE --format csv`` prints,
every column, and the same warnings; or both refuse the file with the same error line and hint.
Files that are not exports are used the way the command line uses them: a ``source.toml`` with
the exports it describes (``--source``), a policy file with ``--policy`` on the demo export.

Every file under examples/ is either compared here or listed in ``NOT_COMPARED`` with a reason:
a new example file fails ``test_every_example_file_is_compared_or_listed`` until it is placed.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal
from typer.testing import CliRunner

from fravaer import classify, load_policy, read_export
from fravaer.asof import danish_date, resolve_as_of
from fravaer.cli import app
from fravaer.errors import FravaerError
from fravaer.ingest import SourceOptions
from fravaer.ingest.load import load_source
from fravaer.policy import DEFAULT_POLICY, NATIONAL_POLICY

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
DEMO = "demo-export.csv"
EXPORT_SUFFIXES = (".csv", ".txt", ".xlsx", ".parquet")


@dataclass(frozen=True)
class Case:
    """One way the command line reads example files: ``classify EXPORTS... *flags``."""

    exports: tuple[str, ...]  # relative to examples/; a glob stays a glob
    flags: tuple[str, ...] = ()
    source: str | None = None  # --source, relative to examples/
    policy: str | None = None  # --policy, relative to examples/
    sheet: str | None = None  # --sheet
    as_of: str | None = None  # --as-of (default: the latest date in the data, as the CLI's)
    include_left: bool = False
    uses: tuple[str, ...] = field(default=())  # other example files this case reads

    @property
    def id(self) -> str:
        parts = [*self.exports]
        if self.source:
            parts.append(f"--source {self.source}")
        if self.policy:
            parts.append(f"--policy {self.policy}")
        if self.sheet:
            parts.append(f"--sheet {self.sheet}")
        if self.as_of:
            parts.append(f"--as-of {self.as_of}")
        if self.include_left:
            parts.append("--include-left")
        return " ".join(parts)

    def args(self) -> list[str]:
        args = ["classify", *(str(EXAMPLES / e) for e in self.exports)]
        if self.source:
            args += ["--source", str(EXAMPLES / self.source)]
        if self.policy:
            args += ["--policy", str(EXAMPLES / self.policy)]
        if self.sheet:
            args += ["--sheet", self.sheet]
        if self.as_of:
            args += ["--as-of", self.as_of]
        if self.include_left:
            args.append("--include-left")
        return [*args, "--format", "csv"]

    def files(self) -> set[str]:
        named = {e for e in self.exports if "*" not in e} | set(self.uses)
        for pattern in (e for e in self.exports if "*" in e):
            named |= {p.relative_to(EXAMPLES).as_posix() for p in EXAMPLES.glob(pattern)}
        return named | {name for name in (self.source, self.policy) if name}


def example_files() -> list[str]:
    return sorted(p.relative_to(EXAMPLES).as_posix() for p in EXAMPLES.rglob("*") if p.is_file())


# Files read other than as an export of their own: how the command line uses them.
OTHER_CASES = [
    # source.toml beside its export: the shape, the roster and the calendar it names.
    Case(
        ("exports/absences.csv",),
        source="exports/absence-only.toml",
        uses=("exports/roster.csv", "exports/school-days.csv"),
    ),
    Case(
        ("exports/absences.csv",),
        source="exports/absence-only.toml",
        include_left=True,
        uses=("exports/roster.csv", "exports/school-days.csv"),
    ),
    Case(("exports/dialects/local-codes.csv",), source="exports/dialects/local-codes.toml"),
    # The data of the workbook is on its second sheet (docs/ingest.md).
    Case(("exports/dialects/register.xlsx",), sheet="Fravær"),
    # Several files at once, as docs/shapes.md shows them.
    Case(("exports/months/*.csv",)),
    Case(("exports/months/2024-02.csv", "exports/months/2024-03.csv")),
    # Lesson-level, pupils who left kept: as docs/shapes.md runs it, and as README's library
    # example does (as of 2024-03-05, where it asserts fake-0002's 54.2 %).
    Case(("exports/lessons.csv",), include_left=True),
    Case(("exports/lessons.csv",), as_of="2024-03-05", include_left=True),
    # An hours extract in Uddata+'s FGU form, with the category of its other absent hours
    # (docs/shapes.md#exports-in-hours).
    Case(("systems/uddata/z8503.csv",), source="systems/uddata/z8503.toml", include_left=True),
    # Data from other systems (docs/from-your-system.md): Ed-Fi attendance events with their
    # roster and calendar, and a daily P/A register with its columns and codes.
    Case(
        ("systems/ed-fi/attendance-events.csv",),
        source="systems/ed-fi/source.toml",
        # The sample is from 2021/22: a guideline in force then (the default warns that it
        # was not, and only the command line says so).
        policy="policies/aalborg-2019.toml",
        uses=("systems/ed-fi/roster.csv", "systems/ed-fi/school-days.csv"),
    ),
    Case(("systems/pa-register/register.csv",), source="systems/pa-register/source.toml"),
    Case(
        ("systems/contoso-sis/studentattendance.csv",),
        source="systems/contoso-sis/source.toml",
        policy="policies/aalborg-2019.toml",  # the data is from 2019/20, as for Ed-Fi
    ),
    # Policy files: --policy on the demo export (the bad ones are refused alike).
    *(
        Case((DEMO,), policy=name)
        for name in example_files()
        if name.startswith("policies/") and name.endswith(".toml")
    ),
]

# Files that are no export and no input of classify, with the reason and where they are tested.
NOT_COMPARED = {
    "stats/own-reference.csv": "national reference figures for `stats --reference`, not an "
    "export (tests/test_stats_cli.py)",
    "pseudonymize/demo-key-never-for-real-data.txt": "a key file that fravaer refuses, not an "
    "export (tests/test_pseudonymize.py)",
    "report/report.toml": "a report.toml runs classify, escalate and meeting notes into a folder; "
    "its export ../demo-export.csv is compared here, the run in tests/test_report.py",
    "report/bad-key.toml": "a report.toml refused for its mistyped key (tests/test_report.py)",
    "report/weekly.toml": "a report.toml of every kind, split by school; its export "
    "../demo-export.csv is compared here, the run in docs/report.md's session",
    "cron/fravaer-report-cron": "the cron wrapper of docs/cron.md, a shell script "
    "(tests/test_report_cron.py)",
}

# The roster and the calendar of an absence-only export are read through its source.toml.
READ_THROUGH = {name for case in OTHER_CASES for name in case.uses}
EXPORT_CASES = [
    Case((name,))
    for name in example_files()
    if name.endswith(EXPORT_SUFFIXES) and name not in NOT_COMPARED and name not in READ_THROUGH
]
CASES = EXPORT_CASES + OTHER_CASES


@pytest.fixture
def library_log() -> Iterator[list[str]]:
    """The library's log lines as the command line prints them (warnings and worse)."""
    lines: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if record.levelno >= logging.WARNING:
                lines.append(f"fravaer: {record.levelname.lower()}: {record.getMessage()}")

    logger = logging.getLogger("fravaer")
    saved = logger.handlers[:], logger.level, logger.propagate
    logger.handlers[:] = [Collect()]
    logger.setLevel(logging.INFO)
    logger.propagate = False
    yield lines
    logger.handlers[:], level, logger.propagate = saved
    logger.setLevel(level)


def through_the_library(case: Case) -> pl.DataFrame | FravaerError:
    """What a library user writes: read, pick the as-of date as the CLI does, classify; or the
    error that stops it."""
    try:
        options = load_source(EXAMPLES / case.source) if case.source else SourceOptions()
        if case.sheet:
            options = options.model_copy(update={"sheet": case.sheet})
        policy = load_policy(str(EXAMPLES / case.policy) if case.policy else DEFAULT_POLICY)
        exports = [str(EXAMPLES / e) for e in case.exports]
        frame = read_export(exports, options)
        today = danish_date(datetime.now(UTC))
        given = date.fromisoformat(case.as_of) if case.as_of else None
        as_of = resolve_as_of(
            frame, given=given, today=today, where=exports[0], holidays=options.holiday_country
        )
        national = load_policy(NATIONAL_POLICY)
        return classify(
            frame, policy=policy, national=national, as_of=as_of, include_left=case.include_left
        ).collect()
    except FravaerError as exc:
        return exc


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_the_library_and_classify_give_the_same_rows(case: Case, library_log: list[str]) -> None:
    expected = through_the_library(case)  # first: the CLI replaces the log's handler

    result = CliRunner().invoke(app, case.args())

    cli_lines = result.stderr.splitlines()
    if isinstance(expected, FravaerError):
        refusal = [f"fravaer: error: {expected.message}"]
        if expected.hint:
            refusal.append(f"fravaer: hint: {expected.hint}")
        assert result.exit_code == expected.exit_code, result.output
        assert result.stdout == ""
        assert cli_lines == library_log + refusal
    else:
        assert result.exit_code == 0, result.output
        assert expected.height > 0, "an empty classification would prove nothing"
        got = pl.read_csv(io.StringIO(result.stdout), schema=expected.schema)
        assert_frame_equal(got, expected)
        assert cli_lines[:-1] == library_log
        assert cli_lines[-1].startswith(f"fravaer: classified {expected.height} pupil(s) as of ")


def test_every_example_file_is_compared_or_listed() -> None:
    compared = set().union(*(case.files() for case in CASES))
    listed = set(NOT_COMPARED)

    assert sorted(set(example_files()) - compared - listed) == []
    assert sorted(listed & compared) == []
    assert sorted(listed - set(example_files())) == []


def test_the_files_a_source_names_are_the_ones_it_reads() -> None:
    """The roster and the calendar listed as read through absence-only.toml really are."""
    options = load_source(EXAMPLES / "exports" / "absence-only.toml")

    assert options.roster == EXAMPLES / "exports" / "roster.csv"
    assert options.calendar is not None
    assert options.calendar.file == EXAMPLES / "exports" / "school-days.csv"
