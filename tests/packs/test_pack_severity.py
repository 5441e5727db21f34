"""The order of findings and page 1's selection, on hand-made rows (the process itself: tests/test_outlier_process.py)."""

from __future__ import annotations

from naome_report.config import default_config
from naome_report.outlier_process import load_outlier_process
from naome_report.publish.packs.data import OrgInfo, PackInput
from naome_report.publish.packs.severity import findings
from naome_report.publish.packs.standing import standing
from naome_report.registry import default_registry


def row(indicator: str, subgroup: str = "all", process: str = "no", status: str = "not_in_process",
        position: str = "within", vs: str = "similar", flag: str = "") -> dict:
    return {"indicator_id": indicator, "subgroup": subgroup, "outlier_process": process, "outlier_status": status,
            "funnel_position": position, "vs_national": vs, "completeness_flag": flag, "status": "published",
            "percentage": 50.0, "national_percentage": 55.0}


def test_findings_are_ordered_by_severity_then_all_patients_then_registry() -> None:
    rows = {
        "cns": row("cns", position="below_95", vs="worse"),
        "biopsy": row("biopsy", position="above_998", vs="better"),
        "radiotherapy": row("radiotherapy", position="above_998", vs="higher"),
        "cdk46": row("cdk46", position="below_998", vs="worse", flag="Low completeness: ER and HER2 status 60.0%"),
        "mdt": row("mdt", process="yes", status="alert_low", position="below_95", vs="worse"),
        "mort30_sact": row("mort30_sact", process="yes", status="alarm_high", position="above_998", vs="worse"),
        "sact": row("sact"),
    }
    subgroups = {"mdt": {"de_novo": row("mdt", "de_novo", process="yes", status="alarm_low", position="below_998",
                                        vs="worse")},
                 "cdk46": {"recurrent": row("cdk46", "recurrent", position="below_998", vs="worse")}}
    got = [(f.kind, f.indicator_id, f.subgroup) for f in findings(rows, subgroups, default_registry())]
    assert got == [
        ("alarm", "mort30_sact", "all"),  # alarms: all patients before subgroups
        ("alarm", "mdt", "de_novo"),
        ("alert", "mdt", "all"),
        ("beyond_998", "cdk46", "all"),  # unfavourable (all patients, then subgroups) before no preferred direction
        ("beyond_998", "cdk46", "recurrent"),
        ("beyond_998", "radiotherapy", "all"),
        ("beyond_95", "cns", "all"),
        ("completeness", "cdk46", "all"),
        ("better", "biopsy", "all"),
    ]


def test_page_one_of_a_welsh_board_with_an_alarm_names_welsh_bodies() -> None:
    registry = default_registry()
    rows = {"mdt": row("mdt", process="yes", status="alarm_low", position="below_998", vs="worse"),
            "emergency": row("emergency", process="yes", status="within_limits", vs="similar"),
            "biopsy": row("biopsy", position="above_95", vs="better")}
    pack = PackInput(OrgInfo("7A1", "A Health Board", "Wales", "WNW", "North Wales"), rows, {}, [], [])
    page = standing(pack, registry, load_outlier_process(default_config()))
    assert [(r.status, r.level) for r in page.process_rows] == [("Alarm (low): worse", "alarm"),
                                                                 ("Not an outlier", "within")]
    assert page.alarm_process_applies
    text = " ".join(f"{s.who} {s.action}" for s in page.stages)
    assert "Healthcare Inspectorate Wales (HIW)" in text and "the Welsh Government" in text and "CQC" not in text
    assert [p.title for p in page.better] == ["Metastatic disease confirmed by biopsy"] and not page.to_improve


