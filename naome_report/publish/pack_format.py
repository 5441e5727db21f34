"""How numbers, statuses and flags are written in the organisation packs (formatting only, no arithmetic)."""

from __future__ import annotations

import math
from typing import Any

from naome_report.numbers import format_fixed
from naome_report.stats.outliers import OUTLIER_SYMBOLS

DASH = "\u2013"  # en dash: ranges and "nothing to show"
MISSING_TEXT = {
    "suppressed": "Suppressed (small numbers)",
    "too_few": "Too few patients",
    "not_available": "Not available",  # the nation is appended: "Not available for Wales"
    "not_applicable": "No eligible patients",
}
# Short words for the summary table; the symbol carries direction, the words say it too.
OUTLIER_WORDS = {
    "alarm_high": "Alarm: high",
    "alert_high": "Alert: high",
    "within_limits": "Within limits",
    "alert_low": "Alert: low",
    "alarm_low": "Alarm: low",
    "not_assessed": "Not assessed",
}
OUTLIER_LONG = {
    "alarm_high": "above the 99.8% limit (alarm)",
    "alert_high": "above the 95% limit (alert)",
    "within_limits": "within the 95% limits",
    "alert_low": "below the 95% limit (alert)",
    "alarm_low": "below the 99.8% limit (alarm)",
}
NOT_ASSESSED_WHY = {
    "too_few": "too few patients",
    "not_eligible": "not eligible",
    "not_available": "data not available",
    "suppressed": "small numbers",
}
VARIATION_WORDS = {
    "improvement": "improvement",
    "concern": "concern",
    "neither": "special cause (no preferred direction)",
    "common_cause": "common cause",
}


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
    return DASH if is_blank(value) else f"{float(value):.2f}"


def days(value: Any) -> str:
    """A number of days: 23 days."""
    return DASH if is_blank(value) else f"{float(value):.0f} days"


def missing_text(status: str, nation: str) -> str:
    """What is printed instead of a value that is not published (never a zero)."""
    if status == "not_available":
        return f"Not available for {nation}"
    return MISSING_TEXT.get(status, status.replace("_", " ").capitalize())


def outlier_symbol(status: str) -> str:
    """Text symbol of a funnel position (survives copy and pdftotext)."""
    return OUTLIER_SYMBOLS.get(status, OUTLIER_SYMBOLS["not_assessed"])


def outlier_words(status: str, note: str, direction: str) -> str:
    """Short words for a funnel position, saying whether the direction is favourable."""
    if status not in OUTLIER_WORDS or status == "not_assessed":
        why = NOT_ASSESSED_WHY.get(note, note.replace("_", " ") if note else "")
        return f"Not assessed ({why})" if why else "Not assessed"
    words = OUTLIER_WORDS[status]
    judgement = favourability(status, direction)
    return f"{words} ({judgement})" if judgement else words


def favourability(status: str, direction: str) -> str:
    """'better' or 'worse' than expected for an outlier, given the indicator's direction; else ''."""
    if status.endswith("_high"):
        return {"higher_better": "better", "lower_better": "worse"}.get(direction, "")
    if status.endswith("_low"):
        return {"higher_better": "worse", "lower_better": "better"}.get(direction, "")
    return ""


def outlier_sentence(status: str, note: str) -> str:
    """A funnel position as a phrase: 'within the 95% limits'."""
    if status in OUTLIER_LONG:
        return OUTLIER_LONG[status]
    why = NOT_ASSESSED_WHY.get(note, "")
    return f"not assessed ({why})" if why else "not assessed"


def is_flagged(flag: Any) -> bool:
    """Whether a completeness_flag cell is set (any text but an explicit no)."""
    return not is_blank(flag) and str(flag).strip().lower() not in ("no", "false", "0")


def completeness_words(flag: Any, has_source: bool, threshold: float) -> str:
    """The data-completeness column: a flag below the threshold, OK above, dash where not relevant."""
    if is_flagged(flag):
        return f"Low: under {threshold:.0%}"
    return "OK" if has_source else DASH
