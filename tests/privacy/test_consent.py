"""Consent per purpose with history; the check at send time."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import Engine

from storeops.privacy.consent import ConsentError, give, has_consent, history, withdraw

T = datetime(2026, 3, 1, 10, 0)


def test_give_withdraw_give_again(ops_engine: Engine) -> None:
    assert not has_consent(ops_engine, "C1", "marketing", T)
    assert give(ops_engine, "C1", "marketing", source="mini_program", at=T)
    assert not give(ops_engine, "C1", "marketing", source="store", at=T + timedelta(hours=1))
    assert has_consent(ops_engine, "C1", "marketing", T + timedelta(days=1))
    assert not has_consent(ops_engine, "C1", "marketing", T - timedelta(seconds=1))
    assert not has_consent(ops_engine, "C1", "sensitive_data", T + timedelta(days=1))
    assert withdraw(ops_engine, "C1", "marketing", source="mini_program", at=T + timedelta(days=2))
    assert not withdraw(ops_engine, "C1", "marketing", source="x", at=T + timedelta(days=3))
    # At send time after the withdrawal: no consent. Before it: there was.
    assert not has_consent(ops_engine, "C1", "marketing", T + timedelta(days=2))
    assert has_consent(ops_engine, "C1", "marketing", T + timedelta(days=1, hours=23))
    give(ops_engine, "C1", "marketing", source="store", at=T + timedelta(days=5))
    assert [(h["withdrawn_at"] is None, h["source"]) for h in history(ops_engine, "C1")] == [
        (False, "mini_program"),
        (True, "store"),
    ]
    with pytest.raises(ConsentError, match="unknown consent purpose"):
        give(ops_engine, "C1", "spam", source="x")
