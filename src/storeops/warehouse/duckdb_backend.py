"""The embedded default: one DuckDB file in the workspace."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime

import duckdb
import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir
from ibis.backends.duckdb import Backend as IbisDuckDB

from storeops.errors import LockTimeoutError
from storeops.settings import Settings
from storeops.warehouse.base import Capability, Warehouse


@ibis.udf.scalar.builtin(name="timezone")
def _duckdb_timezone(tz: str, ts: dt.Timestamp(timezone="UTC")) -> dt.timestamp:  # type: ignore[valid-type]
    """DuckDB's timezone(tz, timestamptz) -> local TIMESTAMP."""


@ibis.udf.scalar.builtin(name="timezone")
def _duckdb_zone_to_utc(tz: str, ts: dt.timestamp) -> dt.Timestamp(timezone="UTC"):  # type: ignore[valid-type]
    """DuckDB's timezone(tz, timestamp) -> the UTC instant of that wall-clock time."""


_LOCK_HOLDER = re.compile(r"PID (\d+)")


class DuckDBWarehouse(Warehouse):
    """Warehouse in a single DuckDB file; writes are atomic per transaction."""

    name = "duckdb"
    capabilities = frozenset({Capability.ATOMIC_TRANSACTIONS, Capability.SINGLE_FILE})

    def __init__(self, settings: Settings, *, read_only: bool = False) -> None:
        super().__init__(settings)
        self.path = settings.warehouse_file
        self._con = self._connect(read_only)

    def _connect(self, read_only: bool) -> IbisDuckDB:
        """Open the file, waiting a bounded time if another process holds its lock."""
        deadline = time.monotonic() + self.settings.lock_timeout_seconds
        delay = 0.05
        while True:
            try:
                con = ibis.duckdb.connect(str(self.path), read_only=read_only)
                con.raw_sql("SET TimeZone = 'UTC'")
                return con
            except (duckdb.IOException, duckdb.ConnectionException) as exc:
                # Another process holds the file's lock, or this process has it open
                # with another configuration (a read-only reader such as the
                # dashboard's snapshot, while a writer wants it): both pass.
                text = str(exc).lower()
                if "lock" not in text and "different configuration" not in text:
                    raise
                now = time.monotonic()
                if now >= deadline:
                    holder = _LOCK_HOLDER.search(str(exc))
                    who = (
                        f"process {holder.group(1)}"
                        if holder
                        else "this process (open with another configuration, read-only)"
                        if "different configuration" in text
                        else "another process"
                    )
                    raise LockTimeoutError(
                        f"the warehouse {self.path} is locked by {who} "
                        f"(waited {self.settings.lock_timeout_seconds:g}s). Wait for that "
                        "job to finish, or stop it, then retry; raise "
                        "STOREOPS_LOCK_TIMEOUT_SECONDS to wait longer."
                    ) from exc
                time.sleep(min(delay, deadline - now))  # never past the deadline
                delay = min(delay * 2, 1.0)

    @property
    def con(self) -> IbisDuckDB:
        return self._con

    @property
    def raw(self) -> duckdb.DuckDBPyConnection:
        """The underlying DuckDB connection (for the importer's fast path)."""
        return self._con.con

    def close(self) -> None:
        self._con.disconnect()

    def _convert_zone(self, ts: ir.TimestampValue, timezone: ir.StringValue) -> ir.TimestampValue:
        return _duckdb_timezone(timezone, ts.cast(dt.Timestamp(timezone="UTC")))

    def _zone_to_utc(self, local: ir.TimestampValue, zone: str) -> ir.TimestampValue:
        return _duckdb_zone_to_utc(ibis.literal(zone), local).cast(dt.timestamp)

    @contextmanager
    def materialized(self, expr: ir.Table, name: str) -> Iterator[ir.Table | None]:
        """A temporary in-memory table: DuckDB does not share common sub-expressions
        between queries, so two queries over one expensive plan would compute it twice."""
        # Rows that carry their own keys need no order: without keeping the input
        # order DuckDB writes the temporary (and later tables) in parallel.
        (keep_order,) = self.raw.execute(
            "SELECT current_setting('preserve_insertion_order')"
        ).fetchone()  # type: ignore[misc]
        self.raw.execute("SET preserve_insertion_order = false")
        try:
            table = self.con.create_table(name, expr, temp=True)
            try:
                yield table
            finally:
                self.con.drop_table(name, force=True)
        finally:
            self.raw.execute(f"SET preserve_insertion_order = {'true' if keep_order else 'false'}")

    @contextmanager
    def transaction(self) -> Iterator[None]:
        self.raw.execute("BEGIN TRANSACTION")
        try:
            yield
        except BaseException:
            self.raw.execute("ROLLBACK")
            raise
        self.raw.execute("COMMIT")

    def delete_before(self, name: str, column: str, before: datetime) -> int:
        quoted = '"' + name.replace('"', '""') + '"'
        col = '"' + column.replace('"', '""') + '"'
        row = self.con.con.execute(f"DELETE FROM {quoted} WHERE {col} < ?", [before]).fetchone()
        return int(row[0]) if row else 0

    def redact(self, name: str, needles: Sequence[str], replacement: str) -> int:
        """UPDATE in place (the table keeps its constraints and keys); string and JSON
        columns (JSON through its text)."""
        t = self.con.table(name)
        columns = [(c, typ.is_json()) for c, typ in t.schema().items()
                   if typ.is_string() or typ.is_json()]  # fmt: skip
        if not columns or not needles:
            return 0
        changed = 0
        quoted = '"' + name.replace('"', '""') + '"'
        for c, is_json in columns:
            col = '"' + c.replace('"', '""') + '"'
            text = f"CAST({col} AS VARCHAR)" if is_json else col
            expr = text
            for _ in needles:
                expr = f"replace({expr}, ?, ?)"
            if is_json:
                expr = f"CAST({expr} AS JSON)"
            where = " OR ".join(f"contains({text}, ?)" for _ in needles)
            params: list[str] = []
            for n in needles:
                params += [n, replacement]
            params += list(needles)
            cur = self.con.con.execute(f"UPDATE {quoted} SET {col} = {expr} WHERE {where}", params)
            row = cur.fetchone()
            changed += int(row[0]) if row else 0
        return changed
