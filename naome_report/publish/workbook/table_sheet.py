"""An XlsxWriter worksheet that takes a table body in one call and writes its rows' XML in bulk.

XlsxWriter spends about 5 µs of Python on each cell (a decorated `write_string`, then one `_write_cell` per cell
when the file is closed): 6 s for the metrics table's 1.25 million cells. `TableWorksheet` stores the same cell
records and writes the same XML, a row at a time. It subclasses the library's worksheet through its public hook
(`Workbook.add_worksheet(worksheet_class=...)`), but relies on how XlsxWriter stores cells, so it is enabled
only for the versions it was checked against; any other version takes the library's own path. The tests
compare the two paths byte for byte.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.utility import xl_col_to_name, xl_range
from xlsxwriter.worksheet import CellNumberTuple, CellStringTuple, Worksheet

CHECKED_VERSIONS = ("3.3.1",)
FAST = xlsxwriter.__version__ in CHECKED_VERSIONS
_SKIP = object()  # an empty cell in `write_body`
LONG_STRING = 16_000  # XlsxWriter truncates strings over 32,767 UTF-16 units: leave any near that to it


class TableWorksheet(Worksheet):
    """A worksheet with `write_body`, which stores many rows in one call, and a faster row writer."""

    def write_body(self, first_row: int, rows: Sequence[Sequence[Any]], string_formats: Sequence[Format],
                   number_formats: Sequence[Format], formula_format: Callable[[int, str], Format],
                   formula_starts: tuple[str, ...]) -> None:
        """Write rows from `first_row` (0-based): strings and numbers with their column's format, None and "" skipped.

        A string that starts like a formula gets `formula_format(column, text)` (a quote-prefixed format).
        """
        if not FAST:
            self._write_body_public(first_row, rows, string_formats, number_formats, formula_format, formula_starts)
            return
        table, strings = self.table, self.str_table
        shared, new_tuple = strings._get_shared_string_index, tuple.__new__
        # Per column, one record per distinct text (None and "" marked as skipped): most texts repeat.
        known: list[dict[Any, Any]] = [{None: _SKIP, "": _SKIP} for _ in string_formats]
        lookups = [found.get for found in known]
        reused = 0
        written_cols: set[int] = set()
        written_rows: list[int] = []
        for row_num, row in enumerate(rows, start=first_row):
            cells = table[row_num]
            for col, value in enumerate(row):
                cell = lookups[col](value)
                if cell is not None:
                    if cell is not _SKIP:
                        cells[col] = cell
                        reused += 1
                    continue
                if isinstance(value, str):
                    if len(value) > LONG_STRING:
                        self.write_string(row_num, col, value, string_formats[col])
                        continue
                    fmt = formula_format(col, value) if value.startswith(formula_starts) else string_formats[col]
                    cells[col] = known[col][value] = CellStringTuple(shared(value), fmt)
                else:
                    cells[col] = new_tuple(CellNumberTuple, (value, number_formats[col]))
            if cells:
                written_cols.update((min(cells), max(cells)))
                written_rows.append(row_num)
        strings.count += reused  # each use of a shared string counts, as `write_string` counts it
        if written_rows:
            self._check_dimensions(written_rows[0], min(written_cols))
            self._check_dimensions(written_rows[-1], max(written_cols))

    def add_table(self, first_row: int, first_col: int, last_row: int, last_col: int,
                  options: dict[str, Any] | None = None) -> int:
        """XlsxWriter's `add_table`, without its cell-by-cell overlap check where it cannot find anything.

        The library records every cell of a table's range to refuse a later table or merged range over it:
        a million dictionary entries (0.3 s) for the metrics table. On a sheet with no other table and no merged
        range, and for a table with no data, formulas or total row, the table is added over its header and first
        row, then given its whole range, and later tables and merged ranges are refused over it by range.
        """
        options = dict(options or {})
        columns = options.get("columns", [])
        simple = (FAST and not self.tables and not self.merged_cells and not self.table_cells
                  and first_row < last_row and first_col <= last_col and last_row < self.xls_rowmax
                  and last_col < self.xls_colmax
                  and not {"data", "total_row"} & set(options)
                  and not any(c.get("formula") or c.get("total_function") or c.get("total_string") for c in columns))
        if not simple:
            return super().add_table(first_row, first_col, last_row, last_col, options)
        result = super().add_table(first_row, first_col, first_row + 1, last_col, options)
        if result:
            return result
        table = self.tables[-1]
        table["range"] = xl_range(first_row, first_col, last_row, last_col)
        table["a_range"] = xl_range(first_row, first_col, last_row, last_col)
        if "autofilter" in table:
            table["autofilter"] = table["a_range"]
        self.table_cells = _RangeCells(self.table_cells, first_row, first_col, last_row, last_col)
        return result

    def _write_body_public(self, first_row: int, rows: Sequence[Sequence[Any]], string_formats: Sequence[Format],
                           number_formats: Sequence[Format], formula_format: Callable[[int, str], Format],
                           formula_starts: tuple[str, ...]) -> None:
        """The same cells through XlsxWriter's public calls (the reference `write_body` is checked against)."""
        for row_num, row in enumerate(rows, start=first_row):
            for col, value in enumerate(row):
                if value is None or value == "":
                    continue
                if isinstance(value, str):
                    fmt = formula_format(col, value) if value.startswith(formula_starts) else string_formats[col]
                    self.write_string(row_num, col, value, fmt)
                else:
                    self.write_number(row_num, col, value, number_formats[col])

    def _calculate_spans(self) -> None:
        if not FAST or self.comments or self.dim_rowmin is None:
            super()._calculate_spans()
            return
        blocks: dict[int, tuple[int, int]] = {}
        for row_num, cells in self.table.items():
            if cells and self.dim_rowmin <= row_num <= self.dim_rowmax:
                block = row_num // 16
                low, high = min(cells), max(cells)
                if block in blocks:
                    low, high = min(low, blocks[block][0]), max(high, blocks[block][1])
                blocks[block] = (low, high)
        self.row_spans = {block: f"{low + 1}:{high + 1}" for block, (low, high) in sorted(blocks.items())}

    def _write_rows(self) -> None:
        if not FAST or self.comments:
            super()._write_rows()
            return
        self._calculate_spans()
        # Each cell is '<c r="' + its column letters + its row number + the rest; a shared string cell object
        # (write_body gives one per distinct text and column) has the same rest wherever it is used.
        starts = [f'<c r="{xl_col_to_name(col)}' for col in range(self.dim_colmax + 1)]
        xf_indexes: dict[int, int] = {}
        string_ends: dict[int, str] = {}  # id(cell) -> its rest; every cell stays alive in self.table meanwhile
        write = self.fh.write
        for row_num in range(self.dim_rowmin, self.dim_rowmax + 1):
            cells = self.table.get(row_num)
            info = self.row_info.get(row_num)
            if not cells:
                if info is not None:
                    self._write_empty_row(row_num, self.row_spans.get(row_num // 16), info)
                continue
            self._write_row(row_num, self.row_spans.get(row_num // 16), info)
            number = str(row_num + 1)
            parts = []
            for col in sorted(cells):
                cell = cells[col]
                end = string_ends.get(id(cell))
                if end is not None:
                    parts.append(starts[col] + number + end)
                    continue
                fmt = cell.format
                kind = type(cell)
                if fmt is None or (kind is not CellStringTuple and kind is not CellNumberTuple):
                    write("".join(parts))
                    parts = []
                    self._write_cell(row_num, col, cell)
                    continue
                xf = xf_indexes.get(id(fmt))
                if xf is None:
                    xf = xf_indexes[id(fmt)] = fmt._get_xf_index()
                if kind is CellStringTuple:
                    end = string_ends[id(cell)] = f'" s="{xf}" t="s"><v>{cell.string}</v></c>'
                else:
                    end = f'" s="{xf}"><v>{cell.number:.16G}</v></c>'
                parts.append(starts[col] + number + end)
            write("".join(parts))
            self._xml_end_tag("row")


class _RangeCells(dict):
    """`Worksheet.table_cells` (cell -> table range) that also answers for every cell of one table's range."""

    def __init__(self, cells: dict[tuple[int, int], str], first_row: int, first_col: int, last_row: int,
                 last_col: int) -> None:
        super().__init__(cells)
        self.area = (first_row, first_col, last_row, last_col)
        self.range = xl_range(first_row, first_col, last_row, last_col)

    def get(self, key: tuple[int, int], default: Any = None) -> Any:
        """The table range over this cell, if any."""
        row, col = key
        first_row, first_col, last_row, last_col = self.area
        if first_row <= row <= last_row and first_col <= col <= last_col:
            return self.range
        return super().get(key, default)
