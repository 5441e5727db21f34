"""naome_breakdowns.csv: counts add up to the indicators file, tests match scipy / statsmodels, disclosure holds."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy.stats import chi2, chi2_contingency

CHARACTERISTICS = {"route", "age_band", "sex", "deprivation", "ethnicity_group"}


@pytest.fixture(scope="module")
def breakdowns(data_dir):
    return pd.read_csv(data_dir / "naome_breakdowns.csv", dtype={"category": str, "org_code": str},
                       keep_default_na=False, na_values=[""])


def test_every_patient_level_rate_indicator_by_every_characteristic_and_nation(breakdowns):
    expected_indicators = {"mdt", "biopsy", "receptors", "recurrence_recorded", "stage", "perf_status", "cdk46",
                           "anti_her2", "sact", "time_to_sact", "radiotherapy", "bone_agent", "cns", "mort30_sact",
                           "emergency"}
    assert set(breakdowns.indicator_id) == expected_indicators
    assert set(breakdowns.characteristic) == CHARACTERISTICS
    assert set(breakdowns.nation) == {"England and Wales", "England", "Wales"}
    assert (breakdowns.period == "2023/24-2025/26").all()
    ages = breakdowns[(breakdowns.characteristic == "age_band")].drop_duplicates("category").sort_values("category_order")
    assert ages.category.tolist() == ["<50", "50-59", "60-69", "70-79", "80+"]


def test_categories_add_up_to_the_published_nation_totals(breakdowns, indicators):
    totals = indicators[(indicators.period_type == "pooled") & (indicators.subgroup == "all")
                        & indicators.level.isin(["national", "nation"])].set_index(["indicator_id", "org_code"])
    checked = 0
    for (ind, org, _), group in breakdowns.groupby(["indicator_id", "org_code", "characteristic"]):
        if group.status.isin(["suppressed"]).any() or totals.loc[(ind, org), "status"] != "published":
            continue
        assert group.numerator.sum() == totals.loc[(ind, org), "numerator"], (ind, org)
        assert group.denominator.sum() == totals.loc[(ind, org), "denominator"], (ind, org)
        checked += 1
    assert checked > 150


def test_route_rows_equal_the_indicators_subgroups(breakdowns, indicators):
    sub = indicators[(indicators.period_type == "pooled") & indicators.subgroup.isin(["de_novo", "recurrent"])
                     & indicators.level.isin(["national", "nation"])]
    route = breakdowns[breakdowns.characteristic == "route"]
    merged = route.merge(sub, left_on=["indicator_id", "org_code", "category"],
                         right_on=["indicator_id", "org_code", "subgroup"], suffixes=("", "_ind"))
    assert len(merged) > 50
    both = merged[(merged.status == "published") & (merged.status_ind == "published")]
    assert (both.numerator == both.numerator_ind).all() and (both.denominator == both.denominator_ind).all()
    # Whatever the indicators file hides, the breakdowns hide too.
    assert (merged.loc[merged.status_ind == "suppressed", "status"] == "suppressed").all()


def test_rates_and_wilson_intervals(breakdowns):
    shown = breakdowns[breakdowns.status == "published"]
    np.testing.assert_allclose(shown.percentage, shown.numerator / shown.denominator * 100, rtol=1e-5)
    assert (shown.ci_lower_95 <= shown.percentage + 1e-4).all() and (shown.percentage <= shown.ci_upper_95 + 1e-4).all()
    hidden = breakdowns[breakdowns.status != "published"]
    assert hidden[["percentage", "ci_lower_95", "ci_upper_95"]].isna().all().all()


def test_disclosure_no_small_count_and_no_lone_hidden_cell(breakdowns):
    for column in ("numerator", "denominator"):
        assert not breakdowns[column].between(1, 4).any()
    assert not (breakdowns.denominator - breakdowns.numerator).between(1, 4).any()
    hidden = breakdowns.status.eq("suppressed")
    assert breakdowns.loc[hidden, ["numerator", "denominator"]].isna().all().all()
    # The categories of one characteristic add up to a published total: never exactly one hidden.
    per_characteristic = hidden.groupby([breakdowns.indicator_id, breakdowns.org_code, breakdowns.characteristic]).sum()
    assert not (per_characteristic == 1).any()
    # England + Wales = England and Wales for each category: never exactly one nation hidden.
    nations = breakdowns.level == "nation"
    per_category = hidden[nations].groupby([breakdowns.indicator_id[nations], breakdowns.characteristic[nations],
                                            breakdowns.category[nations]]).sum()
    assert not (per_category == 1).any()
    assert hidden.any()


def test_chi_squared_tests_match_scipy_and_statsmodels(breakdowns):
    tested = breakdowns[breakdowns.test_status == "tested"]
    assert {"chi_squared", "chi_squared_trend"} == set(tested.test)
    assert set(tested.loc[tested.test == "chi_squared_trend", "characteristic"]) == {"age_band", "deprivation"}
    for _, group in tested.groupby(["indicator_id", "org_code", "characteristic"]):
        cells = group[group.in_test == "yes"].sort_values("category_order")
        assert "Unknown" not in set(cells.category)
        table = np.vstack([cells.numerator, cells.denominator - cells.numerator])
        if group.test.iat[0] == "chi_squared":
            statistic, p, df, _ = chi2_contingency(table, correction=False)
            assert group.df.iat[0] == df
        else:
            result = sm.stats.Table(table.T).test_ordinal_association(row_scores=np.arange(1, len(cells) + 1),
                                                                       col_scores=np.array([1, 0]))
            n = cells.denominator.sum()
            statistic = result.zscore**2 * n / (n - 1)
            p = chi2.sf(statistic, 1)
        assert group.chi_squared.iat[0] == pytest.approx(statistic, rel=1e-5)
        assert group.p_value.iat[0] == pytest.approx(p, rel=1e-4, abs=1e-12)


def test_holm_adjustment_and_beyond_chance(breakdowns):
    tests = breakdowns[breakdowns.test_status == "tested"].drop_duplicates(["indicator_id", "org_code", "characteristic"])
    p = tests.p_value.to_numpy()
    m = len(p)
    order = np.argsort(p, kind="stable")
    # Holm: the k-th smallest p (k from 0) times (m - k), made non-decreasing, capped at 1.
    holm = np.empty(m)
    holm[order] = np.minimum(np.maximum.accumulate(p[order] * (m - np.arange(m))), 1)
    np.testing.assert_allclose(tests.p_value_adjusted, holm, rtol=1e-4, atol=1e-12)
    assert (tests.beyond_chance == np.where(holm < 0.05, "yes", "no")).all()
    assert {"yes", "no"} == set(tests.beyond_chance)
    assert breakdowns.loc[breakdowns.test_status != "tested", ["p_value", "beyond_chance"]].isna().all().all()


def test_no_test_published_over_a_hidden_count(breakdowns):
    groups = breakdowns.groupby(["indicator_id", "org_code", "characteristic"])
    for _, group in groups:
        if (group.in_test.eq("yes") & group.status.eq("suppressed")).any():
            assert (group.test_status == "withheld").all()
            assert group.chi_squared.isna().all()


def test_an_unknown_characteristic_is_refused_by_name():
    from naome_report.breakdowns import check_breakdown_settings
    from naome_report.config import ConfigError

    patients = pd.DataFrame({"sex": ["Female"], "age_band": ["<50"]})
    with pytest.raises(ConfigError, match=r"\[breakdowns\] characteristics: 'hair_colour' is not a derived patient column"):
        check_breakdown_settings({"characteristics": ["sex", "hair_colour"], "ordered": [], "multiple_testing": "holm"},
                                 patients, "naome.toml")
    with pytest.raises(ConfigError, match=r"\[breakdowns\] ordered: 'deprivation' is not one of the characteristics"):
        check_breakdown_settings({"characteristics": ["sex", "age_band"], "ordered": ["deprivation"],
                                  "multiple_testing": "holm"}, patients, "naome.toml")
    with pytest.raises(ConfigError, match=r"\[breakdowns\] multiple_testing: 'sidak_guess' is not one of holm"):
        check_breakdown_settings({"characteristics": ["sex"], "ordered": [], "multiple_testing": "sidak_guess"},
                                 patients, "naome.toml")
