"""``fravaer report``: a ``report.toml`` run that writes several files as one unit.

A run reads the exports once, classifies once at the as-of date, and *plans* its files — each a
path, its bytes and its row count (:mod:`fravaer.escalation_files`, shared with
``fravaer escalate``) — before anything is written. Only then are they written with
:func:`fravaer.output.write_all`: every file to a private temporary file beside its target,
fsynced, and renamed only when all are on disk, the state file after the outputs and the manifest
last. A failure before that leaves every older file as it was.

Each ``[[outputs]]`` kind of a ``report.toml`` has a builder in :data:`BUILDERS` that turns a
:class:`Run` into planned files; a new kind (``stats``) is a config model and a builder.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Final

from fravaer import __version__
from fravaer import schema as s
from fravaer.classify import parts_for
from fravaer.config import (
    AS_OF_FIELD,
    LOCK_NAME,
    MANIFEST_NAME,
    ClassificationOutput,
    EscalationsOutput,
    MeetingNotesOutput,
    ReportConfig,
)
from fravaer.errors import PolicyError
from fravaer.escalate import CHANGE, ESCALATION, IMPROVEMENT
from fravaer.escalation_files import (
    Planned,
    Run,
    escalation_files,
    meeting_note_files,
    same_file_key,
    unique,
)
from fravaer.ingest.files import digest, load_report_config, read_meeting_template, read_state
from fravaer.ingest.load import Loaded, load_at, load_source
from fravaer.ingest.policy import (
    bundled_policies,
    bundled_series,
    pick_version,
    policy_versions,
    resolve_policy,
)
from fravaer.ingest.source import SourceOptions
from fravaer.meeting import MeetingTemplate
from fravaer.output import (
    check_target,
    ensure_folder_inside,
    format_for_path,
    remove_stale,
    run_lock,
    serialise_frame,
    state_lock,
    write_all,
)
from fravaer.policy import NATIONAL_POLICY, Lang
from fravaer.state import State
from fravaer.tokens import token_key, token_key_path
from fravaer.words import sheet_name

log = logging.getLogger("fravaer")

MANIFEST_VERSION: Final = 2
"""2: a folder of meeting sheets is one entry (one file per pupil)."""
PER_PUPIL_KINDS: Final = ("meeting_notes",)
"""Outputs with one file per pupil, named by the pupil's token (``fravaer.tokens``): the manifest
and the log name their folder and count them, and never list the names."""


# -- report.toml ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Context:
    """Where a report's relative paths point."""

    base: Path  # the config file's folder
    output_folder: Path
    state: Path | None = None
    key_file: Path | None = None
    dry_run: bool = False
    template: MeetingTemplate | None = None
    """The meeting sheets' questions (``meeting_template``); None: the bundled ones."""

    def token_key(self) -> bytes:
        """The key of the pupils' tokens in file names (``tokens.token_key``); a dry run makes
        none."""
        return token_key(self.state, self.key_file, self.output_folder, create=not self.dry_run)

    def output(self, name: str, as_of: date) -> Path:
        return Path(
            os.path.normpath(self.output_folder / name.replace(AS_OF_FIELD, as_of.isoformat()))
        )


def _classification(run: Run, spec: Any, ctx: Context) -> list[Planned]:
    assert isinstance(spec, ClassificationOutput)
    path = ctx.output(spec.file, run.as_of)
    fmt = spec.format or format_for_path(path)
    if fmt not in ("csv", "json", "parquet", "xlsx"):
        raise PolicyError(f"{spec.file}: cannot tell the format from the name; set format")
    rows = run.classified(include_left=spec.include_left)
    sheet = sheet_name("pupils", run.lang)
    return [Planned(path, serialise_frame(rows, fmt, sheet=sheet), "classification", rows.height)]


def _escalations(run: Run, spec: Any, ctx: Context) -> list[Planned]:
    assert isinstance(spec, EscalationsOutput)
    if spec.split_by == "school":
        assert spec.folder is not None
        return escalation_files(
            run, fmt=spec.format, target=ctx.output(spec.folder, run.as_of), split_by_school=True
        )
    assert spec.file is not None
    target = ctx.output(spec.file, run.as_of)
    return escalation_files(run, fmt=spec.format, target=target, split_by_school=False)


def _meeting_notes(run: Run, spec: Any, ctx: Context) -> list[Planned]:
    assert isinstance(spec, MeetingNotesOutput)
    return meeting_note_files(
        run,
        ctx.output(spec.folder, run.as_of),
        key=ctx.token_key(),
        template=ctx.template or read_meeting_template(None),
    )


