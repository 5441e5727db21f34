"""Confidence interval for a difference of two independent proportions (Newcombe's hybrid score)."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from naome_report.stats.wilson import wilson_interval


def newcombe_difference(
    x1: ArrayLike, n1: ArrayLike, x2: ArrayLike, n2: ArrayLike, confidence: float = 0.95
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Difference p1 - p2 with its hybrid score interval (Newcombe 1998, method 10), as proportions.

    Each proportion gets its Wilson score interval (l, u); the difference d = p1 - p2 has
    lower = d - sqrt((p1 - l1)^2 + (u2 - p2)^2) and upper = d + sqrt((u1 - p1)^2 + (p2 - l2)^2).
    NaN wherever either denominator is 0 or missing.
    """
    x1, n1, x2, n2 = np.broadcast_arrays(*(np.asarray(a, dtype=float) for a in (x1, n1, x2, n2)))
    l1, u1 = wilson_interval(x1, n1, confidence)
    l2, u2 = wilson_interval(x2, n2, confidence)
    with np.errstate(invalid="ignore", divide="ignore"):
        p1, p2 = x1 / n1, x2 / n2
    diff = p1 - p2
    lower = diff - np.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    upper = diff + np.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    valid = np.isfinite(l1) & np.isfinite(l2)
    return tuple(np.where(valid, a, np.nan) for a in (diff, lower, upper))
