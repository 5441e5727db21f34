"""The static portal as files: complete, self-contained, faithful to the data files, fast."""

from __future__ import annotations

import re
import html
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from naome_report.config import default_config
from naome_report.publish.portal_charts import nice_step, shape_path, tick_text, y_range
from naome_report.publish.portal_model import fmt_ci, fmt_pct, safe_name

from .expected import org_rows, pick_orgs, run_series, shown_ci, shown_value


@dataclass
class Links:
    """Every href/src and every id of one HTML page (the portal writes attributes double-quoted)."""

    refs: list[str]
    ids: set[str]


def _parse(path: Path) -> Links:
    text = path.read_text(encoding="utf-8")
    refs = [html.unescape(m) for m in re.findall(r'\s(?:href|src)="([^"]+)"', text)]
    return Links(refs, set(re.findall(r'\sid="([^"]+)"', text)))


def _org_codes(results) -> list[str]:
    ind = results.indicators
    return sorted(ind.loc[ind.level == "organisation", "org_code"].unique())


def test_one_page_per_organisation_and_indicator(portal_dir, results, registry):
    assert (portal_dir / "index.html").exists()
    for code in _org_codes(results):
        assert (portal_dir / "organisations" / f"{safe_name(code)}.html").exists(), code
    for ind in registry:
        assert (portal_dir / "indicators" / f"{safe_name(ind.id)}.html").exists(), ind.id


def test_build_is_fast(portal_build):
    # The whole annual build must fit in 60 s on 2 cores; the portal's share is a few seconds of CPU.
    assert portal_build["cpu_seconds"] < 20, f"portal took {portal_build['cpu_seconds']:.1f} s of CPU"


def _site_files(portal_dir: Path, *suffixes: str) -> list[Path]:
    return [p for p in portal_dir.rglob("*") if p.suffix in suffixes]


def test_nothing_is_fetched_from_another_site(portal_dir):
    external = re.compile(r"""(?:href|src|url)\s*[=(]\s*["']?\s*(?:https?:)?//""", re.I)
    for path in _site_files(portal_dir, ".html", ".css", ".js", ".svg"):
        text = path.read_text(encoding="utf-8")
        assert not external.search(text), f"{path.name} refers to another site"
        assert "fetch(" not in text and "XMLHttpRequest" not in text, f"{path.name} makes requests"


def test_links_inside_the_portal_resolve(portal_dir):
    pages = _site_files(portal_dir, ".html")
    ids = {p.resolve(): None for p in pages}
    parsed = {p.resolve(): _parse(p) for p in pages}
    for page, links in parsed.items():
        for ref in links.refs:
            parts = urlsplit(ref)
            if parts.scheme in ("mailto", "data"):
                continue
            target = (page.parent / unquote(parts.path)).resolve() if parts.path else page
            if portal_dir.resolve() not in target.parents and target != portal_dir.resolve():
                continue  # reports, packs and data files live beside the portal, built by other stages
            assert target.exists(), f"{page.name}: broken link {ref}"
            if parts.fragment and target in ids:
                assert parts.fragment in parsed[target].ids, f"{page.name}: no #{parts.fragment} in {target.name}"


def test_every_page_says_when_data_are_synthetic(portal_dir, results):
    for path in _site_files(portal_dir, ".html"):
        text = path.read_text(encoding="utf-8")
        assert ("Synthetic data." in text) == results.synthetic, path.name


def test_organisation_table_shows_the_published_values(portal_dir, results, registry):
    for code in pick_orgs(results).values():
        html = (portal_dir / "organisations" / f"{safe_name(code)}.html").read_text(encoding="utf-8")
        rows = org_rows(results, code)
        for ind in registry:
            match = re.search(rf'<tr data-indicator="{re.escape(ind.id)}"[^>]*>(.*?)</tr>', html, re.S)
            assert match, f"{code}: no row for {ind.id}"
            if ind.id not in rows.index:
                assert "Not available" in match.group(1) or "No result" in match.group(1)
                continue
            value = shown_value(rows.loc[ind.id], ind.has_rate)
            if value:
                assert f">{value}<" in match.group(1), f"{code} {ind.id}: expected {value}"
                assert shown_ci(rows.loc[ind.id]) in match.group(1)


