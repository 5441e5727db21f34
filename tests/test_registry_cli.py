"""The registry refuses bad definitions; the CLI reports known problems without a traceback."""

from __future__ import annotations

import subprocess
import sys

import pytest

from naome_report.config import PROJECT_ROOT
from naome_report.registry import RegistryError, load_registry


def test_registry_has_every_catalogue_indicator():
    ids = {i.id for i in load_registry()}
    assert {"mdt", "biopsy", "receptors", "recurrence_recorded", "stage", "perf_status", "cdk46", "anti_her2",
            "sact", "time_to_sact", "radiotherapy", "bone_agent", "cns", "mort30_sact", "emergency",
            "ascertainment", "cpes_cns"} <= ids


def test_registry_names_the_bad_field(tmp_path):
    text = (PROJECT_ROOT / "data" / "indicators.yaml").read_text().replace("direction: higher_better", "direction: upwards", 1)
    bad = tmp_path / "indicators.yaml"
    bad.write_text(text)
    with pytest.raises(RegistryError, match="indicator 'mdt': direction must be one of"):
        load_registry(bad)


def test_cli_fatal_error_is_one_line_without_traceback(tmp_path):
    (tmp_path / "patients.csv").write_text("patient_id,nation\nP1,E\n")
    proc = subprocess.run([sys.executable, "-m", "naome_report", "validate", "--extract", str(tmp_path)],
                          capture_output=True, text=True, cwd=PROJECT_ROOT)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert "error" in proc.stderr


def test_cli_help_everywhere():
    for args in ([], ["synth"], ["validate"], ["build"], ["pack"], ["dictionary"]):
        proc = subprocess.run([sys.executable, "-m", "naome_report", *args, "--help"], capture_output=True, text=True,
                              cwd=PROJECT_ROOT)
        assert proc.returncode == 0 and "usage" in proc.stdout


def test_titles_read_mid_sentence_with_their_acronyms_kept():
    from naome_report.registry import in_sentence

    registry = load_registry()
    assert registry.get("mdt").title_in_sentence == "discussed at a breast multidisciplinary team (MDT) meeting"
    assert in_sentence("ER and HER2 status recorded") == "ER and HER2 status recorded"
    assert in_sentence("CDK4/6 inhibitor with endocrine therapy") == "CDK4/6 inhibitor with endocrine therapy"
    assert in_sentence("Anti-HER2 therapy as first treatment") == "anti-HER2 therapy as first treatment"
    assert in_sentence("Not available for Wales") == "not available for Wales"
    assert in_sentence("") == ""


def test_cli_pack_previews_the_named_organisations_only(tmp_path):
    import pandas as pd

    rows = pd.read_csv(PROJECT_ROOT / "output" / "data" / "naome_indicators.csv", usecols=["level", "org_code", "org_name"],
                       dtype=str).query("level == 'organisation'").drop_duplicates("org_code")
    code, name = rows.iloc[-1].org_code, rows.iloc[-1].org_name
    proc = subprocess.run([sys.executable, "-m", "naome_report", "pack", code.lower(), "--out", str(tmp_path)],
                          capture_output=True, text=True, cwd=PROJECT_ROOT)
    assert proc.returncode == 0, proc.stderr
    assert [p.name for p in tmp_path.glob("*.pdf")] == [f"{code}.pdf"]
    text = subprocess.run(["pdftotext", str(tmp_path / f"{code}.pdf"), "-"], capture_output=True, text=True).stdout
    assert name in " ".join(text.split())

    proc = subprocess.run([sys.executable, "-m", "naome_report", "pack", "NOPE1", "--out", str(tmp_path)],
                          capture_output=True, text=True, cwd=PROJECT_ROOT)
    assert proc.returncode == 2 and "no organisation NOPE1" in proc.stderr and "Traceback" not in proc.stderr
