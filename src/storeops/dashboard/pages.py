"""What each page shows, computed from a :class:`~storeops.dashboard.snapshot.Snapshot`.

One function per page takes a :class:`View` (who asks, for which store, in which
language) and returns the template's variables: numbers already formatted and Plotly
figures as dicts (:mod:`storeops.dashboard.charts`). Nothing here opens a database;
the snapshot holds the marts, and a page filters a few thousand rows.

``View.store`` is a store id or :data:`CHAIN` (every store the user sees). Store
rows of the marts are filtered to the user's stores before anything is computed, so
a store manager's page cannot include another store's numbers; the "chain average"
of the benchmark page is an aggregate over every store, without store names.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import partial
from typing import Any

import numpy as np
import pandas as pd

from storeops.access import Principal
from storeops.dashboard import charts
from storeops.dashboard.snapshot import Snapshot

CHAIN = "*"
PERIODS = (7, 28, 90)


@dataclass(frozen=True)
class View:
    snapshot: Snapshot
    principal: Principal
    store: str  # a store id, or CHAIN
    locale: str
    gettext: Callable[[str], str]
    days: int = 7
    extra: dict[str, Any] = field(default_factory=dict)

    def _(self, message: str) -> str:
        return self.gettext(message)

    @property
    def en(self) -> bool:
        return self.locale.startswith("en")

    def visible(self) -> list[str]:
        return [s for s in self.snapshot.store_ids() if self.principal.sees_store(s)]

    def stores(self) -> list[str]:
        """The stores this view covers."""
        return self.visible() if self.store == CHAIN else [self.store]

    def scoped(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Rows of ``frame`` (a mart with ``store_id``) for this view's stores."""
        if frame.empty or "store_id" not in frame.columns:
            return frame
        return frame[frame["store_id"].isin(self.stores())]

    def store_name(self, store_id: str) -> str:
        if store_id == CHAIN:
            return self._("All stores")
        names = self.snapshot.stores.set_index("store_id")["name"]
        return f"{store_id} {names.get(store_id, '')}".strip()


# -- formatting ----------------------------------------------------------------------
def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value))


def fmt_int(value: Any) -> str:
    return "—" if _missing(value) else f"{float(value):,.0f}"


def fmt_pct(value: Any, digits: int = 1) -> str:
    return "—" if _missing(value) else f"{float(value):.{digits}%}"


def fmt_yuan(fen: Any) -> str:
    if _missing(fen):
        return "—"
    yuan = float(fen) / 100
    return f"¥{yuan:,.0f}" if abs(yuan) >= 1000 else f"¥{yuan:,.2f}"


def fmt_num(value: Any, digits: int = 2) -> str:
    return "—" if _missing(value) else f"{float(value):,.{digits}f}"


def _div(a: float, b: float) -> float | None:
    return None if not b else a / b


def last_day(frame: pd.DataFrame, column: str = "day") -> date | None:
    if frame.empty or column not in frame.columns:
        return None
    value = frame[column].max()
    return None if pd.isna(value) else value


def in_days(frame: pd.DataFrame, first: date, last: date, column: str = "day") -> pd.DataFrame:
    return frame[(frame[column] >= first) & (frame[column] <= last)]


# -- overview --------------------------------------------------------------------------
@dataclass(frozen=True)
class Tile:
    label: str
    value: str
    previous: str
    delta: str
    tone: str  # good | bad | flat
    definition: str = ""


def _tile(view: View, label: str, cur: float | None, prev: float | None, fmt: Callable[[Any], str],
          direction: str = "up", definition: str = "") -> Tile:  # fmt: skip
    if cur is None or prev is None or prev == 0 or _missing(cur) or _missing(prev):
        return Tile(label, fmt(cur), fmt(prev), "—", "flat", definition)
    change = cur / prev - 1
    tone = (
        "flat"
        if abs(change) < 0.005
        else ("good" if (change > 0) == (direction == "up") else "bad")
    )
    return Tile(label, fmt(cur), fmt(prev), f"{change:+.1%}", tone, definition)


