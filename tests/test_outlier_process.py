"""The HQIP outlier process of [outlier_process]: read once, checked with the key named, filled per nation.

Expected values are the configured stage table written out by hand, and the bodies of each nation.
"""

from __future__ import annotations

import copy
from datetime import date

import pytest

from naome_report.config import Config, ConfigError, default_config, load_config
from naome_report.outlier_process import load_outlier_process


def _config_with(change) -> Config:
    """The default configuration with `change` applied to a copy of its [outlier_process] section."""
    config = default_config()
    raw = copy.deepcopy(config.raw)
    change(raw["outlier_process"])
    return Config(raw=raw, source=config.source)


def _alarm_stage(section: dict, number: int) -> dict:
    return [s for s in section["stages"] if s["level"] == "alarm"][number - 1]


def test_the_stages_of_each_level_with_their_working_days() -> None:
    process = load_outlier_process(default_config())
    alarm, alert = process.stages_of("alarm"), process.stages_of("alert")
    assert [s.number for s in alarm] == [1, 2, 3, 4, 5, 6, 7, 8]
    assert [s.working_days for s in alarm] == [10, 5, 25, 20, 5, 10, 5, 0]
    assert [s.at_publication for s in alarm] == [False] * 7 + [True]
    assert [s.working_days for s in alert] == [10, 5, 0, 0]
    assert [s.letters for s in alarm if s.letters] == [("alarm_potential",), ("alarm_confirmed", "alarm_regulator"),
                                                       ("alarm_reminder",)]
    assert process.start == date(2026, 10, 19) and process.subgroups == ("all",)


def test_the_text_is_filled_for_each_nation() -> None:
    process = load_outlier_process(default_config())
    england, wales = process.for_nation("England"), process.for_nation("Wales")
    assert england.stages_of("alarm")[2].action == ("Sends a written response to the NAoMe team at NATCAN: data errors "
                                                    "found, or the explanation.")
    assert england.stages_of("alarm")[0].who == "NAoMe team"
    assert "tells the Care Quality Commission (CQC) and HQIP" in england.stages_of("alarm")[4].action
    reminder = wales.stages_of("alarm")[6]
    assert reminder.copy == "Healthcare Inspectorate Wales (HIW)"
    assert "tells Healthcare Inspectorate Wales (HIW) and the Welsh Government" in reminder.action
    assert wales.next_steps["alarm"].endswith("then your chief executive and Healthcare Inspectorate Wales (HIW).")
    every = [t for p in (england, wales) for s in p.stages for t in (s.who, s.action, s.to, s.copy)]
    assert not any("{" in t for t in every)
    assert process.the_guidance.startswith("the HQIP NCAPOP Outlier Guidance")


@pytest.mark.parametrize(("change", "message"), [
    (lambda s: s.pop("stages"), r"\[outlier_process\]: needs \[\[outlier_process.stages\]\] tables"),
    (lambda s: s.update(stages=[t for t in s["stages"] if t["level"] == "alarm"]), r"no \[\[outlier_process.stages\]\] of level alert"),
    (lambda s: _alarm_stage(s, 3).update(days=30), r"stages entry 3: unknown key\(s\) days"),
    (lambda s: _alarm_stage(s, 3).update(working_days=-1), r"stages entry 3: working_days must be a whole number"),
    (lambda s: _alarm_stage(s, 3).update(working_days="25"), r"stages entry 3: working_days must be a whole number"),
    (lambda s: _alarm_stage(s, 1).update(level="outlier"), r"stages entry 1: level must be one of alarm, alert, not 'outlier'"),
    (lambda s: _alarm_stage(s, 2).pop("to"), r"stages entry 2: to must name who the letters alarm_potential go to"),
    (lambda s: _alarm_stage(s, 4).update(who=""), r"stages entry 4: who must be non-empty text"),
    (lambda s: s.update(alert_next="Tell {regulatr}"), r"placeholder that cannot be filled: 'regulatr'"),
    (lambda s: s.update(regulator={"England": "CQC"}), r"regulator must name one body for each of England, Wales"),
    (lambda s: s.update(within_meaning=""), r"\[outlier_process\]: within_meaning must be non-empty text"),
    (lambda s: s.pop("start_date"), r"\[outlier_process\]: start_date must be a date"),
    (lambda s: s.update(subgroups="all"), r"\[outlier_process\]: subgroups must be a list"),
])
def test_errors_name_the_key(change, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_outlier_process(_config_with(change))


def test_a_configuration_file_without_the_section_keeps_the_bundled_process(tmp_path) -> None:
    """An analyst's file overlays the bundled naome.toml: leaving [outlier_process] out keeps the bundled stages."""
    source = tmp_path / "naome.toml"
    text = default_config().source.read_text(encoding="utf-8")
    start = text.index("[outlier_process]")
    source.write_text(text[:start] + text[text.index("[data_quality]", start):], encoding="utf-8")
    process = load_outlier_process(load_config(source))
    assert [s.working_days for s in process.stages_of("alarm")][:5] == [10, 5, 25, 20, 5]


def test_a_configuration_without_the_section_is_refused() -> None:
    # A configuration file is read over the bundled defaults, so only a configuration built without the
    # section lacks it.
    base = default_config()
    config = Config(raw={k: v for k, v in base.raw.items() if k != "outlier_process"}, source=base.source)
    with pytest.raises(ConfigError, match=r"missing section \[outlier_process\]"):
        load_outlier_process(config)


def test_no_other_section_states_the_process() -> None:
    """The two sections the process used to live in are gone: one section, one loader."""
    raw = default_config().raw
    assert "outlier_management" not in raw and "outliers" not in raw
