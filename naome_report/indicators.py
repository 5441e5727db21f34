"""Numerators and denominators of every registry indicator, at every reporting level and period."""

from __future__ import annotations

import numpy as np
import pandas as pd

from naome_report.cohort import Cohort, indicator_flags
from naome_report.registry import Indicator, Registry

NATIONAL_CODE, NATIONAL_NAME = "K04000001", "England and Wales"
NATION_CODES = {"England": "E92000001", "Wales": "W92000004"}
SUBGROUP_COLUMNS = {"de_novo": ("route", "de_novo"), "recurrent": ("route", "recurrent"),
                    "triple_negative": ("subtype", "Triple negative"), "bone_metastases": ("has_bone_metastases", True)}


def entity_table(orgs: pd.DataFrame) -> pd.DataFrame:
    """Every reporting unit at every level with its place in the hierarchy."""
    rows = [{"level": "national", "org_code": NATIONAL_CODE, "org_name": NATIONAL_NAME, "nation": NATIONAL_NAME,
             "region_code": "", "region_name": "", "parent_code": "", "parent_name": ""}]
    for nation, code in NATION_CODES.items():
        rows.append({"level": "nation", "org_code": code, "org_name": nation, "nation": nation, "region_code": "",
                     "region_name": "", "parent_code": NATIONAL_CODE, "parent_name": NATIONAL_NAME})
    english = orgs[orgs.nation == "England"]
    for (code, name), _ in english.groupby(["region_code", "region_name"], sort=True):
        rows.append({"level": "region", "org_code": code, "org_name": name, "nation": "England", "region_code": code,
                     "region_name": name, "parent_code": NATION_CODES["England"], "parent_name": "England"})
    for (code, name, nation, rcode, rname), _ in orgs.groupby(
            ["alliance_code", "alliance_name", "nation", "region_code", "region_name"], sort=True):
        english_unit = nation == "England"
        rows.append({"level": "alliance", "org_code": code, "org_name": name, "nation": nation,
                     "region_code": rcode if english_unit else "", "region_name": rname if english_unit else "",
                     "parent_code": rcode if english_unit else NATION_CODES["Wales"],
                     "parent_name": rname if english_unit else "Wales"})
    for org in orgs.sort_values(["nation", "alliance_code", "org_code"]).itertuples():
        english_unit = org.nation == "England"
        rows.append({"level": "organisation", "org_code": org.org_code, "org_name": org.org_name, "nation": org.nation,
                     "region_code": org.region_code if english_unit else "",
                     "region_name": org.region_name if english_unit else "",
                     "parent_code": org.alliance_code, "parent_name": org.alliance_name})
    return pd.DataFrame(rows)


def _rollup_keys(orgs: pd.DataFrame) -> pd.DataFrame:
    """For each organisation, the code of every unit it counts towards, one column per level."""
    keys = orgs[["org_code", "alliance_code", "region_code", "nation"]].copy()
    keys.columns = ["organisation", "alliance", "region", "nation"]
    keys["region"] = keys.region.where(keys.nation == "England", np.nan)
    keys["nation"] = keys.nation.map(NATION_CODES)
    keys["national"] = NATIONAL_CODE
    return keys.set_index("organisation", drop=False)


def periods_for(financial_years: list[str], primary_period: str) -> pd.DataFrame:
    """The reporting periods: the pooled period, each financial year and each quarter."""
    rows = [{"period": primary_period, "period_type": "pooled", "financial_year": None, "order": 0}]
    order = 1
    for fy in financial_years:
        rows.append({"period": fy, "period_type": "financial_year", "financial_year": fy, "order": order})
        order += 1
    for fy in financial_years:
        for q in range(1, 5):
            rows.append({"period": f"{fy} Q{q}", "period_type": "quarter", "financial_year": fy, "order": order})
            order += 1
    return pd.DataFrame(rows)


def _patient_frame(ind: Indicator, cohort: Cohort, org_nation: pd.Series, cutoff: pd.Timestamp) -> pd.DataFrame:
    flags = indicator_flags(ind, cohort, cutoff)
    pts = cohort.patients
    frame = pd.DataFrame({
        "org_code": flags.org_code, "financial_year": pts.financial_year, "quarter": pts.quarter,
        "numerator": flags.numerator.astype(int), "denominator": flags.denominator,
        "nation": flags.org_code.map(org_nation),
    })
    for name, (column, value) in SUBGROUP_COLUMNS.items():
        frame[name] = pts[column].eq(value).to_numpy()
    if ind.numerator["kind"] == "days_to_event":
        frame["days"] = pts[ind.numerator["column"]].to_numpy()
    frame = frame[frame.denominator & frame.org_code.notna() & frame.nation.isin(ind.nations)]
    for nation in ind.nations:
        years = ind.unavailable_years(nation)
        if years:
            frame = frame[~((frame.nation == nation) & frame.financial_year.isin(years))]
    return frame.drop(columns="denominator")


