"""Side by side with the reference implementation, the ``lifetimes`` package."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from storeops.models.clv import (
    BetaGeoBetaBinomModel,
    BetaGeoModel,
    GammaGammaModel,
    expected_clv,
)

lifetimes = pytest.importorskip("lifetimes", reason="pip install -e '.[dev]' brings lifetimes")


@pytest.fixture(scope="module")
def fitted(cdnow: pd.DataFrame) -> tuple[BetaGeoModel, object]:
    ours = BetaGeoModel().fit(cdnow)
    ref = lifetimes.BetaGeoFitter().fit(cdnow["frequency"], cdnow["recency"], cdnow["T"])
    return ours, ref


def test_bgnbd_parameters_agree(fitted: tuple[BetaGeoModel, object]) -> None:
    ours, ref = fitted
    for name in ("r", "alpha", "a", "b"):
        assert ours.params[name] == pytest.approx(ref.params_[name], rel=1e-4)  # type: ignore[attr-defined]


def test_bgnbd_predictions_agree(cdnow: pd.DataFrame, fitted: tuple[BetaGeoModel, object]) -> None:
    ours, ref = fitted
    x, tx, T = cdnow["frequency"], cdnow["recency"], cdnow["T"]
    np.testing.assert_allclose(
        ours.expected_probability_alive(x, tx, T),
        ref.conditional_probability_alive(x, tx, T),  # type: ignore[attr-defined]
        rtol=1e-4,
    )
    for horizon in (1.0, 39.0, 78.0):
        np.testing.assert_allclose(
            ours.expected_purchases(horizon, x, tx, T),
            ref.conditional_expected_number_of_purchases_up_to_time(horizon, x, tx, T),  # type: ignore[attr-defined]
            rtol=1e-4,
        )
    np.testing.assert_allclose(
        ours.expected_purchases_new_customer(np.array([1.0, 10.0, 52.0])),
        ref.expected_number_of_purchases_up_to_time(np.array([1.0, 10.0, 52.0])),  # type: ignore[attr-defined]
        rtol=1e-4,
    )


def test_gamma_gamma_and_clv_agree(
    cdnow: pd.DataFrame, fitted: tuple[BetaGeoModel, object]
) -> None:
    ours_bg, ref_bg = fitted
    ours = GammaGammaModel().fit(cdnow)
    repeat = cdnow[cdnow["frequency"] > 0]
    ref = lifetimes.GammaGammaFitter().fit(repeat["frequency"], repeat["monetary_value"])
    for name in ("p", "q", "v"):
        assert ours.params[name] == pytest.approx(ref.params_[name], rel=1e-4)
    np.testing.assert_allclose(
        ours.expected_customer_spend(repeat["frequency"], repeat["monetary_value"]),
        ref.conditional_expected_average_profit(repeat["frequency"], repeat["monetary_value"]),
        rtol=1e-4,
    )
    # lifetimes' CLV: 12 monthly steps of 30 days with a monthly discount rate, in days.
    days = repeat.assign(recency=repeat["recency"] * 7, T=repeat["T"] * 7)
    bg_days = BetaGeoModel().fit(days)
    ref_bg_days = lifetimes.BetaGeoFitter().fit(days["frequency"], days["recency"], days["T"])
    ref_clv = ref.customer_lifetime_value(
        ref_bg_days,
        days["frequency"],
        days["recency"],
        days["T"],
        days["monetary_value"],
        time=12,
        discount_rate=0.01,
        freq="D",
    )
    ours_clv = expected_clv(bg_days, ours, days, horizon=360, step=30, discount_rate=0.01)
    np.testing.assert_allclose(ours_clv, ref_clv, rtol=1e-3)
    del ours_bg, ref_bg


def test_bgbb_agrees(donations: pd.DataFrame) -> None:
    ours = BetaGeoBetaBinomModel().fit(donations)
    ref = lifetimes.BetaGeoBetaBinomFitter().fit(
        donations["frequency"],
        donations["recency"],
        donations["periods"],
        weights=donations["weight"],
    )
    for name in ("alpha", "beta", "gamma", "delta"):
        assert ours.params[name] == pytest.approx(ref.params_[name], rel=1e-4)
    x, tx, n = donations["frequency"], donations["recency"], donations["periods"]
    np.testing.assert_allclose(
        ours.expected_probability_alive(x, tx, n),
        ref.conditional_probability_alive(1, x, tx, n),
        rtol=1e-4,
    )
    np.testing.assert_allclose(
        ours.expected_purchases(5, x, tx, n),
        ref.conditional_expected_number_of_purchases_up_to_time(5, x, tx, n),
        rtol=1e-4,
    )
