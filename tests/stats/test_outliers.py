from pathlib import Path

import matplotlib
import numpy as np
import pytest
from fontTools.ttLib import TTFont

from naome_report.stats.outliers import (
    unfavourable_side,
    comparison_from_interval,
    comparison_from_position,
    funnel_position,
    outlier_status_from_position,
)
from naome_report.vocabulary import FUNNEL_POSITION, OUTLIER_STATUS

# Limits used throughout: 95% (0.40, 0.60), 99.8% (0.30, 0.70).
LIMITS = (0.40, 0.60, 0.30, 0.70)


def test_per_row_limits_broadcast():
    values = np.array([0.9, 0.9])
    assert funnel_position(values, [0.5, 0.85], [0.8, 0.95], [0.4, 0.8], [0.85, 0.99]).tolist() == [
        "above_998", "within"]


def test_rows_not_assessable_or_missing_a_value_or_limit_are_not_assessed():
    position = funnel_position([0.9, 0.5, np.nan, 0.5, 0.1], [0.4, 0.4, 0.4, np.nan, 0.4], 0.6, 0.3, 0.7,
                               assessable=[False, True, True, True, True])
    assert position.tolist() == ["not_assessed", "within", "not_assessed", "not_assessed", "below_998"]


def test_empty_input():
    assert funnel_position([], [], [], [], []).shape == (0,)


def _fonts():
    bundled = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"
    fonts = [bundled]
    for system in (
        "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
        "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
        "/usr/share/fonts/truetype/liberation2/LiberationSans-Regular.ttf",
        "/usr/share/fonts/truetype/liberation/LiberationSerif-Regular.ttf",
    ):
        if Path(system).exists():
            fonts.append(Path(system))
    return fonts


@pytest.mark.parametrize("font", _fonts(), ids=lambda p: p.name)
def test_symbols_have_glyphs_in_dejavu_and_liberation(font):
    cmap = TTFont(font).getBestCmap()
    for symbol in (term.symbol for table in (FUNNEL_POSITION, OUTLIER_STATUS) for term in table.values()):
        for char in symbol:
            assert ord(char) in cmap, f"{char!r} missing from {font}"


# --------------------------------------------------------------------------- positions and comparisons

def test_funnel_position_in_every_band_and_on_the_limits():
    values = [0.25, 0.30, 0.35, 0.40, 0.50, 0.60, 0.65, 0.70, 0.75, np.nan]
    assert funnel_position(values, *LIMITS).tolist() == [
        "below_998", "below_95", "below_95", "within", "within", "within", "above_95", "above_95", "above_998",
        "not_assessed"]
    assert funnel_position([0.9], *LIMITS, assessable=[False]).tolist() == ["not_assessed"]


def test_hqip_status_only_inside_the_outlier_process():
    positions = ["above_998", "above_95", "within", "below_95", "below_998", "not_assessed"]
    assert outlier_status_from_position(positions, True).tolist() == [
        "alarm_high", "alert_high", "within_limits", "alert_low", "alarm_low", "not_assessed"]
    assert outlier_status_from_position(positions, False).tolist() == ["not_in_process"] * 6


def test_comparison_judges_directional_indicators_and_describes_neutral_ones():
    positions = ["above_998", "above_95", "within", "below_95", "below_998", "not_assessed"]
    assert comparison_from_position(positions, "higher_better").tolist() == [
        "better", "better", "similar", "worse", "worse", "not_assessed"]
    assert comparison_from_position(positions, "lower_better").tolist() == [
        "worse", "worse", "similar", "better", "better", "not_assessed"]
    assert comparison_from_position(positions, "neutral").tolist() == [
        "higher", "higher", "similar", "lower", "lower", "not_assessed"]


def test_comparison_from_a_confidence_interval():
    # CIs (52, 58), (45, 55), (40, 49.9), missing; national 50.
    lower, upper = [52, 45, 40, np.nan], [58, 55, 49.9, 60]
    assert comparison_from_interval(lower, upper, 50, "higher_better").tolist() == [
        "better", "similar", "worse", "not_assessed"]
    assert comparison_from_interval(lower, upper, 50, "neutral").tolist() == [
        "higher", "similar", "lower", "not_assessed"]
    with pytest.raises(ValueError, match="unknown direction 'up'"):
        comparison_from_interval(lower, upper, 50, "up")


def test_the_unfavourable_side_is_low_where_higher_is_better_and_absent_without_a_direction():
    assert unfavourable_side("higher_better") == "low"  # e.g. too few patients discussed at an MDT
    assert unfavourable_side("lower_better") == "high"  # e.g. too many deaths within 30 days of SACT
    assert unfavourable_side("neutral") == ""  # described, never judged
    with pytest.raises(ValueError, match="unknown direction 'up'"):
        unfavourable_side("up")
