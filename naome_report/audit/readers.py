"""Every public output format as tables and text for the audit rules: CSV, XLSX, ODS, HTML, SVG, PDF, JSON, text."""

from __future__ import annotations

import bisect
import csv
import functools
import itertools
import json
import re
import shutil
import subprocess
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from html import unescape as html_unescape
from pathlib import Path

from lxml import etree

from naome_report.audit.rules import NUMBER_IDENTIFIER_DIGITS, is_count_header, small_whole_number

# Text attributes that readers see: alternative text, accessible names, tooltips, chart data.
TEXT_ATTRIBUTES = ("alt", "title", "aria-label", "aria-description", "summary")
_XLSX = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_ODS_TABLE = "{urn:oasis:names:tc:opendocument:xmlns:table:1.0}"
_ODS_OFFICE = "{urn:oasis:names:tc:opendocument:xmlns:office:1.0}"
_MAX_REPEAT = 1024  # an ODS row or cell repeated more than this is trailing filler


class UnreadableOutput(Exception):
    """A public file the audit cannot read (it is reported, never skipped)."""


@dataclass
class Table:
    """A header and its rows, with where they are (sheet, table number) and the number of the first row."""

    where: str
    header: list[object]
    rows: list[list[object]]
    first_row: int = 2
    row_numbers: list[int] | None = None  # when only some rows are kept: the number of each


@dataclass
class Content:
    """What a reader of one file sees."""

    tables: list[Table] = field(default_factory=list)
    texts: list[tuple[str, str]] = field(default_factory=list)  # (where, text): running text, labels, alt texts
    raw: str = ""  # everything, for identifiers
    json_counts: list[tuple[str, object]] = field(default_factory=list)  # (key path, value) of JSON count keys


def read_content(path: Path) -> Content:
    """The tables and text of one public file, by its format."""
    suffix = path.suffix.lower()
    try:
        return READERS.get(suffix, _plain_text)(path)
    except UnreadableOutput:
        raise
    except (OSError, ValueError, KeyError, zipfile.BadZipFile, etree.LxmlError) as exc:
        raise UnreadableOutput(f"{type(exc).__name__}: {exc}") from None


def _csv(path: Path) -> Content:
    """The rows holding a whole number from 1 to 4 in a column headed as a count (the only ones the count rule
    reads), and every distinct text cell."""
    reader = csv.reader(path.read_bytes().decode("utf-8-sig", errors="replace").splitlines())
    header = next(reader, [])
    if not header:
        return Content()
    records = list(reader)
    words = set(filter(_read_as_text, set(itertools.chain.from_iterable(records))))
    rows, numbers = [], []
    columns = [i for i, h in enumerate(header) if is_count_header(h, path.name)]
    for number, row in enumerate(records if columns else (), start=2):
        if any(i < len(row) and _SMALL_TEXT.match(row[i]) for i in columns):
            rows.append(row)
            numbers.append(number)
    joined = "\n".join(sorted(words))
    return Content(tables=[Table("", header, rows, row_numbers=numbers)], texts=[("", joined)], raw=joined)


_SMALL_TEXT = re.compile(r"^\s*[1-4](?:\.0+)?\s*$")


_NUMBER_TEXT = re.compile(r"^\s*[-+]?(?:\d[\d,]*\.?\d*|\.\d+)(?:[eE][-+]?\d+)?\s*$")


def _numeric(value: str) -> bool:
    # Digits with at most one '.' among them always match the pattern: most cells, told without a regex call.
    return value.replace(".", "", 1).isdecimal() or bool(_NUMBER_TEXT.match(value))


# A whole number as long as a number identifier is read as text too: it may be one (an NHS number, say).
_LONG = NUMBER_IDENTIFIER_DIGITS
_LONG_WHOLE_NUMBER = re.compile(rf"^\s*(\d{{{_LONG},}})(?:\.0+)?\s*$")


def _read_as_text(value: str) -> bool:
    """Whether the text rules read a cell: every cell but numbers, and numbers that could be identifiers."""
    return bool(value) and (not _numeric(value) or (len(value) >= _LONG and _LONG_WHOLE_NUMBER.match(value) is not None))


# A row of text and shorthand ("[c]" for a suppressed value) is data, not a new table's header: taken as a
# header, it would hide the small counts in the rows under it.
_SHORTHAND = re.compile(r"^\[[a-z]{1,5}\]$")


