"""The outbox as people read it: every message for the network admin, one's own for an agent."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import msgspec
from litestar import Controller, get

from booking.tables import Outbox, User
from service.kernel.auth import CurrentPrincipal, allow
from service.kernel.identity import Role
from service.kernel.pagination import Limit, Offset, Page


class MessageOut(msgspec.Struct):
    id: uuid.UUID
    kind: str
    recipient: str
    subject: str
    body: str
    calendar_method: str | None
    created_at: datetime
    sent_at: datetime | None
    attempts: int
    last_error: str | None


async def _page(where: Any, limit: int, offset: int) -> Page[MessageOut]:
    query = Outbox.select(
        Outbox.id,
        Outbox.kind,
        Outbox.recipient,
        Outbox.subject,
        Outbox.body,
        Outbox.calendar_method,
        Outbox.created_at,
        Outbox.sent_at,
        Outbox.attempts,
        Outbox.last_error,
    )
    count = Outbox.count()
    if where is not None:
        query, count = query.where(where), count.where(where)
    rows = await query.order_by(Outbox.created_at, ascending=False).limit(limit).offset(offset)
    return Page([msgspec.convert(r, MessageOut) for r in rows], await count, limit, offset)


class OutboxController(Controller):
    path = "/outbox"
    tags = ["operations"]

    @get(
        "",
        opt=allow(Role.NETWORK_ADMIN),
        summary="Every message, newest first, with delivery state",
    )
    async def list_messages(self, limit: Limit = 50, offset: Offset = 0) -> Page[MessageOut]:
        return await _page(None, limit, offset)


class MyMessagesController(Controller):
    path = "/me/messages"
    tags = ["bookings"]

    @get("", opt=allow(Role.AGENT), summary="The messages sent to me (confirmations, reminders)")
    async def mine(
        self, principal: CurrentPrincipal, limit: Limit = 50, offset: Offset = 0
    ) -> Page[MessageOut]:
        user = await User.select(User.email).where(User.id == principal.user_id).first()
        assert user is not None
        return await _page(Outbox.recipient == user["email"], limit, offset)
