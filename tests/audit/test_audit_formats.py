"""The disclosure audit on planted leaks of each kind, in each format a public output takes."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from naome_report.audit import RESTRICTED_MARKING, audit_outputs

Writer = Callable[[Path, str], None]


def _text(path: Path, body: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(body, encoding="utf-8")


def _csv(path: Path, value: str) -> None:
    _text(path, f"indicator_id,numerator,denominator,percentage,status\nmdt,{value},40,25,published\n"
                "mdt,12,40,30,published\n")


def _xlsx(path: Path, value: str) -> None:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "Table_1"
    sheet.append(["Results by NHS trust"])
    sheet.append(["This worksheet contains one table."])
    sheet.append(["Period", "QI goal", "Numerator (patients)", "Lower 95% confidence limit (%)"])
    sheet.append(["2024/25", 4, int(value), 2.0])
    sheet.append(["2024/25", 3, 17, 1.0])
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(path)


def _ods(path: Path, value: str) -> None:
    from odf.opendocument import OpenDocumentSpreadsheet
    from odf.table import Table, TableCell, TableRow
    from odf.text import P

    document = OpenDocumentSpreadsheet()
    table = Table(name="Table_5_survival")
    for cells in (["Survival"], ["Period", "Years after MBC diagnosis", "Deaths", "At risk"],
                  ["2024/25", 1, 30, int(value)], ["2024/25", 3, 40, 12]):
        row = TableRow()
        for cell in cells:
            if isinstance(cell, int):
                element = TableCell(valuetype="float", value=cell)
            else:
                element = TableCell(valuetype="string")
            element.addElement(P(text=str(cell)))
            row.addElement(element)
        table.addElement(row)
    document.spreadsheet.addElement(table)
    path.parent.mkdir(parents=True, exist_ok=True)
    document.save(str(path))


def _html_table(path: Path, value: str) -> None:
    _text(path, "<html><body><h1>Page 2 of 9</h1><p>QI goal 4. About 1 in 4 patients.</p><table>"
                "<thead><tr><th>Step</th><th>People</th></tr></thead><tbody>"
                f"<tr><td>No metastasis recorded</td><td>702</td></tr><tr><td>Aged under 18</td><td>{value}</td></tr>"
                "</tbody></table></body></html>")


def _html_prose(path: Path, value: str) -> None:
    _text(path, f"<html><body><p>In 2024/25, <strong>{value}</strong> patients were excluded.</p></body></html>")


def _html_alt(path: Path, value: str) -> None:
    _text(path, f'<html><body><img src="f.png" alt="Patient flow. Aged under 18 at diagnosis: {value}; other: 99">'
                "</body></html>")


def _portal_data(path: Path, value: str) -> None:
    _text(path, '<html><body><script type="application/json" id="chart">'
                f'{{"points": [{{"quarter": "2024/25 Q1", "patients": {value}, "percentage": 2.0}}]}}'
                "</script></body></html>")


def _pdf(path: Path, value: str) -> None:
    import weasyprint

    path.parent.mkdir(parents=True, exist_ok=True)
    weasyprint.HTML(string="<html><body><h1>Cohort derivation</h1><p>Page 3 of 9</p><table style='width:100%'>"
                           "<tr><td>No metastasis recorded</td><td style='text-align:right'>702</td></tr>"
                           f"<tr><td>Aged under 18 at metastatic diagnosis</td><td style='text-align:right'>{value}"
                           "</td></tr></table></body></html>").write_pdf(path)


def _svg(path: Path, value: str) -> None:
    _text(path, '<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="Funnel plot">'
                f"<title>Deaths: {value}</title><text x='1' y='2'>2024/25</text></svg>")


def _alt_text(path: Path, value: str) -> None:
    _text(path, f"Patient-flow diagram. People in the extract: 36,830; aged under 18 at diagnosis: {value}.\n")


def _json(path: Path, value: str) -> None:
    _text(path, json.dumps({"primary_period": "2023/24-2025/26", "quarantined_records": int(value),
                            "financial_years": ["2024/25"]}))


FORMATS: dict[str, tuple[str, Writer]] = {
    "csv": ("data/naome_test.csv", _csv),
    "xlsx": ("NAoMe_Metrics_Table.xlsx", _xlsx),
    "ods": ("NAoMe_Metrics_Table.ods", _ods),
    "html table": ("methodology-supplement.html", _html_table),
    "html prose": ("state-of-the-nation.html", _html_prose),
    "html alt text": ("patient-report.html", _html_alt),
    "portal data": ("portal/organisations/ZAA.html", _portal_data),
    "pdf": ("packs/ZAA.pdf", _pdf),
    "svg": ("portal/assets/funnel-mdt.svg", _svg),
    "figure alt text": ("figures/patient-flow.png.alt.txt", _alt_text),
    "json": ("data/naome_run.json", _json),
}


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_small_count_is_found_in_every_format(fmt: str, tmp_path: Path) -> None:
    name, write = FORMATS[fmt]
    write(tmp_path / name, "3")
    report = audit_outputs(tmp_path)
    assert [(f.path, f.rule) for f in report.findings] == [(name, "small_count")], report.findings
    assert report.files_read == 1


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_same_file_with_a_large_count_passes(fmt: str, tmp_path: Path) -> None:
    name, write = FORMATS[fmt]
    write(tmp_path / name, "57")
    report = audit_outputs(tmp_path)
    assert report.findings == [] and report.files_read == 1


def _extract_with_patient(folder: Path) -> Path:
    _text(folder / "patients.csv", "patient_id,nation\nPX0012345,E\nPX0067890,W\n")
    _text(folder / "sact.csv", "regimen_id,patient_id\nRG00042,PX0012345\n")
    return folder


@pytest.mark.parametrize("name, body", [
    ("portal/organisations/ZAA.html", "<html><body><p>Record PX0067890 was checked.</p></body></html>"),
    ("data/naome_test.csv", "org_code,note\nZAA,PX0012345\n"),
    ("figures/flow.png.alt.txt", "A flow diagram of PX0012345"),
])
def test_a_patient_identifier_is_found(name: str, body: str, tmp_path: Path) -> None:
    out = tmp_path / "output"
    _text(out / name, body)
    report = audit_outputs(out, extract_dir=_extract_with_patient(tmp_path / "extract"))
    assert [(f.path, f.rule) for f in report.findings] == [(name, "patient_identifier")]


def test_restricted_identifiers_marking_and_links_are_found(tmp_path: Path) -> None:
    out = tmp_path / "output"
    _text(out / "restricted" / "quarantine" / "quarantine.csv",
          '"file","row","key","reason"\n"care_events",3,"EV0000123","invalid code"\n')
    _text(out / "restricted" / "letters" / "ZAA.md", f"{RESTRICTED_MARKING}\nDear medical director,")
    _text(out / "data" / "copy.csv", "file,key\ncare_events,EV0000123\n")
    _text(out / "notes.md", f"Draft letter ({RESTRICTED_MARKING.lower()})")
    _text(out / "portal" / "index.html", '<html><body><a href="../restricted/quarantine/quarantine.csv">list</a></body></html>')
    report = audit_outputs(out)
    assert [(f.path, f.rule) for f in report.findings] == [
        ("data/copy.csv", "restricted_content"), ("notes.md", "restricted_content"),
        ("portal/index.html", "restricted_content")]
    assert report.files_read == 3  # the restricted folder itself is not public


@pytest.mark.parametrize("body, link", [
    ("restricted/letters/ZAA.md", "restricted/letters/ZAA.md"),  # the file opens with it
    ("see (restricted/outlier-tracker.csv)", "restricted/outlier-tracker.csv"),
    ("see ../restricted/x.csv", "/restricted/x.csv"),
    ("unrestricted/y.csv and then\trestricted/z.csv", "\trestricted/z.csv"),
    ("arestricted/restricted/w.csv", "/restricted/w.csv"),  # the second one, after a '/'
])
def test_a_link_into_the_restricted_folder_is_found_where_it_starts(body: str, link: str, tmp_path: Path) -> None:
    _text(tmp_path / "notes.txt", body)
    assert [(f.rule, f.where, f.excerpt) for f in audit_outputs(tmp_path).findings] == [
        ("restricted_content", "a link", link)]


@pytest.mark.parametrize("body", ["unrestricted/y.csv", "restricted/ alone", "a restricted folder"])
def test_a_word_that_only_contains_restricted_is_not_a_link(body: str, tmp_path: Path) -> None:
    _text(tmp_path / "notes.txt", body)
    assert audit_outputs(tmp_path).findings == []


@pytest.mark.parametrize("page", [
    "<p>People excluded</p><p>note: 3</p>",
    "<P>People excluded</P><P>note: 3</P>",  # block tags in capitals end a line all the same
    "<Div>People excluded</Div><dIV>note: 3</dIV>",
])
def test_a_block_tag_in_any_case_ends_the_line_a_label_is_read_from(page: str, tmp_path: Path) -> None:
    _text(tmp_path / "page.html", f"<html><body>{page}</body></html>")
    assert audit_outputs(tmp_path).findings == []


def test_a_label_and_its_count_on_one_line_are_found(tmp_path: Path) -> None:
    _text(tmp_path / "page.html", "<html><body><span>People excluded</span> <clipPath>note: 3</clipPath></body></html>")
    assert [(f.rule, f.excerpt) for f in audit_outputs(tmp_path).findings] == [
        ("small_count", "People excluded note: 3")]


def test_a_page_with_an_empty_link_is_read(tmp_path: Path) -> None:
    _text(tmp_path / "page.html", '<html><body><a href="">top</a><p title="Deaths: 2">In 2024/25, 3 patients.</p></body></html>')
    assert sorted((f.rule, f.where, f.excerpt) for f in audit_outputs(tmp_path).findings) == [
        ("small_count", "attributes", "Deaths: 2"), ("small_count", "text", "top In 2024/25, 3 patients.")]


@pytest.mark.parametrize("early", [0, 1, 24])
def test_pdfs_read_while_the_secrets_are_read_or_by_the_workers_give_the_same_findings(
        early: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from naome_report import audit

    monkeypatch.setattr(audit, "_EARLY_PDFS", early)
    _pdf(tmp_path / "packs" / "ZAA.pdf", "3")
    _pdf(tmp_path / "packs" / "ZAB.pdf", "30")
    _pdf(tmp_path / "packs" / "ZAC.pdf", "4")
    (tmp_path / "portal" / "packs").mkdir(parents=True)
    (tmp_path / "portal" / "packs" / "ZAC.pdf").write_bytes((tmp_path / "packs" / "ZAC.pdf").read_bytes())
    for number in range(30):  # enough files for the worker processes
        _csv(tmp_path / "data" / f"naome_{number}.csv", "2" if number == 7 else "20")
    report = audit_outputs(tmp_path, workers=2)
    assert [(f.path, f.rule) for f in report.findings] == [
        ("data/naome_7.csv", "small_count"), ("packs/ZAA.pdf", "small_count"), ("packs/ZAC.pdf", "small_count"),
        ("portal/packs/ZAC.pdf", "small_count")]


def test_a_pdf_pdftotext_cannot_read_is_reported_when_started_early(tmp_path: Path) -> None:
    _text(tmp_path / "packs" / "ZAA.pdf", "%PDF-1.7 not a PDF")
    findings = audit_outputs(tmp_path, workers=2).findings
    assert [(f.path, f.rule) for f in findings] == [("packs/ZAA.pdf", "unreadable")]
    assert findings[0].excerpt.startswith("pdftotext failed:")


def test_an_nhs_number_is_found(tmp_path: Path) -> None:
    _text(tmp_path / "patient-report.html", "<html><body><p>NHS number 943 476 5919</p></body></html>")
    assert [f.rule for f in audit_outputs(tmp_path).findings] == ["nhs_number"]


def test_an_unreadable_public_file_fails_the_audit(tmp_path: Path) -> None:
    _text(tmp_path / "NAoMe_Metrics_Table.xlsx", "not a zip")
    _text(tmp_path / "data" / "results.parquet", "PAR1")
    assert sorted((f.path, f.rule) for f in audit_outputs(tmp_path).findings) == [
        ("NAoMe_Metrics_Table.xlsx", "unreadable"), ("data/results.parquet", "unreadable")]


def test_unchanged_files_are_not_read_again_but_a_change_is(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from naome_report import audit

    _csv(tmp_path / "data" / "a.csv", "3")
    _csv(tmp_path / "data" / "b.csv", "30")
    first = audit.audit_outputs(tmp_path)
    read: list[str] = []
    real = audit.read_content
    monkeypatch.setattr(audit, "read_content", lambda path: read.append(path.name) or real(path))
    assert audit.audit_outputs(tmp_path).findings == first.findings and read == []
    _csv(tmp_path / "data" / "b.csv", "2")
    again = audit.audit_outputs(tmp_path)
    assert read == ["b.csv"] and [f.path for f in again.findings] == ["data/a.csv", "data/b.csv"]


def test_the_command_fails_on_a_leak_with_one_line_per_finding(tmp_path: Path) -> None:
    config = tmp_path / "naome.toml"
    config.write_text('[paths]\noutput_dir = "out"\n', encoding="utf-8")
    _html_prose(tmp_path / "out" / "state-of-the-nation.html", "2")
    _csv(tmp_path / "out" / "data" / "x.csv", "40")
    run = subprocess.run([sys.executable, "-m", "naome_report", "--config", str(config), "audit"],
                         capture_output=True, text=True, cwd=tmp_path)
    assert run.returncode == 1, run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 2 and "Traceback" not in run.stderr
    assert lines[0].startswith("state-of-the-nation.html: text: a count from 1 to 4 of people or records")
    assert lines[1].startswith("audit: FAILED: 1 possible disclosure(s) in 2 public files")
    _html_prose(tmp_path / "out" / "state-of-the-nation.html", "20")
    run = subprocess.run([sys.executable, "-m", "naome_report", "--config", str(config), "audit"],
                         capture_output=True, text=True, cwd=tmp_path)
    assert run.returncode == 0 and "audit: passed: 2 public files" in run.stderr


def test_the_default_build_passes_the_audit(output_dir: Path) -> None:
    from naome_report.config import load_config

    report = audit_outputs(output_dir, load_config())
    assert report.findings == [], "\n".join(map(str, report.findings[:20]))
    assert {".csv", ".xlsx", ".ods", ".html", ".pdf", ".svg", ".txt", ".json"} <= set(report.formats)
    assert report.formats[".pdf"] >= 140 and report.files_read > 900


def test_public_codes_in_a_restricted_table_are_not_secrets(tmp_path: Path) -> None:
    """An indicator or organisation code is public; a record identifier beside it in the same table is not."""
    out = tmp_path / "output"
    _text(out / "restricted" / "outlier-tracker.csv",
          "case_reference,org_code,indicator_id,record_id\nNAOME-OP-2025-ZAA-mort30_sact,ZAA,mort30_sact,PX0042917\n")
    _text(out / "portal" / "indicators" / "mort30_sact.html", "<html><body><p>ZAA: mort30_sact</p></body></html>")
    _text(out / "data" / "leak.csv", "org_code,note\nZAA,PX0042917\n")
    report = audit_outputs(out)
    assert [(f.path, f.rule) for f in report.findings] == [("data/leak.csv", "restricted_content")]


def test_a_file_linked_in_twice_is_read_once_and_reported_at_both_paths(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from naome_report import audit

    _csv(tmp_path / "data" / "naome_test.csv", "3")
    _csv(tmp_path / "portal" / "data" / "naome_test.csv", "3")
    _csv(tmp_path / "portal" / "data" / "other.csv", "3")  # same content, another name: the rules read names
    read: list[str] = []
    real = audit.read_content
    monkeypatch.setattr(audit, "read_content", lambda path: read.append(path.name) or real(path))
    report = audit.audit_outputs(tmp_path, workers=1)
    assert sorted(read) == ["naome_test.csv", "other.csv"]
    assert [(f.path, f.rule) for f in report.findings] == [
        ("data/naome_test.csv", "small_count"), ("portal/data/naome_test.csv", "small_count"),
        ("portal/data/other.csv", "small_count")]


def _sheet_rows(fmt: str, path: Path, rows: list[list[object]]) -> None:
    """A one-sheet spreadsheet of these rows (numbers as numbers, text as text)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "xlsx":
        from openpyxl import Workbook

        book = Workbook()
        for row in rows:
            book.active.append(row)
        book.save(path)
        return
    from odf.opendocument import OpenDocumentSpreadsheet
    from odf.table import Table, TableCell, TableRow
    from odf.text import P

    document = OpenDocumentSpreadsheet()
    table = Table(name="Table_1")
    for cells in rows:
        row = TableRow()
        for cell in cells:
            element = TableCell(valuetype="float", value=cell) if isinstance(cell, int) else TableCell(valuetype="string")
            element.addElement(P(text=str(cell)))
            row.addElement(element)
        table.addElement(row)
    document.spreadsheet.addElement(table)
    document.save(str(path))


