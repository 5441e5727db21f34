"""Restricted outputs: the HQIP timetable, the cases, letters and tracker from the results files, and the
data-quality lists from patient records. Expected dates are worked by hand from the calendar; expected cases
and figures from the fixture's rules."""

from __future__ import annotations

import csv
import re
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook

from naome_report.config import ConfigError, load_config
from naome_report.hub import load_results
from naome_report.registry import load_registry
from naome_report.restricted import HANDLING, MARKER, find_restricted, restricted_identifiers
from naome_report.restricted.data_quality import feedback_lists, item_states, load_items, write_data_quality
from naome_report.outlier_process import load_outlier_process
from naome_report.restricted.cases import add_working_days, outlier_cases, timetable

REF = "NAOME-OP-2023-24_to_2025-26-"
# From the fixture's rules: mdt and mort30_sact are in the process; in the pooled period ZZX is an alert (low)
# for mdt (higher is better) and an alarm (high) for mort30_sact (lower is better); ZAA's alert (low) for
# mort30_sact is favourable, so not a case; every other organisation result is within the limits, not
# assessed, or not in the process.
CASES = {f"{REF}ZZX-mdt": "alert_low", f"{REF}ZZX-mort30_sact": "alarm_high"}


# ------------------------------------------------------------------------------------------------
# Working days and the timetable
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("start, days, nation, expected", [
    (date(2026, 10, 19), 10, "England", date(2026, 11, 2)),     # two plain weeks
    (date(2026, 12, 18), 5, "England", date(2026, 12, 29)),     # Christmas Day and Boxing Day (observed 28th)
    (date(2026, 12, 18), 5, "Wales", date(2026, 12, 29)),       # the same bank holidays in Wales
    (date(2027, 3, 25), 1, "England", date(2027, 3, 30)),       # Good Friday 26 and Easter Monday 29 March 2027
    (date(2026, 10, 17), 1, "England", date(2026, 10, 20)),     # a Saturday start counts from Monday
    (date(2026, 8, 28), 1, "England", date(2026, 9, 1)),        # late summer bank holiday, 31 August 2026
])
def test_working_days_skip_weekends_and_bank_holidays(start, days, nation, expected):
    assert add_working_days(start, days, nation) == expected


def test_alarm_timetable_from_the_configured_start():
    """Start Monday 19 October 2026; limits 10, 5, 25, 20, 5, 10, 5 working days; publication 11 March 2027."""
    process = load_outlier_process(load_config()).for_nation("England")
    plan = timetable(process, "alarm", "England", date(2027, 3, 11))
    assert [(s.number, d) for s, d in plan] == [
        (1, date(2026, 11, 2)), (2, date(2026, 11, 9)), (3, date(2026, 12, 14)),
        (4, date(2027, 1, 14)),  # 15 Dec to 14 Jan: Christmas, Boxing Day (observed 28th) and New Year skipped
        (5, date(2027, 1, 21)), (6, date(2027, 2, 4)), (7, date(2027, 2, 11)), (8, date(2027, 3, 11)),
    ]
    assert [s.who for s, _ in plan][:3] == ["NAoMe team", "NAoMe team", "Clinical lead"]
    alert = timetable(process, "alert", "Wales", date(2027, 3, 11))
    assert [(s.number, d) for s, d in alert] == [(1, date(2026, 11, 2)), (2, date(2026, 11, 9)), (3, None),
                                                 (4, date(2027, 3, 11))]


# ------------------------------------------------------------------------------------------------
# Cases, tracker and letters from the results files
# ------------------------------------------------------------------------------------------------


def test_cases_are_the_alarms_and_alerts_of_indicators_in_the_process(fixture_data):
    cases = outlier_cases(load_results(fixture_data), load_registry(), load_outlier_process(load_config()))
    assert dict(zip(cases["case_reference"], cases["outlier_status"])) == CASES


def test_a_favourable_alarm_is_not_a_case(fixture_data):
    """An alarm on the better side (low 30-day mortality) enters no stage; the same alarm on the worse side does."""
    results = load_results(fixture_data)
    frame = results.indicators
    row = (frame["org_code"].eq("ZAA") & frame["indicator_id"].eq("mort30_sact") & frame["level"].eq("organisation")
           & frame["period"].eq(results.primary_period) & frame["subgroup"].eq("all"))
    process = load_outlier_process(load_config())
    frame.loc[row, "outlier_status"] = "alarm_low"
    assert f"{REF}ZAA-mort30_sact" not in set(outlier_cases(results, load_registry(), process)["case_reference"])
    frame.loc[row, "outlier_status"] = "alarm_high"
    assert f"{REF}ZAA-mort30_sact" in set(outlier_cases(results, load_registry(), process)["case_reference"])


