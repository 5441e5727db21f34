"""Kaplan–Meier survival curves with confidence bands and the numbers at risk beneath."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.transforms import offset_copy

from naome_report.charts.style import (
    DEFAULT_SIZE_IN,
    NHS_BLACK,
    NHS_DARK_GREY,
    NHS_MID_GREY,
    SERIES_COLOURS,
    SERIES_LINESTYLES,
    WHITE,
    format_percent,
    format_thousands,
    new_figure,
    percent_formatter,
    require_columns,
)

CURVE_COLUMNS = ("group", "time_years", "survival", "ci_lower", "ci_upper")
AT_RISK_COLUMNS = ("group", "time_years", "at_risk")
MARK_YEARS = (1.0, 3.0)
AT_RISK_TITLE = "Number at risk"
LABEL_GAP = 6.0  # percentage points between value labels at one year, so that close curves' labels do not overlap
ROW_IN = 0.2  # height of one row of the numbers-at-risk table
AT_RISK_PAD_PT = 18.0  # the counts at time 0 are centred on the axis: keep the group names clear of them


def km_plot(
    curves: pd.DataFrame,
    title: str,
    highlight_group: str | None = None,
    *,
    at_risk: pd.DataFrame | None = None,
    y_label: str = "Alive (%)",
    x_label: str = "Years since diagnosis of metastatic breast cancer",
    size: tuple[float, float] = DEFAULT_SIZE_IN,
) -> Figure:
    """Step curves with 95% CI bands, y 0–100%, x in years to the end of follow-up, values marked at 1 and 3 years.

    Survival may be given as proportions (0–1) or percentages (0–100); proportions are scaled. `at_risk`
    (group, time_years, at_risk) adds a table of the numbers still followed under the curves, one row per
    group; a missing count (suppressed) reads "–".
    """
    require_columns(curves, CURVE_COLUMNS, "km_plot")
    groups = list(dict.fromkeys(curves["group"]))
    if highlight_group is not None and highlight_group not in groups:
        raise ValueError(f"km_plot: highlight_group {highlight_group!r} is not among the groups {groups}")
    frame = _as_percent(curves)
    horizon = max(float(frame["time_years"].max()), 1.0)
    if at_risk is None:
        fig = new_figure(*size)
        ax, table = fig.add_subplot(), None
    else:
        require_columns(at_risk, AT_RISK_COLUMNS, "km_plot at_risk")
        fig = new_figure(size[0], size[1] + ROW_IN * len(groups) + 0.35)
        grid = fig.add_gridspec(2, 1, height_ratios=[size[1], ROW_IN * len(groups) + 0.2])
        ax = fig.add_subplot(grid[0])
        table = fig.add_subplot(grid[1], sharex=ax)
    marks: dict[float, list[tuple[float, str]]] = {year: [] for year in MARK_YEARS}
    for index, group in enumerate(groups):
        emphasis = highlight_group is None or group == highlight_group
        curve = frame[frame["group"] == group]
        _draw_curve(ax, curve, str(group), index, emphasis)
        if emphasis:
            t, s = _from_time_zero(curve)
            for year in MARK_YEARS:
                if t.max() >= year:
                    marks[year].append((_value_at(t, s, year), SERIES_COLOURS[index % len(SERIES_COLOURS)]))
    _label_marks(fig, ax, marks)
    _label_axes(ax, title, x_label, y_label, horizon)
    if table is not None:
        _draw_at_risk(table, at_risk, groups, horizon)
    if len(groups) > 1:
        fig.legend(loc="outside lower center", ncols=min(len(groups), 3), handlelength=3.0)
    return fig


def _as_percent(curves: pd.DataFrame) -> pd.DataFrame:
    """Survival columns on a 0–100 scale."""
    frame = curves.sort_values(["group", "time_years"], kind="stable").copy()
    if frame["survival"].max() <= 1.0:
        for column in ("survival", "ci_lower", "ci_upper"):
            frame[column] = frame[column] * 100.0
    return frame


def _draw_curve(ax: Axes, curve: pd.DataFrame, label: str, index: int, emphasis: bool) -> None:
    """One group's step curve, band and 1- and 3-year markers."""
    colour = SERIES_COLOURS[index % len(SERIES_COLOURS)]
    style = SERIES_LINESTYLES[index % len(SERIES_LINESTYLES)]
    t, s = _from_time_zero(curve)
    ax.fill_between(t, _from_time_zero(curve, "ci_lower")[1], _from_time_zero(curve, "ci_upper")[1],
                    step="post", color=colour, alpha=0.18 if emphasis else 0.08, linewidth=0)
    ax.step(t, s, where="post", color=colour, linestyle=style, linewidth=2.2 if emphasis else 1.3,
            alpha=1.0 if emphasis else 0.75, label=label, zorder=3 if emphasis else 2)
    for year in MARK_YEARS:
        if t.max() >= year:
            ax.plot([year], [_value_at(t, s, year)], marker="o", markersize=6 if emphasis else 4.5, color=colour,
                    markeredgecolor=WHITE, markeredgewidth=0.8, zorder=4)


