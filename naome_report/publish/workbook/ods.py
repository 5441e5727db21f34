"""The OpenDocument (.ods) copy of the metrics table, from the same table model as the .xlsx.

odfpy writes the package (manifest, metadata, the named cell and number styles, the landscape pages). The
sheets themselves (content.xml) are streamed as XML text: building tens of thousands of rows as odfpy
elements takes minutes, streaming them takes seconds. Nothing here needs LibreOffice.
"""

from __future__ import annotations

import io
import re
from typing import Any, Iterable, Iterator
from xml.sax.saxutils import escape, quoteattr

from odf import dc, meta
from odf.element import Element
from odf.namespaces import nsdict
from odf.number import Number, NumberStyle
from odf.opendocument import OpenDocumentSpreadsheet
from odf.style import (
    DefaultStyle,
    MasterPage,
    PageLayout,
    PageLayoutProperties,
    ParagraphProperties,
    Style,
    TableCellProperties,
    TextProperties,
)

from naome_report.publish.workbook.archive import deterministic_zip
from naome_report.publish.workbook.layout import SheetLayout, sheet_layouts
from naome_report.publish.workbook.model import NUMBER_KINDS, Sheet, WorkbookModel, clean_text

CM_PER_CHARACTER = 0.21
DECIMALS = {"count": 0, "percent": 1, "ratio": 2, "decimal": 1}
NUMBER_STYLES = {"count": "Count", "percent": "Percent", "ratio": "Ratio", "decimal": "Decimal", "general": "General"}
NAMESPACES = {
    "office": "urn:oasis:names:tc:opendocument:xmlns:office:1.0",
    "style": "urn:oasis:names:tc:opendocument:xmlns:style:1.0",
    "text": "urn:oasis:names:tc:opendocument:xmlns:text:1.0",
    "table": "urn:oasis:names:tc:opendocument:xmlns:table:1.0",
    "fo": "urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0",
    "xlink": "http://www.w3.org/1999/xlink",
    "number": "urn:oasis:names:tc:opendocument:xmlns:datastyle:1.0",
}
EMPTY = "<table:table-cell/>"
PIECE_ROWS = 256  # rows of content.xml joined, encoded and compressed at a time
TOP = {"verticalalign": "top"}
WRAP = {"wrapoption": "wrap", "verticalalign": "top"}
BOLD = {"fontweight": "bold"}
LINK = {"color": "#0563c1", "textunderlinestyle": "solid", "textunderlinewidth": "auto",
        "textunderlinecolor": "font-color"}

# ---------------------------------------------------------------------------------------------
# The package, with odfpy
# ---------------------------------------------------------------------------------------------


def _canonical_namespaces() -> None:
    """Declare every known namespace in a fixed order.

    odfpy keeps the declared namespaces in one dict shared by every document in the process, so without
    this the second file built in a process would declare more namespaces than the first.
    """
    Element.namespaces.clear()
    for uri, prefix in sorted(nsdict.items(), key=lambda item: item[1]):
        Element.namespaces[uri] = prefix


def _cell_style(name: str, cell: dict[str, str] | None = None, text: dict[str, str] | None = None,
                align: str | None = None, **extra: str) -> Style:
    """A named (common) table-cell style."""
    style = Style(name=name, displayname=name, family="table-cell", **extra)
    if cell:
        style.addElement(TableCellProperties(**cell))
    if align:
        style.addElement(ParagraphProperties(textalign=align))
    if text:
        style.addElement(TextProperties(**text))
    return style