SHEET_CASES = {
    # A row of text and [c] is data: the small count two rows under the header is still under 'Numerator'.
    "suppressed row": ([["Larkdale", "2024/25", 40, 80], ["Eastwold", "2024/25", "[c]", "[c]"],
                        ["Willowcross", "2024/25", 3, 60]], "3", "row 4, column 'Numerator'"),
    "count written as text": ([["Larkdale", "2024/25", 40, 80], ["Willowcross", "2024/25", "2", "60"]], "2",
                              "row 3, column 'Numerator'"),
}


@pytest.mark.parametrize("case", SHEET_CASES)
@pytest.mark.parametrize("fmt", ["xlsx", "ods"])
def test_a_small_count_in_a_spreadsheet_is_found_under_its_header(fmt: str, case: str, tmp_path: Path) -> None:
    rows, excerpt, where = SHEET_CASES[case]
    _sheet_rows(fmt, tmp_path / f"NAoMe_Metrics_Table.{fmt}",
                [["Organisation", "Period", "Numerator", "Denominator"], *rows])
    findings = audit_outputs(tmp_path).findings
    assert [(f.rule, f.excerpt) for f in findings] == [("small_count", excerpt)], findings
    assert where in findings[0].where


@pytest.mark.parametrize("element, where, excerpt", [
    ('<p data-label="n = 2">x</p>', "attributes", "n = 2"),
    ('<p title="2 of 40 patients &amp; more">x</p>', "attributes", "2 of 40 patients"),
    ('<p title="Deaths:&#32;3">x</p>', "attributes", "Deaths: 3"),
    # a value that holds name="...": the page is read attribute by attribute, the value whole
    ("""<p aria-label='Summary title="3 patients"'>x</p>""", "attributes", 'Summary title="3 patients"'),
    ("<TABLE><TR><TH>Step</TH><TH>Patients</TH></TR><TR><TD>Aged under 18</TD><TD>3</TD></TR></TABLE>",
     "table 1, row 2, column 'Patients'", "3"),
    ("<SCRIPT>var note = '4 patients';</SCRIPT>", "script", "var note = '4 patients';"),
    ("<!-- draft: 3 patients excluded -->", "comments", "draft: 3 patients excluded"),
    ("<style>p {}</style><!-- n = 1 --><p>Done.</p>", "comments", "n = 1"),
])
def test_a_small_count_anywhere_in_a_page_is_found(element: str, where: str, excerpt: str, tmp_path: Path) -> None:
    _text(tmp_path / "page.html", f"<html><head><title>Results</title></head><body>{element}</body></html>")
    assert [(f.rule, f.where, f.excerpt) for f in audit_outputs(tmp_path).findings] == [
        ("small_count", where, excerpt)]


