"""Customer lifetime value: expected purchases x expected spend, discounted."""

from __future__ import annotations

import numpy as np
import pandas as pd

from storeops.models.clv.bgnbd import BetaGeoModel
from storeops.models.clv.gamma_gamma import GammaGammaModel


def expected_clv(
    purchases: BetaGeoModel,
    spend: GammaGammaModel,
    summary: pd.DataFrame,
    *,
    horizon: float,
    step: float,
    discount_rate: float = 0.0,
) -> np.ndarray:
    """Discounted value of each customer's purchases over the next ``horizon``.

    The horizon is cut into steps of ``step`` time units (e.g. 30 days);
    purchases expected in step ``i`` are discounted by ``(1 + discount_rate) ** i``.
    """
    x = summary["frequency"].to_numpy(dtype="float64")
    tx = summary["recency"].to_numpy(dtype="float64")
    T = summary["T"].to_numpy(dtype="float64")
    money = (
        summary["monetary_value"].to_numpy(dtype="float64")
        if "monetary_value" in summary
        else np.zeros_like(x)
    )
    value_per_purchase = spend.expected_customer_spend(x, money)
    n_steps = int(np.ceil(horizon / step - 1e-9))
    total = np.zeros_like(x)
    previous = np.zeros_like(x)
    for i in range(1, n_steps + 1):
        cumulative = purchases.expected_purchases(min(i * step, horizon), x, tx, T)
        total += (cumulative - previous) * value_per_purchase / (1 + discount_rate) ** i
        previous = cumulative
    return total
