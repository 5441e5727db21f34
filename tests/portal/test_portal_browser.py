"""The portal in a real browser (Debian chromium, headless): search, values, charts, keyboard, axe-core."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from naome_report.publish.portal_model import safe_name

from .expected import org_rows, pick_orgs, run_series, shown_ci, shown_value

expect = pytest.importorskip("playwright.sync_api", reason="browser tests need the playwright Python package").expect

pytestmark = pytest.mark.browser

FOCUS_YELLOW = "rgb(255, 235, 59)"


class Watched:
    """A page whose console errors and outgoing requests are recorded for the whole test."""

    def __init__(self, page) -> None:
        self.page = page
        self.errors: list[str] = []
        self.requests: list[str] = []
        page.on("console", lambda m: self.errors.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(f"page error: {e}"))
        page.on("request", lambda r: self.requests.append(r.url))

    def open(self, path: Path) -> None:
        self.page.goto(path.as_uri())
        self.page.wait_for_load_state("load")

    def check_clean(self) -> None:
        assert self.errors == [], self.errors
        leaving = [u for u in self.requests if not u.startswith(("file://", "data:"))]
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


def test_search_finds_an_organisation_and_its_page_shows_the_published_values(desktop, portal_dir, results, registry, orgs):
    page = desktop.page
    code = orgs["England"]
    name = results.indicators.loc[results.indicators.org_code == code, "org_name"].iloc[0]
    desktop.open(portal_dir / "index.html")
    page.fill("#org-search", name.split()[0][:4])
    expect(page.locator("#search-status")).to_contain_text("match")
    assert name in page.inner_text("#search-results") or "showing the first" in page.inner_text("#search-status")
    page.fill("#org-search", "")
    page.type("#org-search", code.lower(), delay=20)
    link = page.locator("#search-results a").first
    expect(link).to_contain_text(code)  # waits out the results of the partly typed code
    assert "match" in page.inner_text("#search-status")
    with page.expect_navigation():
        link.click()
    assert page.url.endswith(f"/organisations/{safe_name(code)}.html")
    assert name in page.inner_text("h1")

    rows = org_rows(results, code)
    checked = 0
    for ind in registry:
        tr = page.locator(f'table.org-results tr[data-indicator="{ind.id}"]')
        assert tr.count() == 1, ind.id
        if ind.id not in rows.index:
            continue
        value = shown_value(rows.loc[ind.id], ind.has_rate)
        cell = tr.locator("td.value").inner_text().strip()
        if value is None:
            continue
        assert cell.splitlines()[0].strip() == value, f"{ind.id}: shows {cell!r}, file says {value}"
        assert tr.locator("td.ci").inner_text().strip() == shown_ci(rows.loc[ind.id]), ind.id
        checked += 1
    assert checked >= 5


@pytest.mark.parametrize("nation", ["England", "Wales"])
def test_run_charts_have_a_point_per_published_quarter(desktop, portal_dir, results, registry, orgs, nation):
    if nation not in orgs:
        pytest.skip(f"no {nation} organisation in these results")
    page = desktop.page
    code = orgs[nation]
    desktop.open(_org_page(portal_dir, code))
    charts = 0
    for ind in registry:
        series = run_series(results, code, ind.id)
        if series.empty or series.percentage.notna().sum() == 0:
            continue
        points = page.locator(f"svg#run-{safe_name(ind.id)} .pt")
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
    assert f"{latest.percentage:.1f}%" in tooltip.inner_text()
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
        if page.evaluate("document.activeElement.id") == "org-search":
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
    ind = next(i for i in registry if i.has_rate and i.outlier_process)
    desktop.open(portal_dir / "indicators" / f"{safe_name(ind.id)}.html")
    header = page.locator("table.sortable th", has=page.locator("button", has_text="Result"))
    header.locator("button").click()
    assert header.get_attribute("aria-sort") == "ascending"
    keys = page.eval_on_selector_all("table.sortable tbody tr td.num[data-sort]:nth-of-type(3)",
                                     "cells => cells.map(c => parseFloat(c.dataset.sort))")
    values = [k for k in keys if not math.isnan(k) and k >= 0]
    assert values == sorted(values) and len(values) > 10
    header.locator("button").click()
    assert header.get_attribute("aria-sort") == "descending"


@pytest.mark.parametrize("which", ["index", "England", "Wales", "indicator"])
def test_pages_fit_a_phone_screen(browser, portal_dir, orgs, registry, which):
    path = _page_for(portal_dir, orgs, registry, which)
    context, watched = _watched(browser, width=390)
    watched.open(path)
    overflow = watched.page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"{path.name} is {overflow}px wider than a 390px phone"
    watched.check_clean()
    context.close()


def _page_for(portal_dir: Path, orgs: dict[str, str], registry, which: str) -> Path:
    if which == "index":
        return portal_dir / "index.html"
    if which == "indicator":
        ind = next(i for i in registry if i.has_rate and i.outlier_process)
        return portal_dir / "indicators" / f"{safe_name(ind.id)}.html"
    if which not in orgs:
        pytest.skip(f"no {which} organisation in these results")
    return _org_page(portal_dir, orgs[which])


@pytest.mark.parametrize("which", ["index", "England", "Wales", "indicator"])
def test_axe_finds_no_serious_or_critical_violations(browser, portal_dir, orgs, registry, axe_script, which):
    path = _page_for(portal_dir, orgs, registry, which)
    context, watched = _watched(browser)
    watched.open(path)
    watched.check_clean()  # before axe, which reads the stylesheets itself and logs file:// refusals
    watched.page.add_script_tag(path=str(axe_script))
    # Expand the collapsed data tables so that axe checks them too.
    watched.page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
    result = watched.page.evaluate(
        "axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', "
        "'best-practice']}, resultTypes: ['violations']})")
    bad = [f"{v['id']} ({v['impact']}): {v['help']} e.g. {v['nodes'][0]['target']}"
           for v in result["violations"] if v["impact"] in ("serious", "critical")]
    assert bad == [], "\n".join(bad)
    context.close()
