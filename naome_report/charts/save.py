"""Write a chart to disk reproducibly, with its alternative text beside it."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Literal

from matplotlib.figure import Figure
from PIL import Image

from naome_report import atomic
from naome_report.charts.style import add_synthetic_mark, apply_house_style

CSS_PX_PER_INCH = 96

ImageFormat = Literal["png", "svg"]

# Matplotlib stamps its version and the time into files unless told not to.
_METADATA: dict[str, dict[str, str | None]] = {
    "png": {"Software": None},
    "svg": {"Date": None, "Creator": "naome-report"},
}


@dataclass(frozen=True)
class FigureAsset:
    """A chart file on disk: where it is, what it shows in words, and its pixel size.

    For PNG the size is the raster's pixels; for SVG it is CSS pixels (96 per inch).
    """

    path: Path
    alt_text: str
    width_px: int
    height_px: int


def alt_text_path(path: Path) -> Path:
    """Where the alternative text of a figure file is kept: `<path>.alt.txt`."""
    return path.with_name(path.name + ".alt.txt")


def save_figure(fig: Figure, path: Path | str, alt_text: str, fmt: ImageFormat = "png", dpi: int = 200,
                synthetic: bool = False) -> FigureAsset:
    """Save `fig` as PNG or SVG (identical input gives identical bytes) plus `<path>.alt.txt`; a chart of
    synthetic data gets the synthetic mark inside the image."""
    if fmt not in _METADATA:
        raise ValueError(f"unsupported figure format {fmt!r}: use 'png' or 'svg'")
    if not alt_text or not alt_text.strip():
        raise ValueError(f"{path}: every figure needs alternative text")
    apply_house_style()
    if synthetic:
        add_synthetic_mark(fig)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = _render_bytes(fig, fmt, dpi)
    if fmt == "svg":
        data = _add_svg_title(_text_fill_opacity(data), alt_text)
    atomic.write_bytes(path, data)
    atomic.write_bytes(alt_text_path(path), alt_text.strip().encode("utf-8") + b"\n")
    if fmt == "png":
        width_px, height_px = _png_size(data)
    else:
        width_in, height_in = fig.get_size_inches()
        width_px, height_px = round(width_in * CSS_PX_PER_INCH), round(height_in * CSS_PX_PER_INCH)
    return FigureAsset(path, alt_text.strip(), width_px, height_px)


def save_svg(svg: str, path: Path | str, alt_text: str, width_px: float, height_px: float) -> FigureAsset:
    """Save a hand-written SVG chart (already named for screen readers) with a <title> and `<path>.alt.txt`."""
    if not alt_text or not alt_text.strip():
        raise ValueError(f"{path}: every figure needs alternative text")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    opening = svg.index(">", svg.index("<svg ")) + 1
    atomic.write_text(path, svg[:opening] + f"<title>{escape(alt_text.strip())}</title>" + svg[opening:])
    atomic.write_bytes(alt_text_path(path), alt_text.strip().encode("utf-8") + b"\n")
    return FigureAsset(path, alt_text.strip(), round(width_px), round(height_px))


def _png_size(data: bytes) -> tuple[int, int]:
    """Width and height from the PNG header (matplotlib truncates inches × dpi)."""
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def _render_bytes(fig: Figure, fmt: ImageFormat, dpi: int) -> bytes:
    """The encoded image, without timestamps or version stamps."""
    if fmt == "png":
        opaque = _opaque_png_direct(fig, dpi)
        if opaque is not None:
            return opaque
    buffer = io.BytesIO()
    fig.savefig(buffer, format=fmt, dpi=dpi, metadata=_METADATA[fmt])
    return _opaque_png(buffer.getvalue()) if fmt == "png" else buffer.getvalue()


def _opaque_png_direct(fig: Figure, dpi: int) -> bytes | None:
    """An opaque chart as an RGB PNG, encoded once; None when it has transparency (or an unexpected size).

    Same pixels and bytes as encoding matplotlib's RGBA PNG and then `_opaque_png`, without the RGBA PNG's
    compression and decompression (a third of the cost of saving a chart).
    """
    buffer = io.BytesIO()
    fig.savefig(buffer, format="rgba", dpi=dpi)
    raw = buffer.getvalue()
    width, height = int(fig.get_figwidth() * dpi), int(fig.get_figheight() * dpi)
    if width * height * 4 != len(raw) or raw[3::4].translate(None, b"\xff"):  # an alpha byte below 255
        return None
    out = io.BytesIO()
    Image.frombuffer("RGBA", (width, height), raw, "raw", "RGBA", 0, 1).convert("RGB").save(out, format="PNG")
    return out.getvalue()


def _opaque_png(data: bytes) -> bytes:
    """Drop the alpha channel of an opaque chart: weasyprint then embeds one image stream, not two."""
    with Image.open(io.BytesIO(data)) as image:
        if image.mode != "RGBA" or image.getextrema()[3][0] < 255:
            return data
        out = io.BytesIO()
        image.convert("RGB").save(out, format="PNG")
    return out.getvalue()


_TEXT_OPACITY = re.compile(r'(<text [^>]*style="[^"]*?)(?<![-\w])opacity:')


def _text_fill_opacity(svg: bytes) -> bytes:
    """See-through text (the synthetic mark) as `fill-opacity`, which is the same for text: weasyprint paints an
    `opacity` group clipped to the text's unanchored box, so a centred mark lost its first half in the PDFs."""
    return _TEXT_OPACITY.sub(r"\1fill-opacity:", svg.decode("utf-8")).encode("utf-8")


def _add_svg_title(svg: bytes, alt_text: str) -> bytes:
    """Give the SVG an accessible name (<title> and role="img") for browsers and screen readers."""
    text = svg.decode("utf-8")
    start = text.index("<svg ")
    end = text.index(">", start)
    opening = text[start:end].replace("<svg ", '<svg role="img" aria-label="' + escape(alt_text.strip()) + '" ', 1)
    title = f"\n <title>{escape(alt_text.strip())}</title>"
    return (text[:start] + opening + ">" + title + text[end + 1 :]).encode("utf-8")
