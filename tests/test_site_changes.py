"""`fravaer site` with a comparison, the agenda for Samrum and the municipality's trend
(docs/site.md): every figure equals the commands' own machine output for the same data —
``escalate --since``/``--state``, ``stats --period``, ``classify``, ``trend`` and ``patterns``.

The pages are read as in tests/test_site.py: tables by id, cells with their exact
``data-value``.
"""

from __future__ import annotations

import re
import shutil
import stat
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from tests.test_site import (
    DEMO,
    ERROR,
    HOSTILE,
    NAMES,
    Page,
    body,
    close,
    csv,
    read_page,
    run,
    values,
)

SINCE = "2024-02-09"
AS_OF = "2024-03-08"
PARTS = "2023-08-01:2023-09-30,2023-10-01:2023-12-31,2024-01-01:2024-03-31"
"""The example's school year 2023/24 in the parts of the municipality's trend, up to its as-of
date (docs/site.md#the-municipality)."""


@pytest.fixture(scope="module")
def key(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.harden import KEY_HEX

    path = tmp_path_factory.mktemp("key") / "token.key"
    path.write_text(KEY_HEX)
    path.chmod(0o600)
    return path


@pytest.fixture(scope="module")
def since_site(tmp_path_factory: pytest.TempPathFactory, key: Path) -> Path:
    out = tmp_path_factory.mktemp("since") / "out"
    result = run(
        "site", DEMO, "-o", out, "--school-names", NAMES, "--key-file", key, "--since", SINCE
    )
    assert result.exit_code == 0, result.output
    assert re.search(
        r"\d+ escalation\(s\) and \d+ improvement\(s\) since 2024-02-09", result.stderr
    )
    return out


@pytest.fixture(scope="module")
def escalated() -> pl.DataFrame:
    return csv("escalate", DEMO, "--since", SINCE)


def folders(site: Path) -> list[Path]:
    return sorted(p for p in site.iterdir() if p.is_dir())


def ids(frame: pl.DataFrame) -> list[str]:
    return [str(p).zfill(7) for p in frame["pupil_id"].to_list()]


def rows_of(page: Page, table: str) -> list:
    return body(page, table) if table in page.tables else []


# -- escalations and improvements -----------------------------------------------------------------


def check_changes(site: Path, expected: pl.DataFrame) -> int:
    """Each school's escalations and improvements are ``escalate``'s rows of that school,
    ordered as the school's list (step, then absence %, highest first, then pupil id), and each
    escalated pupil is named under exactly the new steps whose actions make up ``escalate``'s
    ``actions``; returns how many rows were compared."""
    compared = 0
    for folder in folders(site):
        page = read_page(folder / "index.html")
        own = expected.filter(pl.col("school_id").cast(pl.String) == folder.name)
        own = own.sort(
            [
                pl.col("step"),
                pl.col("absence_pct"),
                pl.col("pupil_id").cast(pl.String).str.zfill(7),
            ],
            descending=[True, True, False],
            nulls_last=True,
        )
        for table, change in (("escalations", "escalation"), ("improvements", "improvement")):
            wanted = own.filter(pl.col("change") == change)
            shown = rows_of(page, table)
            assert [r.attrs["data-pupil"] for r in shown] == ids(wanted), (folder, table)
            for row, exp in zip(shown, wanted.iter_rows(named=True), strict=True):
                got = values(row)
                assert close(got[0], exp["previous_step"]), (row, exp)
                assert close(got[1], exp["step"])
                assert close(got[2], exp["absence_pct"])
                compared += 1
        text = (folder / "index.html").read_text(encoding="utf-8")
        groups = re.findall(
            r'<div class="required"[^>]*>\n<h4>[^<]*</h4>\n<ul>(.*?)</ul>\n<p class="note">[^:]*: '
            r"(.*?)</p>",
            text,
            flags=re.S,
        )
        required: dict[str, list[str]] = {}
        for actions, pupils in groups:
            items = re.findall(r"<li>(.*?)</li>", actions)
            for pupil in re.findall(r"\b\d{7}\b", pupils):
                required.setdefault(pupil, []).extend(items)
        ups = own.filter(pl.col("change") == "escalation")
        assert sorted(required) == sorted(ids(ups.filter(pl.col("actions").is_not_null())))
        for pupil, actions in zip(ids(ups), ups["actions"].to_list(), strict=True):
            if actions is not None:
                unescaped = [a.replace("&amp;", "&").replace("&#39;", "'") for a in required[pupil]]
                assert " | ".join(unescaped) == actions, pupil
    return compared


def test_since_shows_escalate_since_s_rows_and_actions(
    since_site: Path, escalated: pl.DataFrame
) -> None:
    assert check_changes(since_site, escalated) == escalated.height > 20
    page = read_page(since_site / "851001" / "index.html")
    assert page.texts["changes"].startswith("Ændringer siden 2024-02-09")
    assert "no-comparison" not in page.texts


def test_a_new_quarter_flag_brings_the_quarter_rule_s_actions(tmp_path: Path, key: Path) -> None:
    frame = pl.read_csv(DEMO, infer_schema_length=None, schema_overrides={"pupil_id": pl.String})
    late = (pl.col("pupil_id") == "0000001") & (pl.col("date") >= "2024-02-12")
    frame = frame.with_columns(
        pl.when(late).then(pl.lit("unlawful")).otherwise(pl.col("category")).alias("category"),
        pl.when(late).then(1.0).otherwise(pl.col("absent_fraction")).alias("absent_fraction"),
    )
    export = tmp_path / "truant.csv"
    frame.write_csv(export)
    out = tmp_path / "out"

    expected = csv("escalate", export, "--since", SINCE)
    result = run("site", export, "-o", out, "--key-file", key, "--since", SINCE)

    assert result.exit_code == 0, result.output
    assert check_changes(out, expected) == expected.height
    truant = expected.filter(pl.col("pupil_id").cast(pl.String).str.zfill(7) == "0000001")
    assert truant.select("previous_step", "step", "quarter_flag").row(0) == (
        0,
        2,
        "notify_municipality",
    )
    text = (out / "851001" / "index.html").read_text(encoding="utf-8")
    assert "<h4>Kvartalsreglen:\u00a0advar\u00a0forældre · " in text
    assert "<h4>Kvartalsreglen:\u00a0underret\u00a0kommunen · " in text


def test_without_a_comparison_the_page_says_so(tmp_path: Path, key: Path) -> None:
    out = tmp_path / "out"
    assert run("site", DEMO, "-o", out, "--key-file", key).exit_code == 0

    page = read_page(out / "851002" / "index.html")

    assert page.texts["no-comparison"].startswith("Ingen sammenligning: siderne er lavet uden")
    assert "escalations" not in page.tables


def test_state_shows_escalate_state_s_rows_and_records_the_same_state(
    tmp_path: Path, key: Path
) -> None:
    first = tmp_path / "escalate.json"
    result = run("escalate", DEMO, "--state", first, "--as-of", "2024-02-23", "--format", "csv")
    assert result.exit_code == 0, result.output
    second = tmp_path / "site.json"
    shutil.copy(first, second)
    out = tmp_path / "out"

    expected = csv("escalate", DEMO, "--state", first)
    result = run("site", DEMO, "-o", out, "--key-file", key, "--state", second)

    assert result.exit_code == 0, result.output
    assert "since 2024-02-23" in result.stderr
    assert check_changes(out, expected) == expected.height > 0
    assert second.read_bytes() == first.read_bytes()  # the same run recorded the same way
    assert stat.S_IMODE(second.stat().st_mode) == 0o600
    page = read_page(out / "851001" / "index.html")
    assert page.texts["changes"].startswith("Ændringer siden sidste kørsel 2024-02-23")


def test_a_first_run_with_a_state_compares_with_step_0(tmp_path: Path, key: Path) -> None:
    state = tmp_path / "state.json"
    out = tmp_path / "out"

    expected = csv("escalate", DEMO, "--state", tmp_path / "other.json")
    result = run("site", DEMO, "-o", out, "--key-file", key, "--state", state)

    assert result.exit_code == 0, result.output
    assert "no earlier run in the state file" in result.stderr
    assert check_changes(out, expected) == expected.height
    page = read_page(out / "851003" / "index.html")
    assert page.texts["first-run"].startswith("Første kørsel med denne tilstandsfil")
    assert state.is_file()


def test_the_state_is_recorded_only_once_the_pages_are_written(tmp_path: Path, key: Path) -> None:
    state = tmp_path / "state.json"
    out = tmp_path / "out"
    (out / "index.html").mkdir(parents=True)  # nothing can be renamed over a folder

    result = run("site", DEMO, "-o", out, "--key-file", key, "--state", state)

    assert result.exit_code == 73, result.output
    assert not state.exists()
    assert sorted(p.name for p in out.iterdir()) == ["index.html"]


def test_the_token_key_is_kept_beside_the_state(tmp_path: Path) -> None:
    state = tmp_path / "keep" / "state.json"
    state.parent.mkdir()
    out = tmp_path / "out"

    result = run("site", DEMO, "-o", out, "--state", state)

    assert result.exit_code == 0, result.output
    assert (tmp_path / "keep" / "state.json.key").is_file()
    assert not (out / ".fravaer-token.key").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--since", SINCE, "--state", "s.json"],
            "give --since YYYY-MM-DD or --state PATH, not both",
        ),
        (["--since", AS_OF], f"--since must be before the as-of date {AS_OF}"),
        (["--since", "2024-02-30"], "--since must be a date written YYYY-MM-DD"),
    ],
)
def test_a_bad_comparison_is_a_usage_error(tmp_path: Path, args: list[str], message: str) -> None:
    result = run(
        "site", DEMO, "-o", tmp_path / "out", *[a if a != "s.json" else tmp_path / a for a in args]
    )

    assert result.exit_code == 2, result.output
    assert result.stderr.startswith(ERROR)
    assert message in result.stderr
    assert not (tmp_path / "out").exists()


