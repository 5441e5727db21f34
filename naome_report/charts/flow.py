"""CONSORT-style patient-flow diagrams: inclusions down the middle, exclusions to the side."""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

from naome_report.charts.style import (
    A4_TEXT_WIDTH_IN,
    NHS_BLACK,
    NHS_BLUE,
    NHS_DARK_BLUE,
    NHS_DARK_GREY,
    NHS_MID_GREY,
    NHS_PALE_GREY,
    WHITE,
    apply_house_style,
    format_thousands,
)

FONT_PT = 9.0
LINE_IN = FONT_PT * 1.22 / 72
PAD_IN = 0.09
MAIN_X, MAIN_W, MAIN_WRAP = 0.25, 3.2, 44
SIDE_X, SIDE_W, SIDE_WRAP = 3.95, 2.3, 32
MIN_GAP_IN = 0.42
TITLE_IN = 0.4


@dataclass(frozen=True)
class _Box:
    """A laid-out box: its text lines and vertical extent in inches from the top."""

    lines: list[str]
    count: int | str  # a number, or the words shown instead of a withheld count
    top: float
    height: float


def patient_flow_diagram(
    steps: Sequence[Mapping[str, object]],
    exclusions: Sequence[Mapping[str, object]] = (),
    *,
    title: str = "",
    width_in: float = A4_TEXT_WIDTH_IN,
) -> Figure:
    """Boxes `{label, count}` joined by arrows; each exclusion `{after_step_index, label, count}` branches right."""
    _validate(steps, exclusions)
    apply_house_style()
    main, side = _layout(steps, exclusions, TITLE_IN if title else 0.1)
    height = max(b.top + b.height for b in main) + 0.1
    fig = Figure(figsize=(width_in, height))
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, width_in)
    ax.set_ylim(height, 0)
    ax.axis("off")
    if title:
        ax.text(MAIN_X, 0.08, title, fontsize=11, fontweight="bold", color=NHS_DARK_BLUE, va="top", ha="left")
    for box in main:
        _draw_box(ax, box, MAIN_X, MAIN_W, WHITE, NHS_BLUE)
    for upper, lower in zip(main, main[1:]):
        _arrow(ax, (MAIN_X + MAIN_W / 2, upper.top + upper.height), (MAIN_X + MAIN_W / 2, lower.top))
    for box in side:
        _draw_box(ax, box, SIDE_X, SIDE_W, NHS_PALE_GREY, NHS_MID_GREY)
        mid = box.top + box.height / 2
        _arrow(ax, (MAIN_X + MAIN_W / 2, mid), (SIDE_X, mid))
    return fig


def _validate(steps: Sequence[Mapping[str, object]], exclusions: Sequence[Mapping[str, object]]) -> None:
    """Each step needs a label and a count; each exclusion sits between two steps."""
    if not steps:
        raise ValueError("patient_flow_diagram: needs at least one step")
    for item in [*steps, *exclusions]:
        if "label" not in item or "count" not in item:
            raise ValueError(f"patient_flow_diagram: {item!r} needs 'label' and 'count'")
    for item in exclusions:
        index = item.get("after_step_index")
        if not isinstance(index, int) or not 0 <= index < len(steps) - 1:
            raise ValueError(f"patient_flow_diagram: exclusion {item['label']!r} needs after_step_index "
                             f"between 0 and {len(steps) - 2}")


def _layout(steps, exclusions, start: float) -> tuple[list[_Box], list[_Box]]:
    """Stack the main boxes, leaving each gap tall enough for the exclusions that branch from it."""
    main: list[_Box] = []
    side: list[_Box] = []
    top = start
    for index, step in enumerate(steps):
        box = _box(step, MAIN_WRAP, top)
        main.append(box)
        top = box.top + box.height
        branch = [e for e in exclusions if e["after_step_index"] == index]
        gap_top = top + 0.16
        for exclusion in branch:
            side_box = _box(exclusion, SIDE_WRAP, gap_top)
            side.append(side_box)
            gap_top = side_box.top + side_box.height + 0.12
        top = max(top + MIN_GAP_IN, gap_top + 0.04)
    return main, side


def _box(item: Mapping[str, object], wrap: int, top: float) -> _Box:
    """A box sized to its wrapped label plus the count line."""
    lines = textwrap.wrap(str(item["label"]), wrap) or [""]
    count = item["count"] if isinstance(item["count"], str) else int(item["count"])
    return _Box(lines, count, top, 2 * PAD_IN + LINE_IN * (len(lines) + 1))


def _draw_box(ax: Axes, box: _Box, x: float, width: float, face: str, edge: str) -> None:
    """A rounded box with the label and a bold count line, centred."""
    ax.add_patch(FancyBboxPatch((x, box.top), width, box.height, boxstyle="round,pad=0,rounding_size=0.05",
                                facecolor=face, edgecolor=edge, linewidth=1.2))
    centre = x + width / 2
    ax.text(centre, box.top + PAD_IN, "\n".join(box.lines), fontsize=FONT_PT, color=NHS_BLACK,
            ha="center", va="top", linespacing=1.15)
    count = box.count if isinstance(box.count, str) else f"n = {format_thousands(box.count)}"
    ax.text(centre, box.top + box.height - PAD_IN, count, fontsize=FONT_PT,
            fontweight="bold", color=NHS_DARK_BLUE, ha="center", va="bottom")


def _arrow(ax: Axes, start: tuple[float, float], end: tuple[float, float]) -> None:
    """A plain arrow in the diagram's line colour."""
    ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=12, color=NHS_DARK_GREY,
                                 linewidth=1.1, shrinkA=0, shrinkB=0))
