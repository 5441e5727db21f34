"""The static portal as files: complete, faithful to the data files, self-contained, light and fast."""

from __future__ import annotations

import html
import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pandas as pd
import pytest

from naome_report.config import default_config
from naome_report.publish.portal import build_portal, pages
from naome_report.publish.portal.bundle import bundle_outputs
from naome_report.publish.portal.charts import nice_step, shape_path, tick_text, y_range
from naome_report.publish.portal.model import fmt_ci, fmt_pct, fmt_points, safe_name
from naome_report.publish.portal.site import Site

from .expected import (area_page, areas, org_rows, pct, pick_orgs, run_series, shown_interval, shown_main,
                       shown_value, unit_rows)

# An organisation page with everything it loads (HTML, stylesheet, script, favicon, funnel images):
# about 555 kB with the default synthetic build (580 kB before this portal had area pages).
ORG_PAGE_BUDGET = 600_000


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


def _pooled_row(page: str, ind_id: str) -> str:
    """The row of one indicator in the 'all results' table of the pooled period (the first period view)."""
    view = re.search(r'<div class="period-view" data-period-view="[^"]+">(.*?)</table>', page, re.S).group(1)
    match = re.search(rf'<tr data-indicator="{re.escape(ind_id)}"[^>]*>(.*?)</tr>', view, re.S)
    assert match, f"no row for {ind_id}"
    return match.group(1)


def test_one_page_per_organisation_area_and_indicator(portal_dir, results, registry):
    assert (portal_dir / "index.html").exists() and (portal_dir / "help.html").exists()
    for code in _org_codes(results):
        assert (portal_dir / "organisations" / f"{safe_name(code)}.html").exists(), code
    for code in areas(results).org_code:
        assert area_page(portal_dir, safe_name(code)).exists(), code
    for ind in registry:
        assert (portal_dir / "indicators" / f"{safe_name(ind.id)}.html").exists(), ind.id


def test_build_is_fast(portal_build):
    # The whole annual build must fit in 60 s on 2 cores; the portal's share is a few seconds of CPU.
    assert portal_build["cpu_seconds"] < 20, f"portal took {portal_build['cpu_seconds']:.1f} s of CPU"


def _site_files(portal_dir: Path, *suffixes: str) -> list[Path]:
    return [p for p in portal_dir.rglob("*") if p.suffix in suffixes]


def _portal_pages(portal_dir: Path) -> list[Path]:
    """The portal's own pages (not the reports linked into it)."""
    return [portal_dir / "index.html", portal_dir / "help.html",
            *(p for folder in ("organisations", "areas", "indicators") for p in (portal_dir / folder).glob("*.html"))]


def test_nothing_is_fetched_from_another_site(portal_dir):
    external = re.compile(r"""(?:href|src|url)\s*[=(]\s*["']?\s*(?:https?:)?//""", re.I)
    for path in [*_portal_pages(portal_dir), *_site_files(portal_dir / "assets", ".css", ".js", ".svg")]:
        text = path.read_text(encoding="utf-8")
        assert not external.search(text), f"{path.name} refers to another site"
        assert "fetch(" not in text and "XMLHttpRequest" not in text, f"{path.name} makes requests"


def test_every_page_says_when_data_are_synthetic(portal_dir, results):
    for path in _portal_pages(portal_dir):
        text = path.read_text(encoding="utf-8")
        assert ("Synthetic data." in text) == results.synthetic, path.name


def test_organisation_table_shows_the_published_values(portal_dir, results, registry):
    for code in pick_orgs(results).values():
        page = (portal_dir / "organisations" / f"{safe_name(code)}.html").read_text(encoding="utf-8")
        rows = org_rows(results, code)
        for ind in registry:
            row = _pooled_row(page, ind.id)
            if ind.id not in rows.index:
                assert "Not available" in row or "No result" in row
                continue
            value = shown_main(rows.loc[ind.id], ind.has_rate, ind.is_casemix_adjusted)
            if value:
                assert f">{value}" in row, f"{code} {ind.id}: expected {value}"
                assert shown_interval(rows.loc[ind.id], ind.is_casemix_adjusted) in row, f"{code} {ind.id}: CI"


