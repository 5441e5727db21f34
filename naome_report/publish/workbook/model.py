"""What the metrics table holds: its sheets, their lines and tables, each cell's value or shorthand, and the notes."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Callable

import numpy as np
import pandas as pd

from naome_report.config import Config
from naome_report.hub import Results
from naome_report.outlier_process import load_outlier_process
from naome_report.registry import GOAL_TITLES, Indicator, Registry
from naome_report.vocabulary import (
    COMPARISON,
    FUNNEL_POSITION,
    INDICATOR_TYPE,
    LEVEL,
    NOT_ASSESSED_REASON,
    OUTLIER_STATUS,
    PATIENT_FACTOR,
    STATUS,
    SUBGROUP,
)

NUMBER_KINDS = ("count", "percent", "ratio", "decimal", "general")
# Control characters XML 1.0 cannot hold (tab, line feed and carriage return it can).
XML_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
TEXT_KINDS = ("text", "wrap")
# Shorthand of the Analysis Function's "Symbols in tables" standard used here.
SHORTHAND = {
    "[c]": "Confidential: suppressed to protect confidentiality (small numbers)",
    "[u]": "Low reliability: too few patients for a reliable percentage",
    "[x]": "Not available: the data were not collected or could not be computed",
    "[z]": "Not applicable: the measure does not apply to this row",
}


# ---------------------------------------------------------------------------------------------
# The model both writers render
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """One table column: its header, what it holds (text or a number kind) and its width in characters."""

    header: str
    kind: str = "text"
    width: float | None = None

    @property
    def numeric(self) -> bool:
        return self.kind in NUMBER_KINDS


@dataclass(frozen=True)
class Line:
    """A line of text above a table (or on the cover): plain, heading or warning, optionally a link."""

    text: str
    style: str = "text"
    link: str | None = None


@dataclass
class Sheet:
    """One worksheet: a title in A1, lines of information below it, then at most one named table.

    A numeric column holds numbers, or shorthand text ([c], [u], [x], [z]) where there is no number.
    `key_columns` (first, last), 0-based, identify a row: they are repeated on every printed page.
    """

    name: str
    title: str
    lines: list[Line]
    columns: list[Column] = field(default_factory=list)
    rows: list[tuple[Any, ...]] = field(default_factory=list)
    table_name: str | None = None
    links: dict[int, str] = field(default_factory=dict)  # row index -> sheet the first cell links to
    description: str = ""
    key_columns: tuple[int, int] | None = None

    @property
    def header_row(self) -> int:
        """1-based row of the table's header (titles and lines end just above it)."""
        return 2 + len(self.lines)

    @property
    def last_row(self) -> int:
        """1-based last row of the table (the header row and at least one body row)."""
        return self.header_row + max(1, len(self.rows))


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
# Notes: numbered in the order they are first referred to, with the sheets that refer to them
# ---------------------------------------------------------------------------------------------


class Notes:
    """The notes table: `ref(key, sheet)` gives the [note N] marker and records where it is used."""

    def __init__(self, texts: dict[str, str]) -> None:
        self.texts = texts
        self.numbers: dict[str, int] = {}
        self.used_in: dict[str, list[str]] = {}

    def ref(self, key: str, sheet: str) -> str:
        if key not in self.texts:
            raise KeyError(f"no note {key!r}; notes: {', '.join(self.texts)}")
        number = self.numbers.setdefault(key, len(self.numbers) + 1)
        where = self.used_in.setdefault(key, [])
        if sheet not in where:
            where.append(sheet)
        return f"[note {number}]"

    def rows(self) -> list[tuple[str, str, str]]:
        """(marker, text, sheets that refer to it), in number order."""
        ordered = sorted(self.numbers, key=self.numbers.get)
        return [(f"[note {self.numbers[k]}]", self.texts[k], ", ".join(self.used_in[k])) for k in ordered]


FUNNEL_METHODS = {"binomial": "exact binomial (Spiegelhalter 2005)", "wilson": "inverted Wilson score (Fingertips)"}


