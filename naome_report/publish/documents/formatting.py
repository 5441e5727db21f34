"""How the national documents write numbers and dates: one helper for each, used everywhere."""

from __future__ import annotations

import math
from datetime import date
from typing import Any

NATIONS = ("England and Wales", "England", "Wales")
NOT_SHOWN = "–"


def fmt(value: Any, kind: str = "pct") -> str:
    """A number as printed everywhere: 'pct' 58.5%, 'count' 17,601, 'days' 30, 'ratio' 0.68, 'or' 1.09."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return NOT_SHOWN
    value = float(value)
    if kind == "pct":
        return f"{value:,.1f}%"
    if kind in ("count", "days"):
        return f"{value:,.0f}"
    if kind == "ratio":
        return f"{value:.2f}"
    if kind == "or":
        return f"{value:.2f}"
    if kind == "p":
        return "<0.001" if value < 0.001 else f"{value:.3f}"
    raise ValueError(f"fmt: unknown kind {kind!r}")


def fmt_ci(lower: Any, upper: Any) -> str:
    """A 95% confidence interval of percentages: '57.9% to 59.0%'."""
    if is_missing(lower) or is_missing(upper):
        return NOT_SHOWN
    return f"{fmt(lower)} to {fmt(upper)}"


def is_missing(value: Any) -> bool:
    """True for None and NaN."""
    return value is None or (isinstance(value, float) and math.isnan(value))


def date_words(day: date | str) -> str:
    """A date (or ISO date text) as '30 September 2026'; text that is not a date is returned unchanged."""
    if not isinstance(day, date):
        try:
            day = date.fromisoformat(str(day))
        except ValueError:
            return str(day)
    return f"{day.day} {day:%B %Y}"
