"""Write the metrics table files: the .xlsx and its .ods copy, from one model measured once."""

from __future__ import annotations

from pathlib import Path

from naome_report import atomic
from naome_report.config import Config
from naome_report.hub import Results
from naome_report.publish.gc_batch import batched_gc
from naome_report.publish.workbook import workbook_filename
from naome_report.publish.workbook.layout import sheet_layouts
from naome_report.publish.workbook.model import build_model
from naome_report.publish.workbook.ods import render_ods
from naome_report.publish.workbook.xlsx import render_xlsx
from naome_report.registry import Registry


def build_workbook(results: Results, registry: Registry, config: Config, out_dir: Path) -> list[Path]:
    """Write the metrics table as .xlsx and .ods into out_dir; return both paths.

    The model and both writers make millions of small objects, none of them in a reference cycle that matters
    before the end: the collector is off meanwhile and runs once after (see `gc_batch`), instead of walking the
    growing tables again and again (0.28 of 3.9 CPU s).
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    xlsx = out_dir / workbook_filename(results.primary_period, config.section("audit").get("output_version", 1))
    ods = xlsx.with_suffix(".ods")
    with batched_gc():
        model = build_model(results, registry, config)
        layouts = sheet_layouts(model.sheets)
        atomic.write_bytes(xlsx, render_xlsx(model, layouts))
        atomic.write_bytes(ods, render_ods(model, layouts))
        del model, layouts
    return [xlsx, ods]
