import math

import numpy as np
import pytest

from naome_report.stats.spc import (
    laney_sigma_z,
    p_chart_columns,
    p_chart_limits,
    rule_outside_limits,
    rule_shift,
    rule_trend,
    rule_two_of_three_beyond_2sigma,
    run_chart_analysis,
    xmr_limits,
)

# --------------------------------------------------------------------------- limits


def test_xmr_limits_hand_worked():
    # values 10, 12, 11, 13, 14: mean = 60 / 5 = 12
    # moving ranges 2, 1, 2, 1: mean moving range = 6 / 4 = 1.5
    # limits 12 -/+ 2.66 * 1.5 = 12 -/+ 3.99 -> 8.01 / 15.99
    # sigma = 1.5 / 1.128 = 1.329787; 2 sigma = 2.659574
    limits = xmr_limits([10, 12, 11, 13, 14])
    assert limits["mean"] == pytest.approx(12.0)
    assert limits["mean_moving_range"] == pytest.approx(1.5)
    assert limits["lower"] == pytest.approx(8.01)
    assert limits["upper"] == pytest.approx(15.99)
    assert limits["lower_1sigma"] == pytest.approx(12 - 1.329787, abs=1e-6)
    assert limits["upper_1sigma"] == pytest.approx(12 + 1.329787, abs=1e-6)
    assert limits["lower_2sigma"] == pytest.approx(12 - 2.659574, abs=1e-6)
    assert limits["upper_2sigma"] == pytest.approx(12 + 2.659574, abs=1e-6)


def test_xmr_limits_skip_missing_values():
    with_gaps = xmr_limits([10, np.nan, 12, 11, np.nan, 13, 14])
    assert with_gaps == pytest.approx(xmr_limits([10, 12, 11, 13, 14]))


def test_xmr_limits_published_nhsrplotthedots_reference():
    # NHSRplotthedots tests/testthat/_snaps/ptd_spc_standard.md: y = rnorm(20) after
    # set.seed(123) (values as printed in R), mean 0.142, lpl -3.01, upl 3.29.
    y = [
        -0.56047565, -0.23017749, 1.55870831, 0.07050839, 0.12928774,
        1.71506499, 0.46091621, -1.26506123, -0.68685285, -0.44566197,
        1.22408180, 0.35981383, 0.40077145, 0.11068272, -0.55584113,
        1.78691314, 0.49785048, -1.96661716, 0.70135590, -0.47279141,
    ]
    limits = xmr_limits(y)
    assert round(limits["mean"], 3) == 0.142
    assert round(limits["lower"], 2) == -3.01
    assert round(limits["upper"], 2) == 3.29


def test_xmr_limits_too_few_values():
    empty = xmr_limits([])
    assert all(math.isnan(v) for v in empty.values())
    one = xmr_limits([np.nan, 4.0])
    assert one["mean"] == 4.0 and math.isnan(one["mean_moving_range"]) and math.isnan(one["upper"])


# --------------------------------------------------------------------------- single rules


def test_rule_outside_limits_is_strict():
    flags = rule_outside_limits([1, 2, 5, 8, 9, np.nan], 2, 8)
    assert flags.tolist() == [True, False, False, False, True, False]


@pytest.mark.parametrize(
    "values, length, expected",
    [
        ([1, 2, 3, 4, 5, 6], 6, [1, 1, 1, 1, 1, 1]),
        ([1, 2, 3, 4, 5], 6, [0, 0, 0, 0, 0]),
        ([9, 8, 7, 6, 5, 4], 6, [1, 1, 1, 1, 1, 1]),
        ([1, 2, 3, 3, 4, 5, 6], 6, [0, 0, 0, 0, 0, 0, 0]),  # tie breaks the run
        ([5, 1, 2, 3, 4, 5, 6, 2], 6, [0, 1, 1, 1, 1, 1, 1, 0]),
        ([1, 2, 3, 4, 5, 6], 7, [0, 0, 0, 0, 0, 0]),
        # NHSRplotthedots ptd_seven_point_trend(c(2, 1:7, 3)): 7-point run over positions 2-8.
        ([2, 1, 2, 3, 4, 5, 6, 7, 3], 7, [0, 1, 1, 1, 1, 1, 1, 1, 0]),
        # Turning point belongs to both the rising and the falling run.
        ([1, 2, 3, 4, 5, 6, 5, 4, 3, 2, 1], 6, [1] * 11),
        ([1, 2, 3, np.nan, 4, 5, 6], 6, [0] * 7),  # a missing value breaks the run
        ([], 6, []),
        ([3.0], 6, [0]),
    ],
)
def test_rule_trend(values, length, expected):
    assert rule_trend(values, length).tolist() == [bool(e) for e in expected]


