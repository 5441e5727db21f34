"""Adjusted-rate intervals and change since the previous year, recomputed with statsmodels from the file."""

from __future__ import annotations

import numpy as np
import pytest
from statsmodels.stats.proportion import confint_proportions_2indep
from statsmodels.stats.rates import confint_poisson


def test_adjusted_intervals_are_exact_poisson_over_expected_times_national(indicators):
    rows = indicators[indicators.adjusted_percentage.notna()]
    assert set(rows.indicator_id) == {"mort30_sact", "emergency"}
    assert rows.adjusted_ci_lower_95.notna().all() and rows.adjusted_ci_upper_95.notna().all()
    sample = rows.sample(300, random_state=1)
    for row in sample.itertuples():
        lo, hi = confint_poisson(row.numerator, row.expected, method="exact-c")
        assert row.adjusted_ci_lower_95 == pytest.approx(lo * row.national_percentage, rel=2e-5, abs=1e-6)
        assert row.adjusted_ci_upper_95 == pytest.approx(min(hi * row.national_percentage, 100), rel=2e-5)
        assert row.adjusted_ci_lower_95 <= row.adjusted_percentage * (1 + 1e-5) <= row.adjusted_ci_upper_95 * (1 + 2e-5)
    assert indicators.loc[indicators.adjusted_percentage.isna(), "adjusted_ci_lower_95"].isna().all()


def test_change_since_previous_year_matches_statsmodels_newcomb(indicators):
    years = indicators[indicators.period_type == "financial_year"]
    first = years.period.min()
    changed = years[years.change_points.notna()]
    assert len(changed) > 1000 and (changed.period != first).all()
    key = ["indicator_id", "subgroup", "level", "org_code", "period"]
    by_key = years.set_index(key)
    previous_period = {"2024/25": "2023/24", "2025/26": "2024/25"}
    for row in changed.sample(300, random_state=2).itertuples():
        prev = by_key.loc[(row.indicator_id, row.subgroup, row.level, row.org_code, previous_period[row.period])]
        assert row.previous_percentage == pytest.approx(prev.percentage, rel=1e-5)
        lo, hi = confint_proportions_2indep(row.numerator, row.denominator, prev.numerator, prev.denominator,
                                            method="newcomb", compare="diff")
        assert row.change_points == pytest.approx(row.percentage - prev.percentage, abs=3e-4)
        assert row.change_ci_lower_95 == pytest.approx(lo * 100, rel=1e-5, abs=1e-6)
        assert row.change_ci_upper_95 == pytest.approx(hi * 100, rel=1e-5, abs=1e-6)
        assert row.change_significant == ("yes" if lo > 0 or hi < 0 else "no")


def test_change_only_on_later_published_financial_years(indicators):
    no_change = indicators.change_points.isna()
    assert no_change[indicators.period_type != "financial_year"].all()
    assert no_change[indicators.status != "published"].all()
    assert indicators.loc[no_change, "change_significant"].isna().all()
    assert set(indicators.change_significant.dropna()) == {"yes", "no"}
