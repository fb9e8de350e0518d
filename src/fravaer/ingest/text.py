"""Text from the data that could act where an output is opened: refused on reading.

Ids, school ids and class names reach every output: CSV and xlsx files that staff open in Excel,
Markdown and HTML sheets, the terminal. A cell that begins like a spreadsheet formula
(``=HYPERLINK(...)``, ``+cmd|' /C calc'!A0``, ``@SUM(...)``, ``-2+3``) or that holds a control or
invisible character (an escape sequence, a line break that forges a line, a zero-width space that
makes ``0000123`` two pupils, a bidi override that shows ``123`` as ``321``) is refused when the
export is read (exit 65; the message names file, line and column, never the value). Real ids and
class names never look like that, so every output keeps every value exactly as read.

The rules (docs/privacy.md#what-is-refused-on-reading):

- **formula start**: the value, after the surrounding spaces that ingest strips, begins with
  ``=``, ``+``, ``-``, ``@`` or their full-width forms ``＝ ＋ － ＠``. Only the first character
  counts: a CPR number ``010203-1234`` holds a ``-`` and is fine.
- **control or invisible character** anywhere in the value: Unicode categories Cc
  (C0 and C1 controls, DEL), Cf (format: soft hyphen, zero-width space and joiners, word joiner,
  byte-order mark, left-to-right and right-to-left marks, bidi embeddings, overrides and
  isolates, tag characters), Zl and Zp (line and paragraph separators), and the invisible
  letters U+034F (combining grapheme joiner), U+115F, U+1160, U+3164 and U+FFA0 (Hangul fillers).

- **look-alike**: the value is not in Unicode's composed form NFC (a letter written as a base
  letter and a combining mark, ``A`` + U+030A for ``Å``), or holds a full-width form of an ASCII
  character (U+FF01–U+FF5E, ``０００５``): it prints exactly like another id, so one pupil would
  look like two, or two like one.

All three are checked on the value every output gets: the cell with its surrounding white space
stripped, as ingest has always done. So ``"  =1+1"`` is refused as ``=1+1``, and a tab, carriage
return or line break *around* ``0000123`` is stripped like a space (it never reaches an output),
while one *inside* a value, or first after the spaces, is refused.

Each rule is an elementwise expression, so a CSV column is checked once per distinct text
(:mod:`fravaer.ingest.dictionary`); :func:`is_hostile` is the same rule for one Python string.
The characters and the rule for one string live in :mod:`fravaer.schema`
(:func:`~fravaer.schema.hostile_text_problem`), where the policy model applies them to every
text a policy carries into an output.
"""

from __future__ import annotations

import re
from typing import Final

import polars as pl

from fravaer.schema import (
    FORMULA_PROBLEM,
    FORMULA_STARTS,
    HIDDEN_CATEGORIES,
    HIDDEN_PROBLEM,
    INVISIBLE_LETTERS,
    has_hidden_character,
    hostile_text_problem,
)

LOOKALIKE_PROBLEM: Final = (
    "text holds a combining or full-width character, so it would look like other text"
)

_FORMULA_PATTERN: Final = r"^\s*[" + "".join(f"\\x{{{ord(c):04X}}}" for c in FORMULA_STARTS) + "]"
_HIDDEN_PATTERN: Final = (
    "["
    + "".join(f"\\p{{{category}}}" for category in sorted(HIDDEN_CATEGORIES))
    + "".join(f"\\x{{{ord(c):04X}}}" for c in INVISIBLE_LETTERS)
    + "]"
)


def formula_start_expr(text: pl.Expr) -> pl.Expr:
    """Whether each value starts a formula (leading white space, which ``str.strip_chars``
    removes, is looked through: ``"  =1+1"`` is caught as ``"=1+1"``)."""
    return text.str.contains(_FORMULA_PATTERN).fill_null(value=False)


