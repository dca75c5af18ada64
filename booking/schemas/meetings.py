"""API shapes of team meetings: attendees, invitations and answers."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

import msgspec

from service.kernel.dates import DatedInput


class NewAttendee(msgspec.Struct, forbid_unknown_fields=True):
    """A colleague by `user_id` or by `email`; an outside guest by `email` and `name`."""

    user_id: uuid.UUID | None = None
    email: Annotated[str, msgspec.Meta(max_length=320)] | None = None
    name: Annotated[str, msgspec.Meta(max_length=200)] | None = None


class AttendeeOut(msgspec.Struct):
    id: uuid.UUID
    booking_id: uuid.UUID
    kind: str  # colleague | guest
    person_id: uuid.UUID | None
    email: str
    display_name: str
    role: str  # organiser | attendee
    partstat: str  # needs_action | accepted | declined
    invited_at: datetime
    answered_at: datetime | None
    removed_at: datetime | None


class ColleagueOut(msgspec.Struct):
    id: uuid.UUID
    display_name: str
    email: str


class Answer(msgspec.Struct, forbid_unknown_fields=True):
    partstat: Literal["accepted", "declined"]


class MoveMeeting(DatedInput, forbid_unknown_fields=True):
    """A new local `start` and `end` (the venue's time), and another room if `workspace_id`."""

    start: datetime
    end: datetime
    workspace_id: uuid.UUID | None = None
