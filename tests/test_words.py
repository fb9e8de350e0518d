"""The word table and the number formatter: one place for every word and every decimal comma.

The formatter is checked against a reference built another way: the float's exact binary value
rounded half to even with ``decimal`` (as Python's own formatting rounds), and the string put
together digit by digit.
"""

from __future__ import annotations

import re
import string
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from fravaer import schema as s
from fravaer.policy import Lang
from fravaer.words import (
    DAY_NAMES,
    LIMIT_WORDS,
    NUMBER_WORDS,
    SHEETS,
    WORDS,
    Text,
    number_text,
    pct_text,
    sheet_name,
)

SOURCE = Path(__file__).resolve().parents[1] / "src" / "fravaer"
LANGS: tuple[Lang, ...] = ("da", "en")


def reference_float(value: float | None, lang: Lang, decimals: int) -> str:
    if value is None:
        return "–"
    rounded = Decimal(value).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_EVEN)
    sign = "-" if rounded.is_signed() else ""
    whole, _, fraction = str(abs(rounded)).partition(".")
    separator = "," if lang == "da" else "."
    return sign + whole + (separator + fraction if fraction else "")


def reference_decimal(value: Decimal, lang: Lang) -> str:
    sign, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)
    text = "".join(str(d) for d in digits)
    if exponent < 0:
        text = text.rjust(-exponent + 1, "0")
        whole, fraction = text[:exponent], text[exponent:].rstrip("0")
    else:
        whole, fraction = text + "0" * exponent, ""
    whole = whole.lstrip("0") or "0"
    separator = "," if lang == "da" else "."
    return ("-" if sign else "") + whole + (separator + fraction if fraction else "")


# Exact halves at every number of decimals (2.5, 0.25, -0.125 …) and ordinary floats.
halves = st.builds(
    lambda n, k: n / 2**k, st.integers(-(10**7), 10**7), st.integers(min_value=0, max_value=4)
)
floats = st.floats(min_value=-1e9, max_value=1e9, allow_nan=False, allow_infinity=False)


@given(
    st.one_of(st.none(), halves, floats),
    st.sampled_from(LANGS),
    st.integers(min_value=0, max_value=3),
)
def test_number_text_equals_the_reference(value: float | None, lang: Lang, decimals: int) -> None:
    assert number_text(value, lang, decimals=decimals) == reference_float(value, lang, decimals)


@given(
    st.decimals(allow_nan=False, allow_infinity=False, places=3, min_value=-1000, max_value=1000)
)
def test_number_text_writes_a_decimal_as_written(value: Decimal) -> None:
    for lang in LANGS:
        assert number_text(value, lang, decimals=None) == reference_decimal(value, lang)


def test_number_text_rounds_as_python_does_at_the_halves() -> None:
    assert [number_text(v, "da", decimals=0) for v in (0.5, 1.5, 2.5, -2.5)] == [
        "0",
        "2",
        "2",
        "-2",
    ]
    assert number_text(0.35, "en") == "0.3"  # 0.35 is stored just below
    assert number_text(-0.04, "da") == "-0,0"
    assert pct_text(None, "da") == "–"
    assert pct_text(9.96, "da") == "10,0 %"


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_word_is_written_once() -> None:
    seen: dict[Text, str] = {}
    for key, text in WORDS.items():
        assert text not in seen, f"{key!r} repeats {seen[text]!r}: use one key"
        seen[text] = key


def test_both_languages_have_the_same_fields_and_a_text() -> None:
    texts = [*WORDS.items(), *SHEETS.items()]
    texts += [(f"limit {i}", t) for i, t in enumerate(LIMIT_WORDS)]
    texts += [(f"number {i}", t) for i, t in enumerate(NUMBER_WORDS)]
    for key, text in texts:
        assert _fields(text.da) == _fields(text.en), key
        assert (text.da and text.en) or key == s.FLAG_NONE, key


def test_the_lists_are_whole() -> None:
    assert [d("en") for d in DAY_NAMES] == [
        "Monday",
        "Tuesday",
        "Wednesday",
        "Thursday",
        "Friday",
        "Saturday",
        "Sunday",
    ]
    assert [n("da") for n in NUMBER_WORDS][3] == "tre"
    for lang in LANGS:  # a workbook cannot hold two sheets of one name
        names = [sheet_name(kind, lang) for kind in SHEETS]
        assert len(set(names)) == len(names)


def test_the_views_keep_no_words_of_their_own() -> None:
    """Render, the charts and the meeting sheets take their words from the word table."""
    views = [*sorted((SOURCE / "render").glob("*.py")), SOURCE / "chart.py"]
    views += [SOURCE / "chart_trend.py", SOURCE / "meeting.py", SOURCE / "pages" / "meeting.py"]
    own = re.compile(r"""["'](da|en)["']\s*:|lang == ["']da["']|\.replace\(["']\.["']""")
    found = [
        f"{path.name}:{number}"
        for path in views
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if own.search(line)
    ]
    assert found == []


def test_every_key_a_view_names_is_in_the_table() -> None:
    """A typo in a key would fail only when that rarely drawn line is drawn; here it fails now."""
    named = re.compile(r"""\bword\(\s*["'](\w+)["']""")
    sheets = re.compile(r"""\bsheet_name\(\s*["'](\w+)["']""")
    missing = []
    for path in sorted(SOURCE.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        missing += [f"{path.name}: {k}" for k in named.findall(text) if k not in WORDS]
        missing += [f"{path.name}: sheet {k}" for k in sheets.findall(text) if k not in SHEETS]
    assert missing == []
    assert named.findall("word(\n    'absence_pct', lang)") == ["absence_pct"]
