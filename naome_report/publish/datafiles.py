"""Writes the public static data files (the hub), their data dictionary and the run metadata."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from naome_report import atomic
from naome_report.hub import FILES, META_FILE, TABLE_OF_FILE, data_dictionary_markdown


def _write_csv(frame: pd.DataFrame, columns: list[str], path: Path) -> None:
    """CSV with a fixed column order, counts as integers and other numbers to 6 significant figures."""
    out = frame[columns].copy()
    for col in out.columns:
        if col in ("numerator", "denominator", "patients", "deaths", "at_risk", "count", "n", "quarter_index",
                    "records_read", "quarantined", "excluded", "included", "events", "observed", "decile", "units",
                    "limits_segment", "points_published", "records_linked", "cohort_patients_with_record"):
            out[col] = pd.to_numeric(out[col], errors="coerce").round().astype("Int64")
        elif out[col].dtype.kind == "f":
            out[col] = _six_significant(out[col].to_numpy())
    with atomic.replacing(path) as tmp:
        out.to_csv(tmp, index=False, lineterminator="\n")


def _six_significant(values: np.ndarray) -> np.ndarray:
    """'%.6g' text of each number, '' for missing; each distinct value is formatted once."""
    codes, distinct = pd.factorize(values)
    text = np.array(["%.6g" % v for v in distinct] + [""], dtype=object)  # code -1 (missing) takes the last slot
    return text[codes]


def write_tables(tables: Mapping[str, pd.DataFrame], out_dir: Path) -> list[Path]:
    """Write the public CSV of each table given (named as in hub.TABLE_OF_FILE), in hub.FILES order."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, columns in FILES.items():
        frame = tables.get(TABLE_OF_FILE[name])
        if frame is None:
            continue
        path = out_dir / name
        _write_csv(frame.reindex(columns=list(columns)), list(columns), path)
        written.append(path)
    return written


def write_data_files(tables: Mapping[str, pd.DataFrame], flow: pd.DataFrame, reconciliation: pd.DataFrame, meta: dict,
                     out_dir: Path, data_sources: pd.DataFrame | None = None) -> list[Path]:
    """Write the public CSV of each hub table given and of the flow, reconciliation and data sources; the data
    dictionary and the run metadata."""
    extra = {"flow": flow, "reconciliation": reconciliation,
             "data_sources": data_sources if data_sources is not None else pd.DataFrame(columns=["file"])}
    written = write_tables({**tables, **extra}, out_dir)
    readme = out_dir / "README.md"
    atomic.write_text(readme, data_dictionary_markdown(meta["synthetic"], meta.get("disclosure")))
    meta_path = out_dir / META_FILE
    atomic.write_text(meta_path, json.dumps(meta, indent=2, sort_keys=True))
    return written + [readme, meta_path]
