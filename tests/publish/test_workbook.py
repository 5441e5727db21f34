"""The metrics table workbook: structure, accessibility rules, numbers, text safety, determinism, ODS copy."""

from __future__ import annotations

import csv
import json
import math
import shutil
import subprocess
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook

from naome_report.config import PROJECT_ROOT, load_config
from naome_report.hub import FILES, META_FILE, load_results
from naome_report.publish.workbook import (
    LEVEL_LABELS,
    RESULTS_TABLES,
    SUBGROUP_LABELS,
    Column,
    Line,
    Sheet,
    build_model,
    build_workbook,
    file_safe_period,
    render_xlsx,
    results_columns,
    workbook_filename,
)
from naome_report.registry import load_registry

EVIL_NAME = '=HYPERLINK("http://x","y")'
PRIMARY = "2023/24-2025/26"
YEARS = ["2023/24", "2024/25", "2025/26"]
EXPECTED_SHEETS = ["Cover", "Contents", "Notes", "Definitions", "Table_1_organisations", "Table_2_alliances",
                   "Table_3_regions", "Table_4_national", "Table_5_survival"]

# ------------------------------------------------------------------------------------------------
# A small, realistic set of published files, written to disk and read back through the hub
# ------------------------------------------------------------------------------------------------

UNITS = [
    # level, nation, region_code, region_name, parent_code, parent_name, org_code, org_name
    ("national", "England and Wales", "", "", "", "", "K04000001", "England and Wales"),
    ("nation", "England", "", "", "K04000001", "England and Wales", "E92000001", "England"),
    ("nation", "Wales", "", "", "K04000001", "England and Wales", "W92000004", "Wales"),
    ("region", "England", "Y62", "North West", "E92000001", "England", "Y62", "North West"),
    ("alliance", "England", "Y62", "North West", "Y62", "North West", "E56000005", "Cheshire and Merseyside"),
    ("alliance", "Wales", "", "", "W92000004", "Wales", "W-NORTH", "North Wales"),
    ("organisation", "England", "Y62", "North West", "E56000005", "Cheshire and Merseyside", "ZAA",
     "Fairfield and District NHS Foundation Trust"),
    ("organisation", "England", "Y62", "North West", "E56000005", "Cheshire and Merseyside", "ZZX", EVIL_NAME),
    ("organisation", "England", "Y62", "North West", "E56000005", "Cheshire and Merseyside", "ZZY",
     "-minus @at +plus Trust"),
    ("organisation", "Wales", "", "", "W-NORTH", "North Wales", "7A1", "Betsi Cadwaladr University Health Board"),
]
INDICATORS = [("mdt", "all"), ("mdt", "de_novo"), ("biopsy", "all"), ("time_to_sact", "all"),
              ("mort30_sact", "all"), ("cpes_cns", "all"), ("ascertainment", "all")]


def _wilson(x: int, n: int) -> tuple[float, float]:
    z = 1.959963984540054
    centre = 2 * x + z * z
    spread = z * math.sqrt(z * z + 4 * x * (1 - x / n))
    return 100 * (centre - spread) / (2 * (n + z * z)), 100 * (centre + spread) / (2 * (n + z * z))


def _status(unit: tuple, ind: str, period: str, k: int) -> str:
    level, nation, *_rest, org_code, _name = unit
    if ind == "cpes_cns" and nation == "Wales":
        return "not_applicable"
    if ind == "biopsy" and nation == "Wales" and period == "2024/25":
        return "not_available"
    if level == "organisation" and org_code == "ZZY" and ind == "mdt":
        return "suppressed"
    if level == "organisation" and org_code == "7A1" and ind == "mort30_sact":
        return "too_few"
    return "published"


