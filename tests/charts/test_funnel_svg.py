"""The packs' vector funnel: points where the ring is placed, limit curves cut at the frame, text kept as text."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import numpy as np
import pandas as pd
import pytest

from naome_report.charts.funnel_geometry import limit_curves
from naome_report.charts.funnel_svg import CURVE_TOLERANCE, _inside, funnel_svg
from naome_report.charts.svg import axis_ticks, dots, simplify

SVG = "{http://www.w3.org/2000/svg}"
POSITIONS = {"within_limits": "within", "alert_low": "below_95", "alarm_high": "above_998",
             "not_assessed:too_few": "not_assessed"}


def _points(funnel_inputs) -> tuple[pd.DataFrame, pd.DataFrame, float]:
    points, limits, target = funnel_inputs
    return points.assign(position=points["outlier_status"].map(POSITIONS)), limits, target


def _replay_dots(d: str) -> list[tuple[float, float]]:
    """Absolute centres of a dots() path: each 'M/m x,y h.1' is a 0.1-long stroke centred on a point."""
    x = y = 0.0
    out = []
    for command, dx, dy in re.findall(r"([Mm])([-.\d]+),([-.\d]+)h\.1", d):
        x, y = (float(dx), float(dy)) if command == "M" else (x + float(dx), y + float(dy))
        out.append((round(x + 0.05, 2), round(y, 2)))
        x += 0.1
    return out


def test_dots_path_replays_to_the_centres() -> None:
    centres = [(10.0, 20.0), (12.34, 18.21), (5.0, 5.0), (300.16, 100.04)]
    d = re.search(r'd="([^"]*)"', dots(centres, "#000", 6)).group(1)
    assert _replay_dots(d) == [(10.0, 20.0), (12.3, 18.2), (5.0, 5.0), (300.2, 100.0)]


def test_each_organisation_is_drawn_where_its_ring_goes(funnel_inputs) -> None:
    points, limits, target = _points(funnel_inputs)
    chart = funnel_svg(points, limits, target, "a funnel")
    root = ET.fromstring(chart.svg)
    within = [p for p in root.iter(f"{SVG}path") if "stroke-linecap" in p.attrib]
    drawn = _replay_dots(within[0].get("d"))
    for row in points[points["position"] == "within"].itertuples():
        css = chart.css_position(row.denominator, row.percentage)
        left, top = (float(v) for v in re.findall(r"([\d.]+)%", css))
        x, y = left / 100 * 325, top / 100 * 208
        assert min(abs(x - a) + abs(y - b) for a, b in drawn) < 0.2


def test_limit_curves_are_cut_at_the_frame_and_stay_within_the_tolerance(funnel_inputs) -> None:
    points, limits, target = _points(funnel_inputs)
    chart = funnel_svg(points, limits, target, "a funnel")
    frame = chart.frame
    root = ET.fromstring(chart.svg)
    curves = [p for p in root.iter(f"{SVG}path") if p.get("stroke") == "#005EB8"]
    assert len(curves) == 2 and curves[0].get("stroke-dasharray") == "4 3" and not curves[1].get("stroke-dasharray")
    numbers = [float(v) for p in curves for v in re.findall(r"[-\d.]+", p.get("d"))]
    xs, ys = numbers[0::2], numbers[1::2]
    assert min(ys) >= frame.top - 0.05 and max(ys) <= frame.height - frame.bottom + 0.05
    assert min(xs) >= frame.left - 0.05 and max(xs) <= frame.width - frame.right + 0.05


def test_inside_cuts_a_line_where_it_crosses_the_edges() -> None:
    runs = _inside(np.array([0.0, 1.0, 2.0, 3.0]), np.array([0.0, 10.0, 20.0, 30.0]), 5.0, 25.0)
    assert runs == [[(0.5, 5.0), (1.0, 10.0), (2.0, 20.0), (2.5, 25.0)]]
    assert _inside(np.array([0.0, 1.0]), np.array([50.0, 60.0]), 5.0, 25.0) == []


def test_simplified_curve_stays_within_tolerance_of_the_smooth_one(funnel_inputs) -> None:
    _, limits, _ = funnel_inputs
    grid, curves = limit_curves(limits, 400.0, keep_given=False)
    dense = list(zip(grid / 2, 200 - curves["upper_998"]))  # any scale: tolerance is in the same units
    kept = np.array(simplify(dense, CURVE_TOLERANCE))
    assert 3 <= len(kept) < len(dense) / 4

    def distance(point: np.ndarray) -> float:
        a, b = kept[:-1], kept[1:]
        ab = b - a
        t = np.clip(((point - a) * ab).sum(axis=1) / np.maximum((ab * ab).sum(axis=1), 1e-12), 0, 1)
        return float(np.min(np.hypot(*(a + t[:, None] * ab - point).T)))

    assert max(distance(np.array(p)) for p in dense) <= CURVE_TOLERANCE + 1e-9


def test_axis_text_is_text(funnel_inputs) -> None:
    points, limits, target = _points(funnel_inputs)
    root = ET.fromstring(funnel_svg(points, limits, target, "a funnel").svg)
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert "Patients (denominator)" in texts and "0" in texts
    assert sum(t.endswith("%") for t in texts) >= 3 and root.get("aria-label") == "a funnel"


def test_unknown_position_is_refused(funnel_inputs) -> None:
    points, limits, target = _points(funnel_inputs)
    with pytest.raises(ValueError, match=r"unknown position code\(s\) \['alarm_high'\]"):
        funnel_svg(points.assign(position="alarm_high"), limits, target, "a funnel")


@pytest.mark.parametrize(("low", "high", "at_least", "expected"), [
    (10, 90, 3, [20, 40, 60, 80]), (0, 900, 4, [0, 250, 500, 750]), (38, 82, 3, [40, 60, 80]),
])
def test_axis_ticks(low: float, high: float, at_least: int, expected: list[float]) -> None:
    assert axis_ticks(low, high, at_least) == expected