@pytest.mark.parametrize(
    "values, expected",
    [
        ([2.5, 0, 2.5], [1, 0, 1]),
        ([2.5, 2.5, 0], [1, 1, 0]),
        ([0, 2.5, 2.5], [0, 1, 1]),
        ([2.5, 0, 0, 2.5], [0, 0, 0, 0]),  # too far apart
        ([2.5, 0, -2.5], [0, 0, 0]),  # opposite sides
        ([2.0, 2.5, 0], [0, 0, 0]),  # exactly on 2 sigma is not beyond
        ([3.5, 2.5, 0], [1, 1, 0]),  # beyond 3 sigma also counts as beyond 2 sigma
        ([-2.5, -3, 1, 1], [1, 1, 0, 0]),
        ([0, 0, 2.5, 0, 2.5, 0, 0], [0, 0, 1, 0, 1, 0, 0]),  # only the points beyond
        ([], []),
    ],
)
def test_rule_two_of_three(values, expected):
    flags = rule_two_of_three_beyond_2sigma(values, 0.0, -2.0, 2.0)
    assert flags.tolist() == [bool(e) for e in expected]


@pytest.mark.parametrize(
    "values, expected",
    [
        ([1] * 7, [1] * 7),
        ([1] * 6, [0] * 6),
        ([1] * 6 + [0] + [1], [0] * 8),  # a point on the mean breaks the run
        ([-1] * 8 + [1], [1] * 8 + [0]),
        ([1, -1] * 5, [0] * 10),
        ([1, 1, 1, np.nan, 1, 1, 1, 1], [0] * 8),
        ([], []),
    ],
)
def test_rule_shift(values, expected):
    assert rule_shift(values, 0.0, 7).tolist() == [bool(e) for e in expected]


# --------------------------------------------------------------------------- whole chart

# 29 points.  sum = 105 + 85.5 + 42 + 45 + 20 + 10 = 307.5 -> mean = 10.603448
# moving ranges: 9x1, 1, 6x0.5, 2, 4, 4, 4, 4, 3, 4x1, 9, 10 -> sum 57 over 28 = 2.035714
# limits 10.603448 -/+ 2.66 * 2.035714 = 5.188448 / 16.018448
# sigma = 2.035714 / 1.128 = 1.804711 -> 2 sigma limits 6.994026 / 14.212871
SERIES = [10, 11] * 5 + [12, 12.5, 12, 12.5, 12, 12.5, 12] + [10, 6, 10, 6, 10] + [7, 8, 9, 10, 11, 20, 10]
# Expected, point by point:
#  0-8   common cause (alternating about the mean; 11s are isolated above it)
#  9-16  shift: 11, 12, 12.5 ... 12 are 8 points above 10.603
#  17-25 shift: 10, 6, 10, 6, 10, 7, 8, 9, 10 are 9 points below the mean
#  18,20 also two of three: 6 < 6.994 twice within three points (first rule: two_of_three)
#  22-27 trend: 7, 8, 9, 10, 11, 20 rise for 6 points (22-25 also shift; trend wins)
#  27    also outside: 20 > 16.018 (outside_limits wins)
#  28    common cause
EXPECTED_RULE = (
    [""] * 9 + ["shift"] * 8 + ["shift", "two_of_three", "shift", "two_of_three", "shift"]
    + ["trend"] * 5 + ["outside_limits", ""]
)
EXPECTED_FIRED = (
    [""] * 9 + ["shift"] * 8
    + ["shift", "two_of_three;shift", "shift", "two_of_three;shift", "shift"]
    + ["trend;shift"] * 4 + ["trend", "outside_limits;trend", ""]
)
# Direction: above the mean / rising is "up".
EXPECTED_UP = [None] * 9 + [True] * 8 + [False] * 5 + [True] * 6 + [None]


