"""The State of the Nation report as its readers get it: key messages, recommendations, time, survival,
figures whose text is text, front and back matter; and the patient report's public content.

Expected values are read from the published data files and formatted here, independently of the code.
"""

from __future__ import annotations

import re
import shutil
import tomllib
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml
from pypdf import PdfReader

from documents_helpers import indicators, parse, pdf_text, primary_period, squash
from naome_report.config import PROJECT_ROOT
from naome_report.registry import load_registry

AUDIENCES = ("NHS trusts and health boards", "Cancer Alliances", "NHS England", "Welsh Government and NHS Wales",
             "The audit (NATCAN)")
SIZE_AIM = 2_000_000  # bytes: the State of the Nation PDF was 5.7 MB with raster figures


def pct(value: float) -> str:
    """A percentage to one decimal place, halves rounded up (the data have no exact halves to argue over)."""
    return f"{Decimal(repr(float(value))).quantize(Decimal('0.1'), ROUND_HALF_UP):,}%"


def decimal(value: float) -> str:
    return pct(value)[:-1]


def points(value: float) -> str:
    """A change in percentage points, signed: '+1.1', '-0.2', '0.0'."""
    text = decimal(value)
    if text in ("0.0", "-0.0"):
        return "0.0"  # no change has no sign
    return text if text.startswith("-") else "+" + text


def count(value: float) -> str:
    return f"{Decimal(repr(float(value))).quantize(Decimal('1'), ROUND_HALF_UP):,}"


@pytest.fixture(scope="module")
def sotn(built: Any) -> str:
    """The report's text, whitespace collapsed, without the contents pages."""
    text = squash(pdf_text(built.out_dir / "state-of-the-nation.pdf"))
    return text[text.index("About this report The"):]


def joined(text: str) -> str:
    """Words with their hyphens dropped, as pdftotext writes a word hyphenated at a line end ('anti-cancer')."""
    return re.sub(r"(?<=[a-z])-(?=[a-z])", "", text)


def _section(text: str, start: str, end: str) -> str:
    return text[text.index(start):text.index(end, text.index(start))]


def _printed_rows(built: Any, start: str, end: str) -> str:
    """The report's lines as printed, each squashed, from `start` to `end`: a table row reads as one line
    (in pdftotext's reading order a long first cell can move to the end of its table)."""
    layout = pdf_text(built.out_dir / "state-of-the-nation.pdf", layout=True)
    return _section("\n".join(squash(line) for line in layout.splitlines()), start, end)


def _pooled(built: Any) -> pd.DataFrame:
    d = indicators(built.data_dir)
    return d[(d.period == primary_period(built.data_dir)) & (d.subgroup == "all") & (d.status == "published")]


# ---------------------------------------------------------------- key messages


def test_key_messages_are_numbered_sentences(sotn: str) -> None:
    messages = _section(sotn, "1. Who was in the audit.", "Headline values of every indicator")
    numbers = [int(n) for n in re.findall(r"(?:^| )(\d+)\. [A-Z][a-z]+(?: [a-z-]+)*\. ", messages)]
    assert numbers == list(range(1, len(numbers) + 1)) and len(numbers) >= 7, numbers


def test_key_messages_figures_equal_the_data_files(built: Any, sotn: str) -> None:
    messages = _section(sotn, "1. Who was in the audit.", "Headline values of every indicator")
    cohort = pd.read_csv(built.data_dir / "naome_cohort_summary.csv")
    route = cohort[(cohort.nation == "England and Wales") & (cohort.characteristic == "route")].set_index("category")
    first = messages[:messages.index("2. ")]
    assert f"includes {count(route.patients.sum())} people" in first
    for category in ("de_novo", "recurrent"):
        assert f"{count(route.patients[category])} ({pct(route.percentage[category])})" in first
    pooled = _pooled(built)
    national = pooled[pooled.level.isin(["national", "nation"])]
    mdt = national[national.indicator_id == "mdt"].set_index("nation").percentage
    assert (f"{pct(mdt['England and Wales'])} (England {pct(mdt['England'])}, Wales {pct(mdt['Wales'])})"
            in messages)
    survival = pd.read_csv(built.data_dir / "naome_survival.csv")
    de_novo = survival[(survival.level == "national") & (survival.group == "De novo")].set_index("time_years")
    assert (f"{pct(de_novo.survival_percentage[1])} of people with de novo MBC were alive 1 year after diagnosis "
            f"and {pct(de_novo.survival_percentage[3])} after 3 years") in messages
    # Every percentage the messages give is a published value of the headline period.
    published = {pct(v) for v in pooled.percentage} | {pct(v) for v in cohort.percentage.dropna()}
    published |= {pct(v) for v in survival.survival_percentage.dropna()}
    quoted = set(re.findall(r"\d+\.\d%", messages.replace("99.8% funnel limit", "")))
    assert quoted and quoted <= published, quoted - published


