"""Inputs that are unusual but valid: read without loss, with a warning where the supplier should know."""

from __future__ import annotations

import codecs
import csv
from datetime import datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from conftest import BASE, assert_reconciled, validate, write_tables
from naome_report.ingest.contract import FILES_BY_NAME
from naome_report.ingest.errors import ExtractError
from naome_report.ingest.readers import read_input_file


def test_byte_order_mark_is_tolerated(extract: Path) -> None:
    path = extract / "patients.csv"
    path.write_bytes(codecs.BOM_UTF8 + path.read_bytes())
    validated = validate(extract)
    assert validated.quarantine.empty
    assert validated.frames["patients"].patient_id.tolist() == ["P1", "P2", "P3", "P4"]


def test_extra_column_is_ignored_with_a_warning(tables: dict, tmp_path: Path) -> None:
    for row in tables["cpes"]:
        row["comment"] = "from the 2024 survey"
    validated = validate(write_tables(tmp_path / "extract", tables))
    assert validated.warnings == ["cpes.csv: column 'comment' not in the input contract: ignored"]
    assert "comment" not in validated.frames["cpes"].columns
    assert_reconciled(validated, tables)


def test_header_only_file_is_valid_with_zero_records(tables: dict, tmp_path: Path) -> None:
    tables["radiotherapy"].clear()
    validated = validate(write_tables(tmp_path / "extract", tables))
    counts = validated.counts.set_index("file")
    assert counts.loc["radiotherapy"].tolist() == [0, 0, 0]
    assert list(validated.frames["radiotherapy"].columns) == [*FILES_BY_NAME["radiotherapy"].columns, "_row"]
    assert validated.warnings == ["radiotherapy.csv: header only, no records"]


def test_blank_lines_crlf_and_no_final_line_break(extract: Path) -> None:
    path = extract / "admissions.csv"
    lines = path.read_bytes().splitlines()
    path.write_bytes(b"\r\n".join([lines[0], lines[1], b"", lines[2]]))
    validated = validate(extract)
    assert validated.frames["admissions"].admission_id.tolist() == ["A1", "A2"]
    assert validated.frames["admissions"]["_row"].tolist() == [1, 2]
    assert any("no line break at its end" in w for w in validated.warnings)


def test_quoted_commas_and_line_breaks_stay_in_the_value(tables: dict, tmp_path: Path) -> None:
    tables["care_events"][1]["value"] = "1, then\nreviewed"
    directory = write_tables(tmp_path / "extract", tables)
    validated = validate(directory)
    assert validated.frames["care_events"].value.tolist()[1] == "1, then\nreviewed"
    assert validated.frames["care_events"]["_row"].tolist() == [1, 2, 3, 4]


def test_formula_like_free_text_stays_literal(tables: dict, tmp_path: Path) -> None:
    formulas = ['=HYPERLINK("http://x","y")', "+1+1", "-2", "@SUM(A1:A9)"]
    for row, text in zip(tables["care_events"], formulas, strict=True):
        row["value"] = text
    validated = validate(write_tables(tmp_path / "extract", tables))
    assert validated.quarantine.empty
    assert validated.frames["care_events"].value.tolist() == formulas


def test_empty_optional_values_become_missing_and_types_are_real(extract: Path) -> None:
    patients = validate(extract).frames["patients"]
    assert str(patients.date_of_birth.dtype) == "datetime64[ns]"
    assert str(patients.deprivation_quintile.dtype) == "Int64"
    assert patients.ethnicity.isna().tolist() == [False, True, False, False]
    assert patients.deprivation_quintile.tolist()[:2] == [3, 1]
    assert patients.date_of_death.isna().tolist() == [True, False, True, False]


def test_parquet_timestamps_at_midnight_are_dates_and_other_times_are_not(tables: dict, tmp_path: Path) -> None:
    directory = write_tables(tmp_path / "extract", tables)
    (directory / "radiotherapy.csv").unlink()
    rows = BASE["radiotherapy"]
    starts = [datetime(2024, 6, 10), datetime(2025, 1, 28, 14, 30)]
    table = pa.table({c: pa.array([r[c] or None for r in rows]) for c in FILES_BY_NAME["radiotherapy"].columns})
    table = table.set_column(2, "episode_start_date", pa.array(starts, pa.timestamp("ms")))
    pq.write_table(table, directory / "radiotherapy.parquet")
    validated = validate(directory)
    quarantined = validated.quarantine[["key", "value", "reason"]].values.tolist()
    assert quarantined == [["R2", "2025-01-28 14:30:00.000", "not a valid date"]]
    assert validated.frames["radiotherapy"].episode_start_date.tolist() == [datetime(2024, 6, 10)]


def test_reader_keeps_every_value_as_text(extract: Path) -> None:
    raw = read_input_file(FILES_BY_NAME["cpes"], extract)
    assert raw.format == "csv"
    assert raw.frame.respondents.tolist() == ["80", "45"]
    assert raw.frame["_row"].tolist() == [1, 2]


def test_error_message_names_file_problem_and_fix() -> None:
    error = ExtractError("patients.csv", "column 'sex' is missing", "add the column")
    assert str(error) == "patients.csv: column 'sex' is missing. Fix: add the column."
    assert (error.file, error.problem, error.fix) == ("patients.csv", "column 'sex' is missing", "add the column.")


def test_semicolon_separated_file_gets_a_hint(extract: Path) -> None:
    path = extract / "cpes.csv"
    rows = list(csv.reader(path.read_text().splitlines()))
    path.write_text("\n".join(";".join(r) for r in rows) + "\n")
    try:
        validate(extract)
    except ExtractError as error:
        assert error.file == "cpes.csv"
        assert "separated by ';'" in error.fix
    else:
        raise AssertionError("a semicolon-separated file must be refused")
