"""Money-like value: the points ledger and stored value, on a double-entry engine.

Public API: :class:`PointsLedger`, :class:`StoredValue`, :func:`enrol`,
:func:`trial_balance` and the errors.
"""

from storeops.loyalty.ledger import (
    IdempotencyConflictError,
    InsufficientBalanceError,
    LedgerError,
    UnknownMemberError,
    trial_balance,
)
from storeops.loyalty.members import enrol
from storeops.loyalty.points import PointsLedger, PointsPolicy
from storeops.loyalty.stored_value import StoredValue, TopUpBonus

__all__ = [
    "IdempotencyConflictError",
    "InsufficientBalanceError",
    "LedgerError",
    "PointsLedger",
    "PointsPolicy",
    "StoredValue",
    "TopUpBonus",
    "UnknownMemberError",
    "enrol",
    "trial_balance",
]
