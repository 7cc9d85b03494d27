"""The ``dingtalk`` channel: a DingTalk (钉钉) custom robot.

The robot's webhook URL (``https://oapi.dingtalk.com/robot/send?access_token=…``)
takes ``{"msgtype": "markdown", "markdown": {"title": …, "text": …}}``. With the
"加签" security setting the request carries ``&timestamp=<ms>&sign=<sign>``, where
sign = urlencode(base64(HMAC-SHA256(key=secret, msg=f"{timestamp}\\n{secret}")))
and the timestamp (milliseconds) must be within an hour of DingTalk's clock. It answers
``{"errcode": 0, "errmsg": "ok"}``; errcode 130101 (too many messages) is retried later.
The access token and the signing secret are both secrets, stored encrypted as
``<access_token>`` or ``<access_token> <SEC…>``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import urllib.parse
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from storeops.notify.base import (
    DeliveryContext,
    DeliveryError,
    attachment_note,
    post_json,
    robot_answer,
    utf8_truncate,
)
from storeops.notify.message import Notification

RATE_LIMITED = frozenset({130101})
#: DingTalk keeps markdown messages short; 5000 bytes is well inside what it takes.
TEXT_LIMIT_BYTES = 5000
DEFAULT_URL = "https://oapi.dingtalk.com/robot/send"
_LEVEL_MARK = {"red": "🔴", "yellow": "🟡", "blue": "🔵", "info": "ℹ️"}


class DingtalkConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    #: The robot's URL without ``?access_token=`` (the token is part of the secret).
    url: str = Field(default=DEFAULT_URL, pattern=r"^https?://")


def sign(secret: str, timestamp_ms: str) -> str:
    """The ``sign`` query value, URL-encoded, as DingTalk documents it."""
    string_to_sign = f"{timestamp_ms}\n{secret}".encode()
    digest = hmac.new(secret.encode("utf-8"), string_to_sign, hashlib.sha256).digest()
    return urllib.parse.quote_plus(base64.b64encode(digest))


def payload(n: Notification) -> dict[str, Any]:
    title = f"{_LEVEL_MARK[n.level]} {n.subject}"
    text = utf8_truncate(f"### {title}\n\n{n.text}{attachment_note(n)}", TEXT_LIMIT_BYTES)
    return {"msgtype": "markdown", "markdown": {"title": title, "text": text}}


def signed_url(base: str, access_token: str, signing_secret: str | None, now: float) -> str:
    sep = "&" if "?" in base else "?"
    url = f"{base}{sep}access_token={urllib.parse.quote(access_token)}"
    if signing_secret:
        timestamp = str(int(now * 1000))
        url += f"&timestamp={timestamp}&sign={sign(signing_secret, timestamp)}"
    return url


def deliver(ctx: DeliveryContext) -> str:
    cfg = DingtalkConfig.model_validate(ctx.config)
    if not ctx.secret:
        raise DeliveryError("the DingTalk robot's access token is missing", retryable=False)
    token, _, signing = ctx.secret.partition(" ")
    url = signed_url(cfg.url, token, signing.strip() or None, ctx.now)
    body = json.dumps(payload(ctx.notification), ensure_ascii=False).encode()
    return robot_answer(post_json(url, body), RATE_LIMITED, "DingTalk robot")
