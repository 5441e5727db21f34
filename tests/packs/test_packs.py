"""The organisation packs, read back as text: own organisation, the right numbers, nobody else's results."""

from __future__ import annotations

import re

import pandas as pd
import pytest
from pypdf import PdfReader

from packs_helpers import BuiltPack, normalise
from naome_report.hub import Results
from naome_report.publish.packs import formatting as fmt
from naome_report.publish.packs.render import SYNTHETIC_LABEL
from naome_report.config import default_config
from naome_report.registry import default_registry

ROLES = ("english", "welsh", "suppressed", "flagged")
SUMMARY_PAGE = 2
THRESHOLD = float(default_config().section("disclosure")["completeness_threshold"])
SIZE_AIM = 300_000  # bytes per pack (issue 16)
# Expected words, written out here (the packs take theirs from naome_report/vocabulary.py).
PROCESS_WORDS = {
    "alarm_high": ("\u25b2\u25b2", "Alarm (high)"), "alert_high": ("\u25b2", "Alert (high)"),
    "within_limits": ("\u25cf", "Not an outlier"), "alert_low": ("\u25bc", "Alert (low)"),
    "alarm_low": ("\u25bc\u25bc", "Alarm (low)"), "not_assessed": ("\u2013", "Not assessed"),
}
POSITION_WORDS = {
    "above_998": ("\u25b2\u25b2", "Above 99.8% limit"), "above_95": ("\u25b2", "Above 95% limit"),
    "within": ("\u25cf", "Within limits"), "below_95": ("\u25bc", "Below 95% limit"),
    "below_998": ("\u25bc\u25bc", "Below 99.8% limit"), "not_assessed": ("\u2013", "Not assessed"),
}
MISSING_WORDS = {"suppressed": "Suppressed", "too_few": "Too few patients", "not_applicable": "Not applicable"}


def org_rows(results: Results, code: str) -> pd.DataFrame:
    """This organisation's headline rows, as the CSV has them."""
    ind = results.indicators
    return ind[(ind.period == results.primary_period) & (ind.subgroup == "all") & (ind.level == "organisation")
               & (ind.org_code == code)]


def unit_row(results: Results, code: str, indicator: str) -> pd.Series | None:
    """Any unit's headline row for one indicator (all patients)."""
    ind = results.indicators
    rows = ind[(ind.period == results.primary_period) & (ind.subgroup == "all") & (ind.org_code == code)
               & (ind.indicator_id == indicator)]
    return None if rows.empty else rows.iloc[0]


def position_words(row: pd.Series) -> str:
    """Symbol and words of a row's place: its outlier status in the HQIP process, else its funnel position."""
    if row.outlier_process == "yes":
        return " ".join(PROCESS_WORDS[row.outlier_status if isinstance(row.outlier_status, str) else "not_assessed"])
    return " ".join(POSITION_WORDS[row.funnel_position if isinstance(row.funnel_position, str) else "not_assessed"])


def expected_strings(row: pd.Series, results: Results) -> list[str]:
    """Every number and word the summary must print for one indicator row, formatted as the pack formats it."""
    ind = default_registry().get(row.indicator_id)
    out: list[str] = []
    if row.status == "not_available":
        out.append(f"Not available for {row.nation}")
    elif row.status != "published":
        out.append(MISSING_WORDS[row.status])
    elif not ind.has_rate:
        out.append(f"{fmt.count(row.numerator)} patients")
    else:
        out += [fmt.pct(row.percentage), f"({fmt.ci(row.ci_lower_95, row.ci_upper_95)})",
                f"{fmt.count(row.numerator)} of {fmt.count(row.denominator)}"]
        if not fmt.is_blank(row.median_days):
            out.append(f"Median {fmt.days(row.median_days)}")
        if ind.is_casemix_adjusted and not fmt.is_blank(row.adjusted_percentage):
            out += [f"Adjusted {fmt.pct(row.adjusted_percentage)} ({fmt.ci(row.adjusted_ci_lower_95, row.adjusted_ci_upper_95)})",
                    f"O/E {fmt.ratio(row.observed_expected)}"]
    if ind.has_rate and not fmt.is_blank(row.national_percentage):
        out.append(fmt.pct(row.national_percentage))
    comparator = unit_row(results, row.comparator_code, row.indicator_id) if isinstance(row.comparator_code, str) else None
    if ind.has_rate and comparator is not None and comparator.status == "published":
        value = comparator.adjusted_percentage if ind.is_casemix_adjusted and not pd.isna(comparator.adjusted_percentage) \
            else comparator.percentage
        out.append(fmt.pct(value))
    out.append(position_words(row))
    if fmt.is_flagged(row.completeness_flag):
        out.append(fmt.completeness_words(row.completeness_flag, True, THRESHOLD))
    return out


