"""Identifier types: how each is normalized, whether it is personal data, and how
many source records one value may link before it is treated as suspect.

A registry rather than ``if kind == …`` chains: adding a type is one entry.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from storeops.errors import StoreOpsError


class IdentifierError(StoreOpsError, ValueError):
    """An identifier type is unknown."""


#: Values that systems put in identifier fields when they have none. Matching on
#: them would merge strangers; they are dropped before linking.
BLOCKED_VALUES = frozenset(
    {"", "0", "null", "none", "nil", "n/a", "na", "undefined", "unknown", "test", "-",
     "13800138000", "13800000000", "13888888888", "13900000000", "00000000000",
     "11111111111", "12345678901", "test@test.com", "test@example.com", "a@a.com"}
)  # fmt: skip

_NON_DIGITS = re.compile(r"\D")
_CN_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def normalize_phone(value: str) -> str | None:
    """Mainland mobile numbers to 11 digits: '+86 138-0013-8001' -> '13800138001'."""
    digits = _NON_DIGITS.sub("", value)
    for prefix in ("0086", "86"):
        if len(digits) == 11 + len(prefix) and digits.startswith(prefix):
            digits = digits[len(prefix) :]
            break
    if _CN_MOBILE.match(digits):
        return digits
    # Other numbers (landlines, foreign mobiles) keep their digits with a '+' marker.
    return "+" + digits if len(digits) >= 7 else None


def normalize_email(value: str) -> str | None:
    text = value.strip().lower()
    return text if _EMAIL.match(text) else None


def normalize_token(value: str) -> str | None:
    text = value.strip()
    return text or None


def normalize_card(value: str) -> str | None:
    text = re.sub(r"\s+", "", value).upper()
    return text or None


@dataclass(frozen=True)
class IdentifierType:
    name: str
    normalize: Callable[[str], str | None]
    personal: bool  # personal data: encrypted in the ops database, hashed elsewhere
    max_records: int  # a value shared by more source records than this is not used to link
    description: str


IDENTIFIER_TYPES: dict[str, IdentifierType] = {
    t.name: t
    for t in (
        IdentifierType("phone", normalize_phone, True, 5, "Mobile phone number."),
        IdentifierType("email", normalize_email, True, 5, "E-mail address."),
        IdentifierType("wechat_unionid", normalize_token, True, 3, "WeChat unionid."),
        IdentifierType("wechat_openid", normalize_token, True, 3, "WeChat openid (per app)."),
        IdentifierType("member_card", normalize_card, False, 2, "Loyalty member card number."),
        IdentifierType("user_id", normalize_token, False, 2, "Online account id."),
        IdentifierType("anonymous_id", normalize_token, False, 10, "Device or cookie id."),
    )
}


def identifier_type(name: str) -> IdentifierType:
    try:
        return IDENTIFIER_TYPES[name]
    except KeyError:
        raise IdentifierError(
            f"unknown identifier type {name!r}; use one of {', '.join(IDENTIFIER_TYPES)}"
        ) from None


def normalize(kind: str, value: object) -> str | None:
    """The normalized value, or None when it is empty, invalid or blocked."""
    if value is None:
        return None
    text = str(value)
    if text.strip().lower() in BLOCKED_VALUES:
        return None
    normalized = identifier_type(kind).normalize(text)
    if normalized is None or normalized.lower() in BLOCKED_VALUES:
        return None
    return normalized
