"""Kaplan–Meier survival curves with confidence bands."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from naome_report.charts.style import (
    DEFAULT_SIZE_IN,
    NHS_MID_GREY,
    SERIES_COLOURS,
    SERIES_LINESTYLES,
    WHITE,
    format_percent,
    new_figure,
    percent_formatter,
    require_columns,
)

CURVE_COLUMNS = ("group", "time_years", "survival", "ci_lower", "ci_upper")
MARK_YEARS = (1.0, 3.0)


def km_plot(
    curves: pd.DataFrame,
    title: str,
    highlight_group: str | None = None,
    *,
    y_label: str = "Alive (%)",
    x_label: str = "Years since diagnosis of metastatic breast cancer",
    size: tuple[float, float] = DEFAULT_SIZE_IN,
) -> Figure:
    """Step curves with 95% CI bands, y 0–100%, x in years, with values marked at 1 and 3 years.

    Survival may be given as proportions (0–1) or percentages (0–100); proportions are scaled.
    """
    require_columns(curves, CURVE_COLUMNS, "km_plot")
    groups = list(dict.fromkeys(curves["group"]))
    if highlight_group is not None and highlight_group not in groups:
        raise ValueError(f"km_plot: highlight_group {highlight_group!r} is not among the groups {groups}")
    frame = _as_percent(curves)
    fig = new_figure(*size)
    ax = fig.add_subplot()
    for index, group in enumerate(groups):
        emphasis = highlight_group is None or group == highlight_group
        _draw_curve(ax, frame[frame["group"] == group], str(group), index, emphasis)
    _label_axes(ax, frame, title, x_label, y_label)
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
            value = _value_at(t, s, year)
            ax.plot([year], [value], marker="o", markersize=6 if emphasis else 4.5, color=colour,
                    markeredgecolor=WHITE, markeredgewidth=0.8, zorder=4)
            if emphasis:
                ax.annotate(format_percent(value), xy=(year, value), xytext=(5, 5), textcoords="offset points",
                            fontsize=8.5, fontweight="bold", color=colour, zorder=5,
                            bbox={"boxstyle": "square,pad=0.1", "facecolor": WHITE, "edgecolor": "none", "alpha": 0.8})


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


def _label_axes(ax: Axes, frame: pd.DataFrame, title: str, x_label: str, y_label: str) -> None:
    """0–100% y axis, whole-year x ticks."""
    ax.set_title(title)
    ax.set_xlabel(x_label)
    ax.set_ylabel(y_label)
    ax.set_ylim(0, 102)
    ax.yaxis.set_major_formatter(percent_formatter())
    horizon = float(np.ceil(frame["time_years"].max()))
    ax.set_xlim(0, max(horizon, 1.0))
    ax.set_xticks(np.arange(0, max(horizon, 1.0) + 1))
    for year in MARK_YEARS:
        if year <= horizon:
            ax.axvline(year, color=NHS_MID_GREY, linewidth=0.7, linestyle=":", zorder=1)
