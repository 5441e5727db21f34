"""The NAoMe metrics table: an accessible Excel workbook (and its OpenDocument copy) of every metric."""

from __future__ import annotations

import io
import math
import re
import textwrap
import zipfile
from copy import copy
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, Callable
from xml.sax.saxutils import escape

import pandas as pd
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.hyperlink import Hyperlink
from openpyxl.worksheet.table import Table, TableColumn, TableStyleInfo
from openpyxl.compat.numbers import NUMERIC_TYPES
from openpyxl.compat.strings import safe_string
from openpyxl.drawing.spreadsheet_drawing import SpreadsheetDrawing
from openpyxl.worksheet._writer import WorksheetWriter
from openpyxl.writer.excel import ExcelWriter

from naome_report.config import Config
from naome_report.hub import Results
from naome_report.registry import GOAL_TITLES, Indicator, Registry

# ---------------------------------------------------------------------------------------------
# The table model: one list of sheets that both the .xlsx and the .ods writers render.
# ---------------------------------------------------------------------------------------------

NUMBER_FORMATS = {"count": "#,##0", "percent": "0.0", "ratio": "0.00", "decimal": "#,##0.0", "general": "General"}
TEXT_KINDS = {"text", "wrap"}


@dataclass(frozen=True)
class Column:
    """One table column: its header, what it holds (text or a number kind) and its width in characters."""

    header: str
    kind: str = "text"
    width: float | None = None

    @property
    def numeric(self) -> bool:
        return self.kind not in TEXT_KINDS


@dataclass(frozen=True)
class Line:
    """A line of text above a table (or on the cover): plain, heading or warning, optionally a link."""

    text: str
    style: str = "text"
    link: str | None = None


@dataclass
class Sheet:
    """One worksheet: a title in A1, lines of information below it, then at most one named table."""

    name: str
    title: str
    lines: list[Line]
    columns: list[Column] = field(default_factory=list)
    rows: list[tuple[Any, ...]] = field(default_factory=list)
    table_name: str | None = None
    links: dict[int, str] = field(default_factory=dict)  # row index -> sheet the first cell links to
    description: str = ""
    _layout: dict[Any, Any] = field(default_factory=dict, repr=False, compare=False)  # widths, heights: computed once

    @property
    def header_row(self) -> int:
        """1-based row of the table's header (titles and lines end just above it)."""
        return 2 + len(self.lines)

    @property
    def ref(self) -> str:
        """The table's cell range, e.g. A3:K120."""
        last = get_column_letter(len(self.columns))
        return f"A{self.header_row}:{last}{self.header_row + len(self.rows)}"


@dataclass(frozen=True)
class DocProperties:
    """Document properties written into both files."""

    title: str
    subject: str
    creator: str
    company: str
    keywords: str
    description: str
    timestamp: datetime


@dataclass
class WorkbookModel:
    """Everything the writers need: the sheets, in order, and the document properties."""

    sheets: list[Sheet]
    properties: DocProperties


# ---------------------------------------------------------------------------------------------
# Labels
# ---------------------------------------------------------------------------------------------

SUBGROUP_LABELS = {
    "all": "All patients", "de_novo": "De novo MBC", "recurrent": "Recurrent MBC",
    "triple_negative": "Triple negative", "bone_metastases": "Bone metastases",
}
STATUS_LABELS = {
    "published": "Published",
    "suppressed": "[c] Suppressed (small numbers)",
    "too_few": "[u] Too few patients for a percentage",
    "not_available": "[x] Not available",
    "not_estimable": "[x] Not estimable",
    "not_applicable": "[z] Not applicable",
}
OUTLIER_LABELS = {
    "alarm_high": "Alarm: above the upper 99.8% limit",
    "alarm_low": "Alarm: below the lower 99.8% limit",
    "alert_high": "Alert: above the upper 95% limit",
    "alert_low": "Alert: below the lower 95% limit",
    "within_limits": "Within the 95% limits",
}
OUTLIER_NOTES = {
    "too_few": "too few patients", "not_eligible": "indicator not assessed for outliers",
    "not_available": "data not available", "suppressed": "small numbers",
}
TYPE_LABELS = {
    "process": "Process", "outcome": "Outcome", "completeness": "Data completeness", "timeliness": "Timeliness",
    "experience": "Patient experience", "data_quality": "Data quality",
}
LEVEL_LABELS = {
    "national": "England and Wales", "nation": "Nation", "region": "NHS England region",
    "alliance": "Cancer Alliance / Welsh Region", "organisation": "NHS trust / health board",
}
GROUP_TYPE_LABELS = {"all": "All patients", "route": "Route to MBC", "subtype": "Subtype"}

# ---------------------------------------------------------------------------------------------
# Results tables: which CSV column feeds which table column
# ---------------------------------------------------------------------------------------------

