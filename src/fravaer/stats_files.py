"""One ``fravaer stats`` output: the statistics, suppressed, and the workbook they make.

Below the command line, so that every way to publish statistics (``fravaer stats``, and a
``stats`` output of ``report.toml``, docs/report.md) counts, hides, names and writes them the
same: :func:`published` computes the table, the schools' freshness and (for a chart) the
per-school table in one pass, refuses groups without their key, hides small groups across every
level the output publishes (docs/stats.md), and warns of stale schools; :func:`stats_bytes` and
:func:`stats_chart` turn it into a file's bytes.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Final

import polars as pl

from fravaer.classify import parts_for
from fravaer.errors import BadInputError, Location
from fravaer.headings import Headers, for_people, headings
from fravaer.output import Format, serialise_frame, serialise_workbook
from fravaer.policy import Lang, Policy
from fravaer.pseudonymize import shown_school
from fravaer.render import render_stats
from fravaer.schema import SCHOOL_ID
from fravaer.stats import (
    FRESHNESS_LAG_DAYS,
    LATEST_DATE,
    MUNICIPALITY,
    PERIOD,
    SHARE_OVER_10,
    Period,
    Reference,
    contract_columns,
    freshness,
    metric_columns,
    reference_for,
    stats,
    suppress,
)
from fravaer.words import sheet_name, word

if TYPE_CHECKING:
    from fravaer.chart import ChartFormat

log = logging.getLogger("fravaer")

PERCENT_FORMAT: Final = '0.0" %"'


@dataclass(frozen=True)
class Published:
    """What one statistics output shows: the table by ``keys`` (suppressed unless ``min_cell``
    is None), the national figures per period, each school's latest registration, and the
    per-school table a chart draws (None when not asked for)."""

    table: pl.DataFrame
    keys: list[str]
    periods: list[Period]
    references: list[Reference | None]
    freshness: pl.DataFrame
    schools: pl.DataFrame | None
    min_cell: int | None


def published(
    frame: pl.LazyFrame,
    *,
    keys: list[str],
    periods: list[Period],
    as_of: date,
    policy: Policy,
    national: pl.DataFrame,
    min_cell: int | None,
    schools: bool,
    where: str,
    school_days: pl.DataFrame | None = None,
) -> Published:
    """The statistics of ``frame`` by ``keys`` for ``periods``, with ``national`` figures
    (``ingest.reference``); ``schools`` also computes the per-school table for a chart.
    ``school_days``: each school's dates, read with the as-of date: the periods'
    classifications (:func:`stats`) and the freshness read them instead of the rows.

    Raises
    ------
    BadInputError
        A group without its key (it would look like the municipality row); ``where`` names
        the export.
    """
    parts = parts_for(frame)

    def by(group: list[str]) -> pl.LazyFrame:
        return stats(
            frame,
            by=group,
            periods=periods,
            as_of=as_of,
            policy=policy,
            parts=parts,
            school_days=school_days,
        )

    plans = [
        by(keys),
        freshness(frame, as_of=as_of, school_days=school_days),
    ]
    by_school = schools and keys != [SCHOOL_ID]
    if by_school:
        plans.append(by([SCHOOL_ID]))
    collected = pl.collect_all(plans, engine="streaming")
    table, fresh = collected[0], collected[1]
    _check_group_keys(table, keys, where)
    if min_cell is not None:
        table = suppress(table, keys=keys, min_cell=min_cell, as_of=as_of)
    references = [reference_for(national, p) for p in periods]
    warn_stale(fresh)
    per_school = None
    if schools:
        per_school = collected[2] if by_school else table
        if by_school and min_cell is not None:
            per_school = suppress(per_school, keys=[SCHOOL_ID], min_cell=min_cell, as_of=as_of)
    return Published(table, keys, periods, references, fresh, per_school, min_cell)


def _check_group_keys(table: pl.DataFrame, keys: list[str], where: str) -> None:
    """A group without a key would look like the municipality row: refuse it."""
    groups = table.filter(~pl.col(MUNICIPALITY))
    for key in keys:
        missing = groups.filter(pl.col(key).is_null()).height
        if missing:
            raise BadInputError(
                Location(where, column_name=key),
                f"--by needs {key} on every row; {missing} group(s) have none",
                hint="group by school, or use an export that carries the column",
            )


def warn_stale(fresh: pl.DataFrame) -> None:
    """A school lagging the newest registration distorts comparisons: say so (no pupil data)."""
    newest = fresh[LATEST_DATE].max()
    for school, latest, behind in fresh.iter_rows():
        if behind > FRESHNESS_LAG_DAYS:
            log.warning(
                "school %s: latest registration %s is %d school days behind the newest (%s); "
                "its figures may be stale",
                shown_school(school),
                latest.isoformat(),
                behind,
                newest.isoformat() if isinstance(newest, date) else newest,
            )


def period_sheet_name(label: str) -> str:
    """A period's label as a sheet name: Excel forbids / and : in sheet names."""
    return label.replace("/", "-").replace(":", "_")[:31]


