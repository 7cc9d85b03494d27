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
from typing import Self

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import optimize

from storeops.errors import StoreOpsError

Array = np.ndarray
ArrayLike = npt.ArrayLike


class ModelFitError(StoreOpsError, RuntimeError):
    """The optimiser did not converge to a valid maximum."""


class NotFittedError(StoreOpsError, RuntimeError):
    """A prediction was asked of a model that has not been fitted."""


def collapse(frame: pd.DataFrame, keys: list[str], weight: str | None = None) -> pd.DataFrame:
    """Unique rows of ``keys`` with the number of customers (or summed weights) as ``weight``.

    Each key column is factorized and the codes combined into one integer, which
    is several times faster than a multi-column group-by on a million rows.
    """
    uniques: list[np.ndarray] = []
    combined = np.zeros(len(frame), dtype=np.int64)
    span = 1
    for key in keys:
        codes, values = pd.factorize(frame[key], sort=True)
        span *= max(len(values), 1)
        if span >= 2**62:  # the combined code would overflow: group the slow way
            return _collapse_groupby(frame, keys, weight)
        combined = combined * len(values) + codes
        uniques.append(np.asarray(values))
    inverse, groups = pd.factorize(combined, sort=True)
    weights = (
        frame[weight].to_numpy(dtype="float64")
        if weight is not None and weight in frame.columns
        else None
    )
    out: dict[str, np.ndarray] = {}
    rest = groups
    for key, values in reversed(list(zip(keys, uniques, strict=True))):
        out[key] = values[rest % len(values)]
        rest = rest // len(values)
    result = pd.DataFrame({k: out[k] for k in keys})
    result["weight"] = np.bincount(inverse, weights=weights, minlength=len(groups))
    return result


def _collapse_groupby(frame: pd.DataFrame, keys: list[str], weight: str | None) -> pd.DataFrame:
    if weight is not None and weight in frame.columns:
        return frame.groupby(keys, sort=True)[weight].sum().rename("weight").reset_index()
    return frame.groupby(keys, sort=True).size().rename("weight").reset_index()


@dataclass
class FitResult:
    """Outcome of a maximum-likelihood fit."""

    params: dict[str, float]
    loglik: float
    iterations: int
    converged: bool
    n_rows: int
    #: Parameters that ended on the search bound: the data do not identify them
    #: (e.g. no sign of dropout), so predictions lean on an extreme value.
    boundary: tuple[str, ...] = ()
    extra: dict[str, float] = field(default_factory=dict)


#: Parameters are searched in [e^-15, e^15]; beyond that a likelihood is flat in
#: practice and the predictions overflow.
LOG_BOUND = 15.0


class ParametricModel:
    """Common state of a fitted model: its :class:`FitResult` and parameters."""

    name: str = "model"
    param_names: tuple[str, ...] = ()

    def __init__(self) -> None:
        self.result: FitResult | None = None

    @property
    def params(self) -> dict[str, float]:
        if self.result is None:
            raise NotFittedError(f"{self.name}: call fit(summary) before predicting.")
        return self.result.params

    @classmethod
    def from_params(cls, params: dict[str, float], loglik: float = float("nan")) -> Self:
        """A model with known parameters (e.g. loaded from a stored fit)."""
        missing = [k for k in cls.param_names if k not in params]
        if missing:
            raise NotFittedError(f"{cls.name}: parameters {missing} are missing")
        model = cls()
        model.result = FitResult({k: float(params[k]) for k in cls.param_names}, loglik, 0, True, 0)
        return model


def maximize(
    negll_and_grad: Callable[[Array], tuple[float, Array]],
    names: tuple[str, ...],
    start: Array,
    *,
    model: str,
    n_rows: int,
) -> FitResult:
    """Maximize a log-likelihood over log-parameters (keeps parameters positive).

    ``negll_and_grad`` takes the log-parameters and returns the negative
    log-likelihood and its gradient with respect to the log-parameters.
    """
    best: optimize.OptimizeResult | None = None
    bounds = [(-LOG_BOUND, LOG_BOUND)] * len(start)
    # A couple of starting points guard against the flat regions BG/NBD has
    # when a and b grow together.
    for offset in (0.0, 1.0, -1.0):
        res = optimize.minimize(
            negll_and_grad,
            start + offset,
            jac=True,
            method="L-BFGS-B",
            bounds=bounds,
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
    boundary = tuple(n for n, v in zip(names, best.x, strict=True) if abs(v) > LOG_BOUND - 0.01)
    return FitResult(
        dict(zip(names, map(float, np.exp(best.x)), strict=True)),
        float(-best.fun),
        int(best.nit),
        not boundary,
        n_rows,
        boundary,
    )
