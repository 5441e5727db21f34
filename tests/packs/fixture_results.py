"""A small, self-consistent results folder (the hub's files) for pack tests when no real build exists."""

from __future__ import annotations

import json
import zlib
from pathlib import Path

import numpy as np
import pandas as pd

from naome_report.config import Config
from naome_report.hub import FILES, META_FILE
from naome_report.registry import Registry
from naome_report.stats.funnel import funnel_limits
from naome_report.stats.outliers import assign_outlier_status
from naome_report.stats.spc import run_chart_analysis
from naome_report.stats.wilson import wilson_interval

NATIONAL = ("K04000001", "England and Wales")
NATIONS = {"England": "E92000001", "Wales": "W92000004"}
QUARTERS = 12
SMALL_ORG = "ZAK"  # given very few patients, so its results are suppressed or too few


def _h(text: str) -> int:
    """A hash that is the same in every process."""
    return zlib.crc32(text.encode())


def _entities(orgs: pd.DataFrame) -> pd.DataFrame:
    """Every reporting unit with its hierarchy columns (same conventions as the pipeline)."""
    rows = [dict(level="national", org_code=NATIONAL[0], org_name=NATIONAL[1], nation=NATIONAL[1],
                 region_code="", region_name="", parent_code="", parent_name="")]
    for nation, code in NATIONS.items():
        rows.append(dict(level="nation", org_code=code, org_name=nation, nation=nation, region_code="",
                         region_name="", parent_code=NATIONAL[0], parent_name=NATIONAL[1]))
    eng = orgs[orgs.nation == "England"]
    for (code, name), _ in eng.groupby(["region_code", "region_name"]):
        rows.append(dict(level="region", org_code=code, org_name=name, nation="England", region_code=code,
                         region_name=name, parent_code=NATIONS["England"], parent_name="England"))
    for (code, name, nation, rcode, rname), _ in orgs.groupby(
            ["alliance_code", "alliance_name", "nation", "region_code", "region_name"]):
        eng_unit = nation == "England"
        rows.append(dict(level="alliance", org_code=code, org_name=name, nation=nation,
                         region_code=rcode if eng_unit else "", region_name=rname if eng_unit else "",
                         parent_code=rcode if eng_unit else NATIONS["Wales"], parent_name=rname if eng_unit else "Wales"))
    for org in orgs.itertuples():
        eng_unit = org.nation == "England"
        rows.append(dict(level="organisation", org_code=org.org_code, org_name=org.org_name, nation=org.nation,
                         region_code=org.region_code if eng_unit else "", region_name=org.region_name if eng_unit else "",
                         parent_code=org.alliance_code, parent_name=org.alliance_name))
    return pd.DataFrame(rows)


def _members(entities: pd.DataFrame, orgs: pd.DataFrame) -> dict[str, list[str]]:
    """For each unit, the organisations it is made of."""
    out: dict[str, list[str]] = {NATIONAL[0]: list(orgs.org_code)}
    for nation, code in NATIONS.items():
        out[code] = list(orgs.org_code[orgs.nation == nation])
    for code, group in orgs.groupby("region_code"):
        out[code] = list(group.org_code)
    for code, group in orgs.groupby("alliance_code"):
        out[code] = list(group.org_code)
    for code in orgs.org_code:
        out[code] = [code]
    return out


def _org_counts(rng: np.random.Generator, orgs: pd.DataFrame, size: pd.Series, share: float, p: float,
                spread: float) -> pd.DataFrame:
    """Denominator and numerator per organisation."""
    den = rng.binomial(size.to_numpy(), share)
    logit = np.log(p / (1 - p)) + rng.normal(0, spread, len(orgs))
    num = rng.binomial(den, 1 / (1 + np.exp(-logit)))
    return pd.DataFrame({"org_code": orgs.org_code.to_numpy(), "numerator": num, "denominator": den})


