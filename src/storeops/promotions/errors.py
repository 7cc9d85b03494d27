"""Errors of promotions and coupons.

::

    StoreOpsError
    └── PromotionError (ValueError)              a promotion operation cannot be done
        ├── ProgramDefinitionError               a program's kind, params or scope is wrong
        ├── UnknownProgramError (LookupError)    no program with that id
        ├── CouponNotFoundError (LookupError)    no coupon with that code
        ├── CouponNotApplicableError             the coupon does not apply to this basket
        │                                        (``.code`` is the stable reason code)
        ├── CouponAlreadyRedeemedError           someone redeemed it first (核销 is single use)
        ├── LimitReachedError                    the program's budget, uses or the
        │                                        customer's limit would be exceeded
        └── RedemptionNotFoundError (LookupError)  no such redemption to void
            AlreadyVoidedError                   the redemption was voided (by another key)

An idempotency key reused for a different request raises the ledger's
:class:`~storeops.loyalty.IdempotencyConflictError`.
"""

from __future__ import annotations

from storeops.errors import StoreOpsError


class PromotionError(StoreOpsError, ValueError):
    """A promotion or coupon operation cannot be done as asked."""


class ProgramDefinitionError(PromotionError):
    """A program definition (kind, parameters, scope, limits) is invalid."""


class UnknownProgramError(PromotionError, LookupError):
    """No program with that id."""


class CouponNotFoundError(PromotionError, LookupError):
    """No coupon with that code."""


class CouponNotApplicableError(PromotionError):
    """The coupon cannot be used on this basket; ``reason`` is a stable code."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


class CouponAlreadyRedeemedError(CouponNotApplicableError):
    """The coupon was redeemed already (by this or another terminal)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, "already_redeemed")


class LimitReachedError(CouponNotApplicableError):
    """A budget, a total-uses limit or a per-customer limit would be exceeded."""


class RedemptionNotFoundError(PromotionError, LookupError):
    """No redemption with that id."""


class AlreadyVoidedError(PromotionError):
    """The redemption was voided already (under another idempotency key)."""
