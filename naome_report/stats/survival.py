"""Kaplan-Meier overall survival, vectorised across many groups at once.

Conventions (stated here once, for the methodology supplement)
--------------------------------------------------------------
* Estimator: Kaplan-Meier product limit, S(t) = prod over event times t_i <= t of
  (1 - d_i / n_i), where n_i counts everyone whose duration is >= t_i. When a death and a
  censoring share a time, the death is taken to come first: the censored patient is still
  at risk at that time (the usual convention, as in R's ``survival`` and lifelines).
* Variance: Greenwood, var(log S(t)) = sum d_i / (n_i (n_i - d_i)); ``std_error`` is the
  standard error of S(t) itself, S(t) sqrt(var log S(t)), as R's ``std.err``.
* Confidence interval: the log(-log) ("log-log", exponential Greenwood) transform, as
  lifelines and SAS PROC LIFETEST; R's ``survfit`` default is ``conf.type="log"`` so R
  must be asked for ``conf.type="log-log"`` to reproduce it. The interval is
  S^exp(+z se/log S) ... S^exp(-z se/log S) with se = sqrt(var log S); it always lies in
  (0, 1). Where S = 1 (no death yet) the interval is [1, 1]; where S = 0 the standard error
  and the interval are undefined (NaN), as in R.
* Survival at a time t beyond the longest follow-up in a group is not estimable (NaN, with
  a reason), unless the curve has already reached 0, which stays 0.
* Inputs: durations finite and >= 0 (e.g. days from MBC diagnosis to death or data
  cut-off), events 0/1 (1 = death); anything else raises ValueError.
* :func:`kaplan_meier` without ``timeline``: one row per distinct observed time (deaths or
  censorings) with the number at risk just before it and the deaths and censorings at it.
  With ``timeline``: one row per sorted distinct timeline point, ``events``/``censored``
  counting those since the previous point (as R's ``summary(fit, times=)``).
* :func:`survival_at` columns: time, survival, ci_lower, ci_upper, at_risk (duration >=
  time), n, events_total (all deaths in the group), events_by_time (deaths at or before
  time), reason (None, "no patients" or "follow-up shorter than time").
* :func:`survival_by_group`: groups in category order for a categorical ``groups`` (an
  empty category gets "no patients" rows), otherwise sorted; then the ``all_label`` rows
  for everyone. A patient with a missing group label counts in the ``all_label`` rows only.
  One pass over all groups: ~50k patients in ~600 groups take well under a second.
* Median: the smallest time at which S(t) <= 0.5; if S(t) equals 0.5 exactly (within
  sqrt(machine epsilon)) over an interval, the midpoint between that time and the next
  death time, as R's ``survfit`` (lifelines reports the start of the interval instead).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

__all__ = [
    "REASON_NO_PATIENTS",
    "REASON_SHORT_FOLLOW_UP",
    "kaplan_meier",
    "survival_at",
    "survival_by_group",
    "median_survival",
]

REASON_NO_PATIENTS = "no patients"
REASON_SHORT_FOLLOW_UP = "follow-up shorter than time"

_HALF_TOLERANCE = float(np.sqrt(np.finfo(float).eps))

_AT_COLUMNS = [
    "time", "survival", "ci_lower", "ci_upper", "at_risk", "n",
    "events_total", "events_by_time", "reason",
]


# ------------------------------------------------------------------------- helpers


def _z(confidence: float) -> float:
    if not 0 < confidence < 1:
        raise ValueError("confidence must be between 0 and 1")
    return float(stats.norm.ppf(1 - (1 - confidence) / 2))


def _validate(durations: object, events: object) -> tuple[np.ndarray, np.ndarray]:
    t = np.asarray(durations, dtype=float).ravel()
    e = np.asarray(events, dtype=float).ravel()
    if t.shape != e.shape:
        raise ValueError(f"durations and events differ in length ({t.size} and {e.size})")
    if not np.isfinite(t).all():
        raise ValueError("durations must be finite numbers (no missing values)")
    if (t < 0).any():
        raise ValueError("durations must be non-negative")
    if not np.isin(e, (0.0, 1.0)).all():
        raise ValueError("events must be 0/1 (1 = death, 0 = censored), with no missing values")
    return t, e


def _validate_times(times: object) -> np.ndarray:
    q = np.atleast_1d(np.asarray(times, dtype=float)).ravel()
    if not np.isfinite(q).all() or (q < 0).any():
        raise ValueError("times must be finite and non-negative")
    return q


def _loglog_ci(s: np.ndarray, var: np.ndarray, z: float) -> tuple[np.ndarray, np.ndarray]:
    """log(-log) interval from S and the Greenwood variance of log S."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        theta = np.sqrt(var) / np.log(s)  # negative where 0 < S < 1
        lower = s ** np.exp(-z * theta)
        upper = s ** np.exp(z * theta)
    at_one = s >= 1.0
    lower = np.where(at_one, 1.0, lower)
    upper = np.where(at_one, 1.0, upper)
    undefined = (s <= 0.0) | ~np.isfinite(var)
    return np.where(undefined, np.nan, lower), np.where(undefined, np.nan, upper)


