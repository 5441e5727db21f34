"""The log-rank test comparing the survival of two groups."""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy.stats import chi2


def logrank_two_groups(durations: ArrayLike, events: ArrayLike, in_second: ArrayLike) -> pd.Series:
    """Log-rank test of group 0 against group 1 (``in_second`` true): statistic, p-value, observed and expected deaths.

    At each distinct death time t with n patients at risk (n1 in group 1) and d deaths, group 1
    expects d n1 / n deaths, with hypergeometric variance d (n1/n)(1 - n1/n)(n - d)/(n - 1); the
    statistic is (O1 - E1)^2 / V on 1 df. Deaths come before censorings at a shared time.
    """
    t = np.asarray(durations, dtype=float).ravel()
    e = np.asarray(events, dtype=bool).ravel()
    g = np.asarray(in_second, dtype=bool).ravel()
    if not (t.size == e.size == g.size):
        raise ValueError(f"durations, events and groups differ in length ({t.size}, {e.size}, {g.size})")
    if not np.isfinite(t).all() or (t < 0).any():
        raise ValueError("durations must be finite and non-negative")
    times, index = np.unique(t, return_inverse=True)
    deaths = np.bincount(index, weights=e, minlength=times.size)
    deaths_2 = np.bincount(index, weights=e & g, minlength=times.size)
    leaving = np.bincount(index, minlength=times.size).astype(float)
    leaving_2 = np.bincount(index, weights=g, minlength=times.size)
    # At risk just before each time: everyone whose duration is at least that time.
    at_risk = leaving[::-1].cumsum()[::-1]
    at_risk_2 = leaving_2[::-1].cumsum()[::-1]
    with np.errstate(invalid="ignore", divide="ignore"):
        share = at_risk_2 / at_risk
        expected_2 = deaths * share
        variance = np.where(at_risk > 1, deaths * share * (1 - share) * (at_risk - deaths) / (at_risk - 1), 0.0)
    observed_2, e2, v = deaths_2.sum(), expected_2.sum(), variance.sum()
    statistic = (observed_2 - e2) ** 2 / v if v > 0 else np.nan
    return pd.Series({
        "statistic": statistic, "p_value": chi2.sf(statistic, 1) if v > 0 else np.nan,
        "observed_1": deaths.sum() - observed_2, "expected_1": deaths.sum() - e2,
        "observed_2": observed_2, "expected_2": e2,
    })
