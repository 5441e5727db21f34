"""The values the national documents show, picked from the results hub and formatted once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from naome_report.config import Config
from naome_report.hub import Results
from naome_report.publish.documents.formatting import (
    NATIONS,
    NOT_SHOWN,
    date_words,
    fmt,
    fmt_ci,
    fmt_count,
    fmt_range,
    is_missing,
)
from naome_report.publish.methods_context import methods_context
from naome_report.publish.supplement_context import supplement_context
from naome_report.registry import GOAL_TITLES, Indicator, Registry
from naome_report.vocabulary import BEYOND_CHANCE, OUTLIER_STATUS, STATUS

DATA_FOLDER = "data"  # where the published data files sit beside the documents (output/data)
SURVIVAL_YEARS = (1, 3)
MONTHS_PER_YEAR = 12
# A survival estimate whose people still at risk are fewer than this share of the group gets a plain caveat.
SHORT_FOLLOW_UP = 0.25
# Cohort summary categories as readers see them.
CATEGORY_LABELS = {
    "de_novo": "De novo", "recurrent": "Recurrent",
    "0-1": "0–1 (fully active or restricted in strenuous activity)", "2": "2", "3-4": "3–4",
}
SITE_LABELS = {"bon": "Bone", "liv": "Liver", "lun": "Lung", "bra": "Brain", "nod": "Distant lymph nodes",
               "ple": "Pleura"}
CHARACTERISTICS = {
    "route": "Route to metastatic breast cancer", "age_band": "Age at diagnosis (years)", "sex": "Sex",
    "subtype": "Subtype", "metastatic_site": "Metastatic sites at diagnosis (a person can have more than one)",
    "deprivation": "Deprivation quintile (1 = most deprived)", "ethnicity_group": "Ethnic group",
    "ps_group": "Performance status",
}
AGE_ORDER = ["<50", "50-59", "60-69", "70-79", "80+"]
# The care the patient report shows, in its order (plain titles come from the registry).
PUBLIC_INDICATORS = ("mdt", "biopsy", "receptors", "cdk46", "anti_her2", "sact", "radiotherapy", "bone_agent", "cns")
# Case-mix model covariates in words.
COVARIATE_WORDS = {
    "age_band": "age", "sex": "sex", "deprivation": "deprivation", "ethnicity_group": "ethnic group",
    "charlson_group": "comorbidity (Charlson index)", "ps_group": "performance status",
    "route": "route to MBC (de novo or recurrent)", "subtype": "subtype",
}
CHANGE_WORDS = {"yes": "Yes", "no": "No"}  # is the change since the year before beyond chance
BEYOND_LIMITS = ("alarm_high", "alarm_low", "alert_high", "alert_low")  # outlier statuses listed as outliers


# ---------------------------------------------------------------- selections


def national_rows(results: Results, period: str, subgroup: str = "all") -> pd.DataFrame:
    """National and nation rows of one period and subgroup."""
    d = results.indicators
    return d[d.level.isin(["national", "nation"]) & (d.period == period) & (d.subgroup == subgroup)]


def org_rows(results: Results, indicator_id: str, period: str, level: str = "organisation") -> pd.DataFrame:
    """Organisation (or alliance) rows of one indicator, period, subgroup 'all'."""
    d = results.indicators
    return d[(d.level == level) & (d.indicator_id == indicator_id) & (d.period == period) & (d.subgroup == "all")]


def value_cell(row: pd.Series | None, ind: Indicator) -> dict[str, str]:
    """One nation's value of an indicator, formatted."""
    if row is None:
        return {"pct": NOT_SHOWN, "ci": NOT_SHOWN, "num": NOT_SHOWN, "den": NOT_SHOWN, "median": NOT_SHOWN,
                "status": "not_available", "note": "No result", "published": False}
    published = row["status"] == "published"
    note = "" if published else str(row.get("status_note") or row["status"]).replace("_", " ")
    change = row.get("change_points")
    return {
        "pct": fmt(row["percentage"]) if published else NOT_SHOWN,
        "ci": fmt_ci(row["ci_lower_95"], row["ci_upper_95"]) if published else NOT_SHOWN,
        "num": fmt(row["numerator"], "count"), "den": fmt(row["denominator"], "count"),
        "median": fmt(row["median_days"], "days"), "status": row["status"], "note": note, "published": published,
        "change": fmt(change, "points"),
        "change_ci": fmt_range(row.get("change_ci_lower_95"), row.get("change_ci_upper_95"), "points"),
        "change_beyond_chance": row.get("change_significant") == "yes",
        "change_words": CHANGE_WORDS.get(row.get("change_significant"), ""),
    }


