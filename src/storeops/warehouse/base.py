"""The narrow warehouse interface every backend implements.

Analytics are Ibis expressions over :meth:`Warehouse.table`; writes go through
:meth:`Warehouse.append` inside :meth:`Warehouse.transaction`. Backends differ in
capabilities (see :class:`Capability`); tests declare gaps with strict markers.
"""

from __future__ import annotations

import enum
import functools
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any, ClassVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import ibis
import ibis.expr.types as ir
import pandas as pd
import pyarrow as pa

from storeops.errors import SchemaError
from storeops.settings import Settings
from storeops.warehouse.schema import TABLES, TableSchema

#: Years in which :func:`fixed_offset_seconds` checks that a zone's offset is fixed.
FIXED_FROM = datetime(2000, 1, 1)
FIXED_UNTIL = datetime(2061, 1, 1)


@functools.lru_cache(maxsize=256)
def fixed_offset_seconds(zone: str) -> int | None:
    """The zone's UTC offset if it did not change from 2000 to 2060 (sampled monthly)."""
    try:
        tz = ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        return None
    offsets = {
        tz.utcoffset(datetime(year, month, 15))
        for year in range(2000, 2061)
        for month in range(1, 13)
    }
    if len(offsets) != 1:
        return None
    (offset,) = offsets
    return None if offset is None else int(offset.total_seconds())


class Capability(enum.Enum):
    """Optional abilities of a backend."""

    #: Writes inside ``transaction()`` become visible all together or not at all.
    ATOMIC_TRANSACTIONS = "atomic_transactions"
    #: The data survive in a single file that other processes lock.
    SINGLE_FILE = "single_file"


