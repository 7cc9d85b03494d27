"""The formulas of the KPI catalog: daily numerators and denominators per store (and,
where the catalog says so, for the whole chain as ``store_id = "*"``).

Nothing is defined twice. Entries, transactions, sales and units come from
``mart_store_performance_daily`` (:class:`~storeops.analytics.performance.
StorePerformance`); capture rate from :class:`~storeops.analytics.traffic.
TrafficInsight`'s counter rows; sale orders from :func:`~storeops.analytics.
store_summary.sale_orders` (the store summary's repeat-purchase rate) and
:func:`~storeops.analytics.purchases.purchases` (the customer analytics).

Every function returns a frame with columns ``store_id, day, kpi, numerator,
denominator`` (day = local business day). The heavy lifting runs in the warehouse
(Ibis, any backend); pandas only turns small per-day aggregates into dense series.

**Trailing-window levels** (repeat-purchase rate, active members) are counted with
coverage intervals instead of one query per day: an order on day ``t`` keeps its
customer "bought in the window" from ``t`` until ``t + W`` or the customer's next
order, whichever comes first, so each customer is covered by exactly one interval at
a time; "two orders in the window" runs from an order until ``previous order + W`` or
the next order. A +1 at each start and -1 at each end, summed up day by day, gives
the count on every day at once.
"""

from __future__ import annotations

from datetime import date, timedelta

import ibis
import ibis.expr.types as ir
import pandas as pd
from sqlalchemy import Engine, select

from storeops.analytics.purchases import PURCHASE_STATUSES, purchases
from storeops.analytics.store_summary import sale_orders
from storeops.analytics.traffic import TrafficInsight, TrafficQuery
from storeops.kpi.catalog import (
    ACTIVE_WINDOW_DAYS,
    COMPLAINT_MAX_CSAT,
    PRIVATE_DOMAIN_CHANNELS,
    REPEAT_WINDOW_DAYS,
    RETENTION_DAYS,
    SATISFIED_MIN_CSAT,
)
from storeops.marts.traffic_daily import PERFORMANCE_MART, build_store_performance_daily
from storeops.opsdb.ledger_tables import ledger_accounts, ledger_entries, ledger_txns, members
from storeops.opsdb.promotion_tables import coupons
from storeops.warehouse import Warehouse

CHAIN = "*"
COLUMNS = ["store_id", "day", "kpi", "numerator", "denominator"]


def _long(frame: pd.DataFrame, kpi: str, num: str, den: str | float) -> pd.DataFrame:
    out = pd.DataFrame(
        {
            "store_id": frame["store_id"].astype(str),
            "day": pd.to_datetime(frame["day"]).dt.date,
            "kpi": kpi,
            "numerator": frame[num].astype("float64"),
            "denominator": frame[den].astype("float64") if isinstance(den, str) else float(den),
        }
    )
    return out[COLUMNS]


def empty() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="object" if c in ("store_id", "kpi") else "float64")
                         for c in COLUMNS})  # fmt: skip


def _local_day(wh: Warehouse, t: ir.Table, ts: str, store: str = "store_id") -> ir.Table:
    """``t`` with ``day``: the local day of ``t[ts]`` in its store's zone (the default
    zone where there is no store), as :func:`purchases` does."""
    zones = wh.table("stores").select(_sid="store_id", _tz="timezone")
    j = t.left_join(zones, t[store] == zones._sid)
    tz = j._tz.coalesce(ibis.literal(wh.settings.default_timezone))
    return j.mutate(day=wh.local_time(j[ts], tz).date()).drop("_sid", "_tz")


# -- store performance ------------------------------------------------------------------
def performance_frame(wh: Warehouse) -> pd.DataFrame:
    """``mart_store_performance_daily`` (built first when missing) with the store area."""
    if PERFORMANCE_MART not in wh.con.list_tables():
        build_store_performance_daily(wh)
    perf = wh.mart(PERFORMANCE_MART)
    stores = wh.table("stores").select(_sid="store_id", area_m2="area_m2")
    j = perf.left_join(stores, perf.store_id == stores._sid)
    frame = wh.to_pandas(
        j.select("store_id", "day", "entries", "transactions", "sales_fen", "units", "area_m2")
    )
    frame["day"] = pd.to_datetime(frame["day"]).dt.date
    return frame


def performance_kpis(perf: pd.DataFrame) -> list[pd.DataFrame]:
    counted = perf[perf["entries"].notna()]
    sized = perf[perf["area_m2"].notna() & (perf["area_m2"] > 0)]
    return [
        _long(counted, "entries", "entries", 1.0),
        _long(counted, "conversion", "transactions", "entries"),
        _long(perf, "atv", "sales_fen", "transactions"),
        _long(perf, "upt", "units", "transactions"),
        _long(perf, "sales", "sales_fen", 1.0),
        _long(sized, "sales_per_m2", "sales_fen", "area_m2"),
    ]