def _header_like(cells: list[object]) -> bool:
    values = [c for c in cells if c not in (None, "")]
    return len(values) >= 2 and all(isinstance(c, str) and not _numeric(c) and not _SHORTHAND.match(c) for c in values)


def _tables_from_rows(where: str, rows: Iterator[list[object]]) -> list[Table]:
    """Split a sheet into tables at every header-like row."""
    tables: list[Table] = []
    current: Table | None = None
    for number, row in enumerate(rows, start=1):
        if _header_like(row):
            current = Table(f"{where}, row {number}", row, [], number + 1)
            tables.append(current)
        elif current is not None:
            current.rows.append(row)
    return tables


# The spreadsheets are read with regular expressions over their XML: a workbook has hundreds of
# thousands of cells, and an XML parser's per-element objects took seconds where this takes a fraction.
_XLSX_ROW_START = re.compile(rb"<row\b[^>]*?(/?)>")
_XLSX_CELL = re.compile(rb'<c\b([^>]*?)(?:/>|>(.*?)</c>)', re.S)
_XLSX_ATTR = re.compile(rb'\b(r|t)="([^"]*)"')
_XLSX_VALUE = re.compile(rb"<v>([^<]*)</v>")
_XML_TAG = re.compile(rb"<[^>]+>")
_XLSX_SMALL_VALUE = re.compile(rb"<v>[1-4](?:\.0+)?</v>")
_XLSX_SMALL_NUMBER = re.compile(rb'<c\b(?:(?!t="(?:s|str|b|e|inlineStr)")[^>])*><v>[1-4](?:\.0+)?</v>')
_XLSX_NUMBER = re.compile(rb'<c\b(?:(?!t="(?:s|str|b|e|inlineStr)")[^>])*>(?:<f>[^<]*</f>)?<v>')
_XLSX_INLINE = re.compile(rb"<is>(.*?)</is>", re.S)
_XLSX_LONG_NUMBER = re.compile(rb"<v>(\d{%d,})(?:\.0+)?</v>" % _LONG)  # a number cell that could be an identifier
# A cell that may hold a count from 1 to 4, as a number or as text (two patterns: each opens with its own
# literal, which the regex engine finds three times faster than either of an alternation); a cell holding a number.
_ODS_SMALL_CELL = (re.compile(rb'office:value="[1-4](?:\.0+)?"'), re.compile(rb"<text:p>\s*[1-4](?:\.0+)?\s*</text:p>"))
_ODS_NUMBER = re.compile(rb'office:value-type="(?:float|percentage|currency)"')


def _xml_text(data: bytes) -> str:
    return html_unescape(_XML_TAG.sub(b"", data).decode("utf-8", errors="replace"))


def _xlsx(path: Path) -> Content:
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        shared = []
        if "xl/sharedStrings.xml" in names:
            root = etree.fromstring(archive.read("xl/sharedStrings.xml"))
            shared = ["".join(si.itertext()) for si in root.iter(f"{_XLSX}si")]
        titles = _sheet_titles(archive)
        tables = []
        inline: set[str] = set()
        numbers: set[str] = set()  # number cells that could be identifiers
        small_text = any(map(small_whole_number, shared))
        for name in sorted(n for n in names if n.startswith("xl/worksheets/sheet") and n.endswith(".xml")):
            data = archive.read(name)
            texts = [_xml_text(m) for m in _XLSX_INLINE.findall(data)]
            inline.update(texts)
            numbers.update(m.decode() for m in _XLSX_LONG_NUMBER.findall(data))
            sheet_small_text = small_text or any(map(small_whole_number, texts))
            small = _xlsx_small_numbers(data)
            if not sheet_small_text and not small:  # no cell holds 1 to 4
                continue
            tables += _tables_from_rows(f"sheet {titles.get(name, name)!r}",
                                        _xlsx_rows(data, shared, None if sheet_small_text else small))
    words = set(filter(_read_as_text, (*shared, *inline))) | numbers
    return Content(tables=tables, texts=[("", "\n".join(sorted(words)))], raw="\n".join(sorted(words)))


