"""Session set-up: the whole annual report is built once (incrementally) before the tests read it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from naome_report.config import PROJECT_ROOT, load_config

OUTPUT = PROJECT_ROOT / "output"


def pytest_sessionstart(session: pytest.Session) -> None:
    """Build every output with `naome-report build` (a no-op when nothing changed)."""
    if os.environ.get("NAOME_SKIP_BUILD") == "1":
        return
    from naome_report.build import run_build
    from naome_report.progress import Progress

    run_build(load_config(), progress=Progress(enabled=False))


@pytest.fixture(scope="session")
def output_dir() -> Path:
    """The built output folder."""
    return OUTPUT


@pytest.fixture(scope="session")
def data_dir(output_dir: Path) -> Path:
    """The published data files."""
    return output_dir / "data"
