"""Frame contracts for models, named and checked in one place.

A contract lists the columns a model needs, with overridable names, so that a
caller with differently named columns passes ``columns={"T": "age"}`` instead of
renaming. Violations raise :class:`FrameContractError` saying which column is
missing or wrong and how to provide it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from storeops.errors import StoreOpsError


class FrameContractError(StoreOpsError, ValueError):
    """A data frame does not satisfy a model's contract."""


@dataclass(frozen=True)
class FrameContract:
    """Named columns a model reads, with their checks."""

    name: str
    required: tuple[str, ...]
    optional: tuple[str, ...] = ()
    numeric: tuple[str, ...] = ()
    non_negative: tuple[str, ...] = ()
    integer: tuple[str, ...] = ()

    def check(self, frame: pd.DataFrame, columns: Mapping[str, str] | None = None) -> pd.DataFrame:
        """Return ``frame`` restricted to the contract's columns, under canonical names."""
        rename = dict(columns or {})
        source = {c: rename.get(c, c) for c in (*self.required, *self.optional)}
        missing = [c for c in self.required if source[c] not in frame.columns]
        if missing:
            hint = ", ".join(f"{c!r}" for c in missing)
            raise FrameContractError(
                f"{self.name} requires columns {hint} but the data has "
                f"{list(frame.columns)}. Please provide them, or map your own column "
                f"names through columns={{'{missing[0]}': '<your column>'}}."
            )
        present = [c for c in source if source[c] in frame.columns]
        out = pd.DataFrame({c: frame[source[c]].to_numpy() for c in present})
        for c in present:
            if c not in self.numeric:
                continue
            values = pd.to_numeric(out[c], errors="coerce")
            if values.isna().any():
                bad = out.loc[values.isna(), c].iloc[0]
                raise FrameContractError(
                    f"{self.name}: column {source[c]!r} must be numeric with no gaps; "
                    f"found {bad!r}. Remove or fill those rows first."
                )
            out[c] = values.astype("float64")
            if c in self.non_negative and (out[c] < 0).any():
                raise FrameContractError(f"{self.name}: column {source[c]!r} must not be negative.")
            if c in self.integer and not np.all(np.mod(out[c].to_numpy(), 1) == 0):
                raise FrameContractError(
                    f"{self.name}: column {source[c]!r} must hold whole numbers "
                    "(counts of repeat purchases or periods)."
                )
        return out


#: Per-customer summary used by BG/NBD and Gamma-Gamma: ``frequency`` repeat
#: purchases, ``recency`` age at the last purchase, ``T`` age at the end of the
#: observation, ``monetary_value`` mean spend of the repeat purchases.
RFM_SUMMARY = FrameContract(
    "RFM summary",
    required=("customer_id", "frequency", "recency", "T"),
    optional=("monetary_value",),
    numeric=("frequency", "recency", "T", "monetary_value"),
    non_negative=("frequency", "recency", "T", "monetary_value"),
    integer=("frequency",),
)

#: Discrete-period summary used by BG/BB: ``frequency`` repeat transactions,
#: ``recency`` period of the last one, ``periods`` opportunities, optional ``weight``.
DISCRETE_SUMMARY = FrameContract(
    "discrete-period summary",
    required=("frequency", "recency", "periods"),
    optional=("weight",),
    numeric=("frequency", "recency", "periods", "weight"),
    non_negative=("frequency", "recency", "periods", "weight"),
    integer=("frequency", "recency", "periods"),
)

#: Long-format time series for forecasting: one row per series and timestamp.
FORECAST_SERIES = FrameContract(
    "forecast series", required=("unique_id", "ds", "y"), numeric=("y",)
)
