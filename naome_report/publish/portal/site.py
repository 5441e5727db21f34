"""Writes the static results portal: every page, its assets and downloads, into one self-contained folder."""

from __future__ import annotations

import os
import re
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from jinja2 import Environment, FileSystemLoader, StrictUndefined, pass_context, select_autoescape
from markupsafe import Markup

from naome_report.atomic import TEMPORARY_MARK
from naome_report.charts import style
from naome_report.config import PROJECT_ROOT, Config
from naome_report.hub import FILES, META_FILE, Results
from naome_report.publish.portal import charts, markup, pages
from naome_report.publish.portal import downloads as dl
from naome_report.publish.portal.model import (
    Portal,
    build_portal_model,
    fmt_count,
    fmt_pct,
    safe_name,
)
from naome_report.organisations import load_organisations
from naome_report.publish.workbook import workbook_filename
from naome_report.registry import Registry
from naome_report.vocabulary import VARIATION

TEMPLATE_DIR = PROJECT_ROOT / "templates" / "portal"
STATIC_ASSETS = ("portal.js",)
# What this module writes inside out_dir; replaced whole on every build so removed units disappear. The
# reports, packs and data files linked in by bundle.py are the bundle's to keep up to date.
OWNED = ("assets", "organisations", "areas", "indicators", "downloads")
OWNED_FILES = ("index.html", "help.html", "favicon.svg")
# A build writes the portal beside the previous one and swaps it in at the end: a reader (or a killed build)
# never sees a page half written or a portal half built. The dot hides both from the manifest.
STAGING = f".portal{TEMPORARY_MARK}staging"
RETIRED = f".portal{TEMPORARY_MARK}retired"
INDENT = re.compile(r"\n[ \t]+")


@dataclass
class Site:
    """The portal being written: every file goes into a staging folder, moved into place once all are written."""

    out_dir: Path
    written: list[Path] = field(default_factory=list)
    _folders: set[Path] = field(default_factory=set, repr=False)

    @property
    def staging(self) -> Path:
        return self.out_dir / STAGING

    def write(self, rel: str, text: str) -> Path:
        """Write one file of the portal (to the staging folder); return where it will be."""
        path = self.staging / rel
        if path.parent not in self._folders:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._folders.add(path.parent)
        # A plain write: the staging folder as a whole is what is crash-safe (a file renamed each costs 0.1 s more).
        with open(path, "wb") as file:
            file.write(text.encode("utf-8"))
        final = self.out_dir / rel
        self.written.append(final)
        return final

    def start(self) -> None:
        """An empty staging folder (one left by a killed build is removed)."""
        shutil.rmtree(self.staging, ignore_errors=True)
        shutil.rmtree(self.out_dir / RETIRED, ignore_errors=True)
        self.staging.mkdir(parents=True)
        self._folders = {self.staging}

    def publish(self) -> None:
        """Move each folder and file of the new portal into place; the previous portal's go, whole."""
        retired = self.out_dir / RETIRED
        retired.mkdir()
        for name in OWNED:
            if (self.out_dir / name).exists():
                os.replace(self.out_dir / name, retired / name)
            if (self.staging / name).exists():
                os.replace(self.staging / name, self.out_dir / name)
        for name in OWNED_FILES:
            if (self.staging / name).exists():
                os.replace(self.staging / name, self.out_dir / name)
            else:
                (self.out_dir / name).unlink(missing_ok=True)
        shutil.rmtree(retired)
        shutil.rmtree(self.staging)


def read_places(config: Config, synthetic: bool) -> dict[str, tuple[str, ...]]:
    """The places each organisation serves, from the `places` column (`;`-separated) of the run's organisation
    table (the fictional one for synthetic results), for search."""
    table = load_organisations(config, synthetic)
    return {code: tuple(p.strip() for p in text.split(";") if p.strip())
            for code, text in zip(table["org_code"], table["places"]) if text.strip()}


def build_portal(results: Results, registry: Registry, config: Config, out_dir: Path) -> list[Path]:
    """Write the static portal (landing, area, organisation, indicator and help pages, assets, CSVs) into out_dir."""
    model = build_portal_model(results, registry, config.financial_years, read_places(config, results.synthetic))
    site = Site(Path(out_dir))
    site.start()
    try:
        _write_site(site, model, results, registry, config)
    except BaseException:
        shutil.rmtree(site.staging, ignore_errors=True)  # the previous portal stays as it was
        raise
    site.publish()
    return site.written


def _write_site(site: Site, model: Portal, results: Results, registry: Registry, config: Config) -> None:
    """Every page, asset and download of the portal, into the site's staging folder."""
    env = _environment()
    common = _common_context(results, registry, config)
    min_points = int(config.section("spc").get("min_published_points", 2))
    _write_assets(site, env)
    funnels = {ind.id: f for ind in registry if (f := pages.funnel_for(model, ind, model.period))}
    for ind_id, funnel in funnels.items():
        site.write(funnel.background_href, funnel.background())
    org_files = dl.write_downloads(site.write, results, {o.code for o in model.organisations})
    dl.write_indicator_files(site.write, results)

    def render(template: str, rel: str, context: dict[str, Any]) -> None:
        root = "../" * rel.count("/")
        # Indentation is for reading templates, not pages: dropping it saves about a tenth of each page.
        site.write(rel, INDENT.sub("\n", env.get_template(template).render(**common, **context, root=root)))

    data_files = [name for name in ("README.md", *FILES, META_FILE) if (results.data_dir / name).exists()]
    render("index.html", "index.html", pages.landing(model, registry, _workbook_link(site.out_dir, results, config), data_files))
    render("help.html", "help.html", {"title": "How to read the portal", "page": "help", "unit": None,
                                      "crumbs": pages.breadcrumbs(model, None)})
    charted: set[str] = set()
    for org in model.organisations:
        context = pages.organisation(model, registry, org, funnels, org_files.get(org.code, []), min_points)
        charted |= _charted(org, context["goals"])
        render("organisation.html", org.href, context)
    for unit in model.areas:
        context = pages.area(model, registry, unit, funnels, min_points)
        charted |= _charted(unit, context["goals"])
        render("area.html", unit.href, context)
    for ind in registry:
        period_funnels = {p: pages.funnel_for(model, ind, p) if p != model.period else funnels.get(ind.id)
                          for p in model.periods}
        render("indicator.html", f"indicators/{safe_name(ind.id)}.html", pages.indicator(model, ind, period_funnels))
    dl.write_run_chart_files(site.write, results, charted)


