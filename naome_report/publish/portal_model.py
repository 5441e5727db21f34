"""Shapes the published results into what each portal page shows (lookups and formatting only)."""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from naome_report.hub import Results
from naome_report.numbers import format_fixed
from naome_report.registry import Indicator, Registry
from naome_report.stats.outliers import OUTLIER_LABELS, OUTLIER_SYMBOLS
from naome_report.vocabulary import term

Row = dict[str, Any]
ALL = "all"
EW = "England and Wales"
SUBGROUP_TEXT = {"all": "All patients", "": "All patients", "de_novo": "De novo MBC", "recurrent": "Recurrent MBC",
                 "triple_negative": "Triple negative", "bone_metastases": "With bone metastases"}
STATUS_TEXT = {"suppressed": "Suppressed (small numbers)", "too_few": "Too few patients",
               "not_available": "Not available", "not_applicable": "Not applicable"}
VARIATION_TEXT = {"common_cause": "Common cause variation", "improvement": "Special cause: improvement",
                  "concern": "Special cause: concern", "neither": "Special cause: neither improvement nor concern"}
OUTLIER_SHORT = {"alarm_high": "Alarm: high", "alert_high": "Alert: high", "within_limits": "Within limits",
                 "alert_low": "Alert: low", "alarm_low": "Alarm: low", "not_assessed": "Not assessed"}
RULE_TEXT = {"outside_limits": "a point outside the process limits", "trend": "a run of points all rising or all falling",
             "two_of_three": "two of three points close to a limit", "shift": "a run of points on one side of the mean"}


def is_missing(value: Any) -> bool:
    """True for None, NaN and empty strings (how the CSVs say 'no value')."""
    return value is None or value != value or value == ""  # value != value only for NaN


def fmt_pct(value: Any, decimals: int = 1) -> str:
    """A percentage as shown everywhere in the portal: 59.4%."""
    return "" if is_missing(value) else f"{format_fixed(float(value), decimals)}%"


def fmt_count(value: Any) -> str:
    """A count with thousands separators: 11,468."""
    return "" if is_missing(value) else format_fixed(float(value), 0, thousands=True)


def fmt_ci(row: Row) -> str:
    """The 95% confidence interval of a row: 55.1% to 63.6%."""
    lo, hi = row.get("ci_lower_95"), row.get("ci_upper_95")
    return "" if is_missing(lo) or is_missing(hi) else f"{fmt_pct(lo)} to {fmt_pct(hi)}"


def safe_name(code: str) -> str:
    """A file-name-safe version of an organisation or indicator code."""
    return re.sub(r"[^A-Za-z0-9_-]", "_", str(code))


class cached_property:  # noqa: N801 - functools.cached_property takes a lock on every first access (slow)
    """A property computed once per instance, then read from the instance dict."""

    def __init__(self, fn):
        self.fn = fn
        self.name = fn.__name__
        self.__doc__ = fn.__doc__

    def __get__(self, obj, owner=None):
        if obj is None:
            return self
        value = obj.__dict__[self.name] = self.fn(obj)
        return value


@dataclass(frozen=True)
class Organisation:
    """A trust or health board and its place in the hierarchy, as the results file gives it."""

    code: str
    name: str
    nation: str
    parent_code: str
    parent_name: str
    region_code: str
    region_name: str

    @property
    def file(self) -> str:
        return f"{safe_name(self.code)}.html"

    @property
    def parent_label(self) -> str:
        return "Welsh Region" if self.nation == "Wales" else "Cancer Alliance"


