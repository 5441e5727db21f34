"""National documents: fill a `.qmd` template with computed numbers, render HTML, print to A4 PDF.

Templates use Jinja2 with delimiters that cannot clash with Quarto/pandoc syntax:
`[[ expression ]]`, `[% statement %]`, `[# comment #]`. HTML comes from `quarto` when it is
installed, otherwise from the bundled pandoc with `templates/document.html` and the Lua filter
`templates/quarto-compat.lua`; the PDF is always printed by weasyprint with `templates/print.css`.
"""

from __future__ import annotations

import gc
import io
import logging
import os
import shutil
import struct
import subprocess
import time
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import jinja2
import pypandoc
import yaml

from naome_report import atomic
from naome_report.config import PROJECT_ROOT

log = logging.getLogger("naome_report.render")

TEMPLATES_DIR = PROJECT_ROOT / "templates"
HTML_TEMPLATE = TEMPLATES_DIR / "document.html"
PRINT_CSS = TEMPLATES_DIR / "print.css"
LUA_FILTER = TEMPLATES_DIR / "quarto-compat.lua"
QUARTO_PROJECT = PROJECT_ROOT / "reports" / "_quarto.yml"

CSS_NAME = "naome-document.css"
SYNTHETIC_LABEL = "Synthetic data — not real patients"
PDF_VARIANT = "pdf/ua-1"
MARKDOWN_FORMAT = "markdown"
# How the Lua filter and Quarto report a reference to a figure or table that does not exist.
_UNRESOLVED = ("unresolved cross-reference @", "Unable to resolve crossref @")


class TemplateContextError(Exception):
    """A document template that cannot be filled: a missing value or a syntax error."""


class RenderError(RuntimeError):
    """A document that cannot be rendered (pandoc/quarto failure, unresolved cross-reference)."""


@dataclass(frozen=True)
class RenderResult:
    """What `render_document` wrote and how."""

    html_path: Path
    pdf_path: Path
    renderer: str
    seconds: float


# ---------------------------------------------------------------- templates


def _defined(value: Any) -> Any:
    """The value, or the StrictUndefined error naming the missing variable (not a format TypeError)."""
    if isinstance(value, jinja2.Undefined):
        str(value)  # StrictUndefined raises UndefinedError here
    return value


def format_thousands(value: float | int) -> str:
    """A count UK style: 11,468."""
    return f"{_defined(value):,.0f}"


def format_pct(value: float, decimals: int = 1) -> str:
    """A percentage already on a 0–100 scale: 59.0%."""
    return f"{_defined(value):,.{decimals}f}%"


