"""The collector over HTTP: clear 4xx answers for bad requests, and all of them counted."""

from __future__ import annotations

import asyncio
import gzip
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from tests.collector.helpers import auth, collector_workspace, new_source, track

from storeops.api import create_app
from storeops.collector import collector_stats, load_spool, revoke_source
from storeops.workspace import Workspace, init_workspace


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    return collector_workspace(tmp_path / "ws")


@pytest.fixture
def key(ws: Workspace) -> str:
    return new_source(ws)


@pytest.fixture
def client(ws: Workspace) -> Iterator[TestClient]:
    with TestClient(create_app(ws, background_jobs=False)) as test_client:
        yield test_client


def _stats(client: TestClient, ws: Workspace) -> dict[str, dict[str, int]]:
    client.app.state.collector.writer.rotate_and_wait()  # seal what was written
    load_spool(ws)
    return {row["source_id"]: row for row in collector_stats(ws)}


def test_batch_accepted_and_each_failure_named(client: TestClient, ws: Workspace, key: str) -> None:
    events = [track(1), track(2, ts="2025-13-45T99:00:00Z"), {"type": "track", "userId": "u"}]
    events.append(track(1))  # repeated in the same batch
    res = client.post("/v1/batch", json={"batch": events}, headers=auth(key))
    assert res.status_code == 200
    body = res.json()
    assert body["success"] is True
    assert (body["received"], body["accepted"], body["duplicates"]) == (4, 1, 1)
    assert [(f["index"], f["code"]) for f in body["failed"]] == [
        (1, "bad_timestamp"),
        (2, "missing_field"),
    ]
    assert "ISO 8601" in body["failed"][0]["reason"]


@pytest.mark.parametrize(
    ("stamp", "why"),
    [
        ("yesterday", "ISO 8601"),
        ("1970-01-01T00:00:00Z", "range"),
        ("2999-01-01T00:00:00Z", "range"),
        (1718700000, "string"),
    ],
)
def test_bad_timestamps_get_400(client: TestClient, key: str, stamp: object, why: str) -> None:
    call = {"event": "Order Completed", "userId": "u1", "timestamp": stamp}
    res = client.post("/v1/track", json=call, headers=auth(key))
    assert res.status_code == 400
    body = res.json()
    assert body["code"] == "bad_timestamp" and why in body["message"]


def test_malformed_json_is_400(client: TestClient, key: str) -> None:
    res = client.post("/v1/batch", content=b'{"batch": [', headers=auth(key))
    assert res.status_code == 400
    assert res.json()["code"] == "malformed_json"
    res = client.post("/v1/batch", json={"events": []}, headers=auth(key))
    assert res.status_code == 400 and res.json()["code"] == "bad_batch"


def test_oversize_requests_are_413(client: TestClient, key: str) -> None:
    big = {"batch": [track(i, note="x" * 2000) for i in range(300)]}  # ~650 KB
    res = client.post("/v1/batch", json=big, headers=auth(key))
    assert res.status_code == 413 and res.json()["code"] == "too_large"
    assert "500 KB" in res.json()["message"]
    one = track(1, note="x" * 40_000)
    res = client.post("/v1/track", json=one, headers=auth(key))
    assert res.status_code == 413 and "32 KB" in res.json()["message"]
    # One oversize event inside a batch fails alone.
    res = client.post("/v1/batch", json={"batch": [one, track(2)]}, headers=auth(key))
    assert res.status_code == 200
    assert res.json()["failed"][0]["code"] == "event_too_large"
    # A gzip bomb is cut off at the limit.
    bomb = gzip.compress(b'{"batch": [' + b" " * 2_000_000 + b"]}")
    res = client.post("/v1/batch", content=bomb, headers={**auth(key), "content-encoding": "gzip"})
    assert res.status_code == 413


def test_gzip_bodies(client: TestClient, key: str) -> None:
    body = gzip.compress(json.dumps({"batch": [track(1), track(2)]}).encode())
    res = client.post("/v1/batch", content=body, headers={**auth(key), "content-encoding": "gzip"})
    assert res.status_code == 200 and res.json()["accepted"] == 2
    res = client.post(
        "/v1/batch", content=b"not gzip", headers={**auth(key), "content-encoding": "gzip"}
    )
    assert res.status_code == 400 and res.json()["code"] == "bad_gzip"


def test_wrong_auth_is_401(client: TestClient, ws: Workspace, key: str) -> None:
    body = {"batch": [track(1)]}
    assert client.post("/v1/batch", json=body).status_code == 401
    assert client.post("/v1/batch", json=body, headers=auth("wk_nope")).status_code == 401
    res = client.post("/v1/batch", json=body, headers={"authorization": "Bearer x"})
    assert res.status_code == 401
    assert "storeops sources add" in res.json()["message"]
    # The key in the body, as some SDKs send it, is accepted.
    assert client.post("/v1/batch", json={**body, "writeKey": key}).status_code == 200
    revoke_source(ws, "app")
    client.app.state.collector.keys.refresh()  # the cache re-reads every 5 s
    assert client.post("/v1/track", json=track(3), headers=auth(key)).status_code == 401


