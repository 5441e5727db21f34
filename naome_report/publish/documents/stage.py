"""The documents stage: draw the figures once, fill each report's template, render what changed."""

from __future__ import annotations

import gc
import hashlib
import json
import logging
import multiprocessing
import shutil
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from naome_report import atomic
from naome_report.config import PROJECT_ROOT, Config
from naome_report.hub import Results
from naome_report.machine import available_cores
from naome_report.publish.documents.readability import FLESCH_TARGET, flesch_reading_ease
from naome_report.publish.gc_batch import batched_gc
from naome_report.registry import Registry

LOG = logging.getLogger(__name__)
REPORTS_DIR = PROJECT_ROOT / "reports"
TEMPLATES_DIR = PROJECT_ROOT / "templates" / "documents"
STATE_FILE = ".documents-state.json"  # in out_dir: what the figures and each document were last built from


@dataclass(frozen=True)
class DocumentSpec:
    """One national document: its template, output stem, title and print options."""

    stem: str
    title: str
    subtitle: str
    large_print: bool = False


@dataclass(frozen=True)
class RenderJob:
    """One filled document to render, with what its title block says."""

    text: str
    spec: DocumentSpec
    subtitle: str
    date: str
    web_address: str


DOCUMENTS = (
    DocumentSpec("state-of-the-nation", "State of the Nation report", "National Audit of Metastatic Breast Cancer"),
    DocumentSpec("patient-report", "Metastatic breast cancer care in England and Wales",
                 "A report for patients, families and the public", large_print=True),
    DocumentSpec("methodology-supplement", "Methodology supplement", "National Audit of Metastatic Breast Cancer"),
)


def build_documents(results: Results, registry: Registry, config: Config, out_dir: Path,
                    progress: Callable[[str], Any] | None = None, workers: int = 0,
                    inputs_key: str | None = None) -> tuple[list[Path], list[str]]:
    """Draw the figures, fill and render the three documents; returns paths written and warnings.

    `workers` processes render the documents (0: one per core). With
    `inputs_key` (a digest of the code, configuration and results files), the figures are kept
    when it is unchanged since the last run, and so is each document whose filled text and
    templates are too: editing one report re-renders that report only.
    """
    from naome_report.publish.documents.context import base_context
    from naome_report.publish.documents.figures import draw_all
    from naome_report.publish.documents.render import fill_template

    started = time.perf_counter()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    state = _load_state(out_dir) if inputs_key else {}
    context = base_context(results, registry, config, REPORTS_DIR)
    if inputs_key and _figures_kept(state, inputs_key, context["ind"], out_dir):
        context["figures"] = state["figures"]["shared"]
        _tick(progress, "figures unchanged: kept")
    else:
        context["figures"] = draw_all(results, registry, context["ind"], out_dir)
        _tick(progress, "figures drawn")
    new_state: dict[str, Any] = {"inputs_key": inputs_key, "figures": {
        "shared": context["figures"], "indicators": {i: e["figures"] for i, e in context["ind"].items()}},
        "documents": {}}
    jobs, kept = [], []
    templates = _templates_digest()
    publication = context["publication"]
    dated = f"Published {publication.date} · Version {publication.version}"
    for spec in DOCUMENTS:
        job = RenderJob(fill_template(REPORTS_DIR / f"{spec.stem}.qmd", {**context, "doc": spec}), spec,
                        f"{spec.subtitle} · {context['period']}", dated, publication.web_address)
        key = hashlib.sha256("\0".join([inputs_key or "", templates, job.subtitle, job.date, job.web_address,
                                        job.text]).encode()).hexdigest()
        new_state["documents"][spec.stem] = key
        if inputs_key and state.get("documents", {}).get(spec.stem) == key and _outputs_exist(out_dir, spec.stem):
            kept.append(spec.stem)
        else:
            jobs.append(job)
    done = _render_all(jobs, out_dir, results.synthetic, workers, progress)
    if inputs_key:
        _save_state(out_dir, new_state)
    paths: list[Path] = [Path(f) for f in sorted((out_dir / "figures").glob("*.svg"))]
    paths += [out_dir / f"{spec.stem}.{ext}" for spec in DOCUMENTS for ext in ("html", "pdf")]
    warnings: list[str] = []
    renderers = sorted({renderer for _, _, renderer, _ in done})
    if renderers and not any(r.startswith("quarto") for r in renderers):
        warnings.append(f"rendered with {', '.join(renderers)}: the Quarto CLI is not on PATH")
    for html_path, _, renderer, seconds in done:
        LOG.info("%s: rendered with %s in %.1f s", html_path.stem, renderer, seconds)
    if kept:
        LOG.info("unchanged since the last build, kept: %s", ", ".join(kept))
    score = flesch_reading_ease(out_dir / "patient-report.html")
    message = f"patient-report: Flesch reading ease {score:.1f} (target {FLESCH_TARGET:.0f} or more)"
    if score < FLESCH_TARGET:
        warnings.append(message + ": BELOW the target")
    LOG.info("%s; documents built in %.1f s", message, time.perf_counter() - started)
    return paths, warnings


