"""WeCom and DingTalk robots against local servers: the payloads have the documented
shapes and limits, DingTalk's signed query string verifies, and the robots' error
codes decide between retry and failure."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
import urllib.parse
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine
from tests.notify.servers import http_receiver

from storeops.notify import (
    Notification,
    add_channel,
    deliver_pending,
    dingtalk,
    enqueue,
    list_deliveries,
    wecom,
)
from storeops.privacy.crypto import FieldCipher

T0 = datetime(2026, 11, 1, 8, 0, 0)
LONG = "门店 S002 客流计数器自 11:00 起无读数,请检查设备。" * 200  # ~13,000 bytes


def test_wecom_markdown_has_the_documented_shape_and_size(
    ops_engine: Engine, cipher: FieldCipher, root: Path
) -> None:
    with http_receiver([(200, {"errcode": 0, "errmsg": "ok"})]) as server:
        add_channel(
            ops_engine,
            "wx",
            "wecom",
            {"url": server.url + "/cgi-bin/webhook/send"},
            secret="693a91f6-robot-key",
            cipher=cipher,
        )
        enqueue(ops_engine, "wx", Notification(subject="红色预警", text=LONG, level="red"), now=T0)
        run = deliver_pending(ops_engine, root, lambda: cipher, now=T0)
    assert run.sent == 1
    [got] = server.received
    assert got.path == "/cgi-bin/webhook/send?key=693a91f6-robot-key"
    assert got.headers["Content-Type"].startswith("application/json")
    body = got.json()
    assert set(body) == {"msgtype", "markdown"} and body["msgtype"] == "markdown"
    assert set(body["markdown"]) == {"content"}
    content = body["markdown"]["content"]
    assert len(content.encode("utf-8")) <= 4096  # WeCom: at most 4096 bytes, UTF-8
    assert content.startswith('### <font color="warning">红色预警</font>')
    assert content.endswith("…")  # cut, and says so
    got.body.decode("utf-8")  # valid UTF-8 after the cut


def test_wecom_text_messages_keep_to_2048_bytes() -> None:
    body = wecom.payload(Notification(subject="提醒", text=LONG), "text")
    assert body["msgtype"] == "text" and set(body["text"]) == {"content"}
    assert len(body["text"]["content"].encode()) <= 2048
    short = wecom.payload(Notification(subject="提醒", text="短消息", level="blue"))
    assert short["markdown"]["content"] == '### <font color="info">提醒</font>\n短消息'


def test_wecom_rate_limit_is_retried_and_other_errors_fail(
    ops_engine: Engine, cipher: FieldCipher, root: Path
) -> None:
    script = [
        (200, {"errcode": 45009, "errmsg": "api freq out of limit"}),
        (200, {"errcode": 0, "errmsg": "ok"}),
        (200, {"errcode": 93000, "errmsg": "invalid webhook url"}),
    ]
    with http_receiver(script) as server:
        add_channel(ops_engine, "wx", "wecom", {"url": server.url}, secret="k", cipher=cipher)
        enqueue(ops_engine, "wx", Notification(subject="a", dedup_key="a"), now=T0)
        first = deliver_pending(ops_engine, root, lambda: cipher, now=T0)
        second = deliver_pending(ops_engine, root, lambda: cipher, now=T0 + timedelta(hours=1))
        enqueue(ops_engine, "wx", Notification(subject="b", dedup_key="b"), now=T0)
        third = deliver_pending(ops_engine, root, lambda: cipher, now=T0 + timedelta(hours=1))
    assert first.retrying == 1 and "45009" in first.attempts[0].detail
    assert second.sent == 1
    assert third.failed == 1 and "93000" in third.attempts[0].detail


def test_dingtalk_markdown_and_signature(
    ops_engine: Engine, cipher: FieldCipher, root: Path
) -> None:
    signing = "SEC0123456789abcdef"
    with http_receiver([(200, {"errcode": 0, "errmsg": "ok"})]) as server:
        add_channel(
            ops_engine,
            "ding",
            "dingtalk",
            {"url": server.url + "/robot/send"},
            secret=f"tok-123 {signing}",
            cipher=cipher,
        )
        note = Notification(
            subject="黄色预警:S001 销售额", text="**实际值**: ¥5,054", level="yellow"
        )
        enqueue(ops_engine, "ding", note, now=T0)
        run = deliver_pending(ops_engine, root, lambda: cipher, now=T0)
    assert run.sent == 1
    [got] = server.received
    path, _, query = got.path.partition("?")
    assert path == "/robot/send"
    # The raw query: access_token, then &timestamp=…&sign=… as DingTalk documents.
    names = [part.split("=", 1)[0] for part in query.split("&")]
    assert names == ["access_token", "timestamp", "sign"]
    params = urllib.parse.parse_qs(query)
    assert params["access_token"] == ["tok-123"]
    timestamp = params["timestamp"][0]
    assert abs(int(timestamp) - time.time() * 1000) < 60_000  # milliseconds
    # The receiving side, independently: HMAC-SHA256 of "timestamp\nsecret", base64.
    digest = hmac.new(signing.encode(), f"{timestamp}\n{signing}".encode(), hashlib.sha256)
    assert params["sign"] == [base64.b64encode(digest.digest()).decode()]
    # … and URL-encoded in the query (base64's + / = are escaped).
    raw_sign = query.split("&sign=", 1)[1]
    assert raw_sign == urllib.parse.quote_plus(base64.b64encode(digest.digest()).decode())
    body = got.json()
    assert body["msgtype"] == "markdown" and set(body["markdown"]) == {"title", "text"}
    assert body["markdown"]["title"] == "🟡 黄色预警:S001 销售额"
    assert "**实际值**: ¥5,054" in body["markdown"]["text"]


def test_dingtalk_without_signing_secret_and_its_rate_limit(
    ops_engine: Engine, cipher: FieldCipher, root: Path
) -> None:
    script = [
        (200, {"errcode": 130101, "errmsg": "send too fast"}),
        (200, {"errcode": 310000, "errmsg": "sign not match"}),
    ]
    with http_receiver(script) as server:
        add_channel(
            ops_engine, "ding", "dingtalk", {"url": server.url}, secret="tok", cipher=cipher
        )
        enqueue(ops_engine, "ding", Notification(subject="x"), now=T0)
        first = deliver_pending(ops_engine, root, lambda: cipher, now=T0)
        second = deliver_pending(ops_engine, root, lambda: cipher, now=T0 + timedelta(hours=1))
    assert server.received[0].path == "/?access_token=tok"
    assert first.retrying == 1 and second.failed == 1
    assert "310000" in (list_deliveries(ops_engine)[0].last_error or "")


def test_dingtalk_sign_matches_the_documented_example_algorithm() -> None:
    # The documented Python recipe, step by step, for a fixed timestamp.
    secret, timestamp = "this is secret", "1700000000000"
    mac = hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), digestmod=hashlib.sha256)
    assert dingtalk.sign(secret, timestamp) == urllib.parse.quote_plus(
        base64.b64encode(mac.digest())
    )


def test_a_pasted_robot_url_keeps_its_credential_sealed(
    ops_engine: Engine, cipher: FieldCipher, root: Path
) -> None:
    from sqlalchemy import select

    from storeops.notify import NotifyError
    from storeops.opsdb.alert_tables import notify_channels

    with http_receiver([(200, {"errcode": 0, "errmsg": "ok"})]) as server:
        wx = add_channel(
            ops_engine,
            "wx",
            "wecom",
            {"url": server.url + "/cgi-bin/webhook/send?key=abc-123"},
            cipher=cipher,
        )
        ding = add_channel(
            ops_engine,
            "ding",
            "dingtalk",
            {"url": server.url + "/robot/send?access_token=tok-9"},
            secret="SECxyz",
            cipher=cipher,
        )
        assert wx.config["url"] == server.url + "/cgi-bin/webhook/send"
        assert ding.config["url"] == server.url + "/robot/send"
        for name in ("wx", "ding"):
            enqueue(ops_engine, name, Notification(subject="x"), now=T0)
        assert deliver_pending(ops_engine, root, lambda: cipher, now=T0).sent == 2
    paths = sorted(r.path for r in server.received)
    assert paths[0] == "/cgi-bin/webhook/send?key=abc-123"
    assert paths[1].startswith("/robot/send?access_token=tok-9&timestamp=")
    with ops_engine.connect() as con:
        query = select(notify_channels.c.config, notify_channels.c.secret_enc)
        stored = con.execute(query.order_by(notify_channels.c.channel_id)).all()
    assert not any("abc-123" in str(c) or "tok-9" in str(c) for c, _ in stored)
    assert cipher.decrypt(stored[1][1], purpose="notify.channel:ding") == "tok-9 SECxyz"
    with pytest.raises(NotifyError, match="differ"):
        add_channel(
            ops_engine, "wx2", "wecom", {"url": "https://h/send?key=a"}, secret="b", cipher=cipher
        )
