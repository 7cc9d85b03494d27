"""Orchestration: simulate the merchant, write its source files, import them.

``generate_sources`` only writes files (no workspace needed); ``build_demo`` creates
the workspace, generates and then loads every file through the real importer, in
the order the canonical tables reference each other.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from storeops.analytics.retail_calendar import SPRING_FESTIVAL
from storeops.demo import calendar as cal_mod
from storeops.demo import customers as cust_mod
from storeops.demo import events as ev_mod
from storeops.demo import orders as ord_mod
from storeops.demo import products as prod_mod
from storeops.demo import wifi as wifi_mod
from storeops.demo.anomalies import (
    PlantedAnomaly,
    collapse_conversion,
    planted_anomalies,
    truth_records,
)
from storeops.demo.calendar import Calendar
from storeops.demo.community import simulate_community
from storeops.demo.config import DemoConfig
from storeops.demo.customers import simulate_customers
from storeops.demo.events import EventCounts, iter_event_chunks
from storeops.demo.inventory import simulate_inventory
from storeops.demo.orders import simulate_sales
from storeops.demo.products import build_catalogue
from storeops.demo.staff import simulate_shifts
from storeops.demo.stores import (
    ZONES,
    build_store_profiles,
    entrances_table,
    stores_table,
    zones_table,
)
from storeops.demo.surveys import simulate_surveys, store_csat, store_nps
from storeops.demo.traffic import simulate_store_traffic
from storeops.demo.truth import CUSTOMER_TRUTH_FILE, TRUTH_FILE, DemoTruth, StoreTruth
from storeops.demo.wifi import simulate_store_wifi, staff_device_hashes
from storeops.demo.writers import (
    csv_bytes,
    write_csv,
    write_jsonl,
    write_parquet,
    write_text,
    write_xlsx,
    yuan_text,
)
from storeops.errors import ConfigError

Step = Callable[[str], None]

#: Orders that count as sales (as in ``storeops.analytics.purchases``): a fully
#: refunded or cancelled order is not a transaction.
SALE_STATUSES = ("completed", "partially_refunded")

POS_MAPPING = """\
# POS export (收银系统): GBK text, Chinese headers, amounts printed as ￥1,234.56.
encoding = "gbk"
timezone = "{tz}"

[columns]
"订单号" = "order_id"
"门店编号" = "store_id"
"会员编号" = "customer_id"
"交易时间" = "ts"
"实付金额" = "total_fen"
"优惠金额" = "discount_fen"
"优惠券" = "coupon_code"
"支付方式" = "payment"
"状态" = "status"

[formats]
ts = "%Y/%m/%d %H:%M:%S"

[money]
total_fen = "yuan"
discount_fen = "yuan"

[constants]
channel = "store"
currency = "CNY"
"""

COUNTER_MAPPING = """\
# People-counter vendor export: one CSV per store, local time, one row per minute and door.
timezone = "{tz}"

[columns]
site_code = "store_id"
door = "entrance_id"
start_time = "interval_start"
duration_s = "interval_seconds"
count_in = "ins"
count_out = "outs"
passing = "passers_by"

[formats]
interval_start = "%Y-%m-%d %H:%M:%S"
"""

EVENTS_MAPPING = """\
# App events as the Segment SDK sends them (camelCase keys, UTC timestamps).
timezone = "UTC"

[columns]
messageId = "message_id"
userId = "user_id"
anonymousId = "anonymous_id"
timestamp = "ts"

[formats]
ts = "%Y-%m-%dT%H:%M:%SZ"

[constants]
source_id = "demo-app"
"""

PRODUCTS_MAPPING = """\
# ERP product master (商品档案) exported to Excel; prices in yuan.
[columns]
"商品编码" = "sku"
"商品名称" = "name"
"品类" = "category"
"品牌" = "brand"
"零售价" = "price_fen"
"成本价" = "cost_fen"
"上市日期" = "launched_on"

