"""Reading one file of the extract as text, CSV or Parquet; whole-file problems raise ExtractError."""

from __future__ import annotations

import codecs
import csv
import difflib
import errno
import io
import logging
import os
import stat
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from naome_report.ingest.contract import InputFile
from naome_report.ingest.errors import ExtractError

logger = logging.getLogger("naome_report.ingest")

FORMATS = ("csv", "parquet")
ROW = "_row"  # 1-based record number in the source file (the header is not counted)
TEXT = pd.StringDtype("pyarrow")
_CHUNK = 1 << 24
_SNIFF = 1 << 16
_MAX_HEADER = 1 << 20
_UTF8_FIX = "save the file as UTF-8 (in Excel: Save As > 'CSV UTF-8 (Comma delimited)') and supply it again"
_TRUNCATED_FIX = "copy or export the complete file again"


@dataclass
class RawFile:
    """One input file read as text: the contract's columns, every value a string ("" = empty), plus _row."""

    spec: InputFile
    path: Path
    format: str
    frame: pd.DataFrame
    warnings: list[str] = field(default_factory=list)

    @property
    def records(self) -> int:
        """Number of records (data rows) in the file."""
        return len(self.frame)


def check_extract_folder(directory: Path) -> None:
    """The extract folder exists, is a folder and can be listed."""
    if not directory.exists():
        raise ExtractError(str(directory), "the extract folder does not exist",
                           "point [paths] extract_dir in the configuration at the folder that holds the extract files")
    if not directory.is_dir():
        raise ExtractError(str(directory), "the extract folder is a file, not a folder",
                           "point [paths] extract_dir at the folder that holds the extract files")
    try:
        next(directory.iterdir(), None)
    except PermissionError:
        raise ExtractError(str(directory), "the extract folder cannot be listed (permission denied)",
                           "give the user running naome-report read and search access to it (chmod a+rx)") from None


def locate_input_file(spec: InputFile, directory: Path) -> Path:
    """The one file `<name>.csv` or `<name>.parquet` of the extract folder, checked to be a readable file."""
    check_extract_folder(directory)
    found = [directory / f"{spec.name}.{ext}" for ext in FORMATS if os.path.lexists(directory / f"{spec.name}.{ext}")]
    if len(found) > 1:
        raise ExtractError(spec.name, f"both {spec.name}.csv and {spec.name}.parquet are in {directory}",
                           "remove one of them: the toolkit does not guess which is the current file")
    if not found:
        raise ExtractError(spec.name, f"no {spec.name}.csv or {spec.name}.parquet in {directory}",
                           f"add the {spec.source} file, named {spec.name}.csv or {spec.name}.parquet"
                           + _near_miss_hint(spec, directory))
    _check_readable_file(found[0])
    return found[0]


def _check_readable_file(path: Path) -> None:
    """A regular file this process can read; each other case with its own message."""
    try:
        mode = path.stat().st_mode
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise ExtractError(path.name, "the file is a symbolic link that loops back on itself",
                               f"replace the link {path} with the file itself, or point it at the real file") from None
        if path.is_symlink():
            raise ExtractError(path.name, f"the file is a symbolic link to {os.readlink(path)}, which does not exist",
                               "copy the file itself into the extract folder, or correct the link") from None
        raise ExtractError(path.name, f"the file cannot be examined ({exc.strerror})",
                           "check the extract folder and supply the file again") from None
    if stat.S_ISDIR(mode):
        raise ExtractError(path.name, f"{path} is a folder, not a file",
                           "put the file itself in the extract folder under this name (not a folder of files)")
    if not stat.S_ISREG(mode):
        raise ExtractError(path.name, f"{path} is not a regular file (a pipe, socket or device)",
                           "copy the file itself into the extract folder")
    try:
        with open(path, "rb"):
            pass
    except PermissionError:
        raise ExtractError(path.name, "the file cannot be read (permission denied)",
                           f"give the user running naome-report read access to {path} (chmod a+r)") from None
    except OSError as exc:
        raise ExtractError(path.name, f"the file cannot be read ({exc.strerror})",
                           "copy or export the file again") from None


def _near_miss_hint(spec: InputFile, directory: Path) -> str:
    similar = sorted(p.name for p in directory.iterdir() if p.stem.lower() == spec.name.lower()
                     and p.name not in (f"{spec.name}.csv", f"{spec.name}.parquet"))
    return f" (found {', '.join(repr(s) for s in similar)}: rename it)" if similar else ""


