"""Member enrolment: the member row and their value accounts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Engine, insert, select
from sqlalchemy.exc import IntegrityError

from storeops.loyalty.ledger import account_id
from storeops.opsdb import utcnow
from storeops.opsdb.ledger_tables import members

ASSETS = ("points", "stored_value")


def enrol(
    engine: Engine,
    member_id: str,
    *,
    customer_id: str | None = None,
    store_id: str | None = None,
    tier: str = "standard",
    at: datetime | None = None,
) -> dict[str, Any]:
    """Enrol ``member_id`` (idempotent: enrolling again returns the existing member)."""
    try:
        with engine.begin() as con:
            con.execute(
                insert(members).values(
                    member_id=member_id,
                    customer_id=customer_id,
                    store_id=store_id,
                    tier=tier,
                    created_at=at or utcnow(),
                )
            )
    except IntegrityError:
        pass  # already a member
    for asset in ASSETS:
        account_id(engine, member_id, asset, "balance")
    with engine.connect() as con:
        row = con.execute(select(members).where(members.c.member_id == member_id)).one()
    return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in row._mapping.items()}
