"""Bad summaries fail early with messages that say what to do."""

from __future__ import annotations

import pandas as pd
import pytest

from storeops.contracts import FrameContractError
from storeops.models.clv import BetaGeoModel, GammaGammaModel, NotFittedError


def test_missing_column_names_it_and_the_override() -> None:
    frame = pd.DataFrame({"customer_id": [1], "frequency": [1], "recency": [1.0]})
    with pytest.raises(FrameContractError, match=r"'T'.*columns=\{'T'"):
        BetaGeoModel().fit(frame)


def test_column_names_can_be_overridden(cdnow: pd.DataFrame) -> None:
    renamed = cdnow.rename(columns={"T": "age", "frequency": "repeat_purchases"})
    model = BetaGeoModel().fit(renamed, columns={"T": "age", "frequency": "repeat_purchases"})
    assert model.params["r"] == pytest.approx(BetaGeoModel().fit(cdnow).params["r"], rel=1e-9)


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ({"frequency": 1, "recency": 40.0, "T": 30.0}, "recency must not exceed T"),
        ({"frequency": 0, "recency": 3.0, "T": 30.0}, "frequency 0 must have recency 0"),
        ({"frequency": 1.5, "recency": 3.0, "T": 30.0}, "whole numbers"),
        ({"frequency": -1, "recency": 0.0, "T": 30.0}, "must not be negative"),
        ({"frequency": "x", "recency": 0.0, "T": 30.0}, "must be numeric"),
    ],
)
def test_impossible_rows_are_refused(
    cdnow: pd.DataFrame, row: dict[str, object], message: str
) -> None:
    bad = pd.concat(
        [cdnow, pd.DataFrame([{"customer_id": -1, "monetary_value": 10.0, **row}])],
        ignore_index=True,
    )
    with pytest.raises(FrameContractError, match=message):
        BetaGeoModel().fit(bad)


def test_gamma_gamma_needs_monetary_value(cdnow: pd.DataFrame) -> None:
    with pytest.raises(FrameContractError, match="monetary_value"):
        GammaGammaModel().fit(cdnow.drop(columns="monetary_value"))


def test_predicting_before_fit_is_an_error() -> None:
    with pytest.raises(NotFittedError, match="fit"):
        BetaGeoModel().expected_probability_alive([1], [1.0], [2.0])
