"""One PDF results pack per trust and health board: compute once, render many, across all cores.

Shared figures (one funnel background per indicator) are drawn once, by the worker pool, into
`<out_dir>/_shared/` (SVG) and into one PDF; every pack is laid out with an empty frame per funnel and its
own marker over it in CSS, and gets the backgrounds placed under the frames (`backgrounds.py`). Each
worker keeps its compiled template, parsed stylesheet, fonts and image cache between packs,
and is recycled after `MAX_TASKS_PER_CHILD` tasks because weasyprint holds on to memory.
Workers are forked from a forkserver that has already imported weasyprint and matplotlib,
so no organisation pays for a process start or an import.
"""

from __future__ import annotations

import dataclasses
import logging
import multiprocessing as mp
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from naome_report.config import Config
from naome_report.hub import Results
from naome_report.machine import available_cores
from naome_report.publish.packs.context import Settings
from naome_report.publish.packs.data import (
    ALL, Common, PackInput, check_contract, common_inputs, organisations, pack_inputs, primary_indicator_rows,
)
from naome_report.publish.packs.funnels import SHARED_DIR, FunnelAsset, draw_funnel, funnel_indicators
from naome_report.registry import Indicator, Registry

if TYPE_CHECKING:  # pikepdf and weasyprint are imported by the workers, not by this process
    from naome_report.publish.packs.backgrounds import Backgrounds

LOG = logging.getLogger(__name__)
MAX_TASKS_PER_CHILD = 100  # memory stays flat per worker (~0.3 GB); recycling is a safety net
PRELOAD = ["naome_report.publish.packs.worker"]

Progress = Callable[[int, int], None]


def _workers(requested: int, tasks: int) -> int:
    """Worker processes to use: all cores for 0, never more than there are tasks."""
    wanted = available_cores() if requested <= 0 else requested
    return max(1, min(wanted, tasks))


def _funnel_jobs(results: Results, registry: Registry,
                 out_dir: Path) -> list[tuple[Indicator, pd.DataFrame, pd.DataFrame, Path, bool]]:
    """One small job per funnel background: the indicator's organisation rows and its limits."""
    rows = primary_indicator_rows(results)
    rows = rows[rows["level"] == "organisation"]
    lim = results.funnel_limits
    lim = lim[(lim["period"] == results.primary_period) & (lim["subgroup"] == ALL)]
    return [(ind, rows[rows["indicator_id"] == ind.id], lim[lim["indicator_id"] == ind.id], out_dir, results.synthetic)
            for ind in funnel_indicators(registry, results)]


def _attach_markers(inputs: list[PackInput], assets: dict[str, FunnelAsset]) -> dict[str, FunnelAsset]:
    """Move each organisation's marker positions into its own input; return the assets without them."""
    for pack in inputs:
        pack.funnel_markers = {i: a.positions[pack.org.code] for i, a in assets.items() if pack.org.code in a.positions}
    return {i: dataclasses.replace(a, positions={}) for i, a in assets.items()}


def build_packs(
    results: Results,
    registry: Registry,
    config: Config,
    out_dir: Path,
    *,
    org_codes: list[str] | None = None,
    workers: int = 0,
    progress: Progress | None = None,
) -> list[Path]:
    """Write `<out_dir>/<org_code>.pdf` for every organisation (or those named) and return the paths in order."""
    from naome_report.publish.packs.render import load_settings

    out_dir = Path(out_dir)
    check_contract(results)
    (out_dir / SHARED_DIR).mkdir(parents=True, exist_ok=True)
    settings = load_settings(registry, config)
    common = common_inputs(results)
    jobs = _funnel_jobs(results, registry, out_dir)
    n = _workers(workers, len(org_codes) if org_codes is not None else len(organisations(results)))
    run = _run_serial if n == 1 else _run_pool
    paths = run(lambda: pack_inputs(results, org_codes), jobs, settings, common, out_dir, n, progress)
    if org_codes is None:
        _remove_stale(out_dir, paths)
    return paths


