"""The ``outbox`` channel: one JSON file per notification in the workspace's
``outbox/`` folder (or the channel's ``folder``), written atomically.

The default channel: it needs no server, so the demo and tests can read what would
have been sent. Files are named ``<UTC time>-<delivery id>.json``; the retention job
removes them after ``retention_outbox_days``.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from storeops.notify.base import DeliveryContext, DeliveryError


class OutboxConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    #: Folder for the files, relative to the workspace (default ``outbox``).
    folder: str = "outbox"


def deliver(ctx: DeliveryContext) -> str:
    cfg = OutboxConfig.model_validate(ctx.config)
    folder = Path(cfg.folder)
    if not folder.is_absolute():
        folder = ctx.workspace_root / folder
    at = datetime.fromtimestamp(ctx.now, UTC)
    record: dict[str, Any] = {
        "delivery_id": ctx.delivery_id,
        "channel": ctx.channel,
        "created_at": at.isoformat(),
        **ctx.notification.to_payload(),
    }
    path = folder / f"{at:%Y%m%dT%H%M%S}-{ctx.delivery_id:08d}.json"
    tmp = path.with_suffix(".tmp")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tmp.open("w", encoding="utf-8") as fh:
            json.dump(record, fh, ensure_ascii=False, indent=2)
            fh.flush()
            os.fsync(fh.fileno())
        tmp.replace(path)
    except OSError as exc:
        raise DeliveryError(f"cannot write {path}: {exc}") from exc
    return str(path)
