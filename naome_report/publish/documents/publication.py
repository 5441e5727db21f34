"""Front and back matter of the national documents: publication date, version and corrections, citation, links.

`reports/publication.yaml` holds what an analyst writes for each publication (web address, revision notes,
changes since the last report); the dates, version number and contact address come from the configuration
([publication] date and next_update, [audit] output_version and contact in data/naome.toml), which the
metrics table and the restricted outputs read too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from naome_report.config import Config
from naome_report.publish.documents.formatting import date_words

FIELDS = ("web_address", "revisions", "changes_since_last_report")


class PublicationError(ValueError):
    """Front or back matter that cannot be published: a missing field, a bad date, an unexplained new version."""


@dataclass(frozen=True)
class Revision:
    """One published version and what it changed."""

    version: int
    date: str
    note: str


@dataclass(frozen=True)
class Publication:
    """What the documents say about themselves."""

    date: str
    next_update: str
    version: int
    web_address: str
    contact: str
    revisions: tuple[Revision, ...]
    changes: tuple[str, ...]

    def citation(self, publisher: str, audit: str, short_name: str, title: str, period: str) -> str:
        """How to cite one document."""
        return (f"{publisher}. {audit} ({short_name}): {title}, audit period {period}. Version {self.version}, "
                f"published {self.date}. Available from {self.web_address}")


def load_publication(path: Path, config: Config) -> Publication:
    """The publication facts of `path`, checked against the configured version."""
    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise PublicationError(f"{path}: cannot be read as YAML ({exc})") from exc
    if not isinstance(raw, dict):
        raise PublicationError(f"{path}: expected the fields {', '.join(FIELDS)}")
    if "publication_date" in raw:
        raise PublicationError(f"{path}: publication_date is set once, as [publication] date in {config.source}")
    missing = [f for f in FIELDS if not raw.get(f)]
    if missing:
        raise PublicationError(f"{path}: missing {', '.join(missing)}")
    audit, published = config.section("audit"), config.section("publication")
    version = int(audit["output_version"])
    revisions = tuple(_revision(r, path) for r in raw["revisions"])
    if revisions[0].version != version:
        raise PublicationError(
            f"{path}: the newest revision is version {revisions[0].version} but [audit] output_version in "
            f"{config.source} is {version}: add a revision note saying what version {version} changes")
    address = str(raw["web_address"]).strip()
    day = _date(published.get("date"), config.source, "[publication] date")
    return Publication(date=date_words(day), next_update=str(published.get("next_update", "")), version=version,
                       web_address=address if address.endswith("/") else address + "/", contact=str(audit["contact"]),
                       revisions=revisions, changes=tuple(" ".join(str(c).split()) for c in raw["changes_since_last_report"]))


def _revision(entry: Any, path: Path) -> Revision:
    """One revision entry, checked."""
    if not isinstance(entry, dict) or not {"version", "date", "note"} <= set(entry):
        raise PublicationError(f"{path}: each revision needs a version, a date and a note, not {entry!r}")
    return Revision(int(entry["version"]), date_words(_date(entry["date"], path, "revision date")),
                    " ".join(str(entry["note"]).split()))


def _date(value: Any, path: Path, name: str) -> date:
    """A YAML date (or ISO text) as a date."""
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise PublicationError(f"{path}: {name} {value!r} is not a date (write it as 2026-12-10)") from None
