"""The bulk table writer gives the same .xlsx bytes as XlsxWriter's own per-cell calls."""

from __future__ import annotations

import io
import zipfile
from datetime import datetime

import pytest
import xlsxwriter
from openpyxl import load_workbook

from naome_report.publish.workbook import table_sheet
from naome_report.publish.workbook.model import Column, DocProperties, Line, Sheet, WorkbookModel
from naome_report.publish.workbook.xlsx import render_xlsx

LONG_TEXT = "long " * 4_000  # past the bulk writer's limit: handed to write_string


def _edge_model() -> WorkbookModel:
    columns = [Column("Code"), Column("Name", "wrap", 30), Column("Count", "count"), Column("Percent", "percent"),
               Column("Method", "general")]
    rows = [
        ("A1", "=HYPERLINK(\"http://x\",\"y\")", 12, 45.25, 1.5),
        ("A2", "-minus first", "[c]", "[u]", "-"),
        ("A3", None, "", 0, 0.1 + 0.2),
        ("A3", "@at", 1_234_567, "[x]", "+plus"),
        ("A4", LONG_TEXT, 3, 99.95, "[z]"),
        ("A5", "Name & <angle> \"quotes\"", -7, 1e-9, 12345678901234567.0),
    ]
    sheet = Sheet("Table_1", "Edge cases", [Line("One table of awkward cells.")], columns, rows, "edge_table",
                  key_columns=(0, 1))
    props = DocProperties("t", "s", "c", "co", "k", "d", datetime(2026, 3, 31))
    return WorkbookModel([Sheet("Cover", "Cover", [Line("About")]), sheet], props)


def _entries(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


@pytest.mark.skipif(not table_sheet.FAST, reason="this XlsxWriter version takes the library's own path")
def test_bulk_writer_equals_xlsxwriters_own_calls(monkeypatch):
    model = _edge_model()
    fast = _entries(render_xlsx(model))
    monkeypatch.setattr(table_sheet, "FAST", False)
    public = _entries(render_xlsx(model))
    assert list(fast) == list(public)
    for name in public:
        assert fast[name] == public[name], name


def test_bulk_writer_cells_read_back():
    book = load_workbook(io.BytesIO(render_xlsx(_edge_model())))
    ws = book["Table_1"]
    body = [tuple(c.value for c in row) for row in ws.iter_rows(min_row=4, max_row=9)]
    assert body[0] == ("A1", "=HYPERLINK(\"http://x\",\"y\")", 12, 45.25, 1.5)
    assert ws["B4"].quotePrefix and ws["B5"].quotePrefix and ws["B7"].quotePrefix  # formula-like text stays text
    assert not ws["C5"].quotePrefix and ws["C5"].alignment.horizontal == "right"  # shorthand, aligned as numbers
    assert body[1] == ("A2", "-minus first", "[c]", "[u]", "-")
    assert body[2] == ("A3", None, None, 0, 0.3)  # XlsxWriter writes 16 significant digits
    assert body[4][1] == LONG_TEXT
    assert body[5] == ("A5", "Name & <angle> \"quotes\"", -7, 1e-9, 12345678901234570.0)
    assert ws["C4"].number_format == "#,##0" and ws["D4"].number_format == "0.0"


def test_checked_versions_name_the_installed_one_or_fall_back():
    assert table_sheet.FAST == (xlsxwriter.__version__ in table_sheet.CHECKED_VERSIONS)


@pytest.mark.skipif(not table_sheet.FAST, reason="this XlsxWriter version takes the library's own path")
def test_table_added_by_range_still_refuses_overlaps():
    from xlsxwriter.exceptions import OverlappingRange

    book = xlsxwriter.Workbook(io.BytesIO(), {"in_memory": True})
    ws = book.add_worksheet("T", worksheet_class=table_sheet.TableWorksheet)
    ws.add_table(2, 0, 500, 3, {"name": "first", "columns": [{"header": h} for h in "abcd"]})
    assert book.worksheets()[0].tables[0]["range"] == "A3:D501"
    with pytest.raises(OverlappingRange, match="A3:D501"):
        ws.add_table(400, 3, 600, 5, {"name": "second"})
    with pytest.raises(OverlappingRange, match="A3:D501"):
        ws.merge_range(450, 1, 452, 2, "merged")
    ws.add_table(501, 0, 510, 3, {"name": "below"})  # just below the first: allowed
    book.close()
