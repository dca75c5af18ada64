"""The outbox as people read it: every message for the network admin, one's own for an agent."""

from __future__ import annotations

import uuid
from datetime import datetime

import msgspec
from litestar import Controller, get

from booking.services import messages
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


def _page(found: tuple[list[messages.Message], int], limit: int, offset: int) -> Page[MessageOut]:
    rows, total = found
    return Page(
        [msgspec.convert(m, MessageOut, from_attributes=True) for m in rows], total, limit, offset
    )


class OutboxController(Controller):
    path = "/outbox"
    tags = ["operations"]

    @get(
        "",
        opt=allow(Role.NETWORK_ADMIN),
        summary="Every message, newest first, with delivery state",
    )
    async def list_messages(self, limit: Limit = 50, offset: Offset = 0) -> Page[MessageOut]:
        return _page(await messages.every_message(limit, offset), limit, offset)


class MyMessagesController(Controller):
    path = "/me/messages"
    tags = ["bookings"]

    @get("", opt=allow(Role.AGENT), summary="The messages sent to me (confirmations, reminders)")
    async def mine(
        self, principal: CurrentPrincipal, limit: Limit = 50, offset: Offset = 0
    ) -> Page[MessageOut]:
        assert principal.user_id is not None
        return _page(await messages.messages_to(principal.user_id, limit, offset), limit, offset)