def test_tracker_has_each_stage_of_each_case_with_its_date(restricted):
    with (restricted / "outlier-tracker.csv").open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 8 + 4  # one alarm (8 stages), one alert (4)
    assert all(r["handling"] == "NAOME-RESTRICTED: not for publication" for r in rows)
    alarm = [r for r in rows if r["case_reference"] == f"{REF}ZZX-mort30_sact"]
    assert [r["stage"] for r in alarm] == [str(i) for i in range(1, 9)]
    assert [r["due_date"] for r in alarm] == ["2026-11-02", "2026-11-09", "2026-12-14", "2027-01-14", "2027-01-21",
                                              "2027-02-04", "2027-02-11", "2027-03-11"]
    assert alarm[1]["letters"] == "letters/ZZX/ZZX_alarm_stage2_alarm_potential.md"
    assert alarm[4]["letters"] == ("letters/ZZX/ZZX_alarm_stage5_alarm_confirmed.md; "
                                   "letters/ZZX/ZZX_alarm_stage5_alarm_regulator.md")
    assert {r["outlier_status"] for r in alarm} == {"Alarm (high)"}
    alert = [r for r in rows if r["case_reference"] == f"{REF}ZZX-mdt"]
    assert [r["due_date"] for r in alert] == ["2026-11-02", "2026-11-09", "no time limit", "2027-03-11"]
    assert all(r["completed_on"] == "" for r in rows)
    for r in rows:  # every letter the tracker names exists
        for letter in filter(None, r["letters"].split("; ")):
            assert (restricted / letter).is_file(), letter


def test_tracker_sheet_is_marked_restricted(restricted):
    book = load_workbook(restricted / "outlier-tracker.xlsx")
    ws = book["Outlier_tracker"]
    assert ws["A1"].value == "NAOME-RESTRICTED NAoMe outlier tracker"
    assert ws["A2"].value.startswith(HANDLING)
    (table,) = ws.tables.values()
    cells = list(ws[table.ref])
    header = [c.value for c in cells[0]]
    assert header[:5] == ["Handling", "Case reference", "Organisation code", "Organisation name", "Nation"]
    assert [row[0].value for row in cells[1:]] == [HANDLING] * 12
    assert MARKER in book.properties.keywords


def test_letters_for_each_organisation_and_stage(restricted):
    letters = sorted(p.relative_to(restricted).as_posix() for p in (restricted / "letters").rglob("*.md"))
    assert letters == [
        "letters/ZZX/ZZX_alarm_stage2_alarm_potential.md", "letters/ZZX/ZZX_alarm_stage5_alarm_confirmed.md",
        "letters/ZZX/ZZX_alarm_stage5_alarm_regulator.md", "letters/ZZX/ZZX_alarm_stage7_alarm_reminder.md",
        "letters/ZZX/ZZX_alert_stage2_alert.md",
    ]
    for path in (restricted / "letters").rglob("*.md"):
        assert path.read_text().startswith("NAOME-RESTRICTED: not for publication — OFFICIAL-SENSITIVE."), path