class _Curves:
    """Kaplan-Meier steps for several groups at once, one row per (group, distinct time)."""

    def __init__(self, t: np.ndarray, e: np.ndarray, codes: np.ndarray, n_groups: int):
        self.n_groups = n_groups
        self.n = np.bincount(codes, minlength=n_groups).astype(np.int64)
        self.events_total = np.bincount(codes, weights=e, minlength=n_groups).astype(np.int64)
        if t.size == 0:
            empty_i = np.zeros(0, dtype=np.int64)
            empty_f = np.zeros(0)
            self.group, self.time = empty_i, empty_f
            self.events = self.censored = self.at_risk = empty_i
            self.cum_events = self.cum_exits = empty_i
            self.survival = self.var = empty_f
            self.max_time = np.full(n_groups, np.nan)
            self.last_survival = np.full(n_groups, np.nan)
            return
        # Count exits and events per (group, distinct time) cell; cells in key order are sorted by group, then time.
        distinct, rank = np.unique(t, return_inverse=True)
        width = distinct.size
        key = codes.astype(np.int64) * width + rank
        if n_groups * width <= 20_000_000:  # dense counting: no sort of the patients
            exits_all = np.bincount(key, minlength=n_groups * width)
            cells = np.flatnonzero(exits_all)
            exits = exits_all[cells].astype(np.int64)
            self.events = np.bincount(key, weights=e, minlength=n_groups * width)[cells].astype(np.int64)
        else:
            cells, inverse = np.unique(key, return_inverse=True)
            exits = np.bincount(inverse).astype(np.int64)
            self.events = np.bincount(inverse, weights=e).astype(np.int64)
        self.group = cells // width
        self.time = distinct[cells % width]
        self.censored = exits - self.events
        # Cumulative exits and events within each group, through each row.
        cum_exits = np.cumsum(exits)
        cum_events = np.cumsum(self.events)
        first = np.r_[True, self.group[1:] != self.group[:-1]]
        first_rows = np.flatnonzero(first)
        row_group_start = np.repeat(first_rows, np.diff(np.r_[first_rows, self.group.size]))
        base_exits = cum_exits[row_group_start] - exits[row_group_start]
        base_events = cum_events[row_group_start] - self.events[row_group_start]
        self.cum_exits = cum_exits - base_exits
        self.cum_events = cum_events - base_events
        self.at_risk = self.n[self.group] - (self.cum_exits - exits)
        d = self.events.astype(float)
        r = self.at_risk.astype(float)
        with np.errstate(divide="ignore", invalid="ignore"):
            factor = 1.0 - d / r
            green = np.where(d > 0, d / (r * (r - d)), 0.0)  # inf where everyone at risk dies
        grouped = pd.DataFrame({"g": self.group, "f": factor, "v": green}).groupby("g", sort=False)
        self.survival = grouped["f"].cumprod().to_numpy()
        self.var = grouped["v"].cumsum().to_numpy()
        last_rows = np.r_[first_rows[1:], self.group.size] - 1
        self.max_time = np.full(n_groups, np.nan)
        self.max_time[self.group[last_rows]] = self.time[last_rows]
        self.last_survival = np.full(n_groups, np.nan)
        self.last_survival[self.group[last_rows]] = self.survival[last_rows]

    def lookup(self, qgroup: np.ndarray, qtime: np.ndarray, z: float) -> dict[str, np.ndarray]:
        """Curve values at each (group, time) query pair."""
        m = qgroup.size
        n = self.n[qgroup] if m else np.zeros(0, dtype=np.int64)
        if self.time.size:
            grid = np.unique(np.r_[self.time, qtime])
            width = grid.size + 1
            key_rows = self.group * width + np.searchsorted(grid, self.time)
            key_q = qgroup.astype(np.int64) * width + np.searchsorted(grid, qtime)
            at_or_before = np.searchsorted(key_rows, key_q, side="right") - 1
            before = np.searchsorted(key_rows, key_q, side="left") - 1
            ok_le = (at_or_before >= 0) & (self.group[np.maximum(at_or_before, 0)] == qgroup)
            ok_lt = (before >= 0) & (self.group[np.maximum(before, 0)] == qgroup)
            idx_le = np.maximum(at_or_before, 0)
            idx_lt = np.maximum(before, 0)
            s = np.where(ok_le, self.survival[idx_le], 1.0)
            var = np.where(ok_le, self.var[idx_le], 0.0)
            events_by = np.where(ok_le, self.cum_events[idx_le], 0)
            exits_before = np.where(ok_lt, self.cum_exits[idx_lt], 0)
        else:
            s = np.ones(m)
            var = np.zeros(m)
            events_by = np.zeros(m, dtype=np.int64)
            exits_before = np.zeros(m, dtype=np.int64)
        at_risk = n - exits_before
        lower, upper = _loglog_ci(s, var, z)
        with np.errstate(invalid="ignore"):
            std_error = s * np.sqrt(var)
        std_error = np.where(s <= 0, np.nan, std_error)
        reason = np.full(m, None, dtype=object)
        no_patients = n == 0
        max_time = self.max_time[qgroup] if m else np.zeros(0)
        last_s = self.last_survival[qgroup] if m else np.zeros(0)
        beyond = ~no_patients & (qtime > max_time) & (last_s > 0)
        reason[beyond] = REASON_SHORT_FOLLOW_UP
        reason[no_patients] = REASON_NO_PATIENTS
        blank = no_patients | beyond
        nan = np.nan
        return {
            "survival": np.where(blank, nan, s),
            "std_error": np.where(blank, nan, std_error),
            "ci_lower": np.where(blank, nan, lower),
            "ci_upper": np.where(blank, nan, upper),
            "at_risk": at_risk,
            "n": n,
            "events_total": self.events_total[qgroup] if m else np.zeros(0, dtype=np.int64),
            "events_by_time": events_by,
            "reason": reason,
        }