def _sheet_titles(archive: zipfile.ZipFile) -> dict[str, str]:
    """Worksheet part name -> sheet title, from the workbook and its relationships."""
    try:
        book = etree.fromstring(archive.read("xl/workbook.xml"))
        rels = etree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    except KeyError:
        return {}
    target = {r.get("Id"): "xl/" + r.get("Target").lstrip("/").removeprefix("xl/") for r in rels}
    rid = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
    return {target.get(s.get(rid), ""): s.get("name") for s in book.iter(f"{_XLSX}sheet")}


def _xlsx_small_numbers(data: bytes) -> list[int]:
    """Where each number cell holding 1 to 4 starts (what _XLSX_SMALL_NUMBER finds, found from its value)."""
    found = []
    for value in _XLSX_SMALL_VALUE.finditer(data):
        cell = data.rfind(b"<", 0, value.start())
        if cell >= 0 and _XLSX_SMALL_NUMBER.match(data, cell):
            found.append(cell)
    return found


def _xlsx_rows(data: bytes, shared: list[str], small: list[int] | None = None) -> Iterator[list[object]]:
    """Each row's cells; given where the cells from 1 to 4 are (`small`), a row with a number but none of
    those (no header, nothing to find) as []."""
    position = 0
    while row := _XLSX_ROW_START.search(data, position):
        if row.group(1):  # <row .../>: no cells
            body = b""
            position = row.end()
        else:
            end = data.find(b"</row>", row.end())
            end = len(data) if end < 0 else end
            body, position = data[row.end():end], end + len(b"</row>")
            if small is not None:
                next_small = bisect.bisect_left(small, row.end())
                if (next_small == len(small) or small[next_small] >= end) and _XLSX_NUMBER.search(body):
                    yield []
                    continue
        cells: list[object] = []
        for cell in _XLSX_CELL.finditer(body):
            attrs = dict(_XLSX_ATTR.findall(cell.group(1)))
            column = _column_index(attrs.get(b"r", b"").decode())
            while column is not None and len(cells) < column:
                cells.append(None)
            inner = cell.group(2) or b""
            value = _XLSX_VALUE.search(inner)
            kind = attrs.get(b"t")
            if kind == b"s" and value:
                cells.append(shared[int(value.group(1))])
            elif kind == b"inlineStr":
                cells.append(_xml_text(inner))
            elif kind in (b"str", b"b", b"e"):
                cells.append(html_unescape(value.group(1).decode()) if value else None)
            elif value:
                number = float(value.group(1))
                cells.append(int(number) if number.is_integer() else number)
            else:
                cells.append(None)
        yield cells


def _column_index(reference: str) -> int | None:
    index = 0
    for ch in reference:
        if not ch.isalpha():
            break
        index = index * 26 + ord(ch.upper()) - 64
    return index - 1 if index else None


_ODS_TABLE_START = re.compile(rb"<table:table(?=[\s>/])([^>]*)>")
_ODS_TABLE_NAME = re.compile(rb'table:name="([^"]*)"')
_ODS_ROW_START = re.compile(rb"<table:table-row(?=[\s>/])([^>]*?)(/?)>")
_ODS_ROW_END = b"</table:table-row>"
_ODS_ROWS_REPEATED = re.compile(rb'table:number-rows-repeated="(\d+)"')
_ODS_CELL = re.compile(rb"<table:(?:covered-)?table-cell\b([^>]*?)(?:/>|>(.*?)</table:(?:covered-)?table-cell>)", re.S)
_ODS_ATTR = re.compile(rb'\b(office:value-type|office:value|table:number-columns-repeated)="([^"]*)"')
# "(.*?)</text:p>" written out: up to the first "</text:p>" without a lazy step at each character (a third faster).
_ODS_PARAGRAPH = re.compile(rb"<text:p\b[^>]*?(?:/>|>([^<]*(?:<(?!/text:p>)[^<]*)*)</text:p>)")


_ODS_LONG_NUMBER = re.compile(rb'office:value="(\d{%d,})(?:\.0+)?"' % _LONG)


