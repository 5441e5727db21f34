"""Newcombe's hybrid score interval for p1 - p2 against statsmodels and Newcombe's published table."""

import numpy as np
import pytest
from statsmodels.stats.proportion import confint_proportions_2indep

from naome_report.stats.difference import newcombe_difference


def test_matches_statsmodels_newcomb_over_a_grid():
    rng = np.random.default_rng(7)
    n1 = rng.integers(1, 400, 300)
    n2 = rng.integers(1, 400, 300)
    x1 = rng.integers(0, n1 + 1)
    x2 = rng.integers(0, n2 + 1)
    diff, lower, upper = newcombe_difference(x1, n1, x2, n2)
    for i in range(300):
        lo, hi = confint_proportions_2indep(x1[i], n1[i], x2[i], n2[i], method="newcomb", compare="diff")
        assert lower[i] == pytest.approx(lo, abs=1e-10)
        assert upper[i] == pytest.approx(hi, abs=1e-10)
    np.testing.assert_allclose(diff, x1 / n1 - x2 / n2)


def test_published_values_newcombe_1998_method_10():
    # Newcombe RG, Stat Med 1998;17:873-90, Table II, method 10 (score, no continuity correction).
    cases = {(56, 70, 48, 80): (0.0524, 0.3339), (9, 10, 3, 10): (0.1705, 0.8090),
             (5, 56, 0, 29): (-0.0381, 0.1926), (0, 10, 0, 20): (-0.1611, 0.2775),
             (0, 10, 0, 10): (-0.2775, 0.2775), (10, 10, 0, 20): (0.6791, 1.0000),
             (10, 10, 0, 10): (0.6075, 1.0000)}
    x1, n1, x2, n2 = (np.array(v) for v in zip(*cases))
    _, lower, upper = newcombe_difference(x1, n1, x2, n2)
    np.testing.assert_allclose(lower, [v[0] for v in cases.values()], atol=5e-5)
    np.testing.assert_allclose(upper, [v[1] for v in cases.values()], atol=5e-5)


def test_missing_or_empty_denominators_give_nan():
    diff, lower, upper = newcombe_difference([0, 3, np.nan], [0, 10, 10], [2, 4, 1], [5, np.nan, 10])
    assert np.isnan(diff).all() and np.isnan(lower).all() and np.isnan(upper).all()
