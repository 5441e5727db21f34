"""The metrics table workbook: the Analysis Function's spreadsheet guidance, numbers, text safety, determinism, ODS.

Expected headers, labels and shorthand are written here as literals (from the guidance and the fixture's
rules), never taken from the module under test.
"""

from __future__ import annotations

import ast
import json
import re
import shutil
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook

from fixture_hub import EVIL_NAME, IN_PROCESS, PRIMARY, YEARS, write_fixture_data
from naome_report.config import PROJECT_ROOT, load_config
from naome_report.hub import META_FILE, load_results
from naome_report.publish.workbook import file_safe_period, workbook_filename
from naome_report.publish.workbook.files import build_workbook
from naome_report.registry import load_registry

EXPECTED_SHEETS = ["Cover", "Contents", "Notes", "Definitions", "Table_1_organisations", "Table_2_alliances",
                   "Table_3_regions", "Table_4_national", "Table_5_survival"]
SHORTHAND = {"[c]", "[u]", "[x]", "[z]"}
STATUS_SHORTHAND = {"suppressed": "[c]", "too_few": "[u]", "not_available": "[x]", "not_applicable": "[z]"}
PATIENT_GROUPS = {"All patients": "all", "De novo": "de_novo", "Recurrent": "recurrent",
                  "Triple negative": "triple_negative", "Bone metastases": "bone_metastases"}
LEVELS = {"England and Wales": "national", "Nation": "nation"}
TABLE_1_HEADERS = [
    "Nation", "NHS England region code", "NHS England region name", "Cancer Alliance or Welsh Region code",
    "Cancer Alliance or Welsh Region name", "Organisation code", "Organisation name", "Indicator ID", "Indicator",
    "Patient group", "Period [note 5]", "Numerator (patients)", "Denominator (patients)", "Percentage (%)",
    "Lower 95% confidence limit (%) [note 8]", "Upper 95% confidence limit (%) [note 8]",
    "Median days from MBC diagnosis", "National percentage (%) [note 9]", "Compared with national [note 10]",
    "Comparator [note 11]", "Comparator percentage (%) [note 11]", "Compared with comparator [note 10]",
    "Previous financial year percentage (%) [note 12]", "Change since previous year (percentage points) [note 12]",
    "Lower 95% confidence limit of change (percentage points) [note 12]",
    "Upper 95% confidence limit of change (percentage points) [note 12]", "Change beyond chance (95%) [note 12]",
    "Expected number (case-mix model) [note 3]", "Observed / expected ratio [note 3]",
    "Case-mix adjusted percentage (%) [note 3]", "Lower 95% confidence limit of adjusted percentage (%) [note 3]",
    "Upper 95% confidence limit of adjusted percentage (%) [note 3]", "Lower 99.8% funnel limit (%) [note 13]",
    "Lower 95% funnel limit (%) [note 13]", "Upper 95% funnel limit (%) [note 13]",
    "Upper 99.8% funnel limit (%) [note 13]", "Funnel limits method [note 13]", "Position against funnel limits [note 14]",
    "In HQIP outlier process [note 4]", "HQIP outlier status [note 4]", "Data completeness warning [note 15]",
    "Status [note 7]", "Reason not published",
]
# Every number column of the results tables and the CSV column it must equal, cell by cell.
NUMBER_COLUMNS = {
    "Numerator (patients)": "numerator", "Denominator (patients)": "denominator", "Percentage (%)": "percentage",
    "Lower 95% confidence limit (%) [note 8]": "ci_lower_95", "Upper 95% confidence limit (%) [note 8]": "ci_upper_95",
    "Median days from MBC diagnosis": "median_days", "National percentage (%) [note 9]": "national_percentage",
    "Comparator percentage (%) [note 11]": "comparator_percentage",
    "Previous financial year percentage (%) [note 12]": "previous_percentage",
    "Change since previous year (percentage points) [note 12]": "change_points",
    "Lower 95% confidence limit of change (percentage points) [note 12]": "change_ci_lower_95",
    "Upper 95% confidence limit of change (percentage points) [note 12]": "change_ci_upper_95",
    "Expected number (case-mix model) [note 3]": "expected", "Observed / expected ratio [note 3]": "observed_expected",
    "Case-mix adjusted percentage (%) [note 3]": "adjusted_percentage",
    "Lower 95% confidence limit of adjusted percentage (%) [note 3]": "adjusted_ci_lower_95",
    "Upper 95% confidence limit of adjusted percentage (%) [note 3]": "adjusted_ci_upper_95",
    "Lower 99.8% funnel limit (%) [note 13]": "funnel_lower_998", "Lower 95% funnel limit (%) [note 13]": "funnel_lower_95",
    "Upper 95% funnel limit (%) [note 13]": "funnel_upper_95", "Upper 99.8% funnel limit (%) [note 13]": "funnel_upper_998",
}
# The unit code column of each results table, and the levels it shows.
RESULTS_TABLES = {"Table_1_organisations": ("Organisation code", ["organisation"]),
                  "Table_2_alliances": ("Cancer Alliance or Welsh Region code", ["alliance"]),
                  "Table_3_regions": ("NHS England region code", ["region"]),
                  "Table_4_national": ("Area code", ["national", "nation"])}


