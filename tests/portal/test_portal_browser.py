"""The portal in a real browser (Debian chromium, headless): search, values, charts, keyboard, print, axe-core."""

from __future__ import annotations

import io
import math
import re
import urllib.request
from html.parser import HTMLParser
from pathlib import Path
from urllib.error import HTTPError
from urllib.parse import urldefrag, urljoin, urlsplit

import pytest

from naome_report.publish.portal.model import safe_name

from .expected import areas, org_rows, pct, pick_orgs, run_series, shown_interval, shown_main, unit_rows

expect = pytest.importorskip("playwright.sync_api", reason="browser tests need the playwright Python package").expect

pytestmark = pytest.mark.browser

FOCUS_YELLOW = "rgb(255, 235, 59)"
# Printing an organisation page (A4, every table shown, each chart with its heading) takes at most this many
# pages; 12 with the default synthetic build.
PRINT_PAGES = 12
VISIBLE = "[data-period-view]:not([hidden])"


class Watched:
    """A page whose console errors, outgoing requests and failed loads are recorded for the whole test."""

    def __init__(self, page) -> None:
        self.page = page
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.missing: list[str] = []
        page.on("console", lambda m: self.errors.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(f"page error: {e}"))
        page.on("request", lambda r: self.requests.append(r.url))
        # A request cut short by leaving the page (net::ERR_ABORTED) is not a missing file.
        page.on("requestfailed", lambda r: self.missing.append(f"{r.url} ({r.failure})")
                if "ERR_ABORTED" not in str(r.failure) else None)
        page.on("response", lambda r: self.missing.append(f"{r.url} ({r.status})") if r.status >= 400 else None)

    def open(self, target: Path | str) -> None:
        self.page.goto(target.as_uri() if isinstance(target, Path) else target)
        self.page.wait_for_load_state("load")

    def check_clean(self) -> None:
        assert self.errors == [], self.errors
        assert self.missing == [], f"requests for missing files: {self.missing[:5]}"
        leaving = [u for u in self.requests if not u.startswith(("file://", "data:", "http://127.0.0.1"))]
        assert leaving == [], f"requests left the site: {leaving[:5]}"


def _watched(browser, width: int = 1280):
    context = browser.new_context(viewport={"width": width, "height": 900})
    return context, Watched(context.new_page())


@pytest.fixture()
def desktop(browser):
    context, watched = _watched(browser)
    yield watched
    watched.check_clean()
    context.close()


@pytest.fixture(scope="session")
def orgs(results) -> dict[str, str]:
    picked = pick_orgs(results)
    assert "England" in picked
    return picked


def _org_page(portal_dir: Path, code: str) -> Path:
    return portal_dir / "organisations" / f"{safe_name(code)}.html"


# ---------------------------------------------------------------------------- values and charts

def test_search_finds_an_organisation_and_its_page_shows_the_published_values(desktop, portal_dir, results, registry, orgs):
    page = desktop.page
    code = orgs["England"]
    name = results.indicators.loc[results.indicators.org_code == code, "org_name"].iloc[0]
    desktop.open(portal_dir / "index.html")
    page.fill("#site-search", "")
    page.type("#site-search", code.lower(), delay=20)
    link = page.locator("#search-results a").first
    expect(link).to_contain_text(code)  # waits out the results of the partly typed code
    with page.expect_navigation():
        link.click()
    assert page.url.endswith(f"/organisations/{safe_name(code)}.html")
    assert name in page.inner_text("h1")

    rows = org_rows(results, code)
    checked = 0
    for ind in registry:
        tr = page.locator(f'{VISIBLE} table.org-results tr[data-indicator="{ind.id}"]')
        assert tr.count() == 1, ind.id
        if ind.id not in rows.index:
            continue
        value = shown_main(rows.loc[ind.id], ind.has_rate, ind.is_casemix_adjusted)
        if value is None:
            continue
        cell = tr.locator("td.value").first.inner_text().strip()
        assert cell.split()[0] == value, f"{ind.id}: shows {cell!r}, file says {value}"
        if ind.has_rate:
            assert shown_interval(rows.loc[ind.id], ind.is_casemix_adjusted) in cell, ind.id
        checked += 1
    assert checked >= 5


