"""Canonical column names, dtypes and categories (docs/data-format.md).

Every module after ingest sees only the canonical attendance frame: one row per pupil per school
day per category. Column names live here and nowhere else.

Absence is counted in integer *day units* rather than floats, so that thresholds compare exactly:
a float sum of one hundred 0.1-day absences is 9.99999999999998, not 10, and would miss step 1.
``DAY_UNITS`` = 18,018,000 = lcm(1..16) x 25 is divisible by every lesson count from 1 to 16 and
by 1,000, so a fraction of k lessons out of up to 16, or any fraction written with up to three
decimals, becomes an exact whole number of units.
"""

from __future__ import annotations

import unicodedata
from typing import Final

import polars as pl

# -- canonical frame ------------------------------------------------------------------------------
PUPIL_ID: Final = "pupil_id"
SCHOOL_ID: Final = "school_id"
DATE: Final = "date"
CATEGORY: Final = "category"
ABSENT_FRACTION: Final = "absent_fraction"
GRADE: Final = "grade"
CLASS_NAME: Final = "class_name"
SCHOOL_NAME: Final = "school_name"
"""The school's name beside its id, in xlsx for people when the names are given (not in the
canonical frame: ingest reads the names apart, ``ingest.schools``)."""

PRESENT: Final = "present"
ILLNESS: Final = "illness"
LEAVE: Final = "leave"
UNLAWFUL: Final = "unlawful"
CATEGORIES: Final = (PRESENT, ILLNESS, LEAVE, UNLAWFUL)
ABSENCE_CATEGORIES: Final = (ILLNESS, LEAVE, UNLAWFUL)

CATEGORY_DTYPE: Final = pl.Enum(CATEGORIES)

REQUIRED_COLUMNS: Final = (PUPIL_ID, SCHOOL_ID, DATE, CATEGORY)
OPTIONAL_COLUMNS: Final = (ABSENT_FRACTION, GRADE, CLASS_NAME)

CANONICAL_SCHEMA: Final = pl.Schema(
    {
        PUPIL_ID: pl.String(),
        SCHOOL_ID: pl.String(),
        DATE: pl.Date(),
        CATEGORY: CATEGORY_DTYPE,
        ABSENT_FRACTION: pl.Float64(),
        GRADE: pl.Int8(),
        CLASS_NAME: pl.String(),
    }
)

GRADE_MIN: Final = 0
GRADE_MAX: Final = 10

DAY_UNITS: Final = 18_018_000
"""Integer units per school day; see the module docstring."""

# -- per pupil-day frame (window.pupil_days) ------------------------------------------------------
ILLNESS_UNITS: Final = "illness_units"
LEAVE_UNITS: Final = "leave_units"
UNLAWFUL_UNITS: Final = "unlawful_units"
CATEGORY_UNITS: Final = {ILLNESS: ILLNESS_UNITS, LEAVE: LEAVE_UNITS, UNLAWFUL: UNLAWFUL_UNITS}

# -- classification output (the contract of `fravaer classify`) ---------------------------------
AS_OF: Final = "as_of"
WINDOW_START: Final = "window_start"
WINDOW_END: Final = "window_end"
WINDOW_DAYS: Final = "window_days"
ABSENT_DAYS: Final = "absent_days"
ILLNESS_DAYS: Final = "illness_days"
LEAVE_DAYS: Final = "leave_days"
UNLAWFUL_DAYS: Final = "unlawful_days"
ABSENCE_PCT: Final = "absence_pct"
STEP: Final = "step"
STATUS: Final = "status"
QUARTER_UNLAWFUL_PCT: Final = "quarter_unlawful_pct"
QUARTER_FLAG: Final = "quarter_flag"

STATUS_OK: Final = "ok"
STATUS_INSUFFICIENT: Final = "insufficient_data"

FLAG_NONE: Final = "none"
FLAG_WARN: Final = "warn_parents"
FLAG_NOTIFY: Final = "notify_municipality"
QUARTER_FLAGS: Final = (FLAG_NONE, FLAG_WARN, FLAG_NOTIFY)

