"""Point marks of the hand-written SVG charts: every point of one style merged into one element."""

from __future__ import annotations

from naome_report.charts.style import StatusStyle
from naome_report.charts.svg import dots, path

PX_PER_POINT = 96 / 72
EDGE = 0.7 * PX_PER_POINT  # a mark's outline


def mark_d(marker: str, x: float, y: float, r: float) -> str:
    """Path data of a matplotlib-style marker of radius `r` centred on x, y: '^', 'v', 's', 'D' or 'h'."""
    if marker == "^":
        return f"M{x:.1f},{y - r:.1f} L{x + r:.1f},{y + r * 0.8:.1f} L{x - r:.1f},{y + r * 0.8:.1f} Z"
    if marker == "v":
        return f"M{x:.1f},{y + r:.1f} L{x + r:.1f},{y - r * 0.8:.1f} L{x - r:.1f},{y - r * 0.8:.1f} Z"
    if marker == "s":
        return f"M{x - r:.1f},{y - r:.1f} h{2 * r:.1f} v{2 * r:.1f} h{-2 * r:.1f} Z"
    if marker == "D":
        r *= 1.2  # matplotlib's diamond is its square turned: corners further out
        return f"M{x:.1f},{y - r:.1f} L{x + r:.1f},{y:.1f} L{x:.1f},{y + r:.1f} L{x - r:.1f},{y:.1f} Z"
    if marker == "h":
        h = r * 0.866
        return (f"M{x:.1f},{y - r:.1f} L{x + h:.1f},{y - r / 2:.1f} L{x + h:.1f},{y + r / 2:.1f} "
                f"L{x:.1f},{y + r:.1f} L{x - h:.1f},{y + r / 2:.1f} L{x - h:.1f},{y - r / 2:.1f} Z")
    raise ValueError(f"mark_d: unknown marker {marker!r}; expected one of '^', 'v', 's', 'D', 'h'")


def marks(style: StatusStyle, centres: list[tuple[float, float]]) -> str:
    """Every point of one style in one or two elements: round dots on a ring of their edge colour for circles
    ('o'), else filled outlines."""
    if not centres:
        return ""
    diameter = style.size * PX_PER_POINT
    if style.marker == "o":
        return dots(centres, style.edge, diameter + EDGE * 2) + dots(centres, style.colour, diameter)
    return path(" ".join(mark_d(style.marker, x, y, diameter / 2) for x, y in centres), style.edge, EDGE,
                fill=style.colour)
