"""What the methodology supplement states to make the results reproducible: the rules and code lists as
configured, the data sources and their linkage, the case-mix covariates and diagnostics, the changelog."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from naome_report.config import Config
from naome_report.hub import Results
from naome_report.outlier_process import load_outlier_process
from naome_report.ingest.contract import ADMISSION_METHOD, ETHNIC_CATEGORY, RT_INTENT
from naome_report.registry import Registry
from naome_report.rules import ALLOCATION_SOURCES, CohortRules, drug_words, join_words, rules_from_config, window_words

CHANGELOG = "definitions-changelog.yaml"  # beside the indicator registry
WINDOW_NAMES = {
    "metastatic_sites_days": "Metastatic sites at diagnosis (bone, liver, lung, brain, distant nodes, pleura)",
    "performance_status_days": "Performance status at diagnosis (the valid value nearest the diagnosis)",
    "first_treatment_days": "Treated with systemic anti-cancer therapy (first anti-cancer regimen)",
    "allocation_mdt_days": "MDT discussion that allocates a patient to an organisation",
}
GROUP_NAMES = {"cdk46_inhibitors": "CDK4/6 inhibitors", "anti_her2": "Anti-HER2 therapy",
               "bone_modifying_agents": "Bone-modifying agents"}
# Case-mix covariates: source and definition (the codes and bands come from configuration).
COVARIATES = {
    "age_band": ("Age", "Cancer registry date of birth",
                 "Completed years at the metastatic diagnosis, in bands {age_bands}"),
    "sex": ("Sex", "Cancer registry (person stated gender)", "Female, male; other or not stated: Unknown"),
    "deprivation": ("Deprivation", "Postcode of residence at diagnosis",
                    "Quintile of the Index of Multiple Deprivation (England) or the Welsh Index of Multiple "
                    "Deprivation (Wales), 1 = most deprived; each nation's quintiles are of its own areas, so "
                    "the same quintile number is not the same level of deprivation in both nations"),
    "ethnicity_group": ("Ethnic group", "Cancer registry / CaNISC",
                        "NHS ethnic category grouped as {ethnicity}"),
    "charlson_group": ("Comorbidity", "HES (England) / PEDW (Wales) admissions in the 6 years before the diagnosis",
                       "Charlson comorbidity index, in bands {charlson_bands}"),
    "ps_group": ("Performance status", "COSD / SACT / CaNISC",
                 "WHO performance status {ps_groups}, {ps_window}"),
    "route": ("Route", "Derived (cohort definition)", "De novo or recurrent metastatic breast cancer"),
    "subtype": ("Subtype", "COSD pathology / CaNISC", "Receptor subtype as defined in the code lists"),
}


def _c_statistic_words(c: float) -> str:
    """What a c-statistic says about the model, in the conventional bands (Hosmer and Lemeshow)."""
    if c < 0.6:
        return ("the model explains little of which patients have the outcome: adjusted and crude rates differ "
                "little, and differences between organisations may still reflect case mix the data do not record")
    if c < 0.7:
        return ("the model separates patients at higher and lower risk modestly: adjustment removes part of the "
                "differences in case mix, and unrecorded case mix may still explain some variation")
    if c < 0.8:
        return "the model separates higher- and lower-risk patients acceptably"
    return "the model separates higher- and lower-risk patients well"


def _hl_words(p: float) -> str:
    if not math.isfinite(p):
        return "calibration could not be tested"
    if p < 0.05:
        return ("predicted and observed events differ by more than chance in some deciles of risk: expected "
                "counts are less reliable for organisations whose patients are concentrated in those deciles")
    return "predicted and observed events agree within chance across the deciles of risk"


def changelog(registry_path: Path) -> list[dict[str, Any]]:
    """The definitions changelog kept beside the registry, newest first; empty when there is none."""
    path = registry_path.parent / CHANGELOG
    if not path.is_file():
        return []
    entries = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    return [{"version": str(e["version"]), "date": str(e.get("date", "")), "changes": list(e.get("changes", []))}
            for e in entries]


def _code_lists(rules: CohortRules) -> dict[str, Any]:
    ps_groups = {v: g for g, values in rules.performance_status_groups.items() for v in values}
    return {
        "metastatic_sites": [{"code": s.code, "meaning": s.meaning, "site": s.site,
                              "distant": "Yes" if s.distant else "No", "why": s.why} for s in rules.metastatic_sites],
        "radiotherapy_intents": [{"code": c, "meaning": m,
                                  "counts": "Yes" if c in rules.palliative_radiotherapy_intents else "No"}
                                 for c, m in RT_INTENT.items()] + [{"code": "(blank)", "meaning": "Not recorded",
                                                                     "counts": "No"}],
        "regimen_groups": [{"group": GROUP_NAMES.get(g, g.replace("_", " ").capitalize()), "drugs": drug_words(d)}
                           for g, d in rules.sact_regimen_groups.items()]
        + [{"group": "Not anti-cancer therapy when given alone", "drugs": drug_words(rules.not_anti_cancer)}],
        "performance_status": [{"value": v, "group": ps_groups.get(v, "–")} for v in rules.performance_status_values],
        "subtypes": [{"label": s.label, "rule": s.words} for s in rules.subtypes],
        "ethnicity": [{"group": g, "codes": "; ".join(f"{c} {ETHNIC_CATEGORY.get(c, '')}".strip() for c in codes)}
                      for g, codes in rules.ethnicity_groups.items()],
        "emergency_methods": [{"code": c, "meaning": ADMISSION_METHOD.get(c, "")} for c in rules.emergency_admission_methods],
    }


def _rules_words(rules: CohortRules, config: Config) -> dict[str, Any]:
    not_distant = [s.code for s in rules.metastatic_sites if not s.distant]
    return {
        "breast_codes": join_words([f"{p}" for p in rules.breast_icd10_prefixes]),
        "min_age": rules.min_age, "max_age": rules.max_age,
        "de_novo_window": rules.de_novo_window_days,
        "stage4": rules.stage4_primary_counts,
        "not_distant": join_words(not_distant, "and"),
        "windows": [{"name": WINDOW_NAMES[k], "days": f"{lo} to {hi}", "words": window_words((lo, hi))}
                    for k, (lo, hi) in (("metastatic_sites_days", rules.metastatic_sites_days),
                                        ("performance_status_days", rules.performance_status_days),
                                        ("first_treatment_days", rules.first_treatment_days),
                                        ("allocation_mdt_days", rules.allocation_mdt_days))],
        "allocation_order": [ALLOCATION_SOURCES[s] for s in rules.diagnosing_org],
        "allocation_window": window_words(rules.allocation_mdt_days),
        "complete_followup": rules.mortality_requires_complete_followup,
        "cpes_offset": rules.cpes_financial_year_offset, "cpes_months": rules.cpes_sample_months,
        "data_cutoff": f"{config.data_cutoff.day} {config.data_cutoff:%B %Y}",
    }


def _covariates(rules: CohortRules) -> list[dict[str, str]]:
    fill = {
        "age_bands": join_words(rules.age_bands, "and"), "charlson_bands": join_words(rules.charlson_bands, "and"),
        "ethnicity": join_words(list(rules.ethnicity_groups), "and"),
        "ps_groups": join_words(list(rules.performance_status_groups), "and"),
        "ps_window": window_words(rules.performance_status_days),
    }
    return [{"name": name, "source": source, "definition": text.format(**fill)}
            for name, source, text in COVARIATES.values()]


def _sources(results: Results) -> list[dict[str, str]]:
    def pct(value: Any) -> str:
        return "–" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{float(value):.1f}%"

    def count(value: Any) -> str:
        return "–" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{float(value):,.0f}"

    return [{"file": r.file, "dataset": r.dataset, "nations": r.nations, "extract_date": r.extract_date,
             "covers": f"{r.covers_from} to {r.covers_to}", "read": count(r.records_read),
             "linked": pct(r.linked_percentage), "patients": count(r.cohort_patients_with_record),
             "patients_pct": pct(r.cohort_percentage)}
            for r in results.data_sources.itertuples()]


def _diagnostics(results: Results, registry: Registry) -> list[dict[str, str]]:
    out = []
    for fit in results.casemix_fit.itertuples():
        c, p = float(fit.c_statistic), float(fit.hosmer_lemeshow_p)
        out.append({"title": registry.get(fit.indicator_id).title, "c": f"{c:.2f}", "c_words": _c_statistic_words(c),
                    "hl": "<0.001" if p < 0.001 else f"{p:.3f}", "hl_words": _hl_words(p)})
    return out


def supplement_context(results: Results, registry: Registry, config: Config) -> dict[str, Any]:
    """Everything the supplement's reproducibility sections state, from configuration and the results hub."""
    rules = rules_from_config(config)
    log = changelog(registry.source)
    current = next((e for e in log if e["version"] == registry.definitions_version), None)
    return {
        "rules": _rules_words(rules, config), "codes": _code_lists(rules), "covariates": _covariates(rules),
        "sources": _sources(results), "diagnostics": _diagnostics(results, registry),
        "outlier_guidance": load_outlier_process(config).guidance, "changes": current["changes"] if current else [],
        "earlier_versions": [e for e in log if e is not current],
        "cpes": [{"title": i.title, "coverage": i.coverage} for i in registry if i.counted == "respondents"],
    }
