"""Notifications through channels: outbox files, signed webhooks, WeCom and DingTalk
robots, SMTP e-mail — queued in the ops database with retries and de-duplication.

Public API::

    send(ws, "ops-robot", Notification(subject=..., text=..., level="red",
                                       dedup_key="alert:3:S01:2026-10-19"))
    deliver(ws)            # attempt every due delivery (the server's job does this)

Channels are managed with :func:`add_channel` / :func:`list_channels` /
:func:`remove_channel` (CLI: ``storeops channels``). Kinds: :data:`CHANNEL_KINDS`.
"""

from __future__ import annotations

from datetime import datetime

from storeops.notify.base import DeliveryError, NotifyError
from storeops.notify.channels import (
    CHANNEL_KINDS,
    DEFAULT_CHANNEL,
    Channel,
    add_channel,
    ensure_outbox_channel,
    get_channel,
    list_channels,
    remove_channel,
)
from storeops.notify.message import LEVELS, Level, Notification
from storeops.notify.queue import (
    MAX_ATTEMPTS,
    Delivery,
    DeliveryRun,
    deliver_pending,
    enqueue,
    list_deliveries,
)
from storeops.privacy.crypto import FieldCipher, cipher_from
from storeops.workspace import Workspace

__all__ = [
    "CHANNEL_KINDS",
    "DEFAULT_CHANNEL",
    "LEVELS",
    "MAX_ATTEMPTS",
    "Channel",
    "Delivery",
    "DeliveryError",
    "DeliveryRun",
    "Level",
    "Notification",
    "NotifyError",
    "add_channel",
    "deliver",
    "deliver_pending",
    "enqueue",
    "ensure_outbox_channel",
    "get_channel",
    "list_channels",
    "list_deliveries",
    "remove_channel",
    "send",
    "workspace_cipher",
]


def workspace_cipher(ws: Workspace) -> FieldCipher | None:
    """The workspace's field cipher, or None when no encryption key is configured."""
    if ws.settings.encryption_key is None:
        return None
    return cipher_from(ws.settings)


def send(ws: Workspace, channel_name: str, message: Notification) -> DeliveryRun:
    """Queue ``message`` on ``channel_name`` and attempt it now; a failed attempt stays
    queued for the retries (:func:`deliver`). A message whose ``dedup_key`` was
    already queued on the channel is not sent again (nothing attempted)."""
    engine = ws.ops_engine()
    delivery_id = enqueue(engine, channel_name, message)
    if delivery_id is None:
        return DeliveryRun()
    return deliver_pending(engine, ws.root, lambda: workspace_cipher(ws), only=[delivery_id])


def deliver(ws: Workspace, *, now: datetime | None = None, limit: int = 100) -> DeliveryRun:
    """Attempt every due delivery of the workspace once."""
    return deliver_pending(
        ws.ops_engine(), ws.root, lambda: workspace_cipher(ws), now=now, limit=limit
    )
