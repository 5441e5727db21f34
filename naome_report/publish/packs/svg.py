"""Small inline SVG charts drawn per organisation without matplotlib: quarterly run charts and survival curves."""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import quote
from typing import Any

from naome_report.charts.svg import (
    dots, measured_text, nice_ticks, path, path_d, polyline, svg_document, text, y_gridlines,
)
from naome_report.charts.svg_frame import Frame
from naome_report.charts.style import (
    COMMON_CAUSE,
    CONCERN,
    IMPROVEMENT,
    NEITHER,
    NHS_BLACK,
    NHS_DARK_BLUE,
    NHS_DARK_GREY,
    NHS_MID_GREY,
    NHS_ORANGE,
)
from naome_report.publish.packs.formatting import is_blank


def _num(value: Any) -> float | None:
    """A float, or None for an empty cell."""
    return None if is_blank(value) else float(value)


MARKERS: dict[str, tuple[str, str]] = {  # variation -> (fill, edge); shapes as in charts.style.VARIATION_STYLE
    "common_cause": (COMMON_CAUSE, "white"),
    "improvement": (IMPROVEMENT, NHS_DARK_BLUE),
    "concern": (CONCERN, NHS_BLACK),
    "neither": (NEITHER, NHS_BLACK),
}


def _marker_d(kind: str, x: float, y: float) -> str:
    """Path data of one Making Data Count point: circle, square, diamond or hexagon."""
    if kind == "improvement":
        return f"M{x - 3.6:.1f},{y - 3.6:.1f} h7.2 v7.2 h-7.2 Z"
    if kind == "concern":
        return f"M{x:.1f},{y - 4.6:.1f} L{x + 4.6:.1f},{y:.1f} L{x:.1f},{y + 4.6:.1f} L{x - 4.6:.1f},{y:.1f} Z"
    if kind == "neither":
        pts = ((0, -4.2), (3.6, -2.1), (3.6, 2.1), (0, 4.2), (-3.6, 2.1), (-3.6, -2.1))
        return "M" + " L".join(f"{x + dx:.1f},{y + dy:.1f}" for dx, dy in pts) + " Z"
    pts = ((3.0, 0.0), (2.1, 2.1), (0.0, 3.0), (-2.1, 2.1), (-3.0, 0.0), (-2.1, -2.1), (0.0, -3.0), (2.1, -2.1))
    return "M" + " L".join(f"{x + dx:.1f},{y + dy:.1f}" for dx, dy in pts) + " Z"  # octagon: no curves to draw


def _markers(placed: list[tuple[str, float, float]]) -> list[str]:
    """All points of each kind as one path; common-cause points (most of them) as round dots with a white edge."""
    common = [(x, y) for k, x, y in placed if k == "common_cause"]
    fill, edge = MARKERS["common_cause"]
    out = [dots(common, edge, 7.4), dots(common, fill, 6.0)]
    for kind, (fill, edge) in MARKERS.items():
        if kind != "common_cause":
            d = " ".join(_marker_d(k, x, y) for k, x, y in placed if k == kind)
            out.append(path(d, edge, 0.7, fill=fill))
    return out


def _quarter_label(period: str) -> str:
    """'2024/25 Q1' -> '2024/25' (years are labelled at their first quarter)."""
    return str(period).split(" ")[0]


# Run-chart canvas (SVG units). With the financial years printed under the chart in HTML (see `year_labels`),
# the canvas stops below the quarter ticks; templates/pack/pack.css places that line from these numbers.
RUN_WIDTH, RUN_LEFT, RUN_RIGHT, RUN_TOP = 340, 38, 8, 8
RUN_BOTTOM_WITH_YEARS, RUN_BOTTOM_WITHOUT = 30, 8
RUN_PLOT_HEIGHT = 112


def year_labels(points: list[dict[str, Any]]) -> list[str]:
    """The financial years of a quarterly series, when each has the same number of quarters (else [])."""
    years: dict[str, int] = {}
    for point in points:
        year = _quarter_label(point["period"])
        years[year] = years.get(year, 0) + 1
    return list(years) if len(set(years.values())) == 1 else []


YEAR_LABEL_EM = 6 * 0.556 + 0.278  # width of '2023/24' in Liberation Sans (digits 0.556 em, slash 0.278 em)


