"""Orchestration: what is stale, what to rebuild, progress, and the end-of-run summary.

A build holds the output folder's lock, never writes into the extract folder, records the SHA-256
of every output a stage writes (a damaged or changed output makes its stage rebuild), writes
output/manifest.json at the end, and on Ctrl-C or SIGTERM stops every process it started.
"""

from __future__ import annotations

import gc
import hashlib
import json
import logging
import multiprocessing as mp
import pickle
import queue
import resource
import signal
import threading
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import pandas as pd

from naome_report import atomic
from naome_report.config import PROJECT_ROOT, SYNTHETIC_MARKER, Config, ConfigError
from naome_report.errors import NaomeError
from naome_report.lock import output_lock
from naome_report.machine import available_cores, install_child_guard, stop_descendants
from naome_report.manifest import STATE_FILE, DigestCache, build_manifest, output_files, write_manifest
from naome_report.organisations import is_synthetic_extract, load_organisations, organisations_path
from naome_report.progress import Progress
from naome_report.registry import Registry, load_registry
from naome_report.stages import STAGES

logger = logging.getLogger("naome_report.build")
STATE_VERSION = 2  # outputs recorded with their SHA-256, relative to the output folder
QUARANTINE_DIR = Path("restricted") / "quarantine"  # record-level: never public


@dataclass
class StageReport:
    """What one stage did."""

    name: str
    status: str  # built, up to date, failed
    seconds: float = 0.0
    outputs: list[Path] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    cpu: float | None = None  # CPU seconds of the stage's process and the processes it waited for


@dataclass
class BuildContext:
    """What every stage may use."""

    config: Config
    registry: Registry
    progress: Progress
    force: bool = False
    workers: int = 0  # processes for the packs (0: all cores)
    stage_workers: int = 0  # processes a stage may use besides (0: all cores; 1 while the packs run)
    results_key: str | None = None  # digest of configuration, code and published data (later stages)

    @property
    def output_dir(self) -> Path:
        return self.config.output_dir

    @property
    def data_dir(self) -> Path:
        return self.config.output_dir / "data"


class BuildInterrupted(Exception):
    """The build was stopped by Ctrl-C or SIGTERM; the message says what was left whole."""


