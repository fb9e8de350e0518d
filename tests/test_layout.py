"""The package's shape stays honest: every module has a layer, and the code cites what it ships.

import-linter's ``exhaustive = true`` already fails ``make test`` when a top-level module is not
placed; this checks the same from the files themselves, so the rule holds even if import-linter's
notion of "every module" changes. Citations in the source point at pages under ``docs/``, not at
documents or issue numbers a reader of the repository cannot open.
"""

from __future__ import annotations

import pkgutil
import re
import tomllib
from pathlib import Path

import fravaer

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "src" / "fravaer"


def _layers_contract() -> dict[str, object]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    contracts = config["tool"]["importlinter"]["contracts"]
    layers = [c for c in contracts if c["type"] == "layers"]
    assert len(layers) == 1, "one layers contract over the whole package"
    contract: dict[str, object] = layers[0]
    return contract


def _placed() -> list[str]:
    layers = _layers_contract()["layers"]
    assert isinstance(layers, list)
    return [name.strip() for layer in layers for name in re.split(r"[|:]", layer)]


def _modules() -> set[str]:
    """Every module and package of fravaer, as dotted names below the package."""
    found = pkgutil.walk_packages(fravaer.__path__, prefix="fravaer.")
    return {info.name.removeprefix("fravaer.") for info in found}


def test_the_layers_contract_is_exhaustive_over_the_package() -> None:
    contract = _layers_contract()
    assert contract["containers"] == ["fravaer"]
    assert contract["exhaustive"] is True


def test_every_module_of_the_package_is_placed_in_a_layer() -> None:
    placed = _placed()
    unplaced = sorted(m for m in _modules() if m.split(".")[0] not in placed)
    assert not unplaced, f"place these modules in the layers contract: {unplaced}"


def test_the_layers_name_only_modules_that_exist_each_once() -> None:
    placed = _placed()
    top = {m.split(".")[0] for m in _modules()}
    assert sorted(set(placed) - top) == []
    assert len(placed) == len(set(placed))


def test_the_walk_sees_the_whole_package() -> None:
    """A guard on the guard: the walk finds the files that are there, packages included."""
    files = {
        ".".join(p.relative_to(SOURCE).with_suffix("").parts).removesuffix(".__init__")
        for p in SOURCE.rglob("*.py")
        if p.name != "__init__.py" or p.parent != SOURCE
    }
    assert files <= _modules()


def test_the_source_cites_no_spec_sections_and_no_issue_numbers() -> None:
    cited = re.compile(r"SPEC §|\(issues? \d+|, issues? \d+\)")
    found = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in sorted((ROOT / "src").rglob("*"))
        if path.is_file() and path.suffix in {".py", ".toml", ".md", ".txt"}
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if cited.search(line)
    ]
    assert not found, f"cite a page under docs/ instead: {found}"
