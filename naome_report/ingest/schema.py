"""Pandera schemas generated from the input contract, and their failures as record-level issues."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import numpy as np
import pandas as pd
import pandera.pandas as pandera
import pyarrow as pa
from pandera.errors import SchemaErrors

from naome_report.ingest import rules
from naome_report.ingest.contract import CountOrder, DateOrder, Field, InputFile

ISSUE_COLUMNS = ["index", "column", "reason"]
_REPORTED_COLUMN = "column"  # key in a frame-level check's statistics: the column its failures are reported under


def build_schema(spec: InputFile, data_cutoff: date) -> pandera.DataFrameSchema:
    """The per-file schema of one input file: codes, patterns, dates, ranges, required values, unique keys."""
    # No dtype: the reader hands over text columns only, and pandera's dtype check costs more than the data.
    columns = {f.name: pandera.Column(checks=_field_checks(f, spec, data_cutoff), nullable=False) for f in spec.fields}
    checks = [_date_order_check(rule) for rule in spec.date_orders]
    checks += [_count_order_check(rule) for rule in spec.count_orders]
    if not _key_is_unique_field(spec):
        checks.append(_check(lambda frame, key=list(spec.key): ~rules.duplicated(frame, key), rules.DUPLICATE,
                             column=", ".join(spec.key)))
    return pandera.DataFrameSchema(columns, checks=checks, name=spec.name, strict=False, coerce=False)


def build_reference_schema(spec: InputFile, value_sets: dict[str, pa.Array]) -> pandera.DataFrameSchema:
    """The cross-file schema of one input file: organisations and patients that must exist elsewhere."""
    # value_sets: "organisations"; "patients.patient_id" (every id read); "patients.patient_id:quarantined"
    # (ids found only in quarantined patient records).
    columns = {}
    for f in spec.fields:
        if f.references == "organisations":
            checks = [_check(_in_set(value_sets["organisations"]), rules.UNKNOWN_ORGANISATION)]
        elif f.references:
            quarantined = value_sets[f"{f.references}:quarantined"]
            checks = [_check(_in_set(value_sets[f.references]), rules.ORPHAN),
                      _check(lambda s, q=quarantined: ~rules.is_in(s, q), rules.PATIENT_QUARANTINED)]
        else:
            continue
        columns[f.name] = pandera.Column(checks=checks, nullable=False)
    return pandera.DataFrameSchema(columns, name=f"{spec.name} references", strict=False, coerce=False)


def schema_issues(schema: pandera.DataFrameSchema, frame: pd.DataFrame) -> pd.DataFrame:
    """Validate lazily and turn every failure case into (index, column, reason) rows."""
    try:
        schema.validate(frame, lazy=True, inplace=True)
    except SchemaErrors as exc:
        return _issues_from(exc.failure_cases, schema)
    return pd.DataFrame({c: pd.Series(dtype="int64" if c == "index" else object) for c in ISSUE_COLUMNS})


def _issues_from(failures: pd.DataFrame, schema: pandera.DataFrameSchema) -> pd.DataFrame:
    unexpected = failures[failures["index"].isna()]
    if not unexpected.empty:  # a schema-level failure (dtype, missing column): the reader should have prevented it
        raise RuntimeError(f"{schema.name}: unexpected schema failure {unexpected.iloc[0].to_dict()}")
    frame_level = failures["schema_context"].eq("DataFrameSchema")
    column_of = {check.name: (check.statistics or {}).get(_REPORTED_COLUMN) for check in schema.checks}
    issues = pd.DataFrame({
        "index": failures["index"].astype("int64"),
        "column": np.where(frame_level, failures["check"].map(column_of), failures["column"]),
        "reason": failures["check"].astype(str),
    })
    return issues.drop_duplicates(ignore_index=True)


def _field_checks(f: Field, spec: InputFile, data_cutoff: date) -> list[pandera.Check]:
    checks = []
    if f.required:
        checks.append(_check(lambda s: ~rules.blank(s), rules.MISSING))
    if f.codes:
        codes = pa.array(list(f.codes), pa.large_string())
        checks.append(_optional(_in_set(codes), rules.INVALID_CODE))
    if f.pattern:
        checks.append(_optional(lambda s, p=f.pattern: rules.matches(s, p), rules.PATTERN_REASON[f.kind]))
    if f.kind == "date":
        checks += _date_checks(data_cutoff)
    if f.kind == "integer":
        checks += _integer_checks(f)
    if f.unique or spec.key == (f.name,):
        checks.append(_check(lambda s: ~rules.duplicated(s.to_frame(), [s.name]), rules.DUPLICATE))
    return checks


def _date_checks(data_cutoff: date) -> list[pandera.Check]:
    earliest = np.datetime64(rules.EARLIEST_DATE, "D")
    cutoff = np.datetime64(data_cutoff, "D")
    dates = rules.parse_dates  # NaT for blank or invalid values, which these comparisons let through
    return [
        _optional(lambda s: pd.Series(~np.isnat(dates(s)), index=s.index), rules.NOT_A_DATE),
        _check(lambda s: pd.Series(~(dates(s) < earliest), index=s.index), rules.TOO_EARLY),
        _check(lambda s: pd.Series(~(dates(s) > cutoff), index=s.index), rules.future_date(data_cutoff)),
    ]


def _integer_checks(f: Field) -> list[pandera.Check]:
    checks = [_optional(lambda s: rules.parse_integers(s).notna(), rules.NOT_A_NUMBER)]
    if f.minimum is not None or f.maximum is not None:
        low = -np.inf if f.minimum is None else f.minimum
        high = np.inf if f.maximum is None else f.maximum

        def _within_bounds(s: pd.Series) -> pd.Series:
            values = rules.parse_integers(s)
            return (values.isna() | values.between(low, high)).fillna(True).astype(bool)

        checks.append(_check(_within_bounds, rules.OUT_OF_RANGE))
    return checks


def _date_order_check(rule: DateOrder) -> pandera.Check:
    def _dates_in_order(frame: pd.DataFrame) -> pd.Series:
        earlier, later = rules.parse_dates(frame[rule.earlier]), rules.parse_dates(frame[rule.later])
        return pd.Series(~(later < earlier), index=frame.index)

    return _check(_dates_in_order, rules.date_order(rule), column=rule.later)


def _count_order_check(rule: CountOrder) -> pandera.Check:
    def _part_within_whole(frame: pd.DataFrame) -> pd.Series:
        part, whole = rules.parse_integers(frame[rule.part]), rules.parse_integers(frame[rule.whole])
        return ~(part > whole).fillna(False).astype(bool)  # a missing or non-numeric value has its own reason

    return _check(_part_within_whole, rules.count_order(rule), column=rule.part)


def _key_is_unique_field(spec: InputFile) -> bool:
    return len(spec.key) == 1 and any(f.name == spec.key[0] for f in spec.fields)


def _in_set(values: pa.Array) -> Callable[[pd.Series], pd.Series]:
    return lambda s: rules.is_in(s, values)


def _optional(test: Callable[[pd.Series], pd.Series], reason: str) -> pandera.Check:
    """A check that leaves empty values alone: emptiness is the required-value check's business."""
    return _check(lambda s: rules.blank(s) | test(s), reason)


def _check(test: Callable, reason: str, column: str | None = None) -> pandera.Check:
    statistics = {_REPORTED_COLUMN: column} if column else None
    return pandera.Check(test, name=reason, element_wise=False, ignore_na=False, statistics=statistics)
