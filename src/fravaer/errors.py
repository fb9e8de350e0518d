"""The error hierarchy and its exit codes (docs/exit-codes.md).

Every error the user can cause is a :class:`FravaerError` carrying a one-line message, an optional
hint and the documented exit code. Messages name files, lines, columns and counts — never a cell's
value, because cells hold children's data. The CLI catches these in exactly one place.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

EXIT_OK = 0
EXIT_USAGE = 2
EXIT_DATAERR = 65
EXIT_NOINPUT = 66
EXIT_INTERNAL = 70
EXIT_CANTCREAT = 73
EXIT_IOERR = 74
EXIT_TEMPFAIL = 75
EXIT_CONFIG = 78
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report it
EXIT_TERMINATED = 143  # 128 + SIGTERM


@dataclass(frozen=True)
class Location:
    """Where in an input file something went wrong: file, 1-based line and column."""

    file: str
    line: int | None = None
    column: int | None = None
    column_name: str | None = None

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        if self.column_name is not None:
            where += f" (column '{self.column_name}')"
        return where


class FravaerError(Exception):
    """Base of every error the user can cause; carries the exit code."""

    exit_code: ClassVar[int] = EXIT_INTERNAL

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class UsageError(FravaerError):
    """The command line is wrong (exit 2)."""

    exit_code = EXIT_USAGE


class BadInputError(FravaerError):
    """The input data is malformed (exit 65)."""

    exit_code = EXIT_DATAERR

    def __init__(self, location: Location, problem: str, *, hint: str | None = None) -> None:
        super().__init__(f"{location}: {problem}", hint=hint)
        self.location = location


class ImpossibleAbsenceError(FravaerError):
    """A classified pupil has more absent days than school days in the window (exit 65).

    No export read by :func:`fravaer.read_export` can give this: it means the frame was built
    some other way (lesson rows classified as whole days, say). The message counts pupils and
    never names one.
    """

    exit_code = EXIT_DATAERR


class InputMissingError(FravaerError):
    """An input file is missing or unreadable (exit 66)."""

    exit_code = EXIT_NOINPUT


class CannotCreateOutputError(FravaerError):
    """An output file cannot be created (exit 73)."""

    exit_code = EXIT_CANTCREAT


class OutputIOError(FravaerError):
    """Writing failed part-way, e.g. a full disk (exit 74)."""

    exit_code = EXIT_IOERR


class LockHeldError(FravaerError):
    """Another run holds the lock (exit 75)."""

    exit_code = EXIT_TEMPFAIL


class PolicyError(FravaerError):
    """A policy or configuration file is invalid (exit 78)."""

    exit_code = EXIT_CONFIG


class Stopped(BaseException):
    """A signal ends the run: raised in the main thread, so that every writer's cleanup runs.

    Not an :class:`Exception`, so that nothing on the way catches it as an error; the CLI turns
    it into one line and the signal's exit code (docs/exit-codes.md).
    """

    exit_code: ClassVar[int] = EXIT_INTERRUPTED
    line: ClassVar[str] = "interrupted (SIGINT); no partial output is left"


class Interrupted(Stopped):
    """SIGINT (Ctrl-C): exit 130."""


class Terminated(Stopped):
    """SIGTERM (``kill``, systemd, a cron timeout): exit 143."""

    exit_code = EXIT_TERMINATED
    line = "terminated (SIGTERM); no partial output is left"


def stopped(exc: BaseException) -> type[Stopped] | None:
    """The kind of stop ``exc`` is (a ``KeyboardInterrupt`` counts as SIGINT), if it is one."""
    if isinstance(exc, Stopped):
        return type(exc)
    if isinstance(exc, KeyboardInterrupt):
        return Interrupted
    return None
