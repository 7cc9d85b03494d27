"""Alerts: rules on KPIs (fixed thresholds, robust anomaly detection on the seasonal
residual) with levels red / yellow / blue, evaluated on a schedule; alert events with
de-duplication per rule, store and day; notifications through :mod:`storeops.notify`;
acknowledgement.

Public API: :class:`RuleSpec` / :func:`add_rule` / :func:`list_rules`,
:func:`evaluate`, :func:`list_alerts` and :func:`acknowledge` (for the CLI, the API and
the dashboard's alerts page).
"""

from __future__ import annotations

from storeops.alerts.evaluate import Evaluation, EvaluationError, evaluate
from storeops.alerts.events import (
    Alert,
    AlertNotFoundError,
    AlertQueryError,
    acknowledge,
    get_alert,
    list_alerts,
)
from storeops.alerts.rules import (
    ALERT_LEVELS,
    AlertRuleError,
    AnomalyParams,
    Rule,
    RuleSpec,
    ThresholdParams,
    add_rule,
    get_rule,
    list_rules,
    remove_rule,
    set_enabled,
)

__all__ = [
    "ALERT_LEVELS",
    "Alert",
    "AlertNotFoundError",
    "AlertQueryError",
    "AlertRuleError",
    "AnomalyParams",
    "Evaluation",
    "EvaluationError",
    "Rule",
    "RuleSpec",
    "ThresholdParams",
    "acknowledge",
    "add_rule",
    "evaluate",
    "get_alert",
    "get_rule",
    "list_alerts",
    "list_rules",
    "remove_rule",
    "set_enabled",
]
