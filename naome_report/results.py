"""The results hub tables: statistics and disclosure control over the indicator counts."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from naome_report.cohort import Cohort, indicator_flags
from naome_report.config import Config
from naome_report.indicators import NATIONAL_CODE, all_indicator_counts, entity_table, periods_for
from naome_report.registry import Registry
from naome_report.availability import mark_unavailable, unavailable_indicators
from naome_report.stats.casemix import CasemixError, CasemixModel, fit_casemix_model
from naome_report.stats.disclosure import apply_disclosure_control, secondary_suppression
from naome_report.stats.funnel import estimate_overdispersion, funnel_limits
from naome_report.stats.outliers import NOT_ASSESSED_PREFIX, assign_outlier_status
from naome_report.stats.spc import run_chart_columns
from naome_report.stats.survival import kaplan_meier, survival_by_group
from naome_report.stats.wilson import wilson_interval

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
    cohort_summary: pd.DataFrame
    casemix_models: pd.DataFrame
    casemix_fit: pd.DataFrame
    casemix_calibration: pd.DataFrame


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


def _add_funnels(frame: pd.DataFrame, registry: Registry, config: Config) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Funnel limits and outlier status for organisations (pooled and annual periods), plus limit curves."""
    settings = config.section("funnel")
    min_n = settings["min_denominator"]
    limit_cols = ("lower_95", "upper_95", "lower_998", "upper_998")
    limits_out = {c: np.full(len(frame), np.nan) for c in limit_cols}
    method_out = np.full(len(frame), "", dtype=object)
    status_out = np.full(len(frame), "", dtype=object)
    note_out = np.full(len(frame), "", dtype=object)
    curves = []
    orgs = frame.level.eq("organisation") & frame.period_type.ne("quarter")
    status_all = frame.status.to_numpy()
    for (ind_id, period, subgroup), pos in frame[orgs].groupby(["indicator_id", "period", "subgroup"]).indices.items():
        pos = np.flatnonzero(orgs.to_numpy())[pos]
        ind = registry.get(ind_id)
        target = frame.national_percentage.iat[pos[0]]
        if not ind.has_rate or not np.isfinite(target):
            status_out[pos], note_out[pos] = "not_assessed", "not_eligible"
            continue
        value = (frame.adjusted_percentage if ind.is_casemix_adjusted else frame.percentage).to_numpy(float)[pos]
        n = np.nan_to_num(frame.denominator.to_numpy(float)[pos])
        status = status_all[pos]
        t = float(np.clip(target / 100, 1e-9, 1 - 1e-9))
        usable = (status == "published") & (n >= min_n)
        estimate = None
        if settings["overdispersion"] != "none" and usable.sum() >= 3:
            estimate = estimate_overdispersion(value[usable] / 100, n[usable], t, winsorise=settings["winsorise"])
        model = settings["overdispersion"] if estimate else "none"
        grid_n = np.unique(np.r_[np.geomspace(1, max(n.max(initial=0), 10) * 1.1, 160).round(), n[n > 0]]).astype(int)
        curve = funnel_limits(t, grid_n, method=settings["method"], overdispersion=model, estimate=estimate)
        lookup = {c: dict(zip(grid_n, curve[c].to_numpy() * 100)) for c in limit_cols}
        row_limits = {c: np.array([lookup[c].get(int(k), np.nan) if k > 0 else np.nan for k in n]) for c in limit_cols}
        for c in limit_cols:
            limits_out[c][pos] = row_limits[c]
        method_out[pos] = curve["method"].iloc[0]
        reason = np.select([status == "not_available", status == "suppressed", np.full(len(pos), not ind.outlier_eligible),
                            n < min_n], ["not_available", "suppressed", "not_eligible", "too_few"], "not_available")
        result = assign_outlier_status(value, *(row_limits[c] for c in limit_cols),
                                       assessable=usable & ind.outlier_eligible, reason_not_assessed=reason).astype(str)
        not_assessed = np.char.startswith(result, NOT_ASSESSED_PREFIX)
        status_out[pos] = np.where(not_assessed, "not_assessed", result)
        note_out[pos] = np.where(not_assessed, np.char.replace(result, NOT_ASSESSED_PREFIX, ""), "")
        keep = np.isin(grid_n, np.geomspace(1, max(n.max(initial=0), 10) * 1.1, 160).round().astype(int))
        curves.append(pd.DataFrame({"indicator_id": ind_id, "period": period, "subgroup": subgroup,
                                    "n": curve.n.to_numpy()[keep], "target": target,
                                    **{c: curve[c].to_numpy()[keep] * 100 for c in limit_cols},
                                    "method": curve.method.to_numpy()[keep]}))
    for c in limit_cols:
        frame[f"funnel_{c}"] = limits_out[c]
    frame["funnel_method"] = method_out
    frame["outlier_status"] = status_out
    frame["outlier_note"] = note_out
    cols = ["indicator_id", "period", "subgroup", "n", "target", "lower_95", "upper_95", "lower_998", "upper_998", "method"]
    return frame, (pd.concat(curves, ignore_index=True)[cols] if curves else pd.DataFrame(columns=cols))