def hidden_character_expr(text: pl.Expr) -> pl.Expr:
    """Whether each value holds a control or invisible character."""
    return text.str.contains(_HIDDEN_PATTERN).fill_null(value=False)


_FULL_WIDTH_PATTERN: Final = r"[\x{FF01}-\x{FF5E}]"


def lookalike_expr(text: pl.Expr) -> pl.Expr:
    """Whether each value would print like other text: not in NFC, or with full-width forms.

    >>> ids = pl.Series(["A\u030a0005", "\u00c50005", "\uff10005", "7.B"])
    >>> ids.to_frame("id").select(lookalike_expr(pl.col("id"))).to_series().to_list()
    [True, False, True, False]
    """
    different = text != text.str.normalize("NFC")
    return (different | text.str.contains(_FULL_WIDTH_PATTERN)).fill_null(value=False)


_SPACED_CPR: Final = r"^(\d{6})(?:[ \x{00A0}]+|[ \x{00A0}]*-[ \x{00A0}]*)(\d{4})$"


def pupil_id_expr(stripped: pl.Expr) -> pl.Expr:
    """A pupil id as every later step sees it: a CPR number written with a space (or spaces
    around its hyphen) in the hyphen form ``DDMMYY-SSSS``; any other id as written.

    ``010203 1234`` and ``010203-1234`` are then one pupil, get one pseudonym and are checked
    as a CPR number alike (docs/privacy.md#cpr-numbers-written-with-a-space). ``0102031234``
    stays as written, as before: it was never changed, and pseudonyms already treat it as
    ``010203-1234``.

    >>> ids = pl.Series(["010203 1234", "010203 - 1234", "0102031234", "A 1234"])
    >>> ids.to_frame("id").select(pupil_id_expr(pl.col("id"))).to_series().to_list()
    ['010203-1234', '010203-1234', '0102031234', 'A 1234']
    """
    return stripped.str.replace(_SPACED_CPR, "${1}-${2}")


_SHOWN_NAME: Final = re.compile(r"[^\W\d_]+(?:[ .\-_][^\W\d_]+)*(?:\d{1,2}| \d{1,4})?")
SHOWN_NAME_MAX: Final = 31


def shown_name(name: str) -> bool:
    """Whether a name from the file (a sheet's, a dropped column's header) may be shown in a
    message or by ``fravaer inspect``.

    A sheet or a column may be named after a pupil (a CPR number, a pupil number, a
    UNI-Login), and a name reaches stderr and cron mail. Only a name of words may be shown:
    letters, words joined by a space, point, hyphen or underscore, and at most a number of one
    or two digits (``Ark1``) or of up to four after a space (``Fravær 2024``). Anything else is
    withheld: digits first, more digits, other signs, control or invisible characters, more
    than 31 characters (Excel's limit for a sheet). A first name alone cannot be told from a
    word; it is shown (docs/privacy.md#sheet-and-column-names).

    >>> [shown_name(n) for n in ("Ark1", "Fravær 2024", "010203-1234", "anna1234", "7.B")]
    [True, True, False, False, False]
    """
    return (
        len(name) <= SHOWN_NAME_MAX
        and _SHOWN_NAME.fullmatch(name) is not None
        and not is_hostile(name)
    )


def is_hostile(value: str) -> bool:
    """Whether one string breaks either rule (:func:`fravaer.schema.hostile_text_problem`).

    >>> [is_hostile(v) for v in ("010203-1234", "  =1+1", "@SUM(A1)", "5.A", "a\\tb")]
    [False, True, True, False, True]
    """
    return hostile_text_problem(value) is not None


__all__ = [
    "FORMULA_PROBLEM",
    "FORMULA_STARTS",
    "HIDDEN_PROBLEM",
    "LOOKALIKE_PROBLEM",
    "formula_start_expr",
    "has_hidden_character",
    "hidden_character_expr",
    "is_hostile",
    "lookalike_expr",
    "pupil_id_expr",
    "shown_name",
]
