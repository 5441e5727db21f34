"""Funnel plots: organisations' percentages against their number of patients, with control limits.

`funnel_plot` draws one complete figure. For ~140 organisation packs, `FunnelBackground` draws
everything common once; each pack overlays its own organisation's marker in HTML/CSS at
`marker_position(...)`, so the figure is not redrawn per organisation.
"""

from __future__ import annotations

from collections.abc import Mapping
from html import escape
from pathlib import Path

import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from naome_report.charts.funnel_geometry import LIMIT_COLUMNS, check_units, limit_curves, x_extent, y_range
from naome_report.charts.save import FigureAsset, ImageFormat, save_figure
from naome_report.charts.style import (
    DEFAULT_SIZE_IN,
    HIGHLIGHT_COLOUR,
    NHS_BLUE,
    NHS_DARK_BLUE,
    NHS_DARK_GREY,
    NHS_MID_GREY,
    FUNNEL_POSITION_STYLE,
    OUTLIER_STATUS,
    WHITE,
    StatusStyle,
    format_percent,
    new_figure,
    percent_formatter,
    require_columns,
    row_major,
    thousands_formatter,
)

POINT_COLUMNS = ("org_code", "org_name", "denominator", "percentage")
STATUS_COLUMN = "outlier_status"
POSITION_COLUMN = "funnel_position"  # indicators outside the outlier process: no alert / alarm words

# Used when the caller gives no outlier status: a plain, neutral point.
_UNCLASSIFIED = StatusStyle("o", NHS_MID_GREY, WHITE, 6.0, "Organisation")

HIGHLIGHT_RING_PT = 15.0


def funnel_plot(
    points: pd.DataFrame,
    limits: pd.DataFrame,
    target: float,
    title: str,
    y_label: str,
    highlight: str | None = None,
    *,
    x_label: str = "Number of patients (denominator)",
    target_label: str = "National value",
    size: tuple[float, float] = DEFAULT_SIZE_IN,
    status_labels: Mapping[str, str] | None = None,
) -> Figure:
    """A funnel plot (percent 0–100); `highlight` is an org_code drawn large with its name.

    `status_labels` replaces the legend words of outlier statuses (e.g. positions without 'alert' or 'alarm'
    for an indicator outside the outlier process); markers and colours stay those of the status.
    """
    fig = new_figure(*size)
    ax = fig.add_subplot()
    _draw_funnel(ax, points, limits, target, title, y_label, x_label, target_label, status_labels)
    if highlight is not None:
        _draw_highlight(ax, points, highlight)
    _add_legend(fig, ax)
    return fig


class FunnelBackground:
    """Everything common to all organisations' funnel plots, drawn once, with marker positions."""

    def __init__(
        self,
        points: pd.DataFrame,
        limits: pd.DataFrame,
        target: float,
        title: str,
        y_label: str,
        *,
        x_label: str = "Number of patients (denominator)",
        target_label: str = "National value",
        size: tuple[float, float] = DEFAULT_SIZE_IN,
        compact: bool = False,
    ) -> None:
        """`compact=True` draws no legend and smaller axis text, for small panels whose page explains the key."""
        self.figure = new_figure(*size)
        self.axes = self.figure.add_subplot()
        _draw_funnel(self.axes, points, limits, target, title, y_label, x_label, target_label)
        if compact:
            _shrink_text(self.axes)
        else:
            _add_legend(self.figure, self.axes, with_highlight=True)
        _freeze_layout(self.figure)

    def marker_position(self, denominator: float, percentage: float) -> tuple[float, float]:
        """Where a data point falls, as (x, y) fractions of the figure from its top-left corner."""
        x_px, y_px = self.axes.transData.transform((denominator, percentage))
        width_px, height_px = self.figure.bbox.width, self.figure.bbox.height
        return float(x_px / width_px), float(1.0 - y_px / height_px)

    def contains(self, denominator: float, percentage: float) -> bool:
        """Whether a data point falls inside the plotting area (else an overlay would mislead)."""
        x0, x1 = self.axes.get_xlim()
        y0, y1 = self.axes.get_ylim()
        return x0 <= denominator <= x1 and y0 <= percentage <= y1

    def css_position(self, denominator: float, percentage: float) -> str:
        """Inline CSS (`left`/`top` in %) placing an absolutely positioned marker on the point."""
        x, y = self.marker_position(denominator, percentage)
        return f"left: {x * 100:.3f}%; top: {y * 100:.3f}%;"

    def overlay_html(self, denominator: float, percentage: float, label: str) -> str:
        """A ring and a label to put inside a `.funnel-figure` wrapper after its <img> (see templates/documents/print.css).

        The label sits to the right of the ring, or to its left in the right-hand part of the plot.
        """
        x, y = self.marker_position(denominator, percentage)
        if x < 0.6:
            label_css, side = f"left: {x * 100:.3f}%; top: {y * 100:.3f}%;", "right"
        else:
            label_css, side = f"right: {(1 - x) * 100:.3f}%; top: {y * 100:.3f}%;", "left"
        return (
            f'<span class="funnel-marker" style="{self.css_position(denominator, percentage)}" aria-hidden="true"></span>'
            f'<span class="funnel-marker-label funnel-marker-label-{side}" style="{label_css}" '
            f'aria-hidden="true">{escape(label)}</span>'
        )

    def save(self, path: Path | str, alt_text: str, fmt: ImageFormat = "png", dpi: int = 200,
             synthetic: bool = False) -> FigureAsset:
        """Save the background (see `save_figure`)."""
        return save_figure(self.figure, path, alt_text, fmt=fmt, dpi=dpi, synthetic=synthetic)