#: KPIs shown as tiles when the KPI mart exists, in this order (those present).
KPI_TILES = (
    "entries", "capture_rate", "conversion", "atv", "upt", "sales", "sales_per_m2",
    "repeat_purchase_rate", "new_members", "active_members", "nps", "complaint_rate",
)  # fmt: skip


def kpi_rollup(rows: pd.DataFrame, kpi: Any) -> float | None:
    """One KPI over a period and set of stores from ``mart_kpi_daily`` rows, by the
    catalog's rules (``kind``, ``scale``, ``level_ratio``; see storeops.kpi.catalog)."""
    if rows.empty:
        return None
    scale = float(getattr(kpi, "scale", 1.0))
    if kpi.kind == "sum":
        return float(rows["numerator"].sum()) * scale
    if kpi.kind == "ratio":
        den = float(rows["denominator"].sum())
        return None if not den else scale * float(rows["numerator"].sum()) / den
    last = rows[rows["day"] == rows["day"].max()]
    if len(last) == 1 and not _missing(last["value"].iloc[0]):
        return float(last["value"].iloc[0])
    if getattr(kpi, "level_ratio", False):
        den = float(last["denominator"].sum())
        return None if not den else scale * float(last["numerator"].sum()) / den
    return scale * float(last["numerator"].sum())


def _kpi_tiles(view: View, first: date, last: date, prev_first: date) -> list[Tile] | None:
    mart = view.snapshot.mart("mart_kpi_daily")
    if mart.empty:
        return None
    try:
        from storeops.kpi import KPIS
    except ImportError:
        return None
    chain = view.store == CHAIN and view.principal.stores is None
    tiles = []
    for kpi_id in KPI_TILES:
        kpi = KPIS.get(kpi_id)
        if kpi is None:
            continue
        rows = view.snapshot.kpi_rows(kpi_id)
        if rows.empty:
            continue
        if chain and (getattr(kpi, "chain_rows", False) or kpi.grain == "chain_day"):
            rows = rows[rows["store_id"] == CHAIN]
        else:
            rows = rows[rows["store_id"].isin(view.stores())]
        if rows.empty:
            continue
        cur = kpi_rollup(in_days(rows, first, last), kpi)
        prev = kpi_rollup(in_days(rows, prev_first, first - timedelta(days=1)), kpi)
        fmt: Callable[[Any], str] = partial(kpi.format, locale=view.locale)
        tiles.append(
            _tile(
                view,
                kpi.name(view.locale),
                cur,
                prev,
                fmt,
                kpi.direction,
                kpi.definition(view.locale),
            )
        )
    return tiles or None


def _performance_tiles(view: View, first: date, last: date, prev_first: date) -> list[Tile]:
    perf = view.scoped(view.snapshot.mart("mart_store_performance_daily"))
    traffic = view.scoped(view.snapshot.mart("mart_traffic_daily"))
    area = float(
        view.snapshot.stores.loc[view.snapshot.stores["store_id"].isin(view.stores()), "area_m2"]
        .fillna(0)
        .sum()
    )

    def sums(a: date, b: date) -> dict[str, float]:
        p = in_days(perf, a, b)
        t = in_days(traffic, a, b)
        out = {c: float(p[c].sum()) for c in ("entries", "transactions", "sales_fen", "units")}
        out["passers_by"] = float(t["passers_by"].sum()) if not t.empty else 0.0
        out["t_entries"] = float(t["entries"].sum()) if not t.empty else 0.0
        return out

    c, p = sums(first, last), sums(prev_first, first - timedelta(days=1))
    _ = view._
    specs: list[tuple[str, Callable[[dict[str, float]], float | None], Callable[[Any], str]]] = [
        (_("Entries"), lambda s: s["entries"], fmt_int),
        (_("Capture rate"), lambda s: _div(s["t_entries"], s["t_entries"] + s["passers_by"]),
         fmt_pct),
        (_("Conversion"), lambda s: _div(s["transactions"], s["entries"]), fmt_pct),
        (_("ATV"), lambda s: _div(s["sales_fen"], s["transactions"]), fmt_yuan),
        (_("UPT"), lambda s: _div(s["units"], s["transactions"]), fmt_num),
        (_("Sales"), lambda s: s["sales_fen"], fmt_yuan),
        (_("Sales per m²"), lambda s: _div(s["sales_fen"], area), fmt_yuan),
    ]  # fmt: skip
    return [_tile(view, label, f(c), f(p), fmt) for label, f, fmt in specs]


