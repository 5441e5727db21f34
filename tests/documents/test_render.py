"""Document pipeline: Jinja2 fill, HTML (pandoc + Lua filter, or Quarto), tagged A4 PDF."""

from __future__ import annotations

import logging
import re
import shutil
import stat
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import pytest
from pypdf import PdfReader

from naome_report.publish.documents import render
from naome_report.publish.documents.render import (
    SYNTHETIC_LABEL,
    RenderError,
    RenderResult,
    TemplateContextError,
    fill_template,
    render_document,
)

SAMPLE_QMD = """\
[# A comment the reader never sees #]
## Summary

The audit includes [[ n_patients | thousands ]] people; [[ mdt | pct ]] were discussed at an MDT
(@fig-funnel). Counts by nation are in @tbl-nation. Quarto shortcodes such as {{< meta title >}}
are not Jinja's business.

::: {.callout-note}
## How to read a funnel plot
Each point is an organisation.
:::

### Method

[% for nation in nations %]
- [[ nation.name ]]: [[ nation.n | thousands ]]
[% endfor %]

## Results {.new-page}

![Patients discussed at an MDT, by organisation](figs/funnel.png){#fig-funnel fig-alt="Funnel plot: every organisation within the limits; national value [[ mdt | pct ]]."}

| Nation | Patients |
|:-------|---------:|
[% for nation in nations %]
| [[ nation.name ]] | [[ nation.n | thousands ]] |
[% endfor %]

: Patients by nation {#tbl-nation}

### Survival

See [@fig-funnel] again.
"""

CONTEXT = {"n_patients": 16102, "mdt": 59.04, "nations": [{"name": "England", "n": 14678}, {"name": "Wales", "n": 1424}]}


