"""Ranked horizontal bar charts with confidence intervals (cancer alliances, Welsh regions)."""

from __future__ import annotations

import textwrap

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from naome_report.charts.style import (
    A4_TEXT_WIDTH_IN,
    NHS_BLACK,
    NHS_DARK_BLUE,
    NHS_DARK_GREY,
    UNIT_FILLS,
    WHITE,
    format_percent,
    new_figure,
    percent_formatter,
    require_columns,
)

BAR_COLUMNS = ("label", "percentage", "ci_lower", "ci_upper", "group")

NOT_AVAILABLE = "not available"


def ranked_bar_chart(
    frame: pd.DataFrame,
    national: float,
    title: str,
    x_label: str,
    *,
    national_label: str = "National value",
    width_in: float = A4_TEXT_WIDTH_IN,
) -> Figure:
    """Bars ranked highest first, 95% CI whiskers, a national line; a missing percentage reads "not available".

    `group` names the kind of unit (a key of `style.UNIT_FILLS`), which decides the bar's fill.
    """
    require_columns(frame, BAR_COLUMNS, "ranked_bar_chart")
    unknown = sorted(set(frame["group"]) - set(UNIT_FILLS))
    if unknown:
        raise ValueError(f"ranked_bar_chart: unknown group(s) {unknown}; expected one of {list(UNIT_FILLS)}")
    ranked = frame.sort_values("percentage", ascending=False, na_position="last", kind="stable").reset_index(drop=True)
    groups = [g for g in UNIT_FILLS if g in set(ranked["group"])]
    fig = new_figure(width_in, 1.6 + 0.26 * len(ranked))
    ax = fig.add_subplot()
    y = np.arange(len(ranked))[::-1]
    x_max = x_max_of(ranked, national)
    _draw_bars(ax, ranked, y, groups, x_max)
    ax.axvline(national, color=NHS_DARK_BLUE, linewidth=1.5, linestyle="--", zorder=4)
    _label_axes(ax, ranked, y, title, x_label, x_max)
    _add_legend(fig, groups, f"{national_label} ({format_percent(national, 1)})")
    return fig


def x_max_of(ranked: pd.DataFrame, national: float) -> float:
    """Room for the whiskers and value labels, never past 100%."""
    top = np.nanmax([ranked["ci_upper"].max(), ranked["percentage"].max(), national])
    return float(min(100.0, top * 1.12 + 2.0))


def _draw_bars(ax: Axes, ranked: pd.DataFrame, y: np.ndarray, groups: list, x_max: float) -> None:
    """Bars, whiskers and value labels."""
    for group in groups:
        fill = UNIT_FILLS[group]
        mask = (ranked["group"] == group).to_numpy() & ranked["percentage"].notna().to_numpy()
        ax.barh(y[mask], ranked["percentage"][mask], height=0.68, color=fill.colour, hatch=fill.hatch,
                edgecolor=fill.edge, linewidth=0.4, zorder=2)
    present = ranked["percentage"].notna().to_numpy()
    low = (ranked["percentage"] - ranked["ci_lower"]).to_numpy()
    high = (ranked["ci_upper"] - ranked["percentage"]).to_numpy()
    ax.errorbar(ranked["percentage"][present], y[present], xerr=[low[present], high[present]], fmt="none",
                ecolor=NHS_BLACK, elinewidth=0.9, capsize=2.5, capthick=0.9, zorder=3)
    for yi, (value, upper) in zip(y, zip(ranked["percentage"], ranked["ci_upper"])):
        if pd.isna(value):
            ax.text(x_max * 0.01, yi, NOT_AVAILABLE, va="center", ha="left", fontsize=8, style="italic", color=NHS_DARK_GREY)
        else:
            anchor = upper if pd.notna(upper) else value
            ax.text(anchor + x_max * 0.012, yi, format_percent(value), va="center", ha="left", fontsize=8, color=NHS_BLACK,
                    zorder=5, bbox={"boxstyle": "square,pad=0.05", "facecolor": WHITE, "edgecolor": "none"})


def _label_axes(ax: Axes, ranked: pd.DataFrame, y: np.ndarray, title: str, x_label: str, x_max: float) -> None:
    """Wrapped names on the y axis, percent x axis from zero."""
    ax.set_title(title)
    ax.set_xlabel(x_label)
    ax.set_yticks(y, [textwrap.fill(str(label), 38) for label in ranked["label"]])
    ax.set_ylim(-0.7, len(ranked) - 0.3)
    ax.set_xlim(0, x_max)
    ax.xaxis.set_major_formatter(percent_formatter())
    ax.tick_params(axis="y", length=0)
    ax.grid(axis="y", visible=False)


def _add_legend(fig: Figure, groups: list, national_text: str) -> None:
    """Groups, national line and whiskers, in words."""
    handles: list = []
    labels: list[str] = []
    for group in groups:
        fill = UNIT_FILLS[group]
        handles.append(Patch(facecolor=fill.colour, hatch=fill.hatch, edgecolor=fill.edge))
        labels.append(str(group))
    handles += [Line2D([], [], color=NHS_DARK_BLUE, linestyle="--", linewidth=1.5),
                Line2D([], [], color=NHS_BLACK, marker="|", markersize=8, linestyle="-", linewidth=0.9)]
    labels += [national_text, "95% confidence interval"]
    fig.legend(handles, labels, loc="outside lower center", ncols=min(len(labels), 4))