@dataclass
class Value:
    """One published result, formatted for display, with the raw row for charts and tests."""

    row: Row | None
    indicator: Indicator
    nation: str = ""

    @cached_property
    def published(self) -> bool:
        return self.row is not None and self.row.get("status") == "published"

    @cached_property
    def status(self) -> str:
        if self.row is None:
            return "not_available" if self.nation and self.nation not in self.indicator.nations else "missing"
        return str(self.row.get("status") or "published")

    @cached_property
    def percentage(self) -> float | None:
        return None if not self.published or is_missing(self.row.get("percentage")) else float(self.row["percentage"])

    @cached_property
    def main(self) -> str:
        """The headline figure: a percentage, or a count for count indicators, or the status in words."""
        if self.published and not self.indicator.has_rate:
            return fmt_count(self.row.get("numerator"))
        if self.percentage is not None:
            return fmt_pct(self.percentage)
        return self.status_text

    @cached_property
    def status_text(self) -> str:
        status = self.status
        if status == "not_available" and self.nation:
            return f"Not available for {self.nation}"
        if status == "missing":
            return "No result"
        return STATUS_TEXT.get(status, status.replace("_", " ").capitalize())

    @property
    def status_short(self) -> str:
        """The status in two or three words, for narrow table cells."""
        if self.status == "suppressed":
            return "Suppressed"
        return self.status_text

    @property
    def note(self) -> str:
        if self.row is None:
            if self.status == "not_available":
                return f"This indicator is not collected for {self.nation}."
            return ""
        return "" if is_missing(self.row.get("status_note")) else str(self.row["status_note"])

    @cached_property
    def ci(self) -> str:
        return fmt_ci(self.row) if self.published and self.indicator.has_rate else ""

    @cached_property
    def counts(self) -> str:
        """'25 of 40' for rates, '' otherwise."""
        if not self.published or not self.indicator.has_rate:
            return ""
        num, den = self.row.get("numerator"), self.row.get("denominator")
        return "" if is_missing(num) or is_missing(den) else f"{fmt_count(num)} of {fmt_count(den)}"

    @property
    def adjusted(self) -> str:
        return "" if not self.published else fmt_pct(self.row.get("adjusted_percentage"))

    @property
    def median_days(self) -> str:
        value = None if self.row is None else self.row.get("median_days")
        return "" if is_missing(value) else f"{float(value):g} days"

    @property
    def completeness_flag(self) -> str:
        """The completeness warning of the row ('' when the data item is complete enough)."""
        flag = None if self.row is None else self.row.get("completeness_flag")
        if is_missing(flag) or str(flag).lower() in ("no", "false", "0"):
            return ""
        return "Low completeness" if str(flag).lower() in ("yes", "true", "1") else str(flag)

    @cached_property
    def outlier(self) -> str:
        """alarm_high ... within_limits, or not_assessed."""
        status = None if self.row is None else self.row.get("outlier_status")
        return "not_assessed" if is_missing(status) else str(status)

    @property
    def outlier_symbol(self) -> str:
        return OUTLIER_SYMBOLS.get(self.outlier, OUTLIER_SYMBOLS["not_assessed"])

    @property
    def outlier_short(self) -> str:
        if self.outlier == "not_in_process":
            return term("outlier_status", self.outlier).short
        return OUTLIER_SHORT.get(self.outlier, "Not assessed")

    @cached_property
    def outlier_text(self) -> str:
        note = None if self.row is None else self.row.get("outlier_note")
        key = self.outlier if self.outlier != "not_assessed" or is_missing(note) else f"not_assessed:{note}"
        if self.row is None:
            key = "not_assessed:not_available"
        if key == "not_in_process":
            return term("outlier_status", key).long
        return OUTLIER_LABELS.get(key, OUTLIER_LABELS.get(self.outlier, "Not assessed"))

    @property
    def funnel_limits(self) -> dict[str, float] | None:
        if not self.published:
            return None
        keys = ("funnel_lower_95", "funnel_upper_95", "funnel_lower_998", "funnel_upper_998")
        if any(is_missing(self.row.get(k)) for k in keys):
            return None
        return {k.removeprefix("funnel_"): float(self.row[k]) for k in keys}

    @cached_property
    def funnel_y(self) -> float | None:
        """The value plotted on the funnel: the case-mix adjusted percentage where there is one."""
        if not self.published:
            return None
        adj = self.row.get("adjusted_percentage")
        return float(adj) if not is_missing(adj) else self.percentage


@dataclass
class Portal:
    """Every lookup the pages need, built once from the results."""

    results: Results
    registry: Registry
    period: str
    organisations: list[Organisation]
    by_key: dict[tuple[str, str, str, str], Row]          # (org_code, indicator, period, subgroup)
    by_level: dict[tuple[str, str, str, str, str], Row]   # (level, org_code, indicator, period, subgroup)
    org_rows: dict[str, list[Row]]                        # org_code -> its indicator rows
    run_charts: dict[tuple[str, str], list[Row]]          # (org_code, indicator) -> quarters in order
    funnel_curves: dict[str, list[Row]]                   # indicator -> limit curve rows (primary period, all)
    survival: dict[str, list[Row]]                        # org_code -> survival rows (primary period)
    national_codes: dict[str, str] = field(default_factory=dict)  # nation name -> unit code
    periods: list[str] = field(default_factory=list)

    def value(self, indicator: Indicator, org_code: str, period: str | None = None, subgroup: str = ALL,
              nation: str = "") -> Value:
        """An organisation's (or any unit's) result."""
        return Value(self.by_key.get((org_code, indicator.id, period or self.period, subgroup)), indicator, nation)

    def level_value(self, indicator: Indicator, level: str, code: str, period: str | None = None,
                    subgroup: str = ALL, nation: str = "") -> Value:
        """The result of a unit at a given level (alliance, region, nation, national)."""
        return Value(self.by_level.get((level, code, indicator.id, period or self.period, subgroup)), indicator, nation)

    def national(self, indicator: Indicator, nation: str = EW, period: str | None = None) -> Value:
        """England and Wales (level national), England or Wales (level nation)."""
        if nation == EW:
            return self.level_value(indicator, "national", self.national_codes.get(EW, ""), period)
        return Value(self.by_level.get(("nation", self.national_codes.get(nation, ""), indicator.id,
                                        period or self.period, ALL)), indicator, nation)

    def indicator_orgs(self, indicator: Indicator) -> list[tuple[Organisation, Value]]:
        """Every organisation with its primary-period result for one indicator."""
        return [(o, self.value(indicator, o.code, nation=o.nation)) for o in self.organisations]