def _draw_funnel(
    ax: Axes,
    points: pd.DataFrame,
    limits: pd.DataFrame,
    target: float,
    title: str,
    y_label: str,
    x_label: str,
    target_label: str,
    status_labels: Mapping[str, str] | None = None,
) -> None:
    """Limits, national line and every organisation's point."""
    require_columns(points, POINT_COLUMNS, "funnel_plot points")
    require_columns(limits, LIMIT_COLUMNS, "funnel_plot limits")
    check_units(limits, target)
    x_max = x_extent(points["denominator"])
    ax.set_xlim(0, x_max)
    _draw_limits(ax, limits, x_max)
    ax.axhline(target, color=NHS_DARK_BLUE, linewidth=1.4, zorder=2, label=f"{target_label} ({format_percent(target, 1)})")
    _draw_points(ax, points, status_labels or {})
    ax.set_ylim(*y_range(points, limits, target))
    ax.set_title(title)
    ax.set_xlabel(x_label)
    ax.set_ylabel(y_label)
    ax.xaxis.set_major_formatter(thousands_formatter())
    ax.yaxis.set_major_formatter(percent_formatter())


def _draw_limits(ax: Axes, limits: pd.DataFrame, x_max: float) -> None:
    """95% limits dashed, 99.8% limits solid, both as smooth curves."""
    grid, curves = limit_curves(limits, x_max)
    for low, high, style, label in (
        ("lower_95", "upper_95", "--", "95% limits (about 2 SD)"),
        ("lower_998", "upper_998", "-", "99.8% limits (about 3 SD)"),
    ):
        for column, name in ((low, label), (high, None)):
            ax.plot(grid, curves[column], linestyle=style, color=NHS_BLUE, linewidth=1.1, zorder=1, label=name)


def _draw_points(ax: Axes, points: pd.DataFrame, labels: Mapping[str, str]) -> None:
    """One marker per organisation, shaped and coloured by outlier status (or by funnel position)."""
    column, styles = ((STATUS_COLUMN, OUTLIER_STATUS) if STATUS_COLUMN in points.columns
                      else (POSITION_COLUMN, FUNNEL_POSITION_STYLE))
    if column not in points.columns:
        _plot_group(ax, points, _UNCLASSIFIED)
        return
    statuses = base_status(points[column])
    unknown = sorted(set(statuses) - set(styles))
    if unknown:
        raise ValueError(f"funnel_plot: unknown {column} value(s) {unknown}; expected {list(styles)}")
    for status, style in styles.items():
        group = points[statuses == status]
        if not group.empty:
            _plot_group(ax, group, style, labels.get(status, style.label))


def base_status(status: pd.Series) -> pd.Series:
    """Statuses without their reason ("not_assessed:too_few" is drawn as "not_assessed")."""
    return status.fillna("not_assessed").astype(str).str.split(":", n=1).str[0]


def _plot_group(ax: Axes, group: pd.DataFrame, style: StatusStyle, label: str | None = None) -> None:
    """Points sharing one status."""
    ax.plot(group["denominator"], group["percentage"], linestyle="none", marker=style.marker,
            markersize=style.size, markerfacecolor=style.colour, markeredgecolor=style.edge,
            markeredgewidth=0.7, zorder=3, label=label or style.label)


def _draw_highlight(ax: Axes, points: pd.DataFrame, org_code: str) -> None:
    """A ring round the highlighted organisation and its name beside it."""
    row = points[points["org_code"] == org_code]
    if row.empty:
        raise ValueError(f"funnel_plot: highlighted organisation {org_code!r} is not among the points")
    x, y = float(row["denominator"].iloc[0]), float(row["percentage"].iloc[0])
    name = str(row["org_name"].iloc[0])
    ax.plot([x], [y], linestyle="none", marker="o", markersize=HIGHLIGHT_RING_PT, markerfacecolor="none",
            markeredgecolor=HIGHLIGHT_COLOUR, markeredgewidth=2.2, zorder=4, label=name)
    right_side = x < ax.get_xlim()[1] * 0.65
    ax.annotate(
        f"{name}\n{format_percent(y, 1)}",
        xy=(x, y),
        xytext=(14 if right_side else -14, 14),
        textcoords="offset points",
        ha="left" if right_side else "right",
        va="bottom",
        fontsize=9,
        fontweight="bold",
        color=NHS_DARK_BLUE,
        bbox={"boxstyle": "round,pad=0.25", "facecolor": WHITE, "edgecolor": NHS_DARK_GREY, "linewidth": 0.6},
        arrowprops={"arrowstyle": "-", "color": NHS_DARK_GREY, "linewidth": 0.8},
        zorder=5,
    )


def _add_legend(fig: Figure, ax: Axes, with_highlight: bool = False) -> None:
    """Legend in words below the plot."""
    handles, labels = ax.get_legend_handles_labels()
    if with_highlight:
        handles.append(Line2D([], [], linestyle="none", marker="o", markersize=HIGHLIGHT_RING_PT * 0.7,
                              markerfacecolor="none", markeredgecolor=HIGHLIGHT_COLOUR, markeredgewidth=2.0))
        labels.append("Your organisation")
    fig.legend(row_major(handles, 3), row_major(labels, 3), loc="outside lower center", ncols=3,
               handlelength=2.6, columnspacing=1.4)


def _shrink_text(ax: Axes) -> None:
    """Smaller tick and axis labels for a compact panel."""
    ax.tick_params(labelsize=7.5)
    ax.xaxis.label.set_size(8)
    ax.yaxis.label.set_size(8)


def _freeze_layout(fig: Figure) -> None:
    """Fix the axes where constrained layout put them, so positions hold at any dpi."""
    fig.draw_without_rendering()
    fig.set_layout_engine("none")