def _indicator_rows() -> list[dict]:
    registry = load_registry()
    rows = []
    periods = [(PRIMARY, "pooled"), *((y, "financial_year") for y in YEARS), ("2024/25 Q1", "quarter")]
    for p_i, (period, ptype) in enumerate(periods):
        for i_i, (ind, subgroup) in enumerate(INDICATORS):
            for u_i, unit in enumerate(UNITS):
                k = p_i * 97 + i_i * 13 + u_i * 7
                level, nation, rc, rn, pc, pn, oc, on = unit
                status = _status(unit, ind, period, k)
                n = 40 + (k * 37) % 400 if level == "organisation" else 400 + (k * 53) % 4000
                x = (n * (30 + k % 60)) // 100
                row = {c: "" for c in FILES["naome_indicators.csv"]}
                row.update(period=period, period_type=ptype, level=level, nation=nation, region_code=rc,
                           region_name=rn, parent_code=pc, parent_name=pn, org_code=oc, org_name=on,
                           indicator_id=ind, indicator_title=registry.get(ind).title, subgroup=subgroup,
                           status=status, synthetic_data="yes")
                if status == "published":
                    lo, hi = _wilson(x, n)
                    row.update(numerator=x, denominator=n, percentage=100 * x / n, ci_lower_95=lo, ci_upper_95=hi,
                               national_percentage=100 * 0.55 + k % 7 / 3)
                    if ind == "ascertainment":
                        row.update(denominator="", percentage="", ci_lower_95="", ci_upper_95="",
                                   national_percentage="")
                    if ind == "time_to_sact":
                        row["median_days"] = 20 + k % 30 + 0.5 * (k % 2)
                    if level == "organisation" and ind not in {"ascertainment"}:
                        row.update(funnel_lower_95=50.1234, funnel_upper_95=70.9876, funnel_lower_998=45.5,
                                   funnel_upper_998=75.25, funnel_method="Binomial (Spiegelhalter 2005)",
                                   outlier_status=["within_limits", "alert_low", "alarm_high"][k % 3])
                    if level == "organisation" and ind == "mort30_sact":
                        row.update(expected=x * 1.1 + 0.123, observed_expected=1 / 1.1,
                                   adjusted_percentage=100 * x / n / 1.1)
                    if ind == "mdt" and nation == "Wales":
                        row["completeness_flag"] = "Low completeness: MDT date recorded 55.0% (threshold 70%)"
                elif status == "suppressed":
                    row.update(status_note="Fewer than 5 patients", outlier_status="not_assessed",
                               outlier_note="suppressed")
                elif status == "too_few":
                    row.update(numerator=3 + k % 5, denominator=8, status_note="Denominator under 10",
                               outlier_status="not_assessed", outlier_note="too_few")
                elif status == "not_available":
                    row.update(status_note="Biopsy data were not available for Wales for 2024/25")
                else:
                    row.update(status_note="The survey covers England only")
                rows.append(row)
    return rows


def _survival_rows() -> list[dict]:
    rows = []
    for unit in UNITS[:3] + UNITS[6:7]:
        for group_type, group in [("all", "all"), ("route", "de_novo"), ("route", "recurrent")]:
            for t in (1, 3):
                level, nation, rc, rn, pc, pn, oc, on = unit
                row = {c: "" for c in FILES["naome_survival.csv"]}
                row.update(period=PRIMARY, period_type="pooled", level=level, nation=nation, region_code=rc,
                           region_name=rn, parent_code=pc, parent_name=pn, org_code=oc, org_name=on,
                           group_type=group_type, group=group, time_years=t, synthetic_data="yes")
                if level == "organisation" and group == "recurrent":
                    row.update(status="suppressed", status_note="Fewer than 5 deaths")
                else:
                    pct = 65.4321 if t == 1 else 44.0123
                    row.update(patients=1234, deaths=600 + t, survival_percentage=pct, ci_lower_95=pct - 2.5,
                               ci_upper_95=pct + 2.25, at_risk=900 - 100 * t, status="published")
                rows.append(row)
    return rows


def _write_csv(path: Path, columns: list[str], rows: list[dict]) -> None:
    """Floats to 6 decimals, as a publisher writes them."""
    rows = [{k: round(v, 6) if isinstance(v, float) else v for k, v in row.items()} for row in rows]
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)


def write_fixture_data(data_dir: Path, synthetic: bool = True) -> Path:
    """Every hub file (indicators and survival filled, the rest header-only) and the run metadata."""
    data_dir.mkdir(parents=True, exist_ok=True)
    for name, columns in FILES.items():
        rows = {"naome_indicators.csv": _indicator_rows(), "naome_survival.csv": _survival_rows()}.get(name, [])
        _write_csv(data_dir / name, list(columns), rows)
    meta = {"primary_period": PRIMARY, "data_cutoff": "2026-09-30", "synthetic": synthetic,
            "definitions_version": "2026.1 (reconstructed)", "built_at": "2026-11-25T10:00:00"}
    (data_dir / META_FILE).write_text(json.dumps(meta), encoding="utf-8")
    return data_dir


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


