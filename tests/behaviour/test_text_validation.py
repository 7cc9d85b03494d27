"""Text with a NUL character is refused before any SQL is built (DuckDB ends a string
literal there, so such a query used to fail inside the engine with a parser error)."""

from __future__ import annotations

import pytest

from storeops.behaviour.events import BehaviourError
from storeops.behaviour.funnel import FunnelInsight, FunnelQuery, FunnelStep
from storeops.behaviour.paths import PathsInsight, PathsQuery
from storeops.behaviour.retention import RetentionInsight, RetentionQuery
from storeops.warehouse import Warehouse


def _funnel(wh: Warehouse, first: FunnelStep) -> None:
    FunnelInsight(wh, FunnelQuery(steps=[first, FunnelStep(event="Order Completed")]))


@pytest.mark.parametrize(
    "step",
    [
        FunnelStep(event="Product\x00Viewed"),
        FunnelStep(event="Product Viewed", where={"category": "shoe\x00s"}),
        FunnelStep(event="Product Viewed", where={"cate\x00gory": "shoes"}),
    ],
)
def test_funnel_text_with_nul_is_refused(duck: Warehouse, step: FunnelStep) -> None:
    with pytest.raises(BehaviourError) as err:
        _funnel(duck, step)
    assert err.value.code == "behaviour.bad_text"
    assert "NUL" in str(err.value)


def test_retention_and_paths_refuse_nul(duck: Warehouse) -> None:
    with pytest.raises(BehaviourError, match="NUL") as err:
        RetentionInsight(duck, RetentionQuery(cohort_event="Signed\x00Up"))
    assert err.value.code == "behaviour.bad_text"
    with pytest.raises(BehaviourError, match="NUL") as err:
        PathsInsight(duck, PathsQuery(event="App\x00Opened"))
    assert err.value.code == "behaviour.bad_text"


def test_ordinary_text_passes(duck: Warehouse) -> None:
    _funnel(duck, FunnelStep(event="Product Viewed", where={"properties.category": "鞋 'quoted'"}))
