"""Funnel-plot control limits for proportions, z-scores and overdispersion (Spiegelhalter 2005)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy.stats import binom, chi2, norm

from naome_report.numbers import format_fixed

LIMIT_COLUMNS: tuple[str, ...] = ("n", "target", "lower_95", "upper_95", "lower_998", "upper_998")
METHODS: dict[str, str] = {
    "binomial": "exact binomial limits (Spiegelhalter 2005)",
    "wilson": "Wilson score limits (Fingertips)",
}
OVERDISPERSION_MODELS: tuple[str, ...] = ("none", "multiplicative", "additive")
# What a configuration may ask for: a model, or "auto" (additive where the dispersion test says so).
OVERDISPERSION_CHOICES: tuple[str, ...] = (*OVERDISPERSION_MODELS, "auto")
# Scales of the normal approximation used when limits are overdispersion-adjusted.
SCALES: tuple[str, ...] = ("proportion", "arcsine")

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
    phi_p_value: float = float("nan")
    scale: str = "proportion"
    consistency_corrected: bool = False

    def is_overdispersed(self, alpha: float) -> bool:
        """Whether k phi is beyond the (1 - alpha) quantile of chi-squared on k - 1 degrees of freedom."""
        return bool(np.isfinite(self.phi_p_value) and self.phi_p_value < alpha)


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
    target: float, sizes: np.ndarray, variance_of: Callable[[np.ndarray], np.ndarray], scale: str = "proportion"
) -> dict[str, np.ndarray]:
    """Limits target +/- z sd on the given scale (sd from the within-unit variance s^2), back on 0-1."""
    valid = np.isfinite(sizes) & (sizes > 0)
    ns = np.where(valid, sizes, 1.0)
    centre, s2 = _scaled(np.full(ns.shape, target), ns, target, scale)[1:]
    sd = np.sqrt(variance_of(s2))
    limits: dict[str, np.ndarray] = {}
    for suffix, tail in (("95", _TAIL_95), ("998", _TAIL_998)):
        z = norm.isf(tail)
        lower, upper = _from_scale(centre - z * sd, scale), _from_scale(centre + z * sd, scale)
        limits[f"lower_{suffix}"] = np.where(valid, lower, np.nan)
        limits[f"upper_{suffix}"] = np.where(valid, upper, np.nan)
    return limits


def _scaled(y: np.ndarray, n: np.ndarray, target: float, scale: str) -> tuple[np.ndarray, float, np.ndarray]:
    """(y, target, within-unit variance s^2) on the scale of the normal approximation.

    proportion: s^2 = t (1 - t) / n.  arcsine: y -> asin(sqrt(y)), variance-stabilised
    s^2 = 1 / (4 n), as FunnelPlotR's proportions and Spiegelhalter (2005, section 4).
    """
    if scale == "proportion":
        return y, target, target * (1.0 - target) / n
    if scale == "arcsine":
        with np.errstate(invalid="ignore"):
            return np.arcsin(np.sqrt(y)), float(np.arcsin(np.sqrt(target))), 1.0 / (4.0 * n)
    raise ValueError(f"unknown scale {scale!r}; allowed: {', '.join(SCALES)}")


def _from_scale(value: np.ndarray, scale: str) -> np.ndarray:
    """A limit on the approximation's scale back to a proportion, clipped to [0, 1]."""
    if scale == "arcsine":
        return np.sin(np.clip(value, 0.0, np.pi / 2)) ** 2
    return np.clip(value, 0.0, 1.0)


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


def z_scores(observed_proportion: ArrayLike, n: ArrayLike, target: float, scale: str = "proportion") -> np.ndarray:
    """z = (y - target) / s on the scale given (s^2 = target (1 - target) / n for proportions); NaN where n is 0 or missing."""
    t = _check_target(target)
    y, sizes = np.broadcast_arrays(
        np.asarray(observed_proportion, dtype=float), np.asarray(n, dtype=float)
    )
    valid = np.isfinite(y) & np.isfinite(sizes) & (sizes > 0)
    ns = np.where(valid, sizes, 1.0)
    scaled_y, centre, s2 = _scaled(np.where(valid, y, t), ns, t, scale)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (scaled_y - centre) / np.sqrt(s2)
    return np.where(valid, z, np.nan)


