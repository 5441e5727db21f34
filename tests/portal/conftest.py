"""Fixtures for the portal tests: results directories, the portals built from them, a headless chromium.

`results_dir` is the real `output/data` when a build has written it, else a synthetic set of the
same files (cached in pytest's cache between runs). Override `results_dir` or `portal_dir` (for
example from a session-wide build fixture in tests/conftest.py) to test another build.

`site` is a complete published tree in a temporary folder: the synthetic results with every column
of the results-hub contract (comparisons, positions, change since last year, rolling run charts),
stand-ins for the reports, packs and workbook, an organisation table with places, and the portal
built and bundled into it, so that `site / "portal"` can be served as the web root.
"""

from __future__ import annotations

import functools
import hashlib
import os
import shutil
import threading
import time
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from naome_report.config import PROJECT_ROOT, default_config, load_config
from naome_report.hub import META_FILE, Results, load_results
from naome_report.organisations import load_organisations
from naome_report.publish.portal import build_portal, bundle_outputs
from naome_report.registry import Registry, default_registry

from .synthetic_results import write_synthetic_results

CHROMIUM = Path("/usr/bin/chromium")
AXE = Path(__file__).parent / "node_modules" / "axe-core" / "axe.min.js"
# The machine's network is closed; without these flags chromium tries to reach Google services.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
FIXTURE_INPUTS = (Path(__file__).parent / "synthetic_results.py", PROJECT_ROOT / "data" / "indicators.yaml",
                  PROJECT_ROOT / "data" / "organisations-synthetic.csv", PROJECT_ROOT / "data" / "naome.toml")


def _fixture_key() -> str:
    digest = hashlib.sha256()
    for path in FIXTURE_INPUTS:
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


@pytest.fixture(scope="session")
def results_dir(request: pytest.FixtureRequest) -> Path:
    """Published results to build the portal from: NAOME_RESULTS_DIR, output/data, or a synthetic set."""
    given = os.environ.get("NAOME_RESULTS_DIR")
    if given:
        return Path(given)
    real = default_config().output_dir / "data"
    if (real / META_FILE).exists():
        return real
    return _synthetic_results(request)


@pytest.fixture(scope="session")
def results(results_dir: Path) -> Results:
    return load_results(results_dir)


@pytest.fixture(scope="session")
def registry() -> Registry:
    return default_registry()


@pytest.fixture(scope="session")
def portal_build(results: Results, registry: Registry, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The portal built once per session, with the files written and the CPU time it took."""
    out = tmp_path_factory.mktemp("portal")
    start = time.process_time()
    written = build_portal(results, registry, default_config(), out)
    return {"dir": out, "written": written, "cpu_seconds": time.process_time() - start}


@pytest.fixture(scope="session")
def portal_dir(request: pytest.FixtureRequest) -> Path:
    """The portal under test: NAOME_PORTAL_DIR (an existing build, e.g. output/portal) or one built here."""
    given = os.environ.get("NAOME_PORTAL_DIR")
    return Path(given) if given else request.getfixturevalue("portal_build")["dir"]


@pytest.fixture(scope="session")
def browser():
    """Debian's chromium, headless, driven by Python playwright (never a downloaded browser)."""
    if not CHROMIUM.exists():
        pytest.skip(f"browser tests need Debian chromium at {CHROMIUM} (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("browser tests need the playwright Python package (pip install playwright; no browser download)")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def axe_script() -> Path:
    if not AXE.exists():
        pytest.skip(f"accessibility tests need axe-core: run `npm ci --prefix {AXE.parents[2]}`")
    return AXE


# Places written into the site's copy of the fictional organisation table (organisation code, places it serves):
# made up here, so a search that finds them read the table the configuration names.
PLACES = {"ZAA": "Quillhaven; Marrowby Cross", "ZW1": "Porth Tegid; Llanfawr"}


def _synthetic_results(request: pytest.FixtureRequest) -> Path:
    cache = Path(request.config.cache.mkdir("naome-portal-results")) / _fixture_key()
    if not (cache / "complete").exists():
        shutil.rmtree(cache, ignore_errors=True)
        write_synthetic_results(cache / "data")
        (cache / "complete").write_text("", encoding="utf-8")
    return cache / "data"


@pytest.fixture(scope="session")
def site(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A published tree (data, stand-in reports, packs and workbook) with the portal built and bundled into it."""
    root = tmp_path_factory.mktemp("site")
    shutil.copytree(_synthetic_results(request), root / "data")
    results = load_results(root / "data")
    orgs = load_organisations(load_config(), synthetic=True)
    orgs["places"] = orgs["org_code"].map(PLACES).fillna(orgs["places"])
    orgs.to_csv(root / "organisations-synthetic.csv", index=False)
    config = load_config(overrides={"paths": {"synthetic_organisations": str(root / "organisations-synthetic.csv"),
                                              "output_dir": str(root)}})
    (root / "packs").mkdir()
    for code in results.indicators.loc[results.indicators.level == "organisation", "org_code"].unique():
        (root / "packs" / f"{code}.pdf").write_bytes(b"%PDF-1.7 stand-in")
    for stem in ("state-of-the-nation", "patient-report", "methodology-supplement"):
        (root / f"{stem}.html").write_text(f"<!doctype html><title>{stem}</title><p>Stand-in.</p>", encoding="utf-8")
        (root / f"{stem}.pdf").write_bytes(b"%PDF-1.7 stand-in")
    (root / "NAoMe_Metrics_Table_2023-24_to_2025-26_V1.xlsx").write_bytes(b"stand-in")
    start = time.process_time()
    build_portal(results, default_registry(), config, root / "portal")
    (root / "cpu_seconds").write_text(f"{time.process_time() - start:.2f}", encoding="utf-8")
    bundle_outputs(root, root / "portal")
    return root


@pytest.fixture(scope="session")
def site_results(site: Path) -> Results:
    return load_results(site / "data")


@pytest.fixture(scope="session")
def served(site: Path):
    """The bundled portal served over HTTP with `portal/` as the web root; yields the base URL."""
    handler = functools.partial(_QuietHandler, directory=str(site / "portal"))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args) -> None:  # noqa: A002 - the base class's name
        pass
