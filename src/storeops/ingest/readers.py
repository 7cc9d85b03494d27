"""Read a source file into an Arrow table of strings, one row per data record.

Every reader returns :class:`SourceRows`: the header as written in the file, the
values as strings in positional columns ``_c0 … _cN`` (``""`` for an empty cell,
never NULL, so every backend stages them the same way), the record's ``_line``
and the records that could not even be split into fields (``malformed``), with
their raw text. Types are not parsed here; that is the validator's job, where it
can be done vectorized and on every backend.

Line numbers: for CSV/TSV, line 1 is the header and data start at line 2. A
record is one physical line; quoted values spanning lines are not supported
(a POS export with a stray quote would otherwise swallow the rest of the file
into one field). XLSX lines are sheet row numbers; JSON Lines are physical
lines; Parquet rows are numbered from 1.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import json
import os
import re
import zlib
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from storeops.errors import ImportFileError
from storeops.ingest.mapping import Mapping

#: Marks a value decoded with replacement characters (bytes not valid in the encoding).
REPLACEMENT = "\ufffd"
SAMPLE_BYTES = 1 << 20


@dataclass
class Malformed:
    """A record that could not be split into the header's fields."""

    line: int
    raw: str
    reason: str


@dataclass
class SourceRows:
    """The strings of a file, ready to be staged in the warehouse."""

    format: str
    header: list[str]
    data: pa.Table  # _c0.._cN (string, never null), _line (int64)[, _raw (string)]
    malformed: list[Malformed] = field(default_factory=list)
    delimiter: str = ","
    encoding: str = "utf-8"
    #: Some bytes were not valid in ``encoding`` and were replaced by U+FFFD.
    replaced: bool = False
    #: Staged columns that may hold values with leading or trailing white space;
    #: None when not known (then every column is trimmed).
    padded: frozenset[str] | None = None

    @property
    def rows_read(self) -> int:
        return self.data.num_rows + len(self.malformed)

    def format_raw(self, values: Sequence[str]) -> str:
        """Re-create a record's text from its fields (used for rows that fail validation)."""
        buf = io.StringIO()
        csv.writer(buf, delimiter=self.delimiter, lineterminator="").writerow(values)
        return buf.getvalue()


def positional(n: int) -> list[str]:
    return [f"_c{i}" for i in range(n)]


# -- format registry ---------------------------------------------------------------------
Reader = Callable[[bytes, Path, Mapping], SourceRows]
_READERS: dict[str, Reader] = {}
_SUFFIXES: dict[str, str] = {
    ".csv": "csv",
    ".txt": "csv",
    ".tsv": "tsv",
    ".xlsx": "xlsx",
    ".parquet": "parquet",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
}


def register(name: str) -> Callable[[Reader], Reader]:
    def deco(func: Reader) -> Reader:
        _READERS[name] = func
        return func

    return deco


def detect_format(path: Path) -> tuple[str, bool]:
    """(format, gzip-compressed) from the file name."""
    suffixes = [s.lower() for s in path.suffixes]
    compressed = bool(suffixes) and suffixes[-1] == ".gz"
    if compressed:
        suffixes = suffixes[:-1]
    fmt = _SUFFIXES.get(suffixes[-1]) if suffixes else None
    if fmt is None or (compressed and fmt in ("xlsx", "parquet")):
        raise ImportFileError(
            f"{path.name}: cannot tell the format from the extension; use one of "
            ".csv .tsv .txt .xlsx .parquet .jsonl .ndjson (or .csv.gz, .tsv.gz, .jsonl.gz)"
        )
    return fmt, compressed


def read_source(data: bytes, path: Path, mapping: Mapping) -> SourceRows:
    """Parse the bytes of ``path`` (already read, so the checksum sees the same bytes)."""
    fmt, compressed = detect_format(path)
    if compressed:
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as exc:
            raise ImportFileError(
                f"{path.name} is not a readable gzip file ({exc}); re-export it or unzip it"
            ) from exc
    if _blank(data):
        raise ImportFileError(
            f"{path.name} is empty; export the data again (a header line and data rows)"
        )
    return _READERS[fmt](data, path, mapping)


