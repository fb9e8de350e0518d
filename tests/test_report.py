"""`fravaer report` as cron sees it: all outputs or none, the state after them, the manifest last.

Every fault leaves no partial output, no visible temporary file and the previous outputs intact:
an output folder that cannot be written (73), a full disk at write and at fsync (74), a run killed
in the middle of writing (a subprocess, killed), and a second run while one holds the lock (75).
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import signal
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

import filelock
import polars as pl
import pytest
from typer.testing import CliRunner, Result

from fravaer.cli import app
from fravaer.output import STAGE_SUFFIX, STAGED_SUFFIX
from fravaer.pseudonymize import pupil_token

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "examples" / "demo-export.csv"
PUPILS = [f"{i:07d}" for i in [*range(1, 41), *range(170, 200)]]
FIRST, SECOND = "2024-03-01", "2024-03-08"
STATUS = ".fravaer-report.status.json"

CONFIG = """\
output_folder = "out"
state = "state/state.json"
policy = "aalborg"

[inputs]
paths = ["export.csv"]

[[outputs]]
kind = "classification"
file = "klassifikation-{as_of}.csv"

[[outputs]]
kind = "escalations"
split_by = "school"
folder = "eskaleringer"
format = "csv"

[[outputs]]
kind = "escalations"
file = "alle-eskaleringer.xlsx"

[[outputs]]
kind = "meeting_notes"
folder = "moeder"
"""


@pytest.fixture(scope="module")
def export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """70 pupils of the example at three schools: small enough for many runs."""
    raw = pl.read_csv(DEMO, infer_schema=False)
    path = tmp_path_factory.mktemp("export") / "export.csv"
    raw.filter(pl.col("pupil_id").is_in(PUPILS)).write_csv(path)
    return path


@pytest.fixture
def config(tmp_path: Path, export: Path) -> Path:
    (tmp_path / "export.csv").write_bytes(export.read_bytes())
    path = tmp_path / "report.toml"
    path.write_text(CONFIG, encoding="utf-8")
    return path


def run(config: Path, *args: str) -> Result:
    return CliRunner().invoke(app, ["report", "--config", str(config), *args])


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (hidden ones included), by relative path; but the status
    file, which says when each run ended (tests/test_report_status.py)."""
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name not in ("export.csv", "report.toml", STATUS)
    }


def visible(files: dict[str, bytes]) -> set[str]:
    return {name for name in files if not any(part.startswith(".") for part in name.split("/"))}


def temporaries(folder: Path) -> list[Path]:
    """Temporary files and a unit's staging folders."""
    return sorted([*folder.rglob(f"*{STAGED_SUFFIX}"), *folder.rglob(f"*{STAGE_SUFFIX}")])


def test_report_writes_every_output_privately_and_a_manifest_of_them(config: Path) -> None:
    result = run(config, "--as-of", FIRST)

    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    out = config.parent / "out"
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["as_of"] == FIRST
    assert manifest["policy"] == {"name": "aalborg-2023", "version": "2023.1"}
    (source,) = manifest["inputs"]
    data = (config.parent / "export.csv").read_bytes()
    assert source["sha256"] == hashlib.sha256(data).hexdigest()
    assert source["rows"] == len(data.splitlines()) - 1
    listed = {entry["path"]: entry for entry in manifest["outputs"]}
    classification = pl.read_csv(out / f"klassifikation-{FIRST}.csv", infer_schema=False)
    assert listed[f"klassifikation-{FIRST}.csv"]["rows"] == classification.height
    assert 60 < classification.height <= len(PUPILS)  # pupils who left are omitted
    schools = sorted(set(classification["school_id"]))
    for school in schools:
        name = f"eskaleringer/escalations-{school}-{FIRST}.csv"
        rows = pl.read_csv(out / name, infer_schema=False).height
        assert listed[name]["rows"] == rows
    at_step_2 = classification.filter(pl.col("step").cast(pl.Int8) >= 2).height
    notes = sorted((out / "moeder").iterdir())
    assert len(notes) == 2 * at_step_2 > 0
    assert {e["kind"] for e in listed.values()} == {
        "classification",
        "escalations",
        "meeting_notes",
    }
    # Every file written is private; the manifest lists every output there is.
    written = [p for p in config.parent.rglob("*") if p.is_file() and p.suffix != ".toml"]
    for path in written:
        if path.name in ("export.csv",) or path.name.endswith(".lock"):
            continue
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    outputs = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
    notes_listed = listed.pop("moeder")  # one entry: the sheets' names hold pupil ids
    assert notes_listed == {
        "path": "moeder",
        "kind": "meeting_notes",
        "files": 2 * at_step_2,
        "rows": at_step_2,
    }
    assert not any(pupil in json.dumps(manifest) for pupil in PUPILS)
    assert {o for o in outputs if not o.startswith("moeder/")} - set(listed) == {
        "manifest.json",
        ".fravaer-report.lock",
        STATUS,  # not an output: tests/test_report_status.py
    }
    assert temporaries(config.parent) == []


