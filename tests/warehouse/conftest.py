"""Backend gaps, declared the way Ibis declares them.

``@pytest.mark.backend_gap("spark", reason=...)`` turns the test into a *strict*
expected failure on that backend only: if the backend starts passing, the suite
fails until the marker is removed, so the list of gaps stays true.
"""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "backend_gap(*backends, reason): strict xfail on the named warehouse backends",
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        marker = item.get_closest_marker("backend_gap")
        if marker is None:
            continue
        callspec = getattr(item, "callspec", None)
        backend = callspec.params.get("backend") if callspec is not None else None
        if backend in marker.args:
            reason = marker.kwargs.get("reason", f"known gap of the {backend} backend")
            item.add_marker(pytest.mark.xfail(strict=True, reason=reason))
