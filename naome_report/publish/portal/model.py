"""The published results indexed for the portal: every reporting unit, its values and its place in the hierarchy."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd

from naome_report.hub import Results
from naome_report.numbers import format_fixed
from naome_report.registry import Indicator, Registry
from naome_report.vocabulary import COMPARISON, OUTLIER_STATUS, STATUS, SUBGROUP, Term

Row = dict[str, Any]
ALL = "all"
EW = "England and Wales"
LEVELS = ("national", "nation", "region", "alliance", "organisation")
# Where a funnel position can be read from the HQIP status when the results carry no funnel_position.
POSITION_OF_STATUS = {"alarm_high": "above_998", "alert_high": "above_95", "within_limits": "within",
                      "alert_low": "below_95", "alarm_low": "below_998"}


def is_missing(value: Any) -> bool:
    """True for None, NaN and empty strings (how the CSVs say 'no value')."""
    return value is None or value != value or value == ""  # value != value only for NaN


def fmt_pct(value: Any, decimals: int = 1) -> str:
    """A percentage as shown everywhere in the portal: 59.4%."""
    return "" if is_missing(value) else _pct_text(float(value), decimals)


def fmt_count(value: Any) -> str:
    """A count with thousands separators: 11,468."""
    return "" if is_missing(value) else _count_text(float(value))


# A build formats ~350,000 numbers but only ~67,000 distinct ones (a value recurs on its unit's page, its
# areas' pages, its indicator page, in tables and charts): each is formatted once.
@lru_cache(maxsize=1 << 17)
def _pct_text(value: float, decimals: int) -> str:
    return f"{format_fixed(value, decimals)}%"


@lru_cache(maxsize=1 << 16)
def _count_text(value: float) -> str:
    return format_fixed(value, 0, thousands=True)


def fmt_range(low: Any, high: Any) -> str:
    """Two percentages as a range: 55.1% to 63.6% ('' when either is missing)."""
    return "" if is_missing(low) or is_missing(high) else f"{fmt_pct(low)} to {fmt_pct(high)}"


def fmt_ci(row: Row) -> str:
    """The 95% confidence interval of a row: 55.1% to 63.6%."""
    return fmt_range(row.get("ci_lower_95"), row.get("ci_upper_95"))


def fmt_points(value: Any) -> str:
    """A difference in percentage points with its sign: +2.3 points, −1.0 points."""
    if is_missing(value):
        return ""
    text = format_fixed(abs(float(value)), 1)
    sign = "" if text.strip("0.") == "" else ("+" if float(value) > 0 else "\u2212")
    return f"{sign}{text} points"


def safe_name(code: str) -> str:
    """A file-name-safe version of an organisation or indicator code."""
    return re.sub(r"[^A-Za-z0-9_-]", "_", str(code))


def subgroup_text(code: str) -> str:
    """Who a row covers, in words."""
    term = SUBGROUP.get(code or ALL)
    return term.short if term else str(code).replace("_", " ").capitalize()


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
class Unit:
    """One reporting unit (England and Wales, a nation, region, alliance or organisation) as the results name it."""

    code: str
    name: str
    level: str
    nation: str
    parent_code: str = ""
    parent_name: str = ""
    region_code: str = ""
    region_name: str = ""
    places: tuple[str, ...] = ()
    within: str = ""  # its own code and the codes of every unit above it (national excepted), space-separated

    @property
    def wales(self) -> bool:
        return self.nation == "Wales"

    @property
    def kind(self) -> str:
        """What the unit is, in words: 'NHS trust', 'Cancer Alliance', 'NHS England region' ..."""
        return {"national": "England and Wales", "nation": "Nation", "region": "NHS England region",
                "alliance": "Welsh Region" if self.wales else "Cancer Alliance",
                "organisation": "Health board" if self.wales else "NHS trust"}[self.level]

    @property
    def href(self) -> str:
        """The unit's page, from the portal root."""
        if self.level == "national":
            return "index.html"
        folder = "organisations" if self.level == "organisation" else "areas"
        return f"{folder}/{safe_name(self.code)}.html"

    @property
    def file(self) -> str:
        return self.href.rsplit("/", 1)[-1]

    @property
    def parent_label(self) -> str:
        """What the unit above an organisation is called."""
        return "Welsh Region" if self.wales else "Cancer Alliance"


