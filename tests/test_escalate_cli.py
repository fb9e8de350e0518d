"""`fravaer escalate` on the command line: the contract, the state file and its refusals."""

from __future__ import annotations

import io
import json
import os
import stat
import time
from pathlib import Path

import filelock
import polars as pl
import pytest
from fastexcel import read_excel
from typer.testing import CliRunner, Result

from fravaer.cli import app
from fravaer.escalate import ESCALATE_COLUMNS
from fravaer.pseudonymize import pupil_token

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "examples" / "demo-export.csv"
CONTRACT = (
    "pupil_id,school_id,class_name,grade,previous_step,step,absence_pct,window_start,window_end,"
    "illness_days,leave_days,unlawful_days,quarter_unlawful_pct,quarter_flag,"
    "previous_quarter_flag,responsible,actions"
)


def run(*args: object) -> Result:
    return CliRunner().invoke(app, ["escalate", *(str(a) for a in args)])


def frame(text: str) -> pl.DataFrame:
    return pl.read_csv(io.StringIO(text), infer_schema=False)


def test_csv_carries_the_contract_columns_first() -> None:
    result = run(DEMO, "--since", "2024-02-23", "--format", "csv")

    assert result.exit_code == 0, result.output
    header = result.stdout.splitlines()[0]
    assert header.startswith(CONTRACT + ",")
    assert header.split(",") == list(ESCALATE_COLUMNS)
    rows = frame(result.stdout)
    assert set(rows["change"]) == {"escalation", "improvement"}
    assert (rows["reference_as_of"] == "2024-02-23").all()
    assert result.stderr.startswith("fravaer: ")
    assert not any(pupil in result.stderr for pupil in rows["pupil_id"])


def test_since_agrees_with_classify_at_both_dates() -> None:
    def steps(day: str) -> dict[str, str | None]:
        out = CliRunner().invoke(
            app, ["classify", str(DEMO), "--as-of", day, "--include-left", "--format", "csv"]
        )
        return dict(frame(out.stdout).select("pupil_id", "step").rows())

    before, after = steps("2024-02-23"), steps("2024-03-08")
    rows = frame(run(DEMO, "--since", "2024-02-23", "--format", "csv").stdout)

    columns = (
        "pupil_id",
        "previous_step",
        "step",
        "change",
        "quarter_flag",
        "previous_quarter_flag",
    )
    for pupil, previous, step, change, flag, previous_flag in rows.select(columns).rows():
        assert (previous, step) == (before[pupil], after[pupil])
        if change == "improvement":
            assert int(step) < int(previous)
        else:
            assert int(step) > int(previous or 0) or flag != previous_flag
    risen = {p for p, s in after.items() if s and before.get(p) and int(s) > int(before[p] or 0)}
    assert risen <= set(rows.filter(pl.col("change") == "escalation")["pupil_id"])


@pytest.mark.parametrize(
    "args",
    [
        ("--format", "csv"),
        ("--since", "2024-02-23", "--state", "s.json", "--format", "csv"),
    ],
)
def test_since_or_state_is_required_but_not_both(args: tuple[str, ...]) -> None:
    result = run(DEMO, *args)

    assert result.exit_code == 2
    assert result.stderr == "fravaer: error: give either --since YYYY-MM-DD or --state PATH\n"


def test_since_must_come_before_the_as_of_date() -> None:
    result = run(DEMO, "--since", "2024-03-08", "--format", "csv")

    assert result.exit_code == 2
    assert result.stderr == "fravaer: error: --since must be before the as-of date 2024-03-08\n"