def _org_counts(frame: pd.DataFrame, ind: Indicator, periods: pd.DataFrame) -> pd.DataFrame:
    """Numerator and denominator per organisation, period and subgroup."""
    pooled = periods.loc[periods.period_type == "pooled", "period"].iloc[0]
    parts = []
    for subgroup in ("all", *ind.subgroups):
        sub = frame if subgroup == "all" else frame[frame[subgroup]]
        # One pass over patients to the finest cells (organisation x quarter); periods are sums of cells.
        cells = sub.groupby(["org_code", "financial_year", "quarter"], observed=True).agg(
            numerator=("numerator", "sum"), denominator=("numerator", "size")).reset_index()
        rollups = [cells.groupby("org_code").sum(numeric_only=True).reset_index().assign(period=pooled),
                   cells.groupby(["org_code", "financial_year"]).sum(numeric_only=True).reset_index()
                   .rename(columns={"financial_year": "period"})]
        if subgroup == "all" and ind.run_chart:
            rollups.append(cells.rename(columns={"quarter": "period"}).drop(columns="financial_year"))
        agg = pd.concat(rollups, ignore_index=True)[["period", "org_code", "numerator", "denominator"]]
        parts.append(agg.assign(subgroup=subgroup))
    return pd.concat(parts, ignore_index=True)


def _cpes_counts(cpes: pd.DataFrame, periods: pd.DataFrame, financial_years: list[str]) -> pd.DataFrame:
    """CPES trust aggregates: the survey year Y counts towards financial year Y/Y+1."""
    survey_fy = cpes.survey_year.astype(int).map(lambda y: f"{y}/{(y + 1) % 100:02d}")
    data = cpes.assign(financial_year=survey_fy)
    data = data[data.financial_year.isin(financial_years)]
    pooled = periods.loc[periods.period_type == "pooled", "period"].iloc[0]
    long = pd.concat([data.assign(period=pooled), data.assign(period=data.financial_year)], ignore_index=True)
    agg = long.groupby(["period", "org_code"]).agg(numerator=("yes_count", "sum"), denominator=("respondents", "sum"))
    return agg.reset_index().assign(subgroup="all")


def _roll_up(org_counts: pd.DataFrame, keys: pd.DataFrame) -> pd.DataFrame:
    """Sum organisation counts to every level of the hierarchy."""
    parts = []
    for level, column in (("organisation", "organisation"), ("alliance", "alliance"), ("region", "region"),
                          ("nation", "nation"), ("national", "national")):
        unit = org_counts.org_code.map(keys[column])
        data = org_counts.assign(unit=unit).dropna(subset=["unit"])
        cols = ["numerator", "denominator"] + (["expected"] if "expected" in data else [])
        agg = data.groupby(["period", "subgroup", "unit"], observed=True)[cols].sum().reset_index()
        parts.append(agg.rename(columns={"unit": "org_code"}).assign(level=level))
    return pd.concat(parts, ignore_index=True)


def _medians(frame: pd.DataFrame, keys: pd.DataFrame, ind: Indicator, periods: pd.DataFrame) -> pd.DataFrame:
    """Median days at every level (timeliness indicators): medians do not roll up, so each is computed."""
    pooled = periods.loc[periods.period_type == "pooled", "period"].iloc[0]
    parts = []
    for subgroup in ("all", *ind.subgroups):
        sub = frame if subgroup == "all" else frame[frame[subgroup]]
        long = pd.concat([sub.assign(period=pooled), sub.assign(period=sub.financial_year)]
                         + ([sub.assign(period=sub.quarter)] if subgroup == "all" and ind.run_chart else []),
                         ignore_index=True)
        for level in ("organisation", "alliance", "region", "nation", "national"):
            unit = long.org_code.map(keys[level])
            med = long.assign(unit=unit).dropna(subset=["unit"]).groupby(["period", "unit"]).days.median()
            parts.append(med.reset_index().rename(columns={"unit": "org_code", "days": "median_days"})
                         .assign(level=level, subgroup=subgroup))
    return pd.concat(parts, ignore_index=True)