def test_the_summary_line_has_counts_and_no_pupil_data(config: Path) -> None:
    result = run(config, "--as-of", FIRST)

    lines = result.stderr.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"fravaer: report as of {FIRST}: steps 0 ")
    assert "escalation(s)" in lines[0]
    assert "notify_municipality" in lines[0]
    assert lines[0].endswith("file(s) written")
    assert not any(pupil in result.stderr for pupil in PUPILS)


def test_a_rerun_writes_the_same_bytes_and_advances_the_state_once(config: Path) -> None:
    assert run(config, "--as-of", FIRST).exit_code == 0
    assert run(config, "--as-of", SECOND).exit_code == 0
    second = snapshot(config.parent)

    again = run(config, "--as-of", SECOND)

    assert again.exit_code == 0, again.output
    assert snapshot(config.parent) == second
    state = json.loads((config.parent / "state" / "state.json").read_text())
    assert [r["as_of"] for r in state["runs"]] == [FIRST, SECOND]
    manifest = json.loads((config.parent / "out" / "manifest.json").read_text())
    assert manifest["reference_as_of"] == FIRST  # the rerun compares with the same earlier run


def test_the_second_week_reports_only_what_changed_since_the_first(config: Path) -> None:
    assert run(config, "--as-of", FIRST).exit_code == 0
    assert run(config, "--as-of", SECOND).exit_code == 0

    out = config.parent / "out"
    first = pl.read_csv(out / f"klassifikation-{FIRST}.csv", infer_schema=False)
    second = pl.read_csv(out / f"klassifikation-{SECOND}.csv", infer_schema=False)
    steps = {
        p: (a, b)
        for p, a, b in first.join(second, on="pupil_id")
        .select("pupil_id", "step", "step_right")
        .rows()
    }
    escalated = set()
    for path in (out / "eskaleringer").glob(f"*{SECOND}.csv"):
        frame = pl.read_csv(path, infer_schema=False)
        escalated |= set(frame.filter(pl.col("change") == "escalation")["pupil_id"])
        for pupil, previous, step in frame.select("pupil_id", "previous_step", "step").rows():
            assert (previous, step) == steps[pupil]
    rose = {p for p, (a, b) in steps.items() if a and b and int(b) > int(a)}
    assert rose <= escalated


def test_a_dry_run_writes_nothing(config: Path) -> None:
    result = run(config, "--dry-run")

    assert result.exit_code == 0, result.output
    assert "fravaer: would write " in result.stderr
    assert result.stderr.splitlines()[-1].endswith("file(s) would be written")
    assert sorted(p.name for p in config.parent.iterdir()) == ["export.csv", "report.toml"]


def test_a_second_run_while_one_holds_the_lock_exits_75_at_once(config: Path) -> None:
    assert run(config, "--as-of", FIRST).exit_code == 0
    before = snapshot(config.parent)
    lock = filelock.FileLock(config.parent / "out" / ".fravaer-report.lock")

    with lock.acquire(timeout=1):
        started = time.monotonic()
        result = run(config, "--as-of", SECOND)
        elapsed = time.monotonic() - started

    assert result.exit_code == 75, result.output
    assert "another run holds the lock" in result.stderr
    assert elapsed < 5
    assert snapshot(config.parent) == before


