"""Cohort derivation on a hand-built extract, with the expected answers worked out by hand."""

from __future__ import annotations

import pandas as pd

from naome_report.cohort import derive_cohort, financial_quarter_label, financial_year_label
from naome_report.config import load_config

D = pd.Timestamp


def _frames() -> dict[str, pd.DataFrame]:
    patients = pd.DataFrame({
        "patient_id": ["A", "B", "C", "D", "E", "F"], "nation": ["E"] * 6, "sex": ["2"] * 6,
        "date_of_birth": [D("1950-01-01")] * 4 + [D("2010-01-01"), D("1950-01-01")],
        "ethnicity": ["A"] * 6, "deprivation_quintile": [1, 2, 3, 4, 5, None], "charlson_index": [0] * 6,
        "date_of_death": [pd.NaT, D("2025-01-10"), pd.NaT, pd.NaT, pd.NaT, D("2024-06-01")],
    })
    tumours = pd.DataFrame({
        "tumour_id": list("abcdef"), "patient_id": list("ABCDEF"), "data_source": ["COSD"] * 6,
        # A: stage 4 at diagnosis (de novo); B: metastasis 2 years after primary (recurrent);
        # C: in situ only (excluded); D: metastasis 60 days after primary (de novo by the 91-day rule);
        # E: under 18; F: diagnosed on the date of death.
        "diagnosis_date": [D("2024-05-01"), D("2022-06-01"), D("2024-05-01"), D("2024-07-01"), D("2024-07-01"), D("2024-06-01")],
        "icd10_code": ["C50.4", "C50.9", "D05.1", "C50.1", "C50.1", "C50.1"],
        "tnm_m": ["M1", "M0", "M0", None, "M1", "M1"], "stage_group": ["4", "2", "2", None, "4", "4"],
        "er_status": ["P", "N", "P", "P", "P", "P"], "pr_status": ["P", "N", "P", "P", "P", "P"],
        "her2_status": ["N", "N", "N", "P", None, "N"], "org_code": ["ZAA"] * 6,
    })
    metastases = pd.DataFrame({
        "record_id": ["m1", "m2", "m3"], "patient_id": ["B", "D", "B"], "data_source": ["COSD", "HES", "COSD"],
        "metastasis_date": [D("2024-06-15"), D("2024-08-30"), D("2024-07-01")],
        "site_icd10": ["C79.5", "C78.7", "C78.0"], "recurrence_type": ["DISTANT", None, "DISTANT"],
        "org_code": ["ZAD", "ZAA", "ZAD"],
    })
    care = pd.DataFrame({
        "event_id": ["e1", "e2"], "patient_id": ["A", "B"], "event_type": ["MDT", "PS"],
        "event_date": [D("2024-05-20"), D("2024-06-20")], "value": [None, "3"], "data_source": ["COSD", "COSD"],
        "org_code": ["ZAA", "ZAD"],
    })
    empty_sact = pd.DataFrame({"regimen_id": [], "patient_id": [], "regimen_start_date": pd.Series([], dtype="datetime64[ns]"),
                               "last_administration_date": pd.Series([], dtype="datetime64[ns]"), "drug_names": [],
                               "treatment_intent": [], "org_code": []})
    rt = pd.DataFrame({"episode_id": [], "patient_id": [], "episode_start_date": pd.Series([], dtype="datetime64[ns]"),
                       "treatment_site": [], "intent": [], "org_code": []})
    adm = pd.DataFrame({"admission_id": [], "patient_id": [], "admission_date": pd.Series([], dtype="datetime64[ns]"),
                        "discharge_date": pd.Series([], dtype="datetime64[ns]"), "admission_method": [],
                        "primary_diagnosis": [], "org_code": []})
    return {"patients": patients, "tumours": tumours, "metastases": metastases, "care_events": care,
            "sact": empty_sact, "radiotherapy": rt, "admissions": adm}


