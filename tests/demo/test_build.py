"""A small demo built end to end through the real importers, checked against its truth."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from ibis import _

from storeops.analytics.store_summary import store_summary
from storeops.demo import DemoBuild, DemoConfig, build_demo
from storeops.ingest import import_file
from storeops.warehouse import Warehouse
from storeops.workspace import Workspace, open_workspace

CFG = DemoConfig(stores=2, customers=300, days=60)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> DemoBuild:
    return build_demo(tmp_path_factory.mktemp("demo") / "ws", CFG)


@pytest.fixture
def wh(built: DemoBuild) -> Iterator[Warehouse]:
    with open_workspace(built.root).warehouse() as warehouse:
        yield warehouse


def _relative(build: DemoBuild, load: dict[str, object]) -> str:
    return str(Path(str(load["file"])).resolve().relative_to(build.root / "sources"))


def test_every_file_is_accounted_for(built: DemoBuild) -> None:
    truth = built.generated.truth
    assert len(built.loads) == sum(len(v) for v in built.generated.files.values())
    quarantined: dict[str, int] = {}
    duplicates: dict[str, int] = {}
    read: dict[str, int] = {}
    for load in built.loads:
        kind = str(load["kind"])
        assert load["status"] == "loaded", load
        rows_read, loaded = int(load["rows_read"]), int(load["loaded"])
        dup, bad = int(load["duplicates"]), int(load["quarantined"])
        assert rows_read == loaded + dup + bad, load
        quarantined[kind] = quarantined.get(kind, 0) + bad
        duplicates[kind] = duplicates.get(kind, 0) + dup
        read[kind] = read.get(kind, 0) + rows_read
    assert {k: v for k, v in quarantined.items() if v} == truth.malformed
    assert {k: v for k, v in duplicates.items() if v} == truth.duplicates
    assert read == truth.rows_written


def test_reimport_adds_nothing(built: DemoBuild) -> None:
    ws: Workspace = open_workspace(built.root)
    path = built.generated.files["orders"][0]
    result = import_file(ws, "orders", path)
    assert result.loaded == 0
    assert result.status == "already_loaded"


def test_summary_matches_the_truth(built: DemoBuild, wh: Warehouse) -> None:
    truth = built.generated.truth
    rows = {r.store_id: r for r in store_summary(wh)}
    assert set(rows) == {s.store_id for s in truth.stores}
    for store in truth.stores:
        row, real = rows[store.store_id], store.realised
        assert row.entries == real["entries"]
        assert row.transactions == real["transactions"]
        assert row.sales_fen == real["sales_fen"]
        assert row.customers == real["customers"]
        assert row.repeat_customers == real["repeat_customers"]
        # The planted conversion is recovered (binomial noise over ~60 days).
        assert row.conversion == pytest.approx(store.conversion_rate, rel=0.2)


def _daily_entries(wh: Warehouse) -> dict[tuple[str, date], int]:
    t = wh.table("traffic_counts")
    day = wh.local_time(t.interval_start, "Asia/Shanghai").date()
    expr = t.group_by([t.store_id, day.name("day")]).aggregate(entries=t.ins.sum())
    df = wh.execute(expr)
    return {(r.store_id, pd.Timestamp(r.day).date()): int(r.entries) for r in df.itertuples()}


def test_entrance_share_is_recovered(built: DemoBuild, wh: Warehouse) -> None:
    t = wh.table("traffic_counts")
    df = wh.execute(t.group_by(["store_id", "entrance_id"]).aggregate(ins=t.ins.sum()))
    for store in built.generated.truth.stores:
        per = df[df.store_id == store.store_id].set_index("entrance_id")["ins"]
        assert per["E2"] / per["E1"] == pytest.approx(0.45, abs=0.04)


def test_weekend_and_festival_traffic(wh: Warehouse, built: DemoBuild) -> None:
    daily = _daily_entries(wh)
    truth = built.generated.truth
    national_day = {
        date.fromisoformat(d) for d in truth.calendar["festivals"]["national_day"]["days"]
    }
    promo = {date.fromisoformat(d) for d in truth.promotion["days"]}
    assert national_day, "the small demo's window includes the National Day week"
    for store in truth.stores:
        days = {d: n for (s, d), n in daily.items() if s == store.store_id}
        plain = {d: n for d, n in days.items() if d not in national_day and d not in promo}
        weekend = [n for d, n in plain.items() if d.weekday() >= 5]
        weekday = [n for d, n in plain.items() if d.weekday() < 5]
        assert sum(weekend) / len(weekend) > 1.3 * sum(weekday) / len(weekday)
        # Festival lift against ordinary days of the same weekdays (planted 1.7).
        base = sum(
            sum(n for d2, n in plain.items() if d2.weekday() == d.weekday())
            / sum(1 for d2 in plain if d2.weekday() == d.weekday())
            for d in national_day
        )
        lift = sum(days[d] for d in national_day) / base
        assert lift == pytest.approx(1.7, rel=0.15)


def test_store_hours_and_staff_devices(wh: Warehouse, built: DemoBuild) -> None:
    t = wh.table("traffic_counts")
    hour = wh.local_time(t.interval_start, "Asia/Shanghai").hour()
    hours = wh.execute(t.group_by(hour.name("h")).aggregate(ins=t.ins.sum()))
    by_hour = dict(zip(hours.h, hours.ins, strict=True))
    assert min(by_hour) == CFG.open_hour and max(by_hour) == CFG.close_hour - 1
    # Evening peak above the morning opening hour.
    assert by_hour[19] > 2 * by_hour[10]
    w = wh.table("wifi_sightings")
    staff = built.generated.truth.stores[0].staff_devices
    n_staff = wh.execute(w.filter(w.device_hash.isin(staff)).count())
    assert n_staff > 0


def test_zone_dwell_order_is_recovered(wh: Warehouse, built: DemoBuild) -> None:
    """Per device and zone, first-to-last sighting: fitting rooms longest, entrance shortest."""
    truth = built.generated.truth
    staff = [h for s in truth.stores for h in s.staff_devices]
    w = wh.table("wifi_sightings")
    w = w.filter(~w.device_hash.isin(staff), w.rssi > -80)
    stays = w.group_by(["store_id", "device_hash", "zone_id"]).aggregate(
        first=w.ts.min(), last=w.ts.max()
    )
    seconds = stays.last.epoch_seconds() - stays.first.epoch_seconds()
    df = wh.execute(stays.mutate(s=seconds).group_by("zone_id").aggregate(mean_s=_.s.mean()))
    dwell = dict(zip(df.zone_id, df.mean_s, strict=True))
    planted = {z: v["mean_dwell_minutes"] for z, v in truth.zones.items()}
    assert max(dwell, key=dwell.__getitem__) == max(planted, key=planted.__getitem__) == "Z06"
    assert min(dwell, key=dwell.__getitem__) == min(planted, key=planted.__getitem__) == "Z01"
    # Sightings come once a minute, so a stay reads about half a minute short.
    assert dwell["Z06"] / 60 == pytest.approx(planted["Z06"], abs=2.0)