# ------------------------------------------------------------------------------------------------
# Helpers
# ------------------------------------------------------------------------------------------------


def _table_rows(ws) -> tuple[list[str], list[list]]:
    """Header and body rows of the one table on a sheet."""
    if not hasattr(ws, "tables"):  # read-only mode: the table starts at the first row with two or more values
        rows = [list(r) for r in ws.iter_rows(values_only=True)]
        top = next(i for i, r in enumerate(rows) if sum(v is not None for v in r) > 1)
        return rows[top], rows[top + 1:]
    (table,) = ws.tables.values()
    cells = list(ws[table.ref])
    return [c.value for c in cells[0]], [[c.value for c in row] for row in cells[1:]]


def _csv(data_dir: Path, name: str = "naome_indicators.csv") -> pd.DataFrame:
    return pd.read_csv(data_dir / name, dtype=str, keep_default_na=False)


def _assert_numbers_match(book, data_dir: Path) -> int:
    """Every number cell of every results table equals the CSV value of the same row; an empty CSV value
    is shorthand that agrees with the row's status. Returns the number of cells checked."""
    frame = _csv(data_dir)
    frame = frame[frame["period_type"].isin(["pooled", "financial_year"])]
    checked = 0
    for sheet, (code_header, levels) in RESULTS_TABLES.items():
        header, rows = _table_rows(book[sheet])
        h = {name: i for i, name in enumerate(header)}
        source = frame[frame["level"].isin(levels)]
        has_value = {col: set(source.loc[source[col] != "", "indicator_id"]) for col in NUMBER_COLUMNS.values()
                     if col in source.columns}
        lookup = {(r["period"], r["level"], r["org_code"], r["indicator_id"], r["subgroup"]): r
                  for _, r in source.iterrows()}
        assert len(rows) == len(lookup), sheet
        for values in rows:
            level = LEVELS[values[h["Level"]]] if "Level" in h else levels[0]
            key = (values[h["Period [note 5]"]], level, values[h[code_header]], values[h["Indicator ID"]],
                   PATIENT_GROUPS[values[h["Patient group"]]])
            row = lookup[key]
            for name, col in NUMBER_COLUMNS.items():
                if name not in h:
                    continue
                cell, raw = values[h[name]], row[col]
                if raw == "":
                    expected = "[z]" if row["indicator_id"] not in has_value[col] or row["status"] == "published" \
                        else STATUS_SHORTHAND[row["status"]]
                    if row["status"] == "published" and row["indicator_id"] in has_value[col]:
                        assert cell in {"[x]", "[z]"}, (sheet, key, name, cell)
                    else:
                        assert cell == expected, (sheet, key, name, cell, expected)
                else:
                    assert isinstance(cell, (int, float)) and not isinstance(cell, bool), (sheet, key, name, cell)
                    assert cell == float(raw), (sheet, key, name, cell, raw)
                checked += 1
    return checked


def _all_text(book) -> list[str]:
    return [str(c.value) for ws in book.worksheets for row in ws.iter_rows() for c in row if c.value is not None]


# ------------------------------------------------------------------------------------------------
# Structure, cover and contents
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
        assert ws["A1"].font.name == "Arial"