# --- disclosure control ----------------------------------------------------------------------------

def _disclosure(frame: pd.DataFrame, config: Config) -> pd.DataFrame:
    """Suppress small numbers once, here at the hub, before any publisher sees the table."""
    rules = config.section("disclosure")
    low, high, min_den = rules["suppress_low"], rules["suppress_high"], rules["min_denominator"]
    available = frame.available.to_numpy()
    num = np.where(available, frame.numerator, np.nan)
    den = np.where(available, frame.denominator, np.nan)
    rate_rows = frame.has_rate.to_numpy()
    den_for_rule = np.where(rate_rows, den, num)  # counts without a denominator are checked as counts
    decision = apply_disclosure_control(num, den_for_rule, low=low, high=high, min_denominator=min_den)
    sup_num = decision.suppress_numerator.to_numpy().copy()
    sup_den = decision.suppress_denominator.to_numpy().copy() & rate_rows
    # Secondary suppression along every additive relation a reader could subtract along:
    # siblings under a published parent; de novo + recurrent = all; quarters and years in a period.
    relations = _additive_groups(frame)
    for _ in range(6):
        before = sup_num.sum() + sup_den.sum()
        for groups in relations:
            sup_num = secondary_suppression(num, sup_num, groups)
            sup_den = secondary_suppression(np.where(rate_rows, den, np.nan), sup_den, groups)
        if sup_num.sum() + sup_den.sum() == before:
            break
    too_few = rate_rows & (den > 0) & (den < min_den)
    empty = rate_rows & (den == 0)
    status = np.select([~available, sup_num | sup_den, empty, too_few],
                       ["not_available", "suppressed", "not_applicable", "too_few"], "published")
    notes = np.select(
        [~available, sup_num | sup_den, empty, too_few],
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
    frame["numerator"] = frame.numerator.where(available & ~sup_num)
    frame["denominator"] = frame.denominator.where(available & ~sup_den & rate_rows)
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

def indicator_results(counts: pd.DataFrame, registry: Registry, orgs: pd.DataFrame, periods: pd.DataFrame,
                      config: Config, synthetic: bool) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The naome_indicators table (hierarchy first) and the funnel limit curves."""
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
    frame = _disclosure(frame, config)
    frame, curves = _add_funnels(frame, registry, config)
    frame["completeness_flag"] = _completeness_flags(frame, registry, config.section("disclosure")["completeness_threshold"])
    frame["synthetic_data"] = "yes" if synthetic else "no"
    level_order = {lvl: i for i, lvl in enumerate(["national", "nation", "region", "alliance", "organisation"])}
    ind_order = {i.id: k for k, i in enumerate(registry)}
    sub_order = {"all": 0, "de_novo": 1, "recurrent": 2, "triple_negative": 3, "bone_metastases": 4}
    frame = frame.assign(_l=frame.level.map(level_order), _i=frame.indicator_id.map(ind_order),
                         _s=frame.subgroup.map(sub_order))
    frame = frame.sort_values(["order", "_i", "_s", "_l", "nation", "parent_code", "org_code"], kind="stable")
    columns = ["period", "period_type", "level", "nation", "region_code", "region_name", "parent_code", "parent_name",
               "org_code", "org_name", "indicator_id", "indicator_title", "subgroup", "numerator", "denominator",
               "percentage", "ci_lower_95", "ci_upper_95", "median_days", "national_percentage", "expected",
               "observed_expected", "adjusted_percentage", "funnel_lower_95", "funnel_upper_95", "funnel_lower_998",
               "funnel_upper_998", "funnel_method", "outlier_status", "outlier_note", "completeness_flag", "status",
               "status_note", "synthetic_data"]
    return frame[columns].reset_index(drop=True), curves


# --- run charts ----------------------------------------------------------------------------------------

def run_chart_table(indicators: pd.DataFrame, registry: Registry, config: Config) -> pd.DataFrame:
    """XmR statistics for every quarterly series (organisations, nations and national)."""
    spc = config.section("spc")
    q = indicators[(indicators.period_type == "quarter") & (indicators.subgroup == "all")
                   & indicators.level.isin(["national", "nation", "organisation"])]
    q = q.sort_values(["indicator_id", "org_code", "period"], kind="stable").reset_index(drop=True)
    q["quarter_index"] = q.groupby(["indicator_id", "org_code"]).cumcount() + 1
    names = ("mean", "lower", "upper", "special_cause", "rule", "rules_fired", "variation", "limits_status")
    columns = {k: np.empty(len(q), dtype=object) for k in names}
    direction = q.indicator_id.map({i.id: IMPROVEMENT[i.direction] for i in registry}).to_numpy()
    values = q.percentage.to_numpy(float)
    for pos in q.groupby(["indicator_id", "org_code"], sort=False).indices.values():
        analysis = run_chart_columns(values[pos], improvement=direction[pos[0]], trend_length=spc["trend_length"],
                                     shift_length=spc["shift_length"], min_points=spc["min_points"])
        for k in names:
            columns[k][pos] = analysis[k]
    out = q[["period", "period_type", "level", "nation", "region_code", "region_name", "parent_code", "parent_name",
             "org_code", "org_name", "indicator_id", "quarter_index", "numerator", "denominator", "percentage", "status"]].copy()
    out["mean"] = columns["mean"].astype(float)
    out["lower_limit"] = columns["lower"].astype(float)
    out["upper_limit"] = columns["upper"].astype(float)
    out["special_cause"] = np.where(columns["special_cause"].astype(bool), "yes", "no")
    out["rule"] = columns["rule"]
    out["rules_fired"] = columns["rules_fired"]
    out["variation"] = columns["variation"]
    out["limits_status"] = columns["limits_status"]
    out["improvement_direction"] = direction
    out["synthetic_data"] = indicators.synthetic_data.iloc[0]
    return out


# --- survival ----------------------------------------------------------------------------------------------

def survival_tables(cohort: Cohort, orgs: pd.DataFrame, config: Config, primary_period: str,
                    synthetic: bool) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Kaplan-Meier survival at the configured years: nationally by route and subtype, and per unit."""
    pts = cohort.patients
    times = np.asarray(config.section("survival")["timepoints_years"], float)
    min_den = config.section("disclosure")["min_denominator"]
    low, high = config.section("disclosure")["suppress_low"], config.section("disclosure")["suppress_high"]
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
            group_specs += [("route", pts.route.map({"de_novo": "De novo", "recurrent": "Recurrent"})),
                            ("subtype", pts.subtype)]
        else:
            group_specs += [("route", pts.route.map({"de_novo": "De novo", "recurrent": "Recurrent"}))]
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
    n = surv.n.to_numpy(float)
    deaths = surv.events_total.to_numpy(float)
    suppressed = ((n >= low) & (n <= high)) | ((deaths >= low) & (deaths <= high))
    too_few = n < min_den
    estimable = surv.survival.notna().to_numpy()
    surv["status"] = np.select([suppressed, too_few, ~estimable], ["suppressed", "too_few", "not_estimable"], "published")
    surv["status_note"] = np.select(
        [suppressed, too_few, ~estimable],
        ["Suppressed: small numbers", f"Too few patients (under {min_den})", surv.reason.fillna("").astype(str)], "")
    show = surv.status == "published"
    out = pd.DataFrame({
        "period": primary_period, "period_type": "pooled", "level": surv.level, "nation": surv.nation,
        "region_code": surv.region_code, "region_name": surv.region_name, "parent_code": surv.parent_code,
        "parent_name": surv.parent_name, "org_code": surv.org_code, "org_name": surv.org_name,
        "group_type": surv.group_type, "group": surv.group, "time_years": surv.time,
        "patients": surv.n.where(~suppressed), "deaths": surv.events_total.where(~suppressed),
        "survival_percentage": (surv.survival * 100).where(show), "ci_lower_95": (surv.ci_lower * 100).where(show),
        "ci_upper_95": (surv.ci_upper * 100).where(show), "at_risk": surv.at_risk.where(show),
        "status": surv.status, "status_note": surv.status_note, "synthetic_data": "yes" if synthetic else "no",
    })
    return out, _survival_curves(pts, years, died, min_den, synthetic)


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


def _survival_curves(pts: pd.DataFrame, years: np.ndarray, died: np.ndarray, min_den: int, synthetic: bool) -> pd.DataFrame:
    """Monthly-step Kaplan-Meier curves: national by group, and every organisation's overall curve."""
    grid = np.round(np.arange(0, 3.5001, 1 / 12), 4)
    specs = [("national", "K04000001", "England and Wales", "all", "All", np.ones(len(pts), bool))]
    for route, label in (("de_novo", "De novo"), ("recurrent", "Recurrent")):
        specs.append(("national", "K04000001", "England and Wales", "route", label, (pts.route == route).to_numpy()))
    for subtype in sorted(pts.subtype.unique()):
        specs.append(("national", "K04000001", "England and Wales", "subtype", subtype, (pts.subtype == subtype).to_numpy()))
    for code, rows in pts.groupby("diagnosing_org").indices.items():  # row positions, not a mask per organisation
        if len(rows) >= min_den:
            specs.append(("organisation", code, "", "all", "All", rows))
    rows = []
    for level, code, name, group_type, group, mask in specs:
        km = kaplan_meier(years[mask], died[mask])
        pos = np.searchsorted(km.time.to_numpy(), grid, side="right") - 1
        surv = np.where(pos >= 0, km.survival.to_numpy()[np.maximum(pos, 0)], 1.0)
        lo = np.where(pos >= 0, km.ci_lower.to_numpy()[np.maximum(pos, 0)], 1.0)
        hi = np.where(pos >= 0, km.ci_upper.to_numpy()[np.maximum(pos, 0)], 1.0)
        beyond = grid > years[mask].max()
        rows.append(pd.DataFrame({"level": level, "org_code": code, "org_name": name, "group_type": group_type,
                                  "group": group, "time_years": grid, "survival_percentage": np.where(beyond, np.nan, surv * 100),
                                  "ci_lower_95": np.where(beyond, np.nan, lo * 100), "ci_upper_95": np.where(beyond, np.nan, hi * 100)}))
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
    small = frame.patients.between(rules["suppress_low"], rules["suppress_high"])
    groups = (frame.nation + "|" + frame.characteristic).where(frame.characteristic != "metastatic_site")
    small = secondary_suppression(frame.patients.to_numpy(float), small.to_numpy(), groups.to_numpy(object))
    frame["percentage"] = np.where(small, np.nan, frame.patients / frame.total * 100)
    frame["status"] = np.where(small, "suppressed", "published")
    frame["patients"] = frame.patients.where(~small)
    frame["synthetic_data"] = "yes" if synthetic else "no"
    return frame.drop(columns="total")


def build_hub_tables(cohort: Cohort, registry: Registry, orgs: pd.DataFrame, cpes: pd.DataFrame, config: Config,
                     synthetic: bool) -> HubTables:
    """Compute every public table from the cohort: the one computation run all outputs share."""
    cutoff = pd.Timestamp(config.data_cutoff)
    periods = periods_for(config.financial_years, config.primary_period)
    failures: dict[str, str] = {}
    expected, models = fit_casemix(registry, cohort, cutoff, failures)
    counts = all_indicator_counts(registry, cohort, orgs, periods, cutoff, cpes, expected)
    records = {name: len(table) for name, table in cohort.events.items()} | {"cpes": len(cpes)}
    counts = mark_unavailable(counts, unavailable_indicators(registry, records, failures))
    indicators, curves = indicator_results(counts, registry, orgs, periods, config, synthetic)
    run_charts = run_chart_table(indicators, registry, config)
    survival, survival_curves = survival_tables(cohort, orgs, config, config.primary_period, synthetic)
    coefs, fits, calib = casemix_tables(models)
    return HubTables(indicators=indicators, survival=survival, survival_curves=survival_curves, run_charts=run_charts,
                     funnel_limits=curves, cohort_summary=cohort_summary(cohort, orgs, config, synthetic),
                     casemix_models=coefs, casemix_fit=fits, casemix_calibration=calib)
