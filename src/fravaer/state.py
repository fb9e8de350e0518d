"""The escalation state: each pupil's step and quarter flag per run, as versioned JSON.

``fravaer escalate --state PATH`` and ``fravaer report`` compare the steps at the as-of date with
those of the previous run, kept in a state file. The file names no pupil: each pupil is kept
under :func:`pupil_key`, an HMAC-SHA256 of the id with a random key kept in the file itself
(made by ``ingest.files.read_state``), so reading the file, or a backup of it, shows no id, yet
a run can find its pupils' previous steps. It is still personal data (docs/privacy.md): whoever
holds the file can test a candidate id against it. The file holds the latest :data:`KEEP_RUNS` runs,
one per as-of date, so that re-running the same as-of date compares with the same earlier run
(the same list again, byte for byte) and replaces its own entry instead of advancing twice.

This module only turns text into a :class:`State` and back; reading and writing the file is
``ingest.state`` and ``output.write_all``.

>>> state = advance(State(key="00" * 32), as_of=date(2024, 3, 1), policy="aalborg-2023",
...                 pupils={"007": (2, "none")})
>>> parse_state(dump_state(state), source="s.json") == state
True
>>> "007" in dump_state(state)
False
>>> reference_run(state, date(2024, 3, 8)).as_of, reference_run(state, date(2024, 3, 1))
(datetime.date(2024, 3, 1), None)
>>> run_frame(state.runs[0], key=state.key, pupils=["007", "008"]).collect().rows()
[('007', 2, 'none')]
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from datetime import date
from itertools import pairwise
from typing import Annotated, Final, Literal, Self

import polars as pl
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    Strict,
    ValidationError,
    model_validator,
)

from fravaer import schema as s
from fravaer.errors import EXIT_DATAERR, FravaerError
from fravaer.policy import Policy
from fravaer.pseudonymize import keyed_digest

STATE_FORMAT: Final = "fravaer-escalate-state"
STATE_VERSION: Final = 2
"""The state format this fravaer writes and the newest it reads.

Version 1 kept pupils under their ids; it is still read, and re-keyed by :func:`keyed`."""
KEY_BYTES: Final = 32

KEEP_RUNS: Final = 12
"""Runs kept in the state file: a quarter of weekly runs."""

STATE_HINT: Final = (
    "restore the state file from a backup, or move it away to start afresh "
    "(the next run then reports every pupil at step 1 or higher)"
)


class StateError(FravaerError):
    """The state file is corrupted or from a newer fravaer (exit 65); it is never overwritten."""

    exit_code = EXIT_DATAERR


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# A state file is untrusted input (docs/escalate.md#the-state-file): every value is checked for
# what fravaer itself writes there, and nothing is coerced (no "2" for 2, no true for 1, no
# number of seconds for a date).
MAX_STEP: Final = 9
"""A policy has at most nine steps (``policy.Step``); 0 is below step 1."""
MAX_POLICY_NAME: Final = 200
MAX_PUPIL_ID: Final = 128
"""The longest pupil id a version 1 file may keep a pupil under."""
_ISO_DATE: Final = re.compile(r"\d{4}-\d{2}-\d{2}")
_KEY_HEX: Final = re.compile(f"[0-9a-f]{{{2 * KEY_BYTES}}}")


def _iso_date(value: object) -> object:
    """A date as fravaer writes it (``2024-03-08``), or a ``date`` given in Python."""
    if isinstance(value, date):
        return value
    if isinstance(value, str) and _ISO_DATE.fullmatch(value):
        return date.fromisoformat(value)  # a ValueError (2024-02-30) is a validation error
    raise ValueError("not a date written YYYY-MM-DD")


IsoDate = Annotated[date, BeforeValidator(_iso_date)]
StepValue = Annotated[int, Strict(), Field(ge=0, le=MAX_STEP)]
QuarterFlag = Literal["none", "warn_parents", "notify_municipality"]
"""``schema.QUARTER_FLAGS``: the flags of the bundled national rule."""
PupilKey = Annotated[str, Field(min_length=1, max_length=MAX_PUPIL_ID)]


class Run(_Strict):
    """One run: its as-of date, the policy, and each pupil's ``(step, quarter_flag)``.

    ``pupils`` is keyed by :func:`pupil_key` (by the id itself in a version 1 file). A step is
    0 to :data:`MAX_STEP` or None (too few school days); a quarter flag one of the national
    rule's, or None (the national rule was not evaluated).
    """

    as_of: IsoDate
    policy: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=MAX_POLICY_NAME)
    pupils: dict[PupilKey, tuple[StepValue | None, QuarterFlag | None]]


class State(_Strict):
    """The state file's content."""

    format: Literal["fravaer-escalate-state"] = STATE_FORMAT
    version: Annotated[int, Strict()] = Field(default=STATE_VERSION, ge=1, le=STATE_VERSION)
    key: str | None = Field(default=None, pattern=f"^[0-9a-f]{{{2 * KEY_BYTES}}}$")
    """The HMAC key of :func:`pupil_key`, hex; None only in a version 1 file or a new state."""
    runs: tuple[Run, ...] = Field(default=(), max_length=KEEP_RUNS)

    @model_validator(mode="after")
    def _as_written(self) -> Self:
        """Runs in date order, one per as-of date; from version 2 pupils under HMAC keys only."""
        dates = [run.as_of for run in self.runs]
        if any(later <= earlier for earlier, later in pairwise(dates)):
            raise ValueError("runs are not in date order, one per as-of date")
        if self.version == 1 and self.key is not None:
            raise ValueError("a version 1 file has no key")
        if self.version >= 2 and not all(
            _KEY_HEX.fullmatch(pupil) for run in self.runs for pupil in run.pupils
        ):
            raise ValueError("a pupil is not kept under a keyed hash")
        return self


