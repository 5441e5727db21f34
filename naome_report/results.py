"""The results hub tables: statistics and disclosure control over the indicator counts."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from naome_report.adjusted_intervals import add_adjusted_intervals
from naome_report.breakdowns import breakdown_table
from naome_report.cohort import Cohort, indicator_flags
from naome_report.comparators import add_comparators
from naome_report.completeness import casemix_completeness_flags, completeness_table, suppressed_indicator_counts
from naome_report.config import Config
from naome_report.indicators import NATIONAL_CODE, PatientCodes, all_indicator_counts, entity_table, periods_for
from naome_report.method_settings import DisclosureSettings, MethodSettings, method_settings
from naome_report.registry import Indicator, Registry
from naome_report.availability import mark_unavailable, unavailable_indicators
from naome_report.stats.casemix import CasemixError, CasemixModel, fit_casemix_model
from naome_report.stats.disclosure import (
    apply_disclosure_control,
    complement_suppression,
    primary_suppression,
    secondary_suppression,
)
from naome_report.stats.funnel import (
    OverdispersionEstimate,
    choose_overdispersion_model,
    describe_limits,
    estimate_overdispersion,
    funnel_limits,
)
from naome_report.stats.outliers import (
    comparison_from_interval,
    comparison_from_position,
    funnel_position,
    outlier_status_from_position,
)
from naome_report.stats.spc import p_chart_columns
from naome_report.stats.survival import kaplan_meier, survival_by_group
from naome_report.stats.wilson import wilson_interval
from naome_report.survival_comparison import survival_comparison_table
from naome_report.year_change import add_year_change

IMPROVEMENT = {"higher_better": "increase", "lower_better": "decrease", "neutral": "neutral"}
DAYS_PER_YEAR = 365.25


@dataclass
class HubTables:
    """Every public table of one run, before writing."""

    indicators: pd.DataFrame
    survival: pd.DataFrame
    survival_curves: pd.DataFrame
    run_charts: pd.DataFrame
    funnel_limits: pd.DataFrame
    funnel_parameters: pd.DataFrame
    cohort_summary: pd.DataFrame
    casemix_models: pd.DataFrame
    casemix_fit: pd.DataFrame
    casemix_calibration: pd.DataFrame
    breakdowns: pd.DataFrame
    data_completeness: pd.DataFrame
    survival_comparison: pd.DataFrame


# --- case-mix -----------------------------------------------------------------------------------

def fit_casemix(registry: Registry, cohort: Cohort, cutoff: pd.Timestamp,
                failures: dict[str, str] | None = None) -> tuple[dict[str, pd.Series], dict[str, CasemixModel]]:
    """Fit each outcome indicator's model on all eligible patients; expected probability per patient.

    A model that cannot be fitted is left out, its reason recorded in `failures` (the indicator is then
    published as not available); without `failures` the CasemixError is raised.
    """
    expected, models = {}, {}
    for ind in registry:
        if not ind.casemix:
            continue
        flags = indicator_flags(ind, cohort, cutoff)
        data = cohort.patients.loc[flags.denominator, ind.casemix["covariates"]].copy()
        data["outcome"] = flags.numerator[flags.denominator].astype(int)
        try:
            model = fit_casemix_model(data, "outcome", ind.casemix["covariates"],
                                      categorical=ind.casemix["covariates"],
                                      reference_levels=ind.casemix.get("reference"))
        except CasemixError as exc:
            if failures is None:
                raise
            failures[ind.id] = str(exc)
            continue
        models[ind.id] = model
        expected[ind.id] = pd.Series(model.predicted, index=data.index)
    return expected, models


def casemix_tables(models: dict[str, CasemixModel]) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Coefficients, fit statistics and calibration of every case-mix model."""
    coefs, fits, calib = [], [], []
    for ind_id, model in models.items():
        coefs.append(model.coefficients.assign(indicator_id=ind_id))
        fits.append({"indicator_id": ind_id, "patients": model.n, "events": model.events,
                     "c_statistic": model.c_statistic, "hosmer_lemeshow_p": model.hosmer_lemeshow.p_value,
                     "formula": model.formula})
        calib.append(model.calibration.assign(indicator_id=ind_id))
    cols = ["indicator_id", "term", "odds_ratio", "or_ci_lower_95", "or_ci_upper_95", "p_value", "estimate", "std_error"]
    coef = pd.concat(coefs, ignore_index=True)[cols] if coefs else pd.DataFrame(columns=cols)
    cal_cols = ["indicator_id", "decile", "n", "observed", "expected", "observed_rate", "expected_rate"]
    cal = pd.concat(calib, ignore_index=True)[cal_cols] if calib else pd.DataFrame(columns=cal_cols)
    fit_cols = ["indicator_id", "patients", "events", "c_statistic", "hosmer_lemeshow_p", "formula"]
    return coef, pd.DataFrame(fits, columns=fit_cols), cal


# --- statistics on the counts ---------------------------------------------------------------------

