"""The console script and ``python -m fravaer``: signal handlers first, the CLI after.

Importing the CLI imports polars, pyarrow and pydantic, which takes a noticeable moment; a Ctrl-C
or a SIGTERM in that moment must end the run like one later on: one line on stderr, exit 130 or
143, and no temporary file (docs/exit-codes.md). So this module imports nothing heavy, installs
the handlers, and only then imports :mod:`fravaer.cli`. A handler raises an exception in the
main thread (:class:`~fravaer.errors.Interrupted`, :class:`~fravaer.errors.Terminated`) so that
every writer's ``try``/``finally`` removes its temporary file on the way out.

Python runs a handler only between bytecodes: while polars is inside a long ``collect`` the
signal waits until it returns. A run killed outright (SIGKILL after a timeout) still leaves its
temporary file; the next write in that folder removes it (``fravaer.output.remove_stale``).
"""

from __future__ import annotations

import signal
import sys
from types import FrameType

from fravaer.errors import Interrupted, Stopped, Terminated, stopped

_RAISED: list[int] = []


def _handler(signum: int, frame: FrameType | None) -> None:
    """Raise the signal as an exception, once: a second signal must not cut the cleanup short."""
    if _RAISED:
        return
    _RAISED.append(signum)
    raise Interrupted() if signum == signal.SIGINT else Terminated()


def install() -> None:
    """Turn SIGINT and SIGTERM into exceptions (a SIGINT ignored by the caller stays ignored)."""
    if signal.getsignal(signal.SIGINT) is not signal.SIG_IGN:
        signal.signal(signal.SIGINT, _handler)
    signal.signal(signal.SIGTERM, _handler)


def _stop(kind: type[Stopped]) -> None:
    sys.stderr.write(f"fravaer: error: {kind.line}\n")
    sys.stderr.flush()
    sys.exit(kind.exit_code)


def _settle() -> None:
    """Ignore SIGINT and SIGTERM from here on: the run is over, its files written or removed.

    Python resets its own handlers to the default while it shuts down, so a Ctrl-C that came
    just after the last line would otherwise kill the process with no line on stderr (shown as
    exit 130 for a run that had finished). An ignored signal is not reset; the run exits with
    its own code (docs/exit-codes.md#signals).
    """
    for signum in (signal.SIGINT, signal.SIGTERM):
        if signal.getsignal(signum) is _handler:
            signal.signal(signum, signal.SIG_IGN)


def main() -> None:
    """Console-script entry point: handlers, then the command line."""
    install()
    try:
        from fravaer.cli import main as cli_main

        cli_main()
    except BaseException as exc:
        kind = stopped(exc)
        if kind is None:
            raise
        _stop(kind)
    finally:
        _settle()