def _blank(data: bytes) -> bool:
    # ``bytes.strip`` would copy a whole file; ``isspace`` stops at the first text.
    return not data or data.isspace()


_NEWLINES_ONLY = re.compile(rb"[\r\n]*")  # stops at the first other byte


# -- text decoding -----------------------------------------------------------------------
def detect_encoding(data: bytes, wanted: str | None) -> str:
    """The encoding to decode ``data`` with: a BOM wins, then the mapping, then a guess."""
    if data.startswith(codecs.BOM_UTF8):
        return "utf-8"
    if wanted:
        return codecs.lookup(wanted).name
    sample = data[:SAMPLE_BYTES]
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=len(data) <= SAMPLE_BYTES)
        return "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        # GB18030 is a superset of GBK and GB2312, which most Chinese POS systems write.
        codecs.getincrementaldecoder("gb18030")().decode(sample, final=len(data) <= SAMPLE_BYTES)
        return "gb18030"
    except UnicodeDecodeError:
        return "utf-8"


def to_utf8(data: bytes, encoding: str) -> tuple[bytes, bool]:
    """Transcode to UTF-8; undecodable bytes become U+FFFD (and the row is quarantined)."""
    text = data.decode(encoding, errors="replace")
    if text.startswith("\ufeff"):
        text = text[1:]
    return text.encode("utf-8"), REPLACEMENT in text


# -- CSV / TSV ---------------------------------------------------------------------------
@register("tsv")
def read_tsv(data: bytes, path: Path, mapping: Mapping) -> SourceRows:
    return _read_delimited(data, path, mapping, mapping.delimiter or "\t")


@register("csv")
def read_csv(data: bytes, path: Path, mapping: Mapping) -> SourceRows:
    return _read_delimited(data, path, mapping, mapping.delimiter or ",")


def _read_delimited(data: bytes, path: Path, mapping: Mapping, delimiter: str) -> SourceRows:
    encoding = detect_encoding(data, mapping.encoding)
    replaced = False
    # ASCII is valid UTF-8, and ``isascii`` is far cheaper than decoding a copy.
    if encoding != "utf-8" or not (data.isascii() or _valid_utf8(data)):
        data, replaced = to_utf8(data, encoding)
    elif data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    if b"\n" not in data and b"\r" in data:  # classic Mac line ends
        data = data.replace(b"\r", b"\n")
    header_end = data.find(b"\n")
    header_bytes = data if header_end < 0 else data[:header_end]
    header = _split_header(header_bytes, delimiter, path)
    # The body is not sliced off: a copy of a 1 GB file costs ~0.3 s.
    rows = _parse_body(data, len(data) if header_end < 0 else header_end + 1, header, delimiter)
    return SourceRows(
        format="csv",
        header=header,
        data=rows.table,
        malformed=rows.malformed,
        delimiter=delimiter,
        encoding=encoding,
        replaced=replaced,
        padded=padded_columns(rows.table),
    )


def padded_columns(table: pa.Table) -> frozenset[str]:
    """Columns with a value whose first or last byte may be white space.

    White space (and every control character) is a byte <= 0x20 in UTF-8, and a
    value's first and last bytes sit next to the boundaries in the Arrow offsets,
    so two gathers per column answer it: ~40 ms per 10M values, where testing
    every value in the engine costs ~10 times more. The test is generous (an empty
    value counts its neighbour's first byte), never short.
    """
    padded = {name for name in table.column_names if not pa.types.is_string(table[name].type)}
    work = [
        (name, chunk)
        for name in table.column_names
        if name not in padded
        for chunk in table[name].chunks
        if len(chunk)
    ]
    # numpy releases the GIL while gathering, so the chunks are checked in threads.
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        found = pool.map(lambda item: _chunk_padded(item[1]), work)
        padded.update(name for (name, _), hit in zip(work, found, strict=True) if hit)
    return frozenset(padded)


def _chunk_padded(chunk: pa.StringArray) -> bool:
    offsets = np.frombuffer(chunk.buffers()[1], dtype=np.int32)[
        chunk.offset : chunk.offset + len(chunk) + 1
    ]
    data_buffer = chunk.buffers()[2]
    if data_buffer is None or offsets[-1] == offsets[0]:
        return False  # all values empty
    data = np.frombuffer(data_buffer, dtype=np.uint8)
    starts = np.minimum(offsets[:-1], offsets[-1] - 1)
    ends = np.maximum(offsets[1:] - 1, offsets[0])
    return bool((data[starts] <= 0x20).any() or (data[ends] <= 0x20).any())


