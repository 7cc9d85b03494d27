"""Coupon-code guessing is limited per till and locks out."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from storeops.access import create_key
from storeops.api.app import create_app
from storeops.opsdb.tables import audit_log
from storeops.pos.guard import CouponGuard, TooManyAttemptsError
from storeops.workspace import Workspace


def test_guard_counts_window_and_lockout() -> None:
    now = [0.0]
    guard = CouponGuard(max_failures=3, window=60, lockout=300, clock=lambda: now[0])
    assert not guard.failed("t1") and not guard.failed("t1")
    now[0] = 61.0  # the first two fell out of the window
    assert not guard.failed("t1") and not guard.failed("t1")
    assert guard.failed("t1")  # three within 60 s
    try:
        guard.check("t1")
        raise AssertionError("locked out expected")
    except TooManyAttemptsError as exc:
        assert exc.retry_after == 301
    guard.check("t2")  # another till is not affected
    now[0] = 61.0 + 300.0
    guard.check("t1")  # lockout over


def test_guessing_over_http_gets_429(duckdb_workspace: Workspace) -> None:
    key = create_key(duckdb_workspace.ops_engine(), "till", "pos", store_id="S1")["key"]
    app = create_app(duckdb_workspace, route_modules=("storeops.api.routes.pos",))
    till = TestClient(app, headers={"Authorization": f"Bearer {key}"})
    body = {"store_id": "S1", "lines": [{"sku": "A", "unit_price_fen": 100}]}
    answers = [
        till.post("/api/pos/quote", json={**body, "coupon_codes": [f"GUESS{n:011d}"]})
        for n in range(12)
    ]
    assert [a.status_code for a in answers[:10]] == [422] * 10
    assert answers[10].status_code == 429 and int(answers[10].headers["retry-after"]) > 0
    assert till.post("/api/pos/quote", json=body).status_code == 200  # no codes: served
    with duckdb_workspace.ops_engine().connect() as con:
        actions = con.execute(select(audit_log.c.action)).scalars().all()
    assert "coupon.guessing_lockout" in actions
