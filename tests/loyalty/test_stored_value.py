"""Stored value: bonus rules, no overdraft, refunds bounded by what was spent."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from storeops.loyalty import (
    InsufficientBalanceError,
    LedgerError,
    StoredValue,
    enrol,
    trial_balance,
)
from storeops.loyalty.stored_value import DEFAULT_BONUSES, bonus_for


def test_bonus_rules() -> None:
    assert [bonus_for(a, DEFAULT_BONUSES) for a in (49_999, 50_000, 99_999, 100_000, 300_000)] == [
        0, 5_000, 5_000, 12_000, 12_000,
    ]  # fmt: skip


def test_top_up_spend_refund(ops_engine: Engine) -> None:
    enrol(ops_engine, "M1")
    sv = StoredValue(ops_engine)
    top = sv.top_up("M1", 50_000, key="t1")
    assert (top["bonus_fen"], top["balance_fen"]) == (5_000, 55_000)
    assert sv.spend("M1", 20_000, key="s1", reference="O1")["balance_fen"] == 35_000
    with pytest.raises(InsufficientBalanceError, match="below 35001"):
        sv.spend("M1", 35_001, key="s2", reference="O2")
    assert sv.balance("M1") == 35_000
    assert sv.refund("M1", 5_000, key="f1", reference="O1")["balance_fen"] == 40_000
    with pytest.raises(LedgerError, match="15000 fen that O1 spent"):
        sv.refund("M1", 15_001, key="f2", reference="O1")
    with pytest.raises(LedgerError, match="0 fen that O2"):
        sv.refund("M1", 1, key="f3", reference="O2")
    assert sv.balance("M1") == 40_000
    assert trial_balance(ops_engine) == {"stored_value": 0}
