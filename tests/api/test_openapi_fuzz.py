"""Property-based fuzzing of every API operation from the OpenAPI schema
(schemathesis): no input makes the API answer 5xx, and answers with a documented status
conform to their documented schema."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import response_schema_conformance

from storeops.access import create_key
from storeops.api.app import create_app
from storeops.loyalty.members import PiiKeys, enrol
from storeops.privacy.crypto import BlindIndex, FieldCipher, generate_key
from storeops.workspace import init_workspace, open_workspace


@pytest.fixture
def api(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, dict[str, str]]]:
    """The app's schema (from the ASGI app itself) and an owner key's headers."""
    key_ring, index_key = f"k1:{generate_key()}", generate_key()
    monkeypatch.setenv("STOREOPS_ENCRYPTION_KEY", key_ring)
    monkeypatch.setenv("STOREOPS_BLIND_INDEX_KEY", index_key)
    init_workspace(tmp_path / "ws")
    ws = open_workspace(tmp_path / "ws")
    engine = ws.ops_engine()
    keys = PiiKeys(FieldCipher(key_ring), BlindIndex(base64.b64decode(index_key)))
    enrol(engine, "M1", store_id="S1", phone="13912345678", keys=keys)
    auth = {"Authorization": f"Bearer {create_key(engine, 'fuzz', 'owner')['key']}"}
    app = create_app(ws, background_jobs=False)
    yield schemathesis.openapi.from_asgi("/openapi.json", app), auth


@pytest.mark.slow
def test_no_server_errors_and_documented_answers_conform(api: tuple[Any, dict[str, str]]) -> None:
    schema, auth = api
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 10
    tried: dict[str, int] = {}
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck),
                  database=None)  # fmt: skip
        def check(case: Any) -> None:
            label = f"{case.method.upper()} {case.path}"
            headers = dict(auth) if case.path.startswith("/api/") else {}
            response = case.call(headers=headers)
            tried[label] = tried.get(label, 0) + 1
            assert response.status_code < 500, (label, response.text[:500])
            case.validate_response(response, checks=[response_schema_conformance])

        check()
    assert set(tried) == {f"{o.method.upper()} {o.path}" for o in operations}
