"""Ranked horizontal bar charts with confidence intervals as hand-written SVG (cancer alliances, Welsh regions).

The same chart as `bars.ranked_bar_chart` at a tenth of the cost to draw and to print: each kind of mark is one
<path> (bars of a fill, hatching, whiskers, gridlines), and text stays <text>.
"""

from __future__ import annotations

import textwrap

import numpy as np
import pandas as pd

from naome_report.charts.bars import BAR_COLUMNS, NOT_AVAILABLE, x_max_of
from naome_report.charts.style import (
    A4_TEXT_WIDTH_IN,
    NHS_BLACK,
    NHS_DARK_BLUE,
    NHS_DARK_GREY,
    NHS_PALE_GREY,
    UNIT_FILLS,
    WHITE,
    format_percent,
    require_columns,
)
from naome_report.charts.svg import axis_ticks, measured_text, path, svg_document
from naome_report.charts.svg_frame import Frame
from naome_report.charts.text_metrics import text_width

PX_PER_POINT = 96 / 72
WIDTH = A4_TEXT_WIDTH_IN * 96  # 160 mm, so that sizes in points are the sizes on paper
ROW = 0.26 * 96  # one bar's row
BAR_SHARE = 0.68  # of the row
TICK_SIZE, LABEL_SIZE, TITLE_SIZE = 8.5 * PX_PER_POINT, 9.5 * PX_PER_POINT, 11 * PX_PER_POINT
LINE = 1.2  # line height, in font sizes
HATCH_STEP = 7.0  # px between the diagonal lines of a hatched bar
WRAP = 38  # characters of a unit's name a line


def ranked_bar_svg(frame: pd.DataFrame, national: float, title: str, x_label: str, label: str, *,
                   national_label: str = "National value", synthetic: bool = False) -> tuple[str, float, float]:
    """Bars ranked highest first, 95% CI whiskers, a dashed national line; a missing percentage reads "not available".

    `group` names the kind of unit (a key of `style.UNIT_FILLS`), which decides the bar's fill; `label` is the
    chart's accessible name. Returns the SVG and its width and height in CSS pixels.
    """
    require_columns(frame, BAR_COLUMNS, "ranked_bar_svg")
    unknown = sorted(set(frame["group"]) - set(UNIT_FILLS))
    if unknown:
        raise ValueError(f"ranked_bar_svg: unknown group(s) {unknown}; expected one of {list(UNIT_FILLS)}")
    ranked = frame.sort_values("percentage", ascending=False, na_position="last", kind="stable").reset_index(drop=True)
    names = [textwrap.wrap(str(name), WRAP) or [""] for name in ranked["label"]]
    left = 8 + max(text_width(line, TICK_SIZE) for lines in names for line in lines)
    x_labels = x_label.split("\n")
    legend = _legend_entries(ranked, f"{national_label} ({format_percent(national, 1)})")
    top = TITLE_SIZE * 1.6
    bottom = 6 + TICK_SIZE * LINE + 4 + LABEL_SIZE * LINE * len(x_labels) + 10 + TICK_SIZE * LINE + 4
    height = top + ROW * len(ranked) + bottom
    frame_ = Frame(WIDTH, height, left, 12, top, bottom, 0.0, x_max_of(ranked, national), -0.5, len(ranked) - 0.5)
    y = [frame_.y(len(ranked) - 1 - i) for i in range(len(ranked))]  # highest first, at the top
    body = [measured_text(left, TITLE_SIZE, title, TITLE_SIZE, "start", NHS_DARK_BLUE, bold=True)]
    body += _x_axis(frame_, x_labels)
    body += _bars(frame_, ranked, y)
    body.append(path(f"M{frame_.x(national):.1f},{top:.1f} V{height - bottom:.1f}", NHS_DARK_BLUE, 1.5 * PX_PER_POINT,
                     dash="6 3.5"))
    body += _value_labels(frame_, ranked, y)
    body += [measured_text(left - 5, yi + TICK_SIZE * (0.35 - LINE * (len(lines) - 1) / 2 + LINE * k), line, TICK_SIZE, "end")
             for yi, lines in zip(y, names) for k, line in enumerate(lines)]
    body += _legend(legend, height - 4)
    return svg_document(WIDTH, height, body, label, synthetic), WIDTH, height


def _x_axis(frame: Frame, x_labels: list[str]) -> list[str]:
    """Vertical gridlines at round percentages, the axis lines, tick labels and the axis title."""
    ticks = [t for t in axis_ticks(0.0, frame.x1, 5) if t <= frame.x1]
    base = frame.height - frame.bottom
    grid = " ".join(f"M{frame.x(t):.1f},{frame.top:.1f} V{base:.1f}" for t in ticks)
    axes = (f"M{frame.left:.1f},{frame.top:.1f} V{base:.1f} H{frame.width - frame.right:.1f} "
            + " ".join(f"M{frame.x(t):.1f},{base:.1f} v4" for t in ticks))
    out = [path(grid, NHS_PALE_GREY, 0.8 * PX_PER_POINT), path(axes, NHS_DARK_GREY, 0.8 * PX_PER_POINT)]
    out += [measured_text(frame.x(t), base + 6 + TICK_SIZE, format_percent(t, 0 if t == round(t) else 1), TICK_SIZE)
            for t in ticks]
    middle = frame.left + (frame.width - frame.left - frame.right) / 2
    first = base + 6 + TICK_SIZE * LINE + 4 + LABEL_SIZE
    out += [measured_text(middle, first + LABEL_SIZE * LINE * k, line, LABEL_SIZE) for k, line in enumerate(x_labels)]
    return out


