"""The outbox channel (files), SMTP e-mail against a local aiosmtpd server, channel
administration (settings checked, secrets sealed) and ``send`` on a workspace."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from datetime import datetime
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import Engine
from typer.testing import CliRunner

from storeops.cli.main import app
from storeops.notify import (
    Notification,
    NotifyError,
    add_channel,
    deliver_pending,
    enqueue,
    ensure_outbox_channel,
    list_channels,
    remove_channel,
    send,
)
from storeops.privacy.crypto import FieldCipher, generate_keyring
from storeops.workspace import init_workspace, open_workspace

T0 = datetime(2026, 11, 1, 8, 0, 0)


def test_outbox_writes_one_json_file_per_notification(ops_engine: Engine, root: Path) -> None:
    ensure_outbox_channel(ops_engine)
    ensure_outbox_channel(ops_engine)  # idempotent
    for key in ("a", "b", "a"):
        enqueue(ops_engine, "outbox", Notification(subject=f"预警 {key}", dedup_key=key), now=T0)
    run = deliver_pending(ops_engine, root, now=T0)
    files = sorted((root / "outbox").glob("*.json"))
    assert run.sent == 2 and len(files) == 2
    first = json.loads(files[0].read_text(encoding="utf-8"))
    assert first["channel"] == "outbox" and first["subject"] in {"预警 a", "预警 b"}
    assert not list((root / "outbox").glob("*.tmp"))


class _Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 OK"


@pytest.fixture
def smtp_server() -> Iterator[tuple[_Inbox, int]]:
    inbox = _Inbox()
    with socket.socket() as probe:  # a free port (the controller checks it by connecting)
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


def test_smtp_sends_the_mail_with_its_attachment(
    ops_engine: Engine, root: Path, smtp_server: tuple[_Inbox, int]
) -> None:
    inbox, port = smtp_server
    report = root / "weekly.pdf"
    report.write_bytes(b"%PDF-1.7 fake")
    add_channel(
        ops_engine,
        "mail",
        "smtp",
        {
            "host": "127.0.0.1",
            "port": port,
            "security": "none",
            "sender": "ops@example.com",
            "recipients": ["manager@example.com", "owner@example.com"],
        },
    )
    note = Notification(
        subject="黄色预警:S001 成交转化率", text="转化率 0.8%", level="yellow", attachments=[report]
    )
    enqueue(ops_engine, "mail", note, now=T0)
    run = deliver_pending(ops_engine, root, now=T0)
    assert run.sent == 1, run
    [(sender, recipients, raw)] = inbox.messages
    assert sender == "ops@example.com"
    assert recipients == ["manager@example.com", "owner@example.com"]
    mail = message_from_bytes(raw, policy=policy.default)
    assert mail["Subject"] == "[黄色预警 YELLOW] 黄色预警:S001 成交转化率"
    body = mail.get_body(("plain",))
    assert body is not None and "转化率 0.8%" in body.get_content()
    [attachment] = list(mail.iter_attachments())
    assert attachment.get_filename() == "weekly.pdf"
    assert attachment.get_content() == b"%PDF-1.7 fake"


def test_smtp_server_down_is_retried(ops_engine: Engine, root: Path) -> None:
    add_channel(
        ops_engine,
        "mail",
        "smtp",
        {
            "host": "127.0.0.1",
            "port": 9,
            "security": "none",
            "sender": "a@b.c",
            "recipients": ["d@e.f"],
        },
    )
    enqueue(ops_engine, "mail", Notification(subject="x"), now=T0)
    assert deliver_pending(ops_engine, root, now=T0).retrying == 1


def test_channel_settings_and_secrets_are_checked(ops_engine: Engine, cipher: FieldCipher) -> None:
    with pytest.raises(NotifyError, match="unknown channel kind 'fax'"):
        add_channel(ops_engine, "x", "fax")
    with pytest.raises(NotifyError, match="url"):
        add_channel(ops_engine, "x", "webhook", {"url": "ftp://nope"})
    with pytest.raises(NotifyError, match="recipients"):
        add_channel(ops_engine, "x", "smtp", {"host": "h", "sender": "a@b.c"})
    with pytest.raises(NotifyError, match="STOREOPS_ENCRYPTION_KEY"):
        add_channel(ops_engine, "x", "webhook", {"url": "http://h"}, secret="s")
    with pytest.raises(NotifyError, match="channel name"):
        add_channel(ops_engine, "bad name!", "outbox")
    add_channel(ops_engine, "x", "webhook", {"url": "http://h"}, secret="s", cipher=cipher)
    with pytest.raises(NotifyError, match="exists"):
        add_channel(ops_engine, "x", "outbox")
    [channel] = list_channels(ops_engine)
    assert channel.has_secret and "s" not in json.dumps(channel.config)
    remove_channel(ops_engine, "x")
    with pytest.raises(NotifyError, match="no channel named 'x'"):
        remove_channel(ops_engine, "x")


def test_a_secret_without_its_key_is_a_clear_error(ops_engine: Engine, root: Path) -> None:
    add_channel(
        ops_engine,
        "hook",
        "webhook",
        {"url": "http://127.0.0.1:9"},
        secret="s",
        cipher=FieldCipher(generate_keyring()),
    )
    enqueue(ops_engine, "hook", Notification(subject="x"), now=T0)
    run = deliver_pending(ops_engine, root, now=T0)  # no cipher at hand
    assert run.failed == 1 and "STOREOPS_ENCRYPTION_KEY" in run.attempts[0].detail


def test_cli_channels_and_send_on_a_workspace(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STOREOPS_ENCRYPTION_KEY", generate_keyring())
    ws_root = init_workspace(tmp_path / "ws").root
    runner = CliRunner()
    w = ["-w", str(ws_root)]
    assert runner.invoke(app, ["channels", "add", "outbox", *w]).exit_code == 0
    added = runner.invoke(
        app,
        [
            "channels",
            "add",
            "hook",
            "--kind",
            "webhook",
            "--url",
            "http://127.0.0.1:9/x",
            "--secret",
            "s3cret",
            *w,
            "--json",
        ],
    )
    assert added.exit_code == 0, added.output
    assert json.loads(added.output)["has_secret"] is True
    listed = runner.invoke(app, ["channels", "list", "--json", *w])
    assert [c["name"] for c in json.loads(listed.output)] == ["hook", "outbox"]
    assert "s3cret" not in listed.output
    ok = runner.invoke(app, ["channels", "test", "outbox", *w])
    assert ok.exit_code == 0 and "sent" in ok.output
    bad = runner.invoke(app, ["channels", "test", "hook", *w])
    assert bad.exit_code == 2 and "not delivered" in bad.output
    queue = runner.invoke(app, ["channels", "deliveries", "--json", *w])
    assert {d["status"] for d in json.loads(queue.output)} == {"sent", "pending"}
    # send() on the workspace: dedup by key across calls.
    ws = open_workspace(ws_root)
    first = send(ws, "outbox", Notification(subject="once", dedup_key="k1"))
    again = send(ws, "outbox", Notification(subject="once", dedup_key="k1"))
    assert first.sent == 1 and again.attempted == 0
    assert len(list((ws_root / "outbox").glob("*.json"))) == 2
    missing = runner.invoke(app, ["channels", "add", "x", "--kind", "fax", *w])
    assert missing.exit_code == 2 and "unknown channel kind" in missing.output
