"""Rounding for every published number: half away from zero (56.25 -> 56.3, -2.5 -> -3)."""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike

# Decimal fractions such as 2.675 are stored a hair below the half (2.67499999...); rounding the
# scaled value to this many places first lets the half a reader sees round as a reader expects.
_REPAIR_PLACES = 6


def round_half_away(value: ArrayLike, digits: int = 0) -> np.ndarray | float:
    """`value` rounded to `digits` decimal places, halves away from zero; NaN stays NaN."""
    x = np.asarray(value, dtype=float)
    scale = 10.0 ** digits
    magnitude = np.floor(np.round(np.abs(x) * scale, _REPAIR_PLACES) + 0.5) / scale
    rounded = np.copysign(magnitude, x) + 0.0  # + 0.0 turns -0.0 into 0.0
    return float(rounded) if rounded.ndim == 0 else rounded


def _round_scalar(x: float, digits: int) -> float:
    """round_half_away for one Python float, step for step in plain arithmetic (numpy costs ~15 us a call)."""
    scale = 10.0 ** digits
    scaled = abs(x) * scale
    repair = 10.0 ** _REPAIR_PLACES
    repaired = round(scaled * repair) / repair  # numpy's round(v, n): rint(v * 10**n) / 10**n, halves to even
    return math.copysign(math.floor(repaired + 0.5) / scale, x) + 0.0


def format_fixed(value: float, digits: int = 1, thousands: bool = False) -> str:
    """`value` as text with `digits` decimals, rounded half away from zero ('' for a missing value)."""
    if value is None:
        return ""
    x = float(value)
    if not math.isfinite(x):
        return ""
    return f"{_round_scalar(x, digits):{',' if thousands else ''}.{digits}f}"
