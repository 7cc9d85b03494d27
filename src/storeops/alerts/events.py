"""Alert events: listing in a caller's store scope, and acknowledgement.

Used by the CLI (``storeops alerts list|ack``), the JSON API and the dashboard's
alerts page: :func:`list_alerts` and :func:`acknowledge`. A store-scoped principal
(store manager) sees and acknowledges only its stores' alerts; another store's alert
is "not found", as everywhere in storeops.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

from sqlalchemy import Engine, select, update

from storeops.access import Principal
from storeops.access.principal import NotVisibleError
from storeops.errors import StoreOpsError
from storeops.opsdb import audit, utcnow
from storeops.opsdb.alert_tables import alert_events, alert_rules

Status = Literal["open", "acknowledged", "all"]


class AlertNotFoundError(NotVisibleError):
    """No such alert (or not in the caller's stores)."""


class AlertQueryError(StoreOpsError, ValueError):
    """Invalid filters for listing alerts."""


@dataclass(frozen=True)
class Alert:
    alert_id: int
    rule_id: int
    rule: str
    kind: str
    kpi: str
    store_id: str
    day: date
    level: str
    value: float | None
    expected: float | None
    score: float | None
    detail: dict[str, Any]
    created_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: str | None

    @property
    def acknowledged(self) -> bool:
        return self.acknowledged_at is not None

    def to_dict(self) -> dict[str, Any]:
        return {
            "alert_id": self.alert_id, "rule_id": self.rule_id, "rule": self.rule,
            "kind": self.kind, "kpi": self.kpi, "store_id": self.store_id,
            "day": self.day.isoformat(), "level": self.level, "value": self.value,
            "expected": self.expected, "score": self.score, "detail": self.detail,
            "created_at": self.created_at.isoformat(),
            "acknowledged_at": self.acknowledged_at.isoformat() if self.acknowledged_at else None,
            "acknowledged_by": self.acknowledged_by,
        }  # fmt: skip


Scope = Principal | Iterable[str] | None


def _stores(scope: Scope) -> frozenset[str] | None:
    """None = every store (and the chain); else the visible store ids."""
    if scope is None:
        return None
    if isinstance(scope, Principal):
        return scope.stores
    return frozenset(scope)


def _alert(row: Any) -> Alert:
    return Alert(
        alert_id=int(row.alert_id), rule_id=int(row.rule_id), rule=row.name, kind=row.kind,
        kpi=row.kpi, store_id=row.store_id, day=row.day, level=row.level, value=row.value,
        expected=row.expected, score=row.score, detail=dict(row.detail or {}),
        created_at=row.created_at, acknowledged_at=row.acknowledged_at,
        acknowledged_by=row.acknowledged_by,
    )  # fmt: skip


def _query() -> Any:
    e, r = alert_events, alert_rules
    return select(e, r.c.name, r.c.kind).join(r, r.c.rule_id == e.c.rule_id)


def list_alerts(
    engine: Engine,
    scope: Scope = None,
    *,
    status: Status = "all",
    store_id: str | None = None,
    level: str | None = None,
    kpi: str | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    limit: int = 200,
) -> list[Alert]:
    """Alerts visible to ``scope`` (a principal, store ids, or None for all), newest
    day first, most severe first within a day."""
    if status not in ("open", "acknowledged", "all"):
        raise AlertQueryError(f"status must be open, acknowledged or all (got {status!r})")
    if date_from and date_to and date_from > date_to:
        raise AlertQueryError(f"date_from {date_from} is after date_to {date_to}")
    e = alert_events
    query = _query()
    visible = _stores(scope)
    if visible is not None:
        query = query.where(e.c.store_id.in_(sorted(visible)))
    if store_id is not None:
        query = query.where(e.c.store_id == store_id)
    if status == "open":
        query = query.where(e.c.acknowledged_at.is_(None))
    elif status == "acknowledged":
        query = query.where(e.c.acknowledged_at.is_not(None))
    if level is not None:
        query = query.where(e.c.level == level)
    if kpi is not None:
        query = query.where(e.c.kpi == kpi)
    if date_from is not None:
        query = query.where(e.c.day >= date_from)
    if date_to is not None:
        query = query.where(e.c.day <= date_to)
    query = query.order_by(e.c.day.desc(), e.c.alert_id.desc()).limit(max(1, min(limit, 5000)))
    with engine.connect() as con:
        alerts = [_alert(r) for r in con.execute(query).all()]
    severity = {"red": 0, "yellow": 1, "blue": 2}
    return sorted(alerts, key=lambda a: (-a.day.toordinal(), severity.get(a.level, 3)))


def get_alert(engine: Engine, alert_id: int, scope: Scope = None) -> Alert:
    with engine.connect() as con:
        row = con.execute(_query().where(alert_events.c.alert_id == alert_id)).first()
    visible = _stores(scope)
    if row is None or (visible is not None and row.store_id not in visible):
        raise AlertNotFoundError(f"alert {alert_id} was not found")
    return _alert(row)


def acknowledge(engine: Engine, alert_id: int, actor: str, scope: Scope = None) -> Alert:
    """Mark an alert acknowledged by ``actor`` (audited). Acknowledging it again keeps
    the first acknowledgement."""
    get_alert(engine, alert_id, scope)
    now = utcnow()
    with engine.begin() as con:
        done = con.execute(
            update(alert_events)
            .where(alert_events.c.alert_id == alert_id, alert_events.c.acknowledged_at.is_(None))
            .values(acknowledged_at=now, acknowledged_by=actor[:128])
        )
        if done.rowcount:
            audit(con, actor=actor, action="alert.acknowledge", target=f"alert:{alert_id}",
                  detail={})  # fmt: skip
    return get_alert(engine, alert_id, scope)
