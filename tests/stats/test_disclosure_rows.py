"""Row-level disclosure for the new hub tables, worked by hand."""

import numpy as np

from naome_report.stats.disclosure import hidden_elsewhere, suppress_rows


def test_a_small_count_hides_its_row_and_the_smallest_sibling():
    # Three categories adding up to a published total: 3/40 is hidden (numerator in 1-4), and so is
    # the smallest other category (12/30), so that the total minus the rest gives neither away.
    decision = suppress_rows([3, 12, 50], [40, 30, 100], [np.array(["a", "a", "a"], dtype=object)])
    assert decision.hidden.tolist() == [True, True, False]
    assert decision.status.tolist() == ["suppressed", "suppressed", "published"]


def test_complement_zero_denominator_and_too_few():
    # 38/40: 2 patients without the event; 0/0: nothing to show; 0/8: under 10 patients; 0/12 published.
    decision = suppress_rows([38, 0, 0, 0], [40, 0, 8, 12], [])
    assert decision.status.tolist() == ["suppressed", "not_applicable", "too_few", "published"]


def test_already_hidden_rows_are_protected_too():
    decision = suppress_rows([20, 30, 45], [50, 60, 90], [np.array(["g", "g", "g"], dtype=object)],
                             already_hidden=[False, True, False])
    assert decision.hidden.tolist() == [True, True, False]


def test_two_relations_that_cross():
    # Rows: (England, A) (England, B) (Wales, A) (Wales, B); categories add up per nation, nations per category.
    within_nation = np.array(["E", "E", "W", "W"], dtype=object)
    across_nations = np.array(["A", "B", "A", "B"], dtype=object)
    decision = suppress_rows([100, 200, 2, 40], [300, 400, 20, 60], [within_nation, across_nations])
    assert decision.hidden.tolist() == [True, True, True, True]


def test_hidden_elsewhere_matches_key_and_value():
    hidden = hidden_elsewhere(["x", "x", "y", "y"], [5, 7, 5, np.nan], ["x", "y"], [5, 9])
    assert hidden.tolist() == [True, False, False, False]
