"""Turns one organisation's rows into the words and numbers its pack prints (selection and formatting only)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from naome_report.publish import pack_format as fmt
from naome_report.publish.pack_data import Common, OrgInfo, PackInput
from naome_report.publish.pack_shared import FunnelAsset
from naome_report.publish.pack_svg import run_chart_svg, survival_svg, year_labels, year_line_style
from naome_report.registry import GOAL_TITLES, Indicator, Registry, in_sentence

UNFAVOURABLE = "worse"
CHART_SCHEME = "pack-chart:"  # <img src> of a chart drawn for this pack, served from memory by pack_render
MIN_RUN_POINTS = 6  # fewer published quarters than this: no chart (the special-cause rules need a run of points)


@dataclass
class SummaryRow:
    """One indicator's line on the summary page."""

    id: str
    title: str
    direction: str
    value: str
    ci: str
    counts: str
    extra: str
    parent: str
    national: str
    symbol: str
    status: str
    completeness: str
    note: str
    published: bool
    outlier: str
    judgement: str
    completeness_note: str = ""


@dataclass
class SummaryGroup:
    """The summary rows of one quality-improvement goal."""

    goal: int
    title: str
    rows: list[SummaryRow] = field(default_factory=list)


@dataclass
class FunnelView:
    """One funnel plot: the shared background, this organisation's marker and a caption in words."""

    title: str
    src: str
    alt: str
    marker_css: str | None
    marker_class: str
    caption: str
    method: str


@dataclass
class RunChartView:
    """One quarterly run chart and its caption; `years` are printed under the chart (else they are in it)."""

    title: str
    src: str
    alt: str
    caption: str
    years: list[str] = field(default_factory=list)
    years_style: str = ""


@dataclass
class ActionRow:
    """A prompt on the action-planning page."""

    topic: str
    why: str
    review: str
    lead: str


@dataclass
class Settings:
    """What the context needs from the registry, configuration and templates (sent once to each worker)."""

    registry: Registry
    completeness_threshold: float
    prompts: dict[str, Any]
    audit_name: str
    short_name: str
    publisher: str
    funnel_method: str


def _value(row: dict[str, Any], ind: Indicator, nation: str) -> str:
    """The headline value of a row, or the reason it has none."""
    if row.get("status") != "published":
        return fmt.missing_text(str(row.get("status") or "not_available"), nation)
    if not ind.has_rate:
        return f"{fmt.count(row.get('numerator'))} patients"
    return fmt.pct(row.get("percentage"))


def _comparator(row: dict[str, Any] | None, ind: Indicator, nation: str) -> str:
    """An alliance/region value (percentage or count)."""
    if not row:
        return fmt.DASH
    if row.get("status") != "published":
        return fmt.missing_text(str(row.get("status") or "not_available"), nation)
    return fmt.count(row.get("numerator")) if not ind.has_rate else fmt.pct(row.get("percentage"))


def _national(row: dict[str, Any], nat_row: dict[str, Any] | None, ind: Indicator) -> str:
    """The national comparator: the row's own national_percentage, else the national row."""
    if ind.has_rate and not fmt.is_blank(row.get("national_percentage")):
        return fmt.pct(row["national_percentage"])
    return _comparator(nat_row, ind, "England and Wales")


def _extra(row: dict[str, Any], ind: Indicator) -> str:
    """A second line under the value: median days, or the case-mix adjusted rate."""
    if row.get("status") != "published":
        return ""
    if not fmt.is_blank(row.get("median_days")):
        return f"Median {fmt.days(row['median_days'])}"
    if ind.is_casemix_adjusted and not fmt.is_blank(row.get("adjusted_percentage")):
        return (f"Adjusted {fmt.pct(row['adjusted_percentage'])} (O/E {fmt.ratio(row.get('observed_expected'))})")
    return ""


def _counts(row: dict[str, Any], ind: Indicator) -> str:
    """'90 of 145' (or the denominator alone when the numerator is withheld)."""
    if not ind.has_rate or row.get("status") not in ("published", "too_few"):
        return ""
    if row.get("status") == "published" and not fmt.is_blank(row.get("numerator")):
        return f"{fmt.count(row['numerator'])} of {fmt.count(row.get('denominator'))}"
    return f"{fmt.count(row.get('denominator'))} eligible" if not fmt.is_blank(row.get("denominator")) else ""


