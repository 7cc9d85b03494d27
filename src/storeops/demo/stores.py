"""Stores, their entrances and zones, and the per-store parameters the simulator plants."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pyarrow as pa

from storeops.demo._util import rng_for
from storeops.demo.config import DemoConfig

_CITIES = (
    ("Shanghai", "上海"),
    ("Beijing", "北京"),
    ("Hangzhou", "杭州"),
    ("Chengdu", "成都"),
    ("Shenzhen", "深圳"),
    ("Wuhan", "武汉"),
    ("Nanjing", "南京"),
    ("Xi'an", "西安"),
)
_MALLS = ("Joy City", "Wanda Plaza", "MixC", "Raffles City", "IFS", "Grand Gateway")

#: Entrances and their use relative to the main door (side door at 45% of it).
ENTRANCES = (("E1", "Main entrance", 1.0), ("E2", "Side entrance", 0.45))
#: The third store also has a mall-corridor entrance (one store only: each door adds
#: a row per minute to the counter files).
MALL_ENTRANCE = ("E3", "Mall corridor", 0.25)

#: Zone code, name, share of the floor, mean dwell in minutes, how likely a visitor
#: enters it. The fitting area keeps people longest, the entrance zone shortest.
ZONES = (
    ("Z01", "Entrance", 0.10, 1.5, 0.95),
    ("Z02", "New arrivals", 0.18, 4.0, 0.60),
    ("Z03", "Womenswear", 0.25, 7.0, 0.50),
    ("Z04", "Menswear", 0.20, 5.0, 0.35),
    ("Z05", "Accessories", 0.10, 3.0, 0.30),
    ("Z06", "Fitting rooms", 0.07, 12.0, 0.25),
    ("Z07", "Checkout", 0.10, 3.5, 0.30),
)


@dataclass(frozen=True)
class StoreProfile:
    """The planted parameters of one store."""

    store_id: str
    name: str
    city: str
    timezone: str
    area_m2: float
    opened_on: date
    #: Mean passers-by per day in front of the store on an ordinary Monday-ish day.
    passers_by_per_day: float
    #: 进店率: entries / (entries + passers-by).
    capture_rate: float
    #: 成交转化率: transactions / entries on a non-promo day.
    conversion_rate: float
    #: Minutes an average visitor stays (drives outs and Wi-Fi dwell).
    mean_visit_minutes: float
    entrances: tuple[tuple[str, str, float], ...]
    staff_on_floor: int

    @property
    def entries_per_day(self) -> float:
        return self.passers_by_per_day * self.capture_rate / (1.0 - self.capture_rate)

    @property
    def entrance_shares(self) -> dict[str, float]:
        total = sum(w for _, _, w in self.entrances)
        return {code: w / total for code, _, w in self.entrances}


def build_store_profiles(cfg: DemoConfig) -> list[StoreProfile]:
    rng = rng_for(cfg.seed, 1)
    n = cfg.stores
    # Conversion spans the range merchants quote (3.2% typical up to 8.2% top malls).
    conversion = rng.permutation(np.linspace(0.032, 0.082, n)) if n > 1 else np.array([0.05])
    capture = rng.uniform(0.08, 0.20, n)
    passers = rng.uniform(1_000, 2_400, n)
    area = np.round(rng.uniform(150, 600, n), 0)
    visit = rng.uniform(14, 26, n)
    opened = [cfg.start_date - timedelta(days=int(x)) for x in rng.integers(200, 3000, n)]
    out = []
    for i in range(n):
        city_en, city_zh = _CITIES[i % len(_CITIES)]
        suffix = "" if i < len(_CITIES) else f" {i // len(_CITIES) + 1}"
        entrances = ENTRANCES + ((MALL_ENTRANCE,) if i == 2 else ())
        out.append(
            StoreProfile(
                store_id=f"S{i + 1:03d}",
                name=f"{city_zh}{_MALLS[i % len(_MALLS)]}店{suffix}",
                city=city_en,
                timezone=cfg.timezone,
                area_m2=float(area[i]),
                opened_on=opened[i],
                passers_by_per_day=round(float(passers[i]), 0),
                capture_rate=round(float(capture[i]), 3),
                conversion_rate=round(float(conversion[i]), 4),
                mean_visit_minutes=round(float(visit[i]), 1),
                entrances=entrances,
                staff_on_floor=int(3 + i % 3),
            )
        )
    return out


def stores_table(profiles: list[StoreProfile]) -> pa.Table:
    return pa.table(
        {
            "store_id": [p.store_id for p in profiles],
            "name": [p.name for p in profiles],
            "city": [p.city for p in profiles],
            "timezone": [p.timezone for p in profiles],
            "area_m2": [p.area_m2 for p in profiles],
            "opened_on": pa.array([p.opened_on for p in profiles], pa.date32()),
        }
    )


def entrances_table(profiles: list[StoreProfile]) -> pa.Table:
    rows = [(p.store_id, code, name) for p in profiles for code, name, _ in p.entrances]
    return pa.table(
        {
            "store_id": [r[0] for r in rows],
            "entrance_id": [r[1] for r in rows],
            "name": [r[2] for r in rows],
        }
    )


def zones_table(profiles: list[StoreProfile]) -> pa.Table:
    rows = [
        (p.store_id, code, name, round(p.area_m2 * share, 1))
        for p in profiles
        for code, name, share, _, _ in ZONES
    ]
    return pa.table(
        {
            "store_id": [r[0] for r in rows],
            "zone_id": [r[1] for r in rows],
            "name": [r[2] for r in rows],
            "area_m2": [r[3] for r in rows],
        }
    )
