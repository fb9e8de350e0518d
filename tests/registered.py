"""What the app and the package register, for tests that follow it instead of hand lists.

The commands come from the Typer app (``policy list`` and the other commands of a group by
their full path), the policies from ``fravaer.ingest.policy``: a command or a bundled policy
added later is covered by every test parametrised over these, without a change to the tests.
"""

from __future__ import annotations

import typer.core
import typer.main

from fravaer.cli import app
from fravaer.ingest.policy import bundled_policies, bundled_series

TOP = typer.main.get_command(app)
assert isinstance(TOP, typer.core.TyperGroup)
Command = typer.core.TyperCommand | typer.core.TyperGroup


def _walk(group: typer.core.TyperGroup, path: tuple[str, ...]) -> dict[str, Command]:
    found: dict[str, Command] = {}
    for name, command in group.commands.items():
        assert isinstance(command, typer.core.TyperCommand | typer.core.TyperGroup)
        found[" ".join((*path, name))] = command
        if isinstance(command, typer.core.TyperGroup):
            found |= _walk(command, (*path, name))
    return found


EVERY_COMMAND = _walk(TOP, ())
"""Every command and group by its full path: ``classify``, ``policy``, ``policy list``..."""

GROUPS = {name: c for name, c in EVERY_COMMAND.items() if isinstance(c, typer.core.TyperGroup)}
COMMANDS = {name: c for name, c in EVERY_COMMAND.items() if name not in GROUPS}
"""Every command that runs (not a group), by its full path."""


def commands_with(option: str) -> list[str]:
    """The commands that take ``option`` (``--as-of``), sorted."""
    return sorted(
        name
        for name, command in COMMANDS.items()
        if any(option in param.opts for param in command.params)
    )


def required_options(name: str) -> set[str]:
    """The options a command cannot run without (its arguments are not options)."""
    return {
        param.opts[0]
        for param in COMMANDS[name].params
        if param.required and isinstance(param, typer.core.TyperOption)
    }


POLICIES = bundled_policies()
"""Every bundled policy's name."""

SERIES = sorted(bundled_series())
"""Every bundled series' name (a policy without a series is a series of one)."""
