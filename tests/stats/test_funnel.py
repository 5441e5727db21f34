import math

import numpy as np
import pandas as pd
import pytest
from scipy.stats import binom, norm
from statsmodels.stats.meta_analysis import combine_effects
from statsmodels.stats.proportion import proportion_confint, proportions_ztest

from scipy import integrate
from scipy.stats import chi2

from naome_report.stats.funnel import (
    LIMIT_COLUMNS,
    OverdispersionEstimate,
    binomial_funnel_limits,
    choose_overdispersion_model,
    describe_limits,
    dispersion_p_value,
    dispersion_ratio,
    estimate_overdispersion,
    funnel_limits,
    winsorised_normal_mean_square,
    wilson_funnel_limits,
    z_scores,
)

Z95 = 1.959964  # standard normal tables, 97.5th percentile
Z998 = 3.090232  # 99.9th percentile


# --------------------------------------------------------------------------- exact binomial


def test_binomial_hand_worked_n10_target_half():
    # Bin(10, 0.5): F(0) = 1/1024, F(1) = 11/1024, F(2) = 56/1024.
    # lower 95%: r = 2 (first F >= 0.025); alpha = (56/1024 - 0.025) / (45/1024)
    #            = (56 - 25.6) / 45 = 0.675556;  limit = (2 - 0.675556) / 10 = 0.132444
    # lower 99.8%: r = 1; alpha = (11/1024 - 0.001) / (10/1024) = (11 - 1.024) / 10 = 0.9976
    #            limit = (1 - 0.9976) / 10 = 0.00024
    # Upper limits: same formula on the complementary count 10 - r ~ Bin(10, 0.5), mirrored:
    #            1 - 0.132444 = 0.867556 and 1 - 0.00024 = 0.99976.
    row = binomial_funnel_limits(0.5, 10).iloc[0]
    assert row["lower_95"] == pytest.approx(0.132444, abs=1e-6)
    assert row["upper_95"] == pytest.approx(0.867556, abs=1e-6)
    assert row["lower_998"] == pytest.approx(0.00024, abs=1e-9)
    assert row["upper_998"] == pytest.approx(0.99976, abs=1e-9)


def test_binomial_hand_worked_high_target_small_n():
    # Bin(10, 0.95): P(10) = 0.95^10 = 0.598737, P(9) = 10 * 0.95^9 * 0.05 = 0.315125,
    # P(8) = 45 * 0.95^8 * 0.05^2 = 0.074635.
    p10 = 0.95**10
    p9 = 10 * 0.95**9 * 0.05
    p8 = 45 * 0.95**8 * 0.05**2
    f7 = 1 - p8 - p9 - p10  # 0.011504 < 0.025
    f8 = f7 + p8  # 0.086138 >= 0.025, so r = 8
    alpha = (f8 - 0.025) / p8  # 0.819161
    expected_lower = (8 - alpha) / 10  # 0.718084
    # Upper: complement S = 10 - R ~ Bin(10, 0.05); P(S = 0) = 0.598737 >= 0.025 so r = 0,
    # alpha = (0.598737 - 0.025) / 0.598737 = 0.958245, limit -0.0958 -> upper 1.0958 -> 1.
    row = binomial_funnel_limits(0.95, 10).iloc[0]
    assert row["lower_95"] == pytest.approx(expected_lower, abs=1e-9)
    assert row["lower_95"] == pytest.approx(0.718084, abs=1e-6)
    assert row["upper_95"] == 1.0
    # The modal result 10/10 must not be flagged as high.
    assert not (1.0 > row["upper_95"])


def _interpolated_cdf_limits(target, n):
    """Independent formulation: invert the piecewise-linear binomial CDF / survival function."""
    r = np.arange(-1, n + 1)
    cdf = binom.cdf(r, n, target)  # F(-1) = 0
    out = {}
    for name, tail in (("95", 0.025), ("998", 0.001)):
        lower = np.interp(tail, cdf, r) / n
        # Upper tail: G(x) = P(R >= x) at x = 0..n+1, decreasing; linear between integers.
        x = np.arange(0, n + 2)
        surv = binom.sf(x - 1, n, target)
        upper = np.interp(tail, surv[::-1], x[::-1]) / n
        out[f"lower_{name}"] = min(max(lower, 0.0), 1.0)
        out[f"upper_{name}"] = min(max(upper, 0.0), 1.0)
    return out