def dispersion_ratio(z: ArrayLike, winsorise: float = 0.10) -> tuple[float, int]:
    """(phi, k): the mean square of the z-scores after winsorising at `winsorise` and 1 - `winsorise`.

    Quantiles by linear interpolation (R's type 7, as FunnelPlotR); missing z-scores are left out.
    """
    if not 0.0 <= winsorise < 0.5:
        raise ValueError(f"winsorise must be in [0, 0.5), got {winsorise!r}")
    values = np.ravel(np.asarray(z, dtype=float))
    values = values[np.isfinite(values)]
    if values.size == 0:
        return float("nan"), 0
    low, high = np.quantile(values, [winsorise, 1.0 - winsorise])
    return float(np.mean(np.clip(values, low, high) ** 2)), int(values.size)


def winsorised_normal_mean_square(winsorise: float) -> float:
    """E[Z_w^2] for a standard normal Z winsorised at its `winsorise` and 1 - `winsorise` quantiles.

    With c = Phi^-1(1 - w): (1 - 2w) - 2 c phi(c) + 2 w c^2 (0.6787 at w = 0.10).  Dividing the
    winsorised phi by it makes phi about 1 when units vary by chance alone.
    """
    if winsorise == 0:
        return 1.0
    c = float(norm.isf(winsorise))
    return (1.0 - 2.0 * winsorise) - 2.0 * c * float(norm.pdf(c)) + 2.0 * winsorise * c * c


def dispersion_p_value(phi: float, k: int) -> float:
    """P(chi-squared on k - 1 degrees of freedom >= k phi): the test of no overdispersion (NaN below 2 units)."""
    if k < 2 or not np.isfinite(phi):
        return float("nan")
    return float(chi2.sf(k * phi, k - 1))


def estimate_overdispersion(
    observed_proportion: ArrayLike, n: ArrayLike, target: float, winsorise: float = 0.10,
    scale: str = "proportion", consistency_correction: bool = False,
) -> OverdispersionEstimate:
    """Spiegelhalter (2005) overdispersion from winsorised z-scores: phi, its test, and tau2.

    phi = sum(winsorised z^2) / k, divided by :func:`winsorised_normal_mean_square` when
    `consistency_correction` (winsorising alone lowers phi by about a third at 10%, which
    understates tau2 and flags ordinary variation); the test compares k phi with chi-squared on k - 1
    degrees of freedom (the DerSimonian-Laird Q test when the target is the pooled value);
    tau2 = max(0, (k phi - (k - 1)) / (sum(w) - sum(w^2) / sum(w))) with w = 1 / s^2 on the
    chosen scale.  Units with missing values or n = 0 are left out (k counts the rest);
    with no units phi and tau2 are NaN, with one unit tau2 and the p-value are NaN.
    """
    t = _check_target(target)
    if not 0.0 < t < 1.0:
        raise ValueError("overdispersion needs a target strictly between 0 and 1")
    y, sizes = np.broadcast_arrays(
        np.asarray(observed_proportion, dtype=float), np.asarray(n, dtype=float)
    )
    z = np.ravel(z_scores(y, sizes, t, scale))
    keep = np.isfinite(z)
    sizes = np.ravel(sizes)[keep]
    phi, k = dispersion_ratio(z[keep], winsorise)
    if consistency_correction:
        phi /= winsorised_normal_mean_square(winsorise)
    tau2 = float("nan")
    if k >= 2:
        w = 1.0 / _scaled(np.full(sizes.shape, t), sizes, t, scale)[2]
        spread = w.sum() - (w**2).sum() / w.sum()
        tau2 = max(0.0, (k * phi - (k - 1)) / spread)
    return OverdispersionEstimate(phi=phi, tau2=float(tau2), k=k, winsorised=winsorise,
                                  phi_p_value=dispersion_p_value(phi, k), scale=scale,
                                  consistency_corrected=consistency_correction and winsorise > 0)


