"""Usage errors (exit 2) of every command the app registers name what is wrong.

docs/exit-codes.md: a wrong command line is exit 2 with a message on stderr; an error found by
fravaer is one line ``fravaer: error: ...``, one found while the command line is parsed is in
the command-line library's format ending in ``Error: ...``. Parametrised over the Typer app, so
a command added later is covered here without a change.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import typer.core
from typer.testing import CliRunner, Result

from fravaer.cli import app
from tests.registered import COMMANDS, EVERY_COMMAND, GROUPS, commands_with, required_options

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "examples" / "demo-export.csv"
UNKNOWN = "--zzz-unknown"

# What a command with --as-of needs besides its exports before it reads the option (escalate:
# --since or --state; trend: --pupil or --class). test_every_required_option_is_given fails for
# a command added later with a required option until the option is here.
NEEDED = {
    "explain": ["--pupil", "0000001"],
    "escalate": ["--since", "2024-02-01"],
    "report": ["--config", "{config}"],
    "site": ["-o", "{site}"],
    "trend": ["--pupil", "0000001"],
}
REPORT_TOML = f"""output_folder = "out"
[inputs]
paths = ["{DEMO}"]
[[outputs]]
kind = "classification"
file = "k.csv"
"""


def run(args: list[str]) -> Result:
    return CliRunner().invoke(app, args)


def takes_exports(name: str) -> bool:
    params = COMMANDS[name].params
    return bool(params) and isinstance(params[0], typer.core.TyperArgument)


@pytest.mark.parametrize("name", ["", *sorted(EVERY_COMMAND)], ids=lambda n: n or "fravaer")
def test_every_command_refuses_an_unknown_option(name: str) -> None:
    result = run([*name.split(), UNKNOWN])

    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines[0].startswith(" ".join(["Usage: fravaer", *name.split()]) + " ["), lines[0]
    assert lines[-1].startswith(f"Error: No such option: {UNKNOWN}"), lines[-1]
    assert "Traceback" not in result.stderr


def test_the_groups_are_walked() -> None:
    """The commands of a group are found by their full path, so they are tested here too."""
    assert "policy" in GROUPS
    assert {"policy list", "policy show", "policy validate"} <= set(COMMANDS)


def test_every_required_option_is_given() -> None:
    for name in commands_with("--as-of"):
        assert required_options(name) <= set(NEEDED.get(name, [])), name


@pytest.mark.parametrize("as_of", ["2024-02-30", "8 March 2024"])
@pytest.mark.parametrize("name", commands_with("--as-of"))
def test_every_command_refuses_a_bad_as_of(name: str, as_of: str, tmp_path: Path) -> None:
    config = tmp_path / "report.toml"
    config.write_text(REPORT_TOML, encoding="utf-8")
    args = [*name.split(), *([str(DEMO)] if takes_exports(name) else [])]
    args += [
        a.replace("{config}", str(config)).replace("{site}", str(tmp_path / "site"))
        for a in NEEDED.get(name, [])
    ]

    if name in commands_with("--format"):
        args += ["--format", "csv"]  # not a table on a terminal: the same output everywhere

    result = run([*args, "--as-of", as_of])

    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    assert result.stderr == "fravaer: error: --as-of must be a date written YYYY-MM-DD\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.toml"]


def test_as_of_is_taken_by_the_commands_that_read_dated_data() -> None:
    """The parametrisation above is not empty, and follows the app."""
    assert {"classify", "check", "report"} <= set(commands_with("--as-of"))
