"""Orchestration: what is stale, what to rebuild, progress, and the end-of-run summary."""

from __future__ import annotations

import hashlib
import json
import logging
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

import pandas as pd

from naome_report.config import PROJECT_ROOT, Config
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


@dataclass
class BuildContext:
    """What every stage may use."""

    config: Config
    registry: Registry
    progress: Progress
    force: bool = False
    workers: int = 0

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
        "organisations": len(orgs), "patients": len(cohort.patients),
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

    outputs, warnings = build_documents(_results(ctx), ctx.registry, ctx.config, ctx.output_dir, progress=ctx.progress)
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


def _inputs(ctx: BuildContext, stage: str) -> list[Path]:
    """The files whose content decides whether a stage's outputs are stale."""
    config_files = [ctx.config.source, ctx.config.path("organisations"), ctx.config.path("indicators")]
    code = _code_files()
    if stage == "extract":
        return config_files + _tree(PROJECT_ROOT / "naome_report" / "synth")
    if stage == "data":
        return config_files + code + _tree(ctx.config.extract_dir)
    published = _tree(ctx.data_dir)
    templates = _tree(PROJECT_ROOT / "templates") + _tree(PROJECT_ROOT / "reports")
    return config_files + code + published + templates


def _outputs_present(ctx: BuildContext, stage: str, state: dict) -> bool:
    return all(Path(p).exists() for p in state.get(stage, {}).get("outputs", [])) and bool(state.get(stage))


def run_build(config: Config, stages: list[str] | None = None, force: bool = False, workers: int | None = None,
              progress: Progress | None = None) -> list[StageReport]:
    """Run the pipeline stages in order, skipping those whose inputs have not changed."""
    registry = load_registry(config.path("indicators"))
    progress = progress or Progress()
    ctx = BuildContext(config=config, registry=registry, progress=progress, force=force,
                       workers=config.section("build")["workers"] if workers is None else workers)
    wanted = stages or list(STAGES)
    state = _load_state(ctx)
    reports = []
    for stage in STAGES:
        if stage not in wanted:
            continue
        if stage == "extract" and not _uses_default_extract(config):
            continue
        fingerprint = _hash_paths(_inputs(ctx, stage))
        if not force and state.get(stage, {}).get("fingerprint") == fingerprint and _outputs_present(ctx, stage, state):
            reports.append(StageReport(stage, "up to date"))
            continue
        started = time.perf_counter()
        progress.stage(stage)
        try:
            report = STAGE_FUNCTIONS[stage](ctx)
        finally:
            progress.close()
        report.seconds = time.perf_counter() - started
        logger.info("stage %s: %s in %.1f s (%d outputs)", stage, report.status, report.seconds, len(report.outputs))
        for warning in report.warnings:
            logger.warning("stage %s: %s", stage, warning)
        state[stage] = {"fingerprint": _hash_paths(_inputs(ctx, stage)),
                        "outputs": [str(p) for p in report.outputs[:50]]}
        _save_state(ctx, state)
        reports.append(report)
    return reports


def _uses_default_extract(config: Config) -> bool:
    """The extract stage runs only when the configured extract folder holds (or will hold) synthetic data."""
    extract = config.extract_dir
    return not any(extract.glob("patients.*")) or is_synthetic_extract(extract)