def test_the_state_reports_an_escalation_once_and_a_rerun_gives_the_same_bytes(
    tmp_path: Path,
) -> None:
    state = tmp_path / "state.json"
    first = run(DEMO, "--state", state, "--as-of", "2024-03-01", "--format", "csv")
    assert first.exit_code == 0, first.output
    assert "no earlier run in the state file" in first.stderr
    assert frame(first.stdout)["previous_step"].null_count() == frame(first.stdout).height

    second = run(DEMO, "--state", state, "--format", "csv")
    after_second = state.read_bytes()
    again = run(DEMO, "--state", state, "--format", "csv")

    assert second.exit_code == again.exit_code == 0
    assert again.stdout == second.stdout
    assert state.read_bytes() == after_second
    assert [r["as_of"] for r in json.loads(after_second)["runs"]] == ["2024-03-01", "2024-03-08"]
    week = frame(second.stdout)
    assert (week["reference_as_of"] == "2024-03-01").all()
    # Against a --since of the same date, the same list (pupils who left aside).
    since = frame(run(DEMO, "--since", "2024-03-01", "--format", "csv").stdout)
    keep = ["pupil_id", "previous_step", "step", "change"]
    assert week.select(keep).rows() == since.select(keep).rows()
    assert stat.S_IMODE(state.stat().st_mode) == 0o600


