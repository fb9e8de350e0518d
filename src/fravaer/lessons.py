"""Lesson patterns: absence concentrated in particular lessons of a pupil's week (docs/trend.md).

A lesson-level export says *which* lessons a pupil missed. Ingest keeps them beside the day
frame as the **lesson frame** (:data:`LESSON_SCHEMA`, read by
:func:`fravaer.ingest.lessons.read_lessons`): one row per pupil per scheduled lesson, with the
lesson's number in the pupil's day, its subject when the export names one, and whether any of it
was missed. :func:`lesson_patterns` looks in it for what staff name: "fravær især onsdag i
5.–6. lektion (idræt)", "går ofte hjem før de sidste lektioner om onsdagen".

Like the rest of the core this module reads no files and no clock and never collects.
"""

from __future__ import annotations

from typing import Final

import polars as pl

from fravaer import schema as s
from fravaer.trend import FDR, FLAGS, pattern_tests

# -- the lesson frame ----------------------------------------------------------------------------
LESSON: Final = "lesson"
"""The lesson's label as the export writes it (``1``, ``3. lektion``, ``modul 2``)."""
LESSON_NUMBER: Final = "lesson_number"
"""The lesson's number in the school's day: the number in its label; for a label without one,
its place by start time among the pupil's lessons that day; else empty."""
SUBJECT: Final = "subject"
"""The lesson's subject as the export writes it (``Idræt``), or empty."""
START_TIME: Final = "start_time"
"""When the lesson starts, in minutes after midnight (``08:15`` is 495), or empty."""
ABSENT: Final = "absent"
"""Whether any of the lesson was missed (an absence category with a fraction above 0)."""

LESSON_SCHEMA: Final = pl.Schema(
    {
        s.PUPIL_ID: pl.String(),
        s.SCHOOL_ID: pl.String(),
        s.DATE: pl.Date(),
        LESSON: pl.String(),
        LESSON_NUMBER: pl.Int64(),
        SUBJECT: pl.String(),
        START_TIME: pl.Int64(),
        s.CATEGORY: s.CATEGORY_DTYPE,
        s.ABSENT_FRACTION: pl.Float64(),
        ABSENT: pl.Boolean(),
        s.GRADE: pl.Int8(),
        s.CLASS_NAME: pl.String(),
    }
)
"""The lesson frame: one row per pupil per scheduled lesson (present lessons included)."""

LESSON_NUMBER_MAX: Final = 20
"""A number above this in a label is not a lesson number (``modul 104`` is a room)."""


def lesson_number_expr(label: pl.Expr) -> pl.Expr:
    """The first whole number in a lesson's label, 0 to :data:`LESSON_NUMBER_MAX`; else empty.

    >>> labels = pl.Series(["1", "3. lektion", "modul 2", "morgen", "104"])
    >>> pl.select(lesson_number_expr(pl.lit(labels))).to_series().to_list()
    [1, 3, 2, None, None]
    """
    number = label.str.extract(r"(\d+)", 1).cast(pl.Int64, strict=False)
    return pl.when(number <= LESSON_NUMBER_MAX).then(number)


def absent_lesson_expr() -> pl.Expr:
    """Whether a lesson row was missed, even partly: an absence category, fraction above 0."""
    return (pl.col(s.CATEGORY) != s.PRESENT) & (pl.col(s.ABSENT_FRACTION) > 0)


# -- lesson patterns -----------------------------------------------------------------------------
KIND: Final = "kind"
WEEKDAY: Final = "weekday"
FIRST: Final = "first"
LAST: Final = "last"

KIND_LESSON: Final = "lesson"
"""A cell of one weekday's lesson number (``onsdag, 5. lektion``)."""
KIND_SUBJECT: Final = "subject"
"""A cell of one subject, every day (``idræt``); raises the ``lesson`` flag too."""
KIND_LEAVES_EARLY: Final = "leaves_early"
"""A cell of the day's last :data:`LAST_LESSONS` lessons, on one weekday or every day."""
KIND_ARRIVES_LATE: Final = "arrives_late"
"""A cell of the day's first lesson, on one weekday or every day."""

