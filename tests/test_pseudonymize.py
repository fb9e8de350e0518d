"""Keyed pseudonyms: HMAC-SHA256, key handling, CPR validation, privacy of messages.

The promises tested are those of docs/pseudonymize.md.

CPR numbers in these tests have birth dates in the 2030s (7th digit 4, ``YY`` 30–36), so they
are well-formed but belong to no living person.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import stat
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner, Result

from fravaer import schema as s
from fravaer.cli import app
from fravaer.pseudonymize import (
    DEMO_KEY_HEX,
    KEY_MIN_BYTES,
    BadKeyError,
    cpr_birth_date_expr,
    invalid_cpr_expr,
    parse_key,
    pseudonym,
    pseudonymize,
)

ROOT = Path(__file__).resolve().parents[1]
KEY = bytes(range(32))
OTHER_KEY = bytes(range(1, 33))
HEADER = "pupil_id,school_id,date,category,absent_fraction,grade,class_name"

VALID_CPR = "010130-4021"  # 1 January 2030
IMPOSSIBLE_CPR = "300231-4021"  # 30 February 2031
# 1 February 2031; fails modulus 11, as numbers issued since 2007 may, and is valid.
NO_MODULUS_11 = "010231-4000"


def modulus_11_holds(cpr: str) -> bool:
    digits = [int(c) for c in cpr.replace("-", "")]
    return sum(w * d for w, d in zip((4, 3, 2, 7, 6, 5, 4, 3, 2, 1), digits, strict=True)) % 11 == 0


def stdlib_hmac(key: bytes, text: str) -> str:
    return hmac.new(key, text.encode("utf-8"), hashlib.sha256).hexdigest()


def run(*args: object, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(app, [str(a) for a in args], env=env)


def export(tmp_path: Path, ids: list[str], name: str = "export.csv") -> Path:
    path = tmp_path / name
    lines = [HEADER] + [
        f"{pupil},851001,2024-03-0{i % 5 + 1},illness,1,3,3.A" for i, pupil in enumerate(ids)
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def key_file(tmp_path: Path, text: str, name: str = "key.txt") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="ascii")
    path.chmod(0o600)
    return path


def assert_private(result: Result, *secrets: str) -> None:
    """Neither ids nor key text appear in stdout or stderr."""
    for secret in secrets:
        assert secret not in result.stdout
        assert secret not in result.stderr
    assert "Traceback" not in result.stderr


# -- the core ---------------------------------------------------------------------------------


def test_pseudonyms_are_the_stdlib_hmac_of_each_id() -> None:
    ids = ["0000001", "0000002", "0000001", "ÆØÅ-7", "0101301234"]
    frame = pl.LazyFrame({s.PUPIL_ID: ids, "n": range(len(ids))})

    out = pseudonymize(frame, KEY).collect()

    assert out[s.PUPIL_ID].to_list() == [stdlib_hmac(KEY, pupil) for pupil in ids]
    assert out["n"].to_list() == list(range(len(ids)))  # order kept, other columns untouched
    assert all(len(p) == 64 for p in out[s.PUPIL_ID])


def test_a_hyphen_in_a_cpr_number_does_not_change_the_pseudonym() -> None:
    assert pseudonym(KEY, VALID_CPR) == pseudonym(KEY, VALID_CPR.replace("-", ""))
    assert pseudonym(KEY, VALID_CPR) == stdlib_hmac(KEY, VALID_CPR.replace("-", ""))
    assert pseudonym(KEY, "12-34") == stdlib_hmac(KEY, "12-34")  # not CPR-shaped: as written


def test_same_key_same_pseudonyms_other_key_other_pseudonyms() -> None:
    frame = pl.LazyFrame({s.PUPIL_ID: ["a", "b", "c"]})

    first = pseudonymize(frame, KEY).collect()
    again = pseudonymize(frame, bytes(KEY)).collect()
    other = pseudonymize(frame, OTHER_KEY).collect()

    assert first.equals(again)
    assert set(first[s.PUPIL_ID]).isdisjoint(other[s.PUPIL_ID])


def test_never_a_plain_hash() -> None:
    assert pseudonym(KEY, "0000001") != hashlib.sha256(b"0000001").hexdigest()
    with pytest.raises(BadKeyError):
        pseudonymize(pl.LazyFrame({s.PUPIL_ID: ["a"]}), b"")


@pytest.mark.parametrize(
    ("text", "length"),
    [
        (KEY.hex(), 32),
        (bytes(range(40)).hex().upper() + "\n", 40),
        (base64.b64encode(KEY).decode() + "\n", 32),
        (base64.urlsafe_b64encode(bytes(range(223, 256))).decode(), 33),  # with - and _
        ("# test key: never for real data\n" + OTHER_KEY.hex() + "\n", 32),
    ],
)
def test_keys_are_hex_or_base64_text(text: str, length: int) -> None:
    assert len(parse_key(text)) == length


DEMO_KEY_FILE = ROOT / "examples" / "pseudonymize" / "demo-key-never-for-real-data.txt"


def test_the_published_demo_key_is_refused_in_every_spelling() -> None:
    demo = bytes.fromhex(DEMO_KEY_HEX)
    spellings = [
        DEMO_KEY_FILE.read_text(encoding="ascii"),  # the file as published
        DEMO_KEY_HEX.upper(),
        base64.b64encode(demo).decode(),
        base64.urlsafe_b64encode(demo).decode(),
    ]
    for text in spellings:
        with pytest.raises(BadKeyError, match="published demo key") as caught:
            parse_key(text)
        assert caught.value.exit_code == 78


@pytest.mark.parametrize(
    "text",
    [
        "00" * 32,  # all zero
        "00112233445566778899aabbccddeeff" * 2,  # typed by hand: 16 byte values
        "ab" * 40,
        base64.urlsafe_b64encode(b"\xff" * 33).decode(),
    ],
)
def test_a_key_that_is_visibly_not_random_is_refused(text: str) -> None:
    with pytest.raises(BadKeyError, match="not random") as caught:
        parse_key(text)
    assert caught.value.exit_code == 78


def test_random_keys_are_not_refused_as_not_random() -> None:
    """32 random bytes have fewer than 17 byte values with a chance of about 2e-15."""
    for _ in range(2000):
        parse_key(secrets.token_hex(32))


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "empty"),
        ("# only a comment\n", "empty"),
        ("00" * 31, "31 bytes"),
        (base64.b64encode(bytes(31)).decode(), "31 bytes"),
        ("not a key at all!", "neither hexadecimal nor base64"),
        ("abc", "neither hexadecimal nor base64"),
    ],
)
def test_short_or_unreadable_keys_are_refused(text: str, problem: str) -> None:
    with pytest.raises(BadKeyError, match=problem) as caught:
        parse_key(text)
    assert caught.value.exit_code == 78
    assert KEY_MIN_BYTES == 32


# -- CPR numbers ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cpr", "born"),
    [
        ("010190-1234", date(1990, 1, 1)),  # 7th digit 0-3: 19YY
        ("010136-4000", date(2036, 1, 1)),  # 4: 20YY up to 36
        ("010137-4000", date(1937, 1, 1)),  # 4: 19YY from 37
        ("010157-5000", date(2057, 1, 1)),  # 5-8: 20YY up to 57
        ("010158-8000", date(1858, 1, 1)),  # 5-8: 18YY from 58
        ("010136-9000", date(2036, 1, 1)),  # 9: 20YY up to 36
        ("010137-9000", date(1937, 1, 1)),  # 9: 19YY from 37
        ("2902004000", date(2000, 2, 29)),  # a leap day in 2000 ...
        ("2902000000", None),  # ... but 1900 was no leap year
        ("3102311234", None),
        ("000130-4000", None),
        ("011330-4000", None),
        ("0000001", None),  # not CPR-shaped
    ],
)
def test_the_century_rule_and_calendar_dates(cpr: str, born: date | None) -> None:
    frame = pl.DataFrame({s.PUPIL_ID: [cpr]})

    got = frame.select(cpr_birth_date_expr()).item()

    assert got == born


def test_modulus_11_is_not_checked() -> None:
    assert not modulus_11_holds(NO_MODULUS_11)
    frame = pl.DataFrame({s.PUPIL_ID: [NO_MODULUS_11, VALID_CPR, IMPOSSIBLE_CPR, "x1"]})

    assert frame.select(invalid_cpr_expr()).to_series().to_list() == [False, False, True, False]


def naive_birth_date(cpr: str) -> date | None:
    """The CPR office's rule, written out plainly."""
    if len(cpr) == 11 and cpr[6] == "-":
        cpr = cpr[:6] + cpr[7:]
    if len(cpr) != 10 or not cpr.isascii() or not cpr.isdigit():
        return None
    day, month, yy, seventh = int(cpr[0:2]), int(cpr[2:4]), int(cpr[4:6]), int(cpr[6])
    if seventh in (0, 1, 2, 3):
        year = 1900 + yy
    elif seventh in (4, 9):
        year = (2000 if yy <= 36 else 1900) + yy
    else:
        year = (2000 if yy <= 57 else 1800) + yy
    try:
        return date(year, month, day)
    except ValueError:
        return None


@given(
    st.lists(
        st.tuples(
            st.integers(0, 39),
            st.integers(0, 14),
            st.integers(0, 99),
            st.integers(0, 9999),
            st.booleans(),
        ),
        min_size=1,
        max_size=30,
    )
)
def test_birth_dates_equal_a_naive_reading(parts: list[tuple[int, int, int, int, bool]]) -> None:
    ids = [f"{d:02}{m:02}{y:02}{'-' if dash else ''}{n:04}" for d, m, y, n, dash in parts]
    frame = pl.DataFrame({s.PUPIL_ID: ids})

    got = frame.select(cpr_birth_date_expr()).to_series().to_list()

    assert got == [naive_birth_date(pupil) for pupil in ids]


# -- the command ----------------------------------------------------------------------------


@pytest.fixture
def key(tmp_path: Path) -> Path:
    return key_file(tmp_path, KEY.hex() + "\n")


def test_the_command_writes_stdlib_pseudonyms_privately(tmp_path: Path, key: Path) -> None:
    ids = ["0000001", VALID_CPR, NO_MODULUS_11, "0000001"]
    source = export(tmp_path, ids)
    out = tmp_path / "out.csv"

    result = run("pseudonymize", source, "-o", out, "--key-file", key)

    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    written = pl.read_csv(out, infer_schema=False)
    assert written.columns == HEADER.split(",")
    expected = [stdlib_hmac(KEY, pupil.replace("-", "")) for pupil in ids]
    assert written[s.PUPIL_ID].to_list() == expected
    assert written["date"].to_list() == pl.read_csv(source, infer_schema=False)["date"].to_list()
    assert_private(result, *ids, KEY.hex())
    assert "pseudonymised 4 row(s) of 3 pupil(s)" in result.stderr