def _fail_on_call(number: int, error: int, real: Callable[..., object]) -> Callable[..., object]:
    calls = {"n": 0}

    def fake(*args: object, **kwargs: object) -> object:
        calls["n"] += 1
        if calls["n"] >= number:
            raise OSError(error, os.strerror(error))
        return real(*args, **kwargs)

    return fake


@pytest.mark.parametrize(
    ("target", "error", "call", "exit_code"),
    [
        ("write", errno.ENOSPC, 1, 74),
        ("write", errno.ENOSPC, 5, 74),  # a few files are already staged
        ("fsync", errno.ENOSPC, 1, 74),
        ("fsync", errno.EIO, 4, 74),
    ],
)
def test_a_full_disk_leaves_the_previous_outputs_intact(
    config: Path,
    monkeypatch: pytest.MonkeyPatch,
    target: str,
    error: int,
    call: int,
    exit_code: int,
) -> None:
    assert run(config, "--as-of", FIRST).exit_code == 0
    before = snapshot(config.parent)
    monkeypatch.setattr(os, target, _fail_on_call(call, error, getattr(os, target)))

    result = run(config, "--as-of", SECOND)

    monkeypatch.undo()
    assert result.exit_code == exit_code, result.output
    assert "write failed" in result.stderr
    assert snapshot(config.parent) == before
    assert temporaries(config.parent) == []
    # The status says the run failed; or, where the failing call also writes the status (the
    # disk still full), it stays last week's and stderr says so (docs/cron.md).
    status = json.loads((config.parent / "out" / STATUS).read_text())
    if "the status file was not written" in result.stderr:
        assert (status["outcome"], status["as_of"]) == ("ok", FIRST)
    else:
        assert (status["outcome"], status["exit_code"], status["as_of"]) == ("failed", 74, SECOND)