FLAG_LESSON: Final = "lesson"
FLAG_LEAVES_EARLY: Final = "leaves_early"
FLAG_ARRIVES_LATE: Final = "arrives_late"
LESSON_FLAGS: Final = (FLAG_LESSON, FLAG_LEAVES_EARLY, FLAG_ARRIVES_LATE)
"""The flags lesson patterns add to ``fravaer patterns``' ``flags``, in this order."""
FLAG_OF_KIND: Final = {
    KIND_LESSON: FLAG_LESSON,
    KIND_SUBJECT: FLAG_LESSON,
    KIND_LEAVES_EARLY: FLAG_LEAVES_EARLY,
    KIND_ARRIVES_LATE: FLAG_ARRIVES_LATE,
}

LAST_LESSONS: Final = 2
"""Leaving early is absence from the day's last two lessons (having been at school that day)."""
MIN_OPPORTUNITIES: Final = 10
"""A cell is tested only with at least ten scheduled lessons in it (ten Wednesdays' fifth
lesson: two and a half months); fewer cannot show a pattern, only add to the tests."""
MIN_ABSENT_LESSONS: Final = 3
"""A pupil with fewer absent lessons (on days with some attendance) is not tested."""
SUBJECT_SHARE: Final = 0.75
"""A run of lessons is named by its subject when that subject holds three in four of them."""

# -- the columns lesson patterns add to ``fravaer patterns`` -------------------------------------
LESSON_PATTERN: Final = "lesson_pattern"
"""The flag of the strongest finding: ``lesson`` (a subject's too), ``leaves_early`` or
``arrives_late``; the other columns say where."""
LESSON_WEEKDAY: Final = "lesson_weekday"
LESSON_FIRST: Final = "lesson_first"
LESSON_LAST: Final = "lesson_last"
LESSON_SUBJECT: Final = "lesson_subject"
LESSON_Q: Final = "lesson_q"
LESSON_FLAGS_COLUMN: Final = "lesson_flags"
LESSON_PATTERN_COLUMNS: Final = (
    LESSON_PATTERN,
    LESSON_WEEKDAY,
    LESSON_FIRST,
    LESSON_LAST,
    LESSON_SUBJECT,
    LESSON_Q,
)
"""The strongest lesson-level finding of a pupil, in ``fravaer patterns``' machine formats."""

WEEKDAY_NAMES: Final = ("monday", "tuesday", "wednesday", "thursday", "friday")
CELL_COLUMNS: Final = (s.PUPIL_ID, KIND, WEEKDAY, FIRST, LAST, SUBJECT, "k", "n", "K", "N")

_FROM_START = "_from_start"
_FROM_END = "_from_end"
_DAY_LESSONS = "_day_lessons"
_DAY_ABSENT = "_day_absent"


def _attended_lessons(lessons: pl.LazyFrame, window: pl.LazyFrame | None) -> pl.LazyFrame:
    """The lessons of the window's days (Monday to Friday) on which the pupil attended at least
    one lesson, with the weekday and each lesson's place from the start and from the end of the
    pupil's day (among its numbered lessons)."""
    if window is not None:
        lessons = lessons.join(window.select(s.PUPIL_ID, s.DATE).unique(), on=[s.PUPIL_ID, s.DATE])
    day = [s.PUPIL_ID, s.DATE]
    number = pl.col(LESSON_NUMBER)
    return (
        lessons.with_columns(pl.col(s.DATE).dt.weekday().cast(pl.Int64).alias(WEEKDAY))
        .filter(pl.col(WEEKDAY) <= len(WEEKDAY_NAMES))
        .with_columns(
            pl.len().over(day).alias(_DAY_LESSONS),
            pl.col(ABSENT).sum().over(day).alias(_DAY_ABSENT),
            number.rank("dense").over(day).cast(pl.Int64).alias(_FROM_START),
            number.rank("dense", descending=True).over(day).cast(pl.Int64).alias(_FROM_END),
        )
        .filter(pl.col(_DAY_ABSENT) < pl.col(_DAY_LESSONS))
        # Every cell and the pupils' list read these rows: computed once, not once per reader
        # (the optimiser's common-subplan elimination does not find them; docs/performance.md).
        .cache()
    )


