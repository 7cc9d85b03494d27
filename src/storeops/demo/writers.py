"""Source-file writers: the formats real systems export, written byte-reproducibly."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

_FIXED_ZIP_TIME = (2020, 1, 1, 0, 0, 0)
_FIXED_DOC_TIME = "2020-01-01T00:00:00Z"


def csv_bytes(table: pa.Table) -> bytes:
    buf = io.BytesIO()
    pacsv.write_csv(table, buf, pacsv.WriteOptions(quoting_style="needed"))
    return buf.getvalue()


def write_csv(
    table: pa.Table,
    path: Path,
    *,
    encoding: str = "utf-8",
    extra_lines: Sequence[str] = (),
) -> None:
    """Write ``table`` as CSV; ``extra_lines`` (already CSV text) are appended verbatim."""
    path.parent.mkdir(parents=True, exist_ok=True)
    data = csv_bytes(table)
    if extra_lines:
        data += "".join(line + "\n" for line in extra_lines).encode("utf-8")
    if encoding.lower().replace("-", "") not in ("utf8",):
        data = data.decode("utf-8").encode(encoding)
    path.write_bytes(data)


def write_parquet(table: pa.Table, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path, compression="zstd")


def write_jsonl(chunks: Iterable[pa.Array | Sequence[str]], path: Path) -> None:
    """Append pre-serialised JSON lines chunk by chunk (memory stays one chunk)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as fh:
        for chunk in chunks:
            if isinstance(chunk, pa.Array | pa.ChunkedArray):
                fh.write(_joined_lines(chunk))
            else:
                fh.write("".join(line + "\n" for line in chunk).encode("utf-8"))


def _joined_lines(values: pa.Array | pa.ChunkedArray) -> memoryview:
    """All values, each followed by a newline, straight from the Arrow data buffer."""
    with_nl = pc.binary_join_element_wise(values, "\n", "")
    if isinstance(with_nl, pa.ChunkedArray):
        with_nl = with_nl.combine_chunks()
    arr = with_nl.cast(pa.large_string())
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int64)[
        arr.offset : arr.offset + len(arr) + 1
    ]
    data = arr.buffers()[2]
    if data is None:
        return memoryview(b"")
    return memoryview(data)[int(offsets[0]) : int(offsets[-1])]


def write_xlsx(
    header: Sequence[str], rows: Iterable[Sequence[Any]], path: Path, sheet: str = "Sheet1"
) -> None:
    """Write a one-sheet workbook, then pin its timestamps so the bytes are reproducible."""
    from openpyxl import Workbook

    path.parent.mkdir(parents=True, exist_ok=True)
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(sheet)
    ws.append(list(header))
    for row in rows:
        ws.append(list(row))
    buf = io.BytesIO()
    wb.save(buf)
    path.write_bytes(_normalise_xlsx(buf.getvalue()))


def _normalise_xlsx(data: bytes) -> bytes:
    """openpyxl stamps the save time into docProps/core.xml and every zip entry."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            content = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                text = content.decode("utf-8")
                text = re.sub(
                    r"(<dcterms:(created|modified)[^>]*>)[^<]*(</dcterms:\2>)",
                    rf"\g<1>{_FIXED_DOC_TIME}\g<3>",
                    text,
                )
                content = text.encode("utf-8")
            fixed = zipfile.ZipInfo(info.filename, date_time=_FIXED_ZIP_TIME)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = info.external_attr
            dst.writestr(fixed, content)
    return out.getvalue()


def write_text(text: str, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def yuan_text(fen: pa.Array, symbol: str = "￥") -> list[str]:
    """Money as a POS prints it: ``￥1,234.56`` (fullwidth yen, the GBK-safe form)."""
    return [f"{symbol}{v // 100:,}.{v % 100:02d}" for v in fen.to_numpy(zero_copy_only=False)]