def _render_all(jobs: list[RenderJob], out_dir: Path, synthetic: bool, workers: int,
                progress: Callable[[str], Any] | None) -> list[tuple[Path, Path, str, float]]:
    """Render the filled documents, in parallel when there are several and workers to spare."""
    args = (jobs, [out_dir] * len(jobs), [synthetic] * len(jobs))
    workers = min(workers or available_cores(), len(jobs))
    if workers <= 1 or multiprocessing.current_process().daemon:  # a pool worker may not start processes
        done = []
        with batched_gc():
            for job in zip(*args):
                done.append(_render_one(*job))
                _tick(progress, f"{done[-1][0].stem} rendered")
        return done
    import weasyprint  # noqa: F401  (imported once here, inherited by the forked workers)

    # The longest document (state of the nation) is first, so two workers finish about together.
    with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("fork"),
                             initializer=_freeze_inherited) as pool:
        futures = [pool.submit(_render_one, *job) for job in zip(*args)]
        for future in as_completed(futures):
            _tick(progress, f"{future.result()[0].stem} rendered")
        return [f.result() for f in futures]


def _templates_digest() -> str:
    """The files every document is rendered with besides its own .qmd: templates, CSS, filter, Quarto
    project, and whether Quarto or pandoc renders them."""
    files = sorted(p for p in TEMPLATES_DIR.iterdir() if p.is_file())
    files += sorted(p for p in REPORTS_DIR.rglob("*") if p.is_file() and p.suffix != ".qmd")
    digest = hashlib.sha256(str(shutil.which("quarto")).encode())
    for path in files:
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def _figures_kept(state: dict, inputs_key: str, entries: dict[str, dict[str, Any]], out_dir: Path) -> bool:
    """Put last run's figures into the indicator entries when they were drawn from the same inputs and are all there."""
    figures = state.get("figures") or {}
    if state.get("inputs_key") != inputs_key or set(figures.get("indicators", {})) != set(entries):
        return False
    assets = [a for a in figures.get("shared", {}).values() if a]
    assets += [a for f in figures["indicators"].values() for a in f.values() if a]
    if not all((out_dir / a["path"]).is_file() for a in assets):
        return False
    for ind_id, kinds in figures["indicators"].items():
        entries[ind_id]["figures"] = kinds
    return True


def _outputs_exist(out_dir: Path, stem: str) -> bool:
    return (out_dir / f"{stem}.html").is_file() and (out_dir / f"{stem}.pdf").is_file()


def _load_state(out_dir: Path) -> dict:
    try:
        return json.loads((out_dir / STATE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _save_state(out_dir: Path, state: dict) -> None:
    atomic.write_text(out_dir / STATE_FILE, json.dumps(state, indent=1))


def _freeze_inherited() -> None:
    """In a forked renderer: what it inherited is never walked by the collector (all of it is live: the results,
    libraries and fonts), and collection waits for the end of each document (see `gc_batch`)."""
    gc.freeze()
    gc.disable()


def _render_one(job: RenderJob, out_dir: Path, synthetic: bool) -> tuple[Path, Path, str, float]:
    """Render one filled document (in a worker process, or in a GC batch of the caller); its garbage is collected
    after it, walking only what it made."""
    from naome_report.publish.documents.render import render_document

    try:
        result = render_document(job.text, stem=job.spec.stem, out_dir=out_dir, title=job.spec.title,
                                 subtitle=job.subtitle, date=job.date, synthetic=synthetic, resource_dir=out_dir,
                                 lang="en-GB", large_print=job.spec.large_print, toc=True,
                                 web_address=job.web_address)
    finally:
        if not gc.isenabled():
            gc.collect()
    return result.html_path, result.pdf_path, result.renderer, result.seconds


def _tick(progress: Callable[[str], Any] | None, message: str) -> None:
    """Report progress when a reporter was given (a callable taking a message)."""
    if progress is not None:
        progress(message)
