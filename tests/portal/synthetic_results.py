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

from naome_report.config import load_config
from naome_report.hub import FILES, META_FILE
from naome_report.organisations import load_organisations
from naome_report.registry import Indicator, load_registry
from naome_report.stats.funnel import funnel_limits
from naome_report.stats.outliers import OUTLIER_STATUS_OF_POSITION, funnel_position
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
    position = funnel_position(value, f.funnel_lower_95 / 100, f.funnel_upper_95 / 100, f.funnel_lower_998 / 100,
                               f.funnel_upper_998 / 100, assessable=np.full(len(f), ind.outlier_process))
    reason = np.where(~ind.outlier_process, "not_eligible", f.status.replace("published", "not_available"))
    assessed = position != "not_assessed"
    f["outlier_status"] = np.where(is_org, pd.Series(position).map(OUTLIER_STATUS_OF_POSITION).to_numpy(), np.nan)
    f["outlier_note"] = np.where(is_org & ~assessed, reason, "")
    return f


# The indicators this fixture puts in the HQIP outlier process (hub column outlier_process).
IN_OUTLIER_PROCESS = {"mdt", "mort30_sact", "emergency"}
POSITION_STATUS = {"above_998": "alarm_high", "above_95": "alert_high", "within": "within_limits",
                   "below_95": "alert_low", "below_998": "alarm_low", "not_assessed": "not_assessed"}


def _judge(side: np.ndarray, direction: pd.Series, assessed: np.ndarray) -> np.ndarray:
    """better / similar / worse (higher / lower where no direction is better) from the side of the reference."""
    up = np.select([direction.eq("higher_better"), direction.eq("lower_better")], ["better", "worse"], "higher")
    down = np.select([direction.eq("higher_better"), direction.eq("lower_better")], ["worse", "better"], "lower")
    out = np.where(side > 0, up, np.where(side < 0, down, "similar"))
    return np.where(assessed, out, "not_assessed").astype(object)


def _comparators(units: pd.DataFrame) -> dict[str, str]:
    """The comparator of each unit (results-hub contract): trust -> alliance; Welsh board -> its Welsh region when
    that region has more than one board, else Wales; alliance -> region or Wales; region -> England; nation -> E&W."""
    orgs_per_alliance = units[units.level == "organisation"].groupby("parent_code").size()
    out = {}
    for u in units.itertuples():
        if u.level == "organisation":
            single = u.nation == "Wales" and orgs_per_alliance.get(u.parent_code, 0) <= 1
            out[u.org_code] = NATIONS["Wales"] if single else u.parent_code
        elif u.level in ("alliance", "region", "nation"):
            out[u.org_code] = u.parent_code
    return out


