"""stats() equals the naive reference, and suppression never leaves one hidden cell in a line."""

from __future__ import annotations

import re
from datetime import date, timedelta
from fractions import Fraction
from itertools import combinations

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fravaer.classify import school_dates
from fravaer.errors import UsageError
from fravaer.ingest.policy import load_policy
from fravaer.stats import (
    MUNICIPALITY,
    PUPILS,
    SUPPRESSED,
    Period,
    contract_columns,
    freshness,
    hidden_cells,
    parse_by,
    parse_period,
    parse_periods,
    reference_for,
    stats,
    suppress,
    whole_months,
)
from tests import reference, reference_stats
from tests.profiles import examples
from tests.reference import Row, to_frame
from tests.reference_suppression import attack, attack_all
from tests.test_classify import day_rows, make_policy

START = date(2024, 1, 1)  # a Monday; the pool spans two quarters' ends and 1 August
POOL = [START + timedelta(days=i) for i in range(240)]
THRESHOLDS = (10, 15, 20)
BYS = ["school", "grade", "class", "school,grade", "grade,class", "school,grade,class"]


@st.composite
def attendance(draw: st.DrawFn) -> list[Row]:
    """Pupils on random days, some changing school, grade up by one from 1 August, partial days."""
    rng = draw(st.randoms(use_true_random=False))
    rows: list[Row] = []
    for p in range(draw(st.integers(1, 8))):
        pupil = rng.choice(["0", "00", "007"]) + str(p)
        first = rng.randrange(0, 150)
        last = rng.randrange(first, len(POOL))
        dates = [d for d in POOL[first : last + 1] if rng.random() < 0.8]
        schools = rng.sample(["A", "B", "C"], k=2)
        move = rng.randrange(0, len(dates) + 1) if rng.random() < 0.4 else len(dates)
        grade = rng.randrange(0, 10)
        for i, day in enumerate(dates):
            school = schools[1] if i >= move else schools[0]
            second = schools[1] if i == move else school
            this_grade = grade + 1 if day >= date(2024, 8, 1) else grade
            rows += day_rows(rng, pupil, school, day, this_grade, second_school=second)
    rng.shuffle(rows)
    return rows


def periods() -> st.SearchStrategy[Period]:
    fixed = st.sampled_from(["2023/24", "2024/25", "2024Q1", "2024Q2", "2024Q3"]).map(parse_period)
    ranged = st.tuples(st.integers(0, 239), st.integers(0, 239)).map(
        lambda ab: parse_period(f"{POOL[min(ab)].isoformat()}:{POOL[max(ab)].isoformat()}")
    )
    return st.one_of(fixed, ranged)


def close(got: object, want: object) -> bool:
    if want is None or got is None:
        return got is want
    if isinstance(want, Fraction):
        return isinstance(got, float) and abs(got - float(want)) <= 1e-9 * max(1.0, abs(want))
    return got == want


def fast_stats(
    rows: list[Row], keys: tuple[str, ...], period: Period, as_of: date, window: int, min_days: int
) -> dict[tuple[object, ...] | None, dict[str, object]]:
    policy = make_policy(window, THRESHOLDS, min_days)
    out = stats(to_frame(rows), by=keys, periods=[period], as_of=as_of, policy=policy).collect()
    assert out.columns == [*contract_columns(keys, policy), MUNICIPALITY]
    got: dict[tuple[object, ...] | None, dict[str, object]] = {}
    for row in out.iter_rows(named=True):
        assert row["period"] == period.label
        assert row[SUPPRESSED] is False
        key = None if row[MUNICIPALITY] else tuple(row[k] for k in keys)
        assert key not in got
        got[key] = row
    return got