def indicator_entry(ind: Indicator, nat: pd.DataFrame, results: Results, period: str) -> dict[str, Any]:
    """Everything the documents say about one indicator."""
    rows = nat[nat.indicator_id == ind.id]
    by_nation = {n: (rows[rows.nation == n].iloc[0] if (rows.nation == n).any() else None) for n in NATIONS}
    values = {n: value_cell(by_nation[n], ind) for n in NATIONS}
    orgs = org_rows(results, ind.id, period)
    orgs = orgs[orgs.nation.isin(ind.nations)]  # organisations of a nation the data do not cover are not counted
    outliers = orgs[orgs.outlier_status.isin(BEYOND_LIMITS)]
    status = orgs.outlier_status.value_counts()
    position = orgs.funnel_position.value_counts()
    listed = outlier_list(outliers, ind)
    return {
        "id": ind.id, "title": ind.title, "plain_title": ind.plain_title, "goal": ind.goal,
        "goal_title": ind.goal_title, "type": ind.type.replace("_", " "), "direction": ind.direction_text,
        "direction_code": ind.direction,
        "numerator_text": ind.numerator_text, "denominator_text": ind.denominator_text,
        "exclusions": ind.exclusions, "window": ind.window, "source": ind.source, "evidence": ind.evidence,
        "allocation": ALLOCATION_TEXT.get(ind.allocation, ind.allocation), "nations": ", ".join(ind.nations),
        "not_available": [f"{u.nation} {', '.join(u.financial_years)}: {u.reason}" for u in ind.not_available],
        "casemix": ind.is_casemix_adjusted, "has_rate": ind.has_rate, "outlier_process": ind.outlier_process,
        "ew": values["England and Wales"], "england": values["England"], "wales": values["Wales"],
        # The national value is that of the nations covered: England and Wales, or England alone (CPES).
        "coverage": ind.coverage, "national": values[ind.coverage], "counted": ind.counted,
        "values": [{"nation": n, **values[n]} for n in NATIONS],
        "timeliness": ind.type == "timeliness",
        "n_orgs": fmt(len(orgs), "count"),
        "n_assessed": fmt(int((orgs.funnel_position != "not_assessed").sum()), "count"),
        "n_within": fmt(int(position.get("within", 0)), "count"),
        "n_beyond_95": fmt(int(position.get("above_95", 0) + position.get("below_95", 0)), "count"),
        "n_beyond_998": fmt(int(position.get("above_998", 0) + position.get("below_998", 0)), "count"),
        "n_outlier_assessed": fmt(int(orgs.outlier_status.isin([*BEYOND_LIMITS, "within_limits"]).sum()), "count"),
        "n_outlier_within": fmt(int(status.get("within_limits", 0)), "count"),
        "n_alert": fmt(int(status.get("alert_high", 0) + status.get("alert_low", 0)), "count"),
        "n_alarm": fmt(int(status.get("alarm_high", 0) + status.get("alarm_low", 0)), "count"),
        "outliers": listed,
        "alarms": [o for o in listed if o["alarm"]],
        "adjustment": adjustment_words(ind) if ind.is_casemix_adjusted else "",
        "figures": {"funnel": None, "alliance": None, "run": None},
    }