class Warehouse(ABC):
    """Canonical tables on one analytical engine."""

    name: ClassVar[str]
    capabilities: ClassVar[frozenset[Capability]] = frozenset()

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    # -- connection -----------------------------------------------------------------
    @property
    @abstractmethod
    def con(self) -> ibis.BaseBackend:
        """The Ibis backend; analytics compile against it."""

    @abstractmethod
    def close(self) -> None:
        """Release the connection and any file locks."""

    def __enter__(self) -> Warehouse:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- tables ---------------------------------------------------------------------
    def ensure_tables(self) -> None:
        """Create every canonical table that does not exist yet (idempotent)."""
        existing = set(self.con.list_tables())
        for table in TABLES:
            if table.name not in existing:
                self.create_table(table)

    def create_table(self, table: TableSchema) -> None:
        self.con.create_table(table.name, schema=table.ibis_schema)

    def has_table(self, name: str) -> bool:
        return name in self.con.list_tables()

    def delete_before(self, name: str, column: str, before: datetime) -> int:
        """Delete the rows of table ``name`` whose timestamp ``column`` is before
        ``before``; the number deleted. Used by the retention job."""
        raise SchemaError(
            f"deleting rows is not supported on the {self.name} backend yet; "
            "run the retention job on a DuckDB workspace"
        )

    def redact(self, name: str, needles: Sequence[str], replacement: str) -> int:
        """Replace every occurrence of ``needles`` in the string columns of table
        ``name`` (canonical, bookkeeping or mart) with ``replacement``; the number of
        rows changed. Used to erase a person's personal data (``privacy delete``)."""
        raise SchemaError(
            f"erasing values inside warehouse tables is not supported on the {self.name} "
            "backend yet; run `storeops privacy delete` on a DuckDB workspace"
        )

    def table(self, name: str) -> ir.Table:
        """The Ibis table for canonical table ``name``."""
        TABLES[name]  # raises a helpful SchemaError for unknown names
        return self.con.table(name)

    def count(self, name: str) -> int:
        return int(self.table(name).count().execute())

    # -- reads ----------------------------------------------------------------------
    def execute(self, expr: ir.Expr, **kwargs: Any) -> Any:
        return self.con.execute(expr, **kwargs)

    def to_pyarrow(self, expr: ir.Expr) -> pa.Table:
        return self.con.to_pyarrow(expr)

    def to_pandas(self, expr: ir.Table) -> pd.DataFrame:
        return self.con.execute(expr)

    # -- time ---------------------------------------------------------------------------
    def local_time(
        self, ts: ir.TimestampValue, timezone: ir.StringValue | str
    ) -> ir.TimestampValue:
        """Wall-clock time in ``timezone`` (an IANA name) of UTC timestamp ``ts``.

        "Day" in storeops is ``local_time(ts, tz).date()``. Zones with a fixed
        offset (Asia/Shanghai since 1991) are a plain addition, which is far faster
        than a zone lookup per row; other zones go through the backend's own
        DST-aware conversion (:meth:`_convert_zone`).
        """
        in_fixed_years = (ts >= FIXED_FROM) & (ts < FIXED_UNTIL)
        if isinstance(timezone, str):
            offset = fixed_offset_seconds(timezone)
            by_rules = self._convert_zone(ts, ibis.literal(timezone))
            if offset is None:
                return by_rules
            return ibis.ifelse(in_fixed_years, ts + ibis.interval(seconds=offset), by_rules)
        fixed = [
            (zone, off)
            for zone in self.known_zones()
            if (off := fixed_offset_seconds(zone)) is not None
        ]
        slow = self._convert_zone(ts, timezone)
        if not fixed:
            return slow
        return ibis.cases(
            *[
                ((timezone == zone) & in_fixed_years, ts + ibis.interval(seconds=off))
                for zone, off in fixed
            ],
            else_=slow,
        )

    def utc_from_local(self, local: ir.TimestampValue, zone: str) -> ir.TimestampValue:
        """UTC time of wall-clock ``local`` in ``zone`` (the inverse of :meth:`local_time`).

        Within the years where the zone's offset is fixed (see
        :func:`fixed_offset_seconds`) this is a subtraction; elsewhere, and for DST
        zones, the backend's own conversion applies the zone's rules.
        """
        by_rules = self._zone_to_utc(local, zone)
        offset = fixed_offset_seconds(zone)
        if offset is None:
            return by_rules
        fixed = (local >= FIXED_FROM) & (local < FIXED_UNTIL)
        return ibis.ifelse(fixed, local - ibis.interval(seconds=offset), by_rules)

    @abstractmethod
    def _zone_to_utc(self, local: ir.TimestampValue, zone: str) -> ir.TimestampValue:
        """The backend's DST-aware wall-clock to UTC conversion."""

    def known_zones(self) -> list[str]:
        """Time zones in use: the stores' and the workspace default."""
        zones = self.to_pandas(self.table("stores").select("timezone").distinct())["timezone"]
        return sorted({self.settings.default_timezone, *zones.dropna().astype(str)})

    @abstractmethod
    def _convert_zone(self, ts: ir.TimestampValue, timezone: ir.StringValue) -> ir.TimestampValue:
        """The backend's DST-aware UTC to wall-clock conversion."""

    # -- writes ---------------------------------------------------------------------
    def stage(self, data: pa.Table) -> ir.Table:
        """Make in-memory Arrow data available to expressions on this backend."""
        return ibis.memtable(data)

    def append(self, name: str, data: ir.Table | pa.Table) -> None:
        """Append rows (columns in any order; missing nullable columns become NULL)."""
        table = TABLES[name]
        expr = data if isinstance(data, ir.Table) else self.stage(data)
        cols = []
        for column in table.columns:
            if column.name in expr.columns:
                cols.append(expr[column.name].cast(column.ibis_type).name(column.name))
            else:
                cols.append(ibis.null(column.ibis_type).name(column.name))
        self.con.insert(name, expr.select(cols))

    @contextmanager
    def materialized(self, expr: ir.Table, name: str) -> Iterator[ir.Table | None]:
        """Compute ``expr`` once for several queries in this scope, where that pays.

        Yields the computed table, or None when the backend is better served by
        planning each query from the expression (the default).
        """
        yield None

    # -- marts ------------------------------------------------------------------------
    def write_mart(self, name: str, data: pa.Table) -> None:
        """Replace derived table ``name`` (prefix ``mart_``) with ``data``.

        Marts are recomputable outputs (scores, daily KPIs) rather than canonical
        data, so they are replaced whole and live outside the schema registry.
        """
        if not name.startswith("mart_"):
            raise SchemaError(f"mart names start with 'mart_' (got {name!r})")
        self.con.create_table(name, obj=self.stage(data), overwrite=True)

    def mart(self, name: str) -> ir.Table:
        """A mart written by :meth:`write_mart`."""
        if name not in self.con.list_tables():
            raise SchemaError(
                f"the mart {name!r} has not been computed yet in this workspace; "
                "run the command that builds it first"
            )
        return self.con.table(name)

    @abstractmethod
    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Group writes; atomic where :attr:`Capability.ATOMIC_TRANSACTIONS` is offered."""

    def supports(self, capability: Capability) -> bool:
        return capability in self.capabilities
