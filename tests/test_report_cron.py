"""The cron wrapper of docs/cron.md: a failure reaches syslog at error priority and cron's mail.

The script runs with a ``logger`` on PATH that records its options and its input, so the test
sees what syslog would get; cron mails whatever the script prints.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from tests.test_report import CONFIG, DEMO, PUPILS

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "examples" / "cron" / "fravaer-report-cron"
FAKE_LOGGER = """#!/bin/sh
printf '%s\\n' "$*" >> "$LOGGED"
cat >> "$LOGGED"
"""


@pytest.fixture
def config(tmp_path: Path) -> Path:
    raw = pl.read_csv(DEMO, infer_schema=False)
    raw.filter(pl.col("pupil_id").is_in(PUPILS)).write_csv(tmp_path / "export.csv")
    path = tmp_path / "report.toml"
    path.write_text(CONFIG, encoding="utf-8")
    return path


def cron(config: Path) -> tuple[subprocess.CompletedProcess[str], str]:
    """The script as cron runs it: sh, a bare PATH (plus the fake logger), no terminal."""
    bin_ = config.parent / "bin"
    bin_.mkdir(exist_ok=True)
    (bin_ / "logger").write_text(FAKE_LOGGER)
    (bin_ / "logger").chmod(0o755)
    logged = config.parent / "logged.txt"
    env = {
        "PATH": f"{bin_}:/usr/bin:/bin",
        "LOGGED": str(logged),
        "FRAVAER": str(Path(sys.executable).parent / "fravaer"),
        "HOME": str(config.parent),
    }
    env.update({k: v for k, v in os.environ.items() if k.startswith("LC_") or k == "LANG"})
    done = subprocess.run(
        ["/bin/sh", str(SCRIPT), str(config)],
        env=env,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=300,
        check=False,
    )
    return done, logged.read_text() if logged.exists() else ""


def test_a_run_that_succeeds_logs_at_info_and_mails_nothing(config: Path) -> None:
    done, logged = cron(config)

    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout == done.stderr == ""  # cron mails nothing
    options, line = logged.splitlines()
    assert options == "-t fravaer-report -p user.info"
    assert re.fullmatch(r"fravaer: report as of \S+: steps .* file\(s\) written", line)
    status = config.parent / "out" / ".fravaer-report.status.json"
    assert '"outcome": "ok"' in status.read_text()


def test_a_run_that_fails_logs_at_error_priority_and_prints_for_cron_s_mail(config: Path) -> None:
    (config.parent / "export.csv").write_text("not,an,export\n1,2,3\n")

    done, logged = cron(config)

    assert done.returncode == 65, done.stdout + done.stderr
    assert done.stderr == ""
    mail = done.stdout.splitlines()
    assert mail[0] == "fravaer report failed with exit 65:"
    assert mail[1].startswith("fravaer: error: ")
    lines = logged.splitlines()
    assert lines[:2] == ["-t fravaer-report -p user.err", "exit 65"]
    assert lines[2:] == mail[1:]
    assert not any(pupil in logged + done.stdout for pupil in PUPILS)
    status = config.parent / "out" / ".fravaer-report.status.json"
    assert '"exit_code": 65' in status.read_text()


def test_docs_cron_shows_the_script_as_shipped() -> None:
    page = (ROOT / "docs" / "cron.md").read_text(encoding="utf-8")
    assert f"```sh\n{SCRIPT.read_text(encoding='utf-8')}```" in page
