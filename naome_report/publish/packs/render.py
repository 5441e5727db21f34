"""Renders one organisation's pack to PDF: Jinja template and weasyprint, with everything reusable kept per process."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import cssselect2
import jinja2
import yaml
from weasyprint import CSS, HTML
from weasyprint.urls import URLFetcher, URLFetcherResponse
from weasyprint.html import UA_COUNTER_STYLE
from weasyprint.text.fonts import FontConfiguration

from naome_report import atomic
from naome_report.config import PROJECT_ROOT, Config
from naome_report.outlier_process import load_outlier_process
from naome_report.publish import PDF_VARIANT  # tagged PDF/UA-1, like the national documents
from naome_report.publish.folder_urls import RELATIVE_BASE_URL, FolderFetcher
from naome_report.publish.packs.backgrounds import BackgroundPlacer, Backgrounds, BackgroundsError, draw_backgrounds
from naome_report.publish.packs.context import CHART_SCHEME, Settings, build_context
from naome_report.publish.packs.data import Common, OrgInfo, PackInput
from naome_report.publish.packs.funnels import FunnelAsset
from naome_report.registry import Registry

TEMPLATE_DIR = PROJECT_ROOT / "templates" / "pack"
TEMPLATE = "pack.html.j2"
STYLESHEET = "pack.css"
UA_STYLESHEET = "ua.css"
PROMPTS = "action_prompts.yaml"
SYNTHETIC_LABEL = "SYNTHETIC DATA \u2014 not real patients"
# Whitespace between two of these tags is never printed (the pack styles none of them inline), but weasyprint
# makes a box of each run of it and then drops it: about 550 a pack, 1-3% of its time.
_BLOCK_TAGS = "html|head|body|meta|title|style|link|section|div|p|table|thead|tbody|tr|td|th|col|colgroup|figure|figcaption|ul|ol|li|h1|h2|h3"
_BETWEEN_BLOCKS = re.compile(rf"(</?(?:{_BLOCK_TAGS})\b[^>]*>)\s+(?=</?(?:{_BLOCK_TAGS})\b)")



def load_settings(registry: Registry, config: Config) -> Settings:
    """The registry, thresholds, audit names and action prompts a pack needs."""
    audit = config.section("audit")
    funnel = config.section("funnel")
    prompts = yaml.safe_load((TEMPLATE_DIR / PROMPTS).read_text(encoding="utf-8")) or {}
    method = {"binomial": "exact binomial (Spiegelhalter 2005)", "wilson": "inverted Wilson score (Fingertips)"}
    return Settings(
        registry=registry,
        completeness_threshold=float(config.section("disclosure")["completeness_threshold"]),
        prompts=prompts,
        audit_name=audit["name"], short_name=audit["short_name"], publisher=audit["publisher"],
        funnel_method=method.get(funnel.get("method", ""), str(funnel.get("method", ""))),
        process=load_outlier_process(config),
        min_run_points=int(config.section("spc")["min_published_points"]),
    )


def css_string(text: str) -> str:
    """Text as a quoted CSS string (safe inside a <style> element)."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("<", "\\3C ").replace("\n", " ")
    return f'"{escaped}"'


def page_css(org: OrgInfo, synthetic: bool) -> str:
    """Per-organisation page furniture: the organisation in the footer, the synthetic label in the header."""
    footer = css_string(f"{org.code} · {org.name} · Page ")
    rules = [f'@bottom-left {{ content: {footer} counter(page) " of " counter(pages); }}']
    if synthetic:
        rules.append(f"@top-right {{ content: {css_string(SYNTHETIC_LABEL)}; }}")
    return "@page { " + " ".join(rules) + " }"


class SharedImageCache(dict):
    """weasyprint's image cache, keeping only files shared by every pack (not each pack's own charts)."""

    def __setitem__(self, key: str, value: Any) -> None:
        if not str(key).startswith(("data:", CHART_SCHEME)):
            super().__setitem__(key, value)


class ChartFetcher(FolderFetcher):
    """weasyprint's URL fetcher, serving the current pack's SVG charts (`pack-chart:N`) from memory."""

    def __init__(self, folder: Path) -> None:
        super().__init__(folder)
        self.charts: dict[str, str] = {}

    def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
        if url.startswith(CHART_SCHEME):
            return URLFetcherResponse(url, body=self.charts[url].encode("utf-8"),
                                      headers={"Content-Type": "image/svg+xml"})
        return super().fetch(url, headers)


