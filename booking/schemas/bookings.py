"""API shapes of bookings."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Literal

import msgspec

from service.kernel.dates import DatedInput

Slot = Literal["morning", "afternoon", "day"]


class NewBooking(DatedInput, forbid_unknown_fields=True):
    """A desk by `date` + `slot`, or a room by local `start` + `end` (no offset: the venue's time)."""

    workspace_id: uuid.UUID
    agent_id: uuid.UUID | None = None
    date: date | None = None
    slot: Slot | None = None
    start: datetime | None = None
    end: datetime | None = None


class CancelBooking(msgspec.Struct, forbid_unknown_fields=True):
    reason: Annotated[str, msgspec.Meta(max_length=500)] | None = None


class BookingOut(msgspec.Struct):
    id: uuid.UUID
    status: str
    agent_id: uuid.UUID
    agent_name: str
    organisation_id: uuid.UUID
    organisation_name: str
    venue_id: uuid.UUID
    venue_name: str
    address: str
    workspace_id: uuid.UUID
    workspace_name: str
    workspace_kind: str
    local_date: date
    slot: str | None
    unit: str
    quantity: int
    starts_at: datetime  # in the venue's time zone (ISO 8601 with its offset)
    ends_at: datetime
    timezone: str
    allowance_units: int
    walk_in: bool
    series_id: uuid.UUID | None
    sequence: int
    created_at: datetime
    cancelled_at: datetime | None
    cancel_reason: str | None
    cancelled_by_venue: bool
    calendar_url: str