HIERARCHY_COLUMNS: dict[str, list[tuple[str, Column]]] = {
    "organisation": [
        ("nation", Column("Nation")), ("region_code", Column("NHS England region code")),
        ("region_name", Column("NHS England region name")),
        ("parent_code", Column("Cancer Alliance / Welsh Region code")),
        ("parent_name", Column("Cancer Alliance / Welsh Region name")),
        ("org_code", Column("Organisation code")), ("org_name", Column("Organisation name")),
    ],
    "alliance": [
        ("nation", Column("Nation")), ("region_code", Column("NHS England region code")),
        ("region_name", Column("NHS England region name")),
        ("org_code", Column("Cancer Alliance / Welsh Region code")),
        ("org_name", Column("Cancer Alliance / Welsh Region name")),
    ],
    "region": [
        ("nation", Column("Nation")), ("org_code", Column("NHS England region code")),
        ("org_name", Column("NHS England region name")),
    ],
    "national": [("org_code", Column("Area code")), ("org_name", Column("Area"))],
}
MEASURE_COLUMNS: list[tuple[str, Column]] = [
    ("numerator", Column("Numerator (patients)", "count")),
    ("denominator", Column("Denominator (patients)", "count")),
    ("percentage", Column("Percentage (%)", "percent")),
    ("ci_lower_95", Column("Lower 95% confidence limit (%)", "percent")),
    ("ci_upper_95", Column("Upper 95% confidence limit (%)", "percent")),
    ("median_days", Column("Median days", "decimal")),
]
COMPARATOR_COLUMNS: list[tuple[str, Column]] = [("national_percentage", Column("National percentage (%)", "percent"))]
ORGANISATION_COLUMNS: list[tuple[str, Column]] = [
    ("expected", Column("Expected (patients, case-mix model)", "decimal")),
    ("observed_expected", Column("Observed / expected ratio", "ratio")),
    ("adjusted_percentage", Column("Case-mix adjusted percentage (%)", "percent")),
    ("funnel_lower_998", Column("Lower 99.8% funnel limit (%)", "percent")),
    ("funnel_lower_95", Column("Lower 95% funnel limit (%)", "percent")),
    ("funnel_upper_95", Column("Upper 95% funnel limit (%)", "percent")),
    ("funnel_upper_998", Column("Upper 99.8% funnel limit (%)", "percent")),
]
SURVIVAL_COLUMNS: list[tuple[str, Column]] = [
    ("patients", Column("Patients", "count")), ("deaths", Column("Deaths", "count")),
    ("survival_percentage", Column("Survival (%)", "percent")),
    ("ci_lower_95", Column("Lower 95% confidence limit (%)", "percent")),
    ("ci_upper_95", Column("Upper 95% confidence limit (%)", "percent")),
    ("at_risk", Column("Patients at risk", "count")),
]


@dataclass(frozen=True)
class ResultsTable:
    """One results sheet: the levels it shows and its columns."""

    sheet: str
    table_name: str
    title: str
    description: str
    levels: tuple[str, ...]
    hierarchy: str


RESULTS_TABLES = (
    ResultsTable("Table_1_organisations", "organisation_results", "Results by NHS trust and Welsh health board",
                 "Every metric for each NHS trust (England) and health board (Wales), with national comparators, "
                 "case-mix adjustment, funnel-plot limits and outlier status.", ("organisation",), "organisation"),
    ResultsTable("Table_2_alliances", "alliance_results", "Results by Cancer Alliance and Welsh Region",
                 "Every metric for each Cancer Alliance (England) and Welsh Region.", ("alliance",), "alliance"),
    ResultsTable("Table_3_regions", "region_results", "Results by NHS England region",
                 "Every metric for each of the seven NHS England regions.", ("region",), "region"),
    ResultsTable("Table_4_national", "national_results", "National results: England and Wales, England, Wales",
                 "Every metric for England and Wales combined and for each nation.", ("national", "nation"),
                 "national"),
)

# ---------------------------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------------------------


def file_safe_period(period: str) -> str:
    """A period label usable in a file name: 2023/24-2025/26 -> 2023-24_to_2025-26."""
    parts = [p.strip().replace("/", "-") for p in re.split(r"\s*(?:-(?=\d{4})|\bto\b)\s*", period) if p.strip()]
    safe = "_to_".join(parts)
    return re.sub(r"[^A-Za-z0-9_-]+", "_", safe)


def workbook_filename(period: str, version: int | str) -> str:
    """NAoMe_Metrics_Table_<period>_V<n>.xlsx."""
    return f"NAoMe_Metrics_Table_{file_safe_period(period)}_V{version}.xlsx"


def _missing(value: Any) -> bool:
    """True for None, NaN and empty strings."""
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and not value.strip()


def clean_text(value: Any) -> str:
    """A data value as text, with characters XML cannot hold removed."""
    if _missing(value):
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return ILLEGAL_CHARACTERS_RE.sub("", str(value))


def clean_number(value: Any, kind: str) -> int | float | None:
    """A data value as a number (int for counts), or None when empty."""
    if _missing(value) or isinstance(value, bool):
        return None
    number = float(value)
    if math.isnan(number) or math.isinf(number):
        return None
    if kind == "count" and number.is_integer():
        return int(number)
    return number


def _completeness_text(value: Any) -> str:
    """The data-completeness warning as published, empty when there is none."""
    text = clean_text(value)
    if text.lower() in {"", "no", "false", "0", "n"}:
        return ""
    if text.lower() in {"yes", "true", "1", "y"}:
        return "Low completeness"
    return text


def _period_order(results: Results, config: Config) -> list[str]:
    """The pooled period first, then each financial year (never quarters)."""
    frame = results.indicators
    kept = frame.loc[frame["period_type"].isin(["pooled", "financial_year"]), "period"].dropna().unique().tolist()
    preferred = [results.primary_period, *config.financial_years]
    return [p for p in preferred if p in kept] + sorted(p for p in kept if p not in preferred)


def _long_date(value: date) -> str:
    """30 September 2026."""
    return f"{value.day} {value:%B %Y}"


def _fixed_timestamp(results: Results, config: Config) -> datetime:
    """The one timestamp every date in the files uses: the data cut-off, so rebuilding changes nothing."""
    raw = results.meta.get("data_cutoff") or config.section("reporting")["data_cutoff"]
    return datetime.combine(date.fromisoformat(str(raw)[:10]), datetime.min.time())


# ---------------------------------------------------------------------------------------------
# Building the model
# ---------------------------------------------------------------------------------------------


def _subgroup_order(value: str) -> int:
    keys = list(SUBGROUP_LABELS)
    return keys.index(value) if value in keys else len(keys)


def _sorted_results(frame: pd.DataFrame, periods: list[str], registry: Registry) -> pd.DataFrame:
    """Rows in reading order: period, indicator (registry order), subgroup, then the hierarchy by name."""
    order = {ind.id: i for i, ind in enumerate(registry)}
    frame = frame[frame["period"].isin(periods)].copy()
    frame["_p"] = frame["period"].map({p: i for i, p in enumerate(periods)})
    frame["_i"] = frame["indicator_id"].map(order).fillna(len(order))
    frame["_s"] = frame["subgroup"].map(_subgroup_order)
    frame["_n"] = frame["level"].map({"national": 0, "nation": 1}).fillna(2)
    keys = ["_p", "_i", "_s", "_n", "nation", "region_name", "parent_name", "org_name", "org_code"]
    keys = [k for k in keys if k in frame.columns]
    frame = frame.sort_values(keys, kind="mergesort", na_position="first")
    return frame.drop(columns=["_p", "_i", "_s", "_n"])