@pytest.mark.parametrize("nation", ["England", "Wales"])
def test_run_charts_have_a_point_per_published_value(desktop, portal_dir, results, registry, orgs, nation):
    if nation not in orgs:
        pytest.skip(f"no {nation} organisation in these results")
    page = desktop.page
    code = orgs[nation]
    desktop.open(_org_page(portal_dir, code))
    charts = 0
    for ind in registry:
        series = run_series(results, code, ind.id)
        points = page.locator(f"svg#run-{safe_name(ind.id)} .pt")
        if series.empty or points.count() == 0:
            continue
        assert points.count() == int(series.percentage.notna().sum()), ind.id
        rows = page.locator(f"#ind-{ind.id} table.run-table tbody tr")
        assert rows.count() == len(series), ind.id
        charts += 1
    assert charts >= 3


def test_run_chart_points_show_values_on_focus_and_move_with_arrow_keys(desktop, portal_dir, results, registry, orgs):
    page = desktop.page
    code = orgs["England"]
    desktop.open(_org_page(portal_dir, code))
    ind = next(i for i in registry if page.locator(f"svg#run-{safe_name(i.id)} .pt").count() >= 3)
    points = page.locator(f"svg#run-{safe_name(ind.id)} .pt")
    tooltip = page.locator(f"#ind-{ind.id} .tooltip")
    last = points.nth(points.count() - 1)
    assert last.get_attribute("tabindex") == "0"
    last.focus()
    assert tooltip.is_visible()
    assert tooltip.inner_text() == last.get_attribute("aria-label")
    series = run_series(results, code, ind.id)
    latest = series[series.percentage.notna()].iloc[-1]
    assert pct(latest.percentage) in tooltip.inner_text()
    assert str(latest.period) in tooltip.inner_text()
    page.keyboard.press("ArrowLeft")
    focused = page.evaluate("document.activeElement.getAttribute('aria-label')")
    assert focused == points.nth(points.count() - 2).get_attribute("aria-label")
    assert tooltip.inner_text() == focused
    page.keyboard.press("Escape")
    assert not tooltip.is_visible()
    points.first.hover()
    assert tooltip.is_visible() and tooltip.inner_text() == points.first.get_attribute("aria-label")


def test_keyboard_alone_reaches_an_organisation_with_visible_focus(desktop, portal_dir, orgs):
    page = desktop.page
    desktop.open(portal_dir / "index.html")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip-link"
    assert page.evaluate("getComputedStyle(document.activeElement).top") != "-60px"
    for _ in range(30):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "site-search":
            break
        style = page.evaluate("getComputedStyle(document.activeElement).backgroundColor")
        assert style == FOCUS_YELLOW, "every focused link shows the yellow focus style"
    else:
        pytest.fail("the search box cannot be reached with Tab")
    page.keyboard.type(orgs["England"])
    expect(page.locator("#search-results a").first).to_contain_text(orgs["England"])
    page.keyboard.press("ArrowDown")
    assert page.evaluate("document.activeElement.closest('#search-results') !== null")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url.endswith(f"/organisations/{safe_name(orgs['England'])}.html")


def test_indicator_table_sorts_by_result(desktop, portal_dir, registry):
    page = desktop.page
    ind = next(i for i in registry if i.has_rate and not i.is_casemix_adjusted)
    desktop.open(portal_dir / "indicators" / f"{safe_name(ind.id)}.html")
    header = page.locator(f"{VISIBLE} table.sortable th", has=page.locator("button", has_text="Result"))
    header.locator("button").click()
    assert header.get_attribute("aria-sort") == "ascending"
    keys = page.eval_on_selector_all(f"{VISIBLE} table.sortable tbody td.value", "cells => cells.map(c => parseFloat(c.dataset.sort))")
    values = [k for k in keys if not math.isnan(k) and k >= 0]
    assert values == sorted(values) and len(values) > 10
    header.locator("button").click()
    assert header.get_attribute("aria-sort") == "descending"


