"""Funnel position, HQIP outlier status and comparison of each unit: codes only (words in naome_report/vocabulary.py)."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

FUNNEL_POSITIONS: tuple[str, ...] = ("above_998", "above_95", "within", "below_95", "below_998", "not_assessed")
OUTLIER_STATUS_OF_POSITION: dict[str, str] = {
    "above_998": "alarm_high", "above_95": "alert_high", "within": "within_limits",
    "below_95": "alert_low", "below_998": "alarm_low", "not_assessed": "not_assessed",
}
_SIDE_OF_POSITION = {"above_998": 1, "above_95": 1, "within": 0, "below_95": -1, "below_998": -1}
_BETTER_SIGN = {"higher_better": 1, "lower_better": -1, "neutral": 0}


def unfavourable_side(direction: str) -> str:
    """The side ('low' or 'high') where a result beyond the limits is worse; '' where no direction is preferred."""
    if direction not in _BETTER_SIGN:
        raise ValueError(f"unknown direction {direction!r}; allowed: {', '.join(_BETTER_SIGN)}")
    return {1: "low", -1: "high", 0: ""}[_BETTER_SIGN[direction]]


def funnel_position(
    value: ArrayLike,
    lower_95: ArrayLike,
    upper_95: ArrayLike,
    lower_998: ArrayLike,
    upper_998: ArrayLike,
    *,
    assessable: ArrayLike | None = None,
) -> np.ndarray:
    """Where each value lies against its funnel: above_998, above_95, within, below_95, below_998 or not_assessed.

    Beyond the 99.8% limit comes before beyond the 95% limit; a value exactly on a limit is inside it; a missing
    value or limit, or assessable False, is not_assessed.
    """
    arrays = np.broadcast_arrays(
        *(np.asarray(a, dtype=float) for a in (value, lower_95, upper_95, lower_998, upper_998))
    )
    y, lo95, up95, lo998, up998 = (np.atleast_1d(a) for a in arrays)
    known = np.isfinite(y) & np.isfinite(lo95) & np.isfinite(up95) & np.isfinite(lo998) & np.isfinite(up998)
    if assessable is not None:
        known &= np.broadcast_to(np.asarray(assessable, dtype=bool), y.shape)
    position = np.select([y > up998, y < lo998, y > up95, y < lo95],
                         ["above_998", "below_998", "above_95", "below_95"], default="within").astype(object)
    position[~known] = "not_assessed"
    return position


def outlier_status_from_position(position: ArrayLike, in_process: bool) -> np.ndarray:
    """HQIP outlier status for an indicator in the outlier process, else not_in_process everywhere."""
    codes = np.asarray(position, dtype=object)
    if not in_process:
        return np.full(codes.shape, "not_in_process", dtype=object)
    return np.array([OUTLIER_STATUS_OF_POSITION[p] for p in codes], dtype=object)


def _comparison(side: np.ndarray, direction: str) -> np.ndarray:
    """better / similar / worse (or higher / similar / lower without a preferred direction) from a side +1/0/-1."""
    if direction not in _BETTER_SIGN:
        raise ValueError(f"unknown direction {direction!r}; allowed: {', '.join(_BETTER_SIGN)}")
    sign = _BETTER_SIGN[direction]
    if sign == 0:
        return np.select([side > 0, side < 0], ["higher", "lower"], "similar").astype(object)
    return np.select([side * sign > 0, side * sign < 0], ["better", "worse"], "similar").astype(object)


def comparison_from_position(position: ArrayLike, direction: str) -> np.ndarray:
    """vs_national of an organisation from its 95% funnel position; not_assessed where it has none."""
    codes = np.asarray(position, dtype=object)
    side = np.array([_SIDE_OF_POSITION.get(p, 0) for p in codes], dtype=int)
    out = _comparison(side, direction)
    out[codes == "not_assessed"] = "not_assessed"
    return out


def comparison_from_interval(lower: ArrayLike, upper: ArrayLike, reference: ArrayLike, direction: str) -> np.ndarray:
    """vs a reference value from whether the 95% CI [lower, upper] excludes it; not_assessed where any is missing."""
    lo, hi, ref = np.broadcast_arrays(*(np.asarray(a, dtype=float) for a in (lower, upper, reference)))
    known = np.isfinite(lo) & np.isfinite(hi) & np.isfinite(ref)
    with np.errstate(invalid="ignore"):
        side = np.where(lo > ref, 1, np.where(hi < ref, -1, 0))
    out = _comparison(np.atleast_1d(side), direction)
    out[~np.atleast_1d(known)] = "not_assessed"
    return out