@settings(max_examples=examples(100), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=attendance(),
    by=st.sampled_from(BYS),
    period=periods(),
    as_of_offset=st.one_of(st.integers(-3, 243), st.integers(150, 243)),
    window=st.sampled_from([5, 20, 100]),
    min_days=st.sampled_from([1, 10]),
)
def test_stats_equals_reference(
    rows: list[Row], by: str, period: Period, as_of_offset: int, window: int, min_days: int
) -> None:
    keys = parse_by(by)
    as_of = START + timedelta(days=as_of_offset)
    if period.start > as_of:
        return  # refused by parse_periods
    ref_policy = reference.aalborg_like(window, tuple(map(Fraction, THRESHOLDS)), min_days)
    want = reference_stats.stats(
        rows, keys=keys, first=period.start, end=period.end, as_of=as_of, policy=ref_policy
    )
    got = fast_stats(rows, keys, period, as_of, window, min_days)

    assert got.keys() == want.keys()
    for key, figures in want.items():
        for column, value in figures.items():
            assert close(got[key][column], value), (key, column, got[key][column], value)


@st.composite
def on_a_band_boundary(draw: st.DrawFn) -> tuple[list[Row], Fraction]:
    """One pupil whose period absence is exactly 5 % or 10 %, or 1/1000 day off it."""
    days = draw(st.sampled_from([20, 40, 60, 100]))
    target_pct = draw(st.sampled_from([Fraction(5), Fraction(10)]))
    delta = draw(st.sampled_from([Fraction(0), Fraction(1, 1000), Fraction(-1, 1000)]))
    piece = draw(st.sampled_from([Fraction(1), Fraction(1, 2), Fraction(1, 4), Fraction(1, 10)]))
    absent = target_pct * days / 100 + delta
    count = int(absent / piece)
    if count + 1 > days:
        piece, count = Fraction(1), int(absent)
    pieces = [piece] * count
    if absent - count * piece:
        pieces.append(absent - count * piece)  # a partial day: 3 decimals, exact in day units
    dates = POOL[:days]
    rng = draw(st.randoms(use_true_random=False))
    absent_dates = rng.sample(dates, k=len(pieces))
    rows = [
        Row("0042", "A", d, rng.choice(reference.ABSENCE), f, 3, "3.A")
        for d, f in zip(absent_dates, pieces, strict=True)
    ]
    rows += [
        Row("0042", "A", d, "present", Fraction(0), 3, "3.A")
        for d in dates
        if d not in absent_dates
    ]
    rng.shuffle(rows)
    return rows, 100 * absent / days


@settings(max_examples=examples(150), deadline=None)
@given(case=on_a_band_boundary())
def test_bands_are_exact_at_5_and_10_percent(case: tuple[list[Row], Fraction]) -> None:
    rows, exact = case
    period = parse_period(f"{POOL[0].isoformat()}:{POOL[-1].isoformat()}")
    got = fast_stats(rows, ("school_id",), period, POOL[-1], 100, 1)[None]
    bands = (got["pupils_0_5"], got["pupils_5_10"], got["pupils_over_10"])
    assert bands == ((1, 0, 0) if exact <= 5 else (0, 1, 0) if exact <= 10 else (0, 0, 1))
    ref = reference_stats.stats(
        rows,
        keys=("school_id",),
        first=POOL[0],
        end=POOL[-1],
        as_of=POOL[-1],
        policy=reference.aalborg_like(100, tuple(map(Fraction, THRESHOLDS)), 1),
    )[None]
    assert (ref["pupils_0_5"], ref["pupils_5_10"], ref["pupils_over_10"]) == bands


def test_ten_percent_is_the_5_10_band_but_step_1() -> None:
    """The ministry's band is 'over 10 %'; the guideline's step is '10 % or more'."""
    days = POOL[:100]
    rows = [
        Row("1", "A", d, "illness" if i < 10 else "present", Fraction(int(i < 10)), 1, "1.A")
        for i, d in enumerate(days)
    ]
    period = parse_period(f"{days[0].isoformat()}:{days[-1].isoformat()}")
    out = stats(
        to_frame(rows),
        by=["school_id"],
        periods=[period],
        as_of=days[-1],
        policy=load_policy("aalborg-2023"),
    ).collect()
    assert out.select("absence_pct", "pupils_5_10", "pupils_over_10", "pupils_step_1").row(0) == (
        10.0,
        1,
        0,
        1,
    )


