"""The site's pupil pages rendered in helper processes beside this one
(docs/site.md#rendering-in-a-helper-process).

Rendering a site's pages is Python work, one core's worth, while the machine has more. The
pupils' pages are split into consecutive shares, one per core this process may use (none for a
small site: :data:`PAGES_PER_HELPER`); each share but the first goes to a helper process, a fresh
``python -P -m fravaer.site_helpers`` that reads its share (its pupils' rows of the figures, as
:class:`~fravaer.pages.build.PupilFigures`) and the site's context as one pickle on its standard
input and writes the rendered pages as one pickle on its standard output. This process renders
the overview pages and the first share meanwhile, then takes the helpers' pages in order, so the
site is byte for byte what one process renders.

A helper writes no file and prints nothing: its standard error goes to ``/dev/null``, and on any
failure it exits non-zero without a word (a message could quote a pupil's figure). Of the
pupils' tokens it is sent only those of its own pages, and ``-P`` keeps the current folder off
its module path. A helper that cannot be started or fails has its share rendered here instead,
so a site never depends on one.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import pickle
import subprocess
import sys
import threading
from dataclasses import replace
from typing import IO, Final

from fravaer.pages import SiteContext
from fravaer.pages.build import (
    PupilFigures,
    dossiers,
    overview_pages,
    pupil_page,
    render_dossiers,
)
from fravaer.schema import PUPIL_ID, SCHOOL_ID
from fravaer.site import Changes, SiteFrames

log = logging.getLogger(__name__)

PAGES_PER_HELPER: Final = 1000
"""The fewest pupil pages a helper is started for: starting one costs about a third of a second
(a Python interpreter and the templates), and a page about a millisecond to render."""
MOST_PROCESSES: Final = 4
"""The most processes that render, this one included: beyond it the pages no longer come
faster than they are written."""

Pages = list[tuple[str, bytes]]


def site_pages_beside(
    frames: SiteFrames, ctx: SiteContext, *, changes: Changes | None = None
) -> Pages:
    """Every page of the site as ``(path relative to the site's folder, UTF-8 bytes)``: the
    overview pages, then the pupils' pages in the order of ``frames.listed``, shared among
    :func:`processes` processes (the same bytes as one process renders).

    As :func:`~fravaer.pages.build.overview_pages` asks, and ``ctx.tokens`` names every
    listed pupil."""
    figures = PupilFigures.of(frames)
    listed = figures.listed.height
    shares = [figures.rows(part.start, part.stop) for part in split(listed, processes(listed))]
    helpers: list[Helper] = []
    try:
        helpers += (Helper(share, for_share(ctx, share)) for share in shares[1:])
        pages = overview_pages(frames, ctx, changes=changes)
        pages += render_dossiers(dossiers(shares[0], ctx), ctx)
        for helper, share in zip(helpers, shares[1:], strict=True):
            pages += helper.pages() or render_dossiers(dossiers(share, ctx), ctx)
    finally:
        for helper in helpers:
            helper.stop()
    return pages


def for_share(ctx: SiteContext, share: PupilFigures) -> SiteContext:
    """What a helper is told of the site: everything but the tokens of pupils not in its share
    (the names of their pages, which it does not need)."""
    pupils = share.listed[PUPIL_ID].to_list()
    return replace(ctx, tokens={pupil: ctx.tokens[pupil] for pupil in pupils})


def processes(pages: int) -> int:
    """How many processes render ``pages`` pupil pages: one per core this process may use, at
    most :data:`MOST_PROCESSES`, and one more than the pages' thousands; one alone where no
    interpreter can be started (a frozen program has none of its own to start)."""
    if not sys.executable or getattr(sys, "frozen", False):
        return 1
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, min(cores or 1, MOST_PROCESSES, pages // PAGES_PER_HELPER + 1))


def split(count: int, parts: int) -> list[range]:
    """``count`` rows in ``parts`` consecutive shares of sizes that differ by at most one."""
    size, more = divmod(count, parts)
    bounds = [i * size + min(i, more) for i in range(parts + 1)]
    return [range(bounds[i], bounds[i + 1]) for i in range(parts)]


class Helper:
    """One helper process rendering ``share``: started at once and sent its work by a thread of
    its own, so that this process renders meanwhile; its pages are read when asked for
    (:meth:`pages`). Anything that goes wrong leaves the share to be rendered here."""

    def __init__(self, share: PupilFigures, ctx: SiteContext) -> None:
        pupils = share.listed.select(SCHOOL_ID, PUPIL_ID).rows()
        self._paths = [pupil_page(school, pupil, ctx) for school, pupil in pupils]
        self._process: subprocess.Popen[bytes] | None = None
        try:
            work = pickle.dumps((__file__, share, ctx), protocol=pickle.HIGHEST_PROTOCOL)
            self._process = subprocess.Popen(
                # -P: no module from the current folder, which the command itself never reads.
                [sys.executable, "-P", "-m", __name__],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                # The helper imports the modules this process imported, wherever they came from.
                env={**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)},
            )
            _widen(self._process.stdin, self._process.stdout)
            self._thread = threading.Thread(target=self._talk, args=(work,), daemon=True)
            self._thread.start()
        except Exception as exc:  # any failure: the share is rendered here
            log.debug("a helper process could not start (%s): rendered here", type(exc).__name__)
            self.stop()
            self._process = None

    def _talk(self, work: bytes) -> None:
        """Send the work (a failure shows as the helper's exit status)."""
        stdin = None if self._process is None else self._process.stdin
        if stdin is not None:
            with contextlib.suppress(Exception), stdin:
                stdin.write(work)

    def pages(self) -> Pages | None:
        """The rendered pages, in the share's order; None when the helper failed.

        The helper writes its pages once its whole share is rendered, as one pickle, which
        this thread reads when its own rendering is done: read by a second thread meanwhile,
        each chunk waited for the interpreter's lock that the rendering holds, and a helper
        that finished first took more than a second longer to hand its pages over
        (docs/site.md#rendering-in-a-helper-process). The shares are unpacked one at a time,
        so that at most one is held twice."""
        process = self._process
        if process is None or process.stdout is None:
            return None
        try:
            with process.stdout:
                out = process.stdout.read()
            self._thread.join()
            pages: Pages | None = pickle.loads(out) if process.wait() == 0 else None
        except Exception:  # a cut or garbled answer: rendered here
            pages = None
        if pages is None or [path for path, _ in pages] != self._paths:
            log.debug("a helper process failed (exit %s): rendered here", process.poll())
            return None
        return pages

    def stop(self) -> None:
        """End the helper if it still runs (this process failed before taking its pages)."""
        if self._process is not None and self._process.poll() is None:
            self._process.kill()
            self._process.wait()


PIPE_BYTES: Final = 1 << 20
"""The pipes' buffer, where the system allows it (Linux, up to ``/proc/sys/fs/pipe-max-size``,
1 MiB by default), 16 times the default: fewer writes and reads, each of which waits for the
interpreter's lock while this process renders."""


def _widen(*pipes: IO[bytes] | None) -> None:
    set_size = getattr(fcntl, "F_SETPIPE_SZ", None)  # Linux only
    for pipe in pipes:
        if set_size is not None and pipe is not None:
            with contextlib.suppress(OSError):
                fcntl.fcntl(pipe.fileno(), set_size, PIPE_BYTES)


def main() -> int:
    """The helper: one share in from standard input, its pages out to standard output as one
    pickle. It renders nothing unless it runs this module's own file, as the process that
    started it does (else that process renders the share itself)."""
    try:
        parent_file, share, ctx = pickle.load(sys.stdin.buffer)
        if parent_file != __file__:
            return 1
        pages = render_dossiers(dossiers(share, ctx), ctx)
        pickle.dump(pages, sys.stdout.buffer, pickle.HIGHEST_PROTOCOL)
        sys.stdout.buffer.flush()
    except BaseException:  # silent by design: a message could quote a pupil
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
