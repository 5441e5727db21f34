"""What each kind of portal page shows: landing, area (nation, region, alliance), organisation, indicator."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup

from naome_report.publish.portal import charts
from naome_report.publish.portal import downloads as dl
from naome_report.publish.portal.markup import (
    change_cell,
    comparator_cell,
    judgement,
    judgement_cell,
    outlier,
    outlier_cell,
    result_cell,
    rows_html,
    value_cell,
)
from naome_report.publish.portal.model import (
    ALL,
    EW,
    Portal,
    Unit,
    Value,
    comparison_term,
    fmt_count,
    fmt_pct,
    is_missing,
    safe_name,
    subgroup_text,
)
from naome_report.registry import GOAL_TITLES, Indicator
from naome_report.vocabulary import COMPARISON, FUNNEL_POSITION, OUTLIER_STATUS, VARIATION

REPORTS = (
    ("State of the Nation report", "state-of-the-nation"),
    ("Patient and public report", "patient-report"),
    ("Methodology supplement", "methodology-supplement"),
)
DATA_FILE_TEXT = {
    "naome_indicators.csv": "every indicator at every level, period and patient group",
    "naome_run_charts.csv": "run-chart points of each unit with their limits",
    "naome_funnel_limits.csv": "funnel-plot limits by number of patients",
    "naome_funnel_parameters.csv": "how each funnel's limits were set (overdispersion)",
    "naome_survival.csv": "survival at 1 and 3 years",
    "naome_survival_curves.csv": "Kaplan–Meier survival curves",
    "naome_cohort_summary.csv": "who is in the audit",
    "naome_patient_flow.csv": "patients included and excluded at each step",
    "naome_reconciliation.csv": "records read, quarantined, excluded and included",
    "naome_breakdowns.csv": "results by route, age, sex, deprivation and ethnicity",
    "naome_data_completeness.csv": "how completely each data item is recorded",
    "naome_survival_comparison.csv": "survival in England compared with Wales (log-rank test)",
    "naome_casemix_models.csv": "case-mix adjustment models",
    "naome_casemix_fit.csv": "how well the case-mix models fit",
    "naome_casemix_calibration.csv": "case-mix model calibration",
    "naome_run.json": "when and how these files were built",
}


def period_slug(period: str) -> str:
    """A period as it appears in a URL or an id: 2024/25 -> 2024-25."""
    return period.replace("/", "-").replace(" ", "-")


def period_options(model: Portal) -> list[dict[str, Any]]:
    """The periods a reader can choose between, the pooled one first (the default)."""
    out = [{"key": period_slug(model.period), "period": model.period, "label": f"{model.period} (all years)",
            "pooled": True}]
    for year in model.financial_years:
        latest = " (latest year)" if year == model.latest else ""
        out.append({"key": period_slug(year), "period": year, "label": f"{year}{latest}", "pooled": False})
    return out


def report_links() -> list[dict[str, Any]]:
    return [{"title": title, "formats": [("HTML", f"{stem}.html"), ("PDF", f"{stem}.pdf")]} for title, stem in REPORTS]


# ---------------------------------------------------------------------------- funnels shared by the pages

@dataclass
class Funnel:
    """An indicator's funnel for one period: limit curves, placed organisations and axes."""

    indicator: Indicator
    period: str
    curves: list[dict]
    points: list[charts.FunnelPoint]
    y_label: str
    method: str
    frame: Any
    labels: str
    synthetic: bool  # every chart image of synthetic results carries the synthetic mark

    @property
    def background_href(self) -> str:
        return f"assets/funnel-{safe_name(self.indicator.id)}.svg"

    def background(self) -> str:
        return charts.funnel_svg(self.curves, self.points, self.indicator.title, self.y_label, background=True,
                                 synthetic=self.synthetic)

    def full_svg(self, clip_id: str) -> Markup:
        return Markup(charts.funnel_svg(self.curves, self.points, f"Funnel plot: {self.indicator.title}, {self.period}",
                                        self.y_label, clip_id=clip_id, synthetic=self.synthetic))

    def point_of(self, code: str) -> charts.FunnelPoint | None:
        return next((p for p in self.points if p.unit.code == code), None)


