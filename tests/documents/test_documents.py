"""The national documents: headline numbers match the data files, accessibility, synthetic labels."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from pypdf import PdfReader

from documents_helpers import indicators, parse, pdf_text, primary_period, squash
from naome_report.registry import load_registry

LABEL = "Synthetic data — not real patients"
NATIONS = ("England and Wales", "England", "Wales")
STEMS = ("state-of-the-nation", "patient-report", "methodology-supplement")


def pct(value: float) -> str:
    """A percentage as the documents print it (independent of the code under test)."""
    return "–" if pd.isna(value) else f"{value:,.1f}%"


def headline(data_dir: Path) -> dict[str, dict[str, str]]:
    """Each rate indicator's England and Wales, England and Wales % (primary period, all patients)."""
    d = indicators(data_dir)
    d = d[d.level.isin(["national", "nation"]) & (d.period == primary_period(data_dir)) & (d.subgroup == "all")]
    out = {}
    for ind in load_registry():
        if not ind.has_rate:
            continue
        rows = d[d.indicator_id == ind.id]
        out[ind.id] = {n: pct(rows[rows.nation == n].percentage.iloc[0]) if (rows.nation == n).any() else "–"
                       for n in NATIONS}
    return out


def survival(data_dir: Path) -> pd.DataFrame:
    """National 1- and 3-year survival of the primary period."""
    s = pd.read_csv(data_dir / "naome_survival.csv", low_memory=False)
    return s[(s.level == "national") & (s.period == primary_period(data_dir)) & (s.status == "published")]


# ---------------------------------------------------------------- outputs


def test_every_document_has_html_and_pdf(built: Any) -> None:
    for stem in STEMS:
        assert (built.out_dir / f"{stem}.html").stat().st_size > 1000
        assert (built.out_dir / f"{stem}.pdf").read_bytes().startswith(b"%PDF")


def test_build_warns_of_the_renderer_and_only_of_a_low_reading_score(built: Any) -> None:
    from naome_report.publish.documents import FLESCH_TARGET, flesch_reading_ease

    low = flesch_reading_ease(built.out_dir / "patient-report.html") < FLESCH_TARGET
    assert any("Flesch reading ease" in w and "BELOW" in w for w in built.warnings) == low
    no_quarto = shutil.which("quarto") is None
    assert any("Quarto CLI is not on PATH" in w for w in built.warnings) == no_quarto


