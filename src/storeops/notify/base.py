"""What every channel adapter shares: the delivery context, errors and an HTTP post.

An adapter is a function ``deliver(ctx) -> str`` that sends one notification and
returns a short receipt (e.g. the HTTP status or the file written), or raises
:class:`DeliveryError`. ``retryable`` tells the queue whether trying again later can
help (a timeout, HTTP 5xx or 429, a robot's rate limit) or not (HTTP 4xx, a refused
payload): those fail at once instead of using up the attempts.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from storeops.errors import StoreOpsError
from storeops.notify.message import Notification

#: Seconds to wait for a receiving server (connect and read).
HTTP_TIMEOUT_SECONDS = 10.0
USER_AGENT = "storeops-notify/1"


class NotifyError(StoreOpsError, ValueError):
    """A channel or notification cannot be used as asked (bad settings, unknown name)."""


class DeliveryError(StoreOpsError, RuntimeError):
    """One attempt to deliver failed; ``retryable`` says whether to try again later."""

    def __init__(self, message: str, *, retryable: bool = True) -> None:
        super().__init__(message)
        self.retryable = retryable


@dataclass(frozen=True)
class DeliveryContext:
    """Everything an adapter needs for one attempt."""

    delivery_id: int
    channel: str
    config: dict[str, Any]
    secret: str | None
    notification: Notification
    workspace_root: Path
    #: Unix time of this attempt, in seconds (signatures use it).
    now: float


def post_json(url: str, body: bytes, headers: dict[str, str] | None = None) -> httpx.Response:
    """POST ``body`` (JSON bytes) and return the answer; network failures and HTTP 5xx
    / 429 are retryable :class:`DeliveryError`, other 4xx are not."""
    all_headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": USER_AGENT}
    all_headers.update(headers or {})
    try:
        response = httpx.post(url, content=body, headers=all_headers, timeout=HTTP_TIMEOUT_SECONDS)
    except httpx.HTTPError as exc:
        raise DeliveryError(f"cannot reach {_safe(url)}: {exc}") from exc
    if response.status_code == 429 or response.status_code >= 500:
        raise DeliveryError(f"{_safe(url)} answered HTTP {response.status_code}")
    if response.status_code >= 400:
        raise DeliveryError(
            f"{_safe(url)} refused the notification with HTTP {response.status_code}: "
            f"{response.text[:200]}",
            retryable=False,
        )
    return response


def robot_answer(response: httpx.Response, retry_codes: frozenset[int], what: str) -> str:
    """WeCom and DingTalk robots answer HTTP 200 with ``{"errcode": 0, "errmsg": "ok"}``;
    another errcode is a refusal (retryable only for rate limits)."""
    try:
        answer = response.json()
    except json.JSONDecodeError:
        raise DeliveryError(f"the {what} answered something that is not JSON") from None
    code = answer.get("errcode", 0) if isinstance(answer, dict) else 0
    if code != 0:
        raise DeliveryError(
            f"the {what} refused the message: errcode {code} {answer.get('errmsg', '')}",
            retryable=int(code) in retry_codes,
        )
    return f"HTTP {response.status_code} errcode 0"


def _safe(url: str) -> str:
    """A URL without its query string: robot URLs carry their key there."""
    return url.split("?", 1)[0]


def utf8_truncate(text: str, limit: int, marker: str = "\n…") -> str:
    """``text`` cut to at most ``limit`` UTF-8 bytes (on a character boundary), with a
    marker when something was cut."""
    raw = text.encode("utf-8")
    if len(raw) <= limit:
        return text
    room = limit - len(marker.encode("utf-8"))
    return raw[:room].decode("utf-8", errors="ignore") + marker


def attachment_note(n: Notification) -> str:
    """A line naming the attachments, for channels that cannot carry files."""
    if not n.attachments:
        return ""
    return "\n\n" + "📎 " + ", ".join(p.name for p in n.attachments)