def adjustment_words(ind: Indicator) -> str:
    """'Case-mix adjusted for age, sex, ...' from the indicator's model covariates."""
    covariates = [COVARIATE_WORDS.get(c, c.replace("_", " ")) for c in (ind.casemix or {}).get("covariates", [])]
    if not covariates:
        return "Case-mix adjusted"
    listed = covariates[0] if len(covariates) == 1 else ", ".join(covariates[:-1]) + " and " + covariates[-1]
    return f"Case-mix adjusted for {listed}"


ALLOCATION_TEXT = {
    "diagnosing_org": "The diagnosing organisation: first MDT discussion, else first metastatic record",
    "last_sact_org": "The trust or health board that gave the last systemic anti-cancer therapy",
    "survey_trust": "The trust the survey names for the respondent (England only)",
}


def outlier_list(outliers: pd.DataFrame, ind: Indicator) -> list[dict[str, str]]:
    """Organisations beyond the limits, alarms first, with their values."""
    order = {"alarm_low": 0, "alarm_high": 1, "alert_low": 2, "alert_high": 3}
    ranked = outliers.assign(_o=outliers.outlier_status.map(order)).sort_values(["_o", "org_name"])
    column = "adjusted_percentage" if ind.is_casemix_adjusted else "percentage"
    return [{
        "org": f"{r['org_name']} ({r['org_code']})", "nation": r["nation"],
        "status": OUTLIER_STATUS[r["outlier_status"]].short,
        "side": "Below" if r["outlier_status"].endswith("low") else "Above",
        "alarm": r["outlier_status"].startswith("alarm"), "value": fmt(r[column]),
        "den": fmt(r["denominator"], "count"),
    } for r in ranked[["org_name", "org_code", "nation", "outlier_status", column, "denominator"]].to_dict("records")]


def survival_entries(results: Results, period: str) -> list[dict[str, str]]:
    """National 1- and 3-year survival by group."""
    s = results.survival
    s = s[(s.level == "national") & (s.period == period)]
    out = []
    for (gtype, group), rows in s.groupby(["group_type", "group"], sort=False):
        entry = {"group_type": gtype, "group": group, "patients": fmt(rows.patients.iloc[0], "count")}
        for year in SURVIVAL_YEARS:
            row = rows[rows.time_years == year]
            ok = len(row) and row.status.iloc[0] == "published"
            entry[f"y{year}"] = fmt(row.survival_percentage.iloc[0]) if ok else NOT_SHOWN
            entry[f"y{year}_whole"] = fmt(row.survival_percentage.iloc[0], "count") if ok else NOT_SHOWN
            entry[f"y{year}_ci"] = fmt_ci(row.ci_lower_95.iloc[0], row.ci_upper_95.iloc[0]) if ok else NOT_SHOWN
            entry[f"y{year}_at_risk"] = fmt(row.at_risk.iloc[0], "count") if len(row) else NOT_SHOWN
        last = rows[rows.time_years == max(SURVIVAL_YEARS)]
        entry["short_follow_up"] = bool(len(last)) and float(last.at_risk.iloc[0]) < SHORT_FOLLOW_UP * float(
            rows.patients.iloc[0])
        out.append(entry)
    return out


def at_risk_table(results: Results, group_type: str) -> pd.DataFrame:
    """People still followed (at risk) at diagnosis and at each whole year of the survival curves, per group."""
    c = results.survival_curves
    c = c[(c.level == "national") & (c.group_type == group_type) & c.at_risk.notna()]
    whole = (c.time_years * MONTHS_PER_YEAR).round() % MONTHS_PER_YEAR == 0  # the curves step by month
    return c[whole].assign(time_years=c.time_years.round())[["group", "time_years", "at_risk"]].reset_index(drop=True)