def test_an_output_folder_that_cannot_be_written_is_exit_73(
    config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert run(config, "--as-of", FIRST).exit_code == 0
    before = snapshot(config.parent)
    out = config.parent / "out"
    out.chmod(0o500)
    if os.geteuid() == 0:  # root writes anyway: refuse the temporary files as the kernel would
        monkeypatch.setattr(tempfile, "mkstemp", _fail_on_call(1, errno.EACCES, tempfile.mkstemp))
        monkeypatch.setattr(tempfile, "mkdtemp", _fail_on_call(1, errno.EACCES, tempfile.mkdtemp))
    try:
        result = run(config, "--as-of", SECOND)
    finally:
        out.chmod(0o700)
        monkeypatch.undo()

    assert result.exit_code == 73, result.output
    assert "cannot create" in result.stderr
    assert snapshot(config.parent) == before
    assert temporaries(config.parent) == []
    # The status cannot be written into that folder either: last week's stays, stderr says so.
    assert json.loads((config.parent / "out" / STATUS).read_text())["as_of"] == FIRST
    assert "fravaer: warning: the status file was not written: " in result.stderr


def test_an_output_folder_that_is_a_file_is_exit_73(config: Path) -> None:
    (config.parent / "out").write_text("not a folder")

    result = run(config)

    assert result.exit_code == 73, result.output
    assert (config.parent / "out").read_text() == "not a folder"


_KILLED = """
import os, sys, time
from pathlib import Path

marker = Path(sys.argv[1])

def stalled_fsync(fd):
    marker.write_text("writing")
    time.sleep(120)

os.fsync = stalled_fsync
from fravaer.cli import main
sys.argv = ["fravaer", "report", "--config", sys.argv[2], "--as-of", sys.argv[3]]
main()
"""


def test_a_run_killed_mid_write_leaves_the_previous_outputs_and_no_visible_file(
    config: Path,
) -> None:
    assert run(config, "--as-of", FIRST).exit_code == 0
    before = snapshot(config.parent)
    marker = config.parent / "marker"
    process = subprocess.Popen(
        [sys.executable, "-c", _KILLED, str(marker), str(config), SECOND],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while not marker.exists() and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.05)
        assert marker.exists(), "the run never started writing"
        os.kill(process.pid, signal.SIGKILL)
    finally:
        process.wait(timeout=30)
    marker.unlink()

    after = snapshot(config.parent)
    assert visible(after) == visible(before)
    assert {k: after[k] for k in visible(before)} == {k: before[k] for k in visible(before)}
    leftovers = temporaries(config.parent)
    assert leftovers  # a killed process cannot clean up, but its files are hidden and marked
    assert all(p.name.startswith(".") for p in leftovers)

    # The next run clears them and completes.
    result = run(config, "--as-of", SECOND)
    assert result.exit_code == 0, result.output
    assert "removed 1 temporary file(s) left by an interrupted run" in result.stderr
    assert temporaries(config.parent) == []


def test_a_corrupted_state_is_refused_and_left_alone(config: Path) -> None:
    state = config.parent / "state" / "state.json"
    state.parent.mkdir()
    state.write_text('{"format": "fravaer-escalate-state", "version": 1, "runs": [')

    result = run(config)

    assert result.exit_code == 65, result.output
    assert "corrupted state file" in result.stderr
    assert state.read_text().endswith('"runs": [')
    assert not (config.parent / "out" / "manifest.json").exists()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            ('kind = "meeting_notes"', 'kind = "meeting_notes"\ncolour = "blue"'),
            "report.toml:24: field 'outputs.3.colour': Extra inputs are not permitted",
        ),
        (
            ('paths = ["export.csv"]', 'paths = ["export.csv"]\nencodng = "utf-8"'),
            "report.toml:7: field 'inputs.encodng': Extra inputs are not permitted",
        ),
        (
            ('state = "state/state.json"\n', ""),
            "report.toml: an escalations output needs a state file: set state = PATH",
        ),
        (
            ('format = "csv"', 'format = "pdf"'),
            "report.toml:16: field 'outputs.1.format': Input should be",
        ),
    ],
)
def test_a_bad_config_names_the_file_and_line(
    config: Path, change: tuple[str, str], message: str
) -> None:
    config.write_text(CONFIG.replace(*change), encoding="utf-8")

    result = run(config)

    assert result.exit_code == 78, result.output
    assert f"fravaer: error: {config.parent}/{message}" in result.stderr
    assert sorted(p.name for p in config.parent.iterdir()) == ["export.csv", "report.toml"]


def test_a_missing_config_is_exit_66(tmp_path: Path) -> None:
    result = run(tmp_path / "missing.toml")

    assert result.exit_code == 66
    assert "config file not found" in result.stderr


# -- file names: tokens, the token key, letter case ----------------------------------------------

NOTES_ONLY = """\
output_folder = "out"
{extra}
[inputs]
paths = ["export.csv"]

[[outputs]]
kind = "meeting_notes"
folder = "moeder"
"""


def sheet_tokens(folder: Path) -> set[str]:
    """The token in each sheet's name ``SCHOOL-TOKEN-ASOF.md``."""
    return {p.name.removesuffix(".md")[:-11].rsplit("-", 1)[1] for p in folder.glob("*.md")}


def test_meeting_sheets_are_named_by_tokens_under_the_key_beside_the_state(config: Path) -> None:
    notes = config.parent / "out" / "moeder"
    assert run(config, "--as-of", FIRST).exit_code == 0
    first = sheet_tokens(notes)
    assert run(config, "--as-of", SECOND).exit_code == 0

    key_path = config.parent / "state" / "state.json.key"
    assert stat.S_IMODE(key_path.stat().st_mode) == 0o600
    key = bytes.fromhex(key_path.read_text())
    both = sheet_tokens(notes)
    assert first
    assert both <= {pupil_token(key, p) for p in PUPILS}
    assert not any(p in n.name for n in notes.iterdir() for p in PUPILS)
    # Week after week the same key: a pupil at step 2 both weeks keeps the name's token.
    second = {
        n.name.removesuffix(f"-{SECOND}.md").rsplit("-", 1)[1] for n in notes.glob(f"*{SECOND}.md")
    }
    assert first & second