def test_every_area_page_shows_the_values_of_the_data_files(portal_dir, results, registry):
    """Each nation, region, alliance and Welsh Region: every indicator's value and CI as in the file."""
    checked = 0
    for area in areas(results).itertuples():
        page = area_page(portal_dir, safe_name(area.org_code)).read_text(encoding="utf-8")
        assert f"<h1>{html.escape(area.org_name, quote=False)} " in page
        rows = unit_rows(results, area.org_code)
        for ind in registry:
            row = _pooled_row(page, ind.id)
            if ind.id not in rows.index or rows.loc[ind.id, "status"] != "published":
                continue
            value = shown_main(rows.loc[ind.id], ind.has_rate, ind.is_casemix_adjusted)
            assert f">{value}" in row, f"{area.org_code} {ind.id}: expected {value}"
            assert shown_interval(rows.loc[ind.id], ind.is_casemix_adjusted) in row, f"{area.org_code} {ind.id}: CI"
            if ind.is_casemix_adjusted and not math.isnan(rows.loc[ind.id, "adjusted_percentage"]):
                assert f"crude {shown_value(rows.loc[ind.id], ind.has_rate)}" in row
            checked += 1
    assert checked > 100


def test_area_pages_link_up_and_down_the_hierarchy(site, site_results):
    portal = site / "portal"
    alliance = areas(site_results).query("level == 'alliance' and nation == 'England'").iloc[0]
    page = area_page(portal, alliance.org_code).read_text(encoding="utf-8")
    crumbs = re.search(r'<nav class="breadcrumbs.*?</nav>', page, re.S).group(0)
    names = re.findall(r">([^<>]+)</a>", crumbs)
    region = site_results.indicators.query("org_code == @alliance.org_code").region_name.iloc[0]
    assert names == ["England and Wales", "England", region]
    members = site_results.indicators.query("level == 'organisation' and parent_code == @alliance.org_code").org_code.unique()
    for code in members:
        assert f'href="../organisations/{code}.html"' in page, code
    org = (portal / "organisations" / f"{members[0]}.html").read_text(encoding="utf-8")
    crumbs = re.search(r'<nav class="breadcrumbs.*?</nav>', org, re.S).group(0)
    assert re.findall(r">([^<>]+)</a>", crumbs) == ["England and Wales", "England", region, alliance.org_name]


def test_each_run_chart_has_a_point_per_published_value(portal_dir, results, registry):
    for code in _org_codes(results)[:40]:
        page = (portal_dir / "organisations" / f"{safe_name(code)}.html").read_text(encoding="utf-8")
        for ind in registry:
            series = run_series(results, code, ind.id)
            if series.empty:
                continue
            chart = re.search(rf'<svg class="run-chart" id="run-{re.escape(safe_name(ind.id))}".*?</svg>', page, re.S)
            published = int(series.percentage.notna().sum())
            if chart:
                assert chart.group(0).count('class="pt ') == published, f"{code} {ind.id}"
            table = re.search(rf'id="ind-{re.escape(ind.id)}".*?<table class="run-table".*?<tbody>(.*?)</tbody>', page, re.S)
            assert table and table.group(1).count("<tr>") == len(series), f"{code} {ind.id}: data table rows"


def test_no_run_chart_without_enough_points_and_no_blank_limits(site, site_results, registry):
    rc = site_results.run_charts
    few = rc[(rc.level == "organisation") & (rc.chart_status == "not_enough_points")]
    assert not few.empty, "the fixture has series with too few points"
    for (code, ind_id), series in list(few.groupby(["org_code", "indicator_id"]))[:10]:
        page = (site / "portal" / "organisations" / f"{code}.html").read_text(encoding="utf-8")
        section = re.search(rf'<section class="indicator" id="ind-{ind_id}".*?</section>', page, re.S).group(0)
        assert 'class="run-chart"' not in section, f"{code} {ind_id} has a chart"
        published = int(series.percentage.notna().sum())
        assert f"Only {published} of the {len(series)} points have a published value" in section
    for path in (site / "portal" / "organisations").glob("*.html"):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"run from\s+to\b", text) and "from  to" not in text, path.name


