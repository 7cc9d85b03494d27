"""Shared machinery of the CLV models: collapsing summaries and maximum likelihood.

The likelihoods of BG/NBD, Gamma-Gamma and BG/BB depend on each customer only
through a few numbers, and real summaries repeat the same tuples many times (a
million customers collapse to tens of thousands of unique rows). Every model
therefore fits on the unique rows with a weight column, which is exact and
makes the fit cost independent of the customer count.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import optimize

from storeops.errors import StoreOpsError

Array = np.ndarray


class ModelFitError(StoreOpsError, RuntimeError):
    """The optimiser did not converge to a valid maximum."""


class NotFittedError(StoreOpsError, RuntimeError):
    """A prediction was asked of a model that has not been fitted."""


def collapse(frame: pd.DataFrame, keys: list[str], weight: str | None = None) -> pd.DataFrame:
    """Unique rows of ``keys`` with the number of customers (or summed weights) as ``weight``."""
    if weight is not None and weight in frame.columns:
        summed = frame.groupby(keys, sort=True)[weight].sum()
        return summed.rename("weight").reset_index()
    counts = frame.groupby(keys, sort=True).size()
    return counts.rename("weight").reset_index()


@dataclass
class FitResult:
    """Outcome of a maximum-likelihood fit."""

    params: dict[str, float]
    loglik: float
    iterations: int
    converged: bool
    n_rows: int
    extra: dict[str, float] = field(default_factory=dict)


def maximize(
    negll_and_grad: Callable[[Array], tuple[float, Array]],
    names: tuple[str, ...],
    start: Array,
    *,
    model: str,
) -> tuple[Array, float, int]:
    """Maximize a log-likelihood over log-parameters (keeps parameters positive).

    ``negll_and_grad`` takes the log-parameters and returns the negative
    log-likelihood and its gradient with respect to the log-parameters.
    """
    best: optimize.OptimizeResult | None = None
    # A couple of starting points guard against the flat regions BG/NBD has
    # when a and b grow together.
    for offset in (0.0, 1.0, -1.0):
        res = optimize.minimize(
            negll_and_grad,
            start + offset,
            jac=True,
            method="L-BFGS-B",
            options={"maxiter": 2000, "ftol": 1e-14, "gtol": 1e-10},
        )
        if np.isfinite(res.fun) and (best is None or res.fun < best.fun - 1e-12):
            best = res
        if best is not None and best.success and offset == 0.0:
            break
    if best is None or not np.all(np.isfinite(best.x)):
        raise ModelFitError(
            f"{model}: the likelihood could not be maximized from any starting point. "
            "Check the summary for impossible values (recency > T, frequency 0 with recency > 0)."
        )
    params = np.exp(best.x)
    return params, float(-best.fun), int(best.nit)
