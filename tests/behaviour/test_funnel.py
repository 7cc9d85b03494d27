"""Funnels: exact numbers on tiny event sets, and a brute-force reference (hypothesis)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.behaviour import reference
from tests.behaviour.builders import add_events, ev, events_table

from storeops.analytics.purchases import CUSTOMER_MAP_MART
from storeops.behaviour.events import BehaviourError
from storeops.behaviour.funnel import (
    Engine,
    FunnelInsight,
    FunnelQuery,
    FunnelStep,
    parse_steps,
)
from storeops.warehouse import Warehouse

DAY = 86_400
PV, PA, OC = "Product Viewed", "Product Added", "Order Completed"


@pytest.fixture(params=["sql", "kernel"])
def engine(request: pytest.FixtureRequest, warehouse: Warehouse) -> Engine:
    """Every exact test runs on the SQL path and, on DuckDB, on the native kernel."""
    if request.param == "kernel" and warehouse.name != "duckdb":
        pytest.skip("the native funnel kernel runs on DuckDB only")
    return request.param  # type: ignore[no-any-return]


def funnel(
    wh: Warehouse, steps: str, window: int = 7 * DAY, engine: Engine = "sql", **kw: Any
) -> FunnelInsight:
    query = FunnelQuery(steps=parse_steps(steps), window_seconds=window, **kw)
    return FunnelInsight(wh, query, engine=engine)


def counts(f: FunnelInsight) -> list[int]:
    return [s.count for s in f.calculate().steps]


def test_best_chain_ties_and_window_edges(warehouse: Warehouse, engine: Engine) -> None:
    add_events(
        warehouse,
        [
            # a: the first view is too early, the second one starts a chain that fits.
            ev(PV, anon="a", at=0),
            ev(PV, anon="a", at=5 * DAY),
            ev(PA, anon="a", at=8 * DAY),
            ev(OC, anon="a", at=12 * DAY),  # exactly 7 days after the second view
            # b: order before the add: reaches step 2 only.
            ev(PV, anon="b", at=0),
            ev(OC, anon="b", at=10),
            ev(PA, anon="b", at=20),
            # c: all three at the same instant; seq (message id) orders them.
            ev(PV, anon="c", at=0, msg="c1"),
            ev(PA, anon="c", at=0, msg="c2"),
            ev(OC, anon="c", at=0, msg="c3"),
            # d: same instant but the add sorts before the view: no step 2.
            ev(PV, anon="d", at=0, msg="d2"),
            ev(PA, anon="d", at=0, msg="d1"),
            # e: one second past the window.
            ev(PV, anon="e", at=0),
            ev(PA, anon="e", at=7 * DAY + 1),
            # f: no step 1 at all: not in the funnel.
            ev(PA, anon="f", at=0),
        ],
    )
    f = funnel(warehouse, f"{PV},{PA},{OC}", engine=engine, count_by="anonymous_id")
    result = f.calculate()
    assert [s.count for s in result.steps] == [5, 3, 2]
    assert [s.conversion_from_previous for s in result.steps] == [None, 0.6, pytest.approx(2 / 3)]
    assert result.steps[0].dropped == 2 and result.steps[1].dropped == 1
    per = warehouse.to_pandas(f.to_expr()).set_index("person_id")
    assert per.loc["a", "seconds_2"] == 7 * DAY
    assert per.loc["c", "seconds_2"] == 0
    assert sorted(f.dropoffs(0)["person_id"]) == ["d", "e"]
    assert sorted(f.dropoffs(1)["person_id"]) == ["b"]
    assert sorted(f.dropoffs(2)["person_id"]) == ["a", "c"]  # the last step: converted
    buckets = {b["bucket"]: b["people"] for b in result.time_to_convert}
    assert buckets["< 1 min"] == 1 and buckets["≥ 7 d"] == 1


def test_one_event_never_fills_two_steps(warehouse: Warehouse, engine: Engine) -> None:
    add_events(warehouse, [ev(PV, anon="a", at=0), ev(PV, anon="b", at=0), ev(PV, anon="b", at=1)])
    assert counts(funnel(warehouse, f"{PV},{PV}", engine=engine, count_by="anonymous_id")) == [2, 1]


def test_optional_steps_and_filters(warehouse: Warehouse, engine: Engine) -> None:
    add_events(
        warehouse,
        [
            ev(PV, anon="a", at=0, props={"category": "shoes"}),
            ev("Coupon Applied", anon="a", at=10),
            ev(OC, anon="a", at=20),
            ev(PV, anon="b", at=0, props={"category": "shoes"}),
            ev(OC, anon="b", at=20),  # skipped the optional coupon: still converts
            ev(PV, anon="c", at=0, props={"category": "bags"}),  # filtered out
            ev(OC, anon="c", at=20),
            ev(PV, anon="d", at=0, props={"category": "shoes"}),
            ev(OC, anon="d", at=5),
            ev("Coupon Applied", anon="d", at=10),  # after the order, still after step 1
        ],
    )
    f = funnel(
        warehouse,
        f"{PV}[category=shoes],?Coupon Applied,{OC}",
        engine=engine,
        count_by="anonymous_id",
    )
    result = f.calculate()
    assert [s.count for s in result.steps] == [3, 2, 3]
    assert result.steps[1].optional and result.steps[1].dropped is None
    assert result.steps[2].conversion_from_previous == 1.0
    assert result.conversion_rate == 1.0
    with pytest.raises(BehaviourError) as err:
        f.dropoff_expr(1)
    assert err.value.code == "funnel.bad_dropoff_step"


def test_breakdown_is_first_touch(warehouse: Warehouse, engine: Engine) -> None:
    add_events(
        warehouse,
        [
            ev(PV, anon="a", at=0, props={"store_id": "S1"}),
            ev(PV, anon="a", at=5, props={"store_id": "S2"}),
            ev(OC, anon="a", at=10),
            ev(PV, anon="b", at=0, context={"channel": "mini_program"}, props={"store_id": "S2"}),
            ev(PV, anon="c", at=0),
        ],
    )
    result = funnel(
        warehouse, f"{PV},{OC}", engine=engine, count_by="anonymous_id", breakdown="store"
    ).calculate()
    got = {v: [s.count for s in steps] for v, steps in result.breakdown.items()}
    assert got == {"S1": [1, 1], "S2": [1, 0], "(none)": [1, 0]}
    assert [s.count for s in result.steps] == [3, 1]
    by_channel = funnel(
        warehouse, f"{PV},{OC}", engine=engine, count_by="anonymous_id", breakdown="channel"
    )
    assert set(by_channel.calculate().breakdown) == {"mini_program", "(none)"}


def test_customers_after_identity_resolution(warehouse: Warehouse, engine: Engine) -> None:
    import pyarrow as pa

    add_events(
        warehouse,
        [
            ev(PV, anon="phone", at=0),  # linked to u1 later by an identified event
            ev(PA, anon="phone", user="u1", at=10),
            ev(OC, anon="laptop", user="u2", at=20),  # u2 is merged into u1
            ev(PV, anon="stranger", at=0),  # never identified
        ],
    )
    warehouse.write_mart(
        CUSTOMER_MAP_MART,
        pa.table(
            {"source": ["app", "app"], "record_id": ["u1", "u2"], "customer_id": ["C1", "C1"]}
        ),
    )
    f = funnel(warehouse, f"{PV},{PA},{OC}", engine=engine)
    per = warehouse.to_pandas(f.to_expr()).set_index("person_id")
    assert sorted(per.index) == ["C1", "anon:stranger"]
    assert per.loc["C1", ["reached_0", "reached_1", "reached_2"]].tolist() == [1, 1, 1]
    known = funnel(warehouse, f"{PV},{PA},{OC}", engine=engine, include_anonymous=False)
    assert counts(known) == [1, 1, 1]
    assert counts(funnel(warehouse, f"{PV},{PA},{OC}", engine=engine, count_by="anonymous_id")) == [
        2,
        1,
        0,
    ]


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ({"steps": [FunnelStep(event=PV)]}, "funnel.too_few_steps"),
        (
            {"steps": [FunnelStep(event=PV, optional=True), FunnelStep(event=OC)]},
            "funnel.optional_first_step",
        ),
        (
            {"steps": parse_steps(f"{PV},{OC}"), "breakdown": "properties.a b"},
            "funnel.bad_property_path",
        ),
    ],
)
def test_validation_codes(warehouse: Warehouse, query: dict[str, Any], code: str) -> None:
    with pytest.raises(BehaviourError) as err:
        FunnelInsight(warehouse, FunnelQuery(**query))
    assert err.value.code == code


def test_parse_steps() -> None:
    steps = parse_steps("Product Viewed[category=shoes; context.channel=app],?Coupon Applied,X")
    assert steps[0].where == {"properties.category": "shoes", "context.channel": "app"}
    assert steps[1].optional and steps[1].event == "Coupon Applied"
    with pytest.raises(BehaviourError):
        parse_steps("A[nokey],B")


# -- property-based: equal to the brute-force reference -------------------------------
NAMES = ("A", "B", "C")
UNIT = 600  # seconds; small integer times make ties and exact window edges common


@st.composite
def funnel_cases(draw: st.DrawFn, max_people: int) -> tuple[list[dict[str, Any]], FunnelQuery]:
    n_steps = draw(st.integers(2, 4))
    steps = []
    for i in range(n_steps):
        where = draw(st.sampled_from([{}, {}, {"properties.k": "x"}]))
        steps.append(
            FunnelStep(
                event=draw(st.sampled_from(NAMES)),
                where=where,
                optional=i > 0 and draw(st.booleans()) and draw(st.booleans()),
            )
        )
    if all(s.optional for s in steps[1:]):
        steps[-1] = steps[-1].model_copy(update={"optional": False})
    window = draw(st.integers(1, 6)) * UNIT
    people = draw(st.integers(1, max_people))
    rows: list[dict[str, Any]] = []
    msg_ids = draw(
        st.lists(st.integers(0, 10**6), min_size=people * 7, max_size=people * 7, unique=True)
    )
    for p in range(people):
        for j in range(draw(st.integers(0, 7))):
            props: dict[str, Any] = {}
            if k := draw(st.sampled_from([None, "x", "y"])):
                props["k"] = k
            if store := draw(st.sampled_from([None, "S1", "S2"])):
                props["store_id"] = store
            row = ev(
                draw(st.sampled_from(NAMES)),
                anon=f"p{p}",
                at=draw(st.integers(0, 12)) * UNIT,
                props=props,
                msg=f"{msg_ids[p * 7 + j]:07d}",
            )
            row["_props"] = props
            rows.append(row)
    query = FunnelQuery(
        steps=steps, window_seconds=window, count_by="anonymous_id", breakdown="store"
    )
    return rows, query


def check_against_reference(
    wh: Warehouse, rows: list[dict[str, Any]], query: FunnelQuery, engine: Engine = "sql"
) -> None:
    staged = wh.stage(events_table(rows)) if rows else None
    expected = reference.funnel_persons(rows, query.steps, query.window_seconds, "store_id")
    if staged is None:
        return
    got = wh.to_pandas(FunnelInsight(wh, query, events=staged, engine=engine).to_expr())
    got_rows = {
        r["person_id"]: {k: v for k, v in r.items() if k != "person_id"}
        for r in got.to_dict(orient="records")
    }
    assert set(got_rows) == set(expected), json.dumps(query.model_dump(), default=str)
    for person, want in expected.items():
        have = got_rows[person]
        for key, value in want.items():
            actual = have[key]
            if key.startswith("seconds_"):
                actual = None if actual != actual or actual is None else float(actual)
            elif key.startswith("reached_"):
                actual = int(actual)
            assert actual == value, (person, key, query.model_dump())


SUPPRESS = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large]


@settings(max_examples=400, deadline=None, suppress_health_check=SUPPRESS)
@given(case=funnel_cases(max_people=12))
def test_funnel_equals_reference_duckdb(duck: Warehouse, case: Any) -> None:
    check_against_reference(duck, *case)


@pytest.mark.spark
@pytest.mark.slow
@settings(max_examples=8, deadline=None, suppress_health_check=SUPPRESS)
@given(case=funnel_cases(max_people=60))
def test_funnel_equals_reference_spark(spark_wh: Warehouse, case: Any) -> None:
    check_against_reference(spark_wh, *case)


def test_dropoffs_saved_as_a_segment(warehouse: Warehouse, engine: Engine) -> None:
    from storeops.behaviour.segments import load_segment, save_segment, segment_names

    add_events(
        warehouse,
        [
            ev(PV, anon="a", user="u1", at=0),
            ev(PA, anon="a", user="u1", at=10),
            ev(PV, anon="b", at=0),
            ev(PA, anon="b", at=10),
            ev(PV, anon="c", at=0),
            ev(PA, anon="c", at=10),
            ev(OC, anon="c", at=20),
        ],
    )
    f = funnel(warehouse, f"{PV},{PA},{OC}", engine=engine)
    n = save_segment(warehouse, "cart_stop", f.dropoff_expr(1), f.query.model_dump())
    assert n == 2 and segment_names(warehouse) == ["cart_stop"]
    seg = warehouse.to_pandas(load_segment(warehouse, "cart_stop")).sort_values("person_id")
    assert seg["person_id"].tolist() == ["anon:b", "u1"]
    assert seg["customer_id"].tolist()[1] == "u1" and seg["anonymous_id"].tolist()[0] == "b"
    with pytest.raises(BehaviourError) as err:
        save_segment(warehouse, "Bad Name", f.dropoff_expr(1), {})
    assert err.value.code == "segment.bad_name"