def funnel_for(model: Portal, ind: Indicator, period: str) -> Funnel | None:
    curves = model.funnel_curves.get((ind.id, period), [])
    if not curves or not ind.has_rate:
        return None
    points = charts.funnel_points([(o, model.value(ind, o, period)) for o in model.organisations])
    y_label = "Case-mix adjusted %" if ind.is_casemix_adjusted else "Percentage of patients"
    method = next((str(c["method"]) for c in curves if not is_missing(c.get("method"))), "")
    frame, ystep, xstep = charts.funnel_frame(curves, [(p.n, p.y) for p in points])
    labels = charts.funnel_labels(frame, ystep, xstep, y_label)
    return Funnel(ind, period, curves, points, y_label, method, frame, labels, model.results.synthetic)


# ---------------------------------------------------------------------------- pieces used on several pages

def breadcrumbs(model: Portal, unit: Unit | None) -> list[dict[str, str]]:
    """Home (England and Wales), then each unit above `unit`, as links from the portal root."""
    if unit is None:
        return [{"name": "England and Wales", "href": "index.html"}]
    crumbs = [{"name": u.name if u.level != "national" else "England and Wales", "href": u.href}
              for u in model.ancestors(unit)]
    return crumbs


def judgement_counts(values: list[Value], attr: str) -> list[dict[str, Any]]:
    """How many results are better, similar, worse (higher, lower) than the reference, in vocabulary order."""
    counts: dict[str, int] = {}
    for val in values:
        code = getattr(val, attr)
        if code and code != "not_assessed":
            counts[code] = counts.get(code, 0) + 1
    return [{"code": code, "n": counts[code], "badge": judgement(code)} for code in COMPARISON if counts.get(code)]


def outlier_counts(values: list[Value]) -> list[dict[str, Any]]:
    """How many results in the HQIP outlier process have each status, in vocabulary order."""
    first: dict[str, Value] = {}
    counts: dict[str, int] = {}
    for val in values:
        if val.in_outlier_process and val.published:
            counts[val.outlier] = counts.get(val.outlier, 0) + 1
            first.setdefault(val.outlier, val)
    return [{"code": code, "n": counts[code], "badge": outlier(first[code])} for code in OUTLIER_STATUS if code in counts]


def summary_tables(model: Portal, unit: Unit, registry: Any) -> list[dict[str, Any]]:
    """The 'all results' table of a unit, one per period (the pooled one first)."""
    tables = []
    for option in period_options(model):
        period = option["period"]
        rows = []
        for ind in registry:
            val = model.value(ind, unit, period)
            latest = model.value(ind, unit, model.latest) if option["pooled"] and model.financial_years else None
            rows.append(summary_row(model, unit, ind, val, latest))
        tables.append({**option, "rows_html": Markup("\n".join(rows))})
    return tables


def summary_row(model: Portal, unit: Unit, ind: Indicator, val: Value, latest: Value | None) -> str:
    """One indicator's row of a unit's summary table."""
    link = f'<a href="#ind-{ind.id}">{Markup.escape(ind.title)}</a>'
    cells = [result_cell(val, "Result", counts=True)]
    if latest is not None:
        cells.append(result_cell(latest, model.latest, brief=True))
        cells.append(change_cell(latest, f"Change since {model.previous_year}"))
    else:
        cells.append(change_cell(val, "Change since the year before"))
    if unit.level not in ("national", "nation"):  # a nation's comparator is England and Wales: one column says it
        cells.append(comparator_cell(val, f"Compared with {val.comparator_name}".strip()))
    if unit.level != "national":
        cells.append(judgement_cell(val.vs_national, EW, "Compared with England and Wales"))
    if unit.level == "organisation":
        cells.append(outlier_cell(val, "HQIP outlier status") if val.in_outlier_process
                     else Markup('<td class="outlier-cell muted" data-sort="9" data-label="HQIP outlier status">'
                                 'Not in outlier process</td>'))
    return (f'<tr data-indicator="{ind.id}" data-status="{val.status}"><th scope="row">{link}</th>'
            + "".join(cells) + "</tr>")