def overview(view: View) -> dict[str, Any]:
    _ = view._
    perf = view.scoped(view.snapshot.mart("mart_store_performance_daily"))
    end = last_day(perf)
    if end is None:
        return {"empty": True}
    first = end - timedelta(days=view.days - 1)
    prev_first = first - timedelta(days=view.days)
    tiles = _kpi_tiles(view, first, end, prev_first) or _performance_tiles(
        view, first, end, prev_first
    )
    since = end - timedelta(days=max(view.days, 28) - 1)
    daily = (
        in_days(perf, since, end)
        .groupby("day", as_index=False)[["entries", "transactions", "sales_fen"]]
        .sum()
    )
    sales = charts.bars(
        list(daily["day"]), {_("Sales (¥)"): list(daily["sales_fen"] / 100)},
        title=_("Sales per day"),
    )  # fmt: skip
    traffic = charts.lines(
        list(daily["day"]),
        {_("Entries"): list(daily["entries"]), _("Transactions"): list(daily["transactions"])},
        title=_("Entries and transactions per day"),
    )
    return {
        "empty": False,
        "tiles": tiles,
        "period": (first, end),
        "previous": (prev_first, first - timedelta(days=1)),
        "charts": {"sales": sales, "traffic": traffic},
        "goals": goal_rows(view),
    }


def goal_rows(view: View) -> list[dict[str, Any]]:
    """Goal pacing from the snapshot (``extras["goals"]``, GoalStatus objects) for the
    view's stores, and the chain's goals for users who see every store."""
    statuses = view.snapshot.extras.get("goals") or []
    try:
        from storeops.kpi import KPIS
    except ImportError:
        return []
    rows = []
    for g in statuses:
        store = g.store_id
        if store is None and view.principal.stores is not None:
            continue
        if store is not None and store not in view.stores():
            continue
        kpi = KPIS.get(g.kpi)
        fmt: Callable[[Any], str] = (
            partial(kpi.format, locale=view.locale) if kpi is not None else fmt_num
        )
        rows.append(
            {
                "kpi_name": kpi.name(view.locale) if kpi is not None else g.kpi,
                "store_label": view.store_name(store or CHAIN),
                "baseline_text": fmt(g.baseline),
                "target_text": fmt(g.target),
                "deadline": g.deadline,
                "current_text": fmt(g.current),
                "expected_text": fmt(g.expected),
                "projected_text": fmt(g.projected),
                "status": g.status,
            }
        )
    return rows


# -- live traffic -------------------------------------------------------------------------
def live_data(view: View) -> dict[str, Any]:
    """Today's (the latest counted day's) minute entries for one store, as JSON."""
    live = view.snapshot.live
    rows = live[live["store_id"].isin(view.stores())] if not live.empty else live
    if rows.empty:
        return {"store": view.store, "day": None, "minutes": [], "entries": [], "cumulative": [],
                "occupancy": [], "total": 0, "in_store": 0, "updated": None}  # fmt: skip
    per_minute = rows.groupby("minute", as_index=False)[["entries", "exits"]].sum()
    day = per_minute["minute"].max().date()
    today = per_minute[per_minute["minute"].dt.date == day].sort_values("minute")
    cumulative = today["entries"].cumsum()
    occupancy = (today["entries"] - today["exits"]).cumsum().clip(lower=0)
    return {
        "store": view.store,
        "day": day.isoformat(),
        # Full timestamps, so Plotly draws a time axis with readable ticks.
        "minutes": [m.strftime("%Y-%m-%dT%H:%M") for m in today["minute"]],
        "entries": [int(v) for v in today["entries"]],
        "cumulative": [int(v) for v in cumulative],
        "occupancy": [int(v) for v in occupancy],
        "total": int(cumulative.iloc[-1]) if len(cumulative) else 0,
        "in_store": int(occupancy.iloc[-1]) if len(occupancy) else 0,
        "updated": today["minute"].max().strftime("%Y-%m-%d %H:%M"),
    }