def test_median_days_to_first_treatment_is_shown(portal_dir, results, registry):
    ind = next(i for i in registry if i.type == "timeliness")
    code = pick_orgs(results)["England"]
    row = org_rows(results, code).loc[ind.id]
    if row["status"] != "published" or math.isnan(row["median_days"]):
        pytest.skip("no published median for this organisation")
    page = (portal_dir / "organisations" / f"{code}.html").read_text(encoding="utf-8")
    assert f"median {row['median_days']:g} days" in _pooled_row(page, ind.id)
    nat = unit_rows(results, results.indicators.query("level == 'national'").org_code.iloc[0]).loc[ind.id]
    ind_page = (portal_dir / "indicators" / f"{ind.id}.html").read_text(encoding="utf-8")
    assert f"median time to first treatment {nat['median_days']:g} days" in ind_page


def test_judgements_come_from_the_hub(site, site_results, registry):
    """The comparison words of every organisation row equal the hub's vs_national codes (never recomputed)."""
    ind = site_results.indicators
    rows = ind[(ind.level == "organisation") & (ind.period == site_results.primary_period) & (ind.subgroup == "all")]
    for ind_id in ("mdt", "emergency", "radiotherapy"):
        page = (site / "portal" / "indicators" / f"{ind_id}.html").read_text(encoding="utf-8")
        view = re.search(r'data-period-view="[^"]+">(.*?)</table>', page, re.S).group(1)
        shown = dict(re.findall(r'<tr data-org="([^"]+)".*?data-judgement="([^"]+)"', view, re.S))
        expected = rows[rows.indicator_id == ind_id].set_index("org_code").vs_national.fillna("none")
        assert shown == {k: v for k, v in expected.items()}, ind_id


def test_neutral_indicators_are_described_never_judged(site, registry):
    neutral = [i.id for i in registry if i.direction == "neutral" and i.has_rate]
    assert neutral
    for ind_id in neutral:
        page = (site / "portal" / "indicators" / f"{ind_id}.html").read_text(encoding="utf-8")
        results = page[page.index('id="organisations"'):]  # past the key that explains every word
        codes = set(re.findall(r'data-judgement="([^"]+)"', results))
        assert not codes & {"better", "worse"}, ind_id
        assert codes & {"higher", "lower"}, f"{ind_id}: the fixture has significant differences to describe"


def test_landing_page_search_index_has_every_organisation_area_and_place(site, site_results):
    page = (site / "portal" / "index.html").read_text(encoding="utf-8")
    index = json.loads(re.search(r'<script type="application/json" id="search-index">(.*?)</script>', page, re.S).group(1))
    codes = {e["c"] for e in index}
    assert set(_org_codes(site_results)) <= codes
    assert set(areas(site_results).org_code) <= codes
    assert next(e for e in index if e["c"] == "ZAA")["w"] == "Quillhaven Marrowby Cross"
    assert next(e for e in index if e["c"] == "ZW1")["w"] == "Porth Tegid Llanfawr"


def test_indicator_page_lists_every_organisation_in_each_period(portal_dir, results, registry):
    ind = next(i for i in registry if i.has_rate)
    page = (portal_dir / "indicators" / f"{safe_name(ind.id)}.html").read_text(encoding="utf-8")
    views = re.findall(r'<div class="period-view" data-period-view="([^"]+)">(.*?)(?=<div class="period-view"|</section>)', page, re.S)
    assert len(views) == 1 + len(default_config().financial_years)
    for key, view in views:
        assert set(re.findall(r'<tr data-org="([^"]+)"', view)) == set(_org_codes(results)), key
        assert re.search(r'<svg [^>]*class="funnel"', view), key


def test_each_indicator_has_a_csv_of_every_organisation(site, site_results, registry):
    ind = site_results.indicators
    for ind_id in ("mdt", "ascertainment"):
        text = (site / "portal" / "downloads" / f"indicator-{ind_id}.csv").read_text(encoding="utf-8")
        lines = text.splitlines()
        assert lines[0] == (site / "data" / "naome_indicators.csv").read_text(encoding="utf-8").splitlines()[0]
        expected = ind[(ind.indicator_id == ind_id) & (ind.period_type != "quarter")]
        assert len(lines) - 1 == len(expected)


