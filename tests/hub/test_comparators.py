"""Comparators: the unit each row is compared with, and whether the row's interval excludes its value."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from naome_report.comparators import comparator_table


def _orgs(rows):
    return pd.DataFrame(rows, columns=["org_code", "org_name", "nation", "alliance_code", "alliance_name",
                                       "region_code", "region_name"])


def test_rules_on_a_small_hierarchy():
    orgs = _orgs([
        ("T1", "Trust One", "England", "A1", "Alliance One", "R1", "Region One"),
        ("T2", "Trust Two", "England", "A1", "Alliance One", "R1", "Region One"),
        ("T3", "Trust Three", "England", "A2", "Alliance Two", "R1", "Region One"),   # alone in its alliance
        ("T4", "Trust Four", "England", "A3", "Alliance Three", "R2", "Region Two"),  # alone in its region
        ("B1", "Board One", "Wales", "WN", "North", "W92000004", "Wales"),            # alone in its Welsh region
        ("B2", "Board Two", "Wales", "WS", "South", "W92000004", "Wales"),
        ("B3", "Board Three", "Wales", "WS", "South", "W92000004", "Wales"),
    ])
    table = comparator_table(orgs).set_index(["level", "org_code"])
    expected = {
        ("organisation", "T1"): ("A1", "Alliance One"),
        ("organisation", "T3"): ("R1", "Region One"),      # its alliance is itself: the region instead
        ("organisation", "T4"): ("E92000001", "England"),  # alliance and region are itself
        ("organisation", "B1"): ("W92000004", "Wales"),
        ("organisation", "B2"): ("WS", "South"),
        ("alliance", "A1"): ("R1", "Region One"),
        ("alliance", "A3"): ("E92000001", "England"),
        ("alliance", "WN"): ("W92000004", "Wales"),
        ("region", "R1"): ("E92000001", "England"),
        ("nation", "W92000004"): ("K04000001", "England and Wales"),
        ("national", "K04000001"): ("", ""),
    }
    for key, (code, name) in expected.items():
        assert (table.loc[key, "comparator_code"], table.loc[key, "comparator_name"]) == (code, name), key


def test_welsh_boards_in_the_published_file(indicators):
    rows = indicators[(indicators.level == "organisation") & (indicators.nation == "Wales")]
    comparator = rows.drop_duplicates("org_code").set_index("org_code").comparator_name.to_dict()
    # data/organisations-synthetic.csv (the table of the synthetic build): Cwmderi holds one board; Glannant
    # and Morfaen hold three each.
    assert comparator == {"ZW1": "Wales", "ZW2": "Glannant", "ZW3": "Glannant", "ZW7": "Glannant",
                          "ZW4": "Morfaen", "ZW5": "Morfaen", "ZW6": "Morfaen"}


def test_no_unit_is_compared_with_itself_and_only_national_rows_have_none(indicators):
    assert (indicators.comparator_code != indicators.org_code).all()
    national = indicators.level == "national"
    assert indicators.loc[national, "comparator_code"].isna().all()
    assert indicators.loc[national, "vs_comparator"].isna().all()
    assert indicators.loc[~national, "comparator_code"].notna().all()


def test_comparator_percentage_is_the_comparator_rows_value(indicators):
    key = ["indicator_id", "period", "subgroup", "org_code"]
    adjusted = indicators.indicator_id.isin(["mort30_sact", "emergency"])
    value = indicators.adjusted_percentage.where(adjusted, indicators.percentage)
    lookup = pd.Series(value.to_numpy(), index=pd.MultiIndex.from_frame(indicators[key])).dropna()
    rows = indicators[indicators.comparator_percentage.notna()]
    wanted = pd.MultiIndex.from_arrays([rows.indicator_id, rows.period, rows.subgroup, rows.comparator_code])
    np.testing.assert_allclose(rows.comparator_percentage.to_numpy(), lookup.reindex(wanted).to_numpy(), rtol=1e-5)


def test_vs_comparator_follows_the_interval_and_the_direction(indicators):
    rows = indicators[indicators.vs_comparator.isin(["better", "worse", "similar", "higher", "lower"])]
    adjusted = rows.indicator_id.isin(["mort30_sact", "emergency"])
    lower = rows.adjusted_ci_lower_95.where(adjusted, rows.ci_lower_95)
    upper = rows.adjusted_ci_upper_95.where(adjusted, rows.ci_upper_95)
    above, below = lower > rows.comparator_percentage, upper < rows.comparator_percentage
    lower_better = rows.indicator_id.isin(["mort30_sact", "emergency"])
    neutral = rows.indicator_id.isin(["radiotherapy"])
    # The file rounds to 6 significant figures: skip rows within rounding of the comparator.
    clear = ((lower - rows.comparator_percentage).abs() > 1e-3) & ((upper - rows.comparator_percentage).abs() > 1e-3)
    expected = np.select([above & neutral, below & neutral, above & lower_better, below & lower_better, above, below],
                         ["higher", "lower", "worse", "better", "better", "worse"], "similar")
    assert (rows.vs_comparator[clear] == expected[clear.to_numpy()]).all()
    assert {"better", "worse", "higher", "lower"} <= set(rows.vs_comparator)


def test_unpublished_rows_are_not_compared(indicators):
    hidden = indicators[(indicators.status != "published") & (indicators.level != "national")]
    assert (hidden.vs_comparator == "not_assessed").all()


@pytest.mark.parametrize("level", ["organisation", "alliance", "region", "nation"])
def test_every_level_has_comparisons(indicators, level):
    assert indicators.loc[indicators.level == level, "comparator_percentage"].notna().any()