def live_figures(view: View, data: dict[str, Any]) -> dict[str, charts.Figure]:
    _ = view._
    return {
        "minutes": charts.bars(
            data["minutes"], {_("Entries per minute"): data["entries"]},
            title=_("Entries per minute"),
        ),
        "cumulative": charts.lines(
            data["minutes"],
            {_("Entries so far"): data["cumulative"], _("In store now"): data["occupancy"]},
            title=_("Entries so far and people in store"),
        ),
    }  # fmt: skip


def traffic(view: View) -> dict[str, Any]:
    data = live_data(view)
    return {"empty": data["day"] is None, "live": data, "charts": live_figures(view, data)}


# -- store performance and benchmark ----------------------------------------------------------
def _store_table(perf: pd.DataFrame, traffic: pd.DataFrame, stores: pd.DataFrame) -> pd.DataFrame:
    sums = perf.groupby("store_id")[
        ["entries", "transactions", "sales_fen", "units", "staff_hours"]
    ].sum()
    if not traffic.empty:
        t = traffic.groupby("store_id")[["entries", "passers_by"]].sum()
        sums["capture_rate"] = t["entries"] / (t["entries"] + t["passers_by"]).replace(0, np.nan)
    else:
        sums["capture_rate"] = np.nan
    sums = sums.join(stores.set_index("store_id")[["area_m2"]])
    sums["conversion"] = sums["transactions"] / sums["entries"].replace(0, np.nan)
    sums["atv_fen"] = sums["sales_fen"] / sums["transactions"].replace(0, np.nan)
    sums["upt"] = sums["units"] / sums["transactions"].replace(0, np.nan)
    sums["sales_per_m2_fen"] = sums["sales_fen"] / sums["area_m2"].replace(0, np.nan)
    sums["star"] = sums["entries"] / sums["staff_hours"].replace(0, np.nan)
    return sums


def stores(view: View) -> dict[str, Any]:
    _ = view._
    all_perf = view.snapshot.mart("mart_store_performance_daily")
    end = last_day(all_perf)
    if end is None:
        return {"empty": True}
    first = end - timedelta(days=view.days - 1)
    perf_all = in_days(all_perf, first, end)
    traffic_all = in_days(view.snapshot.mart("mart_traffic_daily"), first, end)
    table_all = _store_table(perf_all, traffic_all, view.snapshot.stores)
    mine = table_all[table_all.index.isin(view.stores())]
    # The benchmark: the mean store of the whole chain (an aggregate, no names).
    avg = table_all[["conversion", "atv_fen", "upt", "sales_per_m2_fen", "capture_rate", "star"]]
    chain_avg = avg.mean(numeric_only=True)
    rows = [
        {
            "store": view.store_name(str(sid)),
            "entries": fmt_int(r["entries"]),
            "transactions": fmt_int(r["transactions"]),
            "sales": fmt_yuan(r["sales_fen"]),
            "capture_rate": fmt_pct(r["capture_rate"]),
            "conversion": fmt_pct(r["conversion"]),
            "atv": fmt_yuan(r["atv_fen"]),
            "upt": fmt_num(r["upt"]),
            "sales_per_m2": fmt_yuan(r["sales_per_m2_fen"]),
            "star": fmt_num(r["star"], 1),
        }
        for sid, r in mine.iterrows()
    ]
    benchmark = {
        "store": _("Chain average (per store)"),
        "entries": "", "transactions": "", "sales": "",
        "capture_rate": fmt_pct(chain_avg.get("capture_rate")),
        "conversion": fmt_pct(chain_avg.get("conversion")),
        "atv": fmt_yuan(chain_avg.get("atv_fen")),
        "upt": fmt_num(chain_avg.get("upt")),
        "sales_per_m2": fmt_yuan(chain_avg.get("sales_per_m2_fen")),
        "star": fmt_num(chain_avg.get("star"), 1),
    }  # fmt: skip
    labels = [str(s) for s in mine.index] + [_("Chain average")]
    conversion = charts.bars(
        labels, {_("Conversion"): [*mine["conversion"].tolist(), chain_avg.get("conversion")]},
        title=_("Conversion against the chain average"), y_format=".1%",
    )  # fmt: skip
    per_m2 = charts.bars(
        labels,
        {_("Sales per m² (¥)"): [*(mine["sales_per_m2_fen"] / 100).tolist(),
                                 (chain_avg.get("sales_per_m2_fen") or 0) / 100]},
        title=_("Sales per m²"),
    )  # fmt: skip
    daily = perf_all[perf_all["store_id"].isin(view.stores())]
    pivot = daily.pivot_table(index="day", columns="store_id", values="conversion").sort_index()
    trend = charts.lines(
        list(pivot.index), {str(c): pivot[c].tolist() for c in pivot.columns},
        title=_("Conversion per day"), y_format=".1%",
    )  # fmt: skip
    return {
        "empty": False,
        "period": (first, end),
        "rows": rows,
        "benchmark": benchmark,
        "charts": {"conversion": conversion, "per_m2": per_m2, "trend": trend},
    }


