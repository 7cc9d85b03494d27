"""The delivery queue: notifications wait in ``notify_deliveries`` until sent.

- **De-duplication**: a delivery is unique per ``(channel, dedup_key)``; queuing the
  same key again on the same channel changes nothing (:func:`enqueue` returns None).
- **Claims**: a worker takes a due delivery with one conditional update (``pending``
  → ``sending``), so two workers (the server's job and a CLI run) never send the same
  one; a claim older than :data:`CLAIM_TIMEOUT` (a worker that died) is taken over.
- **Retries**: a failed attempt that may succeed later goes back to ``pending`` with
  ``next_attempt_at`` = now + ``BACKOFF_BASE`` · 2^(attempts−1) (capped at
  ``BACKOFF_MAX``); after ``max_attempts`` attempts, or at once for a refusal that
  cannot change (HTTP 4xx, a bad payload), it ends ``failed`` with the last error.

The scheduling clock (``now``) is a parameter so tests can move through the backoff
without sleeping; adapters always sign with the real time.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, and_, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from storeops.notify.base import DeliveryContext, DeliveryError, NotifyError
from storeops.notify.channels import CHANNEL_KINDS, get_channel, open_secret
from storeops.notify.message import Notification
from storeops.opsdb import utcnow
from storeops.opsdb.alert_tables import notify_channels, notify_deliveries
from storeops.privacy.crypto import FieldCipher

MAX_ATTEMPTS = 5
BACKOFF_BASE = timedelta(seconds=30)
BACKOFF_MAX = timedelta(hours=1)
CLAIM_TIMEOUT = timedelta(minutes=10)

PENDING, SENDING, SENT, FAILED = "pending", "sending", "sent", "failed"
STATUSES = (PENDING, SENDING, SENT, FAILED)

CipherSource = Callable[[], FieldCipher | None]


def backoff(attempts: int) -> timedelta:
    """Wait before the next attempt after ``attempts`` failed ones (1, 2, …)."""
    return min(BACKOFF_BASE * (2 ** max(attempts - 1, 0)), BACKOFF_MAX)


@dataclass
class Attempt:
    delivery_id: int
    channel: str
    status: str
    attempts: int
    detail: str


@dataclass
class DeliveryRun:
    """What one :func:`deliver_pending` pass did."""

    attempted: int = 0
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    attempts: list[Attempt] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def enqueue(
    engine: Engine, channel: str, notification: Notification, *, now: datetime | None = None
) -> int | None:
    """Queue ``notification`` on ``channel``; the delivery id, or None when a delivery
    with the same ``dedup_key`` is already queued (or sent) on that channel."""
    ch = get_channel(engine, channel)
    at = now or utcnow()
    if notification.dedup_key is not None:
        with engine.connect() as con:
            seen = con.execute(
                select(notify_deliveries.c.delivery_id).where(
                    notify_deliveries.c.channel_id == ch.channel_id,
                    notify_deliveries.c.dedup_key == notification.dedup_key,
                )
            ).first()
        if seen is not None:
            return None
    try:
        with engine.begin() as con:
            result = con.execute(
                insert(notify_deliveries)
                .values(
                    channel_id=ch.channel_id, dedup_key=notification.dedup_key,
                    level=notification.level, subject=notification.subject[:500],
                    payload=notification.to_payload(), status=PENDING, attempts=0,
                    next_attempt_at=at, created_at=at,
                )
                .returning(notify_deliveries.c.delivery_id)
            )  # fmt: skip
            return int(result.scalar_one())
    except IntegrityError:  # the same key queued concurrently: the unique constraint wins
        return None


def _due(now: datetime) -> Any:
    return or_(
        and_(notify_deliveries.c.status == PENDING, notify_deliveries.c.next_attempt_at <= now),
        and_(
            notify_deliveries.c.status == SENDING,
            notify_deliveries.c.claimed_at < now - CLAIM_TIMEOUT,
        ),
    )


def _claim(engine: Engine, delivery_id: int, now: datetime) -> bool:
    with engine.begin() as con:
        claimed = con.execute(
            update(notify_deliveries)
            .where(notify_deliveries.c.delivery_id == delivery_id, _due(now))
            .values(status=SENDING, claimed_at=now)
        )
    return claimed.rowcount == 1


def deliver_pending(
    engine: Engine,
    workspace_root: Path,
    cipher: CipherSource = lambda: None,
    *,
    now: datetime | None = None,
    limit: int = 100,
    max_attempts: int = MAX_ATTEMPTS,
    only: list[int] | None = None,
) -> DeliveryRun:
    """Attempt every due delivery once (at most ``limit``), oldest first."""
    at = now or utcnow()
    run = DeliveryRun()
    query = (
        select(
            notify_deliveries,
            notify_channels.c.name,
            notify_channels.c.kind,
            notify_channels.c.config,
            notify_channels.c.secret_enc,
            notify_channels.c.enabled,
        )
        .join(notify_channels, notify_channels.c.channel_id == notify_deliveries.c.channel_id)
        .where(_due(at))
        .order_by(notify_deliveries.c.next_attempt_at, notify_deliveries.c.delivery_id)
        .limit(limit)
    )
    if only is not None:
        query = query.where(notify_deliveries.c.delivery_id.in_(only))
    with engine.connect() as con:
        rows = con.execute(query).all()
    keys: FieldCipher | None = None
    for row in rows:
        if not row.enabled or not _claim(engine, row.delivery_id, at):
            continue
        run.attempted += 1
        attempts = int(row.attempts) + 1
        try:
            if row.secret_enc is not None and keys is None:
                keys = cipher()
            ctx = DeliveryContext(
                delivery_id=int(row.delivery_id), channel=row.name, config=dict(row.config),
                secret=open_secret(row, keys),
                notification=Notification.from_payload(row.payload),
                workspace_root=workspace_root, now=time.time(),
            )  # fmt: skip
            detail = CHANNEL_KINDS[row.kind].deliver(ctx)
        except (DeliveryError, NotifyError) as exc:
            retry = isinstance(exc, DeliveryError) and exc.retryable and attempts < max_attempts
            status = PENDING if retry else FAILED
            values: dict[str, Any] = {
                "status": status,
                "attempts": attempts,
                "last_error": str(exc)[:2000],
                "claimed_at": None,
            }
            if retry:
                values["next_attempt_at"] = at + backoff(attempts)
            detail = str(exc)
            if retry:
                run.retrying += 1
            else:
                run.failed += 1
        else:
            status = SENT
            values = {"status": SENT, "attempts": attempts, "sent_at": at, "claimed_at": None,
                      "last_error": None}  # fmt: skip
            run.sent += 1
        with engine.begin() as con:
            con.execute(
                update(notify_deliveries)
                .where(notify_deliveries.c.delivery_id == row.delivery_id)
                .values(**values)
            )
        run.attempts.append(Attempt(int(row.delivery_id), row.name, status, attempts, detail))
    return run


@dataclass(frozen=True)
class Delivery:
    delivery_id: int
    channel: str
    dedup_key: str | None
    level: str
    subject: str
    status: str
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for key in ("next_attempt_at", "created_at", "sent_at"):
            data[key] = data[key].isoformat() if data[key] else None
        return data


def list_deliveries(
    engine: Engine, *, status: str | None = None, channel: str | None = None, limit: int = 50
) -> list[Delivery]:
    """The most recent deliveries first."""
    if status is not None and status not in STATUSES:
        raise NotifyError(f"unknown delivery status {status!r}; one of {', '.join(STATUSES)}")
    d = notify_deliveries
    query = (
        select(d, notify_channels.c.name)
        .join(notify_channels, notify_channels.c.channel_id == d.c.channel_id)
        .order_by(d.c.delivery_id.desc())
        .limit(limit)
    )
    if status is not None:
        query = query.where(d.c.status == status)
    if channel is not None:
        query = query.where(notify_channels.c.name == channel)
    with engine.connect() as con:
        rows = con.execute(query).all()
    return [
        Delivery(int(r.delivery_id), r.name, r.dedup_key, r.level, r.subject, r.status,
                 int(r.attempts), r.next_attempt_at, r.last_error, r.created_at, r.sent_at)
        for r in rows
    ]  # fmt: skip
