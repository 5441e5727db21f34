"""Confidence intervals for an observed count relative to its expected count (O/E), assuming Poisson."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy.stats import chi2

from naome_report.stats.wilson import z_for_confidence

METHODS = ("exact", "byar")
METHOD_TEXT = {
    "exact": "exact Poisson (Garwood) interval for the observed count, divided by the expected count",
    "byar": "Byar's approximation to the exact Poisson interval for the observed count, divided by the expected count",
}


def observed_expected_interval(
    observed: ArrayLike, expected: ArrayLike, confidence: float = 0.95, method: str = "exact"
) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper limits of O/E; NaN where the expected count is not positive or either is missing.

    exact: Garwood's limits O_L = chi2(alpha/2; 2O) / 2 (0 when O = 0) and O_U = chi2(1 - alpha/2; 2O + 2) / 2.
    byar: O_L = O (1 - 1/(9O) - z/(3 sqrt O))^3 and O_U = (O + 1)(1 - 1/(9(O + 1)) + z/(3 sqrt(O + 1)))^3.
    """
    if method not in METHODS:
        raise ValueError(f"unknown O/E interval method {method!r}; known: {', '.join(METHODS)}")
    o, e = np.broadcast_arrays(np.asarray(observed, dtype=float), np.asarray(expected, dtype=float))
    valid = np.isfinite(o) & np.isfinite(e) & (e > 0) & (o >= 0)
    o_safe = np.where(valid, o, 1.0)
    alpha = 1.0 - confidence
    if method == "exact":
        low_count = np.where(o_safe > 0, chi2.ppf(alpha / 2, 2 * o_safe) / 2, 0.0)
        high_count = chi2.ppf(1 - alpha / 2, 2 * o_safe + 2) / 2
    else:
        z = z_for_confidence(confidence)
        with np.errstate(divide="ignore", invalid="ignore"):
            low_count = np.where(o_safe > 0, o_safe * (1 - 1 / (9 * o_safe) - z / (3 * np.sqrt(o_safe))) ** 3, 0.0)
        high_count = (o_safe + 1) * (1 - 1 / (9 * (o_safe + 1)) + z / (3 * np.sqrt(o_safe + 1))) ** 3
    e_safe = np.where(valid, e, 1.0)
    return np.where(valid, low_count / e_safe, np.nan), np.where(valid, high_count / e_safe, np.nan)
