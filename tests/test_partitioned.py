"""The partitioned-run recipe of docs/performance.md holds: the N outputs of
``fravaer classify --pupil-partition K/N`` put together are the whole run, row for row.

Classification needs nothing but a pupil's own rows, except two things that the recipe fixes:
the as-of date (given with ``--as-of``, so that no partition picks its own latest date) and the
"has left" rule, which reads the school's last school days (so it must see all of the school's
rows, not only the partition's). The test runs the recipe on ``examples/demo-export.csv`` with
and without ``--include-left`` and with two policies.

Skipped while the installed fravaer has no ``--pupil-partition`` option (it is being added on
another branch); it runs as soon as ``fravaer classify --help`` lists it.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
import typer.main
from typer.testing import CliRunner

from fravaer.cli import app

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "examples" / "demo-export.csv"
AS_OF = "2024-03-08"  # the latest date of the demo export
OPTION = "--pupil-partition"


def has_option() -> bool:
    command = typer.main.get_command(app).commands["classify"]  # type: ignore[attr-defined]
    return any(OPTION in param.opts for param in command.params)


pytestmark = pytest.mark.skipif(
    not has_option(), reason=f"fravaer classify has no {OPTION} option yet"
)


def classify_csv(*args: str) -> tuple[int, str, str]:
    done = CliRunner().invoke(app, ["classify", str(DEMO), "--as-of", AS_OF, *args,
                                    "--format", "csv"])  # fmt: skip
    return done.exit_code, done.stdout, done.stderr


def frame(text: str) -> pl.DataFrame:
    # Every column as text: equal means byte-for-byte the same values.
    from io import StringIO

    return pl.read_csv(StringIO(text), infer_schema=False)


def partitions(n: int, *args: str) -> list[pl.DataFrame]:
    """The outputs of every valid ``K/N``; whether K counts from 0 or 1 is the option's choice."""
    outputs = []
    for k in range(n + 1):
        code, text, errors = classify_csv(OPTION, f"{k}/{n}", *args)
        if code == 0:
            outputs.append(frame(text))
        else:
            assert code == 2, f"{k}/{n}: exit {code}"  # out of range is a usage error
            assert errors == f"fravaer: error: {OPTION} must be K/N with 1 <= K <= N, e.g. 3/8\n"
    assert len(outputs) == n, f"{len(outputs)} of {n} partitions ran"
    return outputs


@pytest.mark.parametrize("n", [1, 2, 5])
@pytest.mark.parametrize(
    "args",
    [(), ("--include-left",), ("--policy", "slagelse")],
    ids=["default", "include-left", "slagelse"],
)
def test_the_partitions_together_are_the_whole_run(n: int, args: tuple[str, ...]) -> None:
    code, text, _ = classify_csv(*args)
    assert code == 0
    whole = frame(text)
    parts = partitions(n, *args)

    ids = [set(p["pupil_id"]) for p in parts]
    assert sum(len(i) for i in ids) == len(set().union(*ids))  # each pupil in one partition
    assert all(len(i) > 0 for i in ids) or n > len(whole)
    order = ["school_id", "pupil_id"]
    together = pl.concat(parts).sort(order)
    assert together.columns == whole.columns
    assert together.equals(whole.sort(order))
