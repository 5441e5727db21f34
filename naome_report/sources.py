"""The extract's data sources: what each file is, its coverage and extract date, and how it links to the cohort."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from naome_report.cohort import Cohort
from naome_report.ingest.contract import INPUT_FILES
from naome_report.ingest.rules import ORPHAN

MANIFEST = "manifest.csv"  # optional, beside the extract files: one row per file, from the data provider
MANIFEST_COLUMNS = ("file", "nations", "extract_date", "covers_from", "covers_to")
NOT_SUPPLIED = "not supplied"


def read_manifest(extract_dir: Path) -> pd.DataFrame:
    """The extract's manifest (coverage and extract date of each file); empty when the extract has none."""
    path = extract_dir / MANIFEST
    if not path.is_file():
        return pd.DataFrame(columns=list(MANIFEST_COLUMNS))
    manifest = pd.read_csv(path, dtype=str, keep_default_na=False)
    missing = [c for c in MANIFEST_COLUMNS if c not in manifest.columns]
    if missing:
        raise ValueError(f"{path}: missing column(s) {', '.join(missing)}; the columns are {', '.join(MANIFEST_COLUMNS)}")
    return manifest[list(MANIFEST_COLUMNS)]


def data_sources(counts: pd.DataFrame, quarantine: pd.DataFrame, cohort: Cohort, manifest: pd.DataFrame) -> pd.DataFrame:
    """Per input file: its dataset, coverage, extract date, records linked to a person, and cohort patients with a record."""
    unlinked = quarantine[quarantine.reason.astype(str).str.contains(ORPHAN, regex=False)].groupby("file").size()
    info = manifest.set_index("file")
    cohort_size = cohort.patients_with_records.get("patients", 0)
    rows = []
    for spec in INPUT_FILES:
        read = int(counts.set_index("file").records_read.get(spec.name, 0))
        person_level = spec.patient_level and spec.name != "patients"
        linked = read - int(unlinked.get(spec.name, 0)) if person_level else np.nan
        with_records = cohort.patients_with_records.get(spec.name, np.nan) if spec.patient_level else np.nan
        rows.append({
            "file": spec.name, "dataset": spec.source,
            **{col: (info.at[spec.name, col] or NOT_SUPPLIED) if spec.name in info.index else NOT_SUPPLIED
               for col in MANIFEST_COLUMNS[1:]},
            "records_read": read, "records_linked": linked,
            "linked_percentage": 100 * linked / read if person_level and read else np.nan,
            "cohort_patients_with_record": with_records,
            "cohort_percentage": 100 * with_records / cohort_size if spec.patient_level and cohort_size else np.nan,
        })
    return pd.DataFrame(rows)