def _outlier_text(row: dict[str, Any]) -> str:
    """The outlier status in words."""
    status = clean_text(row.get("outlier_status"))
    if status in OUTLIER_LABELS:
        return OUTLIER_LABELS[status]
    note = clean_text(row.get("outlier_note"))
    if status == "not_assessed" or note:
        return "Not assessed" + (f": {OUTLIER_NOTES.get(note, note.replace('_', ' '))}" if note else "")
    return status.replace("_", " ").capitalize()


def _status_text(value: Any) -> str:
    """The status with its shorthand: [c], [u], [x] or [z]."""
    status = clean_text(value)
    return STATUS_LABELS.get(status, status.replace("_", " ").capitalize())




def results_columns(spec: ResultsTable) -> list[tuple[str, Column]]:
    """The (CSV column, table column) pairs of one results table, hierarchy first."""
    columns: list[tuple[str, Column]] = [("period", Column("Period"))]
    if spec.hierarchy == "national":
        columns.append(("level", Column("Level")))
    columns += HIERARCHY_COLUMNS[spec.hierarchy]
    columns += [("indicator_id", Column("Indicator ID")), ("indicator_title", Column("Indicator", "wrap", 45)),
                ("subgroup", Column("Patients"))]
    columns += MEASURE_COLUMNS
    if spec.hierarchy != "national":
        columns += COMPARATOR_COLUMNS
    if spec.hierarchy == "organisation":
        columns += ORGANISATION_COLUMNS + [("outlier_status", Column("Outlier status"))]
    columns += [("completeness_flag", Column("Data completeness warning", "wrap", 36)),
                ("status", Column("Status")), ("status_note", Column("Status note", "wrap", 70))]
    return columns


CODE_LABELS = {"subgroup": SUBGROUP_LABELS, "level": LEVEL_LABELS, "group_type": GROUP_TYPE_LABELS}


def _results_rows(frame: pd.DataFrame, columns: list[tuple[str, Column]], titles: dict[str, str]) -> list[tuple[Any, ...]]:
    """One table row per CSV row, built column by column: each distinct text is converted once."""
    n = len(frame)

    def raw(source: str) -> list[Any]:
        return frame[source].tolist() if source in frame.columns else [None] * n

    def by_distinct(keys: list[Any], convert: Callable[[Any], Any]) -> list[Any]:
        done: dict[Any, Any] = {}
        out = []
        for key in keys:
            typed = (type(key), key)  # 1, 1.0 and True are equal keys but different texts
            if typed not in done:
                done[typed] = convert(key)
            out.append(done[typed])
        return out

    built: list[list[Any]] = []
    for source, column in columns:
        if column.numeric:
            built.append(_numbers(raw(source), column.kind))
        elif source in CODE_LABELS:
            labels = CODE_LABELS[source]
            built.append(by_distinct(raw(source), lambda v, labels=labels: labels.get(clean_text(v), clean_text(v))))
        elif source == "indicator_title":
            pairs = list(zip(raw("indicator_id"), raw(source)))
            built.append(by_distinct(pairs, lambda p: titles.get(str(p[0])) or clean_text(p[1])))
        elif source == "outlier_status":
            pairs = list(zip(raw("outlier_status"), raw("outlier_note")))
            built.append(by_distinct(pairs, lambda p: _outlier_text({"outlier_status": p[0], "outlier_note": p[1]})))
        elif source == "completeness_flag":
            built.append(by_distinct(raw(source), _completeness_text))
        elif source == "status":
            built.append(by_distinct(raw(source), _status_text))
        else:
            built.append(by_distinct(raw(source), clean_text))
    return list(zip(*built)) if built else [() for _ in range(n)]


def _numbers(values: list[Any], kind: str) -> list[int | float | None]:
    """`clean_number` of many values, with the common case (a float) inline."""
    count = kind == "count"
    out: list[int | float | None] = []
    for value in values:
        if type(value) is float:
            if value != value or value in (math.inf, -math.inf):
                out.append(None)
            elif count and value.is_integer():
                out.append(int(value))
            else:
                out.append(value)
        else:
            out.append(clean_number(value, kind))
    return out


def _synthetic_line(results: Results) -> list[Line]:
    if not results.synthetic:
        return []
    return [Line("Synthetic data: these results were computed from a synthetic cohort. They describe no real "
                 "patient or organisation and must not be cited.", "warning")]


def _results_sheet(spec: ResultsTable, results: Results, registry: Registry, periods: list[str]) -> Sheet:
    """One results table sheet."""
    frame = results.indicators
    frame = frame[frame["level"].isin(spec.levels)]
    frame = _sorted_results(frame, periods, registry)
    columns = results_columns(spec)
    titles = {ind.id: ind.title for ind in registry}
    rows = _results_rows(frame, columns, titles)
    lines = [Line(f"{spec.description} Periods: {', '.join(periods)}. An empty number cell has its reason in the "
                  "Status column; shorthand and methods are explained in the Notes sheet."),
             Line("Source: NAoMe analysis of linked routine data (file naome_indicators.csv)."),
             *_synthetic_line(results)]
    return Sheet(spec.sheet, spec.title, lines, [c for _, c in columns], rows, spec.table_name,
                 description=spec.title)