def read_input_file(spec: InputFile, directory: Path) -> RawFile:
    """Read one file of the extract with every column as text, keeping each record's row number."""
    path = _non_empty_file(spec, Path(directory))
    fmt = path.suffix.lstrip(".")
    try:
        table, warnings = _read_csv(spec, path) if fmt == "csv" else _read_parquet(spec, path)
    except OSError as exc:  # the file went away or the disk failed while it was read
        raise ExtractError(path.name, f"the file could not be read to its end ({exc.strerror or exc})",
                           _TRUNCATED_FIX) from None
    frame = table.to_pandas(types_mapper={pa.large_string(): TEXT, pa.string(): TEXT}.get)
    frame[ROW] = np.arange(1, len(frame) + 1, dtype="int64")
    if frame.empty:
        warnings.append(f"{path.name}: header only, no records")
    for warning in warnings:
        logger.warning(warning)
    return RawFile(spec=spec, path=path, format=fmt, frame=frame, warnings=warnings)


def read_header(spec: InputFile, directory: Path) -> list[str]:
    """Column names of a file, checked against the contract (cheap: reads the header only)."""
    path = _non_empty_file(spec, Path(directory))
    if path.suffix == ".csv":
        _sniff_csv(path)
        header, _ = _csv_header(path)
    else:
        with _open_parquet(path) as parquet:
            header = parquet.schema_arrow.names
    check_columns(spec, path.name, header)
    return header


def _non_empty_file(spec: InputFile, directory: Path) -> Path:
    path = locate_input_file(spec, directory)
    if path.stat().st_size == 0:
        raise ExtractError(path.name, "the file is empty (0 bytes)",
                           "export it again; a file with no records must still have its header row")
    return path


def check_columns(spec: InputFile, filename: str, header: list[str]) -> list[str]:
    """Fail on missing or repeated columns; return warnings for columns the contract does not know."""
    repeated = [name for name, n in Counter(header).items() if n > 1]
    if repeated:
        raise ExtractError(filename, f"column {_names(repeated)} appears more than once in the header",
                           "keep one column of each name")
    missing = [c for c in spec.columns if c not in header]
    if missing:
        plural = "s" if len(missing) > 1 else ""
        verb = "are" if len(missing) > 1 else "is"
        raise ExtractError(filename, f"column{plural} {_names(missing)} {verb} missing",
                           "add the column" + plural + " to the file, named exactly as in docs/data-dictionary.md"
                           + _column_hints(missing, header))
    extra = [c for c in header if c not in spec.columns]
    if extra:
        return [f"{filename}: column{'s' if len(extra) > 1 else ''} {_names(extra)} not in the input contract: ignored"]
    return []


def _names(names: list[str]) -> str:
    quoted = [repr(n) for n in names]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " and " + quoted[-1]


def _column_hints(missing: list[str], header: list[str]) -> str:
    if len(header) == 1:
        for sep in (";", "\t", "|"):
            if sep in header[0]:
                return f" (the header is separated by {sep!r}: save the file with commas between columns)"
    hints = []
    for name in missing:
        near = ([h for h in header if h.strip().lower() == name.lower()]
                or difflib.get_close_matches(name, header, n=1, cutoff=0.8))
        if near:
            hints.append(f"the file has {near[0]!r} where {name!r} is expected")
    return f" ({'; '.join(hints)})" if hints else ""


# --- CSV -------------------------------------------------------------------------------------------------


def _read_csv(spec: InputFile, path: Path) -> tuple[pa.Table, list[str]]:
    _sniff_csv(path)
    header, has_records = _csv_header(path)
    warnings = check_columns(spec, path.name, header)
    if not has_records:
        return pa.table({c: pa.array([], pa.large_string()) for c in spec.columns}), warnings
    _check_quotes_closed(path)
    options = pacsv.ConvertOptions(column_types={c: pa.large_string() for c in header}, include_columns=spec.columns,
                                   strings_can_be_null=False, quoted_strings_can_be_null=False)
    try:
        table = pacsv.read_csv(path, parse_options=pacsv.ParseOptions(newlines_in_values=True),
                               convert_options=options)
    except pa.ArrowInvalid as exc:
        raise _explain_csv_error(path, str(exc), len(header)) from exc
    if not _ends_with_newline(path):
        warnings.append(f"{path.name}: the last line has no line break at its end; check the file is complete")
    return table, warnings


