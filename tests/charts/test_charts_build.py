"""Every chart kind builds from a small frame, saves as PNG and SVG, and carries alt text."""

from __future__ import annotations

import colorsys
from pathlib import Path

import numpy as np
import pytest
from matplotlib.figure import Figure
from matplotlib.image import imread

from naome_report.charts import (
    funnel_plot,
    km_plot,
    patient_flow_diagram,
    ranked_bar_chart,
    run_chart,
    save_figure,
)
from naome_report.charts.save import alt_text_path


def build(kind: str, request: pytest.FixtureRequest) -> Figure:
    if kind == "funnel":
        points, limits, target = request.getfixturevalue("funnel_inputs")
        return funnel_plot(points, limits, target, "MDT discussion", "Discussed at an MDT (%)", highlight="RC3")
    if kind == "run":
        return run_chart(request.getfixturevalue("run_frame"), "MDT discussion by quarter", "Discussed (%)", percent=True)
    if kind == "survival":
        return km_plot(request.getfixturevalue("km_curves"), "Overall survival", highlight_group="De novo")
    if kind == "bars":
        return ranked_bar_chart(request.getfixturevalue("bar_frame"), 59.0, "MDT discussion by region", "Discussed (%)")
    if kind == "flow":
        steps, exclusions = request.getfixturevalue("flow_inputs")
        return patient_flow_diagram(steps, exclusions, title="Patients in the audit")
    raise AssertionError(kind)


KINDS = ["funnel", "run", "survival", "bars", "flow"]


def assert_no_red_or_green(png: Path) -> None:
    """No vivid pixel of the saved chart is red or green (anti-aliased blends are not vivid)."""
    rgb = imread(png)[..., :3].reshape(-1, 3)
    hsv = np.array([colorsys.rgb_to_hsv(*px) for px in np.unique(rgb, axis=0)])
    hue = hsv[(hsv[:, 1] > 0.45) & (hsv[:, 2] > 0.3)][:, 0] * 360
    assert not np.any((hue < 15) | (hue > 340)), "red in chart"
    assert not np.any((hue > 75) & (hue < 165)), "green in chart"


