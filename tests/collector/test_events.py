"""Per-event rules and the PII policy."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from storeops.collector._events import PiiPolicy, raw_text, shape_event
from storeops.identity.identifiers import normalize
from storeops.privacy.crypto import BlindIndex

INDEX = BlindIndex(b"k" * 32)
NOW = datetime(2026, 1, 1, tzinfo=UTC)
NOW_US = int(NOW.timestamp() * 1_000_000)
KEYS = ["phone", "mobile", "email", "e_mail"]
TRACK = {"type": "track", "userId": "u", "event": "E"}


def _shape(raw: object, policy: str = "hash", call_type: str | None = None):  # type: ignore[no-untyped-def]
    return shape_event(
        raw,
        call_type=call_type,
        received_us=NOW_US,
        policy=PiiPolicy(policy, KEYS, INDEX),
    )


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ([1, 2], "not_an_object"),
        ({"type": "click", "userId": "u"}, "bad_type"),
        ({"type": "track", "event": "E"}, "missing_identity"),
        ({"type": "track", "userId": "u"}, "missing_field"),
        ({"type": "track", "userId": "u", "event": "E", "properties": [1]}, "bad_field"),
        ({"type": "identify", "userId": "u", "traits": "gold"}, "bad_field"),
        ({"type": "group", "userId": "u"}, "missing_field"),
        ({"type": "alias", "userId": "u"}, "missing_field"),
        ({"type": "track", "userId": "u", "event": "E", "messageId": 7}, "bad_message_id"),
        ({"type": "track", "userId": {"a": 1}, "event": "E"}, "bad_field"),
        ({"type": "track", "userId": "u", "event": "E", "timestamp": "soon"}, "bad_timestamp"),
        ({**TRACK, "timestamp": "1999-12-31"}, "bad_timestamp"),
        ({**TRACK, "properties": {"x": "y" * 33_000}}, "event_too_large"),
    ],
)  # fmt: skip
def test_rules_give_stable_codes(raw: object, code: str) -> None:
    event, failure = _shape(raw)
    assert event is None and failure is not None
    assert failure.code == code and failure.reason


def test_timestamps_are_utc_microseconds() -> None:
    event, _ = _shape(
        {"type": "track", "userId": "u", "event": "E", "timestamp": "2025-06-01T18:00:00+08:00"}
    )
    assert event is not None
    assert event["t"] == int(datetime(2025, 6, 1, 10, tzinfo=UTC).timestamp() * 1_000_000)
    event, _ = _shape({"type": "track", "userId": "u", "event": "E"})
    assert event is not None and event["t"] == NOW_US  # no timestamp: time received


def test_missing_message_id_is_derived_from_the_content() -> None:
    raw = {"type": "track", "userId": "u", "event": "E", "timestamp": "2025-06-01T10:00:00Z"}
    first, _ = _shape(dict(raw))
    again, _ = _shape(dict(raw))
    other, _ = _shape(dict(raw, event="F"))
    assert first and again and other
    assert first["m"] == again["m"] != other["m"] and first["m"].startswith("auto-")


def test_hash_policy_uses_the_identifiers_blind_index() -> None:
    raw = {
        "type": "track",
        "userId": "li@example.com",
        "anonymousId": "+86 139-0013-9000",
        "event": "Order Completed",
        "properties": {
            "Phone": "138 0013 8001",
            "buyer": {"E-Mail": "Li@Example.com", "note": "mail me at li@example.com"},
            "contact": "li@example.com",
            "order_id": "13800138001",
            "items": [{"sku": "A", "mobile": 13800138001}],
        },
        "context": {"traits": {"email": "li@example.com", "plan": "vip"}, "ip": "1.2.3.4"},
    }
    event, failure = _shape(raw)
    assert failure is None and event is not None
    phone = "bi:phone:" + INDEX("phone", normalize("phone", "13800138001") or "")
    email = "bi:email:" + INDEX("email", "li@example.com")
    assert event["u"] == email
    assert event["a"] == "bi:phone:" + INDEX("phone", "13900139000")
    text = event["p"] + event["c"]
    assert "13800138001" not in text.replace('"order_id":"13800138001"', "")
    assert '"order_id":"13800138001"' in text  # ids are not phone numbers by shape
    assert f'"Phone":"{phone}"' in text and f'"mobile":"{phone}"' in text
    assert f'"E-Mail":"{email}"' in text and f'"contact":"{email}"' in text
    assert '"note":"mail me at li@example.com"' in text  # free text is not an address
    assert '"ip":"1.2.3.4"' in text and '"plan":"vip"' in text


def test_drop_policy_removes_the_values() -> None:
    raw = {
        "type": "identify",
        "userId": "u1",
        "traits": {"email": "li@example.com", "mobile": "13800138001", "tier": "gold"},
    }
    event, _ = _shape(raw, policy="drop")
    assert event is not None and event["p"] == '{"tier":"gold"}'


def test_raw_payloads_of_failures_carry_no_personal_data() -> None:
    policy = PiiPolicy("hash", KEYS, INDEX)
    raw = {"type": "track", "userId": "li@example.com", "properties": {"phone": "13800138001"}}
    text = raw_text(raw, policy)
    assert "li@example.com" not in text and "13800138001" not in text
    text = raw_text('{"phone": "13800138001", "email": "li@example.com"', policy)
    assert "13800138001" not in text and "li@example.com" not in text


def test_the_event_limit_counts_utf8_bytes() -> None:
    just_under = {**TRACK, "properties": {"note": "店" * 10_000}}  # 30,000 bytes
    assert _shape(just_under)[1] is None
    over = {**TRACK, "properties": {"note": "店" * 11_000}}  # 33,000 bytes, 11,000 chars
    failure = _shape(over)[1]
    assert failure is not None and failure.code == "event_too_large"
