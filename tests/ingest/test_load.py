"""One entry point for every command: source.toml, flags, several files, shapes, inspect."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from fravaer.cli import app
from fravaer.errors import BadInputError, PolicyError
from fravaer.ingest.load import load, load_source

ROOT = Path(__file__).resolve().parents[2]
EXPORTS = ROOT / "examples" / "exports"


def run(*args: object) -> object:
    return CliRunner().invoke(app, [str(a) for a in args])


def test_source_paths_are_relative_to_the_source_file() -> None:
    options = load_source(EXPORTS / "absence-only.toml")
    assert options.shape == "absence_only"
    assert options.roster == EXPORTS / "roster.csv"
    assert options.calendar is not None
    assert options.calendar.file == EXPORTS / "school-days.csv"


def test_a_bad_source_file_names_the_line_and_field(tmp_path: Path) -> None:
    path = tmp_path / "source.toml"
    path.write_text('encoding = "utf-8"\nshape = "lessons"\n', encoding="utf-8")
    with pytest.raises(PolicyError) as error:
        load_source(path)
    assert error.value.message.startswith(f"{path}:2: field 'shape': ")


def test_absence_only_export_is_expanded_to_every_enrolled_school_day() -> None:
    loaded = load([str(EXPORTS / "absences.csv")], load_source(EXPORTS / "absence-only.toml"))
    frame = loaded.frame.collect()
    assert loaded.files[0].shape is not None
    assert loaded.files[0].shape.shape == "absence_only"
    assert "present" in frame["category"].cast(pl.String).to_list()
    assert frame.select(pl.struct("pupil_id", "date", "category").is_unique().all()).item()


def test_an_absence_only_calendar_with_a_file_and_dates_is_refused_as_the_library_refuses_it(
    tmp_path: Path,
) -> None:
    """The commands read the calendar through ``school_days_frame``, its one rule: a calendar
    with both a file and first/last is refused, not read as the file alone."""
    source = tmp_path / "source.toml"
    source.write_text(
        'shape = "absence_only"\n[calendar]\n'
        f'file = "{(EXPORTS / "school-days.csv").as_posix()}"\nfirst = "2024-03-04"\n',
        encoding="utf-8",
    )
    with pytest.raises(PolicyError) as error:
        load([str(EXPORTS / "absences.csv")], load_source(source)).frame.collect()
    assert error.value.message == "source options: calendar has both a file and first/last/breaks"


def test_several_files_are_combined_and_repeats_dropped() -> None:
    both = load([str(EXPORTS / "months" / "*.csv")]).frame.collect()
    parts = [load([str(p)]).frame.collect() for p in sorted((EXPORTS / "months").glob("*.csv"))]
    assert both.height == pl.concat(parts).unique().height


def test_inspect_json_names_what_was_read_and_no_pupil() -> None:
    result = run(
        "inspect", EXPORTS / "dialects" / "semicolon-danish-cp1252.csv", "--format", "json"
    )
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    report = json.loads(result.stdout)  # type: ignore[attr-defined]
    (file,) = report["files"]
    assert (file["encoding"], file["separator"], file["date_format"]) == ("cp1252", ";", "%d-%m-%Y")
    assert file["columns"]["pupil_id"] == "Elev"
    assert file["shape"] == "register"
    assert report["pupils"] == 2
    source = (EXPORTS / "dialects" / "semicolon-danish-cp1252.csv").read_bytes().decode("cp1252")
    pupil_ids = {line.split(";")[0] for line in source.splitlines()[1:] if line}
    assert not any(pid in result.stdout for pid in pupil_ids)  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("name", "exit_code", "starts"),
    [("i.xlsx", 2, None), ("i.csv", 2, None), ("i.json", 0, "{"), ("i.TXT", 0, "Fil: ")],
)
def test_inspect_output_suffix_matches_content(
    tmp_path: Path, name: str, exit_code: int, starts: str | None
) -> None:
    """``inspect -o i.xlsx`` wrote JSON text into a file named .xlsx, exit 0."""
    out = tmp_path / name

    result = run("inspect", EXPORTS / "dialects" / "semicolon-danish-cp1252.csv", "-o", out)

    assert result.exit_code == exit_code, result.output  # type: ignore[attr-defined]
    if starts is None:
        assert "inspect writes a table (.txt) or JSON (.json)" in result.stderr  # type: ignore[attr-defined]
        assert not out.exists()
    else:
        assert out.read_text(encoding="utf-8").startswith(starts)


def test_flags_override_the_source_file(tmp_path: Path) -> None:
    source = tmp_path / "source.toml"
    source.write_text('separator = ","\n', encoding="utf-8")
    export = EXPORTS / "dialects" / "semicolon-danish-cp1252.csv"
    wrong = run("inspect", export, "--source", source, "--format", "json")
    right = run("inspect", export, "--source", source, "--separator", ";", "--format", "json")
    assert wrong.exit_code == 65  # type: ignore[attr-defined]
    assert right.exit_code == 0  # type: ignore[attr-defined]


def test_a_bad_flag_value_is_a_usage_error() -> None:
    result = run("classify", EXPORTS / "lessons.csv", "--encoding", "utf-16", "--format", "csv")
    assert result.exit_code == 2  # type: ignore[attr-defined]
    assert "--encoding" in result.stderr  # type: ignore[attr-defined]


# -- hostile text in every shape (docs/privacy.md#what-is-refused-on-reading) -----------------


def test_a_lesson_export_with_a_formula_class_name_is_refused(tmp_path: Path) -> None:
    text = (EXPORTS / "lessons.csv").read_text(encoding="utf-8")
    lines = text.splitlines()
    cells = lines[2].split(",")
    cells[7] = '"=HYPERLINK(""SECRET"")"'  # class_name (the example's subject comes after it)
    lines[2] = ",".join(cells)
    path = tmp_path / "lessons.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")

    with pytest.raises(BadInputError) as caught:
        load([str(path)])

    assert caught.value.message == (
        f"{path}:3:8 (column 'class_name'): "
        "text begins with =, +, - or @, which a spreadsheet would run as a formula"
    )


@pytest.mark.parametrize("where", ["export", "roster"])
def test_an_absence_only_export_or_its_roster_with_a_hidden_character_is_refused(
    tmp_path: Path, where: str
) -> None:
    for name in ("absences.csv", "roster.csv", "school-days.csv", "absence-only.toml"):
        (tmp_path / name).write_bytes((EXPORTS / name).read_bytes())
    target = tmp_path / ("absences.csv" if where == "export" else "roster.csv")
    target.write_text(
        target.read_text(encoding="utf-8").replace("fake-0001", "fake-0001\u202e", 1),
        encoding="utf-8",
    )

    with pytest.raises(BadInputError) as caught:
        load(
            [str(tmp_path / "absences.csv")], load_source(tmp_path / "absence-only.toml")
        ).frame.collect()

    assert caught.value.message == (
        f"{target}:2:1 (column 'pupil_id'): text holds a control or invisible character"
    )


# -- one way in: the library reads what the commands read -------------------------------------

PARITY = [
    (EXPORTS / "lessons.csv", None),
    (EXPORTS / "absences.csv", EXPORTS / "absence-only.toml"),
    (EXPORTS / "months" / "*.csv", None),
    (EXPORTS / "dialects" / "local-codes.csv", EXPORTS / "dialects" / "local-codes.toml"),
    (EXPORTS / "dialects" / "semicolon-danish-cp1252.csv", None),
    (ROOT / "examples" / "demo-export.csv", None),
]


@pytest.mark.parametrize(("export", "source"), PARITY, ids=lambda p: getattr(p, "name", "-"))
def test_the_library_classifies_as_the_command_line_does(export: Path, source: Path | None) -> None:
    from datetime import date

    from fravaer import classify, load_policy, read_export
    from fravaer.ingest.source import SourceOptions

    options = load_source(source) if source else SourceOptions()
    frame = read_export(str(export), options)
    as_of = frame.select(pl.col("date").max()).collect().item()
    assert isinstance(as_of, date)
    library = classify(
        frame,
        policy=load_policy("aalborg-2023"),
        national=load_policy("national-unlawful"),
        as_of=as_of,
        include_left=True,
    ).collect()
    args = ["--source", source] if source else []
    result = run("classify", export, *args, "--as-of", as_of, "--include-left", "--format", "csv")

    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    cli = pl.read_csv(result.stdout.encode(), schema=library.schema)  # type: ignore[attr-defined]
    assert (
        library.select("pupil_id", "window_days", "absent_days").rows()
        == cli.select("pupil_id", "window_days", "absent_days").rows()
    )
    assert (library["absence_pct"] - cli["absence_pct"]).abs().max() < 1e-9


def test_read_export_takes_a_path_a_glob_or_a_list() -> None:
    from fravaer import read_export

    one = read_export(EXPORTS / "months" / "2024-02.csv").collect()
    globbed = read_export(str(EXPORTS / "months" / "*.csv")).collect()
    listed = read_export(sorted((EXPORTS / "months").glob("*.csv"))).collect()

    assert one.height < globbed.height
    # The same rows; the order of rows combined from several files is not part of the contract.
    assert globbed.sort(globbed.columns).equals(listed.sort(listed.columns))


def test_the_lesson_export_is_read_in_school_days_by_the_library() -> None:
    from fravaer import read_export

    frame = read_export(EXPORTS / "lessons.csv").collect()

    days = frame.group_by("pupil_id", "date").agg(pl.col("absent_fraction").sum())
    assert days["absent_fraction"].max() <= 1
    assert frame.select(pl.struct("pupil_id", "date", "category").is_unique().all()).item()


# -- Parquet takes [columns] and [codes] as CSV does -------------------------------------------


def test_parquet_reads_its_own_column_names_and_codes_with_the_source_options(
    tmp_path: Path,
) -> None:
    from fravaer import read_export
    from fravaer.ingest.source import SourceOptions

    csv = EXPORTS / "dialects" / "local-codes.csv"
    options = load_source(EXPORTS / "dialects" / "local-codes.toml")
    from_csv = read_export(csv, options).collect()
    # A data platform's landing of the same export: its own names, ISO dates, typed fractions.
    landed = pl.read_csv(csv, separator=";", infer_schema=False).select(
        pl.col("Elev").alias("ElevNr"),
        pl.col("Skole"),
        pl.col("Dato").str.to_date("%d.%m.%Y").alias("Dato"),
        pl.col("Kode"),
        pl.col("Andel").str.replace(",", ".").cast(pl.Float64).alias("Andel"),
    )
    path = tmp_path / "landed.parquet"
    landed.write_parquet(path)
    columns = {
        "pupil_id": "ElevNr",
        "school_id": "Skole",
        "date": "Dato",
        "category": "Kode",
        "absent_fraction": "Andel",
    }
    parquet_options = SourceOptions.model_validate(options.model_dump() | {"columns": columns})

    from_parquet = read_export(path, parquet_options).collect()

    assert from_parquet.sort("pupil_id", "date", "category").equals(
        from_csv.sort("pupil_id", "date", "category")
    )


def test_parquet_names_a_column_missing_from_columns_and_an_unknown_code(tmp_path: Path) -> None:
    from fravaer import read_export
    from fravaer.errors import BadInputError
    from fravaer.ingest.source import SourceOptions

    path = tmp_path / "landed.parquet"
    pl.DataFrame(
        {
            "Elev": ["secret-1", "secret-1"],
            "school_id": ["851001", "851001"],
            "date": ["2024-03-04", "2024-03-05"],
            "category": ["M", "X9"],
        }
    ).write_parquet(path)
    codes = {"M": {"category": "present"}}

    with pytest.raises(BadInputError) as missing:
        read_export(path, SourceOptions.model_validate({"columns": {"pupil_id": "Elevnummer"}}))
    with pytest.raises(BadInputError) as unknown:
        read_export(
            path, SourceOptions.model_validate({"columns": {"pupil_id": "Elev"}, "codes": codes})
        )

    assert missing.value.message.startswith(f"{path}: column 'Elevnummer' given for 'pupil_id'")
    assert unknown.value.message.startswith(f"{path}:2:4 (column 'category'): ")
    assert "secret" not in missing.value.message + unknown.value.message
