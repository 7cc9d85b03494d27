"""Masked display of personal data for people without permission to see it."""

from __future__ import annotations

from collections.abc import Callable


def mask_phone(value: str) -> str:
    """'13912345678' -> '139****5678'."""
    digits = value.lstrip("+")
    if len(digits) < 7:
        return "*" * len(value)
    return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]


def mask_email(value: str) -> str:
    """'lilei@example.com' -> 'l***@example.com'."""
    local, at, domain = value.partition("@")
    return (local[:1] + "***" + at + domain) if at else "***"


def mask_token(value: str) -> str:
    return value[:3] + "***" if len(value) > 6 else "***"


MASKERS: dict[str, Callable[[str], str]] = {
    "phone": mask_phone,
    "email": mask_email,
    "wechat_unionid": mask_token,
    "wechat_openid": mask_token,
}


def mask(kind: str, value: str) -> str:
    return MASKERS.get(kind, lambda v: v)(value)
