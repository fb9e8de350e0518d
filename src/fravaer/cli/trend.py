"""``fravaer trend``, ``patterns`` and ``early-warning``: absence over time, per pupil."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

import polars as pl
import typer

from fravaer.chart_trend import trend_chart
from fravaer.cli.options import (
    AsOfOption,
    ExportsArgument,
    FormatOption,
    HeadersOption,
    LangOption,
    OutputOption,
    PolicyOption,
    SchoolNamesOption,
    SchoolsOption,
    SourceFlags,
    a_file_checked,
    parse_chart_format,
    resolve_format,
    source_flags,
    write_result,
    xlsx_school_names,
)
from fravaer.cli.setup import read_with_lessons, reading, setup
from fravaer.errors import UsageError
from fravaer.output import atomic_file
from fravaer.policy import DEFAULT_POLICY
from fravaer.render import (
    render_early_warning,
    render_patterns,
    render_trend,
    render_trend_class,
    trend_summary,
)
from fravaer.schema import ABSENCE_PCT, STEP
from fravaer.trend import (
    DIRECTION,
    FDR,
    FLAGS,
    HORIZON_DAYS,
    PATTERN_DAYS,
    PCT_BEFORE,
    TREND_WEEKS,
    WEEK_END,
    WEEKS_BACK,
    class_pupils,
)
from fravaer.trend import direction as trend_direction
from fravaer.trend import early_warning as early_warning_frame
from fravaer.trend import patterns as patterns_frame
from fravaer.trend import trend as trend_frame
from fravaer.words import sheet_name

log = logging.getLogger("fravaer")

WeeksOption = Annotated[
    int,
    typer.Option("--weeks", min=1, max=52, help="How many of the pupil's latest school weeks."),
]


@source_flags()
def trend(
    exports: ExportsArgument,
    pupil: Annotated[
        str | None, typer.Option("--pupil", help="The pupil's id, exactly as in the export.")
    ] = None,
    class_name: Annotated[
        str | None,
        typer.Option("--class", help="A class (e.g. 7.B): every pupil whose latest class it is."),
    ] = None,
    school: Annotated[
        list[str] | None,
        typer.Option("--school", help="With --class: only pupils whose latest school is this id."),
    ] = None,
    weeks: WeeksOption = TREND_WEEKS,
    as_of: AsOfOption = None,
    policy: PolicyOption = DEFAULT_POLICY,
    chart: Annotated[
        Path | None,
        typer.Option(
            "--chart",
            help="With --pupil: also write a chart for parents (.png or .svg).",
            callback=a_file_checked("--chart"),
        ),
    ] = None,
    fmt: FormatOption = None,
    output: OutputOption = None,
    lang: LangOption = "da",
    headers: HeadersOption = "lang",
    school_names_file: SchoolNamesOption = None,
    *,
    flags: SourceFlags,
) -> None:
    """Week by week: the guideline's absence % and step at the end of each school week.

    For one pupil (--pupil): a plain-language summary, a chart with the limits and the weeks'
    absence by category; --chart writes a PNG or SVG for the conversation with parents. For a
    class (--class): one compact line per pupil. Machine formats give one row per pupil per
    week; the last row is the as-of date's own value, the same as classify's.
    """
    if (pupil is None) == (class_name is None):
        raise UsageError("give either --pupil ID or --class NAME")
    if chart is not None and pupil is None:
        raise UsageError("--chart draws one pupil: use it with --pupil")
    chart_format = parse_chart_format(chart) if chart is not None else None
    out_format = resolve_format(fmt, output)
    names = xlsx_school_names(school_names_file, out_format)
    options = flags.options()
    frame, day, chosen, *_ = setup(exports, as_of, policy, options)
    who: list[str] | pl.LazyFrame = (
        [pupil]
        if pupil is not None
        else class_pupils(frame, as_of=day, class_name=class_name or "")
    )
    series, directions = pl.collect_all(
        [
            trend_frame(frame, policy=chosen, as_of=day, weeks=weeks, pupils=who),
            trend_direction(frame, policy=chosen, as_of=day, pupils=who),
        ]
    )
    if series.is_empty():
        raise UsageError(
            "no rows for that pupil on or before the as-of date"
            if pupil is not None
            else "no pupil's latest class on or before the as-of date has that name",
            hint="ids and class names must match the export exactly",
        )
    log.info("trend of %d pupil(s), %d week(s) as of %s", directions.height, weeks, day.isoformat())
    summary = ""
    if pupil is not None:
        last = series.row(-1, named=True)
        moved = directions.row(0, named=True)
        summary = trend_summary(
            pct_before=moved[PCT_BEFORE],
            pct_now=last[ABSENCE_PCT],
            weeks_back=moved[WEEKS_BACK],
            direction=moved[DIRECTION],
            step=last[STEP],
            policy=chosen,
            lang=lang,
        )
    if chart is not None and chart_format is not None:
        data = trend_chart(
            series[WEEK_END].to_list(),
            series[ABSENCE_PCT].to_list(),
            summary=summary,
            policy=chosen,
            as_of=day,
            fmt=chart_format,
            lang=lang,
        )
        with atomic_file(chart) as handle:
            handle.write(data)
        log.info("wrote the chart to %s", chart)

    def table(width: int | None) -> str:
        if pupil is not None:
            return render_trend(
                series, summary=summary, policy=chosen, as_of=day, lang=lang, width=width
            )
        return render_trend_class(
            series,
            directions,
            name=class_name or "",
            policy=chosen,
            as_of=day,
            lang=lang,
            width=width,
        )

    write_result(
        series,
        out_format,
        output,
        sheet=sheet_name("weeks", lang),
        table=table,
        lang=lang,
        headers=headers,
        names=names,
    )


@source_flags()
def patterns(
    exports: ExportsArgument,
    school: SchoolsOption = None,
    as_of: AsOfOption = None,
    days: Annotated[
        int,
        typer.Option("--days", min=10, max=400, help="Look at each pupil's latest N school days."),
    ] = PATTERN_DAYS,
    policy: PolicyOption = DEFAULT_POLICY,
    show_all: Annotated[
        bool, typer.Option("--all", help="Table: list every pupil, not only those with a pattern.")
    ] = False,
    fmt: FormatOption = None,
    output: OutputOption = None,
    lang: LangOption = "da",
    headers: HeadersOption = "lang",
    school_names_file: SchoolNamesOption = None,
    *,
    flags: SourceFlags,
) -> None:
    """Absence patterns per pupil: weekdays, around weekends and holidays, partial days, runs.

    Per pupil over their latest school days: absence % by weekday, flagged when one weekday (or
    the days next to weekends and holidays) has more days with absence than chance allows given
    the pupil's own absence (exact test, at most 5 % false findings across pupils); repeated
    partial days; and long runs of whole absent days. A lesson-level export also shows lesson
    patterns: absence in a weekday's lessons or a subject, leaving before the last lessons and
    arriving late (same test, its own false-discovery control across pupils).
    """
    out_format = resolve_format(fmt, output)
    names = xlsx_school_names(school_names_file, out_format)
    options = flags.options()
    # A lesson-level export's lessons come with its days, for the lesson patterns.
    (frame, day, chosen, _, school_days), lessons = read_with_lessons(
        reading(exports, as_of, policy, options)
    )
    if lessons is not None:
        # The lesson patterns read the lessons and the days in several steps: read the export
        # once (a lesson-level export's days are a sixth of its rows).
        lessons, frame = (part.lazy() for part in pl.collect_all([lessons, frame]))
    # The false-discovery control runs over the whole column of p-values: in-memory engine.
    result = patterns_frame(
        frame,
        policy=chosen,
        as_of=day,
        days=days,
        schools=school,
        lessons=lessons,
        school_days=school_days,
    ).collect()
    flagged = result.filter(pl.col(FLAGS) != "").height
    log.info("%d of %d pupil(s) show a pattern as of %s", flagged, result.height, day.isoformat())
    write_result(
        result,
        out_format,
        output,
        sheet=sheet_name("patterns", lang),
        lang=lang,
        headers=headers,
        names=names,
        table=lambda width: render_patterns(
            result, as_of=day, days=days, fdr=FDR, lang=lang, show_all=show_all, width=width
        ),
    )


@source_flags()
def early_warning(
    exports: ExportsArgument,
    as_of: AsOfOption = None,
    horizon: Annotated[
        int,
        typer.Option("--horizon", min=1, max=200, help="Look this many school days ahead."),
    ] = HORIZON_DAYS,
    school: SchoolsOption = None,
    policy: PolicyOption = DEFAULT_POLICY,
    fmt: FormatOption = None,
    output: OutputOption = None,
    lang: LangOption = "da",
    headers: HeadersOption = "lang",
    school_names_file: SchoolNamesOption = None,
    *,
    flags: SourceFlags,
) -> None:
    """Pupils below step 1 to act on now, before the guideline forces it, and why.

    A pupil is listed when their absence shows a pattern (see `fravaer patterns`), is rising
    while the latest 4 weeks run at the first limit or above, or would reach the first limit
    within the horizon if the latest 4 weeks' rate continued - with the projected date on the
    school's calendar (its usual weekdays, minus public holidays). A lesson-level export's
    lesson patterns count as patterns.
    """
    out_format = resolve_format(fmt, output)
    names = xlsx_school_names(school_names_file, out_format)
    options = flags.options()
    (frame, day, chosen, _, school_days), lessons = read_with_lessons(
        reading(exports, as_of, policy, options)
    )
    if lessons is not None:  # read the export once, as patterns does
        lessons, frame = (part.lazy() for part in pl.collect_all([lessons, frame]))
    result = early_warning_frame(
        frame,
        policy=chosen,
        as_of=day,
        horizon=horizon,
        schools=school,
        lessons=lessons,
        school_days=school_days,
    ).collect()
    log.info("%d pupil(s) below step 1 to act on as of %s", result.height, day.isoformat())
    write_result(
        result,
        out_format,
        output,
        sheet=sheet_name("warning", lang),
        lang=lang,
        headers=headers,
        names=names,
        table=lambda width: render_early_warning(
            result, policy=chosen, as_of=day, horizon=horizon, lang=lang, width=width
        ),
    )
