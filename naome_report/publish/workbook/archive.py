"""Zip archives that depend only on their content: every entry dated the same, with fixed attributes."""

from __future__ import annotations

import io
import zipfile
from datetime import datetime
from typing import Iterable


def deterministic_zip(data: bytes, when: datetime, replace: dict[str, bytes | Iterable[bytes]] | None = None) -> bytes:
    """The same archive with every entry dated `when`, in the same order, compressed alike; `replace` swaps entries.

    A replacement may be given as pieces (an iterable of bytes), compressed as they come: the same entry as
    their concatenation, without holding it whole.
    """
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
            content = replace.get(info.filename)
            if content is None or isinstance(content, (bytes, bytearray)):
                whole = source.read(info.filename) if content is None else content
                target.writestr(entry, whole, compresslevel=6)
                continue
            # ZipFile.open takes no level for a ZipInfo: its default, zlib's default level, is level 6.
            with target.open(entry, "w") as stream:
                for piece in content:
                    stream.write(piece)
    return out.getvalue()
