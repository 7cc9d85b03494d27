"""Behaviour analytics over Segment-shaped events: funnels, retention and paths.

Each insight is one module with a typed query, validation rules with stable codes
(:class:`BehaviourError.code`), ``to_expr()`` building the Ibis expression and
``calculate()`` returning a typed result. Semantics: ``docs/behaviour.md``.
"""

from storeops.behaviour.events import BREAKDOWNS, BehaviourError, person_events
from storeops.behaviour.funnel import FunnelInsight, FunnelQuery, FunnelResult, FunnelStep

__all__ = [
    "BREAKDOWNS",
    "BehaviourError",
    "FunnelInsight",
    "FunnelQuery",
    "FunnelResult",
    "FunnelStep",
    "person_events",
]
