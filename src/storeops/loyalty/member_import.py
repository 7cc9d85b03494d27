"""Enrolment by import: a CSV of members (``member_id, store_id`` and optionally
``phone, wechat_id, birthday, associate_id, customer_id``), each row enrolled through
:func:`storeops.loyalty.members.enrol` with channel ``import``. Rows already enrolled
count as existing; refused rows are reported with their line and reason, and nothing
else is affected. Importing the same file again changes nothing.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select

from storeops.errors import ImportFileError
from storeops.loyalty.members import MemberError, PiiKeys, enrol
from storeops.opsdb.ledger_tables import members

REQUIRED = ("member_id", "store_id")
OPTIONAL = ("phone", "wechat_id", "birthday", "associate_id", "customer_id")


@dataclass
class MemberImport:
    rows_read: int = 0
    enrolled: int = 0
    existing: int = 0
    refused: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "rows_read": self.rows_read,
            "enrolled": self.enrolled,
            "existing": self.existing,
            "refused": self.refused,
        }


def import_members(engine: Engine, path: Path, keys: PiiKeys | None) -> MemberImport:
    if not path.is_file():
        raise ImportFileError(f"{path} does not exist")
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in REQUIRED if c not in (reader.fieldnames or [])]
        if missing:
            raise ImportFileError(
                f"{path.name} needs the columns {', '.join(REQUIRED)} (missing: "
                f"{', '.join(missing)}); optional: {', '.join(OPTIONAL)}"
            )
        report = MemberImport()
        with engine.connect() as con:
            known = set(con.execute(select(members.c.member_id)).scalars())
        for line, row in enumerate(reader, start=2):
            report.rows_read += 1
            member_id = (row.get("member_id") or "").strip()
            try:
                if not member_id or not (row.get("store_id") or "").strip():
                    raise MemberError("member_id and store_id are required")
                birthday = (row.get("birthday") or "").strip()
                enrol(
                    engine, member_id, store_id=row["store_id"].strip(),
                    customer_id=(row.get("customer_id") or "").strip() or None,
                    phone=(row.get("phone") or "").strip() or None,
                    wechat_id=(row.get("wechat_id") or "").strip() or None,
                    birthday=date.fromisoformat(birthday) if birthday else None,
                    associate_id=(row.get("associate_id") or "").strip() or None,
                    via="import", keys=keys,
                )  # fmt: skip
            except (MemberError, ValueError) as exc:
                report.refused.append({"line": line, "member_id": member_id, "reason": str(exc)})
                continue
            if member_id in known:
                report.existing += 1
            else:
                report.enrolled += 1
                known.add(member_id)
    return report