def test_a_pupil_who_changed_school_counts_at_each_for_its_own_days() -> None:
    days = POOL[:40]
    rows = [
        Row("1", "A", d, "illness" if i < 4 else "present", Fraction(int(i < 4)), 1, "1.A")
        for i, d in enumerate(days[:20])
    ]
    rows += [Row("1", "B", d, "present", Fraction(0), 1, "1.A") for d in days[20:]]
    out = stats(
        to_frame(rows),
        by=["school_id"],
        periods=[parse_period("2024Q1")],
        as_of=days[-1],
        policy=load_policy("aalborg-2023"),
    ).collect()
    figures = out.select("school_id", "pupils", "school_days", "absence_pct").rows()
    assert figures[:2] == [("A", 1, 20, 20.0), ("B", 1, 20, 0.0)]
    assert figures[2][:3] == (None, 2, 40)
    # The step (4 of 40 days: 10 %) counts where the pupil was last registered: school B.
    assert out["pupils_step_1"].to_list() == [0, 1, 1]


def test_the_ministry_weights_by_months_and_pooling_by_days() -> None:
    """Pupil 1: 10 days in January, 50 % absent; pupil 2: 40 days over 2 months, none absent."""
    january = [d for d in POOL if d.month == 1 and d.weekday() < 5][:10]
    two_months = [d for d in POOL if d.month in (2, 3)][:40]
    rows = [
        Row("1", "A", d, "illness" if i % 2 else "present", Fraction(i % 2), 1, "1.A")
        for i, d in enumerate(january)
    ]
    rows += [Row("2", "A", d, "present", Fraction(0), 1, "1.A") for d in two_months]
    out = stats(
        to_frame(rows),
        by=["school_id"],
        periods=[parse_period("2024Q1")],
        as_of=POOL[100],
        policy=load_policy("aalborg-2023"),
    ).collect()
    ministry, pooled = out.select("absence_pct", "absence_pct_pooled").row(0)
    assert ministry == pytest.approx(50 * 1 / 3)  # weights 1 and 2 months
    assert pooled == pytest.approx(100 * 5 / 50)


# -- suppression ----------------------------------------------------------------------------


def table_lines(cells: list[tuple[object, ...]], keys: tuple[str, ...]) -> list[list[int]]:
    """Rows and columns of the table, written out independently of stats.lines."""
    if len(keys) == 1:
        return [list(range(len(cells)))]
    out: list[list[int]] = []
    for d in range(len(keys)):
        others = [j for j in range(len(keys)) if j != d]
        if keys[d] == "school_id" and "class_name" in keys:
            continue  # a class across schools is no grouping anyone can publish
        values = {tuple(c[j] for j in others) for c in cells}
        for value in values:
            out.append([i for i, c in enumerate(cells) if tuple(c[j] for j in others) == value])
    return out


@st.composite
def grouped_sizes(draw: st.DrawFn) -> tuple[tuple[str, ...], list[tuple[object, ...]], list[int]]:
    keys = draw(
        st.sampled_from(
            [("school_id",), ("grade",), ("school_id", "grade"), ("school_id", "class_name")]
        )
    )
    if len(keys) == 1:
        n = draw(st.integers(1, 12))
        cells: list[tuple[object, ...]] = [(f"S{i}",) for i in range(n)]
    else:
        schools = draw(st.integers(1, 6))
        seconds = draw(st.integers(1, 6))
        grid = [(f"S{i}", j) for i in range(schools) for j in range(seconds)]
        cells = draw(st.lists(st.sampled_from(grid), min_size=1, max_size=len(grid), unique=True))
    sizes = draw(st.lists(st.integers(1, 40), min_size=len(cells), max_size=len(cells)))
    return keys, cells, sizes


