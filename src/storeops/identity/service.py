"""Identity use cases over a workspace: link identifiers, resolve, merge, unmerge.

Personal identifiers are normalized, blind-indexed and encrypted before they
are stored (ops database only); the warehouse receives the resolved mapping
``mart_customer_map`` (source, record_id, customer_id) — pseudonymous ids only —
which the customer analytics apply, so past orders and events follow a merge
without being rewritten.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
from sqlalchemy import select

from storeops.analytics.purchases import CUSTOMER_MAP_MART
from storeops.errors import ImportFileError, StoreOpsError
from storeops.identity.identifiers import IDENTIFIER_TYPES, normalize
from storeops.identity.resolve import Override, Resolution, resolve
from storeops.opsdb import audit, init_ops_database, make_engine
from storeops.opsdb.tables import identifiers, identity_overrides
from storeops.privacy.crypto import blind_index_from, cipher_from
from storeops.workspace import Workspace


class IdentityError(StoreOpsError, ValueError):
    """An identity operation cannot be done as asked."""


@dataclass
class LinkReport:
    source: str
    records: int
    identifiers_read: int
    added: int
    already_known: int
    dropped: dict[str, int]  # id_type -> empty, invalid or blocked values

    def to_dict(self) -> dict[str, Any]:
        return self.__dict__.copy()


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def link_file(ws: Workspace, path: Path, *, source: str) -> LinkReport:
    """Store the identifiers of a source's records (CSV: record_id + identifier columns)."""
    if not path.is_file():
        raise ImportFileError(f"{path} does not exist")
    frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    if "record_id" not in frame.columns:
        raise ImportFileError(
            f"{path.name} needs a record_id column (the source's own customer key) and one "
            f"or more of: {', '.join(IDENTIFIER_TYPES)}"
        )
    kinds = [c for c in frame.columns if c in IDENTIFIER_TYPES]
    if not kinds:
        raise ImportFileError(
            f"{path.name} has no identifier columns; name them one of: "
            + ", ".join(IDENTIFIER_TYPES)
        )
    cipher, index = cipher_from(ws.settings), blind_index_from(ws.settings)
    rows: list[dict[str, Any]] = []
    dropped: dict[str, int] = {}
    read = 0
    now = _now()
    for kind in kinds:
        spec = IDENTIFIER_TYPES[kind]
        values = frame[["record_id", kind]]
        values = values[values[kind].str.strip() != ""]
        read += len(values)
        # Normalize each distinct value once.
        normal = {v: normalize(kind, v) for v in values[kind].unique()}
        dropped[kind] = 0
        for record_id, raw in values.itertuples(index=False):
            norm = normal[raw]
            if norm is None or not record_id.strip():
                dropped[kind] += 1
                continue
            rows.append(
                {
                    "source": source,
                    "record_id": record_id.strip(),
                    "id_type": kind,
                    "blind_index": index(kind, norm),
                    "value_enc": cipher.encrypt(norm, purpose=f"identifier:{kind}")
                    if spec.personal
                    else None,
                    "value_plain": None if spec.personal else norm,
                    "created_at": now,
                }
            )
    init_ops_database(ws.settings.ops_url)
    engine = make_engine(ws.settings.ops_url, lock_timeout_seconds=ws.settings.lock_timeout_seconds)
    with engine.begin() as con:
        known = {
            tuple(r)
            for r in con.execute(
                select(
                    identifiers.c.record_id, identifiers.c.id_type, identifiers.c.blind_index
                ).where(identifiers.c.source == source)
            )
        }
        new = {(r["record_id"], r["id_type"], r["blind_index"]): r for r in rows}
        fresh = [r for k, r in new.items() if k not in known]
        if fresh:
            con.execute(identifiers.insert(), fresh)
        audit(
            con,
            actor="cli",
            action="identity.link",
            target=source,
            detail={"file": path.name, "added": len(fresh)},
        )
    engine.dispose()
    return LinkReport(
        source,
        int(frame["record_id"].nunique()),
        read,
        len(fresh),
        len(new) - len(fresh),
        dropped,
    )


