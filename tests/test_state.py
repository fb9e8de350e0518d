"""The state file: versioned, refused when corrupted or newer, advanced once per as-of date,
and naming no pupil (pupils are kept under a keyed hash)."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest

from fravaer.errors import EXIT_DATAERR
from fravaer.state import (
    KEEP_RUNS,
    STATE_VERSION,
    State,
    StateError,
    advance,
    dump_state,
    keyed,
    parse_state,
    pupil_key,
    reference_run,
    run_frame,
)

DAY = date(2024, 3, 8)
KEY = "ab" * 32
NEW = State(key=KEY)


def test_a_state_round_trips_and_dumps_the_same_bytes() -> None:
    state = advance(
        NEW, as_of=DAY, policy="aalborg-2023", pupils={"02": (1, None), "01": (None, "none")}
    )

    text = dump_state(state)
    assert parse_state(text, source="s.json") == state
    assert dump_state(parse_state(text, source="s.json")) == text
    assert json.loads(text)["version"] == STATE_VERSION
    assert list(json.loads(text)["runs"][0]["pupils"]) == sorted(
        pupil_key(KEY, p) for p in ("01", "02")
    )
    assert '"01"' not in text


def test_the_same_as_of_date_replaces_its_run_instead_of_adding_one() -> None:
    once = advance(NEW, as_of=DAY, policy="p", pupils={"1": (1, "none")})
    twice = advance(once, as_of=DAY, policy="p", pupils={"1": (1, "none")})

    assert twice == once
    assert len(twice.runs) == 1


def test_the_reference_is_the_latest_run_strictly_before_the_as_of_date() -> None:
    state = NEW
    for week in range(3):
        state = advance(state, as_of=DAY + timedelta(weeks=week), policy="p", pupils={})

    assert reference_run(state, DAY) is None
    run = reference_run(state, DAY + timedelta(weeks=2))
    assert run is not None
    assert run.as_of == DAY + timedelta(weeks=1)
    run = reference_run(state, DAY + timedelta(days=100))
    assert run is not None
    assert run.as_of == DAY + timedelta(weeks=2)


def test_only_the_latest_runs_are_kept() -> None:
    state = NEW
    for week in range(KEEP_RUNS + 3):
        state = advance(state, as_of=DAY + timedelta(weeks=week), policy="p", pupils={})

    assert len(state.runs) == KEEP_RUNS
    assert state.runs[0].as_of == DAY + timedelta(weeks=3)


def test_run_frame_is_the_reference_of_a_run() -> None:
    state = advance(NEW, as_of=DAY, policy="p", pupils={"007": (2, "warn_parents")})

    frame = run_frame(state.runs[0], key=KEY, pupils=["007", "008"])

    assert frame.collect().rows() == [("007", 2, "warn_parents")]
    assert run_frame(state.runs[0], key="cd" * 32, pupils=["007"]).collect().height == 0
    assert run_frame(None).collect().height == 0


def test_a_version_1_state_is_read_and_its_ids_re_keyed() -> None:
    text = (
        '{"format": "fravaer-escalate-state", "version": 1, "runs": [{"as_of": "2024-03-01",'
        ' "policy": "p", "pupils": {"0101101234": [1, "none"]}}]}'
    )

    state = keyed(parse_state(text, source="s.json"), KEY)

    assert state.version == STATE_VERSION
    assert state.key == KEY
    assert "0101101234" not in dump_state(state)
    frame = run_frame(reference_run(state, DAY), key=KEY, pupils=["0101101234"])
    assert frame.collect().rows() == [("0101101234", 1, "none")]
    assert keyed(state, "cd" * 32) == state  # a state keeps its key


def test_a_state_without_a_key_records_and_writes_no_pupil() -> None:
    with pytest.raises(ValueError, match="key"):
        advance(State(), as_of=DAY, policy="p", pupils={"007": (1, "none")})
    with pytest.raises(ValueError, match="key"):
        dump_state(State())


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("{", "s.json:1: corrupted state file (not valid JSON)"),
        ("[]", "s.json: not a fravaer state file"),
        ('{"format": "other"}', "s.json: not a fravaer state file"),
        (
            '{"format": "fravaer-escalate-state", "version": 3, "runs": []}',
            "s.json: state file version 3 is newer than this fravaer reads (2)",
        ),
        (
            '{"format": "fravaer-escalate-state", "version": 2, "runs": [{"as_of": "2024-03-08",'
            ' "policy": "p", "pupils": {}}]}',
            "s.json: corrupted state file (field 'key' is missing)",
        ),
        (
            '{"format": "fravaer-escalate-state", "version": 2, "key": "0101101234", "runs": []}',
            "s.json: corrupted state file (field 'key', 1 problem(s))",
        ),
        (
            '{"format": "fravaer-escalate-state", "version": 1, "runs": [{"as_of": "2024-03-08",'
            ' "policy": "p", "pupils": {"0101101234": [1, "none", 3]}}]}',
            "s.json: corrupted state file (field 'runs.0.pupils', 1 problem(s))",
        ),
        (
            '{"format": "fravaer-escalate-state", "version": 1, "runs": [], "extra": 1}',
            "s.json: corrupted state file (field 'extra', 1 problem(s))",
        ),
    ],
)
def test_a_corrupted_or_newer_state_is_refused_without_its_values(text: str, problem: str) -> None:
    with pytest.raises(StateError) as caught:
        parse_state(text, source="s.json")

    assert caught.value.message == problem
    assert caught.value.exit_code == EXIT_DATAERR
    assert "0101101234" not in caught.value.message