def _ods(path: Path) -> Content:
    with zipfile.ZipFile(path) as archive:
        data = archive.read("content.xml")
    tables = []
    position = 0
    while table := _ODS_TABLE_START.search(data, position):
        end = len(data) if table.group(1).endswith(b"/") else data.find(b"</table:table>", table.end())
        end = len(data) if end < 0 else end
        position = end
        small = sorted(m.start() for pattern in _ODS_SMALL_CELL for m in pattern.finditer(data, table.end(), end))
        if not small:  # no cell holds 1 to 4
            continue
        name = _ODS_TABLE_NAME.search(table.group(1))
        title = html_unescape(name.group(1).decode("utf-8", errors="replace")) if name else ""
        tables += _tables_from_rows(f"sheet {title!r}", _ods_rows(data, table.end(), end, small))
    # Distinct paragraphs first (a million cells repeat a few thousand texts), then their text.
    words = set(filter(_read_as_text, map(_xml_text, set(_ODS_PARAGRAPH.findall(data)))))
    words.update(m.decode() for m in _ODS_LONG_NUMBER.findall(data))  # a number cell's value, shown or not
    return Content(tables=tables, texts=[("", "\n".join(sorted(words)))], raw="\n".join(sorted(words)))


def _ods_rows(data: bytes, start: int, end: int, small: list[int]) -> Iterator[list[object]]:
    """Each row's cells between `start` and `end` (a repeated row as often as it repeats, up to _MAX_REPEAT);
    a row with a number but no cell from 1 to 4 (`small`: where those cells start) as [], as it can be
    neither a header nor a leak."""
    position = start
    while row := _ODS_ROW_START.search(data, position, end):
        if row.group(2):  # <table:table-row .../>: no cells
            body_start = body_end = position = row.end()
        else:
            body_start, body_end = row.end(), data.find(_ODS_ROW_END, row.end(), end)
            body_end = end if body_end < 0 else body_end
            position = body_end + len(_ODS_ROW_END)
        repeated = _ODS_ROWS_REPEATED.search(row.group(1))
        repeat = min(int(repeated.group(1)), _MAX_REPEAT) if repeated else 1
        next_small = bisect.bisect_left(small, body_start)
        if (next_small == len(small) or small[next_small] >= body_end) and \
                _ODS_NUMBER.search(data, body_start, body_end):
            cells: list[object] = []
        else:
            cells = _ods_cells(data[body_start:body_end])
        for _ in range(repeat):
            yield cells


def _ods_cells(body: bytes) -> list[object]:
    """The values of one row's cells, a repeated cell as often as it repeats (up to _MAX_REPEAT)."""
    cells: list[object] = []
    for cell in _ODS_CELL.finditer(body):
        attrs = dict(_ODS_ATTR.findall(cell.group(1)))
        repeat = min(int(attrs.get(b"table:number-columns-repeated", b"1")), _MAX_REPEAT)
        value: object
        if attrs.get(b"office:value-type") in (b"float", b"percentage", b"currency"):
            number = float(attrs[b"office:value"])
            value = int(number) if number.is_integer() else number
        else:
            paragraphs = [_xml_text(p.group(1) or b"") for p in _ODS_PARAGRAPH.finditer(cell.group(2) or b"")]
            value = "\n".join(paragraphs) or None
        cells += [value] * repeat
    return cells


# HTML is read with regular expressions: the pages are generated, well formed, and several hundred of
# them are read on every audit (an element tree cost ten times as much).
_HTML_SCRIPT = re.compile(r"<(script|style)\b[^>]*>(.*?)</\1\s*>", re.S | re.I)
_HTML_COMMENT = re.compile(r"<!--.*?-->", re.S)
_HTML_TABLE = (re.compile(r"<table\b[^>]*>", re.I), re.compile(r"</table\s*>", re.I))
_HTML_CAPTION = re.compile(r"<caption\b[^>]*>(.*?)</caption\s*>", re.S | re.I)
_HTML_ROW = (re.compile(r"<tr\b[^>]*>", re.I), re.compile(r"</tr\s*>", re.I))
_HTML_CELL = re.compile(r"<t[hd]\b[^>]*>(.*?)</t[hd]\s*>", re.S | re.I)
_BLOCK_TAGS = ("p li td th tr table caption figcaption h1 h2 h3 h4 h5 h6 dt dd div section article header footer nav "
               "main aside blockquote pre summary label option button title body ul ol dl figure br hr").split()