@pytest.mark.parametrize("target", [0.07, 0.3, 0.5, 0.66, 0.9])
@pytest.mark.parametrize("n", [1, 2, 7, 25, 120, 480])
def test_binomial_matches_piecewise_linear_inversion(target, n):
    row = binomial_funnel_limits(target, n).iloc[0]
    expected = _interpolated_cdf_limits(target, n)
    for column, value in expected.items():
        assert row[column] == pytest.approx(value, abs=1e-9), column


def _exact_tail_probabilities(target, n, frame):
    r = np.arange(n + 1)
    pmf = binom.pmf(r, n, target)
    y = r / n
    row = frame.iloc[0]
    return {
        "below_95": pmf[y < row["lower_95"]].sum(),
        "above_95": pmf[y > row["upper_95"]].sum(),
        "below_998": pmf[y < row["lower_998"]].sum(),
        "above_998": pmf[y > row["upper_998"]].sum(),
    }


@pytest.mark.parametrize("target", [0.1, 0.3, 0.5, 0.8, 0.95])
@pytest.mark.parametrize("n", [10, 30, 100, 500, 2000])
def test_binomial_each_tail_at_most_nominal_and_close_for_large_n(target, n):
    tails = _exact_tail_probabilities(target, n, binomial_funnel_limits(target, n))
    assert tails["below_95"] <= 0.025 and tails["above_95"] <= 0.025
    assert tails["below_998"] <= 0.001 and tails["above_998"] <= 0.001
    if n * min(target, 1 - target) >= 50:
        coverage_95 = 1 - tails["below_95"] - tails["above_95"]
        coverage_998 = 1 - tails["below_998"] - tails["above_998"]
        assert 0.95 <= coverage_95 <= 0.965
        assert 0.998 <= coverage_998 <= 0.9992


@pytest.mark.parametrize("n", [40, 150, 600])
def test_binomial_simulation_about_95_and_99_8_percent_within(n):
    rng = np.random.default_rng(20240101 + n)
    target = 0.62
    y = rng.binomial(n, target, size=200_000) / n
    row = binomial_funnel_limits(target, n).iloc[0]
    within_95 = np.mean((y >= row["lower_95"]) & (y <= row["upper_95"]))
    within_998 = np.mean((y >= row["lower_998"]) & (y <= row["upper_998"]))
    assert 0.945 <= within_95 <= 0.975
    assert 0.997 <= within_998 <= 0.9995


def test_binomial_edge_cases():
    frame = binomial_funnel_limits(0.4, [0, 1, np.nan])
    assert list(frame.columns) == list(LIMIT_COLUMNS)
    assert frame.loc[[0, 2], list(LIMIT_COLUMNS[2:])].isna().all().all()
    # n = 1: every outcome (0 or 1) is within the limits.
    one = frame.iloc[1]
    assert one["lower_95"] <= 0.0 and one["upper_95"] >= 1.0
    empty = binomial_funnel_limits(0.4, [])
    assert empty.empty and list(empty.columns) == list(LIMIT_COLUMNS)


def test_binomial_degenerate_targets_and_clipping():
    for target in (0.0, 1.0, 0.001, 0.999):
        frame = binomial_funnel_limits(target, [1, 5, 50, 5000])
        limits = frame[list(LIMIT_COLUMNS[2:])].to_numpy()
        assert np.all((limits >= 0) & (limits <= 1))
        assert np.all(frame["lower_998"] <= frame["lower_95"])
        assert np.all(frame["upper_95"] <= frame["upper_998"])
        assert np.all(frame["lower_95"] <= target) and np.all(target <= frame["upper_95"])


def test_binomial_rejects_bad_input():
    with pytest.raises(ValueError):
        binomial_funnel_limits(1.2, 10)
    with pytest.raises(ValueError):
        binomial_funnel_limits(0.5, 10.5)
    with pytest.raises(ValueError):
        binomial_funnel_limits(0.5, -3)


