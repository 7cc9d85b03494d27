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
from storeops.models.clv.base import Array, ArrayLike, ParametricModel, collapse, maximize

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


class _Prepared:
    """Collapsed rows split by ``x == 0``, with unique-value indexes.

    Every transcendental term depends on only one of x, t_x or T, each of which
    takes few distinct values; they are evaluated on the distinct values and
    gathered, so one likelihood evaluation costs a handful of vector operations.
    """

    def __init__(self, x: Array, tx: Array, T: Array, w: Array) -> None:
        zero = x == 0
        self.w0, self.T0 = w[zero], T[zero]
        pos = ~zero
        self.w, self.x = w[pos], x[pos]
        self.ux, self.ix = np.unique(self.x, return_inverse=True)
        self.wx = np.bincount(self.ix, weights=self.w, minlength=len(self.ux))
        self.uT, self.iT = np.unique(T[pos], return_inverse=True)
        self.utx, self.itx = np.unique(tx[pos], return_inverse=True)
        self.W0, self.W = float(self.w0.sum()), float(self.w.sum())


def _negll_and_grad(log_params: Array, d: _Prepared) -> tuple[float, Array]:
    r, alpha, a, b = np.exp(log_params)
    log_alpha = np.log(alpha)
    # Customers without repeat purchases: ll = -r * log(alpha + T) + r * log(alpha).
    log_at0 = np.log(alpha + d.T0)
    ll = float(d.W0 * r * log_alpha - r * (d.w0 * log_at0).sum())
    g_r = d.W0 * log_alpha - float((d.w0 * log_at0).sum())
    g_alpha = d.W0 * r / alpha - r * float((d.w0 / (alpha + d.T0)).sum())

    # Terms that depend on x only (A1 + A2 of Fader, Hardie & Lee), on distinct x.
    ux, wx = d.ux, d.wx
    ll += float(
        (wx * (gammaln(r + ux) + gammaln(b + ux) - gammaln(a + b + ux))).sum()
        + d.W * (r * log_alpha - gammaln(r) + gammaln(a + b) - gammaln(b))
    )
    g_r += float((wx * digamma(r + ux)).sum() + d.W * (log_alpha - digamma(r)))
    g_alpha += d.W * r / alpha
    g_a = float(d.W * digamma(a + b) - (wx * digamma(a + b + ux)).sum())
    g_b = float(
        d.W * (digamma(a + b) - digamma(b)) + (wx * (digamma(b + ux) - digamma(a + b + ux))).sum()
    )

    # Per-row part: log(exp(A3) + exp(A4)) = A3 + softplus(A4 - A3).
    log_aT = np.log(alpha + d.uT)[d.iT]
    log_atx = np.log(alpha + d.utx)[d.itx]
    rx = r + d.x
    inv_b = (1.0 / (b + ux - 1))[d.ix]
    diff = (np.log(a) - np.log(b + ux - 1))[d.ix] - rx * (log_atx - log_aT)
    soft = np.logaddexp(0.0, diff)
    s4 = np.exp(diff - soft)
    s3 = 1.0 - s4
    w = d.w
    ll += float((w * (soft - rx * log_aT)).sum())
    g_r -= float((w * (s3 * log_aT + s4 * log_atx)).sum())
    g_alpha -= float(
        (w * rx * (s3 * (1.0 / (alpha + d.uT))[d.iT] + s4 * (1.0 / (alpha + d.utx))[d.itx])).sum()
    )
    ws4 = w * s4
    g_a += float(ws4.sum()) / a
    g_b -= float((ws4 * inv_b).sum())

    if not np.isfinite(ll):
        return np.inf, np.zeros(4)
    grad = np.array([g_r * r, g_alpha * alpha, g_a * a, g_b * b])
    return -ll, -grad


class BetaGeoModel(ParametricModel):
    """BG/NBD model: ``fit(summary) -> self``, then ``expected_*`` predictions."""

    name = "BG/NBD"
    param_names = PARAMS

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
        prepared = _Prepared(x, tx, T, w)
        self.result = maximize(
            lambda p: _negll_and_grad(p, prepared), PARAMS, start, model=self.name, n_rows=len(rows)
        )
        return self

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

    def expected_probability_alive(
        self, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
    ) -> Array:
        """P(alive | x, t_x, T)."""
        x, tx, TT = (np.asarray(v, dtype="float64") for v in (frequency, recency, T))
        return 1.0 / (1.0 + np.exp(self._log_odds_dead(x, tx, TT)))

    def expected_purchases(
        self, t: float | ArrayLike, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
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

    def expected_purchases_new_customer(self, t: float | ArrayLike) -> Array:
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
        prepared = _Prepared(x, tx, T, np.ones_like(x))
        value, _ = _negll_and_grad(np.log(np.array(self._p())), prepared)
        return -value


__all__ = ["PARAMS", "BetaGeoModel", "check_summary"]
