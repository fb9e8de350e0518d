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
    MONTH_NAMES,
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
    texts += [(f"month {i}", t) for i, t in enumerate(MONTH_NAMES)]
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
    assert [m("en") for m in MONTH_NAMES][::11] == ["Jan", "Dec"]
    assert len(MONTH_NAMES) == 12
    for lang in LANGS:  # a workbook cannot hold two sheets of one name
        names = [sheet_name(kind, lang) for kind in SHEETS]
        assert len(set(names)) == len(names)


def test_the_views_keep_no_words_of_their_own() -> None:
    """Render, the charts and the meeting sheets take their words from the word table."""
    views = [*sorted((SOURCE / "render").glob("*.py")), SOURCE / "chart.py"]
    views += [SOURCE / "chart_trend.py", SOURCE / "meeting.py"]
    views += sorted((SOURCE / "pages").glob("*.py"))
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


TEMPLATE_WORD = re.compile(r"(?<![\w.])w\.(\w+)(?:\.format\(([^()]*)\))?")


def test_every_word_a_page_template_names_is_in_the_table_with_its_fields() -> None:
    """The site's templates take their words from the same table (``w.KEY``), and a text they
    fill in (``w.KEY.format(name=…)``) is given exactly its fields."""
    templates = sorted((SOURCE / "templates").glob("*.html"))
    found = [(p.name, m[1], m[2]) for p in templates for m in TEMPLATE_WORD.finditer(p.read_text())]
    assert len({key for _, key, _ in found}) > 40
    for name, key, filled in found:
        assert key in WORDS, f"{name}: {key}"
        fields = _fields(WORDS[key].da)
        if filled is None:
            assert not fields, f"{name}: {key} needs {fields}"
        else:
            named = {part.split("=")[0].strip() for part in filled.split(",")}
            assert named == fields, f"{name}: {key}"
    assert TEMPLATE_WORD.findall("{{ w.step_n.format(n=st)|nowrap }} {{ row.w.x }}") == [
        ("step_n", "n=st")
    ]


# -- the words people open ------------------------------------------------------------------------

SRC = Path(__file__).resolve().parents[1] / "src" / "fravaer"


def _page_keys() -> set[str]:
    """Every word a page or a meeting sheet shows: ``w.key`` in the templates and
    ``word("key", ...)`` in the modules that render them (fravaer.pages)."""
    keys: set[str] = set()
    for template in (SRC / "templates").iterdir():
        keys |= set(re.findall(r"\bw\.([a-z_0-9]+)", template.read_text(encoding="utf-8")))
    for module in (SRC / "pages").glob("*.py"):
        keys |= set(re.findall(r'\bword\(\s*"([a-z_0-9]+)"', module.read_text(encoding="utf-8")))
    return keys & WORDS.keys()


def test_pages_and_sheets_name_no_command() -> None:
    """A school leader or social worker does not know ``fravaer trend``: a page says what the
    figure is (docs/site.md), and only terminal output and the analysts' docs name commands."""
    from tests.registered import COMMANDS

    commands = "|".join(sorted({re.escape(name.split()[0]) for name in COMMANDS}, key=len)[::-1])
    named = re.compile(rf"\bfravaer ({commands})\b")
    keys = _page_keys()
    assert {"trend_note", "meeting_trend_note", "weekday_note", "agenda_note"} <= keys
    found = [
        (key, lang, WORDS[key].of(lang))
        for key in sorted(keys)
        for lang in ("da", "en")
        if named.search(WORDS[key].of(lang))
    ]
    assert found == []