def test_letters_carry_the_results_and_the_deadlines(restricted):
    potential = (restricted / "letters/ZZX/ZZX_alarm_stage2_alarm_potential.md").read_text()
    # ZZX, 30-day mortality, pooled: 125 of 177 (70.6%), adjusted 64.2%, national 56.0%, limits from the fixture
    row = ("| Death within 30 days of last systemic anti-cancer therapy | All patients | 2023/24-2025/26 | 64.2% | "
           "125 of 177 | 56.0% | 50.1% to 71.0% | 45.5% to 75.3% | Alarm (high) |")
    assert row in potential
    assert "the result is the case-mix adjusted percentage (observed 70.6%, observed / expected 0.91)" in potential
    assert "To: Clinical lead, =HYPERLINK(\"http://x\",\"y\") (ZZX)" in potential
    assert "Copy: Medical director" in potential
    assert "**by 14 December 2026** (25 working days)" in potential
    assert "within 20 working days" in potential
    assert "NAoMe outlier case reference: NAOME-OP-2023-24_to_2025-26-ZZX-mort30_sact" in potential
    assert "Synthetic data" in potential
    confirmed = (restricted / "letters/ZZX/ZZX_alarm_stage5_alarm_confirmed.md").read_text()
    assert "Copy: Chief executive; Medical director" in confirmed
    assert "informing the Care Quality Commission (CQC) of the confirmed alarm" in confirmed
    assert "**by 4 February 2027** (10 working days)" in confirmed and "on 11 March 2027" in confirmed
    regulator = (restricted / "letters/ZZX/ZZX_alarm_stage5_alarm_regulator.md").read_text()
    assert "To: The Care Quality Commission (CQC), " in regulator and "Copy:" not in regulator
    reminder = (restricted / "letters/ZZX/ZZX_alarm_stage7_alarm_reminder.md").read_text()
    assert "On 21 January 2027 NAoMe wrote to confirm an alarm" in reminder
    assert "**by 18 February 2027** (5 working days)" in reminder and "NHS England" in reminder
    assert "To: Chief executive, " in reminder and "Copy: The Care Quality Commission (CQC)\n" in reminder
    alert = (restricted / "letters/ZZX/ZZX_alert_stage2_alert.md").read_text()
    assert "Discussed at a breast multidisciplinary team (MDT) meeting" in alert and "Alert (low)" in alert
    assert "Death within 30 days" not in alert


def test_readme_says_how_to_handle_the_files(restricted):
    text = (restricted / "README.md").read_text()
    assert text.startswith("# NAOME-RESTRICTED: not for publication")
    assert "OFFICIAL-SENSITIVE. Not for publication." in text
    assert "`NAOME-OP-<period>-<organisation code>-<indicator id>[-<patient group>]`" in text
    assert "NAOME-OP-2023-24_to_2025-26-ZAA-mort30_sact" in text  # the format's example
    assert ("Performance status, Stage at diagnosis, ER and HER2 status, Date and type of recurrence, Deprivation "
            "quintile, Ethnicity, Comorbidity (Charlson index)") in text


def test_a_rebuild_removes_letters_no_longer_due(fixture_data, tmp_path):
    out = tmp_path / "restricted"
    stale = out / "letters" / "ZZZ" / "ZZZ_alert_stage2_alert.md"
    stale.parent.mkdir(parents=True)
    stale.write_text("old")
    from naome_report.restricted.files import build_restricted

    build_restricted(load_results(fixture_data), load_registry(), load_config(), out)
    assert not stale.exists()


# ------------------------------------------------------------------------------------------------
# Data-quality lists
# ------------------------------------------------------------------------------------------------

ITEMS = [{"item": "er_her2", "title": "ER and HER2 status", "recorded": "receptors_known"},
         {"item": "stage", "title": "Stage at diagnosis", "recorded": "stage_known", "patients": {"route": "de_novo"}},
         {"item": "recurrence", "title": "Date and type of recurrence", "recorded": "recurrence_recorded",
          "patients": {"route": "recurrent"}},
         {"item": "ethnicity", "title": "Ethnicity", "recorded": "ethnicity_group"}]


def _patients() -> pd.DataFrame:
    return pd.DataFrame({
        "patient_id": ["P1", "P2", "P3", "P4", "P5"],
        "diagnosing_org": ["ZAA", "ZAA", "ZAA", "7A1", "7A1"],
        "financial_year": ["2024/25", "2023/24", "2023/24", "2025/26", "2024/25"],
        "route": ["de_novo", "recurrent", "de_novo", "recurrent", "de_novo"],
        "receptors_known": [True, False, True, True, True],
        "stage_known": [False, False, True, True, True],      # P2's stage does not apply (recurrent)
        "recurrence_recorded": [False, False, False, True, False],  # applies to P2 and P4 only
        "ethnicity_group": ["White", "Unknown", "Asian", "White", "Black"],
        "ps_known": [True] * 5, "deprivation": ["1", "2", "3", "4", "5"], "charlson_group": ["0"] * 5,
    })


