"""A compact funnel plot as SVG: control limits, national line and every organisation, its text kept as text.

For the organisation packs: drawn once per indicator and shared by every pack, which places its own
organisation's ring over it (`FunnelSVG.css_position`). Each kind of mark is one SVG element, so
weasyprint lays out a funnel of 140 organisations as about twenty elements.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from naome_report.charts.funnel_geometry import LIMIT_COLUMNS, check_units, limit_curves, x_extent, y_range
from naome_report.charts.style import (
    FUNNEL_POSITION_STYLE,
    NHS_BLUE,
    NHS_DARK_BLUE,
    NHS_DARK_GREY,
    StatusStyle,
    require_columns,
)
from naome_report.charts.svg import axis_ticks, dots, measured_text, path, path_d, simplify, svg_document, y_gridlines
from naome_report.charts.svg_frame import Frame

POINT_COLUMNS = ("denominator", "percentage", "position")
# Canvas in CSS pixels (1/96 inch): 86 x 55 mm, two funnels side by side, three rows to an A4 page.
WIDTH, HEIGHT = 325, 208
LEFT, RIGHT, TOP, BOTTOM = 32, 14, 8, 34
TICK_SIZE, TITLE_SIZE = 10, 10.5  # 7.5 pt and 8 pt on paper
CURVE_TOLERANCE = 0.2  # canvas units a simplified limit curve may stray from the smooth one (about 0.05 mm)
PX_PER_POINT = 96 / 72
DRAW_ORDER = ("not_assessed", "within", "above_95", "below_95", "above_998", "below_998")  # alarms on top


@dataclass(frozen=True)
class FunnelSVG:
    """A drawn funnel and the mapping from data to places on it."""

    svg: str
    frame: Frame

    def contains(self, denominator: float, percentage: float) -> bool:
        """Whether a point falls inside the plotting area (else a ring over it would mislead)."""
        f = self.frame
        return f.x0 <= denominator <= f.x1 and f.y0 <= percentage <= f.y1

    def css_position(self, denominator: float, percentage: float) -> str:
        """Inline CSS (`left`/`top` in % of the chart) placing an absolutely positioned ring on the point."""
        x = self.frame.x(denominator) / self.frame.width
        y = self.frame.y(percentage) / self.frame.height
        return f"left: {x * 100:.3f}%; top: {y * 100:.3f}%;"


def _inside(xs: np.ndarray, ys: np.ndarray, low: float, high: float) -> list[list[tuple[float, float]]]:
    """The runs of a curve between two heights, cut where it crosses them (an SVG needs no clip path then)."""
    runs: list[list[tuple[float, float]]] = []
    current: list[tuple[float, float]] = []
    for i, (x, y) in enumerate(zip(xs, ys)):
        inside = low <= y <= high
        if i and inside != (low <= ys[i - 1] <= high):  # crossing an edge: add the point on the edge
            edge = high if max(y, ys[i - 1]) > high else low
            t = (edge - ys[i - 1]) / (y - ys[i - 1])
            current.append((xs[i - 1] + t * (x - xs[i - 1]), edge))
            if not inside:
                runs.append(current)
                current = []
        if inside:
            current.append((x, y))
    runs.append(current)
    return [run for run in runs if len(run) > 1]


def _mark_d(style: StatusStyle, x: float, y: float) -> str:
    """Path data of one triangle or square of `style` (circles are drawn as dots)."""
    r = style.size * PX_PER_POINT / 2
    if style.marker == "^":
        return f"M{x:.1f},{y - r:.1f} L{x + r:.1f},{y + r * 0.8:.1f} L{x - r:.1f},{y + r * 0.8:.1f} Z"
    if style.marker == "v":
        return f"M{x:.1f},{y + r:.1f} L{x + r:.1f},{y - r * 0.8:.1f} L{x - r:.1f},{y - r * 0.8:.1f} Z"
    r *= 0.8
    return f"M{x - r:.1f},{y - r:.1f} h{2 * r:.1f} v{2 * r:.1f} h{-2 * r:.1f} Z"


def _marks(frame: Frame, points: pd.DataFrame) -> list[str]:
    """Every organisation, one element per kind of mark."""
    out = []
    for code in DRAW_ORDER:
        style = FUNNEL_POSITION_STYLE[code]
        group = points[points["position"] == code]
        centres = [(frame.x(n), frame.y(p)) for n, p in zip(group["denominator"], group["percentage"])]
        if not centres:
            continue
        if style.marker == "o":
            # One see-through dot a point (where points overlap they darken), not a dot on a white dot: the
            # dots are most of a funnel's path data, which weasyprint parses again for every pack.
            out.append(dots(centres, style.colour, style.size * PX_PER_POINT * 0.8, opacity=0.7))
        else:
            out.append(path(" ".join(_mark_d(style, x, y) for x, y in centres), style.edge, 0.7, fill=style.colour))
    return out


def _x_axis(frame: Frame, ticks: list[float], title: str) -> list[str]:
    """Axis lines, tick marks and labels, and the x-axis title."""
    base = frame.height - frame.bottom
    d = (f"M{frame.left:.1f},{frame.top:.1f} V{base:.1f} H{frame.width - frame.right:.1f} "
         + " ".join(f"M{frame.x(t):.1f},{base:.1f} v3" for t in ticks))
    out = [path(d, NHS_DARK_GREY, 0.8)]
    out += [measured_text(frame.x(t), base + 13, f"{t:,.0f}", TICK_SIZE) for t in ticks]
    out.append(measured_text(frame.left + (frame.width - frame.left - frame.right) / 2, frame.height - 4, title,
                             TITLE_SIZE))
    return out


def funnel_svg(points: pd.DataFrame, limits: pd.DataFrame, target: float, label: str,
               x_label: str = "Patients (denominator)", synthetic: bool = False) -> FunnelSVG:
    """A funnel of percentages (0-100) against patients; `points.position` is a funnel-position code.

    No y-axis title: the ticks say %, and the page says what the percentage is (each SVG text costs a pack
    about a millisecond to lay out, and there are fifteen funnels in a pack).
    """
    require_columns(points, POINT_COLUMNS, "funnel_svg points")
    require_columns(limits, LIMIT_COLUMNS, "funnel_svg limits")
    check_units(limits, target)
    unknown = sorted(set(points["position"]) - set(FUNNEL_POSITION_STYLE))
    if unknown:
        raise ValueError(f"funnel_svg: unknown position code(s) {unknown}; expected {list(FUNNEL_POSITION_STYLE)}")
    x_max = x_extent(points["denominator"])
    y0, y1 = y_range(points, limits, target)
    frame = Frame(WIDTH, HEIGHT, LEFT, RIGHT, TOP, BOTTOM, 0.0, x_max, y0, y1)
    body = y_gridlines(frame, axis_ticks(y0, y1, 3), "%", size=TICK_SIZE)
    grid, curves = limit_curves(limits, x_max, keep_given=False)
    inside = grid <= x_max
    xs = np.array([frame.x(n) for n in grid[inside]])
    for columns, dash in ((("lower_95", "upper_95"), "4 3"), (("lower_998", "upper_998"), "")):
        runs = [run for c in columns for run in _inside(xs, curves[c][inside], y0, y1)]
        d = " ".join(path_d(simplify([(x, frame.y(y)) for x, y in run], CURVE_TOLERANCE)) for run in runs)
        body.append(path(d, NHS_BLUE, 1.1, dash))
    body.append(path(f"M{frame.left:.1f},{frame.y(target):.1f} H{frame.width - frame.right:.1f}", NHS_DARK_BLUE, 1.4))
    body += _marks(frame, points)
    body += _x_axis(frame, axis_ticks(0.0, x_max, 4), x_label)
    return FunnelSVG(svg_document(WIDTH, HEIGHT, body, label, synthetic), frame)
