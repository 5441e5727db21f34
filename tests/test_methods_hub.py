"""Issue 12 at the hub: test on true counts, suppress on publication; funnels, run charts and survival
that say what they rest on; and a methodology that states the configured parameters."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest
from scipy.stats import binom

from naome_report.config import load_config
from naome_report.hub import load_results
from naome_report.indicators import NATIONAL_CODE, entity_table, periods_for
from naome_report.method_settings import method_settings
from naome_report.registry import load_registry
from naome_report.results import indicator_results
from naome_report.organisations import load_organisations

INDICATOR_OF = {"mort30": "mort30_sact", "recurrence": "recurrence_recorded"}  # generator name -> registry id


@pytest.fixture(scope="module")
def indicators(data_dir):
    return pd.read_csv(data_dir / "naome_indicators.csv", dtype={"org_code": str, "parent_code": str}, low_memory=False)


@pytest.fixture(scope="module")
def truth(output_dir):
    return json.loads((output_dir / "synthetic-extract" / "_synthetic_truth.json").read_text())


# --- a hand-made case: a low-mortality organisation whose count must be suppressed --------------------

def _mortality_counts(orgs: pd.DataFrame, period: str) -> pd.DataFrame:
    """136 organisations with 30 deaths in 200 treated patients, and one with 2 in 60; expected at 15%."""
    codes = entity_table(orgs).query("level == 'organisation'").org_code.to_numpy()
    deaths = np.full(len(codes), 30.0)
    patients = np.full(len(codes), 200.0)
    deaths[0], patients[0] = 2.0, 60.0
    rows = pd.DataFrame({"level": "organisation", "org_code": codes, "numerator": deaths, "denominator": patients})
    national = pd.DataFrame({"level": ["national"], "org_code": [NATIONAL_CODE], "numerator": [deaths.sum()],
                             "denominator": [patients.sum()]})
    frame = pd.concat([national, rows], ignore_index=True)
    return frame.assign(indicator_id="mort30_sact", period=period, subgroup="all", expected=frame.denominator * 0.15,
                        available=True, availability_note="", median_days=np.nan)


def test_a_low_mortality_organisation_with_2_deaths_in_60_is_classified(tmp_path):
    config = load_config(overrides={"funnel": {"overdispersion": "none"}})
    registry = load_registry()
    orgs = load_organisations(config, synthetic=True)
    periods = periods_for(config.financial_years, config.primary_period)
    counts = _mortality_counts(orgs, config.primary_period)
    tables = indicator_results(counts, registry, orgs, periods, config, synthetic=True)
    row = tables.published[(tables.published.level == "organisation")
                           & (tables.published.org_code == counts.org_code.iloc[1])].iloc[0]
    # Oracle: the national rate t = 4,082 / 27,260; the adjusted rate is 2 / 9 x t (O / E x national).
    # Exact binomial tails at n = 60: P(X <= 2) lies between 0.001 and 0.025, so the organisation is
    # beyond the lower 95% limit but not the 99.8% one: an alert, low.
    t = (30 * 136 + 2) / (200 * 136 + 60)
    tail = binom.cdf(2, 60, t)
    assert 0.001 < tail < 0.025
    assert row.status == "suppressed"
    assert row[["numerator", "denominator", "percentage", "adjusted_percentage", "funnel_lower_95"]].isna().all()
    assert row.funnel_position == "below_95"
    assert row.outlier_status == "alert_low"
    assert row.outlier_process == "yes" and row.outlier_note == ""
    assert row.vs_national == "better"  # lower mortality is better


# --- the built files ------------------------------------------------------------------------------------

def _designed(truth) -> set[tuple[str, str]]:
    return {(INDICATOR_OF.get(o["indicator"], o["indicator"]), o["org_code"]) for o in truth["designed_outliers"]}


def test_the_design_states_its_outliers(truth):
    design = truth["organisation_variation"]
    assert design["designed_outliers"] == len(truth["designed_outliers"]) == 8
    assert {"ordinary_logit_sd", "wales_logit_shift"} <= set(design)


def test_designed_outliers_are_found_after_the_overdispersion_adjustment(indicators, truth):
    primary = load_config().primary_period
    for outlier in truth["designed_outliers"]:
        ind = INDICATOR_OF.get(outlier["indicator"], outlier["indicator"])
        row = indicators[(indicators.indicator_id == ind) & (indicators.org_code == outlier["org_code"])
                         & (indicators.period == primary) & (indicators.subgroup == "all")].iloc[0]
        side = "above" if outlier["direction"] == "high" else "below"
        assert row.funnel_position in (f"{side}_95", f"{side}_998"), (ind, outlier, row.funnel_position)


def test_ordinary_variation_is_not_flagged_at_99_8_percent(indicators, truth):
    """Per indicator, at most about one organisation beyond 99.8% besides the design (designed outliers, and
    Welsh boards for indicators whose design shifts Wales as a whole)."""
    primary = load_config().primary_period
    orgs = indicators[(indicators.level == "organisation") & (indicators.period == primary)
                      & (indicators.subgroup == "all")]
    designed = _designed(truth)
    wales_shifted = {INDICATOR_OF.get(k, k) for k in truth["organisation_variation"]["wales_logit_shift"]}
    beyond = orgs[orgs.funnel_position.isin(["above_998", "below_998"])]
    for ind_id, group in beyond.groupby("indicator_id"):
        others = [code for code, nation in zip(group.org_code, group.nation)
                  if (ind_id, code) not in designed and not (nation == "Wales" and ind_id in wales_shifted)]
        assert len(others) <= 2, (ind_id, others)


def test_every_indicator_with_a_rate_has_a_position_and_only_process_indicators_a_status(indicators):
    registry = load_registry()
    orgs = indicators[(indicators.level == "organisation") & (indicators.period_type != "quarter")]
    for ind in registry:
        rows = orgs[orgs.indicator_id == ind.id]
        assert (rows.outlier_process == ("yes" if ind.outlier_process else "no")).all(), ind.id
        if not ind.has_funnel:
            assert (rows.funnel_position == "not_assessed").all() and (rows.outlier_note == "not_eligible").all()
            continue
        assert rows.funnel_position.isin(["above_998", "above_95", "within", "below_95", "below_998",
                                          "not_assessed"]).all(), ind.id
        if ind.outlier_process:
            assert not rows.outlier_status.eq("not_in_process").any(), ind.id
        else:
            assert rows.outlier_status.eq("not_in_process").all(), ind.id
        if ind.direction == "neutral":
            assert set(rows.vs_national.dropna()) <= {"higher", "similar", "lower", "not_assessed"}, ind.id


def test_suppressed_organisations_are_still_assessed(indicators):
    rows = indicators[(indicators.level == "organisation") & (indicators.status == "suppressed")
                      & (indicators.period_type == "pooled") & (indicators.indicator_id != "ascertainment")]
    assert len(rows) > 0
    assert rows.outlier_note.fillna("").ne("suppressed").all()
    assert rows.funnel_position.ne("not_assessed").mean() > 0.5
    assert rows[["funnel_lower_95", "funnel_upper_95", "funnel_lower_998", "funnel_upper_998"]].isna().all().all()


def test_no_suppressed_row_carries_a_number(indicators):
    hidden = indicators[indicators.status == "suppressed"]
    assert len(hidden) > 0
    assert hidden[["numerator", "denominator", "percentage", "ci_lower_95", "ci_upper_95"]].isna().all().all()
    assert not ((indicators.numerator == 0) & indicators.denominator.isna() & indicators.percentage.isna()
                & indicators.status.eq("suppressed")).any()


def test_funnel_method_and_parameters_agree(indicators, data_dir):
    params = pd.read_csv(data_dir / "naome_funnel_parameters.csv")
    rows = indicators[(indicators.level == "organisation") & (indicators.period_type != "quarter")
                      & indicators.funnel_method.notna() & indicators.funnel_method.ne("")]
    merged = rows.merge(params, on=["indicator_id", "period", "subgroup"], suffixes=("", "_p"))
    assert len(merged) == len(rows)
    assert (merged.funnel_method == merged.method).all()
    adjusted = params[params.overdispersion_model == "additive"]
    assert len(adjusted) > 0 and (adjusted.tau2 > 0).all() and (adjusted.overdispersed == "yes").all()
    assert adjusted.method.str.startswith("additive random-effects limits").all()
    plain = params[params.overdispersion_model == "none"]
    assert plain.tau2.isna().all()


def test_run_chart_limits_stay_within_0_and_100_and_follow_disclosure(data_dir):
    rc = pd.read_csv(data_dir / "naome_run_charts.csv", low_memory=False)
    spc = method_settings(load_config()).spc
    assert rc.lower_limit.min() >= 0 and rc.upper_limit.max() <= 100
    assert set(rc.series) == {"quarterly", "rolling_12_months"}
    assert set(rc[rc.level == "organisation"].series) == {"rolling_12_months"}
    assert set(rc[rc.level != "organisation"].level) == {"national", "nation", "region"}
    unpublished = rc[rc.status != "published"]
    assert unpublished[["numerator", "denominator", "percentage", "lower_limit", "upper_limit"]].isna().all().all()
    series = rc.groupby(["indicator_id", "level", "org_code"])
    published = series.status.apply(lambda s: (s == "published").sum())
    status = series.chart_status.first()
    assert (status[published < spc.min_published_points] == "not_enough_points").all()
    assert (status[published >= spc.min_published_points] == "charted").all()
    assert rc[rc.chart_status == "not_enough_points"][["centre", "lower_limit", "upper_limit"]].isna().all().all()
    charted = rc[(rc.chart_status == "charted") & (rc.status == "published")]
    assert charted.chart.isin(["p", "p_prime"]).all()
    assert charted.limits_status.isin(["trial", "baseline", "recalculated"]).all()
    # Each point's limits come from its own denominator: published points with different
    # denominators in one segment have different limits.
    one = charted[(charted.level == "organisation") & (charted.status == "published")]
    widths = one.groupby(["indicator_id", "org_code"]).apply(lambda g: g.upper_limit.nunique() > 1,
                                                             include_groups=False)
    assert widths.mean() > 0.5


def test_rolling_values_add_up_from_the_quarters(data_dir, indicators):
    """A window ending in a financial year's last quarter holds that year's patients."""
    rc = pd.read_csv(data_dir / "naome_run_charts.csv", low_memory=False)
    year = indicators[(indicators.level == "organisation") & (indicators.period == "2024/25")
                      & (indicators.subgroup == "all")].set_index(["indicator_id", "org_code"])
    window = rc[(rc.period == "2024/25 Q4") & (rc.window_start == "2024/25 Q1")].set_index(["indicator_id", "org_code"])
    joined = window.join(year[["numerator", "denominator", "status"]], rsuffix="_year", how="inner")
    assert len(joined) > 100
    assert (joined.status == joined.status_year).all()
    shown = joined[joined.status == "published"]
    assert (shown.numerator == shown.numerator_year).all() and (shown.denominator == shown.denominator_year).all()


def test_survival_estimates_rest_on_enough_patients_at_risk(data_dir):
    settings = method_settings(load_config())
    surv = pd.read_csv(data_dir / "naome_survival.csv")
    shown = surv[surv.survival_percentage.notna()]
    assert len(shown) > 0 and (shown.at_risk >= settings.survival.min_at_risk).all()
    assert set(surv.status) <= {"published", "suppressed", "too_few", "too_few_at_risk", "not_estimable"}
    assert (surv[surv.status == "published"].at_risk.notna()).all()
    assert surv[surv.status == "suppressed"][["patients", "deaths", "at_risk"]].isna().all().all()
    few = surv[surv.status == "too_few_at_risk"]
    assert few.survival_percentage.isna().all()
    curves = pd.read_csv(data_dir / "naome_survival_curves.csv")
    drawn = curves[curves.survival_percentage.notna()]
    assert (drawn.at_risk >= settings.survival.min_at_risk).all()
    for frame in (surv, curves):
        for col in ("patients", "deaths", "at_risk"):
            if col in frame:
                assert not frame[col].between(1, 4).any(), col


# --- the methodology states the configured parameters ------------------------------------------------------

def test_methodology_states_the_parameters_in_configuration(data_dir, tmp_path):
    from naome_report.publish.doc_context import base_context
    from naome_report.publish.documents import DOCUMENTS, REPORTS_DIR
    from naome_report.publish.render import fill_template

    config = load_config(overrides={
        "funnel": {"winsorise": 0.2, "overdispersion_alpha": 0.01, "min_denominator": 17},
        "spc": {"shift_length": 9, "rolling_quarters": 2, "min_published_points": 5},
        "survival": {"min_at_risk": 25},
        "disclosure": {"suppress_high": 6},
    })
    results = load_results(data_dir)
    context = base_context(results, load_registry(), config, tmp_path)
    spec = next(s for s in DOCUMENTS if s.stem == "methodology-supplement")
    text = fill_template(REPORTS_DIR / "methodology-supplement.qmd", {**context, "figures": {}, "doc": spec})
    text = re.sub(r"\s+", " ", text)
    assert "winsorised at 20% at each end" in text
    assert "at the 0.01 level" in text
    assert "fewer than 17 patients are not placed on a funnel" in text
    assert "a shift of 9 points on one side of the centre line" in text
    assert "a rolling 6-month value for each quarter" in text
    assert "fewer than 5 published points is not charted" in text
    assert "at least 25 patients are still at risk" in text
    assert "Counts from 1 to 6 are suppressed" in text
    assert "56.25% is published as 56.3%" in text
    assert "Discussed at a breast multidisciplinary team (MDT) meeting" in text
    assert "TODO" not in text and "[[" not in text