def _add_rates(frame: pd.DataFrame, registry: Registry) -> pd.DataFrame:
    has_rate = frame.indicator_id.map({i.id: i.has_rate for i in registry})
    num, den = frame.numerator.to_numpy(float), frame.denominator.to_numpy(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        pct = np.where(has_rate & (den > 0), num / den * 100, np.nan)
    lo, hi = wilson_interval(num, np.where(has_rate, den, np.nan))
    frame["percentage"] = pct
    frame["ci_lower_95"] = lo * 100
    frame["ci_upper_95"] = hi * 100
    key = ["indicator_id", "period", "subgroup"]
    national_rows = (frame.org_code == NATIONAL_CODE) & frame.get("available", True)  # no value where none is measured
    national = frame[national_rows].set_index(key).percentage
    frame["national_percentage"] = pd.MultiIndex.from_frame(frame[key]).map(national).to_numpy()
    if "expected" in frame:
        with np.errstate(invalid="ignore", divide="ignore"):
            oe = np.where(frame.expected > 0, frame.numerator / frame.expected, np.nan)
        frame["observed_expected"] = np.where(frame.expected.notna(), oe, np.nan)
        frame["adjusted_percentage"] = frame.observed_expected * frame.national_percentage
    return frame


FUNNEL_PARAMETER_COLUMNS = ["indicator_id", "period", "subgroup", "target", "units", "winsorised", "phi", "phi_p_value",
                            "overdispersed", "overdispersion_model", "tau2", "method"]
LIMIT_COLUMNS = ("lower_95", "upper_95", "lower_998", "upper_998")


def _funnel_value(frame: pd.DataFrame, ind: Indicator, pos: np.ndarray) -> np.ndarray:
    """The value placed on the funnel: the case-mix adjusted percentage for adjusted outcomes, else the percentage."""
    column = "adjusted_percentage" if ind.is_casemix_adjusted else "percentage"
    return frame[column].to_numpy(float)[pos]


def _not_assessed_reason(available: np.ndarray, n: np.ndarray, value: np.ndarray, min_n: int) -> np.ndarray:
    """outlier_note of each organisation: why it is not on the funnel ('' where it is)."""
    return np.select([~available, n == 0, n < min_n, ~np.isfinite(value)],
                     ["not_available", "no_patients", "too_few", "not_available"], "").astype(object)


def _add_funnels(frame: pd.DataFrame, registry: Registry, settings: MethodSettings
                 ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Funnel limits, position, HQIP outlier status and comparison for organisations, from the TRUE counts.

    Runs before disclosure control: a suppressed count is still tested, and its position and
    status are published (its limits are not, as they would reveal its denominator).
    Returns the frame, the limit curves and one row of overdispersion parameters per funnel.
    """
    fs = settings.funnel
    limits_out = {c: np.full(len(frame), np.nan) for c in LIMIT_COLUMNS}
    text = {c: np.full(len(frame), "", dtype=object) for c in ("funnel_method", "funnel_position", "outlier_status",
                                                               "outlier_note", "outlier_process")}
    curves, parameters = [], []
    orgs = (frame.level.eq("organisation") & frame.period_type.ne("quarter")).to_numpy()
    available = frame.available.to_numpy(bool)
    for (ind_id, period, subgroup), pos in frame[orgs].groupby(["indicator_id", "period", "subgroup"]).indices.items():
        pos = np.flatnonzero(orgs)[pos]
        ind = registry.get(ind_id)
        text["outlier_process"][pos] = "yes" if ind.outlier_process else "no"
        target = frame.national_percentage.iat[pos[0]]
        if not ind.has_funnel or not np.isfinite(target):
            text["funnel_position"][pos], text["outlier_note"][pos] = "not_assessed", "not_eligible"
            text["outlier_status"][pos] = "not_assessed" if ind.outlier_process else "not_in_process"
            continue
        value = _funnel_value(frame, ind, pos)
        n = np.nan_to_num(frame.denominator.to_numpy(float)[pos])
        note = _not_assessed_reason(available[pos], n, value, fs.min_denominator)
        usable = note == ""
        t = float(np.clip(target / 100, 1e-9, 1 - 1e-9))
        requested = ind.overdispersion or fs.overdispersion
        estimate = None
        if requested != "none" and usable.sum() >= fs.min_units:
            estimate = estimate_overdispersion(value[usable] / 100, n[usable], t, winsorise=fs.winsorise,
                                               scale=fs.overdispersion_scale,
                                               consistency_correction=fs.consistency_correction)
        model = choose_overdispersion_model(requested, estimate, fs.overdispersion_alpha)
        grid = np.geomspace(1, max(n.max(initial=0), 10) * 1.1, 160).round().astype(int)
        grid_n = np.unique(np.r_[grid, n[n > 0]]).astype(int)
        curve = funnel_limits(t, grid_n, method=fs.method, overdispersion=model, estimate=estimate)
        method = describe_limits(fs.method, model, estimate, requested, unit_word="organisations")
        at = np.searchsorted(grid_n, n.astype(int))
        row_limits = {c: np.where(usable, curve[c].to_numpy()[np.minimum(at, len(grid_n) - 1)] * 100, np.nan)
                      for c in LIMIT_COLUMNS}
        for c in LIMIT_COLUMNS:
            limits_out[c][pos] = row_limits[c]
        position = funnel_position(value, *(row_limits[c] for c in LIMIT_COLUMNS), assessable=usable)
        text["funnel_position"][pos] = position
        text["outlier_status"][pos] = outlier_status_from_position(position, ind.outlier_process)
        text["outlier_note"][pos] = note
        text["funnel_method"][pos] = method
        keep = np.isin(grid_n, grid)
        curves.append(pd.DataFrame({"indicator_id": ind_id, "period": period, "subgroup": subgroup,
                                    "n": grid_n[keep], "target": target,
                                    **{c: curve[c].to_numpy()[keep] * 100 for c in LIMIT_COLUMNS}, "method": method}))
        parameters.append(_parameter_row(ind_id, period, subgroup, target, estimate, model, method,
                                         fs.overdispersion_alpha))
    for c in LIMIT_COLUMNS:
        frame[f"funnel_{c}"] = limits_out[c]
    for column, values in text.items():
        frame[column] = values
    cols = ["indicator_id", "period", "subgroup", "n", "target", *LIMIT_COLUMNS, "method"]
    curve_table = pd.concat(curves, ignore_index=True)[cols] if curves else pd.DataFrame(columns=cols)
    return frame, curve_table, pd.DataFrame(parameters, columns=FUNNEL_PARAMETER_COLUMNS)


def _parameter_row(ind_id: str, period: str, subgroup: str, target: float, estimate: OverdispersionEstimate | None,
                   model: str, method: str, alpha: float) -> dict:
    """One row of naome_funnel_parameters.csv."""
    nan = float("nan")
    applied = model if estimate is not None and (
        (model == "additive" and estimate.tau2 > 0) or (model == "multiplicative" and estimate.phi > 1)) else "none"
    return {"indicator_id": ind_id, "period": period, "subgroup": subgroup, "target": target,
            "units": estimate.k if estimate else nan, "winsorised": estimate.winsorised if estimate else nan,
            "phi": estimate.phi if estimate else nan, "phi_p_value": estimate.phi_p_value if estimate else nan,
            "overdispersed": "" if estimate is None else ("yes" if estimate.is_overdispersed(alpha) else "no"),
            "overdispersion_model": applied, "tau2": estimate.tau2 if applied == "additive" else nan,
            "method": method}


def _add_comparisons(frame: pd.DataFrame, registry: Registry) -> pd.DataFrame:
    """vs_national: organisations from their 95% funnel position, other units from their 95% CI; empty nationally."""
    out = np.full(len(frame), "", dtype=object)
    level = frame.level.to_numpy()
    direction = frame.indicator_id.map({i.id: i.direction for i in registry}).to_numpy()
    for d in np.unique(direction):
        rows = direction == d
        org = rows & (level == "organisation") & (frame.period_type.to_numpy() != "quarter")
        out[org] = comparison_from_position(frame.funnel_position.to_numpy()[org], d)
        agg = rows & np.isin(level, ["nation", "region", "alliance"])
        lower, upper = _comparable_interval(frame, agg)
        out[agg] = comparison_from_interval(lower, upper, frame.national_percentage.to_numpy(float)[agg], d)
    frame["vs_national"] = out
    return frame


def _comparable_interval(frame: pd.DataFrame, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The 95% CI compared with the national value: Wilson, scaled to the adjusted rate for case-mix rows."""
    lower = frame.ci_lower_95.to_numpy(float)[rows]
    upper = frame.ci_upper_95.to_numpy(float)[rows]
    expected = frame.expected.to_numpy(float)[rows]
    adjusted = np.isfinite(expected) & (expected > 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        # O/E x national = (O/n) x (n national / E): the Wilson limits of O/n scale the same way.
        factor = frame.denominator.to_numpy(float)[rows] * frame.national_percentage.to_numpy(float)[rows] / 100 / expected
    return np.where(adjusted, lower * factor, lower), np.where(adjusted, upper * factor, upper)


# --- disclosure control ----------------------------------------------------------------------------

def _disclosure(frame: pd.DataFrame, rules: DisclosureSettings) -> pd.DataFrame:
    """Suppress small numbers once, here at the hub, before any publisher sees the table.

    One rule: a row is suppressed when its numerator, its complement (denominator - numerator)
    or its denominator is a small count, or when publishing it would let a reader recover one
    by subtraction; a suppressed row shows no numerator, denominator, rate or funnel limit
    (which would reveal the denominator), so no 0 is ever shown over a hidden denominator.
    """
    low, high, min_den = rules.suppress_low, rules.suppress_high, rules.min_denominator
    available = frame.available.to_numpy()
    num = np.where(available, frame.numerator, np.nan)
    den = np.where(available, frame.denominator, np.nan)
    rate_rows = frame.has_rate.to_numpy()
    den_for_rule = np.where(rate_rows, den, num)  # counts without a denominator are checked as counts
    decision = apply_disclosure_control(num, den_for_rule, low=low, high=high, min_denominator=min_den)
    hidden = (decision.suppress_numerator | decision.suppress_denominator).to_numpy()
    # Secondary suppression along every additive relation a reader could subtract along:
    # siblings under a published parent; de novo + recurrent = all; quarters and years in a period.
    relations = _additive_groups(frame)
    for _ in range(6):
        before = hidden.sum()
        for groups in relations:
            hidden = secondary_suppression(num, hidden, groups)
            hidden = secondary_suppression(np.where(rate_rows, den, np.nan), hidden, groups)
        if hidden.sum() == before:
            break
    too_few = rate_rows & (den > 0) & (den < min_den)
    empty = rate_rows & (den == 0)
    status = np.select([~available, hidden, empty, too_few],
                       ["not_available", "suppressed", "not_applicable", "too_few"], "published")
    notes = np.select(
        [~available, hidden, empty, too_few],
        [frame.availability_note.to_numpy(),
         f"Suppressed: a count from {low} to {high}, or one that would reveal such a count",
         "No eligible patients", f"Too few patients (denominator under {min_den}) to show a rate"],
        frame.availability_note.to_numpy())
    frame["status"] = status
    frame["status_note"] = notes
    hide_rate = status != "published"
    for col in ("percentage", "ci_lower_95", "ci_upper_95", "observed_expected", "adjusted_percentage",
                "expected", "median_days"):
        if col in frame:
            frame[col] = frame[col].where(~hide_rate)
    for col in ("funnel_lower_95", "funnel_upper_95", "funnel_lower_998", "funnel_upper_998"):
        if col in frame:
            frame[col] = frame[col].where(~hidden & available)
    frame["numerator"] = frame.numerator.where(available & ~hidden)
    frame["denominator"] = frame.denominator.where(available & ~hidden & rate_rows)
    return frame


def _additive_groups(frame: pd.DataFrame) -> list[np.ndarray]:
    """Group labels for each additive relation between rows (NaN = not part of that relation)."""
    base = frame.indicator_id + "|" + frame.period + "|" + frame.subgroup
    siblings = (base + "|" + frame.level + "|" + frame.parent_code.fillna("")).where(frame.level != "national")
    split = (frame.indicator_id + "|" + frame.period + "|" + frame.org_code).where(frame.subgroup.isin(["de_novo", "recurrent"]))
    fy = frame.period.str.slice(0, 7)
    quarters = (frame.indicator_id + "|" + fy + "|" + frame.org_code + "|" + frame.subgroup).where(frame.period_type == "quarter")
    years = (frame.indicator_id + "|" + frame.org_code + "|" + frame.subgroup).where(frame.period_type == "financial_year")
    return [siblings.to_numpy(object), split.to_numpy(object), quarters.to_numpy(object), years.to_numpy(object)]


def _completeness_flags(frame: pd.DataFrame, registry: Registry, threshold: float) -> pd.Series:
    """Flag text where the data item an indicator depends on is recorded for too few patients."""
    flags = pd.Series("", index=frame.index, dtype=object)
    for ind in registry:
        if not ind.completeness_from:
            continue
        source = frame[(frame.indicator_id == ind.completeness_from) & (frame.subgroup == "all")]
        pct = source.set_index(["period", "org_code"]).percentage
        rows = frame.indicator_id == ind.id
        values = pd.MultiIndex.from_frame(frame.loc[rows, ["period", "org_code"]]).map(pct)
        low = pd.Series(values, index=frame.index[rows]) < threshold * 100
        title = registry.get(ind.completeness_from).title_in_sentence
        flags[low[low].index] = [f"Low completeness: {title} {v:.1f}% (threshold {threshold:.0%})"
                                 for v in values[low.to_numpy()]]
    return flags


# --- the indicators table ----------------------------------------------------------------------------

INDICATOR_COLUMNS = [
    "period", "period_type", "level", "nation", "region_code", "region_name", "parent_code", "parent_name", "org_code",
    "org_name", "indicator_id", "indicator_title", "subgroup", "counted", "coverage", "numerator", "denominator",
    "percentage", "ci_lower_95",
    "ci_upper_95", "median_days", "national_percentage", "expected", "observed_expected", "adjusted_percentage",
    "funnel_lower_95", "funnel_upper_95", "funnel_lower_998", "funnel_upper_998", "funnel_method", "funnel_position",
    "outlier_process", "outlier_status", "outlier_note", "vs_national", "completeness_flag", "status", "status_note",
    "synthetic_data"]


@dataclass
class IndicatorTables:
    """The published indicators table, its funnel curves and parameters, and the true counts behind them."""

    published: pd.DataFrame
    funnel_curves: pd.DataFrame
    funnel_parameters: pd.DataFrame
    true_counts: pd.DataFrame  # never written: run charts are computed from it


def indicator_results(counts: pd.DataFrame, registry: Registry, orgs: pd.DataFrame, periods: pd.DataFrame,
                      config: Config, synthetic: bool) -> IndicatorTables:
    """The naome_indicators table (hierarchy first), funnels tested on true counts, then disclosure control."""
    settings = method_settings(config)
    entities = entity_table(orgs)
    frame = counts.merge(entities, on=["level", "org_code"], how="left")
    frame = frame.merge(periods[["period", "period_type", "order"]], on="period", how="left")
    frame["has_rate"] = frame.indicator_id.map({i.id: i.has_rate for i in registry})
    frame["indicator_title"] = frame.indicator_id.map({i.id: i.title for i in registry})
    if "median_days" not in frame:
        frame["median_days"] = np.nan
    if "expected" not in frame:
        frame["expected"] = np.nan
    casemix_ids = {i.id for i in registry if i.is_casemix_adjusted}
    frame["expected"] = frame.expected.where(frame.indicator_id.isin(casemix_ids))
    frame = _add_rates(frame, registry)
    frame, curves, parameters = _add_funnels(frame, registry, settings)
    frame = _add_comparisons(frame, registry)
    true_counts = frame[["indicator_id", "period", "period_type", "level", "org_code", "subgroup", "numerator",
                         "denominator", "available"]].copy()
    # Organisation results by quarter are published only as rolling values in the run charts: quarterly
    # counts beside rolling ones would let a reader recover a small quarter by subtraction.
    frame = frame[~(frame.level.eq("organisation") & frame.period_type.eq("quarter"))].reset_index(drop=True)
    frame = _disclosure(frame, settings.disclosure)
    frame["completeness_flag"] = _completeness_flags(frame, registry, settings.disclosure.completeness_threshold)
    frame["synthetic_data"] = "yes" if synthetic else "no"
    frame["counted"] = frame.indicator_id.map({i.id: i.counted for i in registry})
    frame["coverage"] = frame.indicator_id.map({i.id: i.coverage for i in registry})
    level_order = {lvl: i for i, lvl in enumerate(["national", "nation", "region", "alliance", "organisation"])}
    ind_order = {i.id: k for k, i in enumerate(registry)}
    sub_order = {"all": 0, "de_novo": 1, "recurrent": 2, "triple_negative": 3, "bone_metastases": 4}
    frame = frame.assign(_l=frame.level.map(level_order), _i=frame.indicator_id.map(ind_order),
                         _s=frame.subgroup.map(sub_order))
    frame = frame.sort_values(["order", "_i", "_s", "_l", "nation", "parent_code", "org_code"], kind="stable")
    return IndicatorTables(published=frame[INDICATOR_COLUMNS].reset_index(drop=True), funnel_curves=curves,
                           funnel_parameters=parameters, true_counts=true_counts)


# --- run charts ----------------------------------------------------------------------------------------

RUN_CHART_HIERARCHY = ["period", "period_type", "level", "nation", "region_code", "region_name", "parent_code",
                       "parent_name", "org_code", "org_name", "indicator_id"]
RUN_CHART_COLUMNS = [*RUN_CHART_HIERARCHY, "series", "window_start", "quarter_index", "numerator", "denominator",
                     "percentage", "status", "chart", "centre", "lower_limit", "upper_limit", "special_cause", "rule",
                     "rules_fired", "variation", "limits_status", "limits_segment", "chart_status", "points_published",
                     "improvement_direction", "synthetic_data"]


def _rolling_windows(true_counts: pd.DataFrame, quarters: list[str], window: int) -> pd.DataFrame:
    """Each organisation's rolling sum over `window` quarters, one row per quarter that ends a full window."""
    q = true_counts[true_counts.level.eq("organisation") & true_counts.period_type.eq("quarter")
                    & true_counts.subgroup.eq("all")]
    position = {p: i for i, p in enumerate(quarters)}
    q = q.assign(_q=q.period.map(position)).sort_values(["indicator_id", "org_code", "_q"], kind="stable")
    q = q.assign(_available=q.available.astype(float))
    grouped = q.groupby(["indicator_id", "org_code"], sort=False)[["numerator", "denominator", "_available"]]
    rolled = grouped.rolling(window).sum().droplevel([0, 1])
    # A window is available only if every quarter in it is.
    rolled["available"] = rolled.pop("_available") == window
    out = q[["indicator_id", "org_code", "period", "_q"]].join(rolled)
    out = out[out._q >= window - 1]
    out["window_start"] = [quarters[i - window + 1] for i in out._q]
    return out.drop(columns="_q")


def _rolling_disclosure(rolling: pd.DataFrame, published: pd.DataFrame, periods: pd.DataFrame,
                        rules: DisclosureSettings) -> np.ndarray:
    """Status of each rolling value: the one disclosure rule, and a window that is a financial year keeps that year's status."""
    num = np.where(rolling.available, rolling.numerator, np.nan)
    den = np.where(rolling.available, rolling.denominator, np.nan)
    decision = apply_disclosure_control(num, den, low=rules.suppress_low, high=rules.suppress_high,
                                        min_denominator=rules.min_denominator)
    status = np.where(~rolling.available.to_numpy(), "not_available", decision.status.to_numpy()).astype(object)
    status[(den == 0) & (status == "published")] = "not_applicable"
    # The window ending in a year's last quarter holds the same patients as that year's row.
    year_end = periods[periods.period_type.eq("quarter")].groupby("financial_year").period.max()
    fy_of_end = pd.Series({q: fy for fy, q in year_end.items()})
    fy = rolling.period.map(fy_of_end)
    fy_rows = published[published.level.eq("organisation") & published.period_type.eq("financial_year")
                        & published.subgroup.eq("all")].set_index(["indicator_id", "org_code", "period"]).status
    fy_status = pd.MultiIndex.from_arrays([rolling.indicator_id, rolling.org_code, fy]).map(fy_rows)
    return np.where(pd.notna(fy_status), fy_status, status).astype(object)


def run_chart_table(tables: IndicatorTables, registry: Registry, periods: pd.DataFrame, orgs: pd.DataFrame,
                    config: Config) -> pd.DataFrame:
    """p-chart run charts: a rolling value per quarter for organisations, quarterly values for larger units.

    Limits and rules come from the true counts; what is written follows disclosure control, and a
    series with fewer published points than the configured minimum is not charted.
    """
    settings = method_settings(config)
    spc = settings.spc
    charted = [i.id for i in registry if i.run_chart and i.has_rate]
    quarters = periods[periods.period_type.eq("quarter")].sort_values("order").period.tolist()
    true = tables.true_counts[tables.true_counts.indicator_id.isin(charted)]
    published = tables.published

    # Quarterly series of the national, nation and region rows, with their published status.
    q = true[true.period_type.eq("quarter") & true.subgroup.eq("all") & true.level.isin(["national", "nation", "region"])]
    q = q.merge(published[["indicator_id", "level", "org_code", "period", "subgroup", "status"]],
                on=["indicator_id", "level", "org_code", "period", "subgroup"], how="left")
    q = q.assign(series="quarterly", window_start=q.period)
    rolling = _rolling_windows(true, quarters, spc.rolling_quarters)
    rolling = rolling.assign(level="organisation", period_type="quarter", series=f"rolling_{3 * spc.rolling_quarters}_months",
                             status=_rolling_disclosure(rolling, published, periods, settings.disclosure))
    frame = pd.concat([q.drop(columns="subgroup"), rolling], ignore_index=True)
    frame["_q"] = frame.period.map({p: i for i, p in enumerate(quarters)})
    frame = frame.sort_values(["indicator_id", "level", "org_code", "_q"], kind="stable").reset_index(drop=True)
    frame["quarter_index"] = frame._q + 1

    direction = frame.indicator_id.map({i.id: IMPROVEMENT[i.direction] for i in registry}).to_numpy()
    names = ("centre", "lower", "upper", "chart", "special_cause", "rule", "rules_fired", "variation",
             "limits_status", "limits_segment")
    columns = {k: np.empty(len(frame), dtype=object) for k in names}
    num = np.where(frame.available, frame.numerator, np.nan)
    den = np.where(frame.available, frame.denominator, np.nan)
    is_rolling = frame.series.ne("quarterly").to_numpy()
    for pos in frame.groupby(["indicator_id", "level", "org_code"], sort=False).indices.values():
        analysis = p_chart_columns(num[pos], den[pos], direction[pos[0]], chart=spc.chart,
                                   rules=spc.rolling_rules if is_rolling[pos[0]] else spc.quarterly_rules,
                                   trend_length=spc.trend_length, shift_length=spc.shift_length,
                                   baseline_points=spc.baseline_points,
                                   recalculate_after_shift=spc.recalculate_after_shift,
                                   min_points_before_shift=spc.min_points_before_shift)
        for k in names:
            columns[k][pos] = analysis[k]
    shown = frame.status.eq("published").to_numpy()
    points = pd.Series(shown).groupby([frame.indicator_id, frame.level, frame.org_code]).transform("sum").to_numpy()
    enough = points >= spc.min_published_points
    draw = shown & enough
    out = frame[["period", "period_type", "level", "org_code", "indicator_id", "series", "window_start",
                 "quarter_index", "status"]].copy()
    out["numerator"] = np.where(shown, frame.numerator, np.nan)
    out["denominator"] = np.where(shown, frame.denominator, np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        out["percentage"] = np.where(shown, frame.numerator / frame.denominator * 100, np.nan)
    out["chart"] = np.where(enough, columns["chart"], "")
    # The centre is a property of the whole series; a point's limits reveal its denominator.
    out["centre"] = np.where(enough, columns["centre"].astype(float) * 100, np.nan)
    out["lower_limit"] = np.where(draw, columns["lower"].astype(float) * 100, np.nan)
    out["upper_limit"] = np.where(draw, columns["upper"].astype(float) * 100, np.nan)
    out["special_cause"] = np.where(draw, np.where(columns["special_cause"].astype(bool), "yes", "no"), "")
    out["rule"] = np.where(draw, columns["rule"], "")
    out["rules_fired"] = np.where(draw, columns["rules_fired"], "")
    out["variation"] = np.where(draw, columns["variation"], "not_available")
    out["limits_status"] = np.where(enough, columns["limits_status"], "")
    out["limits_segment"] = np.where(enough, columns["limits_segment"].astype(float), np.nan)
    out["chart_status"] = np.where(enough, "charted", "not_enough_points")
    out["points_published"] = points
    out["improvement_direction"] = direction
    out["synthetic_data"] = published.synthetic_data.iloc[0]
    entities = entity_table(orgs).drop_duplicates(["level", "org_code"]).set_index(["level", "org_code"])
    out = out.join(entities[["nation", "region_code", "region_name", "parent_code", "parent_name", "org_name"]],
                   on=["level", "org_code"])
    level_order = {lvl: i for i, lvl in enumerate(["national", "nation", "region", "organisation"])}
    ind_order = {i.id: k for k, i in enumerate(registry)}
    out = out.assign(_l=out.level.map(level_order), _i=out.indicator_id.map(ind_order))
    out = out.sort_values(["_i", "_l", "nation", "parent_code", "org_code", "quarter_index"], kind="stable")
    return out[RUN_CHART_COLUMNS].reset_index(drop=True)


# --- survival ----------------------------------------------------------------------------------------------

@dataclass
class SurvivalEstimates:
    """Kaplan-Meier estimates from the cohort alone, before disclosure control."""

    by_unit: pd.DataFrame  # every unit, group and time point, with the unit's place in the hierarchy
    curves: pd.DataFrame  # monthly curves: national by group, and every organisation's overall curve


def survival_estimates(cohort: Cohort, orgs: pd.DataFrame, config: Config, synthetic: bool) -> SurvivalEstimates:
    """Kaplan-Meier survival at the configured years, nationally by route and subtype and per unit, and the curves."""
    settings = method_settings(config)
    pts = cohort.patients
    times = np.asarray(settings.survival.timepoints_years, float)
    years = pts.survival_days.to_numpy() / DAYS_PER_YEAR
    died = pts.died.to_numpy()
    entities = entity_table(orgs).set_index("org_code")
    org = orgs.set_index("org_code")
    unit_of = {
        "national": pd.Series(NATIONAL_CODE, index=pts.index),
        "nation": pts.diagnosing_org.map(org.nation).map({"England": "E92000001", "Wales": "W92000004"}),
        "region": pts.diagnosing_org.map(org.region_code).where(pts.diagnosing_org.map(org.nation) == "England"),
        "alliance": pts.diagnosing_org.map(org.alliance_code),
        "organisation": pts.diagnosing_org,
    }
    parts = []
    for level, unit in unit_of.items():
        group_specs = [("all", pd.Series("All", index=pts.index))]
        if level in ("national", "nation"):
            group_specs += [("route", pts.route.map(ROUTE_LABELS)), ("subtype", pts.subtype)]
        else:
            group_specs += [("route", pts.route.map(ROUTE_LABELS))]
        unit_codes, unit_names = pd.factorize(unit)
        for group_type, group in group_specs:
            table = survival_by_group(years, died, _unit_group_labels(unit_codes, unit_names, group), times,
                                      all_label=None)
            split = table.group.str.split("\x1f", expand=True)
            table = table.assign(org_code=split[0], group=split[1], group_type=group_type, level=level)
            parts.append(table)
    surv = pd.concat(parts, ignore_index=True)
    surv = surv.join(entities[["org_name", "nation", "region_code", "region_name", "parent_code", "parent_name"]],
                     on="org_code")
    return SurvivalEstimates(by_unit=surv, curves=_survival_curves(pts, years, died, settings, synthetic))


def survival_tables(cohort: Cohort, orgs: pd.DataFrame, config: Config, primary_period: str, synthetic: bool,
                    published: pd.DataFrame | None = None, estimates: SurvivalEstimates | None = None
                    ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Kaplan-Meier survival at the configured years: nationally by route and subtype, and per unit.

    An estimate is published only where at least [survival] min_at_risk patients remain at risk;
    patients, deaths and numbers at risk pass the same disclosure control as the indicators
    (`published`, the indicators table, keeps the organisation patient counts consistent with
    the ascertainment rows). `estimates`: survival_estimates() of the same cohort, if already made.
    """
    settings = method_settings(config)
    if estimates is None:
        estimates = survival_estimates(cohort, orgs, config, synthetic)
    surv = estimates.by_unit.copy()
    hidden = _survival_disclosure(surv, settings.disclosure, _ascertainment_hidden(surv, published, primary_period))
    rules = settings.disclosure
    n = surv.n.to_numpy(float)
    at_risk = surv.at_risk.to_numpy(float)
    too_few = n < rules.min_denominator
    few_at_risk = at_risk < settings.survival.min_at_risk
    estimable = surv.survival.notna().to_numpy()
    conditions = [hidden, too_few, few_at_risk, ~estimable]
    surv["status"] = np.select(conditions, ["suppressed", "too_few", "too_few_at_risk", "not_estimable"], "published")
    surv["status_note"] = np.select(conditions, [
        f"Suppressed: a count from {rules.suppress_low} to {rules.suppress_high}, or one that would reveal such a count",
        f"Too few patients (under {rules.min_denominator})",
        f"Fewer than {settings.survival.min_at_risk} patients still at risk at this time",
        surv.reason.fillna("").astype(str)], "")
    show = surv.status == "published"
    out = pd.DataFrame({
        "period": primary_period, "period_type": "pooled", "level": surv.level, "nation": surv.nation,
        "region_code": surv.region_code, "region_name": surv.region_name, "parent_code": surv.parent_code,
        "parent_name": surv.parent_name, "org_code": surv.org_code, "org_name": surv.org_name,
        "group_type": surv.group_type, "group": surv.group, "time_years": surv.time,
        "patients": surv.n.where(~hidden), "deaths": surv.events_total.where(~hidden),
        "survival_percentage": (surv.survival * 100).where(show), "ci_lower_95": (surv.ci_lower * 100).where(show),
        "ci_upper_95": (surv.ci_upper * 100).where(show), "at_risk": surv.at_risk.where(~hidden),
        "status": surv.status, "status_note": surv.status_note, "synthetic_data": "yes" if synthetic else "no",
    })
    shown_orgs = set(out.org_code[(out.level == "organisation") & (out.group_type == "all") & out.patients.notna()
                                  & (out.patients >= rules.min_denominator)])
    curves = estimates.curves
    shown = (curves.level != "organisation") | curves.org_code.isin(shown_orgs)
    return out, curves[shown].reset_index(drop=True)


ROUTE_LABELS = {"de_novo": "De novo", "recurrent": "Recurrent"}


def _ascertainment_hidden(surv: pd.DataFrame, published: pd.DataFrame | None, period: str) -> np.ndarray:
    """Survival rows whose patient count is hidden in the indicators table's ascertainment rows (the same count)."""
    if published is None:
        return np.zeros(len(surv), dtype=bool)
    rows = published[(published.indicator_id == "ascertainment") & (published.period == period)]
    hidden = rows.set_index(["level", "org_code", "subgroup"]).status.eq("suppressed")
    subgroup = surv.group.map({"All": "all", **{v: k for k, v in ROUTE_LABELS.items()}})
    keys = pd.MultiIndex.from_arrays([surv.level, surv.org_code, subgroup.where(surv.group_type != "subtype")])
    return keys.map(hidden).fillna(False).to_numpy(bool)


def _survival_disclosure(surv: pd.DataFrame, rules: DisclosureSettings, also_hidden: np.ndarray) -> np.ndarray:
    """Survival rows to suppress whole: the one disclosure rule applied to survival counts.

    Two decisions, so that a count hidden in one row is never shown in another. A group's patients and
    deaths (the same in every time row) are hidden when they, or the survivors, are a small count or could
    be recovered by subtraction (groups within a unit, units within their parent): decided on counts
    alone, so every time row of the group decides alike. A time row is hidden besides when the deaths by
    that time (which the estimate reveals), the number at risk or the patients no longer followed
    (patients - at risk) is a small count, or could be recovered by subtraction.
    """
    low, high = rules.suppress_low, rules.suppress_high
    n = surv.n.to_numpy(float)
    deaths = surv.events_total.to_numpy(float)
    at_risk = surv.at_risk.to_numpy(float)
    time = surv.time.astype(str)
    unit = surv.level + "|" + surv.org_code + "|" + time
    relations = [
        (unit + "|" + surv.group_type).where(surv.group_type != "all").to_numpy(object),
        (surv.group_type + "|" + surv.group + "|" + time + "|" + surv.level + "|" + surv.parent_code.fillna(""))
        .where(surv.level != "national").to_numpy(object),
    ]

    def extend(hidden: np.ndarray, values: tuple[np.ndarray, ...]) -> np.ndarray:
        for _ in range(6):
            before = hidden.sum()
            for groups in relations:
                for v in values:
                    hidden = secondary_suppression(v, hidden, groups)
            if hidden.sum() == before:
                break
        return hidden

    decision = apply_disclosure_control(deaths, n, low=low, high=high, min_denominator=rules.min_denominator)
    counts_hidden = (decision.suppress_numerator | decision.suppress_denominator).to_numpy() | also_hidden
    counts_hidden = extend(counts_hidden, (n, deaths))
    # Identical counts give identical decisions in every time slice; the group's rows are tied together anyway.
    group = surv.level + "|" + surv.org_code + "|" + surv.group_type + "|" + surv.group
    counts_hidden = group.map(pd.Series(counts_hidden, index=group.index).groupby(group).any()).to_numpy(bool)
    row_hidden = (counts_hidden | primary_suppression(surv.events_by_time.to_numpy(float), low, high)
                  | primary_suppression(at_risk, low, high) | complement_suppression(at_risk, n, low, high))
    return extend(row_hidden, (at_risk,)) | counts_hidden


def _unit_group_labels(unit_codes: np.ndarray, unit_names: pd.Index, group: pd.Series) -> pd.Categorical:
    """Each patient's 'unit\x1fgroup' label as a categorical of the observed labels in sorted order."""
    group_codes, group_names = pd.factorize(group)
    width = max(len(group_names), 1)
    combined = np.where((unit_codes >= 0) & (group_codes >= 0), unit_codes * width + group_codes, -1)
    names = np.array([f"{u}\x1f{g}" for u in unit_names for g in group_names], dtype=object)
    observed = np.unique(combined[combined >= 0])
    labels = names[observed]
    order = np.argsort(labels, kind="stable")
    position = np.full(len(names) + 1, -1)  # the extra last slot answers -1 (no unit)
    position[observed[order]] = np.arange(len(observed))
    return pd.Categorical.from_codes(position[combined], categories=labels[order])


def _survival_curves(pts: pd.DataFrame, years: np.ndarray, died: np.ndarray, settings: MethodSettings,
                     synthetic: bool) -> pd.DataFrame:
    """Monthly-step Kaplan-Meier curves with numbers at risk: national by group, and each organisation's overall curve.

    A curve, and the number at risk under it, stop where fewer than [survival] min_at_risk
    patients remain at risk.
    """
    grid = np.round(np.arange(0, 3.5001, 1 / 12), 4)
    specs = [("national", "K04000001", "England and Wales", "all", "All", np.ones(len(pts), bool))]
    for route, label in ROUTE_LABELS.items():
        specs.append(("national", "K04000001", "England and Wales", "route", label, (pts.route == route).to_numpy()))
    for subtype in sorted(pts.subtype.unique()):
        specs.append(("national", "K04000001", "England and Wales", "subtype", subtype, (pts.subtype == subtype).to_numpy()))
    for code, rows in pts.groupby("diagnosing_org").indices.items():  # row positions, not a mask per organisation
        specs.append(("organisation", code, "", "all", "All", rows))
    rows = []
    for level, code, name, group_type, group, mask in specs:
        km = kaplan_meier(years[mask], died[mask], timeline=grid)
        at_risk = km.at_risk.to_numpy(float)
        enough = at_risk >= settings.survival.min_at_risk
        rows.append(pd.DataFrame({"level": level, "org_code": code, "org_name": name, "group_type": group_type,
                                  "group": group, "time_years": grid,
                                  "survival_percentage": np.where(enough, km.survival * 100, np.nan),
                                  "ci_lower_95": np.where(enough, km.ci_lower * 100, np.nan),
                                  "ci_upper_95": np.where(enough, km.ci_upper * 100, np.nan),
                                  "at_risk": np.where(enough, at_risk, np.nan)}))
    curves = pd.concat(rows, ignore_index=True)
    curves["synthetic_data"] = "yes" if synthetic else "no"
    return curves


# --- cohort description -----------------------------------------------------------------------------------

def cohort_summary(cohort: Cohort, orgs: pd.DataFrame, config: Config, synthetic: bool) -> pd.DataFrame:
    """Counts of the cohort by nation and characteristic, with small numbers suppressed."""
    characteristics = ("route", "age_band", "sex", "subtype", "deprivation", "ethnicity_group", "ps_group")
    site_cols = [c for c in cohort.patients.columns if c.startswith("has_") and c.endswith("_metastases")]
    pts = cohort.patients[[*characteristics, *site_cols]].assign(
        nation_name=cohort.patients.diagnosing_org.map(orgs.set_index("org_code").nation))
    rows = []
    for nation, sub in [("England and Wales", pts)] + list(pts.groupby("nation_name")):
        total = len(sub)
        for characteristic in characteristics:
            for category, count in sub[characteristic].value_counts().sort_index().items():
                rows.append((nation, characteristic, str(category), int(count), total))
        for col in site_cols:
            rows.append((nation, "metastatic_site", col[4:-11], int(sub[col].sum()), total))
    frame = pd.DataFrame(rows, columns=["nation", "characteristic", "category", "patients", "total"])
    rules = config.section("disclosure")
    low, high = rules["suppress_low"], rules["suppress_high"]
    counts = frame.patients.to_numpy(float)
    site = (frame.characteristic == "metastatic_site").to_numpy()
    # A site count is a yes/no split of the nation's patients: the "no" (total - count) is a count too.
    small = primary_suppression(counts, low, high) | (site & complement_suppression(counts, frame.total, low, high))
    # Subtraction along both relations: categories within a nation's characteristic, and England + Wales =
    # England and Wales for each category.
    relations = [(frame.nation + "|" + frame.characteristic).where(~site).to_numpy(object),
                 (frame.characteristic + "|" + frame.category).where(frame.nation != "England and Wales").to_numpy(object)]
    for _ in range(6):
        before = small.sum()
        for groups in relations:
            small = secondary_suppression(counts, small, groups)
        if small.sum() == before:
            break
    frame["percentage"] = np.where(small, np.nan, frame.patients / frame.total * 100)
    frame["status"] = np.where(small, "suppressed", "published")
    frame["patients"] = frame.patients.where(~small)
    frame["synthetic_data"] = "yes" if synthetic else "no"
    return frame.drop(columns="total")


@dataclass
class HubIndicators:
    """The published indicators table (with its funnels) and what the other hub tables are computed from."""

    tables: IndicatorTables  # .published is the final indicators table, completeness flags included
    periods: pd.DataFrame
    codes: PatientCodes
    suppressed: pd.DataFrame  # true counts of the indicators table's suppressed rows
    completeness: pd.DataFrame
    models: dict[str, CasemixModel]


def hub_indicators(cohort: Cohort, registry: Registry, orgs: pd.DataFrame, cpes: pd.DataFrame, config: Config,
                   synthetic: bool) -> HubIndicators:
    """The indicators table: counts, case-mix, funnels, disclosure control, comparators and completeness flags."""
    cutoff = pd.Timestamp(config.data_cutoff)
    periods = periods_for(config.financial_years, config.primary_period)
    failures: dict[str, str] = {}
    expected, models = fit_casemix(registry, cohort, cutoff, failures)
    counts = all_indicator_counts(registry, cohort, orgs, periods, cutoff, cpes, expected)
    records = {name: len(table) for name, table in cohort.events.items()} | {"cpes": len(cpes)}
    counts = mark_unavailable(counts, unavailable_indicators(registry, records, failures))
    tables = indicator_results(counts, registry, orgs, periods, config, synthetic)
    indicators = add_adjusted_intervals(tables.published, config.section("casemix")["interval_method"])
    indicators = add_comparators(indicators, orgs, registry)
    indicators = add_year_change(indicators, config.financial_years)
    codes = PatientCodes(cohort, orgs, periods)
    suppressed = suppressed_indicator_counts(counts, indicators)
    completeness = completeness_table(cohort, orgs, codes, config, suppressed, synthetic)
    indicators["completeness_flag"] = casemix_completeness_flags(indicators, completeness, registry, config)
    tables.published = indicators
    return HubIndicators(tables=tables, periods=periods, codes=codes, suppressed=suppressed,
                         completeness=completeness, models=models)


def remaining_tables(core: HubIndicators, cohort: Cohort, registry: Registry, orgs: pd.DataFrame, config: Config,
                     synthetic: bool, survival: SurvivalEstimates | None = None) -> dict[str, pd.DataFrame]:
    """Every hub table but the run charts, by their HubTables names (`survival`: survival_estimates() of the
    cohort, if already made)."""
    indicators = core.tables.published
    summary = cohort_summary(cohort, orgs, config, synthetic)
    breakdowns = breakdown_table(registry, cohort, orgs, core.codes, config, core.suppressed, indicators, summary,
                                 synthetic)
    survival_table, survival_curves = survival_tables(cohort, orgs, config, config.primary_period, synthetic,
                                                      indicators, survival)
    coefs, fits, calib = casemix_tables(core.models)
    return {"indicators": indicators, "funnel_limits": core.tables.funnel_curves,
            "funnel_parameters": core.tables.funnel_parameters, "cohort_summary": summary,
            "casemix_models": coefs, "casemix_fit": fits, "casemix_calibration": calib, "breakdowns": breakdowns,
            "data_completeness": core.completeness, "survival": survival_table, "survival_curves": survival_curves,
            "survival_comparison": survival_comparison_table(cohort, orgs, config, synthetic)}


def build_hub_tables(cohort: Cohort, registry: Registry, orgs: pd.DataFrame, cpes: pd.DataFrame, config: Config,
                     synthetic: bool) -> HubTables:
    """Compute every public table from the cohort: the one computation run all outputs share."""
    core = hub_indicators(cohort, registry, orgs, cpes, config, synthetic)
    return HubTables(**remaining_tables(core, cohort, registry, orgs, config, synthetic),
                     run_charts=run_chart_table(core.tables, registry, core.periods, orgs, config))
