"""import_file on both backends: counts, rules, duplicates, idempotency, quarantine."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

from storeops.errors import ImportFileError, MappingError, SchemaError, StoreOpsError
from storeops.ingest import export, import_file, list_loads, show
from storeops.workspace import Workspace

from .helpers import counts, rows, seed_refs, write

ORDERS = (
    "order_id,store_id,customer_id,ts,total_fen,payment\n"
    "O1,S1,C1,2025-06-18 10:00:00,12900,wechat_pay\n"  # good
    "O2,S9,,2025-06-18 10:05:00,500,cash\n"  # unknown store
    "O3,S2,,2025-06-18 10:06:00,12x.5,alipay\n"  # not a number
    "O1,S2,,2025-06-18 11:00:00,100,alipay\n"  # repeat of O1: first wins
    "O4,S2,C3,2025-06-18 12:00:00,-5,bitcoin\n"  # 3 problems
    "O5,,,2025-06-18 13:00:00,700,\n"  # online order, good
)


def test_counts_rules_and_reimport(workspace: Workspace, tmp_path: Path) -> None:
    seed_refs(workspace, tmp_path)
    path = write(tmp_path / "orders", "orders.csv", ORDERS)
    first = import_file(workspace, "orders", path)
    assert counts(first) == (6, 2, 1, 3)
    assert first.status == "loaded"
    stored = rows(workspace, "orders", "order_id")
    assert [(r["order_id"], r["store_id"], r["total_fen"]) for r in stored] == [
        ("O1", "S1", 12900),
        ("O5", None, 700),
    ]
    assert stored[0]["ts"] == datetime(2025, 6, 18, 2, 0)  # Asia/Shanghai → UTC
    assert stored[0]["channel"] == "store" and stored[0]["currency"] == "CNY"
    assert first.first_errors == [
        'line 3: store_id "S9" is not in stores: import stores first or fix the code',
        'line 4: total_fen: "12x.5" is not a whole number of fen (if the file gives yuan, '
        'set money.total_fen = "yuan" in mapping.toml)',
        'line 6: total_fen: "-5" is below the minimum 0 fen; '
        'payment: "bitcoin" is not one of: wechat_pay, alipay, cash, bank_card, stored_value, '
        "points, other; "
        'customer_id "C3" is not in customers: import customers first or fix the code',
    ]
    quarantined = rows(workspace, "quarantine", "line")
    assert [(q["line"], q["raw"]) for q in quarantined] == [
        (3, "O2,S9,,2025-06-18 10:05:00,500,cash"),
        (4, "O3,S2,,2025-06-18 10:06:00,12x.5,alipay"),
        (6, "O4,S2,C3,2025-06-18 12:00:00,-5,bitcoin"),
    ]
    record = rows(workspace, "load_records", "started_at")[-1]
    assert (record["rows_read"], record["loaded"], record["duplicates"]) == (6, 2, 1)
    assert record["quarantined"] == 3 and record["checksum"] and record["status"] == "loaded"
    assert json.loads(str(record["first_errors"])) == first.first_errors

    again = import_file(workspace, "orders", path)
    assert again.status == "already_loaded"
    assert counts(again) == (6, 0, 6, 0)
    assert again.load_id == first.load_id
    assert len(rows(workspace, "orders", "order_id")) == 2
    assert len(rows(workspace, "quarantine", "line")) == 3
    assert len(rows(workspace, "load_records", "started_at")) == 3  # stores, customers, orders


def test_cross_file_duplicates_existing_row_wins(
    duckdb_workspace: Workspace, tmp_path: Path
) -> None:
    seed_refs(duckdb_workspace, tmp_path)
    a = write(
        tmp_path,
        "a.csv",
        "order_id,store_id,ts,total_fen\nO1,S1,2025-01-01 08:00,100\nO2,S1,2025-01-01 09:00,200\n",
    )
    b = write(
        tmp_path,
        "b.csv",
        "order_id,store_id,ts,total_fen\nO2,S2,2025-01-02 08:00,999\n"
        "O3,S2,2025-01-02 09:00,300\nO3,S1,2025-01-02 10:00,301\n",
    )
    assert counts(import_file(duckdb_workspace, "orders", a)) == (2, 2, 0, 0)
    assert counts(import_file(duckdb_workspace, "orders", b)) == (3, 1, 2, 0)
    stored = rows(duckdb_workspace, "orders", "order_id")
    assert [(r["order_id"], r["total_fen"]) for r in stored] == [
        ("O1", 100),
        ("O2", 200),
        ("O3", 300),
    ]


def test_quarantine_export_fix_reimport(workspace: Workspace, tmp_path: Path) -> None:
    seed_refs(workspace, tmp_path)
    path = write(tmp_path / "orders", "orders.csv", ORDERS)
    first = import_file(workspace, "orders", path)
    with workspace.warehouse() as wh:
        assert [load["load_id"] for load in list_loads(wh)] == [first.load_id]
        assert [r.line for r in show(wh, first.load_id[:8])] == [3, 4, 6]
        exported = export(wh, first.load_id[:8])
    assert exported.parent == path.parent
    text = exported.read_text(encoding="utf-8-sig")
    assert text.splitlines() == [
        "order_id,store_id,customer_id,ts,total_fen,payment",
        "O2,S9,,2025-06-18 10:05:00,500,cash",
        "O3,S2,,2025-06-18 10:06:00,12x.5,alipay",
        "O4,S2,C3,2025-06-18 12:00:00,-5,bitcoin",
    ]
    fixed = text.replace("S9", "S1").replace("12x.5", "125").replace(",C3,", ",C2,")
    fixed = fixed.replace("-5,bitcoin", "5,alipay") + "O1,S1,C1,2025-06-18 10:00:00,12900,cash\n"
    exported.write_text(fixed, encoding="utf-8-sig")
    result = import_file(workspace, "orders", exported)
    assert counts(result) == (4, 3, 1, 0)
    assert [r["order_id"] for r in rows(workspace, "orders", "order_id")] == [
        "O1",
        "O2",
        "O3",
        "O4",
        "O5",
    ]


def test_self_file_and_empty_header_only(duckdb_workspace: Workspace, tmp_path: Path) -> None:
    only_header = write(tmp_path, "h.csv", "store_id,name\n")
    assert counts(import_file(duckdb_workspace, "stores", only_header)) == (0, 0, 0, 0)


@pytest.mark.parametrize(
    ("kind", "name", "text", "error", "words"),
    [
        ("nope", "a.csv", "a\n1\n", SchemaError, "choose one of: stores"),
        ("quarantine", "a.csv", "a\n1\n", SchemaError, "cannot import into 'quarantine'"),
        ("stores", "a.csv", "", ImportFileError, "is empty"),
        ("stores", "a.csv", "\n\n", ImportFileError, "is empty"),
        ("stores", "a.doc", "x", ImportFileError, "cannot tell the format"),
        ("stores", "a.xlsx", "not a zip", ImportFileError, "not a readable Excel"),
        ("stores", "a.parquet", "nope", ImportFileError, "not a readable Parquet"),
        ("stores", "a.csv", "code,name\nS1,x\n", MappingError, "no column for stores.store_id"),
    ],
)
def test_file_level_errors(
    duckdb_workspace: Workspace,
    tmp_path: Path,
    kind: str,
    name: str,
    text: str,
    error: type[StoreOpsError],
    words: str,
) -> None:
    path = write(tmp_path, name, text)
    with pytest.raises(error, match=words):
        import_file(duckdb_workspace, kind, path)


def test_missing_file(duckdb_workspace: Workspace, tmp_path: Path) -> None:
    with pytest.raises(ImportFileError, match="does not exist"):
        import_file(duckdb_workspace, "stores", tmp_path / "missing.csv")
