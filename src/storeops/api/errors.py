"""The error answers of the API, documented once for every route.

Every error body is ``{"detail": ...}``: a message (401, 403, 404, 409, 429, 503), a
business rule's ``{"code", "message"}`` or FastAPI's list of field errors (422).
Routers pass :data:`ERROR_RESPONSES` so the OpenAPI schema says so, and clients (and
the schema-driven fuzz tests) can rely on it.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


class RuleViolation(BaseModel):
    code: str
    message: str


class ErrorBody(BaseModel):
    detail: str | RuleViolation | list[dict[str, Any]]


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": text}
    for status, text in (
        (401, "No valid API key"),
        (403, "The key's role may not do this"),
        (404, "Not found (or another store's object)"),
        (409, "In flight, or already done under another key"),
        (422, "Invalid request: field errors or a business rule refused it"),
        (429, "Too many attempts; see Retry-After"),
        (503, "Not configured on this workspace"),
    )
}
