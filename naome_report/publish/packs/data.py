"""Selects, once for all organisations, the rows of the results hub that each pack reads."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from naome_report.hub import Results

ALL = "all"
ORG_LEVEL, NATIONAL_LEVEL = "organisation", "national"
# Columns of results hub contract v2 (outlier process, funnel position, comparators) the packs print as they are.
CONTRACT_COLUMNS = (
    "outlier_process", "funnel_position", "vs_national", "comparator_code", "comparator_name", "comparator_percentage",
    "vs_comparator",
)
INDICATOR_COLUMNS = (
    "level", "org_code", "org_name", "nation", "parent_code", "parent_name", "indicator_id", "subgroup", "numerator",
    "denominator", "percentage", "ci_lower_95", "ci_upper_95", "median_days", "national_percentage", "expected",
    "observed_expected", "adjusted_percentage", "adjusted_ci_lower_95", "adjusted_ci_upper_95", "outlier_status",
    "outlier_note", "completeness_flag", "status", "status_note", *CONTRACT_COLUMNS,
)
COMPLETENESS_COLUMNS = ("org_code", "item", "item_title", "recorded", "eligible", "percentage", "threshold",
                        "below_threshold", "status")
RUN_COLUMNS = (
    "indicator_id", "period", "series", "quarter_index", "numerator", "denominator", "percentage", "status", "centre",
    "lower_limit", "upper_limit", "special_cause", "rule", "variation", "limits_status", "improvement_direction",
    "chart_status", "points_published",
)
SURVIVAL_COLUMNS = ("time_years", "patients", "deaths", "survival_percentage", "ci_lower_95", "ci_upper_95", "status",
                    "status_note")
CURVE_COLUMNS = ("time_years", "survival_percentage", "ci_lower_95", "ci_upper_95")


@dataclass(frozen=True)
class OrgInfo:
    """An organisation and where it sits in the hierarchy."""

    code: str
    name: str
    nation: str
    parent_code: str
    parent_name: str

    @property
    def parent_type(self) -> str:
        """'Cancer Alliance' in England, 'Welsh region' in Wales."""
        return "Welsh region" if self.nation == "Wales" else "Cancer Alliance"

    @property
    def kind(self) -> str:
        """'NHS trust' or 'health board'."""
        return "health board" if self.nation == "Wales" else "NHS trust"


@dataclass
class PackInput:
    """Everything one organisation's pack shows, as plain records (cheap to send to a worker)."""

    org: OrgInfo
    rows: dict[str, dict[str, Any]]
    run_charts: dict[str, list[dict[str, Any]]]
    survival: list[dict[str, Any]]
    survival_curve: list[dict[str, Any]]
    subgroup_rows: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)  # indicator -> subgroup -> row
    completeness_items: list[dict[str, Any]] = field(default_factory=list)
    funnel_markers: dict[str, str] = field(default_factory=dict)


@dataclass
class Common:
    """What every pack shares: national rows and curve, the run's metadata."""

    national_rows: dict[str, dict[str, Any]]
    national_survival: list[dict[str, Any]]
    national_curve: list[dict[str, Any]]
    national_completeness: dict[str, dict[str, Any]]
    period: str
    data_cutoff: str
    synthetic: bool


def _records(frame: pd.DataFrame, columns: tuple[str, ...]) -> list[dict[str, Any]]:
    """Rows as dicts with NaN turned into None."""
    present = [c for c in columns if c in frame.columns]
    sub = frame[present].astype(object).where(frame[present].notna(), None)
    return sub.to_dict("records")


class PackInputError(ValueError):
    """The results files lack what the packs print."""


def check_contract(results: Results) -> None:
    """The indicators file must have the contract v2 columns the packs print (named when missing)."""
    missing = [c for c in CONTRACT_COLUMNS if c not in results.indicators.columns]
    if missing:
        raise PackInputError(f"{results.data_dir / 'naome_indicators.csv'}: missing column(s) {', '.join(missing)} "
                             "(results hub contract v2); rebuild it (naome-report build --only data --force)")


def primary_indicator_rows(results: Results, subgroup: str | None = ALL) -> pd.DataFrame:
    """Indicator rows of the headline (pooled) period: for all patients, one subgroup, or every subgroup (None)."""
    ind = results.indicators
    rows = ind[ind["period"] == results.primary_period]
    return rows if subgroup is None else rows[rows["subgroup"] == subgroup]


def data_completeness(results: Results) -> pd.DataFrame:
    """Recorded / eligible per unit and data item, headline period."""
    frame = results.data_completeness
    return frame[frame["period"] == results.primary_period]


def organisations(results: Results) -> list[OrgInfo]:
    """Every organisation with results, in nation then code order."""
    orgs = primary_indicator_rows(results)
    orgs = orgs[orgs["level"] == ORG_LEVEL].drop_duplicates("org_code").sort_values(["nation", "org_code"])
    return [OrgInfo(r.org_code, r.org_name, r.nation, str(r.parent_code), str(r.parent_name))
            for r in orgs.itertuples()]