# -- the agenda for Samrum ------------------------------------------------------------------------


def test_the_agenda_is_classify_trend_and_patterns_in_order(since_site: Path) -> None:
    classified = csv("classify", DEMO)
    found = csv("patterns", DEMO, "--all")
    school = "851002"
    page = read_page(since_site / school / "index.html")
    shown = body(page, "agenda")
    own = classified.filter(pl.col("school_id").cast(pl.String) == school)
    chosen = own.filter((pl.col("step") >= 2) | (pl.col("quarter_flag") == "notify_municipality"))

    # The naive reference: each pupil's weekly % from `trend --class` (machine output), the
    # % three school weeks back, the rise, the direction, then the order.
    weekly: dict[str, list[float]] = {}
    for name in sorted(set(chosen["class_name"].to_list())):
        weeks = csv("trend", DEMO, "--class", name, "--school", school)
        for pupil, part in weeks.group_by("pupil_id"):
            weekly[str(pupil[0]).zfill(7)] = part.sort("week_end")["absence_pct"].to_list()
    expected = []
    for row in chosen.iter_rows(named=True):
        pupil = str(row["pupil_id"]).zfill(7)
        series = weekly[pupil]
        before = series[-1 - min(len(series) - 1, 3)]
        rise = row["absence_pct"] - before
        assert close(series[-1], row["absence_pct"])
        direction = "stiger" if rise >= 1 - 1e-9 else "falder" if rise <= -1 + 1e-9 else "stabilt"
        expected.append((pupil, row, rise, direction if len(series) > 1 else "–"))
    expected.sort(key=lambda e: (-e[1]["step"], -e[2], e[0]))

    assert [r.attrs["data-pupil"] for r in shown] == [e[0] for e in expected]
    assert len(shown) > 5
    for number, (row, (pupil, exp, rise, direction)) in enumerate(
        zip(shown, expected, strict=True)
    ):
        got = values(row)
        assert row.cells[0].text == str(number + 1)
        assert close(got[0], exp["step"])
        assert close(got[1], exp["absent_days"])
        assert close(got[2], exp["window_days"])
        assert close(got[3], exp["absence_pct"])
        assert got[4] is not None
        assert abs(got[4] - rise) < 1e-9
        assert row.cells[8].text == direction
        flags = found.filter(pl.col("pupil_id").cast(pl.String).str.zfill(7) == pupil)
        patterns = row.cells[10].text
        assert (patterns != "") == bool(flags["flags"][0]), pupil
        if flags["longest_run"][0] and "run" in (flags["flags"][0] or ""):
            assert f"{flags['longest_run'][0]} dage i træk" in patterns
        assert row.cells[9].text == {
            "warn_parents": "advar forældre",
            "notify_municipality": "underret kommunen",
        }.get(exp["quarter_flag"], "")


