"""The ``fravaer`` command line: one thin function per subcommand, and the one place errors end.

stdout carries data only; messages go to stderr. Errors are caught in exactly one place,
:meth:`_Group.invoke`, and become one line (plus a hint) and the documented exit code. Errors
found while the command line is parsed (an unknown option, a missing argument) are the
command-line library's; :class:`_UsageLine` prints them in the same one line, with exit 2.

The rooms: :mod:`~fravaer.cli.options` (the options commands share, and their parsing),
:mod:`~fravaer.cli.setup` (the one setup of every command that reads exports, and the clock), and
one module per command or family of commands. Every command is registered below, in the order
``fravaer --help`` lists them.
"""

from __future__ import annotations

import logging
import sys
import traceback
from typing import Annotated, Any

import typer

# Typer vendors Click and re-exports only BadParameter of its exceptions; these two are its
# classes of every command-line error and of a bare group's help (pinned in requirements.lock;
# tests/test_usage.py fails if they move).
from typer._click.exceptions import NoArgsIsHelpError, UsageError
from typer.core import TyperGroup

from fravaer import __version__
from fravaer.cli import (
    check,
    classify,
    demo,
    escalate,
    policy,
    pseudonymize,
    setup,
    site,
    stats,
    trend,
)
from fravaer.errors import EXIT_INTERNAL, FravaerError, Interrupted, Stopped, stopped
from fravaer.render import progress
from fravaer.schema import shown_text

log = logging.getLogger("fravaer")


class _UsageLine(UsageError):
    """A command-line error as one line, ``fravaer: error: problem (see COMMAND --help)``,
    instead of the library's usage, hint and error lines (docs/exit-codes.md); exit 2."""

    def __init__(self, message: str, command: str | None) -> None:
        super().__init__(message)
        self.command = command

    def show(self, file: Any = None) -> None:
        typer.echo(usage_line(self.format_message(), self.command), err=True)


def usage_line(message: str, command: str | None) -> str:
    """The one line of a command-line error: the library's message on one line, without its
    capital and full stop, and where the command's options are listed.

    >>> usage_line("No such option: --zzz", "fravaer classify")
    'fravaer: error: no such option: --zzz (see fravaer classify --help)'
    >>> usage_line("Invalid value for '--format': Value error, 'pdf' is not one of 'csv'.", None)
    "fravaer: error: invalid value for '--format': 'pdf' is not one of 'csv'"
    """
    text = " ".join(message.replace("Value error, ", "").split()).removesuffix(".")
    text = text[:1].lower() + text[1:]
    see = f" (see {command} --help)" if command else ""
    return f"fravaer: error: {shown_text(text)}{see}"


def _one_line(exc: UsageError, command: str | None = None) -> UsageError:
    """``exc`` as :class:`_UsageLine`; a group's help without a command stays as it is."""
    if isinstance(exc, NoArgsIsHelpError | _UsageLine):
        return exc
    where = exc.ctx.command_path if exc.ctx is not None else command
    return _UsageLine(exc.format_message(), where)


class _Group(TyperGroup):
    """Turns every error into one line on stderr and the documented exit code."""

    def make_context(
        self, info_name: str | None, args: list[str], parent: Any = None, **extra: Any
    ) -> Any:  # typer's vendored click.Context
        try:
            return super().make_context(info_name, args, parent=parent, **extra)
        except UsageError as exc:  # an option of the group itself
            raise _one_line(exc) from None

    def invoke(self, ctx: Any) -> Any:  # typer's vendored click.Context
        try:
            with progress() as stage:
                setup.STAGE[0] = stage
                return super().invoke(ctx)
        except FravaerError as exc:
            _error(exc.message)
            if exc.hint:
                typer.echo(f"fravaer: hint: {shown_text(exc.hint)}", err=True)
            ctx.exit(exc.exit_code)
        except UsageError as exc:  # a command's own command line; some errors carry no context
            command = ctx.command_path
            if ctx.invoked_subcommand:
                command = f"{command} {ctx.invoked_subcommand}"
            raise _one_line(exc, command) from None
        except (typer.Exit, typer.Abort, typer.TyperException):
            raise
        except SystemExit:
            raise
        except (KeyboardInterrupt, Stopped) as exc:  # SIGINT, SIGTERM (see fravaer.entry)
            kind = stopped(exc) or Interrupted
            _error(kind.line)
            ctx.exit(kind.exit_code)
        except BaseException as exc:  # polars' Rust panics arrive as a BaseException
            if ctx.params.get("debug"):
                traceback.print_exc()
            else:
                # The message of a library exception can quote a cell: show only its type.
                _error(f"internal error ({type(exc).__name__}); run with --debug for details")
            ctx.exit(EXIT_INTERNAL)


class _MessageFormatter(logging.Formatter):
    """``fravaer: message`` for information, ``fravaer: warning: message`` for the rest."""

    def format(self, record: logging.LogRecord) -> str:
        level = "" if record.levelno <= logging.INFO else f"{record.levelname.lower()}: "
        return f"fravaer: {level}{shown_text(record.getMessage())}"


def _error(message: str) -> None:
    # A path or a school id in a message may hold an escape sequence: never raw on a terminal.
    typer.echo(f"fravaer: error: {shown_text(message)}", err=True)


app = typer.Typer(
    cls=_Group,
    name="fravaer",
    help="Early, exact answers about worrying absence in Danish schools.",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"fravaer {__version__}")
        raise typer.Exit()


@app.callback()
def _options(
    debug: Annotated[
        bool, typer.Option("--debug", help="Show tracebacks of internal errors (may hold data).")
    ] = False,
    version: Annotated[
        bool,
        typer.Option(
            "--version", "-V", callback=_show_version, is_eager=True, help="Show the version."
        ),
    ] = False,
) -> None:
    """Early, exact answers about worrying absence in Danish schools."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_MessageFormatter())
    log.handlers[:] = [handler]
    log.setLevel(logging.DEBUG if debug else logging.INFO)
    log.propagate = False


policy_app = typer.Typer(
    cls=_Group,
    help="The guideline policies: list, show and validate them.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(policy_app, name="policy")

app.command("classify")(classify.classify)
app.command("explain")(classify.explain)
app.command("inspect")(check.inspect)
policy_app.command("list")(policy.policy_list)
policy_app.command("show")(policy.policy_show)
policy_app.command("validate")(policy.policy_validate)
app.command("demo-data")(demo.demo_data)
app.command("check")(check.check)
app.command("pseudonymize")(pseudonymize.pseudonymize)
app.command("escalate")(escalate.escalate)
app.command("report")(escalate.report)
app.command("trend")(trend.trend)
app.command("patterns")(trend.patterns)
app.command("early-warning")(trend.early_warning)
app.command("stats")(stats.stats)
app.command("site")(site.site)


def main() -> None:
    """Console-script entry point."""
    app(prog_name="fravaer")