def summary_row(ind: Indicator, row: dict[str, Any], parent: dict[str, Any] | None, nat: dict[str, Any] | None,
                org: OrgInfo, threshold: float) -> SummaryRow:
    """One summary line, straight from the published row."""
    status = str(row.get("outlier_status") or "not_assessed")
    note = str(row.get("outlier_note") or "")
    published = row.get("status") == "published"
    return SummaryRow(
        id=ind.id, title=ind.title, direction=ind.direction_text, value=_value(row, ind, org.nation),
        ci=fmt.ci(row.get("ci_lower_95"), row.get("ci_upper_95")) if published else "",
        counts=_counts(row, ind), extra=_extra(row, ind), parent=_comparator(parent, ind, org.nation),
        national=_national(row, nat, ind), symbol=fmt.outlier_symbol(status),
        status=fmt.outlier_words(status, note, ind.direction),
        completeness=fmt.completeness_words(row.get("completeness_flag"), bool(ind.completeness_from), threshold),
        note=str(row.get("status_note") or "") if published else "", published=published, outlier=status,
        judgement=fmt.favourability(status, ind.direction),
        completeness_note=_flag_text(row.get("completeness_flag")),
    )


def _flag_text(flag: Any) -> str:
    """The completeness flag as the CSV words it ('yes' says nothing more)."""
    if not fmt.is_flagged(flag) or str(flag).strip().lower() in ("yes", "true", "1"):
        return ""
    return str(flag).strip()


def summary(pack: PackInput, common: Common, settings: Settings) -> list[SummaryGroup]:
    """Summary rows grouped by QI goal, in registry order."""
    groups: dict[int, SummaryGroup] = {}
    for ind in settings.registry:
        row = pack.rows.get(ind.id)
        if row is None:
            continue
        group = groups.setdefault(ind.goal, SummaryGroup(ind.goal, GOAL_TITLES.get(ind.goal, "")))
        group.rows.append(summary_row(ind, row, pack.parent_rows.get(ind.id), common.national_rows.get(ind.id),
                                      pack.org, settings.completeness_threshold))
    return [groups[g] for g in sorted(groups, key=lambda g: (g == 0, g))]


def funnel_view(ind: Indicator, asset: FunnelAsset, row: dict[str, Any] | None, org: OrgInfo,
                marker_css: str | None) -> FunnelView:
    """The shared funnel with this organisation's marker, and a caption saying where it falls."""
    row = row or {}
    marker = marker_css
    status = str(row.get("outlier_status") or "not_assessed")
    if row.get("status") == "published" and not fmt.is_blank(row.get(asset.value_column)):
        what = "case-mix adjusted " if asset.value_column == "adjusted_percentage" else ""
        caption = (f"{org.name} ({org.code}): {what}{fmt.pct(row[asset.value_column])} of "
                   f"{fmt.count(row.get('denominator'))} patients, {fmt.outlier_sentence(status, str(row.get('outlier_note') or ''))}.")
        if marker is None:
            caption += " The point lies outside the plotted range."
    else:
        caption = f"{org.name} ({org.code}) is not shown: {in_sentence(fmt.missing_text(str(row.get('status') or 'not_available'), org.nation))}."
        marker = None
    return FunnelView(title=ind.title, src=asset.src, alt=asset.alt_text, marker_css=marker,
                      marker_class=status if status in fmt.OUTLIER_WORDS else "not_assessed", caption=caption,
                      method=asset.method)


def funnels(pack: PackInput, assets: dict[str, FunnelAsset], settings: Settings) -> list[FunnelView]:
    """One funnel per organisation-level indicator with a background, in registry order."""
    return [funnel_view(ind, assets[ind.id], pack.rows.get(ind.id), pack.org, pack.funnel_markers.get(ind.id))
            for ind in settings.registry if ind.id in assets]


