"""Run the benchmarks of docs/performance.md for the given sizes, then print the targets.

    python benchmarks/bench.py [SIZE...] [--repeat 3]

``make bench`` runs ``4m 20m``; ``make bench-national`` (or ``BENCH_SIZES="4m 20m 100m"``) adds
the national year. Sizes run in the order given, smallest first, so that a mistake shows early.
For every size except ``100m`` the ``;``-separated CSV ingest benchmark and the layouts
benchmark (``bench_layouts.py``: the same rows in every layout) run too.
"""

from __future__ import annotations

import argparse

import bench_classify
import bench_ingest
import bench_layouts
import summary
from common import RESULTS


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("sizes", nargs="*", default=["4m", "20m"])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    for size in args.sizes:
        print(bench_classify.run(size, args.repeat), flush=True)
        if size != "100m":
            print(bench_ingest.run(size, args.repeat), flush=True)
            print(bench_layouts.run(size, args.repeat), flush=True)
    print(summary.render(summary.targets(RESULTS), markdown=False))
    layouts = summary.layout_rows(RESULTS)
    if len(layouts) > 1:
        print(summary.render_table(layouts, markdown=False))


if __name__ == "__main__":
    main()
