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


class PatientCodes:
    """Integer positions of every patient's organisation and quarter, worked out once for all indicators."""

    def __init__(self, cohort: Cohort, orgs: pd.DataFrame, periods: pd.DataFrame) -> None:
        self.patients = cohort.patients
        self.org_codes = orgs.org_code.to_numpy(object)
        quarters = periods[periods.period_type == "quarter"]
        self.pooled = periods.loc[periods.period_type == "pooled", "period"].iloc[0]
        self.quarters = quarters.period.to_numpy(object)
        self.years = periods.loc[periods.period_type == "financial_year", "period"].to_numpy(object)
        self.year_of_quarter = pd.Index(self.years).get_indexer(quarters.financial_year)
        self.quarter = pd.Categorical(self.patients.quarter, categories=self.quarters).codes.astype(np.int64)
        # The extra last slot answers position -1 (no organisation).
        self.org_nation = np.append(orgs.nation.to_numpy(object), None)
        self.keys = _rollup_keys(orgs)
        self._org: dict[str, np.ndarray] = {}
        self._subgroup: dict[str, np.ndarray] = {}
        self._units: dict[str, tuple[np.ndarray, np.ndarray]] = {}

    def subgroup(self, name: str) -> np.ndarray:
        """Which patients are in a subgroup (de novo, recurrent, ...)."""
        if name not in self._subgroup:
            column, value = SUBGROUP_COLUMNS[name]
            self._subgroup[name] = self.patients[column].eq(value).to_numpy(bool)
        return self._subgroup[name]

    def org(self, column: str) -> np.ndarray:
        """Position in the organisation table of each patient's organisation under one allocation rule."""
        if column not in self._org:
            self._org[column] = pd.Categorical(self.patients[column], categories=self.org_codes).codes.astype(np.int64)
        return self._org[column]

    def units(self, level: str) -> tuple[np.ndarray, np.ndarray]:
        """Per organisation, the position of its unit at a level (-1 for none), and the unit codes."""
        if level not in self._units:
            positions, units = pd.factorize(self.keys[level].to_numpy(object))
            self._units[level] = (np.append(positions, -1), units)
        return self._units[level]


def _eligible(ind: Indicator, cohort: Cohort, codes: PatientCodes, cutoff: pd.Timestamp) -> tuple[np.ndarray, np.ndarray]:
    """Which patients count in the indicator (denominator, allocated, available), and which in its numerator."""
    flags = indicator_flags(ind, cohort, cutoff)
    org = codes.org(ind.allocation)
    # Decided per organisation and per year (small tables), then looked up for every patient.
    counted_org = np.isin(codes.org_nation, list(ind.nations))
    counted_org[-1] = False  # no organisation
    keep = flags.denominator.to_numpy(bool) & counted_org[org] & (codes.quarter >= 0)
    year = codes.year_of_quarter[codes.quarter]
    nation = codes.org_nation[org]
    for nation_name in ind.nations:
        years = ind.unavailable_years(nation_name)
        if years:
            gone_year = np.append(np.isin(codes.years, list(years)), False)  # the last slot answers year -1
            keep &= ~((nation == nation_name) & gone_year[year])
    return keep, flags.numerator.to_numpy(bool)


def _subgroup_masks(ind: Indicator, codes: PatientCodes) -> dict[str, np.ndarray | None]:
    masks: dict[str, np.ndarray | None] = {"all": None}
    for name in ind.subgroups:
        masks[name] = codes.subgroup(name)
    return masks


def _org_counts(codes: PatientCodes, ind: Indicator, keep: np.ndarray, values: dict[str, np.ndarray]) -> pd.DataFrame:
    """Sums of values (numerator, expected; denominator = patients) per organisation, period and subgroup."""
    n_org, n_q = len(codes.org_codes), len(codes.quarters)
    org = codes.org(ind.allocation)
    parts = []
    for subgroup, mask in _subgroup_masks(ind, codes).items():
        rows = keep if mask is None else keep & mask
        # One pass over patients to the finest cells (organisation x quarter); periods are sums of cells.
        cell = org[rows] * n_q + codes.quarter[rows]
        sums = {"denominator": np.bincount(cell, minlength=n_org * n_q).reshape(n_org, n_q).astype(float)}
        for name, weights in values.items():
            sums[name] = np.bincount(cell, weights=weights[rows], minlength=n_org * n_q).reshape(n_org, n_q)
        periods = [(codes.pooled, {k: v.sum(axis=1) for k, v in sums.items()})]
        for j, year in enumerate(codes.years):
            in_year = codes.year_of_quarter == j
            periods.append((year, {k: v[:, in_year].sum(axis=1) for k, v in sums.items()}))
        if subgroup == "all" and ind.run_chart:
            periods += [(quarter, {k: v[:, i] for k, v in sums.items()}) for i, quarter in enumerate(codes.quarters)]
        for period, totals in periods:
            seen = totals["denominator"] > 0
            parts.append(pd.DataFrame({"period": period, "org_code": codes.org_codes[seen],
                                       **{k: v[seen] for k, v in totals.items()}, "subgroup": subgroup}))
    columns = ["period", "org_code", "numerator", "denominator", *(k for k in values if k != "numerator"), "subgroup"]
    return pd.concat(parts, ignore_index=True)[columns]