# ---------------------------------------------------------------- recommendations


def test_recommendations_name_who_acts_and_cite_a_result(built: Any, sotn: str) -> None:
    entries = yaml.safe_load((PROJECT_ROOT / "reports" / "recommendations.yaml").read_text(encoding="utf-8"))
    titles = [e["title"] for kind in ("data_quality", "clinical") for e in entries[kind]]
    section = _section(sotn, "Recommendations Each recommendation", "The audit cohort The cohort")
    assert "Data quality" in section and "Clinical care" in section
    parts = re.split(r"Recommendation (\d+): ", section)[1:]
    assert [int(n) for n in parts[::2]] == list(range(1, len(titles) + 1))
    for title, body in zip(titles, parts[1::2]):
        assert body.startswith(title), (title, body[:80])
        audience = body[body.index("For: "):body.index(". QI goal")]
        assert any(a in audience for a in AUDIENCES), audience
        why = body[body.index("Why: "):]
        assert re.search(r"\d+\.\d%", why) and re.search(r"\(Table \d+\)\.", why), why[:200]
    national = _pooled(built)
    national = national[national.level == "nation"].set_index(["indicator_id", "nation"]).percentage
    assert f"{pct(national['mdt', 'England'])} in England and {pct(national['mdt', 'Wales'])} in Wales" in section


def test_a_recommendation_citing_a_missing_result_fails_the_build(built: Any, tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from naome_report.config import load_config
    from naome_report.hub import load_results
    from naome_report.publish.documents import stage
    from naome_report.publish.documents.recommendations import RecommendationError

    reports = tmp_path / "reports"
    shutil.copytree(PROJECT_ROOT / "reports", reports)
    path = reports / "recommendations.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("{mdt: Wales}", "{mdt_wales_2019: Wales}"),
                    encoding="utf-8")
    monkeypatch.setattr(stage, "REPORTS_DIR", reports)
    with pytest.raises(RecommendationError, match=r"recommendation 3 \('Discuss everyone newly diagnosed .*'\) "
                                                  r"cites \{mdt_wales_2019: Wales\}: no indicator 'mdt_wales_2019'"):
        stage.build_documents(load_results(built.data_dir), load_registry(), load_config(), tmp_path / "out")
    assert not (tmp_path / "out" / "state-of-the-nation.pdf").exists()


# ---------------------------------------------------------------- time


def test_each_indicator_has_a_table_per_financial_year_and_a_run_chart(built: Any, sotn: str) -> None:
    d = indicators(built.data_dir)
    years = d[(d.period_type == "financial_year") & (d.level == "national") & (d.subgroup == "all")
              & (d.status == "published")]
    runs = pd.read_csv(built.data_dir / "naome_run_charts.csv")
    runs = runs[(runs.level == "national") & (runs.status == "published")]
    sources = {str(i["src"]) for i in parse(built.out_dir / "state-of-the-nation.html").images}
    rows_as_printed = squash(pdf_text(built.out_dir / "state-of-the-nation.pdf", layout=True))  # a table row a line
    for ind in load_registry():
        if not ind.has_rate:
            continue
        table = _section(sotn, f"{ind.title}: each financial year of diagnosis", "Variation between organisations")
        for row in years[years.indicator_id == ind.id].itertuples():
            cell = f"{row.period} {pct(row.percentage)} ({pct(row.ci_lower_95)} to {pct(row.ci_upper_95)})"
            if pd.notna(row.change_points):
                cell += (f" {points(row.change_points)} ({points(row.change_ci_lower_95)} to "
                         f"{points(row.change_ci_upper_95)}) {'Yes' if row.change_significant == 'yes' else 'No'}")
            assert cell in rows_as_printed, (ind.id, cell)
        if ind.run_chart and (runs.indicator_id == ind.id).sum() >= 2:
            assert f"figures/run-{ind.id}.svg" in sources, ind.id
            assert "England and Wales, by quarter" in table


