"""Which indicators this extract cannot support, and why: published as `not_available`, never a build failure.

An indicator whose source records are absent (a header-only file, or no record of anyone in the
cohort) would otherwise be published as 0% everywhere; one whose case-mix model cannot be fitted
has no adjusted rate. Both are `not_available` with the reason, and the rest of the build goes on.
"""

from __future__ import annotations

import pandas as pd

from naome_report.registry import Indicator, Registry

# Derived patient columns and the input file they come from.
DERIVED_FROM = {"treated_sact": "sact", "any_sact": "sact", "days_to_first_sact": "sact"}
RULE_SOURCES = {"death_after_last_sact": "sact"}


def source_files(indicator: Indicator) -> set[str]:
    """The input files an indicator's numerator is counted from (as far as its registry rule names them)."""
    rule = indicator.numerator
    files = set()
    if rule.get("table"):
        files.add(rule["table"])
    if rule.get("kind") in RULE_SOURCES:
        files.add(RULE_SOURCES[rule["kind"]])
    if rule.get("column") in DERIVED_FROM:
        files.add(DERIVED_FROM[rule["column"]])
    return files


def unavailable_indicators(registry: Registry, records: dict[str, int],
                           model_failures: dict[str, str]) -> dict[str, str]:
    """Indicator id -> the reason it cannot be published from this extract.

    `records`: input file -> records usable for the cohort; `model_failures`: indicator id -> why its
    case-mix model could not be fitted.
    """
    reasons = {}
    for ind in registry:
        empty = sorted(f for f in source_files(ind) if records.get(f, 1) == 0)
        if empty:
            reasons[ind.id] = (f"Not available: the extract has no {', '.join(empty)} records for the patients "
                               "in the audit, so this indicator cannot be measured")
        elif ind.id in model_failures:
            reasons[ind.id] = f"Not available: the case-mix model could not be fitted ({model_failures[ind.id]})"
    return reasons


def mark_unavailable(counts: pd.DataFrame, reasons: dict[str, str]) -> pd.DataFrame:
    """The indicator counts with every row of an unavailable indicator marked not available, with its reason."""
    if not reasons:
        return counts
    out = counts.copy()
    hit = out.indicator_id.isin(list(reasons))
    out.loc[hit, "available"] = False
    out.loc[hit, "availability_note"] = out.loc[hit, "indicator_id"].map(reasons)
    return out