# --------------------------------------------------------------------------- Fingertips


def test_wilson_funnel_matches_published_fingertips_table():
    # PHEindicatormethods (UKHSA), tests/testthat/testdata_funnel_prop_outputs.csv: limits in
    # percent for a baseline of 80.642448%; columns Lower2s0025limit, Upper2s0025limit,
    # Lower3s0001limit, Upper3s0001limit.
    published = pd.DataFrame(
        [
            (1, 3.204264, 100, 0, 100),
            (18, 62.390093, 98.894803, 51.864359, 100),
            (41, 68.548635, 92.73626, 61.574398, 99.710497),
            (102, 72.974925, 88.309971, 68.553233, 92.731663),
            (1008, 78.203374, 83.081521, 76.796814, 84.488082),
            (110000, 80.408963, 80.875933, 80.274317, 81.010578),
        ],
        columns=["n", "lower_95", "upper_95", "lower_998", "upper_998"],
    )
    frame = wilson_funnel_limits(0.80642448, published["n"].to_numpy())
    for column in ["lower_95", "upper_95", "lower_998", "upper_998"]:
        np.testing.assert_allclose(frame[column] * 100, published[column], atol=2e-6)


@pytest.mark.parametrize("n", [20, 75, 300])
@pytest.mark.parametrize("target", [0.3, 0.85])
def test_wilson_funnel_limit_is_where_the_wilson_interval_reaches_the_target(n, target):
    # Fingertips inverts the Wilson interval: the Wilson interval of an observation on the
    # upper (lower) limit has its lower (upper) bound exactly at the target.
    row = wilson_funnel_limits(target, n).iloc[0]
    for suffix, alpha in (("95", 0.05), ("998", 0.002)):
        upper, lower = row[f"upper_{suffix}"], row[f"lower_{suffix}"]
        if upper < 1:
            wilson_low, _ = proportion_confint(upper * n, n, alpha=alpha, method="wilson")
            assert wilson_low == pytest.approx(target, abs=1e-10)
        if lower > 0:
            _, wilson_high = proportion_confint(lower * n, n, alpha=alpha, method="wilson")
            assert wilson_high == pytest.approx(target, abs=1e-10)


def test_wilson_funnel_hand_worked():
    # t = 0.5, n = 100: s = sqrt(0.25 / 100) = 0.05
    # 95%: 0.5 -/+ 1.959964 * 0.05 = 0.402002 / 0.597998
    # 99.8%: 0.5 -/+ 3.090232 * 0.05 = 0.345488 / 0.654512
    row = wilson_funnel_limits(0.5, 100).iloc[0]
    assert row["lower_95"] == pytest.approx(0.402002, abs=1e-6)
    assert row["upper_95"] == pytest.approx(0.597998, abs=1e-6)
    assert row["lower_998"] == pytest.approx(0.345488, abs=1e-6)
    assert row["upper_998"] == pytest.approx(0.654512, abs=1e-6)


def test_wilson_funnel_edge_cases():
    frame = wilson_funnel_limits(0.2, [0, np.nan, 1])
    assert frame.loc[[0, 1], list(LIMIT_COLUMNS[2:])].isna().all().all()
    assert frame.loc[2, "lower_95"] == 0.0  # 0.2 - 1.96 * 0.4 < 0 is clipped
    assert wilson_funnel_limits(0.2, []).empty
    # Limits narrow monotonically as n grows.
    grid = wilson_funnel_limits(0.2, np.arange(1, 500))
    assert np.all(np.diff(grid["upper_95"]) <= 0) and np.all(np.diff(grid["lower_95"]) >= 0)


# --------------------------------------------------------------------------- z-scores


def test_z_scores_match_statsmodels_score_test():
    count = np.array([12, 55, 80, 3])
    nobs = np.array([20, 100, 150, 9])
    target = 0.45
    expected = [proportions_ztest(c, m, value=target, prop_var=target)[0] for c, m in zip(count, nobs)]
    np.testing.assert_allclose(z_scores(count / nobs, nobs, target), expected, rtol=1e-12)


