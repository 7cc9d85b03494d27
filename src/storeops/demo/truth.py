"""The planted truth: what the simulator put into the data, for checks and docs.

Written to ``<workspace>/sources/truth.json`` (and the per-customer truth to
``truth_customers.parquet`` beside it). Later analytics are tested against it.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

TRUTH_FILE = "truth.json"
CUSTOMER_TRUTH_FILE = "truth_customers.parquet"


@dataclass
class StoreTruth:
    store_id: str
    city: str
    area_m2: float
    capture_rate: float
    conversion_rate: float
    passers_by_per_day: float
    entries_per_day: float
    entrance_shares: dict[str, float]
    mean_visit_minutes: float
    staff_on_floor: int
    nps: float
    csat_mean: float
    staff_devices: list[str]
    #: Measured on the generated rows with the summary's definitions (whole period).
    realised: dict[str, float | int | None] = field(default_factory=dict)


@dataclass
class DemoTruth:
    config: dict[str, Any]
    period: dict[str, str]
    calendar: dict[str, Any]
    promotion: dict[str, Any]
    stores: list[StoreTruth]
    zones: dict[str, dict[str, Any]]
    wifi: dict[str, Any]
    customers: dict[str, Any]
    channels: dict[str, Any]
    products: dict[str, Any]
    orders: dict[str, Any]
    events: dict[str, Any]
    community: dict[str, Any]
    surveys: dict[str, Any]
    #: Rows planted on purpose that the importer must quarantine, per target table.
    malformed: dict[str, int]
    #: Rows repeated on purpose (same natural key), per target table.
    duplicates: dict[str, int]
    #: Data rows written per target table (malformed and duplicates included).
    rows_written: dict[str, int]
    #: SHA-256 of every source file, by path relative to the sources folder.
    files: dict[str, str] = field(default_factory=dict)
    #: Anomalies planted for the alert rules (demo/anomalies.py): kind, store, day,
    #: the KPIs they move and the realised counts of their store-days.
    anomalies: list[dict[str, Any]] = field(default_factory=list)
    #: Loyalty and coupon activity planted in the ops database by ``storeops demo``
    #: (demo/ops_activity.py): members, points earned / redeemed / clawed back /
    #: expired, stored value, the coupon campaign's batches, and the chain's liabilities
    #: at each month end as the seeding's own model of the ledger computes them.
    ops_activity: dict[str, Any] = field(default_factory=dict)

    def store(self, store_id: str) -> StoreTruth:
        for s in self.stores:
            if s.store_id == store_id:
                return s
        raise KeyError(store_id)

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, indent=2, sort_keys=True)

    def write(self, folder: Path) -> Path:
        path = folder / TRUTH_FILE
        path.write_text(self.to_json() + "\n", encoding="utf-8")
        return path

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DemoTruth:
        data = dict(data)
        data["stores"] = [StoreTruth(**s) for s in data["stores"]]
        return cls(**data)

    @classmethod
    def read(cls, folder: Path) -> DemoTruth:
        path = folder / TRUTH_FILE if folder.is_dir() else folder
        return cls.from_dict(json.loads(path.read_text(encoding="utf-8")))
