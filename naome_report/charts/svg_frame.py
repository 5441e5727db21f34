"""The plotting area of a hand-written SVG chart: maps data coordinates to canvas coordinates."""

from __future__ import annotations

from dataclasses import dataclass

from naome_report.charts.style import SYNTHETIC_MARK, SYNTHETIC_MARK_COLOUR, SYNTHETIC_MARK_OPACITY


@dataclass(frozen=True)
class Frame:
    """A plotting area inside an SVG canvas and the data ranges it maps."""

    width: float
    height: float
    left: float
    right: float
    top: float
    bottom: float
    x0: float
    x1: float
    y0: float
    y1: float

    def x(self, value: float) -> float:
        """Data x to canvas x."""
        span = (self.x1 - self.x0) or 1.0
        return self.left + (value - self.x0) / span * (self.width - self.left - self.right)

    def y(self, value: float) -> float:
        """Data y to canvas y (up is larger)."""
        span = (self.y1 - self.y0) or 1.0
        return self.height - self.bottom - (value - self.y0) / span * (self.height - self.top - self.bottom)


def synthetic_mark_svg(width: float, height: float, measured: bool = False) -> str:
    """The synthetic-data mark for the middle of an SVG canvas (hidden from screen readers: the page says it).

    `measured`: centred by its measured width instead of `text-anchor`, for charts printed by weasyprint (which
    draws anchored text through a PDF object of its own, about a millisecond a chart).
    """
    if measured:
        from naome_report.charts.text_metrics import text_width

        x = width / 2 - text_width(SYNTHETIC_MARK, 10, bold=True) / 2
        place = f'x="{x:.1f}" y="{height / 2 + 3.5:.1f}"'
    else:
        place = f'x="{width / 2:.1f}" y="{height / 2:.1f}" text-anchor="middle" dominant-baseline="middle"'
    return (f'<text {place} '
            f'font-family="Arial, Liberation Sans, sans-serif" font-size="10" font-weight="bold" '
            f'fill="{SYNTHETIC_MARK_COLOUR}" fill-opacity="{SYNTHETIC_MARK_OPACITY}" aria-hidden="true">'
            f'{SYNTHETIC_MARK}</text>')