def test_z_scores_hand_worked_and_missing():
    # (0.6 - 0.5) / sqrt(0.25 / 100) = 0.1 / 0.05 = 2
    z = z_scores([0.6, 0.5, np.nan, 0.3], [100, 100, 50, 0], 0.5)
    assert z[0] == pytest.approx(2.0)
    assert z[1] == 0.0
    assert np.isnan(z[2]) and np.isnan(z[3])
    assert z_scores([], [], 0.5).shape == (0,)


# --------------------------------------------------------------------------- overdispersion


def test_overdispersion_hand_worked():
    # k = 10 units, n = 100, target 0.5, so s = 0.05 and y = 0.5 + 0.05 z.
    z = np.array([-3, -2, -1, 0, 0, 1, 1, 2, 3, 5], dtype=float)
    # 10th percentile (linear): position 0.9 -> -3 + 0.9 * 1 = -2.1
    # 90th percentile: position 8.1 -> 3 + 0.1 * (5 - 3) = 3.2
    # winsorised z^2: 4.41 + 4 + 1 + 0 + 0 + 1 + 1 + 4 + 9 + 10.24 = 34.65; phi = 3.465
    # w = 1 / 0.0025 = 400 each: sum w = 4000, sum w^2 / sum w = 1.6e6 / 4000 = 400
    # tau2 = (10 * 3.465 - 9) / (4000 - 400) = 25.65 / 3600 = 0.007125
    estimate = estimate_overdispersion(0.5 + 0.05 * z, 100, 0.5)
    assert estimate.k == 10
    assert estimate.winsorised == 0.10
    assert estimate.phi == pytest.approx(3.465, abs=1e-12)
    assert estimate.tau2 == pytest.approx(0.007125, abs=1e-12)


def test_overdispersion_unwinsorised_matches_dersimonian_laird():
    # With no winsorisation and the target equal to the pooled proportion, Spiegelhalter's
    # tau2 is the DerSimonian-Laird estimate with variances target(1 - target)/n.
    rng = np.random.default_rng(7)
    n = rng.integers(15, 400, size=40)
    p = np.clip(rng.normal(0.6, 0.08, size=40), 0.01, 0.99)
    y = rng.binomial(n, p) / n
    target = float(np.sum(y * n) / np.sum(n))
    estimate = estimate_overdispersion(y, n, target, winsorise=0.0)

    dl = combine_effects(y, target * (1 - target) / n, method_re="dl")
    assert estimate.phi == pytest.approx(dl.q / len(n), rel=1e-10)
    assert dl.tau2 > 0
    assert estimate.tau2 == pytest.approx(dl.tau2, rel=1e-10)


def test_overdispersion_tau2_floored_at_zero():
    # Units all exactly on target: phi = 0, k phi - (k - 1) < 0, tau2 = 0.
    estimate = estimate_overdispersion([0.3, 0.3, 0.3], [10, 20, 30], 0.3)
    assert estimate.phi == 0.0 and estimate.tau2 == 0.0


def test_overdispersion_edge_cases():
    empty = estimate_overdispersion([], [], 0.5)
    assert empty.k == 0 and math.isnan(empty.phi) and math.isnan(empty.tau2)
    one = estimate_overdispersion([0.6], [100], 0.5)
    assert one.k == 1 and one.phi == pytest.approx(4.0) and math.isnan(one.tau2)
    dropped = estimate_overdispersion([0.6, np.nan, 0.4, 0.7], [100, 50, 100, 0], 0.5)
    assert dropped.k == 2
    with pytest.raises(ValueError):
        estimate_overdispersion([0.5], [10], 0.0)
    with pytest.raises(ValueError):
        estimate_overdispersion([0.5], [10], 0.5, winsorise=0.5)


def test_overdispersion_estimate_is_frozen():
    estimate = OverdispersionEstimate(phi=1.0, tau2=0.0, k=3, winsorised=0.1)
    with pytest.raises(AttributeError):
        estimate.phi = 2.0  # type: ignore[misc]