def _cpes_counts(cpes: pd.DataFrame, periods: pd.DataFrame, financial_years: list[str], offset: int) -> pd.DataFrame:
    """CPES trust aggregates: survey year Y counts towards the financial year starting in Y + offset ([cpes] in naome.toml)."""
    survey_fy = (cpes.survey_year.astype(int) + offset).map(lambda y: f"{y}/{(y + 1) % 100:02d}")
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
        agg = data.groupby(["indicator_id", "period", "subgroup", "unit"], observed=True)[cols].sum().reset_index()
        parts.append(agg.rename(columns={"unit": "org_code"}).assign(level=level))
    return pd.concat(parts, ignore_index=True)


def _medians(codes: PatientCodes, ind: Indicator, keep: np.ndarray) -> pd.DataFrame:
    """Median days at every level (timeliness indicators): medians do not roll up, so each is computed."""
    days_all = codes.patients[ind.numerator["column"]].to_numpy(float)
    org_all = codes.org(ind.allocation)
    parts = []
    for subgroup, mask in _subgroup_masks(ind, codes).items():
        rows = keep if mask is None else keep & mask
        days, org, quarter = days_all[rows], org_all[rows], codes.quarter[rows]
        period_keys = [(np.zeros(len(days), np.int64), np.array([codes.pooled], object)),
                       (codes.year_of_quarter[quarter], codes.years)]
        if subgroup == "all" and ind.run_chart:
            period_keys.append((quarter, codes.quarters))
        for level in ("organisation", "alliance", "region", "nation", "national"):
            unit_of_org, units = codes.units(level)
            unit = unit_of_org[org]
            has_unit = unit >= 0
            for period, period_names in period_keys:
                med = pd.Series(days[has_unit]).groupby([unit[has_unit], period[has_unit]]).median()
                u, t = med.index.get_level_values(0).to_numpy(), med.index.get_level_values(1).to_numpy()
                parts.append(pd.DataFrame({"period": period_names[t], "org_code": units[u], "median_days": med.to_numpy(),
                                           "level": level, "subgroup": subgroup}))
    return pd.concat(parts, ignore_index=True)


def _grid(ind: Indicator, entities: pd.DataFrame, periods: pd.DataFrame) -> pd.DataFrame:
    """One row for every unit, period and subgroup the indicator reports."""
    grids = []
    for subgroup in ("all", *ind.subgroups):
        wanted = periods[periods.period_type != "quarter"] if (subgroup != "all" or not ind.run_chart) else periods
        if ind.numerator["kind"] == "org_aggregate":
            wanted = periods[periods.period_type != "quarter"]
        grids.append(entities[["level", "org_code"]].merge(wanted[["period"]], how="cross").assign(subgroup=subgroup))
    return pd.concat(grids, ignore_index=True)


def _availability(grid: pd.DataFrame, ind: Indicator, entities: pd.DataFrame, periods: pd.DataFrame) -> pd.DataFrame:
    """Mark rows whose data do not exist for their nation and period (never shown as zero)."""
    nation = grid.org_code.map(entities.set_index(["org_code"]).nation.groupby(level=0).first())
    fy = grid.period.map(periods.set_index("period").financial_year)
    available = pd.Series(True, index=grid.index)
    note = pd.Series("", index=grid.index, dtype=object)
    covered = [n for n in NATION_CODES if n in ind.nations]
    if len(covered) < len(NATION_CODES):
        # An indicator of one nation has no England and Wales value: its nation's row is the national value.
        whole = nation == NATIONAL_NAME
        available &= ~whole
        note[whole] = (f"Not available for {NATIONAL_NAME}: the data cover {' and '.join(covered)} only, "
                       f"so the {' and '.join(covered)} value is the national value")
    for n in ("England", "Wales"):
        if n not in ind.nations:
            gone = nation == n
            available &= ~gone
            note[gone] = f"Not available for {n}: the data cover {' and '.join(covered)} only"
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