class PackHTML(HTML):
    """A pack's HTML, styled with the packs' own small user-agent stylesheet instead of weasyprint's.

    weasyprint's HTML5 sheet gives every element six pseudo-element styles and hundreds of selectors
    to match; templates/pack/ua.css has what the pack template uses. `_ua_stylesheets` is the hook
    weasyprint's own HTML class uses for its sheet: if it ever goes, packs fall back to the full
    sheet (same pages, only slower).
    """

    ua_sheets: list[CSS] = []

    def _ua_stylesheets(self, forms: bool = False) -> list[CSS]:
        return self.ua_sheets

    @classmethod
    def from_xhtml(cls, text: str, base_url: str, url_fetcher: URLFetcher | None = None) -> "PackHTML":
        """A document from well-formed XHTML, parsed by the XML parser (C) instead of weasyprint's HTML5 parser.

        The HTML5 parser is pure Python and was a tenth of a pack's time; the pack template is XHTML, so
        expat reads it in a millisecond. Sets what `HTML.__init__` sets after its parse.
        """
        root = ElementTree.fromstring(text)
        html = cls.__new__(cls)
        html.base_url = base_url
        html.url_fetcher = url_fetcher or URLFetcher()
        html.media_type = "print"
        html.wrapper_element = cssselect2.ElementWrapper.from_html_root(root, content_language=None)
        html.etree_element = html.wrapper_element.etree_element
        return html


def ua_stylesheet() -> CSS:
    """The packs' user-agent stylesheet, parsed (once per process)."""
    if not PackHTML.ua_sheets:
        PackHTML.ua_sheets = [CSS(filename=str(TEMPLATE_DIR / UA_STYLESHEET), counter_style=UA_COUNTER_STYLE)]
    return PackHTML.ua_sheets[0]


class PackRenderer:
    """Holds the compiled template, parsed stylesheet, fonts and image cache for many packs."""

    def __init__(self, settings: Settings, common: Common, out_dir: Path) -> None:
        env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATE_DIR), autoescape=True,
                                 trim_blocks=True, lstrip_blocks=True, undefined=jinja2.StrictUndefined)
        self.template = env.get_template(TEMPLATE)
        self.fonts = FontConfiguration()
        self.css = CSS(filename=str(TEMPLATE_DIR / STYLESHEET), font_config=self.fonts)
        ua_stylesheet()
        self.cache: dict[str, Any] = SharedImageCache()
        self.settings = settings
        self.common = common
        self.out_dir = Path(out_dir)
        self.base_url = RELATIVE_BASE_URL  # the same PDF whatever the folder
        self.fetcher = ChartFetcher(self.out_dir)
        self.placer: BackgroundPlacer | None = None
        self.frames = 0  # funnel frames in the pack last made into HTML

    def html(self, pack: PackInput, assets: dict[str, FunnelAsset]) -> str:
        """The pack as XHTML; its charts go to the fetcher, for the next render."""
        context = build_context(pack, self.common, self.settings, assets)
        context["page_css"] = page_css(pack.org, self.common.synthetic)
        self.fetcher.charts = context["charts"]
        self.frames = len(context["funnels"])
        return _BETWEEN_BLOCKS.sub(r"\1", self.template.render(**context))

    def backgrounds(self, assets: dict[str, FunnelAsset]) -> Backgrounds:
        """The funnels' shared backgrounds, drawn with this renderer's fonts (once per build)."""
        charts = {key: (a.src, a.width, a.height) for key, a in assets.items()}
        return draw_backgrounds(charts, self.out_dir.as_uri() + "/", self.fonts)

    def render(self, pack: PackInput, assets: dict[str, FunnelAsset], backgrounds: Backgrounds) -> Path:
        """Write output/packs/<org_code>.pdf (tagged: headings, tables and alt text for screen readers) and return its path."""
        target = self.out_dir / f"{pack.org.code}.pdf"
        tagged = {"pdf_variant": PDF_VARIANT, "pdf_tags": True}  # both steps read them
        document = PackHTML.from_xhtml(self.html(pack, assets), self.base_url, self.fetcher).render(
            stylesheets=[self.css], font_config=self.fonts, cache=self.cache, **tagged)
        # Uncompressed: pikepdf (qpdf, in C++) compresses it once, while it places the funnels' backgrounds.
        pdf = document.write_pdf(uncompressed_pdf=True, **tagged)
        placer = self._placer(backgrounds)
        with atomic.replacing(target) as tmp:
            placed = placer.place(pdf, [page.anchors for page in document.pages], tmp)
            if placed != self.frames:  # a funnel left empty would still pass for a chart: never publish that
                raise BackgroundsError(f"pack {pack.org.code}: {placed} funnel backgrounds placed for {self.frames} funnels")
        return target

    def _placer(self, backgrounds: Backgrounds) -> BackgroundPlacer:
        if self.placer is None or self.placer.digest != backgrounds.digest:
            self.placer = BackgroundPlacer(backgrounds)
        return self.placer
