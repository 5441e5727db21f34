"""The synthetic national cohort: a linked extract that looks like the real one and is nobody's data."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import optimize
from scipy.special import expit

from naome_report import atomic
from naome_report.config import SYNTHETIC_MARKER, Config
from naome_report.organisations import load_organisations
from naome_report.sources import MANIFEST

DAYS_PER_YEAR = 365.25
# De novo MBC a year at national scale (domain brief §7): England ~3,800; Wales in proportion to
# its share of breast cancer (about 2,800 of 48,000).
DE_NOVO_PER_YEAR = {"E": 3800, "W": round(3800 * 2800 / 48000)}
RECURRENT_PER_DE_NOVO = 1.5  # identified recurrent MBC; under-recorded relative to the ~4:1 truth
SUBTYPES = ("ER+/HER2-", "HER2+", "Triple negative", "Unknown")
SUBTYPE_SHARE = (0.67, 0.14, 0.12, 0.07)
SURVIVAL_TARGETS = {1.0: 0.65, 3.0: 0.44}  # de novo, SotN 2025
EPOCH = np.datetime64("1970-01-01", "D")

# Indicators whose organisation-level rates the generator varies, with their national mean
# probability (England) and between-organisation SD on the logit scale.
# Process measures vary a little more than outcomes; data completeness varies most (some
# organisations fall below the completeness threshold). Process and outcome variation is small
# enough that most organisations sit within the funnel limits, as in the published audit.
ORG_EFFECT_SD = {
    "mdt": 0.15, "biopsy": 0.15, "receptors": 0.5, "stage": 0.5, "perf_status": 0.5, "recurrence": 0.5,
    "cdk46": 0.12, "anti_her2": 0.12, "sact": 0.1, "radiotherapy": 0.12, "bone_agent": 0.15, "cns": 0.2,
    "emergency": 0.08, "mort30": 0.08, "cpes": 0.15,
}
# Designed outliers: (indicator, direction, logit shift). Chosen among large English trusts so
# the funnel analysis has the power to find them.
DESIGNED_OUTLIERS = (
    ("mdt", "low", -1.6), ("mdt", "high", 1.8), ("biopsy", "low", -1.4), ("cdk46", "low", -1.5),
    ("sact", "low", -2.0), ("cns", "low", -1.6), ("mort30", "high", 2.3), ("emergency", "high", 0.9),
)
# Designed differences of Wales from England (logit scale, by financial year starting for MDT): recording
# and practice differ by nation, so Welsh health boards can sit outside funnels centred on England and
# Wales for these indicators. With DESIGNED_OUTLIERS and ORG_EFFECT_SD this is the whole design of
# organisation-level variation, written to the extract's _synthetic_truth.json.
WALES_LOGIT_SHIFT = {"receptors": -0.4, "stage": 0.3, "recurrence": -0.3, "cns": -0.2, "perf_status": -0.5,
                     "mdt": {2023: -1.6, 2024: -0.4, 2025: 0.3}}
# ICD-10 codes for metastatic sites, with the chance a patient has that site. Distant nodes are spread
# over the node regions outside the breast's regional nodes by _plant_rule_cases.
SITES = {
    "bone": ("C79.5", 0.65), "liver": ("C78.7", 0.30), "lung": ("C78.0", 0.30), "brain": ("C79.3", 0.08),
    "nodes": ("C77.2", 0.25), "pleura": ("C78.2", 0.12), "other": ("C79.8", 0.08),
}
# Relative sizes of the fictional Welsh health boards (like the real boards' breast cancer populations).
WALES_HB_POPULATION = {"ZW1": 700, "ZW2": 390, "ZW3": 390, "ZW4": 500, "ZW5": 450, "ZW6": 600, "ZW7": 135}


@dataclass
class SyntheticExtract:
    """The files of a synthetic extract, plus what the generator built in on purpose."""

    frames: dict[str, pd.DataFrame]
    truth: dict = field(default_factory=dict)
    manifest: pd.DataFrame | None = None  # coverage and extract date of each file (see naome_report/sources.py)


def _fy_bounds(financial_years: list[str]) -> tuple[np.datetime64, np.datetime64]:
    first = int(financial_years[0][:4])
    last = int(financial_years[-1][:4])
    return np.datetime64(f"{first}-04-01", "D"), np.datetime64(f"{last + 1}-03-31", "D")


def _fy_of(days: np.ndarray) -> np.ndarray:
    d = days.astype("datetime64[D]")
    year = d.astype("datetime64[Y]").astype(int) + 1970
    month = (d.astype("datetime64[M]").astype(int) % 12) + 1
    return np.where(month >= 4, year, year - 1)


def _choose(rng: np.random.Generator, options, probs, size: int) -> np.ndarray:
    return rng.choice(np.asarray(options, dtype=object), size=size, p=np.asarray(probs) / np.sum(probs))


def _dates(days: np.ndarray) -> np.ndarray:
    """Days since 1970 (float, NaN = missing) as datetime64[D] (NaT = missing)."""
    out = np.full(days.shape, np.datetime64("NaT"), dtype="datetime64[D]")
    ok = ~np.isnan(days)
    out[ok] = EPOCH + np.floor(days[ok]).astype("int64")
    return out


def _organisation_effects(orgs: pd.DataFrame, rng: np.random.Generator) -> tuple[pd.DataFrame, list[dict]]:
    """Random logit-scale effects per organisation and indicator, with the designed outliers added."""
    effects = pd.DataFrame({k: rng.normal(0, sd, len(orgs)) for k, sd in ORG_EFFECT_SD.items()}, index=orgs.org_code)
    # CDK4/6 use varies by region more than by trust (SotN 2025 recommendation).
    alliance_shift = {a: rng.normal(0, 0.3) for a in orgs.alliance_code.unique()}
    effects["cdk46"] += orgs.alliance_code.map(alliance_shift).to_numpy()
    english = orgs[orgs.nation == "England"].sort_values("weight", ascending=False)
    candidates = list(english.org_code[: max(12, len(english) // 4)])
    rng.shuffle(candidates)
    designed = []
    for i, (indicator, direction, shift) in enumerate(DESIGNED_OUTLIERS):
        code = candidates[i % len(candidates)]
        effects.loc[code, indicator] = shift
        designed.append({"indicator": indicator, "org_code": code, "direction": direction, "logit_shift": shift})
    return effects, designed


def _org_weights(orgs: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    orgs = orgs.copy()
    weight = np.exp(rng.normal(0, 0.55, len(orgs)))
    wales = orgs.nation.eq("Wales").to_numpy()
    weight[wales] = orgs.loc[wales, "org_code"].map(WALES_HB_POPULATION).fillna(300).to_numpy()
    orgs["weight"] = weight
    return orgs


def _calibrate_survival(lp: np.ndarray) -> tuple[float, float]:
    """Weibull scale and shape such that the mean survival hits the published 1- and 3-year values."""
    times = np.array(list(SURVIVAL_TARGETS))
    targets = np.array(list(SURVIVAL_TARGETS.values()))
    risk = np.exp(lp)

    def gap(params: np.ndarray) -> np.ndarray:
        log_scale, log_shape = params
        cum = (times[:, None] / np.exp(log_scale)) ** np.exp(log_shape)
        return np.exp(-cum * risk[None, :]).mean(axis=1) - targets

    solution = optimize.fsolve(gap, x0=np.array([np.log(4.0), np.log(0.6)]))
    return float(np.exp(solution[0])), float(np.exp(solution[1]))


def generate_extract(config: Config, scale: float | None = None, seed: int | None = None) -> SyntheticExtract:
    """Build every file of a synthetic linked extract, deterministically from the seed."""
    synth = config.section("synthetic")
    scale = float(synth["scale"] if scale is None else scale)
    seed = int(synth["seed"] if seed is None else seed)
    rng = np.random.default_rng(seed)
    cutoff = np.datetime64(config.data_cutoff.isoformat(), "D")
    fy_start, fy_end = _fy_bounds(config.financial_years)
    n_years = len(config.financial_years)

    orgs = load_organisations(config, synthetic=True)
    orgs = _org_weights(orgs, rng)
    effects, designed = _organisation_effects(orgs, rng)

    # --- people and their metastatic diagnosis -------------------------------------------------
    # Diagnoses span a little beyond the reporting years so the exclusions are exercised.
    span_start = fy_start - np.timedelta64(92, "D")
    span_end = min(cutoff, fy_end + np.timedelta64(120, "D"))
    span_days = int((span_end - span_start).astype(int)) + 1
    per_nation = {}
    for nation, per_year in DE_NOVO_PER_YEAR.items():
        n_dn = int(round(per_year * scale * n_years * span_days / (n_years * 365.25)))
        per_nation[nation] = (n_dn, int(round(n_dn * RECURRENT_PER_DE_NOVO)))
    nation = np.concatenate([np.repeat(k, dn + rec) for k, (dn, rec) in per_nation.items()])
    de_novo = np.concatenate([np.r_[np.ones(dn, bool), np.zeros(rec, bool)] for dn, rec in per_nation.values()])
    n = len(nation)

    org_code = np.empty(n, dtype=object)
    for k, name in (("E", "England"), ("W", "Wales")):
        sub = orgs[orgs.nation == name]
        idx = np.flatnonzero(nation == k)
        org_code[idx] = rng.choice(sub.org_code.to_numpy(), size=len(idx), p=(sub.weight / sub.weight.sum()).to_numpy())
    eff = effects.loc[org_code].reset_index(drop=True)
    is_wales = nation == "W"

    mbc_day = (span_start - EPOCH).astype(int) + rng.integers(0, span_days, n).astype(float)
    age = np.where(de_novo, rng.normal(67, 13.5, n), rng.normal(64, 13, n)).clip(22, 100)
    male = rng.random(n) < 0.01
    sex = np.where(male, "1", "2")
    dob_day = mbc_day - age * DAYS_PER_YEAR
    dob = _dates(dob_day).astype("datetime64[M]").astype("datetime64[D]")  # 1st of the month
    primary_day = np.where(de_novo, mbc_day - rng.integers(0, 45, n),
                           mbc_day - rng.gamma(2.2, 2.3, n).clip(0.35, 25) * DAYS_PER_YEAR)

    subtype = _choose(rng, SUBTYPES, SUBTYPE_SHARE, n)
    deprivation = _choose(rng, [1, 2, 3, 4, 5], [0.19, 0.2, 0.2, 0.2, 0.21], n).astype(float)
    deprivation[rng.random(n) < 0.01] = np.nan
    ethnicity = _choose(rng, ["A", "B", "C", "D", "E", "F", "G", "H", "J", "K", "L", "M", "N", "P", "R", "S", "Z", "99"],
                        [74, 1, 4, .5, .4, .5, .5, 2.5, 1.5, .6, 1, 1.2, 1.2, .4, .5, 1, 5, 3], n)
    charlson = _choose(rng, [0, 1, 2, 3, 4, 5], [58, 21, 10, 6, 3, 2], n).astype(float)
    charlson[rng.random(n) < 0.03] = np.nan
    ps_true = _choose(rng, [0, 1, 2, 3, 4], [30, 35, 18, 12, 5], n).astype(int)
    ps_true = np.where(age > 80, np.minimum(ps_true + rng.integers(0, 2, n), 4), ps_true)

    # --- sites -----------------------------------------------------------------------------------
    site_has = {}
    for name, (_, p) in SITES.items():
        prob = np.full(n, p)
        if name == "brain":
            prob = np.where(np.isin(subtype, ["HER2+", "Triple negative"]), 0.16, 0.05)
        if name == "bone":
            prob = np.where(subtype == "ER+/HER2-", 0.74, 0.45)
        site_has[name] = rng.random(n) < prob
    none = ~np.any(np.column_stack(list(site_has.values())), axis=1)
    site_has["bone"] |= none

    # --- survival ----------------------------------------------------------------------------------
    lp = (np.select([subtype == "Triple negative", subtype == "HER2+", subtype == "Unknown"], [0.95, -0.35, 0.35], 0.0)
          + 0.22 * (age - 65) / 10 + np.select([ps_true == 2, ps_true == 3, ps_true == 4], [0.4, 0.9, 1.4], 0.0)
          + 0.25 * (np.nan_to_num(charlson) >= 2) + 0.3 * site_has["liver"] + 0.45 * site_has["brain"]
          + 0.08 * (3 - np.nan_to_num(deprivation, nan=3)) / 2)
    lp_dn = lp[de_novo]
    sample = lp_dn if len(lp_dn) <= 40000 else rng.choice(lp_dn, 40000, replace=False)
    weib_scale, weib_shape = _calibrate_survival(sample)
    lp = lp + 0.12 * ~de_novo
    surv_years = weib_scale * (rng.exponential(1.0, n) / np.exp(lp)) ** (1 / weib_shape)
    death_day = mbc_day + np.maximum(surv_years * DAYS_PER_YEAR, 1.0)
    # Death certificate only: diagnosed at death (excluded by the cohort rules).
    dco = rng.random(n) < 0.004
    death_day[dco] = mbc_day[dco]
    cutoff_day = float((cutoff - EPOCH).astype(int))
    died = death_day <= cutoff_day
    death_day = np.where(died, death_day, np.nan)
    end_day = np.where(died, death_day, cutoff_day)  # last day a record can exist

    def p_of(base: float, indicator: str, extra: np.ndarray | float = 0.0) -> np.ndarray:
        return expit(np.log(base / (1 - base)) + eff[indicator].to_numpy() + extra)

    def happens(prob: np.ndarray) -> np.ndarray:
        return rng.random(n) < prob

    def in_followup(day: np.ndarray) -> np.ndarray:
        return day <= end_day

    fy = _fy_of(_dates(mbc_day))

    # --- tumours ---------------------------------------------------------------------------------
    receptors_known = happens(p_of(0.90, "receptors", np.where(is_wales, WALES_LOGIT_SHIFT["receptors"], 0.0)))
    subtype_recorded = np.where(receptors_known, subtype, "Unknown")
    er = np.select([subtype == "ER+/HER2-", subtype == "HER2+", subtype == "Triple negative"], ["P", _choose(rng, ["P", "N"], [0.6, 0.4], n), "N"], "X")
    her2 = np.select([subtype == "ER+/HER2-", subtype == "HER2+", subtype == "Triple negative"], ["N", "P", "N"], "X")
    pr = np.where(er == "P", _choose(rng, ["P", "N"], [0.8, 0.2], n), np.where(er == "N", "N", "X"))
    blank_receptors = ~receptors_known
    er = np.where(blank_receptors & (rng.random(n) < 0.6), "", np.where(blank_receptors, "X", er))
    her2 = np.where(blank_receptors, np.where(rng.random(n) < 0.5, "", "X"), her2)
    stage_recorded = de_novo & happens(p_of(0.40, "stage", np.where(is_wales, WALES_LOGIT_SHIFT["stage"], 0.0)))
    tnm_m = np.where(stage_recorded, "M1", np.where(de_novo, _choose(rng, ["", "MX"], [0.7, 0.3], n), "M0"))
    stage_group = np.where(stage_recorded, "4", np.where(de_novo, "", _choose(rng, ["1", "2", "3", "X"], [35, 40, 20, 5], n)))
    tumour_source = np.where(is_wales, "CANISC", _choose(rng, ["COSD", "RCRD", "NCRD"], [0.7, 0.1, 0.2], n))
    # Prior primaries (recurrent) were often diagnosed at another trust.
    moved = ~de_novo & (rng.random(n) < 0.15)
    diag_org = org_code.copy()
    for k, name in (("E", "England"), ("W", "Wales")):
        sub = orgs[orgs.nation == name].org_code.to_numpy()
        idx = np.flatnonzero(moved & (nation == k))
        diag_org[idx] = rng.choice(sub, size=len(idx))

    patient_ids = np.array([f"P{v:09d}" for v in rng.permutation(n * 3)[:n] + 10_000_000])
    tumours = pd.DataFrame({
        "tumour_id": np.char.replace(patient_ids.astype(str), "P", "T"), "patient_id": patient_ids,
        "data_source": tumour_source, "diagnosis_date": _dates(primary_day), "icd10_code": _choose(rng, [f"C50.{i}" for i in (1, 2, 3, 4, 5, 8, 9)], [5, 10, 5, 40, 15, 10, 15], n),
        "tnm_m": tnm_m, "stage_group": stage_group, "er_status": er, "pr_status": pr, "her2_status": her2,
        "org_code": diag_org,
    })

    # --- metastases --------------------------------------------------------------------------------
    rec_recorded = ~de_novo & happens(p_of(0.55, "recurrence", np.where(is_wales, WALES_LOGIT_SHIFT["recurrence"], 0.0)))
    rec_type_recorded = rec_recorded & (rng.random(n) < 0.85)
    met_rows = []
    for name, (code, _) in SITES.items():
        has = site_has[name]
        offset = np.where(rng.random(n) < 0.8, 0, rng.integers(1, 60, n))  # most sites found together
        source = np.where(de_novo | rec_recorded, np.where(is_wales, "CANISC", "COSD"), np.where(is_wales, "PEDW", "HES"))
        rtype = np.where(de_novo, "", np.where(rec_type_recorded, "DISTANT", ""))
        met_rows.append(pd.DataFrame({
            "patient_id": patient_ids[has], "data_source": source[has], "metastasis_date": _dates((mbc_day + offset)[has]),
            "site_icd10": code, "recurrence_type": rtype[has], "org_code": org_code[has],
        }))
    metastases = pd.concat(met_rows, ignore_index=True)
    # Patients whose first metastasis date is their MBC date: make sure one record sits on mbc_day.
    metastases = metastases.sort_values(["patient_id", "metastasis_date"], kind="stable")
    first = ~metastases.patient_id.duplicated()
    position = pd.Index(patient_ids)
    metastases.loc[first, "metastasis_date"] = _dates(mbc_day[position.get_indexer(metastases.patient_id[first])])
    metastases = metastases[metastases.metastasis_date.to_numpy() <= _dates(end_day)[position.get_indexer(metastases.patient_id)]]
    metastases = metastases.reset_index(drop=True)
    metastases.insert(0, "record_id", [f"M{i:09d}" for i in range(len(metastases))])

    # --- care events: MDT, biopsy, CNS, performance status --------------------------------------
    care = []

    def add_events(mask: np.ndarray, event_type: str, day: np.ndarray, value, source, org=None) -> None:
        mask = mask & in_followup(day)
        care.append(pd.DataFrame({
            "patient_id": patient_ids[mask], "event_type": event_type, "event_date": _dates(day[mask]),
            "value": (value[mask] if isinstance(value, np.ndarray) else value),
            "data_source": (source[mask] if isinstance(source, np.ndarray) else source),
            "org_code": (org if org is not None else org_code)[mask],
        }))

    cosd = np.where(is_wales, "CANISC", "COSD")
    mdt_shift = WALES_LOGIT_SHIFT["mdt"]
    wales_mdt_year = np.select([fy <= 2023, fy == 2024], [mdt_shift[2023], mdt_shift[2024]], mdt_shift[2025])
    mdt = happens(p_of(0.72, "mdt", np.where(is_wales, wales_mdt_year, 0.0)))
    mdt_day = mbc_day + np.where(rng.random(n) < 0.9, rng.integers(-20, 60, n), rng.integers(95, 200, n))
    add_events(mdt, "MDT", mdt_day, "", cosd)
    biopsy = happens(p_of(0.47, "biopsy", np.where(de_novo, 0.1, 0.0)))
    biopsy_unavailable = is_wales & (fy == 2024)  # Welsh biopsy data not available for 2024/25
    biopsy_site = np.where(site_has["liver"], "C78.7", np.where(site_has["bone"], "C79.5", "C78.0"))
    add_events(biopsy & ~biopsy_unavailable, "BIOPSY", mbc_day + rng.integers(-25, 80, n), biopsy_site,
               np.where(is_wales, "CANISC", np.where(rng.random(n) < 0.6, "COSD", "HES")))
    cns = happens(p_of(0.78, "cns", np.where(is_wales, WALES_LOGIT_SHIFT["cns"], 0.0)))
    add_events(cns, "CNS", mbc_day + rng.integers(-10, 40, n), "", cosd)
    ps_recorded = happens(p_of(0.60, "perf_status", np.where(is_wales, WALES_LOGIT_SHIFT["perf_status"], 0.0)))
    add_events(ps_recorded, "PS", mbc_day + rng.integers(-10, 30, n), ps_true.astype(str), cosd)
    care_events = pd.concat(care, ignore_index=True)
    care_events.insert(0, "event_id", [f"E{i:09d}" for i in range(len(care_events))])

    # --- SACT ------------------------------------------------------------------------------------
    frail = 0.6 * (age > 80) + 0.5 * (ps_true >= 3) + 0.3 * (np.nan_to_num(charlson) >= 3)
    treated = happens(p_of(0.78, "sact", -frail * 1.6))
    first_start = mbc_day + rng.gamma(2.0, 16.0, n).clip(3, 400)
    first_start = np.where(rng.random(n) < 0.06, mbc_day + rng.integers(184, 400, n), first_start)  # late starters
    # An organisation's overall SACT propensity also shifts its targeted treatments.
    sact_shift = 0.5 * eff["sact"].to_numpy()
    cdk = (subtype == "ER+/HER2-") & happens(p_of(0.42, "cdk46", -0.8 * frail + sact_shift))
    her2_t = (subtype == "HER2+") & happens(p_of(0.78, "anti_her2", -0.6 * frail + sact_shift))
    treated |= cdk | her2_t
    endocrine = rng.choice(["LETROZOLE", "ANASTROZOLE", "FULVESTRANT", "EXEMESTANE"], n, p=[0.5, 0.25, 0.2, 0.05])
    cdk_drug = rng.choice(["PALBOCICLIB", "RIBOCICLIB", "ABEMACICLIB"], n, p=[0.45, 0.35, 0.2])
    chemo = rng.choice(["PACLITAXEL", "DOCETAXEL", "CAPECITABINE", "EPIRUBICIN + CYCLOPHOSPHAMIDE",
                        "CARBOPLATIN + GEMCITABINE"], n, p=[0.35, 0.2, 0.25, 0.1, 0.1])
    her2_drug = rng.choice(["TRASTUZUMAB + PERTUZUMAB + DOCETAXEL", "TRASTUZUMAB + PERTUZUMAB + PACLITAXEL",
                            "TRASTUZUMAB DERUXTECAN", "TRASTUZUMAB EMTANSINE"], n, p=[0.6, 0.2, 0.12, 0.08])
    first_drugs = np.select(
        [cdk, her2_t, treated & (subtype == "ER+/HER2-"), treated & (subtype == "Triple negative")],
        [np.char.add(np.char.add(cdk_drug.astype(str), " + "), endocrine.astype(str)), her2_drug,
         np.where(rng.random(n) < 0.6, endocrine, chemo), np.where(rng.random(n) < 0.2, "PEMBROLIZUMAB + PACLITAXEL", chemo)],
        chemo,
    )
    duration = np.where(cdk, rng.gamma(2.0, 230, n), np.where(her2_t, rng.gamma(2.0, 200, n), rng.gamma(2.0, 60, n)))
    # Deaths soon after SACT: the case-mix-related part of 30-day mortality (NHS: ~7% palliative).
    died_soon = happens(p_of(0.16, "mort30", 0.5 * (ps_true >= 2) + 0.35 * (age > 75) + 0.2 * (np.nan_to_num(charlson) >= 2)))
    gap = np.where(died_soon, rng.uniform(1, 30, n), rng.uniform(32, 200, n))
    last_admin = np.minimum(first_start + duration, np.where(died, death_day - gap, cutoff_day))
    valid_first = treated & (first_start <= end_day) & (last_admin >= first_start)
    second = valid_first & (rng.random(n) < 0.45) & (last_admin + 14 < end_day)
    second_start = last_admin + rng.integers(7, 40, n)
    second_last = np.minimum(second_start + rng.gamma(2.0, 70, n), np.where(died, death_day - gap, cutoff_day))
    second &= second_last >= second_start
    # When a second line follows, the first must end before it.
    bone_agent = site_has["bone"] & happens(p_of(0.62, "bone_agent", -0.5 * frail))
    bone_start = mbc_day + rng.gamma(2.0, 20.0, n).clip(0, 500)
    bone_last = np.minimum(bone_start + rng.gamma(2.0, 120.0, n), end_day)
    sact_parts = []
    for mask, start, last, drugs, intent in (
        (valid_first, first_start, last_admin, first_drugs, "P"),
        (second, second_start, second_last, rng.choice(["CAPECITABINE", "ERIBULIN", "VINORELBINE", "PACLITAXEL",
                                                         "SACITUZUMAB GOVITECAN"], n), "P"),
        (bone_agent & (bone_start <= end_day), bone_start, np.maximum(bone_last, bone_start),
         rng.choice(["ZOLEDRONIC ACID", "DENOSUMAB"], n, p=[0.6, 0.4]), "D"),
    ):
        sact_parts.append(pd.DataFrame({
            "patient_id": patient_ids[mask], "regimen_start_date": _dates(start[mask]),
            "last_administration_date": _dates(last[mask]), "drug_names": np.asarray(drugs, dtype=object)[mask],
            "treatment_intent": np.where(rng.random(mask.sum()) < 0.04, "Z", intent), "org_code": org_code[mask],
        }))
    sact = pd.concat(sact_parts, ignore_index=True)
    sact.insert(0, "regimen_id", [f"S{i:09d}" for i in range(len(sact))])

    # --- radiotherapy ------------------------------------------------------------------------------
    rt = happens(p_of(0.30, "radiotherapy", 0.9 * site_has["bone"] + 0.8 * site_has["brain"] - 0.3 * frail))
    rt_site = np.where(site_has["brain"] & (rng.random(n) < 0.5), "BRAIN", np.where(site_has["bone"], "BONE", "OTHER"))
    rt_day = mbc_day + rng.gamma(2.0, 25.0, n)
    rt_mask = rt & in_followup(rt_day)
    radiotherapy = pd.DataFrame({
        "episode_id": [f"R{i:09d}" for i in range(int(rt_mask.sum()))], "patient_id": patient_ids[rt_mask],
        "episode_start_date": _dates(rt_day[rt_mask]), "treatment_site": rt_site[rt_mask],
        "intent": np.where(rng.random(int(rt_mask.sum())) < 0.93, "P", "X"), "org_code": org_code[rt_mask],
    })

    # --- admissions ----------------------------------------------------------------------------------
    em_extra = 0.4 * (ps_true >= 2) + 0.3 * (np.nan_to_num(charlson) >= 2) + 0.25 * de_novo + 0.2 * (age > 75) \
        + 0.15 * (np.nan_to_num(deprivation, nan=3) <= 2)
    emergency = happens(p_of(0.33, "emergency", em_extra))
    em_day = mbc_day + rng.integers(-30, 91, n)
    elective = rng.random(n) < 0.5
    el_day = mbc_day + rng.integers(0, 200, n)
    adm_parts = []
    for mask, day, methods in ((emergency & in_followup(em_day), em_day, ["21", "22", "2A", "28"]),
                               (elective & in_followup(el_day), el_day, ["11", "12"])):
        k = int(mask.sum())
        stay = rng.integers(0, 15, k).astype(float)
        adm_parts.append(pd.DataFrame({
            "patient_id": patient_ids[mask], "admission_date": _dates(day[mask]),
            "discharge_date": _dates(np.minimum(day[mask] + stay, end_day[mask])),
            "admission_method": rng.choice(methods, k), "primary_diagnosis": rng.choice(["C50.9", "C79.5", "C78.7", "R52.9", "J18.9", "N39.0"], k),
            "org_code": org_code[mask],
        }))
    admissions = pd.concat(adm_parts, ignore_index=True)
    admissions.insert(0, "admission_id", [f"A{i:09d}" for i in range(len(admissions))])

    patients = pd.DataFrame({
        "patient_id": patient_ids, "nation": nation, "sex": sex, "date_of_birth": dob,
        "ethnicity": ethnicity, "deprivation_quintile": pd.array(deprivation, dtype="Int64"),
        "charlson_index": pd.array(charlson, dtype="Int64"), "date_of_death": _dates(death_day),
    })

    # --- people who are in the extract but not in the audit cohort ------------------------------
    extra = _non_cohort_people(rng, orgs, fy_start, cutoff, scale)
    patients = pd.concat([patients, extra["patients"]], ignore_index=True)
    tumours = pd.concat([tumours, extra["tumours"]], ignore_index=True)

    # --- CPES (England only; trust aggregates) ---------------------------------------------------------
    english = orgs[orgs.nation == "England"]
    cpes_rows = []
    for year in range(int(config.financial_years[0][:4]), int(config.financial_years[-1][:4]) + 1):
        resp = np.maximum((english.weight.to_numpy() * rng.uniform(50, 90, len(english)) * min(scale, 1.0)).astype(int), 0)
        p = expit(np.log(0.88 / 0.12) + effects.loc[english.org_code, "cpes"].to_numpy())
        cpes_rows.append(pd.DataFrame({"org_code": english.org_code.to_numpy(), "survey_year": year,
                                       "respondents": resp, "yes_count": rng.binomial(resp, p)}))
    cpes = pd.concat(cpes_rows, ignore_index=True)

    frames = {"patients": patients, "tumours": tumours, "metastases": metastases, "care_events": care_events,
              "sact": sact, "radiotherapy": radiotherapy, "admissions": admissions, "cpes": cpes}
    # A stream of its own, so that planting leaves every other random draw (and the designed outliers) as it was.
    cohort_days = np.where((mbc_day >= (fy_start - EPOCH).astype(int)) & (mbc_day <= (fy_end - EPOCH).astype(int)), mbc_day, np.nan)
    planted = _plant_rule_cases(frames, np.random.default_rng([seed, 13]), orgs, cohort_days, primary_day, de_novo,
                                np.where(is_wales, "W", "E"), org_code, end_day, scale)
    frames = _inject_record_errors(frames, rng, cutoff)
    truth = {
        "seed": seed, "scale": scale, "weibull_scale_years": weib_scale, "weibull_shape": weib_shape,
        "designed_outliers": designed,
        "organisation_variation": {
            "designed_outliers": len(designed),
            "ordinary_logit_sd": ORG_EFFECT_SD,
            "wales_logit_shift": {k: v if not isinstance(v, dict) else {str(year): shift for year, shift in v.items()}
                                  for k, v in WALES_LOGIT_SHIFT.items()},
            "note": ("Each designed outlier is one large English trust shifted on the logit scale for one indicator; "
                     "every other organisation varies by chance, by its ordinary random effect (logit SD), and "
                     "for Welsh health boards by the designed Wales shift."),
        },
        "patients": {"de_novo": int(de_novo.sum()), "recurrent": int((~de_novo).sum()), "non_cohort": len(extra["patients"])},
        "injected_errors": frames.pop("_errors"),
        "planted_rule_cases": planted,
    }
    return SyntheticExtract(frames={k: v for k, v in frames.items()}, truth=truth,
                            manifest=_manifest(frames, config.data_cutoff.isoformat()))


def _manifest(frames: dict[str, pd.DataFrame], extract_date: str) -> pd.DataFrame:
    """What a data provider states about each file: nations, extract date and the dates its records span."""
    rows = []
    for name, frame in frames.items():
        dated = frame.select_dtypes(include="datetime64").drop(columns="date_of_birth", errors="ignore")
        dates = dated.stack() if len(frame) else pd.Series(dtype="datetime64[ns]")
        span = (dates.min(), dates.max()) if len(dates) else (pd.NaT, pd.NaT)
        if name == "cpes":
            span = (f"{frame.survey_year.min()}-01-01", f"{frame.survey_year.max()}-12-31")
        rows.append({"file": name, "nations": "England" if name == "cpes" else "England and Wales",
                     "extract_date": extract_date, "covers_from": str(pd.Timestamp(span[0]).date()),
                     "covers_to": str(pd.Timestamp(span[1]).date())})
    return pd.DataFrame(rows)


def _plant_rule_cases(frames: dict[str, pd.DataFrame], rng: np.random.Generator, orgs: pd.DataFrame,
                      mbc_day: np.ndarray, primary_day: np.ndarray, de_novo: np.ndarray, nation: np.ndarray,
                      org_code: np.ndarray, end_day: np.ndarray, scale: float) -> dict[str, int]:
    """Records that exercise every cohort rule on each default build: regional and ambiguous node records,
    people over the age limit, ties between records, ambiguous intents and values, ER-/PR+/HER2- tumours.

    mbc_day is NaN for people diagnosed outside the reporting years. Returns how many of each were planted.
    """
    n = len(mbc_day)
    ids = frames["patients"].patient_id.to_numpy()[:n]
    in_period = ~np.isnan(mbc_day)
    planted: dict[str, int] = {}

    def pick(mask: np.ndarray, share: float) -> np.ndarray:
        return np.flatnonzero(mask & (rng.random(n) < share))

    # Distant lymph nodes: regions outside the breast's regional nodes.
    mets = frames["metastases"]
    nodes = mets.site_icd10.eq("C77.2").to_numpy()
    mets.loc[nodes, "site_icd10"] = rng.choice(["C77.2", "C77.5", "C77.4"], int(nodes.sum()), p=[0.5, 0.3, 0.2])
    # Regional axillary nodes (C77.3): node-positive early disease of recurrent patients at their primary
    # diagnosis (years before the metastases), and beside the distant sites of some de novo patients;
    # neck and intrathoracic nodes (C77.0, C77.1: possibly regional) a few days before the distant record.
    hes = np.where(nation == "W", "PEDW", "HES")
    early = pick(~de_novo & in_period, 0.30)
    beside = pick(de_novo & in_period, 0.10)
    ambiguous = pick(in_period, 0.03)
    extra = pd.DataFrame({
        "patient_id": ids[np.r_[early, beside, ambiguous]],
        "data_source": hes[np.r_[early, beside, ambiguous]],
        "metastasis_date": _dates(np.r_[primary_day[early] + rng.integers(0, 30, len(early)), mbc_day[beside],
                                        mbc_day[ambiguous] - rng.integers(1, 20, len(ambiguous))]),
        "site_icd10": ["C77.3"] * (len(early) + len(beside)) + list(rng.choice(["C77.0", "C77.1"], len(ambiguous))),
        "recurrence_type": "", "org_code": org_code[np.r_[early, beside, ambiguous]],
    })
    planted["regional_node_records"] = len(early) + len(beside)
    planted["ambiguous_node_records"] = len(ambiguous)
    # People whose only secondary record is of regional nodes: not in the cohort.
    k = max(2, int(round(300 * scale)))
    english = orgs[orgs.nation == "England"].org_code.to_numpy()
    who = np.array([f"N{i:09d}" for i in range(k)])
    diag = rng.uniform(np.nanmin(mbc_day), np.nanmax(mbc_day), k)
    frames["patients"] = pd.concat([frames["patients"], pd.DataFrame({
        "patient_id": who, "nation": "E", "sex": "2",
        "date_of_birth": _dates(diag - rng.uniform(35, 85, k) * DAYS_PER_YEAR).astype("datetime64[M]").astype("datetime64[D]"),
        "ethnicity": "A", "deprivation_quintile": pd.array(rng.integers(1, 6, k), dtype="Int64"),
        "charlson_index": pd.array(np.zeros(k, int), dtype="Int64"), "date_of_death": _dates(np.full(k, np.nan))})],
        ignore_index=True)
    where = rng.choice(english, k)
    frames["tumours"] = pd.concat([frames["tumours"], pd.DataFrame({
        "tumour_id": np.char.replace(who.astype(str), "N", "K"), "patient_id": who, "data_source": "COSD",
        "diagnosis_date": _dates(diag), "icd10_code": "C50.4", "tnm_m": "M0", "stage_group": "2", "er_status": "P",
        "pr_status": "P", "her2_status": "N", "org_code": where})], ignore_index=True)
    extra = pd.concat([extra, pd.DataFrame({"patient_id": who, "data_source": "HES", "metastasis_date": _dates(diag + 3),
                                            "site_icd10": "C77.3", "recurrence_type": "", "org_code": where})])
    planted["regional_nodes_only_people"] = k
    # Ties on date: a second record of the first distant metastasis, on the same day at another organisation.
    by_nation = {nat: orgs.org_code[orgs.nation == name].to_numpy() for nat, name in (("E", "England"), ("W", "Wales"))}
    tie = pick(in_period, 0.01)
    other_org = np.array([rng.choice(by_nation[nation[i]]) for i in tie], dtype=object)
    extra = pd.concat([extra, pd.DataFrame({
        "patient_id": ids[tie], "data_source": hes[tie], "metastasis_date": _dates(mbc_day[tie]), "site_icd10": "C79.5",
        "recurrence_type": "", "org_code": other_org})])
    planted["metastasis_date_ties"] = len(tie)
    extra = extra[extra.metastasis_date.to_numpy() <= _dates(np.r_[end_day, np.full(k, np.nanmax(end_day))][
        pd.Index(np.r_[ids, who]).get_indexer(extra.patient_id)])]
    extra.insert(0, "record_id", [f"M9{i:08d}" for i in range(len(extra))])
    frames["metastases"] = pd.concat([mets, extra], ignore_index=True)

    # People aged 105 (kept) and 106 to 108 (excluded) at their metastatic diagnosis.
    patients = frames["patients"]
    chosen = rng.choice(np.flatnonzero(in_period & ~np.isnat(_dates(mbc_day))), 10, replace=False)
    ages = np.r_[rng.uniform(105.1, 105.8, 4), rng.uniform(106.1, 108.9, 6)]
    patients.loc[chosen, "date_of_birth"] = pd.to_datetime(
        _dates(mbc_day[chosen] - ages * DAYS_PER_YEAR).astype("datetime64[M]").astype("datetime64[D]"))
    planted["aged_105"], planted["aged_over_105"] = 4, 6

    # Ties between MDT discussions and between equally near performance status records; PS of 9 (not assessed).
    care = frames["care_events"]
    mdt = care[care.event_type.eq("MDT").to_numpy() & (rng.random(len(care)) < 0.015)]
    row_of = pd.Index(ids).get_indexer(mdt.patient_id)
    mdt = mdt.assign(org_code=[rng.choice(by_nation[nation[i]]) for i in row_of])
    ps = care[care.event_type.eq("PS").to_numpy()]
    mbc_of = mbc_day[pd.Index(ids).get_indexer(ps.patient_id)]
    offset = (ps.event_date.to_numpy().astype("datetime64[D]") - EPOCH).astype(int) - mbc_of
    mirror = ps[(offset != 0) & ~np.isnan(offset) & (rng.random(len(ps)) < 0.03)]
    back = pd.Index(ids).get_indexer(mirror.patient_id)
    mirror_day = 2 * mbc_day[back] - ((mirror.event_date.to_numpy().astype("datetime64[D]") - EPOCH).astype(int))
    mirror = mirror.assign(event_date=_dates(mirror_day),
                           value=((mirror.value.astype(int) + 1 + rng.integers(0, 3, len(mirror))) % 5).astype(str))
    mirror = mirror[mirror_day <= end_day[back]]
    care.loc[care.event_type.eq("PS").to_numpy() & (rng.random(len(care)) < 0.03), "value"] = "9"
    added = pd.concat([mdt, mirror], ignore_index=True).drop(columns="event_id")
    added.insert(0, "event_id", [f"E9{i:08d}" for i in range(len(added))])
    frames["care_events"] = pd.concat([care, added], ignore_index=True)
    planted["mdt_ties"], planted["performance_status_ties"] = len(mdt), len(mirror)

    # The last SACT regimen given on the same last day by two organisations.
    sact = frames["sact"]
    anti = sact[sact.treatment_intent.ne("D").to_numpy()]
    last = anti.sort_values(["patient_id", "last_administration_date"]).drop_duplicates("patient_id", keep="last")
    last = last[rng.random(len(last)) < 0.01]
    row_of = pd.Index(ids).get_indexer(last.patient_id)
    twin = last.assign(org_code=[rng.choice(by_nation[nation[i]]) for i in row_of],
                       regimen_start_date=last.last_administration_date, drug_names="CAPECITABINE",
                       regimen_id=[f"S9{i:08d}" for i in range(len(last))])
    frames["sact"] = pd.concat([sact, twin], ignore_index=True)
    planted["last_sact_ties"] = len(twin)

    # Radiotherapy of radical or unrecorded intent; hormone receptor ER-/PR+ with HER2 negative.
    rt = frames["radiotherapy"]
    draw = rng.random(len(rt))
    rt.loc[draw < 0.05, "intent"] = "R"
    rt.loc[(draw >= 0.05) & (draw < 0.10), "intent"] = ""
    planted["radiotherapy_radical_or_blank"] = int((draw < 0.10).sum())
    tum = frames["tumours"]
    flip = tum.er_status.eq("P").to_numpy() & tum.pr_status.eq("P").to_numpy() & tum.her2_status.eq("N").to_numpy() \
        & (rng.random(len(tum)) < 0.02)
    tum.loc[flip, "er_status"] = "N"
    planted["er_negative_pr_positive"] = int(flip.sum())
    # Two primaries diagnosed on the same day (bilateral) with different ER status: the lower tumour identifier wins.
    twin_rows = tum.iloc[:n][in_period & (rng.random(n) < 0.005)]
    twins = twin_rows.assign(tumour_id=[("S" if rng.random() < 0.5 else "V") + tid[1:] for tid in twin_rows.tumour_id],
                             er_status=np.where(twin_rows.er_status.eq("P"), "N", "P"))
    frames["tumours"] = pd.concat([tum, twins], ignore_index=True)
    planted["primary_tumour_ties"] = len(twins)
    return planted


def _non_cohort_people(rng: np.random.Generator, orgs: pd.DataFrame, fy_start: np.datetime64,
                       cutoff: np.datetime64, scale: float) -> dict[str, pd.DataFrame]:
    """People in the extract who the cohort rules must exclude: no metastasis, not invasive breast, under 18."""
    kinds = {"no_metastasis": 700, "not_invasive_breast": 120, "under_18": 3}
    rows_p, rows_t = [], []
    english = orgs[orgs.nation == "England"].org_code.to_numpy()
    start = float((fy_start - EPOCH).astype(int))
    end = float((cutoff - EPOCH).astype(int))
    i = 0
    for kind, count in kinds.items():
        k = max(1, int(round(count * scale)))
        ids = np.array([f"Q{i + j:09d}" for j in range(k)])
        i += k
        diag = rng.uniform(start, end - 30, k)
        age = rng.uniform(14, 17.5, k) if kind == "under_18" else rng.uniform(30, 90, k)
        rows_p.append(pd.DataFrame({
            "patient_id": ids, "nation": "E", "sex": "2",
            "date_of_birth": _dates(diag - age * DAYS_PER_YEAR).astype("datetime64[M]").astype("datetime64[D]"),
            "ethnicity": "A", "deprivation_quintile": pd.array(rng.integers(1, 6, k), dtype="Int64"),
            "charlson_index": pd.array(np.zeros(k, int), dtype="Int64"), "date_of_death": _dates(np.full(k, np.nan)),
        }))
        code = rng.choice(["D05.1", "D05.9", "C44.5"], k) if kind == "not_invasive_breast" else rng.choice(["C50.4", "C50.9"], k)
        m1 = kind == "under_18"
        rows_t.append(pd.DataFrame({
            "tumour_id": np.char.replace(ids.astype(str), "Q", "U"), "patient_id": ids, "data_source": "COSD",
            "diagnosis_date": _dates(diag), "icd10_code": code, "tnm_m": "M1" if m1 else "M0",
            "stage_group": "4" if m1 else "2", "er_status": "P", "pr_status": "P", "her2_status": "N",
            "org_code": rng.choice(english, k),
        }))
    return {"patients": pd.concat(rows_p, ignore_index=True), "tumours": pd.concat(rows_t, ignore_index=True)}


def _inject_record_errors(frames: dict[str, pd.DataFrame], rng: np.random.Generator,
                          cutoff: np.datetime64) -> dict[str, pd.DataFrame]:
    """A few bad records of the kinds real extracts carry, so quarantine is exercised on every build."""
    errors = []

    def pick(name: str, k: int) -> np.ndarray:
        return rng.choice(len(frames[name]), size=min(k, len(frames[name])), replace=False)

    s = frames["sact"]
    idx = pick("sact", 6)
    s.loc[idx, "org_code"] = "XXQ"
    errors += [{"file": "sact", "row_key": s.regimen_id[i], "problem": "unknown organisation"} for i in idx]
    c = frames["care_events"]
    idx = pick("care_events", 5)
    c.loc[idx, "event_date"] = cutoff + np.timedelta64(400, "D")
    errors += [{"file": "care_events", "row_key": c.event_id[i], "problem": "future date"} for i in idx]
    a = frames["admissions"]
    idx = pick("admissions", 4)
    a.loc[idx, "discharge_date"] = a.loc[idx, "admission_date"] - np.timedelta64(3, "D")
    errors += [{"file": "admissions", "row_key": a.admission_id[i], "problem": "date order"} for i in idx]
    m = frames["metastases"]
    idx = pick("metastases", 4)
    m.loc[idx, "site_icd10"] = "C7X.5"
    errors += [{"file": "metastases", "row_key": m.record_id[i], "problem": "invalid code"} for i in idx]
    r = frames["radiotherapy"]
    if len(r):
        dup = r.iloc[[0]].copy()
        frames["radiotherapy"] = pd.concat([r, dup], ignore_index=True)
        errors.append({"file": "radiotherapy", "row_key": dup.episode_id.iloc[0], "problem": "duplicate identifier"})
    frames["_errors"] = errors
    return frames


def write_extract(extract: SyntheticExtract, directory: Path, file_format: str = "csv") -> list[Path]:
    """Write the extract's files (CSV or Parquet) and the generator's truth file."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, frame in extract.frames.items():
        path = directory / f"{name}.{file_format}"
        with atomic.replacing(path) as tmp:
            if file_format == "parquet":
                frame.to_parquet(tmp, index=False)
            else:
                _write_csv(frame, tmp)
        # only once the new file is in place: a build killed here leaves a whole extract
        (directory / f"{name}.{'csv' if file_format == 'parquet' else 'parquet'}").unlink(missing_ok=True)
        written.append(path)
    if extract.manifest is not None:
        atomic.write_text(directory / MANIFEST, extract.manifest.to_csv(index=False, lineterminator="\n"))
        written.append(directory / MANIFEST)
    atomic.write_text(directory / "_synthetic_truth.json", json.dumps(extract.truth, indent=2, default=str))
    atomic.write_text(directory / SYNTHETIC_MARKER,
                      "These files are a SYNTHETIC extract made by naome-report. They describe no real person.\n")
    return written


def _write_csv(frame: pd.DataFrame, path: Path) -> None:
    import pyarrow as pa
    import pyarrow.csv as pacsv

    out = frame.copy()
    for col in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[col]):
            out[col] = out[col].dt.strftime("%Y-%m-%d")
    table = pa.Table.from_pandas(out, preserve_index=False)
    table = table.cast(pa.schema([pa.field(f.name, pa.string()) for f in table.schema]))
    pacsv.write_csv(table, path, pacsv.WriteOptions(quoting_style="needed"))

