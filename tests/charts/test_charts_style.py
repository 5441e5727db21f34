"""House style: NHS palette without red/green, status markers, fonts."""

from __future__ import annotations

import colorsys

import pytest
from matplotlib import font_manager
from matplotlib.colors import to_rgb

from naome_report.charts import funnel_plot
from naome_report.charts.style import (
    OUTLIER_STATUS,
    PALETTE,
    SERIES_COLOURS,
    VARIATION_STYLE,
    house_font,
    row_major,
)


def _all_colours() -> list[str]:
    styles = [*OUTLIER_STATUS.values(), *VARIATION_STYLE.values()]
    return [*PALETTE.values(), *SERIES_COLOURS, *(s.colour for s in styles), *(s.edge for s in styles)]


@pytest.mark.parametrize("colour", sorted(set(_all_colours())))
def test_no_colour_is_red_or_green(colour: str) -> None:
    hue, _light, saturation = colorsys.rgb_to_hls(*to_rgb(colour))
    degrees = hue * 360
    if saturation > 0.25:
        assert not (degrees < 15 or degrees > 340), f"{colour} is red"
        assert not (75 < degrees < 165), f"{colour} is green"


def test_outlier_status_map_covers_every_status_with_shape_and_words() -> None:
    assert list(OUTLIER_STATUS) == ["alarm_high", "alert_high", "within_limits", "alert_low", "alarm_low", "not_assessed"]
    assert OUTLIER_STATUS["alarm_high"].marker == "^" and OUTLIER_STATUS["alarm_low"].marker == "v"
    assert len({s.label for s in OUTLIER_STATUS.values()}) == len(OUTLIER_STATUS)
    assert len({(s.marker, s.colour) for s in OUTLIER_STATUS.values()}) == len(OUTLIER_STATUS)


def test_improvement_is_blue_and_concern_orange() -> None:
    assert VARIATION_STYLE["improvement"].colour == "#005EB8"
    assert VARIATION_STYLE["concern"].colour == "#ED8B00"
    assert len({s.marker for s in VARIATION_STYLE.values()}) == len(VARIATION_STYLE)


def test_charts_use_liberation_sans_when_installed(funnel_inputs) -> None:
    try:
        font_manager.findfont("Liberation Sans", fallback_to_default=False)
    except ValueError:
        pytest.skip("Liberation Sans is not installed (fonts-liberation2)")
    assert house_font() == "Liberation Sans"
    fig = funnel_plot(*funnel_inputs, "t", "y")
    assert fig.axes[0].title.get_fontname() == "Liberation Sans"


def test_row_major_matches_matplotlib_column_fill() -> None:
    assert row_major(list("abcdefg"), 3) == list("adgbecf")
