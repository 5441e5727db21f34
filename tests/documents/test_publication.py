"""Front and back matter: publication date, versions and corrections, citation."""

from __future__ import annotations

from pathlib import Path

import pytest

from naome_report.config import load_config
from naome_report.publish.documents.publication import PublicationError, load_publication

GOOD = """\
web_address: https://audit.example/naome
revisions:
  - version: 2
    date: 2027-01-15
    note: Key messages 5.2 to 5.6 corrected after a late submission.
  - version: 1
    date: 2026-12-10
    note: First publication.
changes_since_last_report:
  - Results by financial year.
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "publication.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_corrected_version_carries_its_note_and_citation(tmp_path: Path) -> None:
    config = load_config(overrides={"audit": {"output_version": 2, "contact": "team@audit.example"},
                                    "publication": {"date": "2026-12-10", "next_update": "December 2027"}})
    publication = load_publication(_write(tmp_path, GOOD), config)
    assert publication.date == "10 December 2026" and publication.version == 2
    assert publication.next_update == "December 2027"
    assert publication.web_address == "https://audit.example/naome/"
    assert [(r.version, r.date) for r in publication.revisions] == [(2, "15 January 2027"), (1, "10 December 2026")]
    assert publication.contact == "team@audit.example"
    assert publication.citation("Publisher X", "The Audit", "TA", "Annual report", "2023/24-2025/26") == (
        "Publisher X. The Audit (TA): Annual report, audit period 2023/24-2025/26. Version 2, published "
        "10 December 2026. Available from https://audit.example/naome/")


def test_a_new_version_without_a_note_stops_the_build(tmp_path: Path) -> None:
    config = load_config(overrides={"audit": {"output_version": 3}})
    with pytest.raises(PublicationError, match=r"newest revision is version 2 but \[audit\] output_version .* is 3: "
                                               r"add a revision note"):
        load_publication(_write(tmp_path, GOOD), config)


def test_the_publication_date_comes_from_the_configuration_only(tmp_path: Path) -> None:
    config = load_config(overrides={"audit": {"output_version": 2}, "publication": {"date": "soon"}})
    with pytest.raises(PublicationError, match=r"naome.toml: \[publication\] date 'soon' is not a date"):
        load_publication(_write(tmp_path, GOOD), config)
    config = load_config(overrides={"audit": {"output_version": 2}})
    with pytest.raises(PublicationError, match=r"publication_date is set once, as \[publication\] date in .*naome.toml"):
        load_publication(_write(tmp_path, "publication_date: 2026-12-10\n" + GOOD), config)


@pytest.mark.parametrize(("text", "reason"), [
    (GOOD.replace("web_address: https://audit.example/naome\n", ""), r"missing web_address"),
    (GOOD.replace("    note: First publication.\n", ""), r"each revision needs a version, a date and a note"),
])
def test_bad_front_matter_is_named(tmp_path: Path, text: str, reason: str) -> None:
    config = load_config(overrides={"audit": {"output_version": 2}})
    with pytest.raises(PublicationError, match=reason):
        load_publication(_write(tmp_path, text), config)
