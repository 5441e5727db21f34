"""Page 1 (where you stand), the action plan's order, comparators and completeness, read back from built packs."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from packs_helpers import BuiltPack, normalise
from naome_report.config import default_config
from naome_report.hub import Results
from naome_report.publish.packs import formatting as fmt
from naome_report.registry import default_registry

# Expected words, written out here (the packs take theirs from the vocabulary and the configuration).
PROCESS_WORDS = {"alarm_high": "\u25b2\u25b2 Alarm (high)", "alarm_low": "\u25bc\u25bc Alarm (low)",
                 "alert_high": "\u25b2 Alert (high)", "alert_low": "\u25bc Alert (low)"}
POSITION_WORDS = {"above_998": "\u25b2\u25b2 Above 99.8% limit", "above_95": "\u25b2 Above 95% limit",
                  "below_95": "\u25bc Below 95% limit", "below_998": "\u25bc\u25bc Below 99.8% limit"}
SUBGROUP_WORDS = {"de_novo": "de novo", "recurrent": "recurrent", "triple_negative": "triple negative",
                  "bone_metastases": "bone metastases"}
REGULATOR = {"England": "the Care Quality Commission (CQC)", "Wales": "Healthcare Inspectorate Wales (HIW)"}
GOVERNMENT = {"England": "NHS England", "Wales": "the Welsh Government"}
HEADINGS = ("Alarms in the HQIP outlier process", "Alerts in the HQIP outlier process", "Beyond the 99.8% funnel limits",
            "Beyond the 95% funnel limits", "Data completeness below the threshold",
            "Better than expected: share what works", "For every MDT")
BEYOND = ("above_95", "above_998", "below_95", "below_998")


def every_row(results: Results, code: str) -> pd.DataFrame:
    """All of an organisation's headline rows, every subgroup."""
    ind = results.indicators
    return ind[(ind.period == results.primary_period) & (ind.level == "organisation") & (ind.org_code == code)]


def section(text: str, start: str, end: str) -> str:
    """The text between two headings."""
    return text[text.index(start):text.index(end, text.index(start))]


def topic(row: pd.Series) -> str:
    title = default_registry().get(row.indicator_id).title
    return title if row.subgroup == "all" else f"{title} ({SUBGROUP_WORDS[row.subgroup]} patients)"


def heading_of(row: pd.Series) -> str | None:
    """The action-plan heading a result belongs under, by the rule the pack promises (issue 16)."""
    if row.outlier_process == "yes" and str(row.outlier_status).startswith(("alarm", "alert")):
        kind = 0 if str(row.outlier_status).startswith("alarm") else 1
    elif row.outlier_process != "yes" and row.funnel_position in BEYOND:
        kind = 2 if row.funnel_position.endswith("998") else 3
    else:
        return None
    return HEADINGS[5] if row.vs_national == "better" else HEADINGS[kind]


def filled(text: str, nation: str) -> str:
    return text.format(audit="NAoMe", regulator=REGULATOR[nation], government=GOVERNMENT[nation],
                       respond_to="the NAoMe team at NATCAN")


def test_page_one_of_an_organisation_with_an_alarm(packs: dict[str, BuiltPack], results: Results) -> None:
    pack = packs["alarms"]
    page = pack.page(1)
    assert "Where you stand" in page and "1. Results in the HQIP outlier process" in page
    rows = every_row(results, pack.code)
    alarms = rows[(rows.outlier_process == "yes") & rows.outlier_status.isin(["alarm_high", "alarm_low"])
                  & (rows.vs_national == "worse")]
    assert not alarms.empty
    process = section(page, "1. Results in the HQIP outlier process", "2. Against the funnel limits")
    for row in alarms.itertuples():
        assert normalise(topic(pd.Series(row._asdict())).split(" (")[0]) in process
        assert f"{PROCESS_WORDS[row.outlier_status]}: worse" in process
    # What happens next under the HQIP guidance: every stage, who acts, its working-day limit, where the response goes.
    config = default_config()
    nation = rows.nation.iloc[0]
    assert f"What happens after an alarm ({nation})" in process
    for stage in (s for s in config.section("outlier_process")["stages"] if s["level"] == "alarm"):
        assert normalise(filled(stage["action"], nation)) in process
        if "working_days" in stage:
            assert f"Within {stage['working_days']} working days." in process
    assert "copied to the chief executive and medical director" in process
    other = "Wales" if nation == "England" else "England"
    assert REGULATOR[nation] in process and REGULATOR[other] not in process
    contact = config.section("audit")["contact"]
    assert f"Send your organisation's response to the NAoMe team at NATCAN ({contact})." in process


def test_page_one_of_an_organisation_with_funnel_positions_only(packs: dict[str, BuiltPack], results: Results) -> None:
    pack = packs["qi_only"]
    page = pack.page(1)
    process = section(page, "1. Results in the HQIP outlier process", "2. Against the funnel limits")
    assert "None of your results in the process is an alert or an alarm" in process
    assert "What happens after an alarm" not in page
    positions = section(page, "2. Against the funnel limits, for local quality improvement", "3. Data completeness")
    rows = every_row(results, pack.code)
    beyond = rows[(rows.outlier_process != "yes") & rows.funnel_position.isin(BEYOND)]
    assert not beyond.empty
    for row in beyond.itertuples():
        assert normalise(topic(pd.Series(row._asdict())).split(" (")[0]) in positions
        assert POSITION_WORDS[row.funnel_position] in positions
    subgroups = beyond[beyond.subgroup != "all"]
    for row in subgroups.itertuples():
        assert f"({SUBGROUP_WORDS[row.subgroup]} patients)" in positions
    assert not re.search(r"alert|alarm", positions, re.IGNORECASE)  # local improvement, not the outlier process