def _survival_sheet(results: Results, registry: Registry, periods: list[str]) -> Sheet:
    """Kaplan-Meier survival at each reported time point."""
    frame = results.survival
    if "period_type" in frame.columns:
        frame = frame[frame["period_type"].isin(["pooled", "financial_year"]) | frame["period_type"].isna()]
    order = {p: i for i, p in enumerate(periods)}
    frame = frame.assign(_p=frame["period"].map(order).fillna(len(order)),
                         _l=frame["level"].map({k: i for i, k in enumerate(LEVEL_LABELS)}).fillna(len(LEVEL_LABELS)))
    keys = [k for k in ["_p", "_l", "nation", "region_name", "parent_name", "org_name", "org_code", "group_type",
                        "group", "time_years"] if k in frame.columns]
    frame = frame.sort_values(keys, kind="mergesort", na_position="first")
    columns: list[tuple[str, Column]] = [
        ("period", Column("Period")), ("level", Column("Level")), ("nation", Column("Nation")),
        ("parent_code", Column("Parent area code")), ("parent_name", Column("Parent area name")),
        ("org_code", Column("Area code")), ("org_name", Column("Area name")),
        ("group_type", Column("Patient grouping")), ("group", Column("Patient group")),
        ("time_years", Column("Years after MBC diagnosis", "general")), *SURVIVAL_COLUMNS,
        ("status", Column("Status")), ("status_note", Column("Status note", "wrap", 70)),
    ]
    rows = _results_rows(frame, columns, {})
    method = registry.survival.get("method", "Kaplan-Meier")
    lines = [Line(f"Percentage of patients alive after diagnosis of MBC. Method: {method}. An empty number cell "
                  "has its reason in the Status column."),
             Line("Source: NAoMe analysis of linked routine data and death registrations (file naome_survival.csv)."),
             *_synthetic_line(results)]
    return Sheet("Table_5_survival", "Survival after diagnosis of metastatic breast cancer", lines,
                 [c for _, c in columns], rows, "survival_results",
                 description="Survival after diagnosis of metastatic breast cancer")


def _not_available_text(ind: Indicator) -> str:
    return "; ".join(f"{u.nation} {', '.join(u.financial_years)}: {u.reason}" for u in ind.not_available) or "None"


def _definitions_sheet(registry: Registry) -> Sheet:
    """Every metric's definition, from the indicator registry."""
    columns = [
        Column("Indicator ID"), Column("Indicator", "wrap", 40), Column("Plain-English title", "wrap", 40),
        Column("QI goal", "count", 9), Column("QI goal title", "wrap", 40), Column("Type"),
        Column("Numerator", "wrap", 50), Column("Denominator", "wrap", 50), Column("Exclusions", "wrap", 40),
        Column("Time window", "wrap", 30), Column("Data source", "wrap", 40), Column("Nations"),
        Column("Not available", "wrap", 40), Column("Direction"), Column("Case-mix adjusted"),
        Column("Assessed for outliers"), Column("Patient subgroups reported", "wrap", 30),
        Column("Evidence", "wrap", 50), Column("Definitions version"),
    ]
    rows = [(
        ind.id, ind.title, ind.plain_title, ind.goal, ind.goal_title, TYPE_LABELS.get(ind.type, ind.type),
        ind.numerator_text, ind.denominator_text, ind.exclusions, ind.window, ind.source, ", ".join(ind.nations),
        _not_available_text(ind), ind.direction_text, "Yes" if ind.is_casemix_adjusted else "No",
        "Yes" if ind.outlier_process else "No",
        ", ".join(["All patients", *(SUBGROUP_LABELS.get(s, s) for s in ind.subgroups)]),
        ind.evidence or "None stated", ind.definitions_version,
    ) for ind in registry]
    surv = registry.survival
    if surv:
        rows.append((
            str(surv.get("id", "survival")), str(surv.get("title", "")), str(surv.get("plain_title", "")),
            int(surv.get("goal", 5)), GOAL_TITLES.get(int(surv.get("goal", 5)), ""),
            TYPE_LABELS.get(str(surv.get("type", "outcome")), "Outcome"),
            "Patients alive at each time point (Kaplan-Meier estimate)", "Patients diagnosed with MBC in the period",
            "None", "From MBC diagnosis to the data cut-off", str(surv.get("source", "")), "England, Wales", "None",
            "Higher is better", "No", "No",
            ", ".join(GROUP_TYPE_LABELS.get(g, g) for g in ["all", *surv.get("groups", [])]),
            str(surv.get("method", "")), registry.definitions_version,
        ))
    lines = [Line("One row per metric, generated from the indicator registry (data/indicators.yaml)."),
             Line(f"Definitions version: {registry.definitions_version}.")]
    return Sheet("Definitions", "Metric definitions", lines, columns, rows, "metric_definitions",
                 description="Metric definitions: numerator, denominator, exclusions, window, source, evidence")