def _org_level(ind: Indicator, cohort: Cohort, orgs: pd.DataFrame, periods: pd.DataFrame, cutoff: pd.Timestamp,
               cpes: pd.DataFrame | None, expected: pd.Series | None,
               codes: PatientCodes) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """Organisation-level counts of one indicator, and its medians at every level (timeliness only)."""
    if ind.numerator["kind"] == "org_aggregate":
        org_nation = orgs.set_index("org_code").nation
        counts = _cpes_counts(cpes[cpes.org_code.map(org_nation).isin(ind.nations)], periods,
                              list(periods.financial_year.dropna().unique()), cohort.rules.cpes_financial_year_offset)
        return counts.assign(indicator_id=ind.id), None
    keep, numerator = _eligible(ind, cohort, codes, cutoff)
    values = {"numerator": numerator.astype(float)}
    if expected is not None:
        values["expected"] = np.nan_to_num(expected.reindex(cohort.patients.index).to_numpy(float))
    counts = _org_counts(codes, ind, keep, values).assign(indicator_id=ind.id)
    medians = _medians(codes, ind, keep).assign(indicator_id=ind.id) if ind.numerator["kind"] == "days_to_event" else None
    return counts, medians


def _assemble(indicators: list[Indicator], parts: list[tuple[pd.DataFrame, pd.DataFrame | None]],
              entities: pd.DataFrame, periods: pd.DataFrame, keys: pd.DataFrame, adjusted: set[str]) -> pd.DataFrame:
    """Roll the organisation counts up every level and lay them on the complete grid, for all indicators at once."""
    on = ["indicator_id", "level", "org_code", "period", "subgroup"]
    rolled = _roll_up(pd.concat([counts for counts, _ in parts], ignore_index=True), keys)
    medians = [m for _, m in parts if m is not None]
    if medians:
        rolled = rolled.merge(pd.concat(medians, ignore_index=True), on=on, how="left")
    grids = [_grid(ind, entities, periods) for ind in indicators]
    grid = pd.concat([g.assign(indicator_id=ind.id) for ind, g in zip(indicators, grids)], ignore_index=True)
    out = grid.merge(rolled, on=on, how="left")
    out["numerator"] = out.numerator.fillna(0)
    out["denominator"] = out.denominator.fillna(0)
    if "expected" in out:
        has_model = out.indicator_id.isin(adjusted).to_numpy()
        out["expected"] = np.where(has_model, out.expected.fillna(0.0), np.nan)
    bounds = np.cumsum([0] + [len(g) for g in grids])
    out = pd.concat([_availability(out.iloc[bounds[i]:bounds[i + 1]].copy(), ind, entities, periods)
                     for i, ind in enumerate(indicators)], ignore_index=True)
    return out[["indicator_id"] + [c for c in out.columns if c != "indicator_id"]]


def indicator_counts(ind: Indicator, cohort: Cohort, orgs: pd.DataFrame, periods: pd.DataFrame,
                     entities: pd.DataFrame, cutoff: pd.Timestamp, cpes: pd.DataFrame | None = None,
                     expected: pd.Series | None = None) -> pd.DataFrame:
    """Numerator, denominator (and expected, median days) for one indicator at every unit, period and subgroup."""
    codes = PatientCodes(cohort, orgs, periods)
    parts = [_org_level(ind, cohort, orgs, periods, cutoff, cpes, expected, codes)]
    return _assemble([ind], parts, entities, periods, codes.keys, {ind.id} if expected is not None else set())


def all_indicator_counts(registry: Registry, cohort: Cohort, orgs: pd.DataFrame, periods: pd.DataFrame,
                         cutoff: pd.Timestamp, cpes: pd.DataFrame, expected: dict[str, pd.Series]) -> pd.DataFrame:
    """indicator_counts for every registry indicator, stacked."""
    codes = PatientCodes(cohort, orgs, periods)
    indicators = list(registry)
    parts = [_org_level(ind, cohort, orgs, periods, cutoff, cpes, expected.get(ind.id), codes) for ind in indicators]
    return _assemble(indicators, parts, entity_table(orgs), periods, codes.keys, set(expected))


def patient_membership(ind: Indicator, cohort: Cohort, codes: PatientCodes,
                       cutoff: pd.Timestamp) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per patient, for a patient-level indicator: counted (any period), in the numerator, and the allocated nation."""
    keep, numerator = _eligible(ind, cohort, codes, cutoff)
    return keep, numerator & keep, codes.org_nation[codes.org(ind.allocation)]
