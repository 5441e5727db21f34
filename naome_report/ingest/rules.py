"""Quarantine reasons and the vectorised tests behind them, on text columns (string[pyarrow])."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from naome_report.ingest.contract import CountOrder, DateOrder

MISSING = "missing required value"
INVALID_CODE = "invalid code"
INVALID_IDENTIFIER = "invalid identifier"
INVALID_FORMAT = "invalid format"
NOT_A_DATE = "not a valid date"
EARLIEST_DATE = date(1900, 1, 1)
TOO_EARLY = f"impossible date (before {EARLIEST_DATE.isoformat()})"
NOT_A_NUMBER = "not a whole number"
OUT_OF_RANGE = "out of range"
DUPLICATE = "duplicate identifier"
UNKNOWN_ORGANISATION = "unknown organisation"
ORPHAN = "patient not in patients file"
PATIENT_QUARANTINED = "patient record quarantined"
FUTURE_DATE = "future date (after data cut-off {cutoff})"
DATE_ORDER = "date order: {later} before {earlier}"
COUNT_ORDER = "{part} greater than {whole}"

PATTERN_REASON = {"id": INVALID_IDENTIFIER, "code": INVALID_CODE, "string": INVALID_FORMAT}


def future_date(data_cutoff: date) -> str:
    """The reason for a date after the data cut-off."""
    return FUTURE_DATE.format(cutoff=data_cutoff.isoformat())


def date_order(rule: DateOrder) -> str:
    """The reason for a record whose dates are in the wrong order."""
    return DATE_ORDER.format(later=rule.later, earlier=rule.earlier)


def count_order(rule: CountOrder) -> str:
    """The reason for a record whose part count exceeds its whole."""
    return COUNT_ORDER.format(part=rule.part, whole=rule.whole)


REASONS: dict[str, str] = {
    MISSING: "a required field is empty (or holds only spaces)",
    INVALID_CODE: "a code that is not in the field's code list or does not match its pattern "
                  "(codes are case-sensitive; surrounding spaces make a code invalid)",
    INVALID_IDENTIFIER: "an identifier with characters other than letters, digits, `_` and `-`, or longer than 40",
    INVALID_FORMAT: "a text value that does not have the field's documented form",
    NOT_A_DATE: "not a real calendar date written YYYY-MM-DD (e.g. `05/01/2024`, `2024-1-5`, `2023-02-29`)",
    TOO_EARLY: "a date before 1900, taken as a recording error",
    FUTURE_DATE.format(cutoff="YYYY-MM-DD"): "a date after the data cut-off of the run (set in data/naome.toml)",
    NOT_A_NUMBER: "an integer field holding anything other than digits (with an optional leading `-`)",
    OUT_OF_RANGE: "an integer outside the field's minimum and maximum",
    DATE_ORDER.format(later="B", earlier="A"): "date B of the record is earlier than date A, which must come first",
    COUNT_ORDER.format(part="A", whole="B"): "count A of the record is larger than count B, of which it is a part "
                                             "(e.g. more 'yes' answers than respondents)",
    DUPLICATE: "the record's key is shared with another record of the file: every copy is quarantined",
    UNKNOWN_ORGANISATION: "an org_code that is not in the organisation table (data/organisations.csv; data/organisations-synthetic.csv for the synthetic cohort)",
    ORPHAN: "a patient_id that appears in no record of the patients file",
    PATIENT_QUARANTINED: "the patient's own record in the patients file was quarantined, so are their other records",
}


def arrow(series: pd.Series) -> pa.ChunkedArray:
    """The Arrow array behind a text Series (no copy when it is Arrow-backed)."""
    if hasattr(series.array, "__arrow_array__"):
        values = series.array.__arrow_array__()
        return values if isinstance(values, pa.ChunkedArray) else pa.chunked_array([values])
    return pa.chunked_array([pa.array(series.astype(str).to_numpy(), type=pa.large_string())])


def _mask(values: pa.ChunkedArray | pa.Array, index: pd.Index) -> pd.Series:
    """An Arrow boolean result as a plain bool Series (null counts as False)."""
    return pd.Series(pc.fill_null(values, False).to_numpy(zero_copy_only=False), index=index, dtype=bool)


def blank(series: pd.Series) -> pd.Series:
    """Empty or whitespace-only values."""
    return pd.Series(_memoised("blank", arrow(series), _blank), index=series.index)


def _blank(values: pa.ChunkedArray) -> np.ndarray:
    return pc.fill_null(pc.or_(pc.equal(values, ""), pc.utf8_is_space(values)), False).to_numpy(zero_copy_only=False)


def is_in(series: pd.Series, values: pa.Array) -> pd.Series:
    """Membership in a value set (pyarrow hash lookup: pandas' isin is slow on large Arrow-backed sets)."""
    return _mask(pc.is_in(arrow(series), value_set=values), series.index)


def matches(series: pd.Series, pattern: str) -> pd.Series:
    """Values that match a regular expression (RE2 syntax) from start to end."""
    anchored = pattern if pattern.startswith("^") else f"^(?:{pattern})$"
    return _mask(pc.match_substring_regex(arrow(series), anchored), series.index)


# Several checks read the same column (is it blank? which dates?); computing each once per column
# saves seconds at national scale. Keyed by the identity of the Arrow array, which the entry keeps
# alive so that its id cannot be reused by another array; forget() empties it after each file.
_MEMO: dict[tuple[str, int], tuple[pa.ChunkedArray, np.ndarray]] = {}
_MEMO_SIZE = 16


def _memoised(kind: str, values: pa.ChunkedArray, compute: Callable[[pa.ChunkedArray], np.ndarray]) -> np.ndarray:
    hit = _MEMO.get((kind, id(values)))
    if hit is not None and hit[0] is values:
        return hit[1]
    result = compute(values)
    result.flags.writeable = False
    while len(_MEMO) >= _MEMO_SIZE:
        del _MEMO[next(iter(_MEMO))]
    _MEMO[(kind, id(values))] = (values, result)
    return result


def forget() -> None:
    """Drop the memoised results (and the columns they keep alive)."""
    _MEMO.clear()


def parse_dates(series: pd.Series) -> np.ndarray:
    """Strict YYYY-MM-DD dates as datetime64[D]; NaT for blank or invalid values."""
    return _memoised("dates", arrow(series), _parse_dates)


def _parse_dates(values: pa.ChunkedArray) -> np.ndarray:
    blanks = _memoised("blank", values, _blank)
    if blanks.any():
        values = pc.if_else(pa.array(blanks), pa.scalar(None, values.type), values)
    try:
        return values.cast(pa.date32()).to_numpy()  # fast path: every value is a valid ISO date
    except pa.ArrowInvalid:
        return _parse_dates_slowly(values)


def _parse_dates_slowly(values: pa.ChunkedArray) -> np.ndarray:
    shaped = pc.fill_null(pc.match_substring_regex(values, r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"), False)
    safe = pc.if_else(shaped, values, "1970-01-01")

    def _digits(start: int, stop: int) -> np.ndarray:
        return pc.utf8_slice_codeunits(safe, start, stop).cast(pa.int64()).to_numpy()

    year, month, day = _digits(0, 4), _digits(5, 7), _digits(8, 10)
    ok = shaped.to_numpy(zero_copy_only=False) & (month >= 1) & (month <= 12)
    first = (np.where(ok, (year - 1970) * 12 + month - 1, 0)).astype("datetime64[M]")
    days_in_month = ((first + 1).astype("datetime64[D]") - first.astype("datetime64[D]")).astype(int)
    ok &= (day >= 1) & (day <= days_in_month)
    parsed = first.astype("datetime64[D]") + np.where(ok, day - 1, 0)
    return np.where(ok, parsed, np.datetime64("NaT", "D"))


def parse_integers(series: pd.Series) -> pd.Series:
    """Whole numbers as Int64; NA for blank or non-numeric values."""
    values = arrow(series)
    numeric = pc.fill_null(pc.match_substring_regex(values, r"^-?[0-9]{1,18}$"), False)
    parsed = pc.if_else(numeric, values, pa.scalar(None, values.type)).cast(pa.int64())
    result = parsed.to_pandas(types_mapper={pa.int64(): pd.Int64Dtype()}.get)
    result.index = series.index
    return result


def duplicated(frame: pd.DataFrame, columns: list[str]) -> pd.Series:
    """Every record whose values in `columns` occur more than once (all copies, not just the later ones)."""
    if len(columns) == 1:
        return pd.Series(_duplicated_values(arrow(frame[columns[0]])), index=frame.index)
    return frame.duplicated(columns, keep=False)


def _duplicated_values(values: pa.ChunkedArray) -> np.ndarray:
    """Sort, then compare neighbours: faster than hashing millions of distinct strings."""
    if len(values) < 2 or pc.all(pc.less(values[:-1], values[1:])).as_py():
        return np.zeros(len(values), dtype=bool)  # strictly increasing (exports are often sorted): no duplicates
    order = pc.sort_indices(values).to_numpy()
    ordered = values.take(order)
    same = pc.equal(ordered[1:], ordered[:-1]).to_numpy(zero_copy_only=False) if len(values) > 1 else np.zeros(0, bool)
    in_run = np.zeros(len(values), dtype=bool)
    in_run[1:] |= same
    in_run[:-1] |= same
    result = np.empty(len(values), dtype=bool)
    result[order] = in_run
    return result
