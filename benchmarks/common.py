"""What the benchmarks share: the cached synthetic data sets and where results go."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).parent
DATA = HERE / "data"
RESULTS = HERE / "results"


def dataset(pupils: int, suffix: str) -> Path:
    """``fravaer demo-data`` for ``pupils`` pupils as ``.parquet`` or ``.csv``, made once."""
    path = DATA / f"demo-{pupils}{suffix}"
    if not path.exists():
        DATA.mkdir(exist_ok=True)
        subprocess.run(
            [sys.executable, "-m", "fravaer", "demo-data", "--pupils", str(pupils),
             "--schools", str(max(1, pupils // 400)), "--seed", "1", "-o", str(path)],
            check=True,
        )  # fmt: skip
    return path
