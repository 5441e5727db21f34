"""The corpus of broken extracts: each gets exactly its documented fatal error or quarantine reason."""

from __future__ import annotations

import codecs
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from conftest import BASE, assert_reconciled, validate, write_tables
from naome_report.ingest.errors import ExtractError

Tables = dict[str, list[dict[str, str]]]


def _set(tables: Tables, file: str, row: int, **values: str) -> None:
    tables[file][row - 1].update(values)


def _append(tables: Tables, file: str, **values: str) -> None:
    tables[file].append({**tables[file][0], **values})


def _rewrite(path: Path, edit: Callable[[bytes], bytes]) -> None:
    path.write_bytes(edit(path.read_bytes()))


# --- fatal problems -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Fatal:
    """A broken extract that must stop the run with this file, problem and fix."""

    break_files: Callable[[Path], None]
    file: str
    problem: str
    fix: str
    break_tables: Callable[[Tables], None] | None = None


def _parquet_too(directory: Path) -> None:
    pd.read_csv(directory / "sact.csv", dtype=str).to_parquet(directory / "sact.parquet")


def _truncated_parquet(directory: Path) -> None:
    pd.read_csv(directory / "metastases.csv", dtype=str).to_parquet(directory / "metastases.parquet")
    (directory / "metastases.csv").unlink()
    _rewrite(directory / "metastases.parquet", lambda data: data[: len(data) // 2])


def _latin1_parquet(directory: Path) -> None:
    """A Parquet text column holding Windows-1252 bytes in row 2 (Parquet does not check UTF-8 on write)."""
    frame = pd.read_csv(directory / "cpes.csv", dtype=str)
    data = b"".join(v.encode() if i != 1 else b"Z\xc9D" for i, v in enumerate(frame.org_code))
    offsets = pa.array([0, 3, 6], pa.int32()).buffers()[1]
    org_code = pa.Array.from_buffers(pa.string(), 2, [None, offsets, pa.py_buffer(data)])
    table = pa.table({"org_code": org_code, **{c: pa.array(frame[c]) for c in frame.columns[1:]}})
    pq.write_table(table, directory / "cpes.parquet")
    (directory / "cpes.csv").unlink()


def _many_bad_dates(tables: Tables) -> None:
    for i in range(30):
        _append(tables, "sact", regimen_id=f"SX{i}", regimen_start_date=f"{i % 28 + 1:02d}/01/2025")


FATAL = {
    "missing file": Fatal(lambda d: (d / "sact.csv").unlink(), "sact", "no sact.csv or sact.parquet in",
                          "add the Systemic Anti-Cancer Therapy dataset"),
    "missing column": Fatal(lambda d: None, "patients.csv", "column 'sex' is missing",
                            "add the column to the file, named exactly as in docs/data-dictionary.md",
                            lambda t: [row.pop("sex") for row in t["patients"]]),
    "misnamed column": Fatal(lambda d: None, "patients.csv", "column 'sex' is missing",
                             "the file has 'Sex' where 'sex' is expected",
                             lambda t: [row.update(Sex=row.pop("sex")) for row in t["patients"]]),
    "empty 0-byte file": Fatal(lambda d: (d / "radiotherapy.csv").write_bytes(b""), "radiotherapy.csv",
                               "the file is empty (0 bytes)", "must still have its header row"),
    "header only patients": Fatal(lambda d: None, "patients.csv", "the file has a header but no records",
                                  "supply the patients file", lambda t: t["patients"].clear()),
    "truncated CSV": Fatal(lambda d: _rewrite(d / "sact.csv", lambda b: b[:-25]), "sact.csv",
                           "the last line (line 4) has 4 fields where the header has 7: the file looks truncated",
                           "copy or export the complete file again"),
    "unterminated quote": Fatal(
        lambda d: _rewrite(d / "care_events.csv", lambda b: b + b'E9,P1,MDT,2024-05-10,"oops\n'),
        "care_events.csv", "a double quote opened on line 6 is never closed", "copy or export the complete file again"),
    "extra field mid-file": Fatal(lambda d: _rewrite(d / "tumours.csv", lambda b: b.replace(b"C50.9,", b"C50,9,")),
                                  "tumours.csv", "line 3 has 12 fields where the header has 11",
                                  "put double quotes around values that contain commas"),
    "unreadable Parquet": Fatal(_truncated_parquet, "metastases.parquet", "the file cannot be opened as Parquet",
                                "copy or export the complete file again"),
    "non-UTF-8 byte": Fatal(lambda d: _rewrite(d / "care_events.csv", lambda b: b.replace(b"C78.7", b"caf\xe9")),
                            "care_events.csv", "the file is not UTF-8: byte 0xE9 on line 4 (byte offset 158)",
                            "save the file as UTF-8"),
    "non-UTF-8 bytes in Parquet": Fatal(_latin1_parquet, "cpes.parquet",
                                        "the file is not UTF-8: column 'org_code' of row 2", "save the file as UTF-8"),
    "UTF-16 file": Fatal(
        lambda d: _rewrite(d / "cpes.csv", lambda b: codecs.BOM_UTF16_LE + b.decode().encode("utf-16-le")),
        "cpes.csv", "the file is encoded as UTF-16, not UTF-8", "save the file as UTF-8"),
    "workbook named .csv": Fatal(lambda d: _rewrite(d / "cpes.csv", lambda b: b"PK\x03\x04" + b), "cpes.csv",
                                 "the file is a ZIP archive or an Excel workbook", "CSV UTF-8"),
    "both csv and parquet": Fatal(_parquet_too, "sact", "both sact.csv and sact.parquet are in",
                                  "remove one of them"),
    "repeated column": Fatal(lambda d: _rewrite(d / "cpes.csv", lambda b: b.replace(b"yes_count", b"respondents", 1)),
                             "cpes.csv", "column 'respondents' appears more than once", "keep one column of each name"),
    "whole file in the wrong date format": Fatal(
        lambda d: None, "sact.csv", "91% of its 33 records fail validation, most often 'not a valid date'",
        "write every date as YYYY-MM-DD", _many_bad_dates),
}


@pytest.mark.parametrize("case", FATAL.values(), ids=FATAL.keys())
def test_fatal_problem_stops_the_run_with_file_problem_and_fix(case: Fatal, tables: Tables, tmp_path: Path) -> None:
    if case.break_tables:
        case.break_tables(tables)
    directory = write_tables(tmp_path / "extract", tables)
    case.break_files(directory)
    with pytest.raises(ExtractError) as caught:
        validate(directory)
    error = caught.value
    assert error.file == case.file
    assert case.problem in error.problem
    assert case.fix in error.fix
    assert str(error) == f"{error.file}: {error.problem}. Fix: {error.fix}"
    assert "Traceback" not in str(error)


# --- record-level problems ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Quarantined:
    """A broken extract whose bad records must be quarantined as (file, key, column, value, reason)."""

    break_tables: Callable[[Tables], None]
    expected: list[tuple[str, str, str, str, str]]


QUARANTINE = {
    "wrong date format": Quarantined(
        lambda t: _set(t, "sact", 2, regimen_start_date="20/09/2024"),
        [("sact", "S2", "regimen_start_date", "20/09/2024", "not a valid date")]),
    "impossible calendar date": Quarantined(
        lambda t: _set(t, "tumours", 3, diagnosis_date="2023-02-29"),
        [("tumours", "T3", "diagnosis_date", "2023-02-29", "not a valid date")]),
    "date before 1900": Quarantined(
        lambda t: _set(t, "patients", 3, date_of_birth="1066-10-14"),
        [("patients", "P3", "date_of_birth", "1066-10-14", "impossible date (before 1900-01-01)"),
         ("tumours", "T3", "patient_id", "P3", "patient record quarantined")]),
    "future date": Quarantined(
        lambda t: _set(t, "care_events", 4, event_date="2026-10-01"),
        [("care_events", "E4", "event_date", "2026-10-01", "future date (after data cut-off 2026-09-30)")]),
    "date order violated": Quarantined(
        lambda t: _set(t, "sact", 1, last_administration_date="2024-05-31"),
        [("sact", "S1", "last_administration_date", "2024-05-31",
          "date order: last_administration_date before regimen_start_date")]),
    "invalid code": Quarantined(
        lambda t: _set(t, "tumours", 1, er_status="Positive"),
        [("tumours", "T1", "er_status", "Positive", "invalid code")]),
    "code with a trailing space": Quarantined(
        lambda t: _set(t, "radiotherapy", 2, treatment_site="BONE "),
        [("radiotherapy", "R2", "treatment_site", "BONE ", "invalid code")]),
    "code not matching its pattern": Quarantined(
        lambda t: _set(t, "metastases", 3, site_icd10="C7X.5"),
        [("metastases", "M3", "site_icd10", "C7X.5", "invalid code")]),
    "duplicate identifier: every copy": Quarantined(
        lambda t: _append(t, "tumours", tumour_id="T2", patient_id="P3"),
        [("tumours", "T2", "tumour_id", "T2", "duplicate identifier"),
         ("tumours", "T2", "tumour_id", "T2", "duplicate identifier")]),
    "duplicate composite key": Quarantined(
        lambda t: _append(t, "cpes", respondents="81", yes_count="70"),
        [("cpes", "ZAA, 2024", "org_code, survey_year", "ZAA, 2024", "duplicate identifier")] * 2),
    "unknown organisation": Quarantined(
        lambda t: _set(t, "admissions", 1, org_code="XXQ"),
        [("admissions", "A1", "org_code", "XXQ", "unknown organisation")]),
    "orphan patient_id": Quarantined(
        lambda t: _set(t, "radiotherapy", 1, patient_id="P99"),
        [("radiotherapy", "R1", "patient_id", "P99", "patient not in patients file")]),
    "required value missing": Quarantined(
        lambda t: _set(t, "metastases", 4, metastasis_date=""),
        [("metastases", "M4", "metastasis_date", "", "missing required value")]),
    "required value only spaces": Quarantined(
        lambda t: _set(t, "patients", 1, nation="  "),
        [("patients", "P1", "nation", "  ", "missing required value"),
         *[(f, k, "patient_id", "P1", "patient record quarantined") for f, k in
           [("tumours", "T1"), ("metastases", "M1"), ("metastases", "M2"), ("care_events", "E1"),
            ("care_events", "E2"), ("sact", "S1"), ("radiotherapy", "R1"), ("admissions", "A2")]]]),
    "out-of-range integer": Quarantined(
        lambda t: _set(t, "patients", 2, deprivation_quintile="7"),
        [("patients", "P2", "deprivation_quintile", "7", "out of range"),
         *[(f, k, "patient_id", "P2", "patient record quarantined") for f, k in
           [("tumours", "T2"), ("metastases", "M3"), ("care_events", "E3"), ("sact", "S2"), ("admissions", "A1")]]]),
    "not a whole number": Quarantined(
        lambda t: _set(t, "cpes", 2, respondents="45.0"),
        [("cpes", "ZAD, 2024", "respondents", "45.0", "not a whole number")]),
    "invalid identifier": Quarantined(
        lambda t: _set(t, "care_events", 1, event_id="E 1"),
        [("care_events", "E 1", "event_id", "E 1", "invalid identifier")]),
    "formula text in drug_names": Quarantined(
        lambda t: _set(t, "sact", 3, drug_names='=HYPERLINK("http://x","y")'),
        [("sact", "S3", "drug_names", '=HYPERLINK("http://x","y")', "invalid format")]),
    "several problems in one record": Quarantined(
        lambda t: _set(t, "sact", 2, treatment_intent="Q", org_code="XXQ", regimen_start_date="2025-07-01"),
        [("sact", "S2", "last_administration_date; treatment_intent; org_code", "2025-06-30; Q; XXQ",
          "date order: last_administration_date before regimen_start_date; invalid code; unknown organisation")]),
    "malformed org_code is not also looked up": Quarantined(
        lambda t: _set(t, "metastases", 1, org_code="zaa"),
        [("metastases", "M1", "org_code", "zaa", "invalid code")]),
}


@pytest.mark.parametrize("case", QUARANTINE.values(), ids=QUARANTINE.keys())
def test_bad_record_is_quarantined_with_its_reason(case: Quarantined, tables: Tables, tmp_path: Path) -> None:
    case.break_tables(tables)
    validated = validate(write_tables(tmp_path / "extract", tables))
    found = validated.quarantine[["file", "key", "column", "value", "reason"]].itertuples(index=False, name=None)
    assert sorted(found) == sorted(case.expected)
    assert_reconciled(validated, tables)


def test_parquet_extract_gives_the_same_result_as_csv(tables: Tables, tmp_path: Path) -> None:
    for case in QUARANTINE.values():  # every break at once: one comparison covers them all
        case.break_tables(tables)
    as_csv = validate(write_tables(tmp_path / "csv", tables))
    as_parquet = validate(write_tables(tmp_path / "parquet", tables, fmt="parquet"))
    assert len(as_csv.quarantine) > 20
    pd.testing.assert_frame_equal(as_csv.quarantine, as_parquet.quarantine)
    pd.testing.assert_frame_equal(as_csv.counts, as_parquet.counts)
    for name, frame in as_csv.frames.items():
        pd.testing.assert_frame_equal(frame, as_parquet.frames[name])
    assert_reconciled(as_parquet, tables)


def test_bad_rows_carry_their_row_number(tables: Tables, tmp_path: Path) -> None:
    _set(tables, "care_events", 3, event_type="XRAY")
    validated = validate(write_tables(tmp_path / "extract", tables))
    assert validated.quarantine.row.tolist() == [3]
    assert validated.frames["care_events"]["_row"].tolist() == [1, 2, 4]


def test_the_unchanged_extract_is_all_valid(extract: Path) -> None:
    validated = validate(extract)
    assert validated.quarantine.empty
    assert validated.warnings == []
    assert_reconciled(validated, BASE)
