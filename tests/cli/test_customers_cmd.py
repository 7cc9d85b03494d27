"""``storeops customers link|resolve|merge|unmerge`` end to end on a workspace."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from tests.analytics.builders import add_rows, order
from typer.testing import CliRunner

from storeops.analytics.purchases import purchases
from storeops.cli.main import app
from storeops.privacy.crypto import generate_key, generate_keyring
from storeops.workspace import Workspace

runner = CliRunner()
PHONES = ["13912345678", "13698765432", "13511112222"]


@pytest.fixture
def ws(duckdb_workspace: Workspace, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Workspace:
    monkeypatch.setenv("STOREOPS_ENCRYPTION_KEY", generate_keyring())
    monkeypatch.setenv("STOREOPS_BLIND_INDEX_KEY", generate_key())
    (tmp_path / "crm.csv").write_text(
        "record_id,phone,email\n"
        "CRM1,+86 139 1234 5678,li@example.com\n"
        "CRM2,136-9876-5432,\n"
        "CRM3,13800138000,wang@example.com\n",  # blocked test number
        encoding="utf-8",
    )
    (tmp_path / "pos.csv").write_text(
        "record_id,phone,member_card\nM001,13912345678,c001\nM002,13511112222,c002\nM003,,c003\n",
        encoding="utf-8",
    )
    (tmp_path / "app.csv").write_text(
        "record_id,member_card,user_id\nU1,C001,u1\nU9,,u9\n", encoding="utf-8"
    )
    return duckdb_workspace


def invoke(*args: str) -> dict:  # type: ignore[type-arg]
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def test_link_resolve_and_match_rates(ws: Workspace, tmp_path: Path) -> None:
    w = ["--workspace", str(ws.root)]
    crm = invoke("customers", "link", str(tmp_path / "crm.csv"), "--source", "crm", *w)
    assert crm["added"] == 4 and crm["dropped"] == {"phone": 1, "email": 0}
    again = invoke("customers", "link", str(tmp_path / "crm.csv"), "--source", "crm", *w)
    assert again["added"] == 0 and again["already_known"] == 4
    invoke("customers", "link", str(tmp_path / "pos.csv"), "--source", "pos", *w)
    invoke("customers", "link", str(tmp_path / "app.csv"), "--source", "app", *w)
    report = invoke("customers", "resolve", *w)
    # CRM1+M001+U1 (phone, then card) are one person; the others stand alone.
    assert report["records"] == 8 and report["customers"] == 6
    assert report["match_rates"]["crm"] == {"app": round(1 / 3, 4), "pos": round(1 / 3, 4)}
    assert report["match_rates"]["pos"]["crm"] == round(1 / 3, 4)

    # No phone number or e-mail is stored in clear anywhere in the workspace.
    for path in ws.root.rglob("*"):
        if path.is_file():
            blob = path.read_bytes()
            for secret in (*PHONES, "li@example.com"):
                assert secret.encode() not in blob, f"{secret} found in {path}"


def test_orders_follow_merges_and_unmerges(ws: Workspace, tmp_path: Path) -> None:
    w = ["--workspace", str(ws.root)]
    for name in ("crm", "pos", "app"):
        invoke("customers", "link", str(tmp_path / f"{name}.csv"), "--source", name, *w)
    with ws.warehouse() as wh:
        add_rows(wh, "stores", [{"store_id": "S1", "name": "A", "timezone": "Asia/Shanghai"}])
        add_rows(
            wh,
            "orders",
            [
                order("o1", "M001", "2026-01-05 03:00", 100),
                order("o2", "U1", "2026-01-06 03:00", 200),
                order("o3", "M003", "2026-01-07 03:00", 300),
            ],
        )
    invoke("customers", "resolve", *w)

    def owners() -> dict[str, str]:
        with ws.warehouse() as wh:
            df = wh.to_pandas(purchases(wh).select("order_id", "customer_id"))
        return dict(zip(df["order_id"], df["customer_id"], strict=True))

    assert owners() == {"o1": "CRM1", "o2": "CRM1", "o3": "M003"}
    invoke("customers", "merge", "M003", "M001", "--reason", "same person at the till", *w)
    assert owners() == {"o1": "CRM1", "o2": "CRM1", "o3": "CRM1"}
    invoke("customers", "unmerge", "M003", "--reason", "wrong merge", *w)
    assert owners() == {"o1": "CRM1", "o2": "CRM1", "o3": "M003"}

    engine = create_engine(ws.settings.ops_url)
    with engine.connect() as con:
        actions = [r[0] for r in con.execute(text("select action from audit_log order by id"))]
    assert actions[-2:] == ["identity.merge", "identity.unmerge"]


def test_errors_say_what_to_do(
    ws: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    w = ["--workspace", str(ws.root)]
    result = runner.invoke(app, ["customers", "resolve", *w])
    assert result.exit_code == 2 and "customers link" in result.output
    invoke("customers", "link", str(tmp_path / "crm.csv"), "--source", "crm", *w)
    result = runner.invoke(app, ["customers", "merge", "CRM1", "NOPE", "--reason", "x", *w])
    assert result.exit_code == 2 and "'NOPE' has no stored identifiers" in result.output
    monkeypatch.delenv("STOREOPS_ENCRYPTION_KEY")
    result = runner.invoke(
        app, ["customers", "link", str(tmp_path / "pos.csv"), "--source", "pos", *w]
    )
    assert result.exit_code == 2 and "STOREOPS_ENCRYPTION_KEY" in result.output


def test_show_profile_tags_and_masked_identifiers(ws: Workspace, tmp_path: Path) -> None:
    w = ["--workspace", str(ws.root)]
    for name in ("crm", "pos", "app"):
        invoke("customers", "link", str(tmp_path / f"{name}.csv"), "--source", name, *w)
    with ws.warehouse() as wh:
        add_rows(wh, "stores", [{"store_id": "S1", "name": "A", "timezone": "Asia/Shanghai"}])
        add_rows(
            wh,
            "orders",
            [
                order("o1", "M001", "2026-01-05 03:00", 300000),
                order("o2", "U1", "2026-01-06 03:00", 200),
            ],
        )
    invoke("customers", "resolve", *w)
    applied = invoke("tags", "apply", *w)
    assert applied["tags"]["high_spender"] == 1
    listed = {t["name"]: t["customers"] for t in invoke("tags", "list", *w)}
    assert listed["high_spender"] == 1 and listed["one_time_buyer"] == 0
    shown = invoke("customers", "show", "CRM1", *w)
    assert shown["profile"]["orders"] == 2 and shown["profile"]["spend_fen"] == 300200
    assert "high_spender" in shown["tags"]
    values = {(r["record_id"], r["id_type"]): r["value"] for r in shown["identifiers"]}
    assert values[("CRM1", "phone")] == "139****5678"
    assert values[("CRM1", "email")] == "l***@example.com"
    assert values[("M001", "member_card")] == "C001"
    missing = runner.invoke(app, ["customers", "show", "nobody", *w])
    assert missing.exit_code == 2 and "no purchases" in missing.output