@dataclass
class Value:
    """One published result, formatted for display, with the raw row for charts and tests.

    A Value is shared by every page that shows it and its row never changes, so each text is worked out once."""

    row: Row | None
    indicator: Indicator
    nation: str = ""

    def get(self, column: str) -> Any:
        """A column of the row, None where the row or the column is missing."""
        value = None if self.row is None else self.row.get(column)
        return None if value is None or value != value or value == "" else value  # is_missing, inline: 380,000 calls

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
        """The crude percentage."""
        value = self.get("percentage") if self.published else None
        return None if value is None else float(value)

    @cached_property
    def adjusted(self) -> bool:
        """True where the result shown is the case-mix adjusted rate (the one the funnel and status use)."""
        return self.published and self.indicator.is_casemix_adjusted and self.get("adjusted_percentage") is not None

    @cached_property
    def shown(self) -> float | None:
        """The percentage shown and sorted on: the adjusted rate where there is one, else the crude rate."""
        return float(self.get("adjusted_percentage")) if self.adjusted else self.percentage

    @cached_property
    def main(self) -> str:
        """The headline figure: a percentage, or a count for count indicators, or the status in words."""
        if self.published and not self.indicator.has_rate:
            return fmt_count(self.get("numerator"))
        if self.shown is not None:
            return fmt_pct(self.shown)
        return self.status_text

    @cached_property
    def crude(self) -> str:
        """The crude percentage, shown beside an adjusted one (with its CI where the adjusted rate has none)."""
        if not self.adjusted:
            return ""
        adjusted_ci = fmt_range(self.get("adjusted_ci_lower_95"), self.get("adjusted_ci_upper_95"))
        return fmt_pct(self.percentage) + ("" if adjusted_ci else f" ({fmt_ci(self.row)})")

    @cached_property
    def sort_key(self) -> float:
        """What a table sorts this value by (-1 for no value, so that those sort together)."""
        if not self.published:
            return -1.0
        key = self.shown if self.indicator.has_rate else self.get("numerator")
        return -1.0 if key is None else float(key)

    @cached_property
    def status_text(self) -> str:
        status = self.status
        if status == "not_available" and self.nation and self.nation != EW:
            return f"Not available for {self.nation}"
        if status == "missing":
            return "No result"
        if status == "suppressed":
            return "Suppressed (small numbers)"
        return STATUS[status].short if status in STATUS else status.replace("_", " ").capitalize()

    @cached_property
    def status_short(self) -> str:
        """The status in two or three words, for narrow table cells."""
        return "Suppressed" if self.status == "suppressed" else self.status_text

    @cached_property
    def note(self) -> str:
        if self.row is None:
            return f"This indicator is not collected for {self.nation}." if self.status == "not_available" else ""
        return str(self.get("status_note") or "")

    @cached_property
    def ci(self) -> str:
        """The 95% CI of the value shown (of the adjusted rate where that is shown)."""
        if not self.published or not self.indicator.has_rate:
            return ""
        if self.adjusted:
            return fmt_range(self.get("adjusted_ci_lower_95"), self.get("adjusted_ci_upper_95"))
        return fmt_ci(self.row)

    @cached_property
    def counts(self) -> str:
        """'25 of 40' for rates, '' otherwise."""
        if not self.published or not self.indicator.has_rate:
            return ""
        num, den = self.get("numerator"), self.get("denominator")
        return "" if num is None or den is None else f"{fmt_count(num)} of {fmt_count(den)}"

    @cached_property
    def median_days(self) -> str:
        value = self.get("median_days") if self.published else None
        return "" if value is None else f"{float(value):g} days"

    @cached_property
    def completeness_flag(self) -> str:
        """The completeness warning of the row ('' when the data item is complete enough)."""
        flag = self.get("completeness_flag")
        if flag is None or str(flag).lower() in ("no", "false", "0"):
            return ""
        return "Low completeness" if str(flag).lower() in ("yes", "true", "1") else str(flag)

    # ------------------------------------------------------------------ judgement (codes from the hub)

    @cached_property
    def in_outlier_process(self) -> bool:
        """Whether the indicator enters the HQIP outlier process (the row says so; else the registry)."""
        flag = self.get("outlier_process")
        return self.indicator.outlier_process if flag is None else str(flag).lower() == "yes"

    @cached_property
    def outlier(self) -> str:
        """The HQIP outlier status code: alarm_high ... within_limits, not_assessed or not_in_process."""
        status = self.get("outlier_status")
        if status is None:
            return "not_in_process" if not self.in_outlier_process else "not_assessed"
        return str(status)

    @property
    def outlier_term(self) -> Term:
        return OUTLIER_STATUS.get(self.outlier, OUTLIER_STATUS["not_assessed"])

    @cached_property
    def position(self) -> str:
        """Where the value sits against the funnel limits: above_998 ... below_998, or not_assessed."""
        position = self.get("funnel_position")
        if position is not None:
            return str(position)
        return POSITION_OF_STATUS.get(self.outlier, "not_assessed")

    @cached_property
    def vs_national(self) -> str:
        """better / similar / worse (or higher / lower) than England and Wales; '' where not given."""
        return str(self.get("vs_national") or "")

    @cached_property
    def vs_comparator(self) -> str:
        return str(self.get("vs_comparator") or "")

    @cached_property
    def comparator_name(self) -> str:
        return str(self.get("comparator_name") or "")

    @cached_property
    def comparator_code(self) -> str:
        return str(self.get("comparator_code") or "")

    @cached_property
    def comparator_value(self) -> str:
        return fmt_pct(self.get("comparator_percentage"))

    @cached_property
    def previous(self) -> str:
        return fmt_pct(self.get("previous_percentage"))

    @cached_property
    def change(self) -> str:
        """The change since the previous financial year: '+2.3 points'."""
        return fmt_points(self.get("change_points")) if self.published else ""

    @cached_property
    def change_ci(self) -> str:
        low, high = self.get("change_ci_lower_95"), self.get("change_ci_upper_95")
        return "" if low is None or high is None else f"{fmt_points(low)} to {fmt_points(high)}"

    @cached_property
    def change_significant(self) -> str:
        """'yes', 'no' or '' (no change given)."""
        value = self.get("change_significant")
        return "" if value is None or not self.change else str(value).lower()

    @cached_property
    def funnel_limits(self) -> dict[str, float] | None:
        if not self.published:
            return None
        keys = ("funnel_lower_95", "funnel_upper_95", "funnel_lower_998", "funnel_upper_998")
        values = [self.get(k) for k in keys]
        if any(v is None for v in values):
            return None
        return {k.removeprefix("funnel_"): float(v) for k, v in zip(keys, values)}

    @cached_property
    def funnel_y(self) -> float | None:
        """The value plotted on the funnel: the case-mix adjusted percentage where there is one."""
        if not self.published:
            return None
        adjusted = self.get("adjusted_percentage")
        return float(adjusted) if adjusted is not None else self.percentage

    @cached_property
    def denominator(self) -> float | None:
        den = self.get("denominator") if self.published else None
        return None if den is None else float(den)