def run_chart_block(model: Portal, unit: Unit, ind: Indicator, min_points: int) -> dict[str, Any] | None:
    """The run chart of a unit for one indicator: its SVG, summary, icon and data, or why there is none."""
    if not ind.run_chart:
        return None
    series = model.run_chart(unit, ind)
    if unit.nation != EW and unit.nation not in ind.nations:
        return {"empty": f"Not available for {unit.nation}.", "rolling": False}
    if not series:
        if unit.level == "alliance":
            return None  # the page says once that alliances have no run charts
        return {"empty": "No run-chart points were published for this unit.", "rolling": False}
    published = sum(not is_missing(r.get("percentage")) for r in series)
    chart_id = f"run-{safe_name(ind.id)}"
    block: dict[str, Any] = {
        "empty": "", "id": chart_id, "rolling": charts.is_rolling(series), "points": published,
        "rows_html": rows_html([_run_cells(r) for r in series]),
        "csv": dl.run_chart_csv(unit.code), "icon": None, "svg": "", "summary": "",
    }
    if charts.chart_status(series, min_points) == "not_enough_points":
        block["summary"] = (f"Only {published} of the {len(series)} points have a published value: not enough for a "
                            f"run chart (at least {max(min_points, 2)} are needed). The values are in the table.")
        return block
    block["svg"] = Markup(charts.run_chart_svg(series, chart_id, f"{ind.title}, {unit.name}", model.results.synthetic))
    block["summary"] = charts.run_chart_summary(series, ind.direction_text)
    block["icon"] = charts.variation_icon(series)
    present = {charts.variation_code(r) for r in series if not is_missing(r.get("percentage"))}
    block["variations"] = [v for v in ("common_cause", "improvement", "concern", "neither") if v in present]
    block["limits_label"] = _limits_label(series)
    return block


def _limits_label(series: list[dict]) -> str:
    statuses = {str(r.get("limits_status") or "") for r in series}
    if statuses == {"trial"}:
        return "Trial process limits"
    if "recalculated" in statuses:
        return "Process limits (recalculated after a shift)"
    return "Process limits"


def _run_cells(row: dict) -> tuple[str, ...]:
    """One run-chart point as table cells: period, result, patients, centre, limits, variation."""
    published = not is_missing(row.get("percentage"))
    status = str(row.get("status") or "").replace("_", " ")
    limits = "" if is_missing(row.get("lower_limit")) or is_missing(row.get("upper_limit")) else \
        f"{fmt_pct(row['lower_limit'])} to {fmt_pct(row['upper_limit'])}"
    patients = f"{fmt_count(row['numerator'])} of {fmt_count(row['denominator'])}" if published and not is_missing(
        row.get("denominator")) else ""
    variation = VARIATION[charts.variation_code(row)].short if published else ""
    middle = charts.centre(row)
    return (str(row["period"]), fmt_pct(row["percentage"]) if published else status, patients,
            fmt_pct(middle) if middle is not None else "", limits, variation)


def history_rows(model: Portal, ind: Indicator, unit: Unit) -> Markup:
    """A unit's result for each patient group (pooled) and each financial year (all patients), with change."""
    keys = [(model.period, sub) for sub in (ALL, *ind.subgroups)] + [(p, ALL) for p in model.financial_years]
    rows = []
    for period, sub in keys:
        val = model.value(ind, unit, period, sub)
        if val.row is None:
            continue
        rows.append((period, subgroup_text(sub), result_cell(val, counts=True), change_cell(val),
                     outlier_cell(val) if val.in_outlier_process and unit.level == "organisation" else
                     judgement_cell(val.vs_national)))
    return rows_html(rows, frozenset())


# ---------------------------------------------------------------------------- landing page