def _note_texts(results: Results, registry: Registry, config: Config) -> dict[str, str]:
    """Every note the workbook may refer to, keyed by what it is about."""
    disclosure = config.section("disclosure")
    funnel = config.section("funnel")
    covariates = sorted({c for ind in registry if ind.casemix for c in ind.casemix.get("covariates", [])},
                        key=lambda c: list(PATIENT_FACTOR).index(c) if c in PATIENT_FACTOR else len(PATIENT_FACTOR))
    adjusted_for = ", ".join(PATIENT_FACTOR[c].long if c in PATIENT_FACTOR else c for c in covariates)
    guidance = load_outlier_process(config).guidance
    return {
        "periods": f"Results are given for the pooled audit period ({results.primary_period}) and for each financial "
                   "year (1 April to 31 March) of diagnosis. Quarterly results are not in this workbook: they are in "
                   "the static data file naome_run_charts.csv, with run-chart limits.",
        "allocation": "Patients are allocated to the organisation that diagnosed their metastatic breast cancer (for "
                      "30-day mortality after systemic anti-cancer therapy, the organisation that gave the last "
                      "treatment). The organisation lookup is dated reference data: trusts merge and alliances change.",
        "disclosure": f"Counts from {disclosure['suppress_low']} to {disclosure['suppress_high']}, and any value "
                      "derived from them, are replaced by [c]; other values are replaced by [c] too where a "
                      "suppressed count could be worked out by subtraction. Where the denominator is under "
                      f"{disclosure['min_denominator']} patients the percentage is replaced by [u].",
        "ci": "95% confidence intervals of percentages use the Wilson score method.",
        "national": "The national percentage is the England and Wales value of the same indicator, period and patient "
                    "group (the England value where the indicator covers England only).",
        "comparison": "Compared with national (or comparator): better, similar or worse for indicators where a higher "
                      "or a lower value is better; higher, similar or lower for indicators with no preferred "
                      "direction. Organisations are compared through their position against the 95% funnel limits; "
                      "other areas through whether their 95% confidence interval excludes the value compared with.",
        "comparator": "The comparator is the unit a reader should compare with: an English trust's Cancer Alliance; "
                      "a Welsh health board's Welsh region where that region has more than one board, otherwise "
                      "Wales; a Cancer Alliance's NHS England region (Wales for a Welsh region); a region's nation.",
        "change": "Change since the previous financial year in percentage points, with its 95% confidence interval "
                  "(Newcombe hybrid score method). The pooled period and the first financial year have no previous "
                  "year ([z]).",
        "casemix": f"Outcome indicators are adjusted for case mix by logistic regression on {adjusted_for or 'patient factors'}. "
                   "Expected number = the sum of each patient's predicted probability; adjusted percentage = "
                   "observed / expected x national percentage.",
        "funnel": "Funnel-plot control limits at 95% and 99.8% around the national value (the case-mix adjusted "
                  "expectation for outcome indicators), for this organisation's number of patients, calculated from "
                  f"the true counts. Limits are {FUNNEL_METHODS.get(funnel['method'], funnel['method'])}, widened "
                  "for overdispersion "
                  "where organisations vary more than chance allows; the method of each row, with its dispersion "
                  "estimate, is in the column Funnel limits method (and in naome_funnel_parameters.csv).",
        "position": "Position against the funnel limits is shown for every indicator with a rate, for local quality "
                    "improvement; it does not by itself make an organisation an outlier.",
        "outlier": f"Following the {guidance}, an organisation beyond the 95% limit of an indicator in the audit's outlier "
                   "process is an alert and beyond the 99.8% limit an alarm, in either direction. Only NHS trusts "
                   "and Welsh health boards are assessed, never individual clinicians.",
        "completeness": f"An indicator is flagged where a data item it depends on is recorded for fewer than "
                        f"{disclosure['completeness_threshold']:.0%} of patients; its results may be unreliable.",
        "survival": f"Percentage of patients alive after diagnosis of metastatic breast cancer: "
                    f"{registry.survival.get('method', 'Kaplan-Meier')}.",
        "definitions": f"Every definition comes from the indicator registry (data/indicators.yaml), version "
                       f"{registry.definitions_version}. Definitions marked reconstructed could not be checked "
                       "against an official NAoMe document.",
        "files": "The same results, and more, are published as CSV files with a data dictionary (naome_indicators.csv, "
                 "naome_survival.csv, naome_run_charts.csv).",
    }


# ---------------------------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------------------------


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
    return XML_ILLEGAL.sub("", str(value))


def long_date(value: date) -> str:
    """30 September 2026."""
    return f"{value.day} {value:%B %Y}"


def _periods(results: Results, config: Config) -> list[str]:
    """The pooled period first, then each financial year (never quarters)."""
    frame = results.indicators
    kept = frame.loc[frame["period_type"].isin(["pooled", "financial_year"]), "period"].dropna().unique().tolist()
    preferred = [results.primary_period, *config.financial_years]
    return [p for p in preferred if p in kept] + sorted(p for p in kept if p not in preferred)


def _fixed_timestamp(results: Results, config: Config) -> datetime:
    """The one timestamp every date in the files uses: the data cut-off, so rebuilding changes nothing."""
    raw = results.meta.get("data_cutoff") or config.section("reporting")["data_cutoff"]
    return datetime.combine(date.fromisoformat(str(raw)[:10]), datetime.min.time())


