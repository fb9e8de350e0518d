"""``fravaer stats``: school statistics the way the ministry counts them."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

import polars as pl
import typer

from fravaer.cli.options import (
    AsOfOption,
    ExportsArgument,
    FormatOption,
    HeadersOption,
    LangOption,
    OutputOption,
    PolicyOption,
    SchoolNamesOption,
    SourceFlags,
    a_file_checked,
    parse_chart_format,
    resolve_format,
    source_flags,
    table_width,
    xlsx_school_names,
)
from fravaer.cli.setup import setup
from fravaer.errors import UsageError
from fravaer.ingest.reference import read_reference
from fravaer.output import Format, atomic_file, write_bytes
from fravaer.policy import DEFAULT_POLICY
from fravaer.stats import (
    MIN_CELL_DEFAULT,
    MIN_CELL_FLOOR,
    MUNICIPALITY,
    SUPPRESSED,
    parse_by,
    parse_periods,
)
from fravaer.stats_files import published, stats_bytes, stats_chart

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
    headers: HeadersOption = "lang",
    school_names_file: SchoolNamesOption = None,
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
    names = xlsx_school_names(school_names_file, out_format, elsewhere=chart is not None)
    references_frame = read_reference(reference)
    options = flags.options()
    frame, day, chosen, _, school_days = setup(exports, as_of, policy, options)
    periods = parse_periods(period, as_of=day)
    threshold = None if no_suppression else min_cell
    shown = published(
        frame,
        keys=keys,
        periods=periods,
        as_of=day,
        policy=chosen,
        national=references_frame,
        min_cell=threshold,
        schools=chart is not None,
        where=str(Path(exports[0])),
        school_days=school_days,
    )
    result = shown.table
    drawn = (
        stats_chart(shown, chart_format, as_of=day, lang=lang, names=names)
        if chart_format
        else None
    )
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
    data = stats_bytes(
        shown,
        out_format,
        policy=chosen,
        as_of=day,
        lang=lang,
        width=table_width(output),
        headers=headers,
        names=names,
    )
    write_bytes(data, output)
    if chart is not None and drawn is not None:
        with atomic_file(chart) as handle:
            handle.write(drawn)
