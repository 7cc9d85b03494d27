"""BG/NBD: "Counting your customers" the easy way (Fader, Hardie & Lee 2005).

While alive, a customer buys as a Poisson process with rate ``λ ~ Gamma(r, alpha)``;
after each purchase they drop out with probability ``p ~ Beta(a, b)``.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from scipy.special import digamma, gammaln, hyp2f1

from storeops.contracts import RFM_SUMMARY, FrameContractError
from storeops.models.clv.base import Array, FitResult, NotFittedError, collapse, maximize

PARAMS = ("r", "alpha", "a", "b")


def check_summary(frame: pd.DataFrame) -> None:
    """Raise if a summary holds impossible (frequency, recency, T) combinations."""
    if (frame["recency"] > frame["T"] + 1e-9).any():
        raise FrameContractError(
            "recency must not exceed T (the customer's age); "
            f"{int((frame['recency'] > frame['T'] + 1e-9).sum())} rows do. "
            "Recompute the summary with one observation end for everyone."
        )
    if ((frame["frequency"] == 0) & (frame["recency"] > 0)).any():
        raise FrameContractError(
            "customers with frequency 0 must have recency 0 (no repeat purchase yet)."
        )


def _negll_and_grad(
    log_params: Array, x: Array, tx: Array, T: Array, w: Array
) -> tuple[float, Array]:
    r, alpha, a, b = np.exp(log_params)
    has = x > 0
    a1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    a2 = gammaln(a + b) + gammaln(b + x) - gammaln(b) - gammaln(a + b + x)
    a3 = -(r + x) * np.log(alpha + T)
    with np.errstate(divide="ignore", invalid="ignore"):
        a4 = np.where(
            has, np.log(a) - np.log(b + x - 1 + ~has) - (r + x) * np.log(alpha + tx), -np.inf
        )
    l34 = np.logaddexp(a3, a4)
    ll = a1 + a2 + l34
    s3 = np.exp(a3 - l34)
    s4 = np.exp(a4 - l34)
    d_r = (
        digamma(r + x)
        - digamma(r)
        + np.log(alpha)
        - s3 * np.log(alpha + T)
        - s4 * np.log(alpha + tx)
    )
    d_alpha = r / alpha - s3 * (r + x) / (alpha + T) - s4 * (r + x) / (alpha + tx)
    d_a = digamma(a + b) - digamma(a + b + x) + s4 / a
    with np.errstate(divide="ignore", invalid="ignore"):
        inv = np.where(has, 1.0 / (b + x - 1 + ~has), 0.0)
    d_b = digamma(a + b) + digamma(b + x) - digamma(b) - digamma(a + b + x) - s4 * inv
    grad = np.array([(w * d).sum() for d in (d_r, d_alpha, d_a, d_b)]) * np.array([r, alpha, a, b])
    total = float((w * ll).sum())
    if not np.isfinite(total):
        return np.inf, np.zeros(4)
    return -total, -grad


class BetaGeoModel:
    """BG/NBD model: ``fit(summary) -> self``, then ``expected_*`` predictions."""

    name = "BG/NBD"

    def __init__(self) -> None:
        self.result: FitResult | None = None

    # -- fitting ------------------------------------------------------------------------
    def fit(self, data: pd.DataFrame, columns: Mapping[str, str] | None = None) -> BetaGeoModel:
        """Fit by maximum likelihood on an RFM summary (see ``storeops.contracts``)."""
        frame = RFM_SUMMARY.check(data, columns)
        check_summary(frame)
        rows = collapse(frame, ["frequency", "recency", "T"])
        x, tx, T, w = (
            rows[c].to_numpy(dtype="float64") for c in ("frequency", "recency", "T", "weight")
        )
        # Start from the method-of-moments-ish guess r=1, alpha=mean(T)/mean(x+1), a=b=1.
        start = np.log(
            [1.0, max(np.average(T, weights=w) / (np.average(x, weights=w) + 1), 1e-3), 1.0, 1.0]
        )
        params, loglik, nit = maximize(
            lambda p: _negll_and_grad(p, x, tx, T, w), PARAMS, start, model=self.name
        )
        self.result = FitResult(
            dict(zip(PARAMS, map(float, params), strict=True)), loglik, nit, True, len(rows)
        )
        return self

    @property
    def params(self) -> dict[str, float]:
        if self.result is None:
            raise NotFittedError(f"{self.name}: call fit(summary) before predicting.")
        return self.result.params

    def _p(self) -> tuple[float, float, float, float]:
        p = self.params
        return p["r"], p["alpha"], p["a"], p["b"]

    # -- predictions --------------------------------------------------------------------
    def _log_odds_dead(self, x: Array, tx: Array, T: Array) -> Array:
        r, alpha, a, b = self._p()
        has = x > 0
        with np.errstate(divide="ignore", invalid="ignore"):
            val = (
                np.log(a)
                - np.log(b + x - 1 + ~has)
                + (r + x) * (np.log(alpha + T) - np.log(alpha + tx))
            )
        return np.where(has, val, -np.inf)

    def expected_probability_alive(self, frequency: Array, recency: Array, T: Array) -> Array:
        """P(alive | x, t_x, T)."""
        x, tx, TT = (np.asarray(v, dtype="float64") for v in (frequency, recency, T))
        return 1.0 / (1.0 + np.exp(self._log_odds_dead(x, tx, TT)))

    def expected_purchases(
        self, t: float | Array, frequency: Array, recency: Array, T: Array
    ) -> Array:
        """E[X(T, T+t] | x, t_x, T]: expected purchases in the next ``t`` time units."""
        r, alpha, a, b = self._p()
        x, tx, TT = (np.asarray(v, dtype="float64") for v in (frequency, recency, T))
        t = np.asarray(t, dtype="float64")
        z = t / (alpha + TT + t)
        log_ratio = (r + x) * (np.log(alpha + TT) - np.log(alpha + TT + t))
        hyp = hyp2f1(r + x, b + x, a + b + x - 1, z)
        numer = (a + b + x - 1) / (a - 1) * (1.0 - np.exp(log_ratio) * hyp)
        return numer / (1.0 + np.exp(self._log_odds_dead(x, tx, TT)))

    def expected_purchases_new_customer(self, t: float | Array) -> Array:
        """E[X(t)] for a customer just acquired."""
        r, alpha, a, b = self._p()
        t = np.asarray(t, dtype="float64")
        return (
            (a + b - 1)
            / (a - 1)
            * (1 - (alpha / (alpha + t)) ** r * hyp2f1(r, b, a + b - 1, t / (alpha + t)))
        )

    def loglik(self, data: pd.DataFrame) -> float:
        frame = RFM_SUMMARY.check(data)
        x, tx, T = (frame[c].to_numpy() for c in ("frequency", "recency", "T"))
        value, _ = _negll_and_grad(np.log(np.array(self._p())), x, tx, T, np.ones_like(x))
        return -value


__all__ = ["PARAMS", "BetaGeoModel", "check_summary"]