def test_the_portal_is_a_web_root(site):
    """Everything the portal links to is inside it: the reports, packs, workbook and data files are linked in."""
    portal = site / "portal"
    for rel in ("state-of-the-nation.html", "patient-report.pdf", "data/naome_indicators.csv", "packs/ZW1.pdf",
                "NAoMe_Metrics_Table_2023-24_to_2025-26_V1.xlsx", "favicon.svg"):
        assert (portal / rel).is_file(), rel
    for page in _site_files(portal, ".html"):
        for ref in _parse(page).refs:
            assert not ref.startswith(("/", "../../")), f"{page.name}: {ref} leaves the portal"
            target = (page.parent / unquote(urlsplit(ref).path)).resolve()
            if urlsplit(ref).scheme or not urlsplit(ref).path:
                continue
            assert portal.resolve() in target.parents or target == portal.resolve(), f"{page.name}: {ref}"


def test_bundle_follows_rebuilt_outputs_and_drops_removed_ones(tmp_path):
    (tmp_path / "packs").mkdir()
    (tmp_path / "portal").mkdir()
    (tmp_path / "packs" / "AAA.pdf").write_bytes(b"one")
    (tmp_path / "packs" / "BBB.pdf").write_bytes(b"two")
    (tmp_path / "naome-report.log").write_text("private", encoding="utf-8")
    bundle_outputs(tmp_path, tmp_path / "portal")
    assert (tmp_path / "portal" / "packs" / "AAA.pdf").read_bytes() == b"one"
    (tmp_path / "packs" / "AAA.pdf").unlink()
    (tmp_path / "packs" / "AAA.pdf").write_bytes(b"rebuilt")  # a new file, as an atomic rewrite leaves it
    (tmp_path / "packs" / "BBB.pdf").unlink()
    bundle_outputs(tmp_path, tmp_path / "portal")
    assert (tmp_path / "portal" / "packs" / "AAA.pdf").read_bytes() == b"rebuilt"
    assert not (tmp_path / "portal" / "packs" / "BBB.pdf").exists()
    assert not (tmp_path / "portal" / "naome-report.log").exists()


def test_a_rebuild_replaces_the_portal_whole_and_keeps_the_linked_outputs(tmp_path):
    (tmp_path / "organisations").mkdir()
    (tmp_path / "organisations" / "OLD.html").write_text("a unit no longer published", encoding="utf-8")
    (tmp_path / "help.html").write_text("old help", encoding="utf-8")
    (tmp_path / "packs").mkdir()
    (tmp_path / "packs" / "AAA.pdf").write_bytes(b"linked in by the bundle")
    site = Site(tmp_path)
    site.start()
    written = [site.write("organisations/NEW.html", "new page"), site.write("index.html", "home")]
    assert not (tmp_path / "organisations" / "NEW.html").exists()  # nothing shows until the whole portal is written
    site.publish()
    assert written == [tmp_path / "organisations" / "NEW.html", tmp_path / "index.html"]
    assert [p.name for p in (tmp_path / "organisations").iterdir()] == ["NEW.html"]
    assert (tmp_path / "organisations" / "NEW.html").read_text(encoding="utf-8") == "new page"
    assert not (tmp_path / "help.html").exists()
    assert (tmp_path / "packs" / "AAA.pdf").read_bytes() == b"linked in by the bundle"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["index.html", "organisations", "packs"]