def template_environment(search_path: Path) -> jinja2.Environment:
    """Jinja2 with `[[ ]]`, `[% %]`, `[# #]` delimiters, StrictUndefined and number filters."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(search_path)),
        undefined=jinja2.StrictUndefined,
        variable_start_string="[[",
        variable_end_string="]]",
        block_start_string="[%",
        block_end_string="%]",
        comment_start_string="[#",
        comment_end_string="#]",
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,  # Markdown, not HTML: pandoc escapes when it writes HTML.
    )
    env.filters["thousands"] = format_thousands
    env.filters["pct"] = format_pct
    return env


def fill_template(path: Path, context: dict[str, Any]) -> str:
    """The template at `path` filled from `context`; a missing value raises TemplateContextError."""
    path = Path(path)
    env = template_environment(path.parent)
    _refuse_ambiguous_brackets(path)
    try:
        return env.get_template(path.name).render(context)
    except jinja2.UndefinedError as exc:
        raise TemplateContextError(f"{path}{_template_line(exc, path)}: {exc.message} "
                                   "(no such value in the context given to the template)") from exc
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateContextError(f"{path}, line {exc.lineno}: {exc.message}") from exc


def _refuse_ambiguous_brackets(path: Path) -> None:
    """`[[[ x ]]]{.cls}` reads as `[[` + a Jinja list `[x]`: ask for `[ [[ x ]]]{.cls}` instead."""
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if "[[[" in line:
            raise TemplateContextError(
                f"{path}, line {number}: '[[[' is ambiguous (Jinja would print a list); "
                "put a space after the span's bracket: '[ [[ value ]]]{.class}'")


def _template_line(exc: BaseException, path: Path) -> str:
    """', line N' of the innermost traceback frame in the template (Jinja maps frames to lines)."""
    target = path.resolve()
    lines = [frame.lineno for frame in traceback.extract_tb(exc.__traceback__)
             if frame.filename and Path(frame.filename).resolve() == target]
    return f", line {lines[-1]}" if lines else ""


# ---------------------------------------------------------------- rendering


def render_document(
    qmd_text: str,
    *,
    stem: str,
    out_dir: Path,
    title: str,
    subtitle: str = "",
    synthetic: bool,
    resource_dir: Path,
    lang: str = "en-GB",
    large_print: bool = False,
    toc: bool = True,
    engine: Literal["auto", "pandoc", "quarto"] = "auto",
) -> RenderResult:
    """Render filled Markdown to `<out_dir>/<stem>.html` and a tagged A4 `<stem>.pdf`.

    `engine="auto"` uses Quarto when `quarto` is on PATH, else the bundled pandoc.
    """
    started = time.perf_counter()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    atomic.write_if_changed(out_dir / CSS_NAME, PRINT_CSS.read_bytes())  # parallel renders share it
    html_path, pdf_path = out_dir / f"{stem}.html", out_dir / f"{stem}.pdf"
    meta = _metadata(title, subtitle, lang, synthetic, large_print, _resource_prefix(Path(resource_dir), out_dir))
    quarto = shutil.which("quarto") if engine != "pandoc" else None
    if engine == "quarto" and not quarto:
        raise RenderError("engine='quarto' was asked for, but there is no `quarto` on PATH")
    if quarto:
        renderer = _quarto_html(quarto, qmd_text, html_path, meta, toc)
    else:
        renderer = _pandoc_html(qmd_text, html_path, meta, toc)
    html_to_pdf(html_path, pdf_path)
    seconds = time.perf_counter() - started
    log.info("%s: rendered with %s in %.2f s (%s)", stem, renderer, seconds, pdf_path)
    return RenderResult(html_path, pdf_path, renderer, seconds)


def html_to_pdf(html_path: Path, pdf_path: Path) -> Path:
    """Print HTML to a tagged (PDF/UA-1) A4 PDF; title and language come from the HTML."""
    import weasyprint  # 0.6 s to import: only when a PDF is wanted.

    from naome_report.publish.folder_urls import RELATIVE_BASE_URL, FolderFetcher

    reuse_png_data()
    document = weasyprint.HTML(string=html_path.read_text(encoding="utf-8"), base_url=RELATIVE_BASE_URL,
                               url_fetcher=FolderFetcher(html_path.parent))
    with atomic.replacing(pdf_path) as tmp:
        document.write_pdf(tmp, pdf_variant=PDF_VARIANT, pdf_tags=True)
    return pdf_path


def png_image_data(pillow_image: Any) -> bytes | None:
    """The compressed pixel data of a plain PNG, ready for a PDF image stream; None for any other image.

    A PDF Flate stream with PNG predictors (what weasyprint writes for PNG images) holds exactly the
    concatenated IDAT chunks of an 8-bit, non-interlaced RGB or greyscale PNG without transparency.
    """
    source = getattr(pillow_image, "fp", None)
    if (getattr(pillow_image, "format", None) != "PNG" or pillow_image.mode not in ("RGB", "L")
            or not isinstance(source, io.BytesIO)):
        return None
    data = source.getvalue()
    if not data.startswith(b"\x89PNG\r\n\x1a\n"):
        return None
    position, chunks, header = 8, [], False
    while position + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[position:position + 8])
        body = data[position + 8:position + 8 + length]
        if len(body) != length:
            return None
        if kind == b"IHDR":
            _width, _height, depth, colour, _method, _filter, interlace = struct.unpack(">IIBBBBB", body)
            if depth != 8 or interlace or colour != {"RGB": 2, "L": 0}[pillow_image.mode]:
                return None
            header = True
        elif kind in (b"tRNS", b"PLTE"):
            return None
        elif kind == b"IDAT":
            chunks.append(body)
        elif kind == b"IEND":
            break
        position += 12 + length
    return b"".join(chunks) if header and chunks else None


def reuse_png_data() -> None:
    """Let weasyprint embed a plain PNG's compressed data as it is, instead of decoding and re-encoding it.

    weasyprint decodes every PNG and compresses it again with Pillow to get the same kind of data
    (a third of the time of printing a document with 34 figures). Charts saved by `charts.save` are
    Pillow PNGs with default settings, so the PDF comes out byte-identical; any other image takes
    weasyprint's own path.
    """
    from weasyprint.images import RasterImage

    original = RasterImage.__dict__.get("_get_png_data")
    if not isinstance(original, staticmethod) or getattr(original.__func__, "naome_reuse", False):
        return  # not the weasyprint this was written for, or already done

    def _get_png_data(pillow_image: Any) -> bytes:
        data = png_image_data(pillow_image)
        return data if data is not None else original.__func__(pillow_image)

    _get_png_data.naome_reuse = True  # type: ignore[attr-defined]
    _get_png_data.original = original.__func__  # type: ignore[attr-defined]
    RasterImage._get_png_data = staticmethod(_get_png_data)


def start_gc_batch() -> None:
    """Freeze what exists now (never walked again) and stop automatic collection: the caller collects."""
    gc.collect()
    gc.freeze()
    gc.disable()


@contextmanager
def batched_gc() -> Iterator[None]:
    """Garbage collection off while a document (or a figure) is made, then once; the collector as before after.

    Python's collector runs every few hundred allocations and walks every object that survived earlier
    runs: the imported libraries, fonts, stylesheets and the boxes laid out so far. Freezing what exists
    and collecting once at the end takes a tenth off printing the state of the nation, with the same PDF.
    """
    enabled = gc.isenabled()
    start_gc_batch()
    try:
        yield
    finally:
        gc.unfreeze()
        gc.collect()
        if enabled:
            gc.enable()


def _metadata(title: str, subtitle: str, lang: str, synthetic: bool, large_print: bool,
              prefix: str) -> dict[str, str | bool]:
    """Document metadata shared by both renderers (variables of templates/document.html)."""
    meta: dict[str, str | bool] = {"title": title, "lang": lang, "naome-css": CSS_NAME, "resource-prefix": prefix}
    if subtitle:
        meta["subtitle"] = subtitle
    if synthetic:
        meta["synthetic"] = True
    if large_print:
        meta["large-print"] = True
    return meta


def _resource_prefix(resource_dir: Path, out_dir: Path) -> str:
    """How the HTML in `out_dir` reaches figures in `resource_dir` (relative, so the folder can move)."""
    return Path(os.path.relpath(resource_dir.resolve(), out_dir.resolve())).as_posix()


def _pandoc_html(qmd_text: str, html_path: Path, meta: dict[str, str | bool], toc: bool) -> str:
    """HTML via the pandoc bundled with pypandoc; returns "pandoc <version>"."""
    args = [
        pypandoc.get_pandoc_path(),
        f"--from={MARKDOWN_FORMAT}",
        "--to=html5",
        "--standalone",
        f"--template={HTML_TEMPLATE}",
        f"--lua-filter={LUA_FILTER}",
        "--section-divs",
        "--wrap=none",
        "--output=-",
    ]
    if toc:
        args += ["--toc", "--toc-depth=3"]
    for key, value in meta.items():
        args += ["--metadata", f"{key}={'true' if value is True else value}"]
    log.debug("rendering %s with pandoc", html_path.name)
    done = subprocess.run(args, input=qmd_text, capture_output=True, text=True, encoding="utf-8")
    _check_tool_output("pandoc", html_path, done)
    atomic.write_text(html_path, done.stdout)
    return f"pandoc {pypandoc.get_pandoc_version()}"


def _quarto_html(quarto: str, qmd_text: str, html_path: Path, meta: dict[str, str | bool], toc: bool) -> str:
    """HTML via the Quarto CLI with the project's _quarto.yml, in a private build folder."""
    # Quarto writes intermediates beside its input and collides when one input is rendered
    # twice at once, so each document gets a folder of its own.
    work = html_path.parent / ".quarto-build" / html_path.stem
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    (work / "_quarto.yml").write_text(quarto_project_yaml(), encoding="utf-8")
    source = work / f"{html_path.stem}.qmd"
    source.write_text(qmd_text, encoding="utf-8")
    args = [quarto, "render", source.name, "--to", "html", "--output", html_path.name]
    args += ["-M", f"toc:{'true' if toc else 'false'}"]
    for key, value in meta.items():
        args += ["-M", f"{key}:{'true' if value is True else value}"]
    log.debug("rendering %s with quarto (%s)", html_path.name, quarto)
    done = subprocess.run(args, cwd=work, capture_output=True, text=True, encoding="utf-8")
    _check_tool_output("quarto", html_path, done)
    os.replace(work / html_path.name, html_path)
    support = work / f"{html_path.stem}_files"
    if support.exists():
        target = html_path.parent / support.name
        shutil.rmtree(target, ignore_errors=True)
        shutil.move(str(support), target)
    shutil.rmtree(work, ignore_errors=True)
    return "quarto"


