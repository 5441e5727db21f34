"""The disclosure audit: every public output, in every format, read the way its readers read it.

It fails on a count from 1 to 4 of people or records, a patient identifier (from the extract), an
NHS number, or restricted content: a record identifier or the restricted marking from
output/restricted/, or a link into that folder. Public means every output outside restricted/ (and
outside the build's own files and the synthetic input). Results are cached per file content, so an
unchanged output is not read again.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
from collections import Counter
from collections.abc import Iterable
import multiprocessing as mp
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from naome_report import atomic
from naome_report.audit import rules
from naome_report.audit.readers import (READABLE, Content, PdfText, UnreadableOutput, pdf_content, read_content,
                                        read_restricted_identifiers, start_pdf_text)
from naome_report.config import Config
from naome_report.machine import available_cores
from naome_report.manifest import DigestCache, output_files

RESTRICTED_DIR = "restricted"
# The marking every restricted output carries (agreed in the hub contract); it never appears in a public one.
RESTRICTED_MARKING = "RESTRICTED: NOT FOR PUBLICATION"
CACHE_FILE = ".audit-cache.json"
RULES_VERSION = "1"
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".gif", ".webp"}  # read through their alt text (<file>.alt.txt, alt=)
_RESTRICTED = f"{RESTRICTED_DIR}/"
_PATH_REST = re.compile(r"[\w./-]+")

WHAT = {
    "small_count": "a count from 1 to 4 of people or records",
    "patient_identifier": "a patient identifier from the extract",
    "nhs_number": "a number that passes the NHS number check",
    "restricted_content": "content of the restricted outputs",
    "unreadable": "a public file the audit cannot read",
}
FIX = {
    "small_count": "withhold it by the disclosure rule (or write 'fewer than 5') where it is made, then rebuild",
    "patient_identifier": "remove record-level data from public outputs",
    "nhs_number": "remove it; if it is not an NHS number, check where the 10-digit number comes from",
    "restricted_content": "restricted material stays in output/restricted, never copied or linked from a public output",
    "unreadable": "rebuild the file; the audit must read every public output",
}


@dataclass(frozen=True)
class Finding:
    """One possible disclosure: where, what, and how to fix it."""

    path: str
    rule: str
    where: str
    excerpt: str

    def __str__(self) -> str:
        where = f" {self.where}:" if self.where else ""
        return f"{self.path}:{where} {WHAT[self.rule]} ({self.excerpt!r}); fix: {FIX[self.rule]}"


@dataclass
class AuditReport:
    """What the audit read and found."""

    findings: list[Finding] = field(default_factory=list)
    files_read: int = 0
    formats: Counter = field(default_factory=Counter)
    images: int = 0

    def summary(self) -> str:
        kinds = ", ".join(f"{n:,} {suffix.lstrip('.').upper()}" for suffix, n in sorted(self.formats.items()))
        return kinds + (f"; {self.images:,} images through their alt text" if self.images else "")


@dataclass(frozen=True)
class Secrets:
    """What must never appear in a public output."""

    patient_ids: frozenset[str]
    record_ids: frozenset[str]

    def digest(self) -> str:
        """Changes with the rules and with what must not appear (so cached results are then re-checked)."""
        text = "\n".join([RULES_VERSION, *sorted(self.patient_ids), "", *sorted(self.record_ids)])
        return hashlib.sha256(text.encode()).hexdigest()


def public_outputs(output_dir: Path, config: Config | None = None) -> list[Path]:
    """Every public output (relative paths): the outputs minus output/restricted."""
    log = config.path("log_file") if config is not None else None
    return [p for p in output_files(output_dir, log) if p.parts[0] != RESTRICTED_DIR]


def audit_content(content: Content, name: str, secrets: Secrets) -> list[Finding]:
    """The findings in one file's content (pure)."""
    hits: list[rules.Hit] = []
    for table in content.tables:
        for hit in rules.small_counts_in_table(table.header, table.rows, Path(name).name, table.first_row,
                                               table.row_numbers):
            hits.append(rules.Hit(hit.rule, f"{table.where}, {hit.where}".strip(", "), hit.excerpt))
    for where, text in content.texts:
        hits += rules.small_counts_in_text(text, where)
        hits += rules.nhs_numbers_in_text(text, where)
    for key, value in content.json_counts:
        if rules.is_count_header(re.sub(r"\[\d+\]$", "", key).rsplit(".", 1)[-1]) and rules.small_whole_number(value):
            hits.append(rules.Hit("small_count", f"key {key}", str(value)))
    hits += rules.identifiers_in_text(content.raw, secrets.patient_ids, secrets.record_ids)
    if RESTRICTED_MARKING.lower() in content.raw.lower():
        hits.append(rules.Hit("restricted_content", "", RESTRICTED_MARKING))
    link = _restricted_link(content.raw)
    if link:
        hits.append(rules.Hit("restricted_content", "a link", link))
    unique = dict.fromkeys(Finding(name, h.rule, h.where, h.excerpt) for h in hits)
    return list(unique)


