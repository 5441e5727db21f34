"""XmR statistical process control for run charts (NHS England "Making Data Count")."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

# Making Data Count constants: limits at mean +/- 2.66 mR-bar; sigma = mR-bar / d2, d2 = 1.128.
LIMIT_FACTOR = 2.66
D2 = 1.128
RULE_ORDER: tuple[str, ...] = ("outside_limits", "trend", "two_of_three", "shift")
IMPROVEMENT_DIRECTIONS: tuple[str, ...] = ("increase", "decrease", "neutral")


def _values(values: ArrayLike) -> np.ndarray:
    v = np.asarray(values, dtype=float)
    if v.ndim != 1:
        raise ValueError("values must be a 1-d series")
    return v


def xmr_limits(values: ArrayLike) -> dict[str, float]:
    """Mean, mean moving range and the 1, 2 and 3 sigma limits of an XmR chart; NaN skipped."""
    v = _values(values)
    v = v[np.isfinite(v)]
    mean = float(v.mean()) if v.size else float("nan")
    # Moving ranges between consecutive available points (a missing point is skipped, not a break).
    mr_bar = float(np.abs(np.diff(v)).mean()) if v.size >= 2 else float("nan")
    sigma = mr_bar / D2
    return {
        "mean": mean,
        "mean_moving_range": mr_bar,
        "sigma": sigma,
        "lower": mean - LIMIT_FACTOR * mr_bar,
        "upper": mean + LIMIT_FACTOR * mr_bar,
        "lower_1sigma": mean - sigma,
        "upper_1sigma": mean + sigma,
        "lower_2sigma": mean - 2.0 * sigma,
        "upper_2sigma": mean + 2.0 * sigma,
    }


def _in_long_runs(mask: np.ndarray, length: int) -> np.ndarray:
    """True for elements of `mask` inside a run of at least `length` consecutive Trues."""
    m = np.asarray(mask, dtype=bool)
    if m.size == 0:
        return m.copy()
    padded = np.concatenate(([False], m, [False])).astype(np.int8)
    edges = np.diff(padded)
    starts = np.flatnonzero(edges == 1)
    ends = np.flatnonzero(edges == -1)
    marks = np.zeros(m.size + 1, dtype=np.int64)
    long_enough = (ends - starts) >= length
    # +1 at each qualifying run's start and -1 just after its end; the running sum marks the run.
    np.add.at(marks, starts[long_enough], 1)
    np.add.at(marks, ends[long_enough], -1)
    return np.cumsum(marks[:-1]) > 0


def rule_outside_limits(values: ArrayLike, lower: ArrayLike, upper: ArrayLike) -> np.ndarray:
    """Points strictly above the upper or below the lower process limit."""
    v = _values(values)
    with np.errstate(invalid="ignore"):
        return (v > np.asarray(upper, dtype=float)) | (v < np.asarray(lower, dtype=float))


def _trend_direction(values: np.ndarray, length: int) -> np.ndarray:
    """+1 / -1 for points in a run of `length` or more strictly rising / falling points, else 0."""
    if length < 2:
        raise ValueError("a trend needs length >= 2 points")
    direction = np.zeros(values.size, dtype=np.int8)
    if values.size < 2:
        return direction
    with np.errstate(invalid="ignore"):
        step = np.diff(values)
    # A run of L points is L - 1 consecutive steps; ties and missing values break it.
    for sign, steps in ((1, step > 0), (-1, step < 0)):
        in_run = _in_long_runs(steps, length - 1)
        points = np.zeros(values.size, dtype=bool)
        points[:-1] |= in_run
        points[1:] |= in_run
        # A turning point ends one run and starts the other: keep the earlier run's direction.
        direction[points & (direction == 0)] = sign
    return direction


def rule_trend(values: ArrayLike, length: int = 6) -> np.ndarray:
    """Points in a run of `length` or more points all rising or all falling (ties break a run)."""
    return _trend_direction(_values(values), length) != 0


def _side(values: np.ndarray, mean: float) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        return np.sign(values - mean)


def rule_two_of_three_beyond_2sigma(
    values: ArrayLike, mean: float, lower_2s: float, upper_2s: float
) -> np.ndarray:
    """Points beyond 2 sigma that are 2 of 3 consecutive points beyond 2 sigma on the same side.

    Only the points beyond 2 sigma are flagged; points beyond the 3-sigma limits count too.
    """
    v = _values(values)
    side = _side(v, mean)
    with np.errstate(invalid="ignore"):
        high = (v > upper_2s) & (side > 0)
        low = (v < lower_2s) & (side < 0)
    flagged = np.zeros(v.size, dtype=bool)
    for beyond in (high, low):
        # Two such points within any window of three consecutive points: at distance 1 or 2.
        near = np.zeros(v.size, dtype=bool)
        for gap in (1, 2):
            if v.size > gap:
                pair = beyond[:-gap] & beyond[gap:]
                near[:-gap] |= pair
                near[gap:] |= pair
        flagged |= near
    return flagged


def rule_shift(values: ArrayLike, mean: float, length: int = 7) -> np.ndarray:
    """Points in a run of `length` or more on one side of the mean (a point on the mean breaks it)."""
    if length < 1:
        raise ValueError("a shift needs length >= 1")
    side = _side(_values(values), mean)
    return _in_long_runs(side > 0, length) | _in_long_runs(side < 0, length)


def run_chart_analysis(values: ArrayLike, *args: Any, **kwargs: Any) -> pd.DataFrame:
    """:func:`run_chart_columns` as a DataFrame, one row per point (same arguments)."""
    return pd.DataFrame(run_chart_columns(values, *args, **kwargs))


def run_chart_columns(
    values: ArrayLike,
    improvement: str = "increase",
    trend_length: int = 6,
    shift_length: int = 7,
    min_points: int = 15,
) -> dict[str, np.ndarray]:
    """Per-point XmR limits, special-cause rules and variation type for a run chart, as equal-length arrays.

    Columns: value, mean, lower, upper, special_cause, rule (first rule fired in the order
    outside_limits > trend > two_of_three > shift, else ''), rules_fired (all, ';'-joined),
    variation ("improvement", "concern", "neither" or "common_cause"; "not_available" for a
    missing point) and limits_status ("trial" below min_points non-missing values, else
    "baseline").  Missing points are skipped: rules run over the available points in order.
    Arrays rather than a DataFrame: the build analyses thousands of series.
    """
    if improvement not in IMPROVEMENT_DIRECTIONS:
        raise ValueError(
            f"unknown improvement direction {improvement!r}; "
            f"allowed: {', '.join(IMPROVEMENT_DIRECTIONS)}"
        )
    v = _values(values)
    limits = xmr_limits(v)
    present = np.isfinite(v)
    w = v[present]
    mean = limits["mean"]

    side = _side(w, mean).astype(np.int8)
    trend = _trend_direction(w, trend_length)
    fired_on_available = {
        "outside_limits": rule_outside_limits(w, limits["lower"], limits["upper"]),
        "trend": trend != 0,
        "two_of_three": rule_two_of_three_beyond_2sigma(
            w, mean, limits["lower_2sigma"], limits["upper_2sigma"]
        ),
        "shift": rule_shift(w, mean, shift_length),
    }
    direction_of = {"outside_limits": side, "trend": trend, "two_of_three": side, "shift": side}

    fired = {name: np.zeros(v.size, dtype=bool) for name in RULE_ORDER}
    direction = np.zeros(v.size, dtype=np.int8)
    first_rule = np.full(v.size, "", dtype=object)
    for name in RULE_ORDER:
        fired[name][present] = fired_on_available[name]
        take = fired[name] & (first_rule == "")
        first_rule[take] = name
        on_available = np.zeros(v.size, dtype=np.int8)
        on_available[present] = direction_of[name]
        direction[take] = on_available[take]

    special = first_rule != ""
    rules_fired = np.array(
        [";".join(name for name in RULE_ORDER if fired[name][i]) for i in range(v.size)],
        dtype=object,
    )
    variation = np.full(v.size, "common_cause", dtype=object)
    if improvement == "neutral":
        variation[special] = "neither"
    else:
        better = 1 if improvement == "increase" else -1
        variation[special & (direction == better)] = "improvement"
        variation[special & (direction == -better)] = "concern"
    variation[~present] = "not_available"

    n = v.size
    return {
        "value": v,
        "mean": np.full(n, mean),
        "lower": np.full(n, limits["lower"]),
        "upper": np.full(n, limits["upper"]),
        "special_cause": special,
        "rule": first_rule,
        "rules_fired": rules_fired,
        "variation": variation,
        "limits_status": np.full(n, "trial" if int(present.sum()) < min_points else "baseline", dtype=object),
    }
