"""The CLV mart: fit BG/NBD + Gamma-Gamma on the workspace's purchases and score everyone.

``fit_clv`` writes two marts:

- ``mart_clv_models`` — one row per fit: as-of date, parameters, log-likelihoods;
- ``mart_clv_summary`` — the per-customer summary the fit used;
- ``mart_clv_scores`` — P(alive), expected purchases, spend and CLV over 90 days.

``score_clv`` turns the latest fit and summary into per-customer P(alive),
expected purchases and expected (discounted) value over any horizon.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pandas as pd
import pyarrow as pa

from storeops.analytics.clv_summary import Occasion, clv_summary_expr
from storeops.analytics.purchases import purchases
from storeops.errors import StoreOpsError
from storeops.models.clv import BetaGeoModel, GammaGammaModel, expected_clv
from storeops.warehouse import Warehouse

MODELS_MART = "mart_clv_models"
SUMMARY_MART = "mart_clv_summary"
SCORES_MART = "mart_clv_scores"
#: Horizon of the scores stored at fit time (the dashboard reads these).
DEFAULT_HORIZON_DAYS = 90


class ClvError(StoreOpsError, ValueError):
    """CLV cannot be fitted or scored as asked."""


@dataclass
class ClvFit:
    purchases: BetaGeoModel
    spend: GammaGammaModel | None
    customers: int

    def warnings(self) -> list[str]:
        """Plain-language warnings about parameters the data could not pin down."""
        out = []
        for model in (self.purchases, self.spend):
            if model is not None and model.result is not None and model.result.boundary:
                out.append(
                    f"{model.name}: {', '.join(model.result.boundary)} hit the search bound; "
                    "the data show too little repeat buying or dropout to estimate them, so "
                    "treat predictions as rough (more history or customers will help)."
                )
        return out

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.purchases.result is not None:
            out["bgnbd"] = {**self.purchases.params, "loglik": self.purchases.result.loglik}
        if self.spend is not None and self.spend.result is not None:
            out["gamma_gamma"] = {**self.spend.params, "loglik": self.spend.result.loglik}
        out["customers"] = self.customers
        return out


def fit_summary(summary: pd.DataFrame) -> ClvFit:
    """Fit BG/NBD, and Gamma-Gamma when ``monetary_value`` is present."""
    bgnbd = BetaGeoModel().fit(summary)
    spend = GammaGammaModel().fit(summary) if "monetary_value" in summary.columns else None
    return ClvFit(bgnbd, spend, len(summary))


def default_as_of(wh: Warehouse) -> date:
    """The day after the last purchase day in the warehouse."""
    last = wh.execute(purchases(wh).day.max())
    if last is None or pd.isna(last):
        raise ClvError(
            "there are no purchases by known customers yet: import orders with customer_id "
            "(storeops import orders FILE) before fitting CLV."
        )
    return pd.Timestamp(last).date() + timedelta(days=1)


def fit_clv(
    wh: Warehouse,
    *,
    as_of: date | None = None,
    store_id: str | None = None,
    occasion: Occasion = "day",
) -> ClvFit:
    """Fit on purchases before ``as_of`` and store the fit and summary as marts."""
    as_of = as_of or default_as_of(wh)
    summary = wh.to_pandas(clv_summary_expr(wh, as_of=as_of, store_id=store_id, occasion=occasion))
    if len(summary) < 10:
        raise ClvError(
            f"only {len(summary)} customers bought before {as_of}; CLV models need at least "
            "10 (and work well from a few hundred)."
        )
    fit = fit_summary(summary)
    record = {
        "as_of": as_of.isoformat(),
        "store_id": store_id,
        "fitted_at": datetime.now(UTC).replace(tzinfo=None),
        "customers": fit.customers,
        "params": json.dumps(fit.to_dict()),
    }
    previous = wh.to_pandas(wh.mart(MODELS_MART)) if MODELS_MART in wh.con.list_tables() else None
    models = pd.DataFrame([record])
    if previous is not None and not previous.empty:
        models = pd.concat([previous, models], ignore_index=True)
    models["store_id"] = models["store_id"].astype("string")
    models["as_of"] = models["as_of"].astype(str)
    wh.write_mart(MODELS_MART, pa.Table.from_pandas(models, preserve_index=False))
    summary = summary.assign(as_of=as_of)
    wh.write_mart(SUMMARY_MART, pa.Table.from_pandas(summary, preserve_index=False))
    scored = scores(fit, summary, horizon_days=DEFAULT_HORIZON_DAYS).assign(as_of=as_of)
    wh.write_mart(SCORES_MART, pa.Table.from_pandas(scored, preserve_index=False))
    return fit


def scores(
    fit: ClvFit,
    summary: pd.DataFrame,
    *,
    horizon_days: float,
    discount_rate: float = 0.0,
    step_days: float = 30.0,
) -> pd.DataFrame:
    """Per-customer P(alive), expected purchases, and (with spend) expected spend and CLV."""
    x, tx, t = (summary[c].to_numpy(dtype="float64") for c in ("frequency", "recency", "T"))
    out = pd.DataFrame(
        {
            "customer_id": summary["customer_id"].to_numpy(),
            "p_alive": fit.purchases.expected_probability_alive(x, tx, t),
            "expected_purchases": fit.purchases.expected_purchases(horizon_days, x, tx, t),
        }
    )
    if fit.spend is not None:
        out["expected_spend_fen"] = fit.spend.expected_customer_spend(
            x, summary["monetary_value"].to_numpy(dtype="float64")
        )
        out["expected_clv_fen"] = expected_clv(
            fit.purchases,
            fit.spend,
            summary,
            horizon=horizon_days,
            step=step_days,
            discount_rate=discount_rate,
        )
    return out


def score_clv(
    wh: Warehouse, *, horizon_days: float, discount_rate: float = 0.0, step_days: float = 30.0
) -> pd.DataFrame:
    """Scores from the latest stored fit and summary (see :func:`fit_clv`)."""
    models = wh.to_pandas(wh.mart(MODELS_MART)).sort_values("fitted_at")
    latest = json.loads(models["params"].iloc[-1])
    fit = ClvFit(
        BetaGeoModel.from_params(latest["bgnbd"]),
        GammaGammaModel.from_params(latest["gamma_gamma"]) if "gamma_gamma" in latest else None,
        int(latest["customers"]),
    )
    summary = wh.to_pandas(wh.mart(SUMMARY_MART)).sort_values("customer_id")
    return scores(
        fit, summary, horizon_days=horizon_days, discount_rate=discount_rate, step_days=step_days
    )
