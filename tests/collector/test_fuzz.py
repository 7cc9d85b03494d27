"""No request body makes the collector fail with anything but a clear 2xx/4xx answer,
and every answer keeps received = accepted + duplicates + failed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from storeops.collector import Collector
from storeops.workspace import Workspace

from .helpers import auth, collector_workspace, new_source

JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False)
    | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)
FIELDS = ("type", "event", "messageId", "userId", "anonymousId", "timestamp", "properties",
          "traits", "context", "groupId", "previousId", "name")  # fmt: skip
EVENTS = st.fixed_dictionaries(
    {},
    optional={
        "type": st.sampled_from(["track", "identify", "page", "screen", "group", "alias", "x"])
        | JSON,
        **{name: JSON | st.text(max_size=30) for name in FIELDS if name != "type"},
        "timestamp": st.sampled_from(["2025-06-01T10:00:00Z", "2025-06-01", "soon", ""]) | JSON,
        "properties": st.dictionaries(
            st.sampled_from(["phone", "email", "sku", "Mobile", "x"]), JSON | st.text(), max_size=4
        ),
    },
)


@pytest.fixture(scope="module")
def door(tmp_path_factory: pytest.TempPathFactory) -> tuple[Collector, dict[str, str]]:
    ws: Workspace = collector_workspace(Path(tmp_path_factory.mktemp("fuzz")) / "ws")
    key = new_source(ws)
    return Collector(ws), auth(key)  # prepare() only: nothing is written


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    endpoint=st.sampled_from(["batch", "track", "identify", "page", "screen", "group", "alias"]),
    events=st.lists(EVENTS | JSON, max_size=6),
)
def test_any_events_get_a_clear_answer(
    door: tuple[Collector, dict[str, str]], endpoint: str, events: list[object]
) -> None:
    collector, headers = door
    doc = {"batch": events} if endpoint == "batch" else (events[0] if events else {})
    pending = collector.prepare(endpoint, json.dumps(doc).encode(), headers)
    body = pending.answer.body
    assert pending.answer.status in (200, 400, 413), body
    json.loads(pending.answer.content)
    if "received" in body:
        assert body["received"] == body["accepted"] + body["duplicates"] + len(body["failed"])
    if pending.line is not None:
        json.loads(pending.line)  # the spool line is valid JSON


@settings(max_examples=200, deadline=None)
@given(body=st.binary(max_size=200) | JSON.map(lambda v: json.dumps(v).encode()))
def test_any_bytes_get_a_clear_answer(door: tuple[Collector, dict[str, str]], body: bytes) -> None:
    collector, headers = door
    for endpoint in ("batch", "track"):
        answer = collector.prepare(endpoint, body, headers).answer
        assert answer.status < 500, answer.body
