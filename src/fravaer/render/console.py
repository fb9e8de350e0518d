"""The consoles every view draws on: no markup, no emoji, every text shown safely; progress."""

from __future__ import annotations

import io
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import IO, Any

from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.text import Text

from fravaer.schema import shown_text


def terminal_text(value: object) -> str:
    """Any text on its way to a terminal: control and invisible characters shown as U+FFFD.

    An ESC or an OSC 8 sequence in a class name would otherwise reach the terminal raw (colours,
    a hidden link, a moved cursor), a line break would forge a row and a bidi override reorder
    one. rich markup (``[/5.A]``, ``[bold]0000009[/bold]``) and emoji codes are never read: every
    console here has ``markup=False`` and ``emoji=False`` (docs/privacy.md).

    >>> terminal_text("[bold]0000009[/bold]") == "[bold]0000009[/bold]"
    True
    >>> terminal_text("5.A\x1b[31m") == "5.A\ufffd[31m"
    True
    """
    return shown_text(str(value))


class SafeConsole(Console):
    """A console that reads no markup or emoji codes and passes every string through
    :func:`terminal_text`: table cells, titles and headings as well as printed lines."""

    def render_str(self, text: str, **options: Any) -> Text:
        return super().render_str(terminal_text(text), **options)


def styled(value: str, style: str = "") -> Text:
    """A styled line of text: the only way text reaches a console other than as a string."""
    return Text(terminal_text(value), style=style)


def make_console(
    width: int | None, *, title: str | None = None, color: bool = False
) -> tuple[Console, io.StringIO]:
    """A console that draws into a buffer at ``width`` (None: the terminal's), and the buffer;
    with ``title``, the view's bold first line already printed."""
    buffer = io.StringIO()
    console = SafeConsole(
        file=buffer,
        width=width,
        force_terminal=color,
        no_color=not color,
        highlight=False,
        markup=False,
        emoji=False,
    )
    if title is not None:
        console.print(styled(title, style="bold"))
    return console, buffer


@contextmanager
def progress(stream: IO[str] | None = None) -> Iterator[Callable[[str], None]]:
    """A spinner with the current stage and the elapsed time on a terminal's stderr.

    Yields a function that names the stage (``"reading 2 input file(s)"``); stage texts carry
    no personal data. When ``stream`` (default stderr) is not a terminal -- a pipe, a file, cron
    -- nothing is drawn and the function does nothing. The line is removed when the block ends,
    so messages and errors printed after it stand alone.
    """
    stream = sys.stderr if stream is None else stream
    if not stream.isatty():
        yield lambda text: None
        return
    console = Console(file=stream)
    columns = (SpinnerColumn(), TextColumn("{task.description}", markup=False), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task("fravaer", total=None)
        yield lambda text: bar.update(task, description=f"fravaer: {text}")
