"""Gamma-Gamma spend model (Fader & Hardie 2013, "The Gamma-Gamma model of monetary value").

A customer's mean spend per transaction is ``ν``-scaled: each spend ``z ~ Gamma(p, ν)``
with ``ν ~ Gamma(q, v)`` across customers. Fitted on customers with at least one
repeat purchase, using their number of repeat purchases and mean repeat spend.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from scipy.special import digamma, gammaln

from storeops.contracts import RFM_SUMMARY, FrameContractError
from storeops.models.clv.base import Array, ArrayLike, ParametricModel, collapse, maximize

PARAMS = ("p", "q", "v")


class _Prepared:
    """Rows with the logs that do not depend on the parameters computed once."""

    def __init__(self, x: Array, m: Array, w: Array) -> None:
        self.x, self.w, self.xm = x, w, x * m
        self.ux, self.ix = np.unique(x, return_inverse=True)
        self.wx = np.bincount(self.ix, weights=w, minlength=len(self.ux))
        log_m = np.log(m)
        self.sum_w_log_m = float((w * log_m).sum())
        self.sum_wx_log_m = float((w * x * log_m).sum())
        self.W = float(w.sum())


def _negll_and_grad(log_params: Array, d: _Prepared) -> tuple[float, Array]:
    p, q, v = np.exp(log_params)
    ux, wx = d.ux, d.wx
    pux = p * ux
    log_x = np.log(ux)
    # Terms in x only, on distinct x.
    ll = float(
        (wx * (gammaln(pux + q) - gammaln(pux) + pux * log_x)).sum()
        + d.W * (q * np.log(v) - gammaln(q))
        + p * d.sum_wx_log_m
        - d.sum_w_log_m
    )
    psi_pq = digamma(pux + q)
    g_p = float((wx * ux * (psi_pq - digamma(pux) + log_x)).sum() + d.sum_wx_log_m)
    g_q = float((wx * psi_pq).sum() + d.W * (np.log(v) - digamma(q)))
    g_v = d.W * q / v
    # Per-row terms: -(p x + q) log(x m + v).
    log_xmv = np.log(d.xm + v)
    coef = d.w * (p * d.x + q)
    ll -= float((coef * log_xmv).sum())
    g_p -= float((d.w * d.x * log_xmv).sum())
    g_q -= float((d.w * log_xmv).sum())
    g_v -= float((coef / (d.xm + v)).sum())
    if not np.isfinite(ll):
        return np.inf, np.zeros(3)
    return -ll, -np.array([g_p * p, g_q * q, g_v * v])


class GammaGammaModel(ParametricModel):
    """Gamma-Gamma model: ``fit(summary) -> self``, then ``expected_customer_spend``."""

    name = "Gamma-Gamma"
    param_names = PARAMS

    def fit(self, data: pd.DataFrame, columns: Mapping[str, str] | None = None) -> GammaGammaModel:
        """Fit on the customers of an RFM summary with ``frequency > 0``."""
        frame = RFM_SUMMARY.check(data, columns)
        if "monetary_value" not in frame.columns:
            raise FrameContractError(
                "Gamma-Gamma requires a 'monetary_value' column (mean spend of the repeat "
                "purchases). Please provide it through the summary."
            )
        repeat = frame[frame["frequency"] > 0]
        if (repeat["monetary_value"] <= 0).any():
            raise FrameContractError(
                "Gamma-Gamma needs monetary_value > 0 for customers with repeat purchases; "
                "drop zero-value customers or fix their spend."
            )
        if len(repeat) < 3:
            raise FrameContractError(
                "Gamma-Gamma needs at least 3 customers with repeat purchases to fit."
            )
        rows = collapse(repeat, ["frequency", "monetary_value"])
        x, m, w = (
            rows[c].to_numpy(dtype="float64") for c in ("frequency", "monetary_value", "weight")
        )
        mean = np.average(m, weights=w)
        prepared = _Prepared(x, m, w)
        start = np.log([1.0, 1.0, mean])
        self.result = maximize(
            lambda p: _negll_and_grad(p, prepared), PARAMS, start, model=self.name, n_rows=len(rows)
        )
        return self

    def expected_customer_spend(self, frequency: ArrayLike, monetary_value: ArrayLike) -> Array:
        """E[mean spend | x, m̄]; customers without repeat purchases get the population mean."""
        p, q, v = (self.params[k] for k in PARAMS)
        x = np.asarray(frequency, dtype="float64")
        m = np.asarray(monetary_value, dtype="float64")
        population_mean = p * v / (q - 1) if q > 1 else np.nan
        conditional = (p * (v + x * m)) / (p * x + q - 1)
        return np.where(x > 0, conditional, population_mean)
