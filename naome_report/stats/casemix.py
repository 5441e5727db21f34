"""Case-mix adjustment of binary outcome indicators by logistic regression.

Used for outcome indicators such as 30-day mortality after SACT and emergency
admission. The model is a binomial GLM with logit link (statsmodels), fitted to
patient-level data; an organisation's expected count is the sum of its patients'
predicted probabilities, and its adjusted rate is O/E x the national observed rate
(naome-domain.md section 5).

Conventions
-----------
* Rows with a missing outcome are dropped from the fit; their ``predicted`` value is NaN.
* Missing values of a *categorical* covariate are kept as an explicit level named
  ``"Unknown"`` (missing data as its own category, as national audits do), so no patient
  is lost from the adjustment because one item was not recorded. A value already
  spelled ``"Unknown"`` in the data joins the same level.
* Missing values of a *numeric* covariate are an error: band the variable (and it then
  gets an ``"Unknown"`` band) rather than impute silently.
* ``categorical`` names the covariates treated as categories; by default those with a
  non-numeric or boolean dtype. The others enter as numeric (linear) terms.
* Categorical covariates use treatment (dummy) coding against a reference level: the
  one given in ``reference_levels``, otherwise the most frequent recorded level (never
  ``"Unknown"`` unless it is the only level). Numbers used as categories (deprivation
  quintile 1-5) are labelled by their integer value (``"3"``, not ``"3.0"``).
* Nothing is merged or dropped silently. An empty level, a level in which every
  patient or no patient had the outcome (perfect separation), a covariate with a single
  level, aliased (collinear) terms, diverging estimates or a fit that does not converge
  raise :class:`CasemixError` naming the covariate and the problem, for the analyst to
  decide (for example merge two age bands) and say so in the methodology.

Diagnostics and outputs
-----------------------
* c-statistic: area under the ROC curve, the Mann-Whitney U / (n1 n0), ties counting 1/2.
* Calibration and Hosmer-Lemeshow: groups cut at quantiles of predicted risk (default
  deciles) with tied predictions kept in one group, intervals closed on the right as R's
  ``cut(..., include.lowest=TRUE)``; empty groups are dropped. HL = sum over groups of
  (O - E)^2 / (E (1 - E/n)) on (groups - 2) df.
* :func:`observed_expected`: per group n, O, E = sum of predicted probabilities, O/E, its
  confidence interval and the adjusted rate O/E x national observed rate (and its interval).
  The national rate is taken over every row with an outcome and a prediction; rows with
  no group label count nationally but get no group row. Rows with a missing outcome or
  prediction are ignored throughout, here and in the diagnostics.
* :func:`oe_ratio_interval` treats O as Poisson and E as fixed. ``method="exact"``
  (default): exact Poisson limits through the chi-square distribution (Garwood 1936; Ulm,
  Am J Epidemiol 1990), lower = chi2(alpha/2; 2O) / 2E, upper = chi2(1 - alpha/2; 2O + 2) / 2E,
  lower = 0 when O = 0. ``method="byar"``: Byar's approximation (Breslow & Day 1987),
  lower = O (1 - 1/(9O) - z/(3 sqrt O))^3 / E, upper = (O+1) (1 - 1/(9(O+1)) + z/(3 sqrt(O+1)))^3 / E,
  within 0.2% of exact at 95% for O >= 10. Limits are NaN where E <= 0 or an input is missing.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.linalg
from scipy import stats
# The GLM alone, not statsmodels.api (which imports every model: a second more for each build).
from statsmodels.genmod import families
from statsmodels.genmod.generalized_linear_model import GLM
from statsmodels.tools.sm_exceptions import ConvergenceWarning, PerfectSeparationError, PerfectSeparationWarning

__all__ = [
    "UNKNOWN_LEVEL",
    "CasemixError",
    "CasemixModel",
    "HosmerLemeshow",
    "fit_casemix_model",
    "c_statistic",
    "calibration_by_decile",
    "hosmer_lemeshow",
    "observed_expected",
    "oe_ratio_interval",
]

UNKNOWN_LEVEL = "Unknown"

# A level's log odds ratio beyond |15| (odds ratio > 3 million) or any standard error above
# 1000 only arises when the likelihood has no finite maximum (numeric terms and the
# intercept are judged by their standard error alone: their scale depends on units).
_MAX_ABS_ESTIMATE = 15.0
_MAX_STD_ERROR = 1e3


class CasemixError(ValueError):
    """The case-mix model cannot be fitted as specified; the message names the cause."""


@dataclass(frozen=True)
class HosmerLemeshow:
    """Hosmer-Lemeshow goodness-of-fit test result."""

    statistic: float
    df: int
    p_value: float


@dataclass(frozen=True)
class CasemixModel:
    """A fitted case-mix logistic regression and its diagnostics."""

    outcome: str
    covariates: list[str]
    n: int
    events: int
    predicted: np.ndarray
    coefficients: pd.DataFrame
    c_statistic: float
    calibration: pd.DataFrame
    hosmer_lemeshow: HosmerLemeshow
    converged: bool
    formula: str


# --------------------------------------------------------------------------- helpers


def _as_float_array(x: object, name: str) -> np.ndarray:
    arr = np.asarray(x, dtype=float)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional")
    return arr


def _paired(y: object, p: object) -> tuple[np.ndarray, np.ndarray]:
    """Outcome and probability as float arrays, rows with either missing removed."""
    y = _as_float_array(y, "y")
    p = _as_float_array(p, "p")
    if y.shape != p.shape:
        raise ValueError(f"y and p differ in length ({y.size} and {p.size})")
    keep = ~(np.isnan(y) | np.isnan(p))
    y, p = y[keep], p[keep]
    if not np.isin(y, (0.0, 1.0)).all():
        raise ValueError("y must be 0/1 (or missing)")
    if ((p < 0) | (p > 1)).any():
        raise ValueError("p must be probabilities in [0, 1]")
    return y, p


def _label(value: object) -> str:
    """Text label of a category value; integral numbers print without a decimal point."""
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    return str(value)


def _sort_key(label: str) -> tuple[int, float, str]:
    try:
        return (0, float(label), label)
    except ValueError:
        return (1, 0.0, label)


# --------------------------------------------------------------------- diagnostics


def c_statistic(y: object, p: object) -> float:
    """Area under the ROC curve (concordance) of predicted probabilities against 0/1 outcomes."""
    y, p = _paired(y, p)
    n1 = int(y.sum())
    n0 = y.size - n1
    if n1 == 0 or n0 == 0:
        return float("nan")
    ranks = stats.rankdata(p)  # average ranks: a tied pair counts one half
    return float((ranks[y == 1].sum() - n1 * (n1 + 1) / 2.0) / (n1 * n0))


def _risk_groups(p: np.ndarray, groups: int) -> np.ndarray:
    """0-based risk-group index per row: quantile cut points, ties kept in one group."""
    if groups < 1:
        raise ValueError("groups must be at least 1")
    breaks = np.quantile(p, np.linspace(0.0, 1.0, groups + 1))
    # Intervals (b0, b1], (b1, b2], ... with the lowest closed, as R's cut(include.lowest=TRUE).
    idx = np.searchsorted(breaks[1:-1], p, side="left")
    _, dense = np.unique(idx, return_inverse=True)  # drop empty groups from duplicated breaks
    return dense


def calibration_by_decile(y: object, p: object, groups: int = 10) -> pd.DataFrame:
    """Observed and expected outcome counts and rates by group (default deciles) of predicted risk."""
    y, p = _paired(y, p)
    columns = ["decile", "n", "observed", "expected", "observed_rate", "expected_rate"]
    if y.size == 0:
        return pd.DataFrame({c: pd.Series(dtype=float) for c in columns})
    g = _risk_groups(p, groups)
    k = int(g.max()) + 1
    n = np.bincount(g, minlength=k)
    observed = np.bincount(g, weights=y, minlength=k)
    expected = np.bincount(g, weights=p, minlength=k)
    return pd.DataFrame(
        {
            "decile": np.arange(1, k + 1),
            "n": n,
            "observed": observed.astype(int),
            "expected": expected,
            "observed_rate": observed / n,
            "expected_rate": expected / n,
        }
    )


def hosmer_lemeshow(y: object, p: object, groups: int = 10) -> HosmerLemeshow:
    """Hosmer-Lemeshow chi-square test of calibration over groups of predicted risk (df = groups - 2)."""
    cal = calibration_by_decile(y, p, groups)
    k = len(cal)
    df = k - 2
    if df < 1:
        return HosmerLemeshow(float("nan"), max(df, 0), float("nan"))
    o = cal["observed"].to_numpy(float)
    e = cal["expected"].to_numpy(float)
    n = cal["n"].to_numpy(float)
    # Sum over both outcome cells: (O-E)^2/E + (O-E)^2/(n-E) = (O-E)^2 / (E (1 - E/n)).
    denom = e * (1.0 - e / n)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(denom > 0, (o - e) ** 2 / denom, np.where(o == e, 0.0, np.inf))
    statistic = float(terms.sum())
    return HosmerLemeshow(statistic, df, float(stats.chi2.sf(statistic, df)))


# --------------------------------------------------------------------- O/E and CIs


def oe_ratio_interval(
    observed: object, expected: object, confidence: float = 0.95, method: str = "exact"
) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper confidence limits for O/E, O Poisson and E fixed ("exact" or "byar")."""
    if not 0 < confidence < 1:
        raise ValueError("confidence must be between 0 and 1")
    o = np.atleast_1d(np.asarray(observed, dtype=float))
    e = np.atleast_1d(np.asarray(expected, dtype=float))
    o, e = np.broadcast_arrays(o, e)
    if (o[~np.isnan(o)] < 0).any():
        raise ValueError("observed counts must be non-negative")
    alpha = 1.0 - confidence
    valid = ~np.isnan(o) & ~np.isnan(e) & (e > 0)
    lower_count = np.full(o.shape, np.nan)
    upper_count = np.full(o.shape, np.nan)
    ov = o[valid]
    if method == "exact":
        lo = np.where(ov > 0, stats.chi2.ppf(alpha / 2, np.where(ov > 0, 2 * ov, 1)) / 2, 0.0)
        hi = stats.chi2.ppf(1 - alpha / 2, 2 * ov + 2) / 2
    elif method == "byar":
        z = stats.norm.ppf(1 - alpha / 2)
        with np.errstate(divide="ignore", invalid="ignore"):
            lo = np.where(
                ov > 0, ov * (1 - 1 / (9 * ov) - z / (3 * np.sqrt(ov))) ** 3, 0.0
            )
        o1 = ov + 1
        hi = o1 * (1 - 1 / (9 * o1) + z / (3 * np.sqrt(o1))) ** 3
        lo = np.maximum(lo, 0.0)
    else:
        raise ValueError("method must be 'exact' or 'byar'")
    lower_count[valid] = lo
    upper_count[valid] = hi
    with np.errstate(divide="ignore", invalid="ignore"):
        return lower_count / e, upper_count / e


