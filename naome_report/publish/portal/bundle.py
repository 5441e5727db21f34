"""Makes `portal/` a self-contained web root: the reports, packs, workbook and data files it links to, linked in.

The other stages write their outputs beside the portal (output/packs, output/data, output/*.pdf ...).
This step gives the portal folder the same layout, by hard links (no copy, no extra disk) or copies
where links are impossible, so that the reports' own relative links (data/..., figures/...) keep
working inside the portal too. It runs after every build, because the other stages may have rebuilt
their files since the portal was written. Only public outputs are linked: never the extract, the
quarantine, the log or restricted outputs.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from naome_report.atomic import TEMPORARY_MARK

REPORTS = ("state-of-the-nation", "patient-report", "methodology-supplement")
# Folders of public files, with the file kinds taken from each.
FOLDERS = {"data": (".csv", ".json", ".md"), "figures": (".png", ".svg"), "packs": (".pdf",)}
WORKBOOK_GLOB = "NAoMe_Metrics_Table_*"
STYLESHEETS = ("naome-document.css",)


def public_outputs(output_dir: Path) -> list[Path]:
    """The public files beside the portal that it (or the reports it links to) refers to, as found on disk."""
    found: list[Path] = []
    for stem in REPORTS:
        found += [output_dir / f"{stem}{suffix}" for suffix in (".html", ".pdf")]
    found += [output_dir / name for name in STYLESHEETS]
    found += sorted(p for p in output_dir.glob(WORKBOOK_GLOB) if p.suffix in (".xlsx", ".ods"))
    for folder, suffixes in FOLDERS.items():
        if (output_dir / folder).is_dir():
            found += sorted(p for p in (output_dir / folder).iterdir() if p.is_file() and p.suffix in suffixes)
    return [p for p in found if p.is_file()]


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def _place(source: Path, target: Path) -> None:
    """target becomes a hard link to source (a copy across file systems), replaced atomically."""
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}{TEMPORARY_MARK}link")  # swept if a killed build leaves it
    temporary.unlink(missing_ok=True)
    try:
        os.link(source, temporary)
    except OSError:
        shutil.copy2(source, temporary)
    os.replace(temporary, target)


def bundle_outputs(output_dir: Path, portal_dir: Path) -> list[Path]:
    """Link every public output into portal_dir at the same relative path; remove ones no longer built."""
    output_dir, portal_dir = Path(output_dir), Path(portal_dir)
    if not portal_dir.is_dir():
        return []
    placed: list[Path] = []
    for source in public_outputs(output_dir):
        target = portal_dir / source.relative_to(output_dir)
        if not _same_file(source, target):
            _place(source, target)
        placed.append(target)
    keep = set(placed)
    for folder in FOLDERS:
        for stale in (portal_dir / folder).glob("*") if (portal_dir / folder).is_dir() else ():
            if stale.is_file() and stale not in keep:
                stale.unlink()
    for stale in portal_dir.glob(WORKBOOK_GLOB):
        if stale not in keep:
            stale.unlink()
    return placed