INDICATOR_PARAMS = {  # share of patients eligible, national probability, between-org spread
    "mdt": (1.0, 0.62, 0.5), "biopsy": (1.0, 0.55, 0.4), "receptors": (1.0, 0.85, 0.5),
    "recurrence_recorded": (0.6, 0.35, 0.6), "stage": (0.4, 0.40, 0.5), "perf_status": (1.0, 0.50, 0.6),
    "cdk46": (0.65, 0.45, 0.4), "anti_her2": (0.14, 0.75, 0.3), "sact": (1.0, 0.70, 0.3),
    "time_to_sact": (0.7, 0.60, 0.3), "radiotherapy": (1.0, 0.35, 0.3), "bone_agent": (0.6, 0.40, 0.4),
    "cns": (1.0, 0.80, 0.5), "cpes_cns": (0.5, 0.88, 0.2), "mort30_sact": (0.7, 0.06, 0.3),
    "emergency": (1.0, 0.30, 0.3),
}


def _status(ind, nation: str, num: float, den: float, config: Config) -> tuple[str, str]:
    """Publication status and note for one unit's counts."""
    disc = config.section("disclosure")
    if nation not in ind.nations and nation in NATIONS:
        return "not_available", f"Not available for {nation}: {ind.source} does not cover {nation}"
    if ind.id == "biopsy" and nation == "Wales":
        return "published", "Excludes Wales patients in 2024/25 (Biopsy data were not available for Wales for 2024/25)"
    if not ind.has_rate:
        return ("suppressed", "Small number") if disc["suppress_low"] <= num <= disc["suppress_high"] else ("published", "")
    if den < disc["min_denominator"]:
        return "too_few", "Fewer than 10 patients"
    if disc["suppress_low"] <= num <= disc["suppress_high"] or disc["suppress_low"] <= den - num <= disc["suppress_high"]:
        return "suppressed", "Small number suppressed"
    return "published", ""


def _indicator_rows(ind, entities: pd.DataFrame, members: dict, counts: pd.DataFrame, config: Config,
                    period: str, synthetic: str, limits: pd.DataFrame | None) -> list[dict]:
    """Pooled-period rows of one indicator at every level."""
    by_org = counts.set_index("org_code")
    rows = []
    national = None
    org_nations = dict(zip(entities.org_code, entities.nation))
    for ent in entities.itertuples():
        sub = by_org.loc[members[ent.org_code]]
        nation = ent.nation
        sub = sub[[org_nations[c] in ind.nations for c in sub.index]]
        num, den = float(sub.numerator.sum()), float(sub.denominator.sum())
        status, note = _status(ind, nation, num, den, config)
        row = {**{k: getattr(ent, k) for k in ("level", "nation", "region_code", "region_name", "parent_code",
                                               "parent_name", "org_code", "org_name")},
               "period": period, "period_type": "pooled", "indicator_id": ind.id, "indicator_title": ind.title,
               "subgroup": "all", "status": status, "status_note": note, "synthetic_data": synthetic,
               "funnel_method": "", "outlier_status": "", "outlier_note": "", "completeness_flag": ""}
        if status in ("published", "too_few"):
            row["denominator"] = int(den) if ind.has_rate else None
            row["numerator"] = int(num) if status == "published" else None
        if status == "published" and ind.has_rate:
            low, high = wilson_interval(num, den)
            row.update(percentage=round(100 * num / den, 1), ci_lower_95=round(100 * float(low), 1),
                       ci_upper_95=round(100 * float(high), 1))
            if ind.id == "time_to_sact":
                row["median_days"] = int(20 + (_h(ent.org_code) % 30))
        if ent.level == "national":
            national = row.get("percentage")
        rows.append(row)
    for row in rows:
        row["national_percentage"] = national
        if ind.is_casemix_adjusted and row.get("percentage") is not None and row["level"] == "organisation":
            row["expected"] = round(row["denominator"] * national / 100 * 1.02, 2)
            row["observed_expected"] = round(row["numerator"] / row["expected"], 3)
            row["adjusted_percentage"] = round(row["observed_expected"] * national, 1)
        _outlier(row, ind, limits)
        if ind.completeness_from and row["level"] == "organisation" and _h(row["org_code"]) % 5 == 0:
            row["completeness_flag"] = "Low completeness: ER and HER2 status recorded 64.2% (threshold 70%)"
    return rows


