"""A person's data: export it (PIPL access right) or erase it (deletion right).

The *subject* is a customer id (the pseudonymous id of identity resolution) or a
member id. Their personal values are found through the identity registry (the source
records mapped to the customer, their encrypted identifiers) and the member rows
(encrypted phone and WeChat id).

**Export** (:func:`export_subject`): identifiers in clear, member profiles, points and
stored-value balances with every ledger transaction, consent history, and the orders
in the warehouse, as one JSON-ready dict.

**Delete** (:func:`delete_subject`), in this order:

1. the ops database: the person's identifier rows are deleted; their member rows lose
   phone, WeChat id and birthday and are marked ``erased`` — the member id, the ledger
   rows and balances stay (pseudonymous), so the trial balance does not change; any
   remaining occurrence of the values in any text or JSON column (audit details, feed
   rows) is replaced;
2. the warehouse: every occurrence in every string column of every table (the
   quarantine's raw text, event properties, marts) is replaced with ``[erased]``;
3. files: the spool, quarantine, outbox and reports folders and ``*.log`` files in the
   workspace — each file that holds a value is rewritten with the value masked by as
   many ``*`` (same length, so spool offsets stay valid).

:func:`scan` looks for the values everywhere ``delete`` cleans and counts what it
finds; ``delete`` runs it at the end and reports what remains (0).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import JSON, Engine, String, Text, cast, delete, select, update

from storeops.analytics.purchases import CUSTOMER_MAP_MART
from storeops.errors import StoreOpsError
from storeops.opsdb import audit
from storeops.opsdb.access_tables import consents
from storeops.opsdb.ledger_tables import ledger_accounts, ledger_txns, members
from storeops.opsdb.tables import identifiers, metadata
from storeops.privacy.crypto import cipher_from
from storeops.workspace import Workspace

ERASED = "[erased]"
#: Workspace folders whose files may hold personal data.
FILE_FOLDERS = ("spool", "quarantine", "outbox", "reports")


class SubjectError(StoreOpsError, LookupError):
    """No such person, or their data cannot be handled as asked."""


@dataclass
class Subject:
    customer_id: str
    records: list[str] = field(default_factory=list)
    members: list[str] = field(default_factory=list)
    values: set[str] = field(default_factory=set)

    def needles(self) -> list[str]:
        """The values as they may be written: normalized, and phone numbers also with
        +86, with separators as people type them."""
        out = set(self.values)
        for v in self.values:
            if re.fullmatch(r"1\d{10}", v):
                out |= {f"+86{v}", f"+86 {v}", f"{v[:3]}-{v[3:7]}-{v[7:]}",
                        f"{v[:3]} {v[3:7]} {v[7:]}"}  # fmt: skip
        # Longest first, so a longer form is replaced before a shorter one inside it.
        return sorted(out, key=lambda s: (-len(s), s))


def _records(ws: Workspace, customer_id: str) -> list[str]:
    with ws.warehouse() as wh:
        if wh.has_table(CUSTOMER_MAP_MART):
            m = wh.mart(CUSTOMER_MAP_MART)
            found = wh.to_pandas(m.filter(m.customer_id == customer_id))["record_id"].tolist()
            if found:
                return [str(r) for r in found]
    return [customer_id]


def find_subject(ws: Workspace, customer_id: str, engine: Engine) -> Subject:
    """The person's records, member ids and personal values (decrypted)."""
    subject = Subject(customer_id, records=_records(ws, customer_id))
    cipher = None
    with engine.connect() as con:
        rows = con.execute(
            select(identifiers).where(identifiers.c.record_id.in_(subject.records))
        ).all()
        member_rows = con.execute(
            select(members).where(
                (members.c.customer_id == customer_id) | (members.c.member_id == customer_id)
            )
        ).all()
    if not rows and not member_rows:
        raise SubjectError(f"no customer or member {customer_id!r} in this workspace")
    if any(r.value_enc for r in rows) or any(m.phone_enc or m.wechat_enc for m in member_rows):
        cipher = cipher_from(ws.settings)
    for r in rows:
        if r.value_enc and cipher is not None:
            subject.values.add(cipher.decrypt(r.value_enc, purpose=f"identifier:{r.id_type}"))
        elif r.value_plain:
            subject.values.add(r.value_plain)
    for m in member_rows:
        subject.members.append(m.member_id)
        for kind in ("phone", "wechat"):
            token = getattr(m, f"{kind}_enc")
            if token and cipher is not None:
                subject.values.add(cipher.decrypt(token, purpose=f"member.{kind}"))
    return subject


