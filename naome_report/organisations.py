"""The organisation tables: the fictional one for the synthetic cohort, the reference table for a real extract."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from naome_report.config import SYNTHETIC_MARKER, Config, ConfigError

COLUMNS = ("org_code", "org_name", "org_type", "nation", "alliance_code", "alliance_name", "alliance_type",
           "region_code", "region_name", "valid_from", "valid_to", "fictional", "note", "places")
REQUIRED = ("org_code", "org_name", "nation", "alliance_code", "alliance_name", "region_code", "region_name")
NATIONS = ("England", "Wales")


def is_synthetic_extract(extract_dir: Path) -> bool:
    """True when the extract is the bundled synthetic cohort (it carries a marker file)."""
    return (extract_dir / SYNTHETIC_MARKER).exists()


def extract_will_be_synthetic(config: Config) -> bool:
    """True when the configured extract folder holds, or will be given, the synthetic cohort."""
    return config.synthetic or is_synthetic_extract(config.extract_dir)


def organisations_path(config: Config, synthetic: bool) -> Path:
    """The fictional table ([paths] synthetic_organisations) for synthetic data, else the reference table."""
    return config.path("synthetic_organisations" if synthetic else "organisations")


def load_organisations(config: Config, synthetic: bool) -> pd.DataFrame:
    """The organisation table for this kind of extract, checked: a problem names the file, row, column and fix."""
    path = organisations_path(config, synthetic)
    try:
        table = pd.read_csv(path, dtype=str, keep_default_na=False)
    except FileNotFoundError:
        raise ConfigError(f"{path}: organisation table not found; set [paths] "
                          f"{'synthetic_organisations' if synthetic else 'organisations'} in {config.source}") from None
    missing = [c for c in REQUIRED if c not in table.columns]
    if missing:
        raise ConfigError(f"{path}: missing column(s) {', '.join(missing)}; the columns are {', '.join(COLUMNS)}")
    for col in REQUIRED:
        empty = table.index[table[col].str.strip() == ""]
        if len(empty):
            raise ConfigError(f"{path}, row {empty[0] + 2}: column {col} is empty")
    bad = table.index[~table.nation.isin(NATIONS)]
    if len(bad):
        raise ConfigError(f"{path}, row {bad[0] + 2}: nation {table.nation[bad[0]]!r} is not England or Wales")
    dupes = table.index[table.org_code.duplicated()]
    if len(dupes):
        raise ConfigError(f"{path}, row {dupes[0] + 2}: org_code {table.org_code[dupes[0]]} appears twice")
    if "places" not in table.columns:
        table["places"] = ""
    return table
