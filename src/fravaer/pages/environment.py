"""The jinja2 environment of every page, and what every page's frame states (docs/site.md).

Autoescape is on: every text, from the data or a policy, is HTML-escaped where it lands, and
control and invisible characters are shown as U+FFFD (``schema.shown_text``) by ``finalize``.
The templates are the package's own (``fravaer/templates``); nothing else is read.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from fravaer import schema as s
from fravaer.pages.words import words
from fravaer.policy import Lang, Policy


def _finalize(value: Any) -> Any:
    """Every printed value: control and invisible characters shown as U+FFFD (then escaped)."""
    if isinstance(value, str) and not isinstance(value, Markup):
        return s.shown_text(value)
    return value


def environment() -> Environment:
    """The jinja2 environment of the pages: autoescape on, undefined names an error."""
    return Environment(
        loader=PackageLoader("fravaer", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        finalize=_finalize,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def page_common(*, lang: Lang, as_of: date, policy: Policy, version: str) -> dict[str, Any]:
    """What every page's frame (``base.html``) states: the date, the policy, fravaer's version."""
    return {
        "lang": lang,
        "w": words(lang),
        "as_of": as_of.isoformat(),
        "policy_title": policy.title(lang),
        "policy_name": policy.name,
        "policy_version": policy.version,
        "window": policy.primary.window.describe(lang),
        "version": version,
    }
