"""naome_data_completeness.csv: how completely each key data item is recorded, per unit and period, and the flags it raises."""

from __future__ import annotations

import numpy as np
import pandas as pd

from naome_report.cohort import Cohort
from naome_report.config import Config
from naome_report.indicators import PatientCodes, entity_table
from naome_report.registry import Registry, in_sentence
from naome_report.stats.disclosure import hidden_elsewhere, suppress_rows

LEVELS = ("organisation", "alliance", "region", "nation", "national")
ALLOCATION = "diagnosing_org"


def item_masks(item: dict, patients: pd.DataFrame, unknown: str) -> tuple[np.ndarray, np.ndarray]:
    """Which patients the item applies to, and for which of them it is recorded."""
    applies = np.ones(len(patients), bool)
    for column, value in (item.get("patients") or {}).items():
        applies &= patients[column].isin(value if isinstance(value, list) else [value]).to_numpy()
    values = patients[item["recorded"]]
    recorded = values.fillna(False).astype(bool) if values.dtype == bool else values.notna() & values.ne(unknown)
    return applies, applies & recorded.to_numpy(bool)


def _counts(items: list[dict], cohort: Cohort, codes: PatientCodes, unknown: str) -> pd.DataFrame:
    """Eligible and recorded patients per item x unit (every level) x period (pooled and financial years)."""
    org = codes.org(ALLOCATION)
    n_org, n_q = len(codes.org_codes), len(codes.quarters)
    placed = (org >= 0) & (codes.quarter >= 0)
    cell = org[placed] * n_q + codes.quarter[placed]
    period_names = [codes.pooled, *codes.years]
    # Quarters to periods: the pooled period takes every quarter, each year its own four.
    to_period = np.column_stack([np.ones(n_q)] + [(codes.year_of_quarter == j).astype(float) for j in range(len(codes.years))])
    parts = []
    for item in items:
        applies, recorded = item_masks(item, cohort.patients, unknown)
        sums = {name: np.bincount(cell, weights=mask[placed].astype(float), minlength=n_org * n_q).reshape(n_org, n_q) @ to_period
                for name, mask in (("eligible", applies), ("recorded", recorded))}
        for level in LEVELS:
            unit_of_org, units = codes.units(level)
            unit = unit_of_org[:-1]
            has = unit >= 0
            totals = {}
            for name, by_org in sums.items():
                agg = np.zeros((len(units), len(period_names)))
                np.add.at(agg, unit[has], by_org[has])
                totals[name] = agg
            parts.append(pd.DataFrame({
                "item": item["item"], "item_title": item["title"], "level": level,
                "org_code": np.repeat(np.asarray(units, dtype=object), len(period_names)),
                "period": np.tile(period_names, len(units)),
                "recorded": totals["recorded"].ravel(), "eligible": totals["eligible"].ravel()}))
    return pd.concat(parts, ignore_index=True)


def completeness_table(cohort: Cohort, orgs: pd.DataFrame, codes: PatientCodes, config: Config,
                       suppressed: pd.DataFrame, synthetic: bool) -> pd.DataFrame:
    """The data-completeness file: recorded / eligible per item, unit and period, with the threshold and a flag.

    ``suppressed``: the true counts of the indicators file's suppressed rows (suppressed_indicator_counts).
    """
    settings, rules = config.section("completeness"), config.section("disclosure")
    frame = _counts(settings["items"], cohort, codes, settings["unknown"])
    frame = frame.merge(entity_table(orgs), on=["level", "org_code"], how="left")
    frame["period_type"] = np.where(frame.period == codes.pooled, "pooled", "financial_year")
    siblings = (frame.item + "|" + frame.period + "|" + frame.level + "|" + frame.parent_code).where(frame.level != "national")
    years = (frame.item + "|" + frame.level + "|" + frame.org_code).where(frame.period_type == "financial_year")
    decision = suppress_rows(frame.recorded, frame.eligible, [siblings.to_numpy(object), years.to_numpy(object)],
                             already_hidden=_hidden_in_indicators(frame, suppressed, settings),
                             low=rules["suppress_low"], high=rules["suppress_high"], min_denominator=rules["min_denominator"])
    hidden, status = decision.hidden.to_numpy(), decision.status.to_numpy()
    share = rules["completeness_threshold"]
    show = status == "published"
    with np.errstate(invalid="ignore", divide="ignore"):
        true_percentage = frame.recorded.to_numpy(float) / frame.eligible.to_numpy(float) * 100
    # A suppressed row keeps its flag where either side of the threshold leaves more than `suppress_high`
    # possible counts, so the flag narrows a hidden count no more than suppression itself allows.
    wide = (status == "suppressed") & (min(share, 1 - share) * frame.eligible.to_numpy(float) > rules["suppress_high"])
    frame["percentage"] = np.where(show, true_percentage, np.nan)
    frame["threshold"] = share * 100
    frame["below_threshold"] = np.where(show | wide, np.where(true_percentage < share * 100, "yes", "no"), "")
    frame["recorded"] = frame.recorded.where(~hidden)
    frame["eligible"] = frame.eligible.where(~hidden)
    frame["status"] = status
    frame["status_note"] = np.select(
        [status == "suppressed", status == "not_applicable", status == "too_few"],
        [f"Suppressed: a count from {rules['suppress_low']} to {rules['suppress_high']}, or one that would reveal such a count",
         "No eligible patients", f"Too few patients (under {rules['min_denominator']}) to show a percentage"], "")
    frame["synthetic_data"] = "yes" if synthetic else "no"
    level_order = {level: i for i, level in enumerate(reversed(LEVELS))}
    item_order = {item["item"]: i for i, item in enumerate(settings["items"])}
    frame = frame.assign(_p=frame.period_type.ne("pooled"), _l=frame.level.map(level_order), _i=frame.item.map(item_order))
    return frame.sort_values(["_p", "period", "_l", "nation", "parent_code", "org_code", "_i"], kind="stable").reset_index(drop=True)


