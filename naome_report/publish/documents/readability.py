"""Reading ease of a document's running text (the patient report aims at a Flesch score of 60 or more)."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

FLESCH_TARGET = 60.0


class _BodyText(HTMLParser):
    """Collects the text of paragraphs and list items inside <main>, skipping tables and figures."""

    SKIP = {"table", "figure", "figcaption", "nav", "aside"}

    def __init__(self) -> None:
        super().__init__()
        self.in_main = False
        self.skip = 0
        self.block = 0
        self.parts: list[str] = []
        self.current: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "main":
            self.in_main = True
        elif tag in self.SKIP:
            self.skip += 1
        elif tag in ("p", "li") and self.in_main and not self.skip:
            self.block += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "main":
            self.in_main = False
        elif tag in self.SKIP:
            self.skip = max(0, self.skip - 1)
        elif tag in ("p", "li") and self.block:
            self.block -= 1
            if self.block == 0:
                text = " ".join("".join(self.current).split())
                if text:
                    self.parts.append(text if text[-1] in ".?!:" else text + ".")
                self.current = []

    def handle_data(self, data: str) -> None:
        if self.block and not self.skip:
            self.current.append(data)


def body_text(html_path: Path) -> str:
    """The running text of a document (paragraphs and list items; no tables, figures or contents)."""
    parser = _BodyText()
    parser.feed(Path(html_path).read_text(encoding="utf-8"))
    return "\n".join(parser.parts)


def flesch_reading_ease(html_path: Path) -> float:
    """Flesch reading ease of a document's body text (textstat counts; pyphen syllables without CMUdict)."""
    return flesch_of_text(body_text(html_path))


def flesch_of_text(text: str) -> float:
    """Flesch reading ease: 206.835 − 1.015 × words per sentence − 84.6 × syllables per word."""
    import textstat

    text = re.sub(r"\s+", " ", text).strip()
    if _has_cmudict():
        return float(textstat.flesch_reading_ease(text))
    # textstat would try to download the CMU dictionary; count syllables with its pyphen fallback instead.
    import pyphen

    hyphenator = pyphen.Pyphen(lang="en_GB")
    words = re.findall(r"[A-Za-z][A-Za-z'’-]*", text)
    sentences = max(1, int(textstat.sentence_count(text)))
    if not words:
        return 0.0
    syllables = sum(max(len(hyphenator.positions(w.lower())) + 1, _vowel_groups(w)) for w in words)
    return 206.835 - 1.015 * len(words) / sentences - 84.6 * syllables / len(words)


def _vowel_groups(word: str) -> int:
    """Syllables as vowel groups (a silent final 'e' dropped): the conservative side of pyphen."""
    word = word.lower().strip("'’-")
    groups = len(re.findall(r"[aeiouy]+", word))
    if word.endswith("e") and not word.endswith(("le", "ee")) and groups > 1:
        groups -= 1
    return max(1, groups)


def _has_cmudict() -> bool:
    """True when NLTK's CMU pronouncing dictionary is installed locally."""
    try:
        import nltk

        nltk.data.find("corpora/cmudict")
        return True
    except (ImportError, LookupError):
        return False
