"""The customer models recover what the default demo planted (BG/NBD, Gamma-Gamma)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from storeops.analytics.rfm import RfmInsight, RfmQuery
from storeops.demo.build import build_demo
from storeops.marts.clv_scores import fit_clv, score_clv
from storeops.warehouse import Warehouse
from storeops.workspace import open_workspace


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Warehouse, dict, Path]]:  # type: ignore[type-arg]
    root = tmp_path_factory.mktemp("demo") / "ws"
    build_demo(root)  # the default merchant: 5,000 customers, seed 42
    truth = json.loads((root / "sources" / "truth.json").read_text(encoding="utf-8"))
    with open_workspace(root).warehouse() as wh:
        yield wh, truth, root


@pytest.mark.slow
def test_clv_fit_recovers_the_planted_parameters(demo) -> None:  # type: ignore[no-untyped-def]
    wh, truth, _ = demo
    # The simulator draws purchase times in continuous time, so every order is an occasion.
    fit = fit_clv(wh, as_of=date(2026, 11, 1), occasion="order").to_dict()
    planted = truth["customers"]["bgnbd"]
    for name in ("r", "alpha", "a", "b"):
        assert fit["bgnbd"][name] == pytest.approx(planted[name], rel=0.10), name
    gg = truth["customers"]["gamma_gamma"]
    assert fit["gamma_gamma"]["p"] == pytest.approx(gg["p"], rel=0.10)
    assert fit["gamma_gamma"]["q"] == pytest.approx(gg["q"], rel=0.10)
    assert fit["gamma_gamma"]["v"] == pytest.approx(gg["v"] * 100, rel=0.10)  # yuan -> fen


@pytest.mark.slow
def test_predicted_purchases_track_the_simulated_truth(demo) -> None:  # type: ignore[no-untyped-def]
    wh, truth, root = demo
    fit_clv(wh, as_of=date(2026, 11, 1), occasion="order")
    horizon = truth["customers"]["horizon_days"]
    scores = score_clv(wh, horizon_days=horizon)
    planted = pd.read_parquet(root / "sources" / "truth_customers.parquet")
    both = scores.merge(planted, on="customer_id")
    assert len(both) > 0.99 * len(scores)
    r = np.corrcoef(both["expected_purchases"], both[f"expected_purchases_{horizon}d"])[0, 1]
    assert r > 0.7
    # Customers the simulator still has alive get a higher P(alive) on average.
    assert (
        both.loc[both["alive"], "p_alive"].mean() > both.loc[~both["alive"], "p_alive"].mean() + 0.2
    )


@pytest.mark.slow
def test_rfm_on_the_demo(demo) -> None:  # type: ignore[no-untyped-def]
    wh, _, _ = demo
    result = RfmInsight(wh, RfmQuery(as_of=date(2026, 11, 1))).calculate()
    seg = result.segments.set_index("segment")
    assert seg["customers"].sum() == len(result.customers)
    assert seg["revenue_share"].sum() == pytest.approx(1.0)
    # Heterogeneous buying concentrates revenue: the top 10% bring far more than 10%.
    assert result.top_decile_revenue_share > 0.3
    assert seg.loc["vip", "revenue_share"] > seg.loc["vip", "customer_share"]