def _outlier(row: dict, ind, limits: pd.DataFrame | None) -> None:
    """Funnel limits and outlier status for an organisation row."""
    if row["level"] != "organisation":
        return
    if not ind.outlier_process or limits is None:
        row.update(outlier_status="not_assessed", outlier_note="not_eligible")
        return
    if row["status"] != "published":
        note = {"too_few": "too_few", "suppressed": "suppressed"}.get(row["status"], "not_available")
        row.update(outlier_status="not_assessed", outlier_note=note)
        return
    lim = limits.set_index("n").loc[row["denominator"]]
    value = row.get("adjusted_percentage") or row["percentage"]
    status = assign_outlier_status(value, lim.lower_95, lim.upper_95, lim.lower_998, lim.upper_998).item()
    row.update(funnel_lower_95=lim.lower_95, funnel_upper_95=lim.upper_95, funnel_lower_998=lim.lower_998,
               funnel_upper_998=lim.upper_998, funnel_method=lim.method, outlier_status=status)


def _limits(ind, target: float, n_max: int, period: str, config: Config) -> pd.DataFrame:
    """Funnel limits for every denominator from 1 to n_max, in percent."""
    frame = funnel_limits(target / 100, np.arange(1, n_max + 1), config.section("funnel")["method"])
    for col in ("lower_95", "upper_95", "lower_998", "upper_998"):
        frame[col] = (100 * frame[col]).round(2)
    return frame.assign(indicator_id=ind.id, period=period, subgroup="all", target=target)