def _notes(results: Results, registry: Registry, config: Config) -> list[tuple[str, str]]:
    """The notes: shorthand, methods and where other data are."""
    disclosure = config.raw.get("disclosure", {})
    low, high = disclosure.get("suppress_low", 1), disclosure.get("suppress_high", 4)
    min_den = disclosure.get("min_denominator", 10)
    threshold = disclosure.get("completeness_threshold", 0.7)
    methods = sorted({clean_text(m) for m in results.indicators.get("funnel_method", pd.Series(dtype=str)) if clean_text(m)})
    funnel = "; ".join(methods) if methods else f"{config.raw.get('funnel', {}).get('method', 'binomial')} limits"
    casemix = sorted({c for ind in registry if ind.casemix for c in ind.casemix.get("covariates", [])})
    data_note = ("These results were computed from the synthetic cohort bundled with naome-report. They describe "
                 "no real patient or organisation." if results.synthetic else
                 "These results were computed from the linked routine data of the audit.")
    return [
        ("[c]", f"Suppressed: counts from {low} to {high}, and any value derived from them, are not shown; other "
                "values are suppressed too where a suppressed count could be worked out by subtraction."),
        ("[u]", f"Too few patients: no percentage is shown where the denominator is under {min_den}."),
        ("[x]", "Not available: the data were not collected for this nation or period (for example, some items "
                "are not available for Wales in some years)."),
        ("[z]", "Not applicable: the metric does not apply to this group (for example, a Welsh health board for a "
                "metric that covers England only)."),
        ("Empty cells", "A suppressed or unavailable number is an empty cell with the reason in the Status column. "
                        "A column that does not apply to a metric (for example median days, or case-mix figures "
                        "for process measures) is empty too, as are the NHS England region columns for "
                        "Wales."),
        ("Periods", f"Results are given for the pooled audit period ({results.primary_period}) and for each "
                    "financial year (1 April to 31 March) of diagnosis. Quarterly results are not in this workbook: "
                    "they are in the static data file naome_run_charts.csv, with run-chart limits."),
        ("Percentages", "Percentages are stored to full precision on a 0 to 100 scale and shown to one decimal "
                        "place."),
        ("Confidence intervals", "95% confidence intervals of percentages use the Wilson score method; survival "
                                 "intervals use the log-log transformation."),
        ("Funnel limits", f"Funnel-plot control limits at 95% and 99.8% around the national value. Method: {funnel}."),
        ("Outliers", "Following the HQIP NCAPOP outlier guidance (January 2024), an organisation beyond the 95% "
                     "limit is an alert and beyond the 99.8% limit an alarm, in either direction. Only NHS trusts "
                     "and Welsh health boards are assessed."),
        ("Case-mix adjustment", "Outcome metrics are adjusted by logistic regression on "
                                f"{', '.join(c.replace('_', ' ') for c in casemix) or 'patient factors'}. "
                                "Adjusted percentage = observed / expected x national percentage."),
        ("Data completeness", f"A metric is flagged where the data item it depends on is recorded for fewer than "
                              f"{threshold:.0%} of patients; its results may be unreliable."),
        ("Organisations", "Patients are allocated to the organisation of diagnosis (or, for 30-day mortality "
                          "after systemic anti-cancer therapy, the organisation that gave the last treatment). "
                          "The organisation lookup is dated reference data: trusts merge and alliances change."),
        ("Data", data_note),
        ("Static data files", "The same results, and more, are published as CSV files with a data dictionary "
                              "(naome_indicators.csv, naome_survival.csv, naome_run_charts.csv)."),
    ]


def _notes_sheet(results: Results, registry: Registry, config: Config) -> Sheet:
    rows = [(key, text) for key, text in _notes(results, registry, config)]
    return Sheet("Notes", "Notes", [Line("Shorthand used in the tables, and notes on methods.")],
                 [Column("Note", width=22), Column("Note text", "wrap", 100)], rows, "notes_table",
                 description="Notes: shorthand ([c], [u], [x], [z]) and methods")


def _cover_sheet(results: Results, registry: Registry, config: Config, periods: list[str]) -> Sheet:
    """The cover: what the workbook holds, period, sources, contact, version and date."""
    audit = config.section("audit")
    cutoff = date.fromisoformat(str(results.meta.get("data_cutoff") or config.data_cutoff)[:10])
    years = [p for p in periods if p != results.primary_period]
    lines = [
        Line("This workbook contains the definition of every metric of the National Audit of Metastatic Breast "
             "Cancer (NAoMe) and its results for each NHS trust, Welsh health board, Cancer Alliance and Welsh "
             "Region, NHS England region and nation."),
        *_synthetic_line(results),
        Line("Reporting period", "heading"),
        Line(f"People diagnosed with metastatic breast cancer in England and Wales in the financial years "
             f"{', '.join(years) or results.primary_period} (pooled as {results.primary_period}), with follow-up to "
             f"the data cut-off of {_long_date(cutoff)}."),
        Line("Data sources", "heading"),
        Line("Linked routine data. England: Cancer Outcomes and Services Dataset (COSD), national cancer "
             "registration data, Systemic Anti-Cancer Therapy dataset (SACT), Radiotherapy Dataset (RTDS), Hospital "
             "Episode Statistics (HES), ONS death registrations and the National Cancer Patient Experience Survey. "
             "Wales: the Welsh Cancer Dataset Form (CaNISC) and the Patient Episode Database for Wales (PEDW). "
             "The source of each metric is given in the Definitions sheet."),
        Line("How to use this workbook", "heading"),
        Line("The Contents sheet links to every sheet. Each table has one header row and can be sorted and "
             "filtered. Shorthand and methods are explained in the Notes sheet."),
        Line("Contact", "heading"),
        Line(f"{audit.get('publisher', '')}: {audit.get('contact', '')}", link=f"mailto:{audit.get('contact', '')}"),
        Line("Version and date", "heading"),
        Line(f"Version {audit.get('output_version', 1)}. Indicator definitions version "
             f"{results.meta.get('definitions_version') or registry.definitions_version}. Data cut-off "
             f"{_long_date(cutoff)}."),
    ]
    title = f"{audit.get('name', 'National Audit of Metastatic Breast Cancer')} metrics table, {results.primary_period}"
    return Sheet("Cover", title, lines, description="Cover: about this workbook")


def _contents_sheet(others: list[Sheet]) -> Sheet:
    """Links to every sheet, this one included, in workbook order."""
    rows = [(s.name, s.description or s.title) for s in others]
    rows.insert(1, ("Contents", "Contents: links to every sheet"))
    return Sheet("Contents", "Contents", [Line("Select a sheet name to go to it.")],
                 [Column("Sheet name", width=24), Column("Sheet contents", "wrap", 80)], rows, "contents_table",
                 links={i: row[0] for i, row in enumerate(rows)}, description="Contents")


def _announce_table(sheet: Sheet) -> None:
    """Start the line under the title by saying the sheet holds one table (for screen-reader users)."""
    first = sheet.lines[0]
    sheet.lines[0] = Line(f"This worksheet contains one table. {first.text}", first.style, first.link)


