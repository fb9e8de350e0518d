"""What an installation gives: the wheel's files, `-V`, shell completion, and the language setting.

docs/install.md promises these; the console examples there run in tests/test_docs.py.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

from fravaer import __version__
from fravaer.cli import app
from fravaer.render import escalation_sheet_names

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "examples" / "demo-export.csv"
FRAVAER = Path(sys.executable).parent / "fravaer"


def test_the_wheel_holds_every_file_the_package_ships(tmp_path: Path) -> None:
    """Policies, reference figures and every other data file under src/fravaer reach a real
    install (not only the editable one of `make demo`)."""
    tracked = subprocess.run(
        ["git", "ls-files", "src/fravaer"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    shipped = {p.removeprefix("src/") for p in tracked if not p.endswith(".py")}
    assert shipped, "the package ships data files (the bundled policies at least)"
    tree = tmp_path / "tree"
    shutil.copytree(ROOT / "src", tree / "src", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, tree / name)

    build = [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation"]
    subprocess.run(
        [*build, "-w", str(tmp_path / "dist"), str(tree)],
        check=True,
        capture_output=True,
    )

    (wheel,) = (tmp_path / "dist").glob("fravaer-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert sorted(shipped - names) == []
    entry_points = zipfile.ZipFile(wheel).read(f"fravaer-{__version__}.dist-info/entry_points.txt")
    assert b"fravaer = fravaer.entry:main" in entry_points


@pytest.mark.parametrize("flag", ["-V", "--version"])
def test_the_version(flag: str) -> None:
    result = CliRunner().invoke(app, [flag])

    assert result.exit_code == 0
    assert result.stdout == f"fravaer {__version__}\n"


def test_shell_completion_completes_commands_and_options() -> None:
    def complete(*words: str) -> list[str]:
        env = dict(os.environ, _FRAVAER_COMPLETE="complete_bash")
        env |= {"COMP_WORDS": " ".join(words), "COMP_CWORD": str(len(words) - 1)}
        done = subprocess.run([FRAVAER], env=env, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        return done.stdout.split()

    assert complete("fravaer", "cla") == ["classify"]
    assert "--lang" in complete("fravaer", "classify", "--la")
    assert "list" in complete("fravaer", "policy", "")


# -- the language: --lang, then FRAVAER_LANG, then Danish ------------------------------------------


def _table(*args: str, env: dict[str, str] | None = None) -> str:
    result = CliRunner().invoke(app, ["classify", str(DEMO), "--format", "table", *args], env=env)
    assert result.exit_code == 0, result.stderr
    return result.stdout


def test_fravaer_lang_sets_the_language_and_an_explicit_lang_wins() -> None:
    danish, english = _table(), _table("--lang", "en")
    assert danish != english

    assert _table(env={"FRAVAER_LANG": "en"}) == english
    assert _table("--lang", "da", env={"FRAVAER_LANG": "en"}) == danish
    assert _table(env={"FRAVAER_LANG": "da"}) == danish


def test_a_bad_fravaer_lang_is_a_usage_error_naming_the_variable() -> None:
    result = CliRunner().invoke(
        app, ["classify", str(DEMO), "--format", "table"], env={"FRAVAER_LANG": "fr"}
    )

    assert result.exit_code == 2
    assert "FRAVAER_LANG" in result.stderr


REPORT = """\
output_folder = "out"
state = "state.json"
policy = "aalborg"
{lang}
[inputs]
paths = ["{export}"]

[[outputs]]
kind = "escalations"
file = "eskaleringer.xlsx"
"""


@pytest.mark.parametrize(
    ("config_lang", "env", "expected"),
    [
        ("", None, "da"),
        ("", "en", "en"),
        ('lang = "da"', "en", "da"),  # report.toml's own language wins
        ('lang = "en"', None, "en"),
    ],
)
def test_report_takes_its_language_from_the_config_then_fravaer_lang(
    tmp_path: Path, config_lang: str, env: str | None, expected: str
) -> None:
    config = tmp_path / "report.toml"
    config.write_text(REPORT.format(lang=config_lang, export=DEMO), encoding="utf-8")
    (tmp_path / "out").mkdir()

    environment = {"FRAVAER_LANG": env} if env else {"FRAVAER_LANG": ""}
    result = CliRunner().invoke(
        app, ["report", "--config", str(config), "--as-of", "2024-03-08"], env=environment
    )

    assert result.exit_code == 0, result.stderr
    workbook = openpyxl.load_workbook(tmp_path / "out" / "eskaleringer.xlsx", read_only=True)
    assert tuple(workbook.sheetnames) == escalation_sheet_names(expected)
