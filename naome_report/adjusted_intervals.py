"""95% confidence intervals of the case-mix adjusted percentages: the O/E interval times the national percentage."""

from __future__ import annotations

import numpy as np
import pandas as pd

from naome_report.stats.poisson import METHOD_TEXT, observed_expected_interval


def add_adjusted_intervals(frame: pd.DataFrame, method: str = "exact", confidence: float = 0.95) -> pd.DataFrame:
    """adjusted_ci_lower_95 and adjusted_ci_upper_95 wherever an adjusted percentage is published.

    The observed count is taken as Poisson with the model's expected count fixed; the limits of
    O/E are multiplied by the national percentage, as the adjusted percentage is, and the upper
    limit is capped at 100%.
    """
    shown = frame.adjusted_percentage.notna().to_numpy()
    observed = np.where(shown, frame.numerator, np.nan)
    lower, upper = observed_expected_interval(observed, frame.expected.to_numpy(float), confidence, method)
    national = frame.national_percentage.to_numpy(float)
    frame["adjusted_ci_lower_95"] = lower * national
    frame["adjusted_ci_upper_95"] = np.minimum(upper * national, 100.0)
    return frame


def adjusted_interval_method(method: str) -> str:
    """Plain statement of how the adjusted intervals were calculated, for the data dictionary and methods."""
    return f"95% interval of observed / expected ({METHOD_TEXT[method]}), times the national percentage; capped at 100%"