def test_a_state_from_a_newer_fravaer_is_refused_and_left_alone(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    text = '{"format": "fravaer-escalate-state", "version": 99, "runs": []}'
    state.write_text(text)
    output = tmp_path / "e.csv"

    result = run(DEMO, "--state", state, "-o", output)

    assert result.exit_code == 65
    assert result.stdout == ""
    assert "state file version 99 is newer than this fravaer reads (2)" in result.stderr
    assert state.read_text() == text
    assert not output.exists()


def test_a_second_run_on_a_state_in_use_exits_75_and_changes_nothing(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    assert run(DEMO, "--state", state, "--as-of", "2024-03-01", "--format", "csv").exit_code == 0
    recorded = state.read_bytes()
    output = tmp_path / "e.csv"

    with filelock.FileLock(tmp_path / "state.json.lock").acquire(timeout=1):
        started = time.monotonic()
        result = run(DEMO, "--state", state, "-o", output)
        elapsed = time.monotonic() - started

    assert result.exit_code == 75, result.output
    assert "state.json.lock: another run holds the lock" in result.stderr
    assert elapsed < 5
    assert state.read_bytes() == recorded
    assert not output.exists()
    assert stat.S_IMODE((tmp_path / "state.json.lock").stat().st_mode) == 0o600


def test_state_step_above_the_policy_is_refused(tmp_path: Path) -> None:
    """A forged step 9 under aalborg-2023 (whose steps end at 3) would make every real
    escalation an improvement: a step above the recorded policy's highest is refused (65)."""
    state = tmp_path / "state.json"
    first = run(DEMO, "--state", state, "--as-of", "2024-03-01", "--format", "csv")
    assert first.exit_code == 0, first.output
    data = json.loads(state.read_text())
    pupils = data["runs"][0]["pupils"]
    data["runs"][0]["pupils"] = {key: [9, "none"] for key in pupils}
    state.write_text(json.dumps(data))
    state.chmod(0o600)
    recorded = state.read_bytes()
    output = tmp_path / "e.csv"

    result = run(DEMO, "--state", state, "-o", output)

    assert result.exit_code == 65, result.output
    assert result.stderr.startswith(
        f"fravaer: error: {state}: the run of 2024-03-01 records a step above 3, "
        "the highest of policy aalborg-2023\n"
    )
    assert not output.exists()
    assert state.read_bytes() == recorded
    rows = frame(first.stdout)
    assert not any(pupil in result.stderr for pupil in rows["pupil_id"])


def test_a_state_in_a_missing_folder_is_refused_before_any_work(tmp_path: Path) -> None:
    result = run(DEMO, "--state", tmp_path / "no" / "state.json", "--format", "csv")

    assert result.exit_code == 73
    assert result.stdout == ""
    assert "state.json: the folder does not exist" in result.stderr
    assert not (tmp_path / "no").exists()


def test_split_by_school_writes_one_private_file_per_school(tmp_path: Path) -> None:
    folder = tmp_path / "lists"
    result = run(DEMO, "--since", "2024-02-23", "--split-by", "school", "-o", folder)

    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in folder.iterdir())
    assert names == [
        f"escalations-{school}-2024-03-08.xlsx" for school in ("851001", "851002", "851003")
    ]
    for path in folder.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        sheets = read_excel(path).sheet_names
        assert sheets == ["Eskaleringer", "Forbedringer"]
    workbook = read_excel(folder / names[0])
    up = workbook.load_sheet("Eskaleringer").to_polars()
    assert up.columns[:6] == ["Elev", "Skole", "Klasse", "Klassetrin", "Før trin", "Trin"]
    assert "Handlinger" in up.columns
    assert set(up["Skole"]) == {"851001"}


def test_split_by_school_needs_a_folder() -> None:
    result = run(DEMO, "--since", "2024-02-23", "--split-by", "school")

    assert result.exit_code == 2
    assert result.stderr == (
        "fravaer: error: --split-by school writes one file per school: give -o FOLDER, not -\n"
    )


def test_english_sheets_and_headings(tmp_path: Path) -> None:
    output = tmp_path / "e.xlsx"
    result = run(DEMO, "--since", "2024-02-23", "-o", output, "--lang", "en")

    assert result.exit_code == 0, result.output
    workbook = read_excel(output)
    assert workbook.sheet_names == ["Escalations", "Improvements"]
    assert workbook.load_sheet("Escalations").to_polars().columns[4:6] == ["Step before", "Step"]


def test_meeting_notes_for_every_pupil_at_step_2_or_higher(tmp_path: Path) -> None:
    notes = tmp_path / "notes"
    result = run(DEMO, "--since", "2024-02-23", "--meeting-notes", notes, "--format", "csv")
    classified = frame(CliRunner().invoke(app, ["classify", str(DEMO), "--format", "csv"]).stdout)

    assert result.exit_code == 0, result.output
    at_2 = classified.filter(pl.col("step").cast(pl.Int8) >= 2)
    key = bytes.fromhex((notes / ".fravaer-token.key").read_text())
    expected = {
        f"{school}-{pupil_token(key, pupil)}-2024-03-08"
        for pupil, school in at_2.select("pupil_id", "school_id").rows()
    }
    assert {p.stem for p in notes.glob("*.md")} == expected
    assert {p.stem for p in notes.glob("*.html")} == expected
    text = next(notes.glob("*.md")).read_text()
    assert text.startswith("# Mødeark om fravær")
    assert "### 3. Hvad skal der ske?" in text


NAMES = ROOT / "examples" / "site" / "school-names.csv"


def test_meeting_sheets_name_the_school_with_school_names(tmp_path: Path) -> None:
    """With --school-names the sheets name the school as the site's dossier does, by its name
    and id, whatever the list's format; the csv list keeps its contract columns."""
    notes = tmp_path / "notes"
    args = (DEMO, "--since", "2024-02-23", "--format", "csv", "--school-names", NAMES)
    result = run(*args, "--meeting-notes", notes)

    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0].startswith(CONTRACT)
    named = {"851001": "Vestre Skole", "851002": "Østre Skole", "851003": "Nordre Skole"}
    sheets = sorted(notes.glob("*.md"))
    assert len(sheets) > 30
    for sheet in sheets:
        school = sheet.name[:6]
        shown = f"{named[school]} ({school})"
        assert f"- **Skole:** {shown}\n" in sheet.read_text(encoding="utf-8")
        page = sheet.with_suffix(".html").read_text(encoding="utf-8")
        assert f"<dd>{shown}</dd>" in page
    without = run(*args)
    assert without.exit_code == 2
    assert "--school-names names the schools in xlsx" in without.stderr


def test_a_sheet_names_the_school_leader_when_the_quarter_rule_flags_the_pupil(
    tmp_path: Path,
) -> None:
    """0000128, at step 3, is to be reported to the municipality on 31 January: the sheet
    names the quarter rule's role beside the step's, as the site's list of the school does."""
    notes = tmp_path / "notes"
    result = run(
        DEMO, "--as-of", "2024-01-31", "--since", "2024-01-05", "--format", "csv",
        "--meeting-notes", notes,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    sheet = next(p for p in notes.glob("*.md") if "- **Elev:** 0000128\n" in p.read_text())
    assert "- **Ansvarlig:** Tovholder, Skolelederen\n" in sheet.read_text()
    others = [p for p in notes.glob("*.md") if "- **Ansvarlig:** Tovholder\n" in p.read_text()]
    assert len(others) > 20


# -- file names: the pupil's token, never the id; school ids apart where case is ignored ----------

SMALL_PUPILS = [f"{i:07d}" for i in [*range(1, 41), *range(170, 200)]]


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """70 pupils of the example; its schools 851001 and 851002 renamed ``ABC`` and ``abc``."""
    raw = pl.read_csv(DEMO, infer_schema=False).filter(pl.col("pupil_id").is_in(SMALL_PUPILS))
    renamed = raw.with_columns(pl.col("school_id").replace({"851001": "ABC", "851002": "abc"}))
    path = tmp_path_factory.mktemp("small") / "export.csv"
    renamed.write_csv(path)
    return path


def names_under(folder: Path) -> list[str]:
    return [p.relative_to(folder).as_posix() for p in sorted(folder.rglob("*"))]


def test_meeting_sheets_are_named_by_a_stable_token_never_by_the_id(
    tmp_path: Path, small: Path
) -> None:
    notes = tmp_path / "moeder"

    first = run(small, "--since", "2024-02-23", "--meeting-notes", notes, "--format", "csv")
    names = names_under(notes)
    again = run(small, "--since", "2024-02-23", "--meeting-notes", notes, "--format", "csv")

    assert first.exit_code == again.exit_code == 0, first.output
    key_path = notes / ".fravaer-token.key"
    assert stat.S_IMODE(key_path.stat().st_mode) == 0o600
    key = bytes.fromhex(key_path.read_text().strip())
    assert len(key) == 32
    sheets = [n for n in names if n.endswith(".md")]
    assert len(sheets) > 3
    for name in names:
        assert not any(pupil in name for pupil in SMALL_PUPILS), name
    assert names_under(notes) == names  # the same names the next run: the key was kept
    for sheet in sheets:
        pupil = next(p for p in SMALL_PUPILS if f"**Elev:** {p}\n" in (notes / sheet).read_text())
        school, token = sheet.removesuffix("-2024-03-08.md").rsplit("-", 1)
        assert token == pupil_token(key, pupil)
        assert school in ("ABC-b5d4045c", "abc", "851003")


def test_with_a_state_the_token_key_lives_beside_it_and_key_file_overrides(
    tmp_path: Path, small: Path
) -> None:
    state = tmp_path / "state.json"
    given = tmp_path / "token.key"
    given.write_text("# the school's token key\n" + bytes(range(100, 132)).hex() + "\n")
    given.chmod(0o600)

    by_state = run(small, "--state", state, "--meeting-notes", tmp_path / "a", "--format", "csv")
    by_file = run(
        small,
        "--since",
        "2024-02-23",
        "--meeting-notes",
        tmp_path / "b",
        "--key-file",
        given,
        "--format",
        "csv",
    )

    assert by_state.exit_code == by_file.exit_code == 0, by_state.output + by_file.output
    key_path = tmp_path / "state.json.key"
    assert stat.S_IMODE(key_path.stat().st_mode) == 0o600
    state_key = bytes.fromhex(key_path.read_text())
    assert not (tmp_path / "a" / ".fravaer-token.key").exists()
    assert not (tmp_path / "b" / ".fravaer-token.key").exists()
    a_tokens = {n.split("-")[-4] for n in names_under(tmp_path / "a")}
    b_tokens = {n.split("-")[-4] for n in names_under(tmp_path / "b")}
    assert len(a_tokens) > 3
    assert a_tokens == {pupil_token(state_key, p) for p in SMALL_PUPILS} & a_tokens
    assert b_tokens == {pupil_token(bytes(range(100, 132)), p) for p in SMALL_PUPILS} & b_tokens


@pytest.mark.parametrize(
    ("args", "exit_code", "problem"),
    [
        (["--key-file", "{tmp}/nope.key"], 66, "nope.key: no such key file"),
        (["--key-file", "{tmp}/demo.key"], 78, "published demo key"),
    ],
)
def test_a_token_key_file_that_is_missing_or_unusable_is_refused(
    tmp_path: Path, small: Path, args: list[str], exit_code: int, problem: str
) -> None:
    demo = ROOT / "examples" / "pseudonymize" / "demo-key-never-for-real-data.txt"
    (tmp_path / "demo.key").write_bytes(demo.read_bytes())
    notes = tmp_path / "moeder"
    options = [a.replace("{tmp}", str(tmp_path)) for a in args]

    result = run(small, "--since", "2024-02-23", "--meeting-notes", notes, *options)

    assert result.exit_code == exit_code, result.output
    assert problem in result.stderr
    assert not notes.exists() or names_under(notes) == []


def test_planted_token_key_symlink_is_not_used(tmp_path: Path, small: Path) -> None:
    # Anyone who can write the notes folder plants a link to a key they know: every token in
    # a sheet's name would then be reversible by trying CPR numbers (docs/privacy.md).
    attacker = tmp_path / "attacker.key"
    attacker.write_text(bytes(range(100, 132)).hex() + "\n")
    attacker.chmod(0o644)
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / ".fravaer-token.key").symlink_to(attacker)

    result = run(small, "--since", "2024-02-23", "--meeting-notes", notes, "-o", tmp_path / "e.csv")

    assert result.exit_code == 78, result.output
    assert f"{notes / '.fravaer-token.key'}: the key file is a symbolic link" in result.stderr
    assert "remove the file" in result.stderr
    assert not list(notes.glob("*.md"))