# --------------------------------------------------------------------------- dispatcher


def test_dispatcher_plain_methods_and_description():
    n = [5, 50, 500]
    binomial = funnel_limits(0.7, n)
    pd.testing.assert_frame_equal(binomial.drop(columns="method"), binomial_funnel_limits(0.7, n))
    assert set(binomial["method"]) == {"exact binomial limits (Spiegelhalter 2005); no overdispersion adjustment"}
    wilson = funnel_limits(0.7, n, method="wilson")
    pd.testing.assert_frame_equal(wilson.drop(columns="method"), wilson_funnel_limits(0.7, n))
    assert set(wilson["method"]) == {"Wilson score limits (Fingertips); no overdispersion adjustment"}


def test_dispatcher_unknown_names_list_the_allowed_values():
    with pytest.raises(ValueError, match="binomial.*wilson"):
        funnel_limits(0.5, 10, method="poisson")
    with pytest.raises(ValueError, match="none.*multiplicative.*additive"):
        funnel_limits(0.5, 10, overdispersion="random")
    with pytest.raises(ValueError, match="estimate"):
        funnel_limits(0.5, 10, overdispersion="additive")


def test_dispatcher_multiplicative_hand_worked():
    # t = 0.5, n = 100: s = 0.05; sqrt(1.83) = 1.352775
    # 95%: 0.5 -/+ 1.959964 * 1.352775 * 0.05 = 0.5 -/+ 0.132570 -> 0.367430 / 0.632570
    # 99.8%: 0.5 -/+ 3.090232 * 1.352775 * 0.05 = 0.5 -/+ 0.209019 -> 0.290981 / 0.709019
    estimate = OverdispersionEstimate(phi=1.83, tau2=0.001, k=30, winsorised=0.10)
    frame = funnel_limits(0.5, [100], overdispersion="multiplicative", estimate=estimate)
    row = frame.iloc[0]
    assert row["lower_95"] == pytest.approx(0.367430, abs=1e-6)
    assert row["upper_95"] == pytest.approx(0.632570, abs=1e-6)
    assert row["lower_998"] == pytest.approx(0.290981, abs=1e-6)
    assert row["upper_998"] == pytest.approx(0.709019, abs=1e-6)
    assert row["method"] == (
        "multiplicative overdispersion limits (Spiegelhalter 2005): limits widened by \u221a\u03c6 "
        "(\u03c6 = 1.83 from 30 units, 10% winsorised)"
    )


def test_dispatcher_multiplicative_not_applied_when_phi_at_most_one():
    estimate = OverdispersionEstimate(phi=0.87, tau2=0.0, k=30, winsorised=0.10)
    frame = funnel_limits(0.5, [10, 100], overdispersion="multiplicative", estimate=estimate)
    pd.testing.assert_frame_equal(frame.drop(columns="method"), binomial_funnel_limits(0.5, [10, 100]))
    assert frame["method"].iloc[0].startswith(
        "exact binomial limits (Spiegelhalter 2005); multiplicative overdispersion adjustment not needed")
    assert "\u03c6 = 0.87" in frame["method"].iloc[0]


def test_dispatcher_additive_hand_worked():
    # t = 0.5, n = 100: s^2 = 0.0025; tau2 = 0.0025; sd = sqrt(0.005) = 0.0707107
    # 95%: 0.5 -/+ 1.959964 * 0.0707107 = 0.5 -/+ 0.138590 -> 0.361410 / 0.638590
    estimate = OverdispersionEstimate(phi=3.0, tau2=0.0025, k=30, winsorised=0.10)
    frame = funnel_limits(0.5, [100, 0], method="wilson", overdispersion="additive", estimate=estimate)
    row = frame.iloc[0]
    assert row["lower_95"] == pytest.approx(0.361410, abs=1e-6)
    assert row["upper_95"] == pytest.approx(0.638590, abs=1e-6)
    assert row["upper_998"] == pytest.approx(0.5 + Z998 * math.sqrt(0.005), abs=1e-6)
    assert np.isnan(frame.iloc[1]["lower_95"])
    assert row["method"].startswith("additive random-effects limits (Spiegelhalter 2005): overdispersed")
    assert "\u03c4\u00b2 = 0.0025" in row["method"] and "10% winsorised" in row["method"]


