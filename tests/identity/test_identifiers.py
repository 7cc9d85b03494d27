"""Normalization of identifiers before matching."""

from __future__ import annotations

import pytest

from storeops.identity.identifiers import IdentifierError, normalize


@pytest.mark.parametrize(
    ("kind", "raw", "expected"),
    [
        ("phone", "13912345678", "13912345678"),
        ("phone", "+86 139-1234-5678", "13912345678"),
        ("phone", "0086 13912345678", "13912345678"),
        ("phone", "86-139 1234 5678", "13912345678"),
        ("phone", "(021) 6234-5678", "+02162345678"),
        ("phone", "13800138000", None),  # the famous test number
        ("phone", "+86 138 0013 8000", None),  # ... in any spelling
        ("phone", "123", None),
        ("email", "  Li.Lei@Example.COM ", "li.lei@example.com"),
        ("email", "not-an-email", None),
        ("email", "test@test.com", None),
        ("member_card", " m 0001 23 ", "M000123"),
        ("wechat_openid", " oAbC123 ", "oAbC123"),
        ("user_id", "null", None),
        ("user_id", "0", None),
        ("anonymous_id", "", None),
    ],
)
def test_normalize(kind: str, raw: str, expected: str | None) -> None:
    assert normalize(kind, raw) == expected


def test_unknown_type_lists_the_known_ones() -> None:
    with pytest.raises(IdentifierError, match="phone, email"):
        normalize("passport", "X1")
