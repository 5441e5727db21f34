"""How wide a line of chart text is in the house font, so hand-written SVG charts can leave room for it."""

from __future__ import annotations

from functools import lru_cache

from PIL import ImageFont

from naome_report.charts.style import house_font

MEASURE_SIZE = 100  # measured at a large size and scaled: PIL rounds widths to whole pixels


@lru_cache(maxsize=4)
def _font(italic: bool, bold: bool) -> ImageFont.FreeTypeFont:
    from matplotlib import font_manager

    properties = font_manager.FontProperties(family=house_font(), style="italic" if italic else "normal",
                                             weight="bold" if bold else "normal")
    return ImageFont.truetype(font_manager.findfont(properties), MEASURE_SIZE)


def text_width(content: str, size: float, *, italic: bool = False, bold: bool = False) -> float:
    """Width of one line of `content` at font size `size` (in the same units as `size`)."""
    return _font(italic, bold).getlength(content) * size / MEASURE_SIZE
