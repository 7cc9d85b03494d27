"""Consent per person and purpose (PIPL): given and withdrawn, with full history.

A person's consent to a purpose is *current* at time ``t`` when a consent row was
given at or before ``t`` and not withdrawn at or before ``t``. Giving consent that is
already current changes nothing; withdrawing closes the current row; consenting again
later opens a new row, so the history shows every change. Messaging checks
:func:`has_consent` at send time.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Engine, and_, insert, or_, select, update

from storeops.errors import StoreOpsError
from storeops.opsdb import audit, utcnow
from storeops.opsdb.access_tables import consents

#: Purposes consent is asked for.
PURPOSES = ("marketing", "sensitive_data", "profiling")


class ConsentError(StoreOpsError, ValueError):
    """A consent request is not valid."""


def _check(purpose: str) -> None:
    if purpose not in PURPOSES:
        raise ConsentError(f"unknown consent purpose {purpose!r}; one of {', '.join(PURPOSES)}")


def _current(subject_id: str, purpose: str, at: datetime) -> Any:
    c = consents.c
    return and_(
        c.subject_id == subject_id,
        c.purpose == purpose,
        c.given_at <= at,
        or_(c.withdrawn_at.is_(None), c.withdrawn_at > at),
    )


def give(engine: Engine, subject_id: str, purpose: str, *, source: str,
         at: datetime | None = None) -> bool:  # fmt: skip
    """Record consent; False when it was already current."""
    _check(purpose)
    when = at or utcnow()
    with engine.begin() as con:
        if con.execute(
            select(consents.c.consent_id).where(_current(subject_id, purpose, when))
        ).first():
            return False
        con.execute(insert(consents).values(subject_id=subject_id, purpose=purpose,
                                            given_at=when, source=source))  # fmt: skip
        audit(
            con, actor=source, action="consent.give", target=subject_id, detail={"purpose": purpose}
        )
    return True


def withdraw(engine: Engine, subject_id: str, purpose: str, *, source: str,
             at: datetime | None = None) -> bool:  # fmt: skip
    """Withdraw current consent; False when there was none."""
    _check(purpose)
    when = at or utcnow()
    with engine.begin() as con:
        done = con.execute(
            update(consents).where(_current(subject_id, purpose, when)).values(withdrawn_at=when)
        ).rowcount
        if done:
            audit(con, actor=source, action="consent.withdraw", target=subject_id,
                  detail={"purpose": purpose})  # fmt: skip
    return bool(done)


def has_consent(engine: Engine, subject_id: str, purpose: str, at: datetime | None = None) -> bool:
    _check(purpose)
    with engine.connect() as con:
        row = con.execute(
            select(consents.c.consent_id).where(_current(subject_id, purpose, at or utcnow()))
        ).first()
    return row is not None


def history(engine: Engine, subject_id: str) -> list[dict[str, Any]]:
    c = consents.c
    with engine.connect() as con:
        rows = con.execute(
            select(c.purpose, c.given_at, c.withdrawn_at, c.source)
            .where(c.subject_id == subject_id)
            .order_by(c.given_at, c.consent_id)
        ).all()
    return [
        {
            "purpose": r.purpose,
            "given_at": r.given_at.isoformat(),
            "withdrawn_at": r.withdrawn_at.isoformat() if r.withdrawn_at else None,
            "source": r.source,
        }
        for r in rows
    ]
