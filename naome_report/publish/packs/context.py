"""Turns one organisation's rows into the words and numbers its pack prints (selection and formatting only)."""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import groupby
from typing import Any

from naome_report.outlier_process import OutlierProcess
from naome_report.publish.packs import formatting as fmt
from naome_report.publish.packs.data import Common, OrgInfo, PackInput
from naome_report.publish.packs.funnels import FunnelAsset
from naome_report.publish.packs.severity import SEVERITY, Finding, findings
from naome_report.publish.packs.standing import standing, value_text
from naome_report.publish.packs.svg import run_chart_svg, survival_svg, year_labels, year_line_style
from naome_report.registry import GOAL_TITLES, Indicator, Registry, in_sentence
from naome_report.vocabulary import VARIATION

CHART_SCHEME = "pack-chart:"  # <img src> of a chart drawn for this pack, served from memory by packs.render


@dataclass
class SummaryRow:
    """One indicator's line on the summary page."""

    id: str
    title: str
    direction: str
    value: str
    ci: str
    counts: str
    extra: list[str]
    comparator: str
    comparator_vs: str
    national: str
    symbol: str
    status: str
    level: str
    in_process: bool
    completeness: str
    note: str
    published: bool
    caveat: str = ""


@dataclass
class SummaryGroup:
    """The summary rows of one quality-improvement goal."""

    goal: int
    title: str
    rows: list[SummaryRow] = field(default_factory=list)


@dataclass
class FunnelView:
    """One funnel plot: the shared chart, this organisation's ring and a caption in words."""

    title: str
    src: str  # an empty frame of the chart's size: the shared background goes under it (packs/backgrounds.py)
    anchor: str
    corner: str
    alt: str
    marker_css: str | None
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
    why: list[str]
    review: str
    lead: str
    kind: str = "standing"


@dataclass(frozen=True)
class Comparator:
    """The unit an organisation's results are compared with, by its proper name."""

    code: str
    name: str
    kind: str  # 'Cancer Alliance', 'Welsh region', 'nation'


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
    process: OutlierProcess
    min_run_points: int


ACTION_HEADINGS = {
    "alarm": "Alarms in the HQIP outlier process",
    "alert": "Alerts in the HQIP outlier process",
    "beyond_998": "Beyond the 99.8% funnel limits",
    "beyond_95": "Beyond the 95% funnel limits",
    "completeness": "Data completeness below the threshold",
    "better": "Better than expected: share what works",
    "standing": "For every MDT",
}
CAVEAT = "Caution: case-mix data incomplete."


def _value(row: dict[str, Any], ind: Indicator, nation: str) -> str:
    """The headline value of a row, or the reason it has none."""
    if row.get("status") != "published":
        return fmt.missing_text(str(row.get("status") or "not_available"), nation)
    if not ind.has_rate:
        return f"{fmt.count(row.get('numerator'))} patients"
    return fmt.pct(row.get("percentage"))


def _national(row: dict[str, Any], nat_row: dict[str, Any] | None, ind: Indicator) -> str:
    """The national value: the row's own national_percentage, else the national row."""
    if ind.has_rate and not fmt.is_blank(row.get("national_percentage")):
        return fmt.pct(row["national_percentage"])
    if not nat_row:
        return fmt.DASH
    if nat_row.get("status") != "published":
        return fmt.missing_text(str(nat_row.get("status") or "not_available"), "England and Wales")
    return fmt.count(nat_row.get("numerator")) if not ind.has_rate else fmt.pct(nat_row.get("percentage"))


def _comparator_value(row: dict[str, Any], ind: Indicator) -> str:
    """The comparator's value from the row itself (adjusted for case-mix adjusted outcomes)."""
    if not ind.has_rate or fmt.is_blank(row.get("comparator_code")):
        return fmt.DASH
    value = row.get("comparator_percentage")
    return fmt.pct(value) if not fmt.is_blank(value) else "Not published"


def _extra(row: dict[str, Any], ind: Indicator) -> list[str]:
    """Lines under the value: median days, or the case-mix adjusted rate with its CI and O/E."""
    if row.get("status") != "published":
        return []
    if not fmt.is_blank(row.get("median_days")):
        return [f"Median {fmt.days(row['median_days'])}"]
    if ind.is_casemix_adjusted and not fmt.is_blank(row.get("adjusted_percentage")):
        interval = fmt.ci(row.get("adjusted_ci_lower_95"), row.get("adjusted_ci_upper_95"))
        return [f"Adjusted {fmt.pct(row['adjusted_percentage'])}" + (f" ({interval})" if interval else ""),
                f"O/E {fmt.ratio(row.get('observed_expected'))}"]
    return []


