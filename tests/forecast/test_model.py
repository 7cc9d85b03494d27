"""The forecasting path on hand-built series, and on the public AirPassengers series."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from storeops.contracts import FrameContractError
from storeops.forecast import ForecastError, SeriesSpec, backtest, forecast
from storeops.forecast.holidays import HOLIDAY_COLUMNS, holiday_features
from storeops.forecast.model import prepare, score_frame

DAILY = SeriesSpec(freq="D", season_lengths=(7,))
#: Multipliers by weekday, Monday first.
WEEK = np.array([0.8, 0.8, 0.9, 0.9, 1.1, 1.5, 1.4])


def weekly_series(start: str, days: int, level: float = 300.0, uid: str = "S1") -> pd.DataFrame:
    ds = pd.date_range(start, periods=days, freq="D")
    return pd.DataFrame({"unique_id": uid, "ds": ds, "y": level * WEEK[ds.weekday]})


def test_holiday_features_mark_festival_periods() -> None:
    ds = pd.Series(pd.to_datetime(["2026-02-13", "2026-02-14", "2026-02-23", "2026-02-24"]))
    f = holiday_features(ds)
    assert list(f.columns) == list(HOLIDAY_COLUMNS)
    # Spring Festival 2026-02-17: three days before to six after.
    assert f["festival_spring_festival"].tolist() == [0.0, 1.0, 1.0, 0.0]
    hours = pd.Series(pd.to_datetime(["2026-10-07 21:00", "2026-10-08 09:00", "2025-11-11 10:00"]))
    g = holiday_features(hours)
    assert g["festival_national_day"].tolist() == [1.0, 0.0, 0.0]
    assert g["festival_double_11"].tolist() == [0.0, 0.0, 1.0]


def test_a_clean_weekly_pattern_is_forecast_exactly() -> None:
    history = weekly_series("2026-03-02", 70)  # ten whole weeks, no festival inside
    out = forecast(history, DAILY, horizon=7)
    assert list(out.columns) == ["unique_id", "ds", "forecast", "baseline"]
    assert out["ds"].iloc[0] == pd.Timestamp("2026-05-11")
    expected = 300.0 * WEEK[out["ds"].dt.weekday.to_numpy()]
    np.testing.assert_allclose(out["forecast"], expected, rtol=1e-3)
    np.testing.assert_allclose(out["baseline"], expected, rtol=1e-9)


def test_festival_effect_is_learnt_from_last_year() -> None:
    # Two years of a flat weekly pattern with Golden Week at 1.7x; forecast the next one.
    history = weekly_series("2024-09-02", 760)
    history = history[history["ds"] < "2026-09-30"].copy()
    gw = holiday_features(history["ds"])["festival_national_day"].to_numpy() == 1
    history.loc[gw, "y"] *= 1.7
    out = forecast(history, SeriesSpec("D", (7,)), horizon=14)
    golden = out[(out["ds"] >= "2026-10-01") & (out["ds"] <= "2026-10-07")]
    after = out[out["ds"] >= "2026-10-08"]
    ratio = golden["forecast"].to_numpy() / (300 * WEEK[golden["ds"].dt.weekday])
    assert ratio == pytest.approx(np.full(7, 1.7), rel=0.05)
    normal = after["forecast"].to_numpy() / (300 * WEEK[after["ds"].dt.weekday])
    assert normal == pytest.approx(np.ones(len(after)), rel=0.05)


def test_inputs_are_checked_with_actionable_errors() -> None:
    with pytest.raises(ForecastError, match="needs at least 15"):
        prepare(weekly_series("2026-03-02", 10), DAILY)
    gappy = weekly_series("2026-03-02", 30).drop(index=[5])
    with pytest.raises(ForecastError, match=r"not regular.*fill the missing"):
        prepare(gappy, DAILY)
    twice = pd.concat([weekly_series("2026-03-02", 30)] * 2)
    with pytest.raises(ForecastError, match="two values"):
        prepare(twice, DAILY)
    with pytest.raises(FrameContractError, match="'y'"):
        prepare(weekly_series("2026-03-02", 30).drop(columns="y"), DAILY)
    renamed = weekly_series("2026-03-02", 30).rename(columns={"y": "entries"})
    assert len(prepare(renamed, DAILY, columns={"y": "entries"})) == 30
    with pytest.raises(ForecastError, match="horizon"):
        forecast(weekly_series("2026-03-02", 30), DAILY, horizon=0)


def test_score_frame_exact_numbers() -> None:
    history = pd.DataFrame(
        {
            "unique_id": "A",
            "ds": pd.date_range("2026-01-01", periods=4, freq="D"),
            "y": [10.0, 12.0, 10.0, 14.0],
        }
    )
    cut = pd.Timestamp("2026-01-04")
    frame = pd.DataFrame(
        {
            "unique_id": "A",
            "ds": pd.date_range("2026-01-05", periods=2, freq="D"),
            "cutoff": cut,
            "y": [10.0, 20.0],
            "forecast": [11.0, 18.0],
            "baseline": [10.0, 14.0],
        }
    )
    s = score_frame(frame, history, lag=1, horizon=2, windows=1, step=2).score("A")
    # In-sample naive (lag 1) errors 2, 2, 4: scale 8/3.
    assert s.mape == pytest.approx((0.1 + 0.1) / 2)
    assert s.mase == pytest.approx(1.5 / (8 / 3))
    assert s.total_ape == pytest.approx(1 / 30)
    assert s.baseline_mape == pytest.approx(0.15)
    assert s.baseline_mase == pytest.approx(3 / (8 / 3))
    assert s.beats_baseline


def test_backtest_windows_and_baseline() -> None:
    history = weekly_series("2026-03-02", 70)
    bt = backtest(history, DAILY, horizon=7, windows=3)
    frame = bt.frame
    assert sorted(frame["cutoff"].unique()) == list(
        pd.to_datetime(["2026-04-19", "2026-04-26", "2026-05-03"])
    )
    assert len(frame) == 21
    # Seasonal-naive is exact on a clean weekly pattern, and so is the model.
    np.testing.assert_allclose(frame["baseline"], frame["y"])
    assert bt.score("S1").mape == pytest.approx(0.0, abs=1e-3)


AIRLINE_TOTAL = 40363  # sum of the 144 monthly totals, 1949-1960 (Box & Jenkins)


def _airline() -> pd.DataFrame:
    from statsforecast.utils import AirPassengers

    ds = pd.date_range("1949-01-01", periods=len(AirPassengers), freq="MS")
    return pd.DataFrame({"unique_id": "airline", "ds": ds, "y": AirPassengers})


def test_air_passengers_sanity_against_statsmodels_airline_model() -> None:
    """The classic series through the same path: train 1949-1959, forecast 1960."""
    from statsmodels.tsa.statespace.sarimax import SARIMAX

    data = _airline()
    assert len(data) == 144 and data["y"].sum() == AIRLINE_TOTAL
    assert (data["y"].iloc[0], data["y"].iloc[-1]) == (112, 432)
    train, test = data.iloc[:132], data.iloc[132:]
    spec = SeriesSpec(freq="MS", season_lengths=(12,), holidays=False)
    out = forecast(train, spec, horizon=12)
    y = test["y"].to_numpy(dtype=float)
    mape = float(np.mean(np.abs(out["forecast"].to_numpy() - y) / y))
    naive_mape = float(np.mean(np.abs(out["baseline"].to_numpy() - y) / y))
    # Box & Jenkins' airline model, (0,1,1)(0,1,1)12 on log passengers, side by side.
    fit = SARIMAX(
        np.log(train["y"].to_numpy(dtype=float)), order=(0, 1, 1), seasonal_order=(0, 1, 1, 12)
    ).fit(disp=False)
    airline = np.exp(fit.forecast(12))
    airline_mape = float(np.mean(np.abs(airline - y) / y))
    assert mape < 0.06
    assert mape < naive_mape
    assert mape < airline_mape + 0.03
    print(
        f"AirPassengers 1960: MAPE {mape:.2%}, seasonal-naive {naive_mape:.2%}, "
        f"statsmodels airline model {airline_mape:.2%}"
    )


def test_air_passengers_rolling_backtest_beats_seasonal_naive() -> None:
    spec = SeriesSpec(freq="MS", season_lengths=(12,), holidays=False)
    bt = backtest(_airline(), spec, horizon=12, windows=3, step=12)
    s = bt.score("airline")
    assert s.mase is not None and s.baseline_mase is not None
    assert s.beats_baseline
    assert s.mape is not None and s.mape < 0.08
    print(
        f"AirPassengers 1958-1960 rolling: MAPE {s.mape:.2%} MASE {s.mase:.3f}; "
        f"seasonal-naive MAPE {s.baseline_mape:.2%} MASE {s.baseline_mase:.3f}"
    )
