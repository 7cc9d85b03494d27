"""Key rotation re-encrypts every sealed field under the new key and loses nothing."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, insert, select
from typer.testing import CliRunner

from storeops.cli.main import app
from storeops.loyalty.members import PiiKeys, enrol, member_view
from storeops.opsdb.tables import identifiers
from storeops.privacy.crypto import BlindIndex, FieldCipher, generate_key
from storeops.privacy.rotation import rotate
from storeops.workspace import init_workspace

OLD, NEW = f"old:{generate_key()}", f"new:{generate_key()}"


def test_rotate_reseals_with_the_current_key(ops_engine: Engine) -> None:
    old = FieldCipher(OLD)
    index = BlindIndex(b"i" * 32)
    enrol(ops_engine, "M1", phone="13912345678", keys=PiiKeys(old, index))
    enrol(ops_engine, "M2", wechat_id="wx_zyxwvuts", keys=PiiKeys(old, index))
    with ops_engine.begin() as con:
        con.execute(insert(identifiers).values(
            source="pos", record_id="r1", id_type="email", blind_index="x",
            value_enc=old.encrypt("li@example.com", purpose="identifier:email"),
            created_at=datetime(2026, 1, 1),
        ))  # fmt: skip
    ring = FieldCipher(f"{NEW},{OLD}")  # the new key first, the old one still readable
    assert rotate(ops_engine, ring, batch=1) == {
        "identifiers.value_enc": 1,
        "members.phone_enc": 1,
        "members.wechat_enc": 1,
    }
    assert rotate(ops_engine, ring) == dict.fromkeys(
        ("identifiers.value_enc", "members.phone_enc", "members.wechat_enc"), 0
    )
    new_only = PiiKeys(FieldCipher(NEW), index)
    assert member_view(ops_engine, "M1", keys=new_only, reveal=True)["phone"] == "13912345678"
    assert member_view(ops_engine, "M2", keys=new_only, reveal=True)["wechat"] == "wx_zyxwvuts"
    with ops_engine.connect() as con:
        token = con.execute(select(identifiers.c.value_enc)).scalar_one()
    assert FieldCipher(NEW).decrypt(token, purpose="identifier:email") == "li@example.com"


def test_keys_rotate_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ws = init_workspace(tmp_path / "ws")
    index = BlindIndex(b"i" * 32)
    enrol(ws.ops_engine(), "M1", phone="13912345678", keys=PiiKeys(FieldCipher(OLD), index))
    monkeypatch.setenv("STOREOPS_ENCRYPTION_KEY", f"{NEW},{OLD}")
    out = CliRunner().invoke(app, ["keys", "rotate", "-w", str(ws.root), "--json"])
    assert out.exit_code == 0, out.output
    assert json.loads(out.stdout)["members.phone_enc"] == 1
    monkeypatch.delenv("STOREOPS_ENCRYPTION_KEY")
    missing = CliRunner().invoke(app, ["keys", "rotate", "-w", str(ws.root)])
    assert missing.exit_code == 2 and "STOREOPS_ENCRYPTION_KEY" in missing.output
