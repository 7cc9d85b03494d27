"""mapping.toml: rename, yuan, formats, time zones, constants, auto-pickup, errors."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from storeops.errors import MappingError
from storeops.ingest import import_file
from storeops.workspace import Workspace

from .helpers import counts, rows, seed_refs, write

POS_MAPPING = """\
encoding = "gbk"
timezone = "Asia/Shanghai"

[columns]
"订单号" = "order_id"
"门店" = "store_id"
"下单时间" = "ts"
"实付金额" = "total_fen"

[formats]
ts = "%Y/%m/%d %H:%M"

[money]
total_fen = "yuan"

[constants]
channel = "store"
"""

POS_EXPORT = (
    "订单号,门店,下单时间,实付金额,备注\n"
    'P1,S1,2025/6/18 9:05,"￥1,234.56",不用\n'
    "P2,S2,2025/06/18 23:59,0.5元,\n"
    "P3,S1,2025/06/31 10:00,12,\n"
    "P4,S1,2025/06/18 10:00,12.345,\n"
    "P5,S2,2025-06-18T10:00:00+09:00,3,\n"
)


def test_chinese_pos_export_auto_mapping(workspace: Workspace, tmp_path: Path) -> None:
    seed_refs(workspace, tmp_path)
    folder = tmp_path / "pos"
    write(folder, "mapping.toml", POS_MAPPING)
    path = write(folder, "orders.csv", POS_EXPORT, encoding="gbk")
    result = import_file(workspace, "orders", path)  # mapping.toml picked up
    assert counts(result) == (5, 3, 0, 2)
    stored = rows(workspace, "orders", "order_id")
    assert [(r["order_id"], r["total_fen"], r["ts"], r["channel"]) for r in stored] == [
        ("P1", 123456, datetime(2025, 6, 18, 1, 5), "store"),
        ("P2", 50, datetime(2025, 6, 18, 15, 59), "store"),
        ("P5", 300, datetime(2025, 6, 18, 1, 0), "store"),
    ]
    assert result.first_errors[0] == (
        "line 4: ts (column '下单时间'): \"2025/06/31 10:00\" is not a valid time with "
        "format '%Y/%m/%d %H:%M'"
    )
    assert result.first_errors[1].startswith(
        "line 5: total_fen (column '实付金额'): \"12.345\" is not an amount in yuan"
    )


def test_explicit_timezone_and_offsets(duckdb_workspace: Workspace, tmp_path: Path) -> None:
    seed_refs(duckdb_workspace, tmp_path)
    folder = tmp_path / "ny"
    write(folder, "m.toml", 'timezone = "America/New_York"\n')
    path = write(
        folder,
        "orders.csv",
        "order_id,ts,total_fen\n"
        "A,2025-01-15 12:00:00,1\nB,2025-07-15 12:00:00,1\n"
        "C,2025-07-15T12:00:00+02:00,1\nD,2025-07-15T12:00:00Z,1\n",
    )
    assert counts(import_file(duckdb_workspace, "orders", path, folder / "m.toml")) == (4, 4, 0, 0)
    assert [r["ts"] for r in rows(duckdb_workspace, "orders", "order_id")] == [
        datetime(2025, 1, 15, 17),
        datetime(2025, 7, 15, 16),
        datetime(2025, 7, 15, 10),
        datetime(2025, 7, 15, 12),
    ]


@pytest.mark.parametrize(
    ("toml", "words"),
    [
        ("colums = {}\n", "colums: unknown key"),
        ('[columns]\n"x" = "nope"\n', "columns.'x' maps to 'nope'"),
        ('[money]\nname = "yuan"\n', "money.name: name is not a money column"),
        ('[money]\ntotal = "yuan"\n', "money.total is not a column of stores"),
        ('[formats]\nname = "%Y"\n', "formats.name: name is a string column"),
        ('[formats]\nopened_on = "%Q"\n', "directive '%Q' is not supported"),
        ('timezone = "Mars/Base"\n', "unknown time zone 'Mars/Base'"),
        ('encoding = "klingon"\n', "unknown encoding 'klingon'"),
        ('[columns]\n"code" = "store_id"\n', "has no column 'code'"),
        ("not toml [", "not valid UTF-8 TOML"),
    ],
)
def test_mapping_errors(duckdb_workspace: Workspace, tmp_path: Path, toml: str, words: str) -> None:
    mapping = write(tmp_path, "bad.toml", toml)
    path = write(tmp_path, "stores.csv", "store_id,name\nS1,x\n")
    with pytest.raises(MappingError, match=words.replace("(", r"\(").replace(")", r"\)")):
        import_file(duckdb_workspace, "stores", path, mapping)


def test_yuan_amounts_exact(duckdb_workspace: Workspace, tmp_path: Path) -> None:
    write(tmp_path, "mapping.toml", '[money]\nprice_fen = "yuan"\ncost_fen = "yuan"\n')
    path = write(
        tmp_path,
        "products.csv",
        "sku,name,price_fen,cost_fen\n"
        'A,a,"¥1,234.56",0.1\nB,b,19.99,¥0\nC,c,"1,000,000.07",\nD,d,1.005,\n',
    )
    result = import_file(duckdb_workspace, "products", path)
    assert counts(result) == (4, 3, 0, 1)
    assert [
        (r["sku"], r["price_fen"], r["cost_fen"]) for r in rows(duckdb_workspace, "products", "sku")
    ] == [("A", 123456, 10), ("B", 1999, 0), ("C", 100000007, None)]
