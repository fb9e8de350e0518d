"""Category codes (:mod:`fravaer.ingest.codes`): Danish labels and letters, local codes.

An unmapped code is never a silent null or present: the file is refused in one message that
lists every unknown code with its count. Values that might be ids, dates or remarks are counted
but never shown.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from fravaer import schema as s
from fravaer.errors import PolicyError
from fravaer.ingest import read_export, read_file_detected
from fravaer.ingest.codes import (
    BUILTIN_CODES,
    MAX_LABELS,
    code_key,
    code_table,
    unknown_codes_problem,
)
from fravaer.ingest.source import LocalCode, SourceOptions
from tests.ingest.exports import FIXTURES, assert_private, cells, refusal, write_text

HEADER = "Elev;Skole;Dato;Kode;Andel"
HINT = "map each code to present, illness, leave or unlawful under [codes] in source.toml"


def export(tmp_path: Path, *codes: str, fractions: list[str] | None = None) -> Path:
    shares = fractions or [""] * len(codes)
    rows = [
        f"SECRET{i:03d};851001;{i:02d}.03.2024;{code};{share}"
        for i, (code, share) in enumerate(zip(codes, shares, strict=True), start=1)
    ]
    return write_text(tmp_path, "\n".join([HEADER, *rows]) + "\n")


# -- built-in codes -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "category"),
    [(code, category) for category, codes in BUILTIN_CODES.items() for code in codes]
    + [
        ("SYGDOM", s.ILLNESS),
        (" Syg ", s.ILLNESS),
        ("s", s.ILLNESS),
        ("Ekstraordinær Frihed", s.LEAVE),
        ("ekstraordinaer frihed", s.LEAVE),
        ("Lovligt  fravær", s.LEAVE),
        ("lovligtfravaer", s.LEAVE),
        ("Ulovligt Fravær", s.UNLAWFUL),
        ("u", s.UNLAWFUL),
        ("Til stede", s.PRESENT),
        ("tilstede", s.PRESENT),
        ("TIL-STEDE", s.PRESENT),
        ("Mødt", s.PRESENT),
        ("moedt", s.PRESENT),
        ("m", s.PRESENT),
        ("   ", s.PRESENT),
        ("Illness", s.ILLNESS),
        ("UNLAWFUL", s.UNLAWFUL),
    ],
)
def test_builtin_codes_ignore_case_spaces_and_aeoeaa_spelling(
    tmp_path: Path, code: str, category: str
) -> None:
    frame = read_export(export(tmp_path, code)).collect()

    assert frame[s.CATEGORY].to_list() == [category]
    assert frame[s.ABSENT_FRACTION].to_list() == [0.0 if category == s.PRESENT else 1.0]


def test_code_counts_are_reported_by_code_as_written(tmp_path: Path) -> None:
    path = export(tmp_path, "S", "S", " S ", "Sygdom", "", "U")

    counts = read_file_detected(path)[1].codes

    assert counts == {
        "S": (s.ILLNESS, 3),
        "Sygdom": (s.ILLNESS, 1),
        "": (s.PRESENT, 1),
        "U": (s.UNLAWFUL, 1),
    }


def test_blank_lines_are_not_counted_as_blank_codes(tmp_path: Path) -> None:
    path = write_text(tmp_path, f"{HEADER}\nfake;1;01.03.2024;S;\n\n;;;;\n")

    assert read_file_detected(path)[1].codes == {"S": (s.ILLNESS, 1)}


# -- local codes --------------------------------------------------------------------------------

LOCAL = SourceOptions(
    codes={
        "Y": LocalCode(category="illness"),
        "L": LocalCode(category="unlawful"),
        "F": LocalCode(category="unlawful", fraction=Decimal("0.1")),
        "G": LocalCode(category="present"),
        "S": LocalCode(category="leave"),  # overrides the built-in S (illness)
    }
)


def test_local_codes_add_to_and_override_the_builtin_ones() -> None:
    frame, detected = read_file_detected(FIXTURES / "local-codes.csv", LOCAL)

    out = frame.collect()
    assert out[s.CATEGORY].to_list() == [
        "illness",
        "unlawful",
        "unlawful",
        "unlawful",
        "present",
        "present",
    ]
    # F counts a tenth of the day, unless the row gives its own fraction.
    assert out[s.ABSENT_FRACTION].to_list() == [1.0, 1.0, 0.1, 0.25, 0.0, 0.0]
    assert detected.codes["F"] == (s.UNLAWFUL, 2)


def test_a_local_code_overrides_a_builtin_letter(tmp_path: Path) -> None:
    frame = read_export(export(tmp_path, "s", "Sygdom"), LOCAL).collect()

    assert frame[s.CATEGORY].to_list() == [s.LEAVE, s.ILLNESS]


def test_without_the_local_codes_the_fixture_is_refused_listing_them() -> None:
    path = FIXTURES / "local-codes.csv"

    error = refusal(path)

    assert error.message == (
        f"{path}:2:4 (column 'Kode'): unknown category codes: F (2), G (1), L (1), Y (1)"
    )
    assert error.hint == HINT


@pytest.mark.parametrize(
    ("codes", "message"),
    [
        (
            {"F": {"category": "present", "fraction": 0.1}},
            "[codes]: 'F' is present but counts a fraction of the day",
        ),
        (
            {"F": {"category": "unlawful"}, " f ": {"category": "leave"}},
            "[codes]: 'F' and ' f ' are the same code",
        ),
    ],
)
def test_contradicting_local_codes_are_config_errors(
    codes: dict[str, dict[str, object]], message: str
) -> None:
    options = SourceOptions.model_validate({"codes": codes})

    with pytest.raises(PolicyError) as caught:
        code_table(options.codes)

    assert caught.value.exit_code == 78
    assert caught.value.message == message


# -- unknown codes ------------------------------------------------------------------------------


def test_unknown_codes_are_one_error_with_every_code_and_its_count(tmp_path: Path) -> None:
    codes = ["S"] + ["X"] * 12 + ["Q"] * 3 + ["FER"] + ["Ferie"] + ["SECRET42"]
    path = export(tmp_path, *codes[:20])

    error = refusal(path)

    # A label ("Ferie") is shown; a value with a digit could be an id: counted, not shown.
    assert error.message == (
        f"{path}:3:4 (column 'Kode'): unknown category codes: X (12), Q (3), FER (1), "
        "Ferie (1), and 1 value not shown (1 row)"
    )
    assert error.hint == HINT + "; values that might be ids, dates or remarks are not shown"
    assert_private(error, cells(path, ";", "utf-8"), codes=frozenset({"FER", "Ferie"}))


@pytest.mark.parametrize(
    ("code", "category"),
    [
        ("Sygefravær", s.ILLNESS),
        ("Fravær med tilladelse", s.LEAVE),
        ("Fremmødt", s.PRESENT),
        ("Tilstede", s.PRESENT),
        ("Ulovligt fravær", s.UNLAWFUL),
        ("Lovligt fravær", s.LEAVE),
        ("Syg", s.ILLNESS),
        ("Fri", s.LEAVE),
        ("Ekstraordinær frihed", s.LEAVE),
        ("  FRAVÆR  UDEN  TILLADELSE ", s.UNLAWFUL),
        ("sygemeldt", s.ILLNESS),
    ],
)
def test_the_ministrys_and_common_wordings_are_built_in(
    tmp_path: Path, code: str, category: str
) -> None:
    frame = read_export(export(tmp_path, code))

    assert frame.collect()[s.CATEGORY].to_list() == [category]


def test_an_unknown_label_is_shown_and_an_id_like_value_is_not(tmp_path: Path) -> None:
    path = export(tmp_path, "S", "Fravær pga møde", "0101001234", "Anna Hansen 7B")

    error = refusal(path)

    assert error.message == (
        f"{path}:3:4 (column 'Kode'): unknown category codes: Fravær pga møde (1), "
        "and 2 values not shown (2 rows)"
    )
    assert_private(error, cells(path, ";", "utf-8"), codes=frozenset({"Fravær pga møde"}))


@pytest.mark.parametrize("name", ["Anna", "Frida Hansen", "Kanariefugl Testesen"])
def test_a_name_is_never_shown(tmp_path: Path, name: str) -> None:
    path = export(tmp_path, "S", name)

    error = refusal(path)

    # A label is shown only with a word about attendance in it; a name has none.
    assert error.message == (
        f"{path}:3:4 (column 'Kode'): unknown category "
        "(expected one of present, illness, leave, unlawful)"
    )
    assert_private(error, cells(path, ";", "utf-8"))


@pytest.mark.parametrize("remark", ["Peter Hansen syg", "Eva syg", "Syg Eva", "Fravær Ida Berg"])
def test_a_name_beside_a_word_about_attendance_is_never_shown(tmp_path: Path, remark: str) -> None:
    """A remark column read as the category (``Peter Hansen syg``) put the pupil's name in the
    error line, and so in a cron mail (found by the hostile pass)."""
    path = export(tmp_path, "S", remark)

    error = refusal(path)

    assert error.message == (
        f"{path}:3:4 (column 'Kode'): unknown category "
        "(expected one of present, illness, leave, unlawful)"
    )
    assert_private(error, cells(path, ";", "utf-8"))


def test_labels_are_not_shown_when_a_file_has_many_unknown_values(tmp_path: Path) -> None:
    # A column of remarks read as the category has many distinct values: none is shown.
    labels = [f"Fravær {chr(65 + i)}{chr(97 + i)}" for i in range(MAX_LABELS + 1)]
    path = export(tmp_path, *labels)

    error = refusal(path)

    assert error.message == (
        f"{path}:2:4 (column 'Kode'): unknown category "
        "(expected one of present, illness, leave, unlawful)"
    )
    assert_private(error, cells(path, ";", "utf-8"))


def test_values_that_might_be_ids_dates_or_remarks_are_counted_not_shown(tmp_path: Path) -> None:
    path = export(
        tmp_path,
        "S",
        "X",
        "0101001234",
        "SECRET42",
        "01.03.2024",
        "SECRET a very long remark about a pupil",
        "0101001234",
    )

    error = refusal(path)

    assert error.message == (
        f"{path}:3:4 (column 'Kode'): unknown category codes: X (1), "
        "and 4 values not shown (5 rows)"
    )
    assert error.hint == f"{HINT}; values that might be ids, dates or remarks are not shown"
    assert_private(error, cells(path, ";", "utf-8"), codes=frozenset({"X"}))


def test_when_no_unknown_value_can_be_shown_the_message_names_the_categories(
    tmp_path: Path,
) -> None:
    path = export(tmp_path, "S", "SECRET456")

    error = refusal(path)

    assert error.message == (
        f"{path}:3:4 (column 'Kode'): unknown category "
        "(expected one of present, illness, leave, unlawful)"
    )
    assert_private(error, cells(path, ";", "utf-8"))


def test_a_long_list_is_cut_after_ten_codes() -> None:
    unknown = {f"K{chr(65 + i)}": 20 - i for i in range(13)}

    message, _ = unknown_codes_problem(unknown)

    assert message.endswith("KJ (11), 3 more")


def test_code_key_folds_case_spaces_hyphens_and_aeoeaa() -> None:
    assert code_key(" Ekstra-ordinær  FRIHED ") == code_key("ekstraordinaerfrihed")
    assert code_key("Mødt") == code_key("MOEDT") == "moedt"


def test_an_unknown_code_with_an_invisible_letter_is_counted_but_not_shown() -> None:
    # U+3164 (a Hangul filler) is a letter that draws nothing: "S" + it would look like "S".
    problem, _ = unknown_codes_problem({"S\u3164": 2, "X": 1})

    assert problem == "unknown category codes: X (1), and 1 value not shown (2 rows)"
