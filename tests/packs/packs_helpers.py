"""Reading built packs back as text."""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path


@dataclass
class BuiltPack:
    """One built pack and its text, page by page."""

    code: str
    path: Path
    pages: list[str]

    def page(self, number: int) -> str:
        """Text of a page (1-based), whitespace collapsed."""
        return normalise(self.pages[number - 1])

    @property
    def text(self) -> str:
        return normalise(" ".join(self.pages))


def normalise(text: str) -> str:
    """Collapse runs of whitespace so wrapped cells read as one line."""
    return re.sub(r"\s+", " ", text).strip()


def pdf_pages(path: Path) -> list[str]:
    """Text of every page of a PDF (pdftotext, reading order)."""
    out = subprocess.run(["pdftotext", str(path), "-"], check=True, capture_output=True, text=True).stdout
    pages = out.split("\f")
    return pages[:-1] if pages and not pages[-1].strip() else pages
