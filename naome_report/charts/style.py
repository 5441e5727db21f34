"""House style for every NAoMe chart: NHS identity colours, fonts and status markers.

Colours are chosen to be safe for colour-blind readers: meaning is never carried by a
red/green contrast, and every status is also shown by marker shape and by words.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

import matplotlib
import pandas as pd
from matplotlib import font_manager
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from naome_report.numbers import format_fixed
from naome_report.vocabulary import FUNNEL_POSITION

# NHS identity: blues and neutrals.
NHS_BLUE = "#005EB8"
NHS_DARK_BLUE = "#003087"
NHS_BRIGHT_BLUE = "#0072CE"
NHS_LIGHT_BLUE = "#41B6E6"
NHS_AQUA_BLUE = "#00A9CE"
NHS_BLACK = "#231F20"
NHS_DARK_GREY = "#425563"
NHS_MID_GREY = "#768692"
NHS_PALE_GREY = "#E8EDEE"
WHITE = "#FFFFFF"

# Accents (Making Data Count: orange = concern, blue = improvement, grey = common cause).
NHS_WARM_YELLOW = "#FFB81C"
NHS_ORANGE = "#ED8B00"
NHS_PURPLE = "#330072"

IMPROVEMENT = NHS_BLUE
CONCERN = NHS_ORANGE
COMMON_CAUSE = NHS_MID_GREY
NEITHER = NHS_PURPLE

# Categorical series (groups, nations, curves): distinct in lightness as well as hue.
SERIES_COLOURS: tuple[str, ...] = (NHS_DARK_BLUE, NHS_ORANGE, NHS_LIGHT_BLUE, NHS_MID_GREY, NHS_PURPLE, NHS_WARM_YELLOW)
SERIES_LINESTYLES: tuple[str, ...] = ("-", "--", "-.", ":", (0, (5, 1, 1, 1)), (0, (1, 1)))

PALETTE: dict[str, str] = {
    "nhs_blue": NHS_BLUE,
    "nhs_dark_blue": NHS_DARK_BLUE,
    "nhs_bright_blue": NHS_BRIGHT_BLUE,
    "nhs_light_blue": NHS_LIGHT_BLUE,
    "nhs_aqua_blue": NHS_AQUA_BLUE,
    "nhs_black": NHS_BLACK,
    "nhs_dark_grey": NHS_DARK_GREY,
    "nhs_mid_grey": NHS_MID_GREY,
    "nhs_pale_grey": NHS_PALE_GREY,
    "nhs_warm_yellow": NHS_WARM_YELLOW,
    "nhs_orange": NHS_ORANGE,
    "nhs_purple": NHS_PURPLE,
    "white": WHITE,
}

# A4 portrait with 18 mm side margins leaves 174 mm; charts are drawn at 160 mm so that
# text sizes in points are the sizes the reader sees on paper.
A4_TEXT_WIDTH_IN = 160 / 25.4
DEFAULT_SIZE_IN = (A4_TEXT_WIDTH_IN, 4.0)

PREFERRED_FONT = "Liberation Sans"
FALLBACK_FONT = "DejaVu Sans"


@dataclass(frozen=True)
class StatusStyle:
    """How one outlier status is drawn and named."""

    marker: str
    colour: str
    edge: str
    size: float
    label: str


# Shape gives direction (up = above the limits, down = below), colour lightness gives
# severity (orange alarm darker than yellow alert); the legend gives it in words.
OUTLIER_STATUS: dict[str, StatusStyle] = {
    "alarm_high": StatusStyle("^", NHS_ORANGE, NHS_BLACK, 8.5, "Above 99.8% limit (alarm)"),
    "alert_high": StatusStyle("^", NHS_WARM_YELLOW, NHS_DARK_GREY, 7.5, "Above 95% limit (alert)"),
    "within_limits": StatusStyle("o", NHS_MID_GREY, WHITE, 6.0, "Within limits"),
    "alert_low": StatusStyle("v", NHS_WARM_YELLOW, NHS_DARK_GREY, 7.5, "Below 95% limit (alert)"),
    "alarm_low": StatusStyle("v", NHS_ORANGE, NHS_BLACK, 8.5, "Below 99.8% limit (alarm)"),
    "not_assessed": StatusStyle("s", WHITE, NHS_MID_GREY, 5.5, "Not assessed"),
}

# Position against the funnel limits (every indicator, for local quality improvement): the same marks as
# the outlier statuses they correspond to, named without "alert" or "alarm".
FUNNEL_POSITION_STYLE: dict[str, StatusStyle] = {
    code: StatusStyle(style.marker, style.colour, style.edge, style.size, FUNNEL_POSITION[code].short)
    for code, style in (("above_998", OUTLIER_STATUS["alarm_high"]), ("above_95", OUTLIER_STATUS["alert_high"]),
                        ("within", OUTLIER_STATUS["within_limits"]), ("below_95", OUTLIER_STATUS["alert_low"]),
                        ("below_998", OUTLIER_STATUS["alarm_low"]), ("not_assessed", OUTLIER_STATUS["not_assessed"]))
}

# Making Data Count variation icons: shape and words as well as colour.
VARIATION_STYLE: dict[str, StatusStyle] = {
    "common_cause": StatusStyle("o", COMMON_CAUSE, WHITE, 6.0, "Common cause variation"),
    "improvement": StatusStyle("s", IMPROVEMENT, NHS_DARK_BLUE, 7.0, "Special cause: improvement"),
    "concern": StatusStyle("D", CONCERN, NHS_BLACK, 6.5, "Special cause: concern"),
    "neither": StatusStyle("h", NEITHER, NHS_BLACK, 7.0, "Special cause: neither improvement nor concern"),
}

HIGHLIGHT_COLOUR = NHS_DARK_BLUE

# The colour of each role a result's words carry (vocabulary.Term.colour_role): blue better,
# orange worse, grey neither; never red and green.
ROLE_COLOURS: dict[str, str] = {"better": IMPROVEMENT, "worse": CONCERN, "neutral": COMMON_CAUSE, "none": WHITE}

# Page colours of the HTML outputs (NHS identity): text at least 4.5:1 and graphics 3:1 on white.
PAGE_COLOURS: dict[str, str] = {
    "text": "#212B32", "secondary": "#4C6272", "border": "#D8DDE0", "border-strong": "#AEB7BD",
    "background": "#F0F4F5", "focus": "#FFEB3B", "highlight": "#FFF3B0", "row-hover": "#F7F9FA",
    "link": NHS_BLUE, "link-visited": NHS_PURPLE, "link-hover": "#7C2855", "brand": NHS_BLUE,
    "dark-blue": NHS_DARK_BLUE, "banner": NHS_WARM_YELLOW, "white": WHITE, "dark-grey": NHS_DARK_GREY,
    "pale-grey": NHS_PALE_GREY, "mid-grey": NHS_MID_GREY, "orange": NHS_ORANGE, "purple": NHS_PURPLE,
    "warm-yellow": NHS_WARM_YELLOW, "alarm-text": "#8A4F00", "alert-text": "#6B4A00",
}


@dataclass(frozen=True)
class UnitFill:
    """How the bars of one kind of unit are filled: lightness and hatching, so greyscale print keeps them apart."""

    colour: str
    hatch: str
    edge: str


# One fill per kind of unit in every chart, whatever order the units come in.
UNIT_FILLS: dict[str, UnitFill] = {
    "Cancer Alliance": UnitFill(NHS_BLUE, "", NHS_BLUE),
    "Welsh region": UnitFill(NHS_LIGHT_BLUE, "///", NHS_DARK_BLUE),
    "NHS England region": UnitFill(NHS_MID_GREY, "...", NHS_DARK_BLUE),
}


@lru_cache(maxsize=1)
def house_font() -> str:
    """The font family charts use: Liberation Sans if installed, else DejaVu Sans."""
    try:
        font_manager.findfont(PREFERRED_FONT, fallback_to_default=False)
    except ValueError:
        return FALLBACK_FONT
    return PREFERRED_FONT


def house_rc() -> dict[str, object]:
    """The matplotlib rcParams of the house style."""
    return {
        "font.family": [house_font(), FALLBACK_FONT],
        "font.size": 9.5,
        "axes.titlesize": 11,
        "axes.titleweight": "bold",
        "axes.titlelocation": "left",
        "axes.titley": 1.0,  # where the automatic placement puts it (no top axis): skips measuring every tick label again
        "axes.titlecolor": NHS_DARK_BLUE,
        "axes.labelsize": 9.5,
        "axes.labelcolor": NHS_BLACK,
        "axes.edgecolor": NHS_DARK_GREY,
        "axes.linewidth": 0.8,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.grid": True,
        "axes.axisbelow": True,
        "grid.color": NHS_PALE_GREY,
        "grid.linewidth": 0.8,
        "xtick.color": NHS_DARK_GREY,
        "ytick.color": NHS_DARK_GREY,
        "xtick.labelcolor": NHS_BLACK,
        "ytick.labelcolor": NHS_BLACK,
        "xtick.labelsize": 8.5,
        "ytick.labelsize": 8.5,
        "legend.fontsize": 8.5,
        "legend.frameon": False,
        "figure.facecolor": WHITE,
        "figure.dpi": 100,
        "savefig.facecolor": WHITE,
        "svg.hashsalt": "naome-report",
        "svg.fonttype": "none",  # text stays text: selectable, searchable, read by pdftotext and screen readers
        "pdf.fonttype": 42,
        "axes.unicode_minus": True,
        "lines.solid_capstyle": "butt",
    }


# Inside every chart drawn from the synthetic cohort: small, central, so that a cropped chart still says so.
SYNTHETIC_MARK = "SYNTHETIC DATA"
SYNTHETIC_MARK_COLOUR = NHS_MID_GREY
SYNTHETIC_MARK_OPACITY = 0.6


def add_synthetic_mark(fig: Figure) -> None:
    """Write the synthetic-data mark, small and half-transparent, in the middle of the largest plotting area (of the
    figure when it has none), above the data so that it stays legible: a cropped chart still says what it shows."""
    axes = [ax for ax in fig.axes if ax.get_visible() and ax.axison]
    if not axes:
        fig.text(0.5, 0.5, SYNTHETIC_MARK, ha="center", va="center", fontsize=8, fontweight="bold",
                 color=SYNTHETIC_MARK_COLOUR, alpha=SYNTHETIC_MARK_OPACITY, zorder=10, gid="synthetic-mark")
        return
    ax = max(axes, key=lambda a: a.get_position().width * a.get_position().height)
    ax.text(0.5, 0.5, SYNTHETIC_MARK, transform=ax.transAxes, ha="center", va="center", fontsize=8,
            fontweight="bold", color=SYNTHETIC_MARK_COLOUR, alpha=SYNTHETIC_MARK_OPACITY, zorder=10,
            gid="synthetic-mark")


def apply_house_style() -> None:
    """Set the house rcParams globally (idempotent; every chart function calls it)."""
    matplotlib.rcParams.update(house_rc())


def format_thousands(value: float) -> str:
    """A count UK style: 11,468."""
    return f"{value:,.0f}"


def format_percent(value: float, decimals: int = 0) -> str:
    """A percentage UK style: 59% or 59.0%."""
    return f"{format_fixed(value, decimals)}%"


def thousands_formatter() -> FuncFormatter:
    """Axis formatter for counts with thousands separators."""
    return FuncFormatter(lambda v, _pos: format_thousands(v))


def percent_formatter(decimals: int | None = None) -> FuncFormatter:
    """Axis formatter for values already on a 0–100 scale (None: whole numbers unless a tick needs one decimal)."""
    if decimals is not None:
        return FuncFormatter(lambda v, _pos: format_percent(v, decimals))
    return FuncFormatter(lambda v, _pos: format_percent(v, 0 if abs(v - round(v)) < 1e-9 else 1))


def new_figure(width_in: float = DEFAULT_SIZE_IN[0], height_in: float = DEFAULT_SIZE_IN[1]) -> Figure:
    """A blank house-style figure with constrained layout (no pyplot state, safe to leak)."""
    apply_house_style()
    return Figure(figsize=(width_in, height_in), layout="constrained")


def require_columns(frame: pd.DataFrame, columns: Iterable[str], chart: str) -> None:
    """Fail early, naming the chart and the missing columns."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{chart}: input is missing column(s) {', '.join(missing)}")
    if frame.empty:
        raise ValueError(f"{chart}: input has no rows")


def row_major(items: list, ncols: int) -> list:
    """Reorder legend entries so that matplotlib's column-major fill reads row by row."""
    nrows = -(-len(items) // ncols)
    grid = [items[r * ncols : (r + 1) * ncols] for r in range(nrows)]
    return [row[c] for c in range(ncols) for row in grid if c < len(row)]
