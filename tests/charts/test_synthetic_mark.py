"""Every chart image of synthetic data carries the synthetic mark inside the image, small and central."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import weasyprint
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


def test_the_svg_mark_is_printed_whole_and_centred_in_a_pdf(funnel_inputs, tmp_path: Path) -> None:
    """weasyprint clipped see-through text to its unanchored box: a centred mark printed only its second half."""
    if not shutil.which("pdftoppm"):
        pytest.skip("poppler-utils (pdftoppm) is not installed")
    points, limits, target = funnel_inputs
    pages, centres = [], []
    for name, synthetic in (("s", True), ("p", False)):
        fig = funnel_plot(points, limits, target, "A funnel", "Patients (%)")
        save_figure(fig, tmp_path / f"{name}.svg", "Funnel", fmt="svg", synthetic=synthetic)
        box = max((ax.get_position() for ax in fig.axes), key=lambda b: b.width * b.height)
        centres.append((box.x0 + box.x1) / 2)  # the mark's place: the middle of the plotting area
        pages.append(_printed_grey(tmp_path, name))
    changed = np.argwhere(np.abs(pages[0] - pages[1]) > 8)
    assert len(changed) > 0
    cols = changed[:, 1]
    image_width = 160 / 25.4 * 100  # the image's width in pixels at 100 dpi, from the page's left edge
    left, right = cols.min(), cols.max()
    # Whole: as much of the mark on each side of the middle of the plotting area, and as wide as its 14 letters.
    assert abs((left + right) / 2 - centres[0] * image_width) < image_width / 40, (left, right)
    assert right - left > image_width / 10


def test_the_measured_mark_of_a_printed_chart_is_centred_on_its_canvas(tmp_path: Path) -> None:
    """Charts for weasyprint centre the mark by its measured width (no text-anchor): it must still print centred."""
    if not shutil.which("pdftoppm"):
        pytest.skip("poppler-utils (pdftoppm) is not installed")
    mark = synthetic_mark_svg(400, 200, measured=True)
    assert "text-anchor" not in mark and ">SYNTHETIC DATA</text>" in mark
    pages = []
    for name, body in (("s", mark), ("p", "")):
        svg = (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 400 200" width="400" height="200">'
               f'{body}</svg>')
        (tmp_path / f"{name}.svg").write_text(svg, encoding="utf-8")
        pages.append(_printed_grey(tmp_path, name))
    changed = np.argwhere(np.abs(pages[0] - pages[1]) > 8)
    image_width = 160 / 25.4 * 100  # pixels at 100 dpi
    image_height = image_width / 2
    rows, cols = changed[:, 0], changed[:, 1]
    assert abs((cols.min() + cols.max()) / 2 - image_width / 2) < image_width / 80, (cols.min(), cols.max())
    assert abs((rows.min() + rows.max()) / 2 - image_height / 2) < image_height / 40, (rows.min(), rows.max())
    assert cols.max() - cols.min() > image_width / 8  # all 14 letters


def _printed_grey(folder: Path, name: str) -> np.ndarray:
    """`<folder>/<name>.svg` printed 160 mm wide by weasyprint, as 100 dpi grey pixels."""
    html = (f'<html><head><style>@page {{ margin: 0 }} body {{ margin: 0 }}</style></head>'
            f'<body><img src="{name}.svg" style="width: 160mm"></body></html>')
    weasyprint.HTML(string=html, base_url=str(folder) + "/").write_pdf(folder / f"{name}.pdf")
    subprocess.run(["pdftoppm", "-r", "100", "-gray", "-png", "-singlefile", str(folder / f"{name}.pdf"),
                    str(folder / name)], check=True)
    return np.asarray(Image.open(folder / f"{name}.png").convert("L"), dtype=int)
