"""``fravaer report``: a ``report.toml`` run that writes several files as one unit.

A run reads the exports once, classifies once at the as-of date, and *plans* its files — each a
path, its bytes and its row count (:mod:`fravaer.escalation_files`, shared with
``fravaer escalate``) — before anything is written. Only then are they written with
:func:`fravaer.output.write_all`: every file to a private temporary file beside its target,
fsynced, and renamed only when all are on disk, the state file after the outputs and the manifest
last. A failure before that leaves every older file as it was.

Each ``[[outputs]]`` kind of a ``report.toml`` has a builder in :data:`BUILDERS` that turns a
:class:`Run` into planned files, through the same functions as the command it stands for
(``classify``, ``escalate``, ``stats``, ``early-warning``, ``site``); with ``split_by = "school"``
it plans them once per school. A run that got the lock ends, whatever happened, by writing a small
status file beside the lock (:func:`status`; docs/report.md#the-status-file).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import polars as pl

from fravaer import __version__
from fravaer import schema as s
from fravaer.classify import parts_for
from fravaer.config import (
    AS_OF_FIELD,
    LOCK_NAME,
    MANIFEST_NAME,
    SCHOOL_FIELD,
    ClassificationOutput,
    EarlyWarningOutput,
    EscalationsOutput,
    MeetingNotesOutput,
    ReportConfig,
    SiteOutput,
    StatsOutput,
    status_of,
)
from fravaer.errors import (
    EXIT_INTERNAL,
    EXIT_OK,
    FravaerError,
    PolicyError,
    UsageError,
    stopped,
)
from fravaer.escalate import CHANGE, ESCALATION, IMPROVEMENT
from fravaer.escalation_files import (
    FILE_WIDTH,
    Planned,
    Run,
    escalation_files,
    frame_bytes,
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
from fravaer.ingest.reference import read_reference
from fravaer.ingest.schools import read_school_names
from fravaer.ingest.source import SourceOptions
from fravaer.meeting import MeetingTemplate
from fravaer.output import (
    Format,
    check_target,
    ensure_folder_inside,
    format_for_path,
    prune_tree,
    remove_stale,
    run_lock,
    state_lock,
    write_all,
    write_bytes,
)
from fravaer.policy import NATIONAL_POLICY, Lang
from fravaer.render import render_early_warning
from fravaer.site_files import PUPIL_PAGE, school_folders, site_files
from fravaer.state import State
from fravaer.stats import MUNICIPALITY, parse_by, parse_periods
from fravaer.stats_files import published, stats_bytes, stats_chart
from fravaer.tokens import token_key, token_key_path
from fravaer.trend import HORIZON_DAYS, early_warning
from fravaer.words import sheet_name

if TYPE_CHECKING:
    from fravaer.chart import ChartFormat

log = logging.getLogger("fravaer")

MANIFEST_VERSION: Final = 2
"""2: a folder of meeting sheets is one entry (one file per pupil)."""
PER_PUPIL_KINDS: Final[dict[str, Callable[[Path], bool]]] = {
    "meeting_notes": lambda path: path.suffix == ".md",
    "site": lambda path: PUPIL_PAGE.fullmatch(path.name) is not None,
}
"""Outputs with files per pupil, named by the pupil's token (``fravaer.tokens``): the manifest
and the log name their folder and count them, and never list the names. The function tells
which of a folder's files counts one pupil (a sheet is Markdown and HTML; a site folder holds
the school's page too)."""
STATUS_VERSION: Final = 1


