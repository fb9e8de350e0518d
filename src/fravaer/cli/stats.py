"""``fravaer stats``: school statistics the way the ministry counts them."""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path
from typing import Annotated, Literal

import polars as pl
import typer

from fravaer.classify import parts_for
from fravaer.cli.options import (
    AsOfOption,
    ExportsArgument,
    FormatOption,
    LangOption,
    OutputOption,
    PolicyOption,
    SourceFlags,
    a_file_checked,
    parse_chart_format,
    resolve_format,
    source_flags,
    table_width,
)
from fravaer.cli.setup import setup
from fravaer.errors import BadInputError, Location, UsageError
from fravaer.ingest.reference import read_reference
from fravaer.output import Format, atomic_file, write_frame, write_text, write_workbook
from fravaer.policy import DEFAULT_POLICY, Policy
from fravaer.pseudonymize import shown_school
from fravaer.render import render_stats
from fravaer.schema import SCHOOL_ID
from fravaer.stats import (
    FRESHNESS_LAG_DAYS,
    LATEST_DATE,
    MIN_CELL_DEFAULT,
    MIN_CELL_FLOOR,
    MUNICIPALITY,
    PERIOD,
    SHARE_OVER_10,
    SUPPRESSED,
    Period,
    Reference,
    contract_columns,
    freshness,
    metric_columns,
    parse_by,
    parse_periods,
    reference_for,
    suppress,
)
from fravaer.stats import stats as stats_frame

log = logging.getLogger("fravaer")

StatsFormat = Format


ByOption = Annotated[
    str,
    typer.Option(
        "--by",
        help="Group by school, grade or class (a class within its school), or several joined by "
        "commas: school,grade.",
    ),
]


@source_flags()
def stats(
    exports: ExportsArgument,
    by: ByOption = "school",
    period: Annotated[
        str | None,
        typer.Option(
            "--period",
            help="School year 2023/24, quarter 2024Q1 or range 2024-01-01:2024-03-31; several "
            "joined by commas give a trend. Default: the school year of the as-of date.",
        ),
    ] = None,
    as_of: AsOfOption = None,
    policy: PolicyOption = DEFAULT_POLICY,
    min_cell: Annotated[
        int,
        typer.Option(
            "--min-cell",
            help=f"Hide groups of fewer pupils than this (at least {MIN_CELL_FLOOR}), and enough "
            "others that none can be worked out from the totals.",
        ),
    ] = MIN_CELL_DEFAULT,
    no_suppression: Annotated[
        bool,
        typer.Option(
            "--no-suppression", help="Show small groups too: for internal use only, never publish."
        ),
    ] = False,
    reference: Annotated[
        Path | None,
        typer.Option(
            "--reference",
            help="CSV of national figures (period,measure,value,source) instead of the bundled "
            "ministry figures.",
        ),
    ] = None,
    fmt: FormatOption = None,
    output: OutputOption = None,
    chart: Annotated[
        Path | None,
        typer.Option(
            "--chart",
            help="Also draw the share over 10 % per school: a .png or .svg.",
            callback=a_file_checked("--chart"),
        ),
    ] = None,
    lang: LangOption = "da",
    *,
    flags: SourceFlags,
) -> None:
    """School statistics the way the ministry counts them, with small groups hidden.

    Per group and for the whole municipality: pupils, pupil school days, absence % by the
    ministry's method (pupils' percentages weighted by their months at the school) and pooled
    (absent days / school days), per category, pupils in the bands 0-5 %, 5.01-10 % and over
    10 %, and pupils at each step of the guideline at the end of the period, with the national
    figures beside the municipality and each school's latest registration.
    """
    out_format = resolve_format(fmt, output)
    keys = list(parse_by(by))
    if not no_suppression and min_cell < MIN_CELL_FLOOR:
        raise UsageError(
            f"--min-cell must be at least {MIN_CELL_FLOOR}",
            hint="smaller groups can identify children; --no-suppression is for internal use only",
        )
    chart_format = parse_chart_format(chart) if chart is not None else None
    references_frame = read_reference(reference)
    options = flags.options()
    frame, day, chosen, _ = setup(exports, as_of, policy, options)
    periods = parse_periods(period, as_of=day)
    parts = parts_for(frame)
    plans = [
        stats_frame(frame, by=keys, periods=periods, as_of=day, policy=chosen, parts=parts),
        freshness(frame, as_of=day),
    ]
    by_school = chart is not None and keys != [SCHOOL_ID]
    if by_school:
        plans.append(
            stats_frame(
                frame, by=[SCHOOL_ID], periods=periods, as_of=day, policy=chosen, parts=parts
            )
        )
    collected = pl.collect_all(plans, engine="streaming")
    result, fresh = collected[0], collected[1]
    _check_group_keys(result, keys, Path(exports[0]))
    threshold = None if no_suppression else min_cell
    if threshold is not None:
        result = suppress(result, keys=keys, min_cell=threshold, as_of=day)
    references = [reference_for(references_frame, p) for p in periods]
    _warn_stale(fresh)
    drawn = None
    if chart is not None and chart_format is not None:
        schools = collected[2] if by_school else result
        if by_school and threshold is not None:
            schools = suppress(schools, keys=[SCHOOL_ID], min_cell=threshold, as_of=day)
        from fravaer.chart import share_chart  # matplotlib is slow to import: only when drawing

        drawn, _ = share_chart(schools, references=references, fmt=chart_format, lang=lang)
    hidden = int(result[SUPPRESSED].sum())
    log.info(
        "statistics for %d group(s) in %d period(s) as of %s with %s; %s",
        result.filter(~pl.col(MUNICIPALITY)).height,
        len(periods),
        day.isoformat(),
        chosen.name,
        f"{hidden} group(s) hidden (fewer than {min_cell} pupils, or to protect another)"
        if threshold is not None
        else "NOT suppressed: for internal use only",
    )
    if out_format == "table":
        text = render_stats(
            result,
            keys=keys,
            periods=[(p.label, p.start, p.until(day)) for p in periods],
            references=references,
            freshness=fresh,
            policy=chosen,
            as_of=day,
            min_cell=threshold,
            lang=lang,
            width=table_width(output),
        )
        write_text(text, output)
    elif out_format == "xlsx":
        write_workbook(
            _stats_sheets(result, keys, chosen, periods, references, fresh, threshold, lang),
            output,
            formats=_stats_formats(chosen),
        )
    else:
        write_frame(result.select(contract_columns(keys, chosen)), out_format, output)
    if chart is not None and drawn is not None:
        with atomic_file(chart) as handle:
            handle.write(drawn)