def landing(model: Portal, registry: Any, workbook_href: str, data_files: list[str]) -> dict[str, Any]:
    goals = []
    for goal, inds in registry.by_goal().items():
        rows = []
        for ind in inds:
            ew = model.national(ind)
            latest = model.national(ind, EW, model.latest)
            rows.append((Markup(f'<a href="indicators/{safe_name(ind.id)}.html">{Markup.escape(ind.title)}</a>'),
                         result_cell(ew), result_cell(latest), change_cell(latest),
                         value_cell(model.national(ind, "England")), value_cell(model.national(ind, "Wales"))))
        goals.append({"number": goal, "title": GOAL_TITLES.get(goal, ""), "rows_html": rows_html(rows)})
    return {
        "title": "Results portal",
        "page": "home",
        "crumbs": [],
        "headlines": _headlines(model, registry),
        "goals": goals,
        "area_tree": _area_tree(model),
        "org_groups": _org_groups(model),
        "search_index": search_index(model),
        "search_examples": search_examples(model),
        "org_count": len(model.organisations),
        "reports": report_links(),
        "workbook": workbook_href,
        "data_files": [{"name": name, "href": f"data/{name}", "about": DATA_FILE_TEXT.get(name, "")}
                       for name in data_files if name != "README.md"],
        "dictionary": "data/README.md" if "README.md" in data_files else "",
    }


def _headlines(model: Portal, registry: Any) -> list[dict[str, str]]:
    """The key numbers at the top of the landing page (England and Wales)."""
    cards = []
    for ind in registry:
        if not ind.has_rate and ind.type == "data_quality":
            val = model.national(ind)
            if val.published:
                cards.append({"value": val.main, "label": ind.plain_title, "href": f"indicators/{safe_name(ind.id)}.html"})
    cards += _survival_cards(model)
    for ind_id in ("mdt", "biopsy", "cns"):
        try:
            ind = registry.get(ind_id)
        except KeyError:
            continue
        val = model.national(ind)
        if val.percentage is not None:
            cards.append({"value": val.main, "label": ind.plain_title, "href": f"indicators/{safe_name(ind.id)}.html"})
    return cards[:6]


def _group_key(value: Any) -> str:
    return str(value).strip().lower().replace(" ", "_")


def _survival_cards(model: Portal) -> list[dict[str, str]]:
    rows = [r for r in model.survival.get(model.national_unit.code, []) if r.get("status") == "published"]
    # The published NAoMe headline is for de novo MBC; fall back to everyone.
    preferred = [r for r in rows if _group_key(r.get("group")) == "de_novo"] or [
        r for r in rows if str(r.get("group_type")) == "all"]
    who = "with de novo MBC " if preferred and _group_key(preferred[0].get("group")) == "de_novo" else ""
    cards = []
    for r in sorted(preferred, key=lambda r: float(r["time_years"])):
        years = fmt_count(r["time_years"])
        cards.append({"value": fmt_pct(r["survival_percentage"], 0),
                      "label": f"of people {who}alive {years} year{'' if years == '1' else 's'} after diagnosis",
                      "href": "state-of-the-nation.html"})
    return cards


def _area_tree(model: Portal) -> list[dict[str, Any]]:
    """Nations, their regions and alliances (England) or Welsh Regions (Wales), for browsing."""
    out = []
    for nation in model.children(model.national_unit):
        groups = []
        for child in model.children(nation):
            groups.append({"unit": child, "children": [u for u in model.children(child) if u.level != "organisation"]})
        out.append({"unit": nation, "groups": groups})
    return out


def _org_groups(model: Portal) -> list[dict[str, Any]]:
    """Organisations grouped by nation, then Cancer Alliance / Welsh Region."""
    out = []
    for nation in model.children(model.national_unit):
        parents = [u for u in model.areas if u.level == "alliance" and u.nation == nation.nation]
        out.append({"nation": nation, "parents": [{"unit": p, "orgs": model.children(p)} for p in parents]})
    return out


def search_examples(model: Portal) -> list[str]:
    """Words to try in the search box, taken from this run's own units (a real name never sits beside synthetic
    results): a board's name, a trust's code, a place it serves, a region, an alliance and a nation."""
    board = next((u for u in model.organisations if u.wales), None)
    trust = next((u for u in model.organisations if not u.wales), None)
    place = next((p for u in model.organisations for p in u.places if p.lower() not in u.name.lower()), "")
    region = next((u.name for u in model.areas if u.level == "region"), "")
    alliance = next((u.name for u in model.areas if u.level == "alliance" and not u.wales), "")
    nation = next((u.name for u in reversed(model.children(model.national_unit))), "")
    words = [board.name.split()[0] if board else "", trust.code if trust else "", place, region, alliance, nation]
    return list(dict.fromkeys(w for w in words if w))