def _valid_utf8(data: bytes) -> bool:
    # Validating the whole buffer in C is far cheaper than letting the parser fail late.
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _split_header(header_bytes: bytes, delimiter: str, path: Path) -> list[str]:
    text = header_bytes.decode("utf-8", errors="replace").rstrip("\r")
    if not text.strip():
        raise ImportFileError(
            f"{path.name}: the first line is empty; it must hold the column names"
        )
    fields = next(csv.reader([text], delimiter=delimiter))
    return [f.strip() for f in fields]


@dataclass
class _Parsed:
    table: pa.Table
    malformed: list[Malformed]


def _options(n: int, delimiter: str, threads: bool, handler: Any) -> dict[str, Any]:
    names = positional(n)
    return {
        "read_options": pacsv.ReadOptions(
            column_names=names, use_threads=threads, block_size=16 << 20
        ),
        "parse_options": pacsv.ParseOptions(
            delimiter=delimiter,
            newlines_in_values=False,
            ignore_empty_lines=False,
            invalid_row_handler=handler,
        ),
        "convert_options": pacsv.ConvertOptions(
            column_types=dict.fromkeys(names, pa.string()),
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
        ),
    }


def _parse_body(data: bytes, start: int, header: list[str], delimiter: str) -> _Parsed:
    """Fast path: multi-threaded Arrow parse; exact line numbers only if nothing odd.

    The body is ``data[start:]``.
    """
    n = len(header)
    names = positional(n)
    if _NEWLINES_ONLY.fullmatch(data, start):
        empty = pa.table(
            {**{c: pa.array([], pa.string()) for c in names}, "_line": pa.array([], pa.int64())}
        )
        return _Parsed(empty, [])
    lines = data.count(b"\n", start) + (0 if data.endswith(b"\n") else 1)
    oddities: list[str] = []

    def note(row: Any) -> str:
        oddities.append(row.text)
        return "skip"

    try:
        body = pa.py_buffer(data).slice(start)  # zero-copy
        table = pacsv.read_csv(pa.BufferReader(body), **_options(n, delimiter, True, note))
    except pa.ArrowInvalid:
        table = None
    # Arrow reads a blank line as a row of empty fields; blank lines are not
    # records here, so a file containing any goes the line-by-line way. Searching
    # the bytes costs ~0.6 s per GB, so it is done only when some row starts with
    # an empty field, as a blank line's row does.
    blank = (
        table is not None
        and table.num_rows > 0
        and bool(pc.any(pc.equal(pc.binary_length(table.column(0)), 0)).as_py())
        and (
            data.startswith((b"\n", b"\r\n"), start)
            or data.find(b"\n\n", start) >= 0
            or data.find(b"\n\r\n", start) >= 0
        )
    )
    if table is not None and not oddities and not blank and table.num_rows == lines:
        table = table.append_column("_line", pa.array(np.arange(2, lines + 2, dtype=np.int64)))
        return _Parsed(table, [])
    return _parse_line_by_line(data[start:], n, delimiter)


