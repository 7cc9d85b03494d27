"""privacy export / delete: a person's data handed over, then erased everywhere (ops
database, warehouse, spool, quarantine, outbox, logs) with the ledger kept balanced."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select
from tests.analytics.builders import add_rows, order
from typer.testing import CliRunner

from storeops.cli.main import app
from storeops.identity.service import link_file
from storeops.loyalty import PointsLedger, StoredValue, trial_balance
from storeops.loyalty.members import PiiKeys, enrol
from storeops.opsdb import audit
from storeops.opsdb.ledger_tables import ledger_entries, members
from storeops.privacy.consent import give
from storeops.privacy.crypto import blind_index_from, cipher_from, generate_key, generate_keyring
from storeops.privacy.subject import SubjectError, delete_subject, export_subject, scan
from storeops.workspace import Workspace, init_workspace, open_workspace

PHONE, WECHAT = "13912345678", "wx_person_0001"
OTHER_PHONE = "13698765432"


@pytest.fixture
def ws(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    monkeypatch.setenv("STOREOPS_ENCRYPTION_KEY", generate_keyring())
    monkeypatch.setenv("STOREOPS_BLIND_INDEX_KEY", generate_key())
    init_workspace(tmp_path / "ws")
    workspace = open_workspace(tmp_path / "ws")
    crm = tmp_path / "crm.csv"
    crm.write_text(
        f"record_id,phone,wechat_unionid\nC1,139-1234-5678,{WECHAT}\nC2,{OTHER_PHONE},\n",
        encoding="utf-8",
    )
    link_file(workspace, crm, source="crm")
    engine = workspace.ops_engine()
    keys = PiiKeys(cipher_from(workspace.settings), blind_index_from(workspace.settings))
    enrol(engine, "M1", customer_id="C1", phone=PHONE, wechat_id=WECHAT, keys=keys)
    enrol(engine, "M2", customer_id="C2", phone=OTHER_PHONE, keys=keys)
    PointsLedger(engine).earn("M1", 300, key="e1", reference="O1")
    StoredValue(engine).top_up("M1", 50_000, key="t1")
    give(engine, "C1", "marketing", source="store")
    with engine.begin() as con:  # a careless note in an audit detail
        audit(con, actor="clerk", action="note", target="C1", detail={"note": f"call {PHONE}"})
    with workspace.warehouse() as wh:
        add_rows(wh, "orders", [order("O1", "C1", "2026-03-01 10:00", 30_000)])
        add_rows(wh, "quarantine", [{
            "load_id": "L1", "kind": "customers", "file_name": "crm.csv", "line": 7,
            "raw": f"C1,+86 {PHONE},bad-date", "reason": "bad date",
            "created_at": datetime(2026, 3, 1),
        }])  # fmt: skip
        add_rows(wh, "events", [{
            "source_id": "app", "message_id": "m1", "type": "track", "event": "Signed Up",
            "user_id": "C1", "ts": datetime(2026, 3, 1),
            "properties": json.dumps({"wechat": WECHAT, "other": OTHER_PHONE}),
        }])  # fmt: skip
    (workspace.root / "spool" / "seg-000001.jsonl").write_text(
        json.dumps({"batch": [{"userId": "C1", "traits": {"phone": PHONE}}]}) + "\n"
    )
    (workspace.root / "outbox" / "sms-1.json").write_text(json.dumps({"to": PHONE}))
    (workspace.root / "serve.log").write_text(f"lookup wechat={WECHAT}\n")
    return workspace


def test_export_hands_over_everything(ws: Workspace) -> None:
    out = export_subject(ws, "C1")
    assert {(i["id_type"], i["value"]) for i in out["identifiers"]} == {
        ("phone", PHONE),
        ("wechat_unionid", WECHAT),
    }
    (member,) = out["members"]
    assert (member["profile"]["phone"], member["profile"]["wechat"]) == (PHONE, WECHAT)
    assert member["balances"] == {"points": 300, "stored_value": 55_000}
    assert [t["kind"] for t in member["ledger"]] == ["points_earn", "sv_top_up"]
    assert out["consents"][0]["purpose"] == "marketing"
    assert [o["order_id"] for o in out["orders"]] == ["O1"]
    with pytest.raises(SubjectError, match="no customer or member"):
        export_subject(ws, "C404")


def test_delete_erases_everywhere_and_keeps_the_books(ws: Workspace) -> None:
    before = scan(ws, {PHONE, WECHAT})
    assert before["ops_database"] >= 1 and before["warehouse"] == 2 and before["files"] == 3
    engine = ws.ops_engine()
    with engine.connect() as con:
        entries = con.execute(select(func.count()).select_from(ledger_entries)).scalar()
    books = trial_balance(engine)

    report = delete_subject(ws, "C1", actor="dpo")
    assert report["remaining"] == {"ops_database": 0, "warehouse": 0, "files": 0}
    assert report["identifiers_deleted"] == 2 and report["members_erased"] == 1
    assert scan(ws, {PHONE, WECHAT}) == {"ops_database": 0, "warehouse": 0, "files": 0}
    # The books are untouched: same entries, same trial balance, balances kept.
    with engine.connect() as con:
        assert con.execute(select(func.count()).select_from(ledger_entries)).scalar() == entries
        status = con.execute(select(members.c.status).where(members.c.member_id == "M1"))
        assert status.scalar_one() == "erased"
    assert trial_balance(engine) == books
    assert PointsLedger(engine).balance("M1") == 300
    # The other customer keeps their data.
    assert scan(ws, {OTHER_PHONE})["ops_database"] == 0  # encrypted, never in clear
    assert scan(ws, {OTHER_PHONE})["warehouse"] == 1
    assert export_subject(ws, "C2")["identifiers"][0]["value"] == OTHER_PHONE
    # The spool line is still valid JSON (masked with as many characters).
    json.loads((ws.root / "spool" / "seg-000001.jsonl").read_text())


def test_privacy_commands(ws: Workspace) -> None:
    runner = CliRunner()
    root = str(ws.root)
    exported = runner.invoke(app, ["privacy", "export", "C1", "-w", root])
    assert exported.exit_code == 0, exported.output
    assert json.loads(exported.stdout)["customer_id"] == "C1"
    refused = runner.invoke(app, ["privacy", "delete", "C1", "-w", root])
    assert refused.exit_code == 2 and "--yes" in refused.output
    done = runner.invoke(app, ["privacy", "delete", "C1", "--yes", "-w", root, "--json"])
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout)["remaining"] == {"ops_database": 0, "warehouse": 0,
                                                     "files": 0}  # fmt: skip
