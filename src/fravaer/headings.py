"""Column headings for people: what an xlsx sheet calls a column, and the school's name beside it.

csv, json and Parquet are for programs and keep the stable snake_case names (docs/classify.md);
an xlsx workbook is opened by people, so its headings are in their language (``--lang``) and,
when the municipality gives its schools' names, a column with the name stands beside the
institution number. ``--headers snake`` keeps the machine names in xlsx too, for anyone who
reads the workbook by program (docs/decisions.md, "Headings in xlsx follow the language").

Every heading is a word of :data:`fravaer.words.WORDS`: the column's own entry (keyed by its
name), the entry a view already had for it (:data:`SAME_WORD`, which wins where a view's key
happens to be a column's name), or a pattern for the columns a policy adds (``rule_<name>``,
``pupils_step_<n>``).

>>> heading("absence_pct", "da"), heading("pupils_step_2", "en"), heading("rule_pct", "da")
('Fravær %', 'Pupils at step 2', 'Regel: pct')
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Final, Literal

import polars as pl

from fravaer import schema as s
from fravaer import stats as st
from fravaer import trend as t
from fravaer.classify import RULE_PREFIX
from fravaer.policy import Lang
from fravaer.words import DAY_NAMES, WORDS, word

Headers = Literal["lang", "snake"]
"""xlsx headings: ``lang`` (people's words in the run's language) or ``snake`` (machine names)."""

SAME_WORD: Final[dict[str, str]] = {
    t.ABSENT_DAYS_WEEK: "days_week",
    t.WEEK_END: "meeting_week_end",
    t.PARTIAL_DAYS: "partial",
    t.LONGEST_RUN: "run",
    t.FLAGS: "found",
    t.PCT_BEFORE: "before",
    t.RECENT_PCT: "recent",
    t.PROJECTED_DATE: "crossing",
    st.LATEST_DATE: "latest",
    st.DAYS_BEHIND: "behind",
    "at_least": "threshold",
    "holds": "verdict",
}
"""Columns whose word a view already had under its own key: the heading is that word."""

_STEP_COLUMN: Final = re.compile(r"pupils_step_(\d+)")


def heading(column: str, lang: Lang) -> str:
    """The heading of ``column`` in ``lang``; a column without a word keeps its name."""
    if column in SAME_WORD:  # before the table: explain's `holds` is not the word "opfyldt"
        return word(SAME_WORD[column], lang)
    if column in WORDS:
        return word(column, lang)
    if column in t.WEEKDAY_PCT.values():
        day = DAY_NAMES[t.WEEKDAYS.index(column.removesuffix("_pct"))](lang)
        return word("weekday_pct", lang, day=day)
    if column.startswith(RULE_PREFIX):
        return word("rule_column", lang, name=column.removeprefix(RULE_PREFIX))
    found = _STEP_COLUMN.fullmatch(column)
    if found:
        return word("pupils_step_column", lang, n=found[1])
    return column


def headings(columns: Iterable[str], lang: Lang, headers: Headers = "lang") -> dict[str, str]:
    """Column name -> heading for ``columns``; with ``headers="snake"`` each keeps its name.

    >>> headings(["pupil_id", "step"], "en"), headings(["pupil_id"], "da", "snake")
    ({'pupil_id': 'Pupil', 'step': 'Step'}, {'pupil_id': 'pupil_id'})
    """
    return {c: heading(c, lang) if headers == "lang" else c for c in columns}


def with_school_names(frame: pl.LazyFrame, names: Mapping[str, str]) -> pl.LazyFrame:
    """``frame`` with a ``school_name`` column right after ``school_id`` (empty where the
    names file does not name the school); unchanged without names or a school column.

    >>> frame = pl.LazyFrame({"pupil_id": ["7"], "school_id": ["851001"], "step": [2]})
    >>> with_school_names(frame, {"851001": "Vestre Skole"}).collect().columns
    ['pupil_id', 'school_id', 'school_name', 'step']
    """
    columns = frame.collect_schema().names()
    if not names or s.SCHOOL_ID not in columns or s.SCHOOL_NAME in columns:
        return frame
    name = (
        pl.col(s.SCHOOL_ID)
        .replace_strict(dict(names), default=None, return_dtype=pl.String)
        .alias(s.SCHOOL_NAME)
    )
    at = columns.index(s.SCHOOL_ID) + 1
    return frame.select(*columns[:at], name, *columns[at:])


def for_people(
    frame: pl.LazyFrame,
    *,
    lang: Lang,
    headers: Headers = "lang",
    names: Mapping[str, str] | None = None,
) -> pl.LazyFrame:
    """``frame`` as an xlsx sheet shows it: the school's name beside its id, and every column
    under its heading (:func:`headings`). The values, and their types, are untouched.

    >>> frame = pl.LazyFrame({"school_id": ["851001"], "absence_pct": [12.5]})
    >>> for_people(frame, lang="da", names={"851001": "Vestre Skole"}).collect().rows()
    [('851001', 'Vestre Skole', 12.5)]
    >>> for_people(frame, lang="da").collect_schema().names()
    ['Skole', 'Fravær %']
    """
    named = with_school_names(frame, names or {})
    return named.rename(headings(named.collect_schema().names(), lang, headers))