def test_item_states_apply_items_to_their_patients():
    states = item_states(_patients(), ITEMS, "Unknown")
    assert states.to_dict("records") == [
        {"er_her2": "recorded", "stage": "missing", "recurrence": "not applicable", "ethnicity": "recorded"},
        {"er_her2": "missing", "stage": "not applicable", "recurrence": "missing", "ethnicity": "missing"},
        {"er_her2": "recorded", "stage": "recorded", "recurrence": "not applicable", "ethnicity": "recorded"},
        {"er_her2": "recorded", "stage": "not applicable", "recurrence": "recorded", "ethnicity": "recorded"},
        {"er_her2": "recorded", "stage": "recorded", "recurrence": "not applicable", "ethnicity": "recorded"},
    ]


def test_feedback_lists_name_each_record_and_its_missing_items():
    lists = feedback_lists(_patients(), ITEMS, "Unknown", {"ZAA": "Fairfield", "7A1": "Betsi Cadwaladr"})
    assert list(lists) == ["ZAA"]  # 7A1's records are complete
    zaa = lists["ZAA"]
    assert zaa["record_id"].tolist() == ["P2", "P1"]  # by financial year
    assert zaa["missing_items"].tolist() == ["ER and HER2 status; Date and type of recurrence; Ethnicity",
                                             "Stage at diagnosis"]
    assert zaa["items_missing"].tolist() == [3, 1]
    assert zaa["route"].tolist() == ["Recurrent", "De novo"]
    assert set(zaa["handling"]) == {HANDLING} and set(zaa["org_name"]) == {"Fairfield"}


def test_data_quality_files_and_index(tmp_path):
    """With the configured items (the completeness file's seven), the same two records of ZAA are listed."""
    orgs = pd.DataFrame({"org_code": ["ZAA", "7A1"], "org_name": ["Fairfield", "Betsi Cadwaladr"]})
    written = write_data_quality(_patients(), orgs, load_config(), tmp_path / "restricted")
    folder = tmp_path / "restricted" / "data-quality"
    assert sorted(p.name for p in written) == ["ZAA_data_quality.csv", "index.csv"]
    index = pd.read_csv(folder / "index.csv", dtype=str)
    assert index.to_dict("records") == [
        {"handling": HANDLING, "org_code": "7A1", "org_name": "Betsi Cadwaladr", "records_in_cohort": "2",
         "records_with_missing_items": "0", "file": "no records to correct"},
        {"handling": HANDLING, "org_code": "ZAA", "org_name": "Fairfield", "records_in_cohort": "3",
         "records_with_missing_items": "2", "file": "ZAA_data_quality.csv"},
    ]
    listed = pd.read_csv(folder / "ZAA_data_quality.csv", dtype=str)
    assert list(listed.columns[-7:]) == ["performance_status", "stage", "er_her2", "recurrence", "deprivation",
                                         "ethnicity", "comorbidity"]
    assert restricted_identifiers(tmp_path / "restricted") == {"P1", "P2"}


def test_data_quality_items_are_checked():
    bad = load_config(overrides={"data_quality": {"items": ["stage", "shoe_size"]}})
    with pytest.raises(ConfigError, match=r"\[data_quality\] items: shoe_size not among the \[completeness\] items"):
        load_items(bad)
    with pytest.raises(ConfigError, match=r"patient column\(s\) the cohort does not have: receptors_known"):
        item_states(_patients().drop(columns="receptors_known"), ITEMS, "Unknown")


# ------------------------------------------------------------------------------------------------
# Recognising restricted content
# ------------------------------------------------------------------------------------------------


def test_find_restricted_names_what_does_not_belong_in_public():
    assert find_restricted("Results for ZAA: 56.3% (national 50.1%)") == []
    assert find_restricted("see NAOME-RESTRICTED: not for publication") == ["NAOME-RESTRICTED"]
    assert find_restricted("case NAOME-OP-2023-24_to_2025-26-ZAA-mdt closed") == ["NAOME-OP-2023-24_to_2025-26-ZAA-mdt"]
    assert find_restricted('<a href="../restricted/letters/ZAA/x.md">x</a>') == ['href="../restricted/letters/ZAA/x.md']
    assert find_restricted("the restricted/ folder is described in the methodology") == []
    assert find_restricted("record P010035245 of ZAA", {"P010035245"}) == ["P010035245"]
    assert find_restricted("P0100352450 is longer", {"P010035245"}) == []
    assert re.search("NAoMe outlier case reference", " ".join(find_restricted("NAoMe outlier case reference: x")))