def stats_sheets(
    shown: Published,
    policy: Policy,
    lang: Lang,
    *,
    headers: Headers = "lang",
    names: Mapping[str, str] | None = None,
) -> dict[str, pl.DataFrame]:
    """The statistics workbook: a warning sheet when nothing is hidden, one sheet per period,
    the national figures, and each school's latest registration; each sheet with the headings
    of ``lang`` (or ``headers="snake"``: the machine names) and the schools' ``names`` beside
    their ids (:func:`fravaer.headings.for_people`)."""
    return {
        name: for_people(sheet.lazy(), lang=lang, headers=headers, names=names).collect()
        for name, sheet in _stats_sheets(shown, policy, lang).items()
    }


def _stats_sheets(shown: Published, policy: Policy, lang: Lang) -> dict[str, pl.DataFrame]:
    sheets: dict[str, pl.DataFrame] = {}
    if shown.min_cell is None:
        note = word("not_suppressed_note", lang)
        sheets[sheet_name("internal", lang)] = pl.DataFrame({"note": [note]})
    columns = contract_columns(shown.keys, policy)
    for p in shown.periods:
        sheets[period_sheet_name(p.label)] = shown.table.filter(pl.col(PERIOD) == p.label).select(
            columns
        )
    national = [
        {
            "period": p.label,
            "reference_period": r.period,
            "absence_pct": r.absence_pct,
            "share_over_10": r.share_over_10,
            "source": "; ".join(r.sources),
        }
        for p, r in zip(shown.periods, shown.references, strict=True)
        if r is not None
    ]
    if national:
        sheets[sheet_name("national", lang)] = pl.DataFrame(national)
    sheets[sheet_name("freshness", lang)] = shown.freshness
    return sheets


def stats_formats(policy: Policy, lang: Lang, headers: Headers = "lang") -> dict[str, str]:
    """Excel number formats of the workbook's columns (by their headings in :func:`stats_sheets`):
    percentages with one decimal, counts whole."""
    metrics: Sequence[str] = metric_columns(policy)
    formats = dict.fromkeys(
        (c for c in metrics if c.endswith("_pct") or c.endswith("_pooled")), PERCENT_FORMAT
    )
    formats[SHARE_OVER_10] = PERCENT_FORMAT
    formats.update(dict.fromkeys((c for c in metrics if c not in formats), "0"))
    shown = headings(formats, lang, headers)
    return {shown[column]: number for column, number in formats.items()}


def stats_bytes(
    shown: Published,
    fmt: Format,
    *,
    policy: Policy,
    as_of: date,
    lang: Lang,
    width: int | None,
    headers: Headers = "lang",
    names: Mapping[str, str] | None = None,
) -> bytes:
    """The statistics as ``fmt``: the table view ``width`` columns wide (None: the terminal's),
    the workbook of :func:`stats_sheets` (headings and school names as there), or the table in a
    machine format."""
    if fmt == "table":
        text = render_stats(
            shown.table,
            keys=shown.keys,
            periods=[(p.label, p.start, p.until(as_of)) for p in shown.periods],
            references=shown.references,
            freshness=shown.freshness,
            policy=policy,
            as_of=as_of,
            min_cell=shown.min_cell,
            lang=lang,
            width=width,
        )
        return text.encode("utf-8")
    if fmt == "xlsx":
        return serialise_workbook(
            stats_sheets(shown, policy, lang, headers=headers, names=names),
            formats=stats_formats(policy, lang, headers),
        )
    return serialise_frame(shown.table.select(contract_columns(shown.keys, policy)), fmt)


def stats_chart(
    shown: Published,
    fmt: ChartFormat,
    *,
    as_of: date,
    lang: Lang,
    names: Mapping[str, str] | None = None,
) -> bytes | None:
    """The chart of the share over 10 % per school (``fravaer.chart.share_chart``), if
    :func:`published` was asked for the per-school table; schools labelled by their ``names``
    where given."""
    if shown.schools is None:
        return None
    from fravaer.chart import share_chart  # matplotlib is slow to import: only when drawing

    drawn, _ = share_chart(
        shown.schools,
        references=shown.references,
        spans=shown.periods,
        as_of=as_of,
        fmt=fmt,
        lang=lang,
        names=names,
    )
    return drawn
