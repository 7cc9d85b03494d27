"""NPS and CSAT answers with a planted score per store."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from storeops.demo._util import categorical, day_number, fmt_ids, rng_for
from storeops.demo.config import DemoConfig
from storeops.demo.stores import StoreProfile

#: Answers per store per day, and the share of passives (7-8) in NPS answers.
NPS_PER_DAY = 0.8
CSAT_PER_DAY = 0.6
NPS_PASSIVE_SHARE = 0.30
#: Store NPS spans the merchants' quoted range (42 today, 55 target).
NPS_RANGE = (30.0, 58.0)


def store_nps(cfg: DemoConfig, n: int) -> np.ndarray:
    rng = rng_for(cfg.seed, 50)
    return rng.permutation(np.linspace(*NPS_RANGE, n)) if n > 1 else np.array([42.0])


def store_csat(cfg: DemoConfig, n: int) -> np.ndarray:
    """Mean CSAT (1-5) per store."""
    return np.round(rng_for(cfg.seed, 51).uniform(3.8, 4.6, n), 2)


def simulate_surveys(
    cfg: DemoConfig, stores: list[StoreProfile], customer_ids: np.ndarray
) -> pa.Table:
    rng = rng_for(cfg.seed, 52)
    nps = store_nps(cfg, len(stores))
    csat = store_csat(cfg, len(stores))
    day0 = day_number(cfg.start_date)
    parts = []
    for i, _store in enumerate(stores):
        n_nps = rng.poisson(NPS_PER_DAY * cfg.days)
        promoter = (1 - NPS_PASSIVE_SHARE + nps[i] / 100) / 2
        detractor = 1 - NPS_PASSIVE_SHARE - promoter
        group = categorical(rng, np.array([detractor, NPS_PASSIVE_SHARE, promoter]), n_nps)
        score = np.select(
            [group == 0, group == 1],
            [
                categorical(rng, np.array([1, 1, 1, 2, 3, 5, 7.0]), n_nps),
                7 + rng.integers(0, 2, n_nps),
            ],
            9 + rng.integers(0, 2, n_nps),
        )
        n_cs = rng.poisson(CSAT_PER_DAY * cfg.days)
        # A discretised normal around the store's mean, clipped to 1-5.
        cs = np.clip(np.round(rng.normal(csat[i], 0.8, n_cs)), 1, 5).astype(np.int64)
        n_all = n_nps + n_cs
        parts.append(
            (
                np.full(n_all, i),
                np.r_[np.full(n_nps, "nps"), np.full(n_cs, "csat")],
                np.r_[score, cs],
                (day0 + rng.integers(0, cfg.days, n_all)) * 86_400
                + rng.integers(cfg.open_hour * 3600, (cfg.close_hour + 2) * 3600, n_all),
            )
        )
    store_idx = np.concatenate([p[0] for p in parts])
    kind = np.concatenate([p[1] for p in parts])
    score = np.concatenate([p[2] for p in parts]).astype(np.int64)
    ts = np.concatenate([p[3] for p in parts])
    order = np.argsort(ts, kind="stable")
    n = len(ts)
    known = rng.random(n) < 0.6
    cust = customer_ids[rng.integers(0, len(customer_ids), n)]
    return pa.table(
        {
            "response_id": fmt_ids("R", np.arange(1, n + 1), 8),
            "survey": pa.array(kind[order]),
            "customer_id": pa.array(cust[order].astype(str), mask=~known[order]),
            "store_id": pa.array(np.array([s.store_id for s in stores])[store_idx[order]]),
            "ts": pa.array(ts[order].astype("datetime64[s]")),
            "score": pa.array(score[order]),
            "comment": pa.array(np.full(n, ""), mask=np.ones(n, bool)),
        }
    )
