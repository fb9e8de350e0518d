"""Headers (:mod:`fravaer.ingest.headers`): the alias table, the explicit mapping, conflicts.

Errors after mapping name the column as the user's file does (its header and position), and
columns that map to nothing are dropped unread: their values never reach a frame or a message.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from fravaer import schema as s
from fravaer.errors import PolicyError
from fravaer.ingest import read_export, read_file_detected
from fravaer.ingest.headers import ALIASES, LESSON, MAPPABLE, header_key, map_headers
from fravaer.ingest.source import SourceOptions
from tests.ingest.exports import SECRET, assert_private, cells, refusal, write_text

ROW = "fake-1;851001;01.03.2024;S"


def mapped(*header: str, **columns: str) -> dict[str, str]:
    return map_headers(list(header), columns=columns, file="x.csv", line=1).original


# -- the alias table ----------------------------------------------------------------------------


def test_no_alias_means_two_columns() -> None:
    keys = [header_key(alias) for names in ALIASES.values() for alias in names]

    assert len(keys) == len(set(keys))
    assert set(ALIASES) == set(MAPPABLE)


@pytest.mark.parametrize(
    ("column", "alias"), [(c, a) for c, names in ALIASES.items() for a in names]
)
def test_every_alias_maps_to_its_column(column: str, alias: str) -> None:
    assert mapped(alias) == {column: alias}


@pytest.mark.parametrize(
    ("header", "column"),
    [
        ("Elev-ID", s.PUPIL_ID),
        ("elev_id", s.PUPIL_ID),
        ("ELEV ID", s.PUPIL_ID),
        ("  ElevID  ", s.PUPIL_ID),
        ("CPR-nr.", s.PUPIL_ID),
        ("UNI-Login", s.PUPIL_ID),
        ("Institutions-nummer", s.SCHOOL_ID),
        ("FRAVÆRSDATO", s.DATE),
        ("fravaersdato", s.DATE),
        ("Fraværs dato", s.DATE),
        ("Fraværstype", s.CATEGORY),
        ("Fravaerskode", s.CATEGORY),
        ("Årgang", s.GRADE),
        ("Aargang", s.GRADE),
        ("a\u030argang", s.GRADE),  # å written as a + combining ring (macOS)
        ("Klasse", s.CLASS_NAME),
        ("Fraværsandel", s.ABSENT_FRACTION),
        ("Modul", LESSON),
        ("Pupil_ID", s.PUPIL_ID),
    ],
)
def test_headers_match_without_case_spaces_hyphens_or_aeoeaa_spelling(
    header: str, column: str
) -> None:
    assert mapped(header) == {column: header.strip()}


def test_unknown_headers_are_dropped_and_reported() -> None:
    result = map_headers(
        ["Navn", "Elev", "Bemærkning", "Dato", "", "010203-1234"], columns={}, file="x.csv", line=1
    )

    assert result.original == {s.PUPIL_ID: "Elev", s.DATE: "Dato"}
    # A header that could be an id, or none, is shown by its position (docs/privacy.md).
    assert result.dropped == ("Navn", "Bemærkning", "column 5", "column 6")


# -- the explicit mapping -----------------------------------------------------------------------


def test_an_explicit_mapping_overrides_the_aliases() -> None:
    # "Kode" would be the category by alias; the mapping says the category is "Årsag", and the
    # mapped header is then the only category: "Kode" is dropped, not a conflict.
    result = map_headers(
        ["Elev", "Kode", "Årsag", "Nr"],
        columns={s.CATEGORY: "årsag", s.PUPIL_ID: "Nr"},
        file="x.csv",
        line=1,
    )

    assert result.original == {s.CATEGORY: "Årsag", s.PUPIL_ID: "Nr"}
    assert result.dropped == ("Elev", "Kode")


def test_an_explicit_mapping_to_an_unknown_column_is_a_config_error() -> None:
    with pytest.raises(PolicyError) as caught:
        mapped("Elev", pupl_id="Elev")

    assert caught.value.exit_code == 78
    assert caught.value.message == "[columns]: unknown column 'pupl_id'"


def test_one_header_named_for_two_columns_is_a_config_error() -> None:
    with pytest.raises(PolicyError) as caught:
        mapped("Nr", pupil_id="Nr", school_id="nr")

    assert caught.value.message == "[columns]: 'nr' is named for both pupil_id and school_id"


def test_a_mapped_header_the_file_lacks_is_refused(tmp_path: Path) -> None:
    path = write_text(tmp_path, f"Elev;Skole;Dato;Kode\n{ROW}\n")

    error = refusal(path, SourceOptions(columns={s.PUPIL_ID: "Elevnr"}))

    assert error.message == (
        f"{path}:1: no column 'Elevnr' in the header (named for pupil_id in [columns])"
    )


def test_the_mapping_resolves_two_candidate_columns(tmp_path: Path) -> None:
    path = write_text(tmp_path, "Elev;Elevnummer;Skole;Dato;Kode\nSECRET1;fake-1;1;01.03.2024;S\n")

    frame, detected = read_file_detected(path, SourceOptions(columns={"pupil_id": "Elevnummer"}))

    assert frame.collect()[s.PUPIL_ID].to_list() == ["fake-1"]
    assert detected.columns[s.PUPIL_ID] == "Elevnummer"
    assert detected.dropped == ("Elev",)


# -- refusals at the header ---------------------------------------------------------------------

# id -> (file, options, location after the path, problem)
REFUSALS: dict[str, tuple[str, SourceOptions, str, str]] = {
    "two-headers-for-one-column": (
        "Elev;Skole;Elevnummer;Dato;Kode\nSECRET1;1;SECRET2;01.03.2024;S\n",
        SourceOptions(),
        ":1",
        "columns 'Elev' (1) and 'Elevnummer' (3) both mean pupil_id",
    ),
    "type-and-code-both-category": (
        "Elev;Skole;Dato;Fraværstype;Fraværskode\nSECRET1;1;01.03.2024;Sygdom;S\n",
        SourceOptions(),
        ":1",
        "columns 'Fraværstype' (4) and 'Fraværskode' (5) both mean category",
    ),
    "same-alias-twice": (
        "Elev;Skole;Dato;Kode;Kode\nSECRET1;1;01.03.2024;S;U\n",
        SourceOptions(),
        ":1:4 (column 'Kode')",
        "the header repeats this column name",
    ),
    "missing-category-under-danish-headers": (
        "Elev;Skole;Dato;Bemærkning\nSECRET1;1;01.03.2024;SECRET remark\n",
        SourceOptions(),
        ":1",
        "missing required column 'category'",
    ),
    "missing-pupil-under-danish-headers": (
        "Navn;Skole;Dato;Kode\nSECRET Anna;1;01.03.2024;S\n",
        SourceOptions(),
        ":1",
        "missing required column 'pupil_id'",
    ),
}


@pytest.mark.parametrize("case", list(REFUSALS))
def test_header_refusals_name_the_columns_and_no_value(tmp_path: Path, case: str) -> None:
    text, options, where, problem = REFUSALS[case]
    path = write_text(tmp_path, text)

    error = refusal(path, options)

    assert error.message == f"{path}{where}: {problem}"
    assert error.hint is not None
    assert_private(error, cells(path, ";", "utf-8"))


def test_missing_column_hint_lists_the_names_understood(tmp_path: Path) -> None:
    path = write_text(tmp_path, REFUSALS["missing-category-under-danish-headers"][0])

    hint = refusal(path).hint

    assert hint is not None
    assert "fraværstype" in hint
    assert "[columns]" in hint


def test_cell_errors_name_the_column_as_the_file_does(tmp_path: Path) -> None:
    path = write_text(
        tmp_path,
        "Bemærkning;Elev;Skole;Dato;Kode;Andel\n"
        "SECRET remark;fake-1;1;01.03.2024;S;0,5\n"
        "SECRET remark;fake-1;1;04.03.2024;S;SECRET7\n",
    )

    error = refusal(path)

    assert error.message == f"{path}:3:6 (column 'Andel'): not a number"
    assert_private(error, cells(path, ";", "utf-8"))


def test_values_of_dropped_columns_never_reach_the_frame(tmp_path: Path) -> None:
    path = write_text(
        tmp_path,
        "Navn;Elev;Skole;Dato;Kode;Bemærkning\n"
        f"{SECRET} Anna;fake-1;1;01.03.2024;S;{SECRET} ringede\n",
    )

    out = read_export(path).collect()

    assert out.columns == list(s.CANONICAL_SCHEMA)
    assert not any(SECRET in str(value) for value in out.row(0))


def test_a_lesson_column_is_kept_as_text_and_day_checks_wait_for_the_lessons(
    tmp_path: Path,
) -> None:
    # Two lessons of one day with the same category: a repeat for a register, not for lessons.
    path = write_text(
        tmp_path,
        "Elev;Skole;Dato;Modul;Kode\n"
        "fake-1;1;01.03.2024; 1 ;S\n"
        "fake-1;1;01.03.2024;2;S\n"
        "fake-1;1;01.03.2024;3;M\n",
    )

    frame, detected = read_file_detected(path)

    out = frame.collect()
    assert out.columns == [*s.CANONICAL_SCHEMA, LESSON]
    assert out[LESSON].to_list() == ["1", "2", "3"]
    assert detected.columns[LESSON] == "Modul"
