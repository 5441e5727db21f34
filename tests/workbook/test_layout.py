"""Column widths: the longest shown value of a column, measured on its distinct values."""

from __future__ import annotations

from naome_report.publish.workbook.layout import _longest_display
from naome_report.publish.workbook.model import Column


def _every_value(values, column):
    """The reference: every value shown as `_display` would, min and max of the numbers taken over all of them."""
    from naome_report.publish.workbook.layout import _display

    numbers = [v for v in values if isinstance(v, (int, float)) and not isinstance(v, bool) and v == v]
    others = [str(v) for v in values if v not in numbers or isinstance(v, bool) or v != v]
    shown = [_display(v, column) for v in (min(numbers), max(numbers))] if numbers else []
    return max(len(t) for t in shown + others)


def test_longest_display_of_distinct_values_equals_every_value():
    percent, text = Column("P", "percent"), Column("T")
    cases = [
        ([0.0, -0.0, 12.5, "[c]"], percent, 4),  # 0.0 is first of the equals: "0.0", not "-0.0"
        ([-0.0, 0.0, 5.0], percent, 4),  # -0.0 first: "-0.0"
        ([1, 1.0, "[z]", None], text, 4),  # "1" (first of 1 and 1.0, not "1.0"), "[z]", and None as "None"
        ([1_234_567, 7, "[x]"], Column("C", "count"), 9),  # "1,234,567"
        ([float("nan"), 3.0, "ab"], percent, 3),
        ([True, 1, 1.0], text, 4),  # booleans: every value
    ]
    for values, column, expected in cases:
        many = values * 50
        assert _longest_display(many, column) == expected == _every_value(many, column), values