def test_dispatcher_additive_not_applied_when_tau2_zero():
    estimate = OverdispersionEstimate(phi=0.9, tau2=0.0, k=30, winsorised=0.10)
    frame = funnel_limits(0.5, [100], method="wilson", overdispersion="additive", estimate=estimate)
    pd.testing.assert_frame_equal(frame.drop(columns="method"), wilson_funnel_limits(0.5, [100]))
    assert "additive overdispersion adjustment not needed" in frame["method"].iloc[0]


def test_additive_limits_hold_about_95_percent_of_overdispersed_units():
    # Simulate 3000 units whose true proportions vary around 0.7 (tau = 0.05): plain binomial
    # limits flag far too many, the additive random-effects limits about 5%.
    rng = np.random.default_rng(11)
    k = 3000
    n = rng.integers(50, 600, size=k)
    p = np.clip(rng.normal(0.7, 0.05, size=k), 0.0, 1.0)
    y = rng.binomial(n, p) / n
    # Without winsorisation: winsorising is meant to stop real outliers inflating phi, so on
    # purely normal between-unit variation it shrinks the estimate (checked below).
    estimate = estimate_overdispersion(y, n, 0.7, winsorise=0.0)
    assert estimate.phi > 1.5
    assert estimate_overdispersion(y, n, 0.7).tau2 < estimate.tau2

    def within(frame):
        return np.mean((y >= frame["lower_95"].to_numpy()) & (y <= frame["upper_95"].to_numpy()))

    plain = within(funnel_limits(0.7, n))
    additive = within(funnel_limits(0.7, n, overdispersion="additive", estimate=estimate))
    assert plain < 0.85
    assert 0.93 <= additive <= 0.97
    assert estimate.tau2 == pytest.approx(0.05**2, rel=0.1)


def test_normal_quantile_constants():
    assert norm.ppf(0.975) == pytest.approx(Z95, abs=1e-6)
    assert norm.ppf(0.999) == pytest.approx(Z998, abs=1e-6)


# --------------------------------------------------------------------------- overdispersion test, scale, correction


def test_dispersion_ratio_matches_funnelplotr_reference_value():
    # FunnelPlotR tests/testthat/test-classes_methods.R: numerators 100, 150, 180, 80, 120, 225 over
    # expected 108, 112, 165, 95, 100, 220 give phi 2.948033 (SHMI z-scores sqrt(E) log(O / E); with
    # six units the 10% trimming leaves every z-score as it is).
    observed = np.array([100, 150, 180, 80, 120, 225], dtype=float)
    expected = np.array([108, 112, 165, 95, 100, 220], dtype=float)
    z = np.sqrt(expected) * np.log(observed / expected)
    phi, k = dispersion_ratio(z, winsorise=0.0)
    assert k == 6
    assert round(phi, 6) == 2.948033


def test_dispersion_p_value_is_the_chi_squared_tail_on_k_minus_1_degrees_of_freedom():
    # k phi = 40 * 1.5 = 60 on 39 degrees of freedom; and the DerSimonian-Laird Q test on the
    # same units (target = pooled value, no winsorising) gives the same p-value.
    assert dispersion_p_value(1.5, 40) == pytest.approx(chi2.sf(60.0, 39), rel=1e-12)
    assert math.isnan(dispersion_p_value(2.0, 1))
    rng = np.random.default_rng(3)
    n = rng.integers(30, 300, size=25)
    y = rng.binomial(n, 0.4) / n
    target = float(np.sum(y * n) / np.sum(n))
    estimate = estimate_overdispersion(y, n, target, winsorise=0.0)
    dl = combine_effects(y, target * (1 - target) / n, method_re="dl")
    assert estimate.phi_p_value == pytest.approx(chi2.sf(dl.q, len(n) - 1), rel=1e-10)


