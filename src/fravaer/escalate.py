"""Escalations: pupils whose step rose since a reference, and the quarter rule's new flags.

The guideline is about action: each week a coordinator needs the pupils who moved up a step since
the last list, with what the guideline now requires, and the school leader the pupils who newly
reached ``warn_parents`` or ``notify_municipality`` in the quarter. Steps are never computed here:
both the current and the reference steps come from :func:`fravaer.classify.classify`, at the
as-of date and at the reference date (``--since``) or from the state file of the previous run.

A pupil's row says what changed (``change``):

* ``escalation``: the step is higher than at the reference, or the quarter flag is higher than
  at the reference *in the same quarter* (each quarter is counted afresh, so a reference in an
  earlier quarter counts as ``none``);
* ``improvement``: the step is lower than at the reference (and nothing escalated).

A pupil without a reference (new in the data, or not in the previous run) compares as step 0
and flag ``none``, with ``previous_step`` and ``previous_quarter_flag`` left empty. A pupil with
too few school days now (empty step) is neither escalated nor improved by the step.
"""

from __future__ import annotations

from datetime import date
from typing import Final

import polars as pl

from fravaer import schema as s
from fravaer.classify import classify
from fravaer.policy import Lang, Policy
from fravaer.window import quarter_start

PREVIOUS_STEP: Final = "previous_step"
PREVIOUS_QUARTER_FLAG: Final = "previous_quarter_flag"
RESPONSIBLE: Final = "responsible"
ACTIONS: Final = "actions"
CHANGE: Final = "change"
REFERENCE_AS_OF: Final = "reference_as_of"

ESCALATION: Final = "escalation"
IMPROVEMENT: Final = "improvement"

SEPARATOR: Final = " | "
"""Joins several responsible roles or actions in one cell (CSV has no lists)."""

ESCALATE_COLUMNS: Final = (
    s.PUPIL_ID,
    s.SCHOOL_ID,
    s.CLASS_NAME,
    s.GRADE,
    PREVIOUS_STEP,
    s.STEP,
    s.ABSENCE_PCT,
    s.WINDOW_START,
    s.WINDOW_END,
    s.ILLNESS_DAYS,
    s.LEAVE_DAYS,
    s.UNLAWFUL_DAYS,
    s.QUARTER_UNLAWFUL_PCT,
    s.QUARTER_FLAG,
    PREVIOUS_QUARTER_FLAG,
    RESPONSIBLE,
    ACTIONS,
    CHANGE,
    s.AS_OF,
    REFERENCE_AS_OF,
)
"""The contract of ``fravaer escalate``'s machine formats: these columns, in this order."""

REFERENCE_SCHEMA: Final = pl.Schema(
    {s.PUPIL_ID: pl.String(), s.STEP: pl.Int8(), s.QUARTER_FLAG: pl.String()}
)
"""A reference: each pupil's step and quarter flag at an earlier date."""

_UP = "_up"
_FLAG_UP = "_flag_up"
_PREV_LEVEL = "_prev_level"
_LEVEL = "_level"


def reference_steps(classified: pl.LazyFrame) -> pl.LazyFrame:
    """The reference columns (pupil, step, quarter flag) of a classification."""
    return classified.select(
        pl.col(s.PUPIL_ID),
        pl.col(s.STEP).cast(pl.Int8),
        pl.col(s.QUARTER_FLAG).cast(pl.String),
    )


def steps_at(
    frame: pl.LazyFrame,
    *,
    policy: Policy,
    national: Policy | None,
    as_of: date,
    parts: int = 1,
) -> pl.LazyFrame:
    """Every pupil's step and quarter flag at ``as_of`` (a reference for :func:`escalate`).

    Pupils who had left by then are kept: a pupil's step on the reference date is what it was,
    whether or not the pupil was still registered in the school's last days. ``parts`` is
    :func:`~fravaer.classify.classify`'s buckets of pupils.
    """
    classified = classify(
        frame, policy=policy, national=national, as_of=as_of, include_left=True, parts=parts
    )
    return reference_steps(classified)