def comparison_term(code: str) -> Term:
    """The vocabulary entry of a comparison code ('' or unknown reads as not compared)."""
    return COMPARISON.get(code or "not_assessed", COMPARISON["not_assessed"])


@dataclass
class Portal:
    """Every lookup the pages need, built once from the results."""

    results: Results
    registry: Registry
    period: str                                           # the pooled headline period
    financial_years: list[str]
    units: dict[str, Unit]                                # code -> unit, every level
    rows: Mapping[tuple[str, str, str, str], Row]         # (code, indicator, period, subgroup) -> row
    run_charts: dict[tuple[str, str], list[Row]]          # (code, indicator) -> points in order
    funnel_curves: dict[tuple[str, str], list[Row]]       # (indicator, period) -> limit curve rows (all patients)
    survival: dict[str, list[Row]]                        # code -> survival rows (primary period)
    children_of: dict[str, list[Unit]] = field(default_factory=dict)
    _values: dict[tuple[str, str, str, str], Value] = field(default_factory=dict, repr=False)

    @property
    def periods(self) -> list[str]:
        """The pooled period, then each financial year."""
        return [self.period, *self.financial_years]

    @property
    def latest(self) -> str:
        return self.financial_years[-1] if self.financial_years else self.period

    @property
    def previous_year(self) -> str:
        return self.financial_years[-2] if len(self.financial_years) > 1 else ""

    @cached_property
    def organisations(self) -> list[Unit]:
        """Every organisation, England first, then Wales; by name within a nation."""
        return sorted((u for u in self.units.values() if u.level == "organisation"), key=lambda u: (u.wales, u.name))

    @cached_property
    def areas(self) -> list[Unit]:
        """Every nation, region and alliance, in hierarchy order."""
        return [u for u in self._walk(self.national_unit) if u.level in ("nation", "region", "alliance")]

    @cached_property
    def national_unit(self) -> Unit:
        return next(u for u in self.units.values() if u.level == "national")

    def nation_unit(self, nation: str) -> Unit | None:
        return next((u for u in self.units.values() if u.level == "nation" and u.nation == nation), None)

    def _walk(self, unit: Unit) -> list[Unit]:
        out = [unit]
        for child in self.children(unit):
            out += self._walk(child)
        return out

    def children(self, unit: Unit) -> list[Unit]:
        """The units one level down (regions of England, alliances of a region, organisations of an alliance)."""
        return self.children_of.get(unit.code, [])

    def ancestors(self, unit: Unit) -> list[Unit]:
        """The units above, from England and Wales down to the unit's parent."""
        chain, seen = [], {unit.code}
        parent = self.units.get(unit.parent_code)
        while parent is not None and parent.code not in seen:
            chain.append(parent)
            seen.add(parent.code)
            parent = self.units.get(parent.parent_code)
        if unit.level != "national" and self.national_unit not in chain:
            chain.append(self.national_unit)
        return chain[::-1]

    def members(self, unit: Unit) -> list[Unit]:
        """Every organisation within a unit."""
        if unit.level == "organisation":
            return [unit]
        return [u for u in self._walk(unit) if u.level == "organisation"]

    def value(self, indicator: Indicator, unit: Unit | str, period: str | None = None, subgroup: str = ALL) -> Value:
        """A unit's result for one indicator, period and patient group."""
        unit = self.units.get(unit, None) if isinstance(unit, str) else unit
        if unit is None:
            return Value(None, indicator)
        key = (unit.code, indicator.id, period or self.period, subgroup)
        value = self._values.get(key)
        if value is None:  # one Value per row, so that its formatting is done once for every page
            value = self._values[key] = Value(self.rows.get(key), indicator, unit.nation)
        return value

    def national(self, indicator: Indicator, nation: str = EW, period: str | None = None, subgroup: str = ALL) -> Value:
        """England and Wales, England or Wales."""
        unit = self.national_unit if nation == EW else self.nation_unit(nation)
        return self.value(indicator, unit, period, subgroup) if unit else Value(None, indicator, nation)

    def run_chart(self, unit: Unit, indicator: Indicator) -> list[Row]:
        return self.run_charts.get((unit.code, indicator.id), [])