def _items(frame: pd.DataFrame, codes: set[str]) -> dict[str, list[dict[str, Any]]]:
    """unit code -> its data-completeness items, in file order."""
    rows = frame[frame["org_code"].isin(codes)]
    return {code: _records(group, COMPLETENESS_COLUMNS) for code, group in rows.groupby("org_code", sort=False)}


def _by_subgroup(frame: pd.DataFrame) -> dict[str, dict[str, dict[str, dict[str, Any]]]]:
    """unit code -> indicator id -> subgroup -> row."""
    out: dict[str, dict[str, dict[str, dict[str, Any]]]] = {}
    for rec in _records(frame, INDICATOR_COLUMNS):
        out.setdefault(rec["org_code"], {}).setdefault(rec["indicator_id"], {})[rec["subgroup"]] = rec
    return out


def _by_unit(frame: pd.DataFrame) -> dict[str, dict[str, dict[str, Any]]]:
    """unit code -> indicator id -> row."""
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for rec in _records(frame, INDICATOR_COLUMNS):
        out.setdefault(rec["org_code"], {})[rec["indicator_id"]] = rec
    return out


def _run_series(results: Results, codes: set[str]) -> dict[str, dict[str, list[dict[str, Any]]]]:
    """org code -> indicator id -> quarterly records in order."""
    runs = results.run_charts
    runs = runs[(runs["level"] == ORG_LEVEL) & runs["org_code"].isin(codes)].sort_values(
        ["org_code", "indicator_id", "quarter_index"])
    out: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for code, group in runs.groupby("org_code", sort=False):
        recs = _records(group, RUN_COLUMNS)
        per: dict[str, list[dict[str, Any]]] = {}
        for rec in recs:
            per.setdefault(rec["indicator_id"], []).append(rec)
        out[code] = per
    return out


def _survival_rows(frame: pd.DataFrame, level: str, period: str) -> dict[str, list[dict[str, Any]]]:
    """org code -> survival rows for all patients (group_type 'all'), headline period when the file has several."""
    rows = frame[(frame["level"] == level) & (frame["group_type"] == ALL)]
    if (rows["period"] == period).any():
        rows = rows[rows["period"] == period]
    rows = rows.sort_values(["org_code", "time_years"])
    return {code: _records(group, SURVIVAL_COLUMNS) for code, group in rows.groupby("org_code", sort=False)}


def _curves(frame: pd.DataFrame, level: str) -> dict[str, list[dict[str, Any]]]:
    """org code -> monthly Kaplan-Meier points for all patients."""
    rows = frame[(frame["level"] == level) & (frame["group_type"] == ALL)].sort_values(["org_code", "time_years"])
    return {code: _records(group, CURVE_COLUMNS) for code, group in rows.groupby("org_code", sort=False)}


def common_inputs(results: Results) -> Common:
    """National comparators and the run's metadata."""
    rows = primary_indicator_rows(results)
    national = rows[rows["level"] == NATIONAL_LEVEL]
    nat_survival = _survival_rows(results.survival, NATIONAL_LEVEL, results.primary_period)
    nat_curve = _curves(results.survival_curves, NATIONAL_LEVEL)
    completeness = data_completeness(results)
    national_items = completeness[completeness["level"] == NATIONAL_LEVEL]
    return Common(
        national_rows=next(iter(_by_unit(national).values()), {}),
        national_survival=next(iter(nat_survival.values()), []),
        national_curve=next(iter(nat_curve.values()), []),
        national_completeness={r["item"]: r for r in _records(national_items, COMPLETENESS_COLUMNS)},
        period=results.primary_period,
        data_cutoff=str(results.meta.get("data_cutoff", "")),
        synthetic=results.synthetic,
    )


def pack_inputs(results: Results, org_codes: list[str] | None = None) -> list[PackInput]:
    """One PackInput per organisation (all of them, or those named, in the order named)."""
    orgs = {o.code: o for o in organisations(results)}
    wanted = list(orgs) if org_codes is None else list(org_codes)
    unknown = [c for c in wanted if c not in orgs]
    if unknown:
        raise KeyError(f"no results for organisation(s) {', '.join(unknown)}")
    rows = primary_indicator_rows(results)
    codes = set(wanted)
    own = _by_unit(rows[(rows["level"] == ORG_LEVEL) & rows["org_code"].isin(codes)])
    runs = _run_series(results, codes)
    survival = _survival_rows(results.survival[results.survival["org_code"].isin(codes)], ORG_LEVEL,
                              results.primary_period)
    curves = _curves(results.survival_curves[results.survival_curves["org_code"].isin(codes)], ORG_LEVEL)
    everyone = primary_indicator_rows(results, None)
    subgroups = _by_subgroup(everyone[(everyone["level"] == ORG_LEVEL) & everyone["org_code"].isin(codes)
                                      & (everyone["subgroup"] != ALL)])
    completeness = data_completeness(results)
    items = _items(completeness[completeness["level"] == ORG_LEVEL], codes)
    return [
        PackInput(org=orgs[c], rows=own.get(c, {}),
                  run_charts=runs.get(c, {}), survival=survival.get(c, []), survival_curve=curves.get(c, []),
                  subgroup_rows=subgroups.get(c, {}), completeness_items=items.get(c, []))
        for c in wanted
    ]
