"""BG/BB for discrete-period data (Fader, Hardie & Shang 2010).

At each of ``n`` opportunities an alive customer transacts with probability
``θ ~ Beta(alpha, beta)``; between opportunities they drop out with probability
``φ ~ Beta(gamma, delta)``. The classic example: yearly donations.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from scipy.special import betaln, logsumexp

from storeops.contracts import DISCRETE_SUMMARY, FrameContractError
from storeops.models.clv.base import Array, ArrayLike, ParametricModel, collapse, maximize

PARAMS = ("alpha", "beta", "gamma", "delta")
_EPS = 1e-6


def _loglik_rows(params: Array, x: Array, tx: Array, n: Array) -> Array:
    alpha, beta, gamma, delta = params
    base = betaln(alpha, beta) + betaln(gamma, delta)
    first = betaln(alpha + x, beta + n - x) + betaln(gamma, delta + n)
    # Sum over the periods after the last transaction in which the customer could
    # have died; padded to the longest gap so the whole sum is one array operation.
    gap = (n - tx - 1).astype(int)
    i = np.arange(max(int(gap.max()) + 1, 1))[None, :]
    terms = betaln(alpha + x[:, None], beta + tx[:, None] - x[:, None] + i) + betaln(
        gamma + 1, delta + tx[:, None] + i
    )
    terms = np.where(i <= gap[:, None], terms, -np.inf)
    return logsumexp(np.column_stack([first, terms]), axis=1) - base


class BetaGeoBetaBinomModel(ParametricModel):
    """BG/BB model: ``fit(summary) -> self``, then ``expected_*`` predictions."""

    name = "BG/BB"
    param_names = PARAMS

    def fit(
        self, data: pd.DataFrame, columns: Mapping[str, str] | None = None
    ) -> BetaGeoBetaBinomModel:
        frame = DISCRETE_SUMMARY.check(data, columns)
        if (frame["recency"] > frame["periods"]).any() or (
            frame["frequency"] > frame["recency"]
        ).any():
            raise FrameContractError("BG/BB needs frequency <= recency <= periods for every row.")
        rows = collapse(frame, ["frequency", "recency", "periods"], weight="weight")
        x, tx, n, w = (
            rows[c].to_numpy(dtype="float64") for c in ("frequency", "recency", "periods", "weight")
        )

        # Few unique rows: a central-difference gradient is cheap and accurate here.
        def negll_and_grad(log_params: Array) -> tuple[float, Array]:
            def f(lp: Array) -> float:
                return -float((w * _loglik_rows(np.exp(lp), x, tx, n)).sum())

            value = f(log_params)
            grad = np.empty_like(log_params)
            for k in range(len(log_params)):
                step = np.zeros_like(log_params)
                step[k] = _EPS
                grad[k] = (f(log_params + step) - f(log_params - step)) / (2 * _EPS)
            return (value if np.isfinite(value) else np.inf), grad

        self.result = maximize(
            negll_and_grad, PARAMS, np.zeros(4), model=self.name, n_rows=len(rows)
        )
        return self

    def expected_probability_alive(
        self, frequency: ArrayLike, recency: ArrayLike, periods: ArrayLike
    ) -> Array:
        """P(alive at period n+1 | x, t_x, n)."""
        p = np.array([self.params[k] for k in PARAMS])
        alpha, beta, gamma, delta = p
        x, tx, n = (np.asarray(v, dtype="float64") for v in (frequency, recency, periods))
        log_num = (
            betaln(alpha + x, beta + n - x)
            - betaln(alpha, beta)
            + betaln(gamma, delta + n + 1)
            - betaln(gamma, delta)
        )
        return np.exp(log_num - _loglik_rows(p, x, tx, n))

    def expected_purchases(
        self, future: int, frequency: ArrayLike, recency: ArrayLike, periods: ArrayLike
    ) -> Array:
        """Expected transactions in the next ``future`` periods."""
        p = np.array([self.params[k] for k in PARAMS])
        x, tx, n = (np.asarray(v, dtype="float64") for v in (frequency, recency, periods))
        alpha, beta, gamma, delta = (float(v) for v in p)
        log_l = _loglik_rows(p, x, tx, n)
        return _expected_purchases(alpha, beta, gamma, delta, x, n, future, log_l)


def _expected_purchases(
    alpha: float,
    beta: float,
    gamma: float,
    delta: float,
    x: Array,
    n: Array,
    future: int,
    log_l: Array,
) -> Array:
    """Sum over the next periods of P(alive at period) x E[θ | data], in logs."""
    total = np.zeros_like(x)
    for k in range(1, future + 1):
        # P(transaction at n+k and data) = B(a+x+1, b+n-x)/B(a,b) * B(g, d+n+k)/B(g,d)
        log_joint = (
            betaln(alpha + x + 1, beta + n - x)
            - betaln(alpha, beta)
            + betaln(gamma, delta + n + k)
            - betaln(gamma, delta)
        )
        total += np.exp(log_joint - log_l)
    return total