def test_parquet_output_and_base64_env_key_give_the_same_pseudonyms(
    tmp_path: Path, key: Path
) -> None:
    source = export(tmp_path, ["0000001", "0000002"])
    csv_out, pq_out = tmp_path / "a.csv", tmp_path / "b.parquet"
    env = {"FRAVAER_TEST_KEY": base64.b64encode(KEY).decode()}

    by_file = run("pseudonymize", source, "-o", csv_out, "--key-file", key)
    by_env = run("pseudonymize", source, "-o", pq_out, "--key-env", "FRAVAER_TEST_KEY", env=env)

    assert by_file.exit_code == by_env.exit_code == 0, by_env.output
    assert stat.S_IMODE(pq_out.stat().st_mode) == 0o600
    from_csv = pl.read_csv(csv_out, infer_schema=False)[s.PUPIL_ID]
    assert from_csv.to_list() == pl.read_parquet(pq_out)[s.PUPIL_ID].to_list()
    assert_private(by_env, "0000001", env["FRAVAER_TEST_KEY"])


def test_other_key_other_pseudonyms(tmp_path: Path, key: Path) -> None:
    source = export(tmp_path, ["0000001"])
    other = key_file(tmp_path, OTHER_KEY.hex(), "other.txt")

    run("pseudonymize", source, "-o", tmp_path / "a.csv", "--key-file", key)
    run("pseudonymize", source, "-o", tmp_path / "b.csv", "--key-file", other)

    a = pl.read_csv(tmp_path / "a.csv", infer_schema=False)[s.PUPIL_ID][0]
    b = pl.read_csv(tmp_path / "b.csv", infer_schema=False)[s.PUPIL_ID][0]
    assert a != b


def test_no_key_is_a_usage_error(tmp_path: Path) -> None:
    source = export(tmp_path, ["0000001"])
    out = tmp_path / "out.csv"

    result = run("pseudonymize", source, "-o", out)

    assert result.exit_code == 2
    assert "a key is needed" in result.stderr
    assert not out.exists()


def test_two_keys_is_a_usage_error(tmp_path: Path, key: Path) -> None:
    source = export(tmp_path, ["0000001"])

    result = run(
        "pseudonymize", source, "-o", tmp_path / "o.csv", "--key-file", key, "--key-env", "X"
    )

    assert result.exit_code == 2
    assert result.stderr == "fravaer: error: give --key-file or --key-env, not both\n"