def export_subject(ws: Workspace, customer_id: str) -> dict[str, Any]:
    """Everything storeops holds about the person, as a JSON-ready dict."""
    engine = ws.ops_engine()
    subject = find_subject(ws, customer_id, engine)
    cipher = cipher_from(ws.settings) if subject.values else None
    out: dict[str, Any] = {"customer_id": customer_id, "identifiers": [], "members": []}
    with engine.connect() as con:
        for r in con.execute(
            select(identifiers).where(identifiers.c.record_id.in_(subject.records))
        ):
            value = r.value_plain
            if r.value_enc and cipher is not None:
                value = cipher.decrypt(r.value_enc, purpose=f"identifier:{r.id_type}")
            out["identifiers"].append(
                {"source": r.source, "record_id": r.record_id, "id_type": r.id_type,
                 "value": value}
            )  # fmt: skip
        for m in con.execute(select(members).where(members.c.member_id.in_(subject.members))):
            profile = {k: v for k, v in m._mapping.items() if not k.endswith(("_enc", "_index"))}
            for kind in ("phone", "wechat"):
                token = getattr(m, f"{kind}_enc")
                profile[kind] = (
                    cipher.decrypt(token, purpose=f"member.{kind}") if token and cipher else None
                )
            balances = {
                a.asset: int(a.balance)
                for a in con.execute(
                    select(ledger_accounts).where(ledger_accounts.c.owner == m.member_id)
                )
            }
            txns = [
                {"kind": t.kind, "at": t.created_at, "reference": t.reference,
                 "result": t.result}
                for t in con.execute(
                    select(ledger_txns)
                    .where(ledger_txns.c.member_id == m.member_id)
                    .order_by(ledger_txns.c.txn_id)
                )
            ]  # fmt: skip
            out["members"].append({"profile": profile, "balances": balances, "ledger": txns})
        out["consents"] = [
            dict(c._mapping)
            for c in con.execute(
                select(consents.c.purpose, consents.c.given_at, consents.c.withdrawn_at,
                       consents.c.source)
                .where(consents.c.subject_id.in_([customer_id, *subject.members]))
                .order_by(consents.c.given_at)
            )
        ]  # fmt: skip
    with ws.warehouse() as wh:
        orders = wh.table("orders")
        frame = wh.to_pandas(
            orders.filter(orders.customer_id == customer_id).select(
                "order_id", "store_id", "channel", "ts", "total_fen", "status"
            )
        )
        out["orders"] = frame.to_dict(orient="records")
    return json.loads(json.dumps(out, default=str))


def _ops_text_columns() -> list[tuple[Any, Any, Any]]:
    """(table, primary key column, column) for every text or JSON column."""
    found = []
    for table in metadata.sorted_tables:
        pk = list(table.primary_key.columns)
        if len(pk) != 1:
            continue
        for col in table.columns:
            if isinstance(col.type, String | Text | JSON):
                found.append((table, pk[0], col))
    return found


def _scrub(value: Any, needles: list[str]) -> Any:
    if isinstance(value, str):
        for n in needles:
            value = value.replace(n, ERASED)
        return value
    text = json.dumps(value, ensure_ascii=False)
    for n in needles:
        text = text.replace(n, ERASED)
    return json.loads(text)