@settings(max_examples=examples(200), deadline=None)
@given(case=grouped_sizes(), min_cell=st.integers(5, 15))
def test_no_hidden_cell_can_be_recovered_from_a_line_total(
    case: tuple[tuple[str, ...], list[tuple[object, ...]], list[int]], min_cell: int
) -> None:
    keys, cells, sizes = case
    hidden = hidden_cells(cells, sizes, keys, min_cell=min_cell)

    assert {i for i, n in enumerate(sizes) if n < min_cell} <= hidden  # small cells are hidden
    for line in table_lines(cells, keys):
        total = sum(sizes[i] for i in line)  # the line's total, shown or published elsewhere
        shown = sum(sizes[i] for i in line if i not in hidden)
        missing = [i for i in line if i in hidden]
        # With one hidden cell, total - shown would be its value. A line of one cell has the
        # cell's own value as its total: not shown here (see docs/stats.md, known limits).
        assert len(missing) != 1 or len(line) == 1, (line, missing)
        if len(missing) >= 2:
            assert all(total - shown != sizes[i] for i in missing)


@settings(max_examples=examples(60), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=attendance(), by=st.sampled_from(BYS[:4]), min_cell=st.integers(5, 12))
def test_suppressed_rows_are_null_and_marked_not_zeroed(
    rows: list[Row], by: str, min_cell: int
) -> None:
    keys = parse_by(by)
    policy = load_policy("aalborg-2023")
    table = stats(
        to_frame(rows), by=keys, periods=[parse_period("2024Q1")], as_of=POOL[-1], policy=policy
    ).collect()
    out = suppress(table, keys=keys, min_cell=min_cell)

    assert out.select(*keys, "period").equals(table.select(*keys, "period"))
    figures = [c for c in contract_columns(keys, policy) if c not in (*keys, "period", SUPPRESSED)]
    for before, after in zip(table.iter_rows(named=True), out.iter_rows(named=True), strict=True):
        if after[SUPPRESSED]:
            assert all(after[c] is None for c in figures)
        else:
            assert all(after[c] == before[c] for c in figures)
        if 0 < before[PUPILS] < min_cell:
            assert after[SUPPRESSED]
    groups = out.filter(~pl.col(MUNICIPALITY))
    if groups.height >= 1 and len(keys) == 1:
        assert (
            groups[SUPPRESSED].sum() != 1
            or table.filter(pl.col(MUNICIPALITY))[PUPILS].item() < min_cell
        )


# -- suppression across the levels of one output -------------------------------------------

GROUPINGS = [
    ("school_id",),
    ("grade",),
    ("school_id", "class_name"),
    ("school_id", "grade"),
    ("school_id", "grade", "class_name"),
]


Class = tuple[str, int, str, int, int]  # school, grade, class, pupils, pupils who leave
WEEKS = ("2024-01-08:2024-01-19", "2024-01-08:2024-01-12", "2024-01-15:2024-01-19")
SPANS = {p: (date.fromisoformat(p[:10]), date.fromisoformat(p[11:])) for p in WEEKS}


@st.composite
def municipalities(draw: st.DrawFn, min_cell: int) -> list[Class]:
    """Classes of 1, 2, min_cell - 1, min_cell, min_cell + 1 or up to 40 pupils."""
    sizes = [1, 2, min_cell - 1, min_cell, min_cell + 1]
    size = st.one_of(st.sampled_from(sizes), st.integers(1, 40))
    classes = []
    for school in range(draw(st.integers(1, 5))):
        grades = draw(st.lists(st.integers(0, 3), min_size=1, max_size=4))
        for n, grade in enumerate(grades):
            pupils = draw(size)
            leaving = draw(st.integers(0, pupils))
            classes.append((f"S{school}", grade, f"{grade}.{'ABCD'[n]}", pupils, leaving))
    return classes