def test_each_agenda_row_links_to_the_pupil_s_page(since_site: Path) -> None:
    linked = 0
    for folder in folders(since_site):
        text = (folder / "index.html").read_text(encoding="utf-8")
        agenda = text[text.index('<table id="agenda">') :]
        agenda = agenda[: agenda.index("</table>")]
        rows = re.findall(
            r'<tr data-pupil="(\d+)"><th scope="row">\d+</th><td><a href="([^"]+)"', agenda
        )
        assert len(rows) == agenda.count("<tr data-pupil=")
        for pupil, link in rows:
            assert re.fullmatch(r"[0-9a-f]{16}\.html", link)
            assert f"<dd>{pupil}</dd>" in (folder / link).read_text(encoding="utf-8")
            linked += 1
    assert linked > 10


# -- the municipality's page ----------------------------------------------------------------------


def test_the_municipality_s_trend_is_stats_over_the_school_year_s_parts(since_site: Path) -> None:
    stats = csv("stats", DEMO, "--by", "school", "--period", f"2023/24,{PARTS}")
    page = read_page(since_site / "index.html")
    shown = {r.attrs["data-school"]: r for r in page.tables["periods"] if "data-school" in r.attrs}
    labels = PARTS.split(",")
    heads = page.tables["periods"][0].cells[1:]

    assert [c.text for c in heads] == ["aug.–sep. 2023", "okt.–dec. 2023", "jan.–mar. 2024"]
    for school, row in shown.items():
        own = stats.filter(
            (pl.col("school_id").cast(pl.String) == school)
            if school
            else pl.col("school_id").is_null()
        )
        wanted = [own.filter(pl.col("period") == label)["share_over_10"][0] for label in labels]
        assert all(close(a, b) for a, b in zip(values(row), wanted, strict=True)), school
    assert set(shown) == {"851001", "851002", "851003", ""}
    year = stats.filter(pl.col("period") == "2023/24")
    schools = {
        r.attrs["data-school"]: r for r in page.tables["schools"] if "data-school" in r.attrs
    }
    for exp in year.iter_rows(named=True):
        assert close(values(schools[str(exp["school_id"] or "")])[6], exp["share_over_10"])
    text = (since_site / "index.html").read_text(encoding="utf-8")
    title = re.search(r'<title id="periods-title">([^<]*)</title>', text)
    desc = re.search(r'<desc id="periods-desc">([^<]*)</desc>', text)
    assert title is not None
    assert desc is not None
    assert "2024-03-08" in title[1]
    assert "aalborg-2023" in title[1]
    assert desc[1] == (
        "Andel elever over 10 % fravær i kommunen: 28,9 % i aug.–sep. 2023; 27,9 % i "
        "okt.–dec. 2023; 25,1 % i jan.–mar. 2024."
    )
    assert f"<figcaption>{desc[1]}</figcaption>" in text


