"""Survival disclosure: a group's patients and deaths are hidden alike in every time row (hand-made cases)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from naome_report.method_settings import DisclosureSettings
from naome_report.results import _survival_disclosure

RULES = DisclosureSettings(suppress_low=1, suppress_high=4, min_denominator=10, completeness_threshold=0.7)


def _frame(groups: dict[str, tuple[int, int, tuple[int, int], tuple[int, int]]]) -> pd.DataFrame:
    """One unit, route groups; per group: patients, deaths, at risk at 1 and 3 years, deaths by 1 and 3 years."""
    rows = []
    for name, (n, deaths, at_risk, by_time) in groups.items():
        for k, t in enumerate((1.0, 3.0)):
            rows.append({"level": "organisation", "org_code": "ZAA", "parent_code": "ZCA01", "group_type": "route",
                         "group": name, "time": t, "n": n, "events_total": deaths, "at_risk": at_risk[k],
                         "events_by_time": by_time[k]})
    return pd.DataFrame(rows)


def test_a_small_group_and_its_partner_are_hidden_at_every_time() -> None:
    surv = _frame({"De novo": (3, 1, (2, 0), (1, 1)), "Recurrent": (60, 30, (40, 12), (20, 30)),
                   "Other": (80, 40, (50, 20), (30, 40))})
    hidden = _survival_disclosure(surv, RULES, np.zeros(len(surv), bool))
    by_group = pd.Series(hidden).groupby(surv.group).agg(["all", "any"])
    assert by_group.loc["De novo"].tolist() == [True, True]
    # The smallest other group is hidden too (else total minus the rest gives 3), at both times alike.
    assert by_group.loc["Recurrent"].tolist() == [True, True]
    assert by_group.loc["Other"].tolist() == [False, False]


def test_a_small_number_at_risk_hides_that_time_only() -> None:
    surv = _frame({"De novo": (50, 40, (20, 3), (30, 40)), "Recurrent": (60, 30, (40, 12), (20, 30))})
    hidden = pd.Series(_survival_disclosure(surv, RULES, np.zeros(len(surv), bool)))
    # 3 at risk at 3 years: the 3-year rows go (with the other group's as partner); the 1-year rows stay.
    assert hidden[surv.time == 3.0].all() and not hidden[surv.time == 1.0].any()