def _parse_line_by_line(body: bytes, n: int, delimiter: str) -> _Parsed:
    """Slow path for files with broken rows: one record per physical line, always."""
    raw_lines = body.split(b"\n")
    if raw_lines and raw_lines[-1] == b"":
        raw_lines.pop()
    stripped = [ln[:-1] if ln.endswith(b"\r") else ln for ln in raw_lines]
    arr = pa.array(stripped, pa.large_binary())
    blank = pc.equal(pc.binary_length(arr), 0).to_numpy(zero_copy_only=False)
    quotes = pc.count_substring(arr, '"').to_numpy(zero_copy_only=False)
    odd = (quotes % 2 == 1) & ~blank
    malformed = [
        Malformed(
            int(i) + 2,
            _text(stripped[i]),
            'unbalanced quotes: close the quoted field or remove the stray " character',
        )
        for i in np.flatnonzero(odd)
    ]
    keep = np.flatnonzero(~odd & ~blank)
    kept = [stripped[i] for i in keep]
    bad: list[tuple[int, str, int]] = []

    def collect(row: Any) -> str:
        bad.append((row.number, row.text, row.actual_columns))
        return "skip"

    table: pa.Table | None
    try:
        table = pacsv.read_csv(
            pa.BufferReader(b"\n".join(kept) + b"\n"), **_options(n, delimiter, False, collect)
        )
    except pa.ArrowInvalid:
        table = None
    if table is None or table.num_rows + len(bad) != len(kept):
        # A quote in mid-field still opened a multi-line value: split each line alone.
        return _parse_with_csv_module(stripped, keep, n, delimiter, malformed)
    # ``number`` counts records from 1 for the first parsed line (no header here).
    bad_idx = np.array([b[0] - 1 for b in bad], dtype=np.int64)
    good_mask = np.ones(len(kept), dtype=bool)
    good_mask[bad_idx] = False
    table = table.append_column("_line", pa.array(keep[good_mask] + 2, pa.int64()))
    for number, text, actual in bad:
        malformed.append(Malformed(int(keep[number - 1]) + 2, text, _field_count(actual, n)))
    malformed.sort(key=lambda m: m.line)
    return _Parsed(table, malformed)


def _parse_with_csv_module(
    lines: list[bytes], keep: np.ndarray, n: int, delimiter: str, malformed: list[Malformed]
) -> _Parsed:
    columns: list[list[str]] = [[] for _ in range(n)]
    line_numbers: list[int] = []
    for i in keep:
        text = _text(lines[i])
        try:
            fields = next(csv.reader([text], delimiter=delimiter, strict=True))
        except csv.Error:
            malformed.append(
                Malformed(
                    int(i) + 2,
                    text,
                    "broken quoting: a quoted field "
                    "must end with a quote before the next delimiter",
                )
            )
            continue
        if len(fields) != n:
            malformed.append(Malformed(int(i) + 2, text, _field_count(len(fields), n)))
            continue
        for col, value in zip(columns, fields, strict=True):
            col.append(value)
        line_numbers.append(int(i) + 2)
    table = pa.table(
        {
            **{f"_c{j}": pa.array(c, pa.string()) for j, c in enumerate(columns)},
            "_line": pa.array(line_numbers, pa.int64()),
        }
    )
    malformed.sort(key=lambda m: m.line)
    return _Parsed(table, malformed)


def _field_count(actual: int, expected: int) -> str:
    return (
        f"line has {actual} field{'s' if actual != 1 else ''} but the header has {expected}: "
        "check the delimiter and quotes, or remove the extra values"
    )


def _text(raw: bytes) -> str:
    return raw.decode("utf-8", errors="replace")


# -- XLSX --------------------------------------------------------------------------------
@register("xlsx")
def read_xlsx(data: bytes, path: Path, mapping: Mapping) -> SourceRows:
    import zipfile

    from openpyxl import load_workbook

    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise ImportFileError(
            f"{path.name} is not a readable Excel workbook ({exc}); save it again as .xlsx"
        ) from exc
    try:
        if mapping.sheet is not None:
            if mapping.sheet not in wb.sheetnames:
                raise ImportFileError(
                    f"{path.name} has no sheet {mapping.sheet!r}; sheets are: "
                    + ", ".join(wb.sheetnames)
                )
            ws = wb[mapping.sheet]
        else:
            ws = wb.worksheets[0]
        # openpyxl yields Python objects per cell; there is no columnar reader for
        # .xlsx, and sheets are capped at ~1M rows, so this loop is bounded.
        rows = ws.iter_rows(values_only=True)
        header_row = next(rows, None)
        if header_row is None or all(v is None for v in header_row):
            raise ImportFileError(f"{path.name}: the first sheet row must hold the column names")
        header = [_cell(v).strip() for v in header_row]
        while header and header[-1] == "":
            header.pop()
        n = len(header)
        columns: list[list[str]] = [[] for _ in range(n)]
        line_numbers: list[int] = []
        malformed: list[Malformed] = []
        for number, row in enumerate(rows, start=2):
            values = [_cell(v) for v in row]
            if all(v == "" for v in values):
                continue
            extra = [v for v in values[n:] if v != ""]
            if extra:
                malformed.append(Malformed(number, _join(values), _field_count(len(values), n)))
                continue
            values = (values + [""] * n)[:n]
            for col, value in zip(columns, values, strict=True):
                col.append(value)
            line_numbers.append(number)
    finally:
        wb.close()
    table = pa.table(
        {
            **{f"_c{j}": pa.array(c, pa.string()) for j, c in enumerate(columns)},
            "_line": pa.array(line_numbers, pa.int64()),
        }
    )
    return SourceRows("xlsx", header, table, malformed)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