def year_line_style(n_quarters: int, n_years: int) -> str:
    """Inline CSS for the line of year labels under a run chart: each label starts under its year's first quarter.

    The line runs from the first label's start to the last label's end and is justified (one text line; the
    labels are equally wide), so it is placed in percentages of the chart's width like the SVG canvas.
    """
    plot = RUN_WIDTH - RUN_LEFT - RUN_RIGHT
    per_year = n_quarters // n_years
    start = RUN_LEFT + plot * 0.5 / n_quarters - 3
    last = RUN_LEFT + plot * ((n_years - 1) * per_year + 0.5) / n_quarters - 3
    return (f"margin-left: {start / RUN_WIDTH * 100:.3f}%; "
            f"width: calc({(last - start) / RUN_WIDTH * 100:.3f}% + {YEAR_LABEL_EM:.3f}em)")


def run_chart_svg(points: list[dict[str, Any]], label: str, years_below: bool = False, synthetic: bool = False) -> str:
    """An XmR run chart of one organisation's quarterly percentages with mean, process limits and special causes.

    `years_below`: the financial-year labels are printed under the chart in HTML (one line of text instead of
    twenty-odd SVG letters, each of which weasyprint lays out and draws on its own), so the canvas stops at
    the quarter ticks.
    """
    values = [_num(p["percentage"]) for p in points]
    means = [_num(p["centre"]) for p in points]
    lows = [_num(p["lower_limit"]) for p in points]
    highs = [_num(p["upper_limit"]) for p in points]
    shown = [v for v in values + means + lows + highs if v is not None]
    if all(v is None for v in values):
        return ""
    low, high = max(0.0, min(shown)), min(100.0, max(shown))
    pad = max((high - low) * 0.08, 2.0)
    ticks = nice_ticks(max(0.0, low - pad), min(100.0, high + pad), 3)
    if len(ticks) < 2:  # a scale needs two labelled gridlines
        ticks = nice_ticks(max(0.0, low - pad), min(100.0, high + pad), 5)
    bottom = RUN_BOTTOM_WITHOUT if years_below else RUN_BOTTOM_WITH_YEARS
    frame = Frame(RUN_WIDTH, RUN_TOP + RUN_PLOT_HEIGHT + bottom, RUN_LEFT, RUN_RIGHT, RUN_TOP, bottom, -0.5,
                  len(points) - 0.5, min(ticks[0], low - pad), max(ticks[-1], high + pad))
    body = y_gridlines(frame, ticks, "%")
    limits_d = " ".join(path_d(seg) for series in (lows, highs) for seg in _segments(frame, series))
    body.append(path(limits_d, NHS_DARK_GREY, 1.0, "4 3"))
    body.append(path(" ".join(path_d(seg) for seg in _segments(frame, means)), NHS_DARK_BLUE, 1.4))
    body.append(path(" ".join(path_d(seg) for seg in _segments(frame, values)), NHS_MID_GREY, 1.2))
    placed = []
    for i, (point, value) in enumerate(zip(points, values)):
        if value is None:
            continue
        special = str(point.get("special_cause", "")).lower() in ("yes", "true", "1")
        kind = str(point.get("variation") or "common_cause") if special else "common_cause"
        placed.append((kind if kind in MARKERS else "common_cause", frame.x(i), frame.y(value)))
    body += _markers(placed)
    body += _x_axis(frame, points, with_years=not years_below)
    return svg_document(frame.width, frame.height, body, label, synthetic)


def _segments(frame: Frame, series: list[float | None]) -> list[list[tuple[float, float]]]:
    """Runs of consecutive present values as canvas points (gaps stay gaps)."""
    out: list[list[tuple[float, float]]] = [[]]
    for i, value in enumerate(series):
        if value is None:
            out.append([])
        else:
            out[-1].append((frame.x(i), frame.y(value)))
    return [seg for seg in out if seg]


