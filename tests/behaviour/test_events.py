"""People behind events: linking devices to users and identity resolution."""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.behaviour.builders import ev, events_table

from storeops.analytics.purchases import CUSTOMER_MAP_MART
from storeops.behaviour.events import BehaviourError, person_events, property_value
from storeops.warehouse import Warehouse


def reference_people(
    rows: list[dict[str, Any]], mapping: dict[str, str], include_anonymous: bool
) -> dict[str, str]:
    """message id → person, following the rules in docs/behaviour.md literally."""
    linked: dict[str, tuple[Any, ...]] = {}
    for r in rows:
        if r["anonymous_id"] and r["user_id"]:
            key = (r["ts"], r["message_id"], r["user_id"])
            if r["anonymous_id"] not in linked or key < linked[r["anonymous_id"]]:
                linked[r["anonymous_id"]] = key
    out = {}
    for r in rows:
        user = r["user_id"] or (
            linked[r["anonymous_id"]][2] if r["anonymous_id"] in linked else None
        )
        if user is not None:
            out[r["message_id"]] = mapping.get(user, user)
        elif r["anonymous_id"] and include_anonymous:
            out[r["message_id"]] = "anon:" + r["anonymous_id"]
    return out


@st.composite
def identity_cases(draw: st.DrawFn) -> tuple[list[dict[str, Any]], dict[str, str], bool]:
    rows = []
    for i in range(draw(st.integers(1, 30))):
        rows.append(
            ev(
                "E",
                anon=draw(st.sampled_from([None, "d0", "d1", "d2", "d3"])),
                user=draw(st.sampled_from([None, None, "u0", "u1", "u2"])),
                at=draw(st.integers(0, 5)),
                msg=f"m{i:03d}",
            )
        )
    rows = [r for r in rows if r["anonymous_id"] or r["user_id"]]
    mapping = draw(
        st.dictionaries(st.sampled_from(["u0", "u1", "u2"]), st.sampled_from(["C1", "C2"]))
    )
    return rows, mapping, draw(st.booleans())


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(case=identity_cases())
def test_people_equal_reference(duck: Warehouse, case: Any) -> None:
    rows, mapping, include_anonymous = case
    if not rows:
        return
    duck.write_mart(
        CUSTOMER_MAP_MART,
        pa.table(
            {
                "source": ["app"] * len(mapping),
                "record_id": list(mapping),
                "customer_id": list(mapping.values()),
            },
            schema=pa.schema(
                [("source", pa.string()), ("record_id", pa.string()), ("customer_id", pa.string())]
            ),
        ),
    )
    staged = duck.stage(events_table(rows))
    got = duck.to_pandas(
        person_events(duck, events=staged, include_anonymous=include_anonymous).select(
            "message_id", "person_id"
        )
    )
    assert dict(zip(got["message_id"], got["person_id"], strict=True)) == reference_people(
        rows, mapping, include_anonymous
    )


def test_property_paths(warehouse: Warehouse) -> None:
    rows = [ev("E", anon="a", props={"n": 3, "ok": True}, context={"campaign": {"name": "618"}})]
    t = warehouse.stage(events_table(rows))
    out = warehouse.to_pandas(
        t.select(
            n=property_value(warehouse, t, "properties.n"),
            ok=property_value(warehouse, t, "properties.ok"),
            campaign=property_value(warehouse, t, "context.campaign.name"),
            missing=property_value(warehouse, t, "properties.nope"),
        )
    ).iloc[0]
    assert (out["n"], out["ok"], out["campaign"]) == ("3", "true", "618")
    assert out["missing"] is None or out["missing"] != out["missing"]
    with pytest.raises(BehaviourError) as err:
        property_value(warehouse, t, "properties.a-b")
    assert err.value.code == "behaviour.bad_property_path"