@pytest.mark.parametrize("role", ROLES)
def test_pack_names_its_own_organisation(packs: dict[str, BuiltPack], results: Results, role: str) -> None:
    pack = packs[role]
    name = org_rows(results, pack.code).org_name.iloc[0]
    assert name in pack.page(1) and pack.code in pack.page(1)
    for number in range(1, len(pack.pages) + 1):  # the footer names it on every page
        assert f"{pack.code} · {name}" in pack.page(number), f"page {number}"


@pytest.mark.parametrize("role", ROLES)
def test_summary_numbers_match_the_csv(packs: dict[str, BuiltPack], results: Results, role: str) -> None:
    pack = packs[role]
    summary = pack.page(SUMMARY_PAGE)
    assert "Summary of every indicator" in summary
    rows = org_rows(results, pack.code)
    assert len(rows) == len(default_registry())
    missing = [(row.indicator_id, s) for row in rows.itertuples() for s in expected_strings(pd.Series(row._asdict()), results)
               if s not in summary]
    assert not missing


@pytest.mark.parametrize("role", ROLES)
def test_summary_shows_no_other_organisation(packs: dict[str, BuiltPack], results: Results, role: str) -> None:
    pack = packs[role]
    summary = pack.page(SUMMARY_PAGE)
    orgs = results.indicators[results.indicators.level == "organisation"].drop_duplicates("org_code")
    own = orgs[orgs.org_code == pack.code].org_name.iloc[0]
    others = orgs[orgs.org_code != pack.code]
    named = [n for n in others.org_name if normalise(n) in summary and n not in own]
    coded = [c for c in others.org_code if re.search(rf"\b{re.escape(c)}\b", summary)]
    assert not named and not coded


def test_welsh_pack_says_not_available_never_zero(packs: dict[str, BuiltPack], results: Results) -> None:
    pack = packs["welsh"]
    rows = org_rows(results, pack.code)
    gone = rows[rows.status == "not_available"]
    assert not gone.empty
    summary = pack.page(SUMMARY_PAGE)
    assert summary.count("Not available for Wales") >= len(gone)
    # A zero percentage, not the tail of another number such as 30.0%.
    shows_zero = re.search(r"(?<![\d.])0\.0%", summary) is not None
    assert not shows_zero or (rows.percentage == 0).any()


def test_suppressed_values_are_words_not_numbers(packs: dict[str, BuiltPack], results: Results) -> None:
    pack = packs["suppressed"]
    rows = org_rows(results, pack.code)
    hidden = rows[rows.status.isin(["suppressed", "too_few"])]
    assert not hidden.empty
    summary = pack.page(SUMMARY_PAGE)
    for status, count in hidden.status.value_counts().items():
        assert summary.count(MISSING_WORDS[status]) >= count


@pytest.mark.parametrize("role", ROLES)
def test_synthetic_label_and_page_numbers_on_every_page(packs: dict[str, BuiltPack], results: Results, role: str) -> None:
    pack = packs[role]
    pages = len(PdfReader(pack.path).pages)
    assert len(pack.pages) == pages
    assert results.synthetic
    assert pack.text.count(SYNTHETIC_LABEL) == pages
    for number in range(1, pages + 1):
        assert SYNTHETIC_LABEL in pack.page(number)
        assert f"Page {number} of {pages}" in pack.page(number)


