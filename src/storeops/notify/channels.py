"""Channels: named destinations stored in the ops database, one registry of kinds.

``CHANNEL_KINDS`` maps each kind to its settings model and adapter, so adding a kind
is one entry here and one module. A channel's settings are validated when it is
added; its secret (webhook signing key, WeCom robot key, DingTalk access token and
signing secret, SMTP password) is encrypted with the workspace's field cipher
(:mod:`storeops.privacy.crypto`, AES-256-GCM bound to the channel's name) and never
shown again.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ValidationError
from sqlalchemy import Engine, delete, insert, select
from sqlalchemy.exc import IntegrityError

from storeops.notify import dingtalk, outbox, smtp, webhook, wecom
from storeops.notify.base import DeliveryContext, NotifyError
from storeops.opsdb import utcnow
from storeops.opsdb.alert_tables import notify_channels
from storeops.privacy.crypto import FieldCipher


@dataclass(frozen=True)
class ChannelKind:
    settings: type[BaseModel]
    deliver: Callable[[DeliveryContext], str]
    #: Whether the kind cannot work without a secret.
    needs_secret: bool
    secret_help: str
    #: A robot URL pasted whole carries its credential in this query parameter: it is
    #: moved out of the plain settings into the sealed secret.
    url_secret: str | None = None


CHANNEL_KINDS: dict[str, ChannelKind] = {
    "outbox": ChannelKind(outbox.OutboxConfig, outbox.deliver, False, "none"),
    "webhook": ChannelKind(webhook.WebhookConfig, webhook.deliver, False,
                           "the HMAC signing key (recommended)"),
    "wecom": ChannelKind(wecom.WecomConfig, wecom.deliver, True,
                         "the robot's key=… value (or paste the whole webhook URL)", "key"),
    "dingtalk": ChannelKind(dingtalk.DingtalkConfig, dingtalk.deliver, True,
                            "'<access_token>' or '<access_token> <SEC… signing secret>' "
                            "(or paste the whole webhook URL and give the SEC… secret)",
                            "access_token"),
    "smtp": ChannelKind(smtp.SmtpConfig, smtp.deliver, False,
                        "the SMTP password (with a username)"),
}  # fmt: skip

DEFAULT_CHANNEL = "outbox"


@dataclass(frozen=True)
class Channel:
    channel_id: int
    name: str
    kind: str
    config: dict[str, Any]
    has_secret: bool
    enabled: bool
    created_at: datetime

    def to_dict(self) -> dict[str, Any]:
        return {
            "channel_id": self.channel_id,
            "name": self.name,
            "kind": self.kind,
            "config": self.config,
            "has_secret": self.has_secret,
            "enabled": self.enabled,
            "created_at": self.created_at.isoformat(),
        }


def secret_purpose(name: str) -> str:
    return f"notify.channel:{name}"


def validate_settings(kind: str, config: dict[str, Any]) -> dict[str, Any]:
    """The settings of a ``kind`` channel, checked and with defaults filled in."""
    spec = CHANNEL_KINDS.get(kind)
    if spec is None:
        raise NotifyError(f"unknown channel kind {kind!r}; one of {', '.join(CHANNEL_KINDS)}")
    try:
        return spec.settings.model_validate(config).model_dump(mode="json")
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'settings'}: {e['msg']}" for e in exc.errors()
        )
        raise NotifyError(f"invalid settings for a {kind} channel: {problems}") from None


def add_channel(
    engine: Engine,
    name: str,
    kind: str,
    config: dict[str, Any] | None = None,
    *,
    secret: str | None = None,
    cipher: FieldCipher | None = None,
) -> Channel:
    """Add a channel; a secret needs ``cipher`` (the workspace's field cipher)."""
    if not name or len(name) > 64 or not name.replace("-", "").replace("_", "").isalnum():
        raise NotifyError(f"channel name {name!r}: use 1-64 letters, digits, '-' or '_'")
    settings = validate_settings(kind, config or {})
    spec = CHANNEL_KINDS[kind]
    if spec.url_secret and "url" in settings:
        settings["url"], secret = _credential_from_url(settings["url"], spec.url_secret, secret)
    if spec.needs_secret and not secret:
        raise NotifyError(f"a {kind} channel needs a secret: {spec.secret_help}")
    if secret and cipher is None:
        raise NotifyError(
            "channel secrets are stored encrypted: configure STOREOPS_ENCRYPTION_KEY "
            "(create one with `storeops keys generate`)"
        )
    sealed = cipher.encrypt(secret, purpose=secret_purpose(name)) if secret and cipher else None
    try:
        with engine.begin() as con:
            con.execute(
                insert(notify_channels).values(
                    name=name, kind=kind, config=settings, secret_enc=sealed, enabled=True,
                    created_at=utcnow(),
                )
            )  # fmt: skip
    except IntegrityError:
        raise NotifyError(
            f"a channel named {name!r} exists; remove it first (`storeops channels remove`)"
        ) from None
    return get_channel(engine, name)


def _credential_from_url(url: str, param: str, secret: str | None) -> tuple[str, str | None]:
    """``url`` without its ``param`` query value, and the secret with that value first
    (a DingTalk signing secret given separately follows it after a space)."""
    parts = urllib.parse.urlsplit(url)
    query = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
    found = [v for k, v in query if k == param]
    if not found:
        return url, secret
    rest = urllib.parse.urlencode([(k, v) for k, v in query if k != param])
    bare = urllib.parse.urlunsplit(parts._replace(query=rest))
    if param == "access_token":  # DingTalk: the token, then the signing secret if any
        return bare, " ".join([found[0], *([secret] if secret else [])])
    if secret and secret != found[0]:
        raise NotifyError(f"the URL's {param}= and the secret differ: give only one")
    return bare, found[0]


def _channel(row: Any) -> Channel:
    return Channel(
        channel_id=int(row.channel_id),
        name=row.name,
        kind=row.kind,
        config=dict(row.config),
        has_secret=row.secret_enc is not None,
        enabled=bool(row.enabled),
        created_at=row.created_at,
    )


def get_channel(engine: Engine, name: str) -> Channel:
    with engine.connect() as con:
        row = con.execute(select(notify_channels).where(notify_channels.c.name == name)).first()
    if row is None:
        known = ", ".join(c.name for c in list_channels(engine)) or "none yet"
        raise NotifyError(
            f"no channel named {name!r} (channels: {known}); add it with `storeops channels add`"
        )
    return _channel(row)


def list_channels(engine: Engine) -> list[Channel]:
    with engine.connect() as con:
        rows = con.execute(select(notify_channels).order_by(notify_channels.c.name)).all()
    return [_channel(r) for r in rows]


def remove_channel(engine: Engine, name: str) -> None:
    get_channel(engine, name)
    with engine.begin() as con:
        con.execute(delete(notify_channels).where(notify_channels.c.name == name))


def ensure_outbox_channel(engine: Engine, name: str = DEFAULT_CHANNEL) -> Channel:
    """The default ``outbox`` channel, created when missing (idempotent)."""
    with engine.connect() as con:
        row = con.execute(select(notify_channels).where(notify_channels.c.name == name)).first()
    if row is not None:
        return _channel(row)
    try:
        return add_channel(engine, name, "outbox")
    except NotifyError:  # created meanwhile by someone else
        return get_channel(engine, name)


def open_secret(row: Any, cipher: FieldCipher | None) -> str | None:
    if row.secret_enc is None:
        return None
    if cipher is None:
        raise NotifyError(
            f"channel {row.name!r} has an encrypted secret and no encryption key is "
            "configured: set STOREOPS_ENCRYPTION_KEY to the key it was added with"
        )
    return cipher.decrypt(row.secret_enc, purpose=secret_purpose(row.name))
