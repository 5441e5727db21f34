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
from naome_report.stats.outliers import OUTLIER_STATUS_OF_POSITION, funnel_position
from naome_report.stats.spc import run_chart_analysis
from naome_report.stats.wilson import wilson_interval
from naome_report.organisations import load_organisations

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


INDICATOR_PARAMS = {  # share of patients eligible, national probability, between-org spread (logit SD)
    "mdt": (1.0, 0.62, 0.2), "biopsy": (1.0, 0.55, 0.2), "receptors": (1.0, 0.85, 0.25),
    "recurrence_recorded": (0.6, 0.35, 0.25), "stage": (0.4, 0.40, 0.25), "perf_status": (1.0, 0.50, 0.25),
    "cdk46": (0.65, 0.45, 0.2), "anti_her2": (0.14, 0.75, 0.15), "sact": (1.0, 0.70, 0.15),
    "time_to_sact": (0.7, 0.60, 0.15), "radiotherapy": (1.0, 0.35, 0.15), "bone_agent": (0.6, 0.40, 0.2),
    "cns": (1.0, 0.80, 0.25), "cpes_cns": (0.5, 0.88, 0.1), "mort30_sact": (0.7, 0.06, 0.2),
    "emergency": (1.0, 0.30, 0.15),
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


# Contract v2 of the results hub (/work/coord/hub-contract.md): columns the methods and hub engineers add.
CONTRACT_COLUMNS = (
    "outlier_process", "funnel_position", "vs_national", "comparator_code", "comparator_name", "comparator_percentage",
    "vs_comparator", "adjusted_ci_lower_95", "adjusted_ci_upper_95",
)
LOW_PS_EVERY = 4  # every fourth organisation (by code hash) records performance status for under the threshold
SUBGROUP_SHARE = {"de_novo": 0.3, "recurrent": 0.7}


def in_outlier_process(ind) -> bool:
    """Whether the indicator is one of the HQIP outlier process's key indicators (registry field)."""
    return bool(ind.outlier_process)


def low_performance_status(org_code: str) -> bool:
    """Organisations whose performance status completeness the fixture puts below the threshold."""
    return _h(org_code + "ps") % LOW_PS_EVERY == 0


def _indicator_rows(ind, entities: pd.DataFrame, members: dict, counts: pd.DataFrame, config: Config,
                    period: str, synthetic: str, limits: pd.DataFrame | None, subgroup: str = "all") -> list[dict]:
    """Pooled-period rows of one indicator and subgroup at every level."""
    by_org = counts.set_index("org_code")
    rows, true_counts = [], {}
    national = None
    org_nations = dict(zip(entities.org_code, entities.nation))
    for ent in entities.itertuples():
        sub = by_org.loc[members[ent.org_code]]
        nation = ent.nation
        sub = sub[[org_nations[c] in ind.nations for c in sub.index]]
        num, den = float(sub.numerator.sum()), float(sub.denominator.sum())
        true_counts[ent.org_code] = (num, den)
        status, note = _status(ind, nation, num, den, config)
        row = {**{k: getattr(ent, k) for k in ("level", "nation", "region_code", "region_name", "parent_code",
                                               "parent_name", "org_code", "org_name")},
               "period": period, "period_type": "pooled", "indicator_id": ind.id, "indicator_title": ind.title,
               "subgroup": subgroup, "status": status, "status_note": note, "synthetic_data": synthetic,
               "funnel_method": "", "outlier_status": "", "outlier_note": "", "completeness_flag": "",
               "outlier_process": "yes" if in_outlier_process(ind) else "no"}
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
            scale = national / (100 * row["expected"] / row["denominator"])
            row["adjusted_ci_lower_95"] = round(row["ci_lower_95"] * scale, 1)
            row["adjusted_ci_upper_95"] = round(row["ci_upper_95"] * scale, 1)
        _outlier(row, ind, limits, true_counts[row["org_code"]], national, config)
        _vs_national(row, ind, national)
        if row["level"] == "organisation" and subgroup == "all":
            row["completeness_flag"] = _completeness_flag(ind, row["org_code"], config)
    _comparators(rows, ind)
    return rows


def _completeness_flag(ind, org_code: str, config: Config) -> str:
    """The flag the hub writes: the indicator's own data item and, for adjusted outcomes, its case-mix items."""
    threshold = float(config.section("disclosure")["completeness_threshold"])
    if ind.completeness_from and _h(org_code) % 5 == 0:
        return f"Low completeness: ER and HER2 status recorded 64.2% (threshold {threshold:.0%})"
    if ind.is_casemix_adjusted and low_performance_status(org_code):
        return f"Low completeness: performance status recorded 45.0% (threshold {threshold:.0%})"
    return ""


def _judge(higher: bool, ind) -> str:
    """better / worse for a directional indicator, higher / lower for a neutral one."""
    if ind.direction == "neutral":
        return "higher" if higher else "lower"
    return "better" if higher == (ind.direction == "higher_better") else "worse"


def _vs_national(row: dict, ind, national: float | None) -> None:
    """vs_national: organisations from their 95% funnel position, other units from their CI."""
    if row["level"] == "national":
        row["vs_national"] = ""
    elif row["level"] == "organisation":
        position = row.get("funnel_position", "not_assessed")
        row["vs_national"] = ("not_assessed" if position == "not_assessed" else "similar" if position == "within"
                              else _judge(position.startswith("above"), ind))
    else:
        row["vs_national"] = _ci_comparison(row, ind, national)


def _ci_comparison(row: dict, ind, value: float | None) -> str:
    """Whether the row's 95% CI (adjusted where there is one) excludes a reference value."""
    low = row.get("adjusted_ci_lower_95", row.get("ci_lower_95"))
    high = row.get("adjusted_ci_upper_95", row.get("ci_upper_95"))
    if value is None or low is None or high is None or row["status"] != "published":
        return "not_assessed"
    if low <= value <= high:
        return "similar"
    return _judge(low > value, ind)


def _comparators(rows: list[dict], ind) -> None:
    """comparator_*: trust -> its Cancer Alliance; health board -> its Welsh region if it has more than one board,
    else Wales; alliance -> NHS region or Wales; region -> England; nation -> England and Wales."""
    by_code = {r["org_code"]: r for r in rows}
    boards = pd.Series([r["parent_code"] for r in rows if r["level"] == "organisation" and r["nation"] == "Wales"])
    nation_code = {r["org_name"]: r["org_code"] for r in rows if r["level"] == "nation"}
    national_code = next(r["org_code"] for r in rows if r["level"] == "national")
    for row in rows:
        level, nation = row["level"], row["nation"]
        if level == "organisation" and nation == "Wales":
            code = row["parent_code"] if (boards == row["parent_code"]).sum() > 1 else nation_code["Wales"]
        elif level in ("organisation", "alliance"):
            code = row["parent_code"]
        elif level == "region":
            code = nation_code["England"]
        elif level == "nation":
            code = national_code
        else:
            continue
        comparator = by_code[code]
        value = comparator.get("percentage") if comparator["status"] == "published" else None
        row.update(comparator_code=code, comparator_name=comparator["org_name"], comparator_percentage=value,
                   vs_comparator=_ci_comparison(row, ind, value))


def _outlier(row: dict, ind, limits: pd.DataFrame | None, counts: tuple[float, float], national: float | None,
             config: Config) -> None:
    """Funnel position (from the true counts, even where suppressed) and outlier status, organisation rows."""
    if row["level"] != "organisation":
        return
    in_process = in_outlier_process(ind)
    num, den = counts

    def unassessed(note: str) -> None:
        row.update(funnel_position="not_assessed", outlier_note=note,
                   outlier_status="not_assessed" if in_process else "not_in_process")

    if limits is None or not ind.has_rate:
        return unassessed("not_eligible")
    if row["status"] == "not_available":
        return unassessed("not_available")
    if den < config.section("funnel")["min_denominator"]:
        return unassessed("too_few" if den else "no_patients")
    lim = limits.set_index("n").loc[den]
    value = 100 * num / den
    if ind.is_casemix_adjusted and national:
        value = num / (den * national / 100 * 1.02) * national
    position = funnel_position(value, lim.lower_95, lim.upper_95, lim.lower_998, lim.upper_998).item()
    status = OUTLIER_STATUS_OF_POSITION[position]
    row.update(funnel_lower_95=lim.lower_95, funnel_upper_95=lim.upper_95, funnel_lower_998=lim.lower_998,
               funnel_upper_998=lim.upper_998, funnel_method=lim.method, funnel_position=position,
               outlier_status=status if in_process else "not_in_process")


def _limits(ind, target: float, n_max: int, period: str, config: Config, subgroup: str = "all") -> pd.DataFrame:
    """Funnel limits for every denominator from 1 to n_max, in percent."""
    frame = funnel_limits(target / 100, np.arange(1, n_max + 1), config.section("funnel")["method"])
    for col in ("lower_95", "upper_95", "lower_998", "upper_998"):
        frame[col] = (100 * frame[col]).round(2)
    return frame.assign(indicator_id=ind.id, period=period, subgroup=subgroup, target=target)


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
    ana = run_chart_analysis(pct, direction, spc["trend_length"], spc["shift_length"], spc["baseline_points"])
    rows = []
    published = int((status == "published").sum())
    charted = "charted" if published >= spc["min_published_points"] else "not_enough_points"
    series = "quarterly" if ent["level"] == "national" else "rolling_12_months"
    for q in range(QUARTERS):
        rows.append({**{k: ent[k] for k in ("level", "nation", "region_code", "region_name", "parent_code",
                                            "parent_name", "org_code", "org_name")},
                     "period": f"{fys[q // 4]} Q{q % 4 + 1}", "period_type": "quarter", "indicator_id": ind.id,
                     "quarter_index": q + 1, "numerator": num[q] if status[q] == "published" else None,
                     "denominator": den[q] if status[q] != "not_available" else None, "percentage": pct[q],
                     "series": series, "chart_status": charted, "points_published": published,
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
    """Rows with exactly the hub's columns for `name`, in order (and the contract's new indicator columns)."""
    frame = pd.DataFrame(rows)
    extra = [c for c in CONTRACT_COLUMNS if c not in FILES[name]] if name == "naome_indicators.csv" else []
    return frame.reindex(columns=list(FILES[name]) + extra)


DATA_ITEMS = {  # item -> (title, typical share recorded)
    "performance_status": ("Performance status", 0.82), "stage": ("Stage", 0.75), "er_her2": ("ER and HER2 status", 0.9),
    "recurrence": ("Date and type of recurrence", 0.6), "deprivation": ("Deprivation", 0.99),
    "ethnicity": ("Ethnicity", 0.93), "comorbidity": ("Comorbidity", 0.88),
}


def _data_completeness(entities: pd.DataFrame, period: str, config: Config) -> pd.DataFrame:
    """naome_data_completeness.csv: recorded / eligible per unit and data item, with the threshold."""
    threshold = float(config.section("disclosure")["completeness_threshold"])
    rows = []
    for ent in entities.itertuples():
        for item, (title, share) in DATA_ITEMS.items():
            eligible = 100 + _h(ent.org_code) % 150
            if item == "performance_status" and ent.level == "organisation" and low_performance_status(ent.org_code):
                share = 0.45
            recorded = int(round(eligible * share))
            pct = round(100 * recorded / eligible, 1)
            rows.append({**{k: getattr(ent, k) for k in ("level", "nation", "region_code", "region_name", "parent_code",
                                                         "parent_name", "org_code", "org_name")},
                         "period": period, "period_type": "pooled", "item": item, "item_title": title, "recorded": recorded,
                         "eligible": eligible, "percentage": pct, "threshold": round(100 * threshold, 1),
                         "below_threshold": "yes" if pct < 100 * threshold else "no", "status": "published",
                         "synthetic_data": "yes"})
    return pd.DataFrame(rows)


def write_fixture_results(data_dir: Path, config: Config, registry: Registry, seed: int = 7) -> Path:
    """Write every hub file (pooled period, quarters, survival) for the organisations of the fictional table (data/organisations-synthetic.csv)."""
    rng = np.random.default_rng(seed)
    orgs = load_organisations(config, synthetic=True)
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
        groups = [("all", counts)]
        if ind.has_rate:
            groups += [(g, _org_counts(rng, orgs, size, share * SUBGROUP_SHARE[g], p, spread))
                       for g in ind.subgroups if g in SUBGROUP_SHARE]
        for subgroup, group_counts in groups:
            limits = None
            if ind.has_rate:
                elig = group_counts[orgs.nation.isin(ind.nations).to_numpy()]
                target = round(100 * elig.numerator.sum() / elig.denominator.sum(), 1)
                limits = _limits(ind, target, int(group_counts.denominator.max() * 1.2) + 5, period, config, subgroup)
                limit_frames.append(limits)
            ind_rows += _indicator_rows(ind, entities, members, group_counts, config, period, synthetic, limits,
                                        subgroup)
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
        "naome_data_completeness.csv": _data_completeness(entities, period, config),
    }
    for name in FILES:
        _frame(name, frames.get(name, [])).to_csv(data_dir / name, index=False)
    meta = {"primary_period": period, "data_cutoff": str(config.data_cutoff), "synthetic": True,
            "financial_years": fys, "definitions_version": registry.definitions_version, "fixture": True}
    (data_dir / META_FILE).write_text(json.dumps(meta, indent=2), encoding="utf-8")
    return data_dir