def search_index(model: Portal) -> Markup:
    """Every area and organisation: name, code, what it is, where it is and the places it serves."""
    entries = []
    for unit in [*model.areas, *model.organisations]:
        above = [u.name for u in model.ancestors(unit) if u.level not in ("national",)][::-1]
        entries.append({"c": unit.code, "n": unit.name, "k": unit.kind, "l": unit.level,
                        "p": " · ".join(above), "w": " ".join(unit.places), "h": unit.href})
    text = json.dumps(entries, ensure_ascii=False, separators=(",", ":"))
    return Markup(text.replace("</", "<\\/"))


# ---------------------------------------------------------------------------- organisation pages

def organisation(model: Portal, registry: Any, org: Unit, funnels: dict[str, Funnel],
                 downloads: list[dict[str, str]], min_points: int) -> dict[str, Any]:
    values = [model.value(ind, org) for ind in registry]
    goals = []
    for goal in registry.by_goal():
        entries = [_org_indicator(model, org, ind, funnels.get(ind.id), min_points) for ind in registry if ind.goal == goal]
        goals.append({"number": goal, "title": GOAL_TITLES.get(goal, ""), "entries": entries})
    comparator = next((v.comparator_name for v in values if v.comparator_name), org.parent_name)
    return {
        "title": f"{org.name} ({org.code})",
        "page": "organisation",
        "unit": org,
        "org": org,
        "crumbs": breadcrumbs(model, org),
        "parent": model.units.get(org.parent_code),
        "region": model.units.get(org.region_code) if org.region_code else None,
        "nation_unit": model.nation_unit(org.nation),
        "tables": summary_tables(model, org, registry),
        "comparator": comparator,
        "goals": goals,
        "vs_national": judgement_counts(values, "vs_national"),
        "outlier_counts": outlier_counts(values),
        "pack_href": f"packs/{safe_name(org.code)}.pdf",
        "downloads": downloads,
        "survival": _survival(model, org),
        "period_options": period_options(model),
    }


def _org_indicator(model: Portal, org: Unit, ind: Indicator, funnel: Funnel | None, min_points: int) -> dict[str, Any]:
    val = model.value(ind, org)
    latest = model.value(ind, org, model.latest) if model.financial_years else None
    item: dict[str, Any] = {"ind": ind, "id": safe_name(ind.id), "value": val, "latest": latest,
                            "parent": model.value(ind, org.parent_code),
                            "national": model.national(ind), "nation": model.national(ind, org.nation),
                            "history_html": Markup(""), "funnel": None, "run": None}
    if org.nation not in ind.nations:
        return item  # the value says 'Not available for <nation>'; there is nothing to chart
    item["history_html"] = history_rows(model, ind, org)
    if funnel:
        point = funnel.point_of(org.code)
        text = charts.funnel_position_text(org, val, item["national"])
        item["funnel"] = {
            "svg": Markup(charts.funnel_highlight_svg("../" + funnel.background_href, funnel.frame, funnel.labels,
                                                      [point] if point else [], text, label_codes=True)),
            "text": text, "placed": point is not None, "method": funnel.method, "cells": _funnel_cells(val, item["national"]),
            "csv": dl.funnel_csv(ind.id)}
    item["run"] = run_chart_block(model, org, ind, min_points)
    return item


def _funnel_cells(val: Value, national: Value) -> tuple[str, ...] | None:
    """The organisation's funnel position as table cells: patients, value, 95% and 99.8% limits, national."""
    limits = val.funnel_limits
    if val.funnel_y is None or not limits:
        return None
    return (fmt_count(val.denominator), fmt_pct(val.funnel_y),
            f"{fmt_pct(limits['lower_95'])} to {fmt_pct(limits['upper_95'])}",
            f"{fmt_pct(limits['lower_998'])} to {fmt_pct(limits['upper_998'])}", fmt_pct(national.percentage))


