"""How numbers, result codes and flags are written in the organisation packs (formatting only; words from the vocabulary)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from naome_report.numbers import format_fixed
from naome_report.vocabulary import COMPARISON, FUNNEL_POSITION, NOT_ASSESSED_REASON, OUTLIER_STATUS, STATUS

DASH = "\u2013"  # en dash: ranges and "nothing to show"
IN_PROCESS_LEVELS = {"alarm_high": "alarm", "alarm_low": "alarm", "alert_high": "alert", "alert_low": "alert"}
QI_LEVELS = {"above_998": "beyond_998", "below_998": "beyond_998", "above_95": "beyond_95", "below_95": "beyond_95"}


def is_blank(value: Any) -> bool:
    """True for None, NaN and empty strings (how the CSVs leave a cell empty)."""
    return value is None or value == "" or (isinstance(value, float) and math.isnan(value))


def pct(value: Any, decimals: int = 1) -> str:
    """A percentage as printed in the packs: 62.3%."""
    return DASH if is_blank(value) else f"{format_fixed(float(value), decimals)}%"


def ci(lower: Any, upper: Any) -> str:
    """A 95% confidence interval as printed: 55.1–68.9."""
    if is_blank(lower) or is_blank(upper):
        return ""
    return f"{format_fixed(float(lower), 1)}{DASH}{format_fixed(float(upper), 1)}"


def count(value: Any) -> str:
    """A count with thousands separators: 1,234."""
    return DASH if is_blank(value) else format_fixed(float(value), 0, thousands=True)


def ratio(value: Any) -> str:
    """An observed/expected ratio: 0.97."""
    return DASH if is_blank(value) else format_fixed(float(value), 2)


def days(value: Any) -> str:
    """A number of days: 23 days."""
    return DASH if is_blank(value) else f"{format_fixed(float(value), 0)} days"


def missing_text(status: str, nation: str) -> str:
    """What is printed instead of a value that is not published (never a zero)."""
    if status == "not_available":
        return f"{STATUS['not_available'].short} for {nation}"
    term = STATUS.get(status)
    return term.short if term else status.replace("_", " ").capitalize()


def text(value: Any) -> str:
    """A text cell, '' when empty."""
    return "" if is_blank(value) else str(value).strip()


@dataclass(frozen=True)
class Position:
    """Where one result stands: in the HQIP outlier process (alert, alarm) or against the funnel limits only."""

    in_process: bool
    code: str  # outlier_status code in the process, funnel_position code outside it
    note: str  # why not assessed
    judgement: str  # vs_national: better, similar, worse, higher, lower, not_assessed

    @property
    def level(self) -> str:
        """alarm, alert (in the process), beyond_998, beyond_95 (outside it), within or not_assessed."""
        if self.code in IN_PROCESS_LEVELS:
            return IN_PROCESS_LEVELS[self.code]
        if self.code in QI_LEVELS:
            return QI_LEVELS[self.code]
        return "within" if self.code in ("within", "within_limits") else "not_assessed"

    @property
    def term(self):
        """The vocabulary entry of the code."""
        return (OUTLIER_STATUS if self.in_process else FUNNEL_POSITION).get(self.code, FUNNEL_POSITION["not_assessed"])

    @property
    def symbol(self) -> str:
        return self.term.symbol or DASH

    @property
    def favourable(self) -> bool:
        return self.judgement == "better"

    @property
    def label(self) -> str:
        """'Alarm (low): worse', 'Above 95% limit: higher', 'Within limits', 'Not assessed (too few patients to assess)'."""
        if self.level == "not_assessed":
            why = NOT_ASSESSED_REASON.get(self.note, self.note.replace("_", " "))
            return f"{self.term.short} ({why})" if why else self.term.short
        if self.level == "within":
            return self.term.short
        judged = COMPARISON.get(self.judgement)
        return f"{self.term.short}: {judged.short.lower()}" if judged and self.judgement != "not_assessed" else self.term.short

    @property
    def sentence(self) -> str:
        """The position as a phrase: 'above the upper 95% funnel limit'."""
        return self.term.long


def position_of(row: dict[str, Any]) -> Position:
    """A result's position, read from its row (nothing recomputed)."""
    in_process = text(row.get("outlier_process")).lower() == "yes"
    code = text(row.get("outlier_status" if in_process else "funnel_position")) or "not_assessed"
    return Position(in_process, code, text(row.get("outlier_note")), text(row.get("vs_national")) or "not_assessed")


def comparison_word(code: Any) -> str:
    """'Better', 'Similar', ... for a vs_comparator / vs_national code; '' when not compared."""
    term = COMPARISON.get(text(code))
    return term.short if term and text(code) != "not_assessed" else ""


def is_flagged(flag: Any) -> bool:
    """Whether a completeness_flag cell is set (any text but an explicit no)."""
    return not is_blank(flag) and str(flag).strip().lower() not in ("no", "false", "0")


def completeness_words(flag: Any, has_source: bool, threshold: float) -> str:
    """The data-completeness column: a flag below the threshold, OK above, dash where not relevant."""
    if is_flagged(flag):
        return f"Low: under {threshold:.0%}"
    return "OK" if has_source else DASH
