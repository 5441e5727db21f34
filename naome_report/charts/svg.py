"""Building blocks of the hand-written SVG charts: text kept as text, and marks merged into few elements.

weasyprint draws each SVG element on its own, so every helper here merges many shapes into one
<path> (a chart of 140 points is a handful of elements); text stays <text>, so that it can be
selected, searched, read aloud and extracted with pdftotext.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from naome_report.charts.style import NHS_BLACK, NHS_DARK_GREY, NHS_PALE_GREY
from naome_report.charts.svg_frame import Frame

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


def text(x: float, y: float, content: str, size: float = 10, anchor: str = "middle", colour: str = NHS_BLACK,
         rotate: bool = False) -> str:
    """One line of text; `rotate` turns it to read upwards (a y-axis title) about (x, y)."""
    turn = f' transform="rotate(-90 {x:.1f} {y:.1f})"' if rotate else ""
    return (f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" fill="{colour}" '
            f'font-family="{FONT_FAMILY}"{turn}>{escape(content)}</text>')


def path_d(points: Sequence[tuple[float, float]]) -> str:
    """An open polyline as path data."""
    return "M" + " L".join(f"{x:.1f},{y:.1f}" for x, y in points) if len(points) > 1 else ""


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


def dots(centres: list[tuple[float, float]], colour: str, diameter: float) -> str:
    """Round dots as one path of tiny round-capped strokes: two path commands a point instead of a polygon's nine."""
    if not centres:
        return ""
    d = " ".join(f"M{x - 0.05:.2f},{y:.1f} h0.1" for x, y in centres)
    return f'<path d="{d}" fill="none" stroke="{colour}" stroke-width="{diameter}" stroke-linecap="round"/>'


def svg_document(width: float, height: float, body: list[str], label: str) -> str:
    """The <svg> element, named for screen readers, with the non-empty parts of `body`."""
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width:.0f} {height:.0f}" '
            f'width="{width:.0f}" height="{height:.0f}" role="img" aria-label="{escape(label)}">'
            + "".join(b for b in body if b) + "</svg>")


def y_gridlines(frame: Frame, ticks: list[float], suffix: str, size: float = 9.5) -> list[str]:
    """Horizontal gridlines (one path) with their labels on the left."""
    d = " ".join(f"M{frame.left:.1f},{frame.y(t):.1f} H{frame.width - frame.right:.1f}" for t in ticks)
    out = [path(d, NHS_PALE_GREY, 0.8)]
    out += [text(frame.left - 4, frame.y(t) + 3.5 * size / 9.5, f"{t:g}{suffix}", size=size, anchor="end",
                 colour=NHS_DARK_GREY) for t in ticks]
    return out
