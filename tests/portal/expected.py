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


def unit_rows(results: Results, code: str, period: str | None = None) -> pd.DataFrame:
    """Any unit's all-patients rows of naome_indicators.csv for one period (the pooled one by default)."""
    ind = results.indicators
    return ind[(ind.org_code == code) & (ind.period == (period or results.primary_period))
               & (ind.subgroup == "all")].set_index("indicator_id")


def areas(results: Results) -> pd.DataFrame:
    """Every nation, region and alliance: code, name, level, nation."""
    ind = results.indicators
    return ind.loc[ind.level.isin(["nation", "region", "alliance"]), ["org_code", "org_name", "level", "nation"]] \
        .drop_duplicates("org_code")


def area_page(portal_dir, code: str):
    return portal_dir / "areas" / f"{code}.html"


def shown_main(row: pd.Series, has_rate: bool, adjusted: bool) -> str | None:
    """The value a page shows first: the adjusted rate for case-mix adjusted indicators, else the crude one."""
    if row["status"] != "published":
        return None
    if adjusted and not math.isnan(row.get("adjusted_percentage", float("nan"))):
        return pct(row["adjusted_percentage"])
    return shown_value(row, has_rate)


def shown_interval(row: pd.Series, adjusted: bool) -> str:
    """The CI shown beside the first value: the adjusted rate's where that rate is shown and has one, else the crude."""
    lo, hi = row.get("adjusted_ci_lower_95", float("nan")), row.get("adjusted_ci_upper_95", float("nan"))
    has_adjusted = adjusted and not math.isnan(row.get("adjusted_percentage", float("nan")))
    if has_adjusted and not (math.isnan(lo) or math.isnan(hi)):
        return f"{pct(lo)} to {pct(hi)}"
    return shown_ci(row)
