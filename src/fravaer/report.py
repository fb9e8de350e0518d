"""Runs that write several files as one unit: ``fravaer escalate`` and ``fravaer report``.

A run reads the exports once, classifies once at the as-of date, and *plans* its files — each a
path, its bytes and its row count — before anything is written. Only then are they written with
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
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Final

import polars as pl

from fravaer import __version__
from fravaer import schema as s
from fravaer.asof import resolve_as_of
from fravaer.classify import classify, parts_for
from fravaer.config import (
    AS_OF_FIELD,
    LOCK_NAME,
    MANIFEST_NAME,
    ClassificationOutput,
    EscalationFormat,
    EscalationsOutput,
    MeetingNotesOutput,
    ReportConfig,
)
from fravaer.errors import PolicyError, UsageError
from fravaer.escalate import CHANGE, ESCALATION, IMPROVEMENT, escalate
from fravaer.ingest.files import digest, load_report_config, read_state
from fravaer.ingest.load import Loaded, load, load_source
from fravaer.ingest.policy import (
    bundled_policies,
    bundled_series,
    pick_version,
    policy_versions,
    resolve_policy,
)
from fravaer.ingest.source import SourceOptions
from fravaer.meeting import sheet_html, sheet_markdown, sheets, weekday_absence, weekly_absence
from fravaer.output import (
    check_target,
    ensure_folder_inside,
    format_for_path,
    remove_stale,
    run_lock,
    serialise_frame,
    serialise_workbook,
    state_lock,
    write_all,
)
from fravaer.policy import NATIONAL_POLICY, Lang, Policy
from fravaer.pseudonymize import pupil_tokens
from fravaer.render import escalation_headings, escalation_sheet_names, render_escalations
from fravaer.state import State, advance, dump_state, previous_steps, run_frame
from fravaer.tokens import school_names, token_key, token_key_path

log = logging.getLogger("fravaer")

MANIFEST_VERSION: Final = 2
"""2: a folder of meeting sheets is one entry (one file per pupil)."""
PER_PUPIL_KINDS: Final = ("meeting_notes",)
"""Outputs with one file per pupil, named by the pupil's token (``fravaer.tokens``): the manifest
and the log name their folder and count them, and never list the names."""
ESCALATION_PREFIX: Final = "escalations"
_EXTENSIONS: Final[dict[str, str]] = {
    "csv": ".csv",
    "json": ".json",
    "parquet": ".parquet",
    "xlsx": ".xlsx",
    "table": ".txt",
}


@dataclass(frozen=True)
class Planned:
    """One file a run will write: where, what, which kind of output and how many rows."""

    path: Path
    data: bytes
    kind: str
    rows: int


@dataclass
class Run:
    """What one run knows: the data, the date, the policies, and results computed once."""

    frame: pl.LazyFrame
    as_of: date
    policy: Policy
    national: Policy | None
    lang: Lang = "da"
    reference: pl.LazyFrame | None = None
    reference_as_of: date | None = None
    parts: int = 1
    """Buckets of pupils that classify evaluates one after another (see ``parts_for``)."""
    _classified: pl.DataFrame | None = field(default=None, repr=False)
    _escalations: pl.DataFrame | None = field(default=None, repr=False)

    def classified(self) -> pl.DataFrame:
        """Every current pupil's step at the as-of date (pupils who have left omitted)."""
        if self._classified is None:
            self._classified = classify(
                self.frame,
                policy=self.policy,
                national=self.national,
                as_of=self.as_of,
                parts=self.parts,
            ).collect(engine="streaming")
        return self._classified

    def escalations(self) -> pl.DataFrame:
        """Escalations and improvements against the reference (empty reference: a first run)."""
        if self._escalations is None:
            reference = self.reference if self.reference is not None else run_frame(None)
            self._escalations = escalate(
                self.classified().lazy(),
                reference,
                policy=self.policy,
                national=self.national,
                as_of=self.as_of,
                reference_as_of=self.reference_as_of,
                lang=self.lang,
            ).collect()
        return self._escalations

    def state_pupils(self) -> dict[str, tuple[int | None, str | None]]:
        rows = self.classified().select(s.PUPIL_ID, s.STEP, s.QUARTER_FLAG).iter_rows()
        return {pupil: (step, flag) for pupil, step, flag in rows}