def _counts(row: dict[str, Any], ind: Indicator) -> str:
    """'90 of 145' (or the denominator alone when the numerator is withheld)."""
    if not ind.has_rate or row.get("status") not in ("published", "too_few"):
        return ""
    if row.get("status") == "published" and not fmt.is_blank(row.get("numerator")):
        return f"{fmt.count(row['numerator'])} of {fmt.count(row.get('denominator'))}"
    return f"{fmt.count(row.get('denominator'))} eligible" if not fmt.is_blank(row.get("denominator")) else ""


def has_completeness_source(ind: Indicator) -> bool:
    """Whether the indicator rests on a data item whose completeness is checked (its own, or case-mix items)."""
    return bool(ind.completeness_from or ind.is_casemix_adjusted)


def summary_row(ind: Indicator, row: dict[str, Any], nat: dict[str, Any] | None, org: OrgInfo,
                threshold: float) -> SummaryRow:
    """One summary line, straight from the published row."""
    published = row.get("status") == "published"
    position = fmt.position_of(row)
    flagged = fmt.is_flagged(row.get("completeness_flag"))
    return SummaryRow(
        id=ind.id, title=ind.title, direction=ind.direction_text, value=_value(row, ind, org.nation),
        ci=fmt.ci(row.get("ci_lower_95"), row.get("ci_upper_95")) if published else "",
        counts=_counts(row, ind), extra=_extra(row, ind), comparator=_comparator_value(row, ind),
        comparator_vs=fmt.comparison_word(row.get("vs_comparator")), national=_national(row, nat, ind),
        symbol=position.symbol, status=position.label, level=position.level, in_process=position.in_process,
        completeness=fmt.completeness_words(row.get("completeness_flag"), has_completeness_source(ind), threshold),
        note=fmt.text(row.get("status_note")) if published else "", published=published,
        caveat=CAVEAT if flagged and ind.is_casemix_adjusted else "",
    )


def summary(pack: PackInput, common: Common, settings: Settings) -> list[SummaryGroup]:
    """Summary rows grouped by QI goal, in registry order."""
    groups: dict[int, SummaryGroup] = {}
    for ind in settings.registry:
        row = pack.rows.get(ind.id)
        if row is None:
            continue
        group = groups.setdefault(ind.goal, SummaryGroup(ind.goal, GOAL_TITLES.get(ind.goal, "")))
        group.rows.append(summary_row(ind, row, common.national_rows.get(ind.id), pack.org,
                                      settings.completeness_threshold))
    return [groups[g] for g in sorted(groups, key=lambda g: (g == 0, g))]


def comparator(pack: PackInput) -> Comparator:
    """The unit the hub compares this organisation with (the same for all its rows), named and typed."""
    named = [(fmt.text(r.get("comparator_code")), fmt.text(r.get("comparator_name"))) for r in pack.rows.values()]
    named = [n for n in named if n[0]]
    if not named:
        return Comparator("", "", "")
    code, name = max(set(named), key=named.count)
    kind = pack.org.parent_type if code == pack.org.parent_code else "nation"
    return Comparator(code, name, kind)


def funnel_view(ind: Indicator, asset: FunnelAsset, row: dict[str, Any] | None, org: OrgInfo,
                marker_css: str | None) -> FunnelView:
    """The shared funnel with this organisation's ring, and a caption saying where it falls."""
    row = row or {}
    marker = marker_css
    if row.get("status") == "published" and not fmt.is_blank(row.get(asset.value_column)):
        what = "case-mix adjusted " if asset.value_column == "adjusted_percentage" else ""
        position = fmt.position_of(row)
        caption = (f"{org.name} ({org.code}): {what}{fmt.pct(row[asset.value_column])} of "
                   f"{fmt.count(row.get('denominator'))} patients, {position.sentence}.")
        if marker is None:
            caption += " The point lies outside the plotted range."
    else:
        caption = f"{org.name} ({org.code}) is not shown: {in_sentence(fmt.missing_text(str(row.get('status') or 'not_available'), org.nation))}."
        marker = None
    return FunnelView(title=ind.title, src=asset.frame_src, anchor=asset.anchor, corner=asset.corner,
                      alt=asset.alt_text, marker_css=marker, caption=caption,
                      method=asset.method)