def _words(vocabulary: dict[str, Any], column: str) -> Callable[[Any], str]:
    """Code -> short label; an empty code is [z]; an unknown code stops the build naming the column."""
    def convert(code: Any) -> str:
        text = clean_text(code)
        if not text:
            return "[z]"
        if text not in vocabulary:
            raise KeyError(f"{column}: unknown code {text!r}; known: {', '.join(vocabulary)}")
        return vocabulary[text].short
    return convert


def _yes_no(code: Any) -> str:
    text = clean_text(code).lower()
    return {"yes": "Yes", "no": "No"}.get(text, "[z]" if not text else text)


def _outlier_status(pair: tuple[Any, Any]) -> str:
    """The HQIP outlier status in words, with the reason when an organisation was not assessed."""
    status, note = clean_text(pair[0]), clean_text(pair[1])
    if not status:
        return "[z]"
    words = _words(OUTLIER_STATUS, "outlier_status")(status)
    if status == "not_assessed" and note:
        words += f": {NOT_ASSESSED_REASON.get(note, note.replace('_', ' '))}"
    return words


def _completeness(value: Any) -> str:
    text = clean_text(value)
    if text.lower() in {"", "no", "false", "0", "n"}:
        return "Not flagged"
    return "Low completeness" if text.lower() in {"yes", "true", "1", "y"} else text


def _text_or_z(value: Any) -> str:
    return clean_text(value) or "[z]"


def _synthetic_line(results: Results) -> list[Line]:
    if not results.synthetic:
        return []
    return [Line("Synthetic data: these results were computed from a synthetic cohort. They describe no real "
                 "patient or organisation and must not be cited.", "warning")]


# ---------------------------------------------------------------------------------------------
# Results tables: which CSV column feeds which table column, and how
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Field:
    """One table column and where its values come from.

    `convert` turns a text column's CSV value into what the cell shows (default: the text, [z] when empty).
    In a number column or a text result, an empty cell gets the shorthand of why (see `_gap_shorthand`);
    `published_gap` is that of a published row whose indicator has this measure ([x] unless the measure can
    be undefined for a row, like a change since the previous year).
    """

    source: str
    header: str
    kind: str = "text"
    width: float | None = None
    note: str | None = None
    convert: Callable[[Any], Any] | None = None
    published_gap: str = "[x]"
    pair: str | None = None  # a second CSV column passed with the first to `convert`
    result: bool = False  # a text result (a comparison, a position): an empty cell says why, as a number's does

    @property
    def gaps_explained(self) -> bool:
        return self.result or self.kind in NUMBER_KINDS


def _hierarchy(spec: str) -> list[Field]:
    alliance = [Field("parent_code", "Cancer Alliance or Welsh Region code"),
                Field("parent_name", "Cancer Alliance or Welsh Region name", "wrap", 30)]
    region = [Field("region_code", "NHS England region code"), Field("region_name", "NHS England region name")]
    if spec == "organisation":
        return [Field("nation", "Nation"), *region, *alliance, Field("org_code", "Organisation code"),
                Field("org_name", "Organisation name", "wrap", 40)]
    if spec == "alliance":
        return [Field("nation", "Nation"), *region, Field("org_code", "Cancer Alliance or Welsh Region code"),
                Field("org_name", "Cancer Alliance or Welsh Region name", "wrap", 30)]
    if spec == "region":
        return [Field("nation", "Nation"), Field("org_code", "NHS England region code"),
                Field("org_name", "NHS England region name")]
    return [Field("level", "Level", convert=_words(LEVEL, "level")), Field("org_code", "Area code"),
            Field("org_name", "Area name")]


