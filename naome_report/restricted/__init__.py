"""Restricted outputs: never published, never linked from anything public, each file marked as restricted.

`output/restricted/` holds what the audit team sends to organisations privately: draft HQIP outlier
notification letters and the outlier tracker (written from the results files by the `restricted` stage), and
each organisation's data-quality feedback list of pseudonymised records (written by the data stage, the only
stage that sees patient records). This module names the marker every restricted file carries and the
identifiers that must never appear in a public output, and finds them in text.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

# Every restricted file carries this marker: in each row of a CSV (its first column), on the first line of a
# letter and of the README, in the title and properties of a spreadsheet.
MARKER = "NAOME-RESTRICTED"
HANDLING = f"{MARKER}: not for publication"
RESTRICTED_DIR = "restricted"
# Outlier case references: NAOME-OP-<period>-<organisation code>-<indicator id>[-<patient group>].
CASE_REFERENCE = re.compile(r"NAOME-OP-[0-9A-Za-z_-]+")
# Phrases only the letters use (a public output quoting one has copied a letter).
LETTER_PHRASES = ("Draft notification under the HQIP outlier process", "NAoMe outlier case reference")


def restricted_identifiers(restricted_dir: Path) -> set[str]:
    """The identifiers in the restricted outputs that no public output may contain: the pseudonymised record
    identifiers of the data-quality lists and the outlier case references of the tracker."""
    found: set[str] = set()
    for path in sorted((restricted_dir / "data-quality").glob("*.csv")):
        with path.open(newline="", encoding="utf-8") as handle:
            found.update(row["record_id"] for row in csv.DictReader(handle) if row.get("record_id"))
    tracker = restricted_dir / "outlier-tracker.csv"
    if tracker.exists():
        with tracker.open(newline="", encoding="utf-8") as handle:
            found.update(row["case_reference"] for row in csv.DictReader(handle))
    return found


def find_restricted(text: str, identifiers: set[str] | frozenset[str] = frozenset()) -> list[str]:
    """What in `text` belongs only in the restricted outputs: the marker, a case reference, a letter's
    phrase, a link (href or src) into the restricted folder, or one of `identifiers`."""
    hits = [MARKER] if MARKER in text else []
    hits += sorted(set(CASE_REFERENCE.findall(text)))
    hits += [phrase for phrase in LETTER_PHRASES if phrase in text]
    hits += re.findall(rf"""(?:href|src)\s*=\s*["'][^"']*\b{RESTRICTED_DIR}/[^"']*""", text)
    if identifiers:
        words = set(text.encode("utf-8").translate(_WORD_BREAKS).split())  # bytes: several times faster than re
        hits += sorted(w.decode() for w in words & {i.encode() for i in identifiers})
    return hits


# Every ASCII character that cannot be part of an identifier, as a space (identifiers: letters, digits, _ and -).
_WORD_BREAKS = bytes(c if chr(c).isascii() and (chr(c).isalnum() or chr(c) in "_-") or c >= 128 else 32
                     for c in range(256))