def test_the_trend_is_hidden_with_the_year_as_stats_hides_them(tmp_path: Path, key: Path) -> None:
    frame = pl.read_csv(DEMO, infer_schema_length=None, schema_overrides={"pupil_id": pl.String})
    small = frame.filter(
        (pl.col("school_id") != 851003) | (pl.col("pupil_id").str.slice(-2).cast(pl.Int32) < 8)
    )
    export = tmp_path / "small.csv"
    small.write_csv(export)
    out = tmp_path / "out"
    stats = csv("stats", export, "--by", "school", "--period", f"2023/24,{PARTS}")

    assert run("site", export, "-o", out, "--key-file", key).exit_code == 0

    page = read_page(out / "index.html")
    hidden = {
        (r.attrs["data-school"], i)
        for r in body(page, "periods")
        for i, c in enumerate(r.cells[1:])
        if c.text == "skjult"
    }
    labels = PARTS.split(",")
    expected = {
        (str(row["school_id"] or ""), labels.index(row["period"]))
        for row in stats.filter(pl.col("suppressed") & (pl.col("period") != "2023/24")).iter_rows(
            named=True
        )
    }
    assert ("851003", 0) in hidden
    assert hidden == expected
    flags = {r.attrs["data-school"]: r for r in page.tables["schools"] if "data-school" in r.attrs}
    assert [c.text for c in flags["851003"].cells[1:]] == ["skjult"]  # its flags hidden with it


def test_a_school_without_rows_in_a_part_shows_a_dash_not_hidden(tmp_path: Path, key: Path) -> None:
    frame = pl.read_csv(DEMO, infer_schema_length=None, schema_overrides={"pupil_id": pl.String})
    late = frame.filter((pl.col("school_id") != 851003) | (pl.col("date") >= "2024-01-01"))
    export = tmp_path / "late.csv"
    late.write_csv(export)
    out = tmp_path / "out"
    stats = csv("stats", export, "--by", "school", "--period", f"2023/24,{PARTS}")

    assert run("site", export, "-o", out, "--key-file", key).exit_code == 0

    row = {r.attrs["data-school"]: r for r in body(read_page(out / "index.html"), "periods")}
    own = stats.filter(pl.col("school_id").cast(pl.String) == "851003")
    assert sorted(own["period"].to_list()) == ["2023/24", "2024-01-01:2024-03-31"]
    assert [c.text for c in row["851003"].cells[1:3]] == ["–", "–"]
    assert close(values(row["851003"])[-1], own["share_over_10"][-1])


