import math

import numpy as np
import pytest
from statsmodels.stats.proportion import proportion_confint

from naome_report.stats.wilson import wilson_interval, z_for_confidence


@pytest.mark.parametrize("confidence", [0.95, 0.90, 0.998])
def test_matches_statsmodels_wilson_over_a_grid(confidence):
    # Every (x, n) with n <= 40 plus some large n, including x = 0, x = n and n = 1.
    pairs = [(x, n) for n in range(1, 41) for x in range(n + 1)]
    pairs += [(0, 5000), (1, 5000), (2500, 5000), (4999, 5000), (5000, 5000)]
    x = np.array([p[0] for p in pairs], dtype=float)
    n = np.array([p[1] for p in pairs], dtype=float)

    lower, upper = wilson_interval(x, n, confidence)

    exp_lower, exp_upper = proportion_confint(x, n, alpha=1 - confidence, method="wilson")
    np.testing.assert_allclose(lower, exp_lower, rtol=0, atol=1e-12)
    np.testing.assert_allclose(upper, exp_upper, rtol=0, atol=1e-12)


def test_hand_worked_10_of_20():
    # z = 1.959964, z^2 = 3.841459
    # 2x + z^2 = 20 + 3.841459 = 23.841459
    # sqrt(z^2 + 4x(1 - x/n)) = sqrt(3.841459 + 40 * 0.5) = sqrt(23.841459) = 4.882772
    # z * 4.882772 = 9.570057;  2(n + z^2) = 2 * 23.841459 = 47.682918
    # lower = (23.841459 - 9.570057) / 47.682918 = 0.299298
    # upper = (23.841459 + 9.570057) / 47.682918 = 0.700702
    lower, upper = wilson_interval(10, 20)
    assert float(lower) == pytest.approx(0.299298, abs=1e-6)
    assert float(upper) == pytest.approx(0.700702, abs=1e-6)


def test_published_values_newcombe_1998():
    # Newcombe RG, Stat Med 1998;17:857-72, Table II, method 3 (Wilson score, no continuity
    # correction), given to 4 decimal places.
    cases = {
        (81, 263): (0.2553, 0.3662),
        (15, 148): (0.0624, 0.1605),
        (0, 20): (0.0000, 0.1611),
        (1, 29): (0.0061, 0.1718),
    }
    x = np.array([k[0] for k in cases])
    n = np.array([k[1] for k in cases])
    lower, upper = wilson_interval(x, n)
    np.testing.assert_allclose(lower, [v[0] for v in cases.values()], atol=5e-5)
    np.testing.assert_allclose(upper, [v[1] for v in cases.values()], atol=5e-5)


def test_zero_and_all_events_hit_the_bounds_exactly():
    lower, upper = wilson_interval([0, 7], [7, 7])
    assert lower[0] == 0.0
    assert upper[1] == 1.0
    # upper for 0/n is z^2 / (n + z^2): 3.841459 / 10.841459 = 0.354329
    assert upper[0] == pytest.approx(3.841459 / (7 + 3.841459), abs=1e-6)


def test_n_equal_one():
    # x = 1, n = 1: lower = n / (n + z^2) = 1 / 4.841459 = 0.206549
    lower, upper = wilson_interval(1, 1)
    assert float(lower) == pytest.approx(1 / (1 + 3.841459), abs=1e-6)
    assert float(upper) == 1.0


def test_zero_or_missing_denominator_gives_nan():
    lower, upper = wilson_interval([0, np.nan, 3, np.nan], [0, 10, np.nan, np.nan])
    assert np.isnan(lower).all() and np.isnan(upper).all()


def test_empty_input_gives_empty_output():
    lower, upper = wilson_interval([], [])
    assert lower.shape == (0,) and upper.shape == (0,)


def test_broadcasts_scalar_denominator():
    lower, upper = wilson_interval([0, 5, 10], 10)
    assert lower.shape == (3,)
    assert np.all(np.diff(lower) > 0)


def test_interval_contains_observed_proportion():
    x = np.arange(0, 51)
    lower, upper = wilson_interval(x, 50)
    assert np.all(lower <= x / 50) and np.all(x / 50 <= upper)


def test_rejects_impossible_counts_and_confidence():
    with pytest.raises(ValueError):
        wilson_interval(11, 10)
    with pytest.raises(ValueError):
        wilson_interval(-1, 10)
    with pytest.raises(ValueError):
        wilson_interval(1, 10, confidence=1.0)


def test_z_matches_tabulated_normal_quantiles():
    # Standard normal tables: 1.959964 (97.5%), 3.090232 (99.9%).
    assert z_for_confidence(0.95) == pytest.approx(1.959964, abs=1e-6)
    assert z_for_confidence(0.998) == pytest.approx(3.090232, abs=1e-6)
    assert math.isclose(z_for_confidence(0.95) ** 2, 3.841459, abs_tol=1e-6)