def build_model(results: Results, registry: Registry, config: Config) -> WorkbookModel:
    """The whole workbook as a table model, ready for either writer."""
    periods = _period_order(results, config)
    body = [_notes_sheet(results, registry, config), _definitions_sheet(registry),
            *(_results_sheet(spec, results, registry, periods) for spec in RESULTS_TABLES),
            _survival_sheet(results, registry, periods)]
    cover = _cover_sheet(results, registry, config, periods)
    contents = _contents_sheet([cover, *body])
    for sheet in [contents, *body]:
        _announce_table(sheet)
    audit = config.section("audit")
    props = DocProperties(
        title=cover.title, subject="Metastatic breast cancer audit metrics, England and Wales",
        creator=str(audit.get("publisher", "")), company=str(audit.get("publisher", "")),
        keywords="NAoMe, metastatic breast cancer, national audit, NATCAN, quality indicators, England, Wales",
        description=("Synthetic data: no real patients. " if results.synthetic else "") + cover.lines[0].text,
        timestamp=_fixed_timestamp(results, config),
    )
    return WorkbookModel([cover, contents, *body], props)


# ---------------------------------------------------------------------------------------------
# Excel writer
# ---------------------------------------------------------------------------------------------

TITLE_FONT = Font(bold=True, size=15)
HEADING_FONT = Font(bold=True, size=13)
WARNING_FONT = Font(bold=True)
HEADER_FONT = Font(bold=True)
LINK_FONT = Font(underline="single", color="0563C1")
WRAP = Alignment(wrap_text=True, vertical="top")
TOP = Alignment(vertical="top")
TEXT = Alignment(vertical="top", horizontal="left", indent=1)
WRAPPED_TEXT = Alignment(wrap_text=True, vertical="top", horizontal="left", indent=1)


def column_widths(sheet: Sheet) -> list[float]:
    """Width of each column in characters: the given width, else fitted to header and content."""
    cached = sheet._layout.get("widths")
    if cached is not None:
        return list(cached)
    widths = []
    for j, column in enumerate(sheet.columns):
        if column.width:
            widths.append(column.width)
            continue
        longest_word = max((len(w) for w in column.header.split()), default=8)
        content = _longest_display([row[j] for row in sheet.rows], column)
        header_width = min(len(column.header), max(14, longest_word))
        cap = 40 if column.kind == "wrap" else 45
        widths.append(float(min(cap, max(8, header_width, content) + 2)))
    sheet._layout["widths"] = tuple(widths)
    return widths


def _longest_display(values: list[Any], column: Column) -> int:
    """The length of the longest `_display` of a column's values, without formatting every one of them.

    A number shown to fixed decimals never gets shorter as its size grows, so among the numbers only the
    largest and the most negative can be the longest; repeated texts are measured once.
    """
    if not values:
        return 0
    if column.numeric:
        numbers = [v for v in values if isinstance(v, (int, float))]
        others = {v for v in values if not isinstance(v, (int, float))}
        if any(v != v for v in numbers):  # NaN: no order, measure every value
            return max(len(_display(v, column)) for v in values)
        longest = max((len(_display(v, column)) for v in (min(numbers), max(numbers))), default=0) if numbers else 0
        return max([longest, *(len(_display(v, column)) for v in others)])
    try:
        distinct = set(values)
    except TypeError:  # unhashable values: measure each
        distinct = values
    return max(len(_display(v, column)) for v in distinct)


LINE_POINTS = 15.0
CHARACTERS_PER_WIDTH = 1.1  # average text characters per unit of column width (the width of a zero)
TITLE_POINTS = 21.0
COVER_WIDTH = 100.0


_LINES_CACHE: dict[tuple[str, float], int] = {}


def _lines_needed(text: str, width: float) -> int:
    """How many lines a wrapped text takes in a column of this width (characters); each text measured once."""
    key = (text, width)
    found = _LINES_CACHE.get(key)
    if found is None:
        usable = max(int(width * CHARACTERS_PER_WIDTH) - 2, 4)
        found = sum(1 if len(part) <= usable and "\t" not in part else max(1, len(textwrap.wrap(part, usable)))
                    for part in str(text).split("\n"))
        if len(_LINES_CACHE) > 100_000:
            _LINES_CACHE.clear()
        _LINES_CACHE[key] = found
    return found


def row_heights(sheet: Sheet, widths: list[float]) -> dict[int, float]:
    """Heights (points) of the rows whose wrapped text needs more than one line, by 1-based row number.

    Spreadsheet programs do not all re-fit row heights on opening a file, so wrapped rows get an explicit height.
    """
    cached = sheet._layout.get(("heights", tuple(widths)))
    if cached is not None:
        return dict(cached)
    heights = _row_heights(sheet, widths)
    sheet._layout[("heights", tuple(widths))] = dict(heights)
    return heights


def _row_heights(sheet: Sheet, widths: list[float]) -> dict[int, float]:
    heights: dict[int, float] = {}
    if not sheet.columns:  # the cover: wrapped lines in one wide column
        for i, line in enumerate(sheet.lines, start=2):
            scale = 1.2 if line.style == "heading" else 1.0
            lines = _lines_needed(line.text, COVER_WIDTH * (0.85 if line.style != "text" else 1.0))
            if lines > 1 or scale > 1:
                heights[i] = LINE_POINTS * lines * scale
        return heights
    wrapped = [j for j, c in enumerate(sheet.columns) if c.kind == "wrap"]
    header = max(_lines_needed(c.header, w) for c, w in zip(sheet.columns, widths))
    if header > 1:
        heights[sheet.header_row] = LINE_POINTS * header
    for i, row in enumerate(sheet.rows, start=sheet.header_row + 1):
        lines = max((_lines_needed(row[j], widths[j]) for j in wrapped if row[j]), default=1)
        if lines > 1:
            heights[i] = LINE_POINTS * lines
    return heights


def _display(value: Any, column: Column) -> str:
    """Roughly how a value is shown, to size its column."""
    if value is None:
        return ""
    if column.numeric and isinstance(value, (int, float)):
        decimals = {"count": 0, "percent": 1, "ratio": 2, "decimal": 1}.get(column.kind, 2)
        return f"{value:,.{decimals}f}"
    return str(value)


FORMULA_STARTS = ("=", "+", "-", "@")


def _write_text(ws, row: int, col: int, text: str):
    """A cell that is text whatever it starts with (never a formula)."""
    cell = ws.cell(row=row, column=col)
    cell.value = clean_text(text)
    cell.data_type = "s"
    if cell.value.startswith(FORMULA_STARTS):
        cell.quotePrefix = True  # stays text when a user edits the cell, as if typed with a leading '
    return cell