def _charted(unit: Any, goals: list[dict[str, Any]]) -> set[str]:
    """The unit, if its page shows or tabulates a run chart (and so links to its run-chart data)."""
    return {unit.code for g in goals for e in g["entries"] if e.get("run") and not e["run"].get("empty")}


def _write_assets(site: Site, env: Environment) -> None:
    colours = {**style.PAGE_COLOURS, **{f"role-{k}": v for k, v in style.ROLE_COLOURS.items()},
               **{f"variation-{k}": v for k, v in charts.VARIATION_COLOURS.items()}}
    site.write("assets/portal.css", env.get_template("portal.css").render(colours=colours))
    for name in STATIC_ASSETS:
        site.write(f"assets/{name}", (TEMPLATE_DIR / name).read_text(encoding="utf-8"))
    site.write("favicon.svg", env.get_template("favicon.svg").render(colours=style.PAGE_COLOURS))


def _environment() -> Environment:
    env = Environment(loader=FileSystemLoader(TEMPLATE_DIR), autoescape=select_autoescape(["html", "svg"]),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["pct"] = fmt_pct
    env.filters["count"] = fmt_count
    for name in ("judgement", "outlier", "value_cell", "result_cell", "change_cell", "comparator_cell"):
        env.globals[name] = getattr(markup, name)
    env.globals["term"] = pass_context(lambda context, slug, text: markup.term_link(context["root"], slug, text))
    env.globals["legend_marker"] = lambda *a: Markup(charts.legend_marker(*a))
    env.globals["legend_line"] = lambda *a: Markup(charts.legend_line(*a))
    env.globals["VARIATION_SHAPE"] = charts.VARIATION_SHAPE
    env.globals["VARIATION_COLOURS"] = charts.VARIATION_COLOURS
    env.globals["variation_text"] = charts.variation_text
    env.globals["VARIATION"] = VARIATION
    env.globals["colours"] = style.PAGE_COLOURS
    env.globals["reports"] = pages.report_links()
    return env


def _common_context(results: Results, registry: Registry, config: Config) -> dict[str, Any]:
    audit = config.raw.get("audit", {})
    meta = results.meta
    years = config.financial_years
    period_text = (f"financial years {years[0]} to {years[-1]} ({results.primary_period})"
                   if len(years) > 1 and results.primary_period == config.primary_period else results.primary_period)
    disclosure = config.raw.get("disclosure", {})
    return {
        "synthetic": results.synthetic,
        "period": results.primary_period,
        "period_text": period_text,
        "data_cutoff": meta.get("data_cutoff", ""),
        "definitions_version": meta.get("definitions_version", registry.definitions_version),
        "built": str(meta.get("built_at", meta.get("built", ""))),
        "audit_name": audit.get("name", "National Audit of Metastatic Breast Cancer"),
        "audit_short": audit.get("short_name", "NAoMe"),
        "publisher": audit.get("publisher", ""),
        "contact": audit.get("contact", ""),
        "suppress_low": disclosure.get("suppress_low", 1),
        "suppress_high": disclosure.get("suppress_high", 4),
        "min_denominator": disclosure.get("min_denominator", 10),
    }


def _workbook_link(out_dir: Path, results: Results, config: Config) -> str:
    """The metrics workbook (linked into the portal root): the one on disk, else the name the workbook stage gives it."""
    found = sorted(out_dir.parent.glob("NAoMe_Metrics_Table_*.xlsx"), key=lambda p: p.stat().st_mtime)
    if found:
        return found[-1].name
    return workbook_filename(results.primary_period, config.raw.get("audit", {}).get("output_version", 1))


def main(argv: list[str] | None = None) -> None:
    """Build the portal from an existing results directory: python -m naome_report.publish.portal [data_dir] [out_dir]."""
    import sys

    from naome_report.config import default_config
    from naome_report.hub import load_results
    from naome_report.publish.portal.bundle import bundle_outputs
    from naome_report.registry import default_registry

    args = sys.argv[1:] if argv is None else argv
    config = default_config()
    data_dir = Path(args[0]) if args else config.output_dir / "data"
    out_dir = Path(args[1]) if len(args) > 1 else config.output_dir / "portal"
    start = time.perf_counter()
    written = build_portal(load_results(data_dir), default_registry(), config, out_dir)
    linked = bundle_outputs(out_dir.parent, out_dir)
    print(f"portal: {len(written)} files and {len(linked)} linked outputs in {out_dir} ({time.perf_counter() - start:.2f} s)")