# -- report.toml ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Context:
    """Where a report's relative paths point."""

    base: Path  # the config file's folder
    output_folder: Path
    state: Path | None = None
    key_file: Path | None = None
    dry_run: bool = False
    export: str = ""
    """The first export, which an error about the data names (as the commands do)."""
    template: MeetingTemplate | None = None
    """The meeting sheets' questions (``meeting_template``); None: the bundled ones."""
    early_warnings: dict[int, pl.DataFrame] = field(default_factory=dict)
    """The municipality's early warning by horizon, once computed in this run: a ``site`` output
    leaves its own here (built first for that reason), and an ``early_warning`` output of the
    same horizon takes it instead of computing it again."""

    def token_key(self) -> bytes:
        """The key of the pupils' tokens in file names (``tokens.token_key``); a dry run makes
        none."""
        return token_key(self.state, self.key_file, self.output_folder, create=not self.dry_run)

    def output(self, name: str, as_of: date, school: str | None = None) -> Path:
        """``name`` in the output folder, with the as-of date and (split by school) the school's
        folder name (``site_files.school_folders``) put in."""
        named = name.replace(AS_OF_FIELD, as_of.isoformat())
        if school is not None:
            named = named.replace(SCHOOL_FIELD, school)
        return Path(os.path.normpath(self.output_folder / named))


def current_schools(run: Run) -> dict[str, str]:
    """The schools of the current pupils, each with its name in a file name, in id order: the
    schools an output split by school writes (a list's file even when empty, so that a missing
    file always means a fault)."""
    schools = sorted(set(run.classified()[s.SCHOOL_ID].drop_nulls().to_list()))
    names = school_folders(set(schools))
    return {school: names[school] for school in schools}


def _per_school(
    run: Run, spec: Any, plan: Callable[[Run, str | None, str | None], list[Planned]]
) -> list[Planned]:
    """``plan(run, school_id, school_name)`` once for the whole run, or, when ``spec`` is split by
    school, once per school with the run cut to that school's pupils (:meth:`Run.of_school`),
    the id to filter by and the name for ``{school}``."""
    if getattr(spec, "split_by", None) is None:
        return plan(run, None, None)
    planned: list[Planned] = []
    for school, name in current_schools(run).items():
        planned += plan(run.of_school(school), school, name)
    return planned


def _of_school(frame: pl.DataFrame, school: str | None) -> pl.DataFrame:
    return frame if school is None else frame.filter(pl.col(s.SCHOOL_ID) == school)


def _format(spec: Any, path: Path, allowed: tuple[str, ...]) -> Format:
    """The output's ``format``, else its file name's; refused (78) if neither says."""
    fmt = spec.format or format_for_path(path)
    if fmt not in allowed:
        raise PolicyError(f"{spec.file}: cannot tell the format from the name; set format")
    assert fmt is not None
    return fmt


MACHINE: Final = ("csv", "json", "parquet", "xlsx")
TABLE_OR_MACHINE: Final = (*MACHINE, "table")


def _classification(run: Run, spec: Any, ctx: Context) -> list[Planned]:
    assert isinstance(spec, ClassificationOutput)
    every = run.classified(include_left=spec.include_left)
    sheet = sheet_name("pupils", run.lang)

    def plan(_: Run, school: str | None, name: str | None) -> list[Planned]:
        path = ctx.output(spec.file, run.as_of, name)
        fmt = _format(spec, path, MACHINE)
        assert fmt != "table"  # not in MACHINE
        rows = _of_school(every, school)  # pupils who left too, with include_left
        return [
            Planned(path, frame_bytes(run, rows, fmt, sheet=sheet), "classification", rows.height)
        ]

    return _per_school(run, spec, plan)


def _escalations(run: Run, spec: Any, ctx: Context) -> list[Planned]:
    assert isinstance(spec, EscalationsOutput)

    def plan(part: Run, _: str | None, name: str | None) -> list[Planned]:
        if spec.folder is not None:  # a folder of escalations-SCHOOL-ASOF files
            target = ctx.output(spec.folder, run.as_of, name)
            return escalation_files(part, fmt=spec.format, target=target, split_by_school=True)
        assert spec.file is not None
        target = ctx.output(spec.file, run.as_of, name)
        return escalation_files(part, fmt=spec.format, target=target, split_by_school=False)

    if spec.folder is not None and SCHOOL_FIELD not in spec.folder:
        return plan(run, None, None)  # one folder: the split writes one file per school itself
    return _per_school(run, spec, plan)