def capture_rate(wh: Warehouse) -> pd.DataFrame:
    """Entries at reporting doors / (those entries + passers-by), per store and day."""
    tc = TrafficInsight(wh, TrafficQuery(by="day")).counts()
    tc = tc.filter(tc.passers_by.notnull())
    agg = tc.group_by("store_id", "day").aggregate(
        reported=tc.ins.sum(), passers=tc.passers_by.sum()
    )
    frame = wh.to_pandas(agg)
    frame["den"] = frame["reported"] + frame["passers"]
    return _long(frame, "capture_rate", "reported", "den")


# -- customers ----------------------------------------------------------------------------
def _store_sales(wh: Warehouse) -> ir.Table:
    """Store-channel sale orders of known customers, with the local day."""
    o = sale_orders(wh)
    o = o.filter(o.customer_id.notnull())
    o = _local_day(wh, o, "ts")
    return o.select("store_id", "customer_id", "order_id", "ts", "day")


def _chain_sales(wh: Warehouse) -> ir.Table:
    """Purchases in every channel, one key for the whole chain."""
    p = purchases(wh)
    return p.select(
        store_id=ibis.literal(CHAIN), customer_id=p.customer_id, order_id=p.order_id,
        ts=p.ts, day=p.day,
    )  # fmt: skip


def _coverage_deltas(t: ir.Table, window_days: int, second: bool) -> ir.Table:
    """+1/-1 per store and day for "bought (twice, with ``second``) in the window"."""
    w = ibis.window(group_by=[t.store_id, t.customer_id], order_by=[t.ts, t.order_id])
    span = ibis.interval(days=window_days)
    t = t.mutate(prev_day=t.day.lag().over(w), next_day=t.day.lead().over(w))
    if second:  # the first order of a customer starts no "twice" interval
        t = t.filter(t.prev_day.notnull())
    reach = (t.prev_day + span) if second else (t.day + span)
    # LEAST skips NULLs on DuckDB and Spark alike; the coalesce says so explicitly.
    end = ibis.least(reach, t.next_day.coalesce(reach))
    iv = t.select("store_id", start=t.day, end=end.cast("date"))
    iv = iv.filter(iv.end > iv.start)
    ups = iv.select("store_id", day=iv.start, d=ibis.literal(1))
    downs = iv.select("store_id", day=iv.end, d=ibis.literal(-1))
    both = ups.union(downs)
    return both.group_by("store_id", "day").aggregate(delta=both.d.sum())


def _levels(deltas: pd.DataFrame, days: pd.DatetimeIndex) -> pd.DataFrame:
    """Running sums of ``delta`` per store on every day of ``days``."""
    out = []
    for store, part in deltas.groupby("store_id", sort=True):
        series = part.set_index(pd.to_datetime(part["day"]))["delta"].groupby(level=0).sum()
        full = series.reindex(series.index.union(days), fill_value=0).sort_index().cumsum()
        level = full.reindex(days)
        out.append(pd.DataFrame({"store_id": store, "day": days.date, "level": level.to_numpy()}))
    if not out:
        return pd.DataFrame({"store_id": [], "day": [], "level": []})
    return pd.concat(out, ignore_index=True)


def window_kpis(wh: Warehouse, days: pd.DatetimeIndex) -> list[pd.DataFrame]:
    """Repeat-purchase rate and active members on every day, per store and chain."""
    store, chain = _store_sales(wh), _chain_sales(wh)
    # One query for the six running counts (two scopes x three counts).
    parts = [
        _coverage_deltas(sales, window, second).mutate(metric=ibis.literal(metric))
        for sales in (store, chain)
        for metric, window, second in (
            ("customers", REPEAT_WINDOW_DAYS, False),
            ("repeaters", REPEAT_WINDOW_DAYS, True),
            ("active", ACTIVE_WINDOW_DAYS, False),
        )
    ]
    deltas = wh.to_pandas(ibis.union(*parts))
    level = {
        metric: _levels(deltas[deltas["metric"] == metric], days)
        for metric in ("customers", "repeaters", "active")
    }
    rep = level["customers"].merge(
        level["repeaters"], on=["store_id", "day"], how="left", suffixes=("_den", "_num")
    )
    rep["level_num"] = rep["level_num"].fillna(0.0)
    return [
        _long(rep, "repeat_purchase_rate", "level_num", "level_den"),
        _long(level["active"], "active_members", "level", 1.0),
    ]


