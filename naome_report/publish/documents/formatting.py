"""How the national documents write numbers and dates: one helper for each, used everywhere.

Numbers round half away from zero (`naome_report.numbers`), as in every other output."""

from __future__ import annotations

import math
from datetime import date
from typing import Any

from naome_report.numbers import format_fixed, round_half_away
from naome_report.vocabulary import term

NATIONS = ("England and Wales", "England", "Wales")
NOT_SHOWN = "–"


def fmt(value: Any, kind: str = "pct") -> str:
    """A number as printed everywhere: 'pct' 58.5%, 'count' 17,601, 'days' 30, 'ratio' 0.68, 'or' 1.09,
    'points' +1.1 (a change in percentage points, always signed), 'decimal' 58.5."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return NOT_SHOWN
    value = float(value)
    if kind == "pct":
        return f"{format_fixed(value, 1, thousands=True)}%"
    if kind in ("count", "days"):
        return format_fixed(value, 0, thousands=True)
    if kind == "decimal":
        return format_fixed(value, 1, thousands=True)
    if kind == "points":
        return ("+" if round_half_away(value, 1) > 0 else "") + format_fixed(value, 1, thousands=True)
    if kind in ("ratio", "or"):
        return format_fixed(value, 2)
    if kind == "p":
        return "<0.001" if value < 0.001 else format_fixed(value, 3)
    raise ValueError(f"fmt: unknown kind {kind!r}")


def fmt_count(value: Any, status: str = "published") -> str:
    """A published count, or the word for a withheld one (never a number from 1 to 4)."""
    return term("status", "suppressed").short if status == "suppressed" else fmt(value, "count")


def fmt_ci(lower: Any, upper: Any) -> str:
    """A 95% confidence interval of percentages: '57.9% to 59.0%'."""
    return fmt_range(lower, upper)


def fmt_range(lower: Any, upper: Any, kind: str = "pct", joiner: str = " to ") -> str:
    """Two limits of an interval in one format: '57.9% to 59.0%', or '-0.2 to +2.5' for 'points'."""
    if is_missing(lower) or is_missing(upper):
        return NOT_SHOWN
    return f"{fmt(lower, kind)}{joiner}{fmt(upper, kind)}"


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
