"""Children's-data canaries (docs/privacy.md): recognisable fake ids, CPR numbers and names.

The fixture export carries a pupil id ``CANARY-0101``, a CPR number ``010101-4000`` as another
pupil's id, and a name and a remark column full of ``Kanariefugl``. Every command that reads
exports runs on it, succeeding and failing; afterwards no canary may be found on stderr (the log),
in a manifest, a state file, the statistics-like outputs (``inspect``, ``check``,
``pseudonymize`` and any command not known to list pupils), and the name and remark never
anywhere. Ids may appear only in outputs meant to list pupils.
"""

from __future__ import annotations

import errno
import json
import os
from datetime import date, timedelta
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from fravaer.cli import app
from fravaer.output import STAGE_SUFFIX
from tests.harden import COMMANDS, ERROR, PUPIL, READERS, Invocation, option_names

CANARY_ID = "CANARY-0101"
CANARY_CPR = "010101-4000"
NAME = "Kanariefugl"
IDS = (CANARY_ID, CANARY_CPR, "0101014000", "101014000", "CANARY")
NAMES = (NAME, "Testesen", "ringede")

LISTS_PUPILS = {"classify", "explain", "escalate", "trend", "patterns", "early-warning", "site"}
"""Commands whose output is a list of pupils, so ids may appear in it (never names)."""


DAYS = [date(2024, 2, 5) + timedelta(days=i) for i in range(42)]
DAYS = [d for d in DAYS if d.weekday() < 5 and not date(2024, 2, 12) <= d <= date(2024, 2, 16)]


def canary_export(*, extra: str = "") -> str:
    """A Danish ``;`` export of 25 school days: the canary pupil at step 3, the CPR pupil at 2."""
    lines = ["elevnummer;navn;skole;dato;fraværskode;klasse;bemærkning"]
    pupils = [
        (CANARY_ID, f"{NAME} Testesen", 3),  # absent every third day: 33 %
        (CANARY_CPR, f"{NAME} Andersen", 7),  # every seventh: 16 % of 25 days
        (PUPIL, "Anna Jensen", 0),  # the pupil `explain --pupil` asks for
    ]
    for pupil, name, every in pupils:
        for i, day in enumerate(DAYS):
            absent = every and i % every == 0
            code = "S" if absent else "M"
            remark = f"{NAME} ringede" if absent else ""
            lines.append(f"{pupil};{name};851001;{day.isoformat()};{code};5.A;{remark}")
    return "\n".join(lines) + "\n" + extra


def found(text: str, words: tuple[str, ...]) -> list[str]:
    return [w for w in words if w in text]