def _contract_columns(f: pd.DataFrame, registry, units: pd.DataFrame, fys: list[str]) -> pd.DataFrame:
    """The results-hub contract v2 columns the portal reads: positions, judgements, comparators, change."""
    f = f.copy()
    info = {i.id: i for i in registry}
    direction = f.indicator_id.map({k: i.direction for k, i in info.items()})
    has_rate = f.indicator_id.map({k: i.has_rate for k, i in info.items()}).to_numpy(bool)
    is_org = f.level.eq("organisation").to_numpy()
    pub = f.status.eq("published").to_numpy() & has_rate
    value = f.adjusted_percentage.fillna(f.percentage).to_numpy(float)
    position = np.select([value > f.funnel_upper_998, value > f.funnel_upper_95, value < f.funnel_lower_998,
                          value < f.funnel_lower_95], ["above_998", "above_95", "below_998", "below_95"], "within")
    placed = is_org & pub & f.funnel_upper_95.notna().to_numpy()
    position = np.where(placed, position, "not_assessed")
    f["funnel_position"] = np.where(is_org & has_rate, position, None)
    in_process = f.indicator_id.isin(IN_OUTLIER_PROCESS).to_numpy()
    f["outlier_process"] = np.where(in_process, "yes", "no")
    status = pd.Series(position).map(POSITION_STATUS).to_numpy()
    f["outlier_status"] = np.where(~is_org, None, np.where(in_process, status, "not_in_process"))
    f["outlier_note"] = np.where(is_org & in_process & ~placed, "too_few", "")
    side_org = np.select([np.char.startswith(position.astype(str), "above"), np.char.startswith(position.astype(str), "below")], [1, -1], 0)
    nat = f.national_percentage.to_numpy(float)
    side_area = np.select([f.ci_lower_95.to_numpy(float) > nat, f.ci_upper_95.to_numpy(float) < nat], [1, -1], 0)
    side = np.where(is_org, side_org, side_area)
    vs = _judge(side, direction, np.where(is_org, placed, pub))
    f["vs_national"] = np.where(f.level.eq("national") | ~has_rate, None, vs)
    comparator = _comparators(units)
    names = dict(zip(units.org_code, units.org_name))
    f["comparator_code"] = f.org_code.map(comparator)
    f["comparator_name"] = f.comparator_code.map(names)
    lookup = f.set_index(["org_code", "indicator_id", "period", "subgroup"]).percentage
    keys = pd.MultiIndex.from_arrays([f.comparator_code, f.indicator_id, f.period, f.subgroup])
    f["comparator_percentage"] = lookup.reindex(keys).to_numpy()
    comp = f.comparator_percentage.to_numpy(float)
    side_comp = np.select([f.ci_lower_95.to_numpy(float) > comp, f.ci_upper_95.to_numpy(float) < comp], [1, -1], 0)
    f["vs_comparator"] = np.where(f.comparator_code.isna() | ~has_rate, None,
                                  _judge(side_comp, direction, pub & np.isfinite(comp)))
    ratio = (f.adjusted_percentage / f.percentage).to_numpy(float)
    f["adjusted_ci_lower_95"] = (f.ci_lower_95 * ratio).round(4)
    f["adjusted_ci_upper_95"] = (f.ci_upper_95 * ratio).round(4)
    previous = {year: fys[i - 1] for i, year in enumerate(fys) if i}
    prev_keys = pd.MultiIndex.from_arrays([f.org_code, f.indicator_id, f.period.map(previous), f.subgroup])
    before = f.set_index(["org_code", "indicator_id", "period", "subgroup"])[["percentage", "denominator"]].reindex(prev_keys)
    p1, p0 = f.percentage.to_numpy(float) / 100, before.percentage.to_numpy(float) / 100
    n1, n0 = f.denominator.to_numpy(float), before.denominator.to_numpy(float)
    change = 100 * (p1 - p0)
    se = 100 * np.sqrt(p1 * (1 - p1) / n1 + p0 * (1 - p0) / n0)
    ok = np.isfinite(change) & f.period.isin(previous).to_numpy()
    f["previous_percentage"] = np.where(ok, before.percentage.to_numpy(float), np.nan)
    f["change_points"] = np.where(ok, change, np.nan).round(4)
    f["change_ci_lower_95"] = np.where(ok, change - 1.96 * se, np.nan).round(4)
    f["change_ci_upper_95"] = np.where(ok, change + 1.96 * se, np.nan).round(4)
    f["change_significant"] = np.where(ok, np.where((change - 1.96 * se > 0) | (change + 1.96 * se < 0), "yes", "no"), None)
    return f


def _p_chart(num: np.ndarray, den: np.ndarray, published: np.ndarray, improvement: str, min_points: int) -> dict:
    """A p-chart with per-point limits from each point's own denominator (outside-limits rule only): the shape
    of the contract's run-chart columns, cheap to compute."""
    total_n = den[published].sum()
    centre = num[published].sum() / total_n if total_n else np.nan
    sigma = np.sqrt(centre * (1 - centre) / np.maximum(den, 1))
    lower, upper = np.clip(centre - 3 * sigma, 0, 1), np.clip(centre + 3 * sigma, 0, 1)
    p = np.where(published, num / np.maximum(den, 1), np.nan)
    up, down = published & (p > upper), published & (p < lower)
    variation = np.where(published, "common_cause", "not_available").astype(object)
    if improvement == "neutral":
        variation[up | down] = "neither"
    else:
        variation[up] = "improvement" if improvement == "increase" else "concern"
        variation[down] = "concern" if improvement == "increase" else "improvement"
    return {"centre": 100 * centre, "lower": 100 * lower, "upper": 100 * upper, "special": up | down,
            "variation": variation, "limits_status": "trial" if published.sum() < min_points else "baseline"}


