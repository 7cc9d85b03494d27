"""The importer's shortcuts change nothing: same tables, quarantine and counts.

``loader.SHORTCUTS`` (on by default) lets DuckDB materialize the checked rows once
and look up only the rejected rows' texts, checks references against the file's
unknown values instead of joining every row, and skips the de-duplication joins
when no key repeats or the table is empty. Here the same files are imported with
the shortcuts, without them (the general plan, as on Spark), with the shortcuts
but tiny list limits (so their fall-backs run), and on Spark; every result must
equal the first one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from tests.conftest import require_backend

from storeops.ingest import import_file, loader, validate
from storeops.workspace import init_workspace

from .helpers import rows, seed_refs, write

HEADER = "order_id,store_id,channel,customer_id,ts,total_fen,discount_fen,payment,status\n"
FIRST = HEADER + (
    "E1,S1,store,C1,2025-06-01 09:00:00,100,0,cash,completed\n"
    "E2,S2,store,,2025-06-01 09:30:00,200,0,alipay,completed\n"
)
# Every kind of row: good ones in several spellings, and each kind of bad one.
BODY = (
    "O1,S1,store,C1,2025-06-18 10:00:00,12900,0,wechat_pay,completed\n"  # good
    ' O2 ,\tS2 , STORE ,C2,2025-06-18T10:05:00+08:00,"¥1,234",+5,Alipay,completed\n'  # padded
    "O3,S1,store,,2025-06-18T02:06:00Z,007,-0,cash,completed\n"  # zero-padded, UTC
    "O4,S1,store,,1988-06-01 10:00,100,0,cash,completed\n"  # DST in Shanghai then
    "O5,S1,store,,2025-06-18 10:00,-5,0,cash,completed\n"  # below minimum
    "O6,S1,store,,2025-06-18 10:00,9223372036854775807,0,cash,completed\n"  # above max
    "O7,S1,store,,2025-06-18 10:00,-9223372036854775808,0,cash,completed\n"  # int64 min
    "O8,S1,store,,2025-06-18 10:00,12x.5,0,cash,completed\n"  # not a number
    "O9,S1,store,,not a time,100,0,cash,completed\n"  # bad timestamp
    ",S1,store,,2025-06-18 10:00,100,0,cash,completed\n"  # required key empty
    "O10,S1,moon,,2025-06-18 10:00,100,0,bitcoin,completed\n"  # two bad choices
    "O11,S9,store,C9,2025-06-18 10:00,100,0,cash,completed\n"  # unknown store, customer
    "O1,S2,store,,2025-06-18 11:00:00,1,0,cash,completed\n"  # repeat: first wins
    "E1,S2,store,,2025-06-18 11:00:00,1,0,cash,completed\n"  # stored: stored wins
    'O12,S1,"store,,2025-06-18 10:00,100,0,cash,completed\n'  # unbalanced quotes
    "O13,S1,store,,2025-06-18 10:00,100,0,cash,completed,extra\n"  # too many fields
    "O14,S1\n"  # too few fields
    "\n"  # blank: not a record
    "O15,S1,store,,2025-06-18 10:00:00.5,100,12,other,refunded\n"  # good
    "O16,S2,store,C1,2025-06-18 10:00:00-05:00,100,0,,\n"  # defaults
)


def _import(root: Path, backend: str, files: Path) -> dict[str, Any]:
    ws = init_workspace(root, backend=backend)
    seed_refs(ws, files / "refs")
    results = [
        import_file(ws, "orders", files / "first" / "orders.csv"),
        import_file(ws, "orders", files / "body" / "orders.csv"),
        import_file(ws, "orders", files / "bytes" / "orders.csv"),
    ]
    quarantine = rows(ws, "quarantine", "line")
    return {
        "counts": [
            (r.rows_read, r.loaded, r.duplicates, r.quarantined, r.first_errors) for r in results
        ],
        "orders": rows(ws, "orders", "order_id"),
        "quarantine": sorted(
            (str(q["file_name"]), q["line"], q["raw"], q["reason"]) for q in quarantine
        ),
    }


@pytest.fixture
def files(tmp_path: Path) -> Path:
    folder = tmp_path / "files"
    write(folder / "first", "orders.csv", FIRST)
    write(folder / "body", "orders.csv", HEADER + BODY)
    bytes_file = folder / "bytes" / "orders.csv"
    bytes_file.parent.mkdir(parents=True)
    # A byte that is not UTF-8 (the line is quarantined) among good lines.
    bytes_file.write_bytes(
        (HEADER + "B1,S1,store,,2025-06-18 10:00,100,0,cash,completed\n").encode()
        + b"B2,S1,st\xffore,,2025-06-18 10:00,100,0,cash,completed\n"
        + b"B3,S2,store,,2025-06-18 10:00,100,0,cash,completed\n"
    )
    return folder


@pytest.mark.parametrize("mode", ["general", "small_limits", "spark"])
def test_shortcuts_change_nothing(
    tmp_path: Path, files: Path, mode: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = _import(tmp_path / "fast", "duckdb", files)
    reads, loaded, duplicates, quarantined, _errors = zip(*expected["counts"], strict=True)
    assert reads == (2, 19, 3)
    assert loaded == (2, 6, 2)
    assert duplicates == (0, 2, 0)
    assert quarantined == (0, 11, 1)
    assert [o["order_id"] for o in expected["orders"]] == [
        "B1", "B3", "E1", "E2", "O1", "O15", "O16", "O2", "O3", "O4",
    ]  # fmt: skip
    assert len(expected["quarantine"]) == 12

    backend = "duckdb"
    if mode == "general":
        monkeypatch.setattr(loader, "SHORTCUTS", False)
    elif mode == "small_limits":
        monkeypatch.setattr(loader, "BAD_LINES_LISTED", 1)
        monkeypatch.setattr(validate, "UNKNOWN_LISTED", 0)
    else:
        require_backend("spark")
        backend = "spark"
    assert _import(tmp_path / mode, backend, files) == expected