@pytest.mark.parametrize("text", ["00" * 31, "", base64.b64encode(bytes(20)).decode(), "password"])
def test_a_short_or_bad_key_is_a_config_error(tmp_path: Path, text: str) -> None:
    source = export(tmp_path, ["0000001"])
    out = tmp_path / "out.csv"
    path = key_file(tmp_path, text)
    env = {"FRAVAER_TEST_KEY": text}

    by_file = run("pseudonymize", source, "-o", out, "--key-file", path)
    by_env = run("pseudonymize", source, "-o", out, "--key-env", "FRAVAER_TEST_KEY", env=env)

    for result in (by_file, by_env):
        assert result.exit_code == 78, result.output
        assert "fravaer: error: " in result.stderr
        assert not out.exists()
        if text:
            assert_private(result, text, "0000001")


def test_an_unset_key_variable_and_a_missing_key_file(tmp_path: Path) -> None:
    source = export(tmp_path, ["0000001"])
    out = tmp_path / "out.csv"

    unset = run("pseudonymize", source, "-o", out, "--key-env", "FRAVAER_NO_SUCH_VARIABLE_X")
    missing = run("pseudonymize", source, "-o", out, "--key-file", tmp_path / "nope")

    assert unset.exit_code == 78
    assert "the environment variable named by --key-env is not set" in unset.stderr
    assert missing.exit_code == 66


def test_a_key_given_where_its_name_belongs_is_never_echoed(tmp_path: Path) -> None:
    """``--key-env "$KEY"`` or ``--key-file "$KEY"``: the key is not on stderr (cron mail)."""
    source = export(tmp_path, ["0000001"])
    out = tmp_path / "out.csv"
    secret = secrets.token_hex(32)
    wrapped = f"# the school's key\n{secret}\n"

    as_name = run("pseudonymize", source, "-o", out, "--key-env", secret)
    as_text = run("pseudonymize", source, "-o", out, "--key-env", wrapped)
    as_path = run("pseudonymize", source, "-o", out, "--key-file", secret)
    b64 = base64.b64encode(bytes.fromhex(secret)).decode()
    as_b64_path = run("pseudonymize", source, "-o", out, "--key-file", b64)

    assert (as_name.exit_code, as_text.exit_code) == (78, 78)
    assert (as_path.exit_code, as_b64_path.exit_code) == (66, 66)
    for result in (as_name, as_text, as_path, as_b64_path):
        assert_private(result, secret, secret[:16], b64, b64[:16])
    assert "the file given as the key file: no such key file" in as_path.stderr
    assert not out.exists()


def test_no_message_shows_a_key_files_text(tmp_path: Path) -> None:
    source = export(tmp_path, ["0000001"])
    out = tmp_path / "out.csv"
    short = secrets.token_hex(20)  # 20 bytes: too short, and not to be shown
    typed = "0011223344556677" * 4

    not_ascii = tmp_path / "2.k"
    not_ascii.write_bytes(f"{short}ø".encode())
    not_ascii.chmod(0o600)
    paths = [key_file(tmp_path, short, "0.k"), key_file(tmp_path, typed, "1.k"), not_ascii]

    results = [run("pseudonymize", source, "-o", out, "--key-file", path) for path in paths]

    for result in results:
        assert result.exit_code == 78, result.output
        assert_private(result, short, short[:12], typed[:16])


def test_the_demo_key_is_refused_by_the_command_with_a_hint(tmp_path: Path) -> None:
    source = export(tmp_path, ["0000001"])
    out = tmp_path / "out.csv"
    demo = key_file(tmp_path, DEMO_KEY_FILE.read_text(encoding="ascii"), "demo.txt")

    result = run("pseudonymize", source, "-o", out, "--key-file", demo)

    assert result.exit_code == 78
    assert f"{demo}: the key is fravaer's published demo key" in result.stderr
    assert "fravaer: hint: make a key with" in result.stderr
    assert_private(result, DEMO_KEY_HEX, "0000001")
    assert not out.exists()


def test_a_key_file_others_can_read_gets_a_warning(tmp_path: Path, key: Path) -> None:
    source = export(tmp_path, ["0000001"])
    key.chmod(0o644)

    result = run("pseudonymize", source, "-o", tmp_path / "o.csv", "--key-file", key)

    assert result.exit_code == 0
    assert "warning: " in result.stderr
    assert "can be read by others" in result.stderr


