"""Identical input gives identical bytes, so a rebuild changes no file that did not change."""

from __future__ import annotations

from pathlib import Path

import pytest

from naome_report.charts import funnel_plot, patient_flow_diagram, save_figure


@pytest.mark.parametrize("fmt", ["png", "svg"])
def test_same_funnel_twice_gives_same_bytes(funnel_inputs, tmp_path: Path, fmt: str) -> None:
    paths = []
    for run in range(2):
        fig = funnel_plot(*funnel_inputs, "MDT discussion", "Discussed (%)", highlight="RB2")
        paths.append(save_figure(fig, tmp_path / f"{run}.{fmt}", "alt", fmt=fmt, dpi=72).path)
    assert paths[0].read_bytes() == paths[1].read_bytes()


def test_svg_has_no_timestamp_or_random_ids(flow_inputs, tmp_path: Path) -> None:
    a = save_figure(patient_flow_diagram(*flow_inputs), tmp_path / "a.svg", "alt", fmt="svg").path.read_text()
    b = save_figure(patient_flow_diagram(*flow_inputs), tmp_path / "b.svg", "alt", fmt="svg").path.read_text()
    assert a == b and "<dc:date>" not in a


def test_png_is_opaque_rgb(flow_inputs, tmp_path: Path) -> None:
    from PIL import Image

    path = save_figure(patient_flow_diagram(*flow_inputs), tmp_path / "f.png", "alt", dpi=50).path
    with Image.open(path) as image:
        assert image.mode == "RGB"