def funnels(pack: PackInput, assets: dict[str, FunnelAsset], settings: Settings) -> list[FunnelView]:
    """One funnel per indicator with a shared chart, in registry order."""
    return [funnel_view(ind, assets[ind.id], pack.rows.get(ind.id), pack.org, pack.funnel_markers.get(ind.id))
            for ind in settings.registry if ind.id in assets]


def _run_caption(points: list[dict[str, Any]], trial: bool) -> str:
    """Latest quarter, centre line, limits and special causes in words."""
    published = [p for p in points if _is_published(p)]
    if not published:
        return "No quarter has a published value."
    last = published[-1]
    latest = (f"Latest 12 months (to {last['period']})" if last.get("series") == "rolling_12_months"
              else f"Latest quarter ({last['period']})")
    text = (f"{latest}: {fmt.pct(last['percentage'])}. Centre {fmt.pct(last.get('centre'))}, "
            f"process limits {fmt.pct(last.get('lower_limit'))} to {fmt.pct(last.get('upper_limit'))}"
            f"{' (trial limits)' if trial else ''}.")
    specials: dict[str, list[tuple[int, str]]] = {}
    for i, p in enumerate(points):
        if _is_published(p) and str(p.get("special_cause", "")).lower() in ("yes", "true", "1"):
            term = VARIATION.get(str(p.get("variation") or ""), VARIATION["neither"])
            specials.setdefault(in_sentence(term.long), []).append((i, str(p["period"])))
    for kind, quarters in specials.items():
        text += f" {kind[0].upper()}{kind[1:]} in {quarter_runs(quarters)}."
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


def _charted(points: list[dict[str, Any]]) -> bool:
    """Whether the hub charts the series (else it has too few published points)."""
    return fmt.text(points[0].get("chart_status")) == "charted"


def chart_src(charts: dict[str, str], svg: str) -> str:
    """Keep a pack's SVG chart in `charts` and return the address its <img> uses (no data: URI to encode and decode)."""
    src = f"{CHART_SCHEME}{len(charts)}"
    charts[src] = svg
    return src


def run_charts(pack: PackInput, settings: Settings, charts: dict[str, str], synthetic: bool = False) -> list[RunChartView]:
    """A run chart for each indicator with enough published quarters for this organisation."""
    views = []
    for ind in settings.registry:
        points = pack.run_charts.get(ind.id)
        if not ind.run_chart or not points or not _charted(points):
            continue
        trial = any(str(p.get("limits_status")) == "trial" for p in points)
        label = f"Run chart of {ind.title_in_sentence} by quarter for {pack.org.name}"
        years = year_labels(points)
        svg = run_chart_svg(points, label, years_below=bool(years), synthetic=synthetic)
        if svg:
            views.append(RunChartView(ind.title, chart_src(charts, svg), label, _run_caption(points, trial), years,
                                      year_line_style(len(points), len(years)) if years else ""))
    return views


def uncharted(pack: PackInput, settings: Settings) -> list[dict[str, str]]:
    """Indicators with a quarterly series but too few published points to chart."""
    out = []
    for ind in settings.registry:
        points = pack.run_charts.get(ind.id)
        if ind.run_chart and points and not _charted(points):
            why = f"published for {fmt.count(points[0].get('points_published'))} of {len(points)} quarters"
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
    svg = survival_svg(pack.survival_curve, common.national_curve, label, synthetic=common.synthetic)
    return {"src": chart_src(charts, svg) if svg else "", "alt": label,
            "rows": survival_rows(pack, common), "has_own_curve": bool(pack.survival_curve)}


def completeness(pack: PackInput, common: Common, settings: Settings, groups: list[SummaryGroup]) -> dict[str, Any]:
    """Data items against the threshold (bar widths), the items below it, and the indicators flagged."""
    threshold = settings.completeness_threshold
    items = []
    for item in pack.completeness_items:
        own = item.get("percentage") if fmt.text(item.get("status")) in ("", "published") else None
        national = common.national_completeness.get(item["item"], {}).get("percentage")
        items.append({
            "title": fmt.text(item.get("item_title")) or fmt.text(item.get("item")),
            "value": fmt.pct(own) if own is not None else fmt.missing_text(fmt.text(item.get("status")), pack.org.nation),
            "counts": f"{fmt.count(item.get('recorded'))} of {fmt.count(item.get('eligible'))}" if own is not None else "",
            "bar": f"{float(own):.1f}" if not fmt.is_blank(own) else None,
            "national": fmt.pct(national),
            "national_bar": f"{float(national):.1f}" if not fmt.is_blank(national) else None,
            "below": fmt.text(item.get("below_threshold")).lower() == "yes",
        })
    flagged = [r for g in groups for r in g.rows if r.completeness.startswith("Low")]
    notes = {r.id: fmt.text(pack.rows[r.id].get("completeness_flag")) for r in flagged}
    return {"items": items, "flagged": flagged, "notes": notes, "threshold": f"{threshold:.0%}",
            "threshold_bar": f"{100 * threshold:.1f}", "below": [i for i in items if i["below"]]}


