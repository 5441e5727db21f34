"""Deterministic archives: an entry given in pieces is stored exactly as the same entry given whole."""

from __future__ import annotations

import io
import random
import zipfile
from datetime import datetime

from naome_report.publish.workbook.archive import deterministic_zip


def _source() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr(zipfile.ZipInfo("mimetype"), b"application/vnd.oasis.opendocument.spreadsheet")
        archive.writestr("content.xml", b"<placeholder/>", compress_type=zipfile.ZIP_DEFLATED)
        archive.writestr("styles.xml", b"<styles/>" * 100, compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


def test_pieces_give_the_same_archive_as_the_whole():
    rng = random.Random(7)
    words = [b"<table:table-cell/>", b"<text:p>Similar</text:p>", b"\xc3\xa9t\xc3\xa9", b"[z]", b"12.5"]
    pieces = [b"".join(rng.choice(words) for _ in range(rng.randint(0, 5000))) for _ in range(300)]
    when = datetime(2026, 9, 30)
    whole = deterministic_zip(_source(), when, {"content.xml": b"".join(pieces)})
    streamed = deterministic_zip(_source(), when, {"content.xml": iter(pieces)})
    assert streamed == whole
    with zipfile.ZipFile(io.BytesIO(streamed)) as archive:
        assert archive.namelist() == ["mimetype", "content.xml", "styles.xml"]
        assert archive.read("content.xml") == b"".join(pieces)
        assert archive.getinfo("mimetype").compress_type == zipfile.ZIP_STORED
        assert archive.testzip() is None
