"""Recommendations: an analyst's file whose references are filled from the results, or stop the build."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest

from naome_report.publish.documents.recommendations import RecommendationError, load_recommendations

PERIOD = "2023/24-2025/26"


def _row(level: str, nation: str, org: str, percentage: float | None, *, indicator: str = "mdt",
         subgroup: str = "all", period: str = PERIOD, status: str = "published",
         funnel_position: str = "not_assessed") -> dict:
    return {"indicator_id": indicator, "subgroup": subgroup, "period": period, "level": level, "nation": nation,
            "org_name": org, "percentage": percentage, "status": status, "funnel_position": funnel_position}


@pytest.fixture
def results() -> SimpleNamespace:
    """A handful of published results, enough for every kind of reference."""
    rows = [
        _row("national", "England and Wales", "England and Wales", 59.1057),
        _row("nation", "England", "England", 59.7975),
        _row("nation", "Wales", "Wales", 47.2222),
        _row("nation", "Wales", "Wales", None, indicator="cdk46", status="suppressed"),
        _row("national", "England and Wales", "England and Wales", 61.25, subgroup="de_novo"),  # halves round away from zero
        _row("nation", "Wales", "Wales", 44.05, period="2025/26"),
        _row("alliance", "England", "Cheshire and Merseyside", 65.0929),
        _row("alliance", "Wales", "South West Wales", 43.6831),
        _row("alliance", "England", "Peninsula", 55.0),
        _row("organisation", "England", "Trust A", 80.0, funnel_position="above_998"),
        _row("organisation", "England", "Trust B", 70.0, funnel_position="above_95"),
        _row("organisation", "England", "Trust C", 30.0, funnel_position="below_998"),
        _row("organisation", "Wales", "Board D", 58.0, funnel_position="within"),
    ]
    return SimpleNamespace(indicators=pd.DataFrame(rows), primary_period=PERIOD)


def _write(tmp_path: Path, evidence: str, *, kind: str = "clinical", extra: str = "") -> Path:
    path = tmp_path / "recommendations.yaml"
    path.write_text(f"""\
{kind}:
  - title: Discuss everyone at a breast MDT
    goal: 1
    audiences: [trusts_and_health_boards, welsh_government]
    action: Hold and record an MDT discussion for everyone.
    evidence: "{evidence}"
{extra}""", encoding="utf-8")
    return path


def test_references_are_filled_from_the_results(tmp_path: Path, results: SimpleNamespace) -> None:
    path = _write(tmp_path, "{mdt: England and Wales} overall; {mdt: England} in England, {mdt: Wales} in Wales; "
                            "{mdt/de_novo: England and Wales} de novo; {mdt: Wales, 2025/26} in 2025/26.")
    (rec,) = load_recommendations(path, results)
    assert rec.evidence == ("59.1% overall; 59.8% in England, 47.2% in Wales; 61.3% de novo; 44.1% in 2025/26.")
    assert rec.number == 1 and rec.kind == "Clinical care" and rec.cites == "mdt"
    assert rec.audiences == ("NHS trusts and health boards", "Welsh Government and NHS Wales")
    assert rec.goal_title == "Improve how patients move through the care pathway"


def test_alliance_range_names_the_lowest_and_highest(tmp_path: Path, results: SimpleNamespace) -> None:
    (rec,) = load_recommendations(_write(tmp_path, "From {mdt: alliance range}."), results)
    assert rec.evidence == "From 43.7% (South West Wales) to 65.1% (Cheshire and Merseyside)."


def test_organisation_counts_by_funnel_position_agree_in_number(tmp_path: Path, results: SimpleNamespace) -> None:
    path = _write(tmp_path, "{mdt: above 99.8% limit}, {mdt: above 95% limit}, {mdt: beyond 99.8% limits}, "
                            "{mdt: below 95% limit}.")
    (rec,) = load_recommendations(path, results)
    assert rec.evidence == "1 organisation, 2 organisations, 2 organisations, 1 organisation."


def test_data_quality_comes_first_and_numbering_runs_on(tmp_path: Path, results: SimpleNamespace) -> None:
    path = _write(tmp_path, "{mdt: Wales}", kind="clinical", extra="""\
data_quality:
  - title: Record MDT discussion
    goal: 1
    audiences: audit
    action: Check the recording.
    evidence: "{mdt: England}"
""")
    recs = load_recommendations(path, results)
    assert [(r.number, r.kind, r.title) for r in recs] == [
        (1, "Data quality", "Record MDT discussion"), (2, "Clinical care", "Discuss everyone at a breast MDT")]
    assert recs[0].audiences == ("The audit (NATCAN)",)


@pytest.mark.parametrize(("evidence", "reason"), [
    ("{biopsy: Wales}", r"cites \{biopsy: Wales\}: no indicator 'biopsy' in naome_indicators\.csv"),
    ("{mdt: Scotland}", r"cites \{mdt: Scotland\}: 'Scotland' is not something a reference can show"),
    ("{cdk46: Wales}", r"cites \{cdk46: Wales\}: the result for Wales .* is not published \(suppressed\)"),
    ("{mdt: England, 2019/20}", r"cites \{mdt: England, 2019/20\}: no period '2019/20'"),
    ("{mdt/men: England}", r"cites \{mdt/men: England\}: no subgroup 'men'"),
    ("{mdt: England, 2025/26}", r"cites \{mdt: England, 2025/26\}: no result for England"),
    ("{mdt}", r"cites \{mdt\}: a reference needs an indicator and what to show"),
])
def test_a_reference_to_a_missing_result_is_an_error_naming_it(tmp_path: Path, results: SimpleNamespace,
                                                                evidence: str, reason: str) -> None:
    path = _write(tmp_path, evidence)
    with pytest.raises(RecommendationError, match=rf"recommendations\.yaml: recommendation 1 \('Discuss everyone at a breast MDT'\) {reason}"):
        load_recommendations(path, results)


@pytest.mark.parametrize(("text", "reason"), [
    ("clinical:\n  - title: X\n    goal: 1\n    audiences: [patients]\n    action: a\n    evidence: '{mdt: Wales}'\n",
     r"recommendation 1 \('X'\): unknown audience patients; audiences are trusts_and_health_boards"),
    ("clinical:\n  - title: X\n    goal: 7\n    audiences: [audit]\n    action: a\n    evidence: '{mdt: Wales}'\n",
     r"recommendation 1 \('X'\): goal must be a quality-improvement goal from 1 to 5, not 7"),
    ("clinical:\n  - title: X\n    goal: 1\n    audiences: [audit]\n    evidence: '{mdt: Wales}'\n    why: b\n",
     r"recommendation 1 \('X'\): missing action; unknown why"),
    ("clinical:\n  - title: X\n    goal: 1\n    audiences: [audit]\n    action: a\n    evidence: Recording is poor.\n",
     r"recommendation 1 \('X'\): its evidence cites no result"),
    ("policy:\n  - title: X\n", r"the top level holds data_quality and clinical lists only, not policy"),
])
def test_a_malformed_recommendation_is_an_error_naming_it(tmp_path: Path, results: SimpleNamespace,
                                                         text: str, reason: str) -> None:
    path = tmp_path / "recommendations.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(RecommendationError, match=reason):
        load_recommendations(path, results)
