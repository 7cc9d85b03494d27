"""Collapsing a summary to unique rows with weights is exact."""

from __future__ import annotations

import numpy as np
import pandas as pd

from storeops.models.clv.base import _collapse_groupby, collapse


def test_collapse_equals_group_by() -> None:
    rng = np.random.default_rng(1)
    frame = pd.DataFrame(
        {
            "frequency": rng.integers(0, 5, 5000),
            "recency": rng.integers(0, 30, 5000).astype(float),
            "T": rng.integers(30, 40, 5000).astype(float),
            "w": rng.integers(1, 4, 5000),
        }
    )
    keys = ["frequency", "recency", "T"]
    for weight in (None, "w"):
        fast = collapse(frame, keys, weight).astype({"weight": "float64"})
        slow = _collapse_groupby(frame, keys, weight).astype({"weight": "float64"})
        pd.testing.assert_frame_equal(fast, slow, check_dtype=False)
    assert collapse(frame, keys)["weight"].sum() == len(frame)
