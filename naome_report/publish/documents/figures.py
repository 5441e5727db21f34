"""The national documents' figures, each drawn once into `<out_dir>/figures` as SVG (text kept as text) with its alt text."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from naome_report.charts.bars_svg import ranked_bar_svg  # noqa: E402
from naome_report.charts.flow import patient_flow_diagram  # noqa: E402
from naome_report.charts.funnel_plot_svg import funnel_plot_svg  # noqa: E402
from naome_report.charts.public import out_of_100_chart  # noqa: E402
from naome_report.charts.run_chart_svg import run_chart_svg  # noqa: E402
from naome_report.charts.save import CSS_PX_PER_INCH, save_figure, save_svg  # noqa: E402
from naome_report.charts.style import A4_TEXT_WIDTH_IN, DEFAULT_SIZE_IN  # noqa: E402
from naome_report.charts.survival import km_plot  # noqa: E402
from naome_report.hub import Results  # noqa: E402
from naome_report.publish.documents.context import PUBLIC_INDICATORS, adjustment_words, at_risk_table, org_rows  # noqa: E402
from naome_report.publish.documents.formatting import fmt, fmt_count  # noqa: E402
from naome_report.registry import Indicator, Registry  # noqa: E402
from naome_report.vocabulary import FUNNEL_POSITION  # noqa: E402

FIGURE_DIR = "figures"
UNIT_TYPE = {"England": "Cancer Alliance", "Wales": "Welsh region"}  # the alliance level's units, by nation
FUNNEL_SIZE_IN = DEFAULT_SIZE_IN
RUN_CHART_SIZE_IN = (A4_TEXT_WIDTH_IN, 2.8)  # lower than the funnels: it shares a page with the yearly table
# An indicator outside the outlier process is drawn by funnel position with the marker of the matching status.
POSITION_STYLE = {"above_998": "alarm_high", "above_95": "alert_high", "within": "within_limits",
                  "below_95": "alert_low", "below_998": "alarm_low", "not_assessed": "not_assessed"}
SURVIVAL_GROUPS = {"route": "de novo and recurrent metastatic breast cancer", "subtype": "subtype"}


def _save(fig: Figure, out_dir: Path, name: str, alt: str, synthetic: bool) -> dict[str, str]:
    """Save an SVG under figures/ (with the synthetic mark inside it for synthetic data) and return its relative
    path and alt text (the figure is garbage once unused)."""
    alt = " ".join(alt.replace('"', "'").split())
    asset = save_figure(fig, out_dir / FIGURE_DIR / f"{name}.svg", alt, fmt="svg", synthetic=synthetic)
    return {"path": f"{FIGURE_DIR}/{name}.svg", "alt": asset.alt_text}


def _save_svg(drawn: tuple[str, float, float], out_dir: Path, name: str, alt: str) -> dict[str, str]:
    """Save a hand-written SVG chart (its synthetic mark already drawn) under figures/ like `_save`."""
    alt = " ".join(alt.replace('"', "'").split())
    svg, width, height = drawn
    asset = save_svg(svg, out_dir / FIGURE_DIR / f"{name}.svg", alt, width, height)
    return {"path": f"{FIGURE_DIR}/{name}.svg", "alt": asset.alt_text}


def value_label(ind: Indicator, adjusted: bool | None = None) -> str:
    """The value axis title on two lines: what is measured, then of whom (and whether case-mix adjusted).

    'Died within 30 days of SACT (% of treated)' reads 'Died within 30 days of SACT' over
    '(% of treated, case-mix adjusted)' where the values are adjusted.
    """
    adjusted = ind.is_casemix_adjusted if adjusted is None else adjusted
    measure, _, unit = ind.axis_label.rpartition(" (")
    if not measure:
        return ind.axis_label + ("\n(case-mix adjusted)" if adjusted else "")
    return f"{measure}\n({unit.rstrip(')')}{', case-mix adjusted' if adjusted else ''})"


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
    if ind.outlier_process:  # drawn by HQIP outlier status: alerts and alarms
        points, labels = rows[["org_code", "org_name", "denominator", "percentage", "outlier_status"]], None
    else:  # drawn by funnel position, in words without 'alert' or 'alarm'
        points = rows[["org_code", "org_name", "denominator", "percentage"]].assign(
            outlier_status=rows.funnel_position.map(POSITION_STYLE))
        labels = {style: FUNNEL_POSITION[position].short for position, style in POSITION_STYLE.items()}
    counts = rows.funnel_position.value_counts()
    adjusted = f" {adjustment_words(ind)}." if ind.is_casemix_adjusted else ""
    alt = (f"Funnel plot of {ind.title_in_sentence} for {fmt(len(points), 'count')} organisations, "
           f"{period}.{adjusted} The national value is {fmt(target)}. {fmt(counts.get('above_998', 0), 'count')} "
           f"organisations are above and {fmt(counts.get('below_998', 0), 'count')} below the 99.8% limits; "
           f"{fmt(counts.get('above_95', 0), 'count')} above and {fmt(counts.get('below_95', 0), 'count')} "
           "below the 95% limits only. The data are in naome_indicators.csv.")
    size = (FUNNEL_SIZE_IN[0] * CSS_PX_PER_INCH, FUNNEL_SIZE_IN[1] * CSS_PX_PER_INCH)
    svg = funnel_plot_svg(points, lim, target, ind.title, value_label(ind), alt, size_px=size, status_labels=labels,
                          synthetic=results.synthetic)
    return _save_svg((svg, *size), out_dir, f"funnel-{ind.id}", alt)


def alliance_figure(results: Results, ind: Indicator, national: float, out_dir: Path) -> dict[str, str] | None:
    """Cancer alliances and Welsh regions ranked, with 95% CIs and the national value (adjusted where the indicator is)."""
    rows = org_rows(results, ind.id, results.primary_period, level="alliance")
    rows = rows[rows.nation.isin(ind.nations)]  # units of a nation the data do not cover have no value
    if rows.empty or pd.isna(national):
        return None
    published = rows.status == "published"
    if ind.is_casemix_adjusted:
        value, lower, upper = rows.adjusted_percentage, rows.adjusted_ci_lower_95, rows.adjusted_ci_upper_95
    else:
        value, lower, upper = rows.percentage, rows.ci_lower_95, rows.ci_upper_95
    frame = pd.DataFrame({"label": rows.org_name, "percentage": value.where(published), "ci_lower": lower,
                          "ci_upper": upper, "group": rows.nation.map(UNIT_TYPE)})
    with_wales = "Wales" in ind.nations
    title = "By Cancer Alliance and Welsh region" if with_wales else "By Cancer Alliance"
    shown = frame.dropna(subset=["percentage"]).sort_values("percentage")
    span = (f"Values range from {fmt(shown.percentage.iloc[0])} ({shown.label.iloc[0]}) to "
            f"{fmt(shown.percentage.iloc[-1])} ({shown.label.iloc[-1]}). " if len(shown) else "")
    adjusted = f"{adjustment_words(ind)}. " if ind.is_casemix_adjusted else ""
    alt = (f"Bar chart of {ind.title_in_sentence} for {len(frame)} Cancer Alliances"
           f"{' and Welsh regions' if with_wales else ''}, ranked, "
           f"with 95% confidence intervals and the {ind.coverage} value of {fmt(national)}. {adjusted}{span}"
           "The data are in naome_indicators.csv.")
    drawn = ranked_bar_svg(frame, national, title, value_label(ind), alt, national_label=ind.coverage,
                           synthetic=results.synthetic)
    return _save_svg(drawn, out_dir, f"alliance-{ind.id}", alt)


def run_figure(results: Results, ind: Indicator, out_dir: Path) -> dict[str, str] | None:
    """The national quarterly run chart of one indicator (England and Wales)."""
    r = results.run_charts
    r = r[(r.level == "national") & (r.indicator_id == ind.id)].sort_values("quarter_index")
    if r.empty or not r.chart_status.eq("charted").all():
        return None
    frame = pd.DataFrame({
        "period_label": r.period.astype(str).map(quarter_label), "value": r.percentage, "centre": r.centre,
        "lower": r.lower_limit, "upper": r.upper_limit, "special_cause": r.special_cause.eq("yes"),
        "variation": r.variation.where(r.variation.isin(["improvement", "concern", "neither"]), "common_cause"),
    })
    trial = bool(r.limits_status.eq("trial").any())
    signals = r[r.special_cause.eq("yes")]
    found = (f"{len(signals)} quarters show special-cause variation ({', '.join(signals.period.astype(str))})."
             if len(signals) else "No quarter shows special-cause variation.")
    alt = (f"Run chart of {ind.title_in_sentence}, England and Wales, by quarter from {r.period.iloc[0]} to "
           f"{r.period.iloc[-1]}, with its centre line at {fmt(r.centre.iloc[-1])} and "
           f"{'trial ' if trial else ''}process limits. {found} The data are in naome_run_charts.csv.")
    size = (RUN_CHART_SIZE_IN[0] * CSS_PX_PER_INCH, RUN_CHART_SIZE_IN[1] * CSS_PX_PER_INCH)
    svg = run_chart_svg(frame, "England and Wales, by quarter", value_label(ind, adjusted=False), alt,
                        trial_limits=trial, x_label="Quarter of diagnosis of metastatic breast cancer", size_px=size,
                        synthetic=results.synthetic)
    return _save_svg((svg, *size), out_dir, f"run-{ind.id}", alt)


def quarter_label(period: str) -> str:
    """'2023/24 Q1' as 'Q1' over '2023/24' (the year under each first quarter only), so labels stay level."""
    year, _, quarter = period.partition(" ")
    return f"{quarter}\n{year}" if quarter == "Q1" else quarter or period


def km_figure(results: Results, group_type: str, out_dir: Path) -> dict[str, str] | None:
    """Kaplan–Meier curves of the national cohort by route or subtype, with the numbers at risk beneath."""
    c = results.survival_curves
    c = c[(c.level == "national") & (c.group_type == group_type)]
    if c.empty:
        return None
    curves = c.rename(columns={"survival_percentage": "survival", "ci_lower_95": "ci_lower",
                               "ci_upper_95": "ci_upper"})[["group", "time_years", "survival", "ci_lower", "ci_upper"]]
    words = SURVIVAL_GROUPS[group_type]
    at_risk = at_risk_table(results, group_type)
    fig = km_plot(curves, f"Survival by {words}", at_risk=at_risk)
    s = results.survival
    s = s[(s.level == "national") & (s.period == results.primary_period) & (s.group_type == group_type)
          & (s.status == "published")]
    parts = [f"{g}: {fmt(r[r.time_years == 1].survival_percentage.iloc[0])} at 1 year and "
             f"{fmt(r[r.time_years == 3].survival_percentage.iloc[0])} at 3 years "
             f"({fmt(r[r.time_years == 3].at_risk.iloc[0], 'count')} still at risk at 3 years)"
             for g, r in s.groupby("group", sort=False) if set(r.time_years) >= {1, 3}]
    alt = (f"Kaplan–Meier survival curves by {words}, England and Wales, with 95% confidence bands and the "
           "number of people still at risk beneath. " + "; ".join(parts)
           + ". The data are in naome_survival_curves.csv and naome_survival.csv.")
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


def public_figure(results: Results, registry: Registry, out_dir: Path) -> dict[str, str] | None:
    """The patient report's chart: out of every 100 people in England and Wales, how many had each kind of care."""
    d = results.indicators
    d = d[(d.level == "national") & (d.period == results.primary_period) & (d.subgroup == "all")
          & d.indicator_id.isin(PUBLIC_INDICATORS)]
    value = d.set_index("indicator_id").percentage.where(d.set_index("indicator_id").status == "published")
    rows = [(registry.get(i).plain_title, value.get(i)) for i in PUBLIC_INDICATORS if i in value.index]
    if not rows:
        return None
    frame = pd.DataFrame(rows, columns=["label", "percentage"])
    fig = out_of_100_chart(frame, "Out of every 100 people")
    alt = ("Bar chart: out of every 100 people in the audit in England and Wales, how many had each kind of care. "
           + "; ".join(f"{label}: {fmt(v, 'count')} in 100" for label, v in rows if pd.notna(v)) + ".")
    return _save(fig, out_dir, "public-care", alt, results.synthetic)


