"""A chart for the public: "out of every 100 people", one bar per kind of care, no statistics to decode."""

from __future__ import annotations

import textwrap

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from naome_report.charts.style import (
    A4_TEXT_WIDTH_IN,
    NHS_BLACK,
    NHS_BLUE,
    NHS_PALE_GREY,
    new_figure,
    require_columns,
)

PUBLIC_COLUMNS = ("label", "percentage")
FONT_PT = 12.0  # the patient report is large print


def out_of_100_chart(frame: pd.DataFrame, title: str, *, width_in: float = A4_TEXT_WIDTH_IN) -> Figure:
    """One bar per row on a track to 100, in the given order, each labelled 'N in 100' (whole people)."""
    require_columns(frame, PUBLIC_COLUMNS, "out_of_100_chart")
    labels = [textwrap.fill(str(label), 30) for label in frame["label"]]
    lines = sum(label.count("\n") + 1 for label in labels)
    fig = new_figure(width_in, 0.9 + 0.23 * lines + 0.12 * len(labels))
    ax = fig.add_subplot()
    y = np.arange(len(frame))[::-1]
    ax.barh(y, 100, height=0.62, color=NHS_PALE_GREY, zorder=1)
    ax.barh(y, frame["percentage"], height=0.62, color=NHS_BLUE, zorder=2)
    for yi, value in zip(y, frame["percentage"]):
        text = "no figure" if pd.isna(value) else f"{value:.0f} in 100"
        ax.text(101.5, yi, text, va="center", ha="left", fontsize=FONT_PT, fontweight="bold", color=NHS_BLACK)
    ax.set_title(title, fontsize=FONT_PT + 1)
    ax.set_yticks(y, labels, fontsize=FONT_PT)
    ax.set_xlim(0, 130)  # room right of the track for the words
    ax.set_ylim(-0.6, len(frame) - 0.4)
    ax.set_xticks([])
    ax.tick_params(axis="y", length=0)
    ax.grid(False)
    for spine in ax.spines.values():
        spine.set_visible(False)
    return fig
