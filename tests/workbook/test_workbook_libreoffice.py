"""The metrics table in LibreOffice (headless): it opens, names stay literal, and it prints as intended."""

from __future__ import annotations

import csv
import shutil
import subprocess
from pathlib import Path

import pytest

from fixture_hub import EVIL_NAME

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
pytestmark = pytest.mark.skipif(SOFFICE is None, reason="LibreOffice (soffice) is not installed: "
                                "apt-get install -y libreoffice-calc-nogui")
SHEETS = ["Cover", "Contents", "Notes", "Definitions", "Table_1_organisations", "Table_2_alliances",
          "Table_3_regions", "Table_4_national", "Table_5_survival"]


def _convert(path: Path, fmt: str, out: Path) -> Path:
    profile = out / "lo-profile"
    result = subprocess.run(
        [SOFFICE, f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to", fmt,
         "--outdir", str(out), str(path)], capture_output=True, text=True, timeout=240)
    assert result.returncode == 0, result.stderr
    produced = sorted(out.glob(f"{path.stem}*.{fmt.split(':')[0]}"))
    assert produced, result.stdout + result.stderr
    return produced[0]


@pytest.mark.parametrize("which", [0, 1], ids=["xlsx", "ods"])
def test_libreoffice_opens_the_workbook(built, tmp_path, which):
    text = _convert(built[which], "csv", tmp_path).read_text(encoding="utf-8", errors="replace")
    assert "National Audit of Metastatic Breast Cancer (NAoMe) metrics table, 2023/24-2025/26" in text
    assert "11 March 2027" in text


@pytest.mark.parametrize("which", [0, 1], ids=["xlsx", "ods"])
def test_libreoffice_keeps_formula_like_names_literal(built, tmp_path, which):
    sheet = SHEETS.index("Table_1_organisations") + 1
    out = _convert(built[which], f"csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,{sheet}",
                   tmp_path)
    assert out.name.endswith("-Table_1_organisations.csv")
    rows = list(csv.reader(out.read_text(encoding="utf-8").splitlines()))
    assert any(EVIL_NAME in row for row in rows)
    assert any("[c]" in row for row in rows)


@pytest.mark.parametrize("which", [0, 1], ids=["xlsx", "ods"])
def test_libreoffice_prints_each_narrow_sheet_on_one_page_width(built, tmp_path, which):
    """Printed, the cover, contents and notes are one page wide; Table 1 repeats its header row and the
    organisation on every page."""
    pdf = _convert(built[which], "pdf", tmp_path)
    pages = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True,
                           check=True).stdout.split("\f")
    firsts = [p.strip().splitlines()[0] if p.strip() else "" for p in pages]
    assert firsts[0].startswith("National Audit of Metastatic Breast Cancer (NAoMe) metrics table")
    assert firsts[1] == "Contents" and firsts[2] == "Notes"
    assert "Where it applies" in pages[2] and "Note text" in pages[2]  # the notes' columns on one page
    assert "Notes" not in firsts[3]
    table_pages = [p for p in pages if "ZZY" in p]  # an organisation code, repeated on each page across
    assert len(table_pages) >= 4
    assert all("Organisation name" in p and "-minus @at +plus Trust" in p for p in table_pages)


def test_libreoffice_gives_ods_body_cells_their_columns_styles(built, tmp_path):
    """The .ods body cells carry no style of their own: LibreOffice applies each column's default cell style
    (number formats, alignment) to them, as the .xlsx sets them cell by cell."""
    from openpyxl import load_workbook

    ws = load_workbook(_convert(built[1], "xlsx", tmp_path))["Table_1_organisations"]
    header_row = next(r for r in range(1, 12) if ws.cell(r, 1).value == "Nation")
    header = [str(c.value) for c in ws[header_row]]
    body = list(ws.iter_rows(min_row=header_row + 1, max_row=ws.max_row))
    percent = header.index(next(h for h in header if h.startswith("Percentage (%)")))
    count = header.index(next(h for h in header if h.startswith("Numerator (patients)")))
    numbers = [row[percent] for row in body if isinstance(row[percent].value, float)]
    counts = [row[count] for row in body if isinstance(row[count].value, (int, float))]
    shorthand = [row[percent] for row in body if row[percent].value in ("[c]", "[u]", "[x]", "[z]")]
    assert numbers and counts and shorthand
    assert {c.number_format for c in numbers} == {"0.0"}
    assert {c.number_format for c in counts} == {"#,##0"}
    assert {c.alignment.horizontal for c in shorthand} == {"right"}
    assert {row[0].alignment.vertical for row in body} == {"top"}