def _restricted_link(text: str) -> str | None:
    """The first path into restricted/ at the start of `text` or after a quote, '(', '/' or white space."""
    # str.find to each "restricted/", then a look at the character before: a regex that opens with the
    # character before tries every position of every page (0.4 CPU s over the portal; this, 0.02 s).
    start = text.find(_RESTRICTED)
    while start >= 0:
        before = text[start - 1] if start else ""
        if not before or before in "\"'(/" or before.isspace():
            rest = _PATH_REST.match(text, start + len(_RESTRICTED))
            if rest:
                return (before + text[start:rest.end()]).strip("\"'( ")
        start = text.find(_RESTRICTED, start + 1)
    return None


def load_secrets(output_dir: Path, extract_dir: Path | None) -> Secrets:
    """Patient identifiers from the extract; record identifiers from the extract and output/restricted."""
    from naome_report.audit.readers import read_extract_identifiers

    patients, records = read_extract_identifiers(extract_dir) if extract_dir else (set(), set())
    records |= read_restricted_identifiers(output_dir / RESTRICTED_DIR)
    patients = rules.identifier_like(patients)
    return Secrets(frozenset(patients), frozenset(rules.identifier_like(records) - patients))


def audit_outputs(output_dir: Path, config: Config | None = None, workers: int | None = None,
                  extract_dir: Path | None = None) -> AuditReport:
    """Read every public output of `output_dir` and report each possible disclosure."""
    output_dir = Path(output_dir)
    if extract_dir is None and config is not None:
        extract_dir = config.extract_dir
    workers = workers or available_cores()
    outputs = public_outputs(output_dir, config)
    digests = DigestCache()
    cached_key, cached = _load_cache(output_dir)
    # pdftotext, half the audit's time, needs no secrets: the first PDFs run while the secrets are read.
    early = _start_pdfs(output_dir, outputs, digests, cached) if workers > 1 else {}
    secrets = load_secrets(output_dir, extract_dir if extract_dir and extract_dir.is_dir() else None)
    key = secrets.digest()
    cache = cached if cached_key == key else {}
    report = AuditReport()
    todo: list[tuple[str, str]] = []
    # The same content under the same file name (the rules read the name) is read once: the portal links in
    # the packs, reports and data files.
    same_as: dict[tuple[str, str], list[str]] = {}
    known: dict[tuple[str, str], list[Finding]] = {}

    def record(path: str, digest: str, found: list[Finding]) -> None:
        here = [replace(f, path=path) for f in found]
        cache[path] = {"sha256": digest, "findings": [asdict(f) for f in here]}
        report.findings.extend(here)

    for relative in outputs:
        suffix = relative.suffix.lower()
        if suffix in IMAGE_SUFFIXES:
            report.images += 1
            continue
        if suffix not in READABLE:
            report.findings.append(Finding(relative.as_posix(), "unreadable", "", f"unknown format {suffix or '(none)'}"))
            continue
        report.formats[suffix] += 1
        report.files_read += 1
        name, digest = relative.as_posix(), digests(output_dir / relative)
        same = (digest, relative.name)
        if cache.get(name, {}).get("sha256") == digest:
            found = [Finding(**f) for f in cache[name]["findings"]]
            report.findings += found
            known.setdefault(same, found)
        elif same in known:
            record(name, digest, known[same])
        elif same in same_as:
            same_as[same].append(name)
        else:
            same_as[same] = []
            todo.append((name, digest))

    for name, digest, found in _check_all(output_dir, secrets, _slowest_first(todo), workers, early):
        for path in (name, *same_as[(digest, Path(name).name)]):
            record(path, digest, found)
    _save_cache(output_dir, key, cache)
    report.findings.sort(key=lambda f: (f.path, f.rule, f.where))
    return report