def test_without_a_state_the_key_is_in_the_output_folder_and_key_file_wins(
    tmp_path: Path, export: Path
) -> None:
    (tmp_path / "export.csv").write_bytes(export.read_bytes())
    plain = tmp_path / "plain.toml"
    plain.write_text(NOTES_ONLY.format(extra=""), encoding="utf-8")
    given = tmp_path / "keys" / "token.key"
    given.parent.mkdir()
    given.write_text(bytes(range(64, 96)).hex())
    given.chmod(0o600)
    keyed = tmp_path / "keyed.toml"
    keyed.write_text(
        NOTES_ONLY.format(extra='key_file = "keys/token.key"').replace('"out"', '"out2"'),
        encoding="utf-8",
    )

    dry = run(plain, "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert not (tmp_path / "out").exists()  # a dry run makes no key
    assert run(plain).exit_code == run(keyed).exit_code == 0

    key = bytes.fromhex((tmp_path / "out" / ".fravaer-token.key").read_text())
    assert sheet_tokens(tmp_path / "out" / "moeder") <= {pupil_token(key, p) for p in PUPILS}
    assert not (tmp_path / "out2" / ".fravaer-token.key").exists()
    by_file = sheet_tokens(tmp_path / "out2" / "moeder")
    assert by_file
    assert by_file <= {pupil_token(bytes(range(64, 96)), p) for p in PUPILS}


def test_a_missing_key_file_is_exit_66_and_writes_nothing(tmp_path: Path, export: Path) -> None:
    (tmp_path / "export.csv").write_bytes(export.read_bytes())
    config = tmp_path / "report.toml"
    config.write_text(NOTES_ONLY.format(extra='key_file = "nope.key"'), encoding="utf-8")

    result = run(config)

    assert result.exit_code == 66, result.output
    assert "nope.key: no such key file" in result.stderr
    assert not (tmp_path / "out" / "moeder").exists()
    assert not (tmp_path / "out" / "manifest.json").exists()


def test_two_outputs_that_differ_only_in_case_are_refused(config: Path) -> None:
    twice = CONFIG.replace(
        'file = "alle-eskaleringer.xlsx"',
        'file = "Klassifikation-{as_of}.csv"\nformat = "csv"',
    ).replace('kind = "escalations"\nfile', 'kind = "classification"\nfile')

    config.write_text(twice, encoding="utf-8")
    result = run(config, "--as-of", FIRST)

    assert result.exit_code == 2, result.output
    assert "two outputs would have the same file name (letter case and Unicode" in result.stderr
    assert not (config.parent / "out" / "manifest.json").exists()


def test_an_output_over_the_token_key_is_refused(tmp_path: Path, export: Path) -> None:
    (tmp_path / "export.csv").write_bytes(export.read_bytes())
    config = tmp_path / "report.toml"
    over = '\n[[outputs]]\nkind = "classification"\nfile = "state.json.key"\nformat = "csv"\n'
    state = 'state = "out/state.json"'
    config.write_text(NOTES_ONLY.format(extra=state) + over, encoding="utf-8")

    result = run(config)

    assert result.exit_code == 78, result.output
    assert "an output would overwrite the token key of the meeting sheets" in result.stderr
    # The folder's own key is hidden, and hidden output names are refused before any planning.
    hidden = NOTES_ONLY.format(extra="") + over.replace("state.json.key", ".fravaer-token.key")
    config.write_text(hidden, encoding="utf-8")
    assert run(config).exit_code == 78
    assert not (tmp_path / "out" / "manifest.json").exists()


def test_deep_folder_tree_in_output_folder_is_not_an_internal_error(config: Path) -> None:
    """Anyone who can make folders in a shared output folder nests 1,200 of them: walking them
    for leftover temporary files ended in RecursionError, exit 70, every week."""
    deep = config.parent / "out" / "deep"
    deep.mkdir(parents=True)
    fd = os.open(deep, os.O_RDONLY)
    try:
        for _ in range(1200):  # relative to a folder descriptor: no path grows past PATH_MAX
            os.mkdir("d", dir_fd=fd)
            inner = os.open("d", os.O_RDONLY, dir_fd=fd)
            os.close(fd)
            fd = inner
    finally:
        os.close(fd)
    try:
        result = run(config, "--as-of", FIRST)
    finally:
        # pytest's own clean-up of old temporary folders recurses and would die on this tree.
        subprocess.run(["rm", "-rf", str(deep)], check=False)

    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("folder", ["eskaleringer", "moeder"])
def test_symlinked_output_subfolder_is_not_followed(config: Path, folder: str) -> None:
    """A link planted at ``out/eskaleringer`` in a shared output folder sent the pupil lists
    into the folder it points to, outside output_folder."""
    elsewhere = config.parent / "elsewhere"
    elsewhere.mkdir()
    (config.parent / "out").mkdir()
    (config.parent / "out" / folder).symlink_to(elsewhere)

    result = run(config, "--as-of", FIRST)

    assert result.exit_code == 73, result.output
    link = config.parent / "out" / folder
    assert f"{link}: is a symbolic link" in result.stderr
    assert list(elsewhere.iterdir()) == []
    assert not (config.parent / "out" / "manifest.json").exists()


def test_the_output_folder_itself_may_be_a_link(config: Path) -> None:
    (config.parent / "real").mkdir()
    (config.parent / "out").symlink_to(config.parent / "real")

    result = run(config, "--as-of", FIRST)

    assert result.exit_code == 0, result.output
    assert (config.parent / "real" / "manifest.json").exists()


@pytest.mark.parametrize(
    "name",
    [
        "x\\u001b]8;;http://evil.example\\u0007.csv",
        "line\\nfravaer: error: forged.csv",
        "tab\\there.csv",
        "del\\u007f.csv",
        "csi\\u009b.csv",
    ],
)
def test_report_output_name_with_control_characters_is_refused(
    tmp_path: Path, export: Path, name: str
) -> None:
    """An escape sequence or a line break in a file name carries an OSC 8 link or a forged log
    line into ``ls``, ``find`` and a cron script's listing."""
    (tmp_path / "export.csv").write_bytes(export.read_bytes())
    config = tmp_path / "report.toml"
    one = 'output_folder = "out"\npolicy = "aalborg"\n[inputs]\npaths = ["export.csv"]\n'
    config.write_text(one + f'[[outputs]]\nkind = "classification"\nfile = "{name}"\n')

    result = run(config)

    assert result.exit_code == 78, result.output
    assert "holds a control or invisible character" in result.stderr
    assert f"{config}:7: field 'outputs.0.file'" in result.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    "name", ["CON.csv", "nul", "Com1.json", "lpt9.xlsx", "aux", "PRN.csv", "eskaleringer/con.csv"]
)
def test_report_output_with_a_windows_reserved_name_is_refused(
    tmp_path: Path, export: Path, name: str
) -> None:
    """``CON``, ``NUL``, ``COM1``... name devices on Windows (any case, any extension): on an SMB
    share a Windows server refuses them or writes to the device."""
    (tmp_path / "export.csv").write_bytes(export.read_bytes())
    config = tmp_path / "report.toml"
    one = 'output_folder = "out"\npolicy = "aalborg"\n[inputs]\npaths = ["export.csv"]\n'
    config.write_text(
        one + f'[[outputs]]\nkind = "classification"\nfile = "{name}"\nformat = "csv"\n'
    )

    result = run(config)

    assert result.exit_code == 78, result.output
    assert "reserved on Windows" in result.stderr
    assert not (tmp_path / "out").exists()