def lesson_cells(lessons: pl.LazyFrame, *, window: pl.LazyFrame | None = None) -> pl.LazyFrame:
    """Every cell of every pupil with its counts: the material of :func:`lesson_patterns`.

    Parameters
    ----------
    lessons
        The lesson frame (:data:`LESSON_SCHEMA`).
    window
        ``pupil_id`` and ``date`` of the days to look at (the pattern window); None: every day.

    Returns
    -------
    pl.LazyFrame
        Columns :data:`CELL_COLUMNS`, one row per pupil and cell. Only days on which the pupil
        attended at least one lesson count: a whole absent day says nothing about lessons (it is
        the day patterns' business), and its lessons would move together. ``N`` and ``K`` are
        the pupil's scheduled and absent lessons on those days; ``n`` and ``k`` the cell's.
        Cells (``weekday`` 1 = Monday, empty = every day):

        - ``lesson``: a weekday's lesson number (``first`` = ``last`` = the number);
        - ``leaves_early``: the day's last :data:`LAST_LESSONS` numbered lessons, per weekday
          and every day (``first``, ``last``: the smallest and largest number among them);
        - ``arrives_late``: the day's first numbered lesson, per weekday and every day;
        - ``subject``: every lesson of a subject.

    Examples
    --------
    >>> from datetime import date
    >>> lessons = pl.LazyFrame(
    ...     {"pupil_id": ["7"] * 4, "date": [date(2024, 3, 6)] * 4,
    ...      "lesson_number": [1, 2, 3, 4], "subject": ["Dansk"] * 2 + ["Idræt"] * 2,
    ...      "absent": [False, False, True, True]}
    ... )
    >>> cells = lesson_cells(lessons).filter(pl.col("weekday").is_null()).collect()
    >>> cells.select("kind", "subject", "k", "n", "K", "N").sort("kind", "subject").rows()
    [('arrives_late', None, 0, 1, 2, 4), ('leaves_early', None, 2, 2, 2, 4), \
('subject', 'Dansk', 0, 2, 2, 4), ('subject', 'Idræt', 2, 2, 2, 4)]
    """
    return _cells(_attended_lessons(lessons, window)).select(CELL_COLUMNS)


_TOP = "_top"
_TOP_N = "_top_n"


