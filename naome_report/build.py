"""Orchestration: what is stale, what to rebuild, progress, and the end-of-run summary."""

from __future__ import annotations

import hashlib
import json
import logging
import multiprocessing as mp
import pickle
import queue
import resource
import threading
import time
import traceback
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

import pandas as pd

from naome_report.config import PROJECT_ROOT, Config
from naome_report.machine import available_cores
from naome_report.progress import Progress
from naome_report.registry import Registry, load_registry

logger = logging.getLogger("naome_report.build")
STATE_FILE = ".build-state.json"
STAGES = ("extract", "data", "workbook", "documents", "packs", "portal")
SYNTHETIC_MARKER = "SYNTHETIC_DATA.txt"


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


def _hash_paths(paths: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in sorted(paths):
        if path.is_file():
            digest.update(str(path.relative_to(PROJECT_ROOT) if path.is_relative_to(PROJECT_ROOT) else path).encode())
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
    path = ctx.output_dir / STATE_FILE
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return {}


def _save_state(ctx: BuildContext, state: dict) -> None:
    ctx.output_dir.mkdir(parents=True, exist_ok=True)
    (ctx.output_dir / STATE_FILE).write_text(json.dumps(state, indent=2, sort_keys=True), encoding="utf-8")


def is_synthetic_extract(extract_dir: Path) -> bool:
    """True when the extract is the bundled synthetic cohort (it carries a marker file)."""
    return (extract_dir / SYNTHETIC_MARKER).exists()


# --- stages -----------------------------------------------------------------------------------------

def stage_extract(ctx: BuildContext) -> StageReport:
    """Make the synthetic extract when the configured extract folder is the default and empty."""
    from naome_report.synth.generator import generate_extract, write_extract

    extract = ctx.config.extract_dir
    synth = ctx.config.section("synthetic")
    if any(extract.glob("patients.*")) and not is_synthetic_extract(extract):
        return StageReport("extract", "up to date", warnings=[f"using the real extract in {extract}"])
    fmt = synth.get("file_format", "csv")
    written = write_extract(generate_extract(ctx.config), extract, fmt)
    return StageReport("extract", "built", outputs=written,
                       warnings=["built from the SYNTHETIC cohort: no real patient data"])


def stage_data(ctx: BuildContext) -> StageReport:
    """Validate the extract, derive the cohort and compute every public data file."""
    from naome_report.cohort import derive_cohort
    from naome_report.ingest.validate import validate_extract
    from naome_report.ingest.quarantine import write_quarantine
    from naome_report.publish.datafiles import write_data_files
    from naome_report.reconcile import reconcile
    from naome_report.results import build_hub_tables

    config = ctx.config
    orgs = pd.read_csv(config.path("organisations"), dtype=str, keep_default_na=False)
    ctx.progress.note("validating the extract")
    validated = validate_extract(config.extract_dir, orgs, config.data_cutoff, progress=ctx.progress.note)
    quarantine_written = write_quarantine(validated, config.output_dir / "quarantine")
    quarantine_paths = [quarantine_written] if isinstance(quarantine_written, Path) else list(quarantine_written)
    ctx.progress.note("deriving the cohort")
    cohort = derive_cohort(validated.frames, config)
    reconciliation = reconcile(validated.counts, validated.frames, cohort)
    synthetic = is_synthetic_extract(config.extract_dir)
    ctx.progress.note("computing indicators and statistics")
    tables = build_hub_tables(cohort, ctx.registry, orgs, validated.frames["cpes"], config, synthetic)
    meta = {
        "audit": config.section("audit")["name"], "primary_period": config.primary_period,
        "financial_years": config.financial_years, "data_cutoff": config.data_cutoff.isoformat(),
        "synthetic": synthetic, "definitions_version": ctx.registry.definitions_version,
        "organisations": len(orgs), "patients": len(cohort.patients), "disclosure": config.section("disclosure"),
        "quarantined_records": int(validated.counts.records_quarantined.sum()),
        "built_at": datetime.now(timezone.utc).replace(microsecond=0).isoformat(),
        "renderer_note": "numbers in every output come from these files",
    }
    written = write_data_files(tables, cohort.flow(), reconciliation, meta, ctx.data_dir)
    warnings = list(validated.warnings)
    quarantined = int(validated.counts.records_quarantined.sum())
    if quarantined:
        warnings.append(f"{quarantined:,} records quarantined: see {config.output_dir / 'quarantine'}")
    if synthetic:
        warnings.append("results computed from the SYNTHETIC cohort")
    return StageReport("data", "built", outputs=written + list(quarantine_paths), warnings=warnings)


def _results(ctx: BuildContext):
    from naome_report.hub import load_results

    return load_results(ctx.data_dir)


def stage_workbook(ctx: BuildContext) -> StageReport:
    """The Excel metrics table and its OpenDocument copy."""
    from naome_report.publish.workbook import build_workbook

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


def stage_portal(ctx: BuildContext) -> StageReport:
    """The static results portal."""
    from naome_report.publish.portal import build_portal

    return StageReport("portal", "built", outputs=build_portal(_results(ctx), ctx.registry, ctx.config,
                                                                 ctx.output_dir / "portal"))


STAGE_FUNCTIONS: dict[str, Callable[[BuildContext], StageReport]] = {
    "extract": stage_extract, "data": stage_data, "workbook": stage_workbook, "documents": stage_documents,
    "packs": stage_packs, "portal": stage_portal,
}


HEAD = ("extract", "data")  # one after the other: every later stage reads what they write
TAIL = ("workbook", "documents", "packs", "portal")  # independent of each other: run at the same time
SIDE_ORDER = ("documents", "workbook", "portal")  # the longest first, so it is not left running alone at the end
# The data stage's modules, imported here while extract runs (the data process is forked from here).
DATA_MODULES = ["naome_report.cohort", "naome_report.ingest.validate", "naome_report.ingest.quarantine",
                "naome_report.publish.datafiles", "naome_report.reconcile", "naome_report.results"]
# Modules of the later stages: imported here and by the fork server while data runs, so that stage
# processes, forked from either, start with them.
STAGE_MODULES = {
    "workbook": ["naome_report.publish.workbook", "naome_report.publish.ods"],
    "documents": ["naome_report.publish.documents", "naome_report.publish.doc_context",
                  "naome_report.publish.doc_figures", "naome_report.publish.render", "weasyprint"],
    "portal": ["naome_report.publish.portal"],
}


# What each later stage renders with, besides the configuration, the code and the published data:
# editing one stage's templates rebuilds that stage only.
STAGE_TEMPLATES: dict[str, Callable[[], list[Path]]] = {
    "workbook": lambda: [],
    "documents": lambda: ([p for p in (PROJECT_ROOT / "templates").iterdir() if p.is_file()]
                          + _tree(PROJECT_ROOT / "reports")),
    "packs": lambda: _tree(PROJECT_ROOT / "templates" / "pack"),
    "portal": lambda: _tree(PROJECT_ROOT / "templates" / "portal"),
}


def _config_files(ctx: BuildContext) -> list[Path]:
    return [ctx.config.source, ctx.config.path("organisations"), ctx.config.path("indicators")]


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
    shared = _hash_paths(_results_inputs(ctx))
    return shared, {s: hashlib.sha256((shared + _hash_paths(STAGE_TEMPLATES[s]())).encode()).hexdigest()
                    for s in stages}


def _bundle_portal(ctx: BuildContext) -> None:
    """Link the reports, packs, workbook and data files into the portal, so that it works as a web root."""
    from naome_report.publish.portal.bundle import bundle_outputs

    linked = bundle_outputs(ctx.output_dir, ctx.output_dir / "portal")
    if linked:
        logger.info("portal: %d published files linked in", len(linked))


def _outputs_present(ctx: BuildContext, stage: str, state: dict) -> bool:
    return all(Path(p).exists() for p in state.get(stage, {}).get("outputs", [])) and bool(state.get(stage))


class StageFailed(RuntimeError):
    """A stage raised an error that could not be brought back from its process as it was."""


class _RemoteTraceback(Exception):
    """The traceback of an error in a stage process (shown as the cause of the error re-raised here)."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text

    def __str__(self) -> str:
        return self.text


def run_build(config: Config, stages: list[str] | None = None, force: bool = False, workers: int | None = None,
              progress: Progress | None = None) -> list[StageReport]:
    """Run the stages whose inputs changed: extract, then data, then the other four at the same time.

    Each stage runs in a process of its own (the packs in this one, with their worker pool), so a
    stage's memory is returned when it ends. The state file records each stage as soon as it ends.
    If a stage fails, it is shown and logged with its name and traceback, the other stages still
    finish (their outputs are kept and recorded), and then the failed stage's own exception is raised.
    """
    registry = load_registry(config.path("indicators"))
    progress = progress or Progress()
    ctx = BuildContext(config=config, registry=registry, progress=progress, force=force,
                       workers=config.section("build")["workers"] if workers is None else workers)
    wanted = [s for s in STAGES if s in (stages or STAGES)]
    if "extract" in wanted and not _uses_default_extract(config):
        wanted.remove("extract")
    runner = _Runner(ctx, _load_state(ctx))
    try:
        runner.run(wanted)
    finally:
        runner.close()
    return runner.reports_in_order(wanted)


def _uses_default_extract(config: Config) -> bool:
    """The extract stage runs only when the configured extract folder holds (or will hold) synthetic data."""
    extract = config.extract_dir
    return not any(extract.glob("patients.*")) or is_synthetic_extract(extract)


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
                self._raise()
        self.ctx.results_key, fingerprints = _tail_fingerprints(self.ctx, tail)
        stale = [s for s in tail if not self._up_to_date(s, fingerprints[s])]
        for stage in tail:
            if stage not in stale:
                self.reports[stage] = StageReport(stage, "up to date")
        if stale:
            self._run_tail(stale, fingerprints)
        _bundle_portal(self.ctx)  # after every build: the other stages may have rewritten what the portal links to
        if self.failures:
            self._raise()

    def _fingerprint(self, stage: str) -> str:
        return _hash_paths(_inputs(self.ctx, stage))

    def _up_to_date(self, stage: str, fingerprint: str) -> bool:
        return (not self.ctx.force and self.state.get(stage, {}).get("fingerprint") == fingerprint
                and _outputs_present(self.ctx, stage, self.state))

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

        modules = ["naome_report.build", "naome_report.hub"]
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
            args=(stage, self.ctx.config, self.ctx.registry, self.ctx.force, self.ctx.workers, stage_workers,
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
            except KeyboardInterrupt:
                self._stop_all()
                raise
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
            self.state[stage] = {"fingerprint": run.fingerprint, "outputs": [str(p) for p in report.outputs[:50]],
                                 "seconds": round(seconds, 1)}
            _save_state(self.ctx, self.state)
            self.progress.finish(stage, report.status, seconds, f"{len(report.outputs)} outputs" if report.outputs else "")
            return
        error = error or StageFailed(f"stage {stage} failed")
        if text:
            error.__cause__ = _RemoteTraceback(text)
        logger.error("stage %s failed after %.1f s: %s%s", stage, seconds, error, f"\n{text}" if text else "")
        self.state.pop(stage, None)  # its outputs may be half written: rebuild next time
        _save_state(self.ctx, self.state)
        self.reports[stage] = StageReport(stage, "failed", seconds, warnings=[str(error)])
        self.failures.append((stage, error))
        self.progress.finish(stage, "failed", seconds, f"{type(error).__name__}: {error}")

    def _stop_all(self) -> None:
        """Interrupted: stop the stage processes this build started."""
        for run in self.running.values():
            if run.process is not None and run.process.is_alive():
                run.process.terminate()
        for run in self.running.values():
            if run.process is not None:
                run.process.join(timeout=5)

    def _raise(self) -> None:
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