def _run_rows(ind, ent: pd.Series, rng: np.random.Generator, size: int, fys: list[str], synthetic: str,
              config: Config) -> list[dict]:
    """Quarterly run-chart rows for one unit."""
    share, p, _ = INDICATOR_PARAMS.get(ind.id, (1.0, 0.5, 0.3))
    den = rng.binomial(max(size // QUARTERS, 1), share, QUARTERS)
    drift = np.linspace(-0.05, 0.08, QUARTERS) if _h(ent.org_code) % 3 == 0 else np.zeros(QUARTERS)
    num = rng.binomial(den, np.clip(p + drift, 0.01, 0.99))
    pct = np.where(den >= 10, np.round(100 * num / np.maximum(den, 1), 1), np.nan)
    status = np.where(den >= 10, "published", "too_few").astype(object)
    if ind.id == "biopsy" and ent.nation == "Wales":
        pct[4:8] = np.nan
        status[4:8] = "not_available"
    direction = {"higher_better": "increase", "lower_better": "decrease"}.get(ind.direction, "neutral")
    spc = config.section("spc")
    ana = run_chart_analysis(pct, direction, spc["trend_length"], spc["shift_length"], spc["min_points"])
    rows = []
    for q in range(QUARTERS):
        rows.append({**{k: ent[k] for k in ("level", "nation", "region_code", "region_name", "parent_code",
                                            "parent_name", "org_code", "org_name")},
                     "period": f"{fys[q // 4]} Q{q % 4 + 1}", "period_type": "quarter", "indicator_id": ind.id,
                     "quarter_index": q + 1, "numerator": num[q] if status[q] == "published" else None,
                     "denominator": den[q] if status[q] != "not_available" else None, "percentage": pct[q],
                     "status": status[q], "centre": round(ana["mean"][q], 2), "lower_limit": round(ana["lower"][q], 2),
                     "upper_limit": round(ana["upper"][q], 2), "special_cause": "yes" if ana["special_cause"][q] else "no",
                     "rule": ana["rule"][q], "rules_fired": ana["rules_fired"][q],
                     "variation": ana["variation"][q] if status[q] == "published" else "",
                     "limits_status": ana["limits_status"][q], "improvement_direction": direction,
                     "synthetic_data": synthetic})
    return rows


def _survival(entities: pd.DataFrame, sizes: dict[str, int], synthetic: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Survival at 1 and 3 years and monthly curves, national and per organisation."""
    points, curves = [], []
    t = np.round(np.arange(0, 37) / 12, 4)
    for ent in entities[entities.level.isin(["national", "organisation"])].itertuples():
        hazard = 0.43 * (1 + (_h(ent.org_code) % 21 - 10) / 60)
        s = 100 * np.exp(-hazard * t ** 0.95)
        n = sizes.get(ent.org_code, sum(sizes.values()))
        half = 100 * 1.96 * np.sqrt(s / 100 * (1 - s / 100) / max(n, 1))
        published = n >= 10
        for year in (1, 3):
            i = year * 12
            points.append({**{k: getattr(ent, k) for k in ("level", "nation", "region_code", "region_name",
                                                           "parent_code", "parent_name", "org_code", "org_name")},
                           "period": "2023/24-2025/26", "period_type": "pooled", "group_type": "all", "group": "all",
                           "time_years": year, "patients": n if published else None,
                           "deaths": int(n * (1 - s[i] / 100)) if published else None,
                           "survival_percentage": round(s[i], 1) if published else None,
                           "ci_lower_95": round(s[i] - half[i], 1) if published else None,
                           "ci_upper_95": round(s[i] + half[i], 1) if published else None,
                           "at_risk": int(n * s[i] / 100 * (0.9 if year == 1 else 0.3)) if published else None,
                           "status": "published" if published else "too_few",
                           "status_note": "" if published else "Fewer than 10 patients", "synthetic_data": synthetic})
        if published:
            for ti, si, hi in zip(t, s, half):
                curves.append({"level": ent.level, "org_code": ent.org_code, "org_name": ent.org_name,
                               "group_type": "all", "group": "all", "time_years": ti,
                               "survival_percentage": round(si, 2), "ci_lower_95": round(max(si - hi, 0), 2),
                               "ci_upper_95": round(min(si + hi, 100), 2), "synthetic_data": synthetic})
    return pd.DataFrame(points), pd.DataFrame(curves)


def _frame(name: str, rows: list[dict] | pd.DataFrame) -> pd.DataFrame:
    """Rows with exactly the hub's columns for `name`, in order."""
    frame = pd.DataFrame(rows)
    return frame.reindex(columns=list(FILES[name]))


def write_fixture_results(data_dir: Path, config: Config, registry: Registry, seed: int = 7) -> Path:
    """Write every hub file (pooled period, quarters, survival) for the organisations in data/organisations.csv."""
    rng = np.random.default_rng(seed)
    orgs = pd.read_csv(config.path("organisations"), dtype=str, keep_default_na=False)
    entities = _entities(orgs)
    members = _members(entities, orgs)
    size = pd.Series(rng.integers(40, 260, len(orgs)), index=orgs.index)
    size[orgs.org_code == SMALL_ORG] = 12
    sizes = dict(zip(orgs.org_code, size))
    period, fys, synthetic = config.primary_period, config.financial_years, "yes"
    ind_rows, limit_frames, run_rows = [], [], []
    for ind in registry:
        share, p, spread = INDICATOR_PARAMS.get(ind.id, (1.0, 0.5, 0.3))
        counts = _org_counts(rng, orgs, size, share, p, spread)
        if not ind.has_rate:
            counts = counts.assign(numerator=size.to_numpy(), denominator=0)
        limits = None
        if ind.outlier_process and ind.has_rate:
            elig = counts[orgs.nation.isin(ind.nations).to_numpy()]
            target = round(100 * elig.numerator.sum() / elig.denominator.sum(), 1)
            limits = _limits(ind, target, int(counts.denominator.max() * 1.2) + 5, period, config)
            limit_frames.append(limits)
        ind_rows += _indicator_rows(ind, entities, members, counts, config, period, synthetic, limits)
        if ind.run_chart and ind.has_rate:
            for _, ent in entities[entities.level.isin(["national", "organisation"])].iterrows():
                unit_size = sum(sizes[m] for m in members[ent.org_code])
                run_rows += _run_rows(ind, ent, rng, unit_size, fys, synthetic, config)
    survival, curves = _survival(entities, sizes, synthetic)
    data_dir.mkdir(parents=True, exist_ok=True)
    frames = {
        "naome_indicators.csv": ind_rows, "naome_run_charts.csv": run_rows,
        "naome_funnel_limits.csv": pd.concat(limit_frames),
        "naome_survival.csv": survival, "naome_survival_curves.csv": curves,
    }
    for name in FILES:
        _frame(name, frames.get(name, [])).to_csv(data_dir / name, index=False)
    meta = {"primary_period": period, "data_cutoff": str(config.data_cutoff), "synthetic": True,
            "financial_years": fys, "definitions_version": registry.definitions_version, "fixture": True}
    (data_dir / META_FILE).write_text(json.dumps(meta, indent=2), encoding="utf-8")
    return data_dir
