"""What validation leaves behind: the quarantine and counts files, the data dictionary, the synthetic truth."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pandas as pd

from conftest import assert_reconciled, validate, write_tables
from naome_report.config import PROJECT_ROOT, load_config
from naome_report.ingest.dictionary import render_data_dictionary
from naome_report.ingest.quarantine import write_quarantine
from naome_report.ingest.validate import validate_extract
from naome_report.synth.generator import generate_extract, write_extract
from naome_report.organisations import load_organisations


def test_quarantine_file_keeps_formula_text_literal(tables: dict, tmp_path: Path) -> None:
    tables["sact"][2]["drug_names"] = '=HYPERLINK("http://x","y")'
    tables["patients"][2]["deprivation_quintile"] = "-1"
    validated = validate(write_tables(tmp_path / "extract", tables))
    path = write_quarantine(validated, tmp_path / "quarantine")
    assert path == tmp_path / "quarantine" / "quarantine.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    values = {row["key"]: row["value"] for row in rows}
    assert values["S3"] == '=HYPERLINK("http://x","y")'
    assert values["P3"] == "-1"
    assert list(rows[0]) == ["file", "row", "key", "column", "value", "reason"]
    assert '"=HYPERLINK(""http://x"",""y"")"' in path.read_text(encoding="utf-8")


def test_counts_file_reconciles(tables: dict, tmp_path: Path) -> None:
    tables["sact"][0]["org_code"] = "XXQ"
    validated = validate(write_tables(tmp_path / "extract", tables))
    write_quarantine(validated, tmp_path / "quarantine")
    counts = pd.read_csv(tmp_path / "quarantine" / "validation_counts.csv")
    assert list(counts.columns) == ["file", "records_read", "records_quarantined", "records_valid"]
    assert (counts.records_read == counts.records_quarantined + counts.records_valid).all()
    assert counts.set_index("file").loc["sact"].tolist() == [3, 1, 2]


def test_data_dictionary_is_generated_from_the_contract() -> None:
    document = PROJECT_ROOT / "docs" / "data-dictionary.md"
    expected = render_data_dictionary()
    actual = document.read_text(encoding="utf-8") if document.exists() else ""
    assert actual == expected, "docs/data-dictionary.md is out of date: run `naome-report dictionary`"


def test_injected_errors_of_the_synthetic_extract_are_exactly_those_quarantined(tmp_path: Path) -> None:
    config = load_config()
    synthetic = generate_extract(config, scale=0.05)
    write_extract(synthetic, tmp_path)
    organisations = load_organisations(config, synthetic=True)
    validated = validate_extract(tmp_path, organisations, config.data_cutoff)
    truth = json.loads((tmp_path / "_synthetic_truth.json").read_text())["injected_errors"]
    expected = {(e["file"], e["row_key"], e["problem"]) for e in truth}
    found = {(q.file, q.key, _problem(q.reason)) for q in validated.quarantine.itertuples()}
    assert found == expected
    assert_reconciled(validated)


def _problem(reason: str) -> str:
    """The synthetic truth names problems without their detail (cut-off date, columns)."""
    return reason.split(" (")[0].split(":")[0]