def test_each_run_chart_has_a_point_per_published_quarter(portal_dir, results, registry):
    for code in _org_codes(results)[:40]:
        html = (portal_dir / "organisations" / f"{safe_name(code)}.html").read_text(encoding="utf-8")
        for ind in registry:
            series = run_series(results, code, ind.id)
            if series.empty:
                continue
            chart = re.search(rf'<svg class="run-chart" id="run-{re.escape(safe_name(ind.id))}".*?</svg>', html, re.S)
            published = int(series.percentage.notna().sum())
            points = chart.group(0).count('class="pt ') if chart else 0
            assert points == published, f"{code} {ind.id}: {points} points for {published} published quarters"
            table = re.search(rf'id="ind-{re.escape(ind.id)}".*?<table class="run-table".*?<tbody>(.*?)</tbody>', html, re.S)
            assert table and table.group(1).count("<tr>") == len(series), f"{code} {ind.id}: data table rows"


def test_welsh_pages_say_not_available_for_wales(portal_dir, results, registry):
    welsh = pick_orgs(results).get("Wales")
    if welsh is None:
        pytest.skip("no Welsh organisation in these results")
    html = (portal_dir / "organisations" / f"{safe_name(welsh)}.html").read_text(encoding="utf-8")
    england_only = [ind for ind in registry if "Wales" not in ind.nations]
    rows = org_rows(results, welsh)
    unavailable = [i for i in rows.index if rows.loc[i, "status"] == "not_available"]
    assert england_only or unavailable, "nothing is unavailable for Wales in these results"
    for ind_id in [i.id for i in england_only] + unavailable:
        row = re.search(rf'<tr data-indicator="{re.escape(ind_id)}"[^>]*>(.*?)</tr>', html, re.S).group(1)
        assert "Not available for Wales" in row, ind_id


def test_charts_have_text_and_tables(portal_dir, results):
    code = pick_orgs(results)["England"]
    html = (portal_dir / "organisations" / f"{safe_name(code)}.html").read_text(encoding="utf-8")
    figures = re.findall(r"<figure.*?</figure>", html, re.S)
    assert figures
    for fig in figures:
        assert '<p class="summary">' in fig
        if "run-chart" in fig:
            assert "<table" in fig, "each run chart has a data table"
        for svg in re.findall(r"<svg class=\"(?:run-chart|funnel)\"[^>]*>", fig):
            assert "aria-label=" in svg


def test_landing_page_embeds_the_search_index(portal_dir, results):
    html = (portal_dir / "index.html").read_text(encoding="utf-8")
    index = re.search(r'<script type="application/json" id="org-index">(.*?)</script>', html, re.S).group(1)
    for code in _org_codes(results):
        assert f'"c":"{code}"' in index


def test_indicator_page_lists_every_organisation(portal_dir, results, registry):
    ind = next(i for i in registry if i.has_rate and i.outlier_process)
    html = (portal_dir / "indicators" / f"{safe_name(ind.id)}.html").read_text(encoding="utf-8")
    rows = set(re.findall(r'<tr data-org="([^"]+)"', html))
    expected = {c for c in _org_codes(results)}
    assert rows == expected
    assert re.search(r'<svg [^>]*class="funnel"', html)


@pytest.mark.parametrize("value, text", [(59.44, "59.4%"), (0, "0.0%"), (100, "100.0%"), (float("nan"), ""), (None, "")])
def test_percent_format(value, text):
    assert fmt_pct(value) == text


def test_ci_format():
    assert fmt_ci({"ci_lower_95": 55.14, "ci_upper_95": 63.66}) == "55.1% to 63.7%"
    assert fmt_ci({"ci_lower_95": float("nan"), "ci_upper_95": 1}) == ""


def test_axis_helpers():
    assert nice_step(100, 5) == 20
    assert tick_text(20.0, 20) == "20" and tick_text(2.5, 2.5) == "2.5"
    lo, hi, step = y_range([40.0, 62.0])
    assert lo <= 40 and hi >= 62 and 0 <= lo and hi <= 100
    for shape in ("circle", "square", "diamond", "up", "down", "hexagon"):
        assert shape_path(shape, 10, 10, 4).endswith("z")


def test_links_to_the_other_outputs_resolve_in_the_annual_build():
    portal = default_config().output_dir / "portal"
    if not (portal / "index.html").exists() or not (portal.parent / "packs").is_dir():
        pytest.skip("no complete annual build in output/ (run `make annual-report`)")
    pages = [portal / "index.html", *sorted((portal / "organisations").glob("*.html"))[:3]]
    for page in pages:
        for ref in _parse(page).refs:
            parts = urlsplit(ref)
            if parts.scheme or not parts.path:
                continue
            target = (page.parent / unquote(parts.path)).resolve()
            if portal.resolve() in target.parents:
                continue
            assert target.exists(), f"{page.name}: {ref} does not exist in the annual build"