def suppressed_indicator_counts(indicator_counts: pd.DataFrame, indicators: pd.DataFrame) -> pd.DataFrame:
    """The true counts of every suppressed row of the indicators file (what no other file may give away)."""
    key = ["indicator_id", "period", "subgroup", "level", "org_code"]
    return indicator_counts.merge(indicators.loc[indicators.status.eq("suppressed"), key], on=key)


def _hidden_in_indicators(frame: pd.DataFrame, suppressed: pd.DataFrame, settings: dict) -> np.ndarray:
    """Rows whose counts the indicators file hides: the item's own indicator, and the patient count of all-patient items."""
    sources = pd.DataFrame(
        [(item["item"], ind) for item in settings["items"]
         for ind in ([item["indicator"]] if item.get("indicator") else []) + ([] if item.get("patients") else [settings["patients_indicator"]])],
        columns=["item", "indicator_id"])
    gone = suppressed[suppressed.subgroup.eq("all")].merge(sources, on="indicator_id")
    gone_keys = (gone["item"] + "|" + gone.level + "|" + gone.org_code + "|" + gone.period).to_numpy(object)
    keys = np.r_[gone_keys, gone_keys]
    values = np.r_[gone.numerator.to_numpy(float), gone.denominator.to_numpy(float)]
    mine = (frame["item"] + "|" + frame.level + "|" + frame.org_code + "|" + frame.period).to_numpy(object)
    return hidden_elsewhere(mine, frame.recorded, keys, values) | hidden_elsewhere(mine, frame.eligible, keys, values)


def casemix_completeness_flags(indicators: pd.DataFrame, completeness: pd.DataFrame, registry: Registry,
                               config: Config) -> pd.Series:
    """The completeness_flag of every row, with the case-mix variables below the threshold named on adjusted outcomes."""
    items = {i["casemix_variable"]: i for i in config.section("completeness")["items"] if i.get("casemix_variable")}
    threshold = config.section("disclosure")["completeness_threshold"]
    low = completeness[completeness.below_threshold.eq("yes")]
    flags = indicators.completeness_flag.fillna("").astype(object).copy()
    for ind in registry:
        if not ind.is_casemix_adjusted:
            continue
        used = [items[v] for v in ind.casemix["covariates"] if v in items]
        wanted = low[low["item"].isin([i["item"] for i in used])]
        if wanted.empty:
            continue
        order = {i["item"]: k for k, i in enumerate(used)}
        wanted = wanted.assign(_o=wanted["item"].map(order)).sort_values("_o")
        text = wanted.assign(part=[f"{in_sentence(t)} {v:.1f}%" for t, v in zip(wanted.item_title, wanted.percentage)])
        by_unit = text.groupby(["level", "org_code", "period"], sort=False).part.agg(", ".join)
        rows = indicators.indicator_id.eq(ind.id).to_numpy()
        found = pd.MultiIndex.from_frame(indicators.loc[rows, ["level", "org_code", "period"]]).map(by_unit)
        message = pd.Series(found, index=indicators.index[rows]).dropna()
        note = "Low completeness of case-mix data: " + message + f" (threshold {threshold:.0%})"
        flags[note.index] = np.where(flags[note.index] != "", flags[note.index] + "; " + note, note)
    return flags
