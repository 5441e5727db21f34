"""The results hub: the published data files every output reads (and nothing else)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

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
        "numerator": "Patients meeting the indicator (empty when suppressed)",
        "denominator": "Patients eligible for the indicator (empty when suppressed or not applicable)",
        "percentage": "numerator / denominator, in percent (0-100); empty unless status is published",
        "ci_lower_95": "Lower 95% confidence limit of percentage (Wilson score), percent",
        "ci_upper_95": "Upper 95% confidence limit of percentage (Wilson score), percent",
        "median_days": "Median days from MBC diagnosis (timeliness indicators only)",
        "national_percentage": "The England and Wales value of the same indicator, period and subgroup (England where the indicator covers England only), percent",
        "expected": "Expected number of patients from the case-mix model (outcome indicators, organisations)",
        "observed_expected": "Observed / expected ratio (case-mix adjusted outcome indicators)",
        "adjusted_percentage": "Case-mix adjusted percentage = observed / expected x national percentage",
        "funnel_lower_95": "Lower 95% funnel-plot control limit for this denominator, percent",
        "funnel_upper_95": "Upper 95% funnel-plot control limit, percent",
        "funnel_lower_998": "Lower 99.8% funnel-plot control limit, percent",
        "funnel_upper_998": "Upper 99.8% funnel-plot control limit, percent",
        "funnel_method": "How the funnel limits were calculated",
        "outlier_status": "alarm_high, alarm_low (beyond 99.8% limits), alert_high, alert_low (beyond 95%), within_limits, or not_assessed",
        "outlier_note": "Why an organisation was not assessed (too_few, not_eligible, not_available, suppressed)",
        "completeness_flag": "Set when the data item this indicator depends on is recorded for fewer patients than the completeness threshold",
        "status": "published, suppressed (small numbers), too_few (denominator under the minimum), not_available (data not collected for this nation/period) or not_applicable",
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
        "survival_percentage": "Kaplan-Meier estimate of the percentage alive at time_years",
        "ci_lower_95": "Lower 95% confidence limit (log-log), percent",
        "ci_upper_95": "Upper 95% confidence limit (log-log), percent",
        "at_risk": "Patients still followed at time_years",
        "status": "published, suppressed, too_few or not_estimable",
        "status_note": "Reason for a status other than published",
        "synthetic_data": "yes when computed from the synthetic cohort",
    },
    "naome_survival_curves.csv": {
        "level": "national or organisation", "org_code": "Unit code", "org_name": "Unit name",
        "group_type": "all, route or subtype", "group": "The group of patients",
        "time_years": "Years after MBC diagnosis (monthly steps)",
        "survival_percentage": "Kaplan-Meier estimate, percent", "ci_lower_95": "Lower 95% limit, percent",
        "ci_upper_95": "Upper 95% limit, percent", "synthetic_data": "yes when computed from the synthetic cohort",
    },
    "naome_run_charts.csv": {
        **HIERARCHY,
        "indicator_id": "Indicator identifier", "quarter_index": "1 for the first quarter of the audit period, and so on",
        "numerator": "Patients meeting the indicator in the quarter (empty when suppressed)",
        "denominator": "Eligible patients in the quarter (empty when suppressed)",
        "percentage": "Quarterly percentage (empty unless published)",
        "status": "published, suppressed, too_few or not_available",
        "mean": "Centre line: mean of the published quarterly percentages",
        "lower_limit": "Lower process limit: mean - 2.66 x mean moving range",
        "upper_limit": "Upper process limit: mean + 2.66 x mean moving range",
        "special_cause": "yes when a Making Data Count special-cause rule fired at this point",
        "rule": "The first rule that fired: outside_limits, trend, two_of_three or shift",
        "rules_fired": "Every rule that fired, separated by semicolons",
        "variation": "improvement, concern, neither (no preferred direction) or common_cause",
        "limits_status": "trial (fewer points than the minimum for baseline limits) or baseline",
        "improvement_direction": "increase, decrease or neutral",
        "synthetic_data": "yes when computed from the synthetic cohort",
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
    "naome_funnel_limits.csv": "funnel_limits", "naome_cohort_summary.csv": "cohort_summary",
    "naome_patient_flow.csv": "flow", "naome_reconciliation.csv": "reconciliation",
    "naome_casemix_models.csv": "casemix_models", "naome_casemix_fit.csv": "casemix_fit",
    "naome_casemix_calibration.csv": "casemix_calibration",
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
    cohort_summary: pd.DataFrame
    flow: pd.DataFrame
    reconciliation: pd.DataFrame
    casemix_models: pd.DataFrame
    casemix_fit: pd.DataFrame
    casemix_calibration: pd.DataFrame
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
    if not path.is_file():
        raise ResultsError(f"{path}: results file missing; run the data stage (naome-report build --only data)")
    text = {"org_code", "parent_code", "region_code", "category", "funnel_method", "outlier_status", "outlier_note",
            "completeness_flag", "status_note", "rule", "rules_fired", "median_days_note"}
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


def data_dictionary_markdown(synthetic: bool) -> str:
    """The README.md of output/data: every column of every file."""
    lines = ["# NAoMe static data files: data dictionary", ""]
    if synthetic:
        lines += ["> **Synthetic data.** These files were computed from the synthetic cohort bundled with "
                  "naome-report. They describe no real patient or organisation.", ""]
    lines += ["Tidy CSV files, UTF-8, one header row. Organisation hierarchy columns come first. A suppressed "
              "or unavailable value is an empty cell, with the reason in the `status` column: counts from 1 to 4 "
              "(and anything derived from them) are suppressed, with secondary suppression so no suppressed "
              "value can be recovered by subtraction; no rate is shown where the denominator is under 10.", ""]
    for name, columns in FILES.items():
        lines += [f"## {name}", "", "| column | meaning |", "|---|---|"]
        lines += [f"| `{col}` | {meaning} |" for col, meaning in columns.items()]
        lines.append("")
    lines += [f"## {META_FILE}", "", "Metadata of the run: reporting period, data cut-off, whether the data are "
              "synthetic, the indicator definitions version, and when the files were built.", ""]
    return "\n".join(lines)