def test_cover_has_publication_date_next_update_and_contact(wb):
    texts = [c.value for c in wb["Cover"]["A"] if c.value]
    assert texts[0] == "National Audit of Metastatic Breast Cancer (NAoMe) metrics table, 2023/24-2025/26"
    following = {texts[i]: texts[i + 1] for i in range(len(texts) - 1)}
    assert following["Publication date"] == "11 March 2027"
    assert following["Next update"] == "March 2028"
    assert following["Contact"] == "National Cancer Audit Collaborating Centre (NATCAN), email: naome@natcan.example"
    assert following["Version"].startswith("Version 1. ")
    assert "30 September 2026" in following["Version"]
    for heading in ["Reporting period", "Data sources", "How to use this workbook"]:
        assert heading in texts
    contact = next(c for c in wb["Cover"]["A"] if c.value == following["Contact"])
    assert contact.hyperlink.target == "mailto:naome@natcan.example"
    assert any(t.startswith("Synthetic data:") for t in texts)
    assert not wb["Cover"].tables and wb["Cover"].max_column == 1


def test_contents_links_every_sheet(wb):
    header, rows = _table_rows(wb["Contents"])
    assert header == ["Sheet name", "Sheet contents"]
    assert [r[0] for r in rows] == EXPECTED_SHEETS
    start = wb["Contents"][wb["Contents"].tables["contents_table"].ref.split(":")[0]].row + 1
    for offset, name in enumerate(EXPECTED_SHEETS):
        link = wb["Contents"].cell(row=start + offset, column=1).hyperlink
        assert link is not None and link.location == f"'{name}'!A1"


# ------------------------------------------------------------------------------------------------
# The guidance, point by point
# ------------------------------------------------------------------------------------------------


def test_every_table_is_marked_up_with_filter_buttons_and_no_frozen_panes(wb):
    """One marked-up table per sheet with one header row and filter buttons; no merged cells, no freeze panes
    (the guidance advises against them: they hinder screen-magnifier users), nothing below the table."""
    for ws in wb.worksheets:
        assert not ws.merged_cells.ranges, ws.title
        assert ws.freeze_panes is None, ws.title
        assert ws.sheet_view.pane is None, ws.title
        if ws.title == "Cover":
            continue
        assert len(ws.tables) == 1, ws.title
        (table,) = ws.tables.values()
        assert table.headerRowCount == 1 and not table.totalsRowCount
        assert table.autoFilter is not None and table.autoFilter.ref == table.ref, f"{ws.title}: filter buttons"
        assert not table.autoFilter.filterColumn, f"{ws.title}: saved with a filter applied"
        first, last = table.ref.split(":")
        top = ws[first].row
        assert ws[first].column == 1
        for r in range(1, top):  # titles and lines fill column A above the table, with no blank row
            assert ws.cell(row=r, column=1).value, (ws.title, r)
        assert ws[last].row == ws.max_row and ws[last].column == ws.max_column
        header = [c.value for c in ws[top]]
        assert all(isinstance(h, str) and h for h in header) and len(set(header)) == len(header)
        assert [c.name for c in table.tableColumns] == header


def test_no_empty_cell_inside_a_results_table(wb):
    for name in EXPECTED_SHEETS[4:]:
        _, rows = _table_rows(wb[name])
        blanks = [(i, j) for i, row in enumerate(rows) for j, v in enumerate(row) if v is None or v == ""]
        assert not blanks, (name, blanks[:5])


