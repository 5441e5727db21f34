"""The documents' hand-written SVG charts: ranking, marks, words, and labels placed by their measured width."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import numpy as np
import pandas as pd
import pytest
from matplotlib.font_manager import FontProperties
from matplotlib.textpath import TextPath

from naome_report.charts.bars_svg import ranked_bar_svg
from naome_report.charts.funnel_plot_svg import funnel_plot_svg
from naome_report.charts.run_chart_svg import run_chart_svg
from naome_report.charts.style import NHS_LIGHT_BLUE, NHS_ORANGE, house_font
from naome_report.charts.svg import measured_text

SVG = "{http://www.w3.org/2000/svg}"


def _texts(svg: str) -> list[str]:
    return [t.text for t in ET.fromstring(svg).iter(f"{SVG}text")]


def test_bars_are_ranked_highest_first_with_missing_values_last_and_welsh_bars_hatched() -> None:
    frame = pd.DataFrame({"label": ["Alpha", "Beta", "Gamma", "Delta"], "percentage": [40.0, np.nan, 70.0, 55.0],
                          "ci_lower": [35.0, np.nan, 65.0, 50.0], "ci_upper": [45.0, np.nan, 75.0, 60.0],
                          "group": ["Cancer Alliance", "Cancer Alliance", "Welsh region", "Cancer Alliance"]})
    svg, _, _ = ranked_bar_svg(frame, 50.0, "By alliance", "Discussed (%)", "alt")
    names = [t for t in _texts(svg) if t in {"Alpha", "Beta", "Gamma", "Delta"}]
    assert names == ["Gamma", "Delta", "Alpha", "Beta"]
    assert "not available" in _texts(svg) and "70%" in _texts(svg)
    fills = [p.get("fill") for p in ET.fromstring(svg).iter(f"{SVG}path")]
    assert NHS_LIGHT_BLUE in fills  # the Welsh region's fill


def test_bars_refuse_an_unknown_kind_of_unit() -> None:
    frame = pd.DataFrame({"label": ["A"], "percentage": [1.0], "ci_lower": [0.5], "ci_upper": [2.0], "group": ["Wales"]})
    with pytest.raises(ValueError, match=r"unknown group\(s\) \['Wales'\]"):
        ranked_bar_svg(frame, 1.0, "t", "x", "alt")


def test_run_chart_draws_a_special_cause_concern_in_orange_and_says_trial_limits() -> None:
    n = 8
    frame = pd.DataFrame({"period_label": [f"Q{i % 4 + 1}" for i in range(n)], "value": [50.0] * (n - 1) + [70.0],
                          "centre": [51.0] * n, "lower": [45.0] * n, "upper": [57.0] * n,
                          "special_cause": [False] * (n - 1) + [True], "variation": ["common_cause"] * (n - 1) + ["concern"]})
    svg = run_chart_svg(frame, "By quarter", "Died (%)", "alt", trial_limits=True, x_label="Quarter", size_px=(600, 270))
    words = _texts(svg)
    assert "Trial limits" in words and "Special cause: concern" in words and "Common cause variation" in words
    assert NHS_ORANGE in [p.get("fill") for p in ET.fromstring(svg).iter(f"{SVG}path")]
    with pytest.raises(ValueError, match=r"unknown variation value\(s\) \['odd'\]"):
        run_chart_svg(frame.assign(variation="odd"), "t", "y", "alt", trial_limits=False, x_label="x", size_px=(600, 270))


def test_funnel_legend_names_only_the_statuses_present_in_the_words_given() -> None:
    points = pd.DataFrame({"org_code": ["A", "B"], "org_name": ["A", "B"], "denominator": [100.0, 200.0],
                           "percentage": [50.0, 80.0], "outlier_status": ["within_limits", "alarm_high"]})
    n = np.array([10.0, 100.0, 1000.0])
    half = 1.96 * np.sqrt(25.0 / n) * 10
    limits = pd.DataFrame({"n": n, "lower_95": 50 - half, "upper_95": 50 + half, "lower_998": 50 - 1.5 * half,
                           "upper_998": 50 + 1.5 * half})
    svg = funnel_plot_svg(points, limits, 50.0, "MDT", "Discussed\n(% of patients)", "alt", size_px=(600, 380),
                          status_labels={"alarm_high": "Above 99.8% limit"})
    words = _texts(svg)
    assert "Above 99.8% limit" in words and "Within limits" in words and "National value (50.0%)" in words
    assert not any("alert" in w.lower() for w in words)
    with pytest.raises(ValueError, match=r"unknown outlier_status value\(s\) \['odd'\]"):
        funnel_plot_svg(points.assign(outlier_status="odd"), limits, 50.0, "t", "y", "alt", size_px=(600, 380))


def test_a_right_aligned_label_ends_where_asked_by_the_fonts_own_advance_widths() -> None:
    size = 12.0
    element = ET.fromstring(f'<svg xmlns="http://www.w3.org/2000/svg">{measured_text(100, 20, "Merrowdown", size, "end")}</svg>')
    text = next(element.iter(f"{SVG}text"))
    assert text.get("text-anchor") is None
    ink_right = TextPath((0, 0), "Merrowdown", size=size, prop=FontProperties(family=house_font())).get_extents().x1
    assert float(text.get("x")) + ink_right == pytest.approx(100, abs=1.2)  # ink ends a bearing short of the advance