# ------------------------------------------------------------------------------------------------
# Helpers
# ------------------------------------------------------------------------------------------------


def _table_rows(ws) -> tuple[list[str], list[list]]:
    """Header and body rows of the one table on a sheet."""
    if not hasattr(ws, "tables"):  # read-only mode: the table starts at the first row that follows the lines
        rows = [list(r) for r in ws.iter_rows(values_only=True)]
        top = next(i for i, r in enumerate(rows) if sum(v is not None for v in r) > 1)
        return rows[top], rows[top + 1:]
    (table,) = ws.tables.values()
    cells = list(ws[table.ref])
    header = [c.value for c in cells[0]]
    return header, [[c.value for c in row] for row in cells[1:]]


def _csv_frame(data_dir: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(data_dir / name, dtype=str, keep_default_na=False)


def _assert_numbers_match(wb, data_dir: Path) -> int:
    """Every number in every results table equals the CSV value of the same row; returns cells checked."""
    csv_rows = {}
    for _, r in _csv_frame(data_dir, "naome_indicators.csv").iterrows():
        csv_rows[(r["period"], r["level"], r["org_code"], r["indicator_id"], r["subgroup"])] = r
    label_to_subgroup = {v: k for k, v in SUBGROUP_LABELS.items()}
    label_to_level = {v: k for k, v in LEVEL_LABELS.items()}
    checked = 0
    for spec in RESULTS_TABLES:
        pairs = results_columns(spec)
        header, rows = _table_rows(wb[spec.sheet])
        assert header == [c.header for _, c in pairs]
        idx = {src: i for i, (src, _) in enumerate(pairs)}
        code_col = idx["org_code"]
        for values in rows:
            level = label_to_level[values[idx["level"]]] if "level" in idx else spec.levels[0]
            key = (values[idx["period"]], level, values[code_col], values[idx["indicator_id"]],
                   label_to_subgroup[values[idx["subgroup"]]])
            source = csv_rows[key]
            for src, column in pairs:
                if not column.numeric:
                    continue
                cell, raw = values[idx[src]], source[src]
                if raw == "":
                    assert cell is None, (key, src, cell)
                else:
                    assert isinstance(cell, (int, float)) and not isinstance(cell, bool), (key, src, cell)
                    assert cell == float(raw), (key, src, cell, raw)
                checked += 1
    return checked


# ------------------------------------------------------------------------------------------------
# Tests
# ------------------------------------------------------------------------------------------------


def test_file_names(built):
    xlsx, ods = built
    assert xlsx.name == "NAoMe_Metrics_Table_2023-24_to_2025-26_V1.xlsx"
    assert ods.name == "NAoMe_Metrics_Table_2023-24_to_2025-26_V1.ods"
    assert file_safe_period("2023/24") == "2023-24"
    assert workbook_filename("2023/24 to 2025/26", 3) == "NAoMe_Metrics_Table_2023-24_to_2025-26_V3.xlsx"


def test_sheets_and_titles(wb):
    assert wb.sheetnames == EXPECTED_SHEETS
    for ws in wb.worksheets:
        assert isinstance(ws["A1"].value, str) and ws["A1"].value.strip(), ws.title
        assert isinstance(ws["A2"].value, str) and ws["A2"].value.strip(), ws.title
        assert ws["A1"].font.b


def test_cover_sheet(wb):
    texts = [c.value for c in wb["Cover"]["A"] if c.value]
    joined = "\n".join(texts)
    assert "metrics table" in texts[0] and PRIMARY in texts[0]
    for heading in ["Reporting period", "Data sources", "Contact", "Version and date"]:
        assert heading in texts
    assert "Synthetic data" in joined
    assert "naome@natcan.example" in joined
    assert "Version 1" in joined and "30 September 2026" in joined
    assert not wb["Cover"].tables  # text only, in column A
    assert wb["Cover"].max_column == 1


def test_contents_links_every_sheet(wb):
    header, rows = _table_rows(wb["Contents"])
    assert header[0] == "Sheet name"
    assert [r[0] for r in rows] == EXPECTED_SHEETS
    first = wb["Contents"].tables["contents_table"].ref.split(":")[0]
    start = wb["Contents"][first].row + 1
    for offset, name in enumerate(EXPECTED_SHEETS):
        link = wb["Contents"].cell(row=start + offset, column=1).hyperlink
        assert link is not None and link.location == f"'{name}'!A1"


def test_tables_follow_the_spreadsheet_guidance(wb):
    for ws in wb.worksheets:
        assert not ws.merged_cells.ranges, ws.title
        assert ws.freeze_panes is None, ws.title
        assert ws.auto_filter.ref is None, ws.title
        assert not ws._images and not ws._charts, ws.title
        if ws.title == "Cover":
            continue
        assert len(ws.tables) == 1, ws.title
        (table,) = ws.tables.values()
        assert table.headerRowCount == 1 and not table.totalsRowCount
        assert table.autoFilter is None, f"{ws.title}: filter buttons"
        first, last = table.ref.split(":")
        top = ws[first].row
        assert ws[first].column == 1
        # titles and lines fill column A above the table, with no blank row
        for r in range(1, top):
            assert ws.cell(row=r, column=1).value, (ws.title, r)
        assert ws[last].row == ws.max_row and ws[last].column == ws.max_column
        header = [c.value for c in ws[top]]
        assert all(isinstance(h, str) and h for h in header)
        assert len(set(header)) == len(header)
        assert [c.name for c in table.tableColumns] == header
        # no blank rows inside the table (every row has its key text in column A)
        assert all(ws.cell(row=r, column=1).value for r in range(top + 1, ws.max_row + 1)), ws.title


def test_definitions_cover_every_registry_metric(wb):
    registry = load_registry()
    header, rows = _table_rows(wb["Definitions"])
    for name in ["Indicator ID", "Indicator", "QI goal", "Type", "Numerator", "Denominator", "Exclusions",
                 "Time window", "Data source", "Nations", "Direction", "Evidence"]:
        assert name in header
    ids = [r[0] for r in rows]
    assert ids == [i.id for i in registry] + ["survival"]
    mdt = dict(zip(header, rows[0]))
    assert mdt["Numerator"] == registry.get("mdt").numerator_text
    assert "NICE QS12" in mdt["Evidence"]
    assert isinstance(mdt["QI goal"], int)


def test_every_number_equals_the_csv(wb, fixture_data):
    assert _assert_numbers_match(wb, fixture_data) > 500


def test_survival_numbers_equal_the_csv(wb, fixture_data):
    header, rows = _table_rows(wb["Table_5_survival"])
    frame = _csv_frame(fixture_data, "naome_survival.csv")
    assert len(rows) == len(frame)
    lookup = {(r["org_code"], r["group"], float(r["time_years"])): r for _, r in frame.iterrows()}
    h = {name: i for i, name in enumerate(header)}
    for values in rows:
        src = lookup[(values[h["Area code"]], values[h["Patient group"]], values[h["Years after MBC diagnosis"]])]
        for col, name in [("patients", "Patients"), ("survival_percentage", "Survival (%)"),
                          ("ci_lower_95", "Lower 95% confidence limit (%)"), ("at_risk", "Patients at risk")]:
            assert (values[h[name]] is None) if src[col] == "" else values[h[name]] == float(src[col])


def test_periods_exclude_quarters(wb):
    header, rows = _table_rows(wb["Table_1_organisations"])
    assert [r[0] for r in rows][0] == PRIMARY
    assert {r[0] for r in rows} == {PRIMARY, *YEARS}
    notes = " ".join(str(c.value) for row in wb["Notes"].iter_rows() for c in row if c.value)
    assert "naome_run_charts.csv" in notes


def test_suppressed_values_are_empty_with_a_status(wb):
    header, rows = _table_rows(wb["Table_1_organisations"])
    h = {name: i for i, name in enumerate(header)}
    by_status: dict[str, list] = {}
    for r in rows:
        by_status.setdefault(r[h["Status"]], []).append(r)
    suppressed = by_status["[c] Suppressed (small numbers)"]
    assert suppressed and all(r[h["Numerator (patients)"]] is None and r[h["Percentage (%)"]] is None
                              for r in suppressed)
    too_few = by_status["[u] Too few patients for a percentage"]
    assert too_few and all(r[h["Percentage (%)"]] is None and r[h["Denominator (patients)"]] == 8 for r in too_few)
    assert all(r[h["Percentage (%)"]] is None for r in by_status["[x] Not available"])
    assert all(r[h["Percentage (%)"]] is None for r in by_status["[z] Not applicable"])
    assert {"Alarm: above the upper 99.8% limit", "Not assessed: small numbers"} <= {r[h["Outlier status"]] for r in rows}
    notes = [r[0] for r in _table_rows(wb["Notes"])[1]]
    assert {"[c]", "[u]", "[x]", "[z]"} <= set(notes)


def test_numbers_are_numbers_with_formats(wb):
    ws = wb["Table_1_organisations"]
    header, _ = _table_rows(ws)
    top = ws[ws.tables["organisation_results"].ref.split(":")[0]].row
    formats = {"Numerator (patients)": "#,##0", "Percentage (%)": "0.0", "Lower 95% confidence limit (%)": "0.0",
               "Observed / expected ratio": "0.00"}
    for name, fmt in formats.items():
        col = header.index(name) + 1
        cells = [ws.cell(row=r, column=col) for r in range(top + 1, ws.max_row + 1)]
        cells = [c for c in cells if c.value is not None]
        assert cells and all(c.number_format == fmt for c in cells), name
        assert all(c.data_type == "n" for c in cells), name


def test_formula_like_names_are_text(wb, built):
    hits = [c for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value == EVIL_NAME]
    assert hits and all(c.data_type == "s" and c.quotePrefix for c in hits)
    assert not [c for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.data_type == "f"]
    for other in ["-minus @at +plus Trust"]:
        assert any(c.value == other and c.data_type == "s" for row in wb["Table_1_organisations"].iter_rows()
                   for c in row)
    with zipfile.ZipFile(built[0]) as archive:
        sheets = [n for n in archive.namelist() if n.startswith("xl/worksheets/sheet")]
        assert not any(b"<f>" in archive.read(n) or b"<f " in archive.read(n) for n in sheets)


def test_document_properties(wb):
    props = wb.properties
    assert "metrics table" in props.title
    assert props.creator.startswith("National Cancer Audit Collaborating Centre")
    assert "metastatic breast cancer" in props.keywords
    assert props.created.year == 2026 and props.modified == props.created


def test_company_in_app_properties(built):
    with zipfile.ZipFile(built[0]) as archive:
        assert b"<Company>National Cancer Audit Collaborating Centre (NATCAN)</Company>" in archive.read("docProps/app.xml")


def test_same_inputs_same_bytes(fixture_data, built, tmp_path):
    again = build_workbook(load_results(fixture_data), load_registry(), load_config(), tmp_path)
    for first, second in zip(built, again):
        assert first.read_bytes() == second.read_bytes(), first.name


def test_streamed_rows_equal_openpyxl_cells(fixture_data):
    """Big tables are written as XML text; the bytes must equal openpyxl writing every cell itself."""
    model = build_model(load_results(fixture_data), load_registry(), load_config())
    odd = Sheet("Odd", "Awkward values", [Line("This worksheet contains one table.")],
                [Column("Text"), Column("Wrapped", "wrap", 12), Column("Count", "count"), Column("Ratio", "ratio")],
                [(" leading space", "line one\nline two that is long enough to wrap", 3, 0.1 + 0.2),
                 ("   ", "tab\there", None, float("nan")),
                 ("caf\u00e9 \u2013 \U0001F600 <b> & \"q\" 'a'", "cr\rhere", 12345678901234567, 1 / 3),
                 ("=SUM(A1)", "@x", 0, -0.0),
                 ("-minus", "+plus", True, 1e-300),
                 (7, 2.5, "n/a", None)],
                "odd_table", description="Awkward values")
    model.sheets.append(odd)
    assert render_xlsx(model) == render_xlsx(model, stream_bodies=False)


def test_run_time_does_not_change_the_bytes(fixture_data, built, tmp_path):
    """Only the results, registry and configuration matter: a rebuild of the same files at another time is identical."""
    data = tmp_path / "data"
    shutil.copytree(fixture_data, data)
    meta = json.loads((data / META_FILE).read_text())
    meta["built_at"] = "2027-01-02T03:04:05+00:00"
    (data / META_FILE).write_text(json.dumps(meta))
    again = build_workbook(load_results(data), load_registry(), load_config(), tmp_path / "out")
    assert [p.read_bytes() for p in again] == [p.read_bytes() for p in built]


def test_table_sheets_say_they_hold_one_table(wb):
    for ws in wb.worksheets[1:]:
        assert ws["A2"].value.startswith("This worksheet contains one table."), ws.title


def test_real_data_flag_drops_the_warning(fixture_data, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(fixture_data, data)
    meta = json.loads((data / META_FILE).read_text())
    meta["synthetic"] = False
    (data / META_FILE).write_text(json.dumps(meta))
    xlsx, _ = build_workbook(load_results(data), load_registry(), load_config(), tmp_path / "out")
    book = load_workbook(xlsx)
    assert not any("Synthetic data:" in str(c.value) for ws in book.worksheets for c in ws["A"])


# ------------------------------------------------------------------------------------------------
# The OpenDocument copy
# ------------------------------------------------------------------------------------------------


def _ods_sheets(path: Path) -> dict[str, pd.DataFrame]:
    return pd.read_excel(path, engine="odf", sheet_name=None, header=None, na_filter=False)


def test_ods_has_the_same_sheets_and_values(built, wb):
    xlsx, ods = built
    sheets = _ods_sheets(ods)
    assert list(sheets) == EXPECTED_SHEETS
    for name in EXPECTED_SHEETS[1:]:
        ws = wb[name]
        frame = sheets[name]
        assert frame.shape[0] == ws.max_row, name
        for r, row in enumerate(ws.iter_rows(values_only=True)):
            for c, value in enumerate(row):
                other = frame.iat[r, c] if c < frame.shape[1] else None
                if value is None:
                    assert other in (None, ""), (name, r, c)
                elif isinstance(value, (int, float)):
                    assert float(other) == float(value), (name, r, c)
                else:
                    assert str(other) == value, (name, r, c)


def test_ods_formula_like_names_are_literal_text(built):
    with zipfile.ZipFile(built[1]) as archive:
        content = archive.read("content.xml").decode("utf-8")
    assert "table:formula" not in content
    assert "=HYPERLINK(&quot;http://x&quot;,&quot;y&quot;)" in content or '=HYPERLINK("http://x","y")' in content
    assert 'table:name="organisation_results"' in content  # named range for the table


# ------------------------------------------------------------------------------------------------
# LibreOffice
# ------------------------------------------------------------------------------------------------

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
needs_soffice = pytest.mark.skipif(SOFFICE is None, reason="LibreOffice (soffice) is not installed: "
                                   "apt-get install -y libreoffice-calc-nogui")


def _convert(path: Path, fmt: str, out: Path) -> Path:
    profile = out / "lo-profile"
    result = subprocess.run(
        [SOFFICE, f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to", fmt,
         "--outdir", str(out), str(path)], capture_output=True, text=True, timeout=240)
    assert result.returncode == 0, result.stderr
    produced = sorted(out.glob(f"{path.stem}*.{fmt.split(':')[0]}"))
    assert produced, result.stdout + result.stderr
    return produced[0]


@needs_soffice
@pytest.mark.parametrize("which", [0, 1], ids=["xlsx", "ods"])
def test_libreoffice_opens_the_workbook(built, tmp_path, which):
    out = _convert(built[which], "csv", tmp_path)
    text = out.read_text(encoding="utf-8", errors="replace")
    assert "metrics table" in text  # the first sheet (cover)


@needs_soffice
@pytest.mark.parametrize("which", [0, 1], ids=["xlsx", "ods"])
def test_libreoffice_keeps_formula_like_names_literal(built, tmp_path, which):
    # sheet 5 (Table_1_organisations) as CSV: the name must come out as the literal text, not "y"
    sheet = EXPECTED_SHEETS.index("Table_1_organisations") + 1
    out = _convert(built[which], f"csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,{sheet}",
                   tmp_path)
    assert out.name.endswith("-Table_1_organisations.csv")
    rows = list(csv.reader(out.read_text(encoding="utf-8").splitlines()))
    assert any(EVIL_NAME in row for row in rows)


# ------------------------------------------------------------------------------------------------
# Against the real build, when it has been run
# ------------------------------------------------------------------------------------------------

REAL_DATA = PROJECT_ROOT / "output" / "data"
REAL_WORKBOOK = PROJECT_ROOT / "output" / workbook_filename(PRIMARY, load_config().section("audit")["output_version"])


@pytest.mark.skipif(not (REAL_DATA / META_FILE).exists() or not REAL_WORKBOOK.exists(),
                    reason="output/ not built (run make annual-report)")
def test_built_workbook_numbers_equal_the_csv():
    """The workbook `make annual-report` wrote: every number equals output/data/naome_indicators.csv."""
    book = load_workbook(REAL_WORKBOOK, read_only=True)
    assert book.sheetnames == EXPECTED_SHEETS
    assert _assert_numbers_match(book, REAL_DATA) > 1000
    assert REAL_WORKBOOK.with_suffix(".ods").exists()
