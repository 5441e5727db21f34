"""The words, symbols and colour roles every output uses for a result: one vocabulary for all publishers.

The statistics modules and the results hub write *codes* (``above_998``, ``alarm_low``, ``better``);
publishers turn them into words here and nowhere else, so that the State of the Nation report, the
packs, the portal and the workbook say the same thing in the same words.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Term:
    """How one code reads: a short label (tables, legends) and a sentence fragment (running text)."""

    short: str
    long: str
    symbol: str = ""
    colour_role: str = "neutral"  # better | worse | neutral | none: publishers map roles to house colours


# --- Funnel position (every indicator with a rate, for local quality improvement) ---------------
# Words that locate a result against the funnel limits, without "alert" or "alarm".
FUNNEL_POSITION: dict[str, Term] = {
    "above_998": Term("Above 99.8% limit", "above the upper 99.8% funnel limit", "\u25b2\u25b2"),
    "above_95": Term("Above 95% limit", "above the upper 95% funnel limit", "\u25b2"),
    "within": Term("Within limits", "within the 95% funnel limits", "\u25cf"),
    "below_95": Term("Below 95% limit", "below the lower 95% funnel limit", "\u25bc"),
    "below_998": Term("Below 99.8% limit", "below the lower 99.8% funnel limit", "\u25bc\u25bc"),
    "not_assessed": Term("Not assessed", "not assessed against the funnel limits", "\u2013", "none"),
}

# --- HQIP outlier status (only indicators in the audit's outlier process) ---------------------------
OUTLIER_STATUS: dict[str, Term] = {
    "alarm_high": Term("Alarm (high)", "an alarm: above the upper 99.8% limit (HQIP outlier process)", "\u25b2\u25b2"),
    "alert_high": Term("Alert (high)", "an alert: above the upper 95% limit (HQIP outlier process)", "\u25b2"),
    "within_limits": Term("Not an outlier", "within the 95% limits (not an outlier)", "\u25cf"),
    "alert_low": Term("Alert (low)", "an alert: below the lower 95% limit (HQIP outlier process)", "\u25bc"),
    "alarm_low": Term("Alarm (low)", "an alarm: below the lower 99.8% limit (HQIP outlier process)", "\u25bc\u25bc"),
    "not_assessed": Term("Not assessed", "not assessed for outlier status", "\u2013", "none"),
    "not_in_process": Term("Not in outlier process", "not one of the indicators in the HQIP outlier process", "", "none"),
}

# Why an organisation was not assessed (outlier_note).
NOT_ASSESSED_REASON: dict[str, str] = {
    "too_few": "too few patients to assess",
    "not_available": "data not available",
    "no_patients": "no eligible patients",
    "not_eligible": "no funnel for this indicator",
}

# --- Comparison with a reference value (national, or the unit's comparator) ----------------------
# Directional indicators are judged; indicators with no preferred direction are only described.
COMPARISON: dict[str, Term] = {
    "better": Term("Better", "better than", "\u2191", "better"),
    "similar": Term("Similar", "similar to", "\u2022", "neutral"),
    "worse": Term("Worse", "worse than", "\u2193", "worse"),
    "higher": Term("Higher", "higher than", "\u25b3", "neutral"),
    "lower": Term("Lower", "lower than", "\u25bd", "neutral"),
    "not_assessed": Term("Not compared", "not compared", "\u2013", "none"),
}

# --- Publication status of a row --------------------------------------------------------------------
STATUS: dict[str, Term] = {
    "published": Term("Published", "published"),
    "suppressed": Term("Suppressed", "suppressed to protect confidentiality (small numbers)", "[c]", "none"),
    "too_few": Term("Too few patients", "too few patients to show a rate", "[u]", "none"),
    "not_available": Term("Not available", "data not available", "[x]", "none"),
    "not_applicable": Term("Not applicable", "not applicable (no eligible patients)", "[z]", "none"),
    "too_few_at_risk": Term("Too few at risk", "too few patients still at risk for an estimate", "[u]", "none"),
    "not_estimable": Term("Not estimable", "not estimable (follow-up too short)", "[x]", "none"),
}

# --- Making Data Count variation of a run-chart point ----------------------------------------------
VARIATION: dict[str, Term] = {
    "common_cause": Term("Common cause", "common-cause variation (no signal)", "\u25cf", "neutral"),
    "improvement": Term("Improvement", "special-cause variation: improvement", "\u25a0", "better"),
    "concern": Term("Concern", "special-cause variation: concern", "\u25c6", "worse"),
    "neither": Term("Special cause", "special-cause variation (no preferred direction)", "\u2b22", "neutral"),
    "not_available": Term("No value", "no published value", "", "none"),
}

# --- Run charts: which chart, which limits, which rule ------------------------------------------------
CHART: dict[str, Term] = {
    "p": Term("p-chart", "a p-chart, with limits from each point's own number of patients"),
    "p_prime": Term("Laney p\u2032 chart", "a Laney p\u2032 chart, with limits widened for variation beyond chance"),
}
LIMITS_STATUS: dict[str, Term] = {
    "trial": Term("Trial limits", "trial limits, from fewer points than a baseline needs"),
    "baseline": Term("Baseline limits", "baseline limits"),
    "recalculated": Term("Recalculated limits", "limits recalculated after a sustained shift"),
}
CHART_STATUS: dict[str, Term] = {
    "charted": Term("Charted", "charted"),
    "not_enough_points": Term("Not enough points", "not enough published points to draw a run chart", "", "none"),
}
SERIES: dict[str, Term] = {
    "quarterly": Term("Quarterly", "a value for each quarter"),
    "rolling_12_months": Term("Rolling 12 months", "a value for the 12 months up to each quarter"),
}
RULE: dict[str, Term] = {
    "outside_limits": Term("Outside the limits", "a point outside the process limits"),
    "trend": Term("Trend", "a run of points all going up or all going down"),
    "two_of_three": Term("Two of three near a limit", "two of three points beyond two sigma on the same side"),
    "shift": Term("Shift", "a run of points all on one side of the centre line"),
}

# --- Who a row covers ---------------------------------------------------------------------------------
SUBGROUP: dict[str, Term] = {
    "all": Term("All patients", "all patients"),
    "de_novo": Term("De novo", "patients with de novo metastatic breast cancer"),
    "recurrent": Term("Recurrent", "patients with recurrent metastatic breast cancer"),
    "triple_negative": Term("Triple negative", "patients with triple negative breast cancer"),
    "bone_metastases": Term("Bone metastases", "patients with bone metastases"),
}

DIRECTION: dict[str, Term] = {
    "higher_better": Term("Higher is better", "a higher value is better"),
    "lower_better": Term("Lower is better", "a lower value is better"),
    "neutral": Term("No preferred direction", "neither a higher nor a lower value is better in itself"),
}

# --- Reporting level of a row ------------------------------------------------------------------------
LEVEL: dict[str, Term] = {
    "national": Term("England and Wales", "England and Wales"),
    "nation": Term("Nation", "a nation"),
    "region": Term("NHS England region", "an NHS England region"),
    "alliance": Term("Cancer Alliance or Welsh Region", "a Cancer Alliance or Welsh Region"),
    "organisation": Term("NHS trust or health board", "an NHS trust or Welsh health board"),
}

# --- Kind of indicator ---------------------------------------------------------------------------------
INDICATOR_TYPE: dict[str, Term] = {
    "process": Term("Process", "a process measure"),
    "outcome": Term("Outcome", "an outcome measure"),
    "completeness": Term("Data completeness", "a data-completeness measure"),
    "timeliness": Term("Timeliness", "a timeliness measure"),
    "experience": Term("Patient experience", "a patient-experience measure"),
    "data_quality": Term("Data quality", "a data-quality measure"),
}

# --- Breakdowns by patient characteristic, and the tests across their categories ---------------------
CHARACTERISTIC: dict[str, Term] = {
    "route": Term("Route to MBC", "route to metastatic breast cancer (de novo or recurrent)"),
    "age_band": Term("Age at diagnosis", "age at diagnosis of metastatic breast cancer"),
    "sex": Term("Sex", "sex"),
    "deprivation": Term("Deprivation quintile", "deprivation quintile (IMD in England, WIMD in Wales; 1 is the most deprived)"),
    "ethnicity_group": Term("Ethnic group", "ethnic group"),
}

ASSOCIATION_TEST: dict[str, Term] = {
    "chi_squared": Term("Chi-squared test", "a chi-squared test of the differences between groups"),
    "chi_squared_trend": Term("Chi-squared test for trend", "a chi-squared test for a trend across the ordered groups"),
    "log_rank": Term("Log-rank test", "a log-rank test comparing survival"),
}

TEST_STATUS: dict[str, Term] = {
    "tested": Term("Tested", "tested"),
    "withheld": Term("Not published", "not published because a count in the test is suppressed", "[c]", "none"),
    "too_few": Term("Too few patients", "too few patients for the test", "", "none"),
    "too_few_categories": Term("Nothing to compare", "fewer than two groups with patients to compare", "", "none"),
    "no_variation": Term("No variation", "every patient, or none, met the indicator", "", "none"),
}

BEYOND_CHANCE: dict[str, Term] = {
    "yes": Term("Beyond chance", "larger than chance alone would explain"),
    "no": Term("Within chance", "no larger than chance alone would explain"),
}

# --- Data completeness of a key item ----------------------------------------------------------------
BELOW_THRESHOLD: dict[str, Term] = {
    "yes": Term("Below threshold", "recorded for fewer patients than the completeness threshold", "\u25bc", "worse"),
    "no": Term("Meets threshold", "recorded for at least the threshold share of patients", "\u25cf", "neutral"),
}

# --- Patient factors of the case-mix models and the survival groups (the breakdowns' and more) -------------
PATIENT_FACTOR: dict[str, Term] = {
    **CHARACTERISTIC,
    "subtype": Term("Subtype", "breast cancer subtype (ER and HER2 status)"),
    "ps_group": Term("Performance status", "performance status"),
    "charlson_group": Term("Comorbidity", "comorbidity (Charlson index)"),
}

VOCABULARIES: dict[str, dict[str, Term]] = {
    "funnel_position": FUNNEL_POSITION, "outlier_status": OUTLIER_STATUS, "comparison": COMPARISON,
    "status": STATUS, "variation": VARIATION, "subgroup": SUBGROUP, "direction": DIRECTION, "chart": CHART,
    "limits_status": LIMITS_STATUS, "chart_status": CHART_STATUS, "series": SERIES, "rule": RULE,
    "characteristic": CHARACTERISTIC, "association_test": ASSOCIATION_TEST, "test_status": TEST_STATUS,
    "beyond_chance": BEYOND_CHANCE, "below_threshold": BELOW_THRESHOLD, "level": LEVEL,
    "indicator_type": INDICATOR_TYPE, "patient_factor": PATIENT_FACTOR,
}


def term(vocabulary: str, code: str) -> Term:
    """The Term for a code, naming the vocabulary and the known codes when it is unknown."""
    table = VOCABULARIES[vocabulary]
    try:
        return table[code]
    except KeyError:
        raise KeyError(f"unknown {vocabulary} code {code!r}; known: {', '.join(table)}") from None
