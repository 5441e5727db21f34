"""The results hub: the published data files every output reads (and nothing else)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pandas is imported where files are read: the audit needs only FILES, and pandas takes 0.3 s
    import pandas as pd

# Every public file, its columns and their meaning. The data dictionary (output/data/README.md)
# is written from this table, so the files and their description cannot drift apart.
HIERARCHY = {
    "period": "Reporting period: the pooled audit period (e.g. 2023/24-2025/26), a financial year (2024/25) or a financial quarter (2024/25 Q1)",
    "period_type": "pooled, financial_year or quarter",
    "level": "Reporting level: national (England and Wales), nation, region (NHS England region), alliance (Cancer Alliance or Welsh Region) or organisation (NHS trust or Welsh health board)",
    "nation": "England, Wales, or England and Wales",
    "region_code": "NHS England region code (empty for Wales and national rows)",
    "region_name": "NHS England region name",
    "parent_code": "Code of the level above: the Cancer Alliance / Welsh Region of an organisation, the region of an alliance, the nation of a region",
    "parent_name": "Name of the level above",
    "org_code": "Code of this row's unit: ODS code of a trust / health board, ONS code of an alliance, region or nation",
    "org_name": "Name of this row's unit",
}
FILES: dict[str, dict[str, str]] = {
    "naome_indicators.csv": {
        **HIERARCHY,
        "indicator_id": "Indicator identifier (see the metric definitions in the metrics table and methodology supplement)",
        "indicator_title": "Indicator title",
        "subgroup": "Patients the row covers: all, de_novo, recurrent, triple_negative or bone_metastases",
        "counted": "What numerator and denominator count: patients, or respondents (survey indicators: people who answered the question)",
        "coverage": "The nations the indicator covers: England and Wales, or England (its England row is then the national value and its Welsh rows are not available)",
        "numerator": "Patients meeting the indicator (empty when suppressed)",
        "denominator": "Patients eligible for the indicator (empty when suppressed or not applicable)",
        "percentage": "numerator / denominator, in percent (0-100); empty unless status is published",
        "ci_lower_95": "Lower 95% confidence limit of percentage (Wilson score), percent",
        "ci_upper_95": "Upper 95% confidence limit of percentage (Wilson score), percent",
        "median_days": "Median days from MBC diagnosis (timeliness indicators only)",
        "national_percentage": "The national value of the same indicator, period and subgroup: England and Wales, or the nation in `coverage` when the indicator covers one nation only, percent",
        "expected": "Expected number of patients from the case-mix model (outcome indicators, organisations)",
        "observed_expected": "Observed / expected ratio (case-mix adjusted outcome indicators)",
        "adjusted_percentage": "Case-mix adjusted percentage = observed / expected x national percentage",
        "adjusted_ci_lower_95": "Lower 95% confidence limit of adjusted_percentage: the exact Poisson (Garwood) limit of observed / expected, times the national percentage (method in [casemix] interval_method)",
        "adjusted_ci_upper_95": "Upper 95% confidence limit of adjusted_percentage, calculated the same way and capped at 100",
        "funnel_lower_95": "Lower 95% funnel-plot control limit at this organisation's number of patients, percent (empty where the row is suppressed: the limit would reveal the denominator)",
        "funnel_upper_95": "Upper 95% funnel-plot control limit, percent",
        "funnel_lower_998": "Lower 99.8% funnel-plot control limit, percent",
        "funnel_upper_998": "Upper 99.8% funnel-plot control limit, percent",
        "funnel_method": "How this row's funnel limits were calculated: method, overdispersion test (phi, its p-value, organisations) and the adjustment applied (see naome_funnel_parameters.csv)",
        "funnel_position": "Organisations, pooled and financial-year periods: above_998, above_95, within, below_95, below_998 (against the 99.8% and 95% limits actually used) or not_assessed; computed from the true counts, so given even where the counts are suppressed. Case-mix adjusted indicators use the adjusted percentage",
        "outlier_process": "yes when the indicator is one of the key indicators in the HQIP outlier process, else no",
        "outlier_status": "Outlier-process indicators: alarm_high, alarm_low (beyond the 99.8% limits), alert_high, alert_low (beyond 95%), within_limits or not_assessed; other indicators: not_in_process. Published even where the counts are suppressed",
        "outlier_note": "Why an organisation was not placed on the funnel: too_few (under the minimum number of patients), no_patients, not_available or not_eligible (no funnel for this indicator)",
        "vs_national": "better, similar or worse than the national value (higher, similar or lower for indicators with no preferred direction), or not_assessed: organisations from their 95% funnel position, other units from whether their 95% CI excludes the national value; empty on national rows",
        "comparator_code": "Code of the unit this row is best compared with: an English trust's Cancer Alliance; a Welsh health board's Welsh region where it holds more than one board, otherwise Wales; an alliance's NHS region (Wales for a Welsh region); a region's nation (England); a nation's England and Wales. Never the unit itself; empty on the England and Wales rows",
        "comparator_name": "Name of the comparator unit",
        "comparator_percentage": "The comparator's published value of the same indicator, period and subgroup: the case-mix adjusted percentage for adjusted indicators, otherwise the percentage",
        "vs_comparator": "better / similar / worse (indicators with a preferred direction) or higher / similar / lower (no preferred direction): whether this row's 95% confidence interval (the adjusted interval for adjusted indicators) lies wholly above or below comparator_percentage; not_assessed when either value is not published; empty on England and Wales rows",
        "previous_percentage": "Financial-year rows: the crude percentage of the previous financial year (same unit, indicator and subgroup); empty for the first year or when either year is not published",
        "change_points": "Financial-year rows: percentage minus previous_percentage, in percentage points (crude percentages, not case-mix adjusted)",
        "change_ci_lower_95": "Lower 95% confidence limit of change_points (Newcombe hybrid score interval for a difference of independent proportions), percentage points",
        "change_ci_upper_95": "Upper 95% confidence limit of change_points, percentage points",
        "change_significant": "yes when the 95% interval of change_points excludes 0, no when it does not; empty where no change is calculated",
        "completeness_flag": "Set when the data item this indicator depends on is recorded for fewer patients than the completeness threshold",
        "status": "published, suppressed (small numbers: no numerator, denominator or percentage is shown), too_few (denominator under the minimum), not_available (data not collected for this nation/period) or not_applicable",
        "status_note": "Plain-English reason for a status other than published",
        "synthetic_data": "yes when the results were computed from the bundled synthetic cohort (not real patients)",
    },
    "naome_survival.csv": {
        **HIERARCHY,
        "group_type": "all, route (de novo / recurrent) or subtype",
        "group": "The group of patients",
        "time_years": "Years after MBC diagnosis",
        "patients": "Patients in the group (empty when suppressed)",
        "deaths": "Deaths observed in the group up to the data cut-off (empty when suppressed)",
        "survival_percentage": "Kaplan-Meier estimate of the percentage alive at time_years (only where at least the configured minimum remain at risk)",
        "ci_lower_95": "Lower 95% confidence limit (log-log), percent",
        "ci_upper_95": "Upper 95% confidence limit (log-log), percent",
        "at_risk": "Patients still alive and followed up at time_years (empty when it, or the patients no longer followed, is a small count)",
        "status": "published, suppressed (small numbers), too_few (patients under the minimum), too_few_at_risk (fewer than the minimum still at risk: no estimate) or not_estimable",
        "status_note": "Reason for a status other than published",
        "synthetic_data": "yes when computed from the synthetic cohort",
    },
    "naome_survival_curves.csv": {
        "level": "national or organisation", "org_code": "Unit code", "org_name": "Unit name",
        "group_type": "all, route or subtype", "group": "The group of patients",
        "time_years": "Years after MBC diagnosis (monthly steps)",
        "survival_percentage": "Kaplan-Meier estimate, percent", "ci_lower_95": "Lower 95% limit, percent",
        "ci_upper_95": "Upper 95% limit, percent",
        "at_risk": "Patients still at risk at time_years; the curve and this count stop where fewer than the configured minimum remain",
        "synthetic_data": "yes when computed from the synthetic cohort",
    },
    "naome_run_charts.csv": {
        **HIERARCHY,
        "indicator_id": "Indicator identifier",
        "series": "quarterly (national, nation and region rows) or rolling_12_months (organisations: each point covers the 12 months ending with the quarter in period)",
        "window_start": "First quarter of the months a point covers (the quarter itself for quarterly series)",
        "quarter_index": "1 for the first quarter of the audit period, and so on",
        "numerator": "Patients meeting the indicator in the point's months (empty unless published)",
        "denominator": "Eligible patients in the point's months (empty unless published)",
        "percentage": "The point's percentage (empty unless published)",
        "status": "published, suppressed, too_few, not_applicable or not_available (the same disclosure control as the indicators)",
        "chart": "p (p-chart: binomial limits from each point's own denominator) or p_prime (Laney p' chart, for points that vary more than the binomial allows)",
        "centre": "Centre line of the point's limits segment: total numerator / total denominator, percent",
        "lower_limit": "Lower process limit (3 sigma from the point's own denominator, no lower than 0), percent",
        "upper_limit": "Upper process limit (no higher than 100), percent",
        "special_cause": "yes when a Making Data Count special-cause rule fired at this point (empty where no limits are shown)",
        "rule": "The first rule that fired: outside_limits, trend, two_of_three or shift",
        "rules_fired": "Every rule that fired, separated by semicolons",
        "variation": "improvement, concern, neither (no preferred direction), common_cause or not_available",
        "limits_status": "trial (fewer points than the minimum for baseline limits), baseline, or recalculated (after a sustained shift)",
        "limits_segment": "1, 2, ...: limits are recalculated from the start of a sustained shift",
        "chart_status": "charted, or not_enough_points (fewer published points than the minimum: no chart)",
        "points_published": "Published points in this series",
        "improvement_direction": "increase, decrease or neutral",
        "synthetic_data": "yes when computed from the synthetic cohort",
    },
    "naome_funnel_parameters.csv": {
        "indicator_id": "Indicator identifier", "period": "Reporting period", "subgroup": "Patients covered",
        "target": "National value the funnel is centred on, percent",
        "units": "Organisations used to estimate overdispersion (empty where it was not estimated)",
        "winsorised": "Share of z-scores winsorised at each end before phi was estimated",
        "phi": "Overdispersion ratio: mean square of the winsorised z-scores (1 = no more variation than chance)",
        "phi_p_value": "p-value of the test of no overdispersion (units x phi against chi-squared on units - 1 degrees of freedom)",
        "overdispersed": "yes when that test is significant at the configured level",
        "overdispersion_model": "The adjustment applied to the limits: none, multiplicative or additive",
        "tau2": "Between-organisation variance of the additive random-effects model (on the scale stated in method)",
        "method": "How the limits were calculated (the same text as funnel_method in naome_indicators.csv)",
    },
    "naome_funnel_limits.csv": {
        "indicator_id": "Indicator identifier", "period": "Reporting period", "subgroup": "Patients covered",
        "n": "Number of patients (funnel x-axis)", "target": "National value the funnel is centred on, percent",
        "lower_95": "Lower 95% limit, percent", "upper_95": "Upper 95% limit, percent",
        "lower_998": "Lower 99.8% limit, percent", "upper_998": "Upper 99.8% limit, percent",
        "method": "How the limits were calculated",
    },
    "naome_cohort_summary.csv": {
        "nation": "England, Wales, or England and Wales", "characteristic": "age_band, sex, route, subtype, metastatic_site, deprivation, ethnicity_group, performance_status",
        "category": "The category", "patients": "Patients (empty when suppressed)",
        "percentage": "Percentage of the nation's cohort", "status": "published or suppressed",
        "synthetic_data": "yes when computed from the synthetic cohort",
    },
    "naome_breakdowns.csv": {
        "period": "The pooled audit period", "period_type": "pooled",
        "level": "national (England and Wales) or nation", "org_code": "ONS code of England and Wales, England or Wales",
        "nation": "England and Wales, England or Wales (patients count against the nation of the organisation the indicator allocates them to)",
        "indicator_id": "Indicator identifier (every indicator with a rate computed from patient records)",
        "indicator_title": "Indicator title",
        "characteristic": "route (de novo or recurrent), age_band (at MBC diagnosis), sex, deprivation (IMD quintile in England, WIMD quintile in Wales, 1 = most deprived; England and Wales rows pool the two) or ethnicity_group",
        "category": "The category of the characteristic",
        "category_order": "Display order of the category within its characteristic (the order of the trend test's scores)",
        "numerator": "Patients meeting the indicator (empty when suppressed)",
        "denominator": "Patients eligible for the indicator (empty when suppressed)",
        "percentage": "numerator / denominator, percent; crude (not case-mix adjusted) for every indicator; empty unless status is published",
        "ci_lower_95": "Lower 95% confidence limit of percentage (Wilson score), percent",
        "ci_upper_95": "Upper 95% confidence limit of percentage (Wilson score), percent",
        "status": "published, suppressed (a count from 1 to 4, or one that would reveal such a count: the categories of a characteristic add up to the nation's total and England and Wales to the national value), too_few (denominator under the minimum: counts shown, no rate) or not_applicable (no eligible patients)",
        "status_note": "Plain-English reason for a status other than published; for published rows, any note on the data covered (e.g. a nation's missing year)",
        "in_test": "yes when the category takes part in the test of the characteristic (categories in [breakdowns] not_tested, such as Unknown, and empty categories do not)",
        "test": "chi_squared (Pearson chi-squared test of independence across the categories, no continuity correction) or chi_squared_trend (Cochran-Armitage chi-squared test for trend, 1 df, for ordered characteristics: age band and deprivation)",
        "chi_squared": "Test statistic (the same on every row of the indicator, nation and characteristic); computed from the true counts",
        "df": "Degrees of freedom of the test",
        "p_value": "p-value of the test before adjustment for multiple testing",
        "p_value_adjusted": "p-value adjusted for multiple testing over every test in this file (Holm's step-down method by default, [breakdowns] multiple_testing)",
        "beyond_chance": "yes when p_value_adjusted is below the significance level (0.05, [breakdowns] significance): the differences between categories are larger than chance would explain; no otherwise; empty where no test was run",
        "test_status": "tested; withheld (a count in the test is suppressed, and the statistic could reveal it); too_few (an expected count under [breakdowns] min_expected, too small for the chi-squared approximation); too_few_categories (fewer than two categories with patients); no_variation (every patient, or none, meets the indicator)",
        "synthetic_data": "yes when computed from the synthetic cohort",
    },
    "naome_data_completeness.csv": {
        **HIERARCHY,
        "item": "Key data item: performance_status, stage, er_her2, recurrence, deprivation, ethnicity or comorbidity ([completeness] items)",
        "item_title": "Name of the data item",
        "recorded": "Patients with the item recorded (empty when suppressed)",
        "eligible": "Patients the item applies to (stage: de novo; recurrence: recurrent; others: all), counted against the diagnosing organisation (empty when suppressed)",
        "percentage": "recorded / eligible, percent; empty unless status is published",
        "threshold": "Completeness threshold, percent ([disclosure] completeness_threshold)",
        "below_threshold": "yes when the percentage recorded is below threshold, no when not. Also given for a suppressed row whose eligible count leaves more possible counts on either side of the threshold than the suppressed range holds (so the flag narrows a hidden count less than suppression does); empty otherwise",
        "status": "published, suppressed, too_few (eligible under the minimum) or not_applicable (no eligible patients)",
        "status_note": "Reason for a status other than published",
        "synthetic_data": "yes when computed from the synthetic cohort",
    },
    "naome_survival_comparison.csv": {
        "group_type": "all, route or subtype", "group": "The group of patients (as in naome_survival.csv)",
        "nation": "England or Wales (nation of the diagnosing organisation)",
        "patients": "Patients in the group (empty when suppressed)", "deaths": "Deaths up to the data cut-off (empty when suppressed)",
        "expected_deaths": "Deaths expected in the nation if survival were the same in England and Wales (log-rank)",
        "test": "log_rank: the log-rank test of survival in England against Wales, follow-up from MBC diagnosis to death or the data cut-off",
        "chi_squared": "Log-rank statistic (1 df), the same on both rows of a group",
        "p_value": "p-value of the log-rank test",
        "difference_beyond_chance": "yes when p_value is below 0.05, no otherwise; empty where no test is published",
        "status": "published, suppressed (a count from 1 to 4 in either nation: no test is published for the group) or not_estimable",
        "synthetic_data": "yes when computed from the synthetic cohort",
    },
    "naome_patient_flow.csv": {
        "step": "Step of the cohort derivation", "label": "What the step is",
        "count": "People at or removed by this step (empty when suppressed)",
        "status": "published, or suppressed (a count from 1 to 4, or the count withheld beside one so no total gives it away)",
    },
    "naome_reconciliation.csv": {
        "file": "Input file", "records_read": "Records read (empty when suppressed)",
        "quarantined": "Records moved to quarantine (invalid; empty when suppressed)",
        "excluded": "Valid records of people outside the audit cohort, counted from each person's exclusion reason (empty when suppressed)",
        "included": "Valid records of people in the cohort (empty when suppressed)",
        "balanced": "yes when read = quarantined + excluded + included, each counted on its own (checked on the unsuppressed counts)",
        "status": "published, or suppressed (a count from 1 to 4, or the count withheld beside one)",
    },
    "naome_data_sources.csv": {
        "file": "Input file of the linked extract", "dataset": "The national dataset(s) the file comes from",
        "nations": "Nations the file covers (from the extract's manifest)",
        "extract_date": "Date the data were extracted (from the extract's manifest; 'not supplied' without one)",
        "covers_from": "Earliest date the file's records cover", "covers_to": "Latest date the file's records cover",
        "records_read": "Records read", "records_linked": "Records whose patient identifier links to a person in the patients file",
        "linked_percentage": "records_linked / records_read, percent",
        "cohort_patients_with_record": "Patients in the audit cohort with at least one record in the file",
        "cohort_percentage": "cohort_patients_with_record as a percentage of the audit cohort",
    },
    "naome_casemix_models.csv": {
        "indicator_id": "Outcome indicator", "term": "Model term (variable and level)",
        "odds_ratio": "Odds ratio", "or_ci_lower_95": "Lower 95% limit of the odds ratio", "or_ci_upper_95": "Upper 95% limit",
        "p_value": "Wald p-value", "estimate": "Log-odds coefficient", "std_error": "Standard error",
    },
    "naome_casemix_fit.csv": {
        "indicator_id": "Outcome indicator", "patients": "Patients in the model", "events": "Outcome events",
        "c_statistic": "Area under the ROC curve", "hosmer_lemeshow_p": "Hosmer-Lemeshow p-value (10 groups)",
        "formula": "Model formula",
    },
    "naome_casemix_calibration.csv": {
        "indicator_id": "Outcome indicator", "decile": "Decile of predicted risk", "n": "Patients",
        "observed": "Observed events", "expected": "Expected events", "observed_rate": "Observed rate",
        "expected_rate": "Expected rate",
    },
}
# The Results attribute each file is read into (and the data stage's table each is written from).
TABLE_OF_FILE = {
    "naome_indicators.csv": "indicators", "naome_survival.csv": "survival",
    "naome_survival_curves.csv": "survival_curves", "naome_run_charts.csv": "run_charts",
    "naome_funnel_limits.csv": "funnel_limits", "naome_funnel_parameters.csv": "funnel_parameters",
    "naome_cohort_summary.csv": "cohort_summary",
    "naome_patient_flow.csv": "flow", "naome_reconciliation.csv": "reconciliation",
    "naome_data_sources.csv": "data_sources",
    "naome_casemix_models.csv": "casemix_models", "naome_casemix_fit.csv": "casemix_fit",
    "naome_casemix_calibration.csv": "casemix_calibration", "naome_breakdowns.csv": "breakdowns",
    "naome_data_completeness.csv": "data_completeness", "naome_survival_comparison.csv": "survival_comparison",
}
META_FILE = "naome_run.json"  # period, cut-off, synthetic flag, registry version, config used, build time


@dataclass
class Results:
    """Everything the publishers may read: the public data files and the run's metadata."""

    data_dir: Path
    indicators: pd.DataFrame
    survival: pd.DataFrame
    survival_curves: pd.DataFrame
    run_charts: pd.DataFrame
    funnel_limits: pd.DataFrame
    funnel_parameters: pd.DataFrame
    cohort_summary: pd.DataFrame
    flow: pd.DataFrame
    reconciliation: pd.DataFrame
    data_sources: pd.DataFrame
    casemix_models: pd.DataFrame
    casemix_fit: pd.DataFrame
    casemix_calibration: pd.DataFrame
    breakdowns: pd.DataFrame
    data_completeness: pd.DataFrame
    survival_comparison: pd.DataFrame
    meta: dict

    @property
    def synthetic(self) -> bool:
        return bool(self.meta.get("synthetic", True))

    @property
    def primary_period(self) -> str:
        return self.meta["primary_period"]


