"""Rounding half away from zero, against Python's decimal module as the oracle."""

from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import pytest

from naome_report.numbers import format_fixed, round_half_away


@pytest.mark.parametrize("text", ["56.25", "56.35", "2.675", "0.125", "-2.5", "-0.05", "1234.45", "0.0449", "99.95"])
@pytest.mark.parametrize("digits", [0, 1, 2])
def test_round_half_away_agrees_with_decimal_round_half_up(text, digits):
    # decimal's ROUND_HALF_UP rounds halves away from zero on the number as written.
    expected = float(Decimal(text).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP))
    assert round_half_away(float(text), digits) == expected


def test_published_examples_and_arrays():
    assert round_half_away(56.25, 1) == 56.3  # Python's round gives 56.2
    assert round(56.25, 1) == 56.2
    assert format_fixed(56.25, 1) == "56.3"
    assert format_fixed(-0.04, 1) == "0.0"
    assert format_fixed(1234.5, 0, thousands=True) == "1,235"
    assert format_fixed(float("nan")) == ""
    out = round_half_away(np.array([0.5, 1.5, 2.5, np.nan]))
    assert out[:3].tolist() == [1.0, 2.0, 3.0] and np.isnan(out[3])


def test_format_fixed_rounds_exactly_as_the_array_function():
    """The scalar path of format_fixed gives the digits round_half_away gives, on halves, near-halves and noise."""
    rng = np.random.default_rng(3)
    halves = np.arange(-2000, 2000) / 40  # every .x25 and .x75: the halves at one decimal
    values = np.concatenate([halves, halves + 1e-9, halves - 1e-9, rng.uniform(-1e4, 1e4, 20000),
                             rng.integers(0, 10**6, 2000) / 1000])
    for digits in (0, 1, 2):
        rounded = round_half_away(values, digits)
        expected = [f"{v:.{digits}f}" for v in rounded]
        assert [format_fixed(float(v), digits) for v in values] == expected
    assert format_fixed(56.25) == "56.3" and format_fixed(-2.5, 0) == "-3" and format_fixed(2.675, 2) == "2.68"
    assert format_fixed(float("nan")) == "" and format_fixed(None) == ""
