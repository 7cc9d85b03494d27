"""Every reader, on DuckDB: CSV/TSV/GBK/BOM/gzip, XLSX, Parquet, JSON Lines, bad lines."""

from __future__ import annotations

import gzip
import json
from datetime import date, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from openpyxl import Workbook

from storeops.ingest import import_file
from storeops.workspace import Workspace

from .helpers import counts, rows, write

STORES = "store_id,name,city,opened_on\nS1,人民广场店,上海,2020-05-01\nS2,天河店,广州,\n"


def _names(ws: Workspace) -> list[tuple[object, object]]:
    return [(r["store_id"], r["name"]) for r in rows(ws, "stores", "store_id")]


def test_csv_utf8_with_bom(duckdb_workspace: Workspace, tmp_path: Path) -> None:
    path = write(tmp_path, "stores.csv", "\ufeff" + STORES)
    assert counts(import_file(duckdb_workspace, "stores", path)) == (2, 2, 0, 0)
    assert _names(duckdb_workspace) == [("S1", "人民广场店"), ("S2", "天河店")]
    assert rows(duckdb_workspace, "stores", "store_id")[0]["opened_on"] == date(2020, 5, 1)


def test_csv_gbk_detected(duckdb_workspace: Workspace, tmp_path: Path) -> None:
    path = write(tmp_path, "stores.csv", STORES, encoding="gbk")
    assert counts(import_file(duckdb_workspace, "stores", path)) == (2, 2, 0, 0)
    assert _names(duckdb_workspace) == [("S1", "人民广场店"), ("S2", "天河店")]


def test_tsv_and_gzip(duckdb_workspace: Workspace, tmp_path: Path) -> None:
    tsv = write(tmp_path, "stores.tsv", STORES.replace(",", "\t"))
    assert counts(import_file(duckdb_workspace, "stores", tsv)) == (2, 2, 0, 0)
    gz = tmp_path / "more.csv.gz"
    gz.write_bytes(gzip.compress(b"store_id,name\nS3,Three\nS1,again\n"))
    assert counts(import_file(duckdb_workspace, "stores", gz)) == (2, 1, 1, 0)


def test_xlsx(duckdb_workspace: Workspace, tmp_path: Path) -> None:
    wb = Workbook()
    sheet = wb.active
    assert sheet is not None
    sheet.append(["store_id", "name", "area_m2", "opened_on"])
    sheet.append(["S1", "One", 120.5, datetime(2021, 3, 4)])
    sheet.append([None, None, None, None])  # blank row: not a record
    sheet.append(["S2", "Two", "big", None])
    path = tmp_path / "stores.xlsx"
    wb.save(path)
    result = import_file(duckdb_workspace, "stores", path)
    assert counts(result) == (2, 1, 0, 1)
    assert result.first_errors == ['line 4: area_m2: "big" is not a number']
    stored = rows(duckdb_workspace, "stores", "store_id")
    assert (stored[0]["area_m2"], stored[0]["opened_on"]) == (120.5, date(2021, 3, 4))


def test_parquet(duckdb_workspace: Workspace, tmp_path: Path) -> None:
    table = pa.table(
        {
            "store_id": ["S1", "S2", "S3"],
            "name": ["One", None, "Three"],
            "area_m2": [10.0, 20.0, -1.0],
        }
    )
    path = tmp_path / "stores.parquet"
    pq.write_table(table, path)
    result = import_file(duckdb_workspace, "stores", path)
    assert counts(result) == (3, 1, 0, 2)
    assert result.first_errors == [
        "line 2: name is required but empty",
        'line 3: area_m2: "-1" is below the minimum 0',
    ]


def test_jsonl_events(duckdb_workspace: Workspace, tmp_path: Path) -> None:
    lines = [
        {
            "message_id": "m1",
            "type": "track",
            "event": "Order Completed",
            "ts": "2025-11-11T00:00:01Z",
            "properties": {"total": 99},
        },
        {"message_id": "m2", "type": "page", "ts": "2025-11-11 08:00:00"},
    ]
    text = "\n".join(json.dumps(x, ensure_ascii=False) for x in lines)
    text += "\n{broken json\n[1, 2]\n\n"
    path = write(tmp_path, "events.jsonl", text)
    result = import_file(duckdb_workspace, "events", path)
    assert counts(result) == (4, 2, 0, 2)
    assert [e.split(":")[0] for e in result.first_errors] == ["line 3", "line 4"]
    stored = rows(duckdb_workspace, "events", "message_id")
    assert stored[0]["ts"] == datetime(2025, 11, 11, 0, 0, 1)
    assert stored[1]["ts"] == datetime(2025, 11, 11, 0, 0)  # 08:00 Shanghai
    assert json.loads(str(stored[0]["properties"])) == {"total": 99}
    assert stored[0]["source_id"] == "import"


def test_malformed_csv_lines_keep_raw_text(duckdb_workspace: Workspace, tmp_path: Path) -> None:
    text = (
        "store_id,name\r\n"
        "S1,One\r\n"
        'S2,"Two\r\n'  # broken quote: must not swallow the next line
        "S3,Three,extra\r\n"  # too many fields
        "\r\n"  # blank line: not a record
        "S4\r\n"  # too few fields
        "S5,Five\r\n"
    )
    path = write(tmp_path, "stores.csv", text)
    result = import_file(duckdb_workspace, "stores", path)
    assert counts(result) == (5, 2, 0, 3)
    quarantined = rows(duckdb_workspace, "quarantine", "line")
    assert [(q["line"], q["raw"]) for q in quarantined] == [
        (3, 'S2,"Two'),
        (4, "S3,Three,extra"),
        (6, "S4"),
    ]
    assert "unbalanced quotes" in str(quarantined[0]["reason"])
    assert str(quarantined[1]["reason"]).startswith("line has 3 fields but the header has 2")
    assert [r["store_id"] for r in rows(duckdb_workspace, "stores", "store_id")] == ["S1", "S5"]


def test_undecodable_bytes_are_quarantined(duckdb_workspace: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "stores.csv"
    path.write_bytes(b"store_id,name\nS1,One\nS2,T\xffwo\n")
    result = import_file(duckdb_workspace, "stores", path)
    assert counts(result) == (2, 1, 0, 1)
    assert "not valid" in result.first_errors[0]