def _sniff_csv(path: Path) -> None:
    """Fail early on files that are not UTF-8 text at all (UTF-16, workbooks, Parquet, binary)."""
    with path.open("rb") as handle:
        head = handle.read(_SNIFF)
    if head.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        raise ExtractError(path.name, "the file is encoded as UTF-32, not UTF-8", _UTF8_FIX)
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise ExtractError(path.name, "the file is encoded as UTF-16, not UTF-8", _UTF8_FIX)
    if head.startswith(b"PK\x03\x04"):
        raise ExtractError(path.name, "the file is a ZIP archive or an Excel workbook, not CSV text",
                           "save the sheet as 'CSV UTF-8 (Comma delimited)', or unzip the file")
    if head.startswith(b"PAR1"):
        raise ExtractError(path.name, "the file is Parquet, not CSV", f"rename it to {path.stem}.parquet")
    nul = head.find(b"\x00")
    if nul >= 0:
        line = head.count(b"\n", 0, nul) + 1
        raise ExtractError(path.name, f"the file contains a NUL byte (line {line}, byte offset {nul}): "
                           "it is binary or UTF-16, not UTF-8 text", _UTF8_FIX)


def _csv_header(path: Path) -> tuple[list[str], bool]:
    """The column names of the first line, and whether anything follows it."""
    with path.open("rb") as handle:
        line = handle.readline(_MAX_HEADER)
        rest = handle.read(_SNIFF)
    if not line.endswith(b"\n") and len(line) == _MAX_HEADER:
        raise ExtractError(path.name, "the first line is longer than 1 MB: this is not a CSV file with a header row",
                           "supply a comma-separated file whose first line names the columns")
    try:
        text = line.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ExtractError(path.name, f"the file is not UTF-8: byte 0x{line[exc.start]:02X} on line 1 "
                           f"(byte offset {exc.start}) is not valid UTF-8", _UTF8_FIX) from exc
    header = next(csv.reader([text.rstrip("\r\n")]), [])
    if not header or header == [""]:
        raise ExtractError(path.name, "the first line is blank: the header row is missing",
                           "make the first line the header row with the column names")
    return header, bool(rest.strip(b"\r\n"))


def _check_quotes_closed(path: Path) -> None:
    """An odd number of double quotes means a quoted value runs to the end of the file: truncation.

    The same pass looks for a NUL byte anywhere (the first 64 kB were sniffed already).
    """
    quotes, offset, lines = 0, 0, 0
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            quotes += chunk.count(b'"')
            nul = chunk.find(b"\x00")
            if nul >= 0:
                line = lines + chunk.count(b"\n", 0, nul) + 1
                raise ExtractError(path.name, f"the file contains a NUL byte (line {line:,}, byte offset {offset + nul:,}): "
                                   "part of it is binary, not text (a damaged copy or a disk error)",
                                   "export or copy the complete file again")
            offset += len(chunk)
            lines += chunk.count(b"\n")
    if quotes % 2:
        line = _unclosed_quote_line(path)
        raise ExtractError(path.name, f"a double quote opened on line {line} is never closed: "
                           "the file looks truncated or a value is badly quoted", _TRUNCATED_FIX)


def _unclosed_quote_line(path: Path) -> int:
    opened_at, inside = 0, False
    with path.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            if line.count(b'"') % 2:
                inside = not inside
                if inside:
                    opened_at = number
    return opened_at


def _ends_with_newline(path: Path) -> bool:
    with path.open("rb") as handle:
        handle.seek(-1, io.SEEK_END)
        return handle.read(1) in (b"\n", b"\r")


def _explain_csv_error(path: Path, message: str, n_columns: int) -> ExtractError:
    if "UTF8" in message or "UTF-8" in message:
        return _encoding_error(path)
    if "columns, got" in message:
        located = _first_bad_field_count(path, n_columns)
        if located:
            line, n_fields, is_last = located
            if is_last:
                return ExtractError(path.name, f"the last line (line {line}) has {n_fields} fields where the header "
                                    f"has {n_columns}: the file looks truncated", _TRUNCATED_FIX)
            fix = ("put double quotes around values that contain commas, then export the file again"
                   if n_fields > n_columns else
                   "fill in the missing fields of that line (empty values still need their commas)")
            return ExtractError(path.name, f"line {line} has {n_fields} fields where the header has {n_columns}", fix)
    return ExtractError(path.name, f"the file cannot be read as CSV ({message.splitlines()[0]})",
                        "export it again as comma-separated UTF-8 text with a header row")


def _encoding_error(path: Path) -> ExtractError:
    located = _first_invalid_utf8(path)
    if located is None:
        return ExtractError(path.name, "the file is not valid UTF-8", _UTF8_FIX)
    offset, line, bad = located
    return ExtractError(path.name, f"the file is not UTF-8: byte 0x{bad[0]:02X} on line {line} (byte offset {offset}) "
                        "is not valid UTF-8 (the file was probably saved as Windows-1252 or Latin-1)", _UTF8_FIX)


