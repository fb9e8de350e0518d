"""``fravaer check`` (docs/check.md) and ``inspect`` (docs/ingest.md): the findings, and what
was understood of an export; names and counts only, never a cell."""

from __future__ import annotations

from datetime import date
from typing import Any

import polars as pl
from rich.table import Table

from fravaer import schema as s
from fravaer.policy import Lang
from fravaer.render.console import make_console
from fravaer.words import NO_VALUE, word


def render_check(
    findings: pl.DataFrame,
    *,
    file: str,
    rows: int,
    as_of: date,
    lang: Lang = "da",
    width: int | None = None,
) -> str:
    """The data-quality findings as a table: counts, first lines and schools, never a cell."""
    console, buffer = make_console(
        width, title=word("check_title", lang, file=file, rows=rows, as_of=as_of.isoformat())
    )
    table = Table()
    for key in (s.FINDING, s.SEVERITY, s.COUNT, s.FIRST_LINES, s.SCHOOLS):
        table.add_column(word(key, lang), justify="right" if key == s.COUNT else "left")
    for row in findings.iter_rows(named=True):
        found = row[s.COUNT] > 0
        table.add_row(
            word(row[s.FINDING], lang),
            word(row[s.SEVERITY] if found else "check_ok", lang),
            str(row[s.COUNT]),
            row[s.FIRST_LINES] or "",
            row[s.SCHOOLS] or "",
        )
    console.print(table)
    occurred = findings.filter(pl.col(s.COUNT) > 0)
    errors = occurred.filter(pl.col(s.SEVERITY) == s.SEVERITY_ERROR).height
    if errors:
        console.print(word("check_errors", lang, n=errors))
    elif occurred.height:
        console.print(word("check_warnings", lang, n=occurred.height))
    else:
        console.print(word("check_clean", lang))
    return buffer.getvalue()


def _shown(value: object) -> str:
    if value is None:
        return NO_VALUE
    if value == "\t":
        return "tab"
    return str(value)


def render_inspection(report: dict[str, Any], *, lang: Lang, width: int | None) -> str:
    """What ingest understood, per file and in total (names and counts only)."""
    console, buffer = make_console(width)
    for entry in report["files"]:
        table = Table(
            title=f"{word('file', lang)}: {entry['file']}",
            title_justify="left",
            show_header=False,
        )
        table.add_column("", style="bold")
        table.add_column("")
        keys = ("file_type", "encoding", "separator", "sheet", "header_row", "date_format", "rows")
        for key in keys:
            if key in entry:
                table.add_row(word(key, lang), _shown(entry[key]))
        if "shape" in entry:
            table.add_row(word("shape", lang), f"{entry['shape']} ({entry['shape_reason']})")
        if "columns" in entry:
            mapping = ", ".join(f"{header} → {name}" for name, header in entry["columns"].items())
            table.add_row(word("columns", lang), mapping)
            table.add_row(
                word("dropped_columns", lang), ", ".join(entry["dropped_columns"]) or NO_VALUE
            )
            if entry.get("missing_columns"):  # a file that was refused: what it lacks
                table.add_row(word("missing_columns", lang), ", ".join(entry["missing_columns"]))
            listed = [
                f"{code or '(blank)'} → {meaning['category'] or word('unknown_code', lang)}"
                f" ({meaning['rows']})"
                for code, meaning in entry["codes"].items()
            ]
            if "codes_not_shown" in entry:
                listed.append(word("codes_not_shown", lang, **entry["codes_not_shown"]))
            table.add_row(word("codes", lang), ", ".join(listed) or NO_VALUE)
        console.print(table)
    if "rows" not in report:  # a refused export: no totals
        return buffer.getvalue()
    total = Table(title=word("total", lang), title_justify="left", show_header=False)
    total.add_column("", style="bold")
    total.add_column("")
    total.add_row(word("rows", lang), str(report["rows"]))
    total.add_row(word("pupils", lang), str(report["pupils"]))
    total.add_row(word("schools", lang), ", ".join(report["schools"]))
    total.add_row(word("dates", lang), f"{report['first_date']} – {report['last_date']}")
    console.print(total)
    return buffer.getvalue()
