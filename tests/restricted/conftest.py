"""Fixtures for the restricted-output tests: the workbook tests' small results files, and what is built from them."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from naome_report.config import load_config
from naome_report.hub import load_results
from naome_report.registry import load_registry
from naome_report.restricted.files import build_restricted

sys.path.insert(0, str(Path(__file__).parent.parent / "workbook"))
from fixture_hub import write_fixture_data  # noqa: E402


@pytest.fixture(scope="module")
def fixture_data(tmp_path_factory) -> Path:
    return write_fixture_data(tmp_path_factory.mktemp("hub") / "data")


@pytest.fixture(scope="module")
def restricted(fixture_data, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("out") / "restricted"
    build_restricted(load_results(fixture_data), load_registry(), load_config(), out)
    return out
