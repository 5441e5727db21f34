"""Fixtures for the portal tests: a results directory, the portal built from it, a headless chromium.

`results_dir` is the real `output/data` when a build has written it, else a synthetic set of the
same files (cached in pytest's cache between runs). Override `results_dir` or `portal_dir` (for
example from a session-wide build fixture in tests/conftest.py) to test another build.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import time
from pathlib import Path

import pytest

from naome_report.config import PROJECT_ROOT, default_config
from naome_report.hub import META_FILE, Results, load_results
from naome_report.publish.portal import build_portal
from naome_report.registry import Registry, default_registry

from .synthetic_results import write_synthetic_results

CHROMIUM = Path("/usr/bin/chromium")
AXE = Path(__file__).parent / "node_modules" / "axe-core" / "axe.min.js"
# The machine's network is closed; without these flags chromium tries to reach Google services.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
FIXTURE_INPUTS = (Path(__file__).parent / "synthetic_results.py", PROJECT_ROOT / "data" / "indicators.yaml",
                  PROJECT_ROOT / "data" / "organisations.csv", PROJECT_ROOT / "data" / "naome.toml")


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
    cache = Path(request.config.cache.mkdir("naome-portal-results")) / _fixture_key()
    if not (cache / "complete").exists():
        shutil.rmtree(cache, ignore_errors=True)
        write_synthetic_results(cache / "data")
        (cache / "complete").write_text("", encoding="utf-8")
    return cache / "data"


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
