"""Chart kit: one module per chart kind, a shared house style, reproducible saving.

Every chart function takes data frames and returns a matplotlib `Figure` (no pyplot state);
`save_figure` writes it with its alternative text.
"""

from naome_report.charts.bars import ranked_bar_chart
from naome_report.charts.flow import patient_flow_diagram
from naome_report.charts.funnel import FunnelBackground, funnel_plot
from naome_report.charts.run_chart import run_chart
from naome_report.charts.save import FigureAsset, save_figure
from naome_report.charts.style import OUTLIER_STATUS, PALETTE, apply_house_style
from naome_report.charts.survival import km_plot

__all__ = [
    "OUTLIER_STATUS",
    "PALETTE",
    "FigureAsset",
    "FunnelBackground",
    "apply_house_style",
    "funnel_plot",
    "km_plot",
    "patient_flow_diagram",
    "ranked_bar_chart",
    "run_chart",
    "save_figure",
]
