"""Fixtures for the pack tests: a results folder (the real build when present) and a few packs built from it."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pandas as pd
import pytest

from naome_report.config import PROJECT_ROOT, default_config
from naome_report.hub import META_FILE, Results, load_results
from naome_report.publish.packs.data import CONTRACT_COLUMNS, data_completeness
from naome_report.registry import default_registry

sys.path.insert(0, str(Path(__file__).parent))
from fixture_results import write_fixture_results  # noqa: E402
from packs_helpers import BuiltPack, pdf_pages  # noqa: E402

REAL_DATA = PROJECT_ROOT / "output" / "data"


def _has_real_data() -> bool:
    """A real build whose indicators file has the columns of results hub contract v2 the packs print."""
    if os.environ.get("NAOME_PACK_FIXTURE") == "1":
        return False
    if not all((REAL_DATA / name).exists() for name in ("naome_indicators.csv", META_FILE)):
        return False
    header = pd.read_csv(REAL_DATA / "naome_indicators.csv", nrows=0).columns
    return set(CONTRACT_COLUMNS) <= set(header)


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


def _all_rows(results: Results) -> pd.DataFrame:
    ind = results.indicators
    return ind[(ind.period == results.primary_period) & (ind.level == "organisation")]


@pytest.fixture(scope="session")
def chosen(results: Results) -> dict[str, str]:
    """Organisations in the roles the tests read: an English trust, Welsh health boards, the most suppressed, one
    with a completeness flag, one with an unfavourable alarm in the outlier process, and one with positions
    beyond the funnel limits but no alert or alarm in the process."""
    rows = _org_rows(results)
    english = rows[rows.nation == "England"]
    published = english[english.status == "published"].groupby("org_code").size()
    welsh = rows[(rows.nation == "Wales") & (rows.status == "not_available")]
    hidden = rows[rows.status.isin(["suppressed", "too_few"])].groupby("org_code").size()
    hidden = hidden.drop(index=[published.idxmax(), *welsh.org_code.unique()[:1]], errors="ignore")
    flag = rows.completeness_flag.fillna("").astype(str).str.strip()
    flagged = sorted(rows[(flag != "") & ~flag.str.lower().isin(["no", "false", "0"])].org_code.unique())
    every = _all_rows(results)
    in_process = every.outlier_process == "yes"
    alarmed = every[in_process & every.outlier_status.isin(["alarm_high", "alarm_low"]) & (every.vs_national == "worse")
                    & (every.subgroup == "all")]
    signalled = set(every[in_process & every.outlier_status.str.startswith(("alarm", "alert"), na=False)].org_code)
    beyond = every[~in_process & every.funnel_position.isin(["above_95", "above_998", "below_95", "below_998"])]
    qi_only = sorted(set(beyond.org_code) - signalled)
    alone = rows[(rows.nation == "Wales") & (rows.comparator_name == "Wales")]
    items = data_completeness(results)
    low = items[(items.level == "organisation") & (items.below_threshold == "yes")]
    low = low[low.org_code.isin(flagged)] if low.org_code.isin(flagged).any() else low
    return {"english": published.idxmax(), "welsh": sorted(welsh.org_code.unique())[0], "suppressed": hidden.idxmax(),
            "flagged": flagged[0], "alarms": sorted(alarmed.org_code.unique(), key=lambda c: (c.startswith("7A"), c))[0], "qi_only": qi_only[0],
            "welsh_alone": sorted(alone.org_code.unique())[0], "low_completeness": sorted(low.org_code.unique())[0]}


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