def _not_the_key(planned: list[Planned], ctx: Context) -> None:
    """Refuse (78) an output that would overwrite the token key: every sheet would be renamed."""
    keys = {same_file_key(token_key_path(ctx.state, ctx.output_folder))}
    if ctx.key_file is not None:
        keys.add(same_file_key(ctx.key_file))
    for item in planned:
        if same_file_key(item.path) in keys:
            raise PolicyError(
                f"{item.path}: an output would overwrite the token key of the meeting sheets",
                hint="name the output otherwise (docs/escalate.md#file-names)",
            )


Builder = Callable[[Run, Any, Context], list[Planned]]
BUILDERS: Final[dict[str, Builder]] = {
    "classification": _classification,
    "escalations": _escalations,
    "meeting_notes": _meeting_notes,
}
"""One builder per ``kind`` of ``[[outputs]]``: the files that output writes for a run."""


@dataclass(frozen=True)
class ReportResult:
    """What a report run did (or, in a dry run, would do)."""

    as_of: date
    files: list[Planned]
    summary: str


def _policy_ref(ref: str, base: Path) -> str:
    """A bundled name or series as it is; anything else is a path relative to the config file."""
    if ref in bundled_policies() or ref in bundled_series():
        return ref
    return str(base / ref)


def _inputs(config: ReportConfig, base: Path) -> tuple[list[str], SourceOptions]:
    inputs = config.inputs
    if inputs.source_file is not None:
        options = load_source(base / inputs.source_file)
    else:
        options = inputs.source or SourceOptions()
    return [os.path.normpath(base / p) for p in inputs.paths], options


