"""Zip archives that depend only on their content: every entry dated the same, with fixed attributes."""

from __future__ import annotations

import io
import zipfile
from datetime import datetime


def deterministic_zip(data: bytes, when: datetime, replace: dict[str, bytes] | None = None) -> bytes:
    """The same archive with every entry dated `when`, in the same order, compressed alike; `replace` swaps entries."""
    replace = replace or {}
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    stamp = (max(when.year, 1980), when.month, when.day, when.hour, when.minute, when.second)
    with zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=stamp)
            entry.compress_type = info.compress_type
            entry.create_system = 3
            entry.external_attr = 0o644 << 16
            target.writestr(entry, replace.get(info.filename, source.read(info.filename)), compresslevel=6)
    return out.getvalue()