def _series_rows(unit: dict, ind: Indicator, periods: list[str], num: np.ndarray, den: np.ndarray, status: np.ndarray,
                 series: str, improvement: str, min_points: int, min_published: int) -> list[dict]:
    pub = status == "published"
    x = _p_chart(num, den, pub, improvement, min_points)
    charted = "charted" if pub.sum() >= min_published else "not_enough_points"
    rows = []
    for i, q in enumerate(periods):
        rows.append({**unit, "period": q, "period_type": "quarter", "indicator_id": ind.id, "quarter_index": i + 1,
                     "series": series, "chart": "p", "numerator": num[i] if pub[i] else np.nan,
                     "denominator": den[i] if pub[i] else np.nan,
                     "percentage": round(100 * num[i] / den[i], 4) if pub[i] else np.nan, "status": status[i],
                     "centre": round(x["centre"], 4),
                     "lower_limit": round(x["lower"][i], 4) if pub[i] else np.nan,
                     "upper_limit": round(x["upper"][i], 4) if pub[i] else np.nan,
                     "special_cause": "yes" if x["special"][i] else "no",
                     "rule": "outside_limits" if x["special"][i] else "", "rules_fired": "outside_limits" if x["special"][i] else "",
                     "variation": x["variation"][i], "limits_status": x["limits_status"], "limits_segment": 1,
                     "chart_status": charted, "points_published": int(pub.sum()),
                     "improvement_direction": improvement, "synthetic_data": "yes"})
    return rows


def _run_chart_rows(ind: Indicator, units: pd.DataFrame, base: pd.Series, fys: list[str],
                    rng: np.random.Generator, spc: dict) -> list[dict]:
    """Organisations: a rolling 12-month series (from the fourth quarter); nations, regions, national: quarterly."""
    rows = []
    quarters = [f"{fy} Q{q}" for fy in fys for q in range(1, 5)]
    improvement = {"higher_better": "increase", "lower_better": "decrease"}.get(ind.direction, "neutral")
    min_points, min_published = spc.get("min_points", 15), spc.get("min_published_points", 6)
    org_units = units[(units.level == "organisation") & units.nation.isin(ind.nations)]
    unavailable = {n: np.array([q.split()[0] in ind.unavailable_years(n) for q in quarters]) for n in ("England", "Wales")}
    sums: dict[str, list[np.ndarray]] = {}
    for u in org_units.to_dict("records"):
        den = rng.poisson(base[u["org_code"]] / 4, len(quarters))
        p = np.clip(0.55 + rng.choice([0, 0.012, -0.012]) * np.arange(len(quarters)) + rng.normal(0, 0.04, len(quarters)), 0, 1)
        if rng.random() < 0.3:
            p[rng.integers(len(quarters))] += rng.choice([-0.3, 0.3])
        num = rng.binomial(den, np.clip(p, 0, 1))
        den = np.where(unavailable[u["nation"]], 0, den)
        num = np.where(unavailable[u["nation"]], 0, num)
        for key in ("national", u["nation"], u["region_code"]):
            if key:
                acc = sums.setdefault(key, [np.zeros(len(quarters)), np.zeros(len(quarters))])
                acc[0] += num
                acc[1] += den
        window = np.ones(4)
        rnum, rden = np.convolve(num, window)[3:len(quarters)], np.convolve(den, window)[3:len(quarters)]
        missing = np.convolve(unavailable[u["nation"]].astype(int), window)[3:len(quarters)] > 0
        status = np.where(missing, "not_available", np.where(rden < 10, "too_few", "published")).astype(object)
        rows += _series_rows(u, ind, quarters[3:], rnum, rden, status, "rolling_12_months", improvement, min_points,
                             min_published)
    for u in units[units.level.isin(["national", "nation", "region"])].to_dict("records"):
        key = "national" if u["level"] == "national" else (u["nation"] if u["level"] == "nation" else u["org_code"])
        if key not in sums:
            continue
        num, den = sums[key]
        status = np.where(den < 10, "not_available" if u["nation"] == "Wales" else "too_few", "published").astype(object)
        rows += _series_rows(u, ind, quarters, num, den, status, "quarterly", improvement, min_points, min_published)
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
    """The file's columns in hub.FILES order, then any contract columns the hub does not list yet."""
    frame = pd.DataFrame(rows)
    for column in FILES[name]:
        if column not in frame:
            frame[column] = np.nan
    extra = [c for c in frame.columns if c not in FILES[name] and c not in ("target",)]
    return frame[list(FILES[name]) + extra]


def write_synthetic_results(data_dir: Path, seed: int = 7, per_alliance: int | None = None) -> Path:
    """Write every hub file and the run metadata (all organisations, or the first few of each alliance)."""
    config, registry = load_config(), load_registry()
    rng = np.random.default_rng(seed)
    orgs = load_organisations(config, synthetic=True)  # synthetic results name only fictional organisations
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
        "naome_indicators.csv": _frame("naome_indicators.csv", _contract_columns(
            pd.concat(indicator_frames, ignore_index=True), registry, units, fys)),
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
