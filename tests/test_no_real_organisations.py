"""Results made from the synthetic cohort never name a real organisation: every public output of the default
build is searched for the names and codes of the real reference tables."""

from __future__ import annotations

import re
import subprocess
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pandas as pd
import pytest

from naome_report.config import PROJECT_ROOT, load_config
from naome_report.organisations import load_organisations

NATIONS = {"England", "Wales", "England and Wales", "E92000001", "W92000004"}  # real, and above organisations
SUFFIXES = (" University Health Board", " Teaching Health Board", " NHS Foundation Trust", " NHS Trust")
DATA_URI = re.compile(r"data:[\w/+.-]+;base64,[A-Za-z0-9+/=]+")


def real_names_and_codes() -> tuple[set[str], set[str]]:
    """Names (with their distinctive short forms) and codes of the real organisation tables."""
    orgs = pd.read_csv(PROJECT_ROOT / "data" / "organisations.csv", dtype=str, keep_default_na=False)
    alliances = pd.read_csv(PROJECT_ROOT / "data" / "cancer-alliances.csv", dtype=str, keep_default_na=False)
    names = set(orgs.org_name) | set(orgs.alliance_name) | set(orgs.region_name)
    names |= set(alliances.alliance_name) | set(alliances.region_name)
    codes = set(orgs.org_code) | set(orgs.alliance_code) | set(orgs.region_code)
    codes |= set(alliances.alliance_code) | set(alliances.region_code)
    for name in list(names):
        for suffix in SUFFIXES:
            if name.endswith(suffix):
                names.add(name[: -len(suffix)])
        names.add(re.sub(r"\s*\(.*\)$", "", name))  # 'RM Partners (West London)' -> 'RM Partners'
    return {n for n in names if n and n not in NATIONS}, {c for c in codes if c and c not in NATIONS}


def finder(names: set[str], codes: set[str]) -> re.Pattern:
    words = sorted(names | codes, key=len, reverse=True)
    return re.compile(r"(?<![\w-])(?:" + "|".join(re.escape(w) for w in words) + r")(?![\w-])")


def _pdf_text(path: Path) -> str:
    return subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout


def _zip_text(path: Path) -> str:
    """The text content of a workbook's XML parts (tags and attributes, such as cell references, dropped)."""
    with zipfile.ZipFile(path) as archive:
        xml = "\n".join(archive.read(n).decode("utf-8", "replace") for n in archive.namelist() if n.endswith(".xml"))
    return re.sub(r"<[^>]*>", " ", xml)


def public_texts(output: Path) -> dict[str, str]:
    """The text of every public output: data files, workbook, documents, packs and portal (not the extract,
    the quarantine or the log, which are not published)."""
    texts: dict[str, str] = {}
    plain = [*output.glob("data/*"), *output.glob("*.html"), *output.glob("figures/*.alt.txt"),
             *(p for p in (output / "portal").rglob("*") if p.is_file() and p.suffix in {".html", ".js", ".csv",
                                                                                      ".svg", ".css", ".json"})]
    for path in plain:
        texts[str(path)] = DATA_URI.sub("", path.read_text(encoding="utf-8", errors="replace"))
    for path in [*output.glob("*.xlsx"), *output.glob("*.ods")]:
        texts[str(path)] = _zip_text(path)
    pdfs = [*output.glob("*.pdf"), *output.glob("packs/*.pdf")]
    with ThreadPoolExecutor(2) as pool:
        for path, text in zip(pdfs, pool.map(_pdf_text, pdfs)):
            texts[str(path)] = text
    return texts


def test_the_finder_catches_real_names_and_codes_and_not_fictional_ones():
    names, codes = real_names_and_codes()
    pattern = finder(names, codes)
    assert pattern.search("Betsi Cadwaladr University Health Board: alarm")
    assert pattern.search("Cardiff and Vale (7A4)") and pattern.search("Cancer Alliance E56000005.")
    assert pattern.search("the North West region") and pattern.search("RM Partners")
    fictional = load_organisations(load_config(), synthetic=True)
    for column in ("org_name", "org_code", "alliance_name", "alliance_code", "region_name", "region_code", "places"):
        for value in set(fictional[column]) - NATIONS:
            assert not pattern.search(value), f"fictional {column} {value!r} names a real organisation"


@pytest.mark.usefixtures("output_dir")
def test_no_public_output_of_the_synthetic_build_names_a_real_organisation(output_dir):
    meta = (output_dir / "data" / "naome_run.json").read_text(encoding="utf-8")
    assert '"synthetic": true' in meta
    pattern = finder(*real_names_and_codes())
    texts = public_texts(output_dir)
    assert len([p for p in texts if p.endswith(".pdf")]) > 100  # the packs are among them
    found = {}
    for path, text in texts.items():
        hits = sorted(set(pattern.findall(text)))
        if hits:
            found[Path(path).relative_to(output_dir).as_posix()] = hits[:5]
    assert not found, f"real organisations named in synthetic outputs: {dict(list(found.items())[:10])}"
