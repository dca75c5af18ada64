"""Messages: the outbox as people read it, every message for the network, one's own for an agent."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from booking.tables import Outbox, User
from service.kernel.errors import NotFound
from service.kernel.i18n import N_


@dataclass(frozen=True)
class Message:
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


async def _page(where: Any, limit: int, offset: int) -> tuple[list[Message], int]:
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
    return [Message(**r) for r in rows], await count


async def every_message(limit: int, offset: int) -> tuple[list[Message], int]:
    """Every message, newest first, with its delivery state."""
    return await _page(None, limit, offset)


async def messages_to(user_id: uuid.UUID, limit: int, offset: int) -> tuple[list[Message], int]:
    """The messages sent to this user's email address, newest first."""
    user = await User.select(User.email).where(User.id == user_id).first()
    if user is None:
        raise NotFound(N_("No such user."))
    return await _page(Outbox.recipient == user["email"], limit, offset)
