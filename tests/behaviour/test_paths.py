"""Paths after and before an event, with sankey links, on a tiny event set."""

from __future__ import annotations

from typing import Any

from tests.behaviour.builders import add_events, ev

from storeops.behaviour.paths import PathsInsight, PathsQuery
from storeops.warehouse import Warehouse

PV, PA, OC, S = "Product Viewed", "Product Added", "Order Completed", "Search"


def fill(wh: Warehouse) -> None:
    add_events(
        wh,
        [
            ev(S, anon="a", at=0),
            ev(PV, anon="a", at=10),
            ev(PV, anon="a", at=20),
            ev(PA, anon="a", at=30),
            ev(OC, anon="a", at=40),
            ev(PV, anon="b", at=0),
            ev(PA, anon="b", at=5000),  # more than 30 minutes later: a new visit
            ev(S, anon="c", at=0),
            ev(PV, anon="c", at=10),
            ev(OC, anon="c", at=20),
        ],
    )


def paths(wh: Warehouse, **kw: Any) -> dict[str, Any]:
    return PathsInsight(wh, PathsQuery(count_by="anonymous_id", **kw)).calculate().to_dict()


def test_paths_after(warehouse: Warehouse) -> None:
    fill(warehouse)
    out = paths(warehouse, event=PV, steps=2)
    assert out["occurrences"] == 4
    top = {t["event"]: (t["occurrences"], t["people"]) for t in out["top"]}
    assert top == {PV: (1, 1), PA: (1, 1), OC: (1, 1), "(end)": (1, 1)}
    links = {(x["source"], x["target"]): x["value"] for x in out["links"]}
    assert links == {
        ("0. Product Viewed", "1. Product Viewed"): 1,
        ("0. Product Viewed", "1. Product Added"): 1,
        ("0. Product Viewed", "1. Order Completed"): 1,
        ("0. Product Viewed", "1. (end)"): 1,
        ("1. Product Viewed", "2. Product Added"): 1,
        ("1. Product Added", "2. Order Completed"): 1,
        ("1. Order Completed", "2. (end)"): 1,
    }


def test_paths_before_collapsed_and_top(warehouse: Warehouse) -> None:
    fill(warehouse)
    out = paths(warehouse, event=PA, direction="before", steps=2, collapse_repeats=True, top=1)
    links = {(x["source"], x["target"]): x["value"] for x in out["links"]}
    # a: Search → PV (collapsed) → PA; b: PV is 5000 s earlier, so the path ends.
    assert links == {
        ("-1. Product Viewed", "0. Product Added"): 1,
        ("-1. (end)", "0. Product Added"): 1,
        ("-2. Search", "-1. Product Viewed"): 1,
    }
    assert out["nodes"][0].startswith("-2.")
    no_gap = paths(warehouse, event=PA, direction="before", steps=1, max_gap_seconds=None)
    assert {t["event"]: t["occurrences"] for t in no_gap["top"]} == {PV: 2}