def _first_invalid_utf8(path: Path) -> tuple[int, int, bytes] | None:
    """Byte offset, line number and bytes of the first invalid UTF-8 sequence, read chunk by chunk."""
    carry, offset, lines = b"", 0, 0
    with path.open("rb") as handle:
        while True:
            chunk = handle.read(_CHUNK)
            data = carry + chunk
            if not data:
                return None
            try:
                data.decode("utf-8")
                good, carry = data, b""
            except UnicodeDecodeError as exc:
                if chunk and exc.end == len(data) and exc.reason == "unexpected end of data":
                    good, carry = data[:exc.start], data[exc.start:]  # a character split across chunks
                else:
                    return offset + exc.start, lines + data.count(b"\n", 0, exc.start) + 1, data[exc.start:exc.end]
            offset += len(good)
            lines += good.count(b"\n")
            if not chunk:
                return None


def _first_bad_field_count(path: Path, n_columns: int) -> tuple[int, int, bool] | None:
    """Line, field count and whether it is the last record, for the first record with the wrong field count."""
    with path.open(encoding="utf-8-sig", errors="replace", newline="") as handle:
        reader = csv.reader(handle)
        next(reader, None)
        for row in reader:
            if row and len(row) != n_columns:
                line = reader.line_num
                is_last = all(not later for later in reader)
                return line, len(row), is_last
    return None


# --- Parquet ---------------------------------------------------------------------------------------------


def _open_parquet(path: Path) -> pq.ParquetFile:
    try:
        return pq.ParquetFile(path)
    except (pa.ArrowException, OSError) as exc:
        raise ExtractError(path.name, f"the file cannot be opened as Parquet ({_first_line(exc)}): it is damaged, "
                           "truncated or not Parquet", _TRUNCATED_FIX) from exc


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def _read_parquet(spec: InputFile, path: Path) -> tuple[pa.Table, list[str]]:
    with _open_parquet(path) as parquet:
        warnings = check_columns(spec, path.name, parquet.schema_arrow.names)
        try:
            table = parquet.read(columns=spec.columns, use_threads=True)
        except (pa.ArrowException, OSError) as exc:
            raise ExtractError(path.name, f"the file cannot be read as Parquet ({_first_line(exc)}): it is damaged "
                               "or truncated", _TRUNCATED_FIX) from exc
    columns = {name: _as_text(table.column(name), name, path) for name in spec.columns}
    return pa.table(columns), warnings


def _as_text(column: pa.ChunkedArray, name: str, path: Path) -> pa.ChunkedArray:
    """A typed Parquet column as the text a CSV would hold; nulls become empty strings."""
    kind = column.type
    if pa.types.is_dictionary(kind):
        return _as_text(column.cast(kind.value_type), name, path)
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        _check_utf8(column, name, path)
        text = column
    elif pa.types.is_binary(kind) or pa.types.is_large_binary(kind):
        text = pa.chunked_array([c.view(pa.large_string()) for c in column.cast(pa.large_binary()).chunks],
                                pa.large_string())
        _check_utf8(text, name, path)
    elif pa.types.is_timestamp(kind):
        text = _timestamp_text(column)
    elif pa.types.is_floating(kind):
        text = pc.if_else(pc.is_nan(column), pa.scalar(None, kind), column).cast(pa.large_string())
    elif (pa.types.is_integer(kind) or pa.types.is_date(kind) or pa.types.is_boolean(kind)
          or pa.types.is_decimal(kind) or pa.types.is_null(kind)):
        text = column.cast(pa.large_string())
    else:
        raise ExtractError(path.name, f"column {name!r} has Parquet type {kind}, which is not text, a number or a date",
                           "store the column as text, an integer or a date")
    return pc.fill_null(text.cast(pa.large_string()), "")


def _timestamp_text(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """A timestamp at midnight as its ISO date; any other time of day stays visible, so it fails the date check."""
    days = column.cast(pa.date32())
    at_midnight = pc.equal(days.cast(column.type), column)
    return pc.if_else(at_midnight, days.cast(pa.large_string()), column.cast(pa.large_string()))


def _check_utf8(column: pa.ChunkedArray, name: str, path: Path) -> None:
    start = 0
    for chunk in column.chunks:
        try:
            chunk.validate(full=True)
        except pa.ArrowInvalid as exc:
            row = start + _first_invalid_value(chunk) + 1
            raise ExtractError(path.name, f"the file is not UTF-8: column {name!r} of row {row} holds bytes that are "
                               "not valid UTF-8", _UTF8_FIX) from exc
        start += len(chunk)


def _first_invalid_value(chunk: pa.Array) -> int:
    raw = chunk.view(pa.large_binary() if pa.types.is_large_string(chunk.type) else pa.binary())
    for index, value in enumerate(raw.to_pylist()):
        try:
            (value or b"").decode("utf-8")
        except UnicodeDecodeError:
            return index
    return 0