def test_key_message_on_change_names_each_change_beyond_chance(built: Any, sotn: str) -> None:
    messages = joined(_section(sotn, "1. Who was in the audit.", "Headline values of every indicator"))
    d = indicators(built.data_dir)
    latest = d[(d.level == "national") & (d.period_type == "financial_year") & (d.subgroup == "all")
               & d.change_significant.notna()]
    latest = latest[latest.period == latest.period.max()]
    moved = latest[latest.change_significant == "yes"]
    if moved.empty:
        assert "no indicator changed by more than chance" in messages
    for row in moved.itertuples():
        title = joined(load_registry().get(row.indicator_id).title_in_sentence)
        direction = "rose" if row.change_points > 0 else "fell"
        assert (f"{title} {direction} from {pct(row.previous_percentage)} to {pct(row.percentage)} "
                f"({points(row.change_points)} points)") in messages


# ---------------------------------------------------------------- people


CHARACTERISTICS = {"route": "Route to MBC", "age_band": "Age at diagnosis", "sex": "Sex",
                   "deprivation": "Deprivation quintile", "ethnicity_group": "Ethnic group"}


def test_breakdowns_by_route_age_sex_deprivation_and_ethnic_group(built: Any, sotn: str) -> None:
    b = pd.read_csv(built.data_dir / "naome_breakdowns.csv", dtype={"category": str})
    section = _section(sotn, "Differences between groups of patients Reducing inequalities", "Survival Survival is")
    registry = load_registry()
    assert set(b.characteristic) == set(CHARACTERISTICS)
    for ind_id, rows in b.groupby("indicator_id", sort=False):
        title = registry.get(ind_id).title
        table = _section(section, f"{title} by group of patients", "Table ") if ind_id != b.indicator_id.iloc[-1] \
            else section[section.index(f"{title} by group of patients"):]
        for name in CHARACTERISTICS.values():
            assert name in table, (ind_id, name)
        national = rows[(rows.nation == "England and Wales") & (rows.status == "published")]
        for row in national.itertuples():
            cell = f"{decimal(row.percentage)} ({decimal(row.ci_lower_95)}–{decimal(row.ci_upper_95)})"
            assert cell in table, (ind_id, row.characteristic, row.category, cell)
        beyond = rows[(rows.nation == "England and Wales") & (rows.beyond_chance == "yes")]
        statement = section[section.index(f"{title} Differences between groups beyond chance:"):][:400]
        expected = [CHARACTERISTICS[c][0].lower() + CHARACTERISTICS[c][1:] for c in dict.fromkeys(beyond.characteristic)]
        nationally = statement.split("England and Wales, ", 1)[1].split(";", 1)[0]
        assert (nationally == "none") == (not expected) and all(e in nationally for e in expected), (ind_id, statement)


# ---------------------------------------------------------------- survival


def test_survival_tables_give_the_numbers_at_risk(built: Any, sotn: str) -> None:
    survival = pd.read_csv(built.data_dir / "naome_survival.csv")
    survival = survival[(survival.level == "national") & (survival.status == "published")]
    section = _section(sotn, "Survival Survival is estimated", "Outliers Outliers follow")
    rows = _printed_rows(built, "Survival is estimated", "Outliers follow")
    for row in survival.itertuples():
        cells = (f"{row.group} {count(row.patients)} {pct(row.survival_percentage)} {pct(row.ci_lower_95)} to "
                 f"{pct(row.ci_upper_95)} {count(row.at_risk)}")
        assert cells in rows, cells
    assert section.count("Number at risk") >= 2, "a numbers-at-risk table under each survival chart"
    overall = survival[(survival.group_type == "all") & (survival.time_years == 3)].iloc[0]
    assert f"All: {count(overall.at_risk)} of {count(overall.patients)} people still at risk at 3 years" in section


