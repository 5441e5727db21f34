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


def _variation(special: np.ndarray, direction: np.ndarray, present: np.ndarray, improvement: str) -> np.ndarray:
    """improvement / concern (neither without a preferred direction) at special causes, else common_cause."""
    variation = np.full(special.size, "common_cause", dtype=object)
    if improvement == "neutral":
        variation[special] = "neither"
    else:
        better = 1 if improvement == "increase" else -1
        variation[special & (direction == better)] = "improvement"
        variation[special & (direction == -better)] = "concern"
    variation[~present] = "not_available"
    return variation


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
    variation = _variation(special, direction, present, improvement)

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


# --- p-charts for proportions (each point's limits from its own denominator) --------------------

CHARTS: tuple[str, ...] = ("p", "p_prime")
CHART_CHOICES: tuple[str, ...] = (*CHARTS, "auto")


def p_chart_limits(numerator: ArrayLike, denominator: ArrayLike, sigma_z: float = 1.0) -> dict[str, np.ndarray]:
    """Centre p-bar = sum(numerator) / sum(denominator) and per-point 1, 2 and 3 sigma limits, clipped to [0, 1].

    sigma_i = sqrt(p-bar (1 - p-bar) / n_i) x sigma_z: sigma_z = 1 is the binomial p-chart,
    Laney's sigma_z (:func:`laney_sigma_z`) gives the p' chart.  Points with no denominator
    get NaN limits and do not count in p-bar.
    """
    num, den = (np.asarray(a, dtype=float) for a in (numerator, denominator))
    present = np.isfinite(num) & np.isfinite(den) & (den > 0)
    total = den[present].sum()
    centre = num[present].sum() / total if total > 0 else np.nan
    with np.errstate(divide="ignore", invalid="ignore"):
        sigma = np.where(present, np.sqrt(centre * (1.0 - centre) / np.where(present, den, 1.0)) * sigma_z, np.nan)
    out = {"centre": np.full(num.shape, centre)}
    for k in (1, 2, 3):
        suffix = "" if k == 3 else f"_{k}sigma"
        out[f"lower{suffix}"] = np.clip(centre - k * sigma, 0.0, 1.0)
        out[f"upper{suffix}"] = np.clip(centre + k * sigma, 0.0, 1.0)
    return out


def laney_sigma_z(numerator: ArrayLike, denominator: ArrayLike) -> float:
    """Laney (2002) sigma_z: the moving-range sigma (mean |z_i - z_i-1| / 1.128) of the binomial z-scores.

    Above 1, the points vary more than the binomial allows (large n makes this common) and the
    p' chart widens each p-chart limit by this factor.  NaN with fewer than two points.
    """
    num, den = (np.asarray(a, dtype=float) for a in (numerator, denominator))
    present = np.isfinite(num) & np.isfinite(den) & (den > 0)
    if present.sum() < 2:
        return float("nan")
    p, n = num[present] / den[present], den[present]
    centre = num[present].sum() / n.sum()
    if centre <= 0.0 or centre >= 1.0:
        return float("nan")
    z = (p - centre) / np.sqrt(centre * (1.0 - centre) / n)
    return float(np.abs(np.diff(z)).mean() / D2)


def _segment_rules(values: np.ndarray, limits: dict[str, np.ndarray], rules: tuple[str, ...],
                   trend_length: int, shift_length: int) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """The rules fired at each point of one segment (available points only), and each rule's direction."""
    centre = float(limits["centre"][0]) if values.size else float("nan")
    side = _side(values, centre).astype(np.int8)
    trend = _trend_direction(values, trend_length) if "trend" in rules else np.zeros(values.size, np.int8)
    fired = {
        "outside_limits": rule_outside_limits(values, limits["lower"], limits["upper"]),
        "trend": trend != 0,
        "two_of_three": rule_two_of_three_beyond_2sigma(values, centre, limits["lower_2sigma"], limits["upper_2sigma"]),
        "shift": rule_shift(values, centre, shift_length),
    }
    fired = {name: (mask if name in rules else np.zeros(values.size, bool)) for name, mask in fired.items()}
    return fired, {"outside_limits": side, "trend": trend, "two_of_three": side, "shift": side}


def _first_sustained_shift(values: np.ndarray, centre: float, shift_length: int, min_before: int) -> int | None:
    """Index where the first run of `shift_length` points on one side of the centre starts, if `min_before` points precede it."""
    side = _side(values, centre)
    starts = []
    for sign in (1, -1):
        runs = _in_long_runs(side == sign, shift_length)
        first = np.flatnonzero(runs & ~np.r_[False, runs[:-1]])
        starts += [int(i) for i in first if i >= min_before]
    return min(starts) if starts else None


