"""Page computations over the demo workspace's marts: the KPI roll-up agrees with the
KPI layer, the dashboard marts add up, every message has a translation."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import pytest
from babel.messages.extract import extract
from jinja2.ext import babel_extract

from storeops import i18n
from storeops.access import Principal
from storeops.dashboard import pages
from storeops.dashboard.routes import DYNAMIC_MESSAGES, HERE
from storeops.dashboard.snapshot import Snapshot, read_snapshot
from storeops.workspace import Workspace


@pytest.fixture(scope="module")
def snapshot(demo_ws: Workspace) -> Snapshot:
    return read_snapshot(demo_ws.settings, wait_seconds=30)


def view(snapshot: Snapshot, store: str = pages.CHAIN, role: str = "owner",
         stores: frozenset[str] = frozenset()) -> pages.View:  # fmt: skip
    principal = Principal.of("user", "u", role, stores)
    return pages.View(snapshot, principal, store, "en", lambda m: m)


def test_kpi_rollup_agrees_with_the_kpi_layer(demo_ws: Workspace, snapshot: Snapshot) -> None:
    kpi = pytest.importorskip("storeops.kpi")
    from storeops.kpi.values import kpi_values

    mart = snapshot.mart("mart_kpi_daily")
    assert not mart.empty
    last = mart["day"].max()
    monday = last - timedelta(days=last.weekday() + 7)  # the last whole week
    sunday = monday + timedelta(days=6)
    ids = [k for k in pages.KPI_TILES if k in kpi.KPIS]
    with demo_ws.warehouse() as wh:
        chain = kpi_values(wh, ids, grain="week", date_from=monday, date_to=sunday, chain=True)
        store = kpi_values(wh, ids, grain="week", date_from=monday, date_to=sunday,
                           stores=["S002"])  # fmt: skip
    compared = 0
    for frame, scope in ((chain, pages.CHAIN), (store, "S002")):
        for row in frame.itertuples():
            k = kpi.KPIS[row.kpi]
            rows = mart[mart["kpi"] == row.kpi]
            if scope == pages.CHAIN and (k.chain_rows or k.grain == "chain_day"):
                rows = rows[rows["store_id"] == pages.CHAIN]
            elif scope == pages.CHAIN:
                rows = rows[rows["store_id"] != pages.CHAIN]
            else:
                rows = rows[rows["store_id"] == scope]
            ours = pages.kpi_rollup(pages.in_days(rows, monday, sunday), k)
            if pd.isna(row.value):
                assert ours is None or pd.isna(ours)
            else:
                assert ours == pytest.approx(float(row.value), rel=1e-9), (scope, row.kpi)
            compared += 1
    assert compared >= 10


def test_overview_tiles_for_a_store_use_only_its_rows(snapshot: Snapshot) -> None:
    chain = pages.overview(view(snapshot))
    s1 = pages.overview(view(snapshot, "S001", "store_manager", frozenset({"S001"})))
    entries = {t.label: t.value for t in chain["tiles"]}["Entries"]
    entries_s1 = {t.label: t.value for t in s1["tiles"]}["Entries"]
    perf = snapshot.mart("mart_store_performance_daily")
    first, last = chain["period"]
    week = pages.in_days(perf, first, last)
    assert entries == f"{week['entries'].sum():,.0f}"
    assert entries_s1 == f"{week.loc[week['store_id'] == 'S001', 'entries'].sum():,.0f}"


def test_customer_marts_add_up(snapshot: Snapshot) -> None:
    rfm = snapshot.mart("mart_dashboard_rfm")
    clv = snapshot.mart("mart_dashboard_clv")
    risk = snapshot.mart("mart_dashboard_at_risk")
    chain_customers = rfm.loc[rfm["store_id"] == "*", "customers"].sum()
    # Every scored customer counts once in the chain's CLV bins, and once in their main
    # store's unless they only ever bought online.
    in_chain = clv.loc[clv["store_id"] == "*", "customers"].sum()
    in_stores = clv.loc[clv["store_id"] != "*", "customers"].sum()
    assert 0 < in_stores <= in_chain <= chain_customers
    # A store's RFM rows score only that store's buyers: no more than the chain's.
    for store in ("S001", "S002"):
        assert 0 < rfm.loc[rfm["store_id"] == store, "customers"].sum() <= chain_customers
    assert (risk["p_alive"] < 0.5).all()
    chain_risk = risk[risk["store_id"] == "*"]["value_at_risk_fen"].tolist()
    assert chain_risk == sorted(chain_risk, reverse=True)


def test_funnel_mart_steps_never_grow(snapshot: Snapshot) -> None:
    funnel = snapshot.mart("mart_dashboard_funnel")
    for _, rows in funnel.groupby("breakdown"):
        people = rows.sort_values("step")["people"].tolist()
        assert people == sorted(people, reverse=True) and people[0] > 0
    everyone = funnel[funnel["breakdown"] == "*"].set_index("step")["people"]
    channels = funnel[funnel["breakdown"] != "*"].groupby("step")["people"].sum()
    assert (channels >= everyone).all()  # a person may use several channels


def _template_messages() -> set[str]:
    ids: set[str] = set()
    for path in sorted((HERE / "templates").glob("*.html")):
        with path.open("rb") as fh:
            for _, msg, _, _ in extract(babel_extract, fh, keywords={"_": None},
                                        options={"extensions": "jinja2.ext.i18n"}):  # fmt: skip
                ids.add(msg if isinstance(msg, str) else msg[0])
    for path in sorted(HERE.glob("*.py")):
        with path.open("rb") as fh:
            for _, msg, _, _ in extract("python", fh, keywords={"_": None}):
                ids.add(msg if isinstance(msg, str) else msg[0])
    return ids


def test_every_dashboard_message_is_in_the_catalogs() -> None:
    used = _template_messages() | set(DYNAMIC_MESSAGES)
    for locale in i18n.LOCALES:
        known = {str(m.id) for m in i18n.catalog(locale, "dashboard") if m.id}
        assert used - known == set(), locale
    zh = i18n.translations("zh_CN", "dashboard")
    assert zh.gettext("Overview") == "总览"
    assert i18n.translations("en", "dashboard").gettext("segment:vip") == "High-value VIP"
