"""API shapes of recurring bookings."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Literal

import msgspec

from service.kernel.dates import DatedInput

ClockTime = Annotated[str, msgspec.Meta(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")]


class NewSeries(DatedInput, forbid_unknown_fields=True):
    workspace_id: uuid.UUID
    rrule: Annotated[
        str,
        msgspec.Meta(min_length=5, max_length=500, examples=["FREQ=WEEKLY;BYDAY=TU,TH;COUNT=16"]),
    ]
    dtstart: date
    agent_id: uuid.UUID | None = None
    slot: Literal["morning", "afternoon", "day"] | None = None
    start_time: ClockTime | None = None
    end_time: ClockTime | None = None
    atomic: bool = False


class OccurrenceOut(msgspec.Struct):
    date: date
    status: str
    booking_id: uuid.UUID | None
    problem: str | None
    detail: str | None


class SeriesOut(msgspec.Struct):
    id: uuid.UUID
    occurrences: list[OccurrenceOut]


class CancelSeries(DatedInput, forbid_unknown_fields=True):
    from_date: Annotated[date, msgspec.Meta(title="from")] = msgspec.field(name="from")


class SeriesBooking(msgspec.Struct):
    id: uuid.UUID
    local_date: date
    status: str


class SeriesDetail(msgspec.Struct):
    id: uuid.UUID
    agent_id: uuid.UUID
    workspace_id: uuid.UUID
    rrule: str
    slot: str | None
    cancelled_from: date | None
    bookings: list[SeriesBooking]
