"""POS sales reach the warehouse once, also when an export is interrupted."""

from __future__ import annotations

import json
import time

from fastapi.testclient import TestClient
from sqlalchemy import select, update
from typer.testing import CliRunner

from storeops.api.app import create_app
from storeops.cli.main import app
from storeops.loyalty import enrol
from storeops.opsdb.pos_tables import pos_feed
from storeops.pos.feed import export_feed
from storeops.pos.schemas import CommitRequest, RefundRequest
from storeops.pos.service import PosService
from storeops.workspace import Workspace, open_workspace

LINES = [{"sku": "A1", "unit_price_fen": 1_000, "quantity": 2},
         {"sku": "B2", "unit_price_fen": 500, "quantity": 1}]  # fmt: skip


def test_export_once(workspace: Workspace) -> None:
    engine = workspace.ops_engine()
    enrol(engine, "M1", customer_id="C-77")
    pos = PosService(engine)
    for i in (1, 2):
        pos.commit(CommitRequest(store_id="S1", order_id=f"O{i}", lines=LINES, member_id="M1"),
                   key=f"commit-{i}")  # fmt: skip
    pos.refund(RefundRequest(store_id="S1", order_id="O1", refund_id="R1", amount_fen=500),
               key="refund-1")  # fmt: skip
    with workspace.warehouse() as wh:
        assert export_feed(engine, wh) == {"orders": 2, "order_lines": 4, "refunds": 1}
        assert export_feed(engine, wh) == {"orders": 0, "order_lines": 0, "refunds": 0}
        # An export that appended but died before marking: running again adds nothing.
        with engine.begin() as con:
            con.execute(update(pos_feed).values(exported_at=None))
        assert export_feed(engine, wh) == {"orders": 0, "order_lines": 0, "refunds": 0}
        orders = wh.to_pandas(wh.table("orders")).sort_values("order_id")
        assert orders["customer_id"].tolist() == ["C-77", "C-77"]
        assert orders["total_fen"].tolist() == [2_500, 2_500]
        lines = wh.to_pandas(wh.table("order_lines"))
        assert sorted(lines["amount_fen"]) == [500, 500, 2_000, 2_000]
        assert wh.to_pandas(wh.table("refunds"))["amount_fen"].tolist() == [500]


def test_export_command(duckdb_workspace: Workspace) -> None:
    engine = duckdb_workspace.ops_engine()
    PosService(engine).commit(CommitRequest(store_id="S1", order_id="O9", lines=LINES),
                              key="commit-9")  # fmt: skip
    run = CliRunner().invoke(app, ["pos", "export", "-w", str(duckdb_workspace.root), "--json"])
    assert run.exit_code == 0, run.output
    assert json.loads(run.stdout) == {"orders": 1, "order_lines": 2, "refunds": 0}


def test_serve_exports_on_a_schedule(duckdb_workspace: Workspace) -> None:
    with (duckdb_workspace.root / "storeops.toml").open("a", encoding="utf-8") as fh:
        fh.write("pos_export_interval_seconds = 0.5\n")
    ws = open_workspace(duckdb_workspace.root)
    PosService(ws.ops_engine()).commit(
        CommitRequest(store_id="S1", order_id="O-SCHED", lines=LINES), key="commit-sched"
    )
    app = create_app(ws, route_modules=("storeops.api.routes.pos",))
    deadline = time.monotonic() + 60
    with TestClient(app):  # runs the lifespan: the export job
        while time.monotonic() < deadline:
            time.sleep(0.5)
            with ws.ops_engine().connect() as con:
                left = con.execute(
                    select(pos_feed.c.feed_id).where(pos_feed.c.exported_at.is_(None))
                ).first()
            if left is None:
                break
    assert left is None, "the scheduled export did not run"
    with ws.warehouse() as wh:
        orders = wh.to_pandas(wh.table("orders"))
    assert orders["order_id"].tolist() == ["O-SCHED"]