def observed_expected(
    outcome: object,
    predicted: object,
    groups: object,
    confidence: float = 0.95,
    method: str = "exact",
) -> pd.DataFrame:
    """Observed and expected counts, O/E ratio with its CI, and case-mix adjusted rate per group."""
    y = _as_float_array(outcome, "outcome")
    p = _as_float_array(predicted, "predicted")
    g = pd.Series(np.asarray(groups, dtype=object))
    if not (y.size == p.size == len(g)):
        raise ValueError("outcome, predicted and groups differ in length")
    keep = ~(np.isnan(y) | np.isnan(p))
    if not np.isin(y[keep], (0.0, 1.0)).all():
        raise ValueError("outcome must be 0/1 (or missing)")
    y, p, g = y[keep], p[keep], g[keep].reset_index(drop=True)
    columns = [
        "group", "n", "observed", "expected", "oe_ratio", "oe_ci_lower", "oe_ci_upper",
        "adjusted_rate", "adjusted_rate_ci_lower", "adjusted_rate_ci_upper",
    ]
    if y.size == 0:
        return pd.DataFrame({c: pd.Series(dtype=float) for c in columns})
    national_rate = y.sum() / y.size
    frame = pd.DataFrame({"group": g, "y": y, "p": p})
    agg = (
        frame.groupby("group", sort=True, dropna=True)
        .agg(n=("y", "size"), observed=("y", "sum"), expected=("p", "sum"))
        .reset_index()
    )
    agg["observed"] = agg["observed"].astype(int)
    o = agg["observed"].to_numpy(float)
    e = agg["expected"].to_numpy(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        agg["oe_ratio"] = np.where(e > 0, o / e, np.nan)
    lo, hi = oe_ratio_interval(o, e, confidence, method)
    agg["oe_ci_lower"] = lo
    agg["oe_ci_upper"] = hi
    agg["adjusted_rate"] = agg["oe_ratio"] * national_rate
    agg["adjusted_rate_ci_lower"] = lo * national_rate
    agg["adjusted_rate_ci_upper"] = hi * national_rate
    return agg[columns]


# ------------------------------------------------------------------------ the model


def _prepare_categorical(
    column: pd.Series, name: str, reference: object | None
) -> tuple[np.ndarray, np.ndarray, list[str], str]:
    """Each row's code, the label of each code (missing -> Unknown), the non-reference levels in order, and the reference."""
    declared: list[str] | None = None
    if isinstance(column.dtype, pd.CategoricalDtype):
        declared = [_label(c) for c in column.cat.categories]
        codes, uniques = column.cat.codes.to_numpy().astype(np.int64), list(column.cat.categories)
    else:
        codes, uniques = pd.factorize(column)
    names = np.array([_label(u) for u in uniques] + [UNKNOWN_LEVEL], dtype=object)
    codes = np.where(codes < 0, len(uniques), codes)  # missing -> the trailing "Unknown"
    per_code = pd.Series(np.bincount(codes, minlength=len(names)), index=names)
    counts = per_code.groupby(level=0, sort=False).sum()
    counts = counts[counts > 0]
    if declared is not None:
        empty = [lvl for lvl in declared if lvl not in counts.index and lvl != UNKNOWN_LEVEL]
        if empty:
            raise CasemixError(
                f"covariate '{name}': level(s) {empty} have no patients with a recorded "
                "outcome; remove or merge them before fitting"
            )
        order = [lvl for lvl in declared if lvl in counts.index]
        order += sorted((lvl for lvl in counts.index if lvl not in order), key=_sort_key)
    else:
        order = sorted(counts.index, key=_sort_key)
    if UNKNOWN_LEVEL in order:  # Unknown always last
        order = [lvl for lvl in order if lvl != UNKNOWN_LEVEL] + [UNKNOWN_LEVEL]
    if len(order) < 2:
        raise CasemixError(
            f"covariate '{name}' has a single level ({order[0]!r}) among the patients "
            "with a recorded outcome, so its effect cannot be estimated; drop it"
        )
    if reference is None:
        recorded = counts.drop(UNKNOWN_LEVEL, errors="ignore")
        pool = recorded if len(recorded) else counts
        top = pool.max()
        ref = min((lvl for lvl in pool.index if pool[lvl] == top), key=order.index)
    else:
        ref = _label(reference)
        if ref not in counts.index:
            raise CasemixError(
                f"covariate '{name}': reference level {ref!r} is not among its levels "
                f"{order} (patients with a recorded outcome)"
            )
    return codes, names, [lvl for lvl in order if lvl != ref], ref


def _check_separation(labels: np.ndarray, successes: np.ndarray, trials: np.ndarray, name: str) -> None:
    """Fail when a level has no patient, or only patients, with the outcome (labels, events per pattern)."""
    events = pd.DataFrame({"size": trials, "sum": successes}).groupby(labels).sum()
    none = events.index[events["sum"] == 0].tolist()
    every = events.index[events["sum"] == events["size"]].tolist()
    problems = []
    if none:
        problems.append(f"no patient with the outcome in level(s) {none}")
    if every:
        problems.append(f"every patient has the outcome in level(s) {every}")
    if problems:
        raise CasemixError(
            f"covariate '{name}': perfect separation ({'; '.join(problems)}); "
            "its odds ratio would be infinite. Merge the level with a neighbouring one"
        )


def _covariate_patterns(columns: dict[str, np.ndarray], n: int) -> np.ndarray:
    """A code per patient, equal for patients with the same value of every covariate."""
    pattern = np.zeros(n, np.int64)
    for values in columns.values():
        codes, uniques = pd.factorize(values, use_na_sentinel=False)
        # Re-factorising keeps the combined code below n, whatever the number of levels.
        pattern = pd.factorize(pattern * len(uniques) + codes)[0]
    return pattern


def _formula_term(name: str, ref: str | None) -> str:
    quoted = name if name.isidentifier() else f'Q("{name}")'
    if ref is None:
        return quoted
    return f"C({quoted}, Treatment(reference={ref!r}))"


def fit_casemix_model(
    data: pd.DataFrame,
    outcome: str,
    covariates: list[str],
    categorical: list[str] | None = None,
    reference_levels: dict[str, str] | None = None,
) -> CasemixModel:
    """Fit a case-mix logistic regression of a 0/1 outcome on patient covariates."""
    covariates = list(covariates)
    reference_levels = dict(reference_levels or {})
    missing_cols = [c for c in [outcome, *covariates] if c not in data.columns]
    if missing_cols:
        raise CasemixError(f"column(s) {missing_cols} not in the data")
    if len(set(covariates)) != len(covariates):
        raise CasemixError("covariates are listed more than once")
    if outcome in covariates:
        raise CasemixError(f"outcome '{outcome}' is also listed as a covariate")
    if categorical is None:
        categorical = [
            c
            for c in covariates
            if pd.api.types.is_bool_dtype(data[c]) or not pd.api.types.is_numeric_dtype(data[c])
        ]
    else:
        categorical = list(categorical)
        stray = [c for c in categorical if c not in covariates]
        if stray:
            raise CasemixError(f"categorical variable(s) {stray} are not covariates")
    stray_refs = [c for c in reference_levels if c not in categorical]
    if stray_refs:
        raise CasemixError(f"reference level given for non-categorical covariate(s) {stray_refs}")

    has_outcome = data[outcome].notna().to_numpy()
    try:
        y = data[outcome][has_outcome].astype(float).to_numpy()
    except (TypeError, ValueError):
        y = np.array([np.nan])
    if not np.isin(y, (0.0, 1.0)).all():
        raise CasemixError(f"outcome '{outcome}' must be 0/1 (or missing)")
    frame = data.loc[has_outcome]
    n = int(y.size)
    events = int(y.sum())
    if n == 0:
        raise CasemixError(f"outcome '{outcome}': no rows with a recorded outcome")
    if events == 0 or events == n:
        raise CasemixError(
            f"outcome '{outcome}': {'no' if events == 0 else 'every'} patient has the outcome "
            f"({events} of {n}); a model cannot be fitted"
        )

    # Patients fall into covariate patterns (the same value of every covariate); fitting the patterns
    # is the patient-level fit with a row per pattern instead of one per patient.
    columns: dict[str, pd.Series] = {}
    levels_of: dict[str, tuple[list[str], str]] = {}
    for cov in covariates:
        col = frame[cov]
        if cov in categorical:
            codes, names, levels, ref = _prepare_categorical(col, cov, reference_levels.get(cov))
            columns[cov] = codes
            levels_of[cov] = (names, levels, ref)
        else:
            values = pd.to_numeric(col, errors="coerce").astype(float)
            bad = ~np.isfinite(values.to_numpy())
            if bad.any():
                k = int(bad.sum())
                raise CasemixError(
                    f"numeric covariate '{cov}' has {k} missing or non-numeric value(s); "
                    "band it (missing becomes an 'Unknown' band) or list it as categorical"
                )
            if values.nunique() < 2:
                raise CasemixError(f"numeric covariate '{cov}' is constant; drop it")
            columns[cov] = values.to_numpy()
    pattern = _covariate_patterns(columns, n)
    first = np.unique(pattern, return_index=True)[1]
    trials = np.bincount(pattern).astype(float)
    successes = np.bincount(pattern, weights=y)

    blocks: list[pd.DataFrame] = [pd.DataFrame({"Intercept": np.ones(len(first))})]
    term_info: list[tuple[str, str, str | None]] = [("Intercept", "Intercept", None)]
    formula_terms: list[str] = []
    for cov in covariates:
        values = columns[cov][first]
        if cov in levels_of:
            names, levels, ref = levels_of[cov]
            values = names[values]
            _check_separation(values, successes, trials, cov)
            blocks.append(pd.DataFrame({f"{cov}[T.{lvl}]": (values == lvl).astype(float) for lvl in levels}))
            term_info += [(f"{cov}[T.{lvl}]", cov, lvl) for lvl in levels]
            formula_terms.append(_formula_term(cov, ref))
        else:
            blocks.append(pd.DataFrame({cov: values.astype(float)}))
            term_info.append((cov, cov, None))
            formula_terms.append(_formula_term(cov, None))
    X = pd.concat(blocks, axis=1)
    formula = f"{_formula_term(outcome, None)} ~ " + (" + ".join(formula_terms) or "1")

    # Aliased terms (a level identical to another covariate's level, collinear numerics). The patterns
    # span the same column space as the patients' rows, so the rank is the same.
    _, r_diag, piv = scipy.linalg.qr(X.to_numpy(), mode="economic", pivoting=True)
    diag = np.abs(np.diag(r_diag))
    tol = diag.max() * max(X.shape) * np.finfo(float).eps
    rank = int((diag > tol).sum())
    if rank < X.shape[1]:
        xm = X.to_numpy()
        kept, dropped = piv[:rank], piv[rank:]
        weights = np.linalg.lstsq(xm[:, kept], xm[:, dropped], rcond=None)[0]
        involved = set(dropped) | {kept[i] for i in np.flatnonzero(np.abs(weights).max(axis=1) > 1e-8)}
        terms = [term_info[j][0] for j in sorted(involved)]
        covs = sorted({term_info[j][1] for j in involved} - {"Intercept"})
        raise CasemixError(
            f"covariate(s) {covs} are collinear: term(s) {terms} are linearly dependent "
            "(one is a combination of the others); drop or merge them"
        )

    # Each pattern enters as one row with the outcome and one without, weighted by how many patients
    # each stands for: frequency weights, the patient-level fit exactly (standard errors included).
    weight = np.concatenate([successes, trials - successes])
    used = weight > 0
    model = GLM(np.repeat([1.0, 0.0], len(first))[used], np.vstack([X.to_numpy(), X.to_numpy()])[used],
                   family=families.Binomial(), freq_weights=weight[used])
    try:
        with warnings.catch_warnings(), np.errstate(over="ignore", divide="ignore", invalid="ignore"):
            warnings.simplefilter("error", PerfectSeparationWarning)
            warnings.simplefilter("ignore", ConvergenceWarning)
            result = model.fit(maxiter=100)
    except (PerfectSeparationError, PerfectSeparationWarning) as exc:
        raise CasemixError(
            f"perfect separation: the covariates {covariates} predict the outcome exactly; "
            "simplify the model"
        ) from exc
    estimates = np.asarray(result.params, dtype=float)
    se = np.asarray(result.bse, dtype=float)
    converged = bool(result.converged)
    is_dummy = np.array([level is not None for _, _, level in term_info])
    diverging = (is_dummy & (np.abs(estimates) > _MAX_ABS_ESTIMATE)) | ~(se < _MAX_STD_ERROR)
    if not converged or diverging.any():
        idx = np.flatnonzero(diverging) if diverging.any() else np.arange(len(term_info))
        covs = sorted({term_info[j][1] for j in idx})
        cause = "did not converge" if not converged else "has diverging estimates"
        raise CasemixError(
            f"the model {cause} (terms {[term_info[j][0] for j in idx]}, covariate(s) {covs}); "
            "this usually means (quasi-)perfect separation: merge sparse levels or drop the covariate"
        )

    z = stats.norm.ppf(0.975)
    coefficients = pd.DataFrame(
        {
            "term": [t[0] for t in term_info],
            "covariate": [t[1] for t in term_info],
            "level": [t[2] for t in term_info],
            "estimate": estimates,
            "std_error": se,
            "odds_ratio": np.exp(estimates),
            "or_ci_lower_95": np.exp(estimates - z * se),
            "or_ci_upper_95": np.exp(estimates + z * se),
            "p_value": 2 * stats.norm.sf(np.abs(estimates / se)),
        }
    )
    fitted = np.asarray(result.predict(X.to_numpy()), dtype=float)[pattern]
    predicted = np.full(len(data), np.nan)
    predicted[has_outcome] = fitted
    return CasemixModel(
        outcome=outcome,
        covariates=covariates,
        n=n,
        events=events,
        predicted=predicted,
        coefficients=coefficients,
        c_statistic=c_statistic(y, fitted),
        calibration=calibration_by_decile(y, fitted),
        hosmer_lemeshow=hosmer_lemeshow(y, fitted),
        converged=converged,
        formula=formula,
    )
