"""Validating the extract: per-file schemas, cross-file references, quarantine, typing and reconciliation."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from naome_report.ingest import rules
from naome_report.ingest.contract import INPUT_FILES, InputFile
from naome_report.ingest.errors import ExtractError, ReconciliationError
from naome_report.ingest.readers import ROW, RawFile, check_extract_folder, read_header, read_input_file
from naome_report.ingest.schema import build_reference_schema, build_schema, schema_issues

logger = logging.getLogger("naome_report.ingest")

QUARANTINE_COLUMNS = ["file", "row", "key", "column", "value", "reason"]
COUNT_COLUMNS = ["file", "records_read", "records_quarantined", "records_valid"]
# A file where most records fail has a file-level fault (wrong date format, wrong organisation table,
# shifted columns): quarantining it record by record would quietly empty the audit.
MAX_QUARANTINE_SHARE = 0.5
MIN_RECORDS_FOR_SHARE = 20
_MAX_SLICED_ROWS = 1000  # with more bad rows than this, copying the valid rows beats slicing around the bad
_SHARE_FIXES = {
    rules.NOT_A_DATE: "write every date as YYYY-MM-DD and export the file again",
    rules.UNKNOWN_ORGANISATION: "check that the organisation table ([paths] organisations in data/naome.toml) is the one for this extract",
    rules.ORPHAN: "check that the patients file comes from the same extract as this file",
    rules.PATIENT_QUARANTINED: "correct the patients file first",
}


@dataclass
class ValidatedExtract:
    """The extract after validation: valid records typed, bad records quarantined, counts that reconcile."""

    frames: dict[str, pd.DataFrame]
    quarantine: pd.DataFrame
    counts: pd.DataFrame
    warnings: list[str] = field(default_factory=list)
    sources: dict[str, Path] = field(default_factory=dict)


@dataclass
class _FileResult:
    raw: RawFile
    valid: pd.DataFrame
    quarantine: pd.DataFrame


def validate_extract(directory: Path, organisations: pd.DataFrame, data_cutoff: date,
                     progress: Callable[[str], None] | None = None, *,
                     max_quarantine_share: float = MAX_QUARANTINE_SHARE) -> ValidatedExtract:
    """Read and validate every file of the extract; fatal problems raise ExtractError."""
    notify = progress or (lambda message: None)
    directory = Path(directory)
    check_extract_files(directory)
    value_sets = {"organisations": _organisation_codes(organisations)}
    results: dict[str, _FileResult] = {}
    for spec in _referenced_first(INPUT_FILES):
        notify(f"{spec.name}: reading")
        raw = read_input_file(spec, directory)
        _require_records(raw)
        result = _validate_file(raw, data_cutoff, value_sets, max_quarantine_share)
        results[spec.name] = result
        value_sets.update(_referenced_values(spec, result))
        notify(f"{spec.name}: {raw.records:,} records, {len(result.quarantine):,} quarantined")
    validated = _assemble([results[spec.name] for spec in INPUT_FILES])
    logger.info("validation: %s records read, %s quarantined", f"{validated.counts.records_read.sum():,}",
                f"{validated.counts.records_quarantined.sum():,}")
    return validated


def check_extract_files(directory: Path) -> None:
    """Check every file's presence, type, size and header before reading any records, so fatal problems come first."""
    check_extract_folder(Path(directory))
    problems: list[ExtractError] = []
    for spec in INPUT_FILES:
        try:
            read_header(spec, directory)
        except ExtractError as exc:
            if str(exc) not in map(str, problems):
                problems.append(exc)
    for problem in problems[1:]:
        logger.error("%s", problem)
    if problems:
        raise problems[0]


def _organisation_codes(organisations: pd.DataFrame) -> pa.Array:
    if "org_code" not in organisations.columns:
        raise ExtractError("organisations", "the organisation reference has no 'org_code' column",
                           "use data/organisations.csv or a replacement with the same columns")
    codes = organisations["org_code"].dropna().astype(str).unique()
    return pa.array(codes, pa.large_string())


def _referenced_first(specs: tuple[InputFile, ...]) -> list[InputFile]:
    referenced = {f.references.split(".")[0] for s in specs for f in s.fields
                  if f.references and f.references != "organisations"}
    return sorted(specs, key=lambda s: s.name not in referenced)


