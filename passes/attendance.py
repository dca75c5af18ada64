"""Meeting attendees at the door: a colleague's or a guest's presence at a team meeting.

An attendee admitted to a meeting takes no desk and no allowance: the room is the
organiser's booking, billed once. Their presence is a visit like any other for the
statistics and the venue's transparency page, tied to their attendee row (`visit.attendee`),
priced 0 and never billed (the monthly close leaves attendee visits out, billing/usage.py).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from booking.services.meetings import DOOR_MARGIN, LIVE_BOOKING
from passes.tables import Visit


@dataclass(frozen=True)
class Attendance:
    attendee_id: uuid.UUID
    agent_id: uuid.UUID | None
    organisation_id: uuid.UUID
    venue_id: uuid.UUID
    workspace_id: uuid.UUID
    booking_id: uuid.UUID
    local_date: date
    quantity: int
    room: str
    host: str | None


async def colleague_meeting(
    agent_id: uuid.UUID, organisation_id: uuid.UUID, venue_id: uuid.UUID, at: datetime
) -> Attendance | None:
    """The meeting at this venue the colleague is invited to around `at` (door margin), if any."""
    rows = await Visit.raw(
        """
        SELECT a.id, b.id AS booking_id, b.workspace, b.local_date, b.quantity, w.name AS room,
               (SELECT o.display_name FROM meeting_attendee o WHERE o.booking = b.id
                   AND o.role = 'organiser' AND o.removed_at IS NULL) AS host
          FROM meeting_attendee a JOIN booking b ON b.id = a.booking
          JOIN workspace w ON w.id = b.workspace
         WHERE a.person = {} AND a.removed_at IS NULL AND b.venue = {}
           AND b.status = ANY({}::text[])
           AND b.starts_at - {}::interval <= {} AND {} <= b.ends_at + {}::interval
         ORDER BY b.starts_at LIMIT 1
        """,
        agent_id,
        venue_id,
        [*LIVE_BOOKING, "completed"],
        DOOR_MARGIN,
        at,
        at,
        DOOR_MARGIN,
    )
    if not rows:
        return None
    row = rows[0]
    return Attendance(
        attendee_id=row["id"],
        agent_id=agent_id,
        organisation_id=organisation_id,
        venue_id=venue_id,
        workspace_id=row["workspace"],
        booking_id=row["booking_id"],
        local_date=row["local_date"],
        quantity=row["quantity"],
        room=row["room"],
        host=row["host"],
    )


def guest_meeting(situation: dict[str, Any]) -> Attendance:
    """A guest's meeting, from the scan's situation (passes.scans)."""
    return Attendance(
        attendee_id=situation["guest_id"],
        agent_id=None,
        organisation_id=situation["guest_organisation"],
        venue_id=situation["guest_venue"],
        workspace_id=situation["guest_workspace"],
        booking_id=situation["guest_booking"],
        local_date=situation["local_date"],
        quantity=situation["guest_quantity"],
        room=situation["guest_room"],
        host=situation["guest_host"],
    )


async def record(attendance: Attendance, venue_id: uuid.UUID, at: datetime) -> uuid.UUID:
    """The attendee's visit (one per attendee; a colleague's day visit if they have one)."""
    rows = await Visit.raw(
        """
        INSERT INTO visit (id, agent, organisation, venue, workspace, booking, local_date, unit,
                           quantity, walk_in, checked_in_at, checked_out_at, venue_rate_cents,
                           venue_vat_rate, organisation_rate_cents, organisation_vat_rate,
                           billable, attendee, created_at)
        VALUES ({}, {}, {}, {}, {}, NULL, {}, 'hour', {}, false, {}, NULL, 0, 0, 0, 0, false, {},
                now())
        ON CONFLICT DO NOTHING
        RETURNING id
        """,
        uuid.uuid4(),
        attendance.agent_id,
        attendance.organisation_id,
        venue_id,
        attendance.workspace_id,
        attendance.local_date,
        attendance.quantity,
        at,
        attendance.attendee_id,
    )
    if rows:
        return uuid.UUID(str(rows[0]["id"]))
    # A concurrent scan recorded it first (or the colleague already has their day's visit).
    existing = await Visit.raw(
        "SELECT id FROM visit WHERE attendee = {} OR (agent = {} AND venue = {} "
        "AND local_date = {}) ORDER BY attendee IS NULL LIMIT 1",
        attendance.attendee_id,
        attendance.agent_id,
        venue_id,
        attendance.local_date,
    )
    return uuid.UUID(str(existing[0]["id"]))


async def unbilled_in_month(venue_id: uuid.UUID, month: date) -> list[dict[str, Any]]:
    """Meeting attendees the venue received in a month, per day and room: visits not billed.

    For the venue's transparency: they count as visits (statistics) but the room was billed
    once, through its booking; nobody is named.
    """
    first = month.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return await Visit.raw(
        """
        SELECT v.local_date, w.name AS workspace, count(*) AS attendees,
               count(*) FILTER (WHERE v.agent IS NULL) AS guests
          FROM visit v JOIN workspace w ON w.id = v.workspace
         WHERE v.venue = {} AND v.attendee IS NOT NULL
           AND v.local_date >= {} AND v.local_date < {}
         GROUP BY v.local_date, w.name ORDER BY v.local_date, w.name
        """,
        venue_id,
        first,
        following,
    )
