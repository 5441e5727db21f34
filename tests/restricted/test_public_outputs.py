"""Against the real build: the restricted outputs exist for every organisation that needs one, and no public
output contains their marker, identifiers or text, or links to them."""

from __future__ import annotations

import subprocess
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pandas as pd
import pytest

from naome_report.config import PROJECT_ROOT, load_config
from naome_report.hub import META_FILE, load_results
from naome_report.organisations import load_organisations
from naome_report.registry import load_registry
from naome_report.restricted import MARKER, find_restricted, restricted_identifiers
from naome_report.outlier_process import load_outlier_process
from naome_report.restricted.cases import outlier_cases

OUTPUT = PROJECT_ROOT / "output"
RESTRICTED = OUTPUT / "restricted"
# Not public: the restricted folder itself (quarantined records included), the synthetic input, the log and the
# build's own state, lock and audit cache.
NOT_PUBLIC = {"restricted", "extract", "synthetic-extract", "quarantine", "naome-report.log", ".build-state.json",
              ".documents-state.json", ".naome-report.lock", ".audit-cache.json"}
pytestmark = pytest.mark.skipif(not (RESTRICTED / "outlier-tracker.csv").exists()
                                or not (OUTPUT / "data" / META_FILE).exists(),
                                reason="output/ not built (run make annual-report)")


def _public_files() -> list[Path]:
    return sorted(p for p in OUTPUT.rglob("*") if p.is_file() and p.relative_to(OUTPUT).parts[0] not in NOT_PUBLIC)


def _text_of(path: Path) -> str:
    """What a reader (or a program) can read in a file: PDF text, every part of a zip package, or the bytes."""
    if path.suffix == ".pdf":
        return subprocess.run(["pdftotext", "-q", str(path), "-"], capture_output=True, text=True, check=True).stdout
    if path.suffix in {".xlsx", ".ods"}:
        with zipfile.ZipFile(path) as archive:
            return "\n".join(archive.read(n).decode("utf-8", "replace") for n in archive.namelist())
    return path.read_bytes().decode("utf-8", "replace")


def _leaks(path: Path, identifiers: set[str]) -> list[str]:
    # The .ods holds the .xlsx's cells (tests/workbook check they are equal): its 90 MB of markup are searched
    # for the marker, references, letters' phrases and links, and the .xlsx for record identifiers too.
    return find_restricted(_text_of(path), set() if path.suffix == ".ods" else identifiers)


def test_no_public_output_holds_restricted_content():
    identifiers = restricted_identifiers(RESTRICTED)
    assert len(identifiers) > 1000  # every record listed and every case (so the scan below can find them)
    files = _public_files()
    kinds = {p.suffix for p in files}
    assert {".csv", ".xlsx", ".ods", ".html", ".pdf"} <= kinds
    assert any(p.parts[-2] == "packs" for p in files) and any("portal" in p.parts for p in files)
    with ThreadPoolExecutor(max_workers=2) as pool:  # pdftotext runs outside the interpreter
        found = list(pool.map(lambda p: _leaks(p, identifiers), files))
    leaks = {p.relative_to(OUTPUT).as_posix(): hits for p, hits in zip(files, found) if hits}
    assert leaks == {}


def test_the_scan_finds_restricted_content_where_it_is():
    """The same scan run over the restricted files finds their marker, references and record identifiers."""
    identifiers = restricted_identifiers(RESTRICTED)
    tracker = find_restricted(_text_of(RESTRICTED / "outlier-tracker.csv"), identifiers)
    assert MARKER in tracker and any(h.startswith("NAOME-OP-") for h in tracker)
    listed = next(p for p in sorted((RESTRICTED / "data-quality").glob("*_data_quality.csv")))
    assert len(find_restricted(_text_of(listed), identifiers)) > 1
    workbook = find_restricted(_text_of(RESTRICTED / "outlier-tracker.xlsx"), identifiers)
    assert MARKER in workbook


def test_every_organisation_in_the_outlier_process_has_its_letters():
    config = load_config()
    cases = outlier_cases(load_results(OUTPUT / "data"), load_registry(), load_outlier_process(config))
    assert len(cases)
    for (org, level), _ in cases.groupby(["org_code", "outlier_level"]):
        first = "alarm_stage2_alarm_potential" if level == "alarm" else "alert_stage2_alert"
        assert (RESTRICTED / "letters" / org / f"{org}_{first}.md").is_file(), (org, level)
    tracker = pd.read_csv(RESTRICTED / "outlier-tracker.csv", dtype=str, keep_default_na=False)
    assert set(tracker["case_reference"]) == set(cases["case_reference"])


def test_every_organisation_with_records_to_correct_has_its_list():
    index = pd.read_csv(RESTRICTED / "data-quality" / "index.csv", dtype=str, keep_default_na=False)
    config = load_config()
    organisations = load_organisations(config, load_results(OUTPUT / "data").synthetic)
    assert set(index["org_code"]) <= set(organisations["org_code"])
    for _, row in index.iterrows():
        if int(row["records_with_missing_items"]):
            listed = pd.read_csv(RESTRICTED / "data-quality" / row["file"], dtype=str)
            assert len(listed) == int(row["records_with_missing_items"])
            assert set(listed["org_code"]) == {row["org_code"]}
        else:
            assert row["file"] == "no records to correct"
