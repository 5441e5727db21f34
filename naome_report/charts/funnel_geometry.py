"""Where a funnel plot's lines go: smooth control-limit curves and axis ranges, for every funnel drawing (no drawing here)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.interpolate import PchipInterpolator

LIMIT_COLUMNS = ("n", "lower_95", "upper_95", "lower_998", "upper_998")
SMOOTH_POINTS = 400
X_HEADROOM = 1.08  # the x axis runs a little past the largest organisation


def x_extent(denominators: pd.Series) -> float:
    """Right end of the x axis: a little beyond the largest denominator."""
    return float(denominators.max()) * X_HEADROOM


def check_units(limits: pd.DataFrame, target: float) -> None:
    """Limits must be percentages like the points; proportions would draw a flat funnel at zero."""
    top = limits[["upper_95", "upper_998"]].max().max()
    if target > 1.0 and top <= 1.0:
        raise ValueError("funnel_plot: limits look like proportions (0–1); give them as percentages (0–100)")


def limit_curves(limits: pd.DataFrame, x_max: float, points: int = SMOOTH_POINTS,
                 keep_given: bool = True) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The x grid and each limit column on it, as smooth curves up to `x_max`.

    The grid is denser where the funnel bends (geometric spacing); `keep_given` adds every tabulated n to it.
    Shape-preserving interpolation, so a curve never overshoots the tabulated limits.
    """
    frame = limits.sort_values("n").drop_duplicates("n")
    frame = frame[(frame["n"] > 0) & (frame["n"] <= x_max * 1.02)]
    n = frame["n"].to_numpy(float)
    if len(n) < 3:
        return n, {c: frame[c].to_numpy(float) for c in LIMIT_COLUMNS[1:]}
    grid = np.geomspace(n.min(), n.max(), points)
    if keep_given:
        grid = np.unique(np.concatenate([n, grid]))
    return grid, {c: PchipInterpolator(n, frame[c].to_numpy(float))(grid) for c in LIMIT_COLUMNS[1:]}


def y_range(points: pd.DataFrame, limits: pd.DataFrame, target: float) -> tuple[float, float]:
    """Fit the points and the limits from the smallest organisation up, within 0–100%."""
    smallest = float(points["denominator"].min())
    shown = limits[limits["n"] >= smallest]
    if shown.empty:
        shown = limits
    low = min(points["percentage"].min(), shown["lower_998"].min(), target)
    high = max(points["percentage"].max(), shown["upper_998"].max(), target)
    pad = max((high - low) * 0.06, 1.0)
    return max(0.0, float(low) - pad), min(100.0, float(high) + pad)