def p_chart_columns(
    numerator: ArrayLike,
    denominator: ArrayLike,
    improvement: str = "increase",
    *,
    chart: str = "auto",
    rules: tuple[str, ...] = RULE_ORDER,
    trend_length: int = 6,
    shift_length: int = 7,
    baseline_points: int = 15,
    recalculate_after_shift: bool = True,
    min_points_before_shift: int = 6,
) -> dict[str, np.ndarray]:
    """Per-point p-chart (or Laney p') limits, Making Data Count rules and variation, as equal-length arrays (0-1).

    chart: "p", "p_prime" or "auto" (p' where Laney's sigma_z of the segment exceeds 1).
    Limits are recalculated from the start of a sustained shift (the shift rule, when it is
    in `rules`) once at least `min_points_before_shift` points precede it; each part is a
    segment with its own centre and limits.  Columns: value, centre, lower, upper (3 sigma,
    clipped to 0-1), chart, special_cause, rule (first in RULE_ORDER that fired, else ''),
    rules_fired (';'-joined), variation, limits_status ("trial" when the first segment has
    fewer than `baseline_points` points, "baseline", or "recalculated" after a shift) and
    limits_segment (1, 2, ...).  A point with no denominator is skipped by the rules.
    """
    if improvement not in IMPROVEMENT_DIRECTIONS:
        raise ValueError(f"unknown improvement direction {improvement!r}; allowed: {', '.join(IMPROVEMENT_DIRECTIONS)}")
    if chart not in CHART_CHOICES:
        raise ValueError(f"unknown chart {chart!r}; allowed: {', '.join(CHART_CHOICES)}")
    unknown = set(rules) - set(RULE_ORDER)
    if unknown:
        raise ValueError(f"unknown rule(s) {sorted(unknown)}; allowed: {', '.join(RULE_ORDER)}")
    num, den = (np.asarray(a, dtype=float).ravel() for a in (numerator, denominator))
    if num.shape != den.shape:
        raise ValueError("numerator and denominator differ in length")
    n = num.size
    present = np.isfinite(num) & np.isfinite(den) & (den > 0)
    index = np.flatnonzero(present)
    value = np.full(n, np.nan)
    value[present] = num[present] / den[present]

    # Segment boundaries (positions among the available points), split at sustained shifts.
    bounds = [0, index.size]
    if recalculate_after_shift and "shift" in rules:
        seg = 0
        while seg < len(bounds) - 1:
            a, b = bounds[seg], bounds[seg + 1]
            pos = index[a:b]
            centre = p_chart_limits(num[pos], den[pos])["centre"]
            start = _first_sustained_shift(value[pos], float(centre[0]) if pos.size else np.nan,
                                           shift_length, min_points_before_shift)
            if start is not None and start > 0:
                bounds.insert(seg + 1, a + start)
            seg += 1

    out = {name: np.full(n, np.nan) for name in ("centre", "lower", "upper")}
    out_chart = np.full(n, "", dtype=object)
    fired = {name: np.zeros(n, dtype=bool) for name in RULE_ORDER}
    direction_of = {name: np.zeros(n, dtype=np.int8) for name in RULE_ORDER}
    segment = np.zeros(n, dtype=np.int64)
    for number, (a, b) in enumerate(zip(bounds[:-1], bounds[1:]), start=1):
        pos = index[a:b]
        if pos.size == 0:
            continue
        sigma_z = laney_sigma_z(num[pos], den[pos])
        use_prime = chart == "p_prime" or (chart == "auto" and np.isfinite(sigma_z) and sigma_z > 1.0)
        limits = p_chart_limits(num[pos], den[pos], sigma_z if use_prime and np.isfinite(sigma_z) else 1.0)
        for name in ("centre", "lower", "upper"):
            out[name][pos] = limits[name]
        out_chart[pos] = "p_prime" if use_prime else "p"
        segment[pos] = number
        seg_fired, seg_direction = _segment_rules(value[pos], limits, tuple(rules), trend_length, shift_length)
        for name in RULE_ORDER:
            fired[name][pos] = seg_fired[name]
            direction_of[name][pos] = seg_direction[name]

    first_rule = np.full(n, "", dtype=object)
    direction = np.zeros(n, dtype=np.int8)
    for name in RULE_ORDER:
        take = fired[name] & (first_rule == "")
        first_rule[take] = name
        direction[take] = direction_of[name][take]
    special = first_rule != ""
    variation = _variation(special, direction, present, improvement)
    first_points = int((segment == 1).sum())
    status = np.where(segment > 1, "recalculated", "trial" if first_points < baseline_points else "baseline").astype(object)
    status[~present] = ""
    return {
        "value": value, "centre": out["centre"], "lower": out["lower"], "upper": out["upper"], "chart": out_chart,
        "special_cause": special, "rule": first_rule,
        "rules_fired": np.array([";".join(r for r in RULE_ORDER if fired[r][i]) for i in range(n)], dtype=object),
        "variation": variation, "limits_status": status, "limits_segment": segment,
    }
