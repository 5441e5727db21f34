"""The metrics table as an Excel workbook, written with XlsxWriter (shared strings, marked-up tables, print set-up)."""

from __future__ import annotations

import io
from typing import Any

import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

from naome_report.publish.workbook.layout import SheetLayout, sheet_layouts
from naome_report.publish.workbook.model import NUMBER_KINDS, Sheet, WorkbookModel
from naome_report.publish.workbook.table_sheet import TableWorksheet

NUMBER_FORMATS = {"count": "#,##0", "percent": "0.0", "ratio": "0.00", "decimal": "#,##0.0", "general": "General"}
FORMULA_STARTS = ("=", "+", "-", "@")
A4 = 9
TOP = {"valign": "top"}
FONT = {"font_name": "Arial", "font_size": 11}  # Arial, as the Analysis Function's own tables (gptables) use
STYLES: dict[str, dict[str, Any]] = {
    "title": {"bold": True, "font_size": 15},
    "cover_title": {"bold": True, "font_size": 15, "text_wrap": True, **TOP},
    "cover_warning": {"bold": True, "text_wrap": True, **TOP},
    "heading": {"bold": True, "font_size": 13, **TOP},
    "warning": {"bold": True, **TOP},
    "line": {**TOP},
    "cover": {"text_wrap": True, **TOP},
    "link": {"underline": 1, "font_color": "#0563C1", **TOP},
    "header": {"bold": True, "text_wrap": True, **TOP},
    "text": {"align": "left", "indent": 1, **TOP},
    "wrap": {"align": "left", "indent": 1, "text_wrap": True, **TOP},
    "shorthand": {"align": "right", **TOP},  # [c], [x]... in a number column: aligned with the numbers
    **{kind: {"num_format": fmt, **TOP} for kind, fmt in NUMBER_FORMATS.items()},
}


class _Formats:
    """The workbook's cell formats, each registered once; a text format's twin marks formula-like text as text."""

    def __init__(self, book: xlsxwriter.Workbook) -> None:
        self.book = book
        self.named = {name: book.add_format(props) for name, props in STYLES.items()}
        self.quoted: dict[str, Format] = {}

    def __getitem__(self, name: str) -> Format:
        return self.named[name]

    def text(self, name: str, value: str) -> Format:
        """The format of a text cell: quote-prefixed when it starts like a formula, so it stays text when edited."""
        if not value.startswith(FORMULA_STARTS):
            return self.named[name]
        if name not in self.quoted:
            self.quoted[name] = self.book.add_format({**STYLES[name], "quote_prefix": True})
        return self.quoted[name]


def _write_lines(ws: Worksheet, sheet: Sheet, formats: _Formats) -> None:
    cover = not sheet.columns  # the cover's lines wrap in its one wide column; above a table they run on
    ws.write_string(0, 0, sheet.title, formats["cover_title" if cover else "title"])
    for row, line in enumerate(sheet.lines, start=1):
        style = {"heading": "heading", "warning": "cover_warning" if cover else "warning"}.get(
            line.style, "cover" if cover else "line")
        if line.link:
            ws.write_url(row, 0, line.link, formats["link"], string=line.text)
        else:
            ws.write_string(row, 0, line.text, formats.text(style, line.text))


def _write_table(ws: TableWorksheet, sheet: Sheet, formats: _Formats) -> None:
    """Header, body and the table object (with its filter buttons)."""
    top = sheet.header_row - 1  # 0-based
    kinds = [c.kind if c.kind in NUMBER_KINDS or c.kind == "wrap" else "text" for c in sheet.columns]
    numeric = [kind in NUMBER_KINDS for kind in kinds]
    cell_formats = [formats[k] for k in kinds]
    string_formats = [formats["shorthand"] if n else f for n, f in zip(numeric, cell_formats)]

    def formula_format(col: int, value: str) -> Format:
        """Shorthand in a number column stays as it is; formula-like text is marked as text."""
        return string_formats[col] if numeric[col] else formats.text(kinds[col], value)

    ws.write_body(top + 1, sheet.rows, string_formats, cell_formats, formula_format, FORMULA_STARTS)
    for index, target in sheet.links.items():
        value = str(sheet.rows[index][0])
        ws.write_url(top + 1 + index, 0, f"internal:'{target}'!A1", formats["link"], string=value)
    columns = [{"header": c.header, "header_format": formats["header"]} for c in sheet.columns]
    ws.add_table(top, 0, sheet.last_row - 1, len(sheet.columns) - 1,
                 {"name": sheet.table_name, "columns": columns, "style": None, "autofilter": True})


def _write_sheet(book: xlsxwriter.Workbook, sheet: Sheet, layout: SheetLayout, formats: _Formats) -> None:
    ws = book.add_worksheet(sheet.name, worksheet_class=TableWorksheet)
    _write_lines(ws, sheet, formats)
    if sheet.columns:
        _write_table(ws, sheet, formats)
    for j, width in enumerate(layout.widths):
        ws.set_column(j, j, width)
    for row, height in layout.heights.items():
        ws.set_row(row - 1, height)
    ws.set_landscape()
    ws.set_paper(A4)
    ws.print_across()  # a block of rows prints whole, page after page to the right, before the next rows
    ws.set_print_scale(layout.scale)
    if sheet.columns:
        ws.repeat_rows(sheet.header_row - 1)
        if sheet.key_columns:
            ws.repeat_columns(*sheet.key_columns)


def render_xlsx(model: WorkbookModel, layouts: list[SheetLayout] | None = None) -> bytes:
    """The workbook as .xlsx bytes; the same model always gives the same bytes."""
    layouts = layouts or sheet_layouts(model.sheets)
    buffer = io.BytesIO()
    options = {"in_memory": True, "strings_to_numbers": False, "strings_to_formulas": False,
               "strings_to_urls": False, "default_format_properties": dict(FONT)}  # XlsxWriter adds to it
    with xlsxwriter.Workbook(buffer, options) as book:
        props = model.properties
        book.set_properties({
            "title": props.title, "subject": props.subject, "author": props.creator, "company": props.company,
            "keywords": props.keywords, "comments": props.description, "category": "Official statistics (audit)",
            "created": props.timestamp,
        })
        formats = _Formats(book)
        for sheet, layout in zip(model.sheets, layouts):
            _write_sheet(book, sheet, layout, formats)
    return buffer.getvalue()
