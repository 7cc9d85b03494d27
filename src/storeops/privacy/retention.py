"""The retention job: personal data is kept no longer than it is needed.

What it removes, each after its own number of days (settings
``retention_quarantine_days``, ``retention_failed_events_days``,
``retention_outbox_days``):

- rejected import rows (``quarantine``, whose raw text may hold phone numbers), by the
  time they were quarantined;
- refused collector events (``failed_events``, raw payloads), by the time received;
- sent messages in ``outbox/``, by the file's modification time.

The job is idempotent: running it twice for the same moment removes nothing more.
Canonical data (orders, events, the ledger) is pseudonymous and kept; a person's
personal data goes with ``storeops privacy delete``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from storeops.workspace import Workspace

#: Warehouse bookkeeping tables with raw text, their time column and setting.
TABLES = (
    ("quarantine", "created_at", "retention_quarantine_days"),
    ("failed_events", "received_at", "retention_failed_events_days"),
)


def apply_retention(ws: Workspace, now: datetime | None = None) -> dict[str, int]:
    """Remove what is past its retention; counts per place."""
    at = now or datetime.now(UTC).replace(tzinfo=None)
    done: dict[str, int] = {}
    with ws.warehouse() as wh:
        for table, column, setting in TABLES:
            if not wh.has_table(table):
                done[table] = 0
                continue
            before = at - timedelta(days=int(getattr(ws.settings, setting)))
            done[table] = wh.delete_before(table, column, before)
    cutoff = (at - timedelta(days=ws.settings.retention_outbox_days)).replace(tzinfo=UTC)
    removed = 0
    for path in sorted((ws.root / "outbox").rglob("*")):
        if path.is_file() and datetime.fromtimestamp(path.stat().st_mtime, UTC) < cutoff:
            path.unlink()
            removed += 1
    done["outbox_files"] = removed
    return done