def pupil_key(key: str, pupil_id: str) -> str:
    """What a state file keeps a pupil under: HMAC-SHA256 of the id with the state's key, hex.

    >>> pupil_key("00" * 32, "007")[:16]
    '46970a3ebfd1f21d'
    """
    return keyed_digest(bytes.fromhex(key), pupil_id)


def keyed(state: State, key: str) -> State:
    """``state`` with a key: a state without one (new, or version 1) gets ``key``, and a version
    1 state's pupils, kept under their ids, are re-keyed by :func:`pupil_key`."""
    if state.key is not None:
        return state
    runs = tuple(
        run.model_copy(update={"pupils": {pupil_key(key, p): v for p, v in run.pupils.items()}})
        for run in state.runs
    )
    return State(key=key, runs=runs)


_FIELDS: Final = frozenset({"format", "version", "key", "runs", "as_of", "policy", "pupils"})


def _problem(exc: ValidationError) -> str:
    """Where the first problem is, in the file's own field names and run numbers only.

    Never a value, and never a name the file made up: an unknown key may be a pupil's id, and
    so may everything below ``pupils``.
    """
    error = exc.errors()[0]
    place: list[str] = []
    for part in error["loc"]:
        if not isinstance(part, int) and part not in _FIELDS:
            return "an unknown field" + (f" in '{'.'.join(place)}'" if place else "")
        place.append(str(part))
        if part == "pupils":
            break
    if place:
        return f"field '{'.'.join(place)}'"
    return str(error.get("ctx", {}).get("error", "not as fravaer writes it"))  # _as_written's


def parse_state(text: str, *, source: str) -> State:
    """Read a state file's text; a corrupted or newer one is refused (exit 65).

    >>> parse_state('{"format": "fravaer-escalate-state", "version": 9, "runs": []}', source="s")
    Traceback (most recent call last):
    ...
    fravaer.state.StateError: s: state file version 9 is newer than this fravaer reads (2)
    """
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise StateError(
            f"{source}:{exc.lineno}: corrupted state file (not valid JSON)", hint=STATE_HINT
        ) from None
    except RecursionError:
        raise StateError(
            f"{source}: corrupted state file (nested too deeply)", hint=STATE_HINT
        ) from None
    except ValueError:  # an integer of more than 4300 digits
        raise StateError(
            f"{source}: corrupted state file (a number too long)", hint=STATE_HINT
        ) from None
    if not isinstance(data, dict) or data.get("format") != STATE_FORMAT:
        raise StateError(f"{source}: not a fravaer state file", hint=STATE_HINT)
    version = data.get("version")
    if (
        isinstance(version, int)
        and not isinstance(version, bool)
        and STATE_VERSION < version < 1000
    ):
        raise StateError(
            f"{source}: state file version {version} is newer than this fravaer reads "
            f"({STATE_VERSION})",
            hint="upgrade fravaer; the state file is left as it is",
        )
    try:
        state = State.model_validate(data)
    except ValidationError as exc:
        raise StateError(
            f"{source}: corrupted state file ({_problem(exc)}, {exc.error_count()} problem(s))",
            hint=STATE_HINT,
        ) from None
    if state.version >= 2 and state.key is None and state.runs:
        # Its pupils are kept under a key it no longer has: no pupil would be found again.
        raise StateError(
            f"{source}: corrupted state file (field 'key' is missing)", hint=STATE_HINT
        )
    return state