def test_run_chart_hand_worked_series_increase_is_better():
    frame = run_chart_analysis(SERIES, improvement="increase")
    assert frame["mean"].iloc[0] == pytest.approx(307.5 / 29)
    assert frame["upper"].iloc[0] == pytest.approx(307.5 / 29 + 2.66 * 57 / 28)
    assert frame["lower"].iloc[0] == pytest.approx(307.5 / 29 - 2.66 * 57 / 28)
    assert frame["rule"].tolist() == EXPECTED_RULE
    assert frame["rules_fired"].tolist() == EXPECTED_FIRED
    assert frame["special_cause"].tolist() == [r != "" for r in EXPECTED_RULE]
    expected_variation = [
        "common_cause" if up is None else ("improvement" if up else "concern") for up in EXPECTED_UP
    ]
    assert frame["variation"].tolist() == expected_variation
    assert set(frame["limits_status"]) == {"baseline"}
    assert frame["value"].tolist() == SERIES


def test_run_chart_decrease_is_better_and_neutral():
    down = run_chart_analysis(SERIES, improvement="decrease")["variation"].tolist()
    assert down == [
        "common_cause" if up is None else ("concern" if up else "improvement") for up in EXPECTED_UP
    ]
    neutral = run_chart_analysis(SERIES, improvement="neutral")["variation"].tolist()
    assert neutral == ["common_cause" if up is None else "neither" for up in EXPECTED_UP]


def test_run_chart_missing_points_are_skipped_not_breaks():
    with_gap = SERIES[:13] + [np.nan] + SERIES[13:]
    frame = run_chart_analysis(with_gap)
    kept = frame.drop(index=13).reset_index(drop=True)
    assert kept["rule"].tolist() == EXPECTED_RULE
    gap = frame.iloc[13]
    assert not gap["special_cause"] and gap["rule"] == "" and gap["variation"] == "not_available"


def test_run_chart_trial_limits_and_custom_lengths():
    frame = run_chart_analysis([1, 2, 3, 4, 5, 6, 7, np.nan], trend_length=7, shift_length=9)
    assert set(frame["limits_status"]) == {"trial"}  # 7 non-missing values < 15
    # mean 4, mean moving range 1: limits 4 -/+ 2.66 = 1.34 / 6.66, so 1 and 7 are outside.
    assert frame["rule"].tolist() == ["outside_limits"] + ["trend"] * 5 + ["outside_limits", ""]
    assert all("trend" in fired for fired in frame["rules_fired"].tolist()[:7])
    longer = run_chart_analysis([1, 2, 3, 4, 5, 6, 7], trend_length=8)
    assert not any("trend" in fired for fired in longer["rules_fired"])
    assert set(run_chart_analysis(SERIES, min_points=30)["limits_status"]) == {"trial"}
    assert set(run_chart_analysis(SERIES, min_points=29)["limits_status"]) == {"baseline"}


def test_run_chart_empty_and_single_point():
    empty = run_chart_analysis([])
    assert empty.empty
    assert list(empty.columns) == [
        "value", "mean", "lower", "upper", "special_cause", "rule", "rules_fired",
        "variation", "limits_status",
    ]
    single = run_chart_analysis([5.0])
    assert single["variation"].tolist() == ["common_cause"]
    assert single["limits_status"].tolist() == ["trial"]


def test_run_chart_rejects_unknown_direction():
    with pytest.raises(ValueError, match="increase.*decrease.*neutral"):
        run_chart_analysis([1, 2, 3], improvement="up")


# --------------------------------------------------------------------------- p-charts


def test_p_chart_limits_hand_worked_from_each_points_own_denominator():
    # 10/100, 20/100, 30/200: p-bar = 60 / 400 = 0.15.
    # n = 100: sigma = sqrt(0.15 * 0.85 / 100) = 0.0357071, 3 sigma = 0.107121 -> 0.042879 / 0.257121
    # n = 200: sigma = sqrt(0.15 * 0.85 / 200) = 0.0252488, 3 sigma = 0.0757463 -> 0.0742537 / 0.2257463
    limits = p_chart_limits([10, 20, 30], [100, 100, 200])
    assert limits["centre"] == pytest.approx([0.15] * 3)
    assert limits["lower"] == pytest.approx([0.042879, 0.042879, 0.0742537], abs=1e-6)
    assert limits["upper"] == pytest.approx([0.257121, 0.257121, 0.2257463], abs=1e-6)
    assert limits["upper_2sigma"][2] == pytest.approx(0.15 + 2 * 0.0252488, abs=1e-6)