# ---------------------------------------------------------------------------- search, areas, judgement (served site)

@pytest.mark.parametrize("query, level, name", [
    ("Hollowmere", "alliance", "Hollowmere and Wick"), ("Reach", "alliance", "Copperfield Reach"),
    ("Greywater", "alliance", "Greywater Valley"), ("Midvale", "region", "Midvale"), ("Wales", "nation", "Wales"),
    ("glannant", "alliance", "Glannant"),
])
def test_search_for_an_area_reaches_its_page(browser, served, site_results, query, level, name):
    context, watched = _watched(browser)
    page = watched.page
    watched.open(served + "index.html")
    page.fill("#site-search", query)
    first = page.locator("#search-results a").first
    expect(first).to_contain_text(name)
    with page.expect_navigation():
        first.click()
    code = areas(site_results).query("org_name == @name and level == @level").org_code.iloc[0]
    assert page.url == served + f"areas/{code}.html"
    assert page.inner_text("h1").startswith(name)
    watched.check_clean()
    context.close()


def test_search_for_a_place_reaches_the_organisation_that_serves_it(browser, served):
    context, watched = _watched(browser)
    page = watched.page
    watched.open(served + "index.html")
    page.fill("#site-search", "quillhaven")
    first = page.locator("#search-results a").first
    expect(first).to_contain_text("ZAA")
    expect(first).to_contain_text("serves Quillhaven")
    with page.expect_navigation():
        page.press("#site-search", "Enter")  # the only match: Enter goes straight there
    assert page.url == served + "organisations/ZAA.html"
    watched.check_clean()
    context.close()


def test_query_in_the_address_searches_and_typing_updates_it(browser, served):
    context, watched = _watched(browser)
    page = watched.page
    watched.open(served + "index.html?q=Hollowmere")
    assert page.input_value("#site-search") == "Hollowmere"
    expect(page.locator("#search-results a").first).to_contain_text("Hollowmere and Wick")
    page.fill("#site-search", "Aberderi")
    expect(page.locator("#search-results a").first).to_contain_text("Aberderi University Health Board")
    assert page.url.endswith("index.html?q=Aberderi")
    watched.check_clean()
    context.close()


def test_no_match_offers_suggestions(browser, served):
    context, watched = _watched(browser)
    page = watched.page
    watched.open(served + "index.html")
    page.fill("#site-search", "Greywatr")
    expect(page.locator("#search-status")).to_contain_text("Nothing matches")
    suggestion = page.locator("#search-suggest button", has_text="greywater")
    expect(suggestion).to_be_visible()
    suggestion.click()
    expect(page.locator("#search-results a").first).to_contain_text("Greywater Valley")
    watched.check_clean()
    context.close()


def _organisation_with(results, registry, direction: str, side: str) -> tuple[str, str]:
    """An organisation beyond a funnel limit on `side` ('above'/'below') of an indicator with `direction`."""
    ind = results.indicators
    ids = [i.id for i in registry if i.direction == direction]
    rows = ind[(ind.level == "organisation") & (ind.period == results.primary_period) & (ind.subgroup == "all")
               & ind.indicator_id.isin(ids) & ind.funnel_position.fillna("").str.startswith(side)]
    row = rows.sort_values(["indicator_id", "org_code"]).iloc[0]
    return row.org_code, row.indicator_id


@pytest.mark.parametrize("direction, side, word", [("lower_better", "below", "Better"), ("higher_better", "below", "Worse"),
                                                   ("lower_better", "above", "Worse"), ("higher_better", "above", "Better")])