def _meeting_notes(run: Run, spec: Any, ctx: Context) -> list[Planned]:
    assert isinstance(spec, MeetingNotesOutput)
    key = ctx.token_key()
    template = ctx.template or read_meeting_template(None)

    def plan(part: Run, _: str | None, name: str | None) -> list[Planned]:
        folder = ctx.output(spec.folder, run.as_of, name)
        return meeting_note_files(part, folder, key=key, template=template)

    return _per_school(run, spec, plan)


def _stats(run: Run, spec: Any, ctx: Context) -> list[Planned]:
    """As ``fravaer stats``; split by school, the statistics of each school's own rows, as
    ``fravaer stats`` gives them for an export of that school alone."""
    assert isinstance(spec, StatsOutput)
    keys = list(parse_by(spec.by))
    try:
        periods = parse_periods(spec.period, as_of=run.as_of)
    except UsageError as exc:
        raise PolicyError(f"stats output {spec.file}: {exc.message.removeprefix('--')}") from None
    national = read_reference(ctx.base / spec.reference if spec.reference else None)

    def plan(_: Run, school: str | None, name: str | None) -> list[Planned]:
        path = ctx.output(spec.file, run.as_of, name)
        fmt = _format(spec, path, TABLE_OR_MACHINE)
        frame, days = run.frame, run.school_days
        if school is not None:  # the school's own rows, and its own dates
            frame = frame.filter(pl.col(s.SCHOOL_ID) == school)
            days = None if days is None else days.filter(pl.col(s.SCHOOL_ID) == school)
        shown = published(
            frame,
            keys=keys,
            periods=periods,
            as_of=run.as_of,
            policy=run.policy,
            national=national,
            min_cell=spec.min_cell if spec.suppression else None,
            schools=spec.chart is not None,
            where=ctx.export,
            school_days=days,
        )
        data = stats_bytes(
            shown,
            fmt,
            policy=run.policy,
            as_of=run.as_of,
            lang=run.lang,
            width=FILE_WIDTH,
            headers=run.headers,
            names=run.names,
        )
        rows = shown.table.filter(~pl.col(MUNICIPALITY)).height
        planned = [Planned(path, data, "stats", rows)]
        if spec.chart is not None:
            chart = ctx.output(spec.chart, run.as_of, name)
            fmt_chart: ChartFormat = "svg" if chart.suffix.lower() == ".svg" else "png"
            drawn = stats_chart(shown, fmt_chart, as_of=run.as_of, lang=run.lang, names=run.names)
            assert drawn is not None
            planned.append(Planned(chart, drawn, "stats_chart", rows))
        return planned

    return _per_school(run, spec, plan)


def _early_warning(run: Run, spec: Any, ctx: Context) -> list[Planned]:
    """As ``fravaer early-warning``; split by school, the municipality's list cut by school (not
    ``--school``, whose false-discovery family would be the school's pupils alone)."""
    assert isinstance(spec, EarlyWarningOutput)
    every = ctx.early_warnings.get(spec.horizon)
    if every is None:
        every = early_warning(
            run.frame, policy=run.policy, as_of=run.as_of, horizon=spec.horizon, lessons=run.lessons
        ).collect()
        ctx.early_warnings[spec.horizon] = every

    def plan(_: Run, school: str | None, name: str | None) -> list[Planned]:
        path = ctx.output(spec.file, run.as_of, name)
        fmt = _format(spec, path, TABLE_OR_MACHINE)
        rows = _of_school(every, school)
        if fmt == "table":
            text = render_early_warning(
                rows,
                policy=run.policy,
                as_of=run.as_of,
                horizon=spec.horizon,
                lang=run.lang,
                width=FILE_WIDTH,
            )
            data = text.encode("utf-8")
        else:
            data = frame_bytes(run, rows, fmt, sheet=sheet_name("warning", run.lang))
        return [Planned(path, data, "early_warning", rows.height)]

    return _per_school(run, spec, plan)


