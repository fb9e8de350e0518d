"""Usage errors (exit 2) of every command the app registers name what is wrong.

docs/exit-codes.md: a wrong command line is exit 2 with one line ``fravaer: error: ...`` on
stderr, whether fravaer found it or the command-line library did while parsing (then the line
ends in where the options are listed: ``(see fravaer classify --help)``). Parametrised over the
Typer app, so a command added later is covered here without a change.
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
    command = " ".join(["fravaer", *name.split()])
    assert result.stderr == (
        f"fravaer: error: no such option: {UNKNOWN} (see {command} --help)\n"
    ), result.stderr


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


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (["nope"], "no such command 'nope' (see fravaer --help)"),
        (["policy", "nope"], "no such command 'nope' (see fravaer policy --help)"),
        (["classify"], "missing argument 'EXPORT...' (see fravaer classify --help)"),
        (["policy", "show"], "missing argument 'NAME|PATH' (see fravaer policy show --help)"),
        (  # the library gives this one no context: the command is named from the group's
            ["classify", str(DEMO), "--as-of"],
            "option '--as-of' requires an argument (see fravaer classify --help)",
        ),
        (
            ["classify", str(DEMO), "--format", "pdf"],
            "invalid value for '--format': 'pdf' is not one of 'table', 'csv', 'json', "
            "'parquet', 'xlsx' (see fravaer classify --help)",
        ),
        (
            ["classify", str(DEMO), "--forma", "csv"],
            "no such option: --forma (Possible options: --date-format, --format) "
            "(see fravaer classify --help)",
        ),
    ],
)
def test_a_command_line_error_is_one_line(args: list[str], line: str) -> None:
    """What the command-line library finds while parsing is said in fravaer's one line, not in
    its three lines (``Usage:``, ``Try ...``, ``Error: ...``)."""
    result = run(args)

    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    assert result.stderr == f"fravaer: error: {line}\n"


@pytest.mark.parametrize("name", ["", *sorted(GROUPS)], ids=lambda n: n or "fravaer")
def test_help_is_unchanged_by_the_one_line_errors(name: str) -> None:
    """``--help`` still prints the help on stdout with exit 0, and a group given no command
    still shows its help."""
    helped = run([*name.split(), "--help"])
    bare = run(name.split())

    assert helped.exit_code == 0
    assert helped.stdout.startswith(f"Usage: {' '.join(['fravaer', *name.split()])} [OPTIONS]")
    assert helped.stderr == ""
    assert bare.stdout + bare.stderr == helped.stdout


def test_a_command_line_error_names_no_cell_value(tmp_path: Path) -> None:
    """A path is the user's own and may be named; the line holds nothing read from a file."""
    export = tmp_path / "export.csv"
    export.write_text("pupil_id,school_id,date,category\nSECRET-0101,1,2024-03-04,S\n", "utf-8")

    result = run(["classify", str(export), "--format", "pdf"])

    assert result.exit_code == 2
    assert "SECRET" not in result.stderr
    assert len(result.stderr.splitlines()) == 1