def _require_records(raw: RawFile) -> None:
    if raw.records == 0 and raw.spec.name == "patients":
        raise ExtractError(raw.path.name, "the file has a header but no records, so no other record can be linked",
                           "supply the patients file of the extract with its records")


def _referenced_values(spec: InputFile, result: _FileResult) -> dict[str, pa.Array]:
    """Every value, and the values found only in quarantined records, of the columns other files refer to."""
    targets = {f.references for s in INPUT_FILES for f in s.fields if f.references and f.references != "organisations"}
    values = {}
    for target in targets:
        name, column = target.split(".")
        if name != spec.name:
            continue
        every = result.raw.frame[column]
        quarantined = pc.unique(rules.arrow(every.take(result.quarantine["row"].to_numpy() - 1)))
        if len(quarantined):
            still_valid = pc.is_in(quarantined, value_set=pc.unique(rules.arrow(result.valid[column])))
            quarantined = pc.filter(quarantined, pc.invert(still_valid))
        values[target] = pc.unique(rules.arrow(every))
        values[f"{target}:quarantined"] = quarantined
    return values


def _validate_file(raw: RawFile, data_cutoff: date, value_sets: dict[str, pa.Array],
                   max_share: float) -> _FileResult:
    spec, frame = raw.spec, raw.frame
    issues = schema_issues(build_schema(spec, data_cutoff), frame)
    if any(f.references for f in spec.fields):
        references = schema_issues(build_reference_schema(spec, value_sets), frame)
        # a value that already failed its own format check is not also looked up elsewhere
        already = pd.MultiIndex.from_frame(issues[["index", "column"]])
        references = references[~pd.MultiIndex.from_frame(references[["index", "column"]]).isin(already)]
        issues = pd.concat([issues, references], ignore_index=True)
    quarantine = _quarantine_records(spec, frame, issues)
    _check_share(raw, quarantine, max_share)
    valid = _typed(spec, _without(frame, issues["index"].to_numpy(dtype="int64")))
    rules.forget()
    _reconcile(spec.name, frame[ROW].to_numpy(), valid[ROW].to_numpy(), quarantine["row"].to_numpy())
    return _FileResult(raw=raw, valid=valid, quarantine=quarantine)


def _without(frame: pd.DataFrame, positions: np.ndarray) -> pd.DataFrame:
    """The frame minus the rows at `positions`; text columns are zero-copy slices when those rows are few."""
    positions = np.unique(positions)
    if len(positions) == 0:
        return frame
    if len(positions) > _MAX_SLICED_ROWS:
        keep = np.ones(len(frame), dtype=bool)
        keep[positions] = False
        return frame[keep]
    starts, stops = np.r_[0, positions + 1], np.r_[positions, len(frame)]
    spans = [(start, stop - start) for start, stop in zip(starts, stops) if stop > start]
    keep = np.ones(len(frame), dtype=bool)
    keep[positions] = False
    columns = {}
    for name in frame.columns:
        if isinstance(frame[name].dtype, pd.StringDtype):
            values = rules.arrow(frame[name])
            chunks = [chunk for start, length in spans for chunk in values.slice(start, length).chunks]
            columns[name] = pd.arrays.ArrowStringArray(pa.chunked_array(chunks, values.type))
        else:
            columns[name] = frame[name].to_numpy()[keep]
    return pd.DataFrame(columns, index=frame.index[keep])


def _quarantine_records(spec: InputFile, frame: pd.DataFrame, issues: pd.DataFrame) -> pd.DataFrame:
    """One row per quarantined record: its row, key, and every failing column, value and reason."""
    if issues.empty:
        return pd.DataFrame({c: pd.Series(dtype="int64" if c == "row" else object) for c in QUARANTINE_COLUMNS})
    position = {name: i for i, name in enumerate(spec.columns)}
    issues = issues.assign(
        value=_cell_values(frame, issues),
        _order=issues["column"].map(lambda c: position[c.split(", ")[0]]),
    ).sort_values(["index", "_order"], kind="stable")
    records = issues.groupby("index", sort=True).agg({"column": "; ".join, "value": "; ".join, "reason": "; ".join})
    rows = records.index.to_numpy(dtype="int64")
    return pd.DataFrame({
        "file": spec.name,
        "row": frame[ROW].to_numpy()[rows],
        "key": _joined(frame, list(spec.key), rows),
        "column": records["column"].to_numpy(),
        "value": records["value"].to_numpy(),
        "reason": records["reason"].to_numpy(),
    })


