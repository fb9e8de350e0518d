"""Category codes as exports write them -> the four canonical categories (docs/ingest.md#codes).

Exports write the category as a Danish label (``Sygdom``, ``Ulovligt fravær``), a letter (``S``,
``U``) or nothing at all for a present day. The built-in table covers the national categories;
a municipality adds its own codes under ``[codes]`` in ``source.toml`` (``Y`` worrying illness,
``F`` late with a fraction of the day), and those override the built-ins. Codes are compared after
:func:`code_key` has folded away case, spaces, hyphens and the spelling of æ, ø and å.

A code that is in neither table is never read as present or as a null: the whole file is
refused in one message that lists every unknown code with its count, so that a new export can
be mapped in one go.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from fravaer import schema as s
from fravaer.errors import PolicyError
from fravaer.ingest.source import LocalCode
from fravaer.ingest.text import has_hidden_character

BUILTIN_CODES: Final[Mapping[str, tuple[str, ...]]] = {
    s.PRESENT: ("present", "til stede", "mødt", "fremmødt", "fremmøde", "M", ""),
    s.ILLNESS: ("illness", "sygdom", "syg", "sygefravær", "sygemeldt", "S"),
    s.LEAVE: (
        "leave",
        "ekstraordinær frihed",
        "ekstraordinær fri",
        "frihed",
        "fri",
        "lovligt",
        "lovligt fravær",
        "fravær med tilladelse",
        "godkendt fravær",
        "E",
    ),
    s.UNLAWFUL: (
        "unlawful",
        "ulovligt",
        "ulovligt fravær",
        "fravær uden tilladelse",
        "ikke godkendt fravær",
        "pjæk",
        "U",
    ),
}
"""Category -> the codes that mean it (before folding: ``Til stede`` and ``tilstede`` are one).

The ministry's three absence categories as its statistics name them (``Sygefravær``,
``Fravær med tilladelse``, ``Ulovligt fravær``), the school systems' and schools' common
wordings of them, and the letters; docs/ingest.md#category-codes lists which is which."""

_FOLD = str.maketrans({"æ": "ae", "ø": "oe", "å": "aa", "ä": "ae", "ö": "oe"})
_IGNORED = re.compile(r"[\s_\-]+")


def code_key(code: str) -> str:
    """The form codes are compared in.

    >>> code_key(" Til stede "), code_key("TILSTEDE"), code_key("Mødt"), code_key("moedt")
    ('tilstede', 'tilstede', 'moedt', 'moedt')
    """
    folded = unicodedata.normalize("NFC", code).casefold().translate(_FOLD)
    return _IGNORED.sub("", folded)


@dataclass(frozen=True)
class Meaning:
    """What a code means: its category, and the share of the day it counts (None: the row's)."""

    category: str
    fraction: float | None = None


@dataclass(frozen=True)
class CodeTable:
    """The built-in codes with a source's local codes on top, by :func:`code_key`."""

    meanings: Mapping[str, Meaning]

    def lookup(self, code: str) -> Meaning | None:
        """The meaning of ``code`` as written in a cell, or None when it is unknown."""
        return self.meanings.get(code_key(code))


def code_table(local: Mapping[str, LocalCode] | None = None) -> CodeTable:
    """The built-in codes, overridden by ``local`` ones.

    A local ``present`` code with a fraction above 0 is a configuration error (exit 78): absence
    must belong to a category to be counted.

    >>> from fravaer.ingest.source import LocalCode
    >>> table = code_table({"F": LocalCode(category="unlawful", fraction=0.1)})
    >>> table.lookup("f"), table.lookup(" Sygdom ").category, table.lookup("") .category
    (Meaning(category='unlawful', fraction=0.1), 'illness', 'present')
    """
    meanings = {
        code_key(code): Meaning(category)
        for category, codes in BUILTIN_CODES.items()
        for code in codes
    }
    seen: dict[str, str] = {}
    for code, meaning in (local or {}).items():
        key = code_key(code)
        if key in seen:
            raise PolicyError(
                f"[codes]: '{seen[key]}' and '{code}' are the same code",
                hint="codes are compared without case, spaces and hyphens; give each once",
            )
        seen[key] = code
        fraction = None if meaning.fraction is None else float(meaning.fraction)
        if meaning.category == s.PRESENT and fraction:
            raise PolicyError(
                f"[codes]: '{code}' is present but counts a fraction of the day",
                hint="give an absence category (illness, leave or unlawful) for a code that counts",
            )
        meanings[key] = Meaning(meaning.category, fraction)
    return CodeTable(meanings)


_MAX_SHOWN = 10
_CODE_SHAPE = re.compile(r"[^\W\d_]{1,3}|[^\W\d_a-zæøå]{1,6}|\d{1,2}")
_LABEL_SHAPE = re.compile(r"[^\W\d_]+(?: [^\W\d_]+){0,3}")
MAX_LABEL_LENGTH: Final = 30
MAX_LABELS: Final = 20
"""Longer labels are shown only when a file has at most this many distinct unknown values: a
category column holds a handful, a column of names read by mistake many (docs/privacy.md)."""


