from pathlib import Path

import matplotlib
import numpy as np
import pytest
from fontTools.ttLib import TTFont

from naome_report.stats.outliers import (
    OUTLIER_LABELS,
    OUTLIER_SYMBOLS,
    assign_outlier_status,
    comparison_from_interval,
    comparison_from_position,
    funnel_position,
    outlier_status_from_position,
    outlier_label,
    outlier_symbol,
)

# Limits used throughout: 95% (0.40, 0.60), 99.8% (0.30, 0.70).
LIMITS = (0.40, 0.60, 0.30, 0.70)


def test_every_band_in_both_directions():
    values = [0.25, 0.30, 0.35, 0.40, 0.50, 0.60, 0.65, 0.70, 0.75]
    expected = [
        "alarm_low",  # 0.25 < 0.30
        "alert_low",  # exactly on the 99.8% limit: not beyond it, but beyond 0.40
        "alert_low",
        "within_limits",  # exactly on the 95% limit is within
        "within_limits",
        "within_limits",
        "alert_high",
        "alert_high",  # on the 99.8% limit
        "alarm_high",
    ]
    assert assign_outlier_status(values, *LIMITS).tolist() == expected


def test_per_row_limits_broadcast():
    values = np.array([0.9, 0.9])
    status = assign_outlier_status(values, [0.5, 0.85], [0.8, 0.95], [0.4, 0.8], [0.85, 0.99])
    assert status.tolist() == ["alarm_high", "within_limits"]


def test_not_assessable_rows_carry_their_reason():
    status = assign_outlier_status(
        [0.9, 0.9, 0.5, 0.1],
        *LIMITS,
        assessable=[False, False, True, False],
        reason_not_assessed=["too_few", "not_eligible", "too_few", None],
    )
    assert status.tolist() == [
        "not_assessed:too_few",
        "not_assessed:not_eligible",
        "within_limits",  # assessable: reason ignored
        "not_assessed:not_available",  # no reason given
    ]


def test_missing_value_or_limits_is_not_available_unless_reason_given():
    status = assign_outlier_status(
        [np.nan, np.nan, 0.5], [0.4, 0.4, np.nan], 0.6, 0.3, 0.7,
        reason_not_assessed=["", "suppressed", ""],
    )
    assert status.tolist() == [
        "not_assessed:not_available",
        "not_assessed:suppressed",
        "not_assessed:not_available",
    ]


def test_empty_input():
    assert assign_outlier_status([], [], [], [], []).shape == (0,)


def test_result_is_a_numpy_string_array():
    status = assign_outlier_status([0.5, np.nan], *LIMITS, reason_not_assessed="too_few")
    assert status.dtype.kind == "U"
    assert np.char.startswith(status, "not_assessed:").tolist() == [False, True]


def test_labels_and_symbols_cover_every_status():
    statuses = ["alarm_high", "alert_high", "within_limits", "alert_low", "alarm_low"]
    for status in statuses:
        assert OUTLIER_LABELS[status]
        assert OUTLIER_SYMBOLS[status]
    assert "99.8%" in OUTLIER_LABELS["alarm_high"] and "higher" in OUTLIER_LABELS["alarm_high"]
    assert "95%" in OUTLIER_LABELS["alert_low"] and "lower" in OUTLIER_LABELS["alert_low"]
    assert outlier_label("not_assessed:too_few") == "Not assessed: too few patients"
    assert outlier_label("not_assessed:some_new_reason") == "Not assessed: some new reason"
    assert outlier_symbol("not_assessed:too_few") == OUTLIER_SYMBOLS["not_assessed"]
    with pytest.raises(KeyError):
        outlier_label("bogus")


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
    for symbol in OUTLIER_SYMBOLS.values():
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