def _add_styles(doc: OpenDocumentSpreadsheet, scales: list[int]) -> None:
    """The named cell styles and number formats, and a landscape A4 page for each print scale used."""
    cell_styles = [
        _cell_style("Title", None, {**BOLD, "fontsize": "15pt"}),
        _cell_style("Cover_title", WRAP, {**BOLD, "fontsize": "15pt"}),
        _cell_style("Heading", TOP, {**BOLD, "fontsize": "13pt"}),
        _cell_style("Warning", WRAP, BOLD),
        _cell_style("Warning_line", None, BOLD),
        _cell_style("Line", None),
        _cell_style("Header", WRAP, BOLD),
        _cell_style("Text", {**TOP, "paddingleft": "0.2cm"}),
        _cell_style("Wrapped", {**WRAP, "paddingleft": "0.2cm"}),
        _cell_style("Link", TOP, LINK),
        _cell_style("General", TOP),
        _cell_style("Shorthand", {**TOP, "textalignsource": "fix"}, align="end"),
    ]
    for kind, places in DECIMALS.items():
        data = NumberStyle(name=f"N_{kind}")
        data.addElement(Number(decimalplaces=places, minintegerdigits=1,
                               grouping="true" if kind in {"count", "decimal"} else "false"))
        doc.styles.addElement(data)
        cell_styles.append(_cell_style(NUMBER_STYLES[kind], TOP, datastylename=f"N_{kind}"))
    default = DefaultStyle(family="table-cell")
    default.addElement(TextProperties(fontfamily="Arial", fontsize="11pt"))  # as the .xlsx
    doc.styles.addElement(default)
    for style in cell_styles:
        doc.styles.addElement(style)
    for scale in scales:
        layout = PageLayout(name=f"landscape_{scale}")
        layout.addElement(PageLayoutProperties(printorientation="landscape", pagewidth="29.7cm", pageheight="21cm",
                                               margin="1.8cm", scaleto=f"{scale}%",
                                               printpageorder="ltr"))
        doc.automaticstyles.addElement(layout)
        doc.masterstyles.addElement(MasterPage(name=f"Landscape_{scale}", pagelayoutname=layout))


def _add_meta(doc: OpenDocumentSpreadsheet, model: WorkbookModel) -> None:
    props = model.properties
    stamp = props.timestamp.strftime("%Y-%m-%dT%H:%M:%S")
    doc.meta.addElement(dc.Title(text=props.title))
    doc.meta.addElement(dc.Subject(text=props.subject))
    doc.meta.addElement(dc.Description(text=props.description))
    doc.meta.addElement(dc.Creator(text=props.creator))
    doc.meta.addElement(meta.InitialCreator(text=props.creator))
    doc.meta.addElement(dc.Language(text="en-GB"))
    doc.meta.addElement(meta.CreationDate(text=stamp))
    doc.meta.addElement(dc.Date(text=stamp))
    for keyword in (k.strip() for k in props.keywords.split(",")):
        doc.meta.addElement(meta.Keyword(text=keyword))
    doc.meta.addElement(meta.UserDefined(name="Company", text=props.company))


# ---------------------------------------------------------------------------------------------
# The sheets, streamed
# ---------------------------------------------------------------------------------------------


def _spaced(text: str) -> str:
    """Escaped paragraph text, keeping runs of spaces and tabs (ODF collapses plain whitespace)."""
    out = escape(text).replace("\t", "<text:tab/>")
    out = re.sub(r"  +", lambda m: " " + f'<text:s text:c="{len(m.group()) - 1}"/>', out)
    if out.startswith(" "):
        out = '<text:s/>' + out[1:]
    return out


def _paragraphs(text: str, link: str | None = None) -> str:
    """text:p elements for a text; each line its own paragraph."""
    parts = []
    for line in text.split("\n"):
        body = _spaced(line)
        if link:
            body = f"<text:a xlink:type=\"simple\" xlink:href={quoteattr(link)}>{body}</text:a>"
        parts.append(f"<text:p>{body}</text:p>")
    return "".join(parts)


class _Cells:
    """String cells, each distinct (text, style) built once: most of a table's texts repeat."""

    def __init__(self) -> None:
        self.built: dict[tuple[str, str | None], str] = {}

    def text(self, text: Any, style: str | None, link: str | None = None) -> str:
        """A string cell; without a style it takes its column's default cell style."""
        if link is None and type(text) is str:
            key = (text, style)
            found = self.built.get(key)
            if found is None:
                found = self.built[key] = self._build(text, style, None)
            return found
        return self._build(text, style, link)

    @staticmethod
    def _build(text: Any, style: str | None, link: str | None) -> str:
        value = clean_text(text)
        if not value:
            return EMPTY
        style_attribute = f' table:style-name="{style}"' if style else ""
        return (f'<table:table-cell{style_attribute} office:value-type="string">'
                f"{_paragraphs(value, link)}</table:table-cell>")


def _number_cell(value: Any) -> str:
    """A float cell in its column's default (number) style, or an empty cell when there is no value."""
    if value is None:
        return EMPTY
    text = repr(value) if isinstance(value, float) else str(value)
    return f'<table:table-cell office:value-type="float" office:value="{text}"/>'


