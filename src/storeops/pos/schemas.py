"""Request bodies of the POS API (validated; unknown fields refused, so a client cannot
slip in ``balance`` or ``discount_fen``)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from storeops.promotions.model import Basket, Line


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PosLine(_Strict):
    sku: str = Field(min_length=1, max_length=64)
    unit_price_fen: int = Field(ge=0, le=10**10, description="Price per unit before discounts.")
    quantity: int = Field(default=1, ge=1, le=10_000)
    category: str | None = Field(default=None, max_length=64)


class QuoteRequest(_Strict):
    """A basket at the till, who buys, and how they want to pay with value."""

    store_id: str = Field(min_length=1, max_length=64)
    lines: list[PosLine] = Field(min_length=1, max_length=500)
    member_id: str | None = Field(default=None, max_length=64)
    coupon_codes: list[str] = Field(default_factory=list, max_length=10)
    points_to_use: int = Field(default=0, ge=0, le=10**9, description="Points paid with.")
    stored_value_fen: int = Field(default=0, ge=0, le=10**10, description="Stored value used.")

    def basket(self, order_id: str | None = None) -> Basket:
        return Basket(
            lines=tuple(
                Line(ln.sku, ln.unit_price_fen, ln.quantity, ln.category) for ln in self.lines
            ),
            store_id=self.store_id,
            channel="store",
            order_id=order_id,
        )


class CommitRequest(QuoteRequest):
    order_id: str = Field(min_length=1, max_length=128)
    payment: str = Field(
        default="cash", pattern="^(cash|card|wechat_pay|alipay|stored_value|other)$"
    )


class RefundRequest(_Strict):
    store_id: str = Field(min_length=1, max_length=64)
    order_id: str = Field(min_length=1, max_length=128)
    refund_id: str = Field(min_length=1, max_length=128)
    amount_fen: int = Field(gt=0, le=10**10, description="Amount given back, in fen.")
    reason: str | None = Field(default=None, max_length=256)