_HTML_BLOCK = re.compile(rf"</?(?:{'|'.join(_BLOCK_TAGS)})\b[^>]*>", re.I)
# Case-sensitive, the same pattern takes half the time. It finds the same tags unless a tag name opens with
# a block tag's first letters and then has a letter that matches one of them only ignoring case: an upper-case
# letter, or one of the four others that Python matches to a-z ignoring case ("<P>", "<Table", not "<clipPath").
_HTML_BLOCK_LOWER = re.compile(_HTML_BLOCK.pattern)
_CASED_TAG = re.compile(r"</?([a-z0-9]*)[A-Z\u0130\u0131\u017f\u212a]")
_BLOCK_PREFIXES = frozenset(tag[:k] for tag in _BLOCK_TAGS for k in range(len(tag)))
_HTML_TAG = re.compile(r"<[^>]*>")
_HTML_ATTRIBUTE = re.compile(r"\s(alt|title|aria-label|aria-description|summary|data-[\w-]+)\s*=\s*(?:\"([^\"]*)\"|'([^']*)')",
                             re.I)
_HTML_LINK = re.compile(r"\s(?:href|src)\s*=\s*(?:\"([^\"]*)\"|'([^']*)')", re.I)
# Both in one pass (group 1 is None for a link), and only from white space before a name's first letter.
_HTML_ATTRIBUTE_OR_LINK = re.compile(r"\s(?=[atsdh])(?:(alt|title|aria-label|aria-description|summary|data-[\w-]+)|"
                                     r"href|src)\s*=\s*(?:\"([^\"]*)\"|'([^']*)')", re.I)


# The start of an attribute-or-link match (white space, name, '='): a value holding one may hide another match.
_HTML_NAME_EQUALS = re.compile(r"\s(?=[atsdh])(?:alt|title|aria-label|aria-description|summary|data-[\w-]+|href|src)\s*=",
                               re.I)


def _attributes_and_links(body: str) -> tuple[str, list[str]]:
    """The text attributes (decoded, one a line) and the link targets of a page, each in the order they come."""
    # findall, and one html_unescape over the joined values (no character reference spans a line break, so
    # they decode as they do one by one): a Python step for each of a million matches cost more.
    found = _HTML_ATTRIBUTE_OR_LINK.findall(body)
    values = [double or single for _, double, single in found]  # the quotes that took part ('' when neither)
    # One pass finds what two separate passes find unless a value holds another name=: then two passes. Such
    # a match starts inside the value, and its name and '=' lie within it (the closing quote ends the name).
    if any("=" in value and _HTML_NAME_EQUALS.search(value) for value in values):
        return ("\n".join(html_unescape(m.group(2) if m.group(2) is not None else m.group(3))
                          for m in _HTML_ATTRIBUTE.finditer(body)),
                [m.group(1) if m.group(1) is not None else m.group(2) for m in _HTML_LINK.finditer(body)])
    attributes = "\n".join(value for (name, _, _), value in zip(found, values) if name)
    return html_unescape(attributes), [value for (name, _, _), value in zip(found, values) if not name]


_HTML_SMALL_CELL = re.compile(r">\s*[1-4](?:\.0+)?\s*<")


def _inner(element: tuple[re.Pattern, re.Pattern], text: str) -> list[str]:
    """What lies inside each element of `text` (its opening and closing tags): what "<tag>(.*?)</tag>" finds,
    found from tag to tag, as a lazy regex tries every character between them (six times slower)."""
    opening, closing = element
    found, position = [], 0
    while start := opening.search(text, position):
        end = closing.search(text, start.end())
        if end is None:  # no closing tag after this one, so none after any later one either
            break
        found.append(text[start.end():end.start()])
        position = end.end()
    return found


def _inline_text(fragment: str) -> str:
    return " ".join(html_unescape(_HTML_TAG.sub(" ", fragment)).split())