@pytest.mark.parametrize("role", ["welsh", "welsh_alone"])
def test_page_one_of_a_welsh_health_board(packs: dict[str, BuiltPack], results: Results, role: str) -> None:
    pack = packs[role]
    page = pack.page(1)
    rows = every_row(results, pack.code)
    assert "Where you stand" in page and "health board, Wales" in page
    assert "Care Quality Commission" not in pack.text and "CQC" not in pack.text
    alarms = rows[(rows.outlier_process == "yes") & rows.outlier_status.str.startswith("alarm", na=False)
                  & (rows.vs_national != "better")]
    if not alarms.empty:
        assert "What happens after an alarm (Wales)" in page and "Healthcare Inspectorate Wales (HIW)" in page


def test_a_welsh_board_alone_in_its_region_is_compared_with_wales(packs: dict[str, BuiltPack], results: Results) -> None:
    pack = packs["welsh_alone"]
    summary = pack.page(2)
    assert f"({pack.code}), patients diagnosed {results.primary_period}, beside Wales and England and Wales." in summary
    html = pack_html(results, pack.code)
    assert "<th>Your result (95% CI)</th><th>Wales</th><th>England and Wales</th>" in html
    ind = results.indicators
    wales = ind[(ind.period == results.primary_period) & (ind.subgroup == "all") & (ind.level == "nation")
                & (ind.org_name == "Wales") & (ind.status == "published") & ind.percentage.notna()]
    registry = default_registry()
    assert not wales.empty
    for row in wales.itertuples():
        if registry.get(row.indicator_id).has_rate and not registry.get(row.indicator_id).is_casemix_adjusted:
            assert f"{row.percentage:.1f}%" in summary, row.indicator_id
    # The board's own region (the same board) is never its comparator.
    region = ind[(ind.level == "alliance") & (ind.org_code == every_row(results, pack.code).parent_code.iloc[0])]
    assert region.org_name.iloc[0] not in summary


def test_an_english_trust_is_compared_with_its_cancer_alliance(packs: dict[str, BuiltPack], results: Results) -> None:
    pack = packs["english"]
    alliance = every_row(results, pack.code).parent_name.iloc[0]
    assert f"beside {alliance} (Cancer Alliance) and England and Wales." in pack.page(2)


SUBGROUP_LINE = {"de_novo": "De novo patients: ", "recurrent": "Recurrent patients: ",
                 "triple_negative": "Triple negative patients: ", "bone_metastases": "Bone metastases patients: "}


def position_text(row: pd.Series) -> str:
    return PROCESS_WORDS[row.outlier_status] if row.outlier_process == "yes" else POSITION_WORDS[row.funnel_position]


@pytest.mark.parametrize("role", ["alarms", "qi_only", "english"])
def test_the_action_plan_follows_severity_subgroups_included(packs: dict[str, BuiltPack], results: Results,
                                                           role: str) -> None:
    pack = packs[role]
    plan = pack.text[pack.text.index("Action planning for your MDT"):]
    shown = [h for h in HEADINGS if h in plan]
    assert shown == sorted(shown, key=HEADINGS.index) and shown[-1] == "For every MDT"
    places = [plan.index(h) for h in shown]
    rows = every_row(results, pack.code)
    expected = [(heading_of(pd.Series(r._asdict())), pd.Series(r._asdict())) for r in rows.itertuples()]
    expected = [(h, r) for h, r in expected if h]
    assert expected
    for heading, row in expected:
        block = plan[places[shown.index(heading)]:places[shown.index(heading) + 1]]
        title = normalise(default_registry().get(row.indicator_id).title)
        assert title in block, (heading, title)
        if heading == HEADINGS[5]:  # one row for everything better than expected, each result named
            assert normalise(topic(row)) in block
        elif row.subgroup != "all":  # a line of its indicator's row
            assert f"{SUBGROUP_LINE[row.subgroup]}{position_text(row)}" in block, (heading, topic(row))
    subgrouped = [r for h, r in expected if r.subgroup != "all"]
    assert subgrouped or role != "alarms"


def test_low_completeness_is_named_with_its_threshold(packs: dict[str, BuiltPack], results: Results) -> None:
    pack = packs["low_completeness"]
    items = results.data_completeness
    low = items[(items.org_code == pack.code) & (items.period == results.primary_period) & (items.below_threshold == "yes")]
    assert not low.empty
    page = pack.page(1)
    completeness = page[page.index("3. Data completeness"):]
    assert "Below the threshold:" in completeness
    for row in low.itertuples():
        assert f"{row.item_title}, {fmt.pct(row.percentage)} recorded (threshold {row.threshold:.0f}%)" in completeness
    assert f"Below the threshold: {', '.join(low.item_title)}." in pack.text
    assert "and the threshold (dashed)" in pack.text


def pack_html(results: Results, code: str) -> str:
    """The XHTML a pack is rendered from (its funnels left out)."""
    from naome_report.publish.packs.data import common_inputs, pack_inputs
    from naome_report.publish.packs.render import PackRenderer, load_settings

    renderer = PackRenderer(load_settings(default_registry(), default_config()), common_inputs(results), results.data_dir)
    return renderer.html(pack_inputs(results, [code])[0], {})


def test_the_completeness_bars_mark_the_threshold(results: Results, chosen: dict[str, str]) -> None:
    html = pack_html(results, chosen["low_completeness"])
    threshold = 100 * float(default_config().section("disclosure")["completeness_threshold"])
    items = html[html.index('class="plain completeness"'):]
    bars = items.count('class="bar"')
    assert bars and items.count(f'class="threshold" style="left: {threshold:.1f}%"') == bars
