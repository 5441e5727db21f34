"""FunnelBackground: draw once, place each organisation's marker by CSS."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from matplotlib.image import imread

from naome_report.charts import FunnelBackground

MAGENTA = np.array([1.0, 0.0, 1.0])


def _magenta_centre(png: Path) -> tuple[float, float, int, int]:
    """Centroid (x, y) in pixels from the top-left, and the image size."""
    image = imread(png)[..., :3]
    mask = np.all(np.abs(image - MAGENTA) < 0.08, axis=-1)
    rows, cols = np.nonzero(mask)
    assert rows.size, "probe marker not found"
    return cols.mean() + 0.5, rows.mean() + 0.5, image.shape[1], image.shape[0]


@pytest.mark.parametrize(("dpi", "denominator", "percentage"), [(80, 300, 70.0), (150, 60, 52.0)])
def test_marker_position_matches_the_saved_png(funnel_inputs, tmp_path: Path, dpi: int,
                                                denominator: float, percentage: float) -> None:
    points, limits, target = funnel_inputs
    background = FunnelBackground(points, limits, target, "MDT discussion", "Discussed (%)")
    x_frac, y_frac = background.marker_position(denominator, percentage)
    background.axes.plot([denominator], [percentage], marker="s", markersize=6, color="#FF00FF",
                         markeredgewidth=0, zorder=10)
    asset = background.save(tmp_path / "bg.png", "Funnel background", dpi=dpi)
    x_px, y_px, width, height = _magenta_centre(asset.path)
    assert (width, height) == (asset.width_px, asset.height_px)
    assert abs(x_frac * width - x_px) < 1.5
    assert abs(y_frac * height - y_px) < 1.5


def test_css_position_and_overlay(funnel_inputs) -> None:
    background = FunnelBackground(*funnel_inputs, "t", "y")
    x, y = background.marker_position(120, 45.0)
    assert 0 < x < 1 and 0 < y < 1
    assert background.css_position(120, 45.0) == f"left: {x * 100:.3f}%; top: {y * 100:.3f}%;"
    html = background.overlay_html(120, 45.0, "Beta <Trust>")
    assert 'class="funnel-marker"' in html and "Beta &lt;Trust&gt;" in html
    assert background.contains(120, 45.0) and not background.contains(120, 101.0)


def test_higher_percentage_is_higher_on_the_page(funnel_inputs) -> None:
    background = FunnelBackground(*funnel_inputs, "t", "y")
    (_, low), (_, high) = background.marker_position(100, 50.0), background.marker_position(100, 70.0)
    (left, _), (right, _) = background.marker_position(50, 60.0), background.marker_position(300, 60.0)
    assert high < low and left < right


def test_compact_background_has_no_legend_and_positions_still_match(funnel_inputs, tmp_path: Path) -> None:
    points, limits, target = funnel_inputs
    background = FunnelBackground(points, limits, target, "", "Patients (%)", size=(3.3, 2.4), compact=True)
    assert background.figure.legends == []
    x_frac, y_frac = background.marker_position(200, 60.0)
    background.axes.plot([200], [60.0], marker="s", markersize=5, color="#FF00FF", markeredgewidth=0, zorder=10)
    asset = background.save(tmp_path / "compact.png", "Compact funnel", dpi=150)
    x_px, y_px, width, height = _magenta_centre(asset.path)
    assert abs(x_frac * width - x_px) < 1.5 and abs(y_frac * height - y_px) < 1.5
