"""Members: enrolment with encrypted personal data, lookup by phone, masking, tiers."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import Engine, select

from storeops.loyalty import PointsLedger, enrol
from storeops.loyalty.members import MemberError, PiiKeys, find_by_phone, member_view
from storeops.loyalty.tiers import DEFAULT_TIERS, evaluate_tiers, qualifying_tier
from storeops.opsdb.ledger_tables import members, tier_changes
from storeops.privacy.crypto import BlindIndex, FieldCipher, generate_key

KEYS = PiiKeys(FieldCipher(f"k1:{generate_key()}"), BlindIndex(b"b" * 32))
T0 = datetime(2026, 1, 1)


def test_enrol_encrypts_and_finds_by_phone(ops_engine: Engine) -> None:
    out = enrol(ops_engine, "M1", phone="+86 139-1234-5678", wechat_id="wx_abcdefgh",
                birthday=date(1990, 5, 17), store_id="S1", associate_id="S1-ST01",
                via="mini_program", keys=KEYS)  # fmt: skip
    assert out["phone"] == "***" and out["enrolled_via"] == "mini_program"
    with ops_engine.connect() as con:
        raw = str(con.execute(select(members)).all())
    assert "13912345678" not in raw and "wx_abcdefgh" not in raw
    assert find_by_phone(ops_engine, "139 1234 5678", KEYS) == "M1"
    assert find_by_phone(ops_engine, "13900000000", KEYS) is None
    masked = member_view(ops_engine, "M1", keys=KEYS)
    assert (masked["phone"], masked["wechat"]) == ("139****5678", "wx_***")
    shown = member_view(ops_engine, "M1", keys=KEYS, reveal=True)
    assert (shown["phone"], shown["birthday"]) == ("13912345678", "1990-05-17")
    # The same member again is fine; another member with that phone is not.
    assert enrol(ops_engine, "M1", phone="13912345678", keys=KEYS)["member_id"] == "M1"
    with pytest.raises(MemberError, match="already belongs to another member"):
        enrol(ops_engine, "M2", phone="13912345678", keys=KEYS)
    with pytest.raises(MemberError, match="encryption and blind-index keys"):
        enrol(ops_engine, "M3", phone="13912340000")
    with pytest.raises(MemberError, match="channel"):
        enrol(ops_engine, "M4", via="fax")


def test_tier_rules() -> None:
    assert qualifying_tier(DEFAULT_TIERS, 0, 0).name == "standard"
    assert qualifying_tier(DEFAULT_TIERS, 2_000, 0).name == "silver"
    assert qualifying_tier(DEFAULT_TIERS, 0, 2_000_000).name == "gold"
    assert qualifying_tier(DEFAULT_TIERS, 7_999, 499_999).name == "silver"


def test_tiers_follow_points_earned_not_spent(ops_engine: Engine) -> None:
    for m in ("A", "B", "C"):
        enrol(ops_engine, m, at=T0)
    p = PointsLedger(ops_engine)
    p.earn("A", 9_000, key="a1", reference="O1", at=T0 + timedelta(days=10))
    p.redeem("A", 8_000, key="a2", at=T0 + timedelta(days=11))  # spending keeps the tier
    p.earn("B", 2_500, key="b1", reference="O2", at=T0 + timedelta(days=10))
    p.refund("B", order_id="O2", refund_id="R2", refund_fen=50, order_fen=100,
             at=T0 + timedelta(days=12))  # fmt: skip  # 1,250 clawed back: below silver
    as_of = T0 + timedelta(days=30)
    changes = evaluate_tiers(ops_engine, as_of, spend_fen={"C": 600_000})
    assert {(c["member_id"], c["to"]) for c in changes} == {("A", "gold"), ("C", "silver")}
    assert evaluate_tiers(ops_engine, as_of, spend_fen={"C": 600_000}) == []
    # A quiet year later A falls back, but not before the tier was held a full window.
    assert evaluate_tiers(ops_engine, as_of + timedelta(days=200)) == []
    later = evaluate_tiers(ops_engine, as_of + timedelta(days=366))
    assert {(c["member_id"], c["from"], c["to"]) for c in later} == {
        ("A", "gold", "standard"),
        ("C", "silver", "standard"),
    }
    with ops_engine.connect() as con:
        assert len(con.execute(select(tier_changes)).all()) == 4