def _write_lines(ws, sheet: Sheet) -> None:
    _write_text(ws, 1, 1, sheet.title).font = TITLE_FONT
    for i, line in enumerate(sheet.lines, start=2):
        cell = _write_text(ws, i, 1, line.text)
        if line.style == "heading":
            cell.font = HEADING_FONT
        elif line.style == "warning":
            cell.font = WARNING_FONT
        if line.link:
            cell.hyperlink = line.link
            cell.font = LINK_FONT


def _column_styles(ws, sheet: Sheet) -> list[Any]:
    """Each column's cell style (number format, alignment), registered with the workbook once."""
    styles = []
    for column in sheet.columns:
        probe = Cell(ws)
        if column.numeric:
            probe.number_format = NUMBER_FORMATS[column.kind]
        probe.alignment = TOP if column.numeric else WRAPPED_TEXT if column.kind == "wrap" else TEXT
        styles.append(probe._style)
    return styles


def _write_body(ws, sheet: Sheet) -> None:
    """The table's data rows as openpyxl cells (small tables with links); empty values make no cell."""
    styles = _column_styles(ws, sheet)
    kinds = [(j, "n" if c.numeric else "s", styles[j - 1]) for j, c in enumerate(sheet.columns, start=1)]
    cells = ws._cells  # direct: openpyxl's per-cell setters dominate the time of large tables
    for i, row in enumerate(sheet.rows, start=sheet.header_row + 1):
        for (j, data_type, style), value in zip(kinds, row):
            if value is None or value == "":
                continue
            cell = Cell(ws, row=i, column=j)
            cell._value = value if data_type == "n" else clean_text(value)
            cell.data_type = data_type
            cell._style = copy(style)
            if data_type == "s" and cell._value.startswith(FORMULA_STARTS):
                cell._style.quotePrefix = 1  # stays text when a user edits the cell
            cells[(i, j)] = cell


def _write_table(ws, sheet: Sheet, stream: bool) -> list[Any] | None:
    """Header, body and table object. Returns the column styles when the body is left to `_BodyWriter`."""
    top = sheet.header_row
    for j, column in enumerate(sheet.columns, start=1):
        cell = _write_text(ws, top, j, column.header)
        cell.font, cell.alignment = HEADER_FONT, WRAP
    streamed = None
    if sheet.links or not stream:
        _write_body(ws, sheet)
    else:
        streamed = _column_styles(ws, sheet)  # registered now, in the same order as cells would register them
    for index, target in sheet.links.items():
        cell = ws.cell(row=top + 1 + index, column=1)
        cell.hyperlink = Hyperlink(ref=cell.coordinate, location=f"'{target}'!A1", display=str(cell.value))
        cell.font = LINK_FONT
    table = Table(displayName=sheet.table_name, ref=sheet.ref, headerRowCount=1)
    table.tableColumns = [TableColumn(id=j, name=c.header) for j, c in enumerate(sheet.columns, start=1)]
    table.tableStyleInfo = TableStyleInfo(name="TableStyleLight1", showRowStripes=True)
    ws.add_table(table)
    return streamed


def _write_sheet(wb: Workbook, sheet: Sheet, stream: bool = True) -> list[Any] | None:
    """One worksheet; returns the body's column styles when its rows are streamed at save time."""
    ws = wb.create_sheet(sheet.name)
    _write_lines(ws, sheet)
    widths = column_widths(sheet) if sheet.columns else [COVER_WIDTH]
    streamed = None
    if sheet.columns:
        streamed = _write_table(ws, sheet, stream)
    else:
        for row in ws.iter_rows(min_row=2, max_col=1):
            row[0].alignment = WRAP
    for j, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(j)].width = width
    body_starts = sheet.header_row + 1 if streamed is not None else None
    for row, height in row_heights(sheet, widths).items():
        if body_starts is None or row < body_starts:
            ws.row_dimensions[row].height = height
    ws.row_dimensions[1].height = TITLE_POINTS
    _page_setup(ws)
    return streamed


def _page_setup(ws) -> None:
    """Print landscape, one page wide."""
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True


def _set_properties(wb: Workbook, props: DocProperties) -> None:
    p = wb.properties
    p.title, p.subject, p.creator, p.keywords = props.title, props.subject, props.creator, props.keywords
    p.description, p.lastModifiedBy, p.language = props.description, props.creator, "en-GB"
    p.created = p.modified = props.timestamp
    p.category = "Official statistics (audit)"


def render_xlsx(model: WorkbookModel, stream_bodies: bool = True) -> bytes:
    """The workbook as .xlsx bytes, deterministic.

    `stream_bodies=False` makes every cell an openpyxl cell: the slow reference the fast path must equal.
    """
    wb = Workbook()
    wb.remove(wb.active)
    streamed: dict[str, tuple[Sheet, list[Any]]] = {}
    for sheet in model.sheets:
        styles = _write_sheet(wb, sheet, stream_bodies)
        if styles is not None:
            streamed[sheet.name] = (sheet, styles)
    wb.active = 0
    _set_properties(wb, model.properties)
    buffer = io.BytesIO()
    # Stored, not deflated: deterministic_zip compresses every entry once, at the end.
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        _BodyWriter(wb, archive, streamed).save()  # not save_workbook(): that stamps the modified date from the clock
    replace = {"docProps/app.xml": _app_xml(model.properties.company)}
    return deterministic_zip(buffer.getvalue(), model.properties.timestamp, replace, zipfile.ZIP_DEFLATED)


