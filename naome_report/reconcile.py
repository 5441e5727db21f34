"""Accounting for every record and person: the reconciliation, the patient flow, and their published form.

The reconciliation counts each part independently (records read by the reader, quarantined records
from the quarantine list, excluded records from each person's exclusion reason, included records
from the cohort), so `balanced` is a check, not an identity. Published counts follow the disclosure
rule: a count from 1 to 4 is withheld, with a partner count withheld beside it so that no total gives
it away.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from naome_report.cohort import Cohort
from naome_report.errors import NaomeError
from naome_report.stats.disclosure import primary_suppression

CPES_OUTSIDE_PERIOD = "survey_outside_period"  # organisation-level rows whose survey year is not reported


class ReconciliationFailure(NaomeError):
    """Counts that do not add up: a record was lost somewhere (a fault in the toolkit: please report it)."""


def exclusions_by_reason(frames: dict[str, pd.DataFrame], cohort: Cohort, financial_years: list[str]) -> pd.DataFrame:
    """Valid records excluded from the audit, per input file and reason (long: file, reason, records)."""
    reason_of = pd.Series(cohort.excluded.step.to_numpy(), index=cohort.excluded.patient_id.to_numpy())
    rows = []
    for name, frame in frames.items():
        if "patient_id" in frame:
            reasons = frame.patient_id.map(reason_of).dropna()
            counts = reasons.value_counts()
        else:  # organisation-level aggregates (CPES): rows whose survey year is outside the reported years
            years = {int(fy[:4]) for fy in financial_years}
            outside = ~pd.to_numeric(frame.survey_year, errors="coerce").isin(years)
            counts = pd.Series({CPES_OUTSIDE_PERIOD: int(outside.sum())})
        rows += [{"file": name, "reason": reason, "records": int(n)} for reason, n in counts.items() if n]
    return pd.DataFrame(rows, columns=["file", "reason", "records"])


def reconcile(counts: pd.DataFrame, quarantine: pd.DataFrame, frames: dict[str, pd.DataFrame], cohort: Cohort,
              financial_years: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per input file: records read = quarantined + excluded (by reason) + included, each counted on its own.

    Returns the reconciliation (true counts) and the exclusions by reason; raises ReconciliationFailure
    when a file does not balance.
    """
    by_reason = exclusions_by_reason(frames, cohort, financial_years)
    excluded = by_reason.groupby("file").records.sum()
    quarantined = quarantine.groupby("file").size()
    rows = []
    for rec in counts.itertuples():
        frame = frames[rec.file]
        if "patient_id" in frame:
            included = int(cohort.included_records[rec.file])
        else:
            included = len(frame) - int(excluded.get(rec.file, 0))  # used rows are those in the reported years
        row = {"file": rec.file, "records_read": int(rec.records_read), "quarantined": int(quarantined.get(rec.file, 0)),
               "excluded": int(excluded.get(rec.file, 0)), "included": included}
        row["balanced"] = "yes" if row["records_read"] == row["quarantined"] + row["excluded"] + included else "no"
        rows.append(row)
    table = pd.DataFrame(rows)
    if (table.balanced != "yes").any():
        bad = table[table.balanced != "yes"]
        detail = "; ".join(f"{r.file}: {r.records_read} read, {r.quarantined} quarantined + {r.excluded} excluded + "
                           f"{r.included} included" for r in bad.itertuples())
        raise ReconciliationFailure(f"record counts do not add up ({detail}): a fault in naome-report; "
                                    "report it with the log")
    return table, by_reason


def withheld_counts(values: pd.Series, relations: list[tuple[str, list[str]]], low: int = 1, high: int = 4) -> pd.Series:
    """Which counts to withhold: each from `low` to `high`, and partners so no relation total gives one away.

    `values` is indexed by name; each relation says total = sum of members. Where a published total
    would show a withheld member (the only one withheld, or withheld members summing to `low`..`high`),
    the smallest other positive member is withheld too, or the total if there is none; a withheld
    total whose members are all published gets a withheld member. Repeated until stable. Names that
    are the total of a relation are never chosen as another relation's partner while a member is left.
    """
    withheld = pd.Series(primary_suppression(values.to_numpy(float), low, high), index=values.index)
    totals = {total for total, _ in relations}
    changed = True
    while changed:
        changed = False
        for total, members in relations:
            hidden = [m for m in members if withheld[m]]
            hidden_sum = float(values[hidden].sum())
            exposed = (not withheld[total] and hidden and (len(hidden) == 1 or low <= hidden_sum <= high)) or \
                      (withheld[total] and not hidden and len(members) > 0)
            if not exposed:
                continue
            candidates = [m for m in members if not withheld[m] and values[m] > 0]
            candidates.sort(key=lambda m: (m in totals, values[m]))
            pick = candidates[0] if candidates else total
            if not withheld[pick]:
                withheld[pick] = True
                changed = True
    return withheld


def published_flow(flow: pd.DataFrame, low: int = 1, high: int = 4) -> pd.DataFrame:
    """The patient flow as published: counts from `low` to `high` (and their partners) withheld, with a status."""
    counts = flow.set_index("step")["count"].astype(float)
    steps = list(counts.index)
    exclusions = steps[1:steps.index("cohort")]
    relations = [("extract", exclusions + ["cohort"]), ("cohort", [s for s in ("de_novo", "recurrent") if s in counts])]
    withheld = withheld_counts(counts, relations, low, high).to_numpy()
    out = flow.copy()
    out["count"] = np.where(withheld, np.nan, counts.to_numpy())
    out["count"] = out["count"].astype("Int64")
    out["status"] = np.where(withheld, "suppressed", "published")
    return out


def published_reconciliation(table: pd.DataFrame, low: int = 1, high: int = 4) -> pd.DataFrame:
    """The reconciliation as published: per file, counts from `low` to `high` withheld with a partner, and a status."""
    out = table.copy()
    columns = ["records_read", "quarantined", "excluded", "included"]
    status = []
    for i, rec in table.iterrows():
        values = rec[columns].astype(float)
        withheld = withheld_counts(values, [("records_read", columns[1:])], low, high)
        for column in columns:
            if withheld[column]:
                out.at[i, column] = np.nan
        status.append("suppressed" if withheld.any() else "published")
    for column in columns:
        out[column] = out[column].astype("Int64")
    out["status"] = status
    return out
