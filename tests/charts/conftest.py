"""Small, fixed inputs for every chart kind (no randomness: tests compare bytes)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest


def _limits(target: float, n_max: int = 400) -> pd.DataFrame:
    """Normal-approximation funnel limits in percent (shape only; the statistics live in stats/)."""
    n = np.arange(5, n_max + 1, 5, dtype=float)
    p = target / 100
    se = np.sqrt(p * (1 - p) / n)
    frame = pd.DataFrame({"n": n})
    for suffix, z in (("95", 1.96), ("998", 3.09)):
        frame[f"lower_{suffix}"] = np.clip(100 * (p - z * se), 0, 100)
        frame[f"upper_{suffix}"] = np.clip(100 * (p + z * se), 0, 100)
    return frame


@pytest.fixture
def funnel_inputs() -> tuple[pd.DataFrame, pd.DataFrame, float]:
    points = pd.DataFrame(
        {
            "org_code": ["RA1", "RB2", "RC3", "RD4", "7A1", "7A2"],
            "org_name": ["Alpha Trust", "Beta Trust", "Gamma Trust", "Delta Trust", "Betsi Cadwaladr", "Hywel Dda"],
            "denominator": [40, 120, 250, 360, 90, 15],
            "percentage": [62.5, 45.0, 75.2, 58.9, 60.0, 40.0],
            "outlier_status": ["within_limits", "alert_low", "alarm_high", "within_limits", "within_limits",
                               "not_assessed:too_few"],
        }
    )
    return points, _limits(59.0), 59.0


@pytest.fixture
def run_frame() -> pd.DataFrame:
    values = [60.1, 59.0, 61.2, 58.4, 60.3, 61.0, 59.7, 67.5, 60.2, 52.0, 51.5, 51.0]
    frame = pd.DataFrame({"period_label": [f"Q{q} {y}/{y - 1999}" for y in (2023, 2024, 2025) for q in (1, 2, 3, 4)],
                          "value": values, "centre": 59.5, "lower": 53.0, "upper": 66.0})
    frame["special_cause"] = [False] * 7 + [True, False, True, True, True]
    frame["variation"] = ["common_cause"] * 7 + ["improvement", "common_cause", "concern", "concern", "concern"]
    return frame


@pytest.fixture
def km_curves() -> pd.DataFrame:
    t = np.linspace(0, 4, 49)
    rows = []
    for group, rate in (("De novo", 0.42), ("Recurrent", 0.6)):
        s = np.exp(-rate * t)
        rows.append(pd.DataFrame({"group": group, "time_years": t, "survival": s,
                                  "ci_lower": s * 0.95, "ci_upper": np.minimum(1, s * 1.05)}))
    return pd.concat(rows, ignore_index=True)


@pytest.fixture
def bar_frame() -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "label": ["Greater Manchester", "Peninsula", "Somerset, Wiltshire, Avon and Gloucestershire",
                      "North Wales", "South East Wales", "Mid and West Wales"],
            "percentage": [64.0, 55.5, 58.1, 70.2, 66.0, np.nan],
            "group": ["Cancer Alliance"] * 3 + ["Welsh region"] * 3,
        }
    )
    frame["ci_lower"] = frame["percentage"] - 4
    frame["ci_upper"] = frame["percentage"] + 4
    return frame


@pytest.fixture
def flow_inputs() -> tuple[list[dict], list[dict]]:
    steps = [{"label": "Breast cancer diagnoses, 2020–2022", "count": 150321},
             {"label": "Metastatic breast cancer identified", "count": 17456},
             {"label": "Included in the audit", "count": 16102}]
    exclusions = [{"after_step_index": 0, "label": "No evidence of metastatic disease", "count": 132865},
                  {"after_step_index": 1, "label": "Aged under 18 or outside England and Wales", "count": 1354}]
    return steps, exclusions
