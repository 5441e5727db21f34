"""A tiny valid extract, written to a temporary folder, from which each broken extract is made."""

from __future__ import annotations

import copy
import csv
from datetime import date
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from naome_report.ingest.contract import FILES_BY_NAME, INPUT_FILES
from naome_report.ingest.validate import ValidatedExtract, validate_extract

CUTOFF = date(2026, 9, 30)
ORGANISATIONS = pd.DataFrame({"org_code": ["ZAA", "ZAD", "7A1"], "org_name": ["Trust A", "Trust D", "Betsi"]})


def _rows(columns: str, *records: str) -> list[dict[str, str]]:
    names = columns.split(",")
    return [dict(zip(names, record.split(","), strict=True)) for record in records]


BASE: dict[str, list[dict[str, str]]] = {
    "patients": _rows(
        "patient_id,nation,sex,date_of_birth,ethnicity,deprivation_quintile,charlson_index,date_of_death",
        "P1,E,2,1950-03-01,A,3,0,", "P2,E,2,1961-07-01,,1,2,2025-11-02", "P3,W,1,1970-01-01,H,,,",
        "P4,E,2,1944-12-01,Z,5,4,2026-01-15"),
    "tumours": _rows(
        "tumour_id,patient_id,data_source,diagnosis_date,icd10_code,tnm_m,stage_group,er_status,pr_status,"
        "her2_status,org_code",
        "T1,P1,COSD,2024-05-02,C50.4,M1,4,P,P,N,ZAA", "T2,P2,RCRD,2019-02-11,C50.9,M0,2,N,N,P,ZAD",
        "T3,P3,CANISC,2024-10-20,C50.1,,,X,,,7A1", "T4,P4,NCRD,2025-01-07,C50.8,M1,4,P,N,N,ZAA"),
    "metastases": _rows(
        "record_id,patient_id,data_source,metastasis_date,site_icd10,recurrence_type,org_code",
        "M1,P1,COSD,2024-05-02,C79.5,,ZAA", "M2,P1,COSD,2024-05-02,C78.7,,ZAA",
        "M3,P2,HES,2024-08-30,C78.0,DISTANT,ZAD", "M4,P4,COSD,2025-01-07,C79.5,,ZAA"),
    "care_events": _rows(
        "event_id,patient_id,event_type,event_date,value,data_source,org_code",
        "E1,P1,MDT,2024-05-10,,COSD,ZAA", "E2,P1,PS,2024-05-12,1,COSD,ZAA",
        "E3,P2,BIOPSY,2024-09-03,C78.7,HES,ZAD", "E4,P4,CNS,2025-01-20,,COSD,ZAA"),
    "sact": _rows(
        "regimen_id,patient_id,regimen_start_date,last_administration_date,drug_names,treatment_intent,org_code",
        "S1,P1,2024-06-01,2024-12-20,PALBOCICLIB + LETROZOLE,P,ZAA",
        "S2,P2,2024-09-20,2025-06-30,TRASTUZUMAB + PERTUZUMAB + DOCETAXEL,,ZAD",
        "S3,P4,2025-02-01,2025-12-01,ZOLEDRONIC ACID,D,ZAA"),
    "radiotherapy": _rows(
        "episode_id,patient_id,episode_start_date,treatment_site,intent,org_code",
        "R1,P1,2024-06-10,BONE,P,ZAA", "R2,P4,2025-01-28,BONE,,ZAA"),
    "admissions": _rows(
        "admission_id,patient_id,admission_date,discharge_date,admission_method,primary_diagnosis,org_code",
        "A1,P2,2024-10-01,2024-10-05,21,C79.5,ZAD", "A2,P1,2026-09-01,,12,,ZAA"),
    "cpes": _rows("org_code,survey_year,respondents,yes_count", "ZAA,2024,80,71", "ZAD,2024,45,39"),
}


def write_csv(path: Path, rows: list[dict[str, str]], columns: list[str]) -> None:
    """Rows as a UTF-8 CSV with a header (minimal quoting, as most exports do)."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def write_parquet(path: Path, rows: list[dict[str, str]], columns: list[str], name: str) -> None:
    """Rows as Parquet with real types (dates, integers) where every value allows it, text otherwise."""
    spec = FILES_BY_NAME[name]
    arrays = {}
    for column in columns:
        values = [row[column] for row in rows]
        kind = spec.field(column).kind if column in spec.columns else "string"
        arrays[column] = _typed_array(values, kind)
    pq.write_table(pa.table(arrays), path)


def _typed_array(values: list[str], kind: str) -> pa.Array:
    try:
        if kind == "date":
            return pa.array([date.fromisoformat(v) if v else None for v in values], pa.date32())
        if kind == "integer":
            return pa.array([int(v) if v else None for v in values], pa.int64())
    except ValueError:
        pass  # a broken value: stored as text, as a supplier's export might
    return pa.array([v if v else None for v in values], pa.string())


def write_tables(directory: Path, tables: dict[str, list[dict[str, str]]], fmt: str = "csv") -> Path:
    """Write every table of the extract; columns in contract order unless a row says otherwise."""
    directory.mkdir(parents=True, exist_ok=True)
    for spec in INPUT_FILES:
        rows = tables[spec.name]
        columns = list(rows[0]) if rows else spec.columns
        if fmt == "parquet":
            write_parquet(directory / f"{spec.name}.parquet", rows, columns, spec.name)
        else:
            write_csv(directory / f"{spec.name}.csv", rows, columns)
    return directory


def validate(directory: Path) -> ValidatedExtract:
    """Validate with the test organisations and cut-off."""
    return validate_extract(directory, ORGANISATIONS, CUTOFF)


def assert_reconciled(validated: ValidatedExtract, tables: dict[str, list[dict[str, str]]] | None = None) -> None:
    """Every record read is valid or quarantined, exactly once; optionally, every record written was read."""
    counts = validated.counts.set_index("file")
    assert (counts.records_read == counts.records_quarantined + counts.records_valid).all(), counts
    for name, frame in validated.frames.items():
        quarantined = validated.quarantine[validated.quarantine.file == name]
        assert len(frame) == counts.at[name, "records_valid"]
        assert len(quarantined) == counts.at[name, "records_quarantined"]
        rows = set(frame["_row"]) | set(quarantined["row"])
        assert rows == set(range(1, counts.at[name, "records_read"] + 1))
        if tables is not None:
            assert counts.at[name, "records_read"] == len(tables[name])


@pytest.fixture
def tables() -> dict[str, list[dict[str, str]]]:
    """A fresh copy of the tiny valid extract's tables, to be broken by a test."""
    return copy.deepcopy(BASE)


@pytest.fixture
def extract(tmp_path: Path, tables: dict[str, list[dict[str, str]]]) -> Path:
    """The tiny valid extract written as CSV."""
    return write_tables(tmp_path / "extract", tables)