def published_table(classes: list[Class], keys: tuple[str, ...], layout: str) -> pl.DataFrame:
    """A table shaped as stats() returns it, for one period, two, or a fortnight and its weeks.

    In the weeks, the leaving pupils are there in the first only; a class's school days in the
    fortnight are those of its weeks added up.
    """
    column = {"school_id": 0, "grade": 1, "class_name": 2}
    periods: list[tuple[str, list[tuple[Class, int, int]]]]  # class, pupils, school days
    if layout == "one":
        periods = [("2024Q1", [(c, c[3], 37 * c[3] + i) for i, c in enumerate(classes)])]
    elif layout == "two":
        periods = [
            ("2024Q1", [(c, c[3], 37 * c[3] + i) for i, c in enumerate(classes)]),
            ("2024Q2", [(c, c[3] - 1, 30 * (c[3] - 1)) for c in classes]),
        ]
    else:
        first = [(c, c[3], 5 * c[3]) for c in classes]
        second = [(c, c[3] - c[4], 5 * (c[3] - c[4]) - (c[3] > c[4])) for c in classes]
        both = [(c, c[3], a[2] + b[2]) for c, a, b in zip(classes, first, second, strict=True)]
        periods = list(zip(WEEKS, [both, first, second], strict=True))
    rows: list[dict[str, object]] = []
    for label, counted in periods:
        groups: dict[tuple[object, ...], tuple[int, int]] = {}
        for c, pupils, days in counted:
            if pupils > 0:
                key = tuple(c[column[k]] for k in keys)
                before = groups.get(key, (0, 0))
                groups[key] = (before[0] + pupils, before[1] + days)
        for key, (pupils, days) in sorted(groups.items()):
            group = dict(zip(keys, key, strict=True))
            rows.append({**group, "period": label, PUPILS: pupils, "school_days": days})
        pupils, days = (sum(v[j] for v in groups.values()) for j in (0, 1))
        rows.append({**dict.fromkeys(keys), "period": label, PUPILS: pupils, "school_days": days})
    schema = {"school_id": pl.String, "grade": pl.Int8, "class_name": pl.String}
    return pl.DataFrame(rows, schema_overrides=schema).with_columns(
        pl.all_horizontal(pl.col(k).is_null() for k in keys).alias(MUNICIPALITY),
        pl.lit(False).alias(SUPPRESSED),
    )


def coarser(keys: tuple[str, ...]) -> list[tuple[str, ...]]:
    """The other groupings whose groups these groups add up to (a class across schools is none)."""
    return [
        level
        for n in range(1, len(keys))
        for level in combinations(keys, n)
        if "class_name" not in level or "school_id" in level
    ]


def protected_lines(
    rows: list[dict[str, object]], keys: tuple[str, ...], elsewhere: set[tuple[object, ...]]
) -> list[tuple[list[int], int]]:
    """Lines as (rows, hidden totals): per period all groups with the municipality row, the
    rows and columns of the groups (their total hidden when ``elsewhere`` holds its period and
    values), and each group (and the municipality) in the fortnight with its weeks."""
    out: list[tuple[list[int], int]] = []
    for period in dict.fromkeys(str(r["period"]) for r in rows):
        part = [i for i, r in enumerate(rows) if r["period"] == period]
        groups = [i for i in part if not rows[i][MUNICIPALITY]]
        out.append((part, 0))
        for column in keys if len(keys) > 1 else ():
            rest = tuple(k for k in keys if k != column)
            if column == "school_id" and "class_name" in keys:
                continue  # a class across schools is no grouping anyone can publish
            for value in dict.fromkeys(tuple(rows[i][k] for k in rest) for i in groups):
                line = [i for i in groups if tuple(rows[i][k] for k in rest) == value]
                out.append((line, int((period, rest, *value) in elsewhere)))
    by_group: dict[tuple[object, ...], list[int]] = {}
    for i, r in enumerate(rows):
        if r["period"] in WEEKS:
            by_group.setdefault(tuple(r[k] for k in keys), []).append(i)
    return out + [(line, 0) for line in by_group.values()]