def _column_cells(values: tuple[Any, ...], numeric: bool, cells: _Cells) -> list[str]:
    """The body cells of one column, each distinct value built once.

    Values are looked up by equality, so 1 and 1.0 share a cell: both are the number 1 (and in a text column
    both read "1").
    """
    if numeric:
        built = {v: cells.text(v, "Shorthand") if isinstance(v, str) else _number_cell(v) for v in set(values)}
    else:
        built = {v: cells.text(v, None) for v in set(values)}
    return list(map(built.__getitem__, values))


_REPEATED: dict[tuple[str, int], str] = {}


def _repeated(cell: str, count: int) -> str:
    """A cell written once for `count` equal neighbours (table:number-columns-repeated)."""
    if count == 1:
        return cell
    key = (cell, count)
    found = _REPEATED.get(key)
    if found is None:
        if len(_REPEATED) > 100_000:
            _REPEATED.clear()
        found = _REPEATED[key] = cell.replace("<table:table-cell",
                                              f'<table:table-cell table:number-columns-repeated="{count}"', 1)
    return found


def _row(cells: Iterable[str], height_style: str | None) -> str:
    """A table row: runs of equal cells written once, trailing empty cells left out."""
    out = []
    previous, count = EMPTY, 0
    for cell in cells:
        if cell is previous or cell == previous:
            count += 1
            continue
        if count:
            out.append(_repeated(previous, count))
        previous, count = cell, 1
    if count and previous != EMPTY:
        out.append(_repeated(previous, count))
    style = f' table:style-name="{height_style}"' if height_style else ""
    return f"<table:table-row{style}>{''.join(out) or EMPTY}</table:table-row>"


class _Layout:
    """Column, row and table styles (automatic styles), one per distinct width, height or print scale."""

    def __init__(self) -> None:
        self.columns: dict[str, str] = {}
        self.rows: dict[str, str] = {}
        self.tables: dict[str, str] = {}

    def column(self, width_chars: float) -> str:
        name = f"co_{int(round(width_chars * 10))}"
        self.columns.setdefault(name, f'<style:style style:name="{name}" style:family="table-column">'
                                      f'<style:table-column-properties style:column-width='
                                      f'"{width_chars * CM_PER_CHARACTER:.2f}cm"/></style:style>')
        return name

    def row(self, points: float) -> str:
        name = f"ro_{int(round(points * 10))}"
        self.rows.setdefault(name, f'<style:style style:name="{name}" style:family="table-row">'
                                   f'<style:table-row-properties style:row-height="{points:.1f}pt" '
                                   f'style:use-optimal-row-height="false"/></style:style>')
        return name

    def table(self, scale: int) -> str:
        name = f"sheet_{scale}"
        self.tables.setdefault(name, f'<style:style style:name="{name}" style:family="table" '
                                     f'style:master-page-name="Landscape_{scale}">'
                                     '<style:table-properties table:display="true"/></style:style>')
        return name

    def xml(self) -> str:
        return "".join(self.tables[k] for k in sorted(self.tables)) + \
            "".join(self.columns[k] for k in sorted(self.columns)) + "".join(self.rows[k] for k in sorted(self.rows))


def _line_style(line_style: str, cover: bool, link: bool) -> str:
    if link:
        return "Link"
    if line_style == "heading":
        return "Heading"
    if line_style == "warning":
        return "Warning" if cover else "Warning_line"
    return "Wrapped" if cover else "Line"


def _columns_xml(widths: list[float], key_columns: tuple[int, int] | None, layout: _Layout,
                 cell_styles: list[str] | None = None) -> str:
    """Column definitions, each with its body cells' default style; the key columns wrapped as header columns
    (repeated on every printed page)."""
    out = []
    for j, width in enumerate(widths):
        if key_columns and j == key_columns[0]:
            out.append("<table:table-header-columns>")
        default = f' table:default-cell-style-name="{cell_styles[j]}"' if cell_styles else ""
        out.append(f'<table:table-column table:style-name="{layout.column(width)}"{default}/>')
        if key_columns and j == key_columns[1]:
            out.append("</table:table-header-columns>")
    return "".join(out)