def test_arcsine_scale_tau2_matches_dersimonian_laird_on_transformed_values():
    # On the arcsine square-root scale each unit is asin(sqrt(y)) with variance 1 / (4 n); with the
    # target at the inverse-variance weighted mean of those values, Spiegelhalter's tau2 is the
    # DerSimonian-Laird tau2 of statsmodels on the same transformed inputs.
    rng = np.random.default_rng(17)
    n = rng.integers(40, 500, size=60)
    p = np.clip(rng.normal(0.3, 0.06, size=60), 0.02, 0.98)
    y = rng.binomial(n, p) / n
    transformed = np.arcsin(np.sqrt(y))
    centre = np.sum(4 * n * transformed) / np.sum(4 * n)
    target = float(np.sin(centre) ** 2)
    estimate = estimate_overdispersion(y, n, target, winsorise=0.0, scale="arcsine")
    dl = combine_effects(transformed, 1 / (4 * n), method_re="dl")
    assert dl.tau2 > 0
    assert estimate.tau2 == pytest.approx(dl.tau2, rel=1e-9)
    assert estimate.phi == pytest.approx(dl.q / len(n), rel=1e-9)


def test_arcsine_additive_limits_follow_the_funnelplotr_formula():
    # FunnelPlotR calculate_limits, data_type "PR": sin(asin(sqrt(t)) -/+ z sqrt(1 / (4 n) + tau2))^2.
    # t = 0.25: asin(0.5) = pi / 6 = 0.523599; n = 100: s^2 = 0.0025; tau2 = 0.0015; sd = sqrt(0.004) = 0.063246
    # 95%: sin(0.523599 -/+ 1.959964 * 0.063246)^2 = sin(0.399640)^2 / sin(0.647558)^2 = 0.389087^2 / 0.603240^2
    #      = 0.151388 / 0.363899
    estimate = OverdispersionEstimate(phi=2.0, tau2=0.0015, k=50, winsorised=0.1, scale="arcsine")
    row = funnel_limits(0.25, [100], overdispersion="additive", estimate=estimate).iloc[0]
    sd = math.sqrt(0.0025 + 0.0015)
    assert row["lower_95"] == pytest.approx(math.sin(math.pi / 6 - Z95 * sd) ** 2, abs=1e-6)
    assert row["lower_95"] == pytest.approx(0.151388, abs=1e-6)
    assert row["upper_95"] == pytest.approx(0.363899, abs=1e-6)
    assert row["upper_998"] == pytest.approx(math.sin(math.pi / 6 + Z998 * sd) ** 2, abs=1e-6)
    assert "arcsine square-root scale" in row["method"]


def test_arcsine_limits_stay_within_0_and_100_percent():
    estimate = OverdispersionEstimate(phi=5.0, tau2=0.05, k=50, winsorised=0.1, scale="arcsine")
    frame = funnel_limits(0.03, [5, 50, 5000], overdispersion="additive", estimate=estimate)
    values = frame[list(LIMIT_COLUMNS[2:])].to_numpy()
    assert values.min() == 0.0 and values.max() < 1.0


def test_winsorised_normal_mean_square_agrees_with_numerical_integration():
    for w in (0.05, 0.10, 0.20):
        c = norm.isf(w)
        inside, _ = integrate.quad(lambda z: z * z * norm.pdf(z), -c, c)
        assert winsorised_normal_mean_square(w) == pytest.approx(inside + 2 * w * c * c, rel=1e-9)
    assert winsorised_normal_mean_square(0.10) == pytest.approx(0.6787, abs=1e-4)
    assert winsorised_normal_mean_square(0.0) == 1.0


def test_consistency_correction_makes_phi_about_one_for_chance_variation():
    # 400 funnels of 137 units varying by chance alone: the plain winsorised phi averages about
    # 0.68, so its test almost never fires; corrected, phi averages about 1 and the 5% test
    # fires about 5% of the time.
    rng = np.random.default_rng(5)
    plain, corrected, fired = [], [], []
    for _ in range(400):
        n = rng.integers(50, 600, size=137)
        y = rng.binomial(n, 0.6) / n
        t = float(np.sum(y * n) / np.sum(n))
        plain.append(estimate_overdispersion(y, n, t).phi)
        est = estimate_overdispersion(y, n, t, scale="arcsine", consistency_correction=True)
        corrected.append(est.phi)
        fired.append(est.is_overdispersed(0.05))
    assert np.mean(plain) == pytest.approx(0.68, abs=0.03)
    assert np.mean(corrected) == pytest.approx(1.0, abs=0.04)
    assert 0.01 <= np.mean(fired) <= 0.10