def test_shorthand_sits_in_the_value_cells(wb):
    """[c] where suppressed, [u] where too few for a percentage, [x] not available, [z] not applicable."""
    header, rows = _table_rows(wb["Table_1_organisations"])
    h = {name: i for i, name in enumerate(header)}
    row = {(r[h["Organisation code"]], r[h["Indicator ID"]], r[h["Patient group"]], r[h["Period [note 5]"]]): r
           for r in rows}
    suppressed = row[("ZZY", "mdt", "All patients", PRIMARY)]
    assert [suppressed[h[c]] for c in ["Numerator (patients)", "Denominator (patients)", "Percentage (%)"]] == \
        ["[c]", "[c]", "[c]"]
    assert suppressed[h["Median days from MBC diagnosis"]] == "[z]"  # mdt has no median days
    assert suppressed[h["Status [note 7]"]] == "Suppressed"
    assert suppressed[h["Reason not published"]] == "Fewer than 5 patients"
    assert suppressed[h["HQIP outlier status [note 4]"]] == "Not an outlier"  # published although counts are not
    too_few = row[("7A1", "mort30_sact", "All patients", PRIMARY)]
    assert too_few[h["Denominator (patients)"]] == 8 and too_few[h["Percentage (%)"]] == "[u]"
    assert too_few[h["HQIP outlier status [note 4]"]] == "Not assessed: too few patients to assess"
    not_available = row[("7A1", "biopsy", "All patients", "2024/25")]
    assert not_available[h["Percentage (%)"]] == "[x]" and not_available[h["Status [note 7]"]] == "Not available"
    not_applicable = row[("7A1", "cpes_cns", "All patients", PRIMARY)]
    assert not_applicable[h["Percentage (%)"]] == "[z]"
    count_only = row[("ZAA", "ascertainment", "All patients", PRIMARY)]
    assert isinstance(count_only[h["Numerator (patients)"]], int) and count_only[h["Percentage (%)"]] == "[z]"
    pooled = row[("ZAA", "biopsy", "All patients", PRIMARY)]
    assert pooled[h["Change since previous year (percentage points) [note 12]"]] == "[z]"
    welsh = row[("7A1", "mdt", "All patients", PRIMARY)]
    assert welsh[h["NHS England region code"]] == "[z]" and welsh[h["NHS England region name"]] == "[z]"
    # shorthand in number columns is right-aligned text, numbers are numbers with their formats
    ws = wb["Table_1_organisations"]
    top = ws[ws.tables["organisation_results"].ref.split(":")[0]].row
    col = header.index("Percentage (%)") + 1
    cells = [ws.cell(row=r, column=col) for r in range(top + 1, ws.max_row + 1)]
    assert {c.value for c in cells if c.data_type == "s"} == {"[c]", "[u]", "[x]", "[z]"}
    assert all(c.alignment.horizontal == "right" for c in cells if c.data_type == "s")
    assert all(c.number_format == "0.0" for c in cells if c.data_type == "n")


def test_shorthand_is_explained_on_the_notes_sheet(wb):
    lines = [c.value for c in wb["Notes"]["A"] if c.value]
    for code, meaning in [("[c]", "suppressed"), ("[u]", "too few patients"), ("[x]", "not available"),
                          ("[z]", "does not apply")]:
        assert any(line.startswith(code) and meaning in line.lower() for line in lines), code


def test_note_markers_and_notes_table(wb):
    """Each [note N] used anywhere is in the notes table, numbered from 1 in order of first use."""
    header, rows = _table_rows(wb["Notes"])
    assert header == ["Note number", "Note text", "Where it applies"]
    numbers = [r[0] for r in rows]
    assert numbers == [f"[note {i}]" for i in range(1, len(rows) + 1)]
    used: list[str] = []
    for ws in wb.worksheets:
        if ws.title == "Notes":
            continue
        for row in ws.iter_rows():
            for c in row:
                for marker in re.findall(r"\[note \d+\]", str(c.value or "")):
                    if marker not in used:
                        used.append(marker)
    assert used == numbers  # every note used, in order of first use
    where = {r[0]: r[2] for r in rows}
    assert where["[note 1]"] == "Cover"
    assert "Table_5_survival" in where[next(r[0] for r in rows if "Kaplan-Meier" in r[1])]
    assert all(r[1] for r in rows)


def test_an_organisations_rows_sit_together(wb):
    header, rows = _table_rows(wb["Table_1_organisations"])
    codes = [r[header.index("Organisation code")] for r in rows]
    runs = [c for i, c in enumerate(codes) if i == 0 or codes[i - 1] != c]
    assert len(runs) == len(set(codes)) == 4
    assert runs[-1] == "7A1"  # England's trusts first, then Wales's boards
    first_org = [r for r in rows if r[header.index("Organisation code")] == runs[0]]
    assert [r[header.index("Period [note 5]")] for r in first_org[:4]] == [PRIMARY, *YEARS]


