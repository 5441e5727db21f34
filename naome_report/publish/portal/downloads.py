"""The portal's CSV downloads: rows of the public data files copied verbatim, split per organisation, indicator or chart."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from naome_report.hub import Results
from naome_report.publish.portal.model import safe_name

# The public files split per organisation on its page, and the Results table each was read into.
ORG_FILES = {"naome_indicators.csv": "indicators", "naome_run_charts.csv": "run_charts",
             "naome_survival.csv": "survival", "naome_survival_curves.csv": "survival_curves",
             "naome_data_completeness.csv": "data_completeness"}
Write = Callable[[str, str], Path]


def indicator_csv(ind_id: str) -> str:
    """Every unit's rows of one indicator (pooled period and financial years), from the portal root."""
    return f"downloads/indicator-{safe_name(ind_id)}.csv"


def funnel_csv(ind_id: str) -> str:
    """The funnel limits of one indicator, from the portal root (named as a slice of the hub file, whose `n` the
    disclosure audit knows is the funnel's axis, not a count of patients)."""
    return f"downloads/{safe_name(ind_id)}_naome_funnel_limits.csv"


def run_chart_csv(code: str) -> str:
    """Every run-chart point of one unit (each chart's rows are those of its indicator), from the portal root."""
    return f"downloads/{safe_name(code)}_naome_run_charts.csv"


def split_lines(source: Path, frame: pd.DataFrame, mask: pd.Series, keys: list[str]) -> tuple[str, dict[tuple, list[str]]]:
    """The header line of a CSV file and its lines where `mask` holds, grouped by the values of `keys`."""
    lines = source.read_text(encoding="utf-8").splitlines(keepends=True)
    header, body = (lines[0], lines[1:]) if lines else ("", [])
    if len(body) == len(frame):
        # One line per record (no line breaks inside quoted fields): the loaded frame indexes the lines.
        chosen = frame.loc[mask.to_numpy(), keys]
        positions = frame.index.get_indexer(chosen.index)
        out: dict[tuple, list[str]] = {}
        for key, pos in zip(zip(*(chosen[k].astype(str) for k in keys)), positions):
            out.setdefault(key, []).append(body[pos])
        return header, out
    return header, _split_parsed(header, body, frame, mask, keys)


def _split_parsed(header: str, body: list[str], frame: pd.DataFrame, mask: pd.Series, keys: list[str]) -> dict[tuple, list[str]]:
    """The slow path for files with line breaks inside fields: parse, then write each chosen record back."""
    records = list(csv.reader(body))
    columns = next(csv.reader([header]))
    at = [columns.index(k) for k in keys]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    out: dict[tuple, list[str]] = {}
    for fields, keep in zip(records, mask.to_numpy()):
        if keep:
            buffer.seek(0)
            buffer.truncate()
            writer.writerow(fields)
            out.setdefault(tuple(fields[i] for i in at), []).append(buffer.getvalue())
    return out


def write_downloads(write: Write, results: Results, org_codes: set[str]) -> dict[str, list[dict[str, str]]]:
    """Each organisation's rows of the public data files; returns, per organisation, its files (from the root)."""
    out: dict[str, list[dict[str, str]]] = {code: [] for code in org_codes}
    for name, attr in ORG_FILES.items():
        frame = getattr(results, attr, None)
        source = results.data_dir / name
        if frame is None or not source.exists() or frame.empty or "org_code" not in frame or "level" not in frame:
            continue
        mask = (frame["level"] == "organisation") & frame["org_code"].astype(str).isin(org_codes)
        header, groups = split_lines(source, frame, mask, ["org_code"])
        for (code,), lines in sorted(groups.items()):
            rel = f"downloads/{safe_name(code)}_{name}"
            write(rel, header + "".join(lines))
            out[code].append({"name": name, "href": rel, "rows": f"{len(lines):,}"})
    return out


def write_indicator_files(write: Write, results: Results) -> None:
    """Per indicator: every unit's rows (pooled period and financial years) and the funnel limits."""
    frame = results.indicators
    mask = frame["period_type"].ne("quarter") if "period_type" in frame else pd.Series(True, index=frame.index)
    header, groups = split_lines(results.data_dir / "naome_indicators.csv", frame, mask, ["indicator_id"])
    for (ind_id,), lines in groups.items():
        write(indicator_csv(ind_id), header + "".join(lines))
    limits = results.funnel_limits
    if not limits.empty:
        header, groups = split_lines(results.data_dir / "naome_funnel_limits.csv", limits,
                                     pd.Series(True, index=limits.index), ["indicator_id"])
        for (ind_id,), lines in groups.items():
            write(funnel_csv(ind_id), header + "".join(lines))


def write_run_chart_files(write: Write, results: Results, codes: set[str]) -> None:
    """The run-chart points of units other than organisations (whose files write_downloads writes)."""
    frame = results.run_charts
    if frame.empty or not codes:
        return
    mask = frame["org_code"].astype(str).isin(codes) & frame["level"].ne("organisation")
    header, groups = split_lines(results.data_dir / "naome_run_charts.csv", frame, mask, ["org_code"])
    for (code,), lines in groups.items():
        write(run_chart_csv(code), header + "".join(lines))
