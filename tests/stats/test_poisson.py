"""O/E intervals against statsmodels' exact Poisson interval and hand-worked Byar limits."""

import math

import numpy as np
import pytest
from statsmodels.stats.rates import confint_poisson

from naome_report.stats.poisson import observed_expected_interval


@pytest.mark.parametrize("confidence", [0.95, 0.998])
def test_exact_matches_statsmodels_exact_c(confidence):
    observed = np.array([0, 1, 2, 5, 10, 37, 250, 1000])
    expected = np.array([3.2, 0.8, 4.0, 5.5, 12.1, 30.0, 260.5, 990.0])
    lower, upper = observed_expected_interval(observed, expected, confidence, method="exact")
    for o, e, lo, hi in zip(observed, expected, lower, upper):
        exp_lo, exp_hi = confint_poisson(o, e, method="exact-c", alpha=1 - confidence)
        assert lo == pytest.approx(exp_lo, rel=1e-9, abs=1e-12)
        assert hi == pytest.approx(exp_hi, rel=1e-9)


def test_exact_count_limits_from_standard_tables():
    # 95% exact limits for a Poisson count of 10: 4.7954 to 18.3904 (e.g. Geigy Scientific Tables).
    lower, upper = observed_expected_interval(10, 1.0)
    assert float(lower) == pytest.approx(4.7954, abs=1e-4)
    assert float(upper) == pytest.approx(18.3904, abs=1e-4)


def test_byar_hand_worked_for_10_observed_of_8_expected():
    z = 1.959963984540054
    # lower count: 10 (1 - 1/90 - z/(3 sqrt 10))^3 = 10 * (1 - 0.0111111 - 0.2065972)^3 = 4.787450
    # upper count: 11 (1 - 1/99 + z/(3 sqrt 11))^3 = 11 * (1 - 0.0101010 + 0.1969834)^3 = 18.391459
    assert 10 * (1 - 1 / 90 - z / (3 * math.sqrt(10))) ** 3 == pytest.approx(4.787450, abs=1e-6)
    lower, upper = observed_expected_interval(10, 8.0, method="byar")
    assert float(lower) == pytest.approx(4.787450 / 8, abs=1e-6)
    assert float(upper) == pytest.approx(18.391459 / 8, abs=1e-6)


def test_zero_observed_has_lower_limit_zero_and_bad_expected_gives_nan():
    lower, upper = observed_expected_interval([0, 4, 4, np.nan], [2.0, 0.0, np.nan, 3.0])
    assert lower[0] == 0.0 and upper[0] == pytest.approx(-math.log(0.025) / 2.0)
    assert np.isnan(lower[1:]).all() and np.isnan(upper[1:]).all()


def test_unknown_method_is_refused():
    with pytest.raises(ValueError, match="unknown O/E interval method 'wald'"):
        observed_expected_interval(3, 2.0, method="wald")