[money]
price_fen = "yuan"
cost_fen = "yuan"
"""


@dataclass
class GeneratedDemo:
    """What :func:`generate_sources` wrote."""

    sources: Path
    truth: DemoTruth
    files: dict[str, list[Path]]
    seconds: float


@dataclass
class DemoBuild:
    """What :func:`build_demo` did."""

    root: Path
    generated: GeneratedDemo
    loads: list[dict[str, Any]] = field(default_factory=list)
    generate_seconds: float = 0.0
    import_seconds: float = 0.0


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _csv_line(values: list[str]) -> str:
    import csv
    import io

    buf = io.StringIO()
    csv.writer(buf, lineterminator="").writerow(values)
    return buf.getvalue()


def _noop(_: str) -> None:
    return None


def generate_sources(cfg: DemoConfig, sources: Path, *, step: Step = _noop) -> GeneratedDemo:
    """Simulate the merchant and write every source file under ``sources/<kind>/``."""
    t0 = time.perf_counter()
    sources.mkdir(parents=True, exist_ok=True)
    files: dict[str, list[Path]] = {}
    malformed: dict[str, int] = {}
    duplicates: dict[str, int] = {}
    rows: dict[str, int] = {}

    def add(kind: str, path: Path, n_rows: int) -> None:
        files.setdefault(kind, []).append(path)
        rows[kind] = rows.get(kind, 0) + n_rows

    tz = cfg.timezone
    step("stores, products, customers")
    cal = Calendar.build(cfg.start_date, cfg.days)
    stores = build_store_profiles(cfg)
    catalogue = build_catalogue(cfg)
    customers = simulate_customers(cfg, stores)

    for kind, table in (
        ("stores", stores_table(stores)),
        ("zones", zones_table(stores)),
        ("entrances", entrances_table(stores)),
    ):
        path = sources / kind / f"{kind}.csv"
        write_csv(table, path)
        add(kind, path, table.num_rows)

    path = sources / "products" / "products.xlsx"
    p = catalogue.table
    write_xlsx(
        ["商品编码", "商品名称", "品类", "品牌", "零售价", "成本价", "上市日期"],
        zip(
            p["sku"].to_pylist(),
            p["name"].to_pylist(),
            p["category"].to_pylist(),
            p["brand"].to_pylist(),
            (pc.divide(p["price_fen"], 100.0)).to_pylist(),
            (pc.divide(p["cost_fen"], 100.0)).to_pylist(),
            p["launched_on"].to_pylist(),
            strict=True,
        ),
        path,
        sheet="商品档案",
    )
    write_text(PRODUCTS_MAPPING, path.parent / "mapping.toml")
    add("products", path, p.num_rows)

    bad_customers = [
        _csv_line(
            ["CX00001", "2026-01-05 12:00:00", stores[0].store_id, "store", "1990", "unknown"]
        ),
        _csv_line(
            ["CX00002", "2026-01-06 12:00:00", stores[0].store_id, "store", "1991", "unknown"]
        ),
        _csv_line(["CX00003", "2026-01-07 12:00:00", stores[0].store_id, "store", "1850", "f"]),
    ]
    path = sources / "customers" / "customers.csv"
    write_csv(customers.table, path, extra_lines=bad_customers if cfg.malformed else ())
    malformed["customers"] = len(bad_customers) if cfg.malformed else 0
    add("customers", path, customers.table.num_rows + malformed["customers"])

    step("people counters")
    planted = planted_anomalies(cfg, cal, stores)
    traffic = []
    counter_dir = sources / "traffic_counts"
    write_text(COUNTER_MAPPING.format(tz=tz), counter_dir / "mapping.toml")
    for i, store in enumerate(stores):
        st = simulate_store_traffic(cfg, cal, store, i, planted)
        traffic.append(st)
        t = st.table.rename_columns(
            ["site_code", "door", "start_time", "duration_s", "count_in", "count_out", "passing"]
        )
        extra: list[str] = []
        if i == 0 and cfg.malformed:
            body = csv_bytes(t.slice(100, 5)).decode("utf-8").splitlines()[1:]
            extra = [
                *body,  # the counter re-sent five readings: duplicates, not errors
                _csv_line([store.store_id, "E1", "not-a-time", "60", "3", "2", "10"]),
                _csv_line([store.store_id, "E1", "2024-13-01 10:00:00", "60", "3", "2", "10"]),
                *(
                    _csv_line(
                        [store.store_id, "E1", f"2020-01-01 10:0{k}:00", "60", "-3", "0", "5"]
                    )
                    for k in range(3)
                ),
            ]
            duplicates["traffic_counts"] = 5
            malformed["traffic_counts"] = 5
        path = counter_dir / f"counter_{store.store_id}.csv"
        write_csv(t, path, extra_lines=extra)
        add("traffic_counts", path, t.num_rows + len(extra))
    entries = np.vstack([x.entries_per_day for x in traffic])

    step("orders")
    sales = simulate_sales(cfg, cal, stores, entries, customers, catalogue)
    sales = collapse_conversion(cfg, sales, planted)
    o = sales.orders
    store_mask = pc.equal(o["channel"], "store")
    pos = o.filter(store_mask)
    pos_t = pa.table(
        {
            "订单号": pos["order_id"],
            "门店编号": pos["store_id"],
            "会员编号": pos["customer_id"],
            "交易时间": pc.strftime(pos["ts"], format="%Y/%m/%d %H:%M:%S"),
            "实付金额": pa.array(yuan_text(pos["total_fen"])),
            "优惠金额": pa.array(yuan_text(pos["discount_fen"])),
            "优惠券": pos["coupon_code"],
            "支付方式": pos["payment"],
            "状态": pos["status"],
        }
    )
    s0 = stores[0].store_id
    bad_pos = (
        [
            _csv_line(
                [
                    "PX00000001",
                    s0,
                    "",
                    "2026/05/01 12:00:00",
                    "￥12,3a4.00",
                    "￥0.00",
                    "",
                    "wechat_pay",
                    "completed",
                ]
            ),
            _csv_line(
                [
                    "PX00000002",
                    s0,
                    "",
                    "2026/05/01 12:05:00",
                    "￥abc",
                    "￥0.00",
                    "",
                    "wechat_pay",
                    "completed",
                ]
            ),
            _csv_line(
                [
                    "PX00000003",
                    s0,
                    "",
                    "2026/13/45 25:61:00",
                    "￥100.00",
                    "￥0.00",
                    "",
                    "wechat_pay",
                    "completed",
                ]
            ),
            _csv_line(
                [
                    "PX00000004",
                    s0,
                    "",
                    "yesterday",
                    "￥100.00",
                    "￥0.00",
                    "",
                    "wechat_pay",
                    "completed",
                ]
            ),
            _csv_line(
                [
                    "PX00000005",
                    s0,
                    "",
                    "2026/05/01 12:10:00",
                    "￥100.00",
                    "￥0.00",
                    "",
                    "bitcoin",
                    "completed",
                ]
            ),
            _csv_line(
                [
                    "PX00000006",
                    s0,
                    "",
                    "2026/05/01 12:15:00",
                    "￥100.00",
                    "￥0.00",
                    "",
                    "bitcoin",
                    "completed",
                ]
            ),
        ]
        if cfg.malformed
        else []
    )
    malformed["orders"] = len(bad_pos)
    path = sources / "orders" / "pos" / "orders_pos.csv"
    write_csv(pos_t, path, encoding="gbk", extra_lines=bad_pos)
    write_text(POS_MAPPING.format(tz=tz), path.parent / "mapping.toml")
    add("orders", path, pos_t.num_rows + len(bad_pos))
    online = o.filter(pc.invert(store_mask))
    path = sources / "orders" / "online" / "orders_online.csv"
    write_csv(online, path)
    add("orders", path, online.num_rows)

    lines = sales.lines
    if cfg.malformed:
        bad = lines.slice(0, 2).set_column(1, "line_no", pa.array([99, 98], pa.int64()))
        bad = bad.set_column(3, "quantity", pa.array([0, 0], pa.int64()))
        lines = pa.concat_tables([lines, bad])
    malformed["order_lines"] = 2 if cfg.malformed else 0
    path = sources / "order_lines" / "order_lines.parquet"
    write_parquet(lines, path)
    add("order_lines", path, lines.num_rows)
    path = sources / "refunds" / "refunds.csv"
    write_csv(sales.refunds, path)
    add("refunds", path, sales.refunds.num_rows)

    step("Wi-Fi probes")
    w_days = min(cfg.wifi_days, cfg.days)
    for i, store in enumerate(stores):
        tb = traffic[i].table
        # Passers-by per day from the counter table (same days as ``entries``).
        passers = pc.sum(tb["passers_by"]).as_py()
        daily_pass = np.full(cfg.days, 0, dtype=np.int64)
        if passers:
            n_min = tb.num_rows // cfg.days
            daily_pass = tb["passers_by"].to_numpy().reshape(cfg.days, n_min).sum(axis=1)
        w = simulate_store_wifi(cfg, store, i, entries[i, -w_days:], daily_pass[-w_days:])
        path = sources / "wifi_sightings" / f"wifi_{store.store_id}.csv"
        write_csv(w, path)
        add("wifi_sightings", path, w.num_rows)

    step("app events")
    counts = EventCounts()
    ev_dir = sources / "events"
    write_text(EVENTS_MAPPING, ev_dir / "mapping.toml")
    bad_events = (
        [
            '{"messageId": "m-bad-1", "type": "track", "event": "Product Viewed"',
            '{"messageId": "m-bad-2", "type": "track", "timestamp": "2026-10-01T10:00:00Z",,}',
            "this is not json",
            '{"messageId":"m-bad-4","type":"bogus","event":"Product Viewed","anonymousId":"a-1",'
            '"timestamp":"2026-10-01T10:00:00Z"}',
            '{"messageId":"m-bad-5","type":"bogus","event":"Product Viewed","anonymousId":"a-1",'
            '"timestamp":"2026-10-01T10:00:00Z"}',
        ]
        if cfg.malformed
        else []
    )
    malformed["events"] = len(bad_events)
    for k, chunk in enumerate(iter_event_chunks(cfg, catalogue, customers.ids, counts)):
        path = ev_dir / f"events-{k + 1:05d}.jsonl"
        parts: list[Any] = [chunk["line"]]
        if k == 0 and bad_events:
            parts.append(bad_events)
        write_jsonl(parts, path)
        add("events", path, chunk.num_rows + (len(bad_events) if k == 0 else 0))

    step("inventory, staff, community, surveys")
    n_days = cfg.days
    sold = np.zeros((len(stores), len(catalogue.sku), n_days), dtype=np.int64)
    line_ok = (sales.channel[sales.line_order] == 0) & (
        sales.status[sales.line_order] != "cancelled"
    )
    np.add.at(
        sold,
        (
            sales.store[sales.line_order][line_ok],
            sales.line_sku[line_ok],
            sales.day[sales.line_order][line_ok],
        ),
        sales.line_qty[line_ok],
    )
    inv = simulate_inventory(cfg, cal, stores, catalogue, sold)
    path = sources / "inventory_snapshots" / "inventory.parquet"
    write_parquet(inv, path)
    add("inventory_snapshots", path, inv.num_rows)

    shifts = simulate_shifts(cfg, stores)
    path = sources / "staff_shifts" / "staff_shifts.xlsx"
    write_xlsx(
        shifts.column_names,
        zip(*(shifts[c].to_pylist() for c in shifts.column_names), strict=True),
        path,
        sheet="排班",
    )
    add("staff_shifts", path, shifts.num_rows)

    comm = simulate_community(cfg, stores, customers)
    for kind, table in (("community_groups", comm.groups), ("community_members", comm.members)):
        path = sources / kind / f"{kind}.csv"
        write_csv(table, path)
        add(kind, path, table.num_rows)
    msgs = comm.messages
    ts_text = pc.strftime(msgs["ts"], format="%Y-%m-%d %H:%M:%S").to_pylist()
    records = []
    for rec, ts in zip(msgs.to_pylist(), ts_text, strict=True):
        rec["ts"] = ts
        records.append(
            json.dumps({k: v for k, v in rec.items() if v is not None}, ensure_ascii=False)
        )
    path = sources / "community_messages" / "community_messages.jsonl"
    write_jsonl([records], path)
    add("community_messages", path, len(records))

    surveys = simulate_surveys(cfg, stores, customers.ids)
    bad_surveys = (
        [
            _csv_line(
                ["RX0000001", "nps", "", stores[0].store_id, "2026-06-01 12:00:00", "11", ""]
            ),
            _csv_line(
                ["RX0000002", "nps", "", stores[0].store_id, "2026-06-02 12:00:00", "11", ""]
            ),
        ]
        if cfg.malformed
        else []
    )
    malformed["surveys"] = len(bad_surveys)
    path = sources / "surveys" / "surveys.csv"
    write_csv(surveys, path, extra_lines=bad_surveys)
    add("surveys", path, surveys.num_rows + len(bad_surveys))

    step("truth")
    truth = _truth(
        cfg,
        cal,
        stores,
        catalogue,
        customers,
        sales,
        traffic,
        counts,
        comm,
        malformed,
        duplicates,
        rows,
    )
    truth.anomalies = _anomaly_truth(planted, stores, traffic, sales, cfg.days)
    write_parquet(_customer_truth(customers), sources / CUSTOMER_TRUTH_FILE)
    truth.files = {
        str(p.relative_to(sources)): _sha256(p)
        for p in sorted(sources.rglob("*"))
        if p.is_file() and p.name != "truth.json"
    }
    truth.write(sources)
    return GeneratedDemo(
        sources=sources, truth=truth, files=files, seconds=time.perf_counter() - t0
    )


def _anomaly_truth(
    planted: list[PlantedAnomaly], stores: list[Any], traffic: list[Any], sales: Any, days: int
) -> list[dict[str, Any]]:
    """The planted anomalies with the counted entries and store transactions of their
    store-days, as the imported data has them."""
    # Counter rows are laid out (days, entrances, minutes) per store.
    counted = np.vstack([t.table["ins"].to_numpy().reshape(days, -1).sum(axis=1) for t in traffic])
    store_tx = (sales.channel == 0) & np.isin(sales.status, SALE_STATUSES)
    tx = np.zeros((len(stores), days), dtype=np.int64)
    np.add.at(tx, (sales.store[store_tx], sales.day[store_tx]), 1)
    return truth_records(planted, [s.store_id for s in stores], counted, tx)


def _customer_truth(c: cust_mod.Customers) -> pa.Table:
    g = cust_mod.GAMMA_GAMMA
    return pa.table(
        {
            "customer_id": pa.array(c.ids),
            "lambda_per_day": pa.array(c.lam),
            "p_dropout": pa.array(c.p),
            "nu": pa.array(c.nu),
            "expected_spend_yuan": pa.array(g["p"] / c.nu),
            "alive": pa.array(c.alive),
            "frequency": pa.array(c.frequency.astype(np.int64)),
            "recency_days": pa.array(c.recency),
            "T_days": pa.array(c.T),
            f"expected_purchases_{cust_mod.HORIZON_DAYS}d": pa.array(c.expected_purchases),
        }
    )


def _truth(
    cfg: DemoConfig,
    cal: Calendar,
    stores: list[Any],
    catalogue: prod_mod.Catalogue,
    customers: cust_mod.Customers,
    sales: ord_mod.Sales,
    traffic: list[Any],
    counts: EventCounts,
    comm: Any,
    malformed: dict[str, int],
    duplicates: dict[str, int],
    rows: dict[str, int],
) -> DemoTruth:
    nps = store_nps(cfg, len(stores))
    csat = store_csat(cfg, len(stores))
    valid = np.isin(sales.status, SALE_STATUSES)
    store_tx = (sales.channel == 0) & valid
    out_stores = []
    for i, s in enumerate(stores):
        tb = traffic[i].table
        ins = tb["ins"].to_numpy()
        ent_codes = tb["entrance_id"].to_numpy(zero_copy_only=False)
        entries = int(ins.sum())
        sel = store_tx & (sales.store == i)
        tx = int(sel.sum())
        sales_fen = int(sales.total_fen[sel].sum())
        cust = sales.customer[sel]
        cust = cust[cust >= 0]
        per = np.bincount(cust) if len(cust) else np.zeros(0, np.int64)
        buyers = int((per >= 1).sum())
        repeat = int((per >= 2).sum())
        by_entrance = {code: int(ins[ent_codes == code].sum()) for code, _, _ in s.entrances}
        out_stores.append(
            StoreTruth(
                store_id=s.store_id,
                city=s.city,
                area_m2=s.area_m2,
                capture_rate=s.capture_rate,
                conversion_rate=s.conversion_rate,
                passers_by_per_day=s.passers_by_per_day,
                entries_per_day=s.entries_per_day,
                entrance_shares=s.entrance_shares,
                mean_visit_minutes=s.mean_visit_minutes,
                staff_on_floor=s.staff_on_floor,
                nps=float(nps[i]),
                csat_mean=float(csat[i]),
                staff_devices=staff_device_hashes(cfg, i, s),
                realised={
                    "entries": entries,
                    "transactions": tx,
                    "sales_fen": sales_fen,
                    "conversion": tx / entries if entries else None,
                    "atv_fen": sales_fen / tx if tx else None,
                    "customers": buyers,
                    "repeat_customers": repeat,
                    "repeat_purchase_rate": repeat / buyers if buyers else None,
                    "passers_by": int(tb["passers_by"].to_numpy().sum()),
                    **{f"entries_{code}": n for code, n in by_entrance.items()},
                },
            )
        )
    entries = np.vstack([t.entries_per_day for t in traffic]).sum(axis=0)
    weekday_mean = [
        float(entries[cal.weekday == d].mean()) if (cal.weekday == d).any() else None
        for d in range(7)
    ]
    plain = (cal.festival < 0) & ~cal.promo
    festival_realised = {}
    for k, fest in enumerate(cal_mod.FESTIVALS):
        days = cal.festival == k
        if days.any() and plain.any():
            # Compare with ordinary days of the same weekdays, so weekends do not bias it.
            wd = cal.weekday[days]
            base = np.array([entries[plain & (cal.weekday == d)].mean() for d in wd])
            festival_realised[fest.name] = float(entries[days].sum() / base.sum())

    # Planted pairs: realised lift over all orders.
    n_orders = len(sales.channel)
    pair_info = []
    for a, b in catalogue.pairs:
        has_a = np.zeros(n_orders, bool)
        has_b = np.zeros(n_orders, bool)
        has_a[sales.line_order[sales.line_sku == a]] = True
        has_b[sales.line_order[sales.line_sku == b]] = True
        n_a, n_b, n_ab = int(has_a.sum()), int(has_b.sum()), int((has_a & has_b).sum())
        pair_info.append(
            {
                "sku_a": str(catalogue.sku[a]),
                "sku_b": str(catalogue.sku[b]),
                "orders_a": n_a,
                "orders_b": n_b,
                "orders_both": n_ab,
                "lift": (n_ab * n_orders / (n_a * n_b)) if n_a and n_b else None,
            }
        )
    promo_store = store_tx & sales.promo
    # Conversion on promo days vs ordinary (non-festival) days, all stores together.
    day_entries = np.vstack([t.entries_per_day for t in traffic]).sum(axis=0)
    tx_per_day = np.bincount(sales.day[store_tx], minlength=cfg.days)
    ordinary = (cal.festival < 0) & ~cal.promo
    promo_conv = (
        tx_per_day[cal.promo].sum() / day_entries[cal.promo].sum() if cal.promo.any() else None
    )
    plain_conv = (
        tx_per_day[ordinary].sum() / day_entries[ordinary].sum() if ordinary.any() else None
    )
    plain_store = store_tx & ~sales.promo
    member = sales.customer >= 0
    ch_names = cust_mod.CHANNELS
    gg = cust_mod.GAMMA_GAMMA
    members_total = comm.members.num_rows
    return DemoTruth(
        config=cfg.to_dict(),
        period={
            "start": cfg.start_date.isoformat(),
            "end": cfg.end_date.isoformat(),
            "timezone": cfg.timezone,
            "source_timestamps": "local store time without offset, except app events "
            "(UTC, ISO 8601 with Z) and Parquet (none)",
        },
        calendar={
            "weekday_traffic": list(cal_mod.WEEKDAY_TRAFFIC),
            "weekday_online": list(cal_mod.WEEKDAY_ONLINE),
            "store_hour_shares": {
                str(cfg.open_hour + h): round(float(v), 6)
                for h, v in enumerate(cal_mod.store_hour_shares(cfg.open_hour, cfg.close_hour))
            },
            "online_hour_shares": {
                str(h): round(float(v), 6) for h, v in enumerate(cal_mod.online_hour_shares())
            },
            "festivals": {
                f.name: {
                    "store_lift": f.store_lift,
                    "online_lift": f.online_lift,
                    "days": cal.festival_days().get(f.name, []),
                    "realised_store_lift": festival_realised.get(f.name),
                }
                for f in cal_mod.FESTIVALS
            },
            "spring_festival_dates": {
                str(y): SPRING_FESTIVAL[y].isoformat()
                for y in range(cal.dates[0].year, cal.dates[-1].year + 1)
                if y in SPRING_FESTIVAL
            },
            "realised_weekday_entries": weekday_mean,
            "day_noise_sigma": 0.10,
        },
        promotion={
            "coupon_code": cal_mod.PROMO_COUPON,
            "rule": "满200减40",
            "threshold_fen": cal_mod.PROMO_THRESHOLD_FEN,
            "discount_fen": cal_mod.PROMO_DISCOUNT_FEN,
            "days_of_month": list(cal_mod.PROMO_DAYS_OF_MONTH),
            "days": [d.isoformat() for d, p in zip(cal.dates, cal.promo, strict=True) if p],
            "conversion_lift": cal_mod.PROMO_CONVERSION_LIFT,
            "spend_lift": cal_mod.PROMO_SPEND_LIFT,
            "redemption": cal_mod.PROMO_REDEMPTION,
            "realised_atv_promo_fen": float(sales.total_fen[promo_store].mean())
            if promo_store.any()
            else None,
            "realised_atv_plain_fen": float(sales.total_fen[plain_store].mean())
            if plain_store.any()
            else None,
            "coupon_orders": int(pc.sum(pc.is_valid(sales.orders["coupon_code"])).as_py()),
            "realised_conversion_promo": float(promo_conv) if promo_conv is not None else None,
            "realised_conversion_plain": float(plain_conv) if plain_conv is not None else None,
        },
        stores=out_stores,
        zones={
            z[0]: {
                "name": z[1],
                "area_share": z[2],
                "mean_dwell_minutes": z[3],
                "visit_probability": z[4],
            }
            for z in ZONES
        },
        wifi={
            "days": min(cfg.wifi_days, cfg.days),
            "device_share": wifi_mod.DEVICE_SHARE,
            "visitor_probe_seconds": wifi_mod.VISITOR_PROBE_SECONDS,
            "staff_probe_seconds": wifi_mod.STAFF_PROBE_SECONDS,
            "passer_sighting_share": wifi_mod.PASSER_SIGHTING_SHARE,
            "passer_rssi_range": [-95, -85],
            "note": "staff devices (see stores[].staff_devices) are present all opening "
            "hours; dwell per zone is exponential with the zone's mean, at least "
            "20 s",
        },
        customers={
            "count": cfg.customers,
            "time_unit": "days",
            "bgnbd": dict(cust_mod.BGNBD),
            "gamma_gamma": dict(gg),
            "money_unit": "yuan",
            "horizon_days": cust_mod.HORIZON_DAYS,
            "alive_share": float(customers.alive.mean()),
            "mean_frequency": float(customers.frequency.mean()),
            "repeat_buyer_share": float((customers.frequency > 0).mean()),
            "per_customer_file": CUSTOMER_TRUTH_FILE,
            "note": "spend z is the amount paid before the promo-day lift and coupon; the "
            "first purchase is at the customer's birth (first_seen_at); purchase "
            "days follow BG/NBD exactly, times of day follow the channel curves",
        },
        channels={
            "member_primary_mix": dict(zip(ch_names, cust_mod.PRIMARY_CHANNEL_MIX, strict=True)),
            "stray_probability": cust_mod.STRAY_PROBABILITY,
            "home_store_share": cust_mod.HOME_STORE_SHARE,
            "guest_orders_per_day": ord_mod.GUEST_ORDERS_PER_DAY,
            "orders_by_channel": {
                name: int((sales.channel == k).sum()) for k, name in enumerate(ch_names)
            },
            "anonymous_share_of_store_orders": float((~member[store_tx]).mean())
            if store_tx.any()
            else None,
        },
        products={
            "count": len(catalogue.sku),
            "slow_movers": [str(s) for s in catalogue.sku[catalogue.slow]],
            "slow_mover_share": prod_mod.SLOW_MOVER_SHARE,
            "pairs": pair_info,
            "pair_order_share": prod_mod.PAIR_ORDER_SHARE,
        },
        orders={
            "count": n_orders,
            "lines": len(sales.line_order),
            "refund_rate": ord_mod.REFUND_RATE,
            "full_refund_share": ord_mod.FULL_REFUND_SHARE,
            "online_cancel_rate": ord_mod.ONLINE_CANCEL_RATE,
            "refunds": sales.refunds.num_rows,
            "status_counts": {
                s: int((sales.status == s).sum())
                for s in ("completed", "cancelled", "refunded", "partially_refunded")
            },
        },
        events={
            "days": min(cfg.event_days, cfg.days),
            "funnel": list(ev_mod.FUNNEL),
            "step_conversion": dict(ev_mod.STEP_CONVERSION),
            "extra_views_mean": ev_mod.EXTRA_VIEWS_MEAN,
            "logged_in_share": ev_mod.LOGGED_IN_SHARE,
            "sessions": counts.sessions,
            "events": counts.events,
            "events_per_step": dict(zip(ev_mod.FUNNEL, counts.steps, strict=True)),
            "note": "each session reaches a step with the given probability of the previous "
            "one; events_per_step counts events (views repeat within a session)",
        },
        community={
            "groups": comm.groups.num_rows,
            "members": members_total,
            "community_share_of_customers": cust_mod.COMMUNITY_SHARE,
            "click_rate": 0.20,
            "member_messages_per_day": 0.03,
            "messages": comm.messages.num_rows,
        },
        surveys={
            "nps_by_store": {s.store_id: float(nps[i]) for i, s in enumerate(stores)},
            "csat_mean_by_store": {s.store_id: float(csat[i]) for i, s in enumerate(stores)},
        },
        malformed=malformed,
        duplicates=duplicates,
        rows_written=rows,
    )


# -- import ------------------------------------------------------------------------------
def source_files(sources: Path, kind: str) -> list[Path]:
    folder = sources / kind
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.name != "mapping.toml")


@contextmanager
def _progress(enabled: bool, total: int) -> Iterator[Callable[[str], None]]:
    if not enabled:
        yield _noop
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        transient=False,
    ) as progress:
        task = progress.add_task("importing", total=total)
        first = [True]

        def advance(label: str) -> None:
            if not first[0]:
                progress.advance(task)
            first[0] = False
            progress.update(task, description=f"importing {label}")

        yield advance
        progress.update(task, completed=total, description="imported")


def import_sources(
    workspace: Any, sources: Path, *, progress: bool = False
) -> list[dict[str, Any]]:
    """Import every file under ``sources/<kind>/`` with the real importer, parents first."""
    from storeops.ingest import import_file
    from storeops.warehouse.schema import TABLES

    plan = [(kind, f) for kind in TABLES.import_order() for f in source_files(sources, kind)]
    loads = []
    with _progress(progress, len(plan)) as advance:
        for kind, path in plan:
            advance(str(path.relative_to(sources)))
            result = import_file(workspace, kind, path)
            loads.append(result.to_dict())
    return loads


def build_demo(
    directory: Path | str,
    cfg: DemoConfig | None = None,
    *,
    progress: bool = False,
    step: Step = _noop,
) -> DemoBuild:
    """Create a workspace in ``directory``, write the demo sources and import them."""
    from storeops.workspace import init_workspace

    cfg = cfg or DemoConfig()
    previous = Path(directory) / "sources" / TRUTH_FILE
    if previous.is_file():
        # Re-running the same demo is idempotent (every file reports already_loaded);
        # mixing two differently sized merchants in one warehouse is not.
        old = DemoTruth.read(previous).config
        if old != cfg.to_dict():
            changed = sorted(k for k in cfg.to_dict() if old.get(k) != cfg.to_dict()[k])
            raise ConfigError(
                f"{directory} already holds a demo built with other settings "
                f"({', '.join(changed)} differ); choose another folder or delete this one"
            )
    ws = init_workspace(directory, timezone=cfg.timezone)
    sources = ws.folder("sources")
    generated = generate_sources(cfg, sources, step=step)
    t0 = time.perf_counter()
    loads = import_sources(ws, sources, progress=progress)
    build = DemoBuild(
        root=ws.root,
        generated=generated,
        loads=loads,
        generate_seconds=generated.seconds,
        import_seconds=time.perf_counter() - t0,
    )
    return build
