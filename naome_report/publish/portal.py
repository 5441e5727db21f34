"""The interactive results portal: a static, self-contained site built from the published results."""

from __future__ import annotations

import csv
import html
import io
import json
import shutil
import time
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape

from naome_report import atomic
from naome_report.config import PROJECT_ROOT, Config
from naome_report.hub import FILES, META_FILE, Results
from naome_report.publish import portal_charts as charts
from naome_report.publish.portal_model import (
    ALL,
    EW,
    SUBGROUP_TEXT,
    VARIATION_TEXT,
    Organisation,
    Portal,
    Value,
    build_portal_model,
    fmt_count,
    fmt_pct,
    is_missing,
    safe_name,
)
from naome_report.registry import GOAL_TITLES, Indicator, Registry

TEMPLATE_DIR = PROJECT_ROOT / "templates" / "portal"
ASSETS = ("portal.css", "portal.js")
# Sub-folders this module owns inside out_dir; cleared on every build so removed organisations disappear.
OWNED = ("assets", "organisations", "indicators", "downloads")
REPORTS = (
    ("State of the Nation report", "state-of-the-nation"),
    ("Patient and public report", "patient-report"),
    ("Methodology supplement", "methodology-supplement"),
)
# The data files whose rows are split per organisation (those with an org_code column).
ORG_FILES = tuple(name for name, cols in FILES.items() if "org_code" in cols and "level" in cols)
DATA_FILE_TEXT = {
    "naome_indicators.csv": "every indicator at every level, period and patient group",
    "naome_run_charts.csv": "quarterly results of each organisation with run-chart limits",
    "naome_funnel_limits.csv": "funnel-plot limits by number of patients",
    "naome_survival.csv": "survival at 1 and 3 years",
    "naome_survival_curves.csv": "Kaplan–Meier survival curves",
    "naome_cohort_summary.csv": "who is in the audit",
    "naome_patient_flow.csv": "patients included and excluded at each step",
    "naome_reconciliation.csv": "records read, quarantined, excluded and included",
    "naome_casemix_models.csv": "case-mix adjustment models",
    "naome_casemix_fit.csv": "how well the case-mix models fit",
    "naome_casemix_calibration.csv": "case-mix model calibration",
    META_FILE: "when and how these files were built",
}
OUTLIER_ORDER = ("alarm_low", "alert_low", "within_limits", "alert_high", "alarm_high", "not_assessed", "not_in_process")


@dataclass
class Site:
    """Where the portal is written, and every file written so far."""

    out_dir: Path
    written: list[Path] = field(default_factory=list)

    def write(self, rel: str, text: str) -> Path:
        path = self.out_dir / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic.write_text(path, text)
        self.written.append(path)
        return path


def build_portal(results: Results, registry: Registry, config: Config, out_dir: Path) -> list[Path]:
    """Write the static portal (landing, organisation and indicator pages, assets) into out_dir."""
    model = build_portal_model(results, registry)
    site = Site(Path(out_dir))
    _clean(site.out_dir)
    env = _environment()
    common = _common_context(results, registry, config, site.out_dir)
    for name in ASSETS:
        site.write(f"assets/{name}", (TEMPLATE_DIR / name).read_text(encoding="utf-8"))
    funnels = {ind.id: _funnel(model, ind) for ind in registry if ind.has_rate}
    for ind_id, funnel in funnels.items():
        if funnel.curves:
            site.write(f"assets/funnel-{safe_name(ind_id)}.svg", funnel.background)
    downloads = _write_downloads(site, results, {o.code for o in model.organisations})
    landing = _landing(model, registry, config, site.out_dir)
    site.write("index.html", env.get_template("index.html").render(**common, **landing, root=""))
    org_template = env.get_template("organisation.html")
    # The same key on every organisation page's funnel: render it once.
    position_legend = Markup(env.get_template("macros.html").module.outlier_legend([], True))
    for org in model.organisations:
        context = _organisation(model, registry, org, funnels, downloads.get(org.code, []))
        site.write(f"organisations/{org.file}",
                   org_template.render(**common, **context, position_legend=position_legend, root="../"))
    ind_template = env.get_template("indicator.html")
    for ind in registry:
        site.write(f"indicators/{safe_name(ind.id)}.html",
                   ind_template.render(**common, **_indicator(model, ind, funnels.get(ind.id)), root="../"))
    return site.written