def test_a_failed_build_leaves_the_previous_portal_as_it_was(tmp_path, results, registry, monkeypatch):
    (tmp_path / "organisations").mkdir()
    (tmp_path / "organisations" / "AAA.html").write_text("previous page", encoding="utf-8")

    def broken(*args, **kwargs):
        raise RuntimeError("an organisation page failed")

    monkeypatch.setattr(pages, "organisation", broken)
    with pytest.raises(RuntimeError, match="an organisation page failed"):
        build_portal(results, registry, default_config(), tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["organisations"]
    assert (tmp_path / "organisations" / "AAA.html").read_text(encoding="utf-8") == "previous page"


def test_organisation_page_weight(portal_dir, results):
    """HTML plus every asset it loads, counted once."""
    code = max(_org_codes(results), key=lambda c: (portal_dir / "organisations" / f"{c}.html").stat().st_size)
    page = portal_dir / "organisations" / f"{code}.html"
    loaded = {(page.parent / unquote(m)).resolve() for m in re.findall(
        r'<(?:link|script|image|img)[^>]*\s(?:href|src)="([^"]+)"', page.read_text(encoding="utf-8"))}
    total = page.stat().st_size + sum(p.stat().st_size for p in loaded)
    assert total < ORG_PAGE_BUDGET, f"{code}: {total:,} bytes with its assets"


@pytest.mark.parametrize("value, text", [(59.44, "59.4%"), (0, "0.0%"), (100, "100.0%"), (float("nan"), ""), (None, "")])
def test_percent_format(value, text):
    assert fmt_pct(value) == text


@pytest.mark.parametrize("value, text", [(2.34, "+2.3 points"), (-1.0, "\u22121.0 points"), (0.04, "0.0 points"),
                                         (float("nan"), "")])
def test_points_format(value, text):
    assert fmt_points(value) == text


def test_ci_format():
    assert fmt_ci({"ci_lower_95": 55.14, "ci_upper_95": 63.66}) == "55.1% to 63.7%"
    assert fmt_ci({"ci_lower_95": float("nan"), "ci_upper_95": 1}) == ""
    assert pct(55.14) == "55.1%" and pct(56.25) == "56.3%" and fmt_pct(56.25) == "56.3%"


def test_axis_helpers():
    assert nice_step(100, 5) == 20
    assert tick_text(20.0, 20) == "20" and tick_text(2.5, 2.5) == "2.5"
    lo, hi, step = y_range([40.0, 62.0])
    assert lo <= 40 and hi >= 62 and 0 <= lo and hi <= 100
    for shape in ("circle", "square", "diamond", "up", "down", "hexagon"):
        assert shape_path(shape, 10, 10, 4).endswith("z")


def test_every_chart_of_synthetic_results_carries_the_synthetic_mark(site):
    """Funnels (whole, and each page's background), run charts: the mark is inside every chart image."""
    portal = site / "portal"
    charts = 0
    for folder in ("organisations", "areas", "indicators"):
        for page in sorted((portal / folder).glob("*.html"))[:6]:
            for chart in re.findall(r'<svg [^>]*class="(?:run-chart|funnel)".*?</svg>', page.read_text(encoding="utf-8"), re.S):
                charts += 1
                if '<image href="../assets/funnel-' in chart:  # drawn on the shared background, checked below
                    continue
                assert ">SYNTHETIC DATA</text>" in chart, page.name
    backgrounds = sorted((portal / "assets").glob("funnel-*.svg"))
    assert charts > 50 and backgrounds
    for background in backgrounds:
        assert ">SYNTHETIC DATA</text>" in background.read_text(encoding="utf-8"), background.name


def test_the_search_hint_names_only_this_runs_units(site, site_results):
    """The examples under the search box come from the results (fictional here), never a fixed real name."""
    page = (site / "portal" / "index.html").read_text(encoding="utf-8")
    hint = re.search(r'<p class="hint" id="site-search-hint">(.*?)</p>', page, re.S).group(1)
    examples = re.findall(r"“([^”]+)”", hint)
    ind = site_results.indicators
    table = pd.read_csv(site / "organisations-synthetic.csv", dtype=str, keep_default_na=False)
    known = set(ind.org_name) | set(ind.org_code) | {place for p in table.places for place in p.split("; ")}
    words = {w for name in ind.org_name for w in name.split()}
    assert len(examples) >= 5
    assert all(e in known or e in words for e in examples), examples


def test_an_indicator_of_one_nation_is_headed_by_that_nation_and_counts_what_it_counts(portal_dir, results, registry):
    """The patient survey covers England only and counts respondents: its page leads with England's value."""
    one_nation = [i for i in registry if len(i.nations) == 1]
    assert one_nation, "the registry has an indicator of one nation (the cancer patient experience survey)"
    for ind in one_nation:
        nation = ind.nations[0]
        row = unit_rows(results, "E92000001" if nation == "England" else "W92000004").loc[ind.id]
        page = (portal_dir / "indicators" / f"{safe_name(ind.id)}.html").read_text(encoding="utf-8")
        panel = page[page.index('id="national-heading"'):page.index('id="nat-cap"')]
        assert f">{nation}</h2>" in panel
        assert f">{pct(row['percentage'])}</p>" in panel
        counted = "respondents" if ind.id.startswith("cpes") else "patients"
        assert f"({int(row['numerator']):,} of {int(row['denominator']):,} {counted})" in panel
        assert f"covers {nation} only" in panel
        assert f"{counted.capitalize()} counted (denominator)" in page