def _measures(spec: str) -> list[Field]:
    fields = [
        Field("indicator_id", "Indicator ID"), Field("indicator_title", "Indicator", "wrap", 45),
        Field("subgroup", "Patient group", convert=_words(SUBGROUP, "subgroup")),
        Field("period", "Period", note="periods"),
        Field("numerator", "Numerator (patients)", "count"),
        Field("denominator", "Denominator (patients)", "count"),
        Field("percentage", "Percentage (%)", "percent"),
        Field("ci_lower_95", "Lower 95% confidence limit (%)", "percent", note="ci"),
        Field("ci_upper_95", "Upper 95% confidence limit (%)", "percent", note="ci"),
        Field("median_days", "Median days from MBC diagnosis", "decimal"),
        Field("national_percentage", "National percentage (%)", "percent", note="national", published_gap="[z]"),
        Field("vs_national", "Compared with national", "text", note="comparison",
              convert=_words(COMPARISON, "vs_national"), result=True, published_gap="[z]"),
    ]
    if spec != "national":
        fields += [
            Field("comparator_name", "Comparator", "wrap", 30, note="comparator", result=True),
            Field("comparator_percentage", "Comparator percentage (%)", "percent", note="comparator"),
            Field("vs_comparator", "Compared with comparator", note="comparison",
                  convert=_words(COMPARISON, "vs_comparator"), result=True),
        ]
    fields += [
        Field("previous_percentage", "Previous financial year percentage (%)", "percent", note="change",
              published_gap="[z]"),
        Field("change_points", "Change since previous year (percentage points)", "decimal", note="change",
              published_gap="[z]"),
        Field("change_ci_lower_95", "Lower 95% confidence limit of change (percentage points)", "decimal",
              note="change", published_gap="[z]"),
        Field("change_ci_upper_95", "Upper 95% confidence limit of change (percentage points)", "decimal",
              note="change", published_gap="[z]"),
        Field("change_significant", "Change beyond chance (95%)", note="change", convert=_yes_no, result=True,
              published_gap="[z]"),
    ]
    if spec == "organisation":
        fields += [
            Field("expected", "Expected number (case-mix model)", "decimal", note="casemix"),
            Field("observed_expected", "Observed / expected ratio", "ratio", note="casemix"),
            Field("adjusted_percentage", "Case-mix adjusted percentage (%)", "percent", note="casemix"),
            Field("adjusted_ci_lower_95", "Lower 95% confidence limit of adjusted percentage (%)", "percent",
                  note="casemix"),
            Field("adjusted_ci_upper_95", "Upper 95% confidence limit of adjusted percentage (%)", "percent",
                  note="casemix"),
            Field("funnel_lower_998", "Lower 99.8% funnel limit (%)", "percent", note="funnel"),
            Field("funnel_lower_95", "Lower 95% funnel limit (%)", "percent", note="funnel"),
            Field("funnel_upper_95", "Upper 95% funnel limit (%)", "percent", note="funnel"),
            Field("funnel_upper_998", "Upper 99.8% funnel limit (%)", "percent", note="funnel"),
            Field("funnel_method", "Funnel limits method", "wrap", 60, note="funnel", result=True, published_gap="[z]"),
            Field("funnel_position", "Position against funnel limits", note="position",
                  convert=_words(FUNNEL_POSITION, "funnel_position"), result=True),
            Field("outlier_process", "In HQIP outlier process", note="outlier", convert=_yes_no),
            Field("outlier_status", "HQIP outlier status", "wrap", 30, note="outlier", convert=_outlier_status,
                  pair="outlier_note"),
        ]
    fields += [
        Field("completeness_flag", "Data completeness warning", "wrap", 36, note="completeness", convert=_completeness),
        Field("status", "Status", note="disclosure", convert=_words(STATUS, "status")),
        Field("status_note", "Reason not published", "wrap", 50, convert=_text_or_z),
    ]
    return fields


@dataclass(frozen=True)
class ResultsTable:
    """One results sheet: the levels it shows, how its rows are grouped and its columns."""

    sheet: str
    table_name: str
    title: str
    description: str
    levels: tuple[str, ...]
    hierarchy: str


RESULTS_TABLES = (
    ResultsTable("Table_1_organisations", "organisation_results", "Results by NHS trust and Welsh health board",
                 "Every metric for each NHS trust (England) and health board (Wales), with comparators, change since "
                 "the previous year, case-mix adjustment, funnel-plot limits and HQIP outlier status. Each "
                 "organisation's rows are together.", ("organisation",), "organisation"),
    ResultsTable("Table_2_alliances", "alliance_results", "Results by Cancer Alliance and Welsh Region",
                 "Every metric for each Cancer Alliance (England) and Welsh Region.", ("alliance",), "alliance"),
    ResultsTable("Table_3_regions", "region_results", "Results by NHS England region",
                 "Every metric for each of the seven NHS England regions.", ("region",), "region"),
    ResultsTable("Table_4_national", "national_results", "National results: England and Wales, England, Wales",
                 "Every metric for England and Wales combined and for each nation.", ("national", "nation"),
                 "national"),
)


def _order(values: pd.Series, order: list[str]) -> pd.Series:
    """Position of each value in `order` (unknown values last)."""
    return values.map({v: i for i, v in enumerate(order)}).fillna(len(order))


def _sorted_results(frame: pd.DataFrame, periods: list[str], registry: Registry, hierarchy: str) -> pd.DataFrame:
    """Rows grouped by unit (by nation, region, alliance and name), then indicator, patient group and period."""
    frame = frame[frame["period"].isin(periods)]
    keys = pd.DataFrame({
        "level": _order(frame["level"], list(LEVEL)),
        "nation": _order(frame["nation"], ["England and Wales", "England", "Wales"]),
        "region": frame["region_name"].fillna(""), "parent": frame["parent_name"].fillna(""),
        "name": frame["org_name"].fillna(""), "code": frame["org_code"].fillna(""),
        "indicator": _order(frame["indicator_id"], [ind.id for ind in registry]),
        "subgroup": _order(frame["subgroup"], list(SUBGROUP)),
        "period": _order(frame["period"], periods),
    }, index=frame.index)
    unit = ["level", "nation", "region", "parent", "name", "code"] if hierarchy != "national" else \
        ["level", "nation", "code"]
    order = keys.sort_values(unit + ["indicator", "subgroup", "period"], kind="mergesort").index
    return frame.loc[order]