def _clean(out_dir: Path) -> None:
    for name in OWNED:
        shutil.rmtree(out_dir / name, ignore_errors=True)
    (out_dir / "index.html").unlink(missing_ok=True)


def outlier_html(val: Value, short: bool = False) -> Markup:
    """An outlier status as a symbol and words (never colour alone)."""
    return _outlier_html(val.outlier, val.outlier_symbol, val.outlier_short if short else val.outlier_text)


@lru_cache(maxsize=256)
def _outlier_html(status: str, symbol: str, words: str) -> Markup:
    return Markup(f'<span class="outlier o-{escape(status)}"><span class="sym" aria-hidden="true">'
                  f'{escape(symbol)}</span> {escape(words)}</span>')


def value_cell_html(val: Value | None, cls: str = "", label: str = "") -> Markup:
    """A table cell holding a value (right-aligned number) or its status in words, with a sort key."""
    data_label = f' data-label="{escape(label)}"' if label else ""
    if val is None:
        return Markup(f'<td class="{cls} na"{data_label}>—<span class="visually-hidden">not applicable</span></td>')
    if val.published:
        key = val.percentage if val.percentage is not None else val.row.get("numerator")
        key = -1 if is_missing(key) else key
        return Markup(f'<td class="{cls} num" data-sort="{key}"{data_label}>{escape(val.main)}</td>')
    return Markup(f'<td class="{cls} status-cell" data-sort="-1"{data_label}>{escape(val.status_text)}</td>')


def result_cell_html(val: Value) -> Markup:
    """A result with its confidence interval beneath it, or the status in a few words."""
    if not val.published:
        return Markup(f'<td class="num status-cell" data-sort="-1">{escape(val.status_short)}</td>')
    key = val.percentage if val.percentage is not None else val.row.get("numerator")
    ci = f'<span class="sub">{escape(val.ci)}</span>' if val.ci else ""
    return Markup(f'<td class="num" data-sort="{-1 if is_missing(key) else key}">{escape(val.main)}{ci}</td>')