def _cells(rows: pl.LazyFrame) -> pl.LazyFrame:
    """:func:`lesson_cells` of attended lessons, and for a ``lesson`` cell its most common
    subject (``_top``) and that subject's lessons (``_top_n``), to name a run by."""
    absent = pl.col(ABSENT).cast(pl.Int64)
    totals = rows.group_by(s.PUPIL_ID).agg(
        pl.len().cast(pl.Int64).alias("N"), absent.sum().alias("K")
    )
    number = pl.col(LESSON_NUMBER)
    counts = [pl.len().cast(pl.Int64).alias("n"), absent.sum().alias("k")]
    span = [number.min().alias(FIRST), number.max().alias(LAST)]
    none_int = pl.lit(None, dtype=pl.Int64)
    none_text = pl.lit(None, dtype=pl.String)
    defaults = {WEEKDAY: none_int, FIRST: none_int, LAST: none_int, SUBJECT: none_text}
    extra = [none_text.alias(_TOP), none_int.alias(_TOP_N)]

    def shaped(
        grouped: pl.LazyFrame, kind: str, kept: list[str], more: list[pl.Expr]
    ) -> pl.LazyFrame:
        return grouped.select(
            s.PUPIL_ID,
            pl.lit(kind).alias(KIND),
            *(
                (pl.col(c) if c in kept else default)
                .cast(pl.String if c == SUBJECT else pl.Int64)
                .alias(c)
                for c, default in defaults.items()
            ),
            "k",
            "n",
            *more,
        )

    def cells(kind: str, kept: pl.Expr, by: list[str]) -> pl.LazyFrame:
        grouped = rows.filter(kept).group_by(s.PUPIL_ID, *by).agg(*counts, *span)
        return shaped(grouped, kind, [*by, FIRST, LAST], extra)

    numbered = number.is_not_null()
    last = numbered & (pl.col(_FROM_END) <= LAST_LESSONS)
    first = numbered & (pl.col(_FROM_START) == 1)
    # A weekday's lesson number, counted per subject first: the run's subject comes with it.
    by_subject = (
        rows.filter(numbered).group_by(s.PUPIL_ID, WEEKDAY, LESSON_NUMBER, SUBJECT).agg(*counts)
    )
    named = pl.col(SUBJECT).is_not_null()
    # Within a group rows keep their order: the most common subject (ties: by name) first.
    ordered = by_subject.sort("n", SUBJECT, descending=[True, False], nulls_last=True)
    lesson = ordered.group_by(s.PUPIL_ID, WEEKDAY, LESSON_NUMBER).agg(
        pl.col("n").sum(),
        pl.col("k").sum(),
        pl.col(SUBJECT).filter(named).first().alias(_TOP),
        pl.col("n").filter(named).max().cast(pl.Int64).alias(_TOP_N),
    )
    lesson = lesson.with_columns(
        pl.col(LESSON_NUMBER).alias(FIRST), pl.col(LESSON_NUMBER).alias(LAST)
    )
    subjects = rows.filter(named).group_by(s.PUPIL_ID, SUBJECT).agg(*counts)
    found = pl.concat(
        [
            shaped(lesson, KIND_LESSON, [WEEKDAY, FIRST, LAST], [pl.col(_TOP), pl.col(_TOP_N)]),
            cells(KIND_LEAVES_EARLY, last, [WEEKDAY]),
            cells(KIND_LEAVES_EARLY, last, []),
            cells(KIND_ARRIVES_LATE, first, [WEEKDAY]),
            cells(KIND_ARRIVES_LATE, first, []),
            shaped(subjects, KIND_SUBJECT, [SUBJECT], extra),
        ]
    )
    return found.join(totals, on=s.PUPIL_ID)


_ORDER = "_order"
_RUN = "_run"
_KIND_ORDER: Final = {
    KIND_LEAVES_EARLY: 0,
    KIND_ARRIVES_LATE: 1,
    KIND_LESSON: 2,
    KIND_SUBJECT: 3,
}
"""Which finding is named first when two are equally strong: a day shape before a lesson."""


def lesson_tests(
    lessons: pl.LazyFrame, *, window: pl.LazyFrame | None = None, fdr: float = FDR
) -> pl.LazyFrame:
    """The tested cells of every pupil (:func:`lesson_cells`) with ``p``, ``q`` and, for a
    significant ``lesson`` cell, the run of significant lesson numbers of its weekday around it
    (``first``, ``last``).

    A pupil with fewer than :data:`MIN_ABSENT_LESSONS` absent lessons, and a cell with fewer
    than :data:`MIN_OPPORTUNITIES` lessons, is not tested. The test is
    :func:`fravaer.trend.pattern_tests`' (hypergeometric, one-sided, given the pupil's own
    absent lessons), and its Benjamini-Hochberg control runs over every lesson test of the run.
    """
    return _tests(_attended_lessons(lessons, window), fdr=fdr).drop(_TOP, _TOP_N)