def _column_values(frame: pd.DataFrame, fld: Field, groups: _RowGroups | None = None) -> list[Any]:
    """The cells of one column: numbers (ints for counts), text, or shorthand where a value is missing."""
    n = len(frame)
    gaps = _gap_shorthand(frame, fld, groups) if fld.gaps_explained else None
    if fld.kind in NUMBER_KINDS:
        numbers = pd.to_numeric(frame[fld.source], errors="coerce").to_numpy(dtype=float) \
            if fld.source in frame.columns else np.full(n, np.nan)
        present = np.isfinite(numbers)
        out = np.empty(n, dtype=object)
        whole = fld.kind == "count" and bool(np.all(numbers[present] == np.round(numbers[present])))
        out[present] = (numbers[present].astype(np.int64) if whole else numbers[present]).astype(object)
        out[~present] = gaps[~present]
        return out.tolist()
    raw = frame[fld.source].tolist() if fld.source in frame.columns else [""] * n
    convert = fld.convert or _text_or_z
    if fld.pair:  # (value, paired value): converted together
        keys = list(zip(raw, frame[fld.pair].tolist() if fld.pair in frame.columns else [""] * n))
        distinct = {key: (convert(key), _missing(key[0])) for key in dict.fromkeys(keys)}
    else:  # keyed by type too: 1, 1.0 and True are different texts
        keys = list(zip(map(type, raw), raw))
        distinct = {key: (convert(key[1]), _missing(key[1])) for key in dict.fromkeys(keys)}
    # Each distinct value converted once, in first-seen order (an unknown code stops the build at the first).
    converted = list(map(distinct.__getitem__, keys))
    if gaps is None:
        return [cell for cell, _ in converted]
    return [gap if blank else cell for (cell, blank), gap in zip(converted, gaps)]


@dataclass(frozen=True)
class _RowGroups:
    """What the gap shorthand of every column of one table shares, worked out once for the table.

    `codes` numbers each row's indicator (-1 where it has none), `symbol` is each row's status shorthand
    ("" if none) and `plain` marks the rows (published, or of no known status) that take a column's own gap.
    """

    indicator: pd.Series
    codes: np.ndarray
    count: int
    symbol: np.ndarray
    plain: np.ndarray


def _row_groups(frame: pd.DataFrame) -> _RowGroups:
    """The indicator groups and status shorthand of a table's rows."""
    codes, uniques = pd.factorize(frame["indicator_id"])
    status = frame["status"].fillna("").astype(str)
    symbol = status.map({code: term.symbol for code, term in STATUS.items()}).fillna("").to_numpy(dtype=object)
    plain = (status.to_numpy() == "published") | (symbol == "")
    return _RowGroups(frame["indicator_id"], codes, len(uniques), symbol, plain)


def _gap_shorthand(frame: pd.DataFrame, fld: Field, groups: _RowGroups | None = None) -> np.ndarray:
    """What an empty cell of this column shows, row by row.

    [z] where the indicator has no such measure at all in this table (no row of it has a value), else the
    shorthand of the row's status ([c], [u], [x], [z]), else (a published row) the column's `published_gap`.
    """
    n = len(frame)
    if fld.source not in frame.columns:
        return np.full(n, "[z]", dtype=object)
    groups = groups or _row_groups(frame)
    values = frame[fld.source]
    has_value = pd.to_numeric(values, errors="coerce").notna() if fld.kind in NUMBER_KINDS else \
        values.notna() & (values.astype(str).str.strip() != "")
    if n and groups.codes.min() >= 0:  # every row has an indicator: "any value in its group", counted per group
        counts = np.bincount(groups.codes, weights=has_value.to_numpy(dtype=float), minlength=groups.count)
        applies = (counts > 0)[groups.codes]
    else:  # rows without an indicator: as pandas' groupby has it
        applies = has_value.groupby(groups.indicator).transform("any").to_numpy()
    symbol = np.where(groups.plain, fld.published_gap, groups.symbol)
    return np.where(applies, symbol, "[z]").astype(object)


def _header(fld: Field, notes: Notes, sheet: str) -> str:
    return f"{fld.header} {notes.ref(fld.note, sheet)}" if fld.note else fld.header