def _site(run: Run, spec: Any, ctx: Context) -> list[Planned]:
    """As ``fravaer site``: the same pages under the output's folder."""
    assert isinstance(spec, SiteOutput)
    names = (
        dict(run.names) | read_school_names(ctx.base / spec.school_names)
        if spec.school_names
        else dict(run.names)
    )
    national = run.national or resolve_policy(NATIONAL_POLICY, as_of=run.as_of)
    pages = site_files(
        run.frame,
        as_of=run.as_of,
        policy=run.policy,
        national=national,
        lang=run.lang,
        names=names,
        key=ctx.token_key(),
        template=ctx.template or read_meeting_template(None),
        lessons=run.lessons,
        school_days=run.school_days,
    )
    if pages.early_warning is not None:
        ctx.early_warnings.setdefault(HORIZON_DAYS, pages.early_warning)
    root = ctx.output(spec.folder, run.as_of)
    return [
        Planned(root / path, data, "site", 1 if PUPIL_PAGE.fullmatch(path.name) else 0)
        for path, data in pages.files
    ]


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
    "stats": _stats,
    "early_warning": _early_warning,
    "site": _site,
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

    A per-pupil folder's entry has ``files`` (a sheet's Markdown and HTML; a site folder's pages)
    and ``rows`` (pupils).
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
        folders[folder]["rows"] += 1 if PER_PUPIL_KINDS[planned.kind](planned.path) else 0
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


@dataclass
class Status:
    """What the status file says of a run: counts only, never an id or a value."""

    started: datetime
    as_of: date | None = None
    files: int = 0
    pupils: int | None = None
    escalations: int | None = None
    improvements: int | None = None

    def bytes(self, *, exit_code: int, finished: datetime, error: str | None) -> bytes:
        """The status file's content (docs/report.md#the-status-file)."""
        data = {
            "status_version": STATUS_VERSION,
            "outcome": "ok" if exit_code == EXIT_OK else "failed",
            "exit_code": exit_code,
            "error": error,
            "started": _utc(self.started),
            "finished": _utc(finished),
            "as_of": self.as_of.isoformat() if self.as_of is not None else None,
            "files": self.files,
            "pupils": self.pupils,
            "escalations": self.escalations,
            "improvements": self.improvements,
            "fravaer_version": __version__,
        }
        return (json.dumps(data, indent=2) + "\n").encode("ascii")


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def now() -> datetime:
    """The clock of the status file's times (tests replace it)."""
    return datetime.now(UTC)


def exit_code_of(exc: BaseException) -> int:
    """The exit code the CLI gives ``exc`` (fravaer.cli): its own, a signal's, or 70."""
    if isinstance(exc, FravaerError):
        return exc.exit_code
    kind = stopped(exc)
    if kind is not None:
        return kind.exit_code
    if isinstance(exc, SystemExit):
        return exc.code if isinstance(exc.code, int) else EXIT_INTERNAL
    return EXIT_INTERNAL


@contextlib.contextmanager
def status_written(path: Path, clock: Callable[[], datetime]) -> Iterator[Status]:
    """Write the status file at ``path`` when the block ends, whatever ended it.

    Called once the run holds its lock, so that only the run that holds it writes the status.
    The block's error is raised again; a failure to write the status after an error is logged
    and the first error kept.
    """
    status = Status(started=clock())
    try:
        yield status
    except BaseException as exc:
        data = status.bytes(exit_code=exit_code_of(exc), finished=clock(), error=type(exc).__name__)
        try:
            write_bytes(data, path)
        except FravaerError as failed:
            log.warning("the status file was not written: %s", failed.message)
        raise
    write_bytes(status.bytes(exit_code=EXIT_OK, finished=clock(), error=None), path)


