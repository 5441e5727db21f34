"""The order of findings, the HQIP guidance from configuration, and page 1's selection, on hand-made rows."""

from __future__ import annotations

import copy

import pytest

from naome_report.config import ConfigError, default_config, load_config
from naome_report.outlier_guidance import load_outlier_guidance
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
    page = standing(pack, registry, load_outlier_guidance(default_config()))
    assert [(r.status, r.level) for r in page.process_rows] == [("Alarm (low): worse", "alarm"),
                                                                 ("Not an outlier", "within")]
    assert page.alarm_process_applies
    text = " ".join(f"{s.who} {s.action}" for s in page.stages)
    assert "Healthcare Inspectorate Wales (HIW)" in text and "the Welsh Government" in text and "CQC" not in text
    assert [p.title for p in page.better] == ["Metastatic disease confirmed by biopsy"] and not page.to_improve


def _config_with(change) -> object:
    config = default_config()
    raw = copy.deepcopy(config.raw)
    change(raw["outlier_management"])
    return type(config)(raw=raw, source=config.source)


def test_guidance_fills_the_nation_and_keeps_the_working_days() -> None:
    guidance = load_outlier_guidance(default_config())
    england = guidance.for_nation("England")
    assert [s.working_days for s in england.stages] == [10, 5, 25, 20, 5, 10, 5, None]
    assert england.stages[2].action == "Sends a written response to the NAoMe team at NATCAN."
    assert "the Care Quality Commission (CQC)" in england.stages[4].action
    assert "{" not in " ".join(s.action for s in guidance.for_nation("Wales").stages)


@pytest.mark.parametrize(("change", "message"), [
    (lambda s: s.pop("alarm_stages"), r"needs at least one \[\[outlier_management.alarm_stages\]\]"),
    (lambda s: s["alarm_stages"][2].update(working_days=0), r"number 3: working_days must be a positive whole number"),
    (lambda s: s["alarm_stages"][0].update(days=3), r"number 1: unknown key\(s\) days"),
    (lambda s: s.update(alert_next="Tell {regulatr}"), r"placeholder that cannot be filled: 'regulatr'"),
    (lambda s: s.update(regulator={"England": "CQC"}), r"regulator must name one body for each of England, Wales"),
    (lambda s: s.update(within_meaning=""), r"within_meaning must be non-empty text"),
])
def test_guidance_errors_name_the_key(change, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_outlier_guidance(_config_with(change))


def test_a_configuration_without_the_section_takes_the_bundled_stages(tmp_path) -> None:
    """An analyst's file overlays the bundled naome.toml: leaving [outlier_management] out keeps the bundled stages."""
    source = tmp_path / "naome.toml"
    text = default_config().source.read_text(encoding="utf-8")
    source.write_text(text[:text.index("[outlier_management]")], encoding="utf-8")
    guidance = load_outlier_guidance(load_config(source))
    assert [s.working_days for s in guidance.for_nation("England").stages][:5] == [10, 5, 25, 20, 5]