class _BodyWriter(ExcelWriter):
    """openpyxl's writer, except that the rows of big tables are written as XML text.

    openpyxl spends most of a large workbook's time on one cell object per value (tens of microseconds
    each). Here openpyxl writes everything else (titles, headers, column widths, tables, page set-up,
    styles) and the body rows are added to each sheet's XML as the same markup openpyxl would write:
    inline strings, the same number formatting and the same style ids, registered in the same order.
    """

    def __init__(self, workbook: Workbook, archive: zipfile.ZipFile, streamed: dict[str, tuple[Sheet, list[Any]]]):
        super().__init__(workbook, archive)
        self.streamed = streamed

    def write_worksheet(self, ws) -> None:
        if ws.title not in self.streamed:
            super().write_worksheet(ws)
            return
        ws._drawing = SpreadsheetDrawing()
        ws._drawing.charts = ws._charts
        ws._drawing.images = ws._images
        writer = WorksheetWriter(ws, out=io.BytesIO())
        writer.write()
        ws._rels = writer._rels
        sheet, styles = self.streamed[ws.title]
        body, last_row = _body_xml(sheet, styles, self.workbook._cell_styles)
        self._archive.writestr(ws.path[1:], _splice_body(writer.read(), sheet, body, last_row))
        self.manifest.append(ws)


def _splice_body(xml: bytes, sheet: Sheet, body: str, last_row: int) -> bytes:
    """Put the body rows at the end of sheetData and make the sheet's dimension cover them."""
    end = xml.rindex(b"</sheetData>")
    xml = xml[:end] + body.encode("ascii") + xml[end:]
    dimension = f'<dimension ref="A1:{get_column_letter(max(1, len(sheet.columns)))}{last_row}"/>'.encode()
    return re.sub(rb'<dimension ref="[^"]*"/>', lambda _: dimension, xml, count=1)


def _xml_text(text: str) -> str:
    """Element text as openpyxl's lxml writer escapes it: markup characters, CR, and all non-ASCII as references."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")
    return text.encode("ascii", "xmlcharrefreplace").decode("ascii")


def _number_text(value: Any) -> str:
    """A number as openpyxl writes it (16 significant digits)."""
    if isinstance(value, NUMERIC_TYPES):
        return "" if math.isnan(value) or math.isinf(value) else "%.16g" % value
    return _xml_text(safe_string(value))


def _body_xml(sheet: Sheet, styles: list[Any], registry: Any) -> tuple[str, int]:
    """The table's data rows as worksheet XML, and the last row that has a cell.

    `registry` is the workbook's list of cell styles: each style gets its id when it is first used, as it
    would when openpyxl writes cell by cell.
    """
    heights = row_heights(sheet, column_widths(sheet))
    first = sheet.header_row + 1
    letters = [get_column_letter(j) for j in range(1, len(sheet.columns) + 1)]
    numeric = [c.numeric for c in sheet.columns]
    ids: dict[tuple[int, bool], int] = {}
    texts: dict[str, str] = {}

    def style_id(j: int, quoted: bool) -> int:
        key = (j, quoted)
        if key not in ids:
            style = copy(styles[j])
            if quoted:
                style.quotePrefix = 1
            ids[key] = registry.add(style)
        return ids[key]

    def text_xml(value: str) -> str:
        found = texts.get(value)
        if found is None:
            space = ' xml:space="preserve"' if value != value.strip() else ""
            found = texts[value] = f"<is><t{space}>{_xml_text(value)}</t></is>" if value else ""
        return found

    cleaned: dict[str, str] = {}
    out: list[str] = []
    last_row = sheet.header_row
    for i, row in enumerate(sheet.rows, start=first):
        cells: list[str] = []
        for j, value in enumerate(row):
            if value is None or value == "":
                continue
            if numeric[j]:
                cells.append(f'<c r="{letters[j]}{i}" s="{style_id(j, False)}" t="n"><v>{_number_text(value)}</v></c>')
            else:
                if type(value) is str:
                    text = cleaned.get(value)
                    if text is None:
                        text = cleaned[value] = clean_text(value)
                else:
                    text = clean_text(value)
                sid = style_id(j, text.startswith(FORMULA_STARTS))
                cells.append(f'<c r="{letters[j]}{i}" s="{sid}" t="inlineStr">{text_xml(text)}</c>')
        height = heights.get(i)
        if not cells and height is None:
            continue
        attrs = f' ht="{safe_string(height)}" customHeight="1"' if height is not None else ""
        out.append(f'<row r="{i}"{attrs}>{"".join(cells)}</row>' if cells else f'<row r="{i}"{attrs}/>')
        if cells:
            last_row = i
    return "".join(out), last_row


def _app_xml(company: str) -> bytes:
    """docProps/app.xml with the author organisation (openpyxl does not write Company)."""
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties">'
            f"<Application>Microsoft Excel</Application><Company>{escape(company)}</Company>"
            "<DocSecurity>0</DocSecurity><LinksUpToDate>false</LinksUpToDate><SharedDoc>false</SharedDoc>"
            "<HyperlinksChanged>false</HyperlinksChanged></Properties>").encode("utf-8")


def deterministic_zip(data: bytes, when: datetime, replace: dict[str, bytes] | None = None,
                      compression: int | None = None) -> bytes:
    """The same archive with every entry dated `when`, in the same order, with fixed attributes.

    Entries keep their compression unless `compression` is given for all of them.
    """
    replace = replace or {}
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    stamp = (max(when.year, 1980), when.month, when.day, when.hour, when.minute, when.second)
    with zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=stamp)
            entry.compress_type = info.compress_type if compression is None else compression
            entry.create_system = 3
            entry.external_attr = 0o644 << 16
            target.writestr(entry, replace.get(info.filename, source.read(info.filename)), compresslevel=6)
    return out.getvalue()


# ---------------------------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------------------------


def build_workbook(results: Results, registry: Registry, config: Config, out_dir: Path) -> list[Path]:
    """Write the metrics table as .xlsx and .ods into out_dir; return both paths."""
    from naome_report.publish.ods import render_ods

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    model = build_model(results, registry, config)
    xlsx = out_dir / workbook_filename(results.primary_period, config.section("audit").get("output_version", 1))
    ods = xlsx.with_suffix(".ods")
    xlsx.write_bytes(render_xlsx(model))
    ods.write_bytes(render_ods(model))
    return [xlsx, ods]
