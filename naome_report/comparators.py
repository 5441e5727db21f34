"""The comparator of every row of the indicators table: the unit a reader should compare it with, and how it compares."""

from __future__ import annotations

import numpy as np
import pandas as pd

from naome_report.indicators import NATION_CODES, NATIONAL_CODE, entity_table
from naome_report.registry import Registry
from naome_report.stats.comparison import compare_interval

LEVEL_OF_CODE_COLUMN = {"alliance_code": "alliance", "region_code": "region", "nation_code": "nation",
                        "national_code": "national"}
# The units above each level, nearest first (an English organisation: alliance, NHS region, England, England and Wales).
ANCESTORS = {
    "organisation": ("alliance_code", "region_code", "nation_code", "national_code"),
    "alliance": ("region_code", "nation_code", "national_code"),
    "region": ("nation_code", "national_code"),
    "nation": ("national_code",),
    "national": (),
}


def comparator_table(orgs: pd.DataFrame) -> pd.DataFrame:
    """Per unit (level, org_code): its comparator's level, code and name.

    The comparator is the nearest unit above that holds more organisations than the unit itself, so
    no unit is compared with itself: an English trust with its Cancer Alliance, a Welsh health board
    with its Welsh region where that region holds more than one board and otherwise with Wales, an
    alliance with its NHS region (Wales for a Welsh region), a region with England, a nation with
    England and Wales. England and Wales has none.
    """
    members = orgs[["org_code", "alliance_code", "region_code", "nation"]].assign(
        region_code=orgs.region_code.where(orgs.nation == "England"),
        nation_code=orgs.nation.map(NATION_CODES), national_code=NATIONAL_CODE)
    size = {"organisation": pd.Series(1, index=members.org_code)}
    for column, level in LEVEL_OF_CODE_COLUMN.items():
        size[level] = members.groupby(column).size()
    names = entity_table(orgs).set_index(["level", "org_code"]).org_name
    rows = []
    for level, own_column in (("organisation", "org_code"), ("alliance", "alliance_code"), ("region", "region_code"),
                              ("nation", "nation_code"), ("national", "national_code")):
        units = members.dropna(subset=[own_column]).drop_duplicates(own_column)
        for unit in units.itertuples(index=False):
            own = getattr(unit, own_column)
            chosen = next(((LEVEL_OF_CODE_COLUMN[c], getattr(unit, c)) for c in ANCESTORS[level]
                           if pd.notna(getattr(unit, c)) and size[LEVEL_OF_CODE_COLUMN[c]][getattr(unit, c)] > size[level][own]),
                          ("", ""))
            rows.append({"level": level, "org_code": own, "comparator_level": chosen[0], "comparator_code": chosen[1],
                         "comparator_name": names.get(chosen, "") if chosen[0] else ""})
    return pd.DataFrame(rows)


def add_comparators(frame: pd.DataFrame, orgs: pd.DataFrame, registry: Registry) -> pd.DataFrame:
    """comparator_code, comparator_name, comparator_percentage and vs_comparator on every indicators row.

    The value compared is the case-mix adjusted percentage (with its interval) for adjusted
    indicators and the crude percentage otherwise; only published values are compared.
    Expects the adjusted interval columns (adjusted_ci_lower_95, adjusted_ci_upper_95).
    """
    adjusted = frame.indicator_id.isin([i.id for i in registry if i.is_casemix_adjusted]).to_numpy()
    value = np.where(adjusted, frame.adjusted_percentage, frame.percentage)
    lower = np.where(adjusted, frame.adjusted_ci_lower_95, frame.ci_lower_95)
    upper = np.where(adjusted, frame.adjusted_ci_upper_95, frame.ci_upper_95)
    units = comparator_table(orgs).set_index(["level", "org_code"])
    position = units.index.get_indexer(pd.MultiIndex.from_frame(frame[["level", "org_code"]]))
    found = position >= 0
    take = np.where(found, position, 0)
    comp_level = np.where(found, units.comparator_level.to_numpy(object)[take], "")
    comp_code = np.where(found, units.comparator_code.to_numpy(object)[take], "")
    key = ["indicator_id", "period", "subgroup"]
    lookup = pd.Series(value, index=pd.MultiIndex.from_frame(frame[[*key, "level", "org_code"]]))
    lookup = lookup[~lookup.index.duplicated()]
    wanted = pd.MultiIndex.from_arrays([*(frame[k].to_numpy() for k in key), comp_level, comp_code])
    comp_value = lookup.reindex(wanted).to_numpy(float)
    direction = frame.indicator_id.map({i.id: i.direction for i in registry}).to_numpy(object)
    versus = compare_interval(lower, upper, comp_value, direction)
    has_comparator = comp_code != ""
    frame["comparator_code"] = comp_code
    frame["comparator_name"] = np.where(found, units.comparator_name.to_numpy(object)[take], "")
    frame["comparator_percentage"] = comp_value
    frame["vs_comparator"] = np.where(has_comparator, versus, "")
    return frame
