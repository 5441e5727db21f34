"""The methodology supplement states every rule and code list from configuration: change one, and the rendered
supplement says the new value."""

from __future__ import annotations

import copy
import subprocess

from naome_report.config import load_config
from naome_report.hub import load_results
from naome_report.publish.doc_context import base_context
from naome_report.publish.render import fill_template, render_document
from naome_report.publish.documents import REPORTS_DIR
from naome_report.registry import load_registry


def _render(config, data_dir, out_dir):
    registry = load_registry(config=config)
    context = base_context(load_results(data_dir), registry, config, out_dir)
    context["figures"] = {}
    text = fill_template(REPORTS_DIR / "methodology-supplement.qmd", {**context, "doc": None})
    result = render_document(text, stem="methodology-supplement", out_dir=out_dir, title="Methodology supplement",
                             synthetic=True, resource_dir=out_dir, engine="pandoc")
    html = result.html_path.read_text(encoding="utf-8")
    pdf = subprocess.run(["pdftotext", str(result.pdf_path), "-"], capture_output=True, text=True,
                         check=True).stdout
    return html, " ".join(pdf.split())


def test_a_changed_window_and_code_list_appear_in_the_rendered_supplement(data_dir, tmp_path):
    sites = copy.deepcopy(load_config().section("code_lists")["metastatic_sites"])
    for entry in sites:
        if entry["code"] == "C77.3":
            entry["distant"] = True
            entry["why"] = "counted as distant for this test"
    config = load_config(overrides={
        "windows": {"metastatic_sites_days": [-14, 77], "first_treatment_days": [0, 120]},
        "cohort": {"max_age": 99}, "code_lists": {"metastatic_sites": sites,
                                                  "palliative_radiotherapy_intents": ["P", "X"]}})
    html, pdf = _render(config, data_dir, tmp_path)
    assert "from 14 days (2 weeks) before to 77 days (11 weeks) after the MBC diagnosis" in " ".join(html.split())
    assert "from 14 days (2 weeks) before to 77 days (11 weeks) after the MBC diagnosis" in pdf
    # The indicator definitions follow the window of the treatment rule, and the title with them.
    assert "Systemic anti-cancer therapy started within 120 days of diagnosis" in pdf
    assert "aged 18 to 99 at that date" in pdf
    assert "counted as distant for this test" in pdf
    assert "A radiotherapy episode with intent P (palliative) or X (not known) started" in pdf


def test_the_default_supplement_states_the_rules_and_the_changelog(output_dir):
    pdf = subprocess.run(["pdftotext", str(output_dir / "methodology-supplement.pdf"), "-"],
                         capture_output=True, text=True, check=True).stdout
    text = " ".join(pdf.split())
    assert "the axillary nodes are regional in breast cancer (TNM N1-N3)" in text
    assert "from 31 days (1 month) before to 91 days (3 months) after the MBC diagnosis" in text
    assert "Aged over 105 at metastatic diagnosis (taken as a recording error)" in text
    assert "updated November 2025" in text
    assert "Axillary lymph nodes (C77.3) are regional disease in breast cancer" in text  # the changelog
    assert "[reconstructed" not in text
    assert "c-statistic" in text and ("explains little" in text or "modestly" in text or "acceptably" in text)