def _table_rows(frame: pd.DataFrame, fields: list[Field]) -> list[tuple[Any, ...]]:
    groups = _row_groups(frame) if any(f.gaps_explained for f in fields) else None
    columns = [_column_values(frame, f, groups) for f in fields]
    return list(zip(*columns)) if columns else []


def _shorthand_line() -> Line:
    return Line("Some cells hold shorthand instead of a number: [c] suppressed (confidential), [u] low reliability, "
                "[x] not available, [z] not applicable. The Notes sheet explains each.")


def _results_sheet(spec: ResultsTable, results: Results, registry: Registry, periods: list[str],
                   notes: Notes) -> Sheet:
    """One results table sheet."""
    frame = results.indicators
    frame = _sorted_results(frame[frame["level"].isin(spec.levels)], periods, registry, spec.hierarchy)
    titles = {ind.id: ind.title for ind in registry}
    frame = frame.assign(indicator_title=frame["indicator_id"].map(titles).fillna(frame["indicator_title"]))
    fields = _hierarchy(spec.hierarchy) + _measures(spec.hierarchy)
    rows = _table_rows(frame, fields)
    markers = " ".join(notes.ref(k, spec.sheet) for k in ("periods", "allocation", "disclosure")
                       if k != "allocation" or spec.hierarchy == "organisation")
    lines = [Line(f"{spec.description} Periods: {', '.join(periods)}. {markers}"),
             _shorthand_line(),
             Line("Source: NAoMe analysis of linked routine data (file naome_indicators.csv)."),
             *_synthetic_line(results)]
    sources = [f.source for f in fields]
    return Sheet(spec.sheet, spec.title, lines, [Column(_header(f, notes, spec.sheet), f.kind, f.width) for f in fields],
                 rows, spec.table_name, description=spec.title,
                 key_columns=(sources.index("org_code"), sources.index("org_name")))


SURVIVAL_GROUP_TYPES = {"all": "All patients", **{k: PATIENT_FACTOR[k].short for k in ("route", "subtype")}}


def _survival_sheet(results: Results, periods: list[str], notes: Notes) -> Sheet:
    """Kaplan-Meier survival at each reported time point."""
    sheet = "Table_5_survival"
    frame = results.survival
    if "period_type" in frame.columns:
        frame = frame[frame["period_type"].isin(["pooled", "financial_year"]) | frame["period_type"].isna()]
    keys = pd.DataFrame({
        "level": _order(frame["level"], list(LEVEL)),
        "nation": _order(frame["nation"], ["England and Wales", "England", "Wales"]),
        "parent": frame["parent_name"].fillna(""), "name": frame["org_name"].fillna(""),
        "code": frame["org_code"].fillna(""), "group_type": _order(frame["group_type"], list(SURVIVAL_GROUP_TYPES)),
        "group": frame["group"].fillna(""), "period": _order(frame["period"], periods),
        "time": pd.to_numeric(frame["time_years"], errors="coerce"),
    }, index=frame.index)
    frame = frame.loc[keys.sort_values(list(keys.columns), kind="mergesort").index]
    frame = frame.assign(indicator_id="survival",
                         group=frame["group"].replace({"All": "All patients"}))
    fields = [
        Field("level", "Level", convert=_words(LEVEL, "level")), Field("nation", "Nation"),
        Field("parent_code", "Parent area code"), Field("parent_name", "Parent area name", "wrap", 30),
        Field("org_code", "Area code"), Field("org_name", "Area name", "wrap", 40),
        Field("group_type", "Patient grouping",
              convert=lambda v: SURVIVAL_GROUP_TYPES.get(clean_text(v), clean_text(v) or "[z]")),
        Field("group", "Patient group"), Field("period", "Period", note="periods"),
        Field("time_years", "Years after MBC diagnosis", "general"),
        Field("patients", "Number of patients", "count"), Field("deaths", "Deaths", "count"),
        Field("survival_percentage", "Survival (%)", "percent", note="survival"),
        Field("ci_lower_95", "Lower 95% confidence limit of survival (%)", "percent", note="survival"),
        Field("ci_upper_95", "Upper 95% confidence limit of survival (%)", "percent", note="survival"),
        Field("at_risk", "Patients at risk", "count"),
        Field("status", "Status", note="disclosure", convert=_words(STATUS, "status")),
        Field("status_note", "Reason not published", "wrap", 50, convert=_text_or_z),
    ]
    rows = _table_rows(frame, fields)
    lines = [Line(f"Percentage of patients alive after diagnosis of metastatic breast cancer, by area and patient "
                  f"group. {notes.ref('disclosure', sheet)}"),
             _shorthand_line(),
             Line("Source: NAoMe analysis of linked routine data and death registrations (file naome_survival.csv)."),
             *_synthetic_line(results)]
    return Sheet(sheet, "Survival after diagnosis of metastatic breast cancer", lines,
                 [Column(_header(f, notes, sheet), f.kind, f.width) for f in fields], rows, "survival_results",
                 description="Survival after diagnosis of metastatic breast cancer", key_columns=(4, 5))


