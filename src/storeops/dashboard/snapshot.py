"""What the pages read: the marts, copied into memory, refreshed when the warehouse
changes.

**Why a copy.** DuckDB lets one process write a file, and only while no other process
has it open, even read-only. A dashboard that kept a connection would lock the
scheduler's jobs (spool load, POS export, mart refresh) out of the warehouse, so the
dashboard opens it read-only only to copy the marts (a few thousand rows each), closes
it at once, and answers every request from the copy: pages cost a pandas filter, not a
query plan.

**When it refreshes.** At most every ``check_seconds`` a request looks at the
warehouse file (size and modification time of ``warehouse.duckdb`` and its ``.wal``);
when it changed, or the copy is older than ``max_age_seconds`` (backends without a
single file), a background thread copies again while requests keep reading the old
copy. If the writer holds the file, the copy waits at most ``lock_wait_seconds`` and
is tried again at the next check: the pages stay up with the last good data.

**Live traffic** is the one thing read from a canonical table: the minute counts of
``traffic_counts`` for the last :data:`LIVE_WINDOW` before the latest reading, per
store in local time — a bounded window, not the history.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pandas as pd

from storeops.errors import LockTimeoutError, StoreOpsError
from storeops.settings import Settings
from storeops.warehouse import Warehouse, open_warehouse

log = logging.getLogger("storeops.dashboard")

#: The marts the pages read. Missing ones read as empty frames.
MARTS: tuple[str, ...] = (
    "mart_traffic_daily",
    "mart_store_performance_daily",
    "mart_zone_daily",
    "mart_kpi_daily",
    "mart_traffic_forecast",
    "mart_staffing_plan",
    "mart_dashboard_funnel",
    "mart_dashboard_retention",
    "mart_dashboard_rfm",
    "mart_dashboard_lifecycle",
    "mart_dashboard_clv",
    "mart_dashboard_at_risk",
)
#: How far back from the latest counter reading the live page looks.
LIVE_WINDOW = timedelta(days=2)


@dataclass(frozen=True)
class Snapshot:
    """The marts as of one copy; never changed after it is built (shared by threads)."""

    stamp: tuple[int, ...]
    loaded_at: float
    stores: pd.DataFrame  # store_id, name, city, area_m2, timezone
    marts: dict[str, pd.DataFrame]
    live: pd.DataFrame  # store_id, minute (local), entries, exits, passers_by
    extras: dict[str, Any] = field(default_factory=dict)

    def mart(self, name: str) -> pd.DataFrame:
        return self.marts.get(name, _EMPTY)

    def kpi_rows(self, kpi_id: str) -> pd.DataFrame:
        """The rows of ``mart_kpi_daily`` for one KPI (split once per copy: a page
        reads a dozen KPIs, and filtering the whole mart each time cost more)."""
        by_kpi: dict[str, pd.DataFrame] = self.extras.get("kpi_by_id", {})
        return by_kpi.get(kpi_id, _EMPTY)

    def store_ids(self) -> list[str]:
        return [str(s) for s in self.stores["store_id"]]


_EMPTY = pd.DataFrame()


def warehouse_stamp(settings: Settings) -> tuple[int, ...]:
    """Size and mtime of the DuckDB file and its write-ahead log, and of a SQLite ops
    database and its WAL (goals live there); zeros for files that do not exist."""
    path = Path(settings.warehouse_file)
    files = [path, path.with_name(path.name + ".wal")]
    if settings.ops_url.startswith("sqlite:///"):
        ops = Path(settings.ops_url.removeprefix("sqlite:///"))
        files += [ops, ops.with_name(ops.name + "-wal")]
    stamp: list[int] = []
    for p in files:
        try:
            st = p.stat()
            stamp += [st.st_mtime_ns, st.st_size]
        except OSError:
            stamp += [0, 0]
    return tuple(stamp)


def open_for_reading(settings: Settings, wait_seconds: float) -> Warehouse:
    """The warehouse opened without taking it from writers for longer than needed:
    DuckDB read-only with a short bounded lock wait; other backends as usual."""
    quick = settings.model_copy(update={"lock_timeout_seconds": wait_seconds})
    if settings.warehouse_backend == "duckdb":  # the one backend with a file lock
        from storeops.warehouse.duckdb_backend import DuckDBWarehouse

        return DuckDBWarehouse(quick, read_only=True)
    return open_warehouse(quick, create=False)


def live_minutes(wh: Warehouse) -> pd.DataFrame:
    """Counter readings per store and local minute, for :data:`LIVE_WINDOW` before
    the latest reading."""
    t = wh.table("traffic_counts")
    last = wh.execute(t.interval_start.max())
    if last is None or pd.isna(last):
        return pd.DataFrame(columns=["store_id", "minute", "entries", "exits", "passers_by"])
    recent = t.filter(t.interval_start >= pd.Timestamp(last).to_pydatetime() - LIVE_WINDOW)
    stores = wh.table("stores").select("store_id", tz="timezone")
    j = recent.join(stores, "store_id")
    tz = j.tz.coalesce(wh.settings.default_timezone)
    j = j.mutate(minute=wh.local_time(j.interval_start, tz))
    agg = j.group_by("store_id", "minute").aggregate(
        entries=j.ins.sum(), exits=j.outs.sum(), passers_by=j.passers_by.sum()
    )
    frame = wh.to_pandas(agg.order_by("store_id", "minute"))
    frame["minute"] = pd.to_datetime(frame["minute"])
    return frame


def read_goals(settings: Settings, wh: Warehouse) -> list[Any]:
    """Every goal with its pacing (:func:`storeops.goals.goal_status`)."""
    from storeops.goals import goal_status
    from storeops.opsdb import make_engine

    engine = make_engine(settings.ops_url, lock_timeout_seconds=settings.lock_timeout_seconds)
    try:
        return goal_status(engine, wh)
    finally:
        engine.dispose()


#: Extra readers run during a copy with the open warehouse: name -> reader. Their
#: results land in :attr:`Snapshot.extras` (goal pacing needs the KPI mart and the
#: ops database, so it is computed here rather than per request).
EXTRA_READERS: dict[str, Callable[[Settings, Warehouse], Any]] = {"goals": read_goals}


def read_snapshot(settings: Settings, wait_seconds: float) -> Snapshot:
    stamp = warehouse_stamp(settings)
    with open_for_reading(settings, wait_seconds) as wh:
        present = set(wh.con.list_tables())
        marts = {name: wh.to_pandas(wh.mart(name)) for name in MARTS if name in present}
        stores = wh.to_pandas(
            wh.table("stores").select("store_id", "name", "city", "area_m2", "timezone")
        ).sort_values("store_id", ignore_index=True)
        live = live_minutes(wh)
        extras: dict[str, Any] = {}
        for name, reader in EXTRA_READERS.items():
            try:
                extras[name] = reader(settings, wh)
            except (StoreOpsError, ImportError) as exc:  # a missing mart or table
                log.warning("dashboard: %s not available: %s", name, exc)
    for frame in marts.values():
        for col in ("day", "period", "cohort", "week_start", "history_to", "last_day"):
            if col in frame.columns and pd.api.types.is_datetime64_any_dtype(frame[col]):
                frame[col] = frame[col].dt.date
    kpis = marts.get("mart_kpi_daily")
    if kpis is not None and not kpis.empty:
        extras["kpi_by_id"] = {str(k): g for k, g in kpis.groupby("kpi", sort=False)}
    return Snapshot(stamp, time.monotonic(), stores, marts, live, extras)


class SnapshotCache:
    """One :class:`Snapshot` per app, copied again in the background when stale."""

    def __init__(
        self,
        settings: Settings,
        *,
        check_seconds: float = 5.0,
        max_age_seconds: float = 600.0,
        lock_wait_seconds: float = 2.0,
    ) -> None:
        self.settings = settings
        self.check_seconds = check_seconds
        self.max_age_seconds = max_age_seconds
        self.lock_wait_seconds = lock_wait_seconds
        self._snapshot: Snapshot | None = None
        self._checked = 0.0
        self._lock = threading.Lock()  # one copy at a time
        self._refreshing = False

    def get(self) -> Snapshot:
        """The current copy (the first call waits for it)."""
        snap = self._snapshot
        if snap is None:
            with self._lock:
                if self._snapshot is None:
                    wait = self.settings.lock_timeout_seconds
                    self._snapshot = read_snapshot(self.settings, wait)
                    self._checked = time.monotonic()
                return self._snapshot
        now = time.monotonic()
        if now - self._checked >= self.check_seconds and not self._refreshing:
            self._checked = now
            if self.is_stale(snap, now):
                self._refreshing = True
                threading.Thread(target=self._refresh, daemon=True).start()
        return snap

    def is_stale(self, snap: Snapshot, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        if now - snap.loaded_at >= self.max_age_seconds:
            return True
        return warehouse_stamp(self.settings) != snap.stamp

    def refresh_now(self) -> Snapshot:
        """Copy again now, in this thread (tests, and after a known change)."""
        with self._lock:
            self._snapshot = read_snapshot(self.settings, self.settings.lock_timeout_seconds)
            self._checked = time.monotonic()
            return self._snapshot

    def wait_idle(self, timeout: float) -> None:
        """Wait (at most ``timeout`` seconds) for a copy in progress to finish."""
        if self._lock.acquire(timeout=timeout):
            self._lock.release()

    def _refresh(self) -> None:
        try:
            with self._lock:
                self._snapshot = read_snapshot(self.settings, self.lock_wait_seconds)
        except LockTimeoutError as exc:  # a writer is busy: keep the old copy, retry later
            log.info("dashboard: warehouse busy, serving the previous copy (%s)", exc)
        except Exception:  # a background thread must not die silently
            log.exception("dashboard: refreshing the marts failed; serving the previous copy")
        finally:
            self._refreshing = False
