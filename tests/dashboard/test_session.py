"""Signed sessions and CSRF tokens."""

from __future__ import annotations

from storeops.dashboard.session import SESSION_SECONDS, Signer


def test_sessions_are_signed_and_expire() -> None:
    signer = Signer(b"k" * 32)
    token = signer.new_session("alice", now=1_000_000)
    assert signer.session_user(token, now=1_000_001) == "alice"
    assert signer.session_user(token, now=1_000_000 + SESSION_SECONDS) is None
    assert Signer(b"x" * 32).session_user(token, now=1_000_001) is None  # other key
    payload, mac = token.split(".")
    forged = signer.dumps("session", {"u": "root", "iat": 0, "exp": 2_000_000})
    assert signer.session_user(forged.split(".")[0] + "." + mac, now=1_000_001) is None
    assert signer.session_user(payload + ".", now=1_000_001) is None
    assert signer.session_user("garbage", now=1_000_001) is None


def test_a_csrf_token_is_not_a_session() -> None:
    signer = Signer(b"k" * 32)
    csrf = signer.new_csrf()
    assert signer.csrf_ok(csrf, csrf)
    assert not signer.csrf_ok(csrf, signer.new_csrf())
    assert not signer.csrf_ok("a.b", "a.b")  # not signed by us
    assert signer.session_user(csrf) is None  # purposes are signed apart
    session = signer.new_session("alice")
    assert not signer.csrf_ok(session, session)
