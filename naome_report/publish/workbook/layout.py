"""How big a sheet is on screen and on paper: column widths, wrapped row heights and the print scale."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from typing import Any

from naome_report.publish.workbook.model import Column, Sheet

LINE_POINTS = 15.0
TITLE_POINTS = 21.0
COVER_WIDTH = 100.0
CHARACTERS_PER_WIDTH = 1.1  # average text characters per unit of column width (the width of a zero)
# A4 landscape less 0.7-inch side margins, and what one unit of column width takes on paper at 100% in
# 11-point Arial, the sheets' font: Excel draws it 8 pixels wide at 96 dpi (2.1 mm), LibreOffice about 2.6 mm;
# the larger keeps a sheet on its page in both.
PRINTABLE_MM = 297 - 2 * 17.8
MM_PER_WIDTH, MM_PER_COLUMN = 2.6, 5 * 25.4 / 96
MIN_PRINT_SCALE = 80  # below this, 11-point text prints smaller than 9 points: print on more pages instead


def _display(value: Any, column: Column) -> str:
    """Roughly how a value is shown, to size its column."""
    if value is None:
        return ""
    if column.numeric and isinstance(value, (int, float)):
        decimals = {"count": 0, "percent": 1, "ratio": 2, "decimal": 1}.get(column.kind, 2)
        return f"{value:,.{decimals}f}"
    return str(value)


def _longest_display(values: list[Any], column: Column) -> int:
    """The length of the longest `_display` of a column's values, without formatting every one of them.

    A number shown to fixed decimals never gets shorter as its size grows, so among the numbers only the
    largest and the most negative can be the longest; repeated texts are measured once.
    """
    if not values:
        return 0
    if bool not in set(map(type, values)):
        # min and max return the first of equal values (0.0 or -0.0, 1 or 1.0), so only the first-seen of
        # each value can count: the distinct values, in first-seen order, give the same length. True == 1
        # but is not a number here, hence not with booleans.
        values = list(dict.fromkeys(values))
    numbers = [v for v in values if isinstance(v, (int, float)) and not isinstance(v, bool) and v == v]
    others = {str(v) for v in values if not (isinstance(v, (int, float)) and not isinstance(v, bool) and v == v)}
    longest = max((len(_display(v, column)) for v in (min(numbers), max(numbers))), default=0) if numbers else 0
    return max([longest, *(len(t) for t in others)])


def column_widths(sheet: Sheet) -> list[float]:
    """Width of each column in characters: the given width, else fitted to header and content."""
    if not sheet.columns:
        return [COVER_WIDTH]
    widths = []
    for j, column in enumerate(sheet.columns):
        if column.width:
            widths.append(column.width)
            continue
        longest_word = max((len(w) for w in column.header.split()), default=8)
        content = _longest_display([row[j] for row in sheet.rows], column)
        header_width = min(len(column.header), max(14, longest_word))
        widths.append(float(min(45, max(8, header_width, content) + 2)))
    return widths


_LINES_CACHE: dict[tuple[str, float], int] = {}


def lines_needed(text: str, width: float) -> int:
    """How many lines a wrapped text takes in a column of this width (characters); each text measured once."""
    key = (text, width)
    found = _LINES_CACHE.get(key)
    if found is None:
        usable = max(int(width * CHARACTERS_PER_WIDTH) - 2, 4)
        found = sum(1 if len(part) <= usable and "\t" not in part else max(1, len(textwrap.wrap(part, usable)))
                    for part in str(text).split("\n"))
        if len(_LINES_CACHE) > 100_000:
            _LINES_CACHE.clear()
        _LINES_CACHE[key] = found
    return found


def row_heights(sheet: Sheet, widths: list[float]) -> dict[int, float]:
    """Heights (points) of the rows that need more than one line, by 1-based row number, the title included.

    Spreadsheet programs do not all re-fit row heights on opening a file, so wrapped rows get an explicit height.
    """
    heights: dict[int, float] = {1: TITLE_POINTS}
    if not sheet.columns:  # the cover: wrapped lines in one wide column
        heights[1] = TITLE_POINTS * lines_needed(sheet.title, COVER_WIDTH * 0.7)
        for i, line in enumerate(sheet.lines, start=2):
            scale = 1.2 if line.style == "heading" else 1.0
            lines = lines_needed(line.text, COVER_WIDTH * (0.85 if line.style != "text" else 1.0))
            if lines > 1 or scale > 1:
                heights[i] = LINE_POINTS * lines * scale
        return heights
    for i, line in enumerate(sheet.lines, start=2):
        if line.style == "heading":
            heights[i] = LINE_POINTS * 1.2
    wrapped = [j for j, c in enumerate(sheet.columns) if c.kind == "wrap"]
    header = max(lines_needed(c.header, w) for c, w in zip(sheet.columns, widths))
    if header > 1:
        heights[sheet.header_row] = LINE_POINTS * header
    for i, row in enumerate(sheet.rows, start=sheet.header_row + 1):
        lines = max((lines_needed(row[j], widths[j]) for j in wrapped if row[j]), default=1)
        if lines > 1:
            heights[i] = LINE_POINTS * lines
    return heights


def print_scale(widths: list[float]) -> int:
    """Percent to print at: the whole width on one A4 landscape page if that keeps text legible, else the
    smallest legible scale (the table then runs across pages, its header row and key columns repeated)."""
    total_mm = sum(w * MM_PER_WIDTH + MM_PER_COLUMN for w in widths)
    fits = int(100 * PRINTABLE_MM / total_mm)
    return max(MIN_PRINT_SCALE, min(100, fits))


@dataclass(frozen=True)
class SheetLayout:
    """A sheet's column widths (characters), explicit row heights (points, by 1-based row) and print scale (%)."""

    widths: list[float]
    heights: dict[int, float]
    scale: int


def sheet_layouts(sheets: list[Sheet]) -> list[SheetLayout]:
    """The layout of each sheet, measured once for both writers."""
    out = []
    for sheet in sheets:
        widths = column_widths(sheet)
        out.append(SheetLayout(widths, row_heights(sheet, widths), print_scale(widths)))
    return out