def _unique(planned: list[Planned]) -> list[Planned]:
    """``planned``, if no two of its paths are one file, also where a file system ignores case.

    School ids are kept apart by ``tokens.school_names`` and pupils by their tokens, so what is
    left is two outputs of a config naming one file (or an id made to look like another's
    name with its hash).
    """
    paths = [same_file_key(p.path) for p in planned]
    if len(set(paths)) != len(paths):
        raise UsageError(
            "two outputs would have the same file name (letter case and Unicode normalisation "
            "ignored, as on SMB shares and macOS)",
            hint="two outputs name the same file or folder, or differ only in letter case or in "
            "how an accented letter is encoded (å as one character or as a + ring)",
        )
    return planned


def same_file_key(path: Path) -> str:
    """``path`` as file systems that ignore case and Unicode normalisation compare it.

    macOS and many SMB servers take ``å`` (U+00E5) and ``a`` + U+030A for one letter, and
    ``A`` for ``a``: two names with one key are one file there. This is Unicode's canonical
    caseless match (normalise, fold case, normalise again).

    >>> same_file_key(Path("\u00c5.csv")) == same_file_key(Path("a\u030a.csv"))
    True
    """
    return unicodedata.normalize("NFD", unicodedata.normalize("NFD", str(path)).casefold())


# -- escalations ----------------------------------------------------------------------------------


def _escalation_bytes(rows: pl.DataFrame, fmt: EscalationFormat, run: Run) -> bytes:
    if fmt == "table":
        text = render_escalations(
            rows,
            policy=run.policy,
            national=run.national,
            as_of=run.as_of,
            reference_as_of=run.reference_as_of,
            lang=run.lang,
            width=160,
        )
        return text.encode("utf-8")
    if fmt == "xlsx":
        headings = escalation_headings(run.lang)
        up, down = escalation_sheet_names(run.lang)

        def sheet(change: str) -> pl.DataFrame:
            part = rows.filter(pl.col(CHANGE) == change).drop(CHANGE)
            return part.rename({c: headings.get(c, c) for c in part.columns})

        return serialise_workbook({up: sheet(ESCALATION), down: sheet(IMPROVEMENT)})
    return serialise_frame(rows, fmt)


def escalation_files(
    run: Run, *, fmt: EscalationFormat, target: Path, split_by_school: bool
) -> list[Planned]:
    """The escalation list as one file at ``target``, or one per school in the folder ``target``.

    Every school of the current pupils gets its file, an empty one included, so that a missing
    file always means a fault and never "nothing to report".
    """
    rows = run.escalations()
    if not split_by_school:
        return [Planned(target, _escalation_bytes(rows, fmt, run), "escalations", rows.height)]
    schools = sorted(set(run.classified()[s.SCHOOL_ID].to_list()))
    names = school_names(schools)
    planned = []
    for school in schools:
        part = rows.filter(pl.col(s.SCHOOL_ID) == school)
        name = f"{ESCALATION_PREFIX}-{names[school]}-{run.as_of.isoformat()}{_EXTENSIONS[fmt]}"
        planned.append(
            Planned(target / name, _escalation_bytes(part, fmt, run), "escalations", part.height)
        )
    return _unique(planned)


# -- meeting notes --------------------------------------------------------------------------------


