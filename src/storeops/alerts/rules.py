"""Alert rules: which KPI, what condition, how serious, which stores, which channels.

A rule is a :class:`RuleSpec` (validated input) stored in ``alert_rules``:

- ``kind="threshold"``: ``op`` above/below ``value``, optionally for
  ``consecutive_days`` days in a row;
- ``kind="anomaly"``: robust z-score on the seasonal residual (:mod:`.detect`) reaching
  ``z``, over a ``window_days`` trailing window with a ``seasonal_weeks`` weekday
  baseline; ``side="bad"`` fires only when the KPI moved against its direction of good
  (``both`` fires either way); ``residual="absolute"`` for KPIs whose usual value is 0.

Levels are red / yellow / blue (红/黄/蓝). ``stores=None`` means every store (and the
chain row for chain-level KPIs).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import Engine, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from storeops.errors import StoreOpsError
from storeops.kpi import KPIS
from storeops.notify import DEFAULT_CHANNEL, get_channel
from storeops.opsdb import utcnow
from storeops.opsdb.alert_tables import alert_rules

AlertLevel = Literal["red", "yellow", "blue"]
ALERT_LEVELS: tuple[str, ...] = ("red", "yellow", "blue")
RULE_KINDS: tuple[str, ...] = ("threshold", "anomaly")


class AlertRuleError(StoreOpsError, ValueError):
    """An alert rule is invalid or does not exist."""


class ThresholdParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    op: Literal["above", "below"]
    value: float
    consecutive_days: int = Field(default=1, ge=1, le=90)


class AnomalyParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    z: float = Field(default=3.5, gt=0, le=50)
    window_days: int = Field(default=56, ge=14, le=365)
    seasonal_weeks: int = Field(default=8, ge=2, le=26)
    side: Literal["bad", "both"] = "bad"
    residual: Literal["relative", "absolute"] = "relative"


class RuleSpec(BaseModel):
    """A rule as given by a person (CLI, API, demo)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    kpi: str
    kind: Literal["threshold", "anomaly"]
    level: AlertLevel = "yellow"
    stores: list[str] | None = None
    channels: list[str] = Field(default_factory=lambda: [DEFAULT_CHANNEL])
    threshold: ThresholdParams | None = None
    anomaly: AnomalyParams | None = None

    @model_validator(mode="after")
    def _consistent(self) -> RuleSpec:
        if self.kpi not in KPIS:
            raise ValueError(f"unknown KPI {self.kpi!r}; one of {', '.join(sorted(KPIS))}")
        if self.kind == "threshold":
            if self.threshold is None:
                raise ValueError("a threshold rule needs threshold settings (op and value)")
            if self.anomaly is not None:
                raise ValueError("a threshold rule takes no anomaly settings")
        else:
            if self.threshold is not None:
                raise ValueError("an anomaly rule takes no threshold settings")
            if self.anomaly is None:
                self.anomaly = AnomalyParams()
        if self.stores is not None and not self.stores:
            raise ValueError("stores: give at least one store, or none for every store")
        return self

    def params(self) -> dict[str, Any]:
        chosen = self.threshold if self.kind == "threshold" else self.anomaly
        assert chosen is not None
        return chosen.model_dump()


@dataclass(frozen=True)
class Rule:
    """A stored rule."""

    rule_id: int
    name: str
    kpi: str
    kind: str
    params: dict[str, Any]
    level: str
    stores: list[str] | None
    channels: list[str]
    enabled: bool
    created_at: datetime

    def describe(self) -> str:
        p = self.params
        if self.kind == "threshold":
            days = p.get("consecutive_days", 1)
            return f"{p['op']} {p['value']:g}" + (f" for {days} days" if days > 1 else "")
        side = "bad side" if p.get("side") == "bad" else "either side"
        return f"|robust z| ≥ {p['z']:g} ({side}, {p['window_days']} d window)"

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule_id": self.rule_id, "name": self.name, "kpi": self.kpi, "kind": self.kind,
            "params": self.params, "level": self.level, "stores": self.stores,
            "channels": self.channels, "enabled": self.enabled,
            "created_at": self.created_at.isoformat(), "condition": self.describe(),
        }  # fmt: skip


def _rule(row: Any) -> Rule:
    return Rule(
        rule_id=int(row.rule_id), name=row.name, kpi=row.kpi, kind=row.kind,
        params=dict(row.params), level=row.level,
        stores=list(row.stores) if row.stores is not None else None,
        channels=list(row.channels), enabled=bool(row.enabled), created_at=row.created_at,
    )  # fmt: skip


def add_rule(engine: Engine, spec: RuleSpec) -> Rule:
    """Store a rule; its channels must exist."""
    for channel in spec.channels:
        get_channel(engine, channel)
    try:
        with engine.begin() as con:
            con.execute(
                insert(alert_rules).values(
                    name=spec.name, kpi=spec.kpi, kind=spec.kind, params=spec.params(),
                    level=spec.level, stores=spec.stores, channels=spec.channels,
                    enabled=True, created_at=utcnow(),
                )
            )  # fmt: skip
    except IntegrityError:
        raise AlertRuleError(
            f"an alert rule named {spec.name!r} exists; remove it first or pick another name"
        ) from None
    return get_rule(engine, spec.name)


def get_rule(engine: Engine, name_or_id: str | int) -> Rule:
    column = alert_rules.c.rule_id if isinstance(name_or_id, int) else alert_rules.c.name
    with engine.connect() as con:
        row = con.execute(select(alert_rules).where(column == name_or_id)).first()
    if row is None:
        raise AlertRuleError(f"no alert rule {name_or_id!r}; see `storeops alerts rules list`")
    return _rule(row)


def list_rules(engine: Engine, *, enabled_only: bool = False) -> list[Rule]:
    query = select(alert_rules).order_by(alert_rules.c.rule_id)
    if enabled_only:
        query = query.where(alert_rules.c.enabled.is_(True))
    with engine.connect() as con:
        return [_rule(r) for r in con.execute(query).all()]


def set_enabled(engine: Engine, name: str, enabled: bool) -> Rule:
    get_rule(engine, name)
    with engine.begin() as con:
        con.execute(update(alert_rules).where(alert_rules.c.name == name).values(enabled=enabled))
    return get_rule(engine, name)


def remove_rule(engine: Engine, name: str) -> None:
    """Remove a rule and its alerts."""
    get_rule(engine, name)
    with engine.begin() as con:
        con.execute(delete(alert_rules).where(alert_rules.c.name == name))