def survival_nation_entries(results: Results) -> list[dict[str, Any]]:
    """England against Wales for each survival group: patients, deaths observed and expected, the log-rank test."""
    c = results.survival_comparison
    out = []
    for (gtype, group), rows in c.groupby(["group_type", "group"], sort=False):
        by = {r.nation: r for r in rows.itertuples()}
        if not {"England", "Wales"} <= set(by):
            continue
        wales = by["Wales"]
        published = wales.status == "published"
        tested = published and not is_missing(wales.p_value)
        out.append({
            "group": group, "group_type": gtype,
            "nations": [{"patients": fmt(by[n].patients, "count"), "deaths": fmt(by[n].deaths, "count"),
                         "expected": fmt(by[n].expected_deaths, "count")} for n in ("England", "Wales")],
            "p": fmt(wales.p_value, "p") if tested else NOT_SHOWN,
            "difference": _survival_difference(wales) if tested else STATUS[wales.status].short,
        })
    return out


def _survival_difference(wales: Any) -> str:
    """'Beyond chance: more deaths in Wales than expected', or 'Within chance'."""
    if wales.difference_beyond_chance != "yes":
        return BEYOND_CHANCE["no"].short
    side = "more" if wales.deaths > wales.expected_deaths else "fewer"
    return f"{BEYOND_CHANCE['yes'].short}: {side} deaths in Wales than if survival were the same as in England"


def cohort_tables(results: Results) -> list[dict[str, Any]]:
    """Cohort counts by characteristic, one column pair per nation."""
    c = results.cohort_summary
    tables = []
    for key, heading in CHARACTERISTICS.items():
        part = c[c.characteristic == key]
        if part.empty:
            continue
        categories = list(dict.fromkeys(part.category.astype(str)))
        if key == "age_band":
            categories = sorted(categories, key=lambda a: AGE_ORDER.index(a) if a in AGE_ORDER else 99)
        rows = []
        for cat in categories:
            cells = []
            for nation in NATIONS:
                hit = part[(part.nation == nation) & (part.category.astype(str) == cat)]
                published = len(hit) and hit.status.iloc[0] == "published"
                cells.append({"n": fmt(hit.patients.iloc[0], "count") if published else "suppressed",
                              "pct": fmt(hit.percentage.iloc[0]) if published else NOT_SHOWN})
            rows.append({"label": category_label(key, cat), "cells": cells})
        tables.append({"key": key, "heading": heading, "rows": rows})
    return tables


def category_label(characteristic: str, category: str) -> str:
    """A cohort category in words."""
    if characteristic == "metastatic_site":
        for prefix, label in SITE_LABELS.items():
            if category.lower().startswith(prefix):
                return label
    return CATEGORY_LABELS.get(category, category)


def cohort_counts(results: Results, period: str) -> dict[str, dict[str, str]]:
    """Patients by nation and route (from the cohort summary)."""
    c = results.cohort_summary
    out: dict[str, dict[str, str]] = {}
    for nation, key in zip(NATIONS, ("ew", "england", "wales")):
        route = c[(c.nation == nation) & (c.characteristic == "route")]
        total = route.patients.sum(min_count=1) if route.status.eq("published").all() else float("nan")
        out[key] = {
            "total": fmt(_ascertained(results, period, nation, total), "count"),
            "de_novo": fmt(_pick(route, "de_novo", "patients"), "count"),
            "de_novo_pct": fmt(_pick(route, "de_novo", "percentage")),
            "recurrent": fmt(_pick(route, "recurrent", "patients"), "count"),
            "recurrent_pct": fmt(_pick(route, "recurrent", "percentage")),
        }
    return out


def _ascertained(results: Results, period: str, nation: str, fallback: float) -> float:
    """Patients in the cohort of one nation: the ascertainment indicator's count."""
    d = national_rows(results, period)
    hit = d[(d.indicator_id == "ascertainment") & (d.nation == nation)]
    return float(hit.numerator.iloc[0]) if len(hit) and not is_missing(hit.numerator.iloc[0]) else fallback


def _pick(frame: pd.DataFrame, category: str, column: str) -> float:
    """One value of a cohort-summary category, NaN when absent."""
    hit = frame[frame.category.astype(str) == category]
    return float(hit[column].iloc[0]) if len(hit) and not is_missing(hit[column].iloc[0]) else float("nan")


