"""Change since the previous financial year on the financial-year rows of the indicators table."""

from __future__ import annotations

import numpy as np
import pandas as pd

from naome_report.stats.difference import newcombe_difference

UNIT = ["indicator_id", "subgroup", "level", "org_code"]


def add_year_change(frame: pd.DataFrame, financial_years: list[str], confidence: float = 0.95) -> pd.DataFrame:
    """previous_percentage, change_points, its Newcombe interval and change_significant (yes / no).

    Crude percentages (not case-mix adjusted) of the row's financial year and the one before it,
    both published; the interval is Newcombe's hybrid score interval for a difference of
    independent proportions, and a change is significant when the interval excludes 0. Rows of
    other periods, of the first year, or where either year is not published are left empty.
    """
    previous_of = dict(zip(financial_years[1:], financial_years[:-1]))
    published = frame.status.eq("published").to_numpy() & frame.percentage.notna().to_numpy()
    years = frame[frame.period_type.eq("financial_year") & published]
    table = years.set_index([*UNIT, "period"])[["numerator", "denominator", "percentage"]]
    table = table[~table.index.duplicated()]
    wanted = pd.MultiIndex.from_arrays([*(frame[c].to_numpy() for c in UNIT), frame.period.map(previous_of).to_numpy()])
    previous = table.reindex(wanted)
    use = published & frame.period_type.eq("financial_year").to_numpy() & previous.percentage.notna().to_numpy()
    diff, lower, upper = newcombe_difference(np.where(use, frame.numerator, np.nan), frame.denominator.to_numpy(float),
                                             previous.numerator.to_numpy(float), previous.denominator.to_numpy(float),
                                             confidence)
    frame["previous_percentage"] = np.where(use, previous.percentage.to_numpy(float), np.nan)
    frame["change_points"] = diff * 100
    frame["change_ci_lower_95"] = lower * 100
    frame["change_ci_upper_95"] = upper * 100
    with np.errstate(invalid="ignore"):
        significant = (lower > 0) | (upper < 0)
    frame["change_significant"] = np.where(use, np.where(significant, "yes", "no"), "")
    return frame