def looks_like_a_code(value: str) -> bool:
    """Whether a cell value may be named in a message.

    Codes are not pupil data, but a wrong column read as the category could hold names, ids,
    dates or remarks. Only what looks like a code is shown: one to three letters (``S``, ``syg``),
    up to six capital letters (``SYGL``) or a number of one or two digits. Longer words are
    shown by the label rule (:func:`looks_like_a_label`); anything else (``SECRET43``, a CPR
    number, a date, a remark) is counted unshown.

    >>> [looks_like_a_code(v) for v in ("Y", "syg", "SYGL", "12", "Anna", "For sent", "a@b")]
    [True, True, True, True, False, False, False]

    An invisible letter (U+3164, a Hangul filler) makes a value unshown, like a control would.
    """
    return _CODE_SHAPE.fullmatch(value) is not None and not has_hidden_character(value)


ABSENCE_WORDS: Final = (
    "fravær",
    "syge",
    "sygdom",
    "ferie",
    "tilladelse",
    "ulovlig",
    "lovlig",
    "fremmød",
    "tilstede",
    "frihed",
    "kursus",
    "praktik",
    "læge",
    "tandlæge",
    "udflugt",
    "lejrskole",
    "forsinke",
    "pjæk",
    "orlov",
    "absen",
    "present",
    "illness",
    "excused",
    "unexcused",
    "holiday",
    "vacation",
)
"""Beginnings of words about attendance: an unknown label is named only if one of its words
begins so (or is one of :data:`ABSENCE_SHORT_WORDS`), so a person's name is never shown."""
ABSENCE_SHORT_WORDS: Final = ("syg", "fri", "sen", "sent", "mødt", "late", "sick", "leave")
_ABSENCE_KEYS: Final = tuple(code_key(word) for word in ABSENCE_WORDS)
_ABSENCE_SHORT_KEYS: Final = frozenset(code_key(word) for word in ABSENCE_SHORT_WORDS)


def looks_like_a_label(value: str) -> bool:
    """Whether an unknown value is a label that may be named: letters and single spaces only,
    one to four words, at most 30 characters, no digit and no control or invisible character,
    a word about attendance among them (:data:`ABSENCE_WORDS`: ``Fravær pga møde``,
    ``Ferie``), and every other word in lower case: a capital there begins a name
    (``Eva syg``, ``Peter Hansen syg``). Never an id, a CPR number, a date, a name or a remark
    (docs/privacy.md#category-labels).

    >>> [looks_like_a_label(v) for v in ("Ferie", "Fravær pga møde", "F1", "0101001234")]
    [True, True, False, False]
    >>> [looks_like_a_label(v) for v in ("Anna Hansen", "Frida", "a remark about the pupil")]
    [False, False, False]
    >>> [looks_like_a_label(v) for v in ("Eva syg", "Syg Eva", "Peter Hansen syg", "syg eva")]
    [False, False, False, True]
    """
    if len(value) > MAX_LABEL_LENGTH or has_hidden_character(value):
        return False
    if _LABEL_SHAPE.fullmatch(value) is None:
        return False
    about = [
        (key.startswith(_ABSENCE_KEYS) or key in _ABSENCE_SHORT_KEYS, word)
        for word in value.split()
        for key in (code_key(word),)
    ]
    return any(a for a, _ in about) and all(a or word.islower() for a, word in about)


def shown_values(unknown: Mapping[str, int]) -> set[str]:
    """The unknown values of one file that a message or ``inspect`` may name: those that look
    like a code (:func:`looks_like_a_code`), and labels (:func:`looks_like_a_label`) when the
    file has at most :data:`MAX_LABELS` distinct unknown values."""
    labels = len(unknown) <= MAX_LABELS
    return {
        code for code in unknown if looks_like_a_code(code) or (labels and looks_like_a_label(code))
    }


def unknown_codes_problem(unknown: Mapping[str, int]) -> tuple[str, str]:
    """The message and hint for the unknown codes of one file, ``unknown`` by cell text.

    >>> unknown_codes_problem({"Q": 3, "X": 12, "0101001234": 1})
    ('unknown category codes: X (12), Q (3), and 1 value not shown (1 row)', 'map each code to \
present, illness, leave or unlawful under [codes] in source.toml; values that might be ids, \
dates or remarks are not shown')
    """
    showable = shown_values(unknown)
    shown = sorted(
        ((code, n) for code, n in unknown.items() if code in showable),
        key=lambda item: (-item[1], item[0]),
    )
    hidden = [n for code, n in unknown.items() if code not in showable]
    hint = "map each code to present, illness, leave or unlawful under [codes] in source.toml"
    if hidden:
        hint += "; values that might be ids, dates or remarks are not shown"
    if not shown:
        return f"unknown category (expected one of {', '.join(s.CATEGORIES)})", hint
    listed = ", ".join(f"{code or '(blank)'} ({n})" for code, n in shown[:_MAX_SHOWN])
    if len(shown) > _MAX_SHOWN:
        listed += f", {len(shown) - _MAX_SHOWN} more"
    if hidden:
        values = "value" if len(hidden) == 1 else "values"
        rows = "row" if sum(hidden) == 1 else "rows"
        listed += f", and {len(hidden)} {values} not shown ({sum(hidden)} {rows})"
    return f"unknown category codes: {listed}", hint
