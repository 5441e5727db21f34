"""Figures every pack shares, drawn once: one vector funnel per indicator, and each organisation's place on it."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import pandas as pd

from naome_report.charts.funnel_svg import funnel_svg
from naome_report import atomic
from naome_report.charts.save import alt_text_path
from naome_report.hub import Results
from naome_report.publish.packs.data import ALL, ORG_LEVEL
from naome_report.publish.packs.formatting import pct
from naome_report.registry import Indicator, Registry

SHARED_DIR = "_shared"
ANCHOR_PREFIX = "funnel-bg-"  # ids of the funnel frames in a pack's HTML (see backgrounds.py)
CORNER_SUFFIX = "-corner"


@dataclass(frozen=True)
class FunnelAsset:
    """A funnel on disk (SVG, shared by every pack) and where each organisation falls on it."""

    indicator_id: str
    src: str  # relative to the packs folder
    alt_text: str
    target: float
    method: str
    value_column: str
    width: float  # px, the SVG's own size
    height: float
    positions: dict[str, str] = field(default_factory=dict)  # org code -> inline CSS left/top

    @property
    def anchor(self) -> str:
        """The id of the funnel's frame in a pack (its top-left corner in weasyprint's `Page.anchors`)."""
        return ANCHOR_PREFIX + self.indicator_id

    @property
    def corner(self) -> str:
        """The id of the element at the frame's bottom-right corner."""
        return self.anchor + CORNER_SUFFIX

    @property
    def frame_src(self) -> str:
        """An empty SVG of the chart's size, as a data URL: the frame a pack lays out where the chart goes."""
        svg = (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {self.width:g} {self.height:g}" '
               f'width="{self.width:g}" height="{self.height:g}"/>')
        return "data:image/svg+xml," + quote(svg)


def funnel_indicators(registry: Registry, results: Results) -> list[Indicator]:
    """Indicators with a rate and funnel limits for the headline period (all patients)."""
    lim = results.funnel_limits
    have = set(lim.loc[(lim["period"] == results.primary_period) & (lim["subgroup"] == ALL), "indicator_id"])
    return [ind for ind in registry if ind.has_funnel and ind.id in have]


def value_column(ind: Indicator) -> str:
    """The column plotted on a funnel: case-mix adjusted percentage for adjusted indicators."""
    return "adjusted_percentage" if ind.is_casemix_adjusted else "percentage"


def _points(rows: pd.DataFrame, ind: Indicator) -> pd.DataFrame:
    """Every organisation with a published value for the indicator, and its position against the limits."""
    col = value_column(ind)
    sub = rows[(rows["indicator_id"] == ind.id) & (rows["level"] == ORG_LEVEL) & (rows["status"] == "published")]
    sub = sub[sub["denominator"].notna() & sub[col].notna()]
    return pd.DataFrame({
        "org_code": sub["org_code"], "denominator": sub["denominator"].astype(float),
        "percentage": sub[col].astype(float), "position": sub["funnel_position"].fillna("not_assessed"),
    })


def _alt_text(ind: Indicator, n_points: int, target: float, method: str) -> str:
    """Words for the funnel."""
    return (f"Funnel plot of {ind.title_in_sentence}: {n_points} organisations' results against their number of "
            f"patients, with 95% and 99.8% control limits ({method}) around the national value of {pct(target)}.")


def draw_funnel(ind: Indicator, rows: pd.DataFrame, limits: pd.DataFrame, out_dir: Path,
                synthetic: bool = False) -> FunnelAsset | None:
    """Draw one indicator's funnel once (SVG, text as text) and place every organisation on it."""
    points = _points(rows, ind)
    if points.empty or limits.empty:
        return None
    target = float(limits["target"].iloc[0])
    method = str(limits["method"].iloc[0]) if "method" in limits and limits["method"].notna().any() else ""
    alt = _alt_text(ind, len(points), target, method)
    chart = funnel_svg(points, limits, target, alt, synthetic=synthetic)
    src = f"{SHARED_DIR}/funnel_{ind.id}.svg"
    path = out_dir / src
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic.write_bytes(path, chart.svg.encode("utf-8"))
    atomic.write_bytes(alt_text_path(path), alt.encode("utf-8") + b"\n")
    positions = {p.org_code: chart.css_position(p.denominator, p.percentage)
                 for p in points.itertuples() if chart.contains(p.denominator, p.percentage)}
    return FunnelAsset(ind.id, src, alt, target, method, value_column(ind), chart.frame.width, chart.frame.height,
                       positions)
