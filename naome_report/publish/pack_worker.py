"""Worker-process side of the pack build: imported once by the forkserver, state kept between tasks."""

from __future__ import annotations

import time
from pathlib import Path

import pandas as pd

import naome_report.charts.funnel  # noqa: F401  (imported in the forkserver so workers start warm)
from naome_report.publish.pack_context import Settings
from naome_report.publish.pack_data import Common, PackInput
from naome_report.publish.pack_render import PackRenderer
from naome_report.publish.pack_shared import FunnelAsset, draw_funnel
from naome_report.registry import Indicator

_STATE: dict[str, object] = {}


def init_worker(settings: Settings, common: Common, out_dir: Path) -> None:
    """Keep what every task of this worker reuses; the renderer is made on first use."""
    _STATE.clear()
    _STATE.update(settings=settings, common=common, out_dir=Path(out_dir))


def _renderer() -> PackRenderer:
    if "renderer" not in _STATE:
        _STATE["renderer"] = PackRenderer(_STATE["settings"], _STATE["common"], _STATE["out_dir"])
    return _STATE["renderer"]  # type: ignore[return-value]


def funnel_task(job: tuple[Indicator, pd.DataFrame, pd.DataFrame, Path]) -> FunnelAsset | None:
    """Draw one shared funnel background."""
    return draw_funnel(*job)


def render_task(task: tuple[PackInput, dict[str, FunnelAsset]]) -> tuple[str, Path, float]:
    """Render one organisation's pack; also report the CPU seconds it took."""
    pack, assets = task
    started = time.process_time()
    path = _renderer().render(pack, assets)
    return pack.org.code, path, time.process_time() - started