def _survival(model: Portal, unit: Unit) -> list[dict[str, Any]]:
    national = {(r.get("group"), r.get("time_years")): r for r in model.survival.get(model.national_unit.code, [])}
    out = []
    for r in model.survival.get(unit.code, []):
        nat = national.get((r.get("group"), r.get("time_years")), {})
        published = r.get("status") == "published"
        ci = f"{fmt_pct(r['ci_lower_95'])} to {fmt_pct(r['ci_upper_95'])}" if published and not is_missing(
            r.get("ci_lower_95")) else ""
        out.append({"group": subgroup_text(_group_key(r.get("group"))) if _group_key(r.get("group")) in (
            "all", "de_novo", "recurrent") else str(r.get("group")), "years": fmt_count(r["time_years"]),
            "value": fmt_pct(r["survival_percentage"]) if published else str(r.get("status", "")).replace("_", " "),
            "ci": ci, "patients": fmt_count(r.get("patients")), "national": fmt_pct(nat.get("survival_percentage"))})
    return out


# ---------------------------------------------------------------------------- area pages (nation, region, alliance)

def table_units(model: Portal, unit: Unit) -> list[Unit]:
    """Whose results an area's tables list: England's Cancer Alliances, else every organisation in the area."""
    if unit.level == "nation" and not unit.wales:
        return [u for u in model.areas if u.level == "alliance" and u.nation == unit.nation]
    return model.members(unit)


def area(model: Portal, registry: Any, unit: Unit, funnels: dict[str, Funnel], min_points: int) -> dict[str, Any]:
    values = [model.value(ind, unit) for ind in registry]
    listed = table_units(model, unit)
    members = model.members(unit)
    member_codes = {m.code for m in members}
    sections = []
    for goal in registry.by_goal():
        entries = [_area_indicator(model, unit, listed, member_codes, ind, funnels.get(ind.id), min_points)
                   for ind in registry if ind.goal == goal]
        sections.append({"number": goal, "title": GOAL_TITLES.get(goal, ""), "entries": entries})
    return {
        "title": unit.name,
        "page": "area",
        "unit": unit,
        "crumbs": breadcrumbs(model, unit),
        "children": model.children(unit),
        "members": members,
        "listed_kind": "Cancer Alliance" if listed and listed[0].level == "alliance" else "Organisation",
        "tables": summary_tables(model, unit, registry),
        "comparator": "" if unit.level == "nation" else next((v.comparator_name for v in values if v.comparator_name), ""),
        "goals": sections,
        "vs_national": judgement_counts(values, "vs_national"),
        "vs_comparator": judgement_counts(values, "vs_comparator"),
        "survival": _survival(model, unit),
        "period_options": period_options(model),
        "run_note": not any(model.run_chart(unit, ind) for ind in registry),
    }


def _area_indicator(model: Portal, unit: Unit, listed: list[Unit], member_codes: set[str], ind: Indicator,
                    funnel: Funnel | None, min_points: int) -> dict[str, Any]:
    val = model.value(ind, unit)
    item: dict[str, Any] = {"ind": ind, "id": safe_name(ind.id), "value": val, "national": model.national(ind),
                            "latest": model.value(ind, unit, model.latest) if model.financial_years else None,
                            "funnel": None, "run": None, "members_html": Markup(""), "history_html": Markup(""),
                            "in_process": False}
    if unit.nation != EW and unit.nation not in ind.nations:
        return item
    item["history_html"] = history_rows(model, ind, unit)
    item["in_process"] = any(model.value(ind, u).in_outlier_process for u in listed if u.level == "organisation")
    item["members_html"] = member_rows(model, ind, listed, item["in_process"])
    if funnel:
        marked = [p for p in funnel.points if p.unit.code in member_codes]
        title = (f"Funnel plot of {ind.title}: the {len(marked)} organisations in {unit.name} are marked in dark blue "
                 f"among every organisation in England and Wales (grey).")
        item["funnel"] = {"svg": Markup(charts.funnel_highlight_svg("../" + funnel.background_href, funnel.frame, funnel.labels,
                                                                    marked, title, label_codes=len(marked) <= 8)),
                          "text": title, "marked": len(marked), "method": funnel.method, "csv": dl.funnel_csv(ind.id)}
    item["run"] = run_chart_block(model, unit, ind, min_points)
    return item