# ---------------------------------------------------------------------------------------------
# Definitions, notes, cover and contents
# ---------------------------------------------------------------------------------------------


def _not_available_text(ind: Indicator) -> str:
    return "; ".join(f"{u.nation} {', '.join(u.financial_years)}: {u.reason}" for u in ind.not_available) \
        or "Available for every nation and year it covers"


def _exclusions_text(text: str) -> str:
    return "No exclusions beyond the audit cohort rules" if clean_text(text).lower() in {"", "none"} else text


def _window_text(text: str) -> str:
    return "No time window: recorded at any time" if clean_text(text).lower() in {"", "none"} else text


def _casemix_text(ind: Indicator) -> str:
    if not ind.casemix:
        return "Not adjusted"
    return ", ".join(PATIENT_FACTOR[c].short if c in PATIENT_FACTOR else c for c in ind.casemix.get("covariates", []))


def _definitions_sheet(registry: Registry, notes: Notes) -> Sheet:
    """Every metric's definition, from the indicator registry."""
    sheet = "Definitions"
    lines = [Line(f"One row per metric, generated from the indicator registry. {notes.ref('definitions', sheet)}")]
    columns = [
        Column("Indicator ID"), Column("Indicator", "wrap", 40), Column("Plain-English title", "wrap", 40),
        Column("QI goal", "count", 9), Column("QI goal title", "wrap", 40), Column("Type"),
        Column("Numerator", "wrap", 50), Column("Denominator", "wrap", 50), Column("Exclusions", "wrap", 40),
        Column("Time window", "wrap", 30), Column("Data source", "wrap", 40), Column("Nations"),
        Column("Not available for", "wrap", 40), Column("Direction"),
        Column(f"Case-mix variables {notes.ref('casemix', sheet)}", "wrap", 40),
        Column(f"In HQIP outlier process {notes.ref('outlier', sheet)}"),
        Column("Patient groups reported", "wrap", 30), Column("Evidence", "wrap", 50), Column("Definitions version"),
    ]
    rows = [(
        ind.id, ind.title, ind.plain_title, ind.goal, ind.goal_title, INDICATOR_TYPE[ind.type].short,
        ind.numerator_text, ind.denominator_text, _exclusions_text(ind.exclusions), _window_text(ind.window), ind.source,
        ", ".join(ind.nations), _not_available_text(ind), ind.direction_text, _casemix_text(ind),
        "Yes" if ind.outlier_process else "No",
        ", ".join([SUBGROUP["all"].short, *(SUBGROUP[s].short for s in ind.subgroups)]),
        ind.evidence or "Not stated", ind.definitions_version,
    ) for ind in registry]
    surv = registry.survival
    if surv:
        goal = int(surv.get("goal", 5))
        rows.append((
            str(surv.get("id", "survival")), str(surv.get("title", "")), str(surv.get("plain_title", "")), goal,
            GOAL_TITLES.get(goal, ""), INDICATOR_TYPE[str(surv.get("type", "outcome"))].short,
            "Patients alive at each time point (Kaplan-Meier estimate)", "Patients diagnosed with MBC in the period",
            "No exclusions beyond the audit cohort rules", "From MBC diagnosis to the data cut-off",
            str(surv.get("source", "")), "England, Wales", "Available for every nation and year it covers",
            "Higher is better", "Not adjusted", "No",
            ", ".join(SURVIVAL_GROUP_TYPES.get(g, g) for g in ["all", *surv.get("groups", [])]),
            str(surv.get("method", "")), registry.definitions_version,
        ))
    return Sheet(sheet, "Metric definitions", lines, columns, rows, "metric_definitions",
                 description="Metric definitions: numerator, denominator, exclusions, window, source, evidence",
                 key_columns=(0, 0))


def _notes_sheet(notes: Notes) -> Sheet:
    lines = [Line("Notes referred to in the tables as [note 1], [note 2] and so on, and the sheets that refer to them."),
             Line("Shorthand used in cells instead of a number, following the Analysis Function's standard for "
                  "symbols in tables:", "heading"),
             *(Line(f"{code} {meaning}.") for code, meaning in SHORTHAND.items())]
    return Sheet("Notes", "Notes", lines, [Column("Note number", width=12), Column("Note text", "wrap", 80),
                                           Column("Where it applies", "wrap", 30)],
                 notes.rows(), "notes_table", description="Notes, and the shorthand [c], [u], [x] and [z]",
                 key_columns=(0, 0))


