"""Figures as the pages show them: Danish decimal comma, one decimal rounded toward zero
(docs/site.md)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Final

from markupsafe import Markup, escape

from fravaer.policy import Lang
from fravaer.schema import shown_text
from fravaer.words import number_text

# -- numbers --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Num:
    """A figure as shown (``14,5``) and as computed (``data-value``, full precision)."""

    text: str
    value: float | int | None

    def __str__(self) -> str:
        return self.text

    @cached_property
    def cell(self) -> Markup:
        """The figure's table cell, ``<td data-value="14.54">14,5 %</td>``, escaped as the
        pages' environment escapes a printed value (the ``cell`` macro of ``macros.html``;
        built here, as a macro call costs more than the cell on a dossier's tables)."""
        value = "" if self.value is None else escape(self.value)
        return Markup(f'<td data-value="{value}">{escape(shown_text(self.text))}</td>')


def row_cells(head: str, cells: Sequence[Num]) -> str:
    """A table row of figures, ``<tr><th scope="row">HEAD</th><td …>…</td>…</tr>`` and a line
    break: the heading printed as the pages' environment prints a value (hidden characters
    shown as U+FFFD, HTML escaped), each figure its :attr:`Num.cell`."""
    return (
        f'<tr><th scope="row">{escape(shown_text(head))}</th>'
        f"{''.join(cell.cell for cell in cells)}</tr>\n"
    )


def table_rows(rows: Iterable[tuple[str, Sequence[Num]]]) -> Markup:
    """The rows of a table of figures (:func:`row_cells`) as one printed value: built in Python,
    as the template's loop over rows and cells costs more than the table (a dossier's weeks)."""
    return Markup("".join(row_cells(head, cells) for head, cells in rows))


def _shown(value: float, lang: Lang) -> str:
    """One decimal, rounded *toward zero*, so that a shown figure never reaches a limit the
    figure has not reached (9.96 % is ``9,9``, never ``10,0``) and a change is never shown
    larger than it is (a fall of 3.96 points is ``-3,9``); Danish has a decimal comma.

    >>> [_shown(v, "da") for v in (9.96, 0.3, -3.96, -0.04, -0.3)]
    ['9,9', '0,3', '-3,9', '0,0', '-0,3']
    """
    tenths = math.floor(abs(value) * 10 + 1e-9)
    return number_text(math.copysign(tenths, value) / 10 if tenths else 0.0, lang)


_NUMBERS: Final[dict[tuple[object, ...], Num]] = {}
""":func:`number` of the figures shown so far, by type, value, sign and language: a site shows
the same counts and percentages on thousands of pages, and a figure's :attr:`Num.cell` is
built once."""

_NUMBERS_MAX: Final = 1 << 16
"""At most this many figures are kept."""


def number(value: object, lang: Lang) -> Num:
    """A count as it is, a float with one decimal (rounded down); None as ``–``.

    >>> [str(number(v, "da")) for v in (17, 9.96, 16.25, None)]
    ['17', '9,9', '16,2', '–']
    """
    return _remembered(value, lang, percent=False)


def _remembered(value: object, lang: Lang, *, percent: bool) -> Num:
    """:func:`_number` or :func:`_percent` of ``value``, from :data:`_NUMBERS` when shown
    before."""
    # The sign tells -0.0 from 0.0 (equal as keys, printed apart in a cell's data-value); the
    # type tells True from 1.
    kind = type(value)
    sign = math.copysign(1.0, value) if isinstance(value, float) else 0.0
    key = (kind, value, sign, lang, percent)
    shown = _NUMBERS.get(key)
    if shown is None:
        shown = _percent(value, lang) if percent else _number(value, lang)
        if len(_NUMBERS) < _NUMBERS_MAX:
            _NUMBERS[key] = shown
    return shown


def _number(value: object, lang: Lang) -> Num:
    if isinstance(value, bool) or value is None:
        return Num("–", None)
    if isinstance(value, int):
        return Num(str(value), value)
    if isinstance(value, float):
        return Num(_shown(value, lang), value)
    raise TypeError(type(value).__name__)


def percent(value: object, lang: Lang) -> Num:
    """``14,5 %``; None as ``–``.

    >>> percent(14.54, "da"), percent(14.54, "en").text
    (Num(text='14,5 %', value=14.54), '14.5 %')
    """
    return _remembered(value, lang, percent=True)


def _percent(value: object, lang: Lang) -> Num:
    shown = _number(value, lang)
    return shown if shown.value is None else Num(f"{shown.text} %", shown.value)


def days(value: object, lang: Lang) -> str:
    """Absent days as a sentence shows them: ``17``, or ``16,5`` with a part of a day."""
    if not isinstance(value, int | float):
        return "–"
    text = _shown(float(value), lang)
    return text[:-2] if text.endswith((",0", ".0")) else text
