"""The funnels' shared backgrounds: drawn once into one PDF, then placed under each pack's funnel frames.

Every pack shows the same funnel backgrounds (limits, every organisation's point, axes); only the ring
marking the pack's organisation differs, and that ring is HTML over the figure. Drawn by weasyprint in
every pack, the backgrounds were a fifth of a pack's time (weasyprint lays SVG text out letter by letter
and parses each path again). So they are drawn once, one PDF page each, and each pack is laid out with
an empty frame of the same size in their place; pikepdf then puts each background in as a form XObject
under its frame, at the rectangle weasyprint gives for the frame (`Page.anchors`), marked as an artifact:
the frame is the tagged figure and carries the alt text.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pikepdf
from weasyprint import HTML
from weasyprint.text.fonts import FontConfiguration

from naome_report.publish.packs.funnels import ANCHOR_PREFIX, CORNER_SUFFIX

PT_PER_PX = 0.75  # weasyprint's PDF user unit is the point; CSS lengths are in pixels of 1/96 in


@dataclass(frozen=True)
class Backgrounds:
    """The backgrounds' PDF (one page each, untagged) and which page is whose (indicator id -> page index)."""

    pdf: bytes
    pages: dict[str, int]
    digest: str  # what identifies them: a worker opens each distinct set once (each task brings a copy)


class BackgroundsError(RuntimeError):
    """A pack's funnel frame and the backgrounds do not match: the pack would show an empty funnel."""


def draw_backgrounds(charts: dict[str, tuple[str, float, float]], base_url: str,
                     fonts: FontConfiguration | None = None) -> Backgrounds:
    """One PDF page per chart (indicator id -> (SVG file relative to `base_url`, width, height in px))."""
    pages = "".join(
        f'<div style="page: p{i}"><img src="{src}" style="display: block; width: {w:g}px; height: {h:g}px"/></div>'
        for i, (src, w, h) in enumerate(charts.values()))
    sizes = "".join(f"@page p{i} {{ size: {w:g}px {h:g}px; margin: 0 }}" for i, (_, w, h) in enumerate(charts.values()))
    html = (f"<html><head><style>{sizes} body {{ margin: 0 }} div {{ break-after: page }}</style></head>"
            f"<body>{pages}</body></html>")
    pdf = HTML(string=html, base_url=base_url).write_pdf(font_config=fonts)
    return Backgrounds(pdf, {key: i for i, key in enumerate(charts)}, hashlib.sha256(pdf).hexdigest())


class BackgroundPlacer:
    """The backgrounds opened once (per worker), put into packs as form XObjects."""

    def __init__(self, backgrounds: Backgrounds) -> None:
        self.digest = backgrounds.digest
        self.source = pikepdf.Pdf.open(io.BytesIO(backgrounds.pdf))
        # Each form with a resource name of our own, not pikepdf's random one: the same pack, the same bytes.
        self.forms = {key: (self.source.make_indirect(self.source.pages[i].as_form_xobject()),
                            pikepdf.Name(f"/NaomeFunnel{i}")) for key, i in backgrounds.pages.items()}

    def place(self, pdf_bytes: bytes, page_anchors: list[dict[str, Any]], target: Path | io.BytesIO) -> int:
        """Write the pack `pdf_bytes` to `target` with a background under every funnel frame; return how many.

        `page_anchors` is each page's `weasyprint.Page.anchors`: a frame's top-left corner is its anchor,
        its bottom-right corner the anchor of its `-corner` element.
        """
        pdf = pikepdf.Pdf.open(io.BytesIO(pdf_bytes))
        placed = 0
        for page, anchors in zip(pdf.pages, page_anchors):
            frames = [name for name in anchors if name.startswith(ANCHOR_PREFIX) and not name.endswith(CORNER_SUFFIX)]
            if frames:
                page.contents_add(pikepdf.Stream(pdf, b"".join(self._drawing(pdf, page, anchors, f) for f in frames)),
                                  prepend=True)
                placed += len(frames)
        pdf.save(target, compress_streams=True, object_stream_mode=pikepdf.ObjectStreamMode.generate,
                 deterministic_id=True)
        return placed

    def _drawing(self, pdf: pikepdf.Pdf, page: pikepdf.Page, anchors: dict[str, Any], frame: str) -> bytes:
        """Content-stream operators drawing one background in its frame's rectangle, as an artifact."""
        key = frame[len(ANCHOR_PREFIX):]
        corner = anchors.get(frame + CORNER_SUFFIX)
        if key not in self.forms or corner is None:
            why = "no background was drawn for it" if key not in self.forms else "its corner is missing"
            raise BackgroundsError(f"funnel frame {frame!r}: {why}")
        (x0, y0), (x1, y1) = anchors[frame][:2], corner[:2]  # documented as (x, y); newer releases append more
        form, name = self.forms[key]
        page.add_resource(pdf.copy_foreign(form), pikepdf.Name.XObject, name, replace_existing=False)
        box = [float(v) for v in form.BBox]
        left, top = float(page.mediabox[0]), float(page.mediabox[3])
        sx = (x1 - x0) * PT_PER_PX / (box[2] - box[0])
        sy = (y1 - y0) * PT_PER_PX / (box[3] - box[1])
        tx = left + x0 * PT_PER_PX - box[0] * sx
        ty = top - y1 * PT_PER_PX - box[1] * sy
        return f"/Artifact BMC q {sx:.6f} 0 0 {sy:.6f} {tx:.4f} {ty:.4f} cm {name} Do Q EMC\n".encode("ascii")
