"""Evaluation: run every enabled rule over a range of days and record what fires.

For each rule, the KPI's daily values of its stores are read from the KPI mart with
enough history for the anomaly baseline, the condition is checked per store on each
day of the range (:mod:`.detect`), and each store-day that fires becomes one row of
``alert_events`` — once: the unique ``(rule, store, day)`` key makes a second
evaluation of the same days (the scheduler runs every few minutes; data arrives late)
record and notify nothing new. Each new alert is queued on the rule's channels with
the dedup key ``alert:<rule>:<store>:<day>``; :func:`storeops.notify.deliver` sends it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Engine, insert
from sqlalchemy.exc import IntegrityError

from storeops.alerts import detect, messages
from storeops.alerts.rules import Rule, list_rules
from storeops.alerts.source import kpi_days, last_day
from storeops.errors import StoreOpsError
from storeops.kpi import KPIS
from storeops.notify import NotifyError, enqueue
from storeops.opsdb import utcnow
from storeops.opsdb.alert_tables import alert_events
from storeops.warehouse import Warehouse

#: Without ``--date``, the last days of the KPI mart evaluated on each run (late
#: data is caught; already recorded alerts are not repeated).
LOOKBACK_DAYS = 3


class EvaluationError(StoreOpsError, ValueError):
    """Rules cannot be evaluated as asked."""


@dataclass
class Fired:
    alert_id: int | None  # None: already recorded by an earlier evaluation
    rule: str
    kpi: str
    store_id: str
    day: str
    level: str
    value: float
    expected: float | None
    score: float | None


@dataclass
class Evaluation:
    date_from: str | None
    date_to: str | None
    rules: int = 0
    store_days: int = 0
    new_alerts: int = 0
    already_recorded: int = 0
    queued: int = 0
    fired: list[Fired] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _side(rule: Rule) -> str:
    if rule.params.get("side", "bad") == "both":
        return "both"
    return "down" if KPIS[rule.kpi].direction == "up" else "up"


def findings(rule: Rule, values: Any, days: list[date]) -> list[detect.Finding]:
    """What ``rule`` finds in one store's daily ``values`` (a Series by day)."""
    p = rule.params
    if rule.kind == "threshold":
        return detect.thresholds(values, days, op=p["op"], level=float(p["value"]),
                                 consecutive_days=int(p.get("consecutive_days", 1)))  # fmt: skip
    return detect.anomalies(
        values, days, threshold=float(p["z"]), window_days=int(p["window_days"]),
        weeks=int(p["seasonal_weeks"]), side=_side(rule),  # type: ignore[arg-type]
        residual=p.get("residual", "relative"),
    )  # fmt: skip


def _history(rule: Rule) -> timedelta:
    p = rule.params
    if rule.kind == "threshold":
        return timedelta(days=int(p.get("consecutive_days", 1)))
    return detect.history_days(int(p["window_days"]), int(p["seasonal_weeks"]))


def _record(engine: Engine, rule: Rule, store_id: str, f: detect.Finding) -> int | None:
    """Insert the alert; None when this rule already fired for that store-day."""
    detail = {"condition": rule.describe(), "streak": f.streak, "params": rule.params}
    try:
        with engine.begin() as con:
            result = con.execute(
                insert(alert_events)
                .values(
                    rule_id=rule.rule_id, store_id=store_id, day=f.day, kpi=rule.kpi,
                    level=rule.level, value=f.value, expected=f.expected, score=f.score,
                    detail=detail, created_at=utcnow(),
                )
                .returning(alert_events.c.alert_id)
            )  # fmt: skip
            return int(result.scalar_one())
    except IntegrityError:
        return None


def evaluate(
    engine: Engine,
    wh: Warehouse,
    *,
    date_from: date | None = None,
    date_to: date | None = None,
    rules: list[str] | None = None,
    locale: str = "zh_CN",
) -> Evaluation:
    """Evaluate the enabled rules (or those named) on ``date_from`` … ``date_to``
    (default: the last :data:`LOOKBACK_DAYS` days of the KPI mart)."""
    chosen = list_rules(engine, enabled_only=True)
    if rules is not None:
        unknown = set(rules) - {r.name for r in chosen}
        if unknown:
            raise EvaluationError(
                f"no enabled alert rule named {', '.join(sorted(unknown))}; "
                "see `storeops alerts rules list`"
            )
        chosen = [r for r in chosen if r.name in rules]
    if date_to is None:
        date_to = last_day(wh) if chosen else None
        if date_to is None:
            return Evaluation(None, None)
        if date_from is None:
            date_from = date_to - timedelta(days=LOOKBACK_DAYS - 1)
    date_from = date_from or date_to
    if date_from > date_to:
        raise EvaluationError(f"--from {date_from} is after --to {date_to}")
    days = [date_from + timedelta(days=i) for i in range((date_to - date_from).days + 1)]
    result = Evaluation(date_from.isoformat(), date_to.isoformat(), rules=len(chosen))
    for rule in chosen:
        frame = kpi_days(wh, rule.kpi, rule.stores, date_from - _history(rule), date_to)
        for store_id, rows in frame.groupby("store_id", sort=True):
            values = rows.set_index("day")["value"]
            result.store_days += sum(1 for d in days if d in values.index)
            for f in findings(rule, values, days):
                alert_id = _record(engine, rule, str(store_id), f)
                result.fired.append(
                    Fired(
                        alert_id,
                        rule.name,
                        rule.kpi,
                        str(store_id),
                        f.day.isoformat(),
                        rule.level,
                        f.value,
                        f.expected,
                        f.score,
                    )
                )
                if alert_id is None:
                    result.already_recorded += 1
                    continue
                result.new_alerts += 1
                note = messages.notification(
                    alert_id=alert_id, rule_id=rule.rule_id, rule_name=rule.name,
                    kind=rule.kind, params=rule.params, level=rule.level, kpi=rule.kpi,
                    store_id=str(store_id), day=f.day, value=f.value, expected=f.expected,
                    score=f.score, locale=locale,
                )  # fmt: skip
                for channel in rule.channels:
                    try:
                        if enqueue(engine, channel, note) is not None:
                            result.queued += 1
                    except NotifyError as exc:
                        result.problems.append(f"rule {rule.name}: {exc}")
    return result
