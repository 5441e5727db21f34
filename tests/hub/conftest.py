"""The indicators file as the data stage wrote it, for the hub-addition tests."""

from __future__ import annotations

import pandas as pd
import pytest


@pytest.fixture(scope="module")
def indicators(data_dir):
    return pd.read_csv(data_dir / "naome_indicators.csv", dtype={"org_code": str, "parent_code": str,
                       "comparator_code": str, "vs_comparator": str, "change_significant": str},
                       keep_default_na=False, na_values=[""], low_memory=False)