def _why(finding: Finding, ind: Indicator, nation: str) -> str:
    """The result behind an action, in a line."""
    if finding.kind == "completeness":
        return f"Data completeness: {fmt.text(finding.row.get('completeness_flag'))}"
    row = finding.row
    interval = ""
    if row.get("status") == "published":
        low, high = (("adjusted_ci_lower_95", "adjusted_ci_upper_95") if ind.is_casemix_adjusted
                     else ("ci_lower_95", "ci_upper_95"))
        interval = fmt.ci(row.get(low), row.get(high))
    process = " in the HQIP outlier process" if finding.position.in_process else ""
    return (f"{finding.position.symbol} {finding.position.label}{process}. {value_text(row, ind, nation)}"
            + (f" (95% CI {interval})" if interval else "") + f"; England and Wales {fmt.pct(row.get('national_percentage'))}")


def actions(pack: PackInput, settings: Settings) -> list[ActionRow]:
    """Prompts for the results needing attention, most severe first, then the standing prompts.

    One row per indicator and kind of finding, its subgroup results as lines of the same row (one review of
    the indicator, not one per subgroup); every result better than expected in one row (one prompt: share
    what works).
    """
    prompts = settings.prompts.get("indicators", {})
    rows: dict[tuple[str, str], ActionRow] = {}
    for f in findings(pack.rows, pack.subgroup_rows, settings.registry):
        ind = settings.registry.get(f.indicator_id)
        line = _why(f, ind, pack.org.nation)
        if f.kind == "better":
            key = ("", "better")
            line = f"{ind.title}" + (f" ({f.subgroup_label.lower()} patients)" if f.subgroup_label else "") + f": {line}"
            row = rows.setdefault(key, ActionRow("Results better than expected", [], settings.prompts.get("better_than_expected", ""),
                                                 settings.prompts.get("better_than_expected_lead", ""), "better"))
        else:
            entry = settings.prompts.get("low_completeness", {}) if f.kind == "completeness" else prompts.get(ind.id, {})
            row = rows.setdefault((ind.id, f.kind), ActionRow(ind.title, [], entry.get("review", ""), entry.get("lead", ""),
                                                              f.kind))
            if f.subgroup_label:
                line = f"{f.subgroup_label} patients: {line}"
        row.why.append(line)
    ordered = sorted(rows.values(), key=lambda r: SEVERITY.index(r.kind))  # stable: keeps severity order within a kind
    standing_prompts = [ActionRow("Every MDT", ["Standing prompt"], s["review"], s["lead"])
                        for s in settings.prompts.get("standing", [])]
    return ordered + standing_prompts


def action_groups(rows: list[ActionRow]) -> list[tuple[str, list[ActionRow]]]:
    """The action rows under a heading for each kind, keeping their order."""
    return [(ACTION_HEADINGS[kind], list(group)) for kind, group in groupby(rows, key=lambda r: r.kind)]


def build_context(pack: PackInput, common: Common, settings: Settings, assets: dict[str, FunnelAsset]) -> dict[str, Any]:
    """Everything the pack template prints for one organisation."""
    groups = summary(pack, common, settings)
    charts: dict[str, str] = {}
    return {
        "charts": charts,
        "org": pack.org, "period": common.period, "data_cutoff": common.data_cutoff, "synthetic": common.synthetic,
        "audit_name": settings.audit_name, "short_name": settings.short_name, "publisher": settings.publisher,
        "comparator": comparator(pack), "standing": standing(pack, settings.registry, settings.process),
        "summary": groups, "funnels": funnels(pack, assets, settings), "run_charts": run_charts(pack, settings, charts, common.synthetic),
        "uncharted": uncharted(pack, settings), "min_run_points": settings.min_run_points,
        "survival": survival_view(pack, common, charts), "completeness": completeness(pack, common, settings, groups),
        "action_groups": action_groups(actions(pack, settings)), "threshold": f"{settings.completeness_threshold:.0%}",
        "funnel_method": settings.funnel_method,
    }
