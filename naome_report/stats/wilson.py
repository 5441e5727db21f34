"""Wilson score confidence intervals for proportions."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy.stats import norm


def z_for_confidence(confidence: float) -> float:
    """Two-sided standard-normal critical value for a confidence level in (0, 1)."""
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be strictly between 0 and 1, got {confidence!r}")
    return float(norm.ppf(1.0 - (1.0 - confidence) / 2.0))


def wilson_interval(
    numerator: ArrayLike, denominator: ArrayLike, confidence: float = 0.95
) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval (lower, upper) as proportions; NaN where the denominator is 0 or NaN."""
    z = z_for_confidence(confidence)
    x, n = np.broadcast_arrays(
        np.asarray(numerator, dtype=float), np.asarray(denominator, dtype=float)
    )
    with np.errstate(invalid="ignore"):
        bad = (x < 0) | (n < 0) | (x > n)
    if np.any(bad):
        raise ValueError("numerator must satisfy 0 <= numerator <= denominator")

    valid = np.isfinite(x) & np.isfinite(n) & (n > 0)
    # Dummy n = 1 on invalid rows keeps the arithmetic warning-free; they become NaN below.
    xs = np.where(valid, x, 0.0)
    ns = np.where(valid, n, 1.0)
    z2 = z * z
    centre = 2.0 * xs + z2
    half_width = z * np.sqrt(np.maximum(z2 + 4.0 * xs * (1.0 - xs / ns), 0.0))
    scale = 2.0 * (ns + z2)
    # Clip: at x = 0 or x = n the bound is exactly 0 or 1 but rounding can stray by ~1e-17.
    lower = np.clip((centre - half_width) / scale, 0.0, 1.0)
    upper = np.clip((centre + half_width) / scale, 0.0, 1.0)
    return np.where(valid, lower, np.nan), np.where(valid, upper, np.nan)