def test_laney_sigma_z_and_p_prime_limits_hand_worked():
    # Same points: z = (0.10 - 0.15) / 0.0357071 = -1.400280, (0.20 - 0.15) / 0.0357071 = 1.400280,
    # (0.15 - 0.15) / 0.0252488 = 0; moving ranges 2.800560, 1.400280, mean 2.100420;
    # sigma_z = 2.100420 / 1.128 = 1.862075.
    # p' limits at n = 100: 0.15 -/+ 3 * 0.0357071 * 1.862075 = 0.15 -/+ 0.199468 -> 0 (clipped) / 0.349468
    sigma_z = laney_sigma_z([10, 20, 30], [100, 100, 200])
    assert sigma_z == pytest.approx(1.862075, abs=1e-6)
    limits = p_chart_limits([10, 20, 30], [100, 100, 200], sigma_z)
    assert limits["lower"][0] == 0.0
    assert limits["upper"][0] == pytest.approx(0.349468, abs=1e-6)
    chart = p_chart_columns([10, 20, 30], [100, 100, 200], chart="auto")
    assert chart["chart"].tolist() == ["p_prime"] * 3
    assert p_chart_columns([10, 20, 30], [100, 100, 200], chart="p")["chart"].tolist() == ["p"] * 3


def test_p_chart_limits_never_leave_0_to_100_percent():
    rng = np.random.default_rng(9)
    for centre in (0.01, 0.5, 0.99):
        den = rng.integers(1, 60, size=30).astype(float)
        num = rng.binomial(den.astype(int), centre).astype(float)
        for chart in ("p", "p_prime"):
            out = p_chart_columns(num, den, chart=chart)
            assert np.nanmin(out["lower"]) >= 0.0 and np.nanmax(out["upper"]) <= 1.0


def test_limits_are_recalculated_after_a_sustained_shift():
    num = np.r_[np.full(8, 60.0), np.full(8, 120.0)]
    den = np.full(16, 200.0)
    out = p_chart_columns(num, den, "increase", chart="p", min_points_before_shift=6)
    assert out["limits_segment"].tolist() == [1] * 8 + [2] * 8
    assert out["centre"].tolist() == pytest.approx([0.3] * 8 + [0.6] * 8)
    assert out["limits_status"].tolist() == ["trial"] * 8 + ["recalculated"] * 8
    assert not out["special_cause"].any()
    # Without recalculation the first half is below and the second above one set of limits
    # (centre 0.45, 3 sigma = 3 sqrt(0.45 * 0.55 / 200) = 0.105534).
    one = p_chart_columns(num, den, "increase", chart="p", recalculate_after_shift=False)
    assert one["lower"][0] == pytest.approx(0.45 - 0.105534, abs=1e-6)
    assert one["rule"].tolist() == ["outside_limits"] * 16
    assert one["variation"].tolist() == ["concern"] * 8 + ["improvement"] * 8
    # A shift too early to leave enough points before it does not split the chart.
    early = p_chart_columns(np.r_[np.full(3, 60.0), np.full(10, 120.0)], np.full(13, 200.0), chart="p")
    assert set(early["limits_segment"]) == {1}


def test_only_the_rules_asked_for_are_applied_and_the_first_is_named():
    # Seven points rising slowly within wide limits: a trend (6) but nothing outside the limits.
    num = np.array([40, 41, 42, 43, 44, 45, 46], dtype=float)
    den = np.full(7, 100.0)
    all_rules = p_chart_columns(num, den, "decrease", chart="p", recalculate_after_shift=False)
    assert all_rules["rule"].tolist() == ["trend"] * 7
    assert all_rules["variation"].tolist() == ["concern"] * 7
    assert "trend" in all_rules["rules_fired"][0]
    only_limits = p_chart_columns(num, den, "decrease", chart="p", rules=("outside_limits",))
    assert not only_limits["special_cause"].any()
    assert only_limits["variation"].tolist() == ["common_cause"] * 7
    neutral = p_chart_columns(num, den, "neutral", chart="p", recalculate_after_shift=False)
    assert neutral["variation"].tolist() == ["neither"] * 7
    with pytest.raises(ValueError, match="unknown rule"):
        p_chart_columns(num, den, rules=("astrology",))


def test_missing_points_are_skipped_and_trial_limits_labelled():
    out = p_chart_columns([5, np.nan, 7, 8], [50, 0, 50, 50], chart="p", baseline_points=15)
    assert np.isnan(out["value"][1]) and np.isnan(out["lower"][1])
    assert out["variation"][1] == "not_available" and out["limits_status"][1] == ""
    assert out["limits_status"][[0, 2, 3]].tolist() == ["trial"] * 3
    assert out["centre"][0] == pytest.approx(20 / 150)
    full = p_chart_columns(np.full(15, 5.0), np.full(15, 50.0), chart="p", baseline_points=15)
    assert set(full["limits_status"]) == {"baseline"}
