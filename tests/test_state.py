"""The state file: versioned, refused when corrupted or newer, advanced once per as-of date,
and naming no pupil (pupils are kept under a keyed hash)."""

from __future__ import annotations

import json
import os
import threading
import time
from datetime import date, timedelta
from pathlib import Path

import pytest

from fravaer.errors import EXIT_DATAERR, InputMissingError
from fravaer.ingest.files import read_state
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


def state_text(*runs: dict[str, object], version: int = 2, **fields: object) -> str:
    """A state file's text with these runs (a version 2 file has a key)."""
    data: dict[str, object] = {"format": "fravaer-escalate-state", "version": version}
    if version >= 2:
        data["key"] = KEY
    return json.dumps(data | {"runs": list(runs)} | fields)


def run_of(
    pupils: dict[str, object] | None = None, *, as_of: object = "2024-03-08", policy: object = "p"
) -> dict[str, object]:
    return {
        "as_of": as_of,
        "policy": policy,
        "pupils": {pupil_key(KEY, "0101101234"): [1, "none"]} if pupils is None else pupils,
    }


def one_pupil(value: object) -> dict[str, object]:
    return run_of({pupil_key(KEY, "0101101234"): value})


_RUN_PUPILS = "s.json: corrupted state file (field 'runs.0.pupils', 1 problem(s))"
_AS_OF = "s.json: corrupted state file (field 'runs.0.as_of', 1 problem(s))"
_POLICY = "s.json: corrupted state file (field 'runs.0.policy', 1 problem(s))"
_ORDER = (
    "s.json: corrupted state file (runs are not in date order, one per as-of date, 1 problem(s))"
)
HOSTILE_STATES = [
    # A step or flag fravaer never writes: a step of 1000 or -5 gave wrong lists.
    (state_text(one_pupil([1000, "none"])), _RUN_PUPILS),
    (state_text(one_pupil([-5, "none"])), _RUN_PUPILS),
    (state_text(one_pupil(["2", "none"])), _RUN_PUPILS),
    (state_text(one_pupil([True, "none"])), _RUN_PUPILS),
    (state_text(one_pupil([1.0, "none"])), _RUN_PUPILS),
    (state_text(one_pupil([1, "0101101234"])), _RUN_PUPILS),
    (state_text(one_pupil([1, "\x1b[31m"])), _RUN_PUPILS),
    (state_text(one_pupil([1, "none", 3])), _RUN_PUPILS),
    (state_text(one_pupil({"step": 1})), _RUN_PUPILS),
    # A date fravaer never writes: a number of seconds, an impossible day, no dashes.
    (state_text(run_of(as_of=1709856000)), _AS_OF),
    (state_text(run_of(as_of="2024-02-30")), _AS_OF),
    (state_text(run_of(as_of="20240308")), _AS_OF),
    (state_text(run_of(as_of="2024-03-08T00:00:00")), _AS_OF),
    (state_text(run_of(as_of=None)), _AS_OF),
    # A policy name that is not one: it is echoed in a warning.
    (state_text(run_of(policy="\x1b]8;;http://evil\x07klik")), _POLICY),
    (state_text(run_of(policy="0101101234 aalborg")), _POLICY),
    (state_text(run_of(policy="a" * 201)), _POLICY),
    (state_text(run_of(policy=["aalborg-2023"])), _POLICY),
    # Not as fravaer writes a state: pupils under their ids in version 2, runs out of order.
    (
        state_text(run_of({"0101101234": [1, "none"]})),
        "s.json: corrupted state file (a pupil is not kept under a keyed hash, 1 problem(s))",
    ),
    (
        state_text(version=1, key=KEY),
        "s.json: corrupted state file (a version 1 file has no key, 1 problem(s))",
    ),
    (state_text(run_of(as_of="2024-03-08"), run_of(as_of="2024-03-01")), _ORDER),
    (state_text(run_of(as_of="2024-03-08"), run_of(as_of="2024-03-08")), _ORDER),
    (
        state_text(*(run_of(as_of=f"2024-01-{day:02d}") for day in range(1, KEEP_RUNS + 2))),
        "s.json: corrupted state file (field 'runs', 1 problem(s))",
    ),
    # Names the file made up may be ids: never echoed.
    (
        state_text(**{"0101101234": 1}),
        "s.json: corrupted state file (an unknown field, 1 problem(s))",
    ),
    (
        state_text(run_of() | {"0101101234": 1}),
        "s.json: corrupted state file (an unknown field in 'runs.0', 1 problem(s))",
    ),
    # A version that is not a version.
    (state_text(version=10**6), "s.json: corrupted state file (field 'version', 1 problem(s))"),
    (
        state_text().replace('"version": 2', '"version": "2"'),
        "s.json: corrupted state file (field 'version', 1 problem(s))",
    ),
    (
        state_text().replace('"version": 2', '"version": true'),
        "s.json: corrupted state file (field 'version', 1 problem(s))",
    ),
    # What the JSON reader itself cannot take (exit 70 before).
    (
        state_text().replace('"runs": []', '"runs": ' + "[" * 100_000 + "]" * 100_000),
        "s.json: corrupted state file (nested too deeply)",
    ),
    (
        state_text().replace('"runs": []', '"runs": ' + "[" * 500 + "]" * 500),
        "s.json: corrupted state file (field 'runs.0', 1 problem(s))",
    ),
    (
        state_text().replace('"version": 2', '"version": ' + "1" * 5000),
        "s.json: corrupted state file (a number too long)",
    ),
]


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
            "s.json: corrupted state file (an unknown field, 1 problem(s))",
        ),
        *HOSTILE_STATES,
    ],
)
def test_a_corrupted_or_newer_state_is_refused_without_its_values(text: str, problem: str) -> None:
    with pytest.raises(StateError) as caught:
        parse_state(text, source="s.json")

    assert caught.value.message == problem
    assert caught.value.exit_code == EXIT_DATAERR
    assert "0101101234" not in caught.value.message
    assert "\x1b" not in caught.value.message


def test_a_state_path_that_is_not_a_regular_file_is_refused(tmp_path: Path) -> None:
    fifo = tmp_path / "state.json"
    os.mkfifo(fifo)

    def write_if_read() -> None:  # a run that read the FIFO would block without a writer
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline:
            try:
                fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
            except OSError:  # nobody reads it
                time.sleep(0.05)
                continue
            os.write(fd, b"{")
            os.close(fd)
            return

    writer = threading.Thread(target=write_if_read)
    writer.start()
    try:
        with pytest.raises(InputMissingError) as caught:
            read_state(fifo)
    finally:
        writer.join()

    assert caught.value.message == f"{fifo}: the state file is not a regular file"
    assert caught.value.exit_code == 66
