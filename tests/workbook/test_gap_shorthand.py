"""The shorthand of an empty cell: [z] where the indicator has no such measure in the table, else by status."""

from __future__ import annotations

import numpy as np
import pandas as pd

from naome_report.publish.workbook.model import NUMBER_KINDS, Field, _gap_shorthand, _row_groups
from naome_report.vocabulary import STATUS


def _frame(indicators):
    return pd.DataFrame({
        "indicator_id": indicators,
        "status": ["published", "suppressed", "published", "low_denominator", None],
        "percentage": [12.5, None, None, None, None],
        "comparator_name": ["", "Alliance A", None, " ", None],
    })


def _by_groupby(frame, fld):
    """The reference: the model's earlier pandas groupby over the indicator, for every column kind."""
    values = frame[fld.source]
    has = pd.to_numeric(values, errors="coerce").notna() if fld.kind in NUMBER_KINDS else \
        values.notna() & (values.astype(str).str.strip() != "")
    applies = has.groupby(frame["indicator_id"]).transform("any").to_numpy()
    status = frame["status"].fillna("").astype(str)
    symbol = status.map({code: term.symbol for code, term in STATUS.items()}).fillna("").to_numpy(dtype=object)
    symbol = np.where((status.to_numpy() == "published") | (symbol == ""), fld.published_gap, symbol)
    return np.where(applies, symbol, "[z]").astype(object)


PERCENT = Field("percentage", "Percentage (%)", "percent")
COMPARATOR = Field("comparator_name", "Comparator", "wrap", result=True, published_gap="[z]")


def test_gap_shorthand_per_indicator_group():
    frame = _frame(["a", "a", "b", "b", "a"])
    groups = _row_groups(frame)
    # indicator a has a percentage (row 0): its empty cells say why; b has none at all: [z]
    assert _gap_shorthand(frame, PERCENT, groups).tolist() == ["[x]", "[c]", "[z]", "[z]", "[x]"]
    assert _gap_shorthand(frame, PERCENT).tolist() == ["[x]", "[c]", "[z]", "[z]", "[x]"]
    # only row 1 (indicator a) names a comparator: a's rows say why, b's [z]
    assert _gap_shorthand(frame, COMPARATOR, groups).tolist() == ["[z]", "[c]", "[z]", "[z]", "[z]"]
    for fld in (PERCENT, COMPARATOR):
        assert _gap_shorthand(frame, fld, groups).tolist() == _by_groupby(frame, fld).tolist()


def test_rows_without_an_indicator_follow_pandas_groupby():
    frame = _frame(["a", None, "b", "b", "a"])
    for fld in (PERCENT, COMPARATOR):
        assert _gap_shorthand(frame, fld, _row_groups(frame)).tolist() == _by_groupby(frame, fld).tolist()
