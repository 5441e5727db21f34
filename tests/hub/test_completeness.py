"""naome_data_completeness.csv and the case-mix completeness flags of the adjusted outcomes."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

ITEMS = ["performance_status", "stage", "er_her2", "recurrence", "deprivation", "ethnicity", "comorbidity"]


@pytest.fixture(scope="module")
def completeness(data_dir):
    return pd.read_csv(data_dir / "naome_data_completeness.csv", dtype={"org_code": str, "parent_code": str},
                       keep_default_na=False, na_values=[""])


def test_every_item_unit_and_period(completeness, indicators):
    assert set(completeness["item"]) == set(ITEMS)
    units = indicators[indicators.indicator_id == "mdt"].drop_duplicates(["level", "org_code"])
    periods = {"2023/24-2025/26", "2023/24", "2024/25", "2025/26"}
    assert set(completeness.period) == periods
    assert len(completeness) == len(units) * len(periods) * len(ITEMS)
    assert (completeness.threshold == 70).all()


def test_items_equal_the_indicators_that_publish_the_same_counts(completeness, indicators):
    same = {"performance_status": "perf_status", "stage": "stage", "er_her2": "receptors", "recurrence": "recurrence_recorded"}
    rows = indicators[indicators.period_type.isin(["pooled", "financial_year"]) & (indicators.subgroup == "all")]
    for item, indicator_id in same.items():
        merged = completeness[completeness["item"] == item].merge(
            rows[rows.indicator_id == indicator_id], on=["level", "org_code", "period"], suffixes=("", "_ind"))
        assert len(merged) == len(completeness) / len(ITEMS)
        both = merged[(merged.status == "published") & (merged.status_ind == "published")]
        assert (both.recorded == both.numerator).all() and (both.eligible == both.denominator).all(), item
        assert (merged.loc[merged.status_ind == "suppressed", "status"] == "suppressed").all(), item


def test_all_patient_items_count_every_patient(completeness, indicators):
    count = indicators[(indicators.indicator_id == "ascertainment") & (indicators.subgroup == "all")]
    merged = completeness[completeness["item"] == "ethnicity"].merge(count, on=["level", "org_code", "period"],
                                                                    suffixes=("", "_ind"))
    both = merged.dropna(subset=["eligible", "numerator"])
    assert len(both) > 300 and (both.eligible == both.numerator).all()
    assert merged.loc[merged.status_ind == "suppressed", "eligible"].isna().all()


def test_disclosure_and_flags(completeness):
    for column in ("recorded", "eligible"):
        assert not completeness[column].between(1, 4).any()
    assert not (completeness.eligible - completeness.recorded).between(1, 4).any()
    shown = completeness[completeness.status == "published"]
    np.testing.assert_allclose(shown.percentage, shown.recorded / shown.eligible * 100, rtol=1e-5)
    assert (shown.below_threshold == np.where(shown.percentage < 70, "yes", "no")).all()
    hidden = completeness[completeness.status != "published"]
    assert hidden[["percentage"]].isna().all().all()
    # Organisations within an alliance add up to it: never exactly one hidden (North Wales holds one board only).
    orgs = completeness[completeness.level == "organisation"]
    by_alliance = orgs.status.eq("suppressed").groupby([orgs["item"], orgs.period, orgs.parent_code])
    lone = (by_alliance.sum() == 1) & (by_alliance.size() > 1)
    assert not lone.any()


def test_wales_performance_status_is_below_the_threshold(completeness):
    # The synthetic cohort records performance status for about 40% of Welsh patients (domain brief: 40% vs 59%).
    wales = completeness[(completeness.org_code == "W92000004") & (completeness.period == "2023/24-2025/26")].set_index("item")
    assert wales.loc["performance_status", "below_threshold"] == "yes"
    assert wales.loc["performance_status", "percentage"] == pytest.approx(40, abs=5)
    assert wales.loc["er_her2", "below_threshold"] == "no"


def test_adjusted_outcomes_name_case_mix_items_below_the_threshold(completeness, indicators):
    low_ps = completeness[(completeness["item"] == "performance_status") & (completeness.below_threshold == "yes")
                          & completeness.percentage.notna()]
    assert len(low_ps) > 100
    adjusted = indicators[indicators.indicator_id.isin(["mort30_sact", "emergency"])]
    merged = adjusted.merge(low_ps[["level", "org_code", "period", "percentage"]], on=["level", "org_code", "period"],
                            suffixes=("", "_ps"))
    assert len(merged) > 200
    for row in merged.itertuples():
        assert row.completeness_flag.startswith("Low completeness of case-mix data: performance status ")
        shown = float(re.search(r"performance status (\d+\.\d)%", row.completeness_flag).group(1))
        assert shown == pytest.approx(row.percentage_ps, abs=0.051)
        assert row.completeness_flag.endswith("(threshold 70%)")
    # A unit with every case-mix item at or above the threshold has no case-mix flag.
    casemix_items = ["performance_status", "deprivation", "ethnicity", "comorbidity"]
    flagged_units = completeness[completeness["item"].isin(casemix_items) & (completeness.below_threshold == "yes")]
    flagged = set(zip(flagged_units.level, flagged_units.org_code, flagged_units.period))
    clean = adjusted[[(l, o, p) not in flagged for l, o, p in zip(adjusted.level, adjusted.org_code, adjusted.period)]]
    assert not clean.completeness_flag.fillna("").str.contains("case-mix").any()
