"""Fixtures for the workbook tests: small results files written here, and the workbook built from them."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from openpyxl import load_workbook

from naome_report.config import load_config
from naome_report.hub import load_results
from naome_report.publish.workbook.files import build_workbook
from naome_report.registry import load_registry

sys.path.insert(0, str(Path(__file__).parent))
from fixture_hub import write_fixture_data  # noqa: E402


@pytest.fixture(scope="module")
def fixture_data(tmp_path_factory) -> Path:
    return write_fixture_data(tmp_path_factory.mktemp("hub") / "data")


@pytest.fixture(scope="module")
def built(fixture_data, tmp_path_factory) -> list[Path]:
    out = tmp_path_factory.mktemp("out")
    return build_workbook(load_results(fixture_data), load_registry(), load_config(), out)


@pytest.fixture(scope="module")
def wb(built):
    return load_workbook(built[0])
