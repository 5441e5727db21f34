"""Run charts in the NHS England "Making Data Count" style: XmR or p-charts (limits may change point to point)."""

from __future__ import annotations

import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from naome_report.charts.style import (
    DEFAULT_SIZE_IN,
    NHS_DARK_BLUE,
    NHS_DARK_GREY,
    NHS_MID_GREY,
    VARIATION_STYLE,
    new_figure,
    percent_formatter,
    require_columns,
    row_major,
)

RUN_COLUMNS = ("period_label", "value", "centre", "lower", "upper", "special_cause", "variation")
TRIAL_TITLE = "Trial limits"
TRIAL_LIMIT_LABEL = "Trial limits (too few points to fix them)"


def run_chart(
    frame: pd.DataFrame,
    title: str,
    y_label: str,
    *,
    trial_limits: bool | None = None,
    percent: bool = False,
    x_label: str = "Period",
    size: tuple[float, float] = DEFAULT_SIZE_IN,
) -> Figure:
    """A run chart: grey points, special causes by colour and shape, centre line solid, limits dashed (as steps,
    since a p-chart's limits follow each point's own denominator).

    `trial_limits` defaults to any true value in an optional `trial_limits` column.
    """
    require_columns(frame, RUN_COLUMNS, "run_chart")
    check_variation(frame)
    fig = new_figure(*size)
    ax = fig.add_subplot()
    trial = _is_trial(frame, trial_limits)
    x = list(range(len(frame)))
    ax.plot(x, frame["value"], color=NHS_MID_GREY, linewidth=1.2, zorder=2)
    ax.plot(x, frame["centre"], color=NHS_DARK_BLUE, linewidth=1.4, zorder=1, label="Centre line",
            drawstyle="steps-mid")
    ax.plot(x, frame["upper"], color=NHS_DARK_GREY, linewidth=1.0, linestyle="--", zorder=1,
            label=TRIAL_LIMIT_LABEL if trial else "Process limits", drawstyle="steps-mid")
    ax.plot(x, frame["lower"], color=NHS_DARK_GREY, linewidth=1.0, linestyle="--", zorder=1, drawstyle="steps-mid")
    _draw_points(ax, x, frame)
    _label_axes(ax, frame, title, x_label, y_label, percent)
    if trial:
        ax.set_title(TRIAL_TITLE, loc="right", fontsize=9, fontweight="normal", style="italic", color=NHS_DARK_GREY)
    _add_legend(fig, ax)
    return fig


def check_variation(frame: pd.DataFrame) -> None:
    """Only the four Making Data Count variation kinds are allowed."""
    unknown = sorted(set(frame["variation"]) - set(VARIATION_STYLE))
    if unknown:
        raise ValueError(f"run_chart: unknown variation value(s) {unknown}; expected {list(VARIATION_STYLE)}")


def _draw_points(ax: Axes, x: list[int], frame: pd.DataFrame) -> None:
    """Common-cause points grey; special-cause points by their variation style."""
    kinds = frame["variation"].where(frame["special_cause"].astype(bool), "common_cause")
    for kind, style in VARIATION_STYLE.items():
        mask = (kinds == kind).to_numpy()
        if mask.any():
            ax.plot([xi for xi, m in zip(x, mask) if m], frame["value"][mask], linestyle="none",
                    marker=style.marker, markersize=style.size, markerfacecolor=style.colour,
                    markeredgecolor=style.edge, markeredgewidth=0.7, zorder=3, label=style.label)


def _label_axes(ax: Axes, frame: pd.DataFrame, title: str, x_label: str, y_label: str, percent: bool) -> None:
    """Title, axis labels, and period names (thinned when there are many)."""
    ax.set_title(title)
    ax.set_xlabel(x_label)
    ax.set_ylabel(y_label)
    labels = frame["period_label"].astype(str).tolist()
    step = max(1, -(-len(labels) // 12))
    ticks = list(range(0, len(labels), step))
    # Long labels are slanted to fit; short ones (e.g. "Q1" over its year on a second line) stay level.
    slant = len(ticks) > 6 and max(len(line) for label in labels for line in label.split("\n")) > 7
    ax.set_xticks(ticks, [labels[i] for i in ticks], rotation=45 if slant else 0, ha="right" if slant else "center")
    ax.set_xlim(-0.5, len(labels) - 0.5)
    if percent:
        ax.yaxis.set_major_formatter(percent_formatter())
    ax.grid(axis="x", visible=False)


def _is_trial(frame: pd.DataFrame, trial_limits: bool | None) -> bool:
    """Explicit flag first, else the optional column."""
    if trial_limits is not None:
        return trial_limits
    return "trial_limits" in frame.columns and bool(frame["trial_limits"].astype(bool).any())


def _add_legend(fig: Figure, ax: Axes) -> None:
    """Legend in words below the plot (always lists common cause so grey is explained)."""
    handles, labels = ax.get_legend_handles_labels()
    if VARIATION_STYLE["common_cause"].label not in labels:
        style = VARIATION_STYLE["common_cause"]
        handles.append(Line2D([], [], linestyle="none", marker=style.marker, markersize=style.size,
                              markerfacecolor=style.colour, markeredgecolor=style.edge))
        labels.append(style.label)
    fig.legend(row_major(handles, 2), row_major(labels, 2), loc="outside lower center", ncols=2)
