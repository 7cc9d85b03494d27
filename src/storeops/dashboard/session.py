"""Sessions, CSRF tokens and the language cookie of the dashboard.

**Session.** After a correct login (:func:`storeops.access.authenticate`: argon2id,
lockout) the browser gets ``storeops_session``: the username and the issue and
expiry times, JSON in base64url, signed with HMAC-SHA256 under the workspace's
``session_key``. The cookie is ``HttpOnly`` (no script reads it), ``SameSite=Lax``
(not sent with cross-site POSTs) and ``Secure`` when served over HTTPS. Every request
reads the user again from the ops database, so a disabled user or a changed store
scope counts at once; logging out clears the cookie.

Without ``session_key`` a random key is made per process: sessions then end when the
server restarts, which is safe but inconvenient — set ``STOREOPS_SESSION_KEY`` (or
``session_key`` in storeops.toml) for sessions that survive restarts.

**CSRF.** Every form that changes something (login, logout, acknowledging an
alert) carries a token that must equal the ``storeops_csrf`` cookie, and the token is
signed with the session key, so a cookie planted by a neighbouring site cannot be
made to match (double-submit cookie, signed). Other origins cannot read the cookie or
the page, so they cannot put the token in a form.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import secrets
import time
from dataclasses import dataclass
from typing import Any

from storeops.settings import Settings

log = logging.getLogger("storeops.dashboard")

SESSION_COOKIE = "storeops_session"
CSRF_COOKIE = "storeops_csrf"
LANG_COOKIE = "storeops_lang"
#: How long a login lasts.
SESSION_SECONDS = 8 * 3600
#: The form field that carries the CSRF token.
CSRF_FIELD = "csrf_token"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def session_key(settings: Settings) -> bytes:
    if settings.session_key is not None and settings.session_key.get_secret_value():
        return hashlib.sha256(settings.session_key.get_secret_value().encode()).digest()
    log.warning(
        "no session_key configured: using a random key, so logins end when the server "
        "restarts; set STOREOPS_SESSION_KEY to keep them"
    )
    return secrets.token_bytes(32)


@dataclass(frozen=True)
class Signer:
    """Signs and checks small JSON payloads with HMAC-SHA256."""

    key: bytes

    def _mac(self, purpose: str, payload: str) -> str:
        return _b64(hmac.new(self.key, f"{purpose}:{payload}".encode(), hashlib.sha256).digest())

    def dumps(self, purpose: str, data: dict[str, Any]) -> str:
        payload = _b64(json.dumps(data, separators=(",", ":")).encode())
        return f"{payload}.{self._mac(purpose, payload)}"

    def loads(self, purpose: str, token: str | None) -> dict[str, Any] | None:
        """The payload of a genuine token, else None."""
        if not token or token.count(".") != 1:
            return None
        payload, mac = token.split(".")
        if not hmac.compare_digest(mac, self._mac(purpose, payload)):
            return None
        try:
            data = json.loads(_unb64(payload))
        except (ValueError, UnicodeDecodeError):
            return None
        return data if isinstance(data, dict) else None

    # -- sessions --------------------------------------------------------------------
    def new_session(self, username: str, now: float | None = None) -> str:
        issued = int(now if now is not None else time.time())
        return self.dumps(
            "session", {"u": username, "iat": issued, "exp": issued + SESSION_SECONDS}
        )

    def session_user(self, token: str | None, now: float | None = None) -> str | None:
        data = self.loads("session", token)
        if data is None or not isinstance(data.get("u"), str):
            return None
        exp = data.get("exp")
        if not isinstance(exp, int) or exp <= (now if now is not None else time.time()):
            return None
        return str(data["u"])

    # -- CSRF --------------------------------------------------------------------------
    def new_csrf(self) -> str:
        return self.dumps("csrf", {"n": secrets.token_urlsafe(16)})

    def csrf_ok(self, cookie: str | None, form_value: str | None) -> bool:
        """True when the form's token is the cookie's and genuinely ours."""
        if not cookie or not form_value or not hmac.compare_digest(cookie, form_value):
            return False
        return self.loads("csrf", cookie) is not None
