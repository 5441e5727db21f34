"""The cohort summary hides small counts along both of its additive relations (hand-made cohort)."""

from __future__ import annotations

from types import SimpleNamespace

import pandas as pd

from naome_report.config import load_config
from naome_report.results import cohort_summary


def _cohort() -> SimpleNamespace:
    """England: 27 men and 400 women; Wales: 3 men and 200 women; everyone de novo, 2 Welsh without bone metastases."""
    rows = ([("ZAA", "Male")] * 27 + [("ZAA", "Female")] * 400 + [("ZW1", "Male")] * 3 + [("ZW1", "Female")] * 200)
    pts = pd.DataFrame(rows, columns=["diagnosing_org", "sex"])
    for col, value in (("route", "de_novo"), ("age_band", "60-69"), ("subtype", "ER+/HER2-"), ("deprivation", "3"),
                       ("ethnicity_group", "White"), ("ps_group", "0-1")):
        pts[col] = value
    pts["has_bone_metastases"] = ~((pts.diagnosing_org == "ZW1") & (pts.index >= len(pts) - 2))
    return SimpleNamespace(patients=pts)


def test_small_counts_are_hidden_with_partners_within_and_across_nations() -> None:
    orgs = pd.DataFrame({"org_code": ["ZAA", "ZW1"], "nation": ["England", "Wales"]})
    out = cohort_summary(_cohort(), orgs, load_config(), synthetic=True).set_index(["nation", "characteristic", "category"])
    hidden = out.status.eq("suppressed")
    assert hidden[("Wales", "sex", "Male")]
    assert hidden[("Wales", "sex", "Female")]  # else Wales's 203 minus its women gives the 3 men
    assert hidden[("England", "sex", "Male")]  # else 30 men in England and Wales minus England's 27 gives 3
    assert not hidden[("England and Wales", "sex", "Male")]
    # 201 of 203 Welsh patients with bone metastases says 2 without: hidden, as is England's count beside it.
    assert hidden[("Wales", "metastatic_site", "bone")] and hidden[("England", "metastatic_site", "bone")]
    assert out.loc[hidden, "patients"].isna().all() and out.loc[hidden, "percentage"].isna().all()
