"""The national documents' funnel plot as hand-written SVG: `funnel.funnel_plot`'s chart in a few dozen elements.

Limits, national line and every organisation's point, shaped and coloured by outlier status (or by funnel
position, named without 'alert' or 'alarm'), with axis titles and a legend in words; text stays text.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from naome_report.charts.funnel import POINT_COLUMNS, STATUS_COLUMN, base_status
from naome_report.charts.funnel_geometry import LIMIT_COLUMNS, check_units, limit_curves, x_extent, y_range
from naome_report.charts.style import (
    NHS_BLACK,
    NHS_BLUE,
    NHS_DARK_BLUE,
    NHS_DARK_GREY,
    NHS_PALE_GREY,
    OUTLIER_STATUS,
    format_percent,
    require_columns,
)
from naome_report.charts.svg import axis_ticks, measured_text, path, path_d, simplify, svg_document
from naome_report.charts.svg_frame import Frame
from naome_report.charts.svg_marks import PX_PER_POINT, marks
from naome_report.charts.text_metrics import text_width

TICK_SIZE, LABEL_SIZE, TITLE_SIZE = 8.5 * PX_PER_POINT, 9.5 * PX_PER_POINT, 11 * PX_PER_POINT
LINE = 1.2  # line height, in font sizes
KEY, KEY_GAP, COLUMN_GAP = 26.0, 6.0, 18.0  # legend: key length, key to words, between columns
CURVE_TOLERANCE = 0.2  # canvas units a simplified limit curve may stray from the smooth one
DASH_95 = "5 2.5"
LIMIT_LABELS = ("95% limits (about 2 SD)", "99.8% limits (about 3 SD)")
CLIP_ID = "funnel-plotting-area"


def funnel_plot_svg(points: pd.DataFrame, limits: pd.DataFrame, target: float, title: str, y_label: str, label: str,
                    *, size_px: tuple[float, float], x_label: str = "Number of patients (denominator)",
                    target_label: str = "National value", status_labels: Mapping[str, str] | None = None,
                    synthetic: bool = False) -> str:
    """A funnel plot (percent 0-100) of organisations by `points.outlier_status`; `label` names it for screen readers.

    `status_labels` replaces the legend words of statuses (e.g. positions without 'alert' or 'alarm' for an
    indicator outside the outlier process); marks and colours stay those of the status.
    """
    require_columns(points, (*POINT_COLUMNS, STATUS_COLUMN), "funnel_plot_svg points")
    require_columns(limits, LIMIT_COLUMNS, "funnel_plot_svg limits")
    check_units(limits, target)
    statuses = base_status(points[STATUS_COLUMN])
    unknown = sorted(set(statuses) - set(OUTLIER_STATUS))
    if unknown:
        raise ValueError(f"funnel_plot_svg: unknown {STATUS_COLUMN} value(s) {unknown}; expected {list(OUTLIER_STATUS)}")
    width, height = size_px
    words = status_labels or {}
    legend = [("95", LIMIT_LABELS[0]), ("998", LIMIT_LABELS[1]),
              ("target", f"{target_label} ({format_percent(target, 1)})")]
    legend += [(s, words.get(s, style.label)) for s, style in OUTLIER_STATUS.items() if (statuses == s).any()]
    y_lines = y_label.split("\n")
    x_max = x_extent(points["denominator"])
    y0, y1 = y_range(points, limits, target)
    y_ticks = [t for t in axis_ticks(y0, y1, 4) if y0 <= t <= y1]
    tick_words = {t: format_percent(t, 0 if t == round(t) else 1) for t in y_ticks}
    left = 10 + LABEL_SIZE * LINE * len(y_lines) + 8 + max(text_width(w, TICK_SIZE) for w in tick_words.values())
    rows = -(-len(legend) // 3)
    bottom = 5 + TICK_SIZE * LINE + 3 + LABEL_SIZE * LINE + 8 + TICK_SIZE * LINE * rows + 4
    chart = Frame(width, height, left, 10, TITLE_SIZE * 1.7, bottom, 0.0, x_max, y0, y1)
    x_ticks = [t for t in axis_ticks(0.0, x_max, 7) if t <= x_max]
    base, right = height - bottom, width - chart.right
    body = [measured_text(left, TITLE_SIZE * 1.1, title, TITLE_SIZE, "start", NHS_DARK_BLUE, bold=True)]
    body.append(path(" ".join([f"M{left:.1f},{chart.y(t):.1f} H{right:.1f}" for t in y_ticks]
                              + [f"M{chart.x(t):.1f},{chart.top:.1f} V{base:.1f}" for t in x_ticks]),
                     NHS_PALE_GREY, 0.8 * PX_PER_POINT))
    body.append(f'<clipPath id="{CLIP_ID}"><rect x="{left:.1f}" y="{chart.top:.1f}" width="{right - left:.1f}" '
                f'height="{base - chart.top:.1f}"/></clipPath>')
    body.append(f'<g clip-path="url(#{CLIP_ID})">' + "".join(_limits(chart, limits)) + "</g>")
    body.append(path(f"M{left:.1f},{chart.y(target):.1f} H{right:.1f}", NHS_DARK_BLUE, 1.4 * PX_PER_POINT))
    for status, style in OUTLIER_STATUS.items():  # alarms last, on top
        group = points[(statuses == status).to_numpy()]
        centres = [(chart.x(n), chart.y(p)) for n, p in zip(group["denominator"], group["percentage"])]
        body.append(marks(style, centres))
    body += _axes(chart, x_ticks, tick_words, x_label, y_lines)
    body += _legend(legend, width, height)
    return svg_document(width, height, body, label, synthetic)


def _limits(chart: Frame, limits: pd.DataFrame) -> list[str]:
    """The 95% limits dashed and the 99.8% limits solid, as smooth curves (one path each)."""
    grid, curves = limit_curves(limits, chart.x1, keep_given=False)
    out = []
    for (low, high), dash in ((("lower_95", "upper_95"), DASH_95), (("lower_998", "upper_998"), "")):
        d = " ".join(path_d(simplify([(chart.x(n), chart.y(v)) for n, v in zip(grid, curves[c])], CURVE_TOLERANCE))
                     for c in (low, high))
        out.append(path(d, NHS_BLUE, 1.1 * PX_PER_POINT, dash))
    return out


def _axes(chart: Frame, x_ticks: list[float], y_ticks: dict[float, str], x_label: str, y_lines: list[str]) -> list[str]:
    """Axis lines with tick marks, tick labels and both axis titles."""
    base = chart.height - chart.bottom
    d = (f"M{chart.left:.1f},{chart.top:.1f} V{base:.1f} H{chart.width - chart.right:.1f} "
         + " ".join(f"M{chart.x(t):.1f},{base:.1f} v4" for t in x_ticks)
         + " " + " ".join(f"M{chart.left:.1f},{chart.y(t):.1f} h-4" for t in y_ticks))
    out = [path(d, NHS_DARK_GREY, 0.8 * PX_PER_POINT)]
    out += [measured_text(chart.x(t), base + 5 + TICK_SIZE, f"{t:,.0f}", TICK_SIZE) for t in x_ticks]
    out += [measured_text(chart.left - 6, chart.y(t) + TICK_SIZE * 0.35, words, TICK_SIZE, "end") for t, words in y_ticks.items()]
    middle_x = chart.left + (chart.width - chart.left - chart.right) / 2
    out.append(measured_text(middle_x, base + 5 + TICK_SIZE * LINE + 3 + LABEL_SIZE, x_label, LABEL_SIZE))
    middle_y = chart.top + (base - chart.top) / 2
    out += [measured_text(4 + LABEL_SIZE * (1 + LINE * k), middle_y, line, LABEL_SIZE, vertical=True)
            for k, line in enumerate(y_lines)]
    return out


def _legend(entries: list[tuple[str, str]], width: float, height: float) -> list[str]:
    """Keys and words in three centred columns under the chart, read row by row."""
    rows = -(-len(entries) // 3)
    columns = [KEY + KEY_GAP + max(text_width(w, TICK_SIZE) for _, w in entries[c::3]) for c in range(min(3, len(entries)))]
    x = (width - sum(columns) - COLUMN_GAP * (len(columns) - 1)) / 2
    starts = [x + sum(columns[:c]) + COLUMN_GAP * c for c in range(len(columns))]
    out = []
    for n, (kind, words) in enumerate(entries):
        row, column = divmod(n, 3)
        baseline = height - 4 - TICK_SIZE * LINE * (rows - 1 - row)
        x, middle = starts[column], baseline - TICK_SIZE * 0.35
        if kind in ("95", "998"):
            out.append(path(f"M{x:.1f},{middle:.1f} h{KEY:g}", NHS_BLUE, 1.1 * PX_PER_POINT, DASH_95 if kind == "95" else ""))
        elif kind == "target":
            out.append(path(f"M{x:.1f},{middle:.1f} h{KEY:g}", NHS_DARK_BLUE, 1.4 * PX_PER_POINT))
        else:
            out.append(marks(OUTLIER_STATUS[kind], [(x + KEY / 2, middle)]))
        out.append(measured_text(x + KEY + KEY_GAP, baseline, words, TICK_SIZE, "start", NHS_BLACK))
    return out