def retention(wh: Warehouse) -> pd.DataFrame:
    """First-time buyers per day (store of the first purchase, and chain) and those who
    bought again on a later day within :data:`RETENTION_DAYS` days."""
    p = purchases(wh)
    last = wh.execute(p.day.max())
    if last is None or pd.isna(last):
        return empty()
    mature = pd.Timestamp(last).date() - timedelta(days=RETENTION_DAYS)
    firsts = p.group_by(c_id=p.customer_id).aggregate(
        first_day=p.day.min(), first_store=p.store_id.argmin(p.ts)
    )
    j = p.join(firsts, p.customer_id == firsts.c_id)
    j = j.filter(j.day > j.first_day)
    nxt = j.group_by(n_id=j.c_id).aggregate(next_day=j.day.min())
    c = firsts.left_join(nxt, firsts.c_id == nxt.n_id)
    c = c.filter(c.first_day <= mature)
    back = c.next_day.notnull() & (c.next_day <= c.first_day + ibis.interval(days=RETENTION_DAYS))
    c = c.mutate(back=back.cast("int64"))
    s = c.filter(c.first_store.notnull())
    per_store = s.group_by(store_id=s.first_store, day=s.first_day).aggregate(
        num=s.back.sum(), den=s.count()
    )
    chain = c.group_by(day=c.first_day).aggregate(num=c.back.sum(), den=c.count())
    frames = [wh.to_pandas(per_store), wh.to_pandas(chain).assign(store_id=CHAIN)]
    return pd.concat([_long(f, "retention_30d", "num", "den") for f in frames], ignore_index=True)


def new_members(wh: Warehouse) -> pd.DataFrame:
    """Customers by the local day they were first seen, per home store and chain."""
    c = wh.table("customers")
    c = c.filter(c.first_seen_at.notnull())
    c = _local_day(wh, c, "first_seen_at", store="home_store_id")
    homed = c.filter(c.home_store_id.notnull())
    per_store = homed.group_by(store_id=homed.home_store_id, day=homed.day).aggregate(
        n=homed.count()
    )
    chain = c.group_by("day").aggregate(n=c.count())
    frames = [wh.to_pandas(per_store), wh.to_pandas(chain).assign(store_id=CHAIN)]
    return pd.concat([_long(f, "new_members", "n", 1.0) for f in frames], ignore_index=True)


def private_domain_share(wh: Warehouse) -> pd.DataFrame:
    """Sales in private-domain channels / sales in every channel (sale statuses)."""
    o = wh.table("orders")
    o = o.filter(o.status.isin(PURCHASE_STATUSES))
    o = _local_day(wh, o, "ts")
    private = o.channel.isin(PRIVATE_DOMAIN_CHANNELS)
    measures = {"num": o.total_fen.sum(where=private), "den": o.total_fen.sum()}
    at_store = o.filter(o.store_id.notnull())
    per_store = at_store.group_by("store_id", "day").aggregate(
        num=at_store.total_fen.sum(where=at_store.channel.isin(PRIVATE_DOMAIN_CHANNELS)),
        den=at_store.total_fen.sum(),
    )
    chain = o.group_by("day").aggregate(**measures)
    frames = [wh.to_pandas(per_store), wh.to_pandas(chain).assign(store_id=CHAIN)]
    for f in frames:
        f["num"] = pd.to_numeric(f["num"], errors="coerce").astype("float64").fillna(0.0)
    return pd.concat(
        [_long(f, "private_domain_share", "num", "den") for f in frames], ignore_index=True
    )


# -- surveys, inventory ---------------------------------------------------------------
def survey_kpis(wh: Warehouse, perf: pd.DataFrame) -> list[pd.DataFrame]:
    """NPS and CSAT per store and chain; complaints per store transaction."""
    s = _local_day(wh, wh.table("surveys"), "ts")
    nps, csat = s.survey == "nps", s.survey == "csat"
    measures = {
        "nps_num": (nps & (s.score >= 9)).cast("int64").sum()
        - (nps & (s.score <= 6)).cast("int64").sum(),
        "nps_den": nps.cast("int64").sum(),
        "csat_num": (csat & (s.score >= SATISFIED_MIN_CSAT)).cast("int64").sum(),
        "csat_den": csat.cast("int64").sum(),
        "complaints": (csat & (s.score <= COMPLAINT_MAX_CSAT)).cast("int64").sum(),
    }
    per_store = wh.to_pandas(s.group_by("store_id", "day").aggregate(**measures))
    per_store = per_store[per_store["store_id"].notna()].copy()
    chain = wh.to_pandas(s.group_by("day").aggregate(**measures)).assign(store_id=CHAIN)
    out = []
    for f in (per_store, chain):
        out.append(_long(f[f["nps_den"] > 0], "nps", "nps_num", "nps_den"))
        out.append(_long(f[f["csat_den"] > 0], "csat", "csat_num", "csat_den"))
    per_store["day"] = pd.to_datetime(per_store["day"]).dt.date
    tx = perf[["store_id", "day", "transactions"]]
    both = per_store[["store_id", "day", "complaints"]].merge(
        tx, on=["store_id", "day"], how="outer"
    )
    both = both.fillna({"complaints": 0, "transactions": 0})
    out.append(_long(both, "complaint_rate", "complaints", "transactions"))
    return out


