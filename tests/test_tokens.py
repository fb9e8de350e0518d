"""Names of the files fravaer makes: pupils' tokens, the token key, school ids made safe."""

from __future__ import annotations

import hashlib
import hmac
import os
import stat
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fravaer.errors import CannotCreateOutputError, InputMissingError
from fravaer.pseudonymize import BadKeyError, pseudonym, pupil_token, pupil_tokens
from fravaer.tokens import TOKEN_KEY_NAME, school_names, token_key, token_key_path

KEY = bytes(range(32))


def test_a_token_is_a_truncated_hmac_of_the_id_apart_from_its_pseudonym() -> None:
    expected = hmac.new(KEY, b"fravaer file name token\x000000001", hashlib.sha256).hexdigest()

    assert pupil_token(KEY, "0000001") == expected[:16]
    assert pupil_token(KEY, "0000001") != pseudonym(KEY, "0000001")[:16]
    assert pupil_token(bytes(range(1, 33)), "0000001") != pupil_token(KEY, "0000001")


def test_two_ids_with_one_token_are_refused_without_naming_either(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("fravaer.pseudonymize.TOKEN_LENGTH", 1)
    ids = [f"{i:07d}" for i in range(17)]  # 17 ids, 16 one-digit tokens

    with pytest.raises(BadKeyError) as caught:
        pupil_tokens(KEY, ids)

    assert caught.value.exit_code == 78
    assert not any(pupil in caught.value.message for pupil in ids)


@given(st.lists(st.text(min_size=1, max_size=60), min_size=1, max_size=8, unique=True))
def test_school_names_are_distinct_without_case_and_safe(schools: list[str]) -> None:
    names = school_names(schools)

    assert len({name.casefold() for name in names.values()}) == len(schools)
    for name in names.values():
        assert all(c.isascii() and (c.isalnum() or c in "._-") for c in name), name
        assert name[0] not in ".-"
        assert len(name) <= 40 + 9


def test_school_names_that_safe_characters_or_case_would_merge_stay_apart() -> None:
    names = school_names(["ABC", "abc", "a/b", "a_b", "a b", "." * 3, "x" * 41, "851001"])

    assert names["abc"] == "abc"
    assert names["a_b"] == "a_b"
    assert names["851001"] == "851001"
    assert names["ABC"].startswith("ABC-")
    assert names["a/b"].startswith("a_b-")
    assert names["a b"].startswith("a_b-")
    assert names["a/b"] != names["a b"]
    assert names["..."].startswith("_")
    assert len(names["x" * 41]) == 40 + 9
    # A school's name does not depend on which other schools there are.
    assert school_names(["ABC"]) == {"ABC": names["ABC"]}


def test_the_token_key_is_made_once_privately_and_then_kept(tmp_path: Path) -> None:
    first = token_key(None, None, tmp_path)
    again = token_key(None, None, tmp_path)

    path = tmp_path / TOKEN_KEY_NAME
    assert first == again == bytes.fromhex(path.read_text())
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert token_key_path(tmp_path / "s.json", tmp_path) == tmp_path / "s.json.key"


def test_a_dry_run_makes_no_key(tmp_path: Path) -> None:
    key = token_key(None, None, tmp_path / "new", create=False)

    assert len(key) == 32
    assert not (tmp_path / "new").exists()


def test_a_key_beside_the_state_is_made_in_a_missing_folder(tmp_path: Path) -> None:
    state = tmp_path / "state" / "state.json"

    key = token_key(state, None, tmp_path / "out")

    assert bytes.fromhex((tmp_path / "state" / "state.json.key").read_text()) == key
    assert not (tmp_path / "out").exists()


def test_a_symlink_at_the_key_is_not_followed_or_replaced(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere"
    (tmp_path / TOKEN_KEY_NAME).symlink_to(target)

    with pytest.raises(BadKeyError, match="is a symbolic link"):
        token_key(None, None, tmp_path)

    assert not target.exists()


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o620, 0o602])
def test_a_kept_key_others_can_read_or_write_is_refused(tmp_path: Path, mode: int) -> None:
    path = tmp_path / TOKEN_KEY_NAME
    path.write_text(KEY.hex() + "\n")
    path.chmod(mode)

    with pytest.raises(BadKeyError, match="read or written by group or others") as caught:
        token_key(None, None, tmp_path)

    assert caught.value.exit_code == 78
    assert caught.value.hint is not None
    assert "remove" in caught.value.hint


def test_a_kept_key_of_another_user_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = tmp_path / "state.json"
    path = tmp_path / "state.json.key"
    path.write_text(KEY.hex() + "\n")
    path.chmod(0o600)
    owner = os.geteuid()
    monkeypatch.setattr(os, "geteuid", lambda: owner + 1)

    with pytest.raises(BadKeyError, match="owned by another user"):
        token_key(state, None, tmp_path)


def test_a_kept_key_that_is_a_fifo_is_refused_not_waited_on(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / TOKEN_KEY_NAME)

    with pytest.raises(BadKeyError, match="not a regular file"):
        token_key(None, None, tmp_path)


def test_a_key_file_given_may_be_a_link_and_others_may_read_it(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    target = tmp_path / "k"
    target.write_text(KEY.hex() + "\n")
    target.chmod(0o644)
    (tmp_path / "link.key").symlink_to(target)

    assert token_key(None, tmp_path / "link.key", tmp_path) == KEY
    assert "can be read by others" in caplog.text


def test_a_key_file_given_that_is_a_fifo_is_refused_not_waited_on(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "k.key")

    with pytest.raises(InputMissingError, match="is not a regular file"):
        token_key(None, tmp_path / "k.key", tmp_path)


def test_a_damaged_key_is_refused_not_replaced(tmp_path: Path) -> None:
    path = tmp_path / TOKEN_KEY_NAME
    path.write_text("not a key")
    path.chmod(0o600)

    with pytest.raises(BadKeyError):
        token_key(None, None, tmp_path)

    assert path.read_text() == "not a key"


def test_a_key_that_cannot_be_created_is_exit_73(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")

    with pytest.raises(CannotCreateOutputError):
        token_key(None, None, tmp_path / "file")


def test_a_huge_key_file_is_refused_without_reading_it_whole(tmp_path: Path) -> None:
    path = tmp_path / "big.key"
    path.write_text("# " + "x" * 100_000 + "\n" + KEY.hex() + "\n")
    path.chmod(0o600)

    with pytest.raises(BadKeyError, match="larger than a key file"):
        token_key(None, path, tmp_path)


def test_a_cpr_shaped_school_id_never_stands_in_a_file_name() -> None:
    # A ten-digit school id is most likely a pupil's CPR number in the wrong column.
    names = school_names(["0102031234", "010203-1234", "851001"])
    assert names["851001"] == "851001"
    for cpr in ("0102031234", "010203-1234"):
        assert "0102031234" not in names[cpr].replace("-", "")
        assert names[cpr].startswith("school-")
    assert len(set(names.values())) == 3