@settings(max_examples=examples(150), deadline=None, derandomize=True)
@given(
    data=st.data(),
    keys=st.sampled_from(GROUPINGS),
    min_cell=st.integers(5, 12),
    layout=st.sampled_from(["one", "two", "weeks"]),
)
def test_no_hidden_group_can_be_worked_out_from_one_output(
    data: st.DataObject, keys: tuple[str, ...], min_cell: int, layout: str
) -> None:
    classes = data.draw(municipalities(min_cell))
    table = published_table(classes, keys, layout)
    out = suppress(table, keys=keys, min_cell=min_cell)
    rows = out.to_dicts()
    sizes = table[PUPILS].to_list()
    hidden = {i for i, r in enumerate(rows) if r[SUPPRESSED]}
    spans = SPANS if layout == "weeks" else None

    # Every small group is hidden, and nothing else when no group is small.
    assert {i for i, n in enumerate(sizes) if 0 < n < min_cell} <= hidden
    if all(n >= min_cell for n in sizes):
        assert not hidden
    # A reader of this output works out no hidden group's pupils or school days.
    assert attack(rows, keys, spans=spans) == {}
    # Classes nest in schools: a reader who also has --by school of the same data and periods
    # works out nothing either. (Not so in general: a group alone in its grade column of
    # --by school,grade equals the grade's total in --by grade; see docs/stats.md.)
    others = {
        level: suppress(published_table(classes, level, layout), keys=level, min_cell=min_cell)
        for level in coarser(keys)
    }
    if keys == ("school_id", "class_name"):
        published = [(rows, keys), (others["school_id",].to_dicts(), ("school_id",))]
        assert attack_all(published, spans=spans) == {}
    # Each complement is needed: some line hides exactly it and one other member (a row or a
    # total another grouping hides), so showing it would give that other away.
    elsewhere = {
        (r["period"], level, *(r[k] for k in level))
        for level, o in others.items()
        for r in o.to_dicts()
        if r[SUPPRESSED] and not r[MUNICIPALITY]
    }
    counts = [
        (line, len(hidden.intersection(line)) + extra, len(line) + extra)
        for line, extra in protected_lines(rows, keys, elsewhere)
    ]
    assert all(n != 1 or members == 1 for line, n, members in counts), counts
    for i in hidden:
        if sizes[i] >= min_cell:
            assert any(i in line and n == 2 for line, n, _ in counts), (i, sizes[i])


def test_a_school_with_one_class_is_protected_by_the_others() -> None:
    classes = [
        ("A", 1, "1.A", 12, 0),
        ("A", 2, "2.A", 14, 0),
        ("A", 3, "3.A", 30, 0),
        ("B", 1, "1.A", 13, 0),
        ("B", 2, "2.A", 15, 0),
        ("C", 5, "S.1", 1, 0),
    ]
    keys = ("school_id", "class_name")
    rows = suppress(published_table(classes, keys, "one"), keys=keys, min_cell=10).to_dicts()
    schools = suppress(
        published_table(classes, ("school_id",), "one"), keys=("school_id",), min_cell=10
    ).to_dicts()

    # --by school hides C (one pupil) and B, the smallest other school (or the municipality
    # minus A and B would give C).
    assert [r["school_id"] for r in schools if r[SUPPRESSED]] == ["B", "C"]
    # --by school,class hides the lone class, and one of B's: B's total is hidden in --by
    # school, so one of its classes is enough, and showing both would give that total away.
    # The municipality stays.
    hidden = [(r["school_id"], r["class_name"]) for r in rows if r[SUPPRESSED]]
    assert hidden == [("B", "1.A"), ("C", "S.1")]
    assert attack(rows, keys) == {}
    assert attack_all([(rows, keys), (schools, ("school_id",))]) == {}


# -- periods, groupings, freshness, reference -----------------------------------------------