def test_headers_are_unambiguous(wb):
    """The same header holds the same kind of value in every table; no internal names; Table 1 exactly."""
    kinds: dict[str, set[str]] = {}
    for ws in wb.worksheets[2:]:
        header, rows = _table_rows(ws)
        for j, name in enumerate(header):
            values = [r[j] for r in rows if r[j] not in SHORTHAND]
            if values:  # a column of shorthand only says nothing of its kind
                kind = "number" if all(isinstance(v, (int, float)) for v in values) else "text"
                kinds.setdefault(re.sub(r" \[note \d+\]$", "", name), set()).add(kind)
        assert "Patients" not in header, ws.title
        assert not [h for h in header if "_" in h or h != h.strip()], ws.title
    assert {name: k for name, k in kinds.items() if len(k) > 1} == {}
    assert _table_rows(wb["Table_1_organisations"])[0] == TABLE_1_HEADERS


def test_no_none_or_internal_variable_names_in_text(wb):
    texts = _all_text(wb)
    assert not [t for t in texts if t.strip() == "None" or "None " in t or t.endswith(" None")]
    for internal in ["ps group", "ps_group", "charlson_group", "ethnicity_group", "age_band", "not_in_process",
                     "within_limits", "above_998"]:
        assert not [t for t in texts if internal in t and t != EVIL_NAME], internal
    casemix = next(r for r in _table_rows(wb["Notes"])[1] if "case mix" in r[1])[1]
    assert "performance status" in casemix and "comorbidity (Charlson index)" in casemix


def test_shared_strings_not_inline(built):
    with zipfile.ZipFile(built[0]) as archive:
        names = archive.namelist()
        assert "xl/sharedStrings.xml" in names
        shared = archive.read("xl/sharedStrings.xml").decode()
        sheets = [n for n in names if n.startswith("xl/worksheets/sheet")]
        for name in sheets:
            xml = archive.read(name)
            assert b"inlineStr" not in xml, name
    assert shared.count("<si>") == len(set(re.findall(r"<si><t[^>]*>(.*?)</t></si>", shared)))  # each once
    assert "<t>[c]</t>" in shared and "<t>Fairfield and District NHS Foundation Trust</t>" in shared


def test_print_settings_stay_legible(wb):
    """Landscape A4, printed at no less than 80%, the header row and the row's key columns on every page,
    a block of rows printed whole across its pages before the next."""
    for ws in wb.worksheets:
        setup = ws.page_setup
        assert setup.orientation == "landscape" and setup.paperSize == 9, ws.title
        assert not ws.sheet_properties.pageSetUpPr or not ws.sheet_properties.pageSetUpPr.fitToPage, ws.title
        assert (setup.scale or 100) >= 80, ws.title
        assert setup.pageOrder == "overThenDown", ws.title
        if ws.title == "Cover":
            continue
        top = ws[next(iter(ws.tables.values())).ref.split(":")[0]].row
        assert ws.print_title_rows == f"${top}:${top}", ws.title
    assert wb["Table_1_organisations"].print_title_cols == "$F:$G"  # organisation code and name
    assert (wb["Table_1_organisations"].page_setup.scale or 100) == 80
    assert wb["Cover"].page_setup.scale in (None, 100)


def test_definitions_cover_every_registry_metric(wb):
    registry = load_registry()
    header, rows = _table_rows(wb["Definitions"])
    for name in ["Indicator ID", "Indicator", "QI goal", "Type", "Numerator", "Denominator", "Exclusions",
                 "Time window", "Data source", "Nations", "Not available for", "Direction",
                 "Case-mix variables [note 3]", "In HQIP outlier process [note 4]", "Evidence"]:
        assert name in header
    assert [r[0] for r in rows] == [i.id for i in registry] + ["survival"]
    mdt = dict(zip(header, rows[0]))
    assert mdt["Numerator"] == registry.get("mdt").numerator_text
    assert mdt["Exclusions"] == "No exclusions beyond the audit cohort rules"
    assert mdt["Not available for"] == "Available for every nation and year it covers"
    assert mdt["Case-mix variables [note 3]"] == "Not adjusted" and mdt["Type"] == "Process"
    assert "NICE QS12" in mdt["Evidence"] and isinstance(mdt["QI goal"], int)
    mort = dict(zip(header, rows[[r[0] for r in rows].index("mort30_sact")]))
    assert "Performance status" in mort["Case-mix variables [note 3]"]
    assert "Comorbidity" in mort["Case-mix variables [note 3]"]


# ------------------------------------------------------------------------------------------------
# Numbers and words, from the results files
# ------------------------------------------------------------------------------------------------