CLASSIFY_COLUMNS: Final = (
    PUPIL_ID,
    SCHOOL_ID,
    CLASS_NAME,
    GRADE,
    AS_OF,
    WINDOW_START,
    WINDOW_END,
    WINDOW_DAYS,
    ABSENT_DAYS,
    ILLNESS_DAYS,
    LEAVE_DAYS,
    UNLAWFUL_DAYS,
    ABSENCE_PCT,
    STEP,
    STATUS,
    QUARTER_UNLAWFUL_PCT,
    QUARTER_FLAG,
)

# -- data-quality findings (the contract of `fravaer check`) -------------------------------------
FINDING: Final = "finding"
SEVERITY: Final = "severity"
COUNT: Final = "count"
FIRST_LINES: Final = "first_lines"
SCHOOLS: Final = "schools"

SEVERITY_ERROR: Final = "error"
SEVERITY_WARNING: Final = "warning"

CHECK_COLUMNS: Final = (FINDING, SEVERITY, COUNT, FIRST_LINES, SCHOOLS)


# -- text from the data where people read it ------------------------------------------------------
HIDDEN_CATEGORIES: Final = frozenset({"Cc", "Cf", "Zl", "Zp"})
"""Unicode categories of control and invisible characters: C0 and C1 controls, DEL and ESC (Cc);
zero-width spaces and joiners, bidi marks, embeddings, overrides and isolates (Cf); line and
paragraph separators (Zl, Zp)."""
INVISIBLE_LETTERS: Final = "\u034f\u115f\u1160\u3164\uffa0"
"""Invisible characters outside those categories: a combining grapheme joiner, Hangul fillers."""
FORMULA_STARTS: Final = "=+-@＝＋－＠"
"""First characters that make a spreadsheet read a cell as a formula (after stripped spaces)."""

FORMULA_PROBLEM: Final = "text begins with =, +, - or @, which a spreadsheet would run as a formula"
HIDDEN_PROBLEM: Final = "text holds a control or invisible character"


def has_hidden_character(value: str) -> bool:
    """Whether ``value`` holds a control or invisible character (:data:`HIDDEN_CATEGORIES`,
    :data:`INVISIBLE_LETTERS`).

    >>> has_hidden_character("7.B"), has_hidden_character("0000123\\u200b")
    (False, True)
    """
    if _plainly_visible(value):
        return False
    return any(
        unicodedata.category(c) in HIDDEN_CATEGORIES or c in INVISIBLE_LETTERS for c in value
    )


def _plainly_visible(value: str) -> bool:
    """A quick yes for most text (Danish letters included): ``str.isprintable`` is false for
    every character of the Other and Separator categories but the space, which covers
    :data:`HIDDEN_CATEGORIES`; the invisible letters are printable, so they are looked for."""
    return value.isprintable() and not any(c in value for c in INVISIBLE_LETTERS)


def hostile_text_problem(value: str) -> str | None:
    """Why ``value`` may not reach an output, or ``None``: it begins (after the surrounding
    white space) like a spreadsheet formula, or it holds a control or invisible character.

    The one rule for text that reaches CSV, xlsx, Markdown, HTML or the terminal: ingest applies
    it to ids, school ids and class names, the policy model to every text a policy carries
    (docs/privacy.md#what-is-refused-on-reading).

    >>> hostile_text_problem("Klasseteamet") is None, hostile_text_problem("@SUM(1+1)")
    (True, 'text begins with =, +, - or @, which a spreadsheet would run as a formula')
    """
    if has_hidden_character(value):
        return HIDDEN_PROBLEM
    stripped = value.strip()
    if stripped[:1] != "" and stripped[0] in FORMULA_STARTS:
        return FORMULA_PROBLEM
    return None


def shown_text(value: str, *, hidden: str = "\ufffd") -> str:
    r"""``value`` with each control or invisible character replaced by ``hidden``.

    Ingest refuses such text, but frames also come from the library API and from state and
    config files: every writer for people (terminal, Markdown, HTML, charts) passes data text
    through this, so an escape sequence, a forged line break or a bidi override never acts where
    the output is read (docs/privacy.md#what-is-neutralised-in-outputs-and-how).

    >>> shown_text("7.B"), shown_text("a\r\nb", hidden=" ")
    ('7.B', 'a  b')
    >>> shown_text("5.A\x1b]8;;http://x\x07") == "5.A\ufffd]8;;http://x\ufffd"
    True
    """
    if _plainly_visible(value):  # most text, and every page of the site: one quick look
        return value
    return "".join(hidden if has_hidden_character(c) else c for c in value)
