"""Build the three national documents once per session from the results hub."""

from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from naome_report.config import PROJECT_ROOT

# NAOME_DOCS_DATA points the tests at another run's data files (default: output/data).
DATA_DIR = Path(os.environ.get("NAOME_DOCS_DATA", PROJECT_ROOT / "output" / "data"))
STEMS = ("state-of-the-nation", "patient-report", "methodology-supplement")


@dataclass
class BuiltDocuments:
    """Where the documents were written, what the build said, and how long it took."""

    out_dir: Path
    data_dir: Path
    paths: list[Path]
    warnings: list[str]
    seconds: float
    inputs_key: str  # what the build passes: a digest of the code, configuration and results


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> BuiltDocuments:
    """The documents built into a temporary folder (skipped when there are no results)."""
    if not (DATA_DIR / "naome_run.json").exists():
        pytest.skip(f"no results in {DATA_DIR} (naome_run.json missing): run "
                    "`python -m naome_report build --only extract data` first")
    if not shutil.which("pdftotext"):
        pytest.skip("poppler-utils (pdftotext) is not installed")
    from naome_report.config import load_config
    from naome_report.hub import load_results
    from naome_report.publish.documents import build_documents
    from naome_report.registry import load_registry

    out_dir = tmp_path_factory.mktemp("documents")
    started = time.perf_counter()
    key = "session-inputs"
    paths, warnings = build_documents(load_results(DATA_DIR), load_registry(), load_config(), out_dir, inputs_key=key)
    return BuiltDocuments(out_dir, DATA_DIR, paths, warnings, time.perf_counter() - started, key)
