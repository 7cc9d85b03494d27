"""Rejected rows: list the loads that have some, show them, export them for fixing.

An export is a file in the layout of the original (same header, same delimiter,
the raw records), written as UTF-8 with a BOM so Excel shows Chinese text
correctly. Fix it, then ``storeops import KIND EXPORT``: the fixed rows load and
rows already stored count as duplicates. By default the export lands next to the
original file, so that folder's ``mapping.toml`` applies again.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from storeops.errors import ImportFileError
from storeops.ingest.readers import SourceRows
from storeops.warehouse.base import Warehouse

LAYOUT_FOLDER = "quarantine"


@dataclass
class QuarantinedRow:
    line: int
    raw: str
    reason: str


def layout_path(workspace: Path, load_id: str) -> Path:
    return workspace / LAYOUT_FOLDER / f"{load_id}.layout.json"


def write_layout(workspace: Path, load_id: str, file: Path, rows: SourceRows) -> None:
    """Remember the header and delimiter of a file with rejected rows (for export)."""
    target = layout_path(workspace, load_id)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(
        json.dumps(
            {
                "file": str(file.resolve()),
                "format": rows.format,
                "header": rows.header,
                "delimiter": rows.delimiter,
                "encoding": rows.encoding,
            },
            ensure_ascii=False,
        ),
        encoding="utf-8",
    )


def list_loads(warehouse: Warehouse, *, kind: str | None = None) -> list[dict[str, Any]]:
    """Loads with quarantined rows, newest first."""
    records = warehouse.table("load_records")
    expr = records.filter(records.quarantined > 0)
    if kind is not None:
        expr = expr.filter(expr.kind == kind)
    expr = expr.order_by(records.started_at.desc()).select(
        "load_id",
        "kind",
        "file_name",
        "started_at",
        "rows_read",
        "loaded",
        "duplicates",
        "quarantined",
    )
    return list(warehouse.to_pyarrow(expr).to_pylist())


def resolve_load_id(warehouse: Warehouse, load_id: str) -> str:
    """Accept a unique prefix of a load id (the first 8 characters are usually enough)."""
    records = warehouse.table("load_records")
    expr = records.filter(records.load_id.startswith(load_id)).select("load_id").limit(2)
    found = [r["load_id"] for r in warehouse.to_pyarrow(expr).to_pylist()]
    if not found:
        raise ImportFileError(
            f"no load {load_id!r}; `storeops quarantine list` shows the loads with rejected rows"
        )
    if len(found) > 1:
        raise ImportFileError(f"load id {load_id!r} is ambiguous; give more characters")
    return str(found[0])


def show(warehouse: Warehouse, load_id: str, *, limit: int | None = None) -> list[QuarantinedRow]:
    load_id = resolve_load_id(warehouse, load_id)
    q = warehouse.table("quarantine")
    expr = q.filter(q.load_id == load_id).order_by(q.line).select("line", "raw", "reason")
    if limit is not None:
        expr = expr.limit(limit)
    return [
        QuarantinedRow(int(r["line"]), r["raw"], r["reason"])
        for r in warehouse.to_pyarrow(expr).to_pylist()
    ]


def export(warehouse: Warehouse, load_id: str, output: Path | None = None) -> Path:
    """Write the rejected rows of a load in the original layout; return the file."""
    load_id = resolve_load_id(warehouse, load_id)
    rows = show(warehouse, load_id)
    if not rows:
        raise ImportFileError(f"load {load_id} has no quarantined rows to export")
    layout = _layout(warehouse, load_id)
    source = Path(layout["file"])
    jsonl = layout["format"] == "jsonl"
    if output is None:
        folder = (
            source.parent
            if source.parent.is_dir()
            else (warehouse.settings.workspace / LAYOUT_FOLDER)
        )
        base = source.name.split(".")[0]
        output = folder / f"{base}.quarantine-{load_id[:8]}.{'jsonl' if jsonl else 'csv'}"
    output.parent.mkdir(parents=True, exist_ok=True)
    if jsonl:
        text = "".join(r.raw + "\n" for r in rows)
        output.write_text(text, encoding="utf-8")
        return output
    buf = io.StringIO()
    csv.writer(buf, delimiter=layout["delimiter"], lineterminator="\n").writerow(layout["header"])
    for r in rows:
        buf.write(r.raw.replace("\r", " ").replace("\n", " ") + "\n")
    output.write_bytes(codecs.BOM_UTF8 + buf.getvalue().encode("utf-8"))
    return output


def _layout(warehouse: Warehouse, load_id: str) -> dict[str, Any]:
    path = layout_path(warehouse.settings.workspace, load_id)
    if path.is_file():
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        return data
    # Layout file lost (e.g. the quarantine folder was cleaned): fall back to the
    # canonical column names, which `storeops import` accepts without a mapping.
    records = warehouse.table("load_records")
    rec = warehouse.to_pyarrow(
        records.filter(records.load_id == load_id).select("kind", "file_name")
    ).to_pylist()[0]
    from storeops.warehouse.schema import TABLES

    return {
        "file": rec["file_name"],
        "format": "csv",
        "header": TABLES[rec["kind"]].column_names,
        "delimiter": ",",
    }