def test_every_request_is_counted(client: TestClient, ws: Workspace, key: str) -> None:
    h = auth(key)
    client.post("/v1/batch", json={"batch": [track(1), track(2, ts="bad")]}, headers=h)  # 200
    client.post("/v1/batch", json={"batch": [track(1)]}, headers=h)  # duplicate
    client.post("/v1/batch", content=b"{", headers=h)  # malformed
    client.post("/v1/track", json=track(5, note="x" * 40_000), headers=h)  # 413
    client.post("/v1/track", json={"event": "E", "userId": "u", "timestamp": "x"}, headers=h)
    client.post("/v1/batch", json={"batch": [track(9)]})  # no key
    client.post(
        "/v1/identify", json={"userId": "u1", "traits": {"phone": "13900139000"}}, headers=h
    )
    stats = _stats(client, ws)
    app = stats["app"]
    assert app["requests"] == 6 and app["refused_requests"] == 3
    assert (app["received"], app["accepted"], app["duplicates"], app["failed"]) == (7, 2, 1, 4)
    assert app["received"] == app["accepted"] + app["duplicates"] + app["failed"]
    assert app["loaded"] == 2
    assert stats["(no valid key)"]["refused_requests"] == 1
    with ws.warehouse() as wh:
        failed = wh.to_pandas(wh.table("failed_events"))
    assert sorted(failed["code"]) == sorted(
        ["bad_timestamp", "malformed_json", "too_large", "bad_timestamp", "unauthorized"]
    )
    assert (failed.loc[failed["code"] == "unauthorized", "raw"] == "").all()


def test_single_endpoints_take_their_type(client: TestClient, key: str) -> None:
    h = auth(key)
    ok = {
        "track": {"event": "Coupon Applied", "userId": "u1"},
        "identify": {"userId": "u1", "traits": {"tier": "gold"}},
        "page": {"anonymousId": "a1", "name": "Home"},
        "screen": {"anonymousId": "a1", "name": "Cart"},
        "group": {"userId": "u1", "groupId": "g1"},
        "alias": {"userId": "u1", "previousId": "a1"},
    }
    for call, body in ok.items():
        res = client.post(f"/v1/{call}", json=body, headers=h)
        assert res.status_code == 200, (call, res.json())
    res = client.post("/v1/group", json={"userId": "u1"}, headers=h)
    assert res.status_code == 400 and res.json()["code"] == "missing_field"
    res = client.post("/v1/track", json={"type": "page", "userId": "u"}, headers=h)
    assert res.status_code == 400 and res.json()["code"] == "bad_type"


def test_without_blind_index_key_the_collector_answers_503(tmp_path: Path) -> None:
    ws = init_workspace(tmp_path / "plain")
    with TestClient(create_app(ws, background_jobs=False)) as client:
        assert client.get("/health").status_code == 200
        res = client.post("/v1/batch", json={"batch": []})
        assert res.status_code == 503
        assert "STOREOPS_BLIND_INDEX_KEY" in res.json()["detail"]


@pytest.mark.parametrize(
    "body",
    [
        b'{"batch": [{"type": "track", "userId": "u", "event": "E", "properties": {"x": NaN}}]}',
        b'{"batch": ' + b"[" * 5000 + b"]" * 5000 + b"}",
        b'{"batch": [{"type": "track", "userId": "u\\ud800", "event": "E", "messageId": '
        b'"\\udc00"}]}',
        b'{"batch": ['
        + b'{"type": "track", "userId": "u", "event": "E", "properties": '
        + b'{"a":' * 850
        + b"1"
        + b"}" * 850
        + b"}]}",
        b'{"batch": [{"type": {"x": 1}, "userId": "u"}, null, 3, "s", []]}',
        b'{"batch": [{"type": "track", "userId": "u", "event": "E", "properties": {"x": 1e400}}]}',
        b'{"batch": "all"}',
        b"[]",
        b"\xff\xfe",
        b"x" * 3_000_000,
    ],
)
def test_hostile_bodies_get_an_answer_below_500(client: TestClient, key: str, body: bytes) -> None:
    res = client.post("/v1/batch", content=body, headers=auth(key))
    assert res.status_code < 500, res.text
    assert "success" in res.json()


def test_the_scheduler_job_loads_the_spool(client: TestClient, ws: Workspace, key: str) -> None:
    from storeops.api.routes.collector import _load_once

    res = client.post("/v1/batch", json={"batch": [track(1), track(2)]}, headers=auth(key))
    assert res.status_code == 200
    collector = client.app.state.collector
    asyncio.run(_load_once(collector))  # seals the active segment, loads in a child process
    (row,) = collector_stats(ws)
    assert row["loaded"] == 2 and row["pending_events"] == 0