def test_a_designed_outlier_is_found_after_the_adjustment_and_chance_variation_is_not():
    # 137 units with real between-unit variation (logit SD 0.2) and one unit 1.5 logits low:
    # the additive limits still flag the designed unit at 99.8%, and flag about the nominal
    # 0.27 others per funnel (at most about one), where unadjusted limits flag several.
    rng = np.random.default_rng(11)
    found, others, plain_others = 0, [], []
    for _ in range(60):
        n = np.maximum(20, np.exp(rng.normal(0, 0.55, 137)) * 220).astype(int)
        effect = rng.normal(0, 0.2, 137)
        effect[0], n[0] = -1.5, 300
        p = 1 / (1 + np.exp(-(np.log(0.75 / 0.25) + effect)))
        y = rng.binomial(n, p) / n
        t = float(np.sum(y * n) / np.sum(n))
        est = estimate_overdispersion(y, n, t, scale="arcsine", consistency_correction=True)
        model = choose_overdispersion_model("auto", est, 0.05)
        limits = funnel_limits(t, n, overdispersion=model, estimate=est)
        beyond = (y < limits["lower_998"].to_numpy()) | (y > limits["upper_998"].to_numpy())
        plain = binomial_funnel_limits(t, n)
        plain_beyond = (y < plain["lower_998"].to_numpy()) | (y > plain["upper_998"].to_numpy())
        found += bool(beyond[0])
        others.append(beyond[1:].sum())
        plain_others.append(plain_beyond[1:].sum())
    assert found == 60
    assert np.mean(others) < 0.7 and np.mean(np.array(others) <= 1) >= 0.85
    assert np.mean(plain_others) > 5


def test_choose_overdispersion_model():
    over = OverdispersionEstimate(phi=2.0, tau2=0.01, k=100, winsorised=0.1, phi_p_value=0.001)
    chance = OverdispersionEstimate(phi=1.05, tau2=0.0, k=100, winsorised=0.1, phi_p_value=0.3)
    assert choose_overdispersion_model("auto", over, 0.05) == "additive"
    assert choose_overdispersion_model("auto", chance, 0.05) == "none"
    assert choose_overdispersion_model("auto", None, 0.05) == "none"
    assert choose_overdispersion_model("multiplicative", chance, 0.05) == "multiplicative"
    assert choose_overdispersion_model("none", over, 0.05) == "none"
    with pytest.raises(ValueError, match="unknown overdispersion choice 'random'"):
        choose_overdispersion_model("random", over, 0.05)


def test_describe_limits_states_the_test_and_the_choice():
    chance = OverdispersionEstimate(phi=1.049, tau2=0.0, k=137, winsorised=0.1, phi_p_value=0.3125,
                                    consistency_corrected=True)
    assert describe_limits("binomial", "none", chance, "auto", "organisations") == (
        "exact binomial limits (Spiegelhalter 2005); not overdispersed (\u03c6 = 1.05 from 137 organisations, "
        "10% winsorised and consistency-corrected; p = 0.313), so not adjusted")
    over = OverdispersionEstimate(phi=2.5, tau2=0.00123456, k=137, winsorised=0.1, phi_p_value=1e-9, scale="arcsine")
    assert describe_limits("binomial", "additive", over, "auto", "organisations") == (
        "additive random-effects limits on the arcsine square-root scale (Spiegelhalter 2005): overdispersed "
        "(\u03c6 = 2.50 from 137 organisations, 10% winsorised; p < 0.001), \u03c4\u00b2 = 0.00123")
    assert describe_limits("wilson", "none", None, "none") == (
        "Wilson score limits (Fingertips); no overdispersion adjustment")