def files_under(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes().decode("utf-8", "replace")
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def binary_text(path: Path) -> str:
    """A Parquet or xlsx output's cells as text (xlsx is zipped; Parquet may compress)."""
    if path.suffix == ".parquet":
        import polars as pl

        return pl.read_parquet(path).write_csv()
    if path.suffix == ".xlsx":
        import polars as pl

        sheets = pl.read_excel(path, sheet_id=0)
        return "\n".join(frame.write_csv() for frame in sheets.values())
    return path.read_bytes().decode("utf-8", "replace")


@pytest.fixture
def export(tmp_path: Path) -> Path:
    path = tmp_path / "eksport.csv"
    path.write_text(canary_export(), encoding="utf-8")
    return path


def test_the_commands_that_list_pupils_are_registered() -> None:
    """A renamed command leaves this hand set: its outputs would be checked for no ids at all."""
    assert sorted(LISTS_PUPILS - set(COMMANDS)) == []


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_a_succeeding_run_keeps_canaries_out_of_the_log_and_statistics(
    export: Path, command: str
) -> None:
    run = Invocation(command, export, export.parent / "out")

    result = run.run()

    assert result.exit_code == 0, result.stderr
    assert found(result.stderr, IDS + NAMES) == []
    written = run.written()
    assert written
    for name in written:
        text = binary_text(run.out / name)
        assert found(text, NAMES) == [], (name, "names and remarks never leave ingest")
        if command not in LISTS_PUPILS:
            assert found(text, IDS) == [], (command, name)
    if command in LISTS_PUPILS - {"explain", "trend", "early-warning"}:
        # The canary pupil is at step 3: a list of pupils that misses it would prove nothing.
        # (explain and trend show the one pupil asked for; early warning those below step 1.)
        assert any(CANARY_ID in binary_text(run.out / n) for n in written), command


def test_pseudonymized_output_holds_neither_ids_nor_cpr_numbers(export: Path) -> None:
    run = Invocation("pseudonymize", export, export.parent / "out")

    result = run.run()

    assert result.exit_code == 0, result.stderr
    text = binary_text(run.out / run.written()[0])
    assert found(text, IDS + NAMES) == []
    assert text.count("\n") == 3 * len(DAYS) + 1


REPORT = """\
output_folder = "out"
state = "state/state.json"

[inputs]
paths = ["eksport.csv"]

[[outputs]]
kind = "classification"
file = "klassifikation-{as_of}.csv"

[[outputs]]
kind = "escalations"
file = "eskaleringer.csv"
format = "csv"

[[outputs]]
kind = "meeting_notes"
folder = "moeder"

[[outputs]]
kind = "stats"
file = "statistik.csv"
suppression = false

[[outputs]]
kind = "early_warning"
split_by = "school"
file = "{school}/tidlig.csv"

[[outputs]]
kind = "site"
folder = "side"
"""


def test_report_keeps_canaries_out_of_manifest_state_and_summary(export: Path) -> None:
    config = export.parent / "report.toml"
    config.write_text(REPORT, encoding="utf-8")

    dry = CliRunner().invoke(app, ["report", "--config", str(config), "--dry-run"])
    result = CliRunner().invoke(app, ["report", "--config", str(config)])

    assert dry.exit_code == 0, dry.stderr
    assert "would write 4 file(s) in" in dry.stderr  # two pupils at step 2 or higher
    assert "would write 3 file(s) in" in dry.stderr  # the site's school page and two pupils'

    assert found(dry.stderr, IDS + NAMES) == []
    assert result.exit_code == 0, result.stderr
    assert result.stderr.startswith("fravaer: report as of ")
    assert found(result.stderr, IDS + NAMES) == []
    out = files_under(export.parent / "out")
    manifest = out.pop("manifest.json")
    assert found(manifest, IDS + NAMES) == []
    assert json.loads(manifest)["outputs"]
    status = out.pop(".fravaer-report.status.json")
    assert found(status, IDS + NAMES) == []
    assert json.loads(status)["outcome"] == "ok"
    assert found(out.pop("statistik.csv"), IDS + NAMES) == []
    state = (export.parent / "state" / "state.json").read_text(encoding="utf-8")
    assert found(state, IDS + NAMES) == []
    for name, text in out.items():
        assert found(text, NAMES) == [], name
    # The lists are meant to list pupils: the canary pupil (step 3) is in them, by id.
    assert CANARY_ID in out["eskaleringer.csv"]
    # A meeting sheet holds the id inside; no file or folder name holds it (a token instead).
    assert any(f"**Elev:** {CANARY_ID}" in text for name, text in out.items() if "moeder/" in name)
    assert found("\n".join(names_under(export.parent)), IDS) == []


def names_under(folder: Path) -> list[str]:
    """Every file and folder name under ``folder``, hidden ones included."""
    return [p.relative_to(folder).as_posix() for p in sorted(folder.rglob("*"))]


def _escalate_with_sheets(export: Path, *extra: str) -> list[str]:
    out = export.parent / "out"
    return [
        "escalate",
        str(export),
        "--since",
        DAYS[-6].isoformat(),
        "-o",
        str(out / "lister"),
        "--split-by",
        "school",
        "--meeting-notes",
        str(out / "moeder"),
        *extra,
    ]


def test_no_file_or_folder_name_holds_an_id(export: Path) -> None:
    state = export.parent / "out" / "state.json"
    by_since = CliRunner().invoke(app, _escalate_with_sheets(export))
    notes = export.parent / "out" / "moeder2"
    by_state = CliRunner().invoke(
        app, ["escalate", str(export), "--state", str(state), "--meeting-notes", str(notes)]
    )

    assert by_since.exit_code == by_state.exit_code == 0, by_since.stderr + by_state.stderr
    names = names_under(export.parent / "out")
    assert len([n for n in names if n.endswith(".md")]) == 4  # two pupils, two runs
    assert found("\n".join(names), IDS) == []
    assert found(by_since.stderr + by_state.stderr, IDS + NAMES) == []


def test_a_full_disk_on_a_meeting_sheet_names_the_folder_and_a_count(
    export: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The error line of a failed sheet names its folder and counts; the sheet's name (token)
    and the pupil's id never appear (cron mail, the journal)."""
    args = _escalate_with_sheets(export)
    assert CliRunner().invoke(app, args).exit_code == 0
    sheets = [n for n in names_under(export.parent / "out" / "moeder") if not n.startswith(".")]
    real_write = os.write

    def write(fd: int, data: bytes) -> int:
        target = os.readlink(f"/proc/self/fd/{fd}")
        if f"{STAGE_SUFFIX}/" in target and target.endswith(".md"):  # a sheet being staged
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_write(fd, data)

    monkeypatch.setattr(os, "write", write)
    result = CliRunner().invoke(app, args)
    monkeypatch.undo()

    assert result.exit_code == 74, result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith(ERROR)]
    folder = export.parent / "out" / "moeder"
    assert errors == [
        f"{ERROR}{folder}: 1 of {len(sheets)} file(s): write failed (No space left on device)"
    ]
    assert found(result.stderr, IDS + NAMES) == []
    for sheet in sheets:
        assert Path(sheet).stem not in result.stderr


def test_escalate_state_file_holds_no_ids(export: Path) -> None:
    state = export.parent / "state.json"
    out = export.parent / "eskaleringer.csv"
    args = ["escalate", str(export), "--state", str(state), "-o", str(out)]

    first = CliRunner().invoke(app, [*args, "--as-of", "2024-03-01"])
    second = CliRunner().invoke(app, args)

    assert first.exit_code == 0, first.stderr
    assert second.exit_code == 0, second.stderr
    assert found(state.read_text(encoding="utf-8"), IDS + NAMES) == []
    assert found(first.stderr + second.stderr, IDS + NAMES) == []


FAULTS = {
    # name: (an extra row that breaks the export, the exit code)
    "unknown-code-of-the-canary": (f"{CANARY_ID};{NAME} Testesen;851001;2024-03-15;Q;5.A;x\n", 65),
    "conflicting-row-of-the-cpr-pupil": (
        f"{CANARY_CPR};{NAME} Andersen;851001;{DAYS[0].isoformat()};S;5.B;{NAME}\n",
        65,
    ),
    "impossible-date-of-the-canary": (
        f"{CANARY_ID};{NAME} Testesen;851001;2024-02-30;S;5.A;{NAME} ringede\n",
        65,
    ),
    "code-that-is-a-name": (f"0000001;Anna;851001;2024-03-15;{NAME} Testesen;5.A;\n", 65),
    "code-that-is-a-cpr-number": (f"0000001;Anna;851001;2024-03-15;{CANARY_CPR};5.A;\n", 65),
    "short-row-of-the-canary": (f"{CANARY_ID};{NAME} Testesen;851001\n", 65),
    # Text that a spreadsheet would run or that hides characters is refused, never echoed.
    "formula-class-name": (
        f'0000001;Anna;851001;2024-03-15;M;"=HYPERLINK(""{CANARY_CPR}"")";x\n',
        65,
    ),
    "zero-width-space-in-the-canary-id": (
        f"{CANARY_ID}\u200b;{NAME};851001;2024-03-15;M;5.A;x\n",
        65,
    ),
    "escape-sequence-in-the-cpr-id": (f"{CANARY_CPR}\x1b[2J;{NAME};851001;2024-03-15;M;5.A;\n", 65),
}


@pytest.mark.parametrize("fault", list(FAULTS))
@pytest.mark.parametrize("command", READERS)
def test_a_failing_run_keeps_canaries_out_of_the_log(
    tmp_path: Path, command: str, fault: str
) -> None:
    extra, exit_code = FAULTS[fault]
    export = tmp_path / "eksport.csv"
    export.write_text(canary_export(extra=extra), encoding="utf-8")
    run = Invocation(command, export, tmp_path / "out")

    result = run.run()

    if command == "check" and fault.startswith("conflicting"):
        assert result.exit_code == 65  # check reports it, then refuses to vouch for the numbers
        for name in run.written():
            assert found((run.out / name).read_text(encoding="utf-8"), IDS + NAMES) == []
    else:
        assert result.exit_code == exit_code, result.stderr
        assert run.written() == []
    assert [line for line in result.stderr.splitlines() if line.startswith(ERROR)]
    assert found(result.stderr, IDS + NAMES) == []
    assert found(run.status(), IDS + NAMES) == []
    if command == "report":
        assert f'"exit_code": {result.exit_code}' in run.status()


def test_explain_of_an_unknown_pupil_does_not_echo_the_id(export: Path) -> None:
    args = ["explain", str(export), "--pupil", "CANARY-9999", "--format", "csv"]

    result = CliRunner().invoke(app, args)

    assert result.exit_code == 2
    assert [line for line in result.stderr.splitlines() if line.startswith(ERROR)] == [
        f"{ERROR}no rows for that pupil on or before the as-of date"
    ]
    assert found(result.stderr, ("CANARY",)) == []


def test_the_fixture_is_read_as_meant(export: Path) -> None:
    """The canary pupil is at step 3 and the CPR pupil at step 2, so the lists hold them."""
    result = CliRunner().invoke(app, ["classify", str(export), "--format", "csv"])

    assert result.exit_code == 0, result.stderr
    steps = {line.split(",")[0]: line.split(",")[13] for line in result.stdout.splitlines()[1:]}
    assert steps[CANARY_ID] == "3"
    assert steps[CANARY_CPR] == "2"
    assert steps[PUPIL] == "0"


FUTURE_AND_WEEKEND = (
    f"{CANARY_ID};{NAME} Testesen;851001;2204-03-08;S;5.A;{NAME} ringede\n"
    f"CANARY-0202;{NAME} Weekend;851001;2024-03-02;M;5.A;\n"
    f"CANARY-0202;{NAME} Weekend;851001;2024-03-03;M;5.A;\n"
)


@pytest.mark.parametrize("command", READERS)
def test_the_as_of_warnings_count_and_never_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: str
) -> None:
    """A row dated after the run's day and a pupil only on weekends: warned of by count."""
    monkeypatch.setattr("fravaer.cli.setup.today", lambda: date(2026, 12, 7))
    export = tmp_path / "eksport.csv"
    export.write_text(canary_export(extra=FUTURE_AND_WEEKEND), encoding="utf-8")
    run = Invocation(command, export, tmp_path / "out")

    result = run.run()

    assert result.exit_code == 0, result.stderr
    assert found(result.stderr, IDS + NAMES) == []
    takes_as_of = command == "report" or "as_of" in option_names(command)
    warnings = [line for line in result.stderr.splitlines() if "warning" in line]
    expected = [
        "fravaer: warning: 1 row(s) dated after today (2026-12-07), the latest 2204-03-08, are "
        "left out; give --as-of to include them",
        "fravaer: warning: 1 pupil(s) have rows only on Saturdays, Sundays or public holidays: "
        "no school day, so they look as if they had left (fravaer check lists the rows)",
    ]
    assert [w for w in warnings if w in expected] == (expected if takes_as_of else [])


