"""Figures every pack shares, drawn once: one funnel background per indicator, and each organisation's marker position."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from naome_report.hub import Results
from naome_report.publish.pack_data import ALL, ORG_LEVEL, primary_indicator_rows
from naome_report.publish.pack_format import pct
from naome_report.registry import Indicator, Registry

SHARED_DIR = "_shared"
FUNNEL_SIZE_IN = (86 / 25.4, 55 / 25.4)  # two funnels side by side, three rows to an A4 page
FUNNEL_DPI = 220
JPEG_QUALITY = 92
# Axes rectangle as figure fractions: room for tick labels and axis titles, in inches (0.2 in on the
# right for half of a last tick label such as "1,000", which is centred on the axis end).
FUNNEL_AXES = (0.53 / FUNNEL_SIZE_IN[0], 0.40 / FUNNEL_SIZE_IN[1], 1 - 0.73 / FUNNEL_SIZE_IN[0], 1 - 0.47 / FUNNEL_SIZE_IN[1])


@dataclass(frozen=True)
class FunnelAsset:
    """A funnel background on disk and where each organisation falls on it."""

    indicator_id: str
    src: str  # relative to the packs folder
    alt_text: str
    target: float
    method: str
    value_column: str
    positions: dict[str, str] = field(default_factory=dict)  # org code -> inline CSS left/top


def funnel_indicators(registry: Registry, results: Results) -> list[Indicator]:
    """Organisation-level indicators with outlier assessment and funnel limits for the headline period."""
    lim = results.funnel_limits
    have = set(lim.loc[(lim["period"] == results.primary_period) & (lim["subgroup"] == ALL), "indicator_id"])
    return [ind for ind in registry if ind.has_funnel and ind.id in have]


def value_column(ind: Indicator) -> str:
    """The column plotted on a funnel: case-mix adjusted percentage for adjusted indicators."""
    return "adjusted_percentage" if ind.is_casemix_adjusted else "percentage"


def _points(rows: pd.DataFrame, ind: Indicator) -> pd.DataFrame:
    """Every organisation with a published value for the indicator."""
    col = value_column(ind)
    sub = rows[(rows["indicator_id"] == ind.id) & (rows["level"] == ORG_LEVEL) & (rows["status"] == "published")]
    sub = sub[sub["denominator"].notna() & sub[col].notna()]
    return pd.DataFrame({
        "org_code": sub["org_code"], "org_name": sub["org_code"], "denominator": sub["denominator"].astype(float),
        "percentage": sub[col].astype(float),
        **({"outlier_status": sub["outlier_status"].where(sub["outlier_status"].isin(_STATUSES), "not_assessed")}
           if ind.outlier_process else {"funnel_position": sub["funnel_position"]}),
    })


_STATUSES = ("alarm_high", "alert_high", "within_limits", "alert_low", "alarm_low", "not_assessed")


def _alt_text(ind: Indicator, n_points: int, target: float, method: str) -> str:
    """Words for the funnel background."""
    return (f"Funnel plot of {ind.title_in_sentence}: {n_points} organisations' results against their number of "
            f"patients, with 95% and 99.8% control limits ({method}) around the national value of {pct(target)}.")


def compact_funnel(points: pd.DataFrame, limits: pd.DataFrame, target: float, y_label: str):
    """A FunnelBackground without title or legend (the pack prints both once, in HTML), small enough to pair.

    Fixed margins instead of constrained layout: the layout solver was three quarters of the drawing time,
    and with fixed axes the marker positions need no draw at all.
    """
    from naome_report.charts import funnel as kit  # matplotlib only where figures are drawn
    from matplotlib.figure import Figure

    from naome_report.charts.style import apply_house_style

    apply_house_style()
    background = kit.FunnelBackground.__new__(kit.FunnelBackground)
    background.figure = figure = Figure(figsize=FUNNEL_SIZE_IN)
    background.axes = figure.add_axes(FUNNEL_AXES)
    kit._draw_funnel(background.axes, points, limits, target, "", y_label, "Patients (denominator)", "National value")
    background.axes.tick_params(labelsize=7.5)
    background.axes.xaxis.label.set_size(8)
    background.axes.yaxis.label.set_size(8)
    return background


def draw_funnel(ind: Indicator, rows: pd.DataFrame, limits: pd.DataFrame, out_dir: Path) -> FunnelAsset | None:
    """Draw one indicator's funnel background once and place every organisation on it."""
    points = _points(rows, ind)
    if points.empty or limits.empty:
        return None
    target = float(limits["target"].iloc[0])
    method = str(limits["method"].iloc[0]) if "method" in limits and limits["method"].notna().any() else ""
    y_label = "Case-mix adjusted %" if ind.is_casemix_adjusted else "Patients (%)"
    background = compact_funnel(points, limits, target, y_label)
    src = f"{SHARED_DIR}/funnel_{ind.id}.jpg"
    alt = _alt_text(ind, len(points), target, method)
    save_jpeg(background.figure, out_dir / src, alt)
    positions = {
        p.org_code: background.css_position(p.denominator, p.percentage)
        for p in points.itertuples() if background.contains(p.denominator, p.percentage)
    }
    return FunnelAsset(ind.id, src, alt, target, method, value_column(ind), positions)


def save_jpeg(figure, path: Path, alt_text: str) -> None:
    """Save a figure as a high-quality JPEG with its alt text beside it.

    JPEG because weasyprint embeds JPEG data as it is, while it decodes and re-compresses
    every PNG in every document: with a dozen shared funnels that was a third of a pack's time.
    """
    from PIL import Image

    from naome_report.charts.save import _write_atomic, alt_text_path

    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=FUNNEL_DPI)
    image = Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=JPEG_QUALITY, subsampling=0, optimize=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    _write_atomic(path, out.getvalue())
    _write_atomic(alt_text_path(path), alt_text.strip().encode("utf-8") + b"\n")


def draw_funnels(results: Results, registry: Registry, out_dir: Path) -> dict[str, FunnelAsset]:
    """Every funnel background, keyed by indicator id."""
    rows = primary_indicator_rows(results)
    lim = results.funnel_limits
    lim = lim[(lim["period"] == results.primary_period) & (lim["subgroup"] == ALL)]
    assets: dict[str, FunnelAsset] = {}
    for ind in funnel_indicators(registry, results):
        asset = draw_funnel(ind, rows, lim[lim["indicator_id"] == ind.id], out_dir)
        if asset is not None:
            assets[ind.id] = asset
    return assets
