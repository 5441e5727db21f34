"""Write the restricted outputs the results files drive: the outlier tracker (CSV and sheet), the draft letters
and the folder's README (the data stage writes the data-quality lists)."""

from __future__ import annotations

import shutil
from datetime import date, datetime
from pathlib import Path

import pandas as pd

from naome_report import atomic
from naome_report.config import Config
from naome_report.hub import Results
from naome_report.publish.workbook.model import Column, DocProperties, Line, Sheet, WorkbookModel
from naome_report.publish.workbook.xlsx import render_xlsx
from naome_report.registry import Registry
from naome_report.restricted import HANDLING, MARKER
from naome_report.restricted.data_quality import load_items
from naome_report.restricted.letters import environment, write_letters
from naome_report.outlier_process import OutlierProcess, load_outlier_process
from naome_report.restricted.cases import case_reference, outlier_cases, timetable
from naome_report.vocabulary import OUTLIER_STATUS, SUBGROUP

TRACKER = "outlier-tracker"
TRACKER_COLUMNS = {  # CSV column -> the sheet's header and kind
    "handling": ("Handling", "text"), "case_reference": ("Case reference", "text"),
    "org_code": ("Organisation code", "text"), "org_name": ("Organisation name", "wrap"),
    "nation": ("Nation", "text"), "indicator_id": ("Indicator ID", "text"), "indicator_title": ("Indicator", "wrap"),
    "patient_group": ("Patient group", "text"), "period": ("Period", "text"),
    "outlier_status": ("HQIP outlier status", "text"), "level": ("Level", "text"), "stage": ("Stage", "count"),
    "by": ("Who acts", "text"), "action": ("Action", "wrap"), "working_days": ("Working days allowed", "count"),
    "due_date": ("Date due", "text"), "letters": ("Draft letters", "wrap"),
    "completed_on": ("Completed on", "text"), "notes": ("Notes", "wrap"),
}


def tracker_rows(cases: pd.DataFrame, process: OutlierProcess, publication: date,
                 letters: dict[tuple[str, str, int], list[str]]) -> pd.DataFrame:
    """One row per case and stage, with the date each stage is due and its text as it reads for the case's nation."""
    rows = []
    for _, case in cases.iterrows():
        for stage, due in timetable(process.for_nation(case["nation"]), case["outlier_level"], case["nation"],
                                    publication):
            rows.append({
                "handling": HANDLING, "case_reference": case["case_reference"], "org_code": case["org_code"],
                "org_name": case["org_name"], "nation": case["nation"], "indicator_id": case["indicator_id"],
                "indicator_title": case["indicator_title"],
                "patient_group": SUBGROUP[case["subgroup"]].short if case["subgroup"] in SUBGROUP else case["subgroup"],
                "period": case["period"], "outlier_status": OUTLIER_STATUS[case["outlier_status"]].short,
                "level": case["outlier_level"], "stage": stage.number, "by": stage.who, "action": stage.action,
                "working_days": stage.working_days, "due_date": due.isoformat() if due else "no time limit",
                "letters": "; ".join(letters.get((case["org_code"], case["outlier_level"], stage.number), [])),
                "completed_on": "", "notes": "",
            })
    return pd.DataFrame(rows, columns=list(TRACKER_COLUMNS))


def tracker_workbook(tracker: pd.DataFrame, process: OutlierProcess, synthetic: bool, when: datetime) -> bytes:
    """The tracker as a one-sheet workbook, marked restricted in its title, its first column and its properties."""
    lines = [Line(f"{HANDLING}. OFFICIAL-SENSITIVE: for the audit team only. One row per outlier case and stage of "
                  f"{process.the_guidance}; dates due assume each earlier stage takes its full time.", "warning"),
             Line("Record in Completed on and Notes when each stage is done.")]
    if synthetic:
        lines.append(Line("Synthetic data: these cases come from the synthetic cohort; they describe no real "
                          "organisation.", "warning"))
    rows = [tuple(r) for r in tracker.itertuples(index=False)]
    sheet = Sheet("Outlier_tracker", f"{MARKER} NAoMe outlier tracker", lines,
                  [Column(header, kind) for header, kind in TRACKER_COLUMNS.values()], rows, "outlier_tracker",
                  key_columns=(1, 3))
    props = DocProperties(title=sheet.title, subject="HQIP outlier process tracker (restricted)", creator="NAoMe",
                          company="", keywords=f"{MARKER}, restricted, outlier process", description=HANDLING,
                          timestamp=when)
    return render_xlsx(WorkbookModel([sheet], props))


def write_readme(restricted_dir: Path, config: Config, synthetic: bool) -> Path:
    """The folder's README: what is here and how it must be handled."""
    process = load_outlier_process(config)
    text = environment().get_template("README.md.j2").render(
        handling=HANDLING, marker=MARKER, synthetic=synthetic, audit=config.section("audit"),
        items=[item["title"] for item in load_items(config)], guidance=process.the_guidance,
        example_reference=case_reference(config.primary_period, "ZAA", "mort30_sact", "all"))
    restricted_dir.mkdir(parents=True, exist_ok=True)
    path = restricted_dir / "README.md"
    atomic.write_text(path, text)
    return path


def build_restricted(results: Results, registry: Registry, config: Config, restricted_dir: Path) -> list[Path]:
    """Write the tracker, the letters and the README into restricted_dir; return what was written."""
    process = load_outlier_process(config)
    publication = date.fromisoformat(str(config.section("publication")["date"]))
    cases = outlier_cases(results, registry, process)
    letters_dir = restricted_dir / "letters"
    shutil.rmtree(letters_dir, ignore_errors=True)
    letters = write_letters(cases, process, config, results.synthetic, results.primary_period, letters_dir)
    tracker = tracker_rows(cases, process, publication, letters)
    restricted_dir.mkdir(parents=True, exist_ok=True)
    csv_path = restricted_dir / f"{TRACKER}.csv"
    atomic.write_text(csv_path, tracker.to_csv(index=False, lineterminator="\n"))
    when = datetime.combine(date.fromisoformat(str(results.meta.get("data_cutoff") or config.data_cutoff)[:10]),
                            datetime.min.time())
    xlsx_path = restricted_dir / f"{TRACKER}.xlsx"
    atomic.write_bytes(xlsx_path, tracker_workbook(tracker, process, results.synthetic, when))
    letter_paths = [restricted_dir / p for paths in letters.values() for p in paths]
    return [write_readme(restricted_dir, config, results.synthetic), csv_path, xlsx_path, *letter_paths]