# -- zones --------------------------------------------------------------------------------------
def zones(view: View) -> dict[str, Any]:
    _ = view._
    mart = view.scoped(view.snapshot.mart("mart_zone_daily"))
    end = last_day(mart)
    if end is None:
        return {"empty": True}
    first = end - timedelta(days=view.days - 1)
    z = in_days(mart, first, end).copy()
    z["label"] = z["store_id"] + " " + z["name"] if len(view.stores()) > 1 else z["name"]
    heat = z.pivot_table(index="label", columns="day", values="visits_per_m2", aggfunc="sum")
    heat = heat.sort_index()
    heat_fig = charts.heatmap(
        list(heat.columns), list(heat.index), heat.to_numpy().tolist(),
        title=_("Zone heat: visits per m² per day"),
    )  # fmt: skip
    per_zone = z.groupby("label").agg(
        visits=("visits", "sum"), total_dwell_s=("total_dwell_s", "sum"),
        p90=("p90_dwell_s", "mean"), area=("area_m2", "first"),
    )  # fmt: skip
    per_zone["mean_dwell_s"] = per_zone["total_dwell_s"] / per_zone["visits"].replace(0, np.nan)
    per_zone = per_zone.sort_values("mean_dwell_s")
    dwell_fig = charts.bars(
        list(per_zone.index), {_("Mean dwell (s)"): per_zone["mean_dwell_s"].tolist()},
        title=_("Mean dwell per zone"), horizontal=True,
    )  # fmt: skip
    rows = [
        {"zone": str(label), "visits": fmt_int(r["visits"]), "area": fmt_num(r["area"], 0),
         "mean_dwell": fmt_num(r["mean_dwell_s"] / 60, 1), "p90_dwell": fmt_num(r["p90"] / 60, 1)}
        for label, r in per_zone.sort_values("visits", ascending=False).iterrows()
    ]  # fmt: skip
    return {"empty": False, "period": (first, end), "rows": rows,
            "charts": {"heat": heat_fig, "dwell": dwell_fig}}  # fmt: skip


