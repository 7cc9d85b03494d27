"""``storeops channels add|list|remove|test|deliver|deliveries``: notification channels
and the delivery queue."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from storeops.cli.common import (
    JsonOption,
    WorkspaceOption,
    console,
    handle_errors,
    print_json,
    workspace_from,
)
from storeops.notify import (
    CHANNEL_KINDS,
    Notification,
    NotifyError,
    add_channel,
    deliver,
    list_channels,
    list_deliveries,
    remove_channel,
    send,
    workspace_cipher,
)

channels_app = typer.Typer(
    help="Notification channels (outbox, webhook, WeCom, DingTalk, SMTP) and deliveries.",
    no_args_is_help=True,
)


@channels_app.command("add")
@handle_errors
def add_command(
    name: Annotated[str, typer.Argument(help="Channel name, e.g. 'ops-robot'.")],
    kind: Annotated[str, typer.Option(help=f"One of: {', '.join(CHANNEL_KINDS)}.")] = "outbox",
    url: Annotated[
        str | None, typer.Option(help="webhook: receiver URL; wecom/dingtalk: robot URL.")
    ] = None,
    secret: Annotated[
        str | None,
        typer.Option(
            envvar="STOREOPS_CHANNEL_SECRET",
            help="webhook: signing key; wecom: robot key; dingtalk: 'TOKEN' or 'TOKEN SEC…'; "
            "smtp: password. Stored encrypted.",
        ),
    ] = None,
    folder: Annotated[str | None, typer.Option(help="outbox: folder (default outbox).")] = None,
    msgtype: Annotated[str | None, typer.Option(help="wecom: markdown or text.")] = None,
    host: Annotated[str | None, typer.Option(help="smtp: server host.")] = None,
    port: Annotated[int | None, typer.Option(help="smtp: port (default 587).")] = None,
    sender: Annotated[str | None, typer.Option(help="smtp: From address.")] = None,
    to: Annotated[list[str] | None, typer.Option(help="smtp: recipient (repeat).")] = None,
    username: Annotated[str | None, typer.Option(help="smtp: login user.")] = None,
    security: Annotated[
        str | None, typer.Option(help="smtp: starttls (default), tls or none.")
    ] = None,
    workspace: WorkspaceOption = None,
    json_output: JsonOption = False,
) -> None:
    """Add a channel; its settings are checked now, its secret is stored encrypted."""
    options = {
        "url": url, "folder": folder, "msgtype": msgtype, "host": host, "port": port,
        "sender": sender, "recipients": to or None, "username": username,
        "security": security,
    }  # fmt: skip
    config = {k: v for k, v in options.items() if v is not None}
    ws = workspace_from(workspace)
    cipher = workspace_cipher(ws) if secret else None
    channel = add_channel(ws.ops_engine(), name, kind, config, secret=secret, cipher=cipher)
    if json_output:
        print_json(channel.to_dict())
        return
    console.print(f"channel [bold]{name}[/] ({kind}) added")


@channels_app.command("list")
@handle_errors
def list_command(workspace: WorkspaceOption = None, json_output: JsonOption = False) -> None:
    """Every channel (secrets are never shown)."""
    channels = list_channels(workspace_from(workspace).ops_engine())
    if json_output:
        print_json([c.to_dict() for c in channels])
        return
    table = Table(title="Notification channels", title_justify="left")
    for column in ("name", "kind", "settings", "secret"):
        table.add_column(column)
    for c in channels:
        settings = ", ".join(f"{k}={v}" for k, v in c.config.items())
        table.add_row(c.name, c.kind, settings, "yes" if c.has_secret else "—")
    console.print(table)


@channels_app.command("remove")
@handle_errors
def remove_command(
    name: Annotated[str, typer.Argument(help="Channel to remove.")],
    workspace: WorkspaceOption = None,
) -> None:
    """Remove a channel and its queued deliveries."""
    remove_channel(workspace_from(workspace).ops_engine(), name)
    console.print(f"channel [bold]{name}[/] removed")


@channels_app.command("test")
@handle_errors
def test_command(
    name: Annotated[str, typer.Argument(help="Channel to send a test message to.")],
    workspace: WorkspaceOption = None,
    json_output: JsonOption = False,
) -> None:
    """Send a test notification through a channel now (retried later if it fails)."""
    ws = workspace_from(workspace)
    note = Notification(
        subject="storeops test notification / 测试消息",
        text="If you can read this, the channel works. 收到此消息说明通道可用。",
        level="info",
    )
    run = send(ws, name, note)
    if json_output:
        print_json(run.to_dict())
        return
    for a in run.attempts:
        colour = "green" if a.status == "sent" else "red"
        console.print(f"[{colour}]{a.status}[/] {a.channel}: {a.detail}", highlight=False)
    if run.failed or run.retrying:
        raise NotifyError(f"the test message was not delivered through {name!r}")


@channels_app.command("deliver")
@handle_errors
def deliver_command(workspace: WorkspaceOption = None, json_output: JsonOption = False) -> None:
    """Attempt every due delivery once (the server runs this on a schedule)."""
    run = deliver(workspace_from(workspace))
    if json_output:
        print_json(run.to_dict())
        return
    console.print(
        f"attempted {run.attempted}: {run.sent} sent, {run.retrying} to retry, {run.failed} failed"
    )


@channels_app.command("deliveries")
@handle_errors
def deliveries_command(
    status: Annotated[str | None, typer.Option(help="pending, sending, sent or failed.")] = None,
    channel: Annotated[str | None, typer.Option(help="Only this channel.")] = None,
    limit: Annotated[int, typer.Option(help="At most this many, newest first.")] = 50,
    workspace: WorkspaceOption = None,
    json_output: JsonOption = False,
) -> None:
    """The delivery queue: what was sent, what waits for a retry, what failed and why."""
    rows = list_deliveries(
        workspace_from(workspace).ops_engine(), status=status, channel=channel, limit=limit
    )
    if json_output:
        print_json([d.to_dict() for d in rows])
        return
    table = Table(title="Deliveries", title_justify="left")
    for column in ("id", "channel", "status", "tries", "subject", "last error"):
        table.add_column(column)
    for d in rows:
        table.add_row(str(d.delivery_id), d.channel, d.status, str(d.attempts), d.subject,
                      (d.last_error or "")[:80])  # fmt: skip
    console.print(table)


def register(app: typer.Typer) -> None:
    app.add_typer(channels_app, name="channels")