def _tiny_png(path: Path) -> None:
    """A 2×2 grey PNG, written without any imaging library."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"".join(b"\x00" + b"\x76\x86\x92" * 2 for _ in range(2))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0))
                     + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def _page_texts(pdf: Path) -> list[str]:
    """Text of each page (pdftotext, else pypdf)."""
    reader = PdfReader(pdf)
    if shutil.which("pdftotext"):
        return [subprocess.run(["pdftotext", "-f", str(i), "-l", str(i), "-layout", str(pdf), "-"],
                               capture_output=True, text=True, check=True).stdout for i in range(1, len(reader.pages) + 1)]
    return [page.extract_text() for page in reader.pages]


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> tuple[RenderResult, str]:
    root = tmp_path_factory.mktemp("render")
    (root / "reports").mkdir()
    template = root / "reports" / "sample.qmd"
    template.write_text(SAMPLE_QMD, encoding="utf-8")
    _tiny_png(root / "figures" / "figs" / "funnel.png")
    text = fill_template(template, CONTEXT)
    result = render_document(text, stem="sample", out_dir=root / "out", title="Sample report",
                             subtitle="A test", synthetic=True, resource_dir=root / "figures",
                             engine="pandoc")
    return result, result.html_path.read_text(encoding="utf-8")


# ---------------------------------------------------------------- Jinja fill


def test_fill_uses_bracket_delimiters_and_leaves_quarto_syntax(tmp_path: Path) -> None:
    template = tmp_path / "t.qmd"
    template.write_text(SAMPLE_QMD, encoding="utf-8")
    text = fill_template(template, CONTEXT)
    assert "16,102 people; 59.0% were" in text
    assert "{{< meta title >}}" in text and "{#fig-funnel" in text
    assert "- Wales: 1,424" in text and "| England | 14,678 |" in text
    assert "comment" not in text and "[[" not in text and "[%" not in text


def test_missing_value_names_variable_template_and_line(tmp_path: Path) -> None:
    template = tmp_path / "report.qmd"
    template.write_text("## Title\n\nValue: [[ n_patients ]]\n\nMissing: [[ survival_1yr | pct ]]\n", encoding="utf-8")
    with pytest.raises(TemplateContextError) as caught:
        fill_template(template, {"n_patients": 1})
    message = str(caught.value)
    assert "survival_1yr" in message and "report.qmd" in message and "line 5" in message


def test_syntax_error_names_template_and_line(tmp_path: Path) -> None:
    template = tmp_path / "bad.qmd"
    template.write_text("ok\n[% for x in %]\n", encoding="utf-8")
    with pytest.raises(TemplateContextError, match=r"bad\.qmd, line 2"):
        fill_template(template, {})


def test_triple_bracket_is_refused_with_a_hint(tmp_path: Path) -> None:
    template = tmp_path / "span.qmd"
    template.write_text("[[[ value ]]]{.stat-value}\n", encoding="utf-8")
    with pytest.raises(TemplateContextError, match=r"line 1.*\[ \[\[ value \]\]\]"):
        fill_template(template, {"value": 1})


# ---------------------------------------------------------------- HTML


def test_html_is_accessible_and_cross_referenced(sample: tuple[RenderResult, str]) -> None:
    result, html = sample
    assert result.renderer.startswith("pandoc ")
    assert '<html lang="en-GB"' in html
    assert 'alt="Funnel plot: every organisation within the limits; national value 59.0%."' in html
    assert "fig-alt" not in html
    plain = html.replace("\u00a0", " ")
    assert re.search(r'<a href="#fig-funnel" class="cross-ref">Figure 1</a>', plain)
    assert re.search(r'<a href="#tbl-nation" class="cross-ref">Table 1</a>', plain)
    assert "Figure 1:</span> Patients discussed" in plain and "Table 1:</span> Patients by nation" in plain
    assert "@fig-" not in html and "@tbl-" not in html
    assert '<main id="main">' in html and 'href="#main"' in html
    assert re.search(r'<nav id="TOC"[^>]*>.*<a href="#summary"', html, re.S)
    assert "SYNTHETIC DATA" in html


def test_table_cells_are_aligned_by_class_not_inline_style(sample: tuple[RenderResult, str]) -> None:
    _, html = sample
    assert '<td class="align-right">14,678</td>' in html and '<th class="align-left">Nation</th>' in html
    assert "text-align" not in html


def test_callout_becomes_a_titled_aside(sample: tuple[RenderResult, str]) -> None:
    _, html = sample
    match = re.search(r'<aside class="callout callout-note" aria-labelledby="([^"]+)">\s*<div id="\1" '
                      r'class="callout-title">\s*How to read a funnel plot', html)
    assert match, html
    assert "<h2>How to read a funnel plot</h2>" not in html


def test_figures_resolve_from_the_resource_dir(sample: tuple[RenderResult, str]) -> None:
    result, html = sample
    src = re.search(r'<img src="([^"]+)"', html).group(1)
    assert (result.html_path.parent / src).resolve().is_file()
    assert (result.html_path.parent / render.CSS_NAME).is_file()


# ---------------------------------------------------------------- PDF


def test_pdf_is_tagged_a4_with_title_and_language(sample: tuple[RenderResult, str]) -> None:
    result, _ = sample
    reader = PdfReader(result.pdf_path)
    catalog = reader.trailer["/Root"]
    assert bool(catalog["/MarkInfo"]["/Marked"]) is True
    assert "/StructTreeRoot" in catalog
    assert catalog["/Lang"] == "en-GB"
    assert reader.metadata.title == "Sample report"
    assert len(reader.pages) >= 3
    for page in reader.pages:
        assert (round(float(page.mediabox.width)), round(float(page.mediabox.height))) == (595, 842)


def test_every_page_carries_the_synthetic_label_and_page_numbers(sample: tuple[RenderResult, str]) -> None:
    result, _ = sample
    pages = _page_texts(result.pdf_path)
    for number, text in enumerate(pages, start=1):
        assert SYNTHETIC_LABEL in text, f"page {number}"
        assert f"Page {number} of {len(pages)}" in text
    assert "Sample report" in pages[1]  # running header


def test_contents_lists_page_numbers(sample: tuple[RenderResult, str]) -> None:
    result, _ = sample
    first = _page_texts(result.pdf_path)[0]
    assert "Contents" in first
    entries = dict(re.findall(r"^\s*(Summary|Results|Survival)\s*\.{3,}\s*(\d+)\s*$", first, re.M))
    assert entries.keys() == {"Summary", "Results", "Survival"}
    assert int(entries["Summary"]) == 2 and int(entries["Results"]) > int(entries["Summary"])


# ---------------------------------------------------------------- options and failures


def test_real_data_large_print_has_no_synthetic_label(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="naome_report.render"):
        result = render_document("## Plain\n\nText.\n", stem="plain", out_dir=tmp_path, title="Plain",
                                 synthetic=False, resource_dir=tmp_path, large_print=True, toc=False,
                                 engine="pandoc")
    html = result.html_path.read_text(encoding="utf-8")
    assert "large-print" in html and "synthetic-banner" not in html
    assert all(SYNTHETIC_LABEL not in text for text in _page_texts(result.pdf_path))
    assert any("rendered with pandoc" in r.getMessage() for r in caplog.records if r.name == "naome_report.render")


def test_unresolved_cross_reference_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(RenderError, match="@fig-missing"):
        render_document("See @fig-missing.\n", stem="bad", out_dir=tmp_path, title="Bad", synthetic=True,
                        resource_dir=tmp_path, engine="pandoc")


def test_quarto_is_used_when_installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A stand-in `quarto` records its arguments and project file; no real Quarto is needed."""
    log_file = tmp_path / "quarto-args.txt"
    fake = tmp_path / "bin" / "quarto"
    fake.parent.mkdir()
    fake.write_text(
        "#!/bin/sh\n"
        f'echo "$@" > {log_file}\n'
        f"cat _quarto.yml >> {log_file}\n"
        'while [ "$1" != "--output" ]; do shift; done\n'
        'printf \'<!DOCTYPE html><html lang="en-GB"><head><title>Q</title></head>'
        "<body><h1>Q</h1><p>Quarto</p></body></html>' > \"$2\"\n",
        encoding="utf-8",
    )
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setattr(render.shutil, "which", lambda name: str(fake) if name == "quarto" else None)
    result = render_document("## Q\n", stem="q", out_dir=tmp_path / "out", title="Q", synthetic=True,
                             resource_dir=tmp_path)
    assert result.renderer == "quarto"
    assert result.html_path.read_text(encoding="utf-8").count("Quarto") == 1
    assert result.pdf_path.stat().st_size > 0
    recorded = log_file.read_text(encoding="utf-8")
    assert "render q.qmd --to html --output q.html" in recorded and "synthetic:true" in recorded
    assert f"template: {render.HTML_TEMPLATE}" in recorded
    assert not (tmp_path / "out" / ".quarto-build" / "q").exists()


def test_asking_for_quarto_without_it_is_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(render.shutil, "which", lambda name: None)
    with pytest.raises(RenderError, match="no `quarto`"):
        render_document("x\n", stem="x", out_dir=tmp_path, title="X", synthetic=True, resource_dir=tmp_path,
                        engine="quarto")
