"""Danish and vendor column headers -> canonical column names (docs/ingest.md#headers).

School administration systems name their columns in Danish, each in its own way: ``Elev``,
``Elevnummer``, ``CPR-nr.``, ``Fraværsdato``, ``Årgang``. A header is matched against the alias
table after :func:`header_key` has folded away case, surrounding and inner spaces, hyphens,
underscores and dots, and the spelling of æ, ø and å (``ae``, ``oe``, ``aa``), so ``Elev-ID``,
``elev_id`` and ``ElevID`` are one alias, and ``Årgang`` is ``Aargang``.

An explicit mapping (``[columns]`` in ``source.toml``: canonical name -> header text) overrides
the table. Headers that match nothing are dropped at ingest: they may hold names or free-text
remarks, and their values never reach any output or message. Two headers that mean one column
are refused, naming both, rather than one of them being picked.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from fravaer import schema as s
from fravaer.errors import BadInputError, Location, PolicyError
from fravaer.ingest.hourcolumns import HOURS_ALIASES, SCHEDULED_HOURS
from fravaer.ingest.text import has_hidden_character, shown_name
from fravaer.lessons import START_TIME, SUBJECT

LESSON: Final = "lesson"
"""Not a canonical column: the lesson of a lesson-level export, aggregated away by its shape."""

MAPPABLE: Final = (
    *s.CANONICAL_SCHEMA,
    s.SCHOOL_NAME,
    LESSON,
    SUBJECT,
    START_TIME,
    *HOURS_ALIASES,
)
"""The columns a header can be mapped to: the canonical ones, the school's name (read apart:
``ingest.load``, docs/site.md#school-names), ``lesson``, its ``subject`` and
``start_time`` (read with the lesson, of a lesson-level export only:
docs/shapes.md#lesson-level-exports), and the hours of an hours extract
(:mod:`fravaer.ingest.hourcolumns`)."""

ALIASES: Final[Mapping[str, tuple[str, ...]]] = {
    s.PUPIL_ID: (
        "pupil_id",
        "pupil",
        "elev",
        "elevnummer",
        "elevnr",
        "elev-id",
        "cpr",
        "cpr-nummer",
        "cpr-nr",
        "personnummer",
        "unilogin",
    ),
    s.SCHOOL_ID: (
        "school_id",
        "school",
        "skole",
        "skolenummer",
        "skolenr",
        "skole-id",
        "institutionsnummer",
        "institutionsnr",
        "institution",
        "afdeling",
    ),
    s.DATE: ("date", "dato", "fraværsdato", "dag"),
    s.CATEGORY: (
        "category",
        "fraværstype",
        "fraværskode",
        "fraværsårsag",
        "fraværsart",
        "kode",
        "type",
        "kategori",
        "status",
    ),
    s.ABSENT_FRACTION: ("absent_fraction", "fraværsandel", "andel", "fraction"),
    s.GRADE: ("grade", "klassetrin", "årgang", "trin"),
    s.CLASS_NAME: ("class_name", "class", "klasse", "hold"),
    # Never "navn" alone: it is as likely the pupil's name, which must not reach a page.
    s.SCHOOL_NAME: ("school_name", "skolenavn", "institutionsnavn"),
    LESSON: ("lesson", "lektion", "modul", "time"),
    SUBJECT: ("subject", "fag", "fagnavn"),
    START_TIME: ("start_time", "starttid", "starttidspunkt", "lektionsstart", "modulstart"),
    **HOURS_ALIASES,
}
"""Canonical column -> the headers that mean it, as written in exports (before folding)."""

_FOLD = str.maketrans({"æ": "ae", "ø": "oe", "å": "aa", "ä": "ae", "ö": "oe"})
_IGNORED = re.compile(r"[\s_.\-]+")


def header_key(name: str) -> str:
    """The form of a header that aliases are compared in.

    >>> header_key(" Fraværs-Dato "), header_key("fravaers_dato"), header_key("ÅRGANG")
    ('fravaersdato', 'fravaersdato', 'aargang')
    """
    folded = unicodedata.normalize("NFC", name).casefold().translate(_FOLD)
    return _IGNORED.sub("", folded)


_BY_KEY: Final = {header_key(alias): column for column, names in ALIASES.items() for alias in names}


HEADER_SEARCH_ROWS: Final = 20
"""A header is looked for on the first this many rows of a sheet or lines of a CSV file: a
title, a date of extraction or blank lines may stand above it (docs/ingest.md#the-header-row)."""

HEADER_ROW_HINT: Final = "set header_row in source.toml (or --header-row) to the row of the header"


def covers_required(cells: Sequence[str], *, columns: Mapping[str, str]) -> bool:
    """Whether a row's cells name every required column, through ``columns`` (``[columns]``)
    or the aliases: whether the row can be the header.

    Nothing is refused here (two headers for one column are refused when the row is mapped):
    this only finds the row.

    >>> covers_required(["Fraværsrapport 2023/24"], columns={})
    False
    >>> covers_required(["Elev", "Skole", "Dato", "Kode", "Navn"], columns={})
    True
    >>> covers_required(["Nr", "Skole", "Dato", "Kode"], columns={"pupil_id": "nr"})
    True

    An export in hours names its scheduled hours where others name a category:

    >>> covers_required(["CPR_nr", "Navn", "Skole", "Dato", "Timer", "Fravær"], columns={})
    True
    """
    keys = {header_key(cell.strip()) for cell in cells}
    found = {column for column, wanted in columns.items() if header_key(wanted) in keys}
    found.update(
        alias for key in keys if (alias := _BY_KEY.get(key)) is not None and alias not in columns
    )
    keyed = all(column in found for column in s.REQUIRED_COLUMNS if column != s.CATEGORY)
    return keyed and (s.CATEGORY in found or SCHEDULED_HOURS in found)


def find_header_row(rows: Sequence[Sequence[str]], *, columns: Mapping[str, str]) -> int | None:
    """The 0-based index of the first of ``rows`` (the first :data:`HEADER_SEARCH_ROWS`) that
    :func:`covers_required`, or None when none does.

    >>> find_header_row([["Fraværsrapport"], [], ["Elev", "Skole", "Dato", "Kode"]], columns={})
    2
    """
    for index, cells in enumerate(rows[:HEADER_SEARCH_ROWS]):
        if covers_required(cells, columns=columns):
            return index
    return None


@dataclass(frozen=True)
class HeaderMap:
    """Which header position holds which column; everything else is dropped."""

    header: tuple[str, ...]
    """The header as written (stripped), in file order."""
    positions: Mapping[str, int]
    """Mapped column -> 0-based position in ``header``, in file order."""

    @property
    def original(self) -> dict[str, str]:
        """Mapped column -> its header as written in the file."""
        return {column: self.header[i] for column, i in self.positions.items()}

    @property
    def dropped(self) -> tuple[str, ...]:
        """The columns that are not read (their values are never looked at), as they may be
        shown (:func:`column_label`): the header, or ``column N``."""
        used = set(self.positions.values())
        return tuple(
            column_label(name, i + 1) for i, name in enumerate(self.header) if i not in used
        )


def column_label(name: str, position: int) -> str:
    """A column as ``inspect`` shows it: its header, or ``column N`` (1-based) when the header
    could be an id (:func:`fravaer.ingest.text.shown_name`), as a sheet's name is withheld.

    >>> column_label("Bemærkning", 5), column_label("010203-1234", 8)
    ('Bemærkning', 'column 8')
    """
    return name if shown_name(name) else f"column {position}"


def refuse_hidden_names(names: Sequence[str], *, file: str, line: int | None) -> None:
    """Refuse (exit 65) a column name holding a control or invisible character: names are
    shown in messages and by ``fravaer inspect``, so an escape sequence in one would reach
    the terminal (docs/privacy.md#what-is-refused-on-reading). The name is not shown."""
    for number, name in enumerate(names, start=1):
        if has_hidden_character(name):
            raise BadInputError(
                Location(file, line),
                f"the name of column {number} holds a control or invisible character",
            )


def map_headers(
    header: Sequence[str], *, columns: Mapping[str, str], file: str, line: int | None
) -> HeaderMap:
    """Map a file's header to canonical columns; ``columns`` is the explicit mapping.

    Refuses (exit 65) two headers for one column, naming both, and an explicitly named header
    that the file does not have; refuses (exit 78) an explicit mapping to an unknown column.
    Missing required columns are left to the caller, which knows what the shape needs.

    >>> m = map_headers(["Elev", "Skole", "Dato", "Kode", "Bemærkning"], columns={},
    ...                 file="x.csv", line=1)
    >>> m.original
    {'pupil_id': 'Elev', 'school_id': 'Skole', 'date': 'Dato', 'category': 'Kode'}
    >>> m.dropped
    ('Bemærkning',)
    """
    names = tuple(name.strip() for name in header)
    refuse_hidden_names(names, file=file, line=line)
    keys = [header_key(name) for name in names]
    positions: dict[str, int] = {}
    explicit: set[int] = set()
    for column, wanted in columns.items():
        if column not in MAPPABLE:
            raise PolicyError(
                f"[columns]: unknown column '{column}'",
                hint=f"map headers to one of {', '.join(MAPPABLE)}",
            )
        found = [i for i, key in enumerate(keys) if key == header_key(wanted)]
        if not found:
            raise BadInputError(
                Location(file, line),
                f"no column '{wanted.strip()}' in the header (named for {column} in [columns])",
                hint="correct [columns] in source.toml to a header of this file",
            )
        _refuse_two(names, found, column, file, line)
        if found[0] in explicit:
            other = next(c for c, i in positions.items() if i == found[0])
            raise PolicyError(
                f"[columns]: '{wanted.strip()}' is named for both {other} and {column}",
                hint="name each column once under [columns] in source.toml",
            )
        positions[column] = found[0]
        explicit.add(found[0])
    by_alias: dict[str, list[int]] = {}
    for i, key in enumerate(keys):
        alias = _BY_KEY.get(key)
        if alias is None or alias in columns or i in explicit:
            continue
        by_alias.setdefault(alias, []).append(i)
    for column, found in by_alias.items():
        _refuse_two(names, found, column, file, line)
        positions[column] = found[0]
    ordered = dict(sorted(positions.items(), key=lambda item: item[1]))
    return HeaderMap(names, ordered)


def _refuse_two(
    names: Sequence[str], found: list[int], column: str, file: str, line: int | None
) -> None:
    if len(found) < 2:
        return
    first, second = found[:2]
    if names[first] == names[second]:
        raise BadInputError(
            Location(file, line, first + 1, names[first]),
            "the header repeats this column name",
            hint="remove or rename one of the columns: fravaer cannot tell which one to read",
        )
    raise BadInputError(
        Location(file, line),
        f"columns '{names[first]}' ({first + 1}) and '{names[second]}' ({second + 1}) "
        f"both mean {column}",
        hint=f"say which one is {column} under [columns] in source.toml",
    )


def missing_column_hint(column: str) -> str:
    """Which headers would have been understood as ``column``."""
    others = ", ".join(ALIASES[column][1:])
    return f"name it {column} or one of: {others}; or map it under [columns] in source.toml"
