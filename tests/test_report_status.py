"""The status file beside report's lock: written at the end of every run that got the lock.

Whoever watches cron reads it (docs/report.md#the-status-file): the outcome, the exit code, when
the run started and ended, and counts. It is private, written atomically, holds no pupil data,
and a run that did not get the lock (a second run, a dry run, a config refused before the lock)
leaves it alone.
"""

from __future__ import annotations

import json
import stat
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import filelock
import polars as pl
import pytest
from typer.testing import CliRunner

import fravaer.report
from fravaer.cli import app
from fravaer.errors import BadInputError, Location, Terminated
from fravaer.escalation_files import Planned, Run
from tests.test_report import CONFIG, FIRST, PUPILS, SECOND, STATUS, run, temporaries

# Pupil ids a careless status file would show: CPR-shaped, markup, a line break's neighbour.
HOSTILE = ["0101101234", "<b>elev</b>", "elev;DROP", "Ærø 7"]


@pytest.fixture
def config(tmp_path: Path, export_rows: pl.DataFrame) -> Path:
    export_rows.write_csv(tmp_path / "export.csv")
    path = tmp_path / "report.toml"
    path.write_text(CONFIG, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def export_rows() -> pl.DataFrame:
    """The test_report export, with the first pupils' ids made hostile."""
    from tests.test_report import DEMO

    raw = pl.read_csv(DEMO, infer_schema=False).filter(pl.col("pupil_id").is_in(PUPILS))
    return raw.with_columns(pl.col("pupil_id").replace(dict(zip(PUPILS, HOSTILE, strict=False))))


def status_of(config: Path) -> dict[str, Any]:
    path = config.parent / "out" / STATUS
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    text = path.read_text(encoding="ascii")
    for pupil in [*PUPILS, *HOSTILE]:
        assert pupil not in text
    data: dict[str, Any] = json.loads(text)
    return data


def moment(text: str) -> datetime:
    assert text.endswith("Z")
    return datetime.fromisoformat(text.removesuffix("Z") + "+00:00")


def test_a_successful_run_writes_ok_with_its_counts(config: Path) -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    result = run(config, "--as-of", FIRST)
    after = datetime.now(UTC)

    assert result.exit_code == 0, result.output
    status = status_of(config)
    assert set(status) == {
        "status_version",
        "outcome",
        "exit_code",
        "error",
        "started",
        "finished",
        "as_of",
        "files",
        "pupils",
        "escalations",
        "improvements",
        "fravaer_version",
    }
    assert (status["outcome"], status["exit_code"], status["error"]) == ("ok", 0, None)
    assert before <= moment(status["started"]) <= moment(status["finished"]) <= after
    assert status["as_of"] == FIRST
    # The counts are the summary line's: files written, pupils, escalations, improvements.
    line = result.stderr.splitlines()[-1]
    assert f"; {status['files']} file(s) written" in line
    assert f"{status['escalations']} escalation(s), {status['improvements']} improvement(s)" in line
    out = config.parent / "out"
    classified = pl.read_csv(out / f"klassifikation-{FIRST}.csv", infer_schema=False)
    assert status["pupils"] == classified.height > 0
    assert status["escalations"] > 0
    # A pupil id is in the outputs (the test would pass on an empty file otherwise).
    assert set(HOSTILE) & set(classified["pupil_id"])
    assert temporaries(config.parent) == []


def test_each_run_replaces_the_status(config: Path) -> None:
    assert run(config, "--as-of", FIRST).exit_code == 0
    first = status_of(config)
    assert run(config, "--as-of", SECOND).exit_code == 0
    second = status_of(config)

    assert (first["as_of"], second["as_of"]) == (FIRST, SECOND)
    assert second["improvements"] > 0


def test_data_that_fails_after_the_lock_writes_failed_65(config: Path) -> None:
    assert run(config, "--as-of", FIRST).exit_code == 0
    export = config.parent / "export.csv"
    export.write_text(export.read_text().replace(",2024-02-05,", ",2024-02-31,", 1))

    result = run(config, "--as-of", SECOND)

    assert result.exit_code == 65, result.output
    status = status_of(config)
    assert (status["outcome"], status["exit_code"]) == ("failed", 65)
    assert status["error"] == "BadInputError"
    assert (status["files"], status["pupils"], status["escalations"]) == (0, None, None)
    assert moment(status["started"]) <= moment(status["finished"])
    # Nothing else was written: last week's manifest stands.
    manifest = json.loads((config.parent / "out" / "manifest.json").read_text())
    assert manifest["as_of"] == FIRST


def test_a_config_value_refused_after_the_lock_writes_failed_78(config: Path) -> None:
    config.write_text(CONFIG + '\n[[outputs]]\nkind = "stats"\nfile = "s.csv"\nperiod = "2024Q7"\n')

    result = run(config, "--as-of", FIRST)

    assert result.exit_code == 78, result.output
    status = status_of(config)
    assert (status["outcome"], status["exit_code"], status["error"]) == (
        "failed",
        78,
        "PolicyError",
    )
    assert status["as_of"] == FIRST
    assert status["pupils"] > 0  # the run had classified when the output was refused
    assert status["files"] == 0


def _raises(exc: BaseException) -> Any:
    def builder(run: Run, spec: Any, ctx: Any) -> list[Planned]:
        raise exc

    return builder


@pytest.mark.parametrize(
    ("exc", "code", "name"),
    [
        (RuntimeError(f"bug near {HOSTILE[0]}"), 70, "RuntimeError"),
        (BadInputError(Location("export.csv"), f"value {HOSTILE[0]}"), 65, "BadInputError"),
        (Terminated(), 143, "Terminated"),
    ],
)
def test_an_error_in_the_middle_of_a_run_writes_failed_with_its_exit_code(
    config: Path, monkeypatch: pytest.MonkeyPatch, exc: BaseException, code: int, name: str
) -> None:
    monkeypatch.setitem(fravaer.report.BUILDERS, "meeting_notes", _raises(exc))

    result = run(config, "--as-of", FIRST)

    assert result.exit_code == code, result.output
    status = status_of(config)  # no pupil id, though the message held one
    assert (status["outcome"], status["exit_code"], status["error"]) == ("failed", code, name)
    assert not (config.parent / "out" / "manifest.json").exists()
    assert temporaries(config.parent) == []


def test_a_run_that_did_not_get_the_lock_leaves_the_status_alone(config: Path) -> None:
    assert run(config, "--as-of", FIRST).exit_code == 0
    path = config.parent / "out" / STATUS
    before = path.read_bytes()

    with filelock.FileLock(config.parent / "out" / ".fravaer-report.lock").acquire(timeout=1):
        result = run(config, "--as-of", SECOND)

    assert result.exit_code == 75, result.output
    assert path.read_bytes() == before


def test_runs_that_take_no_lock_write_no_status(config: Path) -> None:
    dry = run(config, "--as-of", FIRST, "--dry-run")
    assert dry.exit_code == 0, dry.output
    config.write_text(CONFIG.replace('kind = "meeting_notes"', 'kind = "meeting_notez"'))
    refused = run(config, "--as-of", FIRST)  # the config is read before the lock

    assert refused.exit_code == 78, refused.output
    assert not (config.parent / "out").exists()


def test_the_status_is_beside_a_lock_named_in_the_config(config: Path) -> None:
    config.write_text('lock = "locks/weekly.lock"\n' + CONFIG)

    result = run(config, "--as-of", FIRST)

    assert result.exit_code == 0, result.output
    beside = config.parent / "locks" / "weekly.status.json"
    assert json.loads(beside.read_text())["outcome"] == "ok"
    assert stat.S_IMODE(beside.stat().st_mode) == 0o600
    assert not (config.parent / "out" / STATUS).exists()


@pytest.mark.parametrize("name", ["out/.fravaer-report.status.json", "out/weekly.status.json"])
def test_nothing_else_may_be_the_status_file(config: Path, name: str) -> None:
    lock = "" if ".fravaer-report" in name else 'lock = "out/weekly.lock"\n'
    config.write_text(lock + CONFIG.replace('state = "state/state.json"', f'state = "{name}"'))

    result = CliRunner().invoke(app, ["report", "--config", str(config)])

    assert result.exit_code == 78, result.output
    assert "field 'state': is the same file as the status file" in result.stderr