def flow_entries(results: Results) -> list[dict[str, str]]:
    """The cohort derivation steps with their counts."""
    return [{"label": r.label, "count": fmt_count(r.count, getattr(r, "status", "published"))}
            for r in results.flow.itertuples()]


def reconciliation_entries(results: Results) -> list[dict[str, str]]:
    """Records read, quarantined, excluded and included per input file."""
    def count(r: Any, value: Any) -> str:
        return fmt_count(value, "suppressed" if is_missing(value) and getattr(r, "status", "") == "suppressed" else "")

    return [{"file": r.file, "read": count(r, r.records_read), "quarantined": count(r, r.quarantined),
             "excluded": count(r, r.excluded), "included": count(r, r.included),
             "balanced": "Yes" if str(r.balanced) == "yes" else "No"} for r in results.reconciliation.itertuples()]


def casemix_entries(results: Results, registry: Registry) -> list[dict[str, Any]]:
    """Each case-mix model: fit, coefficients and calibration by decile."""
    out = []
    for fit in results.casemix_fit.itertuples():
        ind = registry.get(fit.indicator_id)
        terms = results.casemix_models[results.casemix_models.indicator_id == fit.indicator_id]
        calib = results.casemix_calibration[results.casemix_calibration.indicator_id == fit.indicator_id]
        out.append({
            "id": fit.indicator_id, "title": ind.title, "patients": fmt(fit.patients, "count"),
            "events": fmt(fit.events, "count"), "c_statistic": fmt(fit.c_statistic, "ratio"),
            "hl_p": fmt(fit.hosmer_lemeshow_p, "p"),
            "covariates": ", ".join(c.replace("_", " ") for c in (ind.casemix or {}).get("covariates", [])),
            "reference": "; ".join(f"{k.replace('_', ' ')} {v}" for k, v in (ind.casemix or {}).get("reference", {}).items()),
            "terms": [{"term": term_label(t.term), "or": fmt(t.odds_ratio, "or"),
                       "ci": f"{fmt(t.or_ci_lower_95, 'or')} to {fmt(t.or_ci_upper_95, 'or')}",
                       "p": fmt(t.p_value, "p")} for t in terms.itertuples()],
            "calibration": [{"decile": int(c.decile), "n": fmt(c.n, "count"), "observed": fmt(c.observed, "count"),
                             "expected": fmt(c.expected, "ratio"), "observed_rate": fmt(100 * c.observed_rate),
                             "expected_rate": fmt(100 * c.expected_rate)} for c in calib.itertuples()],
        })
    return out


def term_label(term: str) -> str:
    """'age_band[T.80+]' as 'age band: 80+'."""
    if "[T." in term:
        name, level = term.split("[T.", 1)
        return f"{name.replace('_', ' ')}: {level.rstrip(']')}"
    return term