@pytest.mark.parametrize("element", [
    '<a href="detail.html?record=PX0067890">more</a>',
    "<!-- PX0067890 -->",
    '<script type="application/json">{"rows": [{"id": "PX0067890"}]}</script>',
])
def test_a_patient_identifier_in_a_link_a_comment_or_page_data_is_found(element: str, tmp_path: Path) -> None:
    out = tmp_path / "output"
    _text(out / "page.html", f"<html><body><p>Results</p>{element}</body></html>")
    report = audit_outputs(out, extract_dir=_extract_with_patient(tmp_path / "extract"))
    assert [(f.path, f.rule, f.excerpt) for f in report.findings] == [("page.html", "patient_identifier", "PX0067890")]


def test_identifiers_repeated_or_empty_in_the_extract_are_read_once(tmp_path: Path) -> None:
    from naome_report.audit import load_secrets

    extract = tmp_path / "extract"
    _text(extract / "patients.csv", "patient_id,nation\nPX0012345,E\nPX0067890,W\n,W\n")
    _text(extract / "sact.csv", "regimen_id,patient_id\nRG00042,PX0012345\nRG00043,PX0012345\nRG00044,\n2024,PX0067890\n")
    secrets = load_secrets(tmp_path / "output", extract)
    assert secrets.patient_ids == {"PX0012345", "PX0067890"}
    assert secrets.record_ids == {"RG00042", "RG00043", "RG00044"}  # "2024" is too short to be one