def meeting_note_files(run: Run, folder: Path, *, key: bytes) -> list[Planned]:
    """A Markdown and an HTML preparation sheet per pupil at step 2 or higher.

    Each is named ``SCHOOL-TOKEN-ASOF``: the school as ``tokens.school_names`` makes it, and the
    pupil's token under ``key`` (``pseudonymize.pupil_token``), never the id, which is only in
    the sheet. The same key gives the same names every week.
    """
    classified = run.classified()
    pupils = classified.filter(pl.col(s.STEP) >= 2).select(s.PUPIL_ID, s.WINDOW_START).lazy()
    categories = run.policy.primary.categories
    weeks = weekly_absence(run.frame, pupils, categories=categories, as_of=run.as_of)
    days = weekday_absence(run.frame, pupils, categories=categories, as_of=run.as_of)
    weeks_df, days_df = pl.collect_all([weeks, days])
    found = sheets(classified, weeks_df, days_df)
    tokens = pupil_tokens(key, (str(sheet.pupil[s.PUPIL_ID]) for sheet in found))
    schools = school_names({str(sheet.pupil[s.SCHOOL_ID]) for sheet in found})
    planned = []
    for sheet in found:
        school, pupil = str(sheet.pupil[s.SCHOOL_ID]), str(sheet.pupil[s.PUPIL_ID])
        stem = f"{schools[school]}-{tokens[pupil]}-{run.as_of.isoformat()}"
        markdown = sheet_markdown(sheet, policy=run.policy, lang=run.lang)
        page = sheet_html(sheet, policy=run.policy, lang=run.lang)
        planned.append(Planned(folder / f"{stem}.md", markdown.encode(), "meeting_notes", 1))
        planned.append(Planned(folder / f"{stem}.html", page.encode(), "meeting_notes", 1))
    return _unique(planned)


# -- report.toml ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Context:
    """Where a report's relative paths point."""

    base: Path  # the config file's folder
    output_folder: Path
    state: Path | None = None
    key_file: Path | None = None
    dry_run: bool = False

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
    rows = run.classified()
    if spec.include_left:
        rows = classify(
            run.frame,
            policy=run.policy,
            national=run.national,
            as_of=run.as_of,
            include_left=True,
            parts=run.parts,
        ).collect(engine="streaming")
    sheet = "elever" if run.lang == "da" else "pupils"
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
    return meeting_note_files(run, ctx.output(spec.folder, run.as_of), key=ctx.token_key())


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


def report(config_path: Path, *, as_of: date | None, today: date, dry_run: bool) -> ReportResult:
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
    )
    if state_path is not None:
        check_target(state_path)  # a FIFO would hang the reading, a device be replaced
    lock_path = at(config.lock) if config.lock is not None else ctx.output_folder / LOCK_NAME

    def build() -> ReportResult:
        loaded = load(paths, options)
        day = resolve_as_of(loaded.frame, given=as_of, today=today, where=paths[0])
        policy = pick_version(choice, as_of=day)
        national = resolve_policy(NATIONAL_POLICY, as_of=day) if config.national else None
        run = Run(
            loaded.frame, day, policy, national, lang=config.lang, parts=parts_for(loaded.frame)
        )
        state = read_state(state_path) if state_path is not None else State()
        previous, run.reference = previous_steps(
            state, day, policy=policy, pupils=run.state_pupils(), source=str(state_path)
        )
        if previous is not None and previous.policy != policy.name:
            log.warning(
                "the previous run used policy %s, this one %s: steps may not compare",
                previous.policy,
                policy.name,
            )
        run.reference_as_of = previous.as_of if previous is not None else None
        planned: list[Planned] = []
        for spec in config.outputs:
            planned += BUILDERS[spec.kind](run, spec, ctx)
        _unique(planned)
        _not_the_key(planned, ctx)
        files = [(p.path, p.data) for p in planned]
        if state_path is not None:
            advanced = advance(state, as_of=day, policy=policy.name, pupils=run.state_pupils())
            files.append((state_path, dump_state(advanced).encode("utf-8")))
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
