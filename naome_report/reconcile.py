"""Reconciliation: every input record is included, excluded with a reason, or quarantined."""

from __future__ import annotations

import pandas as pd

from naome_report.cohort import Cohort


class ReconciliationFailure(RuntimeError):
    """Counts that do not add up: a record was lost somewhere."""


def reconcile(counts: pd.DataFrame, frames: dict[str, pd.DataFrame], cohort: Cohort) -> pd.DataFrame:
    """Per input file: records read = quarantined + excluded (not in the cohort) + included."""
    rows = []
    for rec in counts.itertuples():
        frame = frames[rec.file]
        if "patient_id" in frame:
            included = cohort.included_records[rec.file]
        else:  # organisation-level aggregates (CPES) are all used
            included = len(frame)
        excluded = int(rec.records_valid) - included
        balanced = rec.records_read == rec.records_quarantined + excluded + included
        rows.append({"file": rec.file, "records_read": int(rec.records_read),
                     "quarantined": int(rec.records_quarantined), "excluded": excluded, "included": included,
                     "balanced": "yes" if balanced else "no"})
    table = pd.DataFrame(rows)
    if (table.balanced != "yes").any():
        bad = table[table.balanced != "yes"].file.tolist()
        raise ReconciliationFailure(f"record counts do not add up for {bad}")
    return table
