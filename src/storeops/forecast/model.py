"""The forecasting path: statsforecast MSTL with holiday regressors, and its backtest.

Input is a long frame with the :data:`storeops.contracts.FORECAST_SERIES` contract
(``unique_id, ds, y``; other names through ``columns=``), one regular series per id.

**Model** (``storeops``): the series is taken on a log scale (``log1p``), so weekly
patterns and festival effects act as multipliers; MSTL removes the seasonal cycles
(``SeriesSpec.season_lengths``, e.g. a week of days) and AutoARIMA forecasts what is
left, with one 0/1 regressor per festival period
(:mod:`storeops.forecast.holidays`) when ``SeriesSpec.holidays`` is set. Forecasts
return through ``expm1`` and are never below 0.

**Baseline** (``seasonal_naive``): the value one season earlier (last week's same
day), the benchmark every forecast has to beat.

**Backtest** (rolling origin): the last ``windows`` cut-offs, ``step`` periods apart;
at each, both models are fitted on the history up to the cut-off and forecast the
next ``horizon`` periods. Errors per series:

- **MAPE** — mean of ``|y − ŷ| / y`` over the forecast points with ``y > 0``;
- **MASE** — mean ``|y − ŷ|`` divided by the in-sample mean absolute error of the
  seasonal-naive forecast (``|y_t − y_{t−m}|``, ``m`` = the longest season) on the
  history before the first cut-off; below 1 beats that in-sample baseline;
- **total APE** — ``|Σy − Σŷ| / Σy`` per window (e.g. a week's entries), averaged.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from storeops.contracts import FORECAST_SERIES
from storeops.errors import StoreOpsError
from storeops.forecast.holidays import holiday_features

MODEL = "storeops"
BASELINE = "seasonal_naive"


class ForecastError(StoreOpsError, ValueError):
    """A forecast cannot be made as asked."""


@dataclass(frozen=True)
class SeriesSpec:
    """How a series is sampled and which cycles it has."""

    freq: str
    """pandas frequency of the series: ``"D"``, ``"h"``, ``"MS"`` …"""
    season_lengths: tuple[int, ...]
    """Seasonal cycles in periods, shortest first (7 = weekly for daily data)."""
    holidays: bool = True
    """Add the festival regressors (daily and hourly data only)."""

    @property
    def season(self) -> int:
        """The longest cycle: the seasonal-naive lag and the MASE scale lag."""
        return max(self.season_lengths)

    def min_length(self, horizon: int = 0) -> int:
        """Periods of history a series needs: two full longest cycles, plus the horizon
        held back by a backtest."""
        return 2 * self.season + 1 + horizon


@dataclass
class SeriesScore:
    """Backtest errors of one series for the model and the baseline."""

    unique_id: str
    mape: float | None
    mase: float | None
    total_ape: float | None
    baseline_mape: float | None
    baseline_mase: float | None
    baseline_total_ape: float | None
    points: int

    @property
    def beats_baseline(self) -> bool:
        """True when the model's MASE is below the seasonal-naive MASE."""
        return (
            self.mase is not None
            and self.baseline_mase is not None
            and (self.mase < self.baseline_mase)
        )


@dataclass
class Backtest:
    """Rolling-origin backtest of the model against seasonal-naive."""

    horizon: int
    windows: int
    step: int
    scores: list[SeriesScore] = field(default_factory=list)
    #: Actuals and both forecasts per series, cut-off and period.
    frame: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)

    def score(self, unique_id: str) -> SeriesScore:
        for s in self.scores:
            if s.unique_id == unique_id:
                return s
        raise KeyError(unique_id)

    def to_dict(self) -> dict[str, Any]:
        return {
            "horizon": self.horizon,
            "windows": self.windows,
            "step": self.step,
            "series": [{**asdict(s), "beats_baseline": s.beats_baseline} for s in self.scores],
        }


