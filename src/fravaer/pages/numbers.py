"""Figures as the pages show them: Danish decimal comma, one decimal rounded toward zero
(docs/site.md)."""

from __future__ import annotations

import math
from dataclasses import dataclass

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

    @property
    def cell(self) -> Markup:
        """The figure's table cell, ``<td data-value="14.54">14,5 %</td>``, escaped as the
        pages' environment escapes a printed value (the ``cell`` macro of ``macros.html``;
        built here, as a macro call costs more than the cell on a dossier's tables)."""
        value = "" if self.value is None else escape(self.value)
        return Markup(f'<td data-value="{value}">{escape(shown_text(self.text))}</td>')


def _shown(value: float, lang: Lang) -> str:
    """One decimal, rounded *toward zero*, so that a shown figure never reaches a limit the
    figure has not reached (9.96 % is ``9,9``, never ``10,0``) and a change is never shown
    larger than it is (a fall of 3.96 points is ``-3,9``); Danish has a decimal comma.

    >>> [_shown(v, "da") for v in (9.96, 0.3, -3.96, -0.04, -0.3)]
    ['9,9', '0,3', '-3,9', '0,0', '-0,3']
    """
    tenths = math.floor(abs(value) * 10 + 1e-9)
    return number_text(math.copysign(tenths, value) / 10 if tenths else 0.0, lang)


def number(value: object, lang: Lang) -> Num:
    """A count as it is, a float with one decimal (rounded down); None as ``–``.

    >>> [str(number(v, "da")) for v in (17, 9.96, 16.25, None)]
    ['17', '9,9', '16,2', '–']
    """
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
    shown = number(value, lang)
    return shown if shown.value is None else Num(f"{shown.text} %", shown.value)


def days(value: object, lang: Lang) -> str:
    """Absent days as a sentence shows them: ``17``, or ``16,5`` with a part of a day."""
    if not isinstance(value, int | float):
        return "–"
    text = _shown(float(value), lang)
    return text[:-2] if text.endswith((",0", ".0")) else text