@pytest.mark.parametrize("kind", KINDS)
def test_chart_saves_png_and_svg_with_alt_text(kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    fig = build(kind, request)
    alt = f"A {kind} chart of synthetic data."
    png = save_figure(fig, tmp_path / f"{kind}.png", alt, fmt="png", dpi=100)
    svg = save_figure(fig, tmp_path / f"{kind}.svg", alt, fmt="svg")
    assert png.path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    height, width = imread(png.path).shape[:2]
    assert (width, height) == (png.width_px, png.height_px)
    text = svg.path.read_text(encoding="utf-8")
    assert f"<title>{alt}</title>" in text and 'role="img"' in text
    for asset in (png, svg):
        assert alt_text_path(asset.path).read_text(encoding="utf-8").strip() == alt
        assert asset.alt_text == alt
    assert_no_red_or_green(png.path)


@pytest.mark.parametrize("kind", KINDS)
def test_chart_fits_a4_text_width_and_labels_axes(kind: str, request: pytest.FixtureRequest) -> None:
    fig = build(kind, request)
    width, height = fig.get_size_inches()
    assert width <= 174 / 25.4 and height <= 257 / 25.4
    if kind != "flow":
        ax = fig.axes[0]
        assert ax.get_xlabel() and ax.get_title(loc="left")
        assert kind == "bars" or ax.get_ylabel()


def test_flow_counts_use_thousands_separators(flow_inputs) -> None:
    fig = patient_flow_diagram(*flow_inputs)
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert "n = 150,321" in texts and "n = 1,354" in texts


def test_flow_rejects_an_exclusion_after_the_last_step(flow_inputs) -> None:
    steps, _ = flow_inputs
    with pytest.raises(ValueError, match="after_step_index"):
        patient_flow_diagram(steps, [{"after_step_index": 2, "label": "x", "count": 1}])


def test_survival_given_as_proportions_is_drawn_in_percent(km_curves) -> None:
    fig = km_plot(km_curves, "Survival")
    ax = fig.axes[0]
    assert ax.get_ylim() == (0, 102)
    labels = {t.get_text() for t in ax.texts}
    assert f"{100 * np.exp(-0.42):.0f}%" in labels


def test_run_chart_marks_trial_limits(run_frame) -> None:
    fig = run_chart(run_frame, "t", "y", trial_limits=True)
    assert fig.axes[0].get_title(loc="right") == "Trial limits"
    assert run_chart(run_frame.assign(trial_limits=False), "t", "y").axes[0].get_title(loc="right") == ""


def test_missing_columns_are_named(funnel_inputs, run_frame) -> None:
    points, limits, target = funnel_inputs
    with pytest.raises(ValueError, match="percentage"):
        funnel_plot(points.drop(columns="percentage"), limits, target, "t", "y")
    with pytest.raises(ValueError, match="variation"):
        run_chart(run_frame.drop(columns="variation"), "t", "y")


def test_funnel_rejects_unknown_status_and_proportion_limits(funnel_inputs) -> None:
    points, limits, target = funnel_inputs
    with pytest.raises(ValueError, match="unknown outlier_status"):
        funnel_plot(points.assign(outlier_status="bad"), limits, target, "t", "y")
    proportions = limits.assign(**{c: limits[c] / 100 for c in limits.columns if c != "n"})
    with pytest.raises(ValueError, match="proportions"):
        funnel_plot(points, proportions, target, "t", "y")


def test_funnel_highlight_must_exist(funnel_inputs) -> None:
    points, limits, target = funnel_inputs
    with pytest.raises(ValueError, match="ZZZ"):
        funnel_plot(points, limits, target, "t", "y", highlight="ZZZ")


def test_empty_alt_text_is_refused(funnel_inputs, tmp_path: Path) -> None:
    points, limits, target = funnel_inputs
    with pytest.raises(ValueError, match="alternative text"):
        save_figure(funnel_plot(points, limits, target, "t", "y"), tmp_path / "f.png", "  ")


def test_bar_fill_follows_the_kind_of_unit_not_its_rank(bar_frame) -> None:
    """A Welsh region ranked first is still hatched light blue; Cancer Alliances are solid NHS blue."""
    from matplotlib.colors import to_hex

    frame = bar_frame.assign(percentage=[50.0, 51.0, 52.0, 90.0, 40.0, np.nan])  # North Wales ranks first
    frame = frame.assign(ci_lower=frame.percentage - 4, ci_upper=frame.percentage + 4)
    ax = ranked_bar_chart(frame, 59.0, "t", "x").axes[0]
    fills = {(to_hex(p.get_facecolor()), p.get_hatch() or "") for p in ax.patches}
    assert fills == {("#005eb8", ""), ("#41b6e6", "///")}
    legend = ax.figure.legends[0]
    assert [t.get_text() for t in legend.get_texts()][:2] == ["Cancer Alliance", "Welsh region"]
    with pytest.raises(ValueError, match=r"unknown group\(s\) \['Wales'\]"):
        ranked_bar_chart(frame.assign(group="Wales"), 59.0, "t", "x")


@pytest.mark.parametrize(("values", "expected"), [
    ([65.0, 64.0], [67.5, 61.5]),         # 1 point apart: pulled 6 apart, centred on the pair
    ([70.0, 40.0], [70.0, 40.0]),         # far apart: left where they are
    ([99.0, 98.0], [100.0, 94.0]),        # near the top: the pair moves down to fit under 100
    ([], []),
])
def test_survival_value_labels_are_spread_apart(values: list[float], expected: list[float]) -> None:
    from naome_report.charts.survival import spread_labels

    assert spread_labels(values) == pytest.approx(expected)


def test_survival_numbers_at_risk_sit_under_the_curves(km_curves) -> None:
    import pandas as pd

    at_risk = pd.DataFrame({"group": ["De novo", "De novo", "Recurrent", "Recurrent"], "time_years": [0, 1, 0, 1],
                            "at_risk": [12045, 6556, 18057, np.nan]})
    fig = km_plot(km_curves, "Survival", at_risk=at_risk)
    table = fig.axes[1]
    assert table.get_title(loc="left") == "Number at risk"
    assert [t.get_text() for t in table.get_yticklabels()] == ["De novo", "Recurrent"]
    assert sorted(t.get_text() for t in table.texts) == ["12,045", "18,057", "6,556", "–"]


def test_svg_keeps_text_as_text(funnel_inputs, tmp_path: Path) -> None:
    points, limits, target = funnel_inputs
    svg = save_figure(funnel_plot(points, limits, target, "MDT", "Discussed at an MDT (%)"), tmp_path / "f.svg",
                      "alt", fmt="svg").path.read_text(encoding="utf-8")
    assert ">Discussed at an MDT (%)</text>" in svg and ">Number of patients (denominator)</text>" in svg