def _run_caption(points: list[dict[str, Any]], trial: bool) -> str:
    """Latest quarter, centre line, limits and special causes in words."""
    published = [p for p in points if _is_published(p)]
    if not published:
        return "No quarter has a published value."
    last = published[-1]
    text = (f"Latest quarter ({last['period']}): {fmt.pct(last['percentage'])}. Centre {fmt.pct(last.get('centre'))}, "
            f"process limits {fmt.pct(last.get('lower_limit'))} to {fmt.pct(last.get('upper_limit'))}"
            f"{' (trial limits)' if trial else ''}.")
    specials: dict[str, list[tuple[int, str]]] = {}
    for i, p in enumerate(points):
        if _is_published(p) and str(p.get("special_cause", "")).lower() in ("yes", "true", "1"):
            kind = fmt.VARIATION_WORDS.get(str(p.get("variation") or ""), "special cause")
            specials.setdefault(kind, []).append((i, str(p["period"])))
    for kind, quarters in specials.items():
        text += f" Special cause ({kind}): {quarter_runs(quarters)}."
    if not specials:
        text += " Common cause variation only."
    gaps = len(points) - len(published)
    if gaps:
        text += f" No value for {gaps} of {len(points)} quarters (suppressed, too few patients or not available)."
    return text


def quarter_runs(quarters: list[tuple[int, str]]) -> str:
    """Quarters (position in the series, label) as a list, three or more consecutive ones as a range.

    '2023/24 Q1 to 2023/24 Q3, 2024/25 Q2': the same quarters as listing each one, in fewer lines.
    """
    runs: list[list[tuple[int, str]]] = []
    for quarter in quarters:
        if runs and quarter[0] == runs[-1][-1][0] + 1:
            runs[-1].append(quarter)
        else:
            runs.append([quarter])
    parts = [[f"{run[0][1]} to {run[-1][1]}"] if len(run) >= 3 else [q[1] for q in run] for run in runs]
    return ", ".join(label for part in parts for label in part)


def _is_published(point: dict[str, Any]) -> bool:
    return point.get("status") == "published" and not fmt.is_blank(point.get("percentage"))


def _published_count(points: list[dict[str, Any]]) -> int:
    return sum(1 for p in points if _is_published(p))


def chart_src(charts: dict[str, str], svg: str) -> str:
    """Keep a pack's SVG chart in `charts` and return the address its <img> uses (no data: URI to encode and decode)."""
    src = f"{CHART_SCHEME}{len(charts)}"
    charts[src] = svg
    return src


def run_charts(pack: PackInput, settings: Settings, charts: dict[str, str]) -> list[RunChartView]:
    """A run chart for each indicator with enough published quarters for this organisation."""
    views = []
    for ind in settings.registry:
        points = pack.run_charts.get(ind.id)
        if not ind.run_chart or not points or _published_count(points) < MIN_RUN_POINTS:
            continue
        trial = any(str(p.get("limits_status")) == "trial" for p in points)
        label = f"Run chart of {ind.title_in_sentence} by quarter for {pack.org.name}"
        years = year_labels(points)
        svg = run_chart_svg(points, label, years_below=bool(years))
        if svg:
            views.append(RunChartView(ind.title, chart_src(charts, svg), label, _run_caption(points, trial), years,
                                      year_line_style(len(points), len(years)) if years else ""))
    return views


def uncharted(pack: PackInput, settings: Settings) -> list[dict[str, str]]:
    """Indicators with a quarterly series but too few published quarters to chart."""
    out = []
    for ind in settings.registry:
        points = pack.run_charts.get(ind.id)
        if ind.run_chart and points and _published_count(points) < MIN_RUN_POINTS:
            why = f"published for {_published_count(points)} of {len(points)} quarters"
            gone = sum(1 for p in points if p.get("status") == "not_available")
            if gone:
                why += f" ({gone} not available for {pack.org.nation})"
            out.append({"title": ind.title, "why": why})
    return out


def survival_rows(pack: PackInput, common: Common) -> list[dict[str, str]]:
    """Survival at each published time point: this organisation against England and Wales."""
    national = {float(r["time_years"]): r for r in common.national_survival}
    out = []
    for row in pack.survival or [{"time_years": t, "status": "too_few"} for t in national]:
        t = float(row["time_years"])
        nat = national.get(t, {})
        own_ok = row.get("status") == "published"
        out.append({
            "time": f"{t:g} year{'s' if t != 1 else ''}",
            "own": fmt.pct(row.get("survival_percentage")) if own_ok else fmt.missing_text(str(row.get("status")), pack.org.nation),
            "own_ci": fmt.ci(row.get("ci_lower_95"), row.get("ci_upper_95")) if own_ok else "",
            "patients": fmt.count(row.get("patients")) if own_ok else "",
            "national": fmt.pct(nat.get("survival_percentage")),
            "national_ci": fmt.ci(nat.get("ci_lower_95"), nat.get("ci_upper_95")),
        })
    return out