@pytest.mark.parametrize(
    ("text", "label", "start", "end"),
    [
        ("2023/24", "2023/24", date(2023, 8, 1), date(2024, 7, 31)),
        ("2024Q1", "2024Q1", date(2024, 1, 1), date(2024, 3, 31)),
        ("2024q4", "2024Q4", date(2024, 10, 1), date(2024, 12, 31)),
        ("2024-01-08:2024-02-29", "2024-01-08:2024-02-29", date(2024, 1, 8), date(2024, 2, 29)),
    ],
)
def test_periods_are_read(text: str, label: str, start: date, end: date) -> None:
    period = parse_period(text)
    assert (period.label, period.start, period.end) == (label, start, end)


@pytest.mark.parametrize(
    "text", ["2023/25", "2024Q5", "2024-02-30:2024-03-01", "2024-03-01:2024-02-01", "last year"]
)
def test_bad_periods_are_usage_errors(text: str) -> None:
    with pytest.raises(UsageError, match=f"^--period: .*'{re.escape(text)}'"):
        parse_periods(text, as_of=date(2024, 3, 8))


def test_periods_after_the_as_of_date_are_refused() -> None:
    with pytest.raises(UsageError, match="starts after"):
        parse_periods("2024Q2", as_of=date(2024, 3, 8))


def test_class_brings_its_school() -> None:
    assert parse_by("class") == ("school_id", "class_name")
    with pytest.raises(UsageError, match=r"^--by: unknown grouping 'pupil'$"):
        parse_by("pupil")


def test_freshness_counts_school_days_behind_the_newest() -> None:
    days = POOL[:30]
    rows = [Row("1", "A", d, "present", Fraction(0)) for d in days]
    rows += [Row("2", "B", d, "present", Fraction(0)) for d in days[:22]]
    out = freshness(to_frame(rows), as_of=days[-1]).collect()
    assert out.rows() == [("A", days[-1], 0), ("B", days[21], 8)]


@settings(max_examples=examples(100), deadline=None)
@given(
    st.lists(st.tuples(st.sampled_from("ABC"), st.integers(0, 40)), max_size=60),
    st.integers(-2, 42),
)
def test_freshness_equals_a_loop_from_the_rows_or_the_schools_dates(
    cells: list[tuple[str, int]], as_of_offset: int
) -> None:
    start = date(2024, 1, 1)
    rows = pl.LazyFrame(
        {
            "school_id": [school for school, _ in cells],
            "date": [start + timedelta(days=n) for _, n in cells],
        },
        schema={"school_id": pl.String, "date": pl.Date},
    )
    as_of = start + timedelta(days=as_of_offset)
    kept = [(school, start + timedelta(days=n)) for school, n in cells]
    kept = [(school, day) for school, day in kept if day <= as_of]
    dates = {day for _, day in kept}
    expected = []
    for school in sorted({school for school, _ in kept}):
        latest = max(day for other, day in kept if other == school)
        expected.append((school, latest, sum(1 for day in dates if day > latest)))

    # The stats and the site give it each school's dates, read with the as-of date.
    for given_days in (None, school_dates(rows).collect()):
        assert freshness(rows, as_of=as_of, school_days=given_days).collect().rows() == expected


def test_reference_falls_back_to_the_latest_earlier_school_year() -> None:
    ref = pl.DataFrame(
        {
            "period": ["2021/22", "2021/22", "2022/23"],
            "measure": ["absence_pct", "share_over_10", "absence_pct"],
            "value": [8.0, 25.2, 7.0],
            "source": ["a", "b", "c"],
        }
    )
    assert reference_for(ref, parse_period("2021/22")).share_over_10 == 25.2  # type: ignore[union-attr]
    later = reference_for(ref, parse_period("2024Q1"))
    assert later is not None
    assert (later.period, later.absence_pct) == ("2022/23", 7.0)
    assert reference_for(ref, parse_period("2020/21")) is None