def test_a_rebuild_keeps_what_did_not_change_and_renders_what_did(built: Any, tmp_path: Path,
                                                                 tmp_path_factory: pytest.TempPathFactory,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from naome_report.config import PROJECT_ROOT, load_config
    from naome_report.hub import load_results
    from naome_report.publish.documents import stage as documents
    from naome_report.registry import load_registry

    out = tmp_path
    shutil.copytree(built.out_dir, out, dirs_exist_ok=True)
    reports = tmp_path_factory.mktemp("reports")
    shutil.copytree(PROJECT_ROOT / "reports", reports, dirs_exist_ok=True)
    monkeypatch.setattr(documents, "REPORTS_DIR", reports)
    before = {p.name: p.stat().st_mtime_ns for p in out.rglob("*") if p.suffix in (".pdf", ".svg")}
    args = (load_results(built.data_dir), load_registry(), load_config(), out)

    documents.build_documents(*args, inputs_key=built.inputs_key)  # nothing changed: nothing redrawn or re-rendered
    assert {p.name: p.stat().st_mtime_ns for p in out.rglob("*") if p.suffix in (".pdf", ".svg")} == before

    qmd = reports / "patient-report.qmd"
    qmd.write_text(qmd.read_text(encoding="utf-8") + "\n\nA sentence added while drafting.\n", encoding="utf-8")
    documents.build_documents(*args, inputs_key=built.inputs_key)
    after = {p.name: p.stat().st_mtime_ns for p in out.rglob("*") if p.suffix in (".pdf", ".svg")}
    assert [n for n in after if after[n] != before[n]] == ["patient-report.pdf"]
    assert "A sentence added while drafting." in squash(pdf_text(out / "patient-report.pdf"))

    documents.build_documents(*args, inputs_key="other-inputs")  # results or code changed: everything again
    again = {p.name: p.stat().st_mtime_ns for p in out.rglob("*") if p.suffix in (".pdf", ".svg")}
    assert all(again[n] != after[n] for n in after)


# ---------------------------------------------------------------- numbers


def test_key_findings_match_the_indicator_file(built: Any) -> None:
    """Each indicator's row of the key-findings table reads E&W, England, Wales in that order."""
    text = pdf_text(built.out_dir / "state-of-the-nation.pdf", layout=True)
    for ind_id, values in headline(built.data_dir).items():
        triple = r"\s+".join(re.escape(values[n]) for n in NATIONS)
        assert re.search(triple, text), f"{ind_id}: {values} not found as a key-findings row"


def test_national_tables_carry_each_nation(built: Any) -> None:
    """Each indicator's national table gives England and Wales, England and Wales separately."""
    text = squash(pdf_text(built.out_dir / "state-of-the-nation.pdf"))
    d = indicators(built.data_dir)
    d = d[d.level.isin(["national", "nation"]) & (d.period == primary_period(built.data_dir))
          & (d.subgroup == "all") & (d.status == "published") & d.percentage.notna()]
    for row in d.itertuples():
        count = f"{row.numerator:,.0f} {row.percentage:,.1f}%"
        assert count in text, f"{row.indicator_id} {row.nation}: '{count}' not in the PDF"


def test_survival_matches_the_survival_file(built: Any) -> None:
    text = squash(pdf_text(built.out_dir / "state-of-the-nation.pdf"))
    s = survival(built.data_dir)
    assert len(s) >= 2
    for row in s.itertuples():
        assert pct(row.survival_percentage) in text, f"{row.group} {row.time_years} y"


def test_patient_report_numbers_match(built: Any) -> None:
    text = squash(pdf_text(built.out_dir / "patient-report.pdf"))
    values = headline(built.data_dir)
    for ind_id in ("mdt", "biopsy", "cdk46", "cns"):
        assert values[ind_id]["England and Wales"] in text, ind_id
    overall = survival(built.data_dir)
    overall = overall[overall.group_type == "all"]
    for row in overall.itertuples():
        assert pct(row.survival_percentage) in text


def test_no_template_leftovers(built: Any) -> None:
    for stem in STEMS:
        html = (built.out_dir / f"{stem}.html").read_text(encoding="utf-8")
        for marker in ("[[", "]]", "[%", "%]", "?@fig-", "?@tbl-", "nan%", ">nan<", " nan "):
            assert marker not in html, f"{stem}: '{marker}' left in the HTML"


# ---------------------------------------------------------------- accessibility


@pytest.mark.parametrize("stem", STEMS)
def test_html_accessibility(built: Any, stem: str) -> None:
    page = parse(built.out_dir / f"{stem}.html")
    assert page.lang == "en-GB"
    assert page.headings.count(1) == 1, "one h1 (the title)"
    for before, after in zip(page.headings, page.headings[1:]):
        assert after <= before + 1, f"heading level jumps from h{before} to h{after}"
    assert page.header_cells >= page.tables, "every table has header cells"
    for img in page.images:
        assert (img.get("alt") or "").strip(), f"{img.get('src')}: no alt text"
        assert (built.out_dir / str(img["src"])).exists(), f"{img.get('src')} missing"


def test_state_of_the_nation_figures(built: Any) -> None:
    """Funnel plots, alliance charts, survival curves and the flow diagram, each with alt text."""
    page = parse(built.out_dir / "state-of-the-nation.html")
    sources = [str(i["src"]) for i in page.images]
    assert any("funnel-" in s for s in sources) and any("alliance-" in s for s in sources)
    assert any("survival-route" in s for s in sources) and any("survival-subtype" in s for s in sources)
    assert any("patient-flow" in s for s in sources)
    figures = list((built.out_dir / "figures").glob("*.svg"))
    assert figures and not list((built.out_dir / "figures").glob("*.png")), "figures are vector SVG, not PNG"
    for svg in figures:
        alt = svg.with_name(svg.name + ".alt.txt")
        assert alt.exists() and alt.read_text(encoding="utf-8").strip(), svg.name


@pytest.mark.parametrize("stem", STEMS)
def test_pdf_is_tagged(built: Any, stem: str) -> None:
    reader = PdfReader(built.out_dir / f"{stem}.pdf")
    root = reader.trailer["/Root"]
    assert root["/MarkInfo"]["/Marked"] is True or root["/MarkInfo"]["/Marked"] == True  # noqa: E712
    assert "/StructTreeRoot" in root
    assert str(root.get("/Lang", "")).startswith("en")


@pytest.mark.parametrize("stem", STEMS)
def test_every_page_is_labelled_synthetic(built: Any, stem: str) -> None:
    if not json.loads((built.data_dir / "naome_run.json").read_text()).get("synthetic", True):
        pytest.skip("results are from real data: no synthetic label expected")
    pdf = built.out_dir / f"{stem}.pdf"
    pages = len(PdfReader(pdf).pages)
    for page in range(1, pages + 1):
        assert LABEL in squash(pdf_text(pdf, page)), f"{stem} page {page} has no synthetic label"


def test_patient_report_is_plain_english(built: Any) -> None:
    from naome_report.publish.documents import body_text, flesch_reading_ease

    html = built.out_dir / "patient-report.html"
    assert len(body_text(html).split()) > 500
    assert flesch_reading_ease(html) >= 60


def test_patient_report_is_large_print(built: Any) -> None:
    assert "large-print" in (built.out_dir / "patient-report.html").read_text(encoding="utf-8")
