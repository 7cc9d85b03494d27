"""The demo's alert rules: what ``storeops demo`` sets up after the marts.

Three anomaly rules on the KPIs the planted anomalies move (entries, conversion,
sales: red/red/yellow, bad side only, robust |z| ≥ 3.5) and one threshold rule (blue:
fewer than 60 entries in a day, a counter that stopped counting), all to the default
``outbox`` channel. The
last four weeks of the demo are evaluated, so the dashboard's alerts page and the
``outbox/`` folder show the planted counter outage and conversion collapse.
"""

from __future__ import annotations

from datetime import timedelta

from storeops.alerts.evaluate import Evaluation, evaluate
from storeops.alerts.rules import AnomalyParams, RuleSpec, ThresholdParams, add_rule, list_rules
from storeops.alerts.source import last_day
from storeops.notify import DEFAULT_CHANNEL, deliver, ensure_outbox_channel
from storeops.warehouse import Warehouse
from storeops.workspace import Workspace

DEMO_EVALUATION_DAYS = 28

DEMO_RULES: tuple[RuleSpec, ...] = (
    RuleSpec(name="entries-drop", kpi="entries", kind="anomaly", level="red",
             anomaly=AnomalyParams(z=3.5, side="bad")),
    RuleSpec(name="conversion-drop", kpi="conversion", kind="anomaly", level="red",
             anomaly=AnomalyParams(z=3.5, side="bad")),
    RuleSpec(name="sales-drop", kpi="sales", kind="anomaly", level="yellow",
             anomaly=AnomalyParams(z=3.5, side="bad")),
    RuleSpec(name="entries-floor", kpi="entries", kind="threshold", level="blue",
             threshold=ThresholdParams(op="below", value=60)),
)  # fmt: skip


def seed_demo_alerts(ws: Workspace, wh: Warehouse) -> Evaluation:
    """Create the outbox channel and the demo rules (idempotent), evaluate the last
    :data:`DEMO_EVALUATION_DAYS` days and deliver the notifications to ``outbox/``."""
    engine = ws.ops_engine()
    ensure_outbox_channel(engine, DEFAULT_CHANNEL)
    existing = {r.name for r in list_rules(engine)}
    for spec in DEMO_RULES:
        if spec.name not in existing:
            add_rule(engine, spec)
    end = last_day(wh)
    if end is None:
        return Evaluation(None, None)
    start = end - timedelta(days=DEMO_EVALUATION_DAYS - 1)
    result = evaluate(engine, wh, date_from=start, date_to=end)
    deliver(ws, limit=1000)
    return result
