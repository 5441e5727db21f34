"""A small but complete set of published results (hub.FILES columns) for portal tests.

Stands in for `output/data` until the pipeline has written it. The numbers are random but
shaped like the real files: every level, the pooled period and each financial year,
subgroups, suppression, Welsh 'not available' rows, funnel limits and XmR run charts.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from naome_report.config import PROJECT_ROOT, load_config
from naome_report.hub import FILES, META_FILE
from naome_report.registry import Indicator, load_registry
from naome_report.stats.funnel import funnel_limits
from naome_report.stats.outliers import assign_outlier_status
from naome_report.stats.wilson import wilson_interval

NATIONAL = ("national", "England and Wales", "K04000001", "England and Wales")
NATIONS = {"England": "E92000001", "Wales": "W92000004"}
SUBGROUP_SHARE = {"all": 1.0, "de_novo": 0.3, "recurrent": 0.7, "triple_negative": 0.12, "bone_metastases": 0.5}


def _units(orgs: pd.DataFrame) -> list[dict]:
    """Every reporting unit with its hierarchy columns."""
    units = [dict(level="national", nation="England and Wales", region_code="", region_name="", parent_code="",
                  parent_name="", org_code=NATIONAL[2], org_name=NATIONAL[3])]
    for nation, code in NATIONS.items():
        units.append(dict(level="nation", nation=nation, region_code="", region_name="", parent_code=NATIONAL[2],
                          parent_name=NATIONAL[3], org_code=code, org_name=nation))
    eng = orgs[orgs.nation == "England"]
    for (rc, rn), _ in eng.groupby(["region_code", "region_name"]):
        units.append(dict(level="region", nation="England", region_code=rc, region_name=rn,
                          parent_code=NATIONS["England"], parent_name="England", org_code=rc, org_name=rn))
    for (ac, an, nation, rc, rn), _ in orgs.groupby(["alliance_code", "alliance_name", "nation", "region_code", "region_name"]):
        wales = nation == "Wales"
        units.append(dict(level="alliance", nation=nation, region_code="" if wales else rc, region_name="" if wales else rn,
                          parent_code=NATIONS["Wales"] if wales else rc, parent_name="Wales" if wales else rn,
                          org_code=ac, org_name=an))
    for o in orgs.itertuples():
        wales = o.nation == "Wales"
        units.append(dict(level="organisation", nation=o.nation, region_code="" if wales else o.region_code,
                          region_name="" if wales else o.region_name, parent_code=o.alliance_code,
                          parent_name=o.alliance_name, org_code=o.org_code, org_name=o.org_name))
    return units


def _org_base(orgs: pd.DataFrame, rng: np.random.Generator) -> pd.Series:
    """Yearly MBC patients per organisation (a few small ones to exercise too_few and suppression)."""
    sizes = rng.integers(40, 260, len(orgs))
    sizes[:3] = [4, 7, 15]
    return pd.Series(sizes, index=orgs.org_code)


def _unavailable(ind: Indicator, nation: str, period: str, fys: list[str]) -> bool:
    years = ind.unavailable_years(nation)
    return period in years or (period not in fys and bool(years) and set(fys) <= set(years))


def _org_counts(ind: Indicator, org_units: pd.DataFrame, base: pd.Series, period: str, fys: list[str], subgroup: str,
                rates: np.ndarray, rng: np.random.Generator) -> pd.DataFrame:
    """Numerator, denominator and status of every organisation for one period and subgroup."""
    years = 1 if period in fys else len(fys)
    share = SUBGROUP_SHARE[subgroup] * (0.5 if ind.denominator else 1.0)
    den = np.round(base.reindex(org_units.org_code).to_numpy() * years * share).astype(int)
    num = rng.binomial(den, rates)
    frame = org_units.copy()
    frame["numerator"], frame["denominator"], frame["status"] = num.astype(float), den.astype(float), "published"
    na = np.array([_unavailable(ind, n, period, fys) for n in frame.nation])
    frame.loc[na, ["numerator", "denominator"]] = np.nan
    frame.loc[na, "status"] = "not_available"
    return frame


def _aggregates(org: pd.DataFrame, units: pd.DataFrame) -> pd.DataFrame:
    """Sums of published organisation rows into every unit above them."""
    pub = org[org.status == "published"]
    keys = {"alliance": "parent_code", "region": "region_code", "nation": "nation"}
    out = []
    for level, key in keys.items():
        sums = pub.groupby(key)[["numerator", "denominator"]].sum()
        lv = units[units.level == level]
        match = lv.nation if level == "nation" else lv.org_code
        out.append(lv.assign(numerator=match.map(sums.numerator).to_numpy(), denominator=match.map(sums.denominator).to_numpy()))
    nat = units[units.level == "national"].assign(numerator=pub.numerator.sum(), denominator=pub.denominator.sum())
    frame = pd.concat([nat, *out], ignore_index=True)
    frame["status"] = np.where(frame.denominator.notna(), "published", "not_available")
    present = set(org.nation) | {"England and Wales"}
    return frame[frame.nation.isin(present)]


def _indicator_frame(ind: Indicator, units: pd.DataFrame, base: pd.Series, periods: list[str], fys: list[str],
                     rng: np.random.Generator, method: str) -> tuple[pd.DataFrame, list[pd.DataFrame]]:
    """Every row of one indicator in naome_indicators.csv, and its funnel limit curves."""
    org_units = units[(units.level == "organisation") & units.nation.isin(ind.nations)]
    centre = {"mdt": 0.6, "mort30_sact": 0.08, "emergency": 0.3, "cdk46": 0.55}.get(ind.id, 0.5 + 0.3 * rng.random())
    rates = np.clip(rng.normal(centre, 0.06, len(org_units)), 0.01, 0.99)
    frames, limits = [], []
    for period in periods:
        for subgroup in ("all", *ind.subgroups):
            org = _org_counts(ind, org_units, base, period, fys, subgroup, rates, rng)
            frame = pd.concat([_aggregates(org, units), org], ignore_index=True)
            frame["period"], frame["subgroup"] = period, subgroup
            nat = frame[frame.level == "national"].iloc[0]
            target = nat.numerator / nat.denominator
            frame["target"] = target
            frames.append(frame)
            if ind.has_rate:
                lim = funnel_limits(target, np.unique(np.geomspace(5, 1500, 90).round()), method=method)
                limits.append(lim.assign(indicator_id=ind.id, period=period, subgroup=subgroup))
    frame = pd.concat(frames, ignore_index=True)
    return _finish(ind, frame, method), limits


def _finish(ind: Indicator, f: pd.DataFrame, method: str) -> pd.DataFrame:
    """Percentages, CI, funnel limits, outlier status and suppression, vectorised."""
    f = f.assign(period_type=np.where(f.period.str.contains("-"), "pooled", "financial_year"), indicator_id=ind.id,
                 indicator_title=ind.title, synthetic_data="yes", status_note="", outlier_note="")
    na = f.status == "not_available"
    f.loc[na, "status_note"] = "Data not available for " + f.loc[na, "nation"] + " in this period"
    if not ind.has_rate:
        f["denominator"] = np.nan
        f["outlier_status"], f["outlier_note"] = "not_assessed", np.where(na, "not_available", "not_eligible")
        return f
    num, den = f.numerator.to_numpy(), f.denominator.to_numpy()
    suppressed = ((num >= 1) & (num <= 4)) | ((den - num >= 1) & (den - num <= 4))
    too_few = ~suppressed & (den < 10)
    f.loc[suppressed, "status"], f.loc[suppressed, "status_note"] = "suppressed", "Suppressed: fewer than 5 patients"
    f.loc[too_few, "status"], f.loc[too_few, "status_note"] = "too_few", "Too few patients to show a rate"
    pub = (f.status == "published").to_numpy()
    lo, hi = wilson_interval(np.where(pub, num, np.nan), np.where(pub, den, np.nan))
    f["percentage"] = np.where(pub, 100 * num / np.where(den > 0, den, 1), np.nan).round(4)
    f["ci_lower_95"], f["ci_upper_95"] = (100 * lo).round(4), (100 * hi).round(4)
    f["national_percentage"] = np.where(pub, 100 * f.target, np.nan).round(4)
    if ind.type == "timeliness":
        f["median_days"] = np.where(pub, 30 + np.nan_to_num(num) % 20, np.nan)
    is_org = (f.level == "organisation").to_numpy()
    value = f.percentage.to_numpy() / 100
    if ind.is_casemix_adjusted:
        expected = den * f.target * (0.9 + 0.2 * ((np.nan_to_num(num) * 7919) % 100) / 100)
        ok = pub & is_org
        f["expected"] = np.where(ok, expected, np.nan).round(3)
        f["observed_expected"] = np.where(ok, num / expected, np.nan).round(4)
        f["adjusted_percentage"] = np.where(ok, 100 * num / expected * f.target, np.nan).round(4)
        value = np.where(ok, f.adjusted_percentage.to_numpy() / 100, value)
    for (period, subgroup), idx in f[is_org & pub].groupby(["period", "subgroup"]).groups.items():
        target = f.loc[idx[0], "target"]
        lim = funnel_limits(target, f.loc[idx, "denominator"].astype(int).to_numpy(), method=method)
        for k in ("lower_95", "upper_95", "lower_998", "upper_998"):
            f.loc[idx, f"funnel_{k}"] = (100 * lim[k].to_numpy()).round(4)
        f.loc[idx, "funnel_method"] = lim["method"].iloc[0]
    status = assign_outlier_status(value, f.funnel_lower_95 / 100, f.funnel_upper_95 / 100, f.funnel_lower_998 / 100,
                                   f.funnel_upper_998 / 100, assessable=np.full(len(f), ind.outlier_process),
                                   reason_not_assessed=np.where(~ind.outlier_process, "not_eligible", f.status.replace("published", "not_available")))
    split = pd.Series(status).str.split(":", n=1, expand=True).reindex(columns=[0, 1])
    f["outlier_status"] = np.where(is_org, split[0], np.nan)
    f["outlier_note"] = np.where(is_org, split[1].fillna(""), "")
    return f


def _xmr(pct: np.ndarray, improvement: str, min_points: int) -> dict[str, np.ndarray]:
    """Simplified XmR (outside-limits rule only): enough shape for the portal, cheap to compute."""
    present = np.isfinite(pct)
    v = pct[present]
    mean = v.mean() if v.size else np.nan
    mr = np.abs(np.diff(v)).mean() if v.size > 1 else np.nan
    lower, upper = mean - 2.66 * mr, mean + 2.66 * mr
    outside = present & ((np.nan_to_num(pct) > upper) | (np.nan_to_num(pct, nan=mean) < lower))
    up = np.nan_to_num(pct) > upper
    better = {"increase": up, "decrease": ~up}.get(improvement)
    variation = np.where(~present, "", "common_cause").astype(object)
    if better is None:
        variation[outside] = "neither"
    else:
        variation[outside & better] = "improvement"
        variation[outside & ~better] = "concern"
    return {"mean": mean, "lower": lower, "upper": upper, "special": outside, "variation": variation,
            "limits_status": "trial" if present.sum() < min_points else "baseline"}


def _run_chart_rows(ind: Indicator, units: pd.DataFrame, base: pd.Series, fys: list[str],
                    rng: np.random.Generator, spc: dict) -> list[dict]:
    rows = []
    quarters = [f"{fy} Q{q}" for fy in fys for q in range(1, 5)]
    improvement = {"higher_better": "increase", "lower_better": "decrease"}.get(ind.direction, "neutral")
    org_units = units[(units.level == "organisation") & units.nation.isin(ind.nations)]
    for u in org_units.to_dict("records"):
        den = rng.poisson(base[u["org_code"]] / 4, len(quarters))
        p = np.clip(0.55 + rng.choice([0, 0.012, -0.012]) * np.arange(len(quarters)) + rng.normal(0, 0.04, len(quarters)), 0, 1)
        if rng.random() < 0.3:
            p[rng.integers(len(quarters))] += rng.choice([-0.3, 0.3])
        num = rng.binomial(den, np.clip(p, 0, 1))
        status = np.where(den < 10, "too_few", "published").astype(object)
        status[[q.split()[0] in ind.unavailable_years(u["nation"]) for q in quarters]] = "not_available"
        pub = status == "published"
        pct = np.where(pub, 100 * num / np.maximum(den, 1), np.nan)
        x = _xmr(pct, improvement, spc["min_points"])
        for i, q in enumerate(quarters):
            rows.append({**u, "period": q, "period_type": "quarter", "indicator_id": ind.id, "quarter_index": i + 1,
                         "numerator": num[i] if pub[i] else np.nan, "denominator": den[i] if pub[i] else np.nan,
                         "percentage": round(pct[i], 4), "status": status[i], "centre": round(x["mean"], 4),
                         "lower_limit": round(x["lower"], 4), "upper_limit": round(x["upper"], 4),
                         "special_cause": "yes" if x["special"][i] else "no",
                         "rule": "outside_limits" if x["special"][i] else "", "rules_fired": "outside_limits" if x["special"][i] else "",
                         "variation": x["variation"][i], "limits_status": x["limits_status"],
                         "improvement_direction": improvement, "synthetic_data": "yes"})
    return rows


def _survival_rows(units: list[dict], primary: str, rng: np.random.Generator) -> list[dict]:
    rows = []
    for u in units:
        for group_type, group in (("all", "All patients"), ("route", "de_novo"), ("route", "recurrent")):
            for t, centre in ((1, 66), (3, 44)):
                s = float(np.clip(rng.normal(centre, 5), 5, 95))
                rows.append({**u, "period": primary, "period_type": "pooled", "group_type": group_type, "group": group,
                             "time_years": t, "patients": 300, "deaths": 100, "survival_percentage": round(s, 2),
                             "ci_lower_95": round(s - 6, 2), "ci_upper_95": round(s + 6, 2), "at_risk": 120,
                             "status": "published", "status_note": "", "synthetic_data": "yes"})
    return rows


def _frame(name: str, rows: list[dict] | pd.DataFrame) -> pd.DataFrame:
    frame = pd.DataFrame(rows)
    for column in FILES[name]:
        if column not in frame:
            frame[column] = np.nan
    return frame[list(FILES[name])]


def write_synthetic_results(data_dir: Path, seed: int = 7, per_alliance: int | None = None) -> Path:
    """Write every hub file and the run metadata (all organisations, or the first few of each alliance)."""
    config, registry = load_config(), load_registry()
    rng = np.random.default_rng(seed)
    orgs = pd.read_csv(PROJECT_ROOT / "data" / "organisations.csv", dtype=str, keep_default_na=False)
    if per_alliance:
        orgs = orgs.groupby("alliance_code", sort=False).head(per_alliance).reset_index(drop=True)
    units = pd.DataFrame(_units(orgs))
    base = _org_base(orgs, rng)
    fys = config.financial_years
    periods = [config.primary_period, *fys]
    method = config.section("funnel")["method"]
    indicator_frames, limit_frames, run_rows = [], [], []
    for ind in registry:
        frame, limits = _indicator_frame(ind, units, base, periods, fys, rng, method)
        indicator_frames.append(frame)
        limit_frames += limits
        if ind.run_chart:
            run_rows += _run_chart_rows(ind, units, base, fys, rng, config.section("spc"))
    limits = pd.concat(limit_frames, ignore_index=True)
    for column in ("target", "lower_95", "upper_95", "lower_998", "upper_998"):
        limits[column] = (100 * limits[column]).round(4)
    frames = {
        "naome_indicators.csv": _frame("naome_indicators.csv", pd.concat(indicator_frames, ignore_index=True)),
        "naome_run_charts.csv": _frame("naome_run_charts.csv", run_rows),
        "naome_funnel_limits.csv": _frame("naome_funnel_limits.csv", limits),
        "naome_survival.csv": _frame("naome_survival.csv", _survival_rows(units.to_dict("records"), config.primary_period, rng)),
    }
    data_dir.mkdir(parents=True, exist_ok=True)
    for name in FILES:
        frame = frames.get(name, _frame(name, []))
        frame.to_csv(data_dir / name, index=False)
    meta = {"primary_period": config.primary_period, "data_cutoff": config.data_cutoff.isoformat(), "synthetic": True,
            "definitions_version": registry.definitions_version, "built": "2026-11-25T12:00:00"}
    (data_dir / META_FILE).write_text(json.dumps(meta, indent=2), encoding="utf-8")
    return data_dir


if __name__ == "__main__":
    import sys

    out = Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/naome-portal-fixture")
    print(write_synthetic_results(out, per_alliance=int(sys.argv[2]) if len(sys.argv) > 2 else None))