def test_a_token_key_file_that_is_a_fifo_is_refused_not_waited_on(
    tmp_path: Path, small: Path
) -> None:
    fifo = tmp_path / "k.key"
    os.mkfifo(fifo)

    result = run(
        small, "--since", "2024-02-23", "--meeting-notes", tmp_path / "n", "--key-file", fifo
    )

    assert result.exit_code == 66, result.output
    assert f"{fifo}: the key file is not a regular file" in result.stderr


def test_key_file_without_meeting_notes_is_a_usage_error(tmp_path: Path, small: Path) -> None:
    result = run(small, "--since", "2024-02-23", "--key-file", tmp_path / "k", "--format", "csv")

    assert result.exit_code == 2
    assert result.stderr == (
        "fravaer: error: --key-file names the meeting sheets: give --meeting-notes FOLDER\n"
    )


def test_two_pupils_with_one_token_are_a_clear_error_and_nothing_is_written(
    tmp_path: Path, small: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("fravaer.pseudonymize.TOKEN_LENGTH", 1)  # 16 tokens for > 16 pupils
    notes = tmp_path / "moeder"
    output = tmp_path / "e.csv"

    result = run(small, "--since", "2024-02-23", "--meeting-notes", notes, "-o", output)

    assert result.exit_code == 78, result.output
    assert "the token key gives two pupils the same file name token" in result.stderr
    assert not output.exists()
    assert [n for n in names_under(notes) if not n.startswith(".")] == []


def test_school_ids_that_differ_in_case_get_names_that_differ_without_case(
    tmp_path: Path, small: Path
) -> None:
    folder = tmp_path / "lister"

    result = run(small, "--since", "2024-02-23", "--split-by", "school", "-o", folder)

    assert result.exit_code == 0, result.output
    names = names_under(folder)
    assert names == [
        "escalations-851003-2024-03-08.xlsx",
        "escalations-ABC-b5d4045c-2024-03-08.xlsx",
        "escalations-abc-2024-03-08.xlsx",
    ]
    assert len({n.casefold() for n in names}) == 3
