"""Building blocks of the hand-written SVG charts: text kept as text, and marks merged into few elements.

weasyprint draws each SVG element on its own, so every helper here merges many shapes into one
<path> (a chart of 140 points is a handful of elements); text stays <text>, so that it can be
selected, searched, read aloud and extracted with pdftotext.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

import numpy as np

from naome_report.charts.style import NHS_BLACK, NHS_DARK_GREY, NHS_PALE_GREY
from naome_report.charts.svg_frame import Frame, synthetic_mark_svg

FONT_FAMILY = "Liberation Sans, sans-serif"


def nice_ticks(low: float, high: float, count: int = 4) -> list[float]:
    """Round axis ticks covering low..high."""
    span = max(high - low, 1e-9)
    raw = span / count
    step = next((s for s in (1, 2, 2.5, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 2500, 5000)
                 if s >= raw), 10_000)
    first = step * int(low // step)
    ticks = []
    value = first
    while value <= high + 1e-9:
        if value >= low - 1e-9:
            ticks.append(round(value, 6))
        value += step
    return ticks


def axis_ticks(low: float, high: float, at_least: int = 3) -> list[float]:
    """Round ticks covering low..high, at least `at_least` of them where the range allows."""
    for count in range(at_least, at_least + 6):
        ticks = nice_ticks(low, high, count)
        if len(ticks) >= at_least:
            return ticks
    return ticks


def text(x: float, y: float, content: str, size: float = 10, anchor: str = "middle", colour: str = NHS_BLACK, *,
         bold: bool = False, italic: bool = False, vertical: bool = False, measured: bool = False) -> str:
    """One line of text (`vertical`: turned to read upwards, as a y-axis title).

    `measured` places centred or right-aligned text by its width in the house font instead of by `text-anchor`:
    weasyprint prints each anchored text as a PDF object of its own, a third of a report's size when its charts
    have hundreds of labels.
    """
    extra = (' font-weight="bold"' if bold else "") + (' font-style="italic"' if italic else "")
    if measured and anchor != "start":
        from naome_report.charts.text_metrics import text_width

        width = text_width(content, size, bold=bold, italic=italic)
        shift = width if anchor == "end" else width / 2
        x, y = (x, y + shift) if vertical else (x - shift, y)
        anchor = "start"
    anchor_attr = f' text-anchor="{anchor}"' if anchor != "start" or not measured else ""
    if vertical:
        extra += f' transform="rotate(-90 {x:.1f} {y:.1f})"'
    return (f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size:g}"{anchor_attr} fill="{colour}" '
            f'font-family="{FONT_FAMILY}"{extra}>{escape(content)}</text>')


def path_d(points: Sequence[tuple[float, float]]) -> str:
    """An open polyline as path data."""
    return "M" + " L".join(f"{x:.1f},{y:.1f}" for x, y in points) if len(points) > 1 else ""


def simplify(points: list[tuple[float, float]], tolerance: float = 0.25) -> list[tuple[float, float]]:
    """The fewest points that keep a line within `tolerance` canvas units of itself (Ramer-Douglas-Peucker)."""
    if len(points) < 3:
        return list(points)
    xy = np.asarray(points, dtype=float)
    keep = np.zeros(len(xy), dtype=bool)
    keep[[0, -1]] = True
    stack = [(0, len(xy) - 1)]
    while stack:
        first, last = stack.pop()
        if last - first < 2:
            continue
        (x0, y0), (x1, y1) = xy[first], xy[last]
        inner = xy[first + 1:last]
        length = np.hypot(x1 - x0, y1 - y0) or 1.0
        distance = np.abs((x1 - x0) * (y0 - inner[:, 1]) - (x0 - inner[:, 0]) * (y1 - y0)) / length
        far = int(np.argmax(distance))
        if distance[far] > tolerance:
            keep[first + 1 + far] = True
            stack += [(first, first + 1 + far), (first + 1 + far, last)]
    return [tuple(p) for p in xy[keep]]


def path(d: str, colour: str, width: float = 1.2, dash: str = "", fill: str = "none") -> str:
    """One <path> (many shapes merged into one element keep weasyprint fast)."""
    if not d:
        return ""
    dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
    stroke = f' stroke="{colour}" stroke-width="{width}"' if colour != "none" else ""
    return f'<path d="{d}" fill="{fill}"{stroke}{dash_attr}/>'


def polyline(points: Sequence[tuple[float, float]], colour: str, width: float = 1.2, dash: str = "") -> str:
    """A line through the points."""
    return path(path_d(points), colour, width, dash)


def dots(centres: list[tuple[float, float]], colour: str, diameter: float, opacity: float = 1.0) -> str:
    """Round dots as one path of tiny round-capped strokes, each moved to relative to the last.

    Two short path commands a point instead of a polygon's nine: weasyprint parses path data character by
    character each time it draws a chart, so short data is fast data.
    """
    if not centres:
        return ""
    parts, pen = [], None  # pen: where the last stroke ended (starts are multiples of 0.05, so no drift)
    for x, y in ((round(x, 1) - 0.05, round(y, 1)) for x, y in centres):
        parts.append(f"M{x:.2f},{y:g}h.1" if pen is None else f"m{_num(x - pen[0])},{_num(y - pen[1])}h.1")
        pen = (x + 0.1, y)
    see_through = f' stroke-opacity="{opacity:g}"' if opacity < 1 else ""
    return (f'<path d="{"".join(parts)}" fill="none" stroke="{colour}" stroke-width="{diameter}" '
            f'stroke-linecap="round"{see_through}/>')


def _num(value: float) -> str:
    """A coordinate in as few characters as SVG allows: 0.5 -> .5, -0.5 -> -.5, 2.0 -> 2."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    if text in ("-0", ""):
        return "0"
    return text.replace("0.", ".", 1) if text.startswith(("0.", "-0.")) else text


def svg_document(width: float, height: float, body: list[str], label: str, synthetic: bool = False) -> str:
    """The <svg> element, named for screen readers, with the non-empty parts of `body` (and the synthetic mark)."""
    mark = synthetic_mark_svg(width, height, measured=True) if synthetic else ""
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width:.0f} {height:.0f}" '
            f'width="{width:.0f}" height="{height:.0f}" role="img" aria-label="{escape(label)}">'
            + "".join(b for b in body if b) + mark + "</svg>")


def y_gridlines(frame: Frame, ticks: list[float], suffix: str, size: float = 9.5) -> list[str]:
    """Horizontal gridlines (one path) with their labels on the left."""
    d = " ".join(f"M{frame.left:.1f},{frame.y(t):.1f} H{frame.width - frame.right:.1f}" for t in ticks)
    out = [path(d, NHS_PALE_GREY, 0.8)]
    out += [measured_text(frame.left - 4, frame.y(t) + 3.5 * size / 9.5, f"{t:g}{suffix}", size, "end", NHS_DARK_GREY)
            for t in ticks]
    return out


def measured_text(x: float, y: float, content: str, size: float = 10, anchor: str = "middle",
                  colour: str = NHS_BLACK, **style: bool) -> str:
    """`text` placed by its measured width (no `text-anchor`), for charts printed by weasyprint."""
    return text(x, y, content, size, anchor, colour, measured=True, **style)