def _x_axis(frame: Frame, points: list[dict[str, Any]], with_years: bool = True) -> list[str]:
    """Quarter ticks (one path), financial years labelled under their first quarter."""
    base = frame.height - frame.bottom
    d = f"M{frame.left:.1f},{base:.1f} H{frame.width - frame.right:.1f} "
    d += " ".join(f"M{frame.x(i):.1f},{base:.1f} v3" for i in range(len(points)))
    out = [path(d, NHS_DARK_GREY, 0.8)]
    if not with_years:
        return out
    years = [_quarter_label(point["period"]) for point in points]
    seen: set[str] = set()
    for i, year in enumerate(years):
        # A year with a single point here (a rolling series starts at a year's last quarter) has no room for
        # its label before the next year's: it stays unlabelled rather than overprinted.
        if year not in seen and years.count(year) > 1:
            seen.add(year)
            out.append(text(frame.x(i) - 3, base + 14, year, size=9.5, anchor="start", colour=NHS_BLACK))
    return out


def _steps(frame: Frame, times: list[float], values: list[float]) -> list[tuple[float, float]]:
    """A post-step curve from (0, 100%)."""
    pts: list[tuple[float, float]] = []
    last = 100.0
    prev_t = 0.0
    pts.append((frame.x(0.0), frame.y(100.0)))
    for t, v in zip(times, values):
        if t > prev_t:
            pts.append((frame.x(t), frame.y(last)))
        pts.append((frame.x(t), frame.y(v)))
        last, prev_t = v, t
    return pts


def _band(frame: Frame, times: list[float], lows: list[float], highs: list[float], colour: str, opacity: float) -> str:
    """A stepped confidence band."""
    upper = _steps(frame, times, highs)
    lower = _steps(frame, times, lows)
    coords = " ".join(f"{x:.1f},{y:.1f}" for x, y in upper + lower[::-1])
    return f'<polygon points="{coords}" fill="{colour}" fill-opacity="{opacity}" stroke="none"/>'


def _curve_arrays(curve: list[dict[str, Any]]) -> tuple[list[float], list[float], list[float], list[float]]:
    rows = [r for r in curve if _num(r["survival_percentage"]) is not None]
    t = [float(r["time_years"]) for r in rows]
    s = [float(r["survival_percentage"]) for r in rows]
    lo = [_num(r["ci_lower_95"]) if _num(r["ci_lower_95"]) is not None else v for r, v in zip(rows, s)]
    hi = [_num(r["ci_upper_95"]) if _num(r["ci_upper_95"]) is not None else v for r, v in zip(rows, s)]
    return t, s, lo, hi


def survival_svg(own: list[dict[str, Any]], national: list[dict[str, Any]], label: str,
                 marks: Sequence[float] = (1.0, 3.0), synthetic: bool = False) -> str:
    """Kaplan-Meier curve of the organisation (solid, with band) against the national curve (dashed, with band)."""
    curves = [c for c in (national, own) if c]
    if not curves:
        return ""
    # The axis ends where follow-up ends (the last estimated point), not at the next whole year.
    observed = [t for c in curves for t in _curve_arrays(c)[0]]
    horizon = max(max(observed, default=1.0), 1.0)
    years = int(horizon)
    frame = Frame(640, 210, 44, 12, 10, 20, 0.0, horizon, 0.0, 100.0)
    body = y_gridlines(frame, [0, 25, 50, 75, 100], "%")
    d = " ".join(f"M{frame.x(y):.1f},{frame.top:.1f} V{frame.height - frame.bottom:.1f}" for y in marks if y <= years)
    body.append(path(d, NHS_MID_GREY, 0.7, "1.5 2"))
    for curve, colour, dash, width, opacity in ((national, NHS_ORANGE, "7 4", 1.8, 0.14),
                                                (own, NHS_DARK_BLUE, "", 2.4, 0.18)):
        if not curve:
            continue
        t, s, lo, hi = _curve_arrays(curve)
        body.append(_band(frame, t, lo, hi, colour, opacity))
        body.append(polyline(_steps(frame, t, s), colour, width, dash))
    base = frame.height - frame.bottom
    for year in range(years + 1):
        x = frame.x(year)
        body.append(measured_text(x, base + 15, str(year), 10.5))
    return svg_document(frame.width, frame.height, body, label, synthetic)  # the axis title is a line of HTML under the image


def data_uri(svg: str) -> str:
    """An SVG as a data: URI for <img src> (weasyprint then skips HTML parsing and styling of its elements)."""
    return "data:image/svg+xml," + quote(svg, safe=" =:,/;#.-_")
