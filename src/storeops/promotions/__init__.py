"""Promotions and coupons: programs, a pure pricing function, coupon codes, single-use
redemption (核销) and voids that hold under concurrency.

Public API: :class:`PromotionService` (the ops-database service the POS API and the
CLI call), :func:`quote` and its data model (:class:`Basket`, :class:`Line`,
:class:`Customer`, :class:`Program`, :class:`Coupon`, :class:`Scope`,
:func:`make_program`), :func:`load_programs` (TOML definitions) and the errors. See
docs/promotions.md.
"""

from storeops.promotions.errors import (
    AlreadyVoidedError,
    CouponAlreadyRedeemedError,
    CouponNotApplicableError,
    CouponNotFoundError,
    LimitReachedError,
    ProgramDefinitionError,
    PromotionError,
    RedemptionNotFoundError,
    UnknownProgramError,
)
from storeops.promotions.model import (
    RULES,
    Basket,
    Coupon,
    Customer,
    Line,
    Program,
    Scope,
    make_program,
)
from storeops.promotions.pricing import REASONS, AppliedOffer, OfferCheck, Quote, quote
from storeops.promotions.service import PromotionService, program_to_dict
from storeops.promotions.toml_programs import load_programs

__all__ = [
    "REASONS",
    "RULES",
    "AlreadyVoidedError",
    "AppliedOffer",
    "Basket",
    "Coupon",
    "CouponAlreadyRedeemedError",
    "CouponNotApplicableError",
    "CouponNotFoundError",
    "Customer",
    "LimitReachedError",
    "Line",
    "OfferCheck",
    "Program",
    "ProgramDefinitionError",
    "PromotionError",
    "PromotionService",
    "Quote",
    "RedemptionNotFoundError",
    "Scope",
    "UnknownProgramError",
    "load_programs",
    "make_program",
    "program_to_dict",
    "quote",
]