def _ops_hits(engine: Engine, needles: list[str], fix: bool) -> int:
    hits = 0
    with engine.begin() as con:
        for table, pk, col in _ops_text_columns():
            as_text = cast(col, Text)
            cond = as_text.contains(needles[0])
            for n in needles[1:]:
                cond = cond | as_text.contains(n)
            rows = con.execute(select(pk, col).where(cond)).all()
            hits += len(rows)
            if fix:
                for key, value in rows:
                    con.execute(
                        update(table).where(pk == key).values({col.name: _scrub(value, needles)})
                    )
    return hits


def _files(ws: Workspace) -> list[Path]:
    paths = [p for f in FILE_FOLDERS for p in (ws.root / f).rglob("*") if p.is_file()]
    paths += [p for p in ws.root.rglob("*.log") if p.is_file()]
    return sorted(set(paths))


def _file_hits(ws: Workspace, needles: list[str], fix: bool) -> int:
    hits = 0
    encoded = [n.encode() for n in needles]
    for path in _files(ws):
        data = path.read_bytes()
        if not any(n in data for n in encoded):
            continue
        hits += 1
        if fix:
            for n in encoded:
                data = data.replace(n, b"*" * len(n))
            tmp = path.with_name(path.name + ".erasing")
            tmp.write_bytes(data)
            tmp.replace(path)
    return hits


def _warehouse_hits(ws: Workspace, needles: list[str], fix: bool) -> int:
    import ibis

    hits = 0
    with ws.warehouse() as wh:
        for name in sorted(wh.con.list_tables()):
            t = wh.con.table(name)
            texts = [t[c].cast("string") for c, typ in t.schema().items()
                     if typ.is_string() or typ.is_json()]  # fmt: skip
            if not texts:
                continue
            if fix:
                hits += wh.redact(name, needles, ERASED)
            else:
                cond = ibis.or_(*(col.contains(n) for col in texts for n in needles))
                hits += int(wh.execute(t.filter(cond).count()))
    return hits


def scan(ws: Workspace, values: set[str]) -> dict[str, int]:
    """Where the values still occur: rows in the ops database and the warehouse, files."""
    needles = Subject("", values=values).needles()
    if not needles:
        return {"ops_database": 0, "warehouse": 0, "files": 0}
    return {
        "ops_database": _ops_hits(ws.ops_engine(), needles, fix=False),
        "warehouse": _warehouse_hits(ws, needles, fix=False),
        "files": _file_hits(ws, needles, fix=False),
    }


def delete_subject(ws: Workspace, customer_id: str, *, actor: str) -> dict[str, Any]:
    """Erase the person's personal data everywhere (module doc); what was done."""
    engine = ws.ops_engine()
    subject = find_subject(ws, customer_id, engine)
    needles = subject.needles()
    with engine.begin() as con:
        removed = con.execute(
            delete(identifiers).where(identifiers.c.record_id.in_(subject.records))
        ).rowcount
        erased = con.execute(
            update(members)
            .where(members.c.member_id.in_(subject.members))
            .values(phone_enc=None, phone_index=None, wechat_enc=None, wechat_index=None,
                    birthday=None, status="erased")
        ).rowcount  # fmt: skip
        audit(con, actor=actor, action="privacy.delete", target=customer_id,
              detail={"identifiers": removed, "members": erased})  # fmt: skip
    report: dict[str, Any] = {
        "customer_id": customer_id,
        "identifiers_deleted": removed,
        "members_erased": erased,
    }
    if needles:
        report["ops_rows_scrubbed"] = _ops_hits(engine, needles, fix=True)
        report["warehouse_rows_scrubbed"] = _warehouse_hits(ws, needles, fix=True)
        report["files_scrubbed"] = _file_hits(ws, needles, fix=True)
    report["remaining"] = scan(ws, subject.values)
    return report
