"""The input data dictionary (Markdown), generated from the input contract so that it cannot drift."""

from __future__ import annotations

from pathlib import Path

from naome_report import atomic
from naome_report.config import PROJECT_ROOT
from naome_report.ingest import rules
from naome_report.ingest.contract import INPUT_FILES, Field, InputFile

DEFAULT_PATH = PROJECT_ROOT / "docs" / "data-dictionary.md"
KIND_NAMES = {"id": "identifier", "string": "text", "code": "code", "date": "date", "integer": "integer"}

INTRO = f"""\
# NAoMe input data dictionary

<!-- Generated from naome_report/ingest/contract.py by naome_report/ingest/dictionary.py.
     Do not edit by hand: change the contract, then run `naome-report dictionary`. -->

The toolkit reads one linked, pseudonymised extract: the {len(INPUT_FILES)} files below, all in one folder.
This page is generated from the input contract, the same object the validation is built from.

## How the files are supplied

- **Names.** Each file is named after its section below, as `<name>.csv` or `<name>.parquet`
  (for example `sact.csv`). Either format is accepted, file by file; having both `sact.csv` and
  `sact.parquet` is an error, because the toolkit will not guess which one is current.
- **CSV.** UTF-8 text (a byte-order mark is tolerated; Windows-1252, Latin-1 and UTF-16 are
  refused), comma-separated, with a header row naming the columns exactly as below (case matters;
  the order does not). Values may be quoted with `"`; a quoted value may contain commas and line
  breaks. Blank lines are skipped. Columns the contract does not list are ignored with a warning.
- **Parquet.** Columns may be stored as text, integers or dates; each value is read as the text a CSV
  would hold (dates as `YYYY-MM-DD`, empty for null), so both formats are validated identically.
- **Values.** Every value is read as text, so nothing is converted silently. Dates are ISO
  `YYYY-MM-DD` and must be real calendar dates between {rules.EARLIEST_DATE.isoformat()} and the data
  cut-off of the run. An empty value (or one holding only spaces) is a missing value: allowed in
  optional fields only. Codes are case-sensitive and must not carry spaces.
- **Row numbers.** `row` in the quarantine and `_row` in the validated tables is the 1-based record
  number in the file, header not counted (in a CSV without blank lines or line breaks inside
  values, record `n` is on line `n + 1`).

## The validated tables

Valid records reach the rest of the toolkit typed: dates as `datetime64[ns]`, integers as pandas
`Int64`, codes and text as `string[pyarrow]` with `<NA>` for an empty optional value, plus `_row`.

## Problems that stop the run

The run stops before any output is made, with one line naming the file, the problem and the fix
(`naome-report` exits with status 2, without a traceback), when:

- a file is missing, or present as both CSV and Parquet;
- a file is empty (0 bytes). A file with a header row and no records is valid and has zero
  records (for example no radiotherapy in a small extract), except `patients`, without which no
  record can be linked;
- a required column is missing, or a column name appears twice;
- a CSV is not UTF-8 (the message gives the line and byte offset of the first bad byte) or is not
  CSV at all (UTF-16, an Excel workbook, a binary file). A single bad byte stops the run rather
  than quarantining its record: a wrong encoding belongs to the export of the whole file, and
  other values may already have been decoded wrongly without any error;
- a CSV is truncated or malformed: a line with a different number of fields from the header
  (the message gives the line), or a quote that is never closed; a Parquet file that cannot be
  opened or read;
- more than half of a file's records (of at least 20) fail validation: a file-level fault such as
  dates written `DD/MM/YYYY` or the wrong organisation table, which quarantining record by record
  would turn into a silently empty audit.

## Records that are quarantined

A record that breaks a rule is moved to `quarantine/quarantine.csv` (columns `file`, `row`, `key`,
`column`, `value`, `reason`; one row per record, several problems joined by `; `, the parts of a
composite key or of a rule on several columns joined by `, `) and the run goes on. Per-file checks run first; then references to other files are checked (`org_code` against the
organisation reference, `patient_id` against the patients file). A value that already failed its
own check is not looked up again. The reasons are fixed phrases:

| reason | meaning |
|---|---|
{{reasons}}

- **Duplicates.** When records share a key, *every* copy is quarantined, not all but the first:
  the order of records in a file carries no meaning, so keeping the first would pick one version
  at random and the result would change with a re-sort of the extract.
- **Formula-like text.** Text is data and is never evaluated. A value starting with `=`, `+`, `-`
  or `@` is kept exactly as written, in the validated tables and in the quarantine file. It is
  quarantined only when it breaks its field's own rule: `=HYPERLINK("http://x","y")` in
  `drug_names` is quarantined as `invalid format` (not an upper-case drug list), while in the free
  text `value` of `care_events` it stays as literal text. `quarantine.csv` quotes every text value;
  a CSV file cannot run anything, but a spreadsheet may evaluate such a value when the file is
  opened by double-click, so import it with every column as text.
- **Reconciliation.** For every file, records read = records quarantined + records valid, and each
  record is counted exactly once; `quarantine/validation_counts.csv` holds the counts, which feed
  the patient-flow diagram (the cohort stage then splits valid records into included and excluded).

## Files
"""


def render_data_dictionary() -> str:
    """The data dictionary as Markdown: how files are supplied and checked, then every file and field."""
    reasons = "\n".join(f"| `{_cell(reason)}` | {_cell(meaning)} |" for reason, meaning in rules.REASONS.items())
    sections = [_file_section(spec) for spec in INPUT_FILES]
    return INTRO.replace("{reasons}", reasons) + "\n" + "\n".join(sections)


def write_data_dictionary(path: Path | None = None) -> Path:
    """Write the generated data dictionary (default docs/data-dictionary.md)."""
    path = Path(path) if path else DEFAULT_PATH
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic.write_text(path, render_data_dictionary())
    return path


def _file_section(spec: InputFile) -> str:
    lines = [
        f"### {spec.name}",
        "",
        f"{spec.meaning}",
        "",
        f"- File: `{spec.name}.csv` or `{spec.name}.parquet`",
        f"- Source: {spec.source}",
        f"- Key: {', '.join(f'`{k}`' for k in spec.key)} (unique in the file)",
    ]
    lines += [f"- Date order: `{rule.later}` must not be before `{rule.earlier}`" for rule in spec.date_orders]
    lines += [f"- Count order: `{rule.part}` must not be greater than `{rule.whole}`" for rule in spec.count_orders]
    if not spec.patient_level:
        lines.append("- Aggregate data: no patient-level records")
    lines += ["", "| field | type | required | allowed values | references | meaning |",
              "|---|---|---|---|---|---|"]
    lines += [_field_row(f) for f in spec.fields]
    return "\n".join(lines) + "\n"


def _field_row(f: Field) -> str:
    reference = {"organisations": "organisation reference", None: ""}.get(f.references, f"`{f.references}`")
    cells = [f"`{f.name}`", KIND_NAMES.get(f.kind, f.kind), "yes" if f.required else "no", f.allowed(), reference,
             f.meaning]
    return "| " + " | ".join(_cell(c) for c in cells) + " |"


def _cell(text: str) -> str:
    """Text safe inside a Markdown table cell."""
    return text.replace("|", "\\|").replace("\n", " ")