def inventory_turnover(wh: Warehouse, perf: pd.DataFrame) -> pd.DataFrame:
    """Units on hand / units sold, over the days with an inventory snapshot."""
    inv = wh.table("inventory_snapshots")
    on_hand = wh.to_pandas(
        inv.group_by("store_id", day=inv.date).aggregate(on_hand=inv.on_hand.sum())
    )
    if on_hand.empty:
        return empty()
    on_hand["day"] = pd.to_datetime(on_hand["day"]).dt.date
    j = on_hand.merge(perf[["store_id", "day", "units"]], on=["store_id", "day"], how="left")
    j["units"] = pd.to_numeric(j["units"], errors="coerce").astype("float64").fillna(0.0)
    return _long(j, "inventory_turnover_days", "on_hand", "units")


# -- ops database ---------------------------------------------------------------------
def _utc_to_day(values: pd.Series, timezone: str) -> pd.Series:
    ts = pd.to_datetime(values)
    if ts.dt.tz is None:
        ts = ts.dt.tz_localize("UTC")
    return ts.dt.tz_convert(timezone).dt.date


def _balances(engine: Engine, asset: str, timezone: str, days: pd.DatetimeIndex) -> pd.DataFrame:
    """End-of-day members' balances in ``asset`` on each of ``days``: ``store_id, day,
    level`` for the chain (every member) and per member store (members with one)."""
    e, a, t, m = ledger_entries, ledger_accounts, ledger_txns, members
    query = (
        select(t.c.created_at, e.c.amount, m.c.store_id)
        .select_from(
            e.join(a, e.c.account_id == a.c.account_id)
            .join(t, e.c.txn_id == t.c.txn_id)
            .outerjoin(m, m.c.member_id == a.c.owner)
        )
        .where(a.c.asset == asset, a.c.owner != "system")
    )
    with engine.connect() as con:
        rows = pd.DataFrame(con.execute(query).all(), columns=["created_at", "amount", "store"])
    if rows.empty:
        return pd.DataFrame({"store_id": CHAIN, "day": days.date, "level": 0.0})
    rows["day"] = pd.to_datetime(_utc_to_day(rows["created_at"], timezone))
    chain = rows.assign(store_id=CHAIN)
    stored = rows[rows["store"].notna()].assign(store_id=lambda f: f["store"].astype(str))
    both = pd.concat([chain, stored], ignore_index=True).rename(columns={"amount": "delta"})
    deltas = both.groupby(["store_id", "day"], as_index=False).agg(delta=("delta", "sum"))
    return _levels(deltas, days)


def ops_kpis(engine: Engine, timezone: str, days: pd.DatetimeIndex) -> list[pd.DataFrame]:
    """Liabilities on every day of ``days`` for the chain (0 without ledger data) and
    per member store, and the chain's coupon redemption (days with coupons issued);
    days in the workspace's time zone."""
    from storeops.pos.service import FEN_PER_POINT  # the POS owns the point value

    out = []
    for kpi, asset, factor in (
        ("points_liability", "points", float(FEN_PER_POINT)),
        ("stored_value_liability", "stored_value", 1.0),
    ):
        level = _balances(engine, asset, timezone, days)
        level["level"] = level["level"].astype("float64") * factor
        out.append(_long(level, kpi, "level", 1.0))
    with engine.connect() as con:
        issued = pd.DataFrame(
            con.execute(select(coupons.c.issued_at, coupons.c.status)).all(),
            columns=["issued_at", "status"],
        )
    if not issued.empty:
        issued["day"] = _utc_to_day(issued["issued_at"], timezone)
        issued["redeemed"] = (issued["status"] == "redeemed").astype("int64")
        agg = issued.groupby("day").agg(num=("redeemed", "sum"), den=("redeemed", "size"))
        agg = agg.reset_index().assign(store_id=CHAIN)
        first, last = days.min().date(), days.max().date()
        agg = agg[(agg["day"] >= first) & (agg["day"] <= last)]
        out.append(_long(agg, "coupon_redemption_rate", "num", "den"))
    return out


def day_range(perf: pd.DataFrame, extra: list[date]) -> pd.DatetimeIndex:
    """Every local day from the first to the last day with store data (or ``extra``)."""
    known = [d for d in [*perf["day"].tolist(), *extra] if d is not None]
    if not known:
        return pd.DatetimeIndex([])
    return pd.date_range(min(known), max(known), freq="D")