def prepare(
    series: pd.DataFrame,
    spec: SeriesSpec,
    columns: Mapping[str, str] | None = None,
    horizon: int = 0,
) -> pd.DataFrame:
    """Checked, sorted, log-scaled series with holiday columns (no constant ones)."""
    df = FORECAST_SERIES.check(series, columns)
    if df.empty:
        raise ForecastError("no data to forecast: the series frame is empty")
    if (df["y"] < 0).any():
        raise ForecastError("forecast series must not be negative (counts, sales)")
    df["unique_id"] = df["unique_id"].astype(str)
    df["ds"] = pd.to_datetime(df["ds"])
    if df.duplicated(["unique_id", "ds"]).any():
        dup = df[df.duplicated(["unique_id", "ds"])].iloc[0]
        raise ForecastError(
            f"series {dup.unique_id!r} has two values at {dup.ds}; aggregate to one "
            "value per period first"
        )
    df = df.sort_values(["unique_id", "ds"], ignore_index=True)
    need = spec.min_length(horizon)
    lengths = df.groupby("unique_id").size()
    short = lengths[lengths < need]
    if not short.empty:
        raise ForecastError(
            f"series {short.index[0]!r} has {int(short.iloc[0])} periods; forecasting it "
            f"needs at least {need} (two full cycles of {spec.season} periods"
            + (f" plus the {horizon} held back for the backtest" if horizon else "")
            + "). Choose a longer history or a coarser grain."
        )
    for uid, g in df.groupby("unique_id"):
        expected = pd.date_range(g["ds"].iloc[0], g["ds"].iloc[-1], freq=spec.freq)
        if len(expected) != len(g):
            raise ForecastError(
                f"series {uid!r} is not regular at frequency {spec.freq!r}: it has "
                f"{len(g)} periods between {g['ds'].iloc[0]} and {g['ds'].iloc[-1]}, "
                f"{len(expected)} expected; fill the missing periods (with 0 when nothing "
                "was counted)"
            )
    df["y"] = np.log1p(df["y"])
    if spec.holidays:
        features = holiday_features(df["ds"])
        varying = [c for c in features.columns if features[c].nunique() > 1]
        df = pd.concat([df, features[varying]], axis=1)
    return df


def _future_features(prepared: pd.DataFrame, spec: SeriesSpec, horizon: int) -> pd.DataFrame:
    regressors = [c for c in prepared.columns if c.startswith("festival_")]
    rows = []
    for uid, g in prepared.groupby("unique_id", sort=False):
        ds = pd.date_range(g["ds"].iloc[-1], periods=horizon + 1, freq=spec.freq)[1:]
        rows.append(pd.DataFrame({"unique_id": uid, "ds": ds}))
    future = pd.concat(rows, ignore_index=True)
    if regressors:
        future = pd.concat([future, holiday_features(future["ds"])[regressors]], axis=1)
    return future


def _engine(spec: SeriesSpec) -> Any:
    # statsforecast is imported lazily: it takes a second or two to import (numba).
    from statsforecast import StatsForecast
    from statsforecast.models import MSTL, AutoARIMA, SeasonalNaive

    models = [
        MSTL(
            season_length=list(spec.season_lengths),
            trend_forecaster=AutoARIMA(season_length=1),
            alias=MODEL,
        ),
        SeasonalNaive(season_length=spec.season, alias=BASELINE),
    ]
    # The fallback keeps one odd series (a store closed for weeks) from failing all.
    return StatsForecast(
        models=models,
        freq=spec.freq,
        n_jobs=1,
        fallback_model=SeasonalNaive(season_length=spec.season),
    )


def _back(values: pd.Series) -> np.ndarray:
    return np.clip(np.expm1(values.to_numpy(dtype=float)), 0.0, None)


