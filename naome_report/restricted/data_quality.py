"""Data-quality feedback for MDT data leads: per organisation, the pseudonymised records with key items missing.

Written by the data stage (the only stage that sees patient records) into output/restricted/data-quality/. The
items are those of naome_data_completeness.csv ([completeness] items), so a list and the published completeness
of the same organisation count the same things.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pandas as pd

from naome_report import atomic
from naome_report.completeness import item_masks
from naome_report.config import Config, ConfigError
from naome_report.restricted import HANDLING
from naome_report.vocabulary import SUBGROUP

FOLDER = "data-quality"
INDEX = "index.csv"
ALLOCATION = "diagnosing_org"


def load_items(config: Config) -> list[dict]:
    """The [completeness] items named by [data_quality] items, in that order; an unknown name is named."""
    known = {item["item"]: item for item in config.section("completeness")["items"]}
    wanted = config.section("data_quality").get("items", list(known))
    unknown = [name for name in wanted if name not in known]
    if unknown:
        raise ConfigError(f"{config.source}: [data_quality] items: {', '.join(unknown)} not among the "
                          f"[completeness] items ({', '.join(known)})")
    return [known[name] for name in wanted]


def item_states(patients: pd.DataFrame, items: list[dict], unknown: str) -> pd.DataFrame:
    """Per patient and item: 'missing', 'recorded' or 'not applicable' (the item is not for this patient)."""
    absent = sorted({item["recorded"] for item in items} - set(patients.columns))
    if absent:
        raise ConfigError(f"[completeness] items name patient column(s) the cohort does not have: {', '.join(absent)}")
    states = {}
    for item in items:
        applies, recorded = item_masks(item, patients, unknown)
        states[item["item"]] = np.where(~applies, "not applicable", np.where(recorded, "recorded", "missing"))
    return pd.DataFrame(states, index=patients.index)


def feedback_lists(patients: pd.DataFrame, items: list[dict], unknown: str,
                   org_names: dict[str, str]) -> dict[str, pd.DataFrame]:
    """Per organisation (of MBC diagnosis), its records with at least one key item missing, one row each."""
    states = item_states(patients, items, unknown)
    missing = states.eq("missing")
    listed = missing.any(axis=1).to_numpy()
    titles = np.array([item["title"] for item in items], dtype=object)
    rows = patients.loc[listed]
    codes = rows[ALLOCATION].astype(str)
    frame = pd.DataFrame({
        "handling": HANDLING,
        "org_code": codes.to_numpy(),
        "org_name": codes.map(org_names).fillna("").to_numpy(),
        "record_id": rows["patient_id"].astype(str).to_numpy(),
        "financial_year": rows["financial_year"].astype(str).to_numpy(),
        "route": rows["route"].map(lambda r: SUBGROUP[r].short if r in SUBGROUP else str(r)).to_numpy(),
        "items_missing": missing.loc[listed].sum(axis=1).to_numpy(),
        "missing_items": ["; ".join(titles[row]) for row in missing.loc[listed].to_numpy()],
    })
    for item in items:
        frame[item["item"]] = states.loc[listed, item["item"]].to_numpy()
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
    lists = feedback_lists(patients, items, config.section("completeness")["unknown"], names)
    written = []
    for code, frame in lists.items():
        path = folder / f"{code}_data_quality.csv"
        atomic.write_text(path, frame.to_csv(index=False, quoting=csv.QUOTE_MINIMAL, lineterminator="\n"))
        written.append(path)
    counts = patients[ALLOCATION].astype(str).value_counts()
    index = pd.DataFrame({"handling": HANDLING, "org_code": sorted(counts.index)})
    index["org_name"] = index["org_code"].map(names).fillna("")
    index["records_in_cohort"] = index["org_code"].map(counts).astype(int)
    index["records_with_missing_items"] = index["org_code"].map({c: len(f) for c, f in lists.items()}).fillna(0).astype(int)
    index["file"] = [f"{c}_data_quality.csv" if c in lists else "no records to correct" for c in index["org_code"]]
    atomic.write_text(folder / INDEX, index.to_csv(index=False, lineterminator="\n"))
    return [folder / INDEX, *written]