def test_every_number_equals_the_csv(wb, fixture_data):
    assert _assert_numbers_match(wb, fixture_data) > 2000


def test_classifications_come_from_the_results_files(wb, fixture_data):
    """Funnel position, outlier process and status, comparisons: the results' codes in the vocabulary's words."""
    header, rows = _table_rows(wb["Table_1_organisations"])
    h = {name: i for i, name in enumerate(header)}
    frame = _csv(fixture_data)
    source = {(r["org_code"], r["indicator_id"], r["subgroup"], r["period"]): r
              for _, r in frame[frame["level"] == "organisation"].iterrows()}
    position = {"within": "Within limits", "below_95": "Below 95% limit", "above_998": "Above 99.8% limit",
                "not_assessed": "Not assessed"}
    outlier = {"within_limits": "Not an outlier", "alert_low": "Alert (low)", "alarm_high": "Alarm (high)",
               "not_in_process": "Not in outlier process"}
    comparison = {"similar": "Similar", "better": "Better", "worse": "Worse"}
    seen = set()
    for values in rows:
        r = source[(values[h["Organisation code"]], values[h["Indicator ID"]],
                    PATIENT_GROUPS[values[h["Patient group"]]], values[h["Period [note 5]"]])]
        assert values[h["In HQIP outlier process [note 4]"]] == ("Yes" if r["indicator_id"] in IN_PROCESS else "No")
        if r["funnel_position"]:
            assert values[h["Position against funnel limits [note 14]"]] == position[r["funnel_position"]]
        if r["outlier_status"] in outlier:
            assert values[h["HQIP outlier status [note 4]"]] == outlier[r["outlier_status"]]
            seen.add(r["outlier_status"])
        if r["vs_comparator"]:
            assert values[h["Compared with comparator [note 10]"]] == comparison[r["vs_comparator"]]
            assert values[h["Comparator [note 11]"]] == r["comparator_name"]
    assert seen == set(outlier)


def test_survival_numbers_equal_the_csv(wb, fixture_data):
    header, rows = _table_rows(wb["Table_5_survival"])
    frame = _csv(fixture_data, "naome_survival.csv")
    assert len(rows) == len(frame)
    lookup = {(r["org_code"], r["group"].replace("All", "All patients"), float(r["time_years"])): r
              for _, r in frame.iterrows()}
    h = {name: i for i, name in enumerate(header)}
    for values in rows:
        src = lookup[(values[h["Area code"]], values[h["Patient group"]], values[h["Years after MBC diagnosis"]])]
        for col, name in [("patients", "Number of patients"), ("survival_percentage", "Survival (%) [note 16]"),
                          ("ci_lower_95", "Lower 95% confidence limit of survival (%) [note 16]"),
                          ("at_risk", "Patients at risk")]:
            expected = STATUS_SHORTHAND.get(src["status"]) if src[col] == "" else float(src[col])
            assert values[h[name]] == expected, (values, name)


def test_periods_exclude_quarters(wb):
    header, rows = _table_rows(wb["Table_1_organisations"])
    assert {r[header.index("Period [note 5]")] for r in rows} == {PRIMARY, *YEARS}
    assert any("naome_run_charts.csv" in t for t in _all_text(wb))


# ------------------------------------------------------------------------------------------------
# Text safety, properties, determinism, code
# ------------------------------------------------------------------------------------------------


def test_formula_like_names_are_text(wb, built):
    hits = [c for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value == EVIL_NAME]
    assert hits and all(c.data_type == "s" and c.quotePrefix for c in hits)
    assert not [c for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.data_type == "f"]
    assert any(c.value == "-minus @at +plus Trust" and c.data_type == "s" and c.quotePrefix
               for row in wb["Table_1_organisations"].iter_rows() for c in row)
    with zipfile.ZipFile(built[0]) as archive:
        sheets = [n for n in archive.namelist() if n.startswith("xl/worksheets/sheet")]
        assert not any(b"<f>" in archive.read(n) or b"<f " in archive.read(n) for n in sheets)


