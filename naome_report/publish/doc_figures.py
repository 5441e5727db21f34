"""The national documents' figures, each drawn once into `<out_dir>/figures` with its alt text."""

from __future__ import annotations

import gc
import multiprocessing
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from naome_report.charts.bars import ranked_bar_chart  # noqa: E402
from naome_report.charts.flow import patient_flow_diagram  # noqa: E402
from naome_report.charts.funnel import funnel_plot  # noqa: E402
from naome_report.charts.save import save_figure  # noqa: E402
from naome_report.charts.survival import km_plot  # noqa: E402
from naome_report.hub import Results  # noqa: E402
from naome_report.machine import available_cores  # noqa: E402
from naome_report.publish.doc_context import fmt, fmt_count, org_rows  # noqa: E402
from naome_report.publish.render import batched_gc, start_gc_batch  # noqa: E402
from naome_report.registry import Indicator, Registry  # noqa: E402

DPI = 200
FIGURE_DIR = "figures"


def _save(fig: Figure, out_dir: Path, name: str, alt: str, synthetic: bool) -> dict[str, str]:
    """Save a PNG under figures/ and return its relative path and alt text (the figure is garbage once unused)."""
    alt = " ".join(alt.replace('"', "'").split())
    asset = save_figure(fig, out_dir / FIGURE_DIR / f"{name}.png", alt, fmt="png", dpi=DPI, synthetic=synthetic)
    return {"path": f"{FIGURE_DIR}/{name}.png", "alt": asset.alt_text}


def funnel_figure(results: Results, ind: Indicator, out_dir: Path) -> dict[str, str] | None:
    """Organisations' values of one indicator against their patients, with 95% and 99.8% limits."""
    period = results.primary_period
    rows = org_rows(results, ind.id, period)
    rows = rows[rows.status == "published"].copy()
    value = "adjusted_percentage" if ind.is_casemix_adjusted else "percentage"
    rows["percentage"] = rows[value]
    rows = rows.dropna(subset=["percentage", "denominator"])
    lim = results.funnel_limits
    lim = lim[(lim.indicator_id == ind.id) & (lim.period == period) & (lim.subgroup == "all")].sort_values("n")
    if rows.empty or lim.empty:
        return None
    target = float(lim.target.iloc[0])
    # Outlier-process indicators are drawn by HQIP status, the others by position (no alert / alarm words).
    marker = "outlier_status" if ind.outlier_process else "funnel_position"
    points = rows[["org_code", "org_name", "denominator", "percentage", marker]]
    adjusted = " (case-mix adjusted)" if ind.is_casemix_adjusted else ""
    fig = funnel_plot(points, lim, target, f"{ind.title}{adjusted}", "Patients (%)")
    counts = rows.funnel_position.value_counts()
    alt = (f"Funnel plot of {ind.title_in_sentence}{adjusted} for {fmt(len(points), 'count')} organisations, "
           f"{period}. The national value is {fmt(target)}. {fmt(counts.get('above_998', 0), 'count')} "
           f"organisations are above and {fmt(counts.get('below_998', 0), 'count')} below the 99.8% limits; "
           f"{fmt(counts.get('above_95', 0), 'count')} above and {fmt(counts.get('below_95', 0), 'count')} "
           "below the 95% limits only. The data are in naome_indicators.csv.")
    return _save(fig, out_dir, f"funnel-{ind.id}", alt, results.synthetic)


def alliance_figure(results: Results, ind: Indicator, national: float, out_dir: Path) -> dict[str, str] | None:
    """Cancer alliances and Welsh regions ranked, with 95% CIs and the national value."""
    rows = org_rows(results, ind.id, results.primary_period, level="alliance")
    rows = rows[rows.nation.isin(ind.nations)]  # units of a nation the data do not cover have no value
    if rows.empty or pd.isna(national):
        return None
    frame = pd.DataFrame({
        "label": rows.org_name, "percentage": rows.percentage.where(rows.status == "published"),
        "ci_lower": rows.ci_lower_95, "ci_upper": rows.ci_upper_95,
        "group": rows.nation.map({"England": "Cancer Alliance", "Wales": "Welsh region"}),
    })
    fig = ranked_bar_chart(frame, national, "By Cancer Alliance and Welsh region" if "Wales" in ind.nations
                           else "By Cancer Alliance", f"{ind.counted.capitalize()} (%)",
                           national_label="National" if len(ind.nations) > 1 else ind.coverage)
    shown = frame.dropna(subset=["percentage"]).sort_values("percentage")
    span = (f"Values range from {fmt(shown.percentage.iloc[0])} ({shown.label.iloc[0]}) to "
            f"{fmt(shown.percentage.iloc[-1])} ({shown.label.iloc[-1]}). " if len(shown) else "")
    alt = (f"Bar chart of {ind.title_in_sentence} for {len(frame)} Cancer Alliances"
           f"{' and Welsh regions' if 'Wales' in ind.nations else ''}, ranked, "
           f"with 95% confidence intervals and the {ind.coverage} value of {fmt(national)}. {span}"
           "The data are in naome_indicators.csv.")
    return _save(fig, out_dir, f"alliance-{ind.id}", alt, results.synthetic)


