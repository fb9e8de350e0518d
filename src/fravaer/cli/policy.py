"""``fravaer policy list|show|validate``: the guideline policies."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

import polars as pl
import typer

from fravaer.cli.options import (
    FormatOption,
    HeadersOption,
    LangOption,
    OutputOption,
    resolve_format,
    table_width,
    write_result,
)
from fravaer.errors import UsageError
from fravaer.ingest.policy import bundled_policies, load_policy, policy_versions
from fravaer.output import write_text
from fravaer.render import render_policy, render_policy_list
from fravaer.words import sheet_name

log = logging.getLogger("fravaer")


def policy_list(
    fmt: FormatOption = None,
    output: OutputOption = None,
    lang: LangOption = "da",
    headers: HeadersOption = "lang",
) -> None:
    """The bundled policies: name, series, version, effective date and title."""
    out_format = resolve_format(fmt, output)
    policies = [load_policy(name) for name in bundled_policies()]
    listing = pl.DataFrame(
        {
            "name": [p.name for p in policies],
            "series": [p.series or p.name for p in policies],
            "version": [p.version for p in policies],
            "effective_from": [p.effective_from for p in policies],
            "title": [p.title(lang) for p in policies],
        }
    )
    write_result(
        listing,
        out_format,
        output,
        sheet=sheet_name("policies", lang),
        lang=lang,
        headers=headers,
        table=lambda width: render_policy_list(listing, lang=lang, width=width),
    )


def policy_show(
    ref: Annotated[str, typer.Argument(help="Policy name or path.", metavar="NAME|PATH")],
    lang: LangOption = "da",
) -> None:
    """A policy in words: its rules, steps, thresholds, who acts and the minimum actions.

    A series (e.g. aalborg) shows every version, oldest first.
    """
    versions = policy_versions(ref).versions
    text = "\n".join(render_policy(p, lang=lang, width=table_width(None)) for p in versions)
    write_text(text, None)


def policy_validate(
    path: Annotated[Path, typer.Argument(help="Policy TOML file.", metavar="PATH")],
) -> None:
    """Check a policy file; errors name the TOML line and field (exit 78)."""
    if path.suffix != ".toml":
        raise UsageError(f"{path}: a policy file ends in .toml")
    checked = load_policy(str(path))
    log.info("%s: valid policy %s version %s", path, checked.name, checked.version)
