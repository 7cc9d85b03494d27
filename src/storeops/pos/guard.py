"""Coupon-code guessing: a rate limit and a lockout per caller.

Codes carry about 80 random bits, so guessing one is hopeless — unless a caller can try
without limit. Each unknown code a caller sends counts as a failure; after
``max_failures`` within ``window`` the caller's requests with coupon codes are refused
for ``lockout`` (HTTP 429 with ``Retry-After``), and the lockout is written to the
audit log. Known codes that do not apply (expired, used) do not count: that is a
cashier's honest mistake, not a guess. Counts live in the serving process.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from storeops.errors import StoreOpsError


class TooManyAttemptsError(StoreOpsError, PermissionError):
    """The caller sent too many unknown coupon codes (HTTP 429)."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@dataclass
class CouponGuard:
    max_failures: int = 10
    window: float = 600.0
    lockout: float = 900.0
    clock: Callable[[], float] = time.monotonic
    _failures: dict[str, deque[float]] = field(default_factory=dict)
    _locked: dict[str, float] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def check(self, caller: str) -> None:
        """Raise while ``caller`` is locked out."""
        with self._lock:
            until = self._locked.get(caller)
            now = self.clock()
            if until is not None and until > now:
                wait = int(until - now) + 1
                raise TooManyAttemptsError(
                    f"too many unknown coupon codes from this till; try again in {wait} s",
                    wait,
                )
            if until is not None:
                del self._locked[caller]

    def failed(self, caller: str) -> bool:
        """Count an unknown code; True when this failure locks the caller out."""
        with self._lock:
            now = self.clock()
            seen = self._failures.setdefault(caller, deque())
            seen.append(now)
            while seen and seen[0] <= now - self.window:
                seen.popleft()
            if len(seen) >= self.max_failures:
                self._locked[caller] = now + self.lockout
                seen.clear()
                return True
            return False
