"""``fravaer classify`` and ``fravaer explain``: every pupil's step, and why one pupil has it."""

from __future__ import annotations

import logging
from typing import Annotated

import typer

from fravaer.classify import classify as classify_frame
from fravaer.classify import explain as explain_frame
from fravaer.classify import parts_for
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
    colour,
    parse_partition,
    resolve_format,
    source_flags,
    write_result,
    xlsx_school_names,
)
from fravaer.cli.setup import setup
from fravaer.errors import UsageError
from fravaer.policy import DEFAULT_POLICY
from fravaer.render import render_classification, render_explanation
from fravaer.words import sheet_name

log = logging.getLogger("fravaer")


@source_flags()
def classify(
    exports: ExportsArgument,
    as_of: AsOfOption = None,
    policy: PolicyOption = DEFAULT_POLICY,
    no_national: Annotated[
        bool,
        typer.Option(
            "--no-national",
            help="Do not evaluate the national quarter rule (quarter columns left empty).",
        ),
    ] = False,
    school: Annotated[
        list[str] | None,
        typer.Option("--school", help="Only pupils whose latest school is this id (repeatable)."),
    ] = None,
    show_all: Annotated[
        bool,
        typer.Option(
            "--all", help="Table: list every pupil, not only those at step 1+ or quarter-flagged."
        ),
    ] = False,
    include_left: Annotated[
        bool,
        typer.Option(
            "--include-left",
            help="Keep pupils with no registration in their school's last 5 school days.",
        ),
    ] = False,
    pupil_partition: Annotated[
        str | None,
        typer.Option(
            "--pupil-partition",
            metavar="K/N",
            help="Only the pupils in bucket K of N (1 <= K <= N), for runs split across "
            "machines; the N outputs together are the whole run.",
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
    """Place every pupil on the guideline's step, with the national quarter rule.

    One row per pupil: the policy's primary window (Aalborg: the latest 100 school days) up to the
    as-of date, absent days per category, absence %, the step (0 when below the first; empty when
    there are too few school days), the quarter's unlawful absence with its flag, and then one
    rule_<name> column per rule of the policy with its measured value.
    """
    out_format = resolve_format(fmt, output)
    partition = parse_partition(pupil_partition)
    names = xlsx_school_names(school_names_file, out_format)
    options = flags.options()
    frame, day, chosen, national, school_days = setup(
        exports, as_of, policy, options, national=not no_national
    )
    result = classify_frame(
        frame,
        policy=chosen,
        national=national,
        as_of=day,
        include_left=include_left,
        schools=school,
        partition=partition,
        parts=parts_for(frame),
        school_days=school_days,
    ).collect(engine="streaming")
    log.info("classified %d pupil(s) as of %s with %s", result.height, day.isoformat(), chosen.name)
    if school and result.is_empty():
        log.warning("no pupil's latest school is among the --school ids given")
    write_result(
        result,
        out_format,
        output,
        sheet=sheet_name("pupils", lang),
        lang=lang,
        headers=headers,
        names=names,
        table=lambda width: render_classification(
            result,
            policy=chosen,
            national=national,
            as_of=day,
            lang=lang,
            show_all=show_all,
            width=width,
            color=colour(output),
        ),
    )


@source_flags()
def explain(
    exports: ExportsArgument,
    pupil: Annotated[
        str, typer.Option("--pupil", help="The pupil's id, exactly as in the export.")
    ],
    as_of: AsOfOption = None,
    policy: PolicyOption = DEFAULT_POLICY,
    fmt: FormatOption = None,
    output: OutputOption = None,
    lang: LangOption = "da",
    headers: HeadersOption = "lang",
    *,
    flags: SourceFlags,
) -> None:
    """Why one pupil is on their step: every rule's window, value, threshold and verdict.

    The answer a coordinator gives a parent who asks "why is my child on step 2?". Machine
    formats give one row per threshold of every step.
    """
    out_format = resolve_format(fmt, output)
    options = flags.options()
    frame, day, chosen, *_ = setup(exports, as_of, policy, options)
    rows = explain_frame(frame, policy=chosen, as_of=day, pupil_id=pupil).collect()
    if rows.is_empty():
        raise UsageError(
            "no rows for that pupil on or before the as-of date",
            hint="the id must match the export exactly, leading zeros included",
        )
    write_result(
        rows,
        out_format,
        output,
        sheet=sheet_name("explanation", lang),
        lang=lang,
        headers=headers,
        table=lambda width: render_explanation(rows, policy=chosen, lang=lang, width=width),
    )
