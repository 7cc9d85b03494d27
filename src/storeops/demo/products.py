"""The product catalogue: categories, brands, prices in fen, popularity, planted pairs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import numpy as np
import pyarrow as pa

from storeops.demo._util import fmt_ids, rng_for
from storeops.demo.config import DemoConfig

#: Category, Chinese name stem, median price in yuan, share of the catalogue.
CATEGORIES = (
    ("Womenswear", "女装", 329, 0.30),
    ("Menswear", "男装", 299, 0.22),
    ("Shoes", "鞋履", 459, 0.14),
    ("Accessories", "配饰", 89, 0.20),
    ("Kids", "童装", 159, 0.14),
)
BRANDS = ("Lanmu", "Qingshan", "Urban Ease", "Beiye")
#: Share of SKUs that barely sell (the slow-moving stock analytics should find).
SLOW_MOVER_SHARE = 0.25
SLOW_MOVER_WEIGHT = 0.03
#: Number of SKU pairs that are planted to be bought together.
N_PAIRS = 5
#: Share of multi-line orders that are forced to contain one planted pair.
PAIR_ORDER_SHARE = 0.06


@dataclass
class Catalogue:
    table: pa.Table
    sku: np.ndarray  # str
    price_fen: np.ndarray
    category: np.ndarray  # index into CATEGORIES
    popularity: np.ndarray  # sampling weights
    slow: np.ndarray  # bool
    pairs: np.ndarray  # (N_PAIRS, 2) sku indices


def build_catalogue(cfg: DemoConfig) -> Catalogue:
    rng = rng_for(cfg.seed, 2)
    n = cfg.products
    shares = np.array([c[3] for c in CATEGORIES])
    category = np.sort(rng.choice(len(CATEGORIES), size=n, p=shares / shares.sum()))
    median = np.array([c[2] for c in CATEGORIES], dtype=float)[category]
    yuan = median * rng.lognormal(0.0, 0.45, n)
    # Shelf prices end in 9 (59, 199, 459 …), as Chinese fashion retail prices do.
    yuan = np.maximum(np.round(yuan / 10.0) * 10.0 - 1.0, 19.0)
    price_fen = (yuan * 100).astype(np.int64)
    cost_fen = (price_fen * rng.uniform(0.32, 0.5, n)).astype(np.int64)
    popularity = 1.0 / (1.0 + rng.permutation(n)) ** 0.8
    slow = rng.random(n) < SLOW_MOVER_SHARE
    popularity[slow] *= SLOW_MOVER_WEIGHT
    # Pairs: regular (not slow) SKUs from different categories, outside the top sellers.
    order = np.argsort(-popularity)
    candidates = [i for i in order[n // 10 :] if not slow[i]]
    pairs: list[tuple[int, int]] = []
    used: set[int] = set()
    for a in candidates:
        if len(pairs) == N_PAIRS:
            break
        if a in used:
            continue
        for b in candidates:
            if b not in used and b != a and category[b] != category[a]:
                pairs.append((int(a), int(b)))
                used.update((a, b))
                break
    sku = np.asarray(fmt_ids("SKU", np.arange(1, n + 1), 5).to_numpy(zero_copy_only=False))
    names = [
        f"{CATEGORIES[c][1]} {BRANDS[i % len(BRANDS)]} #{i + 1:03d}" for i, c in enumerate(category)
    ]
    launched = [cfg.end_date - timedelta(days=int(d)) for d in rng.integers(30, 900, n)]
    table = pa.table(
        {
            "sku": pa.array(sku),
            "name": names,
            "category": [CATEGORIES[c][0] for c in category],
            "brand": [BRANDS[i % len(BRANDS)] for i in range(n)],
            "price_fen": pa.array(price_fen),
            "cost_fen": pa.array(cost_fen),
            "launched_on": pa.array(launched, pa.date32()),
        }
    )
    return Catalogue(
        table=table,
        sku=sku,
        price_fen=price_fen,
        category=category,
        popularity=popularity / popularity.sum(),
        slow=slow,
        pairs=np.array(pairs, dtype=np.int64).reshape(-1, 2),
    )
