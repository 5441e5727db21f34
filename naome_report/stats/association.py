"""Tests of whether a proportion differs between categories: chi-squared, and chi-squared for trend.

Each test works on many k x 2 tables at once: ``events`` and ``totals`` are 2-d arrays with one
row per table and one column per category (patients with and without the event are
``events`` and ``totals - events``). A category with no patients (total 0 or NaN) takes no
part. Neither test uses a continuity correction.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy.stats import chi2


def _tables(events: ArrayLike, totals: ArrayLike) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    x = np.atleast_2d(np.asarray(events, dtype=float))
    n = np.atleast_2d(np.asarray(totals, dtype=float))
    if x.shape != n.shape:
        raise ValueError(f"events and totals differ in shape ({x.shape} and {n.shape})")
    used = np.isfinite(x) & np.isfinite(n) & (n > 0)
    with np.errstate(invalid="ignore"):
        if np.any(used & ((x < 0) | (x > n))):
            raise ValueError("events must satisfy 0 <= events <= totals")
    return np.where(used, x, 0.0), np.where(used, n, 0.0), used


def chi_squared_independence(events: ArrayLike, totals: ArrayLike) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pearson's chi-squared test of independence for each k x 2 table: (statistic, df, p-value).

    Statistic: sum over categories of (x_i - n_i p)^2 / (n_i p (1 - p)), p = sum x / sum n, with
    df = (categories with patients) - 1. NaN where fewer than two categories have patients or
    every patient (or none) has the event.
    """
    x, n, used = _tables(events, totals)
    big_n = n.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = x.sum(axis=1) / big_n
        expected = n * p[:, None]
        terms = np.where(used, (x - expected) ** 2 / (expected * (1 - p[:, None])), 0.0)
    df = used.sum(axis=1) - 1
    testable = (df >= 1) & (p > 0) & (p < 1)
    statistic = np.where(testable, terms.sum(axis=1), np.nan)
    p_value = np.where(testable, chi2.sf(statistic, np.maximum(df, 1)), np.nan)
    return statistic, df.astype(float), p_value


def chi_squared_trend(events: ArrayLike, totals: ArrayLike, scores: ArrayLike | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Chi-squared test for trend in proportions (Cochran-Armitage, 1 df) for each table: (statistic, p-value).

    Statistic: [sum s_i (x_i - n_i p)]^2 / (p (1 - p) [sum n_i s_i^2 - (sum n_i s_i)^2 / N]), with scores
    s_i = 1, 2, ... by column unless given. It equals N / (N - 1) times Mantel's linear-by-linear
    association statistic. NaN where fewer than two categories have patients or p is 0 or 1.
    """
    x, n, used = _tables(events, totals)
    s = np.arange(1, x.shape[1] + 1, dtype=float) if scores is None else np.asarray(scores, dtype=float)
    s = np.broadcast_to(s, x.shape)
    big_n = n.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = x.sum(axis=1) / big_n
        numerator = ((x - n * p[:, None]) * s).sum(axis=1) ** 2
        spread = (n * s**2).sum(axis=1) - (n * s).sum(axis=1) ** 2 / big_n
        statistic = numerator / (p * (1 - p) * spread)
    testable = (used.sum(axis=1) >= 2) & (p > 0) & (p < 1) & (spread > 0)
    statistic = np.where(testable, statistic, np.nan)
    return statistic, np.where(testable, chi2.sf(statistic, 1), np.nan)