def test_the_quarter_flags_per_school_are_classify_s(since_site: Path) -> None:
    classified = csv("classify", DEMO)
    page = read_page(since_site / "index.html")
    rows = {r.attrs["data-school"]: r for r in page.tables["schools"] if "data-school" in r.attrs}
    for school, row in rows.items():
        own = (
            classified
            if not school
            else classified.filter(pl.col("school_id").cast(pl.String) == school)
        )
        wanted = [
            own.filter(pl.col("quarter_flag") == flag).height
            for flag in ("warn_parents", "notify_municipality")
        ]
        assert values(row)[-2:] == wanted, school
    assert sum(values(rows[""])[-2:]) > 0  # the example has a flagged pupil


def test_the_freshness_is_each_school_s_latest_date_against_the_as_of_date(
    tmp_path: Path, key: Path
) -> None:
    frame = pl.read_csv(DEMO, infer_schema_length=None, try_parse_dates=True)
    out = tmp_path / "out"

    assert run("site", DEMO, "-o", out, "--key-file", key, "--as-of", "2024-03-12").exit_code == 0

    page = read_page(out / "index.html")
    latest = frame.group_by("school_id").agg(pl.col("date").max())
    shown = {r.attrs["data-school"]: r for r in body(page, "freshness")}
    assert len(shown) == latest.height == 3
    for school, day in latest.iter_rows():
        row = shown[str(school)]
        assert row.cells[1].text == day.isoformat()
        assert values(row)[1] == (date(2024, 3, 12) - day).days > 0


# -- privacy --------------------------------------------------------------------------------------


def test_nothing_of_one_school_is_in_another_s_folder(since_site: Path) -> None:
    classified = csv("classify", DEMO, "--as-of", AS_OF)
    school_of = {
        str(p).zfill(7): str(s) for p, s in classified.select("pupil_id", "school_id").iter_rows()
    }
    every = set(school_of)
    for folder in folders(since_site):
        text = " ".join(p.read_text(encoding="utf-8") for p in folder.glob("*.html"))
        shown = set(re.findall(r"\b\d{7}\b", text)) & every
        assert shown
        assert {p for p in shown if school_of[p] != folder.name} == set(), folder
        for other in folders(since_site):
            if other != folder:
                assert other.name not in text  # no other school's id either
    for path in [since_site, *since_site.rglob("*")]:
        assert not any(pupil in path.name for pupil in every), path
        assert stat.S_IMODE(path.stat().st_mode) == (0o700 if path.is_dir() else 0o600)


def test_hostile_class_names_in_the_new_sections_are_escaped(tmp_path: Path, key: Path) -> None:
    frame = pl.read_csv(DEMO, infer_schema_length=None, schema_overrides={"pupil_id": pl.String})
    classes = ["1.A", "2.A", "3.A"]  # classes of pupils on the agenda and escalated
    frame = frame.with_columns(
        pl.col("class_name").replace(dict(zip(classes, HOSTILE, strict=True)))
    )
    export = tmp_path / "hostile.csv"
    frame.write_csv(export)
    out = tmp_path / "out"

    result = run("site", export, "-o", out, "--key-file", key, "--since", SINCE)

    assert result.exit_code == 0, result.output
    seen = set()
    for folder in folders(out):
        page = read_page(folder / "index.html")
        text = (folder / "index.html").read_text(encoding="utf-8")
        assert not {"script", "img"} & set(page.tags)
        assert "<script>" not in text
        assert "<img" not in text
        for table in ("agenda", "escalations", "improvements"):
            seen |= {c.text for r in rows_of(page, table) for c in r.cells} & set(HOSTILE)
    assert seen == set(HOSTILE)


def test_the_english_pages_name_the_new_sections(tmp_path: Path, key: Path) -> None:
    out = tmp_path / "out"
    result = run("site", DEMO, "-o", out, "--key-file", key, "--since", SINCE, "--lang", "en")

    assert result.exit_code == 0, result.output
    school = read_page(out / "851001" / "index.html")
    assert school.texts["changes"].startswith("Changes since 2024-02-09")
    assert "Agenda for Samrum / the absence conference" in school.text
    assert "What the guideline requires at the new steps" in school.text
    municipality = read_page(out / "index.html")
    assert [c.text for c in municipality.tables["periods"][0].cells[1:]] == [
        "Aug–Sep 2023",
        "Oct–Dec 2023",
        "Jan–Mar 2024",
    ]
    assert "Share of pupils over 10 % absence in the municipality: " in municipality.text
    assert "fraværsdage" not in school.text