def test_low_and_high_outliers_are_judged_by_the_indicator_direction(browser, served, site_results, registry,
                                                                     direction, side, word):
    code, ind_id = _organisation_with(site_results, registry, direction, side)
    context, watched = _watched(browser)
    page = watched.page
    watched.open(served + f"organisations/{code}.html")
    row = page.locator(f'{VISIBLE} table.org-results tr[data-indicator="{ind_id}"]')
    national = row.locator("td.judgement")
    symbol, shown, *rest = national.inner_text().split()
    assert (symbol, shown) == ({"Better": "\u2191", "Worse": "\u2193"}[word], word), f"{code} {ind_id}"
    assert " ".join(rest) == "than England and Wales"  # said to screen readers as well as shown
    colour = national.locator(".judge").evaluate("e => getComputedStyle(e).backgroundColor")
    expected = {"Better": "rgb(0, 94, 184)", "Worse": "rgb(237, 139, 0)"}[word]  # NHS blue, NHS orange
    assert colour == expected
    status = row.locator("td.outlier-cell").inner_text()
    if ind_id in ("mdt", "emergency", "mort30_sact"):
        assert ("Alarm" in status or "Alert" in status) and ("(low)" if side == "below" else "(high)") in status
    else:
        assert "Not in outlier process" in status
    watched.check_clean()
    context.close()


def test_adjusted_indicators_show_and_sort_by_the_adjusted_rate(browser, served, site_results):
    ind = site_results.indicators
    rows = ind[(ind.level == "organisation") & (ind.period == site_results.primary_period) & (ind.subgroup == "all")
               & (ind.indicator_id == "emergency") & (ind.status == "published")].set_index("org_code")
    context, watched = _watched(browser)
    page = watched.page
    watched.open(served + "indicators/emergency.html")
    header = page.locator(f"{VISIBLE} table.sortable th", has=page.locator("button", has_text="Adjusted result"))
    header.locator("button").click()
    shown = page.eval_on_selector_all(
        f"{VISIBLE} table.sortable tbody tr",
        "rows => rows.map(r => [r.dataset.org, r.querySelector('td.value').innerText.trim().split(/\\s+/)[0]])")
    shown = [(code, text) for code, text in shown if code in rows.index]
    expected = rows.adjusted_percentage.sort_values(kind="stable")
    assert [text for _, text in shown] == [pct(v) for v in expected], "sorted by the adjusted rate, shown adjusted"
    assert [pct(rows.adjusted_percentage[c]) for c, _ in shown] == [t for _, t in shown]
    first = page.locator(f"{VISIBLE} table.sortable tbody tr[data-org='{shown[0][0]}'] td.value").inner_text()
    assert f"crude {pct(rows.percentage[shown[0][0]])}" in first
    watched.check_clean()
    context.close()


def test_sort_period_and_area_are_kept_in_the_address(browser, served, site_results):
    context, watched = _watched(browser)
    page = watched.page
    watched.open(served + "indicators/mdt.html")
    page.select_option("#period-orgs", "2025-26")
    page.select_option("#area-filter", "ZCA05")
    page.locator(f"{VISIBLE} table.sortable th button", has_text="Patients").click()
    url = page.url
    assert "period=2025-26" in url and "area=ZCA05" in url and "sort=orgs-2025-26.2.asc" in url
    watched.open(url)  # a shared link opens the same view
    caption = page.locator(f"{VISIBLE} table.orgs-table caption").inner_text()
    assert caption.endswith("2025/26")
    shown = page.eval_on_selector_all(f"{VISIBLE} table.orgs-table tbody tr:not([hidden])", "rs => rs.map(r => r.dataset.org)")
    ind = site_results.indicators
    members = set(ind[(ind.level == "organisation") & (ind.parent_code == "ZCA05")].org_code)
    assert set(shown) == members
    patients = page.eval_on_selector_all(f"{VISIBLE} table.orgs-table tbody tr:not([hidden]) td.num:first-of-type",
                                         "cs => cs.map(c => parseFloat(c.dataset.sort))")
    assert patients == sorted(patients)
    sorted_header = page.locator(f"{VISIBLE} table.orgs-table th[aria-sort]")
    assert sorted_header.get_attribute("aria-sort") == "ascending"
    watched.check_clean()
    context.close()


