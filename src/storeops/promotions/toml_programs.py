"""Programs defined in a TOML file (``storeops promotions add --file programs.toml``).

One ``[[program]]`` table per program; ``params`` and ``scope`` are sub-tables. Dates
are UTC: an offset date-time is converted, a local one is taken as UTC. See
``example_programs.toml`` next to this module.
"""

from __future__ import annotations

import tomllib
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from storeops.promotions.errors import ProgramDefinitionError
from storeops.promotions.model import Program, make_program

EXAMPLE = Path(__file__).with_name("example_programs.toml")
_FIELDS = {
    "id",
    "kind",
    "name",
    "params",
    "scope",
    "starts_at",
    "ends_at",
    "stackable",
    "priority",
    "budget_fen",
    "max_uses",
    "per_customer_limit",
}


def _utc(value: Any, where: str) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC)
        return value.replace(tzinfo=None)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    raise ProgramDefinitionError(f"{where}: expected a TOML date-time, got {value!r}")


def programs_from_data(data: dict[str, Any], source: str = "<data>") -> list[Program]:
    entries = data.get("program")
    if not isinstance(entries, list) or not entries:
        raise ProgramDefinitionError(f"{source}: no [[program]] tables found")
    out: list[Program] = []
    for n, entry in enumerate(entries, 1):
        where = f"{source}, program {n}"
        unknown = set(entry) - _FIELDS
        if unknown:
            raise ProgramDefinitionError(
                f"{where}: unknown key(s) {sorted(unknown)}; use {', '.join(sorted(_FIELDS))}"
            )
        if "id" not in entry or "kind" not in entry:
            raise ProgramDefinitionError(f"{where}: 'id' and 'kind' are required")
        try:
            out.append(
                make_program(
                    str(entry["id"]),
                    str(entry["kind"]),
                    entry.get("params", {}),
                    name=str(entry.get("name", entry["id"])),
                    scope=entry.get("scope", {}),
                    starts_at=_utc(entry.get("starts_at"), where),
                    ends_at=_utc(entry.get("ends_at"), where),
                    stackable=bool(entry.get("stackable", False)),
                    priority=int(entry.get("priority", 100)),
                    budget_fen=entry.get("budget_fen"),
                    max_uses=entry.get("max_uses"),
                    per_customer_limit=entry.get("per_customer_limit"),
                )
            )
        except ProgramDefinitionError as exc:
            raise ProgramDefinitionError(f"{where} ({entry['id']}): {exc}") from None
    ids = [p.program_id for p in out]
    if len(set(ids)) != len(ids):
        raise ProgramDefinitionError(f"{source}: a program id is used twice")
    return out


def load_programs(path: Path | str) -> list[Program]:
    """The programs defined in a TOML file, validated."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ProgramDefinitionError(f"{path} is not valid TOML: {exc}") from None
    return programs_from_data(data, str(path))