def _check_group_keys(result: pl.DataFrame, keys: list[str], export: Path) -> None:
    """A group without a key would look like the municipality row: refuse it."""
    groups = result.filter(~pl.col(MUNICIPALITY))
    for key in keys:
        missing = groups.filter(pl.col(key).is_null()).height
        if missing:
            raise BadInputError(
                Location(str(export), column_name=key),
                f"--by needs {key} on every row; {missing} group(s) have none",
                hint="group by school, or use an export that carries the column",
            )


def _warn_stale(fresh: pl.DataFrame) -> None:
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


def _sheet_name(label: str) -> str:
    """Excel forbids / and : in sheet names."""
    return label.replace("/", "-").replace(":", "_")[:31]


def _stats_sheets(
    result: pl.DataFrame,
    keys: list[str],
    policy: Policy,
    periods: list[Period],
    references: list[Reference | None],
    fresh: pl.DataFrame,
    threshold: int | None,
    lang: Literal["da", "en"],
) -> dict[str, pl.DataFrame]:
    sheets: dict[str, pl.DataFrame] = {}
    if threshold is None:
        note = "IKKE DISKRETIONERET: kun til intern brug" if lang == "da" else "NOT SUPPRESSED"
        sheets["intern" if lang == "da" else "internal"] = pl.DataFrame({"note": [note]})
    columns = contract_columns(keys, policy)
    for p in periods:
        sheets[_sheet_name(p.label)] = result.filter(pl.col(PERIOD) == p.label).select(columns)
    national = [
        {
            "period": p.label,
            "reference_period": r.period,
            "absence_pct": r.absence_pct,
            "share_over_10": r.share_over_10,
            "source": "; ".join(r.sources),
        }
        for p, r in zip(periods, references, strict=True)
        if r is not None
    ]
    if national:
        sheets["landstal" if lang == "da" else "national"] = pl.DataFrame(national)
    sheets["aktualitet" if lang == "da" else "freshness"] = fresh
    return sheets


def _stats_formats(policy: Policy) -> dict[str, str]:
    percent = '0.0" %"'
    formats = dict.fromkeys(
        (c for c in metric_columns(policy) if c.endswith("_pct") or c.endswith("_pooled")),
        percent,
    )
    formats[SHARE_OVER_10] = percent
    formats.update(dict.fromkeys((c for c in metric_columns(policy) if c not in formats), "0"))
    return formats