def test_area_page_values_and_member_table_equal_the_data_files(browser, served, site_results, registry):
    alliance = areas(site_results).query("level == 'alliance' and nation == 'Wales'").iloc[0]
    context, watched = _watched(browser)
    page = watched.page
    watched.open(served + f"areas/{alliance.org_code}.html")
    rows = unit_rows(site_results, alliance.org_code)
    for ind in registry:
        if ind.id not in rows.index or rows.loc[ind.id, "status"] != "published":
            continue
        cell = page.locator(f'{VISIBLE} tr[data-indicator="{ind.id}"] td.value').first.inner_text()
        assert cell.split()[0] == shown_main(rows.loc[ind.id], ind.has_rate, ind.is_casemix_adjusted), ind.id
    ind = site_results.indicators
    members = ind[(ind.level == "organisation") & (ind.parent_code == alliance.org_code) & (ind.indicator_id == "mdt")
                  & (ind.period == site_results.primary_period) & (ind.subgroup == "all")].set_index("org_code")
    table = page.locator("#ind-mdt table.members-table tbody tr")
    assert table.count() == len(members)
    for i in range(table.count()):
        code = table.nth(i).get_attribute("data-org")
        expected = shown_main(members.loc[code], True, False) or "Suppressed"
        assert table.nth(i).locator("td.value").first.inner_text().split()[0] == expected, code
    marked = page.locator("#ind-mdt svg.funnel .me, #ind-mdt svg.funnel .mem")
    assert marked.count() == int((members.status == "published").sum())
    watched.check_clean()
    context.close()


# ---------------------------------------------------------------------------- the portal as a web root

class _Refs(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.refs: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs) -> None:
        for key, value in attrs:
            if key in ("href", "src") and value:
                self.refs.append(value)
            if key == "id" and value:
                self.ids.add(value)