# -- funnels and retention ------------------------------------------------------------------------
def funnels(view: View) -> dict[str, Any]:
    _ = view._
    f = view.snapshot.mart("mart_dashboard_funnel")
    r = view.snapshot.mart("mart_dashboard_retention")
    if f.empty and r.empty:
        return {"empty": True}
    out: dict[str, Any] = {"empty": False, "charts": {}, "channels": [], "steps": []}
    if not f.empty:
        everyone = f[f["breakdown"] == "*"].sort_values("step")
        out["steps"] = [_(str(e)) for e in everyone["event"]]
        out["period"] = tuple(str(everyone[c].iloc[0])[:10] for c in ("since", "until"))
        out["charts"]["funnel"] = charts.funnel(
            out["steps"], everyone["people"].tolist(), title=_("App purchase funnel, everyone")
        )
        for channel, rows in f[f["breakdown"] != "*"].groupby("breakdown"):
            rows = rows.sort_values("step")
            out["channels"].append(
                {"channel": _(str(channel)), "people": [fmt_int(v) for v in rows["people"]],
                 "conversion": fmt_pct(rows["conversion_from_start"].iloc[-1])}
            )  # fmt: skip
    if not r.empty:
        # Week 0 is 100% by definition; leaving it out keeps the colours for the rest.
        later = r[r["period"] > 0]
        grid = later.pivot_table(index="cohort", columns="period", values="rate").sort_index()
        sizes = r.groupby("cohort")["cohort_size"].first()
        labels = [f"{str(c)[:10]} ({int(sizes[c])})" for c in grid.index]
        out["charts"]["retention"] = charts.heatmap(
            [f"+{int(p)}" for p in grid.columns], labels, grid.to_numpy().tolist(),
            title=_("Weekly retention by first-event cohort"), z_format=".0%",
            colorscale="Blues", height=420, x_category=True,
        )  # fmt: skip
    return out


# -- customers ----------------------------------------------------------------------------------
SEGMENTS = ("vip", "potential", "new", "dormant")
STATUSES = ("new", "returning", "resurrecting", "dormant")
#: Sales channels with a translated name (others show their id).
CHANNELS = ("mini_program", "own_site", "app", "taobao", "tmall", "community", "pos", "(none)")
STATUS_COLORS = ("#16a34a", "#2563eb", "#9333ea", "#dc2626")


def _scope_key(view: View, frame: pd.DataFrame) -> pd.DataFrame:
    """Chain rows for the whole chain; else the chosen store's rows (a scoped user
    with several stores and no choice sees their first store)."""
    if frame.empty:
        return frame
    if view.store == CHAIN and view.principal.stores is None:
        return frame[frame["store_id"] == CHAIN]
    return frame[frame["store_id"] == view.stores()[0]]


def customers(view: View) -> dict[str, Any]:
    _ = view._
    rfm = _scope_key(view, view.snapshot.mart("mart_dashboard_rfm"))
    if rfm.empty:
        return {"empty": True}
    grid = (
        rfm.pivot_table(index="r_score", columns="f_score", values="customers", aggfunc="sum")
        .reindex(index=range(1, 6), columns=range(1, 6))
        .fillna(0)
    )
    rfm_fig = charts.heatmap(
        [f"F{c}" for c in grid.columns], [f"R{r}" for r in grid.index], grid.to_numpy().tolist(),
        title=_("RFM map: customers by recency (R) and frequency (F) score"),
    )  # fmt: skip
    seg = rfm.groupby("segment")[["customers", "monetary_fen"]].sum().reindex(SEGMENTS).fillna(0)
    seg_fig = charts.bars(
        [_(f"segment:{s}") for s in seg.index], {_("Customers"): seg["customers"].tolist()},
        title=_("Customers per segment"),
    )  # fmt: skip
    life = _scope_key(view, view.snapshot.mart("mart_dashboard_lifecycle"))
    pivot = life.pivot_table(index="period", columns="status", values="customers", aggfunc="sum")
    pivot = pivot.reindex(columns=list(STATUSES)).fillna(0).sort_index()
    life_fig = charts.bars(
        list(pivot.index),
        {_(f"status:{s}"): [(-v if s == "dormant" else v) for v in pivot[s].tolist()]
         for s in STATUSES},
        title=_("Lifecycle per week"), stacked=True, colors=STATUS_COLORS,
    )  # fmt: skip
    clv = _scope_key(view, view.snapshot.mart("mart_dashboard_clv")).sort_values("bin")
    clv_fig = charts.bars(
        [f"¥{lo / 100:,.0f}+" for lo in clv["low_fen"]],
        {_("Customers"): clv["customers"].tolist()},
        title=_("Expected 90-day CLV per customer"),
    )  # fmt: skip
    risk = _scope_key(view, view.snapshot.mart("mart_dashboard_at_risk")).head(20)
    at_risk = [
        {"customer": str(r["customer_id"]), "spend": fmt_yuan(r["spend_fen"]),
         "orders": fmt_int(r["orders"]), "last": str(r["last_day"]),
         "days": fmt_int(r["days_since_last"]), "p_alive": fmt_pct(r["p_alive"], 0),
         "clv": fmt_yuan(r["expected_clv_fen"]), "at_risk": fmt_yuan(r["value_at_risk_fen"])}
        for _i, r in risk.iterrows()
    ]  # fmt: skip
    segments = [
        {"segment": _(f"segment:{s}"), "customers": fmt_int(r["customers"]),
         "spend": fmt_yuan(r["monetary_fen"])}
        for s, r in seg.iterrows()
    ]  # fmt: skip
    return {
        "empty": False,
        "customers": fmt_int(rfm["customers"].sum()),
        "segments": segments,
        "at_risk": at_risk,
        "charts": {"rfm": rfm_fig, "segments": seg_fig, "lifecycle": life_fig, "clv": clv_fig},
    }