def _tests(rows: pl.LazyFrame, *, fdr: float) -> pl.LazyFrame:
    """:func:`lesson_tests` of attended lessons; a significant ``lesson`` cell's ``subject``
    is its run's, when every lesson of the run has the same most common subject in at least
    :data:`SUBJECT_SHARE` of its lessons."""
    tested = _cells(rows).filter(
        (pl.col("K") >= MIN_ABSENT_LESSONS) & (pl.col("n") >= MIN_OPPORTUNITIES)
    )
    tests = pattern_tests(tested).cache()  # read twice below: its runs, and the join
    in_run = (pl.col("q") <= fdr) & (pl.col(KIND) == KIND_LESSON)
    group = [s.PUPIL_ID, WEEKDAY, _RUN]
    step = (pl.col(FIRST) - pl.col(FIRST).shift(1) != 1).fill_null(value=True)
    one_subject = (pl.col(_TOP).n_unique() == 1) & pl.col(_TOP).is_not_null().all()
    shared = (pl.col(_TOP_N) >= SUBJECT_SHARE * pl.col("n")).all()
    runs = tests.filter(in_run).sort(s.PUPIL_ID, WEEKDAY, FIRST)
    runs = runs.with_columns(step.cum_sum().over(s.PUPIL_ID, WEEKDAY).alias(_RUN)).select(
        s.PUPIL_ID,
        WEEKDAY,
        FIRST,
        pl.col(FIRST).min().over(group).alias("_run_first"),
        pl.col(FIRST).max().over(group).alias("_run_last"),
        pl.when((one_subject & shared).over(group))
        .then(pl.col(_TOP).first().over(group))
        .alias("_run_subject"),
    )
    joined = tests.join(runs, on=[s.PUPIL_ID, WEEKDAY, FIRST], how="left")
    run = pl.col("_run_first").is_not_null() & (pl.col(KIND) == KIND_LESSON)
    return joined.with_columns(
        pl.when(run).then(pl.col("_run_first")).otherwise(pl.col(FIRST)).alias(FIRST),
        pl.when(run).then(pl.col("_run_last")).otherwise(pl.col(LAST)).alias(LAST),
        pl.when(run).then(pl.col("_run_subject")).otherwise(pl.col(SUBJECT)).alias(SUBJECT),
    ).drop("_run_first", "_run_last", "_run_subject")


def lesson_patterns(
    lessons: pl.LazyFrame, *, window: pl.LazyFrame | None = None, fdr: float = FDR
) -> pl.LazyFrame:
    """Per pupil: the lesson flags raised and the strongest lesson-level finding.

    Parameters
    ----------
    lessons
        The lesson frame (:data:`LESSON_SCHEMA`).
    window
        ``pupil_id`` and ``date`` of the days to look at; None: every day.
    fdr
        The Benjamini-Hochberg false-discovery level over every lesson test of the run.

    Returns
    -------
    pl.LazyFrame
        ``pupil_id``, ``lesson_flags`` (``lesson``, ``leaves_early``, ``arrives_late``, those
        raised, ``;``-separated) and :data:`LESSON_PATTERN_COLUMNS`: the strongest finding (the
        significant cell with the smallest p-value) as its flag, its weekday (empty: every day),
        its first and last lesson numbers (a run of significant lesson numbers for ``lesson``), its
        subject (a subject cell's, or the subject of three in four of a run's lessons) and
        ``lesson_q``, the smallest adjusted p-value of the pupil's lesson tests. One row per pupil
        with a lesson on a day with some attendance in the window.

    Examples
    --------
    Absent from lessons 5 and 6 on twelve of twenty Wednesdays, and one other lesson a week:

    >>> from datetime import date, timedelta
    >>> days = [date(2024, 1, 1) + timedelta(days=i) for i in range(140) if i % 7 < 5]
    >>> rows = [
    ...     (d, n, (d.weekday() == 2 and n >= 5 and i % 5 < 3) or (n == 1 + i % 6 and i % 5 == 4))
    ...     for i, d in enumerate(days) for n in range(1, 7)
    ... ]
    >>> lessons = pl.LazyFrame(
    ...     {"pupil_id": ["7"] * len(rows), "date": [r[0] for r in rows],
    ...      "lesson_number": [r[1] for r in rows],
    ...      "subject": ["Idræt" if r[0].weekday() == 2 and r[1] >= 5 else "Dansk" for r in rows],
    ...      "absent": [r[2] for r in rows]}
    ... )
    >>> found = lesson_patterns(lessons).collect()
    >>> found.select("lesson_flags", "lesson_weekday", "lesson_first", "lesson_last").row(0)
    ('lesson;leaves_early', 'wednesday', 5, 6)
    """
    rows = _attended_lessons(lessons, window)
    tests = _tests(rows, fdr=fdr).with_columns(
        pl.col(KIND).replace_strict(_KIND_ORDER, return_dtype=pl.Int64).alias(_ORDER)
    )
    significant = pl.col("q") <= fdr
    flag = pl.col(KIND).replace_strict(FLAG_OF_KIND, return_dtype=pl.String)
    raised = [
        pl.when((flag == name) & significant).then(pl.lit(name)).max().alias(name)
        for name in LESSON_FLAGS
    ]
    # Within a group rows keep their order: the strongest significant finding first.
    strongest = [
        pl.col(c).filter(significant).first().alias(c)
        for c in (KIND, WEEKDAY, FIRST, LAST, SUBJECT)
    ]
    per_pupil = (
        tests.sort("p", _ORDER)
        .group_by(s.PUPIL_ID)
        .agg(pl.col("q").min().alias(LESSON_Q), *raised, *strongest)
    )
    pupils = rows.select(s.PUPIL_ID).unique()
    weekday_name = pl.col(WEEKDAY).replace_strict(
        dict(enumerate(WEEKDAY_NAMES, start=1)), default=None, return_dtype=pl.String
    )
    return pupils.join(per_pupil, on=s.PUPIL_ID, how="left").select(
        s.PUPIL_ID,
        pl.concat_str(list(LESSON_FLAGS), separator=";", ignore_nulls=True)
        .fill_null("")
        .alias(LESSON_FLAGS_COLUMN),
        pl.col(KIND)
        .replace_strict(FLAG_OF_KIND, default=None, return_dtype=pl.String)
        .alias(LESSON_PATTERN),
        weekday_name.alias(LESSON_WEEKDAY),
        pl.col(FIRST).alias(LESSON_FIRST),
        pl.col(LAST).alias(LESSON_LAST),
        pl.col(SUBJECT).alias(LESSON_SUBJECT),
        pl.col(LESSON_Q),
    )