def _complete_grid(counts: pd.DataFrame, entities: pd.DataFrame, ind: Indicator, periods: pd.DataFrame) -> pd.DataFrame:
    """One row for every unit, period and subgroup, with zero counts where nobody was eligible."""
    grids = []
    for subgroup in ("all", *ind.subgroups):
        wanted = periods[periods.period_type != "quarter"] if (subgroup != "all" or not ind.run_chart) else periods
        if ind.numerator["kind"] == "org_aggregate":
            wanted = periods[periods.period_type != "quarter"]
        grid = entities[["level", "org_code"]].merge(wanted[["period"]], how="cross").assign(subgroup=subgroup)
        grids.append(grid)
    grid = pd.concat(grids, ignore_index=True)
    out = grid.merge(counts, on=["level", "org_code", "period", "subgroup"], how="left")
    for col in ("numerator", "denominator"):
        out[col] = out[col].fillna(0)
    if "expected" in out:
        out["expected"] = out["expected"].fillna(0.0)
    return out


def _availability(grid: pd.DataFrame, ind: Indicator, entities: pd.DataFrame, periods: pd.DataFrame) -> pd.DataFrame:
    """Mark rows whose data do not exist for their nation and period (never shown as zero)."""
    nation = grid.org_code.map(entities.set_index(["org_code"]).nation.groupby(level=0).first())
    fy = grid.period.map(periods.set_index("period").financial_year)
    available = pd.Series(True, index=grid.index)
    note = pd.Series("", index=grid.index, dtype=object)
    for n in ("England", "Wales"):
        if n not in ind.nations:
            gone = nation == n
            available &= ~gone
            note[gone] = f"Not available for {n}: {ind.source} does not cover {n}"
            continue
        years = ind.unavailable_years(n)
        if not years:
            continue
        reason = next(u.reason for u in ind.not_available if u.nation == n)
        gone = (nation == n) & fy.isin(years)
        available &= ~gone
        note[gone] = f"Not available for {n}: {reason}"
        pooled_partial = (nation.isin([n, NATIONAL_NAME])) & fy.isna()
        note[pooled_partial & available] = f"Excludes {n} patients in {', '.join(years)} ({reason})"
        national_year = (nation == NATIONAL_NAME) & fy.isin(years)
        note[national_year] = f"England only for this period ({reason})"
    grid["available"] = available.to_numpy()
    grid["availability_note"] = note.to_numpy()
    return grid


def indicator_counts(ind: Indicator, cohort: Cohort, orgs: pd.DataFrame, periods: pd.DataFrame,
                     entities: pd.DataFrame, cutoff: pd.Timestamp, cpes: pd.DataFrame | None = None,
                     expected: pd.Series | None = None) -> pd.DataFrame:
    """Numerator, denominator (and expected, median days) for one indicator at every unit, period and subgroup."""
    keys = _rollup_keys(orgs)
    org_nation = orgs.set_index("org_code").nation
    if ind.numerator["kind"] == "org_aggregate":
        counts = _cpes_counts(cpes[cpes.org_code.map(org_nation).isin(ind.nations)], periods,
                              list(periods.financial_year.dropna().unique()))
        frame = None
    else:
        frame = _patient_frame(ind, cohort, org_nation, cutoff)
        if expected is not None:
            frame["expected"] = expected.reindex(frame.index).to_numpy()
        counts = _org_counts_with_expected(frame, ind, periods)
    rolled = _roll_up(counts, keys)
    if frame is not None and "days" in frame:
        rolled = rolled.merge(_medians(frame, keys, ind, periods), on=["level", "org_code", "period", "subgroup"],
                              how="left")
    grid = _complete_grid(rolled, entities, ind, periods)
    grid = _availability(grid, ind, entities, periods)
    grid.insert(0, "indicator_id", ind.id)
    return grid


def _org_counts_with_expected(frame: pd.DataFrame, ind: Indicator, periods: pd.DataFrame) -> pd.DataFrame:
    if "expected" not in frame:
        return _org_counts(frame, ind, periods)
    counts = _org_counts(frame, ind, periods)
    exp_frame = frame.assign(numerator=frame.expected)
    expected = _org_counts(exp_frame, ind, periods).rename(columns={"numerator": "expected"})
    return counts.merge(expected[["period", "org_code", "subgroup", "expected"]], on=["period", "org_code", "subgroup"])


def all_indicator_counts(registry: Registry, cohort: Cohort, orgs: pd.DataFrame, periods: pd.DataFrame,
                         cutoff: pd.Timestamp, cpes: pd.DataFrame, expected: dict[str, pd.Series]) -> pd.DataFrame:
    """indicator_counts for every registry indicator, stacked."""
    entities = entity_table(orgs)
    parts = [indicator_counts(ind, cohort, orgs, periods, entities, cutoff, cpes, expected.get(ind.id))
             for ind in registry]
    return pd.concat(parts, ignore_index=True)
