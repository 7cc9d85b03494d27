"""Members whose buying follows BG/NBD (purchase rate and dropout) with Gamma-Gamma spend.

The model, per customer i, in days:

- purchase rate ``lambda_i ~ Gamma(shape=r, rate=alpha)``;
- after each repeat purchase the customer drops out with ``p_i ~ Beta(a, b)``;
- while alive, purchases arrive as a Poisson process with rate ``lambda_i``;
- the customer's mean-spend rate ``nu_i ~ Gamma(shape=q, rate=v)`` and each purchase
  spends ``z ~ Gamma(shape=p, rate=nu_i)`` yuan (before the promo lift and coupons).

The first purchase happens at the customer's birth (uniform over the period), so
``frequency`` (repeat purchases), ``recency`` and ``T`` behave exactly as the BG/NBD
paper defines them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from storeops.demo._util import categorical, day_number, fmt_ids, rng_for
from storeops.demo.config import DemoConfig
from storeops.demo.stores import StoreProfile

#: BG/NBD parameters (time unit: days). Mean dropout a/(a+b) = 1/6 with a widely spread
#: Beta (many one-off buyers, some very loyal): with 5,000 customers this makes the
#: four parameters recoverable by maximum likelihood to within a few per cent, where
#: a narrower Beta(0.8, 4) left a and b uncertain by +-15 %.
BGNBD = {"r": 0.9, "alpha": 30.0, "a": 0.5, "b": 2.5}
#: Gamma-Gamma parameters (money unit: yuan): mean spend p*v/(q-1) = 400 yuan.
GAMMA_GAMMA = {"p": 6.0, "q": 4.0, "v": 200.0}
#: Horizon of the recorded expected purchases.
HORIZON_DAYS = 90

CHANNELS = ("store", "mini_program", "taobao", "community")
#: Customers' preferred channel, and how often they stray from it.
PRIMARY_CHANNEL_MIX = (0.65, 0.18, 0.12, 0.05)
STRAY_PROBABILITY = 0.2
#: Share of members in a community group of their home store.
COMMUNITY_SHARE = 0.35
#: Share of store purchases made at the customer's home store.
HOME_STORE_SHARE = 0.85
_MAX_PURCHASES = 2_000


@dataclass
class Customers:
    table: pa.Table
    ids: np.ndarray
    birth: np.ndarray  # days since the period start (continuous)
    T: np.ndarray
    lam: np.ndarray
    p: np.ndarray
    nu: np.ndarray
    alive: np.ndarray
    frequency: np.ndarray
    recency: np.ndarray
    expected_purchases: np.ndarray
    home_store: np.ndarray
    in_community: np.ndarray
    #: One row per purchase (the first one included), sorted by customer then time.
    purchase_customer: np.ndarray
    purchase_time: np.ndarray  # days since the period start (continuous)
    purchase_channel: np.ndarray  # index into CHANNELS
    purchase_store: np.ndarray  # store index, -1 for online
    purchase_local: np.ndarray  # local wall-clock seconds since 1970


def simulate_customers(cfg: DemoConfig, stores: list[StoreProfile]) -> Customers:
    rng = rng_for(cfg.seed, 3)
    n = cfg.customers
    r, alpha, a, b = BGNBD["r"], BGNBD["alpha"], BGNBD["a"], BGNBD["b"]
    lam = rng.gamma(r, 1.0 / alpha, n)
    p = rng.beta(a, b, n)
    birth = rng.uniform(0.0, cfg.days - 1.0, n)
    T = cfg.days - birth  # noqa: N806 - the BG/NBD paper's name
    n_poisson = np.minimum(rng.poisson(lam * T), _MAX_PURCHASES)
    death_at = rng.geometric(p)  # dies right after this many repeat purchases
    frequency = np.minimum(n_poisson, death_at)
    alive = n_poisson < death_at

    # Given their count, Poisson arrival times are sorted uniforms on (0, T).
    owner = np.repeat(np.arange(n), n_poisson)
    t = rng.random(len(owner)) * T[owner]
    order = np.lexsort((t, owner))
    owner, t = owner[order], t[order]
    starts = np.r_[0, np.cumsum(n_poisson)[:-1]]
    rank = np.arange(len(owner)) - starts[owner]
    keep = rank < frequency[owner]
    rep_owner, rep_t = owner[keep], t[keep]
    recency = np.zeros(n)
    has = frequency > 0
    last = np.cumsum(frequency)[has] - 1
    recency[has] = rep_t[last]

    g = GAMMA_GAMMA
    nu = rng.gamma(g["q"], 1.0 / g["v"], n)
    h = HORIZON_DAYS
    expected = np.where(alive, (1.0 - np.exp(-lam * p * h)) / p, 0.0)

    # All purchases: the first at birth, then the repeats.
    pc = np.r_[np.arange(n), rep_owner]
    pt = np.r_[birth, birth[rep_owner] + rep_t]
    order = np.lexsort((pt, pc))
    pc, pt = pc[order], pt[order]

    weights = np.array([s.entries_per_day * s.conversion_rate for s in stores])
    home = categorical(rng, weights, n)
    in_community = rng.random(n) < COMMUNITY_SHARE
    primary = categorical(rng, np.array(PRIMARY_CHANNEL_MIX), n)
    primary[(primary == 3) & ~in_community] = 1
    m = len(pc)
    channel = primary[pc]
    stray = rng.random(m) < STRAY_PROBABILITY
    channel[stray] = categorical(rng, np.array(PRIMARY_CHANNEL_MIX), int(stray.sum()))
    channel[(channel == 3) & ~in_community[pc]] = 1
    store = np.where(rng.random(m) < HOME_STORE_SHARE, home[pc], rng.integers(0, len(stores), m))
    store = np.where((channel == 0) | (channel == 3), store, -1)
    store[channel == 3] = home[pc[channel == 3]]

    ids = np.asarray(fmt_ids("C", np.arange(1, n + 1), 7).to_numpy(zero_copy_only=False))
    day0 = day_number(cfg.start_date)
    purchase_local = purchase_local_seconds(rng_for(cfg.seed, 3, 1), cfg, day0, pt, channel)
    first_idx = np.r_[0, np.cumsum(frequency + 1)[:-1]]
    first_seen_local = purchase_local[first_idx]
    birth_year = rng.integers(1965, 2006, n)
    by_known = rng.random(n) < 0.7
    gender = np.array(["f", "m", "x"])[categorical(rng, np.array([0.65, 0.30, 0.05]), n)]
    gender_known = rng.random(n) < 0.8
    first_channel = channel[first_idx]
    table = pa.table(
        {
            "customer_id": pa.array(ids),
            "first_seen_at": pa.array(first_seen_local.astype("datetime64[s]")),
            "home_store_id": pa.array(np.array([s.store_id for s in stores])[home]),
            "source": pa.array(np.array(CHANNELS)[first_channel]),
            "birth_year": pa.array(birth_year, mask=~by_known),
            "gender": pa.array(gender, mask=~gender_known),
        }
    )
    return Customers(
        table=table,
        ids=ids,
        birth=birth,
        T=T,
        lam=lam,
        p=p,
        nu=nu,
        alive=alive,
        frequency=frequency,
        recency=recency,
        expected_purchases=expected,
        home_store=home,
        in_community=in_community,
        purchase_customer=pc,
        purchase_time=pt,
        purchase_channel=channel,
        purchase_store=store,
        purchase_local=purchase_local,
    )


def purchase_local_seconds(
    rng: np.random.Generator, cfg: DemoConfig, day0: int, t: np.ndarray, channel: np.ndarray
) -> np.ndarray:
    """Local wall-clock seconds for purchases at continuous day ``t``.

    The day comes from the BG/NBD clock; the time of day follows the store's opening
    hours (store and community purchases) or the online curve, so daily counts keep
    the BG/NBD process exactly while hours look like real trade.
    """
    from storeops.demo.calendar import online_hour_shares, store_hour_shares

    day = np.floor(t).astype(np.int64)
    n = len(t)
    store_like = (channel == 0) | (channel == 3)
    hours = np.empty(n, dtype=np.int64)
    sh = store_hour_shares(cfg.open_hour, cfg.close_hour)
    hours[store_like] = cfg.open_hour + categorical(rng, sh, int(store_like.sum()))
    hours[~store_like] = categorical(rng, online_hour_shares(), int((~store_like).sum()))
    secs = rng.integers(0, 3600, n)
    return (day0 + day) * 86_400 + hours * 3600 + secs