def manifest(
    run: Run,
    *,
    loaded: Loaded,
    files: list[Planned],
    output_folder: Path,
    state: Path | None,
) -> bytes:
    """The manifest: what was read and written. No pupil data; the same bytes on a re-run."""
    inputs = []
    for read in loaded.files:
        rows = read.detected.rows if read.detected is not None else None
        inputs.append({"path": str(read.path), "sha256": digest(read.path), "rows": rows})

    def shown(path: Path) -> str:
        return (
            str(path.relative_to(output_folder))
            if path.is_relative_to(output_folder)
            else str(path)
        )

    data = {
        "manifest_version": MANIFEST_VERSION,
        "fravaer_version": __version__,
        "as_of": run.as_of.isoformat(),
        "policy": {"name": run.policy.name, "version": run.policy.version},
        "national": (
            {"name": run.national.name, "version": run.national.version} if run.national else None
        ),
        "reference_as_of": run.reference_as_of.isoformat() if run.reference_as_of else None,
        "inputs": inputs,
        "outputs": _listed(files, shown),
        "state": str(state) if state is not None else None,
    }
    return (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def _listed(files: list[Planned], shown: Callable[[Path], str]) -> list[dict[str, Any]]:
    """The manifest's outputs: one entry per file, but one per folder of per-pupil files.

    A per-pupil folder's entry has ``files`` (Markdown and HTML sheets) and ``rows`` (pupils).
    """
    entries: list[dict[str, Any]] = []
    folders: dict[Path, dict[str, Any]] = {}
    for planned in files:
        if planned.kind not in PER_PUPIL_KINDS:
            entries.append(
                {"path": shown(planned.path), "kind": planned.kind, "rows": planned.rows}
            )
            continue
        folder = planned.path.parent
        if folder not in folders:
            folders[folder] = {"path": shown(folder), "kind": planned.kind, "files": 0, "rows": 0}
            entries.append(folders[folder])
        folders[folder]["files"] += 1
        folders[folder]["rows"] += 1 if planned.path.suffix == ".md" else 0
    return entries


def _log_dry_run(files: list[tuple[Path, bytes]], planned: list[Planned]) -> None:
    """What a dry run would write, one line per file; a per-pupil folder as one line."""
    per_pupil = {p.path for p in planned if p.kind in PER_PUPIL_KINDS}
    folders: dict[Path, list[int]] = {}
    for path, data in files:
        if path in per_pupil:
            folders.setdefault(path.parent, []).append(len(data))
        else:
            log.info("would write %s (%d bytes)", path, len(data))
    for folder, sizes in folders.items():
        log.info("would write %d file(s) in %s (%d bytes)", len(sizes), folder, sum(sizes))


def summary(run: Run, *, files: int, escalations: bool, dry_run: bool) -> str:
    """One line of counts for stderr and logs: never an id or a value."""
    classified = run.classified()
    counts = dict(classified.group_by(s.STEP).len().iter_rows())
    steps = ", ".join(f"{step} {counts.get(step, 0)}" for step in range(len(run.policy.steps) + 1))
    parts = [f"as of {run.as_of.isoformat()}: steps {steps}, too few days {counts.get(None, 0)}"]
    if escalations:
        changes = dict(run.escalations().group_by(CHANGE).len().iter_rows())
        parts.append(
            f"{changes.get(ESCALATION, 0)} escalation(s), {changes.get(IMPROVEMENT, 0)} "
            "improvement(s)"
        )
    if run.national is not None:
        flags = dict(classified.group_by(s.QUARTER_FLAG).len().iter_rows())
        parts.append(
            f"quarter {s.FLAG_WARN} {flags.get(s.FLAG_WARN, 0)}, "
            f"{s.FLAG_NOTIFY} {flags.get(s.FLAG_NOTIFY, 0)}"
        )
    parts.append(f"{files} file(s) {'would be written' if dry_run else 'written'}")
    return "; ".join(parts)


def report(
    config_path: Path,
    *,
    as_of: date | None,
    today: date,
    dry_run: bool,
    lang: Lang = "da",
) -> ReportResult:
    """Run a ``report.toml``: read, classify, build every output, and write them all as one.

    Without ``dry_run`` the run holds its lock and the state's lock (exit 75 if another run
    holds either) from before the data is read until the manifest is written. Temporary files
    left by a killed run are removed first. A dry run reads everything, writes nothing and takes
    no lock. ``today`` is the day of the run, read by the CLI: without ``as_of`` the as-of date
    is the latest in the data on or before it (:func:`fravaer.asof.resolve_as_of`).
    """
    config = load_report_config(config_path)
    base = config_path.parent

    def at(path: str) -> Path:  # relative to the config file, written without `a/../`
        return Path(os.path.normpath(base / path))

    choice = policy_versions(_policy_ref(config.policy, base))
    paths, options = _inputs(config, base)
    state_path = at(config.state) if config.state is not None else None
    ctx = Context(
        base=base,
        output_folder=at(config.output_folder),
        state=state_path,
        key_file=at(config.key_file) if config.key_file is not None else None,
        dry_run=dry_run,
        template=read_meeting_template(
            at(config.meeting_template) if config.meeting_template is not None else None
        ),
    )
    if state_path is not None:
        check_target(state_path)  # a FIFO would hang the reading, a device be replaced
    lock_path = at(config.lock) if config.lock is not None else ctx.output_folder / LOCK_NAME

    def build() -> ReportResult:
        sheets = any(isinstance(spec, MeetingNotesOutput) for spec in config.outputs)
        loaded, day = load_at(
            paths, options, given=as_of, today=today, where=paths[0], lessons=sheets
        )
        policy = pick_version(choice, as_of=day)
        national = resolve_policy(NATIONAL_POLICY, as_of=day) if config.national else None
        run = Run(
            loaded.frame,
            day,
            policy,
            national,
            lang=config.lang or lang,
            parts=parts_for(loaded.frame),
            lessons=loaded.lessons,
        )
        state = read_state(state_path) if state_path is not None else State()
        run.compare_with_state(state, source=str(state_path))
        planned: list[Planned] = []
        for spec in config.outputs:
            planned += BUILDERS[spec.kind](run, spec, ctx)
        unique(planned)
        _not_the_key(planned, ctx)
        files = [(p.path, p.data) for p in planned]
        if state_path is not None:
            files.append((state_path, run.next_state(state)))
        manifest_path = ctx.output_folder / MANIFEST_NAME
        files.append(
            (
                manifest_path,
                manifest(
                    run,
                    loaded=loaded,
                    files=planned,
                    output_folder=ctx.output_folder,
                    state=state_path,
                ),
            )
        )
        line = summary(run, files=len(files), escalations=state_path is not None, dry_run=dry_run)
        if dry_run:
            _log_dry_run(files, planned)
        else:
            for folder in sorted({path.parent for path, _ in files}):
                ensure_folder_inside(ctx.output_folder, folder)
            write_all(files)
        return ReportResult(day, planned, line)

    if dry_run:
        return build()
    ensure_folder_inside(ctx.output_folder, lock_path.parent)
    if state_path is not None:
        ensure_folder_inside(ctx.output_folder, state_path.parent)
    # The state's own lock too, the one `escalate --state` holds: one lock for one state file.
    with run_lock(lock_path), state_lock(state_path):
        remove_stale(ctx.output_folder)
        if state_path is not None and state_path.parent != ctx.output_folder:
            remove_stale(state_path.parent, recursive=False)
        return build()
