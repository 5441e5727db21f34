"""Fixtures for the pack tests: a results folder (the real build when present) and a few packs built from it."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pandas as pd
import pytest

from naome_report.config import PROJECT_ROOT, default_config
from naome_report.hub import META_FILE, Results, load_results
from naome_report.registry import default_registry

sys.path.insert(0, str(Path(__file__).parent))
from fixture_results import write_fixture_results  # noqa: E402
from packs_helpers import BuiltPack, pdf_pages  # noqa: E402

REAL_DATA = PROJECT_ROOT / "output" / "data"


def _has_real_data() -> bool:
    if os.environ.get("NAOME_PACK_FIXTURE") == "1":
        return False
    return all((REAL_DATA / name).exists() for name in ("naome_indicators.csv", META_FILE))


@pytest.fixture(scope="session")
def results(tmp_path_factory: pytest.TempPathFactory) -> Results:
    """The real build's data files when present, else a generated fixture with the same columns."""
    if _has_real_data():
        return load_results(REAL_DATA)
    data = tmp_path_factory.mktemp("pack-data")
    return load_results(write_fixture_results(data, default_config(), default_registry()))


def _org_rows(results: Results) -> pd.DataFrame:
    ind = results.indicators
    return ind[(ind.period == results.primary_period) & (ind.subgroup == "all") & (ind.level == "organisation")]


@pytest.fixture(scope="session")
def chosen(results: Results) -> dict[str, str]:
    """An English trust, a Welsh health board with data not available, and the organisation with most suppression."""
    rows = _org_rows(results)
    english = rows[rows.nation == "England"]
    published = english[english.status == "published"].groupby("org_code").size()
    welsh = rows[(rows.nation == "Wales") & (rows.status == "not_available")]
    hidden = rows[rows.status.isin(["suppressed", "too_few"])].groupby("org_code").size()
    hidden = hidden.drop(index=[published.idxmax(), *welsh.org_code.unique()[:1]], errors="ignore")
    flag = rows.completeness_flag.fillna("").astype(str).str.strip()
    flagged = sorted(rows[(flag != "") & ~flag.str.lower().isin(["no", "false", "0"])].org_code.unique())
    return {"english": published.idxmax(), "welsh": sorted(welsh.org_code.unique())[0], "suppressed": hidden.idxmax(),
            "flagged": flagged[0]}


@pytest.fixture(scope="session")
def packs(results: Results, chosen: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> dict[str, BuiltPack]:
    """The chosen organisations' packs, built with the worker pool, keyed by role."""
    from naome_report.publish.packs import build_packs

    out = tmp_path_factory.mktemp("packs")
    codes = list(dict.fromkeys(chosen.values()))
    seen: list[tuple[int, int]] = []
    paths = build_packs(results, default_registry(), default_config(), out, org_codes=codes, workers=2,
                        progress=lambda done, total: seen.append((done, total)))
    assert [p.name for p in paths] == [f"{c}.pdf" for c in codes]
    assert seen[-1] == (len(codes), len(codes))
    by_code = {c: BuiltPack(c, p, pdf_pages(p)) for c, p in zip(codes, paths)}
    return {role: by_code[code] for role, code in chosen.items()}