def dump_state(state: State) -> str:
    """The state as JSON text: keys sorted, one pupil a line, the same bytes for the same state."""
    if state.key is None:
        raise ValueError("a state is written with a key (see keyed)")
    data = state.model_dump(mode="json")
    return json.dumps(data, sort_keys=True, indent=1, ensure_ascii=False) + "\n"


def advance(
    state: State,
    *,
    as_of: date,
    policy: str,
    pupils: Mapping[str, tuple[int | None, str | None]],
) -> State:
    """The state with this run in it: a run of the same as-of date is replaced, not added.

    Runs are kept in date order, the latest :data:`KEEP_RUNS` of them. Pupils are kept under
    :func:`pupil_key`: the state must have a key (:func:`keyed`).
    """
    if state.key is None:
        raise ValueError("a state needs a key to record pupils (see keyed)")
    key = state.key
    kept = dict(sorted((pupil_key(key, pupil), value) for pupil, value in pupils.items()))
    run = Run.model_validate({"as_of": as_of, "policy": policy, "pupils": kept})
    runs = sorted([r for r in state.runs if r.as_of != as_of] + [run], key=lambda r: r.as_of)
    return State(key=key, runs=tuple(runs[-KEEP_RUNS:]))


def reference_run(state: State, as_of: date) -> Run | None:
    """The run to compare with: the latest one strictly before ``as_of`` (None: a first run)."""
    earlier = [r for r in state.runs if r.as_of < as_of]
    return max(earlier, key=lambda r: r.as_of) if earlier else None


def previous_steps(
    state: State, as_of: date, *, policy: Policy, pupils: Iterable[str], source: str
) -> tuple[Run | None, pl.LazyFrame]:
    """The run to compare with (:func:`reference_run`) and its steps for ``pupils``
    (:func:`run_frame`): the one reference of ``escalate --state`` and ``report``.

    A run of the same policy that records a step above the policy's highest is refused (exit 65,
    naming ``source``, never a pupil): a forged step 9 under a policy that ends at step 3 would
    turn every real escalation into an improvement (docs/escalate.md#the-state-file).
    """
    previous = reference_run(state, as_of)
    if previous is not None and previous.policy == policy.name:
        highest = len(policy.steps)
        if any(step is not None and step > highest for step, _ in previous.pupils.values()):
            raise StateError(
                f"{source}: the run of {previous.as_of.isoformat()} records a step above "
                f"{highest}, the highest of policy {policy.name}",
                hint=STATE_HINT,
            )
    return previous, run_frame(previous, key=state.key, pupils=pupils)


def run_frame(
    run: Run | None, *, key: str | None = None, pupils: Iterable[str] = ()
) -> pl.LazyFrame:
    """A run's pupils as a reference frame (pupil_id, step, quarter_flag); empty for None.

    The run keeps pupils under :func:`pupil_key` with ``key``: the frame has those of ``pupils``
    (the ids of the current run) found in it. Without a key, the run's own keys are the ids.
    """
    kept = run.pupils if run is not None else {}
    if key is None:
        found = dict(kept)
    else:
        keys = {pupil_key(key, pupil): pupil for pupil in pupils}
        found = {keys[k]: v for k, v in kept.items() if k in keys}
    return pl.LazyFrame(
        {
            s.PUPIL_ID: list(found),
            s.STEP: [v[0] for v in found.values()],
            s.QUARTER_FLAG: [v[1] for v in found.values()],
        },
        schema={s.PUPIL_ID: pl.String, s.STEP: pl.Int8, s.QUARTER_FLAG: pl.String},
    )