def survival_view(pack: PackInput, common: Common, charts: dict[str, str]) -> dict[str, Any]:
    """The survival page: chart, table and whether this organisation has a curve."""
    label = f"Survival after diagnosis of metastatic breast cancer: {pack.org.name} against England and Wales"
    svg = survival_svg(pack.survival_curve, common.national_curve, label)
    return {"src": chart_src(charts, svg) if svg else "", "alt": label,
            "rows": survival_rows(pack, common), "has_own_curve": bool(pack.survival_curve)}


def completeness(pack: PackInput, common: Common, settings: Settings, rows: list[SummaryGroup]) -> dict[str, Any]:
    """Completeness indicators (with bar widths) and the indicators flagged for low completeness."""
    items = []
    for ind in settings.registry:
        row = pack.rows.get(ind.id)
        if ind.type != "completeness" or row is None:
            continue
        nat = common.national_rows.get(ind.id, {})
        own_pct = row.get("percentage") if row.get("status") == "published" else None
        items.append({
            "title": ind.title, "value": _value(row, ind, pack.org.nation),
            "ci": fmt.ci(row.get("ci_lower_95"), row.get("ci_upper_95")) if own_pct is not None else "",
            "parent": _comparator(pack.parent_rows.get(ind.id), ind, pack.org.nation),
            "national": _national(row, nat, ind),
            "bar": f"{float(own_pct):.1f}" if own_pct is not None else None,
            "national_bar": (f"{float(row['national_percentage']):.1f}" if not fmt.is_blank(row.get("national_percentage"))
                             else None),
        })
    flagged = [r for g in rows for r in g.rows if r.completeness.startswith("Low")]
    return {"items": items, "flagged": flagged, "threshold": f"{settings.completeness_threshold:.0%}"}


def actions(groups: list[SummaryGroup], settings: Settings) -> list[ActionRow]:
    """Prompts for unfavourable outliers and flagged completeness, then favourable outliers, then standing prompts."""
    prompts = settings.prompts.get("indicators", {})
    urgent, learn = [], []
    for row in (r for g in groups for r in g.rows):
        entry = prompts.get(row.id, {})
        why = f"{row.symbol} {row.status}: {row.value}" + (f" (95% CI {row.ci})" if row.ci else "")
        if row.judgement == UNFAVOURABLE or (row.outlier.startswith("alarm") and not row.judgement):
            urgent.append(ActionRow(row.title, why, entry.get("review", ""), entry.get("lead", "")))
        elif row.completeness.startswith("Low"):
            urgent.append(ActionRow(row.title, f"Data completeness {row.completeness.lower()}", entry.get("review", ""),
                                    entry.get("lead", "")))
        elif row.judgement == "better":
            learn.append(ActionRow(row.title, why, settings.prompts.get("better_than_expected", ""), entry.get("lead", "")))
    standing = [ActionRow("Every MDT", "Standing prompt", s["review"], s["lead"]) for s in settings.prompts.get("standing", [])]
    return urgent + learn + standing


def build_context(pack: PackInput, common: Common, settings: Settings, assets: dict[str, FunnelAsset]) -> dict[str, Any]:
    """Everything the pack template prints for one organisation."""
    groups = summary(pack, common, settings)
    charts: dict[str, str] = {}
    return {
        "charts": charts,
        "org": pack.org, "period": common.period, "data_cutoff": common.data_cutoff, "synthetic": common.synthetic,
        "audit_name": settings.audit_name, "short_name": settings.short_name, "publisher": settings.publisher,
        "summary": groups, "funnels": funnels(pack, assets, settings), "run_charts": run_charts(pack, settings, charts),
        "uncharted": uncharted(pack, settings), "min_run_points": MIN_RUN_POINTS,
        "survival": survival_view(pack, common, charts), "completeness": completeness(pack, common, settings, groups),
        "actions": actions(groups, settings), "threshold": f"{settings.completeness_threshold:.0%}",
        "symbols": fmt.OUTLIER_WORDS, "funnel_method": settings.funnel_method,
    }
