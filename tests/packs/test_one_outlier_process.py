"""One edit to [outlier_process] reaches both the pack's page 1 and the restricted tracker's dates due."""

from __future__ import annotations

import copy
import csv

from packs_helpers import normalise, pdf_pages
from naome_report.config import default_config, load_config
from naome_report.hub import Results
from naome_report.publish.packs import build_packs
from naome_report.registry import default_registry
from naome_report.restricted.files import build_restricted


def test_one_edit_to_a_stages_working_days_changes_page_one_and_the_tracker(results: Results, chosen: dict[str, str],
                                                                            tmp_path) -> None:
    stages = copy.deepcopy(default_config().raw["outlier_process"]["stages"])
    response = [s for s in stages if s["level"] == "alarm"][2]  # the clinical lead's written response: 25 days
    response["working_days"] = 30
    edited = load_config(overrides={"outlier_process": {"stages": stages}})

    (pack,) = build_packs(results, default_registry(), edited, tmp_path / "packs", org_codes=[chosen["alarms"]],
                          workers=1)
    page = normalise(pdf_pages(pack)[0])
    assert ("Clinical lead. Sends a written response to the NAoMe team at NATCAN: data errors found, or the "
            "explanation. Within 30 working days.") in page
    assert "Within 25 working days." not in page

    build_restricted(results, default_registry(), edited, tmp_path / "restricted")
    with (tmp_path / "restricted" / "outlier-tracker.csv").open(newline="", encoding="utf-8") as handle:
        alarm = [r for r in csv.DictReader(handle) if r["level"] == "alarm" and r["nation"] == "England"]
    assert alarm, "the build has no alarm in England to track"
    due = {(r["case_reference"], r["stage"]): r["due_date"] for r in alarm}
    # Worked by hand from 19 October 2026: stage 2 due Monday 9 November; 30 working days (six plain weeks) later
    # is Monday 21 December (25 gave 14 December); 20 more, skipping 25 and 28 December and 1 January, is
    # Thursday 21 January 2027.
    for case in {r["case_reference"] for r in alarm}:
        assert (due[case, "2"], due[case, "3"], due[case, "4"]) == ("2026-11-09", "2026-12-21", "2027-01-21")
    assert {r["working_days"] for r in alarm if r["stage"] == "3"} == {"30"}