# -- forecasts and staffing ---------------------------------------------------------------------
def forecasts(view: View) -> dict[str, Any]:
    _ = view._
    fc = view.scoped(view.snapshot.mart("mart_traffic_forecast"))
    if fc.empty:
        return {"empty": True}
    daily = fc[fc["grain"] == "day"].copy()
    daily["day"] = pd.to_datetime(daily["ds"]).dt.date
    future = daily.groupby("day")[["entries", "baseline"]].sum(min_count=1).sort_index()
    history_to = daily["history_to"].max()
    hist = view.scoped(view.snapshot.mart("mart_traffic_daily"))
    hist = in_days(hist, history_to - timedelta(days=27), history_to)
    past = hist.groupby("day")["entries"].sum().sort_index()
    x = [*past.index, *future.index]
    n_past, n_future = len(past), len(future)
    forecast_fig = charts.lines(
        x,
        {
            _("Entries"): [*past.tolist(), *([None] * n_future)],
            _("Forecast"): [*([None] * n_past), *future["entries"].tolist()],
            _("Same day last week"): [*([None] * n_past), *future["baseline"].tolist()],
        },
        title=_("Entries per day: last four weeks and the forecast"),
        dashed=(_("Same day last week"),),
    )
    plan = view.scoped(view.snapshot.mart("mart_staffing_plan"))
    out: dict[str, Any] = {
        "empty": False,
        "history_to": history_to,
        "model": str(daily["model"].iloc[0]) if "model" in daily.columns else "",
        "charts": {"forecast": forecast_fig},
        "staff_days": [],
    }
    if not plan.empty:
        p = plan.copy()
        ts = pd.to_datetime(p["ds"])
        p["day"], p["hour"] = ts.dt.date, ts.dt.hour
        grid = p.pivot_table(index="hour", columns="day", values="staff", aggfunc="sum")
        open_hours = grid[(grid > 0).any(axis=1)]
        out["charts"]["staffing"] = charts.heatmap(
            [str(d) for d in open_hours.columns], [f"{h:02d}:00" for h in open_hours.index],
            open_hours.to_numpy().tolist(), title=_("Planned sales staff per hour"),
            colorscale="Greens",
        )  # fmt: skip
        per_day = p.groupby("day").agg(staff_hours=("staff", "sum"),
                                       entries=("forecast_entries", "sum"))  # fmt: skip
        out["staff_days"] = [
            {"day": str(d), "staff_hours": fmt_int(r["staff_hours"]),
             "entries": fmt_int(r["entries"])}
            for d, r in per_day.iterrows()
        ]  # fmt: skip
    return out
