"""What the document tests share: the text of a PDF, the published data files, the parts of an HTML page."""

from __future__ import annotations

import json
import re
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd


def pdf_text(pdf: Path, page: int | None = None, layout: bool = False) -> str:
    """Text of a PDF (or one page of it) from pdftotext."""
    args = ["pdftotext", "-enc", "UTF-8"] + (["-layout"] if layout else [])
    if page is not None:
        args += ["-f", str(page), "-l", str(page)]
    return subprocess.run(args + [str(pdf), "-"], capture_output=True, text=True, check=True).stdout


def indicators(data_dir: Path) -> pd.DataFrame:
    """naome_indicators.csv as published."""
    return pd.read_csv(data_dir / "naome_indicators.csv", low_memory=False, dtype={"org_code": str})


def primary_period(data_dir: Path) -> str:
    """The headline period of the run."""
    return json.loads((data_dir / "naome_run.json").read_text())["primary_period"]


def squash(text: str) -> str:
    """Whitespace collapsed to single spaces."""
    return " ".join(text.split())


class _Html(HTMLParser):
    """Images, headings, tables and the document language of an HTML file."""

    def __init__(self) -> None:
        super().__init__()
        self.images: list[dict[str, str | None]] = []
        self.headings: list[int] = []
        self.tables = 0
        self.header_cells = 0
        self.lang: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "html":
            self.lang = a.get("lang")
        elif tag == "img":
            self.images.append(a)
        elif re.fullmatch(r"h[1-6]", tag):
            self.headings.append(int(tag[1]))
        elif tag == "table":
            self.tables += 1
        elif tag == "th":
            self.header_cells += 1


def parse(path: Path) -> _Html:
    parser = _Html()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser
