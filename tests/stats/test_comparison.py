"""Interval-versus-reference comparison codes, worked by hand."""

import numpy as np
import pytest

from naome_report.stats.comparison import compare_interval


def test_codes_follow_the_direction():
    lower = [60, 60, 60, 30, 30, 30, 45, 45, np.nan]
    upper = [70, 70, 70, 40, 40, 40, 55, 55, 55]
    reference = [50, 50, 50, 50, 50, 50, 50, 55, 50]
    direction = ["higher_better", "lower_better", "neutral", "higher_better", "lower_better", "neutral",
                 "higher_better", "neutral", "higher_better"]
    assert list(compare_interval(lower, upper, reference, direction)) == [
        "better", "worse", "higher", "worse", "better", "lower", "similar", "similar", "not_assessed"]


def test_unknown_direction_is_refused():
    with pytest.raises(ValueError, match="unknown direction"):
        compare_interval([1], [2], [1.5], ["upwards"])
