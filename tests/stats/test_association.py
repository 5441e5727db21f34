"""Chi-squared and chi-squared for trend against scipy, statsmodels and Agresti's worked example."""

import numpy as np
import pytest
import statsmodels.api as sm
from scipy.stats import chi2_contingency

from naome_report.stats.association import chi_squared_independence, chi_squared_trend

# Agresti, Categorical Data Analysis (2nd ed., 2002), section 3.4.6: infant malformation by the
# mother's alcohol consumption (0, <1, 1-2, 3-5, >=6 drinks a day), scores 0, 0.5, 1.5, 4, 7.
# Published: Pearson X2 = 12.1 (df 4), M2 = 6.57 (P = 0.01) for the linear trend.
MALFORMED = [48, 38, 5, 1, 1]
NOT_MALFORMED = [17066, 14464, 788, 126, 37]
TOTAL = list(np.add(MALFORMED, NOT_MALFORMED))


def test_agresti_malformation_example():
    statistic, df, p = chi_squared_independence([MALFORMED], [TOTAL])
    assert statistic[0] == pytest.approx(12.1, abs=0.05) and df[0] == 4
    trend, p_trend = chi_squared_trend([MALFORMED], [TOTAL], scores=[0, 0.5, 1.5, 4, 7])
    # Cochran-Armitage is N/(N-1) times Agresti's M2 = 6.57; N = 32,574 changes the fourth figure only.
    assert trend[0] == pytest.approx(6.57, abs=0.005)
    assert p_trend[0] == pytest.approx(0.0104, abs=0.0005)


def test_independence_matches_scipy_without_correction():
    rng = np.random.default_rng(11)
    totals = rng.integers(20, 3000, size=(40, 5)).astype(float)
    events = rng.binomial(totals.astype(int), rng.uniform(0.05, 0.9, size=(40, 5))).astype(float)
    totals[3, 2] = 0  # an empty category takes no part
    events[3, 2] = 0
    statistic, df, p = chi_squared_independence(events, totals)
    for i in range(40):
        keep = totals[i] > 0
        table = np.vstack([events[i, keep], totals[i, keep] - events[i, keep]])
        exp_stat, exp_p, exp_df, _ = chi2_contingency(table, correction=False)
        assert statistic[i] == pytest.approx(exp_stat, rel=1e-9)
        assert p[i] == pytest.approx(exp_p, rel=1e-7, abs=1e-300)
        assert df[i] == exp_df


def test_trend_matches_statsmodels_linear_by_linear_rescaled():
    rng = np.random.default_rng(5)
    totals = rng.integers(30, 2000, size=(25, 5)).astype(float)
    risk = np.linspace(0.2, 0.35, 5) + rng.normal(0, 0.03, size=(25, 5))
    events = rng.binomial(totals.astype(int), np.clip(risk, 0.01, 0.99)).astype(float)
    statistic, p = chi_squared_trend(events, totals)
    for i in range(25):
        table = sm.stats.Table(np.vstack([events[i], totals[i] - events[i]]).T)
        result = table.test_ordinal_association(row_scores=np.arange(1, 6), col_scores=np.array([1, 0]))
        n = totals[i].sum()
        assert statistic[i] == pytest.approx(result.zscore**2 * n / (n - 1), rel=1e-9)


def test_untestable_tables_give_nan():
    # One category with patients; nobody with the event; everybody with the event.
    statistic, df, p = chi_squared_independence([[3, 0], [0, 0], [5, 7]], [[10, 0], [10, 12], [5, 7]])
    assert np.isnan(statistic).all() and np.isnan(p).all()
    trend, p_trend = chi_squared_trend([[3, 0, 0], [0, 0, 0]], [[10, 0, 0], [10, 12, 9]])
    assert np.isnan(trend).all() and np.isnan(p_trend).all()


def test_impossible_counts_are_refused():
    with pytest.raises(ValueError, match="0 <= events <= totals"):
        chi_squared_independence([[11, 2]], [[10, 5]])