def _load(ws: Workspace) -> tuple[pd.DataFrame, list[Override]]:
    init_ops_database(ws.settings.ops_url)
    engine = make_engine(ws.settings.ops_url)
    with engine.connect() as con:
        links = pd.DataFrame(
            con.execute(
                select(
                    identifiers.c.source,
                    identifiers.c.record_id,
                    identifiers.c.id_type,
                    identifiers.c.blind_index,
                )
            ).all(),
            columns=["source", "record_id", "id_type", "blind_index"],
        )
        overrides = [
            Override(r.action, r.record_id, r.other_record_id)
            for r in con.execute(select(identity_overrides).order_by(identity_overrides.c.id))
        ]
    engine.dispose()
    return links, overrides


def resolve_workspace(ws: Workspace) -> Resolution:
    """Resolve all stored identifiers and publish ``mart_customer_map``."""
    links, overrides = _load(ws)
    if links.empty:
        raise IdentityError(
            "no identifiers are stored yet: link source records first with "
            "`storeops customers link FILE --source NAME`"
        )
    result = resolve(links, overrides)
    with ws.warehouse() as wh:
        wh.write_mart(CUSTOMER_MAP_MART, pa.Table.from_pandas(result.mapping, preserve_index=False))
    return result


def override(
    ws: Workspace, action: str, record: str, other: str | None, *, reason: str, actor: str = "cli"
) -> Resolution:
    """Record a manual merge or unmerge (audited), then resolve again."""
    links, _ = _load(ws)
    known = set(links["record_id"])
    for r in (record, other):
        if r is not None and r not in known:
            raise IdentityError(
                f"record {r!r} has no stored identifiers; check the id "
                "(see `storeops customers resolve --json`) or link its source first"
            )
    if not reason.strip():
        raise IdentityError("a reason is required for manual identity changes (--reason)")
    engine = make_engine(ws.settings.ops_url)
    with engine.begin() as con:
        con.execute(
            identity_overrides.insert().values(
                action=action,
                record_id=record,
                other_record_id=other,
                actor=actor,
                reason=reason,
                created_at=_now(),
            )
        )
        audit(
            con,
            actor=actor,
            action=f"identity.{action}",
            target=record,
            detail={"other": other, "reason": reason},
        )
    engine.dispose()
    return resolve_workspace(ws)


def identity_records(ws: Workspace, customer_id: str) -> list[dict[str, str]]:
    """The source records and masked identifiers behind one customer."""
    from storeops.privacy.masking import mask

    with ws.warehouse() as wh:
        if CUSTOMER_MAP_MART in wh.con.list_tables():
            m = wh.mart(CUSTOMER_MAP_MART)
            records = wh.to_pandas(m.filter(m.customer_id == customer_id))["record_id"].tolist()
        else:
            records = [customer_id]
    if not records:
        return []
    init_ops_database(ws.settings.ops_url)
    engine = make_engine(ws.settings.ops_url)
    with engine.connect() as con:
        rows = con.execute(
            select(identifiers)
            .where(identifiers.c.record_id.in_(records))
            .order_by(identifiers.c.source, identifiers.c.record_id, identifiers.c.id_type)
        ).all()
    engine.dispose()
    if not rows:
        return []
    cipher = cipher_from(ws.settings) if any(r.value_enc for r in rows) else None
    out = []
    for r in rows:
        if r.value_enc and cipher is not None:
            value = mask(r.id_type, cipher.decrypt(r.value_enc, purpose=f"identifier:{r.id_type}"))
        else:
            value = r.value_plain or ""
        out.append(
            {"source": r.source, "record_id": r.record_id, "id_type": r.id_type, "value": value}
        )
    return out
