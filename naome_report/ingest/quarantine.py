"""Writing the quarantined records and the validation counts."""

from __future__ import annotations

import csv
import logging
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from naome_report import atomic

if TYPE_CHECKING:
    from naome_report.ingest.validate import ValidatedExtract

logger = logging.getLogger("naome_report.ingest")

QUARANTINE_FILE = "quarantine.csv"
COUNTS_FILE = "validation_counts.csv"


def write_quarantine(validated: ValidatedExtract, out_dir: Path) -> Path:
    """Write quarantine.csv (one row per quarantined record) and validation_counts.csv; return the first."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / QUARANTINE_FILE
    write_restricted_csv(validated.quarantine, path)
    write_restricted_csv(validated.counts, out_dir / COUNTS_FILE)
    logger.info("%s quarantined records written to %s", f"{len(validated.quarantine):,}", path)
    return path


def write_restricted_csv(frame: pd.DataFrame, path: Path) -> Path:
    """A record-level or unsuppressed table for the analysts (under output/restricted): UTF-8 CSV, every text
    value quoted and written exactly as received."""
    # A value such as =HYPERLINK(...) stays literal: a CSV file cannot execute anything, and an
    # apostrophe prefix would change the data. A spreadsheet may still evaluate it on double-click,
    # so the data dictionary tells analysts to import the file with every column as text.
    with atomic.replacing(path) as tmp:
        frame.to_csv(tmp, index=False, encoding="utf-8", quoting=csv.QUOTE_NONNUMERIC, lineterminator="\n")
    return path