def test_document_properties(wb, built):
    props = wb.properties
    assert props.title == "National Audit of Metastatic Breast Cancer (NAoMe) metrics table, 2023/24-2025/26"
    assert props.creator == "National Cancer Audit Collaborating Centre (NATCAN)"
    assert "metastatic breast cancer" in props.keywords
    assert props.created.year == 2026 and props.description.startswith("Synthetic data: no real patients.")
    with zipfile.ZipFile(built[0]) as archive:
        assert b"<Company>National Cancer Audit Collaborating Centre (NATCAN)</Company>" in archive.read("docProps/app.xml")


def test_cursor_in_a1_of_the_first_sheet(wb):
    assert wb.active.title == "Cover"
    assert all(ws.sheet_view.selection[0].activeCell in (None, "A1") for ws in wb.worksheets)


def test_same_inputs_same_bytes(fixture_data, built, tmp_path):
    again = build_workbook(load_results(fixture_data), load_registry(), load_config(), tmp_path)
    for first, second in zip(built, again):
        assert first.read_bytes() == second.read_bytes(), first.name


def test_run_time_does_not_change_the_bytes(fixture_data, built, tmp_path):
    """Only the results, registry and configuration matter: a rebuild at another time is identical."""
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


def test_real_data_flag_drops_the_warning(tmp_path):
    data = write_fixture_data(tmp_path / "data", synthetic=False)
    xlsx, _ = build_workbook(load_results(data), load_registry(), load_config(), tmp_path / "out")
    book = load_workbook(xlsx)
    assert not any("Synthetic data" in str(c.value) for ws in book.worksheets for c in ws["A"])
    assert not book.properties.description.startswith("Synthetic")


def test_writers_use_no_private_library_modules_and_import_one_way():
    """No `_private` module or name of a library; the writers import the model, the model neither writer."""
    package = PROJECT_ROOT / "naome_report" / "publish" / "workbook"
    imports: dict[str, set[str]] = {}
    for path in package.glob("*.py"):
        tree = ast.parse(path.read_text())
        names = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                names.add(node.module)
                assert not [a.name for a in node.names if a.name.startswith("_") and node.module != "__future__"], path
            elif isinstance(node, ast.Import):
                names.update(a.name for a in node.names)
        assert not [n for n in names if any(part.startswith("_") for part in n.split(".") if n != "__future__")], path
        imports[path.stem] = names
        assert "._cells" not in path.read_text() and "._style" not in path.read_text(), path
    assert "naome_report.publish.workbook.model" in imports["xlsx"] | imports["ods"]
    assert not {"naome_report.publish.workbook.xlsx", "naome_report.publish.workbook.ods"} & imports["model"]
    assert "naome_report.publish.workbook.ods" not in imports["xlsx"]
    assert "naome_report.publish.workbook.xlsx" not in imports["ods"]


# ------------------------------------------------------------------------------------------------
# The OpenDocument copy
# ------------------------------------------------------------------------------------------------


def _ods_sheets(path: Path) -> dict[str, pd.DataFrame]:
    return pd.read_excel(path, engine="odf", sheet_name=None, header=None, na_filter=False)


def test_ods_has_the_same_sheets_and_values(built, wb):
    sheets = _ods_sheets(built[1])
    assert list(sheets) == EXPECTED_SHEETS
    for name in EXPECTED_SHEETS[1:]:
        ws, frame = wb[name], sheets[name]
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


def test_ods_tables_have_filter_buttons_header_rows_and_legible_print(built):
    with zipfile.ZipFile(built[1]) as archive:
        content = archive.read("content.xml").decode("utf-8")
        styles = archive.read("styles.xml").decode("utf-8")
    assert "table:formula" not in content
    ranges = re.findall(r"<table:database-range [^>]*/>", content)
    assert len(ranges) == 8 and all('table:display-filter-buttons="true"' in r for r in ranges)
    assert 'table:name="organisation_results"' in content
    assert content.count("<table:table-header-rows>") == 8
    assert content.count("<table:table-header-columns>") == 8
    scales = [int(s) for s in re.findall(r'style:scale-to="(\d+)%"', styles)]
    assert scales and min(scales) >= 80
    assert 'style:print-orientation="landscape"' in styles and 'style:print-page-order="ltr"' in styles
    assert "=HYPERLINK(&quot;http://x&quot;,&quot;y&quot;)" in content or '=HYPERLINK("http://x","y")' in content


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
    assert _assert_numbers_match(book, REAL_DATA) > 100_000
    assert REAL_WORKBOOK.with_suffix(".ods").exists()
