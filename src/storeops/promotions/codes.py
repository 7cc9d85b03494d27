"""Coupon codes: generated from an unambiguous alphabet, or imported, and normalised.

Generated codes are 16 characters drawn with :mod:`secrets` from 32 symbols without
``0 O 1 I`` (80 bits: guessing one live code among a million takes about 10^18
tries), printed in groups of four (``7KXQ-M3PD-…``). Input is normalised before any
lookup: upper case, spaces and dashes dropped, so ``7kxq m3pd…`` finds the same coupon.
Imported codes (from a partner or a printed batch) may use any letters and digits.
"""

from __future__ import annotations

import re
import secrets

from storeops.promotions.errors import PromotionError

ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
LENGTH = 16
MAX_LENGTH = 32
_VALID = re.compile(r"^[A-Z0-9]{4,32}$")


def generate(count: int, *, length: int = LENGTH) -> list[str]:
    """``count`` distinct random codes."""
    made: set[str] = set()
    while len(made) < count:
        made.add("".join(secrets.choice(ALPHABET) for _ in range(length)))
    return sorted(made)


def normalise(code: str) -> str:
    """The stored form of a code as typed or scanned; raises when it cannot be one."""
    clean = re.sub(r"[\s\-_]", "", code).upper()
    if not _VALID.match(clean):
        raise PromotionError(
            f"{code!r} is not a coupon code: 4 to 32 letters and digits (dashes and spaces "
            "are ignored)"
        )
    return clean


def display(code: str) -> str:
    """Groups of four for people: ``7KXQ-M3PD-R8TA-W2HN``."""
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))
