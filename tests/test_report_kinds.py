"""report.toml's ``stats``, ``early_warning`` and ``site`` outputs, and ``split_by = "school"``.

Each kind writes what its command writes for the same data, byte for byte: the report's file is
compared with the command's ``-o`` file. Split by school, every output holds only that school's
rows, and equals the whole output cut by school (or, for statistics, the command run on that
school's rows alone).
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner, Result

from fravaer.cli import app
from fravaer.config import parse_config
from fravaer.errors import PolicyError
from fravaer.site_files import school_folders
from tests.profiles import examples
from tests.test_report import DEMO, FIRST, PUPILS, SECOND, snapshot

ROOT = Path(__file__).resolve().parents[1]
NAMES = ROOT / "examples" / "site" / "school-names.csv"
KEY = bytes(range(32, 64)).hex()
SCHOOLS = ["851001", "851002", "851003"]

HEAD = """\
output_folder = "out"
state = "state/state.json"
key_file = "token.key"
policy = "aalborg"

[inputs]
paths = ["export.csv"]
"""


def command(*args: object) -> Result:
    result = CliRunner().invoke(app, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    return result


def report(folder: Path, outputs: str, *args: str) -> Result:
    config = folder / "report.toml"
    config.write_text(HEAD + outputs, encoding="utf-8")
    return CliRunner().invoke(app, ["report", "--config", str(config), *args])


@pytest.fixture(scope="module")
def export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """70 pupils of the example at three schools."""
    raw = pl.read_csv(DEMO, infer_schema=False)
    path = tmp_path_factory.mktemp("export") / "export.csv"
    raw.filter(pl.col("pupil_id").is_in(PUPILS)).write_csv(path)
    return path


@pytest.fixture
def folder(tmp_path: Path, export: Path) -> Path:
    (tmp_path / "export.csv").write_bytes(export.read_bytes())
    key = tmp_path / "token.key"
    key.write_text(KEY + "\n")
    key.chmod(0o600)
    return tmp_path


def test_meeting_notes_name_the_school_from_the_config_s_school_names(folder: Path) -> None:
    """``school_names`` of report.toml names the schools on the meeting sheets too, as
    ``escalate --school-names`` does: the same bytes for the same key and data."""
    (folder / "names.csv").write_bytes(NAMES.read_bytes())
    config = folder / "report.toml"
    config.write_text(
        HEAD.replace('policy = "aalborg"\n', 'policy = "aalborg"\nschool_names = "names.csv"\n')
        + '[[outputs]]\nkind = "meeting_notes"\nfolder = "moeder"\n',
        encoding="utf-8",
    )
    result = CliRunner().invoke(app, ["report", "--config", str(config), "--as-of", FIRST])
    assert result.exit_code == 0, result.output
    mine = folder / "cmd"
    command(
        "escalate", folder / "export.csv", "--as-of", FIRST, "--since", "2024-01-05",
        "--format", "csv", "--school-names", NAMES, "--meeting-notes", mine,
        "--key-file", folder / "token.key",
    )  # fmt: skip

    written = sorted((folder / "out" / "moeder").glob("*.md"))
    assert [p.name for p in written] == sorted(p.name for p in mine.glob("*.md"))
    assert written
    for sheet in written:
        assert sheet.read_bytes() == (mine / sheet.name).read_bytes()
    vestre = [p for p in written if p.name.startswith("851001-")]
    assert vestre
    for sheet in vestre:
        assert "- **Skole:** Vestre Skole (851001)\n" in sheet.read_text(encoding="utf-8")


# -- each kind equals its command -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "flags"),
    [
        ("", []),
        (
            'by = "grade"\nperiod = "2023/24,2024Q1"',
            ["--by", "grade", "--period", "2023/24,2024Q1"],
        ),
        ('by = "class"\nmin_cell = 10', ["--by", "class", "--min-cell", "10"]),
        ('by = "school,grade"\nsuppression = false', ["--by", "school,grade", "--no-suppression"]),
    ],
)
@pytest.mark.parametrize("suffix", ["csv", "xlsx", "txt", "json"])
def test_stats_output_is_what_fravaer_stats_writes(
    folder: Path, options: str, flags: list[str], suffix: str
) -> None:
    outputs = f'[[outputs]]\nkind = "stats"\nfile = "stats-{{as_of}}.{suffix}"\n{options}\n'
    result = report(folder, outputs, "--as-of", FIRST)
    assert result.exit_code == 0, result.output
    mine = folder / "cmd.out"
    command(
        "stats",
        folder / "export.csv",
        "--as-of",
        FIRST,
        *flags,
        "-o",
        mine.with_suffix("." + suffix),
    )

    written = (folder / "out" / f"stats-{FIRST}.{suffix}").read_bytes()
    assert written == mine.with_suffix("." + suffix).read_bytes()
    assert len(written) > 100


@pytest.mark.parametrize("chart", ["png", "svg"])
def test_stats_output_draws_the_chart_fravaer_stats_draws(folder: Path, chart: str) -> None:
    outputs = (
        '[[outputs]]\nkind = "stats"\nfile = "stats.xlsx"\n'
        f'chart = "andel-over-10-{{as_of}}.{chart}"\nperiod = "2023/24,2024Q1"\n'
    )
    result = report(folder, outputs, "--as-of", FIRST)
    assert result.exit_code == 0, result.output
    command(
        "stats", folder / "export.csv", "--as-of", FIRST, "--period", "2023/24,2024Q1",
        "-o", folder / "cmd.xlsx", "--chart", folder / f"cmd.{chart}",
    )  # fmt: skip

    drawn = (folder / "out" / f"andel-over-10-{FIRST}.{chart}").read_bytes()
    assert drawn == (folder / f"cmd.{chart}").read_bytes()
    assert (folder / "out" / "stats.xlsx").read_bytes() == (folder / "cmd.xlsx").read_bytes()
    manifest = json.loads((folder / "out" / "manifest.json").read_text())
    assert {e["kind"] for e in manifest["outputs"]} == {"stats", "stats_chart"}


def test_stats_output_takes_a_reference_file_relative_to_the_config(folder: Path) -> None:
    reference = folder / "national.csv"
    reference.write_text(
        "period,measure,value,source\n2023/24,absence_pct,7.5,test\n2023/24,share_over_10,22.5,test\n"
    )
    outputs = '[[outputs]]\nkind = "stats"\nfile = "stats.csv"\nreference = "national.csv"\n'
    result = report(folder, outputs, "--as-of", FIRST)
    assert result.exit_code == 0, result.output
    command(
        "stats", folder / "export.csv", "--as-of", FIRST, "--format", "table",
        "--reference", reference, "-o", folder / "cmd.txt",
    )  # fmt: skip
    outputs = outputs.replace("stats.csv", "stats.txt")
    assert report(folder, outputs, "--as-of", FIRST).exit_code == 0
    table = (folder / "out" / "stats.txt").read_text()
    assert table == (folder / "cmd.txt").read_text()
    assert "22,5" in table or "22.5" in table


@pytest.mark.parametrize("suffix", ["csv", "xlsx", "txt", "parquet"])
def test_early_warning_output_is_what_fravaer_early_warning_writes(
    folder: Path, suffix: str
) -> None:
    outputs = f'[[outputs]]\nkind = "early_warning"\nfile = "tidlig.{suffix}"\nhorizon = 30\n'
    result = report(folder, outputs, "--as-of", SECOND)
    assert result.exit_code == 0, result.output
    mine = folder / f"cmd.{suffix}"
    command("early-warning", folder / "export.csv", "--as-of", SECOND, "--horizon", 30, "-o", mine)

    written = (folder / "out" / f"tidlig.{suffix}").read_bytes()
    assert written == mine.read_bytes()
    if suffix == "csv":
        assert pl.read_csv(mine).height > 0  # the comparison is not of two empty lists


@pytest.mark.parametrize("site_first", [True, False])
@pytest.mark.parametrize("suffix", ["csv", "txt"])
def test_an_early_warning_beside_a_site_is_the_command_s_and_computed_once(
    folder: Path, monkeypatch: pytest.MonkeyPatch, site_first: bool, suffix: str
) -> None:
    import fravaer.report

    site = '[[outputs]]\nkind = "site"\nfolder = "side"\n'
    warning = (
        f'[[outputs]]\nkind = "early_warning"\nfile = "tidlig.{suffix}"\nsplit_by = "school"\n'
    )
    warning = warning.replace('file = "tidlig.', 'file = "{school}/tidlig.')
    calls: list[int] = []
    real = fravaer.report.early_warning

    def counted(*args: object, **kwargs: object) -> object:
        calls.append(1)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(fravaer.report, "early_warning", counted)
    result = report(folder, site + warning if site_first else warning + site, "--as-of", SECOND)
    monkeypatch.undo()
    assert result.exit_code == 0, result.output
    assert calls == []  # the site's early warning, not a second one
    mine = folder / f"cmd.{suffix}"
    command("early-warning", folder / "export.csv", "--as-of", SECOND, "-o", mine)
    every = folder / "every.csv"
    command("early-warning", folder / "export.csv", "--as-of", SECOND, "-o", every)
    listed = pl.read_csv(every, infer_schema=False)
    assert listed.height > 0
    for school in SCHOOLS:
        written = folder / "out" / school / f"tidlig.{suffix}"
        assert written.exists()
        if suffix == "csv":
            own = pl.read_csv(written, infer_schema=False)
            assert own.columns == listed.columns
            assert own.rows() == listed.filter(pl.col("school_id") == school).rows()
    # Without the split, the file is the command's byte for byte.
    whole = f'[[outputs]]\nkind = "early_warning"\nfile = "tidlig.{suffix}"\n'
    assert report(folder, site + whole, "--as-of", SECOND).exit_code == 0
    assert (folder / "out" / f"tidlig.{suffix}").read_bytes() == mine.read_bytes()


def test_site_output_is_what_fravaer_site_writes(folder: Path) -> None:
    names = folder / "names.csv"
    names.write_bytes(NAMES.read_bytes())
    outputs = '[[outputs]]\nkind = "site"\nfolder = "side"\nschool_names = "names.csv"\n'
    result = report(folder, outputs, "--as-of", SECOND)
    assert result.exit_code == 0, result.output
    site = folder / "cmd-site"
    command(
        "site", folder / "export.csv", "--as-of", SECOND, "-o", site,
        "--school-names", names, "--key-file", folder / "token.key",
    )  # fmt: skip

    written = snapshot(folder / "out" / "side")
    assert written == snapshot(site)
    assert "index.html" in written
    assert {name.split("/")[0] for name in written if "/" in name} == set(SCHOOLS)
    pages = [name for name in written if name.count("/") == 1 and not name.endswith("index.html")]
    assert len(pages) > 10
    manifest = json.loads((folder / "out" / "manifest.json").read_text())
    entries = {e["path"]: e for e in manifest["outputs"]}
    assert entries["side"] == {"path": "side", "kind": "site", "files": 1, "rows": 0}
    assert sum(entries[f"side/{s}"]["rows"] for s in SCHOOLS) == len(pages)
    assert not any(pupil in json.dumps(manifest) for pupil in PUPILS)


def test_a_site_output_names_the_schools_by_the_export_s_column(folder: Path) -> None:
    named = {"851001": "Vestre Skole", "851002": "Østre Skole", "851003": "Nordre Skole"}
    raw = pl.read_csv(folder / "export.csv", infer_schema=False)
    raw.with_columns(pl.col("school_id").replace_strict(named).alias("Skolenavn")).write_csv(
        folder / "export.csv"
    )
    result = report(folder, '[[outputs]]\nkind = "site"\nfolder = "side"\n', "--as-of", SECOND)
    assert result.exit_code == 0, result.output
    site = folder / "cmd-site"
    command(
        "site", folder / "export.csv", "--as-of", SECOND, "-o", site,
        "--key-file", folder / "token.key",
    )  # fmt: skip

    assert snapshot(folder / "out" / "side") == snapshot(site)
    index = (site / "index.html").read_text(encoding="utf-8")
    assert all(f">{name}<" in index for name in named.values())


def test_site_output_drops_the_page_of_a_pupil_no_longer_listed(folder: Path) -> None:
    outputs = '[[outputs]]\nkind = "site"\nfolder = "side"\n'
    assert report(folder, outputs, "--as-of", SECOND).exit_code == 0
    school = folder / "out" / "side" / SCHOOLS[0]
    stale = school / ("0" * 16 + ".html")
    stale.write_text("an earlier week's page")
    other = school / "notes.html"
    other.write_text("not a pupil's page")

    result = report(folder, outputs, "--as-of", SECOND)

    assert result.exit_code == 0, result.output
    assert not stale.exists()
    assert other.exists()
    assert "removed 1 page(s) of pupils no longer listed" in result.stderr


def test_an_output_named_like_a_page_inside_a_site_is_not_removed_by_its_own_run(
    folder: Path,
) -> None:
    """Pages of pupils no longer listed are removed after the run; an output of the same run
    named like a page in a school's folder of the site was removed with them, and the manifest
    listed a file that was gone (found by the hostile pass)."""
    page = f"side/{SCHOOLS[0]}/{'0' * 16}.html"
    outputs = (
        '[[outputs]]\nkind = "site"\nfolder = "side"\n'
        f'[[outputs]]\nkind = "classification"\nformat = "csv"\nfile = "{page}"\n'
    )

    result = report(folder, outputs, "--as-of", SECOND)

    assert result.exit_code == 0, result.output
    assert (folder / "out" / page).read_text(encoding="utf-8").startswith("pupil_id,")
    manifest = json.loads((folder / "out" / "manifest.json").read_text(encoding="utf-8"))
    assert page in json.dumps(manifest)
    assert "removed" not in result.stderr


def test_site_output_without_the_national_rule_still_has_it(folder: Path) -> None:
    """``national = false`` is for the other outputs; the site always shows the quarter rule,
    as ``fravaer site`` does."""
    outputs = '[[outputs]]\nkind = "site"\nfolder = "side"\n'
    config = folder / "report.toml"
    config.write_text(
        HEAD.replace('policy = "aalborg"', 'policy = "aalborg"\nnational = false') + outputs
    )
    assert (
        CliRunner().invoke(app, ["report", "--config", str(config), "--as-of", SECOND]).exit_code
        == 0
    )
    command(
        "site",
        folder / "export.csv",
        "--as-of",
        SECOND,
        "-o",
        folder / "s",
        "--key-file",
        folder / "token.key",
    )
    assert snapshot(folder / "out" / "side") == snapshot(folder / "s")


# -- split by school ------------------------------------------------------------------------------

SPLIT = """\
[[outputs]]
kind = "classification"
file = "{school}/klassifikation-{as_of}.csv"
split_by = "school"