def test_report_outputs_differing_only_in_normalisation_are_refused(
    tmp_path: Path, export: Path
) -> None:
    """``å.csv`` (NFC) and ``a`` + U+030A ``.csv`` (NFD) are one file on macOS and many SMB
    shares: the second would silently replace the first."""
    (tmp_path / "export.csv").write_bytes(export.read_bytes())
    config = tmp_path / "report.toml"
    config.write_text(
        'output_folder = "out"\npolicy = "aalborg"\n[inputs]\npaths = ["export.csv"]\n'
        '[[outputs]]\nkind = "classification"\nfile = "\\u00e5.csv"\n'
        '[[outputs]]\nkind = "classification"\nfile = "A\\u030a.csv"\nformat = "csv"\n',
        encoding="utf-8",
    )

    result = run(config)

    assert result.exit_code == 2, result.output
    assert "two outputs would have the same file name" in result.stderr
    assert not list((tmp_path / "out").glob("*.csv"))
    assert not (tmp_path / "out" / "manifest.json").exists()


def test_a_row_dated_after_today_does_not_move_the_report_s_as_of(
    config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same default as every command: the latest date on or before the run's day."""
    monkeypatch.setattr("fravaer.cli.setup.today", lambda: date(2026, 12, 7))
    export = config.parent / "export.csv"
    with export.open("a", encoding="utf-8") as handle:
        handle.write(f"{PUPILS[0]},851001,2204-03-08,leave,1.0,8,8.A\n")

    dry = run(config, "--dry-run")
    result = run(config)

    assert dry.exit_code == result.exit_code == 0, result.output
    manifest = json.loads((config.parent / "out" / "manifest.json").read_text())
    assert manifest["as_of"] == SECOND
    assert (config.parent / "out" / f"klassifikation-{SECOND}.csv").exists()
    warning = (
        "fravaer: warning: 1 row(s) dated after today (2026-12-07), the latest 2204-03-08, are "
        "left out; give --as-of to include them"
    )
    for run_result in (dry, result):
        lines = run_result.stderr.splitlines()
        assert lines.count(warning) == 1, run_result.stderr
        assert PUPILS[0] not in run_result.stderr
    assert result.stderr.splitlines()[-1].startswith(f"fravaer: report as of {SECOND}: ")


def test_escalate_and_report_write_the_same_escalations_and_state(config: Path) -> None:
    """One flow below the CLI: the same state in, the same escalation files and state out."""
    out = config.parent / "out"
    assert run(config, "--as-of", FIRST).exit_code == 0
    state = config.parent / "state" / "state.json"
    mine = config.parent / "mine"
    mine.mkdir()
    (mine / "state.json").write_bytes(state.read_bytes())

    assert run(config, "--as-of", SECOND).exit_code == 0
    export = str(config.parent / "export.csv")
    by_school = CliRunner().invoke(
        app,
        [
            "escalate", export, "--state", str(mine / "state.json"), "--as-of", SECOND,
            "--split-by", "school", "--format", "csv", "-o", str(mine / "eskaleringer"),
        ],
    )  # fmt: skip

    assert by_school.exit_code == 0, by_school.output
    reported = {k: v for k, v in snapshot(out / "eskaleringer").items() if SECOND in k}
    assert snapshot(mine / "eskaleringer") == reported
    assert len(reported) == 3
    assert (mine / "state.json").read_bytes() == state.read_bytes()


def test_escalate_and_report_warn_alike_of_a_previous_run_with_another_policy(
    config: Path,
) -> None:
    assert run(config, "--as-of", FIRST).exit_code == 0
    state = config.parent / "state" / "state.json"
    warning = "the previous run used policy aalborg-2023, this one slagelse: steps may not compare"

    config.write_text(CONFIG.replace('policy = "aalborg"', 'policy = "slagelse"'))
    reported = run(config, "--as-of", SECOND, "--dry-run")
    export = str(config.parent / "export.csv")
    escalated = CliRunner().invoke(
        app,
        [
            "escalate", export, "--state", str(state), "--as-of", SECOND, "--policy", "slagelse",
            "--format", "csv",
        ],
    )  # fmt: skip

    assert reported.exit_code == escalated.exit_code == 0, (reported.output, escalated.output)
    assert f"fravaer: warning: {warning}\n" in reported.stderr
    assert f"fravaer: warning: {warning}\n" in escalated.stderr