def goals(registry: Registry, entries: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """QI goals 1–5 with their indicators (data-quality indicators are reported under completeness)."""
    out = []
    for goal, inds in registry.by_goal().items():
        if goal == 0:
            continue
        out.append({"number": goal, "title": GOAL_TITLES[goal], "indicators": [entries[i.id] for i in inds]})
    return out


def base_context(results: Results, registry: Registry, config: Config, reports_dir: Path) -> dict[str, Any]:
    """The context every document template is filled from (`reports_dir` holds the analysts' content files)."""
    from naome_report.publish.documents.messages import key_messages
    from naome_report.publish.documents.people import breakdown_entries
    from naome_report.publish.documents.publication import load_publication
    from naome_report.publish.documents.recommendations import load_recommendations
    from naome_report.publish.workbook import workbook_filename

    period = results.primary_period
    nat = national_rows(results, period)
    entries = {ind.id: indicator_entry(ind, nat, results, period) for ind in registry}
    for ind in registry:
        entries[ind.id]["years"] = year_rows(results, ind)
    audit = config.section("audit")
    publication = load_publication(reports_dir / "publication.yaml", config)
    return {
        "publication": publication, "key_messages": key_messages(results, registry),
        "breakdowns": breakdown_entries(results, registry), "survival_nations": survival_nation_entries(results),
        "recommendations": load_recommendations(reports_dir / "recommendations.yaml", results),
        "links": {
            "sotn": "state-of-the-nation.html", "sotn_pdf": "state-of-the-nation.pdf",
            "patient": "patient-report.html", "patient_pdf": "patient-report.pdf",
            "methodology": "methodology-supplement.html", "methodology_pdf": "methodology-supplement.pdf",
            "portal": "portal/index.html", "workbook": workbook_filename(period, audit["output_version"]),
            "data": f"{DATA_FOLDER}/README.md", "packs": "packs/",
        },
        "audit": audit, "period": period, "meta": results.meta, "synthetic": results.synthetic,
        "financial_years": ", ".join(results.meta.get("financial_years", [])),
        "data_cutoff": date_words(results.meta.get("data_cutoff", "")),
        "definitions_version": results.meta.get("definitions_version", registry.definitions_version),
        "ind": entries, "indicators": [entries[i.id] for i in registry],
        "rate_indicators": [entries[i.id] for i in registry if i.has_rate],
        "public_indicators": [entries[i] for i in PUBLIC_INDICATORS if i in entries],
        "goals": goals(registry, entries), "survival": survival_entries(results, period),
        "survival_def": registry.survival, "cohort": cohort_counts(results, period),
        "cohort_tables": cohort_tables(results), "flow": flow_entries(results),
        "reconciliation": reconciliation_entries(results), "casemix": casemix_entries(results, registry),
        "disclosure": config.section("disclosure"), "funnel": config.section("funnel"),
        "spc": config.section("spc"), "cohort_config": config.section("cohort"),
        "funnel_method": _funnel_method(results, period), "methods": methods_context(results, registry, config),
        "data_link": f"{DATA_FOLDER}/naome_indicators.csv",
        "survival_link": f"{DATA_FOLDER}/naome_survival_curves.csv",
        "cohort_link": f"{DATA_FOLDER}/naome_cohort_summary.csv",
        "flow_link": f"{DATA_FOLDER}/naome_patient_flow.csv",
        "casemix_link": f"{DATA_FOLDER}/naome_casemix_models.csv",
        "run_link": f"{DATA_FOLDER}/naome_run_charts.csv",
        "breakdowns_link": f"{DATA_FOLDER}/naome_breakdowns.csv",
        "period_words": period_words(results.meta.get("financial_years", [])),
        "fmt": fmt, "organisations": fmt(results.meta.get("organisations"), "count"),
        "quarantined": fmt(results.meta.get("quarantined_records"), "count"),
        "supplement": supplement_context(results, registry, config),
    }


def year_rows(results: Results, ind: Indicator) -> list[dict[str, Any]]:
    """The indicator's value in each financial year, for each nation (all patients)."""
    d = results.indicators
    d = d[(d.indicator_id == ind.id) & (d.period_type == "financial_year") & d.level.isin(["national", "nation"])
          & (d.subgroup == "all")]
    out = []
    for year in results.meta.get("financial_years", []):
        rows = d[d.period == year]
        cells = {n: value_cell(rows[rows.nation == n].iloc[0] if (rows.nation == n).any() else None, ind)
                 for n in NATIONS}
        out.append({"year": year, "ew": cells["England and Wales"], "england": cells["England"], "wales": cells["Wales"]})
    return out


def period_words(years: list[str]) -> str:
    """Financial years '2023/24' … '2025/26' as 'April 2023 and March 2026'."""
    if not years:
        return "the audit period"
    first, last = years[0].split("/")[0], years[-1].split("/")[0]
    return f"April {first} and March {int(last) + 1}"


def _funnel_method(results: Results, period: str) -> str:
    """The method named in the funnel limits file."""
    m = results.funnel_limits[results.funnel_limits.period == period].method.dropna().unique()
    return ", ".join(str(x) for x in m) if len(m) else "not stated"