[[outputs]]
kind = "classification"
file = "alle.csv"

[[outputs]]
kind = "escalations"
file = "{school}/eskaleringer-{as_of}.csv"
format = "csv"
split_by = "school"

[[outputs]]
kind = "escalations"
folder = "eskaleringer"
format = "csv"
split_by = "school"

[[outputs]]
kind = "escalations"
folder = "{school}/esk"
format = "csv"
split_by = "school"

[[outputs]]
kind = "meeting_notes"
folder = "{school}/moeder"
split_by = "school"

[[outputs]]
kind = "meeting_notes"
folder = "moeder"

[[outputs]]
kind = "early_warning"
file = "{school}/tidlig.csv"
split_by = "school"

[[outputs]]
kind = "early_warning"
file = "tidlig.csv"

[[outputs]]
kind = "stats"
file = "{school}/stats-{as_of}.csv"
by = "class"
min_cell = 5
split_by = "school"
"""


def test_split_outputs_hold_only_their_school_s_rows(folder: Path) -> None:
    assert report(folder, SPLIT, "--as-of", FIRST).exit_code == 0
    result = report(folder, SPLIT, "--as-of", SECOND)
    assert result.exit_code == 0, result.output
    out = folder / "out"

    every = pl.read_csv(out / "alle.csv", infer_schema=False)
    warned = pl.read_csv(out / "tidlig.csv", infer_schema=False)
    assert warned.height > 0
    all_notes = sorted(p.name for p in (out / "moeder").iterdir())
    notes_seen: list[str] = []
    for school in SCHOOLS:
        own = pl.read_csv(out / school / f"klassifikation-{SECOND}.csv", infer_schema=False)
        assert set(own["school_id"]) == {school}
        assert own.equals(every.filter(pl.col("school_id") == school))
        # The {school} file holds the school's list: the same bytes as the folder form's.
        listed = (out / school / f"eskaleringer-{SECOND}.csv").read_bytes()
        legacy = out / "eskaleringer" / f"escalations-{school}-{SECOND}.csv"
        assert listed == legacy.read_bytes()
        assert (out / school / "esk" / legacy.name).read_bytes() == listed
        assert set(pl.read_csv(legacy, infer_schema=False)["school_id"]) <= {school}
        ew = pl.read_csv(out / school / "tidlig.csv", infer_schema=False)
        assert ew.equals(warned.filter(pl.col("school_id") == school))
        # A school without a pupil at step 2 has no sheet, so no folder of sheets.
        sheets = out / school / "moeder"
        notes = sorted(p.name for p in sheets.iterdir()) if sheets.exists() else []
        assert all(name.startswith(f"{school}-") for name in notes)
        for name in notes:
            assert (out / school / "moeder" / name).read_bytes() == (
                out / "moeder" / name
            ).read_bytes()
        notes_seen += notes
    assert sorted(notes_seen) == all_notes
    assert len(all_notes) > 0
    manifest = (out / "manifest.json").read_text()
    assert not any(pupil in manifest for pupil in PUPILS)


def test_split_statistics_are_fravaer_stats_on_the_school_s_rows(folder: Path) -> None:
    outputs = SPLIT[SPLIT.index('kind = "stats"') - len("[[outputs]]\n") :]
    result = report(folder, outputs, "--as-of", SECOND)
    assert result.exit_code == 0, result.output
    raw = pl.read_csv(folder / "export.csv", infer_schema=False)
    for school in SCHOOLS:
        alone = folder / f"{school}.csv"
        raw.filter(pl.col("school_id") == school).write_csv(alone)
        mine = folder / f"{school}-stats.csv"
        command("stats", alone, "--as-of", SECOND, "--by", "class", "--min-cell", 5, "-o", mine)
        written = (folder / "out" / school / f"stats-{SECOND}.csv").read_bytes()
        assert written == mine.read_bytes()
        groups = pl.read_csv(written, infer_schema=False)
        assert set(groups["school_id"].drop_nulls()) == {school}


def test_split_file_names_use_the_school_s_safe_folder_name(folder: Path) -> None:
    """A school id that is not a plain name (a path, a device, capitals) gets the name
    ``fravaer site`` gives its folder, so no id leads a file out of its folder."""
    hostile = {"851001": "../../x", "851002": "CON", "851003": "Skole Å"}
    raw = pl.read_csv(folder / "export.csv", infer_schema=False)
    raw.with_columns(pl.col("school_id").replace(hostile)).write_csv(folder / "export.csv")
    outputs = SPLIT.split("[[outputs]]")[1]
    result = report(folder, "[[outputs]]" + outputs, "--as-of", SECOND)
    assert result.exit_code == 0, result.output

    names = school_folders(set(hostile.values()))
    made = sorted(p.relative_to(folder / "out").as_posix() for p in (folder / "out").rglob("*.csv"))
    assert made == sorted(f"{names[s]}/klassifikation-{SECOND}.csv" for s in hostile.values())
    assert all("/" not in name and name not in ("..", "CON") for name in names.values())


@pytest.mark.parametrize(
    ("output", "key", "message"),
    [
        (
            'kind = "classification"\nfile = "k.csv"\nsplit_by = "school"',
            "file",
            "split_by = 'school' writes one per school: name it with {school}",
        ),
        (
            'kind = "stats"\nfile = "{school}.csv"',
            "file",
            "{school} names a school: it needs split_by = 'school'",
        ),
        (
            'kind = "stats"\nfile = "{school}.csv"\nchart = "c.png"\nsplit_by = "school"',
            "chart",
            "split_by = 'school' writes one per school: name it with {school}",
        ),
        (
            'kind = "meeting_notes"\nfolder = "moeder-{school}"',
            "folder",
            "{school} names a school: it needs split_by = 'school'",
        ),
        (
            'kind = "early_warning"\nfile = "tidlig.csv"\nsplit_by = "school"',
            "file",
            "split_by = 'school' writes one per school: name it with {school}",
        ),
        (
            'kind = "site"\nfolder = "{school}"\nsplit_by = "school"',
            "split_by",
            "a site has a folder per school already; give the site's folder without split_by",
        ),
        ('kind = "stats"\nfile = "s.csv"\nby = "year"', "", "unknown grouping 'year'"),
        ('kind = "stats"\nfile = "s.csv"\nmin_cell = 4', "min_cell", "greater than or equal to 5"),
        ('kind = "stats"\nfile = "s.csv"\nchart = "c.pdf"', "", "chart must end in .png or .svg"),
    ],
)
def test_a_split_and_its_placeholder_go_together(
    folder: Path, output: str, key: str, message: str
) -> None:
    result = report(folder, f"[[outputs]]\n{output}\n")

    assert result.exit_code == 78, result.output
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"fravaer: error: {folder / 'report.toml'}:")
    assert f"field 'outputs.0{'.' + key if key else ''}'" in line
    assert message in line
    assert not (folder / "out").exists()


def test_a_bad_stats_period_is_a_config_error(folder: Path) -> None:
    result = report(folder, '[[outputs]]\nkind = "stats"\nfile = "s.csv"\nperiod = "2024Q5"\n')

    assert result.exit_code == 78, result.output
    assert result.stderr.startswith("fravaer: error: stats output s.csv: period")


def test_every_folder_a_split_makes_is_private(folder: Path) -> None:
    """``skoler/{school}/...`` names the schools in ``skoler``: it is made 0700 too, not by the
    umask as ``mkdir -p`` makes parents."""
    outputs = SPLIT.replace('"{school}/', '"skoler/{school}/')
    old = os.umask(0o022)
    try:
        result = report(folder, outputs, "--as-of", SECOND)
    finally:
        os.umask(old)

    assert result.exit_code == 0, result.output
    folders = [p for p in (folder / "out").rglob("*") if p.is_dir()]
    assert folder / "out" / "skoler" in folders
    assert {p.relative_to(folder).as_posix(): stat.S_IMODE(p.stat().st_mode) for p in folders} == {
        p.relative_to(folder).as_posix(): 0o700 for p in folders
    }


KINDS = {
    "classification": "file",
    "escalations": "file",
    "stats": "file",
    "early_warning": "file",
    "meeting_notes": "folder",
    "site": "folder",
}


def refused_by_reference(kind: str, key: str, split: bool, placeholder: bool) -> str | None:
    """The rule written out: which key a config is refused at (None: accepted)."""
    if kind == "site" and split:
        return "split_by"
    if kind == "escalations" and key == "folder" and split and not placeholder:
        return None  # the folder of escalations-SCHOOL-ASOF files
    if kind == "escalations" and key == "folder" and not split:
        return ""  # a folder needs split_by: the model refuses it as a whole
    return key if split != placeholder else None


@settings(max_examples=examples(200), deadline=None)
@given(
    kind=st.sampled_from(sorted(KINDS)),
    folder_form=st.booleans(),
    split=st.booleans(),
    placeholder=st.booleans(),
    before=st.text(alphabet="abc-_/", max_size=6).filter(lambda s: "//" not in s),
    after=st.text(alphabet="xyz-_", max_size=6),
)
def test_split_and_placeholder_agree_or_the_config_is_refused_at_the_key(
    kind: str,
    folder_form: bool,
    split: bool,
    placeholder: bool,
    before: str,
    after: str,
) -> None:
    key = "folder" if kind == "escalations" and folder_form else KINDS[kind]
    name = f"n{before.strip('/')}{'{school}' if placeholder else ''}{after}" + (
        ".csv" if key == "file" else ""
    )
    output: dict[str, object] = {"kind": kind, key: name}
    if split:
        output["split_by"] = "school"
    data = {"output_folder": "ud", "state": "s.json", "inputs": {"paths": ["a.csv"]}}
    text = "\n".join(f"{k} = {v!r}" for k, v in output.items())
    expected = refused_by_reference(kind, key, split, placeholder)

    try:
        parse_config({**data, "outputs": [output]}, text=text, source="r.toml")
    except PolicyError as exc:
        got: str | None = exc.message.split("field 'outputs.0")[1].split("'")[0].lstrip(".")
    else:
        got = None

    assert got == expected