def choose_overdispersion_model(requested: str, estimate: OverdispersionEstimate | None, alpha: float) -> str:
    """The model to apply: as requested, or for "auto" additive where the dispersion test rejects at `alpha`."""
    if requested not in OVERDISPERSION_CHOICES:
        raise ValueError(f"unknown overdispersion choice {requested!r}; allowed: {', '.join(OVERDISPERSION_CHOICES)}")
    if requested == "none" or estimate is None or estimate.k < 2:
        return "none"
    if requested == "auto":
        return "additive" if estimate.is_overdispersed(alpha) else "none"
    return requested


def _p_text(p: float) -> str:
    return "p < 0.001" if p < 0.001 else f"p = {format_fixed(p, 3)}"


def _dispersion_text(estimate: OverdispersionEstimate, unit_word: str) -> str:
    winsorised = "not winsorised" if estimate.winsorised == 0 else f"{format_fixed(estimate.winsorised * 100, 0)}% winsorised"
    if estimate.consistency_corrected:
        winsorised += " and consistency-corrected"
    test = f"; {_p_text(estimate.phi_p_value)}" if np.isfinite(estimate.phi_p_value) else ""
    return f"\u03c6 = {format_fixed(estimate.phi, 2)} from {estimate.k} {unit_word}, {winsorised}{test}"


def describe_limits(method: str, model: str, estimate: OverdispersionEstimate | None, requested: str = "",
                    unit_word: str = "units") -> str:
    """A plain statement of the limits used: method, overdispersion model and its parameters."""
    base = METHODS[method]
    if estimate is None or not np.isfinite(estimate.phi):
        return base + ("; no overdispersion adjustment" if requested in ("", "none") else
                       "; too few units to assess overdispersion")
    dispersion = _dispersion_text(estimate, unit_word)
    scale = " on the arcsine square-root scale" if estimate.scale == "arcsine" else ""
    if model == "additive" and estimate.tau2 > 0:
        return (f"additive random-effects limits{scale} (Spiegelhalter 2005): overdispersed "
                f"({dispersion}), \u03c4\u00b2 = {estimate.tau2:.3g}")
    if model == "multiplicative" and estimate.phi > 1:
        return (f"multiplicative overdispersion limits{scale} (Spiegelhalter 2005): limits widened by "
                f"\u221a\u03c6 ({dispersion})")
    if requested == "none":
        return f"{base}; no overdispersion adjustment ({dispersion})"
    if requested == "auto":
        return f"{base}; not overdispersed ({dispersion}), so not adjusted"
    return f"{base}; {requested} overdispersion adjustment not needed ({dispersion})"


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
    only when tau2 > 0), both needing `estimate`, on the estimate's scale (proportion or
    arcsine square root).  The `method` column states exactly what was used
    (:func:`describe_limits`), including when an adjustment was requested but not applied.
    """
    if method not in METHODS:
        raise ValueError(f"unknown funnel method {method!r}; allowed: {', '.join(METHODS)}")
    if overdispersion not in OVERDISPERSION_MODELS:
        raise ValueError(
            f"unknown overdispersion model {overdispersion!r}; "
            f"allowed: {', '.join(OVERDISPERSION_MODELS)}"
        )
    base = binomial_funnel_limits if method == "binomial" else wilson_funnel_limits
    if overdispersion != "none" and estimate is None:
        raise ValueError(
            f"overdispersion={overdispersion!r} needs estimate=estimate_overdispersion(...)"
        )
    if overdispersion == "multiplicative" and not np.isfinite(estimate.phi):
        raise ValueError("the overdispersion estimate has no phi (too few units)")
    if overdispersion == "additive" and not np.isfinite(estimate.tau2):
        raise ValueError("the overdispersion estimate has no tau2 (too few units)")
    adjusted = ((overdispersion == "multiplicative" and estimate.phi > 1.0)
                or (overdispersion == "additive" and estimate.tau2 > 0.0))
    if not adjusted:
        frame = base(target, n)
    else:
        t = _check_target(target)
        given, sizes = _as_sizes(n, whole=False)
        if overdispersion == "multiplicative":
            phi = estimate.phi
            frame = _frame(given, t, _normal_limits(t, sizes, lambda s2: phi * s2, estimate.scale))
        else:
            tau2 = estimate.tau2
            frame = _frame(given, t, _normal_limits(t, sizes, lambda s2: s2 + tau2, estimate.scale))
    frame["method"] = describe_limits(method, overdispersion, estimate, overdispersion)
    return frame