def _level_expr(column: str, national: Policy | None) -> pl.Expr:
    """A quarter flag as its step in the national rule (0 for ``none`` or empty)."""
    levels = {s.FLAG_NONE: 0} | (
        {step.label or str(step.step): step.step for step in national.steps} if national else {}
    )
    return (
        pl.col(column)
        .cast(pl.String)
        .replace_strict(levels, default=0, return_dtype=pl.Int8)
        .fill_null(0)
    )


def _step_texts(
    policy: Policy, low: pl.Expr, high: pl.Expr, lang: Lang
) -> tuple[list[pl.Expr], list[pl.Expr]]:
    """Responsible and actions of every step above ``low`` up to ``high``, one expr per step."""
    responsible: list[pl.Expr] = []
    actions: list[pl.Expr] = []
    for step in policy.steps:
        applies = (low < step.step) & (high >= step.step)
        responsible.append(pl.when(applies).then(pl.lit(step.responsible(lang))))
        actions.append(pl.when(applies).then(pl.lit(SEPARATOR.join(step.actions(lang)))))
    return responsible, actions


def escalate(
    current: pl.LazyFrame,
    reference: pl.LazyFrame,
    *,
    policy: Policy,
    national: Policy | None,
    as_of: date,
    reference_as_of: date | None,
    lang: Lang = "da",
) -> pl.LazyFrame:
    """Escalations and improvements between a reference and a current classification.

    Parameters
    ----------
    current
        :func:`fravaer.classify.classify` at ``as_of`` (pupils who have left are not in it, so
        they are neither escalated nor improved).
    reference
        Each pupil's step and quarter flag at ``reference_as_of`` (:data:`REFERENCE_SCHEMA`),
        from :func:`steps_at` or the state file.
    policy, national
        The guideline and the national quarter rule that gave ``current``'s steps; their
        ``responsible`` and ``actions`` texts fill the columns of those names.
    reference_as_of
        The reference's date, or None when there is none (a first run): every pupil then compares
        with step 0 and flag ``none``.
    lang
        Language of ``responsible`` and ``actions``.

    Returns
    -------
    pl.LazyFrame
        :data:`ESCALATE_COLUMNS`, escalations first, then improvements, each by school and pupil.
        ``actions`` holds the actions of every step the pupil newly reached (a pupil who jumps
        from 0 to 3 needs step 2's coordinator too) and the national rule's action when its flag
        rose; for an improvement, the actions of the current step.

    Examples
    --------
    Pupil 1 was absent 3 of 20 school days (15 %, step 2), pupil 2 never; a week earlier
    pupil 1 was on step 0 and pupil 2 on step 1:

    >>> from datetime import timedelta
    >>> from fravaer import load_policy
    >>> aalborg = load_policy("aalborg-2023")
    >>> days = [date(2024, 3, 8) - timedelta(days=i) for i in range(20)]
    >>> frame = pl.LazyFrame(
    ...     {"pupil_id": ["1"] * 20 + ["2"] * 20, "school_id": ["A"] * 40, "date": days * 2,
    ...      "category": ["illness"] * 3 + ["present"] * 37,
    ...      "absent_fraction": [1.0] * 3 + [0.0] * 37},
    ...     schema_overrides={"category": s.CATEGORY_DTYPE},
    ... ).with_columns(grade=pl.lit(None, pl.Int8), class_name=pl.lit(None, pl.String))
    >>> now = classify(frame, policy=aalborg, as_of=date(2024, 3, 8))
    >>> then = pl.LazyFrame(
    ...     {"pupil_id": ["1", "2"], "step": [0, 1], "quarter_flag": ["none", "none"]},
    ...     schema=REFERENCE_SCHEMA,
    ... )
    >>> out = escalate(
    ...     now, then, policy=aalborg, national=None, as_of=date(2024, 3, 8),
    ...     reference_as_of=date(2024, 3, 1),
    ... ).collect()
    >>> out.select("pupil_id", "previous_step", "step", "change").rows()
    [('1', 0, 2, 'escalation'), ('2', 1, 0, 'improvement')]
    >>> out["responsible"][0]
    'Klasseteamet | Tovholder'
    """
    same_quarter = reference_as_of is not None and quarter_start(reference_as_of) == quarter_start(
        as_of
    )
    ref = reference.select(
        pl.col(s.PUPIL_ID),
        pl.col(s.STEP).cast(pl.Int8).alias(PREVIOUS_STEP),
        pl.col(s.QUARTER_FLAG).cast(pl.String).alias("_ref_flag"),
    )
    known = pl.col("_known")
    joined = current.join(ref.with_columns(pl.lit(True).alias("_known")), on=s.PUPIL_ID, how="left")
    previous_flag = (
        pl.when(~known.fill_null(False))
        .then(pl.lit(None, dtype=pl.String))
        .when(pl.lit(same_quarter))
        .then(pl.col("_ref_flag").fill_null(s.FLAG_NONE))
        .otherwise(pl.lit(s.FLAG_NONE))
    )
    step = pl.col(s.STEP)
    previous = pl.col(PREVIOUS_STEP).fill_null(0)
    flagged = joined.with_columns(previous_flag.alias(PREVIOUS_QUARTER_FLAG)).with_columns(
        _level_expr(s.QUARTER_FLAG, national).alias(_LEVEL),
        _level_expr(PREVIOUS_QUARTER_FLAG, national).alias(_PREV_LEVEL),
        (step.is_not_null() & (step > previous)).alias(_UP),
    )
    flag_up = pl.col(_LEVEL) > pl.col(_PREV_LEVEL)
    up = pl.col(_UP)
    down = step.is_not_null() & pl.col(PREVIOUS_STEP).is_not_null() & (step < previous)

    # New steps for an escalation, the current step for an improvement, none for a flag only.
    low = pl.when(up).then(previous).when(down).then(step - 1).otherwise(step.fill_null(0))
    step_resp, step_actions = _step_texts(policy, low, step.fill_null(0), lang)
    national_resp, national_actions = (
        _step_texts(national, pl.col(_PREV_LEVEL), pl.col(_LEVEL), lang) if national else ([], [])
    )
    flag_only = [pl.when(flag_up).then(e) for e in national_resp]
    flag_actions = [pl.when(flag_up).then(e) for e in national_actions]
    return (
        flagged.with_columns(flag_up.alias(_FLAG_UP))
        .filter(up | pl.col(_FLAG_UP) | down)
        .with_columns(
            pl.when(up | pl.col(_FLAG_UP))
            .then(pl.lit(ESCALATION))
            .otherwise(pl.lit(IMPROVEMENT))
            .alias(CHANGE),
            _joined_distinct([*step_resp, *flag_only]).alias(RESPONSIBLE),
            pl.concat_str([*step_actions, *flag_actions], separator=SEPARATOR, ignore_nulls=True)
            .replace("", None)
            .alias(ACTIONS),
            pl.lit(as_of, dtype=pl.Date).alias(s.AS_OF),
            pl.lit(reference_as_of, dtype=pl.Date).alias(REFERENCE_AS_OF),
        )
        .select(ESCALATE_COLUMNS)
        .sort(
            pl.col(CHANGE) != ESCALATION,
            pl.col(s.SCHOOL_ID),
            pl.col(s.PUPIL_ID),
        )
    )


def _joined_distinct(parts: list[pl.Expr]) -> pl.Expr:
    """The non-empty texts of ``parts``, each once, in order, joined by :data:`SEPARATOR`."""
    if not parts:
        return pl.lit(None, dtype=pl.String)
    texts = pl.concat_list([p.cast(pl.String) for p in parts]).list.drop_nulls()
    joined = texts.list.unique(maintain_order=True).list.join(SEPARATOR)
    return pl.when(joined != "").then(joined)