def member_rows(model: Portal, ind: Indicator, listed: list[Unit], in_process: bool) -> Markup:
    """Rows of an area's table of its organisations (or alliances) for one indicator."""
    rows = []
    for member in listed:
        val = model.value(ind, member)
        latest = model.value(ind, member, model.latest) if model.financial_years else val
        cells = [f'<th scope="row" data-sort="{Markup.escape(member.name)}"><a href="../{member.href}">'
                 f'{Markup.escape(member.name)}</a> <span class="code">{Markup.escape(member.code)}</span></th>']
        if ind.has_rate:
            key = val.denominator if val.denominator is not None else -1
            cells.append(f'<td class="num" data-sort="{key:g}">{fmt_count(val.denominator)}</td>')
        cells += [result_cell(val), result_cell(latest, brief=True), change_cell(latest)]
        if ind.has_rate:
            cells.append(judgement_cell(val.vs_national))
        if in_process:
            cells.append(outlier_cell(val) if member.level == "organisation" else '<td class="muted" data-sort="9"></td>')
        rows.append(f'<tr data-org="{Markup.escape(member.code)}">{"".join(cells)}</tr>')
    return Markup("\n".join(rows))


# ---------------------------------------------------------------------------- indicator pages

def _definition(ind: Indicator) -> list[tuple[str, str]]:
    unavailable = "; ".join(f"{u.nation} {', '.join(u.financial_years)}: {u.reason}" for u in ind.not_available)
    items = [
        ("Quality improvement goal", f"{ind.goal}: {ind.goal_title}" if ind.goal else ind.goal_title),
        ("Type", ind.type.replace("_", " ").capitalize() + (" (case-mix adjusted)" if ind.is_casemix_adjusted else "")),
        ("Which way is better", ind.direction_text),
        (f"{ind.counted.capitalize()} counted (denominator)", ind.denominator_text),
        (f"{ind.counted.capitalize()} meeting the indicator (numerator)", ind.numerator_text),
        ("Exclusions", ind.exclusions),
        ("Time window", ind.window),
        ("Data source", ind.source),
        ("Nations covered", " and ".join(ind.nations)),
        ("Not available", unavailable),
        ("In the HQIP outlier process", "Yes" if ind.outlier_process else "No"),
        ("Evidence and standards", ind.evidence),
        ("Definitions version", ind.definitions_version),
    ]
    return [(k, v) for k, v in items if v]


def indicator(model: Portal, ind: Indicator, period_funnels: dict[str, Funnel | None]) -> dict[str, Any]:
    national_rows = [{"period": p, "ew": model.national(ind, EW, p), "england": model.national(ind, "England", p),
                      "wales": model.national(ind, "Wales", p)} for p in model.periods]
    subgroup_rows = [{"subgroup": subgroup_text(s), "ew": model.national(ind, EW, subgroup=s),
                      "england": model.national(ind, "England", subgroup=s),
                      "wales": model.national(ind, "Wales", subgroup=s)} for s in ind.subgroups]
    in_process = any(model.value(ind, o).in_outlier_process for o in model.organisations)
    views = []
    for option in period_options(model):
        period = option["period"]
        funnel = period_funnels.get(period)
        view: dict[str, Any] = {**option, "orgs_html": _org_rows(model, ind, period, in_process),
                                "areas_html": _area_rows(model, ind, period), "funnel": None}
        if funnel:
            view["funnel"] = {"svg": funnel.full_svg(f"clip-{option['key']}"),
                              "summary": charts.funnel_summary(funnel.points, model.national(ind, EW, period), funnel.method),
                              "legend": _funnel_legend(funnel.points)}
        views.append(view)
    return {
        "title": ind.title,
        "page": "indicator",
        "ind": ind,
        "crumbs": breadcrumbs(model, None),
        "definition": _definition(ind),
        # An indicator of one nation (the survey covers England only) has that nation's value as its national one.
        "national_name": ind.coverage,
        "national": model.national(ind, ind.coverage),
        "national_rows": national_rows,
        "subgroup_rows": subgroup_rows,
        "views": views,
        "in_process": in_process,
        "period_options": period_options(model),
        "area_options": _area_options(model),
        "csv": dl.indicator_csv(ind.id),
        "funnel_csv": dl.funnel_csv(ind.id) if any(period_funnels.values()) else "",
    }


