"""Keyed pseudonyms for pupil ids: HMAC-SHA256 with a key from outside the data.

The page for users is docs/pseudonymize.md.

A plain hash of a CPR number is no protection: there are only about 365 × 100 × 10,000 ≈ 4·10^8
possible numbers, and hashing all of them takes minutes, so the hash is reversed by lookup. An
HMAC cannot be computed without the key, so the pseudonyms can be shared with someone who does
not hold it. The same key gives the same pseudonym for the same pupil, so exports pseudonymised
in different runs can still be joined; a new key gives unrelated pseudonyms.

Pseudonyms are the full 64 hexadecimal digits of the HMAC (256 bits). Truncating to 16 digits
(64 bits) would still make a collision among 500,000 pupils unlikely — the birthday bound
n²/2^65 is about 7·10^-9 — but that chance grows with every year and every municipality joined,
a collision would silently merge two children's absence, and 48 more characters per id cost
little (Parquet stores each distinct id once per row group). So nothing is truncated.

CPR-shaped ids (``DDMMYY-SSSS`` or ``DDMMYYSSSS``) are checked for format and calendar date only.
The modulus-11 check is deliberately not applied: numbers issued since 2007 may fail it and are
valid. The century comes from the 7th digit (the first of the four after the date) and the year
``YY``, as the CPR office defines it:

======================  ===========  ===========
7th digit               YY 00–36     YY 37–99
======================  ===========  ===========
0, 1, 2, 3              19YY         19YY
4, 9                    20YY         19YY
5, 6, 7, 8              20YY (≤ 57)  18YY (≥ 58)
======================  ===========  ===========

(for 5–8 the split is at 57/58, not 36/37). A CPR-shaped id is hashed without its hyphen, so
``010190-1234`` and ``0101901234`` get the same pseudonym. Other ids are hashed as written.

The same keyed hash names a pupil where a *name* is needed without the id: :func:`pupil_token`
gives the token in the file names of meeting sheets (and of ``fravaer site``), and the state file
keeps pupils under :func:`keyed_digest` (``state.pupil_key``). :func:`keyed_digest` is the one
HMAC of fravaer.

Everything here is pure: the caller reads the key and the data.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from collections.abc import Iterable

import polars as pl

from fravaer import schema as s
from fravaer.errors import PolicyError

KEY_MIN_BYTES = 32
"""The shortest key accepted: 256 bits, the output size of SHA-256."""

PSEUDONYM_LENGTH = 64
"""Hex digits in a pseudonym: the whole HMAC-SHA256, never truncated."""

CPR_PATTERN = r"^\d{6}-?\d{4}$"
"""What makes an id CPR-shaped: six digits, an optional hyphen, four digits."""

SCHOOL_HASH_LENGTH = 8
"""Hex digits of the SHA-256 that stand for a school id that cannot be shown."""


def shown_school(school: str) -> str:
    """A school id as it may be shown (file names, stderr, ``check``): as it is, unless it is
    shaped like a CPR number, which is then shown only as ``school-`` and a hash.

    Institution numbers have six digits; a ten-digit school id is most likely a pupil's CPR
    number in the wrong column, and neither a file name, a warning in a cron mail nor
    ``check``'s report may hold one (docs/privacy.md#file-names-hold-no-pupil-id).

    >>> shown_school("851001"), shown_school("010203-1234")
    ('851001', 'school-ebe9f50e')
    """
    if not re.fullmatch(CPR_PATTERN, school):
        return school
    return f"school-{hashlib.sha256(school.encode('utf-8')).hexdigest()[:SCHOOL_HASH_LENGTH]}"


_HEX = re.compile(r"[0-9a-fA-F]+")
_BASE64 = re.compile(r"[A-Za-z0-9+/_-]+={0,2}")
_PSEUDONYM = "_pseudonym"

TOKEN_LENGTH = 16
"""Hex digits of a pupil's token in file names: 64 bits, see :func:`pupil_token`."""

_TOKEN_CONTEXT = "fravaer file name token\0"
"""Put before the id in a token's HMAC, so that a token is not the start of the pseudonym that
the same key gives (a key file may serve both); no id holds a NUL (ingest refuses it)."""

DEMO_KEY_HEX = "c1b7d5b73cf57f0f94b8a6a253b4ac3c8428ae50893d9257ace8d414c9effe2f"
"""The key of ``examples/pseudonymize/demo-key-never-for-real-data.txt``: published, so refused."""

