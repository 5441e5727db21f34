"""Worker-process side of the pack build: imported once by the forkserver, state kept between tasks."""

from __future__ import annotations

import gc
import time
from pathlib import Path

import pandas as pd

import naome_report.charts.funnel_svg  # noqa: F401  (imported in the forkserver so workers start warm)
from naome_report.publish.gc_batch import start_gc_batch
from naome_report.publish.packs.backgrounds import Backgrounds
from naome_report.publish.packs.context import Settings
from naome_report.publish.packs.data import Common, PackInput
from naome_report.publish.packs.render import PackRenderer
from naome_report.publish.packs.funnels import FunnelAsset, draw_funnel
from naome_report.registry import Indicator

_STATE: dict[str, object] = {}


def init_worker(settings: Settings, common: Common, out_dir: Path) -> None:
    """Keep what every task of this worker reuses (the renderer is made on first use); collect garbage per pack.

    Python's collector runs every few hundred allocations and each run walks the objects that
    survived earlier ones: the imported libraries, the cached fonts and stylesheet, and the boxes
    of the pack being laid out. That was a sixth of a pack's CPU. Instead, what exists now is
    frozen (never walked again), automatic collection is off, and `render_task` collects the
    pack's own garbage after each pack, so memory stays flat.
    """
    _STATE.clear()
    _STATE.update(settings=settings, common=common, out_dir=Path(out_dir), rendered=0)
    start_gc_batch()


def _renderer() -> PackRenderer:
    if "renderer" not in _STATE:
        _STATE["renderer"] = PackRenderer(_STATE["settings"], _STATE["common"], _STATE["out_dir"])
    return _STATE["renderer"]  # type: ignore[return-value]


def funnel_task(job: tuple[Indicator, pd.DataFrame, pd.DataFrame, Path]) -> FunnelAsset | None:
    """Draw one shared funnel background."""
    try:
        return draw_funnel(*job)
    finally:
        gc.collect()


def backgrounds_task(assets: dict[str, FunnelAsset]) -> Backgrounds:
    """Draw the funnels' shared backgrounds into one PDF."""
    try:
        return _renderer().backgrounds(assets)
    finally:
        gc.collect()


def render_task(task: tuple[PackInput, dict[str, FunnelAsset], Backgrounds]) -> tuple[str, Path, float]:
    """Render one organisation's pack; also report the CPU seconds it took (its garbage collection included)."""
    pack, assets, backgrounds = task
    started = time.process_time()
    path = _renderer().render(pack, assets, backgrounds)
    gc.collect()
    seconds = time.process_time() - started
    _STATE["rendered"] = int(_STATE.get("rendered", 0)) + 1
    if _STATE["rendered"] == 1:
        gc.freeze()  # the renderer's caches (fonts, stylesheets, shared images) now live as long as the worker
    return pack.org.code, path, seconds