def km_figure(results: Results, group_type: str, out_dir: Path) -> dict[str, str] | None:
    """Kaplan–Meier curves of the national cohort by route or subtype."""
    c = results.survival_curves
    c = c[(c.level == "national") & (c.group_type == group_type)]
    if c.empty:
        return None
    curves = c.rename(columns={"survival_percentage": "survival", "ci_lower_95": "ci_lower",
                               "ci_upper_95": "ci_upper"})[["group", "time_years", "survival", "ci_lower", "ci_upper"]]
    words = {"route": "de novo and recurrent metastatic breast cancer", "subtype": "subtype"}[group_type]
    fig = km_plot(curves, f"Survival by {words}")
    s = results.survival
    s = s[(s.level == "national") & (s.period == results.primary_period) & (s.group_type == group_type)
          & (s.status == "published")]
    parts = [f"{g}: {fmt(r[r.time_years == 1].survival_percentage.iloc[0])} at 1 year and "
             f"{fmt(r[r.time_years == 3].survival_percentage.iloc[0])} at 3 years"
             for g, r in s.groupby("group", sort=False) if set(r.time_years) >= {1, 3}]
    alt = (f"Kaplan–Meier survival curves by {words}, England and Wales, with 95% confidence bands. "
           + "; ".join(parts) + ". The data are in naome_survival_curves.csv.")
    return _save(fig, out_dir, f"survival-{group_type}", alt, results.synthetic)


def flow_figure(results: Results, out_dir: Path) -> dict[str, str] | None:
    """The cohort derivation as a flow diagram: extract, exclusions, cohort (routes are in the table)."""
    flow = results.flow
    if flow.empty:
        return None
    first, cohort = flow.iloc[0], flow[flow.step == "cohort"]
    if cohort.empty:
        return None
    between = flow.iloc[1:cohort.index[0]]
    def count(row: Any) -> int | str:
        status = getattr(row, "status", "published")
        return fmt_count(row.count, status) if status == "suppressed" else int(row.count)

    steps = [{"label": first.label, "count": count(next(flow.iloc[:1].itertuples()))},
             {"label": cohort.label.iloc[0], "count": count(next(cohort.itertuples()))}]
    exclusions = [{"after_step_index": 0, "label": r.label, "count": count(r)} for r in between.itertuples()]
    fig = patient_flow_diagram(steps, exclusions, title="How the audit cohort was formed")
    alt = ("Patient-flow diagram. " + "; ".join(f"{r.label}: {fmt_count(r.count, getattr(r, 'status', 'published'))}"
                                                 for r in flow.itertuples())
           + ". The data are in naome_patient_flow.csv.")
    return _save(fig, out_dir, "patient-flow", alt, results.synthetic)


_SHARED: dict[str, Any] = {}


def _draw_job(job: tuple[str, str]) -> tuple[str, str, dict[str, str] | None]:
    """Draw one figure (in a forked worker that inherited the results; in a GC batch, its garbage is collected after)."""
    try:
        return _draw(job)
    finally:
        if not gc.isenabled():  # in a batch: the figure's garbage goes now, so memory stays flat
            gc.collect()


def _draw(job: tuple[str, str]) -> tuple[str, str, dict[str, str] | None]:
    kind, key = job
    results, registry, out_dir = _SHARED["results"], _SHARED["registry"], _SHARED["out_dir"]
    if kind == "funnel":
        return kind, key, funnel_figure(results, registry.get(key), out_dir)
    if kind == "alliance":
        ind = registry.get(key)
        return kind, key, alliance_figure(results, ind, _national_value(results, ind), out_dir)
    if kind == "km":
        return kind, key, km_figure(results, key, out_dir)
    return kind, key, flow_figure(results, out_dir)


def draw_all(results: Results, registry: Registry, entries: dict[str, dict[str, Any]], out_dir: Path,
             workers: int = 0) -> dict[str, Any]:
    """Draw every figure once (in parallel); indicator figures are stored in each entry's 'figures'."""
    jobs: list[tuple[str, str]] = [("flow", ""), ("km", "route"), ("km", "subtype")]
    for ind in registry:
        if ind.has_rate:
            jobs += [("funnel", ind.id)] if ind.has_funnel else []
            jobs.append(("alliance", ind.id))
    _SHARED.update(results=results, registry=registry, out_dir=out_dir)
    workers = workers or available_cores()
    if multiprocessing.current_process().daemon:  # a pool worker may not start processes of its own
        workers = 1
    try:
        if workers > 1:
            with multiprocessing.get_context("fork").Pool(workers, initializer=start_gc_batch) as pool:
                done = pool.map(_draw_job, jobs, chunksize=1)
        else:
            with batched_gc():
                done = [_draw_job(job) for job in jobs]
    finally:
        _SHARED.clear()
    shared: dict[str, Any] = {"flow": None, "km_route": None, "km_subtype": None}
    for kind, key, asset in done:
        if kind in ("funnel", "alliance"):
            entries[key]["figures"][kind] = asset
        else:
            shared["flow" if kind == "flow" else f"km_{key}"] = asset
    return shared


def _national_value(results: Results, ind: Indicator) -> float:
    """The national percentage of the primary period (subgroup all): England and Wales, or the one nation covered."""
    d = results.indicators
    hit = d[d.level.isin(["national", "nation"]) & (d.nation == ind.coverage) & (d.indicator_id == ind.id)
            & (d.period == results.primary_period) & (d.subgroup == "all")]
    return float(hit.percentage.iloc[0]) if len(hit) else float("nan")