def _hash_paths(paths: list[Path], root: Path | None = None) -> str:
    """One digest of the files' names (relative to the project or `root`, so a moved folder keeps it) and bytes."""
    digest = hashlib.sha256()
    for path in sorted(paths):
        if path.is_file():
            if path.is_relative_to(PROJECT_ROOT):
                name = path.relative_to(PROJECT_ROOT)
            elif root is not None and path.is_relative_to(root):
                name = path.relative_to(root)
            else:
                name = path
            digest.update(str(name).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def _tree(*dirs: Path, suffixes: tuple[str, ...] = ()) -> list[Path]:
    files = []
    for d in dirs:
        if d.is_file():
            files.append(d)
        elif d.is_dir():
            files += [p for p in d.rglob("*") if p.is_file() and "__pycache__" not in p.parts
                      and (not suffixes or p.suffix in suffixes)]
    return files


def _code_files() -> list[Path]:
    return _tree(PROJECT_ROOT / "naome_report", suffixes=(".py",))


def _load_state(ctx: BuildContext) -> dict:
    """What each stage last built; an unreadable or older state means every stage is rebuilt."""
    path = ctx.output_dir / STATE_FILE
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(state, dict) or state.pop("version", None) != STATE_VERSION:
        return {}
    return state


def _save_state(ctx: BuildContext, state: dict) -> None:
    atomic.write_text(ctx.output_dir / STATE_FILE,
                      json.dumps({"version": STATE_VERSION, **state}, indent=1, sort_keys=True))


def _relative(path: Path, root: Path) -> str:
    return path.relative_to(root).as_posix() if path.is_relative_to(root) else str(path)


def damaged_outputs(output_dir: Path, recorded: dict[str, str], digest: Callable[[Path], str]) -> list[str]:
    """The recorded outputs that are missing or whose bytes are no longer those the stage wrote."""
    damaged = []
    for name, expected in recorded.items():
        path = Path(name) if Path(name).is_absolute() else output_dir / name
        try:
            if digest(path) != expected:
                damaged.append(name)
        except OSError:
            damaged.append(name)
    return damaged


# --- stages -----------------------------------------------------------------------------------------

def stage_extract(ctx: BuildContext) -> StageReport:
    """The synthetic cohort, written into its own folder under the output (only when the configuration asks)."""
    from naome_report.synth.generator import generate_extract, write_extract

    fmt = ctx.config.section("synthetic").get("file_format", "csv")
    written = write_extract(generate_extract(ctx.config), ctx.config.extract_dir, fmt)
    return StageReport("extract", "built", outputs=written,
                       warnings=["built from the SYNTHETIC cohort: no real patient data"])


def stage_data(ctx: BuildContext) -> StageReport:
    """Validate the extract, derive the cohort and compute every public data file."""
    from naome_report.cohort import derive_cohort
    from naome_report.ingest.validate import validate_extract
    from naome_report.ingest.quarantine import write_quarantine, write_restricted_csv
    from naome_report.publish.datafiles import write_data_files, write_tables
    from naome_report.reconcile import published_flow, published_reconciliation, reconcile
    from naome_report.restricted.data_quality import write_data_quality
    from naome_report.results import hub_indicators, remaining_tables, run_chart_table, survival_estimates
    from naome_report.sources import data_sources, read_manifest

    config = ctx.config
    synthetic = config.synthetic or is_synthetic_extract(config.extract_dir)
    orgs = load_organisations(config, synthetic)
    ctx.progress.note("validating the extract")
    validated = validate_extract(config.extract_dir, orgs, config.data_cutoff, progress=ctx.progress.note)
    quarantine_written = write_quarantine(validated, config.output_dir / QUARANTINE_DIR)
    quarantine_paths = [quarantine_written] if isinstance(quarantine_written, Path) else list(quarantine_written)
    ctx.progress.note("deriving the cohort")
    cohort = derive_cohort(validated.frames, config)
    reconciliation, by_reason = reconcile(validated.counts, validated.quarantine, validated.frames, cohort,
                                          config.financial_years)
    sources = data_sources(validated.counts, validated.quarantine, cohort, read_manifest(config.extract_dir))
    restricted = config.output_dir / QUARANTINE_DIR
    quarantine_paths += [write_restricted_csv(reconciliation, restricted / "reconciliation.csv"),
                         write_restricted_csv(by_reason, restricted / "exclusions_by_reason.csv")]
    low, high = (config.section("disclosure")[k] for k in ("suppress_low", "suppress_high"))
    quarantined = len(validated.quarantine)
    ctx.progress.note("computing indicators and statistics")
    meta = {
        "audit": config.section("audit")["name"], "primary_period": config.primary_period,
        "financial_years": config.financial_years, "data_cutoff": config.data_cutoff.isoformat(),
        "synthetic": synthetic, "definitions_version": ctx.registry.definitions_version,
        "organisations": len(orgs), "patients": len(cohort.patients), "disclosure": config.section("disclosure"),
        # withheld from 1 to 4 like every published count (the exact count is in restricted/quarantine)
        "quarantined_records": None if low <= quarantined <= high else quarantined,
        "built_at": config.build_time.isoformat(),  # never the clock: rebuilds are byte-identical
        "renderer_note": "numbers in every output come from these files",
    }
    # On both cores, in two steps of about equal halves: a second process makes what needs the cohort alone
    # (survival estimates; the restricted data quality lists, for each organisation's MDT data lead) while
    # this one computes the indicators; then one computes and writes the run charts, which read only the
    # indicators, while this one makes and writes the other tables.
    with _Alongside(lambda: (survival_estimates(cohort, orgs, config, synthetic),
                             write_data_quality(cohort.patients, orgs, config, config.output_dir / "restricted")),
                    workers=ctx.stage_workers) as cohort_only:
        core = hub_indicators(cohort, ctx.registry, orgs, validated.frames["cpes"], config, synthetic)
        with _Alongside(lambda: write_tables({"run_charts": run_chart_table(core.tables, ctx.registry, core.periods,
                                                                            orgs, config)}, ctx.data_dir),
                        workers=ctx.stage_workers) as run_charts:
            survival, written = cohort_only.result()
            tables = remaining_tables(core, cohort, ctx.registry, orgs, config, synthetic, survival)
            written += write_data_files(tables, published_flow(cohort.flow(), low, high),
                                        published_reconciliation(reconciliation, low, high), meta, ctx.data_dir,
                                        sources)
            written += run_charts.result()
    warnings = list(validated.warnings)
    if quarantined:
        warnings.append(f"{quarantined:,} records quarantined: see {config.output_dir / QUARANTINE_DIR}")
    if synthetic:
        warnings.append("results computed from the SYNTHETIC cohort")
    return StageReport("data", "built", outputs=written + list(quarantine_paths), warnings=warnings)


def _results(ctx: BuildContext):
    from naome_report.hub import load_results

    return load_results(ctx.data_dir)


def stage_workbook(ctx: BuildContext) -> StageReport:
    """The Excel metrics table and its OpenDocument copy."""
    from naome_report.publish.workbook.files import build_workbook

    return StageReport("workbook", "built", outputs=build_workbook(_results(ctx), ctx.registry, ctx.config, ctx.output_dir))


def stage_documents(ctx: BuildContext) -> StageReport:
    """State of the Nation, patient report and methodology supplement (HTML and PDF)."""
    from naome_report.publish.documents import build_documents

    outputs, warnings = build_documents(_results(ctx), ctx.registry, ctx.config, ctx.output_dir,
                                        progress=ctx.progress.note, workers=ctx.stage_workers,
                                        inputs_key=None if ctx.force else ctx.results_key)
    return StageReport("documents", "built", outputs=outputs, warnings=warnings)


def stage_packs(ctx: BuildContext) -> StageReport:
    """One PDF results pack per organisation."""
    from naome_report.publish.packs import build_packs

    task = ctx.progress.task("packs")
    outputs = build_packs(_results(ctx), ctx.registry, ctx.config, ctx.output_dir / "packs", workers=ctx.workers,
                          progress=task)
    return StageReport("packs", "built", outputs=outputs)


def stage_restricted(ctx: BuildContext) -> StageReport:
    """The restricted outlier tracker, draft HQIP letters and the restricted folder's README."""
    from naome_report.restricted.files import build_restricted

    outputs = build_restricted(_results(ctx), ctx.registry, ctx.config, ctx.output_dir / "restricted")
    return StageReport("restricted", "built", outputs=outputs)


def stage_portal(ctx: BuildContext) -> StageReport:
    """The static results portal."""
    from naome_report.publish.portal import build_portal

    return StageReport("portal", "built", outputs=build_portal(_results(ctx), ctx.registry, ctx.config,
                                                                 ctx.output_dir / "portal"))


STAGE_FUNCTIONS: dict[str, Callable[[BuildContext], StageReport]] = {
    "extract": stage_extract, "data": stage_data, "workbook": stage_workbook, "documents": stage_documents,
    "packs": stage_packs, "portal": stage_portal, "restricted": stage_restricted,
}


HEAD = ("extract", "data")  # one after the other: every later stage reads what they write
TAIL = ("workbook", "documents", "packs", "portal", "restricted")  # independent of each other: run at the same time
SIDE_ORDER = ("documents", "workbook", "portal", "restricted")  # the longest first, so it is not left running alone at the end
# The data stage's modules, imported here while extract runs (the data process is forked from here).
DATA_MODULES = ["naome_report.cohort", "naome_report.ingest.validate", "naome_report.ingest.quarantine",
                "naome_report.publish.datafiles", "naome_report.reconcile", "naome_report.results",
                "naome_report.restricted.data_quality"]
# Modules of the later stages: imported here and by the fork server while data runs, so that stage
# processes, forked from either, start with them.
STAGE_MODULES = {
    "workbook": ["naome_report.publish.workbook.files"],
    "documents": ["naome_report.publish.documents", "naome_report.publish.documents.context",
                  "naome_report.publish.documents.figures", "naome_report.publish.documents.render", "weasyprint"],
    "portal": ["naome_report.publish.portal"],
    "restricted": ["naome_report.restricted.files"],
}


# What each later stage renders with, besides the configuration, the code and the published data:
# editing one stage's templates rebuilds that stage only.
STAGE_TEMPLATES: dict[str, Callable[[], list[Path]]] = {
    "workbook": lambda: [],
    "documents": lambda: _tree(PROJECT_ROOT / "templates" / "documents") + _tree(PROJECT_ROOT / "reports"),
    "packs": lambda: _tree(PROJECT_ROOT / "templates" / "pack"),
    "portal": lambda: _tree(PROJECT_ROOT / "templates" / "portal"),
    "restricted": lambda: _tree(PROJECT_ROOT / "templates" / "restricted"),
}


def _config_files(ctx: BuildContext) -> list[Path]:
    from naome_report.config import DEFAULT_CONFIG

    return list(dict.fromkeys([DEFAULT_CONFIG, ctx.config.source, ctx.config.path("organisations"),
                               ctx.config.path("synthetic_organisations"), ctx.config.path("indicators")]))


def _results_inputs(ctx: BuildContext) -> list[Path]:
    """What every later stage reads besides its own templates: configuration, code and the published data."""
    return _config_files(ctx) + _code_files() + _tree(ctx.data_dir)


def _inputs(ctx: BuildContext, stage: str) -> list[Path]:
    """The files whose content decides whether a stage's outputs are stale."""
    if stage == "extract":
        return _config_files(ctx) + _tree(PROJECT_ROOT / "naome_report" / "synth")
    if stage == "data":
        return _config_files(ctx) + _code_files() + _tree(ctx.config.extract_dir)
    return _results_inputs(ctx) + STAGE_TEMPLATES[stage]()


def _tail_fingerprints(ctx: BuildContext, stages: list[str]) -> tuple[str, dict[str, str]]:
    """The digest of what the later stages share (read and hashed once), and each one's fingerprint: that
    digest with its own templates."""
    shared = _hash_paths(_results_inputs(ctx), ctx.output_dir)
    return shared, {s: hashlib.sha256((shared + _hash_paths(STAGE_TEMPLATES[s]())).encode()).hexdigest()
                    for s in stages}


def _bundle_portal(ctx: BuildContext) -> None:
    """Link the reports, packs, workbook and data files into the portal, so that it works as a web root."""
    from naome_report.publish.portal.bundle import bundle_outputs

    linked = bundle_outputs(ctx.output_dir, ctx.output_dir / "portal")
    if linked:
        logger.info("portal: %d published files linked in", len(linked))


class StageFailed(RuntimeError):
    """A stage raised an error that could not be brought back from its process as it was."""


class _RemoteTraceback(Exception):
    """The traceback of an error in a stage process (shown as the cause of the error re-raised here)."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text

    def __str__(self) -> str:
        return self.text


class DamagedOutput(NaomeError):
    """An output that a stage not being run wrote, changed or damaged since."""


class _Alongside:
    """`function()` in a process forked from this one on entering the block, while this one goes on.

    The forked process inherits this one's memory, so nothing is pickled on the way in; only the return
    value (keep it small: the function writes what it computes) comes back. `result()` returns it, or
    raises the function's own error with its traceback as the cause, as a stage process's error is.
    Leaving the block waits for the process, so that it never leaves a file half written. With one
    core (`workers`, 0: all), or no fork, `result()` runs the function here.
    """

    def __init__(self, function: Callable[[], Any], workers: int = 0) -> None:
        self.function = function
        self.fork = ((workers or available_cores()) > 1 and "fork" in mp.get_all_start_methods()
                     and not mp.current_process().daemon)  # a daemon process may not start processes
        self.process: Any = None
        self.receiver: Any = None

    def __enter__(self) -> _Alongside:
        if not self.fork:
            return self
        context = mp.get_context("fork")
        self.receiver, sender = context.Pipe(duplex=False)
        self.process = context.Process(target=_send_outcome, args=(self.function, sender),
                                       name=f"{mp.current_process().name}-alongside")
        # The objects made so far are left out of this process's collections, which would otherwise touch (and
        # so copy) the memory it shares with the forked one; they are put back when the block ends.
        gc.freeze()
        try:
            self.process.start()
        except BaseException:
            gc.unfreeze()
            raise
        finally:
            sender.close()
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.process is not None:
            if not self.receiver.closed:
                self._receive()
            gc.unfreeze()

    def _receive(self) -> tuple[bool, Any, str]:
        """Wait for the outcome and for the process to end."""
        try:
            return self.receiver.recv()
        except EOFError:
            return False, None, ""
        finally:
            self.receiver.close()
            self.process.join()

    def result(self) -> Any:
        """The function's return value (raising its error)."""
        if self.process is None:
            return self.function()
        ok, value, text = self._receive()
        if ok:
            return value
        if value is None:  # killed, or its outcome could not be sent
            code = self.process.exitcode
            why = f"killed by signal {-code}" if code < 0 else f"exit code {code}"
            raise StageFailed(f"{self.process.name}: its process ended ({why}) without a result")
        raise value from _RemoteTraceback(text)


def _send_outcome(function: Callable[[], Any], sender: Any) -> None:
    """In the forked process: send (True, return value, "") or (False, the error, its traceback)."""
    try:
        outcome = (True, function(), "")
    except BaseException as exc:  # noqa: BLE001  (raised by the parent)
        outcome = (False, _portable(exc), traceback.format_exc())
    sender.send(outcome)
    sender.close()


def run_build(config: Config, stages: list[str] | None = None, force: bool = False, workers: int | None = None,
              progress: Progress | None = None) -> list[StageReport]:
    """Run the stages whose inputs (or outputs) changed: extract, then data, then the other four at the same time.

    Each stage runs in a process of its own (the packs in this one, with their worker pool), so a
    stage's memory is returned when it ends. The state file records each stage, with the SHA-256 of
    each of its outputs, as soon as it ends; output/manifest.json is written at the end. If a stage
    fails, it is shown and logged, the other stages still finish (their outputs are kept and
    recorded), and then the failed stage's own exception is raised. Ctrl-C or SIGTERM stop every
    process of the build and raise BuildInterrupted saying what was left whole.
    """
    install_child_guard()
    progress = progress or Progress()
    wanted = [s for s in STAGES if s in (stages or STAGES)]
    if "extract" in wanted and not config.synthetic:
        wanted.remove("extract")
    with output_lock(config.output_dir, command="naome-report build") as note:
        if note:
            progress.warn(note)
        _remove_legacy_folders(config.output_dir, progress)
        swept = atomic.sweep_temporary_files(config.output_dir)
        if swept:
            logger.warning("removed %d temporary file(s) left by an interrupted build", len(swept))
        if "data" in wanted:
            check_inputs(config)
        registry = load_registry(config.path("indicators"), config)
        ctx = BuildContext(config=config, registry=registry, progress=progress, force=force,
                           workers=config.section("build")["workers"] if workers is None else workers)
        runner = _Runner(ctx, _load_state(ctx))
        started = time.perf_counter()
        with _sigterm_as_interrupt():
            try:
                runner.run(wanted)
                _bundle_portal(ctx)  # after every build: the other stages may have rewritten what the portal links to
                runner.write_manifest()
            except KeyboardInterrupt:
                raise BuildInterrupted(runner.stop(time.perf_counter() - started)) from None
            finally:
                runner.close()
    if runner.failures:
        runner.raise_first_failure()
    return runner.reports_in_order(wanted)


def _remove_legacy_folders(output_dir: Path, progress: Progress) -> None:
    """Earlier versions wrote the synthetic extract to output/extract and the quarantine to output/quarantine:
    record-level files that must not sit among the public outputs. A real extract is never touched."""
    import shutil

    legacy = {"extract": output_dir / "extract" / SYNTHETIC_MARKER,
              "quarantine": output_dir / "quarantine" / "quarantine.csv"}
    for name, sign in legacy.items():
        if sign.is_file():
            shutil.rmtree(sign.parent)
            progress.warn(f"removed {sign.parent} (written by an earlier version; now "
                          f"{'synthetic-extract' if name == 'extract' else QUARANTINE_DIR})")


def check_organisations(config: Config) -> None:
    """The organisation table is there (its content is checked where it is read)."""
    organisations = organisations_path(config, config.synthetic)
    if not organisations.is_file():
        key = "synthetic_organisations" if config.synthetic else "organisations"
        raise ConfigError(f"{organisations}: organisation table not found; set [paths] {key} in "
                          f"{config.source} to the current organisation table")


def check_inputs(config: Config) -> None:
    """Fatal problems with the inputs, before any stage starts: a missing, unreadable or malformed file."""
    check_organisations(config)
    if config.synthetic:
        return  # the extract stage writes it
    from naome_report.ingest.validate import check_extract_files

    check_extract_files(config.extract_dir)


class _sigterm_as_interrupt:
    """While building, SIGTERM stops the build the way Ctrl-C does (in the main thread only)."""

    def __enter__(self) -> None:
        self.previous = None
        if threading.current_thread() is threading.main_thread():
            self.previous = signal.signal(signal.SIGTERM, self._interrupt)

    @staticmethod
    def _interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    def __exit__(self, *exc: Any) -> None:
        if self.previous is not None:
            signal.signal(signal.SIGTERM, self.previous)


def _import_quietly(modules: list[str]) -> None:
    """Import modules ahead of time; one that has moved or fails is left for the stage to import (or report)."""
    import importlib

    for name in modules:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001
            logger.debug("could not import %s ahead of time", name, exc_info=True)


@dataclass
class _Running:
    stage: str
    started: float
    fingerprint: str
    process: Any = None  # multiprocessing.Process, or None for the packs (a thread of the builder)
    exited_at: float | None = None


class _Runner:
    """Starts stage processes, relays their progress and log records, and records what they built."""

    def __init__(self, ctx: BuildContext, state: dict) -> None:
        self.ctx, self.state, self.progress = ctx, state, ctx.progress
        self.reports: dict[str, StageReport] = {}
        self.failures: list[tuple[str, BaseException]] = []
        self.running: dict[str, _Running] = {}
        self._events: Any = None
        self._server_started = False
        self.wanted: list[str] = []
        self.forced: set[str] = set()  # stages rebuilt in full because an output was damaged
        self.digests = DigestCache()

    # ---------------------------------------------------------------- plan

    def run(self, wanted: list[str]) -> None:
        self.wanted = wanted
        head = [s for s in HEAD if s in wanted]
        tail = [s for s in TAIL if s in wanted]
        for stage in head:
            fingerprint = self._fingerprint(stage)  # data's depends on what extract has just written
            if self._up_to_date(stage, fingerprint):
                self.reports[stage] = StageReport(stage, "up to date")
                continue
            self._launch(stage, fingerprint)
            # While it runs (one core): import what the next stages need, here and in the fork server.
            if "packs" in tail:
                self._start_fork_server(tail)
            if stage == "extract" and "data" in head:
                _import_quietly(DATA_MODULES)
            elif stage == "data":
                _import_quietly([m for s in tail for m in STAGE_MODULES.get(s, [])]
                                + (["naome_report.publish.packs"] if "packs" in tail else []))
            self._wait(until_idle=True)
            if self.failures:
                return
        if tail and "data" not in wanted:
            self._refuse_damaged("data")
        self.ctx.results_key, fingerprints = _tail_fingerprints(self.ctx, tail)
        stale = [s for s in tail if not self._up_to_date(s, fingerprints[s])]
        for stage in tail:
            if stage not in stale:
                self.reports[stage] = StageReport(stage, "up to date")
        if stale:
            self._run_tail(stale, fingerprints)

    def _fingerprint(self, stage: str) -> str:
        return _hash_paths(_inputs(self.ctx, stage), self.ctx.output_dir)

    def _up_to_date(self, stage: str, fingerprint: str) -> bool:
        """Inputs unchanged and every output as the stage wrote it; a damaged output forces the stage."""
        recorded = self.state.get(stage, {})
        if self.ctx.force or not recorded or recorded.get("fingerprint") != fingerprint:
            return False
        damaged = damaged_outputs(self.ctx.output_dir, recorded.get("outputs", {}), self.digests)
        if damaged:
            shown = ", ".join(damaged[:3]) + (f" and {len(damaged) - 3} more" if len(damaged) > 3 else "")
            self.progress.warn(f"{stage}: {shown} missing or changed since the stage wrote it: rebuilding {stage}")
            self.forced.add(stage)
            return False
        return True

    def _refuse_damaged(self, stage: str) -> None:
        """A stage not being run whose outputs the others read: they must be as it wrote them."""
        damaged = damaged_outputs(self.ctx.output_dir, self.state.get(stage, {}).get("outputs", {}), self.digests)
        if damaged:
            raise DamagedOutput(f"{self.ctx.output_dir / damaged[0]}: missing or changed since the {stage} stage "
                                f"wrote it ({len(damaged)} file(s)); rebuild it with `naome-report build` "
                                f"(or add --only {stage})")

    def _run_tail(self, stale: list[str], fingerprints: dict[str, str]) -> None:
        """Packs (with their pool, from a thread here) alongside the other stages, each in a process.

        While the packs run, one other stage runs at a time with one process of its own: the packs'
        pool already uses every core and more processes would only add memory. Once the packs are done
        (or not wanted), other stages run one per core. The first stage starts before the packs' thread,
        so it can be forked from here.
        """
        side = [s for s in SIDE_ORDER if s in stale]
        packs = "packs" in stale
        while side or self.running or packs:
            slots = 1 if packs or "packs" in self.running else available_cores()
            while side and len([s for s in self.running if s != "packs"]) < slots:
                stage = side.pop(0)
                self._launch(stage, fingerprints[stage], stage_workers=1 if slots == 1 else 0)
            if packs:
                self._start_fork_server(stale)  # before the pool would start it with its own modules only
                self._launch_packs(fingerprints["packs"])
                packs = False
            if self.running:
                self._wait(until_idle=False)

    # ---------------------------------------------------------------- processes

    def _events_queue(self) -> Any:
        if self._events is None:
            self._events = mp.get_context("forkserver").Queue()
        return self._events

    def _start_fork_server(self, tail: list[str]) -> None:
        """Start the fork server (if not yet), with the modules of the stages to come and of the packs' workers."""
        if "forkserver" not in mp.get_all_start_methods() or self._server_started:
            return
        from multiprocessing import forkserver

        modules = ["naome_report.forkserver_guard", "naome_report.build", "naome_report.hub"]
        for stage in tail:
            modules += STAGE_MODULES.get(stage, [])
        if "packs" in tail:
            from naome_report.publish import packs

            modules += list(packs.PRELOAD)
        context = mp.get_context("forkserver")
        context.set_forkserver_preload(list(dict.fromkeys(modules)))
        forkserver.ensure_running()
        self._server_started = True

    def _launch(self, stage: str, fingerprint: str, stage_workers: int = 0) -> None:
        """Start one stage in a process of its own.

        Forked from this process while it has no other thread (forking a process with threads is not
        safe), which it does until the packs start; from the fork server, which has imported the
        stages' modules, after that.
        """
        if threading.active_count() == 1:
            method = "fork"
        elif "forkserver" in mp.get_all_start_methods():
            method = "forkserver"
            self._start_fork_server([stage])
        else:
            method = "spawn"
        context = mp.get_context(method)
        expected = self.state.get(stage, {}).get("seconds")
        self.progress.start(stage, expected)
        process = context.Process(
            target=_stage_process, name=f"naome-{stage}",
            args=(stage, self.ctx.config, self.ctx.registry, self.ctx.force or stage in self.forced, self.ctx.workers,
                  stage_workers,
                  self.ctx.results_key, self._events_queue()))
        process.start()
        self.running[stage] = _Running(stage, time.perf_counter(), fingerprint, process=process)

    def _launch_packs(self, fingerprint: str) -> None:
        """The packs in a thread of this process: their pool forks its workers from the same fork server."""
        events = self._events_queue()

        def work() -> None:
            try:
                report = STAGE_FUNCTIONS["packs"](self.ctx)
            except BaseException as exc:  # noqa: BLE001  (reported, then raised in the main thread)
                events.put(("error", "packs", _portable(exc), traceback.format_exc()))
            else:
                events.put(("done", "packs", report))

        self.progress.start("packs", self.state.get("packs", {}).get("seconds"))
        thread = threading.Thread(target=work, name="naome-packs", daemon=True)
        self.running["packs"] = _Running("packs", time.perf_counter(), fingerprint)
        thread.start()

    def _wait(self, until_idle: bool) -> None:
        """Handle events until a stage ends (or, with `until_idle`, until none is running)."""
        events = self._events_queue()
        while self.running:
            try:
                event = events.get(timeout=0.1)
            except queue.Empty:
                event = None
            if event is not None:
                ended = self._handle(event)
                if ended and not until_idle:
                    return
            elif self._reap_dead() and not until_idle:
                return
            self.progress.refresh()

    def _handle(self, event: tuple) -> bool:
        """Act on one event from a stage; True when a stage ended."""
        kind, rest = event[0], event[1:]
        if kind == "log":
            record = rest[0]
            logging.getLogger(record.name).handle(record)
        elif kind == "note":
            self.progress.note(rest[1], stage=rest[0])
        elif kind == "count":
            stage, done, total, label = rest
            self.progress.count(stage, done, total, label=label)
        elif kind == "done":
            self._finished(rest[0], report=rest[1])
            return True
        elif kind == "error":
            stage, exc, text = rest
            self._finished(stage, error=exc, text=text)
            return True
        return False

    def _reap_dead(self) -> bool:
        """A stage process that ended without a word (killed, out of memory) is a failure."""
        for stage, run in list(self.running.items()):
            if run.process is None or run.process.exitcode is None:
                continue
            if run.exited_at is None:  # its last events may still be in the queue: give them a moment
                run.exited_at = time.perf_counter()
            elif time.perf_counter() - run.exited_at > 2.0:
                code = run.process.exitcode
                why = f"killed by signal {-code}" if code < 0 else f"exit code {code}"
                self._finished(stage, error=StageFailed(f"stage {stage}: its process ended ({why}) without a result"),
                               text="")
                return True
        return False

    def _finished(self, stage: str, report: StageReport | None = None, error: BaseException | None = None,
                  text: str = "") -> None:
        run = self.running.pop(stage)
        seconds = time.perf_counter() - run.started
        if run.process is not None:
            run.process.join(timeout=10)
        if error is None and report is not None:
            report.seconds = seconds
            self.reports[stage] = report
            cpu = f", {report.cpu:.1f} s CPU" if report.cpu is not None else ""
            logger.info("stage %s: %s in %.1f s (%d outputs%s)", stage, report.status, seconds, len(report.outputs), cpu)
            for warning in report.warnings:
                logger.warning("stage %s: %s", stage, warning)
            outputs = {_relative(Path(p), self.ctx.output_dir): self.digests(Path(p)) for p in report.outputs}
            self.state[stage] = {"fingerprint": run.fingerprint, "outputs": outputs, "seconds": round(seconds, 1)}
            _save_state(self.ctx, self.state)
            self.progress.finish(stage, report.status, seconds, f"{len(report.outputs)} outputs" if report.outputs else "")
            return
        error = error or StageFailed(f"stage {stage} failed")
        expected = isinstance(error, NaomeError)  # a problem the user fixes: its one line, no traceback
        if text and not expected:
            error.__cause__ = _RemoteTraceback(text)
        logger.error("stage %s failed after %.1f s: %s%s", stage, seconds, error,
                     f"\n{text}" if text and not expected else "")
        self.state.pop(stage, None)  # its outputs may be half written: rebuild next time
        _save_state(self.ctx, self.state)
        self.reports[stage] = StageReport(stage, "failed", seconds, warnings=[str(error)])
        self.failures.append((stage, error))
        if expected:
            self.progress.finish(stage, "stopped", seconds)
        else:
            self.progress.finish(stage, "failed", seconds, f"{type(error).__name__}: {error}")

    def stop(self, seconds: float) -> str:
        """Interrupted: stop every process of the build; forget the stages cut short; say what is whole."""
        # The packs' pool threads (in this process) see their workers and fork server go: their errors are
        # the interruption itself, which the one line reports.
        threading.excepthook = lambda args: logger.debug("after the interruption: %s", args.exc_value)
        stop_descendants()
        if self._events is not None:
            self._events.cancel_join_thread()
        cut_short = [s for s in STAGES if s in self.running]
        for stage in cut_short:
            self.state.pop(stage, None)
        self.running.clear()
        _save_state(self.ctx, self.state)
        atomic.sweep_temporary_files(self.ctx.output_dir)
        done = [s for s in STAGES if s in self.reports and self.reports[s].status in ("built", "up to date")]
        waiting = [s for s in self.wanted if s not in done and s not in cut_short and s not in self.reports]
        logger.warning("interrupted after %.1f s; stopped %s", seconds, ", ".join(cut_short) or "nothing")
        return (f"interrupted after {seconds:.0f} s: every process of the build is stopped; whole and up to date: "
                f"{', '.join(done) or 'none'}; stopped (rebuilt next time): {', '.join(cut_short) or 'none'}"
                + (f"; not started: {', '.join(waiting)}" if waiting else "")
                + f"; every file in {self.ctx.output_dir} is whole (written under a temporary name, then renamed)")

    def write_manifest(self) -> None:
        """output/manifest.json: SHA-256 of the inputs, configuration, registry, code and every output."""
        config, out = self.ctx.config, self.ctx.output_dir
        outputs = {p.as_posix(): self.digests(out / p) for p in output_files(out, config.path("log_file"))}
        extract = config.extract_dir
        inputs = ({_relative(p, extract): self.digests(p) for p in sorted(_tree(extract))} if extract.is_dir() else {})
        manifest = build_manifest(config, self.ctx.registry.definitions_version, outputs, inputs,
                                  complete=not self.failures and all(s in self.state for s in STAGES
                                                                     if s != "extract" or config.synthetic),
                                  failed=[s for s, _ in self.failures])
        write_manifest(out, manifest)

    def raise_first_failure(self) -> None:
        """Raise the first failed stage's own error, carrying every stage's report for the summary."""
        stage, error = self.failures[0]
        error.build_reports = self.reports_in_order(self.wanted)  # type: ignore[attr-defined]
        raise error

    def reports_in_order(self, wanted: list[str]) -> list[StageReport]:
        return [self.reports[s] for s in STAGES if s in wanted and s in self.reports]

    def close(self) -> None:
        self.progress.close()
        if self._events is not None:
            self._events.close()
            self._events.join_thread()


# ---------------------------------------------------------------- in the stage process


def _stage_process(stage: str, config: Config, registry: Registry, force: bool, workers: int, stage_workers: int,
                   results_key: str | None, events: Any) -> None:
    """Run one stage; report progress, log records and the result (or the error) through `events`."""
    from naome_report.progress import RemoteProgress

    _forward_logging(events)
    ctx = BuildContext(config=config, registry=registry, progress=RemoteProgress(events.put, stage), force=force,
                       workers=workers, stage_workers=stage_workers, results_key=results_key)
    started = _cpu_seconds()
    try:
        report = STAGE_FUNCTIONS[stage](ctx)
    except BaseException as exc:  # noqa: BLE001  (the builder raises it)
        events.put(("error", stage, _portable(exc), traceback.format_exc()))
    else:
        report.cpu = _cpu_seconds() - started
        events.put(("done", stage, report))


def _cpu_seconds() -> float:
    """CPU time of this process and of the processes it has waited for (its worker pools)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


class _QueueHandler(logging.Handler):
    """Send log records (message formatted, no arguments or traceback objects) to the builder."""

    def __init__(self, events: Any) -> None:
        super().__init__(logging.INFO)
        self.events = events

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = record.getMessage()
            if record.exc_info:
                message += "\n" + "".join(traceback.format_exception(*record.exc_info))
            record = logging.makeLogRecord({**record.__dict__, "msg": message, "args": None, "exc_info": None,
                                            "exc_text": None})
            self.events.put(("log", record))
        except Exception:  # noqa: BLE001
            self.handleError(record)


def _forward_logging(events: Any) -> None:
    """In a stage process: naome_report's records (info and up) and others' warnings go to the builder."""
    root = logging.getLogger()
    root.handlers[:] = [_QueueHandler(events)]
    root.setLevel(logging.WARNING)
    ours = logging.getLogger("naome_report")
    ours.handlers[:] = []
    ours.setLevel(logging.INFO)
    ours.propagate = True


def _portable(exc: BaseException) -> BaseException:
    """The exception itself when it survives pickling, else a StageFailed with its type and message."""
    try:
        clone = pickle.loads(pickle.dumps(exc))
        if type(clone) is type(exc):
            return exc
    except Exception:  # noqa: BLE001
        pass
    return StageFailed(f"{type(exc).__name__}: {exc}")