def _records(frame: pd.DataFrame) -> list[Row]:
    """Rows as plain dicts, NaN kept (is_missing handles it); much faster than DataFrame.to_dict."""
    columns = list(frame.columns)
    return [dict(zip(columns, values)) for values in zip(*(frame[c].tolist() for c in columns))]


class RowIndex(Mapping):
    """A table's rows by key, each made a dict when first read (a build reads about half of them)."""

    def __init__(self, frame: pd.DataFrame, keys: Iterable[tuple]) -> None:
        self._columns = list(frame.columns)
        self._values = [frame[c].tolist() for c in self._columns]
        self._at = {key: i for i, key in enumerate(keys)}  # a repeated key keeps its last row, as dict() would
        self._made: dict[tuple, Row] = {}

    def __getitem__(self, key: tuple) -> Row:
        row = self._made.get(key)
        if row is None:
            at = self._at[key]
            row = self._made[key] = dict(zip(self._columns, [column[at] for column in self._values]))
        return row

    def get(self, key: tuple, default: Any = None) -> Any:
        return self[key] if key in self._at else default

    def __iter__(self) -> Iterator[tuple]:
        return iter(self._at)

    def __len__(self) -> int:
        return len(self._at)


def _text(value: Any) -> str:
    return "" if is_missing(value) else str(value)