def _remove_stale(out_dir: Path, built: list[Path]) -> None:
    """After a full build, drop packs of organisations that are no longer in the results, and old shared charts."""
    keep = {p.name for p in built}
    for old in out_dir.glob("*.pdf"):
        if old.name not in keep:
            old.unlink()
    for old in (out_dir / SHARED_DIR).glob("funnel_*.jpg*"):  # raster funnels of earlier versions
        old.unlink()


def _ordered(inputs: list[PackInput], done: dict[str, Path]) -> list[Path]:
    return [done[p.org.code] for p in inputs]


def _run_serial(make_inputs: Callable[[], list[PackInput]], jobs: list, settings: Settings, common: Common,
                out_dir: Path, n: int, progress: Progress | None) -> list[Path]:
    """Everything in this process (one worker, or debugging)."""
    from naome_report.publish.packs import worker as pack_worker
    from naome_report.publish.gc_batch import batched_gc

    inputs = make_inputs()
    assets = {a.indicator_id: a for a in (draw_funnel(*job) for job in jobs) if a is not None}
    shared = _attach_markers(inputs, assets)
    done: dict[str, Path] = {}
    cpu: list[float] = []
    with batched_gc():
        pack_worker.init_worker(settings, common, out_dir)
        backgrounds = pack_worker.backgrounds_task(shared)
        for i, pack in enumerate(inputs, 1):
            code, path, seconds = pack_worker.render_task((pack, shared, backgrounds))
            done[code] = path
            cpu.append(seconds)
            if progress:
                progress(i, len(inputs))
    _log_cpu(cpu, 1)
    return _ordered(inputs, done)


def _context() -> mp.context.BaseContext:
    """A forkserver whose server has imported the rendering stack (lean workers, cheap recycling)."""
    if "forkserver" not in mp.get_all_start_methods():
        return mp.get_context("spawn")
    ctx = mp.get_context("forkserver")
    ctx.set_forkserver_preload(PRELOAD)
    return ctx


def _run_pool(make_inputs: Callable[[], list[PackInput]], jobs: list, settings: Settings, common: Common,
              out_dir: Path, n: int, progress: Progress | None) -> list[Path]:
    """Funnel SVGs (while this process selects each organisation's rows), their PDF backgrounds, then packs, over a pool."""
    from naome_report.publish.packs import worker as pack_worker

    with _context().Pool(n, initializer=pack_worker.init_worker, initargs=(settings, common, out_dir),
                         maxtasksperchild=MAX_TASKS_PER_CHILD) as pool:
        drawing = pool.map_async(pack_worker.funnel_task, jobs, chunksize=1)
        inputs = make_inputs()
        assets = {a.indicator_id: a for a in drawing.get() if a is not None}
        shared = _attach_markers(inputs, assets)
        backgrounds = pool.apply(pack_worker.backgrounds_task, (shared,))
        done: dict[str, Path] = {}
        cpu: list[float] = []
        tasks: Iterator[tuple[PackInput, dict[str, FunnelAsset], Backgrounds]] = ((p, shared, backgrounds) for p in inputs)
        for i, (code, path, seconds) in enumerate(pool.imap_unordered(pack_worker.render_task, tasks), 1):
            done[code] = path
            cpu.append(seconds)
            if progress:
                progress(i, len(inputs))
    _log_cpu(cpu, n)
    return _ordered(inputs, done)


def _log_cpu(cpu: list[float], workers: int) -> None:
    """Log the CPU cost per pack (wall time depends on what else the machine is doing; this does not)."""
    if cpu:
        ordered = sorted(cpu)
        LOG.info("packs: %d rendered on %d worker(s), CPU per pack median %.2f s, max %.2f s",
                 len(cpu), workers, ordered[len(ordered) // 2], ordered[-1])