def test_routes_exclusions_and_derived_columns():
    cohort = derive_cohort(_frames(), load_config())
    pts = cohort.patients.set_index("patient_id")
    assert sorted(pts.index) == ["A", "B", "D"]
    assert dict(zip(cohort.excluded.patient_id, cohort.excluded.step)) == {
        "C": "no_invasive_breast", "E": "under_min_age", "F": "diagnosed_at_death"}
    assert pts.loc["A", "route"] == "de_novo" and pts.loc["D", "route"] == "de_novo"
    assert pts.loc["B", "route"] == "recurrent"
    assert pts.loc["B", "mbc_date"] == D("2024-06-15")  # the earliest of two metastasis records
    assert pts.loc["B", "diagnosing_org"] == "ZAD"
    assert pts.loc["B", "recurrence_recorded"]
    assert pts.loc["B", "subtype"] == "Triple negative" and pts.loc["A", "subtype"] == "ER+/HER2-"
    assert pts.loc["D", "subtype"] == "HER2+"
    assert pts.loc["B", "has_bone_metastases"] and pts.loc["B", "has_lung_metastases"]
    assert pts.loc["B", "ps_group"] == "3-4" and pts.loc["A", "ps_group"] == "Unknown"
    assert pts.loc["A", "stage_known"] and not pts.loc["D", "stage_known"]
    assert pts.loc["B", "died"] and pts.loc["B", "survival_days"] == (D("2025-01-10") - D("2024-06-15")).days
    flow = cohort.flow().set_index("step")["count"]
    assert flow["extract"] == 6 and flow["cohort"] == 3 and flow["de_novo"] == 2


def test_financial_year_and_quarter_labels():
    dates = pd.Series([D("2024-03-31"), D("2024-04-01"), D("2024-12-31"), D("2025-01-01")])
    assert financial_year_label(dates).tolist() == ["2023/24", "2024/25", "2024/25", "2024/25"]
    assert financial_quarter_label(dates).tolist() == ["2023/24 Q4", "2024/25 Q1", "2024/25 Q3", "2024/25 Q4"]


def test_patient_rows_maps_every_table_to_the_patients_table():
    from naome_report.cohort import patient_rows

    frames = {
        "patients": pd.DataFrame({"patient_id": pd.array(["P1", "P2", "P3"], dtype="string[pyarrow]")}),
        # An id not in patients maps to -1; a missing id too; repeats map to the same row.
        "sact": pd.DataFrame({"patient_id": ["P3", "P9", None, "P1", "P3"]}),
        "cpes": pd.DataFrame({"org_code": ["ZAA"]}),  # no patient_id: not keyed
    }
    rows = patient_rows(frames)
    assert rows["patients"].tolist() == [0, 1, 2]
    assert rows["sact"].tolist() == [2, -1, -1, 0, 2]
    assert "cpes" not in rows


def test_earliest_and_latest_record_per_patient_by_hand():
    import numpy as np

    from naome_report.cohort import _first_rows, _latest

    nat = np.datetime64("NaT", "ns")
    d = lambda s: np.datetime64(s, "ns")  # noqa: E731
    keys = np.array([1, 0, 1, 1, 0, -1, 2])
    dates = np.array([d("2024-05-01"), nat, d("2024-04-01"), d("2024-04-01"), d("2024-06-01"), d("2020-01-01"), nat])
    # Patient 0: the only known date (row 4) beats a missing one; patient 1: a tie on 1 April,
    # the first of the tied rows in the second order column (row 2) wins; patient 2: only a missing date (row 6); patient 3: none.
    # Row 5 has no patient (-1) and is ignored although it is the earliest date.
    assert _first_rows(keys, 4, dates, np.arange(7)).tolist() == [4, 2, 6, -1]
    # The second order column breaks the tie: row 3 sorts before row 2 on it.
    assert _first_rows(keys, 4, dates, np.array([0, 0, 5, 1, 0, 0, 0])).tolist() == [4, 3, 6, -1]
    # Latest known date: patient 1's 1 May record (row 0).
    assert _first_rows(keys, 4, _latest(dates)).tolist() == [4, 0, 6, -1]