def _units(indicators: pd.DataFrame, places: dict[str, tuple[str, ...]]) -> dict[str, Unit]:
    cols = ["level", "org_code", "org_name", "nation", "parent_code", "parent_name", "region_code", "region_name"]
    frame = indicators[cols].drop_duplicates("org_code")
    units: dict[str, Unit] = {}
    for level, code, name, nation, parent_code, parent_name, region_code, region_name in frame.itertuples(index=False):
        code = _text(code)
        units[code] = Unit(code, _text(name), _text(level), _text(nation), _text(parent_code), _text(parent_name),
                           _text(region_code), _text(region_name), places.get(code, ()))
    return units


def _with_ancestry(units: dict[str, Unit]) -> dict[str, Unit]:
    """Each unit with the codes of the units it lies within (for filtering a table or a chart by area)."""
    out = {}
    for code, unit in units.items():
        chain, seen, parent = [code], {code}, units.get(unit.parent_code)
        while parent is not None and parent.code not in seen and parent.level != "national":
            chain.append(parent.code)
            seen.add(parent.code)
            parent = units.get(parent.parent_code)
        if unit.region_code and unit.region_code not in seen:
            chain.append(unit.region_code)
        out[code] = replace(unit, within=" ".join(chain))
    return out


def _children(units: dict[str, Unit]) -> dict[str, list[Unit]]:
    national = next((u.code for u in units.values() if u.level == "national"), "")
    out: dict[str, list[Unit]] = defaultdict(list)
    for unit in units.values():
        if unit.level == "national":
            continue
        parent = unit.parent_code if unit.parent_code in units else national
        out[parent].append(unit)
    # England before Wales; then by name.
    return {code: sorted(kids, key=lambda u: (u.wales, u.name)) for code, kids in out.items()}


def _run_charts(frame: pd.DataFrame) -> dict[tuple[str, str], list[Row]]:
    """Each unit's run-chart points in order: organisations' rolling series where published, else quarterly."""
    out: dict[tuple[str, str], list[Row]] = defaultdict(list)
    if frame.empty:
        return {}
    if "series" in frame:
        # One series per unit: organisations' rolling series, other units' quarterly one (whichever exists).
        preferred = np.where(frame["level"].eq("organisation"), "rolling_12_months", "quarterly")
        is_preferred = frame["series"].fillna("quarterly").eq(preferred)
        has_preferred = is_preferred.groupby([frame["org_code"], frame["indicator_id"]]).transform("any")
        frame = frame[is_preferred | ~has_preferred]
    frame = frame.sort_values(["org_code", "indicator_id", "quarter_index"], kind="stable")
    for row in _records(frame):
        out[(str(row["org_code"]), str(row["indicator_id"]))].append(row)
    return dict(out)


def build_portal_model(results: Results, registry: Registry, financial_years: list[str],
                       places: dict[str, tuple[str, ...]] | None = None) -> Portal:
    """Index the results once so every page is a dictionary lookup."""
    period = results.primary_period
    ind = results.indicators
    if "period_type" in ind:
        ind = ind[ind["period_type"] != "quarter"]  # quarterly rows are drawn from naome_run_charts.csv
    keys = zip(ind["org_code"].astype(str), ind["indicator_id"].astype(str), ind["period"].astype(str),
               ind["subgroup"].fillna(ALL).astype(str))
    rows = RowIndex(ind, keys)
    curves: dict[tuple[str, str], list[Row]] = {}
    fl = results.funnel_limits
    if not fl.empty:
        fl = fl[fl["subgroup"] == ALL].sort_values(["indicator_id", "period", "n"])
        for (ind_id, curve_period), frame in fl.groupby(["indicator_id", "period"], sort=False):
            curves[(str(ind_id), str(curve_period))] = _records(frame)
    survival: dict[str, list[Row]] = defaultdict(list)
    sv = results.survival
    if not sv.empty:
        for row in _records(sv[sv["period"] == period] if "period" in sv else sv):
            survival[str(row["org_code"])].append(row)
    present = set(ind["period"].astype(str))
    years = [y for y in financial_years if y in present]
    units = _with_ancestry(_units(ind, places or {}))
    return Portal(results=results, registry=registry, period=period, financial_years=years, units=units, rows=rows,
                  run_charts=_run_charts(results.run_charts), funnel_curves=curves, survival=dict(survival),
                  children_of=_children(units))
