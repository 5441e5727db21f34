"""Funnel-plot control limits for proportions, z-scores and overdispersion (Spiegelhalter 2005)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy.stats import binom, norm

LIMIT_COLUMNS: tuple[str, ...] = ("n", "target", "lower_95", "upper_95", "lower_998", "upper_998")
METHODS: dict[str, str] = {
    "binomial": "exact binomial (Spiegelhalter 2005)",
    "wilson": "Wilson score (Fingertips)",
}
OVERDISPERSION_MODELS: tuple[str, ...] = ("none", "multiplicative", "additive")

# One-sided tail probabilities of the 95% (about 2 SD) and 99.8% (about 3 SD) limits.
_TAIL_95 = 0.025
_TAIL_998 = 0.001


@dataclass(frozen=True)
class OverdispersionEstimate:
    """Spiegelhalter (2005) overdispersion: multiplicative phi and additive tau2 from k units."""

    phi: float
    tau2: float
    k: int
    winsorised: float


def _check_target(target: float) -> float:
    t = float(target)
    if not 0.0 <= t <= 1.0:
        raise ValueError(f"target must be a proportion in [0, 1], got {target!r}")
    return t


def _as_sizes(n: ArrayLike, *, whole: bool) -> tuple[np.ndarray, np.ndarray]:
    """Return (n as given, 1-d; n as float) after checking sizes are non-negative (and whole)."""
    given = np.atleast_1d(np.asarray(n))
    if given.ndim != 1:
        raise ValueError("n must be a scalar or a 1-d array")
    sizes = given.astype(float)
    finite = np.isfinite(sizes)
    if np.any(sizes[finite] < 0):
        raise ValueError("n must be non-negative")
    if whole and np.any(sizes[finite] != np.round(sizes[finite])):
        raise ValueError("exact binomial limits need whole-number n")
    return given, sizes


def _frame(given: np.ndarray, target: float, limits: dict[str, np.ndarray]) -> pd.DataFrame:
    return pd.DataFrame({"n": given, "target": np.full(given.shape, target, dtype=float),
                         **{column: limits[column] for column in LIMIT_COLUMNS[2:]}})


def _interpolated_lower(tail: float, n: np.ndarray, target: float) -> np.ndarray:
    """Spiegelhalter (2005) Appendix A.1.1 limit: (r_p - alpha) / n, unclipped; n must be > 0."""
    r = binom.ppf(tail, n, target)
    cdf_r = binom.cdf(r, n, target)
    # pmf(r) == F(r) - F(r - 1), computed directly to avoid cancellation.
    alpha = (cdf_r - tail) / binom.pmf(r, n, target)
    # ppf and cdf round independently; alpha is in [0, 1] by construction.
    alpha = np.clip(alpha, 0.0, 1.0)
    return (r - alpha) / n


def binomial_funnel_limits(target: float, n: ArrayLike) -> pd.DataFrame:
    """Exact binomial 95% and 99.8% funnel limits around target, one row per n (proportions 0-1).

    Spiegelhalter DJ, "Funnel plots for comparing institutional performance", Stat Med
    2005;24:1185-1202, Appendix A.1.1: r_p = smallest r with F(r) >= p,
    alpha = (F(r_p) - p) / (F(r_p) - F(r_p - 1)), limit = (r_p - alpha) / n.
    That interpolation spreads the mass at r over (r - 1, r], which is conservative for a
    lower limit but not for an upper one (for target 0.95 and n = 10 it would put the upper
    95% limit at 0.996 and flag the modal result 10/10, probability 0.60, as high).  Upper
    limits therefore apply the same formula to the complementary count n - r (target 1 - t):
    upper(p) = 1 - lower_limit(1 - p, n, 1 - t), so each tail has probability at most its
    nominal value.  Limits are clipped to [0, 1]; n = 0 or missing gives NaN.
    """
    t = _check_target(target)
    given, sizes = _as_sizes(n, whole=True)
    valid = np.isfinite(sizes) & (sizes > 0)
    ns = np.where(valid, sizes, 1.0)
    limits: dict[str, np.ndarray] = {}
    for suffix, tail in (("95", _TAIL_95), ("998", _TAIL_998)):
        lower = _interpolated_lower(tail, ns, t)
        upper = 1.0 - _interpolated_lower(tail, ns, 1.0 - t)
        limits[f"lower_{suffix}"] = np.where(valid, np.clip(lower, 0.0, 1.0), np.nan)
        limits[f"upper_{suffix}"] = np.where(valid, np.clip(upper, 0.0, 1.0), np.nan)
    return _frame(given, t, limits)


def _normal_limits(
    target: float, sizes: np.ndarray, variance_of: Callable[[np.ndarray], np.ndarray]
) -> dict[str, np.ndarray]:
    valid = np.isfinite(sizes) & (sizes > 0)
    ns = np.where(valid, sizes, 1.0)
    sd = np.sqrt(variance_of(target * (1.0 - target) / ns))
    limits: dict[str, np.ndarray] = {}
    for suffix, tail in (("95", _TAIL_95), ("998", _TAIL_998)):
        z = norm.isf(tail)
        limits[f"lower_{suffix}"] = np.where(valid, np.clip(target - z * sd, 0.0, 1.0), np.nan)
        limits[f"upper_{suffix}"] = np.where(valid, np.clip(target + z * sd, 0.0, 1.0), np.nan)
    return limits


def wilson_funnel_limits(target: float, n: ArrayLike) -> pd.DataFrame:
    """Fingertips (PHE/OHID) 95% and 99.8% funnel limits for a proportion, one row per n (0-1).

    Followed: the Fingertips technical guidance as implemented in PHEindicatormethods
    (phe_funnels / calculate_funnel_limits, statistic = "proportion", helper
    sigma_adjustment): each limit is the observed proportion whose Wilson score interval
    at p = 0.975 or p = 0.999 just reaches the target (the Wilson interval "inverted").
    Because the Wilson interval is itself the inversion of the score test, that limit is
    exactly target +/- z * sqrt(target * (1 - target) / n), which is computed here; values
    agree with the package's published test table (testdata_funnel_prop_outputs.csv).
    Note this is not the Wilson interval computed around x = n * target, which is narrower
    and off-centre at small n.  Limits are clipped to [0, 1]; n = 0 or missing gives NaN.
    """
    t = _check_target(target)
    given, sizes = _as_sizes(n, whole=False)
    return _frame(given, t, _normal_limits(t, sizes, lambda s2: s2))


def z_scores(observed_proportion: ArrayLike, n: ArrayLike, target: float) -> np.ndarray:
    """z = (y - target) / sqrt(target (1 - target) / n); NaN where n is 0 or missing."""
    t = _check_target(target)
    y, sizes = np.broadcast_arrays(
        np.asarray(observed_proportion, dtype=float), np.asarray(n, dtype=float)
    )
    valid = np.isfinite(y) & np.isfinite(sizes) & (sizes > 0)
    ns = np.where(valid, sizes, 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (y - t) / np.sqrt(t * (1.0 - t) / ns)
    return np.where(valid, z, np.nan)


def estimate_overdispersion(
    observed_proportion: ArrayLike, n: ArrayLike, target: float, winsorise: float = 0.10
) -> OverdispersionEstimate:
    """Spiegelhalter (2005) section 3 overdispersion estimates from winsorised z-scores.

    z-scores are winsorised at their `winsorise` and 1 - `winsorise` quantiles (linear
    interpolation, as R's quantile type 7); phi = sum(z^2) / k and
    tau2 = max(0, (k phi - (k - 1)) / (sum(w) - sum(w^2) / sum(w))) with w = 1 / s^2,
    s^2 = target (1 - target) / n.  Units with missing values or n = 0 are left out (k
    counts the rest); with no units both are NaN, with one unit tau2 is NaN.
    """
    t = _check_target(target)
    if not 0.0 < t < 1.0:
        raise ValueError("overdispersion needs a target strictly between 0 and 1")
    if not 0.0 <= winsorise < 0.5:
        raise ValueError(f"winsorise must be in [0, 0.5), got {winsorise!r}")
    y, sizes = np.broadcast_arrays(
        np.asarray(observed_proportion, dtype=float), np.asarray(n, dtype=float)
    )
    z = np.ravel(z_scores(y, sizes, t))
    keep = np.isfinite(z)
    z, sizes = z[keep], np.ravel(sizes)[keep]
    k = int(z.size)
    if k == 0:
        nan = float("nan")
        return OverdispersionEstimate(phi=nan, tau2=nan, k=0, winsorised=winsorise)
    low, high = np.quantile(z, [winsorise, 1.0 - winsorise])
    phi = float(np.mean(np.clip(z, low, high) ** 2))
    tau2 = float("nan")
    if k >= 2:
        w = sizes / (t * (1.0 - t))
        spread = w.sum() - (w**2).sum() / w.sum()
        tau2 = max(0.0, (k * phi - (k - 1)) / spread)
    return OverdispersionEstimate(phi=phi, tau2=float(tau2), k=k, winsorised=winsorise)


def _winsorised_text(estimate: OverdispersionEstimate) -> str:
    if estimate.winsorised == 0:
        return "not winsorised"
    return f"{estimate.winsorised * 100:g}% winsorised"


def funnel_limits(
    target: float,
    n: ArrayLike,
    method: str = "binomial",
    overdispersion: str = "none",
    estimate: OverdispersionEstimate | None = None,
) -> pd.DataFrame:
    """Funnel limits by the named method, optionally overdispersion-adjusted, with a `method` column.

    method: "binomial" or "wilson"; overdispersion: "none", "multiplicative" (limits
    target +/- z sqrt(phi) s, only when phi > 1) or "additive" (target +/- z sqrt(s^2 + tau2),
    only when tau2 > 0), both needing `estimate`.  The `method` column states exactly what
    was used, including when an adjustment was requested but not applied.
    """
    if method not in METHODS:
        raise ValueError(f"unknown funnel method {method!r}; allowed: {', '.join(METHODS)}")
    if overdispersion not in OVERDISPERSION_MODELS:
        raise ValueError(
            f"unknown overdispersion model {overdispersion!r}; "
            f"allowed: {', '.join(OVERDISPERSION_MODELS)}"
        )
    base = binomial_funnel_limits if method == "binomial" else wilson_funnel_limits
    if overdispersion == "none":
        frame = base(target, n)
        frame["method"] = METHODS[method]
        return frame

    if estimate is None:
        raise ValueError(
            f"overdispersion={overdispersion!r} needs estimate=estimate_overdispersion(...)"
        )
    t = _check_target(target)
    given, sizes = _as_sizes(n, whole=False)
    winsorised = _winsorised_text(estimate)
    if overdispersion == "multiplicative":
        phi = estimate.phi
        if not np.isfinite(phi):
            raise ValueError("the overdispersion estimate has no phi (too few units)")
        if phi <= 1.0:
            frame = base(target, n)
            frame["method"] = (
                f"{METHODS[method]}; multiplicative overdispersion not applied "
                f"(phi={phi:.2f} <= 1, {winsorised})"
            )
            return frame
        frame = _frame(given, t, _normal_limits(t, sizes, lambda s2: phi * s2))
        frame["method"] = (
            "normal approximation with multiplicative overdispersion "
            f"(phi={phi:.2f}, {winsorised}; Spiegelhalter 2005)"
        )
        return frame

    tau2 = estimate.tau2
    if not np.isfinite(tau2):
        raise ValueError("the overdispersion estimate has no tau2 (too few units)")
    if tau2 <= 0.0:
        frame = base(target, n)
        frame["method"] = (
            f"{METHODS[method]}; additive overdispersion not applied (tau2=0, {winsorised})"
        )
        return frame
    frame = _frame(given, t, _normal_limits(t, sizes, lambda s2: s2 + tau2))
    frame["method"] = (
        "normal approximation with additive random-effects overdispersion "
        f"(tau2={tau2:.3g}, {winsorised}; Spiegelhalter 2005)"
    )
    return frame
