"""Differences between groups of patients: each indicator by route, age, sex, deprivation and ethnic group,
with whether the differences are beyond chance, for England and Wales together and apart."""

from __future__ import annotations

from typing import Any

import pandas as pd

from naome_report.hub import Results
from naome_report.publish.documents.formatting import NATIONS, NOT_SHOWN, fmt, fmt_range
from naome_report.registry import Registry, in_sentence
from naome_report.vocabulary import BEYOND_CHANCE, CHARACTERISTIC, TEST_STATUS

CATEGORY_WORDS = {"de_novo": "De novo", "recurrent": "Recurrent", "1": "1 (most deprived)", "5": "5 (least deprived)"}


def breakdown_entries(results: Results, registry: Registry) -> list[dict[str, Any]]:
    """Every indicator's breakdowns, in registry order, with a statement of the differences beyond chance."""
    b = results.breakdowns
    out = []
    for ind in registry:
        rows = b[b.indicator_id == ind.id]
        if rows.empty:
            continue
        characteristics = [_characteristic(rows[rows.characteristic == key], key)
                           for key in CHARACTERISTIC if (rows.characteristic == key).any()]
        out.append({"id": ind.id, "title": ind.title, "characteristics": characteristics,
                    "statement": _statement(characteristics)})
    return out


def _characteristic(part: pd.DataFrame, key: str) -> dict[str, Any]:
    """One characteristic: the test result in each nation and a row per category."""
    lines = []
    for category, rows in part.sort_values("category_order", kind="stable").groupby("category", sort=False):
        by_nation = {r.nation: r for r in rows.itertuples()}
        lines.append({"label": CATEGORY_WORDS.get(str(category), str(category)),
                      "cells": [_cell(by_nation.get(nation)) for nation in NATIONS]})
    tests = [_test(part[part.nation == nation]) for nation in NATIONS]
    return {"key": key, "name": CHARACTERISTIC[key].short, "tests": [t for t, _ in tests],
            "beyond_chance": [beyond for _, beyond in tests], "rows": lines}


def _cell(row: Any) -> str:
    """One category's percentage and 95% CI in one nation, '58.9 (58.0–59.8)' (a dash where not published)."""
    if row is None or row.status != "published" or pd.isna(row.percentage):
        return NOT_SHOWN
    return f"{fmt(row.percentage, 'decimal')} ({fmt_range(row.ci_lower_95, row.ci_upper_95, 'decimal', '–')})"


def _test(rows: pd.DataFrame) -> tuple[str, bool]:
    """The test's result in words ('Beyond chance', 'Within chance', or why there is none) and whether beyond chance."""
    if rows.empty:
        return NOT_SHOWN, False
    row = rows.iloc[0]
    if row.test_status != "tested":
        return TEST_STATUS[row.test_status].short, False
    return BEYOND_CHANCE[row.beyond_chance].short, row.beyond_chance == "yes"


def _statement(characteristics: list[dict[str, Any]]) -> str:
    """'Differences beyond chance: England and Wales, by age at diagnosis and sex; England, by ...; Wales, none.'"""
    parts = []
    for index, nation in enumerate(NATIONS):
        names = [in_sentence(c["name"]) for c in characteristics if c["beyond_chance"][index]]
        parts.append(f"{nation}, " + (f"by {_and(names)}" if names else "none"))
    return "Differences between groups beyond chance: " + "; ".join(parts) + "."


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]