def _extract_with_numeric_patient(folder: Path) -> Path:
    """An extract whose patient identifiers are NHS numbers: digits only, as real extracts often have."""
    _text(folder / "patients.csv", "patient_id,nation\n9434765919,E\n4010232137,W\n")
    return folder


def _numeric_id_csv(path: Path) -> None:
    _text(path, "org_code,patient_ref\nZAA,4010232137\n")


def _numeric_id_xlsx(path: Path) -> None:
    from openpyxl import Workbook

    book = Workbook()
    book.active.append(["Organisation", "Reference"])
    book.active.append(["ZAA", 4010232137])  # a number cell, not text
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(path)


def _numeric_id_ods(path: Path) -> None:
    from odf.opendocument import OpenDocumentSpreadsheet
    from odf.table import Table, TableCell, TableRow
    from odf.text import P

    document = OpenDocumentSpreadsheet()
    table = Table(name="Table_1")
    row = TableRow()
    cell = TableCell(valuetype="float", value=4010232137)
    cell.addElement(P(text="4010232137"))
    row.addElement(cell)
    table.addElement(row)
    document.spreadsheet.addElement(table)
    path.parent.mkdir(parents=True, exist_ok=True)
    document.save(str(path))


@pytest.mark.parametrize("name, write", [
    ("data/naome_test.csv", _numeric_id_csv),
    ("NAoMe_Metrics_Table.xlsx", _numeric_id_xlsx),
    ("NAoMe_Metrics_Table.ods", _numeric_id_ods),
])
def test_a_numeric_patient_identifier_in_a_number_cell_is_found(name: str, write: Callable[[Path], None],
                                                                tmp_path: Path) -> None:
    """Spreadsheet and CSV readers skip number cells for the text rules; an NHS number is a number cell too."""
    out = tmp_path / "output"
    write(out / name)
    report = audit_outputs(out, extract_dir=_extract_with_numeric_patient(tmp_path / "extract"))
    assert sorted(f.rule for f in report.findings) == ["nhs_number", "patient_identifier"], report.findings