@pytest.mark.parametrize("role", ROLES)
def test_pack_has_every_section(packs: dict[str, BuiltPack], role: str) -> None:
    text = packs[role].text
    for heading in ("Summary of every indicator", "Funnel plots", "Run charts", "Survival", "Data completeness",
                    "Action planning for your MDT", "Who leads", "By when"):
        assert heading in text


def test_funnels_are_shared_vector_charts_whose_text_is_text(packs: dict[str, BuiltPack], results: Results) -> None:
    shared = packs["english"].path.parent / "_shared"
    funnels = sorted(shared.glob("funnel_*.svg"))
    assert funnels and all((f.parent / (f.name + ".alt.txt")).exists() for f in funnels)
    pack = packs["english"]
    name = org_rows(results, pack.code).org_name.iloc[0]
    assert pack.text.count(f"{name} ({pack.code})") >= len(funnels)  # one caption per funnel, in words
    # The axis titles are text inside the charts, so pdftotext finds one per funnel (and no raster image is left).
    assert pack.text.count("Patients (denominator)") == len(funnels)
    reader = PdfReader(pack.path)
    images = [name for page in reader.pages for name, obj in (page["/Resources"].get("/XObject") or {}).items()
              if obj.get_object().get("/Subtype") == "/Image"]
    assert not images


@pytest.mark.parametrize("role", ROLES)
def test_packs_meet_the_size_aim(packs: dict[str, BuiltPack], role: str) -> None:
    assert packs[role].path.stat().st_size <= SIZE_AIM


def test_completeness_flags_are_listed(packs: dict[str, BuiltPack], results: Results) -> None:
    pack = packs["flagged"]
    rows = org_rows(results, pack.code)
    flagged = rows[rows.completeness_flag.map(fmt.is_flagged)]
    assert not flagged.empty
    text = pack.text
    assert "Read with caution" in text
    for row in flagged.itertuples():
        assert default_registry().get(row.indicator_id).title in text
        if row.completeness_flag.strip().lower() not in ("yes", "true", "1"):
            assert normalise(row.completeness_flag) in text
        if default_registry().get(row.indicator_id).is_casemix_adjusted:  # the caveat beside the adjusted value
            assert "Caution: case-mix data incomplete." in pack.page(SUMMARY_PAGE)


@pytest.mark.parametrize("role", ["english", "welsh"])
def test_nations_keep_their_capital_letters_mid_sentence(packs: dict[str, BuiltPack], role: str) -> None:
    # "is not shown: not available for Wales", never "... for wales"
    assert not re.search(r"\b(wales|england)\b", packs[role].text)


@pytest.mark.parametrize("role", ["english", "welsh"])
def test_pack_is_a_tagged_pdf_with_alt_text_for_its_figures(packs: dict[str, BuiltPack], role: str) -> None:
    reader = PdfReader(packs[role].path)
    root = reader.trailer["/Root"]
    assert bool(root["/MarkInfo"]["/Marked"]) and root["/Lang"] == "en-GB"
    assert packs[role].code in reader.metadata.title

    def elements(node, found):
        node = node.get_object()
        if hasattr(node, "keys"):
            if "/S" in node:
                found.append((str(node["/S"]), str(node.get("/Alt", ""))))
            kids = node.get("/K")
            for kid in (kids if isinstance(kids, list) else [kids] if kids is not None else []):
                elements(kid, found)
        return found

    tags = elements(root["/StructTreeRoot"], [])
    kinds = {kind for kind, _ in tags}
    assert {"/H1", "/H2", "/Table", "/TH", "/TD", "/Figure"} <= kinds
    figures = [alt for kind, alt in tags if kind == "/Figure"]
    assert figures and all(alt.strip() for alt in figures)
    assert any(alt.startswith("Funnel plot of discussed at a breast multidisciplinary team (MDT)") for alt in figures)