def quarto_project_yaml() -> str:
    """reports/_quarto.yml with its template, stylesheet and filter paths made absolute."""
    project = yaml.safe_load(QUARTO_PROJECT.read_text(encoding="utf-8"))
    base = QUARTO_PROJECT.parent
    html = project.get("format", {}).get("html", {})
    for key in ("template", "css"):
        if isinstance(html.get(key), str):
            html[key] = str((base / html[key]).resolve())
    project["filters"] = [str((base / f).resolve()) if isinstance(f, str) and f.endswith(".lua") else f
                          for f in project.get("filters", [])]
    return yaml.safe_dump(project, sort_keys=False, allow_unicode=True)


def _check_tool_output(tool: str, html_path: Path, done: subprocess.CompletedProcess[str]) -> None:
    """Raise on failure or unresolved cross-references; log other warnings."""
    if done.returncode != 0:
        raise RenderError(f"{tool} failed on {html_path.name} (exit {done.returncode}): {done.stderr.strip()}")
    unresolved = [line.split(marker, 1)[1].strip() for line in done.stderr.splitlines()
                  for marker in _UNRESOLVED if marker in line]
    if unresolved:
        raise RenderError(f"{html_path.name}: unresolved cross-reference(s) {', '.join('@' + u for u in unresolved)}")
    for line in done.stderr.splitlines():
        if line.strip():
            log.warning("%s (%s): %s", tool, html_path.name, line.strip())


