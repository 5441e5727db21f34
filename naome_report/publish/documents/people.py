"""Differences between groups of patients: each indicator by route, age, sex, deprivation and ethnic group,
with whether the differences are beyond chance, for England and Wales together and apart."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import pandas as pd

from naome_report.hub import Results
from naome_report.publish.documents.formatting import NATIONS, NOT_SHOWN, fmt, fmt_range
from naome_report.registry import Registry, in_sentence
from naome_report.vocabulary import BEYOND_CHANCE, CHARACTERISTIC, TEST_STATUS

CATEGORY_WORDS = {"de_novo": "De novo", "recurrent": "Recurrent", "1": "1 (most deprived)", "5": "5 (least deprived)"}


def breakdown_entries(results: Results, registry: Registry) -> list[dict[str, Any]]:
    """Every indicator's breakdowns, in registry order, with a statement of the differences beyond chance."""
    rows: dict[str, dict[str, list[dict[str, Any]]]] = defaultdict(lambda: defaultdict(list))
    for row in results.breakdowns.to_dict("records"):  # plain dicts: a few hundred rows, read a cell at a time
        rows[row["indicator_id"]][row["characteristic"]].append(row)
    out = []
    for ind in registry:
        if ind.id not in rows:
            continue
        characteristics = [_characteristic(rows[ind.id][key], key) for key in CHARACTERISTIC if key in rows[ind.id]]
        out.append({"id": ind.id, "title": ind.title, "characteristics": characteristics,
                    "statement": _statement(characteristics)})
    return out


def _characteristic(part: list[dict[str, Any]], key: str) -> dict[str, Any]:
    """One characteristic: the test result in each nation and a row per category."""
    categories: dict[Any, dict[str, dict[str, Any]]] = {}
    for row in sorted(part, key=lambda r: r["category_order"]):  # stable: ties keep the file's order
        categories.setdefault(row["category"], {})[row["nation"]] = row
    lines = [{"label": CATEGORY_WORDS.get(str(category), str(category)),
              "cells": [_cell(by_nation.get(nation)) for nation in NATIONS]}
             for category, by_nation in categories.items()]
    tests = [_test([r for r in part if r["nation"] == nation]) for nation in NATIONS]
    return {"key": key, "name": CHARACTERISTIC[key].short, "tests": [t for t, _ in tests],
            "beyond_chance": [beyond for _, beyond in tests], "rows": lines}


def _cell(row: dict[str, Any] | None) -> str:
    """One category's percentage and 95% CI in one nation, '58.9 (58.0–59.8)' (a dash where not published)."""
    if row is None or row["status"] != "published" or pd.isna(row["percentage"]):
        return NOT_SHOWN
    return f"{fmt(row['percentage'], 'decimal')} ({fmt_range(row['ci_lower_95'], row['ci_upper_95'], 'decimal', '–')})"


def _test(rows: list[dict[str, Any]]) -> tuple[str, bool]:
    """The test's result in words ('Beyond chance', 'Within chance', or why there is none) and whether beyond chance."""
    if not rows:
        return NOT_SHOWN, False
    row = rows[0]
    if row["test_status"] != "tested":
        return TEST_STATUS[row["test_status"]].short, False
    return BEYOND_CHANCE[row["beyond_chance"]].short, row["beyond_chance"] == "yes"


def _statement(characteristics: list[dict[str, Any]]) -> str:
    """'Differences beyond chance: England and Wales, by age at diagnosis and sex; England, by ...; Wales, none.'"""
    parts = []
    for index, nation in enumerate(NATIONS):
        names = [in_sentence(c["name"]) for c in characteristics if c["beyond_chance"][index]]
        parts.append(f"{nation}, " + (f"by {_and(names)}" if names else "none"))
    return "Differences between groups beyond chance: " + "; ".join(parts) + "."


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]