# ---------------------------------------------------------------- figures


def test_england_and_wales_survival_compared(built: Any, sotn: str) -> None:
    c = pd.read_csv(built.data_dir / "naome_survival_comparison.csv")
    section = _printed_rows(built, "England and Wales compared", "Outliers follow")
    for group, rows in c[c.status == "published"].groupby("group", sort=False):
        england, wales = (rows[rows.nation == n].iloc[0] for n in ("England", "Wales"))
        cells = (f"{group} {count(england.patients)} {count(england.deaths)} {count(wales.patients)} "
                 f"{count(wales.deaths)} {count(wales.expected_deaths)}")
        assert cells in section, cells
        verdict = "Beyond chance" if wales.difference_beyond_chance == "yes" else "Within chance"
        assert verdict in section[section.index(cells):][:200]


def test_chart_text_is_text_in_the_pdf(built: Any, sotn: str) -> None:
    d = indicators(built.data_dir)
    alliance = d[d.level == "alliance"].org_name.iloc[0]  # a bar label of the alliance charts
    for words in ("Number of patients (denominator)", "By Cancer Alliance and Welsh region",
                  "Quarter of diagnosis of metastatic breast cancer", "Years since diagnosis of metastatic breast cancer",
                  "Discussed at a breast MDT (% of patients)", "Died within 30 days of SACT (% of treated, case-mix adjusted)",
                  "How the audit cohort was formed", alliance):
        assert words in sotn, words


def test_captions_of_case_mix_adjusted_charts_say_so(built: Any) -> None:
    text = squash(pdf_text(built.out_dir / "state-of-the-nation.pdf")).replace("-", "")  # pdftotext drops a line-end hyphen
    for ind in load_registry():
        if not ind.is_casemix_adjusted:
            continue
        captions = re.findall(rf"Figure \d+: {re.escape(ind.title.replace('-', ''))}.*? Data:", text)
        stated = re.compile(r"Casemix adjusted for age|not casemix adjusted")
        assert len(captions) == 3 and all(stated.search(c) for c in captions), (ind.id, captions)


def test_the_state_of_the_nation_pdf_is_small(built: Any) -> None:
    size = (built.out_dir / "state-of-the-nation.pdf").stat().st_size
    assert size <= SIZE_AIM, f"{size:,} bytes"


@pytest.mark.parametrize("stem", ("state-of-the-nation", "patient-report", "methodology-supplement"))
def test_every_figure_has_alt_text_in_the_tagged_pdf(built: Any, stem: str) -> None:
    images = parse(built.out_dir / f"{stem}.html").images
    reader = PdfReader(built.out_dir / f"{stem}.pdf")
    figures: list[str] = []

    def walk(node: Any) -> None:
        node = node.get_object()
        if isinstance(node, list):
            for child in node:
                walk(child)
            return
        if not hasattr(node, "get"):
            return
        if node.get("/S") == "/Figure":
            figures.append(str(node.get("/Alt", "")))
        if "/K" in node:
            walk(node["/K"])

    walk(reader.trailer["/Root"]["/StructTreeRoot"])
    assert len(figures) == len(images)
    html = (built.out_dir / f"{stem}.html").read_text(encoding="utf-8")
    assert html.count("<figure") == len(images), "every image stands as a numbered figure with its caption"
    assert all(alt.strip() for alt in figures)


@pytest.mark.parametrize("stem", ("state-of-the-nation", "patient-report", "methodology-supplement"))
def test_pdf_links_point_to_the_published_address_not_this_machine(built: Any, stem: str) -> None:
    address = yaml.safe_load((PROJECT_ROOT / "reports" / "publication.yaml").read_text(encoding="utf-8"))["web_address"]
    uris = [annot.get_object()["/A"]["/URI"] for page in PdfReader(built.out_dir / f"{stem}.pdf").pages
            for annot in page.get("/Annots") or [] if "/URI" in (annot.get_object().get("/A") or {})]
    assert uris and all(u.startswith(address) for u in uris), [u for u in uris if not u.startswith(address)]