def _area_options(model: Portal) -> list[dict[str, Any]]:
    """The areas an indicator table can be filtered to, grouped by kind."""
    groups = []
    for label, level, wales in (("Nations", "nation", None), ("NHS England regions", "region", False),
                                ("Cancer Alliances", "alliance", False), ("Welsh Regions", "alliance", True)):
        units = [u for u in model.areas if u.level == level and (wales is None or u.wales == wales)]
        groups.append({"label": label, "units": sorted(units, key=lambda u: u.name)})
    return [g for g in groups if g["units"]]


def _org_rows(model: Portal, ind: Indicator, period: str, in_process: bool) -> Markup:
    pooled = period == model.period
    rows = []
    for org in model.organisations:
        val = model.value(ind, org, period)
        cells = [f'<td class="col-parent">{Markup.escape(org.parent_name)}</td>']
        if ind.has_rate:
            key = val.denominator if val.denominator is not None else -1
            cells.append(f'<td class="num" data-sort="{key:g}">{fmt_count(val.denominator)}</td>')
        cells.append(result_cell(val, tag=False))  # the column heading says 'Adjusted result'
        if not pooled:
            cells.append(change_cell(val))
        if ind.has_rate:
            cells.append(judgement_cell(val.vs_national))
        if in_process:
            cells.append(outlier_cell(val))
        rows.append(f'<tr data-org="{Markup.escape(org.code)}" data-in="{Markup.escape(org.within)}">'
                    f'<th scope="row" data-sort="{Markup.escape(org.name)}"><a href="../{org.href}">'
                    f'{Markup.escape(org.name)}</a> <span class="code">{Markup.escape(org.code)}</span></th>'
                    + "".join(cells) + "</tr>")
    return Markup("\n".join(rows))


def _area_rows(model: Portal, ind: Indicator, period: str) -> Markup:
    rows = []
    for unit in model.areas:
        val = model.value(ind, unit, period)
        if val.row is None:
            continue
        name = Markup(f'<a href="../{unit.href}">{Markup.escape(unit.name)}</a> <span class="muted">({unit.kind})</span>')
        rows.append(f'<tr data-area="{Markup.escape(unit.code)}" data-in="{Markup.escape(unit.within)}">'
                    f'<th scope="row">{name}</th>{result_cell(val, "Result", counts=True)}'
                    f'{comparator_cell(val, "Compared with")}'
                    f'{judgement_cell(val.vs_national, EW, "Compared with England and Wales")}</tr>')
    return Markup("\n".join(rows))


def _funnel_legend(points: list[charts.FunnelPoint]) -> list[dict[str, Any]]:
    """One key entry per combination of side of the limits and judgement that the plot shows."""
    seen: dict[tuple[str, str], int] = {}
    for p in points:
        key = (p.value.position, p.value.vs_national)
        seen[key] = seen.get(key, 0) + 1
    order = list(FUNNEL_POSITION)
    out = []
    for (position, code), n in sorted(seen.items(), key=lambda kv: (order.index(kv[0][0]) if kv[0][0] in order else 99,
                                                                   kv[0][1])):
        shape, fill, _ = charts.marker_style(next(p.value for p in points if (p.value.position, p.value.vs_national)
                                                  == (position, code)))
        words = FUNNEL_POSITION.get(position, FUNNEL_POSITION["not_assessed"]).short
        if code:
            words += f": {comparison_term(code).short.lower()}"
        out.append({"marker": Markup(charts.legend_marker(shape, fill)), "text": words, "n": n})
    return out