def _html(path: Path) -> Content:
    page = path.read_text(encoding="utf-8", errors="replace")
    elements = list(_HTML_SCRIPT.finditer(page))
    scripts = [m.group(2) for m in elements if m.group(1).lower() == "script"]
    comments = [comment[4:-3] for comment in _HTML_COMMENT.findall(page)] if "<!--" in page else []
    if comments:
        body = _HTML_SCRIPT.sub(" ", _HTML_COMMENT.sub(" ", page))
    else:  # the scripts and styles just found, replaced by a space: what the sub would find again
        body = " ".join(page[start:end] for start, end in
                        zip([0, *(m.end() for m in elements)], [*(m.start() for m in elements), len(page)]))
    tables = []
    for number, table in enumerate(_inner(_HTML_TABLE, body), start=1):
        raw_rows = _inner(_HTML_ROW, table)
        header = [_inline_text(cell) for cell in _HTML_CELL.findall(raw_rows[0])] if raw_rows else []
        if not any(is_count_header(h) for h in header):  # no column of counts: nothing for the count rule
            continue
        # Only rows with a cell that may read 1 to 4 can hold a small count: the others are not split into cells.
        kept = [(n, [_inline_text(cell) for cell in _HTML_CELL.findall(row)])
                for n, row in enumerate(raw_rows[1:], start=2) if _HTML_SMALL_CELL.search(row) or "&#" in row]
        caption = _HTML_CAPTION.search(table)
        name = _inline_text(caption.group(1))[:60] if caption else f"table {number}"
        tables.append(Table(name, header, [cells for _, cells in kept], row_numbers=[n for n, _ in kept]))
    cased = any(m.group(1) in _BLOCK_PREFIXES for m in _CASED_TAG.finditer(body))
    blocks = (_HTML_BLOCK if cased else _HTML_BLOCK_LOWER).sub("\n", body)
    lines = [" ".join(html_unescape(line).split()) for line in _HTML_TAG.sub(" ", blocks).split("\n")]
    attributes, links = _attributes_and_links(body)
    counts, words = [], []
    for script in scripts:  # data embedded for the page's charts and search: checked like any JSON file
        try:
            found = _walk_json(json.loads(script))
        except ValueError:
            words.append(script)
        else:
            counts += found[0]
            words += found[1]
    texts = [("text", "\n".join(line for line in lines if line)), ("attributes", attributes),
             ("script", "\n".join(words))]
    if comments:  # not shown, but in the public file for anyone who opens it
        texts.append(("comments", "\n".join(comments)))
    return Content(tables=tables, texts=texts, raw="\n".join([*(text for _, text in texts), *links]),
                   json_counts=counts)


def _svg(path: Path) -> Content:
    root = etree.fromstring(path.read_bytes(), parser=etree.XMLParser(huge_tree=True, resolve_entities=False))
    words = [" ".join(t.split()) for t in root.itertext() if t.strip()]
    for element in root.iter():
        for name in TEXT_ATTRIBUTES:
            if element.get(name):
                words.append(element.get(name))
    text = "\n".join(words)
    return Content(texts=[("text", text)], raw=text)


def _plain_text(path: Path) -> Content:
    text = path.read_text(encoding="utf-8", errors="replace")
    return Content(texts=[("", text)], raw=text)


def _code(path: Path) -> Content:
    """Scripts and stylesheets: only identifiers and restricted content are looked for."""
    return Content(raw=path.read_text(encoding="utf-8", errors="replace"))


def _pdf(path: Path) -> Content:
    return pdf_content(pdf_text(path))


def pdf_content(text: str) -> Content:
    """What a reader of a PDF sees, from its text."""
    return Content(texts=[("", text)], raw=text)


class PdfText:
    """The text of a PDF from a pdftotext process started now and left to run: `result()` waits for it."""

    def __init__(self, tool: str, path: Path) -> None:
        self._out, self._err = tempfile.TemporaryFile(), tempfile.TemporaryFile()
        self._process = subprocess.Popen([tool, "-layout", "-enc", "UTF-8", str(path), "-"],
                                         stdin=subprocess.DEVNULL, stdout=self._out, stderr=self._err)

    def result(self) -> str:
        """The text as laid out on its pages, once pdftotext has finished."""
        with self._out, self._err:
            if self._process.wait() != 0:
                self._err.seek(0)
                raise UnreadableOutput(f"pdftotext failed: {self._err.read().decode(errors='replace').strip()[:200]}")
            self._out.seek(0)
            return self._out.read().decode("utf-8", errors="replace")


def start_pdf_text(path: Path) -> PdfText | None:
    """pdftotext started on `path` (None where poppler is missing)."""
    tool = shutil.which("pdftotext")
    return PdfText(tool, path) if tool else None


def pdf_text(path: Path) -> str:
    """The text of a PDF as laid out on its pages (poppler's pdftotext; pypdf where poppler is missing)."""
    started = start_pdf_text(path)
    if started is not None:
        return started.result()
    try:
        from pypdf import PdfReader
    except ImportError:
        raise UnreadableOutput("no PDF text extractor: install poppler-utils (pdftotext)") from None
    return "\n".join(page.extract_text(extraction_mode="layout") or "" for page in PdfReader(path).pages)