def _records(frame: pd.DataFrame) -> list[Row]:
    """Rows as plain dicts, NaN kept (is_missing handles it); much faster than DataFrame.to_dict."""
    columns = list(frame.columns)
    return [dict(zip(columns, values)) for values in zip(*(frame[c].tolist() for c in columns))]


def _organisations(indicators: pd.DataFrame) -> list[Organisation]:
    cols = ["org_code", "org_name", "nation", "parent_code", "parent_name", "region_code", "region_name"]
    orgs = indicators.loc[indicators["level"] == "organisation", cols].drop_duplicates("org_code")
    orgs = orgs.fillna("")
    # England first, then Wales; within a nation by name (the order people scan lists in).
    orgs = orgs.assign(_w=orgs["nation"].eq("Wales")).sort_values(["_w", "org_name"])
    return [Organisation(r.org_code, r.org_name, r.nation, r.parent_code, r.parent_name, r.region_code, r.region_name)
            for r in orgs.itertuples()]


def build_portal_model(results: Results, registry: Registry) -> Portal:
    """Index the results once so every page is a dictionary lookup."""
    period = results.primary_period
    ind = results.indicators
    by_key: dict = {}
    by_level: dict = {}
    org_rows: dict[str, list[Row]] = defaultdict(list)
    national_codes: dict[str, str] = {}
    if "period_type" in ind:
        ind = ind[ind["period_type"] != "quarter"]  # quarterly rows are drawn from naome_run_charts.csv
    for row in _records(ind):
        code, key_tail = str(row["org_code"]), (row["indicator_id"], row["period"], row["subgroup"])
        by_level[(row["level"], code, *key_tail)] = row
        if row["level"] == "organisation":
            by_key[(code, *key_tail)] = row
            org_rows[code].append(row)
        elif row["level"] == "national":
            national_codes[EW] = code
        elif row["level"] == "nation":
            national_codes[str(row["nation"])] = code
    run_charts: dict[tuple[str, str], list[Row]] = defaultdict(list)
    rc = results.run_charts
    if not rc.empty:
        rc = rc[rc["level"] == "organisation"].sort_values(["org_code", "indicator_id", "quarter_index"])
        for row in _records(rc):
            run_charts[(str(row["org_code"]), row["indicator_id"])].append(row)
    curves: dict[str, list[Row]] = {}
    fl = results.funnel_limits
    if not fl.empty:
        fl = fl[(fl["period"] == period) & (fl["subgroup"] == ALL)].sort_values(["indicator_id", "n"])
        for ind_id, frame in fl.groupby("indicator_id", sort=False):
            curves[str(ind_id)] = _records(frame)
    survival: dict[str, list[Row]] = defaultdict(list)
    sv = results.survival
    if not sv.empty:
        for row in _records(sv[sv["period"] == period] if "period" in sv else sv):
            survival[str(row["org_code"])].append(row)
    # Quarterly rows feed the run charts; the tables show the pooled period and the financial years.
    yearly = ind[ind["period_type"].isin(["pooled", "financial_year"])] if "period_type" in ind else ind
    periods = [p for p in pd.unique(yearly["period"]) if p != period]
    return Portal(results=results, registry=registry, period=period, organisations=_organisations(ind),
                  by_key=by_key, by_level=by_level, org_rows=dict(org_rows), run_charts=dict(run_charts),
                  funnel_curves=curves, survival=dict(survival), national_codes=national_codes,
                  periods=[period, *sorted(periods)])
