"""The generic ``webhook`` channel: POST the notification as JSON, signed.

Headers sent with every request:

- ``X-Storeops-Timestamp``: Unix time in seconds when the request was signed;
- ``X-Storeops-Signature``: ``sha256=`` + hex HMAC-SHA256, keyed with the channel
  secret, of ``<timestamp>.<raw body bytes>``;
- ``X-Storeops-Delivery``: the delivery id (the same on every retry, so a receiver
  can drop a repeat).

A receiver verifies with :func:`verify_signature`: recompute the HMAC over the
timestamp, a dot and the body exactly as received, compare in constant time, and
refuse timestamps older than a few minutes (a replayed request). See docs/alerts.md.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time

from pydantic import BaseModel, ConfigDict, Field

from storeops.notify.base import DeliveryContext, post_json

SIGNATURE_HEADER = "X-Storeops-Signature"
TIMESTAMP_HEADER = "X-Storeops-Timestamp"
DELIVERY_HEADER = "X-Storeops-Delivery"
#: How old a signed timestamp may be before a receiver should refuse it.
TOLERANCE_SECONDS = 300


class WebhookConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(pattern=r"^https?://")


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The signature header's value for ``body`` sent at ``timestamp``."""
    mac = hmac.new(secret.encode("utf-8"), timestamp.encode("ascii") + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify_signature(
    secret: str,
    body: bytes,
    timestamp: str | None,
    signature: str | None,
    *,
    now: float | None = None,
    tolerance: int = TOLERANCE_SECONDS,
) -> bool:
    """What a receiver does: True when ``signature`` is the HMAC of ``body`` at
    ``timestamp`` with ``secret`` and the timestamp is recent."""
    if not timestamp or not signature or not timestamp.isdigit():
        return False
    if abs((time.time() if now is None else now) - int(timestamp)) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), signature)


def body_of(ctx: DeliveryContext) -> bytes:
    n = ctx.notification
    payload = {
        "delivery_id": ctx.delivery_id,
        "channel": ctx.channel,
        "subject": n.subject,
        "text": n.text,
        "level": n.level,
        "dedup_key": n.dedup_key,
        "attachments": [p.name for p in n.attachments],
    }
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def deliver(ctx: DeliveryContext) -> str:
    cfg = WebhookConfig.model_validate(ctx.config)
    body = body_of(ctx)
    timestamp = str(int(ctx.now))
    headers = {TIMESTAMP_HEADER: timestamp, DELIVERY_HEADER: str(ctx.delivery_id)}
    if ctx.secret:
        headers[SIGNATURE_HEADER] = sign(ctx.secret, timestamp, body)
    response = post_json(cfg.url, body, headers)
    return f"HTTP {response.status_code}"