def _json(path: Path) -> Content:
    raw = path.read_text(encoding="utf-8", errors="replace")
    counts, words = _walk_json(json.loads(raw))
    return Content(texts=[("", "\n".join(words))], raw=raw, json_counts=counts)


def _walk_json(document: object) -> tuple[list[tuple[str, object]], list[str]]:
    """(key path, value) of every number, and every string, of a JSON document."""
    counts: list[tuple[str, object]] = []
    words: list[str] = []

    def walk(value: object, key: str) -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                walk(v, f"{key}.{k}" if key else str(k))
        elif isinstance(value, list):
            for i, v in enumerate(value):
                walk(v, f"{key}[{i}]")
        elif isinstance(value, str):
            words.append(value)
        else:
            counts.append((key, value))

    walk(document, "")
    return counts, words


_ID_HEADER = ("id", "identifier", "key", "record", "pseudonym")


@functools.cache
def _public_columns() -> frozenset[str]:
    """Columns the public data files carry (indicator_id, org_code...): their values are not secrets."""
    from naome_report.hub import FILES

    return frozenset(column for columns in FILES.values() for column in columns)


def _id_like_header(header: object) -> bool:
    name = str(header or "").strip().lower().replace(" ", "_")
    if name in _public_columns():
        return False
    return name.endswith("_id") or name in _ID_HEADER or name.endswith(("_identifier", "_key"))


def _csv_table(path: Path) -> Table:
    """Every row of a CSV file."""
    rows = list(csv.reader(path.read_text(encoding="utf-8-sig", errors="replace").splitlines()))
    return Table("", rows[0] if rows else [], rows[1:])


def read_restricted_identifiers(folder: Path) -> set[str]:
    """Every value of an identifier column (…_id, key, identifier) in the restricted outputs."""
    found: set[str] = set()
    if not folder.is_dir():
        return found
    for path in sorted(folder.rglob("*")):
        if not path.is_file() or path.suffix.lower() not in (".csv", ".xlsx", ".ods", ".html"):
            continue
        try:
            # CSV content is read for the count rule only (rows with a small number): identifiers need every row
            tables = [_csv_table(path)] if path.suffix.lower() == ".csv" else read_content(path).tables
        except (UnreadableOutput, OSError):
            continue
        for table in tables:
            columns = [i for i, h in enumerate(table.header) if _id_like_header(h)]
            for row in table.rows:
                for i in columns:
                    if i < len(row) and row[i]:
                        found.update(part.strip() for part in str(row[i]).split(","))
    return found


def read_extract_identifiers(extract_dir: Path) -> tuple[set[str], set[str]]:
    """Patient identifiers and record identifiers of the extract (its identifier columns only)."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    from naome_report.ingest.contract import INPUT_FILES

    patients: set[str] = set()
    records: set[str] = set()
    for spec in INPUT_FILES:
        columns = [f.name for f in spec.fields if f.kind == "id" and (f.unique or f.name == "patient_id")]
        if not columns:
            continue
        for path in (extract_dir / f"{spec.name}.csv", extract_dir / f"{spec.name}.parquet"):
            if not path.is_file():
                continue
            try:
                if path.suffix == ".csv":
                    table = pacsv.read_csv(path, convert_options=pacsv.ConvertOptions(
                        include_columns=columns, column_types={c: "string" for c in columns}))
                else:
                    table = pq.read_table(path, columns=columns)
            except Exception:  # noqa: BLE001  (a broken extract is the build's problem, not the audit's)
                continue
            for column in columns:
                values = pc.unique(table.column(column))  # patient_id repeats in every table but one
                if pa.types.is_string(values.type) or pa.types.is_large_string(values.type):
                    found = set(values.to_pylist())
                    found.difference_update((None, ""))
                else:
                    found = {str(v) for v in values.to_pylist() if v}
                (patients if column == "patient_id" else records).update(found)
    return patients, records


READERS = {".csv": _csv, ".xlsx": _xlsx, ".ods": _ods, ".html": _html, ".htm": _html, ".svg": _svg, ".pdf": _pdf,
           ".json": _json, ".js": _code, ".css": _code, ".txt": _plain_text, ".md": _plain_text}
READABLE = set(READERS)
