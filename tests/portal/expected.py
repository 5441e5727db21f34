"""What the portal should show, computed straight from the data files (independently of the portal code)."""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal

import pandas as pd

from naome_report.hub import Results


def pct(value: float) -> str:
    """The portal's percentage format: one decimal place, halves rounded away from zero (the house rule: 6.25 -> 6.3)."""
    return f"{Decimal(repr(float(value))).quantize(Decimal('0.1'), rounding=ROUND_HALF_UP)}%"


def org_rows(results: Results, org_code: str) -> pd.DataFrame:
    """The organisation's primary-period, all-patients rows of naome_indicators.csv."""
    ind = results.indicators
    return ind[(ind.level == "organisation") & (ind.org_code == org_code) & (ind.period == results.primary_period)
               & (ind.subgroup == "all")].set_index("indicator_id")


def shown_value(row: pd.Series, has_rate: bool) -> str | None:
    """The headline value text for a published row (None when the row is not published)."""
    if row["status"] != "published":
        return None
    if not has_rate:
        return f"{int(row['numerator']):,}"
    return pct(row["percentage"])


def shown_ci(row: pd.Series) -> str:
    if row["status"] != "published" or any(math.isnan(row[c]) for c in ("ci_lower_95", "ci_upper_95")):
        return ""
    return f"{pct(row['ci_lower_95'])} to {pct(row['ci_upper_95'])}"


def run_series(results: Results, org_code: str, indicator_id: str) -> pd.DataFrame:
    """The organisation's quarterly series for one indicator, in quarter order."""
    rc = results.run_charts
    return rc[(rc.level == "organisation") & (rc.org_code == org_code) & (rc.indicator_id == indicator_id)].sort_values(
        "quarter_index")


def pick_orgs(results: Results) -> dict[str, str]:
    """An English and a Welsh organisation with many published results (the most patients)."""
    rows = results.indicators
    rows = rows[(rows.level == "organisation") & (rows.period == results.primary_period) & (rows.subgroup == "all")]
    published = rows[rows.status == "published"].groupby(["nation", "org_code"]).size().rename("n").reset_index()
    size = rows.groupby("org_code")["denominator"].max()
    published["size"] = published.org_code.map(size)
    best = published.sort_values(["n", "size", "org_code"], ascending=[False, False, True]).groupby("nation").head(1)
    return dict(zip(best.nation, best.org_code))
