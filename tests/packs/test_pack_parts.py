"""The pieces of a pack that need no PDF: formatting, selection and the small SVG charts."""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
from urllib.parse import unquote

import pytest

from naome_report.hub import Results
from naome_report.publish.packs import formatting as fmt
from naome_report.publish.packs.data import common_inputs, organisations, pack_inputs
from naome_report.publish.packs.render import css_string, page_css
from naome_report.charts.svg import nice_ticks
from naome_report.publish.packs.svg import data_uri, run_chart_svg, survival_svg


def test_formatting() -> None:
    assert fmt.pct(62.345) == "62.3%"
    assert fmt.pct(None) == fmt.pct(math.nan) == fmt.DASH
    assert fmt.ci(55.06, 68.94) == "55.1\u201368.9"
    assert fmt.ci(None, 3) == ""
    assert fmt.count(30103.0) == "30,103"
    assert fmt.missing_text("not_available", "Wales") == "Not available for Wales"
    assert fmt.missing_text("suppressed", "England") == "Suppressed"


@pytest.mark.parametrize(("row", "symbol", "label", "level"), [
    ({"outlier_process": "yes", "outlier_status": "alarm_low", "funnel_position": "below_998", "vs_national": "worse"},
     "\u25bc\u25bc", "Alarm (low): worse", "alarm"),
    ({"outlier_process": "yes", "outlier_status": "alert_high", "funnel_position": "above_95", "vs_national": "better"},
     "\u25b2", "Alert (high): better", "alert"),
    ({"outlier_process": "yes", "outlier_status": "within_limits", "funnel_position": "within", "vs_national": "similar"},
     "\u25cf", "Not an outlier", "within"),
    ({"outlier_process": "no", "outlier_status": "not_in_process", "funnel_position": "above_998", "vs_national": "higher"},
     "\u25b2\u25b2", "Above 99.8% limit: higher", "beyond_998"),
    ({"outlier_process": "no", "outlier_status": "not_in_process", "funnel_position": "below_95", "vs_national": "worse"},
     "\u25bc", "Below 95% limit: worse", "beyond_95"),
    ({"outlier_process": "no", "outlier_status": "not_in_process", "funnel_position": "within", "vs_national": "similar"},
     "\u25cf", "Within limits", "within"),
    ({"outlier_process": "no", "outlier_status": "not_in_process", "funnel_position": "not_assessed",
      "outlier_note": "too_few", "vs_national": "not_assessed"},
     "\u2013", "Not assessed (too few patients to assess)", "not_assessed"),
])
def test_position_words_come_from_the_row(row: dict, symbol: str, label: str, level: str) -> None:
    position = fmt.position_of(row)
    assert (position.symbol, position.label, position.level) == (symbol, label, level)


def test_positions_outside_the_process_never_say_alert_or_alarm() -> None:
    for code in ("above_998", "above_95", "within", "below_95", "below_998", "not_assessed"):
        position = fmt.position_of({"outlier_process": "no", "funnel_position": code, "vs_national": "worse"})
        assert not re.search(r"alert|alarm", f"{position.label} {position.sentence}", re.IGNORECASE)


def test_page_css_escapes_names() -> None:
    assert css_string('A "quoted" \\ name</style>') == '"A \\"quoted\\" \\\\ name\\3C /style>"'
    org = organisations_stub()
    assert "SYNTHETIC" in page_css(org, True) and "SYNTHETIC" not in page_css(org, False)


def organisations_stub():
    from naome_report.publish.packs.data import OrgInfo

    return OrgInfo("ZZZ", "Test & Sons NHS Trust", "England", "E56000001", "Somewhere")


def test_pack_inputs_select_one_organisation(results: Results) -> None:
    orgs = organisations(results)
    assert len({o.code for o in orgs}) == len(orgs) and {o.nation for o in orgs} == {"England", "Wales"}
    code = orgs[0].code
    pack = pack_inputs(results, [code])[0]
    assert pack.org.code == code
    assert all(row["org_code"] == code and row["subgroup"] == "all" for row in pack.rows.values())
    subgroups = [row for by in pack.subgroup_rows.values() for row in by.values()]
    assert subgroups and all(row["org_code"] == code and row["subgroup"] != "all" for row in subgroups)
    assert common_inputs(results).national_rows
    with pytest.raises(KeyError, match="no results for organisation"):
        pack_inputs(results, ["NOPE"])


def _points(values: list[float | None]) -> list[dict]:
    return [{"period": f"202{3 + i // 4}/2{4 + i // 4} Q{i % 4 + 1}", "percentage": v, "centre": 50.0,
             "lower_limit": 30.0, "upper_limit": 70.0, "special_cause": "yes" if i == 3 else "no",
             "variation": "concern" if i == 3 else "common_cause", "status": "published" if v is not None else "suppressed"}
            for i, v in enumerate(values)]


def test_run_chart_svg_is_valid_and_skips_gaps() -> None:
    svg = run_chart_svg(_points([40, 55, None, 72, 50, 48]), "a run chart")
    root = ET.fromstring(svg)
    assert root.get("aria-label") == "a run chart"
    assert ET.fromstring(unquote(data_uri(svg).split(",", 1)[1])).tag == root.tag
    assert run_chart_svg(_points([None, None]), "empty") == ""


def test_survival_svg_draws_both_curves() -> None:
    curve = [{"time_years": t / 12, "survival_percentage": 100 - t, "ci_lower_95": 95 - t, "ci_upper_95": 100 - t / 2}
             for t in range(0, 37)]
    root = ET.fromstring(survival_svg(curve, curve, "survival"))
    assert len(root.findall("{http://www.w3.org/2000/svg}polygon")) == 2


def test_nice_ticks() -> None:
    assert nice_ticks(0, 100, 4) == [0, 25, 50, 75, 100]
    assert nice_ticks(33, 71, 3)[0] >= 33


def test_full_build_removes_stale_packs(tmp_path) -> None:
    from naome_report.publish.packs.build import _remove_stale

    for name in ("AAA.pdf", "BBB.pdf"):
        (tmp_path / name).write_bytes(b"%PDF")
    _remove_stale(tmp_path, [tmp_path / "AAA.pdf"])
    assert sorted(p.name for p in tmp_path.glob("*.pdf")) == ["AAA.pdf"]


def test_special_cause_quarters_are_listed_as_ranges() -> None:
    from naome_report.publish.packs.context import quarter_runs

    quarters = [(0, "2023/24 Q1"), (1, "2023/24 Q2"), (2, "2023/24 Q3"), (5, "2024/25 Q2"), (7, "2024/25 Q4"),
                (8, "2025/26 Q1")]
    assert quarter_runs(quarters) == "2023/24 Q1 to 2023/24 Q3, 2024/25 Q2, 2024/25 Q4, 2025/26 Q1"
    assert quarter_runs([]) == ""


def test_run_chart_years_go_under_the_chart_when_every_year_is_whole() -> None:
    from naome_report.publish.packs.svg import year_labels, year_line_style

    points = _points([40, 55, None, 72, 50, 48, 51, 50])
    assert year_labels(points) == ["2023/24", "2024/25"]
    assert year_labels(points[1:]) == []  # a part year: the labels stay in the SVG, under their quarters
    below = ET.fromstring(run_chart_svg(points, "a run chart", years_below=True))
    inside = ET.fromstring(run_chart_svg(points, "a run chart"))
    texts = lambda root: [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]  # noqa: E731
    assert "2023/24" in texts(inside) and not any("/" in t for t in texts(below))
    assert float(below.get("height")) < float(inside.get("height"))
    assert year_line_style(8, 2).startswith("margin-left: ")
