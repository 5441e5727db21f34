"""Data-quality feedback for MDT data leads: per organisation, the pseudonymised records with key items missing.

Written by the data stage (the only stage that sees patient records) into output/restricted/data-quality/.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from naome_report.config import Config, ConfigError
from naome_report.restricted import HANDLING
from naome_report.vocabulary import SUBGROUP

FOLDER = "data-quality"
INDEX = "index.csv"


@dataclass(frozen=True)
class Item:
    """A key data item: the derived patient column that holds it, the value meaning missing, and the route
    (de_novo or recurrent) it applies to, if only one."""

    id: str
    label: str
    column: str
    missing: Any
    route: str | None = None


def load_items(config: Config) -> list[Item]:
    """The [data_quality] items, checked: each problem names the item."""
    where = f"{config.source}: [data_quality] items"
    items = []
    for i, raw in enumerate(config.section("data_quality").get("items", []), start=1):
        absent = {"id", "label", "column", "missing"} - set(raw)
        if absent:
            raise ConfigError(f"{where} entry {i}: missing {', '.join(sorted(absent))}")
        if raw.get("route") not in (None, "de_novo", "recurrent"):
            raise ConfigError(f"{where} entry {i} ({raw['id']}): route must be de_novo or recurrent")
        items.append(Item(str(raw["id"]), str(raw["label"]), str(raw["column"]), raw["missing"], raw.get("route")))
    return items


def item_states(patients: pd.DataFrame, items: list[Item]) -> pd.DataFrame:
    """Per patient and item: 'missing', 'recorded' or 'not applicable' (the item is for the other route)."""
    absent = [item.column for item in items if item.column not in patients.columns]
    if absent:
        raise ConfigError(f"[data_quality] items name patient column(s) the cohort does not have: "
                          f"{', '.join(absent)}")
    states = {}
    for item in items:
        missing = (patients[item.column] == item.missing).to_numpy()
        applies = np.ones(len(patients), bool) if item.route is None else (patients["route"] == item.route).to_numpy()
        states[item.id] = np.where(~applies, "not applicable", np.where(missing, "missing", "recorded"))
    return pd.DataFrame(states, index=patients.index)


def feedback_lists(patients: pd.DataFrame, items: list[Item], org_names: dict[str, str]) -> dict[str, pd.DataFrame]:
    """Per organisation (of MBC diagnosis), its records with at least one key item missing, one row each."""
    states = item_states(patients, items)
    missing = states.eq("missing")
    labels = np.array([item.label for item in items], dtype=object)
    listed = missing.any(axis=1).to_numpy()
    rows = patients.loc[listed]
    frame = pd.DataFrame({
        "handling": HANDLING,
        "org_code": rows["diagnosing_org"].astype(str).to_numpy(),
        "org_name": rows["diagnosing_org"].astype(str).map(org_names).fillna("").to_numpy(),
        "record_id": rows["patient_id"].astype(str).to_numpy(),
        "financial_year": rows["financial_year"].astype(str).to_numpy(),
        "route": rows["route"].map(lambda r: SUBGROUP[r].short if r in SUBGROUP else str(r)).to_numpy(),
        "items_missing": missing.loc[listed].sum(axis=1).to_numpy(),
        "missing_items": ["; ".join(labels[row]) for row in missing.loc[listed].to_numpy()],
    })
    for item in items:
        frame[item.id] = states.loc[listed, item.id].to_numpy()
    frame = frame.sort_values(["org_code", "financial_year", "record_id"], kind="mergesort")
    return {code: group.reset_index(drop=True) for code, group in frame.groupby("org_code", sort=True)}


def write_data_quality(patients: pd.DataFrame, organisations: pd.DataFrame, config: Config,
                       restricted_dir: Path) -> list[Path]:
    """One CSV per organisation with records to correct, and an index of every organisation's counts."""
    items = load_items(config)
    folder = restricted_dir / FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob("*.csv"):
        stale.unlink()
    names = dict(zip(organisations["org_code"].astype(str), organisations["org_name"].astype(str)))
    lists = feedback_lists(patients, items, names)
    written = []
    for code, frame in lists.items():
        path = folder / f"{code}_data_quality.csv"
        frame.to_csv(path, index=False, quoting=csv.QUOTE_MINIMAL, lineterminator="\n")
        written.append(path)
    counts = patients["diagnosing_org"].astype(str).value_counts()
    index = pd.DataFrame({"handling": HANDLING, "org_code": sorted(counts.index)})
    index["org_name"] = index["org_code"].map(names).fillna("")
    index["records_in_cohort"] = index["org_code"].map(counts).astype(int)
    index["records_with_missing_items"] = index["org_code"].map({c: len(f) for c, f in lists.items()}).fillna(0).astype(int)
    index["file"] = [f"{c}_data_quality.csv" if c in lists else "no records to correct" for c in index["org_code"]]
    index.to_csv(folder / INDEX, index=False, lineterminator="\n")
    return [folder / INDEX, *written]
