"""The ``wecom`` channel: a WeCom (企业微信) group robot.

The robot's webhook URL (``https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…``)
takes ``{"msgtype": "markdown", "markdown": {"content": …}}`` or ``{"msgtype": "text",
"text": {"content": …}}``, UTF-8. The documented limits are 4096 bytes of markdown
content and 2048 bytes of text content; longer messages are cut to fit with a marker.
It answers HTTP 200 with ``{"errcode": 0, "errmsg": "ok"}``; errcode 45009 is its rate
limit (20 messages a minute per robot), retried later. The URL's ``key`` is the
secret: it is stored encrypted, not in the plain settings.
"""

from __future__ import annotations

import json
from typing import Any, Literal

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

MARKDOWN_LIMIT_BYTES = 4096
TEXT_LIMIT_BYTES = 2048
RATE_LIMITED = frozenset({45009})
#: The three colours WeCom markdown knows, by alert level.
COLOURS = {"red": "warning", "yellow": "warning", "blue": "info", "info": "comment"}
DEFAULT_URL = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send"


class WecomConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    #: The robot's URL without ``?key=`` (the key is the channel secret).
    url: str = Field(default=DEFAULT_URL, pattern=r"^https?://")
    msgtype: Literal["markdown", "text"] = "markdown"


def payload(n: Notification, msgtype: str = "markdown") -> dict[str, Any]:
    """The robot's JSON body for ``n``, within the documented size limits."""
    body = n.text + attachment_note(n)
    if msgtype == "text":
        content = utf8_truncate(f"{n.subject}\n{body}".strip(), TEXT_LIMIT_BYTES)
        return {"msgtype": "text", "text": {"content": content}}
    head = f'### <font color="{COLOURS[n.level]}">{n.subject}</font>'
    content = utf8_truncate(f"{head}\n{body}".strip(), MARKDOWN_LIMIT_BYTES)
    return {"msgtype": "markdown", "markdown": {"content": content}}


def deliver(ctx: DeliveryContext) -> str:
    cfg = WecomConfig.model_validate(ctx.config)
    if not ctx.secret:
        raise DeliveryError("the WeCom robot's key is missing", retryable=False)
    sep = "&" if "?" in cfg.url else "?"
    url = f"{cfg.url}{sep}key={ctx.secret}"
    body = json.dumps(payload(ctx.notification, cfg.msgtype), ensure_ascii=False).encode()
    return robot_answer(post_json(url, body), RATE_LIMITED, "WeCom robot")