def report(
    config_path: Path,
    *,
    as_of: date | None,
    today: date,
    dry_run: bool,
    lang: Lang = "da",
    clock: Callable[[], datetime] = now,
) -> ReportResult:
    """Run a ``report.toml``: read, classify, build every output, and write them all as one.

    Without ``dry_run`` the run holds its lock and the state's lock (exit 75 if another run
    holds either) from before the data is read until the manifest is written. Temporary files
    left by a killed run are removed first. Once it holds its lock, the run ends by writing the
    status file beside the lock (:func:`status_written`, times from ``clock``), also when it
    fails. A dry run reads everything, writes nothing and takes no lock. ``today`` is the day of
    the run, read by the CLI: without ``as_of`` the as-of date is the latest in the data on or
    before it (:func:`fravaer.asof.resolve_as_of`).
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
        export=paths[0],
        template=read_meeting_template(
            at(config.meeting_template) if config.meeting_template is not None else None
        ),
    )
    if state_path is not None:
        check_target(state_path)  # a FIFO would hang the reading, a device be replaced
    lock_path = at(config.lock) if config.lock is not None else ctx.output_folder / LOCK_NAME
    names = read_school_names(at(config.school_names)) if config.school_names is not None else {}

    def build(status: Status) -> ReportResult:
        # Sheets, dossiers and the early warning name a lesson-level export's lesson finding.
        kinds = MeetingNotesOutput | SiteOutput | EarlyWarningOutput
        sheets = any(isinstance(spec, kinds) for spec in config.outputs)
        loaded, day = load_at(
            paths, options, given=as_of, today=today, where=paths[0], lessons=sheets
        )
        status.as_of = day
        policy = pick_version(choice, as_of=day)
        national = resolve_policy(NATIONAL_POLICY, as_of=day) if config.national else None
        run = Run(
            loaded.frame,
            day,
            policy,
            national,
            lang=config.lang or lang,
            headers=config.headers,
            names=loaded.school_names() | names,  # a school_names file has the last word
            parts=parts_for(loaded.frame),
            lessons=loaded.lessons,
            school_days=loaded.school_days,
        )
        state = read_state(state_path) if state_path is not None else State()
        run.compare_with_state(state, source=str(state_path))
        status.pupils = run.classified().height
        # The sites first: each leaves its early warning for an early_warning output to take
        # (ctx.early_warnings); the files keep the order of report.toml.
        built: dict[int, list[Planned]] = {}
        for i in sorted(range(len(config.outputs)), key=lambda i: config.outputs[i].kind != "site"):
            built[i] = BUILDERS[config.outputs[i].kind](run, config.outputs[i], ctx)
        planned = [item for i in range(len(config.outputs)) for item in built[i]]
        unique(planned)
        _not_the_key(planned, ctx)
        files = [(p.path, p.data) for p in planned]
        if state_path is not None:
            files.append((state_path, run.next_state(state)))
            changes = dict(run.escalations().group_by(CHANGE).len().iter_rows())
            status.escalations = changes.get(ESCALATION, 0)
            status.improvements = changes.get(IMPROVEMENT, 0)
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
            sites = [ctx.output(o.folder, day) for o in config.outputs if isinstance(o, SiteOutput)]
            write_all(files, then=lambda: _prune_sites([path for path, _ in files], sites))
            status.files = len(files)
        return ReportResult(day, planned, line)

    if dry_run:
        return build(Status(started=clock()))
    ensure_folder_inside(ctx.output_folder, lock_path.parent)
    if state_path is not None:
        ensure_folder_inside(ctx.output_folder, state_path.parent)
    # The state's own lock too, the one `escalate --state` holds: one lock for one state file.
    with (
        run_lock(lock_path),
        status_written(status_path(lock_path), clock) as status,
        state_lock(state_path),
    ):
        remove_stale(ctx.output_folder)
        if state_path is not None and state_path.parent != ctx.output_folder:
            remove_stale(state_path.parent, recursive=False)
        return build(status)


def status_path(lock: Path) -> Path:
    """The status file beside the run's lock (``config.status_of``)."""
    return Path(status_of(lock.as_posix()))


def _prune_sites(written: list[Path], sites: list[Path]) -> None:
    """Remove the pages of pupils no longer listed from each site output's school folders, as
    ``fravaer site`` does (``output.prune_tree``): never a file of this run, whatever its kind
    (another output may be named like a page inside a site's folder)."""
    for root in sites:
        removed = prune_tree(root, written, PUPIL_PAGE)
        if removed:
            log.info("removed %d page(s) of pupils no longer listed in %s", removed, root)