KEY_MIN_DISTINCT_BYTES = 17
"""A key with fewer different byte values is typed by hand (``0011…ff0011…ff``, ``00…00``), not
random: 32 random bytes have that few with a chance of about 2·10^-15 (docs/pseudonymize.md)."""

KEY_HINT = (
    "make a key with: (umask 077; python3 -c 'import secrets; print(secrets.token_hex(32))' "
    "> fravaer.key)"
)


class BadKeyError(PolicyError):
    """The pseudonymisation key is unusable (exit 78, configuration)."""


def parse_key(text: str) -> bytes:
    """The key bytes from key text: hexadecimal, else base64; at least 32 bytes.

    Lines starting with ``#`` are comments (a key file can say whose key it is); whitespace,
    such as a file's final newline, is ignored. The same rule applies to a key file and to an
    environment variable, so one key gives one set of pseudonyms either way.

    >>> len(parse_key(bytes(range(32)).hex()))
    32
    >>> parse_key("abcd")
    Traceback (most recent call last):
    ...
    fravaer.pseudonymize.BadKeyError: the key is 2 bytes; at least 32 are needed
    """
    text = "".join(line.strip() for line in text.splitlines() if not line.lstrip().startswith("#"))
    if not text:
        raise BadKeyError("the key is empty", hint=KEY_HINT)
    key: bytes | None = None
    if _HEX.fullmatch(text) and len(text) % 2 == 0:
        key = bytes.fromhex(text)
    elif _BASE64.fullmatch(text):
        try:
            altchars = b"-_" if any(c in text for c in "-_") else None
            key = base64.b64decode(text, altchars=altchars, validate=True)
        except (binascii.Error, ValueError):
            key = None
    if key is None:
        raise BadKeyError("the key is neither hexadecimal nor base64 text", hint=KEY_HINT)
    if len(key) < KEY_MIN_BYTES:
        raise BadKeyError(
            f"the key is {len(key)} bytes; at least {KEY_MIN_BYTES} are needed", hint=KEY_HINT
        )
    if key == bytes.fromhex(DEMO_KEY_HEX):
        raise BadKeyError(
            "the key is fravaer's published demo key: anyone can recompute its pseudonyms",
            hint=KEY_HINT,
        )
    if len(set(key)) < KEY_MIN_DISTINCT_BYTES:
        raise BadKeyError(
            f"the key is not random: it has only {len(set(key))} different byte values",
            hint=KEY_HINT,
        )
    return key


def keyed_digest(key: bytes, text: str) -> str:
    """HMAC-SHA256 of ``text``'s UTF-8 bytes under ``key``, as 64 lowercase hex digits.

    Every keyed hash of fravaer (pseudonyms, tokens, the state's pupil keys) is this one.

    >>> keyed_digest(bytes(32), "007")[:16]
    '46970a3ebfd1f21d'
    """
    return hmac.new(key, text.encode("utf-8"), hashlib.sha256).hexdigest()


def pupil_token(key: bytes, pupil_id: str) -> str:
    """The name of a pupil in file names: :data:`TOKEN_LENGTH` lowercase hex digits of an HMAC.

    The same key gives the same token week after week, so a pupil's files keep their names; the
    token shows nothing of the id without the key. It is not the start of the pupil's
    pseudonym under the same key. 64 bits: two of 500,000 pupils share a token with a chance of
    about 7·10^-9; :func:`pupil_tokens` refuses a run in which two do.

    >>> key = bytes(range(32))
    >>> token = pupil_token(key, "0000001")
    >>> len(token), token == pupil_token(key, "0000001"), token == pseudonym(key, "0000001")[:16]
    (16, True, False)
    """
    return keyed_digest(key, _TOKEN_CONTEXT + pupil_id)[:TOKEN_LENGTH]


def pupil_tokens(key: bytes, pupil_ids: Iterable[str]) -> dict[str, str]:
    """Each id's :func:`pupil_token`; two ids with one token are refused (exit 78).

    A shared token would give two pupils one file name. The chance is tiny, and a new key ends
    it: the message names no id and no token.
    """
    tokens = {pupil: pupil_token(key, pupil) for pupil in pupil_ids}
    if len(set(tokens.values())) != len(tokens):
        raise BadKeyError(
            "the token key gives two pupils the same file name token",
            hint="move the token key file away (a new one is made, and every sheet gets a new "
            "name), or give another with --key-file / key_file",
        )
    return tokens