# ---------------------------------------------------------------------- public API


def kaplan_meier(
    durations: object,
    events: object,
    timeline: object | None = None,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Kaplan-Meier table with Greenwood standard error and log(-log) confidence interval."""
    z = _z(confidence)
    t, e = _validate(durations, events)
    curves = _Curves(t, e, np.zeros(t.size, dtype=np.int64), 1)
    columns = ["time", "at_risk", "events", "censored", "survival", "std_error", "ci_lower", "ci_upper"]
    if timeline is None:
        lower, upper = _loglog_ci(curves.survival, curves.var, z)
        with np.errstate(invalid="ignore"):
            std_error = np.where(curves.survival > 0, curves.survival * np.sqrt(curves.var), np.nan)
        return pd.DataFrame(
            {
                "time": curves.time,
                "at_risk": curves.at_risk,
                "events": curves.events,
                "censored": curves.censored,
                "survival": curves.survival,
                "std_error": std_error,
                "ci_lower": lower,
                "ci_upper": upper,
            },
            columns=columns,
        )
    q = np.unique(_validate_times(timeline))
    values = curves.lookup(np.zeros(q.size, dtype=np.int64), q, z)
    # Deaths and censorings in (previous point, this point]; everyone exits at or before max time.
    cum_events = values["events_by_time"]
    exits_le = values["n"] - _at_risk_after(curves, q)
    cum_censored = exits_le - cum_events
    return pd.DataFrame(
        {
            "time": q,
            "at_risk": values["at_risk"],
            "events": np.diff(np.r_[0, cum_events]),
            "censored": np.diff(np.r_[0, cum_censored]),
            "survival": values["survival"],
            "std_error": values["std_error"],
            "ci_lower": values["ci_lower"],
            "ci_upper": values["ci_upper"],
        },
        columns=columns,
    )


def _at_risk_after(curves: _Curves, q: np.ndarray) -> np.ndarray:
    """Number of a single curve's patients with duration > q."""
    if curves.time.size == 0:
        return np.zeros(q.size, dtype=np.int64)
    idx = np.searchsorted(curves.time, q, side="right") - 1
    exited = np.where(idx >= 0, curves.cum_exits[np.maximum(idx, 0)], 0)
    return curves.n[0] - exited


def survival_at(
    durations: object, events: object, times: object, confidence: float = 0.95
) -> pd.DataFrame:
    """Kaplan-Meier survival and log(-log) CI at each requested time, with a reason where not estimable."""
    z = _z(confidence)
    t, e = _validate(durations, events)
    q = _validate_times(times)
    curves = _Curves(t, e, np.zeros(t.size, dtype=np.int64), 1)
    values = curves.lookup(np.zeros(q.size, dtype=np.int64), q, z)
    values["time"] = q
    return pd.DataFrame({c: values[c] for c in _AT_COLUMNS}, columns=_AT_COLUMNS)


def survival_by_group(
    durations: object,
    events: object,
    groups: object,
    times: object,
    confidence: float = 0.95,
    all_label: str | None = "All",
) -> pd.DataFrame:
    """:func:`survival_at` for every group and for everyone (``all_label``; None leaves it out), as one long table."""
    z = _z(confidence)
    t, e = _validate(durations, events)
    q = _validate_times(times)
    g = groups if isinstance(groups, (pd.Series, pd.Categorical, pd.Index)) else np.asarray(groups, dtype=object)
    if len(g) != t.size:
        raise ValueError(f"groups has {len(g)} values but durations has {t.size}")
    if isinstance(getattr(g, "dtype", None), pd.CategoricalDtype):
        cat = pd.Categorical(g)
        codes = np.asarray(cat.codes, dtype=np.int64)
        labels = list(cat.categories)
    else:
        try:
            codes, uniques = pd.factorize(np.asarray(g, dtype=object), sort=True)
        except TypeError:  # unorderable mixture of labels: keep first-seen order
            codes, uniques = pd.factorize(np.asarray(g, dtype=object), sort=False)
        labels = list(uniques)
    if all_label is not None and any(lbl == all_label for lbl in labels):
        raise ValueError(f"a group is already called {all_label!r}; choose another all_label")
    n_groups = len(labels)
    keep = codes >= 0
    if all_label is None:
        curves = _Curves(t[keep], e[keep], codes[keep], n_groups)
        names = labels
    else:
        all_codes = np.r_[codes[keep], np.full(t.size, n_groups, dtype=np.int64)]
        curves = _Curves(np.r_[t[keep], t], np.r_[e[keep], e], all_codes, n_groups + 1)
        names = labels + [all_label]
    qgroup = np.repeat(np.arange(len(names), dtype=np.int64), q.size)
    qtime = np.tile(q, len(names))
    values = curves.lookup(qgroup, qtime, z)
    values["time"] = qtime
    out = pd.DataFrame({c: values[c] for c in _AT_COLUMNS}, columns=_AT_COLUMNS)
    out.insert(0, "group", np.array(names, dtype=object)[qgroup])
    return out


def median_survival(durations: object, events: object) -> float:
    """Median survival time from the Kaplan-Meier curve (NaN if the curve never falls to one half)."""
    t, e = _validate(durations, events)
    curves = _Curves(t, e, np.zeros(t.size, dtype=np.int64), 1)
    death = curves.events > 0
    times, s = curves.time[death], curves.survival[death]
    below = np.flatnonzero(s <= 0.5 + _HALF_TOLERANCE)
    if below.size == 0:
        return float("nan")
    k = int(below[0])
    if abs(s[k] - 0.5) <= _HALF_TOLERANCE and k + 1 < times.size:
        return float((times[k] + times[k + 1]) / 2.0)
    return float(times[k])