# ---------------------------------------------------------------- front and back matter


def test_front_and_back_matter(built: Any) -> None:
    facts = tomllib.loads((PROJECT_ROOT / "data" / "naome.toml").read_text(encoding="utf-8"))["publication"]
    day = date.fromisoformat(facts["date"])
    published = f"{day.day} {day:%B %Y}"
    for stem in ("state-of-the-nation", "methodology-supplement"):
        text = squash(pdf_text(built.out_dir / f"{stem}.pdf"))
        assert f"Published {published} · Version 1" in text
        back = text[text.rindex("About this publication"):]
        assert f"Next update: {facts['next_update']}." in back
        for words in ("Versions and corrections", "How to cite", "Contact", "Related outputs", "Results portal",
                      "Metrics table", "Patient and public report", "Methodology supplement"):
            assert words in back, (stem, words)
        html = (built.out_dir / f"{stem}.html").read_text(encoding="utf-8")
        for heading in ("About this publication", "Versions and corrections", "How to cite", "Contact",
                        "Related outputs"):  # headings, not words run into the paragraph before them
            assert re.search(rf"<h[23][^>]*>(?:<[^>]+>)*{heading}<", html), (stem, heading)
    html = (built.out_dir / "state-of-the-nation.html").read_text(encoding="utf-8")
    for href in ('href="patient-report.html"', 'href="methodology-supplement.html"', 'href="portal/index.html"',
                 'href="NAoMe_Metrics_Table_'):
        assert href in html, href


# ---------------------------------------------------------------- the patient report


def test_patient_report_gives_support_lines_and_where_to_find_your_hospital(built: Any) -> None:
    text = squash(pdf_text(built.out_dir / "patient-report.pdf"))
    for line in ("Call 0808 800 6000 or go to breastcancernow.org", "Call 0808 808 00 00 or go to macmillan.org.uk",
                 "Call 0808 808 1010 or go to tenovuscancercare.org.uk"):
        assert line in text, line
    assert "How is your hospital doing?" in text and "portal/index.html" in text
    html = (built.out_dir / "patient-report.html").read_text(encoding="utf-8")
    assert 'href="portal/index.html"' in html
    assert "funnel" not in html.lower() and " SD" not in text, "the public chart is not the funnel plot"
    assert "figures/public-care.svg" in html


def test_patient_report_says_which_direction_is_better_for_each_kind_of_care(built: Any) -> None:
    text = squash(pdf_text(built.out_dir / "patient-report.pdf")).replace("-", "")  # a hyphen at a line end is dropped
    section = text[text.rindex("What did we find?"):text.rindex("How long do people live?")]
    registry = load_registry()
    for ind_id in ("mdt", "biopsy", "cdk46", "radiotherapy", "bone_agent", "cns"):
        ind = registry.get(ind_id)
        after = section[section.index(ind.plain_title.replace("-", "")):][:300]
        expected = ("This is no better or worse when it is higher or lower." if ind.direction == "neutral"
                    else "A higher number is better.")
        assert expected in after, (ind_id, after)
    assert "a higher number is better for each of these" not in section.lower()


@pytest.mark.parametrize("stem", ("state-of-the-nation", "patient-report", "methodology-supplement"))
def test_no_markdown_is_left_as_text(built: Any, stem: str) -> None:
    """A template tag that ate a line end runs a heading or a paragraph into the one before it."""
    text = pdf_text(built.out_dir / f"{stem}.pdf")
    for marker in ("## ", "{.unlisted}", "{#tbl-", "{#fig-", "[%", "[["):
        assert marker not in text, (stem, marker)
    if stem == "patient-report":
        html = (built.out_dir / f"{stem}.html").read_text(encoding="utf-8")
        assert re.search(r"<p>We published this report on [^<]*\.</p>", html)
