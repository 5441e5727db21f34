"""Outlier status against funnel limits (HQIP NCAPOP outlier guidance, January 2024)."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

NOT_ASSESSED_PREFIX = "not_assessed:"
DEFAULT_NOT_ASSESSED_REASON = "not_available"

OUTLIER_LABELS: dict[str, str] = {
    "alarm_high": "Alarm: significantly higher than expected (beyond 99.8% limit)",
    "alert_high": "Alert: higher than expected (beyond 95% limit)",
    "within_limits": "Within expected range (inside 95% limits)",
    "alert_low": "Alert: lower than expected (beyond 95% limit)",
    "alarm_low": "Alarm: significantly lower than expected (beyond 99.8% limit)",
    "not_assessed": "Not assessed",
    "not_assessed:too_few": "Not assessed: too few patients",
    "not_assessed:not_eligible": "Not assessed: not eligible for this indicator",
    "not_assessed:not_available": "Not assessed: data not available",
    "not_assessed:suppressed": "Not assessed: suppressed to protect confidentiality",
}

# Glyphs present in DejaVu Sans and Liberation Sans (checked in the tests).
OUTLIER_SYMBOLS: dict[str, str] = {
    "alarm_high": "\u25b2\u25b2",  # ▲▲
    "alert_high": "\u25b2",  # ▲
    "within_limits": "\u25cf",  # ●
    "alert_low": "\u25bc",  # ▼
    "alarm_low": "\u25bc\u25bc",  # ▼▼
    "not_assessed": "\u2013",  # – (en dash)
}


def outlier_label(status: str) -> str:
    """Plain-English label for a status, falling back to the generic not-assessed label."""
    if status in OUTLIER_LABELS:
        return OUTLIER_LABELS[status]
    if status.startswith(NOT_ASSESSED_PREFIX):
        reason = status[len(NOT_ASSESSED_PREFIX):].replace("_", " ")
        return f"{OUTLIER_LABELS['not_assessed']}: {reason}"
    raise KeyError(status)


def outlier_symbol(status: str) -> str:
    """Text symbol for a status; every not-assessed reason shares one symbol."""
    if status.startswith(NOT_ASSESSED_PREFIX):
        return OUTLIER_SYMBOLS["not_assessed"]
    return OUTLIER_SYMBOLS[status]


def _reasons(reason_not_assessed: ArrayLike | None, shape: tuple[int, ...]) -> np.ndarray:
    if reason_not_assessed is None:
        return np.full(shape, DEFAULT_NOT_ASSESSED_REASON, dtype=object)
    given = np.broadcast_to(np.asarray(reason_not_assessed, dtype=object), shape)
    reasons = np.empty(shape, dtype=object)
    for index, reason in np.ndenumerate(given):
        blank = reason is None or (isinstance(reason, float) and np.isnan(reason)) or reason == ""
        reasons[index] = DEFAULT_NOT_ASSESSED_REASON if blank else str(reason)
    return reasons


def assign_outlier_status(
    value: ArrayLike,
    lower_95: ArrayLike,
    upper_95: ArrayLike,
    lower_998: ArrayLike,
    upper_998: ArrayLike,
    *,
    assessable: ArrayLike | None = None,
    reason_not_assessed: ArrayLike | None = None,
) -> np.ndarray:
    """Outlier status per unit: alarm_/alert_ high/low, within_limits, or not_assessed:<reason>.

    Beyond the 99.8% limit is an alarm, beyond the 95% limit an alert, in either direction;
    a value exactly on a limit is within it.  Rows with assessable False, a missing value
    or missing limits are not assessed; their reason comes from reason_not_assessed
    (default "not_available").
    """
    arrays = np.broadcast_arrays(
        *(np.asarray(a, dtype=float) for a in (value, lower_95, upper_95, lower_998, upper_998))
    )
    y, lo95, up95, lo998, up998 = (np.atleast_1d(a) for a in arrays)
    shape = y.shape
    ok = np.isfinite(y) & np.isfinite(lo95) & np.isfinite(up95)
    ok &= np.isfinite(lo998) & np.isfinite(up998)
    if assessable is not None:
        ok &= np.broadcast_to(np.asarray(assessable, dtype=bool), shape)

    status = np.select(
        [y > up998, y < lo998, y > up95, y < lo95],
        ["alarm_high", "alarm_low", "alert_high", "alert_low"],
        default="within_limits",
    ).astype(object)
    reasons = _reasons(reason_not_assessed, shape)
    not_assessed = NOT_ASSESSED_PREFIX + reasons[~ok].astype(str).astype(object)
    status[~ok] = not_assessed
    # A fixed-width str array so numpy string functions (np.char / np.strings) work on it.
    return status.astype(str)


# --- funnel position, HQIP status and comparison: codes only (words in naome_report/vocabulary.py) ---

FUNNEL_POSITIONS: tuple[str, ...] = ("above_998", "above_95", "within", "below_95", "below_998", "not_assessed")
OUTLIER_STATUS_OF_POSITION: dict[str, str] = {
    "above_998": "alarm_high", "above_95": "alert_high", "within": "within_limits",
    "below_95": "alert_low", "below_998": "alarm_low", "not_assessed": "not_assessed",
}
_SIDE_OF_POSITION = {"above_998": 1, "above_95": 1, "within": 0, "below_95": -1, "below_998": -1}
_BETTER_SIGN = {"higher_better": 1, "lower_better": -1, "neutral": 0}


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

    A value exactly on a limit is inside it; a missing value or limit, or assessable False,
    is not_assessed.
    """
    status = assign_outlier_status(value, lower_95, upper_95, lower_998, upper_998, assessable=assessable)
    position = {v: k for k, v in OUTLIER_STATUS_OF_POSITION.items()}
    return np.array([position.get(s, "not_assessed") for s in status], dtype=object)


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