def _cell_values(frame: pd.DataFrame, issues: pd.DataFrame) -> np.ndarray:
    values = np.empty(len(issues), dtype=object)
    for column, group in issues.groupby("column", sort=False):
        positions = issues.index.get_indexer(group.index)
        values[positions] = _joined(frame, column.split(", "), group["index"].to_numpy(dtype="int64"))
    return values


def _joined(frame: pd.DataFrame, columns: list[str], rows: np.ndarray) -> np.ndarray:
    parts = [frame[c].take(rows).astype(object).to_numpy() for c in columns]
    if len(parts) == 1:
        return parts[0]
    return np.array([", ".join(values) for values in zip(*parts)], dtype=object)


def _check_share(raw: RawFile, quarantine: pd.DataFrame, max_share: float) -> None:
    share = len(quarantine) / raw.records if raw.records else 0.0
    if raw.records < MIN_RECORDS_FOR_SHARE or share <= max_share:
        return
    first = quarantine.iloc[0]
    reason = quarantine["reason"].str.split("; ").explode().value_counts().index[0]
    fix = _SHARE_FIXES.get(reason, "check the export settings and the column order, then export the file again")
    raise ExtractError(raw.path.name, f"{share:.0%} of its {raw.records:,} records fail validation, most often "
                       f"'{reason}' (first: row {first['row']}, {first['column']} = {first['value']!r}): "
                       "a problem with the whole file rather than with single records", fix)


def _typed(spec: InputFile, frame: pd.DataFrame) -> pd.DataFrame:
    """Valid records with their real types: dates datetime64[ns], integers Int64, text with NA for empty."""
    columns: dict[str, object] = {}
    for f in spec.fields:
        text = frame[f.name]
        if f.kind == "date":
            columns[f.name] = rules.parse_dates(text).astype("datetime64[ns]")
        elif f.kind == "integer":
            columns[f.name] = rules.parse_integers(text).array
        else:
            empty = rules.blank(text)
            columns[f.name] = text.mask(empty).array if empty.any() else text.array
    columns[ROW] = frame[ROW].to_numpy()
    return pd.DataFrame(columns, index=pd.RangeIndex(len(frame)))


def _reconcile(name: str, read: np.ndarray, valid: np.ndarray, quarantined: np.ndarray) -> None:
    """Every record read is either valid or quarantined, never both, never neither."""
    if len(valid) + len(quarantined) != len(read):
        raise ReconciliationError(f"{name}: {len(read)} read but {len(valid)} valid + {len(quarantined)} quarantined")
    size = int(read.max(initial=0)) + 1
    seen = np.bincount(valid, minlength=size) + np.bincount(quarantined, minlength=size)
    expected = np.bincount(read, minlength=size)
    if len(seen) != size or not np.array_equal(seen, expected):
        raise ReconciliationError(f"{name}: the valid and quarantined rows are not exactly the rows read")


def _assemble(results: list[_FileResult]) -> ValidatedExtract:
    counts = pd.DataFrame([
        {"file": r.raw.spec.name, "records_read": r.raw.records, "records_quarantined": len(r.quarantine),
         "records_valid": len(r.valid)}
        for r in results
    ], columns=COUNT_COLUMNS)
    quarantines = [r.quarantine for r in results if not r.quarantine.empty]
    quarantine = (pd.concat(quarantines, ignore_index=True) if quarantines
                  else results[0].quarantine.iloc[0:0].reset_index(drop=True))
    return ValidatedExtract(
        frames={r.raw.spec.name: r.valid for r in results},
        quarantine=quarantine[QUARANTINE_COLUMNS],
        counts=counts,
        warnings=[w for r in results for w in r.raw.warnings],
        sources={r.raw.spec.name: r.raw.path for r in results},
    )
