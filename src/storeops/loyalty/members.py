"""Members: enrolment (in store, mini-program, import), lookup by phone, display.

Phone and WeChat id are normalized, encrypted with the workspace's field cipher
(purpose-bound AES-GCM) and indexed with the keyed blind index, so a till can find a
member by phone without the database holding any phone number. ``member_view`` shows
them decrypted only to principals with ``pii:read``; everyone else sees them masked
(138****1234).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Engine, insert, select
from sqlalchemy.exc import IntegrityError

from storeops.errors import StoreOpsError
from storeops.identity.identifiers import normalize_phone, normalize_token
from storeops.loyalty.ledger import account_id
from storeops.opsdb import utcnow
from storeops.opsdb.ledger_tables import members
from storeops.privacy.crypto import BlindIndex, FieldCipher
from storeops.privacy.masking import mask_phone, mask_token

ASSETS = ("points", "stored_value")
CHANNELS = ("store", "mini_program", "online", "import")


class MemberError(StoreOpsError, ValueError):
    """A member cannot be enrolled or found as asked."""


@dataclass(frozen=True)
class PiiKeys:
    """The field cipher and blind index that protect members' personal data."""

    cipher: FieldCipher
    index: BlindIndex

    def seal(self, kind: str, value: str) -> tuple[str, str]:
        return self.cipher.encrypt(value, purpose=f"member.{kind}"), self.index(kind, value)

    def open(self, kind: str, token: str) -> str:
        return self.cipher.decrypt(token, purpose=f"member.{kind}")


def _normalized(kind: str, value: str | None) -> str | None:
    if value is None:
        return None
    norm = normalize_phone(value) if kind == "phone" else normalize_token(value)
    if norm is None:
        raise MemberError(f"{value!r} is not a usable {kind}")
    return norm


def enrol(
    engine: Engine,
    member_id: str,
    *,
    customer_id: str | None = None,
    store_id: str | None = None,
    tier: str = "standard",
    phone: str | None = None,
    wechat_id: str | None = None,
    birthday: date | None = None,
    associate_id: str | None = None,
    via: str = "store",
    keys: PiiKeys | None = None,
    at: datetime | None = None,
) -> dict[str, Any]:
    """Enrol ``member_id`` with its accounts. Idempotent: enrolling the same member
    again returns the existing row; a phone or WeChat id another member already has is
    refused."""
    if via not in CHANNELS:
        raise MemberError(f"unknown enrolment channel {via!r}; one of {', '.join(CHANNELS)}")
    values: dict[str, Any] = {
        "member_id": member_id,
        "customer_id": customer_id,
        "store_id": store_id,
        "tier": tier,
        "birthday": birthday,
        "associate_id": associate_id,
        "enrolled_via": via,
        "created_at": at or utcnow(),
        "tier_since": at or utcnow(),
    }
    for kind, raw in (("phone", phone), ("wechat", wechat_id)):
        norm = _normalized(kind, raw)
        if norm is None:
            continue
        if keys is None:
            raise MemberError(
                "personal data needs the encryption and blind-index keys "
                "(STOREOPS_ENCRYPTION_KEY, STOREOPS_BLIND_INDEX_KEY; `storeops keys generate`)"
            )
        values[f"{kind}_enc"], values[f"{kind}_index"] = keys.seal(kind, norm)
    try:
        with engine.begin() as con:
            con.execute(insert(members).values(**values))
    except IntegrityError:
        with engine.connect() as con:
            existing = con.execute(
                select(members.c.member_id).where(members.c.member_id == member_id)
            ).first()
        if existing is None:
            raise MemberError(
                "that phone number or WeChat id already belongs to another member"
            ) from None
    for asset in ASSETS:
        account_id(engine, member_id, asset, "balance")
    return member_view(engine, member_id, keys=None)


def find_by_phone(engine: Engine, phone: str, keys: PiiKeys) -> str | None:
    """The member id with this phone number, if any."""
    norm = _normalized("phone", phone)
    assert norm is not None
    with engine.connect() as con:
        found = con.execute(
            select(members.c.member_id).where(members.c.phone_index == keys.index("phone", norm))
        ).scalar_one_or_none()
    return None if found is None else str(found)


def member_view(
    engine: Engine, member_id: str, *, keys: PiiKeys | None, reveal: bool = False
) -> dict[str, Any]:
    """The member as shown: personal data masked unless ``reveal`` (pii:read) and keys."""
    with engine.connect() as con:
        row = con.execute(select(members).where(members.c.member_id == member_id)).first()
    if row is None:
        raise MemberError(f"no member {member_id!r}")
    m = dict(row._mapping)
    out: dict[str, Any] = {
        k: (v.isoformat() if isinstance(v, date | datetime) else v)
        for k, v in m.items()
        if not k.endswith(("_enc", "_index"))
    }
    for kind, masker in (("phone", mask_phone), ("wechat", mask_token)):
        token = m[f"{kind}_enc"]
        if token is None:
            out[kind] = None
        elif keys is None:
            out[kind] = "***"
        else:
            plain = keys.open(kind, token)
            out[kind] = plain if reveal else masker(plain)
    return out
