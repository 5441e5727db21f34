"""Whether a value's confidence interval lies above, below or around a reference value, by direction."""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

# What a clear difference means for each improvement direction: (interval above, interval below).
_WORDS = {"higher_better": ("better", "worse"), "lower_better": ("worse", "better"), "neutral": ("higher", "lower")}


def compare_interval(lower: ArrayLike, upper: ArrayLike, reference: ArrayLike, direction: ArrayLike) -> np.ndarray:
    """Comparison code per row: better / similar / worse (directional), higher / similar / lower (neutral).

    An interval wholly above the reference is 'above', wholly below is 'below'; one that contains it
    (ends included) is 'similar'. Rows missing a limit or the reference are 'not_assessed'.
    """
    lo, hi, ref = np.broadcast_arrays(*(np.asarray(a, dtype=float) for a in (lower, upper, reference)))
    directions = pd.Series(np.broadcast_to(np.asarray(direction, dtype=object), lo.shape).ravel())
    unknown = set(directions.unique()) - set(_WORDS)
    if unknown:
        raise ValueError(f"unknown direction(s) {', '.join(sorted(map(str, unknown)))}; known: {', '.join(_WORDS)}")
    above = directions.map({d: words[0] for d, words in _WORDS.items()}).to_numpy(object).reshape(lo.shape)
    below = directions.map({d: words[1] for d, words in _WORDS.items()}).to_numpy(object).reshape(lo.shape)
    assessed = np.isfinite(lo) & np.isfinite(hi) & np.isfinite(ref)
    with np.errstate(invalid="ignore"):
        return np.select([~assessed, lo > ref, hi < ref], ["not_assessed", above, below], "similar").astype(object)
