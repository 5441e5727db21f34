"""Property-based tests of ingest: any mangled row is quarantined or fatal (one ExtractError), never a traceback,
and no record is lost."""

from __future__ import annotations

import copy
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import BASE, assert_reconciled, validate, write_tables
from naome_report.ingest.contract import FILES_BY_NAME
from naome_report.ingest.errors import ExtractError

FILES = sorted(BASE)
PROPERTY = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Values a supplier's export might hold where a field was expected: text of any kind (commas, quotes,
# line breaks, non-ASCII, spreadsheet formulas), numbers, dates in other formats, padding.
mangled_value = st.one_of(
    st.text(max_size=30),
    st.text(alphabet=st.sampled_from(list(",\"'\n\r\t;= ")), max_size=6),
    st.integers(-10**6, 10**6).map(str),
    st.dates().map(lambda d: d.strftime("%d/%m/%Y")),
    st.sampled_from(["", " ", "NULL", "NA", "2024-02-30", "=HYPERLINK(\"x\")", "\u00a0", "P1", "ZZZ", "９"]),
)


@st.composite
def mangled_tables(draw: st.DrawFn) -> dict[str, list[dict[str, str]]]:
    """The tiny valid extract with one to three fields of some records replaced by anything."""
    tables = copy.deepcopy(BASE)
    for _ in range(draw(st.integers(1, 3))):
        name = draw(st.sampled_from(FILES))
        rows = tables[name]
        row = draw(st.integers(0, len(rows) - 1))
        column = draw(st.sampled_from(FILES_BY_NAME[name].columns))
        rows[row][column] = draw(mangled_value)
    return tables


def _validate_or_fatal(directory: Path):
    try:
        return validate(directory)
    except ExtractError as exc:  # fatal: one message naming the file, the problem and the fix
        text = str(exc)
        assert "\n" not in text and "Fix: " in text and text.split(":")[0], text
        return None


@PROPERTY
@given(tables=mangled_tables())
def test_a_mangled_value_is_quarantined_or_fatal_and_no_record_is_lost(tables) -> None:
    with tempfile.TemporaryDirectory() as folder:
        validated = _validate_or_fatal(write_tables(Path(folder) / "extract", tables))
    if validated is not None:
        assert_reconciled(validated, tables)  # every record written is read, and is valid or quarantined


@PROPERTY
@given(name=st.sampled_from(FILES), line=st.integers(1, 4), position=st.integers(0, 200),
       junk=st.binary(min_size=1, max_size=12))
def test_bytes_spliced_into_a_line_are_quarantined_or_fatal(name: str, line: int, position: int, junk: bytes) -> None:
    """Raw bytes (broken quoting, separators, invalid UTF-8, NUL) inserted into a record of a CSV file."""
    with tempfile.TemporaryDirectory() as folder:
        directory = write_tables(Path(folder) / "extract", copy.deepcopy(BASE))
        path = directory / f"{name}.csv"
        lines = path.read_bytes().split(b"\n")
        line = min(line, len(lines) - 2)  # a record line (the last element is the empty tail)
        lines[line] = lines[line][:position] + junk + lines[line][position:]
        path.write_bytes(b"\n".join(lines))
        validated = _validate_or_fatal(directory)
    if validated is not None:
        assert_reconciled(validated)