def _environment() -> Environment:
    env = Environment(loader=FileSystemLoader(TEMPLATE_DIR), autoescape=select_autoescape(["html"]),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["pct"] = fmt_pct
    env.filters["count"] = fmt_count
    env.globals["outlier"] = outlier_html
    env.globals["value_cell"] = value_cell_html
    env.globals["result_cell"] = result_cell_html
    env.globals["legend_marker"] = lambda *a: Markup(charts.legend_marker(*a))
    env.globals["legend_line"] = lambda *a: Markup(charts.legend_line(*a))
    env.globals["OUTLIER_FILL"] = charts.OUTLIER_FILL
    env.globals["OUTLIER_SHAPE"] = charts.OUTLIER_SHAPE
    env.globals["VARIATION_SHAPE"] = charts.VARIATION_SHAPE
    env.globals["VARIATION_COLOURS"] = charts.COLOURS
    env.globals["VARIATION_TEXT"] = VARIATION_TEXT
    env.globals["SUBGROUP_TEXT"] = SUBGROUP_TEXT
    return env


def _period_text(results: Results, config: Config) -> str:
    years = config.financial_years
    if len(years) > 1 and results.primary_period == config.primary_period:
        return f"financial years {years[0]} to {years[-1]} ({results.primary_period})"
    return results.primary_period


def _common_context(results: Results, registry: Registry, config: Config, out_dir: Path) -> dict[str, Any]:
    audit = config.raw.get("audit", {})
    meta = results.meta
    return {
        "synthetic": results.synthetic,
        "period": results.primary_period,
        "period_text": _period_text(results, config),
        "data_cutoff": meta.get("data_cutoff", ""),
        "definitions_version": meta.get("definitions_version", registry.definitions_version),
        "built": str(meta.get("built_at", meta.get("built", ""))),
        "audit_name": audit.get("name", "National Audit of Metastatic Breast Cancer"),
        "audit_short": audit.get("short_name", "NAoMe"),
        "publisher": audit.get("publisher", ""),
        "contact": audit.get("contact", ""),
    }


# ---------------------------------------------------------------------------- funnels

@dataclass
class Funnel:
    """An indicator's funnel: limit curves, placed organisations, the shared background and summary."""

    curves: list[dict]
    points: list
    background: str
    y_label: str
    method: str
    frame: charts.Frame | None
    labels: str


def _funnel(model: Portal, ind: Indicator) -> Funnel:
    curves = model.funnel_curves.get(ind.id, [])
    points = charts.funnel_points(model.indicator_orgs(ind))
    y_label = "Case-mix adjusted %" if ind.is_casemix_adjusted else "Percentage of patients"
    method = next((str(c["method"]) for c in curves if not is_missing(c.get("method"))), "")
    background = (charts.funnel_svg(curves, points, ind.title, y_label, background=True,
                                    synthetic=model.results.synthetic) if curves else "")
    frame, ystep, xstep = charts.funnel_frame(curves, [(n, y) for _, _, n, y in points]) if curves else (None, 0, 0)
    labels = charts.funnel_labels(frame, ystep, xstep, y_label) if frame else ""
    return Funnel(curves, points, background, y_label, method, frame, labels)


# ---------------------------------------------------------------------------- landing page

def _landing(model: Portal, registry: Registry, config: Config, out_dir: Path) -> dict[str, Any]:
    goals = []
    for goal, inds in registry.by_goal().items():
        rows = [{"ind": ind, "ew": model.national(ind), "england": model.national(ind, "England"),
                 "wales": model.national(ind, "Wales")} for ind in inds]
        goals.append({"number": goal, "title": GOAL_TITLES.get(goal, ""), "rows": rows})
    index = [{"c": o.code, "n": o.name, "p": o.parent_name, "t": o.nation, "h": f"organisations/{o.file}"}
             for o in model.organisations]
    return {
        "title": "Results portal",
        "page": "home",
        "headlines": _headlines(model, registry),
        "goals": goals,
        "org_groups": _org_groups(model.organisations),
        "org_index": Markup(json.dumps(index, ensure_ascii=False, separators=(",", ":")).replace("</", "<\\/")),
        "org_count": len(model.organisations),
        # An example from the organisations of this run: a real name never appears beside synthetic results.
        "search_example": next(({"word": o.name.split()[0], "code": o.code} for o in model.organisations
                                if o.nation == "Wales"), {"word": model.organisations[0].name.split()[0],
                                                          "code": model.organisations[0].code}),
        "reports": _report_links(out_dir),
        "workbook": _workbook_link(out_dir, model.results, config),
        "data_files": [{"name": name, "href": f"../data/{name}", "about": DATA_FILE_TEXT.get(name, "")}
                       for name in (*FILES, META_FILE)],
    }


def _headlines(model: Portal, registry: Registry) -> list[dict[str, str]]:
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
    rows = [r for r in model.survival.get(model.national_codes.get(EW, ""), []) if r.get("status") == "published"]
    # The published NAoMe headline is for de novo MBC; fall back to everyone.
    preferred = [r for r in rows if _group_key(r.get("group")) == "de_novo"] or [
        r for r in rows if str(r.get("group_type")) == "all"]
    who = "with de novo MBC " if preferred and _group_key(preferred[0].get("group")) == "de_novo" else ""
    cards = []
    for r in sorted(preferred, key=lambda r: float(r["time_years"])):
        years = fmt_count(r["time_years"])
        cards.append({"value": fmt_pct(r["survival_percentage"], 0),
                      "label": f"of people {who}alive {years} year{'' if years == '1' else 's'} after diagnosis",
                      "href": "../state-of-the-nation.html"})
    return cards


def _org_groups(orgs: list[Organisation]) -> list[dict[str, Any]]:
    """Organisations grouped by nation, then Cancer Alliance / Welsh Region."""
    groups: dict[tuple[str, str], list[Organisation]] = {}
    for org in orgs:
        groups.setdefault((org.nation, org.parent_name), []).append(org)
    out: list[dict[str, Any]] = []
    for (nation, parent), members in sorted(groups.items(), key=lambda kv: (kv[0][0] == "Wales", kv[0])):
        if not out or out[-1]["nation"] != nation:
            out.append({"nation": nation, "parents": []})
        out[-1]["parents"].append({"name": parent, "label": members[0].parent_label,
                                   "orgs": sorted(members, key=lambda o: o.name)})
    return out


def _report_links(out_dir: Path) -> list[dict[str, Any]]:
    return [{"title": title, "formats": [("HTML", f"../{stem}.html"), ("PDF", f"../{stem}.pdf")]} for title, stem in REPORTS]


def _workbook_link(out_dir: Path, results: Results, config: Config) -> str:
    """The metrics workbook beside the portal: the one on disk, else the name the workbook stage gives it."""
    found = sorted(out_dir.parent.glob("NAoMe_Metrics_Table_*.xlsx"), key=lambda p: p.stat().st_mtime)
    if found:
        return f"../{found[-1].name}"
    from naome_report.publish.workbook import workbook_filename  # imports openpyxl: only when needed

    return f"../{workbook_filename(results.primary_period, config.raw.get('audit', {}).get('output_version', 1))}"


# ---------------------------------------------------------------------------- organisation pages

def _org_value_set(model: Portal, ind: Indicator, org: Organisation) -> dict[str, Any]:
    england = org.nation != "Wales"
    return {
        "ind": ind,
        "value": model.value(ind, org.code, nation=org.nation),
        "parent": model.level_value(ind, "alliance", org.parent_code, nation=org.nation),
        "region": model.level_value(ind, "region", org.region_code) if england and org.region_code else None,
        "nation": model.national(ind, org.nation),
        "national": model.national(ind),
    }


def _organisation(model: Portal, registry: Registry, org: Organisation, funnels: dict[str, Funnel],
                  downloads: list[dict[str, str]]) -> dict[str, Any]:
    rows = [_org_value_set(model, ind, org) for ind in registry]
    counts = {k: 0 for k in OUTLIER_ORDER}
    for r in rows:
        if r["ind"].outlier_process and r["value"].published:
            counts[r["value"].outlier] = counts.get(r["value"].outlier, 0) + 1
    goals = []
    for goal in registry.by_goal():
        items = [_org_indicator(model, org, r, funnels.get(r["ind"].id)) for r in rows if r["ind"].goal == goal]
        goals.append({"number": goal, "title": GOAL_TITLES.get(goal, ""), "entries": items})
    return {
        "title": f"{org.name} ({org.code})",
        "page": "organisation",
        "org": org,
        "rows": rows,
        "goals": goals,
        "outlier_counts": [(k, counts[k]) for k in OUTLIER_ORDER if counts.get(k)],
        "pack_href": f"../../packs/{safe_name(org.code)}.pdf",
        "downloads": downloads,
        "survival": _org_survival(model, org),
    }


def _org_indicator(model: Portal, org: Organisation, r: dict[str, Any], funnel: Funnel | None) -> dict[str, Any]:
    ind, val = r["ind"], r["value"]
    item: dict[str, Any] = {**r, "id": safe_name(ind.id), "history": [], "history_html": "", "funnel": None, "run": None}
    if org.nation not in ind.nations:
        return item  # the value says 'Not available for <nation>'; there is nothing to chart
    item["history"] = _org_history(model, ind, org)
    item["history_html"] = _rows_html([_history_cells(h, ind.outlier_process) for h in item["history"]], frozenset({2}))
    if funnel and funnel.curves and ind.has_rate:
        label = charts.funnel_position_text(org, val, ind.title, r["national"])
        item["funnel"] = {"svg": Markup(charts.funnel_position_svg(
            f"../assets/funnel-{safe_name(ind.id)}.svg", funnel.frame, funnel.labels, org, val, label)),
            "text": label, "placed": val.funnel_y is not None, "method": funnel.method,
            "cells": _funnel_cells(val, r["national"])}
    series = model.run_charts.get((org.code, ind.id), [])
    if ind.run_chart:
        item["run"] = _run_chart(org, ind, series, model.results.synthetic)
    return item


def _funnel_cells(val: Value, national: Value) -> tuple[str, ...] | None:
    """The organisation's funnel position as table cells: patients, value, 95% and 99.8% limits, national."""
    limits = val.funnel_limits
    if val.funnel_y is None or not limits:
        return None
    return (fmt_count(val.row.get("denominator")), fmt_pct(val.funnel_y),
            f"{fmt_pct(limits['lower_95'])} to {fmt_pct(limits['upper_95'])}",
            f"{fmt_pct(limits['lower_998'])} to {fmt_pct(limits['upper_998'])}", fmt_pct(national.percentage))


def _run_chart(org: Organisation, ind: Indicator, series: list[dict], synthetic: bool) -> dict[str, Any]:
    if not series:
        reason = (f"Not available for {org.nation}." if org.nation not in ind.nations
                  else "No quarterly results were published for this organisation.")
        return {"empty": reason}
    chart_id = f"run-{safe_name(ind.id)}"
    present = sorted({charts._variation(r) for r in series if not is_missing(r.get("percentage"))})
    trial = any(str(r.get("limits_status")) == "trial" for r in series)
    svg = charts.run_chart_svg(series, chart_id, f"{ind.title}, {org.name}", synthetic) if present else ""
    return {
        "empty": "",
        "id": chart_id,
        "svg": Markup(svg),
        "summary": charts.run_chart_summary(series, ind.direction_text),
        "rows_html": _rows_html([_quarter_cells(r) for r in series]),
        "points": sum(1 for r in series if not is_missing(r.get("percentage"))),
        "variations": [v for v in ("common_cause", "improvement", "concern", "neither") if v in present],
        "trial": trial,
    }


def _rows_html(rows: list[tuple[Any, ...]], numeric: frozenset[int] = frozenset({1, 2, 3, 4})) -> Markup:
    """Table body rows, the first cell a row header: built here because a loop in Jinja is ten times slower."""
    out = []
    for cells in rows:
        text = [c if isinstance(c, Markup) else html.escape(str(c), quote=False) for c in cells]
        tds = "".join(f'<td class="num">{c}</td>' if i in numeric else f"<td>{c}</td>" for i, c in enumerate(text) if i)
        out.append(f'<tr><th scope="row">{text[0]}</th>{tds}</tr>')
    return Markup("\n".join(out))


def _history_cells(h: dict[str, Any], outliers: bool) -> tuple[Any, ...]:
    """One row of the by-year and by-group table: period, patients, result, CI, outlier status."""
    val = h["value"]
    result = Markup(f"{escape(val.main)}") + (Markup(f' <span class="sub">({escape(val.counts)})</span>') if val.counts else "")
    return (h["period"], h["subgroup"], result, val.ci, outlier_html(val) if outliers else "")


def _quarter_cells(row: dict) -> tuple[str, ...]:
    """One run-chart quarter as table cells: period, result, patients, mean, limits, variation."""
    published = row.get("status") == "published" and not is_missing(row.get("percentage"))
    status = str(row.get("status") or "").replace("_", " ")
    limits = "" if is_missing(row.get("lower_limit")) else f"{fmt_pct(row['lower_limit'])} to {fmt_pct(row['upper_limit'])}"
    patients = f"{fmt_count(row['numerator'])} of {fmt_count(row['denominator'])}" if published and not is_missing(
        row.get("denominator")) else ""
    variation = VARIATION_TEXT.get(str(row.get("variation") or "common_cause"), str(row.get("variation"))) if published else ""
    return (str(row["period"]), fmt_pct(row["percentage"]) if published else status, patients, fmt_pct(row.get("centre")),
            limits, variation)


def _org_history(model: Portal, ind: Indicator, org: Organisation) -> list[dict[str, Any]]:
    """The organisation's result for each patient group (primary period) and each financial year (all patients)."""
    keys = [(model.period, sub) for sub in (ALL, *ind.subgroups)] + [(p, ALL) for p in model.periods[1:]]
    out = []
    for period, sub in keys:
        val = model.value(ind, org.code, period, sub, nation=org.nation)
        if val.row is not None:
            out.append({"period": period, "subgroup": SUBGROUP_TEXT.get(sub, sub), "value": val})
    return out


def _org_survival(model: Portal, org: Organisation) -> list[dict[str, Any]]:
    national = {(r.get("group"), r.get("time_years")): r for r in model.survival.get(model.national_codes.get(EW, ""), [])}
    out = []
    for r in model.survival.get(org.code, []):
        nat = national.get((r.get("group"), r.get("time_years")), {})
        group = SUBGROUP_TEXT.get(_group_key(r.get("group")), str(r.get("group")))
        published = r.get("status") == "published"
        out.append({"group": group, "years": fmt_count(r["time_years"]),
                    "value": fmt_pct(r["survival_percentage"]) if published else str(r.get("status", "")).replace("_", " "),
                    "ci": f"{fmt_pct(r['ci_lower_95'])} to {fmt_pct(r['ci_upper_95'])}" if published and not is_missing(r.get("ci_lower_95")) else "",
                    "patients": fmt_count(r.get("patients")), "national": fmt_pct(nat.get("survival_percentage"))})
    return out


# ---------------------------------------------------------------------------- indicator pages

def _definition(ind: Indicator) -> list[tuple[str, str]]:
    unavailable = "; ".join(f"{u.nation} {', '.join(u.financial_years)}: {u.reason}" for u in ind.not_available)
    items = [
        ("Quality improvement goal", f"{ind.goal}: {ind.goal_title}" if ind.goal else ind.goal_title),
        ("Type", ind.type.replace("_", " ").capitalize() + (" (case-mix adjusted)" if ind.is_casemix_adjusted else "")),
        ("Which way is better", ind.direction_text),
        ("Patients counted (denominator)", ind.denominator_text),
        ("Patients meeting the indicator (numerator)", ind.numerator_text),
        ("Exclusions", ind.exclusions),
        ("Time window", ind.window),
        ("Data source", ind.source),
        ("Nations covered", " and ".join(ind.nations)),
        ("Not available", unavailable),
        ("Assessed for outliers", "Yes" if ind.outlier_process else "No"),
        ("Evidence and standards", ind.evidence),
        ("Definitions version", ind.definitions_version),
    ]
    return [(k, v) for k, v in items if v]


def _indicator(model: Portal, ind: Indicator, funnel: Funnel | None) -> dict[str, Any]:
    national_rows = [{"period": p, "ew": model.national(ind, EW, p), "england": model.national(ind, "England", p),
                      "wales": model.national(ind, "Wales", p)} for p in model.periods]
    subgroup_rows = [{"subgroup": SUBGROUP_TEXT.get(s, s),
                      "ew": model.level_value(ind, "national", model.national_codes.get(EW, ""), subgroup=s),
                      "england": model.level_value(ind, "nation", model.national_codes.get("England", ""), subgroup=s),
                      "wales": model.level_value(ind, "nation", model.national_codes.get("Wales", ""), subgroup=s)}
                     for s in ind.subgroups]
    orgs = model.indicator_orgs(ind)
    context: dict[str, Any] = {
        "title": ind.title,
        "page": "indicator",
        "ind": ind,
        "definition": _definition(ind),
        "national": model.national(ind),
        "national_rows": national_rows,
        "subgroup_rows": subgroup_rows,
        "orgs": orgs,
        "funnel": None,
    }
    if funnel and funnel.curves:
        context["funnel"] = {
            "svg": Markup(charts.funnel_svg(funnel.curves, funnel.points, f"Funnel plot: {ind.title}", funnel.y_label,
                                            synthetic=model.results.synthetic)),
            "summary": charts.funnel_summary(funnel.points, model.national(ind), funnel.method),
            "statuses": sorted({val.outlier for _, val, _, _ in funnel.points}, key=OUTLIER_ORDER.index),
        }
    return context


# ---------------------------------------------------------------------------- downloads

def _write_downloads(site: Site, results: Results, codes: set[str]) -> dict[str, list[dict[str, str]]]:
    """Each organisation's rows of the public data files, copied verbatim (no reformatting)."""
    out: dict[str, list[dict[str, str]]] = {code: [] for code in codes}
    for name, frame in _org_frames(results).items():
        source = results.data_dir / name
        if not source.exists() or frame is None or "org_code" not in frame or "level" not in frame:
            continue
        header, rows = _org_lines(source, frame, codes)
        for code, lines in sorted(rows.items()):
            rel = f"downloads/{safe_name(code)}_{name}"
            site.write(rel, header + "".join(lines))
            out[code].append({"name": name, "href": f"../{rel}", "rows": str(len(lines))})
    return out


def _org_frames(results: Results) -> dict[str, Any]:
    """The loaded frame of each public file that has organisation rows."""
    attrs = {"naome_indicators.csv": "indicators", "naome_run_charts.csv": "run_charts",
             "naome_survival.csv": "survival", "naome_survival_curves.csv": "survival_curves"}
    return {name: getattr(results, attr, None) for name, attr in attrs.items() if name in ORG_FILES}


def _org_lines(source: Path, frame: Any, codes: set[str]) -> tuple[str, dict[str, list[str]]]:
    """The header line and, per organisation, its lines of a CSV file (level = organisation)."""
    lines = source.read_text(encoding="utf-8").splitlines(keepends=True)
    header, body = (lines[0], lines[1:]) if lines else ("", [])
    mask = (frame["level"] == "organisation") & frame["org_code"].isin(codes)
    if len(body) == len(frame):
        # One line per record (no line breaks inside quoted fields): the loaded frame indexes the lines.
        groups = frame.index[mask.to_numpy()].groupby(frame.loc[mask, "org_code"].to_numpy())
        positions = {code: frame.index.get_indexer(idx) for code, idx in groups.items()}
        return header, {str(code): [body[i] for i in pos] for code, pos in positions.items()}
    rows: dict[str, list[str]] = {}
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    columns = next(csv.reader([header]))
    code_at, level_at = columns.index("org_code"), columns.index("level")
    for fields in csv.reader(body):
        if fields and fields[level_at] == "organisation" and fields[code_at] in codes:
            buffer.seek(0)
            buffer.truncate()
            writer.writerow(fields)
            rows.setdefault(fields[code_at], []).append(buffer.getvalue())
    return header, rows


def main(argv: list[str] | None = None) -> None:
    """Build the portal from an existing results directory: python -m naome_report.publish.portal [data_dir] [out_dir]."""
    import sys

    from naome_report.config import default_config
    from naome_report.hub import load_results
    from naome_report.registry import default_registry

    args = sys.argv[1:] if argv is None else argv
    config = default_config()
    data_dir = Path(args[0]) if args else config.output_dir / "data"
    out_dir = Path(args[1]) if len(args) > 1 else config.output_dir / "portal"
    start = time.perf_counter()
    written = build_portal(load_results(data_dir), default_registry(), config, out_dir)
    print(f"portal: {len(written)} files in {out_dir} ({time.perf_counter() - start:.2f} s)")


if __name__ == "__main__":
    main()