def _bars(frame: Frame, ranked: pd.DataFrame, y: list[float]) -> list[str]:
    """One path of bars per kind of unit, its hatching, then the whiskers with their caps."""
    half = ROW * BAR_SHARE / 2
    out = []
    for group, fill in UNIT_FILLS.items():
        rows = [(i, v) for i, (g, v) in enumerate(zip(ranked["group"], ranked["percentage"])) if g == group and pd.notna(v)]
        if not rows:
            continue
        boxes = [(frame.left, y[i] - half, frame.x(v), y[i] + half) for i, v in rows]
        out.append(path(" ".join(_box_d(*b) for b in boxes), fill.edge, 0.4 * PX_PER_POINT, fill=fill.colour))
        if fill.hatch:
            out.append(path(" ".join(_hatch_d(*b) for b in boxes), fill.edge, 0.6))
    whiskers = []
    cap = 2.5 * PX_PER_POINT
    for yi, low, high in zip(y, ranked["ci_lower"], ranked["ci_upper"]):
        if pd.notna(low) and pd.notna(high):
            x0, x1 = frame.x(low), frame.x(high)
            whiskers.append(f"M{x0:.1f},{yi:.1f} H{x1:.1f} M{x0:.1f},{yi - cap:.1f} v{2 * cap:.1f} "
                            f"M{x1:.1f},{yi - cap:.1f} v{2 * cap:.1f}")
    out.append(path(" ".join(whiskers), NHS_BLACK, 0.9 * PX_PER_POINT))
    return out


def _box_d(x0: float, y0: float, x1: float, y1: float) -> str:
    return f"M{x0:.1f},{y0:.1f} H{x1:.1f} V{y1:.1f} H{x0:.1f} Z"


def _hatch_d(x0: float, y0: float, x1: float, y1: float) -> str:
    """Diagonal lines (rising to the right) cut to the box, so no clip path is needed."""
    parts = []
    for c in np.arange(x0 - (y1 - y0), x1, HATCH_STEP):  # the line through (c, y1) rising at 45 degrees
        start_x, end_x = max(c, x0), min(c + (y1 - y0), x1)
        if end_x - start_x > 0.2:
            parts.append(f"M{start_x:.1f},{y1 - (start_x - c):.1f} L{end_x:.1f},{y1 - (end_x - c):.1f}")
    return " ".join(parts)


def _value_labels(frame: Frame, ranked: pd.DataFrame, y: list[float]) -> list[str]:
    """Each value beside its whisker on a white ground (it may cross the national line); 'not available' in italics."""
    grounds, out = [], []
    for yi, value, upper in zip(y, ranked["percentage"], ranked["ci_upper"]):
        if pd.isna(value):
            out.append(measured_text(frame.left + 4, yi + TICK_SIZE * 0.35, NOT_AVAILABLE, TICK_SIZE, "start", NHS_DARK_GREY,
                            italic=True))
            continue
        words = format_percent(value)
        x = frame.x(upper if pd.notna(upper) else value) + 4
        grounds.append(_box_d(x - 1, yi - TICK_SIZE * 0.55, x + text_width(words, TICK_SIZE) + 1, yi + TICK_SIZE * 0.55))
        out.append(measured_text(x, yi + TICK_SIZE * 0.35, words, TICK_SIZE, "start"))
    return [path(" ".join(grounds), "none", fill=WHITE)] + out


def _legend_entries(ranked: pd.DataFrame, national_text: str) -> list[tuple[str, str]]:
    groups = [g for g in UNIT_FILLS if g in set(ranked["group"])]
    return [("unit:" + g, g) for g in groups] + [("national", national_text), ("whisker", "95% confidence interval")]


def _legend(entries: list[tuple[str, str]], baseline: float) -> list[str]:
    """Keys and words in one centred row under the chart."""
    key, gap = 22.0, 18.0
    widths = [key + 5 + text_width(words, TICK_SIZE) for _, words in entries]
    x = (WIDTH - sum(widths) - gap * (len(entries) - 1)) / 2
    middle = baseline - TICK_SIZE * 0.35
    out = []
    for (kind, words), width in zip(entries, widths):
        if kind.startswith("unit:"):
            fill = UNIT_FILLS[kind[5:]]
            box = (x, middle - 5, x + key, middle + 5)
            out.append(path(_box_d(*box), fill.edge, 0.4 * PX_PER_POINT, fill=fill.colour))
            if fill.hatch:
                out.append(path(_hatch_d(*box), fill.edge, 0.6))
        elif kind == "national":
            out.append(path(f"M{x:.1f},{middle:.1f} h{key:.1f}", NHS_DARK_BLUE, 1.5 * PX_PER_POINT, dash="6 3.5"))
        else:
            out.append(path(f"M{x:.1f},{middle:.1f} h{key:.1f} M{x + key / 2:.1f},{middle - 5:.1f} v10", NHS_BLACK,
                            0.9 * PX_PER_POINT))
        out.append(measured_text(x + key + 5, baseline, words, TICK_SIZE, "start"))
        x += width + gap
    return out
