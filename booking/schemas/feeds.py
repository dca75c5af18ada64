"""API shapes of calendar feeds (the secret URL appears only in the creation answer)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

import msgspec


class CalendarFeedOut(msgspec.Struct):
    id: uuid.UUID
    kind: Literal["agent", "venue"]
    agent_id: uuid.UUID | None
    venue_id: uuid.UUID | None
    created_by: uuid.UUID
    created_at: datetime
    revoked_at: datetime | None
    # False once revoked, or once its creator left the venue or was deactivated.
    active: bool


class NewCalendarFeedOut(CalendarFeedOut):
    """The feed just created, with its secret subscription URL: shown once, never stored."""

    url: str
