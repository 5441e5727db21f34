"""The NAoMe metrics table: an Excel workbook and its OpenDocument copy, to the Analysis Function's spreadsheet guidance.

`model` says what the sheets hold, `layout` how wide and tall they are, `xlsx` and `ods` write them and
`files` puts the two files in the output folder. This module only names the files (the portal links to them).
"""

from __future__ import annotations

import re


def file_safe_period(period: str) -> str:
    """A period label usable in a file name: 2023/24-2025/26 -> 2023-24_to_2025-26."""
    parts = [p.strip().replace("/", "-") for p in re.split(r"\s*(?:-(?=\d{4})|\bto\b)\s*", period) if p.strip()]
    return re.sub(r"[^A-Za-z0-9_-]+", "_", "_to_".join(parts))


def workbook_filename(period: str, version: int | str) -> str:
    """NAoMe_Metrics_Table_<period>_V<n>.xlsx."""
    return f"NAoMe_Metrics_Table_{file_safe_period(period)}_V{version}.xlsx"