class ResultsError(ValueError):
    """A results file is missing or does not have the columns the data stage writes."""


def _read(path: Path) -> pd.DataFrame:
    """One results file, its text columns kept as text; a missing file or column is a ResultsError."""
    import pandas as pd

    if not path.is_file():
        raise ResultsError(f"{path}: results file missing; run the data stage (naome-report build --only data)")
    text = {"org_code", "parent_code", "region_code", "category", "funnel_method", "outlier_status", "outlier_note",
            "completeness_flag", "status_note", "rule", "rules_fired", "median_days_note", "funnel_position", "outlier_process",
            "vs_national", "series", "window_start", "chart", "limits_status", "chart_status", "special_cause", "method",
            "overdispersed", "overdispersion_model",
            "comparator_code", "vs_comparator", "change_significant", "beyond_chance", "below_threshold",
            "difference_beyond_chance", "in_test"}
    try:
        header = pd.read_csv(path, nrows=0).columns
    except (pd.errors.EmptyDataError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise ResultsError(f"{path}: not a readable CSV file ({exc}); rebuild it with the data stage") from exc
    missing = [c for c in FILES[path.name] if c not in header]
    if missing:
        named = ", ".join(missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
        raise ResultsError(f"{path}: missing column(s) {named}: not written by this version's data stage; "
                           "rebuild it (naome-report build --only data --force)")
    return pd.read_csv(path, dtype={c: str for c in header if c in text}, keep_default_na=False, na_values=[""],
                       low_memory=False)


def load_results(data_dir: Path) -> Results:
    """Read the published data files of one run."""
    frames = {name: _read(data_dir / name) for name in FILES}
    try:
        meta = json.loads((data_dir / META_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ResultsError(f"{data_dir / META_FILE}: missing or not JSON ({exc}); rebuild it with the data stage") from exc
    return Results(data_dir=data_dir, meta=meta, **{TABLE_OF_FILE[name]: frame for name, frame in frames.items()})


def data_dictionary_markdown(synthetic: bool, disclosure: dict | None = None) -> str:
    """The README.md of output/data: every column of every file, with the run's disclosure thresholds."""
    rules = {"suppress_low": 1, "suppress_high": 4, "min_denominator": 10, **(disclosure or {})}
    lines = ["# NAoMe static data files: data dictionary", ""]
    if synthetic:
        lines += ["> **Synthetic data.** These files were computed from the synthetic cohort bundled with "
                  "naome-report. They describe no real patient or organisation.", ""]
    lines += ["Tidy CSV files, UTF-8, one header row. Organisation hierarchy columns come first. A suppressed "
              "or unavailable value is an empty cell, with the reason in the `status` column: a row with a count "
              f"from {rules['suppress_low']} to {rules['suppress_high']} (numerator, denominator or their "
              "difference) shows no numerator, denominator or percentage, with secondary suppression so no "
              "suppressed value can be recovered by subtraction; no rate is shown where the denominator is under "
              f"{rules['min_denominator']}. Funnel positions and outlier status are computed from the true counts "
              "and published even where the counts are suppressed.", ""]
    for name, columns in FILES.items():
        lines += [f"## {name}", "", "| column | meaning |", "|---|---|"]
        lines += [f"| `{col}` | {meaning} |" for col, meaning in columns.items()]
        lines.append("")
    lines += [f"## {META_FILE}", "", "Metadata of the run: reporting period, data cut-off, whether the data are "
              "synthetic, the indicator definitions version, and when the files were built.", ""]
    return "\n".join(lines)
