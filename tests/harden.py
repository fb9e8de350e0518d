"""Shared helpers for the hardening tests (docs/privacy.md): the commands that read exports, how
to run each of them on one export with its required arguments, and what a clean refusal looks like.

The commands are discovered from the Typer app (every command whose first parameter is the
``exports``/``export`` argument), so a command merged later is covered without a change here;
``report`` reads exports through its ``report.toml`` and is run through a generated one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import typer.core
import typer.main
from typer.testing import CliRunner, Result

from fravaer.cli import app
from fravaer.report import LOCK_NAME, status_path

STATUS_NAME = status_path(Path(LOCK_NAME)).name
"""Report's status file beside its lock in the output folder (docs/report.md)."""

ROOT = Path(__file__).resolve().parents[1]
ERROR = "fravaer: error: "
HINT = "fravaer: hint: "

TOP = typer.main.get_command(app)
assert isinstance(TOP, typer.core.TyperGroup)
Command = typer.core.TyperCommand | typer.core.TyperGroup

HEADER = "pupil_id,school_id,date,category,absent_fraction,grade,class_name"
PUPIL = "0000001"
SINCE = "2024-02-01"
# A test key: random-looking, since fravaer refuses one typed by hand (docs/pseudonymize.md).
KEY_HEX = "240467864bd0b81b4053fb1c6c3ab653edaec0b2f0d278dd530f1bf5f592d4c9"

# Arguments a command cannot run without, besides the exports and -o. A command merged later that
# needs one fails test_every_required_option_is_known until it is added here.
REQUIRED_ARGS: dict[str, list[str]] = {
    "explain": ["--pupil", PUPIL],
    "trend": ["--pupil", PUPIL],
    "escalate": ["--since", SINCE],
    "pseudonymize": ["--key-file", "{key}"],
}


def export_commands() -> dict[str, Command]:
    """Every subcommand whose first parameter is the export(s) argument."""
    found = {}
    for name, command in TOP.commands.items():
        params = command.params
        if (
            params
            and isinstance(params[0], typer.core.TyperArgument)
            and params[0].name
            in (
                "exports",
                "export",
            )
        ):
            found[name] = command
    return found


COMMANDS = export_commands()
READERS = [*sorted(COMMANDS), "report"]
"""Every command that reads exports; ``report`` through its config file."""


def option_names(name: str) -> set[str]:
    """The parameter names of a command (``policy``, ``source``, ``encoding``...)."""
    if name == "report":
        return {"policy", "source", "encoding", "separator", "date_format", "sheet", "shape"}
    return {p.name for p in COMMANDS[name].params if p.name}


def output_format(name: str) -> str | None:
    """csv when the command writes it, else json, else the first choice; None without --format."""
    for param in COMMANDS[name].params:
        choices = getattr(getattr(param, "type_descriptor", None), "choices", None)
        if param.name == "fmt" and choices:
            for preferred in ("csv", "json"):
                if preferred in choices:
                    return preferred
            return choices[0]
    return None


@dataclass
class Invocation:
    """A command run on one export, with its output folder (empty before the run)."""

    command: str
    export: Path
    out: Path
    options: dict[str, str] = field(default_factory=dict)
    policy: Path | None = None
    source: Path | None = None
    config_text: str | None = None  # report only: replaces the generated report.toml

    def args(self) -> list[str]:
        folder = self.out.parent
        if self.command == "report":
            config = folder / "report.toml"
            config.write_text(self.config_text or self.report_toml(), encoding="utf-8")
            return ["report", "--config", str(config)]
        key = folder / "key.txt"
        if not key.exists():
            key.write_text(KEY_HEX)
            key.chmod(0o600)
        args = [self.command, str(self.export)]
        args += [a.replace("{key}", str(key)) for a in REQUIRED_ARGS.get(self.command, [])]
        fmt = output_format(self.command)
        if fmt is not None:
            args += ["--format", fmt]
        names = option_names(self.command)
        if "output" in names:
            args += ["-o", str(self.out / f"result.{fmt or 'csv'}")]
        if self.policy is not None:
            args += ["--policy", str(self.policy)]
        if self.source is not None:
            args += ["--source", str(self.source)]
        for option, value in self.options.items():
            args += [f"--{option.replace('_', '-')}", value]
        return args

    def report_toml(self) -> str:
        lines = [f'output_folder = "{self.out}"']
        if self.policy is not None:
            lines.append(f'policy = "{self.policy}"')
        lines += ["", "[inputs]", f'paths = ["{self.export}"]']
        if self.source is not None:
            lines.append(f'source_file = "{self.source}"')
        elif self.options:
            lines += ["", "[inputs.source]"]
            lines += [f'{k} = "{v}"' for k, v in self.options.items()]
        lines += ["", "[[outputs]]", 'kind = "classification"', 'file = "result.csv"', ""]
        return "\n".join(lines)

    def run(self) -> Result:
        self.out.mkdir(exist_ok=True)
        return CliRunner().invoke(app, self.args())

    def written(self) -> list[str]:
        """Files in the output folder after the run (report's lock file and status file are not
        outputs: :meth:`status` reads the status)."""
        if not self.out.exists():
            return []
        return sorted(
            p.relative_to(self.out).as_posix()
            for p in self.out.rglob("*")
            if p.is_file() and p.name not in (LOCK_NAME, STATUS_NAME)
        )

    def status(self) -> str:
        """Report's status file after the run ("" for other commands, or if none was written)."""
        path = self.out / STATUS_NAME
        return path.read_text(encoding="utf-8") if path.exists() else ""


def stderr_lines(result: Result) -> list[str]:
    return result.stderr.splitlines()


def assert_one_error(result: Result, exit_code: int, *, skip: int = 0) -> str:
    """The exit code, no traceback, and stderr exactly one error line (and maybe a hint).

    ``skip`` lines of stderr before the error are not looked at (a report's summary line).
    """
    assert result.exit_code == exit_code, (result.exit_code, result.stderr, result.exception)
    assert "Traceback" not in result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    lines = stderr_lines(result)[skip:]
    assert len(lines) in (1, 2), result.stderr
    assert lines[0].startswith(ERROR), result.stderr
    if len(lines) == 2:
        assert lines[1].startswith(HINT), result.stderr
    return lines[0]


def documented_exit_codes() -> set[int]:
    """The exit codes in docs/exit-codes.md's table."""
    text = (ROOT / "docs" / "exit-codes.md").read_text(encoding="utf-8")
    return {int(code) for code in re.findall(r"^\| (\d+) \|", text, re.MULTILINE)}