def draw_all(results: Results, registry: Registry, entries: dict[str, dict[str, Any]], out_dir: Path) -> dict[str, Any]:
    """Draw every figure once; indicator figures are stored in each entry's 'figures'.

    In this process, one after another: about a second in all, less than a pool of workers costs to start.
    """
    figure_dir = out_dir / FIGURE_DIR
    if figure_dir.is_dir():  # figures of an earlier build (or of an older format) would linger beside the new
        for old in figure_dir.iterdir():
            if old.is_file():
                old.unlink()
    for ind in registry:
        if ind.has_rate:
            figures = entries[ind.id]["figures"]
            figures["funnel"] = funnel_figure(results, ind, out_dir) if ind.has_funnel else None
            figures["alliance"] = alliance_figure(results, ind, _national_value(results, ind), out_dir)
            figures["run"] = run_figure(results, ind, out_dir) if ind.run_chart else None
    return {"flow": flow_figure(results, out_dir), "km_route": km_figure(results, "route", out_dir),
            "km_subtype": km_figure(results, "subtype", out_dir), "public": public_figure(results, registry, out_dir)}


def _national_value(results: Results, ind: Indicator) -> float:
    """The national percentage of the primary period (subgroup all): England and Wales, or the one nation covered."""
    d = results.indicators
    hit = d[d.level.isin(["national", "nation"]) & (d.nation == ind.coverage) & (d.indicator_id == ind.id)
            & (d.period == results.primary_period) & (d.subgroup == "all")]
    return float(hit.percentage.iloc[0]) if len(hit) else float("nan")