def _sheet_xml(sheet: Sheet, size: SheetLayout, layout: _Layout, cells: _Cells) -> Iterator[str]:
    """The table:table element of one sheet, in pieces."""
    def height(number: int) -> str | None:
        return layout.row(size.heights[number]) if number in size.heights else None

    styles = [NUMBER_STYLES[c.kind] if c.numeric else "Wrapped" if c.kind == "wrap" else "Text"
              for c in sheet.columns]
    yield f'<table:table table:name={quoteattr(sheet.name)} table:style-name="{layout.table(size.scale)}">'
    yield _columns_xml(size.widths, sheet.key_columns if sheet.columns else None, layout, styles or None)
    cover = not sheet.columns  # the cover's lines wrap in one wide column; above a table they run on
    yield _row([cells.text(sheet.title, "Cover_title" if cover else "Title")], height(1))
    for number, line in enumerate(sheet.lines, start=2):
        yield _row([cells.text(line.text, _line_style(line.style, cover, bool(line.link)), line.link)],
                   height(number))
    if not sheet.columns:
        yield "</table:table>"
        return
    header = _row([cells.text(c.header, "Header") for c in sheet.columns], height(sheet.header_row))
    yield f"<table:table-header-rows>{header}</table:table-header-rows>"
    columns = [_column_cells(values, c.kind in NUMBER_KINDS, cells)
               for values, c in zip(zip(*sheet.rows), sheet.columns)]
    for index, row in enumerate(zip(*columns)):
        if index in sheet.links:
            row = (cells.text(sheet.rows[index][0], "Link", f"#{sheet.links[index]}.A1"), *row[1:])
        yield _row(row, height(sheet.header_row + 1 + index))
    yield "</table:table>"


def _column_letters(number: int) -> str:
    letters = ""
    while number:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _database_ranges(model: WorkbookModel) -> str:
    """Each table as a named database range with filter buttons (the ODF counterpart of an Excel table)."""
    ranges = []
    for sheet in model.sheets:
        if sheet.table_name:
            last = _column_letters(len(sheet.columns))
            target = f"{sheet.name}.A{sheet.header_row}:{sheet.name}.{last}{sheet.last_row}"
            ranges.append(f'<table:database-range table:name={quoteattr(sheet.table_name)} '
                          f'table:target-range-address={quoteattr(target)} table:contains-header="true" '
                          'table:display-filter-buttons="true"/>')
    return f"<table:database-ranges>{''.join(ranges)}</table:database-ranges>"


def _content_pieces(model: WorkbookModel, sizes: list[SheetLayout]) -> Iterator[bytes]:
    """content.xml in UTF-8 pieces of a few hundred rows: automatic styles, then every sheet."""
    layout, cells = _Layout(), _Cells()
    body = [piece for sheet, size in zip(model.sheets, sizes) for piece in _sheet_xml(sheet, size, layout, cells)]
    declarations = " ".join(f'xmlns:{prefix}="{uri}"' for prefix, uri in NAMESPACES.items())
    yield ('<?xml version="1.0" encoding="UTF-8"?>\n'
           f'<office:document-content {declarations} office:version="1.2">'
           f"<office:automatic-styles>{layout.xml()}</office:automatic-styles>"
           "<office:body><office:spreadsheet>").encode("utf-8")
    for start in range(0, len(body), PIECE_ROWS):
        yield "".join(body[start:start + PIECE_ROWS]).encode("utf-8")
    yield (f"{_database_ranges(model)}</office:spreadsheet></office:body>"
           "</office:document-content>").encode("utf-8")


def content_xml(model: WorkbookModel, sizes: list[SheetLayout]) -> bytes:
    """content.xml: automatic styles and every sheet."""
    return b"".join(_content_pieces(model, sizes))


def render_ods(model: WorkbookModel, layouts: list[SheetLayout] | None = None) -> bytes:
    """The workbook as .ods bytes; the same model always gives the same bytes."""
    layouts = layouts or sheet_layouts(model.sheets)
    _canonical_namespaces()
    doc = OpenDocumentSpreadsheet()
    _add_styles(doc, sorted({size.scale for size in layouts}))
    _add_meta(doc, model)
    buffer = io.BytesIO()
    doc.write(buffer)
    # Compressed piece by piece: the whole text (about 100 MB) is never joined and encoded at once.
    return deterministic_zip(buffer.getvalue(), model.properties.timestamp,
                             {"content.xml": _content_pieces(model, layouts)})