def canary_workbook(path: Path) -> Path:
    """The canary export as an xlsx whose data sheet is named after the CPR pupil, first of two."""
    import xlsxwriter

    book = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False})
    data = book.add_worksheet(CANARY_CPR)
    for r, line in enumerate(canary_export().splitlines()):
        for c, cell in enumerate(line.split(";")):
            data.write_string(r, c, cell)
    book.add_worksheet("Forside").write_string(0, 0, "Fravær")
    book.close()
    return path


@pytest.mark.parametrize("command", READERS)
def test_a_sheet_named_after_a_pupil_is_shown_by_its_position(tmp_path: Path, command: str) -> None:
    run = Invocation(command, canary_workbook(tmp_path / "eksport.xlsx"), tmp_path / "out")

    result = run.run()

    assert result.exit_code == 0, result.stderr
    assert found(result.stderr, IDS) == []
    for name in run.written():
        lists_pupils = command in LISTS_PUPILS or (command, name) == ("report", "result.csv")
        if not lists_pupils:
            assert found(binary_text(run.out / name), IDS) == [], (command, name)


@pytest.mark.parametrize("command", READERS)
def test_a_missing_sheet_lists_the_sheets_without_a_pupils_name(
    tmp_path: Path, command: str
) -> None:
    export = canary_workbook(tmp_path / "eksport.xlsx")
    run = Invocation(command, export, tmp_path / "out", options={"sheet": "Ark9"})

    result = run.run()

    assert result.exit_code == 65, result.stderr
    assert found(result.stderr, IDS) == []
    assert "the sheets are: sheet 1, Forside;" in result.stderr


