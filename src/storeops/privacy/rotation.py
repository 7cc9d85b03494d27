"""Key rotation: re-encrypt every sealed field with the current key.

Put the new key first in ``STOREOPS_ENCRYPTION_KEY`` (``new:KEY,old:KEY``), run
``storeops keys rotate``, then drop the old key. Every encrypted column is listed in
:data:`SEALED_FIELDS` (table, key column, value column, the purpose it is bound to);
values already under the current key are left alone, so the command can be re-run
after an interruption.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, Table, select, update

from storeops.opsdb.ledger_tables import members
from storeops.opsdb.tables import identifiers
from storeops.privacy.crypto import FieldCipher


@dataclass(frozen=True)
class SealedField:
    table: Table
    key: str
    column: str
    purpose: Callable[[Any], str]


SEALED_FIELDS = (
    SealedField(identifiers, "id", "value_enc", lambda row: f"identifier:{row['id_type']}"),
    SealedField(members, "member_id", "phone_enc", lambda row: "member.phone"),
    SealedField(members, "member_id", "wechat_enc", lambda row: "member.wechat"),
)


def rotate(engine: Engine, cipher: FieldCipher, *, batch: int = 500) -> dict[str, int]:
    """Re-encrypt values sealed with an older key; counts per ``table.column``."""
    counts: dict[str, int] = {}
    for f in SEALED_FIELDS:
        col, key = f.table.c[f.column], f.table.c[f.key]
        extra = [f.table.c.id_type] if f.table is identifiers else []
        done = 0
        last: Any = None
        while True:
            query = select(key, col, *extra).where(col.is_not(None)).order_by(key).limit(batch)
            if last is not None:
                query = query.where(key > last)
            with engine.begin() as con:
                rows = con.execute(query).all()
                for row in rows:
                    done += _reseal(con, cipher, f, row._mapping)
            if len(rows) < batch:
                break
            last = rows[-1]._mapping[f.key]
        counts[f"{f.table.name}.{f.column}"] = done
    return counts


def _reseal(con: Any, cipher: FieldCipher, f: SealedField, row: Any) -> int:
    token = row[f.column]
    if not cipher.needs_rotation(token):
        return 0
    purpose = f.purpose(row)
    fresh = cipher.encrypt(cipher.decrypt(token, purpose=purpose), purpose=purpose)
    key = f.table.c[f.key]
    con.execute(update(f.table).where(key == row[f.key]).values({f.column: fresh}))
    return 1
