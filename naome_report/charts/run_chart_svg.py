"""Run charts (Making Data Count p-charts) as hand-written SVG: the chart of `run_chart.run_chart` in a few elements."""

from __future__ import annotations

import pandas as pd

from naome_report.charts.run_chart import RUN_COLUMNS, TRIAL_LIMIT_LABEL, TRIAL_TITLE, check_variation
from naome_report.charts.style import (
    NHS_BLACK,
    NHS_DARK_BLUE,
    NHS_DARK_GREY,
    NHS_MID_GREY,
    NHS_PALE_GREY,
    VARIATION_STYLE,
    format_percent,
    require_columns,
)
from naome_report.charts.svg import axis_ticks, measured_text, path, path_d, svg_document
from naome_report.charts.svg_frame import Frame
from naome_report.charts.svg_marks import marks
from naome_report.charts.text_metrics import text_width

PX_PER_POINT = 96 / 72
TICK_SIZE, LABEL_SIZE, TITLE_SIZE = 8.5 * PX_PER_POINT, 9.5 * PX_PER_POINT, 11 * PX_PER_POINT
LINE = 1.2  # line height, in font sizes
Y_PAD = 0.05  # of the data's span, above and below
KEY_GAP = 6.0  # between a legend key and its words


def run_chart_svg(frame: pd.DataFrame, title: str, y_label: str, label: str, *, trial_limits: bool,
                  x_label: str, size_px: tuple[float, float], synthetic: bool = False) -> str:
    """A percentage run chart: grey points and line, special causes by colour and shape, centre line solid, process
    limits dashed as steps (a p-chart's limits follow each point's own denominator); `label` names it for screen
    readers."""
    require_columns(frame, RUN_COLUMNS, "run_chart_svg")
    check_variation(frame)
    width, height = size_px
    y_lines = y_label.split("\n")
    periods = [str(p).split("\n") for p in frame["period_label"]]
    kinds = frame["variation"].where(frame["special_cause"].astype(bool), "common_cause")
    legend = [("centre", "Centre line"), ("limits", TRIAL_LIMIT_LABEL if trial_limits else "Process limits")]
    legend += [(kind, style.label) for kind, style in VARIATION_STYLE.items()
               if kind == "common_cause" or (kinds == kind).any()]
    legend_rows = -(-len(legend) // 2)
    tick_lines = max(len(p) for p in periods)
    bottom = 5 + TICK_SIZE * LINE * tick_lines + 3 + LABEL_SIZE * LINE + 8 + TICK_SIZE * LINE * legend_rows
    values = pd.concat([frame[c] for c in ("value", "centre", "lower", "upper")]).dropna()
    span = max(float(values.max() - values.min()), 1e-6)
    y0, y1 = float(values.min()) - span * Y_PAD, float(values.max()) + span * Y_PAD
    ticks = [t for t in axis_ticks(y0, y1, 4) if y0 <= t <= y1]
    tick_words = {t: format_percent(t, 0 if t == round(t) else 1) for t in ticks}
    left = 10 + LABEL_SIZE * LINE * len(y_lines) + 8 + max(text_width(w, TICK_SIZE) for w in tick_words.values())
    chart = Frame(width, height, left, 8, TITLE_SIZE * 1.7, bottom, -0.5, len(frame) - 0.5, y0, y1)
    body = [measured_text(left, TITLE_SIZE * 1.1, title, TITLE_SIZE, "start", NHS_DARK_BLUE, bold=True)]
    if trial_limits:
        body.append(measured_text(width - chart.right, TITLE_SIZE * 1.1, TRIAL_TITLE, 9 * PX_PER_POINT, "end", NHS_DARK_GREY,
                         italic=True))
    body.append(path(" ".join(f"M{left:.1f},{chart.y(t):.1f} H{width - chart.right:.1f}" for t in ticks), NHS_PALE_GREY,
                     0.8 * PX_PER_POINT))
    body += [measured_text(left - 4, chart.y(t) + TICK_SIZE * 0.35, words, TICK_SIZE, "end") for t, words in tick_words.items()]
    body += _axes(chart, periods, x_label, y_lines)
    x = list(range(len(frame)))
    body.append(path(_steps_d(chart, x, frame["upper"]) + " " + _steps_d(chart, x, frame["lower"]), NHS_DARK_GREY,
                     1.0 * PX_PER_POINT, dash="4.5 2"))
    body.append(path(_steps_d(chart, x, frame["centre"]), NHS_DARK_BLUE, 1.4 * PX_PER_POINT))
    body.append(path(path_d([(chart.x(i), chart.y(v)) for i, v in zip(x, frame["value"]) if pd.notna(v)]),
                     NHS_MID_GREY, 1.2 * PX_PER_POINT))
    for kind, style in VARIATION_STYLE.items():
        body.append(marks(style, [(chart.x(i), chart.y(v)) for i, v, k in zip(x, frame["value"], kinds)
                                   if k == kind and pd.notna(v)]))
    body += _legend(legend, width, height)
    return svg_document(width, height, body, label, synthetic)


def _axes(chart: Frame, periods: list[list[str]], x_label: str, y_lines: list[str]) -> list[str]:
    """Axis lines, quarter labels (thinned when there are many), and the axis titles."""
    base = chart.height - chart.bottom
    step = max(1, -(-len(periods) // 12))
    shown = range(0, len(periods), step)
    d = (f"M{chart.left:.1f},{chart.top:.1f} V{base:.1f} H{chart.width - chart.right:.1f} "
         + " ".join(f"M{chart.x(i):.1f},{base:.1f} v4" for i in shown))
    out = [path(d, NHS_DARK_GREY, 0.8 * PX_PER_POINT)]
    out += [measured_text(chart.x(i), base + 5 + TICK_SIZE * (1 + LINE * k), line, TICK_SIZE)
            for i in shown for k, line in enumerate(periods[i])]
    tick_lines = max(len(p) for p in periods)
    middle_x = chart.left + (chart.width - chart.left - chart.right) / 2
    out.append(measured_text(middle_x, base + 5 + TICK_SIZE * LINE * tick_lines + 3 + LABEL_SIZE, x_label, LABEL_SIZE))
    middle_y = chart.top + (base - chart.top) / 2
    out += [measured_text(4 + LABEL_SIZE * (1 + LINE * k), middle_y, line, LABEL_SIZE, vertical=True)
            for k, line in enumerate(y_lines)]
    return out


def _steps_d(chart: Frame, x: list[int], values: pd.Series) -> str:
    """A level line per point that steps halfway between points (matplotlib's 'steps-mid'); gaps where missing."""
    parts, previous = [], None
    for i, v in zip(x, values):
        if pd.isna(v):
            previous = None
            continue
        start, end, y = chart.x(max(i - 0.5, 0)), chart.x(min(i + 0.5, x[-1])), chart.y(v)
        parts.append(f"V{y:.1f} H{end:.1f}" if previous is not None else f"M{start:.1f},{y:.1f} H{end:.1f}")
        previous = v
    return " ".join(parts)


def _legend(entries: list[tuple[str, str]], width: float, height: float) -> list[str]:
    """Keys and words in two centred columns under the chart, read row by row."""
    rows = -(-len(entries) // 2)
    key, gap = 22.0, 30.0
    first = KEY_GAP + key + max(text_width(words, TICK_SIZE) for words in [w for _, w in entries][0::2])
    second = KEY_GAP + key + max(text_width(words, TICK_SIZE) for words in [w for _, w in entries][1::2])
    column_x = ((width - first - gap - second) / 2, (width - first - gap - second) / 2 + first + gap)
    out = []
    for n, (kind, words) in enumerate(entries):
        row, column = divmod(n, 2)
        baseline = height - 4 - TICK_SIZE * LINE * (rows - 1 - row)
        x, middle = column_x[column], baseline - TICK_SIZE * 0.35
        if kind == "centre":
            out.append(path(f"M{x:.1f},{middle:.1f} h{key:g}", NHS_DARK_BLUE, 1.4 * PX_PER_POINT))
        elif kind == "limits":
            out.append(path(f"M{x:.1f},{middle:.1f} h{key:g}", NHS_DARK_GREY, 1.0 * PX_PER_POINT, dash="4.5 2"))
        else:
            out.append(marks(VARIATION_STYLE[kind], [(x + key / 2, middle)]))
        out.append(measured_text(x + key + KEY_GAP, baseline, words, TICK_SIZE, "start", NHS_BLACK))
    return out