def _cover_sheet(results: Results, registry: Registry, config: Config, periods: list[str], notes: Notes) -> Sheet:
    """The cover: what the workbook holds, publication and next update, period, sources, contact, version."""
    audit = config.section("audit")
    publication = config.section("publication")
    cutoff = date.fromisoformat(str(results.meta.get("data_cutoff") or config.data_cutoff)[:10])
    years = [p for p in periods if p != results.primary_period]
    contact = audit["contact"]
    lines = [
        Line("This workbook contains the definition of every metric of the National Audit of Metastatic Breast "
             "Cancer (NAoMe) and its results for each NHS trust, Welsh health board, Cancer Alliance and Welsh "
             "Region, NHS England region and nation."),
        *_synthetic_line(results),
        Line("Publication date", "heading"),
        Line(long_date(date.fromisoformat(str(publication["date"])))),
        Line("Next update", "heading"),
        Line(str(publication["next_update"])),
        Line("Reporting period", "heading"),
        Line(f"People diagnosed with metastatic breast cancer in England and Wales in the financial years "
             f"{', '.join(years) or results.primary_period} (pooled as {results.primary_period}), with follow-up to "
             f"the data cut-off of {long_date(cutoff)}."),
        Line("Data sources", "heading"),
        Line("Linked routine data. England: Cancer Outcomes and Services Dataset (COSD), national cancer "
             "registration data, Systemic Anti-Cancer Therapy dataset (SACT), Radiotherapy Dataset (RTDS), Hospital "
             "Episode Statistics (HES), ONS death registrations and the National Cancer Patient Experience Survey. "
             "Wales: the Welsh Cancer Dataset Form (CaNISC) and the Patient Episode Database for Wales (PEDW). "
             f"The source of each metric is given in the Definitions sheet. {notes.ref('files', 'Cover')}"),
        Line("How to use this workbook", "heading"),
        Line("The Contents sheet links to every sheet. Each table has one header row with filter buttons, to sort "
             "and filter it; no rows or columns are frozen, so the sheets also work with screen magnifiers. In the "
             "results tables each area's rows are together. Cells with shorthand ([c], [u], [x], [z]) instead of a "
             "number, and the notes marked [note 1], [note 2] and so on, are explained in the Notes sheet."),
        Line("Contact", "heading"),
        Line(f"{audit['publisher']}, email: {contact}", link=f"mailto:{contact}"),
        Line("Version", "heading"),
        Line(f"Version {audit.get('output_version', 1)}. Indicator definitions version "
             f"{results.meta.get('definitions_version') or registry.definitions_version}. Data cut-off "
             f"{long_date(cutoff)}."),
    ]
    title = f"{audit['name']} ({audit['short_name']}) metrics table, {results.primary_period}"
    return Sheet("Cover", title, lines, description="Cover: about this workbook")


def _contents_sheet(others: list[Sheet]) -> Sheet:
    """Links to every sheet, this one included, in workbook order."""
    rows = [(s.name, s.description or s.title) for s in others]
    rows.insert(1, ("Contents", "Contents: links to every sheet"))
    return Sheet("Contents", "Contents", [Line("Select a sheet name to go to it.")],
                 [Column("Sheet name", width=24), Column("Sheet contents", "wrap", 80)], rows, "contents_table",
                 links={i: row[0] for i, row in enumerate(rows)}, description="Contents", key_columns=(0, 0))


def _announce_table(sheet: Sheet) -> None:
    """Start the line under the title by saying the sheet holds one table (for screen-reader users)."""
    first = sheet.lines[0]
    sheet.lines[0] = Line(f"This worksheet contains one table. {first.text}", first.style, first.link)


def build_model(results: Results, registry: Registry, config: Config) -> WorkbookModel:
    """The whole workbook as a table model, ready for either writer."""
    periods = _periods(results, config)
    notes = Notes(_note_texts(results, registry, config))  # numbered as first referred to, in sheet order
    cover = _cover_sheet(results, registry, config, periods, notes)
    definitions = _definitions_sheet(registry, notes)
    tables = [*(_results_sheet(spec, results, registry, periods, notes) for spec in RESULTS_TABLES),
              _survival_sheet(results, periods, notes)]
    body = [_notes_sheet(notes), definitions, *tables]
    contents = _contents_sheet([cover, *body])
    for sheet in [contents, *body]:
        _announce_table(sheet)
    audit = config.section("audit")
    props = DocProperties(
        title=cover.title, subject="Metastatic breast cancer audit metrics, England and Wales",
        creator=str(audit["publisher"]), company=str(audit["publisher"]),
        keywords="NAoMe, metastatic breast cancer, national audit, NATCAN, quality indicators, England, Wales",
        description=("Synthetic data: no real patients. " if results.synthetic else "") + cover.lines[0].text,
        timestamp=_fixed_timestamp(results, config),
    )
    return WorkbookModel([cover, contents, *body], props)
