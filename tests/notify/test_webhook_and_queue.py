"""The signed webhook against a local server, and the delivery queue around it:
signatures verified on the receiving side with plain hmac, retries with backoff,
a final failed state, de-duplication by key, claims that stop a second sender."""

from __future__ import annotations

import hashlib
import hmac
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select, update
from tests.notify.servers import http_receiver

from storeops.notify import (
    MAX_ATTEMPTS,
    Notification,
    add_channel,
    deliver_pending,
    enqueue,
    list_deliveries,
)
from storeops.notify.queue import backoff
from storeops.notify.webhook import verify_signature
from storeops.opsdb.alert_tables import notify_channels, notify_deliveries
from storeops.privacy.crypto import FieldCipher

SECRET = "whsec-test-1234567890"
T0 = datetime(2026, 11, 1, 8, 0, 0)


def note(key: str | None = "alert:1:S001:2026-10-19", text: str = "客流骤降") -> Notification:
    return Notification(subject="红色预警:S001 客流", text=text, level="red", dedup_key=key)


def _webhook(engine: Engine, cipher: FieldCipher, url: str, name: str = "hook") -> None:
    add_channel(
        engine, name, "webhook", {"url": url + "/hooks/storeops"}, secret=SECRET, cipher=cipher
    )


def test_the_receiver_gets_a_signed_payload_it_can_verify(
    ops_engine: Engine, cipher: FieldCipher, root: Path
) -> None:
    with http_receiver() as server:
        _webhook(ops_engine, cipher, server.url)
        assert enqueue(ops_engine, "hook", note(), now=T0) is not None
        run = deliver_pending(ops_engine, root, lambda: cipher, now=T0)
    assert (run.sent, run.failed, run.retrying) == (1, 0, 0)
    [got] = server.received
    assert got.path == "/hooks/storeops"
    # The receiver's side, written out with the standard library only.
    timestamp = got.headers["X-Storeops-Timestamp"]
    expected = hmac.new(SECRET.encode(), timestamp.encode() + b"." + got.body, hashlib.sha256)
    assert got.headers["X-Storeops-Signature"] == "sha256=" + expected.hexdigest()
    assert abs(time.time() - int(timestamp)) < 60
    body = got.json()
    assert body["subject"] == "红色预警:S001 客流" and body["level"] == "red"
    assert body["dedup_key"] == "alert:1:S001:2026-10-19"
    assert got.headers["X-Storeops-Delivery"] == str(body["delivery_id"])
    # The documented helper agrees, and refuses a tampered body, a wrong key, an old stamp.
    assert verify_signature(SECRET, got.body, timestamp, got.headers["X-Storeops-Signature"])
    sig = got.headers["X-Storeops-Signature"]
    assert not verify_signature(SECRET, got.body + b" ", timestamp, sig)
    assert not verify_signature("other", got.body, timestamp, sig)
    assert not verify_signature(SECRET, got.body, timestamp, sig, now=int(timestamp) + 3600)
    # The secret is only stored sealed.
    with ops_engine.connect() as con:
        sealed = con.execute(select(notify_channels.c.secret_enc)).scalar_one()
    assert SECRET not in sealed and cipher.decrypt(sealed, purpose="notify.channel:hook") == SECRET


def test_two_failures_then_success_is_delivered_exactly_once(
    ops_engine: Engine, cipher: FieldCipher, root: Path
) -> None:
    with http_receiver([(503, {}), (500, {}), (200, {})]) as server:
        _webhook(ops_engine, cipher, server.url)
        delivery = enqueue(ops_engine, "hook", note(), now=T0)
        now = T0
        statuses = []
        for _ in range(6):  # more passes than needed: nothing is sent twice
            run = deliver_pending(ops_engine, root, lambda: cipher, now=now)
            statuses += [a.status for a in run.attempts]
            now += timedelta(hours=2)
    assert statuses == ["pending", "pending", "sent"]
    assert len(server.received) == 3
    assert [r.json()["delivery_id"] for r in server.received] == [delivery] * 3
    [row] = list_deliveries(ops_engine)
    assert (row.status, row.attempts, row.last_error) == ("sent", 3, None)


def test_a_retry_waits_for_its_backoff(ops_engine: Engine, cipher: FieldCipher, root: Path) -> None:
    with http_receiver([(500, {}), (200, {})]) as server:
        _webhook(ops_engine, cipher, server.url)
        enqueue(ops_engine, "hook", note(), now=T0)
        assert deliver_pending(ops_engine, root, lambda: cipher, now=T0).retrying == 1
        early = T0 + backoff(1) - timedelta(seconds=1)
        assert deliver_pending(ops_engine, root, lambda: cipher, now=early).attempted == 0
        late = T0 + backoff(1)
        assert deliver_pending(ops_engine, root, lambda: cipher, now=late).sent == 1
    assert len(server.received) == 2
    assert backoff(1) < backoff(2) < backoff(3) and backoff(30) == timedelta(hours=1)


