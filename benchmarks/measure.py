"""Run one command as this fresh process's only child; print its wall time and peak RSS as JSON.

    python benchmarks/measure.py COMMAND [ARG...]

Peak RSS is ``getrusage(RUSAGE_CHILDREN).ru_maxrss`` after the child is waited for: the largest
resident set of the child (or of a grandchild it waited for), in KiB on Linux. Because this
parent is new for every run, one run's peak never leaks into the next, as it would if one
long-lived harness read ``RUSAGE_CHILDREN`` after several children. The command's stdout is
discarded; its stderr passes through. A failing command fails this one with its exit code.

On a shared machine, ``FRAVAER_BENCH_MAX_RSS_MB`` caps a run: the child's resident set
(``VmRSS`` in ``/proc/PID/status``) is read every 0.1 s and the child is killed once it is over
the cap; the JSON then says ``"killed_over_mb"`` and the exit status is 137. Polling can miss a
peak between two reads; the cap is a guard for the neighbours, the figure is ``ru_maxrss``.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

KILLED = 137


def rss_mb(pid: int) -> float:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0.0
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def watch(child: subprocess.Popen[bytes], cap: float) -> tuple[int, bool]:
    """Wait for ``child``, killing it once its resident set is over ``cap`` MB."""
    while True:
        try:
            return child.wait(timeout=0.1), False
        except subprocess.TimeoutExpired:
            if rss_mb(child.pid) > cap:
                child.kill()
                child.wait()
                return KILLED, True


def main() -> int:
    cap = float(os.environ.get("FRAVAER_BENCH_MAX_RSS_MB", "0"))
    start = time.perf_counter()
    child = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL)
    code, killed = watch(child, cap) if cap else (child.wait(), False)
    wall = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    if killed:
        print(json.dumps({"wall_s": wall, "peak_rss_mb": peak_mb, "killed_over_mb": cap}))
        return KILLED
    if code != 0:
        return code
    print(json.dumps({"wall_s": wall, "peak_rss_mb": peak_mb}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