def _label_marks(fig: Figure, ax: Axes, marks: dict[float, list[tuple[float, str]]]) -> None:
    """Each emphasised curve's value at 1 and 3 years, right of its marker, spread apart where curves are close."""
    beside = offset_copy(ax.transData, fig=fig, x=7, y=0, units="points")
    for year, values in marks.items():
        for (value, colour), y in zip(sorted(values, reverse=True), spread_labels([v for v, _ in sorted(values, reverse=True)])):
            ax.annotate(format_percent(value), xy=(year, value), xytext=(year, y), textcoords=beside,
                        va="center", ha="left", fontsize=8.5, fontweight="bold", color=colour, zorder=5,
                        bbox={"boxstyle": "square,pad=0.1", "facecolor": WHITE, "edgecolor": "none", "alpha": 0.8})


def spread_labels(values: list[float], gap: float = LABEL_GAP) -> list[float]:
    """Label heights for values sorted from highest to lowest: each at least `gap` below the one above it,
    the group centred on the values it labels and kept within 0–100."""
    if not values:
        return []
    heights = [values[0]]
    for value in values[1:]:
        heights.append(min(value, heights[-1] - gap))
    shift = (sum(values) - sum(heights)) / len(values)  # centre the block on the values it labels
    heights = [h + shift for h in heights]
    top, bottom = 100.0 - heights[0], heights[-1]
    if top < 0:
        heights = [h + top for h in heights]
    elif bottom < 0:
        heights = [h - bottom for h in heights]
    return heights


def _from_time_zero(curve: pd.DataFrame, column: str = "survival") -> tuple[np.ndarray, np.ndarray]:
    """Times and values starting at t = 0, 100% (added when the data does not start there)."""
    t = curve["time_years"].to_numpy(float)
    v = curve[column].to_numpy(float)
    if len(t) == 0 or t[0] > 0:
        t, v = np.r_[0.0, t], np.r_[100.0, v]
    return t, v


def _value_at(t: np.ndarray, s: np.ndarray, year: float) -> float:
    """The step function's value at `year` (last value at or before it)."""
    return float(s[np.searchsorted(t, year, side="right") - 1])


def _label_axes(ax: Axes, title: str, x_label: str, y_label: str, horizon: float) -> None:
    """0–100% y axis; whole-year x ticks; the x axis ends where follow-up ends."""
    ax.set_title(title)
    ax.set_xlabel(x_label)
    ax.set_ylabel(y_label)
    ax.set_ylim(0, 102)
    ax.yaxis.set_major_formatter(percent_formatter())
    ax.set_xlim(0, horizon)
    ax.set_xticks(np.arange(0, np.floor(horizon) + 1))
    for year in MARK_YEARS:
        if year <= horizon:
            ax.axvline(year, color=NHS_MID_GREY, linewidth=0.7, linestyle=":", zorder=1)


def _draw_at_risk(table: Axes, at_risk: pd.DataFrame, groups: list, horizon: float) -> None:
    """The numbers at risk at each time given, one row per group, group names on the left in their colours."""
    table.set_title(AT_RISK_TITLE, fontsize=8.5, fontweight="bold", color=NHS_DARK_GREY, pad=3)
    rows = len(groups)
    table.set_ylim(rows - 0.5, -0.5)
    table.set_yticks(range(rows), [str(g) for g in groups])
    for index, label in enumerate(table.get_yticklabels()):
        label.set_color(SERIES_COLOURS[index % len(SERIES_COLOURS)])
        label.set_fontweight("bold")
    for row, group in enumerate(groups):
        part = at_risk[(at_risk["group"] == group) & (at_risk["time_years"] <= horizon + 1e-9)]
        for point in part.itertuples():
            text = "–" if pd.isna(point.at_risk) else format_thousands(point.at_risk)
            table.text(point.time_years, row, text, ha="center", va="center", fontsize=8, color=NHS_BLACK)
    table.tick_params(axis="x", bottom=False, labelbottom=False)
    table.tick_params(axis="y", length=0, labelsize=8, pad=AT_RISK_PAD_PT)
    table.grid(False)
    for spine in table.spines.values():
        spine.set_visible(False)
