"""Patient-level derivations: who is in the audit cohort, and what happened to them."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from naome_report.config import Config
from naome_report.registry import Indicator

DAY = np.timedelta64(1, "D")
ANTI_CANCER_EXCLUDED_DRUGS = ("ZOLEDRONIC ACID", "DENOSUMAB", "PAMIDRONATE", "IBANDRONIC ACID")
SITE_FLAGS = {"bone": ("C79.5",), "liver": ("C78.7",), "lung": ("C78.0",), "brain": ("C79.3",),
              "nodes": ("C77",), "pleura": ("C78.2",)}
# Exclusion steps in the order the patient-flow diagram shows them.
EXCLUSION_STEPS = (
    ("no_invasive_breast", "No invasive breast cancer (ICD-10 C50) recorded"),
    ("no_metastasis", "No distant metastasis recorded"),
    ("outside_period", "Metastatic diagnosis outside the reporting period"),
    ("under_18", "Aged under 18 at metastatic diagnosis"),
    ("diagnosed_at_death", "Metastatic diagnosis on the date of death (death certificate only)"),
)


@dataclass
class Cohort:
    """The included patients with their derived columns, and everyone excluded with a reason."""

    patients: pd.DataFrame
    excluded: pd.DataFrame  # patient_id, step, reason
    events: dict[str, pd.DataFrame]  # event tables for included patients, with days_from_mbc

    def flow(self) -> pd.DataFrame:
        """Counts for the patient-flow diagram: start, each exclusion step, and the final cohort."""
        total = len(self.patients) + len(self.excluded)
        rows = [{"step": "extract", "label": "People in the linked extract (valid records)", "count": total}]
        for step, label in EXCLUSION_STEPS:
            rows.append({"step": step, "label": label, "count": int((self.excluded.step == step).sum())})
        rows.append({"step": "cohort", "label": "People in the audit cohort", "count": len(self.patients)})
        for route in ("de_novo", "recurrent"):
            rows.append({"step": route, "label": route.replace("_", " ").capitalize() + " MBC",
                         "count": int((self.patients.route == route).sum())})
        return pd.DataFrame(rows)


def financial_year_label(dates: pd.Series) -> pd.Series:
    """'2024/25' style financial year of each date."""
    start = dates.dt.year - (dates.dt.month < 4).astype(int)
    return start.astype(str) + "/" + ((start + 1) % 100).astype(str).str.zfill(2)


def financial_quarter_label(dates: pd.Series) -> pd.Series:
    """'2024/25 Q1' style financial quarter of each date (Q1 = April to June)."""
    quarter = ((dates.dt.month - 4) % 12) // 3 + 1
    return financial_year_label(dates) + " Q" + quarter.astype(str)


def _earliest(frame: pd.DataFrame, date_col: str, by: str = "patient_id") -> pd.DataFrame:
    return frame.sort_values([by, date_col], kind="stable").drop_duplicates(by, keep="first")


def _first_primary(tumours: pd.DataFrame, prefix: str) -> pd.DataFrame:
    invasive = tumours[tumours.icd10_code.fillna("").str.startswith(prefix)]
    return _earliest(invasive, "diagnosis_date")


def _mbc_diagnosis(primary: pd.DataFrame, metastases: pd.DataFrame) -> pd.DataFrame:
    """Date and recording organisation of the first evidence of metastatic disease."""
    first_met = _earliest(metastases, "metastasis_date")[["patient_id", "metastasis_date", "org_code"]]
    stage4 = primary[(primary.tnm_m == "M1") | (primary.stage_group == "4")]
    from_stage = stage4[["patient_id", "diagnosis_date", "org_code"]].rename(columns={"diagnosis_date": "metastasis_date"})
    both = pd.concat([from_stage, first_met], ignore_index=True)
    first = _earliest(both, "metastasis_date")
    return first.rename(columns={"metastasis_date": "mbc_date", "org_code": "mbc_org"})


def _age_band(age: pd.Series) -> pd.Series:
    bins = [-np.inf, 50, 60, 70, 80, np.inf]
    labels = ["<50", "50-59", "60-69", "70-79", "80+"]
    return pd.cut(age, bins=bins, labels=labels, right=False).astype(str)


def _subtype(er: pd.Series, pr: pd.Series, her2: pd.Series) -> pd.Series:
    er, pr, her2 = er.fillna(""), pr.fillna(""), her2.fillna("")
    return pd.Series(np.select(
        [her2.eq("P"), er.eq("P") & her2.eq("N"), er.eq("N") & pr.eq("N") & her2.eq("N")],
        ["HER2+", "ER+/HER2-", "Triple negative"], "Unknown"), index=er.index)


def _with_days(events: pd.DataFrame, date_col: str, mbc: pd.Series) -> pd.DataFrame:
    out = events[events.patient_id.isin(mbc.index)].copy()
    out["days_from_mbc"] = ((out[date_col] - out.patient_id.map(mbc)) / DAY).astype("float64")
    return out


# Record identifiers and source row numbers play no part in the derivations; dropping them first
# saves most of the memory of the object copies at national scale.
_NOT_NEEDED = {"tumour_id", "record_id", "event_id", "regimen_id", "episode_id", "admission_id", "_row"}


def _plain(frame: pd.DataFrame) -> pd.DataFrame:
    """Nullable string and integer columns as object and float, so comparisons give plain booleans."""
    out = frame[[c for c in frame.columns if c not in _NOT_NEEDED]].copy()
    for col in out.columns:
        if isinstance(out[col].dtype, pd.StringDtype):
            out[col] = out[col].astype(object).where(out[col].notna(), np.nan)
        elif isinstance(out[col].dtype, pd.Int64Dtype):
            out[col] = out[col].astype("float64")
    return out


def derive_cohort(frames: dict[str, pd.DataFrame], config: Config) -> Cohort:
    """Apply the cohort rules to a validated extract and derive every patient-level column."""
    frames = {name: _plain(frame) for name, frame in frames.items()}
    rules = config.section("cohort")
    cutoff = pd.Timestamp(config.data_cutoff)
    fy_first = int(config.financial_years[0][:4])
    fy_last = int(config.financial_years[-1][:4])
    period_start, period_end = pd.Timestamp(f"{fy_first}-04-01"), pd.Timestamp(f"{fy_last + 1}-03-31")

    people = frames["patients"].set_index("patient_id", drop=False)
    primary = _first_primary(frames["tumours"], rules["breast_icd10_prefix"]).set_index("patient_id")
    mbc = _mbc_diagnosis(primary.reset_index(), frames["metastases"]).set_index("patient_id")

    frame = people[["patient_id", "nation", "sex", "date_of_birth", "ethnicity", "deprivation_quintile",
                    "charlson_index", "date_of_death"]].copy()
    frame = frame.join(primary[["diagnosis_date", "tnm_m", "stage_group", "er_status", "pr_status", "her2_status",
                                "org_code"]].rename(columns={"org_code": "primary_org"}))
    frame = frame.join(mbc)
    frame["age"] = ((frame.mbc_date - frame.date_of_birth) / DAY / 365.25).astype("float64")

    step = pd.Series(pd.NA, index=frame.index, dtype="object")

    def exclude(mask: pd.Series, name: str) -> None:
        step[mask & step.isna()] = name

    exclude(frame.diagnosis_date.isna(), "no_invasive_breast")
    exclude(frame.mbc_date.isna(), "no_metastasis")
    exclude((frame.mbc_date < period_start) | (frame.mbc_date > period_end), "outside_period")
    exclude(frame.age < rules["min_age"], "under_18")
    exclude(frame.date_of_death.notna() & (frame.date_of_death <= frame.mbc_date), "diagnosed_at_death")
    labels = dict(EXCLUSION_STEPS)
    excluded = pd.DataFrame({"patient_id": step[step.notna()].index, "step": step[step.notna()].to_numpy()})
    excluded["reason"] = excluded.step.map(labels)
    pts = frame[step.isna()].copy()

    # --- route, subtype, stage, sites ------------------------------------------------------------
    gap_days = (pts.mbc_date - pts.diagnosis_date) / DAY
    m1 = (pts.tnm_m == "M1") | (pts.stage_group == "4")
    pts["route"] = np.where(m1 | (gap_days <= rules["de_novo_window_days"]), "de_novo", "recurrent")
    pts["subtype"] = _subtype(pts.er_status, pts.pr_status, pts.her2_status)
    pts["receptors_known"] = pts.er_status.isin(["P", "N"]) & pts.her2_status.isin(["P", "N"])
    pts["stage_known"] = pts.tnm_m.isin(["M0", "M1"]) | pts.stage_group.isin(["1", "2", "3", "4"])
    mbc_dates = pts.mbc_date
    mets = _with_days(frames["metastases"], "metastasis_date", mbc_dates)
    at_diagnosis = mets[mets.days_from_mbc.between(-31, 91)]
    for name, codes in SITE_FLAGS.items():
        hit = at_diagnosis[at_diagnosis.site_icd10.str.startswith(codes)].patient_id.unique()
        pts[f"has_{name}_metastases"] = pts.index.isin(hit)
    pts["n_metastatic_sites"] = at_diagnosis.groupby("patient_id").site_icd10.nunique().reindex(pts.index).fillna(0).astype(int)
    recorded = mets[mets.data_source.isin(["COSD", "CANISC"]) & mets.recurrence_type.notna() & mets.metastasis_date.notna()]
    pts["recurrence_recorded"] = pts.index.isin(recorded.patient_id.unique()) & (pts.route == "recurrent")

    # --- care events ------------------------------------------------------------------------------
    care = _with_days(frames["care_events"], "event_date", mbc_dates)
    ps = care[(care.event_type == "PS") & care.days_from_mbc.between(-31, 91)]
    ps = ps.assign(dist=ps.days_from_mbc.abs()).sort_values(["patient_id", "dist"]).drop_duplicates("patient_id")
    ps_value = pd.to_numeric(ps.set_index("patient_id").value, errors="coerce").reindex(pts.index)
    pts["ps_known"] = ps_value.notna()
    pts["ps_group"] = np.select([ps_value <= 1, ps_value == 2, ps_value >= 3], ["0-1", "2", "3-4"], "Unknown")

    # --- SACT ------------------------------------------------------------------------------------
    sact = _with_days(frames["sact"], "regimen_start_date", mbc_dates)
    anti = sact[~sact.drug_names.fillna("").isin(ANTI_CANCER_EXCLUDED_DRUGS)]
    anti_after = anti[anti.days_from_mbc >= 0]
    first_sact = _earliest(anti_after, "regimen_start_date").set_index("patient_id")
    pts["days_to_first_sact"] = first_sact.days_from_mbc.reindex(pts.index)
    pts["treated_sact"] = pts.days_to_first_sact.between(0, 183)
    pts["any_sact"] = pts.days_to_first_sact.notna()
    last = anti_after.sort_values(["patient_id", "last_administration_date"]).drop_duplicates("patient_id", keep="last")
    last = last.set_index("patient_id")
    pts["last_sact_date"] = last.last_administration_date.reindex(pts.index)
    pts["last_sact_org"] = last.org_code.reindex(pts.index)
    pts["last_sact_within_30d_of_cutoff"] = (cutoff - pts.last_sact_date) / DAY < 30

    # --- case-mix covariates, allocation, periods, survival --------------------------------------
    pts["age_band"] = _age_band(pts.age)
    pts["sex"] = pts.sex.map({"1": "Male", "2": "Female"}).fillna("Unknown")
    quintile = pd.to_numeric(pts.deprivation_quintile, errors="coerce")
    pts["deprivation"] = quintile.map(lambda q: "Unknown" if pd.isna(q) else str(int(q)))
    pts["ethnicity_group"] = pts.ethnicity.map(_ETHNIC_GROUP).fillna("Unknown")
    charlson = pts.charlson_index.astype("float64")
    pts["charlson_group"] = np.select([charlson.isna(), charlson == 0, charlson == 1], ["Unknown", "0", "1"], "2+")
    pts["diagnosing_org"] = pts.mbc_org.fillna(pts.primary_org)
    pts["financial_year"] = financial_year_label(pts.mbc_date)
    pts["quarter"] = financial_quarter_label(pts.mbc_date)
    end = pts.date_of_death.where(pts.date_of_death.notna() & (pts.date_of_death <= cutoff), cutoff)
    pts["died"] = pts.date_of_death.notna() & (pts.date_of_death <= cutoff)
    pts["survival_days"] = ((end - pts.mbc_date) / DAY).astype(float)
    pts = pts.reset_index(drop=True)

    events = {"care_events": care, "sact": sact, "metastases": mets,
              "radiotherapy": _with_days(frames["radiotherapy"], "episode_start_date", mbc_dates),
              "admissions": _with_days(frames["admissions"], "admission_date", mbc_dates)}
    return Cohort(patients=pts, excluded=excluded, events=events)


_ETHNIC_GROUP = {
    "A": "White", "B": "White", "C": "White", "D": "Mixed", "E": "Mixed", "F": "Mixed", "G": "Mixed",
    "H": "Asian", "J": "Asian", "K": "Asian", "L": "Asian", "R": "Asian", "M": "Black", "N": "Black", "P": "Black",
    "S": "Other", "Z": "Unknown", "99": "Unknown",
}


def indicator_flags(indicator: Indicator, cohort: Cohort, data_cutoff: pd.Timestamp) -> pd.DataFrame:
    """Per-patient denominator and numerator membership for one patient-level indicator."""
    pts = cohort.patients
    den = pd.Series(True, index=pts.index)
    spec = indicator.denominator
    for column, value in (spec.get("filter") or {}).items():
        den &= pts[column].isin(value if isinstance(value, list) else [value])
    if spec.get("flag"):
        den &= pts[spec["flag"]].astype(bool)
    if spec.get("exclude_flag"):
        den &= ~pts[spec["exclude_flag"]].astype(bool)
    num = _numerator(indicator.numerator, cohort, data_cutoff)
    org = pts[indicator.allocation]
    return pd.DataFrame({"denominator": den, "numerator": num & den, "org_code": org})


def _numerator(rule: dict, cohort: Cohort, data_cutoff: pd.Timestamp) -> pd.Series:
    pts = cohort.patients
    kind = rule["kind"]
    if kind == "flag":
        return pts[rule["column"]].fillna(False).astype(bool)
    if kind == "count":
        return pd.Series(True, index=pts.index)
    if kind == "days_to_event":
        return pts[rule["column"]].le(rule["within_days"]).fillna(False)
    if kind == "death_after_last_sact":
        gap = (pts.date_of_death - pts.last_sact_date) / DAY
        return (pts.died & gap.between(0, rule["days"])).fillna(False)
    if kind == "event_within":
        events = cohort.events[rule["table"]]
        lo, hi = rule["window_days"]
        keep = events.days_from_mbc.between(lo, hi)
        for column, value in (rule.get("where") or {}).items():
            keep &= events[column].isin(value if isinstance(value, list) else [value])
        if rule.get("drugs_any"):
            # Whole drug names between the " + " separators, so TRASTUZUMAB does not match TRASTUZUMAB EMTANSINE.
            names = "|".join(re.escape(d) for d in rule["drugs_any"])
            keep &= events.drug_names.fillna("").str.contains(rf"(?:^| \+ )(?:{names})(?: \+ |$)", regex=True)
        return pts.patient_id.isin(events.loc[keep, "patient_id"].unique())
    raise ValueError(f"numerator kind '{kind}' is not patient-level")