def test_an_impossible_cpr_date_is_bad_input_named_by_line_not_value(
    tmp_path: Path, key: Path
) -> None:
    source = export(tmp_path, [VALID_CPR, NO_MODULUS_11, IMPOSSIBLE_CPR, IMPOSSIBLE_CPR])
    out = tmp_path / "out.csv"
    out.write_text("older output\n")

    result = run("pseudonymize", source, "-o", out, "--key-file", key)

    assert result.exit_code == 65
    errors = [line for line in result.stderr.splitlines() if line.startswith("fravaer: error:")]
    assert len(errors) == 1
    assert f"{source}:4 (column 'pupil_id')" in errors[0]
    assert "2 row(s)" in errors[0]
    assert_private(result, IMPOSSIBLE_CPR, IMPOSSIBLE_CPR.replace("-", ""), "300231", KEY.hex())
    assert out.read_text() == "older output\n"  # an older output stays intact


def test_impossible_cpr_in_parquet_names_the_row(tmp_path: Path, key: Path) -> None:
    source = tmp_path / "export.parquet"
    pl.read_csv(export(tmp_path, ["0000001", IMPOSSIBLE_CPR]), infer_schema=False).write_parquet(
        source
    )

    result = run("pseudonymize", source, "-o", tmp_path / "o.parquet", "--key-file", key)

    assert result.exit_code == 65
    assert f"{source}:2 (column 'pupil_id')" in result.stderr


def test_bad_export_is_refused_before_writing(tmp_path: Path, key: Path) -> None:
    source = tmp_path / "bad.csv"
    source.write_text(HEADER + "\n0000001,851001,2024-13-01,illness,1,3,3.A\n")

    result = run("pseudonymize", source, "-o", tmp_path / "o.csv", "--key-file", key)

    assert result.exit_code == 65
    assert not (tmp_path / "o.csv").exists()
    assert_private(result, "0000001", "2024-13-01")


def test_output_format_must_be_csv_or_parquet(tmp_path: Path, key: Path) -> None:
    source = export(tmp_path, ["0000001"])

    result = run("pseudonymize", source, "-o", tmp_path / "o.xlsx", "--key-file", key)

    assert result.exit_code == 2
    assert result.stderr == (
        "fravaer: error: cannot tell csv or parquet from 'o.xlsx'; give --format\n"
    )
    assert not (tmp_path / "o.xlsx").exists()


# -- several files: one per school ---------------------------------------------------------------


def test_several_files_and_a_glob_become_one_file_of_their_rows(tmp_path: Path, key: Path) -> None:
    first = export(tmp_path, ["0000001", VALID_CPR], name="school-851001.csv")
    second = tmp_path / "school-851002.csv"
    second.write_text(
        f"{HEADER}\n0000002,851002,2024-03-04,leave,1,4,4.B\n0000003,851002,2024-03-05,present,0,4,4.B\n",
        encoding="utf-8",
    )
    out = tmp_path / "out.csv"

    listed = run("pseudonymize", first, second, "-o", out, "--key-file", key)
    by_glob = run(
        "pseudonymize", tmp_path / "school-*.csv", "-o", tmp_path / "g.csv", "--key-file", key
    )

    assert listed.exit_code == 0, listed.output
    assert by_glob.exit_code == 0, by_glob.output
    written = pl.read_csv(out, infer_schema=False)
    expected = [
        stdlib_hmac(KEY, p) for p in ("0000001", VALID_CPR.replace("-", ""), "0000002", "0000003")
    ]
    assert written[s.PUPIL_ID].to_list() == expected
    assert written[s.SCHOOL_ID].to_list() == ["851001", "851001", "851002", "851002"]
    assert pl.read_csv(tmp_path / "g.csv", infer_schema=False).equals(written)
    assert "pseudonymised 4 row(s) of 4 pupil(s)" in listed.stderr
    assert_private(listed, "0000001", VALID_CPR, "0000002", KEY.hex())


def test_an_impossible_cpr_number_in_the_second_file_names_that_file(
    tmp_path: Path, key: Path
) -> None:
    first = export(tmp_path, ["0000001"], name="a.csv")
    second = export(tmp_path, [VALID_CPR, IMPOSSIBLE_CPR], name="b.csv")
    out = tmp_path / "out.csv"

    result = run("pseudonymize", first, second, "-o", out, "--key-file", key)

    assert result.exit_code == 65
    errors = [line for line in result.stderr.splitlines() if line.startswith("fravaer: error:")]
    assert errors == [
        f"fravaer: error: {second}:3 (column 'pupil_id'): not a valid CPR number: no such birth "
        "date (1 row(s) in all)"
    ]
    assert not out.exists()
    assert_private(result, IMPOSSIBLE_CPR, KEY.hex())