@pytest.mark.parametrize("by", [["school_id"], ["school_id", "class_name"], ["school_id", "grade"]])
def test_a_given_classification_gives_the_same_statistics(by: list[str]) -> None:
    """The site hands stats its one classification (with the national rule): the same table."""
    from pathlib import Path

    from fravaer.classify import classify
    from fravaer.ingest import read_export

    frame = read_export(Path(__file__).parents[1] / "examples" / "demo-export.csv")
    policy = load_policy("aalborg-2023")
    as_of = date(2024, 3, 8)
    periods = [parse_period("2023/24"), parse_period("2023-08-01:2024-01-31")]
    given_steps = classify(
        frame, policy=policy, national=load_policy("national-unlawful"), as_of=as_of
    )
    expected = stats(frame, by=by, periods=periods, as_of=as_of, policy=policy).collect()
    got = stats(
        frame, by=by, periods=periods, as_of=as_of, policy=policy, classified=given_steps
    ).collect()
    assert got.equals(expected)
    assert got.height > 3


def months_of_pool() -> st.SearchStrategy[Period]:
    """A range of whole calendar months within the pool (January to August 2024)."""
    return st.tuples(st.integers(1, 8), st.integers(1, 8)).map(
        lambda ab: parse_period(
            f"{date(2024, min(ab), 1).isoformat()}:"
            f"{(date(2024 + max(ab) // 12, max(ab) % 12 + 1, 1) - timedelta(days=1)).isoformat()}"
        )
    )


def naive_whole_months(period: Period, as_of: date) -> bool:
    """Every month the period counts is counted from its first day to its last, or to as_of."""
    until = min(period.end, as_of)
    counted = {period.start + timedelta(days=i) for i in range((until - period.start).days + 1)}
    for day in counted:
        first = day.replace(day=1)
        month = {first + timedelta(days=i) for i in range(31)}
        whole = {d for d in month if d.month == first.month and d <= as_of}
        if not whole <= counted:
            return False
    return True


@settings(max_examples=examples(300), deadline=None)
@given(
    period=st.one_of(periods(), months_of_pool()),
    as_of_offset=st.integers(-3, 243),
)
def test_whole_months_are_the_periods_of_complete_months(period: Period, as_of_offset: int) -> None:
    as_of = START + timedelta(days=as_of_offset)
    if period.start > as_of:
        return
    assert whole_months(period, as_of=as_of) == naive_whole_months(period, as_of)


@settings(max_examples=examples(30), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=attendance(),
    by=st.sampled_from(BYS),
    chosen=st.lists(st.one_of(periods(), months_of_pool()), min_size=2, max_size=4),
    as_of_offset=st.one_of(st.integers(-3, 243), st.integers(150, 243)),
    parts=st.sampled_from([1, 2]),
)
def test_several_periods_are_each_period_alone(
    rows: list[Row], by: str, chosen: list[Period], as_of_offset: int, parts: int
) -> None:
    # Periods of whole months share one month level (stats, docs/performance.md#the-site):
    # each period's rows are still those it gives alone.
    keys = parse_by(by)
    as_of = START + timedelta(days=as_of_offset)
    chosen = [p for p in chosen if p.start <= as_of]
    if not chosen:
        return
    policy = make_policy(20, THRESHOLDS, 10)
    frame = to_frame(rows)
    together = stats(frame, by=keys, periods=chosen, as_of=as_of, policy=policy, parts=parts)
    alone = [
        stats(frame, by=keys, periods=[p], as_of=as_of, policy=policy, parts=parts) for p in chosen
    ]
    expected = pl.concat([a.collect() for a in alone], how="vertical_relaxed")
    assert together.collect().equals(expected)
    # The schools' dates as the run reads them (every row, those after as_of too): the same.
    days = school_dates(frame).collect()
    given_days = stats(
        frame, by=keys, periods=chosen, as_of=as_of, policy=policy, parts=parts, school_days=days
    )
    assert given_days.collect().equals(expected)