def test_inspect_names_a_sheet_named_after_a_pupil_by_its_position(tmp_path: Path) -> None:
    export = canary_workbook(tmp_path / "eksport.xlsx")

    result = CliRunner().invoke(app, ["inspect", str(export), "--format", "json"])

    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["files"][0]["sheet"] == "sheet 1"
    assert found(result.stdout + result.stderr, IDS) == []


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_inspect_does_not_show_a_cpr_shaped_column_name(tmp_path: Path, suffix: str) -> None:
    """A dropped column whose header could be an id is shown as ``column N``, as a sheet named
    after a pupil is shown as ``sheet N`` (docs/privacy.md#sheet-and-column-names)."""
    text = canary_export().replace("bemærkning", CANARY_CPR, 1)
    export = tmp_path / f"eksport{suffix}"
    if suffix == ".csv":
        export.write_text(text, encoding="utf-8")
    else:
        rows = [line.split(";") for line in text.splitlines()]
        header = ["pupil_id", "navn", "school_id", "date", "category", "class_name", CANARY_CPR]
        frame = pl.DataFrame(rows[1:], schema=header, orient="row")
        frame = frame.with_columns(pl.col("category").replace({"S": "illness", "M": "present"}))
        frame.write_parquet(export)

    result = CliRunner().invoke(app, ["inspect", str(export), "--format", "json"])

    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["files"][0]["dropped_columns"] == ["navn", "column 7"]
    assert found(result.stdout + result.stderr, IDS) == []
