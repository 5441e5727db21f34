"""The two-group log-rank test against lifelines."""

import numpy as np
import pytest
from lifelines.statistics import logrank_test

from naome_report.stats.logrank import logrank_two_groups

# aml (Miller 1981): maintained vs nonmaintained chemotherapy; R survdiff gives Chisq = 3.4, p = 0.07.
AML_TIME = [9, 13, 13, 18, 23, 28, 31, 34, 45, 48, 161, 5, 5, 8, 8, 12, 16, 23, 27, 30, 33, 43, 45]
AML_EVENT = [1, 1, 0, 1, 1, 0, 1, 1, 0, 1, 0, 1, 1, 1, 1, 1, 0, 1, 1, 1, 1, 1, 1]
AML_NONMAINTAINED = [False] * 11 + [True] * 12


def test_aml_matches_lifelines_and_r_survdiff():
    result = logrank_two_groups(AML_TIME, AML_EVENT, AML_NONMAINTAINED)
    t, e, g = np.array(AML_TIME), np.array(AML_EVENT), np.array(AML_NONMAINTAINED)
    oracle = logrank_test(t[~g], t[g], e[~g], e[g])
    assert result.statistic == pytest.approx(oracle.test_statistic, rel=1e-10)
    assert result.p_value == pytest.approx(oracle.p_value, rel=1e-10)
    # R: survdiff(Surv(time, status) ~ x, aml): Maintained O = 7, E = 10.69; Nonmaintained O = 11, E = 7.31.
    assert result.statistic == pytest.approx(3.4, abs=0.05)
    assert result.observed_1 == 7 and result.expected_1 == pytest.approx(10.69, abs=0.005)
    assert result.observed_2 == 11 and result.expected_2 == pytest.approx(7.31, abs=0.005)


def test_heavily_tied_simulated_data_match_lifelines():
    rng = np.random.default_rng(3)
    n = 4000
    group = rng.random(n) < 0.1
    time = np.round(rng.exponential(np.where(group, 2.0, 2.4)), 2)
    died = rng.random(n) < 0.7
    result = logrank_two_groups(time, died, group)
    oracle = logrank_test(time[~group], time[group], died[~group], died[group])
    assert result.statistic == pytest.approx(oracle.test_statistic, rel=1e-9)
    assert result.p_value == pytest.approx(oracle.p_value, rel=1e-8)


def test_bad_durations_are_refused():
    with pytest.raises(ValueError, match="finite and non-negative"):
        logrank_two_groups([1.0, -2.0], [1, 1], [False, True])