def with_lesson_patterns(
    found: pl.LazyFrame, lessons: pl.LazyFrame, *, window: pl.LazyFrame, fdr: float = FDR
) -> pl.LazyFrame:
    """``fravaer patterns``' result with the lesson flags added to ``flags`` (after the day
    flags) and the :data:`LESSON_PATTERN_COLUMNS` of :func:`lesson_patterns` added at the end.

    ``window`` is the pattern window (``pupil_id``, ``date``); a pupil without lessons in it
    gets empty lesson columns and no lesson flag.
    """
    per_pupil = lesson_patterns(lessons, window=window, fdr=fdr)
    parts = [pl.col(FLAGS), pl.col(LESSON_FLAGS_COLUMN)]
    flags = pl.concat_str(
        [pl.when(part.fill_null("") != "").then(part) for part in parts],
        separator=";",
        ignore_nulls=True,
    ).fill_null("")
    return (
        found.join(per_pupil, on=s.PUPIL_ID, how="left", maintain_order="left")
        .with_columns(flags.alias(FLAGS))
        .drop(LESSON_FLAGS_COLUMN)
    )


def lesson_columns(found: pl.LazyFrame) -> tuple[str, ...]:
    """The lesson columns a ``fravaer patterns`` result carries: :data:`LESSON_PATTERN_COLUMNS`
    for a lesson-level export's (:func:`with_lesson_patterns`), none for a day-level one. What
    ``fravaer early-warning`` passes on, so its list names the lesson pattern as ``patterns``
    does and a day-level export's output stays as it was.

    >>> day_level = pl.LazyFrame({"pupil_id": ["7"], "flags": [""]})
    >>> lesson_columns(day_level)
    ()
    >>> lesson_level = day_level.with_columns(pl.lit(None).alias(c) for c in LESSON_PATTERN_COLUMNS)
    >>> lesson_columns(lesson_level) == LESSON_PATTERN_COLUMNS
    True
    """
    names = found.collect_schema().names()
    return tuple(c for c in LESSON_PATTERN_COLUMNS if c in names)
