"""The pieces of a pack that need no PDF: formatting, selection and the small SVG charts."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from urllib.parse import unquote

import pytest

from naome_report.hub import Results
from naome_report.publish import pack_format as fmt
from naome_report.publish.pack_data import common_inputs, organisations, pack_inputs
from naome_report.publish.pack_render import css_string, page_css
from naome_report.publish.pack_svg import data_uri, nice_ticks, run_chart_svg, survival_svg


def test_formatting() -> None:
    assert fmt.pct(62.345) == "62.3%"
    assert fmt.pct(None) == fmt.pct(math.nan) == fmt.DASH
    assert fmt.ci(55.06, 68.94) == "55.1\u201368.9"
    assert fmt.ci(None, 3) == ""
    assert fmt.count(30103.0) == "30,103"
    assert fmt.missing_text("not_available", "Wales") == "Not available for Wales"
    assert fmt.missing_text("suppressed", "England") == "Suppressed (small numbers)"


@pytest.mark.parametrize(("status", "direction", "words"), [
    ("alarm_low", "higher_better", "Alarm: low (worse)"),
    ("alert_high", "lower_better", "Alert: high (worse)"),
    ("alert_high", "higher_better", "Alert: high (better)"),
    ("alarm_high", "neutral", "Alarm: high"),
    ("within_limits", "higher_better", "Within limits"),
])
def test_outlier_words_say_direction(status: str, direction: str, words: str) -> None:
    assert fmt.outlier_words(status, "", direction) == words
    assert fmt.outlier_symbol(status) in {"\u25b2\u25b2", "\u25b2", "\u25cf", "\u25bc", "\u25bc\u25bc"}


def test_not_assessed_gives_the_reason() -> None:
    assert fmt.outlier_words("not_assessed", "too_few", "higher_better") == "Not assessed (too few patients)"
    assert fmt.outlier_symbol("not_assessed") == "\u2013"


def test_page_css_escapes_names() -> None:
    assert css_string('A "quoted" \\ name</style>') == '"A \\"quoted\\" \\\\ name\\3C /style>"'
    org = organisations_stub()
    assert "SYNTHETIC" in page_css(org, True) and "SYNTHETIC" not in page_css(org, False)


def organisations_stub():
    from naome_report.publish.pack_data import OrgInfo

    return OrgInfo("ZZZ", "Test & Sons NHS Trust", "England", "E56000001", "Somewhere")


def test_pack_inputs_select_one_organisation(results: Results) -> None:
    orgs = organisations(results)
    assert len({o.code for o in orgs}) == len(orgs) and {o.nation for o in orgs} == {"England", "Wales"}
    code = orgs[0].code
    pack = pack_inputs(results, [code])[0]
    assert pack.org.code == code
    assert all(row["org_code"] == code for row in pack.rows.values())
    assert all(row["org_code"] == pack.org.parent_code for row in pack.parent_rows.values())
    assert common_inputs(results).national_rows
    with pytest.raises(KeyError):
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
    from naome_report.publish.packs import _remove_stale

    for name in ("AAA.pdf", "BBB.pdf"):
        (tmp_path / name).write_bytes(b"%PDF")
    _remove_stale(tmp_path, [tmp_path / "AAA.pdf"])
    assert sorted(p.name for p in tmp_path.glob("*.pdf")) == ["AAA.pdf"]


def test_special_cause_quarters_are_listed_as_ranges() -> None:
    from naome_report.publish.pack_context import quarter_runs

    quarters = [(0, "2023/24 Q1"), (1, "2023/24 Q2"), (2, "2023/24 Q3"), (5, "2024/25 Q2"), (7, "2024/25 Q4"),
                (8, "2025/26 Q1")]
    assert quarter_runs(quarters) == "2023/24 Q1 to 2023/24 Q3, 2024/25 Q2, 2024/25 Q4, 2025/26 Q1"
    assert quarter_runs([]) == ""


def test_run_chart_years_go_under_the_chart_when_every_year_is_whole() -> None:
    from naome_report.publish.pack_svg import year_labels, year_line_style

    points = _points([40, 55, None, 72, 50, 48, 51, 50])
    assert year_labels(points) == ["2023/24", "2024/25"]
    assert year_labels(points[1:]) == []  # a part year: the labels stay in the SVG, under their quarters
    below = ET.fromstring(run_chart_svg(points, "a run chart", years_below=True))
    inside = ET.fromstring(run_chart_svg(points, "a run chart"))
    texts = lambda root: [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]  # noqa: E731
    assert "2023/24" in texts(inside) and not any("/" in t for t in texts(below))
    assert float(below.get("height")) < float(inside.get("height"))
    assert year_line_style(8, 2).startswith("margin-left: ")