def _get(url: str) -> tuple[int, bytes, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read(), response.headers.get_content_type()
    except HTTPError as exc:
        return exc.code, b"", ""


def test_crawl_from_the_web_root_finds_no_broken_link(served):
    """Every page reachable from index.html, every file they refer to, every #fragment they point at."""
    pages: dict[str, _Refs] = {}
    queue, seen, broken = [served + "index.html"], set(), []
    fetched: dict[str, int] = {}
    while queue:
        url = queue.pop()
        if url in seen:
            continue
        seen.add(url)
        status, body, kind = _get(url)
        fetched[url] = status
        if status != 200:
            broken.append(f"{url} ({status})")
            continue
        if kind == "text/html":
            parser = _Refs()
            parser.feed(body.decode("utf-8"))
            pages[url] = parser
            for ref in parser.refs:
                if urlsplit(ref).scheme in ("mailto", "data"):
                    continue
                target = urldefrag(urljoin(url, ref))[0]
                assert target.startswith(served), f"{url} links outside the site: {ref}"
                queue.append(target)
    assert broken == [], broken[:10]
    for url, parser in pages.items():
        for ref in parser.refs:
            target, fragment = urldefrag(urljoin(url, ref))
            if fragment and target in pages:
                assert fragment in pages[target].ids, f"{url}: no #{fragment} in {target}"
    kinds = {urlsplit(u).path.split("/")[1] for u in pages}
    assert {"organisations", "areas", "indicators", "help.html", "index.html"} <= kinds
    assert sum("/organisations/" in u for u in pages) > 100


@pytest.mark.parametrize("which", ["index", "help", "organisation", "nation", "region", "alliance", "welsh_region",
                                   "indicator"])
def test_no_page_kind_requests_a_missing_file(browser, served, site_results, which):
    context, watched = _watched(browser)
    watched.open(served + _site_path(site_results, which))
    watched.page.wait_for_load_state("networkidle")
    watched.check_clean()
    context.close()


def test_printing_an_organisation_page_shows_its_tables_in_a_few_pages(browser, served, site_results, registry):
    from pypdf import PdfReader

    code = pick_orgs(site_results)["England"]
    context, watched = _watched(browser)
    page = watched.page
    watched.open(served + f"organisations/{code}.html")
    assert not page.locator("#ind-mdt table.run-table").is_visible(), "data tables start collapsed on screen"
    reader = PdfReader(io.BytesIO(page.pdf(format="A4", print_background=True)))
    assert len(reader.pages) <= PRINT_PAGES, f"{len(reader.pages)} pages"
    text = re.sub(r"\s+", " ", " ".join(p.extract_text() for p in reader.pages))
    series = run_series(site_results, code, "mdt")
    point = series[series.percentage.notna()].iloc[-1]
    assert f"{point.period} {pct(point.percentage)}" in text, "the run chart's data table is printed"
    assert "Results by year and patient group" in text and "all results" in text
    assert text.count("Run chart") >= 10 and text.count("funnel plot") >= 10, "each chart keeps its heading"
    watched.check_clean()
    context.close()


# ---------------------------------------------------------------------------- every page kind: phone and axe-core

def _site_path(results, which: str) -> str:
    table = areas(results)
    if which in ("index", "help"):
        return f"{which}.html"
    if which == "organisation":
        return f"organisations/{pick_orgs(results)['England']}.html"
    if which == "welsh_organisation":
        return f"organisations/{pick_orgs(results)['Wales']}.html"
    if which == "indicator":
        return "indicators/emergency.html"
    query = {"nation": "level == 'nation' and nation == 'England'", "wales": "level == 'nation' and nation == 'Wales'",
             "region": "level == 'region'", "alliance": "level == 'alliance' and nation == 'England'",
             "welsh_region": "level == 'alliance' and nation == 'Wales'"}[which]
    return f"areas/{table.query(query).org_code.iloc[0]}.html"


PAGE_KINDS = ["index", "help", "organisation", "welsh_organisation", "nation", "wales", "region", "alliance",
              "welsh_region", "indicator"]


@pytest.mark.parametrize("which", PAGE_KINDS)
def test_pages_fit_a_phone_screen(browser, served, site_results, which):
    context, watched = _watched(browser, width=390)
    watched.open(served + _site_path(site_results, which))
    overflow = watched.page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"{which} is {overflow}px wider than a 390px phone"
    watched.check_clean()
    context.close()


@pytest.mark.parametrize("width", [1280, 390])
@pytest.mark.parametrize("which", PAGE_KINDS)
def test_axe_finds_no_serious_or_critical_violations(browser, served, site_results, axe_script, which, width):
    context, watched = _watched(browser, width)
    watched.open(served + _site_path(site_results, which))
    watched.check_clean()
    watched.page.add_script_tag(path=str(axe_script))
    # Open the collapsed blocks so that axe checks their tables too.
    watched.page.evaluate("document.querySelectorAll('[data-collapsible] button.toggle').forEach(b => b.click())")
    result = watched.page.evaluate(
        "axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', "
        "'best-practice']}, resultTypes: ['violations']})")
    bad = [f"{v['id']} ({v['impact']}): {v['help']} e.g. {v['nodes'][0]['target']}"
           for v in result["violations"] if v["impact"] in ("serious", "critical")]
    assert bad == [], "\n".join(bad)
    context.close()


@pytest.mark.parametrize("which", ["index", "England", "Wales", "indicator"])
def test_the_annual_build_fits_a_phone_and_passes_axe(browser, portal_dir, orgs, registry, axe_script, which):
    """The same checks on the portal built from this build's own results (not the contract fixture)."""
    if which == "index":
        path = portal_dir / "index.html"
    elif which == "indicator":
        path = portal_dir / "indicators" / f"{next(i for i in registry if i.has_rate).id}.html"
    elif which in orgs:
        path = _org_page(portal_dir, orgs[which])
    else:
        pytest.skip(f"no {which} organisation in these results")
    context, watched = _watched(browser, width=390)
    watched.open(path)
    overflow = watched.page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"{path.name} is {overflow}px wider than a 390px phone"
    watched.missing = [m for m in watched.missing if "/packs/" not in m]  # built by another stage
    watched.check_clean()
    watched.page.add_script_tag(path=str(axe_script))
    result = watched.page.evaluate("axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', "
                                   "'wcag21aa']}, resultTypes: ['violations']})")
    bad = [v["id"] for v in result["violations"] if v["impact"] in ("serious", "critical")]
    assert bad == [], bad
    context.close()