_JOB: tuple[Path, Secrets] | None = None  # what the worker processes check against (inherited when forked)
_SERIAL_BELOW = 24  # fewer files than this are checked here: starting workers would cost more
# PDFs started before the secrets are read: about as many as pdftotext reads while they are (50 ms each, 1.3 s).
_EARLY_PDFS = 24


def _start_pdfs(output_dir: Path, outputs: list[Path], digests: DigestCache, cached: dict) -> dict[str, PdfText]:
    """pdftotext started on the first PDFs that are not cached (one of each content and name), by path."""
    started: dict[str, PdfText] = {}
    seen: set[tuple[str, str]] = set()
    for relative in outputs:
        if len(started) == _EARLY_PDFS:
            break
        if relative.suffix.lower() != ".pdf":
            continue
        name, digest = relative.as_posix(), digests(output_dir / relative)
        if cached.get(name, {}).get("sha256") == digest or (digest, relative.name) in seen:
            continue
        seen.add((digest, relative.name))
        try:
            pdf = start_pdf_text(output_dir / relative)
        except OSError:
            break  # it is read with the others, and reported there if it cannot be
        if pdf is None:  # no pdftotext: the PDFs are read the slow way, with the others
            break
        started[name] = pdf
    return started


def _check_started(item: tuple[str, str], pdf: PdfText, secrets: Secrets) -> tuple[str, str, list[Finding]]:
    name, digest = item
    try:
        found = audit_content(pdf_content(pdf.result()), name, secrets)
    except (UnreadableOutput, OSError) as exc:
        found = [Finding(name, "unreadable", "", str(exc))]
    return name, digest, found


def _check_one(item: tuple[str, str]) -> tuple[str, str, list[Finding]]:
    assert _JOB is not None
    output_dir, secrets = _JOB
    name, digest = item
    try:
        found = audit_content(read_content(output_dir / name), name, secrets)
    except UnreadableOutput as exc:
        found = [Finding(name, "unreadable", "", str(exc))]
    return name, digest, found


def _check_all(output_dir: Path, secrets: Secrets, todo: list[tuple[str, str]], workers: int,
               early: dict[str, PdfText]) -> Iterable[tuple[str, str, list[Finding]]]:
    """Each file's findings: in worker processes (forked, so they share the secrets) when there are many; the
    PDFs started `early` here, while the workers read the rest."""
    global _JOB
    _JOB = (output_dir, secrets)
    started = [item for item in todo if item[0] in early]
    rest = [item for item in todo if item[0] not in early]
    try:
        if workers <= 1 or len(rest) < _SERIAL_BELOW or "fork" not in mp.get_all_start_methods():
            yield from (_check_started(item, early[item[0]], secrets) for item in started)
            yield from map(_check_one, rest)
            return
        with ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("fork")) as pool:
            results = pool.map(_check_one, rest, chunksize=4)  # every file is handed to the workers now
            yield from (_check_started(item, early[item[0]], secrets) for item in started)
            yield from results
    finally:
        _JOB = None
        for name in early.keys() - {name for name, _ in started}:  # none: each one started is a file to read
            with contextlib.suppress(UnreadableOutput, OSError):
                early[name].result()


def _slowest_first(items: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    return sorted(items, key=lambda item: not item[0].endswith(".pdf"))


def _load_cache(output_dir: Path) -> tuple[str | None, dict]:
    """The key the cached results were found with, and the results."""
    try:
        cached = json.loads((output_dir / CACHE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None, {}
    return cached.get("key"), cached.get("files", {})


def _save_cache(output_dir: Path, key: str, files: dict) -> None:
    try:
        atomic.write_text(output_dir / CACHE_FILE, json.dumps({"key": key, "files": files}, sort_keys=True))
    except OSError:
        pass  # a read-only output folder is audited all the same, just not faster next time
