"""The simulator on its own: determinism, file shapes, internal consistency."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from storeops.demo import DemoConfig, DemoTruth, generate_sources
from storeops.demo.build import source_files
from storeops.demo.calendar import Calendar
from storeops.demo.customers import simulate_customers
from storeops.demo.orders import simulate_sales
from storeops.demo.products import build_catalogue
from storeops.demo.stores import build_store_profiles
from storeops.demo.traffic import simulate_store_traffic
from storeops.demo.truth import CUSTOMER_TRUTH_FILE
from storeops.errors import ConfigError
from storeops.ingest.mapping import resolve_mapping
from storeops.ingest.readers import read_source
from storeops.warehouse.schema import TABLES

SMALL = DemoConfig(stores=2, customers=200, days=40, events=3_000, events_chunk=1_000)


def _hashes(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, DemoTruth]:
    folder = tmp_path_factory.mktemp("sources")
    return folder, generate_sources(SMALL, folder).truth


def test_same_seed_gives_identical_files(generated: tuple[Path, DemoTruth], tmp_path: Path) -> None:
    first, _ = generated
    generate_sources(SMALL, tmp_path)
    a, b = _hashes(first), _hashes(tmp_path)
    assert a == b
    # Every format is covered, including the ones that embed timestamps (xlsx, parquet).
    suffixes = {Path(name).suffix for name in a}
    assert {".csv", ".xlsx", ".parquet", ".jsonl", ".toml", ".json"} <= suffixes


def test_other_seed_gives_other_files(generated: tuple[Path, DemoTruth], tmp_path: Path) -> None:
    first, _ = generated
    other = DemoConfig(**{**SMALL.to_dict(), "end_date": SMALL.end_date, "seed": SMALL.seed + 1})
    generate_sources(other, tmp_path)
    a, b = _hashes(first), _hashes(tmp_path)
    assert a.keys() == b.keys()
    changed = [name for name in a if a[name] != b[name]]
    assert "orders/pos/orders_pos.csv" in changed
    assert "traffic_counts/counter_S001.csv" in changed
    assert "customers/customers.csv" in changed


def test_truth_lists_every_file_with_its_checksum(generated: tuple[Path, DemoTruth]) -> None:
    folder, truth = generated
    on_disk = _hashes(folder)
    on_disk.pop("truth.json")
    assert truth.files == on_disk
    assert DemoTruth.read(folder).to_json() == truth.to_json()


def test_every_file_maps_to_the_canonical_schema(generated: tuple[Path, DemoTruth]) -> None:
    folder, truth = generated
    seen = set()
    for kind in TABLES.importable_names:
        files = source_files(folder, kind)
        table = TABLES[kind]
        for path in files:
            mapping = resolve_mapping(path, None)
            mapping.check_against(table)
            rows = read_source(path.read_bytes(), path, mapping)
            mapped = [mapping.columns.get(h, h) for h in rows.header]
            unknown = set(mapped) - set(table.column_names)
            assert not unknown, f"{path.name}: {unknown} are not columns of {kind}"
            present = set(mapped) | set(mapping.constants)
            missing = {
                c.name
                for c in table.columns
                if c.required and c.default is None and c.name not in present
            }
            assert not missing, f"{path.name}: required columns {missing} are missing"
            seen.add(kind)
    assert seen == set(TABLES.importable_names)
    assert set(truth.rows_written) == seen


def test_planted_malformed_rows_are_recorded(generated: tuple[Path, DemoTruth]) -> None:
    _, truth = generated
    assert truth.malformed == {
        "customers": 3,
        "traffic_counts": 5,
        "orders": 6,
        "order_lines": 2,
        "events": 5,
        "surveys": 2,
    }
    assert truth.duplicates == {"traffic_counts": 5}


def test_events_are_written_in_chunks(generated: tuple[Path, DemoTruth]) -> None:
    folder, truth = generated
    files = source_files(folder, "events")
    assert [p.name for p in files] == [
        "events-00001.jsonl",
        "events-00002.jsonl",
        "events-00003.jsonl",
    ]
    lines = [ln for p in files for ln in p.read_text(encoding="utf-8").splitlines()]
    assert len(lines) == SMALL.n_events + truth.malformed["events"]
    good = []
    for line in lines:
        try:
            good.append(json.loads(line))
        except ValueError:
            continue
    ids = [e["messageId"] for e in good]
    assert len(ids) == len(set(ids))
    assert truth.events["events"] == SMALL.n_events
    steps = truth.events["events_per_step"]
    assert sum(steps.values()) == SMALL.n_events
    first = good[0]
    assert set(first) == {
        "messageId",
        "type",
        "event",
        "userId",
        "anonymousId",
        "timestamp",
        "properties",
        "context",
    }
    assert first["timestamp"].endswith("Z")


def test_no_phone_numbers_in_sources(generated: tuple[Path, DemoTruth]) -> None:
    import re

    folder, _ = generated
    # A mainland mobile number as a whole value (not digits inside a hex hash).
    phone = re.compile(rb"(?<![0-9A-Za-z])(\+?86)?1[3-9]\d{9}(?![0-9A-Za-z])")
    for path in folder.rglob("*"):
        if path.suffix in {".csv", ".jsonl"}:
            assert not phone.search(path.read_bytes()), path


def test_order_lines_add_up_to_order_totals() -> None:
    cfg = DemoConfig(stores=3, customers=400, days=60, seed=7)
    cal = Calendar.build(cfg.start_date, cfg.days)
    stores = build_store_profiles(cfg)
    catalogue = build_catalogue(cfg)
    customers = simulate_customers(cfg, stores)
    traffic = [simulate_store_traffic(cfg, cal, s, i) for i, s in enumerate(stores)]
    entries = np.vstack([t.entries_per_day for t in traffic])
    sales = simulate_sales(cfg, cal, stores, entries, customers, catalogue)
    orders = sales.orders.to_pandas().set_index("order_id")
    lines = sales.lines.to_pandas()
    per_order = lines.groupby("order_id")["amount_fen"].sum()
    assert (per_order.reindex(orders.index) == orders["total_fen"]).all()
    gross = (lines["quantity"] * lines["unit_price_fen"]).groupby(lines["order_id"]).sum()
    assert (gross.reindex(orders.index) - orders["total_fen"] == orders["discount_fen"]).all()
    assert (lines["amount_fen"] >= 0).all() and (lines["discount_fen"] >= 0).all()
    assert (lines.groupby("order_id")["line_no"].min() == 1).all()
    # Coupons only on promo days, always with their 40-yuan discount inside the total.
    coupons = orders[orders["coupon_code"].notna()]
    assert (coupons["discount_fen"] >= 4_000).all()
    # Members' purchase counts follow the BG/NBD draw: first purchase + repeats.
    member_orders = orders["customer_id"].dropna().value_counts()
    expected = customers.frequency + 1
    assert member_orders.sum() == expected.sum()
    refunds = sales.refunds.to_pandas()
    assert set(refunds["order_id"]) <= set(orders.index)
    refunded = orders.loc[refunds["order_id"], "status"]
    assert set(refunded) <= {"refunded", "partially_refunded"}


def test_customer_truth_file(generated: tuple[Path, DemoTruth]) -> None:
    folder, truth = generated
    table = pq.read_table(folder / CUSTOMER_TRUTH_FILE).to_pandas()
    assert len(table) == SMALL.customers
    assert set(table.columns) >= {
        "customer_id",
        "lambda_per_day",
        "p_dropout",
        "alive",
        "frequency",
        "recency_days",
        "T_days",
        "expected_purchases_90d",
    }
    assert (table.loc[~table["alive"], "expected_purchases_90d"] == 0).all()
    assert (table["recency_days"] <= table["T_days"]).all()
    assert truth.customers["bgnbd"] == {"r": 0.9, "alpha": 30.0, "a": 0.5, "b": 2.5}


def test_invalid_config_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="stores must be between"):
        DemoConfig(stores=0)
    with pytest.raises(ConfigError, match="days must be at least"):
        DemoConfig(days=3)


def test_calendar_moves_spring_festival() -> None:
    cal = Calendar.build(DemoConfig().start_date, DemoConfig().days)
    days = cal.festival_days()
    assert "2026-02-17" in days["spring_festival"]
    assert "2025-11-11" in days["double_11"]
    assert "2026-06-18" in days["618"]
    assert "2025-10-01" in days["national_day"] and "2026-10-07" in days["national_day"]
    assert not (cal.promo & (cal.festival >= 0)).any()


def test_planted_effects_are_measurable(tmp_path: Path) -> None:
    cfg = DemoConfig(stores=3, customers=1_500, days=200, events=1_000, seed=11)
    truth = generate_sources(cfg, tmp_path).truth
    promo = truth.promotion
    lift = promo["realised_conversion_promo"] / promo["realised_conversion_plain"]
    assert lift == pytest.approx(promo["conversion_lift"], rel=0.12)
    atv_lift = promo["realised_atv_promo_fen"] / promo["realised_atv_plain_fen"]
    # Spend x1.15 before the 40-yuan coupon: paid ATV still clearly higher.
    assert 1.0 < atv_lift < promo["spend_lift"]
    assert promo["coupon_orders"] > 0
    for pair in truth.products["pairs"]:
        assert pair["lift"] > 5, pair
    # Member store orders are a minority of store sales; repeat rates in a plausible band.
    assert 0.5 < truth.channels["anonymous_share_of_store_orders"] < 0.85
    for store in truth.stores:
        assert 0.1 < float(store.realised["repeat_purchase_rate"] or 0) < 0.7
        assert store.realised["conversion"] == pytest.approx(store.conversion_rate, rel=0.15)
