"""The ``smtp`` channel: e-mail with the standard library (smtplib, email).

A plain-text body (the notification's markdown reads fine as text) with the
attachments; STARTTLS or implicit TLS as configured, login when a username is set
(the password is the channel secret). Temporary SMTP answers (4xx) and connection
failures are retried; permanent ones (5xx, e.g. a refused recipient) fail at once.
"""

from __future__ import annotations

import mimetypes
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from pydantic import BaseModel, ConfigDict, Field

from storeops.notify.base import HTTP_TIMEOUT_SECONDS, DeliveryContext, DeliveryError

_SUBJECT_MARK = {"red": "[红色预警 RED]", "yellow": "[黄色预警 YELLOW]", "blue": "[蓝色预警 BLUE]",
                 "info": ""}  # fmt: skip


class SmtpConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    host: str = Field(min_length=1)
    port: int = Field(default=587, ge=1, le=65535)
    sender: str = Field(min_length=3)
    recipients: list[str] = Field(min_length=1)
    username: str | None = None
    security: str = Field(default="starttls", pattern="^(starttls|tls|none)$")


def message(ctx: DeliveryContext, cfg: SmtpConfig) -> EmailMessage:
    n = ctx.notification
    msg = EmailMessage()
    msg["Subject"] = f"{_SUBJECT_MARK[n.level]} {n.subject}".strip()
    msg["From"] = cfg.sender
    msg["To"] = ", ".join(cfg.recipients)
    msg["Date"] = formatdate(ctx.now, localtime=False)
    msg["Message-ID"] = make_msgid(f"storeops.{ctx.delivery_id}")
    msg.set_content(n.text or n.subject)
    for path in n.attachments:
        ctype, _ = mimetypes.guess_type(path.name)
        maintype, subtype = (ctype or "application/octet-stream").split("/", 1)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise DeliveryError(f"cannot read attachment {path}: {exc}", retryable=False) from exc
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=path.name)
    return msg


def deliver(ctx: DeliveryContext) -> str:
    cfg = SmtpConfig.model_validate(ctx.config)
    msg = message(ctx, cfg)
    try:
        client: smtplib.SMTP
        if cfg.security == "tls":
            client = smtplib.SMTP_SSL(cfg.host, cfg.port, timeout=HTTP_TIMEOUT_SECONDS,
                                      context=ssl.create_default_context())  # fmt: skip
        else:
            client = smtplib.SMTP(cfg.host, cfg.port, timeout=HTTP_TIMEOUT_SECONDS)
        with client:
            if cfg.security == "starttls":
                client.starttls(context=ssl.create_default_context())
            if cfg.username:
                client.login(cfg.username, ctx.secret or "")
            refused = client.send_message(msg)
    except smtplib.SMTPResponseException as exc:
        raise DeliveryError(
            f"the mail server {cfg.host} answered {exc.smtp_code}: {exc.smtp_error!r}",
            retryable=400 <= exc.smtp_code < 500,
        ) from exc
    except smtplib.SMTPRecipientsRefused as exc:
        raise DeliveryError(
            f"every recipient was refused: {exc.recipients}", retryable=False
        ) from exc
    except (smtplib.SMTPException, OSError) as exc:
        raise DeliveryError(f"cannot send mail through {cfg.host}:{cfg.port}: {exc}") from exc
    if refused:
        return f"sent, refused for {', '.join(refused)}"
    return f"sent to {len(cfg.recipients)} recipient(s)"