def pseudonym(key: bytes, pupil_id: str) -> str:
    """The pseudonym of one id: HMAC-SHA256 of its UTF-8 bytes, as 64 lowercase hex digits.

    A CPR-shaped id loses its hyphen first.

    >>> key = bytes(range(32))
    >>> pseudonym(key, "010190-1234") == pseudonym(key, "0101901234")
    True
    >>> len(pseudonym(key, "0000001"))
    64
    """
    if re.fullmatch(CPR_PATTERN, pupil_id):
        pupil_id = pupil_id.replace("-", "")
    return keyed_digest(key, pupil_id)


def cpr_shaped_expr(column: str = s.PUPIL_ID) -> pl.Expr:
    """Whether the id looks like a CPR number (``DDMMYY-SSSS`` or ``DDMMYYSSSS``)."""
    return pl.col(column).str.contains(CPR_PATTERN)


def cpr_birth_date_expr(column: str = s.PUPIL_ID) -> pl.Expr:
    """The birth date a CPR-shaped id encodes; null when that date does not exist (or not CPR).

    The century follows the 7th digit and ``YY`` (see the module docstring); no modulus 11.
    """
    digits = pl.col(column).str.replace("-", "", literal=True)
    yy = digits.str.slice(4, 2).cast(pl.Int32, strict=False)
    seventh = digits.str.slice(6, 1).cast(pl.Int32, strict=False)
    century = (
        pl.when(seventh <= 3)
        .then(1900)
        .when(seventh.is_in([4, 9]))
        .then(pl.when(yy <= 36).then(2000).otherwise(1900))
        .otherwise(pl.when(yy <= 57).then(2000).otherwise(1800))
    )
    iso = pl.concat_str(
        (century + yy).cast(pl.String),
        pl.lit("-"),
        digits.str.slice(2, 2),
        pl.lit("-"),
        digits.str.slice(0, 2),
    )
    parsed = iso.str.strptime(pl.Date, "%Y-%m-%d", strict=False)
    return pl.when(cpr_shaped_expr(column)).then(parsed)


def invalid_cpr_expr(column: str = s.PUPIL_ID) -> pl.Expr:
    """True for a CPR-shaped id whose date does not exist (e.g. 300223-1234, 31 February)."""
    return cpr_shaped_expr(column) & cpr_birth_date_expr(column).is_null()


def invalid_cpr(frame: pl.LazyFrame, *, line: str) -> pl.LazyFrame:
    """One row: how many rows hold an invalid CPR-shaped id, and the first such row's ``line``.

    ``line`` names the column with each row's source line (ingest's ``_line``). Only the count
    and the line leave this function, never an id.
    """
    bad = invalid_cpr_expr()
    return frame.select(
        bad.sum().alias("count"),
        pl.col(line).filter(bad).min().alias("first_line"),
    )


def pseudonymize(frame: pl.LazyFrame, key: bytes) -> pl.LazyFrame:
    """Replace ``pupil_id`` by its HMAC-SHA256 pseudonym; every other column stays as it was.

    The HMAC is computed once per distinct id (polars has no HMAC expression; 500,000 distinct
    pupils take about a second) and joined back, so the frame itself stays lazy and streamable.

    Parameters
    ----------
    frame
        Rows with a string ``pupil_id`` column; the row order is kept.
    key
        At least :data:`KEY_MIN_BYTES` bytes, e.g. from :func:`parse_key`.

    Examples
    --------
    >>> rows = pl.LazyFrame({"pupil_id": ["0000001", "0000002", "0000001"], "x": [1, 2, 3]})
    >>> out = pseudonymize(rows, bytes(range(32))).collect()
    >>> out.columns, out["pupil_id"].str.len_chars().to_list()
    (['pupil_id', 'x'], [64, 64, 64])
    >>> out["pupil_id"][0] == out["pupil_id"][2] != out["pupil_id"][1]
    True
    """
    if len(key) < KEY_MIN_BYTES:
        raise BadKeyError(
            f"the key is {len(key)} bytes; at least {KEY_MIN_BYTES} are needed", hint=KEY_HINT
        )
    columns = frame.collect_schema().names()
    ids = frame.select(pl.col(s.PUPIL_ID)).unique()
    table = ids.with_columns(
        pl.col(s.PUPIL_ID)
        .map_batches(
            lambda batch: batch.map_elements(
                lambda pupil: pseudonym(key, pupil), return_dtype=pl.String
            ),
            return_dtype=pl.String,
        )
        .alias(_PSEUDONYM)
    )
    joined = frame.join(table, on=s.PUPIL_ID, how="left", maintain_order="left")
    return joined.with_columns(pl.col(_PSEUDONYM).alias(s.PUPIL_ID)).select(columns)