def _join(values: Sequence[str]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="").writerow(values)
    return buf.getvalue()


# -- Parquet -----------------------------------------------------------------------------
@register("parquet")
def read_parquet(data: bytes, path: Path, mapping: Mapping) -> SourceRows:
    import pyarrow.parquet as pq

    try:
        source = pq.read_table(pa.BufferReader(data))
    except (pa.ArrowInvalid, OSError) as exc:
        raise ImportFileError(
            f"{path.name} is not a readable Parquet file ({exc}); write it again"
        ) from exc
    header = list(source.column_names)
    cols = {f"_c{j}": _as_strings(source.column(j)) for j in range(len(header))}
    cols["_line"] = pa.array(np.arange(1, source.num_rows + 1, dtype=np.int64))
    return SourceRows("parquet", header, pa.table(cols))


def _as_strings(column: pa.ChunkedArray) -> pa.ChunkedArray:
    t = column.type
    if pa.types.is_timestamp(t) and t.tz is not None:
        column = pc.cast(column, pa.timestamp(t.unit, "UTC"))
        text = pc.strftime(column, format="%Y-%m-%d %H:%M:%S", timezone="UTC")
        text = pc.binary_join_element_wise(text, pa.scalar("+00:00"), "")
    elif pa.types.is_timestamp(t):
        text = pc.strftime(column, format="%Y-%m-%d %H:%M:%S")
    elif pa.types.is_nested(t):
        text = pa.chunked_array(
            [
                pa.array(
                    [
                        None if v is None else json.dumps(v, ensure_ascii=False, default=str)
                        for v in column.to_pylist()
                    ],
                    pa.string(),
                )
            ]
        )
    elif pa.types.is_boolean(t):
        text = pc.if_else(column, "true", "false")
    else:
        text = pc.cast(column, pa.string())
    return pc.fill_null(text, "")


# -- JSON Lines --------------------------------------------------------------------------
@register("jsonl")
def read_jsonl(data: bytes, path: Path, mapping: Mapping) -> SourceRows:
    encoding = detect_encoding(data, mapping.encoding)
    text = data.decode(encoding, errors="replace").removeprefix("\ufeff")
    header: dict[str, int] = {}
    records: list[tuple[int, dict[str, Any], str]] = []
    malformed: list[Malformed] = []
    # JSON objects have no fixed layout, so each line is decoded on its own; a bad
    # line then costs one record, not the whole file.
    for number, line in enumerate(text.split("\n"), start=1):
        line = line.rstrip("\r")
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except ValueError as exc:
            malformed.append(Malformed(number, line, f"not valid JSON ({exc.args[0]})"))
            continue
        if not isinstance(obj, dict):
            malformed.append(Malformed(number, line, "a line must hold one JSON object {...}"))
            continue
        for key in obj:
            header.setdefault(str(key), len(header))
        records.append((number, obj, line))
    names = list(header)
    columns: list[list[str]] = [[] for _ in names]
    for _, obj, _ in records:
        for j, name in enumerate(names):
            columns[j].append(_json_value(obj.get(name)))
    table = pa.table(
        {
            **{f"_c{j}": pa.array(c, pa.string()) for j, c in enumerate(columns)},
            "_line": pa.array([r[0] for r in records], pa.int64()),
            "_raw": pa.array([r[2] for r in records], pa.string()),
        }
    )
    return SourceRows(
        "jsonl", names, table, malformed, encoding=encoding, replaced=REPLACEMENT in text
    )


def _json_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)
