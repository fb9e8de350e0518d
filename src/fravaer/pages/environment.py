"""The jinja2 environment of every page, and what every page's frame states (docs/site.md).

Autoescape is on: every text, from the data or a policy, is HTML-escaped where it lands, and
control and invisible characters are shown as U+FFFD (``schema.shown_text``) by ``finalize``.
The templates are the package's own (``fravaer/templates``); nothing else is read.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any, Final

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from fravaer import schema as s
from fravaer.policy import Lang, Policy
from fravaer.words import texts, window_text, word

_SHOWN: Final[dict[str, str]] = {}
""":func:`fravaer.schema.shown_text` of the texts printed so far: most texts of a site (its
words, dates and numbers) are printed on thousands of pages."""

_SHOWN_MAX: Final = 1 << 16
"""At most this many texts are kept (a site's own words are a few thousand)."""


def _finalize(value: Any) -> Any:
    """Every printed value: control and invisible characters shown as U+FFFD (then escaped)."""
    if type(value) is str:  # a Markup, a str subclass, is printed as it is
        shown = _SHOWN.get(value)
        if shown is None:
            shown = s.shown_text(value)
            if len(_SHOWN) < _SHOWN_MAX:
                _SHOWN[value] = shown
        return shown
    if isinstance(value, str) and not isinstance(value, Markup):
        return s.shown_text(value)
    return value


NBSP: Final = "\u00a0"


def page_words(lang: Lang) -> dict[str, str]:
    """The word table (:func:`fravaer.words.texts`) for a template; `` %`` with a no-break
    space, so that a narrow column's heading never puts the sign alone on a line.

    >>> page_words("da")["share_over_10"] == "Andel over 10\u00a0%"
    True
    """
    return {key: text.replace(" %", NBSP + "%") for key, text in texts(lang).items()}


def _nowrap(text: str) -> str:
    """``Trin 2`` kept on one line (the ``nowrap`` filter of the templates)."""
    return text.replace(" ", NBSP)


def template_environment(*, autoescape: bool, finalize: Callable[[Any], Any]) -> Environment:
    """A jinja2 environment of the package's own templates: undefined names an error, and each
    printed value through ``finalize``; ``autoescape`` for HTML."""
    return Environment(
        loader=PackageLoader("fravaer", "templates"),
        autoescape=autoescape,
        undefined=StrictUndefined,
        finalize=finalize,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def environment() -> Environment:
    """The jinja2 environment of the pages: autoescape on, undefined names an error."""
    env = template_environment(autoescape=True, finalize=_finalize)
    env.filters["nowrap"] = _nowrap
    return env


def page_common(*, lang: Lang, as_of: date, policy: Policy, version: str) -> dict[str, Any]:
    """What every page's frame (``base.html``) states: the date, the policy, fravaer's version."""
    return {
        "lang": lang,
        "w": page_words(lang),
        "as_of": as_of.isoformat(),
        "policy_line": word(
            "policy_line",
            lang,
            title=policy.title(lang),
            version=policy.version,
            window=word("absence_of_window", lang, window=window_text(policy.primary.window, lang)),
        ),
        "policy_name": policy.name,
        "version": version,
    }
