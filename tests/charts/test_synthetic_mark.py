"""Every chart image of synthetic data carries the synthetic mark inside the image, small and central."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
from PIL import Image

from naome_report.charts import funnel_plot, save_figure
from naome_report.charts.svg_frame import synthetic_mark_svg


def test_a_synthetic_chart_carries_the_mark_and_a_real_one_does_not(funnel_inputs, tmp_path: Path) -> None:
    points, limits, target = funnel_inputs
    marked = save_figure(funnel_plot(points, limits, target, "A funnel", "Patients (%)"), tmp_path / "s.svg", "Funnel", fmt="svg", synthetic=True)
    plain = save_figure(funnel_plot(points, limits, target, "A funnel", "Patients (%)"), tmp_path / "p.svg", "Funnel", fmt="svg")
    assert "SYNTHETIC DATA" in marked.path.read_text(encoding="utf-8")
    assert "SYNTHETIC DATA" not in plain.path.read_text(encoding="utf-8")


def test_the_mark_is_small_and_in_the_middle_of_the_png(funnel_inputs, tmp_path: Path) -> None:
    points, limits, target = funnel_inputs
    images = []
    for name, synthetic in (("s.png", True), ("p.png", False)):
        asset = save_figure(funnel_plot(points, limits, target, "A funnel", "Patients (%)"), tmp_path / name, "Funnel", synthetic=synthetic)
        images.append(np.asarray(Image.open(asset.path).convert("L"), dtype=int))
    changed = np.argwhere(np.abs(images[0] - images[1]) > 8)
    height, width = images[0].shape
    assert len(changed) > 0
    rows, cols = changed[:, 0], changed[:, 1]
    # Small: within a band a fifth of the width and a tenth of the height; central: around the middle.
    assert cols.max() - cols.min() < width / 5 and rows.max() - rows.min() < height / 10
    assert abs((cols.min() + cols.max()) / 2 - width / 2) < width / 6
    assert abs((rows.min() + rows.max()) / 2 - height / 2) < height / 6


def test_the_svg_mark_sits_at_the_centre_of_its_canvas() -> None:
    mark = synthetic_mark_svg(480, 300)
    assert re.search(r'x="240\.0" y="150\.0" text-anchor="middle"', mark)
    assert 'aria-hidden="true"' in mark and ">SYNTHETIC DATA</text>" in mark


def test_every_built_portal_chart_is_marked(output_dir: Path) -> None:
    pages = sorted((output_dir / "portal" / "organisations").glob("*.html"))[:5]
    pages += sorted((output_dir / "portal" / "indicators").glob("*.html"))[:3]
    for page in pages:
        html = page.read_text(encoding="utf-8")
        charts = re.findall(r'<svg class="(?:run-chart|funnel)".*?</svg>', html, flags=re.S)
        for chart in charts:
            if "<image " in chart:  # an organisation on the shared background image: the image carries the mark
                continue
            assert "SYNTHETIC DATA" in chart, page.name
    for background in (output_dir / "portal").rglob("*.svg"):
        if background.name == "favicon.svg":  # the site's icon, not a chart
            continue
        assert "SYNTHETIC DATA" in background.read_text(encoding="utf-8"), background.name