def forecast(
    series: pd.DataFrame,
    spec: SeriesSpec,
    horizon: int,
    columns: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """``unique_id, ds, forecast, baseline`` for the ``horizon`` periods after each series."""
    if horizon < 1:
        raise ForecastError(f"horizon must be at least 1 period (got {horizon})")
    prepared = prepare(series, spec, columns)
    future = _future_features(prepared, spec, horizon)
    regressors = [c for c in prepared.columns if c.startswith("festival_")]
    out = _engine(spec).forecast(
        df=prepared,
        h=horizon,
        X_df=future if regressors else None,
    )
    out = out.reset_index() if "unique_id" not in out.columns else out
    return pd.DataFrame(
        {
            "unique_id": out["unique_id"].astype(str).to_numpy(),
            "ds": pd.to_datetime(out["ds"]).to_numpy(),
            "forecast": _back(out[MODEL]),
            "baseline": _back(out[BASELINE]),
        }
    )


def _mase_scale(history: np.ndarray, lag: int) -> float | None:
    if len(history) <= lag:
        return None
    scale = float(np.mean(np.abs(history[lag:] - history[:-lag])))
    return scale if scale > 0 else None


def score_frame(
    frame: pd.DataFrame, history: pd.DataFrame, lag: int, horizon: int, windows: int, step: int
) -> Backtest:
    """Errors of ``forecast`` and ``baseline`` against ``y`` in a backtest ``frame``
    (``unique_id, ds, cutoff, y, forecast, baseline``), MASE scaled on ``history``
    (``unique_id, ds, y``) before each series' first cut-off."""
    result = Backtest(horizon=horizon, windows=windows, step=step, frame=frame)
    for uid, g in frame.groupby("unique_id", sort=True):
        first_cut = g["cutoff"].min()
        h = history[(history["unique_id"] == uid) & (history["ds"] <= first_cut)]
        scale = _mase_scale(h.sort_values("ds")["y"].to_numpy(dtype=float), lag)
        y = g["y"].to_numpy(dtype=float)
        positive = y > 0
        errors: dict[str, float | None] = {}
        for name in ("forecast", "baseline"):
            yhat = g[name].to_numpy(dtype=float)
            abs_err = np.abs(y - yhat)
            errors[f"{name}_mape"] = (
                float(np.mean(abs_err[positive] / y[positive])) if positive.any() else None
            )
            errors[f"{name}_mase"] = float(np.mean(abs_err)) / scale if scale else None
            totals = g.assign(_yhat=yhat).groupby("cutoff")[["y", "_yhat"]].sum()
            totals = totals[totals["y"] > 0]
            errors[f"{name}_total"] = (
                float(np.mean(np.abs(totals["y"] - totals["_yhat"]) / totals["y"]))
                if len(totals)
                else None
            )
        result.scores.append(
            SeriesScore(
                unique_id=str(uid),
                mape=errors["forecast_mape"],
                mase=errors["forecast_mase"],
                total_ape=errors["forecast_total"],
                baseline_mape=errors["baseline_mape"],
                baseline_mase=errors["baseline_mase"],
                baseline_total_ape=errors["baseline_total"],
                points=len(g),
            )
        )
    return result


def backtest(
    series: pd.DataFrame,
    spec: SeriesSpec,
    horizon: int,
    windows: int = 8,
    step: int | None = None,
    columns: Mapping[str, str] | None = None,
) -> Backtest:
    """Rolling-origin backtest of the model against seasonal-naive (module doc)."""
    if horizon < 1 or windows < 1:
        raise ForecastError("a backtest needs a horizon and windows of at least 1")
    step = step or horizon
    held_back = horizon + (windows - 1) * step
    prepared = prepare(series, spec, columns, horizon=held_back)
    cv = _engine(spec).cross_validation(df=prepared, h=horizon, n_windows=windows, step_size=step)
    cv = cv.reset_index() if "unique_id" not in cv.columns else cv
    frame = pd.DataFrame(
        {
            "unique_id": cv["unique_id"].astype(str).to_numpy(),
            "ds": pd.to_datetime(cv["ds"]).to_numpy(),
            "cutoff": pd.to_datetime(cv["cutoff"]).to_numpy(),
            "y": _back(cv["y"]),
            "forecast": _back(cv[MODEL]),
            "baseline": _back(cv[BASELINE]),
        }
    )
    history = prepared[["unique_id", "ds"]].assign(y=_back(prepared["y"]))
    return score_frame(frame, history, spec.season, horizon, windows, step)