def test_a_server_that_always_fails_ends_failed_after_max_attempts(
    ops_engine: Engine, cipher: FieldCipher, root: Path
) -> None:
    with http_receiver([(500, {"error": "down"})]) as server:
        _webhook(ops_engine, cipher, server.url)
        enqueue(ops_engine, "hook", note(), now=T0)
        now = T0
        for _ in range(MAX_ATTEMPTS + 3):
            deliver_pending(ops_engine, root, lambda: cipher, now=now)
            now += timedelta(hours=2)
    assert len(server.received) == MAX_ATTEMPTS
    [row] = list_deliveries(ops_engine)
    assert row.status == "failed" and row.attempts == MAX_ATTEMPTS
    assert "HTTP 500" in (row.last_error or "")


def test_a_refusal_fails_at_once(ops_engine: Engine, cipher: FieldCipher, root: Path) -> None:
    with http_receiver([(400, {"error": "bad"})]) as server:
        _webhook(ops_engine, cipher, server.url)
        enqueue(ops_engine, "hook", note(), now=T0)
        run = deliver_pending(ops_engine, root, lambda: cipher, now=T0)
        deliver_pending(ops_engine, root, lambda: cipher, now=T0 + timedelta(days=1))
    assert run.failed == 1 and len(server.received) == 1
    assert list_deliveries(ops_engine, status="failed")[0].attempts == 1


def test_an_unreachable_server_is_retried(
    ops_engine: Engine, cipher: FieldCipher, root: Path
) -> None:
    with http_receiver() as server:
        url = server.url
    _webhook(ops_engine, cipher, url)  # the server is gone: connection refused
    enqueue(ops_engine, "hook", note(), now=T0)
    run = deliver_pending(ops_engine, root, lambda: cipher, now=T0)
    assert run.retrying == 1 and "cannot reach" in run.attempts[0].detail


def test_the_same_dedup_key_is_queued_and_sent_once(
    ops_engine: Engine, cipher: FieldCipher, root: Path
) -> None:
    with http_receiver() as server:
        _webhook(ops_engine, cipher, server.url)
        _webhook(ops_engine, cipher, server.url, name="hook2")
        first = enqueue(ops_engine, "hook", note(), now=T0)
        assert enqueue(ops_engine, "hook", note(text="again"), now=T0) is None
        deliver_pending(ops_engine, root, lambda: cipher, now=T0)
        # Already sent: still not queued again.
        assert enqueue(ops_engine, "hook", note(), now=T0 + timedelta(days=1)) is None
        # Another channel, or another key, is another delivery.
        assert enqueue(ops_engine, "hook2", note(), now=T0) not in (None, first)
        assert enqueue(ops_engine, "hook", note(key="alert:1:S001:2026-10-20"), now=T0)
        assert enqueue(ops_engine, "hook", note(key=None), now=T0)
        assert enqueue(ops_engine, "hook", note(key=None), now=T0)
        deliver_pending(ops_engine, root, lambda: cipher, now=T0)
    assert len(server.received) == 5
    keys = [r.json()["dedup_key"] for r in server.received]
    assert keys.count("alert:1:S001:2026-10-19") == 2  # once per channel


def test_a_claimed_delivery_is_not_sent_by_a_second_worker(
    ops_engine: Engine, cipher: FieldCipher, root: Path
) -> None:
    with http_receiver() as server:
        _webhook(ops_engine, cipher, server.url)
        delivery = enqueue(ops_engine, "hook", note(), now=T0)
        with ops_engine.begin() as con:  # another worker took it a minute ago
            con.execute(
                update(notify_deliveries)
                .where(notify_deliveries.c.delivery_id == delivery)
                .values(status="sending", claimed_at=T0 - timedelta(minutes=1))
            )
        assert deliver_pending(ops_engine, root, lambda: cipher, now=T0).attempted == 0
        # A claim far older than the timeout belongs to a worker that died: taken over.
        later = T0 + timedelta(hours=1)
        assert deliver_pending(ops_engine, root, lambda: cipher, now=later).sent == 1
    assert len(server.received) == 1


@pytest.mark.parametrize("kind", ["wecom", "dingtalk"])
def test_robot_channels_need_their_secret(
    ops_engine: Engine, cipher: FieldCipher, kind: str
) -> None:
    from storeops.notify import NotifyError

    with pytest.raises(NotifyError, match="needs a secret"):
        add_channel(ops_engine, "robot", kind, {})
