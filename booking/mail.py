"""Sending an outbox message by SMTP, with its calendar invitation as a text/calendar part."""

from __future__ import annotations

import asyncio
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from service.kernel.text import one_line

SENDER = "Pass Tiers-Lieux <reservations@pass-tiers-lieux.invalid>"


@dataclass(frozen=True)
class SmtpServer:
    host: str
    port: int
    user: str | None
    password: str | None
    implicit_tls: bool
    starttls: bool
    sender: str

    @classmethod
    def from_url(cls, url: str) -> SmtpServer:
        """`smtp://user:pass@host:587?starttls=1&from=…` or `smtps://…` (implicit TLS)."""
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps"):
            raise ValueError("SMTP_URL starts with smtp:// or smtps://")
        query = parse_qs(parts.query)
        return cls(
            host=parts.hostname or "localhost",
            port=parts.port or (465 if parts.scheme == "smtps" else 25),
            user=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            implicit_tls=parts.scheme == "smtps",
            starttls=query.get("starttls", ["0"])[0] in ("1", "true", "yes"),
            sender=query.get("from", [SENDER])[0],
        )


def build(message: dict[str, Any], sender: str) -> EmailMessage:
    email = EmailMessage()
    email["From"] = sender
    email["To"] = message["recipient"]
    # A subject names people, rooms and venues: one typed with a line break (or stored before
    # names were one line) must neither inject a header nor, refused by the mail library,
    # fail the message at every attempt. Control characters become spaces.
    email["Subject"] = one_line(message["subject"])
    email["Date"] = formatdate(localtime=False)
    email["Message-ID"] = make_msgid(domain="pass-tiers-lieux.invalid")
    email.set_content(message["body"])
    if message.get("calendar"):
        method = message.get("calendar_method") or "REQUEST"
        email.add_attachment(
            message["calendar"].encode(),
            maintype="text",
            subtype="calendar",
            filename="invitation.ics",
            params={"method": method, "charset": "utf-8"},
        )
    return email


def _send(server: SmtpServer, email: EmailMessage) -> None:
    context = ssl.create_default_context()
    if server.implicit_tls:
        client: smtplib.SMTP = smtplib.SMTP_SSL(
            server.host, server.port, context=context, timeout=30
        )
    else:
        client = smtplib.SMTP(server.host, server.port, timeout=30)
    with client:
        if server.starttls:
            client.starttls(context=context)
        if server.user:
            client.login(server.user, server.password or "")
        client.send_message(email)


async def send(server: SmtpServer, message: dict[str, Any]) -> None:
    # smtplib is blocking: a thread keeps the worker's event loop free.
    await asyncio.to_thread(_send, server, build(message, server.sender))
